/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm_gem: the embeddable base of a buffer object (the kernel's
 * drm_gem_object, as far as GPUVM uses it), and struct gpuvm_bo: the
 * (VM, buffer object) pair, the kernel's drm_gpuvm_bo or "vm_bo".
 *
 * A gem holds the list of its vm_bos, one per VM that maps it. A vm_bo
 * holds a reference on its VM and on its gem, and the list of the mappings
 * (struct gpuva) that map the gem in that VM, in the order they were linked.
 * Each linked mapping holds a reference on its vm_bo.
 *
 * Synchronization. "The gem's list lock" protects the gem's vm_bo list and
 * the mapping lists of its vm_bos:
 * - in a VM with GPUVM_IMMEDIATE_MODE: the gem's gpuva lock
 *   (gpuvm_gem_gpuva_lock()), because the fence-signalling path unlinks
 *   mappings and may not take a reservation;
 * - otherwise: the gem's reservation, or the caller's own serialization for a
 *   gem without one.
 * A VM's extobj and evict lists are protected by an internal mutex of the
 * VM, or by the VM's reservation with GPUVM_RESV_PROTECTED. A vm_bo's
 * reference count is atomic. Lock order: reservations (gpuvm_exec), then
 * the VM's extobj/evict walk mutexes (held by gpuvm_validate() and other
 * walks of those lists), then a gem's gpuva lock, then the VM's internal
 * list mutexes (never held by a caller). docs/locking.md has the details.
 *
 *   call                       | the caller holds               | signalling
 *   ---------------------------+--------------------------------+-----------
 *   gpuvm_bo_create            | nothing                        | no
 *   gpuvm_bo_find              | the gem's list lock            | yes
 *   gpuvm_bo_obtain_locked     | the gem's list lock            | no
 *   gpuvm_bo_obtain_prealloc   | nothing (takes the gpuva lock) | no
 *   gpuvm_bo_obtain            | immediate: nothing; else the   | no
 *                              | gem's list lock                |
 *   gpuvm_bo_get               | a reference, or the list lock  | yes
 *   gpuvm_bo_put               | if it may be the last: the     | no
 *                              | gem's list lock, and the VM's  |
 *                              | resv with RESV_PROTECTED       |
 *   gpuvm_bo_put_deferred      | nothing (takes the gpuva lock) | yes
 *   gpuvm_bo_deferred_cleanup  | nothing (takes the VM's resv   | no
 *                              | with RESV_PROTECTED)           |
 *   gpuva_link, gpuva_unlink   | the gem's list lock            | link only
 *   gpuva_unlink_defer         | nothing (takes the gpuva lock) | yes
 *   gpuvm_bo_extobj_add        | the VM's resv w/ RESV_PROTECTED| yes
 *   gpuvm_bo_evict             | the gem's resv (if it has one) | yes
 *   gpuvm_bo_gem_evict         | the gem's resv (if it has one) | yes
 *   gpuvm_validate             | see gpuvm_validate() in vm.h   | no
 *
 * Two calls on the same gem may run at once when each holds what its row
 * says; the puts and gets of other threads may run at any time. Nothing here
 * is safe against the structures being freed under it: a vm_bo is used only
 * by whoever holds a reference (or the list lock it is on).
 */
#ifndef GPUVM_BO_H
#define GPUVM_BO_H

#include <gpuvm/common.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gpuvm;
struct gpuvm_gem;
struct gpuvm_bo;
struct gpuvm_resv;

/**
 * struct gpuvm_gem_funcs - callbacks of a buffer object.
 * @free: called when the last reference is dropped; must call
 *	gpuvm_gem_fini() and free the embedding struct. May be NULL, then the
 *	memory stays the caller's.
 * @gpuva_lock: take the caller's own lock instead of the built-in mutex for
 *	the gem's gpuva lock; 0 or a negative errno (then not held). May be
 *	NULL.
 * @gpuva_unlock: release what @gpuva_lock took. Both or neither.
 *
 * The gpuva lock is taken on the fence-signalling path: the caller's lock
 * must never be held while waiting for a fence or allocating.
 */
