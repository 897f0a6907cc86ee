/* SPDX-License-Identifier: MIT */
/*
 * The replay: VMs and BOs by name, each request checked in the order of the
 * trace format's refusal rules, then turned into an op list by the library
 * (list mode), printed, and applied.
 */
#include "replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

static struct out *die_out;

_Noreturn void replay_die(const char *what, int err)
{
	/* Flush first so the listing shows the request that broke. */
	if (die_out)
		out_flush(die_out);
	if (die_out && die_out->f)
		fflush(die_out->f);
	fprintf(stderr, "gpuvm-replay: library contract broken: %s (%s)\n", what,
		gpuvm_err_name(err));
	exit(3);
}

/* FNV-1a: cheap, and stable across runs (the SVG colours depend on it). */
uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* ---- memory ---- */

/*
 * The tool's per-request memory comes from the replay's allocator when it
 * has one (the tests fail its allocations one by one), else from the C
 * library as before. Frees pass the size that was asked for.
 */
static void *mem_alloc(const struct gpuvm_allocator *a, size_t size)
{
	if (a && a->alloc)
		return a->alloc(a->user_data, size, _Alignof(max_align_t));
	return malloc(size);
}

static void *mem_zalloc(const struct gpuvm_allocator *a, size_t size)
{
	void *p;

	if (!a || !a->alloc)
		return calloc(1, size);
	p = mem_alloc(a, size);
	if (p)
		memset(p, 0, size);
	return p;
}

static void mem_free(const struct gpuvm_allocator *a, void *p, size_t size)
{
	if (!p)
		return;
	if (a && a->free)
		a->free(a->user_data, p, size);
	else
		free(p);
}

/* ---- name tables ---- */

static uint32_t tab_lookup(const struct nametab *t, const char *s, size_t len, uint32_t h)
{
	if (!t->e)
		return 0;
	for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
		const struct nametab_ent *e = &t->e[i];

		if (!e->idx)
			return 0;
		if (e->hash == h && e->len == len && memcmp(e->name, s, len) == 0)
			return e->idx;
	}
}

static void tab_put(struct nametab *t, const char *s, size_t len, uint32_t h, uint32_t idx)
{
	size_t i = h & t->mask;

	while (t->e[i].idx)
		i = (i + 1) & t->mask;
	t->e[i] = (struct nametab_ent){ .name = s, .len = len, .hash = h, .idx = idx };
	t->n++;
}

/* Make room for one more entry, so that inserting it cannot fail. */
static int tab_reserve(const struct gpuvm_allocator *a, struct nametab *t)
{
	struct nametab_ent *old = t->e;
	size_t oldcap = t->e ? t->mask + 1 : 0;
	size_t cap;

	if (t->e && (t->n + 1) * 2 <= oldcap)
		return 0;
	cap = oldcap ? oldcap * 2 : 64;
	t->e = mem_zalloc(a, cap * sizeof(*t->e));
	if (!t->e) {
		t->e = old;
		return -ENOMEM;
	}
	t->mask = cap - 1;
	t->n = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].idx)
			tab_put(t, old[i].name, old[i].len, old[i].hash, old[i].idx);
	mem_free(a, old, oldcap * sizeof(*old));
	return 0;
}

static int grow(const struct gpuvm_allocator *a, void **arr, size_t *cap, size_t need,
		size_t elem)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	if (a && a->alloc) {
		p = mem_alloc(a, n * elem);
		if (!p)
			return -ENOMEM;
		if (*cap)
			memcpy(p, *arr, *cap * elem);
		mem_free(a, *arr, *cap * elem);
	} else {
		p = realloc(*arr, n * elem);
		if (!p)
			return -ENOMEM;
	}
	*arr = p;
	*cap = n;
	return 0;
}

static struct rp_vm *find_vm(const struct replay *rp, const struct trace_tok *t)
{
	uint32_t i = tab_lookup(&rp->vmtab, t->s, t->len, name_hash(t->s, t->len));

