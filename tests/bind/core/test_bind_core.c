/* SPDX-License-Identifier: MIT */
/*
 * The bind VM's shadow: apply results mapping by mapping (xe-like NULL
 * mappings, nouveau-like regions), check() refusals leaving the VM as it
 * was, all-or-nothing batches, an allocation-failure ladder for apply,
 * preview deltas, queries on sparse images, object lifetimes, and the
 * device's thread safety.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <cmocka.h>

#include <gpuvm.h>
#include <gpuvm/bind.h>

#include "bind/core.h"
#include "test_alloc.h"

#define PG 4096ull
#define XE_VM_ID 7
#define NV_RESERVE_ADDR (1ull << 40)
#define NV_RESERVE_RANGE (1ull << 32)

/* ---- helpers ---- */

static struct gpuvm_bind_dev *dev_new(uint32_t driver)
{
	struct gpuvm_bind_dev *dev;

	GPUVM_OPTS(gpuvm_bind_dev_opts, o, .driver = driver);
	assert_int_equal(gpuvm_bind_dev_create(&o, &dev), 0);
	return dev;
}

static struct gpuvm_bind_vm *vm_new(struct gpuvm_bind_dev *dev, const struct gpuvm_allocator *a)
{
	struct gpuvm_bind_vm *vm;

	if (gpuvm_bind_dev_driver(dev) == GPUVM_BIND_NOUVEAU) {
		GPUVM_OPTS(gpuvm_bind_vm_opts, o, .range = 1ull << 47,
			   .reserve_addr = NV_RESERVE_ADDR, .reserve_range = NV_RESERVE_RANGE,
			   .alloc = a);
		assert_int_equal(gpuvm_bind_vm_create(dev, &o, &vm), 0);
	} else {
		GPUVM_OPTS(gpuvm_bind_vm_opts, o, .vm_id = XE_VM_ID, .range = 1ull << 48,
			   .alloc = a);
		assert_int_equal(gpuvm_bind_vm_create(dev, &o, &vm), 0);
	}
	return vm;
}

static struct gpuvm_bind_op mkop(uint32_t type, uint32_t flags, uint32_t handle, uint32_t arg,
				 uint64_t addr, uint64_t range, uint64_t offset)
{
	return (struct gpuvm_bind_op){ .type = type,
				       .flags = flags,
				       .handle = handle,
				       .driver_arg = arg,
				       .addr = addr,
				       .range = range,
				       .offset = offset };
}

#define M(h, a, r, o) mkop(GPUVM_BIND_OP_MAP, 0, h, 0, a, r, o)
#define MF(h, f, arg, a, r, o) mkop(GPUVM_BIND_OP_MAP, f, h, arg, a, r, o)
#define U(a, r) mkop(GPUVM_BIND_OP_UNMAP, 0, 0, 0, a, r, 0)
#define S(a, r) mkop(GPUVM_BIND_OP_MAP_SPARSE, 0, 0, 0, a, r, 0)
#define P(arg, a, r) mkop(GPUVM_BIND_OP_PREFETCH, 0, 0, arg, a, r, 0)
#define UB(h) mkop(GPUVM_BIND_OP_UNMAP_BO, 0, h, 0, 0, 0, 0)
#define US(a, r) mkop(GPUVM_BIND_OP_UNMAP_SPARSE, 0, 0, 0, a, r, 0)
#define N(x) (sizeof(x) / sizeof((x)[0]))

static struct gpuvm_bind_batch *batch_of(const struct gpuvm_bind_op *ops, size_t n)
{
	struct gpuvm_bind_batch *b;

	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(gpuvm_bind_batch_add(b, &ops[i]), 0);
	return b;
}

static int apply_ops(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_op *ops, size_t n)
{
	struct gpuvm_bind_batch *b = batch_of(ops, n);
	int ret;

	if (vm->dev->driver == GPUVM_BIND_MSM)
		b->queue_id = 1; /* msm binds only through a VM_BIND queue */
	ret = gpuvm_bind_apply(vm, b);

	gpuvm_bind_batch_destroy(b);
	return ret;
}

static int apply1(struct gpuvm_bind_vm *vm, struct gpuvm_bind_op op)
{
	return apply_ops(vm, &op, 1);
}

struct dumpbuf {
	char *s;
	size_t len, cap;
};

static void dump_add(struct dumpbuf *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(d->s + d->len, d->cap - d->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < d->cap - d->len)
			break;
		d->cap = d->cap * 2 + (size_t)n + 64;
		d->s = realloc(d->s, d->cap);
		assert_non_null(d->s);
	}
	d->len += (size_t)n;
}

static int dump_one(void *data, const struct gpuvm_bind_mapping *m)
{
	dump_add(data, "0x%llx+0x%llx:%llu/%u@0x%llx f%x a%u\n", (unsigned long long)m->addr,
		 (unsigned long long)m->range, (unsigned long long)m->bo, m->handle,
		 (unsigned long long)m->offset, m->flags, m->driver_arg);
	return 0;
}

/*
 * Everything observable about a VM: its mappings, and how every page range
 * of interest is backed (residency of the whole space and of a few windows,
 * which shows the regions), and the library's own structure check.
 */
static char *vm_dump(struct gpuvm_bind_vm *vm)
{
	struct gpuvm *g = gpuvm_bind_vm_gpuvm(vm);
	struct dumpbuf d = { .s = malloc(64), .cap = 64 };
	struct gpuvm_bind_residency res;

	assert_non_null(d.s);
	d.s[0] = '\0';
	assert_int_equal(gpuvm_verify(g), 0);
	assert_int_equal(gpuvm_bind_for_each(vm, g->mm_start, g->mm_range, dump_one, &d), 0);
	assert_int_equal(gpuvm_bind_residency(vm, g->mm_start, g->mm_range, &res), 0);
	dump_add(&d, "res %llx %llx %llx\n", (unsigned long long)res.bound,
		 (unsigned long long)res.sparse, (unsigned long long)res.unmapped);
	for (uint64_t w = 0; w < 64; w++) {
		assert_int_equal(gpuvm_bind_residency(vm, w * 16 * PG, 16 * PG, &res), 0);
		if (res.bound || res.sparse)
			dump_add(&d, "w%llu %llx %llx\n", (unsigned long long)w,
				 (unsigned long long)res.bound, (unsigned long long)res.sparse);
	}
	return d.s;
}

struct want {
	uint64_t addr, range, offset, bo;
	uint32_t flags, driver_arg;
};

struct collect {
	struct gpuvm_bind_mapping m[64];
	size_t n;
};

static int collect_one(void *data, const struct gpuvm_bind_mapping *m)
{
	struct collect *c = data;

	assert_true(c->n < N(c->m));
	c->m[c->n++] = *m;
	return 0;
}

