// SPDX-License-Identifier: MIT
/*
 * Random differential test of the split/merge engine against the naive
 * reference model (refmodel.c).
 *
 * Each configuration has NLVM logical VMs sharing one set of buffer objects.
 * A logical VM is one model and two library VMs: one driven in list mode
 * (gpuvm_*_ops_create, then the apply helpers), one in callback mode
 * (gpuvm_sm_map/gpuvm_sm_unmap, applying each op inside its callback as a
 * kernel driver does). After every request the op lists of both library VMs
 * are compared op for op with the model's, and then the whole state: the
 * mappings in address order, each (VM, BO) link list in link order, the
 * gems' vm_bo lists and the reference counts those imply.
 *
 * Reproduce with GPUVM_SEED=<seed> (and the same request count, from argv[1]
 * or GPUVM_MODEL_REQUESTS); GPUVM_MODEL_TRACE=1 prints every request.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gpuvm.h>

#include "refmodel.h"

#define NLVM 2
#define NBO 6
#define DEFAULT_SEED 0x5eed0f6770a11ULL
#define DEFAULT_REQUESTS 240000u
#define ZERO_BO 4 /* index of the zero-sized object in every config */

/* ---------------------------------------------------------------------- */
/* Configurations */

struct config {
	const char *name;
	uint64_t gran; /* request boundaries are multiples of this */
	uint64_t start, range;
	uint64_t res_addr, res_range;
	uint64_t win_lo; /* addresses cluster in [win_lo, +win_n*gran) */
	uint64_t win_n;
	uint64_t max_len; /* usual request length, in granules */
	uint64_t bo_size[NBO];
};

#define TOP_BYTES_START (UINT64_MAX - (1ull << 20) - 0x345)
#define TOP_4K_START (0ull - (1ull << 20) - 0x10000)

static const struct config configs[] = {
	{
		.name = "bytes",
		.gran = 1,
		.start = 0x10000,
		.range = 0x1000000,
		.win_lo = 0x10000 - 0x20,
		.win_n = 0x1000,
		.max_len = 48,
		.bo_size = { 16, 256, 0x1000, UINT64_MAX, 0, 64 },
	},
	{
		.name = "bytes-reserve",
		.gran = 1,
		.start = 0,
		.range = 1ull << 32,
		.res_addr = 0x800,
		.res_range = 0x100,
		.win_lo = 0,
		.win_n = 0x1000,
		.max_len = 48,
		.bo_size = { 16, 256, 0x1000, UINT64_MAX, 0, 64 },
	},
	{
		.name = "4k-reserve",
		.gran = 0x1000,
		.start = 0x100000,
		.range = 1ull << 40,
		.res_addr = 0x100000 + 0x400000,
		.res_range = 0x20000,
		.win_lo = 0x100000 - 0x4000,
		.win_n = 2048 + 4,
		.max_len = 32,
		.bo_size = { 0x10000, 0x100000, 0x800000, UINT64_MAX, 0, 0x40000 },
	},
	{
		.name = "64k-reserve-low",
		.gran = 0x10000,
		.start = 1ull << 32,
		.range = (1ull << 47) - (1ull << 32),
		.res_addr = 1ull << 32,
		.res_range = 16 * 0x10000,
		.win_lo = 1ull << 32,
		.win_n = 2048,
		.max_len = 32,
		.bo_size = { 16 * 0x10000, 256 * 0x10000, 1ull << 40, UINT64_MAX, 0, 64 * 0x10000 },
	},
	{
		.name = "top-bytes",
		.gran = 1,
		.start = TOP_BYTES_START,
		.range = UINT64_MAX - TOP_BYTES_START,
		.win_lo = UINT64_MAX - 0xfff,
		.win_n = 0x1000,
		.max_len = 48,
		.bo_size = { 16, 256, 0x1000, UINT64_MAX, 0, 64 },
	},
	{
		.name = "top-4k-reserve",
		.gran = 0x1000,
		.start = TOP_4K_START,
		.range = UINT64_MAX - TOP_4K_START,
		.res_addr = 0ull - 0x80000,
		.res_range = 0x8000,
		.win_lo = TOP_4K_START - 0x4000,
		.win_n = (0ull - (TOP_4K_START - 0x4000)) / 0x1000,
		.max_len = 16,
		.bo_size = { 0x10000, 0x100000, 0x800000, UINT64_MAX, 0, 0x40000 },
	},
};

#define NCONFIG (sizeof(configs) / sizeof(configs[0]))

/* ---------------------------------------------------------------------- */
/* Requests */

enum kind {
	K_MAP,
	K_SPARSE,
	K_UNMAP,
	K_PREFETCH,
	K_MADVISE,
	K_BO_UNMAP,
	K_NKINDS,
};

static const char *const kind_name[K_NKINDS] = {
	"map", "sparse", "unmap", "prefetch", "madvise", "bo_unmap",
};

struct req {
	enum kind kind;
	int vm;
	uint64_t addr, range, offset;
	int bo;
};

/* ---------------------------------------------------------------------- */
/* Flattened ops: what the model, list mode and callback mode all produce */

struct fpiece {
	uint64_t addr, range, offset;
	const struct gpuvm_gem *obj;
};

struct fop {
	enum gpuva_op_type type;
	struct fpiece va; /* the map, or the existing mapping */
	bool keep, has_prev, has_next;
	struct fpiece prev, next;
};

struct fops {
	struct fop *op;
	size_t n, cap;
};

/* ---------------------------------------------------------------------- */
/* Library side */

struct tbo {
	struct gpuvm_gem base;
	int id;
};

GPUVM_CONTAINER(struct gpuvm_gem, struct tbo, base, to_tbo)

/* Counts what a VM allocates through its hooks, to check it all comes back. */
struct counting_alloc {
	size_t live_bytes;
	size_t live_allocs;
	size_t total_allocs;
};

struct libvm {
	struct gpuvm vm;
	bool callback;
	bool inited;
	struct counting_alloc ca;
};

struct ctx;

struct cbstate {
	struct ctx *c;
	struct gpuvm *vm;
	struct fops *rec;
	int err;
	char msg[256];
};

struct stats {
	uint64_t requests[K_NKINDS];
	uint64_t invalid[K_NKINDS];
	uint64_t ops_compared;
	uint64_t max_mappings;
	uint64_t sum_mappings;
	uint64_t keeps;
	uint64_t model_ops[4];	/* by enum rm_op_type */
	uint64_t madvise_split; /* madvise requests that split something */
};

struct ctx {
	const struct config *cfg;
	uint64_t seed;
	uint64_t rng;
	size_t reqno;
	bool trace;
	char reqtxt[256];
	struct tbo *bo[NBO];
	struct {
		struct rm_vm model;
		struct libvm lib[2]; /* [0] list mode, [1] callback mode */
	} lvm[NLVM];
	struct rm_ops mops;
	struct fops want, got, got_cb;
	struct cbstate cb;
	struct stats st;
};

static uint64_t g_seed = DEFAULT_SEED;
static uint64_t g_requests = DEFAULT_REQUESTS;
static struct stats g_total;

/* ---------------------------------------------------------------------- */
/* Helpers */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct ctx *c)
{
	return splitmix64(&c->rng);
}

static uint64_t below(struct ctx *c, uint64_t n)
{
	return n ? rnd(c) % n : 0;
}

static bool chance(struct ctx *c, unsigned int percent)
{
	return below(c, 100) < percent;
}

static void fops_push(struct fops *f, const struct fop *op)
{
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 32;
		struct fop *np = realloc(f->op, ncap * sizeof(*np));

		assert_non_null(np);
		f->op = np;
		f->cap = ncap;
	}
	f->op[f->n++] = *op;
}

static const struct gpuvm_gem *gem_of(struct ctx *c, int bo)
{
	return bo == RM_NO_BO ? NULL : &c->bo[bo]->base;
}

