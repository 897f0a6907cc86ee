/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the fence-signalling section: the begin/end nesting, every
 * call the section forbids, and the calls it allows.
 *
 * A forbidden call runs in a forked child inside a section. Debug builds
 * (GPUVM_DEBUG) must abort it with the message naming the call and the rule;
 * other builds do not check, so there the child must run the call and exit
 * normally. The allowed calls run in this process inside a section, with the
 * VM's allocator set to abort on any use: they must neither abort nor
 * allocate.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_child.h"
#include "test_util.h"

#ifdef GPUVM_DEBUG
static const bool checked = true;
#else
static const bool checked = false;
#endif

/* ---- fixture ---- */

struct sfx {
	struct test_alloc ta;
	struct gpuvm_resv vm_resv, ext_resv;
	struct gpuvm_gem root;
	struct test_gem g;      /* local to the VMs (shares vm_resv) */
	struct test_gem ext;    /* external, own reservation */
	struct gpuvm vm;        /* immediate mode */
	struct gpuvm plain;     /* not immediate */
	struct gpuvm_bo *bo;    /* vm's vm_bo of g, one reference (the fixture's) */
	struct gpuva va[4];
};

static int sfx_validate(struct gpuvm_bo *vm_bo, void *priv)
{
	(void)vm_bo;
	(void)priv;
	return 0;
}

static const struct gpuvm_ops sfx_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_bo_validate = sfx_validate,
};

static void sfx_init(struct sfx *f)
{
	GPUVM_OPTS(gpuvm_gem_opts, gopts, .resv = &f->vm_resv);

	memset(f, 0, sizeof(*f));
	test_alloc_init(&f->ta);
	assert_ret(gpuvm_resv_init(&f->vm_resv, NULL), 0);
	assert_ret(gpuvm_resv_init(&f->ext_resv, NULL), 0);
	assert_ret(gpuvm_gem_init(&f->root, &gopts), 0);
	assert_ret(test_gem_init(&f->g, "G", 0x100000), 0);
	f->g.base.resv = &f->vm_resv;
	assert_ret(test_gem_init(&f->ext, "E", 0x100000), 0);
	f->ext.base.resv = &f->ext_resv;

	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "sig", .flags = GPUVM_IMMEDIATE_MODE,
		   .range = 1ull << 40, .ops = &sfx_ops, .alloc = test_alloc_hooks(&f->ta),
		   .r_obj = &f->root);
	assert_ret(gpuvm_init(&f->vm, &opts), 0);
	opts.flags = 0;
	opts.name = "plain";
	assert_ret(gpuvm_init(&f->plain, &opts), 0);
	assert_ret(gpuvm_bo_obtain(&f->vm, &f->g.base, &f->bo), 0);
}

static void sfx_fini(struct sfx *f)
{
	assert_false(gpuvm_in_signalling());
	test_alloc_forbid(&f->ta, false);
	if (f->bo)
		assert_ret(gpuvm_bo_put_deferred(f->bo), 1);
	assert_true(gpuvm_bo_deferred_cleanup(&f->vm) >= 0);
	tvm_clear(&f->vm);
	assert_ret(gpuvm_fini(&f->vm), 0);
	assert_ret(gpuvm_fini(&f->plain), 0);
	assert_int_equal(f->ta.live, 0);
	assert_int_equal(f->ta.errors, 0);
	gpuvm_gem_put(&f->g.base);
	assert_int_equal(f->g.frees, 1);
	assert_int_equal(f->g.fini_ret, 0);
	gpuvm_gem_put(&f->ext.base);
	assert_int_equal(f->ext.frees, 1);
	assert_ret(gpuvm_gem_fini(&f->root), 0);
	assert_ret(gpuvm_resv_fini(&f->ext_resv), 0);
	assert_ret(gpuvm_resv_fini(&f->vm_resv), 0);
}

/* ---- running a call in a child ---- */

struct child_call {
	void (*fn)(struct sfx *);
	struct sfx *f;
};

static void child_call(void *arg)
{
	struct child_call *c = arg;

	c->fn(c->f);
}

/* @fn(@f) in a forked child (test_child.h); its stderr goes to @err. */
static int run_child(void (*fn)(struct sfx *), struct sfx *f, char *err, size_t len)
{
	struct child_call c = { fn, f };
	int status = test_run_child(child_call, &c, err, len);

	assert_true(status != -1);
	return status;
}

/*
 * @fn makes a forbidden call inside a section: debug builds abort with the
 * message, other builds complete it.
 */
