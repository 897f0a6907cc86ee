/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of struct gpuvm_gem and struct gpuvm_bo: init/fini, reference
 * counting and release callbacks, create/obtain/find, the references a
 * vm_bo holds, driver-allocated vm_bos, and objects shared by VMs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include "test_util.h"

static void gem_init_errors(void **state)
{
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = 0x1000);
	struct gpuvm_gem obj;
	struct {
		struct gpuvm_gem_opts o;
		uint32_t newer;
	} big;

	(void)state;
	assert_ret(gpuvm_gem_init(NULL, &opts), -EINVAL);
	assert_ret(gpuvm_gem_init(&obj, NULL), -EINVAL);
	opts.sz = 0;
	assert_ret(gpuvm_gem_init(&obj, &opts), -EINVAL);
	opts.sz = sizeof(size_t);
	assert_ret(gpuvm_gem_init(&obj, &opts), -EINVAL);
	opts.sz = sizeof(opts) - 1;
	assert_ret(gpuvm_gem_init(&obj, &opts), -EINVAL);

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.size = 0x1000;
	big.newer = 1;
	assert_ret(gpuvm_gem_init(&obj, &big.o), -EINVAL);
	big.newer = 0;
	assert_ret(gpuvm_gem_init(&obj, &big.o), 0);
	assert_int_equal(obj.size, 0x1000);
	assert_ret(gpuvm_gem_fini(&obj), 0);
}

static void gem_init_fields(void **state)
{
	static const struct gpuvm_gem_funcs funcs = { 0 };
	struct gpuvm_resv *resv = (struct gpuvm_resv *)(uintptr_t)0x1234560;
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = 0x123000, .funcs = &funcs,
		   .resv = resv);
	struct gpuvm_gem obj;

	(void)state;
	memset(&obj, 0xa5, sizeof(obj));
	assert_ret(gpuvm_gem_init(&obj, &opts), 0);
	assert_int_equal(obj.size, 0x123000);
	assert_int_equal(obj.refcount, 1);
	assert_ptr_equal(obj.funcs, &funcs);
	assert_ptr_equal(obj.resv, resv);
	assert_true(gpuvm_list_empty(&obj.gpuva.list));
	assert_ret(gpuvm_gem_fini(&obj), 0);

	/* size 0 is a valid object */
	opts.size = 0;
	opts.funcs = NULL;
	opts.resv = NULL;
	assert_ret(gpuvm_gem_init(&obj, &opts), 0);
	assert_int_equal(obj.size, 0);
	assert_null(obj.funcs);
	assert_ret(gpuvm_gem_fini(&obj), 0);
	assert_ret(gpuvm_gem_fini(NULL), -EINVAL);
}

static void gem_get_put(void **state)
{
	struct test_gem g;

	(void)state;
	assert_null(gpuvm_gem_get(NULL));
	gpuvm_gem_put(NULL);

	assert_ret(test_gem_init(&g, "G", 0x1000), 0);
	assert_int_equal(g.base.refcount, 1);
	assert_ptr_equal(gpuvm_gem_get(&g.base), &g.base);
	assert_ptr_equal(gpuvm_gem_get(&g.base), &g.base);
	assert_int_equal(g.base.refcount, 3);
	gpuvm_gem_put(&g.base);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.base.refcount, 1);
	assert_int_equal(g.frees, 0);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
	assert_int_equal(g.fini_ret, 0);

	/* without funcs the last put leaves the memory alone */
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = 0x1000);
	struct gpuvm_gem plain;

	assert_ret(gpuvm_gem_init(&plain, &opts), 0);
	gpuvm_gem_get(&plain);
	gpuvm_gem_put(&plain);
	assert_int_equal(plain.refcount, 1);
	gpuvm_gem_put(&plain);
	assert_int_equal(plain.refcount, 0);
}

static void gem_fini_busy(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuvm_gem obj;
	struct gpuvm_bo *bo, *found;
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = 0x10000);

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_ret(gpuvm_gem_init(&obj, &opts), 0);
	assert_ret(gpuvm_bo_obtain(&vm, &obj, &bo), 0);
	assert_int_equal(obj.refcount, 2);

	assert_ret(gpuvm_gem_fini(&obj), -EBUSY);
	/* nothing changed */
	assert_int_equal(obj.refcount, 2);
	assert_ptr_equal(obj.gpuva.list.next, &bo->list.entry.gem);
	found = gpuvm_bo_find(&vm, &obj);
	assert_ptr_equal(found, bo);
	gpuvm_bo_put(found);

	assert_true(gpuvm_bo_put(bo));
	assert_int_equal(obj.refcount, 1);
	assert_true(gpuvm_list_empty(&obj.gpuva.list));
	assert_ret(gpuvm_gem_fini(&obj), 0);
	tvm_fini(&vm, &ta);
}

