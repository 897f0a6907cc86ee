/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of struct gpuva: insert/remove and their errors, the lookups,
 * iteration (plain and safe), link/unlink and the accessors of the owner
 * word.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include "test_util.h"

struct fx {
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem a, b;
	struct va_pool pool; /* every mapping a test inserts into vm */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	test_alloc_init(&f->ta);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "va", .start = 0x1000,
		   .range = 1ull << 32, .reserve_addr = 0x100000,
		   .reserve_range = 0x10000, .alloc = test_alloc_hooks(&f->ta));
	if (gpuvm_init(&f->vm, &opts))
		return -1;
	if (test_gem_init(&f->a, "A", 1ull << 30) || test_gem_init(&f->b, "B", 1ull << 30))
		return -1;
	va_pool_init(&f->pool, 8192);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tvm_fini(&f->vm, &f->ta);
	va_pool_fini(&f->pool);
	gpuvm_gem_put(&f->a.base);
	gpuvm_gem_put(&f->b.base);
	assert_int_equal(f->a.frees, 1);
	assert_int_equal(f->b.frees, 1);
	assert_int_equal(f->a.fini_ret, 0);
	assert_int_equal(f->b.fini_ret, 0);
	free(f);
	return 0;
}

/* @n consecutive mapping structs from the fixture's pool. */
static struct gpuva *pool_n(struct fx *f, size_t n)
{
	struct gpuva *v;

	assert_true(f->pool.n + n <= f->pool.cap);
	v = &f->pool.v[f->pool.n];
	f->pool.n += n;
	return v;
}

static void va_init_clears(void **state)
{
	struct fx *f = *state;
	struct gpuva va;

	memset(&va, 0xff, sizeof(va));
	gpuva_init(&va, 0x2000, 0x3000, &f->a.base, 0x40);
	assert_null(va.vm);
	assert_int_equal(va.va.addr, 0x2000);
	assert_int_equal(va.va.range, 0x3000);
	assert_int_equal(gpuva_end(&va), 0x5000);
	assert_int_equal(va.gem.offset, 0x40);
	assert_int_equal(va.flags, 0);
	assert_false(gpuvm_list_linked(&va.gem.entry));
	assert_ptr_equal(gpuva_gem(&va), &f->a.base);
	assert_null(gpuva_vm_bo(&va));

	memset(&va, 0xff, sizeof(va));
	gpuva_init(&va, 0x2000, 0x1000, NULL, 0x7000);
	assert_null(gpuva_gem(&va));
	assert_null(gpuva_vm_bo(&va));
	assert_int_equal(va.gem.offset, 0x7000);

	gpuva_invalidate(&va, true);
	assert_true(gpuva_invalidated(&va));
	gpuva_invalidate(&va, false);
	assert_false(gpuva_invalidated(&va));
	assert_int_equal(va.flags, 0);
}

static void expect_insert(struct fx *f, uint64_t addr, uint64_t range, int want)
{
	struct gpuva *va = va_pool_get(&f->pool);
	char *before = dump(&f->vm), *after;
	size_t live = f->ta.live;

	gpuva_init(va, addr, range, NULL, 0);
	if (want) {
		int ret = gpuva_insert(&f->vm, va);

		if (ret != want) {
			free(before);
			fail_msg("insert 0x%llx+0x%llx: %s, want %s",
				 (unsigned long long)addr, (unsigned long long)range,
				 gpuvm_err_name(ret), gpuvm_err_name(want));
		}
		assert_null(va->vm);
		assert_false(va_inserted(va));
		after = dump(&f->vm);
		assert_dump_equal(before, after);
		assert_int_equal(f->ta.live, live);
		free(after);
	} else {
		assert_ret(gpuva_insert(&f->vm, va), 0);
		assert_ptr_equal(va->vm, &f->vm);
		assert_true(va_inserted(va));
		assert_ptr_equal(gpuva_find(&f->vm, addr, range), va);
		assert_ret(gpuva_remove(va), 0);
		/* not inserted any more; vm stays set, as in the kernel */
		assert_false(va_inserted(va));
		assert_ptr_equal(va->vm, &f->vm);
	}
	assert_ret(gpuvm_verify(&f->vm), 0);
	free(before);
}

