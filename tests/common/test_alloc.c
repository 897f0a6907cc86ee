/* SPDX-License-Identifier: MIT */
/*
 * The counting allocator. Live blocks are tracked in one process-wide hash
 * set (pointer -> owner, size) rather than in headers in front of the blocks,
 * so a bad free (foreign pointer, double free, wrong size, wrong allocator)
 * is detected without reading memory that may not be ours. The set lives in
 * static storage, so leak checkers see it as reachable.
 */
#include "test_alloc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct live_block {
	void *p;                  /* NULL: empty; TOMBSTONE: deleted */
	struct test_alloc *owner;
	size_t size;
};

#define TOMBSTONE ((void *)(uintptr_t)1)

static struct {
	pthread_mutex_t lock;
	struct live_block *slot;
	size_t cap;   /* power of two */
	size_t used;  /* live entries */
	size_t tombs; /* deleted entries */
} blocks = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t hash_ptr(const void *p, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	/* block addresses share their low bits; mix before masking */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

static void set_insert_nogrow(struct live_block *tab, size_t cap,
			      const struct live_block *b)
{
	size_t i = hash_ptr(b->p, cap);

	while (tab[i].p && tab[i].p != TOMBSTONE)
		i = (i + 1) & (cap - 1);
	tab[i] = *b;
}

static int set_grow(void)
{
	size_t ncap = blocks.cap ? blocks.cap * 2 : 1024;
	struct live_block *ntab;

	/* only rehash in place when tombstones, not live blocks, fill it */
	if (blocks.cap && blocks.used * 4 < blocks.cap)
		ncap = blocks.cap;
	ntab = calloc(ncap, sizeof(*ntab));
	if (!ntab)
		return -1;
	for (size_t i = 0; i < blocks.cap; i++)
		if (blocks.slot[i].p && blocks.slot[i].p != TOMBSTONE)
			set_insert_nogrow(ntab, ncap, &blocks.slot[i]);
	free(blocks.slot);
	blocks.slot = ntab;
	blocks.cap = ncap;
	blocks.tombs = 0;
	return 0;
}

static int set_add(void *p, struct test_alloc *owner, size_t size)
{
	struct live_block b = { .p = p, .owner = owner, .size = size };

	if ((blocks.used + blocks.tombs + 1) * 10 > blocks.cap * 6 && set_grow())
		return -1;
	set_insert_nogrow(blocks.slot, blocks.cap, &b);
	blocks.used++;
	return 0;
}

static struct live_block *set_find(const void *p)
{
	size_t i;

	if (!blocks.cap)
		return NULL;
	i = hash_ptr(p, blocks.cap);
	while (blocks.slot[i].p) {
		if (blocks.slot[i].p == p)
			return &blocks.slot[i];
		i = (i + 1) & (blocks.cap - 1);
	}
	return NULL;
}

__attribute__((format(printf, 2, 3)))
static void violation(struct test_alloc *ta, const char *fmt, ...)
{
	va_list ap;

	ta->errors++;
	if (!ta->verbose)
		return;
	fputs("test_alloc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void forbidden(const char *what)
{
	fprintf(stderr,
		"test_alloc: %s called in a section that must not allocate or free\n",
		what);
	abort();
}

static void *ta_alloc(void *user_data, size_t size, size_t align)
{
	struct test_alloc *ta = user_data;
	size_t a = align, rounded;
	void *p;

	if (ta->forbid)
		forbidden("alloc");
	ta->calls++;
	if (align == 0 || (align & (align - 1)) || align > 4096) {
		violation(ta, "alloc: bad alignment %zu (size %zu)", align, size);
		a = 4096;
	}
	if (ta->fail_in) {
		if (--ta->fail_in == 0) {
			ta->injected++;
			return NULL;
		}
	}
	if (a < _Alignof(max_align_t))
		a = _Alignof(max_align_t);
	rounded = ((size ? size : 1) + a - 1) & ~(a - 1);
	p = aligned_alloc(a, rounded);
	if (!p)
		return NULL;
	/* not zero: the library must not count on fresh memory being clear */
	memset(p, 0xa5, size);

	pthread_mutex_lock(&blocks.lock);
	if (set_add(p, ta, size)) {
		pthread_mutex_unlock(&blocks.lock);
		free(p);
		return NULL;
	}
	pthread_mutex_unlock(&blocks.lock);

	ta->allocs++;
	ta->live++;
	ta->live_bytes += size;
	if (ta->live > ta->peak)
		ta->peak = ta->live;
	return p;
}

static void ta_free(void *user_data, void *ptr, size_t size)
{
	struct test_alloc *ta = user_data;
	struct live_block *b;
	size_t asked;

	if (ta->forbid)
		forbidden("free");
	ta->frees++;
	if (!ptr) {
		violation(ta, "free: NULL pointer (size %zu)", size);
		return;
	}

	pthread_mutex_lock(&blocks.lock);
	b = set_find(ptr);
	if (!b || b->owner != ta) {
		pthread_mutex_unlock(&blocks.lock);
		/* leaking it is safer than freeing what we may not own */
		violation(ta, "free %p: not a live block of this allocator (size %zu)",
			  ptr, size);
		return;
	}
	asked = b->size;
	b->p = TOMBSTONE;
	b->owner = NULL;
	blocks.used--;
	blocks.tombs++;
	pthread_mutex_unlock(&blocks.lock);

	if (asked != size)
		violation(ta, "free %p: size %zu, allocated with size %zu", ptr,
			  size, asked);
	ta->live--;
	ta->live_bytes -= asked;
	/* poison: a use after free then reads a recognizable pattern */
	memset(ptr, 0x5b, asked);
	free(ptr);
}

void test_alloc_init(struct test_alloc *ta)
{
	memset(ta, 0, sizeof(*ta));
	ta->hooks.alloc = ta_alloc;
	ta->hooks.free = ta_free;
	ta->hooks.user_data = ta;
	ta->verbose = true;
}

const struct gpuvm_allocator *test_alloc_hooks(struct test_alloc *ta)
{
	return &ta->hooks;
}

void test_alloc_fail_at(struct test_alloc *ta, unsigned long n)
{
	ta->fail_in = n;
	ta->injected = 0;
}

void test_alloc_forbid(struct test_alloc *ta, bool forbid)
{
	ta->forbid = forbid;
}
