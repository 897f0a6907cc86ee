/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-trace.so: record what a process binds on its DRM render nodes as
 * a gpuvm trace (the shared trace format, v1), so that gpuvm-replay can
 * recompute the VA state the kernel (or the emulated node) ended up with.
 *
 *	GPUVM_TRACE_OUT=t.trace LD_PRELOAD=libgpuvm-trace.so app
 *
 * Interposed: ioctl(), the open() family and close(). An fd opened from
 * /dev/dri/renderD* is a render node; on its first ioctl the capture asks
 * its DRM version through the next ioctl() to learn the driver (xe,
 * nouveau, panthor, msm; any other driver is passed through untouched).
 * Then, on that fd:
 *  - VM creation (xe/panthor VM_CREATE, nouveau VM_INIT, msm
 *    SET_PARAM(EN_VM_BIND)) -> `vm vm<G> START RANGE [reserve A R]`;
 *  - GEM creation (xe GEM_CREATE, nouveau/msm GEM_NEW, panthor BO_CREATE)
 *    -> `bo bo<G> SIZE`; GEM_CLOSE -> a comment;
 *  - VM_BIND: the payload is decoded with gpuvm_bind_decode() before the
 *    next ioctl() runs, and only when that succeeds one line per op is
 *    written (map / unmap / unmap-bo / prefetch; a NULL mapping as
 *    `map vmX A R - 0`); what the format cannot say (flags, PAT index,
 *    syncs, queues, nouveau sparse regions) becomes `#` comments;
 *  - VM destruction (xe/panthor VM_DESTROY, close of the fd, process exit
 *    for the VMs still alive) -> `dump vm<G>`.
 * G counts, process-wide and from 1, every VM / GEM object created, as the
 * emulated render node (tools/drmshim) names them in its dumps.
 *
 * Every line is one write(2) on an O_APPEND file: nothing is buffered, so a
 * crash loses nothing already written. Two mutexes: cap_order is held
 * across each recorded ioctl (so the trace has the order the kernel saw)
 * and across every change of the tables; cap_lock guards the tables and
 * the output for short sections, so the ioctls that are not recorded (a
 * syncobj wait, say) only look an fd up and never wait for a recorded one.
 * Lock order: cap_order, then cap_lock. A thread-local depth counter lets
 * calls the next library makes from inside ours pass straight through.
 * Without GPUVM_TRACE_OUT every call is passed through and nothing else
 * happens. No signal handler is installed; nothing here runs in one.
 */
#undef _FORTIFY_SOURCE /* we define open() & co. ourselves */
#undef _FILE_OFFSET_BITS /* open and open64 are defined separately */
#define _GNU_SOURCE

#include <gpuvm/bind.h>

#include "bind/abi/drm_common.h"
#include "bind/abi/msm.h"
#include "bind/abi/nouveau.h"
#include "bind/abi/panthor.h"
#include "bind/abi/xe.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CAP_PAGE 4096u
#define CAP_LINE 512
#define CAP_ARG_MAX 1024u /* bytes of a VM_BIND argument decoded (the largest is 136) */
#define CAP_RENDER_PREFIX "/dev/dri/renderD"

/*
 * The interposed functions, the only symbols the library exports (the
 * rest is hidden; exports.map hides the static libgpuvm too). Not from
 * <sys/ioctl.h>: glibc declares ioctl() there as a leaf, and ours calls
 * back out.
 */
#define CAP_EXPORT __attribute__((visibility("default")))

CAP_EXPORT int ioctl(int fd, unsigned long request, ...);
CAP_EXPORT int open(const char *path, int flags, ...);
CAP_EXPORT int open64(const char *path, int flags, ...);
CAP_EXPORT int openat(int dirfd, const char *path, int flags, ...);
CAP_EXPORT int openat64(int dirfd, const char *path, int flags, ...);
CAP_EXPORT int __open_2(const char *path, int flags);
CAP_EXPORT int __open64_2(const char *path, int flags);
CAP_EXPORT int __openat_2(int dirfd, const char *path, int flags);
CAP_EXPORT int __openat64_2(int dirfd, const char *path, int flags);
CAP_EXPORT int close(int fd);

/* ---- the next definitions ------------------------------------------------ */

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);
typedef int (*close_fn)(int);

enum next_sym {
	NX_IOCTL,
	NX_OPEN,
	NX_OPEN64,
	NX_OPENAT,
	NX_OPENAT64,
	NX_OPEN_2,
	NX_OPEN64_2,
	NX_OPENAT_2,
	NX_OPENAT64_2,
	NX_CLOSE,
	NX_COUNT
};

static const char *const next_names[NX_COUNT] = {
	[NX_IOCTL] = "ioctl",	    [NX_OPEN] = "open",		  [NX_OPEN64] = "open64",
	[NX_OPENAT] = "openat",	    [NX_OPENAT64] = "openat64",	  [NX_OPEN_2] = "__open_2",
	[NX_OPEN64_2] = "__open64_2", [NX_OPENAT_2] = "__openat_2", [NX_OPENAT64_2] = "__openat64_2",
	[NX_CLOSE] = "close",
};

static void *next_ptr[NX_COUNT];

