/* SPDX-License-Identifier: MIT */
/*
 * nouveau driver ABI for the VM_BIND path (NVK): VM init, VM_BIND, EXEC,
 * GEM_NEW/GEM_INFO and the parameter query. Our own declarations from the
 * layout facts of the nouveau uAPI (include/uapi/drm/nouveau_drm.h); sizes
 * and offsets are pinned below.
 *
 * Rules of the kernel that an encoder or decoder must follow:
 *  - VM_INIT must come before any BO or channel is created on the file;
 *    afterwards it fails with -ENOSYS. It splits the VA space: the range
 *    [kernel_managed_addr, +kernel_managed_size) stays the kernel's, the
 *    rest is the UMD's to bind.
 *  - VM_BIND's op_ptr points to op_count consecutive 40-byte operations;
 *    wait_ptr and sig_ptr to wait_count / sig_count 16-byte syncs. No
 *    stride fields: element sizes are fixed.
 *  - without RUN_ASYNC the binds run synchronously and no syncs are
 *    accepted.
 *  - MAP with SPARSE asks for a sparse VA region; an UNMAP of a BO mapping
 *    inside a sparse region leaves sparse mappings behind; UNMAP with
 *    SPARSE removes the region itself.
 */
#ifndef GPUVM_BIND_ABI_NOUVEAU_H
#define GPUVM_BIND_ABI_NOUVEAU_H

#include "drm_common.h"

/* ---- driver ioctl numbers, relative to the command base -------------------- */

#define GPUVM_ABI_NOUVEAU_NR_GETPARAM 0x00u
#define GPUVM_ABI_NOUVEAU_NR_VM_INIT 0x10u
#define GPUVM_ABI_NOUVEAU_NR_VM_BIND 0x11u
#define GPUVM_ABI_NOUVEAU_NR_EXEC 0x12u
#define GPUVM_ABI_NOUVEAU_NR_GEM_NEW 0x40u
#define GPUVM_ABI_NOUVEAU_NR_GEM_CPU_PREP 0x42u
#define GPUVM_ABI_NOUVEAU_NR_GEM_CPU_FINI 0x43u
#define GPUVM_ABI_NOUVEAU_NR_GEM_INFO 0x44u

/* ---- parameter query --------------------------------------------------------- */

#define GPUVM_ABI_NOUVEAU_PARAM_PCI_VENDOR 3u
#define GPUVM_ABI_NOUVEAU_PARAM_PCI_DEVICE 4u
#define GPUVM_ABI_NOUVEAU_PARAM_BUS_TYPE 5u
#define GPUVM_ABI_NOUVEAU_PARAM_FB_SIZE 8u
#define GPUVM_ABI_NOUVEAU_PARAM_AGP_SIZE 9u
#define GPUVM_ABI_NOUVEAU_PARAM_CHIPSET_ID 11u
#define GPUVM_ABI_NOUVEAU_PARAM_VM_VRAM_BASE 12u
#define GPUVM_ABI_NOUVEAU_PARAM_GRAPH_UNITS 13u
#define GPUVM_ABI_NOUVEAU_PARAM_PTIMER_TIME 14u
#define GPUVM_ABI_NOUVEAU_PARAM_HAS_BO_USAGE 15u
#define GPUVM_ABI_NOUVEAU_PARAM_HAS_PAGEFLIP 16u
#define GPUVM_ABI_NOUVEAU_PARAM_EXEC_PUSH_MAX 17u
#define GPUVM_ABI_NOUVEAU_PARAM_VRAM_BAR_SIZE 18u
#define GPUVM_ABI_NOUVEAU_PARAM_VRAM_USED 19u
#define GPUVM_ABI_NOUVEAU_PARAM_HAS_VMA_TILEMODE 20u

struct gpuvm_abi_nouveau_getparam {
	uint64_t param;
	uint64_t value; /* out */
};

/* ---- GEM ------------------------------------------------------------------------ */

