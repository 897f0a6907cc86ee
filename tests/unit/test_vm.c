/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of struct gpuvm: init argument checking, the reserved region
 * and range validation, reference counting, fini, stats, verify, and the
 * index reservation calls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>
#include "index.h"

#include "test_util.h"

#define PATTERN 0x5a

/* gpuvm_init() must fail with -EINVAL and leave @vm byte for byte as it was. */
static void expect_init_einval(const struct gpuvm_init_opts *opts)
{
	struct gpuvm vm, copy;

	memset(&vm, PATTERN, sizeof(vm));
	memcpy(&copy, &vm, sizeof(vm));
	assert_ret(gpuvm_init(&vm, opts), -EINVAL);
	assert_memory_equal(&vm, &copy, sizeof(vm));
}

static void init_null_args(void **state)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .range = 1ull << 40);
	struct gpuvm vm, copy;

	(void)state;
	assert_ret(gpuvm_init(NULL, &opts), -EINVAL);
	assert_ret(gpuvm_init(NULL, NULL), -EINVAL);

	memset(&vm, PATTERN, sizeof(vm));
	memcpy(&copy, &vm, sizeof(vm));
	assert_ret(gpuvm_init(&vm, NULL), -EINVAL);
	assert_memory_equal(&vm, &copy, sizeof(vm));
}

static void init_bad_sz(void **state)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .range = 1ull << 40);

	(void)state;
	opts.sz = 0;
	expect_init_einval(&opts);
	opts.sz = sizeof(size_t);
	expect_init_einval(&opts);
	opts.sz = offsetof(struct gpuvm_init_opts, r_obj);
	expect_init_einval(&opts);
	opts.sz = sizeof(opts) - 1;
	expect_init_einval(&opts);
}

/* A newer caller's struct: ours at the start, unknown fields after it. */
struct init_opts_v2 {
	struct gpuvm_init_opts o;
	uint64_t newer_field;
	unsigned char more[7];
};

static void init_unknown_tail(void **state)
{
	struct init_opts_v2 big;
	struct gpuvm vm;

	(void)state;
	for (size_t at = 0; at < sizeof(big) - sizeof(big.o); at++) {
		memset(&big, 0, sizeof(big));
		big.o.sz = sizeof(big);
		big.o.range = 1ull << 40;
		((unsigned char *)&big)[sizeof(big.o) + at] = 1;
		expect_init_einval(&big.o);
	}

	/* an all-zero tail is fine: the newer fields are simply unused */
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.range = 1ull << 40;
	assert_ret(gpuvm_init(&vm, &big.o), 0);
	assert_int_equal(vm.mm_range, 1ull << 40);
	assert_ret(gpuvm_fini(&vm), 0);
}

static void init_flags(void **state)
{
	struct gpuvm_resv resv;
	struct gpuvm_gem r_obj, no_resv;
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .resv = &resv);
	GPUVM_OPTS(gpuvm_init_opts, opts, .range = 1ull << 40, .r_obj = &r_obj);
	struct gpuvm vm;

	(void)state;
	assert_ret(gpuvm_resv_init(&resv, NULL), 0);
	assert_ret(gpuvm_gem_init(&r_obj, &gopts), 0);
	gopts.resv = NULL;
	assert_ret(gpuvm_gem_init(&no_resv, &gopts), 0);
	/* every bit below USERBITS that has no meaning is refused */
	for (unsigned int bit = 0; bit < 16; bit++) {
		uint32_t f = 1u << bit;

		if (f == GPUVM_RESV_PROTECTED || f == GPUVM_IMMEDIATE_MODE)
			continue;
		opts.flags = f;
		expect_init_einval(&opts);
		opts.flags = f | GPUVM_RESV_PROTECTED;
		expect_init_einval(&opts);
	}

	/* known flags and driver bits are kept as given */
	const uint32_t good[] = {
		0,
		GPUVM_RESV_PROTECTED,
		GPUVM_IMMEDIATE_MODE,
		GPUVM_RESV_PROTECTED | GPUVM_IMMEDIATE_MODE,
		GPUVM_USERBITS,
		GPUVM_USERBITS << 5 | GPUVM_IMMEDIATE_MODE,
		1u << 31,
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		opts.flags = good[i];
		assert_ret(gpuvm_init(&vm, &opts), 0);
		assert_int_equal(vm.flags, good[i]);
		assert_ret(gpuvm_fini(&vm), 0);
	}

	/* RESV_PROTECTED lists are protected by the VM's reservation: it needs one */
	opts.flags = GPUVM_RESV_PROTECTED;
	opts.r_obj = NULL;
	expect_init_einval(&opts);
	opts.r_obj = &no_resv;
	expect_init_einval(&opts);
	opts.flags = GPUVM_RESV_PROTECTED | GPUVM_IMMEDIATE_MODE;
	expect_init_einval(&opts);
	opts.flags = GPUVM_IMMEDIATE_MODE;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_ret(gpuvm_fini(&vm), 0);
	assert_ret(gpuvm_gem_fini(&no_resv), 0);
	assert_ret(gpuvm_gem_fini(&r_obj), 0);
	assert_ret(gpuvm_resv_fini(&resv), 0);
}

