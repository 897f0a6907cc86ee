/* SPDX-License-Identifier: MIT */
/*
 * The trace language of docs/trace-format (shared contract): tokenizer,
 * number and name rules, and the syntactic part of a request (refusal rule
 * 1). Pure: no library call, no allocation but the token array, so it can be
 * tested on its own.
 */
#ifndef GPUVM_REPLAY_TRACE_H
#define GPUVM_REPLAY_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum trace_kind {
	TRACE_VM,
	TRACE_BO,
	TRACE_MAP,
	TRACE_UNMAP,
	TRACE_PREFETCH,
	TRACE_UNMAP_BO,
	TRACE_DUMP,
	TRACE_UNKNOWN,
	TRACE_KIND_COUNT,
};

/* The request word of @kind ("unknown" for TRACE_UNKNOWN). */
const char *trace_kind_name(enum trace_kind kind);

struct trace_tok {
	const char *s;
	size_t len;
};

/* The tokens of one line; the array grows as needed and is reused. */
struct trace_line {
	struct trace_tok *tok;
	size_t ntok;
	size_t cap;
};

/*
 * The grammar has at most 7 tokens (vm with reserve), so token positions
 * fit in a byte-wide mask; positions past the grammar are never numbers.
 */
#define TRACE_MAX_POS 8

/*
 * struct trace_req - a request after the syntax checks.
 * @err: NULL when the request is well formed, else why it is refused with
 *	EINVAL under rule 1 (points into @errbuf or to a literal).
 * @numpos: token positions the grammar of @kind reserves for numbers.
 * @numok: those of them that hold a valid number (@num), whatever @err says;
 *	the echo prints them in canonical hex.
 * @vm, @bo: the name tokens (len 0 when the request has none).
 * @sparse: a map whose BO is "-".
 * @has_reserve: a vm request with the reserve clause.
 */
struct trace_req {
	enum trace_kind kind;
	const char *err;
	uint8_t numpos;
	uint8_t numok;
	bool sparse;
	bool has_reserve;
	struct trace_tok vm, bo;
	uint64_t num[TRACE_MAX_POS];
	char errbuf[160];
};

/* Positions of the numbers in each request, by the grammar. */
#define TRACE_VM_START 2
#define TRACE_VM_RANGE 3
#define TRACE_VM_RESERVE_KW 4
#define TRACE_VM_RADDR 5
#define TRACE_VM_RRANGE 6
#define TRACE_BO_SIZE 2
#define TRACE_ADDR 2
#define TRACE_RANGE 3
#define TRACE_MAP_BO 4
#define TRACE_MAP_OFFSET 5

/*
 * trace_tokenize() - split one line (without its '\n') into tokens.
 * A trailing '\r' is dropped, '#' starts a comment, blanks are ' ' and '\t'.
 * Tokens point into @s. Returns 0 or -ENOMEM.
 */
int trace_tokenize(struct trace_line *l, const char *s, size_t len);

void trace_line_fini(struct trace_line *l);

/* An unsigned 64-bit number in decimal or 0x/0X hex; false for anything else. */
bool trace_parse_u64(const char *s, size_t len, uint64_t *out);

/* A name of [A-Za-z0-9_.-]+. */
bool trace_valid_name(const char *s, size_t len);

/* Whether the token is exactly @lit. */
bool trace_tok_is(const struct trace_tok *t, const char *lit);

/*
 * trace_parse() - classify a non-empty token list and run refusal rule 1.
 * Always fills @numpos/@numok/@num so the echo can be printed.
 */
void trace_parse(const struct trace_line *l, struct trace_req *r);

#endif /* GPUVM_REPLAY_TRACE_H */
