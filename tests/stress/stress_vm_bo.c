/* SPDX-License-Identifier: MIT */
/*
 * Stress of the vm_bo lifetime in immediate mode: mappings unlinked from
 * "run_job" threads inside the fence-signalling section (gpuva_remove +
 * gpuva_unlink_defer), while a binder obtains vm_bos for the same objects
 * and links new mappings, an evictor flips objects' eviction state across
 * every VM that maps them, a validator walks the extobj and evict lists
 * (gpuvm_exec_lock + gpuvm_validate), and a cleanup thread runs
 * gpuvm_bo_deferred_cleanup and frees the removed mappings.
 *
 * Configurations (argv[1]):
 *   immediate       one VM, lists under the internal locks, 3 run_job threads
 *   immediate-resv  the same VM with GPUVM_RESV_PROTECTED
 *   shared          three VMs (the first RESV_PROTECTED) sharing objects,
 *                   2 run_job threads
 *
 * The objects:
 *   shared BOs   own reservation; mapped in the shared slot region of any VM
 *                and unmapped there by every run_job thread;
 *   private BOs  per VM, the VM's reservation (never external in it);
 *   thread BOs   per run_job thread, own reservation, mapped only in that
 *                thread's slot region: disjoint objects for each unmapper;
 *   transient    created by the binder, mapped once or twice, and then held
 *                only by their vm_bos, so that the deferred cleanup frees
 *                them (and the gem's lock) while other threads run.
 *
 * The VM tree is not thread-safe: every tree change and every link/unlink
 * of a VM happens under that VM's tree_lock (the driver's VM lock). What runs
 * concurrently is the vm_bo machinery: references, the gem's vm_bo list and
 * its lock, zombies, the extobj/evict lists, the deferred stack.
 *
 * Checked: every vm_bo, mapping and object is freed exactly once
 * (trackers), the validate callback and every walk of a gem's vm_bo list
 * only ever see live, referenced vm_bos with one per (VM, object), every
 * call returns what the contract says, the allocators end with nothing live
 * and were never called inside the signalling section, the VMs release
 * cleanly. TSan/ASan turn any race or use-after-free into a failure.
 */
#define _GNU_SOURCE
#include "stress.h"

#include <gpuvm.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* private: GPUVA__STATE_INSERTED, to check that a freed mapping is removed */
#include "internal.h"

#define PG 0x1000ull
#define SLOT_PAGES 16u
#define SLOT_SIZE (SLOT_PAGES * PG)
#define NSLOTS 192u
#define NSHARED_SLOTS 96u
#define BO_SIZE (SLOT_SIZE * 2)

#define MAX_VMS 3
#define MAX_RUN_JOBS 4
#define NSHARED_BOS 6
#define NPRIVATE_BOS 3
#define NTHREAD_BOS 2

#define VBO_MAGIC 0x76626f21u
/* workers finish their iteration within this of the deadline, or are stuck */
#define JOIN_TIMEOUT_MS 15000u
#define MAX_EVICT_REFS 8

/* ---- configuration ---- */

struct config {
	const char *name;
	unsigned int nvms;
	unsigned int protected_mask; /* VMs with GPUVM_RESV_PROTECTED */
	unsigned int run_jobs;
};

static const struct config configs[] = {
	{ "immediate", 1, 0x0, 3 },
	{ "immediate-resv", 1, 0x1, 3 },
	{ "shared", 3, 0x1, 2 },
};

static const struct config *cfg;
static uint64_t seed;
static atomic_bool stop;

/* lib: the VMs' allocator (index nodes, op lists, exec storage, vm_bos) */
static struct stress_alloc lib_alloc;
/* drv: the "driver" objects (BOs, mappings, VMs) */
static struct stress_alloc drv_alloc;

static struct stress_track vbo_track, map_track, bo_track;

/* ---- objects ---- */

enum bo_class { BO_SHARED, BO_PRIVATE, BO_THREAD, BO_TRANSIENT };

struct s_bo {
	struct gpuvm_gem base;
	struct gpuvm_resv own_resv; /* the reservation of an external object */
	bool has_own_resv;
	enum bo_class cls;
	uint32_t id;
};

struct s_map {
	struct gpuva base;
	uint32_t id;
	struct s_map *next_dead;
};

struct s_vbo {
	struct gpuvm_bo base;
	uint32_t magic;
	uint32_t id;
};

