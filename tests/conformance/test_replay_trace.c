/* SPDX-License-Identifier: MIT */
/*
 * Unit test of gpuvm-replay's trace reader (tools/gpuvm-replay/trace.c) and
 * of the canonical echo (print.c): numbers, names, tokens, request syntax.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "trace.h"
#include "replay.h"

static bool num(const char *s, uint64_t *v)
{
	return trace_parse_u64(s, strlen(s), v);
}

static void test_numbers(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(num("0", &v));
	assert_int_equal(v, 0);
	assert_true(num("000123", &v));
	assert_int_equal(v, 123);
	assert_true(num("0x0", &v));
	assert_int_equal(v, 0);
	assert_true(num("0XaBcD", &v));
	assert_int_equal(v, 0xabcd);
	assert_true(num("18446744073709551615", &v));
	assert_true(v == UINT64_MAX);
	assert_true(num("0xffffffffffffffff", &v));
	assert_true(v == UINT64_MAX);
	assert_true(num("0x00000000000000000000000000000001", &v));
	assert_int_equal(v, 1);

	assert_false(num("", &v));
	assert_false(num("0x", &v));
	assert_false(num("0X", &v));
	assert_false(num("-1", &v));
	assert_false(num("+1", &v));
	assert_false(num("1e3", &v));
	assert_false(num("0x1g", &v));
	assert_false(num("1.0", &v));
	assert_false(num("0b1", &v));
	assert_false(num("x10", &v));
	assert_false(num("18446744073709551616", &v));
	assert_false(num("99999999999999999999", &v));
	assert_false(num("0x10000000000000000", &v));
	assert_false(num("0x0x1", &v));
	assert_false(num(" 1", &v));
}

static void test_names(void **state)
{
	(void)state;
	assert_true(trace_valid_name("a", 1));
	assert_true(trace_valid_name("-", 1));
	assert_true(trace_valid_name("A.b_c-9", 7));
	assert_true(trace_valid_name("0x10", 4));
	assert_false(trace_valid_name("", 0));
	assert_false(trace_valid_name("a$", 2));
	assert_false(trace_valid_name("a/b", 3));
	assert_false(trace_valid_name("a\r", 2));
	assert_false(trace_valid_name("\xc3\xa9", 2));
}

static void tok(struct trace_line *l, const char *s)
{
	assert_int_equal(trace_tokenize(l, s, strlen(s)), 0);
}

static void assert_tok(const struct trace_line *l, size_t i, const char *want)
{
	assert_true(i < l->ntok);
	assert_int_equal(l->tok[i].len, strlen(want));
	assert_memory_equal(l->tok[i].s, want, strlen(want));
}

static void test_tokenize(void **state)
{
	struct trace_line l = { 0 };

	(void)state;
	tok(&l, "");
	assert_int_equal(l.ntok, 0);
	tok(&l, " \t \r");
	assert_int_equal(l.ntok, 0);
	tok(&l, "# just a comment");
	assert_int_equal(l.ntok, 0);
	tok(&l, "\tmap  v\t0x1  2 a 0#comment\r");
	assert_int_equal(l.ntok, 6);
	assert_tok(&l, 0, "map");
	assert_tok(&l, 5, "0");
	tok(&l, "dump v\r");
	assert_int_equal(l.ntok, 2);
	assert_tok(&l, 1, "v");
	/* only a trailing \r is dropped; one inside is part of a token */
	tok(&l, "dump a\rb");
	assert_int_equal(l.ntok, 2);
	assert_tok(&l, 1, "a\rb");
	/* more tokens than the initial array holds */
	tok(&l, "a b c d e f g h i j k l m n o p q r s t u v w x y z");
	assert_int_equal(l.ntok, 26);
	assert_tok(&l, 25, "z");
	trace_line_fini(&l);
}

static void parse(struct trace_line *l, struct trace_req *r, const char *s)
{
	tok(l, s);
	trace_parse(l, r);
}

