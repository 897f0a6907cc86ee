/* SPDX-License-Identifier: MIT */
/*
 * Stress of an emulator-style bind queue in immediate mode, over two VMs
 * (the second RESV_PROTECTED) that share buffer objects:
 *
 *   builder  picks a VM whose previous bind has been applied, builds the op
 *            list of a random request (gpuvm_sm_map_ops_create,
 *            gpuvm_sm_unmap_ops_create or gpuvm_bo_unmap_ops_create: they
 *            allocate), and preallocates what applying it takes: the
 *            mappings of map and remap ops, and the vm_bo of each map op
 *            (gpuvm_bo_create outside any lock + gpuvm_bo_obtain_prealloc);
 *   applier  applies each list inside the fence-signalling section with
 *            those preallocated objects only (gpuva_map/remap/unmap, link,
 *            gpuva_unlink_defer, gpuvm_bo_put_deferred), and checks that
 *            the tree now holds what the request asked for;
 *   cleanup  frees the op lists, the removed mappings and the deferred
 *            vm_bos (gpuvm_bo_deferred_cleanup).
 *
 * The builder builds the next list of a VM only once its previous list is
 * applied (a list is built against the tree as it will be when applied), so
 * it works on one VM while the applier works on the other.
 *
 * Checked: every call's result; after each bind the requested range maps
 * exactly what was asked (or nothing, for unmaps); no allocation or free by
 * the library inside the signalling section (counting allocator; debug
 * builds also abort in the library); every vm_bo, op and mapping freed
 * exactly once; nothing live at the end; a clean gpuvm_verify().
 */
#define _GNU_SOURCE
#include "stress.h"

#include <gpuvm.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PG 0x1000ull
#define VA_PAGES 512u
#define MAX_REQ_PAGES 32u
#define BO_PAGES 64u
#define NVMS 2
#define NSHARED_BOS 6
#define NPRIVATE_BOS 2
#define QUEUE_DEPTH 4
/* workers finish their job within this of the deadline, or are stuck */
#define JOIN_TIMEOUT_MS 15000u

static uint64_t seed;
static atomic_bool stop;
static struct stress_alloc lib_alloc, drv_alloc;
static struct stress_track vbo_track, map_track, op_track, bo_track;
static atomic_long n_binds, n_ops, n_cleaned, n_remaps, n_unmaps, n_bo_unmaps;

struct q_bo {
	struct gpuvm_gem base;
	struct gpuvm_resv own_resv;
	bool has_own_resv;
	uint32_t id;
};

struct q_map {
	struct gpuva base;
	uint32_t id;
	struct q_map *next_dead;
};

struct q_vbo {
	struct gpuvm_bo base;
	uint32_t id;
};

/* An op with what applying it takes, allocated by the builder. */
struct q_op {
	struct gpuva_op base;
	uint32_t id;
	struct q_map *map, *prev, *next;
	struct gpuvm_bo *vm_bo; /* map ops: obtained for the op's object */
};

enum req_kind { REQ_MAP, REQ_UNMAP, REQ_BO_UNMAP };

struct job {
	struct q_vm *vm;
	enum req_kind kind;
	struct gpuva_ops *ops;
	struct gpuvm_map_req req;     /* REQ_MAP */
	uint64_t addr, range;         /* REQ_UNMAP */
	struct gpuvm_bo *unmap_vm_bo; /* REQ_BO_UNMAP: reference held by the job */
	struct q_map *dead;           /* mappings the apply removed */
	struct job *next;
};

struct q_vm {
	struct gpuvm base;
	unsigned int index;
	pthread_mutex_t tree_lock; /* tree changes and op list creation/free */
	struct gpuvm_resv resv;
	struct gpuvm_gem root;
	/* built/applied sequence, under seq_lock */
	unsigned long built, applied;
	int fini_ret;
	atomic_int vm_free_calls;
};

