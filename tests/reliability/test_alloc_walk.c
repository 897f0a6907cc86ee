/* SPDX-License-Identifier: MIT */
/*
 * The allocation-failure walk: every public entry point that may allocate
 * is called with its 1st, 2nd, ... allocation failing until it succeeds, from
 * several starting states (an empty VM, a VM whose mappings the call splits,
 * a tree of height 2 or more, reserved index nodes outstanding, immediate
 * mode, driver-allocated ops and vm_bos, reservations to lock, ...).
 *
 * Every failing attempt must return -ENOMEM after exactly one injected
 * failure, leave the full state as it was (the dump of every VM with every
 * object's reference count and vm_bos, the extobj and evict lists, which
 * reservations and gpuva locks are held) and leave the allocator's live
 * blocks and bytes where they were. The state a walk expects to allocate in
 * must see at least one failing N, and one that must not allocate none, so
 * a path that silently stopped allocating (or started) is noticed.
 *
 * The replay tool's request handler (tools/gpuvm-replay, replay_line()) is
 * walked over every conformance trace: a failing request must be refused
 * with ENOMEM, leave the replay's VMs, objects and counts as they were and
 * leak nothing (the allocator's live blocks are accounted for exactly from
 * the replay's state), and the listing of the successful attempts must be
 * the trace's expected listing.
 *
 * tests/unit/test_alloc_fail.c is the older ladder over the list-mode
 * creators and inserts; this is the systematic one.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>
#include <gpuvm/exec.h>

#include <dirent.h>
#include <stdio.h>

#include "index.h"
#include "test_util.h"

#include "replay.h"

/* ---- the tally of (entry point, N) pairs ---- */

struct tally {
	const char *ep;
	unsigned long pairs;   /* attempts (for a "must not allocate" entry: calls checked) */
	unsigned long failing; /* attempts that failed with the injected -ENOMEM */
	unsigned long walks;   /* starting states walked */
	bool never;            /* checked not to allocate at all: not a walk */
};

#define MAX_TALLY 64
static struct tally tallies[MAX_TALLY];
static unsigned int ntally;

static struct tally *tally_of(const char *ep)
{
	for (unsigned int i = 0; i < ntally; i++)
		if (!strcmp(tallies[i].ep, ep))
			return &tallies[i];
	assert_true(ntally < MAX_TALLY);
	tallies[ntally].ep = ep;
	tallies[ntally].never = strstr(ep, "must not allocate") != NULL;
	return &tallies[ntally++];
}

/* ---- the world: VMs, objects, reservations, a pool of mappings ---- */

#define NGEM 48        /* g[0..23] may be mapped; g[24..47] only locked */
#define NMAPPED 24
#define NLOCAL 4       /* resv worlds: g[0..3] share the VM's reservation */
#define GEM_SIZE (1ull << 30)
#define VM_RANGE (1ull << 40)
#define RESERVE_ADDR (1ull << 39)
#define RESERVE_RANGE (1ull << 20)

enum world_kind {
	W_PLAIN = 0,
	W_IMMEDIATE = 1u << 0, /* GPUVM_IMMEDIATE_MODE */
	W_RESV = 1u << 1,      /* r_obj and reservations on every object */
	W_PROTECTED = 1u << 2, /* GPUVM_RESV_PROTECTED (with W_RESV) */
	W_DRIVER = 1u << 3,    /* ops->op_alloc and ops->vm_bo_alloc */
};

struct world;

struct wvm {
	struct gpuvm vm;
	struct world *w;
};

GPUVM_CONTAINER(struct gpuvm, struct wvm, vm, wvm_of)

struct world {
	unsigned int kind;
	struct test_alloc ta;
	struct gpuvm_resv vm_resv;
	struct gpuvm_resv resv[NGEM];
	struct gpuvm_gem root;
	struct test_gem g[NGEM];
	struct wvm v[2];
	struct va_pool pool;
};

static struct test_alloc *ta_of_vm(const struct gpuvm *vm)
{
	return &wvm_of(vm)->w->ta;
}

static void *ta_zalloc(struct test_alloc *ta, size_t size, size_t align)
{
	void *p = ta->hooks.alloc(ta->hooks.user_data, size, align);

	if (p)
		memset(p, 0, size);
	return p;
}

/* Driver-allocated ops and vm_bos come from the same counting allocator. */
static struct gpuva_op *drv_op_alloc(struct gpuvm *vm)
{
	return ta_zalloc(ta_of_vm(vm), sizeof(struct gpuva_op), _Alignof(struct gpuva_op));
}

static void drv_op_free(struct gpuvm *vm, struct gpuva_op *op)
{
	struct test_alloc *ta = ta_of_vm(vm);

	ta->hooks.free(ta->hooks.user_data, op, sizeof(*op));
}

static struct gpuvm_bo *drv_vm_bo_alloc(struct gpuvm *vm)
{
	return ta_zalloc(ta_of_vm(vm), sizeof(struct gpuvm_bo), _Alignof(struct gpuvm_bo));
}

static void drv_vm_bo_free(struct gpuvm_bo *vm_bo)
{
	struct test_alloc *ta = ta_of_vm(vm_bo->vm);

	ta->hooks.free(ta->hooks.user_data, vm_bo, sizeof(*vm_bo));
}

static int cb_map(struct gpuva_op *op, void *priv);
static int cb_remap(struct gpuva_op *op, void *priv);
static int cb_unmap(struct gpuva_op *op, void *priv);

static const struct gpuvm_ops steps_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_map = cb_map,
	.sm_step_remap = cb_remap,
	.sm_step_unmap = cb_unmap,
};

static const struct gpuvm_ops driver_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.op_alloc = drv_op_alloc,
	.op_free = drv_op_free,
	.vm_bo_alloc = drv_vm_bo_alloc,
	.vm_bo_free = drv_vm_bo_free,
	.sm_step_map = cb_map,
	.sm_step_remap = cb_remap,
	.sm_step_unmap = cb_unmap,
};

static struct gpuvm *wv(struct world *w, unsigned int i)
{
	return &w->v[i].vm;
}

static struct gpuvm_gem *gem(struct world *w, unsigned int i)
{
	return &w->g[i].base;
}

static struct world *world_new(unsigned int kind)
{
	struct world *w = calloc(1, sizeof(*w));
	const bool resv = kind & (W_RESV | W_PROTECTED);

	assert_non_null(w);
	w->kind = kind;
	test_alloc_init(&w->ta);
	va_pool_init(&w->pool, 1u << 15);
	assert_ret(gpuvm_resv_init(&w->vm_resv, NULL), 0);
	for (unsigned int i = 0; i < NGEM; i++)
		assert_ret(gpuvm_resv_init(&w->resv[i], NULL), 0);
	if (resv) {
		GPUVM_OPTS(gpuvm_gem_opts, ro, .size = GEM_SIZE, .resv = &w->vm_resv);

		assert_ret(gpuvm_gem_init(&w->root, &ro), 0);
	}
	for (unsigned int i = 0; i < NGEM; i++) {
		char name[16];

		snprintf(name, sizeof(name), "G%u", i);
		assert_ret(test_gem_init(&w->g[i], name, GEM_SIZE), 0);
		if (resv)
			w->g[i].base.resv = i < NLOCAL ? &w->vm_resv : &w->resv[i];
	}
	for (unsigned int i = 0; i < 2; i++) {
		GPUVM_OPTS(gpuvm_init_opts, opts, .name = i ? "w1" : "w0", .range = VM_RANGE,
			   .reserve_addr = RESERVE_ADDR, .reserve_range = RESERVE_RANGE,
			   .ops = (kind & W_DRIVER) ? &driver_ops : &steps_ops,
			   .alloc = test_alloc_hooks(&w->ta), .r_obj = resv ? &w->root : NULL);

		if (kind & W_IMMEDIATE)
			opts.flags |= GPUVM_IMMEDIATE_MODE;
		if (kind & W_PROTECTED)
			opts.flags |= GPUVM_RESV_PROTECTED;
		w->v[i].w = w;
		assert_ret(gpuvm_init(&w->v[i].vm, &opts), 0);
	}
	return w;
}

/*
 * The locks a change of @obj's vm_bo list needs outside immediate mode: the
 * object's reservation, and the VM's with RESV_PROTECTED (a last put takes
 * the vm_bo off the extobj and evict lists).
 */
struct held {
	struct gpuvm_resv *r[2];
	unsigned int n;
};

static void hold(struct held *h, struct gpuvm_resv *r)
{
	if (r && !gpuvm_resv_held(r)) {
		assert_ret(gpuvm_resv_lock(r), 0);
		h->r[h->n++] = r;
	}
}

