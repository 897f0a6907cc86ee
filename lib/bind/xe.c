/* SPDX-License-Identifier: MIT */
/*
 * Intel xe VM_BIND codec (struct gpuvm_abi_xe_vm_bind, lib/bind/abi/xe.h).
 *
 * Kernel rules mirrored (drivers/gpu/drm/xe/xe_vm.c, xe_sync.c):
 *  - extensions, pad, pad2 and reserved[] of the argument must be zero;
 *  - num_binds == 1 carries the op inline, num_binds > 1 points to
 *    num_binds 80-byte ops; num_binds == 0 is a valid bind that only
 *    signals its syncs (GPUVM_BIND_CAP_SYNC_ONLY);
 *  - per op: op <= PREFETCH; flags within the known set; NULL only on MAP
 *    with obj and obj_offset zero; MAP without NULL needs obj; UNMAP_ALL
 *    needs obj and addr = range = 0; UNMAP, PREFETCH and MAP_USERPTR take
 *    no obj; a prefetch region only on PREFETCH; range nonzero except for
 *    UNMAP_ALL;
 *  - syncs: flags within SIGNAL, reserved zero, type syncobj (handle in the
 *    low 32 bits), timeline syncobj (nonzero value) or user fence.
 * Stricter than the kernel (it ignores these): each op's and sync's
 * extensions, pad, pad2 and reserved must be zero, and the unused bytes of
 * the inline-op union must be zero when num_binds != 1.
 * Ignored as the kernel ignores them: pat_index, READONLY, IMMEDIATE,
 * DUMPABLE and obj_offset of ops other than MAP (Mesa's iris fills them on
 * unbinds), and timeline_value of a binary syncobj. The PAT index of a NULL
 * bind is dropped too (GPUVM_BIND_OP_MAP_SPARSE has no driver_arg), and
 * encoded as 0.
 * Not expressible (-EOPNOTSUPP): MAP_USERPTR, CPU_ADDR_MIRROR, CHECK_PXP,
 * user fences.
 */
#include "bind/bind_internal.h"
#include "bind/abi/xe.h"

#include <string.h>

#define XE_KNOWN_FLAGS                                                              \
	(GPUVM_ABI_XE_VM_BIND_FLAG_READONLY | GPUVM_ABI_XE_VM_BIND_FLAG_IMMEDIATE | \
	 GPUVM_ABI_XE_VM_BIND_FLAG_NULL | GPUVM_ABI_XE_VM_BIND_FLAG_DUMPABLE |      \
	 GPUVM_ABI_XE_VM_BIND_FLAG_CHECK_PXP | GPUVM_ABI_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR)
#define XE_ATTR_FLAGS                                                               \
	(GPUVM_ABI_XE_VM_BIND_FLAG_READONLY | GPUVM_ABI_XE_VM_BIND_FLAG_IMMEDIATE | \
	 GPUVM_ABI_XE_VM_BIND_FLAG_DUMPABLE)
#define OUR_FLAGS (GPUVM_BIND_READ_ONLY | GPUVM_BIND_IMMEDIATE | GPUVM_BIND_DUMPABLE)

static uint32_t flags_to_xe(uint32_t f)
{
	return (f & GPUVM_BIND_READ_ONLY ? GPUVM_ABI_XE_VM_BIND_FLAG_READONLY : 0) |
	       (f & GPUVM_BIND_IMMEDIATE ? GPUVM_ABI_XE_VM_BIND_FLAG_IMMEDIATE : 0) |
	       (f & GPUVM_BIND_DUMPABLE ? GPUVM_ABI_XE_VM_BIND_FLAG_DUMPABLE : 0);
}

static uint32_t flags_from_xe(uint32_t f)
{
	return (f & GPUVM_ABI_XE_VM_BIND_FLAG_READONLY ? GPUVM_BIND_READ_ONLY : 0) |
	       (f & GPUVM_ABI_XE_VM_BIND_FLAG_IMMEDIATE ? GPUVM_BIND_IMMEDIATE : 0) |
	       (f & GPUVM_ABI_XE_VM_BIND_FLAG_DUMPABLE ? GPUVM_BIND_DUMPABLE : 0);
}

/* ---- encode ---------------------------------------------------------------- */