struct s_vm {
	struct gpuvm base;
	unsigned int index;
	/* the driver's VM lock: tree changes, link/unlink, the slots */
	pthread_mutex_t tree_lock;
	struct s_map *slot[NSLOTS];
	/* the VM's reservation and the object that carries it (r_obj) */
	struct gpuvm_resv resv;
	struct gpuvm_gem root;
	/* removed mappings waiting for the cleanup thread */
	pthread_mutex_t dead_lock;
	struct s_map *dead;
	/* what the vm_free callback saw */
	atomic_int vm_free_calls;
	int fini_ret;
};

GPUVM_CONTAINER(struct gpuvm_gem, struct s_bo, base, to_s_bo)
GPUVM_CONTAINER(struct gpuvm_bo, struct s_vbo, base, to_s_vbo)
GPUVM_CONTAINER(struct gpuvm, struct s_vm, base, to_s_vm)

/* A slot being filled by the binder: not NULL (taken), not a mapping. */
#define SLOT_RESERVED ((struct s_map *)(uintptr_t)1)

static struct s_vm *vms[MAX_VMS];
static struct s_bo *shared_bos[NSHARED_BOS];
static struct s_bo *private_bos[MAX_VMS][NPRIVATE_BOS];
static struct s_bo *thread_bos[MAX_RUN_JOBS][NTHREAD_BOS];

/* statistics, for the summary line */
static atomic_long n_unlinked, n_linked, n_cleaned, n_validated, n_evicts, n_transient,
	n_prealloc_dropped, n_zombie_puts;

/* ---- callbacks ---- */

static struct gpuvm_bo *s_vbo_alloc(struct gpuvm *vm)
{
	struct s_vbo *b;

	(void)vm;
	b = stress_alloc_zalloc(&lib_alloc, sizeof(*b));
	if (!b)
		return NULL;
	b->magic = VBO_MAGIC;
	b->id = stress_track_new(&vbo_track);
	if (b->id == STRESS_NO_ID)
		stress_fail("vm_bo ids exhausted: raise the tracker's capacity");
	return &b->base;
}

static void s_vbo_free(struct gpuvm_bo *vm_bo)
{
	struct s_vbo *b = to_s_vbo(vm_bo);

	if (b->magic != VBO_MAGIC) {
		stress_fail("vm_bo_free on %p: bad magic 0x%x", (void *)b, b->magic);
		return;
	}
	if (__atomic_load_n(&vm_bo->refcount, __ATOMIC_RELAXED) != 0)
		stress_fail("vm_bo %u freed with references", b->id);
	if (gpuvm_list_linked(&vm_bo->list.entry.gem) ||
	    gpuvm_list_linked(&vm_bo->list.entry.extobj) ||
	    gpuvm_list_linked(&vm_bo->list.entry.evict))
		stress_fail("vm_bo %u freed while still on a gem/extobj/evict list", b->id);
	if (!gpuvm_list_empty(&vm_bo->list.gpuva))
		stress_fail("vm_bo %u freed with mappings linked", b->id);
	stress_track_freed(&vbo_track, b->id);
	b->magic = 0;
	stress_alloc_free(&lib_alloc, b, sizeof(*b));
}

/* Checks that @vm_bo is live: what every walker must see. */
static bool vbo_check_live(struct gpuvm_bo *vm_bo, bool need_ref, const char *who)
{
	struct s_vbo *b = to_s_vbo(vm_bo);

	if (b->magic != VBO_MAGIC || !stress_track_is_live(&vbo_track, b->id)) {
		stress_fail("%s saw a freed vm_bo %p (magic 0x%x)", who, (void *)b, b->magic);
		return false;
	}
	if (need_ref && __atomic_load_n(&vm_bo->refcount, __ATOMIC_ACQUIRE) == 0) {
		stress_fail("%s saw zombie vm_bo %u", who, b->id);
		return false;
	}
	return true;
}

struct validate_ctx {
	struct s_vm *vm;
	struct stress_rng *rng;
	unsigned long calls;
};

static int s_validate(struct gpuvm_bo *vm_bo, void *priv)
{
	struct validate_ctx *ctx = priv;

	/* the walk holds a reference across the call: never a zombie here */
	if (!vbo_check_live(vm_bo, true, "validate"))
		return 0;
	if (vm_bo->vm != &ctx->vm->base)
		stress_fail("validate of VM %u got a vm_bo of another VM", ctx->vm->index);
	if (!gpuvm_resv_held(vm_bo->obj->resv))
		stress_fail("validate called for vm_bo %u whose object's resv is not held",
			    to_s_vbo(vm_bo)->id);
	if (!gpuvm_bo_evicted(vm_bo))
		stress_fail("validate called for vm_bo %u that is not evicted",
			    to_s_vbo(vm_bo)->id);
	ctx->calls++;
	/*
	 * "Move the object back", in both ways a driver may say so: through
	 * gpuvm_bo_evict() (which takes it off the list under the walk), or
	 * by clearing the flag under the object's reservation and letting
	 * gpuvm_validate() take it off.
	 */
	if (stress_below(ctx->rng, 2))
		stress_check_ret(gpuvm_bo_evict(vm_bo, false), 0);
	else
		__atomic_store_n(&vm_bo->evicted, false, __ATOMIC_RELAXED);
	return 0;
}