static void bo_create(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem g;
	struct gpuvm_bo *bo = NULL;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x10000), 0);

	assert_ret(gpuvm_bo_create(NULL, &g.base, &bo), -EINVAL);
	assert_ret(gpuvm_bo_create(&vm, NULL, &bo), -EINVAL);
	assert_ret(gpuvm_bo_create(&vm, &g.base, NULL), -EINVAL);
	assert_null(bo);
	assert_int_equal(ta.live, 0);
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(g.base.refcount, 1);

	assert_ret(gpuvm_bo_create(&vm, &g.base, &bo), 0);
	assert_non_null(bo);
	assert_ptr_equal(bo->vm, &vm);
	assert_ptr_equal(bo->obj, &g.base);
	assert_int_equal(bo->refcount, 1);
	assert_false(bo->evicted);
	assert_true(gpuvm_list_empty(&bo->list.gpuva));
	assert_int_equal(vm.refcount, 2);
	assert_int_equal(g.base.refcount, 2);
	assert_int_equal(ta.live, 1);
	/* not on the gem's list, so not found */
	assert_true(gpuvm_list_empty(&g.base.gpuva.list));
	assert_null(gpuvm_bo_find(&vm, &g.base));
	assert_int_equal(bo->refcount, 1);

	assert_ptr_equal(gpuvm_bo_get(bo), bo);
	assert_int_equal(bo->refcount, 2);
	assert_false(gpuvm_bo_put(bo));
	assert_int_equal(bo->refcount, 1);
	assert_true(gpuvm_bo_put(bo));
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(g.base.refcount, 1);
	assert_int_equal(ta.live, 0);
	assert_null(gpuvm_bo_get(NULL));
	assert_false(gpuvm_bo_put(NULL));

	/* a created vm_bo works for linking like an obtained one */
	struct gpuva va;

	assert_ret(gpuvm_bo_create(&vm, &g.base, &bo), 0);
	insert_va(&vm, &va, 0x1000, 0x1000, &g.base, 0);
	assert_ret(gpuva_link(&va, bo), 0);
	assert_false(gpuvm_bo_put(bo));
	assert_ret(gpuva_unlink(&va), 0);
	assert_int_equal(g.base.refcount, 1);
	assert_int_equal(vm.refcount, 1);
	assert_ret(gpuva_remove(&va), 0);

	tvm_fini(&vm, &ta);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
}

static void bo_obtain_find(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem g, h;
	struct gpuvm_bo *bo = NULL, *again, *found, *it;
	size_t n;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x10000), 0);
	assert_ret(test_gem_init(&h, "H", 0x10000), 0);

	assert_ret(gpuvm_bo_obtain(NULL, &g.base, &bo), -EINVAL);
	assert_ret(gpuvm_bo_obtain(&vm, NULL, &bo), -EINVAL);
	assert_ret(gpuvm_bo_obtain(&vm, &g.base, NULL), -EINVAL);
	assert_null(bo);
	assert_int_equal(ta.live, 0);

	assert_null(gpuvm_bo_find(&vm, &g.base));
	assert_null(gpuvm_bo_find(NULL, &g.base));
	assert_null(gpuvm_bo_find(&vm, NULL));

	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &bo), 0);
	assert_non_null(bo);
	assert_int_equal(bo->refcount, 1);
	assert_int_equal(vm.refcount, 2);
	assert_int_equal(g.base.refcount, 2);
	assert_ptr_equal(g.base.gpuva.list.next, &bo->list.entry.gem);

	/* one per (VM, object), however often it is obtained */
	for (unsigned int i = 0; i < 5; i++) {
		assert_ret(gpuvm_bo_obtain(&vm, &g.base, &again), 0);
		assert_ptr_equal(again, bo);
		assert_int_equal(bo->refcount, 2 + i);
	}
	assert_int_equal(ta.live, 1);
	assert_int_equal(vm.refcount, 2);
	assert_int_equal(g.base.refcount, 2);
	n = 0;
	gpuvm_gem_for_each_vm_bo(it, &g.base)
		n++;
	assert_int_equal(n, 1);

	found = gpuvm_bo_find(&vm, &g.base);
	assert_ptr_equal(found, bo);
	assert_int_equal(bo->refcount, 7);
	assert_null(gpuvm_bo_find(&vm, &h.base));

	for (unsigned int i = 0; i < 6; i++)
		assert_false(gpuvm_bo_put(bo));
	assert_int_equal(bo->refcount, 1);
	assert_true(gpuvm_bo_put(bo));
	assert_null(gpuvm_bo_find(&vm, &g.base));
	assert_true(gpuvm_list_empty(&g.base.gpuva.list));
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(g.base.refcount, 1);
	assert_int_equal(ta.live, 0);

	/* obtain again after the last put: a new one */
	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &bo), 0);
	assert_int_equal(bo->refcount, 1);
	assert_true(gpuvm_bo_put(bo));

	tvm_fini(&vm, &ta);
	gpuvm_gem_put(&g.base);
	gpuvm_gem_put(&h.base);
	assert_int_equal(g.frees, 1);
	assert_int_equal(h.frees, 1);
}

