/* SPDX-License-Identifier: MIT */
/*
 * Intel xe driver ABI: the ioctls an xe user-mode driver issues to bind
 * memory (VM create/destroy/bind, GEM create, syncs) and the device query
 * an emulated xe node must answer. Our own declarations from the layout
 * facts of the xe uAPI (include/uapi/drm/xe_drm.h); sizes and offsets are
 * pinned below.
 *
 * Rules of the kernel that an encoder or decoder must follow:
 *  - VM_BIND carries one operation inline in 'bind' when num_binds == 1;
 *    with num_binds > 1, 'vector_of_binds' is a user pointer to num_binds
 *    consecutive 80-byte operations (no stride field: the element size is
 *    fixed).
 *  - 'syncs' points to num_syncs consecutive 48-byte sync entries.
 *  - every pad, pad2, reserved and 'extensions' member must be zero or the
 *    kernel answers -EINVAL.
 */
#ifndef GPUVM_BIND_ABI_XE_H
#define GPUVM_BIND_ABI_XE_H

#include "drm_common.h"

/* ---- driver ioctl numbers, relative to the command base -------------------- */

#define GPUVM_ABI_XE_NR_DEVICE_QUERY 0x00u
#define GPUVM_ABI_XE_NR_GEM_CREATE 0x01u
#define GPUVM_ABI_XE_NR_GEM_MMAP_OFFSET 0x02u
#define GPUVM_ABI_XE_NR_VM_CREATE 0x03u
#define GPUVM_ABI_XE_NR_VM_DESTROY 0x04u
#define GPUVM_ABI_XE_NR_VM_BIND 0x05u
#define GPUVM_ABI_XE_NR_EXEC_QUEUE_CREATE 0x06u
#define GPUVM_ABI_XE_NR_EXEC_QUEUE_DESTROY 0x07u
#define GPUVM_ABI_XE_NR_EXEC_QUEUE_GET_PROPERTY 0x08u
#define GPUVM_ABI_XE_NR_EXEC 0x09u
#define GPUVM_ABI_XE_NR_WAIT_USER_FENCE 0x0au

/* ---- extension chain head (only checked to be zero by VM_BIND) ---------- */

struct gpuvm_abi_xe_user_extension {
	uint64_t next_extension;
	uint32_t name;
	uint32_t pad;
};

/* ---- device query ---------------------------------------------------------- */

/* Query kinds for gpuvm_abi_xe_device_query.query. */
#define GPUVM_ABI_XE_QUERY_ENGINES 0u
#define GPUVM_ABI_XE_QUERY_MEM_REGIONS 1u
#define GPUVM_ABI_XE_QUERY_CONFIG 2u
#define GPUVM_ABI_XE_QUERY_GT_LIST 3u
#define GPUVM_ABI_XE_QUERY_HWCONFIG 4u
#define GPUVM_ABI_XE_QUERY_GT_TOPOLOGY 5u
#define GPUVM_ABI_XE_QUERY_ENGINE_CYCLES 6u

/*
 * With size == 0 the kernel writes the size the answer needs; with the
 * right size it copies the answer to 'data'; any other size is -EINVAL.
 */
struct gpuvm_abi_xe_device_query {
	uint64_t extensions;
	uint32_t query;
	uint32_t size;
	uint64_t data; /* user pointer */
	uint64_t reserved[2];
};

/* Engine classes; VM_BIND is a queue class for ordering binds. */
#define GPUVM_ABI_XE_ENGINE_CLASS_RENDER 0u
#define GPUVM_ABI_XE_ENGINE_CLASS_COPY 1u
#define GPUVM_ABI_XE_ENGINE_CLASS_VIDEO_DECODE 2u
#define GPUVM_ABI_XE_ENGINE_CLASS_VIDEO_ENHANCE 3u
#define GPUVM_ABI_XE_ENGINE_CLASS_COMPUTE 4u
#define GPUVM_ABI_XE_ENGINE_CLASS_VM_BIND 5u