static void insert_einval(void **state)
{
	struct fx *f = *state;
	struct gpuva *keep = pool_n(f, 3), *va = pool_n(f, 1);
	const uint64_t end = 0x1000 + (1ull << 32);

	/* some content, so "nothing changed" means something */
	insert_va(&f->vm, &keep[0], 0x2000, 0x1000, NULL, 0);
	insert_va(&f->vm, &keep[1], 0x200000, 0x1000, &f->a.base, 0);
	insert_va(&f->vm, &keep[2], end - 0x1000, 0x1000, NULL, 0);

	gpuva_init(va, 0x3000, 0x1000, NULL, 0);
	assert_ret(gpuva_insert(NULL, va), -EINVAL);
	assert_ret(gpuva_insert(&f->vm, NULL), -EINVAL);
	assert_null(va->vm);

	expect_insert(f, 0x3000, 0, -EINVAL);            /* zero range */
	expect_insert(f, 0, 0x1000, -EINVAL);            /* below the space */
	expect_insert(f, 0x800, 0x1000, -EINVAL);        /* straddles its start */
	expect_insert(f, end, 0x1000, -EINVAL);          /* after it */
	expect_insert(f, end - 0x800, 0x1000, -EINVAL);  /* straddles its end */
	expect_insert(f, 0x100000, 0x10000, -EINVAL);    /* the reserve */
	expect_insert(f, 0xff000, 0x2000, -EINVAL);      /* into it */
	expect_insert(f, 0x10f000, 0x2000, -EINVAL);     /* out of it */
	expect_insert(f, 0x108000, 0x10, -EINVAL);       /* inside it */
	expect_insert(f, 0xf0000, 0x30000, -EINVAL);     /* over it */
	expect_insert(f, UINT64_MAX - 0xfff, 0x1000, -EINVAL); /* sum 2^64 */
	expect_insert(f, 0x3000, UINT64_MAX, -EINVAL);   /* wraps */
	expect_insert(f, UINT64_MAX, UINT64_MAX, -EINVAL);

	/* and the ones just inside are fine */
	expect_insert(f, 0xff000, 0x1000, 0);
	expect_insert(f, 0x110000, 0x1000, 0);
	expect_insert(f, 0x1000, 0x1000, 0);
	expect_insert(f, end - 0x2000, 0x1000, 0);
}

static void insert_eexist(void **state)
{
	struct fx *f = *state;
	struct gpuva *e = pool_n(f, 1), *left = pool_n(f, 1), *right = pool_n(f, 1);

	insert_va(&f->vm, e, 4 * PG, 4 * PG, &f->a.base, 0);

	expect_insert(f, 4 * PG, 4 * PG, -EEXIST);      /* same */
	expect_insert(f, 5 * PG, PG, -EEXIST);          /* inside */
	expect_insert(f, 4 * PG, PG, -EEXIST);          /* inside, same start */
	expect_insert(f, 7 * PG, PG, -EEXIST);          /* inside, same end */
	expect_insert(f, 3 * PG, 6 * PG, -EEXIST);      /* covering */
	expect_insert(f, 4 * PG, 5 * PG, -EEXIST);      /* covering, same start */
	expect_insert(f, 3 * PG, 5 * PG, -EEXIST);      /* covering, same end */
	expect_insert(f, 3 * PG, 2 * PG, -EEXIST);      /* left partial */
	expect_insert(f, 7 * PG, 2 * PG, -EEXIST);      /* right partial */
	expect_insert(f, 4 * PG - 1, 2, -EEXIST);       /* one byte each side */
	expect_insert(f, 8 * PG - 1, 2, -EEXIST);
	expect_insert(f, 6 * PG, 1, -EEXIST);           /* a single byte */

	/* touching on either side is fine */
	expect_insert(f, 3 * PG, PG, 0);
	expect_insert(f, 8 * PG, PG, 0);
	insert_va(&f->vm, left, 2 * PG, 2 * PG, NULL, 0);
	insert_va(&f->vm, right, 8 * PG, 2 * PG, NULL, 0);
	assert_ret(gpuvm_verify(&f->vm), 0);
	/* a range overlapping two mappings */
	expect_insert(f, 3 * PG, 6 * PG, -EEXIST);
	expect_insert(f, PG, 10 * PG, -EEXIST);
	expect_insert(f, PG, PG, 0);
	expect_insert(f, 10 * PG, PG, 0);
}