static void s_vm_free(struct gpuvm *gpuvm)
{
	struct s_vm *vm = to_s_vm(gpuvm);

	vm->fini_ret = gpuvm_fini(gpuvm);
	atomic_fetch_add(&vm->vm_free_calls, 1);
	/* the memory is freed by main() once it has read the result */
}

static const struct gpuvm_ops s_vm_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_free = s_vm_free,
	.vm_bo_alloc = s_vbo_alloc,
	.vm_bo_free = s_vbo_free,
	.vm_bo_validate = s_validate,
};

static void s_bo_free(struct gpuvm_gem *obj)
{
	struct s_bo *bo = to_s_bo(obj);

	stress_check_ret(gpuvm_gem_fini(obj), 0);
	if (bo->has_own_resv)
		stress_check_ret(gpuvm_resv_fini(&bo->own_resv), 0);
	stress_track_freed(&bo_track, bo->id);
	stress_alloc_free(&drv_alloc, bo, sizeof(*bo));
}

static const struct gpuvm_gem_funcs s_bo_funcs = {
	.free = s_bo_free,
};

/* ---- setup ---- */

/* A BO with its own reservation, or sharing @vm's (a private object). */
static struct s_bo *bo_new(enum bo_class cls, struct s_vm *vm)
{
	struct s_bo *bo = stress_alloc_zalloc(&drv_alloc, sizeof(*bo));
	struct gpuvm_resv *resv;

	if (!bo)
		return NULL;
	bo->id = stress_track_new(&bo_track);
	if (bo->id == STRESS_NO_ID) {
		stress_alloc_free(&drv_alloc, bo, sizeof(*bo));
		return NULL;
	}
	bo->cls = cls;
	if (vm) {
		resv = &vm->resv;
	} else {
		stress_check_ret(gpuvm_resv_init(&bo->own_resv, NULL), 0);
		bo->has_own_resv = true;
		resv = &bo->own_resv;
	}
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = BO_SIZE, .funcs = &s_bo_funcs, .resv = resv);
	stress_check_ret(gpuvm_gem_init(&bo->base, &opts), 0);
	return bo;
}

static struct s_vm *vm_new(unsigned int index, bool resv_protected)
{
	struct s_vm *vm = stress_alloc_zalloc(&drv_alloc, sizeof(*vm));
	uint32_t flags = GPUVM_IMMEDIATE_MODE;

	if (!vm)
		abort();
	vm->index = index;
	pthread_mutex_init(&vm->tree_lock, NULL);
	pthread_mutex_init(&vm->dead_lock, NULL);
	stress_check_ret(gpuvm_resv_init(&vm->resv, NULL), 0);
	/* the root object only carries the VM's reservation; nothing maps it */
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = 0, .resv = &vm->resv);
	stress_check_ret(gpuvm_gem_init(&vm->root, &gopts), 0);
	if (resv_protected)
		flags |= GPUVM_RESV_PROTECTED;
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "stress", .flags = flags, .start = 0,
		   .range = (uint64_t)NSLOTS * SLOT_SIZE, .ops = &s_vm_ops,
		   .alloc = &lib_alloc.hooks, .r_obj = &vm->root);
	stress_check_ret(gpuvm_init(&vm->base, &opts), 0);
	return vm;
}

/* ---- helpers ---- */

static struct s_map *map_new(void)
{
	struct s_map *m = stress_alloc_zalloc(&drv_alloc, sizeof(*m));

	if (!m)
		return NULL;
	m->id = stress_track_new(&map_track);
	if (m->id == STRESS_NO_ID) {
		stress_alloc_free(&drv_alloc, m, sizeof(*m));
		return NULL;
	}
	return m;
}

static void map_free(struct s_map *m)
{
	if (gpuva_vm_bo(&m->base))
		stress_fail("mapping %u freed while linked", m->id);
	if (m->base.state_ & GPUVA__STATE_INSERTED)
		stress_fail("mapping %u freed while inserted", m->id);
	stress_track_freed(&map_track, m->id);
	stress_alloc_free(&drv_alloc, m, sizeof(*m));
}

