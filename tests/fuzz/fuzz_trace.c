// SPDX-License-Identifier: MIT
/*
 * fuzz_trace: trace bytes -> the gpuvm-replay reader -> libgpuvm, checked
 * against the reference model of the tests (tests/model/refmodel.c).
 *
 * The input is a trace in the language of shared/trace-format.md (the seed
 * corpus is tests/conformance/traces/). Each line goes three ways:
 *
 * 1. The reader (tools/gpuvm-replay/trace.c) tokenizes and parses it; a
 *    second, independent tokenizer and grammar check written here from the
 *    format's text must agree with it on every token, number, name and on
 *    whether refusal rule 1 applies.
 * 2. This harness acts as an oracle: it applies refusal rules 2-8 itself,
 *    and drives libgpuvm directly with the request on two library VMs per
 *    trace VM, while the model computes the expected ops:
 *    - a list-mode VM: *_ops_create, the ops compared with the model's op
 *      for op, applied with gpuva_map/remap/unmap and link/unlink;
 *    - an immediate-mode VM in callback mode: gpuvm_sm_map/sm_unmap inside
 *      a fence-signalling section with index nodes reserved beforehand,
 *      the VM's allocator armed to abort on any use, unlinks through
 *      gpuva_unlink_defer(), and gpuvm_bo_deferred_cleanup() afterwards,
 *      whose count must equal the vm_bos that lost their last mapping.
 *    Refused requests that reach the library (ranges, object ranges) must
 *    be refused by it too, with nothing delivered.
 *    After every request both library VMs are compared with the model:
 *    mappings in address order, each vm_bo's mappings in link order,
 *    reference counts of vm_bos and VMs, gpuvm_verify(), gpuvm_stats().
 * 3. The replay tool itself (tools/gpuvm-replay/replay.c) replays the line;
 *    its listing for the line must equal the one the oracle renders from
 *    the model (echo, op lines, error names, dump lines), and its own VM
 *    must hold the model's mappings.
 *
 * Any disagreement aborts with a message naming the request. At the end
 * everything is released and the counting allocators must be back to zero
 * (ASan's leak check covers the plain mallocs).
 *
 * Bounds: the first MAX_INPUT bytes, at most MAX_REQ requests, MAX_VM VMs
 * and MAX_BO objects (a request defining one more ends the input there);
 * one input runs in milliseconds.
 */
#define _POSIX_C_SOURCE 200809L

#include "fuzz.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include <gpuvm.h>

#include "refmodel.h"
#include "rm_match.h"
#include "replay.h"
#include "test_alloc.h"

#define MAX_INPUT 8192
#define MAX_REQ 256
#define MAX_VM 4
#define MAX_BO 8

/* ---------------------------------------------------------------- text */

/* A byte string: tokens may hold any byte but '\n', NUL included. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_mem(struct sbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;

		while (cap < b->len + n)
			cap *= 2;
		ns = realloc(b->s, cap);
		FZ_CHECK(ns, "out of memory");
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static void sb_hex(struct sbuf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "0x%" PRIx64, v);

	sb_mem(b, tmp, (size_t)n);
}

/* ------------------------------------------------------ the independent reader */

/* Request words, in the order of enum trace_kind. */
static const char *const words[] = { "vm", "bo", "map", "unmap", "prefetch", "unmap-bo", "dump" };
#define NWORDS (sizeof(words) / sizeof(words[0]))

struct tok {
	const char *s;
	size_t len;
};

