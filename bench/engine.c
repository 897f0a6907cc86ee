/* SPDX-License-Identifier: MIT */
/*
 * bench-engine: the engine at scale, workloads (b), (c) and (d) of the
 * benchmarks (bench/README.md), each beside a baseline built here.
 *
 *	bench-engine [-n MAPPINGS] [-r REQUESTS] [-l LOOKUPS] [-s SEED]
 *		     [-w bcd] [--no-baseline] [--tiny] [--json FILE] [--cdf-dir DIR]
 *
 * Defaults: 1 000 000 mappings, 200 000 requests, 200 000 lookups per
 * kind, all of (b), (c), (d); --tiny: 2 000 of each. --no-baseline skips
 * the baselines and their cross-checks (to profile libgpuvm alone).
 *
 * The VM: MAPPINGS 16-page slots, each holding one mapping of 1-15 pages at
 * its start, of one of 1000 BOs (1 GiB each) at a random page offset; every
 * mapping is inserted and linked to its vm_bo, in address order or in a
 * shuffled slot order. Slot contents are a function of (seed, slot), so both
 * orders build the same set of mappings.
 *
 * (c) lookups: gpuva_find_first(addr, 4 KiB), each call timed with the TSC
 *     kit, for addresses inside a random mapping ("hit"), uniform random
 *     page addresses ("random", half of them in holes) and evenly spaced
 *     ascending addresses ("ascending"), on the address-order and on the
 *     shuffled VM. Baseline: a sorted array of (start, end) pairs with a
 *     binary search, same queries, same answers (checked).
 * (d) memory: sizeof(struct gpuva) plus the index's bytes per mapping
 *     (gpuvm_stats), the VM allocator's bytes per mapping and per vm_bo
 *     (a counting allocator), and the heap actually used per mapping
 *     (mallinfo2, malloc headers included). Baseline: the kernel's
 *     struct drm_gpuva and struct drm_gpuvm_bo, laid out here.
 * (b) map requests on the shuffled VM: REQUESTS random requests of 1-32
 *     pages at random page addresses in the slots' range, random BO and
 *     offset; requests/s for ops built and freed (gpuvm_sm_map_ops_create +
 *     gpuva_ops_free), then for ops built, applied (gpuva_map/remap/unmap,
 *     a calloc'd gpuva per new mapping, link/unlink, free) and freed, for
 *     the first min(REQUESTS, MAPPINGS) requests (applying changes the VM;
 *     this keeps it near its size). Each rate is the median of 5 equal
 *     chunks. Baseline: the same requests against a sorted array of
 *     32-byte (start, end, offset, bo) entries: ops built by binary
 *     search + walk into a malloc'd array, applied one
 *     at a time, each op finding its entry by binary search and inserting
 *     or removing it with memmove. The baseline's ops must match libgpuvm's
 *     request by request (checked); its applied phase stops after a time
 *     budget at large sizes (memmove makes it O(n) per op).
 *
 * Every figure is a `name value unit` line; speedups are libgpuvm over the
 * baseline (> 1: libgpuvm is faster or smaller). Exit status 0, or 1 when
 * a cross-check failed. Nothing about speed is asserted.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <gpuvm.h>

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull
#define SLOT_PAGES 16ull
#define NBO 1000u
#define BO_SIZE (1ull << 30)
#define MAX_REQ_PAGES 32u
#define OFFSET_PAGES 1024u
#define CHUNKS 5
/* Time the sorted-array baseline may spend applying requests, in ns. */
#define BASELINE_APPLY_BUDGET_NS 1500000000ull

/* ------------------------------------------------------------- utilities */

static unsigned int failures;
static bool no_baseline;

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-engine: %s: %s\n", what, gpuvm_err_name(err));
	exit(1);
}

