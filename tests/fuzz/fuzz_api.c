// SPDX-License-Identifier: MIT
/*
 * fuzz_api: the public API driven straight from the fuzz input, against a
 * shadow of what every object must look like.
 *
 * The world: FZ_NVM VM slots, FZ_NGEM buffer objects (test gems g0..g5 of
 * fixed sizes 1M, 64K, 16K, 0, 2^64-1, 4K), FZ_NRESV reservations (two
 * shared ones, A and B, and one of its own per gem). The shadow keeps, per
 * VM slot, its mappings (FZ_MAXVA mapping slots: range, object, offset,
 * inserted, linked), its vm_bos (the one on each gem's list, with the
 * references this harness holds and the mappings linked in link order, the
 * extobj/evict flags; a preallocated one per gem; the count of zombies
 * queued), and which locks this thread holds.
 *
 * Input: two header bytes give each gem its reservation (2 bits per gem,
 * gem 0 in the low bits: 0 none, 1 A, 2 B, 3 its own). Then ops: an opcode
 * byte (modulo FZ_OP_COUNT) and its argument bytes (fuzz_api.h lists the
 * counts; bytes past the end read as 0). Arguments: a slot byte is taken
 * modulo FZ_NVM, a gem modulo FZ_NGEM (or modulo FZ_NGEM + 1 where "no
 * object" is allowed, 6 meaning none), a mapping slot modulo FZ_MAXVA. Addresses, ranges and offsets count in the
 * VM's unit from just below its start (addr = start + (a - 2) * unit,
 * range = r * unit, offset = o * unit), with four special bytes each (0xfc
 * to 0xff): addresses 2^64-1, 0, the VM's end, start-1; ranges 2^64-1, up
 * to exactly 2^64-1, up to exactly 2^64 (one too far), the VM's size;
 * offsets 2^64-1, the object's size minus the range, one unit beyond that,
 * the object's size.
 *
 *   VM_NEW s cfg geo bad  gpuvm_init of an empty slot: cfg bits immediate,
 *                         RESV_PROTECTED, custom vm_bo/op allocators,
 *                         vm_free callback, r_obj (gem 0-5 or none),
 *                         validate callback; geo one of five VA spaces;
 *                         bad % 16 >= 9 makes the options invalid (unknown
 *                         flag, short sz, non-zero tail, overflowing sums,
 *                         half an allocator, half an ops pair): -EINVAL and
 *                         the struct untouched
 *   VM_PUT s mode         gpuvm_fini first when it must say -EBUSY (mode
 *                         bit 0), then the harness's gpuvm_put()
 *   INSERT s m a r g o    gpuva_init + gpuva_insert, or insert mapping m
 *                         again: -EBUSY / -EINVAL / -EEXIST / -ENOMEM / 0
 *   REMOVE s m            gpuva_remove: 0 or -ENOENT
 *   LINK s m which        gpuva_link to the right vm_bo, or (which) one of
 *                         another object or another VM: -EINVAL / -EBUSY
 *   UNLINK s m mode       gpuva_unlink, or gpuva_unlink_defer (mode 1)
 *   OBTAIN s g mode       gpuvm_bo_obtain / _obtain_locked / create +
 *                         _obtain_prealloc / find / create only / get
 *   BO_PUT s g mode       gpuvm_bo_put or _put_deferred (mode 1) of the
 *                         listed vm_bo, or of the preallocated one (mode 2)
 *   MAP s a r g o mode    a map request: list mode (gpuvm_sm_map_ops_create,
 *                         or madvise with mode bit 1) or callback mode
 *                         (bit 0, gpuvm_sm_map) whose callback fails at op
 *                         (mode >> 2 & 3) when not 0; ops checked against
 *                         the reference model, applied with link/unlink
 *   UNMAP s a r mode      the same for unmap requests
 *   PREFETCH s a r        gpuvm_prefetch_ops_create against the model
 *   BO_UNMAP s g          gpuvm_bo_unmap_ops_create, in link order, applied
 *   CLEANUP s             gpuvm_bo_deferred_cleanup: the zombies queued
 *   EXTOBJ s g            gpuvm_bo_extobj_add: 0 or -EPERM
 *   EVICT s g e           gpuvm_bo_evict: 0 or -EPERM
 *   GEM_EVICT g e         gpuvm_bo_gem_evict over every VM: 0 or -EPERM
 *   VALIDATE s mode       gpuvm_validate whose callback un-evicts (bit 0)
 *                         and fails at call (mode >> 4) when not 0
 *   RESV r action         gpuvm_resv_lock / trylock / unlock: -EDEADLK,
 *                         -EPERM for the misuse
 *   GPUVA_LOCK g action   gpuvm_gem_gpuva_lock / unlock
 *   EXEC s kind a r g o x gpuvm_exec_lock / _lock_array / _lock_range /
 *                         gpuvm_sm_map_exec_lock, with an extra callback
 *                         locking gem x (bit 3 of kind) and TRYLOCK (bit 2);
 *                         the locked set checked against the expected one
 *   EXEC_END s mode       gpuvm_exec_fini while locked (-EBUSY, bit 0),
 *                         gpuvm_exec_unlock, gpuvm_exec_fini
 *   FAIL s n              the (n % 8 + 1)-th allocation of slot s's VM
 *                         from now fails: the call that meets it returns
 *                         -ENOMEM and changes nothing (dumps compared)
 *   SIGNAL mode           enter (index nodes reserved first) or leave a
 *                         fence-signalling section; inside, only the calls
 *                         allowed there run, the allocators abort on use,
 *                         and each immediate VM takes one callback-mode
 *                         request with deferred unlinks
 *   INDEX s mode n        gpuvm_index_reserve / _unreserve / _trim
 *   FIND s a r            every lookup against a brute-force search
 *   INVALID s kind        one of a table of calls with invalid arguments
 *
 * Calls that the debug build turns into an abort (a wrong-mode call, a find
 * without the gpuva lock in immediate mode, ...) are made only in release
 * builds, where their documented error is checked; a call the caller's
 * contract forbids in the current state (a put in a signalling section, a
 * locking call while holding a gpuva lock) is skipped.
 *
 * After every op the whole shadow is compared with the library: mappings
 * in address order (the very structs), each vm_bo's mapping list in link
 * order, reference counts of VMs, vm_bos and gems, each gem's vm_bo list,
 * the extobj and evict lists, evicted flags, which locks this thread holds,
 * the index's reservation count, gpuvm_verify(), and that no allocator saw
 * a bad call. At the end everything is torn down in a legal order, every VM
 * must have been released with its allocator back to zero, every gem
 * freed exactly once, and the custom allocators empty.
 */
#include "fuzz.h"
#include "fuzz_api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <gpuvm.h>

#include "refmodel.h"
#include "rm_match.h"
#include "test_alloc.h"
#include "test_dump.h"
#include "test_gem.h"

#define MAX_INPUT 4096
#define MAX_STEPS 400

/* ------------------------------------------------------------------ world */

struct geo {
	uint64_t start, range, raddr, rrange, unit;
};

static const struct geo geos[] = {
	{ 0x100000, 0x100000, 0x140000, 0x10000, 0x1000 },
	{ 0, 0x400, 0, 0, 1 },
	{ UINT64_MAX - 0x100000, 0x100000, UINT64_MAX - 0x80000, 0x8000, 0x1000 },
	{ 0x1000, 0, 0, 0, 0x1000 },
	{ 0x10000, 0x40000, 0x8000, 0x10000, 0x1000 },
};
#define NGEO (sizeof(geos) / sizeof(geos[0]))

static const uint64_t gem_size[FZ_NGEM] = { 0x100000, 0x10000, 0x4000, 0, UINT64_MAX, 0x1000 };

struct hbo;

struct hva {
	struct gpuva va; /* first: the library sees this */
	int idx;	 /* in vslot.va[] */
	uint64_t addr, range, offset;
	int gem; /* -1: sparse */
	bool inserted;
	struct hbo *link;
	bool dead; /* an op list still points to it: freed after the list */
};

struct hbo {
	struct gpuvm_bo *p; /* NULL: none */
	unsigned int hrefs; /* references this harness holds */
	struct hva *links[FZ_MAXVA];
	unsigned int nlinks;
	bool on_extobj, on_evict, evicted;
	uint64_t seq; /* creation order: the gem's list is in this order */
};

struct fz;

struct hvm {
	struct gpuvm vm;
	struct fz *fz;
	int slot;
};

enum { V_EMPTY, V_LIVE, V_ORPHAN };

struct vslot {
	int state;
	struct hvm *h;
	bool freed; /* the vm_free callback ran */
	struct test_alloc ta;
	struct gpuvm_ops ops;
	uint8_t cfg;
	bool immediate, prot;
	int r_gem;
	const struct geo *g;
	struct hva *va[FZ_MAXVA];
	struct hbo bo[FZ_NGEM];
	struct gpuvm_bo *pre[FZ_NGEM];
	unsigned int zombies, zgem[FZ_NGEM];
	unsigned int reserved; /* inserts reserved by FZ_INDEX */
	bool sect_reserved, sect_used;
	struct gpuvm_exec exec;
	int exec_state; /* 0 none, 1 initialized, 2 locked */
	bool exec_extra; /* initialized with the extra callback */
	unsigned int exec_gref[FZ_NGEM];
	bool exec_resv[FZ_NRESV];
};

struct fz {
	const uint8_t *p;
	size_t n, i;
	size_t step;
	int op;

	struct vslot v[FZ_NVM];
	struct gpuvm_resv resv[FZ_NRESV];
	int gem_resv[FZ_NGEM];
	struct test_gem gem[FZ_NGEM];
	bool held[FZ_NRESV];
	unsigned int exec_held[FZ_NRESV];
	bool glock[FZ_NGEM];
	bool signalling, cookie;
	uint64_t seq;
	unsigned long cbo_live, cop_live;

	struct rm_vm model;
	struct rm_ops mops;
	struct hva *dead[3 * FZ_MAXVA];
	size_t ndead;
};

static const char *const op_names[FZ_OP_COUNT] = {
	"VM_NEW", "VM_PUT", "INSERT", "REMOVE", "LINK", "UNLINK", "OBTAIN", "BO_PUT", "MAP",
	"UNMAP", "PREFETCH", "BO_UNMAP", "CLEANUP", "EXTOBJ", "EVICT", "GEM_EVICT", "VALIDATE",
	"RESV", "GPUVA_LOCK", "EXEC", "EXEC_END", "FAIL", "SIGNAL", "INDEX", "FIND", "INVALID",
	"FILL",
};

