/* SPDX-License-Identifier: MIT */
/*
 * bench.h - the measurement kit shared by the benchmarks in bench/.
 *
 * What it gives:
 * - a per-call timer: the TSC on x86-64 (start: lfence; rdtsc; lfence,
 *   stop: rdtscp; lfence), calibrated against CLOCK_MONOTONIC over ~100 ms;
 *   clock_gettime(CLOCK_MONOTONIC) elsewhere (then a tick is a nanosecond).
 *   The median cost of an empty timed region ("timer overhead") is measured
 *   once, printed, and subtracted from every latency sample;
 * - sample buffers (raw ticks) and their statistics in ns: p50, p99, p99.9,
 *   p99.99, mean, min, max (nearest-rank percentiles);
 * - throughput helpers (a monotonic ns clock, a rate);
 * - output: every figure is a `name value unit` line on stdout and an entry
 *   of a JSON file; latency CDFs as gnuplot .dat files.
 *
 * Use:
 *
 *	int main(int argc, char **argv)
 *	{
 *		struct bench_samples s;
 *
 *		// consumes --json FILE and --cdf-dir DIR from argv (see below),
 *		// calibrates the timer, prints tsc_ticks_per_ns / timer_overhead
 *		argc = bench_init("bench-foo", argc, argv);
 *		bench_samples_init(&s, n);
 *		for (i = 0; i < n; i++) {
 *			uint64_t t0 = bench_start();
 *			call();
 *			uint64_t t1 = bench_stop();
 *			bench_samples_add(&s, t1 - t0);
 *		}
 *		// prints foo_call_p50 ... foo_call_max lines, records them as
 *		// the JSON object "foo_call", and writes DIR/foo_call.dat
 *		bench_report_latency("foo_call", &s, NULL);
 *		bench_cdf_dump("foo_call", &s);
 *		bench_value("foo_threads", "throughput", rate, "calls/s");
 *		bench_samples_free(&s);
 *		return bench_finish();	// writes the JSON file; 0 or 1
 *	}
 *
 * Options and environment (bench_init() removes the options from argv and
 * returns the new argc; other arguments stay, in order):
 *   --json FILE, --json=FILE, or BENCH_JSON=FILE: where the JSON goes. A
 *	directory (existing, or a path ending in '/') means DIR/<program>.json,
 *	so one BENCH_JSON=bench/out/ serves every program. Each program writes
 *	its own file, whole, at bench_finish() (written to FILE.tmp, then
 *	renamed); a run-all script merges them. Without either, no JSON.
 *   --cdf-dir DIR, --cdf-dir=DIR, or BENCH_CDF_DIR=DIR: where
 *	bench_cdf_dump() writes; without either, it writes nothing.
 *   --tiny (left in argv for the program to see): calibrate over 20 ms
 *	instead of 100 ms, for the ctest runs; bench_tiny() reports it.
 *
 * Output names. bench_value(bench, figure, v, unit) prints
 * "<bench>_<figure> <v> <unit>" (just "<bench> <v> <unit>" when figure is
 * NULL or "") and records figure under the JSON object <bench>:
 *
 *	{ "program": "bench-foo", "date": "...", "host": "...", ...,
 *	  "timer": { "source": "tsc", "ticks_per_ns": 2.1, "overhead_ns": 9.5 },
 *	  "meta": { key: "value", ... },
 *	  "benchmarks": {
 *	    "foo_call": { "p50": { "value": 71.3, "unit": "ns" }, ... },
 *	    ... } }
 *
 * Benchmarks appear in the order they were first reported; reporting the
 * same figure twice keeps the last value. Percentile figures are named
 * "p50", "p99", "p99.9", "p99.99", then "mean", "min", "max", "samples".
 *
 * CDF files: bench_cdf_dump(name, s) writes DIR/<name>.dat: a comment
 * header, then `latency_ns fraction` rows (fraction = share of samples
 * <= latency_ns), thinned to about 2000 rows: ~1000 evenly spaced in rank,
 * ~1000 spaced logarithmically in 1 - fraction so the tail keeps its shape
 * (plot with `set logscale y` on 1-fraction, or plain). The last row is the
 * maximum with fraction 1.
 *
 * Threads: bench_start/bench_stop/bench_samples_add may run on any thread,
 * on a buffer only that thread uses. Everything else (init, reporting,
 * finish) belongs to the main thread.
 *
 * Nothing here asserts anything about speed.
 */