static void test_parse(void **state)
{
	struct trace_line l = { 0 };
	struct trace_req r;

	(void)state;
	parse(&l, &r, "vm v 0 0x1000");
	assert_int_equal(r.kind, TRACE_VM);
	assert_null(r.err);
	assert_false(r.has_reserve);
	assert_int_equal(r.num[TRACE_VM_RANGE], 0x1000);
	assert_int_equal(r.num[TRACE_VM_RRANGE], 0);

	parse(&l, &r, "vm v 0 0x1000 reserve 0x10 0x20");
	assert_null(r.err);
	assert_true(r.has_reserve);
	assert_int_equal(r.num[TRACE_VM_RADDR], 0x10);
	assert_int_equal(r.num[TRACE_VM_RRANGE], 0x20);

	parse(&l, &r, "vm v 0 0x1000 reserv 0x10 0x20");
	assert_non_null(r.err);
	parse(&l, &r, "vm v 0 0x1000 reserve 0x10");
	assert_non_null(r.err);
	/* positions the grammar gives numbers are known even when refused */
	assert_int_equal(r.numok, (1u << 2) | (1u << 3) | (1u << 5));

	parse(&l, &r, "map v 1 2 - 0");
	assert_int_equal(r.kind, TRACE_MAP);
	assert_null(r.err);
	assert_true(r.sparse);
	parse(&l, &r, "map v 1 2 a 0");
	assert_false(r.sparse);
	assert_int_equal(r.bo.len, 1);
	parse(&l, &r, "map v 1 2 a$ 0");
	assert_non_null(r.err);
	parse(&l, &r, "map v 1 -2 a 0");
	assert_non_null(r.err);

	parse(&l, &r, "unmap-bo v a");
	assert_int_equal(r.kind, TRACE_UNMAP_BO);
	assert_null(r.err);
	assert_int_equal(r.numpos, 0);
	parse(&l, &r, "unmap v 1 2");
	assert_int_equal(r.kind, TRACE_UNMAP);
	parse(&l, &r, "prefetch v 1 2");
	assert_int_equal(r.kind, TRACE_PREFETCH);
	parse(&l, &r, "dump v");
	assert_int_equal(r.kind, TRACE_DUMP);
	assert_null(r.err);
	parse(&l, &r, "bo - 5");
	assert_int_equal(r.kind, TRACE_BO);
	assert_null(r.err); /* "-" is a valid name; rule 3 refuses it later */

	parse(&l, &r, "Map v 1 2 a 0");
	assert_int_equal(r.kind, TRACE_UNKNOWN);
	assert_non_null(r.err);
	assert_int_equal(r.numok, 0);
	trace_line_fini(&l);
}

static void echo(const char *in, const char *want)
{
	struct trace_line l = { 0 };
	struct trace_req r;
	struct out o;

	assert_int_equal(out_init(&o, NULL, 4096), 0);
	parse(&l, &r, in);
	print_echo(&o, &l, &r);
	assert_int_equal(o.len, strlen(want));
	assert_memory_equal(o.buf, want, o.len);
	out_fini(&o);
	trace_line_fini(&l);
}

static void test_echo(void **state)
{
	(void)state;
	echo("vm\tv  0 4294967296 # c", "> vm v 0x0 0x100000000\n");
	echo("map v 0X0010 010 0x10 00", "> map v 0x10 0xa 0x10 0x0\n");
	echo("map v 1e3 0x 0x10 -0", "> map v 1e3 0x 0x10 -0\n");
	echo("bo a 1 2", "> bo a 0x1 2\n");
	echo("frob 1 2", "> frob 1 2\n");
	echo("unmap-bo 1 2", "> unmap-bo 1 2\n");
	echo("vm v 1 2 reserve 3 4 5", "> vm v 0x1 0x2 reserve 0x3 0x4 5\n");
}

static void test_hex(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0x0" },
		{ 1, "0x1" },
		{ 0xabcdef, "0xabcdef" },
		{ UINT64_MAX, "0xffffffffffffffff" },
		{ 0x8000000000000000ull, "0x8000000000000000" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct out o;

		assert_int_equal(out_init(&o, NULL, 64), 0);
		out_hex(&o, cases[i].v);
		assert_int_equal(o.len, strlen(cases[i].s));
		assert_memory_equal(o.buf, cases[i].s, o.len);
		out_fini(&o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),	 cmocka_unit_test(test_names),
		cmocka_unit_test(test_tokenize), cmocka_unit_test(test_parse),
		cmocka_unit_test(test_echo),	 cmocka_unit_test(test_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
