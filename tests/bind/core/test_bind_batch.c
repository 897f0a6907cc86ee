/* SPDX-License-Identifier: MIT */
/*
 * Batches on their own: the shape checks of gpuvm_bind_batch_add() and
 * gpuvm_bind_batch_add_sync() (every -EINVAL case, the batch unchanged),
 * the accessors, reset, and the coalescing rules; the driver table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <gpuvm/bind.h>
#include "bind/bind_internal.h"

#define PG 4096ull

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

static void test_op_shape(void **state)
{
	(void)state;
	static const struct {
		struct gpuvm_bind_op op;
		int ret;
		const char *what;
	} cases[] = {
		{ { .type = 0, .range = PG }, -EINVAL, "type 0" },
		{ { .type = 7, .range = PG }, -EINVAL, "type 7" },
		{ { .type = GPUVM_BIND_OP_MAP, .handle = 1, .range = PG, .flags = 1u << 5 },
		  -EINVAL,
		  "unknown flag" },
		{ { .type = GPUVM_BIND_OP_UNMAP, .range = PG, .flags = GPUVM_BIND_READ_ONLY },
		  -EINVAL,
		  "flags on unmap" },
		{ { .type = GPUVM_BIND_OP_PREFETCH, .range = PG, .flags = GPUVM_BIND_DUMPABLE },
		  -EINVAL,
		  "flags on prefetch" },
		{ { .type = GPUVM_BIND_OP_MAP, .range = PG }, -EINVAL, "map without handle" },
		{ { .type = GPUVM_BIND_OP_UNMAP_BO }, -EINVAL, "unmap_bo without handle" },
		{ { .type = GPUVM_BIND_OP_UNMAP, .handle = 1, .range = PG },
		  -EINVAL,
		  "handle on unmap" },
		{ { .type = GPUVM_BIND_OP_MAP_SPARSE, .handle = 1, .range = PG },
		  -EINVAL,
		  "handle on map_sparse" },
		{ { .type = GPUVM_BIND_OP_PREFETCH, .handle = 1, .range = PG },
		  -EINVAL,
		  "handle on prefetch" },
		{ { .type = GPUVM_BIND_OP_UNMAP_SPARSE, .handle = 1, .range = PG },
		  -EINVAL,
		  "handle on unmap_sparse" },
		{ { .type = GPUVM_BIND_OP_UNMAP, .driver_arg = 1, .range = PG },
		  -EINVAL,
		  "driver_arg on unmap" },
		{ { .type = GPUVM_BIND_OP_MAP_SPARSE, .driver_arg = 1, .range = PG },
		  -EINVAL,
		  "driver_arg on map_sparse" },
		{ { .type = GPUVM_BIND_OP_UNMAP_BO, .handle = 1, .driver_arg = 1 },
		  -EINVAL,
		  "driver_arg on unmap_bo" },
		{ { .type = GPUVM_BIND_OP_UNMAP, .offset = PG, .range = PG },
		  -EINVAL,
		  "offset on unmap" },
		{ { .type = GPUVM_BIND_OP_MAP_SPARSE, .offset = PG, .range = PG },
		  -EINVAL,
		  "offset on map_sparse" },
		{ { .type = GPUVM_BIND_OP_PREFETCH, .offset = PG, .range = PG },
		  -EINVAL,
		  "offset on prefetch" },
		{ { .type = GPUVM_BIND_OP_UNMAP_BO, .handle = 1, .offset = PG },
		  -EINVAL,
		  "offset on unmap_bo" },
		{ { .type = GPUVM_BIND_OP_UNMAP_BO, .handle = 1, .addr = PG },
		  -EINVAL,
		  "addr on unmap_bo" },
		{ { .type = GPUVM_BIND_OP_UNMAP_BO, .handle = 1, .range = PG },
		  -EINVAL,
		  "range on unmap_bo" },
		{ { .type = GPUVM_BIND_OP_MAP, .handle = 1 }, -EINVAL, "map range 0" },
		{ { .type = GPUVM_BIND_OP_UNMAP }, -EINVAL, "unmap range 0" },
		{ { .type = GPUVM_BIND_OP_PREFETCH }, -EINVAL, "prefetch range 0" },
		{ { .type = GPUVM_BIND_OP_MAP_SPARSE }, -EINVAL, "map_sparse range 0" },
		{ { .type = GPUVM_BIND_OP_UNMAP_SPARSE }, -EINVAL, "unmap_sparse range 0" },
		{ { .type = GPUVM_BIND_OP_UNMAP, .addr = UINT64_MAX - PG + 1, .range = PG },
		  -EINVAL,
		  "addr+range = 2^64" },
		{ { .type = GPUVM_BIND_OP_UNMAP, .addr = UINT64_MAX - PG, .range = 2 * PG },
		  -EINVAL,
		  "addr+range overflows" },
		{ { .type = GPUVM_BIND_OP_MAP,
		    .handle = 1,
		    .offset = UINT64_MAX - PG,
		    .range = 2 * PG },
		  -EINVAL,
		  "offset+range overflows" },
		/* accepted shapes */
		{ { .type = GPUVM_BIND_OP_MAP,
		    .handle = 1,
		    .range = PG,
		    .offset = PG,
		    .driver_arg = 3,
		    .flags = GPUVM_BIND_READ_ONLY | GPUVM_BIND_IMMEDIATE },
		  0,
		  "map" },
		{ { .type = GPUVM_BIND_OP_MAP_SPARSE, .range = PG, .flags = GPUVM_BIND_DUMPABLE },
		  0,
		  "map_sparse" },
		{ { .type = GPUVM_BIND_OP_UNMAP, .addr = UINT64_MAX - PG, .range = PG },
		  0,
		  "unmap at the top" },
		{ { .type = GPUVM_BIND_OP_UNMAP_BO, .handle = 9 }, 0, "unmap_bo" },
		{ { .type = GPUVM_BIND_OP_PREFETCH, .range = PG, .driver_arg = 2 }, 0, "prefetch" },
		{ { .type = GPUVM_BIND_OP_UNMAP_SPARSE, .range = PG }, 0, "unmap_sparse" },
	};
	struct gpuvm_bind_batch *b;
	size_t accepted = 0, n;

	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = gpuvm_bind_batch_add(b, &cases[i].op);

		if (ret != cases[i].ret)
			fail_msg("%s: got %d, want %d", cases[i].what, ret, cases[i].ret);
		accepted += ret == 0;
		gpuvm_bind_batch_ops(b, &n);
		assert_int_equal(n, accepted);
	}
	assert_int_equal(gpuvm_bind_batch_add(NULL, &cases[0].op), -EINVAL);
	assert_int_equal(gpuvm_bind_batch_add(b, NULL), -EINVAL);
	/* the accepted ops, in order, as given */
	const struct gpuvm_bind_op *ops = gpuvm_bind_batch_ops(b, &n);
	size_t j = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!cases[i].ret)
			assert_memory_equal(&ops[j++], &cases[i].op, sizeof(cases[i].op));
	gpuvm_bind_batch_reset(b);
	gpuvm_bind_batch_ops(b, &n);
	assert_int_equal(n, 0);
	gpuvm_bind_batch_destroy(b);
}

