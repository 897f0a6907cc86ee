/* SPDX-License-Identifier: MIT */
/*
 * Private parts of the driver-neutral VM_BIND core (lib/bind/batch.c,
 * vm.c, apply.c): the device, its objects, the VM and its mappings.
 */
#ifndef GPUVM_LIB_BIND_CORE_H
#define GPUVM_LIB_BIND_CORE_H

#include "bind_internal.h"

#include <gpuvm/ops.h>
#include <gpuvm/va.h>

/*
 * One buffer object of a device. The handle table holds one reference on
 * @gem, every vm_bo another (so mappings keep the object alive after its
 * handle is closed). @handle is 0 once closed; written under the device's
 * lock, read atomically.
 */
struct gpuvm__bind_bo {
	struct gpuvm_gem gem;
	struct gpuvm_allocator alloc;
	uint64_t seqno;
	uint32_t handle;
};

GPUVM_CONTAINER(struct gpuvm_gem, struct gpuvm__bind_bo, gem, gpuvm__bind_bo_of)

struct gpuvm__bind_handle {
	uint32_t handle;
	struct gpuvm__bind_bo *bo;
};

/*
 * The device: its objects by handle (sorted array), and its VMs' count.
 * @lock protects the table, @seqno, @n_vms and every gem's vm_bo list (the
 * gem's list lock of include/gpuvm/bo.h: the VMs of one device share the
 * objects, and may run in different threads).
 */
struct gpuvm_bind_dev {
	struct gpuvm_allocator alloc;
	uint32_t driver;
	const struct gpuvm__bind_codec *codec;
	pthread_mutex_t lock;
	struct gpuvm__bind_handle *handles;
	size_t n_handles, cap_handles;
	uint64_t seqno;
	size_t n_vms;
};

/* One mapping of a bind VM. */
struct gpuvm__bind_mapping {
	struct gpuva va;
	uint32_t flags; /* op flags | GPUVM_BIND_MAPPING_SPARSE */
	uint32_t driver_arg;
	/*
	 * While a batch is applied: the vm_bo a mapping it inserted is to be
	 * linked to, with a reference of its own (lib/bind/apply.c).
	 */
	struct gpuvm_bo *pend;
};

GPUVM_CONTAINER(struct gpuva, struct gpuvm__bind_mapping, va, gpuvm__bind_mapping_of)

/* A sparse region (GPUVM_BIND_CAP_SPARSE_REGIONS). */
struct gpuvm__bind_region {
	uint64_t addr, range;
};

struct gpuvm_bind_vm {
	struct gpuvm gpuvm;
	struct gpuvm_bind_dev *dev;
	struct gpuvm_allocator alloc;
	uint32_t vm_id;
	/* regions, sorted by address, never overlapping */
	struct gpuvm__bind_region *regions;
	size_t n_regions, cap_regions;
};

/*
 * Merge consecutive ops of @ops in place; returns how many went.
 * @region_vm: the VM when its driver has sparse regions (nouveau), whose
 * regions then limit what merges; NULL otherwise.
 */
size_t gpuvm__bind_coalesce(struct gpuvm_bind_op *ops, size_t n,
			    const struct gpuvm_bind_vm *region_vm);

/* The object of @handle with a new reference on its gem, or NULL. */
struct gpuvm__bind_bo *gpuvm__bind_bo_get(struct gpuvm_bind_dev *dev, uint32_t handle);

/* Index of the first region ending after @addr. */
size_t gpuvm__bind_region_first(const struct gpuvm_bind_vm *vm, uint64_t addr);

#endif /* GPUVM_LIB_BIND_CORE_H */
