/* SPDX-License-Identifier: MIT */
#include "test_dump.h"
#include "test_gem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A corrupted tree must not hang a dump. */
#define DUMP_MAX_ITEMS 10000000u

void test_str_printf(struct test_str *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap ? b->cap : 256;

		while (ncap - b->len <= (size_t)n)
			ncap *= 2;
		char *ns = realloc(b->s, ncap);

		if (!ns)
			abort();
		b->s = ns;
		b->cap = ncap;
	}
}

char *test_str_take(struct test_str *b)
{
	char *s = b->s;

	if (!s) {
		s = malloc(1);
		if (!s)
			abort();
		s[0] = '\0';
	}
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void test_str_free(struct test_str *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void test_dump_obj(struct test_str *b, const struct gpuvm_gem *obj)
{
	const char *name = test_gem_name(obj);

	if (!obj)
		test_str_printf(b, "-");
	else if (name)
		test_str_printf(b, "%s", name);
	else
		test_str_printf(b, "obj%p", (const void *)obj);
}

/* A small set of pointers kept in discovery order. */
struct ptrset {
	const void **p;
	size_t n, cap;
};

static bool ptrset_has(const struct ptrset *s, const void *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i] == p)
			return true;
	return false;
}

static void ptrset_add(struct ptrset *s, const void *p)
{
	if (!p || ptrset_has(s, p))
		return;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		const void **np = realloc(s->p, ncap * sizeof(*np));

		if (!np)
			abort();
		s->p = np;
		s->cap = ncap;
	}
	s->p[s->n++] = p;
}

static void dump_vm_ref(struct test_str *b, const struct gpuvm *self,
			const struct gpuvm *vm)
{
	if (vm == self)
		test_str_printf(b, "self");
	else if (!vm)
		test_str_printf(b, "-");
	else
		test_str_printf(b, "vm%p", (const void *)vm);
}

static void dump_vm_bo(struct test_str *b, const struct gpuvm *self,
		       const struct gpuvm_bo *vm_bo)
{
	const struct gpuva *va;
	unsigned int n = 0;

	test_str_printf(b, "  vm_bo %p vm=", (const void *)vm_bo);
	dump_vm_ref(b, self, vm_bo->vm);
	test_str_printf(b, " obj=");
	test_dump_obj(b, vm_bo->obj);
	test_str_printf(b, " ref=%u evicted=%d gpuva:", vm_bo->refcount,
			(int)vm_bo->evicted);
	gpuvm_bo_for_each_va(va, vm_bo) {
		test_str_printf(b, " %p@0x%" PRIx64, (const void *)va, va->va.addr);
		if (++n > DUMP_MAX_ITEMS) {
			test_str_printf(b, " <loop?>");
			break;
		}
	}
	test_str_printf(b, "\n");
}

char *test_dump_vm(const struct gpuvm *vm, struct gpuvm_gem *const *extra,
		   size_t nextra)
{
	return test_dump_vm_ex(vm, extra, nextra, 0);
}

char *test_dump_vm_ex(const struct gpuvm *vm, struct gpuvm_gem *const *extra,
		      size_t nextra, unsigned int flags)
{
	struct test_str b = { 0 };
	struct ptrset gems = { 0 }, bos = { 0 }, listed = { 0 };
	struct gpuvm_stats st = { .sz = sizeof(st) };
	const struct gpuva *va;
	size_t i = 0;
	int ret;

	if (!vm) {
		test_str_printf(&b, "vm NULL\n");
		return test_str_take(&b);
	}

	test_str_printf(&b, "vm %p name=%s ref=%u flags=0x%x space=0x%" PRIx64
			"+0x%" PRIx64 " reserve=0x%" PRIx64 "+0x%" PRIx64
			" ops=%p r_obj=",
			(const void *)vm, vm->name ? vm->name : "(null)",
			vm->refcount, vm->flags, vm->mm_start, vm->mm_range,
			vm->reserve_addr, vm->reserve_range,
			(const void *)vm->ops);
	test_dump_obj(&b, vm->r_obj);
	test_str_printf(&b, "\n");
	if (flags & TEST_DUMP_NO_INDEX)
		goto mappings;
	test_str_printf(&b, "index count=%zu nodes=%zu ncache=%zu reserved=%zu height=%u\n",
			vm->index.count, vm->index.nodes, vm->index.ncache,
			vm->index.reserved, vm->index.height);
	ret = gpuvm_stats(vm, &st);
	test_str_printf(&b, "stats ret=%d mappings=%zu nodes=%zu bytes=%zu cached=%zu "
			"cached_bytes=%zu height=%u\n",
			ret, st.mappings, st.index_nodes, st.index_bytes,
			st.cached_nodes, st.cached_bytes, st.height);
mappings:

	gpuvm_for_each_va(va, vm) {
		const struct gpuvm_bo *vm_bo = gpuva_vm_bo(va);

		test_str_printf(&b, "va %zu %p 0x%" PRIx64 "+0x%" PRIx64 " obj=", i,
				(const void *)va, va->va.addr, va->va.range);
		test_dump_obj(&b, gpuva_gem(va));
		test_str_printf(&b, " off=0x%" PRIx64 " flags=0x%x vm=", va->gem.offset,
				va->flags);
		dump_vm_ref(&b, vm, va->vm);
		test_str_printf(&b, " vm_bo=%p\n", (const void *)vm_bo);
		ptrset_add(&gems, gpuva_gem(va));
		ptrset_add(&bos, vm_bo);
		if (++i > DUMP_MAX_ITEMS) {
			test_str_printf(&b, "<loop?>\n");
			break;
		}
	}
	test_str_printf(&b, "mappings iterated=%zu\n", i);

	for (size_t k = 0; k < nextra; k++)
		ptrset_add(&gems, extra[k]);

	for (size_t g = 0; g < gems.n; g++) {
		const struct gpuvm_gem *obj = gems.p[g];
		const struct gpuvm_bo *vm_bo;
		unsigned int n = 0;

		test_str_printf(&b, "gem ");
		test_dump_obj(&b, obj);
		test_str_printf(&b, " %p ref=%u size=0x%" PRIx64 "\n", (const void *)obj,
				obj->refcount, obj->size);
		gpuvm_gem_for_each_vm_bo(vm_bo, obj) {
			dump_vm_bo(&b, vm, vm_bo);
			ptrset_add(&listed, vm_bo);
			if (++n > DUMP_MAX_ITEMS) {
				test_str_printf(&b, "  <loop?>\n");
				break;
			}
		}
	}
	for (size_t k = 0; k < bos.n; k++) {
		if (ptrset_has(&listed, bos.p[k]))
			continue;
		test_str_printf(&b, "unlisted");
		dump_vm_bo(&b, vm, bos.p[k]);
	}

	free(gems.p);
	free(bos.p);
	free(listed.p);
	return test_str_take(&b);
}

