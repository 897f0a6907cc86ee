/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the vm_bo lifetime of issue 3: immediate mode and its
 * refusals, the obtain variants, deferred puts and unlinks, zombies and the
 * deferred cleanup (with and without GPUVM_RESV_PROTECTED), the extobj and
 * evict lists, gpuvm_validate(), gpuvm_fini() refusing while vm_bos are
 * queued or listed, the order in which the last references are dropped, and
 * the vm_bo checks of gpuvm_verify().
 *
 * Single-threaded: the concurrent behaviour is in tests/stress.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include <signal.h>
#include <sys/wait.h>

#include "test_child.h"
#include "test_util.h"

/* ---- fixture: a VM with a reservation, a local and two external objects ---- */

struct fx {
	struct test_alloc ta;
	struct gpuvm_resv vm_resv;       /* the VM's reservation */
	struct gpuvm_resv ext_resv[2];   /* the external objects' own */
	struct gpuvm_gem root;           /* r_obj: carries vm_resv */
	struct test_gem local;           /* shares vm_resv */
	struct test_gem ext[2];          /* own reservations */
	struct test_gem bare;            /* no reservation at all */
	struct gpuvm vm;
};

static struct fx *fx_new(uint32_t flags, const struct gpuvm_ops *ops)
{
	struct fx *f = calloc(1, sizeof(*f));
	GPUVM_OPTS(gpuvm_gem_opts, ropts);

	assert_non_null(f);
	test_alloc_init(&f->ta);
	assert_ret(gpuvm_resv_init(&f->vm_resv, NULL), 0);
	ropts.resv = &f->vm_resv;
	assert_ret(gpuvm_gem_init(&f->root, &ropts), 0);
	assert_ret(test_gem_init(&f->local, "L", 0x100000), 0);
	f->local.base.resv = &f->vm_resv;
	for (int i = 0; i < 2; i++) {
		assert_ret(gpuvm_resv_init(&f->ext_resv[i], NULL), 0);
		assert_ret(test_gem_init(&f->ext[i], i ? "E1" : "E0", 0x100000), 0);
		f->ext[i].base.resv = &f->ext_resv[i];
	}
	assert_ret(test_gem_init(&f->bare, "B", 0x100000), 0);

	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "life", .flags = flags, .range = 1ull << 40,
		   .ops = ops, .alloc = test_alloc_hooks(&f->ta), .r_obj = &f->root);
	assert_ret(gpuvm_init(&f->vm, &opts), 0);
	return f;
}

/* Everything released, counted and finalized. */
static void fx_free(struct fx *f)
{
	assert_ret(gpuvm_fini(&f->vm), 0);
	assert_int_equal(f->ta.live, 0);
	assert_int_equal(f->ta.errors, 0);
	assert_int_equal(f->vm.refcount, 1);
	gpuvm_gem_put(&f->local.base);
	assert_int_equal(f->local.frees, 1);
	assert_int_equal(f->local.fini_ret, 0);
	gpuvm_gem_put(&f->bare.base);
	assert_int_equal(f->bare.frees, 1);
	for (int i = 0; i < 2; i++) {
		gpuvm_gem_put(&f->ext[i].base);
		assert_int_equal(f->ext[i].frees, 1);
		assert_int_equal(f->ext[i].fini_ret, 0);
		assert_ret(gpuvm_resv_fini(&f->ext_resv[i]), 0);
	}
	assert_ret(gpuvm_gem_fini(&f->root), 0);
	assert_ret(gpuvm_resv_fini(&f->vm_resv), 0);
	free(f);
}

static size_t list_len(const struct gpuvm_list *h)
{
	size_t n = 0;

	for (const struct gpuvm_list *e = h->next; e != h; e = e->next)
		n++;
	return n;
}

/* Obtain (immediate mode or not) and assert success. */
static struct gpuvm_bo *obtain(struct gpuvm *vm, struct gpuvm_gem *obj)
{
	struct gpuvm_bo *vm_bo = NULL;

	assert_ret(gpuvm_bo_obtain(vm, obj, &vm_bo), 0);
	assert_non_null(vm_bo);
	return vm_bo;
}

/* ---- misuse of the immediate-mode functions ---- */

/*
 * Release builds refuse misuse with -EOPNOTSUPP and change nothing; debug
 * builds assert (abort, with a line naming the call): mode_misuse_asserts.
 */
