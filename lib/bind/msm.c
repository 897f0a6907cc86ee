/* SPDX-License-Identifier: MIT */
/*
 * msm VM_BIND codec (struct gpuvm_abi_msm_vm_bind, lib/bind/abi/msm.h).
 *
 * Kernel rules mirrored (drivers/gpu/drm/msm/msm_gem_vma.c, msm_syncobj.c
 * of the 2025 VM_BIND series; see docs/vm_bind-abi.md for the sources):
 *  - bind flags: FENCE_FD_IN and FENCE_FD_OUT only; fence fds are not
 *    expressible in a batch (-EOPNOTSUPP);
 *  - nr_ops == 1 carries the op inline; otherwise 'ops' points to nr_ops
 *    ops read at the fixed 40-byte size (the kernel does not use
 *    op_stride); nr_ops == 0 is a valid bind that only waits and signals;
 *  - per op: flags within DUMP; op UNMAP, MAP or MAP_NULL; MAP needs a
 *    handle, UNMAP and MAP_NULL must have none;
 *  - syncobjs: 'syncobj_stride' bytes apart; in-syncobj flags within RESET
 *    (not expressible: -EOPNOTSUPP), out-syncobj flags zero; a nonzero
 *    point makes a timeline wait or signal.
 * Stricter than the kernel: the op's pad must be zero; op_stride must be 0
 * or 40 when an ops array is used; syncobj_stride must be 16..4096 when
 * there are syncs, and bytes past 16 must be zero (the kernel reads at
 * most 16 bytes of each, and zero-fills shorter ones from a buffer it
 * reuses across elements); a nonzero count with a NULL array is -EFAULT
 * (the kernel skips the array); the inline-op bytes not in use must be
 * zero. Ignored as the kernel ignores them: obj_offset and DUMP of UNMAP,
 * obj_offset of MAP_NULL, fence_fd without fence flags.
 * The argument has no VM id (the VM is the file's): *vm_id is 0.
 */
#include "bind/bind_internal.h"
#include "bind/abi/msm.h"

#include <string.h>

#define MSM_OP_SIZE ((uint32_t)sizeof(struct gpuvm_abi_msm_vm_bind_op))
#define MSM_SYNC_SIZE ((uint32_t)sizeof(struct gpuvm_abi_msm_syncobj))
#define MSM_MAX_STRIDE 4096u

/* ---- encode ---------------------------------------------------------------- */