#define CHECK(fz, cond, fmt, ...)                                                           \
	FZ_CHECK(cond, "step %zu (%s): " fmt, (fz)->step,                                   \
		 (fz)->op >= 0 ? op_names[(fz)->op] : "teardown", ##__VA_ARGS__)
/* The errno name of a negative result; counts (deferred cleanup, puts) have none. */
static const char *rc_name(int rc)
{
	return rc < 0 ? gpuvm_err_name(rc) : rc ? "a count" : "OK";
}

#define CHECK_RC(fz, rc, want, what)                                                        \
	CHECK(fz, (rc) == (want), "%s returned %d (%s), expected %d (%s)", what, (int)(rc), \
	      rc_name(rc), (int)(want), rc_name(want))

#ifdef GPUVM_DEBUG
#define DEBUG_BUILD 1
#else
#define DEBUG_BUILD 0
#endif

static uint8_t in_u8(struct fz *fz)
{
	return fz->i < fz->n ? fz->p[fz->i++] : 0;
}

static struct gpuvm *vm_of(struct vslot *v)
{
	return &v->h->vm;
}

static struct gpuvm_gem *gem_of(struct fz *fz, int g)
{
	return g < 0 ? NULL : &fz->gem[g].base;
}

static int gem_idx(struct fz *fz, const struct gpuvm_gem *obj)
{
	for (int g = 0; g < FZ_NGEM; g++)
		if (obj == &fz->gem[g].base)
			return g;
	return -1;
}

static int vm_resv(struct fz *fz, const struct vslot *v)
{
	return v->r_gem < 0 ? -1 : fz->gem_resv[v->r_gem];
}

static bool is_ext(struct fz *fz, const struct vslot *v, int g)
{
	return fz->gem_resv[g] != vm_resv(fz, v);
}

/* Whether this thread holds reservation @r (itself or through an exec). */
static bool resv_ours(struct fz *fz, int r)
{
	return r >= 0 && (fz->held[r] || fz->exec_held[r] > 0);
}

static bool any_glock(struct fz *fz)
{
	for (int g = 0; g < FZ_NGEM; g++)
		if (fz->glock[g])
			return true;
	return false;
}

/* ----------------------------------------------------- argument decoding */

static uint64_t dec_addr(const struct vslot *v, uint8_t b)
{
	switch (b) {
	case 0xff:
		return UINT64_MAX;
	case 0xfe:
		return 0;
	case 0xfd:
		return v->g->start + v->g->range;
	case 0xfc:
		return v->g->start - 1;
	default:
		return v->g->start + ((uint64_t)b - 2) * v->g->unit;
	}
}

static uint64_t dec_range(const struct vslot *v, uint64_t addr, uint8_t b)
{
	switch (b) {
	case 0xff:
		return UINT64_MAX;
	case 0xfe:
		return UINT64_MAX - addr;
	case 0xfd:
		return 0 - addr;
	case 0xfc:
		return v->g->range;
	default:
		return (uint64_t)b * v->g->unit;
	}
}

static uint64_t dec_offset(const struct vslot *v, int g, uint64_t range, uint8_t b)
{
	uint64_t size = g < 0 ? 0 : gem_size[g];

	switch (b) {
	case 0xff:
		return UINT64_MAX;
	case 0xfe:
		return size - range;
	case 0xfd:
		return size - range + v->g->unit;
	case 0xfc:
		return size;
	default:
		return (uint64_t)b * v->g->unit;
	}
}

/* ---------------------------------------------------- custom allocators */

#define CBO_MAGIC 0xb0b0b0b0cafe0001ull
#define COP_MAGIC 0x0f0f0f0fcafe0002ull

struct cbo {
	uint64_t magic;
	struct fz *fz;
	struct gpuvm_bo bo;
};

struct cop {
	uint64_t magic;
	struct fz *fz;
	struct gpuva_op op;
};

GPUVM_CONTAINER(struct gpuvm, struct hvm, vm, hvm_of)
GPUVM_CONTAINER(struct gpuvm_bo, struct cbo, bo, cbo_of)
GPUVM_CONTAINER(struct gpuva_op, struct cop, op, cop_of)

static struct gpuvm_bo *c_bo_alloc(struct gpuvm *vm)
{
	struct cbo *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->magic = CBO_MAGIC;
	c->fz = hvm_of(vm)->fz;
	c->fz->cbo_live++;
	return &c->bo;
}

static void c_bo_free(struct gpuvm_bo *vm_bo)
{
	struct cbo *c = cbo_of(vm_bo);

	FZ_CHECK(c->magic == CBO_MAGIC, "vm_bo_free of a vm_bo vm_bo_alloc did not make");
	c->magic = 0;
	c->fz->cbo_live--;
	free(c);
}

static struct gpuva_op *c_op_alloc(struct gpuvm *vm)
{
	struct cop *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->magic = COP_MAGIC;
	c->fz = hvm_of(vm)->fz;
	c->fz->cop_live++;
	return &c->op;
}

static void c_op_free(struct gpuvm *vm, struct gpuva_op *op)
{
	struct cop *c = cop_of(op);

	(void)vm;
	FZ_CHECK(c->magic == COP_MAGIC, "op_free of an op op_alloc did not make");
	c->magic = 0;
	c->fz->cop_live--;
	free(c);
}

static void h_vm_free(struct gpuvm *vm)
{
	struct hvm *h = hvm_of(vm);
	int rc = gpuvm_fini(vm);

	FZ_CHECK(rc == 0, "vm_free: gpuvm_fini returned %s", gpuvm_err_name(rc));
	FZ_CHECK(!h->fz->v[h->slot].freed, "vm_free ran twice");
	h->fz->v[h->slot].freed = true;
	free(h);
}

/* ------------------------------------------------------------ mappings */

static int free_va_slots(const struct vslot *v)
{
	int n = 0;

	for (int i = 0; i < FZ_MAXVA; i++)
		n += !v->va[i];
	return n;
}

static struct hva *new_hva(struct vslot *v)
{
	for (int i = 0; i < FZ_MAXVA; i++) {
		if (!v->va[i]) {
			struct hva *h = calloc(1, sizeof(*h));

			FZ_CHECK(h, "out of memory");
			h->idx = i;
			h->gem = -1;
			v->va[i] = h;
			return h;
		}
	}
	FZ_CHECK(false, "no free mapping slot");
	return NULL;
}

static struct hva *hva_of(const struct gpuva *va)
{
	return (struct hva *)(uintptr_t)va;
}

/* A mapping neither inserted nor linked is the harness's to free. */
static void hva_release(struct fz *fz, struct vslot *v, struct hva *h)
{
	if (h->inserted || h->link)
		return;
	if (h->dead) {
		FZ_CHECK(fz->ndead < sizeof(fz->dead) / sizeof(fz->dead[0]), "too many dead");
		fz->dead[fz->ndead++] = h;
		v->va[h->idx] = NULL;
		return;
	}
	v->va[h->idx] = NULL;
	free(h);
}

static void free_dead(struct fz *fz)
{
	while (fz->ndead)
		free(fz->dead[--fz->ndead]);
}

static void sh_link(struct hbo *b, struct hva *h)
{
	b->links[b->nlinks++] = h;
	h->link = b;
}

static void sh_unlink(struct hva *h)
{
	struct hbo *b = h->link;
	unsigned int i;

	for (i = 0; i < b->nlinks && b->links[i] != h; i++)
		;
	FZ_CHECK(i < b->nlinks, "shadow: a link is missing");
	memmove(&b->links[i], &b->links[i + 1], (b->nlinks - i - 1) * sizeof(b->links[0]));
	b->nlinks--;
	h->link = NULL;
}

/* The listed vm_bo of gem @g lost its last reference. */
static void sh_bo_gone(struct vslot *v, int g, bool zombie)
{
	if (zombie) {
		v->zombies++;
		v->zgem[g]++;
	}
	memset(&v->bo[g], 0, sizeof(v->bo[g]));
}

/* ------------------------------------------------------- lock helpers */

/* The gem's gpuva lock, unless the harness holds it already. */
static bool take_gpuva(struct fz *fz, int g)
{
	int rc;

	if (fz->glock[g])
		return false;
	rc = gpuvm_gem_gpuva_lock(gem_of(fz, g));
	CHECK_RC(fz, rc, 0, "gpuvm_gem_gpuva_lock");
	return true;
}

static void drop_gpuva(struct fz *fz, int g, bool took)
{
	int rc;

	if (!took)
		return;
	rc = gpuvm_gem_gpuva_unlock(gem_of(fz, g));
	CHECK_RC(fz, rc, 0, "gpuvm_gem_gpuva_unlock");
}

/* The VM's reservation for a RESV_PROTECTED list change; -1 if not taken. */
static int take_vm_resv(struct fz *fz, struct vslot *v)
{
	int r = vm_resv(fz, v);
	int rc;

	if (!v->prot || r < 0 || resv_ours(fz, r))
		return -1;
	CHECK(fz, !fz->signalling, "a reservation is needed in a signalling section");
	rc = gpuvm_resv_lock(&fz->resv[r]);
	CHECK_RC(fz, rc, 0, "gpuvm_resv_lock of the VM's reservation");
	return r;
}

static void drop_resv(struct fz *fz, int r)
{
	int rc;

	if (r < 0)
		return;
	rc = gpuvm_resv_unlock(&fz->resv[r]);
	CHECK_RC(fz, rc, 0, "gpuvm_resv_unlock");
}

/* --------------------------------------------------- "nothing changed" */

/* The state of every live VM as text, to compare around a call that may fail. */
static char *dump_all(struct fz *fz)
{
	struct gpuvm_gem *gems[FZ_NGEM];
	struct test_str b = { 0 };

	for (int g = 0; g < FZ_NGEM; g++)
		gems[g] = gem_of(fz, g);
	for (int s = 0; s < FZ_NVM; s++) {
		char *d;

		if (fz->v[s].state == V_EMPTY)
			continue;
		d = test_dump_vm(vm_of(&fz->v[s]), gems, FZ_NGEM);
		test_str_printf(&b, "%s", d);
		free(d);
	}
	return test_str_take(&b);
}

/* Around a call that may meet an injected allocation failure. */
struct call {
	struct vslot *v;
	unsigned long injected;
	char *before;
};

static void call_begin(struct fz *fz, struct vslot *v, struct call *c)
{
	c->v = v;
	c->injected = v->ta.injected;
	c->before = v->ta.fail_in ? dump_all(fz) : NULL;
}

/*
 * True when the call failed with -ENOMEM: then an injected failure must
 * have caused it and every VM must be exactly as before.
 */
static bool call_nomem(struct fz *fz, struct call *c, int rc)
{
	bool nomem = rc == -ENOMEM;

	if (nomem) {
		char *after;

		CHECK(fz, c->v->ta.injected > c->injected,
		      "-ENOMEM without an allocation failure");
		CHECK(fz, c->before, "-ENOMEM while no failure was armed");
		after = dump_all(fz);
		if (strcmp(c->before, after)) {
			test_dump_diff(c->before, after);
			CHECK(fz, false, "a call that failed with -ENOMEM changed the state");
		}
		free(after);
	}
	free(c->before);
	c->before = NULL;
	return nomem;
}

/* ------------------------------------------------------------ checks */

static void check_vm_bo(struct fz *fz, struct vslot *v, int g, struct hbo *b)
{
	struct gpuvm_bo *p = b->p;
	struct gpuva *va;
	unsigned int j = 0;

	CHECK(fz, p->vm == vm_of(v) && p->obj == gem_of(fz, g), "vm_bo of slot %d gem %d: wrong pair",
	      (int)(v - fz->v), g);
	CHECK(fz, p->refcount == b->hrefs + b->nlinks,
	      "vm_bo of slot %d gem %d: refcount %u, expected %u held + %u links",
	      (int)(v - fz->v), g, p->refcount, b->hrefs, b->nlinks);
	CHECK(fz, gpuvm_list_linked(&p->list.entry.gem), "vm_bo of slot %d gem %d is off its gem's list",
	      (int)(v - fz->v), g);
	gpuvm_bo_for_each_va(va, p) {
		CHECK(fz, j < b->nlinks && va == &b->links[j]->va,
		      "vm_bo of slot %d gem %d: link %u differs from the shadow's link order",
		      (int)(v - fz->v), g, j);
		CHECK(fz, gpuva_vm_bo(va) == p, "a linked mapping points to another vm_bo");
		j++;
	}
	CHECK(fz, j == b->nlinks, "vm_bo of slot %d gem %d: %u links, the shadow has %u",
	      (int)(v - fz->v), g, j, b->nlinks);
	CHECK(fz, gpuvm_bo_evicted(p) == b->evicted, "vm_bo of slot %d gem %d: evicted is %d",
	      (int)(v - fz->v), g, gpuvm_bo_evicted(p));
	CHECK(fz, gpuvm_list_linked(&p->list.entry.extobj) == b->on_extobj,
	      "vm_bo of slot %d gem %d: %son the extobj list", (int)(v - fz->v), g,
	      b->on_extobj ? "not " : "");
	CHECK(fz, gpuvm_list_linked(&p->list.entry.evict) == b->on_evict,
	      "vm_bo of slot %d gem %d: %son the evict list", (int)(v - fz->v), g,
	      b->on_evict ? "not " : "");
}

/* Every entry of a VM list that is not a zombie is one the shadow lists. */
static void check_vm_list(struct fz *fz, struct vslot *v, bool evict)
{
	const struct gpuvm_list *head = evict ? &vm_of(v)->evict.list : &vm_of(v)->extobj.list;
	const struct gpuvm_list *e;
	unsigned int n = 0, want = 0;

	for (e = head->next; e != head; e = e->next) {
		const struct gpuvm_bo *p = evict
			? gpuvm__list_entry(e, struct gpuvm_bo, list.entry.evict)
			: gpuvm__list_entry(e, struct gpuvm_bo, list.entry.extobj);

		/* zombies of RESV_PROTECTED VMs stay listed until the cleanup */
		CHECK(fz, n++ < FZ_NGEM + MAX_STEPS, "a VM list loops");
		if (gpuvm_bo_is_zombie(p)) {
			CHECK(fz, v->prot, "a zombie on a VM list without RESV_PROTECTED");
			continue;
		}
		CHECK(fz, p->vm == vm_of(v), "a VM list holds another VM's vm_bo");
	}
	for (int g = 0; g < FZ_NGEM; g++)
		if (v->bo[g].p && (evict ? v->bo[g].on_evict : v->bo[g].on_extobj))
			want++;
	n = 0;
	for (e = head->next; e != head; e = e->next) {
		const struct gpuvm_bo *p = evict
			? gpuvm__list_entry(e, struct gpuvm_bo, list.entry.evict)
			: gpuvm__list_entry(e, struct gpuvm_bo, list.entry.extobj);

		n += !gpuvm_bo_is_zombie(p);
	}
	CHECK(fz, n == want, "slot %d: %u live vm_bos on the %s list, the shadow has %u",
	      (int)(v - fz->v), n, evict ? "evict" : "extobj", want);
}

static void check_slot(struct fz *fz, struct vslot *v)
{
	struct gpuvm *vm = vm_of(v);
	struct hva *sorted[FZ_MAXVA];
	unsigned int nv = 0, refs = 0;
	struct gpuva *va;
	int rc;

	for (int i = 0; i < FZ_MAXVA; i++) {
		struct hva *h = v->va[i];

		if (!h)
			continue;
		CHECK(fz, (gpuva_vm_bo(&h->va) != NULL) == (h->link != NULL) &&
				  (!h->link || gpuva_vm_bo(&h->va) == h->link->p),
		      "slot %d: mapping %d is linked to another vm_bo than the shadow says",
		      (int)(v - fz->v), i);
		CHECK(fz, gpuva_gem(&h->va) == gem_of(fz, h->gem),
		      "slot %d: mapping %d maps another object", (int)(v - fz->v), i);
		if (!h->inserted)
			continue;
		/* insertion sort by address */
		unsigned int k = nv++;

		while (k && sorted[k - 1]->addr > h->addr) {
			sorted[k] = sorted[k - 1];
			k--;
		}
		sorted[k] = h;
	}
	nv = 0;
	gpuvm_for_each_va(va, vm) {
		struct hva *h = hva_of(va);

		CHECK(fz, nv < FZ_MAXVA && sorted[nv] == h,
		      "slot %d: mapping %u in address order is not the shadow's", (int)(v - fz->v),
		      nv);
		CHECK(fz, va->va.addr == h->addr && va->va.range == h->range &&
				  va->gem.offset == h->offset && va->vm == vm,
		      "slot %d: mapping %u holds other values than inserted", (int)(v - fz->v), nv);
		nv++;
	}
	for (int i = 0; i < FZ_MAXVA; i++)
		if (v->va[i] && v->va[i]->inserted)
			refs++;
	CHECK(fz, nv == refs, "slot %d: %u mappings in the VM, %u in the shadow", (int)(v - fz->v),
	      nv, refs);

	refs = v->state == V_LIVE ? 1 : 0;
	for (int g = 0; g < FZ_NGEM; g++) {
		if (v->bo[g].p) {
			check_vm_bo(fz, v, g, &v->bo[g]);
			refs++;
		}
		if (v->pre[g]) {
			CHECK(fz, v->pre[g]->refcount == 1 &&
					  !gpuvm_list_linked(&v->pre[g]->list.entry.gem),
			      "a preallocated vm_bo changed");
			refs++;
		}
	}
	refs += v->zombies;
	CHECK(fz, vm->refcount == refs, "slot %d: VM refcount %u, expected %u", (int)(v - fz->v),
	      vm->refcount, refs);
	check_vm_list(fz, v, false);
	check_vm_list(fz, v, true);
	CHECK(fz, vm->index.reserved == v->reserved + (v->sect_reserved ? 3 : 0),
	      "slot %d: %zu index inserts reserved, expected %u", (int)(v - fz->v),
	      vm->index.reserved, v->reserved + (v->sect_reserved ? 3 : 0));
	/* not on the fence-signalling path (it is O(n)); checked after the section */
	if (!fz->signalling) {
		rc = gpuvm_verify(vm);
		CHECK_RC(fz, rc, 0, "gpuvm_verify");
	}
	CHECK(fz, v->ta.errors == 0, "slot %d: the allocator saw %lu bad calls", (int)(v - fz->v),
	      v->ta.errors);
}

static void check_all(struct fz *fz)
{
	for (int s = 0; s < FZ_NVM; s++)
		if (fz->v[s].state != V_EMPTY)
			check_slot(fz, &fz->v[s]);

	for (int g = 0; g < FZ_NGEM; g++) {
		struct gpuvm_gem *obj = gem_of(fz, g);
		unsigned int refs = 1, listed = 0, seen = 0;
		uint64_t last = 0;
		struct gpuvm_bo *p;

		for (int s = 0; s < FZ_NVM; s++) {
			struct vslot *v = &fz->v[s];

			if (v->state == V_EMPTY)
				continue;
			refs += (v->bo[g].p != NULL) + (v->pre[g] != NULL) + v->zgem[g] +
				v->exec_gref[g];
			listed += v->bo[g].p != NULL;
		}
		CHECK(fz, obj->refcount == refs, "gem %d: refcount %u, expected %u", g, obj->refcount,
		      refs);
		gpuvm_gem_for_each_vm_bo(p, obj) {
			struct hbo *b = NULL;

			for (int s = 0; s < FZ_NVM; s++)
				if (fz->v[s].state != V_EMPTY && fz->v[s].bo[g].p == p)
					b = &fz->v[s].bo[g];
			CHECK(fz, b, "gem %d lists a vm_bo the shadow does not know", g);
			CHECK(fz, b->seq > last, "gem %d lists its vm_bos out of creation order", g);
			last = b->seq;
			CHECK(fz, ++seen <= listed, "gem %d lists too many vm_bos", g);
		}
		CHECK(fz, seen == listed, "gem %d lists %u vm_bos, the shadow %u", g, seen, listed);
		CHECK(fz, gpuvm_gem_gpuva_lock_held(obj) == fz->glock[g],
		      "gem %d: the gpuva lock is %sheld", g, fz->glock[g] ? "not " : "");
	}
	for (int r = 0; r < FZ_NRESV; r++)
		CHECK(fz, gpuvm_resv_held(&fz->resv[r]) == resv_ours(fz, r),
		      "reservation %d is %sheld", r, resv_ours(fz, r) ? "not " : "");
	CHECK(fz, gpuvm_in_signalling() == fz->signalling, "the signalling state is wrong");
}

/* Free the VMs whose last reference went; check their allocator is empty. */
static void reap(struct fz *fz)
{
	for (int s = 0; s < FZ_NVM; s++) {
		struct vslot *v = &fz->v[s];
		unsigned int refs = 0;

		if (v->state != V_ORPHAN)
			continue;
		for (int g = 0; g < FZ_NGEM; g++)
			refs += (v->bo[g].p != NULL) + (v->pre[g] != NULL);
		refs += v->zombies;
		if (v->cfg & FZ_CFG_VM_FREE) {
			CHECK(fz, v->freed == !refs, "slot %d: vm_free %s with %u references left", s,
			      v->freed ? "ran" : "did not run", refs);
			if (!v->freed)
				continue;
		} else {
			CHECK(fz, (v->h->vm.refcount == 0) == !refs,
			      "slot %d: VM refcount %u, expected %u", s, v->h->vm.refcount, refs);
			if (refs)
				continue;
			free(v->h);
		}
		for (int i = 0; i < FZ_MAXVA; i++)
			CHECK(fz, !v->va[i], "slot %d: a released VM still has mapping %d", s, i);
		CHECK(fz, v->ta.live == 0 && v->ta.live_bytes == 0,
		      "slot %d: the released VM left %zu allocations", s, v->ta.live);
		CHECK(fz, v->ta.errors == 0, "slot %d: the allocator saw %lu bad calls", s,
		      v->ta.errors);
		v->h = NULL;
		v->state = V_EMPTY;
	}
}

/* ------------------------------------------------------- model of a VM */

/* The reference model holding exactly the slot's inserted mappings. */
static void build_model(struct fz *fz, struct vslot *v)
{
	struct rm_vm *m = &fz->model;
	int rc = rm_vm_init(m, v->g->start, v->g->range, v->g->raddr, v->g->rrange, FZ_NGEM,
			    gem_size);

	CHECK(fz, rc == 0, "rm_vm_init: %d", rc);
	m->m = calloc(FZ_MAXVA, sizeof(*m->m));
	FZ_CHECK(m->m, "out of memory");
	m->cap = FZ_MAXVA;
	for (int i = 0; i < FZ_MAXVA; i++) {
		struct hva *h = v->va[i];
		size_t k;

		if (!h || !h->inserted)
			continue;
		k = m->n++;
		while (k && m->m[k - 1].addr > h->addr) {
			m->m[k] = m->m[k - 1];
			k--;
		}
		m->m[k] = (struct rm_mapping){ .addr = h->addr, .range = h->range,
					       .offset = h->offset, .bo = h->gem,
					       .id = (uint64_t)i + 1 };
	}
	m->next_id = FZ_MAXVA + 1;
}

/* rm_op_matches()'s questions: objects by index, mappings by their slot */
struct match_ctx {
	struct fz *fz;
	struct vslot *v;
};

static const struct gpuvm_gem *match_gem(void *ctx, int bo)
{
	return gem_of(((struct match_ctx *)ctx)->fz, bo);
}

static bool match_va(void *ctx, const struct gpuva *va, const struct rm_mapping *m)
{
	struct vslot *v = ((struct match_ctx *)ctx)->v;

	return m->id >= 1 && m->id <= FZ_MAXVA && va == &v->va[m->id - 1]->va;
}

/* Whether the library's @op is the model's @o, naming the very mapping. */
static bool op_matches(struct fz *fz, struct vslot *v, const struct gpuva_op *op,
		       const struct rm_op *o)
{
	struct match_ctx c = { .fz = fz, .v = v };
	const struct rm_match mt = { .gem = match_gem, .va_is = match_va, .ctx = &c };

	return rm_op_matches(&mt, op, o);
}

/* --------------------------------------------------- unlink and put */

/*
 * Unlink @h the way the shadow's state allows: deferred (immediate mode) or
 * not, with the locks the contract asks for. Checks the result and updates
 * the shadow; frees @h when it is neither inserted nor linked any more.
 */
static void unlink_hva(struct fz *fz, struct vslot *v, struct hva *h, bool defer)
{
	struct hbo *b = h->link;
	int g = h->gem;
	bool last = b->hrefs == 0 && b->nlinks == 1;
	int rc;

	if (defer) {
		rc = gpuva_unlink_defer(&h->va);
		if (fz->glock[g]) {
			CHECK_RC(fz, rc, -EDEADLK, "gpuva_unlink_defer under the gpuva lock");
			return;
		}
		CHECK_RC(fz, rc, 0, "gpuva_unlink_defer");
	} else {
		int r = last && (b->on_extobj || b->on_evict) ? take_vm_resv(fz, v) : -1;
		bool took = v->immediate && take_gpuva(fz, g);

		rc = gpuva_unlink(&h->va);
		CHECK_RC(fz, rc, 0, "gpuva_unlink");
		drop_gpuva(fz, g, took);
		drop_resv(fz, r);
	}
	sh_unlink(h);
	if (last)
		sh_bo_gone(v, g, defer);
	hva_release(fz, v, h);
}

/* Drop one harness reference of the listed vm_bo of gem @g. */
static void put_listed(struct fz *fz, struct vslot *v, int g)
{
	struct hbo *b = &v->bo[g];
	bool last = b->hrefs == 1 && b->nlinks == 0;
	int r = last && (b->on_extobj || b->on_evict) ? take_vm_resv(fz, v) : -1;
	bool took = last && v->immediate && take_gpuva(fz, g);
	bool freed = gpuvm_bo_put(b->p);

	drop_gpuva(fz, g, took);
	drop_resv(fz, r);
	CHECK(fz, freed == last, "gpuvm_bo_put %s the vm_bo with %u references left",
	      freed ? "freed" : "kept", b->hrefs - 1 + b->nlinks);
	b->hrefs--;
	if (last)
		sh_bo_gone(v, g, false);
}

/* A harness reference on the listed vm_bo of gem @g (obtain); false on -ENOMEM. */
static bool obtain_ref(struct fz *fz, struct vslot *v, int g)
{
	struct gpuvm_bo *p = NULL;
	struct call c;
	int rc;

	call_begin(fz, v, &c);
	rc = gpuvm_bo_obtain(vm_of(v), gem_of(fz, g), &p);
	if (call_nomem(fz, &c, rc)) {
		CHECK(fz, !v->bo[g].p, "-ENOMEM although the vm_bo existed");
		return false;
	}
	CHECK_RC(fz, rc, 0, "gpuvm_bo_obtain");
	if (v->bo[g].p) {
		CHECK(fz, p == v->bo[g].p, "gpuvm_bo_obtain made a second vm_bo for a pair");
	} else {
		v->bo[g].p = p;
		v->bo[g].seq = ++fz->seq;
	}
	v->bo[g].hrefs++;
	return true;
}

/* ------------------------------------------------ applying ops */

struct apply {
	struct fz *fz;
	struct vslot *v;
	bool defer;	      /* unlink with gpuva_unlink_defer */
	bool list;	      /* list mode: nothing may fail, old mappings freed later */
	const struct rm_ops *want;
	size_t n;	      /* ops seen */
	size_t fail_at;	      /* callback mode: return -EIO at this op (1-based), 0 never */
	int err;	      /* the error a callback returned */
	unsigned int inserts; /* index inserts made */
};

/* Link a new piece or mapping to @b, under the gpuva lock in immediate mode. */
static void link_new(struct fz *fz, struct vslot *v, struct hva *h, struct hbo *b)
{
	bool took = v->immediate && take_gpuva(fz, h->gem);
	int rc = gpuva_link(&h->va, b->p);

	drop_gpuva(fz, h->gem, took);
	CHECK_RC(fz, rc, 0, "gpuva_link");
	sh_link(b, h);
}

static void piece_shadow(struct hva *h, const struct gpuva_op_map *m, struct fz *fz)
{
	h->addr = m->va.addr;
	h->range = m->va.range;
	h->offset = m->gem.offset;
	h->gem = gem_idx(fz, m->gem.obj);
	h->inserted = true;
}

static int apply_op(struct apply *a, struct gpuva_op *op)
{
	struct fz *fz = a->fz;
	struct vslot *v = a->v;
	struct hva *h, *prev = NULL, *next = NULL;
	struct call c;
	int rc;

	switch (op->op) {
	case GPUVA_OP_MAP: {
		int g = gem_idx(fz, op->map.gem.obj);

		h = new_hva(v);
		call_begin(fz, v, &c);
		rc = gpuva_map(vm_of(v), &h->va, &op->map);
		if (!a->list && call_nomem(fz, &c, rc)) {
			v->va[h->idx] = NULL;
			free(h);
			return rc;
		}
		free(c.before);
		CHECK_RC(fz, rc, 0, "gpuva_map");
		a->inserts++;
		piece_shadow(h, &op->map, fz);
		if (g >= 0) {
			CHECK(fz, v->bo[g].p && v->bo[g].hrefs, "a map op without a held vm_bo");
			link_new(fz, v, h, &v->bo[g]);
		}
		return 0;
	}
	case GPUVA_OP_REMAP: {
		struct hva *old = hva_of(op->remap.unmap->va);
		struct hbo *b = old->link;

		if (op->remap.prev)
			prev = new_hva(v);
		if (op->remap.next)
			next = new_hva(v);
		call_begin(fz, v, &c);
		rc = gpuva_remap(prev ? &prev->va : NULL, next ? &next->va : NULL, &op->remap);
		if (!a->list && call_nomem(fz, &c, rc)) {
			if (prev) {
				v->va[prev->idx] = NULL;
				free(prev);
			}
			if (next) {
				v->va[next->idx] = NULL;
				free(next);
			}
			return rc;
		}
		free(c.before);
		CHECK_RC(fz, rc, 0, "gpuva_remap");
		old->inserted = false;
		a->inserts += (prev != NULL) + (next != NULL);
		if (prev)
			piece_shadow(prev, op->remap.prev, fz);
		if (next)
			piece_shadow(next, op->remap.next, fz);
		if (b) {
			/* the pieces first: the old link then never drops the last reference */
			if (prev)
				link_new(fz, v, prev, b);
			if (next)
				link_new(fz, v, next, b);
		}
		old->dead = a->list;
		if (b)
			unlink_hva(fz, v, old, a->defer);
		else
			hva_release(fz, v, old);
		return 0;
	}
	case GPUVA_OP_UNMAP:
		h = hva_of(op->unmap.va);
		rc = gpuva_unmap(&op->unmap);
		CHECK_RC(fz, rc, 0, "gpuva_unmap");
		h->inserted = false;
		h->dead = a->list;
		if (h->link)
			unlink_hva(fz, v, h, a->defer);
		else
			hva_release(fz, v, h);
		return 0;
	default:
		CHECK(fz, false, "an op of type %d in a map/unmap list", (int)op->op);
	}
	return -EINVAL;
}

static int cb_step(struct gpuva_op *op, void *priv)
{
	struct apply *a = priv;
	struct fz *fz = a->fz;
	int rc;

	CHECK(fz, a->err == 0, "a callback ran after one failed");
	CHECK(fz, a->n < a->want->n, "callback op %zu beyond the model's %zu", a->n, a->want->n);
	CHECK(fz, op_matches(fz, a->v, op, &a->want->op[a->n]),
	      "callback op %zu differs from the model's", a->n);
	a->n++;
	if (a->n == a->fail_at) {
		a->err = -EIO;
		return -EIO;
	}
	rc = apply_op(a, op);
	a->err = rc;
	return rc;
}

/* ------------------------------------------------------------ requests */

static int validate_cb(struct gpuvm_bo *vm_bo, void *priv);

/* The VM's callbacks, filled from its configuration. */
static void fill_ops(struct vslot *v)
{
	memset(&v->ops, 0, sizeof(v->ops));
	v->ops.sz = sizeof(v->ops);
	v->ops.sm_step_map = cb_step;
	v->ops.sm_step_remap = cb_step;
	v->ops.sm_step_unmap = cb_step;
	if (v->cfg & FZ_CFG_VM_FREE)
		v->ops.vm_free = h_vm_free;
	if (v->cfg & FZ_CFG_VALIDATE)
		v->ops.vm_bo_validate = validate_cb;
	if (v->cfg & FZ_CFG_CUSTOM) {
		v->ops.vm_bo_alloc = c_bo_alloc;
		v->ops.vm_bo_free = c_bo_free;
		v->ops.op_alloc = c_op_alloc;
		v->ops.op_free = c_op_free;
	}
}

static void compare_list(struct fz *fz, struct vslot *v, const struct gpuva_ops *ops,
			 const struct rm_ops *want)
{
	const struct gpuva_op *op;
	size_t i = 0;

	CHECK(fz, ops->count == want->n, "list of %zu ops, the model has %zu", ops->count,
	      want->n);
	gpuva_for_each_op(op, ops) {
		CHECK(fz, i < want->n && op_matches(fz, v, op, &want->op[i]),
		      "list op %zu differs from the model's", i);
		i++;
	}
	CHECK(fz, i == want->n, "the list holds %zu ops, ops->count %zu", i, ops->count);
}

enum req_kind { R_MAP, R_MADVISE, R_UNMAP };

/*
 * A map, madvise or unmap request on slot @v. @cb: callback mode, failing
 * at op @fail_at (1-based, 0 never).
 */
static void request(struct fz *fz, struct vslot *v, enum req_kind kind, uint64_t addr,
		    uint64_t range, int g, uint64_t offset, bool cb, size_t fail_at)
{
	struct gpuvm *vm = vm_of(v);
	GPUVM_OPTS(gpuvm_map_req, req,
		   .map = { .va = { .addr = addr, .range = range },
			    .gem = { .offset = offset, .obj = gem_of(fz, g) } });
	struct apply a = { .fz = fz, .v = v, .defer = v->immediate, .fail_at = fail_at };
	bool section = fz->signalling;
	bool held_ref = false;
	struct gpuva_ops *ops = NULL;
	struct call c;
	int want, rc;

	if (kind == R_MADVISE)
		cb = false;
	if (free_va_slots(v) < 3)
		return;
	if (section) {
		/* one request per section, on an immediate VM, with nodes reserved */
		if (!cb || !v->immediate || !v->sect_reserved || v->sect_used)
			return;
		if (g >= 0 && (!v->bo[g].p || !v->bo[g].hrefs))
			return;
	}

	build_model(fz, v);
	if (kind == R_MAP)
		want = rm_map(&fz->model, addr, range, g, offset, &fz->mops);
	else if (kind == R_MADVISE)
		want = rm_madvise(&fz->model, addr, range, g, offset, &fz->mops);
	else
		want = rm_unmap(&fz->model, addr, range, &fz->mops);
	CHECK(fz, want == 0 || want == -EINVAL, "the model failed: %d", want);
	a.want = &fz->mops;

	if (want) {
		/* refused: nothing delivered, nothing allocated */
		size_t live = v->ta.live;

		if (cb) {
			rc = kind == R_UNMAP ? gpuvm_sm_unmap(vm, &a, addr, range)
					     : gpuvm_sm_map(vm, &a, &req);
			CHECK(fz, a.n == 0, "a refused request delivered %zu ops", a.n);
		} else if (!section) {
			rc = kind == R_MAP	   ? gpuvm_sm_map_ops_create(vm, &req, &ops)
			     : kind == R_MADVISE ? gpuvm_madvise_ops_create(vm, &req, &ops)
						 : gpuvm_sm_unmap_ops_create(vm, addr, range, &ops);
		} else {
			rc = -EINVAL;
		}
		CHECK_RC(fz, rc, -EINVAL, "a request the model refuses");
		CHECK(fz, v->ta.live == live, "a refused request left allocations");
		goto out;
	}

	/* the request's object: a vm_bo held before anything is delivered */
	if (kind != R_UNMAP && g >= 0 && !section) {
		if (!obtain_ref(fz, v, g))
			goto out;
		held_ref = true;
	}
	if (cb) {
		/* in a section: the path that signals fences, unlinks deferred */
		if (section)
			v->sect_used = true;
		rc = kind == R_UNMAP ? gpuvm_sm_unmap(vm, &a, addr, range)
				     : gpuvm_sm_map(vm, &a, &req);
		CHECK_RC(fz, rc, a.err, "callback mode (the callback's own result)");
		if (!a.err)
			CHECK(fz, a.n == fz->mops.n, "callback mode delivered %zu ops, the model %zu",
			      a.n, fz->mops.n);
		else if (a.err == -EIO)
			CHECK(fz, a.n == fail_at, "the walk went on after a failed callback");
	} else {
		call_begin(fz, v, &c);
		rc = kind == R_MAP	   ? gpuvm_sm_map_ops_create(vm, &req, &ops)
		     : kind == R_MADVISE ? gpuvm_madvise_ops_create(vm, &req, &ops)
					 : gpuvm_sm_unmap_ops_create(vm, addr, range, &ops);
		if (!call_nomem(fz, &c, rc)) {
			struct gpuva_op *op;

			CHECK_RC(fz, rc, 0, "*_ops_create");
			compare_list(fz, v, ops, &fz->mops);
			a.list = true;
			gpuva_for_each_op(op, ops) {
				rc = apply_op(&a, op);
				CHECK_RC(fz, rc, 0, "applying a list op");
			}
			gpuva_ops_free(vm, ops);
			free_dead(fz);
		}
	}
	if (held_ref)
		put_listed(fz, v, g);
out:
	rm_vm_fini(&fz->model);
}

/* ------------------------------------------------------------------ ops */

static struct vslot *slot_arg(struct fz *fz)
{
	return &fz->v[in_u8(fz) % FZ_NVM];
}

static void op_vm_new(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t cfg = in_u8(fz);
	const struct geo *geo = &geos[in_u8(fz) % NGEO];
	unsigned int bad = in_u8(fz) % 16;
	int robj = (cfg >> FZ_CFG_ROBJ_SHIFT) & 7;
	struct {
		struct gpuvm_init_opts o;
		uint64_t tail;
	} big;
	struct {
		struct gpuvm_ops o;
		uint64_t tail;
	} bigops;
	struct gpuvm_allocator half;
	struct hvm *h;
	bool expect_ok;
	int rc;

	if (v->state != V_EMPTY || fz->signalling)
		return;
	h = malloc(sizeof(*h));
	FZ_CHECK(h, "out of memory");
	memset(h, 0x6b, sizeof(*h));
	test_alloc_init(&v->ta);
	v->cfg = cfg;
	v->g = geo;
	v->immediate = cfg & FZ_CFG_IMMEDIATE;
	v->prot = cfg & FZ_CFG_PROTECTED;
	v->r_gem = robj < FZ_NGEM ? robj : -1;
	fill_ops(v);

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big.o);
	big.o.name = "fuzz";
	big.o.flags = (v->immediate ? GPUVM_IMMEDIATE_MODE : 0) |
		      (v->prot ? GPUVM_RESV_PROTECTED : 0);
	big.o.start = geo->start;
	big.o.range = geo->range;
	big.o.reserve_addr = geo->raddr;
	big.o.reserve_range = geo->rrange;
	big.o.ops = &v->ops;
	big.o.alloc = test_alloc_hooks(&v->ta);
	big.o.r_obj = gem_of(fz, v->r_gem);
	bigops.o = v->ops;
	bigops.tail = 0;
	expect_ok = !v->prot || vm_resv(fz, v) >= 0;
	switch (bad) {
	case 9:
		big.o.flags |= 1u << 5;
		break;
	case 10:
		big.o.sz = sizeof(big.o) - 1;
		break;
	case 11:
		big.o.sz = sizeof(big);
		big.tail = 1;
		break;
	case 12:
		big.o.start = UINT64_MAX - geo->range + 1 + (geo->range == 0);
		big.o.range = geo->range ? geo->range : UINT64_MAX;
		break;
	case 13:
		big.o.reserve_addr = UINT64_MAX;
		big.o.reserve_range = 1;
		break;
	case 14:
		half = *test_alloc_hooks(&v->ta);
		half.free = NULL;
		big.o.alloc = &half;
		break;
	case 15:
		bigops.o.op_free = NULL;
		bigops.o.op_alloc = c_op_alloc;
		big.o.ops = &bigops.o;
		break;
	default:
		/* a larger ops table with a zero tail is fine */
		if (bad == 8) {
			bigops.o.sz = sizeof(bigops);
			big.o.ops = &bigops.o;
		}
		break;
	}
	if (bad >= 9)
		expect_ok = false;
	rc = gpuvm_init(&h->vm, &big.o);
	if (!expect_ok) {
		const unsigned char *pb = (const unsigned char *)h;

		CHECK_RC(fz, rc, -EINVAL, "gpuvm_init with invalid options");
		for (size_t i = 0; i < sizeof(*h); i++)
			CHECK(fz, pb[i] == 0x6b, "a refused gpuvm_init wrote to the VM");
		free(h);
		return;
	}
	CHECK_RC(fz, rc, 0, "gpuvm_init");
	if (bad == 8)
		h->vm.ops = &v->ops; /* the big table lives on this stack */
	h->fz = fz;
	h->slot = (int)(v - fz->v);
	v->h = h;
	v->state = V_LIVE;
	v->freed = false;
	CHECK(fz, h->vm.refcount == 1, "a new VM has refcount %u", h->vm.refcount);
}

