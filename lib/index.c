/* SPDX-License-Identifier: MIT */
/*
 * The VA index: a B+tree of struct gpuva pointers keyed by va->va.addr.
 *
 * Shape, and why:
 * - Every node is 640 bytes, 64-byte aligned: ten cache lines, one
 *   allocation size for the node cache, and small enough that a search
 *   touches few lines. The first four lines always hold the key array
 *   (31 u64 keys plus the count/level word), so a search reads only those
 *   lines of a node, then one child pointer (inner) or one value line and
 *   one length line (leaf).
 * - Leaves: keys[31] | count, level | vals[31] | next | lens[31]. Keys and
 *   values are separate arrays so the search streams over keys only. lens
 *   holds each mapping's range (UINT32_MAX for 4 GiB and more: then the
 *   mapping is read), so "does the mapping before x reach x" is answered by
 *   the leaf: at 1M mappings the tree's lines mostly sit in the last-level
 *   cache and the gpuva is the lookup's one DRAM miss (find_first random
 *   p50 ~630 ns with the load, ~390 ns without, bench-engine). The last two
 *   lines cost inner nodes 128 unused bytes; one node size keeps one
 *   cache. There is no prev pointer: separators are kept exact (see below),
 *   which makes every predecessor query land in the right leaf, and the
 *   31st slot it buys is worth 3% of the memory.
 * - Inner nodes: keys[31] | count, level | child[32]; count is the number of
 *   children, keys[i] separates child[i] and child[i + 1].
 * - Unused key slots hold UINT64_MAX, which no mapping can start at (a
 *   mapping needs addr + range <= 2^64 - 1 with range > 0). The position of
 *   x in a node is then the number of keys <= x over all 31 slots, found by
 *   a fixed 5-probe branch-free binary search without looking at the count
 *   (a 31-compare linear scan measured ~1.7x slower at 1M mappings); queries
 *   clamp x below UINT64_MAX.
 * - Searches prefetch all of a node's lines as soon as its address is
 *   known, so the dependent probes and the child pointer (or value) they
 *   end on wait for one miss per level rather than several.
 * - Exact separators: keys[i] of an inner node always equals the smallest
 *   key of the subtree child[i + 1]. A descent by x then ends in the leaf
 *   that holds the largest key <= x whenever there is one, so first_overlap
 *   reads one leaf (and a gpuva only for a range of 4 GiB or more), and prev_before needs no leaf back
 *   pointer. Only a removal of a leaf's first key has to fix one ancestor.
 * - Fill: a full leaf first tries to hand entries to its left, then right
 *   sibling (within the same parent) before splitting. That lifts the mean
 *   leaf fill under random inserts from ~69% to ~83%: at 1M random inserts
 *   the index costs 20.3 bytes per mapping instead of 24.7 (512-byte nodes,
 *   before the lengths; x1.25 with them), and the smaller tree caches
 *   better. Appends to the last leaf split with the old leaf left full (and
 *   the last inner nodes nearly full), so address-order fills reach 17.1
 *   bytes per mapping (x1.25 with the lengths).
 * - Minimum fill: 15 entries per leaf, 16 children per inner node, except
 *   the root and the nodes on the rightmost path ("spine"), which only need
 *   1 entry (leaf) or 2 children (inner), because sequential splits create
 *   them nearly empty. Nodes leave the spine only by being split full.
 *
 * Memory: inserts count the nodes they may need (the full nodes on their
 * path, plus a new root) and allocate what the cache cannot give before
 * touching the tree. Removals rebalance by borrowing/merging and push
 * emptied nodes onto the cache, a singly linked list through the nodes'
 * next pointer. Only trim and fini free.
 */
#include "index.h"
#include "internal.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IX_NODE_SIZE 640u
#define IX_NODE_ALIGN 64u
#define IX_KEYS 31u
#define IX_LEAF_MAX 31u
#define IX_LEAF_MIN 15u
#define IX_INNER_MAX 32u
#define IX_INNER_MIN 16u
#define IX_PAD UINT64_MAX
/* Minimum fill 15/16 bounds the height far below this for any memory size. */
#define IX_MAX_HEIGHT 32u

struct ix_node {
	_Alignas(64) uint64_t keys[IX_KEYS];
	uint32_t count; /* leaf: entries; inner: children */
	uint32_t level; /* 0 for leaves */
	union {
		struct {
			struct gpuva *vals[IX_LEAF_MAX];
			struct ix_node *next; /* also the cache's link */
		} leaf;
		struct ix_node *child[IX_INNER_MAX];
	} u;
	/*
	 * Leaves only: each mapping's range, IX_LEN_BIG when it does not fit
	 * (then the mapping itself says). Whether the mapping before an
	 * address reaches it is then answered from the leaf, without loading
	 * the mapping: at a million mappings that load is the one cold miss of
	 * a lookup that the tree's own lines (mostly in the last-level cache)
	 * do not pay.
	 */
	uint32_t lens[IX_LEAF_MAX];
	uint32_t unused_;
};

#define IX_LEN_BIG UINT32_MAX

_Static_assert(sizeof(struct ix_node) == IX_NODE_SIZE, "node size");
_Static_assert(offsetof(struct ix_node, u) == 256, "keys fill four lines");
_Static_assert(offsetof(struct ix_node, lens) == 512, "lengths in the last two lines");

