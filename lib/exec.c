/* SPDX-License-Identifier: MIT */
/*
 * gpuvm_exec: lock many reservations without deadlock, by trylock and
 * back-off (include/gpuvm/exec.h says why not wound/wait).
 *
 * One locking call is a loop of attempts. An attempt starts holding
 * nothing, takes its first reservation blocking (the one found busy last
 * time, if any, else the VM's), and only tries every other one. A busy one
 * ends the attempt: it is remembered (with a reference on its object),
 * everything taken is released, and the next attempt starts by waiting for
 * it. So a thread waits for a reservation only while it holds none, and no
 * cycle of waiters can form.
 *
 * The locked set is an array of (object, reservation) in lock order, with an
 * open-addressing hash of the reservations next to it, so that duplicates
 * (the same object twice, objects sharing a reservation, every mapping of
 * one object in a range) are found in O(1). All of it is one allocation
 * from the VM's allocator, grown by doubling and kept until
 * gpuvm_exec_fini(), so that a lock/unlock cycle after the first allocates
 * nothing.
 */
#include "internal.h"
#include "sm.h"

#include <gpuvm/exec.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXEC_KNOWN_FLAGS (GPUVM_EXEC_TRYLOCK)
#define EXEC_MIN_CAP 8u
/* keeps every size computation below far from overflowing */
#define EXEC_MAX_CAP (1u << 28)

enum exec_state {
	EXEC_IDLE,
	EXEC_LOCKING, /* an attempt runs; the extra callback may add objects */
	EXEC_LOCKED,
	/* EXEC_LOCKING, and the attempt locked every external object */
	EXEC_LOCKING_EXTOBJS,
};

/* What a top-level locking call locks besides the VM's reservation. */
struct exec_req {
	bool extobjs;
	struct gpuvm_gem *const *objs;
	unsigned int num_objs;
	bool range;
	uint64_t addr, size;
	const struct gpuva_op_map *map;
};

/* ---- the locked set ---- */

static size_t set_bytes(unsigned int cap)
{
	/* objects[cap], resvs[cap], then 2 * cap hash slots */
	return (size_t)cap * (sizeof(struct gpuvm_gem *) + sizeof(struct gpuvm_resv *)) +
	       (size_t)cap * 2 * sizeof(uint32_t);
}

static uint32_t slot_hash(const struct gpuvm_resv *resv, unsigned int cap)
{
	uint64_t h = (uint64_t)(uintptr_t)resv;

	/* reservations are at least pointer aligned: the low bits carry nothing */
	h = (h >> 3) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & (2 * cap - 1);
}

static bool set_has(const struct gpuvm_exec *exec, const struct gpuvm_resv *resv)
{
	uint32_t i, mask = 2 * exec->cap_ - 1;

	if (!exec->cap_)
		return false;
	for (i = slot_hash(resv, exec->cap_); exec->slots_[i]; i = (i + 1) & mask)
		if (exec->resvs_[exec->slots_[i] - 1] == resv)
			return true;
	return false;
}

/* Append a locked entry; the caller made sure there is room and it is new. */
static void set_append(struct gpuvm_exec *exec, struct gpuvm_gem *obj, struct gpuvm_resv *resv)
{
	uint32_t i, mask = 2 * exec->cap_ - 1;
	unsigned int n = exec->num_objects;

	exec->objects[n] = obj;
	exec->resvs_[n] = resv;
	for (i = slot_hash(resv, exec->cap_); exec->slots_[i]; i = (i + 1) & mask)
		;
	exec->slots_[i] = n + 1;
	exec->num_objects = n + 1;
}

/*
 * Double the storage. Entries and their locks carry over; on failure nothing
 * changes. Never called with a VM list mutex held: the fence-signalling path
 * takes those, and must not wait for an allocation.
 */
