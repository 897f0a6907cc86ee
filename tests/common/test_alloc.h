/* SPDX-License-Identifier: MIT */
/*
 * A counting allocator for tests: plugs into struct gpuvm_allocator, counts
 * live allocations and bytes, checks every free against its allocation, and
 * can inject one failure (the Nth allocation from now) or abort() on any use
 * (for sections that the contract says must not allocate or free).
 *
 * Free of cmocka on purpose: helpers here report through counters and return
 * values, the test programs do the asserting.
 */
#ifndef GPUVM_TEST_ALLOC_H
#define GPUVM_TEST_ALLOC_H

#include <gpuvm.h>

#include <stdbool.h>
#include <stddef.h>

struct test_alloc {
	/* The hooks to hand to gpuvm_init(); user_data points to this struct. */
	struct gpuvm_allocator hooks;

	size_t live;            /* allocations not freed yet */
	size_t live_bytes;      /* their requested sizes, summed */
	size_t peak;            /* highest @live seen */
	unsigned long calls;    /* alloc calls, failed ones included */
	unsigned long allocs;   /* successful allocations */
	unsigned long frees;    /* free calls */
	unsigned long injected; /* failures injected since the last arm */
	unsigned long errors;   /* contract violations seen (see below) */

	/*
	 * Failure injection: when non-zero, the fail_in-th alloc call from the
	 * arming (1 = the next one) returns NULL; later calls succeed again.
	 */
	unsigned long fail_in;

	/* When set, any call to either hook prints a message and aborts. */
	bool forbid;

	/* When set, violations are printed to stderr as they happen. */
	bool verbose;
};

/* Zero the counters and point hooks.user_data at @ta. */
void test_alloc_init(struct test_alloc *ta);

/* The hooks to pass in gpuvm_init_opts.alloc. */
const struct gpuvm_allocator *test_alloc_hooks(struct test_alloc *ta);

/*
 * Fail the @n-th allocation from now (1: the next one); 0 disarms. Resets
 * @ta->injected.
 */
void test_alloc_fail_at(struct test_alloc *ta, unsigned long n);

/* Abort on any allocator call while @forbid is set. */
void test_alloc_forbid(struct test_alloc *ta, bool forbid);

/*
 * Violations counted in @errors: an alignment that is 0, not a power of two
 * or above 4096; a free of NULL, of a pointer this allocator did not return
 * (or returned and already freed), or with a size that differs from the one
 * that was asked for.
 */

#endif /* GPUVM_TEST_ALLOC_H */