static void dump_map(struct test_str *b, const struct gpuva_op_map *m)
{
	test_str_printf(b, "0x%" PRIx64 "+0x%" PRIx64 " ", m->va.addr, m->va.range);
	test_dump_obj(b, m->gem.obj);
	test_str_printf(b, "@0x%" PRIx64, m->gem.offset);
}

static void dump_va(struct test_str *b, const struct gpuva *va)
{
	if (!va) {
		test_str_printf(b, "(null va)");
		return;
	}
	test_str_printf(b, "0x%" PRIx64 "+0x%" PRIx64 " ", va->va.addr, va->va.range);
	test_dump_obj(b, gpuva_gem(va));
	test_str_printf(b, "@0x%" PRIx64, va->gem.offset);
}

void test_dump_op(struct test_str *b, const struct gpuva_op *op)
{
	switch (op->op) {
	case GPUVA_OP_MAP:
		test_str_printf(b, "map ");
		dump_map(b, &op->map);
		break;
	case GPUVA_OP_REMAP:
		test_str_printf(b, "remap(");
		if (op->remap.unmap) {
			dump_va(b, op->remap.unmap->va);
			test_str_printf(b, " keep=%d", (int)op->remap.unmap->keep);
		} else {
			test_str_printf(b, "(null unmap)");
		}
		test_str_printf(b, ": prev=");
		if (op->remap.prev)
			dump_map(b, op->remap.prev);
		else
			test_str_printf(b, "-");
		test_str_printf(b, " next=");
		if (op->remap.next)
			dump_map(b, op->remap.next);
		else
			test_str_printf(b, "-");
		test_str_printf(b, ")");
		break;
	case GPUVA_OP_UNMAP:
		test_str_printf(b, "unmap(");
		dump_va(b, op->unmap.va);
		test_str_printf(b, " keep=%d)", (int)op->unmap.keep);
		break;
	case GPUVA_OP_PREFETCH:
		test_str_printf(b, "prefetch(");
		dump_va(b, op->prefetch.va);
		test_str_printf(b, ")");
		break;
	default:
		test_str_printf(b, "op%d", (int)op->op);
		break;
	}
}

char *test_dump_ops(const struct gpuva_ops *ops)
{
	struct test_str b = { 0 };
	const struct gpuva_op *op;
	size_t n = 0;

	if (!ops)
		return test_str_take(&b);
	gpuva_for_each_op(op, ops) {
		if (n++)
			test_str_printf(&b, "; ");
		test_dump_op(&b, op);
		if (n > DUMP_MAX_ITEMS) {
			test_str_printf(&b, "; <loop?>");
			break;
		}
	}
	return test_str_take(&b);
}

void test_dump_diff(const char *a, const char *b)
{
	size_t line = 1, start = 0, i = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (!a[i] && !b[i]) {
		fprintf(stderr, "dumps are identical\n");
		return;
	}
	const char *ea = strchr(a + start, '\n');
	const char *eb = strchr(b + start, '\n');
	int la = ea ? (int)(ea - (a + start)) : (int)strlen(a + start);
	int lb = eb ? (int)(eb - (b + start)) : (int)strlen(b + start);

	fprintf(stderr, "dumps differ at line %zu:\n  before: %.*s\n  after:  %.*s\n",
		line, la, a + start, lb, b + start);
}