struct gpuvm_gem_funcs {
	void (*free)(struct gpuvm_gem *obj);
	int (*gpuva_lock)(struct gpuvm_gem *obj);
	void (*gpuva_unlock)(struct gpuvm_gem *obj);
};

/**
 * struct gpuvm_gem - base of a buffer object; embed it in the driver's BO.
 * @size: size of the object in bytes; mappings must fit in it.
 * @refcount: private; use gpuvm_gem_get()/gpuvm_gem_put().
 * @funcs: callbacks, may be NULL.
 * @resv: the object's reservation, or NULL. Objects local to a VM share the
 *	VM's (its r_obj's); any other is an external object of that VM.
 * @gpuva.list: the vm_bos of this object, one per VM.
 * @gpuva.lock: the gpuva lock's built-in mutex; use gpuvm_gem_gpuva_lock().
 *	It protects @gpuva.list in immediate mode.
 * @gpuva.owner_: private: the thread holding the gpuva lock.
 * @gpuva.held_: private: 1 while the gpuva lock is held (atomic).
 */
struct gpuvm_gem {
	uint64_t size;
	unsigned int refcount;
	const struct gpuvm_gem_funcs *funcs;
	struct gpuvm_resv *resv;
	struct {
		struct gpuvm_list list;
		pthread_mutex_t lock;
		pthread_t owner_;
		unsigned int held_;
	} gpuva;
};

/**
 * struct gpuvm_gem_opts - arguments of gpuvm_gem_init().
 * @sz: sizeof(struct gpuvm_gem_opts).
 * @size: size of the object in bytes (0 is allowed: nothing can be mapped
 *	from such an object).
 * @funcs: callbacks, may be NULL; must outlive the object.
 * @resv: the object's reservation, or NULL.
 */
struct gpuvm_gem_opts {
	size_t sz;
	uint64_t size;
	const struct gpuvm_gem_funcs *funcs;
	struct gpuvm_resv *resv;
};

/**
 * gpuvm_gem_init() - initialize an embedded buffer object base.
 * @obj: the object.
 * @opts: the arguments.
 *
 * The object starts with one reference, owned by the caller.
 *
 * Returns: 0, or -EINVAL (NULL argument, bad @opts->sz or non-zero unknown
 * tail, funcs with only one of gpuva_lock/gpuva_unlock), or a negative errno
 * from pthread_mutex_init().
 *
 * Context: Process context.
 */
GPUVM_EXPORT int gpuvm_gem_init(struct gpuvm_gem *obj,
				const struct gpuvm_gem_opts *opts);

/**
 * gpuvm_gem_fini() - release the object's internal state.
 * @obj: the object.
 *
 * Returns: 0, or -EBUSY when its list of vm_bos is not empty or its gpuva
 * lock is held (nothing changed), or -EINVAL (@obj NULL). A vm_bo that is
 * not on the list (created and not obtained yet, or a zombie waiting for
 * the deferred cleanup) also holds a reference on the object; the last
 * gpuvm_gem_put() cannot come before it is gone, an explicit fini can.
 *
 * Context: Process context.
 */
GPUVM_EXPORT int gpuvm_gem_fini(struct gpuvm_gem *obj);

/**
 * gpuvm_gem_get() - take a reference.
 * @obj: the object, or NULL.
 *
 * Returns: @obj.
 *
 * Context: Any context.
 */
GPUVM_EXPORT struct gpuvm_gem *gpuvm_gem_get(struct gpuvm_gem *obj);

