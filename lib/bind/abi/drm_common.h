/* SPDX-License-Identifier: MIT */
/*
 * Generic DRM ioctl ABI shared by the per-driver layers in lib/bind/abi/.
 *
 * Our own declarations, written from the layout facts of the Linux DRM uAPI
 * (include/uapi/drm/drm.h); no kernel header is included or needed. Every
 * structure's size, every field offset and the alignment of structures that
 * travel in arrays are pinned with static assertions below, so a layout
 * mistake is a compile error.
 *
 * Ioctl numbers use the asm-generic encoding (x86, x86-64, arm, arm64,
 * riscv, loongarch, s390): bits 0-7 number, 8-15 type, 16-29 argument size,
 * 30-31 direction. Architectures with another encoding are refused below.
 *
 * Size rule of the DRM core, which every decoder in lib/bind must mirror:
 * the kernel picks the handler by the number alone (bits 0-7), copies in
 * min(size in the command, its own size) bytes, zero-fills the rest and
 * copies out at most the size in the command. A caller built against an
 * older header (a shorter struct) therefore still works, and fields added
 * at the end read as zero. The *_SIZE_V1 constants name such older sizes.
 */
#ifndef GPUVM_BIND_ABI_DRM_COMMON_H
#define GPUVM_BIND_ABI_DRM_COMMON_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__powerpc__) || defined(__mips__) || defined(__sparc__) || defined(__alpha__) || \
	defined(__hppa__)
#error "lib/bind/abi: this architecture encodes ioctl numbers differently; not supported"
#endif

#ifdef __cplusplus
#define GPUVM_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#define GPUVM_ABI_ALIGNOF(t) alignof(t)
#else
#define GPUVM_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#define GPUVM_ABI_ALIGNOF(t) _Alignof(t)
#endif

