/* SPDX-License-Identifier: MIT */
/*
 * gpuvm_exec (lib/exec.c), the cases the other tests leave out: an exec
 * that was never initialized, a set large enough for its hash to probe,
 * objects without a reservation, an extra callback that swallows two
 * contentions, a caller's lock that fails while exec waits for the object
 * that stopped the last attempt (or reports it busy again), and a range or
 * map request meeting an object whose reservation the caller holds.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include <pthread.h>

#include "test_util.h"

/*
 * Enough objects for the set to grow three times and for its hash to probe,
 * few enough that one thread holds fewer than 64 locks (ThreadSanitizer's
 * deadlock detector stops at 64 held by a thread).
 */
#define NOBJ 48

/* ---- fixture: a VM with a reservation, objects with their own ---- */

struct fx {
	struct test_alloc ta;
	struct gpuvm_resv vm_resv;
	struct gpuvm_gem root;
	struct gpuvm vm;
	struct gpuvm_resv r[NOBJ];
	struct test_gem g[NOBJ];
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	GPUVM_OPTS(gpuvm_gem_opts, ropts);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "exec", .range = 1ull << 40);

	assert_non_null(f);
	test_alloc_init(&f->ta);
	assert_ret(gpuvm_resv_init(&f->vm_resv, NULL), 0);
	ropts.resv = &f->vm_resv;
	assert_ret(gpuvm_gem_init(&f->root, &ropts), 0);
	for (int i = 0; i < NOBJ; i++) {
		assert_ret(gpuvm_resv_init(&f->r[i], NULL), 0);
		assert_ret(test_gem_init(&f->g[i], "g", 0x100000), 0);
		f->g[i].base.resv = &f->r[i];
	}
	opts.alloc = test_alloc_hooks(&f->ta);
	opts.r_obj = &f->root;
	assert_ret(gpuvm_init(&f->vm, &opts), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	assert_ret(gpuvm_fini(&f->vm), 0);
	assert_int_equal(f->ta.live, 0);
	assert_int_equal(f->ta.errors, 0);
	for (int i = 0; i < NOBJ; i++) {
		assert_int_equal(f->g[i].base.refcount, 1);
		gpuvm_gem_put(&f->g[i].base);
		assert_int_equal(f->g[i].frees, 1);
		assert_ret(gpuvm_resv_fini(&f->r[i]), 0);
	}
	assert_int_equal(f->root.refcount, 1);
	assert_ret(gpuvm_gem_fini(&f->root), 0);
	assert_ret(gpuvm_resv_fini(&f->vm_resv), 0);
	free(f);
}

static void assert_nothing_held(const struct fx *f)
{
	assert_false(gpuvm_resv_held(&f->vm_resv));
	for (int i = 0; i < NOBJ; i++)
		assert_false(gpuvm_resv_held(&f->r[i]));
}

/* ---- an exec that was never initialized ---- */

static void exec_not_initialized(void **state)
{
	struct fx *f = fx_new();
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[] = { &f->g[0].base };
	GPUVM_OPTS(gpuvm_map_req, req, .map = { .va = { 0x10000, 0x1000 } });

	(void)state;
	memset(&exec, 0, sizeof(exec));
	assert_ret(gpuvm_exec_lock(&exec), -EINVAL);
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 1), -EINVAL);
	assert_ret(gpuvm_exec_lock_range(&exec, 0x10000, 0x1000), -EINVAL);
	assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), -EINVAL);
	assert_ret(gpuvm_exec_lock_obj(&exec, objs[0]), -EINVAL);
	assert_ret(gpuvm_prepare_objects(&exec), -EINVAL);
	assert_int_equal(exec.num_objects, 0);
	assert_null(exec.objects);
	assert_nothing_held(f);
	assert_int_equal(f->g[0].base.refcount, 1);
	fx_free(f);
}

/* ---- a large set: duplicates, shared reservations, no reservation ---- */

