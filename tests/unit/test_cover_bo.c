/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm_gem and struct gpuvm_bo (lib/bo.c), the cases the other
 * tests leave out: immediate-mode obtain running out of memory, a
 * caller-supplied gpuva lock that fails (obtain, the deferred put, the
 * eviction of a whole gem), argument checks of the obtain variants, a
 * preallocated vm_bo that is not fresh, gpuvm_validate() in immediate mode
 * (its walk drops its references on the deferred path), a validation that
 * leaves the object evicted, an evict-list entry whose eviction was cleared
 * behind the list's back, and the last put of an evicted local object of a
 * VM whose lists its reservation protects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include <pthread.h>

#include "test_util.h"

static void vm_init(struct gpuvm *vm, struct test_alloc *ta, uint32_t flags,
		    const struct gpuvm_ops *ops, struct gpuvm_gem *r_obj)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "bo", .flags = flags, .range = 1ull << 40,
		   .ops = ops, .r_obj = r_obj);

	test_alloc_init(ta);
	opts.alloc = test_alloc_hooks(ta);
	assert_ret(gpuvm_init(vm, &opts), 0);
}

static void vm_fini(struct gpuvm *vm, struct test_alloc *ta)
{
	assert_ret(gpuvm_fini(vm), 0);
	assert_int_equal(vm->refcount, 1);
	assert_int_equal(ta->live, 0);
	assert_int_equal(ta->errors, 0);
}

/* ---- immediate mode: obtain out of memory ---- */

static void obtain_immediate_enomem(void **state)
{
	struct gpuvm_bo *out = (struct gpuvm_bo *)&out, *vm_bo;
	struct test_alloc ta;
	struct test_gem a;
	struct gpuvm vm;

	(void)state;
	vm_init(&vm, &ta, GPUVM_IMMEDIATE_MODE, NULL, NULL);
	assert_ret(test_gem_init(&a, "A", 0x10000), 0);

	test_alloc_fail_at(&ta, 1);
	assert_ret(gpuvm_bo_obtain(&vm, &a.base, &out), -ENOMEM);
	assert_int_equal(ta.injected, 1);
	assert_ptr_equal(out, (struct gpuvm_bo *)&out);
	assert_true(gpuvm_list_empty(&a.base.gpuva.list));
	assert_int_equal(a.base.refcount, 1);
	assert_int_equal(vm.refcount, 1);
	assert_int_equal(ta.live, 0);

	/* and then it works */
	assert_ret(gpuvm_bo_obtain(&vm, &a.base, &vm_bo), 0);
	assert_int_equal(a.base.refcount, 2);
	assert_ret(gpuvm_bo_put_deferred(vm_bo), 1);
	assert_ret(gpuvm_bo_deferred_cleanup(&vm), 1);
	vm_fini(&vm, &ta);
	gpuvm_gem_put(&a.base);
	assert_int_equal(a.frees, 1);
}

/* ---- a caller-supplied gpuva lock that can fail ---- */

struct flaky_gem {
	struct gpuvm_gem base;
	pthread_mutex_t m;
	unsigned int fail_in; /* the fail_in-th lock from now fails (0: none) */
	unsigned int locks, frees;
};

static struct flaky_gem *to_flaky(struct gpuvm_gem *obj)
{
	return (struct flaky_gem *)(void *)obj;
}

static int flaky_lock(struct gpuvm_gem *obj)
{
	struct flaky_gem *g = to_flaky(obj);

	g->locks++;
	if (g->fail_in && !--g->fail_in)
		return -EINTR;
	return -pthread_mutex_lock(&g->m);
}

static void flaky_unlock(struct gpuvm_gem *obj)
{
	pthread_mutex_unlock(&to_flaky(obj)->m);
}

static void flaky_free(struct gpuvm_gem *obj)
{
	to_flaky(obj)->frees++;
}

static const struct gpuvm_gem_funcs flaky_funcs = {
	.free = flaky_free,
	.gpuva_lock = flaky_lock,
	.gpuva_unlock = flaky_unlock,
};

