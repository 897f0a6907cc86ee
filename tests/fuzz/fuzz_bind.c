/* SPDX-License-Identifier: MIT */
/*
 * fuzz_bind: the VM_BIND decoders (gpuvm_bind_decode()) and the emulator's
 * apply path, on payloads an untrusted guest or process controls.
 *
 * Input: byte 0 picks the driver (bits 0-1) and the mode (bit 2); byte 1
 * the size field of the request (how much of the argument struct the
 * "user" passed, around the real size); the rest depends on the mode.
 * - raw (mode 0): the rest is guest memory; the argument struct sits at
 *   guest address GUEST_BASE, and every user pointer in it is a guest
 *   address read through a bounded read hook (anything outside the image
 *   is -EFAULT, as a VMM's copy_from_guest would say).
 * - built (mode 1): the rest describes a batch (12 bytes an op, then
 *   flips): the harness encodes it with gpuvm_bind_encode(), then applies
 *   the remaining bytes as (offset, xor) flips to the encoded storage, and
 *   decodes that through a read hook bounded to the storage. This reaches
 *   deep into valid payloads without a seed corpus.
 *
 * Checked for every input:
 * - decode returns 0 or -EINVAL / -EFAULT / -EOPNOTSUPP (-E2BIG never, no
 *   other errno), and on error the batch is empty;
 * - a decoded batch is one gpuvm_bind_batch_add() would accept op by op,
 *   encodes again (0), and decodes from its own encoding to the same ops,
 *   syncs, queue and flags (the round trip is exact);
 * - applying it to an emulated VM with a few objects either succeeds or
 *   fails with a documented errno (-ENOSPC only for nouveau's regions) and leaves every mapping as it was.
 */
#include "fuzz.h"

#include <errno.h>
#include <gpuvm.h>
#include <string.h>

#define GUEST_BASE 0x10000ull

struct image {
	const uint8_t *mem;
	uint64_t base;
	size_t size;
};

