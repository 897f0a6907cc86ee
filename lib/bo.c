/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm_gem and struct gpuvm_bo: references, create/find/obtain/put,
 * the deferred release of immediate mode, the VM's extobj and evict lists
 * and the walks over them, validation and the deferred cleanup.
 *
 * The life of a vm_bo in immediate mode:
 *
 *   gpuvm_bo_create()           allocated, on no list, 1 reference
 *   gpuvm_bo_obtain_prealloc()  on the gem's list (under the gpuva lock)
 *   gpuva_link() ...            one reference per linked mapping
 *   gpuva_unlink_defer() ...    the last reference goes under the gpuva lock:
 *                               off the gem's list -> a zombie (count 0),
 *                               pushed on the VM's deferred stack
 *   gpuvm_bo_deferred_cleanup() off extobj/evict (RESV_PROTECTED), freed,
 *                               VM and gem references dropped
 *
 * A zombie is never found again: find/obtain look at the gem's list, which
 * it left in the same critical section that took its count to zero, and
 * every walk of extobj/evict takes references with get-unless-zero.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- debug checks of the caller's locking ---- */

#ifdef GPUVM_DEBUG
/* @what was done without @lock: print "libgpuvm: <what> without <lock>" and abort. */
__attribute__((noreturn, cold)) static void lock_violation(const char *what, const char *lock)
{
	fprintf(stderr, "libgpuvm: %s without %s\n", what, lock);
	abort();
}

/* In immediate mode the gem's list is the gpuva lock's: the kernel asserts it too. */
static void assert_gem_list_locked(const struct gpuvm *vm, const struct gpuvm_gem *obj,
				   const char *call)
{
	if (gpuvm_immediate_mode(vm) && !gpuvm_gem_gpuva_lock_held(obj))
		lock_violation(call, "the gem's gpuva lock, which protects the gem's vm_bo list "
				     "in immediate mode");
}
#else
#define assert_gem_list_locked(vm, obj, call) ((void)0)
#endif

/* ---- struct gpuvm_gem ---- */

