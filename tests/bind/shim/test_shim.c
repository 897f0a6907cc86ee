/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim seen from a program that has it preloaded: the node's
 * identity, refusals (unknown ioctls, malformed binds, kernel ordering
 * rules), what binds do (checked through the shim's own dump, a second
 * path to its state), syncobjs, VM and file lifetime, and that other fds
 * still reach the kernel.
 *
 * Run by ctest with LD_PRELOAD=libgpuvm-drmshim.so (see CMakeLists.txt).
 * The driver is chosen per open() through GPUVM_DRMSHIM_DRIVER, and the
 * dump goes to the file GPUVM_DRMSHIM_DUMP names at the time of the dump;
 * both are set by the tests with setenv().
 *
 * Names: the shim calls objects bo<G> and VMs vm<G>, counting every
 * creation of the process; this program creates them only through the
 * helpers below, which keep the same counts.
 */
#define _DEFAULT_SOURCE /* NOLINT(bugprone-reserved-identifier): mkstemp, setenv, MAP_ANONYMOUS */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "test_child.h"

#include "drm_common.h"
#include "msm.h"
#include "nouveau.h"
#include "panthor.h"
#include "xe.h"

#define NODE "/dev/dri/renderD128"

static uint64_t next_bo_g = 1, next_vm_g = 1;
static char dump_path[] = "/tmp/gpuvm-drmshim-test-XXXXXX";

/* ---- helpers --------------------------------------------------------------- */

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static int open_node(const char *driver)
{
	int fd;

	assert_int_equal(setenv("GPUVM_DRMSHIM_DRIVER", driver, 1), 0);
	fd = open(NODE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open %s (%s): %s; is libgpuvm-drmshim.so preloaded?", NODE, driver,
			 strerror(errno));
	return fd;
}

static void dump_reset(void)
{
	int fd = open(dump_path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	close(fd);
}

/* What the shim dumped since dump_reset(); free() it. */
static char *dump_read(void)
{
	char *buf = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	int fd = open(dump_path, O_RDONLY);

	assert_non_null(buf);
	assert_true(fd >= 0);
	while ((n = read(fd, buf + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return buf;
}

static void assert_dump(const char *want)
{
	char *got = dump_read();

	if (strcmp(got, want) != 0)
		fail_msg("dump differs\n--- got:\n%s--- want:\n%s", got, want);
	free(got);
}

/* An xe GEM object of @pages pages; *@g gets its bo<G>. */
static uint32_t xe_bo(int fd, unsigned int pages, uint64_t *g)
{
	struct gpuvm_abi_xe_gem_create c = {
		.size = pages * PG, .placement = 1, .cpu_caching = GPUVM_ABI_XE_GEM_CPU_CACHING_WB,
	};

	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c), 0);
	assert_int_not_equal(c.handle, 0);
	if (g)
		*g = next_bo_g;
	next_bo_g++;
	return c.handle;
}

static uint32_t xe_vm(int fd, uint64_t *g)
{
	struct gpuvm_abi_xe_vm_create c = { 0 };

	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_CREATE, &c), 0);
	assert_int_not_equal(c.vm_id, 0);
	if (g)
		*g = next_vm_g;
	next_vm_g++;
	return c.vm_id;
}

static int xe_vm_destroy(int fd, uint32_t vm)
{
	struct gpuvm_abi_xe_vm_destroy d = { .vm_id = vm };

	return xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_DESTROY, &d);
}

static struct gpuvm_abi_xe_vm_bind xe_bind1(uint32_t vm, uint32_t op, uint32_t obj,
					    uint64_t addr, uint64_t range, uint64_t off)
{
	struct gpuvm_abi_xe_vm_bind b;

	memset(&b, 0, sizeof(b));
	b.vm_id = vm;
	b.num_binds = 1;
	b.bind.op = op;
	b.bind.obj = obj;
	b.bind.addr = addr;
	b.bind.range = range;
	b.bind.obj_offset = off;
	if (op == GPUVM_ABI_XE_VM_BIND_OP_MAP && !obj)
		b.bind.flags = GPUVM_ABI_XE_VM_BIND_FLAG_NULL;
	return b;
}

static int xe_map(int fd, uint32_t vm, uint32_t obj, uint64_t addr, uint64_t range, uint64_t off)
{
	struct gpuvm_abi_xe_vm_bind b =
		xe_bind1(vm, GPUVM_ABI_XE_VM_BIND_OP_MAP, obj, addr, range, off);

	return xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b);
}

static uint32_t syncobj(int fd, bool signalled)
{
	struct gpuvm_abi_drm_syncobj_create c = {
		.flags = signalled ? GPUVM_ABI_DRM_SYNCOBJ_CREATE_SIGNALED : 0,
	};

	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_CREATE, &c), 0);
	assert_int_not_equal(c.handle, 0);
	return c.handle;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int sync_wait(int fd, uint32_t h, uint32_t flags, int64_t timeout)
{
	struct gpuvm_abi_drm_syncobj_wait w = {
		.handles = (uintptr_t)&h, .count_handles = 1, .flags = flags,
		.timeout_nsec = timeout,
	};

	return xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_WAIT, &w);
}

static int sync_twait(int fd, uint32_t h, uint64_t point, uint32_t flags, int64_t timeout)
{
	struct gpuvm_abi_drm_syncobj_timeline_wait w = {
		.handles = (uintptr_t)&h, .points = (uintptr_t)&point, .count_handles = 1,
		.flags = flags, .timeout_nsec = timeout,
	};

	return xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

/* ---- identity and routing --------------------------------------------------- */

static void version_names(void **state)
{
	char name[16], desc[64];
	struct gpuvm_abi_drm_version v;
	int fd;

	(void)state;
	fd = open_node("xe");
	memset(&v, 0, sizeof(v));
	memset(name, '#', sizeof(name));
	v.name = name;
	v.name_len = sizeof(name);
	v.desc = desc;
	v.desc_len = sizeof(desc);
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_VERSION, &v), 0);
	assert_int_equal(v.name_len, 2);
	assert_memory_equal(name, "xe##", 4); /* 2 bytes written, no NUL added */
	assert_int_equal(v.major, 1);
	assert_true(v.desc_len > 0 && v.desc_len < sizeof(desc));
	close(fd);

	/* A short buffer gets a prefix and the full length back. */
	fd = open_node("nouveau");
	memset(&v, 0, sizeof(v));
	memset(name, '#', sizeof(name));
	v.name = name;
	v.name_len = 3;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_VERSION, &v), 0);
	assert_int_equal(v.name_len, 7);
	assert_memory_equal(name, "nou#", 4);
	/* No buffers: only the lengths. */
	memset(&v, 0, sizeof(v));
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_VERSION, &v), 0);
	assert_int_equal(v.name_len, 7);
	assert_true(v.desc_len > 0);
	close(fd);

	/* A driver the shim does not emulate: the node does not open. */
	assert_int_equal(setenv("GPUVM_DRMSHIM_DRIVER", "amdgpu", 1), 0);
	assert_int_equal(open(NODE, O_RDWR), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(setenv("GPUVM_DRMSHIM_DRIVER", "i915", 1), 0);
	assert_int_equal(open(NODE, O_RDWR), -1);
	assert_int_equal(errno, ENODEV);
}

