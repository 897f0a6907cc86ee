/* SPDX-License-Identifier: MIT */
/*
 * Whether an op of libgpuvm's list mode is the reference model's op: the
 * one comparison the differential tests share (tests/fuzz/fuzz_trace.c,
 * tests/fuzz/fuzz_api.c). The model names objects by index and mappings by
 * value and id; how those map to the library's objects is the caller's, so
 * the two questions are callbacks.
 *
 * Header-only: the model itself (refmodel.c) knows nothing of libgpuvm.
 */
#ifndef GPUVM_TESTS_RM_MATCH_H
#define GPUVM_TESTS_RM_MATCH_H

#include <gpuvm.h>
#include <stdbool.h>

#include "refmodel.h"

struct rm_match {
	/* the library's object for the model's object @bo (NULL for RM_NO_BO) */
	const struct gpuvm_gem *(*gem)(void *ctx, int bo);
	/* whether @va is the model's existing mapping @m */
	bool (*va_is)(void *ctx, const struct gpuva *va, const struct rm_mapping *m);
	void *ctx;
};

static inline bool rm_piece_matches(const struct rm_match *mt, const struct gpuva_op_map *m,
				    const struct rm_piece *p)
{
	return m->va.addr == p->addr && m->va.range == p->range && m->gem.offset == p->offset &&
	       m->gem.obj == mt->gem(mt->ctx, p->bo);
}

/* Whether @op is @o: type, keep, pieces, and the very mapping it names. */
static inline bool rm_op_matches(const struct rm_match *mt, const struct gpuva_op *op,
				 const struct rm_op *o)
{
	const struct gpuva *va;

	switch (op->op) {
	case GPUVA_OP_MAP:
		return o->type == RM_OP_MAP && rm_piece_matches(mt, &op->map, &o->map);
	case GPUVA_OP_REMAP:
		if (o->type != RM_OP_REMAP || !op->remap.unmap ||
		    op->remap.unmap->keep != o->keep || !!op->remap.prev != o->has_prev ||
		    !!op->remap.next != o->has_next)
			return false;
		if ((op->remap.prev && !rm_piece_matches(mt, op->remap.prev, &o->prev)) ||
		    (op->remap.next && !rm_piece_matches(mt, op->remap.next, &o->next)))
			return false;
		va = op->remap.unmap->va;
		break;
	case GPUVA_OP_UNMAP:
		if (o->type != RM_OP_UNMAP || op->unmap.keep != o->keep)
			return false;
		va = op->unmap.va;
		break;
	case GPUVA_OP_PREFETCH:
		if (o->type != RM_OP_PREFETCH)
			return false;
		va = op->prefetch.va;
		break;
	default:
		return false;
	}
	return va && mt->va_is(mt->ctx, va, &o->va);
}

#endif /* GPUVM_TESTS_RM_MATCH_H */