/**
 * gpuvm_gem_put() - drop a reference; the last one calls funcs->free, or
 * gpuvm_gem_fini() when there is no free callback (the memory stays the
 * caller's).
 * @obj: the object, or NULL (then nothing happens).
 *
 * A put without a reference to drop (the count is already 0) is a bug of
 * the caller: debug builds abort naming the object; release builds do not
 * check (the count wraps).
 *
 * Context: Process context; never in a fence-signalling section (it may free
 * a buffer object; debug builds abort).
 */
GPUVM_EXPORT void gpuvm_gem_put(struct gpuvm_gem *obj);

/**
 * gpuvm_gem_gpuva_lock() - take the gem's gpuva lock.
 * @obj: the object.
 *
 * The gpuva lock protects the gem's vm_bo list (and its vm_bos' mapping
 * lists) in immediate mode, where the fence-signalling path changes them.
 * It is the built-in mutex, or funcs->gpuva_lock.
 *
 * Returns: 0, or -EDEADLK (the calling thread holds it already), -EINVAL
 * (@obj NULL), or the error of funcs->gpuva_lock.
 *
 * Context: Any context, including the fence-signalling section: whoever
 * holds it never waits for a fence, a reservation or an allocation.
 */
GPUVM_EXPORT int gpuvm_gem_gpuva_lock(struct gpuvm_gem *obj);

/**
 * gpuvm_gem_gpuva_unlock() - release the gem's gpuva lock.
 * @obj: the object.
 *
 * Returns: 0, or -EPERM (the calling thread does not hold it; nothing
 * changed), -EINVAL (@obj NULL).
 *
 * Context: Any context.
 */
GPUVM_EXPORT int gpuvm_gem_gpuva_unlock(struct gpuvm_gem *obj);

/**
 * gpuvm_gem_gpuva_lock_held() - whether the calling thread holds the gem's
 * gpuva lock.
 * @obj: the object, or NULL (false).
 *
 * Context: Any context.
 */
GPUVM_EXPORT bool gpuvm_gem_gpuva_lock_held(const struct gpuvm_gem *obj);

/**
 * struct gpuvm_bo - the (VM, buffer object) pair; embeddable through the
 * ops->vm_bo_alloc/vm_bo_free callbacks.
 * @vm: the VM (a reference is held).
 * @obj: the buffer object (a reference is held).
 * @refcount: private; use gpuvm_bo_get()/gpuvm_bo_put() (atomic). 0 means a
 *	zombie: released on the signalling path, waiting for
 *	gpuvm_bo_deferred_cleanup().
 * @evicted: whether the object is evicted in this VM; set by
 *	gpuvm_bo_evict() under the object's reservation. Read it with
 *	gpuvm_bo_evicted() when others may change it.
 * @listed_: private: set (and never cleared) the first time the vm_bo goes
 *	on the VM's extobj or evict list, under that list's lock; a vm_bo
 *	that was never on either skips their locks when it is released.
 * @list.gpuva: the mappings linked to this vm_bo, in link order.
 * @list.entry.gem: node in @obj's list of vm_bos.
 * @list.entry.extobj: node in the VM's extobj list.
 * @list.entry.evict: node in the VM's evict list.
 * @list.entry.bo_defer: private: node of the VM's deferred cleanup stack.
 */
struct gpuvm_bo {
	struct gpuvm *vm;
	struct gpuvm_gem *obj;
	unsigned int refcount;
	bool evicted;
	bool listed_;
	struct {
		struct gpuvm_list gpuva;
		struct {
			struct gpuvm_list gem;
			struct gpuvm_list extobj;
			struct gpuvm_list evict;
			struct {
				void *next_;
			} bo_defer;
		} entry;
	} list;
};

/**
 * gpuvm_bo_is_zombie() - whether a vm_bo lost its last reference and waits
 * for the deferred cleanup.
 * @vm_bo: the vm_bo.
 *
 * A zombie is off its gem's list but may still be on the VM's extobj and
 * evict lists (with GPUVM_RESV_PROTECTED, until the cleanup takes the VM's
 * reservation); whoever walks those lists skips it. Only meaningful while
 * something keeps the vm_bo from being freed: the lock of the list it is
 * on, as a walker holds.
 *
 * Context: Any context.
 */