/* A driver's vm_bo, through ops->vm_bo_alloc/vm_bo_free. */
struct my_bo {
	uint64_t magic;
	struct gpuvm_bo base;
	uint64_t tail;
};

static unsigned int my_bo_allocs, my_bo_frees;
static bool my_bo_fail;

static struct gpuvm_bo *my_bo_alloc(struct gpuvm *vm)
{
	struct my_bo *b;

	(void)vm;
	if (my_bo_fail)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->magic = 0xb0b0;
	b->tail = 0x7a11;
	my_bo_allocs++;
	return &b->base;
}

static void my_bo_free(struct gpuvm_bo *vm_bo)
{
	struct my_bo *b = (struct my_bo *)(void *)((char *)vm_bo - offsetof(struct my_bo, base));

	assert_int_equal(b->magic, 0xb0b0);
	assert_int_equal(b->tail, 0x7a11);
	my_bo_frees++;
	free(b);
}

static void bo_driver_alloc(void **state)
{
	static const struct gpuvm_ops ops = {
		.sz = sizeof(ops),
		.vm_bo_alloc = my_bo_alloc,
		.vm_bo_free = my_bo_free,
	};
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem g;
	struct gpuvm_bo *bo, *bo2;
	struct my_bo *mine;
	unsigned long calls;

	(void)state;
	my_bo_allocs = my_bo_frees = 0;
	my_bo_fail = false;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, &ops, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x10000), 0);
	calls = ta.calls;

	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &bo), 0);
	assert_int_equal(my_bo_allocs, 1);
	mine = (struct my_bo *)(void *)((char *)bo - offsetof(struct my_bo, base));
	assert_int_equal(mine->magic, 0xb0b0);
	assert_ptr_equal(bo->vm, &vm);
	assert_ptr_equal(bo->obj, &g.base);
	assert_int_equal(bo->refcount, 1);
	assert_int_equal(ta.calls, calls); /* not through the VM's allocator */

	assert_ret(gpuvm_bo_create(&vm, &g.base, &bo2), 0);
	assert_int_equal(my_bo_allocs, 2);
	assert_true(gpuvm_bo_put(bo2));
	assert_int_equal(my_bo_frees, 1);

	assert_false(gpuvm_bo_put(gpuvm_bo_get(bo)));
	assert_int_equal(my_bo_frees, 1);
	assert_true(gpuvm_bo_put(bo));
	assert_int_equal(my_bo_frees, 2);
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(g.base.refcount, 1);

	/* the driver's allocation failing is -ENOMEM, nothing changed */
	my_bo_fail = true;
	bo = NULL;
	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &bo), -ENOMEM);
	assert_ret(gpuvm_bo_create(&vm, &g.base, &bo), -ENOMEM);
	assert_null(bo);
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(g.base.refcount, 1);
	assert_true(gpuvm_list_empty(&g.base.gpuva.list));
	my_bo_fail = false;

	assert_int_equal(ta.calls, calls);
	tvm_fini(&vm, &ta);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
}

static void bo_enomem(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem g;
	struct gpuvm_bo *bo = NULL;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x10000), 0);

	test_alloc_fail_at(&ta, 1);
	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &bo), -ENOMEM);
	assert_int_equal(ta.injected, 1);
	test_alloc_fail_at(&ta, 1);
	assert_ret(gpuvm_bo_create(&vm, &g.base, &bo), -ENOMEM);
	assert_int_equal(ta.injected, 1);
	assert_null(bo);
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(g.base.refcount, 1);
	assert_true(gpuvm_list_empty(&g.base.gpuva.list));
	assert_int_equal(ta.live, 0);

	tvm_fini(&vm, &ta);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
}

