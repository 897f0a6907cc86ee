/* SPDX-License-Identifier: MIT */
/* struct gpuvm: init/fini, references, range checks, index reservations, verification. */
#include "internal.h"
#include "index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPUVM__KNOWN_FLAGS (GPUVM_RESV_PROTECTED | GPUVM_IMMEDIATE_MODE)

/* Cached index nodes beyond the reserved ones that list mode lets pile up before trimming. */
#define GPUVM__CACHE_SLACK 256

static bool sum_fits(uint64_t a, uint64_t b)
{
	/* a + b <= 2^64 - 1: a sum of exactly 2^64 does not fit either */
	return b <= UINT64_MAX - a;
}

static bool ops_valid(const struct gpuvm_ops *ops)
{
	if (!ops)
		return true;
	if (!gpuvm__opts_valid(ops, sizeof(*ops)))
		return false;
	if (!ops->op_alloc != !ops->op_free)
		return false;
	if (!ops->vm_bo_alloc != !ops->vm_bo_free)
		return false;
	return true;
}

/* The VM's internal mutexes, in init order (fini destroys them in reverse). */
static pthread_mutex_t *vm_mutex(struct gpuvm *vm, unsigned int i)
{
	pthread_mutex_t *m[] = { &vm->extobj.lock, &vm->extobj.walk_, &vm->evict.lock,
				 &vm->evict.walk_ };

	return m[i];
}

#define VM_MUTEXES 4u

static int mutexes_init(struct gpuvm *vm)
{
	for (unsigned int i = 0; i < VM_MUTEXES; i++) {
		int ret = pthread_mutex_init(vm_mutex(vm, i), NULL);

		if (ret) {
			while (i--)
				pthread_mutex_destroy(vm_mutex(vm, i));
			return -ret;
		}
	}
	return 0;
}

int gpuvm_init(struct gpuvm *vm, const struct gpuvm_init_opts *opts)
{
	const uint32_t driver_bits = GPUVM_USERBITS - 1;
	int ret;

	if (!vm || !opts || !gpuvm__opts_valid(opts, sizeof(*opts)))
		return -EINVAL;
	if (opts->flags & driver_bits & ~(uint32_t)GPUVM__KNOWN_FLAGS)
		return -EINVAL;
	if (!sum_fits(opts->start, opts->range) ||
	    !sum_fits(opts->reserve_addr, opts->reserve_range))
		return -EINVAL;
	if (opts->alloc && !opts->alloc->alloc != !opts->alloc->free)
		return -EINVAL;
	if (!ops_valid(opts->ops))
		return -EINVAL;

	/* the lists would be protected by a reservation that does not exist */
	if ((opts->flags & GPUVM_RESV_PROTECTED) && (!opts->r_obj || !opts->r_obj->resv))
		return -EINVAL;

	memset(vm, 0, sizeof(*vm));
	ret = mutexes_init(vm);
	if (ret)
		return ret;
	vm->name = opts->name;
	vm->flags = opts->flags;
	vm->refcount = 1;
	vm->mm_start = opts->start;
	vm->mm_range = opts->range;
	if (opts->reserve_range) {
		vm->reserve_addr = opts->reserve_addr;
		vm->reserve_range = opts->reserve_range;
	}
	vm->ops = opts->ops;
	if (opts->alloc)
		vm->alloc = *opts->alloc;
	vm->r_obj = opts->r_obj;
	gpuvm__index_init(&vm->index);
	gpuvm_list_init(&vm->extobj.list);
	gpuvm_list_init(&vm->evict.list);
	gpuvm__defer_init(vm);
	return 0;
}

int gpuvm_fini(struct gpuvm *vm)
{
	if (!vm)
		return -EINVAL;
	/*
	 * Queued zombies and listed vm_bos hold references on this VM, so only
	 * a caller that broke the rules gets here with them: report it instead
	 * of leaking them (the kernel warns and leaks).
	 */
	if (vm->index.count || !gpuvm__defer_empty(vm) || !gpuvm_list_empty(&vm->extobj.list) ||
	    !gpuvm_list_empty(&vm->evict.list))
		return -EBUSY;
	gpuvm__index_fini(&vm->index, &vm->alloc);
	gpuvm__index_init(&vm->index);
	for (unsigned int i = VM_MUTEXES; i--;)
		pthread_mutex_destroy(vm_mutex(vm, i));
	return 0;
}

#ifdef GPUVM_DEBUG
/*
 * A reference count that was already 0: the VM was released (and maybe
 * freed). Release builds cannot tell that from a live count cheaply enough
 * to be worth a branch on every get and put; debug builds stop here, naming
 * the VM, before the count wraps and the VM is released a second time.
 */
__attribute__((noreturn, cold)) static void refcount_violation(const struct gpuvm *vm,
							      const char *call)
{
	fprintf(stderr, "libgpuvm: %s() on VM '%s' (%p) without references: it was released\n",
		call, vm->name ? vm->name : "", (const void *)vm);
	abort();
}
#endif

struct gpuvm *gpuvm_get(struct gpuvm *vm)
{
	unsigned int old;

