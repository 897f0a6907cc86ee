/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim: the emulated panthor device (Arm Mali CSF). VM_CREATE,
 * VM_DESTROY, VM_GET_STATE, BO_CREATE and VM_BIND.
 *
 * The GPU has 48 VA bits. A VM's user range is [0, user_va_range) (0 asks
 * for the default, all but the top 4 GiB, and is answered with the range
 * chosen); the rest of the space is the kernel's, which the shadow VM keeps as its reserved region.
 * Not emulated (-ENOTTY): DEV_QUERY, BO_MMAP_OFFSET, groups, tiler heaps.
 * VM-exclusive BOs are checked to name a VM but may be bound in any.
 */
#include <errno.h>
#include <string.h>

#include "panthor.h"
#include "shim.h"

#define PT_VA_BITS 48u
#define PT_KERNEL_VA (4ull << 30)

void shim_panthor_version(int32_t v[3], const char **name, const char **desc)
{
	v[0] = 1;
	v[1] = 0;
	v[2] = 0;
	*name = "panthor";
	*desc = "gpuvm-drmshim emulated panthor";
}

static int pt_vm_create(struct shim_file *f, void *data)
{
	struct gpuvm_abi_panthor_vm_create *a = data;
	const uint64_t full = 1ull << PT_VA_BITS;
	uint64_t user = a->user_va_range;
	struct shim_vm *v;
	uint32_t id;
	int rc;

	if (a->flags)
		return -EINVAL;
	if (!user)
		user = full - PT_KERNEL_VA;
	/* Room must stay for the kernel's own mappings above the user range. */
	if (user >= full || (user & (SHIM_PAGE_SIZE - 1)))
		return -EINVAL;
	id = shim_lowest_free_id(&f->vms, sizeof(struct shim_vm), offsetof(struct shim_vm, id));
	if (!id)
		return -ENOSPC;
	rc = shim_vm_new(f, id, 0, full, user, full - user, &v);
	if (rc)
		return rc;
	a->id = id;
	a->user_va_range = user; /* the kernel returns the range it chose for 0 */
	return 0;
}

static int pt_vm_destroy(struct shim_file *f, void *data)
{
	struct gpuvm_abi_panthor_vm_destroy *a = data;
	struct shim_vm *v;

	if (a->pad)
		return -EINVAL;
	v = shim_vm_find(f, a->id);
	if (!v || !a->id)
		return -EINVAL;
	shim_vm_drop(f, v, true);
	return 0;
}

static int pt_vm_get_state(struct shim_file *f, void *data)
{
	struct gpuvm_abi_panthor_vm_get_state *a = data;

	if (!a->vm_id || !shim_vm_find(f, a->vm_id))
		return -EINVAL;
	/* Binds are synchronous and all-or-nothing: a VM never goes bad. */
	a->state = GPUVM_ABI_PANTHOR_VM_STATE_USABLE;
	return 0;
}

static int pt_bo_create(struct shim_file *f, void *data)
{
	struct gpuvm_abi_panthor_bo_create *a = data;
	uint64_t size = a->size;
	uint32_t handle;
	int rc;

	if (a->flags & ~GPUVM_ABI_PANTHOR_BO_NO_MMAP)
		return -EINVAL;
	if (a->pad)
		return -EINVAL;
	if (!size || size > UINT64_MAX - (SHIM_PAGE_SIZE - 1))
		return -EINVAL;
	if (a->exclusive_vm_id && !shim_vm_find(f, a->exclusive_vm_id))
		return -EINVAL;
	size = (size + SHIM_PAGE_SIZE - 1) & ~(uint64_t)(SHIM_PAGE_SIZE - 1);
	rc = shim_bo_new(f, size, 0, &handle);
	if (rc)
		return rc;
	a->size = size;
	a->handle = handle;
	return 0;
}

static int pt_vm_bind(struct shim_file *f, void *data)
{
	struct gpuvm_bind_batch *batch;
	struct shim_vm *v;
	uint32_t vm_id = 0;
	int rc;

	rc = shim_bind_decode(GPUVM_BIND_PANTHOR, GPUVM_ABI_PANTHOR_IOCTL_VM_BIND, data, &batch,
			      &vm_id);
	if (rc)
		return rc;
	v = vm_id ? shim_vm_find(f, vm_id) : NULL;
	rc = v ? shim_bind_apply(f, v, batch) : -EINVAL;
	gpuvm_bind_batch_destroy(batch);
	return rc;
}

#define PT(nr, type, fn) \
	{ GPUVM_ABI_PANTHOR_NR_##nr, GPUVM_ABI_IOC_RW, sizeof(struct type), fn }

static const struct shim_ioctl pt_ioctls[] = {
	PT(VM_CREATE, gpuvm_abi_panthor_vm_create, pt_vm_create),
	PT(VM_DESTROY, gpuvm_abi_panthor_vm_destroy, pt_vm_destroy),
	PT(VM_BIND, gpuvm_abi_panthor_vm_bind, pt_vm_bind),
	PT(VM_GET_STATE, gpuvm_abi_panthor_vm_get_state, pt_vm_get_state),
	PT(BO_CREATE, gpuvm_abi_panthor_bo_create, pt_bo_create),
};

const struct shim_ioctl *shim_panthor_ioctl(uint32_t nr)
{
	size_t i;

	for (i = 0; i < sizeof(pt_ioctls) / sizeof(pt_ioctls[0]); i++)
		if (pt_ioctls[i].nr == nr)
			return &pt_ioctls[i];
	return NULL;
}
