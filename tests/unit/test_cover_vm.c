/* SPDX-License-Identifier: MIT */
/*
 * struct gpuvm (lib/vm.c), the cases the other tests leave out: unpaired
 * allocation hooks in the ops table, gpuvm_fini() with only the evict list
 * in use, the last gpuvm_put() of a VM that still has mappings, NULL VMs in
 * the small helpers, the trim of the index cache by list mode, and the
 * corruptions gpuvm_verify() must report (or, where it may not look without
 * waiting for a lock, must skip).
 */
#define _POSIX_C_SOURCE 200809L /* fileno, dup, pthread barriers */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include <pthread.h>
#include <unistd.h>

#include "test_util.h"

/* ---- capturing what the library prints ---- */

struct capture {
	FILE *tmp;
	int saved;
};

static void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

/* Restore stderr and return what was written meanwhile (free() it). */
static char *capture_end(struct capture *c)
{
	char *buf = calloc(1, 4096);
	size_t n;

	assert_non_null(buf);
	fflush(stderr);
	assert_true(dup2(c->saved, STDERR_FILENO) >= 0);
	close(c->saved);
	rewind(c->tmp);
	n = fread(buf, 1, 4095, c->tmp);
	buf[n] = '\0';
	fclose(c->tmp);
	return buf;
}

/* ---- init: the ops table's allocation hooks come in pairs ---- */

static struct gpuva_op *an_op_alloc(struct gpuvm *vm)
{
	(void)vm;
	return calloc(1, sizeof(struct gpuva_op));
}

static void an_op_free(struct gpuvm *vm, struct gpuva_op *op)
{
	(void)vm;
	free(op);
}

static struct gpuvm_bo *a_vm_bo_alloc(struct gpuvm *vm)
{
	(void)vm;
	return calloc(1, sizeof(struct gpuvm_bo));
}

static void a_vm_bo_free(struct gpuvm_bo *vm_bo)
{
	free(vm_bo);
}

static void init_unpaired_hooks(void **state)
{
	struct gpuvm_ops ops;
	struct gpuvm vm, pattern;
	GPUVM_OPTS(gpuvm_init_opts, opts, .range = 1ull << 40, .ops = &ops);
	const struct {
		struct gpuva_op *(*op_alloc)(struct gpuvm *);
		void (*op_free)(struct gpuvm *, struct gpuva_op *);
		struct gpuvm_bo *(*vm_bo_alloc)(struct gpuvm *);
		void (*vm_bo_free)(struct gpuvm_bo *);
		int want;
	} cases[] = {
		{ an_op_alloc, NULL, NULL, NULL, -EINVAL },
		{ NULL, an_op_free, NULL, NULL, -EINVAL },
		{ NULL, NULL, a_vm_bo_alloc, NULL, -EINVAL },
		{ NULL, NULL, NULL, a_vm_bo_free, -EINVAL },
		{ an_op_alloc, an_op_free, a_vm_bo_alloc, NULL, -EINVAL },
		{ an_op_alloc, an_op_free, NULL, NULL, 0 },
		{ NULL, NULL, a_vm_bo_alloc, a_vm_bo_free, 0 },
		{ an_op_alloc, an_op_free, a_vm_bo_alloc, a_vm_bo_free, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&ops, 0, sizeof(ops));
		ops.sz = sizeof(ops);
		ops.op_alloc = cases[i].op_alloc;
		ops.op_free = cases[i].op_free;
		ops.vm_bo_alloc = cases[i].vm_bo_alloc;
		ops.vm_bo_free = cases[i].vm_bo_free;
		memset(&vm, 0xa5, sizeof(vm));
		memcpy(&pattern, &vm, sizeof(vm));
		assert_ret(gpuvm_init(&vm, &opts), cases[i].want);
		if (cases[i].want) {
			/* refused before anything was written */
			assert_memory_equal(&vm, &pattern, sizeof(vm));
			continue;
		}
		assert_ptr_equal(vm.ops, &ops);
		assert_ret(gpuvm_fini(&vm), 0);
	}
}