static void check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	if (failures++ < 10) {
		fprintf(stderr, "bench-engine: cross-check failed: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("malloc", -ENOMEM);
	return p;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		die("calloc", -ENOMEM);
	return p;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* splitmix64 */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	return mix64(rng_state += 0x9e3779b97f4a7c15ull);
}

static uint64_t seed;

/* Slot contents, a pure function of (seed, slot). */
static uint64_t slot_hash(uint64_t slot, uint64_t what)
{
	return mix64(seed ^ mix64(slot * 4 + what + 0x51ed270b27ull));
}

static uint64_t slot_pages(uint64_t slot)
{
	return 1 + slot_hash(slot, 0) % (SLOT_PAGES - 1);
}

static unsigned int slot_bo(uint64_t slot)
{
	return (unsigned int)(slot_hash(slot, 1) % NBO);
}

static uint64_t slot_offset(uint64_t slot)
{
	return (slot_hash(slot, 2) % OFFSET_PAGES) * PAGE;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* -------------------------------------------------- counting allocator */

struct counting {
	size_t bytes; /* live bytes asked for */
	size_t peak;
};

static void *cnt_alloc(void *ud, size_t size, size_t align)
{
	struct counting *c = ud;
	size_t sz = (size + align - 1) & ~(align - 1);
	void *p = aligned_alloc(align, sz ? sz : align);

	if (p) {
		c->bytes += size;
		if (c->bytes > c->peak)
			c->peak = c->bytes;
	}
	return p;
}

static void cnt_free(void *ud, void *p, size_t size)
{
	struct counting *c = ud;

	if (p)
		c->bytes -= size;
	free(p);
}

/* Heap bytes in use (malloc's view, headers included), or 0 if unknown. */
static size_t heap_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#else
	return 0;
#endif
}

/* ------------------------------------------------------------ the VM */

struct bo {
	struct gpuvm_gem base;
};

static struct bo *bos;

struct vmctx {
	struct gpuvm vm;
	struct counting cnt;
	struct gpuvm_allocator alloc;
	struct gpuvm_bo *vm_bo[NBO];
	size_t vm_bo_bytes;       /* allocator bytes for the NBO vm_bos */
	size_t heap_per_mapping_x100;
	uint64_t va_range;
};

static struct gpuvm_bo *vm_bo_of(struct vmctx *c, struct gpuvm_gem *obj)
{
	return c->vm_bo[(struct bo *)obj - bos];
}

static void link_to(struct vmctx *c, struct gpuva *va)
{
	struct gpuvm_gem *obj = gpuva_gem(va);
	int ret;

	if (!obj)
		return;
	ret = gpuva_link(va, vm_bo_of(c, obj));
	if (ret)
		die("gpuva_link", ret);
}

static void drop(struct gpuva *va)
{
	if (gpuva_vm_bo(va))
		gpuva_unlink(va);
	free(va);
}

static void vm_setup(struct vmctx *c, size_t nmap)
{
	size_t before;
	int ret;

	memset(c, 0, sizeof(*c));
	c->va_range = nmap * SLOT_PAGES * PAGE;
	c->alloc = (struct gpuvm_allocator){ cnt_alloc, cnt_free, &c->cnt };
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "bench", .start = 0, .range = c->va_range,
		   .alloc = &c->alloc);
	ret = gpuvm_init(&c->vm, &opts);
	if (ret)
		die("gpuvm_init", ret);
	before = c->cnt.bytes;
	for (unsigned int i = 0; i < NBO; i++) {
		ret = gpuvm_bo_obtain(&c->vm, &bos[i].base, &c->vm_bo[i]);
		if (ret)
			die("gpuvm_bo_obtain", ret);
	}
	c->vm_bo_bytes = c->cnt.bytes - before;
}

/* Insert and link every slot's mapping, in @order (NULL: address order). */
static double vm_fill(struct vmctx *c, size_t nmap, const uint64_t *order)
{
	size_t heap0 = heap_in_use();
	uint64_t t0 = bench_now_ns(), t1;

	for (size_t i = 0; i < nmap; i++) {
		uint64_t slot = order ? order[i] : i;
		struct gpuva *va = xmalloc(sizeof(*va));
		int ret;

		gpuva_init(va, slot * SLOT_PAGES * PAGE, slot_pages(slot) * PAGE,
			   &bos[slot_bo(slot)].base, slot_offset(slot));
		ret = gpuva_insert(&c->vm, va);
		if (ret)
			die("gpuva_insert", ret);
		link_to(c, va);
	}
	t1 = bench_now_ns();
	c->heap_per_mapping_x100 = nmap ? (heap_in_use() - heap0) * 100 / nmap : 0;
	return nmap ? (double)(t1 - t0) / (double)nmap : 0;
}

static size_t vm_count(const struct gpuvm *vm)
{
	struct gpuvm_stats st = { .sz = sizeof(st) };

	gpuvm_stats(vm, &st);
	return st.mappings;
}

static void vm_teardown(struct vmctx *c)
{
	struct gpuva *va, *next;
	int ret;

	gpuvm_for_each_va_safe(va, next, &c->vm) {
		gpuva_remove(va);
		drop(va);
	}
	for (unsigned int i = 0; i < NBO; i++)
		gpuvm_bo_put(c->vm_bo[i]);
	ret = gpuvm_fini(&c->vm);
	if (ret)
		die("gpuvm_fini", ret);
}

static uint64_t *shuffled_slots(size_t n)
{
	uint64_t *order = xmalloc(n * sizeof(*order));

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd() % i;
		uint64_t t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	return order;
}

/* ============================================================ (c) lookups */

