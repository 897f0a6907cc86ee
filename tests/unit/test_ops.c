/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the split/merge engine: the ops of map, unmap, madvise,
 * prefetch and bo_unmap requests on hand-computed cases (the kernel's
 * semantics), list mode against callback mode, applying the ops (list mode
 * and inside the callbacks), the callbacks' error handling, the apply
 * helpers' errors, and driver-allocated ops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>
#include "index.h"

#include "test_util.h"

#define GEM_SIZE 0x10000000ull

struct fx;

/* Records the ops of callback mode; optionally fails or applies them. */
struct rec {
	struct test_str s;
	unsigned int n;          /* deliveries */
	unsigned int maps, remaps, unmaps;
	unsigned int fail_at;    /* 1-based delivery that returns fail_ret */
	int fail_ret;
	bool apply;              /* apply each op to the tree */
	bool link;               /* ... and keep the vm_bo links right */
	struct fx *f;
};

struct fx {
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem a, b;
	struct va_pool pool;
};

static void apply_op(struct fx *f, const struct gpuva_op *op, bool link);

static int rec_op(struct gpuva_op *op, void *priv)
{
	struct rec *r = priv;

	r->n++;
	if (r->s.len)
		test_str_printf(&r->s, "; ");
	test_dump_op(&r->s, op);
	if (r->fail_at && r->n == r->fail_at)
		return r->fail_ret;
	if (r->apply)
		apply_op(r->f, op, r->link);
	return 0;
}

static int rec_map(struct gpuva_op *op, void *priv)
{
	assert_int_equal(op->op, GPUVA_OP_MAP);
	((struct rec *)priv)->maps++;
	return rec_op(op, priv);
}

static int rec_remap(struct gpuva_op *op, void *priv)
{
	assert_int_equal(op->op, GPUVA_OP_REMAP);
	assert_non_null(op->remap.unmap);
	((struct rec *)priv)->remaps++;
	return rec_op(op, priv);
}

static int rec_unmap(struct gpuva_op *op, void *priv)
{
	assert_int_equal(op->op, GPUVA_OP_UNMAP);
	((struct rec *)priv)->unmaps++;
	return rec_op(op, priv);
}

static const struct gpuvm_ops rec_ops = {
	.sz = sizeof(rec_ops),
	.sm_step_map = rec_map,
	.sm_step_remap = rec_remap,
	.sm_step_unmap = rec_unmap,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	test_alloc_init(&f->ta);
	/* the reserve is far from where the cases map */
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "ops", .start = 0,
		   .range = 1ull << 40, .reserve_addr = 1ull << 39,
		   .reserve_range = 0x100000, .ops = &rec_ops,
		   .alloc = test_alloc_hooks(&f->ta));
	if (gpuvm_init(&f->vm, &opts))
		return -1;
	if (test_gem_init(&f->a, "A", GEM_SIZE) || test_gem_init(&f->b, "B", GEM_SIZE))
		return -1;
	va_pool_init(&f->pool, 1 << 14);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	/* removed mappings that stayed linked (nolink applies) */
	for (size_t i = 0; i < f->pool.n; i++) {
		struct gpuva *va = &f->pool.v[i];

		if (gpuva_vm_bo(va) && !va_inserted(va))
			assert_ret(gpuva_unlink(va), 0);
	}
	tvm_fini(&f->vm, &f->ta);
	va_pool_fini(&f->pool);
	gpuvm_gem_put(&f->a.base);
	gpuvm_gem_put(&f->b.base);
	assert_int_equal(f->a.frees, 1);
	assert_int_equal(f->b.frees, 1);
	free(f);
	return 0;
}

static struct gpuvm_gem *gem_of(struct fx *f, int which)
{
	return which == 1 ? &f->a.base : which == 2 ? &f->b.base : NULL;
}

static void link_to(struct gpuvm *vm, struct gpuva *va, struct gpuvm_gem *obj)
{
	struct gpuvm_bo *bo;

	assert_ret(gpuvm_bo_obtain(vm, obj, &bo), 0);
	assert_ret(gpuva_link(va, bo), 0);
	gpuvm_bo_put(bo);
}

/*
 * Apply one op the way a driver does: new mappings for map and the remap
 * pieces, the old mapping's links moved to the pieces, then unlinked.
 */
static void apply_op(struct fx *f, const struct gpuva_op *op, bool link)
{
	switch (op->op) {
	case GPUVA_OP_MAP: {
		struct gpuva *va = va_pool_get(&f->pool);

		assert_ret(gpuva_map(&f->vm, va, &op->map), 0);
		assert_ptr_equal(va->vm, &f->vm);
		assert_true(va_inserted(va));
		assert_int_equal(va->va.addr, op->map.va.addr);
		assert_int_equal(va->va.range, op->map.va.range);
		assert_int_equal(va->gem.offset, op->map.gem.offset);
		assert_ptr_equal(gpuva_gem(va), op->map.gem.obj);
		if (link && op->map.gem.obj)
			link_to(&f->vm, va, op->map.gem.obj);
		break;
	}
	case GPUVA_OP_REMAP: {
		struct gpuva *old = op->remap.unmap->va;
		struct gpuvm_bo *bo = gpuva_vm_bo(old);
		struct gpuva *prev = op->remap.prev ? va_pool_get(&f->pool) : NULL;
		struct gpuva *next = op->remap.next ? va_pool_get(&f->pool) : NULL;

		assert_ret(gpuva_remap(prev, next, &op->remap), 0);
		assert_false(va_inserted(old));
		/* removed, not unlinked: that is the caller's */
		assert_ptr_equal(gpuva_vm_bo(old), bo);
		if (prev) {
			assert_ptr_equal(prev->vm, &f->vm);
			assert_int_equal(prev->va.addr, op->remap.prev->va.addr);
			assert_int_equal(prev->va.range, op->remap.prev->va.range);
			assert_int_equal(prev->gem.offset, op->remap.prev->gem.offset);
			assert_ptr_equal(gpuva_gem(prev), op->remap.prev->gem.obj);
		}
		if (next) {
			assert_ptr_equal(next->vm, &f->vm);
			assert_int_equal(next->va.addr, op->remap.next->va.addr);
			assert_int_equal(next->va.range, op->remap.next->va.range);
			assert_int_equal(next->gem.offset, op->remap.next->gem.offset);
			assert_ptr_equal(gpuva_gem(next), op->remap.next->gem.obj);
		}
		if (link && bo) {
			if (prev)
				assert_ret(gpuva_link(prev, bo), 0);
			if (next)
				assert_ret(gpuva_link(next, bo), 0);
			assert_ret(gpuva_unlink(old), 0);
		}
		break;
	}
	case GPUVA_OP_UNMAP:
		assert_ret(gpuva_unmap(&op->unmap), 0);
		assert_false(va_inserted(op->unmap.va));
		if (link && gpuva_vm_bo(op->unmap.va))
			assert_ret(gpuva_unlink(op->unmap.va), 0);
		break;
	case GPUVA_OP_PREFETCH:
		assert_ptr_equal(op->prefetch.va->vm, &f->vm);
		break;
	default:
		fail_msg("unexpected op type %d", (int)op->op);
	}
}

/* The mappings of the VM in order, "addr+range obj@offset | ...". */
static char *layout(struct gpuvm *vm, bool check_links)
{
	struct test_str b = { 0 };
	struct gpuva *va;

	gpuvm_for_each_va(va, vm) {
		if (b.len)
			test_str_printf(&b, " | ");
		test_str_printf(&b, "0x%llx+0x%llx ", (unsigned long long)va->va.addr,
				(unsigned long long)va->va.range);
		test_dump_obj(&b, gpuva_gem(va));
		test_str_printf(&b, "@0x%llx", (unsigned long long)va->gem.offset);
		if (check_links && gpuva_gem(va)) {
			struct gpuvm_bo *bo = gpuva_vm_bo(va);

			assert_non_null(bo);
			assert_ptr_equal(bo->vm, vm);
			assert_ptr_equal(bo->obj, gpuva_gem(va));
		}
	}
	return test_str_take(&b);
}

/* ---- the cases ---- */

struct mspec {
	uint64_t addr, range;
	int obj; /* 0: sparse, 1: A, 2: B */
	uint64_t off;
};