/* ---- fini with only the evict list in use ---- */

static void fini_busy_evict_list(void **state)
{
	struct test_alloc ta;
	struct test_gem a;
	struct gpuvm_bo *vm_bo;
	struct gpuvm vm;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&a, "A", 0x10000), 0);
	assert_ret(gpuvm_bo_obtain(&vm, &a.base, &vm_bo), 0);

	/* no reservation anywhere: a local object, evict list only */
	assert_false(gpuvm_is_extobj(&vm, &a.base));
	assert_ret(gpuvm_bo_evict(vm_bo, true), 0);
	assert_true(gpuvm_list_empty(&vm.extobj.list));
	assert_false(gpuvm_list_empty(&vm.evict.list));
	assert_ret(gpuvm_fini(&vm), -EBUSY);
	/* refused: the VM still works */
	assert_ret(gpuvm_verify(&vm), 0);
	assert_ptr_equal(gpuvm_bo_find(&vm, &a.base), vm_bo);
	gpuvm_bo_put(vm_bo); /* find's reference */

	assert_ret(gpuvm_bo_evict(vm_bo, false), 0);
	assert_true(gpuvm_list_empty(&vm.evict.list));
	assert_true(gpuvm_bo_put(vm_bo));
	tvm_fini(&vm, &ta);
	gpuvm_gem_put(&a.base);
	assert_int_equal(a.frees, 1);
}

/* ---- the last reference of a VM that still has mappings ---- */

static void put_last_with_mappings(void **state)
{
	static const char *const names[] = { "leaky", NULL };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct test_alloc ta;
		struct capture cap;
		struct gpuvm vm;
		struct gpuva va;
		char want[128];
		char *msg;
		GPUVM_OPTS(gpuvm_init_opts, opts, .name = names[i], .range = 1ull << 40);

		test_alloc_init(&ta);
		opts.alloc = test_alloc_hooks(&ta);
		assert_ret(gpuvm_init(&vm, &opts), 0);
		insert_va(&vm, &va, 0x10000, 0x1000, NULL, 0);

		capture_begin(&cap);
		gpuvm_put(&vm);
		msg = capture_end(&cap);
		snprintf(want, sizeof(want),
			 "libgpuvm: last reference of VM '%s' dropped with 1 mappings inserted\n",
			 names[i] ? names[i] : "");
		assert_string_equal(msg, want);
		free(msg);

		/* reported, not torn down: the mapping and the index are intact */
		assert_int_equal(vm.refcount, 0);
		assert_ptr_equal(gpuva_find(&vm, 0x10000, 0x1000), &va);
		assert_ret(gpuvm_verify(&vm), 0);
		tvm_fini(&vm, &ta);
	}
}

/* ---- NULL VMs in the helpers that accept one ---- */

static void null_vm_helpers(void **state)
{
	(void)state;
	assert_false(gpuvm_range_valid(NULL, 0x1000, 0x1000));
	/* nothing can be mapped in no VM */
	assert_true(gpuvm_interval_empty(NULL, 0x1000, 0x1000));
	gpuvm_index_unreserve(NULL, 1);
	gpuvm_index_trim(NULL);
	gpuvm_put(NULL);
	assert_null(gpuvm_get(NULL));
}

/* ---- list mode trims the node cache that an unreserve left behind ---- */