static bool busy_for_fini(struct vslot *v)
{
	struct gpuvm *vm = vm_of(v);

	return vm->index.count || v->zombies || !gpuvm_list_empty(&vm->extobj.list) ||
	       !gpuvm_list_empty(&vm->evict.list);
}

static void op_vm_put(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t mode = in_u8(fz);
	int rc;

	if (v->state != V_LIVE || fz->signalling)
		return;
	if ((mode & 1) && busy_for_fini(v)) {
		rc = gpuvm_fini(vm_of(v));
		CHECK_RC(fz, rc, -EBUSY, "gpuvm_fini of a VM in use");
	}
	if (vm_of(v)->index.count || v->exec_state || v->reserved)
		return;
	v->state = V_ORPHAN;
	gpuvm_put(vm_of(v));
}

/* A gem argument that may be "no object": 0-5 the gems, 6 none. */
static int gem_or_none(struct fz *fz)
{
	int g = in_u8(fz) % (FZ_NGEM + 1);

	return g == FZ_NGEM ? -1 : g;
}

/* A mapping slot argument: the mapping in it, or NULL. */
static struct hva *mapping_arg(struct fz *fz, struct vslot *v, int *idx)
{
	int i = in_u8(fz) % FZ_MAXVA;

	if (idx)
		*idx = i;
	return v->va[i];
}