static void insert_ebusy(void **state)
{
	struct fx *f = *state;
	struct test_alloc ta2;
	struct gpuvm vm2;
	struct gpuva *va = pool_n(f, 1), *fake = pool_n(f, 1);
	char *before, *after;

	test_alloc_init(&ta2);
	tvm_init(&vm2, &ta2, NULL, 0x1000, 1ull << 32);

	insert_va(&f->vm, va, 0x2000, 0x1000, NULL, 0);
	before = dump(&vm2);
	assert_ret(gpuva_insert(&vm2, va), -EBUSY);
	after = dump(&vm2);
	assert_dump_equal(before, after);
	assert_ptr_equal(va->vm, &f->vm);
	assert_ptr_equal(gpuva_find(&f->vm, 0x2000, 0x1000), va);
	free(before);
	free(after);

	/* again into its own VM: inserted is inserted */
	before = dump(&f->vm);
	assert_ret(gpuva_insert(&f->vm, va), -EBUSY);
	after = dump(&f->vm);
	assert_dump_equal(before, after);
	free(before);
	free(after);

	/* a removed mapping keeps its vm, and may be inserted again */
	insert_va(&f->vm, fake, 0x8000, 0x1000, NULL, 0);
	assert_ret(gpuva_remove(fake), 0);
	assert_ptr_equal(fake->vm, &f->vm);
	assert_ret(gpuva_insert(&f->vm, fake), 0);
	assert_ptr_equal(gpuva_find(&f->vm, 0x8000, 0x1000), fake);
	assert_ret(gpuva_remove(fake), 0);

	/* once removed it can go into the other VM */
	assert_ret(gpuva_remove(va), 0);
	assert_ret(gpuva_insert(&vm2, va), 0);
	assert_ptr_equal(va->vm, &vm2);
	assert_null(gpuva_find(&f->vm, 0x2000, 0x1000));
	assert_ptr_equal(gpuva_find(&vm2, 0x2000, 0x1000), va);
	tvm_fini(&vm2, &ta2);
}

static void remove_enoent(void **state)
{
	struct fx *f = *state;
	struct gpuva *va = pool_n(f, 1), *other = pool_n(f, 1), *never = pool_n(f, 1);
	char *before, *after;

	assert_ret(gpuva_remove(NULL), -EINVAL);
	gpuva_init(never, 0x5000, 0x1000, NULL, 0);
	assert_ret(gpuva_remove(never), -ENOENT);

	insert_va(&f->vm, va, 0x2000, 0x1000, NULL, 0);
	insert_va(&f->vm, other, 0x3000, 0x1000, NULL, 0);
	assert_ret(gpuva_remove(va), 0);
	assert_false(va_inserted(va));
	before = dump(&f->vm);
	assert_ret(gpuva_remove(va), -ENOENT);
	assert_ret(gpuva_remove(va), -ENOENT);
	after = dump(&f->vm);
	assert_dump_equal(before, after);
	assert_ptr_equal(gpuva_find(&f->vm, 0x3000, 0x1000), other);
	assert_null(gpuva_find(&f->vm, 0x2000, 0x1000));
	free(before);
	free(after);
}

/* Removal neither allocates nor frees: it may run where neither is allowed. */
static void remove_no_alloc(void **state)
{
	struct fx *f = *state;
	const size_t n = 500;
	struct gpuva *va = pool_n(f, n);
	unsigned long calls, frees;

	for (size_t i = 0; i < n; i++)
		insert_va(&f->vm, &va[i], 0x200000 + i * 0x2000, 0x1000, NULL, 0);
	calls = f->ta.calls;
	frees = f->ta.frees;
	test_alloc_forbid(&f->ta, true);
	for (size_t i = 0; i < n; i += 3)
		assert_ret(gpuva_remove(&va[i]), 0);
	for (size_t i = 1; i < n; i += 3)
		assert_ret(gpuva_remove(&va[i]), 0);
	for (size_t i = 2; i < n; i += 3)
		assert_ret(gpuva_remove(&va[i]), 0);
	test_alloc_forbid(&f->ta, false);
	assert_int_equal(f->ta.calls, calls);
	assert_int_equal(f->ta.frees, frees);
	assert_null(gpuva_range_first(&f->vm, 0, 0));
	assert_ret(gpuvm_verify(&f->vm), 0);
}

