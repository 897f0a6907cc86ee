/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the VA index (lib/index.c): every query is checked against a
 * sorted array of the same mappings, and the tree is verified after every
 * change. Allocation goes through a counting allocator that can fail the Nth
 * call or abort on any call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "internal.h"

/* ---------------------------------------------------------------------- */
/* Counting allocator */

struct talloc {
	size_t live;
	size_t calls;
	size_t fail_in;    /* fail the fail_in-th call from now; 0: never */
	bool abort_on_call; /* any call is a test failure */
};

static void *talloc_alloc(void *ud, size_t size, size_t align)
{
	struct talloc *t = ud;
	void *p;

	if (t->abort_on_call) {
		fprintf(stderr, "allocator called where it must not be\n");
		abort();
	}
	assert_int_equal(size, gpuvm__index_node_size());
	assert_int_equal(align, 64);
	t->calls++;
	if (t->fail_in && --t->fail_in == 0)
		return NULL;
	p = aligned_alloc(align, (size + align - 1) & ~(align - 1));
	if (p)
		t->live++;
	return p;
}

static void talloc_free(void *ud, void *ptr, size_t size)
{
	struct talloc *t = ud;

	if (t->abort_on_call) {
		fprintf(stderr, "allocator freed where it must not\n");
		abort();
	}
	assert_int_equal(size, gpuvm__index_node_size());
	assert_true(t->live > 0);
	t->live--;
	free(ptr);
}

/* ---------------------------------------------------------------------- */
/* Sorted-array oracle */

struct oracle {
	struct gpuva **v;
	size_t n, cap;
};

/* Number of mappings with addr <= x. */
static size_t o_upper(const struct oracle *o, uint64_t x)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->v[mid]->va.addr <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t end_of(const struct gpuva *va)
{
	return va->va.addr + va->va.range;
}

static bool o_overlaps(const struct oracle *o, uint64_t addr, uint64_t range)
{
	size_t i = o_upper(o, addr);

	if (i && end_of(o->v[i - 1]) > addr)
		return true;
	return i < o->n && o->v[i]->va.addr < addr + range;
}

static void o_insert(struct oracle *o, struct gpuva *va)
{
	size_t i = o_upper(o, va->va.addr);

	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->v = realloc(o->v, o->cap * sizeof(*o->v));
		assert_non_null(o->v);
	}
	memmove(&o->v[i + 1], &o->v[i], (o->n - i) * sizeof(*o->v));
	o->v[i] = va;
	o->n++;
}

static void o_remove_at(struct oracle *o, size_t i)
{
	memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(*o->v));
	o->n--;
}

static struct gpuva *o_first_overlap(const struct oracle *o, uint64_t start, uint64_t end)
{
	size_t i;

	if (end && end <= start)
		return NULL;
	i = o_upper(o, start);
	if (i && end_of(o->v[i - 1]) > start)
		return o->v[i - 1];
	if (i < o->n && (!end || o->v[i]->va.addr < end))
		return o->v[i];
	return NULL;
}

static struct gpuva *o_next_after(const struct oracle *o, uint64_t addr)
{
	size_t i = o_upper(o, addr);

	return i < o->n ? o->v[i] : NULL;
}

static struct gpuva *o_prev_before(const struct oracle *o, uint64_t addr)
{
	size_t i;

	if (!addr)
		return NULL;
	i = o_upper(o, addr - 1);
	return i ? o->v[i - 1] : NULL;
}

static struct gpuva *o_lookup(const struct oracle *o, uint64_t addr)
{
	size_t i = o_upper(o, addr);

	return i && o->v[i - 1]->va.addr == addr ? o->v[i - 1] : NULL;
}

static struct gpuva *o_first_ge(const struct oracle *o, uint64_t addr)
{
	return addr ? o_next_after(o, addr - 1) : (o->n ? o->v[0] : NULL);
}

/* ---------------------------------------------------------------------- */
/* Fixture */

struct fx {
	struct gpuvm_va_index ix;
	struct talloc t;
	struct gpuvm_allocator a;
	struct oracle o;
	struct gpuva *pool;
	size_t npool, used;
	uint64_t rng;
};

static uint64_t rnd(struct fx *f)
{
	/* xorshift64* */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t rnd_below(struct fx *f, uint64_t n)
{
	return n ? rnd(f) % n : 0;
}

static struct fx *fx_new(size_t npool, uint64_t seed)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *env = getenv("TEST_INDEX_SEED");

	assert_non_null(f);
	gpuvm__index_init(&f->ix);
	f->a.alloc = talloc_alloc;
	f->a.free = talloc_free;
	f->a.user_data = &f->t;
	f->pool = calloc(npool, sizeof(*f->pool));
	assert_non_null(f->pool);
	f->npool = npool;
	f->rng = (env ? strtoull(env, NULL, 0) : 0) ^ seed ^ 0x9E3779B97F4A7C15ull;
	if (!f->rng)
		f->rng = 1;
	return f;
}

static void fx_free(struct fx *f)
{
	/* fini releases everything, whatever is still inserted */
	gpuvm__index_fini(&f->ix, &f->a);
	assert_int_equal(f->t.live, 0);
	assert_null(f->ix.root);
	assert_int_equal(f->ix.ncache, 0);
	free(f->o.v);
	free(f->pool);
	free(f);
}

/* A mapping from the pool; pool slots are never reused while inserted. */
static struct gpuva *fx_va(struct fx *f, uint64_t addr, uint64_t range)
{
	struct gpuva *va;

	assert_true(f->used < f->npool);
	va = &f->pool[f->used++];
	memset(va, 0, sizeof(*va));
	va->va.addr = addr;
	va->va.range = range;
	return va;
}

static void fx_verify(struct fx *f)
{
	assert_int_equal(gpuvm__index_verify(&f->ix), 0);
	assert_int_equal(f->ix.count, f->o.n);
	assert_true((f->ix.height == 0) == (f->o.n == 0));
}

