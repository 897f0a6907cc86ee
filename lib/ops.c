/* SPDX-License-Identifier: MIT */
/*
 * The modes over the walker of lib/sm.c: callback mode hands the driver's
 * ops table to the walker; list mode hands it a private table that records
 * each step. Prefetch and bo_unmap lists, and the helpers that apply an op.
 */
#include "internal.h"
#include "index.h"
#include "sm.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

/* -EINVAL unless @req is a well-formed request for a range @vm can map. */
int gpuvm__check_map_req(const struct gpuvm *vm, const struct gpuvm_map_req *req)
{
	const struct gpuva_op_map *m;

	if (!vm || !req || !gpuvm__opts_valid(req, sizeof(*req)))
		return -EINVAL;
	m = &req->map;
	if (!gpuvm_range_valid(vm, m->va.addr, m->va.range))
		return -EINVAL;
	if (m->gem.obj && (m->gem.offset > m->gem.obj->size ||
			   m->va.range > m->gem.obj->size - m->gem.offset))
		return -EINVAL;
	return 0;
}

static bool has_steps(const struct gpuvm_ops *t, bool need_map)
{
	return t && (t->sm_step_map || !need_map) && t->sm_step_remap && t->sm_step_unmap;
}

int gpuvm_sm_map(struct gpuvm *vm, void *priv, const struct gpuvm_map_req *req)
{
	int ret;

	if (!vm || !has_steps(vm->ops, true))
		return -EINVAL;
	ret = gpuvm__check_map_req(vm, req);
	if (ret)
		return ret;
	return gpuvm__sm_walk(vm, vm->ops, priv, GPUVM__SM_MAP, &req->map);
}

int gpuvm_sm_unmap(struct gpuvm *vm, void *priv, uint64_t addr, uint64_t range)
{
	const struct gpuva_op_map req = { .va = { addr, range } };

	if (!vm || !has_steps(vm->ops, false) || !gpuvm_range_valid(vm, addr, range))
		return -EINVAL;
	return gpuvm__sm_walk(vm, vm->ops, priv, GPUVM__SM_UNMAP, &req);
}

/* ---- list mode ---- */

struct list_ctx {
	struct gpuvm *vm;
	struct gpuva_ops *ops;
	unsigned int inserts; /* index inserts applying the list will make */
};

static struct gpuva_op *op_new(struct gpuvm *vm)
{
	if (vm->ops && vm->ops->op_alloc)
		return vm->ops->op_alloc(vm);
	return gpuvm__zalloc(&vm->alloc, sizeof(struct gpuva_op), _Alignof(struct gpuva_op));
}

static void op_delete(struct gpuvm *vm, struct gpuva_op *op)
{
	if (vm->ops && vm->ops->op_free)
		vm->ops->op_free(vm, op);
	else
		gpuvm__free(&vm->alloc, op, sizeof(*op));
}

static int ops_new(struct gpuvm *vm, struct gpuva_ops **out)
{
	struct gpuva_ops *ops = gpuvm__zalloc(&vm->alloc, sizeof(*ops), _Alignof(struct gpuva_ops));

	if (!ops)
		return -ENOMEM;
	gpuvm_list_init(&ops->list);
	ops->vm = vm;
	*out = ops;
	return 0;
}

static void ops_append(struct gpuva_ops *ops, struct gpuva_op *op)
{
	gpuvm_list_add_tail(&op->entry, &ops->list);
	ops->count++;
}

/* The list-mode step: a copy of the walker's op that outlives the walk. */
static int list_step(struct gpuva_op *op, void *priv)
{
	struct list_ctx *ctx = priv;
	struct gpuva_op *n = op_new(ctx->vm);

	if (!n)
		return -ENOMEM;
	n->op = op->op;
	switch (op->op) {
	case GPUVA_OP_MAP:
		n->map = op->map;
		ctx->inserts++;
		break;
	case GPUVA_OP_REMAP:
		n->remap_store_.unmap = *op->remap.unmap;
		n->remap.unmap = &n->remap_store_.unmap;
		n->remap.prev = NULL;
		n->remap.next = NULL;
		if (op->remap.prev) {
			n->remap_store_.prev = *op->remap.prev;
			n->remap.prev = &n->remap_store_.prev;
			ctx->inserts++;
		}
		if (op->remap.next) {
			n->remap_store_.next = *op->remap.next;
			n->remap.next = &n->remap_store_.next;
			ctx->inserts++;
		}
		break;
	default:
		n->unmap = op->unmap;
		break;
	}
	ops_append(ctx->ops, n);
	return 0;
}