static void find(void **state)
{
	struct fx *f = *state;
	struct gpuva *a = pool_n(f, 1), *b = pool_n(f, 1), *c = pool_n(f, 1);

	assert_null(gpuva_find(&f->vm, 2 * PG, PG));
	assert_null(gpuva_find_first(&f->vm, 0, UINT64_MAX));
	assert_null(gpuva_find_prev(&f->vm, 3 * PG));
	assert_null(gpuva_find_next(&f->vm, 3 * PG));

	insert_va(&f->vm, a, 2 * PG, PG, NULL, 0);
	insert_va(&f->vm, b, 3 * PG, 2 * PG, &f->a.base, 0);
	insert_va(&f->vm, c, 8 * PG, PG, &f->b.base, 0);

	/* exact */
	assert_ptr_equal(gpuva_find(&f->vm, 2 * PG, PG), a);
	assert_ptr_equal(gpuva_find(&f->vm, 3 * PG, 2 * PG), b);
	assert_ptr_equal(gpuva_find(&f->vm, 8 * PG, PG), c);
	assert_null(gpuva_find(&f->vm, 2 * PG, 2 * PG));
	assert_null(gpuva_find(&f->vm, 3 * PG, PG));
	assert_null(gpuva_find(&f->vm, 4 * PG, PG));
	assert_null(gpuva_find(&f->vm, 2 * PG + 1, PG - 1));
	assert_null(gpuva_find(&f->vm, PG, PG));
	assert_null(gpuva_find(&f->vm, 8 * PG, 0));

	/* first */
	assert_ptr_equal(gpuva_find_first(&f->vm, 0, 10 * PG), a);
	assert_ptr_equal(gpuva_find_first(&f->vm, 2 * PG + 1, 1), a);
	assert_ptr_equal(gpuva_find_first(&f->vm, PG, PG + 1), a);
	assert_null(gpuva_find_first(&f->vm, PG, PG));
	assert_ptr_equal(gpuva_find_first(&f->vm, 3 * PG, 1), b);
	assert_ptr_equal(gpuva_find_first(&f->vm, 4 * PG + 5, 10), b);
	assert_null(gpuva_find_first(&f->vm, 5 * PG, 3 * PG));
	assert_ptr_equal(gpuva_find_first(&f->vm, 5 * PG, 3 * PG + 1), c);
	assert_null(gpuva_find_first(&f->vm, 4 * PG, 0));
	assert_ptr_equal(gpuva_find_first(&f->vm, 6 * PG, UINT64_MAX), c);
	assert_ptr_equal(gpuva_find_first(&f->vm, 0, UINT64_MAX), a);
	assert_null(gpuva_find_first(&f->vm, 9 * PG, UINT64_MAX));
	assert_null(gpuva_find_first(&f->vm, UINT64_MAX, UINT64_MAX));

	/* prev: the mapping holding the byte before start (adjacent only) */
	assert_ptr_equal(gpuva_find_prev(&f->vm, 3 * PG), a);
	assert_ptr_equal(gpuva_find_prev(&f->vm, 5 * PG), b);
	assert_ptr_equal(gpuva_find_prev(&f->vm, 9 * PG), c);
	assert_null(gpuva_find_prev(&f->vm, 8 * PG));   /* gap before c */
	assert_null(gpuva_find_prev(&f->vm, 6 * PG));
	assert_null(gpuva_find_prev(&f->vm, 2 * PG));   /* gap before a */
	assert_ptr_equal(gpuva_find_prev(&f->vm, 4 * PG), b);   /* inside b */
	assert_ptr_equal(gpuva_find_prev(&f->vm, 2 * PG + 1), a);
	assert_null(gpuva_find_prev(&f->vm, 0));
	assert_null(gpuva_find_prev(&f->vm, 1));
	assert_null(gpuva_find_prev(&f->vm, UINT64_MAX));

	/* next: the mapping holding the byte at end (adjacent only) */
	assert_ptr_equal(gpuva_find_next(&f->vm, 2 * PG), a);
	assert_ptr_equal(gpuva_find_next(&f->vm, 3 * PG), b);
	assert_ptr_equal(gpuva_find_next(&f->vm, 8 * PG), c);
	assert_null(gpuva_find_next(&f->vm, 5 * PG));   /* gap after b */
	assert_null(gpuva_find_next(&f->vm, 8 * PG - 1)); /* c starts a byte later */
	assert_null(gpuva_find_next(&f->vm, 9 * PG));
	assert_ptr_equal(gpuva_find_next(&f->vm, 4 * PG), b);   /* inside b */
	assert_ptr_equal(gpuva_find_next(&f->vm, 9 * PG - 1), c);
	assert_null(gpuva_find_next(&f->vm, 0));
	assert_null(gpuva_find_next(&f->vm, UINT64_MAX));

	assert_ret(gpuva_remove(a), 0);
	assert_null(gpuva_find_prev(&f->vm, 3 * PG));
	assert_null(gpuva_find(&f->vm, 2 * PG, PG));
	assert_ptr_equal(gpuva_find_first(&f->vm, 0, UINT64_MAX), b);
}