static void fx_insert(struct fx *f, struct gpuva *va)
{
	uint64_t seq = f->ix.seq;

	assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va, false), 0);
	assert_true(f->ix.seq != seq);
	o_insert(&f->o, va);
}

static void fx_remove_at(struct fx *f, size_t i)
{
	uint64_t seq = f->ix.seq;

	gpuvm__index_remove(&f->ix, f->o.v[i]);
	assert_true(f->ix.seq != seq);
	o_remove_at(&f->o, i);
}

/* Check a full cursor walk and the leaf order against the oracle. */
static void fx_check_walk(struct fx *f)
{
	struct gpuvm__index_cursor c;
	struct gpuva *va = gpuvm__index_cursor_seek(&f->ix, &c, 0);
	size_t i = 0;

	for (; va; va = gpuvm__index_cursor_next(&f->ix, &c), i++) {
		assert_true(i < f->o.n);
		assert_ptr_equal(va, f->o.v[i]);
	}
	assert_int_equal(i, f->o.n);
	assert_null(gpuvm__index_cursor_next(&f->ix, &c));
}

static void fx_check_queries_at(struct fx *f, uint64_t start, uint64_t len)
{
	uint64_t end = start + len; /* may wrap to 0: then it means 2^64 */

	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, start, end),
			 o_first_overlap(&f->o, start, end));
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, start, 0),
			 o_first_overlap(&f->o, start, 0));
	assert_ptr_equal(gpuvm__index_next_after(&f->ix, start), o_next_after(&f->o, start));
	assert_ptr_equal(gpuvm__index_prev_before(&f->ix, start), o_prev_before(&f->o, start));
	assert_ptr_equal(gpuvm__index_lookup(&f->ix, start), o_lookup(&f->o, start));
}

static void fx_check_queries(struct fx *f, uint64_t space, int n)
{
	for (int k = 0; k < n; k++) {
		uint64_t s = rnd_below(f, space + 2);

		fx_check_queries_at(f, s, 1 + rnd_below(f, space / 8 + 1));
		fx_check_queries_at(f, s, 0);
	}
	/* Exactly at the edges of a random mapping. */
	if (f->o.n) {
		struct gpuva *va = f->o.v[rnd_below(f, f->o.n)];
		struct gpuvm__index_cursor c;
		uint64_t a = va->va.addr, e = end_of(va);
		size_t i = o_upper(&f->o, a) - 1;

		fx_check_queries_at(f, a, 1);
		fx_check_queries_at(f, a - 1, 1);
		fx_check_queries_at(f, a + 1, 1);
		fx_check_queries_at(f, e - 1, 1);
		fx_check_queries_at(f, e, 1);
		fx_check_queries_at(f, e, 0x100);
		assert_ptr_equal(gpuvm__index_lookup(&f->ix, a), va);
		/* a short cursor walk from here */
		assert_ptr_equal(gpuvm__index_cursor_seek(&f->ix, &c, a), va);
		for (int k = 1; k < 40; k++) {
			struct gpuva *nx = gpuvm__index_cursor_next(&f->ix, &c);

			assert_ptr_equal(nx, i + k < f->o.n ? f->o.v[i + k] : NULL);
			if (!nx)
				break;
		}
		assert_ptr_equal(gpuvm__index_cursor_seek(&f->ix, &c, a + 1),
				 o_first_ge(&f->o, a + 1));
	}
}

/* Try to insert a random mapping in [0, space); false when it overlapped. */
static bool fx_try_insert_random(struct fx *f, uint64_t space, uint64_t maxlen)
{
	uint64_t len = 1 + rnd_below(f, maxlen);
	uint64_t addr = rnd_below(f, space - len);

	if (o_overlaps(&f->o, addr, len))
		return false;
	fx_insert(f, fx_va(f, addr, len));
	return true;
}

/* ---------------------------------------------------------------------- */
/* Tests */

static void test_empty(void **state)
{
	struct fx *f = fx_new(1, 1);
	struct gpuvm__index_cursor c;

	(void)state;
	fx_verify(f);
	assert_int_equal(f->ix.height, 0);
	assert_int_equal(f->ix.nodes, 0);
	assert_null(gpuvm__index_first_overlap(&f->ix, 0, 0));
	assert_null(gpuvm__index_first_overlap(&f->ix, UINT64_MAX, 0));
	assert_null(gpuvm__index_next_after(&f->ix, 0));
	assert_null(gpuvm__index_prev_before(&f->ix, UINT64_MAX));
	assert_null(gpuvm__index_lookup(&f->ix, 0));
	assert_null(gpuvm__index_cursor_seek(&f->ix, &c, 0));
	assert_null(gpuvm__index_cursor_next(&f->ix, &c));
	assert_int_equal(gpuvm__index_need(&f->ix, 1), 2);
	assert_int_equal(gpuvm__index_need(&f->ix, 3), 6);
	assert_int_equal(gpuvm__index_node_size() % 64, 0);
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->t.calls, 0);
	fx_free(f);
}

