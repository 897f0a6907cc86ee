/* SPDX-License-Identifier: MIT */
/*
 * gen-trace: write a gpuvm trace (trace format v1) that models a Vulkan-like
 * application session, for replay, benchmarks and regression runs.
 *
 * The session: a 48-bit VA space with a reserved low megabyte; device-memory
 * heaps (big BOs) that buffers are sub-allocated from at 4 KiB granularity,
 * created, freed, shrunk, moved and re-bound; a per-frame upload ring; and a
 * 2 GiB sparse image, bound sparse first, whose 64 KiB tiles are bound to a
 * pool of tile-memory BOs around a moving window and unbound behind it. Now
 * and then a heap or a tile BO is freed with mappings still on it (unmap-bo),
 * a range is prefetched, and the "application" makes a mistake the VM must
 * refuse. examples/traces/README.md describes the model and its layout.
 *
 * Output is a pure function of the options: one splitmix64 stream drives all
 * choices and everything is integer arithmetic, so a seed gives the same bytes
 * with every compiler and C library. --check FILE regenerates in memory and
 * compares, so a build can prove the committed trace is still what the
 * generator writes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PAGE (4 * KiB)
#define TILE (64 * KiB)

#define DEFAULT_SEED 0x5eed2024ull
#define DEFAULT_FRAMES 1400
#define DEFAULT_PCT 100

#define VM "app"
#define VM_RANGE (1ull << 48)
#define RESERVE_RANGE (1 * MiB)

/* VA layout; the zones are far apart so none can grow into another. */
#define BUF_VA_BASE (4 * GiB)
#define BUF_VA_SIZE (64 * GiB)
#define RING_VA_BASE (256 * GiB)
#define RING_SLOTS 3
#define RING_SLOT_SIZE (16 * MiB)
#define IMG_VA_BASE (512 * GiB)
#define IMG_SIZE (2 * GiB)
#define IMG_TILES ((uint32_t)(IMG_SIZE / TILE))

#define HEAP_SIZE (256 * MiB)
#define MAX_HEAPS 256
#define TILE_BO_SIZE (64 * MiB)
#define TILE_BO_SLOTS ((uint32_t)(TILE_BO_SIZE / TILE))
#define MAX_TILE_BOS 16
#define LIVE_TILE_BOS 4
#define MAX_SEGS 4
#define MAX_BIND_RUN 16
#define MAX_UNBIND_RUN 32

/*
 * The image's tiles, in VA order: three streamed mip levels laid out row by
 * row, then mip 3 and the mip tail (512 tiles) that stay bound to one BO.
 */
struct level {
	uint32_t base, w, h;
	int32_t radius, hyst;
	unsigned int shift;
	int bind_budget, unbind_budget;
};

/* Radii and budgets in tiles: wide enough that streaming never stops, small enough to churn. */
static const struct level levels[] = {
	{ .base = 0, .w = 192, .h = 128, .radius = 14, .hyst = 3, .shift = 0,
	  .bind_budget = 24, .unbind_budget = 32 },
	{ .base = 24576, .w = 96, .h = 64, .radius = 9, .hyst = 2, .shift = 1,
	  .bind_budget = 10, .unbind_budget = 12 },
	{ .base = 30720, .w = 48, .h = 32, .radius = 6, .hyst = 2, .shift = 2,
	  .bind_budget = 6, .unbind_budget = 8 },
};
#define NLEVELS (sizeof(levels) / sizeof(levels[0]))
#define TAIL_FIRST_TILE 32256u
#define TAIL_TILES (IMG_TILES - TAIL_FIRST_TILE)

/* splitmix64: tiny, full-period, and the same everywhere (rand() is not). */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n): reject the low values a plain modulo would favour. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	uint64_t lim = (0 - n) % n;
	uint64_t x;

	do
		x = rng_next(r);
	while (x < lim);
	return x % n;
}

static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

static bool rng_chance(struct rng *r, unsigned int num, unsigned int den)
{
	return rng_below(r, den) < num;
}

static _Noreturn void die(const char *msg)
{
	fprintf(stderr, "gen-trace: %s\n", msg);
	exit(2);
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	if (n && size > SIZE_MAX / n)
		die("out of memory");
	p = realloc(p, n * size);
	if (!p && n)
		die("out of memory");
	return p;
}

/*
 * A first-fit extent allocator: the free extents of a range, sorted and
 * coalesced. Used for the buffer VA zone and for each heap's offsets.
 */
struct extent {
	uint64_t start, len;
};

struct space {
	struct extent *v;
	size_t n, cap;
};

static void space_insert(struct space *s, size_t i, uint64_t start, uint64_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xrealloc(s->v, s->cap, sizeof(*s->v));
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i].start = start;
	s->v[i].len = len;
	s->n++;
}

