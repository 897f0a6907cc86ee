/* SPDX-License-Identifier: MIT */
/*
 * Running a batch on a bind VM's shadow: the static checks of
 * gpuvm_bind_check(), then two phases, as nouveau applies its binds.
 *
 * Phase 1 ("prepare", may fail): each op in order builds its op list
 * against the tree as the earlier ops left it, and makes only the tree
 * changes: new mappings are inserted (not linked yet), replaced ones are
 * removed (still linked, not freed). Index nodes for putting the removed
 * ones back are reserved before they go, so undoing phase 1 ("unwind", in
 * reverse) cannot fail.
 *
 * Phase 2 ("commit", cannot fail): the op lists again, in order: new
 * mappings are linked, replaced ones unlinked and freed, so the vm_bos'
 * link order is the one of applying the ops one after the other. A mapping
 * inserted by one op and removed by a later one is never linked (linking
 * and unlinking it would leave the list as it is); each new mapping holds a
 * reference on the vm_bo it is to be linked to (gpuvm__bind_mapping.pend)
 * until then.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* ---- the VM's op objects ---- */

/* A list-mode op and the mappings phase 1 made for it. */
struct bind_op {
	struct gpuva_op base;
	struct gpuvm__bind_mapping *a, *b; /* map: a; remap: a = prev, b = next */
	bool applied;
};

GPUVM_CONTAINER(struct gpuva_op, struct bind_op, base, bind_op_of)

static struct gpuva_op *op_alloc(struct gpuvm *gvm)
{
	struct bind_op *o = gpuvm__zalloc(&gvm->alloc, sizeof(*o), _Alignof(struct bind_op));

	return o ? &o->base : NULL;
}

static void op_free(struct gpuvm *gvm, struct gpuva_op *op)
{
	gpuvm__free(&gvm->alloc, bind_op_of(op), sizeof(struct bind_op));
}

const struct gpuvm_ops gpuvm__bind_vm_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.op_alloc = op_alloc,
	.op_free = op_free,
};

/* ---- static checks ---- */

static const struct gpuvm_bind_driver_info *info_of(const struct gpuvm_bind_vm *vm)
{
	return &vm->dev->codec->info;
}

static bool has_cap(const struct gpuvm_bind_vm *vm, uint32_t cap)
{
	return (info_of(vm)->caps & cap) != 0;
}

static bool page_aligned(uint64_t v, uint64_t page)
{
	return !page || v % page == 0;
}

static int check_op(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_op *op)
{
	const struct gpuvm_bind_driver_info *info = info_of(vm);
	struct gpuvm__bind_bo *bo;
	int ret;

	ret = gpuvm__bind_op_valid(op);
	if (ret)
		return ret;
	if (!(info->op_types & (1u << op->type)) || (op->flags & ~info->op_flags))
		return -EOPNOTSUPP;
	if (op->type == GPUVM_BIND_OP_UNMAP_SPARSE && !has_cap(vm, GPUVM_BIND_CAP_SPARSE_REGIONS))
		return -EOPNOTSUPP;
	/* xe: PAT index or prefetch region; nouveau: a MAP's PTE kind (8 bits) */
	if (op->driver_arg && vm->dev->driver != GPUVM_BIND_XE &&
	    !(vm->dev->driver == GPUVM_BIND_NOUVEAU && op->type == GPUVM_BIND_OP_MAP &&
	      op->driver_arg <= 0xffu))
		return -EINVAL;
	if (op->type != GPUVM_BIND_OP_UNMAP_BO) {
		if (!page_aligned(op->addr, info->page_size) ||
		    !page_aligned(op->range, info->page_size) ||
		    !page_aligned(op->offset, info->page_size))
			return -EINVAL;
		if (!gpuvm_range_valid(&vm->gpuvm, op->addr, op->range))
			return -EINVAL;
	}
	if (op->type != GPUVM_BIND_OP_MAP && op->type != GPUVM_BIND_OP_UNMAP_BO)
		return 0;
	bo = gpuvm__bind_bo_get(vm->dev, op->handle);
	if (!bo)
		return -ENOENT;
	if (op->type == GPUVM_BIND_OP_MAP && op->offset + op->range > bo->gem.size)
		ret = -EINVAL;
	gpuvm_gem_put(&bo->gem);
	return ret;
}