static bool overlaps_any(const struct vslot *v, uint64_t addr, uint64_t range)
{
	for (int i = 0; i < FZ_MAXVA; i++) {
		const struct hva *h = v->va[i];

		if (h && h->inserted && h->addr < addr + range && addr < h->addr + h->range)
			return true;
	}
	return false;
}

static bool range_ok(const struct vslot *v, uint64_t addr, uint64_t range)
{
	const struct geo *g = v->g;

	if (!range || range > UINT64_MAX - addr)
		return false;
	if (addr < g->start || addr + range > g->start + g->range)
		return false;
	return !(g->rrange && addr < g->raddr + g->rrange && g->raddr < addr + range);
}

/* gpuva_insert of @h (new, or inserted again): the result the rules give. */
static int insert_hva(struct fz *fz, struct vslot *v, struct hva *h, bool fresh)
{
	struct call c;
	int want, rc;

	if (h->inserted)
		want = -EBUSY;
	else if (!range_ok(v, h->addr, h->range))
		want = -EINVAL;
	else if (overlaps_any(v, h->addr, h->range))
		want = -EEXIST;
	else
		want = 0;
	CHECK(fz, gpuvm_range_valid(vm_of(v), h->addr, h->range) == range_ok(v, h->addr, h->range),
	      "gpuvm_range_valid disagrees with the VA space rules");
	call_begin(fz, v, &c);
	rc = gpuva_insert(vm_of(v), &h->va);
	if (!call_nomem(fz, &c, rc))
		CHECK_RC(fz, rc, want, "gpuva_insert");
	if (rc == 0)
		h->inserted = true;
	else if (fresh)
		hva_release(fz, v, h);
	return rc;
}