static void hold_for(struct held *h, struct gpuvm *vm, struct gpuvm_gem *obj)
{
	h->n = 0;
	if (gpuvm_resv_protected(vm))
		hold(h, gpuvm_resv(vm));
	if (obj)
		hold(h, obj->resv);
}

static void release(struct held *h)
{
	while (h->n)
		assert_ret(gpuvm_resv_unlock(h->r[--h->n]), 0);
}

/* Link @va to @vm_bo under the gem's list lock. */
static void wlink(struct gpuvm *vm, struct gpuva *va, struct gpuvm_bo *vm_bo)
{
	struct gpuvm_gem *obj = vm_bo->obj;

	if (gpuvm_immediate_mode(vm)) {
		assert_ret(gpuvm_gem_gpuva_lock(obj), 0);
		assert_ret(gpuva_link(va, vm_bo), 0);
		assert_ret(gpuvm_gem_gpuva_unlock(obj), 0);
	} else {
		struct held h;

		hold_for(&h, vm, obj);
		assert_ret(gpuva_link(va, vm_bo), 0);
		release(&h);
	}
}

/* Unlink @va if it is linked, the way the VM's mode wants it. */
static void wunlink(struct gpuva *va)
{
	struct gpuvm_bo *vm_bo = gpuva_vm_bo(va);
	struct held h;

	if (!vm_bo)
		return;
	if (gpuvm_immediate_mode(vm_bo->vm)) {
		assert_ret(gpuva_unlink_defer(va), 0);
		return;
	}
	hold_for(&h, vm_bo->vm, vm_bo->obj);
	assert_ret(gpuva_unlink(va), 0);
	release(&h);
}

/* Drop a vm_bo reference the test holds, the way the VM's mode wants it. */
static void wput(struct gpuvm_bo *vm_bo)
{
	struct held h;

	if (!vm_bo)
		return;
	if (gpuvm_immediate_mode(vm_bo->vm)) {
		assert_true(gpuvm_bo_put_deferred(vm_bo) >= 0);
		assert_true(gpuvm_bo_deferred_cleanup(vm_bo->vm) >= 0);
		return;
	}
	hold_for(&h, vm_bo->vm, vm_bo->obj);
	gpuvm_bo_put(vm_bo);
	release(&h);
}

/* Obtain a vm_bo with allocations allowed (not part of a walk). */
static struct gpuvm_bo *wobtain(struct gpuvm *vm, struct gpuvm_gem *obj)
{
	struct gpuvm_bo *vm_bo = NULL;
	struct held h = { .n = 0 };

	if (!gpuvm_immediate_mode(vm))
		hold_for(&h, vm, obj);
	assert_ret(gpuvm_bo_obtain(vm, obj, &vm_bo), 0);
	if (gpuvm_is_extobj(vm, obj) && !gpuvm_immediate_mode(vm))
		assert_ret(gpuvm_bo_extobj_add(vm_bo), 0);
	release(&h);
	return vm_bo;
}

/* Insert a mapping of @obj (NULL: sparse) and link it. */
static struct gpuva *wmap(struct world *w, unsigned int vi, uint64_t addr, uint64_t range,
			  struct gpuvm_gem *obj, uint64_t off)
{
	struct gpuva *va = va_pool_get(&w->pool);
	struct gpuvm_bo *vm_bo;

	gpuva_init(va, addr, range, obj, off);
	assert_ret(gpuva_insert(wv(w, vi), va), 0);
	if (!obj)
		return va;
	vm_bo = wobtain(wv(w, vi), obj);
	wlink(wv(w, vi), va, vm_bo);
	wput(vm_bo);
	return va;
}

static void world_free(struct world *w)
{
	for (unsigned int i = 0; i < 2; i++) {
		struct gpuvm *vm = wv(w, i);
		struct gpuva *va, *next;

		gpuvm_for_each_va_safe(va, next, vm) {
			wunlink(va);
			assert_ret(gpuva_remove(va), 0);
		}
		if (gpuvm_immediate_mode(vm))
			assert_true(gpuvm_bo_deferred_cleanup(vm) >= 0);
		assert_ret(gpuvm_fini(vm), 0);
	}
	for (unsigned int i = 0; i < NGEM; i++) {
		gpuvm_gem_put(gem(w, i));
		assert_int_equal(w->g[i].frees, 1);
		assert_ret(w->g[i].fini_ret, 0);
	}
	if (w->kind & (W_RESV | W_PROTECTED))
		assert_ret(gpuvm_gem_fini(&w->root), 0);
	for (unsigned int i = 0; i < NGEM; i++)
		assert_ret(gpuvm_resv_fini(&w->resv[i]), 0);
	assert_ret(gpuvm_resv_fini(&w->vm_resv), 0);
	assert_int_equal(w->ta.live, 0);
	assert_int_equal(w->ta.live_bytes, 0);
	assert_int_equal(w->ta.errors, 0);
	va_pool_fini(&w->pool);
	free(w);
}

static void dump_bo_list(struct test_str *b, const char *what, const struct gpuvm_list *head,
			 bool extobj)
{
	const struct gpuvm_list *e;

	test_str_printf(b, "%s:", what);
	for (e = head->next; e != head; e = e->next) {
		const struct gpuvm_bo *vm_bo = extobj ?
			gpuvm__list_entry(e, struct gpuvm_bo, list.entry.extobj) :
			gpuvm__list_entry(e, struct gpuvm_bo, list.entry.evict);

		test_str_printf(b, " %p(ref=%u ev=%d)", (const void *)vm_bo, vm_bo->refcount,
				(int)vm_bo->evicted);
	}
	test_str_printf(b, "\n");
}

/*
 * Everything a failed call must leave alone: each VM's dump (header, index
 * figures, mappings, every object's reference count and vm_bos with theirs),
 * its extobj and evict lists and deferred stack, and which locks this thread
 * holds.
 */
static char *world_dump(struct world *w)
{
	struct gpuvm_gem *extra[NGEM + 1];
	struct test_str b = { 0 };
	size_t n = 0;

	for (unsigned int i = 0; i < NGEM; i++)
		extra[n++] = gem(w, i);
	if (w->kind & (W_RESV | W_PROTECTED))
		extra[n++] = &w->root;
	for (unsigned int i = 0; i < 2; i++) {
		struct gpuvm *vm = wv(w, i);
		char *s = test_dump_vm(vm, extra, n);

		test_str_printf(&b, "%s", s);
		free(s);
		dump_bo_list(&b, "extobj", &vm->extobj.list, true);
		dump_bo_list(&b, "evict", &vm->evict.list, false);
		test_str_printf(&b, "deferred empty=%d\n", (int)gpuvm__defer_empty(vm));
	}
	test_str_printf(&b, "held: vm=%d", (int)gpuvm_resv_held(&w->vm_resv));
	for (unsigned int i = 0; i < NGEM; i++)
		test_str_printf(&b, "%d%d", (int)gpuvm_resv_held(&w->resv[i]),
				(int)gpuvm_gem_gpuva_lock_held(gem(w, i)));
	test_str_printf(&b, "\n");
	return test_str_take(&b);
}

static void verify_all(struct world *w)
{
	for (unsigned int i = 0; i < 2; i++)
		assert_ret(gpuvm_verify(wv(w, i)), 0);
}

/* ---- the walk ---- */

enum expect {
	MUST_ALLOC, /* at least one failing N */
	NO_ALLOC,   /* succeeds at N = 1 without having allocated */
	MAY_ALLOC,  /* one of a series whose sum is checked by the caller */
};

struct walk {
	const char *ep;    /* the entry point, for the tally */
	const char *state; /* the starting state, for messages */
	int (*call)(struct world *w, void *arg);
	void (*done)(struct world *w, void *arg); /* after the successful call */
	void *arg;
	enum expect expect;
	/* a warm gpuvm_exec whose kept storage may be reallocated by the call */
	const struct gpuvm_exec *exec;
};

/* Bytes of a gpuvm_exec's kept storage (lib/exec.c's set_bytes()). */
static size_t exec_storage(const struct gpuvm_exec *exec)
{
	return (size_t)exec->cap_ * (sizeof(void *) * 2 + 2 * sizeof(uint32_t));
}

/*
 * Walk N = 1, 2, ... with the Nth allocation of @k->call failing until the
 * call succeeds. Returns the number of failing N.
 */