static void expect_maps(struct gpuvm_bind_vm *vm, const struct want *w, size_t n)
{
	struct gpuvm *g = gpuvm_bind_vm_gpuvm(vm);
	struct collect c = { .n = 0 };

	assert_int_equal(gpuvm_verify(g), 0);
	assert_int_equal(gpuvm_bind_for_each(vm, g->mm_start, g->mm_range, collect_one, &c), 0);
	if (c.n != n)
		fail_msg("%zu mappings, want %zu", c.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct gpuvm_bind_mapping *m = &c.m[i];

		if (m->addr != w[i].addr || m->range != w[i].range || m->offset != w[i].offset ||
		    m->bo != w[i].bo || m->flags != w[i].flags || m->driver_arg != w[i].driver_arg)
			fail_msg("mapping %zu: 0x%llx+0x%llx bo %llu @0x%llx f%x a%u; want "
				 "0x%llx+0x%llx "
				 "bo %llu @0x%llx f%x a%u",
				 i, (unsigned long long)m->addr, (unsigned long long)m->range,
				 (unsigned long long)m->bo, (unsigned long long)m->offset, m->flags,
				 m->driver_arg, (unsigned long long)w[i].addr,
				 (unsigned long long)w[i].range, (unsigned long long)w[i].bo,
				 (unsigned long long)w[i].offset, w[i].flags, w[i].driver_arg);
	}
}

/* Link order of an object's mappings in the VM, as addresses in pages. */
static size_t link_order(struct gpuvm_bind_vm *vm, struct gpuvm_gem *obj, uint64_t *pages,
			 size_t cap)
{
	struct gpuvm_bo *vm_bo = gpuvm_bo_find(gpuvm_bind_vm_gpuvm(vm), obj);
	struct gpuva *va;
	size_t n = 0;

	if (!vm_bo)
		return 0;
	gpuvm_bo_for_each_va(va, vm_bo) {
		assert_true(n < cap);
		pages[n++] = va->va.addr / PG;
	}
	gpuvm_bo_put(vm_bo);
	return n;
}

#define SPARSE GPUVM_BIND_MAPPING_SPARSE

/* ---- device, objects, VM ---- */