static void test_sync_shape(void **state)
{
	(void)state;
	static const struct {
		struct gpuvm_bind_sync s;
		int ret;
	} cases[] = {
		{ { .handle = 0 }, -EINVAL },
		{ { .handle = 1, .flags = 1u << 2 }, -EINVAL },
		{ { .handle = 1, .flags = GPUVM_BIND_SYNC_TIMELINE }, -EINVAL },
		{ { .handle = 1, .point = 5 }, -EINVAL },
		{ { .handle = 1, .flags = GPUVM_BIND_SYNC_SIGNAL, .point = 5 }, -EINVAL },
		{ { .handle = 1 }, 0 },
		{ { .handle = 2, .flags = GPUVM_BIND_SYNC_SIGNAL }, 0 },
		{ { .handle = 3, .flags = GPUVM_BIND_SYNC_TIMELINE, .point = 7 }, 0 },
		{ { .handle = 4,
		    .flags = GPUVM_BIND_SYNC_TIMELINE | GPUVM_BIND_SYNC_SIGNAL,
		    .point = 1 },
		  0 },
	};
	struct gpuvm_bind_batch *b;
	size_t n, accepted = 0;

	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(gpuvm_bind_batch_add_sync(b, &cases[i].s), cases[i].ret);
		accepted += !cases[i].ret;
		gpuvm_bind_batch_syncs(b, &n);
		assert_int_equal(n, accepted);
	}
	assert_int_equal(gpuvm_bind_batch_add_sync(b, NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_batch_add_sync(NULL, &cases[5].s), -EINVAL);
	const struct gpuvm_bind_sync *s = gpuvm_bind_batch_syncs(b, &n);

	assert_int_equal(s[0].handle, 1);
	assert_int_equal(s[3].point, 1);
	gpuvm_bind_batch_destroy(b);
}

