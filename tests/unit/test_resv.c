/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of struct gpuvm_resv and of the gem's gpuva lock: init errors,
 * owner tracking (held by this thread, not by another), the refusals
 * (-EDEADLK for the holder, -EPERM for a non-holder, -EBUSY for fini while
 * held), caller-supplied lock callbacks, and mutual exclusion between
 * threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "test_util.h"

/* ---- a helper thread that runs one call and reports its result ---- */

struct other {
	pthread_t t;
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static void *other_main(void *p)
{
	struct other *o = p;

	o->ret = o->fn(o->arg);
	return NULL;
}

/* Run @fn(@arg) in another thread and wait for it. */
static int in_other_thread(int (*fn)(void *), void *arg)
{
	struct other o = { .fn = fn, .arg = arg };

	assert_int_equal(pthread_create(&o.t, NULL, other_main, &o), 0);
	assert_int_equal(pthread_join(o.t, NULL), 0);
	return o.ret;
}

static int other_held(void *arg)
{
	return gpuvm_resv_held(arg);
}

static int other_trylock(void *arg)
{
	return gpuvm_resv_trylock(arg);
}

static int other_unlock(void *arg)
{
	return gpuvm_resv_unlock(arg);
}

static int other_gpuva_held(void *arg)
{
	return gpuvm_gem_gpuva_lock_held(arg);
}

static int other_gpuva_unlock(void *arg)
{
	return gpuvm_gem_gpuva_unlock(arg);
}

/* ---- caller-supplied lock callbacks, on a pthread mutex in user_data ---- */

struct my_lock {
	pthread_mutex_t m;
	unsigned int locks, trylocks, unlocks;
	int fail; /* returned by lock when non-zero */
};

static int my_lock(struct gpuvm_resv *resv)
{
	struct my_lock *l = resv->user_data;

	int ret;

	if (l->fail)
		return l->fail;
	ret = -pthread_mutex_lock(&l->m);
	if (!ret)
		l->locks++; /* counted under the lock */
	return ret;
}

static int my_trylock(struct gpuvm_resv *resv)
{
	struct my_lock *l = resv->user_data;
	int ret = pthread_mutex_trylock(&l->m);

	if (!ret)
		l->trylocks++;
	return ret ? -EBUSY : 0;
}

static void my_unlock(struct gpuvm_resv *resv)
{
	struct my_lock *l = resv->user_data;

	l->unlocks++; /* still under the lock */
	pthread_mutex_unlock(&l->m);
}

static const struct gpuvm_resv_ops my_ops = {
	.sz = sizeof(my_ops),
	.lock = my_lock,
	.trylock = my_trylock,
	.unlock = my_unlock,
};

/* ---- tests ---- */

static void resv_init_errors(void **state)
{
	GPUVM_OPTS(gpuvm_resv_opts, opts);
	struct gpuvm_resv_ops ops = my_ops;
	struct gpuvm_resv resv;
	struct {
		struct gpuvm_resv_opts o;
		uint64_t newer;
	} big;
	struct {
		struct gpuvm_resv_ops o;
		uint64_t newer;
	} big_ops;

	(void)state;
	assert_ret(gpuvm_resv_init(NULL, NULL), -EINVAL);
	assert_ret(gpuvm_resv_init(NULL, &opts), -EINVAL);
	opts.sz = 0;
	assert_ret(gpuvm_resv_init(&resv, &opts), -EINVAL);
	opts.sz = sizeof(opts) - 1;
	assert_ret(gpuvm_resv_init(&resv, &opts), -EINVAL);
	opts.sz = sizeof(opts);

	/* every callback is required */
	opts.ops = &ops;
	ops.lock = NULL;
	assert_ret(gpuvm_resv_init(&resv, &opts), -EINVAL);
	ops = my_ops;
	ops.trylock = NULL;
	assert_ret(gpuvm_resv_init(&resv, &opts), -EINVAL);
	ops = my_ops;
	ops.unlock = NULL;
	assert_ret(gpuvm_resv_init(&resv, &opts), -EINVAL);
	ops = my_ops;
	ops.sz = sizeof(size_t);
	assert_ret(gpuvm_resv_init(&resv, &opts), -EINVAL);

	/* unknown tails: zero is fine, anything else refused */
	memset(&big_ops, 0, sizeof(big_ops));
	big_ops.o = my_ops;
	big_ops.o.sz = sizeof(big_ops);
	big_ops.newer = 1;
	opts.ops = &big_ops.o;
	assert_ret(gpuvm_resv_init(&resv, &opts), -EINVAL);
	big_ops.newer = 0;
	assert_ret(gpuvm_resv_init(&resv, &opts), 0);
	assert_ret(gpuvm_resv_fini(&resv), 0);

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.newer = 1;
	assert_ret(gpuvm_resv_init(&resv, &big.o), -EINVAL);
	big.newer = 0;
	assert_ret(gpuvm_resv_init(&resv, &big.o), 0);
	assert_ret(gpuvm_resv_fini(&resv), 0);

	assert_ret(gpuvm_resv_fini(NULL), -EINVAL);
	assert_ret(gpuvm_resv_lock(NULL), -EINVAL);
	assert_ret(gpuvm_resv_trylock(NULL), -EINVAL);
	assert_ret(gpuvm_resv_unlock(NULL), -EINVAL);
	assert_false(gpuvm_resv_held(NULL));
}

static void resv_init_fields(void **state)
{
	int cookie;
	GPUVM_OPTS(gpuvm_resv_opts, opts, .user_data = &cookie);
	struct gpuvm_resv resv;

	(void)state;
	memset(&resv, 0xa5, sizeof(resv));
	assert_ret(gpuvm_resv_init(&resv, &opts), 0);
	assert_null(resv.ops);
	assert_ptr_equal(resv.user_data, &cookie);
	assert_null(resv.fences);
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_fini(&resv), 0);