static void expect_forbidden(void (*fn)(struct sfx *), const char *call, const char *rule)
{
	struct sfx f;
	char err[1024], want[256];
	int status;

	sfx_init(&f);
	status = run_child(fn, &f, err, sizeof(err));
	snprintf(want, sizeof(want), "libgpuvm: %s() called in a fence-signalling section: %s",
		 call, rule);
	if (checked) {
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
			fail_msg("%s in a section: child did not abort (status 0x%x), stderr: %s",
				 call, status, err);
		if (!strstr(err, want))
			fail_msg("%s in a section: stderr lacks \"%s\": %s", call, want, err);
	} else {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("%s in a section: child failed (status 0x%x) in a build "
				 "without checks, stderr: %s", call, status, err);
		if (strstr(err, "fence-signalling section"))
			fail_msg("%s: unexpected message in a build without checks: %s", call,
				 err);
	}
	sfx_fini(&f);
}

/* ---- the forbidden calls, one child each ---- */

#define SECTION(body)                                                          \
	do {                                                                   \
		bool c_ = gpuvm_signalling_begin();                            \
		body;                                                          \
		gpuvm_signalling_end(c_);                                      \
	} while (0)

static void do_bo_create(struct sfx *f)
{
	struct gpuvm_bo *b;

	SECTION(assert_ret(gpuvm_bo_create(&f->vm, &f->ext.base, &b), 0));
	assert_true(gpuvm_bo_put(b));
}

static void do_bo_obtain(struct sfx *f)
{
	struct gpuvm_bo *b;

	SECTION(assert_ret(gpuvm_bo_obtain(&f->vm, &f->ext.base, &b), 0));
}

static void do_bo_obtain_locked(struct sfx *f)
{
	struct gpuvm_bo *b;

	SECTION(assert_ret(gpuvm_bo_obtain_locked(&f->plain, &f->ext.base, &b), 0));
}

static void do_bo_obtain_prealloc(struct sfx *f)
{
	struct gpuvm_bo *pre, *b;

	assert_ret(gpuvm_bo_create(&f->vm, &f->g.base, &pre), 0);
	SECTION(assert_ret(gpuvm_bo_obtain_prealloc(pre, &b), 0));
}

static void do_bo_put(struct sfx *f)
{
	gpuvm_bo_get(f->bo);
	SECTION(gpuvm_bo_put(f->bo)); /* not even the last reference */
}

static void do_gem_put(struct sfx *f)
{
	gpuvm_gem_get(&f->ext.base);
	SECTION(gpuvm_gem_put(&f->ext.base));
}

static void do_vm_put(struct sfx *f)
{
	gpuvm_get(&f->vm);
	SECTION(gpuvm_put(&f->vm));
}

static void do_deferred_cleanup(struct sfx *f)
{
	SECTION(assert_ret(gpuvm_bo_deferred_cleanup(&f->vm), 0));
}

static void do_validate(struct sfx *f)
{
	SECTION(assert_ret(gpuvm_validate(&f->vm, NULL), 0));
}

static void do_resv_lock(struct sfx *f)
{
	SECTION(assert_ret(gpuvm_resv_lock(&f->ext_resv), 0));
}

static void do_index_reserve(struct sfx *f)
{
	SECTION(assert_ret(gpuvm_index_reserve(&f->vm, 3), 0));
}

static void do_sm_map_ops_create(struct sfx *f)
{
	GPUVM_OPTS(gpuvm_map_req, req, .map = { .va = { 0x1000, 0x1000 } });
	struct gpuva_ops *ops;

	SECTION(assert_ret(gpuvm_sm_map_ops_create(&f->vm, &req, &ops), 0));
}

static void do_madvise_ops_create(struct sfx *f)
{
	GPUVM_OPTS(gpuvm_map_req, req, .map = { .va = { 0x1000, 0x1000 } });
	struct gpuva_ops *ops;

	SECTION(assert_ret(gpuvm_madvise_ops_create(&f->vm, &req, &ops), 0));
}

static void do_sm_unmap_ops_create(struct sfx *f)
{
	struct gpuva_ops *ops;

	SECTION(assert_ret(gpuvm_sm_unmap_ops_create(&f->vm, 0x1000, 0x1000, &ops), 0));
}

static void do_prefetch_ops_create(struct sfx *f)
{
	struct gpuva_ops *ops;

	SECTION(assert_ret(gpuvm_prefetch_ops_create(&f->vm, 0x1000, 0x1000, &ops), 0));
}

static void do_bo_unmap_ops_create(struct sfx *f)
{
	struct gpuva_ops *ops;

	SECTION(assert_ret(gpuvm_bo_unmap_ops_create(f->bo, &ops), 0));
}

/* An insert into an empty VM with nothing reserved needs a node: the allocator check. */
static void do_insert_unreserved(struct sfx *f)
{
	SECTION(insert_va(&f->vm, &f->va[0], 0x1000, 0x1000, NULL, 0));
}

