/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm-drmshim: private declarations shared by the shim's sources.
 *
 * The shim is an LD_PRELOAD library that makes /dev/dri/renderD128 an
 * emulated xe, nouveau, panthor or msm render node whose VM_BIND is real: every bind is
 * decoded with gpuvm_bind_decode() and applied with gpuvm_bind_apply() to a
 * struct gpuvm_bind_vm kept per VM. See tools/drmshim/README.md.
 *
 * Locking: one process-wide mutex (shim_lock) protects every table below;
 * every handler runs with it held. Files are reference counted so that a
 * close() while another thread sleeps in a syncobj wait is safe.
 */
#ifndef GPUVM_DRMSHIM_H
#define GPUVM_DRMSHIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gpuvm/bind.h>

#define SHIM_NODE_PATH "/dev/dri/renderD128"
#define SHIM_PAGE_SIZE 4096u

/* One GEM handle of a file. */
struct shim_bo {
	uint32_t handle;
	uint32_t domain; /* nouveau: the domain asked for */
	uint64_t size;
	uint64_t seqno; /* gpuvm_bind_bo_add()'s number in the file's device */
};

/*
 * One VM of a file (xe, panthor: VM_CREATE; nouveau: the file's VM_INIT;
 * msm: the file's SET_PARAM(EN_VM_BIND)).
 */
struct shim_vm {
	uint32_t id; /* xe vm_id; 0 for nouveau */
	uint64_t g;  /* process-wide name: vm<g> */
	uint64_t start, range;
	struct gpuvm_bind_vm *vm;
};

/* One xe exec queue or msm submit queue. */
struct shim_queue {
	uint32_t id;
	uint32_t vm_id;
	uint16_t engine_class;
};

/*
 * One syncobj. Every fence the shim creates is signalled at once (binds are
 * synchronous), so the state is: no fence, or a signalled fence that is a
 * timeline chain up to @point (0: a plain binary fence).
 */
struct shim_syncobj {
	uint32_t handle;
	bool fence;
	uint64_t point;
	uint64_t serial; /* process-wide, never reused: tells a reused handle */
};

/* A dynamic array of @elsz-byte elements. */
struct shim_arr {
	void *v;
	size_t n, cap;
};

/* One open emulated render node. */
struct shim_file {
	int fd;
	dev_t st_dev; /* identity of the backing memfd, to spot a stale fd number */
	ino_t st_ino;
	pid_t pid;    /* the process that opened it (fork: the child's copy is silent) */
	uint32_t driver;
	struct gpuvm_bind_dev *dev;
	struct shim_arr bos;	  /* struct shim_bo */
	struct shim_arr vms;	  /* struct shim_vm */
	struct shim_arr queues;	  /* struct shim_queue */
	struct shim_arr syncobjs; /* struct shim_syncobj */
	struct shim_arr bo_g;	  /* uint64_t: process-wide bo<G> of device seqno i + 1 */
	bool nv_uvmm_disabled;	  /* nouveau: a BO came before VM_INIT */
	unsigned int users;	  /* ioctls in flight */
	bool closed;
	struct shim_file *next;
};

extern pthread_mutex_t shim_lock;
extern pthread_cond_t shim_cond; /* broadcast on every syncobj change */

/* Process-wide names (contract): bo<G> and vm<G>, 1-based, creation order. */
extern uint64_t shim_next_bo_g;
extern uint64_t shim_next_vm_g;

/* ---- arrays ---- */
void *shim_arr_push(struct shim_arr *a, size_t elsz);
void shim_arr_del(struct shim_arr *a, size_t elsz, size_t i);
void shim_arr_free(struct shim_arr *a);
#define SHIM_AT(a, type, i) (&((type *)(a)->v)[i])

/* ---- objects of a file (shim_lock held) ---- */
struct shim_bo *shim_bo_find(struct shim_file *f, uint32_t handle);
int shim_bo_new(struct shim_file *f, uint64_t size, uint32_t domain, uint32_t *handle);
struct shim_vm *shim_vm_find(struct shim_file *f, uint32_t id);
/* The file's exec (xe) or submit (msm) queue @id, or NULL. */
struct shim_queue *shim_queue_find(struct shim_file *f, uint32_t id);
int shim_vm_new(struct shim_file *f, uint32_t id, uint64_t start, uint64_t range,
		uint64_t reserve_addr, uint64_t reserve_range, struct shim_vm **out);
void shim_vm_drop(struct shim_file *f, struct shim_vm *v, bool dump);
uint32_t shim_lowest_free_id(const struct shim_arr *a, size_t elsz, size_t id_off);

/* ---- syncobjs ---- */
struct shim_syncobj *shim_syncobj_find(struct shim_file *f, uint32_t handle);
int shim_syncs_check(struct shim_file *f, const struct gpuvm_bind_batch *batch);
void shim_syncs_signal(struct shim_file *f, const struct gpuvm_bind_batch *batch);

/* Apply a decoded batch: syncs checked, ops applied, signals signalled. */
int shim_bind_apply(struct shim_file *f, struct shim_vm *v, const struct gpuvm_bind_batch *batch);
/* Decode a VM_BIND payload (already copied in, kernel-sized) into @batch. */
int shim_bind_decode(uint32_t driver, unsigned long request, const void *arg,
		     struct gpuvm_bind_batch **batch, uint32_t *vm_id);

/* ---- dump (GPUVM_DRMSHIM_DUMP) ---- */
void shim_dump_vm(struct shim_file *f, struct shim_vm *v);

/* ---- ioctls (shim_lock held; @arg is the kernel copy, zero-extended) ---- */
typedef int (*shim_ioctl_fn)(struct shim_file *f, void *arg);

struct shim_ioctl {
	uint32_t nr;
	uint32_t dir;  /* GPUVM_ABI_IOC_* as the kernel declares it */
	uint32_t size; /* the kernel's argument size */
	shim_ioctl_fn fn;
};

const struct shim_ioctl *shim_xe_ioctl(uint32_t nr);
const struct shim_ioctl *shim_nouveau_ioctl(uint32_t nr);
const struct shim_ioctl *shim_panthor_ioctl(uint32_t nr);
const struct shim_ioctl *shim_msm_ioctl(uint32_t nr);
void shim_xe_version(int32_t v[3], const char **name, const char **desc);
void shim_nouveau_version(int32_t v[3], const char **name, const char **desc);
void shim_panthor_version(int32_t v[3], const char **name, const char **desc);
void shim_msm_version(int32_t v[3], const char **name, const char **desc);

int shim_dispatch(struct shim_file *f, unsigned long request, void *uarg);

/* copy_from_user/copy_to_user: 0, or -EFAULT for memory the process cannot access */
int shim_copy_from_user(void *dst, uint64_t uptr, size_t len);
int shim_copy_to_user(uint64_t uptr, const void *src, size_t len);

/* Real libc functions, found with dlsym(RTLD_NEXT). */
int shim_real_open(const char *path, int flags, mode_t mode);
int shim_real_close(int fd);

#endif /* GPUVM_DRMSHIM_H */