static void init_space_overflow(void **state)
{
	GPUVM_OPTS(gpuvm_init_opts, opts);
	struct gpuvm vm;

	(void)state;
	/* start + range of exactly 2^64 */
	opts.start = 1ull << 63;
	opts.range = 1ull << 63;
	expect_init_einval(&opts);
	opts.start = 1;
	opts.range = UINT64_MAX;
	expect_init_einval(&opts);
	opts.start = UINT64_MAX;
	opts.range = 1;
	expect_init_einval(&opts);
	opts.start = UINT64_MAX;
	opts.range = UINT64_MAX;
	expect_init_einval(&opts);
	opts.start = 0x1000;
	opts.range = UINT64_MAX - 0xfff; /* 2^64 */
	expect_init_einval(&opts);

	/* ending at 2^64 - 1 is the largest space there is */
	opts.start = 0;
	opts.range = UINT64_MAX;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_int_equal(vm.mm_start, 0);
	assert_int_equal(vm.mm_range, UINT64_MAX);
	assert_ret(gpuvm_fini(&vm), 0);

	opts.start = 0x1000;
	opts.range = UINT64_MAX - 0x1000;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_ret(gpuvm_fini(&vm), 0);

	opts.start = UINT64_MAX;
	opts.range = 0;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_ret(gpuvm_fini(&vm), 0);
}

static void init_reserve_overflow(void **state)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .range = 1ull << 40);
	struct gpuvm vm;

	(void)state;
	opts.reserve_addr = 1ull << 63;
	opts.reserve_range = 1ull << 63;
	expect_init_einval(&opts);
	opts.reserve_addr = UINT64_MAX;
	opts.reserve_range = 1;
	expect_init_einval(&opts);
	opts.reserve_addr = 0x1000;
	opts.reserve_range = UINT64_MAX;
	expect_init_einval(&opts);

	/* up to 2^64 - 1, and wholly outside the space: both allowed */
	opts.reserve_addr = 1ull << 63;
	opts.reserve_range = (1ull << 63) - 1;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_int_equal(vm.reserve_addr, 1ull << 63);
	assert_int_equal(vm.reserve_range, (1ull << 63) - 1);
	assert_ret(gpuvm_fini(&vm), 0);
}

static void *one_alloc(void *u, size_t size, size_t align)
{
	(void)u;
	(void)size;
	(void)align;
	fail_msg("allocator with one hook was used");
	return NULL;
}

static void one_free(void *u, void *p, size_t size)
{
	(void)u;
	(void)p;
	(void)size;
	fail_msg("allocator with one hook was used");
}

static void init_allocator_one_hook(void **state)
{
	struct gpuvm_allocator only_alloc = { .alloc = one_alloc };
	struct gpuvm_allocator only_free = { .free = one_free };
	GPUVM_OPTS(gpuvm_init_opts, opts, .range = 1ull << 40);

	(void)state;
	opts.alloc = &only_alloc;
	expect_init_einval(&opts);
	only_alloc.user_data = &opts;
	expect_init_einval(&opts);
	opts.alloc = &only_free;
	expect_init_einval(&opts);
}

struct ops_v2 {
	struct gpuvm_ops o;
	void (*newer_hook)(void);
};

static void newer_hook(void)
{
}

static void init_bad_ops(void **state)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .range = 1ull << 40);
	struct gpuvm_ops ops = { .sz = sizeof(ops) };
	struct ops_v2 big;
	struct gpuvm vm;

	(void)state;
	opts.ops = &ops;
	ops.sz = 0;
	expect_init_einval(&opts);
	ops.sz = sizeof(size_t);
	expect_init_einval(&opts);
	ops.sz = sizeof(ops) - 1;
	expect_init_einval(&opts);

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.newer_hook = newer_hook;
	opts.ops = &big.o;
	expect_init_einval(&opts);

	big.newer_hook = NULL;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_ptr_equal(vm.ops, &big.o);
	assert_ret(gpuvm_fini(&vm), 0);

	ops.sz = sizeof(ops);
	opts.ops = &ops;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_ret(gpuvm_fini(&vm), 0);
}