static void mode_misuse(void **state)
{
	struct fx *f = fx_new(0, NULL);
	struct gpuvm_bo *out = NULL;
#ifndef GPUVM_DEBUG
	struct gpuvm_bo *vm_bo, *pre;
	struct gpuva va;
#endif

	(void)state;
#ifndef GPUVM_DEBUG
	/* not immediate: the deferred functions are refused, nothing changes */
	vm_bo = obtain(&f->vm, &f->bare.base);
	insert_va(&f->vm, &va, 0x1000, 0x1000, &f->bare.base, 0);
	assert_ret(gpuva_link(&va, vm_bo), 0);
	assert_int_equal(vm_bo->refcount, 2);
	assert_ret(gpuvm_bo_put_deferred(vm_bo), -EOPNOTSUPP);
	assert_ret(gpuva_unlink_defer(&va), -EOPNOTSUPP);
	assert_ptr_equal(gpuva_vm_bo(&va), vm_bo);
	assert_int_equal(vm_bo->refcount, 2);
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), -EOPNOTSUPP);
	assert_ret(gpuvm_bo_create(&f->vm, &f->bare.base, &pre), 0);
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), -EOPNOTSUPP);
	assert_null(out);
	assert_false(gpuvm_list_linked(&pre->list.entry.gem));
	assert_true(gpuvm_bo_put(pre));
	assert_ret(gpuva_unlink(&va), 0);
	assert_ret(gpuva_remove(&va), 0);
	assert_true(gpuvm_bo_put(vm_bo));
#endif
	fx_free(f);

	f = fx_new(GPUVM_IMMEDIATE_MODE, NULL);
#ifndef GPUVM_DEBUG
	/* immediate: obtain_locked would allocate under the gpuva lock */
	out = NULL;
	assert_ret(gpuvm_bo_obtain_locked(&f->vm, &f->bare.base, &out), -EOPNOTSUPP);
	assert_null(out);
	assert_true(gpuvm_list_empty(&f->bare.base.gpuva.list));
	assert_int_equal(f->ta.live, 0);
#endif
	/* argument errors come first or alongside, never a crash */
	assert_ret(gpuvm_bo_obtain_locked(NULL, &f->bare.base, &out), -EINVAL);
	assert_ret(gpuvm_bo_obtain_prealloc(NULL, &out), -EINVAL);
	assert_ret(gpuvm_bo_put_deferred(NULL), -EINVAL);
	assert_ret(gpuva_unlink_defer(NULL), -EINVAL);
	assert_ret(gpuvm_bo_deferred_cleanup(NULL), -EINVAL);
	assert_ret(gpuvm_validate(NULL, NULL), -EINVAL);
	assert_ret(gpuvm_bo_extobj_add(NULL), -EINVAL);
	assert_ret(gpuvm_bo_evict(NULL, true), -EINVAL);
	assert_ret(gpuvm_bo_gem_evict(NULL, true), -EINVAL);
	fx_free(f);
}

#ifdef GPUVM_DEBUG
/* One misuse per child: 0-3 on a VM that is not immediate, 4 on one that is. */
static void misuse_child(void *arg)
{
	const int which = *(const int *)arg;
	struct fx *f = fx_new(which == 4 ? GPUVM_IMMEDIATE_MODE : 0, NULL);
	struct gpuvm_bo *vm_bo, *pre, *out = NULL;
	struct gpuva va;

	switch (which) {
	case 0:
		gpuvm_bo_put_deferred(obtain(&f->vm, &f->bare.base));
		break;
	case 1:
		vm_bo = obtain(&f->vm, &f->bare.base);
		insert_va(&f->vm, &va, 0x1000, 0x1000, &f->bare.base, 0);
		assert_ret(gpuva_link(&va, vm_bo), 0);
		gpuva_unlink_defer(&va);
		break;
	case 2:
		gpuvm_bo_deferred_cleanup(&f->vm);
		break;
	case 3:
		assert_ret(gpuvm_bo_create(&f->vm, &f->bare.base, &pre), 0);
		gpuvm_bo_obtain_prealloc(pre, &out);
		break;
	default:
		gpuvm_bo_obtain_locked(&f->vm, &f->bare.base, &out);
		break;
	}
	/* reaching here is the failure the parent reports (exit status 0) */
}

