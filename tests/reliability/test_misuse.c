/* SPDX-License-Identifier: MIT */
/*
 * The table of misuses: each row is a wrong call of the public API (NULL
 * objects, overflowing, zero and out-of-space ranges, double inserts and
 * removes, unlinking twice, links across VMs, calls of the other mode, sized
 * options with an unknown non-zero tail, callbacks missing from an ops
 * table, locks not held or held twice, ...), the negative errno it must
 * return, and the check that nothing changed: the dump of every VM with
 * every object's and vm_bo's reference count, the extobj and evict lists,
 * the locks held, the mapping structs the call was handed, the memory an
 * init call was handed, and the allocator's live blocks.
 *
 * Rows with an abort message are misuse that debug builds (GPUVM_DEBUG: the
 * debug and asan presets) stop at with a message: there the call runs in a
 * forked child, which must die of SIGABRT having printed the message.
 * Release builds check the errno instead, or skip the row when the misuse
 * cannot be detected cheaply without GPUVM_DEBUG (a put below zero).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gpuvm.h>
#include <gpuvm/exec.h>

#include <signal.h>
#include <sys/wait.h>

#include "test_child.h"
#include "test_util.h"

#ifdef GPUVM_DEBUG
static const bool debug_build = true;
#else
static const bool debug_build = false;
#endif

/* ---- the fixture ---- */

#define SPACE_START 0x100000ull
#define SPACE_RANGE 0x100000000ull
#define RES_ADDR 0x80000000ull
#define RES_RANGE 0x100000ull
#define OBJ_SIZE 0x100000ull

struct mfx {
	struct test_alloc ta;
	struct gpuvm_resv vm_resv;    /* P's, through root */
	struct gpuvm_resv ext_resv;   /* e's: an external object of P */
	struct gpuvm_resv other_resv; /* B's, through oroot; x shares it */
	struct gpuvm_gem root, oroot;
	struct test_gem a, b, s, e, x; /* s is one page; a, b have no reservation */
	/*
	 * A: plain, with a reserved region and step callbacks; B: the whole
	 * 64-bit space, no ops; I: immediate mode; P: RESV_PROTECTED with a
	 * validate callback; N: steps without sm_step_map.
	 */
	struct gpuvm A, B, I, P, N;
	struct gpuva m1;  /* A: a, linked */
	struct gpuva m2;  /* A: sparse */
	struct gpuva m3;  /* A: b, inserted, not linked */
	struct gpuva u1;  /* A: a, inserted, linked and unlinked again */
	struct gpuva r1;  /* A: a, inserted and removed */
	struct gpuva rl;  /* A: a, removed while linked (stays linked) */
	struct gpuva mb;  /* B: a, linked */
	struct gpuva mi;  /* I: a, linked */
	struct gpuva mp;  /* P: e, linked, e on P's extobj list */
	struct gpuva n1;  /* initialized, never inserted */
	struct gpuva tmp, tmp2; /* scratch a row may fill; not in the dump */
	struct gpuvm_exec exec; /* on P */
	struct gpuvm_exec zexec; /* zeroed: never initialized */
	unsigned int steps; /* step callbacks called */
	/* handed to init calls that must leave it alone on error */
	union {
		struct gpuvm vm;
		struct gpuvm_gem gem;
		struct gpuvm_resv resv;
		struct gpuvm_exec exec;
		unsigned char bytes[1024];
	} scratch;
	/* what a row's setup made */
	struct gpuvm_bo *bo;
	struct gpuva_ops *ops;
	struct gpuvm *vm;
};

static struct mfx *fx; /* for the step callbacks */

static int step(struct gpuva_op *op, void *priv)
{
	(void)op;
	(void)priv;
	fx->steps++;
	return 0;
}

static int validate(struct gpuvm_bo *vm_bo, void *priv)
{
	(void)vm_bo;
	(void)priv;
	fx->steps++;
	return 0;
}

static const struct gpuvm_ops steps_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_map = step,
	.sm_step_remap = step,
	.sm_step_unmap = step,
};

static const struct gpuvm_ops no_map_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_remap = step,
	.sm_step_unmap = step,
};

static const struct gpuvm_ops validate_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_bo_validate = validate,
};

static void vm_init(struct mfx *f, struct gpuvm *vm, const char *name, uint32_t flags,
		    uint64_t start, uint64_t range, bool reserve, const struct gpuvm_ops *ops,
		    struct gpuvm_gem *r_obj)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = name, .flags = flags, .start = start,
		   .range = range, .ops = ops, .alloc = test_alloc_hooks(&f->ta),
		   .r_obj = r_obj);

	if (reserve) {
		opts.reserve_addr = RES_ADDR;
		opts.reserve_range = RES_RANGE;
	}
	assert_ret(gpuvm_init(vm, &opts), 0);
}

/* Link an inserted mapping, holding what the VM's mode asks for. */
static void link_new(struct gpuvm *vm, struct gpuva *va)
{
	struct gpuvm_gem *obj = gpuva_gem(va);
	struct gpuvm_bo *vm_bo = NULL;

	assert_ret(gpuvm_bo_obtain(vm, obj, &vm_bo), 0);
	if (gpuvm_immediate_mode(vm)) {
		assert_ret(gpuvm_gem_gpuva_lock(obj), 0);
		assert_ret(gpuva_link(va, vm_bo), 0);
		assert_ret(gpuvm_gem_gpuva_unlock(obj), 0);
		assert_ret(gpuvm_bo_put_deferred(vm_bo), 0);
	} else {
		assert_ret(gpuva_link(va, vm_bo), 0);
		gpuvm_bo_put(vm_bo);
	}
}

static void map_linked(struct gpuvm *vm, struct gpuva *va, uint64_t addr, struct gpuvm_gem *obj)
{
	insert_va(vm, va, addr, PG, obj, 0);
	link_new(vm, va);
}

static struct gpuvm_bo *bo_of(struct gpuva *va)
{
	struct gpuvm_bo *vm_bo = gpuva_vm_bo(va);

	assert_non_null(vm_bo);
	return vm_bo;
}

static struct mfx *mfx_new(void)
{
	struct mfx *f = calloc(1, sizeof(*f));
	GPUVM_OPTS(gpuvm_gem_opts, go);

	assert_non_null(f);
	fx = f;
	test_alloc_init(&f->ta);
	assert_ret(gpuvm_resv_init(&f->vm_resv, NULL), 0);
	assert_ret(gpuvm_resv_init(&f->ext_resv, NULL), 0);
	assert_ret(gpuvm_resv_init(&f->other_resv, NULL), 0);
	go.size = OBJ_SIZE;
	go.resv = &f->vm_resv;
	assert_ret(gpuvm_gem_init(&f->root, &go), 0);
	go.resv = &f->other_resv;
	assert_ret(gpuvm_gem_init(&f->oroot, &go), 0);
	assert_ret(test_gem_init(&f->a, "a", OBJ_SIZE), 0);
	assert_ret(test_gem_init(&f->b, "b", OBJ_SIZE), 0);
	assert_ret(test_gem_init(&f->s, "s", PG), 0);
	assert_ret(test_gem_init(&f->e, "e", OBJ_SIZE), 0);
	f->e.base.resv = &f->ext_resv;
	assert_ret(test_gem_init(&f->x, "x", OBJ_SIZE), 0);
	f->x.base.resv = &f->other_resv;

