/* SPDX-License-Identifier: MIT */
/*
 * struct gpuva: one mapping of a GPU VA space.
 *
 * A mapping covers [va.addr, va.addr + va.range) and maps gem.obj from
 * gem.offset, or nothing (a sparse mapping, gem.obj NULL). Drivers embed it
 * in their own mapping struct (GPUVM_CONTAINER) and allocate it themselves,
 * as in the kernel; the VM's index only points to it.
 *
 * The struct is one cache line (64 bytes): where the kernel keeps both
 * gem.obj and vm_bo, libgpuvm keeps one owner word that is the gem while the
 * mapping is unlinked and the vm_bo (whose obj is the gem) once linked. Read
 * it with gpuva_gem() and gpuva_vm_bo().
 *
 * Synchronization: see include/gpuvm/vm.h (insert/remove/find/iterate) and
 * include/gpuvm/bo.h (link/unlink).
 */
#ifndef GPUVM_VA_H
#define GPUVM_VA_H

#include <gpuvm/common.h>
#include <gpuvm/vm.h>
#include <gpuvm/bo.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum gpuva_flags - flags of a mapping.
 * @GPUVA_INVALIDATED: the backing object was evicted or moved.
 * @GPUVA_SPARSE: the mapping is a sparse one (set by drivers that want it;
 *	the split/merge engine only looks at whether there is an object).
 * @GPUVA_USERBITS: first bit a driver may use.
 */
enum gpuva_flags {
	GPUVA_INVALIDATED = 1u << 0,
	GPUVA_SPARSE = 1u << 1,
	GPUVA_USERBITS = 1u << 2,
};

/**
 * struct gpuva - a mapping.
 * @vm: the VM it was last inserted in (NULL after gpuva_init()).
 * @va.addr: start address.
 * @va.range: size.
 * @gem.offset: offset into the object (carried by arithmetic for sparse
 *	mappings too, as in the kernel).
 * @gem.owner_: private: the gem, or the vm_bo with bit 0 set when linked.
 * @gem.entry: node in the vm_bo's list of mappings.
 * @flags: &enum gpuva_flags.
 * @state_: private: whether the mapping is inserted. @vm stays set after
 *	removal, as in the kernel.
 */
struct gpuva {
	struct gpuvm *vm;
	struct {
		uint64_t addr;
		uint64_t range;
	} va;
	struct {
		uint64_t offset;
		uintptr_t owner_;
		struct gpuvm_list entry;
	} gem;
	uint32_t flags;
	uint32_t state_;
};

#define GPUVA__OWNER_IS_VM_BO ((uintptr_t)1)

/**
 * gpuva_vm_bo() - the vm_bo the mapping is linked to.
 * @va: the mapping.
 *
 * Returns: the vm_bo, or NULL when the mapping is not linked.
 *
 * Context: Any context.
 */
static inline struct gpuvm_bo *gpuva_vm_bo(const struct gpuva *va)
{
	if (va->gem.owner_ & GPUVA__OWNER_IS_VM_BO)
		return (struct gpuvm_bo *)(va->gem.owner_ &
					   ~GPUVA__OWNER_IS_VM_BO);
	return NULL;
}

/**
 * gpuva_gem() - the object the mapping maps (the kernel's va->gem.obj).
 * @va: the mapping.
 *
 * Returns: the object, or NULL for a sparse mapping.
 *
 * Context: Any context.
 */
static inline struct gpuvm_gem *gpuva_gem(const struct gpuva *va)
{
	struct gpuvm_bo *vm_bo = gpuva_vm_bo(va);

	return vm_bo ? vm_bo->obj : (struct gpuvm_gem *)va->gem.owner_;
}

/**
 * gpuva_end() - first address after the mapping.
 * @va: the mapping.
 *
 * Context: Any context.
 */
static inline uint64_t gpuva_end(const struct gpuva *va)
{
	return va->va.addr + va->va.range;
}

/**
 * gpuva_init() - initialize a mapping before inserting it.
 * @va: the mapping.
 * @addr: start address.
 * @range: size.
 * @obj: the object, or NULL for a sparse mapping.
 * @offset: offset into @obj.
 *
 * Clears @va->vm, the link, the flags and the inserted state. Does not
 * validate: gpuva_insert() does. Must not be called on an inserted or linked
 * mapping.
 *
 * Context: Any context.
 */
GPUVM_EXPORT void gpuva_init(struct gpuva *va, uint64_t addr, uint64_t range,
			     struct gpuvm_gem *obj, uint64_t offset);

