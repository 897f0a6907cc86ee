/* SPDX-License-Identifier: MIT */
/*
 * capture_threads: several threads bind at once on their own render-node
 * files, so that the capture (libgpuvm-trace.so) records concurrent GEM
 * creates, VM creations, binds, refused binds, GEM closes, VM destroys and
 * closes. Run under LD_PRELOAD="libgpuvm-trace.so libgpuvm-drmshim.so" by
 * capture_replay.sh, which then requires the replayed trace to reach the
 * emulated node's VA state VM by VM.
 *
 * Each thread opens /dev/dri/renderD128 (driver: GPUVM_DRMSHIM_DRIVER, xe,
 * nouveau, panthor or msm), creates its VM and three objects, and submits
 * ITERS random batches through gpuvm_bind_submit() (the default ioctl(2),
 * so the calls go through the capture): maps, unmaps, NULL maps, unmap-bo
 * and prefetch on xe; maps and unmaps around a sparse region on nouveau;
 * maps and unmaps on panthor; maps, NULL maps and unmaps on a VM_BIND
 * queue on msm. It checks that a bind the node refuses fails with the
 * node's errno (EINVAL) intact. It closes one object's handle half-way (its
 * mappings stay). Odd threads end their VM themselves (xe and panthor:
 * VM_DESTROY; nouveau: UNMAP_SPARSE of the region; msm: the close) and
 * close the file; even threads leave both to process exit.
 *
 * The last line is "capture_threads: ok" only on success.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gpuvm.h>
#include <gpuvm/bind.h>

#include "bind/abi/drm_common.h"
#include "bind/abi/msm.h"
#include "bind/abi/nouveau.h"
#include "bind/abi/panthor.h"
#include "bind/abi/xe.h"

#define PAGE ((uint64_t)4096)
#define NTHREADS 4
#define ITERS 60
#define NBO 3
#define BO_PAGES 16u
#define WINDOW 0x100000000ull /* where the random binds go */
#define WINDOW_PAGES 256u
#define REGION (WINDOW + 512 * PAGE) /* nouveau's sparse region */
#define REGION_PAGES 64u
#define TAIL (WINDOW + 1024 * PAGE) /* the last binds, kept to the end */
#define NV_KERNEL_ADDR (1ull << 39)
#define NV_KERNEL_SIZE (1ull << 32)
#define PT_USER_VA (1ull << 47)

static int failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

#define CHECK(cond, ...)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			pthread_mutex_lock(&fail_lock);                             \
			fprintf(stderr, "capture_threads: FAILED %s: ", #cond);     \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			failures++;                                                 \
			pthread_mutex_unlock(&fail_lock);                           \
		}                                                                   \
	} while (0)

struct worker {
	unsigned int id;
	uint32_t driver;
	int fd;
	uint32_t vm_id;
	uint32_t queue; /* msm: the VM_BIND submit queue */
	struct gpuvm_bind_dev *dev;
	struct gpuvm_bind_vm *vm;
	uint32_t bo[NBO];
	bool closed[NBO];
	uint64_t rng;
};

static int drm_ioctl(int fd, unsigned long request, void *arg)
{
	int rc;

	do {
		rc = ioctl(fd, request, arg);
	} while (rc == -1 && (errno == EINTR || errno == EAGAIN));
	return rc == -1 ? -errno : 0;
}

static uint32_t rnd(struct worker *w, uint32_t n)
{
	w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)((w->rng >> 33) % n);
}

static int xe_query(int fd, uint32_t query, void **out)
{
	struct gpuvm_abi_xe_device_query q = { .query = query };
	void *data;
	int rc;

	rc = drm_ioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q);
	if (rc)
		return rc;
	data = calloc(1, q.size);
	if (!data)
		return -ENOMEM;
	q.data = (uintptr_t)data;
	rc = drm_ioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q);
	if (rc) {
		free(data);
		return rc;
	}
	*out = data;
	return 0;
}

