/* SPDX-License-Identifier: MIT */
/*
 * Workload (a) of the benchmarks issue: the fence-path unlink.
 *
 * An immediate-mode VM holds N mappings (one page each, at consecutive
 * pages) spread round-robin over M buffer objects, one vm_bo each: mapping i
 * maps BO i % M and is linked to its vm_bo. Every mapping is then unlinked,
 * in a random order, and each call is timed with the TSC (bench.h):
 *
 *   unlink_defer_*    gpuva_unlink_defer(), inside gpuvm_signalling_begin/end,
 *                     on mappings already removed from the tree (as after a
 *                     run_job's gpuva_remove(), so two threads may unlink at
 *                     once without a VM lock);
 *   unlink_locked_*   the non-deferred path on the same workload:
 *                     gpuvm_gem_gpuva_lock(), gpuva_unlink() (whose put frees
 *                     the vm_bo inline when it is the last reference: bo.h
 *                     allows that last put in immediate mode under the
 *                     gpuva lock, outside the signalling section; the bench
 *                     holds its own gem reference so the put never frees the
 *                     gem under its own lock), gpuvm_gem_gpuva_unlock();
 *   remove_unlink_*   gpuva_remove() + the unlink, on inserted mappings
 *                     (what a run_job does), one thread.
 *
 * Variants: 1 thread (_1t); 2 threads each unlinking half of the mappings,
 * in random order, across all BOs (_2t_shared) or each on its own half of
 * the BOs (_2t_disjoint); N = M (_last: every call drops a vm_bo's last
 * reference, so every deferred call pushes a zombie and every locked call
 * frees a vm_bo). Diagnostics, 1 thread, deferred: in link order (_1t_seq,
 * the hardware prefetchers see the lines coming); the mapping's line
 * touched before each timed call (_1t_warm_va), or every line the call
 * uses (_1t_warm_all: the mapping, its two list neighbours, the vm_bo, the
 * gem), latency only; the mappings on transparent huge pages (_1t_thp).
 * Beside each throughput: <name>_other_load and _steal, the share of the
 * machine's CPU time other processes used and the hypervisor stole during
 * those runs (bench_load_*), so a figure taken while the shared cores were
 * busy can be recognised; run_other_load is the same for the whole run.
 *
 * Each variant runs once timing every call (latency percentiles and CDF)
 * and R times (default 3) untimed for the throughput, reported as the
 * median of the R runs (the timer's own cost, printed as timer_overhead,
 * would otherwise be a large share of a call; the repeats keep one
 * interruption on a shared machine from setting the figure). Every run
 * starts from a fresh world. Threads are pinned to CPUs 0 and 1.
 *
 * deferred_cleanup: gpuvm_bo_deferred_cleanup() timed as one call after the
 * untimed deferred runs, divided by the vm_bos it freed (median of R).
 *
 * Baselines in the same run:
 *   floor_1t          one uncontended pthread mutex lock/unlock, one atomic
 *                     decrement and one lock-free push (liburcu cds_lfs_push,
 *                     the library's stack) on memory in cache, per call;
 *   floor_2t          its throughput on 2 threads, each on its own data;
 *   cacheline_load    one load of a random cache line of an array the size
 *                     of the mappings (N * sizeof(struct gpuva)): what a
 *                     cold line costs on this machine (_thp: on huge pages,
 *                     i.e. mostly without the TLB miss);
 *   unlink_locked_*   the non-deferred path above.
 * Each unlink_defer figure is then printed beside the floor and the locked
 * path with the ratios (`<bench>_<figure>_vs_floor`, `_vs_locked` lines and
 * a '#' table).
 *
 *	bench-unlink [--tiny] [--n N] [--m M] [--last K] [--seed S] [--reps R]
 *		     [--json FILE|DIR] [--cdf-dir DIR]
 *
 * Defaults: N = 200000, M = 1000, K = 50000 (the N = M variant); --tiny:
 * N = 512, M = 16, K = 128, R = 1. The last line is
 * "bench_unlink_complete <k> benchmarks". Nothing asserts speed.
 */
#define _GNU_SOURCE
#include <gpuvm.h>

#include "bench.h"

#include <urcu/lfstack.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096ull
#define MAX_THREADS 2

static const char *prog = "bench-unlink";