/* The next definition of @sym (lazily looked up; NULL if there is none). */
static void *next(enum next_sym sym)
{
	void *p = __atomic_load_n(&next_ptr[sym], __ATOMIC_ACQUIRE);

	if (!p) {
		p = dlsym(RTLD_NEXT, next_names[sym]);
		__atomic_store_n(&next_ptr[sym], p, __ATOMIC_RELEASE);
	}
	return p;
}

static int next_ioctl(int fd, unsigned long request, void *arg)
{
	ioctl_fn f = (ioctl_fn)next(NX_IOCTL);

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(fd, request, arg);
}

static int next_close(int fd)
{
	close_fn f = (close_fn)next(NX_CLOSE);

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(fd);
}

/* ---- state ------------------------------------------------------------- */

struct cap_handle {
	uint32_t handle;
	uint64_t bo; /* G of bo<G> */
};

struct cap_vm {
	uint32_t kid; /* the kernel's VM id (0: the file's VM) */
	uint64_t g;   /* G of vm<G> */
};

/* One open render node. */
struct cap_node {
	int fd;
	bool probed;
	uint32_t driver; /* enum gpuvm_bind_driver, 0: not one we speak */
	unsigned int xe_va_bits; /* 0: not asked yet */
	struct cap_handle *handles;
	size_t n_handles, cap_handles;
	struct cap_vm *vms;
	size_t n_vms, cap_vms;
	struct cap_node *next;
};

static pthread_once_t cap_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t cap_order = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;
static int cap_out = -1;	/* the trace; -1: capture off */
static dev_t cap_out_dev;	/* the trace file's identity: the program may */
static ino_t cap_out_ino;	/* close our fd behind close() (closefrom, dup2) */
static bool cap_on;		/* written atomically under cap_lock or in cap_once */
/*
 * The nodes: read under either lock; added, freed and their tables changed
 * under both (a node's probe result is written under cap_lock alone, once,
 * before anything is recorded on it).
 */
static struct cap_node *cap_nodes;
static uint64_t cap_next_bo = 1, cap_next_vm = 1;
static struct gpuvm_bind_batch *cap_batch; /* under cap_order */
static __thread unsigned int cap_depth;

/* ---- output ------------------------------------------------------------ */