static void exec_large_set(void **state)
{
	struct fx *f = fx_new();
	struct gpuvm_gem *objs[2 * NOBJ + 2];
	struct test_gem bare;
	struct gpuvm_exec exec;
	unsigned long allocs;
	unsigned int n = 0, idx;
	struct gpuvm_gem *obj;

	(void)state;
	assert_ret(test_gem_init(&bare, "bare", 0x1000), 0);
	/* every object twice, and one without any reservation among them */
	for (int i = 0; i < NOBJ; i++)
		objs[n++] = &f->g[i].base;
	objs[n++] = &bare.base;
	for (int i = NOBJ; i--;)
		objs[n++] = &f->g[i].base;
	/* the VM's own reservation once more, through the root object */
	objs[n++] = &f->root;

	GPUVM_OPTS(gpuvm_exec_opts, eopts, .vm = &f->vm);
	assert_ret(gpuvm_exec_init(&exec, &eopts), 0);
	for (int round = 0; round < 2; round++) {
		allocs = f->ta.allocs;
		assert_ret(gpuvm_exec_lock_array(&exec, objs, n), 0);
		/* the VM's reservation first, then each object once */
		assert_int_equal(exec.num_objects, 1 + NOBJ);
		assert_ptr_equal(exec.objects[0], &f->root);
		gpuvm_exec_for_each_locked_object(&exec, idx, obj) {
			if (idx)
				assert_ptr_equal(obj, &f->g[idx - 1].base);
			assert_true(gpuvm_resv_held(obj->resv));
		}
		for (int i = 0; i < NOBJ; i++)
			assert_int_equal(f->g[i].base.refcount, 2);
		assert_int_equal(bare.base.refcount, 1);
		if (round)
			/* the set is kept: the second cycle allocates nothing */
			assert_int_equal(f->ta.allocs, allocs);
		gpuvm_exec_unlock(&exec);
		assert_nothing_held(f);
		for (int i = 0; i < NOBJ; i++)
			assert_int_equal(f->g[i].base.refcount, 1);
	}
	assert_ret(gpuvm_exec_fini(&exec), 0);
	gpuvm_gem_put(&bare.base);
	assert_int_equal(bare.frees, 1);
	fx_free(f);
}

/* ---- another thread holds some reservations until told to let go ---- */

struct holder {
	struct gpuvm_resv *resv[2];
	pthread_barrier_t locked, release;
	int ret;
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;

	h->ret = gpuvm_resv_lock(h->resv[0]) || gpuvm_resv_lock(h->resv[1]);
	pthread_barrier_wait(&h->locked);
	pthread_barrier_wait(&h->release);
	h->ret |= gpuvm_resv_unlock(h->resv[1]) || gpuvm_resv_unlock(h->resv[0]);
	return NULL;
}

static void holder_start(struct holder *h, pthread_t *th)
{
	assert_int_equal(pthread_barrier_init(&h->locked, NULL, 2), 0);
	assert_int_equal(pthread_barrier_init(&h->release, NULL, 2), 0);
	assert_int_equal(pthread_create(th, NULL, holder_main, h), 0);
	pthread_barrier_wait(&h->locked);
	assert_int_equal(h->ret, 0);
}

static void holder_stop(struct holder *h, pthread_t th)
{
	pthread_barrier_wait(&h->release);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(h->ret, 0);
	pthread_barrier_destroy(&h->locked);
	pthread_barrier_destroy(&h->release);
}

/* The extra callback: lock two objects, ignoring what the calls return. */
struct swallow {
	struct gpuvm_gem *a, *b;
	int ret_a, ret_b;
	unsigned int calls;
};

static int swallow_extra(struct gpuvm_exec *exec, void *priv)
{
	struct swallow *s = priv;

	s->calls++;
	s->ret_a = gpuvm_exec_lock_obj(exec, s->a);
	s->ret_b = gpuvm_exec_lock_obj(exec, s->b);
	return 0;
}