static void flaky_init(struct flaky_gem *g)
{
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = 0x10000, .funcs = &flaky_funcs);

	memset(g, 0, sizeof(*g));
	assert_int_equal(pthread_mutex_init(&g->m, NULL), 0);
	assert_ret(gpuvm_gem_init(&g->base, &opts), 0);
}

static void caller_lock_fails(void **state)
{
	struct gpuvm_bo *out = NULL, *vm_bo;
	struct test_alloc ta;
	struct flaky_gem g;
	struct gpuvm vm;
	unsigned long allocs;

	(void)state;
	vm_init(&vm, &ta, GPUVM_IMMEDIATE_MODE, NULL, NULL);
	flaky_init(&g);

	/* the lookup's lock: nothing allocated */
	g.fail_in = 1;
	allocs = ta.allocs;
	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &out), -EINTR);
	assert_null(out);
	assert_int_equal(ta.allocs, allocs);

	/* the lock that publishes the new vm_bo: it is freed again */
	g.fail_in = 2;
	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &out), -EINTR);
	assert_null(out);
	assert_int_equal(ta.allocs, allocs + 1);
	assert_int_equal(ta.live, 0);
	assert_true(gpuvm_list_empty(&g.base.gpuva.list));
	assert_int_equal(g.base.refcount, 1);
	assert_int_equal(vm.refcount, 1);

	assert_ret(gpuvm_bo_obtain(&vm, &g.base, &vm_bo), 0);
	assert_int_equal(g.base.refcount, 2);

	/* evicting the whole gem takes its lock: refused, nothing flagged */
	g.fail_in = 1;
	assert_ret(gpuvm_bo_gem_evict(&g.base, true), -EINTR);
	assert_false(gpuvm_bo_evicted(vm_bo));
	assert_true(gpuvm_list_empty(&vm.evict.list));
	assert_ret(gpuvm_bo_gem_evict(&g.base, true), 0);
	assert_true(gpuvm_bo_evicted(vm_bo));
	assert_false(gpuvm_list_empty(&vm.evict.list));
	assert_ret(gpuvm_bo_gem_evict(&g.base, false), 0);
	assert_true(gpuvm_list_empty(&vm.evict.list));

	/* the deferred last put decides under the lock: refused, still alive */
	g.fail_in = 1;
	assert_ret(gpuvm_bo_put_deferred(vm_bo), -EINTR);
	assert_int_equal(vm_bo->refcount, 1);
	assert_false(gpuvm_list_empty(&g.base.gpuva.list));
	assert_ret(gpuvm_bo_put_deferred(vm_bo), 1);
	assert_true(gpuvm_list_empty(&g.base.gpuva.list));
	assert_ret(gpuvm_bo_deferred_cleanup(&vm), 1);
	assert_int_equal(g.base.refcount, 1);

	vm_fini(&vm, &ta);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
	assert_ret(gpuvm_gem_fini(&g.base), 0);
	pthread_mutex_destroy(&g.m);
}

/* ---- argument checks of the obtain variants ---- */

static void obtain_arguments(void **state)
{
	struct gpuvm_bo *out = NULL, *pre;
	struct test_alloc ta;
	struct test_gem a;
	struct gpuvm vm;

	(void)state;
	vm_init(&vm, &ta, 0, NULL, NULL);
	assert_ret(test_gem_init(&a, "A", 0x10000), 0);

	assert_ret(gpuvm_bo_obtain_locked(&vm, NULL, &out), -EINVAL);
	assert_ret(gpuvm_bo_obtain_locked(&vm, &a.base, NULL), -EINVAL);
	assert_ret(gpuvm_bo_obtain(&vm, NULL, &out), -EINVAL);
	assert_ret(gpuvm_bo_obtain(&vm, &a.base, NULL), -EINVAL);
	assert_ret(gpuvm_bo_create(&vm, &a.base, &pre), 0);
	assert_ret(gpuvm_bo_obtain_prealloc(pre, NULL), -EINVAL);
	assert_null(out);
	assert_true(gpuvm_list_empty(&a.base.gpuva.list));
	assert_true(gpuvm_bo_put(pre));
	assert_int_equal(a.base.refcount, 1);

	vm_fini(&vm, &ta);
	gpuvm_gem_put(&a.base);
	assert_int_equal(a.frees, 1);
}

