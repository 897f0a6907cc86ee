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
 * Synchronization (single-threaded rules; the concurrent ones, with the
 * gem's lock and the reservations, are in docs/locking.md):
 *
 *                | obtain/find | put     | link/unlink
 *   obtain/find  |      X      |    X    |     X
 *   put          |      X      |    X    |     X
 *   link/unlink  |      X      |    X    |     X
 *
 * "X": the caller serializes the two for the same gem.
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
 */
struct gpuvm_gem_funcs {
	void (*free)(struct gpuvm_gem *obj);
};

/**
 * struct gpuvm_gem - base of a buffer object; embed it in the driver's BO.
 * @size: size of the object in bytes; mappings must fit in it.
 * @refcount: private; use gpuvm_gem_get()/gpuvm_gem_put().
 * @funcs: callbacks, may be NULL.
 * @resv: the object's reservation (next issue), or NULL.
 * @gpuva.list: the vm_bos of this object, one per VM.
 * @gpuva.lock: protects @gpuva.list in immediate mode (next issue).
 */
struct gpuvm_gem {
	uint64_t size;
	unsigned int refcount;
	const struct gpuvm_gem_funcs *funcs;
	struct gpuvm_resv *resv;
	struct {
		struct gpuvm_list list;
		pthread_mutex_t lock;
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
 * tail), or a negative errno from pthread_mutex_init().
 *
 * Context: Process context.
 */
GPUVM_EXPORT int gpuvm_gem_init(struct gpuvm_gem *obj,
				const struct gpuvm_gem_opts *opts);

/**
 * gpuvm_gem_fini() - release the object's internal state.
 * @obj: the object.
 *
 * Returns: 0, or -EBUSY when vm_bos still refer to it (nothing changed), or
 * -EINVAL (@obj NULL).
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
 * Context: Process context when it may be the last reference (it frees).
 */
GPUVM_EXPORT void gpuvm_gem_put(struct gpuvm_gem *obj);

/**
 * struct gpuvm_bo - the (VM, buffer object) pair; embeddable through the
 * ops->vm_bo_alloc/vm_bo_free callbacks.
 * @vm: the VM (a reference is held).
 * @obj: the buffer object (a reference is held).
 * @refcount: private; use gpuvm_bo_get()/gpuvm_bo_put().
 * @evicted: whether the object is evicted in this VM (next issue).
 * @list.gpuva: the mappings linked to this vm_bo, in link order.
 * @list.entry.gem: node in @obj's list of vm_bos.
 * @list.entry.extobj: node in the VM's extobj list (next issue).
 * @list.entry.evict: node in the VM's evict list (next issue).
 * @list.entry.bo_defer: node of the deferred cleanup stack (next issue).
 */
struct gpuvm_bo {
	struct gpuvm *vm;
	struct gpuvm_gem *obj;
	unsigned int refcount;
	bool evicted;
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
 * gpuvm_bo_create() - allocate a vm_bo that is not yet on its gem's list.
 * @vm: the VM.
 * @obj: the buffer object.
 * @out: receives the vm_bo with one reference.
 *
 * Uses ops->vm_bo_alloc when set, else the VM's allocator. Takes a reference
 * on @vm and @obj. Most callers want gpuvm_bo_obtain().
 *
 * Returns: 0, or -EINVAL (NULL argument), -ENOMEM (nothing changed).
 *
 * Context: Process context; allocates.
 */
GPUVM_EXPORT int gpuvm_bo_create(struct gpuvm *vm, struct gpuvm_gem *obj,
				 struct gpuvm_bo **out);

/**
 * gpuvm_bo_find() - find the vm_bo of (@vm, @obj).
 * @vm: the VM.
 * @obj: the buffer object.
 *
 * Returns: the vm_bo with a new reference, or NULL when there is none (or an
 * argument is NULL).
 *
 * Context: Process context; the caller serializes against changes of @obj's
 * vm_bo list.
 */
GPUVM_EXPORT struct gpuvm_bo *gpuvm_bo_find(struct gpuvm *vm,
					    struct gpuvm_gem *obj);

/**
 * gpuvm_bo_obtain() - find the vm_bo of (@vm, @obj) or create it.
 * @vm: the VM.
 * @obj: the buffer object.
 * @out: receives the vm_bo with a new reference.
 *
 * A created vm_bo is appended to @obj's list of vm_bos. There is never more
 * than one vm_bo per (VM, object).
 *
 * Returns: 0, or -EINVAL (NULL argument), -ENOMEM (nothing changed).
 *
 * Context: Process context; allocates.
 */
GPUVM_EXPORT int gpuvm_bo_obtain(struct gpuvm *vm, struct gpuvm_gem *obj,
				 struct gpuvm_bo **out);

/**
 * gpuvm_bo_get() - take a reference on a vm_bo.
 * @vm_bo: the vm_bo, or NULL.
 *
 * Returns: @vm_bo.
 *
 * Context: Any context.
 */
GPUVM_EXPORT struct gpuvm_bo *gpuvm_bo_get(struct gpuvm_bo *vm_bo);

/**
 * gpuvm_bo_put() - drop a reference on a vm_bo.
 * @vm_bo: the vm_bo, or NULL.
 *
 * The last reference removes the vm_bo from its gem's list, frees it (with
 * ops->vm_bo_free when set) and drops its references on the VM and the gem,
 * which may free those too.
 *
 * Returns: true when the vm_bo was freed.
 *
 * Context: Process context when it may be the last reference: it frees and
 * may free the gem; never on the fence-signalling path (see
 * gpuvm_bo_put_deferred() in the next issue).
 */
GPUVM_EXPORT bool gpuvm_bo_put(struct gpuvm_bo *vm_bo);

/*
 * Iterate over the mappings linked to @vm_bo, in link order. The _safe form
 * allows unlinking the current mapping.
 */
#define gpuvm_bo_for_each_va(va, vm_bo)                                        \
	gpuvm_list_for_each_entry(va, &(vm_bo)->list.gpuva, struct gpuva,      \
				  gem.entry)
#define gpuvm_bo_for_each_va_safe(va, next, vm_bo)                             \
	gpuvm_list_for_each_entry_safe(va, next, &(vm_bo)->list.gpuva,         \
				       struct gpuva, gem.entry)

/* Iterate over the vm_bos of a gem, one per VM. */
#define gpuvm_gem_for_each_vm_bo(vm_bo, obj)                                   \
	gpuvm_list_for_each_entry(vm_bo, &(obj)->gpuva.list, struct gpuvm_bo,  \
				  list.entry.gem)

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_BO_H */
