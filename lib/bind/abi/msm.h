/* SPDX-License-Identifier: MIT */
/*
 * msm (Qualcomm Adreno) driver ABI for the VM_BIND path merged in 2025:
 * parameters (to switch a file to VM_BIND mode and learn its VA range),
 * GEM_NEW/GEM_INFO, submit queues, syncobj entries and VM_BIND. Our own
 * declarations from the layout facts of the msm uAPI
 * (include/uapi/drm/msm_drm.h); sizes and offsets are pinned below.
 *
 * Rules of the kernel that an encoder or decoder must follow:
 *  - VM_BIND mode is switched on once per file with SET_PARAM(EN_VM_BIND,
 *    1), before BOs or VM_BIND queues are created; it cannot be switched
 *    off. Asynchronous binds run on a submit queue created with the
 *    SUBMITQUEUE_VM_BIND flag, named by queue_id.
 *  - nr_ops == 1 carries the operation inline in 'op'; otherwise 'ops' is
 *    a user pointer to nr_ops operations. Although the header has
 *    op_stride, the kernel sources seen index that array at the fixed
 *    40-byte operation size; encoders set op_stride to 40.
 *  - MAP needs a nonzero handle; UNMAP and MAP_NULL need handle and
 *    obj_offset zero. MAP_NULL needs hardware PRR support (HAS_PRR).
 */
#ifndef GPUVM_BIND_ABI_MSM_H
#define GPUVM_BIND_ABI_MSM_H

#include "drm_common.h"

/* ---- driver ioctl numbers, relative to the command base -------------------- */

#define GPUVM_ABI_MSM_NR_GET_PARAM 0x00u
#define GPUVM_ABI_MSM_NR_SET_PARAM 0x01u
#define GPUVM_ABI_MSM_NR_GEM_NEW 0x02u
#define GPUVM_ABI_MSM_NR_GEM_INFO 0x03u
#define GPUVM_ABI_MSM_NR_SUBMITQUEUE_NEW 0x0au
#define GPUVM_ABI_MSM_NR_SUBMITQUEUE_CLOSE 0x0bu
#define GPUVM_ABI_MSM_NR_VM_BIND 0x0du

/* ---- parameters ----------------------------------------------------------------- */

#define GPUVM_ABI_MSM_PIPE_NONE 0x00u
#define GPUVM_ABI_MSM_PIPE_3D0 0x10u

#define GPUVM_ABI_MSM_PARAM_GPU_ID 0x01u
#define GPUVM_ABI_MSM_PARAM_GMEM_SIZE 0x02u
#define GPUVM_ABI_MSM_PARAM_CHIP_ID 0x03u
#define GPUVM_ABI_MSM_PARAM_MAX_FREQ 0x04u
#define GPUVM_ABI_MSM_PARAM_TIMESTAMP 0x05u
#define GPUVM_ABI_MSM_PARAM_GMEM_BASE 0x06u
#define GPUVM_ABI_MSM_PARAM_PRIORITIES 0x07u
#define GPUVM_ABI_MSM_PARAM_FAULTS 0x09u
#define GPUVM_ABI_MSM_PARAM_VA_START 0x0eu   /* first valid GPU address */
#define GPUVM_ABI_MSM_PARAM_VA_SIZE 0x0fu    /* size of the valid GPU range */
#define GPUVM_ABI_MSM_PARAM_HAS_PRR 0x15u    /* MAP_NULL (sparse) support */
#define GPUVM_ABI_MSM_PARAM_EN_VM_BIND 0x16u /* write-only, once */

struct gpuvm_abi_msm_param {
	uint32_t pipe;
	uint32_t param;
	uint64_t value; /* out for GET_PARAM, in for SET_PARAM */
	uint32_t len;	/* zero for plain values */
	uint32_t pad;	/* must be zero */
};

/* ---- GEM -------------------------------------------------------------------------- */

#define GPUVM_ABI_MSM_BO_SCANOUT 0x00000001u
#define GPUVM_ABI_MSM_BO_GPU_READONLY 0x00000002u
#define GPUVM_ABI_MSM_BO_NO_SHARE 0x00000004u
#define GPUVM_ABI_MSM_BO_CACHE_MASK 0x000f0000u
#define GPUVM_ABI_MSM_BO_CACHED 0x00010000u
#define GPUVM_ABI_MSM_BO_WC 0x00020000u
#define GPUVM_ABI_MSM_BO_UNCACHED 0x00040000u
#define GPUVM_ABI_MSM_BO_CACHED_COHERENT 0x00080000u

