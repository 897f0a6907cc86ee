/* SPDX-License-Identifier: MIT */
/* Private: the split/merge walker of lib/sm.c. */
#ifndef GPUVM_LIB_SM_H
#define GPUVM_LIB_SM_H

#include <gpuvm.h>

enum gpuvm__sm_mode {
	GPUVM__SM_MAP,     /* a map request: unmap/remap the overlapped, then map */
	GPUVM__SM_UNMAP,   /* an unmap request: keep is always false, no map */
	GPUVM__SM_MADVISE, /* split sparse mappings at the request's edges, never unmap */
};

/*
 * Walk the mappings overlapping @req in address order and hand each step to
 * @t's sm_step_* callbacks (sm_step_map is not called in GPUVM__SM_UNMAP
 * mode). The caller has checked the request. Returns 0 or the first
 * callback error, at once.
 */
int gpuvm__sm_walk(struct gpuvm *vm, const struct gpuvm_ops *t, void *priv,
		   enum gpuvm__sm_mode mode, const struct gpuva_op_map *req);

/*
 * Check a map request against @vm: sized struct, a range gpuvm_range_valid()
 * accepts, and an object range within the object. Returns 0 or -EINVAL.
 * (lib/ops.c; gpuvm_exec uses it for the requests it locks for.)
 */
int gpuvm__check_map_req(const struct gpuvm *vm, const struct gpuvm_map_req *req);

#endif /* GPUVM_LIB_SM_H */
