/* SPDX-License-Identifier: MIT */
/*
 * shadow_vm: how a user-mode driver keeps a shadow of its GPU VA state.
 *
 * A Mesa-style driver that submits VM_BIND requests wants to know, before
 * it talks to the kernel, which mappings a bind creates, splits and removes:
 * to build page-table updates, to track residency, to answer "what is at
 * this address" when a fault is reported. libgpuvm computes that with the
 * kernel's split/merge rules; the driver owns every object and decides when
 * memory is allocated and freed.
 *
 * Each bind runs in the three phases of a kernel VM_BIND ioctl:
 *   1. prepare: build the op list and allocate everything applying it takes;
 *      this may fail, and then nothing has changed;
 *   2. commit: apply the ops to the tree and link the new mappings; this is
 *      the fence-signalling critical section, where nothing may allocate,
 *      free or fail (the op list has reserved the index nodes it needs);
 *   3. cleanup: unlink and free the mappings the ops removed (unlinking may
 *      drop the last reference on a vm_bo, which frees).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpuvm.h>

#define MiB (1ull << 20)

/* Driver objects alive (BOs, mappings, ops): back to zero at the end. */
static unsigned int live;
static bool vm_released;

/* ---- driver objects, each embedding its libgpuvm base ---- */

struct shadow_vm {
	struct gpuvm base;
	unsigned int binds; /* committed binds, a stand-in for a timeline */
};

struct shadow_bo {
	struct gpuvm_gem base;
	const char *name;
};

/* A real driver keeps its per-mapping state here: PTE flags, PT handles. */
struct shadow_mapping {
	struct gpuva base;
};

/*
 * The driver's op carries the mappings its commit will insert, allocated in
 * the prepare phase. Ownership moves to the tree when the op is applied (the
 * pointer is cleared); whatever is still here when the list is freed was
 * never used and is freed with the op, which makes error unwinding trivial.
 */
struct shadow_op {
	struct gpuva_op base;
	struct shadow_mapping *map, *prev, *next;
};

GPUVM_CONTAINER(struct gpuvm, struct shadow_vm, base, to_shadow_vm)
GPUVM_CONTAINER(struct gpuvm_gem, struct shadow_bo, base, to_shadow_bo)
GPUVM_CONTAINER(struct gpuva, struct shadow_mapping, base, to_shadow_mapping)
GPUVM_CONTAINER(struct gpuva_op, struct shadow_op, base, to_shadow_op)

static void shadow_vm_free(struct gpuvm *vm)
{
	/* Refuses (-EBUSY) while mappings are inserted: leak rather than free. */
	if (gpuvm_fini(vm) == 0) {
		vm_released = true;
		free(to_shadow_vm(vm));
	}
}

/* Every driver allocation goes through here, to count them. */
static void *shadow_zalloc(size_t size)
{
	void *p = calloc(1, size);

	live += p != NULL;
	return p;
}

static void shadow_free(void *p)
{
	live -= p != NULL;
	free(p);
}

static struct gpuva_op *shadow_op_alloc(struct gpuvm *vm)
{
	struct shadow_op *op = shadow_zalloc(sizeof(*op)); /* must be zeroed */

	(void)vm;
	return op ? &op->base : NULL;
}

static void shadow_op_free(struct gpuvm *vm, struct gpuva_op *base)
{
	struct shadow_op *op = to_shadow_op(base);

	(void)vm;
	shadow_free(op->map);
	shadow_free(op->prev);
	shadow_free(op->next);
	shadow_free(op);
}

static const struct gpuvm_ops shadow_vm_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_free = shadow_vm_free,
	.op_alloc = shadow_op_alloc,
	.op_free = shadow_op_free,
};

static void shadow_bo_free(struct gpuvm_gem *obj)
{
	gpuvm_gem_fini(obj); /* cannot be busy: every vm_bo holds a reference */
	shadow_free(to_shadow_bo(obj));
}

static const struct gpuvm_gem_funcs shadow_bo_funcs = { .free = shadow_bo_free };

