/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm: one GPU virtual address space.
 *
 * A VM covers [start, start + range) and may carve out a reserved region
 * that nothing can be mapped over (the kernel's kernel_alloc_node). It owns
 * the index of its mappings (struct gpuva), is reference counted, and takes
 * all its memory through the allocator hooks given at init.
 *
 * Synchronization (this issue: single-threaded rules; the concurrent rules
 * and the locks behind them are documented in docs/locking.md):
 *
 *                    | insert/remove | find/iterate | sm_map/ops_create
 *   insert/remove    |       X       |      X       |        X
 *   find/iterate     |       X       |      -       |        -
 *   sm_map/ops_create|       X       |      -       |        -
 *
 * "X": the caller must serialize the two (one lock around the VM's tree, as
 * the kernel's drivers do with their VM lock); "-": they may run at once.
 */
#ifndef GPUVM_VM_H
#define GPUVM_VM_H

#include <gpuvm/common.h>

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
 * @extobj: private: external objects (next issue).
 * @evict: private: evicted vm_bos (next issue).
 * @bo_defer: private: deferred vm_bo cleanup stack (next issue).
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
	} extobj, evict;
	struct {
		void *head_;
	} bo_defer;
};

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
 *	no reference on it: it must outlive the VM.
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
 *	only one of op_alloc/op_free or of vm_bo_alloc/vm_bo_free.
 * On error @vm is left untouched.
 *
 * Context: Process context; does not allocate.
 */
GPUVM_EXPORT int gpuvm_init(struct gpuvm *vm, const struct gpuvm_init_opts *opts);

/**
 * gpuvm_fini() - release what the VM holds internally.
 * @vm: the VM.
 *
 * Frees the index and the node cache. The VM must hold no mapping.
 *
 * Returns: 0, or
 * -EBUSY: mappings are still inserted (nothing is released; remove them
 *	first). The kernel warns and leaks here instead.
 * -EINVAL: @vm is NULL.
 *
 * Context: Process context; frees memory, not on the fence-signalling path.
 */
GPUVM_EXPORT int gpuvm_fini(struct gpuvm *vm);

/**
 * gpuvm_get() - take a reference on the VM.
 * @vm: the VM, or NULL.
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
 * caller's. Inserted mappings hold no reference on the VM (as in the
 * kernel): remove them before the last put. Without vm_free, a last put
 * with mappings still inserted cannot release the VM; it prints one line
 * to stderr naming the VM and leaves it as it is (the kernel warns too).
 *
 * Context: Process context when it may be the last reference.
 */
GPUVM_EXPORT void gpuvm_put(struct gpuvm *vm);

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
 * Context: Process context; may allocate.
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
 * every linked mapping is on its vm_bo's list with a vm_bo of this VM. Debug
 * builds run it after every mutation.
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