/* Slot region of run_job thread @t: after the shared region, split evenly. */
static void thread_region(unsigned int t, unsigned int *first, unsigned int *n)
{
	unsigned int per = (NSLOTS - NSHARED_SLOTS) / cfg->run_jobs;

	*first = NSHARED_SLOTS + t * per;
	*n = per;
}

/*
 * Walk @obj's vm_bo list under its gpuva lock: every entry must be live and
 * referenced (zombies leave the list under that lock), and there is at most
 * one per VM. Takes a reference on up to @max of them into @refs.
 */
static unsigned int gem_walk_locked(struct gpuvm_gem *obj, struct gpuvm_bo **refs,
				    unsigned int max, const char *who)
{
	struct gpuvm_bo *vm_bo;
	unsigned int per_vm[MAX_VMS] = { 0 }, n = 0;

	gpuvm_gem_for_each_vm_bo(vm_bo, obj) {
		if (!vbo_check_live(vm_bo, true, who))
			continue;
		per_vm[to_s_vm(vm_bo->vm)->index]++;
		if (n < max)
			refs[n++] = gpuvm_bo_get(vm_bo);
	}
	for (unsigned int i = 0; i < cfg->nvms; i++)
		if (per_vm[i] > 1)
			stress_fail("%s: %u vm_bos for one (VM %u, BO) pair", who, per_vm[i], i);
	return n;
}

/* Drop references the way any thread may in immediate mode. */
static void put_deferred(struct gpuvm_bo *vm_bo)
{
	int ret = gpuvm_bo_put_deferred(vm_bo);

	if (ret < 0 || ret > 1)
		stress_fail("gpuvm_bo_put_deferred returned %d", ret);
	else if (ret == 1)
		atomic_fetch_add(&n_zombie_puts, 1);
}

/* ---- run_job: unlink on the fence-signalling path ---- */

struct worker {
	pthread_t thread;
	unsigned int index;
	struct stress_rng rng;
};

static void *run_job_thread(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct s_vm *vm = vms[stress_below(&w->rng, cfg->nvms)];
		unsigned int first = 0, n = NSHARED_SLOTS;
		struct s_map *m = NULL;
		bool cookie;

		if (stress_below(&w->rng, 2))
			thread_region(w->index, &first, &n);

		/*
		 * The critical section of a job: the driver removes the
		 * mapping from the tree and unlinks it without freeing
		 * anything; gpuva_unlink_defer() queues a vm_bo whose last
		 * reference goes for the cleanup thread.
		 */
		cookie = gpuvm_signalling_begin();
		pthread_mutex_lock(&vm->tree_lock);
		for (unsigned int probe = 0; probe < 8 && !m; probe++) {
			unsigned int s = first + (unsigned int)stress_below(&w->rng, n);

			if (vm->slot[s] && vm->slot[s] != SLOT_RESERVED) {
				m = vm->slot[s];
				vm->slot[s] = NULL;
			}
		}
		if (m) {
			int ret;

			stress_check_ret(gpuva_remove(&m->base), 0);
			ret = gpuva_unlink_defer(&m->base);
			if (ret < 0)
				stress_fail("gpuva_unlink_defer: %s", gpuvm_err_name(ret));
		}
		pthread_mutex_unlock(&vm->tree_lock);
		if (m) {
			pthread_mutex_lock(&vm->dead_lock);
			m->next_dead = vm->dead;
			vm->dead = m;
			pthread_mutex_unlock(&vm->dead_lock);
			atomic_fetch_add(&n_unlinked, 1);
		}
		gpuvm_signalling_end(cookie);
		if (!m)
			sched_yield();
	}
	return NULL;
}

/* ---- binder: obtain vm_bos and link new mappings ---- */

/* Lock the VM's and @obj's reservations (one of them when they are the same). */
static int lock_vm_and_obj(struct gpuvm_exec *exec, struct s_vm *vm, struct gpuvm_gem *obj)
{
	struct gpuvm_gem *objs[2] = { &vm->root, obj };
	int ret;

	GPUVM_OPTS(gpuvm_exec_opts, eo, .vm = &vm->base);
	ret = gpuvm_exec_init(exec, &eo);
	if (ret)
		return ret;
	ret = gpuvm_exec_lock_array(exec, objs, 2);
	if (ret)
		gpuvm_exec_fini(exec);
	return ret;
}

static void unlock_exec(struct gpuvm_exec *exec)
{
	gpuvm_exec_unlock(exec);
	stress_check_ret(gpuvm_exec_fini(exec), 0);
}