static void space_remove(struct space *s, size_t i)
{
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

static void space_init(struct space *s, uint64_t start, uint64_t len)
{
	s->v = NULL;
	s->n = s->cap = 0;
	space_insert(s, 0, start, len);
}

static void space_destroy(struct space *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static bool space_alloc(struct space *s, uint64_t len, uint64_t align, uint64_t *out)
{
	for (size_t i = 0; i < s->n; i++) {
		struct extent *e = &s->v[i];
		uint64_t a = (e->start + align - 1) & ~(align - 1);
		uint64_t end = e->start + e->len;
		uint64_t head, tail;

		if (a > end || end - a < len)
			continue;
		head = a - e->start;
		tail = end - (a + len);
		if (head && tail) {
			e->len = head;
			space_insert(s, i + 1, a + len, tail);
		} else if (head) {
			e->len = head;
		} else if (tail) {
			e->start = a + len;
			e->len = tail;
		} else {
			space_remove(s, i);
		}
		*out = a;
		return true;
	}
	return false;
}

/* Give [start, start + len) back; freeing what is already free is a bug of ours. */
static void space_free(struct space *s, uint64_t start, uint64_t len)
{
	size_t lo = 0, hi = s->n, i;
	bool prev, next;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].start < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	if ((i > 0 && s->v[i - 1].start + s->v[i - 1].len > start) ||
	    (i < s->n && start + len > s->v[i].start))
		die("internal error: double free in an extent allocator");
	prev = i > 0 && s->v[i - 1].start + s->v[i - 1].len == start;
	next = i < s->n && start + len == s->v[i].start;
	if (prev && next) {
		s->v[i - 1].len += len + s->v[i].len;
		space_remove(s, i);
	} else if (prev) {
		s->v[i - 1].len += len;
	} else if (next) {
		s->v[i].start = start;
		s->v[i].len += len;
	} else {
		space_insert(s, i, start, len);
	}
}

/* Pool 0 is general memory; each game level's data has a pool of its own heaps. */
struct heap {
	char name[16];
	struct space sp;
	uint64_t used;
	int born;
	int pool;
	bool live;
};

/* A buffer's VA range and the heap pieces behind it, in VA order. */
struct seg {
	uint64_t va, len, off;
	int heap;
};

struct buffer {
	uint64_t va, size;
	struct seg seg[MAX_SEGS];
	int nseg;
	int expire;	/* frame of death, -1 for level data */
	int pool;
	size_t pos;	/* index in the live list */
	bool live;
};

struct tilebo {
	char name[16];
	int32_t tile[TILE_BO_SLOTS];	/* tile bound to each slot, -1 when free */
	uint32_t used;
	bool live;
};

struct tile_cand {
	int64_t d2;
	uint32_t idx;
};

struct counts {
	unsigned long vm, bo, map, sparse, unmap, prefetch, unmap_bo, dump, bugs, comments;
};

struct gen {
	struct rng rng;
	uint64_t seed;
	int frames;
	unsigned int pct;
	int frame;

	FILE *out;
	FILE *ref;		/* --check: the file compared against */
	unsigned long line;
	unsigned long first_diff;

	struct counts n;

	struct space va;
	struct heap heaps[MAX_HEAPS];
	int nheaps;
	struct buffer *bufs;
	size_t nbufs, capbufs;
	size_t *live;
	size_t nlive, caplive;

	uint64_t ring_used[RING_SLOTS];

	int32_t tile_loc[IMG_TILES];	/* bo * TILE_BO_SLOTS + slot, or -1 */
	struct tilebo tbo[MAX_TILE_BOS];
	int ntbo;
	int32_t cx16, cy16, vx16, vy16;	/* window centre and speed, 1/16 tile */
	struct tile_cand *cand;

	int next_level_change;
	int level_pool;
};

/* ---- output --------------------------------------------------------------------------- */

static void out_line(struct gen *g, const char *fmt, ...)
{
	char buf[320], cmp[320];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		die("internal error: line too long");
	buf[n++] = '\n';
	g->line++;
	if (!g->ref) {
		if (fwrite(buf, 1, (size_t)n, g->out) != (size_t)n)
			die("write error");
		return;
	}
	if (g->first_diff)
		return;
	if (fread(cmp, 1, (size_t)n, g->ref) != (size_t)n || memcmp(cmp, buf, (size_t)n))
		g->first_diff = g->line;
}

#define X "0x%" PRIx64

static void comment(struct gen *g, const char *text)
{
	if (*text)
		out_line(g, "# %s", text);
	else
		out_line(g, "#");
	g->n.comments++;
}

static void req_map(struct gen *g, uint64_t va, uint64_t len, const char *bo, uint64_t off)
{
	out_line(g, "map " VM " " X " " X " %s " X, va, len, bo, off);
	g->n.map++;
}

static void req_sparse(struct gen *g, uint64_t va, uint64_t len)
{
	out_line(g, "map " VM " " X " " X " - 0x0", va, len);
	g->n.sparse++;
}

static void req_unmap(struct gen *g, uint64_t va, uint64_t len)
{
	out_line(g, "unmap " VM " " X " " X, va, len);
	g->n.unmap++;
}

static void req_prefetch(struct gen *g, uint64_t va, uint64_t len)
{
	out_line(g, "prefetch " VM " " X " " X, va, len);
	g->n.prefetch++;
}

static void req_unmap_bo(struct gen *g, const char *bo)
{
	out_line(g, "unmap-bo " VM " %s", bo);
	g->n.unmap_bo++;
}

static void req_bo(struct gen *g, const char *name, uint64_t size)
{
	out_line(g, "bo %s " X, name, size);
	g->n.bo++;
}

static void req_dump(struct gen *g)
{
	out_line(g, "dump " VM);
	g->n.dump++;
}

/* ---- heaps and buffers ------------------------------------------------------------------ */

static int heap_create(struct gen *g, int pool)
{
	struct heap *h;

	if (g->nheaps == MAX_HEAPS)
		die("too many heaps; lower --frames or --requests");
	h = &g->heaps[g->nheaps];
	snprintf(h->name, sizeof(h->name), "heap%d", g->nheaps);
	space_init(&h->sp, 0, HEAP_SIZE);
	h->used = 0;
	h->born = g->frame;
	h->pool = pool;
	h->live = true;
	req_bo(g, h->name, HEAP_SIZE);
	return g->nheaps++;
}

/* First fit over the pool's live heaps in creation order, a new heap when none has room. */
static int heap_alloc(struct gen *g, int pool, uint64_t len, uint64_t *off)
{
	uint64_t align = len >= 64 * KiB ? 64 * KiB : PAGE;
	int i;

	for (i = 0; i < g->nheaps; i++) {
		struct heap *h = &g->heaps[i];

		if (h->live && h->pool == pool && space_alloc(&h->sp, len, align, off)) {
			h->used += len;
			return i;
		}
	}
	i = heap_create(g, pool);
	if (!space_alloc(&g->heaps[i].sp, len, align, off))
		die("internal error: buffer larger than a heap");
	g->heaps[i].used += len;
	return i;
}

static void heap_release(struct gen *g, int heap, uint64_t off, uint64_t len)
{
	struct heap *h = &g->heaps[heap];

	if (!h->live)
		return;
	space_free(&h->sp, off, len);
	h->used -= len;
}

/* Sizes of real buffers: many small uniform/index buffers, some megabytes, few big ones. */
static uint64_t buffer_size(struct gen *g)
{
	unsigned int kind = (unsigned int)rng_below(&g->rng, 100);
	uint64_t lo, hi;

	if (kind < 60) {
		lo = PAGE;
		hi = 64 * KiB;
	} else if (kind < 90) {
		lo = 64 * KiB;
		hi = 1 * MiB;
	} else {
		lo = 1 * MiB;
		hi = 16 * MiB;
	}
	/* log-uniform between lo and hi, then whole pages */
	{
		unsigned int lb = 0, hb = 0;
		uint64_t top, size;

		while ((lo >> lb) > 1)
			lb++;
		while ((hi >> hb) > 1)
			hb++;
		top = 1ull << rng_range(&g->rng, lb, hb - 1);
		size = top + rng_below(&g->rng, top);
		return (size + PAGE - 1) & ~(PAGE - 1);
	}
}

static struct buffer *buf_new(struct gen *g)
{
	struct buffer *b;
	size_t i;

	for (i = 0; i < g->nbufs; i++)
		if (!g->bufs[i].live)
			break;
	if (i == g->nbufs) {
		if (g->nbufs == g->capbufs) {
			g->capbufs = g->capbufs ? 2 * g->capbufs : 256;
			g->bufs = xrealloc(g->bufs, g->capbufs, sizeof(*g->bufs));
		}
		g->nbufs++;
	}
	b = &g->bufs[i];
	memset(b, 0, sizeof(*b));
	b->live = true;
	if (g->nlive == g->caplive) {
		g->caplive = g->caplive ? 2 * g->caplive : 256;
		g->live = xrealloc(g->live, g->caplive, sizeof(*g->live));
	}
	b->pos = g->nlive;
	g->live[g->nlive++] = i;
	return b;
}

static void buf_forget(struct gen *g, struct buffer *b)
{
	size_t last = g->live[--g->nlive];

	g->live[b->pos] = last;
	g->bufs[last].pos = b->pos;
	b->live = false;
}

static void buffer_create(struct gen *g, int pool, uint64_t size, int expire)
{
	uint64_t align = size >= 2 * MiB ? 2 * MiB : size >= 64 * KiB ? 64 * KiB : PAGE;
	struct buffer *b;
	uint64_t va, off;
	int heap;

	if (!space_alloc(&g->va, size, align, &va))
		die("buffer VA zone exhausted");
	heap = heap_alloc(g, pool, size, &off);
	b = buf_new(g);
	b->va = va;
	b->size = size;
	b->expire = expire;
	b->pool = pool;
	b->nseg = 1;
	b->seg[0] = (struct seg){ va, size, off, heap };
	req_map(g, va, size, g->heaps[heap].name, off);
}

static void buffer_destroy(struct gen *g, struct buffer *b, bool emit)
{
	if (emit)
		req_unmap(g, b->va, b->size);
	for (int i = 0; i < b->nseg; i++)
		heap_release(g, b->seg[i].heap, b->seg[i].off, b->seg[i].len);
	space_free(&g->va, b->va, b->size);
	buf_forget(g, b);
}

static struct buffer *random_buffer(struct gen *g)
{
	if (!g->nlive)
		return NULL;
	return &g->bufs[g->live[rng_below(&g->rng, g->nlive)]];
}

/* Drop everything of @b at or above @cut from its segments (and their heaps). */
static void buffer_cut(struct gen *g, struct buffer *b, uint64_t cut)
{
	int keep = 0;

	for (int i = 0; i < b->nseg; i++) {
		struct seg *s = &b->seg[i];
		uint64_t end = s->va + s->len;

		if (end <= cut) {
			b->seg[keep++] = *s;
		} else if (s->va >= cut) {
			heap_release(g, s->heap, s->off, s->len);
		} else {
			heap_release(g, s->heap, s->off + (cut - s->va), end - cut);
			s->len = cut - s->va;
			b->seg[keep++] = *s;
		}
	}
	b->nseg = keep;
}

/* Give back the tail of a buffer (a sparse-buffer shrink): the VM splits the mapping. */
static void buffer_shrink(struct gen *g, struct buffer *b)
{
	uint64_t pages = b->size / PAGE, cut;

	if (pages < 2)
		return;
	cut = b->va + rng_range(&g->rng, 1, pages - 1) * PAGE;
	req_unmap(g, cut, b->va + b->size - cut);
	buffer_cut(g, b, cut);
	space_free(&g->va, cut, b->va + b->size - cut);
	b->size = cut - b->va;
}

/* Move the buffer to new memory (defragmentation): one bind over the whole range. */
static void buffer_move(struct gen *g, struct buffer *b)
{
	uint64_t off;
	int heap = heap_alloc(g, b->pool, b->size, &off);

	req_map(g, b->va, b->size, g->heaps[heap].name, off);
	buffer_cut(g, b, b->va);
	b->nseg = 1;
	b->seg[0] = (struct seg){ b->va, b->size, off, heap };
}

/* Move only the upper part of a buffer: the VM keeps the lower part of the old mapping. */
static void buffer_move_tail(struct gen *g, struct buffer *b)
{
	uint64_t pages = b->size / PAGE, cut, off;
	int heap;

	if (pages < 2 || b->nseg == MAX_SEGS) {
		buffer_move(g, b);
		return;
	}
	cut = b->va + rng_range(&g->rng, 1, pages - 1) * PAGE;
	heap = heap_alloc(g, b->pool, b->va + b->size - cut, &off);
	req_map(g, cut, b->va + b->size - cut, g->heaps[heap].name, off);
	buffer_cut(g, b, cut);
	b->seg[b->nseg++] = (struct seg){ cut, b->va + b->size - cut, off, heap };
}

/*
 * Re-bind part of a buffer to the memory it already has (an application that
 * re-issues its binds): the VM reports that the page tables may be kept.
 */
static void buffer_rebind_same(struct gen *g, struct buffer *b)
{
	struct seg *s = &b->seg[rng_below(&g->rng, (uint64_t)b->nseg)];
	uint64_t pages = s->len / PAGE, first, count;

	if (pages < 3) {
		req_map(g, s->va, s->len, g->heaps[s->heap].name, s->off);
		return;
	}
	first = rng_range(&g->rng, 1, pages - 2);
	count = rng_range(&g->rng, 1, pages - 1 - first);
	req_map(g, s->va + first * PAGE, count * PAGE, g->heaps[s->heap].name,
		s->off + first * PAGE);
}

/*
 * Free a heap that still has buffers bound to it. The driver tears down every
 * mapping of the BO (unmap-bo); the application then destroys the buffers,
 * which unmaps what those had in other heaps.
 */
static void heap_free(struct gen *g, int heap)
{
	struct heap *h = &g->heaps[heap];
	unsigned long bound = 0;
	char msg[96];

	for (size_t i = 0; i < g->nlive; i++) {
		const struct buffer *b = &g->bufs[g->live[i]];

		for (int k = 0; k < b->nseg; k++) {
			if (b->seg[k].heap == heap) {
				bound++;
				break;
			}
		}
	}
	snprintf(msg, sizeof(msg), "application frees %s, %lu buffer(s) still bound to it",
		 h->name, bound);
	comment(g, msg);
	req_unmap_bo(g, h->name);
	h->live = false;
	space_destroy(&h->sp);
	for (size_t i = 0; i < g->nlive;) {
		struct buffer *b = &g->bufs[g->live[i]];
		bool on_heap = false, elsewhere = false;

		for (int k = 0; k < b->nseg; k++) {
			if (b->seg[k].heap == heap)
				on_heap = true;
			else
				elsewhere = true;
		}
		if (!on_heap) {
			i++;
			continue;
		}
		/* destroying a buffer moves the last live one into slot i */
		buffer_destroy(g, b, elsewhere);
	}
}

/* ---- sparse image ----------------------------------------------------------------------- */

static uint64_t tile_va(uint32_t idx)
{
	return IMG_VA_BASE + (uint64_t)idx * TILE;
}

static int tilebo_create(struct gen *g)
{
	struct tilebo *t;

	if (g->ntbo == MAX_TILE_BOS)
		return -1;
	t = &g->tbo[g->ntbo];
	snprintf(t->name, sizeof(t->name), "tile%d", g->ntbo);
	for (uint32_t i = 0; i < TILE_BO_SLOTS; i++)
		t->tile[i] = -1;
	t->used = 0;
	t->live = true;
	req_bo(g, t->name, TILE_BO_SIZE);
	return g->ntbo++;
}

static int live_tilebos(const struct gen *g)
{
	int n = 0;

	for (int i = 0; i < g->ntbo; i++)
		n += g->tbo[i].live;
	return n;
}

/* First run of @n free slots in one live tile BO; grows the pool when all are full. */
static bool tile_slots(struct gen *g, uint32_t n, int *bo, uint32_t *slot)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < g->ntbo; i++) {
			struct tilebo *t = &g->tbo[i];
			uint32_t run = 0;

			if (!t->live || TILE_BO_SLOTS - t->used < n)
				continue;
			for (uint32_t s = 0; s < TILE_BO_SLOTS; s++) {
				run = t->tile[s] < 0 ? run + 1 : 0;
				if (run == n) {
					*bo = i;
					*slot = s + 1 - n;
					return true;
				}
			}
		}
		if (pass || n > 1 || live_tilebos(g) >= LIVE_TILE_BOS || tilebo_create(g) < 0)
			return false;
	}
	return false;
}

