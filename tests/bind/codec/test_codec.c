/* SPDX-License-Identifier: MIT */
/*
 * VM_BIND payload codecs: gpuvm_bind_encode() / gpuvm_bind_decode() for xe,
 * nouveau, panthor and msm.
 *
 *  - round trips of rich batches (every op type and flag a driver has,
 *    0, 1 and many ops, binary and timeline syncs, queue and VM ids), with
 *    checks of the payload's shape (inline vs array, strides, where
 *    panthor puts its syncs);
 *  - the same payloads decoded from a fake guest memory through a
 *    VMM-style read hook;
 *  - encode refusing what a driver cannot express (-EOPNOTSUPP, -E2BIG);
 *  - one malformed-payload table per driver, each row giving its errno and
 *    leaving the batch empty (queue id and flags as before);
 *  - shorter (zero-extended) and longer (truncated) argument sizes;
 *  - the read hook failing at each read of a good payload (-EFAULT);
 *  - random and mutated payloads: a valid batch or a clean error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gpuvm/bind.h>

#include "bind_internal.h"
#include "test_alloc.h"
#include "abi/msm.h"
#include "abi/nouveau.h"
#include "abi/panthor.h"
#include "abi/xe.h"

/* ---- fake guest memory and its read hook ------------------------------------ */

#define GBASE 0x10000000ull
#define GSIZE (64u * 1024u)

struct guest {
	unsigned char mem[GSIZE];
	long fail_at; /* fail the read with this index (-1: never) */
	long reads;
};

static int guest_read(void *data, uint64_t uptr, void *dst, size_t len)
{
	struct guest *g = data;

	if (g->fail_at >= 0 && g->reads == g->fail_at) {
		g->reads++;
		return -EFAULT;
	}
	g->reads++;
	if (uptr < GBASE || uptr - GBASE > GSIZE || len > GSIZE - (uptr - GBASE))
		return -EFAULT;
	memcpy(dst, g->mem + (uptr - GBASE), len);
	return 0;
}

static struct guest *guest_new(void)
{
	struct guest *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->fail_at = -1;
	return g;
}

/* Guest address of offset @off of the guest memory. */
static uint64_t gaddr(size_t off)
{
	return GBASE + off;
}

/*
 * Copy an encoded payload's storage into the guest at offset 0 and turn every
 * 8-byte word that points into the storage into the matching guest address
 * (the arrays of our encoders all live in the storage). Returns the guest
 * copy of the argument (which a VMM would have copied in already).
 */
static void *guest_load(struct guest *g, const struct gpuvm_bind_encoded *enc)
{
	uint64_t lo = (uint64_t)(uintptr_t)enc->storage_;
	uint64_t hi = lo + enc->storage_size_;

	assert_true(enc->storage_size_ <= GSIZE);
	memset(g->mem, 0, sizeof(g->mem));
	memcpy(g->mem, enc->storage_, enc->storage_size_);
	for (size_t off = 0; off + 8 <= enc->storage_size_; off += 8) {
		uint64_t v;

		memcpy(&v, g->mem + off, 8);
		if (v >= lo && v < hi) {
			v = v - lo + GBASE;
			memcpy(g->mem + off, &v, 8);
		}
	}
	assert_ptr_equal(enc->arg, enc->storage_);
	return g->mem;
}

/* ---- batches ----------------------------------------------------------------- */

static struct gpuvm_bind_batch *batch_new(uint32_t queue, uint32_t flags)
{
	GPUVM_OPTS(gpuvm_bind_batch_opts, o, .queue_id = queue, .flags = flags);
	struct gpuvm_bind_batch *b = NULL;

	assert_int_equal(gpuvm_bind_batch_create(&o, &b), 0);
	return b;
}

static void add_op(struct gpuvm_bind_batch *b, uint32_t type, uint32_t flags, uint32_t handle,
		   uint32_t darg, uint64_t addr, uint64_t range, uint64_t offset)
{
	struct gpuvm_bind_op op = {
		.type = type, .flags = flags, .handle = handle, .driver_arg = darg,
		.addr = addr, .range = range, .offset = offset,
	};

	assert_int_equal(gpuvm_bind_batch_add(b, &op), 0);
}

static void add_sync(struct gpuvm_bind_batch *b, uint32_t handle, uint32_t flags, uint64_t point)
{
	struct gpuvm_bind_sync s = { .handle = handle, .flags = flags, .point = point };

	assert_int_equal(gpuvm_bind_batch_add_sync(b, &s), 0);
}

/* Waits first (binary, timeline), then signals (binary, timeline). */
static void add_all_syncs(struct gpuvm_bind_batch *b)
{
	add_sync(b, 11, 0, 0);
	add_sync(b, 12, GPUVM_BIND_SYNC_TIMELINE, 5);
	add_sync(b, 13, GPUVM_BIND_SYNC_SIGNAL, 0);
	add_sync(b, 14, GPUVM_BIND_SYNC_SIGNAL | GPUVM_BIND_SYNC_TIMELINE, 9);
}

static void assert_batch_equal(const struct gpuvm_bind_batch *a, const struct gpuvm_bind_batch *b,
			       bool same_flags)
{
	size_t na, nb;
	const struct gpuvm_bind_op *oa = gpuvm_bind_batch_ops(a, &na);
	const struct gpuvm_bind_op *ob = gpuvm_bind_batch_ops(b, &nb);
	const struct gpuvm_bind_sync *sa, *sb;

	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(oa[i].type, ob[i].type);
		assert_int_equal(oa[i].flags, ob[i].flags);
		assert_int_equal(oa[i].handle, ob[i].handle);
		assert_int_equal(oa[i].driver_arg, ob[i].driver_arg);
		assert_int_equal(oa[i].addr, ob[i].addr);
		assert_int_equal(oa[i].range, ob[i].range);
		assert_int_equal(oa[i].offset, ob[i].offset);
	}
	sa = gpuvm_bind_batch_syncs(a, &na);
	sb = gpuvm_bind_batch_syncs(b, &nb);
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(sa[i].handle, sb[i].handle);
		assert_int_equal(sa[i].flags, sb[i].flags);
		assert_int_equal(sa[i].point, sb[i].point);
	}
	assert_int_equal(gpuvm_bind_batch_queue(a), gpuvm_bind_batch_queue(b));
	if (same_flags)
		assert_int_equal(gpuvm_bind_batch_flags(a), gpuvm_bind_batch_flags(b));
}

static void assert_batch_empty(const struct gpuvm_bind_batch *b, uint32_t queue, uint32_t flags)
{
	size_t n;

	gpuvm_bind_batch_ops(b, &n);
	assert_int_equal(n, 0);
	gpuvm_bind_batch_syncs(b, &n);
	assert_int_equal(n, 0);
	assert_int_equal(gpuvm_bind_batch_queue(b), queue);
	assert_int_equal(gpuvm_bind_batch_flags(b), flags);
}

/* Every op and sync of @b is one gpuvm_bind_batch_add() would take. */
static void assert_batch_valid(const struct gpuvm_bind_batch *b)
{
	size_t n;
	const struct gpuvm_bind_op *ops = gpuvm_bind_batch_ops(b, &n);
	const struct gpuvm_bind_sync *syncs;

	for (size_t i = 0; i < n; i++)
		assert_int_equal(gpuvm__bind_op_valid(&ops[i]), 0);
	syncs = gpuvm_bind_batch_syncs(b, &n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(gpuvm__bind_sync_valid(&syncs[i]), 0);
}

static struct gpuvm_bind_decode_opts dopts(uint32_t driver, struct guest *g)
{
	GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = driver);

	if (g) {
		o.read = guest_read;
		o.read_data = g;
	}
	return o;
}

static unsigned long bind_request(uint32_t driver)
{
	struct gpuvm_bind_driver_info info = { .sz = sizeof(info) };

	assert_int_equal(gpuvm_bind_driver_info(driver, &info), 0);
	return info.bind_request;
}

/* Request @req with its size field replaced by @size. */
static unsigned long with_size(unsigned long req, size_t size)
{
	return (req & ~(0x3ffful << 16)) | ((unsigned long)size << 16);
}

/*
 * Encode @b, decode it directly and from guest memory, and compare both
 * with @b. Returns nothing; @enc_check may look at the payload first.
 */
static void round_trip(uint32_t driver, uint32_t vm_id, const struct gpuvm_bind_batch *b,
		       bool same_flags,
		       void (*enc_check)(const struct gpuvm_bind_encoded *, const struct gpuvm_bind_batch *))
{
	struct gpuvm_bind_encoded enc;
	struct gpuvm_bind_batch *d = batch_new(0, 0);
	struct guest *g = guest_new();
	struct gpuvm_bind_decode_opts o = dopts(driver, NULL);
	uint32_t id = 0xdead;
	void *garg;

	assert_int_equal(gpuvm_bind_encode(driver, vm_id, b, &enc), 0);
	assert_int_equal(enc.request, bind_request(driver));
	assert_int_equal(enc.arg_size, (enc.request >> 16) & 0x3fff);
	assert_int_equal(enc.n_syncs, b->n_syncs);
	if (enc_check)
		enc_check(&enc, b);

	assert_int_equal(gpuvm_bind_decode(&o, enc.request, enc.arg, d, &id), 0);
	assert_batch_equal(b, d, same_flags);
	assert_batch_valid(d);
	if (driver == GPUVM_BIND_XE || driver == GPUVM_BIND_PANTHOR)
		assert_int_equal(id, vm_id);
	else
		assert_int_equal(id, 0);

	/* the same payload in a guest's memory, through the read hook */
	garg = guest_load(g, &enc);
	o = dopts(driver, g);
	id = 0xdead;
	assert_int_equal(gpuvm_bind_decode(&o, enc.request, garg, d, &id), 0);
	assert_batch_equal(b, d, same_flags);

	/* the hook failing at each of its reads: -EFAULT, nothing decoded */
	for (long k = 0, n = g->reads; k < n; k++) {
		d->queue_id = 99;
		d->flags = 0;
		g->reads = 0;
		g->fail_at = k;
		assert_int_equal(gpuvm_bind_decode(&o, enc.request, garg, d, &id), -EFAULT);
		assert_batch_empty(d, 99, 0);
	}

	gpuvm_bind_encoded_fini(&enc);
	assert_null(enc.storage_);
	gpuvm_bind_encoded_fini(&enc); /* idempotent */
	gpuvm_bind_batch_destroy(d);
	free(g);
}