	vm_init(f, &f->A, "A", 0, SPACE_START, SPACE_RANGE, true, &steps_ops, NULL);
	vm_init(f, &f->B, "B", 0, 0, UINT64_MAX, false, NULL, &f->oroot);
	vm_init(f, &f->I, "I", GPUVM_IMMEDIATE_MODE, SPACE_START, SPACE_RANGE, false, NULL, NULL);
	vm_init(f, &f->P, "P", GPUVM_RESV_PROTECTED, SPACE_START, SPACE_RANGE, true,
		&validate_ops, &f->root);
	vm_init(f, &f->N, "N", 0, SPACE_START, SPACE_RANGE, false, &no_map_ops, NULL);

	/* 16 pages: room for remap pieces */
	insert_va(&f->A, &f->m1, 0x200000, 16 * PG, &f->a.base, 0);
	link_new(&f->A, &f->m1);
	insert_va(&f->A, &f->m2, 0x300000, PG, NULL, 0);
	insert_va(&f->A, &f->m3, 0x400000, PG, &f->b.base, 0);
	map_linked(&f->A, &f->u1, 0x500000, &f->a.base);
	assert_ret(gpuva_unlink(&f->u1), 0);
	insert_va(&f->A, &f->r1, 0x600000, PG, &f->a.base, 0);
	assert_ret(gpuva_remove(&f->r1), 0);
	map_linked(&f->A, &f->rl, 0x700000, &f->a.base);
	assert_ret(gpuva_remove(&f->rl), 0);
	gpuva_init(&f->n1, 0x800000, PG, &f->a.base, 0);

	map_linked(&f->B, &f->mb, 0x200000, &f->a.base);
	map_linked(&f->I, &f->mi, 0x200000, &f->a.base);

	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
	assert_ret(gpuvm_resv_lock(&f->ext_resv), 0);
	map_linked(&f->P, &f->mp, 0x200000, &f->e.base);
	assert_ret(gpuvm_bo_extobj_add(bo_of(&f->mp)), 0);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv), 0);
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);

	{
		GPUVM_OPTS(gpuvm_exec_opts, eo, .vm = &f->P);

		assert_ret(gpuvm_exec_init(&f->exec, &eo), 0);
	}
	memset(&f->scratch, 0x5a, sizeof(f->scratch));
	for (struct gpuvm *vm = &f->A; vm <= &f->N; vm++)
		assert_ret(gpuvm_verify(vm), 0);
	return f;
}

static void mfx_free(struct mfx *f)
{
	assert_ret(gpuvm_exec_fini(&f->exec), 0);
	/* A */
	assert_ret(gpuva_unlink(&f->m1), 0);
	assert_ret(gpuva_remove(&f->m1), 0);
	assert_ret(gpuva_remove(&f->m2), 0);
	assert_ret(gpuva_remove(&f->m3), 0);
	assert_ret(gpuva_remove(&f->u1), 0);
	assert_ret(gpuva_unlink(&f->rl), 0);
	assert_ret(gpuva_unlink(&f->mb), 0);
	assert_ret(gpuva_remove(&f->mb), 0);
	assert_ret(gpuva_unlink_defer(&f->mi), 0);
	assert_ret(gpuva_remove(&f->mi), 0);
	assert_true(gpuvm_bo_deferred_cleanup(&f->I) >= 0);
	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
	assert_ret(gpuvm_resv_lock(&f->ext_resv), 0);
	assert_ret(gpuva_unlink(&f->mp), 0);
	assert_ret(gpuvm_resv_unlock(&f->ext_resv), 0);
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);
	assert_ret(gpuva_remove(&f->mp), 0);
	for (struct gpuvm *vm = &f->A; vm <= &f->N; vm++)
		assert_ret(gpuvm_fini(vm), 0);
	gpuvm_gem_put(&f->a.base);
	gpuvm_gem_put(&f->b.base);
	gpuvm_gem_put(&f->s.base);
	gpuvm_gem_put(&f->e.base);
	gpuvm_gem_put(&f->x.base);
	assert_int_equal(f->a.frees + f->b.frees + f->s.frees + f->e.frees + f->x.frees, 5);
	assert_ret(gpuvm_gem_fini(&f->root), 0);
	assert_ret(gpuvm_gem_fini(&f->oroot), 0);
	assert_ret(gpuvm_resv_fini(&f->vm_resv), 0);
	assert_ret(gpuvm_resv_fini(&f->ext_resv), 0);
	assert_ret(gpuvm_resv_fini(&f->other_resv), 0);
	assert_int_equal(f->ta.live, 0);
	assert_int_equal(f->ta.live_bytes, 0);
	assert_int_equal(f->ta.errors, 0);
	fx = NULL;
	free(f);
}

static void dump_va_struct(struct test_str *b, const char *name, const struct gpuva *va)
{
	test_str_printf(b, "%s vm=%p 0x%llx+0x%llx off=0x%llx owner=0x%llx entry=%p,%p "
			"flags=0x%x state=0x%x\n", name, (const void *)va->vm,
			(unsigned long long)va->va.addr, (unsigned long long)va->va.range,
			(unsigned long long)va->gem.offset, (unsigned long long)va->gem.owner_,
			(void *)va->gem.entry.next, (void *)va->gem.entry.prev, va->flags,
			va->state_);
}

static void dump_bo_list(struct test_str *b, const char *what, const struct gpuvm_list *head,
			 size_t off)
{
	test_str_printf(b, "%s:", what);
	for (const struct gpuvm_list *e = head->next; e != head; e = e->next) {
		const struct gpuvm_bo *vm_bo =
			(const struct gpuvm_bo *)(const void *)((const char *)e - off);

		test_str_printf(b, " %p(ref=%u ev=%d)", (const void *)vm_bo, vm_bo->refcount,
				(int)vm_bo->evicted);
	}
	test_str_printf(b, "\n");
}