GPUVM_CONTAINER(struct gpuvm_gem, struct q_bo, base, to_q_bo)
GPUVM_CONTAINER(struct gpuva, struct q_map, base, to_q_map)
GPUVM_CONTAINER(struct gpuvm_bo, struct q_vbo, base, to_q_vbo)
GPUVM_CONTAINER(struct gpuva_op, struct q_op, base, to_q_op)
GPUVM_CONTAINER(struct gpuvm, struct q_vm, base, to_q_vm)

static struct q_vm *vms[NVMS];
static struct q_bo *shared_bos[NSHARED_BOS];
static struct q_bo *private_bos[NVMS][NPRIVATE_BOS];

static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seq_cond = PTHREAD_COND_INITIALIZER;

/* A FIFO of jobs with a bounded depth and a "no more input" flag. */
struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, **tail;
	atomic_uint depth; /* read without the lock by the builder's throttle */
	bool closed;
};

static struct queue apply_q, cleanup_q;

static void queue_init(struct queue *q)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->head = NULL;
	q->tail = &q->head;
}

static void queue_push(struct queue *q, struct job *j)
{
	pthread_mutex_lock(&q->lock);
	j->next = NULL;
	*q->tail = j;
	q->tail = &j->next;
	q->depth++;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* NULL once the queue is closed and empty. */
static struct job *queue_pop(struct queue *q)
{
	struct job *j;

	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->closed)
		pthread_cond_wait(&q->cond, &q->lock);
	j = q->head;
	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = &q->head;
		q->depth--;
	}
	pthread_mutex_unlock(&q->lock);
	return j;
}

static void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* ---- callbacks ---- */

static struct gpuvm_bo *q_vbo_alloc(struct gpuvm *vm)
{
	struct q_vbo *b = stress_alloc_zalloc(&lib_alloc, sizeof(*b));

	(void)vm;
	if (b)
		b->id = stress_track_new(&vbo_track);
	return b ? &b->base : NULL;
}

static void q_vbo_free(struct gpuvm_bo *vm_bo)
{
	struct q_vbo *b = to_q_vbo(vm_bo);

	if (!gpuvm_list_empty(&vm_bo->list.gpuva))
		stress_fail("vm_bo %u freed with mappings linked", b->id);
	stress_track_freed(&vbo_track, b->id);
	stress_alloc_free(&lib_alloc, b, sizeof(*b));
}

static struct gpuva_op *q_op_alloc(struct gpuvm *vm)
{
	struct q_op *op = stress_alloc_zalloc(&lib_alloc, sizeof(*op));

	(void)vm;
	if (!op)
		return NULL;
	op->id = stress_track_new(&op_track);
	return &op->base;
}

static void map_free(struct q_map *m);

static void q_op_free(struct gpuvm *vm, struct gpuva_op *base)
{
	struct q_op *op = to_q_op(base);

	(void)vm;
	/* applied ops handed everything over; an unused leftover is a bug here */
	if (op->map || op->prev || op->next || op->vm_bo)
		stress_fail("op %u freed with preallocated objects left", op->id);
	stress_track_freed(&op_track, op->id);
	stress_alloc_free(&lib_alloc, op, sizeof(*op));
}

static void q_vm_free(struct gpuvm *gpuvm)
{
	struct q_vm *vm = to_q_vm(gpuvm);

	vm->fini_ret = gpuvm_fini(gpuvm);
	atomic_fetch_add(&vm->vm_free_calls, 1);
}

static const struct gpuvm_ops q_vm_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_free = q_vm_free,
	.op_alloc = q_op_alloc,
	.op_free = q_op_free,
	.vm_bo_alloc = q_vbo_alloc,
	.vm_bo_free = q_vbo_free,
};

static void q_bo_free(struct gpuvm_gem *obj)
{
	struct q_bo *bo = to_q_bo(obj);

	stress_check_ret(gpuvm_gem_fini(obj), 0);
	if (bo->has_own_resv)
		stress_check_ret(gpuvm_resv_fini(&bo->own_resv), 0);
	stress_track_freed(&bo_track, bo->id);
	stress_alloc_free(&drv_alloc, bo, sizeof(*bo));
}