/* Baseline: a sorted array of (start, end), binary search. */
struct iv {
	uint64_t start, end;
};

struct iv_map {
	struct iv *v;
	size_t n;
};

/* The lowest interval intersecting [addr, addr + range), or NULL. */
static const struct iv *iv_find_first(const struct iv_map *m, uint64_t addr, uint64_t range)
{
	size_t lo = 0, hi = m->n;

	/* first interval starting above addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && m->v[lo - 1].end > addr)
		return &m->v[lo - 1];
	if (lo < m->n && m->v[lo].start < addr + range)
		return &m->v[lo];
	return NULL;
}

static void iv_from_vm(struct iv_map *m, const struct gpuvm *vm)
{
	struct gpuva *va;
	size_t i = 0;

	m->n = vm_count(vm);
	m->v = xmalloc(m->n * sizeof(*m->v));
	gpuvm_for_each_va(va, vm)
		m->v[i++] = (struct iv){ va->va.addr, gpuva_end(va) };
}

enum qkind { Q_HIT, Q_RANDOM, Q_ASCENDING, Q_KINDS };
static const char *const qkind_name[Q_KINDS] = { "hit", "random", "ascending" };

static uint64_t *make_queries(enum qkind k, size_t nq, size_t nmap, uint64_t va_range)
{
	uint64_t *q = xmalloc(nq * sizeof(*q));
	uint64_t pages = va_range / PAGE;

	for (size_t i = 0; i < nq; i++) {
		switch (k) {
		case Q_HIT: {
			uint64_t slot = rnd() % nmap;

			q[i] = slot * SLOT_PAGES * PAGE + (rnd() % slot_pages(slot)) * PAGE;
			break;
		}
		case Q_RANDOM:
			q[i] = (rnd() % pages) * PAGE;
			break;
		default:
			q[i] = (uint64_t)((unsigned __int128)i * pages / nq) * PAGE;
			break;
		}
	}
	return q;
}

struct lookup_base {
	struct bench_stats st[Q_KINDS];
	uint64_t *queries[Q_KINDS];
	uint64_t *answer[Q_KINDS]; /* start of the mapping found, or UINT64_MAX */
	double load_ns;            /* random_line_load_ns() of the working set */
	bool done;
};

static void report_speedup(const char *bench, const struct bench_stats *lib,
			   const struct bench_stats *base)
{
	bench_value(bench, "speedup_p50", ratio(base->p50, lib->p50), "x");
	bench_value(bench, "speedup_mean", ratio(base->mean, lib->mean), "x");
}

/*
 * What one dependent load of a random cache line costs in a working set of
 * @bytes (the VM's gpuvas and index): a pointer chase through one random
 * cycle over all the lines (Sattolo), in ns per load. The unit find_first's
 * latency is best read in: a descent is a chain of such loads.
 */
static double random_line_load_ns(size_t bytes, size_t hops)
{
	size_t n = bytes / 64 > 2 ? bytes / 64 : 2;
	struct line {
		size_t next;
		char pad[64 - sizeof(size_t)];
	} *v = aligned_alloc(64, n * sizeof(*v));
	size_t *perm = xmalloc(n * sizeof(*perm)), p = 0;
	uint64_t t0, t1;

	if (!v)
		die("aligned_alloc", -ENOMEM);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % i, t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		v[perm[i]].next = perm[(i + 1) % n];
	free(perm);
	for (size_t i = 0; i < n && i < hops; i++) /* warm the TLB and caches as a VM would */
		p = v[p].next;
	t0 = bench_now_ns();
	for (size_t i = 0; i < hops; i++)
		p = v[p].next;
	t1 = bench_now_ns();
	bench_keep(p);
	free(v);
	return (double)(t1 - t0) / (double)hops;
}

static void lookups(struct vmctx *c, const char *order_name, size_t nmap, size_t nq,
		    struct lookup_base *base, struct bench_samples *s)
{
	char name[96];
	struct iv_map ivm = { 0 };
	struct bench_load ld;
	double other, steal;

	bench_load_begin(&ld);

