/* SPDX-License-Identifier: MIT */
/*
 * panthor VM_BIND codec (struct gpuvm_abi_panthor_vm_bind, lib/bind/abi/panthor.h).
 *
 * Kernel rules mirrored (drivers/gpu/drm/panthor/panthor_drv.c,
 * panthor_mmu.c):
 *  - ops and each op's syncs are {stride, count, array} arrays: count 0 is
 *    empty whatever the rest; a stride below the first uAPI's size (ops 48,
 *    syncs 16) is -EINVAL; a longer element must have a zero tail;
 *  - op type in flags bits 28-31: MAP (attributes READONLY, NOEXEC,
 *    UNCACHED), UNMAP (no attributes, bo_handle and bo_offset zero),
 *    SYNC_ONLY (also va and size zero, and at least one sync);
 *  - sync flags: handle type (bits 0-7: syncobj or timeline) and SIGNAL
 *    (bit 31), nothing else; a binary syncobj has timeline_value 0;
 *  - without ASYNC no op may carry syncs, and an op of size 0 is skipped
 *    (so a SYNC_ONLY op does nothing there).
 * Stricter than the kernel: bind flags other than ASYNC are refused, a
 * timeline sync needs a nonzero point, strides above 4096 are refused.
 * Decoding collects every op's syncs into the batch: the waits, then the
 * signals, each in order of appearance. Encoding puts the waits on the
 * first op and the signals on the last; syncs without ops become one
 * SYNC_ONLY op.
 */
#include "bind/bind_internal.h"
#include "bind/abi/panthor.h"

#include <string.h>

#define PT_ATTRS                                                                               \
	(GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_READONLY | GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_NOEXEC | \
	 GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_UNCACHED)
#define OUR_FLAGS (GPUVM_BIND_READ_ONLY | GPUVM_BIND_NOEXEC | GPUVM_BIND_UNCACHED)
#define PT_SYNC_FLAGS \
	(GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK | GPUVM_ABI_PANTHOR_SYNC_OP_SIGNAL)
#define PT_MAX_STRIDE 4096u

static uint32_t attrs_to_pt(uint32_t f)
{
	return (f & GPUVM_BIND_READ_ONLY ? GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_READONLY : 0) |
	       (f & GPUVM_BIND_NOEXEC ? GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_NOEXEC : 0) |
	       (f & GPUVM_BIND_UNCACHED ? GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_UNCACHED : 0);
}

static uint32_t attrs_from_pt(uint32_t f)
{
	return (f & GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_READONLY ? GPUVM_BIND_READ_ONLY : 0) |
	       (f & GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_NOEXEC ? GPUVM_BIND_NOEXEC : 0) |
	       (f & GPUVM_ABI_PANTHOR_VM_BIND_OP_MAP_UNCACHED ? GPUVM_BIND_UNCACHED : 0);
}

/* ---- encode ---------------------------------------------------------------- */

static int op_to_pt(const struct gpuvm_bind_op *op, struct gpuvm_abi_panthor_vm_bind_op *x)
{
	memset(x, 0, sizeof(*x));
	if ((op->flags & ~OUR_FLAGS) || op->driver_arg)
		return -EOPNOTSUPP;
	x->va = op->addr;
	x->size = op->range;
	switch (op->type) {
	case GPUVM_BIND_OP_MAP:
		x->flags = GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_MAP | attrs_to_pt(op->flags);
		x->bo_handle = op->handle;
		x->bo_offset = op->offset;
		return 0;
	case GPUVM_BIND_OP_UNMAP:
		x->flags = GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_UNMAP;
		return op->flags ? -EOPNOTSUPP : 0;
	default:
		return -EOPNOTSUPP;
	}
}

static void sync_to_pt(const struct gpuvm_bind_sync *s, struct gpuvm_abi_panthor_sync_op *x)
{
	x->flags = (s->flags & GPUVM_BIND_SYNC_TIMELINE
			    ? GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ
			    : GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ) |
		   (s->flags & GPUVM_BIND_SYNC_SIGNAL ? GPUVM_ABI_PANTHOR_SYNC_OP_SIGNAL
						      : GPUVM_ABI_PANTHOR_SYNC_OP_WAIT);
	x->handle = s->handle;
	x->timeline_value = s->point;
}