struct gpuvm_abi_xe_engine_class_instance {
	uint16_t engine_class;
	uint16_t engine_instance;
	uint16_t gt_id;
	uint16_t pad;
};

struct gpuvm_abi_xe_engine {
	struct gpuvm_abi_xe_engine_class_instance instance;
	uint64_t reserved[3];
};

/* Answer to QUERY_ENGINES: a count, then that many engines. */
struct gpuvm_abi_xe_query_engines {
	uint32_t num_engines;
	uint32_t pad;
	struct gpuvm_abi_xe_engine engines[];
};

#define GPUVM_ABI_XE_MEM_CLASS_SYSMEM 0u
#define GPUVM_ABI_XE_MEM_CLASS_VRAM 1u

/*
 * One memory region. 'instance' is the bit index used in GEM_CREATE's
 * placement mask; min_page_size also constrains VM_BIND alignment of BOs
 * that may live in the region.
 */
struct gpuvm_abi_xe_mem_region {
	uint16_t mem_class;
	uint16_t instance;
	uint32_t min_page_size;
	uint64_t total_size;
	uint64_t used;
	uint64_t cpu_visible_size;
	uint64_t cpu_visible_used;
	uint64_t reserved[6];
};

/* Answer to QUERY_MEM_REGIONS. */
struct gpuvm_abi_xe_query_mem_regions {
	uint32_t num_mem_regions;
	uint32_t pad;
	struct gpuvm_abi_xe_mem_region mem_regions[];
};

/* Answer to QUERY_CONFIG: num_params 64-bit values, indexed as below. */
struct gpuvm_abi_xe_query_config {
	uint32_t num_params;
	uint32_t pad;
	uint64_t info[];
};

#define GPUVM_ABI_XE_CONFIG_REV_AND_DEVICE_ID 0u /* device id bits 0-15, revision 16-23 */
#define GPUVM_ABI_XE_CONFIG_FLAGS 1u
#define GPUVM_ABI_XE_CONFIG_FLAG_HAS_VRAM (1u << 0)
#define GPUVM_ABI_XE_CONFIG_FLAG_HAS_LOW_LATENCY (1u << 1)
#define GPUVM_ABI_XE_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR (1u << 2)
#define GPUVM_ABI_XE_CONFIG_MIN_ALIGNMENT 2u /* typically 4 KiB or 64 KiB */
#define GPUVM_ABI_XE_CONFIG_VA_BITS 3u
#define GPUVM_ABI_XE_CONFIG_MAX_EXEC_QUEUE_PRIORITY 4u

/* ---- GEM ---------------------------------------------------------------------- */

#define GPUVM_ABI_XE_GEM_CREATE_DEFER_BACKING (1u << 0)
#define GPUVM_ABI_XE_GEM_CREATE_SCANOUT (1u << 1)
#define GPUVM_ABI_XE_GEM_CREATE_NEEDS_VISIBLE_VRAM (1u << 2)

#define GPUVM_ABI_XE_GEM_CPU_CACHING_WB 1u
#define GPUVM_ABI_XE_GEM_CPU_CACHING_WC 2u

/*
 * A BO created with a nonzero vm_id is private to that VM: it may only be
 * bound there and cannot be exported.
 */
struct gpuvm_abi_xe_gem_create {
	uint64_t extensions;
	uint64_t size;	    /* multiple of the region's min_page_size */
	uint32_t placement; /* bit mask of region instances */
	uint32_t flags;
	uint32_t vm_id;
	uint32_t handle; /* out, nonzero */
	uint16_t cpu_caching;
	uint16_t pad[3];
	uint64_t reserved[2];
};

struct gpuvm_abi_xe_gem_mmap_offset {
	uint64_t extensions;
	uint32_t handle;
	uint32_t flags;
	uint64_t offset; /* out */
	uint64_t reserved[2];
};

