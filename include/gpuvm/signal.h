/* SPDX-License-Identifier: MIT */
/*
 * The fence-signalling section (the kernel's dma_fence_begin_signalling()
 * and dma_fence_end_signalling()).
 *
 * A GPU job's completion fence may be waited for by code that holds a
 * reservation, or that allocates memory the job's completion would free. So
 * the path that leads to signalling the fence (a driver's run_job(), an
 * emulator's GPU thread applying a bind queue) must never wait for a
 * reservation, allocate, or free a buffer object: each could wait for the
 * fence itself, and nothing would ever move again.
 *
 * A thread marks that path with gpuvm_signalling_begin() and
 * gpuvm_signalling_end(). Inside it, debug builds (GPUVM_DEBUG) abort at the
 * entry of every library call that may block on a reservation, allocate or
 * free a buffer object, with a message naming the call and the rule:
 *
 *   libgpuvm: gpuvm_bo_put() called in a fence-signalling section: it may
 *   free a buffer object
 *
 * Refused there: gpuvm_bo_create(), the gpuvm_bo_obtain*() calls,
 * gpuvm_bo_put() and gpuva_unlink() (which puts; like the kernel's, on every
 * put, not only the last), gpuvm_gem_put(), gpuvm_put(),
 * gpuvm_bo_deferred_cleanup(), gpuvm_validate(), gpuvm_resv_lock(),
 * gpuvm_exec_lock*(), gpuvm_sm_map_exec_lock(), gpuvm_exec_unlock() when it
 * holds objects (it drops their references), gpuvm_exec_fini(), every
 * *_ops_create(), gpuvm_index_reserve(), and any allocation the library would
 * make (e.g. gpuva_insert() without reserved index nodes).
 *
 * Allowed there: gpuva_unlink_defer(), gpuvm_bo_put_deferred(),
 * gpuvm_bo_get(), gpuvm_bo_find(), gpuva_link(),
 * gpuvm_gem_gpuva_lock()/unlock(), gpuvm_resv_trylock()/unlock() (trying
 * never waits), gpuvm_bo_extobj_add(), gpuvm_bo_evict(), gpuvm_bo_gem_evict(),
 * gpuva_remove(), gpuva_unmap(), and gpuva_map()/gpuva_remap() when the
 * index nodes they need were reserved (an op list, or gpuvm_index_reserve()).
 * gpuva_insert() never takes reserved nodes: it passes only when the node
 * cache holds what it needs beyond the reserved ones.
 *
 * Release builds keep the marking (it is cheap) but do not check.
 */
#ifndef GPUVM_SIGNAL_H
#define GPUVM_SIGNAL_H

#include <gpuvm/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * gpuvm_signalling_begin() - enter a fence-signalling section.
 *
 * Sections nest; the calling thread is inside until the outermost one ends.
 *
 * Returns: a cookie for gpuvm_signalling_end(): true when the thread was
 * inside a section already.
 *
 * Context: Any context.
 */
GPUVM_EXPORT bool gpuvm_signalling_begin(void);

/**
 * gpuvm_signalling_end() - leave a fence-signalling section.
 * @cookie: what the matching gpuvm_signalling_begin() returned.
 *
 * Debug builds abort on an end without a begin, or with a cookie that does
 * not match the nesting depth (sections ended out of order).
 *
 * Context: Any context; the calling thread is inside a section.
 */
GPUVM_EXPORT void gpuvm_signalling_end(bool cookie);

/**
 * gpuvm_in_signalling() - whether the calling thread is inside a
 * fence-signalling section.
 *
 * Returns: true inside a section.
 *
 * Context: Any context.
 */
GPUVM_EXPORT bool gpuvm_in_signalling(void);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_SIGNAL_H */