static void init_fields(void **state)
{
	struct test_alloc ta;
	struct test_gem r;
	struct gpuvm_ops ops = { .sz = sizeof(ops) };
	struct gpuvm vm;

	(void)state;
	test_alloc_init(&ta);
	assert_ret(test_gem_init(&r, "R", 0x1000), 0);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "fields", .flags = GPUVM_IMMEDIATE_MODE,
		   .start = 0x10000, .range = 0x100000, .reserve_addr = 0x20000,
		   .reserve_range = 0x1000, .ops = &ops, .alloc = test_alloc_hooks(&ta),
		   .r_obj = &r.base);

	memset(&vm, PATTERN, sizeof(vm));
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_string_equal(vm.name, "fields");
	assert_ptr_equal(vm.name, opts.name);
	assert_int_equal(vm.flags, GPUVM_IMMEDIATE_MODE);
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(vm.mm_start, 0x10000);
	assert_int_equal(vm.mm_range, 0x100000);
	assert_int_equal(vm.reserve_addr, 0x20000);
	assert_int_equal(vm.reserve_range, 0x1000);
	assert_ptr_equal(vm.ops, &ops);
	assert_ptr_equal(vm.r_obj, &r.base);
	/* the hooks are copied, not referenced */
	assert_ptr_not_equal(&vm.alloc, opts.alloc);
	assert_ptr_equal(vm.alloc.alloc, ta.hooks.alloc);
	assert_ptr_equal(vm.alloc.free, ta.hooks.free);
	assert_ptr_equal(vm.alloc.user_data, &ta);
	/* the previous content (the pattern) is ignored */
	assert_int_equal(vm.index.count, 0);
	assert_int_equal(vm.index.height, 0);
	assert_null(gpuva_range_first(&vm, 0, 0));
	assert_true(gpuvm_interval_empty(&vm, 0x10000, 0x100000));
	/* "does not allocate" */
	assert_int_equal(ta.calls, 0);
	assert_ret(gpuvm_verify(&vm), 0);
	assert_ret(gpuvm_fini(&vm), 0);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);
	gpuvm_gem_put(&r.base);
	assert_int_equal(r.frees, 1);
}

static void init_null_allocator_and_name(void **state)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .start = 0, .range = 1ull << 40);
	struct gpuvm vm;
	struct gpuva va;

	(void)state;
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_null(vm.name);
	assert_null(vm.ops);
	/* libc allocation works for the index */
	insert_va(&vm, &va, 0x1000, 0x1000, NULL, 0);
	assert_ptr_equal(gpuva_find(&vm, 0x1000, 0x1000), &va);
	assert_ret(gpuva_remove(&va), 0);
	assert_ret(gpuvm_fini(&vm), 0);
}

static void range_zero_vm(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva va;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0x1000, 0);
	assert_int_equal(vm.mm_range, 0);
	assert_false(gpuvm_range_valid(&vm, 0x1000, 0));
	assert_false(gpuvm_range_valid(&vm, 0x1000, 1));
	assert_false(gpuvm_range_valid(&vm, 0, 0x1000));
	assert_false(gpuvm_range_valid(&vm, 0x800, 0x1000));
	gpuva_init(&va, 0x1000, 0x1000, NULL, 0);
	assert_ret(gpuva_insert(&vm, &va), -EINVAL);
	assert_null(va.vm);
	assert_true(gpuvm_interval_empty(&vm, 0, 0));
	assert_true(gpuvm_interval_empty(&vm, 0, UINT64_MAX));
	assert_ret(gpuvm_verify(&vm), 0);
	tvm_fini(&vm, &ta);
}