/* ---- VM ------------------------------------------------------------------------- */

#define GPUVM_ABI_XE_VM_CREATE_SCRATCH_PAGE (1u << 0)
#define GPUVM_ABI_XE_VM_CREATE_LR_MODE (1u << 1)
#define GPUVM_ABI_XE_VM_CREATE_FAULT_MODE (1u << 2) /* requires LR_MODE */

struct gpuvm_abi_xe_vm_create {
	uint64_t extensions;
	uint32_t flags;
	uint32_t vm_id; /* out */
	uint64_t reserved[2];
};

struct gpuvm_abi_xe_vm_destroy {
	uint32_t vm_id;
	uint32_t pad;
	uint64_t reserved[2];
};

/* Bind operation codes (gpuvm_abi_xe_vm_bind_op.op). */
#define GPUVM_ABI_XE_VM_BIND_OP_MAP 0u
#define GPUVM_ABI_XE_VM_BIND_OP_UNMAP 1u
#define GPUVM_ABI_XE_VM_BIND_OP_MAP_USERPTR 2u
#define GPUVM_ABI_XE_VM_BIND_OP_UNMAP_ALL 3u /* every mapping of 'obj'; addr, range MBZ */
#define GPUVM_ABI_XE_VM_BIND_OP_PREFETCH 4u

/* Bind operation flags (gpuvm_abi_xe_vm_bind_op.flags). */
#define GPUVM_ABI_XE_VM_BIND_FLAG_READONLY (1u << 0)
#define GPUVM_ABI_XE_VM_BIND_FLAG_IMMEDIATE (1u << 1)
/* NULL: sparse binding, reads return zero and writes are dropped; obj MBZ. */
#define GPUVM_ABI_XE_VM_BIND_FLAG_NULL (1u << 2)
#define GPUVM_ABI_XE_VM_BIND_FLAG_DUMPABLE (1u << 3)
#define GPUVM_ABI_XE_VM_BIND_FLAG_CHECK_PXP (1u << 4)
/* CPU_ADDR_MIRROR: reserve the range for SVM; fault-mode VMs, MAP, obj MBZ. */
#define GPUVM_ABI_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR (1u << 5)

/*
 * One bind operation, 80 bytes. The 64-bit word at offset 16 is the BO
 * offset for MAP, the CPU address for MAP_USERPTR, or the (signed) mirror
 * offset with CPU_ADDR_MIRROR. obj is zero for MAP_USERPTR, UNMAP and NULL
 * binds.
 */
struct gpuvm_abi_xe_vm_bind_op {
	uint64_t extensions;
	uint32_t obj; /* GEM handle */
	uint16_t pat_index;
	uint16_t pad;
	union {
		uint64_t obj_offset;
		uint64_t userptr;
		int64_t cpu_addr_mirror_offset;
	};
	uint64_t range; /* bytes */
	uint64_t addr;	/* GPU virtual address */
	uint32_t op;
	uint32_t flags;
	uint32_t prefetch_mem_region_instance; /* PREFETCH only: a region instance, not a mask */
	uint32_t pad2;
	uint64_t reserved[3];
};

/*
 * VM_BIND argument, 136 bytes. exec_queue_id 0 selects the VM's default
 * bind queue; otherwise it names a queue of class VM_BIND on the same VM.
 */
struct gpuvm_abi_xe_vm_bind {
	uint64_t extensions;
	uint32_t vm_id;
	uint32_t exec_queue_id;
	uint32_t pad;
	uint32_t num_binds;
	union {
		struct gpuvm_abi_xe_vm_bind_op bind; /* num_binds == 1 */
		uint64_t vector_of_binds;	     /* num_binds > 1: user pointer */
	};
	uint32_t pad2;
	uint32_t num_syncs;
	uint64_t syncs; /* user pointer to num_syncs gpuvm_abi_xe_sync */
	uint64_t reserved[2];
};