enum kind { K_MAP, K_UNMAP, K_MADVISE, K_PREFETCH };

struct tcase {
	const char *name;
	struct mspec m[8]; /* ends at the first range 0 */
	enum kind kind;
	struct mspec req;
	const char *ops;
	const char *final;
};

#define P(n) ((uint64_t)(n) * PG)

static const struct tcase cases[] = {
	/* map */
	{ "equal, same object and offset: unmap keep=1 + map",
	  { { P(1), P(1), 1, 0 } }, K_MAP, { P(1), P(1), 1, 0 },
	  "unmap(0x1000+0x1000 A@0x0 keep=1); map 0x1000+0x1000 A@0x0",
	  "0x1000+0x1000 A@0x0" },
	{ "equal, other object",
	  { { P(1), P(1), 1, 0 } }, K_MAP, { P(1), P(1), 2, 0 },
	  "unmap(0x1000+0x1000 A@0x0 keep=0); map 0x1000+0x1000 B@0x0",
	  "0x1000+0x1000 B@0x0" },
	{ "equal, same object, other offset",
	  { { P(1), P(1), 1, 0 } }, K_MAP, { P(1), P(1), 1, P(1) },
	  "unmap(0x1000+0x1000 A@0x0 keep=0); map 0x1000+0x1000 A@0x1000",
	  "0x1000+0x1000 A@0x1000" },
	{ "subset, same object: remap prev+next keep=1",
	  { { 0, P(4), 1, 0 } }, K_MAP, { P(1), P(2), 1, P(1) },
	  "remap(0x0+0x4000 A@0x0 keep=1: prev=0x0+0x1000 A@0x0 next=0x3000+0x1000 A@0x3000); "
	  "map 0x1000+0x2000 A@0x1000",
	  "0x0+0x1000 A@0x0 | 0x1000+0x2000 A@0x1000 | 0x3000+0x1000 A@0x3000" },
	{ "subset, other object",
	  { { 0, P(4), 1, 0 } }, K_MAP, { P(1), P(2), 2, 0 },
	  "remap(0x0+0x4000 A@0x0 keep=0: prev=0x0+0x1000 A@0x0 next=0x3000+0x1000 A@0x3000); "
	  "map 0x1000+0x2000 B@0x0",
	  "0x0+0x1000 A@0x0 | 0x1000+0x2000 B@0x0 | 0x3000+0x1000 A@0x3000" },
	{ "subset, same object, offset not contiguous",
	  { { 0, P(4), 1, 0 } }, K_MAP, { P(1), P(2), 1, 0 },
	  "remap(0x0+0x4000 A@0x0 keep=0: prev=0x0+0x1000 A@0x0 next=0x3000+0x1000 A@0x3000); "
	  "map 0x1000+0x2000 A@0x0",
	  "0x0+0x1000 A@0x0 | 0x1000+0x2000 A@0x0 | 0x3000+0x1000 A@0x3000" },
	{ "superset, same object",
	  { { P(1), P(2), 1, P(1) } }, K_MAP, { 0, P(4), 1, 0 },
	  "unmap(0x1000+0x2000 A@0x1000 keep=1); map 0x0+0x4000 A@0x0",
	  "0x0+0x4000 A@0x0" },
	{ "superset, same object, offset not contiguous",
	  { { P(1), P(1), 1, 0 } }, K_MAP, { 0, P(4), 1, 0 },
	  "unmap(0x1000+0x1000 A@0x0 keep=0); map 0x0+0x4000 A@0x0",
	  "0x0+0x4000 A@0x0" },
	{ "overlaps the left mapping, same object",
	  { { 0, P(2), 1, 0 } }, K_MAP, { P(1), P(2), 1, P(1) },
	  "remap(0x0+0x2000 A@0x0 keep=1: prev=0x0+0x1000 A@0x0 next=-); "
	  "map 0x1000+0x2000 A@0x1000",
	  "0x0+0x1000 A@0x0 | 0x1000+0x2000 A@0x1000" },
	{ "overlaps the left mapping, other object",
	  { { 0, P(2), 1, 0 } }, K_MAP, { P(1), P(2), 2, P(1) },
	  "remap(0x0+0x2000 A@0x0 keep=0: prev=0x0+0x1000 A@0x0 next=-); "
	  "map 0x1000+0x2000 B@0x1000",
	  "0x0+0x1000 A@0x0 | 0x1000+0x2000 B@0x1000" },
	{ "overlaps the right mapping, same object",
	  { { P(2), P(2), 1, P(2) } }, K_MAP, { P(1), P(2), 1, P(1) },
	  "remap(0x2000+0x2000 A@0x2000 keep=1: prev=- next=0x3000+0x1000 A@0x3000); "
	  "map 0x1000+0x2000 A@0x1000",
	  "0x1000+0x2000 A@0x1000 | 0x3000+0x1000 A@0x3000" },
	{ "overlaps the right mapping, other object",
	  { { P(2), P(2), 1, P(2) } }, K_MAP, { P(1), P(2), 2, 0 },
	  "remap(0x2000+0x2000 A@0x2000 keep=0: prev=- next=0x3000+0x1000 A@0x3000); "
	  "map 0x1000+0x2000 B@0x0",
	  "0x1000+0x2000 B@0x0 | 0x3000+0x1000 A@0x3000" },
	{ "same start, mapping longer",
	  { { P(1), P(3), 1, 0 } }, K_MAP, { P(1), P(1), 1, 0 },
	  "remap(0x1000+0x3000 A@0x0 keep=1: prev=- next=0x2000+0x2000 A@0x1000); "
	  "map 0x1000+0x1000 A@0x0",
	  "0x1000+0x1000 A@0x0 | 0x2000+0x2000 A@0x1000" },
	{ "same start, mapping shorter",
	  { { P(1), P(1), 1, 0 } }, K_MAP, { P(1), P(3), 1, 0 },
	  "unmap(0x1000+0x1000 A@0x0 keep=1); map 0x1000+0x3000 A@0x0",
	  "0x1000+0x3000 A@0x0" },
	{ "same end, mapping starts before",
	  { { 0, P(3), 1, 0 } }, K_MAP, { P(1), P(2), 1, P(1) },
	  "remap(0x0+0x3000 A@0x0 keep=1: prev=0x0+0x1000 A@0x0 next=-); "
	  "map 0x1000+0x2000 A@0x1000",
	  "0x0+0x1000 A@0x0 | 0x1000+0x2000 A@0x1000" },
	{ "same end, mapping starts after",
	  { { P(2), P(1), 1, P(2) } }, K_MAP, { P(1), P(2), 1, P(1) },
	  "unmap(0x2000+0x1000 A@0x2000 keep=1); map 0x1000+0x2000 A@0x1000",
	  "0x1000+0x2000 A@0x1000" },
	{ "three mappings: remap, unmap, remap, map",
	  { { 0, P(2), 1, 0 }, { P(2), P(2), 2, 0 }, { P(4), P(2), 1, P(4) } },
	  K_MAP, { P(1), P(4), 1, P(1) },
	  "remap(0x0+0x2000 A@0x0 keep=1: prev=0x0+0x1000 A@0x0 next=-); "
	  "unmap(0x2000+0x2000 B@0x0 keep=0); "
	  "remap(0x4000+0x2000 A@0x4000 keep=1: prev=- next=0x5000+0x1000 A@0x5000); "
	  "map 0x1000+0x4000 A@0x1000",
	  "0x0+0x1000 A@0x0 | 0x1000+0x4000 A@0x1000 | 0x5000+0x1000 A@0x5000" },
	{ "five mappings inside the request",
	  { { P(1), P(1), 1, P(1) }, { P(2), P(1), 1, P(2) }, { P(3), P(1), 1, P(3) },
	    { P(4), P(1), 2, 0 }, { P(5), P(1), 0, 0 } },
	  K_MAP, { P(1), P(5), 1, P(1) },
	  "unmap(0x1000+0x1000 A@0x1000 keep=1); unmap(0x2000+0x1000 A@0x2000 keep=1); "
	  "unmap(0x3000+0x1000 A@0x3000 keep=1); unmap(0x4000+0x1000 B@0x0 keep=0); "
	  "unmap(0x5000+0x1000 -@0x0 keep=0); map 0x1000+0x5000 A@0x1000",
	  "0x1000+0x5000 A@0x1000" },
	{ "sparse mapping split by an object request, offsets carried",
	  { { 0, P(4), 0, 0x100 } }, K_MAP, { P(1), P(2), 1, 0 },
	  "remap(0x0+0x4000 -@0x100 keep=0: prev=0x0+0x1000 -@0x100 next=0x3000+0x1000 -@0x3100); "
	  "map 0x1000+0x2000 A@0x0",
	  "0x0+0x1000 -@0x100 | 0x1000+0x2000 A@0x0 | 0x3000+0x1000 -@0x3100" },
	{ "sparse over sparse, equal: never kept",
	  { { P(1), P(1), 0, 0 } }, K_MAP, { P(1), P(1), 0, 0 },
	  "unmap(0x1000+0x1000 -@0x0 keep=0); map 0x1000+0x1000 -@0x0",
	  "0x1000+0x1000 -@0x0" },
	{ "sparse inside sparse",
	  { { 0, P(4), 0, 0 } }, K_MAP, { P(1), P(2), 0, 0 },
	  "remap(0x0+0x4000 -@0x0 keep=0: prev=0x0+0x1000 -@0x0 next=0x3000+0x1000 -@0x3000); "
	  "map 0x1000+0x2000 -@0x0",
	  "0x0+0x1000 -@0x0 | 0x1000+0x2000 -@0x0 | 0x3000+0x1000 -@0x3000" },
	{ "sparse request inside an object mapping",
	  { { 0, P(4), 1, 0 } }, K_MAP, { P(1), P(2), 0, 0 },
	  "remap(0x0+0x4000 A@0x0 keep=0: prev=0x0+0x1000 A@0x0 next=0x3000+0x1000 A@0x3000); "
	  "map 0x1000+0x2000 -@0x0",
	  "0x0+0x1000 A@0x0 | 0x1000+0x2000 -@0x0 | 0x3000+0x1000 A@0x3000" },
	{ "sparse, same start, carried offset",
	  { { P(1), P(3), 0, 0x10 } }, K_MAP, { P(1), P(1), 2, 0 },
	  "remap(0x1000+0x3000 -@0x10 keep=0: prev=- next=0x2000+0x2000 -@0x1010); "
	  "map 0x1000+0x1000 B@0x0",
	  "0x1000+0x1000 B@0x0 | 0x2000+0x2000 -@0x1010" },
	{ "sparse, starts inside, carried offset",
	  { { P(2), P(2), 0, 0x20 } }, K_MAP, { P(1), P(2), 1, 0 },
	  "remap(0x2000+0x2000 -@0x20 keep=0: prev=- next=0x3000+0x1000 -@0x1020); "
	  "map 0x1000+0x2000 A@0x0",
	  "0x1000+0x2000 A@0x0 | 0x3000+0x1000 -@0x1020" },
	{ "empty VM: map only",
	  { { 0 } }, K_MAP, { P(1), P(1), 1, 0 },
	  "map 0x1000+0x1000 A@0x0",
	  "0x1000+0x1000 A@0x0" },
	{ "touching neighbours are left alone (no merging)",
	  { { 0, P(1), 1, 0 }, { P(2), P(1), 1, P(2) } }, K_MAP, { P(1), P(1), 1, P(1) },
	  "map 0x1000+0x1000 A@0x1000",
	  "0x0+0x1000 A@0x0 | 0x1000+0x1000 A@0x1000 | 0x2000+0x1000 A@0x2000" },

	/* unmap */
	{ "unmap inside: remap with both pieces, keep=0",
	  { { 0, P(4), 1, 0 } }, K_UNMAP, { P(1), P(2), 0, 0 },
	  "remap(0x0+0x4000 A@0x0 keep=0: prev=0x0+0x1000 A@0x0 next=0x3000+0x1000 A@0x3000)",
	  "0x0+0x1000 A@0x0 | 0x3000+0x1000 A@0x3000" },
	{ "unmap over three",
	  { { 0, P(2), 1, 0 }, { P(2), P(2), 2, 0 }, { P(4), P(2), 1, P(4) } },
	  K_UNMAP, { P(1), P(4), 0, 0 },
	  "remap(0x0+0x2000 A@0x0 keep=0: prev=0x0+0x1000 A@0x0 next=-); "
	  "unmap(0x2000+0x2000 B@0x0 keep=0); "
	  "remap(0x4000+0x2000 A@0x4000 keep=0: prev=- next=0x5000+0x1000 A@0x5000)",
	  "0x0+0x1000 A@0x0 | 0x5000+0x1000 A@0x5000" },
	{ "unmap exact",
	  { { P(1), P(1), 1, 0 } }, K_UNMAP, { P(1), P(1), 0, 0 },
	  "unmap(0x1000+0x1000 A@0x0 keep=0)",
	  "" },
	{ "unmap a gap",
	  { { 0, P(1), 1, 0 }, { P(3), P(1), 1, 0 } }, K_UNMAP, { P(1), P(2), 0, 0 },
	  "",
	  "0x0+0x1000 A@0x0 | 0x3000+0x1000 A@0x0" },
	{ "unmap splits a sparse mapping, offsets carried",
	  { { 0, P(4), 0, 0x100 } }, K_UNMAP, { P(1), P(2), 0, 0 },
	  "remap(0x0+0x4000 -@0x100 keep=0: prev=0x0+0x1000 -@0x100 next=0x3000+0x1000 -@0x3100)",
	  "0x0+0x1000 -@0x100 | 0x3000+0x1000 -@0x3100" },
	{ "unmap the head and the tail",
	  { { P(1), P(3), 1, 0 }, { P(6), P(2), 2, P(1) } }, K_UNMAP, { P(1), P(6), 0, 0 },
	  "unmap(0x1000+0x3000 A@0x0 keep=0); "
	  "remap(0x6000+0x2000 B@0x1000 keep=0: prev=- next=0x7000+0x1000 B@0x2000)",
	  "0x7000+0x1000 B@0x2000" },

	/* madvise (requests carry no object) */
	{ "madvise inside a sparse mapping: remap + map",
	  { { 0, P(4), 0, 0 } }, K_MADVISE, { P(1), P(2), 0, 0 },
	  "remap(0x0+0x4000 -@0x0 keep=0: prev=0x0+0x1000 -@0x0 next=0x3000+0x1000 -@0x3000); "
	  "map 0x1000+0x2000 -@0x0",
	  "0x0+0x1000 -@0x0 | 0x1000+0x2000 -@0x0 | 0x3000+0x1000 -@0x3000" },
	{ "madvise leaves object mappings alone",
	  { { 0, P(4), 1, 0 } }, K_MADVISE, { P(1), P(2), 0, 0 },
	  "",
	  "0x0+0x4000 A@0x0" },
	{ "madvise over a whole sparse mapping: nothing, no unmap",
	  { { P(1), P(1), 0, 0 } }, K_MADVISE, { 0, P(4), 0, 0 },
	  "",
	  "0x1000+0x1000 -@0x0" },
	{ "madvise equal to a sparse mapping: nothing",
	  { { P(1), P(1), 0, 0 } }, K_MADVISE, { P(1), P(1), 0, 0 },
	  "",
	  "0x1000+0x1000 -@0x0" },
	{ "madvise cuts the tail of a sparse mapping",
	  { { 0, P(2), 0, 0 } }, K_MADVISE, { P(1), P(2), 0, 0 },
	  "remap(0x0+0x2000 -@0x0 keep=0: prev=0x0+0x1000 -@0x0 next=-); "
	  "map 0x1000+0x1000 -@0x0",
	  "0x0+0x1000 -@0x0 | 0x1000+0x1000 -@0x0" },
	{ "madvise cuts the head of a sparse mapping",
	  { { P(2), P(2), 0, 0x2000 } }, K_MADVISE, { P(1), P(2), 0, 0 },
	  "remap(0x2000+0x2000 -@0x2000 keep=0: prev=- next=0x3000+0x1000 -@0x3000); "
	  "map 0x2000+0x1000 -@0x0",
	  "0x2000+0x1000 -@0x0 | 0x3000+0x1000 -@0x3000" },
	{ "madvise at the start of a sparse mapping",
	  { { P(1), P(3), 0, 0 } }, K_MADVISE, { P(1), P(1), 0, 0 },
	  "remap(0x1000+0x3000 -@0x0 keep=0: prev=- next=0x2000+0x2000 -@0x1000); "
	  "map 0x1000+0x1000 -@0x0",
	  "0x1000+0x1000 -@0x0 | 0x2000+0x2000 -@0x1000" },
	{ "madvise at the end of a sparse mapping",
	  { { 0, P(2), 0, 0 } }, K_MADVISE, { P(1), P(1), 0, 0 },
	  "remap(0x0+0x2000 -@0x0 keep=0: prev=0x0+0x1000 -@0x0 next=-); "
	  "map 0x1000+0x1000 -@0x0",
	  "0x0+0x1000 -@0x0 | 0x1000+0x1000 -@0x0" },
	{ "madvise skips the object mapping, cuts the sparse one",
	  { { 0, P(2), 1, 0 }, { P(2), P(2), 0, 0 } }, K_MADVISE, { P(1), P(2), 0, 0 },
	  "remap(0x2000+0x2000 -@0x0 keep=0: prev=- next=0x3000+0x1000 -@0x1000); "
	  "map 0x2000+0x1000 -@0x0",
	  "0x0+0x2000 A@0x0 | 0x2000+0x1000 -@0x0 | 0x3000+0x1000 -@0x1000" },
	{ "madvise cuts two sparse mappings",
	  { { 0, P(2), 0, 0 }, { P(2), P(2), 0, 0 } }, K_MADVISE, { P(1), P(2), 0, 0 },
	  "remap(0x0+0x2000 -@0x0 keep=0: prev=0x0+0x1000 -@0x0 next=-); "
	  "map 0x1000+0x1000 -@0x0; "
	  "remap(0x2000+0x2000 -@0x0 keep=0: prev=- next=0x3000+0x1000 -@0x1000); "
	  "map 0x2000+0x1000 -@0x0",
	  "0x0+0x1000 -@0x0 | 0x1000+0x1000 -@0x0 | 0x2000+0x1000 -@0x0 | "
	  "0x3000+0x1000 -@0x1000" },
	{ "madvise over mixed mappings it covers: nothing",
	  { { 0, P(1), 1, 0 }, { P(1), P(1), 0, 0 }, { P(3), P(1), 2, 0 } },
	  K_MADVISE, { 0, P(4), 0, 0 },
	  "",
	  "0x0+0x1000 A@0x0 | 0x1000+0x1000 -@0x0 | 0x3000+0x1000 B@0x0" },
	{ "madvise in an empty range: nothing",
	  { { 0 } }, K_MADVISE, { P(1), P(2), 0, 0 },
	  "",
	  "" },

	/* prefetch */
	{ "prefetch every mapping overlapped, sparse included",
	  { { 0, P(2), 1, 0 }, { P(2), P(1), 0, 0 }, { P(4), P(1), 2, 0 } },
	  K_PREFETCH, { P(1), P(3) + 1, 0, 0 },
	  "prefetch(0x0+0x2000 A@0x0); prefetch(0x2000+0x1000 -@0x0); "
	  "prefetch(0x4000+0x1000 B@0x0)",
	  "0x0+0x2000 A@0x0 | 0x2000+0x1000 -@0x0 | 0x4000+0x1000 B@0x0" },
	{ "prefetch a gap",
	  { { 0, P(2), 1, 0 }, { P(4), P(1), 2, 0 } }, K_PREFETCH, { P(2), P(2), 0, 0 },
	  "",
	  "0x0+0x2000 A@0x0 | 0x4000+0x1000 B@0x0" },
	{ "prefetch one",
	  { { 0, P(2), 1, 0 }, { P(4), P(1), 2, 0 } }, K_PREFETCH, { 0, P(1), 0, 0 },
	  "prefetch(0x0+0x2000 A@0x0)",
	  "0x0+0x2000 A@0x0 | 0x4000+0x1000 B@0x0" },
};