int gpuvm_gem_init(struct gpuvm_gem *obj, const struct gpuvm_gem_opts *opts)
{
	int ret;

	if (!obj || !opts || !gpuvm__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	if (opts->funcs && !opts->funcs->gpuva_lock != !opts->funcs->gpuva_unlock)
		return -EINVAL;
	memset(obj, 0, sizeof(*obj));
	ret = pthread_mutex_init(&obj->gpuva.lock, NULL);
	if (ret)
		return -ret;
	obj->size = opts->size;
	obj->refcount = 1;
	obj->funcs = opts->funcs;
	obj->resv = opts->resv;
	gpuvm_list_init(&obj->gpuva.list);
	return 0;
}

int gpuvm_gem_fini(struct gpuvm_gem *obj)
{
	if (!obj)
		return -EINVAL;
	if (!gpuvm_list_empty(&obj->gpuva.list) ||
	    __atomic_load_n(&obj->gpuva.held_, __ATOMIC_ACQUIRE))
		return -EBUSY;
	pthread_mutex_destroy(&obj->gpuva.lock);
	return 0;
}

struct gpuvm_gem *gpuvm_gem_get(struct gpuvm_gem *obj)
{
	if (obj)
		__atomic_fetch_add(&obj->refcount, 1, __ATOMIC_RELAXED);
	return obj;
}

#ifdef GPUVM_DEBUG
/*
 * A put on a count that is already 0: the object was released (a vm_bo may
 * be a zombie waiting for the cleanup, or freed). Release builds cannot
 * tell that from a live count without a branch on every put; debug builds
 * stop here, naming the object, before the count wraps and the object is
 * released twice.
 */
__attribute__((noreturn, cold)) static void put_below_zero(const char *call, const char *what,
							   const void *obj, const struct gpuvm *vm)
{
	if (vm)
		fprintf(stderr, "libgpuvm: %s() on %s %p of VM '%s' without references\n", call,
			what, obj, vm->name ? vm->name : "");
	else
		fprintf(stderr, "libgpuvm: %s() on %s %p without references\n", call, what, obj);
	abort();
}
#endif

/* Drop one reference of *@count; true when it was the last. */
static inline bool put_ref(unsigned int *count, const char *call, const char *what,
			   const void *obj, const struct gpuvm *vm)
{
#ifdef GPUVM_DEBUG
	unsigned int old = __atomic_fetch_sub(count, 1, __ATOMIC_ACQ_REL);

	if (!old)
		put_below_zero(call, what, obj, vm);
	return old == 1;
#else
	(void)call, (void)what, (void)obj, (void)vm;
	return __atomic_sub_fetch(count, 1, __ATOMIC_ACQ_REL) == 0;
#endif
}

void gpuvm_gem_put(struct gpuvm_gem *obj)
{
	GPUVM__MAY_BLOCK("gpuvm_gem_put", "it may free a buffer object");
	if (!obj || !put_ref(&obj->refcount, "gpuvm_gem_put", "gem", obj, NULL))
		return;
	if (obj->funcs && obj->funcs->free)
		obj->funcs->free(obj);
	else
		gpuvm_gem_fini(obj);
}

/* ---- the VM's extobj and evict lists ---- */

static struct gpuvm_list *vm_list(struct gpuvm *vm, enum gpuvm__bo_list which)
{
	return which == GPUVM__LIST_EXTOBJ ? &vm->extobj.list : &vm->evict.list;
}

static pthread_mutex_t *vm_list_lock(struct gpuvm *vm, enum gpuvm__bo_list which)
{
	return which == GPUVM__LIST_EXTOBJ ? &vm->extobj.lock : &vm->evict.lock;
}

static pthread_mutex_t *vm_list_walk(struct gpuvm *vm, enum gpuvm__bo_list which)
{
	return which == GPUVM__LIST_EXTOBJ ? &vm->extobj.walk_ : &vm->evict.walk_;
}

static struct gpuvm_list *bo_entry(struct gpuvm_bo *vm_bo, enum gpuvm__bo_list which)
{
	return which == GPUVM__LIST_EXTOBJ ? &vm_bo->list.entry.extobj : &vm_bo->list.entry.evict;
}

static struct gpuvm_bo *entry_bo(struct gpuvm_list *e, enum gpuvm__bo_list which)
{
	if (which == GPUVM__LIST_EXTOBJ)
		return gpuvm__list_entry(e, struct gpuvm_bo, list.entry.extobj);
	return gpuvm__list_entry(e, struct gpuvm_bo, list.entry.evict);
}

/*
 * Without RESV_PROTECTED the lists have internal mutexes; with it the
 * caller holds the VM's reservation (checked by the public entry points,
 * asserted here in debug builds).
 */
static bool list_lock(struct gpuvm *vm, enum gpuvm__bo_list which)
{
	if (gpuvm_resv_protected(vm)) {
#ifdef GPUVM_DEBUG
		if (!gpuvm_resv_held(gpuvm_resv(vm)))
			lock_violation(which == GPUVM__LIST_EXTOBJ ? "the extobj list changed"
								   : "the evict list changed",
				       "the VM's reservation (GPUVM_RESV_PROTECTED)");
#endif
		return false;
	}
	pthread_mutex_lock(vm_list_lock(vm, which));
	return true;
}

static void list_unlock(struct gpuvm *vm, enum gpuvm__bo_list which, bool locked)
{
	if (locked)
		pthread_mutex_unlock(vm_list_lock(vm, which));
}

void gpuvm__bo_list_add(struct gpuvm_bo *vm_bo, enum gpuvm__bo_list which)
{
	struct gpuvm *vm = vm_bo->vm;
	bool locked = list_lock(vm, which);

	/* linked covers a walker's private list too: the entry goes back from there */
	if (!gpuvm_list_linked(bo_entry(vm_bo, which))) {
		gpuvm_list_add_tail(bo_entry(vm_bo, which), vm_list(vm, which));
		vm_bo->listed_ = true;
	}
	list_unlock(vm, which, locked);
}

void gpuvm__bo_list_del(struct gpuvm_bo *vm_bo, enum gpuvm__bo_list which)
{
	struct gpuvm *vm = vm_bo->vm;
	bool locked = list_lock(vm, which);

	if (gpuvm_list_linked(bo_entry(vm_bo, which)))
		gpuvm_list_del(bo_entry(vm_bo, which));
	list_unlock(vm, which, locked);
}

/* ---- references ---- */

struct gpuvm_bo *gpuvm_bo_get(struct gpuvm_bo *vm_bo)
{
	unsigned int old;

	if (!vm_bo)
		return NULL;
	old = __atomic_fetch_add(&vm_bo->refcount, 1, __ATOMIC_RELAXED);
#ifdef GPUVM_DEBUG
	if (!old) {
		fprintf(stderr,
			"libgpuvm: gpuvm_bo_get() on vm_bo %p of VM '%s' without references "
			"(a zombie)\n",
			(void *)vm_bo, vm_bo->vm && vm_bo->vm->name ? vm_bo->vm->name : "");
		abort();
	}
#else
	(void)old;
#endif
	return vm_bo;
}

bool gpuvm__bo_get_unless_zero(struct gpuvm_bo *vm_bo)
{
	unsigned int old = __atomic_load_n(&vm_bo->refcount, __ATOMIC_RELAXED);

	do {
		if (!old)
			return false;
	} while (!__atomic_compare_exchange_n(&vm_bo->refcount, &old, old + 1, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

/* Drop a reference unless it is the last one (kref_put_mutex's fast path). */
static bool put_unless_last(struct gpuvm_bo *vm_bo)
{
	unsigned int old = __atomic_load_n(&vm_bo->refcount, __ATOMIC_RELAXED);

	do {
		if (old <= 1)
			return false;
	} while (!__atomic_compare_exchange_n(&vm_bo->refcount, &old, old - 1, true,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	return true;
}

/* Free a vm_bo that is on no list and drop its references (it may free the VM and the gem). */
static void bo_free(struct gpuvm_bo *vm_bo)
{
	struct gpuvm *vm = vm_bo->vm;
	struct gpuvm_gem *obj = vm_bo->obj;

	if (vm->ops && vm->ops->vm_bo_free)
		vm->ops->vm_bo_free(vm_bo);
	else
		gpuvm__free(&vm->alloc, vm_bo, sizeof(*vm_bo));
	/*
	 * Drop the VM's reference before the object's (the kernel's order too):
	 * the VM's vm_free callback may still use this object, e.g. as r_obj.
	 */
	gpuvm_put(vm);
	gpuvm_gem_put(obj);
}

/* The last reference of gpuvm_bo_put(): unlink from everything, then free. */
static void bo_destroy(struct gpuvm_bo *vm_bo)
{
	struct gpuvm *vm = vm_bo->vm;

#ifdef GPUVM_DEBUG
	/* only a vm_bo that is on a list needs the lock of that list */
	if (gpuvm_resv_protected(vm) && !gpuvm_resv_held(gpuvm_resv(vm)) &&
	    (gpuvm_list_linked(&vm_bo->list.entry.extobj) ||
	     gpuvm_list_linked(&vm_bo->list.entry.evict)))
		lock_violation("gpuvm_bo_put() called",
			       "the VM's reservation, which protects the extobj and evict lists "
			       "with GPUVM_RESV_PROTECTED");
#endif
	if (gpuvm_resv_protected(vm)) {
		if (gpuvm_list_linked(&vm_bo->list.entry.extobj) ||
		    gpuvm_list_linked(&vm_bo->list.entry.evict)) {
			gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EXTOBJ);
			gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EVICT);
		}
	} else if (vm_bo->listed_) { /* see bo_into_zombie() */
		gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EXTOBJ);
		gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EVICT);
	}
	if (gpuvm_list_linked(&vm_bo->list.entry.gem)) {
		assert_gem_list_locked(vm, vm_bo->obj,
				       "gpuvm_bo_put() dropped the last reference");
		gpuvm_list_del(&vm_bo->list.entry.gem);
	}
	bo_free(vm_bo);
}

bool gpuvm_bo_put(struct gpuvm_bo *vm_bo)
{
	GPUVM__MAY_BLOCK("gpuvm_bo_put", "it may free a buffer object");
	if (!vm_bo || !put_ref(&vm_bo->refcount, "gpuvm_bo_put", "vm_bo", vm_bo, vm_bo->vm))
		return false;
	bo_destroy(vm_bo);
	return true;
}

/*
 * The last reference went on the deferred path, under the gem's gpuva lock:
 * the vm_bo leaves the gem's list now, so no lookup can find it again. The
 * extobj and evict lists are left now too when their internal mutexes
 * protect them (order: gpuva lock, then list mutex); with RESV_PROTECTED they
 * need the VM's reservation, which the signalling path cannot take, so the
 * zombie stays there and the cleanup removes it.
 */
static void bo_into_zombie(struct gpuvm_bo *vm_bo)
{
	/*
	 * listed_ was set under the list lock by someone who held a reference
	 * (or the gem's list lock, which this path holds too) before that
	 * reference was dropped, so it is visible here, after the last one
	 * went. Never listed: nothing to take off, and no VM-wide mutex to
	 * share with the other threads on the signalling path. With
	 * RESV_PROTECTED the flag is not read at all: gpuvm_exec_lock() lists
	 * evicted extobjs under the VM's reservation without a reference.
	 */
	if (!gpuvm_resv_protected(vm_bo->vm) && vm_bo->listed_) {
		gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EXTOBJ);
		gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EVICT);
	}
	if (gpuvm_list_linked(&vm_bo->list.entry.gem))
		gpuvm_list_del(&vm_bo->list.entry.gem);
}

