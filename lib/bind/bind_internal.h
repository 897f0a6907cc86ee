/* SPDX-License-Identifier: MIT */
/*
 * Private parts of the VM_BIND layer (include/gpuvm/bind.h), shared by
 * the files of lib/bind: the batch's layout and the per-driver codec table.
 */
#ifndef GPUVM_LIB_BIND_INTERNAL_H
#define GPUVM_LIB_BIND_INTERNAL_H

#include "internal.h"

#include <gpuvm/bind.h>

struct gpuvm_bind_batch {
	struct gpuvm_allocator alloc; /* copied at create; NULL hooks: libc */
	struct gpuvm_bind_op *ops;
	size_t n_ops, cap_ops;
	struct gpuvm_bind_sync *syncs;
	size_t n_syncs, cap_syncs;
	uint32_t queue_id;
	uint32_t flags;
};

/*
 * Make room for one more element of @elem bytes in the array *@arr of
 * capacity *@cap holding @n (doubling, through @a): 0 or -ENOMEM, the
 * array unchanged. The batch's ops and syncs grow this way, whoever adds.
 */
int gpuvm__bind_grow(const struct gpuvm_allocator *a, void **arr, size_t *cap, size_t n,
		     size_t elem);

/* Validate one op's own shape (what gpuvm_bind_batch_add() checks). */
int gpuvm__bind_op_valid(const struct gpuvm_bind_op *op);
/* Validate one sync's own shape (what gpuvm_bind_batch_add_sync() checks). */
int gpuvm__bind_sync_valid(const struct gpuvm_bind_sync *sync);

/*
 * One driver's codec (lib/bind/<driver>.c). encode() fills @out (its
 * storage allocated with @alloc, which may have NULL hooks: libc);
 * decode() fills @batch, which the caller has reset and empties again on
 * error. @arg holds @arg_size bytes: the size field of the request.
 */
struct gpuvm__bind_codec {
	uint32_t driver;
	struct gpuvm_bind_driver_info info; /* sz set to sizeof(info) */
	int (*encode)(uint32_t vm_id, const struct gpuvm_bind_batch *batch,
		      const struct gpuvm_allocator *alloc, struct gpuvm_bind_encoded *out);
	int (*decode)(const struct gpuvm_bind_decode_opts *opts, const void *arg, size_t arg_size,
		      struct gpuvm_bind_batch *batch, uint32_t *vm_id);
};

extern const struct gpuvm__bind_codec gpuvm__bind_codec_xe;
extern const struct gpuvm__bind_codec gpuvm__bind_codec_nouveau;
extern const struct gpuvm__bind_codec gpuvm__bind_codec_panthor;
extern const struct gpuvm__bind_codec gpuvm__bind_codec_msm;

/* The codec of @driver, or NULL. */
const struct gpuvm__bind_codec *gpuvm__bind_codec(uint32_t driver);

/*
 * The codecs' shared helpers (lib/bind/codec.c): bounded user reads
 * (through the decode opts' read hook, or this process's memory), strided
 * array elements with their unknown tail checked to be zero, and the
 * encoded payload's storage. Decoders append with gpuvm_bind_batch_add()
 * and gpuvm_bind_batch_add_sync(), so a decoded batch is one the API
 * accepts.
 */
uint32_t gpuvm__bind_max_ops(const struct gpuvm_bind_decode_opts *o);
uint32_t gpuvm__bind_max_syncs(const struct gpuvm_bind_decode_opts *o);
int gpuvm__bind_uread(const struct gpuvm_bind_decode_opts *o, uint64_t uptr, void *dst, size_t len);
int gpuvm__bind_array_check(uint64_t uptr, uint64_t count, uint32_t stride);
int gpuvm__bind_read_elem(const struct gpuvm_bind_decode_opts *o, uint64_t base, uint64_t index,
			  uint32_t stride, void *dst, size_t size);
int gpuvm__bind_enc_alloc(const struct gpuvm_allocator *alloc, size_t size,
			  struct gpuvm_bind_encoded *out);
bool gpuvm__bind_all_zero(const void *p, size_t len);

#endif /* GPUVM_LIB_BIND_INTERNAL_H */