	if (!vm)
		return vm;
	old = __atomic_fetch_add(&vm->refcount, 1, __ATOMIC_RELAXED);
#ifdef GPUVM_DEBUG
	if (!old)
		refcount_violation(vm, "gpuvm_get");
#else
	(void)old;
#endif
	return vm;
}

void gpuvm_put(struct gpuvm *vm)
{
	unsigned int old;

	GPUVM__MAY_BLOCK("gpuvm_put", "it may free the VM");
	if (!vm)
		return;
	old = __atomic_fetch_sub(&vm->refcount, 1, __ATOMIC_ACQ_REL);
#ifdef GPUVM_DEBUG
	if (!old)
		refcount_violation(vm, "gpuvm_put");
#endif
	if (old != 1)
		return;
	if (vm->ops && vm->ops->vm_free) {
		vm->ops->vm_free(vm);
		return;
	}
	if (gpuvm_fini(vm))
		fprintf(stderr, "libgpuvm: last reference of VM '%s' dropped with %zu mappings inserted\n",
			vm->name ? vm->name : "", vm->index.count);
}

bool gpuvm_range_valid(const struct gpuvm *vm, uint64_t addr, uint64_t range)
{
	uint64_t end;

	if (!vm || !range || !sum_fits(addr, range))
		return false;
	end = addr + range;
	if (addr < vm->mm_start || end > vm->mm_start + vm->mm_range)
		return false;
	if (vm->reserve_range && addr < vm->reserve_addr + vm->reserve_range &&
	    vm->reserve_addr < end)
		return false;
	return true;
}

bool gpuvm_interval_empty(const struct gpuvm *vm, uint64_t addr, uint64_t range)
{
	if (!vm || !range)
		return true;
	return !gpuva_find_first(vm, addr, range);
}

int gpuvm_index_reserve(struct gpuvm *vm, unsigned int inserts)
{
	GPUVM__MAY_BLOCK("gpuvm_index_reserve", "it may allocate index nodes");
	if (!vm)
		return -EINVAL;
	return gpuvm__index_reserve(&vm->index, &vm->alloc, inserts);
}

void gpuvm_index_unreserve(struct gpuvm *vm, unsigned int inserts)
{
	if (vm)
		gpuvm__index_unreserve(&vm->index, inserts);
}

void gpuvm_index_trim(struct gpuvm *vm)
{
	if (vm)
		gpuvm__index_trim(&vm->index, &vm->alloc);
}

/* List mode trims a cache that removals let grow far beyond what is reserved. */
void gpuvm__index_maybe_trim(struct gpuvm *vm)
{
	if (vm->index.ncache > gpuvm__index_reserved_nodes(&vm->index, 0) + GPUVM__CACHE_SLACK)
		gpuvm__index_trim(&vm->index, &vm->alloc);
}

int gpuvm_stats(const struct gpuvm *vm, struct gpuvm_stats *out)
{
	size_t node = gpuvm__index_node_size();
	size_t sz;

	if (!vm || !out)
		return -EINVAL;
	sz = out->sz;
	if (sz < sizeof(*out))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sz = sz;
	out->mappings = vm->index.count;
	out->index_nodes = vm->index.nodes;
	out->index_bytes = vm->index.nodes * node;
	out->cached_nodes = vm->index.ncache;
	out->cached_bytes = vm->index.ncache * node;
	out->height = vm->index.height;
	return 0;
}

static int verify_fail(const struct gpuvm *vm, const struct gpuva *va, const char *what)
{
	fprintf(stderr, "libgpuvm: VM '%s' is corrupted: %s", vm->name ? vm->name : "", what);
	if (va)
		fprintf(stderr, " (mapping %p at 0x%llx+0x%llx)", (const void *)va,
			(unsigned long long)va->va.addr, (unsigned long long)va->va.range);
	fputc('\n', stderr);
	return -EUCLEAN;
}

/*
 * Whether the mapping lists of @obj's vm_bos can be read now without racing
 * with their writers, who hold the gem's list lock: in immediate mode the
 * gpuva lock (tried here, never waited for, so verification cannot deadlock
 * or block the signalling path; *@unlock tells the caller to release it);
 * otherwise the gem's reservation held by this thread, or no reservation
 * (the caller serializes).
 */
static bool gem_lists_stable(const struct gpuvm *vm, struct gpuvm_gem *obj, bool *unlock)
{
	*unlock = false;
	if (gpuvm_immediate_mode(vm)) {
		if (gpuvm_gem_gpuva_lock_held(obj))
			return true;
		if (gpuvm__gem_gpuva_trylock(obj))
			return false;
		*unlock = true;
		return true;
	}
	return !obj->resv || gpuvm_resv_held(obj->resv);
}

/*
 * The vm_bo of a linked mapping, checked once per vm_bo (from the first
 * mapping on its list): every mapping on its list points back to it, and it
 * has at least one reference per linked mapping. The walk stops at the
 * reference count, so a cycle in a corrupted list ends too.
 */