/* Everything a refused call must leave as it was. */
static char *mfx_dump(struct mfx *f)
{
	struct gpuvm_gem *gems[] = { &f->a.base, &f->b.base, &f->s.base, &f->e.base,
				     &f->x.base, &f->root, &f->oroot };
	const struct gpuva *loose[] = { &f->u1, &f->r1, &f->rl, &f->n1 };
	static const char *const loose_names[] = { "u1", "r1", "rl", "n1" };
	struct test_str b = { 0 };
	uint64_t sum = 0;

	for (struct gpuvm *vm = &f->A; vm <= &f->N; vm++) {
		char *s = test_dump_vm(vm, gems, sizeof(gems) / sizeof(gems[0]));

		test_str_printf(&b, "%s", s);
		free(s);
		dump_bo_list(&b, "extobj", &vm->extobj.list,
			     offsetof(struct gpuvm_bo, list.entry.extobj));
		dump_bo_list(&b, "evict", &vm->evict.list,
			     offsetof(struct gpuvm_bo, list.entry.evict));
		test_str_printf(&b, "deferred empty=%d\n", (int)gpuvm__defer_empty(vm));
	}
	for (size_t i = 0; i < sizeof(loose) / sizeof(loose[0]); i++)
		dump_va_struct(&b, loose_names[i], loose[i]);
	test_str_printf(&b, "resv held: vm=%d ext=%d other=%d\n", (int)gpuvm_resv_held(&f->vm_resv),
			(int)gpuvm_resv_held(&f->ext_resv), (int)gpuvm_resv_held(&f->other_resv));
	test_str_printf(&b, "gpuva locks held:");
	for (size_t i = 0; i < sizeof(gems) / sizeof(gems[0]); i++)
		test_str_printf(&b, " %d", (int)gpuvm_gem_gpuva_lock_held(gems[i]));
	test_str_printf(&b, "\nexec: objects=%u state=%u cap=%u contended=%p\n",
			f->exec.num_objects, f->exec.state_, f->exec.cap_,
			(void *)f->exec.contended_);
	for (size_t i = 0; i < sizeof(f->scratch); i++)
		sum = sum * 131 + f->scratch.bytes[i];
	test_str_printf(&b, "steps=%u signalling=%d scratch=%llx\n", f->steps,
			(int)gpuvm_in_signalling(), (unsigned long long)sum);
	return test_str_take(&b);
}

/* ---- the rows ---- */

struct row {
	const char *what;
	int (*call)(struct mfx *f);
	int want;              /* what the call returns where it returns */
	const char *abort_msg; /* debug builds abort with this in the message */
	bool debug_only;       /* release builds cannot detect it: not run there */
	void (*setup)(struct mfx *f);
	void (*undo)(struct mfx *f);
};

#define M(name) static int name(struct mfx *f)

static struct gpuvm_map_req req_of(uint64_t addr, uint64_t range, struct gpuvm_gem *obj,
					 uint64_t off)
{
	GPUVM_OPTS(gpuvm_map_req, r, .map = { .va = { addr, range }, .gem = { off, obj } });

	return r;
}

/* NULL where an object is required */
M(init_null_vm)
{
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG);

	(void)f;
	return gpuvm_init(NULL, &o);
}
M(init_null_opts) { return gpuvm_init(&f->scratch.vm, NULL); }
M(fini_null) { (void)f; return gpuvm_fini(NULL); }
M(gem_init_null)
{
	GPUVM_OPTS(gpuvm_gem_opts, o, .size = PG);

	(void)f;
	return gpuvm_gem_init(NULL, &o);
}
M(resv_init_null) { (void)f; return gpuvm_resv_init(NULL, NULL); }
M(insert_null_vm) { return gpuva_insert(NULL, &f->n1); }
M(insert_null_va) { return gpuva_insert(&f->A, NULL); }
M(remove_null) { (void)f; return gpuva_remove(NULL); }
M(link_null_va) { return gpuva_link(NULL, bo_of(&f->m1)); }
M(link_null_bo) { return gpuva_link(&f->m3, NULL); }
M(unlink_null) { (void)f; return gpuva_unlink(NULL); }
M(unlink_defer_null) { (void)f; return gpuva_unlink_defer(NULL); }
M(bo_create_null_out) { return gpuvm_bo_create(&f->A, &f->b.base, NULL); }
M(bo_create_null_vm)
{
	struct gpuvm_bo *out = NULL;
	int ret = gpuvm_bo_create(NULL, &f->b.base, &out);

	assert_null(out);
	return ret;
}
M(bo_obtain_null_obj)
{
	struct gpuvm_bo *out = NULL;
	int ret = gpuvm_bo_obtain(&f->A, NULL, &out);

	assert_null(out);
	return ret;
}
M(bo_obtain_locked_null_vm)
{
	struct gpuvm_bo *out = NULL;

	return gpuvm_bo_obtain_locked(NULL, &f->b.base, &out);
}
M(bo_prealloc_null)
{
	struct gpuvm_bo *out = NULL;

	(void)f;
	return gpuvm_bo_obtain_prealloc(NULL, &out);
}
M(bo_put_deferred_null) { (void)f; return gpuvm_bo_put_deferred(NULL); }
M(sm_map_null_req) { return gpuvm_sm_map(&f->A, NULL, NULL); }
M(sm_map_ops_null_out)
{
	const struct gpuvm_map_req r = req_of(0x900000, PG, NULL, 0);

	return gpuvm_sm_map_ops_create(&f->A, &r, NULL);
}
M(sm_unmap_ops_null_vm) { return gpuvm_sm_unmap_ops_create(NULL, 0x200000, PG, &f->ops); }
M(bo_unmap_ops_null) { return gpuvm_bo_unmap_ops_create(NULL, &f->ops); }
M(map_null_va)
{
	const struct gpuva_op_map op = { .va = { 0x900000, PG } };

	return gpuva_map(&f->A, NULL, &op);
}
M(remap_null_op) { return gpuva_remap(&f->tmp, NULL, NULL); }
M(unmap_null) { (void)f; return gpuva_unmap(NULL); }
M(reserve_null) { (void)f; return gpuvm_index_reserve(NULL, 1); }
M(stats_null) { return gpuvm_stats(&f->A, NULL); }
M(verify_null) { (void)f; return gpuvm_verify(NULL); }
M(validate_null) { (void)f; return gpuvm_validate(NULL, NULL); }
M(gpuva_lock_null) { (void)f; return gpuvm_gem_gpuva_lock(NULL); }
M(resv_lock_null) { (void)f; return gpuvm_resv_lock(NULL); }
M(exec_init_null_vm)
{
	GPUVM_OPTS(gpuvm_exec_opts, o, .vm = NULL);

	return gpuvm_exec_init(&f->scratch.exec, &o);
}
M(exec_lock_uninit) { return gpuvm_exec_lock(&f->zexec); }
M(exec_array_null) { return gpuvm_exec_lock_array(&f->exec, NULL, 2); }
M(exec_array_null_entry)
{
	struct gpuvm_gem *objs[] = { &f->e.base, NULL };

	return gpuvm_exec_lock_array(&f->exec, objs, 2);
}
M(extobj_add_null) { (void)f; return gpuvm_bo_extobj_add(NULL); }

/* ranges: zero, overflowing, outside the VM, over the reserved region */
static int insert_at(struct mfx *f, struct gpuvm *vm, uint64_t addr, uint64_t range)
{
	gpuva_init(&f->tmp, addr, range, NULL, 0);
	return gpuva_insert(vm, &f->tmp);
}
M(insert_zero) { return insert_at(f, &f->A, 0x900000, 0); }
M(insert_overflow) { return insert_at(f, &f->B, UINT64_MAX - PG + 1, 2 * PG); }
M(insert_sum_2_64) { return insert_at(f, &f->B, UINT64_MAX - PG + 1, PG); }
M(insert_below) { return insert_at(f, &f->A, SPACE_START - PG, PG); }
M(insert_straddle_start) { return insert_at(f, &f->A, SPACE_START - PG, 2 * PG); }
M(insert_past_end) { return insert_at(f, &f->A, SPACE_START + SPACE_RANGE - PG, 2 * PG); }
M(insert_reserved) { return insert_at(f, &f->A, RES_ADDR + PG, PG); }
M(insert_straddle_reserved) { return insert_at(f, &f->A, RES_ADDR - PG, 2 * PG); }
M(insert_cover_reserved) { return insert_at(f, &f->A, RES_ADDR - PG, RES_RANGE + 2 * PG); }
static int map_ops(struct mfx *f, struct gpuvm *vm, uint64_t addr, uint64_t range,
		   struct gpuvm_gem *obj, uint64_t off)
{
	const struct gpuvm_map_req r = req_of(addr, range, obj, off);