static void test_single(void **state)
{
	struct fx *f = fx_new(2, 2);
	struct gpuva *va = fx_va(f, 0x1000, 0x1000);
	struct gpuvm__index_cursor c;
	uint64_t seq = f->ix.seq;

	(void)state;
	fx_insert(f, va);
	fx_verify(f);
	assert_int_equal(f->ix.count, 1);
	assert_int_equal(f->ix.height, 1);
	assert_int_equal(f->ix.nodes, 1);
	assert_int_equal(f->t.live, 1);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, 0x1fff, 0x2000), va);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, 0, 0x1001), va);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, 0, 0), va);
	assert_null(gpuvm__index_first_overlap(&f->ix, 0, 0x1000));
	assert_null(gpuvm__index_first_overlap(&f->ix, 0x2000, 0));
	assert_null(gpuvm__index_first_overlap(&f->ix, 0x1800, 0x1800));
	assert_ptr_equal(gpuvm__index_lookup(&f->ix, 0x1000), va);
	assert_null(gpuvm__index_lookup(&f->ix, 0x1001));
	assert_ptr_equal(gpuvm__index_next_after(&f->ix, 0xfff), va);
	assert_null(gpuvm__index_next_after(&f->ix, 0x1000));
	assert_ptr_equal(gpuvm__index_prev_before(&f->ix, 0x1001), va);
	assert_null(gpuvm__index_prev_before(&f->ix, 0x1000));
	assert_ptr_equal(gpuvm__index_cursor_seek(&f->ix, &c, 0x1000), va);
	assert_null(gpuvm__index_cursor_next(&f->ix, &c));
	assert_null(gpuvm__index_cursor_seek(&f->ix, &c, 0x1001));
	assert_int_equal(gpuvm__index_need(&f->ix, 1), 3);

	fx_remove_at(f, 0);
	fx_verify(f);
	assert_int_equal(f->ix.seq, seq + 2);
	assert_int_equal(f->ix.height, 0);
	assert_int_equal(f->ix.nodes, 0);
	assert_null(f->ix.root);
	/* the emptied root is cached, not freed */
	assert_int_equal(f->ix.ncache, 1);
	assert_int_equal(f->t.live, 1);
	assert_null(gpuvm__index_lookup(&f->ix, 0x1000));
	/* reinsert from the cache without allocating */
	f->t.abort_on_call = true;
	fx_insert(f, va);
	f->t.abort_on_call = false;
	fx_verify(f);
	assert_int_equal(f->ix.ncache, 0);
	fx_free(f);
}

/* Random inserts and removals against the oracle, verified at every step. */
static void random_run(uint64_t seed, uint64_t space, uint64_t maxlen, size_t target,
		       size_t steps, unsigned int min_height)
{
	struct fx *f = fx_new(target * 4 + steps + 16, seed);
	unsigned int maxh = 0;

	/* grow */
	while (f->o.n < target) {
		fx_try_insert_random(f, space, maxlen);
		fx_verify(f);
		fx_check_queries(f, space, 2);
		if (f->ix.height > maxh)
			maxh = f->ix.height;
	}
	fx_check_walk(f);
	/* churn around the target size */
	for (size_t s = 0; s < steps; s++) {
		bool ins = f->o.n < target / 2 || (f->o.n < target * 3 / 2 && (rnd(f) & 1));

		if (ins) {
			while (!fx_try_insert_random(f, space, maxlen))
				;
		} else {
			fx_remove_at(f, rnd_below(f, f->o.n));
		}
		fx_verify(f);
		fx_check_queries(f, space, 4);
		if ((s & 31) == 0)
			fx_check_walk(f);
		if (f->used + 4 > f->npool) {
			/* recycle pool slots: compact the inserted ones first */
			break;
		}
	}
	/* a cursor survives changes by re-seeking */
	if (f->o.n > 10) {
		struct gpuvm__index_cursor c;
		struct gpuva *va = gpuvm__index_cursor_seek(&f->ix, &c, f->o.v[3]->va.addr);
		uint64_t key;

		assert_ptr_equal(va, f->o.v[3]);
		key = va->va.addr;
		fx_remove_at(f, 3);	/* the current one */
		fx_remove_at(f, 3);	/* and its successor */
		assert_ptr_equal(gpuvm__index_cursor_next(&f->ix, &c), o_next_after(&f->o, key));
		fx_verify(f);
	}
	/* shrink to nothing, removing in random order */
	while (f->o.n) {
		fx_remove_at(f, rnd_below(f, f->o.n));
		fx_verify(f);
		fx_check_queries(f, space, 1);
	}
	fx_check_walk(f);
	assert_int_equal(f->ix.nodes, 0);
	/* every node ever allocated is now cached */
	assert_int_equal(f->t.live, f->ix.ncache);
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->t.live, 0);
	assert_true(maxh >= min_height);
	fx_free(f);
}

static void test_random_pages(void **state)
{
	(void)state;
	/* page-aligned, dense: many overlapping attempts, height 3 */
	random_run(11, 1ull << 28, 16 << 12, 3000, 6000, 3);
}

static void test_random_bytes(void **state)
{
	(void)state;
	/* arbitrary byte keys, adjacent mappings common */
	random_run(12, 40000, 12, 2500, 6000, 3);
}

static void test_random_small(void **state)
{
	(void)state;
	/* small trees churning through heights 1..3 */
	for (uint64_t seed = 100; seed < 108; seed++)
		random_run(seed, 4000, 6, 600, 1500, 2);
}

/* A larger tree (height 4), verified periodically. */
static void test_random_large(void **state)
{
	const size_t n = 60000;
	struct fx *f = fx_new(n + 16, 13);
	const uint64_t space = 1ull << 40;

	(void)state;
	while (f->o.n < n) {
		fx_try_insert_random(f, space, 1 << 20);
		if ((f->o.n & 4095) == 0)
			fx_verify(f);
	}
	fx_verify(f);
	assert_true(f->ix.height >= 4);
	fx_check_walk(f);
	fx_check_queries(f, space, 2000);
	while (f->o.n) {
		fx_remove_at(f, rnd_below(f, f->o.n));
		if ((f->o.n & 4095) == 0) {
			fx_verify(f);
			fx_check_queries(f, space, 50);
		}
	}
	fx_verify(f);
	fx_free(f);
}

/*
 * Append-heavy patterns: sequential splits leave nearly empty nodes on the
 * rightmost path, which removals at the tail, the front and at random must
 * handle (and the verifier must accept).
 */
