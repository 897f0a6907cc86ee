/* SPDX-License-Identifier: MIT */
/* Private helpers shared by the library's source files. */
#ifndef GPUVM_LIB_INTERNAL_H
#define GPUVM_LIB_INTERNAL_H

#include <gpuvm.h>
#include <errno.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define GPUVM__UNUSED __attribute__((unused))
#define gpuvm__likely(x) __builtin_expect(!!(x), 1)
#define gpuvm__unlikely(x) __builtin_expect(!!(x), 0)

/* Allocation through a VM's hooks (a NULL alloc member means libc). */
void *gpuvm__alloc(const struct gpuvm_allocator *a, size_t size, size_t align);
void *gpuvm__zalloc(const struct gpuvm_allocator *a, size_t size, size_t align);
void gpuvm__free(const struct gpuvm_allocator *a, void *ptr, size_t size);

/*
 * Sized options: true when @opts is at least @known bytes long as declared
 * by its leading size_t, and every byte past @known up to that size is zero.
 */
bool gpuvm__opts_valid(const void *opts, size_t known);

/* gpuva::state_ bits */
#define GPUVA__STATE_INSERTED 1u

/* Insert with validity and overlap checks; @use_reserve lets the index use reserved nodes. */
int gpuvm__va_insert(struct gpuvm *vm, struct gpuva *va, bool use_reserve);

/* Free cached index nodes when far more are cached than reserved (list mode calls it). */
void gpuvm__index_maybe_trim(struct gpuvm *vm);

/* Debug builds check the whole VM after each mutation (GPUVM_DEBUG). */
#ifdef GPUVM_DEBUG
void gpuvm__debug_verify(const struct gpuvm *vm, const char *where);
#define GPUVM__VERIFY(vm) gpuvm__debug_verify((vm), __func__)
#else
#define GPUVM__VERIFY(vm) ((void)0)
#endif

#endif /* GPUVM_LIB_INTERNAL_H */