static inline bool gpuvm_bo_is_zombie(const struct gpuvm_bo *vm_bo)
{
	return __atomic_load_n(&vm_bo->refcount, __ATOMIC_RELAXED) == 0;
}

/**
 * gpuvm_bo_evicted() - whether a vm_bo is flagged evicted.
 * @vm_bo: the vm_bo.
 *
 * Context: Any context; the answer is stable while the object's
 * reservation is held.
 */
static inline bool gpuvm_bo_evicted(const struct gpuvm_bo *vm_bo)
{
	return __atomic_load_n(&vm_bo->evicted, __ATOMIC_RELAXED);
}

/**
 * gpuvm_bo_create() - allocate a vm_bo that is not yet on its gem's list.
 * @vm: the VM.
 * @obj: the buffer object.
 * @out: receives the vm_bo with one reference.
 *
 * Uses ops->vm_bo_alloc when set, else the VM's allocator. Takes a reference
 * on @vm and @obj. Hand it to gpuvm_bo_obtain_prealloc() (immediate mode),
 * or drop it with gpuvm_bo_put() (nothing to unlink, no lock needed).
 *
 * Returns: 0, or -EINVAL (NULL argument), -ENOMEM (nothing changed).
 *
 * Context: Process context; allocates, never in a fence-signalling section
 * (debug builds abort).
 */
GPUVM_EXPORT int gpuvm_bo_create(struct gpuvm *vm, struct gpuvm_gem *obj,
				 struct gpuvm_bo **out);

/**
 * gpuvm_bo_find() - find the vm_bo of (@vm, @obj).
 * @vm: the VM.
 * @obj: the buffer object.
 *
 * Never returns a zombie: zombies are off the gem's list.
 *
 * Returns: the vm_bo with a new reference, or NULL when there is none (or an
 * argument is NULL).
 *
 * Context: Any context; the caller holds the gem's list lock (immediate
 * mode: its gpuva lock; debug builds abort otherwise).
 */
GPUVM_EXPORT struct gpuvm_bo *gpuvm_bo_find(struct gpuvm *vm,
					    struct gpuvm_gem *obj);

/**
 * gpuvm_bo_obtain_locked() - find the vm_bo of (@vm, @obj) or create it,
 * under the gem's list lock.
 * @vm: the VM, not in immediate mode.
 * @obj: the buffer object.
 * @out: receives the vm_bo with a new reference.
 *
 * A created vm_bo is appended to @obj's list of vm_bos. There is never more
 * than one vm_bo per (VM, object).
 *
 * Returns: 0, or
 * -EINVAL: NULL argument;
 * -ENOMEM: nothing changed;
 * -EOPNOTSUPP: @vm is in immediate mode, where the list lock is the gpuva
 *	lock and allocating under it is not allowed (use
 *	gpuvm_bo_obtain_prealloc() or gpuvm_bo_obtain()); debug builds abort
 *	instead.
 *
 * Context: Process context; allocates. The caller holds the gem's
 * reservation, or serializes the gem's list itself when it has none.
 */
GPUVM_EXPORT int gpuvm_bo_obtain_locked(struct gpuvm *vm, struct gpuvm_gem *obj,
					struct gpuvm_bo **out);