__attribute__((noreturn)) static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, gpuvm_err_name(err));
	exit(1);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		die("calloc", -ENOMEM);
	return p;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void shuffle(size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rnd() % i);
		size_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* A big array, 64-byte aligned; with @thp on 2 MiB pages if the kernel
 * gives them (MADV_HUGEPAGE; THP is often "madvise" only). */
static void *big_alloc(size_t size, bool thp)
{
	size_t align = thp ? (2u << 20) : 64;
	size_t len = (size + align - 1) / align * align;
	void *p = aligned_alloc(align, len ? len : align);

	if (!p)
		die("aligned_alloc", -ENOMEM);
	if (thp)
		madvise(p, len, MADV_HUGEPAGE);
	memset(p, 0, len);
	return p;
}

/* ------------------------------------------------------------- the world */

struct bo {
	struct gpuvm_gem base;
};

struct world {
	struct gpuvm vm;
	size_t n, m;
	struct bo **bos;
	struct gpuva *va; /* n mappings, one array */
};

static void world_setup(struct world *w, size_t n, size_t m, bool thp)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "bench-unlink",
		   .flags = GPUVM_IMMEDIATE_MODE, .start = 0,
		   .range = 1ull << 47);
	size_t per_bo = (n + m - 1) / m;
	struct gpuvm_bo **vm_bo = xcalloc(m, sizeof(*vm_bo));
	int ret;

	memset(w, 0, sizeof(*w));
	w->n = n;
	w->m = m;
	ret = gpuvm_init(&w->vm, &opts);
	if (ret)
		die("gpuvm_init", ret);
	w->bos = xcalloc(m, sizeof(*w->bos));
	for (size_t b = 0; b < m; b++) {
		GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = per_bo * PAGE);

		/* one allocation per BO, as a driver would have */
		w->bos[b] = xcalloc(1, sizeof(*w->bos[b]));
		ret = gpuvm_gem_init(&w->bos[b]->base, &gopts);
		if (ret)
			die("gpuvm_gem_init", ret);
		ret = gpuvm_bo_obtain(&w->vm, &w->bos[b]->base, &vm_bo[b]);
		if (ret)
			die("gpuvm_bo_obtain", ret);
	}
	w->va = big_alloc(n * sizeof(*w->va), thp);
	for (size_t i = 0; i < n; i++) {
		struct gpuvm_gem *obj = &w->bos[i % m]->base;

		gpuva_init(&w->va[i], i * PAGE, PAGE, obj, (i / m) * PAGE);
		ret = gpuva_insert(&w->vm, &w->va[i]);
		if (ret)
			die("gpuva_insert", ret);
		ret = gpuvm_gem_gpuva_lock(obj);
		if (!ret)
			ret = gpuva_link(&w->va[i], vm_bo[i % m]);
		if (ret)
			die("gpuva_link", ret);
		gpuvm_gem_gpuva_unlock(obj);
	}
	/* The mappings hold the vm_bos now; drop the obtain references (never
	 * the last: every BO has a mapping when n >= m). */
	for (size_t b = 0; b < m; b++) {
		gpuvm_gem_gpuva_lock(&w->bos[b]->base);
		gpuvm_bo_put(vm_bo[b]);
		gpuvm_gem_gpuva_unlock(&w->bos[b]->base);
	}
	free(vm_bo);
}

static void world_remove_all(struct world *w)
{
	for (size_t i = 0; i < w->n; i++) {
		int ret = gpuva_remove(&w->va[i]);

		if (ret)
			die("gpuva_remove", ret);
	}
}

static void world_teardown(struct world *w)
{
	int ret;

	for (size_t i = 0; i < w->n; i++) {
		if (gpuva_vm_bo(&w->va[i]))
			die("teardown: a mapping is still linked", -EBUSY);
		if (gpuva_find(&w->vm, w->va[i].va.addr, PAGE) == &w->va[i])
			gpuva_remove(&w->va[i]);
	}
	ret = gpuvm_bo_deferred_cleanup(&w->vm);
	if (ret < 0)
		die("gpuvm_bo_deferred_cleanup", ret);
	for (size_t b = 0; b < w->m; b++) {
		gpuvm_gem_put(&w->bos[b]->base); /* the last: fini */
		free(w->bos[b]);
	}
	free(w->bos);
	free(w->va);
	ret = gpuvm_fini(&w->vm);
	if (ret)
		die("gpuvm_fini", ret);
}