static const struct gpuvm_gem_funcs q_bo_funcs = { .free = q_bo_free };

/* ---- objects ---- */

static struct q_bo *bo_new(struct q_vm *vm)
{
	struct q_bo *bo = stress_alloc_zalloc(&drv_alloc, sizeof(*bo));
	struct gpuvm_resv *resv = vm ? &vm->resv : &bo->own_resv;

	if (!bo)
		abort();
	bo->id = stress_track_new(&bo_track);
	if (!vm) {
		stress_check_ret(gpuvm_resv_init(&bo->own_resv, NULL), 0);
		bo->has_own_resv = true;
	}
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = BO_PAGES * PG, .funcs = &q_bo_funcs,
		   .resv = resv);
	stress_check_ret(gpuvm_gem_init(&bo->base, &opts), 0);
	return bo;
}

static struct q_map *map_new(void)
{
	struct q_map *m = stress_alloc_zalloc(&drv_alloc, sizeof(*m));

	if (!m)
		abort();
	m->id = stress_track_new(&map_track);
	return m;
}

static void map_free(struct q_map *m)
{
	if (gpuva_vm_bo(&m->base))
		stress_fail("mapping %u freed while linked", m->id);
	if (m->base.state_ & GPUVA__STATE_INSERTED)
		stress_fail("mapping %u freed while inserted", m->id);
	stress_track_freed(&map_track, m->id);
	stress_alloc_free(&drv_alloc, m, sizeof(*m));
}

static struct q_vm *vm_new(unsigned int index, bool resv_protected)
{
	struct q_vm *vm = stress_alloc_zalloc(&drv_alloc, sizeof(*vm));

	if (!vm)
		abort();
	vm->index = index;
	pthread_mutex_init(&vm->tree_lock, NULL);
	stress_check_ret(gpuvm_resv_init(&vm->resv, NULL), 0);
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = 0, .resv = &vm->resv);
	stress_check_ret(gpuvm_gem_init(&vm->root, &gopts), 0);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "bindq",
		   .flags = GPUVM_IMMEDIATE_MODE | (resv_protected ? GPUVM_RESV_PROTECTED : 0),
		   .start = 0, .range = VA_PAGES * PG, .ops = &q_vm_ops,
		   .alloc = &lib_alloc.hooks, .r_obj = &vm->root);
	stress_check_ret(gpuvm_init(&vm->base, &opts), 0);
	return vm;
}

/* ---- builder ---- */

/*
 * The vm_bo of (@vm, @obj) for a map op, allocated outside any lock and made
 * visible by obtain_prealloc, with the object added to the VM's extobj list
 * under both reservations.
 */
static struct gpuvm_bo *obtain_vm_bo(struct q_vm *vm, struct gpuvm_gem *obj)
{
	struct gpuvm_gem *objs[2] = { &vm->root, obj };
	struct gpuvm_bo *pre = NULL, *vm_bo = NULL;
	struct gpuvm_exec exec;

	stress_check_ret(gpuvm_bo_create(&vm->base, obj, &pre), 0);
	if (!pre)
		return NULL;
	GPUVM_OPTS(gpuvm_exec_opts, eo, .vm = &vm->base);
	stress_check_ret(gpuvm_exec_init(&exec, &eo), 0);
	stress_check_ret(gpuvm_exec_lock_array(&exec, objs, 2), 0);
	stress_check_ret(gpuvm_bo_obtain_prealloc(pre, &vm_bo), 0);
	if (vm_bo)
		stress_check_ret(gpuvm_bo_extobj_add(vm_bo), 0);
	gpuvm_exec_unlock(&exec);
	stress_check_ret(gpuvm_exec_fini(&exec), 0);
	return vm_bo;
}

static struct gpuvm_gem *pick_bo(struct stress_rng *rng, unsigned int vi)
{
	if (stress_below(rng, 3))
		return &shared_bos[stress_below(rng, NSHARED_BOS)]->base;
	return &private_bos[vi][stress_below(rng, NPRIVATE_BOS)]->base;
}