static void populate(struct fx *f, const struct mspec *m, size_t max)
{
	tvm_clear(&f->vm);
	for (size_t i = 0; i < max && m[i].range; i++)
		insert_linked(&f->vm, va_pool_get(&f->pool), m[i].addr, m[i].range,
			      gem_of(f, m[i].obj), m[i].off);
}

static char *dump_noindex(struct fx *f)
{
	struct gpuvm_gem *extra[] = { &f->a.base, &f->b.base };

	return test_dump_vm_ex(&f->vm, extra, 2, TEST_DUMP_NO_INDEX);
}

static int create(struct fx *f, const struct tcase *c, struct gpuva_ops **out)
{
	GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = c->req.addr,
		   .map.va.range = c->req.range, .map.gem.obj = gem_of(f, c->req.obj),
		   .map.gem.offset = c->req.off);

	switch (c->kind) {
	case K_MAP:
		return gpuvm_sm_map_ops_create(&f->vm, &req, out);
	case K_MADVISE:
		return gpuvm_madvise_ops_create(&f->vm, &req, out);
	case K_UNMAP:
		return gpuvm_sm_unmap_ops_create(&f->vm, c->req.addr, c->req.range, out);
	case K_PREFETCH:
		return gpuvm_prefetch_ops_create(&f->vm, c->req.addr, c->req.range, out);
	}
	return -EINVAL;
}