static void list_mode_trims_cache(void **state)
{
	struct test_alloc ta;
	struct gpuvm_stats st = { .sz = sizeof(st) };
	struct gpuva_ops *ops;
	struct gpuvm vm;
	size_t cached;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);

	/* a large reservation given back keeps its nodes cached */
	assert_ret(gpuvm_index_reserve(&vm, 1000), 0);
	gpuvm_index_unreserve(&vm, 1000);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(vm.index.reserved, 0);
	cached = st.cached_nodes;
	assert_true(cached > 256);
	assert_int_equal(ta.live, cached);

	/* a successful list-mode call trims the cache down to what is reserved */
	assert_ret(gpuvm_sm_unmap_ops_create(&vm, PG, PG, &ops), 0);
	assert_int_equal(ops->count, 0);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(vm.index.reserved, 0);
	assert_int_equal(st.cached_nodes, 0);
	/* the op list itself is what is still allocated */
	assert_int_equal(ta.live, 1);
	gpuva_ops_free(&vm, ops);

	/* a cache within the slack is left alone */
	assert_ret(gpuvm_index_reserve(&vm, 10), 0);
	gpuvm_index_unreserve(&vm, 10);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	cached = st.cached_nodes;
	assert_true(cached > 0 && cached <= 256);
	assert_ret(gpuvm_sm_unmap_ops_create(&vm, PG, PG, &ops), 0);
	gpuva_ops_free(&vm, ops);
	assert_ret(gpuvm_stats(&vm, &st), 0);
	assert_int_equal(st.cached_nodes, cached);

	gpuvm_index_trim(&vm);
	tvm_fini(&vm, &ta);
}

/* ---- gpuvm_verify: what it catches on a vm_bo's mapping list ---- */

struct two_linked {
	struct test_alloc ta;
	struct gpuvm vm;
	struct test_gem g, h;
	struct gpuva a, b, c;
	struct gpuvm_bo *x; /* g's vm_bo: a and b */
	struct gpuvm_bo *y; /* h's vm_bo: no mapping */
};

static void two_linked_init(struct two_linked *t, uint32_t flags)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "verify", .flags = flags, .range = 1ull << 40);

	test_alloc_init(&t->ta);
	opts.alloc = test_alloc_hooks(&t->ta);
	assert_ret(gpuvm_init(&t->vm, &opts), 0);
	assert_ret(test_gem_init(&t->g, "G", 0x100000), 0);
	assert_ret(test_gem_init(&t->h, "H", 0x100000), 0);
	insert_linked(&t->vm, &t->a, 0x10000, 0x1000, &t->g.base, 0);
	insert_linked(&t->vm, &t->b, 0x20000, 0x1000, &t->g.base, 0x1000);
	insert_va(&t->vm, &t->c, 0x30000, 0x1000, NULL, 0);
	t->x = gpuva_vm_bo(&t->a);
	assert_non_null(t->x);
	assert_ptr_equal(gpuva_vm_bo(&t->b), t->x);
	assert_ret(gpuvm_bo_obtain(&t->vm, &t->h.base, &t->y), 0);
	assert_ret(gpuvm_verify(&t->vm), 0);
}

static void two_linked_fini(struct two_linked *t)
{
	/* immediate mode: a last put needs the gem's gpuva lock */
	const bool imm = gpuvm_immediate_mode(&t->vm);

	assert_ret(gpuvm_verify(&t->vm), 0);
	if (imm)
		assert_ret(gpuvm_gem_gpuva_lock(&t->h.base), 0);
	assert_true(gpuvm_bo_put(t->y));
	if (imm) {
		assert_ret(gpuvm_gem_gpuva_unlock(&t->h.base), 0);
		assert_ret(gpuvm_gem_gpuva_lock(&t->g.base), 0);
		assert_ret(gpuva_unlink(&t->a), 0);
		assert_ret(gpuva_unlink(&t->b), 0);
		assert_ret(gpuvm_gem_gpuva_unlock(&t->g.base), 0);
	}
	tvm_fini(&t->vm, &t->ta);
	gpuvm_gem_put(&t->g.base);
	gpuvm_gem_put(&t->h.base);
	assert_int_equal(t->g.frees, 1);
	assert_int_equal(t->h.frees, 1);
}

