/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include "stress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

atomic_long stress_failures;

/* Enough to see what went wrong without drowning the log. */
#define STRESS_PRINT_MAX 20

void stress_fail_at(const char *file, int line, const char *fmt, ...)
{
	long n = atomic_fetch_add(&stress_failures, 1);
	char msg[512];
	va_list ap;

	if (n >= STRESS_PRINT_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one fprintf per failure: stdio locks the stream per call */
	fprintf(stderr, "FAIL %s:%d: %s\n", file, line, msg);
}

static uint64_t parse_u64_env(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "%s=%s: not a number, using %llu\n", name, s,
			(unsigned long long)def);
		return def;
	}
	return v;
}

uint64_t stress_seed(const char *prog, uint64_t def)
{
	uint64_t seed = parse_u64_env("GPUVM_SEED", def);

	printf("%s: seed 0x%llx (set GPUVM_SEED to repeat)\n", prog, (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

unsigned int stress_duration_ms(unsigned int def)
{
	uint64_t ms = parse_u64_env("GPUVM_STRESS_MS", def);

	/* keep a typo from turning a test into a hang */
	return ms > 20000 ? 20000 : (unsigned int)ms;
}

uint64_t stress_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void stress_sleep_us(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- counting allocator ---- */

#define BLOCK_LIVE 0x4c49564542304b21ull /* arbitrary, recognizable */
#define BLOCK_DEAD 0x444541444230b421ull

/*
 * The header sits right before the returned pointer; the block is allocated
 * at the requested alignment with the header padded up to it.
 */
struct block_hdr {
	_Atomic uint64_t magic;
	size_t size;
	size_t pad; /* bytes from the start of the allocation to the user pointer */
	struct stress_alloc *owner;
};

static size_t hdr_room(size_t align)
{
	size_t h = sizeof(struct block_hdr);

	return (h + align - 1) & ~(align - 1);
}

static void *sa_alloc(void *user_data, size_t size, size_t align)
{
	struct stress_alloc *sa = user_data;
	struct block_hdr *h;
	size_t a = align, room, total;
	char *base;

	if (sa->forbid_signalling && gpuvm_in_signalling()) {
		atomic_fetch_add(&sa->errors, 1);
		stress_fail("allocation of %zu bytes inside a fence-signalling section", size);
	}
	if (a == 0 || (a & (a - 1)) || a > 4096) {
		atomic_fetch_add(&sa->errors, 1);
		stress_fail("alloc: bad alignment %zu", align);
		a = 4096;
	}
	if (a < _Alignof(max_align_t))
		a = _Alignof(max_align_t);
	room = hdr_room(a);
	total = (room + size + a - 1) & ~(a - 1);
	base = aligned_alloc(a, total);
	if (!base)
		return NULL;
	/* not zero: the library must not rely on fresh memory being clear */
	memset(base + room, 0xa5, size);
	h = (struct block_hdr *)(void *)(base + room - sizeof(*h));
	h->size = size;
	h->pad = room;
	h->owner = sa;
	atomic_store_explicit(&h->magic, BLOCK_LIVE, memory_order_relaxed);
	atomic_fetch_add(&sa->allocs, 1);
	atomic_fetch_add(&sa->live, 1);
	atomic_fetch_add(&sa->live_bytes, (long)size);
	return base + room;
}

static void sa_free(void *user_data, void *ptr, size_t size)
{
	struct stress_alloc *sa = user_data;
	struct block_hdr *h;
	uint64_t live = BLOCK_LIVE;

	if (sa->forbid_signalling && gpuvm_in_signalling()) {
		atomic_fetch_add(&sa->errors, 1);
		stress_fail("free of %zu bytes inside a fence-signalling section", size);
	}
	atomic_fetch_add(&sa->frees, 1);
	if (!ptr) {
		atomic_fetch_add(&sa->errors, 1);
		stress_fail("free(NULL, %zu)", size);
		return;
	}
	h = (struct block_hdr *)(void *)((char *)ptr - sizeof(*h));
	if (!atomic_compare_exchange_strong(&h->magic, &live, BLOCK_DEAD)) {
		/* leaked rather than freed twice: the report is what matters */
		atomic_fetch_add(&sa->errors, 1);
		stress_fail("free %p: not a live block (double free?)", ptr);
		return;
	}
	if (h->owner != sa || h->size != size) {
		atomic_fetch_add(&sa->errors, 1);
		stress_fail("free %p: size %zu, allocated %zu (or another allocator)", ptr, size,
			    h->size);
	}
	atomic_fetch_sub(&sa->live, 1);
	atomic_fetch_sub(&sa->live_bytes, (long)h->size);
	memset(ptr, 0x5b, h->size);
	free((char *)ptr - h->pad);
}

void stress_alloc_init(struct stress_alloc *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->hooks.alloc = sa_alloc;
	sa->hooks.free = sa_free;
	sa->hooks.user_data = sa;
	sa->forbid_signalling = true;
}

void *stress_alloc_zalloc(struct stress_alloc *sa, size_t size)
{
	void *p = sa_alloc(sa, size, _Alignof(max_align_t));

	if (p)
		memset(p, 0, size);
	return p;
}

void stress_alloc_free(struct stress_alloc *sa, void *p, size_t size)
{
	sa_free(sa, p, size);
}

void stress_alloc_check_empty(struct stress_alloc *sa, const char *what)
{
	long live = atomic_load(&sa->live), bytes = atomic_load(&sa->live_bytes);
	long errors = atomic_load(&sa->errors);

	printf("%s allocator: %ld allocations, %ld frees, %ld live (%ld bytes), %ld errors\n",
	       what, atomic_load(&sa->allocs), atomic_load(&sa->frees), live, bytes, errors);
	if (live || bytes)
		stress_fail("%s allocator: %ld blocks (%ld bytes) still live", what, live, bytes);
	if (errors)
		stress_fail("%s allocator: %ld misuses", what, errors);
}

/* ---- trackers ---- */

enum { ID_UNUSED, ID_LIVE, ID_FREED };

void stress_track_init(struct stress_track *t, const char *what, uint32_t cap)
{
	memset(t, 0, sizeof(*t));
	t->what = what;
	t->cap = cap;
	t->state = calloc(cap, sizeof(*t->state));
	if (!t->state) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
}

void stress_track_fini(struct stress_track *t)
{
	free((void *)t->state);
	t->state = NULL;
}

uint32_t stress_track_new(struct stress_track *t)
{
	uint32_t id = atomic_fetch_add(&t->next, 1);

	if (id >= t->cap) {
		/* keep next from wrapping around */
		atomic_store(&t->next, t->cap);
		return STRESS_NO_ID;
	}
	atomic_store(&t->state[id], ID_LIVE);
	atomic_fetch_add(&t->live, 1);
	return id;
}

void stress_track_freed(struct stress_track *t, uint32_t id)
{
	unsigned char live = ID_LIVE;

	if (id >= t->cap) {
		stress_fail("%s: freeing id %u that was never handed out", t->what, id);
		return;
	}
	if (!atomic_compare_exchange_strong(&t->state[id], &live, ID_FREED)) {
		stress_fail("%s %u freed %s", t->what, id,
			    live == ID_FREED ? "twice" : "without being created");
		return;
	}
	atomic_fetch_sub(&t->live, 1);
}

bool stress_track_is_live(struct stress_track *t, uint32_t id)
{
	return id < t->cap && atomic_load(&t->state[id]) == ID_LIVE;
}

uint32_t stress_track_check_all_freed(struct stress_track *t)
{
	uint32_t n = atomic_load(&t->next), bad = 0;

	if (n > t->cap)
		n = t->cap;
	for (uint32_t id = 0; id < n; id++) {
		if (atomic_load(&t->state[id]) != ID_FREED) {
			if (bad++ < 5)
				stress_fail("%s %u was never freed", t->what, id);
		}
	}
	if (bad)
		stress_fail("%s: %u of %u never freed", t->what, bad, n);
	if (atomic_load(&t->live))
		stress_fail("%s: live count %ld at the end", t->what, atomic_load(&t->live));
	return n;
}

void stress_join(pthread_t t, const char *name, unsigned int timeout_ms)
{
	struct timespec ts;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000u;
	ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	ret = pthread_timedjoin_np(t, NULL, &ts);
	if (ret == ETIMEDOUT) {
		fprintf(stderr, "FAIL: the %s thread did not stop within %u ms of the deadline: "
				"deadlock or livelock\n", name, timeout_ms);
		fflush(NULL);
		abort();
	}
	if (ret)
		stress_fail("joining the %s thread: error %d", name, ret);
}

int stress_finish(const char *prog)
{
	long f = atomic_load(&stress_failures);

	if (f) {
		printf("%s: FAILED (%ld failures)\n", prog, f);
		return 1;
	}
	printf("%s: ok\n", prog);
	return 0;
}