static int callback(struct fx *f, const struct tcase *c, struct rec *r)
{
	GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = c->req.addr,
		   .map.va.range = c->req.range, .map.gem.obj = gem_of(f, c->req.obj),
		   .map.gem.offset = c->req.off);

	if (c->kind == K_MAP)
		return gpuvm_sm_map(&f->vm, r, &req);
	return gpuvm_sm_unmap(&f->vm, r, c->req.addr, c->req.range);
}

static size_t count_ops(const char *text)
{
	size_t n = *text ? 1 : 0;

	for (const char *p = text; (p = strstr(p, "; ")); p += 2)
		n++;
	return n;
}

static void run_case(struct fx *f, const struct tcase *c)
{
	struct gpuva_ops *ops = NULL;
	struct gpuva_op *op;
	char *before, *after, *text, *lay;
	size_t n, live0;
	unsigned int inserts;

	print_message("  case: %s\n", c->name);

	/* list mode: the ops, against an unchanged tree */
	populate(f, c->m, 8);
	gpuvm_index_trim(&f->vm);
	live0 = f->ta.live;
	before = dump_noindex(f);
	assert_ret(create(f, c, &ops), 0);
	assert_non_null(ops);
	text = test_dump_ops(ops);
	assert_ops_text(text, c->ops);
	n = 0;
	gpuva_for_each_op(op, ops)
		n++;
	assert_int_equal(ops->count, n);
	assert_int_equal(n, count_ops(c->ops));
	/* the list reserves what applying it inserts: maps and remap pieces */
	inserts = 0;
	gpuva_for_each_op(op, ops) {
		if (op->op == GPUVA_OP_MAP)
			inserts++;
		else if (op->op == GPUVA_OP_REMAP)
			inserts += (op->remap.prev != NULL) + (op->remap.next != NULL);
	}
	assert_int_equal(ops->reserved_, inserts);
	assert_true(f->vm.index.ncache >= gpuvm__index_need(&f->vm.index, inserts));
	assert_int_equal(f->vm.index.reserved, ops->reserved_);
	after = dump_noindex(f);
	assert_dump_equal(before, after);
	free(after);
	free(text);
	/* freeing gives everything back */
	gpuva_ops_free(&f->vm, ops);
	gpuvm_index_trim(&f->vm);
	assert_int_equal(f->ta.live, live0);
	after = dump_noindex(f);
	assert_dump_equal(before, after);
	free(after);

	/* list mode, applied */
	assert_ret(create(f, c, &ops), 0);
	gpuva_for_each_op(op, ops)
		apply_op(f, op, true);
	gpuva_ops_free(&f->vm, ops);
	lay = layout(&f->vm, true);
	assert_ops_text(lay, c->final);
	free(lay);
	assert_ret(gpuvm_verify(&f->vm), 0);

	if (c->kind == K_MAP || c->kind == K_UNMAP) {
		struct rec r = { .f = f };

		/* callback mode delivers the same ops in the same order */
		populate(f, c->m, 8);
		free(before);
		before = dump_noindex(f);
		assert_ret(callback(f, c, &r), 0);
		text = test_str_take(&r.s);
		assert_ops_text(text, c->ops);
		assert_int_equal(r.n, count_ops(c->ops));
		assert_int_equal(r.maps, c->kind == K_MAP ? 1 : 0);
		assert_true(r.remaps <= 2);
		free(text);
		after = dump_noindex(f);
		assert_dump_equal(before, after);
		free(after);

		/* and applying them inside the callbacks gives the same tree */
		r = (struct rec){ .f = f, .apply = true, .link = true };
		assert_ret(callback(f, c, &r), 0);
		test_str_free(&r.s);
		lay = layout(&f->vm, true);
		assert_ops_text(lay, c->final);
		free(lay);
		assert_ret(gpuvm_verify(&f->vm), 0);
	}
	free(before);
	tvm_clear(&f->vm);
}

