/* SPDX-License-Identifier: MIT */
/*
 * umd_sparse: a small user-mode driver doing what a Vulkan driver does for
 * a sparse image, on an xe or nouveau render node, with libgpuvm as its
 * shadow of the kernel's VA state.
 *
 *   1. open /dev/dri/renderD128 and ask DRM_IOCTL_VERSION which driver it
 *      is (xe or nouveau; anything else is not for us: exit 77);
 *   2. create the VM (xe: VM_CREATE, 1 << VA_BITS from DEVICE_QUERY;
 *      nouveau: VM_INIT with a kernel-managed region) and the same VM in a
 *      libgpuvm bind device, and a few GEM objects registered in both;
 *   3. reserve a 256-page sparse image (MAP_SPARSE), bind 128 of its pages
 *      to the objects one page per op (adjacent pages: libgpuvm coalesces
 *      them into one op per object), wait on the out-syncobj;
 *   4. unbind 24 pages again: xe rebinds them as NULL (MAP_SPARSE, anv's
 *      way), nouveau unmaps inside its sparse region (the driver's
 *      GPUVM_BIND_CAP_SPARSE_REGIONS says which);
 *   5. ask the shadow what is resident (gpuvm_bind_residency(),
 *      gpuvm_bind_lookup(), gpuvm_bind_for_each()) and check every figure.
 *
 * Binds go through gpuvm_bind_submit() with the default ioctl(2), so under
 * LD_PRELOAD=libgpuvm-drmshim.so the emulated node answers. Without a
 * render node the program fails with a message. Usage:
 *	umd_sparse [node]	(default /dev/dri/renderD128)
 *
 * The ioctl structures come from libgpuvm's own ABI headers
 * (lib/bind/abi/), declared from the kernel's uAPI and layout-identical to
 * it: a real driver would include the kernel's <drm/xe_drm.h> and
 * <drm/nouveau_drm.h>, which Debian does not ship.
 *
 * The last line is "umd_sparse: ok" only on success.
 */
#define _POSIX_C_SOURCE 200809L /* NOLINT(bugprone-reserved-identifier): clock_gettime */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <gpuvm.h>
#include <gpuvm/bind.h>

#include "drm_common.h"
#include "nouveau.h"
#include "xe.h"

#define PAGE ((uint64_t)4096)
#define IMAGE_PAGES 256u
#define IMAGE_VA 0x100000000ull /* 4 GiB */
#define NBO 4u
#define BO_PAGES 32u
/* nouveau: the kernel keeps [1 << 39, +4 GiB) for itself. */
#define NV_KERNEL_ADDR (1ull << 39)
#define NV_KERNEL_SIZE (1ull << 32)

/* Where each object's 32 pages go in the image, in pages. */
static const unsigned int bo_first_page[NBO] = { 0, 64, 128, 200 };

/* The pages unbound again: [8, 16) of bo 0, [64, 80) of bo 1. */
static const struct {
	unsigned int first, count;
} holes[] = { { 8, 8 }, { 64, 16 } };

struct umd {
	int fd;
	uint32_t driver;
	struct gpuvm_bind_driver_info info;
	uint32_t vm_id;
	struct gpuvm_bind_dev *dev;
	struct gpuvm_bind_vm *vm;
	uint32_t bo[NBO];
	uint32_t syncobj;
	uint64_t point; /* last timeline point asked for */
	bool timeline;
};

static int failures;

#define CHECK(cond, ...)                                                 \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "umd_sparse: FAILED %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                    \
			fputc('\n', stderr);                             \
			failures++;                                      \
		}                                                        \
	} while (0)

/* ioctl(2) the way libdrm's drmIoctl() does it: retry EINTR and EAGAIN. */
static int drm_ioctl(int fd, unsigned long request, void *arg)
{
	int rc;

	do {
		rc = ioctl(fd, request, arg);
	} while (rc == -1 && (errno == EINTR || errno == EAGAIN));
	return rc == -1 ? -errno : 0;
}