static const char *obj_name(struct ctx *c, const struct gpuvm_gem *obj, char *buf, size_t len)
{
	if (!obj)
		return "-";
	for (int i = 0; i < NBO; i++) {
		if (obj == &c->bo[i]->base) {
			snprintf(buf, len, "b%d", i);
			return buf;
		}
	}
	snprintf(buf, len, "?%p", (const void *)obj);
	return buf;
}

static void print_piece(struct ctx *c, FILE *f, const struct fpiece *p)
{
	char b[32];

	fprintf(f, "0x%" PRIx64 "+0x%" PRIx64 ":%s@0x%" PRIx64, p->addr, p->range,
		obj_name(c, p->obj, b, sizeof(b)), p->offset);
}

static void print_fop(struct ctx *c, FILE *f, const struct fop *op)
{
	switch (op->type) {
	case GPUVA_OP_MAP:
		fputs("map ", f);
		print_piece(c, f, &op->va);
		break;
	case GPUVA_OP_UNMAP:
		fputs("unmap ", f);
		print_piece(c, f, &op->va);
		fprintf(f, " keep=%d", op->keep);
		break;
	case GPUVA_OP_PREFETCH:
		fputs("prefetch ", f);
		print_piece(c, f, &op->va);
		break;
	case GPUVA_OP_REMAP:
		fputs("remap unmap=", f);
		print_piece(c, f, &op->va);
		fprintf(f, " keep=%d prev=", op->keep);
		if (op->has_prev)
			print_piece(c, f, &op->prev);
		else
			fputs("-", f);
		fputs(" next=", f);
		if (op->has_next)
			print_piece(c, f, &op->next);
		else
			fputs("-", f);
		break;
	default:
		fprintf(f, "op type %d", (int)op->type);
		break;
	}
	fputc('\n', f);
}

static void print_fops(struct ctx *c, FILE *f, const char *title, const struct fops *ops)
{
	fprintf(f, "  %s (%zu ops):\n", title, ops->n);
	for (size_t i = 0; i < ops->n; i++) {
		fputs("    ", f);
		print_fop(c, f, &ops->op[i]);
	}
}

static void format_req(struct ctx *c, const struct req *r)
{
	char b[32];
	const char *bo = r->bo == RM_NO_BO ? "-" : obj_name(c, gem_of(c, r->bo), b, sizeof(b));

	switch (r->kind) {
	case K_MAP:
	case K_SPARSE:
	case K_MADVISE:
		snprintf(c->reqtxt, sizeof(c->reqtxt),
			 "%s v%d 0x%" PRIx64 " 0x%" PRIx64 " %s 0x%" PRIx64,
			 r->kind == K_MADVISE ? "madvise" : "map", r->vm, r->addr, r->range, bo,
			 r->offset);
		break;
	case K_UNMAP:
	case K_PREFETCH:
		snprintf(c->reqtxt, sizeof(c->reqtxt), "%s v%d 0x%" PRIx64 " 0x%" PRIx64,
			 kind_name[r->kind], r->vm, r->addr, r->range);
		break;
	case K_BO_UNMAP:
		snprintf(c->reqtxt, sizeof(c->reqtxt), "unmap-bo v%d %s", r->vm, bo);
		break;
	default:
		snprintf(c->reqtxt, sizeof(c->reqtxt), "?");
		break;
	}
}