static void range_valid_edges(void **state)
{
	struct gpuvm vm;
	GPUVM_OPTS(gpuvm_init_opts, opts, .start = 0x1000, .range = 0x100000,
		   .reserve_addr = 0x10000, .reserve_range = 0x2000);
	const uint64_t end = 0x101000;

	(void)state;
	assert_ret(gpuvm_init(&vm, &opts), 0);

	/* zero range is never valid, even well inside */
	assert_false(gpuvm_range_valid(&vm, 0x2000, 0));
	assert_false(gpuvm_range_valid(&vm, 0x1000, 0));
	/* the whole space but for the reserve */
	assert_true(gpuvm_range_valid(&vm, 0x1000, 0x1000));
	assert_true(gpuvm_range_valid(&vm, 0x1000, 0xf000));
	assert_true(gpuvm_range_valid(&vm, end - 0x1000, 0x1000));
	assert_true(gpuvm_range_valid(&vm, 0x12000, end - 0x12000));
	/* touching the reserved region on either side */
	assert_true(gpuvm_range_valid(&vm, 0xf000, 0x1000));
	assert_true(gpuvm_range_valid(&vm, 0x12000, 0x1000));
	assert_true(gpuvm_range_valid(&vm, 0x1000, 0x10000 - 0x1000));
	/* intersecting it */
	assert_false(gpuvm_range_valid(&vm, 0xf000, 0x1001));
	assert_false(gpuvm_range_valid(&vm, 0x11fff, 0x1000));
	assert_false(gpuvm_range_valid(&vm, 0x10000, 0x2000));
	assert_false(gpuvm_range_valid(&vm, 0x10800, 0x100));
	assert_false(gpuvm_range_valid(&vm, 0xf000, 0x4000));
	assert_false(gpuvm_range_valid(&vm, 0x1000, 0x100000));
	assert_false(gpuvm_range_valid(&vm, 0x10000, 1));
	assert_false(gpuvm_range_valid(&vm, 0x11fff, 1));
	/* outside the space */
	assert_false(gpuvm_range_valid(&vm, 0, 0x1000));
	assert_false(gpuvm_range_valid(&vm, 0xfff, 0x1000));
	assert_false(gpuvm_range_valid(&vm, 0xfff, 1));
	assert_false(gpuvm_range_valid(&vm, end, 0x1000));
	assert_false(gpuvm_range_valid(&vm, end - 0x1000, 0x1001));
	assert_false(gpuvm_range_valid(&vm, end, 1));
	assert_false(gpuvm_range_valid(&vm, 0x20000, UINT64_MAX));
	assert_false(gpuvm_range_valid(&vm, UINT64_MAX, 1));
	assert_ret(gpuvm_fini(&vm), 0);

	/* the largest space: the last byte of the 64-bit space is never valid */
	GPUVM_OPTS(gpuvm_init_opts, full, .start = 0, .range = UINT64_MAX);
	assert_ret(gpuvm_init(&vm, &full), 0);
	assert_true(gpuvm_range_valid(&vm, 0, UINT64_MAX));
	assert_true(gpuvm_range_valid(&vm, UINT64_MAX - 0x1000, 0x1000));
	assert_true(gpuvm_range_valid(&vm, UINT64_MAX - 1, 1));
	assert_false(gpuvm_range_valid(&vm, UINT64_MAX, 1));
	assert_false(gpuvm_range_valid(&vm, UINT64_MAX - 0xfff, 0x1000));
	assert_false(gpuvm_range_valid(&vm, 1, UINT64_MAX));
	assert_false(gpuvm_range_valid(&vm, 1ull << 63, 1ull << 63));
	assert_false(gpuvm_range_valid(&vm, UINT64_MAX, UINT64_MAX));
	assert_ret(gpuvm_fini(&vm), 0);

	/* a reserve wholly outside the space has no effect */
	GPUVM_OPTS(gpuvm_init_opts, outside, .start = 0x100000, .range = 0x100000,
		   .reserve_addr = 0, .reserve_range = 0x100000);
	assert_ret(gpuvm_init(&vm, &outside), 0);
	assert_true(gpuvm_range_valid(&vm, 0x100000, 0x100000));
	assert_false(gpuvm_range_valid(&vm, 0xff000, 0x2000));
	assert_ret(gpuvm_fini(&vm), 0);

	/* a reserve straddling the start of the space */
	GPUVM_OPTS(gpuvm_init_opts, straddle, .start = 0x100000, .range = 0x100000,
		   .reserve_addr = 0xff000, .reserve_range = 0x2000);
	assert_ret(gpuvm_init(&vm, &straddle), 0);
	assert_false(gpuvm_range_valid(&vm, 0x100000, 0x1000));
	assert_true(gpuvm_range_valid(&vm, 0x101000, 0x1000));
	assert_ret(gpuvm_fini(&vm), 0);
}