/* A new mapping in a free slot, initialized but not inserted. */
static struct hva *init_hva(struct fz *fz, struct vslot *v, uint64_t addr, uint64_t range, int g,
			    uint64_t offset)
{
	struct hva *h = new_hva(v);

	h->addr = addr;
	h->range = range;
	h->gem = g;
	h->offset = offset;
	gpuva_init(&h->va, addr, range, gem_of(fz, g), offset);
	return h;
}

static void op_insert(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	struct hva *h = v->state == V_LIVE ? mapping_arg(fz, v, NULL) : NULL;
	uint8_t ab = in_u8(fz), rb = in_u8(fz), gb = in_u8(fz), ob = in_u8(fz);

	if (v->state != V_LIVE || fz->signalling)
		return;
	if (!h) {
		uint64_t addr = dec_addr(v, ab), range = dec_range(v, addr, rb);
		int g = gb % (FZ_NGEM + 1) == FZ_NGEM ? -1 : gb % (FZ_NGEM + 1);

		insert_hva(fz, v, init_hva(fz, v, addr, range, g, dec_offset(v, g, range, ob)),
			   true);
		return;
	}
	insert_hva(fz, v, h, false);
}

/*
 * Up to n one-unit sparse mappings side by side from a: enough mappings to
 * split index leaves (and merge them again when they go).
 */
static void op_fill(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t ab = in_u8(fz);
	unsigned int n = in_u8(fz) % 64 + 1;
	uint64_t addr;

	if (v->state != V_LIVE || fz->signalling)
		return;
	addr = dec_addr(v, ab);
	for (unsigned int i = 0; i < n && free_va_slots(v) > 3; i++) {
		struct hva *h = init_hva(fz, v, addr, v->g->unit, -1, 0);

		if (insert_hva(fz, v, h, true))
			break;
		addr += v->g->unit;
	}
}

static void op_remove(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	struct hva *h = v->state != V_EMPTY ? mapping_arg(fz, v, NULL) : NULL;
	int rc;

	if (!h)
		return;
	rc = gpuva_remove(&h->va);
	CHECK_RC(fz, rc, h->inserted ? 0 : -ENOENT, "gpuva_remove");
	h->inserted = false;
	hva_release(fz, v, h);
}

static void op_link(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	struct hva *h = v->state != V_EMPTY ? mapping_arg(fz, v, NULL) : NULL;
	uint8_t which = in_u8(fz);
	struct hbo *b = NULL;
	struct vslot *bv = v;
	int bg, want, rc;
	bool took;

	if (!h)
		return;
	bg = h->gem < 0 ? (int)(which % FZ_NGEM) : h->gem;
	switch (which % 4) {
	case 2:
		bg = (bg + 1 + which / 4 % (FZ_NGEM - 1)) % FZ_NGEM;
		break;
	case 3:
		bv = &fz->v[(v - fz->v + 1 + which / 4 % (FZ_NVM - 1)) % FZ_NVM];
		break;
	default:
		break;
	}
	if (bv->state == V_EMPTY || !bv->bo[bg].p)
		return;
	b = &bv->bo[bg];
	if (h->link)
		want = -EBUSY;
	else if (h->gem < 0 || bg != h->gem || bv != v || !h->inserted)
		want = -EINVAL;
	else
		want = 0;
	took = bv->immediate && take_gpuva(fz, bg);
	rc = gpuva_link(&h->va, b->p);
	drop_gpuva(fz, bg, took);
	CHECK_RC(fz, rc, want, "gpuva_link");
	if (!rc)
		sh_link(b, h);
}

static void op_unlink(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	struct hva *h = v->state != V_EMPTY ? mapping_arg(fz, v, NULL) : NULL;
	bool defer = in_u8(fz) & 1;
	int rc;

	if (!h)
		return;
	if (!h->link) {
		rc = defer ? gpuva_unlink_defer(&h->va) : gpuva_unlink(&h->va);
		CHECK_RC(fz, rc, -ENOENT, "unlinking a mapping that is not linked");
		return;
	}
	if (defer && !v->immediate) {
		if (!DEBUG_BUILD) {
			rc = gpuva_unlink_defer(&h->va);
			CHECK_RC(fz, rc, -EOPNOTSUPP, "gpuva_unlink_defer outside immediate mode");
		}
		return;
	}
	if (!defer && fz->signalling)
		return;
	unlink_hva(fz, v, h, defer);
}

static void op_obtain(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	int g = in_u8(fz) % FZ_NGEM;
	unsigned int mode = in_u8(fz) % 6;
	struct hbo *b = &v->bo[g];
	struct gpuvm_bo *p = NULL;
	struct call c;
	bool took;
	int rc;

	if (v->state != V_LIVE)
		return;
	if (fz->signalling && mode != 3 && mode != 5)
		return;
	switch (mode) {
	case 0: /* obtain */
		if (v->immediate && fz->glock[g]) {
			rc = gpuvm_bo_obtain(vm_of(v), gem_of(fz, g), &p);
			CHECK_RC(fz, rc, -EDEADLK, "gpuvm_bo_obtain under the gpuva lock");
			return;
		}
		obtain_ref(fz, v, g);
		return;
	case 1: /* obtain_locked */
		if (v->immediate) {
			if (!DEBUG_BUILD) {
				rc = gpuvm_bo_obtain_locked(vm_of(v), gem_of(fz, g), &p);
				CHECK_RC(fz, rc, -EOPNOTSUPP, "gpuvm_bo_obtain_locked in immediate mode");
			}
			return;
		}
		call_begin(fz, v, &c);
		rc = gpuvm_bo_obtain_locked(vm_of(v), gem_of(fz, g), &p);
		if (call_nomem(fz, &c, rc))
			return;
		CHECK_RC(fz, rc, 0, "gpuvm_bo_obtain_locked");
		CHECK(fz, !b->p || b->p == p, "a second vm_bo for a pair");
		if (!b->p) {
			b->p = p;
			b->seq = ++fz->seq;
		}
		b->hrefs++;
		return;
	case 2: /* create + obtain_prealloc */
	case 4: /* create only */
		if (!v->pre[g]) {
			call_begin(fz, v, &c);
			rc = gpuvm_bo_create(vm_of(v), gem_of(fz, g), &p);
			if (call_nomem(fz, &c, rc))
				return;
			CHECK_RC(fz, rc, 0, "gpuvm_bo_create");
			CHECK(fz, p->refcount == 1 && !gpuvm_list_linked(&p->list.entry.gem),
			      "a created vm_bo is not alone");
			v->pre[g] = p;
		}
		if (mode == 4)
			return;
		if (!v->immediate) {
			if (!DEBUG_BUILD) {
				rc = gpuvm_bo_obtain_prealloc(v->pre[g], &p);
				CHECK_RC(fz, rc, -EOPNOTSUPP, "gpuvm_bo_obtain_prealloc outside immediate mode");
			}
			return;
		}
		rc = gpuvm_bo_obtain_prealloc(v->pre[g], &p);
		if (fz->glock[g]) {
			CHECK_RC(fz, rc, -EDEADLK, "gpuvm_bo_obtain_prealloc under the gpuva lock");
			return;
		}
		CHECK_RC(fz, rc, 0, "gpuvm_bo_obtain_prealloc");
		if (b->p) {
			CHECK(fz, p == b->p, "obtain_prealloc did not return the existing vm_bo");
		} else {
			CHECK(fz, p == v->pre[g], "obtain_prealloc did not use the preallocated vm_bo");
			b->p = p;
			b->seq = ++fz->seq;
		}
		v->pre[g] = NULL;
		b->hrefs++;
		return;
	case 3: /* find */
		took = v->immediate && take_gpuva(fz, g);
		p = gpuvm_bo_find(vm_of(v), gem_of(fz, g));
		drop_gpuva(fz, g, took);
		CHECK(fz, p == b->p, "gpuvm_bo_find found %p, expected %p", (void *)p, (void *)b->p);
		if (p)
			b->hrefs++;
		return;
	default: /* get */
		if (!b->p)
			return;
		took = !b->hrefs && v->immediate && take_gpuva(fz, g);
		p = gpuvm_bo_get(b->p);
		drop_gpuva(fz, g, took);
		CHECK(fz, p == b->p, "gpuvm_bo_get returned another vm_bo");
		b->hrefs++;
		return;
	}
}

static void op_bo_put(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	int g = in_u8(fz) % FZ_NGEM;
	unsigned int mode = in_u8(fz) % 3;
	struct hbo *b = &v->bo[g];
	int rc;

	if (v->state == V_EMPTY)
		return;
	if (mode == 2) {
		/* the preallocated vm_bo: on no list, one reference */
		if (!v->pre[g] || fz->signalling)
			return;
		CHECK(fz, gpuvm_bo_put(v->pre[g]), "the last put of a preallocated vm_bo kept it");
		v->pre[g] = NULL;
		return;
	}
	if (!b->p || !b->hrefs)
		return;
	if (mode == 0) {
		if (fz->signalling)
			return;
		put_listed(fz, v, g);
		return;
	}
	if (!v->immediate) {
		if (!DEBUG_BUILD) {
			rc = gpuvm_bo_put_deferred(b->p);
			CHECK_RC(fz, rc, -EOPNOTSUPP, "gpuvm_bo_put_deferred outside immediate mode");
		}
		return;
	}
	bool last = b->hrefs == 1 && b->nlinks == 0;

	rc = gpuvm_bo_put_deferred(b->p);
	if (last && fz->glock[g]) {
		CHECK_RC(fz, rc, -EDEADLK, "the last gpuvm_bo_put_deferred under the gpuva lock");
		return;
	}
	CHECK_RC(fz, rc, last ? 1 : 0, "gpuvm_bo_put_deferred");
	b->hrefs--;
	if (last)
		sh_bo_gone(v, g, true);
}


