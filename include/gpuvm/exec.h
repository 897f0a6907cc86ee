/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm_exec: lock the reservations of many buffer objects at once
 * (the kernel's drm_gpuvm_exec over drm_exec).
 *
 * A job that touches a VM needs the VM's reservation and those of the
 * objects it uses: every external object of the VM (gpuvm_exec_lock()), a
 * list of objects (gpuvm_exec_lock_array()), the objects mapped in a range
 * (gpuvm_exec_lock_range(), what an unmap touches), or the objects a map
 * request touches (gpuvm_sm_map_exec_lock()). A callback set at init may add
 * more (gpuvm_exec_lock_obj() and the gpuvm_prepare_*() helpers).
 *
 * Deadlock avoidance: trylock and back off. A locking call takes its first
 * reservation blocking, while it holds nothing, and only tries the others.
 * When one is busy it releases everything it took, waits (blocking, still
 * holding nothing) for the busy one, and starts over with it first. A
 * thread therefore never waits for a reservation while it holds one, so no
 * cycle of waiting threads can form, in whatever order threads list their
 * objects. The kernel uses wound/wait mutexes instead, whose tickets order
 * all lockers of a reservation; that needs a ticket counter shared by every
 * VM that may share a buffer object, i.e. process-global state, which
 * libgpuvm does not keep. Back-off may repeat under heavy contention (it
 * is not fair), but it never deadlocks. Contention never surfaces as an
 * error: the locking calls retry until they hold everything (unless
 * GPUVM_EXEC_TRYLOCK asks them not to wait at all).
 *
 * The rule that makes this work binds the caller too: call the locking
 * functions with no reservation held (neither taken with gpuvm_resv_lock()
 * nor by another gpuvm_exec), and without a gem's gpuva lock; a lock of the
 * caller's own that it always takes before any reservation is fine.
 *
 * Every locked object is held with a reference (gpuvm_gem_get()) until
 * gpuvm_exec_unlock(), so an object dropped by another thread meanwhile
 * (its last vm_bo put, say) cannot be freed while its reservation is held.
 *
 * Synchronization:
 *
 *   call                  | the caller holds             | signalling
 *   ----------------------+------------------------------+-----------
 *   gpuvm_exec_init       | nothing                      | yes
 *   gpuvm_exec_lock*,     | no reservation, no gpuva     | no
 *   gpuvm_sm_map_exec_lock| lock; for the range and map  |
 *                         | variants, whatever keeps the |
 *                         | tree still (see below)       |
 *   gpuvm_exec_lock_obj,  | (only inside the extra       | no
 *   gpuvm_prepare_*       | callback of a locking call)  |
 *   gpuvm_exec_unlock     | the locks of this exec (the  | no
 *                         | thread that locked unlocks)  |
 *   gpuvm_exec_fini       | nothing locked by this exec  | no (frees)
 *
 *                         | same gpuvm_exec | other gpuvm_exec, same VM
 *   any call above        |        X        |            -
 *
 * "X": the caller serializes the two (a gpuvm_exec belongs to one thread at
 * a time); "-": they may run at once, the reservations serialize them.
 *
 * What the locking calls read, and what protects it: the VM's reservation
 * is always taken before anything else is read. The extobj list is read
 * under the VM's internal list lock, or, with GPUVM_RESV_PROTECTED, under
 * the VM's reservation this very call holds. The tree (the range and map
 * variants) is read with the VM's reservation held by the call: a driver
 * that changes its tree only under the VM's reservation needs no other
 * lock; otherwise the caller serializes against changes of the tree as for
 * gpuva_range_first().
 */
#ifndef GPUVM_EXEC_H
#define GPUVM_EXEC_H

#include <gpuvm/common.h>
#include <gpuvm/vm.h>
#include <gpuvm/bo.h>
#include <gpuvm/ops.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gpuvm_exec;

/**
 * enum gpuvm_exec_flags - behaviour flags of a gpuvm_exec, set at init.
 * @GPUVM_EXEC_TRYLOCK: never wait: when an object is busy, release
 *	everything and fail with -EAGAIN instead of waiting for it (for paths
 *	that would rather skip the work, as a shrinker does).
 */
enum gpuvm_exec_flags {
	GPUVM_EXEC_TRYLOCK = 1u << 0,
};