static void exec_extra_swallows_two_contentions(void **state)
{
	struct fx *f = fx_new();
	struct swallow s = { .a = &f->g[0].base, .b = &f->g[1].base };
	struct holder h = { .resv = { &f->r[0], &f->r[1] } };
	struct gpuvm_exec exec;
	pthread_t th;

	(void)state;
	GPUVM_OPTS(gpuvm_exec_opts, eopts, .vm = &f->vm, .flags = GPUVM_EXEC_TRYLOCK,
		   .extra = swallow_extra, .priv = &s);
	assert_ret(gpuvm_exec_init(&exec, &eopts), 0);

	holder_start(&h, &th);
	/*
	 * Both busy: the first is remembered as the contended object (with a
	 * reference), the second is only reported. The attempt is lost even
	 * though the callback returned 0, and TRYLOCK gives up at once.
	 */
	assert_ret(gpuvm_exec_lock(&exec), -EAGAIN);
	assert_int_equal(s.calls, 1);
	assert_ret(s.ret_a, -EDEADLK);
	assert_ret(s.ret_b, -EDEADLK);
	assert_int_equal(exec.num_objects, 0);
	assert_null(exec.contended_);
	assert_int_equal(f->g[0].base.refcount, 1);
	assert_int_equal(f->g[1].base.refcount, 1);
	assert_false(gpuvm_resv_held(&f->vm_resv));
	holder_stop(&h, th);

	/* free now: the same call locks both */
	assert_ret(gpuvm_exec_lock(&exec), 0);
	assert_ret(s.ret_a, 0);
	assert_ret(s.ret_b, 0);
	assert_int_equal(exec.num_objects, 3);
	assert_true(gpuvm_resv_held(&f->r[0]));
	assert_true(gpuvm_resv_held(&f->r[1]));
	gpuvm_exec_unlock(&exec);
	assert_nothing_held(f);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	fx_free(f);
}

/* ---- a caller's lock that fails or stays busy while exec waits for it ---- */

struct script {
	int trylock_ret;  /* what every trylock returns */
	int lock_rets[4]; /* what the lock calls return, in turn (then 0) */
	unsigned int locks, trylocks;
};

static int script_lock(struct gpuvm_resv *resv)
{
	struct script *s = resv->user_data;
	unsigned int i = s->locks++;

	return i < 4 ? s->lock_rets[i] : 0;
}

static int script_trylock(struct gpuvm_resv *resv)
{
	struct script *s = resv->user_data;

	s->trylocks++;
	return s->trylock_ret;
}

static void script_unlock(struct gpuvm_resv *resv)
{
	(void)resv;
}

static const struct gpuvm_resv_ops script_ops = {
	.sz = sizeof(struct gpuvm_resv_ops),
	.lock = script_lock,
	.trylock = script_trylock,
	.unlock = script_unlock,
};

