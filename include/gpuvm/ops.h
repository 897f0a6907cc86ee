/* SPDX-License-Identifier: MIT */
/*
 * The split/merge engine: map, unmap, madvise, prefetch and bo_unmap
 * requests turned into map/remap/unmap/prefetch operations with the exact
 * semantics of the kernel's GPUVM (docs/split-merge.md).
 *
 * Two modes, one walker (lib/sm.c):
 * - callback mode: gpuvm_sm_map()/gpuvm_sm_unmap() call the driver's
 *   sm_step_* callbacks one op at a time; the driver may apply each op to
 *   the tree inside the callback (gpuva_map/gpuva_remap/gpuva_unmap);
 * - list mode: gpuvm_*_ops_create() return a list of ops built against the
 *   unchanged tree, to be applied in order and freed with gpuva_ops_free().
 *
 * Synchronization: a walk reads the VM's tree; serialize it against changes
 * of the tree. Between two requests the tree must reflect the ops of the
 * first (apply or abandon them), as in the kernel.
 */
#ifndef GPUVM_OPS_H
#define GPUVM_OPS_H

#include <gpuvm/common.h>
#include <gpuvm/vm.h>
#include <gpuvm/va.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum gpuva_op_type - kind of an operation.
 * @GPUVA_OP_MAP: create a mapping.
 * @GPUVA_OP_REMAP: replace a mapping by the pieces of it that survive.
 * @GPUVA_OP_UNMAP: remove a mapping.
 * @GPUVA_OP_PREFETCH: prefetch a mapping.
 * @GPUVA_OP_DRIVER: first value a driver may use in its own ops.
 */
enum gpuva_op_type {
	GPUVA_OP_MAP,
	GPUVA_OP_REMAP,
	GPUVA_OP_UNMAP,
	GPUVA_OP_PREFETCH,
	GPUVA_OP_DRIVER,
};

/**
 * struct gpuva_op_map - a mapping to create (also a piece kept by a remap).
 * @va.addr: start address.
 * @va.range: size.
 * @gem.offset: offset into the object.
 * @gem.obj: the object, NULL for sparse.
 */
struct gpuva_op_map {
	struct {
		uint64_t addr;
		uint64_t range;
	} va;
	struct {
		uint64_t offset;
		struct gpuvm_gem *obj;
	} gem;
};

/**
 * struct gpuva_op_unmap - a mapping to remove.
 * @va: the mapping.
 * @keep: the new mapping maps the same object at the same offsets over the
 *	part they share, so a driver may keep the page tables there.
 */
struct gpuva_op_unmap {
	struct gpuva *va;
	bool keep;
};

/**
 * struct gpuva_op_remap - split a mapping.
 * @prev: the piece below the request that survives, or NULL.
 * @next: the piece above the request that survives, or NULL.
 * @unmap: the mapping that is replaced, and whether it may be kept.
 */
struct gpuva_op_remap {
	struct gpuva_op_map *prev;
	struct gpuva_op_map *next;
	struct gpuva_op_unmap *unmap;
};

/**
 * struct gpuva_op_prefetch - a mapping to prefetch.
 * @va: the mapping.
 */
struct gpuva_op_prefetch {
	struct gpuva *va;
};

/**
 * struct gpuva_op - one operation; embeddable through ops->op_alloc.
 * @entry: node in the op list.
 * @op: &enum gpuva_op_type.
 * @map, @remap, @unmap, @prefetch: the operation, by @op.
 * @remap_store_: private: what @remap points to in list mode.
 */
struct gpuva_op {
	struct gpuvm_list entry;
	enum gpuva_op_type op;
	union {
		struct gpuva_op_map map;
		struct gpuva_op_remap remap;
		struct gpuva_op_unmap unmap;
		struct gpuva_op_prefetch prefetch;
	};
	struct {
		struct gpuva_op_map prev, next;
		struct gpuva_op_unmap unmap;
	} remap_store_;
};

/**
 * struct gpuva_ops - a list of operations.
 * @list: the ops, in the order they must be applied.
 * @count: number of ops.
 * @vm: private: the VM the list was built for.
 * @reserved_: private: index inserts reserved for applying the list.
 */
struct gpuva_ops {
	struct gpuvm_list list;
	size_t count;
	struct gpuvm *vm;
	unsigned int reserved_;
};

#define gpuva_for_each_op(op, ops)                                             \
	gpuvm_list_for_each_entry(op, &(ops)->list, struct gpuva_op, entry)
#define gpuva_for_each_op_safe(op, next, ops)                                  \
	gpuvm_list_for_each_entry_safe(op, next, &(ops)->list,                 \
				       struct gpuva_op, entry)

/**
 * struct gpuvm_map_req - a map (or madvise) request.
 * @sz: sizeof(struct gpuvm_map_req).
 * @map: the range to map and the object range behind it. A sparse mapping
 *	has obj NULL; its offset is not checked and is carried into the ops
 *	and split pieces as the kernel does (0 is the usual value). With an
 *	object, offset + range must lie within obj->size.
 */