static int op_to_xe(const struct gpuvm_bind_op *op, struct gpuvm_abi_xe_vm_bind_op *x)
{
	memset(x, 0, sizeof(*x));
	if (op->flags & ~OUR_FLAGS)
		return -EOPNOTSUPP;
	x->addr = op->addr;
	x->range = op->range;
	switch (op->type) {
	case GPUVM_BIND_OP_MAP:
	case GPUVM_BIND_OP_MAP_SPARSE:
		if (op->driver_arg > UINT16_MAX)
			return -EOPNOTSUPP;
		x->op = GPUVM_ABI_XE_VM_BIND_OP_MAP;
		x->pat_index = (uint16_t)op->driver_arg;
		x->flags = flags_to_xe(op->flags);
		if (op->type == GPUVM_BIND_OP_MAP) {
			x->obj = op->handle;
			x->obj_offset = op->offset;
		} else {
			/* a NULL bind; its PAT index (0 here) selects nothing */
			x->flags |= GPUVM_ABI_XE_VM_BIND_FLAG_NULL;
		}
		return 0;
	case GPUVM_BIND_OP_UNMAP:
		x->op = GPUVM_ABI_XE_VM_BIND_OP_UNMAP;
		break;
	case GPUVM_BIND_OP_UNMAP_BO:
		x->op = GPUVM_ABI_XE_VM_BIND_OP_UNMAP_ALL;
		x->obj = op->handle;
		break;
	case GPUVM_BIND_OP_PREFETCH:
		x->op = GPUVM_ABI_XE_VM_BIND_OP_PREFETCH;
		x->prefetch_mem_region_instance = op->driver_arg;
		return op->flags ? -EOPNOTSUPP : 0;
	default:
		return -EOPNOTSUPP;
	}
	return op->flags || op->driver_arg ? -EOPNOTSUPP : 0;
}

static int xe_encode(uint32_t vm_id, const struct gpuvm_bind_batch *b,
		     const struct gpuvm_allocator *alloc, struct gpuvm_bind_encoded *out)
{
	size_t n_vec = b->n_ops > 1 ? b->n_ops : 0;
	size_t size, ops_off, syncs_off;
	struct gpuvm_abi_xe_vm_bind *arg;
	struct gpuvm_abi_xe_vm_bind_op *ops;
	struct gpuvm_abi_xe_sync *syncs;
	int ret;

	if (n_vec > (SIZE_MAX / 2) / sizeof(*ops) || b->n_syncs > (SIZE_MAX / 2) / sizeof(*syncs))
		return -E2BIG;
	ops_off = sizeof(*arg);
	syncs_off = ops_off + n_vec * sizeof(*ops);
	size = syncs_off + b->n_syncs * sizeof(*syncs);
	ret = gpuvm__bind_enc_alloc(alloc, size, out);
	if (ret)
		return ret;
	arg = out->storage_;
	ops = (void *)((char *)out->storage_ + ops_off);
	syncs = (void *)((char *)out->storage_ + syncs_off);

	arg->vm_id = vm_id;
	arg->exec_queue_id = b->queue_id;
	arg->num_binds = (uint32_t)b->n_ops;
	if (b->n_ops == 1) {
		ret = op_to_xe(&b->ops[0], &arg->bind);
		if (ret)
			return ret;
	} else if (b->n_ops > 1) {
		for (size_t i = 0; i < b->n_ops; i++) {
			ret = op_to_xe(&b->ops[i], &ops[i]);
			if (ret)
				return ret;
		}
		arg->vector_of_binds = (uint64_t)(uintptr_t)ops;
	}
	for (size_t i = 0; i < b->n_syncs; i++) {
		const struct gpuvm_bind_sync *s = &b->syncs[i];

		if (s->flags & ~(GPUVM_BIND_SYNC_SIGNAL | GPUVM_BIND_SYNC_TIMELINE))
			return -EOPNOTSUPP;
		syncs[i].type = s->flags & GPUVM_BIND_SYNC_TIMELINE
					? GPUVM_ABI_XE_SYNC_TYPE_TIMELINE_SYNCOBJ
					: GPUVM_ABI_XE_SYNC_TYPE_SYNCOBJ;
		syncs[i].flags =
			s->flags & GPUVM_BIND_SYNC_SIGNAL ? GPUVM_ABI_XE_SYNC_FLAG_SIGNAL : 0;
		syncs[i].handle = s->handle;
		syncs[i].timeline_value = s->point;
	}
	arg->num_syncs = (uint32_t)b->n_syncs;
	if (b->n_syncs)
		arg->syncs = (uint64_t)(uintptr_t)syncs;
	out->arg = arg;
	out->arg_size = sizeof(*arg);
	out->n_ops = (uint32_t)b->n_ops;
	out->n_syncs = (uint32_t)b->n_syncs;
	return 0;
}