static void test_dev_and_bos(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev;
	struct gpuvm_bind_vm *vm, *vm2;
	uint64_t seq;

	GPUVM_OPTS(gpuvm_bind_dev_opts, bad, .driver = 9);
	assert_int_equal(gpuvm_bind_dev_create(&bad, &dev), -EINVAL);
	assert_int_equal(gpuvm_bind_dev_create(NULL, &dev), -EINVAL);
	dev = dev_new(GPUVM_BIND_XE);
	assert_int_equal(gpuvm_bind_dev_driver(dev), GPUVM_BIND_XE);

	assert_int_equal(gpuvm_bind_bo_add(dev, 0, PG, NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 0, NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_bo_add(dev, 1, PG + 1, NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_bo_add(dev, 5, PG, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(gpuvm_bind_bo_add(dev, 5, PG, &seq), -EEXIST);
	assert_int_equal(gpuvm_bind_bo_add(dev, 2, 2 * PG, &seq), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(gpuvm_bind_bo_remove(dev, 3), -ENOENT);
	assert_int_equal(gpuvm_bind_bo_remove(dev, 5), 0);
	assert_int_equal(gpuvm_bind_bo_remove(dev, 5), -ENOENT);
	/* a reused handle is a new object with a new seqno */
	assert_int_equal(gpuvm_bind_bo_add(dev, 5, PG, &seq), 0);
	assert_int_equal(seq, 3);
	for (uint32_t h = 100; h < 200; h++)
		assert_int_equal(gpuvm_bind_bo_add(dev, h, PG, NULL), 0);
	for (uint32_t h = 100; h < 200; h += 2)
		assert_int_equal(gpuvm_bind_bo_remove(dev, h), 0);

	/* VM options */
	GPUVM_OPTS(gpuvm_bind_vm_opts, o0, .range = 0);
	assert_int_equal(gpuvm_bind_vm_create(dev, &o0, &vm), -EINVAL);
	GPUVM_OPTS(gpuvm_bind_vm_opts, o1, .start = PG, .range = UINT64_MAX - PG + 1);
	assert_int_equal(gpuvm_bind_vm_create(dev, &o1, &vm), -EINVAL);
	GPUVM_OPTS(gpuvm_bind_vm_opts, o2, .range = (1ull << 48) + 1);
	assert_int_equal(gpuvm_bind_vm_create(dev, &o2, &vm), -EINVAL);
	GPUVM_OPTS(gpuvm_bind_vm_opts, o3, .range = 1ull << 48, .reserve_addr = 100,
		   .reserve_range = PG);
	assert_int_equal(gpuvm_bind_vm_create(dev, &o3, &vm), -EINVAL);
	GPUVM_OPTS(gpuvm_bind_vm_opts, o4, .range = 1ull << 48, .reserve_addr = UINT64_MAX - PG + 1,
		   .reserve_range = 2 * PG);
	assert_int_equal(gpuvm_bind_vm_create(dev, &o4, &vm), -EINVAL);
	assert_int_equal(gpuvm_bind_vm_create(NULL, &o3, &vm), -EINVAL);

	vm = vm_new(dev, NULL);
	vm2 = vm_new(dev, NULL);
	assert_int_equal(gpuvm_bind_vm_id(vm), XE_VM_ID);
	assert_non_null(gpuvm_bind_vm_gpuvm(vm));
	assert_int_equal(gpuvm_bind_dev_destroy(dev), -EBUSY);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), -EBUSY);
	gpuvm_bind_vm_destroy(vm2);
	gpuvm_bind_vm_destroy(NULL);
	assert_int_equal(gpuvm_bind_dev_destroy(NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* ---- xe-like: NULL mappings ---- */

static void test_xe_apply(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
	uint64_t pages[8];

	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 16 * PG, NULL), 0); /* bo 1 */
	assert_int_equal(gpuvm_bind_bo_add(dev, 2, 16 * PG, NULL), 0); /* bo 2 */

	/* a map with flags and a PAT index */
	assert_int_equal(apply1(vm, MF(1, GPUVM_BIND_READ_ONLY, 3, 0x100000, 8 * PG, PG)), 0);
	{
		const struct want w[] = { { 0x100000, 8 * PG, PG, 1, GPUVM_BIND_READ_ONLY, 3 } };
		expect_maps(vm, w, N(w));
	}
	/* split in the middle by another object: the pieces keep flags and arg */
	assert_int_equal(apply1(vm, M(2, 0x100000 + 2 * PG, 2 * PG, 4 * PG)), 0);
	{
		const struct want w[] = {
			{ 0x100000, 2 * PG, PG, 1, GPUVM_BIND_READ_ONLY, 3 },
			{ 0x100000 + 2 * PG, 2 * PG, 4 * PG, 2, 0, 0 },
			{ 0x100000 + 4 * PG, 4 * PG, 5 * PG, 1, GPUVM_BIND_READ_ONLY, 3 },
		};
		expect_maps(vm, w, N(w));
	}
	/* link order of bo 1: prev then next (the remap's order) */
	struct gpuvm_bind_mapping lm;

	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 5 * PG, &lm), 0);
	assert_int_equal(lm.bo, 1);
	assert_int_equal(lm.handle, 1);
	/* unmap across the three */
	assert_int_equal(apply1(vm, U(0x100000 + PG, 4 * PG)), 0);
	{
		const struct want w[] = {
			{ 0x100000, PG, PG, 1, GPUVM_BIND_READ_ONLY, 3 },
			{ 0x100000 + 5 * PG, 3 * PG, 6 * PG, 1, GPUVM_BIND_READ_ONLY, 3 },
		};
		expect_maps(vm, w, N(w));
	}
	/* prefetch changes nothing */
	assert_int_equal(apply1(vm, P(1, 0x100000, 8 * PG)), 0);
	/* NULL mapping, then unmap_bo of bo 1: only the sparse one stays */
	assert_int_equal(apply1(vm, S(0x200000, 4 * PG)), 0);
	assert_int_equal(apply1(vm, M(2, 0x300000, PG, 0)), 0);
	assert_int_equal(apply1(vm, UB(1)), 0);
	{
		const struct want w[] = {
			{ 0x200000, 4 * PG, 0, 0, SPARSE, 0 },
			{ 0x300000, PG, 0, 2, 0, 0 },
		};
		expect_maps(vm, w, N(w));
	}
	/* unmap_bo of an object with no mapping: nothing */
	assert_int_equal(apply1(vm, UB(1)), 0);
	/* one batch: map, split it, unmap its middle, map again: op-by-op order */
	{
		const struct gpuvm_bind_op ops[] = {
			M(1, 0x400000, 8 * PG, 0),
			M(2, 0x400000 + 2 * PG, PG, 0),
			U(0x400000 + 5 * PG, PG),
			M(1, 0x400000 + 7 * PG, PG, 15 * PG),
		};
		assert_int_equal(apply_ops(vm, ops, N(ops)), 0);
		const struct want w[] = {
			{ 0x200000, 4 * PG, 0, 0, SPARSE, 0 },
			{ 0x300000, PG, 0, 2, 0, 0 },
			{ 0x400000, 2 * PG, 0, 1, 0, 0 },
			{ 0x400000 + 2 * PG, PG, 0, 2, 0, 0 },
			{ 0x400000 + 3 * PG, 2 * PG, 3 * PG, 1, 0, 0 },
			{ 0x400000 + 6 * PG, PG, 6 * PG, 1, 0, 0 },
			{ 0x400000 + 7 * PG, PG, 15 * PG, 1, 0, 0 },
		};
		expect_maps(vm, w, N(w));
	}
	/*
	 * Link order of bo 1 as op-by-op application gives it: the first map
	 * [0,8) is replaced by prev [0,2) and next [3,8); the unmap replaces
	 * [3,8) by [3,5) and [6,8); the last map replaces [6,8) by [6,7) and
	 * adds [7,8). The pieces that did not survive were never linked.
	 */
	{
		struct gpuva *va = gpuva_find_first(gpuvm_bind_vm_gpuvm(vm), 0x400000, PG);
		const uint64_t want[] = { 0x400, 0x403, 0x406, 0x407 };
		size_t n;

		assert_non_null(va);
		n = link_order(vm, gpuva_gem(va), pages, N(pages));
		assert_int_equal(n, N(want));
		assert_memory_equal(pages, want, sizeof(want));
	}
	/* map, unmap_bo of it, map again in one batch: only the last one stays */
	{
		const struct gpuvm_bind_op ops[] = {
			M(2, 0x600000, PG, 0), UB(2), M(2, 0x700000, 2 * PG, 0), UB(1),
			M(1, 0x800000, PG, 0),
		};
		const uint64_t want2[] = { 0x700 }, want1[] = { 0x800 };
		struct gpuva *va;

		assert_int_equal(apply_ops(vm, ops, N(ops)), 0);
		const struct want w[] = {
			{ 0x200000, 4 * PG, 0, 0, SPARSE, 0 },
			{ 0x700000, 2 * PG, 0, 2, 0, 0 },
			{ 0x800000, PG, 0, 1, 0, 0 },
		};
		expect_maps(vm, w, N(w));
		va = gpuva_find_first(gpuvm_bind_vm_gpuvm(vm), 0x700000, PG);
		assert_int_equal(link_order(vm, gpuva_gem(va), pages, N(pages)), 1);
		assert_memory_equal(pages, want2, sizeof(want2));
		va = gpuva_find_first(gpuvm_bind_vm_gpuvm(vm), 0x800000, PG);
		assert_int_equal(link_order(vm, gpuva_gem(va), pages, N(pages)), 1);
		assert_memory_equal(pages, want1, sizeof(want1));
	}
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* ---- nouveau-like: regions ---- */

static void test_nouveau_apply(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_NOUVEAU);
	struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
	struct gpuvm_bind_residency res;

	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 16 * PG, NULL), 0);
	/* a region is no mapping */
	assert_int_equal(apply1(vm, S(0x100000, 16 * PG)), 0);
	expect_maps(vm, NULL, 0);
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 16 * PG, &res), 0);
	assert_int_equal(res.sparse, 16 * PG);
	assert_int_equal(res.bound, 0);
	/* maps inside it; a map outside */
	{
		const struct gpuvm_bind_op ops[] = {
			M(1, 0x100000, 4 * PG, 0),
			M(1, 0x100000 + 8 * PG, 4 * PG, 4 * PG),
			M(1, 0x200000, 2 * PG, 0),
		};
		assert_int_equal(apply_ops(vm, ops, N(ops)), 0);
	}
	assert_int_equal(apply1(vm, U(0x100000 + 2 * PG, 8 * PG)), 0);
	{
		const struct want w[] = {
			{ 0x100000, 2 * PG, 0, 1, 0, 0 },
			{ 0x100000 + 10 * PG, 2 * PG, 6 * PG, 1, 0, 0 },
			{ 0x200000, 2 * PG, 0, 1, 0, 0 },
		};
		expect_maps(vm, w, N(w));
	}
	/* the region is still there: 12 pages sparse, 4 bound */
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 16 * PG, &res), 0);
	assert_int_equal(res.bound, 4 * PG);
	assert_int_equal(res.sparse, 12 * PG);
	assert_int_equal(res.unmapped, 0);
	/* unmap_sparse: not an exact region (nouveau's -ENOENT) */
	assert_int_equal(apply1(vm, US(0x100000, 8 * PG)), -ENOENT);
	/* the exact one: unmaps inside, drops the region */
	assert_int_equal(apply1(vm, US(0x100000, 16 * PG)), 0);
	{
		const struct want w[] = { { 0x200000, 2 * PG, 0, 1, 0, 0 } };
		expect_maps(vm, w, N(w));
	}
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 16 * PG, &res), 0);
	assert_int_equal(res.unmapped, 16 * PG);
	/* a region may be made again; in one batch: make, drop, make */
	{
		const struct gpuvm_bind_op ops[] = {
			S(0x100000, 4 * PG),
			US(0x100000, 4 * PG),
			S(0x100000, 8 * PG),
			S(0x100000 + 8 * PG, 8 * PG),
		};
		assert_int_equal(apply_ops(vm, ops, N(ops)), 0);
	}
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 16 * PG, &res), 0);
	assert_int_equal(res.sparse, 16 * PG);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* ---- check() refusals ---- */

struct refusal {
	const char *what;
	uint32_t driver;
	struct gpuvm_bind_op op;
	struct gpuvm_bind_sync sync;
	uint32_t queue, flags;
	int ret;
};

