/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim: the interposed libc entry points, the table of open
 * emulated nodes, their objects, and the process-exit dump.
 *
 * This file must not include <sys/ioctl.h>: glibc declares ioctl() there
 * with attributes (leaf, nothrow) that do not hold for our definition.
 */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): memfd_create, RTLD_NEXT */
#undef _FILE_OFFSET_BITS /* we define open and open64 separately */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Generic VFS ioctls that the kernel answers for every fd before the driver. */
#define SHIM_FIONBIO 0x5421u
#define SHIM_FIONCLEX 0x5450u
#define SHIM_FIOCLEX 0x5451u
#define SHIM_FIOASYNC 0x5452u

SHIM_EXPORT int open(const char *path, int flags, ...);
SHIM_EXPORT int open64(const char *path, int flags, ...);
SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...);
SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...);
SHIM_EXPORT int __open_2(const char *path, int flags); /* NOLINT(bugprone-reserved-identifier) */
SHIM_EXPORT int __open64_2(const char *path, int flags); /* NOLINT(bugprone-reserved-identifier) */
SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags); /* NOLINT(bugprone-reserved-identifier) */
SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags); /* NOLINT(bugprone-reserved-identifier) */
SHIM_EXPORT int close(int fd);
SHIM_EXPORT int ioctl(int fd, unsigned long request, ...);

pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t shim_cond;
uint64_t shim_next_bo_g = 1;
uint64_t shim_next_vm_g = 1;

static struct shim_file *shim_files;
static bool shim_finished; /* the exit handler ran: pass everything through */

/* ---- the real functions ------------------------------------------------- */

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static pthread_once_t shim_once = PTHREAD_ONCE_INIT;

static void shim_exit(void);

/* fork() while another thread holds the lock must not leave it held. */
static void shim_atfork_prepare(void)
{
	pthread_mutex_lock(&shim_lock);
}

static void shim_atfork_release(void)
{
	pthread_mutex_unlock(&shim_lock);
}

static void shim_init_once(void)
{
	pthread_condattr_t attr;

	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (!real_open || !real_openat || !real_close || !real_ioctl) {
		fprintf(stderr, "gpuvm-drmshim: cannot find the real open/close/ioctl\n");
		abort();
	}
	/* Syncobj timeouts are absolute CLOCK_MONOTONIC times. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&shim_cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_atfork(shim_atfork_prepare, shim_atfork_release, shim_atfork_release);
	/*
	 * atexit() rather than a destructor: exit handlers run before the
	 * loader's destructors, so the dump is written and the tables are
	 * freed before LeakSanitizer (registered earlier, so run later) looks.
	 */
	atexit(shim_exit);
}

static void shim_init(void)
{
	pthread_once(&shim_once, shim_init_once);
}

__attribute__((constructor)) static void shim_ctor(void)
{
	shim_init();
}

int shim_real_open(const char *path, int flags, mode_t mode)
{
	shim_init();
	return real_open(path, flags, mode);
}

int shim_real_close(int fd)
{
	shim_init();
	return real_close(fd);
}

/* ---- arrays ----------------------------------------------------------- */

void *shim_arr_push(struct shim_arr *a, size_t elsz)
{
	void *p;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;

		p = realloc(a->v, cap * elsz);
		if (!p)
			return NULL;
		a->v = p;
		a->cap = cap;
	}
	p = (char *)a->v + a->n * elsz;
	memset(p, 0, elsz);
	a->n++;
	return p;
}

void shim_arr_del(struct shim_arr *a, size_t elsz, size_t i)
{
	char *base = a->v;

	memmove(base + i * elsz, base + (i + 1) * elsz, (a->n - i - 1) * elsz);
	a->n--;
}

