/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the stress programs: a thread-safe counting allocator,
 * per-object "freed exactly once" trackers, failure counting, seeds, a small
 * PRNG and the run budget.
 *
 * CMocka is not thread-safe, so the stress programs are plain C: worker
 * threads count failures into an atomic (stress_fail()) and main() asserts
 * that the count is zero at the end and returns non-zero otherwise.
 */
#ifndef GPUVM_STRESS_H
#define GPUVM_STRESS_H

#include <gpuvm.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- failures ---- */

/* Failures counted so far by every thread. */
extern atomic_long stress_failures;

/* Count a failure; the first few are printed to stderr with their location. */
__attribute__((format(printf, 3, 4)))
void stress_fail_at(const char *file, int line, const char *fmt, ...);
#define stress_fail(...) stress_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* Count a failure unless @cond holds. */
#define stress_check(cond)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			stress_fail("check failed: %s", #cond);                \
	} while (0)

/* Count a failure unless the int-returning @expr returns @want. */
#define stress_check_ret(expr, want)                                           \
	do {                                                                   \
		int r_ = (expr);                                               \
		int w_ = (want);                                               \
		if (r_ != w_)                                                  \
			stress_fail("%s returned %d (%s), want %d (%s)", #expr, \
				    r_, gpuvm_err_name(r_), w_,                \
				    gpuvm_err_name(w_));                       \
	} while (0)

/* ---- run parameters ---- */

/*
 * The seed: GPUVM_SEED (decimal or 0x-hex) or @def. Printed with @prog so
 * that a failing run can be repeated.
 */
uint64_t stress_seed(const char *prog, uint64_t def);

/*
 * How long the workers run, in milliseconds: GPUVM_STRESS_MS or @def.
 * Bounded so that a sanitizer build on two shared cores stays well under the
 * 30 s each program is allowed.
 */
unsigned int stress_duration_ms(unsigned int def);

/* Monotonic milliseconds. */
uint64_t stress_now_ms(void);

/* Sleep @us microseconds. */
void stress_sleep_us(unsigned int us);

/* ---- PRNG (per thread, no shared state) ---- */

struct stress_rng {
	uint64_t s;
};

static inline void stress_rng_init(struct stress_rng *r, uint64_t seed, uint64_t stream)
{
	r->s = seed ^ (0x9e3779b97f4a7c15ull * (stream + 1));
}

/* splitmix64 */
static inline uint64_t stress_rand(struct stress_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t stress_below(struct stress_rng *r, uint64_t n)
{
	return stress_rand(r) % n;
}

/* ---- counting allocator (struct gpuvm_allocator) ---- */

/*
 * Thread-safe: the counters are atomics and each block carries a header with
 * its size and a live/dead magic, so a double free or a free with the wrong
 * size is counted (and reported) instead of corrupting the heap. When
 * @forbid_signalling is set, an allocation or free made inside a
 * fence-signalling section is a failure: the library must not allocate
 * there (debug builds abort on it; this catches it in every build).
 */
struct stress_alloc {
	struct gpuvm_allocator hooks;
	atomic_long live;
	atomic_long live_bytes;
	atomic_long allocs;
	atomic_long frees;
	atomic_long errors;
	bool forbid_signalling;
};

void stress_alloc_init(struct stress_alloc *sa);
/* Allocate / free zeroed memory through @sa directly (for driver objects). */
void *stress_alloc_zalloc(struct stress_alloc *sa, size_t size);
void stress_alloc_free(struct stress_alloc *sa, void *p, size_t size);
/* Print the counters and count a failure unless nothing is live and no misuse was seen. */
void stress_alloc_check_empty(struct stress_alloc *sa, const char *what);

/* ---- "freed exactly once" trackers ---- */

/*
 * One state byte per object id: never used, live, freed. An object takes a
 * new id when it is created and gives it back never; marking a freed id
 * freed again, or a never-created one, is a failure. At the end every
 * created id must be freed. Ids are bounded by @cap; stress_track_new()
 * returns STRESS_NO_ID when they run out and the caller stops creating.
 */
#define STRESS_NO_ID UINT32_MAX

struct stress_track {
	const char *what;
	_Atomic unsigned char *state;
	uint32_t cap;
	atomic_uint next;
	atomic_long live;
};

void stress_track_init(struct stress_track *t, const char *what, uint32_t cap);
void stress_track_fini(struct stress_track *t);
uint32_t stress_track_new(struct stress_track *t);
void stress_track_freed(struct stress_track *t, uint32_t id);
bool stress_track_is_live(struct stress_track *t, uint32_t id);
/* Count a failure for every id created and not freed; returns how many ids were created. */
uint32_t stress_track_check_all_freed(struct stress_track *t);

/* ---- threads ---- */

/*
 * Join @t, waiting at most @timeout_ms: a worker that does not stop after
 * the deadline is stuck (a deadlock, or a livelock such as a walk that never
 * ends), and waiting for ctest's timeout would hide which one. Then print
 * it and abort (a sanitizer prints the threads' state; a core shows them).
 */
void stress_join(pthread_t t, const char *name, unsigned int timeout_ms);

/* ---- the end of a program ---- */

/* Print the result line and return main()'s exit status. */
int stress_finish(const char *prog);

#endif /* GPUVM_STRESS_H */