static void hand_cases(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(f, &cases[i]);
}

/* A list's application must not allocate: its nodes are reserved. */
static void list_apply_does_not_allocate(void **state)
{
	struct fx *f = *state;
	struct gpuva_ops *ops;
	struct gpuva_op *op;
	struct gpuvm_stats st = { .sz = sizeof(st) };

	/* enough mappings for a tree of some height */
	for (unsigned int i = 0; i < 600; i++)
		insert_linked(&f->vm, va_pool_get(&f->pool), P(4 * i), P(2),
			      i % 3 ? &f->a.base : NULL, P(4 * i));
	assert_ret(gpuvm_stats(&f->vm, &st), 0);
	assert_true(st.height >= 2);

	for (unsigned int round = 0; round < 40; round++) {
		uint64_t at = P(4 * (round * 13 % 590)) + P(1);
		GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = at,
			   .map.va.range = P(1 + round % 9), .map.gem.obj = &f->b.base);

		gpuvm_index_trim(&f->vm);
		if (round % 2)
			assert_ret(gpuvm_sm_map_ops_create(&f->vm, &req, &ops), 0);
		else
			assert_ret(gpuvm_sm_unmap_ops_create(&f->vm, at, P(1 + round % 9), &ops), 0);
		test_alloc_forbid(&f->ta, true);
		gpuva_for_each_op(op, ops)
			apply_op(f, op, false);
		test_alloc_forbid(&f->ta, false);
		gpuva_ops_free(&f->vm, ops);
		assert_ret(gpuvm_verify(&f->vm), 0);
	}
}

/* Callback mode with gpuvm_index_reserve(): applying must not allocate. */
static void callback_apply_reserved(void **state)
{
	struct fx *f = *state;
	struct rec r = { .f = f, .apply = true, .link = false };

	for (unsigned int i = 0; i < 600; i++)
		insert_linked(&f->vm, va_pool_get(&f->pool), P(4 * i), P(2),
			      i % 2 ? &f->a.base : NULL, 0);
	for (unsigned int round = 0; round < 40; round++) {
		uint64_t at = P(4 * (round * 17 % 590)) + P(1);
		GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = at,
			   .map.va.range = P(1 + round % 7));

		gpuvm_index_trim(&f->vm);
		if (round % 2) {
			assert_ret(gpuvm_index_reserve(&f->vm, 3), 0);
			test_alloc_forbid(&f->ta, true);
			assert_ret(gpuvm_sm_map(&f->vm, &r, &req), 0);
			test_alloc_forbid(&f->ta, false);
			gpuvm_index_unreserve(&f->vm, 3);
		} else {
			assert_ret(gpuvm_index_reserve(&f->vm, 2), 0);
			test_alloc_forbid(&f->ta, true);
			assert_ret(gpuvm_sm_unmap(&f->vm, &r, at, P(1 + round % 7)), 0);
			test_alloc_forbid(&f->ta, false);
			gpuvm_index_unreserve(&f->vm, 2);
		}
		assert_ret(gpuvm_verify(&f->vm), 0);
	}
	test_str_free(&r.s);
}

static void bo_unmap_link_order(void **state)
{
	struct fx *f = *state;
	struct gpuva_ops *ops;
	struct gpuvm_bo *bo, *bo_b;
	char *text;

	assert_ret(gpuvm_bo_unmap_ops_create(NULL, &ops), -EINVAL);

	/* linked in the order 3, 5, 1; B and sparse mappings in between */
	insert_linked(&f->vm, va_pool_get(&f->pool), P(3), P(1), &f->a.base, P(3));
	insert_linked(&f->vm, va_pool_get(&f->pool), P(4), P(1), &f->b.base, 0);
	insert_linked(&f->vm, va_pool_get(&f->pool), P(5), P(1), &f->a.base, P(5));
	insert_linked(&f->vm, va_pool_get(&f->pool), P(2), P(1), NULL, 0);
	insert_linked(&f->vm, va_pool_get(&f->pool), P(1), P(1), &f->a.base, P(1));

	bo = gpuvm_bo_find(&f->vm, &f->a.base);
	assert_non_null(bo);
	assert_ret(gpuvm_bo_unmap_ops_create(bo, NULL), -EINVAL);
	assert_ret(gpuvm_bo_unmap_ops_create(bo, &ops), 0);
	text = test_dump_ops(ops);
	assert_ops_text(text, "unmap(0x3000+0x1000 A@0x3000 keep=0); "
			"unmap(0x5000+0x1000 A@0x5000 keep=0); "
			"unmap(0x1000+0x1000 A@0x1000 keep=0)");
	assert_int_equal(ops->count, 3);
	free(text);

	/* applied, they leave B's mapping and the sparse one */
	struct gpuva_op *op;

	gpuva_for_each_op(op, ops)
		apply_op(f, op, true);
	gpuva_ops_free(&f->vm, ops);
	text = layout(&f->vm, true);
	assert_ops_text(text, "0x2000+0x1000 -@0x0 | 0x4000+0x1000 B@0x0");
	free(text);

	/* a vm_bo without mappings: an empty list */
	assert_true(gpuvm_list_empty(&bo->list.gpuva));
	assert_ret(gpuvm_bo_unmap_ops_create(bo, &ops), 0);
	assert_int_equal(ops->count, 0);
	assert_true(gpuvm_list_empty(&ops->list));
	gpuva_ops_free(&f->vm, ops);
	gpuvm_bo_put(bo);

	bo_b = gpuvm_bo_find(&f->vm, &f->b.base);
	assert_ret(gpuvm_bo_unmap_ops_create(bo_b, &ops), 0);
	text = test_dump_ops(ops);
	assert_ops_text(text, "unmap(0x4000+0x1000 B@0x0 keep=0)");
	free(text);
	gpuva_ops_free(&f->vm, ops);
	gpuvm_bo_put(bo_b);
	gpuva_ops_free(&f->vm, NULL);
}

static void expect_create_einval(struct fx *f, int kind, const struct gpuvm_map_req *req,
				 uint64_t addr, uint64_t range)
{
	struct gpuva_ops *ops = NULL;
	char *before = test_dump_vm(&f->vm, NULL, 0), *after;
	size_t live = f->ta.live;
	int ret = -1;

	switch (kind) {
	case K_MAP:
		ret = gpuvm_sm_map_ops_create(&f->vm, req, &ops);
		break;
	case K_MADVISE:
		ret = gpuvm_madvise_ops_create(&f->vm, req, &ops);
		break;
	case K_UNMAP:
		ret = gpuvm_sm_unmap_ops_create(&f->vm, addr, range, &ops);
		break;
	case K_PREFETCH:
		ret = gpuvm_prefetch_ops_create(&f->vm, addr, range, &ops);
		break;
	}
	if (ret != -EINVAL) {
		free(before);
		fail_msg("kind %d at 0x%llx+0x%llx: %s, want EINVAL", kind,
			 (unsigned long long)(req ? req->map.va.addr : addr),
			 (unsigned long long)(req ? req->map.va.range : range),
			 gpuvm_err_name(ret));
	}
	after = test_dump_vm(&f->vm, NULL, 0);
	assert_dump_equal(before, after);
	assert_int_equal(f->ta.live, live);
	free(before);
	free(after);
}