	f->ops = NULL;
	return gpuvm_sm_map_ops_create(vm, &r, &f->ops);
}
M(map_ops_zero) { return map_ops(f, &f->A, 0x900000, 0, NULL, 0); }
M(map_ops_overflow) { return map_ops(f, &f->B, UINT64_MAX - PG + 1, 2 * PG, NULL, 0); }
M(map_ops_outside) { return map_ops(f, &f->A, 0, PG, NULL, 0); }
M(map_ops_reserved) { return map_ops(f, &f->A, RES_ADDR, PG, &f->a.base, 0); }
M(map_ops_obj_too_small) { return map_ops(f, &f->A, 0x900000, 2 * PG, &f->s.base, 0); }
M(map_ops_offset_past_end) { return map_ops(f, &f->A, 0x900000, PG, &f->s.base, PG); }
M(map_ops_offset_wraps) { return map_ops(f, &f->A, 0x900000, PG, &f->a.base, UINT64_MAX); }
M(madvise_overflow)
{
	const struct gpuvm_map_req r = req_of(UINT64_MAX, 2, NULL, 0);

	return gpuvm_madvise_ops_create(&f->B, &r, &f->ops);
}
M(unmap_ops_zero) { return gpuvm_sm_unmap_ops_create(&f->A, 0x200000, 0, &f->ops); }
M(unmap_ops_reserved) { return gpuvm_sm_unmap_ops_create(&f->A, RES_ADDR - PG, 2 * PG, &f->ops); }
M(prefetch_outside)
{
	return gpuvm_prefetch_ops_create(&f->A, SPACE_START + SPACE_RANGE, PG, &f->ops);
}
M(sm_unmap_zero) { return gpuvm_sm_unmap(&f->A, NULL, 0x200000, 0); }
M(sm_map_reserved)
{
	const struct gpuvm_map_req r = req_of(RES_ADDR, PG, NULL, 0);

	return gpuvm_sm_map(&f->A, NULL, &r);
}
M(map_outside)
{
	const struct gpuva_op_map op = { .va = { SPACE_START + SPACE_RANGE, PG } };
	int ret = gpuva_map(&f->A, &f->tmp, &op);

	assert_false(va_inserted(&f->tmp));
	return ret;
}
M(exec_range_reserved) { return gpuvm_exec_lock_range(&f->exec, RES_ADDR, PG); }
M(exec_sm_map_zero)
{
	const struct gpuvm_map_req r = req_of(0x900000, 0, NULL, 0);

	return gpuvm_sm_map_exec_lock(&f->exec, &r);
}
M(init_range_overflow)
{
	GPUVM_OPTS(gpuvm_init_opts, o, .start = 1, .range = UINT64_MAX);

	return gpuvm_init(&f->scratch.vm, &o);
}
M(init_reserve_overflow)
{
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG, .reserve_addr = UINT64_MAX,
		   .reserve_range = 1);

	return gpuvm_init(&f->scratch.vm, &o);
}

/* double insert, removing what was never inserted, unlinking twice, links */
M(insert_twice) { return gpuva_insert(&f->A, &f->m2); }
M(insert_in_other_vm) { return gpuva_insert(&f->B, &f->m2); }
M(insert_overlap) { return insert_at(f, &f->A, 0x200000 + 8 * PG, 16 * PG); }
M(map_inserted)
{
	const struct gpuva_op_map op = { .va = { 0x900000, PG } };

	return gpuva_map(&f->A, &f->m2, &op);
}
M(map_linked_removed)
{
	const struct gpuva_op_map op = { .va = { 0x900000, PG } };

	return gpuva_map(&f->A, &f->rl, &op);
}
M(remove_never) { return gpuva_remove(&f->n1); }
M(remove_twice) { return gpuva_remove(&f->r1); }
M(unmap_never)
{
	const struct gpuva_op_unmap op = { .va = &f->n1 };

	return gpuva_unmap(&op);
}
M(unlink_unlinked) { return gpuva_unlink(&f->m3); }
M(unlink_twice) { return gpuva_unlink(&f->u1); }
M(link_twice) { return gpuva_link(&f->m1, bo_of(&f->m1)); }
M(link_other_vm) { return gpuva_link(&f->u1, bo_of(&f->mb)); }
M(link_other_obj) { return gpuva_link(&f->m3, bo_of(&f->m1)); }
M(link_sparse) { return gpuva_link(&f->m2, bo_of(&f->m1)); }
M(link_never_inserted) { return gpuva_link(&f->n1, bo_of(&f->m1)); }
M(link_removed) { return gpuva_link(&f->r1, bo_of(&f->m1)); }
/* remap ops against m1 = [0x200000, +16 pages) */
static int remap(struct mfx *f, struct gpuva *old, struct gpuva *prev, struct gpuva *next,
		 uint64_t paddr, uint64_t prange, uint64_t naddr, uint64_t nrange)
{
	struct gpuva_op_map pm = { .va = { paddr, prange }, .gem = { 0, gpuva_gem(old) } };
	struct gpuva_op_map nm = { .va = { naddr, nrange }, .gem = { 0, gpuva_gem(old) } };
	struct gpuva_op_unmap um = { .va = old };
	struct gpuva_op_remap op = { .prev = prange ? &pm : NULL, .next = nrange ? &nm : NULL,
				     .unmap = &um };

	(void)f;
	return gpuva_remap(prev, next, &op);
}
M(remap_old_not_inserted) { return remap(f, &f->n1, &f->tmp, NULL, 0x800000, PG / 2, 0, 0); }
M(remap_piece_outside) { return remap(f, &f->m1, &f->tmp, NULL, 0x200000 - PG, 2 * PG, 0, 0); }
M(remap_pieces_overlap)
{
	return remap(f, &f->m1, &f->tmp, &f->tmp2, 0x200000, 4 * PG, 0x200000 + 2 * PG, PG);
}
M(remap_same_piece)
{
	return remap(f, &f->m1, &f->tmp, &f->tmp, 0x200000, PG, 0x200000 + 8 * PG, PG);
}
M(remap_piece_inserted) { return remap(f, &f->m1, &f->m2, NULL, 0x200000, PG, 0, 0); }
M(remap_piece_linked) { return remap(f, &f->m1, &f->rl, NULL, 0x200000, PG, 0, 0); }
M(remap_piece_missing) { return remap(f, &f->m1, NULL, NULL, 0x200000, PG, 0, 0); }

