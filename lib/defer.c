/* SPDX-License-Identifier: MIT */
/*
 * The deferred vm_bo cleanup stack: liburcu's lock-free stack (cds_lfs),
 * and the only file of the library that includes a liburcu header.
 *
 * The fence-signalling path pushes zombies (vm_bos whose last reference it
 * dropped) and must not block or allocate: a lock-free push is the one thing
 * it can do. gpuvm_bo_deferred_cleanup() takes the whole stack at once with
 * __cds_lfs_pop_all(), which liburcu allows concurrently with pushes and
 * with other pop_alls without any RCU read-side section or grace period
 * (only single-node pops would need one; there are none here).
 *
 * The library uses liburcu's exported functions, not its inline versions
 * (no _LGPL_SOURCE): the stack's layout stays liburcu's business, and this
 * file only relies on the documented struct __cds_lfs_stack and
 * struct cds_lfs_node, one pointer each.
 *
 * ThreadSanitizer: liburcu is not instrumented, so TSan does not see the
 * release/acquire ordering its atomics give between a push and the pop_all
 * that returns the node, and would report the cleanup's reads of a vm_bo
 * (and of the gem and VM behind it) as racing with the pusher's writes. In
 * TSan builds the push is therefore preceded by __tsan_release(vm_bo) and
 * each popped node followed by __tsan_acquire(vm_bo): exactly the
 * happens-before edge liburcu provides, on the node's own address, so no
 * suppression is needed and a real race on a vm_bo is still reported.
 */
#include "internal.h"

#include <urcu/lfstack.h>

#if defined(__SANITIZE_THREAD__)
#define GPUVM__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GPUVM__TSAN 1
#endif
#endif

#ifdef GPUVM__TSAN
#include <sanitizer/tsan_interface.h>
#define tsan_release(p) __tsan_release(p)
#define tsan_acquire(p) __tsan_acquire(p)
#else
#define tsan_release(p) ((void)(p))
#define tsan_acquire(p) ((void)(p))
#endif

/* The storage the public headers keep for the stack and for a node. */
_Static_assert(sizeof(((struct gpuvm *)0)->bo_defer) == sizeof(struct __cds_lfs_stack),
	       "struct gpuvm::bo_defer must hold a struct __cds_lfs_stack");
_Static_assert(_Alignof(void *) >= _Alignof(struct __cds_lfs_stack),
	       "struct gpuvm::bo_defer is not aligned for a struct __cds_lfs_stack");
_Static_assert(sizeof(((struct gpuvm_bo *)0)->list.entry.bo_defer) ==
		       sizeof(struct cds_lfs_node),
	       "struct gpuvm_bo::list.entry.bo_defer must hold a struct cds_lfs_node");

static struct __cds_lfs_stack *stack_of(const struct gpuvm *vm)
{
	return (struct __cds_lfs_stack *)(uintptr_t)&vm->bo_defer;
}

static struct cds_lfs_node *node_of(struct gpuvm_bo *vm_bo)
{
	return (struct cds_lfs_node *)(void *)&vm_bo->list.entry.bo_defer;
}

static struct gpuvm_bo *bo_of(struct cds_lfs_node *node)
{
	return node ? gpuvm__list_entry(node, struct gpuvm_bo, list.entry.bo_defer) : NULL;
}

void gpuvm__defer_init(struct gpuvm *vm)
{
	__cds_lfs_init(stack_of(vm));
}

void gpuvm__defer_push(struct gpuvm *vm, struct gpuvm_bo *vm_bo)
{
	cds_lfs_node_init(node_of(vm_bo));
	tsan_release(vm_bo);
	cds_lfs_push(stack_of(vm), node_of(vm_bo));
}

struct gpuvm_bo *gpuvm__defer_pop_all(struct gpuvm *vm)
{
	struct cds_lfs_head *head = __cds_lfs_pop_all(stack_of(vm));
	struct gpuvm_bo *vm_bo;

	if (!head)
		return NULL;
	/*
	 * Acquire each node before anyone reads it (including its next
	 * pointer, written by the push that published it).
	 */
	for (vm_bo = bo_of(&head->node); vm_bo; vm_bo = gpuvm__defer_next(vm_bo))
		tsan_acquire(vm_bo);
	return bo_of(&head->node);
}

struct gpuvm_bo *gpuvm__defer_next(const struct gpuvm_bo *vm_bo)
{
	/*
	 * liburcu's push stored the next node in the pointer the public header
	 * keeps for it; read it through that member's own type rather than
	 * through a struct cds_lfs_node, which would pun the storage.
	 */
	return bo_of((struct cds_lfs_node *)vm_bo->list.entry.bo_defer.next_);
}

bool gpuvm__defer_empty(const struct gpuvm *vm)
{
	return cds_lfs_empty(stack_of(vm));
}