static void mode_misuse_asserts(void **state)
{
	static const char *const calls[] = {
		"gpuvm_bo_put_deferred", "gpuva_unlink_defer", "gpuvm_bo_deferred_cleanup",
		"gpuvm_bo_obtain_prealloc", "gpuvm_bo_obtain_locked",
	};
	char err[1024], want[160];

	(void)state;
	for (int which = 0; which < 5; which++) {
		int status = test_run_child(misuse_child, &which, err, sizeof(err));

		snprintf(want, sizeof(want), "libgpuvm: %s() refused: VM 'life' is %sin immediate mode",
			 calls[which], which == 4 ? "" : "not ");
		if (status == -1 || !WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
			fail_msg("%s misused: the child did not abort (status 0x%x): %s",
				 calls[which], status, err);
		if (!strstr(err, want))
			fail_msg("%s misused: stderr lacks \"%s\": %s", calls[which], want, err);
	}
}
#endif

/* ---- obtain variants ---- */

static void obtain_variants(void **state)
{
	struct fx *f = fx_new(GPUVM_IMMEDIATE_MODE, NULL);
	struct gpuvm_bo *a, *b, *pre, *out;

	(void)state;
	/* obtain creates once, then finds */
	a = obtain(&f->vm, &f->ext[0].base);
	assert_int_equal(a->refcount, 1);
	assert_int_equal(f->ta.live, 1);
	b = obtain(&f->vm, &f->ext[0].base);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refcount, 2);
	assert_int_equal(f->ta.live, 1);
	assert_int_equal(list_len(&f->ext[0].base.gpuva.list), 1);

	/* prealloc when one exists: the existing one, prealloc destroyed */
	assert_ret(gpuvm_bo_create(&f->vm, &f->ext[0].base, &pre), 0);
	assert_int_equal(f->ta.live, 2);
	assert_int_equal(f->vm.refcount, 3);
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), 0);
	assert_ptr_equal(out, a);
	assert_int_equal(a->refcount, 3);
	assert_int_equal(f->ta.live, 1);
	assert_int_equal(f->vm.refcount, 2);
	assert_int_equal(f->ext[0].base.refcount, 2);

	/* prealloc when none exists: prealloc goes on the gem's list */
	assert_ret(gpuvm_bo_create(&f->vm, &f->ext[1].base, &pre), 0);
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), 0);
	assert_ptr_equal(out, pre);
	assert_int_equal(pre->refcount, 1);
	assert_ptr_equal(f->ext[1].base.gpuva.list.next, &pre->list.entry.gem);
	/* the gem's lock is the list's in immediate mode */
	assert_ret(gpuvm_gem_gpuva_lock(&f->ext[1].base), 0);
	b = gpuvm_bo_find(&f->vm, &f->ext[1].base);
	assert_ret(gpuvm_gem_gpuva_unlock(&f->ext[1].base), 0);
	assert_ptr_equal(b, pre);
	assert_int_equal(pre->refcount, 2);

	/* a prealloc that is on a list, or shared, is refused and untouched */
	out = NULL;
	assert_ret(gpuvm_bo_obtain_prealloc(pre, &out), -EINVAL);
	assert_null(out);
	assert_ret(gpuvm_bo_create(&f->vm, &f->bare.base, &b), 0);
	gpuvm_bo_get(b);
	assert_ret(gpuvm_bo_obtain_prealloc(b, &out), -EINVAL);
	assert_ret(gpuvm_bo_obtain_prealloc(b, NULL), -EINVAL);
	assert_int_equal(b->refcount, 2);
	/* holding the gpuva lock while obtaining would deadlock: refused */
	assert_false(gpuvm_bo_put(b));
	assert_ret(gpuvm_gem_gpuva_lock(&f->bare.base), 0);
	assert_ret(gpuvm_bo_obtain_prealloc(b, &out), -EDEADLK);
	assert_ret(gpuvm_bo_obtain(&f->vm, &f->bare.base, &out), -EDEADLK);
	assert_ret(gpuvm_gem_gpuva_unlock(&f->bare.base), 0);
	assert_true(gpuvm_bo_put(b)); /* on no list: no lock needed */

	/* drop everything the deferred way */
	for (int i = 0; i < 3; i++)
		assert_ret(gpuvm_bo_put_deferred(a), i == 2);
	assert_ret(gpuvm_bo_put_deferred(pre), 0);
	assert_ret(gpuvm_bo_put_deferred(pre), 1);
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 2);
	fx_free(f);
}

/* The non-immediate obtain is obtain_locked: the caller serializes the list. */
static void obtain_locked_plain(void **state)
{
	struct fx *f = fx_new(0, NULL);
	struct gpuvm_bo *a, *b;

	(void)state;
	assert_ret(gpuvm_resv_lock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_bo_obtain_locked(&f->vm, &f->ext[0].base, &a), 0);
	assert_ret(gpuvm_bo_obtain_locked(&f->vm, &f->ext[0].base, &b), 0);
	assert_ptr_equal(a, b);
	assert_false(gpuvm_bo_put(b));
	assert_true(gpuvm_bo_put(a));
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[0]), 0);
	fx_free(f);
}

/* ---- deferred puts, unlinks, zombies, cleanup ---- */

