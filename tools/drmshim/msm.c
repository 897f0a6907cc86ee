/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim: the emulated msm device (Adreno, VM_BIND mode).
 * GET_PARAM, SET_PARAM(EN_VM_BIND), GEM_NEW, SUBMITQUEUE_NEW/CLOSE and
 * VM_BIND.
 *
 * The file's VM is created by SET_PARAM(EN_VM_BIND, 1), which must come
 * before any BO (-EBUSY after one, as the kernel says once the file's VM
 * exists); its VA range is what GET_PARAM(VA_START, VA_SIZE) tells:
 * [4 GiB, 1 << 48). VM_BIND needs VM_BIND mode (-EINVAL) and a submit queue
 * created with SUBMITQUEUE_VM_BIND: an unknown queue id is -ENOENT, any
 * other queue (queue 0 included) -EINVAL, as in the kernel.
 * Not emulated (-ENOTTY): GEM_INFO, GEM_CPU_PREP/FINI, SUBMIT, WAIT_FENCE.
 */
#include <errno.h>
#include <string.h>

#include "msm.h"
#include "shim.h"

#define MSM_VA_START (1ull << 32)
#define MSM_VA_END (1ull << 48)

void shim_msm_version(int32_t v[3], const char **name, const char **desc)
{
	v[0] = 1;
	v[1] = 13;
	v[2] = 0;
	*name = "msm";
	*desc = "gpuvm-drmshim emulated msm";
}