struct gpuvm_map_req {
	size_t sz;
	struct gpuva_op_map map;
};

/**
 * struct gpuvm_ops - a driver's callbacks; all optional unless said.
 * @sz: sizeof(struct gpuvm_ops); an unknown non-zero tail is refused.
 * @vm_free: called on the last gpuvm_put(); must call gpuvm_fini().
 * @op_alloc: allocate a zeroed op (embeddable) for list mode, or NULL.
 * @op_free: free an op from @op_alloc. Both or neither.
 * @vm_bo_alloc: allocate a zeroed vm_bo (embeddable), or NULL.
 * @vm_bo_free: free a vm_bo from @vm_bo_alloc. Both or neither.
 * @vm_bo_validate: validate an evicted vm_bo; gpuvm_validate() calls it.
 * @sm_step_map: callback mode: a map op; required by gpuvm_sm_map().
 * @sm_step_remap: callback mode: a remap op; required by both.
 * @sm_step_unmap: callback mode: an unmap op; required by both.
 *
 * The sm_step callbacks get an op that lives on the walker's stack for the
 * duration of the call only. A non-zero return stops the walk at once and
 * is returned to the caller.
 */
struct gpuvm_ops {
	size_t sz;
	void (*vm_free)(struct gpuvm *vm);
	struct gpuva_op *(*op_alloc)(struct gpuvm *vm);
	void (*op_free)(struct gpuvm *vm, struct gpuva_op *op);
	struct gpuvm_bo *(*vm_bo_alloc)(struct gpuvm *vm);
	void (*vm_bo_free)(struct gpuvm_bo *vm_bo);
	int (*vm_bo_validate)(struct gpuvm_bo *vm_bo, void *priv);
	int (*sm_step_map)(struct gpuva_op *op, void *priv);
	int (*sm_step_remap)(struct gpuva_op *op, void *priv);
	int (*sm_step_unmap)(struct gpuva_op *op, void *priv);
};

/**
 * gpuvm_sm_map() - callback mode: the steps of a map request.
 * @vm: the VM.
 * @priv: passed to the callbacks.
 * @req: the request.
 *
 * Calls sm_step_unmap/sm_step_remap for every mapping the request overlaps,
 * in address order, then sm_step_map for the request itself: any number of
 * unmaps, at most two remaps, exactly one map.
 *
 * When a callback fails, the walk stops at once and its error is returned:
 * the ops delivered before it were delivered, in order, and whatever the
 * driver applied of them stays applied; no later op is delivered.
 *
 * Returns: 0, a callback's error, or
 * -EINVAL: NULL argument, bad @req->sz or non-zero unknown tail, an ops
 *	table without sm_step_map, sm_step_remap or sm_step_unmap, a range
 *	gpuvm_range_valid() refuses, or an object range that does not lie
 *	within the object's size (nothing was delivered).
 *
 * Context: Process context; does not allocate by itself (the callbacks may).
 */
GPUVM_EXPORT int gpuvm_sm_map(struct gpuvm *vm, void *priv,
			      const struct gpuvm_map_req *req);

/**
 * gpuvm_sm_unmap() - callback mode: the steps of an unmap request.
 * @vm: the VM.
 * @priv: passed to the callbacks.
 * @addr: start of the range to unmap.
 * @range: size of the range.
 *
 * Calls sm_step_unmap (keep = false) for every mapping inside the range and
 * sm_step_remap for the at most two it cuts, in address order. Errors as
 * gpuvm_sm_map(); sm_step_map is not needed.
 *
 * Returns: 0, a callback's error, or -EINVAL (as gpuvm_sm_map()).
 *
 * Context: Process context; does not allocate by itself.
 */
GPUVM_EXPORT int gpuvm_sm_unmap(struct gpuvm *vm, void *priv, uint64_t addr,
				uint64_t range);

/**
 * gpuvm_sm_map_ops_create() - list mode: the ops of a map request.
 * @vm: the VM.
 * @req: the request.
 * @out: receives the list.
 *
 * The ops are those gpuvm_sm_map() would deliver, in the same order. The
 * list reserves the index nodes its application needs, so applying it with
 * gpuva_map()/gpuva_remap()/gpuva_unmap() does not allocate.
 *
 * Returns: 0, or -EINVAL (as gpuvm_sm_map(), without the callback checks),
 * -ENOMEM (nothing is left allocated, nothing changed).
 *
 * Context: Process context; allocates.
 */
GPUVM_EXPORT int gpuvm_sm_map_ops_create(struct gpuvm *vm,
					 const struct gpuvm_map_req *req,
					 struct gpuva_ops **out);

/**
 * gpuvm_madvise_ops_create() - list mode: the ops that split the sparse
 * mappings a madvise request cuts.
 * @vm: the VM.
 * @req: the range (and what the map ops carry, usually no object).
 * @out: receives the list.
 *
 * Mappings with an object are left alone; nothing is ever unmapped. Sparse
 * mappings the request cuts at either end are split (remap) and the part of
 * the request they cover gets map ops; see docs/split-merge.md for the
 * exact rules (the kernel's drm_gpuvm_madvise_ops_create()).
 *
 * Returns: 0, or -EINVAL, -ENOMEM as gpuvm_sm_map_ops_create().
 *
 * Context: Process context; allocates.
 */
