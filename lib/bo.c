/* SPDX-License-Identifier: MIT */
/* struct gpuvm_gem and struct gpuvm_bo: references, create/find/obtain/put. */
#include "internal.h"

#include <string.h>

int gpuvm_gem_init(struct gpuvm_gem *obj, const struct gpuvm_gem_opts *opts)
{
	int ret;

	if (!obj || !opts || !gpuvm__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	memset(obj, 0, sizeof(*obj));
	ret = pthread_mutex_init(&obj->gpuva.lock, NULL);
	if (ret)
		return -ret;
	obj->size = opts->size;
	obj->refcount = 1;
	obj->funcs = opts->funcs;
	obj->resv = opts->resv;
	gpuvm_list_init(&obj->gpuva.list);
	return 0;
}

int gpuvm_gem_fini(struct gpuvm_gem *obj)
{
	if (!obj)
		return -EINVAL;
	if (!gpuvm_list_empty(&obj->gpuva.list))
		return -EBUSY;
	pthread_mutex_destroy(&obj->gpuva.lock);
	return 0;
}

struct gpuvm_gem *gpuvm_gem_get(struct gpuvm_gem *obj)
{
	if (obj)
		__atomic_fetch_add(&obj->refcount, 1, __ATOMIC_RELAXED);
	return obj;
}

void gpuvm_gem_put(struct gpuvm_gem *obj)
{
	if (!obj || __atomic_sub_fetch(&obj->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	if (obj->funcs && obj->funcs->free)
		obj->funcs->free(obj);
	else
		gpuvm_gem_fini(obj);
}

int gpuvm_bo_create(struct gpuvm *vm, struct gpuvm_gem *obj, struct gpuvm_bo **out)
{
	struct gpuvm_bo *vm_bo;

	if (!vm || !obj || !out)
		return -EINVAL;
	if (vm->ops && vm->ops->vm_bo_alloc)
		vm_bo = vm->ops->vm_bo_alloc(vm);
	else
		vm_bo = gpuvm__zalloc(&vm->alloc, sizeof(*vm_bo), _Alignof(struct gpuvm_bo));
	if (!vm_bo)
		return -ENOMEM;
	vm_bo->vm = gpuvm_get(vm);
	vm_bo->obj = gpuvm_gem_get(obj);
	vm_bo->refcount = 1;
	vm_bo->evicted = false;
	gpuvm_list_init(&vm_bo->list.gpuva);
	vm_bo->list.entry.gem.next = vm_bo->list.entry.gem.prev = NULL;
	vm_bo->list.entry.extobj.next = vm_bo->list.entry.extobj.prev = NULL;
	vm_bo->list.entry.evict.next = vm_bo->list.entry.evict.prev = NULL;
	vm_bo->list.entry.bo_defer.next_ = NULL;
	*out = vm_bo;
	return 0;
}

struct gpuvm_bo *gpuvm_bo_find(struct gpuvm *vm, struct gpuvm_gem *obj)
{
	struct gpuvm_bo *vm_bo;

	if (!vm || !obj)
		return NULL;
	gpuvm_gem_for_each_vm_bo(vm_bo, obj)
		if (vm_bo->vm == vm)
			return gpuvm_bo_get(vm_bo);
	return NULL;
}

int gpuvm_bo_obtain(struct gpuvm *vm, struct gpuvm_gem *obj, struct gpuvm_bo **out)
{
	struct gpuvm_bo *vm_bo;
	int ret;

	if (!vm || !obj || !out)
		return -EINVAL;
	vm_bo = gpuvm_bo_find(vm, obj);
	if (!vm_bo) {
		ret = gpuvm_bo_create(vm, obj, &vm_bo);
		if (ret)
			return ret;
		gpuvm_list_add_tail(&vm_bo->list.entry.gem, &obj->gpuva.list);
	}
	*out = vm_bo;
	return 0;
}

struct gpuvm_bo *gpuvm_bo_get(struct gpuvm_bo *vm_bo)
{
	if (vm_bo)
		__atomic_fetch_add(&vm_bo->refcount, 1, __ATOMIC_RELAXED);
	return vm_bo;
}

static void vm_bo_destroy(struct gpuvm_bo *vm_bo)
{
	struct gpuvm *vm = vm_bo->vm;
	struct gpuvm_gem *obj = vm_bo->obj;

	if (gpuvm_list_linked(&vm_bo->list.entry.gem))
		gpuvm_list_del(&vm_bo->list.entry.gem);
	if (vm->ops && vm->ops->vm_bo_free)
		vm->ops->vm_bo_free(vm_bo);
	else
		gpuvm__free(&vm->alloc, vm_bo, sizeof(*vm_bo));
	/*
	 * Drop the VM's reference before the object's (the kernel's order too):
	 * the VM's vm_free callback may still use this object, e.g. as r_obj.
	 */
	gpuvm_put(vm);
	gpuvm_gem_put(obj);
}

bool gpuvm_bo_put(struct gpuvm_bo *vm_bo)
{
	if (!vm_bo || __atomic_sub_fetch(&vm_bo->refcount, 1, __ATOMIC_ACQ_REL))
		return false;
	vm_bo_destroy(vm_bo);
	return true;
}