/* Map @bo in a free slot of @vm's region [first, first + n). Returns true when mapped. */
static bool bind_one(struct worker *w, struct s_vm *vm, struct s_bo *bo, unsigned int first,
		     unsigned int n)
{
	struct gpuvm_bo *pre = NULL, *vm_bo = NULL;
	struct gpuvm_bo *walk[MAX_VMS];
	struct gpuvm_exec exec;
	unsigned int s = NSLOTS, nwalk;
	uint64_t pages, offset;
	struct s_map *m;
	int ret;

	pthread_mutex_lock(&vm->tree_lock);
	for (unsigned int probe = 0; probe < 8; probe++) {
		unsigned int c = first + (unsigned int)stress_below(&w->rng, n);

		if (!vm->slot[c]) {
			vm->slot[c] = SLOT_RESERVED;
			s = c;
			break;
		}
	}
	pthread_mutex_unlock(&vm->tree_lock);
	if (s == NSLOTS)
		return false;

	m = map_new();
	if (!m)
		goto out_unreserve;
	/* allocate before taking any lock: obtain_prealloc only links it */
	ret = gpuvm_bo_create(&vm->base, &bo->base, &pre);
	if (ret) {
		stress_fail("gpuvm_bo_create: %s", gpuvm_err_name(ret));
		goto out_map;
	}
	/*
	 * Hold the object's reservation from obtain to extobj_add, so that no
	 * eviction can put the new vm_bo on the evict list before the
	 * object is on the extobj list (validation locks extobjs only), and
	 * the VM's (RESV_PROTECTED: the lists are under it).
	 */
	ret = lock_vm_and_obj(&exec, vm, &bo->base);
	if (ret) {
		stress_fail("locking VM %u and a BO: %s", vm->index, gpuvm_err_name(ret));
		/* never visible: a plain put, under the lock a last put needs */
		gpuvm_gem_gpuva_lock(&bo->base);
		gpuvm_bo_put(pre);
		gpuvm_gem_gpuva_unlock(&bo->base);
		goto out_map;
	}
	ret = gpuvm_bo_obtain_prealloc(pre, &vm_bo);
	if (ret) {
		stress_fail("gpuvm_bo_obtain_prealloc: %s", gpuvm_err_name(ret));
		unlock_exec(&exec);
		goto out_map;
	}
	if (vm_bo != pre)
		atomic_fetch_add(&n_prealloc_dropped, 1);
	stress_check_ret(gpuvm_bo_extobj_add(vm_bo), 0);
	unlock_exec(&exec);

	/* one vm_bo per (VM, object), and it is ours */
	stress_check_ret(gpuvm_gem_gpuva_lock(&bo->base), 0);
	nwalk = gem_walk_locked(&bo->base, walk, MAX_VMS, "binder");
	stress_check_ret(gpuvm_gem_gpuva_unlock(&bo->base), 0);
	{
		bool found = false;

		for (unsigned int i = 0; i < nwalk; i++) {
			found |= walk[i] == vm_bo;
			put_deferred(walk[i]);
		}
		if (!found)
			stress_fail("the obtained vm_bo is not on its gem's list");
	}

	pages = 1 + stress_below(&w->rng, SLOT_PAGES);
	offset = stress_below(&w->rng, BO_SIZE / PG - pages + 1) * PG;
	pthread_mutex_lock(&vm->tree_lock);
	gpuva_init(&m->base, (uint64_t)s * SLOT_SIZE, pages * PG, &bo->base, offset);
	stress_check_ret(gpuva_insert(&vm->base, &m->base), 0);
	stress_check_ret(gpuvm_gem_gpuva_lock(&bo->base), 0);
	stress_check_ret(gpuva_link(&m->base, vm_bo), 0);
	stress_check_ret(gpuvm_gem_gpuva_unlock(&bo->base), 0);
	vm->slot[s] = m;
	pthread_mutex_unlock(&vm->tree_lock);
	atomic_fetch_add(&n_linked, 1);

	/*
	 * Drop obtain's reference. A run_job thread may already have
	 * unlinked the mapping, so this can be the last one: deferred, never
	 * a plain put, in immediate mode.
	 */
	put_deferred(vm_bo);
	return true;

out_map:
	stress_track_freed(&map_track, m->id);
	stress_alloc_free(&drv_alloc, m, sizeof(*m));
out_unreserve:
	pthread_mutex_lock(&vm->tree_lock);
	vm->slot[s] = NULL;
	pthread_mutex_unlock(&vm->tree_lock);
	return false;
}