static void tile_bind_run(struct gen *g, uint32_t first, uint32_t n)
{
	uint32_t slot;
	int bo;

	if (!tile_slots(g, n, &bo, &slot)) {
		if (n == 1)
			return;	/* pool exhausted: this tile stays sparse for now */
		tile_bind_run(g, first, n / 2);
		tile_bind_run(g, first + n / 2, n - n / 2);
		return;
	}
	req_map(g, tile_va(first), (uint64_t)n * TILE, g->tbo[bo].name, (uint64_t)slot * TILE);
	for (uint32_t i = 0; i < n; i++) {
		g->tbo[bo].tile[slot + i] = (int32_t)(first + i);
		g->tile_loc[first + i] = (int32_t)((uint32_t)bo * TILE_BO_SLOTS + slot + i);
	}
	g->tbo[bo].used += n;
}

static void tile_forget(struct gen *g, uint32_t idx)
{
	int32_t loc = g->tile_loc[idx];
	struct tilebo *t = &g->tbo[(uint32_t)loc / TILE_BO_SLOTS];

	t->tile[(uint32_t)loc % TILE_BO_SLOTS] = -1;
	t->used--;
	g->tile_loc[idx] = -1;
}

/* Unbinding makes the range sparse again; some drivers' users unmap first. */
static void tile_unbind_run(struct gen *g, uint32_t first, uint32_t n)
{
	if (rng_chance(&g->rng, 1, 10))
		req_unmap(g, tile_va(first), (uint64_t)n * TILE);
	req_sparse(g, tile_va(first), (uint64_t)n * TILE);
	for (uint32_t i = 0; i < n; i++)
		tile_forget(g, first + i);
}