static void test_patterns(void **state)
{
	struct fx *f = fx_new(200000, 81);
	uint64_t next = 0x100000;

	(void)state;
	for (int round = 0; round < 40; round++) {
		unsigned int mode = (unsigned int)rnd_below(f, 4);
		size_t burst = 1 + rnd_below(f, 2000);

		/* append a burst in address order */
		for (size_t i = 0; i < burst; i++) {
			fx_insert(f, fx_va(f, next, 0x1000));
			next += 0x1000 + (rnd(f) & 1) * 0x1000;
			if ((i & 63) == 0)
				fx_verify(f);
		}
		fx_verify(f);
		/* then remove some */
		for (size_t i = 0, k = rnd_below(f, burst + 200); i < k && f->o.n; i++) {
			size_t at;

			switch (mode) {
			case 0: at = f->o.n - 1; break;			/* stack */
			case 1: at = 0; break;				/* queue */
			case 2: at = rnd_below(f, f->o.n); break;	/* random */
			default: at = f->o.n - 1 - rnd_below(f, f->o.n < 40 ? f->o.n : 40);
			}
			fx_remove_at(f, at);
			fx_verify(f);
		}
		fx_check_queries(f, next + 0x10000, 20);
		if (round % 8 == 0)
			fx_check_walk(f);
		/* and prepend a few in descending order below everything */
		if (f->o.n && f->o.v[0]->va.addr >= 0x40000) {
			uint64_t a = f->o.v[0]->va.addr;

			for (int i = 0; i < 40 && a >= 0x2000; i++) {
				a -= 0x2000;
				fx_insert(f, fx_va(f, a, 0x1000));
			}
			fx_verify(f);
		}
	}
	fx_check_walk(f);
	while (f->o.n) {
		fx_remove_at(f, f->o.n - 1 - rnd_below(f, f->o.n < 8 ? f->o.n : 8));
		if ((f->o.n & 15) == 0)
			fx_verify(f);
	}
	fx_verify(f);
	fx_free(f);
}

static double bytes_per_mapping(const struct fx *f)
{
	return (double)f->ix.nodes * (double)gpuvm__index_node_size() / (double)f->ix.count;
}

/*
 * The fill bounds below were set for 512-byte nodes; the leaves' length
 * array made nodes 640 bytes without changing how many entries they hold,
 * so the bounds scale with the node size (the fill they check is the same).
 */
static double fill_bound(double bytes_at_512)
{
	return bytes_at_512 * (double)gpuvm__index_node_size() / 512.0;
}

static void fill_insert(struct fx *f, struct gpuva *va)
{
	assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va, false), 0);
}

static void fill_verify(struct fx *f, size_t n)
{
	assert_int_equal(gpuvm__index_verify(&f->ix), 0);
	assert_int_equal(f->ix.count, n);
	assert_int_equal(f->t.live, f->ix.nodes + f->ix.ncache);
}

static void test_fill(void **state)
{
	const size_t n = 100000;
	struct fx *f;
	double bpm;

	(void)state;
	/* No oracle here (its inserts are O(n)); verify checks order and counts. */
	/* ascending: left nodes stay full */
	f = fx_new(n, 21);
	for (size_t i = 0; i < n; i++)
		fill_insert(f, fx_va(f, 0x10000 + i * 0x2000, 0x1000));
	fill_verify(f, n);
	bpm = bytes_per_mapping(f);
	print_message("ascending: %.2f bytes/mapping, height %u\n", bpm, f->ix.height);
	assert_true(bpm < fill_bound(17.5));
	fx_free(f);

	/* descending: sibling redistribution keeps nodes well filled */
	f = fx_new(n, 22);
	for (size_t i = n; i-- > 0;)
		fill_insert(f, fx_va(f, 0x10000 + i * 0x2000, 0x1000));
	fill_verify(f, n);
	bpm = bytes_per_mapping(f);
	print_message("descending: %.2f bytes/mapping\n", bpm);
	assert_true(bpm < fill_bound(20.0));
	fx_free(f);

	/* random order */
	f = fx_new(n, 23);
	{
		uint64_t *slot = malloc(n * sizeof(*slot));

		assert_non_null(slot);
		for (size_t i = 0; i < n; i++)
			slot[i] = i;
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rnd_below(f, i + 1);
			uint64_t t = slot[i];

			slot[i] = slot[j];
			slot[j] = t;
		}
		for (size_t i = 0; i < n; i++)
			fill_insert(f, fx_va(f, slot[i] * 0x2000, 0x1000));
		free(slot);
	}
	fill_verify(f, n);
	bpm = bytes_per_mapping(f);
	print_message("random: %.2f bytes/mapping\n", bpm);
	/* ~20 (x1.25) is what the sibling redistribution gives */
	assert_true(bpm < fill_bound(23.0));
	fx_free(f);
}

/* Snapshot of the index to compare after a failed insert. */
struct snap {
	size_t count, nodes, ncache, reserved, live;
	uint32_t height;
	uint64_t seq;
};

static struct snap fx_snap(const struct fx *f)
{
	return (struct snap){ f->ix.count, f->ix.nodes, f->ix.ncache, f->ix.reserved,
			      f->t.live, f->ix.height, f->ix.seq };
}

static void snap_equal(const struct snap *a, const struct snap *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->nodes, b->nodes);
	assert_int_equal(a->ncache, b->ncache);
	assert_int_equal(a->reserved, b->reserved);
	assert_int_equal(a->live, b->live);
	assert_int_equal(a->height, b->height);
	assert_int_equal(a->seq, b->seq);
}

/*
 * Insert @va with the Nth allocation failing, N = 1.. until it succeeds;
 * returns how many attempts failed.
 */
static unsigned int insert_failing(struct fx *f, struct gpuva *va, bool use_reserve)
{
	unsigned int fails = 0;

	for (size_t nth = 1;; nth++) {
		struct snap before = fx_snap(f), after;
		int err;

		f->t.fail_in = nth;
		err = gpuvm__index_insert(&f->ix, &f->a, va, use_reserve);
		f->t.fail_in = 0;
		if (!err)
			break;
		assert_int_equal(err, -ENOMEM);
		after = fx_snap(f);
		snap_equal(&before, &after);
		fx_verify(f);
		fx_check_walk(f);
		assert_null(gpuvm__index_lookup(&f->ix, va->va.addr));
		fails++;
		assert_true(fails < 64);
	}
	o_insert(&f->o, va);
	fx_verify(f);
	fx_check_walk(f);
	return fails;
}