/* ---- round trips ---------------------------------------------------------------- */

static void xe_check(const struct gpuvm_bind_encoded *enc, const struct gpuvm_bind_batch *b)
{
	const struct gpuvm_abi_xe_vm_bind *a = enc->arg;

	assert_int_equal(enc->arg_size, sizeof(*a));
	assert_int_equal(a->num_binds, b->n_ops);
	assert_int_equal(a->exec_queue_id, b->queue_id);
	if (b->n_ops == 1) {
		assert_int_equal(a->bind.addr, b->ops[0].addr);
		assert_int_equal(a->bind.range, b->ops[0].range);
	} else if (b->n_ops > 1) {
		const struct gpuvm_abi_xe_vm_bind_op *v = (const void *)(uintptr_t)a->vector_of_binds;

		assert_non_null(v);
		assert_int_equal(v[b->n_ops - 1].addr, b->ops[b->n_ops - 1].addr);
	}
	assert_int_equal(a->num_syncs, b->n_syncs);
}

static void test_xe_round_trip(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(4, 0);

	(void)state;
	add_op(b, GPUVM_BIND_OP_MAP,
	       GPUVM_BIND_READ_ONLY | GPUVM_BIND_IMMEDIATE | GPUVM_BIND_DUMPABLE, 1, 3, 0x100000,
	       0x4000, 0x1000);
	add_op(b, GPUVM_BIND_OP_MAP, 0, 2, 0, 0x200000, 0x1000, 0);
	add_op(b, GPUVM_BIND_OP_MAP_SPARSE, GPUVM_BIND_DUMPABLE, 0, 0, 0x300000, 0x10000, 0);
	add_op(b, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x101000, 0x1000, 0);
	add_op(b, GPUVM_BIND_OP_UNMAP_BO, 0, 2, 0, 0, 0, 0);
	add_op(b, GPUVM_BIND_OP_PREFETCH, 0, 0, 1, 0x100000, 0x2000, 0);
	add_all_syncs(b);
	round_trip(GPUVM_BIND_XE, 12, b, true, xe_check);

	/* one op: inline */
	gpuvm_bind_batch_reset(b);
	add_op(b, GPUVM_BIND_OP_MAP, GPUVM_BIND_READ_ONLY, 7, 2, 0x1000, 0x1000, 0x2000);
	add_sync(b, 3, GPUVM_BIND_SYNC_SIGNAL, 0);
	round_trip(GPUVM_BIND_XE, 1, b, true, xe_check);

	/* syncs only (num_binds 0), and nothing at all */
	gpuvm_bind_batch_reset(b);
	add_all_syncs(b);
	round_trip(GPUVM_BIND_XE, 2, b, true, xe_check);
	gpuvm_bind_batch_reset(b);
	round_trip(GPUVM_BIND_XE, 2, b, true, xe_check);
	gpuvm_bind_batch_destroy(b);
}

static void nv_check(const struct gpuvm_bind_encoded *enc, const struct gpuvm_bind_batch *b)
{
	const struct gpuvm_abi_nouveau_vm_bind *a = enc->arg;
	size_t sig = 0;

	for (size_t i = 0; i < b->n_syncs; i++)
		sig += !!(b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL);
	assert_int_equal(a->op_count, b->n_ops);
	assert_int_equal(a->sig_count, sig);
	assert_int_equal(a->wait_count, b->n_syncs - sig);
	assert_int_equal(!!(a->flags & GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC),
			 !!(b->flags & GPUVM_BIND_BATCH_ASYNC));
	/* a MAP's PTE kind travels in bits 0-7 of the op's flags */
	for (size_t i = 0; i < b->n_ops; i++) {
		const struct gpuvm_abi_nouveau_vm_bind_op *x =
			(const struct gpuvm_abi_nouveau_vm_bind_op *)(uintptr_t)a->op_ptr + i;

		if (b->ops[i].type == GPUVM_BIND_OP_MAP)
			assert_int_equal(x->flags, b->ops[i].driver_arg);
	}
}

static void test_nouveau_round_trip(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(0, GPUVM_BIND_BATCH_ASYNC);

	(void)state;
	add_op(b, GPUVM_BIND_OP_MAP_SPARSE, 0, 0, 0, 0x100000, 0x100000, 0);
	add_op(b, GPUVM_BIND_OP_MAP, 0, 1, 0x86, 0x100000, 0x4000, 0x1000); /* PTE kind 0x86 */
	add_op(b, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x101000, 0x1000, 0);
	add_op(b, GPUVM_BIND_OP_UNMAP_SPARSE, 0, 0, 0, 0x100000, 0x100000, 0);
	add_all_syncs(b);
	round_trip(GPUVM_BIND_NOUVEAU, 0, b, true, nv_check);

	gpuvm_bind_batch_reset(b);
	add_op(b, GPUVM_BIND_OP_MAP, 0, 1, 0, 0x100000, 0x4000, 0);
	round_trip(GPUVM_BIND_NOUVEAU, 0, b, true, nv_check);

	gpuvm_bind_batch_reset(b);
	add_all_syncs(b); /* op_count 0: a sync-only job */
	round_trip(GPUVM_BIND_NOUVEAU, 0, b, true, nv_check);
	gpuvm_bind_batch_destroy(b);

	b = batch_new(0, 0); /* synchronous, no syncs */
	add_op(b, GPUVM_BIND_OP_MAP, 0, 5, 0, 0x200000, 0x2000, 0);
	add_op(b, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x200000, 0x1000, 0);
	round_trip(GPUVM_BIND_NOUVEAU, 0, b, true, nv_check);
	gpuvm_bind_batch_reset(b);
	round_trip(GPUVM_BIND_NOUVEAU, 0, b, true, nv_check);
	gpuvm_bind_batch_destroy(b);
}

static void pt_check(const struct gpuvm_bind_encoded *enc, const struct gpuvm_bind_batch *b)
{
	const struct gpuvm_abi_panthor_vm_bind *a = enc->arg;
	const struct gpuvm_abi_panthor_vm_bind_op *ops = (const void *)(uintptr_t)a->ops.array;
	size_t sig = 0, n = b->n_ops ? b->n_ops : (b->n_syncs ? 1 : 0);

	for (size_t i = 0; i < b->n_syncs; i++)
		sig += !!(b->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL);
	assert_int_equal(a->ops.count, n);
	if (!n)
		return;
	assert_int_equal(a->ops.stride, 48);
	if (!b->n_ops)
		assert_int_equal(ops[0].flags, GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY);
	if (n == 1) {
		assert_int_equal(ops[0].syncs.count, b->n_syncs);
		return;
	}
	/* waits on the first op, signals on the last, nothing between */
	assert_int_equal(ops[0].syncs.count, b->n_syncs - sig);
	assert_int_equal(ops[n - 1].syncs.count, sig);
	for (size_t i = 1; i + 1 < n; i++)
		assert_int_equal(ops[i].syncs.count, 0);
	if (b->n_syncs)
		assert_int_equal(ops[n - 1].syncs.stride, 16);
}

static void test_panthor_round_trip(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(0, GPUVM_BIND_BATCH_ASYNC);

	(void)state;
	add_op(b, GPUVM_BIND_OP_MAP,
	       GPUVM_BIND_READ_ONLY | GPUVM_BIND_NOEXEC | GPUVM_BIND_UNCACHED, 1, 0, 0x100000,
	       0x4000, 0x1000);
	add_op(b, GPUVM_BIND_OP_MAP, 0, 2, 0, 0x200000, 0x1000, 0);
	add_op(b, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x101000, 0x1000, 0);
	add_all_syncs(b);
	round_trip(GPUVM_BIND_PANTHOR, 3, b, true, pt_check);

	gpuvm_bind_batch_reset(b); /* one op waits and signals */
	add_op(b, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x101000, 0x1000, 0);
	add_all_syncs(b);
	round_trip(GPUVM_BIND_PANTHOR, 3, b, true, pt_check);

	gpuvm_bind_batch_reset(b); /* syncs only: one SYNC_ONLY op */
	add_all_syncs(b);
	round_trip(GPUVM_BIND_PANTHOR, 3, b, true, pt_check);
	gpuvm_bind_batch_reset(b);
	add_sync(b, 13, GPUVM_BIND_SYNC_SIGNAL, 0);
	round_trip(GPUVM_BIND_PANTHOR, 3, b, true, pt_check);
	gpuvm_bind_batch_destroy(b);

	b = batch_new(0, 0); /* synchronous */
	add_op(b, GPUVM_BIND_OP_MAP, GPUVM_BIND_NOEXEC, 5, 0, 0x200000, 0x2000, 0);
	add_op(b, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x200000, 0x1000, 0);
	round_trip(GPUVM_BIND_PANTHOR, 9, b, true, pt_check);
	gpuvm_bind_batch_reset(b);
	round_trip(GPUVM_BIND_PANTHOR, 9, b, true, pt_check);
	gpuvm_bind_batch_destroy(b);
}