/* Print where we are, then fail the CMocka test. */
static void mismatch(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mismatch(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr,
		"model: MISMATCH seed=0x%" PRIx64 " config=%s request #%zu: %s\n"
		"  ",
		c->seed, c->cfg->name, c->reqno, c->reqtxt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	fail_msg("model mismatch (seed 0x%" PRIx64 ", config %s, request #%zu)", c->seed,
		 c->cfg->name, c->reqno);
}

/* ---------------------------------------------------------------------- */
/* Counting allocator */

static void *ca_alloc(void *user_data, size_t size, size_t align)
{
	struct counting_alloc *ca = user_data;
	size_t a = align < sizeof(void *) ? sizeof(void *) : align;
	size_t sz = (size + a - 1) & ~(a - 1);
	void *p = aligned_alloc(a, sz ? sz : a);

	if (p) {
		ca->live_bytes += size;
		ca->live_allocs++;
		ca->total_allocs++;
	}
	return p;
}

static void ca_free(void *user_data, void *ptr, size_t size)
{
	struct counting_alloc *ca = user_data;

	if (!ptr)
		return;
	ca->live_bytes -= size;
	ca->live_allocs--;
	free(ptr);
}

/* ---------------------------------------------------------------------- */
/* Applying ops on the library side, the way a driver does */

static int apply_map(struct gpuvm *vm, const struct gpuva_op_map *m, char *msg, size_t len)
{
	struct gpuva *va = calloc(1, sizeof(*va));
	struct gpuvm_bo *vm_bo;
	int ret;

	if (!va)
		return -ENOMEM;
	ret = gpuva_map(vm, va, m);
	if (ret) {
		snprintf(msg, len, "gpuva_map: %s", gpuvm_err_name(ret));
		free(va);
		return ret;
	}
	if (!m->gem.obj)
		return 0;
	ret = gpuvm_bo_obtain(vm, m->gem.obj, &vm_bo);
	if (ret) {
		snprintf(msg, len, "gpuvm_bo_obtain: %s", gpuvm_err_name(ret));
		return ret;
	}
	ret = gpuva_link(va, vm_bo);
	gpuvm_bo_put(vm_bo);
	if (ret)
		snprintf(msg, len, "gpuva_link: %s", gpuvm_err_name(ret));
	return ret;
}

static int apply_op(struct gpuvm *vm, const struct gpuva_op *op, char *msg, size_t len)
{
	struct gpuva *old, *prev = NULL, *next = NULL;
	struct gpuvm_bo *vm_bo;
	int ret;

	switch (op->op) {
	case GPUVA_OP_MAP:
		return apply_map(vm, &op->map, msg, len);
	case GPUVA_OP_REMAP:
		old = op->remap.unmap->va;
		vm_bo = gpuva_vm_bo(old);
		if (op->remap.prev)
			prev = calloc(1, sizeof(*prev));
		if (op->remap.next)
			next = calloc(1, sizeof(*next));
		if ((op->remap.prev && !prev) || (op->remap.next && !next)) {
			free(prev);
			free(next);
			return -ENOMEM;
		}
		ret = gpuva_remap(prev, next, &op->remap);
		if (ret) {
			snprintf(msg, len, "gpuva_remap: %s", gpuvm_err_name(ret));
			free(prev);
			free(next);
			return ret;
		}
		if (vm_bo) {
			/* pieces first, so the vm_bo survives the unlink */
			if (prev && (ret = gpuva_link(prev, vm_bo)))
				goto link_err;
			if (next && (ret = gpuva_link(next, vm_bo)))
				goto link_err;
			ret = gpuva_unlink(old);
			if (ret) {
				snprintf(msg, len, "gpuva_unlink: %s", gpuvm_err_name(ret));
				return ret;
			}
		}
		free(old);
		return 0;
	case GPUVA_OP_UNMAP:
		old = op->unmap.va;
		ret = gpuva_unmap(&op->unmap);
		if (ret) {
			snprintf(msg, len, "gpuva_unmap: %s", gpuvm_err_name(ret));
			return ret;
		}
		if (gpuva_vm_bo(old)) {
			ret = gpuva_unlink(old);
			if (ret) {
				snprintf(msg, len, "gpuva_unlink: %s", gpuvm_err_name(ret));
				return ret;
			}
		}
		free(old);
		return 0;
	case GPUVA_OP_PREFETCH:
		return 0;
	default:
		snprintf(msg, len, "unknown op type %d", (int)op->op);
		return -EINVAL;
	}
link_err:
	snprintf(msg, len, "gpuva_link of a remap piece: %s", gpuvm_err_name(ret));
	return ret;
}

static struct fpiece fp_map(const struct gpuva_op_map *m)
{
	struct fpiece p = {
		.addr = m->va.addr,
		.range = m->va.range,
		.offset = m->gem.offset,
		.obj = m->gem.obj,
	};

	return p;
}

static struct fpiece fp_va(const struct gpuva *va)
{
	struct fpiece p = {
		.addr = va->va.addr,
		.range = va->va.range,
		.offset = va->gem.offset,
		.obj = gpuva_gem(va),
	};

	return p;
}

/* Only the fields of the op's type are read. */
static struct fop flatten(const struct gpuva_op *op)
{
	struct fop f;

	memset(&f, 0, sizeof(f));
	f.type = op->op;
	switch (op->op) {
	case GPUVA_OP_MAP:
		f.va = fp_map(&op->map);
		break;
	case GPUVA_OP_REMAP:
		f.va = fp_va(op->remap.unmap->va);
		f.keep = op->remap.unmap->keep;
		if (op->remap.prev) {
			f.has_prev = true;
			f.prev = fp_map(op->remap.prev);
		}
		if (op->remap.next) {
			f.has_next = true;
			f.next = fp_map(op->remap.next);
		}
		break;
	case GPUVA_OP_UNMAP:
		f.va = fp_va(op->unmap.va);
		f.keep = op->unmap.keep;
		break;
	case GPUVA_OP_PREFETCH:
		f.va = fp_va(op->prefetch.va);
		break;
	default:
		break;
	}
	return f;
}

static struct fpiece fp_model_piece(struct ctx *c, const struct rm_piece *p)
{
	struct fpiece f = {
		.addr = p->addr,
		.range = p->range,
		.offset = p->offset,
		.obj = gem_of(c, p->bo),
	};

	return f;
}

static struct fpiece fp_model_va(struct ctx *c, const struct rm_mapping *m)
{
	struct fpiece f = {
		.addr = m->addr,
		.range = m->range,
		.offset = m->offset,
		.obj = gem_of(c, m->bo),
	};

	return f;
}

static void model_to_fops(struct ctx *c, const struct rm_ops *ops, struct fops *out)
{
	static const enum gpuva_op_type map_type[] = {
		[RM_OP_MAP] = GPUVA_OP_MAP,
		[RM_OP_REMAP] = GPUVA_OP_REMAP,
		[RM_OP_UNMAP] = GPUVA_OP_UNMAP,
		[RM_OP_PREFETCH] = GPUVA_OP_PREFETCH,
	};

	out->n = 0;
	for (size_t i = 0; i < ops->n; i++) {
		const struct rm_op *o = &ops->op[i];
		struct fop f;

		memset(&f, 0, sizeof(f));
		f.type = map_type[o->type];
		if (o->type == RM_OP_MAP)
			f.va = fp_model_piece(c, &o->map);
		else
			f.va = fp_model_va(c, &o->va);
		f.keep = o->keep;
		f.has_prev = o->has_prev;
		f.has_next = o->has_next;
		if (o->has_prev)
			f.prev = fp_model_piece(c, &o->prev);
		if (o->has_next)
			f.next = fp_model_piece(c, &o->next);
		if (o->type == RM_OP_REMAP || o->type == RM_OP_UNMAP)
			c->st.keeps += o->keep;
		c->st.model_ops[o->type]++;
		fops_push(out, &f);
	}
}

static bool piece_eq(const struct fpiece *a, const struct fpiece *b)
{
	return a->addr == b->addr && a->range == b->range && a->offset == b->offset &&
	       a->obj == b->obj;
}

static bool fop_eq(const struct fop *a, const struct fop *b)
{
	if (a->type != b->type || !piece_eq(&a->va, &b->va))
		return false;
	if (a->type == GPUVA_OP_MAP || a->type == GPUVA_OP_PREFETCH)
		return true;
	if (a->keep != b->keep)
		return false;
	if (a->type == GPUVA_OP_UNMAP)
		return true;
	if (a->has_prev != b->has_prev || a->has_next != b->has_next)
		return false;
	if (a->has_prev && !piece_eq(&a->prev, &b->prev))
		return false;
	return !a->has_next || piece_eq(&a->next, &b->next);
}

static void compare_fops(struct ctx *c, const char *what, const struct fops *want,
			 const struct fops *got)
{
	size_t i, n = want->n < got->n ? want->n : got->n;

	for (i = 0; i < n; i++)
		if (!fop_eq(&want->op[i], &got->op[i]))
			break;
	if (i == n && want->n == got->n) {
		c->st.ops_compared += want->n;
		return;
	}
	fprintf(stderr, "model: %s: first difference at op %zu\n", what, i);
	print_fops(c, stderr, "expected (model)", want);
	print_fops(c, stderr, "got (library)", got);
	mismatch(c, "%s: op lists differ at op %zu", what, i);
}

/* ---------------------------------------------------------------------- */
/* Callback mode */

static int cb_step(struct gpuva_op *op, void *priv)
{
	struct cbstate *cb = priv;
	struct fop f = flatten(op);
	int ret;

	/* record before applying: the mapping an unmap names is freed */
	fops_push(cb->rec, &f);
	if (op->op == GPUVA_OP_REMAP || op->op == GPUVA_OP_UNMAP) {
		const struct gpuva *va =
			op->op == GPUVA_OP_REMAP ? op->remap.unmap->va : op->unmap.va;

		if (va->vm != cb->vm) {
			snprintf(cb->msg, sizeof(cb->msg),
				 "callback op names a mapping of another VM");
			cb->err = -EUCLEAN;
			return cb->err;
		}
	}
	ret = apply_op(cb->vm, op, cb->msg, sizeof(cb->msg));
	if (ret)
		cb->err = ret;
	return ret;
}

static const struct gpuvm_ops cb_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_map = cb_step,
	.sm_step_remap = cb_step,
	.sm_step_unmap = cb_step,
};

/* ---------------------------------------------------------------------- */
/* Model side of a request */

static int model_ops(struct ctx *c, const struct rm_vm *m, const struct req *r)
{
	switch (r->kind) {
	case K_MAP:
	case K_SPARSE:
		return rm_map(m, r->addr, r->range, r->bo, r->offset, &c->mops);
	case K_MADVISE:
		return rm_madvise(m, r->addr, r->range, r->bo, r->offset, &c->mops);
	case K_UNMAP:
		return rm_unmap(m, r->addr, r->range, &c->mops);
	case K_PREFETCH:
		return rm_prefetch(m, r->addr, r->range, &c->mops);
	case K_BO_UNMAP:
		return rm_bo_unmap(m, r->bo, &c->mops);
	default:
		fail();
	}
	return -EINVAL;
}

static struct gpuvm_map_req lib_map_req(struct ctx *c, const struct req *r)
{
	struct gpuvm_map_req mr;

	memset(&mr, 0, sizeof(mr));
	mr.sz = sizeof(mr);
	mr.map.va.addr = r->addr;
	mr.map.va.range = r->range;
	mr.map.gem.offset = r->offset;
	mr.map.gem.obj = (struct gpuvm_gem *)gem_of(c, r->bo);
	return mr;
}

/* ---------------------------------------------------------------------- */
/* Running one request on one library VM */