static void test_check_refusals(void **state)
{
	(void)state;
	const struct gpuvm_bind_sync tl = { .handle = 1,
					    .flags = GPUVM_BIND_SYNC_TIMELINE,
					    .point = 1 };
	const struct gpuvm_bind_sync bin = { .handle = 1 };
	const struct refusal cases[] = {
		{ "addr not aligned", GPUVM_BIND_XE, M(1, 0x100800, PG, 0), {}, 0, 0, -EINVAL },
		{ "range not aligned", GPUVM_BIND_XE, U(0x100000, 0x800), {}, 0, 0, -EINVAL },
		{ "offset not aligned",
		  GPUVM_BIND_XE,
		  M(1, 0x100000, PG, 0x10),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "outside VA", GPUVM_BIND_XE, M(1, 1ull << 48, PG, 0), {}, 0, 0, -EINVAL },
		{ "across the VA end",
		  GPUVM_BIND_XE,
		  U((1ull << 48) - PG, 2 * PG),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "prefetch outside", GPUVM_BIND_XE, P(0, 1ull << 48, PG), {}, 0, 0, -EINVAL },
		{ "over the reserve",
		  GPUVM_BIND_NOUVEAU,
		  M(1, NV_RESERVE_ADDR - PG, 2 * PG, 0),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "unmap in the reserve",
		  GPUVM_BIND_NOUVEAU,
		  U(NV_RESERVE_ADDR, PG),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "sparse in the reserve",
		  GPUVM_BIND_NOUVEAU,
		  S(NV_RESERVE_ADDR + PG, PG),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "unknown handle", GPUVM_BIND_XE, M(9, 0x100000, PG, 0), {}, 0, 0, -ENOENT },
		{ "unmap_bo unknown handle", GPUVM_BIND_XE, UB(9), {}, 0, 0, -ENOENT },
		{ "beyond the object",
		  GPUVM_BIND_XE,
		  M(1, 0x100000, PG, 16 * PG),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "longer than the object",
		  GPUVM_BIND_NOUVEAU,
		  M(1, 0x100000, 17 * PG, 0),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "unmap_bo on nouveau", GPUVM_BIND_NOUVEAU, UB(1), {}, 0, 0, -EOPNOTSUPP },
		{ "prefetch on nouveau",
		  GPUVM_BIND_NOUVEAU,
		  P(0, 0x100000, PG),
		  {},
		  0,
		  0,
		  -EOPNOTSUPP },
		{ "unmap_sparse on xe", GPUVM_BIND_XE, US(0x100000, PG), {}, 0, 0, -EOPNOTSUPP },
		{ "flag on nouveau",
		  GPUVM_BIND_NOUVEAU,
		  MF(1, GPUVM_BIND_READ_ONLY, 0, 0x100000, PG, 0),
		  {},
		  0,
		  0,
		  -EOPNOTSUPP },
		{ "noexec on xe",
		  GPUVM_BIND_XE,
		  MF(1, GPUVM_BIND_NOEXEC, 0, 0x100000, PG, 0),
		  {},
		  0,
		  0,
		  -EOPNOTSUPP },
		{ "map_sparse on panthor",
		  GPUVM_BIND_PANTHOR,
		  S(0x800000, PG),
		  {},
		  0,
		  0,
		  -EOPNOTSUPP },
		{ "unmap_bo on msm", GPUVM_BIND_MSM, UB(1), {}, 3, 0, -EOPNOTSUPP },
		{ "read_only on msm",
		  GPUVM_BIND_MSM,
		  MF(1, GPUVM_BIND_READ_ONLY, 0, 0x100000, PG, 0),
		  {},
		  3,
		  0,
		  -EOPNOTSUPP },
		{ "driver_arg on msm",
		  GPUVM_BIND_MSM,
		  MF(1, 0, 2, 0x100000, PG, 0),
		  {},
		  3,
		  0,
		  -EINVAL },
		{ "msm without a bind queue", GPUVM_BIND_MSM, U(0x100000, PG), {}, 0, 0, -EINVAL },
		{ "PTE kind above 8 bits on nouveau",
		  GPUVM_BIND_NOUVEAU,
		  MF(1, 0, 0x100, 0x100000, PG, 0),
		  {},
		  0,
		  0,
		  -EINVAL },
		{ "region over a region",
		  GPUVM_BIND_NOUVEAU,
		  S(0x500000 + 4 * PG, 8 * PG),
		  {},
		  0,
		  0,
		  -ENOSPC },
		{ "region containing a region",
		  GPUVM_BIND_NOUVEAU,
		  S(0x400000, 0x200000),
		  {},
		  0,
		  0,
		  -ENOSPC },
		{ "map across a region's start",
		  GPUVM_BIND_NOUVEAU,
		  M(1, 0x500000 - PG, 2 * PG, 0),
		  {},
		  0,
		  0,
		  -ENOSPC },
		{ "map across a region's end",
		  GPUVM_BIND_NOUVEAU,
		  M(1, 0x500000 + 15 * PG, 2 * PG, 0),
		  {},
		  0,
		  0,
		  -ENOSPC },
		{ "unmap_sparse of no region",
		  GPUVM_BIND_NOUVEAU,
		  US(0x600000, PG),
		  {},
		  0,
		  0,
		  -ENOENT },
		{ "unmap_sparse of part of a region",
		  GPUVM_BIND_NOUVEAU,
		  US(0x500000, PG),
		  {},
		  0,
		  0,
		  -ENOENT },
		{ "queue on nouveau", GPUVM_BIND_NOUVEAU, U(0x100000, PG), {}, 3, 0, -EINVAL },
		{ "queue on panthor", GPUVM_BIND_PANTHOR, U(0x100000, PG), {}, 3, 0, -EINVAL },
		{ "sync without async on nouveau", GPUVM_BIND_NOUVEAU, U(0x100000, PG), bin, 0, 0,
		  -EINVAL },
		{ "sync without async on panthor", GPUVM_BIND_PANTHOR, U(0x100000, PG), bin, 0, 0,
		  -EINVAL },
		{ "unknown batch flag", GPUVM_BIND_XE, U(0x100000, PG), {}, 0, 2, -EINVAL },
	};

	for (size_t i = 0; i < N(cases); i++) {
		const struct refusal *c = &cases[i];
		struct gpuvm_bind_dev *dev = dev_new(c->driver);
		struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
		struct gpuvm_bind_batch *b;
		char *before, *after;
		int ret;

		assert_int_equal(gpuvm_bind_bo_add(dev, 1, 16 * PG, NULL), 0);
		/* something mapped, and on nouveau a region at 0x500000 */
		assert_int_equal(apply1(vm, M(1, 0x100000, 16 * PG, 0)), 0);
		if (c->driver == GPUVM_BIND_NOUVEAU)
			assert_int_equal(apply1(vm, S(0x500000, 16 * PG)), 0);
		before = vm_dump(vm);
		GPUVM_OPTS(gpuvm_bind_batch_opts, bo, .queue_id = c->queue);
		assert_int_equal(gpuvm_bind_batch_create(&bo, &b), 0);
		b->flags = c->flags; /* an unknown flag can only come this way */
		/* an unmap first, so a refusal must undo nothing but shows all-or-nothing */
		const struct gpuvm_bind_op first = U(0x100000, PG);

		assert_int_equal(gpuvm_bind_batch_add(b, &first), 0);
		assert_int_equal(gpuvm_bind_batch_add(b, &c->op), 0);
		if (c->sync.handle)
			assert_int_equal(gpuvm_bind_batch_add_sync(b, &c->sync), 0);
		ret = gpuvm_bind_check(vm, b);
		if (ret != c->ret)
			fail_msg("%s: check %d, want %d", c->what, ret, c->ret);
		ret = gpuvm_bind_apply(vm, b);
		if (ret != c->ret)
			fail_msg("%s: apply %d, want %d", c->what, ret, c->ret);
		after = vm_dump(vm);
		if (strcmp(before, after))
			fail_msg("%s: the VM changed:\n%s---\n%s", c->what, before, after);
		free(before);
		free(after);
		gpuvm_bind_batch_destroy(b);
		gpuvm_bind_vm_destroy(vm);
		assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
	}
	/* timelines: only with the cap */
	for (uint32_t d = 1; d <= 4; d++) {
		struct gpuvm_bind_driver_info info = { .sz = sizeof(info) };
		struct gpuvm_bind_dev *dev = dev_new(d);
		struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
		struct gpuvm_bind_batch *b;

		assert_int_equal(gpuvm_bind_driver_info(d, &info), 0);
		/* msm binds only through a VM_BIND queue */
		GPUVM_OPTS(gpuvm_bind_batch_opts, bo, .flags = GPUVM_BIND_BATCH_ASYNC,
			   .queue_id = d == GPUVM_BIND_MSM ? 1 : 0);
		assert_int_equal(gpuvm_bind_batch_create(&bo, &b), 0);
		assert_int_equal(gpuvm_bind_batch_add_sync(b, &tl), 0);
		assert_int_equal(gpuvm_bind_check(vm, b),
				 info.caps & GPUVM_BIND_CAP_TIMELINE ? 0 : -EOPNOTSUPP);
		gpuvm_bind_batch_destroy(b);
		gpuvm_bind_vm_destroy(vm);
		assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
	}
	/* a queue on xe and msm, syncs with async on nouveau: fine */
	{
		struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
		struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
		struct gpuvm_bind_batch *b;

		GPUVM_OPTS(gpuvm_bind_batch_opts, bo, .queue_id = 3);
		assert_int_equal(gpuvm_bind_batch_create(&bo, &b), 0);
		assert_int_equal(gpuvm_bind_batch_add_sync(b, &bin), 0);
		assert_int_equal(gpuvm_bind_check(vm, b), 0);
		assert_int_equal(gpuvm_bind_check(NULL, b), -EINVAL);
		assert_int_equal(gpuvm_bind_check(vm, NULL), -EINVAL);
		assert_int_equal(gpuvm_bind_apply(vm, NULL), -EINVAL);
		gpuvm_bind_batch_destroy(b);
		gpuvm_bind_vm_destroy(vm);
		assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
	}
	{
		struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_NOUVEAU);
		struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
		struct gpuvm_bind_batch *b;

		const struct gpuvm_bind_op kind = MF(9, 0, 0x86, 0x100000, PG, 0);
		struct gpuvm_bind_mapping m;

		GPUVM_OPTS(gpuvm_bind_batch_opts, bo, .flags = GPUVM_BIND_BATCH_ASYNC);
		assert_int_equal(gpuvm_bind_batch_create(&bo, &b), 0);
		assert_int_equal(gpuvm_bind_batch_add_sync(b, &bin), 0);
		assert_int_equal(gpuvm_bind_check(vm, b), 0);
		/* a MAP's PTE kind (driver_arg) is kept with the mapping */
		assert_int_equal(gpuvm_bind_bo_add(dev, 9, PG, NULL), 0);
		assert_int_equal(gpuvm_bind_batch_add(b, &kind), 0);
		assert_int_equal(gpuvm_bind_apply(vm, b), 0);
		assert_int_equal(gpuvm_bind_lookup(vm, 0x100000, &m), 0);
		assert_int_equal(m.handle, 9);
		assert_int_equal(m.driver_arg, 0x86);
		gpuvm_bind_batch_destroy(b);
		gpuvm_bind_vm_destroy(vm);
		assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
	}
}