static void unknown_ioctls(void **state)
{
	struct gpuvm_abi_drm_set_client_cap scc = { .capability = 1, .value = 1 };
	struct gpuvm_abi_xe_exec ex = { 0 };
	struct gpuvm_abi_drm_get_cap cap = { .capability = GPUVM_ABI_DRM_CAP_SYNCOBJ_TIMELINE };
	uint64_t zero[4] = { 0 };
	int fd, flags;

	(void)state;
	fd = open_node("xe");
	/* A core ioctl the shim does not emulate, a driver one, gaps. */
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SET_CLIENT_CAP, &scc), -ENOTTY);
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_EXEC, &ex), -ENOTTY);
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOWR(0x5f, 16), zero), -ENOTTY);
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOWR(0x9f, 16), zero), -ENOTTY);
	/* nouveau's VM_INIT number means nothing to xe. */
	assert_ret(xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_VM_INIT, zero), -ENOTTY);
	/* Not a DRM ioctl type at all. */
	assert_ret(xioctl(fd, GPUVM_ABI_IOC(GPUVM_ABI_IOC_RW, 'x', 0x00, 16), zero), -ENOTTY);
	/* Known ones still work; GET_CAP tells timelines. */
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_GET_CAP, &cap), 0);
	assert_int_equal(cap.value, 1);
	cap.capability = 0x7777;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_GET_CAP, &cap), -EINVAL);
	/* The VFS's own ioctls reach the (memfd) file. */
	assert_ret(xioctl(fd, FIONCLEX, NULL), 0);
	flags = fcntl(fd, F_GETFD);
	assert_int_equal(flags & FD_CLOEXEC, 0);
	close(fd);

	fd = open_node("nouveau");
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_CREATE, zero), -ENOTTY);
	assert_ret(xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_EXEC, zero), -ENOTTY);
	close(fd);
}

/* Other fds reach the kernel: FIONREAD on a pipe counts its bytes. */
static void other_fds_pass_through(void **state)
{
	struct gpuvm_abi_drm_version v;
	struct gpuvm_abi_drm_get_cap cap = { .capability = GPUVM_ABI_DRM_CAP_SYNCOBJ };
	int p[2], n = -1, fd;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_ret(xioctl(p[0], FIONREAD, &n), 0);
	assert_int_equal(n, 5);
	/* A DRM request on a non-node fd is the kernel's business: ENOTTY. */
	memset(&v, 0, sizeof(v));
	assert_ret(xioctl(p[0], GPUVM_ABI_DRM_IOCTL_VERSION, &v), -ENOTTY);
	close(p[0]);
	close(p[1]);

	/* A closed node's number is nobody's: the kernel says EBADF. */
	fd = open_node("xe");
	close(fd);
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_GET_CAP, &cap), -EBADF);
}

/* ---- xe --------------------------------------------------------------------------- */

static void xe_device_query(void **state)
{
	struct gpuvm_abi_xe_device_query q = { .query = GPUVM_ABI_XE_QUERY_CONFIG };
	uint64_t buf[16];
	struct gpuvm_abi_xe_query_config *config = (void *)buf;
	struct gpuvm_abi_xe_query_mem_regions *regions = (void *)buf;
	int fd;

	(void)state;
	fd = open_node("xe");
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q), 0);
	assert_int_equal(q.size, 8 + 5 * 8);
	q.size--;
	q.data = (uintptr_t)buf;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q), -EINVAL);
	q.size++;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q), 0);
	assert_int_equal(config->num_params, 5);
	assert_int_equal(config->info[GPUVM_ABI_XE_CONFIG_VA_BITS], 48);
	assert_int_equal(config->info[GPUVM_ABI_XE_CONFIG_MIN_ALIGNMENT], 4096);

	memset(&q, 0, sizeof(q));
	q.query = GPUVM_ABI_XE_QUERY_MEM_REGIONS;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q), 0);
	assert_int_equal(q.size, 8 + 88);
	q.data = (uintptr_t)buf;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q), 0);
	assert_int_equal(regions->num_mem_regions, 1);
	assert_int_equal(regions->mem_regions[0].mem_class, GPUVM_ABI_XE_MEM_CLASS_SYSMEM);

	memset(&q, 0, sizeof(q));
	q.query = GPUVM_ABI_XE_QUERY_ENGINES;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q), 0);
	assert_int_equal(q.size, 8 + 2 * 32);
	q.query = 77;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q), -EINVAL);
	close(fd);
}

static void xe_gem_create_rules(void **state)
{
	struct gpuvm_abi_xe_gem_create c;
	int fd;

	(void)state;
	fd = open_node("xe");
	memset(&c, 0, sizeof(c));
	c.size = PG + 1;
	c.placement = 1;
	c.cpu_caching = GPUVM_ABI_XE_GEM_CPU_CACHING_WB;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c), -EINVAL);
	c.size = PG;
	c.placement = 2; /* no region instance 1 */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c), -EINVAL);
	c.placement = 1;
	c.vm_id = 9; /* no such VM */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c), -ENOENT);
	c.vm_id = 0;
	c.cpu_caching = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c), -EINVAL);
	/* Handles: the lowest free one, from 1. */
	assert_int_equal(xe_bo(fd, 1, NULL), 1);
	assert_int_equal(xe_bo(fd, 1, NULL), 2);
	close(fd);
}

/*
 * Malformed payloads are refused with the decoder's or the checker's errno
 * and change nothing: the dump at VM_DESTROY shows the one good mapping.
 */
/*
 * User pointers the process has not mapped: -EFAULT and nothing applied, as
 * the kernel's copy_from_user()/copy_to_user() say; never a crash of the
 * emulator. The page is mapped, then unmapped, so the address is known bad.
 */