static unsigned long walk(struct world *w, const struct walk *k)
{
	struct tally *t = tally_of(k->ep);
	char *before = world_dump(w);
	const size_t live = w->ta.live, bytes = w->ta.live_bytes;
	const size_t ebytes = k->exec ? exec_storage(k->exec) : 0;
	unsigned long n;

	verify_all(w);
	for (n = 1;; n++) {
		unsigned long calls = w->ta.calls, injected;
		char *after;
		int ret;

		test_alloc_fail_at(&w->ta, n);
		ret = k->call(w, k->arg);
		injected = w->ta.injected;
		test_alloc_fail_at(&w->ta, 0);
		t->pairs++;
		if (ret == 0) {
			if (injected)
				fail_msg("%s [%s] N=%lu: an allocation failed, the call returned 0",
					 k->ep, k->state, n);
			if (k->expect == NO_ALLOC && w->ta.calls != calls)
				fail_msg("%s [%s]: allocated %lu times, where it must not",
					 k->ep, k->state, w->ta.calls - calls);
			break;
		}
		t->failing++;
		if (ret != -ENOMEM)
			fail_msg("%s [%s] N=%lu: returned %d (%s), want -ENOMEM", k->ep, k->state,
				 n, ret, gpuvm_err_name(ret));
		if (injected != 1)
			fail_msg("%s [%s] N=%lu: -ENOMEM after %lu injected failures", k->ep,
				 k->state, n, injected);
		after = world_dump(w);
		if (strcmp(before, after)) {
			test_dump_diff(before, after);
			fail_msg("%s [%s] N=%lu: a failed call changed the state", k->ep,
				 k->state, n);
		}
		free(after);
		if (w->ta.live != live ||
		    w->ta.live_bytes - (k->exec ? exec_storage(k->exec) : 0) != bytes - ebytes)
			fail_msg("%s [%s] N=%lu: %zu blocks (%zu bytes) live, want %zu (%zu)",
				 k->ep, k->state, n, w->ta.live, w->ta.live_bytes, live, bytes);
		assert_int_equal(w->ta.errors, 0);
		verify_all(w);
		if (n > 100000)
			fail_msg("%s [%s]: no success after %lu attempts", k->ep, k->state, n);
	}
	t->walks++;
	if (k->expect == MUST_ALLOC && n == 1)
		fail_msg("%s [%s]: succeeded at N=1: the state did not make it allocate",
			 k->ep, k->state);
	if (k->expect == NO_ALLOC && n != 1)
		fail_msg("%s [%s]: %lu failing N where none was expected", k->ep, k->state,
			 n - 1);
	if (k->done)
		k->done(w, k->arg);
	assert_int_equal(w->ta.errors, 0);
	verify_all(w);
	free(before);
	return n - 1;
}

/* ---- a big VM: a tree of height 2 or more ---- */

#define BLOCKS 4
#define PER_BLOCK 300
#define BLOCK_SPAN 0x10000000ull
#define GAP 0x01000000ull /* an empty region inside each block */

static uint64_t block_base(unsigned int k)
{
	return BLOCK_SPAN * (k + 1);
}

/* Mapping i of block k: [base + 4i pages, +2 pages). */
static uint64_t map_addr(unsigned int k, unsigned int i)
{
	return block_base(k) + 4 * PG * i;
}

/* Mapping i maps G(i % 4 - 1), every fourth one is sparse. */
static struct gpuvm_gem *big_gem(struct world *w, unsigned int i)
{
	return i % 4 ? gem(w, i % 4 - 1) : NULL;
}

static void fill_big(struct world *w)
{
	struct gpuvm_stats st = { .sz = sizeof(st) };
	size_t had;

	assert_ret(gpuvm_stats(wv(w, 0), &st), 0);
	had = st.mappings;

	for (unsigned int k = 0; k < BLOCKS; k++)
		for (unsigned int i = 0; i < PER_BLOCK; i++)
			wmap(w, 0, map_addr(k, i), 2 * PG, big_gem(w, i), i * PG);
	/* the second VM maps the same objects, so their lists hold two vm_bos */
	for (unsigned int i = 0; i < 8; i++)
		wmap(w, 1, map_addr(0, i), PG, big_gem(w, i), 0);
	assert_ret(gpuvm_stats(wv(w, 0), &st), 0);
	assert_int_equal(st.mappings, had + BLOCKS * PER_BLOCK);
	assert_true(st.height >= 2);
	verify_all(w);
}

/* ---- inserts ---- */

struct ins_arg {
	struct gpuva *va;
	uint64_t addr, range;
	struct gpuvm_gem *obj;
	unsigned int vi;
};

static int call_insert(struct world *w, void *arg)
{
	struct ins_arg *a = arg;

	gpuva_init(a->va, a->addr, a->range, a->obj, 0);
	return gpuva_insert(wv(w, a->vi), a->va);
}

static int call_map(struct world *w, void *arg)
{
	struct ins_arg *a = arg;
	struct gpuva_op_map op = { .va = { a->addr, a->range }, .gem = { 0, a->obj } };

	return gpuva_map(wv(w, a->vi), a->va, &op);
}

static void done_inserted(struct world *w, void *arg)
{
	struct ins_arg *a = arg;

	assert_ptr_equal(gpuva_find(wv(w, a->vi), a->addr, a->range), a->va);
	assert_true(va_inserted(a->va));
}

/* One mapping into an empty VM, then a run that must split a leaf. */
static void insert_runs(struct world *w, const char *ep, int (*call)(struct world *, void *),
			unsigned int vi, uint64_t base)
{
	const unsigned int run = (unsigned int)(gpuvm__index_node_size() / 16) + 4;
	unsigned long failing = 0;

	for (unsigned int i = 0; i < run; i++) {
		struct ins_arg a = { .va = va_pool_get(&w->pool), .addr = base + 2 * PG * i,
				     .range = PG, .vi = vi };
		struct walk k = { .ep = ep, .state = i ? "leaf filling up" : "empty VM",
				  .call = call, .done = done_inserted, .arg = &a,
				  .expect = i ? MAY_ALLOC : MUST_ALLOC };

		gpuvm_index_trim(wv(w, vi));
		failing += walk(w, &k);
	}
	/* the first insert plus at least one split on the way */
	assert_true(failing >= 2);
}

static void inserts(void **state)
{
	static const unsigned int kinds[] = { W_PLAIN, W_IMMEDIATE, W_DRIVER };

	(void)state;
	for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
		struct world *w = world_new(kinds[ki]);
		unsigned long failing = 0;

		insert_runs(w, "gpuva_insert", call_insert, 0, 0x100000);
		insert_runs(w, "gpuva_map", call_map, 1, 0x100000);
		fill_big(w);
		/* in the middle of a tree of height >= 2, into full leaves */
		for (unsigned int k = 0; k < BLOCKS; k++) {
			for (unsigned int i = 0; i < 40; i++) {
				struct ins_arg a = { .va = va_pool_get(&w->pool),
						     .addr = map_addr(k, 5 * i) + 2 * PG,
						     .range = PG,
						     .obj = big_gem(w, i + 1) };
				struct walk kw = { .ep = k % 2 ? "gpuva_map" : "gpuva_insert",
						   .state = "tree of height >= 2", .arg = &a,
						   .call = k % 2 ? call_map : call_insert,
						   .done = done_inserted, .expect = MAY_ALLOC };

				gpuvm_index_trim(wv(w, 0));
				failing += walk(w, &kw);
			}
		}
		assert_true(failing >= 1);
		/*
		 * Reserved nodes are not gpuva_insert()'s: splits allocate their
		 * own. gpuva_map() may use them (it applies reserved ops).
		 */
		gpuvm_index_trim(wv(w, 0));
		assert_ret(gpuvm_index_reserve(wv(w, 0), 3), 0);
		failing = 0;
		for (unsigned int i = 0; i < 40; i++) {
			struct ins_arg a = { .va = va_pool_get(&w->pool),
					     .addr = block_base(0) + GAP + 2 * PG * i,
					     .range = PG };
			struct walk kw = { .ep = "gpuva_insert",
					   .state = "index nodes reserved by someone else",
					   .call = call_insert, .done = done_inserted, .arg = &a,
					   .expect = MAY_ALLOC };

			failing += walk(w, &kw);
		}
		assert_true(failing >= 1);
		gpuvm_index_unreserve(wv(w, 0), 3);
		world_free(w);
	}
}

/* ---- gpuva_remap without an op list ---- */

struct remap_arg {
	struct gpuva *prev, *next;
	struct gpuva_op_map pm, nm;
	struct gpuva_op_unmap um;
	struct gpuva_op_remap op;
	struct gpuvm_bo *vm_bo;
};

static int call_remap(struct world *w, void *arg)
{
	struct remap_arg *a = arg;

	(void)w;
	return gpuva_remap(a->prev, a->next, &a->op);
}

