/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of gpuvm_exec (multi-object locking): argument checks, the VM's
 * reservation and the external objects, duplicates and shared or missing
 * reservations, the range and map-request variants (the latter against the
 * ops gpuvm_sm_map_ops_create() returns), the extra callback and its
 * helpers, every error path leaving nothing locked and no reference held,
 * back-off on contention, the fence-signalling check, and threads locking
 * overlapping sets in opposite orders without deadlock or double holders.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include "test_child.h"
#include "test_util.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOBJ 12
#define GEM_SIZE 0x100000ull
#define VM_RANGE (1ull << 40)

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* ---- a reservation lock of the test's own: counts, logs, fails ---- */

struct tlock {
	pthread_mutex_t m;
	int id;
	int fail_lock;        /* returned by lock when non-zero */
	int fail_trylock;     /* returned by trylock when non-zero */
	unsigned int waiters; /* lock calls made (atomic) */
	unsigned int busy;    /* trylock calls that found it held (atomic) */
};

/* unlock order, shared by the tlocks of one test (single-threaded use) */
static int unlock_log[64];
static unsigned int unlock_n;

static int tl_lock(struct gpuvm_resv *resv)
{
	struct tlock *t = resv->user_data;

	__atomic_fetch_add(&t->waiters, 1, __ATOMIC_SEQ_CST);
	if (t->fail_lock)
		return t->fail_lock;
	return -pthread_mutex_lock(&t->m);
}

static int tl_trylock(struct gpuvm_resv *resv)
{
	struct tlock *t = resv->user_data;

	if (t->fail_trylock)
		return t->fail_trylock;
	if (pthread_mutex_trylock(&t->m)) {
		__atomic_fetch_add(&t->busy, 1, __ATOMIC_SEQ_CST);
		return -EBUSY;
	}
	return 0;
}

static void tl_unlock(struct gpuvm_resv *resv)
{
	struct tlock *t = resv->user_data;

	if (unlock_n < sizeof(unlock_log) / sizeof(unlock_log[0]))
		unlock_log[unlock_n++] = t->id;
	pthread_mutex_unlock(&t->m);
}

static const struct gpuvm_resv_ops tl_ops = {
	.sz = sizeof(struct gpuvm_resv_ops),
	.lock = tl_lock,
	.trylock = tl_trylock,
	.unlock = tl_unlock,
};

/* ---- fixture: a VM with a reservation and NOBJ objects with their own ---- */

struct fx {
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem root;
	struct gpuvm_resv vm_resv;
	struct tlock vm_tl;
	struct test_gem g[NOBJ];
	struct gpuvm_resv r[NOBJ];
	struct tlock tl[NOBJ];
	struct gpuvm_bo *bo[NOBJ]; /* vm_bos the fixture holds (external objects) */
	bool prot;
	bool use_tl;
};

static void resv_init_tl(struct gpuvm_resv *resv, struct tlock *t, int id)
{
	GPUVM_OPTS(gpuvm_resv_opts, opts, .ops = &tl_ops, .user_data = t);

	memset(t, 0, sizeof(*t));
	assert_int_equal(pthread_mutex_init(&t->m, NULL), 0);
	t->id = id;
	assert_ret(gpuvm_resv_init(resv, &opts), 0);
}

/* Reservations use the built-in mutex unless @tl, then the logging tlocks. */
static void fx_setup(struct fx *f, uint32_t vm_flags, bool tl)
{
	char name[8];

	memset(f, 0, sizeof(*f));
	test_alloc_init(&f->ta);
	f->prot = (vm_flags & GPUVM_RESV_PROTECTED) != 0;
	f->use_tl = tl;
	if (tl)
		resv_init_tl(&f->vm_resv, &f->vm_tl, 100);
	else
		assert_ret(gpuvm_resv_init(&f->vm_resv, NULL), 0);
	assert_ret(test_gem_init(&f->root, "root", 0), 0);
	f->root.base.resv = &f->vm_resv;
	for (int i = 0; i < NOBJ; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		if (tl)
			resv_init_tl(&f->r[i], &f->tl[i], i);
		else
			assert_ret(gpuvm_resv_init(&f->r[i], NULL), 0);
		assert_ret(test_gem_init(&f->g[i], name, GEM_SIZE), 0);
		f->g[i].base.resv = &f->r[i];
	}

	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "exec", .flags = vm_flags, .start = 0,
		   .range = VM_RANGE, .alloc = test_alloc_hooks(&f->ta), .r_obj = &f->root.base);
	assert_ret(gpuvm_init(&f->vm, &opts), 0);
	unlock_n = 0;
}

static void lock_resv(struct gpuvm_resv *resv)
{
	if (resv)
		assert_ret(gpuvm_resv_lock(resv), 0);
}

static void unlock_resv(struct gpuvm_resv *resv)
{
	if (resv)
		assert_ret(gpuvm_resv_unlock(resv), 0);
}

/* Make g[i] an external object of the VM; the fixture keeps the vm_bo. */
static void fx_extobj(struct fx *f, int i)
{
	struct gpuvm_resv *r = f->g[i].base.resv;

	lock_resv(r);
	assert_ret(gpuvm_bo_obtain(&f->vm, &f->g[i].base, &f->bo[i]), 0);
	unlock_resv(r);
	if (f->prot)
		lock_resv(&f->vm_resv);
	assert_ret(gpuvm_bo_extobj_add(f->bo[i]), 0);
	if (f->prot)
		unlock_resv(&f->vm_resv);
	assert_true(gpuvm_list_linked(&f->bo[i]->list.entry.extobj));
}

static unsigned int refs(const struct test_gem *g)
{
	return __atomic_load_n(&g->base.refcount, __ATOMIC_RELAXED);
}

/* No reservation of the fixture is held by this thread. */
static void assert_nothing_held(const struct fx *f)
{
	assert_false(gpuvm_resv_held(&f->vm_resv));
	for (int i = 0; i < NOBJ; i++)
		if (f->g[i].base.resv)
			assert_false(gpuvm_resv_held(f->g[i].base.resv));
}

/* References on @g besides an exec's: the test's own, one per vm_bo. */
static unsigned int refs_expected(const struct test_gem *g)
{
	const struct gpuvm_bo *vm_bo;
	unsigned int n = 1;

	gpuvm_gem_for_each_vm_bo(vm_bo, &g->base)
		n++;
	return n;
}

/* No exec kept a reference: only the test's own and the vm_bos' remain. */
static void assert_refs_baseline(const struct fx *f)
{
	assert_int_equal(refs(&f->root), refs_expected(&f->root));
	for (int i = 0; i < NOBJ; i++)
		assert_int_equal(refs(&f->g[i]), refs_expected(&f->g[i]));
}

/* Whether @obj is in @exec's locked set. */
static bool exec_has(const struct gpuvm_exec *exec, const struct gpuvm_gem *obj)
{
	for (unsigned int i = 0; i < exec->num_objects; i++)
		if (exec->objects[i] == obj)
			return true;
	return false;
}

/*
 * The locked set is exactly @want (any order): every entry's reservation is
 * held by this thread, and each entry holds a reference on its object.
 */
static void assert_set(const struct gpuvm_exec *exec, struct gpuvm_gem *const *want,
		       unsigned int n)
{
	struct gpuvm_gem *obj;
	unsigned int i;

	if (exec->num_objects != n) {
		for (i = 0; i < exec->num_objects; i++)
			fprintf(stderr, "  locked: %s\n", test_gem_name(exec->objects[i]));
		fail_msg("%u objects locked, want %u", exec->num_objects, n);
	}
	for (i = 0; i < n; i++)
		if (!exec_has(exec, want[i]))
			fail_msg("%s is not locked", test_gem_name(want[i]));
	gpuvm_exec_for_each_locked_object(exec, i, obj) {
		assert_non_null(obj->resv);
		assert_true(gpuvm_resv_held(obj->resv));
	}
}

static void exec_new(struct fx *f, struct gpuvm_exec *exec, uint32_t flags,
		     int (*extra)(struct gpuvm_exec *, void *), void *priv)
{
	GPUVM_OPTS(gpuvm_exec_opts, opts, .vm = &f->vm, .flags = flags, .extra = extra,
		   .priv = priv);

	memset(exec, 0x5a, sizeof(*exec));
	assert_ret(gpuvm_exec_init(exec, &opts), 0);
	assert_int_equal(exec->num_objects, 0);
}

static void fx_teardown(struct fx *f)
{
	assert_nothing_held(f);
	for (int i = 0; i < NOBJ; i++) {
		if (!f->bo[i])
			continue;
		/* the gem's list lock: its gpuva lock in immediate mode, else its resv */
		if (!gpuvm_immediate_mode(&f->vm))
			lock_resv(f->g[i].base.resv);
		if (f->prot)
			lock_resv(&f->vm_resv);
		if (gpuvm_immediate_mode(&f->vm))
			assert_ret(gpuvm_gem_gpuva_lock(&f->g[i].base), 0);
		assert_true(gpuvm_bo_put(f->bo[i]));
		if (gpuvm_immediate_mode(&f->vm))
			assert_ret(gpuvm_gem_gpuva_unlock(&f->g[i].base), 0);
		if (f->prot)
			unlock_resv(&f->vm_resv);
		if (!gpuvm_immediate_mode(&f->vm))
			unlock_resv(f->g[i].base.resv);
		f->bo[i] = NULL;
	}
	assert_ret(gpuvm_fini(&f->vm), 0);
	/* every reference an exec took was dropped: the last put frees */
	gpuvm_gem_put(&f->root.base);
	assert_int_equal(f->root.frees, 1);
	assert_int_equal(f->root.fini_ret, 0);
	for (int i = 0; i < NOBJ; i++) {
		gpuvm_gem_put(&f->g[i].base);
		assert_int_equal(f->g[i].frees, 1);
		assert_int_equal(f->g[i].fini_ret, 0);
		assert_ret(gpuvm_resv_fini(&f->r[i]), 0);
	}
	assert_ret(gpuvm_resv_fini(&f->vm_resv), 0);
	if (f->use_tl) {
		assert_int_equal(pthread_mutex_destroy(&f->vm_tl.m), 0);
		for (int i = 0; i < NOBJ; i++)
			assert_int_equal(pthread_mutex_destroy(&f->tl[i].m), 0);
	}
	assert_int_equal(f->ta.live, 0);
	assert_int_equal(f->ta.errors, 0);
}