/* ---- syncs ------------------------------------------------------------------------ */

#define GPUVM_ABI_XE_SYNC_TYPE_SYNCOBJ 0u
#define GPUVM_ABI_XE_SYNC_TYPE_TIMELINE_SYNCOBJ 1u
#define GPUVM_ABI_XE_SYNC_TYPE_USER_FENCE 2u

#define GPUVM_ABI_XE_SYNC_FLAG_SIGNAL (1u << 0) /* clear: wait on it */

/*
 * One sync entry, 48 bytes. The 64-bit word at offset 16 holds a syncobj
 * handle in its low 32 bits, or for a user fence the fence address (a user
 * pointer when given to VM_BIND), which must be 8-byte aligned.
 * timeline_value must be nonzero for TIMELINE_SYNCOBJ.
 */
struct gpuvm_abi_xe_sync {
	uint64_t extensions;
	uint32_t type;
	uint32_t flags;
	union {
		uint32_t handle;
		uint64_t addr;
	};
	uint64_t timeline_value;
	uint64_t reserved[2];
};

/* ---- exec queues, exec, user fences ------------------------------------------------ */

#define GPUVM_ABI_XE_EXEC_QUEUE_LOW_LATENCY_HINT (1u << 0)

struct gpuvm_abi_xe_exec_queue_create {
	uint64_t extensions;
	uint16_t width;
	uint16_t num_placements;
	uint32_t vm_id;
	uint32_t flags;
	uint32_t exec_queue_id; /* out */
	uint64_t instances;	/* user pointer to width * num_placements class instances */
	uint64_t reserved[2];
};

struct gpuvm_abi_xe_exec_queue_destroy {
	uint32_t exec_queue_id;
	uint32_t pad;
	uint64_t reserved[2];
};

#define GPUVM_ABI_XE_EXEC_QUEUE_PROPERTY_BAN 0u

struct gpuvm_abi_xe_exec_queue_get_property {
	uint64_t extensions;
	uint32_t exec_queue_id;
	uint32_t property;
	uint64_t value; /* out */
	uint64_t reserved[2];
};

struct gpuvm_abi_xe_exec {
	uint64_t extensions;
	uint32_t exec_queue_id;
	uint32_t num_syncs;
	uint64_t syncs;	  /* user pointer to gpuvm_abi_xe_sync */
	uint64_t address; /* batch address, or pointer to num_batch_buffer addresses */
	uint16_t num_batch_buffer;
	uint16_t pad[3];
	uint64_t reserved[2];
};

#define GPUVM_ABI_XE_UFENCE_WAIT_OP_EQ 0u
#define GPUVM_ABI_XE_UFENCE_WAIT_OP_NEQ 1u
#define GPUVM_ABI_XE_UFENCE_WAIT_OP_GT 2u
#define GPUVM_ABI_XE_UFENCE_WAIT_OP_GTE 3u
#define GPUVM_ABI_XE_UFENCE_WAIT_OP_LT 4u
#define GPUVM_ABI_XE_UFENCE_WAIT_OP_LTE 5u
#define GPUVM_ABI_XE_UFENCE_WAIT_FLAG_ABSTIME (1u << 0)

/* Wait until (*addr & mask) <op> (value & mask). */
struct gpuvm_abi_xe_wait_user_fence {
	uint64_t extensions;
	uint64_t addr; /* user pointer, 8-byte aligned */
	uint16_t op;
	uint16_t flags;
	uint32_t pad;
	uint64_t value;
	uint64_t mask;
	int64_t timeout; /* ns; negative waits forever */
	uint32_t exec_queue_id;
	uint32_t pad2;
	uint64_t reserved[2];
};

/* ---- full ioctl commands ---------------------------------------------------- */

