/* SPDX-License-Identifier: MIT */
/* Private helpers shared by the library's source files. */
#ifndef GPUVM_LIB_INTERNAL_H
#define GPUVM_LIB_INTERNAL_H

#include <gpuvm.h>
#include <errno.h>
#include <pthread.h>

#ifndef EUCLEAN
#define EUCLEAN 117
#endif

#define GPUVM__UNUSED __attribute__((unused))
#define gpuvm__likely(x) __builtin_expect(!!(x), 1)
#define gpuvm__unlikely(x) __builtin_expect(!!(x), 0)

/* Allocation through a VM's hooks (a NULL alloc member means libc). */
void *gpuvm__alloc(const struct gpuvm_allocator *a, size_t size, size_t align);
void *gpuvm__zalloc(const struct gpuvm_allocator *a, size_t size, size_t align);
void gpuvm__free(const struct gpuvm_allocator *a, void *ptr, size_t size);

/*
 * Sized options: true when @opts is at least @known bytes long as declared
 * by its leading size_t, and every byte past @known up to that size is zero.
 */
bool gpuvm__opts_valid(const void *opts, size_t known);

/* gpuva::state_ bits */
#define GPUVA__STATE_INSERTED 1u

/* Insert with validity and overlap checks; @use_reserve lets the index use reserved nodes. */
int gpuvm__va_insert(struct gpuvm *vm, struct gpuva *va, bool use_reserve);

/* Free cached index nodes when far more are cached than reserved (list mode calls it). */
void gpuvm__index_maybe_trim(struct gpuvm *vm);

/* ---- the fence-signalling section (lib/signal.c) ---- */

/*
 * GPUVM__MAY_BLOCK(call, rule): at the entry of a call that may allocate,
 * block on a reservation or free a buffer object. Debug builds abort when the
 * calling thread is inside a fence-signalling section, printing
 *   libgpuvm: <call>() called in a fence-signalling section: <rule>
 * e.g. GPUVM__MAY_BLOCK("gpuvm_bo_put", "it may free a buffer object").
 */
#ifdef GPUVM_DEBUG
__attribute__((noreturn, cold)) void gpuvm__signalling_violation(const char *call,
								 const char *rule);
#define GPUVM__MAY_BLOCK(call, rule)                                           \
	do {                                                                   \
		if (gpuvm__unlikely(gpuvm_in_signalling()))                    \
			gpuvm__signalling_violation((call), (rule));           \
	} while (0)
#else
#define GPUVM__MAY_BLOCK(call, rule) ((void)0)
#endif

/*
 * A call that exists only in immediate mode (or only outside it) was made on
 * a VM of the other kind: returns -EOPNOTSUPP; debug builds assert instead:
 * they print one line naming the call and abort (where the kernel WARNs).
 */
int gpuvm__wrong_mode(const struct gpuvm *vm, const char *call);

/* ---- owner-tracked locks (lib/resv.c) ---- */

/* The calling thread holds the lock whose tracking words these are. */
bool gpuvm__owner_held(const pthread_t *owner, const unsigned int *held);
/* Record the calling thread as the holder (after taking the lock). */
void gpuvm__owner_set(pthread_t *owner, unsigned int *held);
/* Forget the holder (before releasing the lock). */
void gpuvm__owner_clear(unsigned int *held);

/* Try the gem's gpuva lock without blocking: 0, -EBUSY, or -EDEADLK (held by this thread). */
int gpuvm__gem_gpuva_trylock(struct gpuvm_gem *obj);

/* ---- vm_bo lifetime (lib/bo.c) ---- */

/* Take a reference unless the count is 0 (a zombie, or one being freed). */
bool gpuvm__bo_get_unless_zero(struct gpuvm_bo *vm_bo);

/*
 * Drop a reference under the gem's gpuva lock, held by the caller (immediate
 * mode). When it was the last, the vm_bo is made a zombie (off the gem's
 * list, and off extobj/evict without RESV_PROTECTED) and true is returned:
 * the caller then releases the gpuva lock and only then calls
 * gpuvm__defer_push() (see gpuvm_bo_put_deferred() for why).
 */
bool gpuvm__bo_put_locked_deferred(struct gpuvm_bo *vm_bo);

/*
 * Drop a reference taken by a walk of the extobj or evict list: in
 * immediate mode with the deferred rule (never frees, any context), else
 * gpuvm_bo_put() (a last put then needs the gem's list lock, which the
 * walker's caller holds through the object's reservation).
 */
