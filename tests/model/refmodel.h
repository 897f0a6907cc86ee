/* SPDX-License-Identifier: MIT */
/*
 * A deliberately naive reference model of GPUVM split/merge semantics.
 *
 * It knows nothing of libgpuvm: a VM is a flat array of mappings sorted by
 * address, a buffer object is a small integer (-1 for "no object"), and the
 * (VM, BO) link lists are arrays of mapping ids. Every request is answered
 * by brute force over all mappings, straight from the rules in
 * shared/trace-format.md, so that a disagreement with the library points at
 * one of the two and not at a shared idea of how to walk a tree.
 */
#ifndef GPUVM_TESTS_REFMODEL_H
#define GPUVM_TESTS_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RM_NO_BO (-1)

struct rm_mapping {
	uint64_t addr;
	uint64_t range;
	uint64_t offset;
	int bo;	     /* RM_NO_BO for a sparse mapping */
	uint64_t id; /* unique within the VM, names the mapping in links */
};

/* A mapping to create: the request's own map op, or a remap piece. */
struct rm_piece {
	uint64_t addr;
	uint64_t range;
	uint64_t offset;
	int bo;
};

enum rm_op_type {
	RM_OP_MAP,
	RM_OP_REMAP,
	RM_OP_UNMAP,
	RM_OP_PREFETCH,
};

struct rm_op {
	enum rm_op_type type;
	struct rm_piece map;  /* RM_OP_MAP */
	struct rm_mapping va; /* the existing mapping: REMAP, UNMAP, PREFETCH */
	bool keep;	      /* REMAP, UNMAP */
	bool has_prev, has_next;
	struct rm_piece prev, next;
};

struct rm_ops {
	struct rm_op *op;
	size_t n, cap;
};

struct rm_links {
	uint64_t *id;
	size_t n, cap;
};

struct rm_vm {
	uint64_t start, range;
	uint64_t res_addr, res_range;
	const uint64_t *bo_size; /* nbo sizes, owned by the caller */
	int nbo;
	struct rm_mapping *m; /* sorted by addr, never overlapping */
	size_t n, cap;
	struct rm_links *links; /* nbo link lists */
	uint64_t next_id;
};

/* Returns 0 or -ENOMEM. @bo_size must outlive the model. */
int rm_vm_init(struct rm_vm *vm, uint64_t start, uint64_t range, uint64_t res_addr,
	       uint64_t res_range, int nbo, const uint64_t *bo_size);
void rm_vm_fini(struct rm_vm *vm);

void rm_ops_init(struct rm_ops *ops);
void rm_ops_fini(struct rm_ops *ops);

/* Whether GPUVM accepts [addr, addr + range) in this VM. */
bool rm_range_valid(const struct rm_vm *vm, uint64_t addr, uint64_t range);

/*
 * The request builders reset @out and fill it; they return 0, -EINVAL for a
 * refused request (then @out is empty) or -ENOMEM. Nothing changes the VM
 * but rm_apply().
 */
int rm_map(const struct rm_vm *vm, uint64_t addr, uint64_t range, int bo, uint64_t offset,
	   struct rm_ops *out);
int rm_madvise(const struct rm_vm *vm, uint64_t addr, uint64_t range, int bo, uint64_t offset,
	       struct rm_ops *out);
int rm_unmap(const struct rm_vm *vm, uint64_t addr, uint64_t range, struct rm_ops *out);
int rm_prefetch(const struct rm_vm *vm, uint64_t addr, uint64_t range, struct rm_ops *out);
int rm_bo_unmap(const struct rm_vm *vm, int bo, struct rm_ops *out);

/* Apply a list built against the current state. Returns 0 or -ENOMEM. */
int rm_apply(struct rm_vm *vm, const struct rm_ops *ops);

/* The mapping with this id, or NULL. */
const struct rm_mapping *rm_find_id(const struct rm_vm *vm, uint64_t id);

#endif /* GPUVM_TESTS_REFMODEL_H */