static void *binder_thread(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned int vi = (unsigned int)stress_below(&w->rng, cfg->nvms);
		struct s_vm *vm = vms[vi];
		unsigned int r = (unsigned int)stress_below(&w->rng, 10);
		unsigned int first, n;

		if (r < 3) {
			/* a run_job thread's own objects, in its own region */
			unsigned int t = (unsigned int)stress_below(&w->rng, cfg->run_jobs);

			thread_region(t, &first, &n);
			bind_one(w, vm, thread_bos[t][stress_below(&w->rng, NTHREAD_BOS)], first,
				 n);
		} else if (r < 8) {
			struct s_bo *bo = r < 6 ? shared_bos[stress_below(&w->rng, NSHARED_BOS)]
						: private_bos[vi][stress_below(&w->rng,
									       NPRIVATE_BOS)];

			bind_one(w, vm, bo, 0, NSHARED_SLOTS);
		} else {
			/*
			 * A transient object: external or private, mapped once
			 * or twice, then only its vm_bos keep it alive. The
			 * cleanup thread frees it, its reservation and its
			 * gpuva lock, while run_job threads may have just
			 * used that lock to queue the vm_bo.
			 */
			bool priv = stress_below(&w->rng, 2);
			struct s_bo *bo = bo_new(BO_TRANSIENT, priv ? vm : NULL);
			unsigned int times = 1 + (unsigned int)stress_below(&w->rng, 2);

			if (!bo)
				continue;
			for (unsigned int i = 0; i < times; i++)
				bind_one(w, vm, bo, 0, NSHARED_SLOTS);
			gpuvm_gem_put(&bo->base);
			atomic_fetch_add(&n_transient, 1);
		}
	}
	return NULL;
}

/* ---- evictor: flip eviction of objects in every VM, holding references ---- */

static struct s_bo *pick_persistent_bo(struct stress_rng *rng)
{
	unsigned int r = (unsigned int)stress_below(rng, 3);

	if (r == 0)
		return shared_bos[stress_below(rng, NSHARED_BOS)];
	if (r == 1)
		return private_bos[stress_below(rng, cfg->nvms)][stress_below(rng, NPRIVATE_BOS)];
	return thread_bos[stress_below(rng, cfg->run_jobs)][stress_below(rng, NTHREAD_BOS)];
}

static void *evictor_thread(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct s_bo *bo = pick_persistent_bo(&w->rng);
		struct gpuvm_bo *refs[MAX_VMS];
		bool evict = stress_below(&w->rng, 4) != 0;
		unsigned int n;

		/*
		 * The object's reservation guards its eviction state; its
		 * gpuva lock guards the list of its vm_bos, which the walk
		 * reads. References taken here are dropped later, racing
		 * with the run_job threads' puts.
		 */
		stress_check_ret(gpuvm_resv_lock(bo->base.resv), 0);
		stress_check_ret(gpuvm_gem_gpuva_lock(&bo->base), 0);
		n = gem_walk_locked(&bo->base, refs, MAX_VMS, "evictor");
		stress_check_ret(gpuvm_bo_gem_evict(&bo->base, evict), 0);
		stress_check_ret(gpuvm_gem_gpuva_unlock(&bo->base), 0);
		stress_check_ret(gpuvm_resv_unlock(bo->base.resv), 0);
		atomic_fetch_add(&n_evicts, 1);

		if (stress_below(&w->rng, 2))
			sched_yield();
		for (unsigned int i = 0; i < n; i++)
			put_deferred(refs[i]);
		stress_sleep_us(20);
	}
	return NULL;
}

/* ---- validator: lock everything, validate, unlock ---- */

/*
 * Every object the exec holds is alive (it holds a reference: a transient
 * object's last vm_bo may be cleaned up meanwhile) and locked by us.
 */
static void check_locked_set(struct gpuvm_exec *exec)
{
	struct gpuvm_gem *obj;
	unsigned int i;

	gpuvm_exec_for_each_locked_object(exec, i, obj) {
		if (obj->funcs == &s_bo_funcs &&
		    !stress_track_is_live(&bo_track, to_s_bo(obj)->id))
			stress_fail("exec holds a freed BO locked");
		else if (!gpuvm_resv_held(obj->resv))
			stress_fail("exec lists a BO whose resv this thread does not hold");
	}
}

static void *validator_thread(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct s_vm *vm = vms[stress_below(&w->rng, cfg->nvms)];
		struct validate_ctx ctx = { .vm = vm, .rng = &w->rng };
		struct gpuvm_exec exec;
		int ret;

		GPUVM_OPTS(gpuvm_exec_opts, eo, .vm = &vm->base);
		stress_check_ret(gpuvm_exec_init(&exec, &eo), 0);
		ret = gpuvm_exec_lock(&exec);
		if (ret) {
			stress_fail("gpuvm_exec_lock: %s", gpuvm_err_name(ret));
			gpuvm_exec_fini(&exec);
			continue;
		}
		check_locked_set(&exec);
		stress_check_ret(gpuvm_validate(&vm->base, &ctx), 0);
		gpuvm_exec_unlock(&exec);
		stress_check_ret(gpuvm_exec_fini(&exec), 0);
		atomic_fetch_add(&n_validated, (long)ctx.calls);
		stress_sleep_us(20);
	}
	return NULL;
}