/* ---- mappings ---- */

/* Insert a mapping of @obj (NULL: sparse); @link: also link it to its vm_bo. */
static void fx_map(struct fx *f, struct gpuva *va, uint64_t addr, uint64_t range,
		   struct gpuvm_gem *obj, bool link)
{
	struct gpuvm_bo *vm_bo = NULL;

	insert_va(&f->vm, va, addr, range, obj, 0);
	if (!obj || !link)
		return;
	lock_resv(obj->resv);
	assert_ret(gpuvm_bo_obtain(&f->vm, obj, &vm_bo), 0);
	assert_ret(gpuva_link(va, vm_bo), 0);
	gpuvm_bo_put(vm_bo);
	unlock_resv(obj->resv);
}

static void fx_unmap(struct gpuva *va)
{
	struct gpuvm_gem *obj = gpuva_gem(va);

	if (gpuva_vm_bo(va)) {
		lock_resv(obj->resv);
		assert_ret(gpuva_unlink(va), 0);
		unlock_resv(obj->resv);
	}
	assert_ret(gpuva_remove(va), 0);
}

/* ---- argument checks ---- */

static void exec_init_errors(void **state)
{
	struct fx f;
	struct gpuvm_exec exec, before;
	struct {
		struct gpuvm_exec_opts o;
		uint64_t newer;
	} big;
	struct gpuvm_gem *objs[2];

	(void)state;
	fx_setup(&f, 0, false);
	GPUVM_OPTS(gpuvm_exec_opts, opts, .vm = &f.vm);

	memset(&exec, 0x5a, sizeof(exec));
	memset(&before, 0x5a, sizeof(before));
	assert_ret(gpuvm_exec_init(NULL, &opts), -EINVAL);
	assert_ret(gpuvm_exec_init(&exec, NULL), -EINVAL);
	opts.sz = sizeof(size_t);
	assert_ret(gpuvm_exec_init(&exec, &opts), -EINVAL);
	opts.sz = sizeof(opts) - 1;
	assert_ret(gpuvm_exec_init(&exec, &opts), -EINVAL);
	opts.sz = sizeof(opts);
	opts.vm = NULL;
	assert_ret(gpuvm_exec_init(&exec, &opts), -EINVAL);
	opts.vm = &f.vm;
	opts.flags = 1u << 7;
	assert_ret(gpuvm_exec_init(&exec, &opts), -EINVAL);
	opts.flags = 0;
	memset(&big, 0, sizeof(big));
	big.o = opts;
	big.o.sz = sizeof(big);
	big.newer = 1;
	assert_ret(gpuvm_exec_init(&exec, &big.o), -EINVAL);
	/* on error nothing was written */
	assert_memory_equal(&exec, &before, sizeof(exec));
	big.newer = 0;
	assert_ret(gpuvm_exec_init(&exec, &big.o), 0);
	assert_ptr_equal(exec.vm, &f.vm);
	assert_int_equal(exec.num_objects, 0);
	assert_null(exec.objects);
	assert_int_equal(exec.backoffs, 0);
	/* init allocates nothing */
	assert_int_equal(f.ta.calls, 0);

	/* NULL exec */
	assert_ret(gpuvm_exec_lock(NULL), -EINVAL);
	assert_ret(gpuvm_exec_lock_array(NULL, NULL, 0), -EINVAL);
	assert_ret(gpuvm_exec_lock_range(NULL, 0, PG), -EINVAL);
	assert_ret(gpuvm_sm_map_exec_lock(NULL, NULL), -EINVAL);
	assert_ret(gpuvm_exec_fini(NULL), -EINVAL);
	gpuvm_exec_unlock(NULL);

	/* bad arrays: checked before anything is locked */
	assert_ret(gpuvm_exec_lock_array(&exec, NULL, 1), -EINVAL);
	objs[0] = &f.g[0].base;
	objs[1] = NULL;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 2), -EINVAL);
	assert_nothing_held(&f);

	/* bad ranges */
	assert_ret(gpuvm_exec_lock_range(&exec, 0, 0), -EINVAL);
	assert_ret(gpuvm_exec_lock_range(&exec, VM_RANGE - PG, 2 * PG), -EINVAL);
	assert_ret(gpuvm_exec_lock_range(&exec, UINT64_MAX, 2), -EINVAL);

	/* bad map requests */
	{
		GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = 0, .map.va.range = PG,
			   .map.gem.obj = &f.g[0].base, .map.gem.offset = GEM_SIZE - PG);
		struct {
			struct gpuvm_map_req r;
			uint64_t newer;
		} bigreq;

		assert_ret(gpuvm_sm_map_exec_lock(&exec, NULL), -EINVAL);
		req.sz = sizeof(size_t);
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), -EINVAL);
		req.sz = sizeof(req);
		req.map.gem.offset = GEM_SIZE - PG + 1; /* past the object's end */
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), -EINVAL);
		req.map.gem.offset = GEM_SIZE + PG;
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), -EINVAL);
		req.map.gem.offset = 0;
		req.map.va.range = 0;
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), -EINVAL);
		req.map.va.range = PG;
		req.map.va.addr = VM_RANGE;
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), -EINVAL);
		memset(&bigreq, 0, sizeof(bigreq));
		bigreq.r.sz = sizeof(bigreq);
		bigreq.r.map.va.range = PG;
		bigreq.newer = 1;
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &bigreq.r), -EINVAL);
	}

	/* the callback helpers refuse to run outside a callback */
	assert_ret(gpuvm_exec_lock_obj(&exec, &f.g[0].base), -EINVAL);
	assert_ret(gpuvm_exec_lock_obj(NULL, &f.g[0].base), -EINVAL);
	assert_ret(gpuvm_prepare_objects(&exec), -EINVAL);
	assert_ret(gpuvm_prepare_objects(NULL), -EINVAL);
	assert_ret(gpuvm_prepare_range(&exec, 0, PG), -EINVAL);
	assert_ret(gpuvm_prepare_range(NULL, 0, PG), -EINVAL);
	assert_ret(gpuvm_prepare_sm_map(&exec, NULL), -EINVAL);
	assert_ret(gpuvm_prepare_sm_map(NULL, NULL), -EINVAL);
	assert_nothing_held(&f);
	assert_int_equal(f.ta.calls, 0);

	/* unlock of an exec that holds nothing does nothing */
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	/* a second fini is harmless */
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

/* ---- the VM's reservation and the external objects ---- */

static void lock_extobjs(bool prot)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_bo *local = NULL;
	unsigned long allocs;
	size_t live;

	fx_setup(&f, prot ? GPUVM_RESV_PROTECTED : 0, false);
	fx_extobj(&f, 0);
	fx_extobj(&f, 1);
	fx_extobj(&f, 2);
	/* g3 shares the VM's reservation: a local object, never on the list */
	f.g[3].base.resv = &f.vm_resv;
	lock_resv(&f.vm_resv);
	assert_ret(gpuvm_bo_obtain(&f.vm, &f.g[3].base, &local), 0);
	assert_ret(gpuvm_bo_extobj_add(local), 0);
	assert_false(gpuvm_list_linked(&local->list.entry.extobj));
	unlock_resv(&f.vm_resv);

	live = f.ta.live; /* the vm_bos */
	exec_new(&f, &exec, 0, NULL, NULL);
	assert_ret(gpuvm_exec_lock(&exec), 0);
	{
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[0].base, &f.g[1].base,
					     &f.g[2].base };

		assert_set(&exec, want, 4);
	}
	/* the VM's reservation comes first: it protects what is read next */
	assert_ptr_equal(exec.objects[0], &f.root.base);
	assert_false(gpuvm_resv_held(&f.r[4]));
	/* each locked object is referenced by the exec */
	assert_int_equal(refs(&f.root), 2);
	assert_int_equal(refs(&f.g[0]), 3);
	assert_int_equal(refs(&f.g[4]), 1);

	/* locked twice without unlock, and fini while locked: refused */
	assert_ret(gpuvm_exec_lock(&exec), -EBUSY);
	assert_ret(gpuvm_exec_lock_range(&exec, 0, PG), -EBUSY);
	assert_ret(gpuvm_exec_fini(&exec), -EBUSY);
	assert_int_equal(exec.num_objects, 4);

	gpuvm_exec_unlock(&exec);
	assert_int_equal(exec.num_objects, 0);
	assert_nothing_held(&f);
	assert_int_equal(refs(&f.root), 1);
	assert_int_equal(refs(&f.g[0]), 2);

	/* the next cycle reuses the storage */
	allocs = f.ta.allocs;
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_int_equal(exec.num_objects, 4);
	gpuvm_exec_unlock(&exec);
	assert_int_equal(f.ta.allocs, allocs);
	/* a second unlock does nothing */
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_int_equal(f.ta.live, live);
	assert_nothing_held(&f);

	lock_resv(&f.vm_resv);
	assert_true(gpuvm_bo_put(local));
	unlock_resv(&f.vm_resv);
	f.g[3].base.resv = &f.r[3];
	assert_refs_baseline(&f);
	fx_teardown(&f);
}