static int die(const char *what, int rc)
{
	fprintf(stderr, "umd_sparse: %s: %s\n", what, strerror(-rc));
	return 1;
}

/* ---- device ------------------------------------------------------------- */

static int umd_identify(struct umd *u)
{
	char name[64] = { 0 };
	struct gpuvm_abi_drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
	struct gpuvm_abi_drm_get_cap cap = { .capability = GPUVM_ABI_DRM_CAP_SYNCOBJ };
	int rc, driver;

	rc = drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_VERSION, &v);
	if (rc)
		return die("DRM_IOCTL_VERSION", rc);
	driver = gpuvm_bind_driver_from_name(name);
	if (driver != GPUVM_BIND_XE && driver != GPUVM_BIND_NOUVEAU) {
		printf("umd_sparse: driver '%s' is not xe or nouveau; nothing to do\n", name);
		return 77;
	}
	u->driver = (uint32_t)driver;
	u->info.sz = sizeof(u->info);
	rc = gpuvm_bind_driver_info(u->driver, &u->info);
	if (rc)
		return die("gpuvm_bind_driver_info", rc);
	printf("umd_sparse: driver %s %d.%d.%d, VM_BIND request 0x%lx, caps%s%s%s\n",
	       u->info.name, v.major, v.minor, v.patchlevel, u->info.bind_request,
	       (u->info.caps & GPUVM_BIND_CAP_SPARSE_REGIONS) ? " sparse-regions" : "",
	       (u->info.caps & GPUVM_BIND_CAP_SYNC_ONLY) ? " sync-only" : "",
	       (u->info.caps & GPUVM_BIND_CAP_TIMELINE) ? " timeline" : "");

	rc = drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_GET_CAP, &cap);
	if (rc || !cap.value)
		return die("no syncobj support", rc ? rc : -EOPNOTSUPP);
	cap.capability = GPUVM_ABI_DRM_CAP_SYNCOBJ_TIMELINE;
	u->timeline = !drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_GET_CAP, &cap) && cap.value &&
		      (u->info.caps & GPUVM_BIND_CAP_TIMELINE);
	return 0;
}

/* xe: one DEVICE_QUERY the kernel's way, asking for the size first. */
static int xe_query(int fd, uint32_t query, void **out, uint32_t *size)
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
	*size = q.size;
	return 0;
}

static int umd_create_vm(struct umd *u)
{
	GPUVM_OPTS(gpuvm_bind_dev_opts, dopts, .driver = u->driver);
	GPUVM_OPTS(gpuvm_bind_vm_opts, vopts);
	int rc;

	rc = gpuvm_bind_dev_create(&dopts, &u->dev);
	if (rc)
		return die("gpuvm_bind_dev_create", rc);

	if (u->driver == GPUVM_BIND_XE) {
		struct gpuvm_abi_xe_query_config *config;
		struct gpuvm_abi_xe_vm_create create = { 0 };
		uint32_t size;
		uint64_t va_bits;

		rc = xe_query(u->fd, GPUVM_ABI_XE_QUERY_CONFIG, (void **)&config, &size);
		if (rc)
			return die("xe DEVICE_QUERY(CONFIG)", rc);
		if (config->num_params <= GPUVM_ABI_XE_CONFIG_VA_BITS) {
			free(config);
			return die("xe config without VA_BITS", -EPROTO);
		}
		va_bits = config->info[GPUVM_ABI_XE_CONFIG_VA_BITS];
		free(config);
		rc = drm_ioctl(u->fd, GPUVM_ABI_XE_IOCTL_VM_CREATE, &create);
		if (rc)
			return die("xe VM_CREATE", rc);
		u->vm_id = create.vm_id;
		vopts.vm_id = create.vm_id;
		vopts.start = 0;
		vopts.range = 1ull << va_bits;
		printf("umd_sparse: xe VM %u, %" PRIu64 " VA bits\n", u->vm_id, va_bits);
	} else {
		struct gpuvm_abi_nouveau_vm_init init = {
			.kernel_managed_addr = NV_KERNEL_ADDR,
			.kernel_managed_size = NV_KERNEL_SIZE,
		};

		/* Before any BO: the kernel refuses VM_INIT after one. */
		rc = drm_ioctl(u->fd, GPUVM_ABI_NOUVEAU_IOCTL_VM_INIT, &init);
		if (rc)
			return die("nouveau VM_INIT", rc);
		vopts.start = 0;
		vopts.range = 1ull << 47;
		vopts.reserve_addr = NV_KERNEL_ADDR;
		vopts.reserve_range = NV_KERNEL_SIZE;
		printf("umd_sparse: nouveau VM, kernel-managed [0x%llx, +0x%llx)\n",
		       NV_KERNEL_ADDR, NV_KERNEL_SIZE);
	}
	rc = gpuvm_bind_vm_create(u->dev, &vopts, &u->vm);
	if (rc)
		return die("gpuvm_bind_vm_create", rc);
	return 0;
}