static void op_map(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t ab = in_u8(fz), rb = in_u8(fz);
	int g = gem_or_none(fz);
	uint8_t ob = in_u8(fz), mode = in_u8(fz);
	uint64_t addr, range;

	if (v->state != V_LIVE || any_glock(fz))
		return;
	addr = dec_addr(v, ab);
	range = dec_range(v, addr, rb);
	request(fz, v, (mode & 2) ? R_MADVISE : R_MAP, addr, range, g,
		dec_offset(v, g, range, ob), mode & 1, (mode >> 2) & 3);
}

static void op_unmap(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t ab = in_u8(fz), rb = in_u8(fz), mode = in_u8(fz);
	uint64_t addr;

	if (v->state != V_LIVE || any_glock(fz))
		return;
	addr = dec_addr(v, ab);
	request(fz, v, R_UNMAP, addr, dec_range(v, addr, rb), -1, 0, mode & 1, (mode >> 2) & 3);
}

static void op_prefetch(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t ab = in_u8(fz), rb = in_u8(fz);
	struct gpuva_ops *ops = NULL;
	uint64_t addr, range;
	struct call c;
	int want, rc;

	if (v->state != V_LIVE || fz->signalling)
		return;
	addr = dec_addr(v, ab);
	range = dec_range(v, addr, rb);
	build_model(fz, v);
	want = rm_prefetch(&fz->model, addr, range, &fz->mops);
	call_begin(fz, v, &c);
	rc = gpuvm_prefetch_ops_create(vm_of(v), addr, range, &ops);
	if (!call_nomem(fz, &c, rc)) {
		CHECK_RC(fz, rc, want, "gpuvm_prefetch_ops_create");
		if (!rc) {
			compare_list(fz, v, ops, &fz->mops);
			gpuva_ops_free(vm_of(v), ops);
		}
	}
	rm_vm_fini(&fz->model);
}

static void op_bo_unmap(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	int g = in_u8(fz) % FZ_NGEM;
	struct hbo *b = &v->bo[g];
	struct gpuva_ops *ops = NULL;
	struct gpuva_op *op;
	struct apply a = { .fz = fz, .v = v, .defer = v->immediate, .list = true };
	struct call c;
	unsigned int i = 0;
	bool took;
	int rc;

	if (v->state != V_LIVE || fz->signalling || any_glock(fz) || !b->p)
		return;
	/* hold a reference: the last unlink must not free the vm_bo under the list */
	took = !b->hrefs && v->immediate && take_gpuva(fz, g);
	CHECK(fz, gpuvm_bo_get(b->p) == b->p, "gpuvm_bo_get");
	drop_gpuva(fz, g, took);
	b->hrefs++;
	call_begin(fz, v, &c);
	rc = gpuvm_bo_unmap_ops_create(b->p, &ops);
	if (!call_nomem(fz, &c, rc)) {
		CHECK_RC(fz, rc, 0, "gpuvm_bo_unmap_ops_create");
		CHECK(fz, ops->count == b->nlinks, "%zu unmap ops for %u links", ops->count,
		      b->nlinks);
		gpuva_for_each_op(op, ops) {
			struct hva *h = hva_of(op->unmap.va);

			CHECK(fz, op->op == GPUVA_OP_UNMAP && !op->unmap.keep && i < b->nlinks &&
					  h == b->links[i],
			      "unmap-bo op %u is not the vm_bo's link %u", i, i);
			i++;
		}
		/* a removed but linked mapping is listed too; gpuva_unmap refuses it */
		gpuva_for_each_op(op, ops) {
			struct hva *h = hva_of(op->unmap.va);

			rc = gpuva_unmap(&op->unmap);
			CHECK_RC(fz, rc, h->inserted ? 0 : -ENOENT, "gpuva_unmap");
			h->inserted = false;
			h->dead = true;
			if (h->link)
				unlink_hva(fz, v, h, a.defer);
		}
		gpuva_ops_free(vm_of(v), ops);
		free_dead(fz);
	}
	put_listed(fz, v, g);
}

static void op_cleanup(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	int rc;

	if (v->state == V_EMPTY || fz->signalling || any_glock(fz))
		return;
	if (!v->immediate) {
		if (!DEBUG_BUILD) {
			rc = gpuvm_bo_deferred_cleanup(vm_of(v));
			CHECK_RC(fz, rc, -EOPNOTSUPP, "gpuvm_bo_deferred_cleanup outside immediate mode");
		}
		return;
	}
	/* the VM may go with its last zombie: keep nothing of it */
	rc = gpuvm_bo_deferred_cleanup(vm_of(v));
	CHECK_RC(fz, rc, (int)v->zombies, "gpuvm_bo_deferred_cleanup");
	v->zombies = 0;
	memset(v->zgem, 0, sizeof(v->zgem));
}

static void op_extobj(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	int g = in_u8(fz) % FZ_NGEM;
	struct hbo *b = &v->bo[g];
	int rc, want;

	if (v->state == V_EMPTY || !b->p)
		return;
	want = v->prot && !resv_ours(fz, vm_resv(fz, v)) ? -EPERM : 0;
	rc = gpuvm_bo_extobj_add(b->p);
	CHECK_RC(fz, rc, want, "gpuvm_bo_extobj_add");
	if (!rc && is_ext(fz, v, g))
		b->on_extobj = true;
}

/* The shadow of gpuvm_bo_evict() on a vm_bo whose object's reservation is held. */
static void sh_evict(struct fz *fz, struct vslot *v, int g, bool e)
{
	struct hbo *b = &v->bo[g];

	b->evicted = e;
	if (v->prot && is_ext(fz, v, g))
		return;
	b->on_evict = e;
}

static void op_evict(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	int g = in_u8(fz) % FZ_NGEM;
	bool e = in_u8(fz) & 1;
	struct hbo *b = &v->bo[g];
	int rc, r = fz->gem_resv[g];

	if (v->state == V_EMPTY || !b->p)
		return;
	rc = gpuvm_bo_evict(b->p, e);
	CHECK_RC(fz, rc, r >= 0 && !resv_ours(fz, r) ? -EPERM : 0, "gpuvm_bo_evict");
	if (!rc)
		sh_evict(fz, v, g, e);
}

static void op_gem_evict(struct fz *fz)
{
	int g = in_u8(fz) % FZ_NGEM;
	bool e = in_u8(fz) & 1;
	int rc, r = fz->gem_resv[g];

	rc = gpuvm_bo_gem_evict(gem_of(fz, g), e);
	CHECK_RC(fz, rc, r >= 0 && !resv_ours(fz, r) ? -EPERM : 0, "gpuvm_bo_gem_evict");
	if (rc)
		return;
	for (int s = 0; s < FZ_NVM; s++)
		if (fz->v[s].state != V_EMPTY && fz->v[s].bo[g].p)
			sh_evict(fz, &fz->v[s], g, e);
}

struct valctx {
	struct fz *fz;
	struct vslot *v;
	uint8_t mode;
	unsigned int calls;
	bool called[FZ_NGEM];
};

static int validate_cb(struct gpuvm_bo *vm_bo, void *priv)
{
	struct valctx *vc = priv;
	struct fz *fz = vc->fz;
	int g = gem_idx(fz, vm_bo->obj);
	struct hbo *b;
	int rc, r;

	CHECK(fz, g >= 0 && vm_bo->vm == vm_of(vc->v), "vm_bo_validate got a foreign vm_bo");
	b = &vc->v->bo[g];
	CHECK(fz, b->p == vm_bo, "vm_bo_validate got a vm_bo the shadow does not list");
	CHECK(fz, !vc->called[g], "vm_bo_validate called twice for one vm_bo");
	CHECK(fz, b->on_evict && b->evicted, "vm_bo_validate got a vm_bo that is not evicted");
	vc->called[g] = true;
	if (++vc->calls == (unsigned int)(vc->mode >> 4))
		return -EIO;
	if (vc->mode & 1) {
		r = fz->gem_resv[g];
		rc = gpuvm_bo_evict(vm_bo, false);
		CHECK_RC(fz, rc, r >= 0 && !resv_ours(fz, r) ? -EPERM : 0,
			 "gpuvm_bo_evict from vm_bo_validate");
		if (!rc)
			b->evicted = false;
	}
	return 0;
}

static void op_validate(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	struct valctx vc = { .fz = fz, .v = v, .mode = in_u8(fz) };
	int rc, want;

	if (v->state != V_LIVE || fz->signalling || any_glock(fz))
		return;
	if (!(v->cfg & FZ_CFG_VALIDATE))
		want = -EOPNOTSUPP;
	else if (v->prot && !resv_ours(fz, vm_resv(fz, v)))
		want = -EPERM;
	else
		want = 0;
	rc = gpuvm_validate(vm_of(v), &vc);
	if (want || rc != -EIO)
		CHECK_RC(fz, rc, want, "gpuvm_validate");
	else
		CHECK(fz, vc.calls == (unsigned int)(vc.mode >> 4), "-EIO from another call");
	if (want)
		return;
	for (int g = 0; g < FZ_NGEM; g++) {
		struct hbo *b = &v->bo[g];

		if (!b->p || !b->on_evict)
			continue;
		if (!rc)
			CHECK(fz, vc.called[g] || !b->evicted, "an evicted vm_bo was not validated");
		if (vc.called[g] && !b->evicted) {
			b->on_evict = false;
		} else if (!b->evicted) {
			/* visited without a call (flag cleared since): dropped; or not visited */
			if (!rc)
				b->on_evict = false;
			else
				b->on_evict = gpuvm_list_linked(&b->p->list.entry.evict);
		}
	}
}

static void op_resv(struct fz *fz)
{
	int r = in_u8(fz) % FZ_NRESV;
	unsigned int action = in_u8(fz) % 3;
	int rc;

	switch (action) {
	case 0:
		if (fz->signalling)
			return;
		rc = gpuvm_resv_lock(&fz->resv[r]);
		CHECK_RC(fz, rc, resv_ours(fz, r) ? -EDEADLK : 0, "gpuvm_resv_lock");
		break;
	case 1:
		rc = gpuvm_resv_trylock(&fz->resv[r]);
		CHECK_RC(fz, rc, resv_ours(fz, r) ? -EDEADLK : 0, "gpuvm_resv_trylock");
		break;
	default:
		if (fz->exec_held[r])
			return; /* an exec's: unlocking it behind its back is the caller's bug */
		rc = gpuvm_resv_unlock(&fz->resv[r]);
		CHECK_RC(fz, rc, fz->held[r] ? 0 : -EPERM, "gpuvm_resv_unlock");
		if (!rc)
			fz->held[r] = false;
		return;
	}
	if (!rc)
		fz->held[r] = true;
}

static void op_gpuva_lock(struct fz *fz)
{
	int g = in_u8(fz) % FZ_NGEM;
	bool unlock = in_u8(fz) & 1;
	int rc;

	if (unlock) {
		rc = gpuvm_gem_gpuva_unlock(gem_of(fz, g));
		CHECK_RC(fz, rc, fz->glock[g] ? 0 : -EPERM, "gpuvm_gem_gpuva_unlock");
		fz->glock[g] = false;
	} else {
		rc = gpuvm_gem_gpuva_lock(gem_of(fz, g));
		CHECK_RC(fz, rc, fz->glock[g] ? -EDEADLK : 0, "gpuvm_gem_gpuva_lock");
		fz->glock[g] = true;
	}
}

/* ---------------------------------------------------------------- exec */

/* What the extra callback of a gpuvm_exec adds (chosen per EXEC op). */
struct execctx {
	struct fz *fz;
	int what; /* 0 lock_obj(gem), 1 prepare_objects, 2 prepare_range, 3 prepare_sm_map */
	int gem;
	uint64_t addr, range;
	int calls;
};

static int exec_extra(struct gpuvm_exec *exec, void *priv)
{
	struct execctx *x = priv;

	x->calls++;
	switch (x->what) {
	case 0:
		return gpuvm_exec_lock_obj(exec, gem_of(x->fz, x->gem));
	case 1:
		return gpuvm_prepare_objects(exec);
	case 2:
		return gpuvm_prepare_range(exec, x->addr, x->range);
	default: {
		GPUVM_OPTS(gpuvm_map_req, req,
			   .map = { .va = { .addr = x->addr, .range = x->range } });

		return gpuvm_prepare_sm_map(exec, &req);
	}
	}
}

static void want_resv(struct fz *fz, bool *set, int g)
{
	if (g >= 0 && fz->gem_resv[g] >= 0)
		set[fz->gem_resv[g]] = true;
}