static void bo_shared(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm[3];
	struct test_gem g;
	struct gpuvm_bo *bo[3], *it;
	struct gpuva va[3];
	size_t n;

	(void)state;
	test_alloc_init(&ta);
	assert_ret(test_gem_init(&g, "G", 0x100000), 0);
	for (int i = 0; i < 3; i++) {
		tvm_init(&vm[i], &ta, NULL, 0, 1ull << 40);
		assert_ret(gpuvm_bo_obtain(&vm[i], &g.base, &bo[i]), 0);
		assert_int_equal(vm[i].refcount, 2);
		insert_va(&vm[i], &va[i], 0x10000, 0x1000, &g.base, i * 0x1000);
		assert_ret(gpuva_link(&va[i], bo[i]), 0);
	}
	assert_ptr_not_equal(bo[0], bo[1]);
	assert_ptr_not_equal(bo[1], bo[2]);
	assert_int_equal(g.base.refcount, 4);

	/* the gem lists them in creation order, one per VM */
	n = 0;
	gpuvm_gem_for_each_vm_bo(it, &g.base) {
		assert_ptr_equal(it, bo[n]);
		assert_ptr_equal(it->vm, &vm[n]);
		n++;
	}
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		struct gpuvm_bo *f = gpuvm_bo_find(&vm[i], &g.base);

		assert_ptr_equal(f, bo[i]);
		gpuvm_bo_put(f);
		assert_ptr_equal(gpuva_vm_bo(&va[i]), bo[i]);
	}

	/* releasing the middle one leaves the others alone */
	assert_false(gpuvm_bo_put(bo[1]));
	assert_ret(gpuva_unlink(&va[1]), 0);
	assert_ret(gpuva_remove(&va[1]), 0);
	assert_int_equal(g.base.refcount, 3);
	assert_int_equal(vm[1].refcount, 1);
	n = 0;
	gpuvm_gem_for_each_vm_bo(it, &g.base) {
		assert_ptr_equal(it, bo[n == 0 ? 0 : 2]);
		n++;
	}
	assert_int_equal(n, 2);
	assert_null(gpuvm_bo_find(&vm[1], &g.base));
	assert_int_equal(bo[0]->refcount, 2);
	assert_int_equal(bo[2]->refcount, 2);
	assert_ret(gpuvm_gem_fini(&g.base), -EBUSY);

	for (int i = 0; i < 3; i += 2) {
		assert_false(gpuvm_bo_put(bo[i]));
		assert_ret(gpuva_unlink(&va[i]), 0);
		assert_ret(gpuva_remove(&va[i]), 0);
	}
	assert_int_equal(g.base.refcount, 1);
	for (int i = 0; i < 3; i++)
		tvm_fini(&vm[i], NULL);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
	assert_int_equal(g.fini_ret, 0);
}

static unsigned int chain_vm_frees;

static void chain_vm_free(struct gpuvm *vm)
{
	chain_vm_frees++;
	assert_ret(gpuvm_fini(vm), 0);
}

/* The vm_bo's references may be the last ones on its VM and gem. */
static void bo_last_references(void **state)
{
	static const struct gpuvm_ops ops = { .sz = sizeof(ops), .vm_free = chain_vm_free };
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem g;
	struct gpuvm_bo *bo;
	struct gpuva va;

	(void)state;
	chain_vm_frees = 0;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, &ops, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x100000), 0);
	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &bo), 0);
	insert_va(&vm, &va, 0x1000, 0x1000, &g.base, 0);
	assert_ret(gpuva_link(&va, bo), 0);
	assert_false(gpuvm_bo_put(bo));
	assert_ret(gpuva_remove(&va), 0);

	/* the caller lets go of both; the link's vm_bo keeps them */
	gpuvm_gem_put(&g.base);
	gpuvm_put(&vm);
	assert_int_equal(g.frees, 0);
	assert_int_equal(chain_vm_frees, 0);
	assert_int_equal(g.base.refcount, 1);
	assert_int_equal(vm.refcount, 1);

	/* the unlink drops the vm_bo, which drops them */
	assert_ret(gpuva_unlink(&va), 0);
	assert_int_equal(g.frees, 1);
	assert_int_equal(g.fini_ret, 0);
	assert_int_equal(chain_vm_frees, 1);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gem_init_errors),
		cmocka_unit_test(gem_init_fields),
		cmocka_unit_test(gem_get_put),
		cmocka_unit_test(gem_fini_busy),
		cmocka_unit_test(bo_create),
		cmocka_unit_test(bo_obtain_find),
		cmocka_unit_test(bo_driver_alloc),
		cmocka_unit_test(bo_enomem),
		cmocka_unit_test(bo_shared),
		cmocka_unit_test(bo_last_references),
	};

	return cmocka_run_group_tests_name("bo", tests, NULL, NULL);
}