static void test_enomem(void **state)
{
	struct fx *f = fx_new(20000, 31);
	unsigned int fails;

	(void)state;
	/* empty tree: the first leaf */
	fails = insert_failing(f, fx_va(f, 0, 0x1000), false);
	assert_int_equal(fails, 1);

	/* ascending to exactly 31 * 32 entries: all nodes on the right path
	 * are full, the next append splits the leaf and the root and grows a
	 * new root: three allocations. */
	for (size_t i = 1; i < 31 * 32; i++)
		fx_insert(f, fx_va(f, i * 0x1000, 0x1000));
	fx_verify(f);
	assert_int_equal(f->ix.height, 2);
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->ix.ncache, 0);
	fails = insert_failing(f, fx_va(f, 31 * 32 * 0x1000, 0x1000), false);
	assert_int_equal(fails, 3);
	assert_int_equal(f->ix.height, 3);

	/* random inserts into a random tree, cache emptied every time */
	for (int k = 0; k < 400; k++) {
		uint64_t len = 1 + rnd_below(f, 0x8000);
		uint64_t addr = rnd_below(f, (1ull << 32) - len);

		if (o_overlaps(&f->o, addr, len))
			continue;
		gpuvm__index_trim(&f->ix, &f->a);
		insert_failing(f, fx_va(f, addr, len), false);
	}
	for (int k = 0; k < 3000; k++)
		fx_try_insert_random(f, 1ull << 32, 0x8000);
	for (int k = 0; k < 400; k++) {
		uint64_t len = 1 + rnd_below(f, 0x8000);
		uint64_t addr = rnd_below(f, (1ull << 32) - len);

		if (o_overlaps(&f->o, addr, len))
			continue;
		gpuvm__index_trim(&f->ix, &f->a);
		insert_failing(f, fx_va(f, addr, len), (k & 1) != 0);
	}

	/* reserve is all or nothing too */
	gpuvm__index_trim(&f->ix, &f->a);
	for (size_t nth = 1; nth <= 10; nth++) {
		struct snap before = fx_snap(f), after;

		f->t.fail_in = nth;
		assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, 10), -ENOMEM);
		f->t.fail_in = 0;
		after = fx_snap(f);
		snap_equal(&before, &after);
	}
	assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, 10), 0);
	assert_int_equal(f->ix.reserved, 10);
	assert_true(f->ix.height >= 3);
	assert_int_equal(f->ix.ncache, gpuvm__index_need(&f->ix, 10));
	fx_verify(f);
	fx_free(f);
}

/* The index refuses overlaps itself, with neighbours in the same leaf or the next. */
static void test_insert_overlap(void **state)
{
	struct fx *f = fx_new(400, 47);
	static const struct {
		uint64_t addr, range;
	} bad[] = {
		{ 0x0, 0x1000 },      /* same start as the first */
		{ 0x800, 0x1000 },    /* starts inside the first */
		{ 0x1800, 0x1000 },   /* ends inside the second */
		{ 0x1f000, 0x2000 },  /* from a gap over the next one */
		{ 0x1e800, 0x800 },   /* inside one */
		{ 0x3f000, 0x10000 }, /* covers several */
		{ 0x0, 0x100000 },    /* covers everything */
	};

	(void)state;
	/* 31 mappings fill a leaf; 70 take several, with a gap after each */
	for (size_t i = 0; i < 70; i++)
		fx_insert(f, fx_va(f, i * 0x2000, 0x1000));
	assert_int_equal(f->ix.height, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct snap before = fx_snap(f), after;
		struct gpuva *va = fx_va(f, bad[i].addr, bad[i].range);

		for (int r = 0; r < 2; r++)
			assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va, r != 0), -EEXIST);
		after = fx_snap(f);
		snap_equal(&before, &after);
	}
	/* from inside each gap into the next mapping, whichever leaf it is in */
	for (size_t i = 0; i + 1 < 70; i++) {
		struct snap before = fx_snap(f), after;
		struct gpuva *va = fx_va(f, i * 0x2000 + 0x1800, 0x1000);

		assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va, false), -EEXIST);
		va = fx_va(f, i * 0x2000 + 0x800, 0x1000);
		assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va, false), -EEXIST);
		after = fx_snap(f);
		snap_equal(&before, &after);
	}
	/* the gaps still take mappings that touch both neighbours */
	fx_insert(f, fx_va(f, 0x1000, 0x1000));
	fx_insert(f, fx_va(f, 0x3d000, 0x1000));
	fx_verify(f);
	fx_check_walk(f);
	fx_free(f);
}

/*
 * The finger: set by writes that change no shape, cleared by those that do,
 * used by lookups, and checked by verify.
 */
static void test_finger(void **state)
{
	struct fx *f = fx_new(400, 53);
	struct gpuva *va;

	(void)state;
	for (size_t i = 0; i < 31; i++)
		fx_insert(f, fx_va(f, i * 0x2000, 0x1000));
	assert_int_equal(f->ix.height, 1);
	/* the root leaf: unbounded */
	assert_non_null(f->ix.finger);
	assert_int_equal(f->ix.finger_lo, 0);
	assert_int_equal(f->ix.finger_hi, UINT64_MAX);
	/* a split changes the shape */
	fx_insert(f, fx_va(f, 31 * 0x2000, 0x1000));
	assert_null(f->ix.finger);
	fx_verify(f);
	/* the next plain write sets it again, with the leaf's separator bounds */
	va = fx_va(f, 40 * 0x2000, 0x1000);
	fx_insert(f, va);
	assert_non_null(f->ix.finger);
	assert_true(f->ix.finger_lo > 0 && f->ix.finger_lo <= va->va.addr);
	assert_int_equal(f->ix.finger_hi, UINT64_MAX);
	fx_verify(f);
	fx_check_walk(f);
	/* lookups through the finger see what a descent sees */
	for (uint64_t a = 0; a < 45 * 0x2000; a += 0x800)
		assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, a, a + 1),
				 o_first_overlap(&f->o, a, a + 1));
	/* the leftmost leaf's first entry is named by no separator */
	{
		uint64_t right_lo = f->ix.finger_lo;
		size_t i;

		fx_remove_at(f, 0);
		assert_non_null(f->ix.finger);
		assert_int_equal(f->ix.finger_lo, 0);
		fx_verify(f);
		/* another leaf's first entry is: removing it clears the finger */
		for (i = 0; i < f->o.n && f->o.v[i]->va.addr != right_lo; i++)
			;
		assert_true(i < f->o.n);
		fx_remove_at(f, i);
		assert_null(f->ix.finger);
		fx_verify(f);
	}
	/* a finger whose bounds do not lead to it is corruption */
	fx_insert(f, fx_va(f, 41 * 0x2000, 0x1000));
	assert_non_null(f->ix.finger);
	f->ix.finger_lo--;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	f->ix.finger_lo++;
	fx_verify(f);
	fx_free(f);
}