static int set_grow(struct gpuvm_exec *exec)
{
	const struct gpuvm_allocator *a = &exec->vm->alloc;
	unsigned int cap = exec->cap_ ? exec->cap_ * 2 : EXEC_MIN_CAP;
	unsigned int n = exec->num_objects;
	struct gpuvm_gem **objects;
	unsigned int i;
	char *p;

	if (cap > EXEC_MAX_CAP || cap > SIZE_MAX / set_bytes(1))
		return -ENOMEM;
	p = gpuvm__zalloc(a, set_bytes(cap), _Alignof(void *));
	if (!p)
		return -ENOMEM;
	objects = (struct gpuvm_gem **)(void *)p;
	if (n) {
		memcpy(objects, exec->objects, n * sizeof(*objects));
		memcpy(p + cap * sizeof(*objects), exec->resvs_, n * sizeof(*exec->resvs_));
	}
	gpuvm__free(a, exec->objects, set_bytes(exec->cap_));
	exec->objects = objects;
	exec->resvs_ = (struct gpuvm_resv **)(void *)(p + cap * sizeof(*objects));
	exec->slots_ = (uint32_t *)(void *)(p + cap * (sizeof(*objects) + sizeof(*exec->resvs_)));
	exec->cap_ = cap;
	exec->num_objects = 0;
	for (i = 0; i < n; i++)
		set_append(exec, exec->objects[i], exec->resvs_[i]);
	return 0;
}

/* Release every entry, last locked first, and drop the references. */
static void set_release(struct gpuvm_exec *exec)
{
	unsigned int i = exec->num_objects;

	if (!i)
		return;
	while (i--) {
		/* cannot fail: this thread locked it and nobody else may unlock it */
		(void)gpuvm_resv_unlock(exec->resvs_[i]);
		/* after the unlock: the put may free the object and its reservation */
		gpuvm_gem_put(exec->objects[i]);
	}
	exec->num_objects = 0;
	memset(exec->slots_, 0, (size_t)exec->cap_ * 2 * sizeof(uint32_t));
}

/* ---- adding objects within an attempt ---- */

/*
 * Lock @obj's reservation into the set unless it is there already or there
 * is none. @ref: the caller passes its reference on @obj to the set (the
 * contended object does); otherwise the set takes its own.
 *
 * Blocks only for the first entry of an attempt, i.e. holding nothing. A busy
 * reservation becomes the contended object and gives -EDEADLK, which every
 * caller returns up to the attempt loop. @under_mutex: the caller holds a VM
 * list mutex and made sure there is room: neither allocate nor block, even
 * for a first entry (a VM without a reservation), since the holder of the
 * reservation may be waiting for that mutex.
 */
static int exec_add(struct gpuvm_exec *exec, struct gpuvm_gem *obj, bool ref, bool under_mutex)
{
	struct gpuvm_resv *resv = obj->resv;
	int ret;

	if (!resv || set_has(exec, resv)) {
		ret = 0;
		goto drop;
	}
	/*
	 * Held by this thread outside the set: waiting for it would never end.
	 * Checked before the set grows, so that a call refused at its first
	 * object allocates nothing.
	 */
	if (gpuvm_resv_held(resv)) {
		ret = -EALREADY;
		goto drop;
	}
	if (exec->num_objects == exec->cap_) {
		ret = under_mutex ? -ENOMEM : set_grow(exec);
		if (ret)
			goto drop;
	}
	if (exec->num_objects == 0 && !under_mutex && !(exec->flags & GPUVM_EXEC_TRYLOCK))
		ret = gpuvm_resv_lock(resv);
	else
		ret = gpuvm_resv_trylock(resv);
	switch (ret) {
	case 0:
		set_append(exec, ref ? obj : gpuvm_gem_get(obj), resv);
		return 0;
	case -EBUSY:
		/*
		 * Every caller stops at the first -EDEADLK. An extra callback
		 * that ignores it and meets another busy object keeps the first
		 * one: no reference is dropped here, where a list mutex may be
		 * held and a put could free the object (the attempt is lost
		 * anyway). @ref is only set for the attempt's first entry, so it
		 * cannot meet a recorded one.
		 */
		if (!exec->contended_) {
			exec->contended_ = ref ? obj : gpuvm_gem_get(obj);
			return -EDEADLK;
		}
		ret = -EDEADLK;
		break;
	case -EDEADLK:
		/*
		 * Not from the library's own tracking (checked above), so from a
		 * caller's lock callback: still "do not wait", and -EDEADLK is
		 * reserved for contention inside gpuvm_exec.
		 */
		ret = -EALREADY;
		break;
	default:
		break;
	}
drop:
	if (ref)
		gpuvm_gem_put(obj);
	return ret;
}