static size_t collect(struct gpuvm *vm, uint64_t start, uint64_t end,
		      struct gpuva **out, size_t max)
{
	struct gpuva *va;
	size_t n = 0;

	gpuvm_for_each_va_range(va, vm, start, end) {
		assert_true(n < max);
		out[n++] = va;
	}
	return n;
}

static void iterate(void **state)
{
	struct fx *f = *state;
	struct gpuva *m = pool_n(f, 10), *got[16], *va;
	size_t n;

	assert_null(gpuva_range_first(&f->vm, 0, 0));
	n = 0;
	gpuvm_for_each_va(va, &f->vm)
		n++;
	assert_int_equal(n, 0);

	/* inserted out of order; m[i] = [(2i + 2)P, +P) */
	for (int i = 9; i >= 0; i -= 2)
		insert_va(&f->vm, &m[i], (2 * i + 2) * PG, PG, NULL, 0);
	for (int i = 0; i < 10; i += 2)
		insert_va(&f->vm, &m[i], (2 * i + 2) * PG, PG, NULL, 0);

	n = 0;
	gpuvm_for_each_va(va, &f->vm) {
		assert_ptr_equal(va, &m[n]);
		n++;
	}
	assert_int_equal(n, 10);

	/* a range that starts inside m[1] and ends touching m[5] */
	n = collect(&f->vm, 4 * PG + 0x800, 12 * PG, got, 16);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(got[i], &m[1 + i]);

	/* one that ends one byte into m[5] */
	n = collect(&f->vm, 5 * PG, 12 * PG + 1, got, 16);
	assert_int_equal(n, 4);
	assert_ptr_equal(got[0], &m[2]);
	assert_ptr_equal(got[3], &m[5]);

	/* end 0 is the end of everything */
	n = collect(&f->vm, 15 * PG, 0, got, 16);
	assert_int_equal(n, 3);
	assert_ptr_equal(got[0], &m[7]);

	/* empty or reversed ranges */
	assert_null(gpuva_range_first(&f->vm, 4 * PG, 4 * PG));
	assert_null(gpuva_range_first(&f->vm, 6 * PG, 4 * PG));
	assert_null(gpuva_range_first(&f->vm, 5 * PG, 6 * PG)); /* a gap */
	assert_ptr_equal(gpuva_range_first(&f->vm, 0, 2 * PG + 1), &m[0]);

	/* range_next stops at end */
	assert_ptr_equal(gpuva_range_next(&m[0], 0), &m[1]);
	assert_ptr_equal(gpuva_range_next(&m[0], 4 * PG + 1), &m[1]);
	assert_null(gpuva_range_next(&m[0], 4 * PG));
	assert_null(gpuva_range_next(&m[9], 0));
	assert_null(gpuva_range_next(&m[9], UINT64_MAX));
}