static int umd_create_bos(struct umd *u)
{
	uint32_t placement = 0;
	unsigned int i;
	int rc;

	if (u->driver == GPUVM_BIND_XE) {
		struct gpuvm_abi_xe_query_mem_regions *regions;
		uint32_t size, r;

		rc = xe_query(u->fd, GPUVM_ABI_XE_QUERY_MEM_REGIONS, (void **)&regions, &size);
		if (rc)
			return die("xe DEVICE_QUERY(MEM_REGIONS)", rc);
		for (r = 0; r < regions->num_mem_regions; r++)
			if (regions->mem_regions[r].mem_class == GPUVM_ABI_XE_MEM_CLASS_SYSMEM)
				placement = 1u << regions->mem_regions[r].instance;
		free(regions);
		if (!placement)
			return die("xe without system memory", -EPROTO);
	}
	for (i = 0; i < NBO; i++) {
		uint64_t size = BO_PAGES * PAGE;

		if (u->driver == GPUVM_BIND_XE) {
			struct gpuvm_abi_xe_gem_create c = {
				.size = size,
				.placement = placement,
				.cpu_caching = GPUVM_ABI_XE_GEM_CPU_CACHING_WB,
			};

			rc = drm_ioctl(u->fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c);
			u->bo[i] = c.handle;
		} else {
			struct gpuvm_abi_nouveau_gem_new c = {
				.info = { .size = size,
					  .domain = GPUVM_ABI_NOUVEAU_GEM_DOMAIN_VRAM },
			};

			rc = drm_ioctl(u->fd, GPUVM_ABI_NOUVEAU_IOCTL_GEM_NEW, &c);
			u->bo[i] = c.info.handle;
			size = c.info.size;
		}
		if (rc)
			return die("GEM create", rc);
		/* The shadow learns the handle the kernel gave. */
		rc = gpuvm_bind_bo_add(u->dev, u->bo[i], size, NULL);
		if (rc)
			return die("gpuvm_bind_bo_add", rc);
	}

	{
		struct gpuvm_abi_drm_syncobj_create sc = { 0 };

		rc = drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_CREATE, &sc);
		if (rc)
			return die("SYNCOBJ_CREATE", rc);
		u->syncobj = sc.handle;
	}
	return 0;
}

/* ---- binds ---------------------------------------------------------------------- */

static struct gpuvm_bind_batch *new_batch(void)
{
	/* ASYNC: nouveau takes syncs only then; xe binds are queued anyway. */
	GPUVM_OPTS(gpuvm_bind_batch_opts, opts, .flags = GPUVM_BIND_BATCH_ASYNC);
	struct gpuvm_bind_batch *b = NULL;
	int rc = gpuvm_bind_batch_create(&opts, &b);

	if (rc)
		die("gpuvm_bind_batch_create", rc);
	return b;
}

