/* SPDX-License-Identifier: MIT */
/*
 * Proves that ThreadSanitizer still sees a real race across the deferred
 * vm_bo stack, and sees none when there is none.
 *
 * liburcu's lock-free stack is not instrumented, so TSan cannot see that a
 * push happens before the pop that returns the node; lib/defer.c tells it
 * with __tsan_release() before the push and __tsan_acquire() after the pop.
 * This program checks both halves of that claim with a driver payload in
 * the struct that embeds the vm_bo:
 *
 *   clean  the "run_job" thread writes the payload, then unlinks the last
 *          mapping with gpuva_unlink_defer() (the vm_bo is pushed); the
 *          cleanup thread pops it and reads the payload in vm_bo_free. The
 *          push/pop pair orders the two: TSan must stay silent. Without the
 *          annotations it would report a race here (false positive).
 *   race   the same, but the payload is written AFTER the push: a real bug
 *          (the cleanup may already be freeing the vm_bo). TSan must report
 *          it, with the suppressions of tests/tsan.supp in effect: no
 *          suppression and no annotation may hide it.
 *
 * The two threads are also ordered in real time by a relaxed atomic flag
 * that TSan deliberately does not count as synchronization, so the race
 * variant's write always happens before the read and the vm_bo is never
 * used after it is freed: the only thing that differs between the variants
 * is happens-before.
 *
 * Nothing else may order the threads: the VM has no reservation, the
 * object none either (so no extobj list and no lock the cleanup takes after
 * the pusher), and the main thread only creates and joins.
 */
#define _GNU_SOURCE
#include <gpuvm.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG 0x1000ull
#define ROUNDS_CLEAN 200

struct my_vm_bo {
	struct gpuvm_bo base;
	/* the driver's own state, e.g. a page-table handle */
	long payload;
};

GPUVM_CONTAINER(struct gpuvm_bo, struct my_vm_bo, base, to_my_vm_bo)

static bool inject_race;
static atomic_int pushed;  /* relaxed only: real-time order, no happens-before */
static long payload_seen;
static int failures;

static struct gpuvm_bo *my_vm_bo_alloc(struct gpuvm *vm)
{
	struct my_vm_bo *b = calloc(1, sizeof(*b));

	(void)vm;
	return b ? &b->base : NULL;
}

/* The cleanup thread's read. Not inlined, so that reports name it. */
__attribute__((noinline)) static long payload_read(struct my_vm_bo *b)
{
	return b->payload;
}

/* The pushing thread's write. */
__attribute__((noinline)) static void payload_write(struct my_vm_bo *b, long v)
{
	b->payload = v;
}

static void my_vm_bo_free(struct gpuvm_bo *vm_bo)
{
	struct my_vm_bo *b = to_my_vm_bo(vm_bo);

	payload_seen = payload_read(b);
	free(b);
}

static const struct gpuvm_ops ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_bo_alloc = my_vm_bo_alloc,
	.vm_bo_free = my_vm_bo_free,
};

struct round {
	struct gpuvm *vm;
	struct gpuva *va;
	struct my_vm_bo *vm_bo;
	long value;
};

static void *run_job(void *arg)
{
	struct round *r = arg;
	bool cookie;
	int ret;

	if (!inject_race)
		payload_write(r->vm_bo, r->value);
	cookie = gpuvm_signalling_begin();
	ret = gpuva_remove(r->va);
	if (!ret) {
		ret = gpuva_unlink_defer(r->va); /* the last reference: pushed */
		ret = ret < 0 ? ret : 0;
	}
	gpuvm_signalling_end(cookie);
	if (ret) {
		fprintf(stderr, "remove/unlink_defer: %s\n", gpuvm_err_name(ret));
		failures++;
	}
	/* The injected bug: the vm_bo belongs to the cleanup now. */
	if (inject_race)
		payload_write(r->vm_bo, r->value);
	atomic_store_explicit(&pushed, 1, memory_order_relaxed);
	return NULL;
}

static void *cleanup(void *arg)
{
	struct round *r = arg;
	int n;

	while (!atomic_load_explicit(&pushed, memory_order_relaxed))
		;
	n = gpuvm_bo_deferred_cleanup(r->vm);
	if (n != 1) {
		fprintf(stderr, "gpuvm_bo_deferred_cleanup returned %d, want 1\n", n);
		failures++;
	}
	return NULL;
}

static int one_round(long value)
{
	struct gpuvm vm;
	struct gpuvm_gem obj;
	struct gpuva va;
	struct gpuvm_bo *vm_bo = NULL;
	struct round r;
	pthread_t a, b;

	GPUVM_OPTS(gpuvm_init_opts, vopts, .name = "tsan", .flags = GPUVM_IMMEDIATE_MODE,
		   .start = 0, .range = 1ull << 32, .ops = &ops);
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = 16 * PG);
	if (gpuvm_init(&vm, &vopts) || gpuvm_gem_init(&obj, &gopts))
		return -1;
	if (gpuvm_bo_obtain(&vm, &obj, &vm_bo))
		return -1;
	gpuva_init(&va, 0x10000, 4 * PG, &obj, 0);
	if (gpuva_insert(&vm, &va))
		return -1;
	gpuvm_gem_gpuva_lock(&obj);
	if (gpuva_link(&va, vm_bo))
		return -1;
	gpuvm_gem_gpuva_unlock(&obj);
	/* obtain's reference: the link keeps the vm_bo; not the last put */
	if (gpuvm_bo_put_deferred(vm_bo) != 0)
		return -1;

	r = (struct round){ .vm = &vm, .va = &va, .vm_bo = to_my_vm_bo(vm_bo), .value = value };
	atomic_store_explicit(&pushed, 0, memory_order_relaxed);
	if (pthread_create(&a, NULL, run_job, &r) || pthread_create(&b, NULL, cleanup, &r))
		return -1;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (!inject_race && payload_seen != value) {
		fprintf(stderr, "vm_bo_free read %ld, want %ld\n", payload_seen, value);
		failures++;
	}
	if (gpuvm_fini(&vm) || gpuvm_gem_fini(&obj))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int rounds;

	if (argc != 2 || (strcmp(argv[1], "race") && strcmp(argv[1], "clean"))) {
		fprintf(stderr, "usage: %s race|clean\n", argv[0]);
		return 2;
	}
	inject_race = !strcmp(argv[1], "race");
	rounds = inject_race ? 1 : ROUNDS_CLEAN;
	for (int i = 0; i < rounds; i++) {
		if (one_round(1000 + i)) {
			fprintf(stderr, "round %d: set-up or teardown failed\n", i);
			return 1;
		}
	}
	if (failures)
		return 1;
	printf("tsan_defer_race %s: %d rounds done\n", argv[1], rounds);
	return 0;
}