/**
 * struct gpuvm_exec_opts - arguments of gpuvm_exec_init().
 * @sz: sizeof(struct gpuvm_exec_opts), set by GPUVM_OPTS().
 * @vm: the VM; it must outlive the gpuvm_exec (no reference is taken). Its
 *	allocator holds the locked set.
 * @flags: &enum gpuvm_exec_flags; unknown bits are -EINVAL.
 * @extra: optional: called by every locking call once the call's own
 *	objects are locked, to lock more with gpuvm_exec_lock_obj() and the
 *	gpuvm_prepare_*() helpers (the kernel's drm_gpuvm_exec.extra). It must
 *	pass their -EDEADLK back as its return value (the call then backs off
 *	and starts over, calling it again), must not wait for a reservation
 *	itself, and returns 0 or a negative errno (the call then fails with
 *	it, nothing locked; a -EDEADLK it returns while nothing was found
 *	busy is its own error and is returned as is). It runs with every
 *	reservation locked so far held.
 * @priv: passed to @extra.
 */
struct gpuvm_exec_opts {
	size_t sz;
	struct gpuvm *vm;
	uint32_t flags;
	int (*extra)(struct gpuvm_exec *exec, void *priv);
	void *priv;
};

/**
 * struct gpuvm_exec - a set of locked reservations; embed it or keep it on
 * the stack.
 * @vm: the VM (from the opts).
 * @flags: &enum gpuvm_exec_flags.
 * @extra: see &struct gpuvm_exec_opts.
 * @priv: see &struct gpuvm_exec_opts.
 * @num_objects: read-only: the number of objects locked, one per
 *	reservation; 0 when nothing is locked.
 * @objects: read-only: the locked objects, in lock order (iterate with
 *	gpuvm_exec_for_each_locked_object()). Of objects that share a
 *	reservation only the first one met is listed.
 * @backoffs: read-only: how many times a locking call found an object busy,
 *	released everything and started over (statistics; never reset).
 * @resvs_: private: the reservation of each entry of @objects, as locked.
 * @slots_: private: hash of @resvs_ for duplicate detection.
 * @cap_: private: capacity of @objects (the storage lives until fini).
 * @state_: private: idle, locking, or locked.
 * @contended_: private: the busy object to wait for first (referenced).
 */
struct gpuvm_exec {
	struct gpuvm *vm;
	uint32_t flags;
	int (*extra)(struct gpuvm_exec *exec, void *priv);
	void *priv;
	unsigned int num_objects;
	struct gpuvm_gem **objects;
	unsigned long backoffs;
	struct gpuvm_resv **resvs_;
	uint32_t *slots_;
	unsigned int cap_;
	unsigned int state_;
	struct gpuvm_gem *contended_;
};

/*
 * Iterate over the objects @exec holds locked, in lock order, e.g. to add a
 * fence to each one's reservation (the kernel's
 * drm_exec_for_each_locked_object()). @index is an unsigned int.
 */
#define gpuvm_exec_for_each_locked_object(exec, index, obj)                    \
	for ((index) = 0; (index) < (exec)->num_objects &&                     \
			  ((obj) = (exec)->objects[(index)], 1);               \
	     (index)++)

/**
 * gpuvm_exec_init() - initialize a gpuvm_exec.
 * @exec: the gpuvm_exec; its previous content is ignored.
 * @opts: the arguments, see &struct gpuvm_exec_opts.
 *
 * Allocates nothing: the locked set's storage is allocated by the first
 * locking call and kept, for the next ones, until gpuvm_exec_fini().
 *
 * Returns: 0, or -EINVAL (@exec or @opts NULL, @opts->sz too small or its
 * unknown tail not zero, @opts->vm NULL, unknown flags). On error @exec is
 * left untouched.
 *
 * Context: Any context.
 */
GPUVM_EXPORT int gpuvm_exec_init(struct gpuvm_exec *exec,
				 const struct gpuvm_exec_opts *opts);

/**
 * gpuvm_exec_fini() - release a gpuvm_exec's storage.
 * @exec: the gpuvm_exec.
 *
 * Returns: 0, or -EBUSY (@exec is in the locked state: a locking call
 * succeeded, even one that had nothing to lock, and gpuvm_exec_unlock() was
 * not called yet; nothing changed), -EINVAL (@exec NULL).
 *
 * Context: Process context, not in the fence-signalling section (it frees;
 * debug builds abort there); @exec is not locked.
 */
GPUVM_EXPORT int gpuvm_exec_fini(struct gpuvm_exec *exec);