/*
 * Every external object. Without RESV_PROTECTED the list is read under the
 * VM's walk and list mutexes: the walk mutex keeps other walkers (which park
 * entries on private lists) out, the list mutex keeps puts and adds out. No
 * vm_bo reference is taken, so none has to be dropped (a last put would need
 * the object's reservation, which a busy object's is not); the object
 * reference the set takes keeps the object. Only trylocks happen under the
 * mutexes, and growing the set means dropping them and starting over (the
 * set skips what it holds already).
 *
 * With RESV_PROTECTED the VM's reservation, which the attempt took first,
 * protects the lists; evicted external objects, which gpuvm_bo_evict() could
 * only flag, go on the evict list once the attempt succeeded
 * (exec_list_evicted()).
 */
static int exec_prepare_objects(struct gpuvm_exec *exec)
{
	struct gpuvm *vm = exec->vm;
	const bool prot = gpuvm_resv_protected(vm);
	struct gpuvm_bo *vm_bo;
	bool grow;
	int ret;

	if (prot && !gpuvm_resv_held(gpuvm_resv(vm)))
		return -EPERM; /* cannot happen: every locking call takes it first */
again:
	grow = false;
	ret = 0;
	if (!prot) {
		pthread_mutex_lock(&vm->extobj.walk_);
		pthread_mutex_lock(&vm->extobj.lock);
	}
	gpuvm_list_for_each_entry(vm_bo, &vm->extobj.list, struct gpuvm_bo, list.entry.extobj) {
		struct gpuvm_gem *obj = vm_bo->obj;

		/* a zombie's last put waits for the list: it is as good as gone */
		if (gpuvm_bo_is_zombie(vm_bo))
			continue;
		if (obj->resv && !set_has(exec, obj->resv)) {
			if (exec->num_objects == exec->cap_) {
				grow = true;
				break;
			}
			ret = exec_add(exec, obj, false, true);
			if (ret)
				break;
		}
	}
	if (!prot) {
		pthread_mutex_unlock(&vm->extobj.lock);
		pthread_mutex_unlock(&vm->extobj.walk_);
	}
	if (grow) {
		ret = set_grow(exec);
		if (!ret)
			goto again;
	}
	if (!ret)
		exec->state_ = EXEC_LOCKING_EXTOBJS;
	return ret;
}

/*
 * RESV_PROTECTED, after an attempt that locked every external object
 * succeeded: put the evicted ones on the evict list, which gpuvm_bo_evict()
 * could not touch without the VM's reservation (the kernel does this while
 * it prepares the objects). Only now, so that a locking call that fails
 * leaves the lists as they were. Cannot fail.
 */
static void exec_list_evicted(struct gpuvm_exec *exec)
{
	struct gpuvm *vm = exec->vm;
	struct gpuvm_bo *vm_bo;

	if (!gpuvm_resv_protected(vm))
		return;
	gpuvm_list_for_each_entry(vm_bo, &vm->extobj.list, struct gpuvm_bo, list.entry.extobj) {
		if (gpuvm_bo_is_zombie(vm_bo) || !gpuvm_bo_evicted(vm_bo))
			continue;
		/*
		 * An object without a reservation is external too and was only
		 * flagged: listed as well, or gpuvm_validate() never sees it.
		 */
		if (!vm_bo->obj->resv || set_has(exec, vm_bo->obj->resv))
			gpuvm__bo_list_add(vm_bo, GPUVM__LIST_EVICT);
	}
}

static int exec_prepare_array(struct gpuvm_exec *exec, struct gpuvm_gem *const *objs,
			      unsigned int n)
{
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		ret = exec_add(exec, objs[i], false, false);
		if (ret)
			return ret;
	}
	return 0;
}