static void interval_empty(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva a, b;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_true(gpuvm_interval_empty(&vm, 0, 1ull << 40));
	assert_true(gpuvm_interval_empty(&vm, 0, UINT64_MAX));

	insert_va(&vm, &a, 0x2000, 0x1000, NULL, 0);
	insert_va(&vm, &b, 0x10000, 0x4000, NULL, 0);

	assert_true(gpuvm_interval_empty(&vm, 0x1000, 0x1000)); /* touches a */
	assert_true(gpuvm_interval_empty(&vm, 0x3000, 0xd000)); /* between */
	assert_true(gpuvm_interval_empty(&vm, 0x14000, 0x1000)); /* after b */
	assert_false(gpuvm_interval_empty(&vm, 0x2000, 1));
	assert_false(gpuvm_interval_empty(&vm, 0x2fff, 1));
	assert_false(gpuvm_interval_empty(&vm, 0x1000, 0x1001));
	assert_false(gpuvm_interval_empty(&vm, 0, 1ull << 40));
	assert_false(gpuvm_interval_empty(&vm, 0x11000, 0x100));
	assert_false(gpuvm_interval_empty(&vm, 0x3000, 0xd001));
	assert_false(gpuvm_interval_empty(&vm, 0x13fff, 0x10));
	/* zero range: always empty */
	assert_true(gpuvm_interval_empty(&vm, 0x2000, 0));
	assert_true(gpuvm_interval_empty(&vm, 0x10800, 0));
	/* an overflowing range is clamped, not wrapped */
	assert_false(gpuvm_interval_empty(&vm, 0x3000, UINT64_MAX));
	assert_true(gpuvm_interval_empty(&vm, 0x14000, UINT64_MAX));
	assert_true(gpuvm_interval_empty(&vm, UINT64_MAX, UINT64_MAX));

	tvm_fini(&vm, &ta);
}

/* get/put without vm_free: the last put calls fini, the memory stays ours. */
static void get_put_plain(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva va;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);

	assert_null(gpuvm_get(NULL));
	gpuvm_put(NULL);

	assert_ptr_equal(gpuvm_get(&vm), &vm);
	assert_int_equal(vm.refcount, 2);
	assert_ptr_equal(gpuvm_get(&vm), &vm);
	assert_int_equal(vm.refcount, 3);
	gpuvm_put(&vm);
	assert_int_equal(vm.refcount, 2);
	gpuvm_put(&vm);
	assert_int_equal(vm.refcount, 1);

	/* leave a node in the cache: only fini frees it */
	insert_va(&vm, &va, 0x1000, 0x1000, NULL, 0);
	assert_ret(gpuva_remove(&va), 0);
	assert_true(ta.live > 0);

	gpuvm_put(&vm);
	assert_int_equal(vm.refcount, 0);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);
}

struct my_vm {
	unsigned int magic;
	struct gpuvm base;
};

static unsigned int vm_free_calls;
static int vm_free_fini_ret;

static void my_vm_free(struct gpuvm *vm)
{
	struct my_vm *m = (struct my_vm *)(void *)((char *)vm - offsetof(struct my_vm, base));

	assert_int_equal(m->magic, 0xfeed);
	vm_free_calls++;
	vm_free_fini_ret = gpuvm_fini(vm);
	free(m);
}

static void get_put_vm_free(void **state)
{
	static const struct gpuvm_ops ops = { .sz = sizeof(ops), .vm_free = my_vm_free };
	struct test_alloc ta;
	struct my_vm *m = calloc(1, sizeof(*m));
	struct gpuva va;

	(void)state;
	assert_non_null(m);
	m->magic = 0xfeed;
	test_alloc_init(&ta);
	tvm_init(&m->base, &ta, &ops, 0, 1ull << 40);
	vm_free_calls = 0;
	vm_free_fini_ret = 1;

	insert_va(&m->base, &va, 0x1000, 0x1000, NULL, 0);
	assert_ret(gpuva_remove(&va), 0);

	gpuvm_get(&m->base);
	gpuvm_put(&m->base);
	assert_int_equal(vm_free_calls, 0);
	assert_int_equal(m->base.refcount, 1);
	gpuvm_put(&m->base);
	assert_int_equal(vm_free_calls, 1);
	assert_int_equal(vm_free_fini_ret, 0);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);
}

static void fini_busy(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva va[40];
	char *before, *after;
	size_t live, bytes;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_ret(gpuvm_fini(NULL), -EINVAL);

	for (unsigned int i = 0; i < 40; i++)
		insert_va(&vm, &va[i], (i + 1) * 0x10000, 0x1000, NULL, 0);
	before = dump(&vm);
	live = ta.live;
	bytes = ta.live_bytes;
	assert_ret(gpuvm_fini(&vm), -EBUSY);
	after = dump(&vm);
	assert_dump_equal(before, after);
	assert_int_equal(ta.live, live);
	assert_int_equal(ta.live_bytes, bytes);
	assert_int_equal(ta.frees, 0);
	assert_ret(gpuvm_verify(&vm), 0);
	free(after);

	/* one left is still busy */
	for (unsigned int i = 1; i < 40; i++)
		assert_ret(gpuva_remove(&va[i]), 0);
	assert_ret(gpuvm_fini(&vm), -EBUSY);
	assert_ptr_equal(gpuva_find(&vm, 0x10000, 0x1000), &va[0]);
	assert_ret(gpuva_remove(&va[0]), 0);

	assert_ret(gpuvm_fini(&vm), 0);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);
	free(before);
}