static void deferred_put_and_cleanup(void **state)
{
	struct fx *f = fx_new(GPUVM_IMMEDIATE_MODE, NULL);
	struct gpuvm_bo *vm_bo;
	struct gpuva va[3];

	(void)state;
	vm_bo = obtain(&f->vm, &f->ext[0].base);
	assert_ret(gpuvm_bo_extobj_add(vm_bo), 0);
	for (int i = 0; i < 3; i++) {
		insert_va(&f->vm, &va[i], 0x10000 * (i + 1), 0x1000, &f->ext[0].base, 0);
		assert_ret(gpuvm_gem_gpuva_lock(&f->ext[0].base), 0);
		assert_ret(gpuva_link(&va[i], vm_bo), 0);
		assert_ret(gpuvm_gem_gpuva_unlock(&f->ext[0].base), 0);
	}
	assert_int_equal(vm_bo->refcount, 4);
	assert_ret(gpuvm_bo_put_deferred(vm_bo), 0); /* obtain's reference */
	assert_ret(gpuvm_resv_lock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_bo_evict(vm_bo, true), 0);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[0]), 0);
	assert_int_equal(list_len(&f->vm.extobj.list), 1);
	assert_int_equal(list_len(&f->vm.evict.list), 1);

	/* errors leave the mapping linked */
	struct gpuva unlinked;

	insert_va(&f->vm, &unlinked, 0x90000, 0x1000, &f->ext[0].base, 0);
	assert_ret(gpuva_unlink_defer(&unlinked), -ENOENT);
	assert_ret(gpuvm_gem_gpuva_lock(&f->ext[0].base), 0);
	assert_ret(gpuva_unlink_defer(&va[0]), -EDEADLK);
	assert_ret(gpuvm_bo_put_deferred(vm_bo), 0); /* not the last: no lock taken */
	gpuvm_bo_get(vm_bo);
	assert_ret(gpuvm_gem_gpuva_unlock(&f->ext[0].base), 0);
	assert_ptr_equal(gpuva_vm_bo(&va[0]), vm_bo);
	assert_ret(gpuva_remove(&unlinked), 0);

	/* unlinks in the signalling section; the last makes a zombie */
	bool cookie = gpuvm_signalling_begin();

	test_alloc_forbid(&f->ta, true);
	assert_ret(gpuva_remove(&va[0]), 0);
	assert_ret(gpuva_unlink_defer(&va[0]), 0);
	assert_null(gpuva_vm_bo(&va[0]));
	assert_ptr_equal(gpuva_gem(&va[0]), &f->ext[0].base);
	assert_ret(gpuva_unlink_defer(&va[0]), -ENOENT);
	assert_ret(gpuva_unlink_defer(&va[1]), 0);
	assert_false(gpuvm_bo_is_zombie(vm_bo));
	assert_ret(gpuva_unlink_defer(&va[2]), 0);
	test_alloc_forbid(&f->ta, false);
	gpuvm_signalling_end(cookie);

	/* a zombie: off every list (internal locks), not freed, references held */
	assert_true(gpuvm_bo_is_zombie(vm_bo));
	assert_true(gpuvm_list_empty(&f->ext[0].base.gpuva.list));
	assert_true(gpuvm_list_empty(&f->vm.extobj.list));
	assert_true(gpuvm_list_empty(&f->vm.evict.list));
	assert_int_equal(f->vm.refcount, 2);
	assert_int_equal(f->ext[0].base.refcount, 2);
	/* (the allocator also holds the index's nodes: count vm_bos by difference) */
	const size_t live = f->ta.live;

	assert_ret(gpuvm_gem_gpuva_lock(&f->ext[0].base), 0);
	assert_null(gpuvm_bo_find(&f->vm, &f->ext[0].base));
	assert_ret(gpuvm_gem_gpuva_unlock(&f->ext[0].base), 0);
	assert_ret(gpuvm_bo_put_deferred(vm_bo), -EINVAL); /* a zombie has nothing to drop */

	/* fini refuses while it is queued: an error, not a leak */
	assert_ret(gpuva_remove(&va[1]), 0);
	assert_ret(gpuva_remove(&va[2]), 0);
	assert_ret(gpuvm_fini(&f->vm), -EBUSY);
	assert_int_equal(f->ta.live, live);

	/* a new vm_bo for the same pair while the zombie waits */
	struct gpuvm_bo *fresh = obtain(&f->vm, &f->ext[0].base);

	assert_ptr_not_equal(fresh, vm_bo);
	assert_int_equal(f->ta.live, live + 1);
	assert_ret(gpuvm_bo_put_deferred(fresh), 1);

	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 2);
	assert_int_equal(f->ta.live, live - 1);
	assert_int_equal(f->vm.refcount, 1);
	assert_int_equal(f->ext[0].base.refcount, 1);
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 0);
	fx_free(f);
}

/*
 * With RESV_PROTECTED the zombie stays on extobj/evict (the signalling path
 * cannot take the VM's reservation); the cleanup takes it, or uses it when
 * the caller holds it already. Walks skip the zombie meanwhile.
 */
static unsigned int validate_calls;
static int validate_ret;