/* ------------------------------------------------------------------ runs */

enum path {
	P_DEFER,         /* gpuva_unlink_defer */
	P_LOCKED,        /* gpuva lock, gpuva_unlink, unlock */
	P_REMOVE_DEFER,  /* gpuva_remove + gpuva_unlink_defer */
	P_REMOVE_LOCKED, /* gpuva_remove + lock, gpuva_unlink, unlock */
};

static bool path_deferred(enum path p)
{
	return p == P_DEFER || p == P_REMOVE_DEFER;
}

static bool path_removes(enum path p)
{
	return p == P_REMOVE_DEFER || p == P_REMOVE_LOCKED;
}

static inline int locked_unlink(struct gpuva *va)
{
	struct gpuvm_gem *obj = gpuva_gem(va);
	int ret = gpuvm_gem_gpuva_lock(obj);

	if (ret)
		return ret;
	ret = gpuva_unlink(va);
	gpuvm_gem_gpuva_unlock(obj);
	return ret;
}

static inline int one_call(enum path p, struct gpuva *va)
{
	int ret;

	switch (p) {
	case P_DEFER:
		return gpuva_unlink_defer(va);
	case P_LOCKED:
		return locked_unlink(va);
	case P_REMOVE_DEFER:
		ret = gpuva_remove(va);
		return ret ? ret : gpuva_unlink_defer(va);
	case P_REMOVE_LOCKED:
		ret = gpuva_remove(va);
		return ret ? ret : locked_unlink(va);
	}
	return -EINVAL;
}

/*
 * Diagnostics: bring lines into the cache before the timed region.
 * PREWARM_VA: the mapping's own line (as a run_job that has just removed it
 * would have it). PREWARM_ALL: also its two neighbours on the vm_bo's list
 * (list_del writes them), the vm_bo and the gem (all their lines).
 */
enum prewarm { PREWARM_NONE, PREWARM_VA, PREWARM_ALL };

static inline void touch(const void *p, size_t len)
{
	for (size_t off = 0; off < len; off += 64)
		bench_keep(__atomic_load_n((const unsigned char *)p + off, __ATOMIC_RELAXED));
	bench_keep(__atomic_load_n((const unsigned char *)p + len - 1, __ATOMIC_RELAXED));
}

static inline void prewarm(struct gpuva *va, enum prewarm level)
{
	struct gpuvm_bo *vm_bo;

	touch(va, sizeof(*va));
	if (level < PREWARM_ALL)
		return;
	vm_bo = gpuva_vm_bo(va);
	touch(va->gem.entry.next, sizeof(struct gpuvm_list));
	touch(va->gem.entry.prev, sizeof(struct gpuvm_list));
	if (vm_bo) {
		touch(vm_bo, sizeof(*vm_bo));
		touch(vm_bo->obj, sizeof(*vm_bo->obj));
	}
}

struct worker {
	pthread_t thread;
	int cpu;
	enum path path;
	bool timed;
	enum prewarm prewarm;
	struct gpuva *va;
	size_t *order;
	size_t n;
	pthread_barrier_t *barrier;
	struct bench_samples lat;
	uint64_t t_start, t_end;
	int err;
	int pin_err;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	bool cookie = false;
	enum path p = wk->path;
	struct gpuva *va = wk->va;
	const size_t *order = wk->order;
	int ret = 0;

	wk->pin_err = bench_pin_cpu(wk->cpu);
	if (path_deferred(p))
		cookie = gpuvm_signalling_begin();
	pthread_barrier_wait(wk->barrier);
	wk->t_start = bench_now_ns();
	if (wk->timed) {
		for (size_t i = 0; i < wk->n && !ret; i++) {
			struct gpuva *v = &va[order[i]];

			if (wk->prewarm)
				prewarm(v, wk->prewarm);
			uint64_t t0 = bench_start();

			ret = one_call(p, v);
			uint64_t t1 = bench_stop();

			bench_samples_add(&wk->lat, t1 - t0);
		}
	} else {
		for (size_t i = 0; i < wk->n && !ret; i++)
			ret = one_call(p, &va[order[i]]);
	}
	wk->t_end = bench_now_ns();
	if (path_deferred(p))
		gpuvm_signalling_end(cookie);
	wk->err = ret;
	return NULL;
}

