/* SPDX-License-Identifier: MIT */
/* The canonical listing of docs/trace-format: echo, ops, errors, dumps. */
#include "replay.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int out_init(struct out *o, FILE *f, size_t cap)
{
	o->buf = malloc(cap);
	if (!o->buf)
		return -ENOMEM;
	o->cap = cap;
	o->len = 0;
	o->f = f;
	o->failed = false;
	return 0;
}

void out_flush(struct out *o)
{
	if (o->f && o->len && !o->failed && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->failed = true;
	o->len = 0;
}

void out_fini(struct out *o)
{
	out_flush(o);
	if (o->f && fflush(o->f) != 0)
		o->failed = true;
	free(o->buf);
	o->buf = NULL;
}

void out_write(struct out *o, const char *s, size_t len)
{
	while (len) {
		size_t n;

		if (o->len == o->cap)
			out_flush(o);
		n = o->cap - o->len;
		if (n > len)
			n = len;
		memcpy(o->buf + o->len, s, n);
		o->len += n;
		s += n;
		len -= n;
	}
}

void out_hex(struct out *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[18];
	int i = (int)sizeof(tmp);

	do {
		tmp[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v);
	tmp[--i] = 'x';
	tmp[--i] = '0';
	out_write(o, tmp + i, sizeof(tmp) - (size_t)i);
}

void print_echo(struct out *o, const struct trace_line *l, const struct trace_req *r)
{
	out_char(o, '>');
	for (size_t i = 0; i < l->ntok; i++) {
		out_char(o, ' ');
		if (i < TRACE_MAX_POS && (r->numok & (1u << i)))
			out_hex(o, r->num[i]);
		else
			out_write(o, l->tok[i].s, l->tok[i].len);
	}
	out_char(o, '\n');
}

void print_refusal(struct out *o, int err, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	out_str(o, "error ");
	out_str(o, gpuvm_err_name(err));
	out_char(o, ' ');
	out_write(o, text, (size_t)n);
	out_char(o, '\n');
}

void print_va(struct out *o, uint64_t addr, uint64_t range, const struct gpuvm_gem *obj,
	      uint64_t offset)
{
	out_hex(o, addr);
	out_char(o, '+');
	out_hex(o, range);
	out_char(o, ':');
	if (obj) {
		const struct rp_bo *bo = rp_bo_of(obj);

		out_write(o, bo->name, bo->nlen);
	} else {
		out_char(o, '-');
	}
	out_char(o, '@');
	out_hex(o, offset);
}

void print_gpuva(struct out *o, const struct gpuva *va)
{
	print_va(o, va->va.addr, va->va.range, gpuva_gem(va), va->gem.offset);
}

static void print_piece(struct out *o, const struct gpuva_op_map *m)
{
	if (m)
		print_va(o, m->va.addr, m->va.range, m->gem.obj, m->gem.offset);
	else
		out_char(o, '-');
}

void print_op(struct out *o, const struct gpuva_op *op)
{
	switch (op->op) {
	case GPUVA_OP_MAP:
		out_str(o, "map ");
		print_piece(o, &op->map);
		break;
	case GPUVA_OP_REMAP:
		out_str(o, "remap unmap=");
		print_gpuva(o, op->remap.unmap->va);
		out_str(o, op->remap.unmap->keep ? " keep=1 prev=" : " keep=0 prev=");
		print_piece(o, op->remap.prev);
		out_str(o, " next=");
		print_piece(o, op->remap.next);
		break;
	case GPUVA_OP_UNMAP:
		out_str(o, "unmap ");
		print_gpuva(o, op->unmap.va);
		out_str(o, op->unmap.keep ? " keep=1" : " keep=0");
		break;
	case GPUVA_OP_PREFETCH:
		out_str(o, "prefetch ");
		print_gpuva(o, op->prefetch.va);
		break;
	default:
		replay_die("op list holds an op of unknown type", -EINVAL);
	}
	out_char(o, '\n');
}