static int count_validate(struct gpuvm_bo *vm_bo, void *priv)
{
	(void)priv;
	assert_false(gpuvm_bo_is_zombie(vm_bo));
	assert_true(gpuvm_bo_evicted(vm_bo));
	validate_calls++;
	if (validate_ret)
		return validate_ret;
	/* validated: "moved back"; gpuvm_validate() unlists it */
	__atomic_store_n(&vm_bo->evicted, false, __ATOMIC_RELAXED);
	return 0;
}

static const struct gpuvm_ops validate_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_bo_validate = count_validate,
};

static void zombies_resv_protected(void **state)
{
	struct fx *f = fx_new(GPUVM_IMMEDIATE_MODE | GPUVM_RESV_PROTECTED, &validate_ops);
	struct gpuvm_bo *ext, *loc;

	(void)state;
	ext = obtain(&f->vm, &f->ext[0].base);
	loc = obtain(&f->vm, &f->local.base);

	/* the lists need the VM's reservation */
	assert_ret(gpuvm_bo_extobj_add(ext), -EPERM);
	assert_ret(gpuvm_validate(&f->vm, NULL), -EPERM);
	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
	assert_ret(gpuvm_bo_extobj_add(ext), 0);
	assert_ret(gpuvm_bo_extobj_add(ext), 0);
	assert_ret(gpuvm_bo_extobj_add(loc), 0); /* local: not an extobj */
	assert_int_equal(list_len(&f->vm.extobj.list), 1);
	/* a local object is evicted under the VM's reservation (its own) */
	assert_ret(gpuvm_bo_evict(loc, true), 0);
	assert_int_equal(list_len(&f->vm.evict.list), 1);
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);

	/* an external one only gets the flag: the list is the VM resv's */
	assert_ret(gpuvm_bo_evict(ext, true), -EPERM);
	assert_false(gpuvm_bo_evicted(ext));
	assert_ret(gpuvm_resv_lock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_bo_evict(ext, true), 0);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[0]), 0);
	assert_true(gpuvm_bo_evicted(ext));
	assert_int_equal(list_len(&f->vm.evict.list), 1);

	/* both become zombies; they stay on the lists */
	assert_ret(gpuvm_bo_put_deferred(ext), 1);
	assert_ret(gpuvm_bo_put_deferred(loc), 1);
	assert_int_equal(list_len(&f->vm.extobj.list), 1);
	assert_int_equal(list_len(&f->vm.evict.list), 1);
	assert_ret(gpuvm_fini(&f->vm), -EBUSY);

	/* walks skip them */
	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
	validate_calls = 0;
	assert_ret(gpuvm_validate(&f->vm, NULL), 0);
	assert_int_equal(validate_calls, 0);
	assert_ret(gpuvm_verify(&f->vm), 0);
	/* cleanup by a caller that holds the VM's reservation uses it */
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 2);
	assert_true(gpuvm_resv_held(&f->vm_resv));
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);
	assert_true(gpuvm_list_empty(&f->vm.extobj.list));
	assert_true(gpuvm_list_empty(&f->vm.evict.list));
	assert_int_equal(f->ta.live, 0);

	/* and one that does not hold it takes it */
	ext = obtain(&f->vm, &f->ext[1].base);
	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
	assert_ret(gpuvm_bo_extobj_add(ext), 0);
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);
	assert_ret(gpuvm_bo_put_deferred(ext), 1);
	assert_int_equal(list_len(&f->vm.extobj.list), 1);
	assert_ret(gpuvm_fini(&f->vm), -EBUSY);
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 1);
	assert_false(gpuvm_resv_held(&f->vm_resv));
	assert_true(gpuvm_list_empty(&f->vm.extobj.list));
	fx_free(f);
}

/* A cleanup whose reservation cannot be had leaves the zombies queued. */
static int failing_lock(struct gpuvm_resv *resv)
{
	(void)resv;
	return -EINTR;
}

static int ok_trylock(struct gpuvm_resv *resv)
{
	(void)resv;
	return 0;
}

static void ok_unlock(struct gpuvm_resv *resv)
{
	(void)resv;
}

static void cleanup_lock_fails(void **state)
{
	static const struct gpuvm_resv_ops fail_ops = {
		.sz = sizeof(fail_ops),
		.lock = failing_lock,
		.trylock = ok_trylock,
		.unlock = ok_unlock,
	};
	GPUVM_OPTS(gpuvm_resv_opts, ropts, .ops = &fail_ops);
	struct fx *f = fx_new(GPUVM_IMMEDIATE_MODE | GPUVM_RESV_PROTECTED, NULL);
	struct gpuvm_bo *vm_bo;

	(void)state;
	assert_ret(gpuvm_resv_fini(&f->vm_resv), 0);
	assert_ret(gpuvm_resv_init(&f->vm_resv, &ropts), 0);
	vm_bo = obtain(&f->vm, &f->bare.base);
	assert_ret(gpuvm_bo_put_deferred(vm_bo), 1);
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), -EINTR);
	assert_int_equal(f->ta.live, 1);
	assert_ret(gpuvm_fini(&f->vm), -EBUSY);
	/* with the reservation held (trylock works) the cleanup goes through */
	assert_ret(gpuvm_resv_trylock(&f->vm_resv), 0);
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 1);
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);
	assert_int_equal(f->ta.live, 0);
	assert_ret(gpuvm_resv_fini(&f->vm_resv), 0);
	assert_ret(gpuvm_resv_init(&f->vm_resv, NULL), 0);
	fx_free(f);
}