	if (!base->done && !no_baseline) {
		iv_from_vm(&ivm, &c->vm);
		for (int k = 0; k < Q_KINDS; k++) {
			base->queries[k] = make_queries(k, nq, nmap, c->va_range);
			base->answer[k] = xmalloc(nq * sizeof(uint64_t));
		}
	}
	if (!base->queries[0])
		for (int k = 0; k < Q_KINDS; k++)
			base->queries[k] = make_queries(k, nq, nmap, c->va_range);
	if (!base->load_ns) {
		struct gpuvm_stats vs = { .sz = sizeof(vs) };

		gpuvm_stats(&c->vm, &vs);
		base->load_ns = random_line_load_ns(nmap * sizeof(struct gpuva) + vs.index_bytes, nq);
		bench_value("find_first", "random_line_load", base->load_ns, "ns");
	}
	for (int k = 0; k < Q_KINDS; k++) {
		const uint64_t *q = base->queries[k];
		struct bench_stats st;
		size_t mismatches = 0;

		/* libgpuvm */
		bench_samples_reset(s);
		for (size_t i = 0; i < nq; i++) {
			uint64_t t0 = bench_start();
			struct gpuva *va = gpuva_find_first(&c->vm, q[i], PAGE);
			uint64_t t1 = bench_stop();

			bench_samples_add(s, t1 - t0);
			if (base->done && (va ? va->va.addr : UINT64_MAX) != base->answer[k][i])
				mismatches++;
			bench_keep(va);
		}
		snprintf(name, sizeof(name), "find_first_%s_%s", order_name, qkind_name[k]);
		bench_report_latency(name, s, &st);
		bench_cdf_dump(name, s);
		bench_value(name, "p50_in_line_loads", ratio(st.p50, base->load_ns), "loads");

		/* the baseline, measured once, on the first VM */
		if (no_baseline)
			continue;
		if (!base->done) {
			snprintf(name, sizeof(name), "find_first_sorted_array_%s", qkind_name[k]);
			bench_samples_reset(s);
			for (size_t i = 0; i < nq; i++) {
				uint64_t t0 = bench_start();
				const struct iv *r = iv_find_first(&ivm, q[i], PAGE);
				uint64_t t1 = bench_stop();

				bench_samples_add(s, t1 - t0);
				base->answer[k][i] = r ? r->start : UINT64_MAX;
				bench_keep(r);
			}
			bench_report_latency(name, s, &base->st[k]);
			bench_cdf_dump(name, s);
			/* the answers must be libgpuvm's */
			for (size_t i = 0; i < nq; i++) {
				struct gpuva *va = gpuva_find_first(&c->vm, q[i], PAGE);

				if ((va ? va->va.addr : UINT64_MAX) != base->answer[k][i])
					mismatches++;
			}
		}
		check(!mismatches, "find_first %s %s: %zu answers differ from the sorted array",
		      order_name, qkind_name[k], mismatches);
		snprintf(name, sizeof(name), "find_first_%s_%s", order_name, qkind_name[k]);
		report_speedup(name, &st, &base->st[k]);
	}
	if (!base->done && !no_baseline) {
		free(ivm.v);
		base->done = true;
	}
	bench_load_end(&ld, &other, &steal);
	snprintf(name, sizeof(name), "%s_other_load", order_name);
	bench_value("find_first", name, other, "share");
}

/* ============================================================ (d) memory */

/* The kernel's struct drm_gpuva (include/drm/drm_gpuvm.h), laid out here. */
struct kernel_list_head {
	void *next, *prev;
};

struct kernel_rb_node {
	unsigned long parent_color;
	void *right, *left;
};

struct kernel_drm_gpuva {
	void *vm, *vm_bo;
	unsigned int flags;
	struct {
		uint64_t addr, range;
	} va;
	struct {
		uint64_t offset;
		void *obj;
		struct kernel_list_head entry;
	} gem;
	struct {
		struct kernel_rb_node node;
		struct kernel_list_head entry;
		uint64_t subtree_last;
	} rb;
};

/* The kernel's struct drm_gpuvm_bo. */
struct kernel_drm_gpuvm_bo {
	void *vm, *obj;
	bool evicted;
	unsigned int kref;
	struct {
		struct kernel_list_head gpuva;
		struct {
			struct kernel_list_head gem, extobj, evict;
			void *bo_defer;
		} entry;
	} list;
};

static void memory(struct vmctx *c, const char *order_name)
{
	struct gpuvm_stats st = { .sz = sizeof(st) };
	char fig[96];
	double idx, total;

	gpuvm_stats(&c->vm, &st);
	idx = st.mappings ? (double)st.index_bytes / (double)st.mappings : 0;
	total = (double)sizeof(struct gpuva) + idx;

	snprintf(fig, sizeof(fig), "index_bytes_per_mapping_%s", order_name);
	bench_value("memory", fig, idx, "bytes");
	snprintf(fig, sizeof(fig), "bytes_per_mapping_%s", order_name);
	bench_value("memory", fig, total, "bytes");
	snprintf(fig, sizeof(fig), "bytes_per_mapping_%s_vs_kernel", order_name);
	bench_value("memory", fig, ratio((double)sizeof(struct kernel_drm_gpuva), total), "x");
	snprintf(fig, sizeof(fig), "allocator_bytes_per_mapping_%s", order_name);
	bench_value("memory", fig,
		    st.mappings ? (double)(c->cnt.bytes - c->vm_bo_bytes) / (double)st.mappings : 0,
		    "bytes");
	snprintf(fig, sizeof(fig), "heap_bytes_per_mapping_%s", order_name);
	bench_value("memory", fig, (double)c->heap_per_mapping_x100 / 100, "bytes");
	snprintf(fig, sizeof(fig), "index_height_%s", order_name);
	bench_value("memory", fig, st.height, "levels");
}