static void test_reserve(void **state)
{
	struct fx *f = fx_new(4000, 41);
	size_t live, calls;

	(void)state;
	/* reservations count inserts; the cache holds need(reserved) nodes */
	assert_int_equal(gpuvm__index_need(&f->ix, 3), 6);
	assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, 3), 0);
	assert_int_equal(f->ix.reserved, 3);
	assert_int_equal(gpuvm__index_reserved_nodes(&f->ix, 0), 6);
	assert_int_equal(f->ix.ncache, 6);
	assert_int_equal(f->t.live, 6);

	/*
	 * A plain insert into the empty tree keeps 3 * (0 + 3) = 9 nodes for
	 * the reserve (at the height it grows the tree to) plus the leaf it
	 * takes: it allocates 10 - 6 = 4.
	 */
	fx_insert(f, fx_va(f, 0, 0x1000));
	assert_int_equal(f->ix.height, 1);
	assert_int_equal(f->t.live, 10);
	assert_int_equal(f->ix.ncache, 9);
	assert_true(f->ix.ncache >= gpuvm__index_reserved_nodes(&f->ix, 0));

	/* inserts into a leaf with room take and allocate nothing */
	for (size_t i = 1; i < 31; i++)
		fx_insert(f, fx_va(f, i * 0x1000, 0x1000));
	assert_int_equal(f->ix.height, 1);
	assert_int_equal(f->ix.ncache, 9);
	assert_int_equal(f->t.live, 10);

	/* a reserved insert that splits the root allocates nothing */
	calls = f->t.calls;
	{
		struct gpuva *va = fx_va(f, 31 * 0x1000, 0x1000);

		assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va, true), 0);
		o_insert(&f->o, va);
	}
	assert_int_equal(f->t.calls, calls);
	assert_int_equal(f->ix.height, 2);
	assert_int_equal(f->ix.nodes, 3);
	/* it used the reserve (counts are given back only by unreserve) */
	assert_int_equal(f->ix.ncache, 7);
	fx_verify(f);

	/* reserve on top counts inserts: 5 * (2 + 2) = 20 nodes cached */
	assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, 2), 0);
	assert_int_equal(f->ix.reserved, 5);
	assert_int_equal(f->ix.ncache, 20);
	live = f->t.live;
	assert_int_equal(live, f->ix.nodes + f->ix.ncache);
	assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, 0), 0);
	assert_int_equal(f->t.live, live);

	/* trim keeps what the reserved inserts need, at the current height */
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->ix.ncache, 20);
	gpuvm__index_unreserve(&f->ix, 4);
	assert_int_equal(f->ix.reserved, 1);
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->ix.ncache, 4);
	assert_int_equal(f->t.live, f->ix.nodes + 4);
	/* never below zero */
	gpuvm__index_unreserve(&f->ix, 100);
	assert_int_equal(f->ix.reserved, 0);
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->ix.ncache, 0);
	assert_int_equal(f->t.live, f->ix.nodes);

	/* removals fill the cache; a trim with a reserve keeps that much */
	assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, 1), 0);
	while (f->o.n)
		fx_remove_at(f, 0);
	fx_verify(f);
	assert_int_equal(f->t.live, f->ix.ncache);
	assert_true(f->ix.ncache >= 3);
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->ix.height, 0);
	assert_int_equal(f->ix.ncache, 2);
	gpuvm__index_unreserve(&f->ix, 1);
	fx_free(f);
}

/*
 * The promise of a reservation: however the height moves under plain
 * inserts and removals made while it is outstanding, the reserved inserts
 * then allocate nothing.
 */
static void test_reserve_survives_height_changes(void **state)
{
	struct fx *f = fx_new(20000, 43);

	(void)state;
	for (int round = 0; round < 40; round++) {
		unsigned int r = 1 + (unsigned int)rnd_below(f, 6);
		int plain = (int)rnd_below(f, 400);

		gpuvm__index_trim(&f->ix, &f->a);
		assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, r), 0);
		for (int k = 0; k < plain; k++) {
			if (f->o.n && rnd_below(f, 3) == 0)
				fx_remove_at(f, (size_t)rnd_below(f, f->o.n));
			else
				fx_try_insert_random(f, 1ull << 40, 0x8000);
			assert_true(f->ix.ncache >= gpuvm__index_reserved_nodes(&f->ix, 0));
		}
		f->t.abort_on_call = true;
		for (unsigned int k = 0; k < r;) {
			uint64_t len = 1 + rnd_below(f, 0x8000);
			uint64_t addr = rnd_below(f, (1ull << 40) - len);
			struct gpuva *va;

			if (o_overlaps(&f->o, addr, len))
				continue;
			va = fx_va(f, addr, len);
			assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va, true), 0);
			o_insert(&f->o, va);
			k++;
		}
		f->t.abort_on_call = false;
		gpuvm__index_unreserve(&f->ix, r);
		fx_verify(f);
	}
	assert_true(f->ix.height >= 3);
	fx_free(f);
}