static struct shadow_bo *shadow_bo_create(const char *name, uint64_t size)
{
	struct shadow_bo *bo = shadow_zalloc(sizeof(*bo));
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = size, .funcs = &shadow_bo_funcs);

	if (!bo || gpuvm_gem_init(&bo->base, &opts)) { /* one reference, ours */
		shadow_free(bo);
		return NULL;
	}
	bo->name = name;
	return bo;
}

static struct shadow_mapping *shadow_mapping_alloc(void)
{
	return shadow_zalloc(sizeof(struct shadow_mapping));
}

/* ---- printing ---- */

static const char *bo_name(const struct gpuvm_gem *obj)
{
	return obj ? to_shadow_bo(obj)->name : "sparse";
}

/* One line per range; @keep < 0: the op has no keep flag. */
static void print_range(const char *what, uint64_t addr, uint64_t range,
			const struct gpuvm_gem *obj, uint64_t offset, int keep)
{
	printf("  %-5s [0x%08" PRIx64 ", 0x%08" PRIx64 ") %-6s off 0x%06" PRIx64, what, addr,
	       addr + range, bo_name(obj), offset);
	if (keep >= 0)
		printf(" keep=%d", keep);
	printf("\n");
}

#define print_map(what, m) \
	print_range(what, (m)->va.addr, (m)->va.range, (m)->gem.obj, (m)->gem.offset, -1)
#define print_va(what, v, keep) \
	print_range(what, (v)->va.addr, (v)->va.range, gpuva_gem(v), (v)->gem.offset, keep)

static void print_op(const struct gpuva_op *op)
{
	if (op->op == GPUVA_OP_MAP) {
		print_map("map", &op->map);
	} else if (op->op == GPUVA_OP_REMAP) {
		/*
		 * keep: the request maps the same object at the same offsets
		 * where it overlaps the old mapping, so the page tables of the
		 * surviving pieces need not be rewritten.
		 */
		print_va("remap", op->remap.unmap->va, op->remap.unmap->keep);
		if (op->remap.prev)
			print_map(" prev", op->remap.prev);
		if (op->remap.next)
			print_map(" next", op->remap.next);
	} else if (op->op == GPUVA_OP_UNMAP) {
		print_va("unmap", op->unmap.va, op->unmap.keep);
	}
}

/* ---- the three phases of a bind ---- */