struct run_cfg {
	size_t n, m;
	int threads;
	bool disjoint; /* 2 threads: each its own half of the BOs */
	bool seq;      /* unlink in link order instead of a random order */
	enum path path;
	bool timed;
	enum prewarm prewarm; /* timed runs, 1 thread: diagnostics */
	bool thp;             /* the mappings on huge pages: diagnostics */
};

struct run_out {
	struct bench_samples lat; /* all threads, merged (timed runs) */
	uint64_t wall_ns;         /* first start to last end */
	double cleanup_ns_per_bo; /* deferred paths */
	int cleaned;
};

static void run(const struct run_cfg *c, struct run_out *out)
{
	struct worker wk[MAX_THREADS];
	pthread_barrier_t barrier;
	struct world w;
	size_t *order, *part[MAX_THREADS], cnt[MAX_THREADS] = { 0 };
	int nt = c->threads;

	memset(out, 0, sizeof(*out));
	world_setup(&w, c->n, c->m, c->thp);
	if (!path_removes(c->path))
		world_remove_all(&w);

	order = xcalloc(c->n, sizeof(*order));
	for (size_t i = 0; i < c->n; i++)
		order[i] = i;
	if (!c->seq)
		shuffle(order, c->n);
	for (int t = 0; t < nt; t++)
		part[t] = xcalloc(c->n, sizeof(*part[t]));
	for (size_t i = 0; i < c->n; i++) {
		int t;

		if (nt == 1)
			t = 0;
		else if (c->disjoint)
			t = (order[i] % c->m) < c->m / 2 ? 0 : 1;
		else
			t = i < c->n / 2 ? 0 : 1;
		part[t][cnt[t]++] = order[i];
	}
	free(order);

	if (pthread_barrier_init(&barrier, NULL, (unsigned int)nt))
		die("pthread_barrier_init", -EAGAIN);
	for (int t = 0; t < nt; t++) {
		memset(&wk[t], 0, sizeof(wk[t]));
		wk[t].cpu = t;
		wk[t].path = c->path;
		wk[t].timed = c->timed;
		wk[t].prewarm = c->prewarm;
		wk[t].va = w.va;
		wk[t].order = part[t];
		wk[t].n = cnt[t];
		wk[t].barrier = &barrier;
		if (c->timed && bench_samples_init(&wk[t].lat, cnt[t]))
			die("samples", -ENOMEM);
		/* fault the order in before the clock starts */
		for (size_t i = 0; i < cnt[t]; i++)
			bench_keep(part[t][i]);
	}
	for (int t = 0; t < nt; t++)
		if (pthread_create(&wk[t].thread, NULL, worker_main, &wk[t]))
			die("pthread_create", -EAGAIN);
	for (int t = 0; t < nt; t++)
		pthread_join(wk[t].thread, NULL);
	pthread_barrier_destroy(&barrier);

	uint64_t start = UINT64_MAX, end = 0;

	for (int t = 0; t < nt; t++) {
		if (wk[t].err)
			die("unlink", wk[t].err);
		if (wk[t].pin_err)
			fprintf(stderr, "%s: could not pin a thread to CPU %d\n", prog,
				wk[t].cpu);
		start = wk[t].t_start < start ? wk[t].t_start : start;
		end = wk[t].t_end > end ? wk[t].t_end : end;
		if (c->timed) {
			if (t == 0) {
				out->lat = wk[0].lat;
			} else {
				if (bench_samples_merge(&out->lat, &wk[t].lat))
					die("samples", -ENOMEM);
				bench_samples_free(&wk[t].lat);
			}
		}
		free(part[t]);
	}
	out->wall_ns = end - start;

	/* the deferred cleanup of what the run left, timed as one call */
	uint64_t t0 = bench_start();
	int k = gpuvm_bo_deferred_cleanup(&w.vm);
	uint64_t t1 = bench_stop();

	if (k < 0)
		die("gpuvm_bo_deferred_cleanup", k);
	if ((size_t)k != (path_deferred(c->path) ? c->m : 0)) {
		fprintf(stderr, "%s: the cleanup freed %d vm_bos, expected %zu\n",
			prog, k, path_deferred(c->path) ? c->m : (size_t)0);
		exit(1);
	}
	out->cleaned = k;
	if (k > 0)
		out->cleanup_ns_per_bo =
			bench_ticks_to_ns(t1 - t0 > bench_overhead_ticks() ?
						  t1 - t0 - bench_overhead_ticks() : 0) / k;
	world_teardown(&w);
}