static int cand_far_first(const void *a, const void *b)
{
	const struct tile_cand *x = a, *y = b;

	if (x->d2 != y->d2)
		return x->d2 < y->d2 ? 1 : -1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cand_near_first(const void *a, const void *b)
{
	const struct tile_cand *x = a, *y = b;

	if (x->d2 != y->d2)
		return x->d2 < y->d2 ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cand_by_index(const void *a, const void *b)
{
	const struct tile_cand *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int scaled(const struct gen *g, int v)
{
	int s = (int)(((long)v * (long)g->pct + 50) / 100);

	return s < 1 ? 1 : s;
}

/*
 * One frame of streaming for one mip level: unbind the farthest tiles beyond
 * the window's outer radius, then bind the nearest missing ones, each within a
 * budget. Tiles are handled in runs of neighbours, one request per run.
 */
static void stream_level(struct gen *g, const struct level *L)
{
	int32_t cx = g->cx16 >> L->shift, cy = g->cy16 >> L->shift;
	int64_t in2 = (int64_t)L->radius * L->radius * 256;
	int64_t out2 = (int64_t)(L->radius + L->hyst) * (L->radius + L->hyst) * 256;
	size_t nfar = 0, nnear = 0, take;
	struct tile_cand *c = g->cand;
	size_t total = (size_t)L->w * L->h;

	/* far candidates fill c[] from the front, near ones from the back */
	for (uint32_t y = 0; y < L->h; y++) {
		for (uint32_t x = 0; x < L->w; x++) {
			uint32_t idx = L->base + y * L->w + x;
			int64_t dx = (int64_t)x * 16 + 8 - cx, dy = (int64_t)y * 16 + 8 - cy;
			int64_t d2 = dx * dx + dy * dy;

			if (g->tile_loc[idx] >= 0 && d2 > out2)
				c[nfar++] = (struct tile_cand){ d2, idx };
			else if (g->tile_loc[idx] < 0 && d2 <= in2)
				c[total - 1 - nnear++] = (struct tile_cand){ d2, idx };
		}
	}

	qsort(c, nfar, sizeof(*c), cand_far_first);
	take = nfar < (size_t)scaled(g, L->unbind_budget) ? nfar : (size_t)scaled(g, L->unbind_budget);
	qsort(c, take, sizeof(*c), cand_by_index);
	for (size_t i = 0; i < take;) {
		size_t j = i + 1;

		while (j < take && j - i < MAX_UNBIND_RUN && c[j].idx == c[j - 1].idx + 1)
			j++;
		tile_unbind_run(g, c[i].idx, (uint32_t)(j - i));
		i = j;
	}

	c += total - nnear;
	qsort(c, nnear, sizeof(*c), cand_near_first);
	take = nnear < (size_t)scaled(g, L->bind_budget) ? nnear : (size_t)scaled(g, L->bind_budget);
	qsort(c, take, sizeof(*c), cand_by_index);
	for (size_t i = 0; i < take;) {
		size_t j = i + 1;

		while (j < take && j - i < MAX_BIND_RUN && c[j].idx == c[j - 1].idx + 1)
			j++;
		tile_bind_run(g, c[i].idx, (uint32_t)(j - i));
		i = j;
	}
}

/* The window drifts, turns now and then, bounces off the edges and sometimes jumps. */
static void move_window(struct gen *g)
{
	const int32_t w16 = (int32_t)levels[0].w * 16, h16 = (int32_t)levels[0].h * 16;

	if (rng_chance(&g->rng, 1, 250)) {
		comment(g, "camera cut: the streaming window jumps");
		g->cx16 = (int32_t)rng_below(&g->rng, (uint64_t)w16);
		g->cy16 = (int32_t)rng_below(&g->rng, (uint64_t)h16);
	}
	if (rng_chance(&g->rng, 1, 40)) {
		g->vx16 = (int32_t)rng_range(&g->rng, 0, 24) - 12;
		g->vy16 = (int32_t)rng_range(&g->rng, 0, 16) - 8;
	}
	g->cx16 += g->vx16;
	g->cy16 += g->vy16;
	if (g->cx16 < 0 || g->cx16 >= w16) {
		g->vx16 = -g->vx16;
		g->cx16 = g->cx16 < 0 ? 0 : w16 - 1;
	}
	if (g->cy16 < 0 || g->cy16 >= h16) {
		g->vy16 = -g->vy16;
		g->cy16 = g->cy16 < 0 ? 0 : h16 - 1;
	}
}

static uint32_t resident_tile(struct gen *g, bool *found)
{
	uint32_t start = (uint32_t)rng_below(&g->rng, TAIL_FIRST_TILE);

	for (uint32_t i = 0; i < TAIL_FIRST_TILE; i++) {
		uint32_t idx = (start + i) % TAIL_FIRST_TILE;

		if (g->tile_loc[idx] >= 0) {
			*found = true;
			return idx;
		}
	}
	*found = false;
	return 0;
}

/* Occasional residency noise: a redundant re-bind, a tile moved to other memory. */
static void tile_misc(struct gen *g)
{
	bool found;
	uint32_t idx;

	if (rng_chance(&g->rng, 1, 20)) {
		idx = resident_tile(g, &found);
		if (found) {
			uint32_t loc = (uint32_t)g->tile_loc[idx];

			req_map(g, tile_va(idx), TILE, g->tbo[loc / TILE_BO_SLOTS].name,
				(uint64_t)(loc % TILE_BO_SLOTS) * TILE);
		}
	}
	if (rng_chance(&g->rng, 1, 100)) {
		idx = resident_tile(g, &found);
		if (found) {
			int32_t old = g->tile_loc[idx];

			tile_forget(g, idx);
			tile_bind_run(g, idx, 1);
			if (g->tile_loc[idx] < 0) {
				/* no other slot free: keep it where it was */
				struct tilebo *t = &g->tbo[(uint32_t)old / TILE_BO_SLOTS];

				t->tile[(uint32_t)old % TILE_BO_SLOTS] = (int32_t)idx;
				t->used++;
				g->tile_loc[idx] = old;
			}
		}
	}
}

/*
 * Memory pressure: the application releases a whole tile BO. The driver
 * unmaps its tiles (unmap-bo); the application re-binds those ranges as sparse
 * and streams them back in over the next frames.
 */
static void tile_pressure(struct gen *g)
{
	int victim = -1;
	char msg[96];

	for (int i = 0; i < g->ntbo; i++)
		if (g->tbo[i].live && (victim < 0 || g->tbo[i].used > g->tbo[victim].used))
			victim = i;
	if (victim < 0)
		return;
	snprintf(msg, sizeof(msg), "memory pressure: application releases tile memory %s",
		 g->tbo[victim].name);
	comment(g, msg);
	req_unmap_bo(g, g->tbo[victim].name);
	for (uint32_t idx = 0; idx < TAIL_FIRST_TILE;) {
		uint32_t n = 0;

		while (idx + n < TAIL_FIRST_TILE && n < MAX_UNBIND_RUN && g->tile_loc[idx + n] >= 0 &&
		       (uint32_t)g->tile_loc[idx + n] / TILE_BO_SLOTS == (uint32_t)victim)
			n++;
		if (!n) {
			idx++;
			continue;
		}
		req_sparse(g, tile_va(idx), (uint64_t)n * TILE);
		for (uint32_t i = 0; i < n; i++)
			tile_forget(g, idx + i);
		idx += n;
	}
	g->tbo[victim].live = false;
}

/* ---- the session ------------------------------------------------------------------------ */

/*
 * A level change: the application drops part of the old level's buffers one
 * by one, loads the new level into new heaps, then frees the old level's heaps
 * with the rest still bound. A general heap left nearly empty is freed too.
 */
static void level_change(struct gen *g)
{
	int old = g->level_pool, victim = -1, general = 0;
	uint64_t count;

	comment(g, "level change: part of the old level's data freed, the new level loaded");
	for (size_t i = 0; i < g->nlive;) {
		struct buffer *b = &g->bufs[g->live[i]];

		if (b->pool == old && rng_chance(&g->rng, 1, 2)) {
			buffer_destroy(g, b, true);
			continue;
		}
		i++;
	}
	g->level_pool++;
	count = rng_range(&g->rng, 80, 200) * g->pct / 100;
	for (uint64_t i = 0; i < count; i++)
		buffer_create(g, g->level_pool, buffer_size(g), -1);
	for (int i = 0; i < g->nheaps; i++)
		if (g->heaps[i].live && g->heaps[i].pool == old)
			heap_free(g, i);
	for (int i = 0; i < g->nheaps; i++) {
		struct heap *h = &g->heaps[i];

		if (!h->live || h->pool)
			continue;
		general++;
		if (g->frame - h->born >= 100 && h->used < HEAP_SIZE / 8 &&
		    (victim < 0 || h->used < g->heaps[victim].used))
			victim = i;
	}
	if (victim >= 0 && general > 1)
		heap_free(g, victim);
}

static void app_bug(struct gen *g)
{
	const char *heap = NULL;
	uint64_t va;

	for (int i = 0; i < g->nheaps && !heap; i++)
		if (g->heaps[i].live)
			heap = g->heaps[i].name;
	if (!heap)
		return;
	va = BUF_VA_BASE + rng_below(&g->rng, BUF_VA_SIZE / PAGE) * PAGE;
	switch (rng_below(&g->rng, 6)) {
	case 0:
		out_line(g, "map " VM " " X " 0x20000 %s 0x0 # app bug: crosses the end of the VA space",
			 VM_RANGE - 0x10000, heap);
		break;
	case 1:
		out_line(g, "map " VM " 0xf0000 0x20000 %s 0x0 # app bug: over the reserved region",
			 heap);
		break;
	case 2:
		out_line(g, "map " VM " " X " 0x10000 %s " X " # app bug: past the end of the heap",
			 va, heap, HEAP_SIZE - 0x8000);
		break;
	case 3:
		out_line(g, "prefetch " VM " 0x0 0x1000 # app bug: prefetch of the reserved region");
		break;
	case 4:
		out_line(g, "unmap " VM " " X " 0x1000 # app bug: beyond the VA space", VM_RANGE);
		break;
	default:
		out_line(g, "map " VM " " X " 0x0 %s 0x0 # app bug: zero-sized bind", va, heap);
		break;
	}
	g->n.bugs++;
}

static void prefetch(struct gen *g)
{
	if (rng_chance(&g->rng, 1, 2)) {
		/* a row of mip 0 across the window: bound tiles and sparse gaps */
		const struct level *L = &levels[0];
		int32_t y = g->cy16 / 16, x0 = g->cx16 / 16 - 24, x1 = g->cx16 / 16 + 24;

		if (x0 < 0)
			x0 = 0;
		if (x1 > (int32_t)L->w)
			x1 = (int32_t)L->w;
		if (y >= (int32_t)L->h)
			y = (int32_t)L->h - 1;
		if (x1 > x0)
			req_prefetch(g, tile_va(L->base + (uint32_t)y * L->w + (uint32_t)x0),
				     (uint64_t)(uint32_t)(x1 - x0) * TILE);
	} else {
		struct buffer *b = random_buffer(g);

		if (b)
			req_prefetch(g, b->va, b->size + rng_below(&g->rng, 4) * 64 * KiB);
	}
}

static void ring_frame(struct gen *g)
{
	unsigned int slot = (unsigned int)g->frame % RING_SLOTS;
	uint64_t base = RING_VA_BASE + slot * RING_SLOT_SIZE;
	uint64_t count = rng_range(&g->rng, 4, 12) * g->pct / 100;

	/* the slot's fence signalled: its whole arena goes at once */
	if (g->ring_used[slot])
		req_unmap(g, base, RING_SLOT_SIZE);
	g->ring_used[slot] = 0;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t size = rng_chance(&g->rng, 1, 20) ? rng_range(&g->rng, 256, 1024) * PAGE
							     : rng_range(&g->rng, 1, 16) * PAGE;

		if (g->ring_used[slot] + size > RING_SLOT_SIZE)
			break;
		req_map(g, base + g->ring_used[slot], size, "upload0",
			slot * RING_SLOT_SIZE + g->ring_used[slot]);
		g->ring_used[slot] += size;
	}
}

static void buffers_frame(struct gen *g)
{
	uint64_t count;

	for (size_t i = 0; i < g->nlive;) {
		struct buffer *b = &g->bufs[g->live[i]];

		if (b->expire >= 0 && b->expire <= g->frame) {
			buffer_destroy(g, b, true);
			continue;
		}
		i++;
	}
	count = rng_range(&g->rng, 0, 3) * g->pct / 100;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t size = buffer_size(g);

		buffer_create(g, 0, size, g->frame + (int)rng_range(&g->rng, 2, 150));
	}
	if (rng_chance(&g->rng, 3, 100)) {
		struct buffer *b = random_buffer(g);

		if (b)
			buffer_shrink(g, b);
	}
	if (rng_chance(&g->rng, 2, 100)) {
		struct buffer *b = random_buffer(g);

		if (b)
			buffer_move(g, b);
	}
	if (rng_chance(&g->rng, 2, 100)) {
		struct buffer *b = random_buffer(g);

		if (b)
			buffer_move_tail(g, b);
	}
	if (rng_chance(&g->rng, 5, 100)) {
		struct buffer *b = random_buffer(g);

		if (b)
			buffer_rebind_same(g, b);
	}
}

static void header(struct gen *g)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "gen-trace --seed 0x%" PRIx64 " --frames %d --requests %u",
		 g->seed, g->frames, g->pct);
	comment(g, "A synthetic Vulkan-like application session on one GPU VA space, written by");
	comment(g, "libgpuvm's tools/gen-trace in trace format v1. Do not edit: regenerate with");
	out_line(g, "#   %s", cmd);
	g->n.comments++;
	if (g->seed == DEFAULT_SEED && g->frames == DEFAULT_FRAMES && g->pct == DEFAULT_PCT)
		comment(g, "(the default options; examples/traces/README.md describes the model).");
	else
		comment(g, "(examples/traces/README.md describes the model).");
	comment(g, "");
	comment(g, "VM app: 48-bit VA space, the low 1 MiB reserved for the kernel driver.");
	comment(g, "  0x100000000   +64 GiB  buffers sub-allocated from 256 MiB device heaps heapN,");
	comment(g, "                         created, freed, shrunk, moved and re-bound at 4 KiB");
	comment(g, "  0x4000000000  +48 MiB  three per-frame upload arenas backed by upload0");
	comment(g, "  0x8000000000  +2 GiB   a sparse image, bound sparse, whose 64 KiB tiles are");
	comment(g, "                         streamed around a moving window into tile memory tileN;");
	comment(g, "                         mip 3 and the mip tail stay bound to miptail");
	comment(g, "Now and then a heap or tile BO is freed with mappings on it (unmap-bo), ranges");
	comment(g, "are prefetched, and requests marked \"app bug\" are refused on purpose.");
}