static void build(struct stress_rng *rng, struct q_vm *vm, struct job *j)
{
	unsigned int r = (unsigned int)stress_below(rng, 20);
	uint64_t pages = 1 + stress_below(rng, MAX_REQ_PAGES);
	uint64_t addr = stress_below(rng, VA_PAGES - pages + 1) * PG;
	struct gpuva_op *op;
	int ret;

	j->vm = vm;
	pthread_mutex_lock(&vm->tree_lock);
	if (r < 14) {
		struct gpuvm_gem *obj = pick_bo(rng, vm->index);

		j->kind = REQ_MAP;
		j->req.sz = sizeof(j->req);
		j->req.map.va.addr = addr;
		j->req.map.va.range = pages * PG;
		j->req.map.gem.obj = obj;
		j->req.map.gem.offset = stress_below(rng, BO_PAGES - pages + 1) * PG;
		ret = gpuvm_sm_map_ops_create(&vm->base, &j->req, &j->ops);
	} else if (r < 19) {
		j->kind = REQ_UNMAP;
		j->addr = addr;
		j->range = pages * PG;
		ret = gpuvm_sm_unmap_ops_create(&vm->base, addr, pages * PG, &j->ops);
	} else {
		struct gpuvm_gem *obj = pick_bo(rng, vm->index);

		j->kind = REQ_BO_UNMAP;
		stress_check_ret(gpuvm_gem_gpuva_lock(obj), 0);
		j->unmap_vm_bo = gpuvm_bo_find(&vm->base, obj);
		stress_check_ret(gpuvm_gem_gpuva_unlock(obj), 0);
		if (j->unmap_vm_bo)
			ret = gpuvm_bo_unmap_ops_create(j->unmap_vm_bo, &j->ops);
		else
			ret = gpuvm_sm_unmap_ops_create(&vm->base, addr, pages * PG, &j->ops);
	}
	pthread_mutex_unlock(&vm->tree_lock);
	if (ret) {
		stress_fail("ops_create (kind %d): %s", j->kind, gpuvm_err_name(ret));
		j->ops = NULL;
		return;
	}

	/* everything the apply needs, allocated here where allocating is fine */
	gpuva_for_each_op(op, j->ops) {
		struct q_op *q = to_q_op(op);

		switch (op->op) {
		case GPUVA_OP_MAP:
			q->map = map_new();
			q->vm_bo = obtain_vm_bo(vm, op->map.gem.obj);
			break;
		case GPUVA_OP_REMAP:
			if (op->remap.prev)
				q->prev = map_new();
			if (op->remap.next)
				q->next = map_new();
			break;
		case GPUVA_OP_UNMAP:
			break;
		default:
			stress_fail("unexpected op %d", op->op);
		}
	}
}

struct worker {
	pthread_t thread;
	struct stress_rng rng;
};

static void *builder_thread(void *arg)
{
	struct worker *w = arg;
	unsigned long k = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct q_vm *vm = vms[k++ % NVMS];
		struct job *j;

		/* the list must be built against the tree it will be applied to */
		pthread_mutex_lock(&seq_lock);
		while (vm->applied != vm->built)
			pthread_cond_wait(&seq_cond, &seq_lock);
		pthread_mutex_unlock(&seq_lock);

		/* bound the work in flight: cleanup frees what apply leaves behind */
		while (cleanup_q.depth + apply_q.depth > QUEUE_DEPTH * 2 &&
		       !atomic_load_explicit(&stop, memory_order_relaxed))
			sched_yield();

		j = stress_alloc_zalloc(&drv_alloc, sizeof(*j));
		if (!j)
			abort();
		build(&w->rng, vm, j);
		pthread_mutex_lock(&seq_lock);
		vm->built++;
		pthread_mutex_unlock(&seq_lock);
		queue_push(&apply_q, j);
	}
	queue_close(&apply_q);
	return NULL;
}