	memset(&resv, 0xa5, sizeof(resv));
	assert_ret(gpuvm_resv_init(&resv, NULL), 0);
	assert_null(resv.ops);
	assert_null(resv.user_data);
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_fini(&resv), 0);
}

/* A thread that holds a reservation until told to let go. */
struct holder {
	struct gpuvm_resv *resv;
	int holding, release; /* atomic */
	int ret;
};

static void *holder_main(void *p)
{
	struct holder *h = p;

	h->ret = gpuvm_resv_lock(h->resv);
	__atomic_store_n(&h->holding, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
		sched_yield();
	if (!h->ret)
		h->ret = gpuvm_resv_unlock(h->resv);
	return NULL;
}

static void resv_owner(void **state)
{
	struct gpuvm_resv resv;

	(void)state;
	assert_ret(gpuvm_resv_init(&resv, NULL), 0);

	/* unlocking what nobody holds */
	assert_ret(gpuvm_resv_unlock(&resv), -EPERM);

	assert_ret(gpuvm_resv_lock(&resv), 0);
	assert_true(gpuvm_resv_held(&resv));
	/* the holder cannot take it again, by either call */
	assert_ret(gpuvm_resv_lock(&resv), -EDEADLK);
	assert_ret(gpuvm_resv_trylock(&resv), -EDEADLK);
	assert_true(gpuvm_resv_held(&resv));
	/* another thread sees it held, but not by itself */
	assert_int_equal(in_other_thread(other_held, &resv), 0);
	assert_ret(in_other_thread(other_trylock, &resv), -EBUSY);
	assert_ret(in_other_thread(other_unlock, &resv), -EPERM);
	assert_true(gpuvm_resv_held(&resv));
	/* not finalized while held */
	assert_ret(gpuvm_resv_fini(&resv), -EBUSY);

	assert_ret(gpuvm_resv_unlock(&resv), 0);
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_unlock(&resv), -EPERM);

	assert_ret(gpuvm_resv_trylock(&resv), 0);
	assert_true(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_unlock(&resv), 0);

	/* held by another thread: not by this one, which may not release it */
	struct holder h = { .resv = &resv };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, holder_main, &h), 0);
	while (!__atomic_load_n(&h.holding, __ATOMIC_ACQUIRE))
		sched_yield();
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_unlock(&resv), -EPERM);
	assert_ret(gpuvm_resv_trylock(&resv), -EBUSY);
	assert_ret(gpuvm_resv_fini(&resv), -EBUSY);
	__atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(h.ret, 0);
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_fini(&resv), 0);
}