void gpuvm__bo_put_walk(struct gpuvm_bo *vm_bo);

enum gpuvm__bo_list {
	GPUVM__LIST_EXTOBJ,
	GPUVM__LIST_EVICT,
};

/*
 * Add @vm_bo to (or remove it from) one of its VM's lists if it is not
 * there (is there), taking the list's internal mutex without
 * RESV_PROTECTED; with it the caller holds the VM's reservation. Never
 * call with the list's mutex held. gpuvm_exec uses the add with
 * GPUVM__LIST_EVICT for flagged external objects of a RESV_PROTECTED VM
 * once it holds the VM's reservation and the object's.
 */
void gpuvm__bo_list_add(struct gpuvm_bo *vm_bo, enum gpuvm__bo_list which);
void gpuvm__bo_list_del(struct gpuvm_bo *vm_bo, enum gpuvm__bo_list which);

/*
 * A walk of a VM's extobj or evict list that lets the list change while the
 * walker works on an entry (the kernel's for_each_vm_bo_in_list):
 *
 *	struct gpuvm__bo_walk w;
 *	struct gpuvm_bo *vm_bo;
 *
 *	ret = gpuvm__bo_walk_begin(&w, vm, GPUVM__LIST_EXTOBJ);
 *	if (ret)
 *		return ret;
 *	while ((vm_bo = gpuvm__bo_walk_next(&w))) {
 *		... vm_bo holds a reference; no list mutex is held ...
 *		if (error)
 *			break;
 *	}
 *	gpuvm__bo_walk_end(&w);
 *
 * Each live entry is visited once, zombies are skipped (and, without
 * RESV_PROTECTED, taken off the list). Visited entries are parked on the
 * walk's private list and put back, in order, by gpuvm__bo_walk_end(); an
 * entry removed meanwhile (evict(false), a last put) just leaves the private
 * list. One walk per list at a time: begin waits for a running walk of the
 * same list (without RESV_PROTECTED; with it, the VM's reservation already
 * serializes walkers). Never block on a reservation inside a walk (a thread
 * holding that reservation may be waiting to walk). gpuvm_exec reads the
 * extobj list its own way, under the list mutexes, and only tries there.
 * The reference of the previous entry is dropped by _next/_end with
 * gpuvm__bo_put_walk(), outside any list mutex.
 *
 * begin returns 0, or -EPERM (RESV_PROTECTED and the calling thread does not
 * hold the VM's reservation).
 */
struct gpuvm__bo_walk {
	struct gpuvm *vm;
	enum gpuvm__bo_list which;
	bool locked;            /* internal mutexes in use (not RESV_PROTECTED) */
	struct gpuvm_bo *cur;   /* the entry handed out last, with a reference */
	struct gpuvm_list local; /* visited entries */
};

int gpuvm__bo_walk_begin(struct gpuvm__bo_walk *w, struct gpuvm *vm,
			 enum gpuvm__bo_list which);
struct gpuvm_bo *gpuvm__bo_walk_next(struct gpuvm__bo_walk *w);
void gpuvm__bo_walk_end(struct gpuvm__bo_walk *w);

/* ---- the deferred stack (lib/defer.c, the only user of liburcu) ---- */

void gpuvm__defer_init(struct gpuvm *vm);
/* Push a zombie; called after the gem's gpuva lock was released. */
void gpuvm__defer_push(struct gpuvm *vm, struct gpuvm_bo *vm_bo);
/*
 * Take every queued zombie off the stack at once: a chain linked through
 * list.entry.bo_defer.next_ (read it with gpuvm__defer_next()), newest first,
 * or NULL. Safe against concurrent pushes and pop_alls.
 */
struct gpuvm_bo *gpuvm__defer_pop_all(struct gpuvm *vm);
struct gpuvm_bo *gpuvm__defer_next(const struct gpuvm_bo *vm_bo);
bool gpuvm__defer_empty(const struct gpuvm *vm);

/* Debug builds check the whole VM after each mutation (GPUVM_DEBUG). */
#ifdef GPUVM_DEBUG
void gpuvm__debug_verify(const struct gpuvm *vm, const char *where);
#define GPUVM__VERIFY(vm) gpuvm__debug_verify((vm), __func__)
#else
#define GPUVM__VERIFY(vm) ((void)0)
#endif

#endif /* GPUVM_LIB_INTERNAL_H */