/* Pin a structure's size, a field's offset, or an array element's alignment. */
#define GPUVM_ABI_SIZE(tag, n) GPUVM_ABI_ASSERT(sizeof(struct tag) == (n), #tag " size")
#define GPUVM_ABI_OFF(tag, field, off) \
	GPUVM_ABI_ASSERT(offsetof(struct tag, field) == (off), #tag "." #field " offset")
#define GPUVM_ABI_ALIGN_U64(tag)                                                       \
	GPUVM_ABI_ASSERT(GPUVM_ABI_ALIGNOF(struct tag) == GPUVM_ABI_ALIGNOF(uint64_t), \
			 #tag " alignment")

/* ---- ioctl command encoding ---------------------------------------------- */

/* Direction bits, seen from user space: W = the kernel reads the argument. */
#define GPUVM_ABI_IOC_NONE 0u
#define GPUVM_ABI_IOC_W 1u
#define GPUVM_ABI_IOC_R 2u
#define GPUVM_ABI_IOC_RW 3u

#define GPUVM_ABI_IOC_SIZE_MAX 0x3fffu /* 14 bits of argument size */

#define GPUVM_ABI_IOC(dir, type, nr, size)                                         \
	((uint32_t)(((uint32_t)(dir) << 30) | (((uint32_t)(size)&0x3fffu) << 16) | \
		    (((uint32_t)(type)&0xffu) << 8) | ((uint32_t)(nr)&0xffu)))

/* Fields of a command, for decoders. */
#define GPUVM_ABI_IOC_DIR_OF(cmd) (((uint32_t)(cmd) >> 30) & 0x3u)
#define GPUVM_ABI_IOC_SIZE_OF(cmd) (((uint32_t)(cmd) >> 16) & 0x3fffu)
#define GPUVM_ABI_IOC_TYPE_OF(cmd) (((uint32_t)(cmd) >> 8) & 0xffu)
#define GPUVM_ABI_IOC_NR_OF(cmd) ((uint32_t)(cmd)&0xffu)

/* Every DRM ioctl has type 'd'; driver ioctls use numbers [0x40, 0xa0). */
#define GPUVM_ABI_DRM_IOCTL_TYPE 0x64u
#define GPUVM_ABI_DRM_COMMAND_BASE 0x40u
#define GPUVM_ABI_DRM_COMMAND_END 0xa0u

#define GPUVM_ABI_DRM_IO(nr) GPUVM_ABI_IOC(GPUVM_ABI_IOC_NONE, GPUVM_ABI_DRM_IOCTL_TYPE, nr, 0)
#define GPUVM_ABI_DRM_IOW(nr, sz) GPUVM_ABI_IOC(GPUVM_ABI_IOC_W, GPUVM_ABI_DRM_IOCTL_TYPE, nr, sz)
#define GPUVM_ABI_DRM_IOR(nr, sz) GPUVM_ABI_IOC(GPUVM_ABI_IOC_R, GPUVM_ABI_DRM_IOCTL_TYPE, nr, sz)
#define GPUVM_ABI_DRM_IOWR(nr, sz) GPUVM_ABI_IOC(GPUVM_ABI_IOC_RW, GPUVM_ABI_DRM_IOCTL_TYPE, nr, sz)

/* ---- core ioctl numbers (bits 0-7) ---------------------------------------- */

#define GPUVM_ABI_DRM_NR_VERSION 0x00u
#define GPUVM_ABI_DRM_NR_GEM_CLOSE 0x09u
#define GPUVM_ABI_DRM_NR_GET_CAP 0x0cu
#define GPUVM_ABI_DRM_NR_SET_CLIENT_CAP 0x0du
#define GPUVM_ABI_DRM_NR_PRIME_HANDLE_TO_FD 0x2du
#define GPUVM_ABI_DRM_NR_PRIME_FD_TO_HANDLE 0x2eu
#define GPUVM_ABI_DRM_NR_SYNCOBJ_CREATE 0xbfu
#define GPUVM_ABI_DRM_NR_SYNCOBJ_DESTROY 0xc0u
#define GPUVM_ABI_DRM_NR_SYNCOBJ_HANDLE_TO_FD 0xc1u
#define GPUVM_ABI_DRM_NR_SYNCOBJ_FD_TO_HANDLE 0xc2u
#define GPUVM_ABI_DRM_NR_SYNCOBJ_WAIT 0xc3u
#define GPUVM_ABI_DRM_NR_SYNCOBJ_RESET 0xc4u
#define GPUVM_ABI_DRM_NR_SYNCOBJ_SIGNAL 0xc5u
#define GPUVM_ABI_DRM_NR_SYNCOBJ_TIMELINE_WAIT 0xcau
#define GPUVM_ABI_DRM_NR_SYNCOBJ_QUERY 0xcbu
#define GPUVM_ABI_DRM_NR_SYNCOBJ_TRANSFER 0xccu
#define GPUVM_ABI_DRM_NR_SYNCOBJ_TIMELINE_SIGNAL 0xcdu

/* ---- structures ----------------------------------------------------------- */

/*
 * Version query. The only core structure whose layout depends on the ABI:
 * the lengths are size_t and the buffers are user pointers, so it is 64
 * bytes on LP64 and 36 bytes on ILP32. The kernel fills the three numbers,
 * copies at most *_len bytes of each string and writes back the full lengths.
 */
struct gpuvm_abi_drm_version {
	int32_t major;
	int32_t minor;
	int32_t patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};

/* Drop a GEM handle. */
struct gpuvm_abi_drm_gem_close {
	uint32_t handle;
	uint32_t pad; /* must be zero */
};

/* Capability query (GET_CAP) and client capability request (SET_CLIENT_CAP). */
struct gpuvm_abi_drm_get_cap {
	uint64_t capability;
	uint64_t value;
};

struct gpuvm_abi_drm_set_client_cap {
	uint64_t capability;
	uint64_t value;
};

#define GPUVM_ABI_DRM_CAP_PRIME 0x05u
#define GPUVM_ABI_DRM_PRIME_CAP_IMPORT 0x1u
#define GPUVM_ABI_DRM_PRIME_CAP_EXPORT 0x2u
#define GPUVM_ABI_DRM_CAP_SYNCOBJ 0x13u
#define GPUVM_ABI_DRM_CAP_SYNCOBJ_TIMELINE 0x14u

/* dma-buf export/import of a GEM handle; 12 bytes, 4-byte aligned. */
struct gpuvm_abi_drm_prime_handle {
	uint32_t handle;
	uint32_t flags; /* export only: O_RDWR / O_CLOEXEC bits */
	int32_t fd;
};

/* Sync objects. */
struct gpuvm_abi_drm_syncobj_create {
	uint32_t handle; /* out */
	uint32_t flags;
};

#define GPUVM_ABI_DRM_SYNCOBJ_CREATE_SIGNALED (1u << 0)

struct gpuvm_abi_drm_syncobj_destroy {
	uint32_t handle;
	uint32_t pad; /* must be zero */
};

/*
 * Handle <-> fd conversion. 'point' was appended in 2025 (timeline export /
 * import); the 16-byte form is the older one.
 */
struct gpuvm_abi_drm_syncobj_handle {
	uint32_t handle;
	uint32_t flags;
	int32_t fd;
	uint32_t pad;	/* must be zero */
	uint64_t point; /* with the TIMELINE flag only */
};

#define GPUVM_ABI_DRM_SYNCOBJ_HANDLE_SIZE_V1 16u
#define GPUVM_ABI_DRM_SYNCOBJ_FD_TO_HANDLE_IMPORT_SYNC_FILE (1u << 0)
#define GPUVM_ABI_DRM_SYNCOBJ_FD_TO_HANDLE_TIMELINE (1u << 1)
#define GPUVM_ABI_DRM_SYNCOBJ_HANDLE_TO_FD_EXPORT_SYNC_FILE (1u << 0)
#define GPUVM_ABI_DRM_SYNCOBJ_HANDLE_TO_FD_TIMELINE (1u << 1)

struct gpuvm_abi_drm_syncobj_transfer {
	uint32_t src_handle;
	uint32_t dst_handle;
	uint64_t src_point;
	uint64_t dst_point;
	uint32_t flags;
	uint32_t pad; /* must be zero */
};

/*
 * Wait on an array of syncobjs ('handles' is a user pointer to uint32_t).
 * timeout_nsec is an absolute CLOCK_MONOTONIC time. deadline_nsec was
 * appended later (read only with the DEADLINE flag); the 32-byte form is
 * the older one.
 */
struct gpuvm_abi_drm_syncobj_wait {
	uint64_t handles;
	int64_t timeout_nsec;
	uint32_t count_handles;
	uint32_t flags;
	uint32_t first_signaled; /* out, when not waiting for all */
	uint32_t pad;		 /* must be zero */
	uint64_t deadline_nsec;
};

#define GPUVM_ABI_DRM_SYNCOBJ_WAIT_SIZE_V1 32u

/* Same with one timeline point per handle ('points' is a user pointer). */
struct gpuvm_abi_drm_syncobj_timeline_wait {
	uint64_t handles;
	uint64_t points;
	int64_t timeout_nsec;
	uint32_t count_handles;
	uint32_t flags;
	uint32_t first_signaled;
	uint32_t pad;
	uint64_t deadline_nsec;
};

#define GPUVM_ABI_DRM_SYNCOBJ_TIMELINE_WAIT_SIZE_V1 40u

#define GPUVM_ABI_DRM_SYNCOBJ_WAIT_ALL (1u << 0)
#define GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT (1u << 1)
#define GPUVM_ABI_DRM_SYNCOBJ_WAIT_AVAILABLE (1u << 2) /* timeline waits only */
#define GPUVM_ABI_DRM_SYNCOBJ_WAIT_DEADLINE (1u << 3)

/* RESET and SIGNAL take a plain array of handles. */
struct gpuvm_abi_drm_syncobj_array {
	uint64_t handles;
	uint32_t count_handles;
	uint32_t pad; /* must be zero */
};

/* QUERY and TIMELINE_SIGNAL take handles plus points. */
struct gpuvm_abi_drm_syncobj_timeline_array {
	uint64_t handles;
	uint64_t points;
	uint32_t count_handles;
	uint32_t flags;
};

#define GPUVM_ABI_DRM_SYNCOBJ_QUERY_LAST_SUBMITTED (1u << 0)

/* ---- full ioctl commands ---------------------------------------------------- */

#define GPUVM_ABI_DRM_IOCTL_VERSION \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_VERSION, sizeof(struct gpuvm_abi_drm_version))
#define GPUVM_ABI_DRM_IOCTL_GEM_CLOSE \
	GPUVM_ABI_DRM_IOW(GPUVM_ABI_DRM_NR_GEM_CLOSE, sizeof(struct gpuvm_abi_drm_gem_close))
#define GPUVM_ABI_DRM_IOCTL_GET_CAP \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_GET_CAP, sizeof(struct gpuvm_abi_drm_get_cap))
#define GPUVM_ABI_DRM_IOCTL_SET_CLIENT_CAP                 \
	GPUVM_ABI_DRM_IOW(GPUVM_ABI_DRM_NR_SET_CLIENT_CAP, \
			  sizeof(struct gpuvm_abi_drm_set_client_cap))
#define GPUVM_ABI_DRM_IOCTL_PRIME_HANDLE_TO_FD                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_PRIME_HANDLE_TO_FD, \
			   sizeof(struct gpuvm_abi_drm_prime_handle))
#define GPUVM_ABI_DRM_IOCTL_PRIME_FD_TO_HANDLE                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_PRIME_FD_TO_HANDLE, \
			   sizeof(struct gpuvm_abi_drm_prime_handle))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_CREATE                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_CREATE, \
			   sizeof(struct gpuvm_abi_drm_syncobj_create))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_DESTROY                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_DESTROY, \
			   sizeof(struct gpuvm_abi_drm_syncobj_destroy))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_HANDLE_TO_FD, \
			   sizeof(struct gpuvm_abi_drm_syncobj_handle))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_FD_TO_HANDLE, \
			   sizeof(struct gpuvm_abi_drm_syncobj_handle))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_WAIT \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_WAIT, sizeof(struct gpuvm_abi_drm_syncobj_wait))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_RESET                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_RESET, \
			   sizeof(struct gpuvm_abi_drm_syncobj_array))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_SIGNAL                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_SIGNAL, \
			   sizeof(struct gpuvm_abi_drm_syncobj_array))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_TIMELINE_WAIT, \
			   sizeof(struct gpuvm_abi_drm_syncobj_timeline_wait))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_QUERY                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_QUERY, \
			   sizeof(struct gpuvm_abi_drm_syncobj_timeline_array))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TRANSFER                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_TRANSFER, \
			   sizeof(struct gpuvm_abi_drm_syncobj_transfer))
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL                  \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_TIMELINE_SIGNAL, \
			   sizeof(struct gpuvm_abi_drm_syncobj_timeline_array))