static int verify_vm_bo(const struct gpuvm *vm, const struct gpuva *va,
			const struct gpuvm_bo *vm_bo)
{
	unsigned int refs = __atomic_load_n(&vm_bo->refcount, __ATOMIC_RELAXED);
	const struct gpuvm_list *e;
	unsigned int n = 0;

	if (va->gem.entry.prev != &vm_bo->list.gpuva)
		return 0;
	for (e = vm_bo->list.gpuva.next; e != &vm_bo->list.gpuva; e = e->next) {
		const struct gpuva *m = gpuvm__list_entry(e, struct gpuva, gem.entry);

		if (gpuva_vm_bo(m) != vm_bo)
			return verify_fail(vm, m, "mapping on a vm_bo's list is linked elsewhere");
		if (++n > refs)
			return verify_fail(vm, va, "vm_bo has fewer references than mappings");
		if (!e->next)
			return verify_fail(vm, m, "broken link list of a vm_bo");
	}
	return 0;
}

static int verify_link(const struct gpuvm *vm, const struct gpuva *va)
{
	const struct gpuvm_bo *vm_bo = gpuva_vm_bo(va);
	const struct gpuvm_list *e = &va->gem.entry;
	bool unlock;
	int ret = 0;

	if (!vm_bo)
		return gpuvm_list_linked(e) ? verify_fail(vm, va, "unlinked mapping on a list") : 0;
	if (vm_bo->vm != vm)
		return verify_fail(vm, va, "mapping linked to another VM's vm_bo");
	if (!vm_bo->obj)
		return verify_fail(vm, va, "mapping linked to a vm_bo without object");
	if (__atomic_load_n(&vm_bo->refcount, __ATOMIC_RELAXED) == 0)
		return verify_fail(vm, va, "mapping linked to a vm_bo without references");
	/* the list around the mapping belongs to the gem's list lock */
	if (!gem_lists_stable(vm, vm_bo->obj, &unlock))
		return 0;
	if (!e->next || !e->prev || e->next->prev != e || e->prev->next != e)
		ret = verify_fail(vm, va, "broken link list around a mapping");
	else
		ret = verify_vm_bo(vm, va, vm_bo);
	if (unlock)
		gpuvm_gem_gpuva_unlock(vm_bo->obj);
	return ret;
}

/*
 * The extobj and evict lists: entries of this VM, and only external objects
 * on the extobj list. Checked only when their lock can be had without
 * waiting (or, with RESV_PROTECTED, when this thread holds the VM's
 * reservation); zombies are fine there (they wait for the cleanup).
 */
static int verify_bo_lists(const struct gpuvm *vm)
{
	struct gpuvm *w = (struct gpuvm *)(uintptr_t)vm;
	const struct gpuvm_bo *vm_bo;
	int ret = 0;

	if (gpuvm_resv_protected(vm)) {
		if (!gpuvm_resv_held(gpuvm_resv(vm)))
			return 0;
	} else if (pthread_mutex_trylock(&w->extobj.lock)) {
		return 0;
	}
	gpuvm_list_for_each_entry(vm_bo, &vm->extobj.list, struct gpuvm_bo, list.entry.extobj) {
		if (vm_bo->vm != vm || !gpuvm_is_extobj(vm, vm_bo->obj)) {
			ret = verify_fail(vm, NULL, "extobj list holds a vm_bo of another VM or of "
						    "an object that is not external");
			break;
		}
	}
	if (!gpuvm_resv_protected(vm))
		pthread_mutex_unlock(&w->extobj.lock);
	if (ret || (!gpuvm_resv_protected(vm) && pthread_mutex_trylock(&w->evict.lock)))
		return ret;
	gpuvm_list_for_each_entry(vm_bo, &vm->evict.list, struct gpuvm_bo, list.entry.evict) {
		if (vm_bo->vm != vm) {
			ret = verify_fail(vm, NULL, "evict list holds a vm_bo of another VM");
			break;
		}
	}
	if (!gpuvm_resv_protected(vm))
		pthread_mutex_unlock(&w->evict.lock);
	return ret;
}

int gpuvm_verify(const struct gpuvm *vm)
{
	const struct gpuva *va;
	size_t n = 0;
	int ret;

	if (!vm)
		return -EINVAL;
	ret = gpuvm__index_verify(&vm->index);
	if (ret)
		return verify_fail(vm, NULL, "index invariants");
	for (va = gpuva_range_first(vm, 0, 0); va; va = gpuva_range_next(va, 0)) {
		n++;
		if (va->vm != vm || !(va->state_ & GPUVA__STATE_INSERTED))
			return verify_fail(vm, va, "mapping does not point back to its VM");
		if (!gpuvm_range_valid(vm, va->va.addr, va->va.range))
			return verify_fail(vm, va, "mapping outside the VA space or over the reserved region");
		ret = verify_link(vm, va);
		if (ret)
			return ret;
	}
	if (n != vm->index.count)
		return verify_fail(vm, NULL, "walk and index count disagree");
	return verify_bo_lists(vm);
}

#ifdef GPUVM_DEBUG
void gpuvm__debug_verify(const struct gpuvm *vm, const char *where)
{
	if (gpuvm_verify(vm)) {
		fprintf(stderr, "libgpuvm: structure check failed after %s\n", where);
		abort();
	}
}
#endif
