/* SPDX-License-Identifier: MIT */
/*
 * Batches of driver-neutral bind ops and syncs (include/gpuvm/bind.h): the
 * shape checks of one op and one sync, growth of the arrays, and coalescing
 * of consecutive ops.
 */
#include "bind_internal.h"
#include "core.h"

#include <string.h>

#define ALL_OP_FLAGS                                                                            \
	(GPUVM_BIND_READ_ONLY | GPUVM_BIND_NOEXEC | GPUVM_BIND_UNCACHED | GPUVM_BIND_DUMPABLE | \
	 GPUVM_BIND_IMMEDIATE)
#define ALL_SYNC_FLAGS (GPUVM_BIND_SYNC_SIGNAL | GPUVM_BIND_SYNC_TIMELINE)
#define ALL_BATCH_FLAGS (GPUVM_BIND_BATCH_ASYNC)

int gpuvm__bind_op_valid(const struct gpuvm_bind_op *op)
{
	bool map, map_sparse, unmap_bo;

	if (!op)
		return -EINVAL;
	if (op->type < GPUVM_BIND_OP_MAP || op->type > GPUVM_BIND_OP_UNMAP_SPARSE)
		return -EINVAL;
	if (op->flags & ~(uint32_t)ALL_OP_FLAGS)
		return -EINVAL;
	map = op->type == GPUVM_BIND_OP_MAP;
	map_sparse = op->type == GPUVM_BIND_OP_MAP_SPARSE;
	unmap_bo = op->type == GPUVM_BIND_OP_UNMAP_BO;
	/* flags: only maps take them */
	if (op->flags && !map && !map_sparse)
		return -EINVAL;
	/* handle: MAP and UNMAP_BO need one, nothing else has one */
	if ((map || unmap_bo) != (op->handle != 0))
		return -EINVAL;
	/* driver_arg: MAP (PAT index) and PREFETCH (region) only */
	if (op->driver_arg && !map && op->type != GPUVM_BIND_OP_PREFETCH)
		return -EINVAL;
	/* offset: MAP only */
	if (op->offset && !map)
		return -EINVAL;
	if (unmap_bo)
		return op->addr || op->range ? -EINVAL : 0;
	if (!op->range)
		return -EINVAL;
	if (op->range > UINT64_MAX - op->addr || op->range > UINT64_MAX - op->offset)
		return -EINVAL;
	return 0;
}

int gpuvm__bind_sync_valid(const struct gpuvm_bind_sync *sync)
{
	if (!sync || !sync->handle)
		return -EINVAL;
	if (sync->flags & ~(uint32_t)ALL_SYNC_FLAGS)
		return -EINVAL;
	if (sync->flags & GPUVM_BIND_SYNC_TIMELINE)
		return sync->point ? 0 : -EINVAL;
	return sync->point ? -EINVAL : 0;
}

int gpuvm_bind_batch_create(const struct gpuvm_bind_batch_opts *opts, struct gpuvm_bind_batch **out)
{
	struct gpuvm_allocator a = { 0 };
	struct gpuvm_bind_batch *b;

	if (!out)
		return -EINVAL;
	if (opts) {
		if (!gpuvm__opts_valid(opts, sizeof(*opts)))
			return -EINVAL;
		if (opts->flags & ~(uint32_t)ALL_BATCH_FLAGS)
			return -EINVAL;
		if (opts->alloc) {
			if (!opts->alloc->alloc != !opts->alloc->free)
				return -EINVAL;
			a = *opts->alloc;
		}
	}
	b = gpuvm__zalloc(&a, sizeof(*b), _Alignof(struct gpuvm_bind_batch));
	if (!b)
		return -ENOMEM;
	b->alloc = a;
	if (opts) {
		b->queue_id = opts->queue_id;
		b->flags = opts->flags;
	}
	*out = b;
	return 0;
}

void gpuvm_bind_batch_destroy(struct gpuvm_bind_batch *batch)
{
	struct gpuvm_allocator a;

	if (!batch)
		return;
	a = batch->alloc;
	gpuvm__free(&a, batch->ops, batch->cap_ops * sizeof(*batch->ops));
	gpuvm__free(&a, batch->syncs, batch->cap_syncs * sizeof(*batch->syncs));
	gpuvm__free(&a, batch, sizeof(*batch));
}

void gpuvm_bind_batch_reset(struct gpuvm_bind_batch *batch)
{
	if (!batch)
		return;
	batch->n_ops = 0;
	batch->n_syncs = 0;
}