static void msm_check(const struct gpuvm_bind_encoded *enc, const struct gpuvm_bind_batch *b)
{
	const struct gpuvm_abi_msm_vm_bind *a = enc->arg;

	assert_int_equal(a->op_stride, 40);
	assert_int_equal(a->syncobj_stride, 16);
	assert_int_equal(a->nr_ops, b->n_ops);
	assert_int_equal(a->queue_id, b->queue_id);
	assert_int_equal(a->flags, 0);
	if (b->n_ops == 1)
		assert_int_equal(a->op.iova, b->ops[0].addr);
	assert_int_equal(a->nr_in_syncobjs + a->nr_out_syncobjs, b->n_syncs);
}

static void test_msm_round_trip(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(3, 0);

	(void)state;
	add_op(b, GPUVM_BIND_OP_MAP, GPUVM_BIND_DUMPABLE, 1, 0, 0x100000, 0x4000, 0x1000);
	add_op(b, GPUVM_BIND_OP_MAP, 0, 2, 0, 0x200000, 0x1000, 0);
	add_op(b, GPUVM_BIND_OP_MAP_SPARSE, GPUVM_BIND_DUMPABLE, 0, 0, 0x300000, 0x10000, 0);
	add_op(b, GPUVM_BIND_OP_MAP_SPARSE, 0, 0, 0, 0x400000, 0x10000, 0);
	add_op(b, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x101000, 0x1000, 0);
	add_all_syncs(b);
	round_trip(GPUVM_BIND_MSM, 0, b, true, msm_check);

	gpuvm_bind_batch_reset(b);
	add_op(b, GPUVM_BIND_OP_MAP, 0, 6, 0, 0x100000, 0x4000, 0);
	add_sync(b, 4, GPUVM_BIND_SYNC_SIGNAL | GPUVM_BIND_SYNC_TIMELINE, 77);
	round_trip(GPUVM_BIND_MSM, 0, b, true, msm_check);

	gpuvm_bind_batch_reset(b);
	add_all_syncs(b);
	round_trip(GPUVM_BIND_MSM, 0, b, true, msm_check);
	gpuvm_bind_batch_reset(b);
	round_trip(GPUVM_BIND_MSM, 0, b, true, msm_check);
	gpuvm_bind_batch_destroy(b);
}

/* ---- encode refusals ---------------------------------------------------------- */

static void refuse_op(uint32_t driver, uint32_t queue, uint32_t type, uint32_t flags,
		      uint32_t handle, uint32_t darg, int want)
{
	struct gpuvm_bind_batch *b = batch_new(queue, 0);
	struct gpuvm_bind_encoded enc;
	bool unmap_bo = type == GPUVM_BIND_OP_UNMAP_BO;

	add_op(b, type, flags, handle, darg, unmap_bo ? 0 : 0x100000, unmap_bo ? 0 : 0x1000, 0);
	memset(&enc, 0x5a, sizeof(enc));
	assert_int_equal(gpuvm_bind_encode(driver, 1, b, &enc), want);
	if (want) {
		assert_null(enc.storage_);
		assert_null(enc.arg);
	} else {
		gpuvm_bind_encoded_fini(&enc);
	}
	gpuvm_bind_batch_destroy(b);
}

static void test_encode_refusals(void **state)
{
	const int E = -EOPNOTSUPP;
	struct gpuvm_bind_batch *b;
	struct gpuvm_bind_encoded enc;

	(void)state;
	/* xe */
	refuse_op(GPUVM_BIND_XE, 0, GPUVM_BIND_OP_UNMAP_SPARSE, 0, 0, 0, E);
	refuse_op(GPUVM_BIND_XE, 0, GPUVM_BIND_OP_MAP, GPUVM_BIND_NOEXEC, 1, 0, E);
	refuse_op(GPUVM_BIND_XE, 0, GPUVM_BIND_OP_MAP, GPUVM_BIND_UNCACHED, 1, 0, E);
	refuse_op(GPUVM_BIND_XE, 0, GPUVM_BIND_OP_MAP, 0, 1, 0x10000, E); /* PAT > u16 */
	refuse_op(GPUVM_BIND_XE, 0, GPUVM_BIND_OP_MAP, 0, 1, 0xffff, 0);
	/* nouveau */
	refuse_op(GPUVM_BIND_NOUVEAU, 0, GPUVM_BIND_OP_PREFETCH, 0, 0, 0, E);
	refuse_op(GPUVM_BIND_NOUVEAU, 0, GPUVM_BIND_OP_UNMAP_BO, 0, 1, 0, E);
	refuse_op(GPUVM_BIND_NOUVEAU, 0, GPUVM_BIND_OP_MAP, GPUVM_BIND_READ_ONLY, 1, 0, E);
	refuse_op(GPUVM_BIND_NOUVEAU, 0, GPUVM_BIND_OP_MAP_SPARSE, GPUVM_BIND_DUMPABLE, 0, 0, E);
	refuse_op(GPUVM_BIND_NOUVEAU, 0, GPUVM_BIND_OP_MAP, 0, 1, 0x100, E); /* kind > 0xff */
	refuse_op(GPUVM_BIND_NOUVEAU, 5, GPUVM_BIND_OP_MAP, 0, 1, 0, E); /* queue id */
	/* panthor */
	refuse_op(GPUVM_BIND_PANTHOR, 0, GPUVM_BIND_OP_MAP_SPARSE, 0, 0, 0, E);
	refuse_op(GPUVM_BIND_PANTHOR, 0, GPUVM_BIND_OP_UNMAP_BO, 0, 1, 0, E);
	refuse_op(GPUVM_BIND_PANTHOR, 0, GPUVM_BIND_OP_PREFETCH, 0, 0, 0, E);
	refuse_op(GPUVM_BIND_PANTHOR, 0, GPUVM_BIND_OP_UNMAP_SPARSE, 0, 0, 0, E);
	refuse_op(GPUVM_BIND_PANTHOR, 0, GPUVM_BIND_OP_MAP, GPUVM_BIND_DUMPABLE, 1, 0, E);
	refuse_op(GPUVM_BIND_PANTHOR, 0, GPUVM_BIND_OP_MAP, GPUVM_BIND_IMMEDIATE, 1, 0, E);
	refuse_op(GPUVM_BIND_PANTHOR, 0, GPUVM_BIND_OP_MAP, 0, 1, 2, E);
	refuse_op(GPUVM_BIND_PANTHOR, 1, GPUVM_BIND_OP_MAP, 0, 1, 0, E);
	/* msm */
	refuse_op(GPUVM_BIND_MSM, 0, GPUVM_BIND_OP_UNMAP_BO, 0, 1, 0, E);
	refuse_op(GPUVM_BIND_MSM, 0, GPUVM_BIND_OP_PREFETCH, 0, 0, 0, E);
	refuse_op(GPUVM_BIND_MSM, 0, GPUVM_BIND_OP_UNMAP_SPARSE, 0, 0, 0, E);
	refuse_op(GPUVM_BIND_MSM, 0, GPUVM_BIND_OP_MAP, GPUVM_BIND_READ_ONLY, 1, 0, E);
	refuse_op(GPUVM_BIND_MSM, 0, GPUVM_BIND_OP_MAP, GPUVM_BIND_IMMEDIATE, 1, 0, E);
	refuse_op(GPUVM_BIND_MSM, 0, GPUVM_BIND_OP_MAP, 0, 1, 1, E);

	/* bad arguments */
	b = batch_new(0, 0);
	assert_int_equal(gpuvm_bind_encode(0, 0, b, &enc), -EINVAL);
	assert_int_equal(gpuvm_bind_encode(99, 0, b, &enc), -EINVAL);
	assert_int_equal(gpuvm_bind_encode(GPUVM_BIND_XE, 0, NULL, &enc), -EINVAL);
	assert_int_equal(gpuvm_bind_encode(GPUVM_BIND_XE, 0, b, NULL), -EINVAL);

	/* more than a 32-bit count: -E2BIG before anything is read */
	if (SIZE_MAX > UINT32_MAX) {
		size_t keep = b->n_ops;

		b->n_ops = (size_t)UINT32_MAX + 1;
		for (uint32_t d = GPUVM_BIND_XE; d <= GPUVM_BIND_MSM; d++)
			assert_int_equal(gpuvm_bind_encode(d, 0, b, &enc), -E2BIG);
		b->n_ops = keep;
		keep = b->n_syncs;
		b->n_syncs = (size_t)UINT32_MAX + 1;
		for (uint32_t d = GPUVM_BIND_XE; d <= GPUVM_BIND_MSM; d++)
			assert_int_equal(gpuvm_bind_encode(d, 0, b, &enc), -E2BIG);
		b->n_syncs = keep;
	}
	gpuvm_bind_batch_destroy(b);
}

/* ---- malformed payloads ------------------------------------------------------ */

/*
 * A row of a malformed table: the driver's case function gets a fresh guest
 * with a valid payload set up and applies mutation @row; it returns the
 * expected errno, or 1 when there is no such row.
 */