/**
 * gpuvm_bo_obtain_prealloc() - immediate mode: use a vm_bo allocated
 * beforehand, or the one that exists.
 * @prealloc: a vm_bo from gpuvm_bo_create() that is on no list, with its
 *	single reference; consumed on success. On error it is left as it was,
 *	the caller's to retry with or to drop with gpuvm_bo_put().
 * @out: receives the vm_bo of (@prealloc->vm, @prealloc->obj) with a
 *	reference: the existing one (then @prealloc is destroyed, it was never
 *	visible), or @prealloc, now on the gem's list.
 *
 * Takes the gem's gpuva lock for the lookup and the insertion only; nothing
 * is allocated under it.
 *
 * Returns: 0, or -EINVAL (NULL argument, @prealloc on a list or with more
 * than one reference), -EOPNOTSUPP (not in immediate mode; debug builds
 * abort instead), -EDEADLK (the
 * calling thread holds the gpuva lock), or the error of funcs->gpuva_lock.
 *
 * Context: Process context (it may free @prealloc); not in a
 * fence-signalling section (debug builds abort). The caller does not hold
 * the gem's gpuva lock.
 */
GPUVM_EXPORT int gpuvm_bo_obtain_prealloc(struct gpuvm_bo *prealloc,
					  struct gpuvm_bo **out);

/**
 * gpuvm_bo_obtain() - find the vm_bo of (@vm, @obj) or create it.
 * @vm: the VM.
 * @obj: the buffer object.
 * @out: receives the vm_bo with a new reference.
 *
 * Not in immediate mode: gpuvm_bo_obtain_locked(). In immediate mode: a
 * lookup under the gem's gpuva lock, else a vm_bo created outside it and
 * handed to gpuvm_bo_obtain_prealloc(). There is never more than one vm_bo
 * per (VM, object).
 *
 * Returns: 0, or -EINVAL (NULL argument), -ENOMEM (nothing changed), and in
 * immediate mode the errors of gpuvm_bo_obtain_prealloc().
 *
 * Context: Process context; allocates. Not in immediate mode the caller holds
 * the gem's list lock (as for gpuvm_bo_obtain_locked()); in immediate mode
 * it does not hold the gpuva lock.
 */
GPUVM_EXPORT int gpuvm_bo_obtain(struct gpuvm *vm, struct gpuvm_gem *obj,
				 struct gpuvm_bo **out);

/**
 * gpuvm_bo_get() - take a reference on a vm_bo.
 * @vm_bo: the vm_bo, or NULL.
 *
 * Returns: @vm_bo.
 *
 * Context: Any context; the caller holds a reference or the gem's list lock
 * (a zombie cannot be revived).
 */
GPUVM_EXPORT struct gpuvm_bo *gpuvm_bo_get(struct gpuvm_bo *vm_bo);

/**
 * gpuvm_bo_put() - drop a reference on a vm_bo.
 * @vm_bo: the vm_bo, or NULL.
 *
 * The last reference removes the vm_bo from the VM's extobj and evict lists
 * and from its gem's list, frees it (with ops->vm_bo_free when set) and
 * drops its references on the VM and the gem, which may free those too.
 *
 * Returns: true when the vm_bo was freed.
 *
 * A put without a reference to drop (a zombie's count is 0) is a bug of the
 * caller: debug builds abort naming the vm_bo and its VM; release builds do
 * not check (the count wraps).
 *
 * Context: Process context when it may be the last reference: the caller
 * holds the gem's list lock (immediate mode: the gpuva lock) and, with
 * GPUVM_RESV_PROTECTED, the VM's reservation. Never in a fence-signalling
 * section (it may free a buffer object; debug builds abort): use
 * gpuvm_bo_put_deferred() there.
 */
GPUVM_EXPORT bool gpuvm_bo_put(struct gpuvm_bo *vm_bo);

/**
 * gpuvm_bo_put_deferred() - immediate mode: drop a reference, leaving the
 * release to gpuvm_bo_deferred_cleanup().
 * @vm_bo: the vm_bo.
 *
 * A reference that is not the last is dropped without a lock. The last one
 * is dropped under the gem's gpuva lock (taken here), which unlinks the
 * vm_bo from the gem's list and, without GPUVM_RESV_PROTECTED, from the VM's
 * extobj and evict lists; the vm_bo becomes a zombie and is queued on the
 * VM's lock-free deferred stack. Nothing is freed.
 *
 * Returns: 1 when this put made it a zombie, 0 when references remain, or
 * -EINVAL (@vm_bo NULL, or already a zombie), -EOPNOTSUPP (the VM is not in
 * immediate mode; debug builds abort instead), -EDEADLK (the calling
 * thread holds the gpuva lock), or the error of funcs->gpuva_lock. On error
 * the reference is not dropped.
 *
 * Context: Any context, including the fence-signalling section. The caller
 * does not hold the gem's gpuva lock.
 */