static int msm_get_param(struct shim_file *f, void *data)
{
	struct gpuvm_abi_msm_param *a = data;

	(void)f;
	if (a->pipe != GPUVM_ABI_MSM_PIPE_3D0 || a->len || a->pad)
		return -EINVAL;
	switch (a->param) {
	case GPUVM_ABI_MSM_PARAM_GPU_ID:
		a->value = 750;
		break;
	case GPUVM_ABI_MSM_PARAM_CHIP_ID:
		a->value = 0x43050a01;
		break;
	case GPUVM_ABI_MSM_PARAM_VA_START:
		a->value = MSM_VA_START;
		break;
	case GPUVM_ABI_MSM_PARAM_VA_SIZE:
		a->value = MSM_VA_END - MSM_VA_START;
		break;
	case GPUVM_ABI_MSM_PARAM_HAS_PRR:
		a->value = 1;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int msm_set_param(struct shim_file *f, void *data)
{
	struct gpuvm_abi_msm_param *a = data;
	struct shim_vm *v;

	if (a->pipe != GPUVM_ABI_MSM_PIPE_3D0 || a->len || a->pad)
		return -EINVAL;
	if (a->param != GPUVM_ABI_MSM_PARAM_EN_VM_BIND)
		return -EINVAL;
	if (a->value > 1)
		return -EINVAL;
	/* Once the file has a VM (its own, or the kernel-managed one that a BO implies). */
	if (shim_vm_find(f, 0) || f->bos.n || f->bo_g.n)
		return -EBUSY;
	if (!a->value)
		return 0;
	return shim_vm_new(f, 0, MSM_VA_START, MSM_VA_END - MSM_VA_START, 0, 0, &v);
}

static int msm_gem_new(struct shim_file *f, void *data)
{
	struct gpuvm_abi_msm_gem_new *a = data;
	const uint32_t known = GPUVM_ABI_MSM_BO_SCANOUT | GPUVM_ABI_MSM_BO_GPU_READONLY |
			       GPUVM_ABI_MSM_BO_NO_SHARE | GPUVM_ABI_MSM_BO_CACHE_MASK;
	uint64_t size = a->size;
	uint32_t handle;
	int rc;

	if (a->flags & ~known)
		return -EINVAL;
	if (!size || size > UINT64_MAX - (SHIM_PAGE_SIZE - 1))
		return -EINVAL;
	size = (size + SHIM_PAGE_SIZE - 1) & ~(uint64_t)(SHIM_PAGE_SIZE - 1);
	rc = shim_bo_new(f, size, a->flags, &handle);
	if (rc)
		return rc;
	a->handle = handle;
	return 0;
}

/* Submit queues live in f->queues: engine_class 1 marks a VM_BIND queue. */
static int msm_submitqueue_new(struct shim_file *f, void *data)
{
	struct gpuvm_abi_msm_submitqueue *a = data;
	struct shim_queue *q;
	uint32_t id;

	if (a->flags & ~(GPUVM_ABI_MSM_SUBMITQUEUE_ALLOW_PREEMPT | GPUVM_ABI_MSM_SUBMITQUEUE_VM_BIND))
		return -EINVAL;
	if ((a->flags & GPUVM_ABI_MSM_SUBMITQUEUE_VM_BIND) && !shim_vm_find(f, 0))
		return -EINVAL;
	id = shim_lowest_free_id(&f->queues, sizeof(*q), offsetof(struct shim_queue, id));
	if (!id)
		return -ENOSPC;
	q = shim_arr_push(&f->queues, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->id = id;
	q->engine_class = (a->flags & GPUVM_ABI_MSM_SUBMITQUEUE_VM_BIND) ? 1 : 0;
	a->id = id;
	return 0;
}

static int msm_submitqueue_close(struct shim_file *f, void *data)
{
	uint32_t id;
	struct shim_queue *q;

	memcpy(&id, data, sizeof(id));
	q = shim_queue_find(f, id);
	if (!q)
		return -ENOENT;
	shim_arr_del(&f->queues, sizeof(*q), (size_t)(q - (struct shim_queue *)f->queues.v));
	return 0;
}

static int msm_vm_bind(struct shim_file *f, void *data)
{
	struct gpuvm_bind_batch *batch;
	struct shim_vm *v = shim_vm_find(f, 0);
	struct shim_queue *q;
	uint32_t vm_id = 0, qid;
	int rc;

	if (!v)
		return -EINVAL; /* not in VM_BIND mode */
	rc = shim_bind_decode(GPUVM_BIND_MSM, GPUVM_ABI_MSM_IOCTL_VM_BIND, data, &batch, &vm_id);
	if (rc)
		return rc;
	qid = gpuvm_bind_batch_queue(batch);
	q = qid ? shim_queue_find(f, qid) : NULL;
	if (qid && !q)
		rc = -ENOENT;
	else if (!q || q->engine_class != 1)
		rc = -EINVAL;
	else
		rc = shim_bind_apply(f, v, batch);
	gpuvm_bind_batch_destroy(batch);
	return rc;
}

#define MSM(nr, dir, size, fn) { GPUVM_ABI_MSM_NR_##nr, GPUVM_ABI_IOC_##dir, size, fn }

static const struct shim_ioctl msm_ioctls[] = {
	MSM(GET_PARAM, RW, sizeof(struct gpuvm_abi_msm_param), msm_get_param),
	MSM(SET_PARAM, W, sizeof(struct gpuvm_abi_msm_param), msm_set_param),
	MSM(GEM_NEW, RW, sizeof(struct gpuvm_abi_msm_gem_new), msm_gem_new),
	MSM(SUBMITQUEUE_NEW, RW, sizeof(struct gpuvm_abi_msm_submitqueue), msm_submitqueue_new),
	MSM(SUBMITQUEUE_CLOSE, W, sizeof(uint32_t), msm_submitqueue_close),
	MSM(VM_BIND, RW, sizeof(struct gpuvm_abi_msm_vm_bind), msm_vm_bind),
};

const struct shim_ioctl *shim_msm_ioctl(uint32_t nr)
{
	size_t i;

	for (i = 0; i < sizeof(msm_ioctls) / sizeof(msm_ioctls[0]); i++)
		if (msm_ioctls[i].nr == nr)
			return &msm_ioctls[i];
	return NULL;
}