struct mcase {
	struct guest *g;
	unsigned char arg[256];
	unsigned long req;
	struct gpuvm_bind_decode_opts o;
};

typedef int (*case_fn)(int row, struct mcase *c);

static void run_table(uint32_t driver, case_fn fn, int min_rows)
{
	struct gpuvm_bind_batch *b = batch_new(7, GPUVM_BIND_BATCH_ASYNC);
	struct mcase *c = calloc(1, sizeof(*c));
	int row, rows = 0;

	assert_non_null(c);
	c->g = guest_new();
	/* row -1 is the unmutated payload: it must decode */
	for (row = -1;; row++) {
		uint32_t id = 0x1234;
		int want, ret;

		memset(c->arg, 0, sizeof(c->arg));
		memset(c->g->mem, 0, sizeof(c->g->mem));
		c->g->fail_at = -1;
		c->g->reads = 0;
		c->o = dopts(driver, c->g);
		c->req = bind_request(driver);
		want = fn(row, c);
		if (want == 1)
			break;
		ret = gpuvm_bind_decode(&c->o, c->req, c->arg, b, &id);
		if (ret != want)
			fail_msg("driver %u row %d: got %d, want %d", driver, row, ret, want);
		if (want) {
			assert_batch_empty(b, 7, GPUVM_BIND_BATCH_ASYNC);
			assert_int_equal(id, 0x1234);
			rows++;
		} else {
			size_t n;

			assert_batch_valid(b);
			gpuvm_bind_batch_ops(b, &n);
			assert_true(n > 0);
			b->queue_id = 7;
			b->flags = GPUVM_BIND_BATCH_ASYNC;
		}
	}
	print_message("driver %u: %d malformed rows\n", driver, rows);
	assert_true(rows >= min_rows);
	free(c->g);
	free(c);
	gpuvm_bind_batch_destroy(b);
}

/* Request changes shared by the tables. */
static unsigned long req_nr(unsigned long r, int d)
{
	return (r & ~0xfful) | ((r + (unsigned long)d) & 0xff);
}

static unsigned long req_dir(unsigned long r, unsigned int dir)
{
	return (r & ~(3ul << 30)) | ((unsigned long)dir << 30);
}

static unsigned long req_type(unsigned long r, unsigned int type)
{
	return (r & ~0xff00ul) | ((unsigned long)type << 8);
}

/* -- xe: two ops in a vector at guest offset 0x1000, two syncs at 0x2000 -- */

static void xe_op(struct gpuvm_abi_xe_vm_bind_op *x, uint32_t op, uint32_t obj, uint64_t addr)
{
	memset(x, 0, sizeof(*x));
	x->op = op;
	x->obj = obj;
	x->addr = addr;
	x->range = 0x1000;
}

static int xe_case(int row, struct mcase *c)
{
	struct gpuvm_abi_xe_vm_bind *a = (void *)c->arg;
	struct gpuvm_abi_xe_vm_bind_op *ops = (void *)(c->g->mem + 0x1000);
	struct gpuvm_abi_xe_sync *s = (void *)(c->g->mem + 0x2000);
	size_t end = GSIZE - 2 * sizeof(*ops);

	a->vm_id = 1;
	a->num_binds = 2;
	a->vector_of_binds = gaddr(0x1000);
	xe_op(&ops[0], GPUVM_ABI_XE_VM_BIND_OP_MAP, 1, 0x100000);
	xe_op(&ops[1], GPUVM_ABI_XE_VM_BIND_OP_UNMAP, 0, 0x100000);
	a->num_syncs = 2;
	a->syncs = gaddr(0x2000);
	s[0].type = GPUVM_ABI_XE_SYNC_TYPE_SYNCOBJ;
	s[0].handle = 5;
	s[1].type = GPUVM_ABI_XE_SYNC_TYPE_TIMELINE_SYNCOBJ;
	s[1].flags = GPUVM_ABI_XE_SYNC_FLAG_SIGNAL;
	s[1].handle = 6;
	s[1].timeline_value = 3;

	switch (row) {
	case -1: return 0;
	case 0: c->req = req_nr(c->req, 1); return -EINVAL;
	case 1: c->req = req_dir(c->req, 3); return -EINVAL;
	case 2: c->req = req_type(c->req, 'e'); return -EINVAL;
	case 3: a->extensions = gaddr(0x3000); return -EINVAL;
	case 4: a->pad = 1; return -EINVAL;
	case 5: a->pad2 = 1; return -EINVAL;
	case 6: a->reserved[1] = 1; return -EINVAL;
	case 7: c->o.max_ops = 1; return -EINVAL;
	case 8: c->o.max_syncs = 1; return -EINVAL;
	case 9: a->vector_of_binds = 0; return -EFAULT;
	case 10: a->vector_of_binds = UINT64_MAX - 100; return -EFAULT;
	case 11: ops[1].extensions = 1; return -EINVAL;
	case 12: ops[1].op = 5; return -EINVAL;
	case 13: ops[0].flags = 1u << 10; return -EINVAL;
	case 14: ops[0].flags = GPUVM_ABI_XE_VM_BIND_FLAG_NULL; return -EINVAL; /* with obj */
	case 15: ops[1].op = GPUVM_ABI_XE_VM_BIND_OP_UNMAP_ALL; ops[1].obj = 1; return -EINVAL;
	case 16: ops[0].prefetch_mem_region_instance = 1; return -EINVAL;
	case 17: ops[1].obj = 3; return -EINVAL; /* UNMAP with obj */
	case 18: ops[0].reserved[2] = 1; return -EINVAL;
	case 19: ops[1].pad2 = 1; return -EINVAL;
	case 20: /* inline vs vector: one bind, but the union holds a pointer */
		a->num_binds = 1; return -EINVAL;
	case 21: /* no binds, but an inline op */
		a->num_binds = 0; return -EINVAL;
	case 22: /* a vector, and bytes of an inline op behind the pointer */
		a->bind.addr = 0x1000; return -EINVAL;
	case 23: s[0].type = GPUVM_ABI_XE_SYNC_TYPE_USER_FENCE; s[0].flags = 1;
		s[0].addr = 0x1000; return -EOPNOTSUPP;
	case 24: ops[0].op = GPUVM_ABI_XE_VM_BIND_OP_MAP_USERPTR; ops[0].obj = 0; return -EOPNOTSUPP;
	case 25: ops[0].obj = 0; ops[0].flags = GPUVM_ABI_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
		return -EOPNOTSUPP;
	case 26: ops[0].flags = GPUVM_ABI_XE_VM_BIND_FLAG_CHECK_PXP; return -EOPNOTSUPP;
	case 27: s[1].reserved[0] = 1; return -EINVAL;
	case 28: s[0].flags = 2; return -EINVAL;
	case 29: s[1].timeline_value = 0; return -EINVAL;
	case 30: s[0].addr = 1ull << 32 | 5; return -EINVAL;
	case 31: s[0].type = 7; return -EINVAL;
	case 32: s[0].extensions = 1; return -EINVAL;
	case 33: ops[0].range = 0; return -EINVAL;
	case 34: ops[0].obj = 0; return -EINVAL; /* MAP without obj or NULL */
	case 35: /* 80 * n wraps 32 bits to 0x40: must not pass as 64 bytes */
		c->o.max_ops = UINT32_MAX;
		a->num_binds = 0x03333334;
		a->vector_of_binds = gaddr(end);
		xe_op((void *)(c->g->mem + end), GPUVM_ABI_XE_VM_BIND_OP_UNMAP, 0, 0x1000);
		xe_op((void *)(c->g->mem + end + sizeof(*ops)), GPUVM_ABI_XE_VM_BIND_OP_UNMAP, 0,
		      0x2000);
		return -EFAULT;
	case 36: a->syncs = 0; return -EFAULT;
	case 37: a->syncs = UINT64_MAX - 47; return -EFAULT;
	case 38: c->g->fail_at = 0; return -EFAULT;
	case 39: c->g->fail_at = 2; return -EFAULT; /* the first sync */
	default: return 1;
	}
}

/* -- nouveau: ops at 0x1000, waits at 0x2000, signals at 0x3000 -- */