static void verify_mapping_lists(void **state)
{
	struct two_linked t;
	struct gpuvm_list dummy, *saved;
	uintptr_t owner;
	unsigned int refs;
	uint32_t st;

	(void)state;
	two_linked_init(&t, 0);

	/* b sits on x's list but claims y */
	owner = t.b.gem.owner_;
	t.b.gem.owner_ = (uintptr_t)t.y | GPUVA__OWNER_IS_VM_BO;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.b.gem.owner_ = owner;
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* the list ends in the middle (found from a, the first of the list) */
	saved = t.b.gem.entry.next;
	t.b.gem.entry.next = NULL;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.b.gem.entry.next = saved;
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* a broken back-link around b (seen from a, its predecessor) */
	saved = t.b.gem.entry.prev;
	t.b.gem.entry.prev = NULL;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.b.gem.entry.prev = saved;
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* a without a back-link, then with one to a node that does not lead back */
	saved = t.a.gem.entry.prev;
	t.a.gem.entry.prev = NULL;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	gpuvm_list_init(&dummy);
	t.a.gem.entry.prev = &dummy;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.a.gem.entry.prev = saved;
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* the vm_bo lost its object */
	t.x->obj = NULL;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.x->obj = &t.g.base;
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* linked mappings, but the vm_bo has no reference left */
	refs = t.x->refcount;
	t.x->refcount = 0;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.x->refcount = refs;
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* c is linked to nothing, yet sits on a list */
	gpuvm_list_init(&dummy);
	gpuvm_list_add_tail(&t.c.gem.entry, &dummy);
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	gpuvm_list_del(&t.c.gem.entry);
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* the VM's header shrank under its mappings (the index cannot tell) */
	t.vm.mm_range = 0x20000;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.vm.mm_range = 1ull << 40;
	assert_ret(gpuvm_verify(&t.vm), 0);

	/* in the index, but not marked inserted */
	st = t.a.state_;
	t.a.state_ &= ~(uint32_t)GPUVA__STATE_INSERTED;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	t.a.state_ = st;

	two_linked_fini(&t);
}

/* ---- gpuvm_verify never waits: a busy list is skipped, not checked ---- */

/* A vm_bo of another VM on @vm's extobj (or evict) list: a corruption. */
static void plant(struct gpuvm *vm, struct gpuvm_bo *alien, bool evict)
{
	if (evict)
		gpuvm_list_add_tail(&alien->list.entry.evict, &vm->evict.list);
	else
		gpuvm_list_add_tail(&alien->list.entry.extobj, &vm->extobj.list);
}

static void unplant(struct gpuvm_bo *alien, bool evict)
{
	gpuvm_list_del(evict ? &alien->list.entry.evict : &alien->list.entry.extobj);
}

static void verify_skips_busy_vm_lists(void **state)
{
	struct test_alloc ta;
	struct gpuvm vm, other;
	struct test_gem g;
	struct gpuvm_bo *alien;

	(void)state;
	test_alloc_init(&ta);
	tvm_init(&vm, &ta, NULL, 0, 1ull << 40);
	tvm_init(&other, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x10000), 0);
	assert_ret(gpuvm_bo_obtain(&other, &g.base, &alien), 0);

	for (int evict = 0; evict < 2; evict++) {
		pthread_mutex_t *m = evict ? &vm.evict.lock : &vm.extobj.lock;

		plant(&vm, alien, evict);
		assert_ret(gpuvm_verify(&vm), -EUCLEAN);
		/* someone holds the list's mutex: not looked at, no wait */
		assert_int_equal(pthread_mutex_lock(m), 0);
		assert_ret(gpuvm_verify(&vm), 0);
		assert_int_equal(pthread_mutex_unlock(m), 0);
		assert_ret(gpuvm_verify(&vm), -EUCLEAN);
		unplant(alien, evict);
		assert_ret(gpuvm_verify(&vm), 0);
	}

	assert_true(gpuvm_bo_put(alien));
	assert_ret(gpuvm_fini(&other), 0);
	tvm_fini(&vm, &ta);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
}