/* Phase 1: allocate every mapping the commit will insert. */
static int bind_prepare(struct gpuva_ops *ops)
{
	struct gpuva_op *op;

	gpuva_for_each_op(op, ops) {
		struct shadow_op *sop = to_shadow_op(op);

		print_op(op);
		if (op->op == GPUVA_OP_MAP && !(sop->map = shadow_mapping_alloc()))
			return -ENOMEM;
		if (op->op == GPUVA_OP_REMAP &&
		    ((op->remap.prev && !(sop->prev = shadow_mapping_alloc())) ||
		     (op->remap.next && !(sop->next = shadow_mapping_alloc()))))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Phase 2, the critical section: no allocation, no free. A failure here is a
 * driver bug (everything was validated and reserved), not a runtime error.
 * @vm_bo is the vm_bo of the object a map op maps (NULL for sparse binds);
 * remap pieces are linked to the vm_bo of the mapping they come from.
 */
static int bind_commit(struct gpuvm *vm, struct gpuva_ops *ops, struct gpuvm_bo *vm_bo)
{
	struct gpuva_op *op;
	int ret = 0;

	gpuva_for_each_op(op, ops) {
		struct shadow_op *sop = to_shadow_op(op);
		struct gpuvm_bo *old_bo;

		if (op->op == GPUVA_OP_MAP) {
			ret = gpuva_map(vm, &sop->map->base, &op->map);
			if (!ret && vm_bo) /* takes a vm_bo reference */
				ret = gpuva_link(&sop->map->base, vm_bo);
			sop->map = NULL; /* the tree's now */
		} else if (op->op == GPUVA_OP_REMAP) {
			/*
			 * Removes the old mapping but leaves it linked, so it
			 * keeps its vm_bo alive until the pieces hold it too.
			 */
			old_bo = gpuva_vm_bo(op->remap.unmap->va);
			ret = gpuva_remap(sop->prev ? &sop->prev->base : NULL,
					  sop->next ? &sop->next->base : NULL, &op->remap);
			if (!ret && old_bo && sop->prev)
				ret = gpuva_link(&sop->prev->base, old_bo);
			if (!ret && old_bo && sop->next)
				ret = gpuva_link(&sop->next->base, old_bo);
			sop->prev = sop->next = NULL;
		} else if (op->op == GPUVA_OP_UNMAP) {
			ret = gpuva_unmap(&op->unmap);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Phase 3: after the fence, drop the removed mappings. */
static void bind_cleanup(struct gpuva_ops *ops)
{
	struct gpuva_op *op;

	gpuva_for_each_op(op, ops) {
		struct gpuva *old = op->op == GPUVA_OP_REMAP ? op->remap.unmap->va :
				    op->op == GPUVA_OP_UNMAP ? op->unmap.va : NULL;

		if (old && gpuva_vm_bo(old))
			gpuva_unlink(old); /* drops its reference: may free the vm_bo */
		shadow_free(to_shadow_mapping(old));
	}
}

static int run_ops(struct gpuvm *vm, struct gpuva_ops *ops, struct gpuvm_bo *vm_bo)
{
	int ret = bind_prepare(ops);

	if (!ret)
		ret = bind_commit(vm, ops, vm_bo);
	if (!ret) {
		to_shadow_vm(vm)->binds++;
		bind_cleanup(ops);
	}
	gpuva_ops_free(vm, ops); /* frees unused mappings, gives back the reserve */
	return ret;
}

/* A map request; @bo NULL binds a sparse (unbacked) range. */
static int bind_map(struct gpuvm *vm, struct shadow_bo *bo, uint64_t addr, uint64_t range,
		    uint64_t offset)
{
	struct gpuvm_gem *obj = bo ? &bo->base : NULL;
	GPUVM_OPTS(gpuvm_map_req, req, .map = { .va = { addr, range }, .gem = { offset, obj } });
	struct gpuvm_bo *vm_bo = NULL;
	struct gpuva_ops *ops;
	int ret;

	printf("bind %s [0x%08" PRIx64 ", 0x%08" PRIx64 ") off 0x%06" PRIx64 "\n", bo_name(obj),
	       addr, addr + range, offset);
	/* Our own reference for the bind; the new mappings take theirs. */
	if (obj && (ret = gpuvm_bo_obtain(vm, obj, &vm_bo)))
		return ret;
	ret = gpuvm_sm_map_ops_create(vm, &req, &ops);
	if (!ret)
		ret = run_ops(vm, ops, vm_bo);
	gpuvm_bo_put(vm_bo);
	return ret;
}

/* ---- the session ---- */

static const struct {
	uint64_t addr, range, offset;
	const char *bo;
} expected[] = {
	{ 0x1000000, 0x100000, 0x000000, "A" },
	/* contiguous in VA and offset, yet not merged: GPUVM never merges */
	{ 0x1300000, 0x200000, 0x300000, "A" },
	{ 0x1500000, 0x300000, 0x500000, "A" },
	/* sparse pieces carry the offset arithmetic too, as in the kernel */
	{ 0x2000000, 0x400000, 0x000000, "sparse" },
	{ 0x2800000, 0x800000, 0x800000, "sparse" },
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static int failed(int line, const char *what)
{
	fprintf(stderr, "shadow_vm: line %d: check failed: %s\n", line, what);
	return 1;
}

/* main() returns 1 on the first failed check. */
#define CHECK(cond) do { if (!(cond)) return failed(__LINE__, #cond); } while (0)

int main(void)
{
	struct shadow_vm *svm = calloc(1, sizeof(*svm));
	struct shadow_bo *a = shadow_bo_create("A", 16 * MiB);
	struct shadow_bo *b = shadow_bo_create("B", 8 * MiB);
	struct gpuvm_bo *a_vm_bo, *b_vm_bo;
	struct gpuva *va, *next;
	struct gpuva_ops *ops;
	struct gpuvm *vm;
	size_t i;
	int ret;

	CHECK(svm && a && b);
	/*
	 * 4 GiB of VA; the first MiB is reserved (say, for the kernel driver's
	 * own buffers) and nothing can ever be bound over it.
	 */
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "shadow", .start = 0, .range = 1ull << 32,
		   .reserve_addr = 0, .reserve_range = 1 * MiB, .ops = &shadow_vm_ops);
	CHECK(gpuvm_init(&svm->base, &opts) == 0);
	vm = &svm->base;

	/*
	 * The driver's BO list for this VM: one vm_bo per BO, held for as long
	 * as the BO is attached to the VM, whether or not anything is mapped.
	 */
	CHECK(gpuvm_bo_obtain(vm, &a->base, &a_vm_bo) == 0);
	CHECK(gpuvm_bo_obtain(vm, &b->base, &b_vm_bo) == 0);

	CHECK(bind_map(vm, a, 0x1000000, 8 * MiB, 0) == 0);
	CHECK(bind_map(vm, b, 0x1200000, 2 * MiB, 0) == 0);        /* splits A */
	CHECK(bind_map(vm, a, 0x1300000, 2 * MiB, 0x300000) == 0); /* cuts B and A */
	CHECK(bind_map(vm, NULL, 0x2000000, 16 * MiB, 0) == 0);    /* sparse */
	CHECK(bind_map(vm, b, 0x2400000, 4 * MiB, 0) == 0);        /* backs part of it */

	printf("unbind [0x01100000, 0x01280000)\n"); /* cuts A and B */
	CHECK(gpuvm_sm_unmap_ops_create(vm, 0x1100000, 0x180000, &ops) == 0);
	CHECK(run_ops(vm, ops, NULL) == 0);

	/* Unmap all of B, as before destroying or evicting it: in link order. */
	printf("unbind all of B\n");
	CHECK(gpuvm_bo_unmap_ops_create(b_vm_bo, &ops) == 0);
	CHECK(run_ops(vm, ops, NULL) == 0);
	/* Our reference kept B's vm_bo, now without mappings. */
	CHECK(gpuvm_list_empty(&b_vm_bo->list.gpuva));

	/*
	 * The error path: binds that cross the end of the VA space or touch the
	 * reserved region are refused before any op exists; nothing changes.
	 */
	for (i = 0; i < 2; i++) {
		ret = bind_map(vm, a, i ? 0x80000 : 0xfff00000, 2 * MiB, 0);
		printf("  -> %d %s (%s)\n", ret, gpuvm_err_name(ret), gpuvm_strerror(ret));
		CHECK(ret == -EINVAL);
	}

	printf("final state after %u binds:\n", svm->binds);
	i = 0;
	gpuvm_for_each_va(va, vm) {
		print_va("va", va, -1);
		CHECK(i < N_EXPECTED);
		CHECK(va->va.addr == expected[i].addr && va->va.range == expected[i].range);
		CHECK(va->gem.offset == expected[i].offset);
		CHECK(!strcmp(bo_name(gpuva_gem(va)), expected[i].bo));
		/* a mapping with an object is linked to that object's vm_bo */
		CHECK(gpuva_vm_bo(va) == (gpuva_gem(va) ? a_vm_bo : NULL));
		i++;
	}
	CHECK(i == N_EXPECTED);
	CHECK(gpuvm_verify(vm) == 0);

	/* Teardown: every mapping out of the tree and off its vm_bo. */
	gpuvm_for_each_va_safe(va, next, vm) {
		CHECK(gpuva_remove(va) == 0);
		if (gpuva_vm_bo(va))
			CHECK(gpuva_unlink(va) == 0);
		shadow_free(to_shadow_mapping(va));
	}
	/* Ours were the last references: both vm_bos go now. */
	CHECK(gpuvm_bo_put(a_vm_bo));
	CHECK(gpuvm_bo_put(b_vm_bo));
	gpuvm_gem_put(&a->base);
	gpuvm_gem_put(&b->base);
	CHECK(live == 0);
	gpuvm_put(vm); /* the last reference: shadow_vm_free() */
	CHECK(vm_released);

	printf("shadow_vm: ok\n");
	return 0;
}
