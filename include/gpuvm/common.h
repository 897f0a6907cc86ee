/* SPDX-License-Identifier: MIT */
/*
 * libgpuvm: common definitions shared by every public header.
 *
 * The export macro, typed container accessors, sized options structs, the
 * per-VM allocator hooks, the intrusive list used by embeddable objects, and
 * the names of the error codes the library returns.
 */
#ifndef GPUVM_COMMON_H
#define GPUVM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GPUVM_BUILDING_LIBRARY) && defined(__GNUC__)
#define GPUVM_EXPORT __attribute__((visibility("default")))
#else
#define GPUVM_EXPORT
#endif

#define GPUVM_VERSION_MAJOR 0
#define GPUVM_VERSION_MINOR 1
#define GPUVM_VERSION_PATCH 0

/**
 * GPUVM_CONTAINER() - generate a typed accessor from an embedded member to
 * the struct that embeds it.
 * @inner: type of the embedded member (e.g. struct gpuva)
 * @outer: type of the embedding struct (e.g. struct my_mapping)
 * @member: name of the member inside @outer
 * @fn: name of the generated function
 *
 * Expands to `static inline outer *fn(const inner *p)`. NULL maps to NULL, so
 * the accessor can be applied to the result of a lookup directly.
 */
#ifdef __cplusplus
#define GPUVM_CONTAINER(inner, outer, member, fn)                              \
	static inline outer *fn(const inner *p)                                \
	{                                                                      \
		return p ? reinterpret_cast<outer *>(                          \
				   const_cast<char *>(                         \
					   reinterpret_cast<const char *>(p)) - \
				   offsetof(outer, member))                    \
			 : nullptr;                                            \
	}
#else
#define GPUVM_CONTAINER(inner, outer, member, fn)                              \
	static inline outer *fn(const inner *p)                                \
	{                                                                      \
		return p ? (outer *)(void *)((char *)(uintptr_t)p -            \
					     offsetof(outer, member))          \
			 : NULL;                                               \
	}
#endif

/**
 * GPUVM_OPTS() - declare and zero a sized options struct.
 * @type: the struct's tag without `struct` (e.g. gpuvm_init_opts)
 * @name: the variable to declare
 *
 * Every options struct starts with `size_t sz`. The library reads only the
 * fields it knows of and refuses (-EINVAL) a struct whose unknown tail is not
 * all zero, so a program built against a newer header fails cleanly on an
 * older library instead of having its new fields ignored.
 *
 *	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "vm", .range = 1ull << 47);
 */
#define GPUVM_OPTS(type, name, ...)                                            \
	struct type name = { .sz = sizeof(struct type), __VA_ARGS__ }

/**
 * struct gpuvm_allocator - allocation hooks of one VM.
 * @alloc: return @size bytes aligned to @align (a power of two, at most
 *	4096), or NULL. Called only outside the fence-signalling section.
 * @free: release memory from @alloc; @size is the size that was asked for.
 * @user_data: passed back to both hooks.
 *
 * Every allocation the library makes on behalf of a VM (index nodes, op
 * lists, default vm_bo and op objects) goes through these hooks. A NULL
 * allocator at init means malloc/aligned_alloc/free.
 */
struct gpuvm_allocator {
	void *(*alloc)(void *user_data, size_t size, size_t align);
	void (*free)(void *user_data, void *ptr, size_t size);
	void *user_data;
};

/**
 * struct gpuvm_list - intrusive doubly linked list node or head.
 *
 * Used for the lists a driver may walk (a vm_bo's mappings, a gem's vm_bos,
 * an op list). A head is empty when it points to itself; a node that is on
 * no list has NULL pointers.
 */
struct gpuvm_list {
	struct gpuvm_list *next, *prev;
};

#define GPUVM_LIST_HEAD_INIT(h) { &(h), &(h) }

static inline void gpuvm_list_init(struct gpuvm_list *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool gpuvm_list_empty(const struct gpuvm_list *h)
{
	return h->next == h;
}

static inline void gpuvm_list_add_tail(struct gpuvm_list *n,
				       struct gpuvm_list *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void gpuvm_list_del(struct gpuvm_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = NULL;
	n->prev = NULL;
}

static inline bool gpuvm_list_linked(const struct gpuvm_list *n)
{
	return n->next != NULL;
}

#define gpuvm__list_entry(ptr, type, member)                                   \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * Iterate over a list of @type objects linked through @member. The _safe
 * form allows the current element to be removed from the list.
 */
#define gpuvm_list_for_each_entry(pos, head, type, member)                     \
	for ((pos) = gpuvm__list_entry((head)->next, type, member);            \
	     &(pos)->member != (head);                                         \
	     (pos) = gpuvm__list_entry((pos)->member.next, type, member))

#define gpuvm_list_for_each_entry_safe(pos, n, head, type, member)             \
	for ((pos) = gpuvm__list_entry((head)->next, type, member),            \
	    (n) = gpuvm__list_entry((pos)->member.next, type, member);         \
	     &(pos)->member != (head);                                         \
	     (pos) = (n), (n) = gpuvm__list_entry((n)->member.next, type, member))

/**
 * gpuvm_err_name() - the symbolic name of an error code.
 * @err: a negative errno as returned by the library (positive is accepted)
 *
 * Returns: "EINVAL", "EEXIST", ... for the codes the library uses, "OK" for
 * 0, "EUNKNOWN" otherwise. Never NULL; the string is static.
 *
 * Context: Any context, including the fence-signalling section.
 */
GPUVM_EXPORT const char *gpuvm_err_name(int err);

/**
 * gpuvm_strerror() - a one-line English description of an error code.
 * @err: a negative errno as returned by the library (positive is accepted)
 *
 * Returns: a static string, never NULL. Unlike strerror(3) it does not depend
 * on the locale and is thread-safe.
 *
 * Context: Any context, including the fence-signalling section.
 */
GPUVM_EXPORT const char *gpuvm_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_COMMON_H */