void shim_arr_free(struct shim_arr *a)
{
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* The lowest id >= 1 that no element uses (idr_alloc(1, 0) / xa_alloc). */
uint32_t shim_lowest_free_id(const struct shim_arr *a, size_t elsz, size_t id_off)
{
	uint32_t id;

	for (id = 1; id != 0; id++) {
		size_t i;
		bool used = false;

		for (i = 0; i < a->n; i++) {
			uint32_t v;

			memcpy(&v, (const char *)a->v + i * elsz + id_off, sizeof(v));
			if (v == id) {
				used = true;
				break;
			}
		}
		if (!used)
			return id;
	}
	return 0;
}

/* ---- objects ------------------------------------------------------------ */

struct shim_bo *shim_bo_find(struct shim_file *f, uint32_t handle)
{
	size_t i;

	for (i = 0; i < f->bos.n; i++) {
		struct shim_bo *b = SHIM_AT(&f->bos, struct shim_bo, i);

		if (b->handle == handle && handle)
			return b;
	}
	return NULL;
}

/* A new GEM object of @size bytes (page aligned) at the lowest free handle. */
int shim_bo_new(struct shim_file *f, uint64_t size, uint32_t domain, uint32_t *handle)
{
	uint32_t h = shim_lowest_free_id(&f->bos, sizeof(struct shim_bo),
					 offsetof(struct shim_bo, handle));
	struct shim_bo *b;
	uint64_t seqno = 0, *g;
	int rc;

	if (!h)
		return -ENOSPC;
	/* Reserve the array slots first, so nothing can fail after bo_add. */
	b = shim_arr_push(&f->bos, sizeof(*b));
	if (!b)
		return -ENOMEM;
	g = shim_arr_push(&f->bo_g, sizeof(*g));
	if (!g) {
		f->bos.n--;
		return -ENOMEM;
	}
	rc = gpuvm_bind_bo_add(f->dev, h, size, &seqno);
	if (rc || seqno != f->bo_g.n) {
		/* seqno must be the device's count of objects: 1, 2, 3, ... */
		if (!rc)
			gpuvm_bind_bo_remove(f->dev, h);
		f->bos.n--;
		f->bo_g.n--;
		return rc ? rc : -EPROTO;
	}
	b->handle = h;
	b->domain = domain;
	b->size = size;
	b->seqno = seqno;
	*g = shim_next_bo_g++;
	*handle = h;
	return 0;
}

struct shim_vm *shim_vm_find(struct shim_file *f, uint32_t id)
{
	size_t i;

	for (i = 0; i < f->vms.n; i++) {
		struct shim_vm *v = SHIM_AT(&f->vms, struct shim_vm, i);

		if (v->id == id)
			return v;
	}
	return NULL;
}

struct shim_queue *shim_queue_find(struct shim_file *f, uint32_t id)
{
	size_t i;

	for (i = 0; i < f->queues.n; i++) {
		struct shim_queue *q = SHIM_AT(&f->queues, struct shim_queue, i);

		if (q->id == id)
			return q;
	}
	return NULL;
}

int shim_vm_new(struct shim_file *f, uint32_t id, uint64_t start, uint64_t range,
		uint64_t reserve_addr, uint64_t reserve_range, struct shim_vm **out)
{
	GPUVM_OPTS(gpuvm_bind_vm_opts, opts, .vm_id = id, .start = start, .range = range,
		   .reserve_addr = reserve_addr, .reserve_range = reserve_range);
	struct gpuvm_bind_vm *vm;
	struct shim_vm *v;
	int rc;

	v = shim_arr_push(&f->vms, sizeof(*v));
	if (!v)
		return -ENOMEM;
	rc = gpuvm_bind_vm_create(f->dev, &opts, &vm);
	if (rc) {
		f->vms.n--;
		return rc;
	}
	v->id = id;
	v->g = shim_next_vm_g++;
	v->start = start;
	v->range = range;
	v->vm = vm;
	*out = v;
	return 0;
}

/* Dump @v (if @dump) and destroy it (VM_DESTROY, close, exit). */
void shim_vm_drop(struct shim_file *f, struct shim_vm *v, bool dump)
{
	size_t i = (size_t)(v - (struct shim_vm *)f->vms.v);

	if (dump)
		shim_dump_vm(f, v);
	gpuvm_bind_vm_destroy(v->vm);
	shim_arr_del(&f->vms, sizeof(*v), i);
}

/* ---- dump ------------------------------------------------------------------ */

struct shim_dump {
	struct shim_file *f;
	char *buf;
	size_t len, cap;
	bool oom;
};

static void dump_printf(struct shim_dump *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dump_printf(struct shim_dump *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(d->buf ? d->buf + d->len : NULL, d->buf ? d->cap - d->len : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0) {
			d->oom = true;
			return;
		}
		if (d->buf && (size_t)n < d->cap - d->len) {
			d->len += (size_t)n;
			return;
		}
		{
			size_t cap = (d->cap ? d->cap * 2 : 4096) + (size_t)n;
			char *p = realloc(d->buf, cap);

			if (!p) {
				d->oom = true;
				return;
			}
			d->buf = p;
			d->cap = cap;
		}
	}
}

static int dump_one(void *data, const struct gpuvm_bind_mapping *m)
{
	struct shim_dump *d = data;

	dump_printf(d, "va 0x%" PRIx64 "+0x%" PRIx64 ":", m->addr, m->range);
	if (!m->bo)
		dump_printf(d, "-");
	else if (m->bo <= d->f->bo_g.n)
		dump_printf(d, "bo%" PRIu64, *SHIM_AT(&d->f->bo_g, uint64_t, m->bo - 1));
	else
		dump_printf(d, "bo?%" PRIu64, m->bo); /* cannot happen: seqnos are ours */
	dump_printf(d, "@0x%" PRIx64 "\n", m->offset);
	return 0;
}

/*
 * Append gpuvm-replay's dump listing of @v to $GPUVM_DRMSHIM_DUMP (read at
 * each dump, so a test can point it elsewhere between VMs).
 */
void shim_dump_vm(struct shim_file *f, struct shim_vm *v)
{
	const char *path = getenv("GPUVM_DRMSHIM_DUMP");
	struct shim_dump d = { .f = f };
	size_t off = 0;
	int fd;

	if (!path || !*path)
		return;
	dump_printf(&d, "> dump vm%" PRIu64 "\n", v->g);
	gpuvm_bind_for_each(v->vm, v->start, v->range, dump_one, &d);
	dump_printf(&d, "end\n");
	if (d.oom) {
		fprintf(stderr, "gpuvm-drmshim: out of memory writing the dump of vm%" PRIu64 "\n",
			v->g);
		free(d.buf);
		return;
	}
	fd = shim_real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "gpuvm-drmshim: cannot open %s: %s\n", path, strerror(errno));
		free(d.buf);
		return;
	}
	while (off < d.len) {
		ssize_t n = write(fd, d.buf + off, d.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "gpuvm-drmshim: cannot write %s\n", path);
			break;
		}
		off += (size_t)n;
	}
	shim_real_close(fd);
	free(d.buf);
}