static void verify_resv_protected_lists(void **state)
{
	struct test_alloc ta;
	struct gpuvm_resv resv;
	struct gpuvm_gem root;
	struct gpuvm vm, other;
	struct test_gem g;
	struct gpuvm_bo *alien;
	GPUVM_OPTS(gpuvm_gem_opts, ropts, .resv = &resv);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "prot", .flags = GPUVM_RESV_PROTECTED,
		   .range = 1ull << 40, .r_obj = &root);

	(void)state;
	test_alloc_init(&ta);
	opts.alloc = test_alloc_hooks(&ta);
	assert_ret(gpuvm_resv_init(&resv, NULL), 0);
	assert_ret(gpuvm_gem_init(&root, &ropts), 0);
	assert_ret(gpuvm_init(&vm, &opts), 0);
	tvm_init(&other, &ta, NULL, 0, 1ull << 40);
	assert_ret(test_gem_init(&g, "G", 0x10000), 0);
	assert_ret(gpuvm_bo_obtain(&other, &g.base, &alien), 0);

	for (int evict = 0; evict < 2; evict++) {
		plant(&vm, alien, evict);
		/* the lists are the reservation's: checked only by its holder */
		assert_ret(gpuvm_verify(&vm), 0);
		assert_ret(gpuvm_resv_lock(&resv), 0);
		assert_ret(gpuvm_verify(&vm), -EUCLEAN);
		unplant(alien, evict);
		assert_ret(gpuvm_verify(&vm), 0);
		assert_ret(gpuvm_resv_unlock(&resv), 0);
	}

	assert_true(gpuvm_bo_put(alien));
	assert_ret(gpuvm_fini(&other), 0);
	assert_ret(gpuvm_fini(&vm), 0);
	assert_int_equal(ta.live, 0);
	gpuvm_gem_put(&g.base);
	assert_int_equal(g.frees, 1);
	assert_ret(gpuvm_gem_fini(&root), 0);
	assert_ret(gpuvm_resv_fini(&resv), 0);
}

/* Another thread holds a gem's gpuva lock until told to let go. */
struct holder {
	struct gpuvm_gem *obj;
	pthread_barrier_t locked, release;
	int lock_ret, unlock_ret;
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;

	h->lock_ret = gpuvm_gem_gpuva_lock(h->obj);
	pthread_barrier_wait(&h->locked);
	pthread_barrier_wait(&h->release);
	h->unlock_ret = gpuvm_gem_gpuva_unlock(h->obj);
	return NULL;
}

static void verify_immediate_gpuva_lock_busy(void **state)
{
	struct two_linked t;
	struct gpuvm_list *saved;
	struct holder h = { 0 };
	pthread_t th;

	(void)state;
	two_linked_init(&t, GPUVM_IMMEDIATE_MODE);
	saved = t.b.gem.entry.prev;
	t.b.gem.entry.prev = NULL;
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	/* verify tried (and released) the gem's lock itself */
	assert_false(gpuvm_gem_gpuva_lock_held(&t.g.base));

	/* the gem's mapping list is another thread's now: skipped */
	h.obj = &t.g.base;
	assert_int_equal(pthread_barrier_init(&h.locked, NULL, 2), 0);
	assert_int_equal(pthread_barrier_init(&h.release, NULL, 2), 0);
	assert_int_equal(pthread_create(&th, NULL, holder_main, &h), 0);
	pthread_barrier_wait(&h.locked);
	assert_ret(h.lock_ret, 0);
	assert_ret(gpuvm_verify(&t.vm), 0);
	pthread_barrier_wait(&h.release);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_ret(h.unlock_ret, 0);
	pthread_barrier_destroy(&h.locked);
	pthread_barrier_destroy(&h.release);

	/* held by this thread: checked */
	assert_ret(gpuvm_gem_gpuva_lock(&t.g.base), 0);
	assert_ret(gpuvm_verify(&t.vm), -EUCLEAN);
	assert_ret(gpuvm_gem_gpuva_unlock(&t.g.base), 0);

	t.b.gem.entry.prev = saved;
	two_linked_fini(&t);
}

/* A caller-supplied gpuva lock (a plain mutex here) that counts its use. */
struct custom_gem {
	struct gpuvm_gem base;
	pthread_mutex_t m;
	unsigned int locks;
};