static void bad_user_pointers(void **state)
{
	struct gpuvm_abi_xe_vm_bind b;
	struct gpuvm_abi_drm_version v;
	long pagesz = sysconf(_SC_PAGESIZE);
	uint64_t gbo, gvm;
	uint32_t vm, bo;
	char want[256];
	void *hole;
	int fd;

	(void)state;
	hole = mmap(NULL, (size_t)pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	assert_true(hole != MAP_FAILED);
	assert_int_equal(munmap(hole, (size_t)pagesz), 0);

	dump_reset();
	fd = open_node("xe");
	vm = xe_vm(fd, &gvm);
	bo = xe_bo(fd, 4, &gbo);
	assert_ret(xe_map(fd, vm, bo, 0x100000, PG, 0), 0);

	/* two ops: the op array behind an unmapped pointer */
	b = xe_bind1(vm, GPUVM_ABI_XE_VM_BIND_OP_MAP, bo, 0x200000, PG, 0);
	memset(&b.bind, 0, sizeof(b.bind));
	b.num_binds = 2;
	b.vector_of_binds = (uint64_t)(uintptr_t)hole;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EFAULT);
	/* the sync array behind an unmapped pointer */
	b = xe_bind1(vm, GPUVM_ABI_XE_VM_BIND_OP_MAP, bo, 0x200000, PG, 0);
	b.num_syncs = 1;
	b.syncs = (uint64_t)(uintptr_t)hole;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EFAULT);
	/* the argument itself */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, hole), -EFAULT);
	/* an answer written to an unmapped buffer */
	memset(&v, 0, sizeof(v));
	v.name = hole;
	v.name_len = 16;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_VERSION, &v), -EFAULT);

	/* nothing was applied */
	assert_ret(xe_vm_destroy(fd, vm), 0);
	snprintf(want, sizeof(want), "> dump vm%llu\nva 0x100000+0x1000:bo%llu@0x0\nend\n",
		 (unsigned long long)gvm, (unsigned long long)gbo);
	assert_dump(want);
	close(fd);
}

static void xe_malformed_binds(void **state)
{
	struct gpuvm_abi_xe_vm_bind b;
	struct gpuvm_abi_xe_vm_bind_op ops[2];
	struct gpuvm_abi_xe_sync ufence;
	uint64_t gbo, gvm;
	uint32_t vm, bo;
	char want[256];
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("xe");
	vm = xe_vm(fd, &gvm);
	bo = xe_bo(fd, 16, &gbo);
	assert_ret(xe_map(fd, vm, bo, 0x100000, 4 * PG, 0), 0);

	b = xe_bind1(vm, GPUVM_ABI_XE_VM_BIND_OP_MAP, bo, 0x200000, PG, 0);
	b.pad = 1;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.pad = 0;
	b.reserved[1] = 1;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.reserved[1] = 0;
	b.extensions = 0x1000;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.extensions = 0;
	b.bind.op = 99;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.bind.op = GPUVM_ABI_XE_VM_BIND_OP_MAP;
	b.bind.addr = 0x200800; /* not page aligned */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.bind.addr = 0x200000;
	b.bind.obj_offset = 16 * PG; /* beyond the object */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.bind.obj_offset = 0;
	b.bind.addr = 1ull << 48; /* beyond the VA space */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.bind.addr = 0x200000;
	b.bind.obj = 77; /* no such handle */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -ENOENT);
	b.bind.obj = bo;
	b.vm_id = vm + 1; /* no such VM: the kernel says EINVAL */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	b.vm_id = vm;
	b.exec_queue_id = 5; /* no such queue */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -ENOENT);
	b.exec_queue_id = 0;
	/* User fences are valid xe but not expressible: EOPNOTSUPP. */
	memset(&ufence, 0, sizeof(ufence));
	ufence.type = GPUVM_ABI_XE_SYNC_TYPE_USER_FENCE;
	ufence.flags = GPUVM_ABI_XE_SYNC_FLAG_SIGNAL;
	ufence.addr = 0x1000;
	b.num_syncs = 1;
	b.syncs = (uintptr_t)&ufence;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EOPNOTSUPP);
	b.num_syncs = 0;
	b.syncs = 0;

	/* Two ops, the second bad: the first is not applied either. */
	memset(ops, 0, sizeof(ops));
	ops[0] = b.bind;
	ops[1] = b.bind;
	ops[1].addr = 0x300000;
	ops[1].range = 0;
	memset(&b.bind, 0, sizeof(b.bind));
	b.num_binds = 2;
	b.vector_of_binds = (uintptr_t)ops;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	ops[1].range = PG;
	ops[1].obj_offset = 20 * PG;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);

	assert_ret(xe_vm_destroy(fd, vm), 0);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\nva 0x100000+0x4000:bo%" PRIu64 "@0x0\nend\n", gvm, gbo);
	assert_dump(want);
	close(fd);
}

/* Arguments shorter or longer than the kernel's: DRM's size rule. */
static void xe_arg_sizes(void **state)
{
	struct {
		struct gpuvm_abi_drm_gem_close c;
		uint64_t newer;
	} big = { { 0, 0 }, 0 };
	struct gpuvm_abi_drm_syncobj_wait w;
	uint32_t h;
	int fd;

	(void)state;
	fd = open_node("xe");
	big.c.handle = xe_bo(fd, 1, NULL);
	/* A longer GEM_CLOSE: the tail is not read. */
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOW(GPUVM_ABI_DRM_NR_GEM_CLOSE, sizeof(big)), &big),
		   0);
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_GEM_CLOSE, &big.c), -EINVAL);
	/* The 32-byte SYNCOBJ_WAIT of older headers. */
	h = syncobj(fd, true);
	memset(&w, 0xa5, sizeof(w));
	w.handles = (uintptr_t)&h;
	w.count_handles = 1;
	w.flags = 0;
	w.timeout_nsec = 0;
	w.first_signaled = 0;
	w.pad = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_WAIT_V1, &w), 0);
	/* Only the first 32 bytes came back: deadline_nsec untouched. */
	assert_int_equal(w.deadline_nsec, 0xa5a5a5a5a5a5a5a5ull);
	close(fd);
}