/* ---- decode ---------------------------------------------------------------- */

static int op_from_xe(const struct gpuvm_abi_xe_vm_bind_op *x, struct gpuvm_bind_op *op)
{
	uint32_t f = x->flags;
	bool is_null = f & GPUVM_ABI_XE_VM_BIND_FLAG_NULL;
	bool mirror = f & GPUVM_ABI_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;

	if (x->extensions || x->pad || x->pad2 ||
	    !gpuvm__bind_all_zero(x->reserved, sizeof(x->reserved)))
		return -EINVAL;
	if (x->op > GPUVM_ABI_XE_VM_BIND_OP_PREFETCH || (f & ~XE_KNOWN_FLAGS))
		return -EINVAL;
	if ((is_null || mirror) &&
	    (x->obj || x->obj_offset || x->op != GPUVM_ABI_XE_VM_BIND_OP_MAP))
		return -EINVAL;
	if (x->op == GPUVM_ABI_XE_VM_BIND_OP_MAP && !x->obj && !is_null && !mirror)
		return -EINVAL;
	if (x->op == GPUVM_ABI_XE_VM_BIND_OP_UNMAP_ALL && (!x->obj || x->addr || x->range))
		return -EINVAL;
	if (x->obj &&
	    (x->op == GPUVM_ABI_XE_VM_BIND_OP_MAP_USERPTR ||
	     x->op == GPUVM_ABI_XE_VM_BIND_OP_PREFETCH || x->op == GPUVM_ABI_XE_VM_BIND_OP_UNMAP))
		return -EINVAL;
	if (x->prefetch_mem_region_instance && x->op != GPUVM_ABI_XE_VM_BIND_OP_PREFETCH)
		return -EINVAL;
	if (!x->range && x->op != GPUVM_ABI_XE_VM_BIND_OP_UNMAP_ALL)
		return -EINVAL;
	/* valid for the kernel, but nothing a gpuvm_bind_op can say */
	if (x->op == GPUVM_ABI_XE_VM_BIND_OP_MAP_USERPTR || mirror ||
	    (f & GPUVM_ABI_XE_VM_BIND_FLAG_CHECK_PXP))
		return -EOPNOTSUPP;

	memset(op, 0, sizeof(*op));
	op->addr = x->addr;
	op->range = x->range;
	switch (x->op) {
	case GPUVM_ABI_XE_VM_BIND_OP_MAP:
		op->type = is_null ? GPUVM_BIND_OP_MAP_SPARSE : GPUVM_BIND_OP_MAP;
		op->flags = flags_from_xe(f);
		/* a NULL bind's PAT index is dropped: MAP_SPARSE has no driver_arg */
		op->driver_arg = is_null ? 0 : x->pat_index;
		op->handle = x->obj;
		op->offset = x->obj_offset;
		break;
	case GPUVM_ABI_XE_VM_BIND_OP_UNMAP:
		op->type = GPUVM_BIND_OP_UNMAP;
		break;
	case GPUVM_ABI_XE_VM_BIND_OP_UNMAP_ALL:
		op->type = GPUVM_BIND_OP_UNMAP_BO;
		op->handle = x->obj;
		break;
	default: /* PREFETCH */
		op->type = GPUVM_BIND_OP_PREFETCH;
		op->driver_arg = x->prefetch_mem_region_instance;
		break;
	}
	return 0;
}