	return i ? rp->vms[i - 1] : NULL;
}

static struct rp_bo *find_bo(const struct replay *rp, const struct trace_tok *t)
{
	uint32_t i = tab_lookup(&rp->botab, t->s, t->len, name_hash(t->s, t->len));

	return i ? rp->bos[i - 1] : NULL;
}

/* ---- object lifetimes ---- */

static void vm_free_cb(struct gpuvm *vm)
{
	struct rp_vm *v = rp_vm_of(vm);
	const struct gpuvm_allocator a = vm->alloc;
	int rc = gpuvm_fini(vm);

	if (rc)
		replay_die("gpuvm_fini() failed on the last gpuvm_put()", rc);
	mem_free(&a, v->name, v->nlen + 1);
	mem_free(&a, v, sizeof(*v));
}

static void bo_free_cb(struct gpuvm_gem *obj)
{
	struct rp_bo *b = rp_bo_of(obj);
	const struct gpuvm_allocator *a = b->alloc;
	int rc = gpuvm_gem_fini(obj);

	if (rc)
		replay_die("gpuvm_gem_fini() failed on the last gpuvm_gem_put()", rc);
	mem_free(a, b->name, b->nlen + 1);
	mem_free(a, b, sizeof(*b));
}

static const struct gpuvm_ops vm_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.vm_free = vm_free_cb,
};

static const struct gpuvm_gem_funcs bo_funcs = {
	.free = bo_free_cb,
};

void replay_init(struct replay *rp, struct out *out)
{
	memset(rp, 0, sizeof(*rp));
	rp->out = out;
	die_out = out;
}

static void count_error(struct replay *rp, int err)
{
	unsigned int e = err < 0 ? (unsigned int)-err : (unsigned int)err;

	rp->st.errors++;
	rp->st.err_by[e < STATS_MAX_ERRNO ? e : STATS_MAX_ERRNO - 1]++;
}

#define refuse(rp, err, ...)                                  \
	do {                                                  \
		count_error((rp), (err));                     \
		print_refusal((rp)->out, (err), __VA_ARGS__); \
	} while (0)

#define TOKF(t) (int)((t).len > 40 ? 40 : (t).len), (t).s

static char *dup_name(const struct replay *rp, const struct trace_tok *t)
{
	char *s = mem_alloc(rp->alloc, t->len + 1);

	if (s) {
		memcpy(s, t->s, t->len);
		s[t->len] = '\0';
	}
	return s;
}

/* ---- vm and bo ---- */

/*
 * The common part of declaring a VM or a BO: a slot in @tab and in the
 * array, and a zeroed entry of @size bytes named after @tok. On failure the
 * request is refused with -ENOMEM and nothing is kept.
 */
static void *new_entry(struct replay *rp, struct nametab *tab, void **arr, size_t *cap,
		       size_t n, size_t size, const struct trace_tok *tok, char **name)
{
	void *e;

	if (tab_reserve(rp->alloc, tab) || grow(rp->alloc, arr, cap, n + 1, sizeof(void *)) ||
	    !(e = mem_zalloc(rp->alloc, size))) {
		refuse(rp, -ENOMEM, "out of memory");
		return NULL;
	}
	*name = dup_name(rp, tok);
	if (!*name) {
		mem_free(rp->alloc, e, size);
		refuse(rp, -ENOMEM, "out of memory");
		return NULL;
	}
	return e;
}