GPUVM_EXPORT int gpuvm_madvise_ops_create(struct gpuvm *vm,
					  const struct gpuvm_map_req *req,
					  struct gpuva_ops **out);

/**
 * gpuvm_sm_unmap_ops_create() - list mode: the ops of an unmap request.
 * @vm: the VM.
 * @addr: start of the range.
 * @range: size of the range.
 * @out: receives the list.
 *
 * Returns: 0, or -EINVAL (NULL argument, range refused by
 * gpuvm_range_valid()), -ENOMEM (nothing left allocated).
 *
 * Context: Process context; allocates.
 */
GPUVM_EXPORT int gpuvm_sm_unmap_ops_create(struct gpuvm *vm, uint64_t addr,
					   uint64_t range,
					   struct gpuva_ops **out);

/**
 * gpuvm_prefetch_ops_create() - list mode: one prefetch op per mapping the
 * range overlaps, sparse ones included, in address order.
 * @vm: the VM.
 * @addr: start of the range.
 * @range: size of the range.
 * @out: receives the list.
 *
 * Returns: 0, or -EINVAL (NULL argument, range refused by
 * gpuvm_range_valid(); the kernel does not check), -ENOMEM.
 *
 * Context: Process context; allocates.
 */
GPUVM_EXPORT int gpuvm_prefetch_ops_create(struct gpuvm *vm, uint64_t addr,
					   uint64_t range,
					   struct gpuva_ops **out);

/**
 * gpuvm_bo_unmap_ops_create() - list mode: one unmap op (keep = false) per
 * mapping linked to @vm_bo, in link order.
 * @vm_bo: the vm_bo.
 * @out: receives the list (empty when nothing is linked).
 *
 * Returns: 0, or -EINVAL (NULL argument), -ENOMEM.
 *
 * Context: Process context; allocates. Serialize against changes of the
 * vm_bo's mappings.
 */
GPUVM_EXPORT int gpuvm_bo_unmap_ops_create(struct gpuvm_bo *vm_bo,
					   struct gpuva_ops **out);

/**
 * gpuva_ops_free() - free an op list and give back its reservation.
 * @vm: the VM the list was built for, or NULL for ops->vm. Another VM is a
 *	bug of the caller: debug builds abort naming both VMs, release builds
 *	free the list with its own VM anyway.
 * @ops: the list, or NULL (then nothing happens).
 *
 * Context: Process context; frees.
 */
GPUVM_EXPORT void gpuva_ops_free(struct gpuvm *vm, struct gpuva_ops *ops);

/**
 * gpuva_map() - apply a map op: initialize @va from @op and insert it.
 * @vm: the VM.
 * @va: a mapping that is neither inserted nor linked: zeroed memory, or
 *	initialized by gpuva_init() (its previous content is overwritten).
 * @op: the op.
 *
 * Returns: 0, -EINVAL (NULL argument), -EBUSY (@va is inserted, or linked
 * to a vm_bo: a removed mapping stays linked; nothing changed), or an error
 * of gpuva_insert() (@va is then not inserted, but was initialized from
 * @op).
 *
 * Context: Any context when index nodes are reserved (an op list or
 * gpuvm_index_reserve()); may allocate otherwise.
 */
GPUVM_EXPORT int gpuva_map(struct gpuvm *vm, struct gpuva *va,
			   const struct gpuva_op_map *op);

/**
 * gpuva_remap() - apply a remap op: remove the old mapping, insert the
 * surviving pieces.
 * @prev: mapping to initialize from @op->prev and insert (unused if NULL).
 * @next: mapping to initialize from @op->next and insert (unused if NULL).
 * @op: the op.
 *
 * The old mapping is removed but neither unlinked nor freed: that is the
 * caller's (usually: link @prev and @next, then unlink the old one).
 *
 * Returns: 0, or -EINVAL (NULL @op or unmap, a piece without its mapping or
 * whose mapping is inserted or linked, @prev == @next, a piece that is empty or not
 * inside the old mapping, pieces that overlap, old mapping not inserted),
 * -ENOMEM (nodes could not be had). On error nothing changed: everything is
 * checked and the index nodes are secured before the old mapping goes.
 *
 * Context: Any context when index nodes are reserved; may allocate
 * otherwise.
 */
GPUVM_EXPORT int gpuva_remap(struct gpuva *prev, struct gpuva *next,
			     const struct gpuva_op_remap *op);

/**
 * gpuva_unmap() - apply an unmap op: remove the mapping.
 * @op: the op.
 *
 * Returns: 0, or -EINVAL (@op NULL), -ENOENT (not inserted).
 *
 * Context: Any context; neither allocates nor frees.
 */
GPUVM_EXPORT int gpuva_unmap(const struct gpuva_op_unmap *op);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_OPS_H */