static void done_remap(struct world *w, void *arg)
{
	struct remap_arg *a = arg;
	struct gpuva *old = a->um.va;

	(void)w;
	assert_false(va_inserted(old));
	if (a->prev)
		assert_true(va_inserted(a->prev));
	if (a->next)
		assert_true(va_inserted(a->next));
	/* what a driver does next: pieces to the vm_bo, the old one off it */
	if (a->vm_bo) {
		if (a->prev)
			wlink(old->vm, a->prev, a->vm_bo);
		if (a->next)
			wlink(old->vm, a->next, a->vm_bo);
	}
	wunlink(old);
}

/* Cut mapping @va into the pieces @which asks for (1 prev, 2 next, 3 both). */
static void remap_walk(struct world *w, struct gpuva *va, unsigned int which, const char *state,
		       enum expect expect)
{
	struct remap_arg a = { .um = { .va = va } };
	struct walk k = { .ep = "gpuva_remap", .state = state, .call = call_remap,
			  .done = done_remap, .arg = &a, .expect = expect };
	const uint64_t q = va->va.range / 4;

	assert_true(q >= 1);
	a.vm_bo = gpuva_vm_bo(va);
	a.op.unmap = &a.um;
	if (which & 1) {
		a.prev = va_pool_get(&w->pool);
		a.pm = (struct gpuva_op_map){ .va = { va->va.addr, q },
					      .gem = { va->gem.offset, gpuva_gem(va) } };
		a.op.prev = &a.pm;
	}
	if (which & 2) {
		a.next = va_pool_get(&w->pool);
		a.nm = (struct gpuva_op_map){ .va = { va->va.addr + 3 * q, va->va.range - 3 * q },
					      .gem = { va->gem.offset + 3 * q, gpuva_gem(va) } };
		a.op.next = &a.nm;
	}
	if (expect == MUST_ALLOC && !va->vm->index.reserved)
		gpuvm_index_trim(va->vm);
	walk(w, &k);
}

static void remaps(void **state)
{
	static const unsigned int kinds[] = { W_PLAIN, W_IMMEDIATE, W_RESV };

	(void)state;
	for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
		struct world *w = world_new(kinds[ki]);
		struct gpuva *one;

		one = wmap(w, 0, 0x100000, 16 * PG, gem(w, 0), 0);
		remap_walk(w, one, 3, "one mapping, both pieces", MUST_ALLOC);
		if (!(kinds[ki] & W_RESV))
			fill_big(w);
		else
			for (unsigned int i = 0; i < 200; i++)
				wmap(w, 0, map_addr(0, i), 2 * PG, gem(w, i % NMAPPED), 0);
		for (unsigned int i = 0; i < 30; i++) {
			struct gpuva *va = gpuva_find(wv(w, 0), map_addr(0, 3 * i), 2 * PG);

			assert_non_null(va);
			remap_walk(w, va, 1 + i % 3, "tree of height >= 2", MUST_ALLOC);
		}
		/* with the nodes reserved (callback mode's rule) it does not allocate */
		gpuvm_index_trim(wv(w, 0));
		assert_ret(gpuvm_index_reserve(wv(w, 0), 2), 0);
		remap_walk(w, gpuva_find(wv(w, 0), map_addr(0, 100), 2 * PG), 3,
			   "two inserts reserved", NO_ALLOC);
		gpuvm_index_unreserve(wv(w, 0), 2);
		world_free(w);
	}
}

/* ---- gpuvm_index_reserve ---- */

static int call_reserve(struct world *w, void *arg)
{
	return gpuvm_index_reserve(wv(w, 0), *(unsigned int *)arg);
}

static void done_unreserve(struct world *w, void *arg)
{
	gpuvm_index_unreserve(wv(w, 0), *(unsigned int *)arg);
	gpuvm_index_trim(wv(w, 0));
}

static void index_reserve(void **state)
{
	static unsigned int counts[] = { 1, 2, 3, 40 };
	struct world *w = world_new(W_PLAIN);
	struct walk k = { .ep = "gpuvm_index_reserve", .call = call_reserve,
			  .done = done_unreserve, .expect = MUST_ALLOC };
	unsigned int three = 3;

	(void)state;
	for (unsigned int pass = 0; pass < 2; pass++) {
		k.state = pass ? "tree of height >= 2" : "empty VM";
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
			k.arg = &counts[i];
			walk(w, &k);
		}
		if (!pass)
			fill_big(w);
	}
	/* on top of an outstanding reservation */
	assert_ret(gpuvm_index_reserve(wv(w, 0), three), 0);
	k.state = "on top of a reservation";
	k.arg = &counts[1];
	walk(w, &k);
	gpuvm_index_unreserve(wv(w, 0), three);
	world_free(w);
}

/* ---- callback mode: what a driver does around gpuvm_sm_map/unmap ---- */

/* The step callbacks apply each op at once, with the nodes reserved. */
struct cb_ctx {
	struct world *w;
	struct gpuvm *vm;
	struct gpuvm_bo *map_bo; /* the request's vm_bo, obtained before the walk */
	unsigned int steps;
};

static int cb_map(struct gpuva_op *op, void *priv)
{
	struct cb_ctx *c = priv;
	struct gpuva *va = va_pool_get(&c->w->pool);
	int ret = gpuva_map(c->vm, va, &op->map);

	c->steps++;
	if (ret)
		return ret;
	if (op->map.gem.obj)
		wlink(c->vm, va, c->map_bo);
	return 0;
}

static int cb_remap(struct gpuva_op *op, void *priv)
{
	struct cb_ctx *c = priv;
	struct gpuva *old = op->remap.unmap->va;
	struct gpuvm_bo *vm_bo = gpuva_vm_bo(old);
	struct gpuva *prev = op->remap.prev ? va_pool_get(&c->w->pool) : NULL;
	struct gpuva *next = op->remap.next ? va_pool_get(&c->w->pool) : NULL;
	int ret = gpuva_remap(prev, next, &op->remap);

	c->steps++;
	if (ret)
		return ret;
	if (vm_bo) {
		if (prev)
			wlink(c->vm, prev, vm_bo);
		if (next)
			wlink(c->vm, next, vm_bo);
	}
	wunlink(old);
	return 0;
}

static int cb_unmap(struct gpuva_op *op, void *priv)
{
	struct cb_ctx *c = priv;
	struct gpuva *va = op->unmap.va;
	int ret = gpuva_unmap(&op->unmap);

	c->steps++;
	if (ret)
		return ret;
	wunlink(va);
	return 0;
}

struct cbreq {
	struct gpuvm_map_req req; /* range 0: an unmap of @addr/@range */
	uint64_t addr, range;
	unsigned long calls;      /* allocator calls the steps made */
};

/*
 * A driver's map path: obtain the vm_bo, reserve the nodes the steps need,
 * then sm_map with the steps applying each op. Only the first two allocate,
 * so a failure leaves everything as it was.
 */
static int call_cb(struct world *w, void *arg)
{
	struct cbreq *r = arg;
	struct cb_ctx c = { .w = w, .vm = wv(w, 0) };
	const bool map = r->req.map.va.range != 0;
	const unsigned int inserts = map ? 3 : 2;
	unsigned long calls;
	int ret;

	if (map && r->req.map.gem.obj) {
		ret = gpuvm_bo_obtain(c.vm, r->req.map.gem.obj, &c.map_bo);
		if (ret)
			return ret;
	}
	ret = gpuvm_index_reserve(c.vm, inserts);
	if (ret) {
		wput(c.map_bo);
		return ret;
	}
	calls = w->ta.calls;
	if (map)
		ret = gpuvm_sm_map(c.vm, &c, &r->req);
	else
		ret = gpuvm_sm_unmap(c.vm, &c, r->addr, r->range);
	r->calls = w->ta.calls - calls;
	assert_ret(ret, 0);
	assert_true(c.steps >= 1);
	gpuvm_index_unreserve(c.vm, inserts);
	wput(c.map_bo);
	return 0;
}

static void done_cb(struct world *w, void *arg)
{
	struct cbreq *r = arg;

	(void)w;
	/* with the nodes reserved, applying the steps allocated nothing */
	assert_int_equal(r->calls, 0);
}

