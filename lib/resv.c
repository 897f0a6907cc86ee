/* SPDX-License-Identifier: MIT */
/*
 * Reservations (struct gpuvm_resv) and the gem's gpuva lock: sleeping locks
 * that know their holder.
 *
 * The holder is tracked here rather than asked of the lock, so that a
 * caller-supplied lock (a VMM's own) gets the same checks as the built-in
 * mutex: "held by the calling thread" for the functions that require a lock,
 * -EDEADLK instead of a self-deadlock, -EPERM for an unlock by a thread that
 * does not hold it.
 *
 * Tracking protocol: after taking the lock the holder stores its thread id
 * in owner, then sets held (release); before releasing the lock it clears
 * held. Another thread that reads held == 1 (acquire) therefore reads the
 * current holder's id, never its own stale one: only the holder ever writes
 * owner, and a thread's own "held = 0" is newer to it than its earlier "held
 * = 1". Both words are accessed atomically, so the answer is race-free even
 * while other threads take and release the lock.
 */
#include "internal.h"

#include <string.h>

bool gpuvm__owner_held(const pthread_t *owner, const unsigned int *held)
{
	pthread_t o;

	if (!__atomic_load_n(held, __ATOMIC_ACQUIRE))
		return false;
	__atomic_load(owner, &o, __ATOMIC_RELAXED);
	return pthread_equal(o, pthread_self()) != 0;
}

void gpuvm__owner_set(pthread_t *owner, unsigned int *held)
{
	pthread_t self = pthread_self();

	__atomic_store(owner, &self, __ATOMIC_RELAXED);
	__atomic_store_n(held, 1, __ATOMIC_RELEASE);
}

void gpuvm__owner_clear(unsigned int *held)
{
	__atomic_store_n(held, 0, __ATOMIC_RELEASE);
}

/* A callback's error as a negative errno (a positive one is a bug, mapped to -EIO). */
static int cb_err(int ret)
{
	return ret < 0 ? ret : -EIO;
}

/* ---- struct gpuvm_resv ---- */

static bool resv_ops_valid(const struct gpuvm_resv_ops *ops)
{
	if (!ops)
		return true;
	if (!gpuvm__opts_valid(ops, sizeof(*ops)))
		return false;
	return ops->lock && ops->trylock && ops->unlock;
}

int gpuvm_resv_init(struct gpuvm_resv *resv, const struct gpuvm_resv_opts *opts)
{
	const struct gpuvm_resv_ops *ops = NULL;
	void *user_data = NULL;
	int ret;

	if (!resv)
		return -EINVAL;
	if (opts) {
		if (!gpuvm__opts_valid(opts, sizeof(*opts)))
			return -EINVAL;
		ops = opts->ops;
		user_data = opts->user_data;
	}
	if (!resv_ops_valid(ops))
		return -EINVAL;
	if (!ops) {
		ret = pthread_mutex_init(&resv->lock_, NULL);
		if (ret)
			return -ret;
	}
	resv->fences = NULL;
	resv->held_ = 0;
	memset(&resv->owner_, 0, sizeof(resv->owner_));
	resv->ops = ops;
	resv->user_data = user_data;
	return 0;
}

int gpuvm_resv_fini(struct gpuvm_resv *resv)
{
	if (!resv)
		return -EINVAL;
	if (__atomic_load_n(&resv->held_, __ATOMIC_ACQUIRE))
		return -EBUSY;
	if (!resv->ops)
		pthread_mutex_destroy(&resv->lock_);
	return 0;
}

bool gpuvm_resv_held(const struct gpuvm_resv *resv)
{
	return resv && gpuvm__owner_held(&resv->owner_, &resv->held_);
}

/* Take @resv for the calling thread, waiting for it unless @try. */
static int resv_take(struct gpuvm_resv *resv, bool try)
{
	int ret;

	if (!resv)
		return -EINVAL;
	if (gpuvm_resv_held(resv))
		return -EDEADLK;
	if (resv->ops) {
		ret = try ? resv->ops->trylock(resv) : resv->ops->lock(resv);
		if (ret)
			return cb_err(ret);
	} else {
		ret = try ? pthread_mutex_trylock(&resv->lock_) : pthread_mutex_lock(&resv->lock_);
		if (ret)
			return -ret;
	}
	gpuvm__owner_set(&resv->owner_, &resv->held_);
	return 0;
}

int gpuvm_resv_lock(struct gpuvm_resv *resv)
{
	GPUVM__MAY_BLOCK("gpuvm_resv_lock", "it may block on a reservation");
	return resv_take(resv, false);
}

int gpuvm_resv_trylock(struct gpuvm_resv *resv)
{
	return resv_take(resv, true);
}

int gpuvm_resv_unlock(struct gpuvm_resv *resv)
{
	if (!resv)
		return -EINVAL;
	if (!gpuvm_resv_held(resv))
		return -EPERM;
	gpuvm__owner_clear(&resv->held_);
	if (resv->ops)
		resv->ops->unlock(resv);
	else
		pthread_mutex_unlock(&resv->lock_);
	return 0;
}

/* ---- the gem's gpuva lock ---- */

static bool gpuva_custom(const struct gpuvm_gem *obj)
{
	return obj->funcs && obj->funcs->gpuva_lock;
}

bool gpuvm_gem_gpuva_lock_held(const struct gpuvm_gem *obj)
{
	return obj && gpuvm__owner_held(&obj->gpuva.owner_, &obj->gpuva.held_);
}

int gpuvm_gem_gpuva_lock(struct gpuvm_gem *obj)
{
	int ret;

	if (!obj)
		return -EINVAL;
	if (gpuvm_gem_gpuva_lock_held(obj))
		return -EDEADLK;
	if (gpuva_custom(obj)) {
		ret = obj->funcs->gpuva_lock(obj);
		if (ret)
			return cb_err(ret);
	} else {
		ret = pthread_mutex_lock(&obj->gpuva.lock);
		if (ret)
			return -ret;
	}
	gpuvm__owner_set(&obj->gpuva.owner_, &obj->gpuva.held_);
	return 0;
}

int gpuvm__gem_gpuva_trylock(struct gpuvm_gem *obj)
{
	int ret;

	if (gpuvm_gem_gpuva_lock_held(obj))
		return -EDEADLK;
	/* a caller-supplied lock has no trylock: report it busy */
	if (gpuva_custom(obj))
		return -EBUSY;
	ret = pthread_mutex_trylock(&obj->gpuva.lock);
	if (ret)
		return -ret;
	gpuvm__owner_set(&obj->gpuva.owner_, &obj->gpuva.held_);
	return 0;
}

int gpuvm_gem_gpuva_unlock(struct gpuvm_gem *obj)
{
	if (!obj)
		return -EINVAL;
	if (!gpuvm_gem_gpuva_lock_held(obj))
		return -EPERM;
	gpuvm__owner_clear(&obj->gpuva.held_);
	if (gpuva_custom(obj))
		obj->funcs->gpuva_unlock(obj);
	else
		pthread_mutex_unlock(&obj->gpuva.lock);
	return 0;
}
