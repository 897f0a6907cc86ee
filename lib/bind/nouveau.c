/* SPDX-License-Identifier: MIT */
/*
 * nouveau VM_BIND codec (struct gpuvm_abi_nouveau_vm_bind, lib/bind/abi/nouveau.h).
 *
 * Kernel rules mirrored (drivers/gpu/drm/nouveau/nouveau_uvmm.c,
 * nouveau_sched.c):
 *  - op_ptr, wait_ptr and sig_ptr point to op_count 40-byte ops and
 *    wait_count / sig_count 16-byte syncs (fixed sizes, no stride);
 *  - syncs only with RUN_ASYNC (else -EINVAL); op_count == 0 with syncs is
 *    a valid job that only waits and signals (GPUVM_BIND_CAP_SYNC_ONLY);
 *  - op MAP (0) or UNMAP (1); the SPARSE flag turns them into the creation
 *    and removal of a sparse region; a MAP's flags bits 0-7 are the PTE
 *    kind (NVK passes it), carried in gpuvm_bind_op.driver_arg;
 *  - sync type (flags bits 0-3): syncobj or timeline syncobj.
 * Stricter than the kernel (it ignores these): the op's pad, op flags other
 * than the kind and SPARSE, sync flags above the type and bind flags other
 * than RUN_ASYNC must be zero; a timeline sync needs a nonzero point.
 * Ignored as the kernel ignores them: handle, bo_offset and kind of
 * everything but a plain MAP, timeline_value of a binary syncobj.
 */
#include "bind/bind_internal.h"
#include "bind/abi/nouveau.h"

#include <string.h>

#define NV_KIND_MASK 0xffu

/* ---- encode ---------------------------------------------------------------- */

static int op_to_nv(const struct gpuvm_bind_op *op, struct gpuvm_abi_nouveau_vm_bind_op *x)
{
	memset(x, 0, sizeof(*x));
	if (op->flags)
		return -EOPNOTSUPP;
	x->addr = op->addr;
	x->range = op->range;
	switch (op->type) {
	case GPUVM_BIND_OP_MAP:
		x->op = GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP;
		x->handle = op->handle;
		x->bo_offset = op->offset;
		if (op->driver_arg & ~NV_KIND_MASK)
			return -EOPNOTSUPP;
		x->flags = op->driver_arg; /* the PTE kind */
		return 0;
	case GPUVM_BIND_OP_MAP_SPARSE:
		x->op = GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP;
		x->flags = GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE;
		break;
	case GPUVM_BIND_OP_UNMAP:
		x->op = GPUVM_ABI_NOUVEAU_VM_BIND_OP_UNMAP;
		break;
	case GPUVM_BIND_OP_UNMAP_SPARSE:
		x->op = GPUVM_ABI_NOUVEAU_VM_BIND_OP_UNMAP;
		x->flags = GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE;
		break;
	default:
		return -EOPNOTSUPP;
	}
	return op->driver_arg ? -EOPNOTSUPP : 0;
}

static void sync_to_nv(const struct gpuvm_bind_sync *s, struct gpuvm_abi_nouveau_sync *x)
{
	x->flags = s->flags & GPUVM_BIND_SYNC_TIMELINE ? GPUVM_ABI_NOUVEAU_SYNC_TIMELINE_SYNCOBJ
						       : GPUVM_ABI_NOUVEAU_SYNC_SYNCOBJ;
	x->handle = s->handle;
	x->timeline_value = s->point;
}

static int nv_encode(uint32_t vm_id, const struct gpuvm_bind_batch *b,
		     const struct gpuvm_allocator *alloc, struct gpuvm_bind_encoded *out)
{
	struct gpuvm_abi_nouveau_vm_bind *arg;
	struct gpuvm_abi_nouveau_vm_bind_op *ops;
	struct gpuvm_abi_nouveau_sync *waits, *sigs;
	size_t n_wait = 0, n_sig = 0, size;
	int ret;

	(void)vm_id;
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
	if (b->n_ops > (SIZE_MAX / 2) / sizeof(*ops) ||
	    b->n_syncs > (SIZE_MAX / 2) / sizeof(*waits))
		return -E2BIG;
	size = sizeof(*arg) + b->n_ops * sizeof(*ops) + b->n_syncs * sizeof(*waits);
	ret = gpuvm__bind_enc_alloc(alloc, size, out);
	if (ret)
		return ret;
	arg = out->storage_;
	ops = (void *)(arg + 1);
	waits = (void *)(ops + b->n_ops);
	sigs = waits + n_wait;

	for (size_t i = 0; i < b->n_ops; i++) {
		ret = op_to_nv(&b->ops[i], &ops[i]);
		if (ret)
			return ret;
	}
	for (size_t i = 0, w = 0, s = 0; i < b->n_syncs; i++) {
		if (b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL)
			sync_to_nv(&b->syncs[i], &sigs[s++]);
		else
			sync_to_nv(&b->syncs[i], &waits[w++]);
	}
	arg->op_count = (uint32_t)b->n_ops;
	arg->flags = b->flags & GPUVM_BIND_BATCH_ASYNC ? GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC : 0;
	arg->wait_count = (uint32_t)n_wait;
	arg->sig_count = (uint32_t)n_sig;
	arg->op_ptr = b->n_ops ? (uint64_t)(uintptr_t)ops : 0;
	arg->wait_ptr = n_wait ? (uint64_t)(uintptr_t)waits : 0;
	arg->sig_ptr = n_sig ? (uint64_t)(uintptr_t)sigs : 0;
	out->arg = arg;
	out->arg_size = sizeof(*arg);
	out->n_ops = (uint32_t)b->n_ops;
	out->n_syncs = (uint32_t)b->n_syncs;
	return 0;
}

