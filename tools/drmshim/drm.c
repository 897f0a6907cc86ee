/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim: the DRM core of the emulated node. Dispatch with the
 * DRM core's argument-size rule, VERSION, GET_CAP, GEM_CLOSE, the syncobj
 * ioctls, and the part of VM_BIND that every driver shares (syncs, apply).
 */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): process_vm_readv, clock_gettime */

#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drm_common.h"
#include "shim.h"

/*
 * User memory, as the kernel's copy_from_user()/copy_to_user() see it: an
 * address the process has not mapped (or may not write) is -EFAULT, not a
 * crash of the emulator. The process reads and writes itself through
 * process_vm_readv()/process_vm_writev(); where those are refused (a
 * seccomp filter, ptrace restrictions), plain memcpy() is the fallback.
 */
static int user_copy(void *local, uint64_t uptr, size_t len, bool write)
{
	struct iovec l = { .iov_base = local, .iov_len = len };
	struct iovec r = { .iov_base = (void *)(uintptr_t)uptr, .iov_len = len };
	ssize_t n;

	if (!len)
		return 0;
	if (!uptr || uptr + len < uptr)
		return -EFAULT;
	n = write ? process_vm_writev(getpid(), &l, 1, &r, 1, 0)
		  : process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		if (write)
			memcpy((void *)(uintptr_t)uptr, local, len);
		else
			memcpy(local, (const void *)(uintptr_t)uptr, len);
		return 0;
	}
	return -EFAULT;
}

int shim_copy_from_user(void *dst, uint64_t uptr, size_t len)
{
	return user_copy(dst, uptr, len, false);
}

int shim_copy_to_user(uint64_t uptr, const void *src, size_t len)
{
	return user_copy((void *)(uintptr_t)src, uptr, len, true);
}

/* gpuvm_bind_decode()'s read hook: the payload's pointers are this process's. */
static int bind_read(void *data, uint64_t uptr, void *dst, size_t len)
{
	(void)data;
	return shim_copy_from_user(dst, uptr, len);
}

/* Most entries a syncobj array ioctl may name (the kernel: until kmalloc fails). */
#define SHIM_MAX_SYNC_HANDLES (1u << 16)

static uint64_t shim_syncobj_serial;

/* ---- syncobjs ------------------------------------------------------------ */

struct shim_syncobj *shim_syncobj_find(struct shim_file *f, uint32_t handle)
{
	size_t i;

	for (i = 0; i < f->syncobjs.n; i++) {
		struct shim_syncobj *s = SHIM_AT(&f->syncobjs, struct shim_syncobj, i);

		if (s->handle == handle && handle)
			return s;
	}
	return NULL;
}

/* Has @s a fence for @point (0: any fence)? Every fence here is signalled. */
static bool syncobj_done(const struct shim_syncobj *s, uint64_t point)
{
	if (!s->fence)
		return false;
	return !point || s->point >= point;
}

static void syncobj_signal(struct shim_syncobj *s, uint64_t point)
{
	if (point) {
		/* A timeline point: the chain's value never goes down. */
		if (!s->fence || point > s->point)
			s->point = point;
	} else {
		/* A binary signal replaces the fence: no chain any more. */
		s->point = 0;
	}
	s->fence = true;
}

/*
 * Before a bind: every sync must name a syncobj of the file (-ENOENT), and
 * every wait must already be satisfied: the shim binds synchronously and
 * nothing could signal it later, so an unsignalled wait is refused with
 * -EINVAL, what the kernel answers for a wait on a syncobj without a fence.
 */
int shim_syncs_check(struct shim_file *f, const struct gpuvm_bind_batch *batch)
{
	const struct gpuvm_bind_sync *syncs;
	size_t n, i;

	syncs = gpuvm_bind_batch_syncs(batch, &n);
	for (i = 0; i < n; i++)
		if (!shim_syncobj_find(f, syncs[i].handle))
			return -ENOENT;
	for (i = 0; i < n; i++) {
		const struct shim_syncobj *s = shim_syncobj_find(f, syncs[i].handle);

		if (!(syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL) && !syncobj_done(s, syncs[i].point))
			return -EINVAL;
	}
	return 0;
}