#define GPUVM_ABI_NOUVEAU_GEM_DOMAIN_CPU (1u << 0)
#define GPUVM_ABI_NOUVEAU_GEM_DOMAIN_VRAM (1u << 1)
#define GPUVM_ABI_NOUVEAU_GEM_DOMAIN_GART (1u << 2)
#define GPUVM_ABI_NOUVEAU_GEM_DOMAIN_MAPPABLE (1u << 3)
#define GPUVM_ABI_NOUVEAU_GEM_DOMAIN_COHERENT (1u << 4)
#define GPUVM_ABI_NOUVEAU_GEM_DOMAIN_NO_SHARE (1u << 5) /* never imported or exported */

/* BO description: filled in by GEM_NEW (in: domain, size, tile_*) and GEM_INFO. */
struct gpuvm_abi_nouveau_gem_info {
	uint32_t handle;
	uint32_t domain;
	uint64_t size;
	uint64_t offset;     /* GPU address on the legacy (non VM_BIND) path */
	uint64_t map_handle; /* mmap offset */
	uint32_t tile_mode;
	uint32_t tile_flags;
};

struct gpuvm_abi_nouveau_gem_new {
	struct gpuvm_abi_nouveau_gem_info info;
	uint32_t channel_hint;
	uint32_t align;
};

#define GPUVM_ABI_NOUVEAU_GEM_CPU_PREP_NOWAIT 0x1u
#define GPUVM_ABI_NOUVEAU_GEM_CPU_PREP_WRITE 0x4u

struct gpuvm_abi_nouveau_gem_cpu_prep {
	uint32_t handle;
	uint32_t flags;
};

struct gpuvm_abi_nouveau_gem_cpu_fini {
	uint32_t handle;
};

/* ---- syncs ------------------------------------------------------------------------ */

/* The type lives in the low bits of 'flags'. */
#define GPUVM_ABI_NOUVEAU_SYNC_SYNCOBJ 0x0u
#define GPUVM_ABI_NOUVEAU_SYNC_TIMELINE_SYNCOBJ 0x1u
#define GPUVM_ABI_NOUVEAU_SYNC_TYPE_MASK 0xfu

struct gpuvm_abi_nouveau_sync {
	uint32_t flags;
	uint32_t handle;	 /* syncobj handle */
	uint64_t timeline_value; /* timeline syncobjs only */
};

/* ---- VM ------------------------------------------------------------------------- */

struct gpuvm_abi_nouveau_vm_init {
	uint64_t kernel_managed_addr;
	uint64_t kernel_managed_size;
};

#define GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP 0x0u
#define GPUVM_ABI_NOUVEAU_VM_BIND_OP_UNMAP 0x1u

/* Per-operation flag: the operation creates or removes a sparse region. */
#define GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE (1u << 8)

struct gpuvm_abi_nouveau_vm_bind_op {
	uint32_t op;
	uint32_t flags;
	uint32_t handle; /* GEM handle of the BO to map */
	uint32_t pad;	 /* must be zero */
	uint64_t addr;
	uint64_t bo_offset;
	uint64_t range;
};

/* Per-ioctl flag: queue the binds; only then are syncs accepted. */
#define GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC 0x1u

struct gpuvm_abi_nouveau_vm_bind {
	uint32_t op_count;
	uint32_t flags;
	uint32_t wait_count;
	uint32_t sig_count;
	uint64_t wait_ptr; /* user pointer to wait_count syncs */
	uint64_t sig_ptr;  /* user pointer to sig_count syncs */
	uint64_t op_ptr;   /* user pointer to op_count operations */
};

/* ---- EXEC --------------------------------------------------------------------- */

#define GPUVM_ABI_NOUVEAU_EXEC_PUSH_NO_PREFETCH 0x1u

struct gpuvm_abi_nouveau_exec_push {
	uint64_t va; /* GPU address of a push buffer */
	uint32_t va_len;
	uint32_t flags;
};

struct gpuvm_abi_nouveau_exec {
	uint32_t channel;
	uint32_t push_count;
	uint32_t wait_count;
	uint32_t sig_count;
	uint64_t wait_ptr;
	uint64_t sig_ptr;
	uint64_t push_ptr; /* user pointer to push_count pushes */
};

/* ---- full ioctl commands ---------------------------------------------------- */

