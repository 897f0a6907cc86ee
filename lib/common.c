/* SPDX-License-Identifier: MIT */
/* Allocation hooks, sized options, misuse reports and error names. */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *gpuvm__alloc(const struct gpuvm_allocator *a, size_t size, size_t align)
{
	/*
	 * Every allocation of the library comes through here, so this catches
	 * the ones a call makes only sometimes (an index insert without
	 * reserved nodes), which no entry check could.
	 */
	GPUVM__MAY_BLOCK("gpuvm__alloc", "it allocates memory");
	if (a && a->alloc)
		return a->alloc(a->user_data, size, align);
	if (align <= _Alignof(max_align_t))
		return malloc(size);
	/* aligned_alloc wants a size that is a multiple of the alignment */
	return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

void *gpuvm__zalloc(const struct gpuvm_allocator *a, size_t size, size_t align)
{
	void *p = gpuvm__alloc(a, size, align);

	if (p)
		memset(p, 0, size);
	return p;
}

void gpuvm__free(const struct gpuvm_allocator *a, void *ptr, size_t size)
{
	if (!ptr)
		return;
	if (a && a->free) {
		a->free(a->user_data, ptr, size);
		return;
	}
	free(ptr);
}

int gpuvm__wrong_mode(const struct gpuvm *vm, const char *call)
{
#ifdef GPUVM_DEBUG
	/* a driver bug: stop at it in debug builds, like the kernel's WARN */
	fprintf(stderr, "libgpuvm: %s() refused: VM '%s' is %sin immediate mode\n", call,
		vm->name ? vm->name : "", gpuvm_immediate_mode(vm) ? "" : "not ");
	abort();
#else
	(void)vm;
	(void)call;
#endif
	return -EOPNOTSUPP;
}

bool gpuvm__opts_valid(const void *opts, size_t known)
{
	const unsigned char *p = opts;
	size_t sz;

	if (!opts)
		return false;
	memcpy(&sz, opts, sizeof(sz));
	if (sz < sizeof(size_t))
		return false;
	/* An older caller's struct may be shorter than ours only if it still
	 * covers every field we read; we require the full known size. */
	if (sz < known)
		return false;
	for (size_t i = known; i < sz; i++)
		if (p[i])
			return false;
	return true;
}

struct gpuvm__errname {
	int err;
	const char *name;
	const char *text;
};

static const struct gpuvm__errname errnames[] = {
	{ 0, "OK", "success" },
	{ EPERM, "EPERM", "operation not permitted" },
	{ ENOENT, "ENOENT", "no such object" },
	{ EINTR, "EINTR", "interrupted" },
	{ EIO, "EIO", "input/output error" },
	{ EBADF, "EBADF", "bad file descriptor" },
	{ EAGAIN, "EAGAIN", "resource temporarily unavailable" },
	{ ENOMEM, "ENOMEM", "out of memory" },
	{ EACCES, "EACCES", "permission denied" },
	{ EFAULT, "EFAULT", "bad address" },
	{ EBUSY, "EBUSY", "object in use" },
	{ EEXIST, "EEXIST", "object exists" },
	{ ENODEV, "ENODEV", "no such device" },
	{ EINVAL, "EINVAL", "invalid argument" },
	{ ENOTTY, "ENOTTY", "inappropriate ioctl for device" },
	{ ENOSPC, "ENOSPC", "no space left" },
	{ ERANGE, "ERANGE", "result out of range" },
	{ EDEADLK, "EDEADLK", "resource deadlock would occur" },
	{ ENOSYS, "ENOSYS", "function not implemented" },
	{ EOVERFLOW, "EOVERFLOW", "value too large" },
	{ EALREADY, "EALREADY", "operation already in progress" },
	{ ETIMEDOUT, "ETIMEDOUT", "timed out" },
	{ EOPNOTSUPP, "EOPNOTSUPP", "operation not supported" },
	{ EUCLEAN, "EUCLEAN", "structure needs cleaning (corrupted)" },
};

static const struct gpuvm__errname *errname_find(int err)
{
	if (err == INT_MIN)
		return NULL;
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return &errnames[i];
	return NULL;
}

const char *gpuvm_err_name(int err)
{
	const struct gpuvm__errname *e = errname_find(err);

	return e ? e->name : "EUNKNOWN";
}

const char *gpuvm_strerror(int err)
{
	const struct gpuvm__errname *e = errname_find(err);

	return e ? e->text : "unknown error";
}