/* deferred calls outside immediate mode, obtain in the wrong mode */
M(put_deferred_not_immediate) { return gpuvm_bo_put_deferred(bo_of(&f->m1)); }
M(unlink_defer_not_immediate) { return gpuva_unlink_defer(&f->m1); }
M(cleanup_not_immediate) { return gpuvm_bo_deferred_cleanup(&f->A); }
static void setup_prealloc_x(struct mfx *f)
{
	/* a vm_bo of A for x, an object whose reservation is B's */
	assert_ret(gpuvm_bo_create(&f->A, &f->x.base, &f->bo), 0);
}
static void undo_put_bo(struct mfx *f)
{
	assert_true(gpuvm_bo_put(f->bo));
	f->bo = NULL;
}
M(prealloc_not_immediate)
{
	struct gpuvm_bo *out = NULL;
	int ret = gpuvm_bo_obtain_prealloc(f->bo, &out);

	assert_null(out);
	return ret;
}
M(obtain_locked_immediate)
{
	struct gpuvm_bo *out = NULL;
	int ret = gpuvm_bo_obtain_locked(&f->I, &f->x.base, &out);

	assert_null(out);
	return ret;
}
M(prealloc_listed)
{
	struct gpuvm_bo *out = NULL;

	return gpuvm_bo_obtain_prealloc(bo_of(&f->mi), &out);
}
static void setup_prealloc_two_refs(struct mfx *f)
{
	assert_ret(gpuvm_bo_create(&f->I, &f->b.base, &f->bo), 0);
	gpuvm_bo_get(f->bo);
}
static void undo_put_bo_twice(struct mfx *f)
{
	assert_false(gpuvm_bo_put(f->bo));
	undo_put_bo(f);
}
M(prealloc_two_refs)
{
	struct gpuvm_bo *out = NULL;

	return gpuvm_bo_obtain_prealloc(f->bo, &out);
}
/* a zombie: released on the signalling path, waiting for the cleanup */
static void setup_zombie(struct mfx *f)
{
	assert_ret(gpuvm_bo_obtain(&f->I, &f->b.base, &f->bo), 0);
	assert_ret(gpuvm_bo_put_deferred(f->bo), 1);
}
static void undo_cleanup(struct mfx *f)
{
	assert_ret(gpuvm_bo_deferred_cleanup(&f->I), 1);
	f->bo = NULL;
}
M(put_deferred_zombie) { return gpuvm_bo_put_deferred(f->bo); }

/* sized options with an unknown non-zero tail, or too short */
struct big_init_opts {
	struct gpuvm_init_opts o;
	uint64_t newer;
};
M(init_opts_tail)
{
	struct big_init_opts b = { .o = { .sz = sizeof(b), .range = PG }, .newer = 1 };

	return gpuvm_init(&f->scratch.vm, &b.o);
}
M(init_opts_short)
{
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG);

	o.sz = offsetof(struct gpuvm_init_opts, r_obj);
	return gpuvm_init(&f->scratch.vm, &o);
}
M(init_unknown_flag)
{
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG, .flags = 1u << 7);

	return gpuvm_init(&f->scratch.vm, &o);
}
M(init_protected_no_resv)
{
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG, .flags = GPUVM_RESV_PROTECTED,
		   .r_obj = &f->a.base);

	return gpuvm_init(&f->scratch.vm, &o);
}
M(init_half_allocator)
{
	const struct gpuvm_allocator half = { .alloc = f->ta.hooks.alloc, .user_data = &f->ta };
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG, .alloc = &half);

	return gpuvm_init(&f->scratch.vm, &o);
}
struct big_ops {
	struct gpuvm_ops ops;
	void (*newer)(void);
};
static void newer_cb(void)
{
}
M(init_ops_tail)
{
	static const struct big_ops big = { .ops = { .sz = sizeof(big) }, .newer = newer_cb };
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG, .ops = &big.ops);

	return gpuvm_init(&f->scratch.vm, &o);
}
static struct gpuva_op *op_alloc_only(struct gpuvm *vm)
{
	(void)vm;
	return NULL;
}
M(init_ops_half_op_alloc)
{
	static const struct gpuvm_ops half = { .sz = sizeof(half), .op_alloc = op_alloc_only };
	GPUVM_OPTS(gpuvm_init_opts, o, .range = PG, .ops = &half);

	return gpuvm_init(&f->scratch.vm, &o);
}
struct big_gem_opts {
	struct gpuvm_gem_opts o;
	uint32_t newer;
};
M(gem_init_tail)
{
	struct big_gem_opts b = { .o = { .sz = sizeof(b), .size = PG }, .newer = 3 };

	return gpuvm_gem_init(&f->scratch.gem, &b.o);
}
static int lock_cb(struct gpuvm_gem *obj)
{
	(void)obj;
	return 0;
}
M(gem_init_half_lock)
{
	static const struct gpuvm_gem_funcs half = { .gpuva_lock = lock_cb };
	GPUVM_OPTS(gpuvm_gem_opts, o, .size = PG, .funcs = &half);

	return gpuvm_gem_init(&f->scratch.gem, &o);
}
struct big_resv_opts {
	struct gpuvm_resv_opts o;
	char newer[8];
};
M(resv_init_tail)
{
	struct big_resv_opts b = { .o = { .sz = sizeof(b) }, .newer = { 0, 0, 0, 9 } };

	return gpuvm_resv_init(&f->scratch.resv, &b.o);
}
static int resv_cb(struct gpuvm_resv *r)
{
	(void)r;
	return 0;
}
static void resv_unlock_cb(struct gpuvm_resv *r)
{
	(void)r;
}
M(resv_init_missing_trylock)
{
	static const struct gpuvm_resv_ops ops = { .sz = sizeof(ops), .lock = resv_cb,
						   .unlock = resv_unlock_cb };
	GPUVM_OPTS(gpuvm_resv_opts, o, .ops = &ops);

	return gpuvm_resv_init(&f->scratch.resv, &o);
}
struct big_exec_opts {
	struct gpuvm_exec_opts o;
	int newer;
};
M(exec_init_tail)
{
	struct big_exec_opts b = { .o = { .sz = sizeof(b), .vm = &f->P }, .newer = -1 };

	return gpuvm_exec_init(&f->scratch.exec, &b.o);
}
M(exec_init_unknown_flag)
{
	GPUVM_OPTS(gpuvm_exec_opts, o, .vm = &f->P, .flags = 1u << 9);

	return gpuvm_exec_init(&f->scratch.exec, &o);
}
struct big_map_req {
	struct gpuvm_map_req r;
	uint64_t newer;
};
M(map_req_tail)
{
	struct big_map_req b = { .r = { .sz = sizeof(b), .map = { .va = { 0x900000, PG } } },
				 .newer = 1 };

	return gpuvm_sm_map_ops_create(&f->A, &b.r, &f->ops);
}
M(map_req_short)
{
	struct gpuvm_map_req r = req_of(0x900000, PG, NULL, 0);

	r.sz = sizeof(size_t);
	return gpuvm_sm_map(&f->A, NULL, &r);
}
M(stats_short)
{
	struct gpuvm_stats st = { .sz = sizeof(st) - 1 };

	return gpuvm_stats(&f->A, &st);
}