static void exec_lock_extobjs(void **state)
{
	(void)state;
	lock_extobjs(false);
}

static void exec_lock_extobjs_resv_protected(void **state)
{
	(void)state;
	lock_extobjs(true);
}

/*
 * With RESV_PROTECTED an evicted external object is only flagged (the evict
 * list needs the VM's reservation); gpuvm_exec_lock puts it on the list.
 */
static void exec_lock_evicted_extobj(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;

	(void)state;
	fx_setup(&f, GPUVM_RESV_PROTECTED, false);
	fx_extobj(&f, 0);
	fx_extobj(&f, 1);
	lock_resv(&f.r[1]);
	assert_ret(gpuvm_bo_evict(f.bo[1], true), 0);
	unlock_resv(&f.r[1]);
	assert_true(gpuvm_bo_evicted(f.bo[1]));
	assert_false(gpuvm_list_linked(&f.bo[1]->list.entry.evict));

	exec_new(&f, &exec, 0, NULL, NULL);
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_true(gpuvm_list_linked(&f.bo[1]->list.entry.evict));
	assert_false(gpuvm_list_linked(&f.bo[0]->list.entry.evict));
	/* a second lock does not add it twice */
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_true(gpuvm_list_linked(&f.bo[1]->list.entry.evict));
	assert_ptr_equal(f.vm.evict.list.next, &f.bo[1]->list.entry.evict);
	assert_ptr_equal(f.vm.evict.list.prev, &f.bo[1]->list.entry.evict);
	/* unflagged: it stays listed until gpuvm_validate() or the last put */
	assert_ret(gpuvm_bo_evict(f.bo[1], false), 0);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

/*
 * A vm_bo released on the signalling path stays on the extobj list of a
 * RESV_PROTECTED VM until the cleanup: gpuvm_exec_lock skips it.
 */
static void exec_skips_zombies(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_bo *zombie;

	(void)state;
	fx_setup(&f, GPUVM_RESV_PROTECTED | GPUVM_IMMEDIATE_MODE, false);
	fx_extobj(&f, 0);
	fx_extobj(&f, 1);
	fx_extobj(&f, 2);
	zombie = f.bo[1];
	f.bo[1] = NULL;
	assert_ret(gpuvm_bo_put_deferred(zombie), 1);
	assert_true(gpuvm_bo_is_zombie(zombie));
	assert_true(gpuvm_list_linked(&zombie->list.entry.extobj));

	exec_new(&f, &exec, 0, NULL, NULL);
	assert_ret(gpuvm_exec_lock(&exec), 0);
	{
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[0].base, &f.g[2].base };

		assert_set(&exec, want, 3);
	}
	assert_false(gpuvm_resv_held(&f.r[1]));
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_bo_deferred_cleanup(&f.vm), 1);

	/* gone from the list now; the next lock does not see it either */
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_int_equal(exec.num_objects, 3);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_refs_baseline(&f);
	fx_teardown(&f);
}

/* ---- duplicates, shared and missing reservations ---- */

static void exec_dedupe(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;

	(void)state;
	fx_setup(&f, 0, false);
	fx_extobj(&f, 0);
	fx_extobj(&f, 1);
	/* g5 shares g4's reservation, g6 has none, g7 shares the VM's */
	f.g[5].base.resv = &f.r[4];
	f.g[6].base.resv = NULL;
	f.g[7].base.resv = &f.vm_resv;

	exec_new(&f, &exec, 0, NULL, NULL);
	{
		struct gpuvm_gem *objs[] = { &f.g[4].base, &f.g[1].base, &f.g[5].base,
					     &f.g[6].base, &f.g[4].base, &f.g[7].base,
					     &f.g[2].base, &f.g[2].base, &f.root.base };
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[0].base, &f.g[1].base,
					     &f.g[4].base, &f.g[2].base };

		assert_ret(gpuvm_exec_lock_array(&exec, objs, 9), 0);
		assert_set(&exec, want, 5);
	}
	/* the first object met of a shared reservation is the one listed */
	assert_false(exec_has(&exec, &f.g[5].base));
	assert_false(exec_has(&exec, &f.g[6].base));
	assert_false(exec_has(&exec, &f.g[7].base));
	assert_int_equal(refs(&f.g[5]), 1);
	assert_int_equal(refs(&f.g[4]), 2);
	gpuvm_exec_unlock(&exec);
	assert_nothing_held(&f);
	assert_false(gpuvm_resv_held(&f.r[4]));

	/* an empty array is gpuvm_exec_lock() */
	assert_ret(gpuvm_exec_lock_array(&exec, NULL, 0), 0);
	assert_int_equal(exec.num_objects, 3);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);

	f.g[5].base.resv = &f.r[5];
	f.g[6].base.resv = &f.r[6];
	f.g[7].base.resv = &f.r[7];
	assert_refs_baseline(&f);
	fx_teardown(&f);
}

/* A VM without a reservation (no r_obj, or an r_obj without one). */
static void exec_vm_without_resv(void **state)
{
	struct fx f;
	struct gpuvm vm2;
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[3];

	(void)state;
	fx_setup(&f, 0, false);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "noresv", .range = VM_RANGE,
		   .alloc = test_alloc_hooks(&f.ta));
	assert_ret(gpuvm_init(&vm2, &opts), 0);
	GPUVM_OPTS(gpuvm_exec_opts, eo, .vm = &vm2);
	assert_ret(gpuvm_exec_init(&exec, &eo), 0);

	/* nothing to lock at all is a success with an empty set */
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_int_equal(exec.num_objects, 0);
	assert_ret(gpuvm_exec_fini(&exec), -EBUSY);
	gpuvm_exec_unlock(&exec);

	objs[0] = &f.g[2].base;
	objs[1] = &f.g[0].base;
	objs[2] = &f.g[1].base;
	f.g[1].base.resv = NULL;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), 0);
	assert_int_equal(exec.num_objects, 2);
	/* the first object is the one taken blocking */
	assert_ptr_equal(exec.objects[0], &f.g[2].base);
	assert_ptr_equal(exec.objects[1], &f.g[0].base);
	assert_true(gpuvm_resv_held(&f.r[2]));
	assert_true(gpuvm_resv_held(&f.r[0]));
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	f.g[1].base.resv = &f.r[1];

	/* an r_obj without a reservation */
	f.root.base.resv = NULL;
	exec_new(&f, &exec, 0, NULL, NULL);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 1), 0);
	assert_int_equal(exec.num_objects, 1);
	assert_ptr_equal(exec.objects[0], &f.g[2].base);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	f.root.base.resv = &f.vm_resv;

	assert_ret(gpuvm_fini(&vm2), 0);
	assert_nothing_held(&f);
	fx_teardown(&f);
}

/* ---- unlock order ---- */

static void exec_unlock_reverse_order(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[3];
	const int want[] = { 1, 0, 2, 100 };

	(void)state;
	fx_setup(&f, 0, true);
	objs[0] = &f.g[2].base;
	objs[1] = &f.g[0].base;
	objs[2] = &f.g[1].base;
	exec_new(&f, &exec, 0, NULL, NULL);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), 0);
	assert_ptr_equal(exec.objects[0], &f.root.base);
	assert_ptr_equal(exec.objects[1], &f.g[2].base);
	assert_ptr_equal(exec.objects[2], &f.g[0].base);
	assert_ptr_equal(exec.objects[3], &f.g[1].base);
	unlock_n = 0;
	gpuvm_exec_unlock(&exec);
	assert_int_equal(unlock_n, 4);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(unlock_log[i], want[i]);
	/* one blocking lock (the VM's), the others only tried */
	assert_int_equal(__atomic_load_n(&f.vm_tl.waiters, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(__atomic_load_n(&f.tl[0].waiters, __ATOMIC_SEQ_CST), 0);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

/* ---- the range and map-request variants ---- */

static void exec_lock_range(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuva va[8];

	(void)state;
	fx_setup(&f, 0, false);
	fx_extobj(&f, 5); /* an external object mapped nowhere: not locked */
	f.g[4].base.resv = &f.vm_resv; /* a local object */
	fx_map(&f, &va[0], 0x10000, 0x4000, &f.g[0].base, true);
	fx_map(&f, &va[1], 0x14000, 0x4000, &f.g[1].base, false);
	fx_map(&f, &va[2], 0x18000, 0x2000, NULL, false); /* sparse */
	fx_map(&f, &va[3], 0x1a000, 0x2000, &f.g[0].base, true);
	fx_map(&f, &va[4], 0x20000, 0x4000, &f.g[2].base, true);
	fx_map(&f, &va[5], 0x30000, 0x1000, &f.g[3].base, false);
	fx_map(&f, &va[6], 0x31000, 0x1000, &f.g[4].base, true);
	exec_new(&f, &exec, 0, NULL, NULL);

	/* cuts va[0] and va[4]; everything in between */
	assert_ret(gpuvm_exec_lock_range(&exec, 0x13000, 0x20001 - 0x13000), 0);
	{
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[0].base, &f.g[1].base,
					     &f.g[2].base };

		assert_set(&exec, want, 4);
	}
	assert_false(gpuvm_resv_held(&f.r[5]));
	gpuvm_exec_unlock(&exec);

	/* exactly one mapping; its neighbours only touch the range */
	assert_ret(gpuvm_exec_lock_range(&exec, 0x14000, 0x4000), 0);
	{
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[1].base };

		assert_set(&exec, want, 2);
	}
	gpuvm_exec_unlock(&exec);

	/* up to, not into, va[4]: the range's end is exclusive */
	assert_ret(gpuvm_exec_lock_range(&exec, 0x18000, 0x8000), 0);
	{
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[0].base };

		assert_set(&exec, want, 2);
	}
	gpuvm_exec_unlock(&exec);

	/* a local object is covered by the VM's reservation */
	assert_ret(gpuvm_exec_lock_range(&exec, 0x30000, 0x2000), 0);
	{
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[3].base };

		assert_set(&exec, want, 2);
	}
	gpuvm_exec_unlock(&exec);

	/* nothing mapped: the VM's reservation only */
	assert_ret(gpuvm_exec_lock_range(&exec, 0x40000, 0x1000), 0);
	assert_int_equal(exec.num_objects, 1);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_nothing_held(&f);

	for (int i = 0; i < 7; i++)
		fx_unmap(&va[i]);
	f.g[4].base.resv = &f.r[4];
	assert_refs_baseline(&f);
	fx_teardown(&f);
}