/* ---- extobj, evict, validate without RESV_PROTECTED ---- */

static void extobj_evict_validate(void **state)
{
	struct fx *f = fx_new(0, &validate_ops);
	struct gpuvm_bo *e0, *e1, *loc, *bare;

	(void)state;
	assert_ret(gpuvm_resv_lock(&f->ext_resv[0]), 0);
	e0 = obtain(&f->vm, &f->ext[0].base);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_resv_lock(&f->ext_resv[1]), 0);
	e1 = obtain(&f->vm, &f->ext[1].base);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[1]), 0);
	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
	loc = obtain(&f->vm, &f->local.base);
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);
	bare = obtain(&f->vm, &f->bare.base);

	/* extobj: external objects only (a missing reservation is "not the VM's"), once */
	assert_false(gpuvm_is_extobj(&f->vm, &f->local.base));
	assert_true(gpuvm_is_extobj(&f->vm, &f->bare.base));
	assert_false(gpuvm_is_extobj(&f->vm, NULL));
	assert_ptr_equal(gpuvm_resv(&f->vm), &f->vm_resv);
	assert_ret(gpuvm_bo_extobj_add(loc), 0);
	assert_true(gpuvm_list_empty(&f->vm.extobj.list));
	assert_ret(gpuvm_bo_extobj_add(e0), 0);
	assert_ret(gpuvm_bo_extobj_add(e1), 0);
	assert_ret(gpuvm_bo_extobj_add(e0), 0);
	assert_ret(gpuvm_bo_extobj_add(bare), 0);
	assert_int_equal(list_len(&f->vm.extobj.list), 3);
	assert_ptr_equal(f->vm.extobj.list.next, &e0->list.entry.extobj);

	/* evict needs the object's reservation, when it has one */
	assert_ret(gpuvm_bo_evict(e0, true), -EPERM);
	assert_false(gpuvm_bo_evicted(e0));
	assert_true(gpuvm_list_empty(&f->vm.evict.list));
	assert_ret(gpuvm_bo_evict(bare, true), 0);
	assert_ret(gpuvm_resv_lock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_bo_evict(e0, true), 0);
	assert_ret(gpuvm_bo_evict(e0, true), 0);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_resv_lock(&f->ext_resv[1]), 0);
	assert_ret(gpuvm_bo_gem_evict(&f->ext[1].base, true), 0);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[1]), 0);
	assert_ret(gpuvm_bo_gem_evict(&f->ext[1].base, false), -EPERM);
	assert_true(gpuvm_bo_evicted(e1));
	assert_int_equal(list_len(&f->vm.evict.list), 3);
	/* un-evicting takes it off */
	assert_ret(gpuvm_bo_evict(bare, false), 0);
	assert_false(gpuvm_bo_evicted(bare));
	assert_int_equal(list_len(&f->vm.evict.list), 2);
	assert_ret(gpuvm_verify(&f->vm), 0);

	/* validate: a callback error comes back at once, the list stays in order */
	validate_calls = 0;
	validate_ret = -EIO;
	assert_ret(gpuvm_validate(&f->vm, NULL), -EIO);
	validate_ret = 0;
	assert_int_equal(validate_calls, 1);
	assert_int_equal(list_len(&f->vm.evict.list), 2);
	assert_ptr_equal(f->vm.evict.list.next, &e0->list.entry.evict);
	assert_ptr_equal(f->vm.evict.list.prev, &e1->list.entry.evict);
	assert_int_equal(e0->refcount, 1); /* the walk's reference is gone */

	/* then every evicted vm_bo once, and the validated ones leave the list */
	validate_calls = 0;
	assert_ret(gpuvm_validate(&f->vm, NULL), 0);
	assert_int_equal(validate_calls, 2);
	assert_true(gpuvm_list_empty(&f->vm.evict.list));
	assert_ret(gpuvm_validate(&f->vm, NULL), 0);
	assert_int_equal(validate_calls, 2);

	/* listed vm_bos keep the VM busy */
	assert_ret(gpuvm_fini(&f->vm), -EBUSY);

	/* the last put takes a vm_bo off the lists */
	assert_ret(gpuvm_resv_lock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_bo_evict(e0, true), 0);
	assert_true(gpuvm_bo_put(e0));
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[0]), 0);
	assert_int_equal(list_len(&f->vm.extobj.list), 2);
	assert_true(gpuvm_list_empty(&f->vm.evict.list));
	assert_ret(gpuvm_resv_lock(&f->ext_resv[1]), 0);
	assert_true(gpuvm_bo_put(e1));
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[1]), 0);
	assert_true(gpuvm_bo_put(bare));
	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
	assert_true(gpuvm_bo_put(loc));
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);
	assert_true(gpuvm_list_empty(&f->vm.extobj.list));

	/* no callback: refused */
	struct gpuvm_ops none = { .sz = sizeof(none) };

	f->vm.ops = &none;
	assert_ret(gpuvm_validate(&f->vm, NULL), -EOPNOTSUPP);
	f->vm.ops = NULL;
	assert_ret(gpuvm_validate(&f->vm, NULL), -EOPNOTSUPP);
	fx_free(f);
}