/* ---- cleanup: deferred vm_bos and removed mappings ---- */

static long cleanup_vm(struct s_vm *vm)
{
	struct s_map *m, *next;
	long n = 0;
	int ret;

	ret = gpuvm_bo_deferred_cleanup(&vm->base);
	if (ret < 0)
		stress_fail("gpuvm_bo_deferred_cleanup: %s", gpuvm_err_name(ret));
	else
		n += ret;
	atomic_fetch_add(&n_cleaned, ret > 0 ? ret : 0);

	pthread_mutex_lock(&vm->dead_lock);
	m = vm->dead;
	vm->dead = NULL;
	pthread_mutex_unlock(&vm->dead_lock);
	for (; m; m = next) {
		next = m->next_dead;
		map_free(m);
		n++;
	}
	return n;
}

static void *cleanup_thread(void *arg)
{
	struct worker *w = arg;
	unsigned long loops = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		long n = 0;

		for (unsigned int i = 0; i < cfg->nvms; i++)
			n += cleanup_vm(vms[i]);
		if (++loops % 64 == 0) {
			/* removals cache index nodes; give them back now and then */
			struct s_vm *vm = vms[stress_below(&w->rng, cfg->nvms)];

			pthread_mutex_lock(&vm->tree_lock);
			gpuvm_index_trim(&vm->base);
			pthread_mutex_unlock(&vm->tree_lock);
		}
		if (!n)
			stress_sleep_us(100);
	}
	return NULL;
}

/* ---- teardown ---- */

static void teardown(void)
{
	/* unmap what is left, the way a VM is destroyed in immediate mode */
	for (unsigned int i = 0; i < cfg->nvms; i++) {
		struct s_vm *vm = vms[i];

		pthread_mutex_lock(&vm->tree_lock);
		for (unsigned int s = 0; s < NSLOTS; s++) {
			struct s_map *m = vm->slot[s];

			if (!m)
				continue;
			if (m == SLOT_RESERVED) {
				stress_fail("slot %u of VM %u still reserved after the threads", s,
					    i);
				continue;
			}
			vm->slot[s] = NULL;
			stress_check_ret(gpuva_remove(&m->base), 0);
			stress_check(gpuva_unlink_defer(&m->base) >= 0);
			map_free(m);
		}
		pthread_mutex_unlock(&vm->tree_lock);
		cleanup_vm(vm);
		/* the deferred stack is empty now: a second pass frees nothing */
		stress_check_ret(gpuvm_bo_deferred_cleanup(&vm->base), 0);
	}

	/* the persistent objects: nothing maps them any more */
	for (unsigned int i = 0; i < NSHARED_BOS; i++)
		gpuvm_gem_put(&shared_bos[i]->base);
	for (unsigned int t = 0; t < cfg->run_jobs; t++)
		for (unsigned int i = 0; i < NTHREAD_BOS; i++)
			gpuvm_gem_put(&thread_bos[t][i]->base);
	for (unsigned int v = 0; v < cfg->nvms; v++)
		for (unsigned int i = 0; i < NPRIVATE_BOS; i++)
			gpuvm_gem_put(&private_bos[v][i]->base);

	for (unsigned int i = 0; i < cfg->nvms; i++) {
		struct s_vm *vm = vms[i];
		unsigned int refs = __atomic_load_n(&vm->base.refcount, __ATOMIC_ACQUIRE);

		if (refs != 1)
			stress_fail("VM %u: %u references left before the last put (vm_bo leak?)",
				    i, refs);
		gpuvm_put(&vm->base);
		if (atomic_load(&vm->vm_free_calls) != 1)
			stress_fail("VM %u: vm_free called %d times", i,
				    atomic_load(&vm->vm_free_calls));
		else if (vm->fini_ret)
			stress_fail("VM %u: gpuvm_fini: %s", i, gpuvm_err_name(vm->fini_ret));
		stress_check_ret(gpuvm_gem_fini(&vm->root), 0);
		stress_check_ret(gpuvm_resv_fini(&vm->resv), 0);
		pthread_mutex_destroy(&vm->tree_lock);
		pthread_mutex_destroy(&vm->dead_lock);
		stress_alloc_free(&drv_alloc, vm, sizeof(*vm));
	}
}