static bool tok_eq(struct tok t, const char *lit)
{
	return t.len == strlen(lit) && memcmp(t.s, lit, t.len) == 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The tokens of a line as the format defines them: a trailing CR and
 * everything from '#' on are not part of it, blanks separate.
 */
static size_t my_tokens(const char *s, size_t len, struct tok **arr, size_t *cap)
{
	size_t i = 0, n = 0;
	const char *hash;

	if (len && s[len - 1] == '\r')
		len--;
	hash = memchr(s, '#', len);
	if (hash)
		len = (size_t)(hash - s);
	for (;;) {
		size_t start;

		while (i < len && blank(s[i]))
			i++;
		if (i == len)
			return n;
		start = i;
		while (i < len && !blank(s[i]))
			i++;
		if (n == *cap) {
			size_t ncap = *cap ? 2 * *cap : 16;
			struct tok *na = realloc(*arr, ncap * sizeof(*na));

			FZ_CHECK(na, "out of memory");
			*arr = na;
			*cap = ncap;
		}
		(*arr)[n].s = s + start;
		(*arr)[n].len = i - start;
		n++;
	}
}

/* A number as the format states it: decimal, or 0x/0X hex, at most 2^64-1. */
static bool my_number(struct tok t, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	unsigned int base = 10;

	if (t.len >= 2 && t.s[0] == '0' && (t.s[1] == 'x' || t.s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == t.len)
		return false;
	for (; i < t.len; i++) {
		char c = t.s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a') + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A') + 10;
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool my_name(struct tok t)
{
	if (!t.len)
		return false;
	for (size_t i = 0; i < t.len; i++) {
		char c = t.s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* What the format says of a request's shape. */
struct shape {
	int ntok;      /* tokens of a well-formed request, 0 for an unknown word */
	int ntok_alt;  /* the other accepted count, or 0 */
	unsigned names; /* positions holding names */
	unsigned nums;  /* positions holding numbers */
};

static const struct shape shapes[NWORDS + 1] = {
	[TRACE_VM] = { 4, 7, 1u << 1, (1u << 2) | (1u << 3) | (1u << 5) | (1u << 6) },
	[TRACE_BO] = { 3, 0, 1u << 1, 1u << 2 },
	[TRACE_MAP] = { 6, 0, (1u << 1) | (1u << 4), (1u << 2) | (1u << 3) | (1u << 5) },
	[TRACE_UNMAP] = { 4, 0, 1u << 1, (1u << 2) | (1u << 3) },
	[TRACE_PREFETCH] = { 4, 0, 1u << 1, (1u << 2) | (1u << 3) },
	[TRACE_UNMAP_BO] = { 3, 0, (1u << 1) | (1u << 2), 0 },
	[TRACE_DUMP] = { 2, 0, 1u << 1, 0 },
	[NWORDS] = { 0, 0, 0, 0 },
};

/* ------------------------------------------------------------- objects */

struct tbo {
	struct gpuvm_gem gem;
	struct tok name;
	unsigned int frees;
	int fini_ret;
};

GPUVM_CONTAINER(struct gpuvm_gem, struct tbo, gem, to_tbo)

struct lvm {
	struct gpuvm vm;
	struct test_alloc ta;
	bool inited;
};

struct tvm {
	struct tok name;
	uint64_t start, range, raddr, rrange;
	struct rm_vm model;
	struct lvm list;     /* list mode, not immediate */
	struct lvm cb;       /* callback mode, immediate, signalling path */
};

/* One callback-mode request in flight. */
struct cbrun {
	struct fz *fz;
	struct tvm *v;
	const struct rm_ops *want;
	size_t n;                /* ops delivered */
	struct gpuvm_bo *map_bo; /* the request object's vm_bo, held by us */
	struct gpuva *pool[3];   /* mappings allocated before the section */
	size_t npool;
};

struct fz {
	const char *data;
	size_t size;
	size_t reqno;
	const char *line;
	size_t linelen;

	struct tvm vm[MAX_VM];
	int nvm;
	struct tbo bo[MAX_BO];
	int nbo;
	uint64_t bo_size[MAX_BO];

	struct trace_line tl;
	struct trace_req tr;
	struct tok *tok; /* the line's tokens as read here */
	size_t tokcap;
	struct rm_ops mops;
	struct sbuf want; /* the listing the oracle expects for the line */

	/* the replay tool, its listing collected in memory */
	struct replay rp;
	struct out out;
	FILE *mf;
	char *mbuf;
	size_t mlen;
	size_t mstart;
};

/* The request being checked, for messages. */
#define REQ_FMT "request %zu '%.*s': "
#define REQ_ARGS(fz) (fz)->reqno, (int)((fz)->linelen > 120 ? 120 : (fz)->linelen), (fz)->line

#define CHECK(fz, cond, fmt, ...) FZ_CHECK(cond, REQ_FMT fmt, REQ_ARGS(fz), ##__VA_ARGS__)

static void tbo_free(struct gpuvm_gem *obj)
{
	struct tbo *b = to_tbo(obj);

	b->fini_ret = gpuvm_gem_fini(obj);
	b->frees++;
}

static const struct gpuvm_gem_funcs tbo_funcs = {
	.free = tbo_free,
};

static int find_vm(struct fz *fz, struct tok name)
{
	for (int i = 0; i < fz->nvm; i++)
		if (fz->vm[i].name.len == name.len && !memcmp(fz->vm[i].name.s, name.s, name.len))
			return i;
	return -1;
}

static int find_bo(struct fz *fz, struct tok name)
{
	for (int i = 0; i < fz->nbo; i++)
		if (fz->bo[i].name.len == name.len && !memcmp(fz->bo[i].name.s, name.s, name.len))
			return i;
	return -1;
}

static struct gpuvm_gem *gem_of(struct fz *fz, int bo)
{
	return bo == RM_NO_BO ? NULL : &fz->bo[bo].gem;
}

/* ------------------------------------------------------ expected listing */

static void want_va(struct fz *fz, uint64_t addr, uint64_t range, int bo, uint64_t offset)
{
	sb_hex(&fz->want, addr);
	sb_str(&fz->want, "+");
	sb_hex(&fz->want, range);
	sb_str(&fz->want, ":");
	if (bo == RM_NO_BO)
		sb_str(&fz->want, "-");
	else
		sb_mem(&fz->want, fz->bo[bo].name.s, fz->bo[bo].name.len);
	sb_str(&fz->want, "@");
	sb_hex(&fz->want, offset);
}

static void want_piece(struct fz *fz, bool has, const struct rm_piece *p)
{
	if (has)
		want_va(fz, p->addr, p->range, p->bo, p->offset);
	else
		sb_str(&fz->want, "-");
}

static void want_ops(struct fz *fz, const struct rm_ops *ops)
{
	for (size_t i = 0; i < ops->n; i++) {
		const struct rm_op *o = &ops->op[i];
		const struct rm_mapping *m = &o->va;

		switch (o->type) {
		case RM_OP_MAP:
			sb_str(&fz->want, "map ");
			want_va(fz, o->map.addr, o->map.range, o->map.bo, o->map.offset);
			break;
		case RM_OP_REMAP:
			sb_str(&fz->want, "remap unmap=");
			want_va(fz, m->addr, m->range, m->bo, m->offset);
			sb_str(&fz->want, o->keep ? " keep=1 prev=" : " keep=0 prev=");
			want_piece(fz, o->has_prev, &o->prev);
			sb_str(&fz->want, " next=");
			want_piece(fz, o->has_next, &o->next);
			break;
		case RM_OP_UNMAP:
			sb_str(&fz->want, "unmap ");
			want_va(fz, m->addr, m->range, m->bo, m->offset);
			sb_str(&fz->want, o->keep ? " keep=1" : " keep=0");
			break;
		case RM_OP_PREFETCH:
			sb_str(&fz->want, "prefetch ");
			want_va(fz, m->addr, m->range, m->bo, m->offset);
			break;
		}
		sb_str(&fz->want, "\n");
	}
}

/* Only the errno name is part of the contract; the text after it is free. */
static void want_error(struct fz *fz, const char *ename)
{
	sb_str(&fz->want, "error ");
	sb_str(&fz->want, ename);
	sb_str(&fz->want, "\n");
}

/*
 * The tool's listing of the line against ours, line by line; an expected
 * "error ENAME" line matches a got line that starts with it and goes on
 * with a blank.
 */
static void compare_listing(struct fz *fz, const char *got, size_t glen)
{
	const char *w = fz->want.s ? fz->want.s : "", *g = got;
	const char *wend = w + fz->want.len, *gend = got + glen;
	size_t lineno = 0;

	while (w < wend || g < gend) {
		const char *wnl = memchr(w, '\n', (size_t)(wend - w));
		const char *gnl = memchr(g, '\n', (size_t)(gend - g));
		size_t wl, gl;

		lineno++;
		CHECK(fz, wnl && gnl, "listing line %zu: expected '%.*s', the tool printed '%.*s'",
		      lineno, (int)(wnl ? wnl - w : wend - w), w, (int)(gnl ? gnl - g : gend - g),
		      g);
		wl = (size_t)(wnl - w);
		gl = (size_t)(gnl - g);
		if (wl > 6 && !memcmp(w, "error ", 6))
			CHECK(fz, gl >= wl && !memcmp(w, g, wl) && (gl == wl || g[wl] == ' '),
			      "listing line %zu: expected '%.*s', the tool printed '%.*s'", lineno,
			      (int)wl, w, (int)gl, g);
		else
			CHECK(fz, gl == wl && !memcmp(w, g, wl),
			      "listing line %zu: expected '%.*s', the tool printed '%.*s'", lineno,
			      (int)wl, w, (int)gl, g);
		w = wnl + 1;
		g = gnl + 1;
	}
}

/* --------------------------------------------------- op lists compared */

/* rm_op_matches()'s questions: objects by index, mappings by value */
static const struct gpuvm_gem *match_gem(void *ctx, int bo)
{
	return gem_of(ctx, bo);
}

static bool match_va(void *ctx, const struct gpuva *va, const struct rm_mapping *m)
{
	return va->va.addr == m->addr && va->va.range == m->range && va->gem.offset == m->offset &&
	       gpuva_gem(va) == gem_of(ctx, m->bo);
}

/* Whether the library's op @op is the model's @o. */
static bool op_matches(struct fz *fz, const struct gpuva_op *op, const struct rm_op *o)
{
	const struct rm_match mt = { .gem = match_gem, .va_is = match_va, .ctx = fz };

	return rm_op_matches(&mt, op, o);
}

static const char *op_name(enum gpuva_op_type t)
{
	static const char *const n[] = { "map", "remap", "unmap", "prefetch" };

	return (unsigned int)t < 4 ? n[t] : "?";
}

/* An op of the library and one of the model, as text for a message. */
static const char *describe(struct fz *fz, const struct gpuva_op *op, const struct rm_op *o)
{
	static char buf[512];
	const struct gpuva *va = NULL;
	int n;

	if (op->op == GPUVA_OP_MAP)
		n = snprintf(buf, sizeof(buf), "got map 0x%" PRIx64 "+0x%" PRIx64 "@0x%" PRIx64,
			     op->map.va.addr, op->map.va.range, op->map.gem.offset);
	else {
		if (op->op == GPUVA_OP_REMAP && op->remap.unmap)
			va = op->remap.unmap->va;
		else if (op->op == GPUVA_OP_UNMAP)
			va = op->unmap.va;
		else if (op->op == GPUVA_OP_PREFETCH)
			va = op->prefetch.va;
		n = snprintf(buf, sizeof(buf), "got %s of 0x%" PRIx64 "+0x%" PRIx64 " keep=%d",
			     op_name(op->op), va ? va->va.addr : 0, va ? va->va.range : 0,
			     op->op == GPUVA_OP_UNMAP	  ? op->unmap.keep
			     : op->op == GPUVA_OP_REMAP ? op->remap.unmap->keep
							: 0);
	}
	snprintf(buf + n, sizeof(buf) - (size_t)n,
		 "; the model has %s of 0x%" PRIx64 "+0x%" PRIx64 " (bo %d) keep=%d",
		 op_name((enum gpuva_op_type)o->type), o->type == RM_OP_MAP ? o->map.addr : o->va.addr,
		 o->type == RM_OP_MAP ? o->map.range : o->va.range,
		 o->type == RM_OP_MAP ? o->map.bo : o->va.bo, o->keep);
	(void)fz;
	return buf;
}

/* A list-mode list against the model's, op for op. */
static void compare_list(struct fz *fz, struct gpuvm *vm, const char *which,
			 const struct gpuva_ops *ops, const struct rm_ops *want)
{
	const struct gpuva_op *op;
	size_t i = 0;

	CHECK(fz, ops->count == want->n, "%s: %zu ops, the model has %zu", which, ops->count,
	      want->n);
	gpuva_for_each_op(op, ops) {
		const struct gpuva *va = NULL;

		CHECK(fz, i < want->n, "%s: more ops than ops->count", which);
		CHECK(fz, op_matches(fz, op, &want->op[i]), "%s: op %zu differs: %s", which, i,
		      describe(fz, op, &want->op[i]));
		if (op->op == GPUVA_OP_REMAP)
			va = op->remap.unmap->va;
		else if (op->op == GPUVA_OP_UNMAP)
			va = op->unmap.va;
		else if (op->op == GPUVA_OP_PREFETCH)
			va = op->prefetch.va;
		CHECK(fz, !va || (va->vm == vm && gpuva_find(vm, va->va.addr, va->va.range) == va),
		      "%s: op %zu names a mapping that is not inserted in this VM", which, i);
		i++;
	}
	CHECK(fz, i == want->n, "%s: the list holds %zu ops, the model %zu", which, i, want->n);
}

/* -------------------------------------------- list mode, plain VM */

static void link_or_fail(struct fz *fz, struct gpuva *va, struct gpuvm_bo *vm_bo)
{
	int rc = gpuva_link(va, vm_bo);

	CHECK(fz, rc == 0, "gpuva_link: %s", gpuvm_err_name(rc));
}

static void unlink_plain(struct fz *fz, struct gpuva *va)
{
	int rc;

	if (!gpuva_vm_bo(va)) {
		CHECK(fz, !gpuva_gem(va), "a mapping with an object is not linked");
		return;
	}
	rc = gpuva_unlink(va);
	CHECK(fz, rc == 0, "gpuva_unlink: %s", gpuvm_err_name(rc));
}

/* Apply a list made on the plain VM, the way a driver does; frees the list. */
static void apply_list(struct fz *fz, struct gpuvm *vm, struct gpuva_ops *ops,
		       struct gpuvm_bo *map_bo)
{
	struct gpuva *dead[2 * MAX_REQ + 8];
	size_t ndead = 0;
	struct gpuva_op *op;
	int rc;

	gpuva_for_each_op(op, ops) {
		struct gpuva *va, *prev = NULL, *next = NULL;
		struct gpuvm_bo *vm_bo;

		switch (op->op) {
		case GPUVA_OP_MAP:
			va = calloc(1, sizeof(*va));
			CHECK(fz, va, "out of memory");
			rc = gpuva_map(vm, va, &op->map);
			CHECK(fz, rc == 0, "list: gpuva_map: %s", gpuvm_err_name(rc));
			if (op->map.gem.obj) {
				CHECK(fz, map_bo && map_bo->obj == op->map.gem.obj,
				      "list: the map op maps another object");
				link_or_fail(fz, va, map_bo);
			}
			break;
		case GPUVA_OP_REMAP:
			va = op->remap.unmap->va;
			vm_bo = gpuva_vm_bo(va);
			if (op->remap.prev)
				prev = calloc(1, sizeof(*prev));
			if (op->remap.next)
				next = calloc(1, sizeof(*next));
			CHECK(fz, !!prev == !!op->remap.prev && !!next == !!op->remap.next,
			      "out of memory");
			rc = gpuva_remap(prev, next, &op->remap);
			CHECK(fz, rc == 0, "list: gpuva_remap: %s", gpuvm_err_name(rc));
			if (vm_bo) {
				if (prev)
					link_or_fail(fz, prev, vm_bo);
				if (next)
					link_or_fail(fz, next, vm_bo);
			}
			unlink_plain(fz, va);
			CHECK(fz, ndead < sizeof(dead) / sizeof(dead[0]), "too many ops");
			dead[ndead++] = va;
			break;
		case GPUVA_OP_UNMAP:
			va = op->unmap.va;
			rc = gpuva_unmap(&op->unmap);
			CHECK(fz, rc == 0, "list: gpuva_unmap: %s", gpuvm_err_name(rc));
			unlink_plain(fz, va);
			CHECK(fz, ndead < sizeof(dead) / sizeof(dead[0]), "too many ops");
			dead[ndead++] = va;
			break;
		default:
			CHECK(fz, false, "list: unexpected op %d", (int)op->op);
		}
	}
	/* the list still points at the replaced mappings */
	gpuva_ops_free(vm, ops);
	for (size_t i = 0; i < ndead; i++)
		free(dead[i]);
}

/* --------------------------------- callback mode, immediate VM, signalling */

static struct gpuva *pool_take(struct cbrun *cr)
{
	CHECK(cr->fz, cr->npool, "callback: more new mappings than the request may need");
	return cr->pool[--cr->npool];
}

static void link_locked(struct fz *fz, struct gpuva *va, struct gpuvm_bo *vm_bo)
{
	int rc = gpuvm_gem_gpuva_lock(vm_bo->obj);

	CHECK(fz, rc == 0, "gpuvm_gem_gpuva_lock: %s", gpuvm_err_name(rc));
	link_or_fail(fz, va, vm_bo);
	rc = gpuvm_gem_gpuva_unlock(vm_bo->obj);
	CHECK(fz, rc == 0, "gpuvm_gem_gpuva_unlock: %s", gpuvm_err_name(rc));
}

static void unlink_defer(struct fz *fz, struct gpuva *va)
{
	int rc;

	if (!gpuva_vm_bo(va)) {
		CHECK(fz, !gpuva_gem(va), "a mapping with an object is not linked");
		return;
	}
	rc = gpuva_unlink_defer(va);
	CHECK(fz, rc == 0, "gpuva_unlink_defer: %s", gpuvm_err_name(rc));
}

static int cb_step(struct gpuva_op *op, void *priv)
{
	struct cbrun *cr = priv;
	struct fz *fz = cr->fz;
	struct gpuvm *vm = &cr->v->cb.vm;
	struct gpuva *va, *prev = NULL, *next = NULL;
	struct gpuvm_bo *vm_bo;
	int rc;

	CHECK(fz, gpuvm_in_signalling(), "callback outside the signalling section");
	CHECK(fz, cr->n < cr->want->n, "callback: op %zu (%s) beyond the model's %zu", cr->n,
	      op_name(op->op), cr->want->n);
	CHECK(fz, op_matches(fz, op, &cr->want->op[cr->n]), "callback: op %zu differs: %s", cr->n,
	      describe(fz, op, &cr->want->op[cr->n]));
	cr->n++;

	switch (op->op) {
	case GPUVA_OP_MAP:
		va = pool_take(cr);
		rc = gpuva_map(vm, va, &op->map);
		CHECK(fz, rc == 0, "callback: gpuva_map: %s", gpuvm_err_name(rc));
		if (op->map.gem.obj) {
			CHECK(fz, cr->map_bo && cr->map_bo->obj == op->map.gem.obj,
			      "callback: the map op maps another object");
			link_locked(fz, va, cr->map_bo);
		}
		return 0;
	case GPUVA_OP_REMAP:
		va = op->remap.unmap->va;
		CHECK(fz, va->vm == vm, "callback: remap of another VM's mapping");
		vm_bo = gpuva_vm_bo(va);
		if (op->remap.prev)
			prev = pool_take(cr);
		if (op->remap.next)
			next = pool_take(cr);
		rc = gpuva_remap(prev, next, &op->remap);
		CHECK(fz, rc == 0, "callback: gpuva_remap: %s", gpuvm_err_name(rc));
		if (vm_bo) {
			/* the pieces first, so the old link does not drop the last reference */
			if (prev)
				link_locked(fz, prev, vm_bo);
			if (next)
				link_locked(fz, next, vm_bo);
		}
		unlink_defer(fz, va);
		free(va);
		return 0;
	case GPUVA_OP_UNMAP:
		va = op->unmap.va;
		CHECK(fz, va->vm == vm, "callback: unmap of another VM's mapping");
		rc = gpuva_unmap(&op->unmap);
		CHECK(fz, rc == 0, "callback: gpuva_unmap: %s", gpuvm_err_name(rc));
		unlink_defer(fz, va);
		free(va);
		return 0;
	default:
		CHECK(fz, false, "callback: unexpected op %d", (int)op->op);
	}
	return -EINVAL;
}

static const struct gpuvm_ops cb_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_map = cb_step,
	.sm_step_remap = cb_step,
	.sm_step_unmap = cb_step,
};

/* The number of objects with links now that the model's list will leave without any. */
static int zombies_expected(const struct rm_vm *m, const struct rm_ops *ops)
{
	int n = 0;

	for (int b = 0; b < m->nbo; b++) {
		size_t links = m->links[b].n;

		if (!links)
			continue;
		for (size_t i = 0; i < ops->n; i++) {
			const struct rm_op *o = &ops->op[i];

			if (o->type == RM_OP_MAP && o->map.bo == b)
				links++;
			if (o->type == RM_OP_REMAP && o->va.bo == b)
				links += (size_t)o->has_prev + o->has_next - 1;
			if (o->type == RM_OP_UNMAP && o->va.bo == b)
				links--;
		}
		n += links == 0;
	}
	return n;
}

/*
 * A map (@req non-NULL) or unmap request in callback mode, the way an
 * immediate-mode driver runs a bind job: everything that allocates happens
 * before the fence-signalling section (index nodes, the vm_bo, the mapping
 * structs), the section itself must not touch the allocator, and what the
 * section released is freed by the deferred cleanup afterwards.
 */
static void run_callback(struct fz *fz, struct tvm *v, const struct gpuvm_map_req *req,
			 uint64_t addr, uint64_t range)
{
	struct gpuvm *vm = &v->cb.vm;
	struct cbrun cr = { .fz = fz, .v = v, .want = &fz->mops };
	unsigned int inserts = req ? 3 : 2;
	int zombies = zombies_expected(&v->model, &fz->mops);
	bool cookie;
	int rc;

	rc = gpuvm_index_reserve(vm, inserts);
	CHECK(fz, rc == 0, "gpuvm_index_reserve: %s", gpuvm_err_name(rc));
	if (req && req->map.gem.obj) {
		rc = gpuvm_bo_obtain(vm, req->map.gem.obj, &cr.map_bo);
		CHECK(fz, rc == 0, "immediate gpuvm_bo_obtain: %s", gpuvm_err_name(rc));
	}
	for (cr.npool = 0; cr.npool < 3; cr.npool++) {
		cr.pool[cr.npool] = calloc(1, sizeof(struct gpuva));
		CHECK(fz, cr.pool[cr.npool], "out of memory");
	}

	test_alloc_forbid(&v->cb.ta, true);
	cookie = gpuvm_signalling_begin();
	rc = req ? gpuvm_sm_map(vm, &cr, req) : gpuvm_sm_unmap(vm, &cr, addr, range);
	if (cr.map_bo) {
		/* the map op's link holds the vm_bo now: never the last reference */
		int put = gpuvm_bo_put_deferred(cr.map_bo);

		CHECK(fz, put == 0, "gpuvm_bo_put_deferred of the request's vm_bo: %d", put);
	}
	gpuvm_signalling_end(cookie);
	test_alloc_forbid(&v->cb.ta, false);

	CHECK(fz, rc == 0, "callback mode: %s", gpuvm_err_name(rc));
	CHECK(fz, cr.n == fz->mops.n, "callback mode delivered %zu ops, the model has %zu", cr.n,
	      fz->mops.n);
	gpuvm_index_unreserve(vm, inserts);
	while (cr.npool)
		free(cr.pool[--cr.npool]);
	rc = gpuvm_bo_deferred_cleanup(vm);
	CHECK(fz, rc == zombies, "gpuvm_bo_deferred_cleanup freed %d vm_bos, expected %d", rc,
	      zombies);
}

/* ------------------------------------------------- state against the model */

static struct gpuvm_bo *find_bo_locked(struct fz *fz, struct lvm *l, struct gpuvm_gem *obj)
{
	struct gpuvm_bo *vm_bo;
	int rc;

	if (!gpuvm_immediate_mode(&l->vm))
		return gpuvm_bo_find(&l->vm, obj);
	rc = gpuvm_gem_gpuva_lock(obj);
	CHECK(fz, rc == 0, "gpuvm_gem_gpuva_lock: %s", gpuvm_err_name(rc));
	vm_bo = gpuvm_bo_find(&l->vm, obj);
	rc = gpuvm_gem_gpuva_unlock(obj);
	CHECK(fz, rc == 0, "gpuvm_gem_gpuva_unlock: %s", gpuvm_err_name(rc));
	return vm_bo;
}

static void check_lvm(struct fz *fz, struct tvm *v, struct lvm *l, const char *which)
{
	const struct rm_vm *m = &v->model;
	GPUVM_OPTS(gpuvm_stats, st);
	struct gpuva *va;
	size_t i = 0, nvmbo = 0;
	int rc;

	gpuvm_for_each_va(va, &l->vm) {
		const struct rm_mapping *x = i < m->n ? &m->m[i] : NULL;

		CHECK(fz, x, "%s VM '%.*s': mapping 0x%" PRIx64 "+0x%" PRIx64 " is not in the model",
		      which, (int)v->name.len, v->name.s, va->va.addr, va->va.range);
		CHECK(fz,
		      va->va.addr == x->addr && va->va.range == x->range &&
			      va->gem.offset == x->offset && gpuva_gem(va) == gem_of(fz, x->bo),
		      "%s VM '%.*s': mapping %zu is 0x%" PRIx64 "+0x%" PRIx64 "@0x%" PRIx64
		      ", the model has 0x%" PRIx64 "+0x%" PRIx64 "@0x%" PRIx64,
		      which, (int)v->name.len, v->name.s, i, va->va.addr, va->va.range,
		      va->gem.offset, x->addr, x->range, x->offset);
		CHECK(fz, va->vm == &l->vm, "%s VM: mapping %zu points to another VM", which, i);
		CHECK(fz, !gpuva_gem(va) == !gpuva_vm_bo(va), "%s VM: mapping %zu is %slinked",
		      which, i, gpuva_vm_bo(va) ? "" : "not ");
		i++;
	}
	CHECK(fz, i == m->n, "%s VM: %zu mappings, the model has %zu", which, i, m->n);

	for (int b = 0; b < fz->nbo; b++) {
		const struct rm_links *lk = &m->links[b];
		struct gpuvm_bo *vm_bo = find_bo_locked(fz, l, &fz->bo[b].gem);
		size_t j = 0;

		if (!vm_bo) {
			CHECK(fz, lk->n == 0, "%s VM: no vm_bo for bo %d, which the model links %zu times",
			      which, b, lk->n);
			continue;
		}
		nvmbo++;
		CHECK(fz, vm_bo->vm == &l->vm && vm_bo->obj == &fz->bo[b].gem,
		      "%s VM: gpuvm_bo_find returned another pair", which);
		gpuvm_bo_for_each_va(va, vm_bo) {
			const struct rm_mapping *x;

			CHECK(fz, j < lk->n, "%s VM: bo %d has more linked mappings than the model",
			      which, b);
			x = rm_find_id(m, lk->id[j]);
			CHECK(fz, x && va->va.addr == x->addr && va->va.range == x->range &&
					  gpuva_vm_bo(va) == vm_bo,
			      "%s VM: bo %d: link %zu differs from the model's link order", which, b,
			      j);
			j++;
		}
		CHECK(fz, j == lk->n, "%s VM: bo %d has %zu linked mappings, the model %zu", which,
		      b, j, lk->n);
		/* a reference per link, and the one find handed us */
		CHECK(fz, vm_bo->refcount == lk->n + 1, "%s VM: bo %d: vm_bo refcount %u, %zu links",
		      which, b, vm_bo->refcount, lk->n);
		CHECK(fz, !gpuvm_bo_put(vm_bo), "%s VM: dropping find's reference freed the vm_bo",
		      which);
	}
	CHECK(fz, l->vm.refcount == nvmbo + 1, "%s VM: refcount %u with %zu vm_bos", which,
	      l->vm.refcount, nvmbo);
	rc = gpuvm_verify(&l->vm);
	CHECK(fz, rc == 0, "%s VM: gpuvm_verify: %s", which, gpuvm_err_name(rc));
	rc = gpuvm_stats(&l->vm, &st);
	CHECK(fz, rc == 0 && st.mappings == m->n, "%s VM: gpuvm_stats: %d, %zu mappings", which,
	      rc, st.mappings);
	CHECK(fz, l->ta.errors == 0, "%s VM: the allocator saw %lu bad calls", which,
	      l->ta.errors);
}

/* The replay tool's own VM holds the model's mappings. */
static void check_tool_vm(struct fz *fz, int vi)
{
	const struct rm_vm *m = &fz->vm[vi].model;
	struct rp_vm *t;
	struct gpuva *va;
	size_t i = 0;

	CHECK(fz, (size_t)vi < fz->rp.nvm, "the tool has %zu VMs, we have %d", fz->rp.nvm,
	      fz->nvm);
	t = fz->rp.vms[vi];
	CHECK(fz, t->nlen == fz->vm[vi].name.len && !memcmp(t->name, fz->vm[vi].name.s, t->nlen),
	      "the tool's VM %d has another name", vi);
	gpuvm_for_each_va(va, &t->vm) {
		const struct rm_mapping *x = i < m->n ? &m->m[i] : NULL;
		const struct gpuvm_gem *obj = gpuva_gem(va);
		const struct rp_bo *tb = obj ? rp_bo_of(obj) : NULL;

		CHECK(fz, x && va->va.addr == x->addr && va->va.range == x->range &&
				  va->gem.offset == x->offset && !tb == (x->bo == RM_NO_BO),
		      "the tool's VM '%s': mapping %zu differs from the model", t->name, i);
		if (tb)
			CHECK(fz, tb->nlen == fz->bo[x->bo].name.len &&
					  !memcmp(tb->name, fz->bo[x->bo].name.s, tb->nlen),
			      "the tool's VM '%s': mapping %zu maps another object", t->name, i);
		i++;
	}
	CHECK(fz, i == m->n, "the tool's VM '%s' has %zu mappings, the model %zu", t->name, i,
	      m->n);
}

/* ------------------------------------------------------------ requests */

static void init_lvm(struct fz *fz, struct tvm *v, struct lvm *l, uint32_t flags,
		     const struct gpuvm_ops *ops)
{
	int rc;

	test_alloc_init(&l->ta);
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "fuzz", .flags = flags, .start = v->start,
		   .range = v->range, .reserve_addr = v->raddr, .reserve_range = v->rrange,
		   .ops = ops, .alloc = test_alloc_hooks(&l->ta));
	rc = gpuvm_init(&l->vm, &opts);
	CHECK(fz, rc == 0, "gpuvm_init: %s", gpuvm_err_name(rc));
	l->inited = true;
}

/* The library refuses the same sums (rule 3), and leaves the struct alone. */
static void init_refused(struct fz *fz, uint64_t start, uint64_t range, uint64_t raddr,
			 uint64_t rrange)
{
	GPUVM_OPTS(gpuvm_init_opts, opts, .start = start, .range = range, .reserve_addr = raddr,
		   .reserve_range = rrange);
	union {
		struct gpuvm vm;
		unsigned char b[sizeof(struct gpuvm)];
	} probe;
	int rc;

	memset(probe.b, 0x5a, sizeof(probe.b));
	rc = gpuvm_init(&probe.vm, &opts);
	CHECK(fz, rc == -EINVAL, "gpuvm_init of a VM whose sums overflow: %s", gpuvm_err_name(rc));
	for (size_t i = 0; i < sizeof(probe.b); i++)
		CHECK(fz, probe.b[i] == 0x5a, "a refused gpuvm_init wrote to the VM");
}

static void do_vm(struct fz *fz, const struct trace_req *r)
{
	uint64_t start = r->num[TRACE_VM_START], range = r->num[TRACE_VM_RANGE];
	uint64_t raddr = r->has_reserve ? r->num[TRACE_VM_RADDR] : 0;
	uint64_t rrange = r->has_reserve ? r->num[TRACE_VM_RRANGE] : 0;
	struct tvm *v;
	int rc;

	if (find_vm(fz, (struct tok){ r->vm.s, r->vm.len }) >= 0) {
		want_error(fz, "EEXIST");
		return;
	}
	if (range > UINT64_MAX - start || rrange > UINT64_MAX - raddr) {
		want_error(fz, "EINVAL");
		init_refused(fz, start, range, raddr, rrange);
		return;
	}
	v = &fz->vm[fz->nvm];
	memset(v, 0, sizeof(*v));
	v->name = (struct tok){ r->vm.s, r->vm.len };
	v->start = start;
	v->range = range;
	v->raddr = raddr;
	v->rrange = rrange;
	rc = rm_vm_init(&v->model, start, range, raddr, rrange, MAX_BO, fz->bo_size);
	CHECK(fz, rc == 0, "rm_vm_init: %d", rc);
	init_lvm(fz, v, &v->list, 0, NULL);
	init_lvm(fz, v, &v->cb, GPUVM_IMMEDIATE_MODE, &cb_ops);
	fz->nvm++;
}

static void do_bo(struct fz *fz, const struct trace_req *r)
{
	struct tok name = { r->bo.s, r->bo.len };
	struct tbo *b;
	int rc;

	if (find_bo(fz, name) >= 0) {
		want_error(fz, "EEXIST");
		return;
	}
	if (tok_eq(name, "-")) {
		want_error(fz, "EINVAL");
		return;
	}
	b = &fz->bo[fz->nbo];
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->fini_ret = 1;
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = r->num[TRACE_BO_SIZE], .funcs = &tbo_funcs);
	rc = gpuvm_gem_init(&b->gem, &opts);
	CHECK(fz, rc == 0, "gpuvm_gem_init: %s", gpuvm_err_name(rc));
	fz->bo_size[fz->nbo] = r->num[TRACE_BO_SIZE];
	fz->nbo++;
}

static struct tvm *need_vm(struct fz *fz, const struct trace_req *r)
{
	int i = find_vm(fz, (struct tok){ r->vm.s, r->vm.len });

	if (i < 0) {
		want_error(fz, "ENOENT");
		return NULL;
	}
	return &fz->vm[i];
}

/* The library agrees with the model on the range rule (rule 8). */
static void check_range_rule(struct fz *fz, struct tvm *v, uint64_t addr, uint64_t range)
{
	bool want = rm_range_valid(&v->model, addr, range);

	CHECK(fz, gpuvm_range_valid(&v->list.vm, addr, range) == want &&
			  gpuvm_range_valid(&v->cb.vm, addr, range) == want,
	      "gpuvm_range_valid(0x%" PRIx64 ", 0x%" PRIx64 ") disagrees with the model (%d)",
	      addr, range, want);
}

static int refuse_cb(struct gpuva_op *op, void *priv)
{
	struct fz *fz = priv;

	CHECK(fz, false, "a refused request delivered a %s op", op_name(op->op));
	return -EINVAL;
}

static const struct gpuvm_ops refuse_ops = {
	.sz = sizeof(struct gpuvm_ops),
	.sm_step_map = refuse_cb,
	.sm_step_remap = refuse_cb,
	.sm_step_unmap = refuse_cb,
};

/*
 * A request the trace format refuses under a rule the library checks too
 * (zero range, object range, VA range): the library refuses it as well,
 * with nothing delivered or allocated.
 */
static void lib_refuses(struct fz *fz, struct tvm *v, enum trace_kind kind,
			const struct gpuvm_map_req *req, uint64_t addr, uint64_t range)
{
	struct gpuva_ops *ops = NULL;
	const struct gpuvm_ops *saved = v->cb.vm.ops;
	size_t live = v->list.ta.live;
	int rc;

	switch (kind) {
	case TRACE_MAP:
		rc = gpuvm_sm_map_ops_create(&v->list.vm, req, &ops);
		break;
	case TRACE_UNMAP:
		rc = gpuvm_sm_unmap_ops_create(&v->list.vm, addr, range, &ops);
		break;
	default:
		rc = gpuvm_prefetch_ops_create(&v->list.vm, addr, range, &ops);
		break;
	}
	CHECK(fz, rc == -EINVAL, "list mode accepted a refused %s: %s", trace_kind_name(kind),
	      gpuvm_err_name(rc));
	CHECK(fz, v->list.ta.live == live, "a refused request left %zu allocations",
	      v->list.ta.live - live);
	if (kind == TRACE_PREFETCH)
		return;
	v->cb.vm.ops = &refuse_ops;
	rc = kind == TRACE_MAP ? gpuvm_sm_map(&v->cb.vm, fz, req)
			       : gpuvm_sm_unmap(&v->cb.vm, fz, addr, range);
	v->cb.vm.ops = saved;
	CHECK(fz, rc == -EINVAL, "callback mode accepted a refused %s: %s",
	      trace_kind_name(kind), gpuvm_err_name(rc));
}

static void do_map(struct fz *fz, const struct trace_req *r)
{
	uint64_t addr = r->num[TRACE_ADDR], range = r->num[TRACE_RANGE];
	uint64_t offset = r->num[TRACE_MAP_OFFSET];
	struct gpuvm_bo *vm_bo = NULL;
	struct gpuva_ops *ops;
	struct tvm *v;
	int bo = RM_NO_BO, rc;

	v = need_vm(fz, r);
	if (!v)
		return;
	if (!r->sparse) {
		bo = find_bo(fz, (struct tok){ r->bo.s, r->bo.len });
		if (bo < 0) {
			want_error(fz, "ENOENT");
			return;
		}
	}
	if (r->sparse && offset) {
		want_error(fz, "EINVAL");
		return;
	}
	GPUVM_OPTS(gpuvm_map_req, req,
		   .map = { .va = { .addr = addr, .range = range },
			    .gem = { .offset = offset, .obj = gem_of(fz, bo) } });
	check_range_rule(fz, v, addr, range);
	rc = rm_map(&v->model, addr, range, bo, offset, &fz->mops);
	CHECK(fz, rc == 0 || rc == -EINVAL, "rm_map: %d", rc);
	if (rc) {
		want_error(fz, "EINVAL");
		lib_refuses(fz, v, TRACE_MAP, &req, addr, range);
		return;
	}
	want_ops(fz, &fz->mops);

	rc = gpuvm_sm_map_ops_create(&v->list.vm, &req, &ops);
	CHECK(fz, rc == 0, "gpuvm_sm_map_ops_create: %s", gpuvm_err_name(rc));
	compare_list(fz, &v->list.vm, "list mode", ops, &fz->mops);
	if (bo != RM_NO_BO) {
		rc = gpuvm_bo_obtain(&v->list.vm, gem_of(fz, bo), &vm_bo);
		CHECK(fz, rc == 0, "gpuvm_bo_obtain: %s", gpuvm_err_name(rc));
	}
	apply_list(fz, &v->list.vm, ops, vm_bo);
	CHECK(fz, !gpuvm_bo_put(vm_bo), "the map op's link did not hold the vm_bo");

	run_callback(fz, v, &req, 0, 0);
	rc = rm_apply(&v->model, &fz->mops);
	CHECK(fz, rc == 0, "rm_apply: %d", rc);
}

/* Rules 4, 6 and 8 of unmap and prefetch; true when the request is valid. */
static struct tvm *need_vm_range(struct fz *fz, const struct trace_req *r)
{
	uint64_t addr = r->num[TRACE_ADDR], range = r->num[TRACE_RANGE];
	struct tvm *v = need_vm(fz, r);

	if (!v)
		return NULL;
	check_range_rule(fz, v, addr, range);
	if (!rm_range_valid(&v->model, addr, range)) {
		want_error(fz, "EINVAL");
		lib_refuses(fz, v, r->kind, NULL, addr, range);
		return NULL;
	}
	return v;
}

static void do_unmap(struct fz *fz, const struct trace_req *r)
{
	uint64_t addr = r->num[TRACE_ADDR], range = r->num[TRACE_RANGE];
	struct gpuva_ops *ops;
	struct tvm *v;
	int rc;

	v = need_vm_range(fz, r);
	if (!v)
		return;
	rc = rm_unmap(&v->model, addr, range, &fz->mops);
	CHECK(fz, rc == 0, "rm_unmap: %d", rc);
	want_ops(fz, &fz->mops);

	rc = gpuvm_sm_unmap_ops_create(&v->list.vm, addr, range, &ops);
	CHECK(fz, rc == 0, "gpuvm_sm_unmap_ops_create: %s", gpuvm_err_name(rc));
	compare_list(fz, &v->list.vm, "list mode", ops, &fz->mops);
	apply_list(fz, &v->list.vm, ops, NULL);

	run_callback(fz, v, NULL, addr, range);
	rc = rm_apply(&v->model, &fz->mops);
	CHECK(fz, rc == 0, "rm_apply: %d", rc);
}

static void do_prefetch(struct fz *fz, const struct trace_req *r)
{
	uint64_t addr = r->num[TRACE_ADDR], range = r->num[TRACE_RANGE];
	struct gpuva_ops *ops;
	struct tvm *v;
	int rc;

	v = need_vm_range(fz, r);
	if (!v)
		return;
	rc = rm_prefetch(&v->model, addr, range, &fz->mops);
	CHECK(fz, rc == 0, "rm_prefetch: %d", rc);
	want_ops(fz, &fz->mops);
	rc = gpuvm_prefetch_ops_create(&v->list.vm, addr, range, &ops);
	CHECK(fz, rc == 0, "gpuvm_prefetch_ops_create: %s", gpuvm_err_name(rc));
	compare_list(fz, &v->list.vm, "prefetch", ops, &fz->mops);
	gpuva_ops_free(&v->list.vm, ops);
	rc = gpuvm_prefetch_ops_create(&v->cb.vm, addr, range, &ops);
	CHECK(fz, rc == 0, "gpuvm_prefetch_ops_create (immediate VM): %s", gpuvm_err_name(rc));
	compare_list(fz, &v->cb.vm, "prefetch on the immediate VM", ops, &fz->mops);
	gpuva_ops_free(&v->cb.vm, ops);
}

/* unmap-bo on the immediate VM: ops in link order, unlinks deferred. */
static void bo_unmap_immediate(struct fz *fz, struct tvm *v, struct gpuvm_gem *obj, bool linked)
{
	struct gpuvm_bo *vm_bo = find_bo_locked(fz, &v->cb, obj);
	struct gpuva_ops *ops;
	struct gpuva_op *op;
	struct gpuva *dead[2 * MAX_REQ + 8];
	size_t ndead = 0;
	int rc;

	CHECK(fz, !!vm_bo == linked, "immediate VM: a vm_bo %s for an object %s mappings",
	      vm_bo ? "exists" : "is missing", linked ? "with" : "without");
	if (!vm_bo)
		return;
	rc = gpuvm_bo_unmap_ops_create(vm_bo, &ops);
	CHECK(fz, rc == 0, "gpuvm_bo_unmap_ops_create (immediate): %s", gpuvm_err_name(rc));
	compare_list(fz, &v->cb.vm, "unmap-bo on the immediate VM", ops, &fz->mops);
	gpuva_for_each_op(op, ops) {
		rc = gpuva_unmap(&op->unmap);
		CHECK(fz, rc == 0, "gpuva_unmap: %s", gpuvm_err_name(rc));
		unlink_defer(fz, op->unmap.va);
		CHECK(fz, ndead < sizeof(dead) / sizeof(dead[0]), "too many ops");
		dead[ndead++] = op->unmap.va;
	}
	gpuva_ops_free(&v->cb.vm, ops);
	for (size_t i = 0; i < ndead; i++)
		free(dead[i]);
	rc = gpuvm_bo_put_deferred(vm_bo);
	CHECK(fz, rc == 1, "the last reference of an emptied vm_bo did not make a zombie: %d", rc);
	rc = gpuvm_bo_deferred_cleanup(&v->cb.vm);
	CHECK(fz, rc == 1, "gpuvm_bo_deferred_cleanup freed %d vm_bos, expected 1", rc);
}

static void do_unmap_bo(struct fz *fz, const struct trace_req *r)
{
	struct gpuvm_bo *vm_bo;
	struct gpuva_ops *ops;
	struct tvm *v;
	int bo, rc;

	v = need_vm(fz, r);
	if (!v)
		return;
	bo = find_bo(fz, (struct tok){ r->bo.s, r->bo.len });
	if (bo < 0) {
		want_error(fz, "ENOENT");
		return;
	}
	rc = rm_bo_unmap(&v->model, bo, &fz->mops);
	CHECK(fz, rc == 0, "rm_bo_unmap: %d", rc);
	want_ops(fz, &fz->mops);

	vm_bo = gpuvm_bo_find(&v->list.vm, gem_of(fz, bo));
	CHECK(fz, !!vm_bo == (fz->mops.n != 0), "list VM: a vm_bo %s for an object with %zu links",
	      vm_bo ? "exists" : "is missing", fz->mops.n);
	if (vm_bo) {
		rc = gpuvm_bo_unmap_ops_create(vm_bo, &ops);
		CHECK(fz, rc == 0, "gpuvm_bo_unmap_ops_create: %s", gpuvm_err_name(rc));
		compare_list(fz, &v->list.vm, "unmap-bo", ops, &fz->mops);
		apply_list(fz, &v->list.vm, ops, NULL);
		CHECK(fz, gpuvm_bo_put(vm_bo), "the last reference of an emptied vm_bo kept it");
	}
	bo_unmap_immediate(fz, v, gem_of(fz, bo), fz->mops.n != 0);
	rc = rm_apply(&v->model, &fz->mops);
	CHECK(fz, rc == 0, "rm_apply: %d", rc);
}

static void do_dump(struct fz *fz, const struct trace_req *r)
{
	struct tvm *v = need_vm(fz, r);

	if (!v)
		return;
	for (size_t i = 0; i < v->model.n; i++) {
		const struct rm_mapping *m = &v->model.m[i];

		sb_str(&fz->want, "va ");
		want_va(fz, m->addr, m->range, m->bo, m->offset);
		sb_str(&fz->want, "\n");
	}
	sb_str(&fz->want, "end\n");
}

/* ------------------------------------------------------------- one line */

/*
 * The independent reading of the line against the reader's; returns the
 * number of tokens. Also renders the echo into the expected listing.
 */
static size_t check_reader(struct fz *fz, const char *s, size_t len)
{
	const struct trace_line *l = &fz->tl;
	const struct trace_req *r = &fz->tr;
	const struct shape *sh;
	size_t n = my_tokens(s, len, &fz->tok, &fz->tokcap);
	const struct tok *t = fz->tok;
	unsigned int kind = NWORDS;
	unsigned int numok = 0;
	bool bad = false;

	CHECK(fz, n == l->ntok, "the reader found %zu tokens, the format %zu", l->ntok, n);
	for (size_t i = 0; i < n; i++)
		CHECK(fz, l->tok[i].len == t[i].len && l->tok[i].s == t[i].s,
		      "the reader's token %zu differs", i);
	if (!n)
		return 0;

	for (unsigned int i = 0; i < NWORDS; i++)
		if (tok_eq(t[0], words[i]))
			kind = i;
	sh = &shapes[kind];
	for (size_t i = 1; i < n && i < TRACE_MAX_POS; i++) {
		uint64_t v;

		if ((sh->nums & (1u << i)) && my_number(t[i], &v)) {
			numok |= 1u << i;
			CHECK(fz, r->num[i] == v, "the reader read token %zu as 0x%" PRIx64
			      ", the format says 0x%" PRIx64, i, r->num[i], v);
		}
	}
	CHECK(fz, r->numok == numok, "the reader's valid numbers 0x%x, the format's 0x%x",
	      r->numok, numok);
	CHECK(fz, (unsigned int)r->kind == kind, "the reader's request kind %d, the format's %u",
	      (int)r->kind, kind);

	if (kind == NWORDS || ((int)n != sh->ntok && (int)n != sh->ntok_alt))
		bad = true;
	for (size_t i = 1; !bad && i < n; i++) {
		if ((sh->names & (1u << i)) && !my_name(t[i]))
			bad = true;
		if ((sh->nums & (1u << i)) && !(numok & (1u << i)))
			bad = true;
		if (kind == TRACE_VM && i == 4 && !tok_eq(t[i], "reserve"))
			bad = true;
	}
	CHECK(fz, bad == (r->err != NULL), "the reader %s the request (%s), the format %s it",
	      r->err ? "refuses" : "accepts", r->err ? r->err : "", bad ? "refuses" : "accepts");
	if (!bad) {
		struct tok bo = { NULL, 0 };

		if (kind == TRACE_MAP)
			bo = t[4];
		else if (kind == TRACE_UNMAP_BO)
			bo = t[2];
		else if (kind == TRACE_BO)
			bo = t[1];
		if (kind != TRACE_BO)
			CHECK(fz, r->vm.s == t[1].s && r->vm.len == t[1].len,
			      "the reader's VM name differs");
		CHECK(fz, r->bo.s == bo.s && r->bo.len == bo.len, "the reader's BO name differs");
		CHECK(fz, r->sparse == (kind == TRACE_MAP && tok_eq(t[4], "-")),
		      "the reader's sparse flag differs");
		CHECK(fz, r->has_reserve == (kind == TRACE_VM && n == 7),
		      "the reader's reserve flag differs");
	}

	/* the echo: tokens joined by one blank, valid numbers in canonical hex */
	sb_str(&fz->want, ">");
	for (size_t i = 0; i < n; i++) {
		sb_str(&fz->want, " ");
		if (i < TRACE_MAX_POS && (numok & (1u << i)))
			sb_hex(&fz->want, r->num[i]);
		else
			sb_mem(&fz->want, t[i].s, t[i].len);
	}
	sb_str(&fz->want, "\n");
	return n;
}

/* Whether the line would define one VM or BO more than the harness keeps. */
static bool over_cap(struct fz *fz)
{
	const struct trace_req *r = &fz->tr;

	if (r->err)
		return false;
	if (r->kind == TRACE_VM && fz->nvm == MAX_VM &&
	    find_vm(fz, (struct tok){ r->vm.s, r->vm.len }) < 0)
		return true;
	if (r->kind == TRACE_BO && fz->nbo == MAX_BO &&
	    find_bo(fz, (struct tok){ r->bo.s, r->bo.len }) < 0)
		return true;
	return false;
}

/* The tool's listing so far, flushed into the memory stream. */
static void tool_sync(struct fz *fz)
{
	out_flush(&fz->out);
	FZ_CHECK(fflush(fz->mf) == 0 && !fz->out.failed, "the listing could not be written");
}

/* Returns false when the input ends here (a cap was reached). */
static bool run_line(struct fz *fz, const char *s, size_t len)
{
	int rc;

	fz->line = s;
	fz->linelen = len;
	fz->want.len = 0;
	rc = trace_tokenize(&fz->tl, s, len);
	CHECK(fz, rc == 0, "trace_tokenize: %d", rc);
	if (fz->tl.ntok)
		trace_parse(&fz->tl, &fz->tr);
	if (!check_reader(fz, s, len))
		return true;
	if (over_cap(fz) || ++fz->reqno > MAX_REQ)
		return false;

	/* the tool */
	tool_sync(fz);
	fz->mstart = fz->mlen;
	rc = replay_line(&fz->rp, s, len);
	CHECK(fz, rc == 0, "replay_line: %d", rc);
	tool_sync(fz);

	/* the oracle and the library */
	if (fz->tr.err) {
		want_error(fz, "EINVAL");
	} else {
		switch (fz->tr.kind) {
		case TRACE_VM:
			do_vm(fz, &fz->tr);
			break;
		case TRACE_BO:
			do_bo(fz, &fz->tr);
			break;
		case TRACE_MAP:
			do_map(fz, &fz->tr);
			break;
		case TRACE_UNMAP:
			do_unmap(fz, &fz->tr);
			break;
		case TRACE_PREFETCH:
			do_prefetch(fz, &fz->tr);
			break;
		case TRACE_UNMAP_BO:
			do_unmap_bo(fz, &fz->tr);
			break;
		case TRACE_DUMP:
			do_dump(fz, &fz->tr);
			break;
		default:
			CHECK(fz, false, "a request of unknown kind was accepted");
		}
	}
	compare_listing(fz, fz->mbuf + fz->mstart, fz->mlen - fz->mstart);

	for (int i = 0; i < fz->nvm; i++) {
		check_lvm(fz, &fz->vm[i], &fz->vm[i].list, "list-mode");
		check_lvm(fz, &fz->vm[i], &fz->vm[i].cb, "immediate");
		check_tool_vm(fz, i);
	}
	return true;
}

/* ------------------------------------------------------------ teardown */

static void fini_lvm(struct fz *fz, struct lvm *l)
{
	struct gpuva *va, *next;
	int rc;

	gpuvm_for_each_va_safe(va, next, &l->vm) {
		rc = gpuva_remove(va);
		CHECK(fz, rc == 0, "teardown: gpuva_remove: %s", gpuvm_err_name(rc));
		if (gpuvm_immediate_mode(&l->vm))
			unlink_defer(fz, va);
		else
			unlink_plain(fz, va);
		free(va);
	}
	if (gpuvm_immediate_mode(&l->vm)) {
		rc = gpuvm_bo_deferred_cleanup(&l->vm);
		CHECK(fz, rc >= 0, "teardown: gpuvm_bo_deferred_cleanup: %s", gpuvm_err_name(rc));
	}
	CHECK(fz, l->vm.refcount == 1, "teardown: VM refcount %u with nothing mapped",
	      l->vm.refcount);
	gpuvm_put(&l->vm);
	CHECK(fz, l->vm.refcount == 0, "teardown: the last put left refcount %u", l->vm.refcount);
	CHECK(fz, l->ta.live == 0 && l->ta.live_bytes == 0,
	      "teardown: %zu allocations (%zu bytes) of the VM are still live", l->ta.live,
	      l->ta.live_bytes);
	CHECK(fz, l->ta.errors == 0, "teardown: the allocator saw %lu bad calls", l->ta.errors);
}

static void fz_fini(struct fz *fz)
{
	replay_fini(&fz->rp);
	out_fini(&fz->out);
	FZ_CHECK(fclose(fz->mf) == 0, "closing the listing");
	free(fz->mbuf);

	for (int i = 0; i < fz->nvm; i++) {
		fini_lvm(fz, &fz->vm[i].list);
		fini_lvm(fz, &fz->vm[i].cb);
		rm_vm_fini(&fz->vm[i].model);
	}
	for (int i = 0; i < fz->nbo; i++) {
		struct tbo *b = &fz->bo[i];

		CHECK(fz, b->gem.refcount == 1 && gpuvm_list_empty(&b->gem.gpuva.list),
		      "teardown: bo %d still has %u references", i, b->gem.refcount);
		gpuvm_gem_put(&b->gem);
		CHECK(fz, b->frees == 1 && b->fini_ret == 0,
		      "teardown: bo %d: free ran %u times, gpuvm_gem_fini gave %d", i, b->frees,
		      b->fini_ret);
	}
	rm_ops_fini(&fz->mops);
	trace_line_fini(&fz->tl);
	free(fz->tok);
	free(fz->want.s);
	free(fz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *fz = calloc(1, sizeof(*fz));
	const char *p, *end;
	int rc;

	FZ_CHECK(fz, "out of memory");
	if (size > MAX_INPUT)
		size = MAX_INPUT;
	fz->data = (const char *)data;
	fz->size = size;
	rm_ops_init(&fz->mops);

	fz->mf = open_memstream(&fz->mbuf, &fz->mlen);
	FZ_CHECK(fz->mf, "open_memstream failed");
	rc = out_init(&fz->out, fz->mf, 4096);
	FZ_CHECK(rc == 0, "out_init: %d", rc);
	replay_init(&fz->rp, &fz->out);
	/* the tool checks its own VMs after each change too */
	fz->rp.verify = true;

	p = fz->data;
	end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!run_line(fz, p, len))
			break;
		p += len + (nl != NULL);
	}
	fz_fini(fz);
	return 0;
}
