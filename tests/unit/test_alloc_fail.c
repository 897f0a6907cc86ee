/* SPDX-License-Identifier: MIT */
/*
 * The allocation-failure ladder: for every entry point that allocates, on a
 * VM with a few hundred mappings (so that the index has inner nodes and
 * inserts split nodes), fail the 1st, 2nd, ... allocation of the call until
 * it succeeds. Each failed call must return -ENOMEM and leave the VM's full
 * state and the allocator's live blocks exactly as they were.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>
#include "index.h"

#include "test_util.h"

#define BLOCKS 4
#define PER_BLOCK 80
#define BLOCK_SPAN 0x10000000ull  /* blocks start this far apart */
#define GAP_OFFSET 0x01000000ull  /* the empty region of a block */
#define GEM_SIZE (1ull << 30)

struct lfx {
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem a, b, c, d; /* d is mapped nowhere */
	struct va_pool pool;
	struct gpuva_ops *ops;      /* the list a creator returned */
	struct gpuvm_bo *bo;        /* the vm_bo obtain/create returned */
};

static unsigned long total_pairs, total_failures;

static struct gpuvm_gem *gem_for(struct lfx *f, unsigned int i)
{
	switch (i % 4) {
	case 1:
		return &f->a.base;
	case 2:
		return &f->b.base;
	case 3:
		return &f->c.base;
	default:
		return NULL;
	}
}

static uint64_t block_base(unsigned int k)
{
	return BLOCK_SPAN * (k + 1);
}

/* Mapping i of block k: [base + 4i pages, +2 pages), object by i % 4. */
static uint64_t map_addr(unsigned int k, unsigned int i)
{
	return block_base(k) + 4 * PG * i;
}

static int setup(void **state)
{
	struct lfx *f = calloc(1, sizeof(*f));
	struct gpuvm_stats st = { .sz = sizeof(st) };

	if (!f)
		return -1;
	test_alloc_init(&f->ta);
	tvm_init(&f->vm, &f->ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&f->a, "A", GEM_SIZE), 0);
	assert_ret(test_gem_init(&f->b, "B", GEM_SIZE), 0);
	assert_ret(test_gem_init(&f->c, "C", GEM_SIZE), 0);
	assert_ret(test_gem_init(&f->d, "D", GEM_SIZE), 0);
	va_pool_init(&f->pool, 4096);
	for (unsigned int k = 0; k < BLOCKS; k++)
		for (unsigned int i = 0; i < PER_BLOCK; i++)
			insert_linked(&f->vm, va_pool_get(&f->pool), map_addr(k, i), 2 * PG,
				      gem_for(f, i), i * PG);
	assert_ret(gpuvm_stats(&f->vm, &st), 0);
	assert_int_equal(st.mappings, BLOCKS * PER_BLOCK);
	/* the point of a few hundred mappings: a tree with inner nodes */
	assert_true(st.height >= 2);
	assert_ret(gpuvm_verify(&f->vm), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct lfx *f = *state;

	tvm_fini(&f->vm, &f->ta);
	va_pool_fini(&f->pool);
	gpuvm_gem_put(&f->a.base);
	gpuvm_gem_put(&f->b.base);
	gpuvm_gem_put(&f->c.base);
	gpuvm_gem_put(&f->d.base);
	assert_int_equal(f->a.frees + f->b.frees + f->c.frees + f->d.frees, 4);
	free(f);
	return 0;
}

static char *full_dump(struct lfx *f)
{
	struct gpuvm_gem *extra[] = { &f->a.base, &f->b.base, &f->c.base, &f->d.base };

	return test_dump_vm(&f->vm, extra, 4);
}

typedef int (*step_fn)(struct lfx *f, void *arg);
typedef void (*done_fn)(struct lfx *f, void *arg);

/*
 * Run @step with the 1st, 2nd, ... allocation failing until it succeeds,
 * then @done (which cleans up what the successful call made). Returns the
 * number of failed rungs.
 */