static int pt_encode(uint32_t vm_id, const struct gpuvm_bind_batch *b,
		     const struct gpuvm_allocator *alloc, struct gpuvm_bind_encoded *out)
{
	struct gpuvm_abi_panthor_vm_bind *arg;
	struct gpuvm_abi_panthor_vm_bind_op *ops;
	struct gpuvm_abi_panthor_sync_op *waits, *sigs;
	size_t n_ops = b->n_ops, n_wait = 0, n_sig = 0, size;
	int ret;

	if (b->queue_id || (b->flags & ~GPUVM_BIND_BATCH_ASYNC))
		return -EOPNOTSUPP;
	for (size_t i = 0; i < b->n_syncs; i++) {
		if (b->syncs[i].flags & ~(GPUVM_BIND_SYNC_SIGNAL | GPUVM_BIND_SYNC_TIMELINE))
			return -EOPNOTSUPP;
		if (b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL)
			n_sig++;
		else
			n_wait++;
	}
	if (!n_ops && b->n_syncs)
		n_ops = 1; /* one SYNC_ONLY op carries them */
	if (n_ops > (SIZE_MAX / 2) / sizeof(*ops) || b->n_syncs > (SIZE_MAX / 2) / sizeof(*waits))
		return -E2BIG;
	size = sizeof(*arg) + n_ops * sizeof(*ops) + b->n_syncs * sizeof(*waits);
	ret = gpuvm__bind_enc_alloc(alloc, size, out);
	if (ret)
		return ret;
	arg = out->storage_;
	ops = (void *)(arg + 1);
	waits = (void *)(ops + n_ops);
	sigs = waits + n_wait;

	if (b->n_ops) {
		for (size_t i = 0; i < b->n_ops; i++) {
			ret = op_to_pt(&b->ops[i], &ops[i]);
			if (ret)
				return ret;
		}
	} else if (n_ops) {
		ops[0].flags = GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY;
	}
	for (size_t i = 0, w = 0, s = 0; i < b->n_syncs; i++) {
		if (b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL)
			sync_to_pt(&b->syncs[i], &sigs[s++]);
		else
			sync_to_pt(&b->syncs[i], &waits[w++]);
	}
	if (n_ops == 1 && n_wait && n_sig) {
		/* one op waits and signals: one array, waits then signals */
		ops[0].syncs.stride = sizeof(*waits);
		ops[0].syncs.count = (uint32_t)(n_wait + n_sig);
		ops[0].syncs.array = (uint64_t)(uintptr_t)waits;
	} else {
		if (n_wait) {
			ops[0].syncs.stride = sizeof(*waits);
			ops[0].syncs.count = (uint32_t)n_wait;
			ops[0].syncs.array = (uint64_t)(uintptr_t)waits;
		}
		if (n_sig) {
			ops[n_ops - 1].syncs.stride = sizeof(*sigs);
			ops[n_ops - 1].syncs.count = (uint32_t)n_sig;
			ops[n_ops - 1].syncs.array = (uint64_t)(uintptr_t)sigs;
		}
	}
	arg->vm_id = vm_id;
	arg->flags = b->flags & GPUVM_BIND_BATCH_ASYNC ? GPUVM_ABI_PANTHOR_VM_BIND_ASYNC : 0;
	if (n_ops) {
		arg->ops.stride = sizeof(*ops);
		arg->ops.count = (uint32_t)n_ops;
		arg->ops.array = (uint64_t)(uintptr_t)ops;
	}
	out->arg = arg;
	out->arg_size = sizeof(*arg);
	out->n_ops = (uint32_t)n_ops;
	out->n_syncs = (uint32_t)b->n_syncs;
	return 0;
}

/* ---- decode ---------------------------------------------------------------- */

/* An obj_array's shape: bounded count, minimum stride, sane pointer. */
static int array_ok(const struct gpuvm_abi_panthor_obj_array *a, uint32_t min_stride)
{
	if (!a->count)
		return 0;
	if (a->stride < min_stride || a->stride > PT_MAX_STRIDE)
		return -EINVAL;
	return gpuvm__bind_array_check(a->array, a->count, a->stride);
}