static int sync_from_xe(const struct gpuvm_abi_xe_sync *x, struct gpuvm_bind_sync *s)
{
	if (x->extensions || x->reserved[0] || x->reserved[1] ||
	    (x->flags & ~GPUVM_ABI_XE_SYNC_FLAG_SIGNAL))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->flags = x->flags & GPUVM_ABI_XE_SYNC_FLAG_SIGNAL ? GPUVM_BIND_SYNC_SIGNAL : 0;
	switch (x->type) {
	case GPUVM_ABI_XE_SYNC_TYPE_SYNCOBJ:
		if (x->addr >> 32)
			return -EINVAL;
		s->handle = (uint32_t)x->addr;
		return 0; /* the kernel ignores timeline_value here */
	case GPUVM_ABI_XE_SYNC_TYPE_TIMELINE_SYNCOBJ:
		if ((x->addr >> 32) || !x->timeline_value)
			return -EINVAL;
		s->handle = (uint32_t)x->addr;
		s->flags |= GPUVM_BIND_SYNC_TIMELINE;
		s->point = x->timeline_value;
		return 0;
	case GPUVM_ABI_XE_SYNC_TYPE_USER_FENCE:
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

static int xe_decode(const struct gpuvm_bind_decode_opts *o, const void *argp, size_t arg_size,
		     struct gpuvm_bind_batch *b, uint32_t *vm_id)
{
	struct gpuvm_abi_xe_vm_bind arg;
	const unsigned char *un;
	struct gpuvm_bind_op op;
	int ret;

	memset(&arg, 0, sizeof(arg));
	if (arg_size) /* zero-extended when shorter, truncated when longer */
		memcpy(&arg, argp, arg_size < sizeof(arg) ? arg_size : sizeof(arg));

	if (arg.extensions || arg.pad || arg.pad2 || arg.reserved[0] || arg.reserved[1])
		return -EINVAL;
	if (arg.num_binds > gpuvm__bind_max_ops(o) || arg.num_syncs > gpuvm__bind_max_syncs(o))
		return -EINVAL;

	/* the inline op and the vector pointer share bytes: whichever is not
	 * in use must be zero */
	un = (const unsigned char *)&arg.bind;
	if (arg.num_binds == 0 && !gpuvm__bind_all_zero(un, sizeof(arg.bind)))
		return -EINVAL;
	if (arg.num_binds > 1 &&
	    !gpuvm__bind_all_zero(un + sizeof(uint64_t), sizeof(arg.bind) - sizeof(uint64_t)))
		return -EINVAL;

	if (arg.num_binds == 1) {
		ret = op_from_xe(&arg.bind, &op);
		if (!ret)
			ret = gpuvm_bind_batch_add(b, &op);
		if (ret)
			return ret;
	} else if (arg.num_binds > 1) {
		ret = gpuvm__bind_array_check(arg.vector_of_binds, arg.num_binds,
					      sizeof(struct gpuvm_abi_xe_vm_bind_op));
		if (ret)
			return ret;
		for (uint32_t i = 0; i < arg.num_binds; i++) {
			struct gpuvm_abi_xe_vm_bind_op x;

			ret = gpuvm__bind_read_elem(o, arg.vector_of_binds, i, sizeof(x), &x,
						    sizeof(x));
			if (!ret)
				ret = op_from_xe(&x, &op);
			if (!ret)
				ret = gpuvm_bind_batch_add(b, &op);
			if (ret)
				return ret;
		}
	}

	ret = gpuvm__bind_array_check(arg.syncs, arg.num_syncs, sizeof(struct gpuvm_abi_xe_sync));
	if (ret)
		return ret;
	for (uint32_t i = 0; i < arg.num_syncs; i++) {
		struct gpuvm_abi_xe_sync x;
		struct gpuvm_bind_sync s;

		ret = gpuvm__bind_read_elem(o, arg.syncs, i, sizeof(x), &x, sizeof(x));
		if (!ret)
			ret = sync_from_xe(&x, &s);
		if (!ret)
			ret = gpuvm_bind_batch_add_sync(b, &s);
		if (ret)
			return ret;
	}
	b->queue_id = arg.exec_queue_id;
	b->flags = 0;
	*vm_id = arg.vm_id;
	return 0;
}

const struct gpuvm__bind_codec gpuvm__bind_codec_xe = {
	.driver = GPUVM_BIND_XE,
	.info = {
		.sz = sizeof(struct gpuvm_bind_driver_info),
		.name = "xe",
		.op_types = 1u << GPUVM_BIND_OP_MAP | 1u << GPUVM_BIND_OP_MAP_SPARSE |
			    1u << GPUVM_BIND_OP_UNMAP | 1u << GPUVM_BIND_OP_UNMAP_BO |
			    1u << GPUVM_BIND_OP_PREFETCH,
		.op_flags = OUR_FLAGS,
		.caps = GPUVM_BIND_CAP_SYNC_ONLY | GPUVM_BIND_CAP_TIMELINE,
		.page_size = 4096,
		.bind_request = GPUVM_ABI_XE_IOCTL_VM_BIND,
	},
	.encode = xe_encode,
	.decode = xe_decode,
};
