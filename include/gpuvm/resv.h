/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm_resv: the reservation of a buffer object or of a VM (the
 * kernel's dma_resv, as far as GPUVM uses it): a sleeping lock that knows
 * which thread holds it, and a slot for the caller's fences.
 *
 * The lock is a pthread mutex unless the caller brings its own through
 * &struct gpuvm_resv_ops (a VMM or an emulator often has one already). In
 * both cases the library tracks the holder itself, so gpuvm_resv_held() can
 * answer "does the calling thread hold it?" and the functions that need a
 * reservation held can refuse (-EPERM) instead of corrupting a list.
 *
 * A VM's reservation is the one of its r_obj (gpuvm_resv() in vm.h); an
 * object whose reservation is another one is an "external object" of that
 * VM.
 *
 * Reservations are never waited for inside a fence-signalling section:
 * gpuvm_resv_lock() aborts there in debug builds, gpuvm_resv_trylock() is
 * allowed (see gpuvm/signal.h). Lock several at once with gpuvm_exec
 * (gpuvm/exec.h), which never blocks while holding one and so cannot
 * deadlock.
 */
#ifndef GPUVM_RESV_H
#define GPUVM_RESV_H

#include <gpuvm/common.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gpuvm_resv;

/**
 * struct gpuvm_resv_ops - a caller-supplied lock behind a reservation.
 * @sz: sizeof(struct gpuvm_resv_ops); an unknown non-zero tail is refused.
 * @lock: block until the lock is held; 0 or a negative errno (then the lock
 *	is not held).
 * @trylock: take the lock if it is free: 0, or -EBUSY when someone holds it.
 * @unlock: release the lock.
 *
 * All three are required. They get the reservation, whose @user_data points
 * to the caller's lock object. The callbacks need not be recursive or know
 * their owner: the library refuses a second lock by the holder (-EDEADLK)
 * and an unlock by someone else (-EPERM) before calling them.
 */
struct gpuvm_resv_ops {
	size_t sz;
	int (*lock)(struct gpuvm_resv *resv);
	int (*trylock)(struct gpuvm_resv *resv);
	void (*unlock)(struct gpuvm_resv *resv);
};

/**
 * struct gpuvm_resv - a reservation; embed it or point objects to it.
 * @ops: the caller's lock, or NULL for the built-in pthread mutex.
 * @user_data: the caller's (e.g. its own lock object for @ops).
 * @fences: a place for the caller's fences; the library never touches it.
 * @lock_: private: the built-in mutex (unused with @ops).
 * @owner_: private: the holder; written only by the holder.
 * @held_: private: 1 while held (atomic).
 *
 * Several objects may share one reservation (the objects local to a VM share
 * the VM's).
 */
struct gpuvm_resv {
	const struct gpuvm_resv_ops *ops;
	void *user_data;
	void *fences;
	pthread_mutex_t lock_;
	pthread_t owner_;
	unsigned int held_;
};

/**
 * struct gpuvm_resv_opts - arguments of gpuvm_resv_init().
 * @sz: sizeof(struct gpuvm_resv_opts).
 * @ops: the caller's lock, or NULL for the built-in mutex. Must outlive the
 *	reservation.
 * @user_data: see &struct gpuvm_resv.
 */
struct gpuvm_resv_opts {
	size_t sz;
	const struct gpuvm_resv_ops *ops;
	void *user_data;
};

/**
 * gpuvm_resv_init() - initialize a reservation.
 * @resv: the reservation; its previous content is ignored.
 * @opts: the arguments, or NULL for the built-in mutex and no user data.
 *
 * Returns: 0, or
 * -EINVAL: @resv NULL, bad @opts->sz or non-zero unknown tail, an ops table
 *	with a bad @sz, an unknown non-zero tail or a missing callback;
 * or a negative errno from pthread_mutex_init(). On -EINVAL @resv is left
 * untouched.
 *
 * Context: Any context but the fence-signalling section.
 */
GPUVM_EXPORT int gpuvm_resv_init(struct gpuvm_resv *resv,
				 const struct gpuvm_resv_opts *opts);

/**
 * gpuvm_resv_fini() - release a reservation's internal state.
 * @resv: the reservation.
 *
 * Returns: 0, or -EBUSY while some thread holds it (nothing changed),
 * -EINVAL (@resv NULL).
 *
 * Context: Any context but the fence-signalling section.
 */
GPUVM_EXPORT int gpuvm_resv_fini(struct gpuvm_resv *resv);

/**
 * gpuvm_resv_lock() - take a reservation, blocking until it is free.
 * @resv: the reservation.
 *
 * Returns: 0, or
 * -EDEADLK: the calling thread holds it already (not taken twice);
 * -EINVAL: @resv NULL;
 * or the error of the caller's @lock callback (not held).
 *
 * Context: Process context; blocks. Never in a fence-signalling section
 * (debug builds abort): the holder may be waiting for the very fence the
 * section is about to signal. To hold several at once use gpuvm_exec.
 */
GPUVM_EXPORT int gpuvm_resv_lock(struct gpuvm_resv *resv);

/**
 * gpuvm_resv_trylock() - take a reservation if it is free.
 * @resv: the reservation.
 *
 * Returns: 0, or -EBUSY (another thread holds it), -EDEADLK (the calling
 * thread holds it), -EINVAL (@resv NULL), or the error of @resv->ops->trylock
 * other than -EBUSY (passed through; the lock is not held).
 *
 * Context: Any context; never blocks.
 */
GPUVM_EXPORT int gpuvm_resv_trylock(struct gpuvm_resv *resv);

/**
 * gpuvm_resv_unlock() - release a reservation.
 * @resv: the reservation.
 *
 * Returns: 0, or -EPERM (the calling thread does not hold it; nothing
 * changed), -EINVAL (@resv NULL).
 *
 * Context: Any context; the calling thread holds @resv.
 */
GPUVM_EXPORT int gpuvm_resv_unlock(struct gpuvm_resv *resv);

/**
 * gpuvm_resv_held() - whether the calling thread holds a reservation.
 * @resv: the reservation, or NULL (false).
 *
 * Returns: true when the calling thread holds @resv. Whether some other
 * thread holds it cannot be asked: the answer would be stale at once.
 *
 * Context: Any context.
 */
GPUVM_EXPORT bool gpuvm_resv_held(const struct gpuvm_resv *resv);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_RESV_H */