/**
 * gpuva_insert() - insert a mapping into a VM.
 * @vm: the VM.
 * @va: an initialized mapping that is not inserted anywhere.
 *
 * Returns: 0, or
 * -EINVAL: NULL argument, zero range, a range gpuvm_range_valid() refuses,
 *	or @va was removed from another VM and is still linked to a vm_bo of
 *	that VM;
 * -EEXIST: the range intersects an existing mapping;
 * -EBUSY: @va is already inserted;
 * -ENOMEM: the index needed a node and none could be had.
 * On error nothing changed.
 *
 * Context: Process context; may allocate an index node unless cached nodes
 * are available (gpuvm_index_reserve()). Serialize against other changes of
 * @vm's tree.
 */
GPUVM_EXPORT int gpuva_insert(struct gpuvm *vm, struct gpuva *va);

/**
 * gpuva_remove() - remove a mapping from its VM.
 * @va: the mapping.
 *
 * Neither allocates nor frees (freed index nodes are cached); allowed on the
 * fence-signalling path. The mapping stays linked to its vm_bo if it was.
 *
 * Returns: 0, or -EINVAL (@va NULL), -ENOENT (@va is not inserted).
 *
 * Context: Any context; serialize against other changes of the VM's tree.
 */
GPUVM_EXPORT int gpuva_remove(struct gpuva *va);

/**
 * gpuva_find() - the mapping at exactly [@addr, @addr + @range).
 *
 * Returns: the mapping, or NULL.
 *
 * Context: Any context; serialize against changes of the tree.
 */
GPUVM_EXPORT struct gpuva *gpuva_find(const struct gpuvm *vm, uint64_t addr,
				      uint64_t range);

/**
 * gpuva_find_first() - the lowest mapping intersecting [@addr, @addr +
 * @range).
 *
 * A range that overflows is clamped to 2^64 - 1; a zero range finds nothing.
 *
 * Returns: the mapping, or NULL.
 *
 * Context: Any context; serialize against changes of the tree.
 */
GPUVM_EXPORT struct gpuva *gpuva_find_first(const struct gpuvm *vm,
					    uint64_t addr, uint64_t range);

/**
 * gpuva_find_prev() - the mapping that holds the byte before @start.
 *
 * When @start is the start of a mapping, that is the adjacent mapping that
 * ends at @start. The kernel's version can return the mapping at @start
 * itself when there is a gap before it; this one cannot (docs/porting.md).
 *
 * Returns: the mapping, or NULL (a gap before @start, or @start == 0).
 *
 * Context: Any context; serialize against changes of the tree.
 */
GPUVM_EXPORT struct gpuva *gpuva_find_prev(const struct gpuvm *vm,
					   uint64_t start);

/**
 * gpuva_find_next() - the mapping that holds the byte at @end.
 *
 * When @end is the end of a mapping, that is the adjacent mapping that starts
 * at @end. The kernel's version also looks at the byte after @end and can
 * return a mapping that starts one byte later; this one cannot.
 *
 * Returns: the mapping, or NULL (a gap at @end).
 *
 * Context: Any context; serialize against changes of the tree.
 */
GPUVM_EXPORT struct gpuva *gpuva_find_next(const struct gpuvm *vm,
					   uint64_t end);

/**
 * gpuva_range_first() - iteration start: the lowest mapping intersecting
 * [@start, @end).
 * @end: exclusive end, 0 meaning 2^64 (the whole rest of the space);
 *	otherwise @end <= @start gives NULL.
 *
 * Returns: the mapping, or NULL when none intersects the range (or @vm is
 * NULL).
 *
 * Context: Any context; serialize against changes of the tree.
 */
GPUVM_EXPORT struct gpuva *gpuva_range_first(const struct gpuvm *vm,
					     uint64_t start, uint64_t end);

/**
 * gpuva_range_next() - iteration step: the mapping after @va if it starts
 * before @end.
 * @va: a mapping that is inserted.
 * @end: exclusive end of the iteration, 0 meaning 2^64.
 *
 * Returns: the next mapping in address order if it starts below @end, else
 * NULL (also for a NULL @va).
 *
 * Context: Any context; serialize against changes of the tree.
 */
GPUVM_EXPORT struct gpuva *gpuva_range_next(const struct gpuva *va,
					    uint64_t end);

