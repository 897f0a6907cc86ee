/* SPDX-License-Identifier: MIT */
/*
 * The index's self-check (gpuvm__index_verify() in lib/index.c, reached
 * through gpuvm_verify()), the cases the other tests leave out: a header
 * (struct gpuvm_va_index) that disagrees with the tree or with itself, a
 * finger with impossible or wrong bounds, a node cache count that is off,
 * and mappings too long for a leaf's length
 * slot (IX_LEN_BIG: the leaf then defers to the mapping) that grow over
 * their neighbour or past 2^64.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include "test_util.h"

/* Corrupt *@field to @bad: verify reports it; restored: healthy again. */
#define expect_caught(vm, field, bad)                                          \
	do {                                                                   \
		__typeof__(field) saved_ = (field);                            \
		(field) = (bad);                                               \
		assert_ret(gpuvm_verify(vm), -EUCLEAN);                        \
		(field) = saved_;                                              \
		assert_ret(gpuvm_verify(vm), 0);                               \
	} while (0)

static void verify_index_header(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva va[3];
	int token;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);

	/* empty: no height, no mappings, no nodes, no finger */
	assert_ret(gpuvm_verify(&vm), 0);
	expect_caught(&vm, vm.index.height, 1);
	expect_caught(&vm, vm.index.count, 1);
	expect_caught(&vm, vm.index.nodes, 1);
	expect_caught(&vm, vm.index.finger, (void *)&token);

	for (int i = 0; i < 3; i++)
		insert_va(&vm, &va[i], 0x10000 * (i + 1), 0x1000, NULL, 0);
	expect_caught(&vm, vm.index.height, 0);
	expect_caught(&vm, vm.index.height, 33);
	expect_caught(&vm, vm.index.nodes, vm.index.nodes + 1);
	expect_caught(&vm, vm.index.count, vm.index.count + 1);
	/* the last write left a finger on the one leaf */
	assert_non_null(vm.index.finger);
	expect_caught(&vm, vm.index.finger_lo, vm.index.finger_hi);
	/* bounds that are not the ones the descent to the leaf has */
	expect_caught(&vm, vm.index.finger_lo, vm.index.finger_lo + 1);
	expect_caught(&vm, vm.index.finger_hi, vm.index.finger_hi - 1);

	/* the node cache and its count */
	assert_ret(gpuvm_index_reserve(&vm, 2), 0);
	assert_true(vm.index.ncache >= 2);
	expect_caught(&vm, vm.index.ncache, vm.index.ncache - 1);
	expect_caught(&vm, vm.index.ncache, vm.index.ncache + 1);
	gpuvm_index_unreserve(&vm, 2);
	gpuvm_index_trim(&vm);

	tvm_fini(&vm, &ta);
}

static void verify_long_mappings(void **state)
{
	const uint64_t g4 = 1ull << 32;
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva a, b;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, UINT64_MAX);
	/* both longer than a leaf's 32-bit length slot can say */
	insert_va(&vm, &a, g4, g4, NULL, 0);
	insert_va(&vm, &b, 3 * g4, g4, NULL, 0);
	assert_ptr_equal(gpuva_find_first(&vm, 2 * g4 - 1, 1), &a);
	assert_null(gpuva_find_first(&vm, 2 * g4, g4));
	assert_ret(gpuvm_verify(&vm), 0);

	/* a grows over b: the leaf's slot still says "long", the check reads a */
	expect_caught(&vm, a.va.range, 2 * g4 + 1);
	/* b's end past 2^64 */
	expect_caught(&vm, b.va.range, UINT64_MAX - 2 * g4);

	tvm_fini(&vm, &ta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verify_index_header),
		cmocka_unit_test(verify_long_mappings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
