/* SPDX-License-Identifier: MIT */
/*
 * VM_BIND payloads: the driver-neutral entry points gpuvm_bind_encode(),
 * gpuvm_bind_encoded_fini() and gpuvm_bind_decode(), and the helpers the
 * per-driver codecs (xe.c, nouveau.c, panthor.c, msm.c) share: bounded
 * reads of user memory, strided array elements, and appending validated
 * ops and syncs to a batch.
 *
 * Decoder rules shared by every driver:
 *  - every count is compared with the decode options' limits before any
 *    size is computed; sizes and end addresses are computed in 64 bits with
 *    overflow checks;
 *  - user memory is read only through gpuvm__bind_uread() (the caller's
 *    read hook, or this process's memory); a NULL pointer behind a nonzero
 *    count, or a range that wraps, is -EFAULT;
 *  - an element read at a stride larger than the structure the kernel
 *    knows must have an all-zero tail (copy_struct_from_user);
 *  - each op and sync goes through gpuvm__bind_op_valid() /
 *    gpuvm__bind_sync_valid(), so a decoded batch is one that
 *    gpuvm_bind_batch_add() would have accepted;
 *  - on any error the batch is left without ops or syncs and with the queue
 *    id and flags it had before the call.
 */
#include "bind/bind_internal.h"
#include "bind/abi/drm_common.h"

#include <stdint.h>
#include <string.h>

/* ---- helpers shared with the driver codecs (declared in bind_internal.h) ---- */

/* Largest array stride a decoder accepts (an element longer than a page is
 * no struct any kernel knows; it only makes the tail check expensive). */
#define GPUVM__BIND_MAX_STRIDE 4096u

uint32_t gpuvm__bind_max_ops(const struct gpuvm_bind_decode_opts *o)
{
	return o->max_ops ? o->max_ops : 1u << 16;
}

uint32_t gpuvm__bind_max_syncs(const struct gpuvm_bind_decode_opts *o)
{
	return o->max_syncs ? o->max_syncs : 1u << 10;
}

bool gpuvm__bind_all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i])
			return false;
	return true;
}

/*
 * Copy @len bytes of user memory at @uptr: through the read hook, or from
 * this process. A zero pointer, or a range that wraps, is -EFAULT, as the
 * kernel's access_ok() would make it.
 */
int gpuvm__bind_uread(const struct gpuvm_bind_decode_opts *o, uint64_t uptr, void *dst, size_t len)
{
	uint64_t last;

	if (!len)
		return 0;
	if (!uptr || __builtin_add_overflow(uptr, (uint64_t)len - 1, &last))
		return -EFAULT;
	if (o->read)
		return o->read(o->read_data, uptr, dst, len) ? -EFAULT : 0;
	if (last > (uint64_t)UINTPTR_MAX)
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)uptr, len);
	return 0;
}

/*
 * An array of @count elements @stride bytes apart at @uptr: nonzero
 * pointer, and count * stride and the end address computed in 64 bits
 * without overflow. The caller has bounded @count already.
 */
int gpuvm__bind_array_check(uint64_t uptr, uint64_t count, uint32_t stride)
{
	uint64_t bytes, end;

	if (!count)
		return 0;
	if (!uptr)
		return -EFAULT;
	if (__builtin_mul_overflow(count, (uint64_t)stride, &bytes))
		return -EFAULT;
	if (__builtin_add_overflow(uptr, bytes, &end))
		return -EFAULT;
	return 0;
}

/*
 * Element @index of the array at @base read as a @size-byte structure: the
 * first min(@stride, @size) bytes are copied and the rest zeroed (an older,
 * shorter element), and bytes past @size must be zero (a newer, longer
 * one). gpuvm__bind_array_check() must have passed for the array.
 */
