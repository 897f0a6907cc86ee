/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim: the emulated nouveau device (the VM_BIND uAPI that NVK
 * uses). GETPARAM (a few), GEM_NEW, GEM_INFO, VM_INIT and VM_BIND.
 *
 * Kernel rules kept: VM_INIT must come before any BO of the file (a
 * GEM_NEW first disables it: -ENOSYS), VM_BIND before VM_INIT is -ENOSYS,
 * the VA space is [0, 1 << 47) with the kernel-managed region reserved.
 * Deviation: a second VM_INIT is -EEXIST (the kernel code seen has no such
 * check and would replace the file's VM).
 * Not emulated (-ENOTTY): EXEC, GEM_CPU_PREP/FINI, channels.
 */
#include <errno.h>
#include <string.h>

#include "nouveau.h"
#include "shim.h"

#define NV_VA_BITS 47u
#define NV_VRAM_SIZE (8ull << 30)

void shim_nouveau_version(int32_t v[3], const char **name, const char **desc)
{
	v[0] = 1;
	v[1] = 4;
	v[2] = 0;
	*name = "nouveau";
	*desc = "gpuvm-drmshim emulated nouveau";
}

static int nv_getparam(struct shim_file *f, void *data)
{
	struct gpuvm_abi_nouveau_getparam *a = data;

	(void)f;
	switch (a->param) {
	case GPUVM_ABI_NOUVEAU_PARAM_PCI_VENDOR:
		a->value = 0x10de;
		break;
	case GPUVM_ABI_NOUVEAU_PARAM_PCI_DEVICE:
		a->value = 0x2684; /* an AD102; only reported */
		break;
	case GPUVM_ABI_NOUVEAU_PARAM_BUS_TYPE:
		a->value = 2; /* PCIe */
		break;
	case GPUVM_ABI_NOUVEAU_PARAM_FB_SIZE:
	case GPUVM_ABI_NOUVEAU_PARAM_VRAM_BAR_SIZE:
		a->value = NV_VRAM_SIZE;
		break;
	case GPUVM_ABI_NOUVEAU_PARAM_CHIPSET_ID:
		a->value = 0x192;
		break;
	case GPUVM_ABI_NOUVEAU_PARAM_HAS_BO_USAGE:
	case GPUVM_ABI_NOUVEAU_PARAM_HAS_VMA_TILEMODE:
		a->value = 1;
		break;
	case GPUVM_ABI_NOUVEAU_PARAM_VRAM_USED:
		a->value = 0;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int nv_gem_new(struct shim_file *f, void *data)
{
	struct gpuvm_abi_nouveau_gem_new *a = data;
	uint64_t size = a->info.size;
	uint32_t handle;
	int rc;

	if (!size || size > UINT64_MAX - (SHIM_PAGE_SIZE - 1))
		return -EINVAL;
	size = (size + SHIM_PAGE_SIZE - 1) & ~(uint64_t)(SHIM_PAGE_SIZE - 1);
	rc = shim_bo_new(f, size, a->info.domain, &handle);
	if (rc)
		return rc;
	/* A BO before VM_INIT: the file uses the legacy VM, VM_INIT is gone. */
	if (!shim_vm_find(f, 0))
		f->nv_uvmm_disabled = true;
	a->info.handle = handle;
	a->info.size = size;
	a->info.offset = 0;
	a->info.map_handle = (uint64_t)handle << 32; /* a fake mmap offset */
	return 0;
}

static int nv_gem_info(struct shim_file *f, void *data)
{
	struct gpuvm_abi_nouveau_gem_info *a = data;
	struct shim_bo *b = shim_bo_find(f, a->handle);

	if (!b)
		return -ENOENT;
	a->domain = b->domain;
	a->size = b->size;
	a->offset = 0;
	a->map_handle = (uint64_t)b->handle << 32;
	return 0;
}

static int nv_vm_init(struct shim_file *f, void *data)
{
	struct gpuvm_abi_nouveau_vm_init *a = data;
	struct shim_vm *v;
	uint64_t end;

	if (__builtin_add_overflow(a->kernel_managed_addr, a->kernel_managed_size, &end))
		return -EINVAL;
	if (end > (1ull << NV_VA_BITS))
		return -EINVAL;
	if (f->nv_uvmm_disabled)
		return -ENOSYS;
	if (shim_vm_find(f, 0))
		return -EEXIST;
	/* gpuvm_bind_vm_create() refuses an unaligned region with -EINVAL. */
	return shim_vm_new(f, 0, 0, 1ull << NV_VA_BITS, a->kernel_managed_addr,
			   a->kernel_managed_size, &v);
}

static int nv_vm_bind(struct shim_file *f, void *data)
{
	struct gpuvm_bind_batch *batch;
	struct shim_vm *v = shim_vm_find(f, 0);
	uint32_t vm_id = 0;
	int rc;

	if (!v)
		return -ENOSYS; /* no VM_INIT yet: the kernel's first check */
	rc = shim_bind_decode(GPUVM_BIND_NOUVEAU, GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND, data, &batch,
			      &vm_id);
	if (rc)
		return rc;
	rc = shim_bind_apply(f, v, batch);
	gpuvm_bind_batch_destroy(batch);
	return rc;
}

#define NV(nr, dir, type, fn) \
	{ GPUVM_ABI_NOUVEAU_NR_##nr, GPUVM_ABI_IOC_##dir, sizeof(struct type), fn }

static const struct shim_ioctl nv_ioctls[] = {
	NV(GETPARAM, RW, gpuvm_abi_nouveau_getparam, nv_getparam),
	NV(VM_INIT, RW, gpuvm_abi_nouveau_vm_init, nv_vm_init),
	NV(VM_BIND, RW, gpuvm_abi_nouveau_vm_bind, nv_vm_bind),
	NV(GEM_NEW, RW, gpuvm_abi_nouveau_gem_new, nv_gem_new),
	NV(GEM_INFO, RW, gpuvm_abi_nouveau_gem_info, nv_gem_info),
};

const struct shim_ioctl *shim_nouveau_ioctl(uint32_t nr)
{
	size_t i;

	for (i = 0; i < sizeof(nv_ioctls) / sizeof(nv_ioctls[0]); i++)
		if (nv_ioctls[i].nr == nr)
			return &nv_ioctls[i];
	return NULL;
}