static int nv_case(int row, struct mcase *c)
{
	struct gpuvm_abi_nouveau_vm_bind *a = (void *)c->arg;
	struct gpuvm_abi_nouveau_vm_bind_op *ops = (void *)(c->g->mem + 0x1000);
	struct gpuvm_abi_nouveau_sync *w = (void *)(c->g->mem + 0x2000);
	struct gpuvm_abi_nouveau_sync *s = (void *)(c->g->mem + 0x3000);
	size_t end = GSIZE - sizeof(*ops);

	a->op_count = 2;
	a->op_ptr = gaddr(0x1000);
	a->flags = GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC;
	ops[0] = (struct gpuvm_abi_nouveau_vm_bind_op){ .op = 0, .handle = 1, .addr = 0x100000,
							 .range = 0x1000 };
	ops[1] = (struct gpuvm_abi_nouveau_vm_bind_op){ .op = 1, .addr = 0x100000, .range = 0x1000 };
	a->wait_count = 1;
	a->wait_ptr = gaddr(0x2000);
	w[0] = (struct gpuvm_abi_nouveau_sync){ .flags = 0, .handle = 3 };
	a->sig_count = 1;
	a->sig_ptr = gaddr(0x3000);
	s[0] = (struct gpuvm_abi_nouveau_sync){ .flags = 1, .handle = 4, .timeline_value = 8 };

	switch (row) {
	case -1: return 0;
	case 0: c->req = req_nr(c->req, -1); return -EINVAL;
	case 1: c->req = req_dir(c->req, 1); return -EINVAL;
	case 2: a->flags |= 2; return -EINVAL;
	case 3: a->flags = 0; return -EINVAL; /* syncs without RUN_ASYNC */
	case 4: c->o.max_ops = 1; return -EINVAL;
	case 5: c->o.max_syncs = 1; return -EINVAL;
	case 6: a->op_ptr = 0; return -EFAULT;
	case 7: a->op_ptr = UINT64_MAX - 60; return -EFAULT;
	case 8: ops[0].pad = 1; return -EINVAL;
	case 9: ops[1].op = 2; return -EINVAL;
	case 10: ops[1].flags = 1u << 9; return -EINVAL;
	case 11: ops[0].flags = 1u << 12; return -EINVAL; /* above the kind and SPARSE */
	case 12: w[0].flags = 2; return -EINVAL;
	case 13: s[0].flags = 0x11; return -EINVAL;
	case 14: s[0].timeline_value = 0; return -EINVAL;
	case 15: w[0].handle = 0; return -EINVAL;
	case 16: ops[0].handle = 0; return -EINVAL;
	case 17: a->wait_ptr = 0; return -EFAULT;
	case 18: a->sig_ptr = UINT64_MAX - 8; return -EFAULT;
	case 19: /* 40 * n wraps 32 bits to 24 bytes */
		c->o.max_ops = UINT32_MAX;
		a->op_count = 0x06666667;
		a->op_ptr = gaddr(end);
		*(struct gpuvm_abi_nouveau_vm_bind_op *)(c->g->mem + end) =
			(struct gpuvm_abi_nouveau_vm_bind_op){ .op = 1, .addr = 0x1000, .range = 0x1000 };
		return -EFAULT;
	case 20: ops[1].range = 0; return -EINVAL;
	case 21: c->g->fail_at = 0; return -EFAULT;
	case 22: c->g->fail_at = 3; return -EFAULT; /* the signal */
	default: return 1;
	}
}

/* -- panthor: ASYNC, ops at 0x1000 (stride 48), syncs at 0x2000 / 0x3000 -- */

static int pt_case(int row, struct mcase *c)
{
	struct gpuvm_abi_panthor_vm_bind *a = (void *)c->arg;
	struct gpuvm_abi_panthor_vm_bind_op *ops = (void *)(c->g->mem + 0x1000);
	struct gpuvm_abi_panthor_sync_op *w = (void *)(c->g->mem + 0x2000);
	struct gpuvm_abi_panthor_sync_op *s = (void *)(c->g->mem + 0x3000);
	size_t end = GSIZE - sizeof(*ops);

	a->vm_id = 2;
	a->flags = GPUVM_ABI_PANTHOR_VM_BIND_ASYNC;
	a->ops = (struct gpuvm_abi_panthor_obj_array){ 48, 2, gaddr(0x1000) };
	ops[0] = (struct gpuvm_abi_panthor_vm_bind_op){ .flags = 0, .bo_handle = 1, .va = 0x100000,
							 .size = 0x1000 };
	ops[0].syncs = (struct gpuvm_abi_panthor_obj_array){ 16, 1, gaddr(0x2000) };
	ops[1] = (struct gpuvm_abi_panthor_vm_bind_op){ .flags = 1u << 28, .va = 0x100000,
							 .size = 0x1000 };
	ops[1].syncs = (struct gpuvm_abi_panthor_obj_array){ 16, 1, gaddr(0x3000) };
	w[0] = (struct gpuvm_abi_panthor_sync_op){ .flags = 0, .handle = 3 };
	s[0] = (struct gpuvm_abi_panthor_sync_op){ .flags = 0x80000001u, .handle = 4,
						   .timeline_value = 2 };

	switch (row) {
	case -1: return 0;
	case 0: c->req = req_nr(c->req, 1); return -EINVAL;
	case 1: c->req = req_dir(c->req, 1); return -EINVAL;
	case 2: a->flags |= 2; return -EINVAL;
	case 3: c->o.max_ops = 1; return -EINVAL;
	case 4: a->ops.stride = 40; return -EINVAL;
	case 5: a->ops.array = 0; return -EFAULT;
	case 6: a->ops.array = UINT64_MAX - 95; return -EFAULT;
	case 7: /* a longer stride with a nonzero unknown tail */
	{
		struct gpuvm_abi_panthor_vm_bind_op second = ops[1];

		a->ops.stride = 56;
		memset(c->g->mem + 0x1000 + 48, 0, 8);
		memcpy(c->g->mem + 0x1000 + 56, &second, 48);
		c->g->mem[0x1000 + 56 + 50] = 1;
		return -EINVAL;
	}
	case 8: a->ops.stride = 8192; return -EINVAL;
	case 9: ops[1].flags = 3u << 28; return -EINVAL;
	case 10: ops[0].flags = 1u << 3; return -EINVAL;
	case 11: ops[1].bo_handle = 1; return -EINVAL;
	case 12: ops[1].flags |= 1; return -EINVAL;
	case 13: ops[1] = (struct gpuvm_abi_panthor_vm_bind_op){ .flags = 2u << 28 };
		return -EINVAL; /* SYNC_ONLY without syncs */
	case 14: ops[1].flags = 2u << 28; ops[1].size = 0; return -EINVAL; /* va set */
	case 15: a->flags = 0; return -EINVAL; /* syncs without ASYNC */
	case 16: ops[0].syncs.stride = 8; return -EINVAL;
	case 17: w[0].flags = 1u << 9; return -EINVAL;
	case 18: w[0].flags = 2; return -EINVAL;
	case 19: w[0].timeline_value = 4; return -EINVAL; /* binary with a value */
	case 20: c->o.max_syncs = 1; return -EINVAL;
	case 21: /* a longer sync with a nonzero tail */
		ops[0].syncs.stride = 24;
		c->g->mem[0x2000 + 20] = 1;
		return -EINVAL;
	case 22: /* 48 * n wraps 32 bits to 32 bytes */
		c->o.max_ops = UINT32_MAX;
		a->ops.count = 0x05555556;
		a->ops.array = gaddr(end);
		*(struct gpuvm_abi_panthor_vm_bind_op *)(c->g->mem + end) =
			(struct gpuvm_abi_panthor_vm_bind_op){ .flags = 1u << 28, .va = 0x1000,
							       .size = 0x1000 };
		return -EFAULT;
	case 23: /* stride 4096 * (2^32 - 1) from high memory wraps 64 bits */
		c->o.max_ops = UINT32_MAX;
		a->ops = (struct gpuvm_abi_panthor_obj_array){ 4096, UINT32_MAX,
							       0xffffff0000000000ull };
		return -EFAULT;
	case 24: ops[0].syncs.array = 0; return -EFAULT;
	case 25: s[0].timeline_value = 0; return -EINVAL;
	case 26: s[0].handle = 0; return -EINVAL;
	case 27: ops[0].size = 0; return -EINVAL;
	case 28: c->g->fail_at = 0; return -EFAULT;
	case 29: c->g->fail_at = 1; return -EFAULT; /* the first op's sync */
	default: return 1;
	}
}

/* -- msm: ops at 0x1000, in syncs at 0x2000, out syncs at 0x3000 -- */

static int msm_case(int row, struct mcase *c)
{
	struct gpuvm_abi_msm_vm_bind *a = (void *)c->arg;
	struct gpuvm_abi_msm_vm_bind_op *ops = (void *)(c->g->mem + 0x1000);
	struct gpuvm_abi_msm_syncobj *in = (void *)(c->g->mem + 0x2000);
	struct gpuvm_abi_msm_syncobj *out = (void *)(c->g->mem + 0x3000);
	size_t end = GSIZE - sizeof(*ops);

	a->nr_ops = 2;
	a->ops = gaddr(0x1000);
	a->op_stride = 40;
	a->queue_id = 2;
	ops[0] = (struct gpuvm_abi_msm_vm_bind_op){ .op = 1, .handle = 1, .iova = 0x100000,
						    .range = 0x1000, .flags = 1 };
	ops[1] = (struct gpuvm_abi_msm_vm_bind_op){ .op = 0, .iova = 0x100000, .range = 0x1000 };
	a->syncobj_stride = 16;
	a->nr_in_syncobjs = 1;
	a->in_syncobjs = gaddr(0x2000);
	in[0] = (struct gpuvm_abi_msm_syncobj){ .handle = 3 };
	a->nr_out_syncobjs = 1;
	a->out_syncobjs = gaddr(0x3000);
	out[0] = (struct gpuvm_abi_msm_syncobj){ .handle = 4, .point = 6 };

	switch (row) {
	case -1: return 0;
	case 0: c->req = req_nr(c->req, 1); return -EINVAL;
	case 1: c->req = req_dir(c->req, 1); return -EINVAL;
	case 2: a->flags = 4; return -EINVAL;
	case 3: a->flags = GPUVM_ABI_MSM_VM_BIND_FENCE_FD_IN; return -EOPNOTSUPP;
	case 4: a->flags = GPUVM_ABI_MSM_VM_BIND_FENCE_FD_OUT; return -EOPNOTSUPP;
	case 5: c->o.max_ops = 1; return -EINVAL;
	case 6: c->o.max_syncs = 1; return -EINVAL;
	case 7: a->ops = 0; return -EFAULT;
	case 8: a->ops = UINT64_MAX - 60; return -EFAULT;
	case 9: a->op_stride = 48; return -EINVAL;
	case 10: a->syncobj_stride = 8; return -EINVAL;
	case 11: a->syncobj_stride = 24; c->g->mem[0x2000 + 20] = 1; return -EINVAL;
	case 12: ops[1].pad = 1; return -EINVAL;
	case 13: ops[0].flags = 2; return -EINVAL;
	case 14: ops[1].op = 3; return -EINVAL;
	case 15: ops[1].handle = 1; return -EINVAL;
	case 16: ops[1].op = 2; ops[1].handle = 1; return -EINVAL;
	case 17: in[0].flags = GPUVM_ABI_MSM_SYNCOBJ_RESET; return -EOPNOTSUPP;
	case 18: out[0].flags = 1; return -EINVAL;
	case 19: in[0].flags = 2; return -EINVAL;
	case 20: a->nr_ops = 0; return -EINVAL; /* the union still holds a pointer */
	case 21: a->op.range = 1; return -EINVAL; /* bytes behind the ops pointer */
	case 22: /* one op, but the union holds a pointer */
		a->nr_ops = 1; return -EINVAL;
	case 23: a->in_syncobjs = 0; return -EFAULT;
	case 24: /* 40 * n wraps 32 bits */
		c->o.max_ops = UINT32_MAX;
		a->nr_ops = 0x06666667;
		a->ops = gaddr(end);
		*(struct gpuvm_abi_msm_vm_bind_op *)(c->g->mem + end) =
			(struct gpuvm_abi_msm_vm_bind_op){ .op = 0, .iova = 0x1000, .range = 0x1000 };
		return -EFAULT;
	case 25: ops[0].handle = 0; return -EINVAL;
	case 26: in[0].handle = 0; return -EINVAL;
	case 27: c->g->fail_at = 0; return -EFAULT;
	case 28: c->g->fail_at = 3; return -EFAULT; /* the out sync */
	default: return 1;
	}
}