int gpuvm__bind_read_elem(const struct gpuvm_bind_decode_opts *o, uint64_t base, uint64_t index,
			  uint32_t stride, void *dst, size_t size)
{
	uint64_t addr = base + index * (uint64_t)stride;
	size_t head = stride < size ? stride : size;
	int ret;

	if (stride > GPUVM__BIND_MAX_STRIDE)
		return -EINVAL;
	memset(dst, 0, size);
	ret = gpuvm__bind_uread(o, addr, dst, head);
	if (ret)
		return ret;
	for (uint64_t off = size; off < stride;) {
		unsigned char tail[64];
		size_t n = stride - off < sizeof(tail) ? (size_t)(stride - off) : sizeof(tail);

		ret = gpuvm__bind_uread(o, addr + off, tail, n);
		if (ret)
			return ret;
		if (!gpuvm__bind_all_zero(tail, n))
			return -EINVAL;
		off += n;
	}
	return 0;
}

/* Zeroed storage of @size bytes for an encoded payload. */
int gpuvm__bind_enc_alloc(const struct gpuvm_allocator *alloc, size_t size,
			  struct gpuvm_bind_encoded *out)
{
	void *p = gpuvm__zalloc(alloc, size, _Alignof(uint64_t));

	if (!p)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	out->storage_ = p;
	out->storage_size_ = size;
	if (alloc)
		out->alloc_ = *alloc;
	return 0;
}

/* ---- entry points ------------------------------------------------------------- */

int gpuvm_bind_encode(uint32_t driver, uint32_t vm_id, const struct gpuvm_bind_batch *batch,
		      struct gpuvm_bind_encoded *out)
{
	const struct gpuvm__bind_codec *c = gpuvm__bind_codec(driver);
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!c || !batch)
		return -EINVAL;
	if (batch->n_ops > UINT32_MAX || batch->n_syncs > UINT32_MAX)
		return -E2BIG;
	ret = c->encode(vm_id, batch, &batch->alloc, out);
	if (ret) {
		gpuvm_bind_encoded_fini(out);
		return ret;
	}
	out->request = c->info.bind_request;
	return 0;
}

void gpuvm_bind_encoded_fini(struct gpuvm_bind_encoded *enc)
{
	struct gpuvm_allocator a;

	if (!enc)
		return;
	a = enc->alloc_;
	gpuvm__free(&a, enc->storage_, enc->storage_size_);
	memset(enc, 0, sizeof(*enc));
}

int gpuvm_bind_decode(const struct gpuvm_bind_decode_opts *opts, unsigned long request,
		      const void *arg, struct gpuvm_bind_batch *batch, uint32_t *vm_id)
{
	const struct gpuvm__bind_codec *c;
	uint32_t want, queue_id, flags, id = 0;
	size_t size;
	int ret;

	if (!opts || !batch || !gpuvm__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	c = gpuvm__bind_codec(opts->driver);
	if (!c)
		return -EINVAL;

	queue_id = batch->queue_id;
	flags = batch->flags;
	batch->n_ops = 0;
	batch->n_syncs = 0;

	/* The request: a DRM ioctl ('d'), the driver's VM_BIND number and
	 * direction; its size says how many bytes @arg holds. */
	want = (uint32_t)c->info.bind_request;
	if ((request >> 16 >> 16) != 0 ||
	    GPUVM_ABI_IOC_TYPE_OF(request) != GPUVM_ABI_DRM_IOCTL_TYPE ||
	    GPUVM_ABI_IOC_NR_OF(request) != GPUVM_ABI_IOC_NR_OF(want) ||
	    GPUVM_ABI_IOC_DIR_OF(request) != GPUVM_ABI_IOC_DIR_OF(want))
		return -EINVAL;
	size = GPUVM_ABI_IOC_SIZE_OF(request);
	if (size && !arg)
		return -EINVAL;

	ret = c->decode(opts, arg, size, batch, &id);
	if (ret) {
		batch->n_ops = 0;
		batch->n_syncs = 0;
		batch->queue_id = queue_id;
		batch->flags = flags;
		return ret;
	}
	if (vm_id)
		*vm_id = id;
	return 0;
}
