/* SPDX-License-Identifier: MIT */
/*
 * Panthor (Arm Mali CSF) driver ABI for the VM_BIND path: VM create,
 * destroy, bind and state, BO create and mmap offset, and the device query.
 * Our own declarations from the layout facts of the panthor uAPI
 * (include/uapi/drm/panthor_drm.h); sizes and offsets are pinned below.
 *
 * Arrays travel as {stride, count, pointer} so that elements can grow.
 * The kernel's reading of such an array, which a decoder must mirror:
 *  - count == 0: an empty array, stride and pointer are not looked at;
 *  - stride < the element's minimum size (the end of its last field known
 *    to the first uAPI version): -EINVAL;
 *  - stride == the kernel's element size: one copy of count * stride bytes;
 *  - otherwise each element is read at i * stride: a shorter element is
 *    zero-extended, a longer one is accepted only if the bytes the kernel
 *    does not know are all zero (else -E2BIG).
 * Per-operation syncs of VM_BIND are such an array inside each operation;
 * they must be empty unless the bind is ASYNC, and SYNC_ONLY operations need
 * at least one.
 */
#ifndef GPUVM_BIND_ABI_PANTHOR_H
#define GPUVM_BIND_ABI_PANTHOR_H

#include "drm_common.h"

/* ---- driver ioctl numbers, relative to the command base -------------------- */

#define GPUVM_ABI_PANTHOR_NR_DEV_QUERY 0x00u
#define GPUVM_ABI_PANTHOR_NR_VM_CREATE 0x01u
#define GPUVM_ABI_PANTHOR_NR_VM_DESTROY 0x02u
#define GPUVM_ABI_PANTHOR_NR_VM_BIND 0x03u
#define GPUVM_ABI_PANTHOR_NR_VM_GET_STATE 0x04u
#define GPUVM_ABI_PANTHOR_NR_BO_CREATE 0x05u
#define GPUVM_ABI_PANTHOR_NR_BO_MMAP_OFFSET 0x06u
#define GPUVM_ABI_PANTHOR_NR_GROUP_CREATE 0x07u
#define GPUVM_ABI_PANTHOR_NR_GROUP_DESTROY 0x08u
#define GPUVM_ABI_PANTHOR_NR_GROUP_SUBMIT 0x09u
#define GPUVM_ABI_PANTHOR_NR_GROUP_GET_STATE 0x0au
#define GPUVM_ABI_PANTHOR_NR_TILER_HEAP_CREATE 0x0bu
#define GPUVM_ABI_PANTHOR_NR_TILER_HEAP_DESTROY 0x0cu

/* ---- arrays and syncs -------------------------------------------------------- */

struct gpuvm_abi_panthor_obj_array {
	uint32_t stride; /* element size as the caller knows it */
	uint32_t count;
	uint64_t array; /* user pointer */
};

/* Sync operation flags: handle type in bits 0-7, direction in bit 31. */
#define GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK 0xffu
#define GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ 0u
#define GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ 1u
#define GPUVM_ABI_PANTHOR_SYNC_OP_WAIT 0u
#define GPUVM_ABI_PANTHOR_SYNC_OP_SIGNAL 0x80000000u

struct gpuvm_abi_panthor_sync_op {
	uint32_t flags;
	uint32_t handle;	 /* syncobj handle */
	uint64_t timeline_value; /* must be zero unless timeline type */
};

/* Minimum stride the kernel accepts for a sync_op array. */
#define GPUVM_ABI_PANTHOR_SYNC_OP_MIN_STRIDE 16u

/* ---- device query ----------------------------------------------------------- */

#define GPUVM_ABI_PANTHOR_DEV_QUERY_GPU_INFO 0u
#define GPUVM_ABI_PANTHOR_DEV_QUERY_CSIF_INFO 1u
#define GPUVM_ABI_PANTHOR_DEV_QUERY_TIMESTAMP_INFO 2u
#define GPUVM_ABI_PANTHOR_DEV_QUERY_GROUP_PRIORITIES_INFO 3u

/*
 * With a zero pointer the kernel reports the answer's size; otherwise it
 * copies min(size, its size) bytes and updates size.
 */
struct gpuvm_abi_panthor_dev_query {
	uint32_t type;
	uint32_t size;
	uint64_t pointer; /* user pointer */
};

/* ---- VM ----------------------------------------------------------------------- */