/*
 * Iterate over the mappings intersecting [start, end) in address order. The
 * _safe forms look up the next mapping before the body runs, so the body may
 * remove (and free) the current one, and insert mappings below the next one,
 * as callback-mode split/merge does. Iteration over the whole VM uses
 * end = 0 to mean 2^64 (no mapping can reach it).
 */
#define gpuvm_for_each_va_range(va, vm, start, end)                            \
	for ((va) = gpuva_range_first((vm), (start), (end)); (va);             \
	     (va) = gpuva_range_next((va), (end)))

#define gpuvm_for_each_va_range_safe(va, next, vm, start, end)                 \
	for ((va) = gpuva_range_first((vm), (start), (end)),                   \
	    (next) = (va) ? gpuva_range_next((va), (end)) : NULL;              \
	     (va);                                                             \
	     (va) = (next), (next) = (va) ? gpuva_range_next((va), (end)) : NULL)

#define gpuvm_for_each_va(va, vm) gpuvm_for_each_va_range(va, vm, 0, 0)
#define gpuvm_for_each_va_safe(va, next, vm)                                   \
	gpuvm_for_each_va_range_safe(va, next, vm, 0, 0)

/**
 * gpuva_link() - link a mapping to its vm_bo.
 * @va: an inserted mapping with an object.
 * @vm_bo: the vm_bo of (@va->vm, gpuva_gem(@va)).
 *
 * Appends @va to @vm_bo's list and takes a reference on @vm_bo.
 *
 * Returns: 0, or
 * -EINVAL: NULL argument, a sparse mapping, a mapping that is not inserted
 *	(never, or no longer), @vm_bo of another VM or object, or a zombie
 *	@vm_bo (no references left: it waits for the deferred cleanup);
 * -EBUSY: @va is already linked.
 *
 * Context: Any context; serialize against other changes of the gem's
 * mappings (the gem's lock or reservation, docs/locking.md).
 */
GPUVM_EXPORT int gpuva_link(struct gpuva *va, struct gpuvm_bo *vm_bo);

/**
 * gpuva_unlink() - unlink a mapping from its vm_bo.
 * @va: a linked mapping.
 *
 * Removes @va from its vm_bo's list and drops the reference link took,
 * which may free the vm_bo (see gpuvm_bo_put()).
 *
 * Returns: 0, or -EINVAL (@va NULL), -ENOENT (@va is not linked).
 *
 * Context: Process context (it may free); the caller holds the gem's list
 * lock (docs/locking.md) and, for a last reference in a GPUVM_RESV_PROTECTED
 * VM, the VM's reservation. Never on the fence-signalling path (debug
 * builds abort in the put): use gpuva_unlink_defer() there.
 */
GPUVM_EXPORT int gpuva_unlink(struct gpuva *va);

/**
 * gpuva_unlink_defer() - immediate mode: unlink a mapping from its vm_bo
 * and leave the vm_bo's release to gpuvm_bo_deferred_cleanup().
 * @va: a linked mapping.
 *
 * Takes the gem's gpuva lock, removes @va from its vm_bo's list and drops
 * the reference link took as gpuvm_bo_put_deferred() does: the last one
 * turns the vm_bo into a zombie queued on the VM's deferred stack. Neither
 * allocates nor frees.
 *
 * Returns: 0, or -EINVAL (@va NULL), -ENOENT (@va is not linked),
 * -EOPNOTSUPP (the VM is not in immediate mode; debug builds abort instead),
 * -EDEADLK (the calling thread holds the gem's gpuva lock), or the error of
 * funcs->gpuva_lock. On error nothing changed.
 *
 * Context: Any context, including the fence-signalling section. The caller
 * does not hold the gem's gpuva lock; when @va is inserted, it serializes
 * against changes of the VM's tree.
 */
GPUVM_EXPORT int gpuva_unlink_defer(struct gpuva *va);

/**
 * gpuva_invalidate() - set or clear GPUVA_INVALIDATED.
 *
 * Context: Any context.
 */
static inline void gpuva_invalidate(struct gpuva *va, bool invalidate)
{
	if (invalidate)
		va->flags |= GPUVA_INVALIDATED;
	else
		va->flags &= ~(uint32_t)GPUVA_INVALIDATED;
}

/**
 * gpuva_invalidated() - whether GPUVA_INVALIDATED is set.
 *
 * Context: Any context.
 */
static inline bool gpuva_invalidated(const struct gpuva *va)
{
	return (va->flags & GPUVA_INVALIDATED) != 0;
}

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_VA_H */