static void callback_mode(void **state)
{
	static const unsigned int kinds[] = { W_PLAIN, W_DRIVER, W_IMMEDIATE };

	(void)state;
	for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
		struct world *w = world_new(kinds[ki]);
		struct cbreq maps[] = {
			/* empty region: a lone map */
			{ .req.map = { .va = { block_base(3) + GAP, PG },
				       .gem = { 0, gem(w, 5) } } },
			/* inside one mapping: a remap with both pieces */
			{ .req.map = { .va = { map_addr(1, 7) + PG / 2, PG },
				       .gem = { 0, gem(w, 6) } } },
			/* across many: two remaps and the unmaps between */
			{ .req.map = { .va = { map_addr(0, 5) + PG, 40 * PG },
				       .gem = { 0, gem(w, 0) } } },
			/* sparse over a whole block */
			{ .req.map = { .va = { block_base(2), 4 * PG * PER_BLOCK } } },
		};
		struct cbreq unmaps[] = {
			{ .addr = map_addr(1, 20) + PG / 4, .range = PG / 2 },
			{ .addr = map_addr(0, 100) + PG, .range = 30 * PG },
		};

		fill_big(w);
		for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
			struct walk k = { .ep = "gpuvm_sm_map (callback mode, after "
						"gpuvm_bo_obtain and gpuvm_index_reserve)",
					  .state = i ? "mappings the request splits"
						     : "empty region",
					  .call = call_cb, .done = done_cb, .arg = &maps[i],
					  .expect = MUST_ALLOC };

			maps[i].req.sz = sizeof(maps[i].req);
			gpuvm_index_trim(wv(w, 0));
			walk(w, &k);
		}
		for (size_t i = 0; i < sizeof(unmaps) / sizeof(unmaps[0]); i++) {
			struct walk k = { .ep = "gpuvm_sm_unmap (callback mode, after "
						"gpuvm_index_reserve)",
					  .state = "mappings the request splits", .call = call_cb,
					  .done = done_cb, .arg = &unmaps[i],
					  .expect = MUST_ALLOC };

			gpuvm_index_trim(wv(w, 0));
			walk(w, &k);
		}
		world_free(w);
	}
}

/* ---- vm_bo creation ---- */

struct bo_arg {
	unsigned int vi;
	struct gpuvm_gem *obj;
	struct gpuvm_bo *out;
	int (*fn)(struct gpuvm *vm, struct gpuvm_gem *obj, struct gpuvm_bo **out);
};

static int call_bo(struct world *w, void *arg)
{
	struct bo_arg *a = arg;
	struct gpuvm *vm = wv(w, a->vi);
	struct held h = { .n = 0 };
	int ret;

	a->out = NULL;
	if (!gpuvm_immediate_mode(vm) && a->fn != gpuvm_bo_create)
		hold_for(&h, vm, a->obj);
	ret = a->fn(vm, a->obj, &a->out);
	release(&h);
	if (ret)
		assert_null(a->out);
	return ret;
}

/* The immediate-mode sequence: allocate outside the lock, then publish. */
static int call_prealloc(struct world *w, void *arg)
{
	struct bo_arg *a = arg;
	struct gpuvm_bo *pre = NULL;
	unsigned long calls;
	int ret;

	a->out = NULL;
	ret = gpuvm_bo_create(wv(w, a->vi), a->obj, &pre);
	if (ret)
		return ret;
	calls = w->ta.calls;
	ret = gpuvm_bo_obtain_prealloc(pre, &a->out);
	/* it only publishes or frees: never allocates */
	assert_int_equal(w->ta.calls, calls);
	assert_ret(ret, 0);
	return 0;
}

static void done_bo(struct world *w, void *arg)
{
	struct bo_arg *a = arg;

	assert_non_null(a->out);
	assert_ptr_equal(a->out->obj, a->obj);
	assert_ptr_equal(a->out->vm, wv(w, a->vi));
	wput(a->out);
	a->out = NULL;
}

static void bo_walks(struct world *w, const char *ep, int (*call)(struct world *, void *),
		     int (*fn)(struct gpuvm *, struct gpuvm_gem *, struct gpuvm_bo **))
{
	struct bo_arg a = { .fn = fn };
	struct walk k = { .ep = ep, .call = call, .done = done_bo, .arg = &a };
	const bool creates = fn == gpuvm_bo_create;

	/* an object no VM maps yet */
	a.obj = gem(w, 30);
	k.state = "object mapped nowhere";
	k.expect = MUST_ALLOC;
	walk(w, &k);
	/* an object the other VM maps: its list holds the other vm_bo */
	a.obj = big_gem(w, 1);
	a.vi = 0;
	k.state = "object mapped by this VM already";
	k.expect = creates || call == call_prealloc ? MUST_ALLOC : NO_ALLOC;
	walk(w, &k);
	static unsigned int seq;

	a.obj = gem(w, 31);
	wmap(w, 1, 0x1000000 + PG * seq++, PG, a.obj, 0);
	k.state = "object mapped by the other VM";
	k.expect = MUST_ALLOC;
	walk(w, &k);
}

static void bo_creation(void **state)
{
	static const unsigned int kinds[] = { W_PLAIN, W_DRIVER, W_RESV, W_IMMEDIATE,
					      W_IMMEDIATE | W_DRIVER };

	(void)state;
	for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
		struct world *w = world_new(kinds[ki]);

		for (unsigned int i = 0; i < 16; i++)
			wmap(w, 0, map_addr(0, i), 2 * PG, big_gem(w, i), 0);
		bo_walks(w, "gpuvm_bo_create", call_bo, gpuvm_bo_create);
		bo_walks(w, "gpuvm_bo_obtain", call_bo, gpuvm_bo_obtain);
		if (kinds[ki] & W_IMMEDIATE)
			bo_walks(w, "gpuvm_bo_obtain_prealloc (after gpuvm_bo_create)",
				 call_prealloc, NULL);
		else
			bo_walks(w, "gpuvm_bo_obtain_locked", call_bo, gpuvm_bo_obtain_locked);
		world_free(w);
	}
}

/* ---- list mode: every *_ops_create, then the ops applied ---- */

enum list_kind { L_MAP, L_UNMAP, L_MADVISE, L_PREFETCH, L_BO_UNMAP };

struct list_arg {
	enum list_kind kind;
	struct gpuvm_map_req req;
	uint64_t addr, range;
	struct gpuvm_bo *vm_bo;
	struct gpuva_ops *ops;
};

static int call_list(struct world *w, void *arg)
{
	struct list_arg *a = arg;
	struct gpuvm *vm = wv(w, 0);

	a->ops = NULL;
	switch (a->kind) {
	case L_MAP:
		return gpuvm_sm_map_ops_create(vm, &a->req, &a->ops);
	case L_MADVISE:
		return gpuvm_madvise_ops_create(vm, &a->req, &a->ops);
	case L_UNMAP:
		return gpuvm_sm_unmap_ops_create(vm, a->addr, a->range, &a->ops);
	case L_PREFETCH:
		return gpuvm_prefetch_ops_create(vm, a->addr, a->range, &a->ops);
	default:
		return gpuvm_bo_unmap_ops_create(a->vm_bo, &a->ops);
	}
}

/*
 * Apply a list the way the replay tool does. The vm_bo of a map op is
 * obtained first (that may allocate); from there on nothing may allocate:
 * the list reserved the index nodes gpuva_map() and gpuva_remap() use.
 */
static void apply_list(struct world *w, struct gpuvm *vm, struct gpuva_ops *ops,
		       struct gpuvm_gem *map_obj)
{
	struct gpuvm_bo *map_bo = map_obj ? wobtain(vm, map_obj) : NULL;
	const unsigned long calls = w->ta.calls;
	struct gpuva_op *op;

	gpuva_for_each_op(op, ops) {
		struct gpuva *va, *prev = NULL, *next = NULL;
		struct gpuvm_bo *vm_bo;

		switch (op->op) {
		case GPUVA_OP_MAP:
			va = va_pool_get(&w->pool);
			assert_ret(gpuva_map(vm, va, &op->map), 0);
			if (op->map.gem.obj)
				wlink(vm, va, map_bo);
			break;
		case GPUVA_OP_REMAP:
			va = op->remap.unmap->va;
			vm_bo = gpuva_vm_bo(va);
			if (op->remap.prev)
				prev = va_pool_get(&w->pool);
			if (op->remap.next)
				next = va_pool_get(&w->pool);
			assert_ret(gpuva_remap(prev, next, &op->remap), 0);
			if (vm_bo && prev)
				wlink(vm, prev, vm_bo);
			if (vm_bo && next)
				wlink(vm, next, vm_bo);
			wunlink(va);
			break;
		case GPUVA_OP_UNMAP:
			va = op->unmap.va;
			assert_ret(gpuva_unmap(&op->unmap), 0);
			wunlink(va);
			break;
		default:
			break;
		}
	}
	/* frees (unlinks, the deferred cleanup) are fine; allocations are not */
	if (w->ta.calls != calls)
		fail_msg("applying a list-mode op list allocated %lu times", w->ta.calls - calls);
	{
		struct tally *t = tally_of("gpuva_map/gpuva_remap/gpuva_unmap applying an op list, "
					   "ops applied (must not allocate)");

		t->pairs += ops->count;
		t->walks++;
	}
	gpuva_ops_free(vm, ops);
	wput(map_bo);
}