static unsigned long ladder(struct lfx *f, const char *name, step_fn step, done_fn done,
			    void *arg)
{
	char *before, *after;
	size_t live, bytes;
	unsigned long n;

	/* a canonical start: no unreserved node waits in the cache */
	gpuvm_index_trim(&f->vm);
	before = full_dump(f);
	live = f->ta.live;
	bytes = f->ta.live_bytes;

	for (n = 1;; n++) {
		unsigned long injected;
		int ret;

		test_alloc_fail_at(&f->ta, n);
		ret = step(f, arg);
		injected = f->ta.injected;
		test_alloc_fail_at(&f->ta, 0);
		total_pairs++;

		if (ret == 0) {
			if (injected)
				fail_msg("%s: N=%lu: an allocation failed, yet the call returned 0",
					 name, n);
			break;
		}
		if (ret != -ENOMEM)
			fail_msg("%s: N=%lu: returned %d (%s), want -ENOMEM", name, n, ret,
				 gpuvm_err_name(ret));
		if (!injected)
			fail_msg("%s: N=%lu: -ENOMEM, but no allocation failed", name, n);
		after = full_dump(f);
		if (strcmp(before, after)) {
			test_dump_diff(before, after);
			fail_msg("%s: N=%lu: state changed by a failed call", name, n);
		}
		free(after);
		if (f->ta.live != live || f->ta.live_bytes != bytes)
			fail_msg("%s: N=%lu: %zu blocks (%zu bytes) live, want %zu (%zu)", name,
				 n, f->ta.live, f->ta.live_bytes, live, bytes);
		assert_int_equal(f->ta.errors, 0);
		assert_ret(gpuvm_verify(&f->vm), 0);
		if (n > 100000)
			fail_msg("%s: no success after %lu rungs", name, n);
	}
	total_failures += n - 1;
	if (done)
		done(f, arg);
	assert_int_equal(f->ta.errors, 0);
	assert_ret(gpuvm_verify(&f->vm), 0);
	free(before);
	return n - 1;
}

/* ---- list-mode creators ---- */

static void done_free_ops(struct lfx *f, void *arg)
{
	(void)arg;
	assert_non_null(f->ops);
	gpuva_ops_free(&f->vm, f->ops);
	f->ops = NULL;
	gpuvm_index_trim(&f->vm);
}

static int step_sm_map(struct lfx *f, void *arg)
{
	f->ops = NULL;
	return gpuvm_sm_map_ops_create(&f->vm, arg, &f->ops);
}

static int step_madvise(struct lfx *f, void *arg)
{
	f->ops = NULL;
	return gpuvm_madvise_ops_create(&f->vm, arg, &f->ops);
}

struct range {
	uint64_t addr, range;
};

static int step_sm_unmap(struct lfx *f, void *arg)
{
	const struct range *r = arg;

	f->ops = NULL;
	return gpuvm_sm_unmap_ops_create(&f->vm, r->addr, r->range, &f->ops);
}

static int step_prefetch(struct lfx *f, void *arg)
{
	const struct range *r = arg;

	f->ops = NULL;
	return gpuvm_prefetch_ops_create(&f->vm, r->addr, r->range, &f->ops);
}

static int step_bo_unmap(struct lfx *f, void *arg)
{
	f->ops = NULL;
	return gpuvm_bo_unmap_ops_create(arg, &f->ops);
}

static void list_sm_map(void **state)
{
	struct lfx *f = *state;
	const struct gpuvm_map_req reqs[] = {
		/* cuts mapping 5 and 9 of block 0, unmaps the ones between */
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { map_addr(0, 5) + PG, 4 * 4 * PG }, .gem = { 0, &f->a.base } } },
		/* inside one mapping: remap with both pieces */
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { map_addr(1, 7) + PG / 2, PG }, .gem = { 0, &f->b.base } } },
		/* exactly an existing mapping, same object and offset */
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { map_addr(2, 1), 2 * PG }, .gem = { PG, &f->a.base } } },
		/* in the empty region: a lone map op */
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { block_base(3) + GAP_OFFSET, PG }, .gem = { 0, NULL } } },
		/* over a whole block */
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { block_base(3), 4 * PG * PER_BLOCK }, .gem = { 0, &f->c.base } } },
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		unsigned long rungs = ladder(f, "gpuvm_sm_map_ops_create", step_sm_map,
					     done_free_ops, (void *)&reqs[i]);

		print_message("  sm_map_ops_create #%zu: %lu failures then success\n", i, rungs);
		assert_true(rungs >= 1);
	}
}

static void list_sm_unmap(void **state)
{
	struct lfx *f = *state;
	struct range rs[] = {
		{ map_addr(0, 10) + PG, 6 * 4 * PG },
		{ map_addr(1, 3) + PG / 4, PG / 2 },
		{ map_addr(2, 0), 4 * PG * PER_BLOCK },
		{ block_base(3) + GAP_OFFSET, PG }, /* nothing there: an empty list */
	};

	for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		unsigned long rungs = ladder(f, "gpuvm_sm_unmap_ops_create", step_sm_unmap,
					     done_free_ops, &rs[i]);

		print_message("  sm_unmap_ops_create #%zu: %lu failures then success\n", i,
			      rungs);
		assert_true(rungs >= 1);
	}
}