/*
 * What no driver lacks today (all four have timelines and sync-only
 * binds): a device whose codec table is a copy without those caps.
 */
static int no_ioctl(void *data, int fd, unsigned long request, void *arg)
{
	(void)data;
	(void)fd;
	(void)request;
	(void)arg;
	fail_msg("no ioctl expected");
	return 0;
}

static void test_missing_caps(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm__bind_codec codec = *dev->codec;
	const struct gpuvm__bind_codec *saved = dev->codec;
	struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
	const struct gpuvm_bind_sync tl = { .handle = 1,
					    .flags = GPUVM_BIND_SYNC_TIMELINE,
					    .point = 3 };
	const struct gpuvm_bind_sync bin = { .handle = 2, .flags = GPUVM_BIND_SYNC_SIGNAL };
	struct gpuvm_bind_submit_stats st;
	struct gpuvm_bind_batch *b;

	codec.info.caps &= ~(uint32_t)(GPUVM_BIND_CAP_TIMELINE | GPUVM_BIND_CAP_SYNC_ONLY);
	dev->codec = &codec;
	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	assert_int_equal(gpuvm_bind_batch_add_sync(b, &tl), 0);
	assert_int_equal(gpuvm_bind_check(vm, b), -EOPNOTSUPP);
	gpuvm_bind_batch_reset(b);
	assert_int_equal(gpuvm_bind_batch_add_sync(b, &bin), 0);
	assert_int_equal(gpuvm_bind_check(vm, b), 0);
	GPUVM_OPTS(gpuvm_bind_submit_opts, o, .fd = 42, .ioctl = no_ioctl);
	assert_int_equal(gpuvm_bind_submit(vm, b, &o, &st), -EOPNOTSUPP);
	assert_int_equal(st.ioctls, 0);
	dev->codec = saved;
	gpuvm_bind_batch_destroy(b);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* ---- all or nothing ---- */

static void test_all_or_nothing(void **state)
{
	(void)state;
	for (int nv = 0; nv < 2; nv++) {
		struct gpuvm_bind_dev *dev = dev_new(nv ? GPUVM_BIND_NOUVEAU : GPUVM_BIND_XE);
		struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
		char *before, *after;

		assert_int_equal(gpuvm_bind_bo_add(dev, 1, 64 * PG, NULL), 0);
		assert_int_equal(apply1(vm, M(1, 0x100000, 32 * PG, 0)), 0);
		assert_int_equal(apply1(vm, S(0x400000, 32 * PG)), 0);
		before = vm_dump(vm);
		/*
		 * Two valid ops that change a lot, the third invalid (nouveau:
		 * a region over a region, found by the dry run; xe: a map
		 * beyond the object, found by the static checks), the fourth
		 * valid.
		 */
		const struct gpuvm_bind_op ops[] = {
			M(1, 0x100000 + 4 * PG, 4 * PG, 40 * PG),
			U(0x100000 + 20 * PG, 20 * PG),
			nv ? S(0x400000 + PG, PG) : M(1, 0x800000, PG, 64 * PG),
			M(1, 0x900000, PG, 0),
		};
		struct gpuvm_bind_batch *b = batch_of(ops, N(ops));

		/* the 3rd op: a region inside one (nouveau: -ENOSPC), or beyond the object */
		assert_int_equal(gpuvm_bind_apply(vm, b), nv ? -ENOSPC : -EINVAL);
		after = vm_dump(vm);
		assert_string_equal(before, after);
		free(after);
		/* without the invalid op: everything happens */
		gpuvm_bind_batch_destroy(b);
		b = batch_of(ops, 2);
		assert_int_equal(gpuvm_bind_apply(vm, b), 0);
		after = vm_dump(vm);
		assert_string_not_equal(before, after);
		free(after);
		free(before);
		gpuvm_bind_batch_destroy(b);
		gpuvm_bind_vm_destroy(vm);
		assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
	}
}

/*
 * The allocation-failure ladder: fail the 1st, 2nd, ... allocation of the
 * VM's allocator during apply until it succeeds; every failure is -ENOMEM
 * with the VM as before and no allocation left behind, and the success
 * gives what an apply without failures gives.
 */
/* Index nodes of the VM, in the tree or cached. */
static size_t index_nodes(struct gpuvm_bind_vm *vm)
{
	GPUVM_OPTS(gpuvm_stats, st);

	assert_int_equal(gpuvm_stats(gpuvm_bind_vm_gpuvm(vm), &st), 0);
	return st.index_nodes + st.cached_nodes;
}

static void ladder(uint32_t driver, const struct gpuvm_bind_op *setup, size_t nsetup,
		   const struct gpuvm_bind_op *ops, size_t n)
{
	struct test_alloc ta;
	struct gpuvm_bind_dev *dev = dev_new(driver);
	struct gpuvm_bind_vm *vm, *ref;
	struct gpuvm_bind_batch *b = batch_of(ops, n);
	char *before, *want, *got;
	unsigned long fails = 0;

	test_alloc_init(&ta);
	for (uint32_t h = 1; h <= 3; h++)
		assert_int_equal(gpuvm_bind_bo_add(dev, h, 256 * PG, NULL), 0);
	vm = vm_new(dev, test_alloc_hooks(&ta));
	ref = vm_new(dev, NULL);
	assert_int_equal(apply_ops(vm, setup, nsetup), 0);
	assert_int_equal(apply_ops(ref, setup, nsetup), 0);
	assert_int_equal(gpuvm_bind_apply(ref, b), 0);
	want = vm_dump(ref);
	before = vm_dump(vm);
	for (unsigned long k = 1;; k++) {
		size_t live = ta.live - index_nodes(vm);
		int ret;

		test_alloc_fail_at(&ta, k);
		ret = gpuvm_bind_apply(vm, b);
		if (!ta.injected) {
			assert_int_equal(ret, 0);
			break;
		}
		fails++;
		if (ret != -ENOMEM)
			fail_msg("failure %lu: %d", k, ret);
		got = vm_dump(vm);
		if (strcmp(got, before))
			fail_msg("failure %lu changed the VM:\n%s---\n%s", k, before, got);
		free(got);
		/* the index may be shaped otherwise (and cache nodes); nothing else */
		if (ta.live - index_nodes(vm) != live)
			fail_msg("failure %lu: %zu allocations besides index nodes, were %zu", k,
				 ta.live - index_nodes(vm), live);
	}
	test_alloc_fail_at(&ta, 0);
	assert_true(fails > 5);
	got = vm_dump(vm);
	assert_string_equal(got, want);
	assert_int_equal(ta.errors, 0);
	free(got);
	free(want);
	free(before);
	gpuvm_bind_batch_destroy(b);
	gpuvm_bind_vm_destroy(vm);
	gpuvm_bind_vm_destroy(ref);
	assert_int_equal(ta.live, 0);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

static void test_alloc_ladder(void **state)
{
	(void)state;
	struct gpuvm_bind_op setup[200];
	size_t ns = 0;

	/* enough mappings for inner index nodes */
	for (uint64_t i = 0; i < 150; i++)
		setup[ns++] =
			M((uint32_t)(1 + i % 3), 0x1000000 + i * 4 * PG, 2 * PG, (i % 100) * PG);
	setup[ns++] = S(0x2000000, 64 * PG);
	{
		const struct gpuvm_bind_op ops[] = {
			M(1, 0x1000000 + PG, 6 * PG, 0), /* splits and replaces */
			U(0x1000000 + 20 * PG, 40 * PG),
			S(0x2000000 + 8 * PG, 8 * PG),
			M(2, 0x2000000 + 10 * PG, 2 * PG, 0), /* splits the NULL mapping */
			UB(3),
			P(1, 0x1000000, 0x100000),
			M(3, 0x3000000, 4 * PG, 0),
			U(0x3000000 + PG, PG),
		};
		ladder(GPUVM_BIND_XE, setup, ns, ops, N(ops));
	}
	ns = 150;
	setup[ns++] = S(0x2000000, 64 * PG);
	{
		const struct gpuvm_bind_op ops[] = {
			M(1, 0x1000000 + PG, 6 * PG, 0),
			U(0x1000000 + 20 * PG, 40 * PG),
			S(0x4000000, 8 * PG),
			M(2, 0x4000000 + 2 * PG, 2 * PG, 0),
			US(0x2000000, 64 * PG),
			S(0x2000000, 32 * PG),
			M(3, 0x3000000, 4 * PG, 0),
			U(0x3000000 + PG, PG),
		};
		ladder(GPUVM_BIND_NOUVEAU, setup, ns, ops, N(ops));
	}
}

/* ---- preview ---- */

static void test_preview(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
	struct gpuvm_bind_bo_delta d[4];
	size_t n;
	char *before, *after;

	for (uint32_t h = 1; h <= 4; h++)
		assert_int_equal(gpuvm_bind_bo_add(dev, h, 16 * PG, NULL), 0);
	assert_int_equal(apply1(vm, M(1, 0x100000, 8 * PG, 0)), 0);
	assert_int_equal(apply1(vm, M(2, 0x200000, PG, 0)), 0);
	assert_int_equal(apply1(vm, M(2, 0x300000, PG, 0)), 0);
	before = vm_dump(vm);
	{
		/*
		 * bo 1: split in three pieces by bo 3 (1 -> 2 mappings); bo 2:
		 * both mappings go (2 -> 0, a release); bo 3: 0 -> 1, a take;
		 * bo 4: untouched.
		 */
		const struct gpuvm_bind_op ops[] = {
			M(3, 0x100000 + 2 * PG, 2 * PG, 0),
			UB(2),
		};
		struct gpuvm_bind_batch *b = batch_of(ops, N(ops));

		assert_int_equal(gpuvm_bind_preview(vm, b, d, N(d), &n), 0);
		assert_int_equal(n, 3);
		assert_int_equal(d[0].bo, 1);
		assert_int_equal(d[0].handle, 1);
		assert_int_equal(d[0].mappings_before, 1);
		assert_int_equal(d[0].mappings_after, 2);
		assert_int_equal(d[1].bo, 2);
		assert_int_equal(d[1].mappings_before, 2);
		assert_int_equal(d[1].mappings_after, 0);
		assert_int_equal(d[2].bo, 3);
		assert_int_equal(d[2].mappings_before, 0);
		assert_int_equal(d[2].mappings_after, 1);
		/* too small: -ENOSPC, the first filled */
		memset(d, 0, sizeof(d));
		assert_int_equal(gpuvm_bind_preview(vm, b, d, 1, &n), -ENOSPC);
		assert_int_equal(n, 3);
		assert_int_equal(d[0].bo, 1);
		assert_int_equal(d[1].bo, 0);
		assert_int_equal(gpuvm_bind_preview(vm, b, NULL, 0, &n), -ENOSPC);
		assert_int_equal(gpuvm_bind_preview(vm, b, NULL, 1, &n), -EINVAL);
		assert_int_equal(gpuvm_bind_preview(vm, b, d, 1, NULL), -EINVAL);
		gpuvm_bind_batch_destroy(b);
	}
	{
		/* map and unmap again in one batch: counts unchanged but listed */
		const struct gpuvm_bind_op ops[] = {
			M(4, 0x500000, PG, 0),
			U(0x500000, PG),
			P(0, 0x100000, PG),
		};
		struct gpuvm_bind_batch *b = batch_of(ops, N(ops));

		assert_int_equal(gpuvm_bind_preview(vm, b, d, N(d), &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(d[0].bo, 4);
		assert_int_equal(d[0].mappings_before, 0);
		assert_int_equal(d[0].mappings_after, 0);
		gpuvm_bind_batch_destroy(b);
	}
	{
		/* an invalid batch: check's error */
		const struct gpuvm_bind_op ops[] = { M(9, 0x500000, PG, 0) };
		struct gpuvm_bind_batch *b = batch_of(ops, N(ops));

		assert_int_equal(gpuvm_bind_preview(vm, b, d, N(d), &n), -ENOENT);
		gpuvm_bind_batch_destroy(b);
	}
	after = vm_dump(vm);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* a closed handle reports 0 */
	assert_int_equal(gpuvm_bind_bo_remove(dev, 2), 0);
	before = vm_dump(vm);
	{
		const struct gpuvm_bind_op ops[] = { U(0x200000, PG) };
		struct gpuvm_bind_batch *b = batch_of(ops, N(ops));

		assert_int_equal(gpuvm_bind_preview(vm, b, d, N(d), &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(d[0].bo, 2);
		assert_int_equal(d[0].handle, 0);
		assert_int_equal(d[0].mappings_before, 2);
		assert_int_equal(d[0].mappings_after, 1);
		gpuvm_bind_batch_destroy(b);
	}
	after = vm_dump(vm);
	assert_string_equal(before, after);
	free(before);
	free(after);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);

	/* nouveau: a region rule's -ENOSPC comes with *n = 0, a small cap's with *n > cap */
	dev = dev_new(GPUVM_BIND_NOUVEAU);
	vm = vm_new(dev, NULL);
	assert_int_equal(apply1(vm, S(0x500000, 16 * PG)), 0);
	{
		const struct gpuvm_bind_op ops[] = { S(0x500000 + PG, PG) };
		struct gpuvm_bind_batch *b = batch_of(ops, N(ops));

		n = 7;
		assert_int_equal(gpuvm_bind_preview(vm, b, d, N(d), &n), -ENOSPC);
		assert_int_equal(n, 0);
		gpuvm_bind_batch_destroy(b);
	}
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* ---- queries on sparse images ---- */

static int stop_at_second(void *data, const struct gpuvm_bind_mapping *m)
{
	int *n = data;

	(void)m;
	return ++*n == 2 ? 42 : 0;
}

static void test_queries_xe(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
	struct gpuvm_bind_residency res;
	struct gpuvm_bind_mapping m;
	struct collect c = { .n = 0 };
	int cnt = 0;

	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 16 * PG, NULL), 0);
	/* a NULL mapping of 16 pages, split by page binds at pages 3, 4, 10 */
	assert_int_equal(apply1(vm, mkop(GPUVM_BIND_OP_MAP_SPARSE, GPUVM_BIND_DUMPABLE, 0, 0,
					 0x100000, 16 * PG, 0)),
			 0);
	assert_int_equal(apply1(vm, M(1, 0x100000 + 3 * PG, PG, 0)), 0);
	assert_int_equal(apply1(vm, M(1, 0x100000 + 4 * PG, PG, PG)), 0);
	assert_int_equal(apply1(vm, MF(1, 0, 5, 0x100000 + 10 * PG, PG, 7 * PG)), 0);
	{
		const struct want w[] = {
			{ 0x100000, 3 * PG, 0, 0, SPARSE | GPUVM_BIND_DUMPABLE, 0 },
			{ 0x100000 + 3 * PG, PG, 0, 1, 0, 0 },
			{ 0x100000 + 4 * PG, PG, PG, 1, 0, 0 },
			{ 0x100000 + 5 * PG, 5 * PG, 5 * PG, 0, SPARSE | GPUVM_BIND_DUMPABLE, 0 },
			{ 0x100000 + 10 * PG, PG, 7 * PG, 1, 0, 5 },
			{ 0x100000 + 11 * PG, 5 * PG, 11 * PG, 0, SPARSE | GPUVM_BIND_DUMPABLE, 0 },
		};
		expect_maps(vm, w, N(w));
	}
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 10 * PG + 5, &m), 0);
	assert_int_equal(m.addr, 0x100000 + 10 * PG);
	assert_int_equal(m.bo, 1);
	assert_int_equal(m.handle, 1);
	assert_int_equal(m.driver_arg, 5);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 12 * PG, &m), 0);
	assert_int_equal(m.bo, 0);
	assert_int_equal(m.handle, 0);
	assert_int_equal(m.flags, SPARSE | GPUVM_BIND_DUMPABLE);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 16 * PG, &m), -ENOENT);
	assert_int_equal(gpuvm_bind_lookup(vm, 0, &m), -ENOENT);
	assert_int_equal(gpuvm_bind_lookup(NULL, 0, &m), -EINVAL);
	assert_int_equal(gpuvm_bind_lookup(vm, 0, NULL), -EINVAL);

	/* residency: whole, and a window cutting mappings at both ends */
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 16 * PG, &res), 0);
	assert_int_equal(res.bound, 3 * PG);
	assert_int_equal(res.sparse, 13 * PG);
	assert_int_equal(res.unmapped, 0);
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000 + 2 * PG + 8, 20 * PG, &res), 0);
	assert_int_equal(res.bound, 3 * PG);
	assert_int_equal(res.sparse, 11 * PG - 8);
	assert_int_equal(res.unmapped, 6 * PG + 8);
	assert_int_equal(gpuvm_bind_residency(vm, 0, 0, &res), -EINVAL);
	assert_int_equal(gpuvm_bind_residency(vm, UINT64_MAX, 2, &res), -EINVAL);
	assert_int_equal(gpuvm_bind_residency(vm, 0, PG, NULL), -EINVAL);

	/* for_each: overlap, order, early stop */
	assert_int_equal(gpuvm_bind_for_each(vm, 0x100000 + 3 * PG + 1, 2 * PG, collect_one, &c),
			 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.m[0].addr, 0x100000 + 3 * PG);
	assert_int_equal(c.m[2].addr, 0x100000 + 5 * PG);
	assert_int_equal(gpuvm_bind_for_each(vm, 0, 1ull << 48, stop_at_second, &cnt), 42);
	assert_int_equal(cnt, 2);
	assert_int_equal(gpuvm_bind_for_each(vm, 0, 0, collect_one, &c), -EINVAL);
	assert_int_equal(gpuvm_bind_for_each(vm, UINT64_MAX, 2, collect_one, &c), -EINVAL);
	assert_int_equal(gpuvm_bind_for_each(vm, 0, 1, NULL, &c), -EINVAL);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