static void resv_custom_ops(void **state)
{
	struct my_lock l = { .locks = 0 };
	GPUVM_OPTS(gpuvm_resv_opts, opts, .ops = &my_ops, .user_data = &l);
	struct gpuvm_resv resv;

	(void)state;
	assert_int_equal(pthread_mutex_init(&l.m, NULL), 0);
	assert_ret(gpuvm_resv_init(&resv, &opts), 0);
	assert_ptr_equal(resv.ops, &my_ops);
	assert_ptr_equal(resv.user_data, &l);

	assert_ret(gpuvm_resv_lock(&resv), 0);
	assert_int_equal(l.locks, 1);
	assert_true(gpuvm_resv_held(&resv));
	/* refused before reaching the (non-recursive) callback */
	assert_ret(gpuvm_resv_lock(&resv), -EDEADLK);
	assert_ret(gpuvm_resv_trylock(&resv), -EDEADLK);
	assert_int_equal(l.locks, 1);
	assert_int_equal(l.trylocks, 0);
	assert_ret(in_other_thread(other_trylock, &resv), -EBUSY);
	assert_ret(in_other_thread(other_unlock, &resv), -EPERM);
	assert_int_equal(l.unlocks, 0);
	assert_ret(gpuvm_resv_unlock(&resv), 0);
	assert_int_equal(l.unlocks, 1);
	assert_ret(gpuvm_resv_unlock(&resv), -EPERM);
	assert_int_equal(l.unlocks, 1);

	assert_ret(gpuvm_resv_trylock(&resv), 0);
	assert_int_equal(l.trylocks, 1);
	assert_ret(gpuvm_resv_unlock(&resv), 0);

	/* the callback's error comes back and the lock is not held */
	l.fail = -EINTR;
	assert_ret(gpuvm_resv_lock(&resv), -EINTR);
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_unlock(&resv), -EPERM);
	l.fail = 0;

	assert_ret(gpuvm_resv_fini(&resv), 0);
	pthread_mutex_destroy(&l.m);
}

/* ---- mutual exclusion ---- */

#define WORKERS 4
#define ROUNDS 20000

struct excl {
	struct gpuvm_resv *resv;
	struct gpuvm_gem *obj;
	unsigned long counter; /* protected by the lock under test, not atomic */
	unsigned long errors;  /* atomic */
	bool use_trylock;
};

