/* SPDX-License-Identifier: MIT */
/*
 * Op lists and the apply helpers (lib/ops.c), the cases the other tests
 * leave out: gpuva_ops_free() finding the VM in the list, the apply helpers
 * refusing a missing op or mapping and a mapping that is already inserted,
 * and gpuvm_bo_unmap_ops_create() refusing a vm_bo that belongs to no VM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include "test_util.h"

static void ops_free_finds_vm(void **state)
{
	struct test_alloc ta;
	struct gpuva_ops *ops;
	struct gpuvm vm;
	struct gpuva old;
	size_t live;
	GPUVM_OPTS(gpuvm_map_req, req, .map = { .va = { 0x11000, 0x1000 } });

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	insert_va(&vm, &old, 0x10000, 0x4000, NULL, 0);
	live = ta.live;

	/* a split: remap + map, with index nodes reserved for the inserts */
	assert_ret(gpuvm_sm_map_ops_create(&vm, &req, &ops), 0);
	assert_ptr_equal(ops->vm, &vm);
	assert_int_equal(ops->count, 2);
	assert_true(vm.index.reserved > 0);
	assert_true(ta.live > live);

	/* no VM given: the list's own, reservation and all */
	gpuva_ops_free(NULL, ops);
	assert_int_equal(vm.index.reserved, 0);
	gpuvm_index_trim(&vm);
	assert_int_equal(ta.live, live);
	gpuva_ops_free(NULL, NULL);

	tvm_fini(&vm, &ta);
}

static void apply_refusals(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuva a, b, fresh;
	struct gpuva_op_map m = { .va = { 0x40000, 0x1000 } };
	struct gpuva_op_unmap unmap = { .va = NULL };
	struct gpuva_op_remap remap = { .unmap = &unmap };
	char *before, *after;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	insert_va(&vm, &a, 0x10000, 0x2000, NULL, 0);
	gpuva_init(&b, 0, 0, NULL, 0);
	gpuva_init(&fresh, 0, 0, NULL, 0);
	before = dump(&vm);

	assert_ret(gpuva_map(&vm, &fresh, NULL), -EINVAL);
	/* an inserted mapping is not reused, wherever the op puts it */
	assert_ret(gpuva_map(&vm, &a, &m), -EBUSY);
	assert_int_equal(a.va.addr, 0x10000);
	assert_int_equal(a.va.range, 0x2000);
	assert_true(va_inserted(&a));
	/* a remap or unmap of no mapping */
	assert_ret(gpuva_remap(&b, NULL, &remap), -EINVAL);
	assert_ret(gpuva_unmap(&unmap), -EINVAL);

	after = dump(&vm);
	assert_dump_equal(before, after);
	free(before);
	free(after);

	/* the same map with a fresh mapping goes in */
	assert_ret(gpuva_map(&vm, &fresh, &m), 0);
	assert_ptr_equal(gpuva_find(&vm, 0x40000, 0x1000), &fresh);
	tvm_fini(&vm, &ta);
}

static void bo_unmap_ops_without_vm(void **state)
{
	struct gpuva_ops *ops = (struct gpuva_ops *)&ops; /* must stay as is */
	struct gpuvm_bo orphan;

	(void)state;
	memset(&orphan, 0, sizeof(orphan));
	assert_ret(gpuvm_bo_unmap_ops_create(&orphan, &ops), -EINVAL);
	assert_ptr_equal(ops, (struct gpuva_ops *)&ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ops_free_finds_vm),
		cmocka_unit_test(apply_refusals),
		cmocka_unit_test(bo_unmap_ops_without_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