static void do_vm(struct replay *rp, const struct trace_req *r)
{
	uint64_t start = r->num[TRACE_VM_START], range = r->num[TRACE_VM_RANGE];
	uint64_t raddr = r->num[TRACE_VM_RADDR], rrange = r->num[TRACE_VM_RRANGE];
	uint32_t h = name_hash(r->vm.s, r->vm.len);
	struct rp_vm *v;
	char *name;
	int rc;

	if (tab_lookup(&rp->vmtab, r->vm.s, r->vm.len, h)) {
		refuse(rp, -EEXIST, "vm '%.*s' already exists", TOKF(r->vm));
		return;
	}
	if (range > UINT64_MAX - start) {
		refuse(rp, -EINVAL, "vm START+RANGE does not fit in 64 bits");
		return;
	}
	if (rrange > UINT64_MAX - raddr) {
		refuse(rp, -EINVAL, "reserve ADDR+RANGE does not fit in 64 bits");
		return;
	}
	v = new_entry(rp, &rp->vmtab, (void **)&rp->vms, &rp->vmcap, rp->nvm, sizeof(*v), &r->vm,
		      &name);
	if (!v)
		return;
	v->name = name;
	v->nlen = r->vm.len;
	v->start = start;
	v->range = range;
	v->raddr = raddr;
	v->rrange = rrange;

	GPUVM_OPTS(gpuvm_init_opts, opts, .name = v->name, .start = start, .range = range,
		   .reserve_addr = raddr, .reserve_range = rrange, .ops = &vm_ops,
		   .alloc = rp->alloc);
	rc = gpuvm_init(&v->vm, &opts);
	if (rc) {
		refuse(rp, rc, "gpuvm_init: %s", gpuvm_strerror(rc));
		mem_free(rp->alloc, v->name, v->nlen + 1);
		mem_free(rp->alloc, v, sizeof(*v));
		return;
	}
	rp->vms[rp->nvm++] = v;
	tab_put(&rp->vmtab, v->name, v->nlen, h, (uint32_t)rp->nvm);
}

static void do_bo(struct replay *rp, const struct trace_req *r)
{
	uint32_t h = name_hash(r->bo.s, r->bo.len);
	struct rp_bo *b;
	char *name;
	int rc;

	if (tab_lookup(&rp->botab, r->bo.s, r->bo.len, h)) {
		refuse(rp, -EEXIST, "bo '%.*s' already exists", TOKF(r->bo));
		return;
	}
	if (trace_tok_is(&r->bo, "-")) {
		refuse(rp, -EINVAL, "the bo name '-' is reserved for sparse mappings");
		return;
	}
	b = new_entry(rp, &rp->botab, (void **)&rp->bos, &rp->bocap, rp->nbo, sizeof(*b), &r->bo,
		      &name);
	if (!b)
		return;
	b->name = name;
	b->nlen = r->bo.len;
	b->hash = h;
	b->idx = (uint32_t)rp->nbo;
	b->alloc = rp->alloc;

	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = r->num[TRACE_BO_SIZE], .funcs = &bo_funcs);
	rc = gpuvm_gem_init(&b->gem, &opts);
	if (rc) {
		refuse(rp, rc, "gpuvm_gem_init: %s", gpuvm_strerror(rc));
		mem_free(rp->alloc, b->name, b->nlen + 1);
		mem_free(rp->alloc, b, sizeof(*b));
		return;
	}
	rp->bos[rp->nbo++] = b;
	tab_put(&rp->botab, b->name, b->nlen, h, (uint32_t)rp->nbo);
}

/* ---- rule 8, and the library's own view of it ---- */

static const char *range_refusal(const struct rp_vm *v, uint64_t addr, uint64_t range)
{
	uint64_t end;

	if (range > UINT64_MAX - addr)
		return "ADDR+RANGE overflows 64 bits";
	end = addr + range;
	if (addr < v->start || end > v->start + v->range)
		return "range is outside the VA space";
	if (v->rrange && addr < v->raddr + v->rrange && v->raddr < end)
		return "range intersects the reserved region";
	return NULL;
}