/* The same commands as sent by user space built against the older headers. */
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_WAIT_V1 \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_WAIT, GPUVM_ABI_DRM_SYNCOBJ_WAIT_SIZE_V1)
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT_V1               \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_TIMELINE_WAIT, \
			   GPUVM_ABI_DRM_SYNCOBJ_TIMELINE_WAIT_SIZE_V1)
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD_V1               \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_HANDLE_TO_FD, \
			   GPUVM_ABI_DRM_SYNCOBJ_HANDLE_SIZE_V1)
#define GPUVM_ABI_DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE_V1               \
	GPUVM_ABI_DRM_IOWR(GPUVM_ABI_DRM_NR_SYNCOBJ_FD_TO_HANDLE, \
			   GPUVM_ABI_DRM_SYNCOBJ_HANDLE_SIZE_V1)

/* ---- layout pins ------------------------------------------------------------ */

#if UINTPTR_MAX == 0xffffffffffffffffu
GPUVM_ABI_SIZE(gpuvm_abi_drm_version, 64);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, major, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, minor, 4);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, patchlevel, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, name_len, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, name, 24);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, date_len, 32);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, date, 40);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, desc_len, 48);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, desc, 56);
#elif UINTPTR_MAX == 0xffffffffu
GPUVM_ABI_SIZE(gpuvm_abi_drm_version, 36);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, major, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, minor, 4);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, patchlevel, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, name_len, 12);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, name, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, date_len, 20);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, date, 24);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, desc_len, 28);
GPUVM_ABI_OFF(gpuvm_abi_drm_version, desc, 32);
#else
#error "lib/bind/abi: pointers are neither 32 nor 64 bits wide"
#endif