static void exec_contended_lock_fails(void **state)
{
	struct fx *f = fx_new();
	struct script s;
	struct gpuvm_resv sr;
	struct test_gem x;
	struct gpuvm_gem *objs[] = { &x.base };
	struct gpuvm_exec exec;
	GPUVM_OPTS(gpuvm_resv_opts, ropts, .ops = &script_ops, .user_data = &s);

	(void)state;
	assert_ret(gpuvm_resv_init(&sr, &ropts), 0);
	assert_ret(test_gem_init(&x, "x", 0x1000), 0);
	x.base.resv = &sr;
	GPUVM_OPTS(gpuvm_exec_opts, eopts, .vm = &f->vm);
	assert_ret(gpuvm_exec_init(&exec, &eopts), 0);

	/* busy behind the VM's reservation, then the wait for it is interrupted */
	memset(&s, 0, sizeof(s));
	s.trylock_ret = -EBUSY;
	s.lock_rets[0] = -EINTR;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 1), -EINTR);
	assert_int_equal(s.trylocks, 1);
	assert_int_equal(s.locks, 1);
	assert_int_equal(exec.num_objects, 0);
	assert_null(exec.contended_);
	/* the reference taken on the contended object went with the error */
	assert_int_equal(x.base.refcount, 1);
	assert_false(gpuvm_resv_held(&sr));
	assert_nothing_held(f);

	/* the wait reports it busy once more: another attempt, which waits again */
	memset(&s, 0, sizeof(s));
	s.trylock_ret = -EBUSY;
	s.lock_rets[0] = -EBUSY;
	exec.backoffs = 0;
	assert_ret(gpuvm_exec_lock_array(&exec, objs, 1), 0);
	assert_int_equal(s.locks, 2);
	assert_int_equal(exec.backoffs, 2);
	assert_int_equal(exec.num_objects, 2);
	assert_ptr_equal(exec.objects[0], &x.base);
	assert_true(gpuvm_resv_held(&sr));
	assert_true(gpuvm_resv_held(&f->vm_resv));
	assert_int_equal(x.base.refcount, 2);
	gpuvm_exec_unlock(&exec);
	assert_int_equal(x.base.refcount, 1);
	assert_false(gpuvm_resv_held(&sr));
	assert_nothing_held(f);

	assert_ret(gpuvm_exec_fini(&exec), 0);
	gpuvm_gem_put(&x.base);
	assert_int_equal(x.frees, 1);
	assert_ret(gpuvm_resv_fini(&sr), 0);
	fx_free(f);
}

/* ---- a range or a map request meeting a reservation the caller holds ---- */

static void exec_range_and_map_held(void **state)
{
	struct fx *f = fx_new();
	struct gpuvm_exec exec;
	struct gpuva va, sparse;
	GPUVM_OPTS(gpuvm_map_req, req,
		   .map = { .va = { 0x20000, 0x1000 }, .gem = { 0, &f->g[1].base } });

	(void)state;
	insert_va(&f->vm, &sparse, 0x8000, 0x1000, NULL, 0);
	insert_va(&f->vm, &va, 0x10000, 0x1000, &f->g[0].base, 0);
	GPUVM_OPTS(gpuvm_exec_opts, eopts, .vm = &f->vm);
	assert_ret(gpuvm_exec_init(&exec, &eopts), 0);

	/* waiting for a reservation this thread holds would never end */
	assert_ret(gpuvm_resv_lock(&f->r[0]), 0);
	assert_ret(gpuvm_exec_lock_range(&exec, 0, 0x100000), -EALREADY);
	assert_int_equal(exec.num_objects, 0);
	assert_false(gpuvm_resv_held(&f->vm_resv));
	assert_int_equal(f->g[0].base.refcount, 1);
	assert_ret(gpuvm_resv_unlock(&f->r[0]), 0);
	assert_ret(gpuvm_exec_lock_range(&exec, 0, 0x100000), 0);
	/* the VM's and the one object's: a sparse mapping has none */
	assert_int_equal(exec.num_objects, 2);
	gpuvm_exec_unlock(&exec);

	assert_ret(gpuvm_resv_lock(&f->r[1]), 0);
	assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), -EALREADY);
	assert_int_equal(exec.num_objects, 0);
	assert_false(gpuvm_resv_held(&f->vm_resv));
	assert_int_equal(f->g[1].base.refcount, 1);
	assert_ret(gpuvm_resv_unlock(&f->r[1]), 0);
	assert_ret(gpuvm_sm_map_exec_lock(&exec, &req), 0);
	assert_int_equal(exec.num_objects, 2);
	gpuvm_exec_unlock(&exec);
	assert_nothing_held(f);

	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_ret(gpuva_remove(&va), 0);
	assert_ret(gpuva_remove(&sparse), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exec_not_initialized),
		cmocka_unit_test(exec_large_set),
		cmocka_unit_test(exec_extra_swallows_two_contentions),
		cmocka_unit_test(exec_contended_lock_fails),
		cmocka_unit_test(exec_range_and_map_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