static void test_batch_create(void **state)
{
	(void)state;
	struct gpuvm_bind_batch *b;
	struct {
		struct gpuvm_bind_batch_opts o;
		uint64_t tail;
	} big = { .o = { .sz = sizeof(big) } };

	assert_int_equal(gpuvm_bind_batch_create(NULL, NULL), -EINVAL);
	GPUVM_OPTS(gpuvm_bind_batch_opts, bad, .flags = 2);
	assert_int_equal(gpuvm_bind_batch_create(&bad, &b), -EINVAL);
	GPUVM_OPTS(gpuvm_bind_batch_opts, shortsz);
	shortsz.sz = sizeof(size_t);
	assert_int_equal(gpuvm_bind_batch_create(&shortsz, &b), -EINVAL);
	big.tail = 1;
	assert_int_equal(gpuvm_bind_batch_create(&big.o, &b), -EINVAL);
	big.tail = 0;
	big.o.queue_id = 4;
	big.o.flags = GPUVM_BIND_BATCH_ASYNC;
	assert_int_equal(gpuvm_bind_batch_create(&big.o, &b), 0);
	assert_int_equal(gpuvm_bind_batch_queue(b), 4);
	assert_int_equal(gpuvm_bind_batch_flags(b), GPUVM_BIND_BATCH_ASYNC);
	/* many ops: the arrays grow */
	for (uint64_t i = 0; i < 1000; i++) {
		struct gpuvm_bind_op op = mkop(GPUVM_BIND_OP_UNMAP, 0, 0, 0, i * 2 * PG, PG, 0);

		assert_int_equal(gpuvm_bind_batch_add(b, &op), 0);
	}
	size_t n;
	const struct gpuvm_bind_op *ops = gpuvm_bind_batch_ops(b, &n);

	assert_int_equal(n, 1000);
	assert_int_equal(ops[999].addr, 999 * 2 * PG);
	/* nothing adjacent: nothing merges */
	assert_int_equal(gpuvm_bind_batch_coalesce(b), 0);
	assert_int_equal(gpuvm_bind_batch_coalesce(NULL), -EINVAL);
	gpuvm_bind_batch_destroy(b);
	gpuvm_bind_batch_destroy(NULL);
}

/* Coalesce @in (n ops) and compare with @want (m ops). */
static void coalesce_case(const char *what, const struct gpuvm_bind_op *in, size_t n,
			  const struct gpuvm_bind_op *want, size_t m)
{
	struct gpuvm_bind_batch *b;
	const struct gpuvm_bind_op *got;
	size_t k;

	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(gpuvm_bind_batch_add(b, &in[i]), 0);
	if (gpuvm_bind_batch_coalesce(b) != (int)(n - m))
		fail_msg("%s: removed count", what);
	got = gpuvm_bind_batch_ops(b, &k);
	assert_int_equal(k, m);
	for (size_t i = 0; i < m; i++)
		if (memcmp(&got[i], &want[i], sizeof(want[i])))
			fail_msg("%s: op %zu differs", what, i);
	gpuvm_bind_batch_destroy(b);
}