/* ---- applier: the fence-signalling section ---- */

static void dead_push(struct job *j, struct gpuva *va)
{
	struct q_map *m = to_q_map(va);

	m->next_dead = j->dead;
	j->dead = m;
}

static void link_locked(struct gpuva *va, struct gpuvm_bo *vm_bo)
{
	stress_check_ret(gpuvm_gem_gpuva_lock(vm_bo->obj), 0);
	stress_check_ret(gpuva_link(va, vm_bo), 0);
	stress_check_ret(gpuvm_gem_gpuva_unlock(vm_bo->obj), 0);
}

static void unlink_defer(struct gpuva *va)
{
	int ret = gpuva_unlink_defer(va);

	if (ret < 0)
		stress_fail("gpuva_unlink_defer: %s", gpuvm_err_name(ret));
}

static void apply_op(struct job *j, struct gpuva_op *op)
{
	struct q_op *q = to_q_op(op);
	struct gpuvm *vm = &j->vm->base;

	switch (op->op) {
	case GPUVA_OP_MAP:
		stress_check_ret(gpuva_map(vm, &q->map->base, &op->map), 0);
		if (q->vm_bo)
			link_locked(&q->map->base, q->vm_bo);
		q->map = NULL; /* the tree's now */
		break;
	case GPUVA_OP_REMAP: {
		struct gpuva *old = op->remap.unmap->va;
		struct gpuvm_bo *vm_bo = gpuva_vm_bo(old);

		stress_check_ret(gpuva_remap(q->prev ? &q->prev->base : NULL,
					     q->next ? &q->next->base : NULL, &op->remap),
				 0);
		/* link the pieces before unlinking the old one: the vm_bo stays */
		if (vm_bo) {
			if (q->prev)
				link_locked(&q->prev->base, vm_bo);
			if (q->next)
				link_locked(&q->next->base, vm_bo);
		} else {
			stress_fail("remap of a mapping that is not linked");
		}
		q->prev = q->next = NULL;
		unlink_defer(old);
		dead_push(j, old);
		atomic_fetch_add(&n_remaps, 1);
		break;
	}
	case GPUVA_OP_UNMAP:
		stress_check_ret(gpuva_unmap(&op->unmap), 0);
		unlink_defer(op->unmap.va);
		dead_push(j, op->unmap.va);
		atomic_fetch_add(&n_unmaps, 1);
		break;
	default:
		break;
	}
	atomic_fetch_add(&n_ops, 1);
}

/* The tree holds what the request asked for. */
static void check_applied(struct job *j)
{
	struct gpuvm *vm = &j->vm->base;

	switch (j->kind) {
	case REQ_MAP: {
		struct gpuva *va = gpuva_find(vm, j->req.map.va.addr, j->req.map.va.range);

		if (!va || gpuva_gem(va) != j->req.map.gem.obj ||
		    va->gem.offset != j->req.map.gem.offset || !gpuva_vm_bo(va))
			stress_fail("VM %u: map of 0x%llx+0x%llx not in the tree after apply",
				    j->vm->index, (unsigned long long)j->req.map.va.addr,
				    (unsigned long long)j->req.map.va.range);
		break;
	}
	case REQ_UNMAP:
		if (!gpuvm_interval_empty(vm, j->addr, j->range))
			stress_fail("VM %u: 0x%llx+0x%llx still mapped after unmap", j->vm->index,
				    (unsigned long long)j->addr, (unsigned long long)j->range);
		break;
	case REQ_BO_UNMAP:
		atomic_fetch_add(&n_bo_unmaps, 1);
		if (j->unmap_vm_bo) {
			struct gpuvm_gem *obj = j->unmap_vm_bo->obj;

			stress_check_ret(gpuvm_gem_gpuva_lock(obj), 0);
			if (!gpuvm_list_empty(&j->unmap_vm_bo->list.gpuva))
				stress_fail("VM %u: vm_bo still has mappings after bo_unmap",
					    j->vm->index);
			stress_check_ret(gpuvm_gem_gpuva_unlock(obj), 0);
		}
		break;
	}
}