/* The objects the ops of @req touch, as gpuvm_sm_map_ops_create() lists them. */
static unsigned int ops_objects(struct gpuvm *vm, const struct gpuvm_map_req *req,
				struct gpuvm_gem **out, unsigned int max)
{
	struct gpuva_ops *ops = NULL;
	struct gpuva_op *op;
	unsigned int n = 0;

	assert_ret(gpuvm_sm_map_ops_create(vm, req, &ops), 0);
	gpuva_for_each_op(op, ops) {
		struct gpuvm_gem *obj = NULL;
		bool dup = false;

		if (op->op == GPUVA_OP_MAP)
			obj = op->map.gem.obj;
		else if (op->op == GPUVA_OP_REMAP)
			obj = gpuva_gem(op->remap.unmap->va);
		else if (op->op == GPUVA_OP_UNMAP)
			obj = gpuva_gem(op->unmap.va);
		if (!obj)
			continue;
		for (unsigned int i = 0; i < n; i++)
			dup |= out[i]->resv == obj->resv;
		if (!dup) {
			assert_true(n < max);
			out[n++] = obj;
		}
	}
	gpuva_ops_free(vm, ops);
	return n;
}

static void exec_sm_map_lock(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuva va[4];
	struct gpuvm_gem *want[8];
	unsigned int n;

	(void)state;
	fx_setup(&f, 0, false);
	fx_map(&f, &va[0], 0x10000, 0x4000, &f.g[0].base, true);
	fx_map(&f, &va[1], 0x14000, 0x4000, &f.g[1].base, false);
	fx_map(&f, &va[2], 0x18000, 0x2000, NULL, false);
	fx_map(&f, &va[3], 0x20000, 0x4000, &f.g[2].base, true);
	exec_new(&f, &exec, 0, NULL, NULL);

	/* map g4 over: va[0] split, va[1] unmapped, va[2] (sparse) split */
	{
		GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = 0x12000, .map.va.range = 0x7000,
			   .map.gem.obj = &f.g[4].base, .map.gem.offset = 0);

		want[0] = &f.root.base;
		n = 1 + ops_objects(&f.vm, &req, want + 1, 7);
		assert_int_equal(n, 4);
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), 0);
		assert_set(&exec, want, n);
		assert_true(exec_has(&exec, &f.g[4].base));
		assert_false(exec_has(&exec, &f.g[2].base));
		gpuvm_exec_unlock(&exec);

		/* a sparse request: only the overlapped mappings' objects */
		req.map.gem.obj = NULL;
		n = 1 + ops_objects(&f.vm, &req, want + 1, 7);
		assert_int_equal(n, 3);
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), 0);
		assert_set(&exec, want, n);
		gpuvm_exec_unlock(&exec);

		/* over nothing: the VM's and the request's object */
		req.map.gem.obj = &f.g[5].base;
		req.map.va.addr = 0x40000;
		want[1] = &f.g[5].base;
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), 0);
		assert_set(&exec, want, 2);
		gpuvm_exec_unlock(&exec);

		/* the request's object mapped where it overlaps: once */
		req.map.gem.obj = &f.g[2].base;
		req.map.va.addr = 0x1f000;
		req.map.va.range = 0x2000;
		want[1] = &f.g[2].base;
		assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), 0);
		assert_set(&exec, want, 2);
		gpuvm_exec_unlock(&exec);
	}
	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_nothing_held(&f);
	for (int i = 0; i < 4; i++)
		fx_unmap(&va[i]);
	assert_refs_baseline(&f);
	fx_teardown(&f);
}

/* ---- the extra callback ---- */

struct cb_state {
	struct fx *f;
	unsigned int calls;
	int ret;                 /* what the callback returns after its work */
	bool swallow;            /* return 0 even when a helper said -EDEADLK */
	bool misuse;             /* try what is refused inside the callback */
	int r_lock, r_unlock_held, r_obj_null, r_range_bad, r_req_bad, r_objects,
	    r_range, r_sm_map, r_obj;
};

static int cb_extra(struct gpuvm_exec *exec, void *priv)
{
	struct cb_state *s = priv;
	struct fx *f = s->f;
	int ret;

	s->calls++;
	if (s->misuse) {
		s->r_lock = gpuvm_exec_lock(exec);
		gpuvm_exec_unlock(exec); /* does nothing here */
		s->r_unlock_held = gpuvm_resv_held(&f->vm_resv);
		s->r_obj_null = gpuvm_exec_lock_obj(exec, NULL);
		s->r_range_bad = gpuvm_prepare_range(exec, 0, 0);
		s->r_req_bad = gpuvm_prepare_sm_map(exec, NULL);
	}
	s->r_objects = gpuvm_prepare_objects(exec);
	s->r_range = gpuvm_prepare_range(exec, 0x20000, 0x1000);
	{
		GPUVM_OPTS(gpuvm_map_req, req, .map.va.addr = 0x30000, .map.va.range = 0x1000,
			   .map.gem.obj = &f->g[7].base);

		s->r_sm_map = gpuvm_prepare_sm_map(exec, &req);
	}
	ret = s->r_obj = gpuvm_exec_lock_obj(exec, &f->g[8].base);
	if (ret && !s->swallow)
		return ret;
	return s->ret;
}

static void exec_extra_callback(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuva va[2];
	struct cb_state s;

	(void)state;
	fx_setup(&f, 0, false);
	fx_extobj(&f, 0);
	fx_map(&f, &va[0], 0x10000, 0x1000, &f.g[1].base, true);
	fx_map(&f, &va[1], 0x20000, 0x1000, &f.g[2].base, true);
	memset(&s, 0, sizeof(s));
	s.f = &f;
	s.misuse = true;
	exec_new(&f, &exec, 0, cb_extra, &s);

	/* a range lock, plus the extobjs, another range, a map and an object */
	assert_ret(gpuvm_exec_lock_range(&exec, 0x10000, 0x1000), 0);
	assert_int_equal(s.calls, 1);
	assert_ret(s.r_lock, -EBUSY);
	assert_true(s.r_unlock_held);
	assert_ret(s.r_obj_null, -EINVAL);
	assert_ret(s.r_range_bad, -EINVAL);
	assert_ret(s.r_req_bad, -EINVAL);
	assert_ret(s.r_objects, 0);
	assert_ret(s.r_range, 0);
	assert_ret(s.r_sm_map, 0);
	assert_ret(s.r_obj, 0);
	{
		struct gpuvm_gem *want[] = { &f.root.base, &f.g[1].base, &f.g[0].base,
					     &f.g[2].base, &f.g[7].base, &f.g[8].base };

		assert_set(&exec, want, 6);
	}
	/* the range's own objects come before the callback's */
	assert_ptr_equal(exec.objects[0], &f.root.base);
	assert_ptr_equal(exec.objects[1], &f.g[1].base);
	gpuvm_exec_unlock(&exec);
	assert_nothing_held(&f);

	/* the callback's error: nothing locked, no reference kept */
	s.misuse = false;
	s.ret = -ENOSPC;
	assert_ret(gpuvm_exec_lock(&exec), -ENOSPC);
	assert_int_equal(exec.num_objects, 0);
	assert_nothing_held(&f);
	/* the fixture holds refs on g0's vm_bo only: the baseline */
	assert_refs_baseline(&f);

	/* a -EDEADLK the callback makes up without contention is its own error */
	s.ret = -EDEADLK;
	assert_ret(gpuvm_exec_lock(&exec), -EDEADLK);
	assert_nothing_held(&f);
	assert_int_equal(exec.backoffs, 0);
	s.ret = 0;

	/* an exec can be locked again after a failed call */
	assert_ret(gpuvm_exec_lock(&exec), 0);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	for (int i = 0; i < 2; i++)
		fx_unmap(&va[i]);
	assert_refs_baseline(&f);
	fx_teardown(&f);
}

/* ---- -ENOMEM, -EALREADY and the lock callbacks' errors ---- */