static void test_queries_nouveau(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_NOUVEAU);
	struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
	struct gpuvm_bind_residency res;
	struct gpuvm_bind_mapping m;

	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 16 * PG, NULL), 0);
	/* two regions; page maps in the first, one map straddling nothing */
	const struct gpuvm_bind_op ops[] = {
		S(0x100000, 16 * PG),
		S(0x100000 + 32 * PG, 8 * PG),
		M(1, 0x100000 + 2 * PG, 4 * PG, 0),
		M(1, 0x100000 + 20 * PG, 2 * PG, 0),
		U(0x100000 + 3 * PG, PG),
	};
	assert_int_equal(apply_ops(vm, ops, N(ops)), 0);
	/* inside a region without mapping: nothing mapped */
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000, &m), -ENOENT);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 2 * PG, &m), 0);
	assert_int_equal(m.range, PG);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 3 * PG, &m), -ENOENT);
	/* [0x100000, +40 pages): 3 + 2 bound, 13 + 8 sparse, the rest unmapped */
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 40 * PG, &res), 0);
	assert_int_equal(res.bound, 5 * PG);
	assert_int_equal(res.sparse, 21 * PG);
	assert_int_equal(res.unmapped, 14 * PG);
	/* a window starting inside the first region and ending in the second */
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000 + 4 * PG, 30 * PG, &res), 0);
	assert_int_equal(res.bound, 4 * PG);
	assert_int_equal(res.sparse, 10 * PG + 2 * PG);
	assert_int_equal(res.unmapped, 14 * PG);
	/* drop the first region: its maps go, the outside one stays */
	assert_int_equal(apply1(vm, US(0x100000, 16 * PG)), 0);
	assert_int_equal(gpuvm_bind_residency(vm, 0x100000, 40 * PG, &res), 0);
	assert_int_equal(res.bound, 2 * PG);
	assert_int_equal(res.sparse, 8 * PG);
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* ---- object lifetime ---- */