/* What gpuvm_bind_check() refuses without running anything. */
static int check_static(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_batch *batch)
{
	uint32_t driver;
	int ret;

	if (!vm || !batch)
		return -EINVAL;
	driver = vm->dev->driver;
	if (batch->flags & ~(uint32_t)GPUVM_BIND_BATCH_ASYNC)
		return -EINVAL;
	if (batch->queue_id && driver != GPUVM_BIND_XE && driver != GPUVM_BIND_MSM)
		return -EINVAL;
	/* msm binds only through a queue created as a VM_BIND queue; 0 is the default one */
	if (!batch->queue_id && driver == GPUVM_BIND_MSM)
		return -EINVAL;
	for (size_t i = 0; i < batch->n_syncs; i++) {
		const struct gpuvm_bind_sync *s = &batch->syncs[i];

		ret = gpuvm__bind_sync_valid(s);
		if (ret)
			return ret;
		if ((s->flags & GPUVM_BIND_SYNC_TIMELINE) && !has_cap(vm, GPUVM_BIND_CAP_TIMELINE))
			return -EOPNOTSUPP;
	}
	if (batch->n_syncs && !(batch->flags & GPUVM_BIND_BATCH_ASYNC) &&
	    (driver == GPUVM_BIND_NOUVEAU || driver == GPUVM_BIND_PANTHOR))
		return -EINVAL;
	for (size_t i = 0; i < batch->n_ops; i++) {
		ret = check_op(vm, &batch->ops[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- one run of ops ---- */

enum region_change {
	REGION_NONE,
	REGION_ADDED,
	REGION_REMOVED,
};

/* What phase 1 did for one op. */
struct rec {
	const struct gpuvm_bind_op *op;
	struct gpuvm__bind_bo *bo; /* MAP, UNMAP_BO: a reference on the gem */
	struct gpuvm_bo *vm_bo;	   /* MAP: obtained, a reference */
	struct gpuva_ops *ops;	   /* the op list, if any */
	struct gpuva **removed;	   /* UNMAP_BO: the mappings it removed */
	size_t n_removed, cap_removed;
	unsigned int reserved; /* index inserts reserved for the unwind */
	enum region_change region;
	struct gpuvm__bind_region reg;
};

struct run {
	struct gpuvm_bind_vm *vm;
	const struct gpuvm_bind_op *ops;
	size_t n;
	struct rec *recs;
	size_t started; /* recs[0, started) may have changes */
};

static struct gpuvm__bind_mapping *mapping_new(struct gpuvm_bind_vm *vm)
{
	return gpuvm__zalloc(&vm->alloc, sizeof(struct gpuvm__bind_mapping),
			     _Alignof(struct gpuvm__bind_mapping));
}

static bool va_inserted(const struct gpuva *va)
{
	return (va->state_ & GPUVA__STATE_INSERTED) != 0;
}

/* Free a mapping that is neither inserted nor linked. Under the dev lock. */
static void mapping_drop(struct gpuvm_bind_vm *vm, struct gpuvm__bind_mapping *m)
{
	if (!m)
		return;
	if (m->pend)
		gpuvm_bo_put(m->pend);
	gpuvm__free(&vm->alloc, m, sizeof(*m));
}

/* Put back a mapping phase 1 removed; index nodes were reserved for it. */
static void reinsert(struct gpuvm_bind_vm *vm, struct gpuva *va)
{
	int ret = gpuvm__va_insert(&vm->gpuvm, va, true);

	if (ret)
		ret = gpuvm__va_insert(&vm->gpuvm, va, false);
	if (ret) {
		fprintf(stderr, "libgpuvm: bind: cannot undo a batch on VM '%s' (%s)\n",
			vm->gpuvm.name ? vm->gpuvm.name : "", gpuvm_err_name(ret));
		abort();
	}
}

/* The vm_bo a piece of @old is to be linked to, with a new reference. */
static struct gpuvm_bo *pend_of(const struct gpuva *old)
{
	struct gpuvm_bo *vm_bo = gpuva_vm_bo(old);

	if (!vm_bo)
		vm_bo = gpuvm__bind_mapping_of(old)->pend;
	return gpuvm_bo_get(vm_bo);
}

static unsigned int list_removals(const struct gpuva_ops *ops)
{
	const struct gpuva_op *op;
	unsigned int n = 0;

	gpuva_for_each_op(op, ops)
		n += op->op == GPUVA_OP_REMAP || op->op == GPUVA_OP_UNMAP;
	return n;
}

static int reserve(struct run *r, struct rec *rec, size_t n)
{
	int ret;

	if (!n)
		return 0;
	if (n > UINT32_MAX)
		return -ENOMEM;
	ret = gpuvm_index_reserve(&r->vm->gpuvm, (unsigned int)n);
	if (!ret)
		rec->reserved = (unsigned int)n;
	return ret;
}

/* Phase 1 of an op list: the tree changes only. */
static int list_apply(struct run *r, struct rec *rec)
{
	struct gpuvm_bind_vm *vm = r->vm;
	struct gpuva_op *op;
	int ret;

	ret = reserve(r, rec, list_removals(rec->ops));
	if (ret)
		return ret;
	gpuva_for_each_op(op, rec->ops) {
		struct bind_op *o = bind_op_of(op);
		struct gpuva *old;

		switch (op->op) {
		case GPUVA_OP_MAP:
			o->a = mapping_new(vm);
			if (!o->a)
				return -ENOMEM;
			ret = gpuva_map(&vm->gpuvm, &o->a->va, &op->map);
			if (ret) {
				mapping_drop(vm, o->a);
				o->a = NULL;
				return ret;
			}
			o->a->flags = rec->op->flags;
			o->a->driver_arg = rec->op->driver_arg;
			if (op->map.gem.obj)
				o->a->pend = gpuvm_bo_get(rec->vm_bo);
			else
				o->a->flags |= GPUVM_BIND_MAPPING_SPARSE;
			break;
		case GPUVA_OP_REMAP: {
			const struct gpuvm__bind_mapping *om;

			old = op->remap.unmap->va;
			om = gpuvm__bind_mapping_of(old);
			if (op->remap.prev && !(o->a = mapping_new(vm)))
				return -ENOMEM;
			if (op->remap.next && !(o->b = mapping_new(vm))) {
				mapping_drop(vm, o->a);
				o->a = NULL;
				return -ENOMEM;
			}
			ret = gpuva_remap(o->a ? &o->a->va : NULL, o->b ? &o->b->va : NULL,
					  &op->remap);
			if (ret) {
				mapping_drop(vm, o->a);
				mapping_drop(vm, o->b);
				o->a = o->b = NULL;
				return ret;
			}
			for (int i = 0; i < 2; i++) {
				struct gpuvm__bind_mapping *m = i ? o->b : o->a;

				if (!m)
					continue;
				m->flags = om->flags;
				m->driver_arg = om->driver_arg;
				m->pend = pend_of(old);
			}
			break;
		}
		case GPUVA_OP_UNMAP:
			ret = gpuva_unmap(&op->unmap);
			if (ret)
				return ret;
			break;
		default:
			return -EINVAL;
		}
		o->applied = true;
	}
	return 0;
}

/* Undo list_apply(), in reverse. Under the dev lock. */
static void list_unwind(struct run *r, struct rec *rec)
{
	struct gpuvm_bind_vm *vm = r->vm;
	struct gpuvm_list *e;

	for (e = rec->ops->list.prev; e != &rec->ops->list; e = e->prev) {
		struct gpuva_op *op = gpuvm__list_entry(e, struct gpuva_op, entry);
		struct bind_op *o = bind_op_of(op);

		if (!o->applied)
			continue;
		switch (op->op) {
		case GPUVA_OP_MAP:
			gpuva_remove(&o->a->va);
			break;
		case GPUVA_OP_REMAP:
			if (o->a)
				gpuva_remove(&o->a->va);
			if (o->b)
				gpuva_remove(&o->b->va);
			reinsert(vm, op->remap.unmap->va);
			break;
		case GPUVA_OP_UNMAP:
			reinsert(vm, op->unmap.va);
			break;
		default:
			break;
		}
		mapping_drop(vm, o->a);
		mapping_drop(vm, o->b);
		o->a = o->b = NULL;
		o->applied = false;
	}
}

static int region_add(struct gpuvm_bind_vm *vm, uint64_t addr, uint64_t range)
{
	size_t i = gpuvm__bind_region_first(vm, addr);

	/* nouveau's errno for a sparse region over another */
	if (i < vm->n_regions && vm->regions[i].addr < addr + range)
		return -ENOSPC;
	/* room was made before phase 1 */
	memmove(&vm->regions[i + 1], &vm->regions[i], (vm->n_regions - i) * sizeof(*vm->regions));
	vm->regions[i] = (struct gpuvm__bind_region){ .addr = addr, .range = range };
	vm->n_regions++;
	return 0;
}

/* Index of the region at exactly [addr, addr+range), or n_regions. */
static size_t region_find(const struct gpuvm_bind_vm *vm, uint64_t addr, uint64_t range)
{
	size_t i = gpuvm__bind_region_first(vm, addr);

	if (i < vm->n_regions && vm->regions[i].addr == addr && vm->regions[i].range == range)
		return i;
	return vm->n_regions;
}

static void region_del(struct gpuvm_bind_vm *vm, size_t i)
{
	memmove(&vm->regions[i], &vm->regions[i + 1],
		(vm->n_regions - i - 1) * sizeof(*vm->regions));
	vm->n_regions--;
}

static int regions_room(struct gpuvm_bind_vm *vm, size_t more)
{
	struct gpuvm__bind_region *p;
	size_t cap;

	if (vm->n_regions + more <= vm->cap_regions)
		return 0;
	cap = vm->n_regions + more;
	if (cap < 8)
		cap = 8;
	if (cap > SIZE_MAX / sizeof(*p))
		return -ENOMEM;
	p = gpuvm__alloc(&vm->alloc, cap * sizeof(*p), _Alignof(struct gpuvm__bind_region));
	if (!p)
		return -ENOMEM;
	if (vm->n_regions)
		memcpy(p, vm->regions, vm->n_regions * sizeof(*p));
	gpuvm__free(&vm->alloc, vm->regions, vm->cap_regions * sizeof(*p));
	vm->regions = p;
	vm->cap_regions = cap;
	return 0;
}

/*
 * nouveau: a map lies either outside every region or inside one (the
 * kernel refuses a map across a region's edge).
 */
static bool map_fits_regions(const struct gpuvm_bind_vm *vm, uint64_t addr, uint64_t range)
{
	size_t i = gpuvm__bind_region_first(vm, addr);
	const struct gpuvm__bind_region *r;

	if (i == vm->n_regions)
		return true;
	r = &vm->regions[i];
	if (r->addr >= addr + range)
		return true;
	return r->addr <= addr && addr + range <= r->addr + r->range;
}

/* UNMAP_BO: remove every mapping of the object, as the tree is now. */
static int unmap_bo_apply(struct run *r, struct rec *rec)
{
	struct gpuvm_bind_vm *vm = r->vm;
	struct gpuvm_gem *obj = &rec->bo->gem;
	struct gpuva *va;
	size_t n = 0;
	int ret;

	gpuvm_for_each_va(va, &vm->gpuvm)
		n += gpuva_gem(va) == obj;
	if (!n)
		return 0;
	if (n > SIZE_MAX / sizeof(*rec->removed))
		return -ENOMEM;
	rec->removed =
		gpuvm__alloc(&vm->alloc, n * sizeof(*rec->removed), _Alignof(struct gpuva *));
	if (!rec->removed)
		return -ENOMEM;
	rec->cap_removed = n;
	ret = reserve(r, rec, n);
	if (ret)
		return ret;
	gpuvm_for_each_va(va, &vm->gpuvm)
		if (gpuva_gem(va) == obj)
			rec->removed[rec->n_removed++] = va;
	for (size_t i = 0; i < n; i++)
		gpuva_remove(rec->removed[i]);
	return 0;
}

/* Phase 1 of one op. */
static int op_prepare(struct run *r, struct rec *rec)
{
	struct gpuvm_bind_vm *vm = r->vm;
	const struct gpuvm_bind_op *op = rec->op;
	bool regions = has_cap(vm, GPUVM_BIND_CAP_SPARSE_REGIONS);
	int ret;

	switch (op->type) {
	case GPUVM_BIND_OP_MAP:
	case GPUVM_BIND_OP_MAP_SPARSE: {
		GPUVM_OPTS(gpuvm_map_req, req,
			   .map = { .va = { .addr = op->addr, .range = op->range },
				    .gem = { .offset = op->offset } });

		if (op->type == GPUVM_BIND_OP_MAP_SPARSE && regions) {
			ret = region_add(vm, op->addr, op->range);
			if (!ret) {
				rec->region = REGION_ADDED;
				rec->reg = (struct gpuvm__bind_region){ op->addr, op->range };
			}
			return ret;
		}
		/* nouveau's errno for a map across a region's edge */
		if (regions && !map_fits_regions(vm, op->addr, op->range))
			return -ENOSPC;
		if (op->type == GPUVM_BIND_OP_MAP) {
			rec->bo = gpuvm__bind_bo_get(vm->dev, op->handle);
			if (!rec->bo)
				return -ENOENT;
			req.map.gem.obj = &rec->bo->gem;
			pthread_mutex_lock(&vm->dev->lock);
			ret = gpuvm_bo_obtain(&vm->gpuvm, &rec->bo->gem, &rec->vm_bo);
			pthread_mutex_unlock(&vm->dev->lock);
			if (ret)
				return ret;
		}
		ret = gpuvm_sm_map_ops_create(&vm->gpuvm, &req, &rec->ops);
		if (ret)
			return ret;
		return list_apply(r, rec);
	}
	case GPUVM_BIND_OP_UNMAP:
		ret = gpuvm_sm_unmap_ops_create(&vm->gpuvm, op->addr, op->range, &rec->ops);
		if (ret)
			return ret;
		return list_apply(r, rec);
	case GPUVM_BIND_OP_UNMAP_SPARSE: {
		size_t i = region_find(vm, op->addr, op->range);

		if (i == vm->n_regions)
			return -ENOENT; /* nouveau: no region at exactly this range */
		ret = gpuvm_sm_unmap_ops_create(&vm->gpuvm, op->addr, op->range, &rec->ops);
		if (ret)
			return ret;
		ret = list_apply(r, rec);
		if (ret)
			return ret;
		region_del(vm, i);
		rec->region = REGION_REMOVED;
		rec->reg = (struct gpuvm__bind_region){ op->addr, op->range };
		return 0;
	}
	case GPUVM_BIND_OP_UNMAP_BO:
		rec->bo = gpuvm__bind_bo_get(vm->dev, op->handle);
		if (!rec->bo)
			return -ENOENT;
		return unmap_bo_apply(r, rec);
	case GPUVM_BIND_OP_PREFETCH:
		return 0;
	default:
		return -EINVAL;
	}
}

/* Undo phase 1 of every started op, in reverse. */
static void run_unwind(struct run *r)
{
	struct gpuvm_bind_vm *vm = r->vm;

	pthread_mutex_lock(&vm->dev->lock);
	for (size_t i = r->started; i-- > 0;) {
		struct rec *rec = &r->recs[i];

		if (rec->region == REGION_REMOVED)
			region_add(vm, rec->reg.addr, rec->reg.range);
		else if (rec->region == REGION_ADDED)
			region_del(vm, region_find(vm, rec->reg.addr, rec->reg.range));
		rec->region = REGION_NONE;
		for (size_t j = rec->n_removed; j-- > 0;)
			reinsert(vm, rec->removed[j]);
		if (rec->ops)
			list_unwind(r, rec);
	}
	pthread_mutex_unlock(&vm->dev->lock);
}

/* Release what the run holds (after run_commit() or run_unwind()). */
static void run_fini(struct run *r)
{
	struct gpuvm_bind_vm *vm = r->vm;

	pthread_mutex_lock(&vm->dev->lock);
	for (size_t i = 0; i < r->started; i++) {
		struct rec *rec = &r->recs[i];

		if (rec->ops)
			gpuva_ops_free(&vm->gpuvm, rec->ops);
		if (rec->reserved)
			gpuvm_index_unreserve(&vm->gpuvm, rec->reserved);
		gpuvm__free(&vm->alloc, rec->removed, rec->cap_removed * sizeof(*rec->removed));
		if (rec->vm_bo)
			gpuvm_bo_put(rec->vm_bo);
		if (rec->bo)
			gpuvm_gem_put(&rec->bo->gem);
	}
	pthread_mutex_unlock(&vm->dev->lock);
	gpuvm__free(&vm->alloc, r->recs, r->n * sizeof(*r->recs));
	r->recs = NULL;
	r->started = 0;
}

/* Phase 1 of the whole run; on error the VM is as it was and nothing is held. */
static int run_prepare(struct run *r)
{
	struct gpuvm_bind_vm *vm = r->vm;
	size_t sparse = 0;
	int ret;

	r->recs = NULL;
	r->started = 0;
	if (!r->n)
		return 0;
	if (r->n > SIZE_MAX / sizeof(*r->recs))
		return -ENOMEM;
	r->recs = gpuvm__zalloc(&vm->alloc, r->n * sizeof(*r->recs), _Alignof(struct rec));
	if (!r->recs)
		return -ENOMEM;
	if (has_cap(vm, GPUVM_BIND_CAP_SPARSE_REGIONS)) {
		for (size_t i = 0; i < r->n; i++)
			sparse += r->ops[i].type == GPUVM_BIND_OP_MAP_SPARSE;
		ret = regions_room(vm, sparse);
		if (ret) {
			run_fini(r);
			return ret;
		}
	}
	for (size_t i = 0; i < r->n; i++) {
		r->recs[i].op = &r->ops[i];
		r->started = i + 1;
		ret = op_prepare(r, &r->recs[i]);
		if (ret) {
			run_unwind(r);
			run_fini(r);
			return ret;
		}
	}
	return 0;
}

/* Link @m to the vm_bo it waits for, if it is still in the tree. */
static void mapping_link(struct gpuvm__bind_mapping *m)
{
	int ret;

	if (!m || !m->pend || !va_inserted(&m->va))
		return;
	/* same object, same VM, inserted, no zombie: gpuva_link() has no reason to fail */
	ret = gpuva_link(&m->va, m->pend);
	if (ret) {
		fprintf(stderr, "libgpuvm: bind: cannot link a mapping of VM '%s' (%s)\n",
			m->va.vm && m->va.vm->name ? m->va.vm->name : "", gpuvm_err_name(ret));
		abort();
	}
	gpuvm_bo_put(m->pend);
	m->pend = NULL;
}

/* A mapping phase 1 removed: unlink and free it. */
static void mapping_release(struct gpuvm_bind_vm *vm, struct gpuva *va)
{
	if (gpuva_vm_bo(va))
		gpuva_unlink(va);
	mapping_drop(vm, gpuvm__bind_mapping_of(va));
}

/* Phase 2: links, unlinks and frees, op by op. Cannot fail. */
static void run_commit(struct run *r)
{
	struct gpuvm_bind_vm *vm = r->vm;

	pthread_mutex_lock(&vm->dev->lock);
	for (size_t i = 0; i < r->started; i++) {
		struct rec *rec = &r->recs[i];
		struct gpuva_op *op;

		if (rec->ops) {
			gpuva_for_each_op(op, rec->ops) {
				struct bind_op *o = bind_op_of(op);

				switch (op->op) {
				case GPUVA_OP_MAP:
					mapping_link(o->a);
					break;
				case GPUVA_OP_REMAP:
					mapping_link(o->a);
					mapping_link(o->b);
					mapping_release(vm, op->remap.unmap->va);
					break;
				case GPUVA_OP_UNMAP:
					mapping_release(vm, op->unmap.va);
					break;
				default:
					break;
				}
				/* the tree owns them now */
				o->a = o->b = NULL;
			}
		}
		for (size_t j = 0; j < rec->n_removed; j++)
			mapping_release(vm, rec->removed[j]);
	}
	pthread_mutex_unlock(&vm->dev->lock);
}

/* ---- check, preview, apply ---- */

/* Check @batch and run its phase 1; then commit it, or undo it for a dry run. */
static int run_batch(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_batch *batch, bool commit)
{
	struct run r = { .vm = vm };
	int ret;

	ret = check_static(vm, batch);
	if (ret)
		return ret;
	r.ops = batch->ops;
	r.n = batch->n_ops;
	ret = run_prepare(&r);
	if (ret)
		return ret;
	if (commit)
		run_commit(&r);
	else
		run_unwind(&r);
	run_fini(&r);
	return 0;
}

int gpuvm_bind_check(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_batch *batch)
{
	return run_batch(vm, batch, false);
}

int gpuvm_bind_apply(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_batch *batch)
{
	return run_batch(vm, batch, true);
}

struct touched {
	const struct gpuvm__bind_bo *bo;
	uint64_t before, after;
};

static int touched_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct touched *)a)->bo->seqno;
	uint64_t y = ((const struct touched *)b)->bo->seqno;

	return x < y ? -1 : x > y;
}

static void touch(struct touched *t, size_t *n, const struct gpuva *va)
{
	const struct gpuvm_gem *obj = gpuva_gem(va);

	if (obj)
		t[(*n)++].bo = gpuvm__bind_bo_of(obj);
}

static struct touched *touched_find(struct touched *t, size_t n, uint64_t seqno)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t[mid].bo->seqno < seqno)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && t[lo].bo->seqno == seqno ? &t[lo] : NULL;
}

