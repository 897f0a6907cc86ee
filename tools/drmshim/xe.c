/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim: the emulated xe device. One GT with a render and a copy
 * engine, one system-memory region, 48 VA bits; GEM objects, VMs, exec
 * queues and VM_BIND (applied at once with libgpuvm).
 *
 * Not emulated (-ENOTTY): GEM_MMAP_OFFSET, EXEC, WAIT_USER_FENCE,
 * EXEC_QUEUE_GET_PROPERTY. Deviations, all refusals of what a real device
 * might accept: no extensions anywhere (-EINVAL), exec queues of width 1
 * and one placement only, VM-private BOs (GEM_CREATE vm_id) are recorded
 * but may be bound in any VM of the file.
 */
#include <errno.h>
#include <string.h>

#include "shim.h"
#include "xe.h"

#define XE_VA_BITS 48u
#define XE_SYSMEM_SIZE (16ull << 30)
#define XE_DEVICE_ID 0xe20bu /* a Battlemage id; only reported, never checked */

void shim_xe_version(int32_t v[3], const char **name, const char **desc)
{
	v[0] = 1;
	v[1] = 1;
	v[2] = 0;
	*name = "xe";
	*desc = "gpuvm-drmshim emulated Intel Xe";
}

/* ---- DEVICE_QUERY ------------------------------------------------------- */

/*
 * The answers, built in a u64-aligned buffer: a header (count, pad) and
 * the array after it (the structs end in flexible arrays).
 */
union xe_answer {
	uint64_t u64[16];
	unsigned char bytes[128];
};

static uint32_t xe_answer_config(union xe_answer *ans)
{
	struct gpuvm_abi_xe_query_config *c = (void *)ans->bytes;

	c->num_params = 5;
	c->info[GPUVM_ABI_XE_CONFIG_REV_AND_DEVICE_ID] = XE_DEVICE_ID;
	c->info[GPUVM_ABI_XE_CONFIG_FLAGS] = 0; /* no VRAM */
	c->info[GPUVM_ABI_XE_CONFIG_MIN_ALIGNMENT] = SHIM_PAGE_SIZE;
	c->info[GPUVM_ABI_XE_CONFIG_VA_BITS] = XE_VA_BITS;
	c->info[GPUVM_ABI_XE_CONFIG_MAX_EXEC_QUEUE_PRIORITY] = 2;
	return (uint32_t)(sizeof(*c) + 5 * sizeof(c->info[0]));
}

static uint32_t xe_answer_regions(union xe_answer *ans)
{
	struct gpuvm_abi_xe_query_mem_regions *r = (void *)ans->bytes;

	r->num_mem_regions = 1;
	r->mem_regions[0].mem_class = GPUVM_ABI_XE_MEM_CLASS_SYSMEM;
	r->mem_regions[0].instance = 0;
	r->mem_regions[0].min_page_size = SHIM_PAGE_SIZE;
	r->mem_regions[0].total_size = XE_SYSMEM_SIZE;
	r->mem_regions[0].cpu_visible_size = XE_SYSMEM_SIZE;
	return (uint32_t)(sizeof(*r) + sizeof(r->mem_regions[0]));
}

static uint32_t xe_answer_engines(union xe_answer *ans)
{
	struct gpuvm_abi_xe_query_engines *e = (void *)ans->bytes;

	e->num_engines = 2;
	e->engines[0].instance.engine_class = GPUVM_ABI_XE_ENGINE_CLASS_RENDER;
	e->engines[1].instance.engine_class = GPUVM_ABI_XE_ENGINE_CLASS_COPY;
	return (uint32_t)(sizeof(*e) + 2 * sizeof(e->engines[0]));
}