static void setup(struct gen *g)
{
	uint64_t count;

	header(g);
	comment(g, "session start");
	out_line(g, "vm " VM " 0x0 " X " reserve 0x0 " X, VM_RANGE, RESERVE_RANGE);
	g->n.vm++;
	heap_create(g, 0);
	req_bo(g, "upload0", RING_SLOTS * RING_SLOT_SIZE);
	req_bo(g, "miptail", (uint64_t)TAIL_TILES * TILE);
	tilebo_create(g);
	comment(g, "the sparse image: all of it sparse, then its mip tail made resident");
	req_sparse(g, IMG_VA_BASE, IMG_SIZE);
	req_map(g, tile_va(TAIL_FIRST_TILE), (uint64_t)TAIL_TILES * TILE, "miptail", 0);
	comment(g, "first level's data");
	count = 250 * (uint64_t)g->pct / 100;
	for (uint64_t i = 0; i < count; i++)
		buffer_create(g, g->level_pool, buffer_size(g), -1);
}

static void teardown(struct gen *g)
{
	comment(g, "session end: the state before teardown");
	req_dump(g);
	comment(g, "teardown: upload arenas, then every BO, then the image's sparse range");
	for (unsigned int s = 0; s < RING_SLOTS; s++)
		if (g->ring_used[s])
			req_unmap(g, RING_VA_BASE + s * RING_SLOT_SIZE, RING_SLOT_SIZE);
	for (int i = 0; i < g->nheaps; i++)
		if (g->heaps[i].live)
			req_unmap_bo(g, g->heaps[i].name);
	req_unmap_bo(g, "upload0");
	for (int i = 0; i < g->ntbo; i++)
		if (g->tbo[i].live)
			req_unmap_bo(g, g->tbo[i].name);
	req_unmap_bo(g, "miptail");
	req_unmap(g, IMG_VA_BASE, IMG_SIZE);
	req_dump(g);
}