/*
 * user_va_range: size of the VA range [0, user_va_range) left to user
 * space; the kernel keeps what lies above. Zero lets the kernel choose and
 * report its choice here.
 */
struct gpuvm_abi_panthor_vm_create {
	uint32_t flags; /* must be zero */
	uint32_t id;	/* out */
	uint64_t user_va_range;
};

struct gpuvm_abi_panthor_vm_destroy {
	uint32_t id;
	uint32_t pad; /* must be zero */
};

/* Operation type: bits 28-31 of the operation's flags. */
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_MASK 0xf0000000u
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_MAP 0x00000000u
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_UNMAP 0x10000000u
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY 0x20000000u /* ASYNC binds only */

/* Mapping attributes, MAP operations only. */
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_READONLY (1u << 0)
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_NOEXEC (1u << 1)
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_UNCACHED (1u << 2)

/*
 * One bind operation, 48 bytes as of the first uAPI version. bo_handle and
 * bo_offset must be zero for UNMAP and SYNC_ONLY; va and size must be zero
 * for SYNC_ONLY.
 */
struct gpuvm_abi_panthor_vm_bind_op {
	uint32_t flags; /* type | attributes */
	uint32_t bo_handle;
	uint64_t bo_offset;
	uint64_t va;
	uint64_t size;
	struct gpuvm_abi_panthor_obj_array syncs; /* of gpuvm_abi_panthor_sync_op */
};

/* Minimum stride the kernel accepts for a vm_bind_op array. */
#define GPUVM_ABI_PANTHOR_VM_BIND_OP_MIN_STRIDE 48u

/* Per-ioctl flag: queue the operations on the VM's bind queue. */
#define GPUVM_ABI_PANTHOR_VM_BIND_ASYNC (1u << 0)

struct gpuvm_abi_panthor_vm_bind {
	uint32_t vm_id;
	uint32_t flags;
	struct gpuvm_abi_panthor_obj_array ops; /* of gpuvm_abi_panthor_vm_bind_op */
};

#define GPUVM_ABI_PANTHOR_VM_STATE_USABLE 0u
#define GPUVM_ABI_PANTHOR_VM_STATE_UNUSABLE 1u /* after a failed async bind; only unmaps pass */

struct gpuvm_abi_panthor_vm_get_state {
	uint32_t vm_id;
	uint32_t state; /* out */
};

/* ---- BO -------------------------------------------------------------------------- */

#define GPUVM_ABI_PANTHOR_BO_NO_MMAP (1u << 0)

/* A nonzero exclusive_vm_id makes the BO private to that VM (no export). */
struct gpuvm_abi_panthor_bo_create {
	uint64_t size; /* in: requested; out: page-aligned size */
	uint32_t flags;
	uint32_t exclusive_vm_id;
	uint32_t handle; /* out, nonzero */
	uint32_t pad;	 /* must be zero */
};

struct gpuvm_abi_panthor_bo_mmap_offset {
	uint32_t handle;
	uint32_t pad;
	uint64_t offset; /* out */
};

/* ---- full ioctl commands (all read-write) ------------------------------------ */

#define GPUVM_ABI_PANTHOR_IOCTL(nr, tag)                          \
	GPUVM_ABI_IOC(GPUVM_ABI_IOC_RW, GPUVM_ABI_DRM_IOCTL_TYPE, \
		      GPUVM_ABI_DRM_COMMAND_BASE + (nr), sizeof(struct tag))

#define GPUVM_ABI_PANTHOR_IOCTL_DEV_QUERY \
	GPUVM_ABI_PANTHOR_IOCTL(GPUVM_ABI_PANTHOR_NR_DEV_QUERY, gpuvm_abi_panthor_dev_query)
#define GPUVM_ABI_PANTHOR_IOCTL_VM_CREATE \
	GPUVM_ABI_PANTHOR_IOCTL(GPUVM_ABI_PANTHOR_NR_VM_CREATE, gpuvm_abi_panthor_vm_create)
#define GPUVM_ABI_PANTHOR_IOCTL_VM_DESTROY \
	GPUVM_ABI_PANTHOR_IOCTL(GPUVM_ABI_PANTHOR_NR_VM_DESTROY, gpuvm_abi_panthor_vm_destroy)