static void stats(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuvm_stats st;
	struct gpuva *va;
	const size_t n = 600, node = gpuvm__index_node_size();

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	va = calloc(n, sizeof(*va));
	assert_non_null(va);

	assert_ret(gpuvm_stats(NULL, &st), -EINVAL);
	assert_ret(gpuvm_stats(&vm, NULL), -EINVAL);
	st.sz = 0;
	assert_ret(gpuvm_stats(&vm, &st), -EINVAL);
	st.sz = sizeof(st) - 1;
	assert_ret(gpuvm_stats(&vm, &st), -EINVAL);

	memset(&st, 0xff, sizeof(st));
	st.sz = sizeof(st);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.sz, sizeof(st));
	assert_int_equal(st.mappings, 0);
	assert_int_equal(st.index_nodes, 0);
	assert_int_equal(st.index_bytes, 0);
	assert_int_equal(st.cached_nodes, 0);
	assert_int_equal(st.cached_bytes, 0);
	assert_int_equal(st.height, 0);

	insert_va(&vm, &va[0], 0x1000, 0x1000, NULL, 0);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.mappings, 1);
	assert_int_equal(st.height, 1);
	assert_true(st.index_nodes >= 1);
	assert_int_equal(st.index_bytes, st.index_nodes * node);
	assert_int_equal(st.cached_bytes, st.cached_nodes * node);
	/* every block of the VM's allocator is an index node here */
	assert_int_equal(ta.live, st.index_nodes + st.cached_nodes);
	assert_int_equal(ta.live_bytes, st.index_bytes + st.cached_bytes);

	for (size_t i = 1; i < n; i++)
		insert_va(&vm, &va[i], (i + 1) * 0x1000, 0x1000, NULL, 0);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.mappings, n);
	assert_true(st.height >= 2);
	assert_true(st.index_nodes >= 3);
	assert_int_equal(st.index_bytes, st.index_nodes * node);
	assert_int_equal(ta.live, st.index_nodes + st.cached_nodes);
	assert_int_equal(ta.live_bytes, st.index_bytes + st.cached_bytes);
	assert_int_equal(st.mappings, vm.index.count);

	/* removal never frees: the nodes go to the cache */
	unsigned long frees = ta.frees;
	for (size_t i = 0; i < n; i++)
		assert_ret(gpuva_remove(&va[i]), 0);
	assert_int_equal(ta.frees, frees);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.mappings, 0);
	assert_int_equal(st.height, 0);
	assert_int_equal(st.index_nodes, 0);
	assert_int_equal(st.index_bytes, 0);
	assert_true(st.cached_nodes >= 3);
	assert_int_equal(st.cached_bytes, st.cached_nodes * node);
	assert_int_equal(ta.live, st.cached_nodes);

	gpuvm_index_trim(&vm);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.cached_nodes, 0);
	assert_int_equal(st.cached_bytes, 0);
	assert_int_equal(ta.live, 0);

	/* a larger (newer) stats struct is filled as far as known */
	struct {
		struct gpuvm_stats s;
		uint64_t newer;
	} big;
	memset(&big, 0, sizeof(big));
	big.s.sz = sizeof(big);
	insert_va(&vm, &va[0], 0x1000, 0x1000, NULL, 0);
	assert_ret(gpuvm_stats(&vm, &big.s), 0);
	assert_int_equal(big.s.mappings, 1);

	tvm_fini(&vm, &ta);
	free(va);
}