static void run(struct gen *g)
{
	int pressure1 = g->frames * 45 / 100, pressure2 = g->frames * 80 / 100;
	char msg[32];

	g->rng.s = g->seed;
	for (uint32_t i = 0; i < IMG_TILES; i++)
		g->tile_loc[i] = -1;
	space_init(&g->va, BUF_VA_BASE, BUF_VA_SIZE);
	g->cand = xrealloc(NULL, (size_t)levels[0].w * levels[0].h, sizeof(*g->cand));
	g->cx16 = (int32_t)levels[0].w * 8;
	g->cy16 = (int32_t)levels[0].h * 8;
	g->vx16 = 6;
	g->vy16 = 2;
	g->next_level_change = (int)rng_range(&g->rng, 150, 300);
	g->level_pool = 1;

	setup(g);
	for (g->frame = 0; g->frame < g->frames; g->frame++) {
		snprintf(msg, sizeof(msg), "frame %d", g->frame);
		comment(g, msg);
		if (g->frame == g->next_level_change) {
			level_change(g);
			g->next_level_change += (int)rng_range(&g->rng, 150, 300);
		}
		if (g->frame && (g->frame == pressure1 || g->frame == pressure2))
			tile_pressure(g);
		ring_frame(g);
		buffers_frame(g);
		move_window(g);
		for (size_t l = 0; l < NLEVELS; l++)
			stream_level(g, &levels[l]);
		tile_misc(g);
		if (rng_chance(&g->rng, 1, 5))
			prefetch(g);
		if (rng_chance(&g->rng, 1, 40))
			app_bug(g);
	}
	teardown(g);
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gen-trace [--seed N] [--frames N] [--requests PCT] [--stats]\n"
		"                 [-o FILE | --check FILE]\n"
		"Writes a Vulkan-like session as a gpuvm trace (format v1) to stdout or FILE.\n"
		"  --seed N        PRNG seed (default 0x%llx)\n"
		"  --frames N      frames to simulate (default %d)\n"
		"  --requests PCT  per-frame request volume in percent of the default (default %d)\n"
		"  --stats         print request counts to stderr\n"
		"  -o FILE         write to FILE instead of stdout\n"
		"  --check FILE    regenerate and compare with FILE; exit 1 if they differ\n",
		(unsigned long long)DEFAULT_SEED, DEFAULT_FRAMES, DEFAULT_PCT);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static struct gen g;
	const char *out_path = NULL, *check_path = NULL;
	bool stats = false;
	uint64_t v;
	int ret;

	g.seed = DEFAULT_SEED;
	g.frames = DEFAULT_FRAMES;
	g.pct = DEFAULT_PCT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--stats")) {
			stats = true;
		} else if (!strcmp(a, "--seed") && parse_u64(val, UINT64_MAX, &v)) {
			g.seed = v;
			i++;
		} else if (!strcmp(a, "--frames") && parse_u64(val, 1000000, &v)) {
			g.frames = (int)v;
			i++;
		} else if (!strcmp(a, "--requests") && parse_u64(val, 1000, &v) && v) {
			g.pct = (unsigned int)v;
			i++;
		} else if (!strcmp(a, "-o") && val) {
			out_path = val;
			i++;
		} else if (!strcmp(a, "--check") && val) {
			check_path = val;
			i++;
		} else {
			fprintf(stderr, "gen-trace: bad argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (out_path && check_path) {
		fprintf(stderr, "gen-trace: -o and --check exclude each other\n");
		return 2;
	}

	if (check_path) {
		g.ref = fopen(check_path, "rb");
		if (!g.ref) {
			perror(check_path);
			return 2;
		}
	} else if (out_path) {
		g.out = fopen(out_path, "wb");
		if (!g.out) {
			perror(out_path);
			return 2;
		}
	} else {
		g.out = stdout;
	}

	run(&g);

	if (stats) {
		unsigned long req = g.n.vm + g.n.bo + g.n.map + g.n.sparse + g.n.unmap +
				    g.n.prefetch + g.n.unmap_bo + g.n.dump + g.n.bugs;

		fprintf(stderr,
			"lines %lu, requests %lu: vm %lu, bo %lu, map %lu, sparse map %lu, unmap %lu,\n"
			"prefetch %lu, unmap-bo %lu, dump %lu, refused on purpose %lu; comment lines %lu\n",
			g.line, req, g.n.vm, g.n.bo, g.n.map, g.n.sparse, g.n.unmap, g.n.prefetch,
			g.n.unmap_bo, g.n.dump, g.n.bugs, g.n.comments);
	}
	if (g.ref) {
		if (!g.first_diff && fgetc(g.ref) != EOF)
			g.first_diff = g.line + 1;
		fclose(g.ref);
		if (g.first_diff) {
			fprintf(stderr, "gen-trace: %s differs from the generated trace at line %lu\n",
				check_path, g.first_diff);
			return 1;
		}
		return 0;
	}
	if (g.out == stdout)
		ret = fflush(stdout);
	else
		ret = fclose(g.out);
	if (ret) {
		perror(out_path ? out_path : "stdout");
		return 2;
	}
	return 0;
}