static int add_op(struct gpuvm_bind_batch *b, uint32_t type, uint32_t handle, uint64_t addr,
		  uint64_t range, uint64_t offset)
{
	struct gpuvm_bind_op op = {
		.type = type, .handle = handle, .addr = addr, .range = range, .offset = offset,
	};
	int rc = gpuvm_bind_batch_add(b, &op);

	return rc ? die("gpuvm_bind_batch_add", rc) : 0;
}

/* Submit @b with an out-syncobj and wait for it, as a UMD waits for a bind. */
static int submit_wait(struct umd *u, struct gpuvm_bind_batch *b, const char *what)
{
	GPUVM_OPTS(gpuvm_bind_submit_opts, opts, .fd = u->fd);
	struct gpuvm_bind_submit_stats st = { 0 };
	struct gpuvm_bind_sync sync = { .handle = u->syncobj, .flags = GPUVM_BIND_SYNC_SIGNAL };
	struct timespec now;
	int64_t deadline;
	int rc;

	if (u->timeline) {
		sync.flags |= GPUVM_BIND_SYNC_TIMELINE;
		sync.point = ++u->point;
	} else {
		struct gpuvm_abi_drm_syncobj_array reset = { .handles = (uintptr_t)&u->syncobj,
							     .count_handles = 1 };

		rc = drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_RESET, &reset);
		if (rc)
			return die("SYNCOBJ_RESET", rc);
	}
	rc = gpuvm_bind_batch_add_sync(b, &sync);
	if (rc)
		return die("gpuvm_bind_batch_add_sync", rc);

	rc = gpuvm_bind_submit(u->vm, b, &opts, &st);
	printf("umd_sparse: %-8s %u ioctl(s), %u ops given, %u submitted, %u applied\n", what,
	       st.ioctls, st.ops_given, st.ops_submitted, st.ops_applied);
	if (rc)
		return die("gpuvm_bind_submit", rc);

	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + 5000000000; /* 5 s */
	if (u->timeline) {
		struct gpuvm_abi_drm_syncobj_timeline_wait w = {
			.handles = (uintptr_t)&u->syncobj,
			.points = (uintptr_t)&u->point,
			.timeout_nsec = deadline,
			.count_handles = 1,
			.flags = GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT,
		};

		rc = drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
	} else {
		struct gpuvm_abi_drm_syncobj_wait w = {
			.handles = (uintptr_t)&u->syncobj,
			.timeout_nsec = deadline,
			.count_handles = 1,
			.flags = GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT,
		};

		rc = drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_WAIT, &w);
	}
	if (rc)
		return die("waiting for the bind", rc);
	return 0;
}

static uint64_t page_va(unsigned int page)
{
	return IMAGE_VA + (uint64_t)page * PAGE;
}

static int umd_binds(struct umd *u)
{
	bool regions = u->info.caps & GPUVM_BIND_CAP_SPARSE_REGIONS;
	struct gpuvm_bind_batch *b;
	unsigned int i, p;
	int rc;

	/* 1. The sparse image: every page reads as zero. */
	b = new_batch();
	if (!b)
		return 1;
	rc = add_op(b, GPUVM_BIND_OP_MAP_SPARSE, 0, IMAGE_VA, IMAGE_PAGES * PAGE, 0);
	if (!rc)
		rc = submit_wait(u, b, "reserve");
	gpuvm_bind_batch_destroy(b);
	if (rc)
		return rc;

	/* 2. Bind 4 x 32 pages, one op per page, as a page-table walk would. */
	b = new_batch();
	if (!b)
		return 1;
	for (i = 0; i < NBO && !rc; i++)
		for (p = 0; p < BO_PAGES && !rc; p++)
			rc = add_op(b, GPUVM_BIND_OP_MAP, u->bo[i], page_va(bo_first_page[i] + p),
				    PAGE, (uint64_t)p * PAGE);
	if (!rc)
		rc = submit_wait(u, b, "bind");
	gpuvm_bind_batch_destroy(b);
	if (rc)
		return rc;

	/* 3. Unbind 24 pages: NULL rebinding (xe) or an unmap in the region. */
	b = new_batch();
	if (!b)
		return 1;
	for (i = 0; i < sizeof(holes) / sizeof(holes[0]) && !rc; i++)
		for (p = 0; p < holes[i].count && !rc; p++)
			rc = add_op(b, regions ? GPUVM_BIND_OP_UNMAP : GPUVM_BIND_OP_MAP_SPARSE, 0,
				    page_va(holes[i].first + p), PAGE, 0);
	if (!rc)
		rc = submit_wait(u, b, "unbind");
	gpuvm_bind_batch_destroy(b);
	return rc;
}