/* --------------------------------------------------------------- figures */

struct fig {
	bool valid;
	struct bench_stats st;
	double throughput; /* per second, untimed run */
	double cleanup;    /* ns per vm_bo, deferred paths */
};

static int g_reps = 3; /* untimed runs per configuration; the median counts */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Run a configuration timed (latency, CDF), then g_reps times untimed
 * (throughput and cleanup: the medians), each on a fresh world, and report
 * it under @name. */
static struct fig measure(const char *name, struct run_cfg c, const char *unit)
{
	bool untimed_too = !c.prewarm; /* a prewarmed run's throughput means nothing */
	double tput[16], clean[16];
	int reps = g_reps < 16 ? g_reps : 16;
	struct run_out o;
	struct fig f = { .valid = true };

	c.timed = true;
	run(&c, &o);
	bench_report_latency(name, &o.lat, &f.st);
	bench_cdf_dump(name, &o.lat);
	bench_samples_free(&o.lat);
	if (!untimed_too)
		return f;
	c.timed = false;
	struct bench_load load;
	double other, steal;

	bench_load_begin(&load);
	for (int r = 0; r < reps; r++) {
		run(&c, &o);
		tput[r] = bench_rate((double)c.n, o.wall_ns);
		clean[r] = o.cleanup_ns_per_bo;
	}
	bench_load_end(&load, &other, &steal);
	f.throughput = median(tput, reps);
	bench_value(name, "throughput", f.throughput, unit);
	/* how much of the machine others used meanwhile (shared cores) */
	bench_value(name, "other_load", other * 100, "% of all CPUs");
	bench_value(name, "steal", steal * 100, "% of all CPUs");
	if (o.cleaned) {
		f.cleanup = median(clean, reps);
		bench_value(name, "cleanup_per_vm_bo", f.cleanup, "ns");
	}
	return f;
}

/* The floor: lock/unlock + atomic decrement + lock-free push, in cache. */
#define FLOOR_NODES 256

struct floor_data {
	pthread_mutex_t lock;
	unsigned int count;
	struct __cds_lfs_stack stack;
	struct cds_lfs_node node[FLOOR_NODES];
	size_t n;
	bool timed;
	int cpu;
	pthread_barrier_t *barrier;
	struct bench_samples lat;
	uint64_t t_start, t_end;
} __attribute__((aligned(128)));

static inline void floor_op(struct floor_data *d, size_t i)
{
	struct cds_lfs_node *node = &d->node[i % FLOOR_NODES];

	pthread_mutex_lock(&d->lock);
	__atomic_fetch_sub(&d->count, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&d->lock);
	cds_lfs_node_init(node);
	cds_lfs_push(&d->stack, node);
}

static void *floor_main(void *arg)
{
	struct floor_data *d = arg;

	bench_pin_cpu(d->cpu);
	/* warm up: everything in cache */
	for (size_t i = 0; i < 2 * FLOOR_NODES; i++) {
		if (i % FLOOR_NODES == 0)
			__cds_lfs_pop_all(&d->stack);
		floor_op(d, i);
	}
	pthread_barrier_wait(d->barrier);
	d->t_start = bench_now_ns();
	for (size_t i = 0; i < d->n; i++) {
		/* the stack is emptied every FLOOR_NODES pushes (a node is
		 * pushed only once per emptying), outside the timed region */
		if (i % FLOOR_NODES == 0)
			__cds_lfs_pop_all(&d->stack);
		if (d->timed) {
			uint64_t t0 = bench_start();

			floor_op(d, i);
			uint64_t t1 = bench_stop();

			bench_samples_add(&d->lat, t1 - t0);
		} else {
			floor_op(d, i);
		}
	}
	d->t_end = bench_now_ns();
	return NULL;
}