/*
 * After phase 1: the objects the run maps, unmaps or whose mappings it
 * replaces, by seqno, with their mapping counts before (their links, which
 * phase 1 leaves alone) and after (the tree).
 */
static int collect_deltas(struct run *r, struct touched **out, size_t *nout, size_t *ncap)
{
	struct gpuvm_bind_vm *vm = r->vm;
	struct touched *t;
	size_t cap = 0, n = 0, w = 0;
	struct gpuva *va;

	for (size_t i = 0; i < r->started; i++) {
		cap += r->recs[i].bo != NULL;
		cap += r->recs[i].n_removed;
		if (r->recs[i].ops)
			cap += r->recs[i].ops->count;
	}
	*out = NULL;
	*nout = 0;
	*ncap = 0;
	if (!cap)
		return 0;
	if (cap > SIZE_MAX / sizeof(*t))
		return -ENOMEM;
	t = gpuvm__zalloc(&vm->alloc, cap * sizeof(*t), _Alignof(struct touched));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < r->started; i++) {
		const struct rec *rec = &r->recs[i];
		const struct gpuva_op *op;

		if (rec->bo)
			t[n++].bo = rec->bo;
		for (size_t j = 0; j < rec->n_removed; j++)
			touch(t, &n, rec->removed[j]);
		if (!rec->ops)
			continue;
		gpuva_for_each_op(op, rec->ops) {
			if (op->op == GPUVA_OP_REMAP)
				touch(t, &n, op->remap.unmap->va);
			else if (op->op == GPUVA_OP_UNMAP)
				touch(t, &n, op->unmap.va);
		}
	}
	qsort(t, n, sizeof(*t), touched_cmp);
	for (size_t i = 0; i < n; i++)
		if (!w || t[w - 1].bo != t[i].bo)
			t[w++] = t[i];
	pthread_mutex_lock(&vm->dev->lock);
	for (size_t i = 0; i < w; i++) {
		struct gpuvm_gem *obj = (struct gpuvm_gem *)(uintptr_t)&t[i].bo->gem;
		struct gpuvm_bo *vm_bo = gpuvm_bo_find(&vm->gpuvm, obj);
		const struct gpuva *m;

		if (!vm_bo)
			continue;
		gpuvm_bo_for_each_va(m, vm_bo)
			t[i].before++;
		gpuvm_bo_put(vm_bo);
	}
	pthread_mutex_unlock(&vm->dev->lock);
	gpuvm_for_each_va(va, &vm->gpuvm) {
		const struct gpuvm_gem *obj = gpuva_gem(va);
		struct touched *e;

		if (obj && (e = touched_find(t, w, gpuvm__bind_bo_of(obj)->seqno)))
			e->after++;
	}
	*out = t;
	*nout = w;
	*ncap = cap;
	return 0;
}