static int xe_device_query(struct shim_file *f, void *data)
{
	struct gpuvm_abi_xe_device_query *a = data;
	union xe_answer ans;
	uint32_t size;

	(void)f;
	if (a->extensions || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	memset(&ans, 0, sizeof(ans));
	switch (a->query) {
	case GPUVM_ABI_XE_QUERY_CONFIG:
		size = xe_answer_config(&ans);
		break;
	case GPUVM_ABI_XE_QUERY_MEM_REGIONS:
		size = xe_answer_regions(&ans);
		break;
	case GPUVM_ABI_XE_QUERY_ENGINES:
		size = xe_answer_engines(&ans);
		break;
	default:
		return -EINVAL;
	}
	/* Size 0 asks for the size; any other wrong size is refused. */
	if (!a->size) {
		a->size = size;
		return 0;
	}
	if (a->size != size)
		return -EINVAL;
	if (!a->data)
		return -EFAULT;
	return shim_copy_to_user(a->data, ans.bytes, size);
}

/* ---- GEM and VMs --------------------------------------------------------------- */

static int xe_gem_create(struct shim_file *f, void *data)
{
	struct gpuvm_abi_xe_gem_create *a = data;
	const uint32_t known = GPUVM_ABI_XE_GEM_CREATE_DEFER_BACKING |
			       GPUVM_ABI_XE_GEM_CREATE_SCANOUT |
			       GPUVM_ABI_XE_GEM_CREATE_NEEDS_VISIBLE_VRAM;
	uint32_t handle;
	int rc;

	if (a->extensions || a->pad[0] || a->pad[1] || a->pad[2] || a->reserved[0] ||
	    a->reserved[1])
		return -EINVAL;
	if (a->flags & ~known)
		return -EINVAL;
	if (!a->placement || (a->placement & ~1u)) /* region instance 0 only */
		return -EINVAL;
	/* Asking for visible VRAM without a VRAM placement: there is no VRAM. */
	if (a->flags & GPUVM_ABI_XE_GEM_CREATE_NEEDS_VISIBLE_VRAM)
		return -EINVAL;
	if (!a->size || (a->size & (SHIM_PAGE_SIZE - 1)))
		return -EINVAL;
	if (a->cpu_caching != GPUVM_ABI_XE_GEM_CPU_CACHING_WB &&
	    a->cpu_caching != GPUVM_ABI_XE_GEM_CPU_CACHING_WC)
		return -EINVAL;
	if (a->vm_id && !shim_vm_find(f, a->vm_id))
		return -ENOENT;
	rc = shim_bo_new(f, a->size, a->placement, &handle);
	if (rc)
		return rc;
	a->handle = handle;
	return 0;
}

static int xe_vm_create(struct shim_file *f, void *data)
{
	struct gpuvm_abi_xe_vm_create *a = data;
	const uint32_t known = GPUVM_ABI_XE_VM_CREATE_SCRATCH_PAGE |
			       GPUVM_ABI_XE_VM_CREATE_LR_MODE | GPUVM_ABI_XE_VM_CREATE_FAULT_MODE;
	struct shim_vm *v;
	uint32_t id;
	int rc;

	if (a->extensions || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	if (a->flags & ~known)
		return -EINVAL;
	if ((a->flags & GPUVM_ABI_XE_VM_CREATE_FAULT_MODE) &&
	    !(a->flags & GPUVM_ABI_XE_VM_CREATE_LR_MODE))
		return -EINVAL;
	id = shim_lowest_free_id(&f->vms, sizeof(struct shim_vm), offsetof(struct shim_vm, id));
	if (!id)
		return -ENOSPC;
	rc = shim_vm_new(f, id, 0, 1ull << XE_VA_BITS, 0, 0, &v);
	if (rc)
		return rc;
	a->vm_id = id;
	return 0;
}

static int xe_vm_destroy(struct shim_file *f, void *data)
{
	struct gpuvm_abi_xe_vm_destroy *a = data;
	struct shim_vm *v;

	if (a->pad || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	v = shim_vm_find(f, a->vm_id);
	if (!v)
		return -ENOENT;
	shim_vm_drop(f, v, true);
	return 0;
}

/* ---- exec queues ----------------------------------------------------------------- */

static int xe_exec_queue_create(struct shim_file *f, void *data)
{
	struct gpuvm_abi_xe_exec_queue_create *a = data;
	struct gpuvm_abi_xe_engine_class_instance eci;
	struct shim_queue *q;
	uint32_t id;

	if (a->extensions || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	if (a->flags & ~GPUVM_ABI_XE_EXEC_QUEUE_LOW_LATENCY_HINT)
		return -EINVAL;
	if (a->width != 1 || a->num_placements != 1)
		return -EINVAL;
	if (!a->instances)
		return -EFAULT;
	if (shim_copy_from_user(&eci, a->instances, sizeof(eci)))
		return -EFAULT;
	if (eci.engine_instance || eci.gt_id || eci.pad)
		return -EINVAL;
	if (eci.engine_class != GPUVM_ABI_XE_ENGINE_CLASS_VM_BIND &&
	    eci.engine_class != GPUVM_ABI_XE_ENGINE_CLASS_RENDER &&
	    eci.engine_class != GPUVM_ABI_XE_ENGINE_CLASS_COPY)
		return -EINVAL;
	if (!shim_vm_find(f, a->vm_id))
		return -ENOENT;
	id = shim_lowest_free_id(&f->queues, sizeof(*q), offsetof(struct shim_queue, id));
	if (!id)
		return -ENOSPC;
	q = shim_arr_push(&f->queues, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->id = id;
	q->vm_id = a->vm_id;
	q->engine_class = eci.engine_class;
	a->exec_queue_id = id;
	return 0;
}

static int xe_exec_queue_destroy(struct shim_file *f, void *data)
{
	struct gpuvm_abi_xe_exec_queue_destroy *a = data;
	struct shim_queue *q;

	if (a->pad || a->reserved[0] || a->reserved[1])
		return -EINVAL;
	q = shim_queue_find(f, a->exec_queue_id);
	if (!q)
		return -ENOENT;
	shim_arr_del(&f->queues, sizeof(*q), (size_t)(q - (struct shim_queue *)f->queues.v));
	return 0;
}

/* ---- VM_BIND ------------------------------------------------------------------------ */

/*
 * Decode (every malformed payload refused by the codec, unchanged errno),
 * then the kernel's order: the exec queue (-ENOENT; not a bind queue of
 * this VM: -EINVAL), the VM (-EINVAL), the syncs, the ops.
 */
static int xe_vm_bind(struct shim_file *f, void *data)
{
	struct gpuvm_bind_batch *batch;
	struct shim_vm *v;
	uint32_t vm_id = 0, qid;
	int rc;

	rc = shim_bind_decode(GPUVM_BIND_XE, GPUVM_ABI_XE_IOCTL_VM_BIND, data, &batch, &vm_id);
	if (rc)
		return rc;
	qid = gpuvm_bind_batch_queue(batch);
	if (qid) {
		struct shim_queue *q = shim_queue_find(f, qid);

		if (!q) {
			rc = -ENOENT;
			goto out;
		}
		if (q->engine_class != GPUVM_ABI_XE_ENGINE_CLASS_VM_BIND || q->vm_id != vm_id) {
			rc = -EINVAL;
			goto out;
		}
	}
	v = shim_vm_find(f, vm_id);
	if (!v) {
		rc = -EINVAL;
		goto out;
	}
	rc = shim_bind_apply(f, v, batch);
out:
	gpuvm_bind_batch_destroy(batch);
	return rc;
}

#define XE(nr, dir, type, fn) \
	{ GPUVM_ABI_XE_NR_##nr, GPUVM_ABI_IOC_##dir, sizeof(struct type), fn }

static const struct shim_ioctl xe_ioctls[] = {
	XE(DEVICE_QUERY, RW, gpuvm_abi_xe_device_query, xe_device_query),
	XE(GEM_CREATE, RW, gpuvm_abi_xe_gem_create, xe_gem_create),
	XE(VM_CREATE, RW, gpuvm_abi_xe_vm_create, xe_vm_create),
	XE(VM_DESTROY, W, gpuvm_abi_xe_vm_destroy, xe_vm_destroy),
	XE(VM_BIND, W, gpuvm_abi_xe_vm_bind, xe_vm_bind),
	XE(EXEC_QUEUE_CREATE, RW, gpuvm_abi_xe_exec_queue_create, xe_exec_queue_create),
	XE(EXEC_QUEUE_DESTROY, W, gpuvm_abi_xe_exec_queue_destroy, xe_exec_queue_destroy),
};

const struct shim_ioctl *shim_xe_ioctl(uint32_t nr)
{
	size_t i;

	for (i = 0; i < sizeof(xe_ioctls) / sizeof(xe_ioctls[0]); i++)
		if (xe_ioctls[i].nr == nr)
			return &xe_ioctls[i];
	return NULL;
}
