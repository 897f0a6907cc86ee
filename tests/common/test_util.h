/* SPDX-License-Identifier: MIT */
/*
 * Assertion macros and small fixtures for the CMocka test programs. Header
 * only: include it after <cmocka.h> (the .c helpers of tests/common do not
 * depend on CMocka, this file does).
 */
#ifndef GPUVM_TEST_UTIL_H
#define GPUVM_TEST_UTIL_H

#ifndef CMOCKA_H_
#error "include <cmocka.h> before test_util.h"
#endif

#include <gpuvm.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* private: GPUVA__STATE_INSERTED, to tell whether a mapping is inserted */
#include "internal.h"

#include "test_alloc.h"
#include "test_dump.h"
#include "test_gem.h"

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define PG 0x1000ull

/* Assert an int-returning call gives exactly @want; prints both by name. */
#define assert_ret(expr, want)                                                 \
	do {                                                                   \
		int r_ = (expr);                                               \
		int w_ = (want);                                               \
		if (r_ != w_)                                                  \
			fail_msg("%s:%d: %s returned %d (%s), want %d (%s)",   \
				 __FILE__, __LINE__, #expr, r_,                \
				 gpuvm_err_name(r_), w_, gpuvm_err_name(w_));  \
	} while (0)

/* Compare two dumps; on a difference print where and fail. */
#define assert_dump_equal(a, b)                                                \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (strcmp(a_, b_)) {                                          \
			test_dump_diff(a_, b_);                                \
			fail_msg("%s:%d: state changed", __FILE__, __LINE__);  \
		}                                                              \
	} while (0)

/* Compare an op list rendering with the expected text. */
#define assert_ops_text(got, want)                                             \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (strcmp(g_, w_))                                            \
			fail_msg("%s:%d: ops differ\n  got:  %s\n  want: %s",  \
				 __FILE__, __LINE__, g_, w_);                  \
	} while (0)

/* Whether @va is inserted (va->vm stays set after removal, as in the kernel). */
static inline bool va_inserted(const struct gpuva *va)
{
	return (va->state_ & GPUVA__STATE_INSERTED) != 0;
}

/* Initialize @vm over [start, start + range) with @ta's hooks and @ops. */
static inline void tvm_init(struct gpuvm *vm, struct test_alloc *ta,
			    const struct gpuvm_ops *ops, uint64_t start,
			    uint64_t range)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "test", .start = start,
		   .range = range, .ops = ops,
		   .alloc = ta ? test_alloc_hooks(ta) : NULL);

	assert_ret(gpuvm_init(vm, &opts), 0);
}

/* Unlink and remove every mapping of @vm (the structs are the test's). */
static inline void tvm_clear(struct gpuvm *vm)
{
	struct gpuva *va, *next;

	gpuvm_for_each_va_safe(va, next, vm) {
		if (gpuva_vm_bo(va))
			assert_ret(gpuva_unlink(va), 0);
		assert_ret(gpuva_remove(va), 0);
	}
	assert_ret(gpuvm_verify(vm), 0);
}

/*
 * Tear down a VM the test inited: clear it, fini it, and check the
 * allocator is back to nothing with no violation.
 */
static inline void tvm_fini(struct gpuvm *vm, struct test_alloc *ta)
{
	tvm_clear(vm);
	assert_ret(gpuvm_fini(vm), 0);
	if (ta) {
		assert_int_equal(ta->live, 0);
		assert_int_equal(ta->live_bytes, 0);
		assert_int_equal(ta->errors, 0);
	}
}

/* A fixed-capacity pool of mapping structs (never moves what it handed out). */
struct va_pool {
	struct gpuva *v;
	size_t n, cap;
};

static inline void va_pool_init(struct va_pool *p, size_t cap)
{
	p->v = calloc(cap, sizeof(*p->v));
	assert_non_null(p->v);
	p->n = 0;
	p->cap = cap;
}

static inline struct gpuva *va_pool_get(struct va_pool *p)
{
	assert_true(p->n < p->cap);
	return &p->v[p->n++];
}

static inline void va_pool_fini(struct va_pool *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

/* Initialize and insert a mapping; asserts success. */
static inline void insert_va(struct gpuvm *vm, struct gpuva *va, uint64_t addr,
			     uint64_t range, struct gpuvm_gem *obj, uint64_t offset)
{
	gpuva_init(va, addr, range, obj, offset);
	assert_ret(gpuva_insert(vm, va), 0);
}

/* Insert and link (obtaining the vm_bo, then dropping obtain's reference). */
static inline void insert_linked(struct gpuvm *vm, struct gpuva *va, uint64_t addr,
				 uint64_t range, struct gpuvm_gem *obj,
				 uint64_t offset)
{
	struct gpuvm_bo *vm_bo = NULL;

	insert_va(vm, va, addr, range, obj, offset);
	if (!obj)
		return;
	assert_ret(gpuvm_bo_obtain(vm, obj, &vm_bo), 0);
	assert_non_null(vm_bo);
	assert_ret(gpuva_link(va, vm_bo), 0);
	gpuvm_bo_put(vm_bo);
}

/* The state of @vm as text; free() it. */
static inline char *dump(const struct gpuvm *vm)
{
	return test_dump_vm(vm, NULL, 0);
}

#endif /* GPUVM_TEST_UTIL_H */