static void op_exec(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t kind = in_u8(fz), ab = in_u8(fz), rb = in_u8(fz);
	int g = gem_or_none(fz);
	uint8_t ob = in_u8(fz), xb = in_u8(fz);
	struct execctx x = { .fz = fz, .what = (xb >> 4) & 3, .gem = xb % FZ_NGEM };
	bool set[FZ_NRESV] = { false }, einval = false, extobjs = false, extra_einval = false;
	struct gpuvm_gem *objs[FZ_NGEM + 1];
	unsigned int nobjs = 0, nset = 0;
	uint64_t addr, range, offset;
	struct gpuvm_exec *exec = &v->exec;
	struct call c;
	int want = 0, rc;

	if (v->state != V_LIVE || fz->signalling || any_glock(fz) || v->exec_state == 2)
		return;
	addr = dec_addr(v, ab);
	range = dec_range(v, addr, rb);
	offset = dec_offset(v, g, range, ob);
	/* the extra callback's range: a few units from the request's start */
	x.addr = addr;
	x.range = (uint64_t)(xb % 8 + 1) * v->g->unit;
	if (!v->exec_state) {
		GPUVM_OPTS(gpuvm_exec_opts, eo, .vm = vm_of(v),
			   .flags = (kind & 4) ? GPUVM_EXEC_TRYLOCK : 0,
			   .extra = (kind & 8) ? exec_extra : NULL, .priv = &x);

		if (kind & 0x80) {
			/* an unknown flag: refused, the struct left alone */
			eo.flags |= 1u << 7;
			memset(exec, 0x3c, sizeof(*exec));
			rc = gpuvm_exec_init(exec, &eo);
			CHECK_RC(fz, rc, -EINVAL, "gpuvm_exec_init with an unknown flag");
			for (size_t i = 0; i < sizeof(*exec); i++)
				CHECK(fz, ((const unsigned char *)exec)[i] == 0x3c,
				      "a refused gpuvm_exec_init wrote to the exec");
			return;
		}
		rc = gpuvm_exec_init(exec, &eo);
		CHECK_RC(fz, rc, 0, "gpuvm_exec_init");
		v->exec_state = 1;
		v->exec_extra = kind & 8;
	}
	/* the extra callback's context lives here; the exec keeps the pointer */
	exec->priv = &x;

	want_resv(fz, set, v->r_gem);
	switch (kind & 3) {
	case 0:
		extobjs = true;
		break;
	case 1:
		extobjs = true;
		for (int i = 0; i < FZ_NGEM; i++)
			if (ab & (1u << i))
				objs[nobjs++] = gem_of(fz, i);
		if (rb & 1)
			objs[nobjs++] = NULL; /* refused before anything is locked */
		for (unsigned int i = 0; i < nobjs; i++) {
			if (!objs[i])
				einval = true;
			else
				want_resv(fz, set, gem_idx(fz, objs[i]));
		}
		break;
	default:
		if ((kind & 3) == 3 && g >= 0 &&
		    (range > UINT64_MAX - offset || offset + range > gem_size[g]))
			einval = true;
		if (!range_ok(v, addr, range))
			einval = true;
		if ((kind & 3) == 3)
			want_resv(fz, set, g);
		for (int i = 0; i < FZ_MAXVA; i++) {
			struct hva *h = v->va[i];

			if (h && h->inserted && h->addr < addr + range && addr < h->addr + h->range)
				want_resv(fz, set, h->gem);
		}
		break;
	}
	if (extobjs)
		for (int i = 0; i < FZ_NGEM; i++)
			if (v->bo[i].p && v->bo[i].on_extobj)
				want_resv(fz, set, i);
	if (v->exec_extra) {
		bool ok = range_ok(v, x.addr, x.range);

		switch (x.what) {
		case 0:
			want_resv(fz, set, x.gem);
			break;
		case 1:
			for (int i = 0; i < FZ_NGEM; i++)
				if (v->bo[i].p && v->bo[i].on_extobj)
					want_resv(fz, set, i);
			break;
		default:
			/* sparse map request: the objects it unmaps, as a range */
			for (int i = 0; ok && i < FZ_MAXVA; i++) {
				struct hva *h = v->va[i];

				if (h && h->inserted && h->addr < x.addr + x.range &&
				    x.addr < h->addr + h->range)
					want_resv(fz, set, h->gem);
			}
			if (!ok)
				extra_einval = true;
			break;
		}
	}
	for (int r = 0; r < FZ_NRESV; r++) {
		nset += set[r];
		if (set[r] && resv_ours(fz, r))
			want = -EALREADY;
	}
	/* the extra callback runs last: its own refusal only when the rest locks */
	if (!want && extra_einval)
		want = -EINVAL;
	if (einval)
		want = -EINVAL;

	call_begin(fz, v, &c);
	switch (kind & 3) {
	case 0:
		rc = gpuvm_exec_lock(exec);
		break;
	case 1:
		rc = gpuvm_exec_lock_array(exec, objs, nobjs);
		break;
	case 2:
		rc = gpuvm_exec_lock_range(exec, addr, range);
		break;
	default: {
		GPUVM_OPTS(gpuvm_map_req, req,
			   .map = { .va = { .addr = addr, .range = range },
				    .gem = { .offset = offset, .obj = gem_of(fz, g) } });

		rc = gpuvm_sm_map_exec_lock(exec, &req);
		break;
	}
	}
	exec->priv = NULL;
	if (rc == -ENOMEM && !einval) {
		/*
		 * The set could not grow (before any later refusal, such as the
		 * extra callback's): nothing held, nothing referenced.
		 */
		CHECK(fz, v->ta.injected > c.injected, "-ENOMEM without an allocation failure");
		free(c.before);
		CHECK(fz, exec->num_objects == 0, "a failed lock holds %u objects", exec->num_objects);
	} else {
		free(c.before);
		CHECK_RC(fz, rc, want, "gpuvm_exec locking");
	}
	/* a failed locking call leaves the extobj and evict lists as they were */
	if (rc)
		return;
	/*
	 * RESV_PROTECTED: once every external object is locked, the flagged
	 * ones go on the evict list (their eviction could only be flagged).
	 */
	if (v->prot && (extobjs || (v->exec_extra && x.what == 1)))
		for (int i = 0; i < FZ_NGEM; i++)
			if (v->bo[i].p && v->bo[i].on_extobj && v->bo[i].evicted)
				v->bo[i].on_evict = true;
	CHECK(fz, exec->num_objects == nset, "the exec locked %u objects, expected %u",
	      exec->num_objects, nset);
	for (unsigned int i = 0; i < exec->num_objects; i++) {
		int og = gem_idx(fz, exec->objects[i]);
		int r = og >= 0 ? fz->gem_resv[og] : -1;

		CHECK(fz, r >= 0 && set[r] && !v->exec_resv[r],
		      "the exec locked object %u, whose reservation was not expected once", i);
		v->exec_resv[r] = true;
		fz->exec_held[r]++;
		v->exec_gref[og]++;
	}
	v->exec_state = 2;
}

static void exec_release(struct fz *fz, struct vslot *v)
{
	gpuvm_exec_unlock(&v->exec);
	for (int r = 0; r < FZ_NRESV; r++) {
		if (v->exec_resv[r]) {
			fz->exec_held[r]--;
			v->exec_resv[r] = false;
		}
	}
	memset(v->exec_gref, 0, sizeof(v->exec_gref));
	CHECK(fz, v->exec.num_objects == 0, "gpuvm_exec_unlock left %u objects",
	      v->exec.num_objects);
	v->exec_state = 1;
}

static void op_exec_end(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t mode = in_u8(fz);
	int rc;

	if (v->state != V_LIVE || fz->signalling || !v->exec_state)
		return;
	if (v->exec_state == 2) {
		if (mode & 1) {
			rc = gpuvm_exec_fini(&v->exec);
			CHECK_RC(fz, rc, -EBUSY, "gpuvm_exec_fini of a locked exec");
		}
		exec_release(fz, v);
	}
	rc = gpuvm_exec_fini(&v->exec);
	CHECK_RC(fz, rc, 0, "gpuvm_exec_fini");
	v->exec_state = 0;
}

/* ---------------------------------------------------- the rest of the ops */

static void op_fail(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t n = in_u8(fz);

	if (v->state == V_EMPTY || fz->signalling)
		return;
	test_alloc_fail_at(&v->ta, n % 8 + 1);
}

static void signal_end(struct fz *fz)
{
	gpuvm_signalling_end(fz->cookie);
	fz->signalling = false;
	for (int s = 0; s < FZ_NVM; s++) {
		struct vslot *v = &fz->v[s];

		if (v->state == V_EMPTY)
			continue;
		test_alloc_forbid(&v->ta, false);
		if (v->sect_reserved)
			gpuvm_index_unreserve(vm_of(v), 3);
		v->sect_reserved = v->sect_used = false;
	}
}

static void op_signal(struct fz *fz)
{
	in_u8(fz);
	if (fz->signalling) {
		signal_end(fz);
		return;
	}
	/* what a run_job path reserves before it starts: nodes for one request */
	for (int s = 0; s < FZ_NVM; s++) {
		struct vslot *v = &fz->v[s];
		struct call c;
		int rc;

		if (v->state != V_LIVE || !v->immediate)
			continue;
		call_begin(fz, v, &c);
		rc = gpuvm_index_reserve(vm_of(v), 3);
		if (call_nomem(fz, &c, rc))
			continue;
		CHECK_RC(fz, rc, 0, "gpuvm_index_reserve");
		v->sect_reserved = true;
	}
	fz->cookie = gpuvm_signalling_begin();
	CHECK(fz, !fz->cookie, "a section was open already");
	fz->signalling = true;
	for (int s = 0; s < FZ_NVM; s++)
		if (fz->v[s].state != V_EMPTY)
			test_alloc_forbid(&fz->v[s].ta, true);
}

static void op_index(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	unsigned int mode = in_u8(fz) % 3;
	unsigned int n = in_u8(fz) % 8;
	GPUVM_OPTS(gpuvm_stats, st);
	struct call c;
	int rc;

	if (v->state != V_LIVE || fz->signalling)
		return;
	switch (mode) {
	case 0:
		call_begin(fz, v, &c);
		rc = gpuvm_index_reserve(vm_of(v), n);
		if (call_nomem(fz, &c, rc))
			return;
		CHECK_RC(fz, rc, 0, "gpuvm_index_reserve");
		v->reserved += n;
		rc = gpuvm_stats(vm_of(v), &st);
		CHECK(fz, rc == 0 && st.cached_nodes >= (size_t)v->reserved * (st.height + 2),
		      "reserved %u inserts, %zu nodes cached at height %u", v->reserved,
		      st.cached_nodes, st.height);
		break;
	case 1:
		if (n > v->reserved)
			n = v->reserved;
		gpuvm_index_unreserve(vm_of(v), n);
		v->reserved -= n;
		break;
	default:
		gpuvm_index_trim(vm_of(v));
		rc = gpuvm_stats(vm_of(v), &st);
		CHECK(fz, rc == 0 && st.cached_nodes <= (size_t)v->reserved * (st.height + 2),
		      "after a trim %zu nodes cached for %u reserved inserts", st.cached_nodes,
		      v->reserved);
		break;
	}
}

/* The inserted mapping of the slot holding address @x, or NULL. */
static struct hva *holding(struct vslot *v, uint64_t x)
{
	for (int i = 0; i < FZ_MAXVA; i++) {
		struct hva *h = v->va[i];

		if (h && h->inserted && h->addr <= x && x - h->addr < h->range)
			return h;
	}
	return NULL;
}

static void op_find(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	uint8_t ab = in_u8(fz), rb = in_u8(fz);
	uint64_t addr, range, end;
	struct hva *first = NULL, *exact = NULL;
	struct gpuva *va;
	const struct gpuvm *vm;
	unsigned int n = 0, want_n = 0;

	if (v->state == V_EMPTY)
		return;
	vm = vm_of(v);
	addr = dec_addr(v, ab);
	range = dec_range(v, addr, rb);
	/* lookups clamp an overflowing range to the end of the space */
	end = range > UINT64_MAX - addr ? UINT64_MAX : addr + range;
	for (int i = 0; i < FZ_MAXVA; i++) {
		struct hva *h = v->va[i];

		if (!h || !h->inserted)
			continue;
		if (h->addr == addr && h->range == range)
			exact = h;
		if (range && h->addr < end && addr < h->addr + h->range) {
			want_n++;
			if (!first || h->addr < first->addr)
				first = h;
		}
	}
	CHECK(fz, gpuva_find(vm, addr, range) == (exact ? &exact->va : NULL), "gpuva_find");
	CHECK(fz, gpuva_find_first(vm, addr, range) == (first ? &first->va : NULL),
	      "gpuva_find_first(0x%" PRIx64 ", 0x%" PRIx64 ")", addr, range);
	CHECK(fz, gpuvm_interval_empty(vm, addr, range) == !first, "gpuvm_interval_empty");
	exact = addr ? holding(v, addr - 1) : NULL;
	CHECK(fz, gpuva_find_prev(vm, addr) == (exact ? &exact->va : NULL), "gpuva_find_prev");
	exact = addr != UINT64_MAX ? holding(v, addr) : NULL;
	CHECK(fz, gpuva_find_next(vm, addr) == (exact ? &exact->va : NULL), "gpuva_find_next");
	if (!range)
		return;
	/* iteration over [addr, end), end 0 meaning 2^64 */
	end = range > UINT64_MAX - addr ? 0 : addr + range;
	gpuvm_for_each_va_range(va, vm, addr, end) {
		struct hva *h = hva_of(va);

		CHECK(fz, n < FZ_MAXVA && h->inserted && h->addr + h->range > addr &&
				  (!end || h->addr < end),
		      "range iteration visited a mapping outside the range");
		n++;
	}
	CHECK(fz, n == want_n, "range iteration visited %u mappings, expected %u", n, want_n);
}