static void test_xe_malformed(void **state)
{
	(void)state;
	run_table(GPUVM_BIND_XE, xe_case, 15);
}

static void test_nouveau_malformed(void **state)
{
	(void)state;
	run_table(GPUVM_BIND_NOUVEAU, nv_case, 15);
}

static void test_panthor_malformed(void **state)
{
	(void)state;
	run_table(GPUVM_BIND_PANTHOR, pt_case, 15);
}

static void test_msm_malformed(void **state)
{
	(void)state;
	run_table(GPUVM_BIND_MSM, msm_case, 15);
}

/* ---- decode: arguments, sizes, what the kernel ignores --------------------------- */

static void test_decode_args(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(0, 0);
	unsigned char arg[256] = { 0 };
	GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = GPUVM_BIND_XE);
	struct {
		struct gpuvm_bind_decode_opts o;
		uint64_t extra;
	} big = { .o = o, .extra = 1 };
	unsigned long req = bind_request(GPUVM_BIND_XE);

	(void)state;
	assert_int_equal(gpuvm_bind_decode(NULL, req, arg, b, NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_decode(&o, req, arg, NULL, NULL), -EINVAL);
	assert_int_equal(gpuvm_bind_decode(&o, req, NULL, b, NULL), -EINVAL);
	o.driver = 42;
	assert_int_equal(gpuvm_bind_decode(&o, req, arg, b, NULL), -EINVAL);
	o.driver = GPUVM_BIND_XE;
	o.sz = sizeof(size_t);
	assert_int_equal(gpuvm_bind_decode(&o, req, arg, b, NULL), -EINVAL);
	/* a newer, larger opts struct with an unknown nonzero field */
	big.o.sz = sizeof(big);
	assert_int_equal(gpuvm_bind_decode(&big.o, req, arg, b, NULL), -EINVAL);
	big.extra = 0;
	assert_int_equal(gpuvm_bind_decode(&big.o, req, arg, b, NULL), 0);
	o.sz = sizeof(o);
	/* an all-zero xe argument is a bind without ops or syncs; vm_id may be NULL */
	assert_int_equal(gpuvm_bind_decode(&o, req, arg, b, NULL), 0);
	assert_batch_empty(b, 0, 0);
	/* size 0: no argument bytes at all, all fields read as zero */
	assert_int_equal(gpuvm_bind_decode(&o, with_size(req, 0), NULL, b, NULL), 0);
	gpuvm_bind_batch_destroy(b);
}

/*
 * Shorter argument structs are zero-extended, longer ones truncated: encode
 * a batch whose payload ends in zero fields, decode it at a shorter size,
 * and at a longer size with garbage after the struct.
 */
static void sizes_one(uint32_t driver, const struct gpuvm_bind_batch *b, size_t short_size)
{
	struct gpuvm_bind_encoded enc;
	struct gpuvm_bind_batch *d = batch_new(0, 0);
	GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = driver);
	unsigned char buf[512];

	assert_int_equal(gpuvm_bind_encode(driver, 5, b, &enc), 0);
	assert_true(enc.arg_size + 64 <= sizeof(buf));
	memset(buf, 0xab, sizeof(buf));
	memcpy(buf, enc.arg, enc.arg_size);
	assert_true(short_size < enc.arg_size);
	for (size_t i = short_size; i < enc.arg_size; i++)
		assert_int_equal(buf[i], 0); /* the fields dropped are zero */

	assert_int_equal(gpuvm_bind_decode(&o, with_size(enc.request, short_size), buf, d, NULL), 0);
	assert_batch_equal(b, d, true);
	assert_int_equal(gpuvm_bind_decode(&o, with_size(enc.request, enc.arg_size + 64), buf, d,
					   NULL),
			 0);
	assert_batch_equal(b, d, true);
	gpuvm_bind_encoded_fini(&enc);
	gpuvm_bind_batch_destroy(d);
}

static void test_arg_sizes(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(0, 0);

	(void)state;
	/* xe: the reserved words at the end */
	add_op(b, GPUVM_BIND_OP_MAP, 0, 1, 0, 0x100000, 0x1000, 0);
	sizes_one(GPUVM_BIND_XE, b, offsetof(struct gpuvm_abi_xe_vm_bind, reserved));
	/* msm: no ops, so the op union at the end is zero */
	gpuvm_bind_batch_reset(b);
	add_all_syncs(b);
	sizes_one(GPUVM_BIND_MSM, b, offsetof(struct gpuvm_abi_msm_vm_bind, op));
	gpuvm_bind_batch_destroy(b);

	/* nouveau: no ops, op_ptr last; panthor: no ops or syncs, the array last */
	b = batch_new(0, GPUVM_BIND_BATCH_ASYNC);
	add_all_syncs(b);
	sizes_one(GPUVM_BIND_NOUVEAU, b, offsetof(struct gpuvm_abi_nouveau_vm_bind, op_ptr));
	gpuvm_bind_batch_reset(b);
	sizes_one(GPUVM_BIND_PANTHOR, b, offsetof(struct gpuvm_abi_panthor_vm_bind, ops));
	gpuvm_bind_batch_destroy(b);
}