static void run_list(struct ctx *c, struct libvm *lv, const struct req *r, int want_ret)
{
	struct gpuvm *vm = &lv->vm;
	struct gpuvm_map_req mr = lib_map_req(c, r);
	struct gpuvm_bo *vm_bo = NULL;
	struct gpuva_ops *ops = NULL;
	struct gpuva_op *op;
	char msg[256] = "";
	size_t count = 0;
	int ret = 0;

	switch (r->kind) {
	case K_MAP:
	case K_SPARSE:
		ret = gpuvm_sm_map_ops_create(vm, &mr, &ops);
		break;
	case K_MADVISE:
		ret = gpuvm_madvise_ops_create(vm, &mr, &ops);
		break;
	case K_UNMAP:
		ret = gpuvm_sm_unmap_ops_create(vm, r->addr, r->range, &ops);
		break;
	case K_PREFETCH:
		ret = gpuvm_prefetch_ops_create(vm, r->addr, r->range, &ops);
		break;
	case K_BO_UNMAP:
		/* obtain creates an empty vm_bo when there is none: fine too */
		if (chance(c, 50)) {
			ret = gpuvm_bo_obtain(vm, &c->bo[r->bo]->base, &vm_bo);
			if (ret)
				mismatch(c, "gpuvm_bo_obtain: %s", gpuvm_err_name(ret));
		} else {
			vm_bo = gpuvm_bo_find(vm, &c->bo[r->bo]->base);
		}
		if (vm_bo)
			ret = gpuvm_bo_unmap_ops_create(vm_bo, &ops);
		break;
	default:
		fail();
	}
	if (ret != want_ret)
		mismatch(c, "%s VM: returned %s, the model says %s",
			 lv->callback ? "callback" : "list", gpuvm_err_name(ret),
			 gpuvm_err_name(want_ret));
	c->got.n = 0;
	if (ret) {
		/* a refused request hands nothing out */
		if (vm_bo)
			gpuvm_bo_put(vm_bo);
		return;
	}
	if (ops) {
		gpuva_for_each_op(op, ops) {
			struct fop f = flatten(op);
			const struct gpuva *va = NULL;

			count++;
			if (op->op == GPUVA_OP_REMAP)
				va = op->remap.unmap->va;
			else if (op->op == GPUVA_OP_UNMAP)
				va = op->unmap.va;
			else if (op->op == GPUVA_OP_PREFETCH)
				va = op->prefetch.va;
			if (va && (va->vm != vm || gpuva_find(vm, va->va.addr, va->va.range) != va))
				mismatch(c,
					 "list op %zu names a mapping that "
					 "is not inserted in this VM",
					 count - 1);
			fops_push(&c->got, &f);
		}
		if (count != ops->count)
			mismatch(c, "ops->count is %zu, the list holds %zu", ops->count, count);
	}
	compare_fops(c, lv->callback ? "list mode on the callback VM" : "list mode", &c->want,
		     &c->got);
	if (ops) {
		gpuva_for_each_op(op, ops) {
			ret = apply_op(vm, op, msg, sizeof(msg));
			if (ret)
				mismatch(c, "applying a list op: %s", msg);
		}
		gpuva_ops_free(vm, ops);
	}
	if (vm_bo && !gpuvm_bo_put(vm_bo))
		mismatch(c, "unmap-bo left the vm_bo alive after its last "
			    "mapping was unlinked");
}

static void run_callback(struct ctx *c, struct libvm *lv, const struct req *r, int want_ret)
{
	struct gpuvm *vm = &lv->vm;
	struct gpuvm_map_req mr = lib_map_req(c, r);
	unsigned int reserve = 0;
	int ret;

	/* a driver on the signalling path reserves; one that is not, not */
	if (chance(c, 50)) {
		reserve = r->kind == K_UNMAP ? 2 : 3;
		ret = gpuvm_index_reserve(vm, reserve);
		if (ret)
			mismatch(c, "gpuvm_index_reserve: %s", gpuvm_err_name(ret));
	}
	c->got_cb.n = 0;
	c->cb.c = c;
	c->cb.vm = vm;
	c->cb.rec = &c->got_cb;
	c->cb.err = 0;
	c->cb.msg[0] = 0;
	if (r->kind == K_UNMAP)
		ret = gpuvm_sm_unmap(vm, &c->cb, r->addr, r->range);
	else
		ret = gpuvm_sm_map(vm, &c->cb, &mr);
	if (reserve)
		gpuvm_index_unreserve(vm, reserve);
	if (c->cb.err)
		mismatch(c, "callback mode: applying an op: %s", c->cb.msg);
	if (ret != want_ret)
		mismatch(c, "callback VM: returned %s, the model says %s", gpuvm_err_name(ret),
			 gpuvm_err_name(want_ret));
	compare_fops(c, "callback mode", &c->want, &c->got_cb);
}

/* ---------------------------------------------------------------------- */
/* State comparison */