/* Returns the throughput (ops/s); the samples in @lat when timed. */
static double floor_run(int nt, size_t n, bool timed, struct bench_samples *lat)
{
	struct floor_data *d = aligned_alloc(128, sizeof(*d) * MAX_THREADS);
	pthread_t th[MAX_THREADS];
	pthread_barrier_t barrier;
	uint64_t start = UINT64_MAX, end = 0;

	if (!d)
		die("aligned_alloc", -ENOMEM);
	pthread_barrier_init(&barrier, NULL, (unsigned int)nt);
	for (int t = 0; t < nt; t++) {
		memset(&d[t], 0, sizeof(d[t]));
		pthread_mutex_init(&d[t].lock, NULL);
		d[t].count = UINT32_MAX;
		__cds_lfs_init(&d[t].stack);
		d[t].n = n;
		d[t].timed = timed;
		d[t].cpu = t;
		d[t].barrier = &barrier;
		if (timed && bench_samples_init(&d[t].lat, n))
			die("samples", -ENOMEM);
		if (pthread_create(&th[t], NULL, floor_main, &d[t]))
			die("pthread_create", -EAGAIN);
	}
	for (int t = 0; t < nt; t++) {
		pthread_join(th[t], NULL);
		start = d[t].t_start < start ? d[t].t_start : start;
		end = d[t].t_end > end ? d[t].t_end : end;
		if (timed) {
			if (t == 0)
				*lat = d[0].lat;
			else if (bench_samples_merge(lat, &d[t].lat))
				die("samples", -ENOMEM);
			if (t)
				bench_samples_free(&d[t].lat);
		}
		pthread_mutex_destroy(&d[t].lock);
	}
	pthread_barrier_destroy(&barrier);
	free(d);
	return bench_rate((double)n * nt, end - start);
}

/* One random cache line of an array as big as the mappings, per load. */
static void cacheline_load(const char *name, size_t n, bool thp)
{
	struct line {
		uint64_t v[8];
	};
	struct line *a = big_alloc(n * sizeof(*a), thp);
	size_t *order = xcalloc(n, sizeof(*order));
	struct bench_samples s;
	uint64_t sum = 0;

	if (bench_samples_init(&s, n))
		die("alloc", -ENOMEM);
	for (size_t i = 0; i < n; i++) {
		a[i].v[0] = i;
		order[i] = i;
	}
	shuffle(order, n);
	for (size_t i = 0; i < n; i++) {
		const volatile uint64_t *p = &a[order[i]].v[0];
		uint64_t t0 = bench_start();
		uint64_t x = *p;
		uint64_t t1 = bench_stop();

		sum += x;
		bench_samples_add(&s, t1 - t0);
	}
	bench_keep(sum);
	bench_report_latency(name, &s, NULL);
	bench_cdf_dump(name, &s);
	bench_samples_free(&s);
	free(order);
	free(a);
}

/* ------------------------------------------------------------ comparison */

/* table: print the '#' table row; else print and record the ratio lines */
static void compare_line(bool table, const char *name, const char *figure,
			 double v, double floor, double locked, const char *unit,
			 bool higher_is_better)
{
	/* ratios as "how many times the baseline's cost": for a throughput the
	 * baseline's over ours, so > 1 always means slower than the baseline */
	double rf = higher_is_better ? (v > 0 ? floor / v : 0) : (floor > 0 ? v / floor : 0);
	double rl = higher_is_better ? (v > 0 ? locked / v : 0) : (locked > 0 ? v / locked : 0);
	char buf[96];

	if (table) {
		snprintf(buf, sizeof(buf), "%s %s (%s)", name, figure, unit);
		printf("# %-44s %12.1f %12.1f %12.1f %8.2fx %8.2fx\n", buf, v,
		       floor, locked, rf, rl);
		return;
	}
	snprintf(buf, sizeof(buf), "%s_cost_vs_floor", figure);
	bench_value(name, buf, rf, "x");
	snprintf(buf, sizeof(buf), "%s_cost_vs_locked", figure);
	bench_value(name, buf, rl, "x");
}

static void compare(bool table, const char *name, const struct fig *d,
		    const struct fig *fl, const struct fig *lk)
{
	compare_line(table, name, "p50", d->st.p50, fl->st.p50, lk->st.p50, "ns", false);
	compare_line(table, name, "p99", d->st.p99, fl->st.p99, lk->st.p99, "ns", false);
	compare_line(table, name, "p99.9", d->st.p999, fl->st.p999, lk->st.p999, "ns", false);
	compare_line(table, name, "p99.99", d->st.p9999, fl->st.p9999, lk->st.p9999, "ns",
		     false);
	compare_line(table, name, "mean", d->st.mean, fl->st.mean, lk->st.mean, "ns", false);
	compare_line(table, name, "max", d->st.max, fl->st.max, lk->st.max, "ns", false);
	compare_line(table, name, "throughput", d->throughput, fl->throughput,
		     lk->throughput, "/s", true);
}

