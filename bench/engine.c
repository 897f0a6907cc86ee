/* SPDX-License-Identifier: MIT */
/*
 * A first, rough measurement of the engine at scale: random find_first and
 * random map requests (ops built, applied and freed) on a VM holding N
 * mappings. Prints `name value unit` lines. The full benchmark suite, with
 * baselines and TSC timing, comes with the benchmarks issue.
 *
 *	bench-engine [mappings] [requests] [seed]
 */
#define _POSIX_C_SOURCE 200809L
#include <gpuvm.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 4096ull
#define SLOT_PAGES 16ull /* each initial mapping lives in its own 16-page slot */
#define NBO 1000

struct bo {
	struct gpuvm_gem base;
	struct gpuvm_bo *vm_bo;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-engine: %s: %s\n", what, gpuvm_err_name(err));
	exit(1);
}

static struct gpuva *va_new(void)
{
	struct gpuva *va = calloc(1, sizeof(*va));

	if (!va)
		die("calloc", -ENOMEM);
	return va;
}

static void link_to(struct gpuva *va)
{
	struct gpuvm_gem *obj = gpuva_gem(va);
	int ret;

	if (!obj)
		return;
	ret = gpuva_link(va, ((struct bo *)obj)->vm_bo);
	if (ret)
		die("link", ret);
}

static void drop(struct gpuva *va)
{
	if (gpuva_vm_bo(va))
		gpuva_unlink(va);
	free(va);
}

static size_t apply(struct gpuvm *vm, struct gpuva_ops *ops)
{
	struct gpuva_op *op;
	size_t n = 0;
	int ret;

	gpuva_for_each_op(op, ops) {
		n++;
		switch (op->op) {
		case GPUVA_OP_MAP: {
			struct gpuva *va = va_new();

			ret = gpuva_map(vm, va, &op->map);
			if (ret)
				die("gpuva_map", ret);
			link_to(va);
			break;
		}
		case GPUVA_OP_REMAP: {
			struct gpuva *old = op->remap.unmap->va;
			struct gpuva *prev = op->remap.prev ? va_new() : NULL;
			struct gpuva *next = op->remap.next ? va_new() : NULL;

			ret = gpuva_remap(prev, next, &op->remap);
			if (ret)
				die("gpuva_remap", ret);
			if (prev)
				link_to(prev);
			if (next)
				link_to(next);
			drop(old);
			break;
		}
		case GPUVA_OP_UNMAP:
			ret = gpuva_unmap(&op->unmap);
			if (ret)
				die("gpuva_unmap", ret);
			drop(op->unmap.va);
			break;
		default:
			break;
		}
	}
	return n;
}

/*
 * @n random map requests of 1-32 pages at random page addresses, random BO
 * and offset; with @apply the ops are applied before the list is freed.
 * Returns the number of ops built.
 */
static size_t map_requests(struct gpuvm *vm, struct bo *bos, uint64_t va_range, size_t n,
			   bool apply_ops)
{
	size_t ops_total = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t pages = 1 + rnd() % 32;
		uint64_t addr = (rnd() % (va_range / PAGE - pages)) * PAGE;
		struct bo *bo = &bos[rnd() % NBO];
		struct gpuvm_map_req req = {
			.sz = sizeof(req),
			.map = { .va = { addr, pages * PAGE },
				 .gem = { (rnd() % 1024) * PAGE, &bo->base } },
		};
		struct gpuva_ops *ops;
		int ret = gpuvm_sm_map_ops_create(vm, &req, &ops);

		if (ret)
			die("sm_map_ops_create", ret);
		ops_total += ops->count;
		if (apply_ops)
			apply(vm, ops);
		gpuva_ops_free(vm, ops);
	}
	return ops_total;
}

int main(int argc, char **argv)
{
	size_t nmap = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	size_t nreq = argc > 2 ? strtoull(argv[2], NULL, 0) : 200000;
	struct bo *bos = calloc(NBO, sizeof(*bos));
	const uint64_t bo_size = 1ull << 30;
	uint64_t *order, va_range;
	struct gpuvm vm;
	struct gpuvm_stats st = { .sz = sizeof(st) };
	struct gpuva *va, *next;
	volatile uintptr_t sink = 0;
	size_t i, ops_total = 0;
	double t0, t1;
	int ret;

	rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 42;
	va_range = nmap * SLOT_PAGES * PAGE;
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "bench", .start = 0, .range = va_range);
	ret = gpuvm_init(&vm, &opts);
	if (ret)
		die("gpuvm_init", ret);
	for (i = 0; i < NBO; i++) {
		GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = bo_size);
		if ((ret = gpuvm_gem_init(&bos[i].base, &gopts)) ||
		    (ret = gpuvm_bo_obtain(&vm, &bos[i].base, &bos[i].vm_bo)))
			die("bo", ret);
	}

	/* fill in shuffled slot order, so the index sees random inserts */
	order = malloc(nmap * sizeof(*order));
	for (i = 0; i < nmap; i++)
		order[i] = i;
	for (i = nmap; i > 1; i--) {
		size_t j = rnd() % i;
		uint64_t t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	t0 = now();
	for (i = 0; i < nmap; i++) {
		struct bo *bo = &bos[rnd() % NBO];
		uint64_t pages = 1 + rnd() % (SLOT_PAGES - 1);

		va = va_new();
		gpuva_init(va, order[i] * SLOT_PAGES * PAGE, pages * PAGE, &bo->base,
			   (rnd() % 1024) * PAGE);
		ret = gpuva_insert(&vm, va);
		if (ret)
			die("insert", ret);
		link_to(va);
	}
	t1 = now();
	printf("fill_insert_link %.1f ns/mapping\n", (t1 - t0) * 1e9 / nmap);
	gpuvm_stats(&vm, &st);
	printf("index_bytes_per_mapping %.1f bytes\n", (double)st.index_bytes / st.mappings);
	printf("bytes_per_mapping %.1f bytes (sizeof(struct gpuva) %zu + index)\n",
	       sizeof(struct gpuva) + (double)st.index_bytes / st.mappings, sizeof(struct gpuva));

	t0 = now();
	for (i = 0; i < nreq; i++)
		sink += (uintptr_t)gpuva_find_first(&vm, rnd() % va_range, 1);
	t1 = now();
	printf("find_first_random %.1f ns/call (%zu mappings)\n", (t1 - t0) * 1e9 / nreq, nmap);

	t0 = now();
	ops_total = map_requests(&vm, bos, va_range, nreq, true);
	t1 = now();
	printf("map_request_applied %.0f requests/s (%.2f ops/request)\n", nreq / (t1 - t0),
	       (double)ops_total / nreq);

	t0 = now();
	map_requests(&vm, bos, va_range, nreq, false);
	t1 = now();
	printf("map_request_built %.0f requests/s\n", nreq / (t1 - t0));

	ret = gpuvm_verify(&vm);
	if (ret)
		die("verify", ret);
	gpuvm_for_each_va_safe(va, next, &vm) {
		gpuva_remove(va);
		drop(va);
	}
	for (i = 0; i < NBO; i++) {
		gpuvm_bo_put(bos[i].vm_bo);
		gpuvm_gem_put(&bos[i].base);
	}
	ret = gpuvm_fini(&vm);
	if (ret)
		die("fini", ret);
	free(order);
	free(bos);
	(void)sink;
	return 0;
}
