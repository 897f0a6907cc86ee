/* SPDX-License-Identifier: MIT */
/*
 * The split/merge walker, and nothing else.
 *
 * One walk serves map, unmap and madvise requests. It visits the mappings
 * that overlap the request in address order and hands each step to an ops
 * table: the driver's own (callback mode) or a private one that records the
 * steps as a list (lib/ops.c). The walk tolerates a callback that applies the
 * step to the tree at once: the next mapping is looked up before a step is
 * handed out, and a step only ever removes the current mapping and inserts
 * pieces below the next one (a piece above the request ends the walk).
 *
 * The results are the kernel's, op for op; docs/split-merge.md has the rules
 * and pictures.
 */
#include "index.h"
#include "internal.h"
#include "sm.h"

static int step_map(const struct gpuvm_ops *t, void *priv, uint64_t addr, uint64_t range,
		    struct gpuvm_gem *obj, uint64_t offset)
{
	struct gpuva_op op = { .op = GPUVA_OP_MAP };

	op.map.va.addr = addr;
	op.map.va.range = range;
	op.map.gem.obj = obj;
	op.map.gem.offset = offset;
	return t->sm_step_map(&op, priv);
}

static int step_unmap(const struct gpuvm_ops *t, void *priv, struct gpuva *va, bool keep)
{
	struct gpuva_op op = { .op = GPUVA_OP_UNMAP };

	op.unmap.va = va;
	op.unmap.keep = keep;
	return t->sm_step_unmap(&op, priv);
}

static int step_remap(const struct gpuvm_ops *t, void *priv, struct gpuva_op_map *prev,
		      struct gpuva_op_map *next, struct gpuva *va, bool keep)
{
	struct gpuva_op_unmap unmap = { .va = va, .keep = keep };
	struct gpuva_op op = { .op = GPUVA_OP_REMAP };

	op.remap.prev = prev;
	op.remap.next = next;
	op.remap.unmap = &unmap;
	return t->sm_step_remap(&op, priv);
}

/*
 * Whether @va maps the request's object at the request's offsets over every
 * address they share, so the driver may keep what is already there. The
 * arithmetic is modulo 2^64, as the kernel's.
 */
static bool can_keep(const struct gpuva *va, struct gpuvm_gem *obj, uint64_t addr,
		     uint64_t offset)
{
	struct gpuvm_gem *va_obj = gpuva_gem(va);

	if (!va_obj || va_obj != obj)
		return false;
	if (va->va.addr <= addr)
		return va->gem.offset + (addr - va->va.addr) == offset;
	return va->gem.offset == offset + (va->va.addr - addr);
}

int gpuvm__sm_walk(struct gpuvm *vm, const struct gpuvm_ops *t, void *priv,
		   enum gpuvm__sm_mode mode, const struct gpuva_op_map *req)
{
	const uint64_t req_addr = req->va.addr;
	const uint64_t req_end = req->va.addr + req->va.range;
	bool map_whole = mode == GPUVM__SM_MAP;
	struct gpuvm__index_cursor cur;
	struct gpuva *va, *next;
	int ret;

	/*
	 * The next mapping is found before the ops for this one are delivered
	 * (a callback may remove it), by stepping a cursor through the leaf: no
	 * descent per mapping unless a callback changed the tree, and then the
	 * cursor re-seeks past the start of the mapping it was at.
	 */
	for (va = gpuvm__index_cursor_first_overlap(&vm->index, &cur, req_addr, req_end);
	     va; va = next) {
		struct gpuvm_gem *obj = gpuva_gem(va);
		const uint64_t addr = va->va.addr;
		const uint64_t end = gpuva_end(va);
		struct gpuva_op_map prev = { .va = { addr, req_addr - addr },
					     .gem = { va->gem.offset, obj } };
		struct gpuva_op_map post = { .va = { req_end, end - req_end },
					     .gem = { va->gem.offset + (req_end - addr), obj } };
		const bool has_prev = addr < req_addr;
		const bool has_next = end > req_end;
		bool keep = false;

		next = gpuvm__index_cursor_next(&vm->index, &cur);
		if (next && req_end && next->va.addr >= req_end)
			next = NULL;

		/* madvise only splits mappings that have no object */
		if (mode == GPUVM__SM_MADVISE && obj)
			continue;
		if (mode != GPUVM__SM_UNMAP)
			keep = can_keep(va, req->gem.obj, req_addr, req->gem.offset);

		if (has_prev || has_next)
			ret = step_remap(t, priv, has_prev ? &prev : NULL, has_next ? &post : NULL,
					 va, keep);
		else if (mode != GPUVM__SM_MADVISE)
			ret = step_unmap(t, priv, va, keep);
		else
			ret = 0;
		if (ret)
			return ret;

		if (mode == GPUVM__SM_MADVISE && (has_prev || has_next)) {
			if (has_prev && !has_next && end < req_end) {
				/* the request's part of a mapping it cuts on the left */
				ret = step_map(t, priv, req_addr, end - req_addr, NULL, 0);
				if (ret)
					return ret;
			} else if (!has_prev && addr > req_addr) {
				/* the request's part of a mapping it cuts on the right; done */
				return step_map(t, priv, addr, req_end - addr, NULL, 0);
			} else {
				map_whole = true;
			}
		}
		if (end >= req_end)
			break;
	}

	if (!map_whole)
		return 0;
	return step_map(t, priv, req_addr, req->va.range, req->gem.obj, req->gem.offset);
}