static void expect_cb_einval(struct fx *f, const struct gpuvm_map_req *req,
			     uint64_t addr, uint64_t range)
{
	struct rec r = { .f = f };
	int ret = req ? gpuvm_sm_map(&f->vm, &r, req)
		      : gpuvm_sm_unmap(&f->vm, &r, addr, range);

	assert_ret(ret, -EINVAL);
	assert_int_equal(r.n, 0);
	test_str_free(&r.s);
}

struct map_req_v2 {
	struct gpuvm_map_req r;
	uint64_t flags;
};

static void request_errors(void **state)
{
	struct fx *f = *state;
	struct gpuva_ops *ops = NULL;
	struct test_gem empty;
	struct map_req_v2 big;
	GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = P(1), .map.va.range = P(1),
		   .map.gem.obj = &f->a.base);
	const uint64_t rsv = 1ull << 39;

	insert_linked(&f->vm, va_pool_get(&f->pool), P(1), P(2), &f->a.base, 0);
	insert_linked(&f->vm, va_pool_get(&f->pool), P(8), P(2), NULL, 0);
	assert_ret(test_gem_init(&empty, "E", 0), 0);

	/* NULL arguments */
	assert_ret(gpuvm_sm_map_ops_create(NULL, &req, &ops), -EINVAL);
	assert_ret(gpuvm_sm_map_ops_create(&f->vm, NULL, &ops), -EINVAL);
	assert_ret(gpuvm_sm_map_ops_create(&f->vm, &req, NULL), -EINVAL);
	assert_ret(gpuvm_madvise_ops_create(NULL, &req, &ops), -EINVAL);
	assert_ret(gpuvm_madvise_ops_create(&f->vm, NULL, &ops), -EINVAL);
	assert_ret(gpuvm_madvise_ops_create(&f->vm, &req, NULL), -EINVAL);
	assert_ret(gpuvm_sm_unmap_ops_create(NULL, P(1), P(1), &ops), -EINVAL);
	assert_ret(gpuvm_sm_unmap_ops_create(&f->vm, P(1), P(1), NULL), -EINVAL);
	assert_ret(gpuvm_prefetch_ops_create(NULL, P(1), P(1), &ops), -EINVAL);
	assert_ret(gpuvm_prefetch_ops_create(&f->vm, P(1), P(1), NULL), -EINVAL);
	assert_ret(gpuvm_sm_map(NULL, NULL, &req), -EINVAL);
	assert_ret(gpuvm_sm_unmap(NULL, NULL, P(1), P(1)), -EINVAL);
	expect_cb_einval(f, NULL, 0, 0); /* sm_unmap with a zero range */
	{
		struct rec r = { .f = f };

		assert_ret(gpuvm_sm_map(&f->vm, &r, NULL), -EINVAL);
		assert_int_equal(r.n, 0);
	}

	/* the request's size and tail */
	static const int map_kinds[] = { K_MAP, K_MADVISE };

	for (size_t k = 0; k < 2; k++) {
		int kind = map_kinds[k];

		req.sz = 0;
		expect_create_einval(f, kind, &req, 0, 0);
		req.sz = sizeof(req) - 1;
		expect_create_einval(f, kind, &req, 0, 0);
		req.sz = sizeof(req);
	}
	memset(&big, 0, sizeof(big));
	big.r = req;
	big.r.sz = sizeof(big);
	big.flags = 1;
	expect_create_einval(f, K_MAP, &big.r, 0, 0);
	expect_create_einval(f, K_MADVISE, &big.r, 0, 0);
	expect_cb_einval(f, &big.r, 0, 0);
	req.sz = 0;
	expect_cb_einval(f, &req, 0, 0);
	req.sz = sizeof(req);

	/* ranges gpuvm_range_valid() refuses */
	const struct { uint64_t addr, range; } bad[] = {
		{ P(1), 0 },
		{ (1ull << 40) - P(1), P(2) },
		{ 1ull << 40, P(1) },
		{ rsv - P(1), P(2) },
		{ rsv, P(1) },
		{ UINT64_MAX - 0xfff, P(1) },
		{ P(1), UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req.map.va.addr = bad[i].addr;
		req.map.va.range = bad[i].range;
		req.map.gem.obj = NULL;
		expect_create_einval(f, K_MAP, &req, 0, 0);
		expect_create_einval(f, K_MADVISE, &req, 0, 0);
		expect_create_einval(f, K_UNMAP, NULL, bad[i].addr, bad[i].range);
		expect_create_einval(f, K_PREFETCH, NULL, bad[i].addr, bad[i].range);
		expect_cb_einval(f, &req, 0, 0);
		expect_cb_einval(f, NULL, bad[i].addr, bad[i].range);
	}

	/* an object range beyond the object */
	req.map.va.addr = P(4);
	req.map.va.range = P(2);
	req.map.gem.obj = &f->a.base;
	req.map.gem.offset = GEM_SIZE - P(1);
	expect_create_einval(f, K_MAP, &req, 0, 0);
	expect_cb_einval(f, &req, 0, 0);
	req.map.gem.offset = UINT64_MAX - 0xfff;   /* offset + range wraps */
	expect_create_einval(f, K_MAP, &req, 0, 0);
	expect_cb_einval(f, &req, 0, 0);
	req.map.gem.offset = 0;
	req.map.va.range = GEM_SIZE + P(1);
	expect_create_einval(f, K_MAP, &req, 0, 0);
	expect_cb_einval(f, &req, 0, 0);
	req.map.gem.offset = GEM_SIZE + 1;         /* starts past the end */
	req.map.va.range = 1;
	expect_create_einval(f, K_MAP, &req, 0, 0);
	expect_cb_einval(f, &req, 0, 0);
	req.map.gem.offset = GEM_SIZE;             /* starts at the end */
	expect_create_einval(f, K_MAP, &req, 0, 0);
	expect_cb_einval(f, &req, 0, 0);
	req.map.gem.offset = 0;
	req.map.gem.obj = &empty.base;
	req.map.va.range = 1;
	expect_create_einval(f, K_MAP, &req, 0, 0);
	expect_cb_einval(f, &req, 0, 0);

	/* exactly to the end of the object is fine */
	req.map.gem.obj = &f->a.base;
	req.map.va.range = P(2);
	req.map.gem.offset = GEM_SIZE - P(2);
	assert_ret(gpuvm_sm_map_ops_create(&f->vm, &req, &ops), 0);
	assert_int_equal(ops->count, 1);
	gpuva_ops_free(&f->vm, ops);
	req.map.va.range = GEM_SIZE;
	req.map.va.addr = P(16);
	req.map.gem.offset = 0;
	assert_ret(gpuvm_sm_map_ops_create(&f->vm, &req, &ops), 0);
	gpuva_ops_free(&f->vm, ops);

	gpuvm_gem_put(&empty.base);
	assert_int_equal(empty.frees, 1);
}