static int setup(struct worker *w)
{
	GPUVM_OPTS(gpuvm_bind_dev_opts, dopts, .driver = w->driver);
	GPUVM_OPTS(gpuvm_bind_vm_opts, vopts);
	uint32_t placement = 0;
	int rc;

	w->fd = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	rc = gpuvm_bind_dev_create(&dopts, &w->dev);
	if (rc)
		return rc;
	if (w->driver == GPUVM_BIND_XE) {
		struct gpuvm_abi_xe_query_config *config;
		struct gpuvm_abi_xe_query_mem_regions *regions;
		struct gpuvm_abi_xe_vm_create create = { 0 };

		rc = xe_query(w->fd, GPUVM_ABI_XE_QUERY_CONFIG, (void **)&config);
		if (rc)
			return rc;
		vopts.range = 1ull << config->info[GPUVM_ABI_XE_CONFIG_VA_BITS];
		free(config);
		rc = xe_query(w->fd, GPUVM_ABI_XE_QUERY_MEM_REGIONS, (void **)&regions);
		if (rc)
			return rc;
		for (uint32_t r = 0; r < regions->num_mem_regions; r++)
			if (regions->mem_regions[r].mem_class == GPUVM_ABI_XE_MEM_CLASS_SYSMEM)
				placement = 1u << regions->mem_regions[r].instance;
		free(regions);
		rc = drm_ioctl(w->fd, GPUVM_ABI_XE_IOCTL_VM_CREATE, &create);
		if (rc)
			return rc;
		w->vm_id = create.vm_id;
		vopts.vm_id = create.vm_id;
	} else if (w->driver == GPUVM_BIND_MSM) {
		struct gpuvm_abi_msm_param p = {
			.pipe = GPUVM_ABI_MSM_PIPE_3D0,
			.param = GPUVM_ABI_MSM_PARAM_EN_VM_BIND,
			.value = 1,
		};
		struct gpuvm_abi_msm_submitqueue q = { .flags = GPUVM_ABI_MSM_SUBMITQUEUE_VM_BIND };

		rc = drm_ioctl(w->fd, GPUVM_ABI_MSM_IOCTL_SET_PARAM, &p);
		if (rc)
			return rc;
		p.param = GPUVM_ABI_MSM_PARAM_VA_START;
		rc = drm_ioctl(w->fd, GPUVM_ABI_MSM_IOCTL_GET_PARAM, &p);
		if (rc)
			return rc;
		vopts.start = p.value;
		p.param = GPUVM_ABI_MSM_PARAM_VA_SIZE;
		rc = drm_ioctl(w->fd, GPUVM_ABI_MSM_IOCTL_GET_PARAM, &p);
		if (rc)
			return rc;
		vopts.range = p.value;
		rc = drm_ioctl(w->fd, GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_NEW, &q);
		if (rc)
			return rc;
		w->queue = q.id;
	} else if (w->driver == GPUVM_BIND_PANTHOR) {
		/* thread 0 lets the kernel choose (all but the top 4 GiB of 48 bits) */
		struct gpuvm_abi_panthor_vm_create create = {
			.user_va_range = w->id ? PT_USER_VA : 0,
		};

		rc = drm_ioctl(w->fd, GPUVM_ABI_PANTHOR_IOCTL_VM_CREATE, &create);
		if (rc)
			return rc;
		w->vm_id = create.id;
		vopts.vm_id = create.id;
		vopts.range = create.user_va_range ? create.user_va_range
						   : (1ull << 48) - (4ull << 30);
	} else {
		struct gpuvm_abi_nouveau_vm_init init = {
			.kernel_managed_addr = NV_KERNEL_ADDR,
			.kernel_managed_size = NV_KERNEL_SIZE,
		};

		rc = drm_ioctl(w->fd, GPUVM_ABI_NOUVEAU_IOCTL_VM_INIT, &init);
		if (rc)
			return rc;
		vopts.range = 1ull << 47;
		vopts.reserve_addr = NV_KERNEL_ADDR;
		vopts.reserve_range = NV_KERNEL_SIZE;
	}
	rc = gpuvm_bind_vm_create(w->dev, &vopts, &w->vm);
	if (rc)
		return rc;
	for (unsigned int i = 0; i < NBO; i++) {
		uint64_t size = BO_PAGES * PAGE;

		if (w->driver == GPUVM_BIND_XE) {
			struct gpuvm_abi_xe_gem_create c = {
				.size = size,
				.placement = placement,
				.cpu_caching = GPUVM_ABI_XE_GEM_CPU_CACHING_WB,
			};

			rc = drm_ioctl(w->fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c);
			w->bo[i] = c.handle;
		} else if (w->driver == GPUVM_BIND_PANTHOR) {
			struct gpuvm_abi_panthor_bo_create c = { .size = size };

			rc = drm_ioctl(w->fd, GPUVM_ABI_PANTHOR_IOCTL_BO_CREATE, &c);
			w->bo[i] = c.handle;
		} else if (w->driver == GPUVM_BIND_MSM) {
			struct gpuvm_abi_msm_gem_new c = { .size = size,
							   .flags = GPUVM_ABI_MSM_BO_WC };

			rc = drm_ioctl(w->fd, GPUVM_ABI_MSM_IOCTL_GEM_NEW, &c);
			w->bo[i] = c.handle;
		} else {
			struct gpuvm_abi_nouveau_gem_new c = {
				.info = { .size = size, .domain = GPUVM_ABI_NOUVEAU_GEM_DOMAIN_VRAM },
			};

			rc = drm_ioctl(w->fd, GPUVM_ABI_NOUVEAU_IOCTL_GEM_NEW, &c);
			w->bo[i] = c.info.handle;
		}
		if (rc)
			return rc;
		rc = gpuvm_bind_bo_add(w->dev, w->bo[i], size, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static int submit(struct worker *w, struct gpuvm_bind_batch *b)
{
	GPUVM_OPTS(gpuvm_bind_submit_opts, opts, .fd = w->fd);

	return gpuvm_bind_submit(w->vm, b, &opts, NULL);
}

static void add(struct worker *w, struct gpuvm_bind_batch *b, uint32_t type, uint32_t handle,
		uint64_t addr, uint64_t range, uint64_t offset)
{
	struct gpuvm_bind_op op = {
		.type = type, .handle = handle, .addr = addr, .range = range, .offset = offset,
	};
	int rc = gpuvm_bind_batch_add(b, &op);

	CHECK(rc == 0, "thread %u: batch_add type %u: %d", w->id, type, rc);
}

/* A live handle (one is closed half-way). */
static uint32_t live_bo(struct worker *w)
{
	unsigned int i = rnd(w, NBO);

	while (w->closed[i])
		i = (i + 1) % NBO;
	return w->bo[i];
}

static void random_op(struct worker *w, struct gpuvm_bind_batch *b)
{
	bool xe = w->driver == GPUVM_BIND_XE, nv = w->driver == GPUVM_BIND_NOUVEAU;
	bool msm = w->driver == GPUVM_BIND_MSM;
	uint32_t kind = rnd(w, xe ? 10 : nv ? 6 : msm ? 8 : 4);
	uint64_t pages = 1 + rnd(w, 4);
	uint64_t addr = WINDOW + rnd(w, WINDOW_PAGES) * PAGE;

	if (nv && kind >= 4) /* inside its sparse region */
		addr = REGION + rnd(w, REGION_PAGES - 4) * PAGE;
	if (msm && kind == 6) /* kinds 0-5 as everywhere, then a NULL map, a dumpable map */
		kind = 7;
	if (msm && kind == 7 && rnd(w, 2)) {
		struct gpuvm_bind_op op = {
			.type = GPUVM_BIND_OP_MAP,
			.flags = GPUVM_BIND_DUMPABLE,
			.handle = live_bo(w),
			.addr = addr,
			.range = pages * PAGE,
			.offset = rnd(w, BO_PAGES - (uint32_t)pages + 1) * PAGE,
		};
		int rc = gpuvm_bind_batch_add(b, &op);

		CHECK(rc == 0, "thread %u: batch_add dumpable map: %d", w->id, rc);
		return;
	}
	switch (kind) {
	case 0:
	case 1:
	case 2:
	case 4:
		if (xe && kind == 2) { /* attributes the trace keeps as comments */
			struct gpuvm_bind_op op = {
				.type = GPUVM_BIND_OP_MAP,
				.flags = GPUVM_BIND_READ_ONLY | GPUVM_BIND_DUMPABLE,
				.handle = live_bo(w),
				.driver_arg = 1 + rnd(w, 3), /* PAT index */
				.addr = addr,
				.range = pages * PAGE,
				.offset = rnd(w, BO_PAGES - (uint32_t)pages + 1) * PAGE,
			};
			int rc = gpuvm_bind_batch_add(b, &op);

			CHECK(rc == 0, "thread %u: batch_add flagged map: %d", w->id, rc);
			break;
		}
		add(w, b, GPUVM_BIND_OP_MAP, live_bo(w), addr, pages * PAGE,
		    rnd(w, BO_PAGES - (uint32_t)pages + 1) * PAGE);
		break;
	case 3:
	case 5:
	case 6:
		add(w, b, GPUVM_BIND_OP_UNMAP, 0, addr, (1 + rnd(w, 8)) * PAGE, 0);
		break;
	case 7:
		add(w, b, GPUVM_BIND_OP_MAP_SPARSE, 0, addr, (1 + rnd(w, 8)) * PAGE, 0);
		break;
	case 8:
		add(w, b, GPUVM_BIND_OP_PREFETCH, 0, addr, pages * PAGE, 0);
		break;
	default:
		if (rnd(w, 4) == 0)
			add(w, b, GPUVM_BIND_OP_UNMAP_BO, live_bo(w), 0, 0, 0);
		else
			add(w, b, GPUVM_BIND_OP_MAP_SPARSE, 0, addr, pages * PAGE, 0);
		break;
	}
}

/*
 * Binds the node must refuse: offset + range beyond the object (EINVAL),
 * and an argument at a wild address (EFAULT).
 */
static void refused_bind(struct worker *w)
{
	struct gpuvm_bind_batch *b = NULL;
	struct gpuvm_bind_encoded enc;
	struct gpuvm_bind_op op = {
		.type = GPUVM_BIND_OP_MAP, .handle = live_bo(w), .addr = WINDOW,
		.range = 2 * PAGE, .offset = (BO_PAGES - 1) * PAGE,
	};
	GPUVM_OPTS(gpuvm_bind_batch_opts, opts, .queue_id = w->queue);
	int rc;

	rc = gpuvm_bind_batch_create(&opts, &b);
	CHECK(rc == 0, "batch_create: %d", rc);
	if (rc)
		return;
	rc = gpuvm_bind_batch_add(b, &op);
	CHECK(rc == 0, "batch_add: %d", rc);
	rc = gpuvm_bind_encode(w->driver, w->vm_id, b, &enc);
	CHECK(rc == 0, "encode: %d", rc);
	if (!rc) {
		errno = 0;
		rc = ioctl(w->fd, enc.request, enc.arg);
		CHECK(rc == -1 && errno == EINVAL,
		      "thread %u: a bind past the object's end gave %d, errno %d", w->id, rc,
		      errno);
		/* a wild argument pointer: EFAULT from the node, no crash on the way */
		errno = 0;
		rc = ioctl(w->fd, enc.request, (void *)(uintptr_t)8);
		CHECK(rc == -1 && errno == EFAULT,
		      "thread %u: a bind with a bad pointer gave %d, errno %d", w->id, rc, errno);
		gpuvm_bind_encoded_fini(&enc);
	}
	gpuvm_bind_batch_destroy(b);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct gpuvm_bind_batch *b = NULL;
	bool xe;
	int rc;

	rc = setup(w);
	CHECK(rc == 0, "thread %u: setup: %s", w->id, strerror(-rc));
	if (rc)
		return NULL;
	xe = w->driver == GPUVM_BIND_XE;
	{
		GPUVM_OPTS(gpuvm_bind_batch_opts, opts, .queue_id = w->queue);

		rc = gpuvm_bind_batch_create(&opts, &b);
	}
	CHECK(rc == 0, "batch_create: %d", rc);
	if (rc)
		return NULL;
	if (w->driver == GPUVM_BIND_NOUVEAU) {
		add(w, b, GPUVM_BIND_OP_MAP_SPARSE, 0, REGION, REGION_PAGES * PAGE, 0);
		rc = submit(w, b);
		CHECK(rc == 0, "thread %u: sparse region: %d", w->id, rc);
	}
	for (unsigned int it = 0; it < ITERS; it++) {
		unsigned int n = 1 + rnd(w, 3);

		gpuvm_bind_batch_reset(b);
		for (unsigned int k = 0; k < n; k++)
			random_op(w, b);
		rc = submit(w, b);
		CHECK(rc == 0, "thread %u: batch %u: %d", w->id, it, rc);
		if (it == ITERS / 3)
			refused_bind(w);
		if (it == ITERS / 2) { /* close a handle; its mappings stay */
			struct gpuvm_abi_drm_gem_close c = { .handle = w->bo[0] };

			rc = drm_ioctl(w->fd, GPUVM_ABI_DRM_IOCTL_GEM_CLOSE, &c);
			CHECK(rc == 0, "thread %u: GEM_CLOSE: %d", w->id, rc);
			rc = gpuvm_bind_bo_remove(w->dev, w->bo[0]);
			CHECK(rc == 0, "thread %u: bo_remove: %d", w->id, rc);
			w->closed[0] = true;
		}
	}
	/* Something certain to be left: an object mapping, on xe and msm a NULL one. */
	gpuvm_bind_batch_reset(b);
	add(w, b, GPUVM_BIND_OP_MAP, w->bo[1], TAIL, 2 * PAGE, 0);
	if (xe || w->driver == GPUVM_BIND_MSM)
		add(w, b, GPUVM_BIND_OP_MAP_SPARSE, 0, TAIL + 4 * PAGE, 4 * PAGE, 0);
	rc = submit(w, b);
	CHECK(rc == 0, "thread %u: tail: %d", w->id, rc);

	if (w->id % 2) {
		if (xe) {
			struct gpuvm_abi_xe_vm_destroy d = { .vm_id = w->vm_id };

			rc = drm_ioctl(w->fd, GPUVM_ABI_XE_IOCTL_VM_DESTROY, &d);
			CHECK(rc == 0, "thread %u: VM_DESTROY: %d", w->id, rc);
		} else if (w->driver == GPUVM_BIND_PANTHOR) {
			struct gpuvm_abi_panthor_vm_destroy d = { .id = w->vm_id };

			rc = drm_ioctl(w->fd, GPUVM_ABI_PANTHOR_IOCTL_VM_DESTROY, &d);
			CHECK(rc == 0, "thread %u: VM_DESTROY: %d", w->id, rc);
		} else if (w->driver == GPUVM_BIND_NOUVEAU) {
			gpuvm_bind_batch_reset(b);
			add(w, b, GPUVM_BIND_OP_UNMAP_SPARSE, 0, REGION, REGION_PAGES * PAGE, 0);
			rc = submit(w, b);
			CHECK(rc == 0, "thread %u: UNMAP_SPARSE: %d", w->id, rc);
		}
		gpuvm_bind_vm_destroy(w->vm);
		w->vm = NULL;
		close(w->fd);
		w->fd = -1;
	}
	gpuvm_bind_batch_destroy(b);
	return NULL;
}

int main(void)
{
	const char *name = getenv("GPUVM_DRMSHIM_DRIVER");
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	int driver = gpuvm_bind_driver_from_name(name && *name ? name : "xe");

	if (driver <= 0) {
		fprintf(stderr, "capture_threads: driver '%s' not emulated\n", name);
		return 1;
	}
	memset(w, 0, sizeof(w));
	for (unsigned int i = 0; i < NTHREADS; i++) {
		w[i].id = i;
		w[i].driver = (uint32_t)driver;
		w[i].fd = -1;
		w[i].rng = 0x9e3779b97f4a7c15ull * (i + 1);
		if (pthread_create(&t[i], NULL, worker_main, &w[i])) {
			fprintf(stderr, "capture_threads: pthread_create failed\n");
			return 1;
		}
	}
	for (unsigned int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	/* even threads' VMs and files stay to exit: the shadows go, not the files */
	for (unsigned int i = 0; i < NTHREADS; i++) {
		gpuvm_bind_vm_destroy(w[i].vm);
		if (w[i].dev)
			CHECK(gpuvm_bind_dev_destroy(w[i].dev) == 0, "dev_destroy %u", i);
	}
	if (failures) {
		fprintf(stderr, "capture_threads: %d failures\n", failures);
		return 1;
	}
	printf("capture_threads: ok\n");
	return 0;
}
