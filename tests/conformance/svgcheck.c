/* SPDX-License-Identifier: MIT */
/*
 * svgcheck: is a gpuvm-replay --svg file well-formed XML with an <svg> root,
 * and does it draw what the replay left behind?
 *
 *   svgcheck FILE [--va N] [--sparse N] [--reserved N] [--bos N] [--bands N]
 *
 * A small strict XML reader (elements, attributes, entities, comments,
 * processing instructions; no DTD), so the check needs no XML library.
 * It counts <rect> elements by class: "va" (one per mapping, at least 1 px
 * wide), "va sparse", "reserved" outside the legend, "key bo" (legend
 * entries), and <g class="vm"> bands.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_ATTRS 32

struct counts {
	long va, sparse, reserved, bos, bands, patterns;
};

static const char *src, *cur, *end;
static const char *path;

static int fail(const char *why)
{
	int line = 1;

	for (const char *p = src; p < cur && p < end; p++)
		line += *p == '\n';
	fprintf(stderr, "svgcheck: %s:%d: %s\n", path, line, why);
	return 1;
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(void)
{
	while (cur < end && space(*cur))
		cur++;
}

static size_t read_name(void)
{
	const char *s = cur;

	if (cur >= end || !name_start(*cur))
		return 0;
	while (cur < end && name_char(*cur))
		cur++;
	return (size_t)(cur - s);
}

/* At '&': one of the five named entities or a character reference. */
static bool entity(void)
{
	static const char *const names[] = { "amp;", "lt;", "gt;", "quot;", "apos;" };

	cur++;
	for (size_t i = 0; i < 5; i++) {
		size_t n = strlen(names[i]);

		if ((size_t)(end - cur) >= n && !memcmp(cur, names[i], n)) {
			cur += n;
			return true;
		}
	}
	if (cur < end && *cur == '#') {
		const char *s = ++cur;
		bool hex = cur < end && *cur == 'x';

		if (hex)
			s = ++cur;
		while (cur < end &&
		       ((*cur >= '0' && *cur <= '9') ||
			(hex && ((*cur >= 'a' && *cur <= 'f') || (*cur >= 'A' && *cur <= 'F')))))
			cur++;
		if (cur > s && cur < end && *cur == ';') {
			cur++;
			return true;
		}
	}
	return false;
}

static bool has_class(const char *cls, size_t len, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && cls[j] != ' ')
			j++;
		if (j - i == n && !memcmp(cls + i, word, n))
			return true;
		i = j + 1;
	}
	return false;
}

struct attr {
	const char *name, *val;
	size_t nlen, vlen;
};

static int element(const char *name, size_t nlen, const struct attr *a, int na, int depth,
		   struct counts *c)
{
	const char *cls = "", *width = NULL;
	size_t clen = 0;

	for (int i = 0; i < na; i++) {
		if (a[i].nlen == 5 && !memcmp(a[i].name, "class", 5)) {
			cls = a[i].val;
			clen = a[i].vlen;
		} else if (a[i].nlen == 5 && !memcmp(a[i].name, "width", 5)) {
			width = a[i].val;
		}
	}
	if (depth == 0) {
		bool ns = false;

		if (nlen != 3 || memcmp(name, "svg", 3))
			return fail("the root element is not <svg>");
		for (int i = 0; i < na; i++)
			if (a[i].nlen == 5 && !memcmp(a[i].name, "xmlns", 5) && a[i].vlen == 26 &&
			    !memcmp(a[i].val, "http://www.w3.org/2000/svg", 26))
				ns = true;
		if (!ns)
			return fail("<svg> lacks xmlns=\"http://www.w3.org/2000/svg\"");
	}
	if (nlen == 4 && !memcmp(name, "rect", 4)) {
		if (has_class(cls, clen, "va")) {
			c->va++;
			c->sparse += has_class(cls, clen, "sparse");
			if (!width || strtod(width, NULL) < 1.0)
				return fail("a mapping is drawn narrower than 1 px");
		}
		if (has_class(cls, clen, "reserved") && !has_class(cls, clen, "key"))
			c->reserved++;
		if (has_class(cls, clen, "key") && has_class(cls, clen, "bo"))
			c->bos++;
	} else if (nlen == 1 && name[0] == 'g' && has_class(cls, clen, "vm")) {
		c->bands++;
	} else if (nlen == 7 && !memcmp(name, "pattern", 7)) {
		c->patterns++;
	}
	return 0;
}