/* One line (the format without its newline), one write(2). Under cap_lock. */
__attribute__((format(printf, 1, 2))) static void emit(const char *fmt, ...)
{
	char buf[CAP_LINE];
	va_list ap;
	size_t len, done = 0;
	int n;

	if (cap_out < 0)
		return;
	/*
	 * closefrom(), close_range() and dup2() bypass the wrapped close(): if
	 * the number now names another file, it is the program's; stop rather
	 * than write trace lines into it.
	 */
	{
		struct stat st;

		if (fstat(cap_out, &st) || st.st_dev != cap_out_dev || st.st_ino != cap_out_ino) {
			cap_out = -1;
			__atomic_store_n(&cap_on, false, __ATOMIC_RELEASE);
			fprintf(stderr, "libgpuvm-trace: the trace's file descriptor was closed or "
					"replaced by the program; capture stopped\n");
			return;
		}
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(buf) - 2 ? (size_t)n : sizeof(buf) - 2;
	buf[len++] = '\n';
	while (done < len) {
		ssize_t w = write(cap_out, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		done += (size_t)w;
	}
}

static const char *driver_name(uint32_t driver)
{
	switch (driver) {
	case GPUVM_BIND_XE:
		return "xe";
	case GPUVM_BIND_NOUVEAU:
		return "nouveau";
	case GPUVM_BIND_PANTHOR:
		return "panthor";
	case GPUVM_BIND_MSM:
		return "msm";
	}
	return "?";
}

/* ---- setup, fork and exit ------------------------------------------------ */

static void cap_atfork_prepare(void)
{
	pthread_mutex_lock(&cap_order);
	pthread_mutex_lock(&cap_lock);
}

static void cap_atfork_parent(void)
{
	pthread_mutex_unlock(&cap_lock);
	pthread_mutex_unlock(&cap_order);
}

/*
 * The child shares the parent's DRM files but would write the same names
 * into the same trace: it records nothing (see docs/vm_bind.md).
 */
static void cap_atfork_child(void)
{
	__atomic_store_n(&cap_on, false, __ATOMIC_RELEASE);
	cap_out = -1;
	pthread_mutex_unlock(&cap_lock);
	pthread_mutex_unlock(&cap_order);
}

static void cap_init(void)
{
	const char *path = getenv("GPUVM_TRACE_OUT");
	open_fn o = (open_fn)next(NX_OPEN);
	int fd;

	if (!path || !*path || !o)
		return;
	fd = o(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "libgpuvm-trace: %s: %s; not capturing\n", path, strerror(errno));
		return;
	}
	if (gpuvm_bind_batch_create(NULL, &cap_batch)) {
		fprintf(stderr, "libgpuvm-trace: out of memory; not capturing\n");
		next_close(fd);
		return;
	}
	{
		/* out of the way of the low numbers programs close and reuse */
		int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
		struct stat st;

		if (high >= 0) {
			next_close(fd);
			fd = high;
		}
		if (fstat(fd, &st)) {
			fprintf(stderr, "libgpuvm-trace: %s: %s; not capturing\n", path,
				strerror(errno));
			gpuvm_bind_batch_destroy(cap_batch);
			cap_batch = NULL;
			next_close(fd);
			return;
		}
		cap_out_dev = st.st_dev;
		cap_out_ino = st.st_ino;
	}
	pthread_atfork(cap_atfork_prepare, cap_atfork_parent, cap_atfork_child);
	cap_out = fd;
	__atomic_store_n(&cap_on, true, __ATOMIC_RELEASE);
	emit("# gpuvm trace v1, captured by libgpuvm-trace from pid %ld", (long)getpid());
}

/*
 * Enter the capture: false when the call must just be passed on (capture
 * off, or a call made from inside ours). On true, leave with cap_leave().
 */
static bool cap_enter(void)
{
	if (cap_depth)
		return false;
	cap_depth++;
	pthread_once(&cap_once, cap_init);
	if (!__atomic_load_n(&cap_on, __ATOMIC_ACQUIRE)) {
		cap_depth--;
		return false;
	}
	return true;
}

static void cap_leave(void)
{
	cap_depth--;
}

/* ---- nodes, handles, VMs --------------------------------------------------- */

static struct cap_node *node_find(int fd)
{
	for (struct cap_node *n = cap_nodes; n; n = n->next)
		if (n->fd == fd)
			return n;
	return NULL;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

static struct cap_handle *handle_find(struct cap_node *n, uint32_t handle)
{
	for (size_t i = 0; i < n->n_handles; i++)
		if (n->handles[i].handle == handle)
			return &n->handles[i];
	return NULL;
}

static void handle_add(struct cap_node *n, uint32_t handle, uint64_t bo)
{
	struct cap_handle *h = handle_find(n, handle);

	if (h) { /* closed behind our back (or never seen closed) */
		h->bo = bo;
		return;
	}
	if (!grow((void **)&n->handles, &n->cap_handles, n->n_handles, sizeof(*n->handles))) {
		emit("# out of memory: handle %" PRIu32 " of fd %d untracked", handle, n->fd);
		return;
	}
	n->handles[n->n_handles++] = (struct cap_handle){ .handle = handle, .bo = bo };
}

static void handle_remove(struct cap_node *n, uint32_t handle)
{
	struct cap_handle *h = handle_find(n, handle);

	if (h)
		*h = n->handles[--n->n_handles];
}

static struct cap_vm *vm_find(struct cap_node *n, uint32_t kid)
{
	for (size_t i = 0; i < n->n_vms; i++)
		if (n->vms[i].kid == kid)
			return &n->vms[i];
	return NULL;
}

/* A VM was created: name it, write its `vm` line. */
static void vm_add(struct cap_node *n, uint32_t kid, uint64_t start, uint64_t range,
		   uint64_t rsv_addr, uint64_t rsv_range)
{
	uint64_t g;

	if (vm_find(n, kid)) {
		emit("# fd %d: VM id %" PRIu32 " created twice; the first is forgotten", n->fd,
		     kid);
		*vm_find(n, kid) = n->vms[--n->n_vms];
	}
	if (!grow((void **)&n->vms, &n->cap_vms, n->n_vms, sizeof(*n->vms))) {
		emit("# out of memory: VM id %" PRIu32 " of fd %d untracked", kid, n->fd);
		cap_next_vm++;
		return;
	}
	g = cap_next_vm++;
	n->vms[n->n_vms++] = (struct cap_vm){ .kid = kid, .g = g };
	emit("# fd %d: %s VM id %" PRIu32 " is vm%" PRIu64, n->fd, driver_name(n->driver), kid,
	     g);
	if (rsv_range)
		emit("vm vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64 " reserve 0x%" PRIx64 " 0x%" PRIx64,
		     g, start, range, rsv_addr, rsv_range);
	else
		emit("vm vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64, g, start, range);
}

static void vm_remove(struct cap_node *n, uint32_t kid)
{
	struct cap_vm *v = vm_find(n, kid);

	if (!v)
		return;
	emit("dump vm%" PRIu64, v->g);
	*v = n->vms[--n->n_vms];
}

static int cmp_g(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* `dump` every VM of @only (NULL: of every node), by ascending G. */
static void dump_vms(struct cap_node *only)
{
	size_t total = 0, k = 0;
	uint64_t *gs;

	for (struct cap_node *n = cap_nodes; n; n = n->next)
		if (!only || n == only)
			total += n->n_vms;
	if (!total)
		return;
	gs = malloc(total * sizeof(*gs));
	for (struct cap_node *n = cap_nodes; n; n = n->next) {
		if (only && n != only)
			continue;
		for (size_t i = 0; i < n->n_vms; i++) {
			if (gs)
				gs[k++] = n->vms[i].g;
			else /* no memory: unsorted then */
				emit("dump vm%" PRIu64, n->vms[i].g);
		}
		n->n_vms = 0;
	}
	if (!gs)
		return;
	qsort(gs, total, sizeof(*gs), cmp_g);
	for (size_t i = 0; i < total; i++)
		emit("dump vm%" PRIu64, gs[i]);
	free(gs);
}

static void node_free(struct cap_node *n)
{
	for (struct cap_node **pp = &cap_nodes; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	free(n->handles);
	free(n->vms);
	free(n);
}

/* The file behind a tracked fd is gone: its VMs go with it. */
static void node_gone(struct cap_node *n, const char *why)
{
	if (n->n_vms)
		emit("# fd %d %s: its VMs are destroyed", n->fd, why);
	dump_vms(n);
	node_free(n);
}

static void node_new(int fd, const char *path)
{
	struct cap_node *n = node_find(fd);

	if (n) /* closed behind our back (close_range, dup2 ...) */
		node_gone(n, "reused");
	n = calloc(1, sizeof(*n));
	if (!n) {
		emit("# out of memory: render node fd %d (%s) untracked", fd, path);
		return;
	}
	n->fd = fd;
	n->next = cap_nodes;
	cap_nodes = n;
	emit("# open %s: fd %d", path, fd);
}

/*
 * At exit: `dump` the VMs still alive. A thread may still be inside a
 * recorded ioctl (exit() does not wait for threads): wait for it a while,
 * then go ahead without cap_order (and without freeing the nodes); its
 * lines, if any, are dropped.
 */
__attribute__((destructor)) static void cap_fini(void)
{
	struct timespec until;
	bool ordered;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	ordered = !pthread_mutex_timedlock(&cap_order, &until);
	pthread_mutex_lock(&cap_lock);
	if (cap_on) {
		cap_depth++;
		dump_vms(NULL);
		/* a thread inside a recorded ioctl still holds its node */
		while (ordered && cap_nodes)
			node_free(cap_nodes);
		emit("# exit");
		__atomic_store_n(&cap_on, false, __ATOMIC_RELEASE);
		cap_depth--;
	}
	pthread_mutex_unlock(&cap_lock);
	if (ordered)
		pthread_mutex_unlock(&cap_order);
}

/* ---- ioctl arguments ----------------------------------------------------- */

/*
 * copy_from_user for the capture (and the decoder's read hook): the
 * application's pointers are read with process_vm_readv() on this very
 * process, so a bad one is -EFAULT (the ioctl then fails in the kernel as
 * it would have), not a crash in the capture. Where that call is refused
 * (a seccomp filter, say) the memory is read directly.
 */
static int cap_uread(void *data, uint64_t uptr, void *dst, size_t len)
{
	struct iovec local = { .iov_base = dst, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)uptr, .iov_len = len };
	ssize_t n;

	(void)data;
	if (!len)
		return 0;
	if (!uptr)
		return -EFAULT;
	n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n >= 0 && (size_t)n == len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		memcpy(dst, (const void *)(uintptr_t)uptr, len);
		return 0;
	}
	return -EFAULT;
}

/*
 * Copy @arg as the kernel would: min(size in @request, @len) bytes, the
 * rest zero. False (and all zero) when it cannot be read.
 */
static bool arg_get(unsigned long request, const void *arg, void *dst, size_t len)
{
	size_t sz = GPUVM_ABI_IOC_SIZE_OF(request);

	memset(dst, 0, len);
	if (!arg || cap_uread(NULL, (uint64_t)(uintptr_t)arg, dst, sz < len ? sz : len)) {
		memset(dst, 0, len);
		return false;
	}
	return true;
}

/* The size in @request covers the field ending at @end. */
static bool arg_has(unsigned long request, size_t end)
{
	return GPUVM_ABI_IOC_SIZE_OF(request) >= end;
}

/* Which driver @n speaks: DRM_IOCTL_VERSION through the next ioctl. */
static void node_probe(struct cap_node *n)
{
	struct gpuvm_abi_drm_version v;
	char name[32];
	int drv;

	n->probed = true;
	memset(&v, 0, sizeof(v));
	memset(name, 0, sizeof(name));
	v.name = name;
	v.name_len = sizeof(name) - 1;
	if (next_ioctl(n->fd, GPUVM_ABI_DRM_IOCTL_VERSION, &v)) {
		emit("# fd %d: DRM version query failed (%s); not traced", n->fd,
		     gpuvm_err_name(errno));
		return;
	}
	name[sizeof(name) - 1] = '\0';
	if (v.name_len < sizeof(name))
		name[v.name_len] = '\0';
	drv = gpuvm_bind_driver_from_name(name);
	if (drv <= 0) {
		emit("# fd %d: driver '%s' has no VM_BIND we speak; not traced", n->fd, name);
		return;
	}
	n->driver = (uint32_t)drv;
	emit("# fd %d: driver %s", n->fd, name);
}

/* xe's VA size: 1 << va_bits of the CONFIG device query (48 if it fails). */
static uint64_t xe_va_range(struct cap_node *n)
{
	struct gpuvm_abi_xe_device_query q;
	struct gpuvm_abi_xe_query_config *cfg = NULL;

	if (n->xe_va_bits)
		return 1ull << n->xe_va_bits;
	memset(&q, 0, sizeof(q));
	q.query = GPUVM_ABI_XE_QUERY_CONFIG;
	if (!next_ioctl(n->fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q) &&
	    q.size >= sizeof(*cfg) + (GPUVM_ABI_XE_CONFIG_VA_BITS + 1) * sizeof(uint64_t) &&
	    (cfg = calloc(1, q.size))) {
		q.data = (uint64_t)(uintptr_t)cfg;
		if (!next_ioctl(n->fd, GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, &q) &&
		    cfg->num_params > GPUVM_ABI_XE_CONFIG_VA_BITS &&
		    cfg->info[GPUVM_ABI_XE_CONFIG_VA_BITS] >= 12 &&
		    cfg->info[GPUVM_ABI_XE_CONFIG_VA_BITS] <= 63)
			n->xe_va_bits = (unsigned int)cfg->info[GPUVM_ABI_XE_CONFIG_VA_BITS];
	}
	free(cfg);
	if (!n->xe_va_bits) {
		emit("# fd %d: xe CONFIG query gave no va_bits; assuming 48", n->fd);
		n->xe_va_bits = 48;
	}
	return 1ull << n->xe_va_bits;
}

/* msm: a GET_PARAM through the next ioctl; false on failure. */
static bool msm_param(struct cap_node *n, uint32_t param, uint64_t *value)
{
	struct gpuvm_abi_msm_param p;

	memset(&p, 0, sizeof(p));
	p.pipe = GPUVM_ABI_MSM_PIPE_3D0;
	p.param = param;
	if (next_ioctl(n->fd, GPUVM_ABI_MSM_IOCTL_GET_PARAM, &p))
		return false;
	*value = p.value;
	return true;
}

/* ---- what each ioctl means ------------------------------------------------ */

enum cap_kind {
	K_NONE,
	K_GEM_CREATE,
	K_GEM_CLOSE,
	K_VM_CREATE,
	K_VM_DESTROY,
	K_VM_BIND,
};

static enum cap_kind classify(const struct cap_node *n, unsigned long request)
{
	uint32_t nr = GPUVM_ABI_IOC_NR_OF(request);

	if (GPUVM_ABI_IOC_TYPE_OF(request) != GPUVM_ABI_DRM_IOCTL_TYPE)
		return K_NONE;
	if (nr == GPUVM_ABI_DRM_NR_GEM_CLOSE)
		return K_GEM_CLOSE;
	if (nr < GPUVM_ABI_DRM_COMMAND_BASE || nr >= GPUVM_ABI_DRM_COMMAND_END)
		return K_NONE;
	nr -= GPUVM_ABI_DRM_COMMAND_BASE;
	switch (n->driver) {
	case GPUVM_BIND_XE:
		if (nr == GPUVM_ABI_XE_NR_GEM_CREATE)
			return K_GEM_CREATE;
		if (nr == GPUVM_ABI_XE_NR_VM_CREATE)
			return K_VM_CREATE;
		if (nr == GPUVM_ABI_XE_NR_VM_DESTROY)
			return K_VM_DESTROY;
		if (nr == GPUVM_ABI_XE_NR_VM_BIND)
			return K_VM_BIND;
		break;
	case GPUVM_BIND_NOUVEAU:
		if (nr == GPUVM_ABI_NOUVEAU_NR_GEM_NEW)
			return K_GEM_CREATE;
		if (nr == GPUVM_ABI_NOUVEAU_NR_VM_INIT)
			return K_VM_CREATE;
		if (nr == GPUVM_ABI_NOUVEAU_NR_VM_BIND)
			return K_VM_BIND;
		break;
	case GPUVM_BIND_PANTHOR:
		if (nr == GPUVM_ABI_PANTHOR_NR_BO_CREATE)
			return K_GEM_CREATE;
		if (nr == GPUVM_ABI_PANTHOR_NR_VM_CREATE)
			return K_VM_CREATE;
		if (nr == GPUVM_ABI_PANTHOR_NR_VM_DESTROY)
			return K_VM_DESTROY;
		if (nr == GPUVM_ABI_PANTHOR_NR_VM_BIND)
			return K_VM_BIND;
		break;
	case GPUVM_BIND_MSM:
		if (nr == GPUVM_ABI_MSM_NR_GEM_NEW)
			return K_GEM_CREATE;
		if (nr == GPUVM_ABI_MSM_NR_SET_PARAM)
			return K_VM_CREATE; /* only SET_PARAM(EN_VM_BIND) counts */
		if (nr == GPUVM_ABI_MSM_NR_VM_BIND)
			return K_VM_BIND;
		break;
	}
	return K_NONE;
}

/* After a successful GEM create: the new handle and size. */
static void on_gem_create(struct cap_node *n, unsigned long request, const void *arg)
{
	uint32_t handle = 0;
	uint64_t size = 0, g;

	switch (n->driver) {
	case GPUVM_BIND_XE: {
		struct gpuvm_abi_xe_gem_create a;

		arg_get(request, arg, &a, sizeof(a));
		if (arg_has(request, offsetof(struct gpuvm_abi_xe_gem_create, handle) + 4)) {
			handle = a.handle;
			size = a.size;
		}
		break;
	}
	case GPUVM_BIND_NOUVEAU: {
		struct gpuvm_abi_nouveau_gem_new a;

		arg_get(request, arg, &a, sizeof(a));
		handle = a.info.handle;
		size = a.info.size;
		break;
	}
	case GPUVM_BIND_PANTHOR: {
		struct gpuvm_abi_panthor_bo_create a;

		arg_get(request, arg, &a, sizeof(a));
		if (arg_has(request, offsetof(struct gpuvm_abi_panthor_bo_create, handle) + 4)) {
			handle = a.handle;
			size = a.size;
		}
		break;
	}
	case GPUVM_BIND_MSM: {
		struct gpuvm_abi_msm_gem_new a;

		arg_get(request, arg, &a, sizeof(a));
		handle = a.handle;
		/* the kernel rounds the object up to whole pages */
		size = a.size > UINT64_MAX - (CAP_PAGE - 1) ? a.size
							     : (a.size + CAP_PAGE - 1) &
								       ~(uint64_t)(CAP_PAGE - 1);
		break;
	}
	}
	g = cap_next_bo++;
	if (!handle || !size) {
		emit("# fd %d: GEM create without a handle or size; bo%" PRIu64 " untracked",
		     n->fd, g);
		return;
	}
	handle_add(n, handle, g);
	emit("bo bo%" PRIu64 " 0x%" PRIx64, g, size);
	emit("# fd %d: handle %" PRIu32 " is bo%" PRIu64, n->fd, handle, g);
}

/* A VM creation succeeded; @in is the argument as it was before the call. */
static void on_vm_create(struct cap_node *n, unsigned long request, const void *arg,
			 const void *in)
{
	switch (n->driver) {
	case GPUVM_BIND_XE: {
		struct gpuvm_abi_xe_vm_create a;

		arg_get(request, arg, &a, sizeof(a));
		if (!arg_has(request, offsetof(struct gpuvm_abi_xe_vm_create, vm_id) + 4))
			return;
		vm_add(n, a.vm_id, 0, xe_va_range(n), 0, 0);
		break;
	}
	case GPUVM_BIND_NOUVEAU: {
		const struct gpuvm_abi_nouveau_vm_init *a = in;

		vm_add(n, 0, 0, 1ull << 47, a->kernel_managed_addr, a->kernel_managed_size);
		break;
	}
	case GPUVM_BIND_PANTHOR: {
		struct gpuvm_abi_panthor_vm_create a;

		arg_get(request, arg, &a, sizeof(a));
		if (!a.user_va_range) {
			/*
			 * The kernel writes back the range it chose for 0; a
			 * node that does not is taken to use the usual default
			 * (48 VA bits, the top 4 GiB the kernel's).
			 */
			a.user_va_range = (1ull << 48) - (4ull << 30);
			emit("# fd %d: panthor VM id %" PRIu32 " came back without its "
			     "user_va_range; assuming 0x%" PRIx64,
			     n->fd, a.id, a.user_va_range);
		}
		/* binds reach only [0, user_va_range): the rest is the kernel's */
		vm_add(n, a.id, 0, a.user_va_range, 0, 0);
		break;
	}
	case GPUVM_BIND_MSM: {
		const struct gpuvm_abi_msm_param *p = in;
		uint64_t start = 0, size = 0;

		if (p->param != GPUVM_ABI_MSM_PARAM_EN_VM_BIND || !p->value)
			return;
		if (!msm_param(n, GPUVM_ABI_MSM_PARAM_VA_START, &start) ||
		    !msm_param(n, GPUVM_ABI_MSM_PARAM_VA_SIZE, &size) || !size) {
			emit("# fd %d: msm VA range unknown; VM untracked", n->fd);
			return;
		}
		vm_add(n, 0, start, size, 0, 0);
		break;
	}
	}
}

/* What the trace cannot say about @op: its flags and driver_arg. */
static void op_comment(const struct cap_node *n, const struct gpuvm_bind_op *op)
{
	const char *arg_name = "driver_arg";

	char buf[160];
	size_t k = 0;

	if (!op->flags && !op->driver_arg)
		return;
	buf[0] = '\0';
	if (op->flags & GPUVM_BIND_READ_ONLY)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " read-only");
	if (op->flags & GPUVM_BIND_NOEXEC)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " noexec");
	if (op->flags & GPUVM_BIND_UNCACHED)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " uncached");
	if (op->flags & GPUVM_BIND_DUMPABLE)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " dumpable");
	if (op->flags & GPUVM_BIND_IMMEDIATE)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " immediate");
	if (n->driver == GPUVM_BIND_XE)
		arg_name = op->type == GPUVM_BIND_OP_PREFETCH ? "region" : "pat_index";
	else if (n->driver == GPUVM_BIND_NOUVEAU)
		arg_name = "kind";
	if (op->driver_arg)
		snprintf(buf + k, sizeof(buf) - k, " %s %" PRIu32, arg_name, op->driver_arg);
	emit("#  attributes:%s", buf);
}