/* One object in two VMs: gem_evict reaches every VM. */
static void gem_evict_two_vms(void **state)
{
	struct fx *f = fx_new(GPUVM_IMMEDIATE_MODE, NULL);
	struct gpuvm vm2;
	struct gpuvm_bo *a, *b;

	(void)state;
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "two", .flags = GPUVM_IMMEDIATE_MODE,
		   .range = 1ull << 40, .alloc = test_alloc_hooks(&f->ta));
	assert_ret(gpuvm_init(&vm2, &opts), 0);
	a = obtain(&f->vm, &f->ext[0].base);
	b = obtain(&vm2, &f->ext[0].base);
	assert_ptr_not_equal(a, b);
	assert_ret(gpuvm_resv_lock(&f->ext_resv[0]), 0);
	assert_ret(gpuvm_bo_gem_evict(&f->ext[0].base, true), 0);
	assert_true(gpuvm_bo_evicted(a) && gpuvm_bo_evicted(b));
	assert_int_equal(list_len(&f->vm.evict.list), 1);
	assert_int_equal(list_len(&vm2.evict.list), 1);
	/* also when the caller holds the gpuva lock already */
	assert_ret(gpuvm_gem_gpuva_lock(&f->ext[0].base), 0);
	assert_ret(gpuvm_bo_gem_evict(&f->ext[0].base, false), 0);
	assert_ret(gpuvm_gem_gpuva_unlock(&f->ext[0].base), 0);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv[0]), 0);
	assert_false(gpuvm_bo_evicted(a) || gpuvm_bo_evicted(b));
	assert_true(gpuvm_list_empty(&f->vm.evict.list));
	assert_true(gpuvm_list_empty(&vm2.evict.list));

	assert_ret(gpuvm_bo_put_deferred(a), 1);
	assert_ret(gpuvm_bo_put_deferred(b), 1);
	/* each VM cleans its own */
	assert_ret(gpuvm_bo_deferred_cleanup(&vm2), 1);
	assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 1);
	assert_ret(gpuvm_fini(&vm2), 0);
	fx_free(f);
}

/* ---- the order of the last references ---- */

static char events[8][8];
static int nevents;

static void ev(const char *what)
{
	assert_true(nevents < 8);
	strcpy(events[nevents++], what);
}

struct ev_vm {
	struct gpuvm base;
	int fini_ret;
};

static void ev_vm_free(struct gpuvm *vm)
{
	((struct ev_vm *)vm)->fini_ret = gpuvm_fini(vm);
	ev("vm");
}

static struct gpuvm_bo *ev_bo_alloc(struct gpuvm *vm)
{
	(void)vm;
	return calloc(1, sizeof(struct gpuvm_bo));
}

static void ev_bo_free(struct gpuvm_bo *vm_bo)
{
	ev("vm_bo");
	free(vm_bo);
}

static void ev_gem_free(struct gpuvm_gem *obj)
{
	assert_ret(gpuvm_gem_fini(obj), 0);
	ev("gem");
}