int gpuvm_bind_preview(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_batch *batch,
		       struct gpuvm_bind_bo_delta *deltas, size_t cap, size_t *n)
{
	struct run r = { .vm = vm };
	struct touched *t = NULL;
	size_t nt = 0, tcap = 0;
	int ret;

	if (!n || (cap && !deltas))
		return -EINVAL;
	*n = 0; /* tells a refusal's -ENOSPC (a region rule) from a small @cap */
	ret = check_static(vm, batch);
	if (ret)
		return ret;
	r.ops = batch->ops;
	r.n = batch->n_ops;
	ret = run_prepare(&r);
	if (ret)
		return ret;
	ret = collect_deltas(&r, &t, &nt, &tcap);
	/*
	 * Read the objects while the run still holds its references: an
	 * object only the batch would map may lose its handle (another
	 * thread's gpuvm_bind_bo_remove()) and go with run_fini().
	 */
	if (!ret) {
		*n = nt;
		for (size_t i = 0; i < nt && i < cap; i++) {
			deltas[i] = (struct gpuvm_bind_bo_delta){
				.bo = t[i].bo->seqno,
				.handle = __atomic_load_n(&t[i].bo->handle, __ATOMIC_RELAXED),
				.mappings_before = t[i].before,
				.mappings_after = t[i].after,
			};
		}
	}
	run_unwind(&r);
	run_fini(&r);
	if (ret)
		return ret;
	gpuvm__free(&vm->alloc, t, tcap * sizeof(*t));
	return nt > cap ? -ENOSPC : 0;
}