static void memory_fixed(struct vmctx *c)
{
	bench_value("memory", "gpuva_bytes", (double)sizeof(struct gpuva), "bytes");
	bench_value("memory", "kernel_drm_gpuva_bytes", (double)sizeof(struct kernel_drm_gpuva),
		    "bytes");
	bench_value("memory", "vm_bo_bytes", (double)c->vm_bo_bytes / NBO, "bytes");
	bench_value("memory", "kernel_drm_gpuvm_bo_bytes",
		    (double)sizeof(struct kernel_drm_gpuvm_bo), "bytes");
	bench_value("memory", "vm_bo_bytes_vs_kernel",
		    ratio((double)sizeof(struct kernel_drm_gpuvm_bo), (double)c->vm_bo_bytes / NBO),
		    "x");
}

/* ======================================================= (b) map requests */

struct req {
	uint64_t addr, range, offset;
	unsigned int bo;
};

static struct req *make_requests(size_t n, uint64_t va_range)
{
	struct req *r = xmalloc(n * sizeof(*r));
	uint64_t pages_total = va_range / PAGE;

	for (size_t i = 0; i < n; i++) {
		uint64_t pages = 1 + rnd() % MAX_REQ_PAGES;

		if (pages > pages_total)
			pages = pages_total;
		r[i].addr = (rnd() % (pages_total - pages + 1)) * PAGE;
		r[i].range = pages * PAGE;
		r[i].bo = (unsigned int)(rnd() % NBO);
		r[i].offset = (rnd() % OFFSET_PAGES) * PAGE;
	}
	return r;
}

static void apply_ops(struct vmctx *c, struct gpuva_ops *ops)
{
	struct gpuva_op *op;
	int ret;

	gpuva_for_each_op(op, ops) {
		switch (op->op) {
		case GPUVA_OP_MAP: {
			struct gpuva *va = xcalloc(1, sizeof(*va));

			ret = gpuva_map(&c->vm, va, &op->map);
			if (ret)
				die("gpuva_map", ret);
			link_to(c, va);
			break;
		}
		case GPUVA_OP_REMAP: {
			struct gpuva *old = op->remap.unmap->va;
			struct gpuva *prev = op->remap.prev ? xcalloc(1, sizeof(*prev)) : NULL;
			struct gpuva *next = op->remap.next ? xcalloc(1, sizeof(*next)) : NULL;

			ret = gpuva_remap(prev, next, &op->remap);
			if (ret)
				die("gpuva_remap", ret);
			if (prev)
				link_to(c, prev);
			if (next)
				link_to(c, next);
			drop(old);
			break;
		}
		case GPUVA_OP_UNMAP:
			ret = gpuva_unmap(&op->unmap);
			if (ret)
				die("gpuva_unmap", ret);
			drop(op->unmap.va);
			break;
		default:
			break;
		}
	}
}

/* One request through libgpuvm; returns its op count. */
static size_t lib_request(struct vmctx *c, const struct req *r, bool apply)
{
	struct gpuvm_map_req req = {
		.sz = sizeof(req),
		.map = { .va = { r->addr, r->range }, .gem = { r->offset, &bos[r->bo].base } },
	};
	struct gpuva_ops *ops;
	size_t n;
	int ret = gpuvm_sm_map_ops_create(&c->vm, &req, &ops);

	if (ret)
		die("gpuvm_sm_map_ops_create", ret);
	n = ops->count;
	if (apply)
		apply_ops(c, ops);
	gpuva_ops_free(&c->vm, ops);
	return n;
}

/* The baseline: a sorted array of entries, brute-force split. */
struct sa_ent {
	uint64_t start, end, offset;
	unsigned int bo;
};

struct sa_map {
	struct sa_ent *e;
	size_t n, cap;
};

enum { SA_MAP, SA_REMAP, SA_UNMAP };

struct sa_op {
	int kind;
	bool has_prev, has_next;
	uint64_t old_start;           /* remap, unmap: the entry replaced */
	struct sa_ent prev, next, map; /* remap pieces; map: the new entry */
};