/* callbacks missing from the ops table */
M(sm_map_no_ops)
{
	const struct gpuvm_map_req r = req_of(0x900000, PG, NULL, 0);

	return gpuvm_sm_map(&f->B, NULL, &r);
}
M(sm_map_no_map_step)
{
	const struct gpuvm_map_req r = req_of(0x900000, PG, NULL, 0);

	return gpuvm_sm_map(&f->N, NULL, &r);
}
M(sm_unmap_no_ops) { return gpuvm_sm_unmap(&f->B, NULL, 0x200000, PG); }
M(validate_no_callback) { return gpuvm_validate(&f->A, NULL); }

/* locks not held, or held already */
M(extobj_add_no_resv) { return gpuvm_bo_extobj_add(bo_of(&f->mp)); }
M(evict_no_resv) { return gpuvm_bo_evict(bo_of(&f->mp), true); }
M(gem_evict_no_resv) { return gpuvm_bo_gem_evict(&f->e.base, true); }
M(validate_no_resv) { return gpuvm_validate(&f->P, NULL); }
M(resv_unlock_not_held) { return gpuvm_resv_unlock(&f->ext_resv); }
static void setup_lock_ext(struct mfx *f)
{
	assert_ret(gpuvm_resv_lock(&f->ext_resv), 0);
}
static void undo_unlock_ext(struct mfx *f)
{
	assert_ret(gpuvm_resv_unlock(&f->ext_resv), 0);
}
M(resv_lock_twice) { return gpuvm_resv_lock(&f->ext_resv); }
M(resv_fini_held) { return gpuvm_resv_fini(&f->ext_resv); }
M(gpuva_unlock_not_held) { return gpuvm_gem_gpuva_unlock(&f->a.base); }
static void setup_gpuva_lock_a(struct mfx *f)
{
	assert_ret(gpuvm_gem_gpuva_lock(&f->a.base), 0);
}
static void undo_gpuva_unlock_a(struct mfx *f)
{
	assert_ret(gpuvm_gem_gpuva_unlock(&f->a.base), 0);
}
M(gpuva_lock_twice) { return gpuvm_gem_gpuva_lock(&f->a.base); }
M(unlink_defer_holding_lock) { return gpuva_unlink_defer(&f->mi); }
static void setup_gpuva_lock_s(struct mfx *f)
{
	assert_ret(gpuvm_gem_gpuva_lock(&f->s.base), 0);
}
static void undo_gpuva_unlock_s(struct mfx *f)
{
	assert_ret(gpuvm_gem_gpuva_unlock(&f->s.base), 0);
}
M(gem_fini_locked) { return gpuvm_gem_fini(&f->s.base); }
static void setup_lock_vm_resv(struct mfx *f)
{
	assert_ret(gpuvm_resv_lock(&f->vm_resv), 0);
}
static void undo_unlock_vm_resv(struct mfx *f)
{
	assert_ret(gpuvm_resv_unlock(&f->vm_resv), 0);
}
M(exec_lock_holding_resv) { return gpuvm_exec_lock(&f->exec); }
static void setup_exec_locked(struct mfx *f)
{
	assert_ret(gpuvm_exec_lock(&f->exec), 0);
}
static void undo_exec_unlock(struct mfx *f)
{
	gpuvm_exec_unlock(&f->exec);
}
M(exec_lock_locked) { return gpuvm_exec_lock_range(&f->exec, 0x200000, PG); }
M(exec_fini_locked) { return gpuvm_exec_fini(&f->exec); }
M(exec_lock_obj_outside) { return gpuvm_exec_lock_obj(&f->exec, &f->e.base); }
M(prepare_objects_outside) { return gpuvm_prepare_objects(&f->exec); }
M(vm_fini_busy) { return gpuvm_fini(&f->A); }
M(gem_fini_busy) { return gpuvm_gem_fini(&f->a.base); }

/* debug builds only: cannot be told from a correct call cheaply */
M(bo_get_zombie)
{
	gpuvm_bo_get(f->bo);
	return 0;
}
/* refused in every build: linking would revive a zombie */
M(link_zombie)
{
	int ret;

	insert_va(&f->I, &f->tmp, 0x900000, PG, &f->b.base, 0);
	ret = gpuva_link(&f->tmp, f->bo);
	assert_ret(gpuva_remove(&f->tmp), 0);
	return ret;
}
M(bo_find_unlocked)
{
	gpuvm_bo_find(&f->I, &f->a.base);
	return 0;
}
static void setup_released_vm(struct mfx *f)
{
	GPUVM_OPTS(gpuvm_init_opts, o, .name = "S", .range = PG);

	f->vm = &f->scratch.vm;
	assert_ret(gpuvm_init(f->vm, &o), 0);
	gpuvm_put(f->vm); /* the last reference: released (gpuvm_fini) */
}
M(vm_put_below_zero)
{
	gpuvm_put(f->vm);
	return 0;
}
M(vm_get_released)
{
	gpuvm_get(f->vm);
	return 0;
}
M(signalling_end_unbalanced)
{
	(void)f;
	gpuvm_signalling_end(false);
	return 0;
}
static void setup_ops_of_a(struct mfx *f)
{
	const struct gpuvm_map_req r = req_of(0x900000, PG, NULL, 0);

	assert_ret(gpuvm_sm_map_ops_create(&f->A, &r, &f->ops), 0);
}
static void undo_free_ops(struct mfx *f)
{
	gpuva_ops_free(NULL, f->ops);
	f->ops = NULL;
}
M(ops_free_other_vm)
{
	gpuva_ops_free(&f->B, f->ops);
	return 0;
}

/* detected since lib/bo.c and lib/va.c check them */
/* a put of a zombie (count 0, not freed yet): below zero */
M(bo_put_below_zero)
{
	gpuvm_bo_put(f->bo);
	return 0;
}
/* a gem whose last reference went (the test gem's memory stays) */
static struct test_gem released_gem;
static void setup_gem_released(struct mfx *f)
{
	(void)f;
	assert_ret(test_gem_init(&released_gem, "g", PG), 0);
	gpuvm_gem_put(&released_gem.base);
	assert_int_equal(released_gem.frees, 1);
}
M(gem_put_below_zero)
{
	(void)f;
	gpuvm_gem_put(&released_gem.base);
	return 0;
}
/* rl was removed from A but is still linked to A's vm_bo: not B's to hold */
M(insert_linked_elsewhere) { return gpuva_insert(&f->B, &f->rl); }