/* ---- decode ---------------------------------------------------------------- */

static int op_from_nv(const struct gpuvm_abi_nouveau_vm_bind_op *x, struct gpuvm_bind_op *op)
{
	bool sparse = x->flags & GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE;

	if (x->pad || (x->flags & ~(NV_KIND_MASK | GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE)))
		return -EINVAL;
	memset(op, 0, sizeof(*op));
	op->addr = x->addr;
	op->range = x->range;
	switch (x->op) {
	case GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP:
		if (sparse) {
			op->type = GPUVM_BIND_OP_MAP_SPARSE;
		} else {
			op->type = GPUVM_BIND_OP_MAP;
			op->driver_arg = x->flags & NV_KIND_MASK; /* the PTE kind */
			op->handle = x->handle;
			op->offset = x->bo_offset;
		}
		return 0;
	case GPUVM_ABI_NOUVEAU_VM_BIND_OP_UNMAP:
		op->type = sparse ? GPUVM_BIND_OP_UNMAP_SPARSE : GPUVM_BIND_OP_UNMAP;
		return 0;
	default:
		return -EINVAL;
	}
}

static int sync_from_nv(const struct gpuvm_abi_nouveau_sync *x, bool signal,
			struct gpuvm_bind_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->handle = x->handle;
	s->flags = signal ? GPUVM_BIND_SYNC_SIGNAL : 0;
	switch (x->flags) {
	case GPUVM_ABI_NOUVEAU_SYNC_SYNCOBJ:
		return 0;
	case GPUVM_ABI_NOUVEAU_SYNC_TIMELINE_SYNCOBJ:
		s->flags |= GPUVM_BIND_SYNC_TIMELINE;
		s->point = x->timeline_value;
		return 0;
	default:
		return -EINVAL;
	}
}

static int read_syncs(const struct gpuvm_bind_decode_opts *o, uint64_t ptr, uint32_t count,
		      bool signal, struct gpuvm_bind_batch *b)
{
	int ret = gpuvm__bind_array_check(ptr, count, sizeof(struct gpuvm_abi_nouveau_sync));

	for (uint32_t i = 0; !ret && i < count; i++) {
		struct gpuvm_abi_nouveau_sync x;
		struct gpuvm_bind_sync s;

		ret = gpuvm__bind_read_elem(o, ptr, i, sizeof(x), &x, sizeof(x));
		if (!ret)
			ret = sync_from_nv(&x, signal, &s);
		if (!ret)
			ret = gpuvm_bind_batch_add_sync(b, &s);
	}
	return ret;
}

static int nv_decode(const struct gpuvm_bind_decode_opts *o, const void *argp, size_t arg_size,
		     struct gpuvm_bind_batch *b, uint32_t *vm_id)
{
	struct gpuvm_abi_nouveau_vm_bind arg;
	int ret;

	memset(&arg, 0, sizeof(arg));
	if (arg_size) /* zero-extended when shorter, truncated when longer */
		memcpy(&arg, argp, arg_size < sizeof(arg) ? arg_size : sizeof(arg));

	if (arg.flags & ~GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC)
		return -EINVAL;
	if (arg.op_count > gpuvm__bind_max_ops(o) ||
	    (uint64_t)arg.wait_count + arg.sig_count > gpuvm__bind_max_syncs(o))
		return -EINVAL;
	if (!(arg.flags & GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC) && (arg.wait_count || arg.sig_count))
		return -EINVAL;

	ret = gpuvm__bind_array_check(arg.op_ptr, arg.op_count,
				      sizeof(struct gpuvm_abi_nouveau_vm_bind_op));
	if (ret)
		return ret;
	for (uint32_t i = 0; i < arg.op_count; i++) {
		struct gpuvm_abi_nouveau_vm_bind_op x;
		struct gpuvm_bind_op op;

		ret = gpuvm__bind_read_elem(o, arg.op_ptr, i, sizeof(x), &x, sizeof(x));
		if (!ret)
			ret = op_from_nv(&x, &op);
		if (!ret)
			ret = gpuvm_bind_batch_add(b, &op);
		if (ret)
			return ret;
	}
	ret = read_syncs(o, arg.wait_ptr, arg.wait_count, false, b);
	if (!ret)
		ret = read_syncs(o, arg.sig_ptr, arg.sig_count, true, b);
	if (ret)
		return ret;
	b->queue_id = 0;
	b->flags = arg.flags & GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC ? GPUVM_BIND_BATCH_ASYNC : 0;
	*vm_id = 0;
	return 0;
}

const struct gpuvm__bind_codec gpuvm__bind_codec_nouveau = {
	.driver = GPUVM_BIND_NOUVEAU,
	.info = {
		.sz = sizeof(struct gpuvm_bind_driver_info),
		.name = "nouveau",
		.op_types = 1u << GPUVM_BIND_OP_MAP | 1u << GPUVM_BIND_OP_MAP_SPARSE |
			    1u << GPUVM_BIND_OP_UNMAP | 1u << GPUVM_BIND_OP_UNMAP_SPARSE,
		.op_flags = 0,
		.caps = GPUVM_BIND_CAP_SPARSE_REGIONS | GPUVM_BIND_CAP_SYNC_ONLY |
			GPUVM_BIND_CAP_TIMELINE,
		.page_size = 4096,
		.bind_request = GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND,
	},
	.encode = nv_encode,
	.decode = nv_decode,
};
