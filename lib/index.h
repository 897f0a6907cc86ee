/* SPDX-License-Identifier: MIT */
/*
 * Private: the VA index, a B+tree of mappings keyed by start address.
 *
 * Leaves hold (start address, struct gpuva *) pairs in address order and are
 * chained for ordered walks; inner nodes hold separator keys. Mappings never
 * overlap (the callers check), so ordering by start address orders by end
 * too, and the first mapping intersecting [s, e) is either the last one that
 * starts at or below s, or the first one that starts above s.
 *
 * Memory rules (they make the fence-signalling path possible):
 * - an insert needs at most gpuvm__index_need(ix, 1) free nodes; it takes
 *   them from the cache, allocating first if the cache is short, and fails
 *   with -ENOMEM *before* changing anything;
 * - a removal never allocates and never frees: nodes it empties go to the
 *   cache;
 * - nodes are freed only by gpuvm__index_trim() and gpuvm__index_fini().
 */
#ifndef GPUVM_LIB_INDEX_H
#define GPUVM_LIB_INDEX_H

#include <gpuvm/vm.h>
#include <gpuvm/va.h>

void gpuvm__index_init(struct gpuvm_va_index *ix);

/* Frees every node (tree and cache). The mappings are not touched. */
void gpuvm__index_fini(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a);

/*
 * Insert @va keyed by va->va.addr (range > 0). With @use_reserve the insert
 * may consume cached nodes that are reserved (the apply helpers of an op
 * list); without it only unreserved cached nodes are used and the rest is
 * allocated. Returns 0, -EEXIST when @va overlaps a mapping in the index,
 * or -ENOMEM; on error nothing changed.
 */
int gpuvm__index_insert(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			struct gpuva *va, bool use_reserve);

/*
 * Make sure the next @inserts inserts (with the same @use_reserve) will not
 * allocate, as long as nothing else consumes cached nodes in between:
 * tops the cache up to gpuvm__index_need(ix, inserts) usable nodes.
 * Returns 0 or -ENOMEM; on -ENOMEM nothing changed (the cache is as before).
 * Used by gpuva_remap(), which must not fail after removing the old mapping.
 */
int gpuvm__index_prepare(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			 unsigned int inserts, bool use_reserve);

/* Remove @va, which must be in the index. Never allocates or frees. */
void gpuvm__index_remove(struct gpuvm_va_index *ix, struct gpuva *va);

/* The lowest mapping intersecting [start, end); end == 0 means 2^64. */
struct gpuva *gpuvm__index_first_overlap(const struct gpuvm_va_index *ix,
					 uint64_t start, uint64_t end);

/* The mapping with the smallest start address > @addr, or NULL. */
struct gpuva *gpuvm__index_next_after(const struct gpuvm_va_index *ix, uint64_t addr);

/* The mapping with the largest start address < @addr, or NULL. */
struct gpuva *gpuvm__index_prev_before(const struct gpuvm_va_index *ix, uint64_t addr);

/* The mapping whose start address is exactly @addr, or NULL. */
struct gpuva *gpuvm__index_lookup(const struct gpuvm_va_index *ix, uint64_t addr);

/* Worst-case number of nodes @inserts inserts may need at the current height. */
size_t gpuvm__index_need(const struct gpuvm_va_index *ix, unsigned int inserts);

/*
 * Reservations count inserts, not nodes: what @inserts inserts need depends
 * on the height, which changes while a reservation is outstanding, and
 * giving back must not depend on it. The cache keeps
 * gpuvm__index_reserved_nodes(ix, 0) nodes for the reserved inserts; an
 * unreserved insert leaves them the nodes they need at the height it may
 * grow the tree to (@grow = 1).
 */
size_t gpuvm__index_reserved_nodes(const struct gpuvm_va_index *ix, unsigned int grow);

/*
 * Reserve: make sure the cache holds the nodes for ix->reserved + @inserts
 * inserts, then ix->reserved += @inserts. -ENOMEM leaves everything as it
 * was.
 */
int gpuvm__index_reserve(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			 unsigned int inserts);
void gpuvm__index_unreserve(struct gpuvm_va_index *ix, unsigned int inserts);

/* Free cached nodes beyond what the reserved inserts need. */
void gpuvm__index_trim(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a);

/* Size in bytes of one node (all nodes have one size). */
size_t gpuvm__index_node_size(void);

/*
 * Check the B+tree: key order, separators, fill bounds, leaf chain, counts,
 * that every entry's key equals its mapping's va.addr and that consecutive
 * mappings do not overlap. Returns 0 or -EUCLEAN after printing what is
 * wrong to stderr.
 */
int gpuvm__index_verify(const struct gpuvm_va_index *ix);

/*
 * A cursor for ordered walks that survives no change of the tree: when
 * ix->seq moved since the cursor was positioned, the walker re-seeks by key
 * (@key, the start of the mapping it is at: the leaf may be gone by then).
 * A cursor that ran off the end (leaf NULL) stays there.
 */
struct gpuvm__index_cursor {
	const void *leaf;
	unsigned int slot;
	uint64_t seq;
	uint64_t key;
};

/* Position at the first mapping with start >= @addr; returns it or NULL. */
struct gpuva *gpuvm__index_cursor_seek(const struct gpuvm_va_index *ix,
				       struct gpuvm__index_cursor *c, uint64_t addr);
/* Step to the next mapping; returns it or NULL. */
/*
 * Position at the lowest mapping intersecting [start, end) (end 0: 2^64),
 * as gpuvm__index_first_overlap(); returns it or NULL (cursor at the end).
 */
struct gpuva *gpuvm__index_cursor_first_overlap(const struct gpuvm_va_index *ix,
						struct gpuvm__index_cursor *c,
						uint64_t start, uint64_t end);
struct gpuva *gpuvm__index_cursor_next(const struct gpuvm_va_index *ix,
				       struct gpuvm__index_cursor *c);

#endif /* GPUVM_LIB_INDEX_H */