static void iterate_safe_remove(void **state)
{
	struct fx *f = *state;
	const size_t n = 300;
	struct gpuva *m = pool_n(f, n), *va, *next;
	size_t visited = 0;

	for (size_t i = 0; i < n; i++)
		insert_va(&f->vm, &m[i], 0x200000 + i * 2 * PG, PG, NULL, 0);

	/* remove a middle range while walking it */
	gpuvm_for_each_va_range_safe(va, next, &f->vm, 0x200000 + 50 * 2 * PG,
				     0x200000 + 250 * 2 * PG) {
		assert_ptr_equal(va, &m[50 + visited]);
		assert_ret(gpuva_remove(va), 0);
		memset(va, 0x6b, sizeof(*va)); /* as if freed */
		visited++;
	}
	assert_int_equal(visited, 200);
	assert_ret(gpuvm_verify(&f->vm), 0);
	assert_int_equal(f->vm.index.count, 100);
	assert_true(gpuvm_interval_empty(&f->vm, 0x200000 + 50 * 2 * PG, 400 * PG));

	/* then all of it */
	visited = 0;
	gpuvm_for_each_va_safe(va, next, &f->vm) {
		assert_ret(gpuva_remove(va), 0);
		visited++;
	}
	assert_int_equal(visited, 100);
	assert_null(gpuva_range_first(&f->vm, 0, 0));
}

/* The body replaces each mapping by two smaller ones below the next one. */
static void iterate_safe_replace(void **state)
{
	struct fx *f = *state;
	const size_t n = 200;
	struct gpuva *m = pool_n(f, n), *va, *next;
	struct gpuva *halves = pool_n(f, 2 * n);
	size_t used = 0;
	size_t visited = 0, count = 0;

	for (size_t i = 0; i < n; i++)
		insert_va(&f->vm, &m[i], 0x200000 + i * 4 * PG, 4 * PG, NULL, 0);

	gpuvm_for_each_va_safe(va, next, &f->vm) {
		uint64_t addr = va->va.addr;

		assert_ptr_equal(va, &m[visited]);
		assert_ret(gpuva_remove(va), 0);
		insert_va(&f->vm, &halves[used++], addr, PG, NULL, 0);
		insert_va(&f->vm, &halves[used++], addr + 2 * PG, 2 * PG, NULL, 0);
		visited++;
	}
	assert_int_equal(visited, n);
	gpuvm_for_each_va(va, &f->vm) {
		assert_ptr_equal(va, &halves[count]);
		count++;
	}
	assert_int_equal(count, 2 * n);
	assert_ret(gpuvm_verify(&f->vm), 0);
	tvm_clear(&f->vm);
}

/* Insert/remove against a plain model, in a small space where overlaps are common. */
static void insert_remove_model(void **state)
{
	struct fx *f = *state;
	enum { SLOTS = 256, STEPS = 6000 };
	struct gpuva *v = pool_n(f, SLOTS);
	bool in[SLOTS] = { false };
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	size_t live = 0;

	for (int step = 0; step < STEPS; step++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		size_t s = (rng >> 33) % SLOTS;

		if (in[s]) {
			assert_ret(gpuva_remove(&v[s]), 0);
			assert_ret(gpuva_remove(&v[s]), -ENOENT);
			in[s] = false;
			live--;
		} else {
			uint64_t addr = 0x200000 + ((rng >> 13) % 2048) * 0x100;
			uint64_t range = 0x100 * (1 + (rng >> 45) % 8);
			bool clash = false;

			for (size_t k = 0; k < SLOTS; k++)
				if (in[k] && addr < gpuva_end(&v[k]) && v[k].va.addr < addr + range)
					clash = true;
			gpuva_init(&v[s], addr, range, NULL, s);
			assert_ret(gpuva_insert(&f->vm, &v[s]), clash ? -EEXIST : 0);
			if (!clash) {
				in[s] = true;
				live++;
				assert_ptr_equal(gpuva_find(&f->vm, addr, range), &v[s]);
			}
		}
		if (step % 500 == 0) {
			struct gpuva *va;
			uint64_t prev_end = 0;
			size_t n = 0;

			assert_ret(gpuvm_verify(&f->vm), 0);
			gpuvm_for_each_va(va, &f->vm) {
				size_t k = (size_t)(va - v);

				assert_true(k < SLOTS && in[k]);
				assert_true(va->va.addr >= prev_end);
				prev_end = gpuva_end(va);
				n++;
			}
			assert_int_equal(n, live);
		}
	}
	tvm_clear(&f->vm);
}

