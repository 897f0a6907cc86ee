/* SPDX-License-Identifier: MIT */
/*
 * vm_bind_queue: an emulator's VM_BIND queue on libgpuvm's immediate mode.
 *
 * A GPU emulator (or a driver's run_job()) applies bind operations on the
 * thread that will signal their completion fence. Whoever waits for that
 * fence may hold a lock or be allocating memory, so that thread must never
 * allocate, free a buffer object, or wait for a reservation: it could end up
 * waiting for its own fence. The work is therefore split over three threads:
 *
 *   builder  turns each request into an op list and allocates, up front,
 *            everything applying it takes: the new mappings and the vm_bo
 *            (the VM/BO pair) of a map. Allocating may block or fail here,
 *            where a failure would leave the VM untouched.
 *   applier  the fence-signalling section: applies the ops with what the
 *            builder made, links and unlinks mappings. The last reference of
 *            a vm_bo may go here, so gpuva_unlink_defer() and
 *            gpuvm_bo_put_deferred() only queue it (lock-free), never free.
 *   cleanup  frees op lists, removed mappings and the queued vm_bos
 *            (gpuvm_bo_deferred_cleanup()) later, where freeing is harmless.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <gpuvm.h>

#define PG 0x1000ull
#define NBINDS 400
#define NBOS 4

static atomic_int live, failures; /* driver allocations alive; failed checks */
#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x)) {                                                    \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #x); \
			atomic_fetch_add(&failures, 1);                        \
		}                                                              \
	} while (0)

static void *zalloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p)
		abort();
	atomic_fetch_add(&live, 1);
	return p;
}

static void zfree(void *p)
{
	atomic_fetch_sub(&live, 1);
	free(p);
}

struct bq_map {
	struct gpuva base;
	struct bq_map *next_dead;
};

/* An op carries what applying it needs, allocated by the builder. */
struct bq_op {
	struct gpuva_op base;
	struct bq_map *map, *prev, *next;
	struct gpuvm_bo *vm_bo;
};

struct job {
	struct gpuva_ops *ops;
	struct bq_map *dead; /* mappings the apply removed, for the cleanup */
	struct job *next;
};

GPUVM_CONTAINER(struct gpuva, struct bq_map, base, to_map)
GPUVM_CONTAINER(struct gpuva_op, struct bq_op, base, to_op)

static struct gpuvm vm;
static struct gpuvm_gem bos[NBOS];
/* The tree is not thread-safe: building, applying and freeing op lists all
 * read or change it (index reservations included): the driver's VM lock. */
static pthread_mutex_t vm_lock = PTHREAD_MUTEX_INITIALIZER;

/* Two FIFOs and the progress counters, under one lock. */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct job *apply_q, *cleanup_q;
static int built, applied, cleaned;