/* A VM_BIND succeeded: cap_batch holds its decoded payload. */
static void on_vm_bind(struct cap_node *n, uint32_t vm_id)
{
	const struct gpuvm_bind_op *ops;
	const struct gpuvm_bind_sync *syncs;
	struct cap_vm *v = vm_find(n, vm_id);
	size_t n_ops, n_syncs;
	uint64_t g;

	ops = gpuvm_bind_batch_ops(cap_batch, &n_ops);
	syncs = gpuvm_bind_batch_syncs(cap_batch, &n_syncs);
	if (!v) {
		emit("# fd %d: VM_BIND of %zu ops on unknown VM id %" PRIu32 "; not traced", n->fd,
		     n_ops, vm_id);
		return;
	}
	g = v->g;
	emit("# vm_bind vm%" PRIu64 ": %zu ops, queue %" PRIu32 ", flags 0x%" PRIx32
	     ", %zu syncs",
	     g, n_ops, gpuvm_bind_batch_queue(cap_batch), gpuvm_bind_batch_flags(cap_batch),
	     n_syncs);
	for (size_t i = 0; i < n_syncs; i++)
		emit("#  %s syncobj %" PRIu32 " point %" PRIu64,
		     syncs[i].flags & GPUVM_BIND_SYNC_SIGNAL ? "signal" : "wait", syncs[i].handle,
		     syncs[i].point);
	for (size_t i = 0; i < n_ops; i++) {
		const struct gpuvm_bind_op *op = &ops[i];
		struct cap_handle *h;

		op_comment(n, op);
		switch (op->type) {
		case GPUVM_BIND_OP_MAP:
			h = handle_find(n, op->handle);
			if (!h) {
				emit("# map of unknown handle %" PRIu32 " at 0x%" PRIx64
				     "+0x%" PRIx64 ": not traced, the trace is incomplete",
				     op->handle, op->addr, op->range);
				break;
			}
			emit("map vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64 " bo%" PRIu64
			     " 0x%" PRIx64,
			     g, op->addr, op->range, h->bo, op->offset);
			break;
		case GPUVM_BIND_OP_MAP_SPARSE:
			if (n->driver == GPUVM_BIND_NOUVEAU) /* a region, not a mapping */
				emit("# sparse-region vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64, g,
				     op->addr, op->range);
			else
				emit("map vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64 " - 0x0", g,
				     op->addr, op->range);
			break;
		case GPUVM_BIND_OP_UNMAP:
			emit("unmap vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64, g, op->addr,
			     op->range);
			break;
		case GPUVM_BIND_OP_UNMAP_BO:
			h = handle_find(n, op->handle);
			if (!h) {
				emit("# unmap-bo of unknown handle %" PRIu32
				     ": not traced, the trace is incomplete",
				     op->handle);
				break;
			}
			emit("unmap-bo vm%" PRIu64 " bo%" PRIu64, g, h->bo);
			break;
		case GPUVM_BIND_OP_PREFETCH:
			emit("prefetch vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64, g, op->addr,
			     op->range);
			break;
		case GPUVM_BIND_OP_UNMAP_SPARSE:
			/* the region goes, and so does whatever is mapped inside it */
			emit("# sparse-region-remove vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64, g,
			     op->addr, op->range);
			emit("unmap vm%" PRIu64 " 0x%" PRIx64 " 0x%" PRIx64, g, op->addr,
			     op->range);
			break;
		default:
			emit("# op of unknown type %" PRIu32 ": not traced", op->type);
			break;
		}
	}
}