/* prepare() makes the next inserts allocation-free, or fails with no change. */
static void test_prepare(void **state)
{
	struct fx *f = fx_new(4000, 91);
	struct gpuva *va[3];

	(void)state;
	/* empty tree: need(3) = 6 usable nodes */
	assert_int_equal(gpuvm__index_prepare(&f->ix, &f->a, 3, false), 0);
	assert_int_equal(f->ix.ncache, 6);
	assert_int_equal(gpuvm__index_prepare(&f->ix, &f->a, 3, false), 0);
	assert_int_equal(f->t.live, 6);
	gpuvm__index_trim(&f->ix, &f->a);

	/* right path full (31 * 32 ascending): each append splits up to a new root */
	for (size_t i = 0; i < 31 * 32; i++)
		fx_insert(f, fx_va(f, i * 0x1000, 0x1000));
	gpuvm__index_trim(&f->ix, &f->a);
	for (size_t nth = 1; nth <= 8; nth++) {
		struct snap before = fx_snap(f), after;

		f->t.fail_in = nth;
		assert_int_equal(gpuvm__index_prepare(&f->ix, &f->a, 3, false), -ENOMEM);
		f->t.fail_in = 0;
		after = fx_snap(f);
		snap_equal(&before, &after);
	}
	assert_int_equal(gpuvm__index_prepare(&f->ix, &f->a, 3, false), 0);
	assert_int_equal(f->ix.ncache, gpuvm__index_need(&f->ix, 3));
	f->t.abort_on_call = true;
	for (int k = 0; k < 3; k++) {
		va[k] = fx_va(f, (31 * 32 + (size_t)k * 31) * 0x1000, 0x1000);
		assert_int_equal(gpuvm__index_insert(&f->ix, &f->a, va[k], false), 0);
		o_insert(&f->o, va[k]);
	}
	f->t.abort_on_call = false;
	fx_verify(f);

	/* reserved nodes count only with use_reserve */
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(gpuvm__index_reserve(&f->ix, &f->a, 4), 0);
	assert_int_equal(f->ix.ncache, gpuvm__index_need(&f->ix, 4));
	assert_int_equal(gpuvm__index_prepare(&f->ix, &f->a, 1, true), 0);
	assert_int_equal(f->ix.ncache, gpuvm__index_need(&f->ix, 4));
	/* a plain insert keeps the reserve at one level more */
	assert_int_equal(gpuvm__index_prepare(&f->ix, &f->a, 1, false), 0);
	assert_int_equal(f->ix.ncache, gpuvm__index_reserved_nodes(&f->ix, 1) +
					       gpuvm__index_need(&f->ix, 1));
	gpuvm__index_unreserve(&f->ix, 4);
	fx_free(f);
}

/* Removals never call the allocator, and cache every node they release. */
static void test_remove_no_alloc(void **state)
{
	struct fx *f = fx_new(20000, 51);
	size_t nodes, ncache;

	(void)state;
	while (f->o.n < 15000)
		fx_try_insert_random(f, 1ull << 36, 0x10000);
	fx_verify(f);
	nodes = f->ix.nodes;
	ncache = f->ix.ncache;
	f->t.abort_on_call = true;
	while (f->o.n) {
		fx_remove_at(f, rnd_below(f, f->o.n));
		assert_int_equal(f->ix.nodes + f->ix.ncache, nodes + ncache);
		if ((f->o.n % 97) == 0) {
			fx_verify(f);
			fx_check_queries(f, 1ull << 36, 4);
		}
	}
	f->t.abort_on_call = false;
	fx_verify(f);
	assert_int_equal(f->ix.ncache, nodes + ncache);
	gpuvm__index_trim(&f->ix, &f->a);
	assert_int_equal(f->t.live, 0);
	fx_free(f);
}