int main(int argc, char **argv)
{
	char prog[64];
	unsigned int ms;
	struct worker run_jobs[MAX_RUN_JOBS], binder, evictor, validator, cleaner;
	struct worker *all[MAX_RUN_JOBS + 4];
	void *(*fn[MAX_RUN_JOBS + 4])(void *);
	const char *names[MAX_RUN_JOBS + 4];
	unsigned int nthreads = 0;
	uint64_t t0;

	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		if (argc > 1 && !strcmp(argv[1], configs[i].name))
			cfg = &configs[i];
	if (!cfg) {
		fprintf(stderr, "usage: %s immediate|immediate-resv|shared\n", argv[0]);
		return 2;
	}
	snprintf(prog, sizeof(prog), "stress_vm_bo %s", cfg->name);
	seed = stress_seed(prog, 0x5eedb0b0c0ffeeull);
	ms = stress_duration_ms(2500);

	stress_alloc_init(&lib_alloc);
	stress_alloc_init(&drv_alloc);
	stress_track_init(&vbo_track, "vm_bo", 1u << 22);
	stress_track_init(&map_track, "mapping", 1u << 22);
	stress_track_init(&bo_track, "BO", 1u << 20);

	for (unsigned int i = 0; i < cfg->nvms; i++)
		vms[i] = vm_new(i, cfg->protected_mask & (1u << i));
	for (unsigned int i = 0; i < NSHARED_BOS; i++)
		shared_bos[i] = bo_new(BO_SHARED, NULL);
	for (unsigned int v = 0; v < cfg->nvms; v++)
		for (unsigned int i = 0; i < NPRIVATE_BOS; i++)
			private_bos[v][i] = bo_new(BO_PRIVATE, vms[v]);
	for (unsigned int t = 0; t < cfg->run_jobs; t++)
		for (unsigned int i = 0; i < NTHREAD_BOS; i++)
			thread_bos[t][i] = bo_new(BO_THREAD, NULL);
	if (atomic_load(&stress_failures))
		return stress_finish(prog);

	for (unsigned int t = 0; t < cfg->run_jobs; t++) {
		names[nthreads] = "run_job";
		all[nthreads] = &run_jobs[t];
		fn[nthreads++] = run_job_thread;
	}
	all[nthreads] = &binder;
	names[nthreads] = "binder";
	fn[nthreads++] = binder_thread;
	all[nthreads] = &evictor;
	names[nthreads] = "evictor";
	fn[nthreads++] = evictor_thread;
	all[nthreads] = &validator;
	names[nthreads] = "validator";
	fn[nthreads++] = validator_thread;
	all[nthreads] = &cleaner;
	names[nthreads] = "cleanup";
	fn[nthreads++] = cleanup_thread;

	t0 = stress_now_ms();
	for (unsigned int i = 0; i < nthreads; i++) {
		all[i]->index = i < cfg->run_jobs ? i : 0;
		stress_rng_init(&all[i]->rng, seed, i);
		if (pthread_create(&all[i]->thread, NULL, fn[i], all[i])) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	stress_sleep_us(ms * 1000u);
	atomic_store(&stop, true);
	for (unsigned int i = 0; i < nthreads; i++)
		stress_join(all[i]->thread, names[i], JOIN_TIMEOUT_MS);

	teardown();
	printf("%s: %u ms, %ld linked, %ld unlinked in the signalling section, %ld vm_bos "
	       "cleaned up deferred (%ld last puts queued), %ld preallocated vm_bos dropped, "
	       "%ld transient BOs, %ld evictions, %ld validations\n",
	       prog, (unsigned int)(stress_now_ms() - t0), atomic_load(&n_linked),
	       atomic_load(&n_unlinked), atomic_load(&n_cleaned), atomic_load(&n_zombie_puts),
	       atomic_load(&n_prealloc_dropped), atomic_load(&n_transient),
	       atomic_load(&n_evicts), atomic_load(&n_validated));
	printf("%s: %u vm_bos, %u mappings, %u BOs created and freed once each\n", prog,
	       stress_track_check_all_freed(&vbo_track), stress_track_check_all_freed(&map_track),
	       stress_track_check_all_freed(&bo_track));
	stress_alloc_check_empty(&lib_alloc, "library");
	stress_alloc_check_empty(&drv_alloc, "driver");
	if (!atomic_load(&n_unlinked) || !atomic_load(&n_cleaned))
		stress_fail("the run did not exercise the deferred path");
	stress_track_fini(&vbo_track);
	stress_track_fini(&map_track);
	stress_track_fini(&bo_track);
	return stress_finish(prog);
}