/* A closed handle's mappings stay, under the old object's name. */
static void xe_gem_close_keeps_mapping(void **state)
{
	struct gpuvm_abi_drm_gem_close c;
	uint64_t ga, gb, gvm;
	uint32_t vm, a, b;
	char want[512];
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("xe");
	vm = xe_vm(fd, &gvm);
	a = xe_bo(fd, 8, &ga);
	assert_ret(xe_map(fd, vm, a, 0x10000, 8 * PG, 0), 0);
	c.handle = a;
	c.pad = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_GEM_CLOSE, &c), 0);
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_GEM_CLOSE, &c), -EINVAL);
	/* The closed handle names nothing now. */
	assert_ret(xe_map(fd, vm, a, 0x40000, PG, 0), -ENOENT);
	/* The handle number comes back for a new object, a new name. */
	b = xe_bo(fd, 2, &gb);
	assert_int_equal(b, a);
	assert_ret(xe_map(fd, vm, b, 0x40000, 2 * PG, 0), 0);
	/* Split the closed object's mapping: its pieces keep the name. */
	{
		struct gpuvm_abi_xe_vm_bind u =
			xe_bind1(vm, GPUVM_ABI_XE_VM_BIND_OP_UNMAP, 0, 0x12000, PG, 0);

		assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &u), 0);
	}
	assert_ret(xe_vm_destroy(fd, vm), 0);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\n"
		 "va 0x10000+0x2000:bo%" PRIu64 "@0x0\n"
		 "va 0x13000+0x5000:bo%" PRIu64 "@0x3000\n"
		 "va 0x40000+0x2000:bo%" PRIu64 "@0x0\n"
		 "end\n",
		 gvm, ga, ga, gb);
	assert_dump(want);
	close(fd);
}

struct waiter {
	int fd;
	uint32_t handle;
	int rc;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->rc = sync_wait(w->fd, w->handle, GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT,
			  now_ns() + 10000000000ll);
	return NULL;
}

static void xe_syncobjs(void **state)
{
	struct gpuvm_abi_xe_sync xs[2];
	struct gpuvm_abi_xe_vm_bind b;
	struct gpuvm_abi_drm_syncobj_array arr;
	struct gpuvm_abi_drm_syncobj_timeline_array q;
	struct gpuvm_abi_drm_syncobj_destroy d;
	struct waiter w;
	pthread_t t;
	uint64_t point = 0, gbo, gvm;
	uint32_t vm, bo, s, tl, u;
	char want[512];
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("xe");
	vm = xe_vm(fd, &gvm);
	bo = xe_bo(fd, 4, &gbo);
	s = syncobj(fd, false);
	tl = syncobj(fd, false);
	u = syncobj(fd, false);

	/* No fence yet: EINVAL without WAIT_FOR_SUBMIT, ETIME with it. */
	assert_ret(sync_wait(fd, s, 0, 0), -EINVAL);
	assert_ret(sync_wait(fd, s, GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT, now_ns() + 1000000),
		   -ETIME);
	assert_ret(sync_wait(fd, 999, 0, 0), -ENOENT);

	/* A thread waits for submission; the bind below wakes it. */
	w.fd = fd;
	w.handle = s;
	w.rc = 1;
	assert_int_equal(pthread_create(&t, NULL, waiter_main, &w), 0);

	/* A bind signals a binary and a timeline syncobj. */
	memset(xs, 0, sizeof(xs));
	xs[0].type = GPUVM_ABI_XE_SYNC_TYPE_SYNCOBJ;
	xs[0].flags = GPUVM_ABI_XE_SYNC_FLAG_SIGNAL;
	xs[0].handle = s;
	xs[1].type = GPUVM_ABI_XE_SYNC_TYPE_TIMELINE_SYNCOBJ;
	xs[1].flags = GPUVM_ABI_XE_SYNC_FLAG_SIGNAL;
	xs[1].handle = tl;
	xs[1].timeline_value = 5;
	b = xe_bind1(vm, GPUVM_ABI_XE_VM_BIND_OP_MAP, bo, 0x100000, PG, 0);
	b.num_syncs = 2;
	b.syncs = (uintptr_t)xs;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_ret(w.rc, 0);
	assert_ret(sync_wait(fd, s, 0, 0), 0);
	assert_ret(sync_twait(fd, tl, 5, 0, 0), 0);
	assert_ret(sync_twait(fd, tl, 3, 0, 0), 0);
	assert_ret(sync_twait(fd, tl, 6, 0, 0), -EINVAL);
	assert_ret(sync_twait(fd, tl, 6, GPUVM_ABI_DRM_SYNCOBJ_WAIT_FOR_SUBMIT, 0), -ETIME);
	memset(&q, 0, sizeof(q));
	q.handles = (uintptr_t)&tl;
	q.points = (uintptr_t)&point;
	q.count_handles = 1;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_QUERY, &q), 0);
	assert_int_equal(point, 5);

	/* A bind waiting on an unsignalled syncobj is refused: nothing bound. */
	memset(xs, 0, sizeof(xs));
	xs[0].type = GPUVM_ABI_XE_SYNC_TYPE_SYNCOBJ;
	xs[0].handle = u;
	b = xe_bind1(vm, GPUVM_ABI_XE_VM_BIND_OP_MAP, bo, 0x200000, PG, 0);
	b.num_syncs = 1;
	b.syncs = (uintptr_t)xs;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);
	xs[0].handle = 4242; /* no such syncobj */
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -ENOENT);
	/* Signalled: the wait passes, the bind happens. */
	memset(&arr, 0, sizeof(arr));
	arr.handles = (uintptr_t)&u;
	arr.count_handles = 1;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_SIGNAL, &arr), 0);
	xs[0].handle = u;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), 0);
	/* Reset drops the fence. */
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_RESET, &arr), 0);
	assert_ret(sync_wait(fd, u, 0, 0), -EINVAL);

	/* A bind without ops only signals (xe's num_binds 0). */
	memset(xs, 0, sizeof(xs));
	xs[0].type = GPUVM_ABI_XE_SYNC_TYPE_TIMELINE_SYNCOBJ;
	xs[0].flags = GPUVM_ABI_XE_SYNC_FLAG_SIGNAL;
	xs[0].handle = tl;
	xs[0].timeline_value = 7;
	memset(&b, 0, sizeof(b));
	b.vm_id = vm;
	b.num_syncs = 1;
	b.syncs = (uintptr_t)xs;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), 0);
	assert_ret(sync_twait(fd, tl, 7, 0, 0), 0);

	/* Timeline signal from user space, point 0 = binary. */
	point = 9;
	q.flags = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &q), 0);
	point = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_QUERY, &q), 0);
	assert_int_equal(point, 9);

	d.handle = u;
	d.pad = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_DESTROY, &d), 0);
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_DESTROY, &d), -EINVAL);
	assert_ret(sync_wait(fd, u, 0, 0), -ENOENT);

	assert_ret(xe_vm_destroy(fd, vm), 0);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\n"
		 "va 0x100000+0x1000:bo%" PRIu64 "@0x0\n"
		 "va 0x200000+0x1000:bo%" PRIu64 "@0x0\n"
		 "end\n",
		 gvm, gbo, gbo);
	assert_dump(want);
	close(fd);
}