struct gpuvm_abi_msm_gem_new {
	uint64_t size;
	uint32_t flags;
	uint32_t handle; /* out */
};

#define GPUVM_ABI_MSM_INFO_GET_OFFSET 0x00u
#define GPUVM_ABI_MSM_INFO_GET_IOVA 0x01u /* refused in VM_BIND mode */
#define GPUVM_ABI_MSM_INFO_SET_NAME 0x02u
#define GPUVM_ABI_MSM_INFO_GET_NAME 0x03u
#define GPUVM_ABI_MSM_INFO_SET_IOVA 0x04u /* refused in VM_BIND mode */
#define GPUVM_ABI_MSM_INFO_GET_FLAGS 0x05u

struct gpuvm_abi_msm_gem_info {
	uint32_t handle;
	uint32_t info; /* one of the INFO codes */
	uint64_t value;
	uint32_t len;
	uint32_t pad;
};

/* ---- submit queues --------------------------------------------------------------- */

#define GPUVM_ABI_MSM_SUBMITQUEUE_ALLOW_PREEMPT 0x1u
#define GPUVM_ABI_MSM_SUBMITQUEUE_VM_BIND 0x2u /* a queue for VM_BIND ioctls */

/* 12 bytes, 4-byte aligned. */
struct gpuvm_abi_msm_submitqueue {
	uint32_t flags;
	uint32_t prio;
	uint32_t id; /* out */
};

/* ---- syncobj entries ------------------------------------------------------------ */

#define GPUVM_ABI_MSM_SYNCOBJ_RESET 0x1u /* reset the syncobj after the wait */

struct gpuvm_abi_msm_syncobj {
	uint32_t handle;
	uint32_t flags;
	uint64_t point; /* timeline syncobjs */
};

/* ---- VM_BIND --------------------------------------------------------------------- */

#define GPUVM_ABI_MSM_VM_BIND_OP_UNMAP 0u
#define GPUVM_ABI_MSM_VM_BIND_OP_MAP 1u
#define GPUVM_ABI_MSM_VM_BIND_OP_MAP_NULL 2u

/* Per-operation flag: include the mapping in GPU crash dumps. */
#define GPUVM_ABI_MSM_VM_BIND_OP_DUMP 0x1u

struct gpuvm_abi_msm_vm_bind_op {
	uint32_t op;
	uint32_t handle;
	uint64_t obj_offset;
	uint64_t iova;
	uint64_t range;
	uint32_t flags;
	uint32_t pad; /* must be zero */
};

/* Per-ioctl flags: sync through sync-file fds. */
#define GPUVM_ABI_MSM_VM_BIND_FENCE_FD_IN 0x1u
#define GPUVM_ABI_MSM_VM_BIND_FENCE_FD_OUT 0x2u

/* VM_BIND argument, 88 bytes. */
struct gpuvm_abi_msm_vm_bind {
	uint32_t flags;
	uint32_t nr_ops;
	int32_t fence_fd;     /* in with FENCE_FD_IN, out with FENCE_FD_OUT */
	uint32_t queue_id;    /* a SUBMITQUEUE_VM_BIND queue */
	uint64_t in_syncobjs; /* user pointer to gpuvm_abi_msm_syncobj */
	uint64_t out_syncobjs;
	uint32_t nr_in_syncobjs;
	uint32_t nr_out_syncobjs;
	uint32_t syncobj_stride;
	uint32_t op_stride;
	union {
		struct gpuvm_abi_msm_vm_bind_op op; /* nr_ops == 1 */
		uint64_t ops;			    /* otherwise: user pointer */
	};
};

/* ---- full ioctl commands ---------------------------------------------------- */

#define GPUVM_ABI_MSM_IOCTL_SIZED(dir, nr, size) \
	GPUVM_ABI_IOC(dir, GPUVM_ABI_DRM_IOCTL_TYPE, GPUVM_ABI_DRM_COMMAND_BASE + (nr), size)
#define GPUVM_ABI_MSM_IOCTL(dir, nr, tag) GPUVM_ABI_MSM_IOCTL_SIZED(dir, nr, sizeof(struct tag))