static const struct gpuvm_ops list_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_map = list_step,
	.sm_step_remap = list_step,
	.sm_step_unmap = list_step,
};

void gpuva_ops_free(struct gpuvm *vm, struct gpuva_ops *ops)
{
	struct gpuva_op *op, *next;

	if (!ops)
		return;
	if (vm && vm != ops->vm) {
#ifdef GPUVM_DEBUG
		fprintf(stderr, "libgpuvm: gpuva_ops_free() of an op list of VM '%s' (%p) "
			"given VM '%s' (%p)\n", ops->vm->name ? ops->vm->name : "",
			(void *)ops->vm, vm->name ? vm->name : "", (void *)vm);
		abort();
#endif
		/* the list's own VM holds its reservation and its allocator */
	}
	vm = ops->vm;
	gpuva_for_each_op_safe(op, next, ops) {
		gpuvm_list_del(&op->entry);
		op_delete(vm, op);
	}
	gpuvm__index_unreserve(&vm->index, ops->reserved_);
	gpuvm__free(&vm->alloc, ops, sizeof(*ops));
}

/*
 * Reserve the index nodes that applying the list takes, so the apply helpers
 * never allocate (they may run where allocating is not allowed). On failure
 * the whole list goes: no half result is ever returned.
 */
static int ops_finish(struct gpuvm *vm, struct gpuva_ops *ops, unsigned int inserts, int ret,
		      struct gpuva_ops **out)
{
	if (!ret && inserts) {
		ret = gpuvm__index_reserve(&vm->index, &vm->alloc, inserts);
		if (!ret)
			ops->reserved_ = inserts;
	}
	/* Trim only on success, so a failed call leaves even the cache alone. */
	if (!ret)
		gpuvm__index_maybe_trim(vm);
	if (ret) {
		gpuva_ops_free(vm, ops);
		return ret;
	}
	*out = ops;
	return 0;
}

static int sm_ops_create(struct gpuvm *vm, enum gpuvm__sm_mode mode, const struct gpuva_op_map *req,
			 struct gpuva_ops **out)
{
	struct list_ctx ctx = { .vm = vm };
	int ret;

	ret = ops_new(vm, &ctx.ops);
	if (ret)
		return ret;
	ret = gpuvm__sm_walk(vm, &list_ops, &ctx, mode, req);
	return ops_finish(vm, ctx.ops, ctx.inserts, ret, out);
}

int gpuvm_sm_map_ops_create(struct gpuvm *vm, const struct gpuvm_map_req *req,
			    struct gpuva_ops **out)
{
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_sm_map_ops_create", "it allocates the op list");
	ret = gpuvm__check_map_req(vm, req);
	if (ret || !out)
		return ret ? ret : -EINVAL;
	return sm_ops_create(vm, GPUVM__SM_MAP, &req->map, out);
}

int gpuvm_madvise_ops_create(struct gpuvm *vm, const struct gpuvm_map_req *req,
			     struct gpuva_ops **out)
{
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_madvise_ops_create", "it allocates the op list");
	ret = gpuvm__check_map_req(vm, req);
	if (ret || !out)
		return ret ? ret : -EINVAL;
	return sm_ops_create(vm, GPUVM__SM_MADVISE, &req->map, out);
}

int gpuvm_sm_unmap_ops_create(struct gpuvm *vm, uint64_t addr, uint64_t range,
			      struct gpuva_ops **out)
{
	const struct gpuva_op_map req = { .va = { addr, range } };

	GPUVM__MAY_BLOCK("gpuvm_sm_unmap_ops_create", "it allocates the op list");
	if (!vm || !out || !gpuvm_range_valid(vm, addr, range))
		return -EINVAL;
	return sm_ops_create(vm, GPUVM__SM_UNMAP, &req, out);
}

/* One op of @type for @va appended to @ops; keep is always false. */
static int ops_add_va(struct gpuvm *vm, struct gpuva_ops *ops, enum gpuva_op_type type,
		      struct gpuva *va)
{
	struct gpuva_op *op = op_new(vm);

	if (!op)
		return -ENOMEM;
	op->op = type;
	if (type == GPUVA_OP_PREFETCH) {
		op->prefetch.va = va;
	} else {
		op->unmap.va = va;
		op->unmap.keep = false;
	}
	ops_append(ops, op);
	return 0;
}