static void link_errors(void **state)
{
	struct fx *f = *state;
	struct test_alloc ta2;
	struct gpuvm vm2;
	struct gpuva *va = pool_n(f, 1), *sparse = pool_n(f, 1);
	struct gpuvm_bo *bo_a, *bo_b, *bo_a2;
	char *before, *after;

	test_alloc_init(&ta2);
	tvm_init(&vm2, &ta2, NULL, 0x1000, 1ull << 32);
	insert_va(&f->vm, va, 0x2000, 0x1000, &f->a.base, 0);
	insert_va(&f->vm, sparse, 0x3000, 0x1000, NULL, 0);
	assert_ret(gpuvm_bo_obtain(&f->vm, &f->a.base, &bo_a), 0);
	assert_ret(gpuvm_bo_obtain(&f->vm, &f->b.base, &bo_b), 0);
	assert_ret(gpuvm_bo_obtain(&vm2, &f->a.base, &bo_a2), 0);
	struct gpuvm_gem *extra[] = { &f->a.base, &f->b.base };

	before = test_dump_vm(&f->vm, extra, 2);
	assert_ret(gpuva_link(NULL, bo_a), -EINVAL);
	assert_ret(gpuva_link(va, NULL), -EINVAL);
	assert_ret(gpuva_link(sparse, bo_a), -EINVAL);  /* sparse */
	assert_ret(gpuva_link(sparse, bo_b), -EINVAL);
	assert_ret(gpuva_link(va, bo_a2), -EINVAL);     /* other VM */
	assert_ret(gpuva_link(va, bo_b), -EINVAL);      /* other object */
	{
		/* never inserted, and inserted then removed (va->vm stays set) */
		struct gpuva *loose = pool_n(f, 1), *gone = pool_n(f, 1);

		gpuva_init(loose, 0x5000, 0x1000, &f->a.base, 0);
		assert_ret(gpuva_link(loose, bo_a), -EINVAL);
		insert_va(&f->vm, gone, 0x6000, 0x1000, &f->a.base, 0);
		assert_ret(gpuva_remove(gone), 0);
		assert_ptr_equal(gone->vm, &f->vm);
		assert_ret(gpuva_link(gone, bo_a), -EINVAL);
		assert_null(gpuva_vm_bo(gone));
	}
	after = test_dump_vm(&f->vm, extra, 2);
	assert_dump_equal(before, after);
	free(after);
	assert_null(gpuva_vm_bo(va));
	assert_null(gpuva_vm_bo(sparse));
	assert_int_equal(bo_a->refcount, 1);
	assert_int_equal(bo_b->refcount, 1);
	assert_int_equal(bo_a2->refcount, 1);
	assert_true(gpuvm_list_empty(&bo_a->list.gpuva));
	assert_true(gpuvm_list_empty(&bo_a2->list.gpuva));

	assert_ret(gpuva_link(va, bo_a), 0);
	assert_int_equal(bo_a->refcount, 2);
	after = test_dump_vm(&f->vm, extra, 2);
	assert_ret(gpuva_link(va, bo_a), -EBUSY);       /* twice */
	assert_int_equal(bo_a->refcount, 2);
	free(before);
	before = test_dump_vm(&f->vm, extra, 2);
	assert_dump_equal(after, before);
	free(after);

	assert_ret(gpuva_unlink(NULL), -EINVAL);
	assert_ret(gpuva_unlink(sparse), -ENOENT);
	assert_ret(gpuva_unlink(va), 0);
	assert_int_equal(bo_a->refcount, 1);
	assert_ret(gpuva_unlink(va), -ENOENT);
	assert_ret(gpuva_unlink(va), -ENOENT);
	assert_int_equal(bo_a->refcount, 1);
	assert_null(gpuva_vm_bo(va));
	assert_ptr_equal(gpuva_gem(va), &f->a.base);

	free(before);
	gpuvm_bo_put(bo_a);
	gpuvm_bo_put(bo_b);
	gpuvm_bo_put(bo_a2);
	tvm_fini(&vm2, &ta2);
}