static void test_bo_lifetime(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct gpuvm_bind_vm *vm = vm_new(dev, NULL);
	struct gpuvm_bind_mapping m;
	uint64_t seq;

	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 4 * PG, &seq), 0);
	assert_int_equal(apply1(vm, M(1, 0x100000, 4 * PG, 0)), 0);
	/* closed: the mapping keeps the object; the handle is free again */
	assert_int_equal(gpuvm_bind_bo_remove(dev, 1), 0);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000, &m), 0);
	assert_int_equal(m.bo, seq);
	assert_int_equal(m.handle, 0);
	assert_int_equal(gpuvm_bind_bo_add(dev, 1, PG, NULL), 0);
	assert_int_equal(apply1(vm, M(1, 0x200000, PG, 0)), 0);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x200000, &m), 0);
	assert_int_equal(m.bo, seq + 1);
	assert_int_equal(m.handle, 1);
	/* unmap_bo of the new handle leaves the old object's mapping */
	assert_int_equal(apply1(vm, UB(1)), 0);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000, &m), 0);
	/* split the closed object's mapping: the pieces keep it too */
	assert_int_equal(apply1(vm, U(0x100000 + PG, PG)), 0);
	assert_int_equal(gpuvm_bind_lookup(vm, 0x100000 + 2 * PG, &m), 0);
	assert_int_equal(m.bo, seq);
	assert_int_equal(m.offset, 2 * PG);
	/* destroy with mappings of a closed object: no leak (asan) */
	gpuvm_bind_vm_destroy(vm);
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