static void put_deferred(struct gpuvm_bo *vm_bo)
{
	int ret = gpuvm_bo_put_deferred(vm_bo);

	if (ret < 0 || ret > 1)
		stress_fail("gpuvm_bo_put_deferred returned %d", ret);
}

static void *applier_thread(void *arg)
{
	struct job *j;

	(void)arg;
	while ((j = queue_pop(&apply_q))) {
		struct q_vm *vm = j->vm;
		struct gpuva_op *op;
		bool cookie;

		/*
		 * Nothing in here may allocate, free or wait for a
		 * reservation: in a driver, this is run_job() and a fence
		 * waits for it. Everything it needs was made by the builder.
		 */
		cookie = gpuvm_signalling_begin();
		if (j->ops) {
			pthread_mutex_lock(&vm->tree_lock);
			gpuva_for_each_op(op, j->ops)
				apply_op(j, op);
			check_applied(j);
			pthread_mutex_unlock(&vm->tree_lock);
			/* obtain's references: the links hold their own now */
			gpuva_for_each_op(op, j->ops) {
				struct q_op *q = to_q_op(op);

				if (q->vm_bo) {
					put_deferred(q->vm_bo);
					q->vm_bo = NULL;
				}
			}
		}
		if (j->unmap_vm_bo) {
			put_deferred(j->unmap_vm_bo);
			j->unmap_vm_bo = NULL;
		}
		gpuvm_signalling_end(cookie);

		pthread_mutex_lock(&seq_lock);
		vm->applied++;
		pthread_cond_broadcast(&seq_cond);
		pthread_mutex_unlock(&seq_lock);
		atomic_fetch_add(&n_binds, 1);
		queue_push(&cleanup_q, j);
	}
	queue_close(&cleanup_q);
	return NULL;
}

/* ---- cleanup ---- */

static void cleanup_vms(void)
{
	for (unsigned int i = 0; i < NVMS; i++) {
		int ret = gpuvm_bo_deferred_cleanup(&vms[i]->base);

		if (ret < 0)
			stress_fail("gpuvm_bo_deferred_cleanup: %s", gpuvm_err_name(ret));
		else
			atomic_fetch_add(&n_cleaned, ret);
	}
}

static void *cleanup_thread(void *arg)
{
	struct job *j;

	(void)arg;
	while ((j = queue_pop(&cleanup_q))) {
		struct q_map *m, *next;

		if (j->ops) {
			/* op lists hold index reservations: a change of the VM's index */
			pthread_mutex_lock(&j->vm->tree_lock);
			gpuva_ops_free(&j->vm->base, j->ops);
			pthread_mutex_unlock(&j->vm->tree_lock);
		}
		for (m = j->dead; m; m = next) {
			next = m->next_dead;
			map_free(m);
		}
		stress_alloc_free(&drv_alloc, j, sizeof(*j));
		cleanup_vms();
	}
	return NULL;
}

/* ---- main ---- */

static void teardown(void)
{
	for (unsigned int i = 0; i < NVMS; i++) {
		struct q_vm *vm = vms[i];
		struct gpuva *va, *next;

		stress_check_ret(gpuvm_verify(&vm->base), 0);
		gpuvm_for_each_va_safe(va, next, &vm->base) {
			stress_check_ret(gpuva_remove(va), 0);
			stress_check(gpuva_unlink_defer(va) >= 0);
			map_free(to_q_map(va));
		}
	}
	cleanup_vms();
	for (unsigned int i = 0; i < NSHARED_BOS; i++)
		gpuvm_gem_put(&shared_bos[i]->base);
	for (unsigned int v = 0; v < NVMS; v++)
		for (unsigned int i = 0; i < NPRIVATE_BOS; i++)
			gpuvm_gem_put(&private_bos[v][i]->base);
	for (unsigned int i = 0; i < NVMS; i++) {
		struct q_vm *vm = vms[i];

		gpuvm_put(&vm->base);
		if (atomic_load(&vm->vm_free_calls) != 1)
			stress_fail("VM %u: vm_free called %d times (vm_bo leak?)", i,
				    atomic_load(&vm->vm_free_calls));
		else if (vm->fini_ret)
			stress_fail("VM %u: gpuvm_fini: %s", i, gpuvm_err_name(vm->fini_ret));
		stress_check_ret(gpuvm_gem_fini(&vm->root), 0);
		stress_check_ret(gpuvm_resv_fini(&vm->resv), 0);
		pthread_mutex_destroy(&vm->tree_lock);
		stress_alloc_free(&drv_alloc, vm, sizeof(*vm));
	}
}