bool gpuvm__bo_put_locked_deferred(struct gpuvm_bo *vm_bo)
{
	if (__atomic_sub_fetch(&vm_bo->refcount, 1, __ATOMIC_ACQ_REL))
		return false;
	bo_into_zombie(vm_bo);
	return true;
}

int gpuvm_bo_put_deferred(struct gpuvm_bo *vm_bo)
{
	struct gpuvm_gem *obj;
	struct gpuvm *vm;
	bool zombie;
	int ret;

	if (!vm_bo)
		return -EINVAL;
	vm = vm_bo->vm;
	if (!gpuvm_immediate_mode(vm))
		return gpuvm__wrong_mode(vm, "gpuvm_bo_put_deferred");
	if (put_unless_last(vm_bo))
		return 0;

	/* Maybe the last one: decide under the lock that lookups take. */
	obj = vm_bo->obj;
	ret = gpuvm_gem_gpuva_lock(obj);
	if (ret)
		return ret;
	if (!__atomic_load_n(&vm_bo->refcount, __ATOMIC_RELAXED)) {
		gpuvm_gem_gpuva_unlock(obj);
		return -EINVAL;
	}
	zombie = gpuvm__bo_put_locked_deferred(vm_bo);
	gpuvm_gem_gpuva_unlock(obj);
	if (!zombie)
		return 0;
	/*
	 * Push only now that the gpuva lock is released: the moment the zombie
	 * is on the stack, a gpuvm_bo_deferred_cleanup() in another thread may
	 * pop it and drop the last reference of the gem, freeing the gem and
	 * the mutex inside it. Unlocking after the push could touch freed
	 * memory. Nothing of the vm_bo, the gem or the VM is used after it.
	 */
	gpuvm__defer_push(vm, vm_bo);
	return 1;
}