GPUVM_EXPORT int gpuvm_bo_put_deferred(struct gpuvm_bo *vm_bo);

/**
 * gpuvm_bo_extobj_add() - put a vm_bo on its VM's extobj list.
 * @vm_bo: the vm_bo.
 *
 * Only an external object (gpuvm_is_extobj()) is added, once. The list lets
 * gpuvm_exec lock every external object's reservation with the VM's.
 *
 * Returns: 0 (added, already there, or not an external object), or -EINVAL
 * (@vm_bo NULL), -EPERM (GPUVM_RESV_PROTECTED and the calling thread does
 * not hold the VM's reservation).
 *
 * Context: Any context; with GPUVM_RESV_PROTECTED the caller holds the VM's
 * reservation.
 */
GPUVM_EXPORT int gpuvm_bo_extobj_add(struct gpuvm_bo *vm_bo);

/**
 * gpuvm_bo_evict() - flag a vm_bo evicted (or not) and put it on (or take
 * it off) its VM's evict list.
 * @vm_bo: the vm_bo.
 * @evicted: the new state.
 *
 * With GPUVM_RESV_PROTECTED, an external object is only flagged: the evict
 * list is then protected by the VM's reservation, which the caller need not
 * hold; gpuvm_exec puts flagged external objects on the list once it holds
 * it (as the kernel does).
 *
 * Returns: 0, or -EINVAL (@vm_bo NULL), -EPERM (the object has a
 * reservation and the calling thread does not hold it; nothing changed).
 *
 * Context: Any context; the caller holds the object's reservation.
 */
GPUVM_EXPORT int gpuvm_bo_evict(struct gpuvm_bo *vm_bo, bool evicted);

/**
 * gpuvm_bo_gem_evict() - gpuvm_bo_evict() for every vm_bo of an object,
 * i.e. in every VM that maps it.
 * @obj: the object.
 * @evicted: the new state.
 *
 * Walks the gem's list under its gpuva lock (taken here unless the calling
 * thread holds it).
 *
 * Returns: 0, or -EINVAL (@obj NULL), -EPERM (the object has a reservation
 * and the calling thread does not hold it; nothing changed), or the error of
 * funcs->gpuva_lock.
 *
 * Context: Any context; the caller holds the object's reservation and, not
 * in immediate mode, serializes the gem's list as for gpuvm_bo_find().
 */
GPUVM_EXPORT int gpuvm_bo_gem_evict(struct gpuvm_gem *obj, bool evicted);

/*
 * Iterate over the mappings linked to @vm_bo, in link order. The _safe form
 * allows unlinking the current mapping. The caller holds the gem's list
 * lock.
 */
#define gpuvm_bo_for_each_va(va, vm_bo)                                        \
	gpuvm_list_for_each_entry(va, &(vm_bo)->list.gpuva, struct gpuva,      \
				  gem.entry)
#define gpuvm_bo_for_each_va_safe(va, next, vm_bo)                             \
	gpuvm_list_for_each_entry_safe(va, next, &(vm_bo)->list.gpuva,         \
				       struct gpuva, gem.entry)

/* Iterate over the vm_bos of a gem, one per VM, under the gem's list lock. */
#define gpuvm_gem_for_each_vm_bo(vm_bo, obj)                                   \
	gpuvm_list_for_each_entry(vm_bo, &(obj)->gpuva.list, struct gpuvm_bo,  \
				  list.entry.gem)

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_BO_H */