#define ROW(fn, err) { .what = #fn, .call = fn, .want = (err) }
#define ROW_SETUP(fn, err, su, un)                                             \
	{ .what = #fn, .call = fn, .want = (err), .setup = su, .undo = un }
#define ROW_ABORT(fn, err, msg) { .what = #fn, .call = fn, .want = (err), .abort_msg = msg }
#define ROW_ABORT_SETUP(fn, err, msg, su, un)                                  \
	{ .what = #fn, .call = fn, .want = (err), .abort_msg = msg, .setup = su, .undo = un }
#define ROW_DEBUG(fn, msg, su, un)                                             \
	{ .what = #fn, .call = fn, .abort_msg = msg, .debug_only = true, .setup = su, .undo = un }

static const struct row rows[] = {
	/* NULL where an object is required */
	ROW(init_null_vm, -EINVAL),
	ROW(init_null_opts, -EINVAL),
	ROW(fini_null, -EINVAL),
	ROW(gem_init_null, -EINVAL),
	ROW(resv_init_null, -EINVAL),
	ROW(insert_null_vm, -EINVAL),
	ROW(insert_null_va, -EINVAL),
	ROW(remove_null, -EINVAL),
	ROW(link_null_va, -EINVAL),
	ROW(link_null_bo, -EINVAL),
	ROW(unlink_null, -EINVAL),
	ROW(unlink_defer_null, -EINVAL),
	ROW(bo_create_null_out, -EINVAL),
	ROW(bo_create_null_vm, -EINVAL),
	ROW(bo_obtain_null_obj, -EINVAL),
	ROW(bo_obtain_locked_null_vm, -EINVAL),
	ROW(bo_prealloc_null, -EINVAL),
	ROW(bo_put_deferred_null, -EINVAL),
	ROW(sm_map_null_req, -EINVAL),
	ROW(sm_map_ops_null_out, -EINVAL),
	ROW(sm_unmap_ops_null_vm, -EINVAL),
	ROW(bo_unmap_ops_null, -EINVAL),
	ROW(map_null_va, -EINVAL),
	ROW(remap_null_op, -EINVAL),
	ROW(unmap_null, -EINVAL),
	ROW(reserve_null, -EINVAL),
	ROW(stats_null, -EINVAL),
	ROW(verify_null, -EINVAL),
	ROW(validate_null, -EINVAL),
	ROW(gpuva_lock_null, -EINVAL),
	ROW(resv_lock_null, -EINVAL),
	ROW(exec_init_null_vm, -EINVAL),
	ROW(exec_lock_uninit, -EINVAL),
	ROW(exec_array_null, -EINVAL),
	ROW(exec_array_null_entry, -EINVAL),
	ROW(extobj_add_null, -EINVAL),
	/* zero, overflowing, outside, reserved */
	ROW(insert_zero, -EINVAL),
	ROW(insert_overflow, -EINVAL),
	ROW(insert_sum_2_64, -EINVAL),
	ROW(insert_below, -EINVAL),
	ROW(insert_straddle_start, -EINVAL),
	ROW(insert_past_end, -EINVAL),
	ROW(insert_reserved, -EINVAL),
	ROW(insert_straddle_reserved, -EINVAL),
	ROW(insert_cover_reserved, -EINVAL),
	ROW(map_ops_zero, -EINVAL),
	ROW(map_ops_overflow, -EINVAL),
	ROW(map_ops_outside, -EINVAL),
	ROW(map_ops_reserved, -EINVAL),
	ROW(map_ops_obj_too_small, -EINVAL),
	ROW(map_ops_offset_past_end, -EINVAL),
	ROW(map_ops_offset_wraps, -EINVAL),
	ROW(madvise_overflow, -EINVAL),
	ROW(unmap_ops_zero, -EINVAL),
	ROW(unmap_ops_reserved, -EINVAL),
	ROW(prefetch_outside, -EINVAL),
	ROW(sm_unmap_zero, -EINVAL),
	ROW(sm_map_reserved, -EINVAL),
	ROW(map_outside, -EINVAL),
	ROW(exec_range_reserved, -EINVAL),
	ROW(exec_sm_map_zero, -EINVAL),
	ROW(init_range_overflow, -EINVAL),
	ROW(init_reserve_overflow, -EINVAL),
	/* double insert, never inserted, unlinking twice, links */
	ROW(insert_twice, -EBUSY),
	ROW(insert_in_other_vm, -EBUSY),
	ROW(insert_overlap, -EEXIST),
	ROW(map_inserted, -EBUSY),
	ROW(map_linked_removed, -EBUSY),
	ROW(remove_never, -ENOENT),
	ROW(remove_twice, -ENOENT),
	ROW(unmap_never, -ENOENT),
	ROW(unlink_unlinked, -ENOENT),
	ROW(unlink_twice, -ENOENT),
	ROW(link_twice, -EBUSY),
	ROW(link_other_vm, -EINVAL),
	ROW(link_other_obj, -EINVAL),
	ROW(link_sparse, -EINVAL),
	ROW(link_never_inserted, -EINVAL),
	ROW(link_removed, -EINVAL),
	ROW(remap_old_not_inserted, -EINVAL),
	ROW(remap_piece_outside, -EINVAL),
	ROW(remap_pieces_overlap, -EINVAL),
	ROW(remap_same_piece, -EINVAL),
	ROW(remap_piece_inserted, -EINVAL),
	ROW(remap_piece_linked, -EINVAL),
	ROW(remap_piece_missing, -EINVAL),
	/* the other mode */
	ROW_ABORT(put_deferred_not_immediate, -EOPNOTSUPP,
		  "gpuvm_bo_put_deferred() refused: VM 'A' is not in immediate mode"),
	ROW_ABORT(unlink_defer_not_immediate, -EOPNOTSUPP,
		  "gpuva_unlink_defer() refused: VM 'A' is not in immediate mode"),
	ROW_ABORT(cleanup_not_immediate, -EOPNOTSUPP,
		  "gpuvm_bo_deferred_cleanup() refused: VM 'A' is not in immediate mode"),
	ROW_ABORT_SETUP(prealloc_not_immediate, -EOPNOTSUPP,
			"gpuvm_bo_obtain_prealloc() refused: VM 'A' is not in immediate mode",
			setup_prealloc_x, undo_put_bo),
	ROW_ABORT(obtain_locked_immediate, -EOPNOTSUPP,
		  "gpuvm_bo_obtain_locked() refused: VM 'I' is in immediate mode"),
	ROW(prealloc_listed, -EINVAL),
	ROW_SETUP(prealloc_two_refs, -EINVAL, setup_prealloc_two_refs, undo_put_bo_twice),
	ROW_SETUP(put_deferred_zombie, -EINVAL, setup_zombie, undo_cleanup),
	/* sized options */
	ROW(init_opts_tail, -EINVAL),
	ROW(init_opts_short, -EINVAL),
	ROW(init_unknown_flag, -EINVAL),
	ROW(init_protected_no_resv, -EINVAL),
	ROW(init_half_allocator, -EINVAL),
	ROW(init_ops_tail, -EINVAL),
	ROW(init_ops_half_op_alloc, -EINVAL),
	ROW(gem_init_tail, -EINVAL),
	ROW(gem_init_half_lock, -EINVAL),
	ROW(resv_init_tail, -EINVAL),
	ROW(resv_init_missing_trylock, -EINVAL),
	ROW(exec_init_tail, -EINVAL),
	ROW(exec_init_unknown_flag, -EINVAL),
	ROW(map_req_tail, -EINVAL),
	ROW(map_req_short, -EINVAL),
	ROW(stats_short, -EINVAL),
	/* callbacks missing */
	ROW(sm_map_no_ops, -EINVAL),
	ROW(sm_map_no_map_step, -EINVAL),
	ROW(sm_unmap_no_ops, -EINVAL),
	ROW(validate_no_callback, -EOPNOTSUPP),
	/* locks */
	ROW(extobj_add_no_resv, -EPERM),
	ROW(evict_no_resv, -EPERM),
	ROW(gem_evict_no_resv, -EPERM),
	ROW(validate_no_resv, -EPERM),
	ROW(resv_unlock_not_held, -EPERM),
	ROW_SETUP(resv_lock_twice, -EDEADLK, setup_lock_ext, undo_unlock_ext),
	ROW_SETUP(resv_fini_held, -EBUSY, setup_lock_ext, undo_unlock_ext),
	ROW(gpuva_unlock_not_held, -EPERM),
	ROW_SETUP(gpuva_lock_twice, -EDEADLK, setup_gpuva_lock_a, undo_gpuva_unlock_a),
	ROW_SETUP(unlink_defer_holding_lock, -EDEADLK, setup_gpuva_lock_a, undo_gpuva_unlock_a),
	ROW_SETUP(gem_fini_locked, -EBUSY, setup_gpuva_lock_s, undo_gpuva_unlock_s),
	ROW_SETUP(exec_lock_holding_resv, -EALREADY, setup_lock_vm_resv, undo_unlock_vm_resv),
	ROW_SETUP(exec_lock_locked, -EBUSY, setup_exec_locked, undo_exec_unlock),
	ROW_SETUP(exec_fini_locked, -EBUSY, setup_exec_locked, undo_exec_unlock),
	ROW(exec_lock_obj_outside, -EINVAL),
	ROW(prepare_objects_outside, -EINVAL),
	ROW(vm_fini_busy, -EBUSY),
	ROW(gem_fini_busy, -EBUSY),
	/* debug builds only, with a message naming the object */
	ROW_DEBUG(bo_get_zombie, "gpuvm_bo_get() on vm_bo", setup_zombie, undo_cleanup),
	ROW_DEBUG(bo_find_unlocked, "gpuvm_bo_find() called without the gem's gpuva lock", NULL,
		  NULL),
	ROW_DEBUG(vm_put_below_zero, "gpuvm_put() on VM 'S'", setup_released_vm, NULL),
	ROW_DEBUG(vm_get_released, "gpuvm_get() on VM 'S'", setup_released_vm, NULL),
	ROW_DEBUG(signalling_end_unbalanced, "gpuvm_signalling_end() without", NULL, NULL),
	ROW_DEBUG(ops_free_other_vm, "gpuva_ops_free() of an op list of VM 'A'", setup_ops_of_a,
		  undo_free_ops),
	/* a put below zero: debug builds name the object; a linked mapping
	 * cannot move to another VM */
	ROW_DEBUG(bo_put_below_zero, "gpuvm_bo_put() on vm_bo", setup_zombie, undo_cleanup),
	ROW_DEBUG(gem_put_below_zero, "gpuvm_gem_put() on gem", setup_gem_released, NULL),
	ROW(insert_linked_elsewhere, -EINVAL),
	ROW_SETUP(link_zombie, -EINVAL, setup_zombie, undo_cleanup),

};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* ---- running the rows ---- */

struct child_arg {
	const struct row *r;
	struct mfx *f;
};

static void child_call(void *arg)
{
	struct child_arg *c = arg;

	(void)c->r->call(c->f);
	/* returning is the failure the parent reports */
}

static unsigned int tried_inline, tried_abort, skipped_release;

static void run_row(const struct row *r)
{
	struct mfx *f = mfx_new();
	size_t live, bytes;
	char *before, *after;
	int ret;

	if (r->setup)
		r->setup(f);
	before = mfx_dump(f);
	live = f->ta.live;
	bytes = f->ta.live_bytes;

	if (debug_build && r->abort_msg) {
		struct child_arg c = { .r = r, .f = f };
		char msg[4096];
		int status = test_run_child(child_call, &c, msg, sizeof(msg));

		if (status == -1)
			fail_msg("%s: cannot fork", r->what);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
			fail_msg("%s: the child did not abort (status 0x%x), stderr: %s", r->what,
				 status, msg);
		if (!strstr(msg, r->abort_msg))
			fail_msg("%s: the abort message does not say \"%s\": %s", r->what,
				 r->abort_msg, msg);
		tried_abort++;
	} else if (r->debug_only) {
		/* release builds cannot detect it cheaply: nothing to call */
		skipped_release++;
		goto out;
	} else {
		ret = r->call(f);
		if (ret != r->want)
			fail_msg("%s: returned %d (%s), want %d (%s)", r->what, ret,
				 gpuvm_err_name(ret), r->want, gpuvm_err_name(r->want));
		tried_inline++;
	}
	/* in the parent nothing changed, whether the call ran here or in the child */
	after = mfx_dump(f);
	if (strcmp(before, after)) {
		test_dump_diff(before, after);
		fail_msg("%s: the refused call changed the state", r->what);
	}
	free(after);
	if (f->ta.live != live || f->ta.live_bytes != bytes)
		fail_msg("%s: %zu blocks (%zu bytes) live, want %zu (%zu)", r->what, f->ta.live,
			 f->ta.live_bytes, live, bytes);
	assert_int_equal(f->ta.errors, 0);
	for (struct gpuvm *vm = &f->A; vm <= &f->N; vm++)
		assert_ret(gpuvm_verify(vm), 0);
out:
	free(before);
	if (r->undo)
		r->undo(f);
	mfx_free(f);
}

static void misuse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		run_row(&rows[i]);
	print_message("misuse table: %zu rows; tried in this build: %u (%u returned their errno "
		      "with nothing changed, %u aborted in a child with their message); %u "
		      "left to debug builds\n", NROWS, tried_inline + tried_abort, tried_inline,
		      tried_abort, skipped_release);
	assert_true(tried_inline + tried_abort >= 40);
	assert_int_equal(tried_inline + tried_abort + skipped_release, NROWS);
}

/*
 * gpuva_ops_free() with another VM than the list's: release builds free the
 * list with its own VM (its allocator, its reservation); debug builds abort
 * (a row of the table).
 */
static void ops_free_other_vm_release(void **state)
{
	struct mfx *f;
	char *before;

	(void)state;
	if (debug_build)
		return;
	f = mfx_new();
	before = test_dump_vm(&f->B, NULL, 0);
	setup_ops_of_a(f);
	assert_int_equal(f->A.index.reserved, 1);
	gpuva_ops_free(&f->B, f->ops);
	f->ops = NULL;
	assert_int_equal(f->A.index.reserved, 0);
	assert_int_equal(f->ta.errors, 0);
	{
		char *after = test_dump_vm(&f->B, NULL, 0);

		assert_dump_equal(before, after);
		free(after);
	}
	free(before);
	gpuvm_index_trim(&f->A);
	mfx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(misuse_table),
		cmocka_unit_test(ops_free_other_vm_release),
	};

	return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