void gpuvm__bo_put_walk(struct gpuvm_bo *vm_bo)
{
	if (gpuvm_immediate_mode(vm_bo->vm)) {
		int ret = gpuvm_bo_put_deferred(vm_bo);

#ifdef GPUVM_DEBUG
		if (ret < 0) {
			fprintf(stderr, "libgpuvm: a walk could not drop its vm_bo reference: %s\n",
				gpuvm_err_name(ret));
			abort();
		}
#endif
		(void)ret;
	} else {
		gpuvm_bo_put(vm_bo);
	}
}

/* ---- create, find, obtain ---- */

int gpuvm_bo_create(struct gpuvm *vm, struct gpuvm_gem *obj, struct gpuvm_bo **out)
{
	struct gpuvm_bo *vm_bo;

	GPUVM__MAY_BLOCK("gpuvm_bo_create", "it allocates a vm_bo");
	if (!vm || !obj || !out)
		return -EINVAL;
	if (vm->ops && vm->ops->vm_bo_alloc)
		vm_bo = vm->ops->vm_bo_alloc(vm);
	else
		vm_bo = gpuvm__zalloc(&vm->alloc, sizeof(*vm_bo), _Alignof(struct gpuvm_bo));
	if (!vm_bo)
		return -ENOMEM;
	vm_bo->vm = gpuvm_get(vm);
	vm_bo->obj = gpuvm_gem_get(obj);
	vm_bo->refcount = 1;
	vm_bo->evicted = false;
	vm_bo->listed_ = false;
	gpuvm_list_init(&vm_bo->list.gpuva);
	vm_bo->list.entry.gem.next = vm_bo->list.entry.gem.prev = NULL;
	vm_bo->list.entry.extobj.next = vm_bo->list.entry.extobj.prev = NULL;
	vm_bo->list.entry.evict.next = vm_bo->list.entry.evict.prev = NULL;
	vm_bo->list.entry.bo_defer.next_ = NULL;
	*out = vm_bo;
	return 0;
}

