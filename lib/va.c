/* SPDX-License-Identifier: MIT */
/* struct gpuva: insert/remove, lookups, iteration, link/unlink. */
#include "internal.h"
#include "index.h"

#include <string.h>

void gpuva_init(struct gpuva *va, uint64_t addr, uint64_t range, struct gpuvm_gem *obj,
		uint64_t offset)
{
	memset(va, 0, sizeof(*va));
	va->va.addr = addr;
	va->va.range = range;
	va->gem.offset = offset;
	va->gem.owner_ = (uintptr_t)obj;
}

int gpuvm__va_insert(struct gpuvm *vm, struct gpuva *va, bool use_reserve)
{
	int ret;

	if (va->state_ & GPUVA__STATE_INSERTED)
		return -EBUSY;
	if (!gpuvm_range_valid(vm, va->va.addr, va->va.range))
		return -EINVAL;
	/* removed but still linked: its vm_bo is of the VM it was removed from */
	if (gpuva_vm_bo(va) && gpuva_vm_bo(va)->vm != vm)
		return -EINVAL;
	ret = gpuvm__index_insert(&vm->index, &vm->alloc, va, use_reserve);
	if (ret)
		return ret;
	va->vm = vm;
	va->state_ |= GPUVA__STATE_INSERTED;
	GPUVM__VERIFY(vm);
	return 0;
}

int gpuva_insert(struct gpuvm *vm, struct gpuva *va)
{
	if (!vm || !va)
		return -EINVAL;
	return gpuvm__va_insert(vm, va, false);
}

int gpuva_remove(struct gpuva *va)
{
	if (!va)
		return -EINVAL;
	if (!(va->state_ & GPUVA__STATE_INSERTED) || !va->vm)
		return -ENOENT;
	gpuvm__index_remove(&va->vm->index, va);
	va->state_ &= ~GPUVA__STATE_INSERTED;
	GPUVM__VERIFY(va->vm);
	return 0;
}

/* [addr, addr + range) as the index wants it: end 0 stands for 2^64. */
static uint64_t clamp_end(uint64_t addr, uint64_t range)
{
	return range > UINT64_MAX - addr ? 0 : addr + range;
}

struct gpuva *gpuva_find_first(const struct gpuvm *vm, uint64_t addr, uint64_t range)
{
	if (!vm || !range)
		return NULL;
	return gpuvm__index_first_overlap(&vm->index, addr, clamp_end(addr, range));
}

struct gpuva *gpuva_find(const struct gpuvm *vm, uint64_t addr, uint64_t range)
{
	struct gpuva *va;

	if (!vm)
		return NULL;
	va = gpuvm__index_lookup(&vm->index, addr);
	return va && va->va.range == range ? va : NULL;
}

struct gpuva *gpuva_find_prev(const struct gpuvm *vm, uint64_t start)
{
	if (!vm || !start)
		return NULL;
	return gpuvm__index_first_overlap(&vm->index, start - 1, start);
}

struct gpuva *gpuva_find_next(const struct gpuvm *vm, uint64_t end)
{
	if (!vm || end == UINT64_MAX)
		return NULL;
	return gpuvm__index_first_overlap(&vm->index, end, end + 1);
}

struct gpuva *gpuva_range_first(const struct gpuvm *vm, uint64_t start, uint64_t end)
{
	if (!vm || (end && end <= start))
		return NULL;
	return gpuvm__index_first_overlap(&vm->index, start, end);
}

struct gpuva *gpuva_range_next(const struct gpuva *va, uint64_t end)
{
	struct gpuva *next;

	if (!va || !va->vm)
		return NULL;
	next = gpuvm__index_next_after(&va->vm->index, va->va.addr);
	if (next && end && next->va.addr >= end)
		return NULL;
	return next;
}

int gpuva_link(struct gpuva *va, struct gpuvm_bo *vm_bo)
{
	struct gpuvm_gem *obj;

	if (!va || !vm_bo)
		return -EINVAL;
	if (gpuva_vm_bo(va))
		return -EBUSY;
	obj = gpuva_gem(va);
	/* va->vm outlives a removal: only the inserted state proves the VM */
	/* a zombie (no references) waits for the cleanup: linking would revive it */
	if (!obj || vm_bo->obj != obj || !(va->state_ & GPUVA__STATE_INSERTED) ||
	    va->vm != vm_bo->vm || gpuvm_bo_is_zombie(vm_bo))
		return -EINVAL;
	gpuvm_bo_get(vm_bo);
	gpuvm_list_add_tail(&va->gem.entry, &vm_bo->list.gpuva);
	va->gem.owner_ = (uintptr_t)vm_bo | GPUVA__OWNER_IS_VM_BO;
	GPUVM__VERIFY(va->vm);
	return 0;
}

int gpuva_unlink(struct gpuva *va)
{
	struct gpuvm_bo *vm_bo;

	if (!va)
		return -EINVAL;
	vm_bo = gpuva_vm_bo(va);
	if (!vm_bo)
		return -ENOENT;
	gpuvm_list_del(&va->gem.entry);
	va->gem.owner_ = (uintptr_t)vm_bo->obj;
	gpuvm_bo_put(vm_bo);
	/* the put may have dropped the last VM reference; only an inserted
	 * mapping proves the VM is still there */
	if (va->state_ & GPUVA__STATE_INSERTED)
		GPUVM__VERIFY(va->vm);
	return 0;
}

int gpuva_unlink_defer(struct gpuva *va)
{
	struct gpuvm_bo *vm_bo;
	struct gpuvm_gem *obj;
	struct gpuvm *vm;
	bool zombie;
	int ret;

	if (!va)
		return -EINVAL;
	vm_bo = gpuva_vm_bo(va);
	if (!vm_bo)
		return -ENOENT;
	vm = vm_bo->vm;
	if (!gpuvm_immediate_mode(vm))
		return gpuvm__wrong_mode(vm, "gpuva_unlink_defer");
	obj = vm_bo->obj;
	ret = gpuvm_gem_gpuva_lock(obj);
	if (ret)
		return ret;
	gpuvm_list_del(&va->gem.entry);
	va->gem.owner_ = (uintptr_t)obj;
	zombie = gpuvm__bo_put_locked_deferred(vm_bo);
	gpuvm_gem_gpuva_unlock(obj);
	/*
	 * Pushed after the unlock, never before: once on the stack the zombie
	 * may be freed by a cleanup in another thread, and with it the last
	 * reference of the gem whose mutex was held (see
	 * gpuvm_bo_put_deferred()).
	 */
	if (zombie)
		gpuvm__defer_push(vm, vm_bo);
	/* as in gpuva_unlink(): only an inserted mapping proves the VM is still there */
	if (va->state_ & GPUVA__STATE_INSERTED)
		GPUVM__VERIFY(va->vm);
	return 0;
}