static void exec_enomem(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[NOBJ];

	(void)state;
	fx_setup(&f, 0, false);
	for (int i = 0; i < NOBJ; i++)
		objs[i] = &f.g[i].base;

	/* the first allocation fails: nothing locked */
	exec_new(&f, &exec, 0, NULL, NULL);
	test_alloc_fail_at(&f.ta, 1);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 2), -ENOMEM);
	assert_int_equal(f.ta.injected, 1);
	assert_int_equal(exec.num_objects, 0);
	assert_nothing_held(&f);
	assert_refs_baseline(&f);
	assert_int_equal(f.ta.live, 0);

	/* growing beyond the first block fails: everything is let go */
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 2), 0);
	gpuvm_exec_unlock(&exec);
	assert_int_equal(f.ta.live, 1);
	test_alloc_fail_at(&f.ta, 1);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, NOBJ), -ENOMEM);
	assert_int_equal(f.ta.injected, 1);
	assert_nothing_held(&f);
	assert_refs_baseline(&f);
	assert_int_equal(f.ta.live, 1);
	/* and succeeds without the failure */
	assert_ret(gpuvm_exec_lock_array(&exec, objs, NOBJ), 0);
	assert_int_equal(exec.num_objects, NOBJ + 1);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_int_equal(f.ta.live, 0);
	fx_teardown(&f);
}

/* The set grows in the middle of the extobj list (the list lock is dropped). */
static void extobj_grow(bool prot)
{
	struct fx f;
	struct gpuvm_exec exec;
	size_t live;

	fx_setup(&f, prot ? GPUVM_RESV_PROTECTED : 0, false);
	for (int i = 0; i < NOBJ; i++)
		fx_extobj(&f, i);

	live = f.ta.live; /* the vm_bos */
	exec_new(&f, &exec, 0, NULL, NULL);
	test_alloc_fail_at(&f.ta, 2);
	assert_ret(gpuvm_exec_lock(&exec), -ENOMEM);
	assert_int_equal(f.ta.injected, 1);
	assert_nothing_held(&f);
	assert_refs_baseline(&f);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_int_equal(f.ta.live, live);

	exec_new(&f, &exec, 0, NULL, NULL);
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_int_equal(exec.num_objects, NOBJ + 1);
	for (int i = 0; i < NOBJ; i++)
		assert_true(exec_has(&exec, &f.g[i].base));
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

static void exec_enomem_extobj_grow(void **state)
{
	(void)state;
	extobj_grow(false);
}

static void exec_enomem_extobj_grow_resv_protected(void **state)
{
	(void)state;
	extobj_grow(true);
}

static void exec_held_outside(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[2];

	(void)state;
	fx_setup(&f, 0, false);
	fx_extobj(&f, 1);
	objs[0] = &f.g[2].base;
	objs[1] = &f.g[0].base;
	exec_new(&f, &exec, 0, NULL, NULL);

	/* an object the calling thread holds already */
	lock_resv(&f.r[0]);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 2), -EALREADY);
	assert_false(gpuvm_resv_held(&f.vm_resv));
	assert_false(gpuvm_resv_held(&f.r[1]));
	assert_false(gpuvm_resv_held(&f.r[2]));
	/* not released by the exec: it was never the exec's */
	assert_true(gpuvm_resv_held(&f.r[0]));
	unlock_resv(&f.r[0]);

	/* the VM's reservation, the first one taken */
	lock_resv(&f.vm_resv);
	assert_ret(gpuvm_exec_lock(&exec), -EALREADY);
	assert_true(gpuvm_resv_held(&f.vm_resv));
	assert_false(gpuvm_resv_held(&f.r[1]));
	unlock_resv(&f.vm_resv);

	/* an external object */
	lock_resv(&f.r[1]);
	assert_ret(gpuvm_exec_lock(&exec), -EALREADY);
	assert_false(gpuvm_resv_held(&f.vm_resv));
	unlock_resv(&f.r[1]);

	assert_nothing_held(&f);
	assert_refs_baseline(&f);
	assert_int_equal(exec.backoffs, 0);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

static void exec_lock_callback_errors(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[3];

	(void)state;
	fx_setup(&f, 0, true);
	objs[0] = &f.g[0].base;
	objs[1] = &f.g[1].base;
	objs[2] = &f.g[2].base;
	exec_new(&f, &exec, 0, NULL, NULL);

	/* the blocking lock (the VM's) fails */
	f.vm_tl.fail_lock = -EINTR;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), -EINTR);
	assert_nothing_held(&f);
	f.vm_tl.fail_lock = 0;

	/* a trylock fails with something else than "busy" */
	f.tl[1].fail_trylock = -EIO;
	unlock_n = 0;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), -EIO);
	assert_nothing_held(&f);
	/* what was taken before was released, last first */
	assert_int_equal(unlock_n, 2);
	assert_int_equal(unlock_log[0], 0);
	assert_int_equal(unlock_log[1], 100);
	f.tl[1].fail_trylock = 0;

	/* a callback's -EDEADLK does not escape as contention */
	f.tl[2].fail_trylock = -EDEADLK;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), -EALREADY);
	assert_nothing_held(&f);
	f.tl[2].fail_trylock = 0;

	/* a positive return is a callback bug, reported as -EIO */
	f.tl[0].fail_trylock = 5;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), -EIO);
	assert_nothing_held(&f);
	f.tl[0].fail_trylock = 0;

	assert_refs_baseline(&f);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), 0);
	gpuvm_exec_unlock(&exec);
	assert_int_equal(exec.backoffs, 0);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

/* ---- contention ---- */

/* Holds a reservation from another thread. */
struct holder {
	struct gpuvm_resv *resv;
	struct tlock *tl;       /* when set: release once someone blocks on it */
	unsigned int ready;     /* atomic: it holds the reservation */
	unsigned int release;   /* atomic: told to release */
	int ret;
	pthread_t th;
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;

	h->ret = gpuvm_resv_lock(h->resv);
	__atomic_store_n(&h->ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		/* its own lock call counts as one waiter */
		if (h->tl && __atomic_load_n(&h->tl->waiters, __ATOMIC_SEQ_CST) >= 2)
			break;
		if (__atomic_load_n(&h->release, __ATOMIC_SEQ_CST))
			break;
		sleep_us(200);
	}
	/* give the waiter time to really sleep in the lock */
	sleep_us(2000);
	if (!h->ret)
		h->ret = gpuvm_resv_unlock(h->resv);
	return NULL;
}

static void holder_start(struct holder *h, struct gpuvm_resv *resv, struct tlock *tl)
{
	memset(h, 0, sizeof(*h));
	h->resv = resv;
	h->tl = tl;
	assert_int_equal(pthread_create(&h->th, NULL, holder_main, h), 0);
	while (!__atomic_load_n(&h->ready, __ATOMIC_SEQ_CST))
		sleep_us(100);
	assert_ret(h->ret, 0);
}

static void holder_join(struct holder *h)
{
	__atomic_store_n(&h->release, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(h->th, NULL), 0);
	assert_ret(h->ret, 0);
}

/*
 * A VM without a reservation: the first external object is the attempt's
 * first entry, met under the extobj list's mutex. It must be tried, not
 * waited for there: its holder here takes that mutex (extobj_add) before it
 * releases the object, which would never happen if the walk slept on the
 * object with the mutex held (the test would hang until ctest's timeout).
 */
struct list_holder {
	struct gpuvm_resv *resv;
	struct tlock *tl;
	struct gpuvm_bo *vm_bo;
	unsigned int ready; /* atomic */
	int ret, add_ret;
};

static void *list_holder_main(void *arg)
{
	struct list_holder *h = arg;

	h->ret = gpuvm_resv_lock(h->resv);
	__atomic_store_n(&h->ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&h->tl->waiters, __ATOMIC_SEQ_CST) < 2)
		sleep_us(200);
	/*
	 * Hold the object until the walk has found it busy (not for a fixed
	 * time: a loaded machine may not run the locker at all meanwhile),
	 * with a bound so a walk that never tries it fails instead of hanging.
	 */
	for (int i = 0; i < 5000 && !__atomic_load_n(&h->tl->busy, __ATOMIC_SEQ_CST); i++)
		sleep_us(1000);
	h->add_ret = gpuvm_bo_extobj_add(h->vm_bo); /* takes the list mutex */
	if (!h->ret)
		h->ret = gpuvm_resv_unlock(h->resv);
	return NULL;
}

static void exec_first_extobj_not_waited_under_mutex(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct list_holder h;
	pthread_t th;

	(void)state;
	fx_setup(&f, 0, true);
	/* no reservation for the VM: every object is external */
	f.root.base.resv = NULL;
	fx_extobj(&f, 0);
	fx_extobj(&f, 1);
	exec_new(&f, &exec, 0, NULL, NULL);

	memset(&h, 0, sizeof(h));
	h.resv = &f.r[0];
	h.tl = &f.tl[0];
	h.vm_bo = f.bo[0];
	assert_int_equal(pthread_create(&th, NULL, list_holder_main, &h), 0);
	while (!__atomic_load_n(&h.ready, __ATOMIC_SEQ_CST))
		sleep_us(100);
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_ret(h.ret, 0);
	assert_ret(h.add_ret, 0);
	assert_true(exec.backoffs >= 1);
	{
		struct gpuvm_gem *want[] = { &f.g[0].base, &f.g[1].base };

		assert_set(&exec, want, 2);
	}
	/* waited for outside the walk, as the next attempt's first entry */
	assert_ptr_equal(exec.objects[0], &f.g[0].base);
	gpuvm_exec_unlock(&exec);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	f.root.base.resv = &f.vm_resv;
	fx_teardown(&f);
}

