/* SPDX-License-Identifier: MIT */
/*
 * The bind device (its buffer objects by handle), the bind VM, and the
 * queries on a VM's shadow: lookup, for_each, residency.
 */
#include "core.h"

#include <string.h>

/* ---- device ---- */

static bool alloc_ok(const struct gpuvm_allocator *a)
{
	return !a || !a->alloc == !a->free;
}

int gpuvm_bind_dev_create(const struct gpuvm_bind_dev_opts *opts, struct gpuvm_bind_dev **out)
{
	const struct gpuvm__bind_codec *codec;
	struct gpuvm_allocator a = { 0 };
	struct gpuvm_bind_dev *dev;
	int ret;

	if (!opts || !out || !gpuvm__opts_valid(opts, sizeof(*opts)) || !alloc_ok(opts->alloc))
		return -EINVAL;
	codec = gpuvm__bind_codec(opts->driver);
	if (!codec)
		return -EINVAL;
	if (opts->alloc)
		a = *opts->alloc;
	dev = gpuvm__zalloc(&a, sizeof(*dev), _Alignof(struct gpuvm_bind_dev));
	if (!dev)
		return -ENOMEM;
	ret = pthread_mutex_init(&dev->lock, NULL);
	if (ret) {
		gpuvm__free(&a, dev, sizeof(*dev));
		return -ret;
	}
	dev->alloc = a;
	dev->driver = opts->driver;
	dev->codec = codec;
	*out = dev;
	return 0;
}

int gpuvm_bind_dev_destroy(struct gpuvm_bind_dev *dev)
{
	struct gpuvm_allocator a;

	if (!dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	if (dev->n_vms) {
		pthread_mutex_unlock(&dev->lock);
		return -EBUSY;
	}
	for (size_t i = 0; i < dev->n_handles; i++) {
		__atomic_store_n(&dev->handles[i].bo->handle, 0, __ATOMIC_RELAXED);
		gpuvm_gem_put(&dev->handles[i].bo->gem);
	}
	pthread_mutex_unlock(&dev->lock);
	a = dev->alloc;
	pthread_mutex_destroy(&dev->lock);
	gpuvm__free(&a, dev->handles, dev->cap_handles * sizeof(*dev->handles));
	gpuvm__free(&a, dev, sizeof(*dev));
	return 0;
}

uint32_t gpuvm_bind_dev_driver(const struct gpuvm_bind_dev *dev)
{
	return dev ? dev->driver : 0;
}

/* ---- objects ---- */

static void bo_free(struct gpuvm_gem *obj)
{
	struct gpuvm__bind_bo *bo = gpuvm__bind_bo_of(obj);
	struct gpuvm_allocator a = bo->alloc;

	gpuvm_gem_fini(obj);
	gpuvm__free(&a, bo, sizeof(*bo));
}

static const struct gpuvm_gem_funcs bo_funcs = {
	.free = bo_free,
};

/* Position of @handle in the sorted table, or where it would go. */
static size_t handle_pos(const struct gpuvm_bind_dev *dev, uint32_t handle)
{
	size_t lo = 0, hi = dev->n_handles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dev->handles[mid].handle < handle)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct gpuvm__bind_bo *handle_find(const struct gpuvm_bind_dev *dev, uint32_t handle)
{
	size_t i = handle_pos(dev, handle);

	return i < dev->n_handles && dev->handles[i].handle == handle ? dev->handles[i].bo : NULL;
}

struct gpuvm__bind_bo *gpuvm__bind_bo_get(struct gpuvm_bind_dev *dev, uint32_t handle)
{
	struct gpuvm__bind_bo *bo;

	pthread_mutex_lock(&dev->lock);
	bo = handle_find(dev, handle);
	if (bo)
		gpuvm_gem_get(&bo->gem);
	pthread_mutex_unlock(&dev->lock);
	return bo;
}

int gpuvm_bind_bo_add(struct gpuvm_bind_dev *dev, uint32_t handle, uint64_t size, uint64_t *seqno)
{
	uint64_t page;
	struct gpuvm__bind_bo *bo;
	size_t pos;
	int ret;

	if (!dev || !handle || !size)
		return -EINVAL;
	page = dev->codec->info.page_size;
	if (page && size % page)
		return -EINVAL;
	bo = gpuvm__zalloc(&dev->alloc, sizeof(*bo), _Alignof(struct gpuvm__bind_bo));
	if (!bo)
		return -ENOMEM;
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = size, .funcs = &bo_funcs);
	ret = gpuvm_gem_init(&bo->gem, &gopts);
	if (ret) {
		gpuvm__free(&dev->alloc, bo, sizeof(*bo));
		return ret;
	}
	bo->alloc = dev->alloc;
	bo->handle = handle;

	pthread_mutex_lock(&dev->lock);
	pos = handle_pos(dev, handle);
	if (pos < dev->n_handles && dev->handles[pos].handle == handle) {
		ret = -EEXIST;
		goto fail;
	}
	if (dev->n_handles == dev->cap_handles) {
		size_t cap = dev->cap_handles ? dev->cap_handles * 2 : 16;
		struct gpuvm__bind_handle *h;

		h = gpuvm__alloc(&dev->alloc, cap * sizeof(*h),
				 _Alignof(struct gpuvm__bind_handle));
		if (!h) {
			ret = -ENOMEM;
			goto fail;
		}
		if (dev->n_handles)
			memcpy(h, dev->handles, dev->n_handles * sizeof(*h));
		gpuvm__free(&dev->alloc, dev->handles, dev->cap_handles * sizeof(*h));
		dev->handles = h;
		dev->cap_handles = cap;
	}
	memmove(&dev->handles[pos + 1], &dev->handles[pos],
		(dev->n_handles - pos) * sizeof(*dev->handles));
	dev->handles[pos] = (struct gpuvm__bind_handle){ .handle = handle, .bo = bo };
	dev->n_handles++;
	bo->seqno = ++dev->seqno;
	if (seqno)
		*seqno = bo->seqno;
	pthread_mutex_unlock(&dev->lock);
	return 0;

fail:
	pthread_mutex_unlock(&dev->lock);
	gpuvm_gem_put(&bo->gem);
	return ret;
}