/* Make room for one more element of @elem bytes in *@arr (capacity *@cap). */
int gpuvm__bind_grow(const struct gpuvm_allocator *a, void **arr, size_t *cap, size_t n,
		     size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap < *cap || ncap > SIZE_MAX / elem)
		return -ENOMEM;
	p = gpuvm__alloc(a, ncap * elem, _Alignof(max_align_t));
	if (!p)
		return -ENOMEM;
	if (n)
		memcpy(p, *arr, n * elem);
	gpuvm__free(a, *arr, *cap * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

int gpuvm_bind_batch_add(struct gpuvm_bind_batch *batch, const struct gpuvm_bind_op *op)
{
	int ret;

	if (!batch)
		return -EINVAL;
	ret = gpuvm__bind_op_valid(op);
	if (ret)
		return ret;
	if (gpuvm__bind_grow(&batch->alloc, (void **)&batch->ops, &batch->cap_ops, batch->n_ops,
			     sizeof(*batch->ops)))
		return -ENOMEM;
	batch->ops[batch->n_ops++] = *op;
	return 0;
}

int gpuvm_bind_batch_add_sync(struct gpuvm_bind_batch *batch, const struct gpuvm_bind_sync *sync)
{
	int ret;

	if (!batch)
		return -EINVAL;
	ret = gpuvm__bind_sync_valid(sync);
	if (ret)
		return ret;
	if (gpuvm__bind_grow(&batch->alloc, (void **)&batch->syncs, &batch->cap_syncs,
			     batch->n_syncs, sizeof(*batch->syncs)))
		return -ENOMEM;
	batch->syncs[batch->n_syncs++] = *sync;
	return 0;
}

const struct gpuvm_bind_op *gpuvm_bind_batch_ops(const struct gpuvm_bind_batch *batch, size_t *n)
{
	if (n)
		*n = batch ? batch->n_ops : 0;
	return batch ? batch->ops : NULL;
}

const struct gpuvm_bind_sync *gpuvm_bind_batch_syncs(const struct gpuvm_bind_batch *batch,
						     size_t *n)
{
	if (n)
		*n = batch ? batch->n_syncs : 0;
	return batch ? batch->syncs : NULL;
}

uint32_t gpuvm_bind_batch_queue(const struct gpuvm_bind_batch *batch)
{
	return batch ? batch->queue_id : 0;
}

uint32_t gpuvm_bind_batch_flags(const struct gpuvm_bind_batch *batch)
{
	return batch ? batch->flags : 0;
}

/* [a, a+r) followed by [b, ...): b starts where a ends, without overflow. */
static bool follows(uint64_t a, uint64_t r, uint64_t b)
{
	uint64_t end;

	return !__builtin_add_overflow(a, r, &end) && end == b;
}

/*
 * Which part of a region driver's VA space @addr is in: 2i + 1 inside
 * region i, 2i in the gap before it. Two maps that each lie inside one
 * region or outside all of them (what the check asks of every map) make a
 * merged map that does too exactly when they start in the same part.
 */
static size_t area_of(const struct gpuvm_bind_vm *vm, uint64_t addr)
{
	size_t i = gpuvm__bind_region_first(vm, addr);

	return i < vm->n_regions && vm->regions[i].addr <= addr ? 2 * i + 1 : 2 * i;
}

/*
 * Whether @b may be folded into @a (see gpuvm_bind_batch_coalesce()).
 * @regions: a region driver's VM (nouveau), or NULL. Its MAP_SPARSE ops
 * make distinct regions and never merge, and its maps merge only within
 * one region or one gap (NULL when the batch itself adds or removes
 * regions: then no map merges).
 */
static bool can_merge(const struct gpuvm_bind_op *a, const struct gpuvm_bind_op *b,
		      bool region_driver, const struct gpuvm_bind_vm *regions)
{
	uint64_t sum, end;

	if (a->type != b->type || a->flags != b->flags || a->driver_arg != b->driver_arg)
		return false;
	if (__builtin_add_overflow(a->range, b->range, &sum) ||
	    __builtin_add_overflow(a->addr, sum, &end))
		return false;
	if (!follows(a->addr, a->range, b->addr))
		return false;
	switch (a->type) {
	case GPUVM_BIND_OP_MAP:
		if (region_driver &&
		    (!regions || area_of(regions, a->addr) != area_of(regions, b->addr)))
			return false;
		return a->handle == b->handle && follows(a->offset, a->range, b->offset) &&
		       !__builtin_add_overflow(a->offset, sum, &end);
	case GPUVM_BIND_OP_MAP_SPARSE:
		return !region_driver && a->offset == b->offset;
	case GPUVM_BIND_OP_UNMAP:
	case GPUVM_BIND_OP_PREFETCH:
		return a->handle == b->handle && a->offset == b->offset;
	default:
		return false;
	}
}

size_t gpuvm__bind_coalesce(struct gpuvm_bind_op *ops, size_t n,
			    const struct gpuvm_bind_vm *region_vm)
{
	const struct gpuvm_bind_vm *regions = region_vm;
	size_t w = 0;

	for (size_t i = 0; i < n && regions; i++)
		if (ops[i].type == GPUVM_BIND_OP_MAP_SPARSE ||
		    ops[i].type == GPUVM_BIND_OP_UNMAP_SPARSE)
			regions = NULL; /* the regions change during the batch */
	for (size_t i = 0; i < n; i++) {
		if (w && can_merge(&ops[w - 1], &ops[i], region_vm != NULL, regions)) {
			ops[w - 1].range += ops[i].range;
			continue;
		}
		ops[w++] = ops[i];
	}
	return n - w;
}

int gpuvm_bind_batch_coalesce(struct gpuvm_bind_batch *batch)
{
	size_t removed;

	if (!batch)
		return -EINVAL;
	removed = gpuvm__bind_coalesce(batch->ops, batch->n_ops, NULL);
	batch->n_ops -= removed;
	return removed > INT32_MAX ? INT32_MAX : (int)removed;
}