/* ---- a preallocated vm_bo must be fresh ---- */

static void prealloc_not_fresh(void **state)
{
	struct gpuvm_bo *out = NULL, *pre;
	struct gpuvm_resv er;
	struct test_alloc ta;
	struct test_gem a, e;
	struct gpuvm vm;

	(void)state;
	vm_init(&vm, &ta, GPUVM_IMMEDIATE_MODE, NULL, NULL);
	assert_ret(test_gem_init(&a, "A", 0x10000), 0);
	assert_ret(test_gem_init(&e, "E", 0x10000), 0);
	assert_ret(gpuvm_resv_init(&er, NULL), 0);
	e.base.resv = &er; /* the VM has none: external */

	/* on the evict list */
	assert_ret(gpuvm_bo_create(&vm, &a.base, &pre), 0);
	assert_ret(gpuvm_bo_evict(pre, true), 0);
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), -EINVAL);
	assert_ret(gpuvm_bo_evict(pre, false), 0);

	/* referenced twice */
	gpuvm_bo_get(pre);
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), -EINVAL);
	assert_false(gpuvm_bo_put(pre));
	assert_null(out);
	assert_true(gpuvm_list_empty(&a.base.gpuva.list));

	/* fresh again: accepted and published */
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), 0);
	assert_ptr_equal(out, pre);
	assert_false(gpuvm_list_empty(&a.base.gpuva.list));
	assert_ret(gpuvm_bo_put_deferred(pre), 1);
	assert_ret(gpuvm_bo_deferred_cleanup(&vm), 1);

	/* on the extobj list */
	out = NULL;
	assert_ret(gpuvm_bo_create(&vm, &e.base, &pre), 0);
	assert_ret(gpuvm_bo_extobj_add(pre), 0);
	assert_false(gpuvm_list_empty(&vm.extobj.list));
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), -EINVAL);
	assert_null(out);
	assert_true(gpuvm_list_empty(&e.base.gpuva.list));
	assert_true(gpuvm_bo_put(pre));
	assert_true(gpuvm_list_empty(&vm.extobj.list));

	vm_fini(&vm, &ta);
	gpuvm_gem_put(&a.base);
	gpuvm_gem_put(&e.base);
	assert_int_equal(a.frees, 1);
	assert_int_equal(e.frees, 1);
	assert_ret(gpuvm_resv_fini(&er), 0);
}

/* ---- gpuvm_validate ---- */

static unsigned int validate_calls;
static struct gpuvm_bo *validate_drop; /* put_deferred this one in the callback */
static bool validate_keep;	       /* succeed, but leave it evicted */

static int validate_cb(struct gpuvm_bo *vm_bo, void *priv)
{
	(void)priv;
	validate_calls++;
	assert_true(gpuvm_bo_evicted(vm_bo));
	if (!validate_keep)
		__atomic_store_n(&vm_bo->evicted, false, __ATOMIC_RELAXED);
	if (validate_drop == vm_bo)
		/* not the last: the walk holds one */
		assert_ret(gpuvm_bo_put_deferred(vm_bo), 0);
	return 0;
}

static const struct gpuvm_ops validate_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_bo_validate = validate_cb,
};