#define M(h, f, arg, a, r, o) mkop(GPUVM_BIND_OP_MAP, f, h, arg, a, r, o)
#define U(a, r) mkop(GPUVM_BIND_OP_UNMAP, 0, 0, 0, a, r, 0)
#define S(a, r) mkop(GPUVM_BIND_OP_MAP_SPARSE, 0, 0, 0, a, r, 0)
#define P(arg, a, r) mkop(GPUVM_BIND_OP_PREFETCH, 0, 0, arg, a, r, 0)
#define UB(h) mkop(GPUVM_BIND_OP_UNMAP_BO, 0, h, 0, 0, 0, 0)
#define US(a, r) mkop(GPUVM_BIND_OP_UNMAP_SPARSE, 0, 0, 0, a, r, 0)
#define N(x) (sizeof(x) / sizeof((x)[0]))

static void test_coalesce(void **state)
{
	(void)state;
	{
		/* three adjacent maps of one object, then a gap in the object */
		struct gpuvm_bind_op in[] = { M(1, 0, 0, 0, PG, 0), M(1, 0, 0, PG, PG, PG),
					      M(1, 0, 0, 2 * PG, 2 * PG, 2 * PG),
					      M(1, 0, 0, 4 * PG, PG, 8 * PG) };
		struct gpuvm_bind_op want[] = { M(1, 0, 0, 0, 4 * PG, 0),
						M(1, 0, 0, 4 * PG, PG, 8 * PG) };
		coalesce_case("maps", in, N(in), want, N(want));
	}
	{
		/* other handle, flags, driver_arg, or reversed order: no merge */
		struct gpuvm_bind_op in[] = { M(1, 0, 0, 0, PG, 0), M(2, 0, 0, PG, PG, PG),
					      M(2, GPUVM_BIND_READ_ONLY, 0, 2 * PG, PG, 2 * PG),
					      M(2, GPUVM_BIND_READ_ONLY, 1, 3 * PG, PG, 3 * PG),
					      M(2, GPUVM_BIND_READ_ONLY, 1, 2 * PG, PG, 2 * PG) };
		coalesce_case("map mismatches", in, N(in), in, N(in));
	}
	{
		/* sparse, unmap, prefetch (same arg) merge; kinds never mix */
		struct gpuvm_bind_op in[] = { S(0, PG),		 S(PG, PG),	   U(2 * PG, PG),
					      U(3 * PG, 2 * PG), P(1, 5 * PG, PG), P(1, 6 * PG, PG),
					      P(2, 7 * PG, PG),	 S(8 * PG, PG) };
		struct gpuvm_bind_op want[] = { S(0, 2 * PG), U(2 * PG, 3 * PG),
						P(1, 5 * PG, 2 * PG), P(2, 7 * PG, PG),
						S(8 * PG, PG) };
		coalesce_case("sparse/unmap/prefetch", in, N(in), want, N(want));
	}
	{
		/* unmap_bo and unmap_sparse never merge */
		struct gpuvm_bind_op in[] = { UB(1), UB(1), US(0, PG), US(PG, PG) };
		coalesce_case("unmap_bo/unmap_sparse", in, N(in), in, N(in));
	}
	{
		/* only consecutive ops: an op in between stops the merge */
		struct gpuvm_bind_op in[] = { U(0, PG),	     P(0, 0, PG),
					      U(PG, PG),     M(1, 0, 0, 0, PG, 0),
					      U(8 * PG, PG), M(1, 0, 0, PG, PG, PG) };
		coalesce_case("non-consecutive", in, N(in), in, N(in));
	}
	{
		/* a gap or an overlap in VA does not merge */
		struct gpuvm_bind_op in[] = { U(0, PG), U(2 * PG, PG), U(2 * PG, PG) };
		coalesce_case("gap", in, N(in), in, N(in));
	}
	{
		/* up to the top of the address space: merges, the sum still fits */
		struct gpuvm_bind_op in[] = { U(UINT64_MAX - 3 * PG + 1 - PG, 2 * PG),
					      U(UINT64_MAX - PG + 1 - PG, PG) };
		struct gpuvm_bind_op want[] = { U(UINT64_MAX - 3 * PG + 1 - PG, 3 * PG) };
		coalesce_case("top", in, N(in), want, N(want));
	}
}