static void exec_trylock_flag(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[3];
	struct holder h;

	(void)state;
	fx_setup(&f, 0, true);
	objs[0] = &f.g[0].base;
	objs[1] = &f.g[1].base;
	objs[2] = &f.g[2].base;
	exec_new(&f, &exec, GPUVM_EXEC_TRYLOCK, NULL, NULL);

	holder_start(&h, &f.r[1], NULL);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), -EAGAIN);
	assert_nothing_held(&f);
	assert_refs_baseline(&f);
	/* it never waited, not even for the first one */
	assert_int_equal(__atomic_load_n(&f.vm_tl.waiters, __ATOMIC_SEQ_CST), 0);
	holder_join(&h);

	/* the VM's reservation busy */
	holder_start(&h, &f.vm_resv, NULL);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), -EAGAIN);
	assert_nothing_held(&f);
	holder_join(&h);

	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), 0);
	assert_int_equal(exec.num_objects, 4);
	gpuvm_exec_unlock(&exec);
	assert_int_equal(exec.backoffs, 0);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

/* Contended on @obj, from the array or from the callback (swallowing or not). */
static int cb_lock_g1(struct gpuvm_exec *exec, void *priv)
{
	struct cb_state *s = priv;
	int ret = gpuvm_exec_lock_obj(exec, &s->f->g[1].base);

	s->calls++;
	return s->swallow ? 0 : ret;
}

static void backoff(int how)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[3];
	struct cb_state s;
	struct holder h;

	fx_setup(&f, 0, true);
	memset(&s, 0, sizeof(s));
	s.f = &f;
	s.swallow = how == 2;
	objs[0] = &f.g[0].base;
	objs[1] = &f.g[1].base;
	objs[2] = &f.g[2].base;
	if (how == 0) {
		exec_new(&f, &exec, 0, NULL, NULL);
	} else {
		objs[1] = &f.g[3].base;
		exec_new(&f, &exec, 0, cb_lock_g1, &s);
	}

	/* g1 is held elsewhere and released once this thread waits for it */
	holder_start(&h, &f.r[1], &f.tl[1]);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 3), 0);
	holder_join(&h);
	assert_int_equal(exec.num_objects, how ? 5 : 4);
	assert_true(exec_has(&exec, &f.g[1].base));
	/* the busy object was waited for first, holding nothing */
	assert_ptr_equal(exec.objects[0], &f.g[1].base);
	assert_ptr_equal(exec.objects[1], &f.root.base);
	assert_true(exec.backoffs >= 1);
	if (how)
		assert_true(s.calls >= 2);
	for (unsigned int i = 0; i < exec.num_objects; i++)
		assert_true(gpuvm_resv_held(exec.objects[i]->resv));
	gpuvm_exec_unlock(&exec);
	assert_nothing_held(&f);
	assert_refs_baseline(&f);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

static void exec_backoff_array(void **state)
{
	(void)state;
	backoff(0);
}

static void exec_backoff_callback(void **state)
{
	(void)state;
	backoff(1);
}

static void exec_backoff_callback_swallows(void **state)
{
	(void)state;
	backoff(2);
}

/* ---- unlock by a thread that did not lock ---- */

static void *unlock_main(void *arg)
{
	gpuvm_exec_unlock(arg);
	return NULL;
}

#ifdef GPUVM_DEBUG
/* In a child: unlock @arg, a locked exec, from another thread than the locker. */
static void unlock_from_thread(void *arg)
{
	pthread_t th;

	if (pthread_create(&th, NULL, unlock_main, arg) == 0)
		pthread_join(th, NULL);
}
#endif

static void exec_unlock_other_thread(void **state)
{
	struct fx f;
	struct gpuvm_exec exec;

	(void)state;
	fx_setup(&f, 0, false);
	fx_extobj(&f, 0);
	exec_new(&f, &exec, 0, NULL, NULL);
	assert_ret(gpuvm_exec_lock(&exec), 0);
#ifdef GPUVM_DEBUG
	{
		/* debug builds abort: the child's other thread is the culprit */
		char err[512];
		int status = test_run_child(unlock_from_thread, &exec, err, sizeof(err));

		assert_true(status != -1);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGABRT);
		assert_non_null(strstr(err, "gpuvm_exec_unlock() called by a thread that did not"));
	}
#else
	/* release builds leave the set to the thread that locked */
	{
		pthread_t th;

		assert_int_equal(pthread_create(&th, NULL, unlock_main, &exec), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
	}
#endif
	assert_int_equal(exec.num_objects, 2);
	assert_true(gpuvm_resv_held(&f.vm_resv));
	assert_true(gpuvm_resv_held(&f.r[0]));
	gpuvm_exec_unlock(&exec);
	assert_nothing_held(&f);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

/* ---- the fence-signalling section ---- */

struct sig_child {
	void (*fn)(struct fx *f, struct gpuvm_exec *exec);
	struct fx *f;
	struct gpuvm_exec *exec;
};

static void sig_child_run(void *arg)
{
	struct sig_child *c = arg;

	c->fn(c->f, c->exec);
}

/*
 * Run @fn in a forked child; it makes @call inside a signalling section.
 * Debug builds must abort there with a message naming @call; other builds
 * do not check, so the call completes and the child exits 0.
 */
static void expect_signalling(void (*fn)(struct fx *f, struct gpuvm_exec *exec),
			      const char *call)
{
	struct fx f;
	struct gpuvm_exec exec;
	struct sig_child c = { fn, &f, &exec };
	char buf[512], want[128];
	int status;

	fx_setup(&f, 0, false);
	exec_new(&f, &exec, 0, NULL, NULL);
	status = test_run_child(sig_child_run, &c, buf, sizeof(buf));
	assert_true(status != -1);
#ifdef GPUVM_DEBUG
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("%s in a section: the child did not abort (status 0x%x): %s", call,
			 status, buf);
	snprintf(want, sizeof(want), "%s() called in a fence-signalling section", call);
	if (!strstr(buf, want))
		fail_msg("stderr of the child lacks \"%s\":\n%s", want, buf);
#else
	(void)want;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s in a section, release build: the child failed (status 0x%x): %s",
			 call, status, buf);
#endif
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_teardown(&f);
}

static void sig_lock(struct fx *f, struct gpuvm_exec *exec)
{
	(void)f;
	gpuvm_signalling_begin();
	if (gpuvm_exec_lock(exec))
		_exit(3);
}

static void sig_lock_array(struct fx *f, struct gpuvm_exec *exec)
{
	(void)f;
	gpuvm_signalling_begin();
	if (gpuvm_exec_lock_array(exec, NULL, 0))
		_exit(3);
}

static void sig_lock_range(struct fx *f, struct gpuvm_exec *exec)
{
	(void)f;
	gpuvm_signalling_begin();
	if (gpuvm_exec_lock_range(exec, 0, PG))
		_exit(3);
}

static void sig_sm_map(struct fx *f, struct gpuvm_exec *exec)
{
	GPUVM_OPTS(gpuvm_map_req, req, .map.va.range = PG);

	(void)f;
	gpuvm_signalling_begin();
	if (gpuvm_sm_map_exec_lock(exec, &req))
		_exit(3);
}

static void sig_unlock(struct fx *f, struct gpuvm_exec *exec)
{
	(void)f;
	if (gpuvm_exec_lock(exec))
		_exit(3);
	gpuvm_signalling_begin();
	gpuvm_exec_unlock(exec);
}

static void sig_fini(struct fx *f, struct gpuvm_exec *exec)
{
	(void)f;
	if (gpuvm_exec_lock(exec))
		_exit(3);
	gpuvm_exec_unlock(exec);
	gpuvm_signalling_begin();
	if (gpuvm_exec_fini(exec))
		_exit(3);
}

static void exec_signalling(void **state)
{
	(void)state;
	expect_signalling(sig_lock, "gpuvm_exec_lock");
	expect_signalling(sig_lock_array, "gpuvm_exec_lock_array");
	expect_signalling(sig_lock_range, "gpuvm_exec_lock_range");
	expect_signalling(sig_sm_map, "gpuvm_sm_map_exec_lock");
	expect_signalling(sig_unlock, "gpuvm_exec_unlock");
	expect_signalling(sig_fini, "gpuvm_exec_fini");
	{
		/* outside the section, and an empty unlock inside it, pass */
		struct fx f;
		struct gpuvm_exec exec;
		bool cookie;

		fx_setup(&f, 0, false);
		exec_new(&f, &exec, 0, NULL, NULL);
		assert_ret(gpuvm_exec_lock(&exec), 0);
		gpuvm_exec_unlock(&exec);
		cookie = gpuvm_signalling_begin();
		gpuvm_exec_unlock(&exec);
		gpuvm_signalling_end(cookie);
		assert_ret(gpuvm_exec_fini(&exec), 0);
		fx_teardown(&f);
	}
}

/* ---- threads locking overlapping sets in different orders ---- */

#define DL_THREADS 4
#define DL_SHARED 6
#define DL_OBJS (DL_SHARED + DL_THREADS) /* shared objects, then the VMs' roots */
#define DL_MAX_ITERS 200000ul
#define DL_NSEC (1500ull * 1000 * 1000)