#define GPUVM_ABI_MSM_IOCTL_GET_PARAM \
	GPUVM_ABI_MSM_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_MSM_NR_GET_PARAM, gpuvm_abi_msm_param)
#define GPUVM_ABI_MSM_IOCTL_SET_PARAM \
	GPUVM_ABI_MSM_IOCTL(GPUVM_ABI_IOC_W, GPUVM_ABI_MSM_NR_SET_PARAM, gpuvm_abi_msm_param)
#define GPUVM_ABI_MSM_IOCTL_GEM_NEW \
	GPUVM_ABI_MSM_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_MSM_NR_GEM_NEW, gpuvm_abi_msm_gem_new)
#define GPUVM_ABI_MSM_IOCTL_GEM_INFO \
	GPUVM_ABI_MSM_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_MSM_NR_GEM_INFO, gpuvm_abi_msm_gem_info)
#define GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_NEW                                     \
	GPUVM_ABI_MSM_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_MSM_NR_SUBMITQUEUE_NEW, \
			    gpuvm_abi_msm_submitqueue)
/* The argument is the bare 32-bit queue id. */
#define GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_CLOSE                                          \
	GPUVM_ABI_MSM_IOCTL_SIZED(GPUVM_ABI_IOC_W, GPUVM_ABI_MSM_NR_SUBMITQUEUE_CLOSE, \
				  sizeof(uint32_t))
#define GPUVM_ABI_MSM_IOCTL_VM_BIND \
	GPUVM_ABI_MSM_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_MSM_NR_VM_BIND, gpuvm_abi_msm_vm_bind)

/* ---- layout pins ------------------------------------------------------------ */

GPUVM_ABI_SIZE(gpuvm_abi_msm_param, 24);
GPUVM_ABI_OFF(gpuvm_abi_msm_param, pipe, 0);
GPUVM_ABI_OFF(gpuvm_abi_msm_param, param, 4);
GPUVM_ABI_OFF(gpuvm_abi_msm_param, value, 8);
GPUVM_ABI_OFF(gpuvm_abi_msm_param, len, 16);
GPUVM_ABI_OFF(gpuvm_abi_msm_param, pad, 20);

GPUVM_ABI_SIZE(gpuvm_abi_msm_gem_new, 16);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_new, size, 0);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_new, flags, 8);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_new, handle, 12);

GPUVM_ABI_SIZE(gpuvm_abi_msm_gem_info, 24);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_info, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_info, info, 4);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_info, value, 8);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_info, len, 16);
GPUVM_ABI_OFF(gpuvm_abi_msm_gem_info, pad, 20);

GPUVM_ABI_SIZE(gpuvm_abi_msm_submitqueue, 12);
GPUVM_ABI_OFF(gpuvm_abi_msm_submitqueue, flags, 0);
GPUVM_ABI_OFF(gpuvm_abi_msm_submitqueue, prio, 4);
GPUVM_ABI_OFF(gpuvm_abi_msm_submitqueue, id, 8);

GPUVM_ABI_SIZE(gpuvm_abi_msm_syncobj, 16);
GPUVM_ABI_OFF(gpuvm_abi_msm_syncobj, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_msm_syncobj, flags, 4);
GPUVM_ABI_OFF(gpuvm_abi_msm_syncobj, point, 8);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_msm_syncobj);

GPUVM_ABI_SIZE(gpuvm_abi_msm_vm_bind_op, 40);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind_op, op, 0);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind_op, handle, 4);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind_op, obj_offset, 8);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind_op, iova, 16);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind_op, range, 24);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind_op, flags, 32);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind_op, pad, 36);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_msm_vm_bind_op);

GPUVM_ABI_SIZE(gpuvm_abi_msm_vm_bind, 88);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, flags, 0);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, nr_ops, 4);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, fence_fd, 8);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, queue_id, 12);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, in_syncobjs, 16);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, out_syncobjs, 24);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, nr_in_syncobjs, 32);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, nr_out_syncobjs, 36);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, syncobj_stride, 40);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, op_stride, 44);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, op, 48);
GPUVM_ABI_OFF(gpuvm_abi_msm_vm_bind, ops, 48);

#endif /* GPUVM_BIND_ABI_MSM_H */