struct gpuvm_bo *gpuvm_bo_find(struct gpuvm *vm, struct gpuvm_gem *obj)
{
	struct gpuvm_bo *vm_bo;

	if (!vm || !obj)
		return NULL;
	assert_gem_list_locked(vm, obj, "gpuvm_bo_find() called");
	gpuvm_gem_for_each_vm_bo(vm_bo, obj)
		if (vm_bo->vm == vm)
			return gpuvm_bo_get(vm_bo);
	return NULL;
}

int gpuvm_bo_obtain_locked(struct gpuvm *vm, struct gpuvm_gem *obj, struct gpuvm_bo **out)
{
	struct gpuvm_bo *vm_bo;
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_bo_obtain_locked", "it may allocate a vm_bo");
	if (!vm || !obj || !out)
		return -EINVAL;
	/* the list lock would be the gpuva lock, and nothing may allocate under it */
	if (gpuvm_immediate_mode(vm))
		return gpuvm__wrong_mode(vm, "gpuvm_bo_obtain_locked");
	vm_bo = gpuvm_bo_find(vm, obj);
	if (!vm_bo) {
		ret = gpuvm_bo_create(vm, obj, &vm_bo);
		if (ret)
			return ret;
		gpuvm_list_add_tail(&vm_bo->list.entry.gem, &obj->gpuva.list);
	}
	*out = vm_bo;
	return 0;
}

int gpuvm_bo_obtain_prealloc(struct gpuvm_bo *prealloc, struct gpuvm_bo **out)
{
	struct gpuvm_bo *found;
	struct gpuvm_gem *obj;
	struct gpuvm *vm;
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_bo_obtain_prealloc", "it may free the preallocated vm_bo");
	if (!prealloc || !out)
		return -EINVAL;
	vm = prealloc->vm;
	obj = prealloc->obj;
	if (!gpuvm_immediate_mode(vm))
		return gpuvm__wrong_mode(vm, "gpuvm_bo_obtain_prealloc");
	if (gpuvm_list_linked(&prealloc->list.entry.gem) ||
	    gpuvm_list_linked(&prealloc->list.entry.extobj) ||
	    gpuvm_list_linked(&prealloc->list.entry.evict) ||
	    __atomic_load_n(&prealloc->refcount, __ATOMIC_RELAXED) != 1)
		return -EINVAL;

	ret = gpuvm_gem_gpuva_lock(obj);
	if (ret)
		return ret;
	found = gpuvm_bo_find(vm, obj);
	if (!found)
		gpuvm_list_add_tail(&prealloc->list.entry.gem, &obj->gpuva.list);
	gpuvm_gem_gpuva_unlock(obj);

	if (found) {
		/*
		 * Nobody ever saw @prealloc; the found vm_bo holds references on
		 * the same VM and gem, so freeing it frees nothing else.
		 */
		__atomic_store_n(&prealloc->refcount, 0, __ATOMIC_RELAXED);
		bo_free(prealloc);
		*out = found;
	} else {
		*out = prealloc;
	}
	return 0;
}

int gpuvm_bo_obtain(struct gpuvm *vm, struct gpuvm_gem *obj, struct gpuvm_bo **out)
{
	struct gpuvm_bo *vm_bo;
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_bo_obtain", "it may allocate a vm_bo");
	if (!vm || !obj || !out)
		return -EINVAL;
	if (!gpuvm_immediate_mode(vm))
		return gpuvm_bo_obtain_locked(vm, obj, out);

	/* Immediate mode: look up under the gpuva lock, allocate outside it. */
	ret = gpuvm_gem_gpuva_lock(obj);
	if (ret)
		return ret;
	vm_bo = gpuvm_bo_find(vm, obj);
	gpuvm_gem_gpuva_unlock(obj);
	if (vm_bo) {
		*out = vm_bo;
		return 0;
	}
	ret = gpuvm_bo_create(vm, obj, &vm_bo);
	if (ret)
		return ret;
	ret = gpuvm_bo_obtain_prealloc(vm_bo, out);
	if (ret)
		gpuvm_bo_put(vm_bo); /* on no list: nothing to unlink */
	return ret;
}