static void done_list(struct world *w, void *arg)
{
	struct list_arg *a = arg;

	assert_non_null(a->ops);
	if (a->kind == L_PREFETCH || a->kind == L_BO_UNMAP) {
		const struct gpuva_op *op;

		gpuva_for_each_op(op, a->ops)
			assert_int_equal(op->op, a->kind == L_PREFETCH ? GPUVA_OP_PREFETCH
								       : GPUVA_OP_UNMAP);
	}
	if (a->kind == L_PREFETCH)
		gpuva_ops_free(wv(w, 0), a->ops);
	else
		apply_list(w, wv(w, 0), a->ops, a->kind == L_MAP ? a->req.map.gem.obj : NULL);
	a->ops = NULL;
	gpuvm_index_trim(wv(w, 0));
}

static const char *const list_ep[] = {
	[L_MAP] = "gpuvm_sm_map_ops_create",
	[L_UNMAP] = "gpuvm_sm_unmap_ops_create",
	[L_MADVISE] = "gpuvm_madvise_ops_create",
	[L_PREFETCH] = "gpuvm_prefetch_ops_create",
	[L_BO_UNMAP] = "gpuvm_bo_unmap_ops_create",
};

static void list_walk(struct world *w, struct list_arg *a, const char *state)
{
	struct walk k = { .ep = list_ep[a->kind], .state = state, .call = call_list,
			  .done = done_list, .arg = a, .expect = MUST_ALLOC };

	if (a->kind == L_MAP || a->kind == L_MADVISE)
		a->req.sz = sizeof(a->req);
	gpuvm_index_trim(wv(w, 0));
	walk(w, &k);
}

static void map_req(struct list_arg *a, enum list_kind kind, uint64_t addr, uint64_t range,
		    struct gpuvm_gem *obj, uint64_t off)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->req.map.va.addr = addr;
	a->req.map.va.range = range;
	a->req.map.gem.obj = obj;
	a->req.map.gem.offset = off;
}

static void range_req(struct list_arg *a, enum list_kind kind, uint64_t addr, uint64_t range)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->addr = addr;
	a->range = range;
}

static void list_mode(void **state)
{
	static const unsigned int kinds[] = { W_PLAIN, W_DRIVER, W_IMMEDIATE, W_RESV };

	(void)state;
	for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
		struct world *w = world_new(kinds[ki]);
		struct list_arg a;

		/* an empty VM: a lone map op, and lists with nothing in them */
		map_req(&a, L_MAP, 0x100000, 4 * PG, gem(w, 0), 0);
		list_walk(w, &a, "empty VM");
		range_req(&a, L_UNMAP, 0x200000, PG);
		list_walk(w, &a, "empty VM");
		range_req(&a, L_PREFETCH, 0x200000, PG);
		list_walk(w, &a, "empty VM");
		map_req(&a, L_MADVISE, 0x200000, PG, NULL, 0);
		list_walk(w, &a, "empty VM");

		if (kinds[ki] & W_RESV) {
			for (unsigned int i = 0; i < 200; i++)
				wmap(w, 0, map_addr(0, i), 2 * PG,
				     i % 4 ? gem(w, i % NMAPPED) : NULL, i * PG);
		} else {
			fill_big(w);
		}

		/* maps: inside one mapping, across many, exactly one, over a block */
		map_req(&a, L_MAP, map_addr(0, 7) + PG / 2, PG, gem(w, 1), 0);
		list_walk(w, &a, "a mapping the request splits in two");
		map_req(&a, L_MAP, map_addr(0, 10) + PG, 30 * PG, gem(w, 2), 0);
		list_walk(w, &a, "mappings the request cuts and unmaps");
		map_req(&a, L_MAP, map_addr(0, 41), 2 * PG, gem(w, 0), 41 * PG);
		list_walk(w, &a, "exactly one mapping");
		map_req(&a, L_MAP, map_addr(0, 60), 4 * PG * 60, NULL, 0);
		list_walk(w, &a, "a run of mappings, sparse");

		/* unmaps: a cut inside one, a range across many */
		range_req(&a, L_UNMAP, map_addr(0, 130) + PG / 4, PG / 2);
		list_walk(w, &a, "a mapping the request splits in two");
		range_req(&a, L_UNMAP, map_addr(0, 140) + PG, 4 * PG * 20);
		list_walk(w, &a, "mappings the request cuts and unmaps");

		/* madvise: sparse mappings are split, others left alone */
		map_req(&a, L_MADVISE, map_addr(0, 164) + PG, 4 * PG * 8, NULL, 0);
		list_walk(w, &a, "sparse mappings the request cuts");
		map_req(&a, L_MADVISE, map_addr(0, 176) + PG / 2, PG, NULL, 0);
		list_walk(w, &a, "inside one sparse mapping");

		/* prefetch: one op per mapping */
		range_req(&a, L_PREFETCH, map_addr(0, 180), 4 * PG * 19);
		list_walk(w, &a, "a run of mappings");

		/* bo_unmap: every mapping of an object in this VM */
		for (unsigned int g = 0; g < 3; g++) {
			struct gpuvm *vm = wv(w, 0);

			range_req(&a, L_BO_UNMAP, 0, 0);
			a.vm_bo = wobtain(vm, gem(w, g));
			list_walk(w, &a, "an object with many mappings");
			/* everything is unlinked now: the list is empty */
			list_walk(w, &a, "an object without mappings");
			wput(a.vm_bo);
		}
		world_free(w);
	}
}

/* ---- gpuvm_exec ---- */

enum exec_kind { E_LOCK, E_ARRAY, E_RANGE, E_SM_MAP, E_EXTRA_OBJ, E_EXTRA_PREPARE };

struct exec_arg {
	enum exec_kind kind;
	struct gpuvm_exec *warm; /* NULL: a fresh gpuvm_exec per attempt */
	struct gpuvm_exec exec;
	struct gpuvm_gem *objs[NGEM + 1];
	unsigned int nobjs;
	struct gpuvm_map_req req;
	struct world *w;
	unsigned int want; /* objects locked on success */
};

static int extra_objs(struct gpuvm_exec *exec, void *priv)
{
	struct exec_arg *a = priv;

	for (unsigned int i = NMAPPED; i < NGEM; i++) {
		int ret = gpuvm_exec_lock_obj(exec, gem(a->w, i));

		if (ret)
			return ret;
	}
	return 0;
}

static int extra_prepare(struct gpuvm_exec *exec, void *priv)
{
	struct exec_arg *a = priv;
	int ret;

	(void)a;
	ret = gpuvm_prepare_objects(exec);
	if (!ret)
		ret = gpuvm_prepare_range(exec, map_addr(0, 0), 4 * PG * NMAPPED);
	if (!ret)
		ret = gpuvm_prepare_sm_map(exec, &a->req);
	return ret;
}

static bool any_resv_held(struct world *w)
{
	if (gpuvm_resv_held(&w->vm_resv))
		return true;
	for (unsigned int i = 0; i < NGEM; i++)
		if (gpuvm_resv_held(&w->resv[i]))
			return true;
	return false;
}

static int exec_lock_call(struct gpuvm_exec *exec, struct exec_arg *a)
{
	switch (a->kind) {
	case E_LOCK:
		return gpuvm_exec_lock(exec);
	case E_ARRAY:
		return gpuvm_exec_lock_array(exec, a->objs, a->nobjs);
	case E_RANGE:
		return gpuvm_exec_lock_range(exec, map_addr(0, 0), 4 * PG * NMAPPED);
	case E_SM_MAP:
		return gpuvm_sm_map_exec_lock(exec, &a->req);
	default:
		/* an empty range: the callback locks everything */
		return gpuvm_exec_lock_range(exec, block_base(3), PG);
	}
}

static int call_exec(struct world *w, void *arg)
{
	struct exec_arg *a = arg;
	struct gpuvm_exec *exec = a->warm ? a->warm : &a->exec;
	int ret;

	if (!a->warm) {
		GPUVM_OPTS(gpuvm_exec_opts, opts, .vm = wv(w, 0), .priv = a);

		if (a->kind == E_EXTRA_OBJ)
			opts.extra = extra_objs;
		if (a->kind == E_EXTRA_PREPARE)
			opts.extra = extra_prepare;
		assert_ret(gpuvm_exec_init(exec, &opts), 0);
	}
	ret = exec_lock_call(exec, a);
	if (ret) {
		/* nothing locked, nothing referenced, the exec idle again */
		assert_int_equal(exec->num_objects, 0);
		assert_null(exec->contended_);
		assert_false(any_resv_held(w));
		gpuvm_exec_unlock(exec);
		if (!a->warm)
			assert_ret(gpuvm_exec_fini(exec), 0);
	}
	return ret;
}