static bool range_ok(struct replay *rp, const struct rp_vm *v, uint64_t addr, uint64_t range)
{
	const char *why = range_refusal(v, addr, range);
	bool lib = gpuvm_range_valid(&v->vm, addr, range);

	if (lib != !why)
		fprintf(stderr,
			"gpuvm-replay: contract: gpuvm_range_valid(%s, 0x%llx, 0x%llx) "
			"returns %s, the trace format says %s\n",
			v->name, (unsigned long long)addr, (unsigned long long)range,
			lib ? "true" : "false", why ? why : "valid");
	if (why)
		refuse(rp, -EINVAL, "%s", why);
	return !why;
}

/* ---- applying an op list ---- */

static int spare_fill(struct replay *rp, size_t need)
{
	if (grow(rp->alloc, (void **)&rp->spare, &rp->sparecap, need, sizeof(*rp->spare)))
		return -ENOMEM;
	while (rp->nspare < need) {
		/* zeroed: gpuva_map()/gpuva_remap() take vm != NULL as "inserted" */
		struct gpuva *va = mem_zalloc(rp->alloc, sizeof(*va));

		if (!va)
			return -ENOMEM;
		rp->spare[rp->nspare++] = va;
	}
	return 0;
}

static struct gpuva *spare_take(struct replay *rp)
{
	if (!rp->nspare)
		replay_die("op list inserts more mappings than a request can", -EINVAL);
	return rp->spare[--rp->nspare];
}

static void count_op(struct replay *rp, const struct gpuva_op *op)
{
	if ((unsigned int)op->op < 4)
		rp->st.ops[op->op]++;
	if ((op->op == GPUVA_OP_UNMAP && op->unmap.keep) ||
	    (op->op == GPUVA_OP_REMAP && op->remap.unmap->keep))
		rp->st.kept++;
}

static void link_or_die(struct gpuva *va, struct gpuvm_bo *vm_bo)
{
	int rc = gpuva_link(va, vm_bo);

	if (rc)
		replay_die("gpuva_link() failed", rc);
}

static void unlink_if_linked(struct gpuva *va)
{
	int rc;

	if (!gpuva_vm_bo(va)) {
		if (gpuva_gem(va))
			replay_die("a mapping with an object was never linked", -EINVAL);
		return;
	}
	rc = gpuva_unlink(va);
	if (rc)
		replay_die("gpuva_unlink() failed", rc);
}

static void verify_vm(struct rp_vm *v)
{
	GPUVM_OPTS(gpuvm_stats, s);
	int rc;

	rc = gpuvm_verify(&v->vm);
	if (rc)
		replay_die("gpuvm_verify() failed", rc);
	rc = gpuvm_stats(&v->vm, &s);
	if (rc)
		replay_die("gpuvm_stats() failed", rc);
	if (s.mappings != v->mappings)
		replay_die("gpuvm_stats() counts other mappings than the ops made", -EUCLEAN);
}

/*
 * A map request inserts at most 3 mappings (the map and the two outer pieces
 * of the at most two remaps), an unmap request at most 2.
 */
#define MAP_INSERTS 3
#define UNMAP_INSERTS 2

/*
 * Print the ops of @ops and apply them to @v, then free the list. @map_vm_bo
 * is the vm_bo of a map request's object (a reference the caller holds), for
 * the map op to link to. Nothing here can fail: the caller filled the spare
 * mappings and obtained the vm_bo before it created the list, the last step
 * that may fail, so a refused request leaves the VM as it was (an op list
 * freed unapplied would leave the index nodes it reserved in the cache).
 */
static void apply_list(struct replay *rp, struct rp_vm *v, struct gpuva_ops *ops,
		       struct gpuvm_bo *map_vm_bo)
{
	struct gpuva_op *op;

	gpuva_for_each_op(op, ops) {
		print_op(rp->out, op);
		count_op(rp, op);
	}