/* ---- the device from several threads ---- */

struct thr {
	struct gpuvm_bind_dev *dev;
	uint32_t base;
	int errors;
};

static void *thr_main(void *p)
{
	struct thr *t = p;
	struct gpuvm_bind_vm *vm;

	GPUVM_OPTS(gpuvm_bind_vm_opts, o, .range = 1ull << 48);
	if (gpuvm_bind_vm_create(t->dev, &o, &vm)) {
		t->errors++;
		return NULL;
	}
	for (uint32_t i = 0; i < 200; i++) {
		uint32_t h = t->base + i;
		struct gpuvm_bind_op ops[3] = {
			M(h, 0x100000 + (uint64_t)i * 4 * PG, 2 * PG, 0),
			M(1, 0x10000000 + (uint64_t)i * 4 * PG, PG, 0), /* the shared object */
			U(0x100000 + (uint64_t)i * 4 * PG, PG),
		};
		struct gpuvm_bind_batch *b;

		if (gpuvm_bind_bo_add(t->dev, h, 2 * PG, NULL) ||
		    gpuvm_bind_batch_create(NULL, &b)) {
			t->errors++;
			break;
		}
		for (int k = 0; k < 3; k++)
			t->errors += gpuvm_bind_batch_add(b, &ops[k]) != 0;
		t->errors += gpuvm_bind_apply(vm, b) != 0;
		gpuvm_bind_batch_destroy(b);
		t->errors += gpuvm_bind_bo_remove(t->dev, h) != 0;
		if (i % 50 == 49) {
			const struct gpuvm_bind_op ub = UB(1);

			t->errors += apply1(vm, ub) != 0;
		}
	}
	gpuvm_bind_vm_destroy(vm);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct gpuvm_bind_dev *dev = dev_new(GPUVM_BIND_XE);
	struct thr t[3];
	pthread_t th[3];

	assert_int_equal(gpuvm_bind_bo_add(dev, 1, 4 * PG, NULL), 0);
	for (int i = 0; i < 3; i++) {
		t[i] = (struct thr){ .dev = dev, .base = 1000 * (uint32_t)(i + 1) };
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &t[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].errors, 0);
	}
	assert_int_equal(gpuvm_bind_dev_destroy(dev), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dev_and_bos),   cmocka_unit_test(test_xe_apply),
		cmocka_unit_test(test_nouveau_apply), cmocka_unit_test(test_check_refusals),
		cmocka_unit_test(test_missing_caps),  cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_alloc_ladder),  cmocka_unit_test(test_preview),
		cmocka_unit_test(test_queries_xe),    cmocka_unit_test(test_queries_nouveau),
		cmocka_unit_test(test_bo_lifetime),   cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