static void validate_immediate(void **state)
{
	struct test_alloc ta;
	struct test_gem a;
	struct gpuvm_bo *vm_bo;
	struct gpuvm vm;

	(void)state;
	vm_init(&vm, &ta, GPUVM_IMMEDIATE_MODE, &validate_ops, NULL);
	assert_ret(test_gem_init(&a, "A", 0x10000), 0);
	assert_ret(gpuvm_bo_obtain(&vm, &a.base, &vm_bo), 0);

	/* validated, unlisted, and the walk's reference given back */
	validate_calls = 0;
	validate_drop = NULL;
	assert_ret(gpuvm_bo_evict(vm_bo, true), 0);
	assert_ret(gpuvm_validate(&vm, NULL), 0);
	assert_int_equal(validate_calls, 1);
	assert_true(gpuvm_list_empty(&vm.evict.list));
	assert_int_equal(vm_bo->refcount, 1);
	assert_ret(gpuvm_bo_deferred_cleanup(&vm), 0);

	/* the callback drops the other reference: the walk's is the last */
	validate_calls = 0;
	validate_drop = vm_bo;
	assert_ret(gpuvm_bo_evict(vm_bo, true), 0);
	assert_ret(gpuvm_validate(&vm, NULL), 0);
	validate_drop = NULL;
	assert_int_equal(validate_calls, 1);
	assert_true(gpuvm_list_empty(&vm.evict.list));
	/* a zombie now, off the gem's list, waiting for the cleanup */
	assert_true(gpuvm_list_empty(&a.base.gpuva.list));
	assert_ret(gpuvm_fini(&vm), -EBUSY);
	assert_ret(gpuvm_bo_deferred_cleanup(&vm), 1);
	assert_int_equal(a.base.refcount, 1);

	vm_fini(&vm, &ta);
	gpuvm_gem_put(&a.base);
	assert_int_equal(a.frees, 1);
}

static void validate_keeps_still_evicted(void **state)
{
	struct test_alloc ta;
	struct test_gem a;
	struct gpuvm_bo *vm_bo;
	struct gpuvm vm;

	(void)state;
	vm_init(&vm, &ta, 0, &validate_ops, NULL);
	assert_ret(test_gem_init(&a, "A", 0x10000), 0);
	assert_ret(gpuvm_bo_obtain(&vm, &a.base, &vm_bo), 0);
	assert_ret(gpuvm_bo_evict(vm_bo, true), 0);

	/* validated without error, but still evicted: it stays listed */
	validate_calls = 0;
	validate_keep = true;
	assert_ret(gpuvm_validate(&vm, NULL), 0);
	validate_keep = false;
	assert_int_equal(validate_calls, 1);
	assert_true(gpuvm_bo_evicted(vm_bo));
	assert_false(gpuvm_list_empty(&vm.evict.list));
	assert_int_equal(vm_bo->refcount, 1);

	/* the next validate moves it back and unlists it */
	assert_ret(gpuvm_validate(&vm, NULL), 0);
	assert_int_equal(validate_calls, 2);
	assert_true(gpuvm_list_empty(&vm.evict.list));

	assert_true(gpuvm_bo_put(vm_bo));
	vm_fini(&vm, &ta);
	gpuvm_gem_put(&a.base);
	assert_int_equal(a.frees, 1);
}

static void last_put_unlists_evicted_local(void **state)
{
	struct gpuvm_resv vr;
	struct gpuvm_gem root;
	struct test_alloc ta;
	struct test_gem l;
	struct gpuvm_bo *vm_bo;
	struct gpuvm vm;
	GPUVM_OPTS(gpuvm_gem_opts, ropts, .resv = &vr);

	(void)state;
	assert_ret(gpuvm_resv_init(&vr, NULL), 0);
	assert_ret(gpuvm_gem_init(&root, &ropts), 0);
	vm_init(&vm, &ta, GPUVM_RESV_PROTECTED, NULL, &root);
	assert_ret(test_gem_init(&l, "L", 0x10000), 0);
	l.base.resv = &vr; /* local: the VM's reservation */
	assert_ret(gpuvm_bo_obtain(&vm, &l.base, &vm_bo), 0);

	/* a local object goes on the evict list only, never on extobj */
	assert_ret(gpuvm_resv_lock(&vr), 0);
	assert_ret(gpuvm_bo_extobj_add(vm_bo), 0);
	assert_ret(gpuvm_bo_evict(vm_bo, true), 0);
	assert_true(gpuvm_list_empty(&vm.extobj.list));
	assert_false(gpuvm_list_empty(&vm.evict.list));
	assert_true(gpuvm_bo_put(vm_bo));
	assert_true(gpuvm_list_empty(&vm.evict.list));
	assert_ret(gpuvm_resv_unlock(&vr), 0);

	vm_fini(&vm, &ta);
	gpuvm_gem_put(&l.base);
	assert_int_equal(l.frees, 1);
	assert_ret(gpuvm_gem_fini(&root), 0);
	assert_ret(gpuvm_resv_fini(&vr), 0);
}

