// SPDX-License-Identifier: MIT
/*
 * The reference model: brute force over a sorted array. Speed does not
 * matter here, obviousness does; every rule is written as it is stated in
 * shared/trace-format.md.
 */
#include "refmodel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t m_end(const struct rm_mapping *m)
{
	return m->addr + m->range;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

int rm_vm_init(struct rm_vm *vm, uint64_t start, uint64_t range, uint64_t res_addr,
	       uint64_t res_range, int nbo, const uint64_t *bo_size)
{
	memset(vm, 0, sizeof(*vm));
	vm->start = start;
	vm->range = range;
	vm->res_addr = res_addr;
	vm->res_range = res_range;
	vm->bo_size = bo_size;
	vm->nbo = nbo;
	vm->next_id = 1;
	if (nbo > 0) {
		vm->links = calloc((size_t)nbo, sizeof(*vm->links));
		if (!vm->links)
			return -ENOMEM;
	}
	return 0;
}

void rm_vm_fini(struct rm_vm *vm)
{
	for (int i = 0; i < vm->nbo; i++)
		free(vm->links[i].id);
	free(vm->links);
	free(vm->m);
	memset(vm, 0, sizeof(*vm));
}

void rm_ops_init(struct rm_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
}

void rm_ops_fini(struct rm_ops *ops)
{
	free(ops->op);
	memset(ops, 0, sizeof(*ops));
}

static int push(struct rm_ops *ops, const struct rm_op *op)
{
	if (grow((void **)&ops->op, &ops->cap, ops->n + 1, sizeof(*op)))
		return -ENOMEM;
	ops->op[ops->n++] = *op;
	return 0;
}

bool rm_range_valid(const struct rm_vm *vm, uint64_t addr, uint64_t range)
{
	uint64_t end;

	if (range == 0)
		return false;
	/* addr + range must be at most 2^64 - 1 */
	if (range > UINT64_MAX - addr)
		return false;
	end = addr + range;
	if (addr < vm->start || end > vm->start + vm->range)
		return false;
	if (vm->res_range && addr < vm->res_addr + vm->res_range && vm->res_addr < end)
		return false;
	return true;
}

static bool obj_range_valid(const struct rm_vm *vm, int bo, uint64_t offset, uint64_t range)
{
	if (bo == RM_NO_BO)
		return true;
	if (bo < 0 || bo >= vm->nbo)
		return false;
	if (offset > UINT64_MAX - range)
		return false;
	return offset + range <= vm->bo_size[bo];
}

static bool overlaps(const struct rm_mapping *m, uint64_t addr, uint64_t end)
{
	return m->addr < end && addr < m_end(m);
}

/*
 * Whether @m and a request that maps @bo at @offset from @addr map the same
 * object offset at every address they share. Written without any wrapping
 * subtraction of offsets.
 */
static bool same_backing(const struct rm_mapping *m, uint64_t addr, int bo, uint64_t offset)
{
	if (m->bo == RM_NO_BO || m->bo != bo)
		return false;
	if (m->addr <= addr)
		return m->offset + (addr - m->addr) == offset;
	return m->offset == offset + (m->addr - addr);
}

static struct rm_piece piece(uint64_t addr, uint64_t end, int bo, uint64_t offset)
{
	struct rm_piece p = {
		.addr = addr,
		.range = end - addr,
		.offset = offset,
		.bo = bo,
	};

	return p;
}

/* The op a truly overlapping mapping gets from a map or unmap request. */
static struct rm_op cut(const struct rm_mapping *m, uint64_t addr, uint64_t end, bool keep)
{
	struct rm_op op;

	memset(&op, 0, sizeof(op));
	op.va = *m;
	op.keep = keep;
	if (m->addr < addr) {
		op.has_prev = true;
		op.prev = piece(m->addr, addr, m->bo, m->offset);
	}
	if (m_end(m) > end) {
		op.has_next = true;
		op.next = piece(end, m_end(m), m->bo, m->offset + (end - m->addr));
	}
	op.type = (op.has_prev || op.has_next) ? RM_OP_REMAP : RM_OP_UNMAP;
	return op;
}

static struct rm_op map_op(uint64_t addr, uint64_t end, int bo, uint64_t offset)
{
	struct rm_op op;

	memset(&op, 0, sizeof(op));
	op.type = RM_OP_MAP;
	op.map = piece(addr, end, bo, offset);
	return op;
}

int rm_map(const struct rm_vm *vm, uint64_t addr, uint64_t range, int bo, uint64_t offset,
	   struct rm_ops *out)
{
	uint64_t end = addr + range;
	struct rm_op op;

	out->n = 0;
	if (!rm_range_valid(vm, addr, range) || !obj_range_valid(vm, bo, offset, range))
		return -EINVAL;
	for (size_t i = 0; i < vm->n; i++) {
		const struct rm_mapping *m = &vm->m[i];

		if (!overlaps(m, addr, end))
			continue;
		op = cut(m, addr, end, same_backing(m, addr, bo, offset));
		if (push(out, &op))
			return -ENOMEM;
	}
	op = map_op(addr, end, bo, offset);
	return push(out, &op);
}

int rm_unmap(const struct rm_vm *vm, uint64_t addr, uint64_t range, struct rm_ops *out)
{
	uint64_t end = addr + range;
	struct rm_op op;

	out->n = 0;
	if (!rm_range_valid(vm, addr, range))
		return -EINVAL;
	for (size_t i = 0; i < vm->n; i++) {
		if (!overlaps(&vm->m[i], addr, end))
			continue;
		op = cut(&vm->m[i], addr, end, false);
		if (push(out, &op))
			return -ENOMEM;
	}
	return 0;
}

int rm_prefetch(const struct rm_vm *vm, uint64_t addr, uint64_t range, struct rm_ops *out)
{
	uint64_t end = addr + range;
	struct rm_op op;

	out->n = 0;
	if (!rm_range_valid(vm, addr, range))
		return -EINVAL;
	for (size_t i = 0; i < vm->n; i++) {
		if (!overlaps(&vm->m[i], addr, end))
			continue;
		memset(&op, 0, sizeof(op));
		op.type = RM_OP_PREFETCH;
		op.va = vm->m[i];
		if (push(out, &op))
			return -ENOMEM;
	}
	return 0;
}

const struct rm_mapping *rm_find_id(const struct rm_vm *vm, uint64_t id)
{
	for (size_t i = 0; i < vm->n; i++)
		if (vm->m[i].id == id)
			return &vm->m[i];
	return NULL;
}

int rm_bo_unmap(const struct rm_vm *vm, int bo, struct rm_ops *out)
{
	const struct rm_links *l;
	struct rm_op op;

	out->n = 0;
	if (bo < 0 || bo >= vm->nbo)
		return -EINVAL;
	l = &vm->links[bo];
	for (size_t i = 0; i < l->n; i++) {
		const struct rm_mapping *m = rm_find_id(vm, l->id[i]);

		if (!m)
			abort(); /* the model itself is broken */
		memset(&op, 0, sizeof(op));
		op.type = RM_OP_UNMAP;
		op.va = *m;
		if (push(out, &op))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Madvise only splits sparse mappings at the request's ends (docs/split-merge.md,
 * "Madvise"). Mappings with an object do not take part at all. Each case is
 * spelled out by where a sparse mapping starts and ends relative to
 * R = [addr, end):
 * (1) inside R or equal to it: no op;
 * (2) starts at addr, ends past end; (3) starts below addr, ends at end;
 * (5) starts below addr, ends past end: remap with its outside pieces, the
 *     walk stops, and the request itself is mapped;
 * (4) starts below addr, ends inside R: remap keeping prev, then a sparse
 *     map of [addr, its end) at offset 0; the walk goes on;
 * (6) starts inside R, ends past end: remap keeping next, then a sparse map
 *     of [its start, end) at offset 0, and nothing more.
 */
int rm_madvise(const struct rm_vm *vm, uint64_t addr, uint64_t range, int bo, uint64_t offset,
	       struct rm_ops *out)
{
	uint64_t end = addr + range;
	bool final_map = false;
	struct rm_op op;

	out->n = 0;
	if (!rm_range_valid(vm, addr, range) || !obj_range_valid(vm, bo, offset, range))
		return -EINVAL;
	for (size_t i = 0; i < vm->n; i++) {
		const struct rm_mapping *m = &vm->m[i];
		uint64_t ma = m->addr, me = m_end(m);

		if (m->bo != RM_NO_BO || !overlaps(m, addr, end))
			continue;
		if (ma >= addr && me <= end) {
			/* (1): inside R, or equal to it: left alone */
			if (me == end)
				break;
			continue;
		}
		/* It sticks out on at least one side: split it there. */
		op = cut(m, addr, end, false);
		if (push(out, &op))
			return -ENOMEM;
		if (ma < addr && me < end) {
			/* (4): the part inside R becomes its own mapping */
			op = map_op(addr, me, RM_NO_BO, 0);
			if (push(out, &op))
				return -ENOMEM;
		} else if (ma > addr) {
			/* (6): me > end here; the walk ends with its part */
			op = map_op(ma, end, RM_NO_BO, 0);
			return push(out, &op);
		} else {
			/* (2), (3), (5): the mapping covers all of R */
			final_map = true;
			break;
		}
	}
	if (final_map) {
		op = map_op(addr, end, bo, offset);
		return push(out, &op);
	}
	return 0;
}

static size_t lower_bound(const struct rm_vm *vm, uint64_t addr)
{
	size_t i = 0;

	while (i < vm->n && vm->m[i].addr < addr)
		i++;
	return i;
}

static int insert(struct rm_vm *vm, const struct rm_piece *p)
{
	size_t i;
	struct rm_mapping m = {
		.addr = p->addr,
		.range = p->range,
		.offset = p->offset,
		.bo = p->bo,
		.id = vm->next_id++,
	};

	if (grow((void **)&vm->m, &vm->cap, vm->n + 1, sizeof(m)))
		return -ENOMEM;
	i = lower_bound(vm, m.addr);
	memmove(&vm->m[i + 1], &vm->m[i], (vm->n - i) * sizeof(m));
	vm->m[i] = m;
	vm->n++;
	if (m.bo != RM_NO_BO) {
		struct rm_links *l = &vm->links[m.bo];

		if (grow((void **)&l->id, &l->cap, l->n + 1, sizeof(*l->id)))
			return -ENOMEM;
		l->id[l->n++] = m.id;
	}
	return 0;
}

static void remove_id(struct rm_vm *vm, uint64_t id)
{
	size_t i;
	int bo;

	for (i = 0; i < vm->n && vm->m[i].id != id; i++)
		;
	if (i == vm->n)
		abort();
	bo = vm->m[i].bo;
	memmove(&vm->m[i], &vm->m[i + 1], (vm->n - i - 1) * sizeof(vm->m[0]));
	vm->n--;
	if (bo != RM_NO_BO) {
		struct rm_links *l = &vm->links[bo];

		for (i = 0; i < l->n && l->id[i] != id; i++)
			;
		if (i == l->n)
			abort();
		memmove(&l->id[i], &l->id[i + 1], (l->n - i - 1) * sizeof(l->id[0]));
		l->n--;
	}
}

int rm_apply(struct rm_vm *vm, const struct rm_ops *ops)
{
	for (size_t i = 0; i < ops->n; i++) {
		const struct rm_op *op = &ops->op[i];
		int ret = 0;

		switch (op->type) {
		case RM_OP_MAP:
			ret = insert(vm, &op->map);
			break;
		case RM_OP_REMAP:
			/* the pieces are linked before the old one goes */
			if (op->has_prev)
				ret = insert(vm, &op->prev);
			if (!ret && op->has_next)
				ret = insert(vm, &op->next);
			if (!ret)
				remove_id(vm, op->va.id);
			break;
		case RM_OP_UNMAP:
			remove_id(vm, op->va.id);
			break;
		case RM_OP_PREFETCH:
			break;
		}
		if (ret)
			return ret;
	}
	return 0;
}