/* Index of the first entry whose start is > addr. */
static size_t sa_upper(const struct sa_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->e[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t sa_exact(const struct sa_map *m, uint64_t start)
{
	size_t i = sa_upper(m, start);

	if (!i || m->e[i - 1].start != start) {
		fprintf(stderr, "bench-engine: baseline lost the entry at 0x%" PRIx64 "\n", start);
		exit(1);
	}
	return i - 1;
}

static void sa_insert_at(struct sa_map *m, size_t i, const struct sa_ent *e)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->e = realloc(m->e, m->cap * sizeof(*m->e));
		if (!m->e)
			die("realloc", -ENOMEM);
	}
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(*m->e));
	m->e[i] = *e;
	m->n++;
}

static void sa_remove_at(struct sa_map *m, size_t i)
{
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(*m->e));
	m->n--;
}

static void sa_from_vm(struct sa_map *m, const struct gpuvm *vm)
{
	struct gpuva *va;

	m->n = 0;
	m->cap = vm_count(vm) + 64;
	m->e = xmalloc(m->cap * sizeof(*m->e));
	gpuvm_for_each_va(va, vm)
		m->e[m->n++] = (struct sa_ent){ va->va.addr, gpuva_end(va), va->gem.offset,
						(unsigned int)((struct bo *)gpuva_gem(va) - bos) };
}

/* Build the ops of @r into a malloc'd array; returns the count. */
static size_t sa_build(const struct sa_map *m, const struct req *r, struct sa_op **out)
{
	uint64_t rs = r->addr, re = r->addr + r->range;
	size_t cap = 4, n = 0, i = sa_upper(m, rs);
	struct sa_op *ops = xmalloc(cap * sizeof(*ops));

	if (i && m->e[i - 1].end > rs)
		i--;
	for (;; i++) {
		bool last = i >= m->n || m->e[i].start >= re;
		struct sa_op *op;

		if (n == cap) {
			cap *= 2;
			ops = realloc(ops, cap * sizeof(*ops));
			if (!ops)
				die("realloc", -ENOMEM);
		}
		op = &ops[n++];
		if (last) {
			op->kind = SA_MAP;
			op->map = (struct sa_ent){ rs, re, r->offset, r->bo };
			break;
		}
		const struct sa_ent *e = &m->e[i];

		op->old_start = e->start;
		op->has_prev = e->start < rs;
		op->has_next = e->end > re;
		if (!op->has_prev && !op->has_next) {
			op->kind = SA_UNMAP;
			continue;
		}
		op->kind = SA_REMAP;
		if (op->has_prev)
			op->prev = (struct sa_ent){ e->start, rs, e->offset, e->bo };
		if (op->has_next)
			op->next = (struct sa_ent){ re, e->end, e->offset + (re - e->start), e->bo };
	}
	*out = ops;
	return n;
}

static void sa_apply(struct sa_map *m, const struct sa_op *ops, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct sa_op *op = &ops[k];
		size_t i;

		switch (op->kind) {
		case SA_UNMAP:
			sa_remove_at(m, sa_exact(m, op->old_start));
			break;
		case SA_REMAP:
			i = sa_exact(m, op->old_start);
			m->e[i] = op->has_prev ? op->prev : op->next;
			if (op->has_prev && op->has_next)
				sa_insert_at(m, i + 1, &op->next);
			break;
		default:
			sa_insert_at(m, sa_upper(m, op->map.start), &op->map);
			break;
		}
	}
}

static size_t sa_request(struct sa_map *m, const struct req *r, bool apply)
{
	struct sa_op *ops;
	size_t n = sa_build(m, r, &ops);

	if (apply)
		sa_apply(m, ops, n);
	free(ops);
	return n;
}

static bool sa_equals_vm(const struct sa_map *m, const struct gpuvm *vm)
{
	struct gpuva *va;
	size_t i = 0;

	gpuvm_for_each_va(va, vm) {
		const struct sa_ent *e = &m->e[i];

		if (i >= m->n || e->start != va->va.addr || e->end != gpuva_end(va) ||
		    e->offset != va->gem.offset || gpuva_gem(va) != &bos[e->bo].base)
			return false;
		i++;
	}
	return i == m->n;
}

/* One request through libgpuvm or the baseline; returns its op count. */
typedef size_t (*request_fn)(void *ctx, const struct req *r, bool apply);

static size_t lib_fn(void *ctx, const struct req *r, bool apply)
{
	return lib_request(ctx, r, apply);
}

static size_t sa_fn(void *ctx, const struct req *r, bool apply)
{
	return sa_request(ctx, r, apply);
}

struct run {
	double rate;   /* requests/s, median of the chunks */
	size_t done;   /* requests run */
	size_t ops;    /* ops built */
	size_t mismatches;
};