	gpuva_for_each_op(op, ops) {
		struct gpuva *va, *prev = NULL, *next = NULL;
		struct gpuvm_bo *vm_bo;
		int rc;

		switch (op->op) {
		case GPUVA_OP_MAP:
			va = spare_take(rp);
			rc = gpuva_map(&v->vm, va, &op->map);
			if (rc)
				replay_die("gpuva_map() failed on a list-mode op", rc);
			if (op->map.gem.obj) {
				if (!map_vm_bo || map_vm_bo->obj != op->map.gem.obj)
					replay_die("map op maps another object than asked",
						   -EINVAL);
				link_or_die(va, map_vm_bo);
			}
			v->mappings++;
			break;
		case GPUVA_OP_REMAP:
			va = op->remap.unmap->va;
			vm_bo = gpuva_vm_bo(va);
			if (op->remap.prev)
				prev = spare_take(rp);
			if (op->remap.next)
				next = spare_take(rp);
			rc = gpuva_remap(prev, next, &op->remap);
			if (rc)
				replay_die("gpuva_remap() failed on a list-mode op", rc);
			/* prev then next, before the old one lets go of the vm_bo */
			if (vm_bo) {
				if (prev)
					link_or_die(prev, vm_bo);
				if (next)
					link_or_die(next, vm_bo);
			}
			unlink_if_linked(va);
			v->mappings += (size_t)(prev != NULL) + (next != NULL);
			v->mappings--;
			break;
		case GPUVA_OP_UNMAP:
			va = op->unmap.va;
			rc = gpuva_unmap(&op->unmap);
			if (rc)
				replay_die("gpuva_unmap() failed on a list-mode op", rc);
			unlink_if_linked(va);
			v->mappings--;
			break;
		default:
			replay_die("op list of a map/unmap holds another op", -EINVAL);
		}
	}
	/*
	 * The replaced mappings are only reachable through the list now. Free
	 * them, then the list, which does not read the mappings it points to.
	 */
	gpuva_for_each_op(op, ops) {
		if (op->op == GPUVA_OP_REMAP)
			mem_free(rp->alloc, op->remap.unmap->va, sizeof(struct gpuva));
		else if (op->op == GPUVA_OP_UNMAP)
			mem_free(rp->alloc, op->unmap.va, sizeof(struct gpuva));
	}
	gpuva_ops_free(&v->vm, ops);

	if (v->mappings > v->peak)
		v->peak = v->mappings;
	if (rp->verify)
		verify_vm(v);
}

/* ---- requests on a VM ---- */

static struct rp_vm *need_vm(struct replay *rp, const struct trace_req *r)
{
	struct rp_vm *v = find_vm(rp, &r->vm);

	if (!v)
		refuse(rp, -ENOENT, "no such vm '%.*s'", TOKF(r->vm));
	return v;
}

static struct rp_bo *need_bo(struct replay *rp, const struct trace_req *r)
{
	struct rp_bo *b = find_bo(rp, &r->bo);

	if (!b)
		refuse(rp, -ENOENT, "no such bo '%.*s'", TOKF(r->bo));
	return b;
}

static void lib_refused(struct replay *rp, const char *fn, int rc)
{
	refuse(rp, rc, "%s: %s", fn, gpuvm_strerror(rc));
}