/* ---- extobj and evict ---- */

int gpuvm_bo_extobj_add(struct gpuvm_bo *vm_bo)
{
	struct gpuvm *vm;

	if (!vm_bo)
		return -EINVAL;
	vm = vm_bo->vm;
	if (gpuvm_resv_protected(vm) && !gpuvm_resv_held(gpuvm_resv(vm)))
		return -EPERM;
	if (gpuvm_is_extobj(vm, vm_bo->obj))
		gpuvm__bo_list_add(vm_bo, GPUVM__LIST_EXTOBJ);
	return 0;
}

int gpuvm_bo_evict(struct gpuvm_bo *vm_bo, bool evicted)
{
	struct gpuvm_gem *obj;
	struct gpuvm *vm;

	if (!vm_bo)
		return -EINVAL;
	vm = vm_bo->vm;
	obj = vm_bo->obj;
	if (obj->resv && !gpuvm_resv_held(obj->resv))
		return -EPERM;
	__atomic_store_n(&vm_bo->evicted, evicted, __ATOMIC_RELAXED);
	/*
	 * With RESV_PROTECTED the evict list is the VM's reservation's, which
	 * the holder of an external object's reservation need not hold: flag
	 * only; gpuvm_exec lists it once it holds both. A local object's
	 * reservation is the VM's, so that case is covered.
	 */
	if (gpuvm_resv_protected(vm) && gpuvm_is_extobj(vm, obj))
		return 0;
	if (evicted)
		gpuvm__bo_list_add(vm_bo, GPUVM__LIST_EVICT);
	else
		gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EVICT);
	return 0;
}

int gpuvm_bo_gem_evict(struct gpuvm_gem *obj, bool evicted)
{
	struct gpuvm_bo *vm_bo;
	bool unlock = false;
	int ret;

	if (!obj)
		return -EINVAL;
	if (obj->resv && !gpuvm_resv_held(obj->resv))
		return -EPERM;
	if (!gpuvm_gem_gpuva_lock_held(obj)) {
		ret = gpuvm_gem_gpuva_lock(obj);
		if (ret)
			return ret;
		unlock = true;
	}
	gpuvm_gem_for_each_vm_bo(vm_bo, obj)
		gpuvm_bo_evict(vm_bo, evicted); /* cannot fail: checked above */
	if (unlock)
		gpuvm_gem_gpuva_unlock(obj);
	return 0;
}

/* ---- walks of extobj and evict ---- */

/* Put the entries of @local back at the front of @head, in their order. */
static void list_splice_front(struct gpuvm_list *local, struct gpuvm_list *head)
{
	struct gpuvm_list *first = local->next, *last = local->prev;

	if (gpuvm_list_empty(local))
		return;
	first->prev = head;
	last->next = head->next;
	head->next->prev = last;
	head->next = first;
	gpuvm_list_init(local);
}

int gpuvm__bo_walk_begin(struct gpuvm__bo_walk *w, struct gpuvm *vm, enum gpuvm__bo_list which)
{
	w->vm = vm;
	w->which = which;
	w->cur = NULL;
	gpuvm_list_init(&w->local);
	w->locked = !gpuvm_resv_protected(vm);
	if (!w->locked) {
		if (!gpuvm_resv_held(gpuvm_resv(vm)))
			return -EPERM;
		return 0;
	}
	/*
	 * Entries visited are parked on this walk's private list, where a
	 * second walker would not see them: one walk at a time. The walk
	 * mutex is never taken on the signalling path, and no list mutex or
	 * gpuva lock is held while waiting for it.
	 */
	pthread_mutex_lock(vm_list_walk(vm, which));
	return 0;
}

struct gpuvm_bo *gpuvm__bo_walk_next(struct gpuvm__bo_walk *w)
{
	struct gpuvm_list *head = vm_list(w->vm, w->which);