/* The model's mapping starting at @addr (binary search), or NULL. */
static const struct rm_mapping *model_at(const struct rm_vm *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->m[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->m[lo].addr == addr ? &m->m[lo] : NULL;
}

static void link_mismatch(struct ctx *c, const char *which, int b, size_t j, const struct gpuva *va,
			  const struct rm_mapping *y)
{
	mismatch(c,
		 "%s: b%d: link %zu is 0x%" PRIx64 "+0x%" PRIx64 ", the model has 0x%" PRIx64
		 "+0x%" PRIx64,
		 which, b, j, va->va.addr, va->va.range, y ? y->addr : 0, y ? y->range : 0);
}

static void check_state(struct ctx *c, struct libvm *lv, const struct rm_vm *m)
{
	struct gpuvm *vm = &lv->vm;
	const char *which = lv->callback ? "callback VM" : "list VM";
	size_t i = 0, nvmbo = 0;
	struct gpuva *va;
	int ret;

	gpuvm_for_each_va(va, vm) {
		struct fpiece got = fp_va(va), want;
		struct gpuvm_bo *vm_bo = gpuva_vm_bo(va);

		if (i >= m->n)
			mismatch(c, "%s: extra mapping 0x%" PRIx64 "+0x%" PRIx64, which, got.addr,
				 got.range);
		want = fp_model_va(c, &m->m[i]);
		if (!piece_eq(&got, &want)) {
			fputs("model: state: expected ", stderr);
			print_piece(c, stderr, &want);
			fputs(", got ", stderr);
			print_piece(c, stderr, &got);
			fputc('\n', stderr);
			mismatch(c, "%s: mapping %zu differs", which, i);
		}
		if (va->vm != vm)
			mismatch(c, "%s: mapping %zu has the wrong vm", which, i);
		if (!!vm_bo != !!got.obj)
			mismatch(c, "%s: mapping %zu is %slinked", which, i, vm_bo ? "" : "not ");
		if (vm_bo && (vm_bo->vm != vm || vm_bo->obj != got.obj))
			mismatch(c,
				 "%s: mapping %zu is linked to a foreign "
				 "vm_bo",
				 which, i);
		i++;
	}
	if (i != m->n)
		mismatch(c, "%s: %zu mappings, the model has %zu", which, i, m->n);

	for (int b = 0; b < NBO; b++) {
		const struct rm_links *l = &m->links[b];
		struct gpuvm_bo *vm_bo = gpuvm_bo_find(vm, &c->bo[b]->base);
		size_t j = 0;

		if (!vm_bo) {
			if (l->n)
				mismatch(c,
					 "%s: no vm_bo for b%d, the model "
					 "links %zu mappings",
					 which, b, l->n);
			continue;
		}
		nvmbo++;
		gpuvm_bo_for_each_va(va, vm_bo) {
			const struct rm_mapping *x;

			if (j >= l->n)
				mismatch(c, "%s: b%d: extra linked mapping", which, b);
			x = model_at(m, va->va.addr);
			if (!x || x->id != l->id[j] || va->va.addr != x->addr ||
			    va->va.range != x->range || va->gem.offset != x->offset ||
			    gpuva_vm_bo(va) != vm_bo)
				link_mismatch(c, which, b, j, va, rm_find_id(m, l->id[j]));
			j++;
		}
		if (j != l->n)
			mismatch(c,
				 "%s: b%d: %zu linked mappings, the model "
				 "has %zu",
				 which, b, j, l->n);
		/* one reference per link, plus the one find gave us */
		if (vm_bo->refcount != l->n + 1)
			mismatch(c, "%s: b%d: vm_bo refcount %u with %zu links", which, b,
				 vm_bo->refcount, l->n);
		gpuvm_bo_put(vm_bo);
	}
	/* each vm_bo holds a reference on its VM */
	if (vm->refcount != nvmbo + 1)
		mismatch(c, "%s: refcount %u with %zu vm_bos", which, vm->refcount, nvmbo);
	ret = gpuvm_verify(vm);
	if (ret)
		mismatch(c, "%s: gpuvm_verify: %s", which, gpuvm_err_name(ret));
}

static void check_gems(struct ctx *c)
{
	for (int b = 0; b < NBO; b++) {
		struct gpuvm_gem *obj = &c->bo[b]->base;
		const struct gpuvm *seen[2 * NLVM];
		struct gpuvm_bo *vm_bo;
		size_t want = 0, n = 0;

		for (int v = 0; v < NLVM; v++)
			if (c->lvm[v].model.links[b].n)
				want += 2;
		gpuvm_gem_for_each_vm_bo(vm_bo, obj) {
			if (n == 2 * NLVM)
				mismatch(c, "b%d: too many vm_bos", b);
			if (vm_bo->obj != obj)
				mismatch(c, "b%d: foreign vm_bo on its list", b);
			for (size_t k = 0; k < n; k++)
				if (seen[k] == vm_bo->vm)
					mismatch(c, "b%d: two vm_bos for one VM", b);
			seen[n++] = vm_bo->vm;
		}
		if (n != want)
			mismatch(c, "b%d: %zu vm_bos, expected %zu", b, n, want);
		/* ours, plus one per vm_bo */
		if (obj->refcount != n + 1)
			mismatch(c, "b%d: gem refcount %u with %zu vm_bos", b, obj->refcount, n);
	}
}

/* ---------------------------------------------------------------------- */
/* Request generation */

static int64_t small_delta(struct ctx *c)
{
	static const int64_t d[] = { 0, 0, 0, 0, 0, 1, -1, 1, -1, 2, -2, 3 };

	return d[below(c, sizeof(d) / sizeof(d[0]))];
}

/* A point near existing boundaries half of the time, else in the window. */
static uint64_t pick_point(struct ctx *c, const struct rm_vm *m)
{
	const struct config *cf = c->cfg;

	if (m->n && chance(c, 50)) {
		const struct rm_mapping *x = &m->m[below(c, m->n)];
		uint64_t p = chance(c, 50) ? x->addr : x->addr + x->range;

		return p + (uint64_t)small_delta(c) * cf->gran;
	}
	return cf->win_lo + below(c, cf->win_n) * cf->gran;
}

static uint64_t pick_len(struct ctx *c)
{
	const struct config *cf = c->cfg;
	uint64_t n;

	if (chance(c, 65))
		n = 1 + below(c, 8);
	else if (chance(c, 85))
		n = 1 + below(c, cf->max_len);
	else
		n = 1 + below(c, cf->win_n / 4);
	return n * cf->gran;
}

static void pick_range(struct ctx *c, const struct rm_vm *m, uint64_t *addr, uint64_t *range)
{
	uint64_t a = pick_point(c, m), e, lim = c->cfg->max_len * c->cfg->gran * 4;

	if (chance(c, 40)) {
		e = pick_point(c, m);
		if (e > a && e - a <= lim) {
			*addr = a;
			*range = e - a;
			return;
		}
		if (e < a && a - e <= lim) {
			*addr = e;
			*range = a - e;
			return;
		}
	}
	*addr = a;
	*range = pick_len(c);
}

static bool obj_fits(uint64_t size, uint64_t offset, uint64_t range)
{
	return offset <= UINT64_MAX - range && offset + range <= size;
}

/* An object range for a valid map of @range bytes at @addr. */
static void pick_obj(struct ctx *c, const struct rm_vm *m, uint64_t addr, uint64_t range, int *bo,
		     uint64_t *offset)
{
	const struct config *cf = c->cfg;
	uint64_t g = cf->gran;

	/* continue an existing mapping's object offsets: keep=1 territory */
	if (m->n && chance(c, 45)) {
		const struct rm_mapping *near = NULL;
		size_t nnear = 0;

		/* prefer one the request overlaps (a reservoir pick) */
		for (size_t i = 0; i < m->n; i++) {
			const struct rm_mapping *x = &m->m[i];

			if (x->bo != RM_NO_BO && x->addr < addr + range &&
			    addr < x->addr + x->range && !below(c, ++nnear))
				near = x;
		}
		for (int tries = 0; tries < 4; tries++) {
			const struct rm_mapping *x = &m->m[below(c, m->n)];
			uint64_t off;

			if (near && tries < 2)
				x = near;

			if (x->bo == RM_NO_BO)
				continue;
			if (addr >= x->addr) {
				if (addr - x->addr > UINT64_MAX - x->offset)
					continue;
				off = x->offset + (addr - x->addr);
			} else {
				if (x->addr - addr > x->offset)
					continue;
				off = x->offset - (x->addr - addr);
			}
			if (chance(c, 10))
				off += g; /* same object, off by a granule */
			if (!obj_fits(cf->bo_size[x->bo], off, range))
				continue;
			*bo = x->bo;
			*offset = off;
			return;
		}
	}
	for (int tries = 0; tries < 8; tries++) {
		int b = (int)below(c, NBO);
		uint64_t span, slots;

		if (cf->bo_size[b] < range)
			continue;
		span = cf->bo_size[b] - range;
		slots = span / g + 1;
		*bo = b;
		if (slots <= 64 || chance(c, 50))
			*offset = below(c, slots < 64 ? slots : 64) * g;
		else
			*offset = (slots - 1 - below(c, 64)) * g;
		return;
	}
	/* the huge object takes anything */
	*bo = 3;
	*offset = below(c, 64) * g;
}

static void make_invalid(struct ctx *c, const struct rm_vm *m, struct req *r)
{
	const struct config *cf = c->cfg;
	uint64_t g = cf->gran;
	static const enum kind range_kinds[] = {
		K_MAP, K_SPARSE, K_UNMAP, K_PREFETCH, K_MADVISE,
	};

	r->kind = range_kinds[below(c, 5)];
	r->bo = RM_NO_BO;
	r->offset = 0;
	pick_range(c, m, &r->addr, &r->range);
	switch (below(c, 5)) {
	case 0: /* empty */
		r->range = 0;
		break;
	case 1: /* past 2^64 - 1, or exactly to 2^64 */
		if (chance(c, 50)) {
			r->range = UINT64_MAX - r->addr + 1 + below(c, 3) * g;
		} else {
			r->addr = UINT64_MAX - below(c, 4) * g - below(c, g);
			r->range = (1 + below(c, 8)) * g;
		}
		break;
	case 2: /* across either end of the VA space */
		if (chance(c, 50) && cf->start >= 8 * g) {
			r->addr = cf->start - (1 + below(c, 4)) * g;
			r->range = (1 + below(c, 8)) * g;
		} else {
			r->addr = cf->start + cf->range - below(c, 4) * g - 1;
			r->range = (2 + below(c, 8)) * g;
		}
		break;
	case 3: /* over the reserved region */
		if (cf->res_range) {
			r->addr = cf->res_addr + cf->res_range - g -
				  below(c, cf->res_range / g + 3) * g;
			r->range = (1 + below(c, 8)) * g;
			break;
		}
		/* fall through */
	default: /* an object range the object cannot back */
		r->kind = K_MAP;
		r->bo = (int)below(c, NBO);
		if (r->range == 0)
			r->range = g;
		if (r->bo == ZERO_BO || chance(c, 30)) {
			r->offset = chance(c, 50) ? 0 : UINT64_MAX - below(c, 4 * g);
		} else if (cf->bo_size[r->bo] >= r->range) {
			r->offset = cf->bo_size[r->bo] - r->range + 1 + below(c, 2) * g;
		} else {
			r->offset = 0;
		}
		break;
	}
	if (r->kind == K_MAP && r->bo == RM_NO_BO)
		pick_obj(c, m, r->addr, r->range ? r->range : g, &r->bo, &r->offset);
}

/* A range that starts and ends in, at or just outside a sparse mapping. */
static void cut_sparse(struct ctx *c, const struct rm_vm *m, uint64_t *addr, uint64_t *range)
{
	uint64_t g = c->cfg->gran, a, e, n;

	for (int tries = 0; tries < 4; tries++) {
		const struct rm_mapping *x = &m->m[below(c, m->n)];

		if (x->bo != RM_NO_BO)
			continue;
		n = x->range / g;
		switch (below(c, 3)) {
		case 0:
			a = x->addr;
			break;
		case 1:
			a = x->addr + below(c, n) * g;
			break;
		default:
			a = x->addr - (1 + below(c, 4)) * g;
			break;
		}
		switch (below(c, 3)) {
		case 0:
			e = x->addr + x->range;
			break;
		case 1:
			e = x->addr + (1 + below(c, n)) * g;
			break;
		default:
			e = x->addr + x->range + (1 + below(c, 4)) * g;
			break;
		}
		if (e <= a)
			e = a + g;
		*addr = a;
		*range = e - a;
		return;
	}
}

/*
 * Cumulative weights of the kinds, out of 100, in the order of enum kind;
 * [0, 7) are refused requests. The mix cycles through phases so that the
 * VMs fill up to a few hundred mappings and drain to nearly none again.
 */
#define PHASE_LEN 3000
static const uint8_t kind_mix[3][K_NKINDS] = {
	{ 40, 50, 70, 78, 93, 100 }, /* balanced */
	{ 52, 65, 72, 79, 97, 100 }, /* growing */
	{ 30, 35, 70, 76, 86, 100 }, /* draining */
};

static void gen_request(struct ctx *c, struct req *r)
{
	const uint8_t *mix = kind_mix[(c->reqno / PHASE_LEN) % 3];
	const struct rm_vm *m;
	uint64_t w = below(c, 100);

	memset(r, 0, sizeof(*r));
	r->vm = (int)below(c, NLVM);
	r->bo = RM_NO_BO;
	m = &c->lvm[r->vm].model;
	if (w < 7) {
		make_invalid(c, m, r);
		return;
	}
	r->kind = K_MAP;
	while (w >= mix[r->kind])
		r->kind++;

	if (r->kind == K_BO_UNMAP) {
		r->bo = (int)below(c, NBO);
		return;
	}
	pick_range(c, m, &r->addr, &r->range);
	if (r->kind == K_MADVISE && m->n && chance(c, 50))
		cut_sparse(c, m, &r->addr, &r->range);
	if (r->kind == K_MAP || (r->kind == K_MADVISE && chance(c, 10)))
		pick_obj(c, m, r->addr, r->range, &r->bo, &r->offset);
}

/* ---------------------------------------------------------------------- */
/* One request on one logical VM */

static void run_request(struct ctx *c, const struct req *r)
{
	struct rm_vm *m = &c->lvm[r->vm].model;
	struct libvm *lv;
	int want_ret;
	bool rv;

	format_req(c, r);
	if (c->trace)
		fprintf(stderr, "model: #%zu %s\n", c->reqno, c->reqtxt);

	want_ret = model_ops(c, m, r);
	if (want_ret && want_ret != -EINVAL)
		mismatch(c, "the model failed: %s", gpuvm_err_name(want_ret));
	model_to_fops(c, &c->mops, &c->want);
	c->st.requests[r->kind]++;
	if (want_ret)
		c->st.invalid[r->kind]++;
	if (r->kind == K_MADVISE && c->mops.n)
		c->st.madvise_split++;

	if (r->kind != K_BO_UNMAP) {
		rv = gpuvm_range_valid(&c->lvm[r->vm].lib[0].vm, r->addr, r->range);
		if (rv != rm_range_valid(m, r->addr, r->range))
			mismatch(c, "gpuvm_range_valid says %d", rv);
	}

	lv = &c->lvm[r->vm].lib[0];
	run_list(c, lv, r, want_ret);
	lv = &c->lvm[r->vm].lib[1];
	if (r->kind == K_MAP || r->kind == K_SPARSE || r->kind == K_UNMAP) {
		run_callback(c, lv, r, want_ret);
		compare_fops(c, "callback mode vs list mode", &c->got, &c->got_cb);
	} else {
		run_list(c, lv, r, want_ret);
	}

	if (!want_ret && rm_apply(m, &c->mops))
		mismatch(c, "the model could not apply its ops");

	for (int v = 0; v < NLVM; v++) {
		struct rm_vm *mv = &c->lvm[v].model;

		if (v == r->vm) {
			check_state(c, &c->lvm[v].lib[0], mv);
			check_state(c, &c->lvm[v].lib[1], mv);
		} else {
			for (int k = 0; k < 2; k++) {
				int ret = gpuvm_verify(&c->lvm[v].lib[k].vm);

				if (ret)
					mismatch(c,
						 "gpuvm_verify of another "
						 "VM: %s",
						 gpuvm_err_name(ret));
			}
		}
	}
	check_gems(c);

	if (m->n > c->st.max_mappings)
		c->st.max_mappings = m->n;
	c->st.sum_mappings += m->n;
	/* give cached index nodes back now and then */
	if (chance(c, 2))
		gpuvm_index_trim(&c->lvm[r->vm].lib[below(c, 2)].vm);
}

/* ---------------------------------------------------------------------- */
/* Setup and teardown */

static void tbo_free(struct gpuvm_gem *obj)
{
	struct tbo *bo = to_tbo(obj);

	assert_int_equal(gpuvm_gem_fini(obj), 0);
	free(bo);
}

static const struct gpuvm_gem_funcs tbo_funcs = {
	.free = tbo_free,
};

static void ctx_init(struct ctx *c, const struct config *cf, unsigned int idx)
{
	uint64_t s = g_seed ^ (0x9e3779b97f4a7c15ull * (idx + 1));
	const char *t = getenv("GPUVM_MODEL_TRACE");

	memset(c, 0, sizeof(*c));
	c->cfg = cf;
	c->seed = g_seed;
	c->rng = splitmix64(&s);
	c->trace = t && *t && strcmp(t, "0") != 0;
	snprintf(c->reqtxt, sizeof(c->reqtxt), "(setup)");
	rm_ops_init(&c->mops);

	for (int b = 0; b < NBO; b++) {
		GPUVM_OPTS(gpuvm_gem_opts, go, .size = cf->bo_size[b], .funcs = &tbo_funcs);

		c->bo[b] = calloc(1, sizeof(*c->bo[b]));
		assert_non_null(c->bo[b]);
		c->bo[b]->id = b;
		assert_int_equal(gpuvm_gem_init(&c->bo[b]->base, &go), 0);
	}
	for (int v = 0; v < NLVM; v++) {
		assert_int_equal(rm_vm_init(&c->lvm[v].model, cf->start, cf->range, cf->res_addr,
					    cf->res_range, NBO, cf->bo_size),
				 0);
		for (int k = 0; k < 2; k++) {
			struct libvm *lv = &c->lvm[v].lib[k];
			struct gpuvm_allocator al = {
				.alloc = ca_alloc,
				.free = ca_free,
				.user_data = &lv->ca,
			};
			GPUVM_OPTS(gpuvm_init_opts, o, .name = cf->name, .start = cf->start,
				   .range = cf->range, .reserve_addr = cf->res_addr,
				   .reserve_range = cf->res_range, .ops = k ? &cb_ops : NULL,
				   .alloc = &al);

			lv->callback = k == 1;
			assert_int_equal(gpuvm_init(&lv->vm, &o), 0);
			lv->inited = true;
		}
	}
}

static void ctx_fini(struct ctx *c)
{
	for (int v = 0; v < NLVM; v++) {
		for (int k = 0; k < 2; k++) {
			struct libvm *lv = &c->lvm[v].lib[k];
			struct gpuva *va, *next;

			if (!lv->inited)
				continue;
			gpuvm_for_each_va_safe(va, next, &lv->vm) {
				assert_int_equal(gpuva_remove(va), 0);
				if (gpuva_vm_bo(va))
					assert_int_equal(gpuva_unlink(va), 0);
				free(va);
			}
			/* every vm_bo went with its last mapping */
			assert_int_equal(lv->vm.refcount, 1);
			gpuvm_put(&lv->vm);
			assert_int_equal(lv->ca.live_allocs, 0);
			assert_int_equal(lv->ca.live_bytes, 0);
		}
		rm_vm_fini(&c->lvm[v].model);
	}
	for (int b = 0; b < NBO; b++) {
		if (!c->bo[b])
			continue;
		assert_true(gpuvm_list_empty(&c->bo[b]->base.gpuva.list));
		assert_int_equal(c->bo[b]->base.refcount, 1);
		gpuvm_gem_put(&c->bo[b]->base);
	}
	rm_ops_fini(&c->mops);
	free(c->want.op);
	free(c->got.op);
	free(c->got_cb.op);
}

static void print_stats(const char *what, const struct stats *st, uint64_t nreq)
{
	uint64_t total = 0, invalid = 0;

	for (int k = 0; k < K_NKINDS; k++) {
		total += st->requests[k];
		invalid += st->invalid[k];
	}
	printf("model: %s: seed=0x%" PRIx64 " requests=%" PRIu64 " (", what, g_seed, total);
	for (int k = 0; k < K_NKINDS; k++)
		printf("%s%s=%" PRIu64, k ? " " : "", kind_name[k], st->requests[k]);
	printf("; refused=%" PRIu64 ") ops_compared=%" PRIu64 " (model: map=%" PRIu64
	       " remap=%" PRIu64 " unmap=%" PRIu64 " prefetch=%" PRIu64 " keep=%" PRIu64
	       " madvise_split=%" PRIu64 ") mappings max=%" PRIu64 " avg=%" PRIu64 "\n",
	       invalid, st->ops_compared, st->model_ops[RM_OP_MAP], st->model_ops[RM_OP_REMAP],
	       st->model_ops[RM_OP_UNMAP], st->model_ops[RM_OP_PREFETCH], st->keeps,
	       st->madvise_split, st->max_mappings, nreq ? st->sum_mappings / nreq : 0);
	fflush(stdout);
}

static uint64_t config_requests(unsigned int idx)
{
	uint64_t n = g_requests / NCONFIG;

	return n + (idx < g_requests % NCONFIG ? 1 : 0);
}

static void test_config(void **state)
{
	const struct config *cf = *state;
	unsigned int idx = (unsigned int)(cf - configs);
	uint64_t n = config_requests(idx);
	struct ctx *c = calloc(1, sizeof(*c));
	struct req r;

	assert_non_null(c);
	ctx_init(c, cf, idx);
	for (c->reqno = 0; c->reqno < n; c->reqno++) {
		gen_request(c, &r);
		run_request(c, &r);
	}
	snprintf(c->reqtxt, sizeof(c->reqtxt), "(teardown)");
	print_stats(cf->name, &c->st, n);
	for (int k = 0; k < K_NKINDS; k++) {
		g_total.requests[k] += c->st.requests[k];
		g_total.invalid[k] += c->st.invalid[k];
	}
	g_total.ops_compared += c->st.ops_compared;
	g_total.keeps += c->st.keeps;
	g_total.madvise_split += c->st.madvise_split;
	for (int k = 0; k < 4; k++)
		g_total.model_ops[k] += c->st.model_ops[k];
	g_total.sum_mappings += c->st.sum_mappings;
	if (c->st.max_mappings > g_total.max_mappings)
		g_total.max_mappings = c->st.max_mappings;
	ctx_fini(c);
	free(c);
}

/* ---------------------------------------------------------------------- */
/* The model checked against cases worked out by hand from the rules */

struct hand_op {
	enum rm_op_type type;
	uint64_t addr, range, offset; /* map, or the existing mapping */
	int bo;
	int keep;
	uint64_t pa, pr, po; /* prev piece, pr == 0: none */
	uint64_t na, nr, no; /* next piece, nr == 0: none */
};

static void expect_ops(const struct rm_ops *got, const struct hand_op *want, size_t n)
{
	assert_int_equal(got->n, n);
	for (size_t i = 0; i < n; i++) {
		const struct rm_op *o = &got->op[i];
		const struct hand_op *w = &want[i];

		assert_int_equal(o->type, w->type);
		if (o->type == RM_OP_MAP) {
			assert_int_equal(o->map.addr, w->addr);
			assert_int_equal(o->map.range, w->range);
			assert_int_equal(o->map.offset, w->offset);
			assert_int_equal(o->map.bo, w->bo);
			continue;
		}
		assert_int_equal(o->va.addr, w->addr);
		assert_int_equal(o->va.range, w->range);
		assert_int_equal(o->va.offset, w->offset);
		assert_int_equal(o->va.bo, w->bo);
		assert_int_equal(o->keep, w->keep);
		assert_int_equal(o->has_prev, w->pr != 0);
		assert_int_equal(o->has_next, w->nr != 0);
		if (w->pr) {
			assert_int_equal(o->prev.addr, w->pa);
			assert_int_equal(o->prev.range, w->pr);
			assert_int_equal(o->prev.offset, w->po);
			assert_int_equal(o->prev.bo, o->va.bo);
		}
		if (w->nr) {
			assert_int_equal(o->next.addr, w->na);
			assert_int_equal(o->next.range, w->nr);
			assert_int_equal(o->next.offset, w->no);
			assert_int_equal(o->next.bo, o->va.bo);
		}
	}
}

static void setup_hand_vm(struct rm_vm *vm, struct rm_ops *ops, const uint64_t *sizes)
{
	assert_int_equal(rm_vm_init(vm, 0, 1ull << 32, 0, 0, 2, sizes), 0);
	/*
	 * sparse A [0x1000,0x3000), B [0x3000,0x4000) = b0@0x2000,
	 * sparse C [0x4000,0x6000)
	 */
	assert_int_equal(rm_map(vm, 0x1000, 0x2000, RM_NO_BO, 0, ops), 0);
	assert_int_equal(rm_apply(vm, ops), 0);
	assert_int_equal(rm_map(vm, 0x3000, 0x1000, 0, 0x2000, ops), 0);
	assert_int_equal(rm_apply(vm, ops), 0);
	assert_int_equal(rm_map(vm, 0x4000, 0x2000, RM_NO_BO, 0, ops), 0);
	assert_int_equal(rm_apply(vm, ops), 0);
}

static void test_refmodel(void **state)
{
	static const uint64_t sizes[2] = { 0x10000, 0x10000 };
	struct rm_vm vm;
	struct rm_ops ops;
	const int S = RM_NO_BO;

	(void)state;
	rm_ops_init(&ops);
	setup_hand_vm(&vm, &ops, sizes);

	/* madvise (4) on A, B ignored, (6) on C */
	{
		const struct hand_op w[] = {
			{ RM_OP_REMAP, 0x1000, 0x2000, 0, S, 0, 0x1000, 0x1000, 0, 0, 0, 0 },
			{ RM_OP_MAP, 0x2000, 0x1000, 0, S, 0, 0, 0, 0, 0, 0, 0 },
			{ RM_OP_REMAP, 0x4000, 0x2000, 0, S, 0, 0, 0, 0, 0x5000, 0x1000, 0x1000 },
			{ RM_OP_MAP, 0x4000, 0x1000, 0, S, 0, 0, 0, 0, 0, 0, 0 },
		};

		assert_int_equal(rm_madvise(&vm, 0x2000, 0x3000, S, 0, &ops), 0);
		expect_ops(&ops, w, 4);
	}
	/* exactly A, inside-ish span, object only: nothing */
	assert_int_equal(rm_madvise(&vm, 0x1000, 0x2000, S, 0, &ops), 0);
	assert_int_equal(ops.n, 0);
	assert_int_equal(rm_madvise(&vm, 0x800, 0x3000, S, 0, &ops), 0);
	assert_int_equal(ops.n, 0);
	assert_int_equal(rm_madvise(&vm, 0x3000, 0x1000, S, 0, &ops), 0);
	assert_int_equal(ops.n, 0);
	/* (5) */
	{
		const struct hand_op w[] = {
			{ RM_OP_REMAP, 0x1000, 0x2000, 0, S, 0, 0x1000, 0x800, 0, 0x2800, 0x800,
			  0x1800 },
			{ RM_OP_MAP, 0x1800, 0x1000, 0x40, 1, 0, 0, 0, 0, 0, 0, 0 },
		};

		assert_int_equal(rm_madvise(&vm, 0x1800, 0x1000, 1, 0x40, &ops), 0);
		expect_ops(&ops, w, 2);
	}
	/* (2) */
	{
		const struct hand_op w[] = {
			{ RM_OP_REMAP, 0x1000, 0x2000, 0, S, 0, 0, 0, 0, 0x2000, 0x1000, 0x1000 },
			{ RM_OP_MAP, 0x1000, 0x1000, 0, S, 0, 0, 0, 0, 0, 0, 0 },
		};

		assert_int_equal(rm_madvise(&vm, 0x1000, 0x1000, S, 0, &ops), 0);
		expect_ops(&ops, w, 2);
	}
	/* (3) */
	{
		const struct hand_op w[] = {
			{ RM_OP_REMAP, 0x1000, 0x2000, 0, S, 0, 0x1000, 0x1000, 0, 0, 0, 0 },
			{ RM_OP_MAP, 0x2000, 0x1000, 0, S, 0, 0, 0, 0, 0, 0, 0 },
		};

		assert_int_equal(rm_madvise(&vm, 0x2000, 0x1000, S, 0, &ops), 0);
		expect_ops(&ops, w, 2);
	}
	/* map over all three: sparse pieces carry arithmetic offsets, B keeps */
	{
		const struct hand_op w[] = {
			{ RM_OP_REMAP, 0x1000, 0x2000, 0, S, 0, 0x1000, 0x800, 0, 0, 0, 0 },
			{ RM_OP_UNMAP, 0x3000, 0x1000, 0x2000, 0, 1, 0, 0, 0, 0, 0, 0 },
			{ RM_OP_REMAP, 0x4000, 0x2000, 0, S, 0, 0, 0, 0, 0x5800, 0x800, 0x1800 },
			{ RM_OP_MAP, 0x1800, 0x4000, 0x800, 0, 0, 0, 0, 0, 0, 0, 0 },
		};

		assert_int_equal(rm_map(&vm, 0x1800, 0x4000, 0, 0x800, &ops), 0);
		expect_ops(&ops, w, 4);
	}
	/* the same object at another offset: keep=0; C only touches R */
	{
		const struct hand_op w[] = {
			{ RM_OP_REMAP, 0x1000, 0x2000, 0, S, 0, 0x1000, 0x1000, 0, 0, 0, 0 },
			{ RM_OP_UNMAP, 0x3000, 0x1000, 0x2000, 0, 0, 0, 0, 0, 0, 0, 0 },
			{ RM_OP_MAP, 0x2000, 0x2000, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		};

		assert_int_equal(rm_map(&vm, 0x2000, 0x2000, 0, 0, &ops), 0);
		expect_ops(&ops, w, 3);
	}
	/* refusals */
	assert_int_equal(rm_map(&vm, 0x2000, 0x2000, 0, 0xf000, &ops), -EINVAL);
	assert_int_equal(rm_map(&vm, 0x2000, 0, S, 0, &ops), -EINVAL);
	assert_int_equal(rm_unmap(&vm, 0xfffff000, 0x1000, &ops), 0);
	assert_int_equal(rm_unmap(&vm, 0xfffff000, 0x1001, &ops), -EINVAL);
	assert_int_equal(rm_prefetch(&vm, UINT64_MAX, 1, &ops), -EINVAL);
	rm_vm_fini(&vm);

	/* link order: a remap appends prev, then next, then drops the old */
	assert_int_equal(rm_vm_init(&vm, 0, 1ull << 32, 0, 0, 2, sizes), 0);
	assert_int_equal(rm_map(&vm, 0x10000, 0x3000, 1, 0, &ops), 0);
	assert_int_equal(rm_apply(&vm, &ops), 0);
	assert_int_equal(rm_map(&vm, 0x20000, 0x1000, 1, 0x5000, &ops), 0);
	assert_int_equal(rm_apply(&vm, &ops), 0);
	assert_int_equal(rm_map(&vm, 0x11000, 0x1000, S, 0, &ops), 0);
	assert_int_equal(rm_apply(&vm, &ops), 0);
	{
		const struct hand_op w[] = {
			{ RM_OP_UNMAP, 0x20000, 0x1000, 0x5000, 1, 0, 0, 0, 0, 0, 0, 0 },
			{ RM_OP_UNMAP, 0x10000, 0x1000, 0, 1, 0, 0, 0, 0, 0, 0, 0 },
			{ RM_OP_UNMAP, 0x12000, 0x1000, 0x2000, 1, 0, 0, 0, 0, 0, 0, 0 },
		};

		assert_int_equal(rm_bo_unmap(&vm, 1, &ops), 0);
		expect_ops(&ops, w, 3);
		assert_int_equal(rm_apply(&vm, &ops), 0);
		assert_int_equal(vm.n, 1);
		assert_int_equal(vm.links[1].n, 0);
	}
	rm_vm_fini(&vm);

	/* the last byte of the 64-bit space can never be mapped */
	assert_int_equal(rm_vm_init(&vm, 0ull - 0x100000, 0xfffff, 0, 0, 2, sizes), 0);
	assert_int_equal(rm_map(&vm, 0ull - 0x1000, 0x1000, S, 0, &ops), -EINVAL);
	assert_int_equal(rm_map(&vm, 0ull - 0x1000, 0xfff, S, 0, &ops), 0);
	assert_int_equal(rm_map(&vm, 0ull - 0x100001, 0x10, S, 0, &ops), -EINVAL);
	rm_vm_fini(&vm);
	rm_ops_fini(&ops);
}

/* ---------------------------------------------------------------------- */

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "model: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static struct CMUnitTest tests[NCONFIG + 1];
	const char *s;
	int ret;

	s = getenv("GPUVM_SEED");
	if (s && *s)
		g_seed = parse_u64(s, "GPUVM_SEED");
	s = getenv("GPUVM_MODEL_REQUESTS");
	if (s && *s)
		g_requests = parse_u64(s, "GPUVM_MODEL_REQUESTS");
	if (argc > 1)
		g_requests = parse_u64(argv[1], "request count");

	tests[0].name = "refmodel_hand_cases";
	tests[0].test_func = test_refmodel;
	for (size_t i = 0; i < NCONFIG; i++) {
		tests[i + 1].name = configs[i].name;
		tests[i + 1].test_func = test_config;
		tests[i + 1].initial_state = (void *)&configs[i];
	}
	printf("model: seed=0x%" PRIx64 " requests=%" PRIu64
	       " (set GPUVM_SEED / argv[1] to change)\n",
	       g_seed, g_requests);
	ret = cmocka_run_group_tests_name("model", tests, NULL, NULL);
	print_stats("total", &g_total, g_requests);
	return ret;
}