/* gpuva_unlink() drops its reference with gpuvm_bo_put(). */
static void do_unlink(struct sfx *f)
{
	insert_va(&f->vm, &f->va[0], 0x1000, 0x1000, &f->g.base, 0);
	assert_ret(gpuvm_gem_gpuva_lock(&f->g.base), 0);
	assert_ret(gpuva_link(&f->va[0], f->bo), 0);
	SECTION(assert_ret(gpuva_unlink(&f->va[0]), 0));
}

static void forbidden_calls(void **state)
{
	(void)state;
	expect_forbidden(do_bo_create, "gpuvm_bo_create", "it allocates a vm_bo");
	expect_forbidden(do_bo_obtain, "gpuvm_bo_obtain", "it may allocate a vm_bo");
	expect_forbidden(do_bo_obtain_locked, "gpuvm_bo_obtain_locked",
			 "it may allocate a vm_bo");
	expect_forbidden(do_bo_obtain_prealloc, "gpuvm_bo_obtain_prealloc",
			 "it may free the preallocated vm_bo");
	expect_forbidden(do_bo_put, "gpuvm_bo_put", "it may free a buffer object");
	expect_forbidden(do_gem_put, "gpuvm_gem_put", "it may free a buffer object");
	expect_forbidden(do_vm_put, "gpuvm_put", "it may free the VM");
	expect_forbidden(do_deferred_cleanup, "gpuvm_bo_deferred_cleanup",
			 "it frees buffer objects and may block on the VM's reservation");
	expect_forbidden(do_validate, "gpuvm_validate",
			 "it calls vm_bo_validate, which moves buffer objects");
	expect_forbidden(do_resv_lock, "gpuvm_resv_lock", "it may block on a reservation");
	expect_forbidden(do_index_reserve, "gpuvm_index_reserve", "it may allocate index nodes");
	expect_forbidden(do_sm_map_ops_create, "gpuvm_sm_map_ops_create",
			 "it allocates the op list");
	expect_forbidden(do_madvise_ops_create, "gpuvm_madvise_ops_create",
			 "it allocates the op list");
	expect_forbidden(do_sm_unmap_ops_create, "gpuvm_sm_unmap_ops_create",
			 "it allocates the op list");
	expect_forbidden(do_prefetch_ops_create, "gpuvm_prefetch_ops_create",
			 "it allocates the op list");
	expect_forbidden(do_bo_unmap_ops_create, "gpuvm_bo_unmap_ops_create",
			 "it allocates the op list");
	expect_forbidden(do_insert_unreserved, "gpuvm__alloc", "it allocates memory");
	expect_forbidden(do_unlink, "gpuvm_bo_put", "it may free a buffer object");
}

/* ---- the section itself ---- */

static void section_nesting(void **state)
{
	bool outer, inner;

	(void)state;
	assert_false(gpuvm_in_signalling());
	outer = gpuvm_signalling_begin();
	assert_false(outer);
	assert_true(gpuvm_in_signalling());
	inner = gpuvm_signalling_begin();
	assert_true(inner);
	gpuvm_signalling_end(inner);
	assert_true(gpuvm_in_signalling());
	gpuvm_signalling_end(outer);
	assert_false(gpuvm_in_signalling());
}

static void *other_thread(void *p)
{
	*(bool *)p = gpuvm_in_signalling();
	return NULL;
}