static int parse(struct counts *c)
{
	const char *stack[MAX_DEPTH];
	size_t slen[MAX_DEPTH];
	int depth = 0;
	bool root_done = false, root_seen = false;

	if ((size_t)(end - cur) >= 5 && !memcmp(cur, "<?xml", 5)) {
		const char *q = strstr(cur, "?>");

		if (!q)
			return fail("unterminated XML declaration");
		cur = q + 2;
	}
	while (cur < end) {
		if (*cur != '<') {
			if (!space(*cur) && (depth == 0))
				return fail("text outside the root element");
			if (*cur == '&') {
				if (!entity())
					return fail("bad entity reference");
				continue;
			}
			cur++;
			continue;
		}
		if ((size_t)(end - cur) >= 4 && !memcmp(cur, "<!--", 4)) {
			const char *q = strstr(cur + 4, "-->");

			if (!q)
				return fail("unterminated comment");
			cur = q + 3;
			continue;
		}
		if ((size_t)(end - cur) >= 2 && cur[1] == '?') {
			const char *q = strstr(cur, "?>");

			if (!q)
				return fail("unterminated processing instruction");
			cur = q + 2;
			continue;
		}
		if ((size_t)(end - cur) >= 2 && cur[1] == '!')
			return fail("DTDs and CDATA are not expected here");
		if ((size_t)(end - cur) >= 2 && cur[1] == '/') {
			const char *n;
			size_t len;

			cur += 2;
			n = cur;
			len = read_name();
			skip_space();
			if (!len || cur >= end || *cur != '>')
				return fail("bad end tag");
			cur++;
			if (!depth || slen[depth - 1] != len || memcmp(stack[depth - 1], n, len))
				return fail("end tag does not match the open element");
			if (--depth == 0)
				root_done = true;
			continue;
		}

		{
			struct attr a[MAX_ATTRS];
			const char *n;
			size_t len;
			int na = 0;
			bool empty = false;

			cur++;
			n = cur;
			len = read_name();
			if (!len)
				return fail("bad element name");
			if (root_done || (depth == 0 && root_seen))
				return fail("more than one root element");
			for (;;) {
				const char *an;
				size_t alen;
				char q;

				bool sp = cur < end && space(*cur);

				skip_space();
				if (cur >= end)
					return fail("unterminated start tag");
				if (*cur == '>') {
					cur++;
					break;
				}
				if (*cur == '/' && cur + 1 < end && cur[1] == '>') {
					cur += 2;
					empty = true;
					break;
				}
				if (!sp)
					return fail("attributes must be separated by blanks");
				an = cur;
				alen = read_name();
				if (!alen)
					return fail("bad attribute name");
				skip_space();
				if (cur >= end || *cur != '=')
					return fail("attribute without '='");
				cur++;
				skip_space();
				if (cur >= end || (*cur != '"' && *cur != '\''))
					return fail("attribute value not quoted");
				q = *cur++;
				if (na == MAX_ATTRS)
					return fail("too many attributes");
				for (int i = 0; i < na; i++)
					if (a[i].nlen == alen && !memcmp(a[i].name, an, alen))
						return fail("duplicate attribute");
				a[na].name = an;
				a[na].nlen = alen;
				a[na].val = cur;
				while (cur < end && *cur != q) {
					if (*cur == '<')
						return fail("'<' in an attribute value");
					if (*cur == '&') {
						if (!entity())
							return fail(
								"bad entity in an attribute value");
						continue;
					}
					cur++;
				}
				if (cur >= end)
					return fail("unterminated attribute value");
				a[na].vlen = (size_t)(cur - a[na].val);
				na++;
				cur++;
			}
			if (element(n, len, a, na, depth, c))
				return 1;
			root_seen = true;
			if (empty) {
				if (depth == 0)
					root_done = true;
			} else {
				if (depth == MAX_DEPTH)
					return fail("elements nested too deep");
				stack[depth] = n;
				slen[depth] = len;
				depth++;
			}
		}
	}
	if (depth)
		return fail("elements left open at the end of the file");
	if (!root_seen)
		return fail("no root element");
	return 0;
}

static int expect(const char *what, long got, long want)
{
	if (want < 0 || got == want)
		return 0;
	fprintf(stderr, "svgcheck: %s: %ld %s, expected %ld\n", path, got, what, want);
	return 1;
}

int main(int argc, char **argv)
{
	long want_va = -1, want_sparse = -1, want_res = -1, want_bos = -1, want_bands = -1;
	struct counts c = { 0 };
	char *buf;
	long size;
	FILE *f;
	int bad;

	if (argc < 2) {
		fprintf(stderr, "usage: svgcheck FILE [--va N] [--sparse N] [--reserved N] "
				"[--bos N] [--bands N]\n");
		return 2;
	}
	path = argv[1];
	for (int i = 2; i + 1 < argc; i += 2) {
		long v = strtol(argv[i + 1], NULL, 0);

		if (!strcmp(argv[i], "--va"))
			want_va = v;
		else if (!strcmp(argv[i], "--sparse"))
			want_sparse = v;
		else if (!strcmp(argv[i], "--reserved"))
			want_res = v;
		else if (!strcmp(argv[i], "--bos"))
			want_bos = v;
		else if (!strcmp(argv[i], "--bands"))
			want_bands = v;
		else {
			fprintf(stderr, "svgcheck: unknown option %s\n", argv[i]);
			return 2;
		}
	}

	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "svgcheck: cannot read %s\n", path);
		return 1;
	}
	fclose(f);
	buf[size] = '\0';
	if (strlen(buf) != (size_t)size) {
		fprintf(stderr, "svgcheck: %s holds a NUL byte\n", path);
		return 1;
	}
	src = cur = buf;
	end = buf + size;

	bad = parse(&c);
	if (!bad) {
		bad |= expect("mapping rects", c.va, want_va);
		bad |= expect("sparse mapping rects", c.sparse, want_sparse);
		bad |= expect("reserved-region rects", c.reserved, want_res);
		bad |= expect("legend bo keys", c.bos, want_bos);
		bad |= expect("vm bands", c.bands, want_bands);
		if (c.sparse && !c.patterns) {
			fprintf(stderr, "svgcheck: %s: sparse mappings but no <pattern>\n", path);
			bad = 1;
		}
	}
	if (!bad)
		printf("svgcheck: %s: well-formed; %ld mappings (%ld sparse), %ld reserved, "
		       "%ld bo keys, %ld vm bands\n",
		       path, c.va, c.sparse, c.reserved, c.bos, c.bands);
	free(buf);
	return bad;
}