/*
 * A recorded ioctl: bookkeeping around the next one, under cap_order (so
 * @n cannot go: nodes are freed under cap_order only).
 */
static int traced_ioctl(struct cap_node *n, enum cap_kind kind, unsigned long request,
			void *arg)
{
	union {
		struct gpuvm_abi_nouveau_vm_init nv_init;
		struct gpuvm_abi_msm_param msm;
		struct gpuvm_abi_xe_vm_destroy xe_destroy;
		struct gpuvm_abi_panthor_vm_destroy pt_destroy;
		struct gpuvm_abi_drm_gem_close close;
	} in;
	union {
		uint64_t align;
		unsigned char b[CAP_ARG_MAX];
	} bind_arg;
	uint32_t vm_id = 0;
	int decoded = -EINVAL, ret, err;

	/* everything the record needs from the input is read before the call */
	switch (kind) {
	case K_VM_CREATE:
	case K_VM_DESTROY:
	case K_GEM_CLOSE:
		arg_get(request, arg, &in, sizeof(in));
		break;
	case K_VM_BIND: {
		struct gpuvm_bind_decode_opts o = {
			.sz = sizeof(o),
			.driver = n->driver,
			.read = cap_uread,
		};
		size_t sz = GPUVM_ABI_IOC_SIZE_OF(request);
		unsigned long req = request;

		/* a longer argument than any known one: its tail is ignored anyway */
		if (sz > sizeof(bind_arg)) {
			sz = sizeof(bind_arg);
			req = (request & ~((unsigned long)GPUVM_ABI_IOC_SIZE_MAX << 16)) |
			      ((unsigned long)sz << 16);
		}
		if (!arg || cap_uread(NULL, (uint64_t)(uintptr_t)arg, bind_arg.b, sz))
			decoded = -EFAULT;
		else
			decoded = gpuvm_bind_decode(&o, req, bind_arg.b, cap_batch, &vm_id);
		break;
	}
	default:
		break;
	}

	ret = next_ioctl(n->fd, request, arg);
	err = errno;
	if (ret) {
		errno = err;
		return ret;
	}

	pthread_mutex_lock(&cap_lock);
	if (!cap_on)
		kind = K_NONE;
	switch (kind) {
	case K_GEM_CREATE:
		on_gem_create(n, request, arg);
		break;
	case K_GEM_CLOSE: {
		struct cap_handle *h = handle_find(n, in.close.handle);

		if (h) {
			emit("# gem-close bo%" PRIu64 " (fd %d handle %" PRIu32 ")", h->bo, n->fd,
			     in.close.handle);
			handle_remove(n, in.close.handle);
		}
		break;
	}
	case K_VM_CREATE:
		on_vm_create(n, request, arg, &in);
		break;
	case K_VM_DESTROY:
		vm_remove(n, n->driver == GPUVM_BIND_XE ? in.xe_destroy.vm_id : in.pt_destroy.id);
		break;
	case K_VM_BIND:
		if (decoded)
			emit("# fd %d: a VM_BIND the decoder refused (%s) succeeded; not traced, "
			     "the trace is incomplete",
			     n->fd, gpuvm_err_name(decoded));
		else
			on_vm_bind(n, vm_id);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&cap_lock);
	gpuvm_bind_batch_reset(cap_batch);
	errno = err;
	return ret;
}