/**
 * gpuvm_exec_lock() - lock the VM's reservation and every external
 * object's (the kernel's drm_gpuvm_exec_lock()).
 * @exec: the gpuvm_exec, holding nothing.
 *
 * Locks, in this order: the VM's reservation (none when the VM has no
 * r_obj or its r_obj no reservation), the reservation of every object on
 * the VM's extobj list (vm_bos released on the signalling path and not yet
 * cleaned up are skipped), then what @exec->extra adds. Each reservation is
 * locked once however many objects share it; objects without a reservation
 * are skipped. With GPUVM_RESV_PROTECTED, evicted external objects are put
 * on the VM's evict list once everything is locked (their eviction could
 * only be flagged without the VM's reservation), so gpuvm_validate() sees
 * them.
 *
 * On success every reservation is held by the calling thread until
 * gpuvm_exec_unlock(). On error nothing is locked, no reference is held and
 * the VM's extobj and evict lists are as they were.
 *
 * Returns: 0, or
 * -EINVAL: @exec NULL or not initialized;
 * -EBUSY: @exec is in the locked state already (a locking call succeeded,
 *	even one that had nothing to lock, and gpuvm_exec_unlock() was not
 *	called), or this is called from its own extra callback;
 * -ENOMEM: the locked set could not grow (the VM's allocator failed);
 * -EALREADY: the calling thread holds one of the reservations already,
 *	outside @exec (taking it again would deadlock);
 * -EAGAIN: GPUVM_EXEC_TRYLOCK and an object was busy;
 * the error of a reservation's lock callback (&struct gpuvm_resv_ops), or
 * the error the extra callback returned.
 *
 * Context: Process context; blocks and allocates. Never in a
 * fence-signalling section (debug builds abort). The calling thread holds
 * no reservation and no gpuva lock.
 */
GPUVM_EXPORT int gpuvm_exec_lock(struct gpuvm_exec *exec);

/**
 * gpuvm_exec_lock_array() - gpuvm_exec_lock(), plus an array of objects
 * (the kernel's drm_gpuvm_exec_lock_array()).
 * @exec: the gpuvm_exec, holding nothing.
 * @objs: the objects; duplicates and objects sharing a reservation are
 *	locked once, objects without a reservation are skipped. The caller
 *	holds a reference on each for the duration of the call.
 * @num_objs: the number of entries of @objs; may be 0 (then @objs may be
 *	NULL).
 *
 * The array's objects are locked after the external objects and before
 * what the extra callback adds.
 *
 * Returns: 0, or the errors of gpuvm_exec_lock(), and -EINVAL also for a
 * NULL @objs with @num_objs > 0 or a NULL entry (checked before anything is
 * locked).
 *
 * Context: As gpuvm_exec_lock().
 */
GPUVM_EXPORT int gpuvm_exec_lock_array(struct gpuvm_exec *exec,
				       struct gpuvm_gem *const *objs,
				       unsigned int num_objs);

/**
 * gpuvm_exec_lock_range() - lock the VM's reservation and the objects
 * mapped in a range (the kernel's drm_gpuvm_exec_lock_range(), and what
 * its drm_gpuvm_sm_unmap_exec_lock() locks).
 * @exec: the gpuvm_exec, holding nothing.
 * @addr: start of the range.
 * @range: size of the range.
 *
 * Locks the VM's reservation (unlike the kernel's, which leaves it to the
 * caller: the tree is read under it), then the reservation of the object of
 * every mapping that intersects [@addr, @addr + @range) (sparse mappings
 * have none), then what the extra callback adds. External objects mapped
 * elsewhere are not locked.
 *
 * Returns: 0, or the errors of gpuvm_exec_lock(), and -EINVAL also for a
 * range gpuvm_range_valid() refuses (checked before anything is locked).
 *
 * Context: As gpuvm_exec_lock(). The tree must not change during the call:
 * change it only under the VM's reservation, or serialize otherwise.
 */
GPUVM_EXPORT int gpuvm_exec_lock_range(struct gpuvm_exec *exec, uint64_t addr,
				       uint64_t range);