/* ---- what is resident -------------------------------------------------------------- */

static bool in_hole(unsigned int page)
{
	unsigned int i;

	for (i = 0; i < sizeof(holes) / sizeof(holes[0]); i++)
		if (page >= holes[i].first && page < holes[i].first + holes[i].count)
			return true;
	return false;
}

/* The object page @page is bound to, or -1 (sparse). */
static int expected_bo(unsigned int page, unsigned int *bo_page)
{
	unsigned int i;

	if (in_hole(page))
		return -1;
	for (i = 0; i < NBO; i++) {
		if (page >= bo_first_page[i] && page < bo_first_page[i] + BO_PAGES) {
			*bo_page = page - bo_first_page[i];
			return (int)i;
		}
	}
	return -1;
}

struct count {
	unsigned int bound, null;
};

static int count_one(void *data, const struct gpuvm_bind_mapping *m)
{
	struct count *c = data;

	if (m->flags & GPUVM_BIND_MAPPING_SPARSE)
		c->null++;
	else
		c->bound++;
	return 0;
}

static void umd_check(struct umd *u)
{
	bool regions = u->info.caps & GPUVM_BIND_CAP_SPARSE_REGIONS;
	struct gpuvm_bind_residency res;
	struct gpuvm_bind_mapping m;
	struct count c = { 0 };
	uint64_t want_bound = 0;
	unsigned int page, mism = 0;
	int rc;

	for (page = 0; page < IMAGE_PAGES; page++) {
		unsigned int bo_page = 0;

		if (expected_bo(page, &bo_page) >= 0)
			want_bound += PAGE;
	}

	rc = gpuvm_bind_residency(u->vm, IMAGE_VA, IMAGE_PAGES * PAGE, &res);
	CHECK(!rc, "gpuvm_bind_residency: %d", rc);
	printf("umd_sparse: image of %u pages: %" PRIu64 " bound, %" PRIu64 " sparse, %" PRIu64
	       " unmapped\n",
	       IMAGE_PAGES, res.bound / PAGE, res.sparse / PAGE, res.unmapped / PAGE);
	CHECK(res.bound == want_bound, "bound 0x%" PRIx64 ", want 0x%" PRIx64, res.bound,
	      want_bound);
	CHECK(res.sparse == IMAGE_PAGES * PAGE - want_bound, "sparse 0x%" PRIx64, res.sparse);
	CHECK(res.unmapped == 0, "unmapped 0x%" PRIx64, res.unmapped);

	/* Beyond the image nothing is mapped. */
	rc = gpuvm_bind_residency(u->vm, page_va(IMAGE_PAGES), 16 * PAGE, &res);
	CHECK(!rc && res.unmapped == 16 * PAGE && !res.bound && !res.sparse,
	      "after the image: rc %d, unmapped 0x%" PRIx64, rc, res.unmapped);

	/* Every page: the object and offset the binds asked for, or zeros. */
	for (page = 0; page < IMAGE_PAGES; page++) {
		uint64_t va = page_va(page) + 0x123;
		unsigned int bo_page = 0;
		int bo = expected_bo(page, &bo_page);

		rc = gpuvm_bind_lookup(u->vm, va, &m);
		if (bo >= 0) {
			if (rc || m.handle != u->bo[bo] || (m.flags & GPUVM_BIND_MAPPING_SPARSE) ||
			    m.offset + (va - m.addr) != (uint64_t)bo_page * PAGE + 0x123)
				mism++;
		} else if (regions) {
			/* A sparse region without a mapping: nothing mapped. */
			if (rc != -ENOENT)
				mism++;
		} else {
			if (rc || !(m.flags & GPUVM_BIND_MAPPING_SPARSE) || m.bo)
				mism++;
		}
	}
	CHECK(mism == 0, "%u of %u pages are not what the binds asked for", mism, IMAGE_PAGES);

	/* Coalescing made one mapping of each run: page 20 lies in [16, 32). */
	rc = gpuvm_bind_lookup(u->vm, page_va(20), &m);
	CHECK(!rc && m.addr == page_va(16) && m.range == 16 * PAGE && m.handle == u->bo[0],
	      "page 20: rc %d, mapping 0x%" PRIx64 "+0x%" PRIx64, rc, m.addr, m.range);

	rc = gpuvm_bind_for_each(u->vm, IMAGE_VA, IMAGE_PAGES * PAGE, count_one, &c);
	CHECK(!rc, "gpuvm_bind_for_each: %d", rc);
	printf("umd_sparse: %u bound mappings, %u NULL mappings\n", c.bound, c.null);
	/* bo0 [0,8) [16,32), bo1 [80,96), bo2, bo3 */
	CHECK(c.bound == 5, "%u bound mappings, want 5", c.bound);
	/*
	 * xe: NULL [8,16) [32,64) [64,80) [96,128) [160,200) [232,256): a map
	 * never merges with a neighbour. nouveau: none, its region is apart.
	 */
	CHECK(c.null == (regions ? 0u : 6u), "%u NULL mappings", c.null);
}