int main(void)
{
	const char *prog = "stress_bind_queue";
	struct worker builder, applier, cleaner;
	unsigned int ms;
	uint64_t t0;

	seed = stress_seed(prog, 0xb1ddc0ffee5eedull);
	ms = stress_duration_ms(2500);
	stress_alloc_init(&lib_alloc);
	stress_alloc_init(&drv_alloc);
	stress_track_init(&vbo_track, "vm_bo", 1u << 22);
	stress_track_init(&map_track, "mapping", 1u << 22);
	stress_track_init(&op_track, "op", 1u << 23);
	stress_track_init(&bo_track, "BO", 64);
	queue_init(&apply_q);
	queue_init(&cleanup_q);

	for (unsigned int i = 0; i < NVMS; i++)
		vms[i] = vm_new(i, i == 1);
	for (unsigned int i = 0; i < NSHARED_BOS; i++)
		shared_bos[i] = bo_new(NULL);
	for (unsigned int v = 0; v < NVMS; v++)
		for (unsigned int i = 0; i < NPRIVATE_BOS; i++)
			private_bos[v][i] = bo_new(vms[v]);
	if (atomic_load(&stress_failures))
		return stress_finish(prog);

	stress_rng_init(&builder.rng, seed, 0);
	t0 = stress_now_ms();
	if (pthread_create(&builder.thread, NULL, builder_thread, &builder) ||
	    pthread_create(&applier.thread, NULL, applier_thread, &applier) ||
	    pthread_create(&cleaner.thread, NULL, cleanup_thread, &cleaner)) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	stress_sleep_us(ms * 1000u);
	atomic_store(&stop, true);
	stress_join(builder.thread, "builder", JOIN_TIMEOUT_MS);
	stress_join(applier.thread, "applier", JOIN_TIMEOUT_MS);
	stress_join(cleaner.thread, "cleanup", JOIN_TIMEOUT_MS);

	teardown();
	printf("%s: %u ms, %ld binds (%ld bo_unmaps), %ld ops applied (%ld remaps, %ld unmaps), "
	       "%ld vm_bos cleaned up deferred\n",
	       prog, (unsigned int)(stress_now_ms() - t0), atomic_load(&n_binds),
	       atomic_load(&n_bo_unmaps), atomic_load(&n_ops), atomic_load(&n_remaps),
	       atomic_load(&n_unmaps), atomic_load(&n_cleaned));
	printf("%s: %u vm_bos, %u ops, %u mappings, %u BOs created and freed once each\n", prog,
	       stress_track_check_all_freed(&vbo_track), stress_track_check_all_freed(&op_track),
	       stress_track_check_all_freed(&map_track), stress_track_check_all_freed(&bo_track));
	stress_alloc_check_empty(&lib_alloc, "library");
	stress_alloc_check_empty(&drv_alloc, "driver");
	if (!atomic_load(&n_remaps) || !atomic_load(&n_unmaps) || !atomic_load(&n_cleaned))
		stress_fail("the run did not exercise remaps, unmaps and deferred cleanup");
	stress_track_fini(&vbo_track);
	stress_track_fini(&map_track);
	stress_track_fini(&op_track);
	stress_track_fini(&bo_track);
	return stress_finish(prog);
}