static int op_to_msm(const struct gpuvm_bind_op *op, struct gpuvm_abi_msm_vm_bind_op *x)
{
	memset(x, 0, sizeof(*x));
	if ((op->flags & ~GPUVM_BIND_DUMPABLE) || op->driver_arg)
		return -EOPNOTSUPP;
	x->iova = op->addr;
	x->range = op->range;
	x->flags = op->flags & GPUVM_BIND_DUMPABLE ? GPUVM_ABI_MSM_VM_BIND_OP_DUMP : 0;
	switch (op->type) {
	case GPUVM_BIND_OP_MAP:
		x->op = GPUVM_ABI_MSM_VM_BIND_OP_MAP;
		x->handle = op->handle;
		x->obj_offset = op->offset;
		return 0;
	case GPUVM_BIND_OP_MAP_SPARSE:
		x->op = GPUVM_ABI_MSM_VM_BIND_OP_MAP_NULL;
		return 0;
	case GPUVM_BIND_OP_UNMAP:
		x->op = GPUVM_ABI_MSM_VM_BIND_OP_UNMAP;
		return op->flags ? -EOPNOTSUPP : 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int msm_encode(uint32_t vm_id, const struct gpuvm_bind_batch *b,
		      const struct gpuvm_allocator *alloc, struct gpuvm_bind_encoded *out)
{
	size_t n_vec = b->n_ops > 1 ? b->n_ops : 0, n_in = 0, n_out = 0, size;
	struct gpuvm_abi_msm_vm_bind *arg;
	struct gpuvm_abi_msm_vm_bind_op *ops;
	struct gpuvm_abi_msm_syncobj *ins, *outs;
	int ret;

	(void)vm_id;
	if (b->flags & ~GPUVM_BIND_BATCH_ASYNC)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < b->n_syncs; i++) {
		if (b->syncs[i].flags & ~(GPUVM_BIND_SYNC_SIGNAL | GPUVM_BIND_SYNC_TIMELINE))
			return -EOPNOTSUPP;
		if (b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL)
			n_out++;
		else
			n_in++;
	}
	if (n_vec > (SIZE_MAX / 2) / sizeof(*ops) || b->n_syncs > (SIZE_MAX / 2) / sizeof(*ins))
		return -E2BIG;
	size = sizeof(*arg) + n_vec * sizeof(*ops) + b->n_syncs * sizeof(*ins);
	ret = gpuvm__bind_enc_alloc(alloc, size, out);
	if (ret)
		return ret;
	arg = out->storage_;
	ops = (void *)(arg + 1);
	ins = (void *)(ops + n_vec);
	outs = ins + n_in;

	if (b->n_ops == 1) {
		ret = op_to_msm(&b->ops[0], &arg->op);
		if (ret)
			return ret;
	} else if (b->n_ops > 1) {
		for (size_t i = 0; i < b->n_ops; i++) {
			ret = op_to_msm(&b->ops[i], &ops[i]);
			if (ret)
				return ret;
		}
		arg->ops = (uint64_t)(uintptr_t)ops;
	}
	for (size_t i = 0, w = 0, s = 0; i < b->n_syncs; i++) {
		const struct gpuvm_bind_sync *y = &b->syncs[i];
		struct gpuvm_abi_msm_syncobj *x =
			y->flags & GPUVM_BIND_SYNC_SIGNAL ? &outs[s++] : &ins[w++];

		x->handle = y->handle;
		x->point = y->point;
	}
	arg->nr_ops = (uint32_t)b->n_ops;
	arg->queue_id = b->queue_id;
	arg->in_syncobjs = n_in ? (uint64_t)(uintptr_t)ins : 0;
	arg->out_syncobjs = n_out ? (uint64_t)(uintptr_t)outs : 0;
	arg->nr_in_syncobjs = (uint32_t)n_in;
	arg->nr_out_syncobjs = (uint32_t)n_out;
	arg->syncobj_stride = MSM_SYNC_SIZE;
	arg->op_stride = MSM_OP_SIZE;
	out->arg = arg;
	out->arg_size = sizeof(*arg);
	out->n_ops = (uint32_t)b->n_ops;
	out->n_syncs = (uint32_t)b->n_syncs;
	return 0;
}

/* ---- decode ---------------------------------------------------------------- */

static int op_from_msm(const struct gpuvm_abi_msm_vm_bind_op *x, struct gpuvm_bind_op *op)
{
	if (x->pad || (x->flags & ~GPUVM_ABI_MSM_VM_BIND_OP_DUMP))
		return -EINVAL;
	memset(op, 0, sizeof(*op));
	op->addr = x->iova;
	op->range = x->range;
	switch (x->op) {
	case GPUVM_ABI_MSM_VM_BIND_OP_MAP:
		op->type = GPUVM_BIND_OP_MAP;
		op->handle = x->handle;
		op->offset = x->obj_offset;
		break;
	case GPUVM_ABI_MSM_VM_BIND_OP_MAP_NULL:
		if (x->handle)
			return -EINVAL;
		op->type = GPUVM_BIND_OP_MAP_SPARSE;
		break;
	case GPUVM_ABI_MSM_VM_BIND_OP_UNMAP:
		if (x->handle)
			return -EINVAL;
		op->type = GPUVM_BIND_OP_UNMAP;
		return 0;
	default:
		return -EINVAL;
	}
	op->flags = x->flags & GPUVM_ABI_MSM_VM_BIND_OP_DUMP ? GPUVM_BIND_DUMPABLE : 0;
	return 0;
}

static int read_syncs(const struct gpuvm_bind_decode_opts *o, uint64_t ptr, uint32_t count,
		      uint32_t stride, bool signal, struct gpuvm_bind_batch *b)
{
	int ret = gpuvm__bind_array_check(ptr, count, stride);

	for (uint32_t i = 0; !ret && i < count; i++) {
		struct gpuvm_abi_msm_syncobj x;
		struct gpuvm_bind_sync s;

		ret = gpuvm__bind_read_elem(o, ptr, i, stride, &x, sizeof(x));
		if (ret)
			break;
		if (signal ? x.flags != 0 : (x.flags & ~GPUVM_ABI_MSM_SYNCOBJ_RESET) != 0)
			return -EINVAL;
		if (x.flags)
			return -EOPNOTSUPP; /* RESET after the wait */
		memset(&s, 0, sizeof(s));
		s.handle = x.handle;
		s.flags = (signal ? GPUVM_BIND_SYNC_SIGNAL : 0) |
			  (x.point ? GPUVM_BIND_SYNC_TIMELINE : 0);
		s.point = x.point;
		ret = gpuvm_bind_batch_add_sync(b, &s);
	}
	return ret;
}

static int msm_decode(const struct gpuvm_bind_decode_opts *o, const void *argp, size_t arg_size,
		      struct gpuvm_bind_batch *b, uint32_t *vm_id)
{
	const uint32_t fd_flags =
		GPUVM_ABI_MSM_VM_BIND_FENCE_FD_IN | GPUVM_ABI_MSM_VM_BIND_FENCE_FD_OUT;
	struct gpuvm_abi_msm_vm_bind arg;
	const unsigned char *un;
	struct gpuvm_bind_op op;
	int ret;

	memset(&arg, 0, sizeof(arg));
	if (arg_size) /* zero-extended when shorter, truncated when longer */
		memcpy(&arg, argp, arg_size < sizeof(arg) ? arg_size : sizeof(arg));

	if (arg.flags & ~fd_flags)
		return -EINVAL;
	if (arg.nr_ops > gpuvm__bind_max_ops(o) ||
	    (uint64_t)arg.nr_in_syncobjs + arg.nr_out_syncobjs > gpuvm__bind_max_syncs(o))
		return -EINVAL;
	un = (const unsigned char *)&arg.op;
	if (arg.nr_ops == 0 && !gpuvm__bind_all_zero(un, sizeof(arg.op)))
		return -EINVAL;
	if (arg.nr_ops > 1) {
		if (!gpuvm__bind_all_zero(un + sizeof(uint64_t), sizeof(arg.op) - sizeof(uint64_t)))
			return -EINVAL;
		if (arg.op_stride && arg.op_stride != MSM_OP_SIZE)
			return -EINVAL;
	}
	if ((arg.nr_in_syncobjs || arg.nr_out_syncobjs) &&
	    (arg.syncobj_stride < MSM_SYNC_SIZE || arg.syncobj_stride > MSM_MAX_STRIDE))
		return -EINVAL;
	if (arg.flags & fd_flags)
		return -EOPNOTSUPP;

	if (arg.nr_ops == 1) {
		ret = op_from_msm(&arg.op, &op);
		if (!ret)
			ret = gpuvm_bind_batch_add(b, &op);
		if (ret)
			return ret;
	} else if (arg.nr_ops > 1) {
		ret = gpuvm__bind_array_check(arg.ops, arg.nr_ops, MSM_OP_SIZE);
		if (ret)
			return ret;
		for (uint32_t i = 0; i < arg.nr_ops; i++) {
			struct gpuvm_abi_msm_vm_bind_op x;

			ret = gpuvm__bind_read_elem(o, arg.ops, i, MSM_OP_SIZE, &x, sizeof(x));
			if (!ret)
				ret = op_from_msm(&x, &op);
			if (!ret)
				ret = gpuvm_bind_batch_add(b, &op);
			if (ret)
				return ret;
		}
	}
	ret = read_syncs(o, arg.in_syncobjs, arg.nr_in_syncobjs, arg.syncobj_stride, false, b);
	if (!ret)
		ret = read_syncs(o, arg.out_syncobjs, arg.nr_out_syncobjs, arg.syncobj_stride, true,
				 b);
	if (ret)
		return ret;
	b->queue_id = arg.queue_id;
	b->flags = 0;
	*vm_id = 0;
	return 0;
}

const struct gpuvm__bind_codec gpuvm__bind_codec_msm = {
	.driver = GPUVM_BIND_MSM,
	.info = {
		.sz = sizeof(struct gpuvm_bind_driver_info),
		.name = "msm",
		.op_types = 1u << GPUVM_BIND_OP_MAP | 1u << GPUVM_BIND_OP_MAP_SPARSE |
			    1u << GPUVM_BIND_OP_UNMAP,
		.op_flags = GPUVM_BIND_DUMPABLE,
		.caps = GPUVM_BIND_CAP_SYNC_ONLY | GPUVM_BIND_CAP_TIMELINE,
		.page_size = 4096,
		.bind_request = GPUVM_ABI_MSM_IOCTL_VM_BIND,
	},
	.encode = msm_encode,
	.decode = msm_decode,
};