#define GPUVM_ABI_NOUVEAU_IOCTL_SIZED(dir, nr, size) \
	GPUVM_ABI_IOC(dir, GPUVM_ABI_DRM_IOCTL_TYPE, GPUVM_ABI_DRM_COMMAND_BASE + (nr), size)
#define GPUVM_ABI_NOUVEAU_IOCTL(dir, nr, tag) \
	GPUVM_ABI_NOUVEAU_IOCTL_SIZED(dir, nr, sizeof(struct tag))

#define GPUVM_ABI_NOUVEAU_IOCTL_GETPARAM                                         \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_NOUVEAU_NR_GETPARAM, \
				gpuvm_abi_nouveau_getparam)
#define GPUVM_ABI_NOUVEAU_IOCTL_VM_INIT                                         \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_NOUVEAU_NR_VM_INIT, \
				gpuvm_abi_nouveau_vm_init)
#define GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND                                         \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_NOUVEAU_NR_VM_BIND, \
				gpuvm_abi_nouveau_vm_bind)
#define GPUVM_ABI_NOUVEAU_IOCTL_EXEC \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_NOUVEAU_NR_EXEC, gpuvm_abi_nouveau_exec)
#define GPUVM_ABI_NOUVEAU_IOCTL_GEM_NEW                                         \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_NOUVEAU_NR_GEM_NEW, \
				gpuvm_abi_nouveau_gem_new)
#define GPUVM_ABI_NOUVEAU_IOCTL_GEM_CPU_PREP                                        \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_W, GPUVM_ABI_NOUVEAU_NR_GEM_CPU_PREP, \
				gpuvm_abi_nouveau_gem_cpu_prep)
#define GPUVM_ABI_NOUVEAU_IOCTL_GEM_CPU_FINI                                        \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_W, GPUVM_ABI_NOUVEAU_NR_GEM_CPU_FINI, \
				gpuvm_abi_nouveau_gem_cpu_fini)
#define GPUVM_ABI_NOUVEAU_IOCTL_GEM_INFO                                         \
	GPUVM_ABI_NOUVEAU_IOCTL(GPUVM_ABI_IOC_RW, GPUVM_ABI_NOUVEAU_NR_GEM_INFO, \
				gpuvm_abi_nouveau_gem_info)

/* ---- layout pins ------------------------------------------------------------ */

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_getparam, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_getparam, param, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_getparam, value, 8);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_gem_info, 40);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_info, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_info, domain, 4);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_info, size, 8);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_info, offset, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_info, map_handle, 24);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_info, tile_mode, 32);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_info, tile_flags, 36);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_gem_new, 48);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_new, info, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_new, channel_hint, 40);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_new, align, 44);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_gem_cpu_prep, 8);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_cpu_prep, handle, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_cpu_prep, flags, 4);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_gem_cpu_fini, 4);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_gem_cpu_fini, handle, 0);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_sync, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_sync, flags, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_sync, handle, 4);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_sync, timeline_value, 8);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_nouveau_sync);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_vm_init, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_init, kernel_managed_addr, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_init, kernel_managed_size, 8);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_vm_bind_op, 40);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind_op, op, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind_op, flags, 4);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind_op, handle, 8);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind_op, pad, 12);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind_op, addr, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind_op, bo_offset, 24);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind_op, range, 32);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_nouveau_vm_bind_op);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_vm_bind, 40);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind, op_count, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind, flags, 4);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind, wait_count, 8);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind, sig_count, 12);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind, wait_ptr, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind, sig_ptr, 24);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_vm_bind, op_ptr, 32);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_exec_push, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec_push, va, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec_push, va_len, 8);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec_push, flags, 12);
GPUVM_ABI_ALIGN_U64(gpuvm_abi_nouveau_exec_push);

GPUVM_ABI_SIZE(gpuvm_abi_nouveau_exec, 40);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec, channel, 0);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec, push_count, 4);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec, wait_count, 8);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec, sig_count, 12);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec, wait_ptr, 16);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec, sig_ptr, 24);
GPUVM_ABI_OFF(gpuvm_abi_nouveau_exec, push_ptr, 32);

#endif /* GPUVM_BIND_ABI_NOUVEAU_H */