GPUVM_ABI_SIZE(gpuvm_abi_drm_gem_close, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_gem_close, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_gem_close, pad, 4);

GPUVM_ABI_SIZE(gpuvm_abi_drm_get_cap, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_get_cap, capability, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_get_cap, value, 8);

GPUVM_ABI_SIZE(gpuvm_abi_drm_set_client_cap, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_set_client_cap, capability, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_set_client_cap, value, 8);

GPUVM_ABI_SIZE(gpuvm_abi_drm_prime_handle, 12);
GPUVM_ABI_OFF(gpuvm_abi_drm_prime_handle, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_prime_handle, flags, 4);
GPUVM_ABI_OFF(gpuvm_abi_drm_prime_handle, fd, 8);

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_create, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_create, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_create, flags, 4);

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_destroy, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_destroy, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_destroy, pad, 4);

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_handle, 24);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_handle, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_handle, flags, 4);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_handle, fd, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_handle, pad, 12);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_handle, point, 16);
GPUVM_ABI_ASSERT(offsetof(struct gpuvm_abi_drm_syncobj_handle, point) ==
			 GPUVM_ABI_DRM_SYNCOBJ_HANDLE_SIZE_V1,
		 "syncobj_handle v1 ends where point begins");

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_transfer, 32);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_transfer, src_handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_transfer, dst_handle, 4);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_transfer, src_point, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_transfer, dst_point, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_transfer, flags, 24);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_transfer, pad, 28);

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_wait, 40);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_wait, handles, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_wait, timeout_nsec, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_wait, count_handles, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_wait, flags, 20);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_wait, first_signaled, 24);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_wait, pad, 28);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_wait, deadline_nsec, 32);
GPUVM_ABI_ASSERT(offsetof(struct gpuvm_abi_drm_syncobj_wait, deadline_nsec) ==
			 GPUVM_ABI_DRM_SYNCOBJ_WAIT_SIZE_V1,
		 "syncobj_wait v1 ends where deadline_nsec begins");

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_timeline_wait, 48);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, handles, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, points, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, timeout_nsec, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, count_handles, 24);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, flags, 28);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, first_signaled, 32);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, pad, 36);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_wait, deadline_nsec, 40);
GPUVM_ABI_ASSERT(offsetof(struct gpuvm_abi_drm_syncobj_timeline_wait, deadline_nsec) ==
			 GPUVM_ABI_DRM_SYNCOBJ_TIMELINE_WAIT_SIZE_V1,
		 "syncobj_timeline_wait v1 ends where deadline_nsec begins");

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_array, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_array, handles, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_array, count_handles, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_array, pad, 12);

GPUVM_ABI_SIZE(gpuvm_abi_drm_syncobj_timeline_array, 24);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_array, handles, 0);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_array, points, 8);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_array, count_handles, 16);
GPUVM_ABI_OFF(gpuvm_abi_drm_syncobj_timeline_array, flags, 20);

#endif /* GPUVM_BIND_ABI_DRM_COMMON_H */