static void verify_healthy_and_corrupt(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm, other;
	struct gpuva *va;
	const size_t n = 300;
	uint64_t saved;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0x1000, 1ull << 40);
	tvm_init(&other, &ta, NULL, 0x1000, 1ull << 40);
	va = calloc(n, sizeof(*va));
	assert_non_null(va);

	assert_ret(gpuvm_verify(NULL), -EINVAL);
	assert_ret(gpuvm_verify(&vm), 0);
	for (size_t i = 0; i < n; i++) {
		insert_va(&vm, &va[i], 0x10000 * (i + 1), 0x2000, NULL, i);
		if (i % 37 == 0)
			assert_ret(gpuvm_verify(&vm), 0);
	}
	assert_ret(gpuvm_verify(&vm), 0);

	/* a start address moved behind the index's back */
	saved = va[100].va.addr;
	va[100].va.addr += 0x1000;
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	va[100].va.addr = saved;
	assert_ret(gpuvm_verify(&vm), 0);

	/* a range grown over the next mapping */
	saved = va[10].va.range;
	va[10].va.range = 0x10000 + 0x1000;
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	va[10].va.range = saved;
	assert_ret(gpuvm_verify(&vm), 0);

	/* a range grown out of the space */
	saved = va[n - 1].va.range;
	va[n - 1].va.range = 1ull << 41;
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	va[n - 1].va.range = saved;
	assert_ret(gpuvm_verify(&vm), 0);

	/* a mapping that claims another VM */
	va[5].vm = &other;
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	va[5].vm = &vm;
	assert_ret(gpuvm_verify(&vm), 0);

	/* the mapping count of the index */
	vm.index.count++;
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	vm.index.count--;
	assert_ret(gpuvm_verify(&vm), 0);

	for (size_t i = 0; i < n; i += 2)
		assert_ret(gpuva_remove(&va[i]), 0);
	assert_ret(gpuvm_verify(&vm), 0);
	tvm_clear(&vm);
	assert_ret(gpuvm_verify(&vm), 0);
	assert_ret(gpuvm_fini(&other), 0);
	tvm_fini(&vm, &ta);
	free(va);
}

static void verify_reserved_overlap(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva va;

	(void)state;
	test_alloc_init(&ta);
	GPUVM_OPTS(gpuvm_init_opts, opts, .start = 0, .range = 1ull << 32,
		   .reserve_addr = 0x100000, .reserve_range = 0x1000,
		   .alloc = test_alloc_hooks(&ta));
	assert_ret(gpuvm_init(&vm, &opts), 0);
	insert_va(&vm, &va, 0xff000, 0x1000, NULL, 0);
	assert_ret(gpuvm_verify(&vm), 0);
	va.va.range = 0x2000; /* now over the reserved region */
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	va.va.range = 0x1000;
	assert_ret(gpuvm_verify(&vm), 0);
	tvm_fini(&vm, &ta);
}

static void verify_linked(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm, other;
	struct test_gem a;
	struct gpuva va;
	struct gpuvm_bo *vm_bo, *other_bo;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	tvm_init(&other, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&a, "A", 0x100000), 0);

	insert_linked(&vm, &va, 0x1000, 0x1000, &a.base, 0);
	assert_ret(gpuvm_verify(&vm), 0);
	vm_bo = gpuva_vm_bo(&va);
	assert_non_null(vm_bo);

	/* the mapping points at a vm_bo of another VM */
	assert_ret(gpuvm_bo_obtain(&other, &a.base, &other_bo), 0);
	va.gem.owner_ = (uintptr_t)other_bo | GPUVA__OWNER_IS_VM_BO;
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	va.gem.owner_ = (uintptr_t)vm_bo | GPUVA__OWNER_IS_VM_BO;
	assert_ret(gpuvm_verify(&vm), 0);
	gpuvm_bo_put(other_bo);

	/* linked, but taken off its vm_bo's list */
	gpuvm_list_del(&va.gem.entry);
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	gpuvm_list_add_tail(&va.gem.entry, &vm_bo->list.gpuva);
	assert_ret(gpuvm_verify(&vm), 0);

	tvm_fini(&vm, &ta);
	assert_ret(gpuvm_fini(&other), 0);
	gpuvm_gem_put(&a.base);
	assert_int_equal(a.frees, 1);
	assert_int_equal(a.fini_ret, 0);
	assert_int_equal(ta.live, 0);
}