/* What the kernel accepts and ignores decodes to the plain op. */
static void test_decode_lenient(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(0, 0);
	struct guest *g = guest_new();
	struct gpuvm_bind_decode_opts o = dopts(GPUVM_BIND_XE, g);
	size_t n;
	const struct gpuvm_bind_op *ops;
	const struct gpuvm_bind_sync *syncs;

	(void)state;
	/* xe: iris fills pat_index and DUMPABLE on unbinds; NULL binds lose their PAT */
	{
		struct gpuvm_abi_xe_vm_bind a = { .num_binds = 2, .vector_of_binds = gaddr(0),
						  .num_syncs = 1, .syncs = gaddr(0x1000) };
		struct gpuvm_abi_xe_vm_bind_op *x = (void *)g->mem;
		struct gpuvm_abi_xe_sync *s = (void *)(g->mem + 0x1000);

		x[0] = (struct gpuvm_abi_xe_vm_bind_op){
			.op = GPUVM_ABI_XE_VM_BIND_OP_UNMAP, .pat_index = 3, .addr = 0x1000,
			.range = 0x1000, .flags = GPUVM_ABI_XE_VM_BIND_FLAG_DUMPABLE };
		x[1] = (struct gpuvm_abi_xe_vm_bind_op){
			.op = GPUVM_ABI_XE_VM_BIND_OP_MAP, .pat_index = 2, .addr = 0x1000,
			.range = 0x1000, .flags = GPUVM_ABI_XE_VM_BIND_FLAG_NULL };
		s[0] = (struct gpuvm_abi_xe_sync){ .type = 0, .handle = 9, .timeline_value = 4 };
		assert_int_equal(gpuvm_bind_decode(&o, bind_request(GPUVM_BIND_XE), &a, b, NULL), 0);
		ops = gpuvm_bind_batch_ops(b, &n);
		assert_int_equal(n, 2);
		assert_int_equal(ops[0].type, GPUVM_BIND_OP_UNMAP);
		assert_int_equal(ops[0].flags, 0);
		assert_int_equal(ops[0].driver_arg, 0);
		assert_int_equal(ops[1].type, GPUVM_BIND_OP_MAP_SPARSE);
		assert_int_equal(ops[1].driver_arg, 0);
		syncs = gpuvm_bind_batch_syncs(b, &n);
		assert_int_equal(n, 1);
		assert_int_equal(syncs[0].point, 0);
	}
	/* panthor: a synchronous op of size 0 is skipped; a stride longer than
	 * the struct with a zero tail is fine; syncs of every op are collected,
	 * waits first */
	{
		struct gpuvm_abi_panthor_vm_bind a = {
			.vm_id = 1, .flags = GPUVM_ABI_PANTHOR_VM_BIND_ASYNC,
			.ops = { 64, 3, gaddr(0) } };
		struct gpuvm_abi_panthor_vm_bind_op *x;
		struct gpuvm_abi_panthor_sync_op *s = (void *)(g->mem + 0x1000);

		memset(g->mem, 0, sizeof(g->mem));
		for (int i = 0; i < 3; i++) {
			x = (void *)(g->mem + 64 * i);
			*x = (struct gpuvm_abi_panthor_vm_bind_op){
				.flags = 1u << 28, .va = 0x1000u * (i + 1), .size = 0x1000,
				.syncs = { 16, 1, gaddr(0x1000 + 16 * i) } };
		}
		s[0] = (struct gpuvm_abi_panthor_sync_op){ .flags = 0x80000000u, .handle = 1 };
		s[1] = (struct gpuvm_abi_panthor_sync_op){ .flags = 0, .handle = 2 };
		s[2] = (struct gpuvm_abi_panthor_sync_op){ .flags = 0x80000001u, .handle = 3,
							   .timeline_value = 1 };
		o = dopts(GPUVM_BIND_PANTHOR, g);
		assert_int_equal(gpuvm_bind_decode(&o, bind_request(GPUVM_BIND_PANTHOR), &a, b, NULL),
				 0);
		gpuvm_bind_batch_ops(b, &n);
		assert_int_equal(n, 3);
		syncs = gpuvm_bind_batch_syncs(b, &n);
		assert_int_equal(n, 3);
		assert_int_equal(syncs[0].handle, 2);
		assert_int_equal(syncs[1].handle, 1);
		assert_int_equal(syncs[2].handle, 3);
		assert_int_equal(gpuvm_bind_batch_flags(b), GPUVM_BIND_BATCH_ASYNC);

		a.flags = 0;
		memset(g->mem, 0, sizeof(g->mem));
		x = (void *)g->mem;
		*x = (struct gpuvm_abi_panthor_vm_bind_op){ .flags = 1u << 28, .va = 0x1000 };
		x = (void *)(g->mem + 64);
		*x = (struct gpuvm_abi_panthor_vm_bind_op){ .flags = 2u << 28 };
		x = (void *)(g->mem + 128);
		*x = (struct gpuvm_abi_panthor_vm_bind_op){ .flags = 1u << 28, .va = 0x1000,
							    .size = 0x1000 };
		assert_int_equal(gpuvm_bind_decode(&o, bind_request(GPUVM_BIND_PANTHOR), &a, b, NULL),
				 0);
		gpuvm_bind_batch_ops(b, &n);
		assert_int_equal(n, 1);
		assert_int_equal(gpuvm_bind_batch_flags(b), 0);
	}
	/* nouveau: handle and bo_offset of an UNMAP are ignored */
	{
		struct gpuvm_abi_nouveau_vm_bind a = { .op_count = 1, .op_ptr = gaddr(0) };

		memset(g->mem, 0, sizeof(g->mem));
		*(struct gpuvm_abi_nouveau_vm_bind_op *)g->mem = (struct gpuvm_abi_nouveau_vm_bind_op){
			.op = 1, .handle = 5, .bo_offset = 0x1000, .addr = 0x2000, .range = 0x1000 };
		o = dopts(GPUVM_BIND_NOUVEAU, g);
		assert_int_equal(gpuvm_bind_decode(&o, bind_request(GPUVM_BIND_NOUVEAU), &a, b, NULL),
				 0);
		ops = gpuvm_bind_batch_ops(b, &n);
		assert_int_equal(n, 1);
		assert_int_equal(ops[0].handle, 0);
		assert_int_equal(ops[0].offset, 0);
	}
	/* msm: op_stride 0 is what the kernel ignores too; DUMP of an UNMAP is dropped */
	{
		struct gpuvm_abi_msm_vm_bind a = { .nr_ops = 2, .ops = gaddr(0), .queue_id = 1 };
		struct gpuvm_abi_msm_vm_bind_op *x = (void *)g->mem;

		memset(g->mem, 0, sizeof(g->mem));
		x[0] = (struct gpuvm_abi_msm_vm_bind_op){ .op = 0, .iova = 0x1000, .range = 0x1000,
							  .flags = 1, .obj_offset = 0x1000 };
		x[1] = (struct gpuvm_abi_msm_vm_bind_op){ .op = 2, .iova = 0x1000, .range = 0x1000 };
		o = dopts(GPUVM_BIND_MSM, g);
		assert_int_equal(gpuvm_bind_decode(&o, bind_request(GPUVM_BIND_MSM), &a, b, NULL), 0);
		ops = gpuvm_bind_batch_ops(b, &n);
		assert_int_equal(n, 2);
		assert_int_equal(ops[0].flags, 0);
		assert_int_equal(ops[0].offset, 0);
		assert_int_equal(ops[1].type, GPUVM_BIND_OP_MAP_SPARSE);
		assert_int_equal(gpuvm_bind_batch_queue(b), 1);

		/* syncobjs at a 32-byte stride with zero tails */
		a.nr_in_syncobjs = 2;
		a.in_syncobjs = gaddr(0x1000);
		a.syncobj_stride = 32;
		*(struct gpuvm_abi_msm_syncobj *)(g->mem + 0x1000) =
			(struct gpuvm_abi_msm_syncobj){ .handle = 1 };
		*(struct gpuvm_abi_msm_syncobj *)(g->mem + 0x1020) =
			(struct gpuvm_abi_msm_syncobj){ .handle = 2, .point = 3 };
		assert_int_equal(gpuvm_bind_decode(&o, bind_request(GPUVM_BIND_MSM), &a, b, NULL), 0);
		syncs = gpuvm_bind_batch_syncs(b, &n);
		assert_int_equal(n, 2);
		assert_int_equal(syncs[1].handle, 2);
		assert_int_equal(syncs[1].flags, GPUVM_BIND_SYNC_TIMELINE);
		assert_int_equal(syncs[1].point, 3);
		g->mem[0x1000 + 31] = 1; /* a nonzero tail */
		assert_int_equal(gpuvm_bind_decode(&o, bind_request(GPUVM_BIND_MSM), &a, b, NULL),
				 -EINVAL);
	}
	gpuvm_bind_batch_destroy(b);
	free(g);
}

/* Direct reads (no hook): NULL and wrapping arrays are -EFAULT, not a crash. */
static void test_decode_direct(void **state)
{
	struct gpuvm_bind_batch *b = batch_new(0, 0);
	GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = GPUVM_BIND_NOUVEAU);
	struct gpuvm_abi_nouveau_vm_bind_op op = { .op = 1, .addr = 0x1000, .range = 0x1000 };
	struct gpuvm_abi_nouveau_vm_bind a = { .op_count = 1, .op_ptr = 0 };
	unsigned long req = bind_request(GPUVM_BIND_NOUVEAU);

	(void)state;
	assert_int_equal(gpuvm_bind_decode(&o, req, &a, b, NULL), -EFAULT);
	a.op_ptr = UINT64_MAX - 8;
	assert_int_equal(gpuvm_bind_decode(&o, req, &a, b, NULL), -EFAULT);
	a.op_count = 0x06666667; /* 40 * n wraps 32 bits: caught by the bound */
	a.op_ptr = (uint64_t)(uintptr_t)&op;
	assert_int_equal(gpuvm_bind_decode(&o, req, &a, b, NULL), -EINVAL);
	a.op_count = 1;
	assert_int_equal(gpuvm_bind_decode(&o, req, &a, b, NULL), 0);
	assert_batch_valid(b);
	gpuvm_bind_batch_destroy(b);
}

/*
 * The batch's allocator serves the decoder's arrays and the encoder's
 * storage: a failing allocation is -ENOMEM with nothing decoded or
 * encoded, and nothing leaks.
 */
static void alloc_failures_one(uint32_t driver, uint32_t flags)
{
	struct test_alloc ta;
	GPUVM_OPTS(gpuvm_bind_batch_opts, bo, .flags = flags);
	struct gpuvm_bind_batch *src = NULL, *d = NULL;
	GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = driver);
	struct gpuvm_bind_encoded enc;
	unsigned long enomem = 0;

	test_alloc_init(&ta);
	bo.alloc = test_alloc_hooks(&ta);
	assert_int_equal(gpuvm_bind_batch_create(&bo, &src), 0);
	for (uint32_t i = 0; i < 40; i++)
		add_op(src, GPUVM_BIND_OP_MAP, 0, 1 + i, 0, 0x100000 + 0x2000ull * i, 0x1000, 0);
	for (uint32_t i = 0; i < 20; i++)
		add_sync(src, 100 + i, i % 2 ? GPUVM_BIND_SYNC_SIGNAL : 0, 0);
	/* the round trip needs waits first */
	for (size_t i = 0, k = 0; i < 20; i++)
		if (!(src->syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL)) {
			struct gpuvm_bind_sync t = src->syncs[k];

			src->syncs[k++] = src->syncs[i];
			src->syncs[i] = t;
		}

	test_alloc_fail_at(&ta, 1);
	memset(&enc, 0x5a, sizeof(enc));
	assert_int_equal(gpuvm_bind_encode(driver, 1, src, &enc), -ENOMEM);
	assert_null(enc.storage_);
	test_alloc_fail_at(&ta, 0);
	assert_int_equal(gpuvm_bind_encode(driver, 1, src, &enc), 0);

	for (unsigned long k = 1;; k++) {
		int ret;

		assert_int_equal(gpuvm_bind_batch_create(&bo, &d), 0);
		d->queue_id = 0;
		test_alloc_fail_at(&ta, k);
		ret = gpuvm_bind_decode(&o, enc.request, enc.arg, d, NULL);
		test_alloc_fail_at(&ta, 0);
		if (ret == 0) {
			assert_batch_equal(src, d, true);
			gpuvm_bind_batch_destroy(d);
			break;
		}
		assert_int_equal(ret, -ENOMEM);
		assert_batch_empty(d, 0, flags);
		enomem++;
		gpuvm_bind_batch_destroy(d);
	}
	assert_true(enomem >= 2);
	gpuvm_bind_encoded_fini(&enc);
	gpuvm_bind_batch_destroy(src);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	alloc_failures_one(GPUVM_BIND_XE, 0);
	alloc_failures_one(GPUVM_BIND_NOUVEAU, GPUVM_BIND_BATCH_ASYNC);
	alloc_failures_one(GPUVM_BIND_PANTHOR, GPUVM_BIND_BATCH_ASYNC);
	alloc_failures_one(GPUVM_BIND_MSM, 0);
}