#define GPUVM_ABI_PANTHOR_IOCTL_VM_BIND \
	GPUVM_ABI_PANTHOR_IOCTL(GPUVM_ABI_PANTHOR_NR_VM_BIND, gpuvm_abi_panthor_vm_bind)
#define GPUVM_ABI_PANTHOR_IOCTL_VM_GET_STATE \
	GPUVM_ABI_PANTHOR_IOCTL(GPUVM_ABI_PANTHOR_NR_VM_GET_STATE, gpuvm_abi_panthor_vm_get_state)
#define GPUVM_ABI_PANTHOR_IOCTL_BO_CREATE \
	GPUVM_ABI_PANTHOR_IOCTL(GPUVM_ABI_PANTHOR_NR_BO_CREATE, gpuvm_abi_panthor_bo_create)
#define GPUVM_ABI_PANTHOR_IOCTL_BO_MMAP_OFFSET                       \
	GPUVM_ABI_PANTHOR_IOCTL(GPUVM_ABI_PANTHOR_NR_BO_MMAP_OFFSET, \
				gpuvm_abi_panthor_bo_mmap_offset)

/* ---- layout pins ------------------------------------------------------------ */

GPUVM_ABI_SIZE(gpuvm_abi_panthor_obj_array, 16);
GPUVM_ABI_OFF(gpuvm_abi_panthor_obj_array, stride, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_obj_array, count, 4);
GPUVM_ABI_OFF(gpuvm_abi_panthor_obj_array, array, 8);

GPUVM_ABI_SIZE(gpuvm_abi_panthor_sync_op, 16);
GPUVM_ABI_OFF(gpuvm_abi_panthor_sync_op, flags, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_sync_op, handle, 4);
GPUVM_ABI_OFF(gpuvm_abi_panthor_sync_op, timeline_value, 8);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_panthor_sync_op);
GPUVM_ABI_ASSERT(offsetof(struct gpuvm_abi_panthor_sync_op, timeline_value) + sizeof(uint64_t) ==
			 GPUVM_ABI_PANTHOR_SYNC_OP_MIN_STRIDE,
		 "panthor sync_op minimum stride ends after timeline_value");

GPUVM_ABI_SIZE(gpuvm_abi_panthor_dev_query, 16);
GPUVM_ABI_OFF(gpuvm_abi_panthor_dev_query, type, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_dev_query, size, 4);
GPUVM_ABI_OFF(gpuvm_abi_panthor_dev_query, pointer, 8);

GPUVM_ABI_SIZE(gpuvm_abi_panthor_vm_create, 16);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_create, flags, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_create, id, 4);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_create, user_va_range, 8);

GPUVM_ABI_SIZE(gpuvm_abi_panthor_vm_destroy, 8);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_destroy, id, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_destroy, pad, 4);

GPUVM_ABI_SIZE(gpuvm_abi_panthor_vm_bind_op, 48);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind_op, flags, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind_op, bo_handle, 4);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind_op, bo_offset, 8);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind_op, va, 16);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind_op, size, 24);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind_op, syncs, 32);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_panthor_vm_bind_op);
GPUVM_ABI_ASSERT(offsetof(struct gpuvm_abi_panthor_vm_bind_op, syncs) +
				 sizeof(struct gpuvm_abi_panthor_obj_array) ==
			 GPUVM_ABI_PANTHOR_VM_BIND_OP_MIN_STRIDE,
		 "panthor vm_bind_op minimum stride ends after syncs");

GPUVM_ABI_SIZE(gpuvm_abi_panthor_vm_bind, 24);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind, vm_id, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind, flags, 4);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_bind, ops, 8);

GPUVM_ABI_SIZE(gpuvm_abi_panthor_vm_get_state, 8);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_get_state, vm_id, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_vm_get_state, state, 4);

GPUVM_ABI_SIZE(gpuvm_abi_panthor_bo_create, 24);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_create, size, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_create, flags, 8);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_create, exclusive_vm_id, 12);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_create, handle, 16);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_create, pad, 20);

GPUVM_ABI_SIZE(gpuvm_abi_panthor_bo_mmap_offset, 16);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_mmap_offset, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_mmap_offset, pad, 4);
GPUVM_ABI_OFF(gpuvm_abi_panthor_bo_mmap_offset, offset, 8);

#endif /* GPUVM_BIND_ABI_PANTHOR_H */
