/* SPDX-License-Identifier: MIT */
/*
 * struct gpuva (lib/va.c), the cases the other tests leave out: every
 * lookup and iteration helper given no VM, iteration from a mapping that
 * was never inserted, and a removed but still linked mapping going back
 * into its VM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include "test_util.h"

static void null_vm_lookups(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva va;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	insert_va(&vm, &va, 0x10000, 0x1000, NULL, 0);

	/* the same queries find the mapping in its VM and nothing in none */
	assert_ptr_equal(gpuva_find(&vm, 0x10000, 0x1000), &va);
	assert_null(gpuva_find(NULL, 0x10000, 0x1000));
	assert_ptr_equal(gpuva_find_first(&vm, 0x10000, 0x1000), &va);
	assert_null(gpuva_find_first(NULL, 0x10000, 0x1000));
	assert_ptr_equal(gpuva_find_prev(&vm, 0x11000), &va);
	assert_null(gpuva_find_prev(NULL, 0x11000));
	assert_ptr_equal(gpuva_find_next(&vm, 0x10000), &va);
	assert_null(gpuva_find_next(NULL, 0x10000));
	assert_ptr_equal(gpuva_range_first(&vm, 0, 0), &va);
	assert_null(gpuva_range_first(NULL, 0, 0));
	assert_null(gpuva_range_next(NULL, 0));

	tvm_fini(&vm, &ta);
}

static void range_next_not_inserted(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva a, b, loose;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	insert_va(&vm, &a, 0x10000, 0x1000, NULL, 0);
	insert_va(&vm, &b, 0x20000, 0x1000, NULL, 0);
	assert_ptr_equal(gpuva_range_next(&a, 0), &b);

	/* a mapping that belongs to no VM has no successor */
	gpuva_init(&loose, 0x10000, 0x1000, NULL, 0);
	assert_null(loose.vm);
	assert_null(gpuva_range_next(&loose, 0));
	assert_ret(gpuva_remove(&loose), -ENOENT);

	tvm_fini(&vm, &ta);
}

static void reinsert_removed_linked(void **state)
{
	struct test_alloc ta;
	struct test_gem g;
	struct gpuvm vm;
	struct gpuva va;
	struct gpuvm_bo *vm_bo;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x10000), 0);
	insert_linked(&vm, &va, 0x10000, 0x1000, &g.base, 0);
	vm_bo = gpuva_vm_bo(&va);

	/* removed but still linked: it may go back into the VM of its vm_bo */
	assert_ret(gpuva_remove(&va), 0);
	assert_false(va_inserted(&va));
	assert_ptr_equal(gpuva_vm_bo(&va), vm_bo);
	va.va.addr = 0x30000;
	assert_ret(gpuva_insert(&vm, &va), 0);
	assert_ptr_equal(gpuva_find(&vm, 0x30000, 0x1000), &va);
	assert_null(gpuva_find(&vm, 0x10000, 0x1000));
	assert_ptr_equal(gpuva_vm_bo(&va), vm_bo);
	assert_ret(gpuvm_verify(&vm), 0);

	tvm_fini(&vm, &ta);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_vm_lookups),
		cmocka_unit_test(range_next_not_inserted),
		cmocka_unit_test(reinsert_removed_linked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