/* ---- random payloads ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* A plausible pointer: into the guest most of the time, else anything. */
static uint64_t rnd_ptr(void)
{
	switch (rnd() % 4) {
	case 0:
		return rnd();
	case 1:
		return 0;
	default:
		return gaddr(rnd() % GSIZE);
	}
}

static void check_outcome(int ret, const struct gpuvm_bind_batch *b)
{
	if (ret == 0) {
		assert_batch_valid(b);
		return;
	}
	if (ret != -EINVAL && ret != -EFAULT && ret != -EOPNOTSUPP)
		fail_msg("unexpected errno %d", ret);
	assert_batch_empty(b, 7, 0);
}

static void test_random_payloads(void **state)
{
	static const uint32_t drivers[] = { GPUVM_BIND_XE, GPUVM_BIND_NOUVEAU, GPUVM_BIND_PANTHOR,
					    GPUVM_BIND_MSM };
	struct gpuvm_bind_batch *b = batch_new(7, 0);
	struct guest *g = guest_new();
	unsigned long ok = 0, total = 0;

	(void)state;
	for (size_t d = 0; d < 4; d++) {
		struct gpuvm_bind_decode_opts o = dopts(drivers[d], g);
		unsigned long req = bind_request(drivers[d]);
		size_t asz = (req >> 16) & 0x3fff;

		for (int it = 0; it < 3000; it++) {
			unsigned char arg[256];
			uint64_t *words = (uint64_t *)(void *)arg;
			int ret;

			/* random memory, a random argument with small counts and
			 * guest pointers sprinkled over its 8-byte words */
			for (size_t i = 0; i < GSIZE; i += 8) {
				uint64_t v = rnd();

				if (rnd() % 4)
					v &= 0x00000000000000ffull << (8 * (rnd() % 8));
				memcpy(g->mem + i, &v, 8);
			}
			for (size_t i = 0; i < sizeof(arg) / 8; i++) {
				uint64_t v = rnd();

				switch (rnd() % 4) {
				case 0: words[i] = rnd_ptr(); break;
				case 1: words[i] = v & 0x0000000700000007ull; break;
				case 2: words[i] = 0; break;
				default: words[i] = v; break;
				}
			}
			o.max_ops = rnd() % 2 ? 0 : (uint32_t)(rnd() % 64);
			o.max_syncs = rnd() % 2 ? 0 : (uint32_t)(rnd() % 64);
			g->fail_at = rnd() % 8 ? -1 : (long)(rnd() % 8);
			g->reads = 0;
			b->queue_id = 7;
			b->flags = 0;
			ret = gpuvm_bind_decode(&o, with_size(req, rnd() % 2 ? asz : rnd() % 256), arg,
						b, NULL);
			check_outcome(ret, b);
			ok += ret == 0;
			total++;
		}
	}
	print_message("random payloads: %lu of %lu decoded\n", ok, total);
	assert_true(ok > 0); /* some random payloads are valid binds */
	assert_true(ok < total);
	gpuvm_bind_batch_destroy(b);
	free(g);
}

/* Mutations of valid payloads: flip bytes in the argument and the arrays. */
static void test_mutated_payloads(void **state)
{
	static const uint32_t drivers[] = { GPUVM_BIND_XE, GPUVM_BIND_NOUVEAU, GPUVM_BIND_PANTHOR,
					    GPUVM_BIND_MSM };
	struct gpuvm_bind_batch *src = batch_new(0, 0);
	struct gpuvm_bind_batch *b = batch_new(7, 0);
	struct guest *g = guest_new();
	unsigned long ok = 0, bad = 0;

	(void)state;
	for (size_t d = 0; d < 4; d++) {
		struct gpuvm_bind_decode_opts o = dopts(drivers[d], g);
		struct gpuvm_bind_encoded enc;
		unsigned char pristine[GSIZE / 8];
		size_t len;

		gpuvm_bind_batch_destroy(src);
		if (drivers[d] == GPUVM_BIND_NOUVEAU || drivers[d] == GPUVM_BIND_PANTHOR)
			src = batch_new(0, GPUVM_BIND_BATCH_ASYNC);
		else
			src = batch_new(2, 0);
		add_op(src, GPUVM_BIND_OP_MAP, 0, 1, 0, 0x100000, 0x4000, 0x1000);
		add_op(src, GPUVM_BIND_OP_UNMAP, 0, 0, 0, 0x101000, 0x1000, 0);
		add_op(src, GPUVM_BIND_OP_MAP, 0, 2, 0, 0x200000, 0x1000, 0);
		add_all_syncs(src);
		assert_int_equal(gpuvm_bind_encode(drivers[d], 3, src, &enc), 0);
		guest_load(g, &enc);
		len = enc.storage_size_;
		assert_true(len <= sizeof(pristine));
		memcpy(pristine, g->mem, len);

		for (int it = 0; it < 3000; it++) {
			unsigned char arg[256] = { 0 };
			int flips = 1 + (int)(rnd() % 4), ret;

			memcpy(g->mem, pristine, len);
			for (int f = 0; f < flips; f++) {
				size_t at = (size_t)(rnd() % len);

				switch (rnd() % 3) {
				case 0: g->mem[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
				case 1: g->mem[at] = (unsigned char)rnd(); break;
				default: g->mem[at] = 0; break;
				}
			}
			memcpy(arg, g->mem, enc.arg_size);
			g->fail_at = -1;
			b->queue_id = 7;
			b->flags = 0;
			ret = gpuvm_bind_decode(&o, enc.request, arg, b, NULL);
			check_outcome(ret, b);
			if (ret)
				bad++;
			else
				ok++;
		}
		gpuvm_bind_encoded_fini(&enc);
	}
	print_message("mutated payloads: %lu decoded, %lu refused\n", ok, bad);
	assert_true(ok > 0);
	assert_true(bad > 0);
	gpuvm_bind_batch_destroy(src);
	gpuvm_bind_batch_destroy(b);
	free(g);
}

/* The driver table the codecs publish. */
static void test_driver_info(void **state)
{
	struct gpuvm_bind_driver_info i = { .sz = sizeof(i) };

	(void)state;
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_XE, &i), 0);
	assert_string_equal(i.name, "xe");
	assert_int_equal(i.bind_request, 0x40886445ul);
	assert_int_equal(i.page_size, 4096);
	assert_int_equal(i.caps, GPUVM_BIND_CAP_SYNC_ONLY | GPUVM_BIND_CAP_TIMELINE);
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_NOUVEAU, &i), 0);
	assert_string_equal(i.name, "nouveau");
	assert_int_equal(i.bind_request, 0xc0286451ul);
	assert_true(i.caps & GPUVM_BIND_CAP_SPARSE_REGIONS);
	assert_true(i.op_types & (1u << GPUVM_BIND_OP_UNMAP_SPARSE));
	assert_int_equal(i.op_flags, 0);
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_PANTHOR, &i), 0);
	assert_string_equal(i.name, "panthor");
	assert_int_equal(i.bind_request, 0xc0186443ul);
	assert_false(i.op_types & (1u << GPUVM_BIND_OP_MAP_SPARSE));
	assert_int_equal(gpuvm_bind_driver_info(GPUVM_BIND_MSM, &i), 0);
	assert_string_equal(i.name, "msm");
	assert_int_equal(i.bind_request, 0xc058644dul);
	assert_int_equal(i.op_flags, GPUVM_BIND_DUMPABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_info),
		cmocka_unit_test(test_xe_round_trip),
		cmocka_unit_test(test_nouveau_round_trip),
		cmocka_unit_test(test_panthor_round_trip),
		cmocka_unit_test(test_msm_round_trip),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_xe_malformed),
		cmocka_unit_test(test_nouveau_malformed),
		cmocka_unit_test(test_panthor_malformed),
		cmocka_unit_test(test_msm_malformed),
		cmocka_unit_test(test_decode_args),
		cmocka_unit_test(test_arg_sizes),
		cmocka_unit_test(test_decode_lenient),
		cmocka_unit_test(test_decode_direct),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_random_payloads),
		cmocka_unit_test(test_mutated_payloads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