static void list_madvise(void **state)
{
	struct lfx *f = *state;
	/* mappings 4 and 12 (i % 4 == 0) are sparse, the ones between are not */
	const struct gpuvm_map_req reqs[] = {
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { map_addr(0, 4) + PG, 8 * 4 * PG } } },
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { map_addr(1, 8) + PG / 2, PG } } },
		{ .sz = sizeof(struct gpuvm_map_req),
		  .map = { .va = { map_addr(2, 0), 4 * PG * PER_BLOCK } } },
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		unsigned long rungs = ladder(f, "gpuvm_madvise_ops_create", step_madvise,
					     done_free_ops, (void *)&reqs[i]);

		print_message("  madvise_ops_create #%zu: %lu failures then success\n", i,
			      rungs);
		assert_true(rungs >= 1);
	}
}

static void list_prefetch(void **state)
{
	struct lfx *f = *state;
	struct range rs[] = {
		{ map_addr(0, 3), 30 * 4 * PG },
		{ map_addr(1, 0) + PG, 1 },
		{ block_base(2) + GAP_OFFSET, PG },
	};

	for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		unsigned long rungs = ladder(f, "gpuvm_prefetch_ops_create", step_prefetch,
					     done_free_ops, &rs[i]);

		print_message("  prefetch_ops_create #%zu: %lu failures then success\n", i,
			      rungs);
		assert_true(rungs >= 1);
	}
}

static void list_bo_unmap(void **state)
{
	struct lfx *f = *state;
	struct test_gem *gems[] = { &f->a, &f->b, &f->c };

	for (size_t i = 0; i < 3; i++) {
		struct gpuvm_bo *bo = gpuvm_bo_find(&f->vm, &gems[i]->base);
		unsigned long rungs;

		assert_non_null(bo);
		rungs = ladder(f, "gpuvm_bo_unmap_ops_create", step_bo_unmap, done_free_ops, bo);
		print_message("  bo_unmap_ops_create %s: %lu failures then success\n",
			      gems[i]->name, rungs);
		assert_true(rungs >= 1);
		gpuvm_bo_put(bo);
	}
}

/* ---- inserts: gpuva_insert, gpuva_map, gpuva_remap without a reservation ---- */

/* Enough inserts into one spot that some leaf must split on the way. */
static unsigned int inserts_to_split(void)
{
	return (unsigned int)(gpuvm__index_node_size() / 16) + 2;
}

struct insert_arg {
	struct gpuva *va;
	uint64_t addr, range;
};

static int step_insert(struct lfx *f, void *arg)
{
	struct insert_arg *a = arg;

	gpuva_init(a->va, a->addr, a->range, NULL, 0);
	return gpuva_insert(&f->vm, a->va);
}

static int step_map(struct lfx *f, void *arg)
{
	struct insert_arg *a = arg;
	struct gpuva_op_map op = { .va = { a->addr, a->range } };

	return gpuva_map(&f->vm, a->va, &op);
}

static void inserts(void **state)
{
	struct lfx *f = *state;
	const unsigned int k = inserts_to_split();
	unsigned long failed_insert = 0, failed_map = 0;

	for (unsigned int i = 0; i < k; i++) {
		struct insert_arg a = {
			.va = va_pool_get(&f->pool),
			.addr = block_base(0) + GAP_OFFSET + 2 * PG * i,
			.range = PG,
		};

		failed_insert += ladder(f, "gpuva_insert", step_insert, NULL, &a);
		assert_ptr_equal(gpuva_find(&f->vm, a.addr, a.range), a.va);

		a.va = va_pool_get(&f->pool);
		a.addr = block_base(1) + GAP_OFFSET + 2 * PG * i;
		failed_map += ladder(f, "gpuva_map", step_map, NULL, &a);
		assert_ptr_equal(gpuva_find(&f->vm, a.addr, a.range), a.va);
	}
	print_message("  gpuva_insert: %u inserts, %lu failed rungs\n", k, failed_insert);
	print_message("  gpuva_map: %u inserts, %lu failed rungs\n", k, failed_map);
	/* some of those inserts had to have a node */
	assert_true(failed_insert >= 1);
	assert_true(failed_map >= 1);
}

struct remap_arg {
	struct gpuva *prev, *next;
	struct gpuva_op_map pm, nm;
	struct gpuva_op_unmap um;
	struct gpuva_op_remap op;
};

static int step_remap(struct lfx *f, void *arg)
{
	struct remap_arg *a = arg;

	(void)f;
	return gpuva_remap(a->prev, a->next, &a->op);
}