static void do_map(struct replay *rp, const struct trace_req *r)
{
	uint64_t addr = r->num[TRACE_ADDR], range = r->num[TRACE_RANGE];
	uint64_t offset = r->num[TRACE_MAP_OFFSET];
	struct gpuvm_bo *vm_bo = NULL;
	struct gpuva_ops *ops;
	struct rp_bo *b = NULL;
	struct rp_vm *v;
	int rc;

	v = need_vm(rp, r);
	if (!v)
		return;
	if (!r->sparse && !(b = need_bo(rp, r)))
		return;
	if (r->sparse && offset) {
		refuse(rp, -EINVAL, "a sparse map needs OFFSET 0");
		return;
	}
	if (!range) {
		refuse(rp, -EINVAL, "RANGE is 0");
		return;
	}
	if (b && (range > UINT64_MAX - offset || offset + range > b->gem.size)) {
		refuse(rp, -EINVAL, "OFFSET+RANGE exceeds the size of bo '%s' (0x%llx)", b->name,
		       (unsigned long long)b->gem.size);
		return;
	}
	if (!range_ok(rp, v, addr, range))
		return;

	GPUVM_OPTS(gpuvm_map_req, req,
		   .map = { .va = { .addr = addr, .range = range },
			    .gem = { .offset = offset, .obj = b ? &b->gem : NULL } });
	/* everything that may fail before the list, which is created last */
	if (spare_fill(rp, MAP_INSERTS)) {
		refuse(rp, -ENOMEM, "out of memory");
		return;
	}
	if (b) {
		rc = gpuvm_bo_obtain(&v->vm, &b->gem, &vm_bo);
		if (rc) {
			lib_refused(rp, "gpuvm_bo_obtain", rc);
			return;
		}
	}
	rc = gpuvm_sm_map_ops_create(&v->vm, &req, &ops);
	if (rc) {
		/* a vm_bo obtained just now has no mapping: this frees it */
		gpuvm_bo_put(vm_bo);
		lib_refused(rp, "gpuvm_sm_map_ops_create", rc);
		return;
	}
	apply_list(rp, v, ops, vm_bo);
	/* The map op's link holds its own reference now. */
	gpuvm_bo_put(vm_bo);
}

/* The VM of an unmap or prefetch request whose non-empty range it may use. */
static struct rp_vm *need_vm_range(struct replay *rp, const struct trace_req *r, uint64_t addr,
				   uint64_t range)
{
	struct rp_vm *v = need_vm(rp, r);

	if (!v)
		return NULL;
	if (!range) {
		refuse(rp, -EINVAL, "RANGE is 0");
		return NULL;
	}
	return range_ok(rp, v, addr, range) ? v : NULL;
}

static void do_unmap(struct replay *rp, const struct trace_req *r)
{
	uint64_t addr = r->num[TRACE_ADDR], range = r->num[TRACE_RANGE];
	struct gpuva_ops *ops;
	struct rp_vm *v;
	int rc;

	v = need_vm_range(rp, r, addr, range);
	if (!v)
		return;
	if (spare_fill(rp, UNMAP_INSERTS)) {
		refuse(rp, -ENOMEM, "out of memory");
		return;
	}
	rc = gpuvm_sm_unmap_ops_create(&v->vm, addr, range, &ops);
	if (rc) {
		lib_refused(rp, "gpuvm_sm_unmap_ops_create", rc);
		return;
	}
	apply_list(rp, v, ops, NULL);
}

static void do_prefetch(struct replay *rp, const struct trace_req *r)
{
	uint64_t addr = r->num[TRACE_ADDR], range = r->num[TRACE_RANGE];
	struct gpuva_ops *ops;
	struct gpuva_op *op;
	struct rp_vm *v;
	int rc;

	v = need_vm_range(rp, r, addr, range);
	if (!v)
		return;
	rc = gpuvm_prefetch_ops_create(&v->vm, addr, range, &ops);
	if (rc) {
		lib_refused(rp, "gpuvm_prefetch_ops_create", rc);
		return;
	}
	gpuva_for_each_op(op, ops) {
		if (op->op != GPUVA_OP_PREFETCH)
			replay_die("prefetch list holds another op", -EINVAL);
		print_op(rp->out, op);
		count_op(rp, op);
	}
	gpuva_ops_free(&v->vm, ops);
}

static void do_unmap_bo(struct replay *rp, const struct trace_req *r)
{
	struct gpuva_ops *ops;
	struct gpuvm_bo *vm_bo;
	struct rp_bo *b;
	struct rp_vm *v;
	int rc;

	v = need_vm(rp, r);
	if (!v)
		return;
	b = need_bo(rp, r);
	if (!b)
		return;
	vm_bo = gpuvm_bo_find(&v->vm, &b->gem);
	if (!vm_bo)
		return;
	rc = gpuvm_bo_unmap_ops_create(vm_bo, &ops);
	if (rc) {
		gpuvm_bo_put(vm_bo);
		lib_refused(rp, "gpuvm_bo_unmap_ops_create", rc);
		return;
	}
	apply_list(rp, v, ops, NULL);
	/* Held so the vm_bo outlives its last unlink during the apply. */
	gpuvm_bo_put(vm_bo);
}