static void missing_callbacks(void **state)
{
	struct fx *f = *state;
	struct gpuvm_ops ops = rec_ops;
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva *va = va_pool_get(&f->pool);
	GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = P(1), .map.va.range = P(1));
	struct rec r = { .f = f };

	test_alloc_init(&ta);
	/* no ops table at all */
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	insert_va(&vm, va, 0, P(4), NULL, 0);
	assert_ret(gpuvm_sm_map(&vm, &r, &req), -EINVAL);
	assert_ret(gpuvm_sm_unmap(&vm, &r, P(1), P(1)), -EINVAL);
	assert_int_equal(r.n, 0);
	tvm_fini(&vm, &ta);

	for (int missing = 0; missing < 3; missing++) {
		ops = rec_ops;
		if (missing == 0)
			ops.sm_step_map = NULL;
		else if (missing == 1)
			ops.sm_step_remap = NULL;
		else
			ops.sm_step_unmap = NULL;
		tvm_init(&vm, &ta, &ops, 0, 1ull << 40);
		gpuva_init(va, 0, P(4), NULL, 0);
		assert_ret(gpuva_insert(&vm, va), 0);
		r = (struct rec){ .f = f };

		/* map over a mapping: would need remap and map */
		assert_ret(gpuvm_sm_map(&vm, &r, &req), -EINVAL);
		assert_int_equal(r.n, 0);
		/* map into nothing: would need map only, still refused */
		req.map.va.addr = P(8);
		assert_ret(gpuvm_sm_map(&vm, &r, &req), -EINVAL);
		assert_int_equal(r.n, 0);
		req.map.va.addr = P(1);

		if (missing == 0) {
			/* sm_unmap does not need sm_step_map */
			assert_ret(gpuvm_sm_unmap(&vm, &r, P(1), P(1)), 0);
			assert_int_equal(r.n, 1);
			assert_int_equal(r.remaps, 1);
		} else {
			assert_ret(gpuvm_sm_unmap(&vm, &r, P(1), P(1)), -EINVAL);
			assert_ret(gpuvm_sm_unmap(&vm, &r, P(0), P(4)), -EINVAL);
			assert_int_equal(r.n, 0);
		}
		/* list mode needs no callback */
		struct gpuva_ops *l;

		assert_ret(gpuvm_sm_map_ops_create(&vm, &req, &l), 0);
		assert_int_equal(l->count, 2);
		gpuva_ops_free(&vm, l);
		test_str_free(&r.s);
		tvm_fini(&vm, &ta);
	}
}

static void callback_error_stops(void **state)
{
	struct fx *f = *state;
	const struct tcase *c3 = NULL, *u3 = NULL;
	static const int errs[] = { -EIO, -ENOSPC, -EAGAIN, -ECANCELED, 1 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strcmp(cases[i].name, "three mappings: remap, unmap, remap, map"))
			c3 = &cases[i];
		if (!strcmp(cases[i].name, "unmap over three"))
			u3 = &cases[i];
	}
	assert_non_null(c3);
	assert_non_null(u3);

	for (unsigned int at = 1; at <= 4; at++) {
		struct rec r = { .f = f, .fail_at = at, .fail_ret = errs[at % 5] };
		char *before;

		populate(f, c3->m, 8);
		before = dump_noindex(f);
		assert_ret(callback(f, c3, &r), errs[at % 5]);
		assert_int_equal(r.n, at);
		/* nothing applied: nothing changed */
		char *after = dump_noindex(f);

		assert_dump_equal(before, after);
		free(before);
		free(after);
		test_str_free(&r.s);

		/* applied up to the failure: the earlier ops stay applied */
		r = (struct rec){ .f = f, .fail_at = at, .fail_ret = -EIO,
				  .apply = true, .link = true };
		populate(f, c3->m, 8);
		assert_ret(callback(f, c3, &r), -EIO);
		assert_int_equal(r.n, at);
		/* remap keeps 3 mappings, unmap leaves 2, remap 2, map 3 */
		static const size_t count_after[] = { 0, 3, 3, 2, 2 };

		assert_int_equal(f->vm.index.count, count_after[at]);
		assert_ret(gpuvm_verify(&f->vm), 0);
		test_str_free(&r.s);
	}
	for (unsigned int at = 1; at <= 3; at++) {
		struct rec r = { .f = f, .fail_at = at, .fail_ret = -EFAULT };

		populate(f, u3->m, 8);
		assert_ret(callback(f, u3, &r), -EFAULT);
		assert_int_equal(r.n, at);
		test_str_free(&r.s);
	}
	tvm_clear(&f->vm);
}

/* gpuva_remap() must refuse @op and change nothing. */
static void expect_remap_einval(struct fx *f, struct gpuva *prev, struct gpuva *next,
				const struct gpuva_op_remap *op, const char *what)
{
	char *before = dump(&f->vm), *after;
	size_t live = f->ta.live;
	int ret = gpuva_remap(prev, next, op);

	if (ret != -EINVAL) {
		free(before);
		fail_msg("gpuva_remap, %s: %s, want EINVAL", what, gpuvm_err_name(ret));
	}
	after = dump(&f->vm);
	assert_dump_equal(before, after);
	assert_int_equal(f->ta.live, live);
	free(before);
	free(after);
}

static void apply_errors(void **state)
{
	struct fx *f = *state;
	struct gpuva *old = va_pool_get(&f->pool), *other = va_pool_get(&f->pool);
	struct gpuva *va = va_pool_get(&f->pool), *p = va_pool_get(&f->pool);
	struct gpuva *n = va_pool_get(&f->pool), *loose = va_pool_get(&f->pool);
	struct gpuva *in = va_pool_get(&f->pool);
	struct gpuva_op_map m = { .va.addr = P(1), .va.range = P(1), .gem.obj = &f->a.base,
				  .gem.offset = 0x40 };
	/* old = [8, 12) pages; prev = [8, 9), next = [10, 12) */
	struct gpuva_op_map pm = { .va.addr = P(8), .va.range = P(1) };
	struct gpuva_op_map nm = { .va.addr = P(10), .va.range = P(2), .gem.offset = P(2) };
	struct gpuva_op_unmap um = { .va = old };
	struct gpuva_op_remap rm = { .prev = &pm, .next = &nm, .unmap = &um };
	char *before, *after;

	insert_va(&f->vm, old, P(8), P(4), NULL, 0);
	insert_va(&f->vm, other, P(1), P(2), &f->a.base, 0);
	insert_va(&f->vm, in, P(20), P(1), NULL, 0);
	before = dump(&f->vm);

	/* map */
	assert_ret(gpuva_map(NULL, va, &m), -EINVAL);
	assert_ret(gpuva_map(&f->vm, NULL, &m), -EINVAL);
	assert_ret(gpuva_map(&f->vm, va, &m), -EEXIST);
	assert_false(va_inserted(va));
	/* initialized from the op all the same */
	assert_int_equal(va->va.addr, P(1));
	assert_int_equal(va->va.range, P(1));
	assert_int_equal(va->gem.offset, 0x40);
	assert_ptr_equal(gpuva_gem(va), &f->a.base);
	assert_null(gpuva_vm_bo(va));
	m.va.range = 0;
	assert_ret(gpuva_map(&f->vm, va, &m), -EINVAL);
	m.va.addr = 1ull << 40;
	m.va.range = P(1);
	assert_ret(gpuva_map(&f->vm, va, &m), -EINVAL);
	assert_false(va_inserted(va));

	after = dump(&f->vm);
	assert_dump_equal(before, after);
	free(after);
	free(before);

	/* remap */
	expect_remap_einval(f, p, n, NULL, "NULL op");
	rm.unmap = NULL;
	expect_remap_einval(f, p, n, &rm, "NULL unmap");
	rm.unmap = &um;
	expect_remap_einval(f, NULL, n, &rm, "prev piece without its mapping");
	expect_remap_einval(f, p, NULL, &rm, "next piece without its mapping");
	expect_remap_einval(f, NULL, NULL, &rm, "no mapping for either piece");
	expect_remap_einval(f, in, n, &rm, "prev's mapping is inserted");
	expect_remap_einval(f, p, in, &rm, "next's mapping is inserted");
	expect_remap_einval(f, p, p, &rm, "prev == next");
	gpuva_init(loose, P(40), P(1), NULL, 0);
	um.va = loose;
	expect_remap_einval(f, p, n, &rm, "old mapping not inserted");
	um.va = old;

	pm.va.range = 0;
	expect_remap_einval(f, p, n, &rm, "empty prev piece");
	pm.va.range = P(1);
	nm.va.range = 0;
	expect_remap_einval(f, p, n, &rm, "empty next piece");
	nm.va.range = P(2);
	pm.va.addr = P(7);
	expect_remap_einval(f, p, n, &rm, "prev piece starts before the old mapping");
	pm.va.addr = P(8);
	nm.va.range = P(3);
	expect_remap_einval(f, p, n, &rm, "next piece ends after the old mapping");
	nm.va.range = P(2);
	pm.va.range = P(3);
	expect_remap_einval(f, p, n, &rm, "pieces overlap");
	pm.va.range = P(1);
	pm.va.addr = P(30);
	expect_remap_einval(f, p, n, &rm, "prev piece outside the old mapping");
	pm.va.addr = P(8);
	assert_false(va_inserted(p));
	assert_false(va_inserted(n));
	assert_true(va_inserted(old));

	/* unmap */
	struct gpuva_op_unmap u = { .va = loose };

	assert_ret(gpuva_unmap(NULL), -EINVAL);
	assert_ret(gpuva_unmap(&u), -ENOENT);

	/* and the real thing works */
	assert_ret(gpuva_remap(p, n, &rm), 0);
	assert_false(va_inserted(old));
	assert_ptr_equal(gpuva_find(&f->vm, P(8), P(1)), p);
	assert_ptr_equal(gpuva_find(&f->vm, P(10), P(2)), n);
	assert_int_equal(n->gem.offset, P(2));
	expect_remap_einval(f, va_pool_get(&f->pool), va_pool_get(&f->pool), &rm,
			    "old mapping already removed");
	/* a remap with one piece only */
	struct gpuva *q = va_pool_get(&f->pool);
	struct gpuva_op_map qm = { .va.addr = P(11), .va.range = P(1), .gem.offset = P(3) };
	struct gpuva_op_unmap qu = { .va = n };
	struct gpuva_op_remap qr = { .next = &qm, .unmap = &qu };

	assert_ret(gpuva_remap(NULL, q, &qr), 0);
	assert_false(va_inserted(n));
	assert_ptr_equal(gpuva_find(&f->vm, P(11), P(1)), q);

	u.va = p;
	assert_ret(gpuva_unmap(&u), 0);
	assert_ret(gpuva_unmap(&u), -ENOENT);
	assert_null(gpuva_find(&f->vm, P(8), P(1)));
	tvm_clear(&f->vm);
}