static void put_order(void **state)
{
	static const struct gpuvm_ops ops = {
		.sz = sizeof(ops),
		.vm_free = ev_vm_free,
		.vm_bo_alloc = ev_bo_alloc,
		.vm_bo_free = ev_bo_free,
	};
	static const struct gpuvm_gem_funcs gfuncs = { .free = ev_gem_free };
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = 0x10000, .funcs = &gfuncs);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "order", .flags = GPUVM_IMMEDIATE_MODE,
		   .range = 1ull << 40, .ops = &ops);
	struct ev_vm vm;
	struct gpuvm_gem obj;
	struct gpuvm_bo *vm_bo;
	struct gpuva va;

	(void)state;
	assert_ret(gpuvm_init(&vm.base, &opts), 0);
	assert_ret(gpuvm_gem_init(&obj, &gopts), 0);
	vm_bo = obtain(&vm.base, &obj);
	insert_va(&vm.base, &va, 0x1000, 0x1000, &obj, 0);
	assert_ret(gpuva_link(&va, vm_bo), 0);
	assert_ret(gpuvm_bo_put_deferred(vm_bo), 0);
	assert_ret(gpuva_remove(&va), 0);

	/* the driver lets go of both: the zombie-to-be keeps them alive */
	nevents = 0;
	gpuvm_put(&vm.base);
	gpuvm_gem_put(&obj);
	assert_int_equal(nevents, 0);
	assert_ret(gpuva_unlink_defer(&va), 0);
	assert_int_equal(nevents, 0); /* nothing freed on the signalling path */
	assert_int_equal(vm.base.refcount, 1);
	assert_int_equal(obj.refcount, 1);

	/* the cleanup frees the vm_bo, then drops the VM before the gem */
	assert_ret(gpuvm_bo_deferred_cleanup(&vm.base), 1);
	assert_int_equal(nevents, 3);
	assert_string_equal(events[0], "vm_bo");
	assert_string_equal(events[1], "vm");
	assert_string_equal(events[2], "gem");
	assert_int_equal(vm.fini_ret, 0);
}

/* ---- gpuvm_verify() on vm_bos ---- */

static void verify_vm_bos(void **state)
{
	struct fx *f = fx_new(0, NULL);
	struct gpuvm vm2;
	struct gpuvm_bo *vm_bo, *other;
	struct gpuva va[2];

	(void)state;
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "other", .range = 1ull << 40,
		   .alloc = test_alloc_hooks(&f->ta));
	assert_ret(gpuvm_init(&vm2, &opts), 0);
	vm_bo = obtain(&f->vm, &f->bare.base);
	insert_va(&f->vm, &va[0], 0x1000, 0x1000, &f->bare.base, 0);
	insert_va(&f->vm, &va[1], 0x3000, 0x1000, &f->bare.base, 0);
	assert_ret(gpuva_link(&va[0], vm_bo), 0);
	assert_ret(gpuva_link(&va[1], vm_bo), 0);
	assert_ret(gpuvm_verify(&f->vm), 0);

	/* fewer references than linked mappings (obtain's is not required) */
	vm_bo->refcount = 2;
	assert_ret(gpuvm_verify(&f->vm), 0);
	vm_bo->refcount = 1;
	assert_ret(gpuvm_verify(&f->vm), -EUCLEAN);
	vm_bo->refcount = 3;
	assert_ret(gpuvm_verify(&f->vm), 0);

	/* another VM's vm_bo on this VM's extobj list */
	other = obtain(&vm2, &f->bare.base);
	gpuvm_list_add_tail(&other->list.entry.extobj, &f->vm.extobj.list);
	assert_ret(gpuvm_verify(&f->vm), -EUCLEAN);
	gpuvm_list_del(&other->list.entry.extobj);
	/* a local object on the extobj list */
	struct gpuvm_bo *loc = obtain(&f->vm, &f->local.base);

	gpuvm_list_add_tail(&loc->list.entry.extobj, &f->vm.extobj.list);
	assert_ret(gpuvm_verify(&f->vm), -EUCLEAN);
	gpuvm_list_del(&loc->list.entry.extobj);
	/* another VM's vm_bo on the evict list */
	gpuvm_list_add_tail(&other->list.entry.evict, &f->vm.evict.list);
	assert_ret(gpuvm_verify(&f->vm), -EUCLEAN);
	gpuvm_list_del(&other->list.entry.evict);
	assert_ret(gpuvm_verify(&f->vm), 0);

	assert_true(gpuvm_bo_put(loc));
	assert_true(gpuvm_bo_put(other));
	assert_ret(gpuvm_fini(&vm2), 0);
	assert_ret(gpuva_unlink(&va[0]), 0);
	assert_ret(gpuva_unlink(&va[1]), 0);
	assert_ret(gpuva_remove(&va[0]), 0);
	assert_ret(gpuva_remove(&va[1]), 0);
	assert_true(gpuvm_bo_put(vm_bo));
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode_misuse),
#ifdef GPUVM_DEBUG
		cmocka_unit_test(mode_misuse_asserts),
#endif
		cmocka_unit_test(obtain_variants),
		cmocka_unit_test(obtain_locked_plain),
		cmocka_unit_test(deferred_put_and_cleanup),
		cmocka_unit_test(zombies_resv_protected),
		cmocka_unit_test(cleanup_lock_fails),
		cmocka_unit_test(extobj_evict_validate),
		cmocka_unit_test(gem_evict_two_vms),
		cmocka_unit_test(put_order),
		cmocka_unit_test(verify_vm_bos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