/* VM_DESTROY dumps and forgets; close dumps what is left. Queues too. */
static void xe_vm_lifetime(void **state)
{
	struct gpuvm_abi_xe_engine_class_instance eci = {
		.engine_class = GPUVM_ABI_XE_ENGINE_CLASS_VM_BIND,
	};
	struct gpuvm_abi_xe_exec_queue_create qc;
	struct gpuvm_abi_xe_exec_queue_destroy qd;
	struct gpuvm_abi_xe_vm_bind b;
	uint64_t g1, g2, gbo;
	uint32_t vm1, vm2, bo;
	char want[512];
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("xe");
	vm1 = xe_vm(fd, &g1);
	vm2 = xe_vm(fd, &g2);
	assert_int_equal(vm2, vm1 + 1);
	bo = xe_bo(fd, 4, &gbo);
	assert_ret(xe_map(fd, vm1, bo, 0x1000, PG, 0), 0);
	assert_ret(xe_map(fd, vm2, 0, 0x800000, 16 * PG, 0), 0); /* NULL */

	/* A bind queue of vm2 takes vm2's binds only. */
	memset(&qc, 0, sizeof(qc));
	qc.width = 1;
	qc.num_placements = 1;
	qc.vm_id = vm2;
	qc.instances = (uintptr_t)&eci;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_CREATE, &qc), 0);
	b = xe_bind1(vm2, GPUVM_ABI_XE_VM_BIND_OP_MAP, bo, 0x804000, 2 * PG, 0);
	b.exec_queue_id = qc.exec_queue_id;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), 0);
	b.vm_id = vm1;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &b), -EINVAL);

	assert_ret(xe_vm_destroy(fd, vm1), 0);
	assert_ret(xe_vm_destroy(fd, vm1), -ENOENT);
	assert_ret(xe_map(fd, vm1, bo, 0x1000, PG, 0), -EINVAL);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\nva 0x1000+0x1000:bo%" PRIu64 "@0x0\nend\n", g1, gbo);
	assert_dump(want);

	qd.exec_queue_id = qc.exec_queue_id;
	qd.pad = 0;
	qd.reserved[0] = qd.reserved[1] = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_DESTROY, &qd), 0);
	assert_ret(xioctl(fd, GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_DESTROY, &qd), -ENOENT);

	/* close() destroys the VMs left, dumping each. */
	dump_reset();
	close(fd);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\n"
		 "va 0x800000+0x4000:-@0x0\n"
		 "va 0x804000+0x2000:bo%" PRIu64 "@0x0\n"
		 "va 0x806000+0xa000:-@0x6000\n"
		 "end\n",
		 g2, gbo);
	assert_dump(want);

	/* A new open is a new device: handles and ids start again. */
	fd = open_node("xe");
	assert_int_equal(xe_vm(fd, NULL), 1);
	assert_int_equal(xe_bo(fd, 1, NULL), 1);
	close(fd);
	dump_reset();
}

static void exit_child(void *arg)
{
	int fd1 = open_node("xe"), fd2 = open_node("xe");
	uint32_t vm1 = xe_vm(fd1, NULL), vm2 = xe_vm(fd2, NULL), vm3 = xe_vm(fd1, NULL);
	uint32_t bo = xe_bo(fd2, 1, NULL);

	(void)arg;
	if (xe_map(fd2, vm2, bo, 0x5000, PG, 0) || xe_map(fd1, vm1, 0, 0x1000, PG, 0) ||
	    xe_map(fd1, vm3, 0, 0x2000, PG, 0))
		_exit(3);
	exit(0); /* the shim dumps the live VMs at exit, by creation order */
}

static void quiet_child(void *arg)
{
	(void)arg;
	exit(0); /* the inherited file is the parent's: no dump */
}

static void xe_dump_at_exit(void **state)
{
	uint64_t gvm = next_vm_g, gbo = next_bo_g, gp;
	char err[256], want[512];
	uint32_t vm;
	int status, fd;

	(void)state;
	dump_reset();
	status = test_run_child(exit_child, NULL, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\nva 0x1000+0x1000:-@0x0\nend\n"
		 "> dump vm%" PRIu64 "\nva 0x5000+0x1000:bo%" PRIu64 "@0x0\nend\n"
		 "> dump vm%" PRIu64 "\nva 0x2000+0x1000:-@0x0\nend\n",
		 gvm, gvm + 1, gbo, gvm + 2);
	assert_dump(want);
	/* The child's names are gone with it; ours go on from where they were. */

	/* A child that inherits a node and exits leaves the VM alone. */
	dump_reset();
	fd = open_node("xe");
	vm = xe_vm(fd, &gp);
	status = test_run_child(quiet_child, NULL, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_dump("");
	assert_ret(xe_map(fd, vm, 0, 0x7000, PG, 0), 0);
	close(fd);
	snprintf(want, sizeof(want), "> dump vm%" PRIu64 "\nva 0x7000+0x1000:-@0x0\nend\n",
		 gp);
	assert_dump(want);
	dump_reset();
}

/*
 * A syncobj destroyed while another thread waits for it: the waiter gets
 * ENOENT (whether it was asleep or not there yet). (A close() while
 * waiting is handled too, with EBADF, but closing an fd that another
 * thread uses is a race that ThreadSanitizer rightly reports.)
 */
static void xe_destroy_while_waiting(void **state)
{
	struct gpuvm_abi_drm_syncobj_destroy d = { 0 };
	struct waiter w;
	pthread_t t;
	int fd;

	(void)state;
	fd = open_node("xe");
	w.fd = fd;
	w.handle = syncobj(fd, false);
	w.rc = 1;
	assert_int_equal(pthread_create(&t, NULL, waiter_main, &w), 0);
	nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL); /* let it sleep (or not) */
	d.handle = w.handle;
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_SYNCOBJ_DESTROY, &d), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_ret(w.rc, -ENOENT);
	assert_int_equal(syncobj(fd, true), w.handle); /* the number is free again */
	close(fd);
}

#define NTHREADS 4
#define ROUNDS 200

struct binder {
	int fd;
	uint32_t vm, bo;
	int rc;
};

/* Each thread maps and splits in its own VM of the shared node. */
static void *binder_main(void *arg)
{
	struct binder *b = arg;
	unsigned int i;

	for (i = 0; i < ROUNDS && !b->rc; i++) {
		uint64_t va = 0x100000 + (uint64_t)(i % 16) * 0x10000;
		struct gpuvm_abi_xe_vm_bind u =
			xe_bind1(b->vm, GPUVM_ABI_XE_VM_BIND_OP_UNMAP, 0, va + PG, PG, 0);

		b->rc = xe_map(b->fd, b->vm, b->bo, va, 4 * PG, 0);
		if (!b->rc)
			b->rc = xioctl(b->fd, GPUVM_ABI_XE_IOCTL_VM_BIND, &u);
	}
	return NULL;
}