#ifndef GPUVM_BENCH_H
#define GPUVM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ timer */

#if defined(__x86_64__) && !defined(BENCH_NO_TSC)
#define BENCH_TSC 1
/* Start of a timed region: earlier instructions finish first (lfence), the
 * region does not start before the read (lfence after rdtsc). */
static inline uint64_t bench_start(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence\n\trdtsc\n\tlfence"
			     : "=a"(lo), "=d"(hi)
			     :
			     : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* End of a timed region: rdtscp waits for the region to finish; the lfence
 * keeps what follows from starting before the read. */
static inline uint64_t bench_stop(void)
{
	uint32_t lo, hi, aux;

	__asm__ __volatile__("rdtscp\n\tlfence"
			     : "=a"(lo), "=d"(hi), "=c"(aux)
			     :
			     : "memory");
	(void)aux;
	return ((uint64_t)hi << 32) | lo;
}
#else
#define BENCH_TSC 0
uint64_t bench_clock_ticks_(void);
/* The fallback: CLOCK_MONOTONIC in ns (a tick is a ns). */
static inline uint64_t bench_start(void)
{
	return bench_clock_ticks_();
}

static inline uint64_t bench_stop(void)
{
	return bench_clock_ticks_();
}
#endif

/* Timer ticks per ns (1.0 for the clock_gettime fallback); valid after
 * bench_init(). */
double bench_ticks_per_ns(void);
/* The median cost of an empty timed region, in ticks and in ns. */
uint64_t bench_overhead_ticks(void);
double bench_overhead_ns(void);
/* Ticks to ns, the overhead NOT subtracted (for durations of whole loops). */
double bench_ticks_to_ns(uint64_t ticks);

/* CLOCK_MONOTONIC in ns, for throughput (whole runs, several threads). */
uint64_t bench_now_ns(void);
/* count / ns, as a rate per second. */
static inline double bench_rate(double count, uint64_t ns)
{
	return ns ? count * 1e9 / (double)ns : 0.0;
}

/*
 * struct bench_load - how busy the rest of the machine was over an interval
 * (from /proc/stat and this process's CPU time), to print beside a
 * throughput measured on a shared machine. Fields private.
 */
struct bench_load {
	uint64_t busy_ticks, steal_ticks, wall_ns, self_ns;
	bool ok;
};

/* Start an interval. */
void bench_load_begin(struct bench_load *l);
/* End it: @other gets the share of all CPUs' time used by other processes
 * (0..1), @steal the share the hypervisor took (0..1); both -1 when
 * /proc/stat cannot be read. Resolution: the kernel's USER_HZ ticks (10 ms),
 * so intervals of a second or so are meaningful, 100 ms roughly. */
void bench_load_end(struct bench_load *l, double *other, double *steal);

/* Keep the compiler from dropping a value, or from caching memory across
 * this point. */
#define bench_keep(v) __asm__ __volatile__("" : : "g"(v) : "memory")
#define bench_clobber() __asm__ __volatile__("" : : : "memory")

/* Pin the calling thread to one CPU (modulo the CPUs online); 0 or a
 * positive errno. Benchmarks report; they do not fail when it fails. */
/*
 * Profile one phase: when BENCH_PERF_CTL is "CTL_FIFO[,ACK_FIFO]" (the fifos
 * of `perf record -D -1 --control fifo:CTL_FIFO,ACK_FIFO`), bench_perf(true)
 * enables perf's sampling and bench_perf(false) disables it again, so a
 * profile holds only the phase between them (bench/README.md has the
 * command). Without the variable both do nothing. The phase that calls it:
 * bench-engine's applied map requests.
 */
void bench_perf(bool on);

int bench_pin_cpu(int cpu);
/* CPUs online. */
int bench_ncpus(void);

/* ---------------------------------------------------------------- samples */

/*
 * struct bench_samples - a buffer of latency samples in raw ticks.
 * @v: the samples; sorted by bench_samples_sort() (which the reporting
 *	functions call).
 * @n: how many.
 * @cap: room, fixed at init: bench_samples_add() drops samples beyond it
 *	and counts them in @dropped (it never allocates on the hot path).
 * @dropped: samples that found no room.
 * @sorted: private.
 */
struct bench_samples {
	uint64_t *v;
	size_t n;
	size_t cap;
	size_t dropped;
	bool sorted;
};

/* Allocate room for @cap samples and touch it (no page faults later).
 * 0 or -ENOMEM. */
int bench_samples_init(struct bench_samples *s, size_t cap);
void bench_samples_free(struct bench_samples *s);
/* Forget the samples, keep the room. */
void bench_samples_reset(struct bench_samples *s);

static inline void bench_samples_add(struct bench_samples *s, uint64_t ticks)
{
	if (s->n < s->cap)
		s->v[s->n++] = ticks;
	else
		s->dropped++;
}

/* Append @src's samples to @dst (growing it); 0 or -ENOMEM. For merging
 * per-thread buffers before reporting. */
int bench_samples_merge(struct bench_samples *dst,
			const struct bench_samples *src);
void bench_samples_sort(struct bench_samples *s);

/*
 * struct bench_stats - figures of a sample set, in ns, the timer overhead
 * subtracted from each sample (clamped at 0).
 */
struct bench_stats {
	size_t n;
	double p50, p99, p999, p9999;
	double mean, min, max;
};

/* Sort @s and compute its figures. An empty set gives all zeros. */
void bench_stats(struct bench_samples *s, struct bench_stats *out);
/* The p-quantile (0 <= p <= 1, nearest rank) of @s in ns, overhead
 * subtracted; sorts @s. */
double bench_percentile(struct bench_samples *s, double p);

/* ----------------------------------------------------------------- output */

/* Parse and remove --json/--cdf-dir, read BENCH_JSON/BENCH_CDF_DIR, note
 * --tiny, calibrate the timer and measure its overhead, and print
 * `tsc_ticks_per_ns`, `timer_overhead` lines (also in the JSON). Exits with
 * status 2 on a bad option. Returns the new argc. */
int bench_init(const char *program, int argc, char **argv);
/* Whether argv held --tiny. */
bool bench_tiny(void);
/* The CDF directory, or NULL. */
const char *bench_cdf_dir(void);

/* Print "<bench>_<figure> <value> <unit>" and record it in the JSON. */
void bench_value(const char *bench, const char *figure, double value,
		 const char *unit);
/* A free-form string for the JSON's "meta" object (not printed). */
void bench_meta(const char *key, const char *value);
/* Compute @s's figures, print and record them under @bench (p50, p99,
 * p99.9, p99.99, mean, min, max in ns; samples as a count), return them in
 * @out when not NULL. */
void bench_report_latency(const char *bench, struct bench_samples *s,
			  struct bench_stats *out);
/* Write DIR/<name>.dat (see the top comment); 0 when written or when there
 * is no CDF directory, else a negative errno (also reported on stderr). */
int bench_cdf_dump(const char *name, struct bench_samples *s);

/* Write the JSON file (if any) and free the kit's memory. Returns the exit
 * status for main(): 0, or 1 when the JSON could not be written. */
int bench_finish(void);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_BENCH_H */