static size_t parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (!*s || *end || !v) {
		fprintf(stderr, "%s: bad %s '%s'\n", prog, opt, s);
		exit(2);
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t n = 200000, m = 1000, last = 50000;
	uint64_t seed = 0x6770766d;
	bool tiny = false;
	int nbench = 0;

	struct bench_load whole;
	double other, steal;

	argc = bench_init(prog, argc, argv);
	bench_load_begin(&whole);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--tiny")) {
			tiny = true;
			/* small: debug builds verify the whole VM after
			 * every insert, link and remove (quadratic) */
			n = 512;
			m = 16;
			last = 128;
			g_reps = 1;
		} else if (i + 1 < argc && !strcmp(a, "--n")) {
			n = parse_size(a, argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--m")) {
			m = parse_size(a, argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--last")) {
			last = parse_size(a, argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--seed")) {
			seed = parse_size(a, argv[++i]);
		} else if (i + 1 < argc && !strcmp(a, "--reps")) {
			g_reps = (int)parse_size(a, argv[++i]);
			g_reps = g_reps > 15 ? 15 : g_reps;
		} else {
			fprintf(stderr,
				"usage: %s [--tiny] [--n N] [--m M] [--last K] [--seed S] [--reps R] "
				"[--json FILE|DIR] [--cdf-dir DIR]\n", prog);
			return 2;
		}
	}
	if (m > n || m < 2) {
		fprintf(stderr, "%s: need 2 <= M <= N\n", prog);
		return 2;
	}
	rng_state = seed;

	char buf[64];

	snprintf(buf, sizeof(buf), "%zu", n);
	bench_meta("n", buf);
	snprintf(buf, sizeof(buf), "%zu", m);
	bench_meta("m", buf);
	snprintf(buf, sizeof(buf), "%zu", last);
	bench_meta("last_n_equals_m", buf);
	bench_meta("mode", tiny ? "tiny" : "full");
	bench_value("sizeof", "gpuva", sizeof(struct gpuva), "bytes");
	bench_value("sizeof", "gpuvm_bo", sizeof(struct gpuvm_bo), "bytes");
	bench_value("sizeof", "gpuvm_gem", sizeof(struct gpuvm_gem), "bytes");

	/* baselines */
	struct fig floor1 = { .valid = true }, floor2 = { .valid = true };
	struct bench_samples fl;

	floor_run(1, n, true, &fl);
	bench_report_latency("floor_1t", &fl, &floor1.st);
	bench_cdf_dump("floor_1t", &fl);
	bench_samples_free(&fl);
	double ft[16];

	for (int r = 0; r < g_reps; r++)
		ft[r] = floor_run(1, n, false, NULL);
	floor1.throughput = median(ft, g_reps);
	bench_value("floor_1t", "throughput", floor1.throughput, "ops/s");
	floor2.st = floor1.st;
	for (int r = 0; r < g_reps; r++)
		ft[r] = floor_run(2, n / 2, false, NULL);
	floor2.throughput = median(ft, g_reps);
	bench_value("floor_2t", "throughput", floor2.throughput, "ops/s");
	cacheline_load("cacheline_load", n * sizeof(struct gpuva) / 64, false);
	cacheline_load("cacheline_load_thp", n * sizeof(struct gpuva) / 64, true);
	nbench += 4;

	struct run_cfg base = { .n = n, .m = m, .threads = 1 };
	struct run_cfg c;
	struct fig d1, l1, dseq, d2s, l2s, d2d, l2d, dl, ll, rd, rl;

	c = base, c.path = P_DEFER;
	d1 = measure("unlink_defer_1t", c, "unlinks/s");
	c = base, c.path = P_LOCKED;
	l1 = measure("unlink_locked_1t", c, "unlinks/s");
	c = base, c.path = P_DEFER, c.seq = true;
	dseq = measure("unlink_defer_1t_seq", c, "unlinks/s");
	c = base, c.path = P_DEFER, c.prewarm = PREWARM_VA;
	measure("unlink_defer_1t_warm_va", c, "unlinks/s");
	c = base, c.path = P_DEFER, c.prewarm = PREWARM_ALL;
	measure("unlink_defer_1t_warm_all", c, "unlinks/s");
	c = base, c.path = P_DEFER, c.thp = true;
	measure("unlink_defer_1t_thp", c, "unlinks/s");
	c = base, c.path = P_DEFER, c.threads = 2;
	d2s = measure("unlink_defer_2t_shared", c, "unlinks/s");
	c = base, c.path = P_LOCKED, c.threads = 2;
	l2s = measure("unlink_locked_2t_shared", c, "unlinks/s");
	c = base, c.path = P_DEFER, c.threads = 2, c.disjoint = true;
	d2d = measure("unlink_defer_2t_disjoint", c, "unlinks/s");
	c = base, c.path = P_LOCKED, c.threads = 2, c.disjoint = true;
	l2d = measure("unlink_locked_2t_disjoint", c, "unlinks/s");
	c = base, c.n = last, c.m = last, c.path = P_DEFER;
	dl = measure("unlink_defer_last", c, "unlinks/s");
	c = base, c.n = last, c.m = last, c.path = P_LOCKED;
	ll = measure("unlink_locked_last", c, "unlinks/s");
	c = base, c.path = P_REMOVE_DEFER;
	rd = measure("remove_unlink_defer_1t", c, "mappings/s");
	c = base, c.path = P_REMOVE_LOCKED;
	rl = measure("remove_unlink_locked_1t", c, "mappings/s");
	nbench += 14;

	/* the deferred cleanup, per vm_bo (from the untimed deferred runs) */
	bench_value("deferred_cleanup", "per_vm_bo", d1.cleanup, "ns");
	bench_value("deferred_cleanup", "per_vm_bo_last", dl.cleanup, "ns");
	/* what a last unlink costs all told on each path */
	bench_value("unlink_defer_last", "mean_plus_cleanup", dl.st.mean + dl.cleanup, "ns");
	bench_value("scaling", "defer_2t_disjoint_vs_1t", d2d.throughput / d1.throughput, "x");
	bench_value("scaling", "defer_2t_shared_vs_1t", d2s.throughput / d1.throughput, "x");
	bench_value("scaling", "locked_2t_disjoint_vs_1t", l2d.throughput / l1.throughput, "x");
	bench_value("scaling", "floor_2t_vs_1t", floor2.throughput / floor1.throughput, "x");
	nbench += 2;

	for (int table = 0; table < 2; table++) {
		if (table) {
			printf("#\n# each unlink_defer figure beside (i) the floor and (ii) the "
			       "locked path;\n# ratios are cost multiples (> 1: slower than "
			       "the baseline)\n");
			printf("# %-44s %12s %12s %12s %9s %9s\n", "figure", "libgpuvm",
			       "floor", "locked", "/floor", "/locked");
		}
		compare(table, "unlink_defer_1t", &d1, &floor1, &l1);
		compare(table, "unlink_defer_1t_seq", &dseq, &floor1, &l1);
		compare(table, "unlink_defer_2t_shared", &d2s, &floor2, &l2s);
		compare(table, "unlink_defer_2t_disjoint", &d2d, &floor2, &l2d);
		compare(table, "unlink_defer_last", &dl, &floor1, &ll);
		compare(table, "remove_unlink_defer_1t", &rd, &floor1, &rl);
	}
	printf("# %-44s %12.1f %12s %12.1f\n", "unlink_defer_last mean+cleanup (ns)",
	       dl.st.mean + dl.cleanup, "", ll.st.mean);
	printf("# %-44s %12.2f %12.2f %12.2f\n", "2t disjoint / 1t throughput (x)",
	       d2d.throughput / d1.throughput, floor2.throughput / floor1.throughput,
	       l2d.throughput / l1.throughput);

	bench_load_end(&whole, &other, &steal);
	bench_value("run", "other_load", other * 100, "% of all CPUs");
	bench_value("run", "steal", steal * 100, "% of all CPUs");
	printf("bench_unlink_complete %d benchmarks\n", nbench);
	return bench_finish();
}