static void xe_threads(void **state)
{
	struct binder b[NTHREADS];
	pthread_t t[NTHREADS];
	uint64_t gvm[NTHREADS], gbo;
	char *got, line[128];
	unsigned int i, k;
	uint32_t bo;
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("xe");
	bo = xe_bo(fd, 4, &gbo);
	for (i = 0; i < NTHREADS; i++) {
		b[i].fd = fd;
		b[i].vm = xe_vm(fd, &gvm[i]);
		b[i].bo = bo;
		b[i].rc = 0;
		assert_int_equal(pthread_create(&t[i], NULL, binder_main, &b[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_ret(b[i].rc, 0);
	}
	close(fd);
	/* Every VM: 16 split mappings, as the last rounds left them. */
	got = dump_read();
	for (i = 0; i < NTHREADS; i++) {
		snprintf(line, sizeof(line), "> dump vm%" PRIu64 "\n", gvm[i]);
		assert_non_null(strstr(got, line));
		for (k = 0; k < 16; k++) {
			uint64_t va = 0x100000 + (uint64_t)k * 0x10000;

			snprintf(line, sizeof(line), "va 0x%" PRIx64 "+0x1000:bo%" PRIu64 "@0x0\n",
				 va, gbo);
			assert_non_null(strstr(got, line));
			snprintf(line, sizeof(line),
				 "va 0x%" PRIx64 "+0x2000:bo%" PRIu64 "@0x2000\n", va + 2 * (uint64_t)PG, gbo);
			assert_non_null(strstr(got, line));
		}
	}
	free(got);
	dump_reset();
}

/* ---- nouveau ------------------------------------------------------------------------- */

static uint32_t nv_bo(int fd, uint64_t size, uint64_t *g)
{
	struct gpuvm_abi_nouveau_gem_new n;

	memset(&n, 0, sizeof(n));
	n.info.size = size;
	n.info.domain = GPUVM_ABI_NOUVEAU_GEM_DOMAIN_VRAM;
	assert_ret(xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_GEM_NEW, &n), 0);
	assert_int_not_equal(n.info.handle, 0);
	assert_int_equal(n.info.size % PG, 0);
	if (g)
		*g = next_bo_g;
	next_bo_g++;
	return n.info.handle;
}

static int nv_vm_init(int fd, uint64_t addr, uint64_t size, uint64_t *g)
{
	struct gpuvm_abi_nouveau_vm_init i = { addr, size };
	int rc = xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_VM_INIT, &i);

	if (!rc) {
		if (g)
			*g = next_vm_g;
		next_vm_g++;
	}
	return rc;
}

static int nv_bind(int fd, struct gpuvm_abi_nouveau_vm_bind_op *ops, uint32_t n)
{
	struct gpuvm_abi_nouveau_vm_bind b;

	memset(&b, 0, sizeof(b));
	b.op_count = n;
	b.op_ptr = (uintptr_t)ops;
	return xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND, &b);
}

static struct gpuvm_abi_nouveau_vm_bind_op nv_op(uint32_t op, uint32_t flags, uint32_t handle,
						 uint64_t addr, uint64_t range, uint64_t off)
{
	struct gpuvm_abi_nouveau_vm_bind_op o;

	memset(&o, 0, sizeof(o));
	o.op = op;
	o.flags = flags;
	o.handle = handle;
	o.addr = addr;
	o.range = range;
	o.bo_offset = off;
	return o;
}

static void nouveau_vm_init_rules(void **state)
{
	struct gpuvm_abi_nouveau_vm_bind_op op;
	struct gpuvm_abi_nouveau_getparam gp = { .param = GPUVM_ABI_NOUVEAU_PARAM_PCI_VENDOR };
	int fd;

	(void)state;
	fd = open_node("nouveau");
	assert_ret(xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_GETPARAM, &gp), 0);
	assert_int_equal(gp.value, 0x10de);
	gp.param = 1000;
	assert_ret(xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_GETPARAM, &gp), -EINVAL);
	/* No VM_BIND before VM_INIT. */
	op = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE, 0, 0x100000,
		   PG, 0);
	assert_ret(nv_bind(fd, &op, 1), -ENOSYS);
	/* A BO first: the file keeps the legacy VM, VM_INIT is refused. */
	nv_bo(fd, PG, NULL);
	assert_ret(nv_vm_init(fd, 0, 0, NULL), -ENOSYS);
	close(fd);

	fd = open_node("nouveau");
	assert_ret(nv_vm_init(fd, ~0ull, 2, NULL), -EINVAL);	    /* overflow */
	assert_ret(nv_vm_init(fd, 1ull << 47, PG, NULL), -EINVAL); /* beyond the space */
	assert_ret(nv_vm_init(fd, 0x1000, 0x1000, NULL), 0);
	assert_ret(nv_vm_init(fd, 0x1000, 0x1000, NULL), -EEXIST);
	close(fd);
}