static void *excl_resv_main(void *p)
{
	struct excl *e = p;

	for (int i = 0; i < ROUNDS; i++) {
		int ret;

		if (e->use_trylock && (i & 1)) {
			while ((ret = gpuvm_resv_trylock(e->resv)) == -EBUSY)
				sched_yield();
		} else {
			ret = gpuvm_resv_lock(e->resv);
		}
		if (ret || !gpuvm_resv_held(e->resv)) {
			__atomic_fetch_add(&e->errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		e->counter++;
		if (gpuvm_resv_unlock(e->resv))
			__atomic_fetch_add(&e->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *excl_gpuva_main(void *p)
{
	struct excl *e = p;

	for (int i = 0; i < ROUNDS; i++) {
		if (gpuvm_gem_gpuva_lock(e->obj) || !gpuvm_gem_gpuva_lock_held(e->obj)) {
			__atomic_fetch_add(&e->errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		e->counter++;
		if (gpuvm_gem_gpuva_unlock(e->obj))
			__atomic_fetch_add(&e->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void run_workers(void *(*fn)(void *), struct excl *e)
{
	pthread_t t[WORKERS];

	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, e), 0);
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(e->errors, 0);
	assert_int_equal(e->counter, (unsigned long)WORKERS * ROUNDS);
}

static void resv_exclusion(void **state)
{
	struct my_lock l = { .locks = 0 };
	GPUVM_OPTS(gpuvm_resv_opts, opts, .ops = &my_ops, .user_data = &l);
	struct gpuvm_resv resv;
	struct excl e = { .resv = &resv, .use_trylock = true };

	(void)state;
	assert_ret(gpuvm_resv_init(&resv, NULL), 0);
	run_workers(excl_resv_main, &e);
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_fini(&resv), 0);

	assert_int_equal(pthread_mutex_init(&l.m, NULL), 0);
	assert_ret(gpuvm_resv_init(&resv, &opts), 0);
	e.counter = 0;
	run_workers(excl_resv_main, &e);
	assert_int_equal(l.locks + l.trylocks, (unsigned long)WORKERS * ROUNDS);
	assert_int_equal(l.unlocks, (unsigned long)WORKERS * ROUNDS);
	assert_ret(gpuvm_resv_fini(&resv), 0);
	pthread_mutex_destroy(&l.m);
}

/* ---- the gem's gpuva lock ---- */

struct my_gpuva {
	struct gpuvm_gem base;
	pthread_mutex_t m;
	unsigned int locks, unlocks;
	int fail;
};

static int my_gpuva_lock(struct gpuvm_gem *obj)
{
	struct my_gpuva *g = (struct my_gpuva *)obj;

	int ret;

	if (g->fail)
		return g->fail;
	ret = -pthread_mutex_lock(&g->m);
	if (!ret)
		g->locks++; /* counted under the lock */
	return ret;
}

static void my_gpuva_unlock(struct gpuvm_gem *obj)
{
	struct my_gpuva *g = (struct my_gpuva *)obj;

	g->unlocks++;
	pthread_mutex_unlock(&g->m);
}

static const struct gpuvm_gem_funcs my_gpuva_funcs = {
	.gpuva_lock = my_gpuva_lock,
	.gpuva_unlock = my_gpuva_unlock,
};

static void gpuva_lock_builtin(void **state)
{
	struct test_gem g;

	(void)state;
	assert_ret(test_gem_init(&g, "G", 0x1000), 0);
	assert_ret(gpuvm_gem_gpuva_lock(NULL), -EINVAL);
	assert_ret(gpuvm_gem_gpuva_unlock(NULL), -EINVAL);
	assert_false(gpuvm_gem_gpuva_lock_held(NULL));

	assert_false(gpuvm_gem_gpuva_lock_held(&g.base));
	assert_ret(gpuvm_gem_gpuva_unlock(&g.base), -EPERM);
	assert_ret(gpuvm_gem_gpuva_lock(&g.base), 0);
	assert_true(gpuvm_gem_gpuva_lock_held(&g.base));
	assert_ret(gpuvm_gem_gpuva_lock(&g.base), -EDEADLK);
	assert_int_equal(in_other_thread(other_gpuva_held, &g.base), 0);
	assert_ret(in_other_thread(other_gpuva_unlock, &g.base), -EPERM);
	/* not finalized while held */
	assert_ret(gpuvm_gem_fini(&g.base), -EBUSY);
	assert_ret(gpuvm_gem_gpuva_unlock(&g.base), 0);
	assert_false(gpuvm_gem_gpuva_lock_held(&g.base));
	assert_ret(gpuvm_gem_gpuva_unlock(&g.base), -EPERM);

	/* the lock is allowed on the fence-signalling path */
	bool cookie = gpuvm_signalling_begin();

	assert_ret(gpuvm_gem_gpuva_lock(&g.base), 0);
	assert_ret(gpuvm_gem_gpuva_unlock(&g.base), 0);
	gpuvm_signalling_end(cookie);

	struct excl e = { .obj = &g.base };

	run_workers(excl_gpuva_main, &e);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
	assert_int_equal(g.fini_ret, 0);
}

static void gpuva_lock_custom(void **state)
{
	struct gpuvm_gem_funcs half = { .gpuva_lock = my_gpuva_lock };
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = 0x1000, .funcs = &half);
	struct my_gpuva g;

	(void)state;
	memset(&g, 0, sizeof(g));
	/* both callbacks or neither */
	assert_ret(gpuvm_gem_init(&g.base, &opts), -EINVAL);
	half.gpuva_lock = NULL;
	half.gpuva_unlock = my_gpuva_unlock;
	assert_ret(gpuvm_gem_init(&g.base, &opts), -EINVAL);

	opts.funcs = &my_gpuva_funcs;
	assert_ret(gpuvm_gem_init(&g.base, &opts), 0);
	assert_int_equal(pthread_mutex_init(&g.m, NULL), 0);
	assert_ret(gpuvm_gem_gpuva_lock(&g.base), 0);
	assert_int_equal(g.locks, 1);
	assert_true(gpuvm_gem_gpuva_lock_held(&g.base));
	assert_ret(gpuvm_gem_gpuva_lock(&g.base), -EDEADLK);
	assert_int_equal(g.locks, 1);
	assert_ret(in_other_thread(other_gpuva_unlock, &g.base), -EPERM);
	assert_int_equal(g.unlocks, 0);
	assert_ret(gpuvm_gem_gpuva_unlock(&g.base), 0);
	assert_int_equal(g.unlocks, 1);

	g.fail = -EIO;
	assert_ret(gpuvm_gem_gpuva_lock(&g.base), -EIO);
	assert_false(gpuvm_gem_gpuva_lock_held(&g.base));
	g.fail = 0;

	struct excl e = { .obj = &g.base };

	run_workers(excl_gpuva_main, &e);
	assert_int_equal(g.locks, 1 + (unsigned long)WORKERS * ROUNDS);
	assert_ret(gpuvm_gem_fini(&g.base), 0);
	pthread_mutex_destroy(&g.m);
}

/* A thread blocked in gpuvm_resv_lock() gets the reservation once it is released. */
struct blocker {
	struct gpuvm_resv *resv;
	int started, got; /* atomic */
};

static void *blocker_main(void *p)
{
	struct blocker *b = p;

	__atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
	if (!gpuvm_resv_lock(b->resv)) {
		__atomic_store_n(&b->got, 1, __ATOMIC_RELEASE);
		gpuvm_resv_unlock(b->resv);
	}
	return NULL;
}

static void resv_blocks(void **state)
{
	struct gpuvm_resv resv;
	struct blocker b = { .resv = &resv };
	pthread_t t;

	(void)state;
	assert_ret(gpuvm_resv_init(&resv, NULL), 0);
	assert_ret(gpuvm_resv_lock(&resv), 0);
	assert_int_equal(pthread_create(&t, NULL, blocker_main, &b), 0);
	while (!__atomic_load_n(&b.started, __ATOMIC_ACQUIRE))
		sched_yield();
	nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	assert_int_equal(__atomic_load_n(&b.got, __ATOMIC_ACQUIRE), 0);
	assert_ret(gpuvm_resv_unlock(&resv), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(b.got, 1);
	assert_false(gpuvm_resv_held(&resv));
	assert_ret(gpuvm_resv_fini(&resv), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resv_init_errors),
		cmocka_unit_test(resv_init_fields),
		cmocka_unit_test(resv_owner),
		cmocka_unit_test(resv_custom_ops),
		cmocka_unit_test(resv_exclusion),
		cmocka_unit_test(resv_blocks),
		cmocka_unit_test(gpuva_lock_builtin),
		cmocka_unit_test(gpuva_lock_custom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