struct dl {
	struct test_gem gems[DL_OBJS];
	struct gpuvm_resv resv[DL_OBJS];
	unsigned int holder[DL_OBJS]; /* atomic: threads holding the object */
	uint64_t deadline;
	unsigned int seed;
};

struct dl_thread {
	struct dl *dl;
	unsigned int id;
	pthread_t th;
	struct test_alloc ta;
	struct gpuvm vm;
	struct gpuvm_bo *bo[DL_SHARED];
	unsigned long iters, failures, backoffs, eagain, full;
	char first_failure[160];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void dl_fail(struct dl_thread *t, const char *what, long v)
{
	if (!t->failures++)
		snprintf(t->first_failure, sizeof(t->first_failure),
			 "thread %u, iteration %lu: %s (%ld)", t->id, t->iters, what, v);
}

static unsigned int dl_index(const struct dl *dl, const struct gpuvm_gem *obj)
{
	return (unsigned int)(to_test_gem(obj) - dl->gems);
}

/*
 * One iteration: a random subset of the shared objects in this thread's
 * order (even threads ascending, odd ones descending, some shuffled), with
 * the next thread's VM root at the end so that the VMs' reservations form a
 * ring, locked with lock_array, or all external objects with exec_lock, or
 * tried with a GPUVM_EXEC_TRYLOCK exec.
 */
static void dl_iteration(struct dl_thread *t, struct gpuvm_exec *exec, struct gpuvm_exec *texec,
			 unsigned int *rng)
{
	struct dl *dl = t->dl;
	struct gpuvm_gem *objs[DL_OBJS], *obj;
	struct gpuvm_exec *e = exec;
	unsigned int n = 0, i, mode = (unsigned int)rand_r(rng) % 8;
	int ret;

	for (i = 0; i < DL_SHARED; i++) {
		unsigned int k = t->id & 1 ? DL_SHARED - 1 - i : i;

		if (rand_r(rng) % 4)
			objs[n++] = &dl->gems[k].base;
	}
	if (rand_r(rng) % 3 == 0) {
		for (i = n; i > 1; i--) {
			unsigned int j = (unsigned int)rand_r(rng) % i;
			struct gpuvm_gem *tmp = objs[i - 1];

			objs[i - 1] = objs[j];
			objs[j] = tmp;
		}
	}
	objs[n++] = &dl->gems[DL_SHARED + (t->id + 1) % DL_THREADS].base;

	if (mode == 0) {
		ret = gpuvm_exec_lock(e);
		t->full++;
	} else if (mode == 1) {
		e = texec;
		ret = gpuvm_exec_lock_array(e, objs, n);
		if (ret == -EAGAIN) {
			t->eagain++;
			if (e->num_objects)
				dl_fail(t, "-EAGAIN with objects locked", e->num_objects);
			return;
		}
	} else {
		ret = gpuvm_exec_lock_array(e, objs, n);
	}
	if (ret) {
		dl_fail(t, "lock failed", ret);
		return;
	}
	/* what was asked for is held by this thread, and by nobody else */
	if (mode) {
		for (i = 0; i < n; i++)
			if (!gpuvm_resv_held(objs[i]->resv))
				dl_fail(t, "asked-for object not held", (long)i);
	}
	if (!gpuvm_resv_held(&dl->resv[DL_SHARED + t->id]))
		dl_fail(t, "own VM reservation not held", 0);
	gpuvm_exec_for_each_locked_object(e, i, obj) {
		unsigned int k = dl_index(dl, obj);

		if (!gpuvm_resv_held(obj->resv))
			dl_fail(t, "locked object not held", k);
		if (__atomic_fetch_add(&dl->holder[k], 1, __ATOMIC_SEQ_CST) != 0)
			dl_fail(t, "two holders at once", k);
	}
	if (rand_r(rng) % 4 == 0)
		sched_yield();
	gpuvm_exec_for_each_locked_object(e, i, obj)
		__atomic_fetch_sub(&dl->holder[dl_index(dl, obj)], 1, __ATOMIC_SEQ_CST);
	gpuvm_exec_unlock(e);
	for (i = 0; i < DL_OBJS; i++)
		if (gpuvm_resv_held(&dl->resv[i]))
			dl_fail(t, "held after unlock", i);
}

static void *dl_main(void *arg)
{
	struct dl_thread *t = arg;
	struct gpuvm_exec exec, texec;
	GPUVM_OPTS(gpuvm_exec_opts, opts, .vm = &t->vm);
	unsigned int rng = t->dl->seed ^ (t->id * 0x9e3779b9u);
	int ret;

	if (gpuvm_exec_init(&exec, &opts)) {
		dl_fail(t, "init", 0);
		return NULL;
	}
	opts.flags = GPUVM_EXEC_TRYLOCK;
	if (gpuvm_exec_init(&texec, &opts)) {
		dl_fail(t, "init", 0);
		return NULL;
	}
	while (t->iters < DL_MAX_ITERS && now_ns() < t->dl->deadline) {
		dl_iteration(t, &exec, &texec, &rng);
		t->iters++;
	}
	t->backoffs = exec.backoffs + texec.backoffs;
	if ((ret = gpuvm_exec_fini(&exec)) || (ret = gpuvm_exec_fini(&texec)))
		dl_fail(t, "fini", ret);
	return NULL;
}

static void exec_deadlock_threads(void **state)
{
	static struct dl dl;
	static struct dl_thread th[DL_THREADS];
	const char *env = getenv("GPUVM_TEST_SEED");
	unsigned long iters = 0, backoffs = 0, eagain = 0, full = 0;
	char name[8];

	(void)state;
	memset(&dl, 0, sizeof(dl));
	memset(th, 0, sizeof(th));
	dl.seed = env ? (unsigned int)strtoul(env, NULL, 0) : (unsigned int)now_ns();
	printf("test_exec: deadlock test seed=%u (GPUVM_TEST_SEED=%u to repeat)\n", dl.seed,
	       dl.seed);
	fflush(stdout);
	for (int i = 0; i < DL_OBJS; i++) {
		snprintf(name, sizeof(name), "%c%d", i < DL_SHARED ? 's' : 'r', i);
		assert_ret(gpuvm_resv_init(&dl.resv[i], NULL), 0);
		assert_ret(test_gem_init(&dl.gems[i], name, GEM_SIZE), 0);
		dl.gems[i].base.resv = &dl.resv[i];
	}
	/* one VM per thread, the shared objects external to each */
	for (unsigned int t = 0; t < DL_THREADS; t++) {
		GPUVM_OPTS(gpuvm_init_opts, opts, .name = "dl", .range = VM_RANGE,
			   .alloc = test_alloc_hooks(&th[t].ta),
			   .r_obj = &dl.gems[DL_SHARED + t].base);

		th[t].dl = &dl;
		th[t].id = t;
		test_alloc_init(&th[t].ta);
		assert_ret(gpuvm_init(&th[t].vm, &opts), 0);
		for (int i = 0; i < DL_SHARED; i++) {
			lock_resv(&dl.resv[i]);
			assert_ret(gpuvm_bo_obtain(&th[t].vm, &dl.gems[i].base, &th[t].bo[i]), 0);
			assert_ret(gpuvm_bo_extobj_add(th[t].bo[i]), 0);
			unlock_resv(&dl.resv[i]);
		}
	}

	dl.deadline = now_ns() + DL_NSEC;
	for (unsigned int t = 0; t < DL_THREADS; t++)
		assert_int_equal(pthread_create(&th[t].th, NULL, dl_main, &th[t]), 0);
	for (unsigned int t = 0; t < DL_THREADS; t++)
		assert_int_equal(pthread_join(th[t].th, NULL), 0);

	for (unsigned int t = 0; t < DL_THREADS; t++) {
		if (th[t].failures)
			fail_msg("%lu failures, first: %s (seed %u)", th[t].failures,
				 th[t].first_failure, dl.seed);
		assert_true(th[t].iters > 0);
		iters += th[t].iters;
		backoffs += th[t].backoffs;
		eagain += th[t].eagain;
		full += th[t].full;
	}
	printf("test_exec: %lu iterations (%lu of all extobjs), %lu back-offs, %lu -EAGAIN\n",
	       iters, full, backoffs, eagain);

	/* nothing is left locked or referenced */
	for (int i = 0; i < DL_OBJS; i++) {
		assert_int_equal(__atomic_load_n(&dl.holder[i], __ATOMIC_SEQ_CST), 0);
		assert_ret(gpuvm_resv_trylock(&dl.resv[i]), 0);
		unlock_resv(&dl.resv[i]);
	}
	for (unsigned int t = 0; t < DL_THREADS; t++) {
		for (int i = 0; i < DL_SHARED; i++) {
			lock_resv(&dl.resv[i]);
			assert_true(gpuvm_bo_put(th[t].bo[i]));
			unlock_resv(&dl.resv[i]);
		}
		assert_ret(gpuvm_fini(&th[t].vm), 0);
		assert_int_equal(th[t].ta.live, 0);
		assert_int_equal(th[t].ta.errors, 0);
	}
	for (int i = 0; i < DL_OBJS; i++) {
		gpuvm_gem_put(&dl.gems[i].base);
		assert_int_equal(dl.gems[i].frees, 1);
		assert_ret(gpuvm_resv_fini(&dl.resv[i]), 0);
	}
}

/*
 * The extobj list changing under gpuvm_exec_lock(): a churner obtains vm_bos
 * of the objects, adds them to the list and drops them on the signalling
 * path's rule (zombies, skipped by the walk; with RESV_PROTECTED they stay
 * listed until the cleanup), and cleans up, while a locker locks and
 * unlocks. Run under TSan this checks the walk's locking against the lists'
 * other users.
 */
#define CH_OBJS 4

struct churn {
	struct gpuvm vm;
	struct test_gem root;
	struct gpuvm_resv vm_resv;
	struct test_gem g[CH_OBJS];
	struct gpuvm_resv r[CH_OBJS];
	unsigned int holder[CH_OBJS + 1]; /* atomic */
	uint64_t deadline;
	unsigned int seed;
	unsigned int done;                /* atomic: the locker finished */
	unsigned long locks, with_extobjs, churns, cleaned, failures;
	char first_failure[160];
};

static void ch_fail(struct churn *c, const char *what, long v)
{
	if (!__atomic_fetch_add(&c->failures, 1, __ATOMIC_SEQ_CST))
		snprintf(c->first_failure, sizeof(c->first_failure), "%s (%ld)", what, v);
}

static unsigned int ch_index(const struct churn *c, const struct gpuvm_gem *obj)
{
	if (obj == &c->root.base)
		return CH_OBJS;
	return (unsigned int)(to_test_gem(obj) - c->g);
}

static void *ch_locker(void *arg)
{
	struct churn *c = arg;
	GPUVM_OPTS(gpuvm_exec_opts, opts, .vm = &c->vm);
	struct gpuvm_exec exec;
	struct gpuvm_gem *obj;
	unsigned int i;
	int ret;

	if (gpuvm_exec_init(&exec, &opts)) {
		ch_fail(c, "init", 0);
		goto out;
	}
	/*
	 * Run until the deadline and until some locks saw external objects,
	 * which a starved locker on a loaded machine may need longer for
	 * (bounded: the assertions then fail instead of the test hanging).
	 */
	while (now_ns() < c->deadline ||
	       (__atomic_load_n(&c->with_extobjs, __ATOMIC_SEQ_CST) < 10 &&
		now_ns() < c->deadline + 10ull * 1000 * 1000 * 1000)) {
		ret = gpuvm_exec_lock(&exec);
		if (ret) {
			ch_fail(c, "lock", ret);
			break;
		}
		if (exec.num_objects < 1 || exec.objects[0] != &c->root.base)
			ch_fail(c, "the VM's reservation is not first", exec.num_objects);
		if (exec.num_objects > 1)
			c->with_extobjs++;
		gpuvm_exec_for_each_locked_object(&exec, i, obj) {
			unsigned int k = ch_index(c, obj);

			if (k > CH_OBJS || !gpuvm_resv_held(obj->resv))
				ch_fail(c, "bad or unheld object", k);
			else if (__atomic_fetch_add(&c->holder[k], 1, __ATOMIC_SEQ_CST))
				ch_fail(c, "two holders", k);
		}
		gpuvm_exec_for_each_locked_object(&exec, i, obj)
			if (ch_index(c, obj) <= CH_OBJS)
				__atomic_fetch_sub(&c->holder[ch_index(c, obj)], 1,
						   __ATOMIC_SEQ_CST);
		gpuvm_exec_unlock(&exec);
		c->locks++;
	}
	if ((ret = gpuvm_exec_fini(&exec)))
		ch_fail(c, "fini", ret);
out:
	__atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Keeps a vm_bo of about half the objects at any time: each step drops the
 * one of a random object (a zombie until the cleanup, skipped by the walk)
 * or obtains and lists a new one.
 */
static void *ch_churner(void *arg)
{
	struct churn *c = arg;
	const bool prot = gpuvm_resv_protected(&c->vm);
	struct gpuvm_bo *held[CH_OBJS] = { NULL };
	unsigned int rng = c->seed;
	int ret;

	while (!__atomic_load_n(&c->done, __ATOMIC_SEQ_CST)) {
		unsigned int k = (unsigned int)rand_r(&rng) % CH_OBJS;

		if (held[k]) {
			if ((ret = gpuvm_bo_put_deferred(held[k])) < 0)
				ch_fail(c, "put_deferred", ret);
			held[k] = NULL;
		} else {
			ret = gpuvm_bo_obtain(&c->vm, &c->g[k].base, &held[k]);
			if (ret) {
				ch_fail(c, "obtain", ret);
				break;
			}
			if (prot && (ret = gpuvm_resv_lock(&c->vm_resv))) {
				ch_fail(c, "VM resv lock", ret);
				break;
			}
			ret = gpuvm_bo_extobj_add(held[k]);
			if (prot)
				gpuvm_resv_unlock(&c->vm_resv);
			if (ret)
				ch_fail(c, "extobj_add", ret);
		}
		if (rand_r(&rng) % 8 == 0) {
			ret = gpuvm_bo_deferred_cleanup(&c->vm);
			if (ret < 0)
				ch_fail(c, "cleanup", ret);
			else
				c->cleaned += (unsigned long)ret;
		}
		c->churns++;
	}
	for (unsigned int k = 0; k < CH_OBJS; k++)
		if (held[k] && (ret = gpuvm_bo_put_deferred(held[k])) < 0)
			ch_fail(c, "put_deferred", ret);
	return NULL;
}

static void extobj_churn(bool prot)
{
	static struct churn c;
	pthread_t locker, churner;
	char name[8];
	int ret;

	memset(&c, 0, sizeof(c));
	c.seed = (unsigned int)now_ns();
	printf("test_exec: churn seed=%u\n", c.seed);
	assert_ret(gpuvm_resv_init(&c.vm_resv, NULL), 0);
	assert_ret(test_gem_init(&c.root, "root", 0), 0);
	c.root.base.resv = &c.vm_resv;
	for (int i = 0; i < CH_OBJS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_ret(gpuvm_resv_init(&c.r[i], NULL), 0);
		assert_ret(test_gem_init(&c.g[i], name, GEM_SIZE), 0);
		c.g[i].base.resv = &c.r[i];
	}
	/* the C library's allocator: the test allocator's counters are not atomic */
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "churn", .range = VM_RANGE,
		   .flags = GPUVM_IMMEDIATE_MODE | (prot ? GPUVM_RESV_PROTECTED : 0),
		   .r_obj = &c.root.base);
	assert_ret(gpuvm_init(&c.vm, &opts), 0);

	c.deadline = now_ns() + 500ull * 1000 * 1000;
	assert_int_equal(pthread_create(&locker, NULL, ch_locker, &c), 0);
	assert_int_equal(pthread_create(&churner, NULL, ch_churner, &c), 0);
	assert_int_equal(pthread_join(locker, NULL), 0);
	assert_int_equal(pthread_join(churner, NULL), 0);
	if (c.failures)
		fail_msg("%lu failures, first: %s (seed %u)", c.failures, c.first_failure, c.seed);
	printf("test_exec: churn%s: %lu locks (%lu with external objects), %lu steps, "
	       "%lu vm_bos cleaned\n", prot ? " (RESV_PROTECTED)" : "", c.locks,
	       c.with_extobjs, c.churns, c.cleaned);
	assert_true(c.locks > 0);
	assert_true(c.with_extobjs > 0);
	assert_true(c.churns > 0);

	do {
		ret = gpuvm_bo_deferred_cleanup(&c.vm);
		assert_true(ret >= 0);
	} while (ret > 0);
	assert_true(gpuvm_list_empty(&c.vm.extobj.list));
	assert_ret(gpuvm_fini(&c.vm), 0);
	gpuvm_gem_put(&c.root.base);
	assert_int_equal(c.root.frees, 1);
	for (int i = 0; i < CH_OBJS; i++) {
		gpuvm_gem_put(&c.g[i].base);
		assert_int_equal(c.g[i].frees, 1);
		assert_ret(gpuvm_resv_fini(&c.r[i]), 0);
	}
	assert_ret(gpuvm_resv_fini(&c.vm_resv), 0);
}

static void exec_extobj_churn(void **state)
{
	(void)state;
	extobj_churn(false);
}

static void exec_extobj_churn_resv_protected(void **state)
{
	(void)state;
	extobj_churn(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exec_init_errors),
		cmocka_unit_test(exec_lock_extobjs),
		cmocka_unit_test(exec_lock_extobjs_resv_protected),
		cmocka_unit_test(exec_lock_evicted_extobj),
		cmocka_unit_test(exec_skips_zombies),
		cmocka_unit_test(exec_dedupe),
		cmocka_unit_test(exec_vm_without_resv),
		cmocka_unit_test(exec_unlock_reverse_order),
		cmocka_unit_test(exec_lock_range),
		cmocka_unit_test(exec_sm_map_lock),
		cmocka_unit_test(exec_extra_callback),
		cmocka_unit_test(exec_enomem),
		cmocka_unit_test(exec_enomem_extobj_grow),
		cmocka_unit_test(exec_enomem_extobj_grow_resv_protected),
		cmocka_unit_test(exec_held_outside),
		cmocka_unit_test(exec_lock_callback_errors),
		cmocka_unit_test(exec_first_extobj_not_waited_under_mutex),
		cmocka_unit_test(exec_trylock_flag),
		cmocka_unit_test(exec_backoff_array),
		cmocka_unit_test(exec_backoff_callback),
		cmocka_unit_test(exec_backoff_callback_swallows),
		cmocka_unit_test(exec_unlock_other_thread),
		cmocka_unit_test(exec_signalling),
		cmocka_unit_test(exec_deadlock_threads),
		cmocka_unit_test(exec_extobj_churn),
		cmocka_unit_test(exec_extobj_churn_resv_protected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