int gpuvm_prefetch_ops_create(struct gpuvm *vm, uint64_t addr, uint64_t range,
			      struct gpuva_ops **out)
{
	struct gpuva_ops *ops;
	struct gpuva *va;
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_prefetch_ops_create", "it allocates the op list");
	if (!vm || !out || !gpuvm_range_valid(vm, addr, range))
		return -EINVAL;
	ret = ops_new(vm, &ops);
	if (ret)
		return ret;
	gpuvm_for_each_va_range(va, vm, addr, addr + range) {
		ret = ops_add_va(vm, ops, GPUVA_OP_PREFETCH, va);
		if (ret)
			break;
	}
	return ops_finish(vm, ops, 0, ret, out);
}

int gpuvm_bo_unmap_ops_create(struct gpuvm_bo *vm_bo, struct gpuva_ops **out)
{
	struct gpuva_ops *ops;
	struct gpuva *va;
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_bo_unmap_ops_create", "it allocates the op list");
	if (!vm_bo || !vm_bo->vm || !out)
		return -EINVAL;
	ret = ops_new(vm_bo->vm, &ops);
	if (ret)
		return ret;
	gpuvm_bo_for_each_va(va, vm_bo) {
		ret = ops_add_va(vm_bo->vm, ops, GPUVA_OP_UNMAP, va);
		if (ret)
			break;
	}
	return ops_finish(vm_bo->vm, ops, 0, ret, out);
}

/* ---- applying ops ---- */

static bool va_inserted(const struct gpuva *va)
{
	return va->state_ & GPUVA__STATE_INSERTED;
}

/*
 * A mapping the apply helpers initialize must be neither inserted nor
 * linked: initializing a linked one would cut it out of its vm_bo's list
 * without the list knowing (a removed mapping stays linked).
 */
static bool va_in_use(const struct gpuva *va)
{
	return va_inserted(va) || gpuva_vm_bo(va);
}

static void init_from_op(struct gpuva *va, const struct gpuva_op_map *op)
{
	gpuva_init(va, op->va.addr, op->va.range, op->gem.obj, op->gem.offset);
}

int gpuva_map(struct gpuvm *vm, struct gpuva *va, const struct gpuva_op_map *op)
{
	if (!vm || !va || !op)
		return -EINVAL;
	if (va_in_use(va))
		return -EBUSY;
	init_from_op(va, op);
	return gpuvm__va_insert(vm, va, true);
}

/* A surviving piece must lie inside the mapping it comes from. */
static bool piece_inside(const struct gpuva_op_map *p, const struct gpuva *old)
{
	uint64_t skip;

	/* In offsets from the old start, so a mapping ending at 2^64 works. */
	if (!p->va.range || p->va.addr < old->va.addr)
		return false;
	skip = p->va.addr - old->va.addr;
	return skip < old->va.range && p->va.range <= old->va.range - skip;
}

int gpuva_remap(struct gpuva *prev, struct gpuva *next, const struct gpuva_op_remap *op)
{
	struct gpuva *old;
	struct gpuvm *vm;
	unsigned int inserts = 0;
	int ret;

	if (!op || !op->unmap || !op->unmap->va)
		return -EINVAL;
	old = op->unmap->va;
	if (!va_inserted(old))
		return -EINVAL;
	if ((op->prev && (!prev || va_in_use(prev) || !piece_inside(op->prev, old))) ||
	    (op->next && (!next || va_in_use(next) || !piece_inside(op->next, old))))
		return -EINVAL;
	if (op->prev && op->next &&
	    (prev == next || op->prev->va.addr + op->prev->va.range > op->next->va.addr))
		return -EINVAL;
	inserts = (op->prev != NULL) + (op->next != NULL);
	vm = old->vm;

	/* Everything that can fail happens before the old mapping goes. */
	ret = gpuvm__index_prepare(&vm->index, &vm->alloc, inserts, true);
	if (ret)
		return ret;
	gpuva_remove(old);
	if (op->prev) {
		init_from_op(prev, op->prev);
		ret = gpuvm__va_insert(vm, prev, true);
		assert(!ret);
	}
	if (op->next) {
		init_from_op(next, op->next);
		ret = gpuvm__va_insert(vm, next, true);
		assert(!ret);
	}
	(void)ret;
	return 0;
}

int gpuva_unmap(const struct gpuva_op_unmap *op)
{
	if (!op || !op->va)
		return -EINVAL;
	return gpuva_remove(op->va);
}