static int exec_prepare_range(struct gpuvm_exec *exec, uint64_t addr, uint64_t range)
{
	struct gpuva *va;
	int ret;

	/* gpuvm_range_valid() was checked: addr + range does not wrap to 0 */
	gpuvm_for_each_va_range(va, exec->vm, addr, addr + range) {
		struct gpuvm_gem *obj = gpuva_gem(va);

		if (!obj)
			continue;
		ret = exec_add(exec, obj, false, false);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The map request's objects come from the split/merge walker itself, so the
 * set is exactly what gpuvm_sm_map() will hand to the driver: the object of
 * every mapping it unmaps or splits, and the request's own.
 */
static int lock_step(struct gpuva_op *op, void *priv)
{
	struct gpuvm_exec *exec = priv;
	struct gpuvm_gem *obj = NULL;

	switch (op->op) {
	case GPUVA_OP_MAP:
		obj = op->map.gem.obj;
		break;
	case GPUVA_OP_REMAP:
		obj = gpuva_gem(op->remap.unmap->va);
		break;
	case GPUVA_OP_UNMAP:
		obj = gpuva_gem(op->unmap.va);
		break;
	default:
		break;
	}
	return obj ? exec_add(exec, obj, false, false) : 0;
}

static const struct gpuvm_ops lock_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_map = lock_step,
	.sm_step_remap = lock_step,
	.sm_step_unmap = lock_step,
};

static int exec_prepare_sm_map(struct gpuvm_exec *exec, const struct gpuva_op_map *map)
{
	return gpuvm__sm_walk(exec->vm, &lock_ops, exec, GPUVM__SM_MAP, map);
}

/* The checks gpuvm_sm_map() makes of a request (lib/ops.c), without the ops table's. */
/* ---- the attempt loop ---- */

static int exec_attempt(struct gpuvm_exec *exec, const struct exec_req *req)
{
	struct gpuvm_gem *contended = exec->contended_;
	int ret;

	if (contended) {
		/* first, and so blocking: wait for what stopped the last attempt */
		exec->contended_ = NULL;
		ret = exec_add(exec, contended, true, false);
		if (ret)
			return ret;
	}
	/* the VM's reservation protects the lists and (usually) the tree read next */
	if (exec->vm->r_obj) {
		ret = exec_add(exec, exec->vm->r_obj, false, false);
		if (ret)
			return ret;
	}
	if (req->extobjs) {
		ret = exec_prepare_objects(exec);
		if (ret)
			return ret;
	}
	if (req->num_objs) {
		ret = exec_prepare_array(exec, req->objs, req->num_objs);
		if (ret)
			return ret;
	}
	if (req->range) {
		ret = exec_prepare_range(exec, req->addr, req->size);
		if (ret)
			return ret;
	}
	if (req->map) {
		ret = exec_prepare_sm_map(exec, req->map);
		if (ret)
			return ret;
	}
	if (exec->extra) {
		ret = exec->extra(exec, exec->priv);
		/* a callback that swallowed -EDEADLK still lost the attempt */
		if (!ret && exec->contended_)
			ret = -EDEADLK;
		return ret;
	}
	return 0;
}

static int exec_run(struct gpuvm_exec *exec, const struct exec_req *req)
{
	int ret;

	if (exec->state_ != EXEC_IDLE)
		return -EBUSY;
	for (;;) {
		exec->state_ = EXEC_LOCKING;
		ret = exec_attempt(exec, req);
		if (!ret) {
			if (exec->state_ == EXEC_LOCKING_EXTOBJS)
				exec_list_evicted(exec);
			exec->state_ = EXEC_LOCKED;
			return 0;
		}
		set_release(exec);
		exec->state_ = EXEC_IDLE;
		if (ret != -EDEADLK || !exec->contended_)
			break;
		if (exec->flags & GPUVM_EXEC_TRYLOCK) {
			ret = -EAGAIN;
			break;
		}
		exec->backoffs++;
	}
	/* an error other than contention: nothing is locked or referenced */
	if (exec->contended_) {
		gpuvm_gem_put(exec->contended_);
		exec->contended_ = NULL;
	}
	return ret;
}

/* ---- the API ---- */

int gpuvm_exec_init(struct gpuvm_exec *exec, const struct gpuvm_exec_opts *opts)
{
	if (!exec || !opts || !gpuvm__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	if (!opts->vm || (opts->flags & ~(uint32_t)EXEC_KNOWN_FLAGS))
		return -EINVAL;
	memset(exec, 0, sizeof(*exec));
	exec->vm = opts->vm;
	exec->flags = opts->flags;
	exec->extra = opts->extra;
	exec->priv = opts->priv;
	exec->state_ = EXEC_IDLE;
	return 0;
}

int gpuvm_exec_fini(struct gpuvm_exec *exec)
{
	GPUVM__MAY_BLOCK("gpuvm_exec_fini", "it frees memory");
	if (!exec)
		return -EINVAL;
	if (exec->state_ != EXEC_IDLE)
		return -EBUSY;
	if (exec->cap_)
		gpuvm__free(&exec->vm->alloc, exec->objects, set_bytes(exec->cap_));
	exec->objects = NULL;
	exec->resvs_ = NULL;
	exec->slots_ = NULL;
	exec->cap_ = 0;
	exec->num_objects = 0;
	return 0;
}

#define EXEC_RULE "it blocks on reservations and allocates"

/* -EINVAL for an exec that was never initialized (or NULL) */
static bool exec_usable(const struct gpuvm_exec *exec)
{
	return exec && exec->vm;
}

int gpuvm_exec_lock(struct gpuvm_exec *exec)
{
	const struct exec_req req = { .extobjs = true };

	GPUVM__MAY_BLOCK("gpuvm_exec_lock", EXEC_RULE);
	if (!exec_usable(exec))
		return -EINVAL;
	return exec_run(exec, &req);
}

int gpuvm_exec_lock_array(struct gpuvm_exec *exec, struct gpuvm_gem *const *objs,
			  unsigned int num_objs)
{
	const struct exec_req req = { .extobjs = true, .objs = objs, .num_objs = num_objs };

	GPUVM__MAY_BLOCK("gpuvm_exec_lock_array", EXEC_RULE);
	if (!exec_usable(exec) || (num_objs && !objs))
		return -EINVAL;
	for (unsigned int i = 0; i < num_objs; i++)
		if (!objs[i])
			return -EINVAL;
	return exec_run(exec, &req);
}

int gpuvm_exec_lock_range(struct gpuvm_exec *exec, uint64_t addr, uint64_t range)
{
	const struct exec_req req = { .range = true, .addr = addr, .size = range };

	GPUVM__MAY_BLOCK("gpuvm_exec_lock_range", EXEC_RULE);
	if (!exec_usable(exec) || !gpuvm_range_valid(exec->vm, addr, range))
		return -EINVAL;
	return exec_run(exec, &req);
}

int gpuvm_sm_map_exec_lock(struct gpuvm_exec *exec, const struct gpuvm_map_req *req)
{
	struct exec_req r = { .extobjs = false };
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_sm_map_exec_lock", EXEC_RULE);
	if (!exec_usable(exec))
		return -EINVAL;
	ret = gpuvm__check_map_req(exec->vm, req);
	if (ret)
		return ret;
	r.map = &req->map;
	return exec_run(exec, &r);
}

void gpuvm_exec_unlock(struct gpuvm_exec *exec)
{
	if (!exec || exec->state_ != EXEC_LOCKED)
		return;
	if (exec->num_objects) {
		GPUVM__MAY_BLOCK("gpuvm_exec_unlock",
				 "it drops object references, which may free a buffer object");
		/*
		 * Another thread's unlocks would all fail, and the set would be
		 * forgotten while still locked: leave it to the thread that locked.
		 */
		if (!gpuvm_resv_held(exec->resvs_[0])) {
#ifdef GPUVM_DEBUG
			fputs("libgpuvm: gpuvm_exec_unlock() called by a thread that did not "
			      "lock\n", stderr);
			abort();
#else
			return;
#endif
		}
	}
	set_release(exec);
	exec->state_ = EXEC_IDLE;
}

/* The helpers of the extra callback: only while an attempt runs. */
static bool in_attempt(const struct gpuvm_exec *exec)
{
	return exec_usable(exec) &&
	       (exec->state_ == EXEC_LOCKING || exec->state_ == EXEC_LOCKING_EXTOBJS);
}

int gpuvm_exec_lock_obj(struct gpuvm_exec *exec, struct gpuvm_gem *obj)
{
	if (!in_attempt(exec) || !obj)
		return -EINVAL;
	return exec_add(exec, obj, false, false);
}

int gpuvm_prepare_objects(struct gpuvm_exec *exec)
{
	if (!in_attempt(exec))
		return -EINVAL;
	return exec_prepare_objects(exec);
}

int gpuvm_prepare_range(struct gpuvm_exec *exec, uint64_t addr, uint64_t range)
{
	if (!in_attempt(exec) || !gpuvm_range_valid(exec->vm, addr, range))
		return -EINVAL;
	return exec_prepare_range(exec, addr, range);
}

int gpuvm_prepare_sm_map(struct gpuvm_exec *exec, const struct gpuvm_map_req *req)
{
	int ret;

	if (!in_attempt(exec))
		return -EINVAL;
	ret = gpuvm__check_map_req(exec->vm, req);
	if (ret)
		return ret;
	return exec_prepare_sm_map(exec, &req->map);
}