static int image_read(void *data, uint64_t uptr, void *dst, size_t len)
{
	const struct image *im = data;

	if (uptr < im->base || uptr - im->base > im->size || len > im->size - (uptr - im->base))
		return -EFAULT;
	memcpy(dst, im->mem + (uptr - im->base), len);
	return 0;
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The VM state as text, to compare before and after a refused apply. */
struct dump {
	char buf[1 << 14];
	size_t len;
	bool overflow;
};

static int dump_one(void *data, const struct gpuvm_bind_mapping *m)
{
	struct dump *d = data;
	int n;

	if (d->overflow)
		return 0;
	n = snprintf(d->buf + d->len, sizeof(d->buf) - d->len,
		     "%llx+%llx:%llu/%u@%llx f%x a%x\n", (unsigned long long)m->addr,
		     (unsigned long long)m->range, (unsigned long long)m->bo, m->handle,
		     (unsigned long long)m->offset, m->flags, m->driver_arg);
	if (n < 0 || (size_t)n >= sizeof(d->buf) - d->len)
		d->overflow = true;
	else
		d->len += (size_t)n;
	return 0;
}

static void dump_vm(struct gpuvm_bind_vm *vm, struct dump *d, uint64_t range)
{
	d->len = 0;
	d->overflow = false;
	d->buf[0] = 0;
	FZ_CHECK(gpuvm_bind_for_each(vm, 0, range, dump_one, d) == 0, "for_each failed");
}

static bool same_batch(const struct gpuvm_bind_batch *a, const struct gpuvm_bind_batch *b)
{
	const struct gpuvm_bind_op *oa, *ob;
	const struct gpuvm_bind_sync *sa, *sb;
	size_t na, nb, ma, mb;

	oa = gpuvm_bind_batch_ops(a, &na);
	ob = gpuvm_bind_batch_ops(b, &nb);
	sa = gpuvm_bind_batch_syncs(a, &ma);
	sb = gpuvm_bind_batch_syncs(b, &mb);
	if (na != nb || ma != mb)
		return false;
	if (gpuvm_bind_batch_queue(a) != gpuvm_bind_batch_queue(b) ||
	    gpuvm_bind_batch_flags(a) != gpuvm_bind_batch_flags(b))
		return false;
	for (size_t i = 0; i < na; i++)
		if (memcmp(&oa[i], &ob[i], sizeof(oa[i])))
			return false;
	for (size_t i = 0; i < ma; i++)
		if (memcmp(&sa[i], &sb[i], sizeof(sa[i])))
			return false;
	return true;
}

/* The checks of a decode result; @batch is the decoded batch. */
static void check_decoded(uint32_t driver, int ret, const struct gpuvm_bind_batch *batch,
			  uint32_t vm_id)
{
	struct gpuvm_bind_batch *copy, *again;
	struct gpuvm_bind_encoded enc;
	const struct gpuvm_bind_op *ops;
	const struct gpuvm_bind_sync *syncs;
	uint32_t vm_id2 = 0;
	size_t n, m;

	ops = gpuvm_bind_batch_ops(batch, &n);
	syncs = gpuvm_bind_batch_syncs(batch, &m);
	if (ret) {
		FZ_CHECK(ret == -EINVAL || ret == -EFAULT || ret == -EOPNOTSUPP,
			 "decode returned %d", ret);
		FZ_CHECK(n == 0 && m == 0, "decode failed (%d) but left %zu ops, %zu syncs", ret,
			 n, m);
		return;
	}

	/* every decoded op and sync is one batch_add would take */
	GPUVM_OPTS(gpuvm_bind_batch_opts, bo, .queue_id = gpuvm_bind_batch_queue(batch),
		   .flags = gpuvm_bind_batch_flags(batch));
	FZ_CHECK(gpuvm_bind_batch_create(&bo, &copy) == 0, "batch_create");
	for (size_t i = 0; i < n; i++)
		FZ_CHECK(gpuvm_bind_batch_add(copy, &ops[i]) == 0, "decoded op %zu refused", i);
	for (size_t i = 0; i < m; i++)
		FZ_CHECK(gpuvm_bind_batch_add_sync(copy, &syncs[i]) == 0, "decoded sync %zu refused",
			 i);
	gpuvm_bind_batch_destroy(copy);

	/* the round trip through this driver's encoder is exact */
	ret = gpuvm_bind_encode(driver, vm_id, batch, &enc);
	FZ_CHECK(ret == 0, "a decoded batch does not encode: %d", ret);
	FZ_CHECK(gpuvm_bind_batch_create(NULL, &again) == 0, "batch_create");
	GPUVM_OPTS(gpuvm_bind_decode_opts, dopt, .driver = driver);
	ret = gpuvm_bind_decode(&dopt, enc.request, enc.arg, again, &vm_id2);
	FZ_CHECK(ret == 0, "own encoding does not decode: %d", ret);
	FZ_CHECK(vm_id2 == vm_id, "vm_id %u became %u", vm_id, vm_id2);
	FZ_CHECK(same_batch(batch, again), "round trip changed the batch");
	gpuvm_bind_batch_destroy(again);
	gpuvm_bind_encoded_fini(&enc);
}

/* Apply a decoded batch to an emulated VM: all or nothing. */
static void check_apply(uint32_t driver, const struct gpuvm_bind_batch *batch)
{
	static struct dump before, after; /* large; one fuzz thread */
	struct gpuvm_bind_dev *dev;
	struct gpuvm_bind_vm *vm;
	struct gpuvm_bind_batch *setup;
	const uint64_t range = 1ull << 40;
	int ret;

	GPUVM_OPTS(gpuvm_bind_dev_opts, devo, .driver = driver);
	FZ_CHECK(gpuvm_bind_dev_create(&devo, &dev) == 0, "dev_create");
	/* handles 1-4, 1-4 pages (small handles are what decoded ops name most) */
	for (uint32_t h = 1; h <= 4; h++)
		FZ_CHECK(gpuvm_bind_bo_add(dev, h, h * 0x1000ull, NULL) == 0, "bo_add");
	/* nouveau: a kernel-managed region at the bottom, as NVK asks for */
	GPUVM_OPTS(gpuvm_bind_vm_opts, vmo, .vm_id = 1, .range = range,
		   .reserve_range = driver == GPUVM_BIND_NOUVEAU ? 0x10000 : 0);
	FZ_CHECK(gpuvm_bind_vm_create(dev, &vmo, &vm) == 0, "vm_create");

	/* something to split: two mappings and, where sparse is a mapping, a NULL one */
	GPUVM_OPTS(gpuvm_bind_batch_opts, so, .queue_id = driver == GPUVM_BIND_MSM ? 1 : 0);
	FZ_CHECK(gpuvm_bind_batch_create(&so, &setup) == 0, "batch_create");
	{
		const struct gpuvm_bind_op a = { .type = GPUVM_BIND_OP_MAP, .handle = 4,
						 .addr = 0x100000, .range = 0x4000 };
		const struct gpuvm_bind_op b = { .type = GPUVM_BIND_OP_MAP, .handle = 2,
						 .addr = 0x200000, .range = 0x2000 };

		FZ_CHECK(gpuvm_bind_batch_add(setup, &a) == 0, "setup op");
		FZ_CHECK(gpuvm_bind_batch_add(setup, &b) == 0, "setup op");
	}
	FZ_CHECK(gpuvm_bind_apply(vm, setup) == 0, "setup apply");
	gpuvm_bind_batch_destroy(setup);

	dump_vm(vm, &before, range);
	ret = gpuvm_bind_apply(vm, batch);
	FZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOENT || ret == -EOPNOTSUPP ||
			 (ret == -ENOSPC && driver == GPUVM_BIND_NOUVEAU),
		 "apply returned %d", ret);
	if (ret) {
		dump_vm(vm, &after, range);
		FZ_CHECK(before.overflow == after.overflow && before.len == after.len &&
				 !memcmp(before.buf, after.buf, before.len),
			 "a refused apply (%d) changed the VM", ret);
	}
	FZ_CHECK(gpuvm_verify(gpuvm_bind_vm_gpuvm(vm)) == 0, "gpuvm_verify");
	gpuvm_bind_vm_destroy(vm);
	FZ_CHECK(gpuvm_bind_dev_destroy(dev) == 0, "dev_destroy");
}