static void remaps(void **state)
{
	struct lfx *f = *state;
	const unsigned int k = inserts_to_split();
	uint64_t start = block_base(2) + GAP_OFFSET;
	uint64_t end = start + 4 * PG * (k + 1);
	struct gpuva *tail = va_pool_get(&f->pool);
	unsigned long failed = 0;

	/* one big sparse mapping, cut into pieces one remap at a time */
	insert_va(&f->vm, tail, start, end - start, NULL, 0x40);
	for (unsigned int i = 0; i < k; i++) {
		uint64_t at = tail->va.addr;
		struct remap_arg a = {
			.prev = va_pool_get(&f->pool),
			.next = va_pool_get(&f->pool),
			.pm = { .va = { at, PG }, .gem = { tail->gem.offset, NULL } },
			.nm = { .va = { at + 2 * PG, end - at - 2 * PG },
				.gem = { tail->gem.offset + 2 * PG, NULL } },
			.um = { .va = tail },
		};

		a.op.prev = &a.pm;
		a.op.next = &a.nm;
		a.op.unmap = &a.um;
		failed += ladder(f, "gpuva_remap", step_remap, NULL, &a);
		assert_false(va_inserted(tail));
		assert_ptr_equal(gpuva_find(&f->vm, at, PG), a.prev);
		assert_ptr_equal(gpuva_find(&f->vm, at + 2 * PG, end - at - 2 * PG), a.next);
		tail = a.next;
	}
	print_message("  gpuva_remap: %u remaps, %lu failed rungs\n", k, failed);
	assert_true(failed >= 1);
}

/* ---- gpuvm_index_reserve ---- */

static int step_reserve(struct lfx *f, void *arg)
{
	return gpuvm_index_reserve(&f->vm, *(unsigned int *)arg);
}

static void done_unreserve(struct lfx *f, void *arg)
{
	gpuvm_index_unreserve(&f->vm, *(unsigned int *)arg);
	gpuvm_index_trim(&f->vm);
}

static void index_reserve(void **state)
{
	struct lfx *f = *state;
	unsigned int counts[] = { 1, 2, 3, 16 };

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		unsigned long rungs = ladder(f, "gpuvm_index_reserve", step_reserve,
					     done_unreserve, &counts[i]);

		print_message("  index_reserve(%u): %lu failures then success\n", counts[i],
			      rungs);
		assert_true(rungs >= 1);
	}
	/* on top of a reservation, a second one only adds */
	unsigned int one = 1, three = 3;
	unsigned long rungs;

	assert_ret(gpuvm_index_reserve(&f->vm, three), 0);
	rungs = ladder(f, "gpuvm_index_reserve (nested)", step_reserve, done_unreserve, &one);
	print_message("  index_reserve(1) on top of 3: %lu failures then success\n", rungs);
	done_unreserve(f, &three);
	assert_int_equal(f->vm.index.reserved, 0);
}

/* ---- vm_bo creation ---- */

static int step_obtain(struct lfx *f, void *arg)
{
	f->bo = NULL;
	return gpuvm_bo_obtain(&f->vm, arg, &f->bo);
}

static int step_create(struct lfx *f, void *arg)
{
	f->bo = NULL;
	return gpuvm_bo_create(&f->vm, arg, &f->bo);
}

static void done_put_bo(struct lfx *f, void *arg)
{
	assert_non_null(f->bo);
	assert_ptr_equal(f->bo->obj, arg);
	assert_true(gpuvm_bo_put(f->bo));
	f->bo = NULL;
}

static void bo_creation(void **state)
{
	struct lfx *f = *state;
	unsigned long rungs;

	rungs = ladder(f, "gpuvm_bo_obtain", step_obtain, done_put_bo, &f->d.base);
	print_message("  bo_obtain: %lu failures then success\n", rungs);
	assert_true(rungs >= 1);
	rungs = ladder(f, "gpuvm_bo_create", step_create, done_put_bo, &f->d.base);
	print_message("  bo_create: %lu failures then success\n", rungs);
	assert_true(rungs >= 1);
	/* obtaining an existing vm_bo allocates nothing: success at once */
	rungs = ladder(f, "gpuvm_bo_obtain (existing)", step_obtain, NULL, &f->a.base);
	assert_int_equal(rungs, 0);
	assert_false(gpuvm_bo_put(f->bo));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(list_sm_map, setup, teardown),
		cmocka_unit_test_setup_teardown(list_sm_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(list_madvise, setup, teardown),
		cmocka_unit_test_setup_teardown(list_prefetch, setup, teardown),
		cmocka_unit_test_setup_teardown(list_bo_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(inserts, setup, teardown),
		cmocka_unit_test_setup_teardown(remaps, setup, teardown),
		cmocka_unit_test_setup_teardown(index_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(bo_creation, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("alloc_fail", tests, NULL, NULL);

	print_message("ladder: %lu (entry point, N) pairs exercised, %lu of them failed "
		      "allocations\n", total_pairs, total_failures);
	return failed;
}