static int nop_step(struct gpuva_op *op, void *priv)
{
	(void)op;
	(void)priv;
	return -EINVAL;
}

/* A call with an invalid argument: refused, and nothing changes. */
static void op_invalid(struct fz *fz)
{
	struct vslot *v = slot_arg(fz);
	unsigned int kind = in_u8(fz) % 24;
	struct gpuvm *vm = v->state != V_EMPTY ? vm_of(v) : NULL;
	struct gpuva_ops *ops = NULL;
	struct gpuva scratch;
	struct {
		struct gpuvm_map_req r;
		uint64_t tail;
	} big;
	int rc = 0, want = -EINVAL;

	if (!vm || fz->signalling)
		return;
	memset(&big, 0, sizeof(big));
	big.r.sz = sizeof(big.r);
	big.r.map.va.addr = v->g->start;
	big.r.map.va.range = v->g->unit;
	gpuva_init(&scratch, v->g->start, v->g->unit, NULL, 0);
	switch (kind) {
	case 0:
		rc = gpuva_insert(NULL, &scratch);
		break;
	case 1:
		rc = gpuva_insert(vm, NULL);
		break;
	case 2:
		rc = gpuva_remove(NULL);
		break;
	case 3:
		rc = gpuva_link(NULL, NULL);
		break;
	case 4:
		rc = gpuva_unlink(NULL);
		break;
	case 5:
		rc = gpuvm_bo_obtain(vm, NULL, NULL);
		break;
	case 6:
		rc = gpuvm_bo_create(NULL, gem_of(fz, 0), NULL);
		break;
	case 7:
		rc = gpuvm_sm_map_ops_create(vm, NULL, &ops);
		break;
	case 8:
		big.r.sz = sizeof(big.r) - 1;
		rc = gpuvm_sm_map_ops_create(vm, &big.r, &ops);
		break;
	case 9:
		big.r.sz = sizeof(big);
		big.tail = 7;
		rc = gpuvm_sm_map(vm, NULL, &big.r);
		break;
	case 10:
		rc = gpuvm_sm_unmap_ops_create(vm, v->g->start, v->g->unit, NULL);
		break;
	case 11:
		rc = gpuvm_bo_unmap_ops_create(NULL, &ops);
		break;
	case 12:
		rc = gpuva_remap(&scratch, &scratch, NULL);
		break;
	case 13:
		rc = gpuva_unmap(NULL);
		break;
	case 14:
		rc = gpuvm_bo_extobj_add(NULL);
		break;
	case 15:
		rc = gpuvm_bo_evict(NULL, true);
		break;
	case 16:
		rc = gpuvm_bo_gem_evict(NULL, true);
		break;
	case 17:
		rc = gpuvm_validate(NULL, NULL);
		break;
	case 18:
		rc = gpuvm_bo_deferred_cleanup(NULL);
		break;
	case 19: {
		GPUVM_OPTS(gpuvm_stats, st);

		st.sz = sizeof(st) - 1;
		rc = gpuvm_stats(vm, &st);
		break;
	}
	case 20:
		rc = gpuvm_resv_lock(NULL);
		break;
	case 21: {
		/* a map op list applied twice: the second map overlaps (-EEXIST) */
		struct gpuva_op_map m = { .va = { v->g->start, v->g->unit } };

		rc = gpuva_map(vm, NULL, &m);
		break;
	}
	case 22: {
		/* an ops table without the step callbacks: callback mode refuses */
		const struct gpuvm_ops *saved = vm->ops;
		struct gpuvm_ops half = v->ops;

		half.sm_step_remap = NULL;
		half.sm_step_map = nop_step;
		vm->ops = &half;
		rc = gpuvm_sm_unmap(vm, NULL, v->g->start, v->g->unit);
		vm->ops = saved;
		break;
	}
	default:
		CHECK(fz, !gpuvm_range_valid(NULL, 0, 1) && !gpuva_find_first(vm, v->g->start, 0) &&
				  !gpuvm_bo_put(NULL) && !gpuvm_bo_find(NULL, gem_of(fz, 0)),
		      "a NULL argument was accepted");
		gpuva_ops_free(vm, NULL);
		gpuvm_exec_unlock(NULL);
		rc = gpuvm_bo_put_deferred(NULL);
		break;
	}
	CHECK_RC(fz, rc, want, "a call with an invalid argument");
	CHECK(fz, ops == NULL, "a refused call handed out an op list");
}

/* ------------------------------------------------------------ teardown */

static void teardown(struct fz *fz)
{
	fz->op = -1;
	if (fz->signalling)
		signal_end(fz);
	for (int s = 0; s < FZ_NVM; s++) {
		struct vslot *v = &fz->v[s];

		if (v->state == V_EMPTY)
			continue;
		test_alloc_fail_at(&v->ta, 0);
		if (v->exec_state == 2)
			exec_release(fz, v);
		if (v->exec_state) {
			int rc = gpuvm_exec_fini(&v->exec);

			CHECK_RC(fz, rc, 0, "gpuvm_exec_fini");
			v->exec_state = 0;
		}
	}
	for (int r = 0; r < FZ_NRESV; r++) {
		if (fz->held[r]) {
			int rc = gpuvm_resv_unlock(&fz->resv[r]);

			CHECK_RC(fz, rc, 0, "gpuvm_resv_unlock");
			fz->held[r] = false;
		}
	}
	for (int g = 0; g < FZ_NGEM; g++) {
		if (fz->glock[g]) {
			int rc = gpuvm_gem_gpuva_unlock(gem_of(fz, g));

			CHECK_RC(fz, rc, 0, "gpuvm_gem_gpuva_unlock");
			fz->glock[g] = false;
		}
	}
	check_all(fz);

	for (int s = 0; s < FZ_NVM; s++) {
		struct vslot *v = &fz->v[s];

		if (v->state == V_EMPTY)
			continue;
		for (int i = 0; i < FZ_MAXVA; i++) {
			struct hva *h = v->va[i];
			int rc;

			if (!h)
				continue;
			if (h->inserted) {
				rc = gpuva_remove(&h->va);
				CHECK_RC(fz, rc, 0, "gpuva_remove");
				h->inserted = false;
			}
			if (h->link)
				unlink_hva(fz, v, h, false);
			else
				hva_release(fz, v, h);
		}
		for (int g = 0; g < FZ_NGEM; g++) {
			while (v->bo[g].p && v->bo[g].hrefs)
				put_listed(fz, v, g);
			CHECK(fz, !v->bo[g].p, "a vm_bo outlived its mappings and references");
			if (v->pre[g]) {
				CHECK(fz, gpuvm_bo_put(v->pre[g]), "a preallocated vm_bo stayed");
				v->pre[g] = NULL;
			}
		}
		if (v->zombies) {
			int rc = gpuvm_bo_deferred_cleanup(vm_of(v));

			CHECK_RC(fz, rc, (int)v->zombies, "gpuvm_bo_deferred_cleanup");
			v->zombies = 0;
			memset(v->zgem, 0, sizeof(v->zgem));
		}
		if (v->state == V_LIVE) {
			gpuvm_index_unreserve(vm_of(v), v->reserved);
			v->reserved = 0;
			check_slot(fz, v);
			v->state = V_ORPHAN;
			gpuvm_put(vm_of(v));
		}
		reap(fz);
		CHECK(fz, v->state == V_EMPTY, "slot %d: the VM was not released", s);
	}
	for (int g = 0; g < FZ_NGEM; g++) {
		struct test_gem *tg = &fz->gem[g];

		CHECK(fz, tg->base.refcount == 1 && gpuvm_list_empty(&tg->base.gpuva.list),
		      "gem %d: %u references left", g, tg->base.refcount);
		gpuvm_gem_put(&tg->base);
		CHECK(fz, tg->frees == 1 && tg->fini_ret == 0,
		      "gem %d: free ran %u times, gpuvm_gem_fini gave %d", g, tg->frees,
		      tg->fini_ret);
	}
	for (int r = 0; r < FZ_NRESV; r++) {
		int rc = gpuvm_resv_fini(&fz->resv[r]);

		CHECK_RC(fz, rc, 0, "gpuvm_resv_fini");
	}
	CHECK(fz, fz->cbo_live == 0 && fz->cop_live == 0,
	      "%lu vm_bos and %lu ops of the custom allocators are live", fz->cbo_live,
	      fz->cop_live);
	rm_ops_fini(&fz->mops);
}

typedef void (*op_fn)(struct fz *fz);

static const op_fn ops_table[FZ_OP_COUNT] = {
	[FZ_VM_NEW] = op_vm_new,       [FZ_VM_PUT] = op_vm_put,     [FZ_INSERT] = op_insert,
	[FZ_REMOVE] = op_remove,       [FZ_LINK] = op_link,	    [FZ_UNLINK] = op_unlink,
	[FZ_OBTAIN] = op_obtain,       [FZ_BO_PUT] = op_bo_put,	    [FZ_MAP] = op_map,
	[FZ_UNMAP] = op_unmap,	       [FZ_PREFETCH] = op_prefetch, [FZ_BO_UNMAP] = op_bo_unmap,
	[FZ_CLEANUP] = op_cleanup,     [FZ_EXTOBJ] = op_extobj,	    [FZ_EVICT] = op_evict,
	[FZ_GEM_EVICT] = op_gem_evict, [FZ_VALIDATE] = op_validate, [FZ_RESV] = op_resv,
	[FZ_GPUVA_LOCK] = op_gpuva_lock, [FZ_EXEC] = op_exec,	    [FZ_EXEC_END] = op_exec_end,
	[FZ_FAIL] = op_fail,	       [FZ_SIGNAL] = op_signal,	    [FZ_INDEX] = op_index,
	[FZ_FIND] = op_find,	       [FZ_INVALID] = op_invalid,   [FZ_FILL] = op_fill,
};

/* FUZZ_API_TRACE=1: one line per op with its bytes, then the state after it. */
static void trace_op(struct fz *fz, size_t at)
{
	fprintf(stderr, "step %zu %-10s", fz->step, op_names[fz->op]);
	for (size_t i = at + 1; i < at + 1 + fz_op_args[fz->op]; i++)
		fprintf(stderr, i < fz->n ? " %02x" : " --", i < fz->n ? fz->p[i] : 0);
	fflush(stderr);
}

static void trace_state(struct fz *fz)
{
	fputs(" |", stderr);
	for (int s = 0; s < FZ_NVM; s++) {
		struct vslot *v = &fz->v[s];
		unsigned int nva = 0, nbo = 0;

		if (v->state == V_EMPTY) {
			fputs(" -", stderr);
			continue;
		}
		for (int i = 0; i < FZ_MAXVA; i++)
			nva += v->va[i] && v->va[i]->inserted;
		for (int g = 0; g < FZ_NGEM; g++)
			nbo += v->bo[g].p != NULL;
		fprintf(stderr, " %s:%uva/%ubo/%uz", v->state == V_LIVE ? "live" : "orphan", nva,
			nbo, v->zombies);
	}
	fputs(fz->signalling ? " [signalling]\n" : "\n", stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *fz = calloc(1, sizeof(*fz));
	const char *env = getenv("FUZZ_API_TRACE");
	bool trace = env && *env && strcmp(env, "0");
	unsigned int cfg;

	FZ_CHECK(fz, "out of memory");
	fz->p = data;
	fz->n = size > MAX_INPUT ? MAX_INPUT : size;
	fz->op = -1;
	rm_ops_init(&fz->mops);
	cfg = in_u8(fz) | (unsigned int)in_u8(fz) << 8;
	for (int r = 0; r < FZ_NRESV; r++) {
		int rc = gpuvm_resv_init(&fz->resv[r], NULL);

		FZ_CHECK(rc == 0, "gpuvm_resv_init: %d", rc);
	}
	for (int g = 0; g < FZ_NGEM; g++) {
		static const char *const names[FZ_NGEM] = { "g0", "g1", "g2", "g3", "g4", "g5" };
		unsigned int k = (cfg >> (2 * g)) & 3;
		int rc;

		fz->gem_resv[g] = k == 0 ? -1 : k == 1 ? 0 : k == 2 ? 1 : 2 + g;
		rc = test_gem_init(&fz->gem[g], names[g], gem_size[g]);
		FZ_CHECK(rc == 0, "test_gem_init: %d", rc);
		fz->gem[g].base.resv = fz->gem_resv[g] >= 0 ? &fz->resv[fz->gem_resv[g]] : NULL;
	}

	while (fz->i < fz->n && fz->step < MAX_STEPS) {
		size_t at = fz->i;

		fz->op = in_u8(fz) % FZ_OP_COUNT;
		fz->step++;
		if (trace)
			trace_op(fz, at);
		ops_table[fz->op](fz);
		reap(fz);
		check_all(fz);
		if (trace)
			trace_state(fz);
	}
	teardown(fz);
	free(fz);
	return 0;
}