/* ---- the interposed functions ------------------------------------------- */

int ioctl(int fd, unsigned long request, ...)
{
	struct cap_node *n;
	enum cap_kind kind = K_NONE;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (!cap_enter())
		return next_ioctl(fd, request, arg);
	pthread_mutex_lock(&cap_lock);
	n = cap_on ? node_find(fd) : NULL;
	if (n) {
		if (!n->probed) {
			int err = errno;

			node_probe(n);
			errno = err;
		}
		if (n->driver)
			kind = classify(n, request);
	}
	pthread_mutex_unlock(&cap_lock);
	if (kind != K_NONE) {
		/* look again under cap_order: the fd may have been closed since */
		pthread_mutex_lock(&cap_order);
		pthread_mutex_lock(&cap_lock);
		n = cap_on ? node_find(fd) : NULL;
		pthread_mutex_unlock(&cap_lock);
		if (n && n->driver)
			ret = traced_ioctl(n, classify(n, request), request, arg);
		else
			ret = next_ioctl(fd, request, arg);
		pthread_mutex_unlock(&cap_order);
	} else {
		ret = next_ioctl(fd, request, arg);
	}
	cap_leave();
	return ret;
}

/* After an open of @path returned @fd: track it if it is a render node. */
static int opened(const char *path, int fd)
{
	int err = errno;

	if (fd < 0 || !path || strncmp(path, CAP_RENDER_PREFIX, strlen(CAP_RENDER_PREFIX)) != 0)
		return fd;
	pthread_mutex_lock(&cap_order);
	pthread_mutex_lock(&cap_lock);
	if (cap_on)
		node_new(fd, path);
	pthread_mutex_unlock(&cap_lock);
	pthread_mutex_unlock(&cap_order);
	errno = err;
	return fd;
}

