/* SPDX-License-Identifier: MIT */
/*
 * A buffer object for tests: struct gpuvm_gem plus a name (used by the dump
 * helpers) and a count of how often its free callback ran.
 *
 * The free callback calls gpuvm_gem_fini() and records its result, but does
 * not release the memory: the test owns it (stack, static or heap), so it can
 * still read the counters after the last reference is gone.
 */
#ifndef GPUVM_TEST_GEM_H
#define GPUVM_TEST_GEM_H

#include <gpuvm.h>

struct test_gem {
	struct gpuvm_gem base;
	char name[24];
	unsigned int frees;  /* times funcs->free ran */
	int fini_ret;        /* what gpuvm_gem_fini() returned in the last free */
};

GPUVM_CONTAINER(struct gpuvm_gem, struct test_gem, base, to_test_gem)

/* The funcs every test gem uses; the dump helpers recognize gems by them. */
extern const struct gpuvm_gem_funcs test_gem_funcs;

/*
 * Initialize @g with one reference, @size bytes and @name (truncated to fit).
 * Returns gpuvm_gem_init()'s result.
 */
int test_gem_init(struct test_gem *g, const char *name, uint64_t size);

/* The name of @obj when it is a test gem, else NULL. */
const char *test_gem_name(const struct gpuvm_gem *obj);

#endif /* GPUVM_TEST_GEM_H */