static int sync_from_pt(const struct gpuvm_abi_panthor_sync_op *x, struct gpuvm_bind_sync *s)
{
	uint32_t type = x->flags & GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_MASK;

	if (x->flags & ~PT_SYNC_FLAGS)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->handle = x->handle;
	s->flags = x->flags & GPUVM_ABI_PANTHOR_SYNC_OP_SIGNAL ? GPUVM_BIND_SYNC_SIGNAL : 0;
	switch (type) {
	case GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ:
		return x->timeline_value ? -EINVAL : 0;
	case GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_TIMELINE_SYNCOBJ:
		s->flags |= GPUVM_BIND_SYNC_TIMELINE;
		s->point = x->timeline_value;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Check an op's fields for its type; *@skip when the kernel does nothing with it. */
static int op_from_pt(const struct gpuvm_abi_panthor_vm_bind_op *x, bool async,
		      struct gpuvm_bind_op *op, bool *skip)
{
	uint32_t type = x->flags & GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_MASK;

	*skip = false;
	memset(op, 0, sizeof(*op));
	switch (type) {
	case GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_MAP:
		if (x->flags & ~PT_ATTRS)
			return -EINVAL;
		op->type = GPUVM_BIND_OP_MAP;
		op->flags = attrs_from_pt(x->flags);
		op->handle = x->bo_handle;
		op->offset = x->bo_offset;
		break;
	case GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_UNMAP:
		if ((x->flags & ~type) || x->bo_handle || x->bo_offset)
			return -EINVAL;
		op->type = GPUVM_BIND_OP_UNMAP;
		break;
	case GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY:
		if ((x->flags & ~type) || x->bo_handle || x->bo_offset || x->va || x->size)
			return -EINVAL;
		if (async && !x->syncs.count)
			return -EINVAL;
		*skip = true;
		return 0;
	default:
		return -EINVAL;
	}
	op->addr = x->va;
	op->range = x->size;
	if (!async && !x->size)
		*skip = true; /* the kernel skips a synchronous op of size 0 */
	return 0;
}

/* Stable partition of the batch's syncs: waits first, then signals. */
static int waits_first(struct gpuvm_bind_batch *b)
{
	struct gpuvm_bind_sync *tmp;
	size_t n = b->n_syncs, k = 0;

	if (n < 2)
		return 0;
	tmp = gpuvm__alloc(&b->alloc, n * sizeof(*tmp), _Alignof(uint64_t));
	if (!tmp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL))
			tmp[k++] = b->syncs[i];
	for (size_t i = 0; i < n; i++)
		if (b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL)
			tmp[k++] = b->syncs[i];
	memcpy(b->syncs, tmp, n * sizeof(*tmp));
	gpuvm__free(&b->alloc, tmp, n * sizeof(*tmp));
	return 0;
}

static int pt_decode(const struct gpuvm_bind_decode_opts *o, const void *argp, size_t arg_size,
		     struct gpuvm_bind_batch *b, uint32_t *vm_id)
{
	struct gpuvm_abi_panthor_vm_bind arg;
	uint64_t total_syncs = 0;
	bool async;
	int ret;

	memset(&arg, 0, sizeof(arg));
	if (arg_size) /* zero-extended when shorter, truncated when longer */
		memcpy(&arg, argp, arg_size < sizeof(arg) ? arg_size : sizeof(arg));

	if (arg.flags & ~GPUVM_ABI_PANTHOR_VM_BIND_ASYNC)
		return -EINVAL;
	async = arg.flags & GPUVM_ABI_PANTHOR_VM_BIND_ASYNC;
	if (arg.ops.count > gpuvm__bind_max_ops(o))
		return -EINVAL;
	ret = array_ok(&arg.ops, GPUVM_ABI_PANTHOR_VM_BIND_OP_MIN_STRIDE);
	if (ret)
		return ret;

	for (uint32_t i = 0; i < arg.ops.count; i++) {
		struct gpuvm_abi_panthor_vm_bind_op x;
		struct gpuvm_bind_op op;
		bool skip;

		ret = gpuvm__bind_read_elem(o, arg.ops.array, i, arg.ops.stride, &x, sizeof(x));
		if (ret)
			return ret;
		if (x.syncs.count) {
			if (!async)
				return -EINVAL;
			total_syncs += x.syncs.count;
			if (total_syncs > gpuvm__bind_max_syncs(o))
				return -EINVAL;
			ret = array_ok(&x.syncs, GPUVM_ABI_PANTHOR_SYNC_OP_MIN_STRIDE);
			if (ret)
				return ret;
		}
		ret = op_from_pt(&x, async, &op, &skip);
		if (!ret && !skip)
			ret = gpuvm_bind_batch_add(b, &op);
		if (ret)
			return ret;
		for (uint32_t j = 0; j < x.syncs.count; j++) {
			struct gpuvm_abi_panthor_sync_op y;
			struct gpuvm_bind_sync s;

			ret = gpuvm__bind_read_elem(o, x.syncs.array, j, x.syncs.stride, &y,
						    sizeof(y));
			if (!ret)
				ret = sync_from_pt(&y, &s);
			if (!ret)
				ret = gpuvm_bind_batch_add_sync(b, &s);
			if (ret)
				return ret;
		}
	}
	ret = waits_first(b);
	if (ret)
		return ret;
	b->queue_id = 0;
	b->flags = async ? GPUVM_BIND_BATCH_ASYNC : 0;
	*vm_id = arg.vm_id;
	return 0;
}

const struct gpuvm__bind_codec gpuvm__bind_codec_panthor = {
	.driver = GPUVM_BIND_PANTHOR,
	.info = {
		.sz = sizeof(struct gpuvm_bind_driver_info),
		.name = "panthor",
		.op_types = 1u << GPUVM_BIND_OP_MAP | 1u << GPUVM_BIND_OP_UNMAP,
		.op_flags = OUR_FLAGS,
		.caps = GPUVM_BIND_CAP_SYNC_ONLY | GPUVM_BIND_CAP_TIMELINE,
		.page_size = 4096,
		.bind_request = GPUVM_ABI_PANTHOR_IOCTL_VM_BIND,
	},
	.encode = pt_encode,
	.decode = pt_decode,
};