#define GPUVM_ABI_XE_IOCTL(dir, nr, tag)                                                \
	GPUVM_ABI_IOC(dir, GPUVM_ABI_DRM_IOCTL_TYPE, GPUVM_ABI_DRM_COMMAND_BASE + (nr), \
		      sizeof(struct tag))

#define GPUVM_ABI_XE_IOCTL_DEVICE_QUERY                                    \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_XE_NR_DEVICE_QUERY, \
			   gpuvm_abi_xe_device_query)
#define GPUVM_ABI_XE_IOCTL_GEM_CREATE \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_XE_NR_GEM_CREATE, gpuvm_abi_xe_gem_create)
#define GPUVM_ABI_XE_IOCTL_GEM_MMAP_OFFSET                                    \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_XE_NR_GEM_MMAP_OFFSET, \
			   gpuvm_abi_xe_gem_mmap_offset)
#define GPUVM_ABI_XE_IOCTL_VM_CREATE \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_XE_NR_VM_CREATE, gpuvm_abi_xe_vm_create)
#define GPUVM_ABI_XE_IOCTL_VM_DESTROY \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_W, GPUVM_ABI_XE_NR_VM_DESTROY, gpuvm_abi_xe_vm_destroy)
#define GPUVM_ABI_XE_IOCTL_VM_BIND \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_W, GPUVM_ABI_XE_NR_VM_BIND, gpuvm_abi_xe_vm_bind)
#define GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_CREATE                                    \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_XE_NR_EXEC_QUEUE_CREATE, \
			   gpuvm_abi_xe_exec_queue_create)
#define GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_DESTROY                                   \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_W, GPUVM_ABI_XE_NR_EXEC_QUEUE_DESTROY, \
			   gpuvm_abi_xe_exec_queue_destroy)
#define GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_GET_PROPERTY                                    \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_XE_NR_EXEC_QUEUE_GET_PROPERTY, \
			   gpuvm_abi_xe_exec_queue_get_property)
#define GPUVM_ABI_XE_IOCTL_EXEC \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_W, GPUVM_ABI_XE_NR_EXEC, gpuvm_abi_xe_exec)
#define GPUVM_ABI_XE_IOCTL_WAIT_USER_FENCE                                    \
	GPUVM_ABI_XE_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_XE_NR_WAIT_USER_FENCE, \
			   gpuvm_abi_xe_wait_user_fence)

/* ---- layout pins ------------------------------------------------------------ */

GPUVM_ABI_SIZE(gpuvm_abi_xe_user_extension, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_user_extension, next_extension, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_user_extension, name, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_user_extension, pad, 12);

GPUVM_ABI_SIZE(gpuvm_abi_xe_device_query, 40);
GPUVM_ABI_OFF(gpuvm_abi_xe_device_query, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_device_query, query, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_device_query, size, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_device_query, data, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_device_query, reserved, 24);

GPUVM_ABI_SIZE(gpuvm_abi_xe_engine_class_instance, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_engine_class_instance, engine_class, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_engine_class_instance, engine_instance, 2);
GPUVM_ABI_OFF(gpuvm_abi_xe_engine_class_instance, gt_id, 4);
GPUVM_ABI_OFF(gpuvm_abi_xe_engine_class_instance, pad, 6);

GPUVM_ABI_SIZE(gpuvm_abi_xe_engine, 32);
GPUVM_ABI_OFF(gpuvm_abi_xe_engine, instance, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_engine, reserved, 8);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_xe_engine);

GPUVM_ABI_SIZE(gpuvm_abi_xe_query_engines, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_engines, num_engines, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_engines, pad, 4);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_engines, engines, 8);

GPUVM_ABI_SIZE(gpuvm_abi_xe_mem_region, 88);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, mem_class, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, instance, 2);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, min_page_size, 4);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, total_size, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, used, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, cpu_visible_size, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, cpu_visible_used, 32);
GPUVM_ABI_OFF(gpuvm_abi_xe_mem_region, reserved, 40);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_xe_mem_region);