static void done_exec(struct world *w, void *arg)
{
	struct exec_arg *a = arg;
	struct gpuvm_exec *exec = a->warm ? a->warm : &a->exec;
	struct gpuvm_gem *obj;
	unsigned int i;

	assert_int_equal(exec->num_objects, a->want);
	gpuvm_exec_for_each_locked_object(exec, i, obj)
		assert_true(gpuvm_resv_held(obj->resv));
	gpuvm_exec_unlock(exec);
	assert_false(any_resv_held(w));
	if (!a->warm)
		assert_ret(gpuvm_exec_fini(exec), 0);
}

static void exec_walks(struct world *w, struct gpuvm_exec *warm, const char *state)
{
	static const char *const eps[] = {
		[E_LOCK] = "gpuvm_exec_lock",
		[E_ARRAY] = "gpuvm_exec_lock_array",
		[E_RANGE] = "gpuvm_exec_lock_range",
		[E_SM_MAP] = "gpuvm_sm_map_exec_lock",
		[E_EXTRA_OBJ] = "gpuvm_exec_lock_obj (extra callback)",
		[E_EXTRA_PREPARE] = "gpuvm_prepare_objects/range/sm_map (extra callback)",
	};
	/* the VM's reservation, and one per external object */
	const unsigned int ext = NMAPPED - NLOCAL;

	for (unsigned int kind = E_LOCK; kind <= E_EXTRA_PREPARE; kind++) {
		struct exec_arg *a = calloc(1, sizeof(*a));
		struct walk k = { .ep = eps[kind], .state = state, .call = call_exec,
				  .done = done_exec, .expect = MUST_ALLOC, .exec = warm };

		assert_non_null(a);
		if (warm && kind >= E_EXTRA_OBJ) {
			free(a);
			continue; /* the warm exec has no extra callback */
		}
		a->kind = kind;
		a->w = w;
		a->warm = warm;
		a->req.sz = sizeof(a->req);
		a->req.map.va.addr = map_addr(0, 0) + PG;
		a->req.map.va.range = 4 * PG * (NMAPPED - 1);
		a->req.map.gem.obj = gem(w, NGEM - 1);
		switch (kind) {
		case E_LOCK:
		case E_RANGE:
			a->want = 1 + ext;
			break;
		case E_ARRAY:
			for (unsigned int i = 0; i < NGEM; i++)
				a->objs[a->nobjs++] = gem(w, NGEM - 1 - i);
			a->objs[a->nobjs++] = gem(w, 0); /* a duplicate */
			a->want = 1 + (NGEM - NLOCAL);
			break;
		case E_SM_MAP:
			a->want = 1 + ext + 1;
			break;
		case E_EXTRA_OBJ:
			a->want = 1 + (NGEM - NMAPPED);
			break;
		default:
			a->want = 1 + ext + 1;
			break;
		}
		if (warm) {
			/* storage kept from an earlier lock of the VM's reservation alone */
			GPUVM_OPTS(gpuvm_exec_opts, opts, .vm = wv(w, 0));

			assert_ret(gpuvm_exec_fini(warm), 0);
			assert_ret(gpuvm_exec_init(warm, &opts), 0);
			assert_ret(gpuvm_exec_lock_range(warm, block_base(3), PG), 0);
			gpuvm_exec_unlock(warm);
		}
		k.arg = a;
		walk(w, &k);
		free(a);
	}
}

static void exec_world(unsigned int kind)
{
	struct world *w = world_new(kind);
	struct gpuvm_exec warm;
	GPUVM_OPTS(gpuvm_exec_opts, opts, .vm = wv(w, 0));

	for (unsigned int i = 0; i < NMAPPED; i++)
		wmap(w, 0, map_addr(0, i), 2 * PG, gem(w, i), 0);
	/*
	 * Evicted external objects, which RESV_PROTECTED only flags (the
	 * locking calls list them on the way): the first and the last.
	 */
	for (unsigned int i = NLOCAL; i < NMAPPED; i += NMAPPED - NLOCAL - 1) {
		struct gpuvm_bo *vm_bo;

		assert_ret(gpuvm_resv_lock(gem(w, i)->resv), 0);
		vm_bo = gpuva_vm_bo(gpuva_find(wv(w, 0), map_addr(0, i), 2 * PG));
		assert_ret(gpuvm_bo_evict(vm_bo, true), 0);
		assert_ret(gpuvm_resv_unlock(gem(w, i)->resv), 0);
	}
	exec_walks(w, NULL, "fresh gpuvm_exec");
	/* a gpuvm_exec that kept the storage of an earlier, smaller lock */
	assert_ret(gpuvm_exec_init(&warm, &opts), 0);
	assert_ret(gpuvm_exec_lock_range(&warm, block_base(3), PG), 0);
	gpuvm_exec_unlock(&warm);
	exec_walks(w, &warm, "gpuvm_exec with storage kept from a smaller lock");
	assert_ret(gpuvm_exec_fini(&warm), 0);
	world_free(w);
}

static void exec_locking(void **state)
{
	(void)state;
	exec_world(W_RESV);
	exec_world(W_RESV | W_PROTECTED);
}

/* ---- calls documented not to allocate ---- */

static void no_alloc(void **state)
{
	struct world *w = world_new(W_RESV);
	struct gpuvm vm;
	struct gpuvm_exec exec;
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "x", .range = VM_RANGE,
		   .alloc = test_alloc_hooks(&w->ta), .r_obj = &w->root,
		   .flags = GPUVM_RESV_PROTECTED);
	GPUVM_OPTS(gpuvm_exec_opts, eopts, .vm = &vm);
	unsigned long calls = w->ta.calls;

	(void)state;
	test_alloc_fail_at(&w->ta, 1);
	assert_ret(gpuvm_init(&vm, &opts), 0);
	assert_ret(gpuvm_exec_init(&exec, &eopts), 0);
	assert_ret(gpuvm_exec_fini(&exec), 0);
	assert_ret(gpuvm_fini(&vm), 0);
	assert_int_equal(w->ta.injected, 0);
	assert_int_equal(w->ta.calls, calls);
	test_alloc_fail_at(&w->ta, 0);
	tally_of("gpuvm_init, gpuvm_exec_init (must not allocate)")->pairs += 2;
	world_free(w);
}

/* ---- the replay tool's request handling ---- */

static const char *trace_dir;

/*
 * The allocator blocks the replay's state accounts for: the tool's tables
 * and arrays (one block each), its spare mapping structs, each VM and BO
 * (struct and name), each inserted mapping, and the library's index nodes
 * (in the tree and cached) and vm_bos.
 */
static size_t replay_blocks(const struct replay *rp)
{
	size_t n = (rp->spare != NULL) + (rp->vms != NULL) +
		   (rp->bos != NULL) + (rp->vmtab.e != NULL) + (rp->botab.e != NULL) +
		   rp->nspare + 2 * rp->nvm + 2 * rp->nbo;

	for (size_t i = 0; i < rp->nvm; i++) {
		struct gpuvm_stats st = { .sz = sizeof(st) };

		assert_ret(gpuvm_stats(&rp->vms[i]->vm, &st), 0);
		n += st.index_nodes + st.cached_nodes + st.mappings;
	}
	for (size_t i = 0; i < rp->nbo; i++) {
		const struct gpuvm_bo *vm_bo;

		gpuvm_gem_for_each_vm_bo(vm_bo, &rp->bos[i]->gem)
			n++;
	}
	return n;
}

static char *replay_dump(const struct replay *rp)
{
	struct gpuvm_gem **extra = calloc(rp->nbo + 1, sizeof(*extra));
	struct test_str b = { 0 };

	assert_non_null(extra);
	for (size_t i = 0; i < rp->nbo; i++)
		extra[i] = &rp->bos[i]->gem;
	test_str_printf(&b, "vms=%zu bos=%zu\n", rp->nvm, rp->nbo);
	for (size_t i = 0; i < rp->nvm; i++) {
		const struct rp_vm *v = rp->vms[i];
		char *s = test_dump_vm(&v->vm, extra, rp->nbo);

		test_str_printf(&b, "vm %s mappings=%zu peak=%zu\n%s", v->name, v->mappings,
				v->peak, s);
		free(s);
	}
	for (size_t i = 0; i < rp->nbo; i++)
		test_str_printf(&b, "bo %s ref=%u\n", rp->bos[i]->name, rp->bos[i]->gem.refcount);
	free(extra);
	return test_str_take(&b);
}