/* ---- files ------------------------------------------------------------------ */

static void file_free(struct shim_file *f)
{
	shim_arr_free(&f->bos);
	shim_arr_free(&f->vms);
	shim_arr_free(&f->queues);
	shim_arr_free(&f->syncobjs);
	shim_arr_free(&f->bo_g);
	free(f);
}

/*
 * The file is gone from the process (close, exit): its VMs are destroyed,
 * in creation order. A child of fork() holds a copy of its parent's files:
 * the kernel's file (and its VMs) lives on in the parent, so the child's
 * copy goes without a dump.
 */
static void file_teardown(struct shim_file *f)
{
	bool dump = f->pid == getpid();

	while (f->vms.n)
		shim_vm_drop(f, SHIM_AT(&f->vms, struct shim_vm, 0), dump);
	if (gpuvm_bind_dev_destroy(f->dev))
		fprintf(stderr, "gpuvm-drmshim: device of fd %d still busy\n", f->fd);
	f->dev = NULL;
	f->closed = true;
	pthread_cond_broadcast(&shim_cond);
}

static void file_unlink(struct shim_file *f)
{
	struct shim_file **pp;

	for (pp = &shim_files; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	file_teardown(f);
	if (!f->users)
		file_free(f);
}

/*
 * The file of @fd with a user reference, or NULL. A number whose fd no
 * longer is our memfd (closed behind our back, e.g. by dup2() over it) is
 * dropped here.
 */
static struct shim_file *file_get(int fd)
{
	struct shim_file *f;
	struct stat st;

	for (f = shim_files; f; f = f->next)
		if (f->fd == fd)
			break;
	if (!f)
		return NULL;
	if (fstat(fd, &st) || st.st_dev != f->st_dev || st.st_ino != f->st_ino) {
		file_unlink(f);
		return NULL;
	}
	f->users++;
	return f;
}

static void file_put(struct shim_file *f)
{
	if (--f->users == 0 && f->closed)
		file_free(f);
}

/*
 * At exit: the dump of every VM still alive, in creation order (vm<G>
 * ascending) across the files, then the files.
 */
static void shim_exit(void)
{
	pid_t pid = getpid();

	pthread_mutex_lock(&shim_lock);
	for (;;) {
		struct shim_file *f, *min_f = NULL;
		struct shim_vm *min_v = NULL;
		size_t i;

		for (f = shim_files; f; f = f->next) {
			if (f->pid != pid)
				continue;
			for (i = 0; i < f->vms.n; i++) {
				struct shim_vm *v = SHIM_AT(&f->vms, struct shim_vm, i);

				if (!min_v || v->g < min_v->g) {
					min_v = v;
					min_f = f;
				}
			}
		}
		if (!min_v)
			break;
		shim_vm_drop(min_f, min_v, true);
	}
	while (shim_files)
		file_unlink(shim_files);
	shim_finished = true;
	pthread_mutex_unlock(&shim_lock);
}

/* GPUVM_DRMSHIM_DRIVER, read at each open: xe (default), nouveau, panthor, msm. */
static int shim_driver(void)
{
	const char *name = getenv("GPUVM_DRMSHIM_DRIVER");
	int driver;

	if (!name || !*name)
		return GPUVM_BIND_XE;
	driver = gpuvm_bind_driver_from_name(name);
	if (driver < 0) {
		fprintf(stderr,
			"gpuvm-drmshim: GPUVM_DRMSHIM_DRIVER=%s is not emulated (xe, nouveau, "
			"panthor, msm)\n",
			name);
		return -ENODEV;
	}
	return driver;
}

static int shim_open_node(int flags)
{
	GPUVM_OPTS(gpuvm_bind_dev_opts, opts);
	struct shim_file *f;
	struct stat st;
	int driver, fd, rc;

	driver = shim_driver();
	if (driver < 0) {
		errno = -driver;
		return -1;
	}
	/* A real, unique fd number: an empty memfd stands in for the node. */
	fd = memfd_create("gpuvm-drmshim-renderD128", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		rc = errno;
		real_close(fd);
		errno = rc;
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		real_close(fd);
		errno = ENOMEM;
		return -1;
	}
	opts.driver = (uint32_t)driver;
	rc = gpuvm_bind_dev_create(&opts, &f->dev);
	if (rc) {
		free(f);
		real_close(fd);
		errno = -rc;
		return -1;
	}
	f->fd = fd;
	f->pid = getpid();
	f->st_dev = st.st_dev;
	f->st_ino = st.st_ino;
	f->driver = (uint32_t)driver;

	pthread_mutex_lock(&shim_lock);
	if (shim_finished) {
		pthread_mutex_unlock(&shim_lock);
		gpuvm_bind_dev_destroy(f->dev);
		free(f);
		real_close(fd);
		errno = ENODEV;
		return -1;
	}
	f->next = shim_files;
	shim_files = f;
	pthread_mutex_unlock(&shim_lock);
	return fd;
}

static bool is_node(int dirfd, const char *path)
{
	(void)dirfd; /* the node's path is absolute: dirfd does not matter */
	return path && !strcmp(path, SHIM_NODE_PATH);
}

/* ---- interposed entry points --------------------------------------------------- */

static mode_t va_mode(int flags, va_list ap)
{
	/* The mode argument exists only with O_CREAT or O_TMPFILE. */
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	shim_init();
	if (is_node(AT_FDCWD, path))
		return shim_open_node(flags);
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	shim_init();
	if (is_node(AT_FDCWD, path))
		return shim_open_node(flags);
	/* On the LP64 ABIs, open is open64 (O_LARGEFILE is implied). */
	return real_open(path, flags | O_LARGEFILE, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	shim_init();
	if (is_node(dirfd, path))
		return shim_open_node(flags);
	return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = va_mode(flags, ap);
	va_end(ap);
	shim_init();
	if (is_node(dirfd, path))
		return shim_open_node(flags);
	return real_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

/* The _FORTIFY_SOURCE entry points: open without a mode argument. */
int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

int close(int fd)
{
	struct shim_file *f;

	shim_init();
	pthread_mutex_lock(&shim_lock);
	for (f = shim_files; f; f = f->next)
		if (f->fd == fd)
			break;
	if (f)
		file_unlink(f); /* drops the device: handles, VMs, syncobjs */
	pthread_mutex_unlock(&shim_lock);
	return real_close(fd);
}

int ioctl(int fd, unsigned long request, ...)
{
	struct shim_file *f;
	va_list ap;
	void *arg;
	uint32_t cmd = (uint32_t)request; /* the kernel's cmd is 32 bits wide */
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	shim_init();

	pthread_mutex_lock(&shim_lock);
	f = file_get(fd);
	if (!f || cmd == SHIM_FIONBIO || cmd == SHIM_FIONCLEX || cmd == SHIM_FIOCLEX ||
	    cmd == SHIM_FIOASYNC) {
		if (f)
			file_put(f);
		pthread_mutex_unlock(&shim_lock);
		return real_ioctl(fd, request, arg);
	}
	rc = shim_dispatch(f, request, arg);
	file_put(f);
	pthread_mutex_unlock(&shim_lock);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}