/*
 * Run requests [0, n) in CHUNKS equal chunks, timing each, and return the
 * median chunk rate; @counts receives each request's op count (or is
 * compared with it when @compare). With @budget_ns, 8 untimed requests
 * estimate the cost of one and the chunks are shortened so that the whole
 * takes about that long; then fewer than @n requests run (res.done).
 */
static struct run run_requests(request_fn fn, void *ctx, const struct req *reqs, size_t n,
			       bool apply, uint16_t *counts, bool compare, uint64_t budget_ns)
{
	struct run res = { 0 };
	double rates[CHUNKS];
	size_t chunk, done = 0, warm = 0;
	bool limited = false; /* the budget shortened the chunks */
	int nr = 0;

	if (budget_ns && n > 8 * CHUNKS) {
		/* estimate the cost of a request, then size the chunks to the budget */
		uint64_t t0 = bench_now_ns(), per;

		for (warm = 0; warm < 8; warm++) {
			size_t k = fn(ctx, &reqs[warm], apply);

			res.ops += k;
			if (compare && counts[warm] != k)
				res.mismatches++;
		}
		per = (bench_now_ns() - t0) / 8 + 1;
		chunk = (n - warm) / CHUNKS;
		if (chunk > budget_ns / CHUNKS / per) {
			chunk = budget_ns / CHUNKS / per;
			limited = true;
		}
		if (!chunk)
			chunk = 1;
	} else {
		chunk = n / CHUNKS ? n / CHUNKS : 1;
	}
	done = warm;
	for (int c = 0; c < CHUNKS && done < n; c++) {
		size_t end = c == CHUNKS - 1 && !limited ? n : done + chunk;
		uint64_t t0, t1;

		if (end > n)
			end = n;
		t0 = bench_now_ns();
		for (size_t i = done; i < end; i++) {
			size_t k = fn(ctx, &reqs[i], apply);

			res.ops += k;
			if (compare) {
				if (counts[i] != k)
					res.mismatches++;
			} else {
				counts[i] = (uint16_t)k;
			}
		}
		t1 = bench_now_ns();
		rates[nr++] = bench_rate((double)(end - done), t1 - t0);
		done = end;
	}
	res.rate = median(rates, (size_t)nr);
	res.done = done;
	return res;
}

static void map_requests(struct vmctx *c, size_t nreq, size_t nmap)
{
	/* applied requests change the VM: at most one per mapping, so that it
	 * stays near its size (the count before and after is printed) */
	size_t napp = nreq < nmap ? nreq : nmap;
	struct req *reqs = make_requests(nreq, c->va_range);
	uint16_t *built = xmalloc(nreq * sizeof(*built));
	uint16_t *applied = xmalloc(nreq * sizeof(*applied));
	struct run lb, la, bb = { 0 }, ba = { 0 };
	struct sa_map sa;
	size_t before = vm_count(&c->vm);
	struct bench_load ld;
	double other, steal;

	sa_from_vm(&sa, &c->vm);
	bench_load_begin(&ld);
	lb = run_requests(lib_fn, c, reqs, nreq, false, built, false, 0);
	bench_load_end(&ld, &other, &steal);
	bench_value("map", "built_other_load", other, "share");
	if (!no_baseline)
		bb = run_requests(sa_fn, &sa, reqs, nreq, false, built, true, 0);
	bench_load_begin(&ld);
	bench_perf(true);
	la = run_requests(lib_fn, c, reqs, napp, true, applied, false, 0);
	bench_perf(false);
	bench_load_end(&ld, &other, &steal);
	bench_value("map", "applied_other_load", other, "share");
	bench_value("map", "applied_steal", steal, "share");
	if (!no_baseline)
		ba = run_requests(sa_fn, &sa, reqs, napp, true, applied, true,
				  BASELINE_APPLY_BUDGET_NS);

	bench_value("map", "mappings_before", (double)before, "mappings");
	bench_value("map", "requests", (double)nreq, "requests");
	bench_value("map", "requests_applied", (double)napp, "requests");
	bench_value("map", "ops_per_request", ratio((double)la.ops, (double)napp), "ops");
	bench_value("map", "ops_per_request_built", ratio((double)lb.ops, (double)nreq), "ops");
	bench_value("map", "built", lb.rate, "requests/s");
	if (!no_baseline) {
		bench_value("map", "built_sorted_array", bb.rate, "requests/s");
		bench_value("map", "built_speedup", ratio(lb.rate, bb.rate), "x");
	}
	bench_value("map", "applied", la.rate, "requests/s");
	if (!no_baseline) {
		bench_value("map", "applied_sorted_array", ba.rate, "requests/s");
		bench_value("map", "applied_speedup", ratio(la.rate, ba.rate), "x");
		bench_value("map", "applied_sorted_array_requests", (double)ba.done,
			    "requests");
	}
	bench_value("map", "mappings_after", (double)vm_count(&c->vm), "mappings");

	check(!bb.mismatches, "map built: %zu requests with another op count in the baseline",
	      bb.mismatches);
	check(!ba.mismatches, "map applied: %zu requests with another op count in the baseline",
	      ba.mismatches);
	if (ba.done == napp && !no_baseline)
		check(sa_equals_vm(&sa, &c->vm), "map applied: the baseline's final state differs");
	free(sa.e);
	free(applied);
	free(built);
	free(reqs);
}

