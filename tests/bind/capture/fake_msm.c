/* SPDX-License-Identifier: MIT */
/*
 * libcapture-fake-msm.so: the smallest msm render node that lets the
 * capture's msm path run without hardware (the emulated node speaks xe,
 * nouveau and panthor only). Preloaded after libgpuvm-trace.so.
 *
 * open() of /dev/dri/renderD200 gives a node (an fd of /dev/null, so the
 * number is real); its ioctls answer:
 *  - VERSION: "msm";
 *  - GET_PARAM: VA_START 0x100000000, VA_SIZE 0x100000000; others EINVAL;
 *  - SET_PARAM: accepted;
 *  - GEM_NEW: handles 1, 2, ... (the size as given);
 *  - GEM_CLOSE: accepted;
 *  - VM_BIND: accepted, except on queue 99 (EINVAL), so that the capture
 *    has a refused bind to leave out. The payload is not looked at.
 * Everything else is ENOTTY. One node at a time; no locking (the test
 * program is single-threaded).
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "bind/abi/drm_common.h"
#include "bind/abi/msm.h"

#define FAKE_EXPORT __attribute__((visibility("default")))
#define FAKE_PATH "/dev/dri/renderD200"

FAKE_EXPORT int open(const char *path, int flags, ...);
FAKE_EXPORT int close(int fd);
FAKE_EXPORT int ioctl(int fd, unsigned long request, ...);

static int node_fd = -1;
static uint32_t next_handle = 1;

int open(const char *path, int flags, ...)
{
	int (*real)(const char *, int, ...) =
		(int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (strcmp(path, FAKE_PATH) == 0) {
		node_fd = real("/dev/null", O_RDWR | (flags & O_CLOEXEC));
		return node_fd;
	}
	return real(path, flags, mode);
}

int close(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");

	if (fd == node_fd)
		node_fd = -1;
	return real(fd);
}

static int fail(int err)
{
	errno = err;
	return -1;
}

static int node_ioctl(unsigned long request, void *arg)
{
	uint32_t nr = GPUVM_ABI_IOC_NR_OF(request);

	if (GPUVM_ABI_IOC_TYPE_OF(request) != GPUVM_ABI_DRM_IOCTL_TYPE || !arg)
		return fail(ENOTTY);
	if (nr == GPUVM_ABI_DRM_NR_VERSION) {
		struct gpuvm_abi_drm_version *v = arg;
		static const char name[] = "msm";

		memcpy(v->name, name, v->name_len < 3 ? v->name_len : 3);
		v->name_len = 3;
		v->date_len = 0;
		v->desc_len = 0;
		return 0;
	}
	if (nr == GPUVM_ABI_DRM_NR_GEM_CLOSE)
		return 0;
	switch (nr - GPUVM_ABI_DRM_COMMAND_BASE) {
	case GPUVM_ABI_MSM_NR_GET_PARAM: {
		struct gpuvm_abi_msm_param *p = arg;

		if (p->param == GPUVM_ABI_MSM_PARAM_VA_START)
			p->value = 0x100000000ull;
		else if (p->param == GPUVM_ABI_MSM_PARAM_VA_SIZE)
			p->value = 0x100000000ull;
		else
			return fail(EINVAL);
		return 0;
	}
	case GPUVM_ABI_MSM_NR_SET_PARAM:
		return 0;
	case GPUVM_ABI_MSM_NR_GEM_NEW: {
		struct gpuvm_abi_msm_gem_new *g = arg;

		g->handle = next_handle++;
		return 0;
	}
	case GPUVM_ABI_MSM_NR_VM_BIND: {
		struct gpuvm_abi_msm_vm_bind *b = arg;

		return b->queue_id == 99 ? fail(EINVAL) : 0;
	}
	default:
		return fail(ENOTTY);
	}
}

int ioctl(int fd, unsigned long request, ...)
{
	int (*real)(int, unsigned long, ...) =
		(int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd >= 0 && fd == node_fd)
		return node_ioctl(request, arg);
	return real(fd, request, arg);
}