	/* outside the list mutex: a last put takes it (and maybe a gpuva lock) */
	if (w->cur) {
		gpuvm__bo_put_walk(w->cur);
		w->cur = NULL;
	}
	if (w->locked)
		pthread_mutex_lock(vm_list_lock(w->vm, w->which));
	while (!gpuvm_list_empty(head)) {
		struct gpuvm_list *e = head->next;
		struct gpuvm_bo *vm_bo = entry_bo(e, w->which);

		gpuvm_list_del(e);
		if (gpuvm__bo_get_unless_zero(vm_bo)) {
			gpuvm_list_add_tail(e, &w->local);
			w->cur = vm_bo;
			break;
		}
		/*
		 * A zombie. It cannot be freed while the list's lock is held
		 * (its unlinking needs it), and it is going away: leave it off
		 * the list, whoever unlinks it later finds it unlinked.
		 */
	}
	if (w->locked)
		pthread_mutex_unlock(vm_list_lock(w->vm, w->which));
	return w->cur;
}

void gpuvm__bo_walk_end(struct gpuvm__bo_walk *w)
{
	if (w->cur) {
		gpuvm__bo_put_walk(w->cur);
		w->cur = NULL;
	}
	if (w->locked)
		pthread_mutex_lock(vm_list_lock(w->vm, w->which));
	list_splice_front(&w->local, vm_list(w->vm, w->which));
	if (w->locked) {
		pthread_mutex_unlock(vm_list_lock(w->vm, w->which));
		pthread_mutex_unlock(vm_list_walk(w->vm, w->which));
	}
}

int gpuvm_validate(struct gpuvm *vm, void *priv)
{
	struct gpuvm__bo_walk w;
	struct gpuvm_bo *vm_bo;
	int ret;

	GPUVM__MAY_BLOCK("gpuvm_validate", "it calls vm_bo_validate, which moves buffer objects");
	if (!vm)
		return -EINVAL;
	if (!vm->ops || !vm->ops->vm_bo_validate)
		return -EOPNOTSUPP;
	ret = gpuvm__bo_walk_begin(&w, vm, GPUVM__LIST_EVICT);
	if (ret)
		return ret;
	while ((vm_bo = gpuvm__bo_walk_next(&w))) {
		/*
		 * With RESV_PROTECTED an external object's un-eviction only
		 * clears the flag (the list needs the VM's reservation): such
		 * an entry is dropped here instead of validated.
		 */
		if (gpuvm_bo_evicted(vm_bo)) {
			ret = vm->ops->vm_bo_validate(vm_bo, priv);
			if (ret)
				break;
		}
		if (!gpuvm_bo_evicted(vm_bo))
			gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EVICT);
	}
	gpuvm__bo_walk_end(&w);
	return ret;
}

/* ---- deferred cleanup ---- */

int gpuvm_bo_deferred_cleanup(struct gpuvm *vm)
{
	struct gpuvm_resv *resv = NULL;
	struct gpuvm_bo *chain, *vm_bo;
	int ret, n = 0;

	GPUVM__MAY_BLOCK("gpuvm_bo_deferred_cleanup",
			 "it frees buffer objects and may block on the VM's reservation");
	if (!vm)
		return -EINVAL;
	if (!gpuvm_immediate_mode(vm))
		return gpuvm__wrong_mode(vm, "gpuvm_bo_deferred_cleanup");
	if (gpuvm__defer_empty(vm))
		return 0;

	/*
	 * With RESV_PROTECTED the zombies are still on extobj/evict, which only
	 * the VM's reservation protects. Lock before popping, so that a failing
	 * lock leaves the zombies queued.
	 */
	if (gpuvm_resv_protected(vm) && !gpuvm_resv_held(gpuvm_resv(vm))) {
		resv = gpuvm_resv(vm);
		ret = gpuvm_resv_lock(resv);
		if (ret)
			return ret;
	}
	chain = gpuvm__defer_pop_all(vm);
	if (gpuvm_resv_protected(vm)) {
		for (vm_bo = chain; vm_bo; vm_bo = gpuvm__defer_next(vm_bo)) {
			gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EXTOBJ);
			gpuvm__bo_list_del(vm_bo, GPUVM__LIST_EVICT);
		}
	}
	if (resv)
		gpuvm_resv_unlock(resv);

	/* @vm may go with the last vm_bo's reference: not touched below */
	while (chain) {
		vm_bo = chain;
		chain = gpuvm__defer_next(vm_bo);
		bo_free(vm_bo);
		n++;
	}
	return n;
}