/* Keys near 0 and near 2^64. */
static void test_edges(void **state)
{
	struct fx *f = fx_new(4000, 61);
	const uint64_t top = UINT64_MAX - 0x2000 + 1; /* 2^64 - 0x2000 */
	struct gpuva *lo, *hi, *last;
	struct gpuvm__index_cursor c;

	(void)state;
	lo = fx_va(f, 0, 0x1000);
	hi = fx_va(f, top, 0x1fff); /* [2^64 - 0x2000, 2^64 - 1) */
	fx_insert(f, hi);
	fx_insert(f, lo);
	fx_verify(f);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, UINT64_MAX - 1, 0), hi);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, top, 0), hi);
	assert_null(gpuvm__index_first_overlap(&f->ix, UINT64_MAX, 0));
	assert_null(gpuvm__index_first_overlap(&f->ix, 0x1000, top));
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, 0x1000, top + 1), hi);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, 0, 1), lo);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, 0, 0), lo);
	assert_null(gpuvm__index_lookup(&f->ix, UINT64_MAX));
	assert_ptr_equal(gpuvm__index_lookup(&f->ix, top), hi);
	assert_ptr_equal(gpuvm__index_lookup(&f->ix, 0), lo);
	assert_null(gpuvm__index_next_after(&f->ix, UINT64_MAX));
	assert_null(gpuvm__index_next_after(&f->ix, top));
	assert_ptr_equal(gpuvm__index_next_after(&f->ix, 0), hi);
	assert_ptr_equal(gpuvm__index_prev_before(&f->ix, UINT64_MAX), hi);
	assert_ptr_equal(gpuvm__index_prev_before(&f->ix, top), lo);
	assert_ptr_equal(gpuvm__index_prev_before(&f->ix, 1), lo);
	assert_null(gpuvm__index_prev_before(&f->ix, 0));
	assert_ptr_equal(gpuvm__index_cursor_seek(&f->ix, &c, UINT64_MAX - 5), NULL);
	assert_ptr_equal(gpuvm__index_cursor_seek(&f->ix, &c, 1), hi);
	assert_null(gpuvm__index_cursor_next(&f->ix, &c));

	/* the highest possible start: [2^64 - 2, 2^64 - 1) */
	last = fx_va(f, UINT64_MAX - 1, 1);
	/* an inserted mapping's range is the index's: shrink it out of the index */
	fx_remove_at(f, f->o.n - 1);
	hi->va.range = 0x1ffe;
	fx_insert(f, hi);
	fx_insert(f, last);
	fx_verify(f);
	assert_ptr_equal(gpuvm__index_lookup(&f->ix, UINT64_MAX - 1), last);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, UINT64_MAX - 1, 0), last);
	assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, UINT64_MAX - 2, UINT64_MAX), hi);
	assert_null(gpuvm__index_first_overlap(&f->ix, UINT64_MAX, 0));
	assert_ptr_equal(gpuvm__index_next_after(&f->ix, UINT64_MAX - 2), last);
	assert_null(gpuvm__index_next_after(&f->ix, UINT64_MAX - 1));
	assert_ptr_equal(gpuvm__index_prev_before(&f->ix, UINT64_MAX), last);
	assert_ptr_equal(gpuvm__index_cursor_seek(&f->ix, &c, UINT64_MAX - 1), last);
	assert_null(gpuvm__index_cursor_seek(&f->ix, &c, UINT64_MAX));

	/* fill both ends densely with byte-sized mappings and check everything */
	for (uint64_t i = 1; i < 1200; i++)
		fx_insert(f, fx_va(f, 0x1000 + i, 1));
	for (uint64_t i = 0; i < 1200; i++)
		fx_insert(f, fx_va(f, top - 0x10000 + i * 2, 1));
	fx_verify(f);
	fx_check_walk(f);
	for (uint64_t d = 0; d < 0x40; d++) {
		fx_check_queries_at(f, UINT64_MAX - d, 1);
		fx_check_queries_at(f, UINT64_MAX - d, d);
		fx_check_queries_at(f, top - 0x10000 + d * 37, d);
		fx_check_queries_at(f, d, 1);
		fx_check_queries_at(f, 0x1000 + d * 17, d + 1);
	}
	while (f->o.n) {
		fx_remove_at(f, rnd_below(f, f->o.n));
		fx_verify(f);
		if (f->o.n)
			fx_check_queries_at(f, f->o.v[rnd_below(f, f->o.n)]->va.addr, 3);
		fx_check_queries_at(f, UINT64_MAX, 0);
		fx_check_queries_at(f, 0, 0);
	}
	fx_free(f);
}

/*
 * Ranges around and above 4 GiB: leaves keep ranges below 2^32 - 1 and mark
 * the others, whose end is then read from the mapping. Every query must
 * agree with the oracle on both sides of that line.
 */
static void test_big_ranges(void **state)
{
	static const uint64_t lens[] = {
		0xfffffffeull, 0xffffffffull, 0x100000000ull, 0x100000001ull,
		0x1ffffffffull, 1ull << 40, 1, 0x1000,
	};
	const size_t n = 6000;
	struct fx *f = fx_new(n + 64, 81);
	const uint64_t space = 1ull << 52;

	(void)state;
	/* the exact lengths, each with queries at both of its edges */
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint64_t a = (uint64_t)(i + 1) << 44;
		struct gpuva *va = fx_va(f, a, lens[i]);

		fx_insert(f, va);
		fx_check_queries_at(f, a + lens[i] - 1, 1);
		fx_check_queries_at(f, a + lens[i], 1);
		fx_check_queries_at(f, a + lens[i] - 1, 0);
		assert_ptr_equal(gpuvm__index_first_overlap(&f->ix, a + lens[i] - 1, 0), va);
		assert_null(gpuvm__index_first_overlap(&f->ix, a + lens[i], a + lens[i] + 1));
		/* the insert-side check: a mapping right at the end fits, one byte
		 * earlier overlaps */
		assert_int_equal(gpuvm__index_insert(&f->ix, &f->a,
						     fx_va(f, a + lens[i] - 1, 1), false),
				 -EEXIST);
	}
	fx_verify(f);
	/* random mix of small and huge ranges, with removals */
	while (f->o.n < n / 2)
		fx_try_insert_random(f, space, rnd_below(f, 4) ? 1ull << 33 : 0x10000);
	fx_verify(f);
	fx_check_walk(f);
	fx_check_queries(f, space, 3000);
	while (f->o.n > n / 4) {
		fx_remove_at(f, rnd_below(f, f->o.n));
		if ((f->o.n & 255) == 0)
			fx_check_queries(f, space, 100);
	}
	fx_verify(f);
	fx_free(f);
}

/* The verifier catches the corruptions a caller could cause. */
static void test_verify_detects(void **state)
{
	struct fx *f = fx_new(200, 71);
	struct gpuva *va;

	(void)state;
	for (uint64_t i = 0; i < 100; i++)
		fx_insert(f, fx_va(f, i * 0x1000, 0x1000));
	fx_verify(f);
	va = f->o.v[50];
	/* key no longer matches the mapping */
	va->va.addr += 1;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	va->va.addr -= 1;
	/* overlap with the next mapping */
	va->va.range += 1;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	va->va.range -= 1;
	/* the leaf's copy of the range is stale (no overlap: shrunk) */
	va->va.range -= 1;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	va->va.range += 1;
	/* end overflow */
	f->o.v[99]->va.range = UINT64_MAX;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	f->o.v[99]->va.range = 0x1000;
	/* counters */
	f->ix.count++;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	f->ix.count--;
	f->ix.ncache++;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	f->ix.ncache--;
	f->ix.nodes--;
	assert_int_equal(gpuvm__index_verify(&f->ix), -EUCLEAN);
	f->ix.nodes++;
	fx_verify(f);
	fx_free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_random_pages),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_random_large),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_big_ranges),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_insert_overlap),
		cmocka_unit_test(test_finger),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_reserve_survives_height_changes),
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_remove_no_alloc),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_verify_detects),
	};

	/* optional: a test name pattern, e.g. test_index 'test_random*' */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