/* ---- submit ---- */

static int sys_ioctl(void *data, int fd, unsigned long request, void *arg)
{
	int ret;

	(void)data;
	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : 0;
}

/*
 * The syncs of chunk @c of @nchunks: all of them when there is one chunk,
 * else the waits with the first and the signals with the last (@split holds
 * the waits then the signals, @nwait of them waits).
 */
static void chunk_syncs(const struct gpuvm_bind_batch *batch, struct gpuvm_bind_sync *split,
			size_t nwait, size_t c, size_t nchunks, struct gpuvm_bind_batch *cb)
{
	cb->syncs = NULL;
	cb->n_syncs = 0;
	if (nchunks == 1) {
		cb->syncs = batch->syncs;
		cb->n_syncs = batch->n_syncs;
		return;
	}
	if (c == 0 && nwait) {
		cb->syncs = split;
		cb->n_syncs = nwait;
	} else if (c == nchunks - 1 && batch->n_syncs > nwait) {
		cb->syncs = split + nwait;
		cb->n_syncs = batch->n_syncs - nwait;
	}
	cb->cap_syncs = cb->n_syncs;
}

int gpuvm_bind_submit(struct gpuvm_bind_vm *vm, const struct gpuvm_bind_batch *batch,
		      const struct gpuvm_bind_submit_opts *opts,
		      struct gpuvm_bind_submit_stats *stats)
{
	struct gpuvm_bind_submit_stats st = { 0 };
	struct gpuvm_bind_sync *split = NULL;
	struct gpuvm_bind_op *ops = NULL;
	gpuvm_bind_ioctl_fn fn;
	size_t n, max, nchunks, nwait = 0;
	int ret;