static void validate_drops_cleared_entry(void **state)
{
	struct gpuvm_resv vr, er;
	struct gpuvm_gem root;
	struct test_alloc ta;
	struct test_gem e;
	struct gpuvm_bo *vm_bo;
	struct gpuvm_exec exec;
	struct gpuvm vm;
	GPUVM_OPTS(gpuvm_gem_opts, ropts, .resv = &vr);

	(void)state;
	assert_ret(gpuvm_resv_init(&vr, NULL), 0);
	assert_ret(gpuvm_resv_init(&er, NULL), 0);
	assert_ret(gpuvm_gem_init(&root, &ropts), 0);
	vm_init(&vm, &ta, GPUVM_RESV_PROTECTED, &validate_ops, &root);
	assert_ret(test_gem_init(&e, "E", 0x10000), 0);
	e.base.resv = &er;
	assert_ret(gpuvm_bo_obtain(&vm, &e.base, &vm_bo), 0);
	assert_ret(gpuvm_resv_lock(&vr), 0);
	assert_ret(gpuvm_bo_extobj_add(vm_bo), 0);
	assert_ret(gpuvm_resv_unlock(&vr), 0);

	/* evicted under its own reservation: flagged, not listed */
	assert_ret(gpuvm_resv_lock(&er), 0);
	assert_ret(gpuvm_bo_evict(vm_bo, true), 0);
	assert_ret(gpuvm_resv_unlock(&er), 0);
	assert_true(gpuvm_list_empty(&vm.evict.list));

	/* holding both, exec lists it */
	GPUVM_OPTS(gpuvm_exec_opts, eopts, .vm = &vm);
	assert_ret(gpuvm_exec_init(&exec, &eopts), 0);
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_false(gpuvm_list_empty(&vm.evict.list));

	/* the flag is cleared, the entry stays: validate drops it unvalidated */
	assert_ret(gpuvm_bo_evict(vm_bo, false), 0);
	assert_false(gpuvm_list_empty(&vm.evict.list));
	validate_calls = 0;
	assert_ret(gpuvm_validate(&vm, NULL), 0);
	assert_int_equal(validate_calls, 0);
	assert_true(gpuvm_list_empty(&vm.evict.list));
	assert_int_equal(vm_bo->refcount, 1);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);

	/* its last put takes it off the extobj list: the VM's reservation's */
	assert_ret(gpuvm_resv_lock(&vr), 0);
	assert_true(gpuvm_bo_put(vm_bo));
	assert_ret(gpuvm_resv_unlock(&vr), 0);
	assert_true(gpuvm_list_empty(&vm.extobj.list));
	vm_fini(&vm, &ta);
	gpuvm_gem_put(&e.base);
	assert_int_equal(e.frees, 1);
	assert_ret(gpuvm_gem_fini(&root), 0);
	assert_ret(gpuvm_resv_fini(&er), 0);
	assert_ret(gpuvm_resv_fini(&vr), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(obtain_immediate_enomem),
		cmocka_unit_test(caller_lock_fails),
		cmocka_unit_test(obtain_arguments),
		cmocka_unit_test(prealloc_not_fresh),
		cmocka_unit_test(validate_immediate),
		cmocka_unit_test(validate_keeps_still_evicted),
		cmocka_unit_test(last_put_unlists_evicted_local),
		cmocka_unit_test(validate_drops_cleared_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
