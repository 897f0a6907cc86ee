/* SPDX-License-Identifier: MIT */
/* The trace language: tokens, numbers, names and request syntax. */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[TRACE_KIND_COUNT] = {
	[TRACE_VM] = "vm",
	[TRACE_BO] = "bo",
	[TRACE_MAP] = "map",
	[TRACE_UNMAP] = "unmap",
	[TRACE_PREFETCH] = "prefetch",
	[TRACE_UNMAP_BO] = "unmap-bo",
	[TRACE_DUMP] = "dump",
	[TRACE_UNKNOWN] = "unknown",
};

const char *trace_kind_name(enum trace_kind kind)
{
	if ((unsigned int)kind >= TRACE_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

int trace_tokenize(struct trace_line *l, const char *s, size_t len)
{
	const char *hash;
	size_t i = 0;

	l->ntok = 0;
	if (len && s[len - 1] == '\r')
		len--;
	hash = memchr(s, '#', len);
	if (hash)
		len = (size_t)(hash - s);

	while (i < len) {
		size_t start;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t')
			i++;
		if (l->ntok == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 16;
			struct trace_tok *t = realloc(l->tok, cap * sizeof(*t));

			if (!t)
				return -ENOMEM;
			l->tok = t;
			l->cap = cap;
		}
		l->tok[l->ntok].s = s + start;
		l->tok[l->ntok].len = i - start;
		l->ntok++;
	}
	return 0;
}

void trace_line_fini(struct trace_line *l)
{
	free(l->tok);
	l->tok = NULL;
	l->ntok = l->cap = 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool trace_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return false;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (len == 2)
			return false;
		for (i = 2; i < len; i++) {
			int d = hexval((unsigned char)s[i]);

			if (d < 0 || (v >> 60) != 0)
				return false;
			v = v << 4 | (uint64_t)d;
		}
	} else {
		for (i = 0; i < len; i++) {
			unsigned int d = (unsigned char)s[i] - (unsigned int)'0';

			if (d > 9 || v > (UINT64_MAX - d) / 10)
				return false;
			v = v * 10 + d;
		}
	}
	*out = v;
	return true;
}

bool trace_valid_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool trace_tok_is(const struct trace_tok *t, const char *lit)
{
	size_t n = strlen(lit);

	return t->len == n && memcmp(t->s, lit, n) == 0;
}

/* Bit i set: token i must be a name (i = 1..). */
struct grammar {
	uint8_t ntok;	  /* tokens of a well-formed request, word included */
	uint8_t ntok_alt; /* another accepted count (vm with reserve), or 0 */
	uint8_t names;
	uint8_t nums;
};

#define BIT(n) ((uint8_t)(1u << (n)))

static const struct grammar grammars[TRACE_KIND_COUNT] = {
	[TRACE_VM] = { 4, 7, BIT(1),
		       BIT(TRACE_VM_START) | BIT(TRACE_VM_RANGE) | BIT(TRACE_VM_RADDR) |
			       BIT(TRACE_VM_RRANGE) },
	[TRACE_BO] = { 3, 0, BIT(1), BIT(TRACE_BO_SIZE) },
	[TRACE_MAP] = { 6, 0, BIT(1) | BIT(TRACE_MAP_BO),
			BIT(TRACE_ADDR) | BIT(TRACE_RANGE) | BIT(TRACE_MAP_OFFSET) },
	[TRACE_UNMAP] = { 4, 0, BIT(1), BIT(TRACE_ADDR) | BIT(TRACE_RANGE) },
	[TRACE_PREFETCH] = { 4, 0, BIT(1), BIT(TRACE_ADDR) | BIT(TRACE_RANGE) },
	[TRACE_UNMAP_BO] = { 3, 0, BIT(1) | BIT(2), 0 },
	[TRACE_DUMP] = { 2, 0, BIT(1), 0 },
	[TRACE_UNKNOWN] = { 0, 0, 0, 0 },
};

static const char *const pos_names[TRACE_KIND_COUNT][TRACE_MAX_POS] = {
	[TRACE_VM] = { "", "NAME", "START", "RANGE", "reserve", "ADDR", "RANGE" },
	[TRACE_BO] = { "", "NAME", "SIZE" },
	[TRACE_MAP] = { "", "VM", "ADDR", "RANGE", "BO", "OFFSET" },
	[TRACE_UNMAP] = { "", "VM", "ADDR", "RANGE" },
	[TRACE_PREFETCH] = { "", "VM", "ADDR", "RANGE" },
	[TRACE_UNMAP_BO] = { "", "VM", "BO" },
	[TRACE_DUMP] = { "", "VM" },
};

static enum trace_kind classify(const struct trace_tok *t)
{
	for (int k = 0; k < TRACE_UNKNOWN; k++)
		if (trace_tok_is(t, kind_names[k]))
			return (enum trace_kind)k;
	return TRACE_UNKNOWN;
}

/* Long tokens are cut in messages; the echo above shows them whole. */
static int tok_width(const struct trace_tok *t)
{
	return t->len > 40 ? 40 : (int)t->len;
}

void trace_parse(const struct trace_line *l, struct trace_req *r)
{
	const struct trace_tok *t = l->tok;
	const struct grammar *g;
	size_t n = l->ntok;

	r->kind = classify(&t[0]);
	r->err = NULL;
	r->numok = 0;
	r->sparse = false;
	r->has_reserve = false;
	r->vm.s = r->bo.s = NULL;
	r->vm.len = r->bo.len = 0;

	g = &grammars[r->kind];
	r->numpos = g->nums;
	for (size_t i = 1; i < n && i < TRACE_MAX_POS; i++)
		if ((g->nums & BIT(i)) && trace_parse_u64(t[i].s, t[i].len, &r->num[i]))
			r->numok |= BIT(i);

	if (r->kind == TRACE_UNKNOWN) {
		snprintf(r->errbuf, sizeof(r->errbuf), "unknown request '%.*s'", tok_width(&t[0]),
			 t[0].s);
		r->err = r->errbuf;
		return;
	}
	if (n != g->ntok && n != g->ntok_alt) {
		if (g->ntok_alt)
			snprintf(r->errbuf, sizeof(r->errbuf),
				 "%s takes %d or %d arguments, not %zu", kind_names[r->kind],
				 g->ntok - 1, g->ntok_alt - 1, n - 1);
		else
			snprintf(r->errbuf, sizeof(r->errbuf), "%s takes %d argument%s, not %zu",
				 kind_names[r->kind], g->ntok - 1, g->ntok == 2 ? "" : "s", n - 1);
		r->err = r->errbuf;
		return;
	}
	for (size_t i = 1; i < n; i++) {
		if (g->names & BIT(i)) {
			if (!trace_valid_name(t[i].s, t[i].len)) {
				snprintf(r->errbuf, sizeof(r->errbuf), "bad name '%.*s' for %s",
					 tok_width(&t[i]), t[i].s, pos_names[r->kind][i]);
				r->err = r->errbuf;
				return;
			}
		} else if (g->nums & BIT(i)) {
			if (!(r->numok & BIT(i))) {
				snprintf(r->errbuf, sizeof(r->errbuf), "bad number '%.*s' for %s",
					 tok_width(&t[i]), t[i].s, pos_names[r->kind][i]);
				r->err = r->errbuf;
				return;
			}
		} else if (r->kind == TRACE_VM && i == TRACE_VM_RESERVE_KW) {
			if (!trace_tok_is(&t[i], "reserve")) {
				snprintf(r->errbuf, sizeof(r->errbuf),
					 "expected 'reserve', not '%.*s'", tok_width(&t[i]),
					 t[i].s);
				r->err = r->errbuf;
				return;
			}
		}
	}

	r->vm = t[1];
	switch (r->kind) {
	case TRACE_VM:
		r->has_reserve = n == 7;
		if (!r->has_reserve)
			r->num[TRACE_VM_RADDR] = r->num[TRACE_VM_RRANGE] = 0;
		break;
	case TRACE_BO:
		r->bo = t[1];
		r->vm.s = NULL;
		r->vm.len = 0;
		break;
	case TRACE_MAP:
		r->bo = t[TRACE_MAP_BO];
		r->sparse = trace_tok_is(&r->bo, "-");
		break;
	case TRACE_UNMAP_BO:
		r->bo = t[2];
		break;
	default:
		break;
	}
}