	if (stats)
		*stats = st;
	if (!opts || !gpuvm__opts_valid(opts, sizeof(*opts)) ||
	    (opts->flags & ~(uint32_t)GPUVM_BIND_SUBMIT_NO_COALESCE))
		return -EINVAL;
	ret = gpuvm_bind_check(vm, batch);
	if (ret)
		return ret;
	if (batch->n_ops > UINT32_MAX || batch->n_syncs > UINT32_MAX)
		return -E2BIG;
	st.ops_given = (uint32_t)batch->n_ops;
	n = batch->n_ops;
	if (!n && !batch->n_syncs)
		goto out;
	if (!n && !has_cap(vm, GPUVM_BIND_CAP_SYNC_ONLY))
		return -EOPNOTSUPP;
	if (n) {
		ops = gpuvm__alloc(&vm->alloc, n * sizeof(*ops), _Alignof(struct gpuvm_bind_op));
		if (!ops)
			return -ENOMEM;
		memcpy(ops, batch->ops, n * sizeof(*ops));
		if (!(opts->flags & GPUVM_BIND_SUBMIT_NO_COALESCE))
			n -= gpuvm__bind_coalesce(
				ops, n, has_cap(vm, GPUVM_BIND_CAP_SPARSE_REGIONS) ? vm : NULL);
	}
	st.ops_submitted = (uint32_t)n;
	max = opts->max_ops_per_ioctl ? opts->max_ops_per_ioctl : (n ? n : 1);
	nchunks = n ? (n + max - 1) / max : 1;
	if (nchunks > 1 && batch->n_syncs) {
		size_t w = 0;

		split = gpuvm__alloc(&vm->alloc, batch->n_syncs * sizeof(*split),
				     _Alignof(struct gpuvm_bind_sync));
		if (!split) {
			ret = -ENOMEM;
			goto out;
		}
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < batch->n_syncs; i++)
				if (!(batch->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL) == !pass)
					split[w++] = batch->syncs[i];
		for (size_t i = 0; i < batch->n_syncs; i++)
			nwait += !(batch->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL);
	}
	fn = opts->ioctl ? opts->ioctl : sys_ioctl;
	for (size_t c = 0; c < nchunks; c++) {
		size_t off = c * max, cnt = n - off < max ? n - off : max;
		struct gpuvm_bind_batch cb = {
			.alloc = vm->alloc,
			.ops = ops ? ops + off : NULL,
			.n_ops = cnt,
			.cap_ops = cnt,
			.queue_id = batch->queue_id,
			.flags = batch->flags,
		};
		struct run r = { .vm = vm, .ops = cb.ops, .n = cnt };
		struct gpuvm_bind_encoded enc;

		chunk_syncs(batch, split, nwait, c, nchunks, &cb);
		ret = run_prepare(&r);
		if (ret)
			break;
		ret = gpuvm_bind_encode(vm->dev->driver, vm->vm_id, &cb, &enc);
		if (ret) {
			run_unwind(&r);
			run_fini(&r);
			break;
		}
		ret = fn(opts->ioctl_data, opts->fd, enc.request, enc.arg);
		st.ioctls++;
		gpuvm_bind_encoded_fini(&enc);
		if (ret) {
			if (ret > 0)
				ret = -EIO;
			run_unwind(&r);
			run_fini(&r);
			break;
		}
		run_commit(&r);
		run_fini(&r);
		st.ops_applied += (uint32_t)cnt;
	}
out:
	gpuvm__free(&vm->alloc, split, (split ? batch->n_syncs : 0) * sizeof(*split));
	gpuvm__free(&vm->alloc, ops, (ops ? batch->n_ops : 0) * sizeof(*ops));
	if (stats)
		*stats = st;
	return ret;
}
