/* SPDX-License-Identifier: MIT */
/*
 * gpuvm-replay internals: the replay state (replay.c), the buffered output
 * and the canonical printer (print.c), the statistics (stats.c) and the SVG
 * map (svg.c).
 */
#ifndef GPUVM_REPLAY_REPLAY_H
#define GPUVM_REPLAY_REPLAY_H

#include <gpuvm.h>
#include <stdio.h>

#include "trace.h"

/* ---- buffered output (print.c) ---- */

/*
 * The listing can be hundreds of megabytes; formatting goes into one big
 * buffer that is written out when full. A NULL @f discards (--quiet).
 */
struct out {
	char *buf;
	size_t len;
	size_t cap;
	FILE *f;
	bool failed;
};

int out_init(struct out *o, FILE *f, size_t cap);
void out_flush(struct out *o);
void out_fini(struct out *o);
void out_write(struct out *o, const char *s, size_t len);
void out_hex(struct out *o, uint64_t v);

static inline void out_char(struct out *o, char c)
{
	if (o->len == o->cap)
		out_flush(o);
	o->buf[o->len++] = c;
}

static inline void out_str(struct out *o, const char *s)
{
	while (*s)
		out_char(o, *s++);
}

/* ---- replay objects ---- */

struct rp_vm {
	struct gpuvm vm;
	char *name;
	size_t nlen;
	/* the request's numbers, so rule 8 is checked without the library */
	uint64_t start, range, raddr, rrange;
	size_t mappings; /* kept by the tool, checked against the library */
	size_t peak;
};

struct rp_bo {
	struct gpuvm_gem gem;
	char *name;
	size_t nlen;
	uint32_t hash;
	uint32_t idx; /* definition order */
	const struct gpuvm_allocator *alloc; /* the replay's, for the free callback */
};

GPUVM_CONTAINER(struct gpuvm, struct rp_vm, vm, rp_vm_of)
GPUVM_CONTAINER(struct gpuvm_gem, struct rp_bo, gem, rp_bo_of)

/* Open-addressing table of names; values index the definition-order arrays. */
struct nametab_ent {
	const char *name; /* the object's own copy */
	size_t len;
	uint32_t hash;
	uint32_t idx; /* index into the definition-order array, +1; 0 = free */
};

struct nametab {
	struct nametab_ent *e;
	size_t mask; /* capacity - 1 */
	size_t n;
};

/* ---- statistics (stats.c) ---- */

#define STATS_MAX_ERRNO 256

struct stats {
	uint64_t req[TRACE_KIND_COUNT];
	uint64_t sparse_maps;
	uint64_t errors;
	uint64_t err_by[STATS_MAX_ERRNO]; /* by -errno; the last slot counts the rest */
	uint64_t ops[4];		  /* by enum gpuva_op_type */
	uint64_t kept;			  /* unmap/remap ops with keep */
	double seconds;
};

/* ---- the replay (replay.c) ---- */

struct replay {
	struct out *out;
	struct stats st;
	bool verify; /* run gpuvm_verify() after each change (slow) */
	/*
	 * Where the VMs and the tool's per-request memory (names, tables,
	 * mapping structs) come from; NULL (replay_init()'s default): the C
	 * library. Set it before the first line; it must outlive the replay.
	 * The tests fail its allocations one by one (tests/reliability).
	 */
	const struct gpuvm_allocator *alloc;

	struct nametab vmtab, botab;
	struct rp_vm **vms; /* in definition order */
	size_t nvm, vmcap;
	struct rp_bo **bos;
	size_t nbo, bocap;

	struct trace_line line;
	struct trace_req req;

	/* mappings allocated before an op list is created, so applying it cannot fail */
	struct gpuva **spare;
	size_t nspare, sparecap;
};

void replay_init(struct replay *rp, struct out *out);
/*
 * Replay one input line (without its '\n'). Returns 0, or -ENOMEM when the
 * tool itself ran out of memory outside any request (fatal).
 */
int replay_line(struct replay *rp, const char *s, size_t len);
/* Unmap everything and release every object. */
void replay_fini(struct replay *rp);

/* A library function broke its documented contract: say so and stop. */
_Noreturn void replay_die(const char *what, int err);

/* ---- canonical printing (print.c) ---- */

void print_echo(struct out *o, const struct trace_line *l, const struct trace_req *r);
void print_refusal(struct out *o, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* ADDR+RANGE:BO@OFFSET with BO "-" for a NULL object */
void print_va(struct out *o, uint64_t addr, uint64_t range, const struct gpuvm_gem *obj,
	      uint64_t offset);
void print_gpuva(struct out *o, const struct gpuva *va);
void print_op(struct out *o, const struct gpuva_op *op);

/* ---- summary and picture ---- */

void stats_print(FILE *f, const struct replay *rp);
/* Returns 0 or a negative errno (the file could not be written). */
int svg_write(const char *path, const struct replay *rp);

uint32_t name_hash(const char *s, size_t len);

#endif /* GPUVM_REPLAY_REPLAY_H */