static void do_dump(struct replay *rp, const struct trace_req *r)
{
	struct rp_vm *v = need_vm(rp, r);
	struct gpuva *va;
	size_t n = 0;

	if (!v)
		return;
	gpuvm_for_each_va(va, &v->vm) {
		out_str(rp->out, "va ");
		print_gpuva(rp->out, va);
		out_char(rp->out, '\n');
		n++;
	}
	out_str(rp->out, "end\n");
	if (n != v->mappings)
		replay_die("dump iterates other mappings than the ops made", -EUCLEAN);
}

int replay_line(struct replay *rp, const char *s, size_t len)
{
	struct trace_req *r = &rp->req;
	int rc;

	rc = trace_tokenize(&rp->line, s, len);
	if (rc)
		return rc;
	if (!rp->line.ntok)
		return 0;
	trace_parse(&rp->line, r);
	rp->st.req[r->kind]++;
	print_echo(rp->out, &rp->line, r);
	if (r->err) {
		refuse(rp, -EINVAL, "%s", r->err);
		return 0;
	}
	switch (r->kind) {
	case TRACE_VM:
		do_vm(rp, r);
		break;
	case TRACE_BO:
		do_bo(rp, r);
		break;
	case TRACE_MAP:
		if (r->sparse)
			rp->st.sparse_maps++;
		do_map(rp, r);
		break;
	case TRACE_UNMAP:
		do_unmap(rp, r);
		break;
	case TRACE_PREFETCH:
		do_prefetch(rp, r);
		break;
	case TRACE_UNMAP_BO:
		do_unmap_bo(rp, r);
		break;
	case TRACE_DUMP:
		do_dump(rp, r);
		break;
	default:
		break;
	}
	return 0;
}

void replay_fini(struct replay *rp)
{
	for (size_t i = 0; i < rp->nvm; i++) {
		struct rp_vm *v = rp->vms[i];
		struct gpuva *va, *next;

		gpuvm_for_each_va_safe(va, next, &v->vm) {
			int rc = gpuva_remove(va);

			if (rc)
				replay_die("gpuva_remove() failed at exit", rc);
			unlink_if_linked(va);
			mem_free(rp->alloc, va, sizeof(*va));
		}
		v->mappings = 0;
	}
	/* Every vm_bo went with its last mapping; ours are the last references. */
	for (size_t i = 0; i < rp->nvm; i++)
		gpuvm_put(&rp->vms[i]->vm);
	for (size_t i = 0; i < rp->nbo; i++)
		gpuvm_gem_put(&rp->bos[i]->gem);
	while (rp->nspare)
		mem_free(rp->alloc, rp->spare[--rp->nspare], sizeof(struct gpuva));
	mem_free(rp->alloc, rp->spare, rp->sparecap * sizeof(*rp->spare));
	mem_free(rp->alloc, rp->vms, rp->vmcap * sizeof(*rp->vms));
	mem_free(rp->alloc, rp->bos, rp->bocap * sizeof(*rp->bos));
	if (rp->vmtab.e)
		mem_free(rp->alloc, rp->vmtab.e, (rp->vmtab.mask + 1) * sizeof(*rp->vmtab.e));
	if (rp->botab.e)
		mem_free(rp->alloc, rp->botab.e, (rp->botab.mask + 1) * sizeof(*rp->botab.e));
	trace_line_fini(&rp->line);
	die_out = NULL;
	memset(rp, 0, sizeof(*rp));
}