/*
 * Overflow: ops a decoder put in directly (the batch layout is the
 * library's), where the first's end wraps to the second's start; merging
 * would make a range that does not fit.
 */
static void test_coalesce_overflow(void **state)
{
	(void)state;
	struct gpuvm_bind_batch *b;
	struct gpuvm_bind_op ops[3] = {
		U(UINT64_MAX - PG + 1, PG), /* ends at 2^64, i.e. wraps to 0 */
		U(0, PG),
		M(1, 0, 0, 0, PG, UINT64_MAX - PG + 1),
	};

	assert_int_equal(gpuvm_bind_batch_create(NULL, &b), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gpuvm_bind_batch_add(b, &ops[1]), 0);
	memcpy(b->ops, ops, sizeof(ops));
	assert_int_equal(gpuvm_bind_batch_coalesce(b), 0);
	assert_int_equal(b->n_ops, 3);
	assert_memory_equal(b->ops, ops, sizeof(ops));
	/* a map whose object offset wraps: no merge either */
	b->ops[0] = M(1, 0, 0, 0, PG, UINT64_MAX - PG + 1);
	b->ops[1] = M(1, 0, 0, PG, PG, 0);
	b->n_ops = 2;
	assert_int_equal(gpuvm_bind_batch_coalesce(b), 0);
	gpuvm_bind_batch_destroy(b);
}

static void test_driver_info(void **state)
{
	(void)state;
	static const char *const names[] = { NULL, "xe", "nouveau", "panthor", "msm" };
	struct gpuvm_bind_driver_info info;
	struct {
		struct gpuvm_bind_driver_info i;
		uint64_t tail;
	} big;

	for (uint32_t d = 1; d <= 4; d++) {
		memset(&info, 0xff, sizeof(info));
		info.sz = sizeof(info);
		assert_int_equal(gpuvm_bind_driver_info(d, &info), 0);
		assert_string_equal(info.name, names[d]);
		assert_int_equal(info.page_size, 4096);
		assert_int_equal(info.sz, sizeof(info));
		assert_true(info.op_types & (1u << GPUVM_BIND_OP_MAP));
		assert_int_equal(gpuvm_bind_driver_from_name(names[d]), (int)d);
		assert_ptr_equal(gpuvm__bind_codec(d)->driver, d);
	}
	memset(&big, 0xff, sizeof(big));
	big.i.sz = sizeof(big);
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_XE, &big.i), 0);
	assert_int_equal(big.tail, 0);
	assert_int_equal(big.i.sz, sizeof(big));
	info.sz = sizeof(info) - 1;
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_XE, &info), -EINVAL);
	info.sz = sizeof(info);
	assert_int_equal(gpuvm_bind_driver_info(0, &info), -EINVAL);
	assert_int_equal(gpuvm_bind_driver_info(5, &info), -EINVAL);
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_XE, NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_driver_from_name("i915"), -ENOENT);
	assert_int_equal(gpuvm_bind_driver_from_name(""), -ENOENT);
	assert_int_equal(gpuvm_bind_driver_from_name(NULL), -EINVAL);
	assert_null(gpuvm__bind_codec(0));
	/* what the core's checks rely on */
	info.sz = sizeof(info);
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_NOUVEAU, &info), 0);
	assert_true(info.caps & GPUVM_BIND_CAP_SPARSE_REGIONS);
	assert_true(info.op_types & (1u << GPUVM_BIND_OP_UNMAP_SPARSE));
	assert_int_equal(info.op_flags, 0);
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_XE, &info), 0);
	assert_false(info.caps & GPUVM_BIND_CAP_SPARSE_REGIONS);
	assert_true(info.op_types & (1u << GPUVM_BIND_OP_UNMAP_BO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_shape),	  cmocka_unit_test(test_sync_shape),
		cmocka_unit_test(test_batch_create),	  cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_coalesce_overflow), cmocka_unit_test(test_driver_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
