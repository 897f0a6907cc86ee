/* SPDX-License-Identifier: MIT */
/*
 * Render a VM's state or an op list as text, so two states can be compared
 * with strcmp() and a difference can be printed.
 *
 * The VM dump lists the VM's header fields and index figures, every mapping
 * in address order (struct address, range, object, offset, flags, VM,
 * linked vm_bo), then every object met (through the mappings or given by the
 * caller) with its reference count and all its vm_bos: VM, reference count
 * and linked mappings in link order; vm_bos reached only through a mapping
 * (not on their object's list) come last. Pointers are printed as they are,
 * so dumps compare within one process only.
 */
#ifndef GPUVM_TEST_DUMP_H
#define GPUVM_TEST_DUMP_H

#include <gpuvm.h>

#include <stdarg.h>
#include <stddef.h>

/* A growable NUL-terminated string (plain malloc, not a test allocator). */
struct test_str {
	char *s;
	size_t len;
	size_t cap;
};

__attribute__((format(printf, 2, 3)))
void test_str_printf(struct test_str *b, const char *fmt, ...);
/* Hand over the string (never NULL) and reset @b. Free it with free(). */
char *test_str_take(struct test_str *b);
void test_str_free(struct test_str *b);

/*
 * The state of @vm. @extra lists objects whose vm_bos must appear even when
 * no mapping of @vm uses them (may be NULL). Returns a malloc'd string.
 */
char *test_dump_vm(const struct gpuvm *vm, struct gpuvm_gem *const *extra,
		   size_t nextra);

/*
 * Flags of test_dump_vm_ex(). NO_INDEX leaves out the index figures (node
 * counts, cache, reservation), for comparing the mappings and references of
 * states between which the cache may legitimately differ.
 */
#define TEST_DUMP_NO_INDEX 0x1u

char *test_dump_vm_ex(const struct gpuvm *vm, struct gpuvm_gem *const *extra,
		      size_t nextra, unsigned int flags);

/* An object as text: a test gem's name, "-" for NULL, else its address. */
void test_dump_obj(struct test_str *b, const struct gpuvm_gem *obj);

/*
 * One op, in a compact form used by the expectations of the tests:
 *   map 0x1000+0x2000 A@0x0
 *   remap(0x0+0x4000 A@0x0 keep=1: prev=0x0+0x1000 A@0x0 next=-)
 *   unmap(0x1000+0x1000 A@0x0 keep=0)
 *   prefetch(0x1000+0x1000 -@0x0)
 * A sparse object is "-". For remap/unmap/prefetch the mapping's fields are
 * read from the mapping the op points to.
 */
void test_dump_op(struct test_str *b, const struct gpuva_op *op);

/* Every op of @ops joined with "; ". Returns a malloc'd string. */
char *test_dump_ops(const struct gpuva_ops *ops);

/* Print the first line where @a and @b differ (with context) to stderr. */
void test_dump_diff(const char *a, const char *b);

#endif /* GPUVM_TEST_DUMP_H */