/* The request number for @driver with @size in its size field. */
static unsigned long request_with_size(uint32_t driver, unsigned size)
{
	struct gpuvm_bind_driver_info info = { .sz = sizeof(info) };

	FZ_CHECK(gpuvm_bind_driver_info(driver, &info) == 0, "driver_info");
	return (info.bind_request & ~(0x3fffUL << 16)) | ((unsigned long)(size & 0x3fff) << 16);
}

static unsigned real_size(uint32_t driver)
{
	struct gpuvm_bind_driver_info info = { .sz = sizeof(info) };

	FZ_CHECK(gpuvm_bind_driver_info(driver, &info) == 0, "driver_info");
	return (unsigned)((info.bind_request >> 16) & 0x3fff);
}

/* The size byte: mostly the real size, sometimes shorter or longer. */
static unsigned pick_size(uint32_t driver, uint8_t b)
{
	unsigned real = real_size(driver);

	if (b < 0xc0)
		return real;
	return (unsigned)((int)real + (int)(b & 0x3f) - 32 > 0 ? (int)real + (int)(b & 0x3f) - 32
								  : 1);
}

static void run_raw(uint32_t driver, unsigned size, const uint8_t *data, size_t n)
{
	static uint8_t arg[256];
	struct image im = { .mem = data, .base = GUEST_BASE, .size = n };
	struct gpuvm_bind_batch *batch;
	uint32_t vm_id = 0;
	int ret;

	/* the argument as the caller copied it in: @size bytes, zero-padded */
	memset(arg, 0, sizeof(arg));
	memcpy(arg, data, n < size ? n : size);
	GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = driver, .read = image_read,
		   .read_data = &im, .max_ops = 64, .max_syncs = 16);
	FZ_CHECK(gpuvm_bind_batch_create(NULL, &batch) == 0, "batch_create");
	ret = gpuvm_bind_decode(&o, request_with_size(driver, size), arg, batch, &vm_id);
	check_decoded(driver, ret, batch, vm_id);
	if (!ret)
		check_apply(driver, batch);
	gpuvm_bind_batch_destroy(batch);
}

/* One op from 12 bytes: type, flags, handle, addr page, range pages, offset page. */
static struct gpuvm_bind_op op_from(const uint8_t *p)
{
	struct gpuvm_bind_op op = { 0 };