/**
 * gpuvm_sm_map_exec_lock() - lock what gpuvm_sm_map() of a request will
 * touch (the kernel's drm_gpuvm_sm_map_exec_lock(), which msm needs).
 * @exec: the gpuvm_exec, holding nothing.
 * @req: the map request, as it will be given to gpuvm_sm_map() or
 *	gpuvm_sm_map_ops_create().
 *
 * Locks the VM's reservation, the reservation of the request's object (if
 * any), and that of the object of every mapping the request will unmap or
 * split (found by the same walk gpuvm_sm_map() makes), then what the extra
 * callback adds. Unlike the kernel's, which runs inside the caller's
 * drm_exec loop, this is a complete locking call; to lock for several
 * requests at once, call gpuvm_prepare_sm_map() from the extra callback.
 *
 * Returns: 0, or the errors of gpuvm_exec_lock(), and -EINVAL also for a
 * request gpuvm_sm_map() refuses (NULL, bad @req->sz or non-zero unknown
 * tail, range refused by gpuvm_range_valid(), object range outside the
 * object; checked before anything is locked).
 *
 * Context: As gpuvm_exec_lock_range().
 */
GPUVM_EXPORT int gpuvm_sm_map_exec_lock(struct gpuvm_exec *exec,
					const struct gpuvm_map_req *req);

/**
 * gpuvm_exec_unlock() - release every reservation @exec holds, in the
 * reverse order of locking, and the references on their objects.
 * @exec: the gpuvm_exec, or NULL (then nothing happens).
 *
 * Nothing happens when @exec holds nothing. The storage is kept for the next
 * locking call; gpuvm_exec_fini() frees it.
 *
 * Context: Process context, by the thread that locked: called by another
 * thread it does nothing (debug builds abort), as that thread could release
 * none of the reservations. Not in a fence-signalling section (dropping the
 * references may free objects; debug builds abort when there is something
 * to release). Called from the extra callback it does nothing (the locking
 * call owns the set then).
 */
GPUVM_EXPORT void gpuvm_exec_unlock(struct gpuvm_exec *exec);

/**
 * gpuvm_exec_lock_obj() - from the extra callback: lock one more object
 * (the kernel's drm_exec_lock_obj()).
 * @exec: the gpuvm_exec whose locking call runs the callback.
 * @obj: the object.
 *
 * Never waits: a busy object makes it return -EDEADLK, which the callback
 * must return; the locking call then releases everything, waits for that
 * object and calls the callback again.
 *
 * Returns: 0 (locked now, locked already by this exec, or the object has
 * no reservation), or
 * -EDEADLK: the object is busy; return it from the callback;
 * -EINVAL: NULL argument, or not called from @exec's extra callback;
 * -ENOMEM, -EALREADY, or a reservation callback's error, as for
 *	gpuvm_exec_lock(); return them from the callback too.
 *
 * Context: Only inside @exec's extra callback.
 */
GPUVM_EXPORT int gpuvm_exec_lock_obj(struct gpuvm_exec *exec,
				     struct gpuvm_gem *obj);

/**
 * gpuvm_prepare_objects() - from the extra callback: lock every external
 * object of @exec's VM (the kernel's drm_gpuvm_prepare_objects()), as
 * gpuvm_exec_lock() does; useful with the range and map variants.
 * @exec: the gpuvm_exec whose locking call runs the callback.
 *
 * Returns: as gpuvm_exec_lock_obj().
 *
 * Context: Only inside @exec's extra callback.
 */
GPUVM_EXPORT int gpuvm_prepare_objects(struct gpuvm_exec *exec);

/**
 * gpuvm_prepare_range() - from the extra callback: lock the objects mapped
 * in a range (the kernel's drm_gpuvm_prepare_range()), as
 * gpuvm_exec_lock_range() does.
 * @exec: the gpuvm_exec whose locking call runs the callback.
 * @addr: start of the range.
 * @range: size of the range.
 *
 * Returns: as gpuvm_exec_lock_obj(), and -EINVAL also for a range
 * gpuvm_range_valid() refuses.
 *
 * Context: Only inside @exec's extra callback; the tree does not change.
 */
GPUVM_EXPORT int gpuvm_prepare_range(struct gpuvm_exec *exec, uint64_t addr,
				     uint64_t range);

/**
 * gpuvm_prepare_sm_map() - from the extra callback: lock what gpuvm_sm_map()
 * of @req will touch, as gpuvm_sm_map_exec_lock() does (the kernel's
 * drm_gpuvm_sm_map_exec_lock() is this one: it runs inside a locking loop).
 * @exec: the gpuvm_exec whose locking call runs the callback.
 * @req: the map request.
 *
 * Returns: as gpuvm_exec_lock_obj(), and -EINVAL also for a request
 * gpuvm_sm_map() refuses.
 *
 * Context: Only inside @exec's extra callback; the tree does not change.
 */
GPUVM_EXPORT int gpuvm_prepare_sm_map(struct gpuvm_exec *exec,
				      const struct gpuvm_map_req *req);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_EXEC_H */