static void index_reserve(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuvm_stats st = { .sz = sizeof(st) };
	struct gpuva *va, *extra;
	struct gpuva_op_map op;
	const size_t n = 400, more = 64;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	va = calloc(n, sizeof(*va));
	extra = calloc(more, sizeof(*extra));
	assert_non_null(va);
	assert_non_null(extra);

	assert_ret(gpuvm_index_reserve(NULL, 1), -EINVAL);
	assert_ret(gpuvm_index_reserve(&vm, 0), 0);
	gpuvm_index_unreserve(&vm, 0);

	for (size_t i = 0; i < n; i++)
		insert_va(&vm, &va[i], 0x100000 * (i + 1), 0x1000, NULL, 0);
	gpuvm_index_trim(&vm);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.cached_nodes, 0);

	/* what is reserved covers the inserts: applying them cannot allocate */
	for (unsigned int inserts = 1; inserts <= more; inserts *= 4) {
		size_t before = ta.live;

		assert_ret(gpuvm_index_reserve(&vm, inserts), 0);
		assert_ret(gpuvm_stats(&vm, &st), 0);
		assert_true(st.cached_nodes >= 1);
		assert_int_equal(ta.live, before + st.cached_nodes);
		/* trim leaves what is reserved */
		gpuvm_index_trim(&vm);
		assert_ret(gpuvm_stats(&vm, &st), 0);
		assert_true(st.cached_nodes >= 1);

		test_alloc_forbid(&ta, true);
		for (unsigned int k = 0; k < inserts; k++) {
			/* all in one spot, so the same leaf keeps splitting */
			op = (struct gpuva_op_map){
				.va.addr = 0x100000 * 7 + 0x1000 + 0x10 * (inserts + k),
				.va.range = 0x10,
			};
			assert_ret(gpuva_map(&vm, &extra[k], &op), 0);
		}
		test_alloc_forbid(&ta, false);
		gpuvm_index_unreserve(&vm, inserts);
		assert_ret(gpuvm_verify(&vm), 0);
		for (unsigned int k = 0; k < inserts; k++)
			assert_ret(gpuva_remove(&extra[k]), 0);
		gpuvm_index_trim(&vm);
		assert_ret(gpuvm_stats(&vm, &st), 0);
		assert_int_equal(st.cached_nodes, 0);
		assert_int_equal(ta.live, st.index_nodes);
	}

	tvm_fini(&vm, &ta);
	free(va);
	free(extra);
}

/*
 * unreserve(n) gives back what reserve(n) took, even when the tree's height
 * changed in between (the caller inserted or removed meanwhile): once every
 * reservation is given back, trim frees the whole cache.
 */
static void index_unreserve_after_height_change(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuvm_stats st = { .sz = sizeof(st) };
	struct gpuva *va;
	const size_t n = 2000;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	va = calloc(n, sizeof(*va));
	assert_non_null(va);

	/* reserved on a tall tree, given back on an empty one */
	for (size_t i = 0; i < n; i++)
		insert_va(&vm, &va[i], 0x1000 * (i + 1), 0x800, NULL, 0);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_true(st.height >= 2);
	assert_ret(gpuvm_index_reserve(&vm, 4), 0);
	for (size_t i = 0; i < n; i++)
		assert_ret(gpuva_remove(&va[i]), 0);
	gpuvm_index_unreserve(&vm, 4);
	gpuvm_index_trim(&vm);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.cached_nodes, 0);
	assert_int_equal(ta.live, 0);

	/* reserved on an empty tree, given back on a tall one */
	assert_ret(gpuvm_index_reserve(&vm, 4), 0);
	for (size_t i = 0; i < n; i++)
		insert_va(&vm, &va[i], 0x1000 * (i + 1), 0x800, NULL, 0);
	assert_ret(gpuvm_index_reserve(&vm, 1), 0); /* a second, outstanding one */
	assert_ret(gpuvm_stats(&vm, &st), 0);
	size_t with_both = vm.index.reserved;

	assert_int_equal(with_both, 5); /* reservations count inserts */
	assert_true(st.cached_nodes >= gpuvm__index_need(&vm.index, 5));
	gpuvm_index_unreserve(&vm, 4);
	/* the outstanding reservation is still whole, at the current height */
	assert_int_equal(vm.index.reserved, 1);
	gpuvm_index_trim(&vm);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.cached_nodes, gpuvm__index_need(&vm.index, 1));
	gpuvm_index_unreserve(&vm, 1);
	assert_int_equal(vm.index.reserved, 0);

	tvm_fini(&vm, &ta);
	free(va);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_null_args),
		cmocka_unit_test(init_bad_sz),
		cmocka_unit_test(init_unknown_tail),
		cmocka_unit_test(init_flags),
		cmocka_unit_test(init_space_overflow),
		cmocka_unit_test(init_reserve_overflow),
		cmocka_unit_test(init_allocator_one_hook),
		cmocka_unit_test(init_bad_ops),
		cmocka_unit_test(init_fields),
		cmocka_unit_test(init_null_allocator_and_name),
		cmocka_unit_test(range_zero_vm),
		cmocka_unit_test(range_valid_edges),
		cmocka_unit_test(interval_empty),
		cmocka_unit_test(get_put_plain),
		cmocka_unit_test(get_put_vm_free),
		cmocka_unit_test(fini_busy),
		cmocka_unit_test(stats),
		cmocka_unit_test(verify_healthy_and_corrupt),
		cmocka_unit_test(verify_reserved_overlap),
		cmocka_unit_test(verify_linked),
		cmocka_unit_test(index_reserve),
		cmocka_unit_test(index_unreserve_after_height_change),
	};

	return cmocka_run_group_tests_name("vm", tests, NULL, NULL);
}