#ifdef GPUVM_DEBUG
#define IX_BUG_ON(cond)                                                        \
	do {                                                                   \
		if (cond) {                                                    \
			fprintf(stderr, "gpuvm index: %s:%d: %s\n", __func__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)
#else
#define IX_BUG_ON(cond) ((void)0)
#endif

size_t gpuvm__index_node_size(void)
{
	return IX_NODE_SIZE;
}

static inline uint64_t ix_clamp(uint64_t x)
{
	return x == IX_PAD ? IX_PAD - 1 : x;
}

/* The range of @va as a leaf stores it. */
static inline uint32_t ix_len(const struct gpuva *va)
{
	return va->va.range >= IX_LEN_BIG ? IX_LEN_BIG : (uint32_t)va->va.range;
}

/*
 * Whether the mapping in slot @i of leaf @l, which starts at or below @addr,
 * reaches past it (start + range > addr, without overflow).
 */
static inline bool ix_reaches(const struct ix_node *l, unsigned int i, uint64_t addr)
{
	uint32_t len = l->lens[i];

	if (gpuvm__likely(len != IX_LEN_BIG))
		return addr - l->keys[i] < len;
	return addr - l->keys[i] < l->u.leaf.vals[i]->va.range;
}

/*
 * Number of keys <= x (x < IX_PAD): a branch-free binary search over 32
 * virtual slots (the 32nd is an implicit UINT64_MAX) that reads 5 keys.
 */
static inline unsigned int ix_rank(const uint64_t *keys, uint64_t x)
{
	unsigned int b = 0;

	b += keys[b + 15] <= x ? 16 : 0;
	b += keys[b + 7] <= x ? 8 : 0;
	b += keys[b + 3] <= x ? 4 : 0;
	b += keys[b + 1] <= x ? 2 : 0;
	b += keys[b] <= x ? 1 : 0;
	return b;
}

/*
 * Issue the loads of a node's lines at once, so that the binary search (whose
 * probes are dependent loads on up to four lines) waits for one miss, not
 * four in a row, and the child pointer or value it ends on is already on
 * its way: an inner node's child lines are fetched with its keys (at 1M
 * mappings that took find_first's p50 from ~630 to ~520 ns, bench-engine,
 * three interleaved pairs), a leaf's value and length lines too. Always
 * inlined: GCC otherwise judges an out-of-line helper made of prefetches
 * side-effect free and drops calls.
 */
static inline __attribute__((always_inline)) void
ix_prefetch(const struct ix_node *n, bool leaf)
{
	const char *p = (const char *)n;

	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + 128);
	__builtin_prefetch(p + 192);
	__builtin_prefetch(p + 256);
	__builtin_prefetch(p + 320);
	__builtin_prefetch(p + 384);
	__builtin_prefetch(p + 448);
	if (leaf) {
		__builtin_prefetch(p + 512);
		__builtin_prefetch(p + 576);
	}
}

static inline void ix_pad(struct ix_node *n, unsigned int from)
{
	for (unsigned int i = from; i < IX_KEYS; i++)
		n->keys[i] = IX_PAD;
}

static inline unsigned int ix_nkeys(const struct ix_node *n)
{
	return n->level ? n->count - 1 : n->count;
}

/* The leaf where a search for x ends (x already clamped). */
/*
 * The finger: the leaf the last insert or removal reached by a full descent,
 * with the separator bounds [finger_lo, finger_hi) that led there (finger_lo
 * 0 for the leftmost leaf, finger_hi IX_PAD for the rightmost). Any key in
 * those bounds descends to that very leaf, so it can be used without a
 * descent while the tree's shape is unchanged: only writers set it, and
 * every change of shape (split, merge, redistribution, separator update,
 * new or dropped root) clears it first. Binds are local (a remap removes a
 * mapping and inserts its pieces where it was), so applying a request's ops
 * mostly costs one descent instead of one per op. Readers only look at it,
 * which keeps concurrent lookups free of writes.
 */
static inline struct ix_node *ix_finger(const struct gpuvm_va_index *ix, uint64_t key)
{
	if (ix->finger && key >= ix->finger_lo && key < ix->finger_hi)
		return ix->finger;
	return NULL;
}

static inline const struct ix_node *ix_descend(const struct gpuvm_va_index *ix,
					       uint64_t x)
{
	const struct ix_node *n = ix_finger(ix, x);

	if (n)
		return n;
	n = ix->root;

	for (uint32_t h = ix->height; h > 1; h--) {
		n = n->u.child[ix_rank(n->keys, x)];
		ix_prefetch(n, h == 2);
	}
	return n;
}

/* ---------------------------------------------------------------------- */
/* The node cache */

static void ix_cache_put(struct gpuvm_va_index *ix, struct ix_node *n)
{
	n->u.leaf.next = ix->cache;
	ix->cache = n;
	ix->ncache++;
}

static struct ix_node *ix_cache_take(struct gpuvm_va_index *ix)
{
	struct ix_node *n = ix->cache;

	IX_BUG_ON(!n || !ix->ncache);
	ix->cache = n->u.leaf.next;
	ix->ncache--;
	return n;
}

/* Add @n nodes to the cache, all or none. */
static int ix_cache_grow(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			 size_t n)
{
	struct ix_node *list = NULL, *tail = NULL;

	for (size_t i = 0; i < n; i++) {
		struct ix_node *node = gpuvm__alloc(a, IX_NODE_SIZE, IX_NODE_ALIGN);

		if (!node) {
			while (list) {
				struct ix_node *next = list->u.leaf.next;

				gpuvm__free(a, list, IX_NODE_SIZE);
				list = next;
			}
			return -ENOMEM;
		}
		node->u.leaf.next = list;
		if (!list)
			tail = node;
		list = node;
	}
	if (tail) {
		tail->u.leaf.next = ix->cache;
		ix->cache = list;
		ix->ncache += n;
	}
	return 0;
}

/*
 * Make sure an insert can take @need nodes from the cache. An unreserved
 * insert also leaves the reserved inserts their nodes at the height it may
 * grow the tree to (one more than now), so that after it the cache still
 * holds what gpuvm__index_reserved_nodes(ix, 0) promises.
 */
static int ix_cache_ensure(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			   size_t need, bool use_reserve)
{
	size_t want = need;

	if (!use_reserve) {
		want += gpuvm__index_reserved_nodes(ix, 1);
		if (want < need)
			return -ENOMEM;
	}
	if (ix->ncache >= want)
		return 0;
	return ix_cache_grow(ix, a, want - ix->ncache);
}

/* ---------------------------------------------------------------------- */
/* Init, fini, reserve */

void gpuvm__index_init(struct gpuvm_va_index *ix)
{
	memset(ix, 0, sizeof(*ix));
}

static void ix_free_subtree(const struct gpuvm_allocator *a, struct ix_node *n)
{
	if (n->level)
		for (unsigned int i = 0; i < n->count; i++)
			ix_free_subtree(a, n->u.child[i]);
	gpuvm__free(a, n, IX_NODE_SIZE);
}

void gpuvm__index_fini(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a)
{
	if (ix->root)
		ix_free_subtree(a, ix->root);
	ix->root = NULL;
	ix->reserved = 0;
	gpuvm__index_trim(ix, a);
	gpuvm__index_init(ix);
}

size_t gpuvm__index_need(const struct gpuvm_va_index *ix, unsigned int inserts)
{
	return (size_t)inserts * (ix->height + 2);
}

size_t gpuvm__index_reserved_nodes(const struct gpuvm_va_index *ix, unsigned int grow)
{
	return ix->reserved * (ix->height + 2 + grow);
}

/*
 * An insert takes at most height + 1 nodes, and growing the height twice
 * takes dozens of inserts (a new root has two children and must fill up
 * first), so need() = inserts * (height + 2) covers @inserts inserts in a
 * row. Removals in between only add to the cache.
 */
int gpuvm__index_prepare(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			 unsigned int inserts, bool use_reserve)
{
	return ix_cache_ensure(ix, a, gpuvm__index_need(ix, inserts), use_reserve);
}

int gpuvm__index_reserve(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			 unsigned int inserts)
{
	size_t target = ix->reserved + inserts;
	size_t nodes;

	if (target < ix->reserved || target > SIZE_MAX / (ix->height + 3))
		return -ENOMEM;
	nodes = target * (ix->height + 2);
	if (ix->ncache < nodes) {
		int err = ix_cache_grow(ix, a, nodes - ix->ncache);

		if (err)
			return err;
	}
	ix->reserved = target;
	return 0;
}

void gpuvm__index_unreserve(struct gpuvm_va_index *ix, unsigned int inserts)
{
	ix->reserved = inserts < ix->reserved ? ix->reserved - inserts : 0;
}

void gpuvm__index_trim(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a)
{
	size_t keep = gpuvm__index_reserved_nodes(ix, 0);

	while (ix->ncache > keep)
		gpuvm__free(a, ix_cache_take(ix), IX_NODE_SIZE);
}

/* ---------------------------------------------------------------------- */
/* Staging buffers for splits and redistributions */

struct ix_lbuf {
	unsigned int n;
	uint64_t k[2 * IX_LEAF_MAX + 1];
	struct gpuva *v[2 * IX_LEAF_MAX + 1];
	uint32_t len[2 * IX_LEAF_MAX + 1];
};

/* Append the entries of @l, with (key, va) inserted at @ins when ins <= count. */
static void ix_lbuf_add(struct ix_lbuf *b, const struct ix_node *l, unsigned int ins,
			uint64_t key, struct gpuva *va)
{
	for (unsigned int i = 0; i <= l->count; i++) {
		if (i == ins) {
			b->k[b->n] = key;
			b->len[b->n] = ix_len(va);
			b->v[b->n++] = va;
		}
		if (i < l->count) {
			b->k[b->n] = l->keys[i];
			b->len[b->n] = l->lens[i];
			b->v[b->n++] = l->u.leaf.vals[i];
		}
	}
}

/* @l gets the first @nl entries, @r the rest. */
static void ix_lbuf_scatter(const struct ix_lbuf *b, struct ix_node *l, struct ix_node *r,
			    unsigned int nl)
{
	unsigned int nr = b->n - nl;

	IX_BUG_ON(nl > IX_LEAF_MAX || nr > IX_LEAF_MAX);
	memcpy(l->keys, b->k, nl * sizeof(b->k[0]));
	memcpy(l->u.leaf.vals, b->v, nl * sizeof(b->v[0]));
	memcpy(l->lens, b->len, nl * sizeof(b->len[0]));
	l->count = nl;
	ix_pad(l, nl);
	memcpy(r->keys, b->k + nl, nr * sizeof(b->k[0]));
	memcpy(r->u.leaf.vals, b->v + nl, nr * sizeof(b->v[0]));
	memcpy(r->lens, b->len + nl, nr * sizeof(b->len[0]));
	r->count = nr;
	ix_pad(r, nr);
}

struct ix_ibuf {
	unsigned int n; /* children */
	uint64_t k[2 * IX_INNER_MAX];
	struct ix_node *c[2 * IX_INNER_MAX + 1];
};

/*
 * Append the children of @p (preceded by separator @sep unless the buffer is
 * empty), with (key, child) inserted so that child lands at index @ins of
 * @p's children when ins <= count.
 */
static void ix_ibuf_add(struct ix_ibuf *b, uint64_t sep, const struct ix_node *p,
			unsigned int ins, uint64_t key, struct ix_node *child)
{
	for (unsigned int i = 0; i <= p->count; i++) {
		if (i == ins) {
			/* ins >= 1: the new child follows child[ins - 1] */
			b->k[b->n - 1] = key;
			b->c[b->n++] = child;
		}
		if (i < p->count) {
			if (b->n)
				b->k[b->n - 1] = i ? p->keys[i - 1] : sep;
			b->c[b->n++] = p->u.child[i];
		}
	}
}

/* @l gets the first @nl children, @r the rest; returns the key between. */
static uint64_t ix_ibuf_scatter(const struct ix_ibuf *b, struct ix_node *l,
				struct ix_node *r, unsigned int nl)
{
	unsigned int nr = b->n - nl;

	IX_BUG_ON(nl < 1 || nr < 1 || nl > IX_INNER_MAX || nr > IX_INNER_MAX);
	memcpy(l->u.child, b->c, nl * sizeof(b->c[0]));
	memcpy(l->keys, b->k, (nl - 1) * sizeof(b->k[0]));
	l->count = nl;
	ix_pad(l, nl - 1);
	memcpy(r->u.child, b->c + nl, nr * sizeof(b->c[0]));
	memcpy(r->keys, b->k + nl, (nr - 1) * sizeof(b->k[0]));
	r->count = nr;
	ix_pad(r, nr - 1);
	return b->k[nl - 1];
}

/* ---------------------------------------------------------------------- */
/* Insert */

struct ix_path {
	struct ix_node *node[IX_MAX_HEIGHT];
	unsigned int idx[IX_MAX_HEIGHT]; /* child taken at each inner depth */
	uint64_t lo, hi; /* separator bounds of the leaf reached */
};

/* Descend to the leaf for @key (< IX_PAD), recording the path. */
static inline struct ix_node *ix_descend_path(struct gpuvm_va_index *ix, uint64_t key,
					      struct ix_path *p)
{
	struct ix_node *n = ix->root;

	p->lo = 0;
	p->hi = IX_PAD;
	for (unsigned int d = 0; d + 1 < ix->height; d++) {
		unsigned int i = ix_rank(n->keys, key);

		p->node[d] = n;
		p->idx[d] = i;
		/* deeper separators are tighter */
		if (i > 0)
			p->lo = n->keys[i - 1];
		if (i + 1 < n->count)
			p->hi = n->keys[i];
		n = n->u.child[i];
		ix_prefetch(n, d + 2 == ix->height);
	}
	return n;
}

static inline void ix_set_finger(struct gpuvm_va_index *ix, struct ix_node *leaf,
				 const struct ix_path *p)
{
	ix->finger = leaf;
	ix->finger_lo = p->lo;
	ix->finger_hi = p->hi;
}

/* Whether the node at @depth of the path is on the rightmost path. */
static bool ix_on_spine(const struct ix_path *p, unsigned int depth)
{
	for (unsigned int d = 0; d < depth; d++)
		if (p->idx[d] != p->node[d]->count - 1)
			return false;
	return true;
}

/*
 * Insert (key, child) as child @pos of the inner node at @depth, splitting
 * upwards as needed. The cache holds enough nodes.
 */
static void ix_inner_insert(struct gpuvm_va_index *ix, struct ix_path *p, int depth,
			    unsigned int pos, uint64_t key, struct ix_node *child)
{
	struct ix_node *root, *old = ix->root;

	for (; depth >= 0; depth--) {
		struct ix_node *n = p->node[depth];
		struct ix_node *r;
		struct ix_ibuf b;
		unsigned int nl;

		if (n->count < IX_INNER_MAX) {
			unsigned int c = n->count;

			memmove(&n->keys[pos], &n->keys[pos - 1],
				(c - pos) * sizeof(n->keys[0]));
			memmove(&n->u.child[pos + 1], &n->u.child[pos],
				(c - pos) * sizeof(n->u.child[0]));
			n->keys[pos - 1] = key;
			n->u.child[pos] = child;
			n->count = c + 1;
			return;
		}
		b.n = 0;
		ix_ibuf_add(&b, 0, n, pos, key, child);
		/* Appending on the rightmost path: keep the left node nearly
		 * full (the right one needs two children to stay useful). */
		if (pos == IX_INNER_MAX && ix_on_spine(p, (unsigned int)depth))
			nl = IX_INNER_MAX - 1;
		else
			nl = (IX_INNER_MAX + 2) / 2;
		r = ix_cache_take(ix);
		r->level = n->level;
		key = ix_ibuf_scatter(&b, n, r, nl);
		child = r;
		ix->nodes++;
		if (depth > 0)
			pos = p->idx[depth - 1] + 1;
	}

	/* The root split: grow a level. */
	root = ix_cache_take(ix);
	root->level = old->level + 1;
	root->count = 2;
	root->keys[0] = key;
	ix_pad(root, 1);
	root->u.child[0] = old;
	root->u.child[1] = child;
	ix->root = root;
	ix->height++;
	ix->nodes++;
}

/* Insert into the full leaf @l at @pos. The cache holds enough nodes. */
static void ix_leaf_overflow(struct gpuvm_va_index *ix, struct ix_path *p,
			     struct ix_node *l, unsigned int pos, uint64_t key,
			     struct gpuva *va)
{
	int pd = (int)ix->height - 2; /* parent depth, -1 for a root leaf */
	struct ix_node *parent = pd >= 0 ? p->node[pd] : NULL;
	unsigned int i = pd >= 0 ? p->idx[pd] : 0;
	struct ix_lbuf b;
	struct ix_node *r;
	unsigned int nl;

	if (pos == IX_LEAF_MAX && !l->u.leaf.next) {
		/* Append to the last leaf: leave it full. */
		r = ix_cache_take(ix);
		r->level = 0;
		r->count = 1;
		r->keys[0] = key;
		ix_pad(r, 1);
		r->u.leaf.vals[0] = va;
		r->lens[0] = ix_len(va);
		goto link;
	}

	if (parent && i > 0 && parent->u.child[i - 1]->count < IX_LEAF_MAX) {
		struct ix_node *s = parent->u.child[i - 1];

		b.n = 0;
		ix_lbuf_add(&b, s, IX_LEAF_MAX + 1, 0, NULL);
		ix_lbuf_add(&b, l, pos, key, va);
		ix_lbuf_scatter(&b, s, l, b.n / 2);
		parent->keys[i - 1] = l->keys[0];
		return;
	}
	if (parent && i + 1 < parent->count &&
	    parent->u.child[i + 1]->count < IX_LEAF_MAX) {
		struct ix_node *s = parent->u.child[i + 1];

		b.n = 0;
		ix_lbuf_add(&b, l, pos, key, va);
		ix_lbuf_add(&b, s, IX_LEAF_MAX + 1, 0, NULL);
		ix_lbuf_scatter(&b, l, s, b.n / 2);
		parent->keys[i] = s->keys[0];
		return;
	}

	b.n = 0;
	ix_lbuf_add(&b, l, pos, key, va);
	nl = b.n / 2;
	r = ix_cache_take(ix);
	r->level = 0;
	ix_lbuf_scatter(&b, l, r, nl);
link:
	r->u.leaf.next = l->u.leaf.next;
	l->u.leaf.next = r;
	ix->nodes++;
	ix_inner_insert(ix, p, pd, i + 1, r->keys[0], r);
}

/*
 * Whether @va, to go in at @pos of leaf @l, overlaps a neighbour: the mapping
 * before it ends above its start, or the one after it starts below its end.
 * Checking here saves the caller a descent of its own.
 */
static bool ix_insert_overlaps(const struct ix_node *l, unsigned int pos,
			       const struct gpuva *va)
{
	uint64_t end = va->va.addr + va->va.range; /* 0 stands for 2^64 */
	uint64_t next;

	if (pos && ix_reaches(l, pos - 1, va->va.addr))
		return true;
	if (pos < l->count)
		next = l->keys[pos];
	else if (l->u.leaf.next)
		next = l->u.leaf.next->keys[0];
	else
		return false;
	return !end || next < end;
}

/* Put @va at @pos of leaf @n, which has room: no change of shape. */
static inline void ix_leaf_put(struct gpuvm_va_index *ix, struct ix_node *n, unsigned int pos,
			       struct gpuva *va)
{
	unsigned int c = n->count;

	memmove(&n->keys[pos + 1], &n->keys[pos], (c - pos) * sizeof(n->keys[0]));
	memmove(&n->u.leaf.vals[pos + 1], &n->u.leaf.vals[pos],
		(c - pos) * sizeof(n->u.leaf.vals[0]));
	memmove(&n->lens[pos + 1], &n->lens[pos], (c - pos) * sizeof(n->lens[0]));
	n->keys[pos] = va->va.addr;
	n->u.leaf.vals[pos] = va;
	n->lens[pos] = ix_len(va);
	n->count = c + 1;
	ix->count++;
	ix->seq++;
}

int gpuvm__index_insert(struct gpuvm_va_index *ix, const struct gpuvm_allocator *a,
			struct gpuva *va, bool use_reserve)
{
	uint64_t key = va->va.addr;
	struct ix_path p;
	struct ix_node *n;
	unsigned int pos, d;
	size_t need;
	int err;

	IX_BUG_ON(key == IX_PAD);
	if (!ix->root) {
		err = ix_cache_ensure(ix, a, 1, use_reserve);
		if (err)
			return err;
		n = ix_cache_take(ix);
		n->level = 0;
		n->count = 1;
		n->keys[0] = key;
		ix_pad(n, 1);
		n->u.leaf.vals[0] = va;
		n->lens[0] = ix_len(va);
		n->u.leaf.next = NULL;
		ix->root = n;
		ix->height = 1;
		ix->nodes = 1;
		ix->count = 1;
		ix->seq++;
		return 0;
	}

	n = ix_finger(ix, key);
	if (n && n->count < IX_LEAF_MAX) {
		pos = ix_rank(n->keys, key);
		if (ix_insert_overlaps(n, pos, va))
			return -EEXIST;
		ix_leaf_put(ix, n, pos, va);
		return 0;
	}

	n = ix_descend_path(ix, key, &p);
	pos = ix_rank(n->keys, key);
	if (ix_insert_overlaps(n, pos, va))
		return -EEXIST;

	if (gpuvm__likely(n->count < IX_LEAF_MAX)) {
		ix_leaf_put(ix, n, pos, va);
		ix_set_finger(ix, n, &p);
		return 0;
	}

	/* Worst case: every full node on the path splits, plus a new root. */
	need = 1;
	for (d = ix->height - 1; d > 0 && p.node[d - 1]->count == IX_INNER_MAX; d--)
		need++;
	if (d == 0)
		need++;
	err = ix_cache_ensure(ix, a, need, use_reserve);
	if (err)
		return err;

	ix->finger = NULL; /* the split changes the shape */
	ix_leaf_overflow(ix, &p, n, pos, key, va);
	ix->count++;
	ix->seq++;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Remove */

/* Merge @r (child @ri of @parent) into its left sibling @l. */
static void ix_merge(struct gpuvm_va_index *ix, struct ix_node *parent, unsigned int ri,
		     struct ix_node *l, struct ix_node *r)
{
	unsigned int pc = parent->count;

	if (!l->level) {
		memcpy(&l->keys[l->count], r->keys, r->count * sizeof(r->keys[0]));
		memcpy(&l->u.leaf.vals[l->count], r->u.leaf.vals,
		       r->count * sizeof(r->u.leaf.vals[0]));
		memcpy(&l->lens[l->count], r->lens, r->count * sizeof(r->lens[0]));
		l->count += r->count;
		l->u.leaf.next = r->u.leaf.next;
	} else {
		l->keys[l->count - 1] = parent->keys[ri - 1];
		memcpy(&l->keys[l->count], r->keys, (r->count - 1) * sizeof(r->keys[0]));
		memcpy(&l->u.child[l->count], r->u.child, r->count * sizeof(r->u.child[0]));
		l->count += r->count;
	}
	memmove(&parent->keys[ri - 1], &parent->keys[ri], (pc - 1 - ri) * sizeof(parent->keys[0]));
	memmove(&parent->u.child[ri], &parent->u.child[ri + 1],
		(pc - 1 - ri) * sizeof(parent->u.child[0]));
	parent->count = pc - 1;
	parent->keys[pc - 2] = IX_PAD;
	ix_cache_put(ix, r);
	ix->nodes--;
}

/* Even out the siblings @l and @r (child @ri of @parent). */
static void ix_redistribute(struct ix_node *parent, unsigned int ri, struct ix_node *l,
			    struct ix_node *r)
{
	if (!l->level) {
		struct ix_lbuf b = { .n = 0 };

		ix_lbuf_add(&b, l, IX_LEAF_MAX + 1, 0, NULL);
		ix_lbuf_add(&b, r, IX_LEAF_MAX + 1, 0, NULL);
		ix_lbuf_scatter(&b, l, r, b.n / 2);
		parent->keys[ri - 1] = r->keys[0];
	} else {
		struct ix_ibuf b = { .n = 0 };

		ix_ibuf_add(&b, 0, l, IX_INNER_MAX + 1, 0, NULL);
		ix_ibuf_add(&b, parent->keys[ri - 1], r, IX_INNER_MAX + 1, 0, NULL);
		parent->keys[ri - 1] = ix_ibuf_scatter(&b, l, r, b.n / 2);
	}
}

/* Take the entry at @pos out of leaf @n. */
static inline void ix_leaf_take(struct gpuvm_va_index *ix, struct ix_node *n, unsigned int pos)
{
	unsigned int c = n->count - 1;

	memmove(&n->keys[pos], &n->keys[pos + 1], (c - pos) * sizeof(n->keys[0]));
	memmove(&n->u.leaf.vals[pos], &n->u.leaf.vals[pos + 1],
		(c - pos) * sizeof(n->u.leaf.vals[0]));
	memmove(&n->lens[pos], &n->lens[pos + 1], (c - pos) * sizeof(n->lens[0]));
	n->keys[c] = IX_PAD;
	n->count = c;
	ix->count--;
	ix->seq++;
}

void gpuvm__index_remove(struct gpuvm_va_index *ix, struct gpuva *va)
{
	uint64_t key = va->va.addr;
	struct ix_path p;
	struct ix_node *n;
	unsigned int pos, c;
	int depth;

	if (!ix->root || key == IX_PAD)
		return;
	/*
	 * Without a descent when the finger has the leaf and the removal
	 * changes no shape: the leaf keeps enough entries and, unless it is
	 * the leftmost, its first key (a separator names it).
	 */
	n = ix_finger(ix, key);
	if (n) {
		pos = ix_rank(n->keys, key);
		if (pos >= (ix->finger_lo == 0 ? 1u : 2u) && n->count > IX_LEAF_MIN &&
		    n->keys[pos - 1] == key && n->u.leaf.vals[pos - 1] == va) {
			ix_leaf_take(ix, n, pos - 1);
			return;
		}
	}
	n = ix_descend_path(ix, key, &p);
	pos = ix_rank(n->keys, key);
	if (!pos || n->keys[pos - 1] != key || n->u.leaf.vals[pos - 1] != va) {
		IX_BUG_ON("removing a mapping that is not in the index");
		return;
	}
	pos--;
	if ((pos > 0 || p.lo == 0) && n->count > IX_LEAF_MIN) {
		ix_leaf_take(ix, n, pos);
		ix_set_finger(ix, n, &p);
		return;
	}
	ix->finger = NULL; /* separators or nodes may change below */
	ix_leaf_take(ix, n, pos);
	c = n->count;

	/* Keep separators exact: the one that named this leaf's old first key
	 * sits where the path last turned right. */
	if (pos == 0 && c > 0) {
		for (depth = (int)ix->height - 2; depth >= 0; depth--) {
			if (p.idx[depth]) {
				p.node[depth]->keys[p.idx[depth] - 1] = n->keys[0];
				break;
			}
		}
	}

	for (depth = (int)ix->height - 1; depth > 0; depth--) {
		struct ix_node *parent = p.node[depth - 1];
		unsigned int i = p.idx[depth - 1];
		unsigned int max = n->level ? IX_INNER_MAX : IX_LEAF_MAX;
		struct ix_node *l, *r;
		unsigned int ri;

		if (n->count >= (n->level ? IX_INNER_MIN : IX_LEAF_MIN))
			break;
		/* The rightmost path may run thin (appends split it that way). */
		if (ix_on_spine(&p, (unsigned int)depth) && n->count >= (n->level ? 2u : 1u))
			break;
		if (i > 0) {
			l = parent->u.child[i - 1];
			r = n;
			ri = i;
		} else {
			l = n;
			r = parent->u.child[1];
			ri = 1;
		}
		if (l->count + r->count > max) {
			ix_redistribute(parent, ri, l, r);
			break;
		}
		ix_merge(ix, parent, ri, l, r);
		n = parent;
	}

	n = ix->root;
	if (n->level && n->count == 1) {
		ix->root = n->u.child[0];
		ix->height--;
		ix->nodes--;
		ix_cache_put(ix, n);
	} else if (!n->level && n->count == 0) {
		ix->root = NULL;
		ix->height = 0;
		ix->nodes--;
		ix_cache_put(ix, n);
	}
}

/* ---------------------------------------------------------------------- */
/* Queries */

struct gpuva *gpuvm__index_first_overlap(const struct gpuvm_va_index *ix,
					 uint64_t start, uint64_t end)
{
	const struct ix_node *l;
	unsigned int pos;

	if (!ix->root || (end && end <= start))
		return NULL;
	l = ix_descend(ix, ix_clamp(start));
	pos = ix_rank(l->keys, ix_clamp(start));
	if (pos && ix_reaches(l, pos - 1, start))
		return l->u.leaf.vals[pos - 1];
	if (pos == l->count) {
		l = l->u.leaf.next;
		if (!l)
			return NULL;
		pos = 0;
	}
	if (end && l->keys[pos] >= end)
		return NULL;
	return l->u.leaf.vals[pos];
}

struct gpuva *gpuvm__index_next_after(const struct gpuvm_va_index *ix, uint64_t addr)
{
	const struct ix_node *l;
	unsigned int pos;

	if (!ix->root || addr >= IX_PAD - 1)
		return NULL;
	l = ix_descend(ix, addr);
	pos = ix_rank(l->keys, addr);
	if (pos == l->count) {
		l = l->u.leaf.next;
		pos = 0;
	}
	return l ? l->u.leaf.vals[pos] : NULL;
}

struct gpuva *gpuvm__index_prev_before(const struct gpuvm_va_index *ix, uint64_t addr)
{
	const struct ix_node *l;
	unsigned int pos;

	if (!ix->root || !addr)
		return NULL;
	addr = ix_clamp(addr - 1);
	l = ix_descend(ix, addr);
	pos = ix_rank(l->keys, addr);
	return pos ? l->u.leaf.vals[pos - 1] : NULL;
}

struct gpuva *gpuvm__index_lookup(const struct gpuvm_va_index *ix, uint64_t addr)
{
	const struct ix_node *l;
	unsigned int pos;

	if (!ix->root || addr == IX_PAD)
		return NULL;
	l = ix_descend(ix, addr);
	pos = ix_rank(l->keys, addr);
	return pos && l->keys[pos - 1] == addr ? l->u.leaf.vals[pos - 1] : NULL;
}

/* ---------------------------------------------------------------------- */
/* Cursor */

static struct gpuva *ix_cursor_at(const struct gpuvm_va_index *ix,
				  struct gpuvm__index_cursor *c,
				  const struct ix_node *l, unsigned int pos)
{
	if (l && pos == l->count) {
		l = l->u.leaf.next;
		pos = 0;
	}
	c->seq = ix->seq;
	c->leaf = l;
	c->slot = pos;
	if (!l)
		return NULL;
	c->key = l->keys[pos];
	return l->u.leaf.vals[pos];
}

/* Position at the first mapping with start > @addr, or >= when @incl. */
static struct gpuva *ix_cursor_find(const struct gpuvm_va_index *ix,
				    struct gpuvm__index_cursor *c, uint64_t addr,
				    bool incl)
{
	const struct ix_node *l;

	if (!ix->root)
		return ix_cursor_at(ix, c, NULL, 0);
	if (incl) {
		if (!addr)
			return ix_cursor_at(ix, c, ix_descend(ix, 0), 0);
		addr--;
	}
	/* No mapping starts above 2^64 - 2. */
	if (addr >= IX_PAD - 1)
		return ix_cursor_at(ix, c, NULL, 0);
	l = ix_descend(ix, addr);
	return ix_cursor_at(ix, c, l, ix_rank(l->keys, addr));
}

struct gpuva *gpuvm__index_cursor_seek(const struct gpuvm_va_index *ix,
				       struct gpuvm__index_cursor *c, uint64_t addr)
{
	return ix_cursor_find(ix, c, addr, true);
}

struct gpuva *gpuvm__index_cursor_first_overlap(const struct gpuvm_va_index *ix,
						struct gpuvm__index_cursor *c,
						uint64_t start, uint64_t end)
{
	const struct ix_node *l;
	unsigned int pos;

	if (!ix->root || (end && end <= start))
		return ix_cursor_at(ix, c, NULL, 0);
	l = ix_descend(ix, ix_clamp(start));
	pos = ix_rank(l->keys, ix_clamp(start));
	if (pos && ix_reaches(l, pos - 1, start))
		return ix_cursor_at(ix, c, l, pos - 1);
	/* ix_cursor_at() steps to the next leaf when pos == count */
	if (pos == l->count && !l->u.leaf.next)
		return ix_cursor_at(ix, c, NULL, 0);
	if (end && (pos < l->count ? l->keys[pos] : l->u.leaf.next->keys[0]) >= end)
		return ix_cursor_at(ix, c, NULL, 0);
	return ix_cursor_at(ix, c, l, pos);
}

struct gpuva *gpuvm__index_cursor_next(const struct gpuvm_va_index *ix,
				       struct gpuvm__index_cursor *c)
{
	const struct ix_node *l = c->leaf;

	if (!l)
		return NULL;
	if (c->seq != ix->seq)
		return ix_cursor_find(ix, c, c->key, false);
	return ix_cursor_at(ix, c, l, c->slot + 1);
}

/* ---------------------------------------------------------------------- */
/* Verify */

struct ix_vstate {
	const struct gpuvm_va_index *ix;
	const struct ix_node *last_leaf;
	const struct gpuva *last_va;
	size_t count, nodes;
};

#define IX_FAIL(...)                                                           \
	do {                                                                   \
		fprintf(stderr, "gpuvm index: " __VA_ARGS__);                   \
		fputc('\n', stderr);                                           \
		return -EUCLEAN;                                               \
	} while (0)

static int ix_verify_leaf(struct ix_vstate *s, const struct ix_node *n, bool root,
			  bool spine)
{
	unsigned int min = root || spine ? 1 : IX_LEAF_MIN;

	if (n->count < min || n->count > IX_LEAF_MAX)
		IX_FAIL("leaf %p holds %u entries (allowed %u..%u)", (const void *)n,
			n->count, min, IX_LEAF_MAX);
	if (s->last_leaf) {
		if (s->last_leaf->u.leaf.next != n)
			IX_FAIL("leaf chain: %p is followed by %p instead of %p",
				(const void *)s->last_leaf,
				(const void *)s->last_leaf->u.leaf.next, (const void *)n);
	}
	s->last_leaf = n;
	for (unsigned int i = 0; i < n->count; i++) {
		const struct gpuva *va = n->u.leaf.vals[i];

		if (!va)
			IX_FAIL("leaf %p slot %u: NULL mapping", (const void *)n, i);
		if (va->va.addr != n->keys[i])
			IX_FAIL("leaf %p slot %u: key 0x%llx but mapping starts at 0x%llx",
				(const void *)n, i, (unsigned long long)n->keys[i],
				(unsigned long long)va->va.addr);
		if (n->lens[i] != ix_len(va))
			IX_FAIL("leaf %p slot %u: length 0x%x but mapping 0x%llx has range 0x%llx",
				(const void *)n, i, n->lens[i],
				(unsigned long long)va->va.addr,
				(unsigned long long)va->va.range);
		if (va->va.range > UINT64_MAX - va->va.addr)
			IX_FAIL("mapping 0x%llx+0x%llx: end overflows",
				(unsigned long long)va->va.addr,
				(unsigned long long)va->va.range);
		if (s->last_va) {
			const struct gpuva *pv = s->last_va;

			if (pv->va.addr >= va->va.addr)
				IX_FAIL("keys out of order: 0x%llx then 0x%llx",
					(unsigned long long)pv->va.addr,
					(unsigned long long)va->va.addr);
			if (pv->va.addr + pv->va.range > va->va.addr)
				IX_FAIL("mapping 0x%llx+0x%llx overlaps 0x%llx",
					(unsigned long long)pv->va.addr,
					(unsigned long long)pv->va.range,
					(unsigned long long)va->va.addr);
		}
		s->last_va = va;
	}
	for (unsigned int i = n->count; i < IX_KEYS; i++)
		if (n->keys[i] != IX_PAD)
			IX_FAIL("leaf %p: unused key slot %u is not padded", (const void *)n, i);
	s->count += n->count;
	return 0;
}

/*
 * Check the subtree @n at @depth whose keys lie in [lo, hi) (when bounded);
 * *min receives its smallest key.
 */
static int ix_verify_node(struct ix_vstate *s, const struct ix_node *n, uint32_t depth,
			  bool has_lo, uint64_t lo, bool has_hi, uint64_t hi, bool spine,
			  uint64_t *min)
{
	uint32_t level = s->ix->height - 1 - depth;
	bool root = depth == 0;
	unsigned int nk;
	int err;

	if (!n)
		IX_FAIL("NULL node at depth %u", depth);
	if (((uintptr_t)n & (IX_NODE_ALIGN - 1)) != 0)
		IX_FAIL("node %p is misaligned", (const void *)n);
	if (n->level != level)
		IX_FAIL("node %p at depth %u has level %u, expected %u (unequal heights)",
			(const void *)n, depth, n->level, level);
	if (++s->nodes > s->ix->nodes)
		IX_FAIL("more nodes in the tree than ix->nodes (%zu)", s->ix->nodes);
	if (!level) {
		err = ix_verify_leaf(s, n, root, spine);
		if (err)
			return err;
	} else {
		unsigned int cmin = root || spine ? 2 : IX_INNER_MIN;

		if (n->count < cmin || n->count > IX_INNER_MAX)
			IX_FAIL("inner node %p has %u children (allowed %u..%u)",
				(const void *)n, n->count, cmin, IX_INNER_MAX);
	}
	nk = ix_nkeys(n);
	for (unsigned int i = 0; i < nk; i++) {
		if (n->keys[i] == IX_PAD)
			IX_FAIL("node %p key %u is the padding value", (const void *)n, i);
		if (i && n->keys[i - 1] >= n->keys[i])
			IX_FAIL("node %p keys %u and %u out of order", (const void *)n, i - 1, i);
	}
	if (nk && has_lo && n->keys[0] < lo)
		IX_FAIL("node %p key 0x%llx below its separator 0x%llx", (const void *)n,
			(unsigned long long)n->keys[0], (unsigned long long)lo);
	if (nk && has_hi && n->keys[nk - 1] >= hi)
		IX_FAIL("node %p key 0x%llx not below its separator 0x%llx",
			(const void *)n, (unsigned long long)n->keys[nk - 1],
			(unsigned long long)hi);
	if (!level) {
		*min = n->keys[0];
		return 0;
	}
	for (unsigned int i = nk; i < IX_KEYS; i++)
		if (n->keys[i] != IX_PAD)
			IX_FAIL("inner node %p: unused key slot %u is not padded",
				(const void *)n, i);
	for (unsigned int i = 0; i < n->count; i++) {
		bool clo = i ? true : has_lo, chi = i + 1 < n->count ? true : has_hi;
		uint64_t l = i ? n->keys[i - 1] : lo, h = i + 1 < n->count ? n->keys[i] : hi;
		uint64_t cmin;

		if (n->u.child[i] == n)
			IX_FAIL("node %p is its own child", (const void *)n);
		err = ix_verify_node(s, n->u.child[i], depth + 1, clo, l, chi, h,
				     spine && i + 1 == n->count, &cmin);
		if (err)
			return err;
		if (i && cmin != n->keys[i - 1])
			IX_FAIL("node %p separator %u is 0x%llx but its subtree starts at 0x%llx",
				(const void *)n, i - 1, (unsigned long long)n->keys[i - 1],
				(unsigned long long)cmin);
		if (!i)
			*min = cmin;
	}
	return 0;
}

int gpuvm__index_verify(const struct gpuvm_va_index *ix)
{
	struct ix_vstate s = { .ix = ix };
	const struct ix_node *c;
	uint64_t min;
	size_t n = 0;
	int err;

	if (ix->height > IX_MAX_HEIGHT)
		IX_FAIL("height %u is impossible", ix->height);
	if (!ix->root) {
		if (ix->height || ix->count || ix->nodes)
			IX_FAIL("empty tree with height %u, count %zu, nodes %zu", ix->height,
				ix->count, ix->nodes);
	} else {
		if (!ix->height)
			IX_FAIL("non-empty tree with height 0");
		err = ix_verify_node(&s, ix->root, 0, false, 0, false, 0, true, &min);
		if (err)
			return err;
		if (s.last_leaf->u.leaf.next)
			IX_FAIL("last leaf %p has a next pointer", (const void *)s.last_leaf);
		if (s.count != ix->count)
			IX_FAIL("%zu mappings in the leaves, ix->count says %zu", s.count,
				ix->count);
		if (s.nodes != ix->nodes)
			IX_FAIL("%zu nodes in the tree, ix->nodes says %zu", s.nodes, ix->nodes);
	}
	if (ix->finger) {
		/* both ends of its bounds must descend to it without it */
		struct gpuvm_va_index *w = (struct gpuvm_va_index *)ix;
		struct ix_path p;

		if (!ix->root || ix->finger_lo >= ix->finger_hi)
			IX_FAIL("finger %p with bounds [%" PRIx64 ", %" PRIx64 ") in a tree of %zu",
				ix->finger, ix->finger_lo, ix->finger_hi, ix->count);
		if (ix_descend_path(w, ix->finger_lo, &p) != ix->finger || p.lo != ix->finger_lo ||
		    ix_descend_path(w, ix->finger_hi - 1, &p) != ix->finger ||
		    p.hi != ix->finger_hi)
			IX_FAIL("finger %p [%" PRIx64 ", %" PRIx64 ") is not the leaf of its bounds",
				ix->finger, ix->finger_lo, ix->finger_hi);
	}
	for (c = ix->cache; c && n <= ix->ncache; c = c->u.leaf.next)
		n++;
	if (n != ix->ncache)
		IX_FAIL("node cache holds %s%zu nodes, ix->ncache says %zu",
			n > ix->ncache ? "more than " : "", n, ix->ncache);
	return 0;
}