static int custom_lock(struct gpuvm_gem *obj)
{
	struct custom_gem *c = (struct custom_gem *)(void *)obj;

	c->locks++;
	return -pthread_mutex_lock(&c->m);
}

static void custom_unlock(struct gpuvm_gem *obj)
{
	struct custom_gem *c = (struct custom_gem *)(void *)obj;

	pthread_mutex_unlock(&c->m);
}

static const struct gpuvm_gem_funcs custom_funcs = {
	.gpuva_lock = custom_lock,
	.gpuva_unlock = custom_unlock,
};

static void verify_custom_gpuva_lock(void **state)
{
	struct test_alloc ta;
	struct custom_gem c;
	struct gpuvm_bo *vm_bo;
	struct gpuvm_list *saved;
	struct gpuvm vm;
	struct gpuva a, b;
	unsigned int locks;
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .size = 0x10000, .funcs = &custom_funcs);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "custom", .flags = GPUVM_IMMEDIATE_MODE,
		   .range = 1ull << 40);

	(void)state;
	test_alloc_init(&ta);
	opts.alloc = test_alloc_hooks(&ta);
	assert_ret(gpuvm_init(&vm, &opts), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(pthread_mutex_init(&c.m, NULL), 0);
	assert_ret(gpuvm_gem_init(&c.base, &gopts), 0);
	assert_ret(gpuvm_bo_obtain(&vm, &c.base, &vm_bo), 0);
	insert_va(&vm, &a, 0x10000, 0x1000, &c.base, 0);
	insert_va(&vm, &b, 0x20000, 0x1000, &c.base, 0);
	assert_ret(gpuva_link(&a, vm_bo), 0);
	assert_ret(gpuva_link(&b, vm_bo), 0);

	saved = b.gem.entry.prev;
	b.gem.entry.prev = NULL;
	/* a lock without a trylock is never waited for: the list is skipped */
	locks = c.locks;
	assert_ret(gpuvm_verify(&vm), 0);
	assert_int_equal(c.locks, locks);
	/* unless this thread holds it */
	assert_ret(gpuvm_gem_gpuva_lock(&c.base), 0);
	assert_ret(gpuvm_verify(&vm), -EUCLEAN);
	assert_ret(gpuvm_gem_gpuva_unlock(&c.base), 0);
	b.gem.entry.prev = saved;
	assert_ret(gpuvm_gem_gpuva_lock(&c.base), 0);
	assert_ret(gpuvm_verify(&vm), 0);
	assert_ret(gpuvm_gem_gpuva_unlock(&c.base), 0);

	assert_ret(gpuva_unlink(&a), 0);
	assert_ret(gpuva_unlink(&b), 0);
	assert_ret(gpuva_remove(&a), 0);
	assert_ret(gpuva_remove(&b), 0);
	assert_ret(gpuvm_gem_gpuva_lock(&c.base), 0);
	assert_true(gpuvm_bo_put(vm_bo));
	assert_ret(gpuvm_gem_gpuva_unlock(&c.base), 0);
	assert_ret(gpuvm_fini(&vm), 0);
	assert_int_equal(ta.live, 0);
	/* no free callback: the last put leaves the object to its owner */
	gpuvm_gem_put(&c.base);
	assert_int_equal(c.base.refcount, 0);
	assert_ret(gpuvm_gem_fini(&c.base), 0);
	pthread_mutex_destroy(&c.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_unpaired_hooks),
		cmocka_unit_test(fini_busy_evict_list),
		cmocka_unit_test(put_last_with_mappings),
		cmocka_unit_test(null_vm_helpers),
		cmocka_unit_test(list_mode_trims_cache),
		cmocka_unit_test(verify_mapping_lists),
		cmocka_unit_test(verify_skips_busy_vm_lists),
		cmocka_unit_test(verify_resv_protected_lists),
		cmocka_unit_test(verify_immediate_gpuva_lock_busy),
		cmocka_unit_test(verify_custom_gpuva_lock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