	op.type = 1u + p[0] % 6u;
	op.flags = p[1] & 0x1f;
	op.handle = p[2] & 7;
	op.driver_arg = p[3] & 0x80 ? p[3] & 0x7f : 0;
	op.addr = (get_le(p + 4, 3) & 0xfff) * 0x1000ull + 0x100000;
	op.range = (1 + (p[7] & 0x1f)) * 0x1000ull;
	op.offset = (p[8] & 3) * 0x1000ull;
	switch (op.type) {
	case GPUVM_BIND_OP_MAP:
		if (!op.handle)
			op.handle = 1;
		break;
	case GPUVM_BIND_OP_UNMAP_BO:
		op.addr = op.range = op.offset = 0;
		op.flags = op.driver_arg = 0;
		if (!op.handle)
			op.handle = 1;
		break;
	default:
		op.handle = 0;
		op.offset = 0;
		if (op.type != GPUVM_BIND_OP_MAP_SPARSE)
			op.flags = 0;
		if (op.type != GPUVM_BIND_OP_PREFETCH)
			op.driver_arg = 0;
		break;
	}
	if (p[9] & 1)
		op.flags = 0;
	return op;
}

static void run_built(uint32_t driver, const uint8_t *data, size_t n)
{
	struct gpuvm_bind_batch *built, *batch;
	struct gpuvm_bind_encoded enc;
	size_t nops, i = 0;
	uint32_t vm_id = 0;
	int ret;

	if (n < 2)
		return;
	nops = data[0] % 9;
	GPUVM_OPTS(gpuvm_bind_batch_opts, bo,
		   .queue_id = (driver == GPUVM_BIND_XE || driver == GPUVM_BIND_MSM) ? data[1] & 3 : 0,
		   .flags = data[1] & 0x80 ? GPUVM_BIND_BATCH_ASYNC : 0);
	FZ_CHECK(gpuvm_bind_batch_create(&bo, &built) == 0, "batch_create");
	data += 2;
	n -= 2;
	for (; i < nops && n >= 12; i++, data += 12, n -= 12) {
		struct gpuvm_bind_op op = op_from(data);

		(void)gpuvm_bind_batch_add(built, &op); /* shapes it refuses are skipped */
	}
	if (n >= 1 && (data[0] & 0x40)) {
		struct gpuvm_bind_sync s = { .handle = 1 + (data[0] & 3),
					     .flags = data[0] & 0x80 ? GPUVM_BIND_SYNC_SIGNAL : 0 };

		if (data[0] & 0x20) {
			s.flags |= GPUVM_BIND_SYNC_TIMELINE;
			s.point = 1 + (data[0] & 0x1c);
		}
		(void)gpuvm_bind_batch_add_sync(built, &s);
		data++;
		n--;
	}
	ret = gpuvm_bind_encode(driver, 1, built, &enc);
	gpuvm_bind_batch_destroy(built);
	if (ret) {
		FZ_CHECK(ret == -EOPNOTSUPP, "encode returned %d", ret);
		return;
	}
	/* flips: (offset, xor) pairs inside the encoded storage */
	for (; n >= 3; data += 3, n -= 3) {
		size_t off = (size_t)get_le(data, 2) % enc.storage_size_;

		((uint8_t *)enc.storage_)[off] ^= data[2];
	}
	{
		struct image im = { .mem = enc.storage_, .base = (uint64_t)(uintptr_t)enc.storage_,
				    .size = enc.storage_size_ };

		GPUVM_OPTS(gpuvm_bind_decode_opts, o, .driver = driver, .read = image_read,
			   .read_data = &im, .max_ops = 64, .max_syncs = 16);
		FZ_CHECK(gpuvm_bind_batch_create(NULL, &batch) == 0, "batch_create");
		ret = gpuvm_bind_decode(&o, enc.request, enc.arg, batch, &vm_id);
		check_decoded(driver, ret, batch, vm_id);
		if (!ret)
			check_apply(driver, batch);
		gpuvm_bind_batch_destroy(batch);
	}
	gpuvm_bind_encoded_fini(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t driver;

	if (size < 2)
		return 0;
	driver = 1u + (data[0] & 3u);
	if (data[0] & 4)
		run_built(driver, data + 2, size - 2);
	else
		run_raw(driver, pick_size(driver, data[1]), data + 2, size - 2);
	return 0;
}