void shim_syncs_signal(struct shim_file *f, const struct gpuvm_bind_batch *batch)
{
	const struct gpuvm_bind_sync *syncs;
	size_t n, i;

	syncs = gpuvm_bind_batch_syncs(batch, &n);
	for (i = 0; i < n; i++) {
		if (syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL)
			syncobj_signal(shim_syncobj_find(f, syncs[i].handle), syncs[i].point);
	}
	pthread_cond_broadcast(&shim_cond);
}

int shim_bind_decode(uint32_t driver, unsigned long request, const void *arg,
		     struct gpuvm_bind_batch **batch, uint32_t *vm_id)
{
	/* the payload's user pointers are this process's, read with fault checks */
	GPUVM_OPTS(gpuvm_bind_decode_opts, opts, .driver = driver, .read = bind_read);
	int rc;

	rc = gpuvm_bind_batch_create(NULL, batch);
	if (rc)
		return rc;
	rc = gpuvm_bind_decode(&opts, request, arg, *batch, vm_id);
	if (rc) {
		gpuvm_bind_batch_destroy(*batch);
		*batch = NULL;
	}
	return rc;
}

int shim_bind_apply(struct shim_file *f, struct shim_vm *v, const struct gpuvm_bind_batch *batch)
{
	int rc;

	rc = shim_syncs_check(f, batch);
	if (rc)
		return rc;
	rc = gpuvm_bind_apply(v->vm, batch);
	if (rc)
		return rc;
	shim_syncs_signal(f, batch);
	return 0;
}

