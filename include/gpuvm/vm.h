/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm: one GPU virtual address space.
 *
 * A VM covers [start, start + range) and may carve out a reserved region
 * that nothing can be mapped over (the kernel's kernel_alloc_node). It owns
 * the index of its mappings (struct gpuva), is reference counted, and takes
 * all its memory through the allocator hooks given at init. It also keeps
 * the list of its external objects' vm_bos, the list of its evicted vm_bos,
 * and the stack of vm_bos released on the fence-signalling path.
 *
 * Synchronization of the tree (docs/locking.md has the whole picture):
 *
 *                     | insert/ | find/   | sm_map,  | *_ops_create, gpuva_ops_free,
 *                     | remove  | iterate | sm_unmap | gpuvm_index_reserve/unreserve/trim
 *   insert/remove     |    X    |    X    |    X     |    X
 *   find/iterate      |    X    |    -    |    -     |    -
 *   sm_map, sm_unmap  |    X    |    -    |    -     |    -
 *   *_ops_create, ... |    X    |    -    |    -     |    X
 *
 * "X": the caller must serialize the two (one lock around the VM's tree, as
 * the kernel's drivers do with their VM lock); "-": they may run at once.
 * The walk of sm_map/sm_unmap only reads (what its callbacks do is theirs);
 * list mode also reserves index nodes in the VM's node cache, so two list
 * creations (or a creation and a free) on one VM are serialized too.
 * Linking or unlinking a mapping that is inserted counts as a change of the
 * tree too (debug builds check the links after every change).
 *
 * The other state of a VM:
 *
 *   state               | protected by
 *   --------------------+-----------------------------------------------
 *   extobj, evict lists | an internal mutex each; with GPUVM_RESV_PROTECTED
 *                       | the VM's reservation, held by the caller
 *   deferred stack      | nothing: lock-free (liburcu's cds_lfs), pushed
 *                       | from the signalling path, emptied by
 *                       | gpuvm_bo_deferred_cleanup()
 *   reference count     | atomic
 *
 * gpuvm_bo_deferred_cleanup(), gpuvm_validate(), gpuvm_bo_extobj_add() and
 * gpuvm_bo_evict() may run at once with each other and with the puts of
 * other threads when each holds what its documentation asks for.
 */
#ifndef GPUVM_VM_H
#define GPUVM_VM_H

#include <gpuvm/common.h>
#include <gpuvm/bo.h>
#include <gpuvm/resv.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gpuvm;
struct gpuvm_ops;
struct gpuvm_gem;

/**
 * enum gpuvm_flags - behaviour flags of a VM, set at init.
 * @GPUVM_RESV_PROTECTED: the extobj and evict lists are protected by the
 *	VM's reservation instead of an internal lock (kernel:
 *	DRM_GPUVM_RESV_PROTECTED).
 * @GPUVM_IMMEDIATE_MODE: the tree is changed from the fence-signalling path;
 *	the gem's lock protects its vm_bo list, and the deferred functions are
 *	available (kernel: DRM_GPUVM_IMMEDIATE_MODE).
 * @GPUVM_USERBITS: first bit a driver may use for its own flags.
 */
enum gpuvm_flags {
	GPUVM_RESV_PROTECTED = 1u << 0,
	GPUVM_IMMEDIATE_MODE = 1u << 1,
	GPUVM_USERBITS = 1u << 16,
};

/**
 * struct gpuvm_va_index - private: the cache-friendly index of a VM's
 * mappings (a B+tree keyed by start address, lib/index.c). Fields are not
 * part of the API.
 */
struct gpuvm_va_index {
	void *root;
	size_t count;      /* mappings in the tree */
	size_t nodes;      /* nodes in the tree */
	void *cache;       /* free nodes kept for inserts that may not allocate */
	size_t ncache;
	size_t reserved;   /* inserts promised cached nodes (op lists, reserve) */
	uint32_t height;   /* 0 when empty, 1 when the root is a leaf */
	uint32_t pad_;
	uint64_t seq;      /* bumped on every structural change */
	void *finger;      /* leaf of the last write, see lib/index.c */
	uint64_t finger_lo, finger_hi;
};

/**
 * struct gpuvm - a GPU VA space; embed it in the driver's VM struct.
 * @name: name for messages, not copied (must outlive the VM); may be NULL.
 * @flags: &enum gpuvm_flags.
 * @mm_start: first address of the VA space.
 * @mm_range: size of the VA space; the space is [mm_start, mm_start+mm_range).
 * @reserve_addr: start of the reserved region.
 * @reserve_range: size of the reserved region, 0 for none.
 * @ops: the driver's callbacks; may be NULL when no callback is needed.
 * @alloc: allocator hooks, copied at init.
 * @refcount: private; use gpuvm_get()/gpuvm_put().
 * @r_obj: the object whose reservation is the VM's (may be NULL).
 * @index: private.
 * @extobj.list: the vm_bos of external objects (gpuvm_bo_extobj_add()).
 * @extobj.lock: private: protects @extobj.list without RESV_PROTECTED.
 * @extobj.walk_: private: one walker of @extobj.list at a time.
 * @evict.list: the evicted vm_bos (gpuvm_bo_evict()).
 * @evict.lock: private: protects @evict.list without RESV_PROTECTED.
 * @evict.walk_: private: one walker of @evict.list at a time.
 * @bo_defer: private: the deferred vm_bo cleanup stack (a liburcu
 *	struct __cds_lfs_stack in lib/defer.c).
 *
 * Walk @extobj.list and @evict.list only through the library (gpuvm_exec,
 * gpuvm_validate()): they may hold zombies, and walkers park entries on a
 * private list while they work.
 */
struct gpuvm {
	const char *name;
	uint32_t flags;
	unsigned int refcount;
	uint64_t mm_start;
	uint64_t mm_range;
	uint64_t reserve_addr;
	uint64_t reserve_range;
	const struct gpuvm_ops *ops;
	struct gpuvm_allocator alloc;
	struct gpuvm_gem *r_obj;
	struct gpuvm_va_index index;
	struct {
		struct gpuvm_list list;
		pthread_mutex_t lock;
		pthread_mutex_t walk_;
	} extobj, evict;
	struct {
		void *head_;
	} bo_defer;
};

/**
 * gpuvm_resv() - the VM's reservation.
 * @vm: the VM.
 *
 * Returns: the reservation of @vm->r_obj, or NULL when the VM has none.
 *
 * Context: Any context.
 */
static inline struct gpuvm_resv *gpuvm_resv(const struct gpuvm *vm)
{
	return vm->r_obj ? vm->r_obj->resv : NULL;
}

/**
 * gpuvm_is_extobj() - whether an object is external to a VM: its
 * reservation is not the VM's.
 * @vm: the VM.
 * @obj: the object, or NULL (false).
 *
 * Context: Any context.
 */
static inline bool gpuvm_is_extobj(const struct gpuvm *vm,
				   const struct gpuvm_gem *obj)
{
	return obj && obj->resv != gpuvm_resv(vm);
}

/**
 * gpuvm_immediate_mode() - whether the VM has GPUVM_IMMEDIATE_MODE.
 * @vm: the VM.
 *
 * Context: Any context.
 */
static inline bool gpuvm_immediate_mode(const struct gpuvm *vm)
{
	return (vm->flags & GPUVM_IMMEDIATE_MODE) != 0;
}

/**
 * gpuvm_resv_protected() - whether the VM has GPUVM_RESV_PROTECTED.
 * @vm: the VM.
 *
 * Context: Any context.
 */
static inline bool gpuvm_resv_protected(const struct gpuvm *vm)
{
	return (vm->flags & GPUVM_RESV_PROTECTED) != 0;
}

/**
 * struct gpuvm_init_opts - arguments of gpuvm_init().
 * @sz: sizeof(struct gpuvm_init_opts), set by GPUVM_OPTS().
 * @name: see &struct gpuvm.
 * @flags: &enum gpuvm_flags; unknown bits below GPUVM_USERBITS are -EINVAL.
 * @start: first address of the VA space.
 * @range: size of the VA space; start + range must not exceed 2^64 - 1.
 *	A range of 0 gives an empty space in which nothing can be mapped.
 * @reserve_addr: start of the reserved region.
 * @reserve_range: size of the reserved region, 0 for none; reserve_addr +
 *	reserve_range must not exceed 2^64 - 1. It may lie partly or wholly
 *	outside the VA space, where it has no effect (as in the kernel).
 * @ops: callbacks; may be NULL. Must outlive the VM.
 * @alloc: allocator hooks, or NULL for the C library's.
 * @r_obj: the object whose reservation is the VM's, or NULL. The VM takes
 *	no reference on it: it must outlive the VM. GPUVM_RESV_PROTECTED needs
 *	one with a reservation.
 */
struct gpuvm_init_opts {
	size_t sz;
	const char *name;
	uint32_t flags;
	uint64_t start;
	uint64_t range;
	uint64_t reserve_addr;
	uint64_t reserve_range;
	const struct gpuvm_ops *ops;
	const struct gpuvm_allocator *alloc;
	struct gpuvm_gem *r_obj;
};

/**
 * gpuvm_init() - initialize an embedded VM.
 * @vm: the VM to initialize; its previous content is ignored.
 * @opts: the arguments, see &struct gpuvm_init_opts.
 *
 * The VM starts with one reference, owned by the caller.
 *
 * Returns: 0, or
 * -EINVAL: @vm or @opts is NULL, @opts->sz is too small or its unknown tail
 *	is not zero, unknown flags, start + range or reserve_addr +
 *	reserve_range does not fit in 64 bits (a sum of exactly 2^64
 *	included), an allocator with only one of its hooks, or an ops table
 *	whose @sz is too small or has an unknown non-zero tail, or that sets
 *	only one of op_alloc/op_free or of vm_bo_alloc/vm_bo_free,
 *	GPUVM_RESV_PROTECTED without an @r_obj that has a reservation;
 * or a negative errno from pthread_mutex_init().
 * On -EINVAL @vm is left untouched.
 *
 * Context: Process context; does not allocate.
 */
GPUVM_EXPORT int gpuvm_init(struct gpuvm *vm, const struct gpuvm_init_opts *opts);

/**
 * gpuvm_fini() - release what the VM holds internally.
 * @vm: the VM.
 *
 * Frees the index and the node cache and destroys the internal mutexes. The
 * VM must hold no mapping, no vm_bo on its extobj or evict list, and no
 * vm_bo waiting for the deferred cleanup.
 *
 * Returns: 0, or
 * -EBUSY: mappings are still inserted, vm_bos are on the extobj or evict
 *	list, or released vm_bos are queued for gpuvm_bo_deferred_cleanup()
 *	(nothing is released; the kernel warns and leaks here instead).
 * -EINVAL: @vm is NULL.
 *
 * Context: Process context; frees memory, not on the fence-signalling path.
 */
GPUVM_EXPORT int gpuvm_fini(struct gpuvm *vm);

/**
 * gpuvm_get() - take a reference on the VM.
 * @vm: the VM, or NULL.
 *
 * The caller holds a reference already: a VM whose count dropped to 0 was
 * released and cannot be revived (debug builds abort with a message naming
 * the VM).
 *
 * Returns: @vm.
 *
 * Context: Any context.
 */
GPUVM_EXPORT struct gpuvm *gpuvm_get(struct gpuvm *vm);

/**
 * gpuvm_put() - drop a reference on the VM.
 * @vm: the VM, or NULL (then nothing happens).
 *
 * On the last reference the VM is released: with ops->vm_free set, that
 * callback is called and must call gpuvm_fini() and free the embedding
 * struct; without it, gpuvm_fini() is called and the memory stays the
 * caller's. Inserted mappings hold no reference on the VM (the kernel's
 * do; see docs/porting.md): remove them before the last put. Without vm_free, a last put
 * with mappings still inserted cannot release the VM; it prints one line
 * to stderr naming the VM and leaves it as it is (the kernel warns too).
 * A put without a reference to drop (the count is 0 already) is a bug of the
 * caller that release builds do not detect; debug builds abort with a
 * message naming the VM.
 *
 * Context: Process context when it may be the last reference; never in a
 * fence-signalling section (it may free the VM; debug builds abort).
 */
GPUVM_EXPORT void gpuvm_put(struct gpuvm *vm);

/**
 * gpuvm_bo_deferred_cleanup() - free the vm_bos released on the
 * fence-signalling path.
 * @vm: the VM, in immediate mode.
 *
 * Takes every zombie off the VM's deferred stack at once (puts may go on
 * meanwhile; their zombies wait for the next call). With
 * GPUVM_RESV_PROTECTED the zombies are still on the extobj and evict lists:
 * the VM's reservation is taken (unless the calling thread holds it) to
 * unlink them. Then each is freed (ops->vm_bo_free or the allocator) and its
 * references on the VM and the object are dropped, which may free those.
 * Several threads may call it at once. Do not use @vm afterwards unless you
 * hold a reference of your own: the last vm_bo may drop the VM's last one.
 *
 * Returns: the number of vm_bos freed (0 or more), or -EINVAL (@vm NULL),
 * -EOPNOTSUPP (not in immediate mode; debug builds abort instead), or the error
 * of locking the VM's reservation (nothing was taken off the stack).
 *
 * Context: Process context; frees and may block on the VM's reservation,
 * never in a fence-signalling section (debug builds abort). Not under a
 * gem's gpuva lock.
 */
GPUVM_EXPORT int gpuvm_bo_deferred_cleanup(struct gpuvm *vm);

/**
 * gpuvm_validate() - call ops->vm_bo_validate for every evicted vm_bo.
 * @vm: the VM.
 * @priv: passed to the callback.
 *
 * Walks the VM's evict list, skipping zombies, holding a reference on the
 * vm_bo the callback gets; a vm_bo that is no longer flagged evicted when
 * the callback returns is taken off the list, and one that is on the list
 * without the flag (an external object of a GPUVM_RESV_PROTECTED VM
 * un-evicted since) is taken off without a call. Without GPUVM_RESV_PROTECTED
 * the internal list mutex is not held during the callback, so the callback
 * may evict and un-evict objects, and puts may go on in other threads. One
 * walk of a list runs at a time (a second one waits).
 *
 * Returns: 0, the callback's first error (at once), or -EINVAL (@vm NULL),
 * -EOPNOTSUPP (no vm_bo_validate callback), -EPERM (GPUVM_RESV_PROTECTED and
 * the calling thread does not hold the VM's reservation).
 *
 * Context: Process context, never in a fence-signalling section (debug
 * builds abort). The caller holds the reservations of the objects that may
 * be on the list (gpuvm_exec_lock()), as the callback needs them; with
 * GPUVM_RESV_PROTECTED at least the VM's. Not under a gem's gpuva lock, and
 * not from inside a walk of the same list (a vm_bo_validate callback must not
 * call it).
 */
GPUVM_EXPORT int gpuvm_validate(struct gpuvm *vm, void *priv);

/**
 * gpuvm_range_valid() - whether a range can be mapped in the VM.
 * @vm: the VM.
 * @addr: start of the range.
 * @range: size of the range.
 *
 * Returns: true when @range is not 0, @addr + @range does not overflow 64
 * bits (a sum of exactly 2^64 counts as overflow), the range lies inside the
 * VA space and does not intersect the reserved region (touching it is fine).
 * The kernel accepts a zero range here; libgpuvm does not (docs/porting.md).
 *
 * Context: Any context.
 */
GPUVM_EXPORT bool gpuvm_range_valid(const struct gpuvm *vm, uint64_t addr,
				    uint64_t range);

/**
 * gpuvm_interval_empty() - whether no mapping intersects a range.
 * @vm: the VM.
 * @addr: start of the range.
 * @range: size of the range; 0 gives true.
 *
 * Returns: true when no mapping intersects [addr, addr + range). The range is
 * clamped to 2^64 - 1 when the sum overflows.
 *
 * Context: Any context; the caller serializes against changes of the tree.
 */
GPUVM_EXPORT bool gpuvm_interval_empty(const struct gpuvm *vm, uint64_t addr,
				       uint64_t range);

/**
 * gpuvm_index_reserve() - keep index nodes for inserts that must not
 * allocate.
 * @vm: the VM.
 * @inserts: number of mappings the caller will insert with the apply helpers
 *	(gpuva_map(), gpuva_remap()).
 *
 * The B+tree index allocates a node when an insert splits one. A callback-
 * mode driver that applies ops where it may not allocate (the fence-
 * signalling path) reserves nodes first; list mode does this by itself for
 * each op list it creates. One sm_map needs at most 3 inserts, one sm_unmap
 * at most 2. Release with gpuvm_index_unreserve() when done.
 *
 * Returns: 0, or -ENOMEM (nothing reserved), -EINVAL (@vm NULL).
 *
 * Context: Process context; may allocate, so never in a fence-signalling
 * section (debug builds abort): reserve before entering it.
 */
GPUVM_EXPORT int gpuvm_index_reserve(struct gpuvm *vm, unsigned int inserts);

/**
 * gpuvm_index_unreserve() - give back what gpuvm_index_reserve() kept.
 * @vm: the VM.
 * @inserts: the same number as given to gpuvm_index_reserve().
 *
 * The nodes stay cached for later inserts; gpuvm_index_trim() frees them.
 *
 * Context: Any context; does not allocate or free.
 */
GPUVM_EXPORT void gpuvm_index_unreserve(struct gpuvm *vm, unsigned int inserts);

/**
 * gpuvm_index_trim() - free cached index nodes nobody has reserved.
 * @vm: the VM.
 *
 * Removals never free memory (they may run on the fence-signalling path);
 * the nodes they release are cached. This frees the cache down to what is
 * reserved. List-mode creators call it too.
 *
 * Context: Process context; frees memory.
 */
GPUVM_EXPORT void gpuvm_index_trim(struct gpuvm *vm);

/**
 * struct gpuvm_stats - figures of a VM, for tools and benchmarks.
 * @sz: sizeof(struct gpuvm_stats), set by the caller.
 * @mappings: mappings in the index.
 * @index_nodes: nodes in the index.
 * @index_bytes: bytes of those nodes.
 * @cached_nodes: free nodes kept in the cache.
 * @cached_bytes: bytes of those.
 * @height: height of the index (0 when empty).
 */
struct gpuvm_stats {
	size_t sz;
	size_t mappings;
	size_t index_nodes;
	size_t index_bytes;
	size_t cached_nodes;
	size_t cached_bytes;
	unsigned int height;
};

/**
 * gpuvm_stats() - fill @out with the figures of @vm.
 * @vm: the VM.
 * @out: the figures; @out->sz must be set.
 *
 * Returns: 0, or -EINVAL (NULL argument, @out->sz too small).
 *
 * Context: Any context; the caller serializes against changes of the tree.
 */
GPUVM_EXPORT int gpuvm_stats(const struct gpuvm *vm, struct gpuvm_stats *out);

/**
 * gpuvm_verify() - check every invariant of the VM's structure.
 * @vm: the VM.
 *
 * Checks that the index is ordered and balanced and that its counts are
 * right, that no two mappings overlap, that every mapping is inside the VA
 * space and outside the reserved region and points back to @vm, and that
 * every linked mapping is on its vm_bo's list with a vm_bo of this VM, and
 * that each such vm_bo has at least one reference per linked mapping. The
 * vm_bo checks are made only where they cannot race: in immediate mode under
 * the gem's gpuva lock (tried, never waited for), else when the calling
 * thread holds the gem's reservation or the gem has none. The extobj and
 * evict lists are checked (entries of this VM, external objects on the
 * extobj list) when their lock is free. Debug builds run it after every
 * mutation.
 *
 * Returns: 0, or -EUCLEAN with a message on stderr naming what is broken,
 * or -EINVAL (@vm NULL).
 *
 * Context: Any context but the fence-signalling path (it is O(n)).
 */
GPUVM_EXPORT int gpuvm_verify(const struct gpuvm *vm);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_VM_H */