static void push(struct job **q, struct job *j, int *count)
{
	j->next = NULL;
	pthread_mutex_lock(&q_lock);
	while (*q)
		q = &(*q)->next;
	*q = j;
	if (count)
		(*count)++;
	pthread_cond_broadcast(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

/* The next job, or NULL once @done reached NBINDS (all went through). */
static struct job *pop(struct job **q, const int *done)
{
	struct job *j;

	pthread_mutex_lock(&q_lock);
	while (!*q && *done < NBINDS)
		pthread_cond_wait(&q_cond, &q_lock);
	j = *q;
	if (j)
		*q = j->next;
	pthread_mutex_unlock(&q_lock);
	return j;
}

static struct gpuva_op *op_alloc(struct gpuvm *v)
{
	(void)v;
	return &((struct bq_op *)zalloc(sizeof(struct bq_op)))->base;
}

static void op_free(struct gpuvm *v, struct gpuva_op *op)
{
	(void)v;
	zfree(to_op(op));
}

static const struct gpuvm_ops vm_ops = {
	.sz = sizeof(struct gpuvm_ops), .op_alloc = op_alloc, .op_free = op_free,
};

static void *builder(void *arg)
{
	uint64_t rng = 42;

	for (int i = 0; i < NBINDS; i++) {
		struct job *j = zalloc(sizeof(*j));
		struct gpuva_op *op;
		uint64_t pages, addr;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		pages = 1 + (rng >> 33) % 16;
		addr = ((rng >> 17) % (256 - pages)) * PG;

		/* An op list is computed against the tree as it is when applied:
		 * wait until the previous list has been applied. */
		pthread_mutex_lock(&q_lock);
		while (applied < built)
			pthread_cond_wait(&q_cond, &q_lock);
		pthread_mutex_unlock(&q_lock);

		pthread_mutex_lock(&vm_lock);
		if ((rng >> 60) < 12) {
			GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = addr,
				   .map.va.range = pages * PG, .map.gem.obj = &bos[i % NBOS],
				   .map.gem.offset = ((rng >> 40) % (64 - pages)) * PG);
			CHECK(gpuvm_sm_map_ops_create(&vm, &req, &j->ops) == 0);
		} else {
			CHECK(gpuvm_sm_unmap_ops_create(&vm, addr, pages * PG, &j->ops) == 0);
		}
		pthread_mutex_unlock(&vm_lock);

		gpuva_for_each_op(op, j->ops) {
			struct bq_op *o = to_op(op);
			struct gpuvm_bo *pre;

			if (op->op == GPUVA_OP_MAP) {
				o->map = zalloc(sizeof(*o->map));
				/* Allocated outside any lock; obtain_prealloc only
				 * publishes it under the gem's lock, or frees it and
				 * returns the vm_bo that exists. */
				CHECK(gpuvm_bo_create(&vm, op->map.gem.obj, &pre) == 0);
				CHECK(gpuvm_bo_obtain_prealloc(pre, &o->vm_bo) == 0);
			} else if (op->op == GPUVA_OP_REMAP) {
				o->prev = op->remap.prev ? zalloc(sizeof(*o->prev)) : NULL;
				o->next = op->remap.next ? zalloc(sizeof(*o->next)) : NULL;
			}
		}
		push(&apply_q, j, &built);
	}
	return arg;
}

static void link_va(struct gpuva *va, struct gpuvm_bo *vm_bo)
{
	/* In immediate mode the gem's gpuva lock guards its mapping lists. */
	CHECK(gpuvm_gem_gpuva_lock(vm_bo->obj) == 0);
	CHECK(gpuva_link(va, vm_bo) == 0);
	CHECK(gpuvm_gem_gpuva_unlock(vm_bo->obj) == 0);
}

/* Unlink a removed mapping; a last vm_bo reference is only queued. */
static void retire(struct job *j, struct gpuva *va)
{
	CHECK(gpuva_unlink_defer(va) == 0);
	to_map(va)->next_dead = j->dead;
	j->dead = to_map(va);
}

/* The op list reserved the index nodes: none of this allocates. */
static void apply_op(struct job *j, struct gpuva_op *op)
{
	struct bq_op *o = to_op(op);
	struct gpuva *old;

	switch (op->op) {
	case GPUVA_OP_MAP:
		CHECK(gpuva_map(&vm, &o->map->base, &op->map) == 0);
		link_va(&o->map->base, o->vm_bo);
		break;
	case GPUVA_OP_REMAP:
		old = op->remap.unmap->va;
		CHECK(gpuva_remap(o->prev ? &o->prev->base : NULL,
				  o->next ? &o->next->base : NULL, &op->remap) == 0);
		/* link the pieces before unlinking the old one: the vm_bo stays */
		if (o->prev)
			link_va(&o->prev->base, gpuva_vm_bo(old));
		if (o->next)
			link_va(&o->next->base, gpuva_vm_bo(old));
		retire(j, old);
		break;
	case GPUVA_OP_UNMAP:
		CHECK(gpuva_unmap(&op->unmap) == 0);
		retire(j, op->unmap.va);
		break;
	default:
		break;
	}
}

static void *applier(void *arg)
{
	struct job *j;

	while ((j = pop(&apply_q, &applied))) {
		struct gpuva_op *op;
		bool cookie = gpuvm_signalling_begin();

		pthread_mutex_lock(&vm_lock);
		gpuva_for_each_op(op, j->ops)
			apply_op(j, op);
		pthread_mutex_unlock(&vm_lock);
		/* Drop obtain's references: the links hold their own. Deferred
		 * all the same: nothing may be freed in this section, and the
		 * applier cannot know in general that a put is not the last. */
		gpuva_for_each_op(op, j->ops)
			if (to_op(op)->vm_bo)
				CHECK(gpuvm_bo_put_deferred(to_op(op)->vm_bo) >= 0);
		gpuvm_signalling_end(cookie);
		pthread_mutex_lock(&q_lock);
		applied++;
		pthread_mutex_unlock(&q_lock);
		push(&cleanup_q, j, NULL);
	}
	return arg;
}

static void *cleanup(void *arg)
{
	struct job *j;

	while ((j = pop(&cleanup_q, &cleaned))) {
		pthread_mutex_lock(&vm_lock); /* gives back the list's index reservation */
		gpuva_ops_free(&vm, j->ops);
		pthread_mutex_unlock(&vm_lock);
		while (j->dead) {
			struct bq_map *m = j->dead;

			j->dead = m->next_dead;
			zfree(m);
		}
		zfree(j);
		CHECK(gpuvm_bo_deferred_cleanup(&vm) >= 0);
		pthread_mutex_lock(&q_lock);
		cleaned++;
		pthread_cond_broadcast(&q_cond);
		pthread_mutex_unlock(&q_lock);
	}
	return arg;
}

int main(void)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "bindq", .flags = GPUVM_IMMEDIATE_MODE,
		   .range = 256 * PG, .ops = &vm_ops);
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = 64 * PG);
	void *(*fn[3])(void *) = { builder, applier, cleanup };
	struct gpuva *va, *next;
	pthread_t t[3];
	int left = 0;

	CHECK(gpuvm_init(&vm, &opts) == 0);
	for (int i = 0; i < NBOS; i++)
		CHECK(gpuvm_gem_init(&bos[i], &gopts) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t[i], NULL, fn[i], NULL) == 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	/* Tear down: unmap what is left, then free the queued vm_bos. */
	CHECK(gpuvm_verify(&vm) == 0);
	gpuvm_for_each_va_safe(va, next, &vm) {
		CHECK(gpuva_remove(va) == 0);
		CHECK(gpuva_unlink_defer(va) == 0);
		zfree(to_map(va));
		left++;
	}
	CHECK(gpuvm_bo_deferred_cleanup(&vm) >= 0);
	for (int i = 0; i < NBOS; i++)
		CHECK(gpuvm_gem_fini(&bos[i]) == 0); /* -EBUSY if a vm_bo was left */
	CHECK(gpuvm_fini(&vm) == 0);
	printf("%d binds applied, %d mappings left at the end, %d driver objects leaked\n",
	       NBINDS, left, atomic_load(&live));
	if (atomic_load(&failures) || atomic_load(&live))
		return 1;
	printf("vm_bind_queue: ok\n");
	return 0;
}