/* ================================================================= main */

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-engine [-n MAPPINGS] [-r REQUESTS] [-l LOOKUPS] [-s SEED]\n"
		   "                    [-w bcd] [--no-baseline] [--tiny] [--json FILE]\n"
		   "                    [--cdf-dir DIR]\n");
}

int main(int argc, char **argv)
{
	size_t nmap = 1000000, nreq = 200000, nlook = 200000;
	const char *which = "bcd";
	struct lookup_base lbase = { 0 };
	struct bench_samples s;
	struct vmctx *c;
	uint64_t *order;
	char buf[64];
	double ns;
	int ret;

	argc = bench_init("bench-engine", argc, argv);
	if (bench_tiny()) {
		nmap = 2000;
		nreq = 2000;
		nlook = 2000;
	}
	seed = 42;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--tiny"))
			continue;
		if (!strcmp(a, "--no-baseline")) {
			no_baseline = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v || a[0] != '-' || !a[1] || a[2]) {
			usage(stderr);
			return 2;
		}
		i++;
		switch (a[1]) {
		case 'n': nmap = strtoull(v, NULL, 0); break;
		case 'r': nreq = strtoull(v, NULL, 0); break;
		case 'l': nlook = strtoull(v, NULL, 0); break;
		case 's': seed = strtoull(v, NULL, 0); break;
		case 'w': which = v; break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (nmap < 1 || nreq < 1 || nlook < 1) {
		usage(stderr);
		return 2;
	}
	rng_state = seed;
	snprintf(buf, sizeof(buf), "%zu", nmap);
	bench_meta("mappings", buf);
	snprintf(buf, sizeof(buf), "%zu", nreq);
	bench_meta("requests", buf);
	snprintf(buf, sizeof(buf), "%zu", nlook);
	bench_meta("lookups", buf);
	snprintf(buf, sizeof(buf), "%" PRIu64, seed);
	bench_meta("seed", buf);
	bench_value("engine", "mappings", (double)nmap, "mappings");

	bos = xcalloc(NBO, sizeof(*bos));
	for (unsigned int i = 0; i < NBO; i++) {
		GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = BO_SIZE);
		ret = gpuvm_gem_init(&bos[i].base, &gopts);
		if (ret)
			die("gpuvm_gem_init", ret);
	}
	if (bench_samples_init(&s, nlook))
		die("bench_samples_init", -ENOMEM);
	c = xmalloc(sizeof(*c));

	/* the address-order VM: (c) and (d) */
	if (strchr(which, 'c') || strchr(which, 'd')) {
		vm_setup(c, nmap);
		ns = vm_fill(c, nmap, NULL);
		bench_value("fill", "address_order", ns, "ns/mapping");
		if (strchr(which, 'd'))
			memory(c, "address_order");
		if (strchr(which, 'c'))
			lookups(c, "address_order", nmap, nlook, &lbase, &s);
		vm_teardown(c);
	}

	/* the shuffled VM: (c), (d), then (b), which changes it */
	vm_setup(c, nmap);
	order = shuffled_slots(nmap);
	ns = vm_fill(c, nmap, order);
	free(order);
	bench_value("fill", "shuffled", ns, "ns/mapping");
	ret = gpuvm_verify(&c->vm);
	if (ret)
		die("gpuvm_verify", ret);
	if (strchr(which, 'd')) {
		memory(c, "shuffled");
		memory_fixed(c);
	}
	if (strchr(which, 'c'))
		lookups(c, "shuffled", nmap, nlook, &lbase, &s);
	if (strchr(which, 'b'))
		map_requests(c, nreq, nmap);
	ret = gpuvm_verify(&c->vm);
	if (ret)
		die("gpuvm_verify", ret);
	vm_teardown(c);

	for (int k = 0; k < Q_KINDS; k++) {
		free(lbase.queries[k]);
		free(lbase.answer[k]);
	}
	for (unsigned int i = 0; i < NBO; i++)
		gpuvm_gem_put(&bos[i].base);
	free(c);
	free(bos);
	bench_samples_free(&s);
	bench_value("engine", "cross_check_failures", failures, "failures");
	ret = bench_finish();
	return failures ? 1 : ret;
}