static bool needs_mode(int flags)
{
#ifdef O_TMPFILE
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return true;
#endif
	return flags & O_CREAT;
}

/* Pass @call on, and track what it opened if the capture is on. */
#define OPEN_BODY(call)                             \
	do {                                        \
		int fd_;                            \
		if (!cap_enter())                   \
			return (call);              \
		fd_ = opened(path, (call));         \
		cap_leave();                        \
		return fd_;                         \
	} while (0)

#define MODE_ARG(flags, mode)                             \
	do {                                              \
		if (needs_mode(flags)) {                  \
			va_list ap_;                      \
			va_start(ap_, flags);             \
			(mode) = (mode_t)va_arg(ap_, int); \
			va_end(ap_);                      \
		}                                         \
	} while (0)

static int call_open(enum next_sym sym, const char *path, int flags, mode_t mode)
{
	open_fn f = (open_fn)next(sym);

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(path, flags, mode);
}

static int call_openat(enum next_sym sym, int dirfd, const char *path, int flags, mode_t mode)
{
	openat_fn f = (openat_fn)next(sym);

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(dirfd, path, flags, mode);
}

static int call_open2(enum next_sym sym, const char *path, int flags)
{
	open2_fn f = (open2_fn)next(sym);

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(path, flags);
}

static int call_openat2(enum next_sym sym, int dirfd, const char *path, int flags)
{
	openat2_fn f = (openat2_fn)next(sym);

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(dirfd, path, flags);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(call_open(NX_OPEN, path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(call_open(NX_OPEN64, path, flags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(call_openat(NX_OPENAT, dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	OPEN_BODY(call_openat(NX_OPENAT64, dirfd, path, flags, mode));
}

int __open_2(const char *path, int flags)
{
	OPEN_BODY(call_open2(NX_OPEN_2, path, flags));
}

int __open64_2(const char *path, int flags)
{
	OPEN_BODY(call_open2(NX_OPEN64_2, path, flags));
}

int __openat_2(int dirfd, const char *path, int flags)
{
	OPEN_BODY(call_openat2(NX_OPENAT_2, dirfd, path, flags));
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	OPEN_BODY(call_openat2(NX_OPENAT64_2, dirfd, path, flags));
}

int close(int fd)
{
	bool node, ours;
	int ret;

	if (!cap_enter())
		return next_close(fd);
	pthread_mutex_lock(&cap_lock);
	ours = cap_on && fd == cap_out;
	node = cap_on && !ours && node_find(fd);
	pthread_mutex_unlock(&cap_lock);
	if (ours) {
		/* the application closes our trace: keep it, look closed */
		cap_leave();
		errno = EBADF;
		return -1;
	}
	if (node) {
		struct cap_node *n;
		int err = errno;

		/* the file's VMs die with it: dump them first */
		pthread_mutex_lock(&cap_order);
		pthread_mutex_lock(&cap_lock);
		n = cap_on ? node_find(fd) : NULL;
		if (n) {
			node_gone(n, "closed");
			emit("# close fd %d", fd);
		}
		pthread_mutex_unlock(&cap_lock);
		pthread_mutex_unlock(&cap_order);
		errno = err;
	}
	ret = next_close(fd);
	cap_leave();
	return ret;
}