/* The section is the calling thread's, nobody else's. */
static void section_per_thread(void **state)
{
	bool c, seen = true;
	pthread_t t;

	(void)state;
	c = gpuvm_signalling_begin();
	assert_int_equal(pthread_create(&t, NULL, other_thread, &seen), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_false(seen);
	gpuvm_signalling_end(c);
}

static void do_end_without_begin(struct sfx *f)
{
	(void)f;
	gpuvm_signalling_end(false);
}

static void do_end_out_of_order(struct sfx *f)
{
	bool outer, inner;

	(void)f;
	outer = gpuvm_signalling_begin();
	inner = gpuvm_signalling_begin();
	gpuvm_signalling_end(outer); /* the inner one's turn */
	gpuvm_signalling_end(inner);
}

static void expect_section_misuse(void (*fn)(struct sfx *), const char *what)
{
	struct sfx f;
	char err[512];
	int status;

	sfx_init(&f);
	status = run_child(fn, &f, err, sizeof(err));
	if (checked) {
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
			fail_msg("%s did not abort: status 0x%x", what, status);
		if (!strstr(err, "libgpuvm: gpuvm_signalling_end()"))
			fail_msg("%s: message missing: %s", what, err);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail_msg("%s failed in a build without checks: status 0x%x", what, status);
	}
	sfx_fini(&f);
}

static void section_misuse(void **state)
{
	(void)state;
	expect_section_misuse(do_end_without_begin, "end without begin");
	expect_section_misuse(do_end_out_of_order, "ends out of order");
}

/* ---- the allowed calls: no abort, no allocation ---- */

static void allowed_calls(void **state)
{
	GPUVM_OPTS(gpuvm_map_req, req, .map = { .va = { 0x10000, 0x4000 }, .gem = { 0, NULL } });
	struct gpuvm_bo *ext_bo, *pre;
	struct gpuva_ops *ops;
	struct gpuva_op *op;
	struct sfx f;
	bool c;

	(void)state;
	sfx_init(&f);
	/* everything that allocates happens before the section */
	assert_ret(gpuvm_bo_obtain(&f.vm, &f.ext.base, &ext_bo), 0);
	assert_ret(gpuvm_bo_create(&f.vm, &f.ext.base, &pre), 0);
	assert_ret(gpuvm_index_reserve(&f.vm, 4), 0);
	req.map.gem.obj = &f.ext.base;
	assert_ret(gpuvm_sm_map_ops_create(&f.vm, &req, &ops), 0);

	c = gpuvm_signalling_begin();
	test_alloc_forbid(&f.ta, true);

	/* inserts with reserved nodes, links (under the gem's lock), references */
	struct gpuva_op_map m0 = { .va = { 0x1000, 0x1000 }, .gem = { 0, &f.g.base } };
	struct gpuva_op_map m1 = { .va = { 0x3000, 0x1000 }, .gem = { 0, &f.ext.base } };

	assert_ret(gpuva_map(&f.vm, &f.va[0], &m0), 0);
	assert_ret(gpuva_map(&f.vm, &f.va[1], &m1), 0);
	assert_ret(gpuvm_gem_gpuva_lock(&f.g.base), 0);
	assert_ret(gpuva_link(&f.va[0], f.bo), 0);
	assert_ret(gpuvm_gem_gpuva_unlock(&f.g.base), 0);
	assert_ret(gpuvm_gem_gpuva_lock(&f.ext.base), 0);
	assert_ret(gpuva_link(&f.va[1], ext_bo), 0);
	assert_ret(gpuvm_gem_gpuva_unlock(&f.ext.base), 0);
	gpuvm_bo_get(ext_bo);
	assert_ret(gpuvm_bo_put_deferred(ext_bo), 0);

	/* reservations can be tried, and the lists changed under them */
	assert_ret(gpuvm_resv_trylock(&f.ext_resv), 0);
	assert_ret(gpuvm_bo_extobj_add(ext_bo), 0);
	assert_ret(gpuvm_bo_evict(ext_bo, true), 0);
	assert_ret(gpuvm_bo_gem_evict(&f.ext.base, false), 0);
	assert_ret(gpuvm_resv_unlock(&f.ext_resv), 0);

	/* the op list built outside: map (into two preallocated structs) */
	gpuva_for_each_op(op, ops) {
		assert_int_equal(op->op, GPUVA_OP_MAP);
		assert_ret(gpuva_map(&f.vm, &f.va[2], &op->map), 0);
	}
	/* a remap and an unmap with reserved nodes: split va[2], drop the tail */
	struct gpuva_op_map prev = { .va = { 0x10000, 0x1000 }, .gem = { 0, &f.ext.base } };
	struct gpuva_op_map next = { .va = { 0x12000, 0x2000 }, .gem = { 0x2000, &f.ext.base } };
	struct gpuva_op_unmap um = { .va = &f.va[2] };
	struct gpuva_op_remap rm = { .prev = &prev, .next = &next, .unmap = &um };
	struct gpuva tail;

	memset(&tail, 0, sizeof(tail));
	assert_ret(gpuva_remap(&f.va[3], &tail, &rm), 0);
	um.va = &tail;
	assert_ret(gpuva_unmap(&um), 0);

	/* deferred unlinks and the removal */
	assert_ret(gpuva_unlink_defer(&f.va[1]), 0);
	assert_ret(gpuva_remove(&f.va[1]), 0);
	assert_ret(gpuva_remove(&f.va[0]), 0);
	assert_ret(gpuva_unlink_defer(&f.va[0]), 0);
	assert_ret(gpuvm_bo_put_deferred(ext_bo), 1); /* obtain's: the last */

	test_alloc_forbid(&f.ta, false);
	gpuvm_signalling_end(c);

	/* outside again: what was deferred is freed */
	gpuva_ops_free(&f.vm, ops);
	gpuvm_index_unreserve(&f.vm, 4);
	assert_true(gpuvm_bo_put(pre));
	assert_ret(gpuvm_bo_deferred_cleanup(&f.vm), 1);
	sfx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(section_nesting),
		cmocka_unit_test(section_per_thread),
		cmocka_unit_test(section_misuse),
		cmocka_unit_test(forbidden_calls),
		cmocka_unit_test(allowed_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