static void nouveau_binds(void **state)
{
	struct gpuvm_abi_nouveau_vm_bind_op ops[3];
	struct gpuvm_abi_nouveau_vm_bind b;
	struct gpuvm_abi_nouveau_sync sig;
	uint64_t gvm = 0, gbo = 0;
	uint32_t bo, s;
	char want[512];
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("nouveau");
	assert_ret(nv_vm_init(fd, 1ull << 40, 1ull << 30, &gvm), 0);
	bo = nv_bo(fd, 3 * PG + 1, &gbo); /* rounded up to 4 pages */
	s = syncobj(fd, false);

	/* A sparse region, then two pages of the object in it, async + signal. */
	ops[0] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE, 0,
		       0x100000, 16 * PG, 0);
	ops[1] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, 0, bo, 0x104000, 2 * PG, PG);
	memset(&sig, 0, sizeof(sig));
	sig.flags = GPUVM_ABI_NOUVEAU_SYNC_SYNCOBJ;
	sig.handle = s;
	memset(&b, 0, sizeof(b));
	b.op_count = 2;
	b.op_ptr = (uintptr_t)ops;
	b.flags = GPUVM_ABI_NOUVEAU_VM_BIND_RUN_ASYNC;
	b.sig_count = 1;
	b.sig_ptr = (uintptr_t)&sig;
	assert_ret(xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND, &b), 0);
	assert_ret(sync_wait(fd, s, 0, 0), 0);

	/* Syncs without RUN_ASYNC: refused, nothing applied. */
	ops[0] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, 0, bo, 0x200000, PG, 0);
	b.op_count = 1;
	b.flags = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND, &b), -EINVAL);
	/* A nonzero pad, a BO range beyond the object, the kernel's region. */
	ops[0].pad = 1;
	assert_ret(nv_bind(fd, ops, 1), -EINVAL);
	ops[0].pad = 0;
	ops[0].bo_offset = 3 * PG;
	ops[0].range = 2 * PG;
	assert_ret(nv_bind(fd, ops, 1), -EINVAL);
	ops[0] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, 0, bo, (1ull << 40) - PG, 2 * PG, 0);
	assert_ret(nv_bind(fd, ops, 1), -EINVAL);
	/* A region over a region: the kernel's -ENOSPC. */
	ops[0] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE, 0,
		       0x108000, 16 * PG, 0);
	assert_ret(nv_bind(fd, ops, 1), -ENOSPC);
	/* Second op bad: the first does not happen. */
	ops[0] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, 0, bo, 0x300000, PG, 0);
	ops[1] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, 0, 99, 0x301000, PG, 0);
	assert_ret(nv_bind(fd, ops, 2), -ENOENT);

	/* Unmap one page inside the region: the region stays, no mapping there. */
	ops[0] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_UNMAP, 0, 0, 0x104000, PG, 0);
	assert_ret(nv_bind(fd, ops, 1), 0);
	/* A second region elsewhere and its removal with what is in it. */
	ops[0] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE, 0,
		       0x400000, 4 * PG, 0);
	ops[1] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_MAP, 0, bo, 0x400000, 4 * PG, 0);
	ops[2] = nv_op(GPUVM_ABI_NOUVEAU_VM_BIND_OP_UNMAP, GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE, 0,
		       0x400000, 4 * PG, 0);
	assert_ret(nv_bind(fd, ops, 3), 0);
	/* Removing it again: no such region, the kernel's -ENOENT. */
	assert_ret(nv_bind(fd, &ops[2], 1), -ENOENT);

	/* Closing a nouveau file destroys its VM: the dump, regions left out. */
	close(fd);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\nva 0x105000+0x1000:bo%" PRIu64 "@0x2000\nend\n", gvm, gbo);
	assert_dump(want);
	dump_reset();
}

/* ---- panthor --------------------------------------------------------------------------- */

/* panthor: a user_va_range of 0 asks for the default and is answered with it. */
static void panthor_default_va_range(void **state)
{
	struct gpuvm_abi_panthor_vm_create vc = { 0 };
	char want[64];
	uint64_t gvm;
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("panthor");
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_CREATE, &vc), 0);
	gvm = next_vm_g++;
	assert_int_not_equal(vc.id, 0);
	/* 48 VA bits, the top 4 GiB the kernel's */
	assert_int_equal(vc.user_va_range, (1ull << 48) - (4ull << 30));
	close(fd);
	snprintf(want, sizeof(want), "> dump vm%llu\nend\n", (unsigned long long)gvm);
	assert_dump(want);
}

static void panthor_binds(void **state)
{
	struct gpuvm_abi_panthor_vm_create vc = { 0 };
	struct gpuvm_abi_panthor_vm_destroy vd = { 0 };
	struct gpuvm_abi_panthor_vm_get_state gs = { 0 };
	struct gpuvm_abi_panthor_bo_create bc = { 0 };
	struct gpuvm_abi_panthor_vm_bind_op ops[2];
	struct gpuvm_abi_panthor_sync_op sig;
	struct gpuvm_abi_panthor_vm_bind b;
	char name[16] = { 0 }, want[256];
	struct gpuvm_abi_drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
	uint64_t gvm, gbo;
	uint32_t s;
	int fd;

	(void)state;
	dump_reset();
	fd = open_node("panthor");
	assert_ret(xioctl(fd, GPUVM_ABI_DRM_IOCTL_VERSION, &v), 0);
	assert_string_equal(name, "panthor");
	vc.flags = 1;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_CREATE, &vc), -EINVAL);
	vc.flags = 0;
	vc.user_va_range = 1ull << 32; /* the kernel's VA starts at 4 GiB */
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_CREATE, &vc), 0);
	assert_int_equal(vc.id, 1);
	gvm = next_vm_g++;
	gs.vm_id = vc.id;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_GET_STATE, &gs), 0);
	assert_int_equal(gs.state, GPUVM_ABI_PANTHOR_VM_STATE_USABLE);
	bc.size = 2 * PG - 100;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_BO_CREATE, &bc), 0);
	assert_int_equal(bc.size, 2 * PG);
	gbo = next_bo_g++;
	s = syncobj(fd, false);

	/* An async MAP whose op signals a syncobj. */
	memset(ops, 0, sizeof(ops));
	memset(&sig, 0, sizeof(sig));
	sig.flags = GPUVM_ABI_PANTHOR_SYNC_OP_SIGNAL | GPUVM_ABI_PANTHOR_SYNC_OP_HANDLE_TYPE_SYNCOBJ;
	sig.handle = s;
	ops[0].flags = GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_MAP;
	ops[0].bo_handle = bc.handle;
	ops[0].va = 0x10000;
	ops[0].size = 2 * PG;
	ops[0].syncs.stride = sizeof(sig);
	ops[0].syncs.count = 1;
	ops[0].syncs.array = (uintptr_t)&sig;
	memset(&b, 0, sizeof(b));
	b.vm_id = vc.id;
	b.flags = GPUVM_ABI_PANTHOR_VM_BIND_ASYNC;
	b.ops.stride = sizeof(ops[0]);
	b.ops.count = 1;
	b.ops.array = (uintptr_t)ops;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_BIND, &b), 0);
	assert_ret(sync_wait(fd, s, 0, 0), 0);

	/* Into the kernel's VA, a stride below the minimum, no such VM. */
	ops[0].syncs.count = 0;
	ops[0].syncs.array = 0;
	ops[0].va = (1ull << 32) - PG;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_BIND, &b), -EINVAL);
	ops[0].va = 0x20000;
	b.ops.stride = 40;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_BIND, &b), -EINVAL);
	b.ops.stride = sizeof(ops[0]);
	b.vm_id = 7;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_BIND, &b), -EINVAL);
	b.vm_id = vc.id;
	/* A synchronous unmap of the first page. */
	ops[0].flags = GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_UNMAP;
	ops[0].bo_handle = 0;
	ops[0].va = 0x10000;
	ops[0].size = PG;
	b.flags = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_BIND, &b), 0);

	vd.id = vc.id;
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_DESTROY, &vd), 0);
	assert_ret(xioctl(fd, GPUVM_ABI_PANTHOR_IOCTL_VM_DESTROY, &vd), -EINVAL);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\nva 0x11000+0x1000:bo%" PRIu64 "@0x1000\nend\n", gvm, gbo);
	assert_dump(want);
	close(fd);
	dump_reset();
}

/* ---- msm ----------------------------------------------------------------------------------- */