static void link_refcounts_and_accessors(void **state)
{
	struct fx *f = *state;
	struct gpuva *v = pool_n(f, 4), *sparse = pool_n(f, 1);
	struct gpuvm_bo *bo, *it_bo;
	struct gpuva *it;
	size_t live0 = f->ta.live, n;
	unsigned int gem_ref0 = f->a.base.refcount, vm_ref0 = f->vm.refcount;

	insert_va(&f->vm, sparse, PG, PG, NULL, 0);
	assert_null(gpuva_gem(sparse));
	assert_null(gpuva_vm_bo(sparse));

	assert_ret(gpuvm_bo_obtain(&f->vm, &f->a.base, &bo), 0);
	assert_int_equal(bo->refcount, 1);
	assert_int_equal(f->a.base.refcount, gem_ref0 + 1);
	assert_int_equal(f->vm.refcount, vm_ref0 + 1);

	/* link in an order that is not the address order */
	const int order[4] = { 2, 0, 3, 1 };

	for (int i = 0; i < 4; i++)
		insert_va(&f->vm, &v[i], (4 + i) * PG, PG, &f->a.base, i * PG);
	for (int i = 0; i < 4; i++) {
		struct gpuva *va = &v[order[i]];

		assert_ptr_equal(gpuva_gem(va), &f->a.base);
		assert_null(gpuva_vm_bo(va));
		assert_ret(gpuva_link(va, bo), 0);
		assert_ptr_equal(gpuva_vm_bo(va), bo);
		assert_ptr_equal(gpuva_gem(va), &f->a.base);
		assert_int_equal(bo->refcount, 2 + i);
	}
	/* link order, kept */
	n = 0;
	gpuvm_bo_for_each_va(it, bo) {
		assert_ptr_equal(it, &v[order[n]]);
		n++;
	}
	assert_int_equal(n, 4);
	assert_ret(gpuvm_verify(&f->vm), 0);

	/* a removed mapping stays linked */
	assert_ret(gpuva_remove(&v[3]), 0);
	assert_ptr_equal(gpuva_vm_bo(&v[3]), bo);
	assert_int_equal(bo->refcount, 5);
	assert_ret(gpuva_unlink(&v[3]), 0);
	assert_int_equal(bo->refcount, 4);
	assert_null(gpuva_vm_bo(&v[3]));
	assert_ptr_equal(gpuva_gem(&v[3]), &f->a.base);

	/* drop obtain's reference: the links keep the vm_bo alive */
	assert_false(gpuvm_bo_put(bo));
	assert_int_equal(bo->refcount, 3);
	n = 0;
	gpuvm_gem_for_each_vm_bo(it_bo, &f->a.base) {
		assert_ptr_equal(it_bo, bo);
		n++;
	}
	assert_int_equal(n, 1);

	/* unlink in yet another order; the last one frees the vm_bo */
	assert_ret(gpuva_unlink(&v[0]), 0);
	assert_int_equal(bo->refcount, 2);
	n = 0;
	gpuvm_bo_for_each_va(it, bo) {
		assert_ptr_equal(it, n == 0 ? &v[2] : &v[1]);
		n++;
	}
	assert_int_equal(n, 2);
	assert_ret(gpuva_unlink(&v[2]), 0);
	assert_int_equal(bo->refcount, 1);
	assert_int_equal(f->a.base.refcount, gem_ref0 + 1);
	assert_ret(gpuva_unlink(&v[1]), 0);
	/* bo is gone now */
	assert_true(gpuvm_list_empty(&f->a.base.gpuva.list));
	assert_int_equal(f->a.base.refcount, gem_ref0);
	assert_int_equal(f->vm.refcount, vm_ref0);
	assert_null(gpuvm_bo_find(&f->vm, &f->a.base));
	for (int i = 0; i < 4; i++) {
		assert_null(gpuva_vm_bo(&v[i]));
		assert_ptr_equal(gpuva_gem(&v[i]), &f->a.base);
		assert_false(gpuvm_list_linked(&v[i].gem.entry));
	}
	/* inserted mappings only hold index nodes */
	assert_ret(gpuvm_verify(&f->vm), 0);
	tvm_clear(&f->vm);
	gpuvm_index_trim(&f->vm);
	assert_int_equal(f->ta.live, live0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(va_init_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(insert_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(insert_eexist, setup, teardown),
		cmocka_unit_test_setup_teardown(insert_ebusy, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_no_alloc, setup, teardown),
		cmocka_unit_test_setup_teardown(find, setup, teardown),
		cmocka_unit_test_setup_teardown(iterate, setup, teardown),
		cmocka_unit_test_setup_teardown(iterate_safe_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(iterate_safe_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(insert_remove_model, setup, teardown),
		cmocka_unit_test_setup_teardown(link_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(link_refcounts_and_accessors, setup, teardown),
	};

	return cmocka_run_group_tests_name("va", tests, NULL, NULL);
}