GPUVM_ABI_SIZE(gpuvm_abi_xe_query_mem_regions, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_mem_regions, num_mem_regions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_mem_regions, pad, 4);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_mem_regions, mem_regions, 8);

GPUVM_ABI_SIZE(gpuvm_abi_xe_query_config, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_config, num_params, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_config, pad, 4);
GPUVM_ABI_OFF(gpuvm_abi_xe_query_config, info, 8);

GPUVM_ABI_SIZE(gpuvm_abi_xe_gem_create, 56);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, size, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, placement, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, flags, 20);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, vm_id, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, handle, 28);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, cpu_caching, 32);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, pad, 34);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_create, reserved, 40);

GPUVM_ABI_SIZE(gpuvm_abi_xe_gem_mmap_offset, 40);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_mmap_offset, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_mmap_offset, handle, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_mmap_offset, flags, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_mmap_offset, offset, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_gem_mmap_offset, reserved, 24);

GPUVM_ABI_SIZE(gpuvm_abi_xe_vm_create, 32);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_create, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_create, flags, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_create, vm_id, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_create, reserved, 16);

GPUVM_ABI_SIZE(gpuvm_abi_xe_vm_destroy, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_destroy, vm_id, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_destroy, pad, 4);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_destroy, reserved, 8);

GPUVM_ABI_SIZE(gpuvm_abi_xe_vm_bind_op, 80);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, obj, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, pat_index, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, pad, 14);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, obj_offset, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, userptr, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, cpu_addr_mirror_offset, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, range, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, addr, 32);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, op, 40);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, flags, 44);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, prefetch_mem_region_instance, 48);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, pad2, 52);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind_op, reserved, 56);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_xe_vm_bind_op);

GPUVM_ABI_SIZE(gpuvm_abi_xe_vm_bind, 136);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, vm_id, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, exec_queue_id, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, pad, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, num_binds, 20);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, bind, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, vector_of_binds, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, pad2, 104);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, num_syncs, 108);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, syncs, 112);
GPUVM_ABI_OFF(gpuvm_abi_xe_vm_bind, reserved, 120);

GPUVM_ABI_SIZE(gpuvm_abi_xe_sync, 48);
GPUVM_ABI_OFF(gpuvm_abi_xe_sync, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_sync, type, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_sync, flags, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_sync, handle, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_sync, addr, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_sync, timeline_value, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_sync, reserved, 32);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_xe_sync);

GPUVM_ABI_SIZE(gpuvm_abi_xe_exec_queue_create, 48);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, width, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, num_placements, 10);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, vm_id, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, flags, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, exec_queue_id, 20);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, instances, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_create, reserved, 32);

GPUVM_ABI_SIZE(gpuvm_abi_xe_exec_queue_destroy, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_destroy, exec_queue_id, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_destroy, pad, 4);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_destroy, reserved, 8);

GPUVM_ABI_SIZE(gpuvm_abi_xe_exec_queue_get_property, 40);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_get_property, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_get_property, exec_queue_id, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_get_property, property, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_get_property, value, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec_queue_get_property, reserved, 24);

GPUVM_ABI_SIZE(gpuvm_abi_xe_exec, 56);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, exec_queue_id, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, num_syncs, 12);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, syncs, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, address, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, num_batch_buffer, 32);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, pad, 34);
GPUVM_ABI_OFF(gpuvm_abi_xe_exec, reserved, 40);

GPUVM_ABI_SIZE(gpuvm_abi_xe_wait_user_fence, 72);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, extensions, 0);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, addr, 8);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, op, 16);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, flags, 18);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, pad, 20);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, value, 24);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, mask, 32);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, timeout, 40);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, exec_queue_id, 48);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, pad2, 52);
GPUVM_ABI_OFF(gpuvm_abi_xe_wait_user_fence, reserved, 56);

#endif /* GPUVM_BIND_ABI_XE_H */