/* Cut "error ENAME free text" to "error ENAME" in every line of @s. */
static void normalize_errors(struct test_str *out, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len;
		size_t keep = end - i;

		if (keep > 6 && !strncmp(s + i, "error ", 6)) {
			keep = 6;
			while (i + keep < end && s[i + keep] != ' ')
				keep++;
		}
		test_str_printf(out, "%.*s\n", (int)keep, s + i);
		i = end + 1;
	}
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct test_str b = { 0 };
	char buf[4096];
	size_t n;

	if (!f)
		fail_msg("cannot open %s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		test_str_printf(&b, "%.*s", (int)n, buf);
	fclose(f);
	*len = b.len;
	return test_str_take(&b);
}

/* Replay one trace, walking every request; returns the failing N. */
static unsigned long replay_trace(const char *path, const char *expected_path)
{
	struct test_alloc ta;
	struct replay rp;
	struct out out;
	struct test_str listing = { 0 }, want = { 0 };
	size_t len, elen;
	char *text = read_file(path, &len);
	char *expected = read_file(expected_path, &elen);
	unsigned long failing = 0;
	size_t at = 0;

	test_alloc_init(&ta);
	assert_ret(out_init(&out, NULL, 1u << 20), 0);
	replay_init(&rp, &out);
	rp.alloc = test_alloc_hooks(&ta);
	rp.verify = true;

	while (at < len) {
		const char *line = text + at;
		const char *nl = memchr(line, '\n', len - at);
		size_t llen = nl ? (size_t)(nl - line) : len - at;
		char *before = replay_dump(&rp);
		const size_t live = ta.live;
		char *first_echo = NULL;
		struct tally *t;
		bool may_alloc;
		unsigned long n;

		at += llen + (nl != NULL);
		assert_int_equal(ta.live, replay_blocks(&rp));
		/* the tally is by request word */
		{
			static char eps[TRACE_KIND_COUNT][40];
			struct trace_line tl = { 0 };
			struct trace_req tr;

			assert_ret(trace_tokenize(&tl, line, llen), 0);
			if (!tl.ntok) {
				trace_line_fini(&tl);
				free(before);
				assert_ret(replay_line(&rp, line, llen), 0);
				continue;
			}
			trace_parse(&tl, &tr);
			trace_line_fini(&tl);
			/* a dump prints, a syntax error is refused: neither allocates */
			may_alloc = !tr.err && tr.kind != TRACE_DUMP && tr.kind != TRACE_UNKNOWN;
			if (!may_alloc) {
				t = tally_of("gpuvm-replay dumps and syntax refusals "
					     "(must not allocate)");
			} else {
				if (!eps[tr.kind][0])
					snprintf(eps[tr.kind], sizeof(eps[tr.kind]),
						 "gpuvm-replay request '%s'",
						 trace_kind_name(tr.kind));
				t = tally_of(eps[tr.kind]);
			}
		}
		for (n = 1;; n++) {
			unsigned long injected;
			char *after;
			const char *o, *eol, *rest;
			size_t restlen;

			out.len = 0;
			test_alloc_fail_at(&ta, n);
			assert_ret(replay_line(&rp, line, llen), 0);
			injected = ta.injected;
			test_alloc_fail_at(&ta, 0);
			t->pairs++;
			o = out.buf;
			eol = memchr(o, '\n', out.len);
			assert_non_null(eol);
			/* the echo of the request is the same on every attempt */
			if (!first_echo)
				first_echo = strndup(o, (size_t)(eol - o));
			else if (strncmp(first_echo, o, (size_t)(eol - o)))
				fail_msg("%s: the echo changed between attempts", path);
			if (!injected) {
				normalize_errors(&listing, out.buf, out.len);
				break;
			}
			t->failing++;
			failing++;
			/* refused with ENOMEM, and nothing else printed */
			rest = eol + 1;
			restlen = out.len - (size_t)(rest - o);
			if (injected != 1 || !may_alloc || restlen <= 12 ||
			    strncmp(rest, "error ENOMEM", 12) ||
			    (rest[12] != ' ' && rest[12] != '\n') ||
			    memchr(rest, '\n', restlen) != rest + restlen - 1)
				fail_msg("%s: '%.*s' N=%lu: the failure was not an ENOMEM "
					 "refusal:\n%.*s", path, (int)llen, line, n, (int)out.len,
					 out.buf);
			after = replay_dump(&rp);
			if (strcmp(before, after)) {
				test_dump_diff(before, after);
				fail_msg("%s: '%.*s' N=%lu: a refused request changed the state",
					 path, (int)llen, line, n);
			}
			free(after);
			if (ta.live != replay_blocks(&rp))
				fail_msg("%s: '%.*s' N=%lu: %zu blocks live, the state accounts "
					 "for %zu (%zu before)", path, (int)llen, line, n, ta.live,
					 replay_blocks(&rp), live);
			assert_int_equal(ta.errors, 0);
			if (n > 10000)
				fail_msg("%s: no success after %lu attempts", path, n);
		}
		t->walks++;
		free(first_echo);
		free(before);
		assert_int_equal(ta.live, replay_blocks(&rp));
	}
	replay_fini(&rp);
	out_fini(&out);
	assert_int_equal(ta.live, 0);
	assert_int_equal(ta.errors, 0);

	/* the successful attempts printed exactly the expected listing */
	normalize_errors(&want, expected, elen);
	if (strcmp(listing.s ? listing.s : "", want.s ? want.s : "")) {
		test_dump_diff(want.s ? want.s : "", listing.s ? listing.s : "");
		fail_msg("%s: the listing differs from %s", path, expected_path);
	}
	test_str_free(&listing);
	test_str_free(&want);
	free(text);
	free(expected);
	return failing;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void replay_requests(void **state)
{
	DIR *d = opendir(trace_dir);
	struct dirent *e;
	char *names[256];
	size_t n = 0;

	(void)state;
	if (!d)
		fail_msg("cannot open the trace directory %s", trace_dir);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l > 6 && !strcmp(e->d_name + l - 6, ".trace")) {
			assert_true(n < 256);
			names[n] = strdup(e->d_name);
			assert_non_null(names[n]);
			n++;
		}
	}
	closedir(d);
	assert_true(n >= 10);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4096], expected[4096];
		unsigned long failing;

		snprintf(path, sizeof(path), "%s/%s", trace_dir, names[i]);
		snprintf(expected, sizeof(expected), "%s/%.*s.expected", trace_dir,
			 (int)(strlen(names[i]) - 6), names[i]);
		failing = replay_trace(path, expected);
		print_message("  %-44s %lu failing N\n", names[i], failing);
		free(names[i]);
	}
}

/* ---- the figures ---- */

static void summary(void **state)
{
	unsigned long pairs = 0, failing = 0;
	unsigned int silent = 0, eps = 0;

	(void)state;
	print_message("(entry point, N) pairs by entry point "
		      "(of which failing, starting states):\n");
	for (unsigned int i = 0; i < ntally; i++) {
		const struct tally *t = &tallies[i];

		if (t->never)
			continue;
		print_message("  %7lu  %-76s (%lu failing, %lu states)\n", t->pairs, t->ep,
			      t->failing, t->walks);
		pairs += t->pairs;
		failing += t->failing;
		eps++;
		/* an entry point that allocates failed somewhere */
		if (!t->failing) {
			print_message("  ^ never failed: it no longer allocates?\n");
			silent++;
		}
	}
	print_message("checked not to allocate:\n");
	for (unsigned int i = 0; i < ntally; i++)
		if (tallies[i].never)
			print_message("  %7lu  %s\n", tallies[i].pairs, tallies[i].ep);
	print_message("alloc walk: %lu (entry point, N) pairs exercised over %u entry points, "
		      "%lu of them with the Nth allocation failing\n", pairs, eps, failing);
	assert_int_equal(silent, 0);
	assert_true(eps >= 25);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inserts),
		cmocka_unit_test(remaps),
		cmocka_unit_test(index_reserve),
		cmocka_unit_test(callback_mode),
		cmocka_unit_test(bo_creation),
		cmocka_unit_test(list_mode),
		cmocka_unit_test(exec_locking),
		cmocka_unit_test(no_alloc),
		cmocka_unit_test(replay_requests),
		cmocka_unit_test(summary),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s TRACE_DIR\n", argv[0]);
		return 2;
	}
	trace_dir = argv[1];
	return cmocka_run_group_tests_name("alloc_walk", tests, NULL, NULL);
}