static int msm_param(int fd, unsigned long req, uint32_t param, uint64_t *value)
{
	struct gpuvm_abi_msm_param p = { .pipe = GPUVM_ABI_MSM_PIPE_3D0, .param = param };
	int rc;

	p.value = *value;
	rc = xioctl(fd, req, &p);
	*value = p.value;
	return rc;
}

static uint32_t msm_bo(int fd, uint64_t size, uint64_t *g)
{
	struct gpuvm_abi_msm_gem_new n = { .size = size, .flags = GPUVM_ABI_MSM_BO_WC };

	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_GEM_NEW, &n), 0);
	assert_int_not_equal(n.handle, 0);
	if (g)
		*g = next_bo_g;
	next_bo_g++;
	return n.handle;
}

static void msm_binds(void **state)
{
	struct gpuvm_abi_msm_submitqueue sq = { .flags = GPUVM_ABI_MSM_SUBMITQUEUE_VM_BIND };
	struct gpuvm_abi_msm_submitqueue plain = { 0 };
	struct gpuvm_abi_msm_vm_bind_op ops[2];
	struct gpuvm_abi_msm_syncobj out;
	struct gpuvm_abi_msm_vm_bind b;
	uint64_t val, va_start, gvm, gbo;
	uint32_t bo, s, qid;
	char want[256];
	int fd;

	(void)state;
	dump_reset();
	/* EN_VM_BIND after a BO: too late. */
	fd = open_node("msm");
	msm_bo(fd, PG, NULL);
	val = 1;
	assert_ret(msm_param(fd, GPUVM_ABI_MSM_IOCTL_SET_PARAM, GPUVM_ABI_MSM_PARAM_EN_VM_BIND,
			     &val),
		   -EBUSY);
	close(fd);

	fd = open_node("msm");
	val = 0;
	assert_ret(msm_param(fd, GPUVM_ABI_MSM_IOCTL_GET_PARAM, GPUVM_ABI_MSM_PARAM_VA_START,
			     &val),
		   0);
	va_start = val;
	assert_ret(msm_param(fd, GPUVM_ABI_MSM_IOCTL_GET_PARAM, GPUVM_ABI_MSM_PARAM_HAS_PRR, &val),
		   0);
	assert_int_equal(val, 1);
	/* No VM_BIND queue before VM_BIND mode. */
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_NEW, &sq), -EINVAL);
	val = 1;
	assert_ret(msm_param(fd, GPUVM_ABI_MSM_IOCTL_SET_PARAM, GPUVM_ABI_MSM_PARAM_EN_VM_BIND,
			     &val),
		   0);
	gvm = next_vm_g++;
	assert_ret(msm_param(fd, GPUVM_ABI_MSM_IOCTL_SET_PARAM, GPUVM_ABI_MSM_PARAM_EN_VM_BIND,
			     &val),
		   -EBUSY);
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_NEW, &sq), 0);
	qid = sq.id;
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_NEW, &plain), 0);
	bo = msm_bo(fd, 4 * PG, &gbo);
	s = syncobj(fd, false);

	/* Two ops through the array: a NULL range and a map splitting it. */
	memset(ops, 0, sizeof(ops));
	ops[0].op = GPUVM_ABI_MSM_VM_BIND_OP_MAP_NULL;
	ops[0].iova = va_start;
	ops[0].range = 8 * PG;
	ops[1].op = GPUVM_ABI_MSM_VM_BIND_OP_MAP;
	ops[1].handle = bo;
	ops[1].iova = va_start + 2 * PG;
	ops[1].range = 2 * PG;
	ops[1].obj_offset = 2 * PG;
	memset(&out, 0, sizeof(out));
	out.handle = s;
	memset(&b, 0, sizeof(b));
	b.nr_ops = 2;
	b.ops = (uintptr_t)ops;
	b.op_stride = sizeof(ops[0]);
	b.syncobj_stride = sizeof(out);
	b.out_syncobjs = (uintptr_t)&out;
	b.nr_out_syncobjs = 1;
	b.queue_id = qid;
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_VM_BIND, &b), 0);
	assert_ret(sync_wait(fd, s, 0, 0), 0);
	/* Queues: not a VM_BIND queue, none, unknown; below the VA range. */
	b.nr_out_syncobjs = 0;
	b.out_syncobjs = 0;
	ops[1].iova = va_start + 8 * PG;
	b.queue_id = plain.id;
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_VM_BIND, &b), -EINVAL);
	b.queue_id = 0;
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_VM_BIND, &b), -EINVAL);
	b.queue_id = 99;
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_VM_BIND, &b), -ENOENT);
	b.queue_id = qid;
	ops[0].iova = va_start - PG;
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_VM_BIND, &b), -EINVAL);
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_CLOSE, &qid), 0);
	assert_ret(xioctl(fd, GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_CLOSE, &qid), -ENOENT);

	close(fd);
	snprintf(want, sizeof(want),
		 "> dump vm%" PRIu64 "\n"
		 "va 0x%" PRIx64 "+0x2000:-@0x0\n"
		 "va 0x%" PRIx64 "+0x2000:bo%" PRIu64 "@0x2000\n"
		 "va 0x%" PRIx64 "+0x4000:-@0x4000\n"
		 "end\n",
		 gvm, va_start, va_start + 2 * (uint64_t)PG, gbo, va_start + 4 * (uint64_t)PG);
	assert_dump(want);
	dump_reset();
}

static int setup(void **state)
{
	int fd;

	(void)state;
	fd = mkstemp(dump_path);
	if (fd < 0)
		return -1;
	close(fd);
	return setenv("GPUVM_DRMSHIM_DUMP", dump_path, 1);
}

static int teardown(void **state)
{
	(void)state;
	unlink(dump_path);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version_names),
		cmocka_unit_test(unknown_ioctls),
		cmocka_unit_test(other_fds_pass_through),
		cmocka_unit_test(xe_device_query),
		cmocka_unit_test(xe_gem_create_rules),
		cmocka_unit_test(xe_malformed_binds),
		cmocka_unit_test(bad_user_pointers),
		cmocka_unit_test(xe_arg_sizes),
		cmocka_unit_test(xe_gem_close_keeps_mapping),
		cmocka_unit_test(xe_syncobjs),
		cmocka_unit_test(xe_vm_lifetime),
		cmocka_unit_test(xe_dump_at_exit),
		cmocka_unit_test(xe_destroy_while_waiting),
		cmocka_unit_test(xe_threads),
		cmocka_unit_test(nouveau_vm_init_rules),
		cmocka_unit_test(nouveau_binds),
		cmocka_unit_test(panthor_binds),
		cmocka_unit_test(panthor_default_va_range),
		cmocka_unit_test(msm_binds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