/*
 * A lone piece beyond the old mapping's end: nothing else (no other piece to
 * overlap) catches it, only the "inside the old mapping" rule.
 */
static void remap_piece_outside(void **state)
{
	struct fx *f = *state;
	struct gpuva *old = va_pool_get(&f->pool), *piece = va_pool_get(&f->pool);
	struct gpuva_op_map pm = { .va.addr = P(30), .va.range = P(1) };
	struct gpuva_op_unmap um = { .va = old };
	struct gpuva_op_remap only_prev = { .prev = &pm, .unmap = &um };
	struct gpuva_op_remap only_next = { .next = &pm, .unmap = &um };

	insert_va(&f->vm, old, P(8), P(4), NULL, 0);
	expect_remap_einval(f, piece, NULL, &only_prev, "lone prev piece after the old mapping");
	expect_remap_einval(f, NULL, piece, &only_next, "lone next piece after the old mapping");
	pm.va.addr = P(11);
	pm.va.range = P(2);
	expect_remap_einval(f, NULL, piece, &only_next, "next piece sticking out of the old end");
	pm.va.addr = P(4);
	pm.va.range = P(1);
	expect_remap_einval(f, piece, NULL, &only_prev, "lone prev piece before the old mapping");
	assert_true(va_inserted(old));
	assert_false(va_inserted(piece));
	tvm_clear(&f->vm);
}

/* ---- driver-allocated ops ---- */

struct my_op {
	uint32_t magic;
	struct gpuva_op base;
	uint32_t tail;
};

static unsigned int op_allocs, op_frees, op_fail_at, op_calls;

static struct gpuva_op *my_op_alloc(struct gpuvm *vm)
{
	struct my_op *o;

	(void)vm;
	op_calls++;
	if (op_fail_at && op_calls == op_fail_at)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->magic = 0x0b5e;
	o->tail = 0x7a11;
	op_allocs++;
	return &o->base;
}

static void my_op_free(struct gpuvm *vm, struct gpuva_op *op)
{
	struct my_op *o = (struct my_op *)(void *)((char *)op - offsetof(struct my_op, base));

	(void)vm;
	assert_int_equal(o->magic, 0x0b5e);
	assert_int_equal(o->tail, 0x7a11);
	op_frees++;
	free(o);
}

static void driver_ops(void **state)
{
	struct fx *f = *state;
	static const struct gpuvm_ops ops = {
		.sz = sizeof(ops),
		.op_alloc = my_op_alloc,
		.op_free = my_op_free,
	};
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva *v = va_pool_get(&f->pool), *w = va_pool_get(&f->pool);
	struct gpuva *x = va_pool_get(&f->pool);
	struct gpuva_ops *l;
	struct gpuva_op *op;
	GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = P(1), .map.va.range = P(4),
		   .map.gem.obj = &f->a.base, .map.gem.offset = P(1));
	size_t live;

	op_allocs = op_frees = op_fail_at = op_calls = 0;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, &ops, 0, 1ull << 40);
	insert_linked(&vm, v, 0, P(2), &f->a.base, 0);
	insert_linked(&vm, w, P(2), P(2), &f->b.base, 0);
	insert_linked(&vm, x, P(4), P(2), &f->a.base, P(4));

	assert_ret(gpuvm_sm_map_ops_create(&vm, &req, &l), 0);
	assert_int_equal(l->count, 4);
	assert_int_equal(op_allocs, 4);
	gpuva_for_each_op(op, l) {
		struct my_op *o = (struct my_op *)(void *)((char *)op - offsetof(struct my_op, base));

		assert_int_equal(o->magic, 0x0b5e);
	}
	char *text = test_dump_ops(l);

	assert_ops_text(text,
			"remap(0x0+0x2000 A@0x0 keep=1: prev=0x0+0x1000 A@0x0 next=-); "
			"unmap(0x2000+0x2000 B@0x0 keep=0); "
			"remap(0x4000+0x2000 A@0x4000 keep=1: prev=- next=0x5000+0x1000 A@0x5000); "
			"map 0x1000+0x4000 A@0x1000");
	free(text);
	gpuva_ops_free(&vm, l);
	assert_int_equal(op_frees, 4);

	/* every creator uses the hooks */
	assert_ret(gpuvm_sm_unmap_ops_create(&vm, P(1), P(4), &l), 0);
	assert_int_equal(l->count, 3);
	assert_int_equal(op_allocs, 4 + 3);
	gpuva_ops_free(&vm, l);
	assert_int_equal(op_frees, 4 + 3);
	assert_ret(gpuvm_prefetch_ops_create(&vm, 0, P(6), &l), 0);
	assert_int_equal(l->count, 3);
	assert_int_equal(op_allocs, 4 + 3 + 3);
	gpuva_ops_free(&vm, l);
	assert_int_equal(op_frees, 4 + 3 + 3);
	struct gpuvm_bo *bo = gpuvm_bo_find(&vm, &f->a.base);

	assert_ret(gpuvm_bo_unmap_ops_create(bo, &l), 0);
	assert_int_equal(l->count, 2);
	assert_int_equal(op_allocs, 4 + 3 + 3 + 2);
	gpuva_ops_free(&vm, l);
	assert_int_equal(op_frees, 4 + 3 + 3 + 2);
	gpuvm_bo_put(bo);
	GPUVM_OPTS(gpuvm_map_req, mreq, .map.va.addr = P(8), .map.va.range = P(1));
	assert_ret(gpuvm_madvise_ops_create(&vm, &mreq, &l), 0);
	assert_int_equal(l->count, 0);
	gpuva_ops_free(&vm, l);
	assert_int_equal(op_allocs, op_frees);

	/* the driver's allocation failing: -ENOMEM, nothing left */
	gpuvm_index_trim(&vm);
	live = ta.live;
	for (unsigned int k = 1; k <= 4; k++) {
		op_allocs = op_frees = op_calls = 0;
		op_fail_at = k;
		l = NULL;
		assert_ret(gpuvm_sm_map_ops_create(&vm, &req, &l), -ENOMEM);
		assert_int_equal(op_allocs, op_frees);
		gpuvm_index_trim(&vm);
		assert_int_equal(ta.live, live);
	}
	op_fail_at = 0;

	tvm_clear(&vm);
	tvm_fini(&vm, &ta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hand_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(list_apply_does_not_allocate, setup, teardown),
		cmocka_unit_test_setup_teardown(callback_apply_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(bo_unmap_link_order, setup, teardown),
		cmocka_unit_test_setup_teardown(request_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(callback_error_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(remap_piece_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(driver_ops, setup, teardown),
	};

	return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}