/* ---- teardown ------------------------------------------------------------------------- */

static void umd_fini(struct umd *u)
{
	unsigned int i;

	if (u->driver == GPUVM_BIND_XE && u->vm_id) {
		struct gpuvm_abi_xe_vm_destroy d = { .vm_id = u->vm_id };
		int rc = drm_ioctl(u->fd, GPUVM_ABI_XE_IOCTL_VM_DESTROY, &d);

		CHECK(!rc, "xe VM_DESTROY: %d", rc);
	}
	gpuvm_bind_vm_destroy(u->vm);
	for (i = 0; i < NBO; i++) {
		struct gpuvm_abi_drm_gem_close c = { .handle = u->bo[i] };

		if (!u->bo[i])
			continue;
		CHECK(!drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_GEM_CLOSE, &c), "GEM_CLOSE %u",
		      u->bo[i]);
		gpuvm_bind_bo_remove(u->dev, u->bo[i]);
	}
	if (u->syncobj) {
		struct gpuvm_abi_drm_syncobj_destroy d = { .handle = u->syncobj };

		CHECK(!drm_ioctl(u->fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_DESTROY, &d),
		      "SYNCOBJ_DESTROY");
	}
	if (u->dev)
		CHECK(!gpuvm_bind_dev_destroy(u->dev), "gpuvm_bind_dev_destroy");
	close(u->fd); /* nouveau: the file's VM goes with it */
}

int main(int argc, char **argv)
{
	const char *node = argc > 1 ? argv[1] : "/dev/dri/renderD128";
	struct umd u;
	int rc;

	memset(&u, 0, sizeof(u));
	u.fd = open(node, O_RDWR | O_CLOEXEC);
	if (u.fd < 0) {
		fprintf(stderr,
			"umd_sparse: cannot open %s: %s (no render node; run with "
			"LD_PRELOAD=libgpuvm-drmshim.so for an emulated one)\n",
			node, strerror(errno));
		return 1;
	}
	rc = umd_identify(&u);
	if (!rc)
		rc = umd_create_vm(&u);
	if (!rc)
		rc = umd_create_bos(&u);
	if (!rc)
		rc = umd_binds(&u);
	if (!rc)
		umd_check(&u);
	umd_fini(&u);
	if (rc)
		return rc;
	if (failures) {
		fprintf(stderr, "umd_sparse: %d check(s) failed\n", failures);
		return 1;
	}
	printf("umd_sparse: ok\n");
	return 0;
}