int gpuvm_bind_bo_remove(struct gpuvm_bind_dev *dev, uint32_t handle)
{
	struct gpuvm__bind_bo *bo;
	size_t pos;

	if (!dev || !handle)
		return dev ? -ENOENT : -EINVAL;
	pthread_mutex_lock(&dev->lock);
	pos = handle_pos(dev, handle);
	if (pos >= dev->n_handles || dev->handles[pos].handle != handle) {
		pthread_mutex_unlock(&dev->lock);
		return -ENOENT;
	}
	bo = dev->handles[pos].bo;
	memmove(&dev->handles[pos], &dev->handles[pos + 1],
		(dev->n_handles - pos - 1) * sizeof(*dev->handles));
	dev->n_handles--;
	__atomic_store_n(&bo->handle, 0, __ATOMIC_RELAXED);
	/* under the lock: the last put takes the gem off no list, but frees */
	gpuvm_gem_put(&bo->gem);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* ---- VM ---- */

extern const struct gpuvm_ops gpuvm__bind_vm_ops;

static bool aligned(uint64_t v, uint64_t page)
{
	return !page || v % page == 0;
}

int gpuvm_bind_vm_create(struct gpuvm_bind_dev *dev, const struct gpuvm_bind_vm_opts *opts,
			 struct gpuvm_bind_vm **out)
{
	struct gpuvm_allocator a;
	struct gpuvm_bind_vm *vm;
	uint64_t page;
	int ret;

	if (!dev || !opts || !out || !gpuvm__opts_valid(opts, sizeof(*opts)) ||
	    !alloc_ok(opts->alloc))
		return -EINVAL;
	page = dev->codec->info.page_size;
	if (!opts->range || opts->range > UINT64_MAX - opts->start ||
	    opts->reserve_range > UINT64_MAX - opts->reserve_addr)
		return -EINVAL;
	if (!aligned(opts->start, page) || !aligned(opts->range, page) ||
	    !aligned(opts->reserve_addr, page) || !aligned(opts->reserve_range, page))
		return -EINVAL;
	a = opts->alloc ? *opts->alloc : dev->alloc;
	vm = gpuvm__zalloc(&a, sizeof(*vm), _Alignof(struct gpuvm_bind_vm));
	if (!vm)
		return -ENOMEM;
	GPUVM_OPTS(gpuvm_init_opts, iopts, .name = dev->codec->info.name, .start = opts->start,
		   .range = opts->range, .reserve_addr = opts->reserve_addr,
		   .reserve_range = opts->reserve_range, .ops = &gpuvm__bind_vm_ops, .alloc = &a);
	ret = gpuvm_init(&vm->gpuvm, &iopts);
	if (ret) {
		gpuvm__free(&a, vm, sizeof(*vm));
		return ret;
	}
	vm->dev = dev;
	vm->alloc = a;
	vm->vm_id = opts->vm_id;
	pthread_mutex_lock(&dev->lock);
	dev->n_vms++;
	pthread_mutex_unlock(&dev->lock);
	*out = vm;
	return 0;
}

void gpuvm_bind_vm_destroy(struct gpuvm_bind_vm *vm)
{
	struct gpuvm_bind_dev *dev;
	struct gpuvm_allocator a;
	struct gpuva *va, *next;

	if (!vm)
		return;
	dev = vm->dev;
	a = vm->alloc;
	pthread_mutex_lock(&dev->lock);
	gpuvm_for_each_va_safe(va, next, &vm->gpuvm) {
		gpuva_remove(va);
		if (gpuva_vm_bo(va))
			gpuva_unlink(va);
		gpuvm__free(&a, gpuvm__bind_mapping_of(va), sizeof(struct gpuvm__bind_mapping));
	}
	pthread_mutex_unlock(&dev->lock);
	/* every vm_bo went with its last mapping: this is the last reference */
	gpuvm_put(&vm->gpuvm);
	gpuvm__free(&a, vm->regions, vm->cap_regions * sizeof(*vm->regions));
	gpuvm__free(&a, vm, sizeof(*vm));
	pthread_mutex_lock(&dev->lock);
	dev->n_vms--;
	pthread_mutex_unlock(&dev->lock);
}

struct gpuvm *gpuvm_bind_vm_gpuvm(struct gpuvm_bind_vm *vm)
{
	return vm ? &vm->gpuvm : NULL;
}

uint32_t gpuvm_bind_vm_id(const struct gpuvm_bind_vm *vm)
{
	return vm ? vm->vm_id : 0;
}

/* ---- queries ---- */

static void fill_mapping(const struct gpuva *va, struct gpuvm_bind_mapping *out)
{
	const struct gpuvm__bind_mapping *m = gpuvm__bind_mapping_of(va);
	struct gpuvm_gem *obj = gpuva_gem(va);

	memset(out, 0, sizeof(*out));
	out->addr = va->va.addr;
	out->range = va->va.range;
	out->offset = va->gem.offset;
	out->flags = m->flags;
	out->driver_arg = m->driver_arg;
	if (obj) {
		const struct gpuvm__bind_bo *bo = gpuvm__bind_bo_of(obj);

		out->bo = bo->seqno;
		out->handle = __atomic_load_n(&bo->handle, __ATOMIC_RELAXED);
	}
}

int gpuvm_bind_lookup(struct gpuvm_bind_vm *vm, uint64_t addr, struct gpuvm_bind_mapping *out)
{
	const struct gpuva *va;

	if (!vm || !out)
		return -EINVAL;
	va = gpuva_find_first(&vm->gpuvm, addr, 1);
	if (!va)
		return -ENOENT;
	fill_mapping(va, out);
	return 0;
}

int gpuvm_bind_for_each(struct gpuvm_bind_vm *vm, uint64_t addr, uint64_t range,
			int (*fn)(void *data, const struct gpuvm_bind_mapping *m), void *data)
{
	struct gpuva *va;

	if (!vm || !fn || !range || range > UINT64_MAX - addr)
		return -EINVAL;
	gpuvm_for_each_va_range(va, &vm->gpuvm, addr, addr + range) {
		struct gpuvm_bind_mapping m;
		int ret;

		fill_mapping(va, &m);
		ret = fn(data, &m);
		if (ret)
			return ret;
	}
	return 0;
}

size_t gpuvm__bind_region_first(const struct gpuvm_bind_vm *vm, uint64_t addr)
{
	size_t lo = 0, hi = vm->n_regions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gpuvm__bind_region *r = &vm->regions[mid];

		if (r->addr + r->range <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Bytes of [lo, hi) covered by mappings; *@objs gets those with an object. */
static uint64_t mapped_bytes(const struct gpuvm *gvm, uint64_t lo, uint64_t hi, uint64_t *objs)
{
	const struct gpuva *va;
	uint64_t all = 0;

	*objs = 0;
	gpuvm_for_each_va_range(va, gvm, lo, hi) {
		uint64_t n = min64(gpuva_end(va), hi) - max64(va->va.addr, lo);

		all += n;
		if (gpuva_gem(va))
			*objs += n;
	}
	return all;
}

int gpuvm_bind_residency(struct gpuvm_bind_vm *vm, uint64_t addr, uint64_t range,
			 struct gpuvm_bind_residency *out)
{
	uint64_t end, all, objs;

	if (!vm || !out || !range || range > UINT64_MAX - addr)
		return -EINVAL;
	end = addr + range;
	all = mapped_bytes(&vm->gpuvm, addr, end, &objs);
	out->bound = objs;
	out->sparse = all - objs;
	for (size_t i = gpuvm__bind_region_first(vm, addr); i < vm->n_regions; i++) {
		const struct gpuvm__bind_region *r = &vm->regions[i];
		uint64_t lo = max64(r->addr, addr), hi = min64(r->addr + r->range, end);
		uint64_t in;

		if (lo >= hi)
			break;
		in = mapped_bytes(&vm->gpuvm, lo, hi, &objs);
		out->sparse += (hi - lo) - in;
	}
	out->unmapped = range - out->bound - out->sparse;
	return 0;
}