static int ioctl_syncobj_create(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_syncobj_create *a = data;
	struct shim_syncobj *s;
	uint32_t h;

	if (a->flags & ~GPUVM_ABI_DRM_SYNCOBJ_CREATE_SIGNALED)
		return -EINVAL;
	h = shim_lowest_free_id(&f->syncobjs, sizeof(*s), offsetof(struct shim_syncobj, handle));
	if (!h)
		return -ENOSPC;
	s = shim_arr_push(&f->syncobjs, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->handle = h;
	s->fence = a->flags & GPUVM_ABI_DRM_SYNCOBJ_CREATE_SIGNALED;
	s->serial = ++shim_syncobj_serial;
	a->handle = h;
	return 0;
}

static int ioctl_syncobj_destroy(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_syncobj_destroy *a = data;
	struct shim_syncobj *s;

	if (a->pad)
		return -EINVAL;
	s = shim_syncobj_find(f, a->handle);
	if (!s)
		return -EINVAL;
	shim_arr_del(&f->syncobjs, sizeof(*s), (size_t)(s - (struct shim_syncobj *)f->syncobjs.v));
	pthread_cond_broadcast(&shim_cond);
	return 0;
}

/* Copy in a user array of @count handles and check they all exist. */
static int sync_handles(struct shim_file *f, uint64_t uptr, uint32_t count, uint32_t **out)
{
	uint32_t *h;
	uint32_t i;

	if (!count)
		return -EINVAL;
	if (count > SHIM_MAX_SYNC_HANDLES)
		return -ENOMEM;
	if (!uptr)
		return -EFAULT;
	h = malloc(count * sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (shim_copy_from_user(h, uptr, count * sizeof(*h))) {
		free(h);
		return -EFAULT;
	}
	for (i = 0; i < count; i++) {
		if (!shim_syncobj_find(f, h[i])) {
			free(h);
			return -ENOENT;
		}
	}
	*out = h;
	return 0;
}

static int sync_points(uint64_t uptr, uint32_t count, uint64_t **out)
{
	uint64_t *p;

	if (!uptr)
		return -EFAULT;
	p = malloc(count * sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (shim_copy_from_user(p, uptr, count * sizeof(*p))) {
		free(p);
		return -EFAULT;
	}
	*out = p;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The wait of SYNCOBJ_WAIT and SYNCOBJ_TIMELINE_WAIT. Without
 * WAIT_FOR_SUBMIT every entry must have its fence already (-EINVAL
 * otherwise, like the kernel); with it, sleep until another thread's
 * signal or bind provides it, or until the absolute CLOCK_MONOTONIC
 * @timeout (-ETIME). Deviations while asleep: a syncobj destroyed (or its
 * handle reused) ends the wait with -ENOENT, a close() of the file with
 * -EBADF; the kernel would hold its references and wait out the timeout.
 */
static int sync_wait(struct shim_file *f, const uint32_t *h, const uint64_t *pts, uint32_t count,
		     uint32_t flags, int64_t timeout, uint32_t *first)
{
	uint64_t *serial;
	uint32_t i;
	int rc;

	serial = malloc(count * sizeof(*serial));
	if (!serial)
		return -ENOMEM;
	for (i = 0; i < count; i++)
		serial[i] = shim_syncobj_find(f, h[i])->serial; /* sync_handles() checked */
	for (;;) {
		uint32_t done = 0, idx = UINT32_MAX;
		struct timespec ts;

		rc = 0;
		if (f->closed) {
			rc = -EBADF;
			break;
		}
		for (i = 0; i < count && !rc; i++) {
			struct shim_syncobj *s = shim_syncobj_find(f, h[i]);
			uint64_t point = pts ? pts[i] : 0;

			if (!s || s->serial != serial[i])
				rc = -ENOENT; /* destroyed while we slept */
			else if (syncobj_done(s, point)) {
				done++;
				if (idx == UINT32_MAX)
					idx = i;
			} else if (!(flags & GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT)) {
				rc = -EINVAL;
			}
		}
		if (rc)
			break;
		if ((flags & GPUVM_ABI_DRM_SYNCOBJ_WAIT_ALL) ? done == count : done > 0) {
			*first = idx;
			break;
		}
		if (timeout <= now_ns()) {
			rc = -ETIME;
			break;
		}
		ts.tv_sec = (time_t)(timeout / 1000000000);
		ts.tv_nsec = (long)(timeout % 1000000000);
		pthread_cond_timedwait(&shim_cond, &shim_lock, &ts);
	}
	free(serial);
	return rc;
}

static int ioctl_syncobj_wait(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_syncobj_wait *a = data;
	uint32_t *h, first = 0;
	int rc;

	if (a->flags & ~(GPUVM_ABI_DRM_SYNCOBJ_WAIT_ALL | GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT |
			 GPUVM_ABI_DRM_SYNCOBJ_WAIT_DEADLINE))
		return -EINVAL;
	rc = sync_handles(f, a->handles, a->count_handles, &h);
	if (rc)
		return rc;
	rc = sync_wait(f, h, NULL, a->count_handles, a->flags, a->timeout_nsec, &first);
	free(h);
	if (!rc)
		a->first_signaled = first;
	return rc;
}

static int ioctl_syncobj_timeline_wait(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_syncobj_timeline_wait *a = data;
	uint32_t *h, first = 0;
	uint64_t *p;
	int rc;

	if (a->flags & ~(GPUVM_ABI_DRM_SYNCOBJ_WAIT_ALL | GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT |
			 GPUVM_ABI_DRM_SYNCOBJ_WAIT_AVAILABLE | GPUVM_ABI_DRM_SYNCOBJ_WAIT_DEADLINE))
		return -EINVAL;
	rc = sync_handles(f, a->handles, a->count_handles, &h);
	if (rc)
		return rc;
	rc = sync_points(a->points, a->count_handles, &p);
	if (rc) {
		free(h);
		return rc;
	}
	rc = sync_wait(f, h, p, a->count_handles, a->flags, a->timeout_nsec, &first);
	free(p);
	free(h);
	if (!rc)
		a->first_signaled = first;
	return rc;
}

static int ioctl_syncobj_reset_signal(struct shim_file *f, void *data, bool signal)
{
	struct gpuvm_abi_drm_syncobj_array *a = data;
	uint32_t *h, i;
	int rc;

	if (a->pad)
		return -EINVAL;
	rc = sync_handles(f, a->handles, a->count_handles, &h);
	if (rc)
		return rc;
	for (i = 0; i < a->count_handles; i++) {
		struct shim_syncobj *s = shim_syncobj_find(f, h[i]);

		if (signal) {
			syncobj_signal(s, 0);
		} else {
			s->fence = false;
			s->point = 0;
		}
	}
	free(h);
	pthread_cond_broadcast(&shim_cond);
	return 0;
}

static int ioctl_syncobj_reset(struct shim_file *f, void *data)
{
	return ioctl_syncobj_reset_signal(f, data, false);
}

static int ioctl_syncobj_signal(struct shim_file *f, void *data)
{
	return ioctl_syncobj_reset_signal(f, data, true);
}

static int ioctl_syncobj_timeline_signal(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_syncobj_timeline_array *a = data;
	uint32_t *h, i;
	uint64_t *p;
	int rc;

	if (a->flags)
		return -EINVAL;
	rc = sync_handles(f, a->handles, a->count_handles, &h);
	if (rc)
		return rc;
	rc = sync_points(a->points, a->count_handles, &p);
	if (rc) {
		free(h);
		return rc;
	}
	for (i = 0; i < a->count_handles; i++)
		syncobj_signal(shim_syncobj_find(f, h[i]), p[i]);
	free(p);
	free(h);
	pthread_cond_broadcast(&shim_cond);
	return 0;
}

static int ioctl_syncobj_query(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_syncobj_timeline_array *a = data;
	uint32_t *h, i;
	int rc;

	if (a->flags & ~GPUVM_ABI_DRM_SYNCOBJ_QUERY_LAST_SUBMITTED)
		return -EINVAL;
	rc = sync_handles(f, a->handles, a->count_handles, &h);
	if (rc)
		return rc;
	if (!a->points) {
		free(h);
		return -EFAULT;
	}
	for (i = 0; i < a->count_handles; i++) {
		const struct shim_syncobj *s = shim_syncobj_find(f, h[i]);
		/* Every point is signalled at once: last submitted = last signalled. */
		uint64_t point = s->fence ? s->point : 0;

		if (shim_copy_to_user(a->points + i * sizeof(point), &point, sizeof(point))) {
			free(h);
			return -EFAULT;
		}
	}
	free(h);
	return 0;
}

/* ---- core ioctls ----------------------------------------------------------------- */

/* The kernel's drm_copy_field(): at most *len bytes, then the full length. */
static int copy_field(char *ubuf, size_t *len, const char *value)
{
	size_t n = strlen(value);
	int rc = 0;

	if (ubuf && *len)
		rc = shim_copy_to_user((uint64_t)(uintptr_t)ubuf, value, n < *len ? n : *len);
	*len = n;
	return rc;
}

static int ioctl_version(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_version *a = data;
	const char *name, *desc;
	int32_t v[3];

	if (f->driver == GPUVM_BIND_XE)
		shim_xe_version(v, &name, &desc);
	else if (f->driver == GPUVM_BIND_NOUVEAU)
		shim_nouveau_version(v, &name, &desc);
	else if (f->driver == GPUVM_BIND_PANTHOR)
		shim_panthor_version(v, &name, &desc);
	else
		shim_msm_version(v, &name, &desc);
	a->major = v[0];
	a->minor = v[1];
	a->patchlevel = v[2];
	if (copy_field(a->name, &a->name_len, name) || copy_field(a->date, &a->date_len, "0") ||
	    copy_field(a->desc, &a->desc_len, desc))
		return -EFAULT;
	return 0;
}

static int ioctl_get_cap(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_get_cap *a = data;

	(void)f;
	switch (a->capability) {
	case GPUVM_ABI_DRM_CAP_SYNCOBJ:
	case GPUVM_ABI_DRM_CAP_SYNCOBJ_TIMELINE:
		a->value = 1;
		return 0;
	case GPUVM_ABI_DRM_CAP_PRIME:
		a->value = 0; /* no dma-buf sharing in the emulated node */
		return 0;
	default:
		return -EINVAL;
	}
}

static int ioctl_gem_close(struct shim_file *f, void *data)
{
	struct gpuvm_abi_drm_gem_close *a = data;
	struct shim_bo *b = shim_bo_find(f, a->handle);
	int rc;

	if (!b)
		return -EINVAL; /* drm_gem_handle_delete() of an unknown handle */
	/* Mappings keep the object alive; only the handle goes. */
	rc = gpuvm_bind_bo_remove(f->dev, a->handle);
	if (rc)
		return rc;
	shim_arr_del(&f->bos, sizeof(*b), (size_t)(b - (struct shim_bo *)f->bos.v));
	return 0;
}

#define CORE(nr, dir, type, fn) \
	{ GPUVM_ABI_DRM_NR_##nr, GPUVM_ABI_IOC_##dir, sizeof(struct type), fn }

static const struct shim_ioctl core_ioctls[] = {
	CORE(VERSION, RW, gpuvm_abi_drm_version, ioctl_version),
	CORE(GEM_CLOSE, W, gpuvm_abi_drm_gem_close, ioctl_gem_close),
	CORE(GET_CAP, RW, gpuvm_abi_drm_get_cap, ioctl_get_cap),
	CORE(SYNCOBJ_CREATE, RW, gpuvm_abi_drm_syncobj_create, ioctl_syncobj_create),
	CORE(SYNCOBJ_DESTROY, RW, gpuvm_abi_drm_syncobj_destroy, ioctl_syncobj_destroy),
	CORE(SYNCOBJ_WAIT, RW, gpuvm_abi_drm_syncobj_wait, ioctl_syncobj_wait),
	CORE(SYNCOBJ_RESET, RW, gpuvm_abi_drm_syncobj_array, ioctl_syncobj_reset),
	CORE(SYNCOBJ_SIGNAL, RW, gpuvm_abi_drm_syncobj_array, ioctl_syncobj_signal),
	CORE(SYNCOBJ_TIMELINE_WAIT, RW, gpuvm_abi_drm_syncobj_timeline_wait,
	     ioctl_syncobj_timeline_wait),
	CORE(SYNCOBJ_QUERY, RW, gpuvm_abi_drm_syncobj_timeline_array, ioctl_syncobj_query),
	CORE(SYNCOBJ_TIMELINE_SIGNAL, RW, gpuvm_abi_drm_syncobj_timeline_array,
	     ioctl_syncobj_timeline_signal),
};

/*
 * Call @d the way drm_ioctl() does: copy in min(user size, ...) bytes when
 * both the user's command and the kernel's have the write direction, zero
 * the rest of a buffer of max(user size, kernel size) bytes, run the
 * handler, copy back the user's size when both have the read direction.
 */
static int shim_call(struct shim_file *f, const struct shim_ioctl *d, uint32_t cmd, void *uarg)
{
	uint32_t usize = GPUVM_ABI_IOC_SIZE_OF(cmd), udir = GPUVM_ABI_IOC_DIR_OF(cmd);
	size_t in = (udir & d->dir & GPUVM_ABI_IOC_W) ? usize : 0;
	size_t out = (udir & d->dir & GPUVM_ABI_IOC_R) ? usize : 0;
	size_t size = d->size;
	unsigned char stack[256];
	unsigned char *buf = stack;
	int rc;

	if (in > size)
		size = in;
	if (out > size)
		size = out;
	if ((in || out) && !uarg)
		return -EFAULT;
	if (size > sizeof(stack)) {
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
	}
	memset(buf, 0, size);
	rc = shim_copy_from_user(buf, (uint64_t)(uintptr_t)uarg, in);
	if (!rc) {
		rc = d->fn(f, buf);
		/* as drm_ioctl(): copied back whatever the handler returned */
		if (out && shim_copy_to_user((uint64_t)(uintptr_t)uarg, buf, out))
			rc = -EFAULT;
	}
	if (buf != stack)
		free(buf);
	return rc;
}

/*
 * Route one ioctl of an emulated node. Anything that is not an emulated
 * DRM ioctl of the file's driver is -ENOTTY (the kernel's DRM core says
 * -EINVAL for driver numbers beyond its table; the shim says ENOTTY for
 * those and for the real ioctls it does not emulate, so a caller can tell
 * "not emulated" from "refused").
 */
int shim_dispatch(struct shim_file *f, unsigned long request, void *uarg)
{
	uint32_t cmd = (uint32_t)request;
	uint32_t nr = GPUVM_ABI_IOC_NR_OF(cmd);
	const struct shim_ioctl *d = NULL;
	size_t i;

	if (GPUVM_ABI_IOC_TYPE_OF(cmd) != GPUVM_ABI_DRM_IOCTL_TYPE)
		return -ENOTTY;
	if (nr >= GPUVM_ABI_DRM_COMMAND_BASE && nr < GPUVM_ABI_DRM_COMMAND_END) {
		nr -= GPUVM_ABI_DRM_COMMAND_BASE;
		if (f->driver == GPUVM_BIND_XE)
			d = shim_xe_ioctl(nr);
		else if (f->driver == GPUVM_BIND_NOUVEAU)
			d = shim_nouveau_ioctl(nr);
		else if (f->driver == GPUVM_BIND_PANTHOR)
			d = shim_panthor_ioctl(nr);
		else
			d = shim_msm_ioctl(nr);
	} else {
		for (i = 0; i < sizeof(core_ioctls) / sizeof(core_ioctls[0]); i++)
			if (core_ioctls[i].nr == nr)
				d = &core_ioctls[i];
	}
	if (!d)
		return -ENOTTY;
	return shim_call(f, d, cmd, uarg);
}
