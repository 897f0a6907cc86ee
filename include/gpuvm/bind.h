/* SPDX-License-Identifier: MIT */
/*
 * VM_BIND on a DRM render node: one driver-neutral description of binds,
 * a shadow of the kernel's VA state, and the drivers' ioctl payloads.
 *
 * Two users, one model:
 * - a user-mode driver describes binds once (struct gpuvm_bind_op), batches
 *   them with their sync objects (struct gpuvm_bind_batch), asks the shadow
 *   VM what a batch will do (gpuvm_bind_check(), gpuvm_bind_preview()),
 *   submits it (gpuvm_bind_submit(): coalesced, encoded for its driver, one
 *   ioctl per batch through a pluggable ioctl function) and asks afterwards
 *   what is mapped (gpuvm_bind_lookup(), gpuvm_bind_residency());
 * - an emulator or VMM receives a driver's VM_BIND payload, decodes it
 *   safely (gpuvm_bind_decode(): every count, stride and pointer checked)
 *   and applies it with the kernel's semantics, all of it or none
 *   (gpuvm_bind_apply()).
 *
 * Objects:
 * - struct gpuvm_bind_dev: one open render node's buffer objects, by GEM
 *   handle (what a DRM file holds). Thread-safe.
 * - struct gpuvm_bind_vm: one VM of that device: a struct gpuvm whose
 *   mappings are the binds applied so far. Not thread-safe: one thread at a
 *   time per VM (the kernel serializes a VM's binds too).
 * - struct gpuvm_bind_batch: an array of ops plus in/out syncs; no device
 *   or VM needed, so a decoder can fill one.
 *
 * Semantics of applying a batch: its ops run one after the other, each as
 * the GPUVM request of its type (map: gpuvm_sm_map, unmap: gpuvm_sm_unmap,
 * unmap-bo: gpuvm_bo_unmap, prefetch: gpuvm_prefetch; splits keep the
 * original mapping's flags), so a later op sees the earlier ones. A batch is
 * checked first (static checks of every op, then a dry run), and applied
 * whole or not at all: on any error nothing changes.
 *
 * Sparse bindings differ by driver (gpuvm_bind_driver_info()'s caps):
 * - xe and msm put a NULL mapping in the VA space (GPUVM_BIND_OP_MAP_SPARSE
 *   is an ordinary mapping without an object: a later map splits it);
 * - nouveau keeps sparse regions beside the mappings
 *   (GPUVM_BIND_CAP_SPARSE_REGIONS): MAP_SPARSE creates a region (it may not
 *   overlap another region), maps and unmaps inside it leave it alone,
 *   UNMAP_SPARSE removes exactly one region and unmaps what lies inside it.
 * gpuvm_bind_residency() counts both as "sparse" where nothing is mapped.
 *
 * Errors: negative errno; an object comes back through an out-parameter.
 */
#ifndef GPUVM_BIND_H
#define GPUVM_BIND_H

#include <gpuvm/common.h>
#include <gpuvm/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- drivers ---------------------------------------------------------- */

/**
 * enum gpuvm_bind_driver - the kernel drivers whose VM_BIND is spoken.
 */
enum gpuvm_bind_driver {
	GPUVM_BIND_XE = 1,
	GPUVM_BIND_NOUVEAU = 2,
	GPUVM_BIND_PANTHOR = 3,
	GPUVM_BIND_MSM = 4,
};

/**
 * enum gpuvm_bind_op_type - what one bind op does.
 * @GPUVM_BIND_OP_MAP: map @handle's [offset, offset+range) at
 *	[addr, addr+range).
 * @GPUVM_BIND_OP_MAP_SPARSE: make [addr, addr+range) read as zero (a NULL
 *	mapping, or a sparse region on nouveau); @handle and @offset are 0.
 * @GPUVM_BIND_OP_UNMAP: unmap [addr, addr+range) (split semantics).
 * @GPUVM_BIND_OP_UNMAP_BO: unmap every mapping of @handle in the VM (xe's
 *	UNMAP_ALL); addr, range and offset are 0.
 * @GPUVM_BIND_OP_PREFETCH: prefetch the mappings [addr, addr+range)
 *	overlaps; changes no mapping.
 * @GPUVM_BIND_OP_UNMAP_SPARSE: remove the sparse region [addr, addr+range)
 *	(drivers with GPUVM_BIND_CAP_SPARSE_REGIONS only).
 */
enum gpuvm_bind_op_type {
	GPUVM_BIND_OP_MAP = 1,
	GPUVM_BIND_OP_MAP_SPARSE = 2,
	GPUVM_BIND_OP_UNMAP = 3,
	GPUVM_BIND_OP_UNMAP_BO = 4,
	GPUVM_BIND_OP_PREFETCH = 5,
	GPUVM_BIND_OP_UNMAP_SPARSE = 6,
};

/**
 * enum gpuvm_bind_op_flags - attributes of a map.
 * @GPUVM_BIND_READ_ONLY: the GPU may not write (xe, panthor).
 * @GPUVM_BIND_NOEXEC: the GPU may not execute from it (panthor).
 * @GPUVM_BIND_UNCACHED: uncached mapping (panthor).
 * @GPUVM_BIND_DUMPABLE: include in GPU crash dumps (xe, msm).
 * @GPUVM_BIND_IMMEDIATE: bind now, not on first fault (xe).
 *
 * Only MAP and MAP_SPARSE take flags (PREFETCH and UNMAP none); a driver
 * refuses flags it cannot express (see gpuvm_bind_driver_info()).
 */
enum gpuvm_bind_op_flags {
	GPUVM_BIND_READ_ONLY = 1u << 0,
	GPUVM_BIND_NOEXEC = 1u << 1,
	GPUVM_BIND_UNCACHED = 1u << 2,
	GPUVM_BIND_DUMPABLE = 1u << 3,
	GPUVM_BIND_IMMEDIATE = 1u << 4,
};

/**
 * enum gpuvm_bind_caps - how a driver's VM_BIND behaves.
 * @GPUVM_BIND_CAP_SPARSE_REGIONS: MAP_SPARSE makes a region beside the
 *	mappings (nouveau), not a NULL mapping.
 * @GPUVM_BIND_CAP_SYNC_ONLY: a batch without ops but with syncs is one
 *	ioctl (xe: num_binds 0; nouveau: op_count 0 with RUN_ASYNC; panthor:
 *	a SYNC_ONLY op; msm: nr_ops 0). All four drivers have it.
 * @GPUVM_BIND_CAP_TIMELINE: timeline syncobjs are accepted (all four).
 */
enum gpuvm_bind_caps {
	GPUVM_BIND_CAP_SPARSE_REGIONS = 1u << 0,
	GPUVM_BIND_CAP_SYNC_ONLY = 1u << 1,
	GPUVM_BIND_CAP_TIMELINE = 1u << 2,
};

/**
 * struct gpuvm_bind_driver_info - what a driver's VM_BIND takes.
 * @sz: sizeof(struct gpuvm_bind_driver_info), set by the caller.
 * @name: "xe", "nouveau", "panthor", "msm" (the DRM version name).
 * @op_types: bit (1u << type) for each &enum gpuvm_bind_op_type it takes.
 * @op_flags: the &enum gpuvm_bind_op_flags it can express.
 * @caps: &enum gpuvm_bind_caps.
 * @page_size: the alignment of addr, range and offset (4096 for all four).
 * @bind_request: the VM_BIND ioctl request number.
 */
struct gpuvm_bind_driver_info {
	size_t sz;
	const char *name;
	uint32_t op_types;
	uint32_t op_flags;
	uint32_t caps;
	uint64_t page_size;
	unsigned long bind_request;
};

/**
 * gpuvm_bind_driver_info() - describe a driver.
 * @driver: &enum gpuvm_bind_driver.
 * @info: filled; @info->sz must be set (a newer, larger struct gets its
 *	unknown tail zeroed).
 *
 * Returns: 0, or -EINVAL for an unknown driver, a NULL @info or a @sz
 * smaller than the first version of the struct.
 */
GPUVM_EXPORT int gpuvm_bind_driver_info(uint32_t driver,
					struct gpuvm_bind_driver_info *info);

/**
 * gpuvm_bind_driver_from_name() - the driver whose DRM version name is
 * @name ("xe", "nouveau", "panthor", "msm").
 *
 * Returns: the &enum gpuvm_bind_driver, or -ENOENT (-EINVAL for NULL).
 */
GPUVM_EXPORT int gpuvm_bind_driver_from_name(const char *name);

/* ---- ops, syncs and batches -------------------------------------------- */

/**
 * struct gpuvm_bind_op - one driver-neutral bind.
 * @type: &enum gpuvm_bind_op_type.
 * @flags: &enum gpuvm_bind_op_flags.
 * @handle: GEM handle: MAP and UNMAP_BO; 0 otherwise.
 * @driver_arg: xe: the PAT index of a MAP, or the memory region instance
 *	of a PREFETCH; nouveau: the PTE kind of a MAP (0-255); 0 for every
 *	other driver and op.
 * @addr: GPU virtual address.
 * @range: size in bytes; 0 only for UNMAP_BO.
 * @offset: offset in the object for MAP; 0 otherwise.
 */
struct gpuvm_bind_op {
	uint32_t type;
	uint32_t flags;
	uint32_t handle;
	uint32_t driver_arg;
	uint64_t addr;
	uint64_t range;
	uint64_t offset;
};

/**
 * enum gpuvm_bind_sync_flags - flags of a sync.
 * @GPUVM_BIND_SYNC_SIGNAL: signalled when the batch is done; clear: the
 *	batch waits for it.
 * @GPUVM_BIND_SYNC_TIMELINE: a timeline syncobj at @point (nonzero).
 */
enum gpuvm_bind_sync_flags {
	GPUVM_BIND_SYNC_SIGNAL = 1u << 0,
	GPUVM_BIND_SYNC_TIMELINE = 1u << 1,
};

/**
 * struct gpuvm_bind_sync - one syncobj a batch waits on or signals.
 * @handle: the syncobj's handle (nonzero).
 * @flags: &enum gpuvm_bind_sync_flags.
 * @point: timeline point; 0 for a binary syncobj.
 */
struct gpuvm_bind_sync {
	uint32_t handle;
	uint32_t flags;
	uint64_t point;
};

/**
 * enum gpuvm_bind_batch_flags - flags of a batch.
 * @GPUVM_BIND_BATCH_ASYNC: the bind runs asynchronously (nouveau's
 *	RUN_ASYNC, panthor's ASYNC); needed there for syncs. xe and msm binds
 *	are always queued and ignore it.
 */
enum gpuvm_bind_batch_flags {
	GPUVM_BIND_BATCH_ASYNC = 1u << 0,
};

struct gpuvm_bind_batch;

/**
 * struct gpuvm_bind_batch_opts - arguments of gpuvm_bind_batch_create().
 * @sz: sizeof(struct gpuvm_bind_batch_opts) (GPUVM_OPTS()).
 * @queue_id: the bind queue: xe exec_queue_id (0: the VM's default bind
 *	queue); msm queue_id, which must name a VM_BIND submit queue (0, the
 *	file's default queue, is refused); must be 0 for nouveau and panthor.
 * @flags: &enum gpuvm_bind_batch_flags.
 * @alloc: allocator hooks for the batch's arrays, or NULL for malloc.
 */
struct gpuvm_bind_batch_opts {
	size_t sz;
	uint32_t queue_id;
	uint32_t flags;
	const struct gpuvm_allocator *alloc;
};

/**
 * gpuvm_bind_batch_create() - an empty batch.
 * @opts: may be NULL (queue 0, no flags, malloc).
 * @out: the batch.
 *
 * Returns: 0, -EINVAL (NULL @out, bad @opts, unknown flags), -ENOMEM.
 */
GPUVM_EXPORT int gpuvm_bind_batch_create(const struct gpuvm_bind_batch_opts *opts,
					 struct gpuvm_bind_batch **out);

/** gpuvm_bind_batch_destroy() - free a batch (NULL is a no-op). */
GPUVM_EXPORT void gpuvm_bind_batch_destroy(struct gpuvm_bind_batch *batch);

/** gpuvm_bind_batch_reset() - drop every op and sync, keep the storage. */
GPUVM_EXPORT void gpuvm_bind_batch_reset(struct gpuvm_bind_batch *batch);

/**
 * gpuvm_bind_batch_add() - append a copy of @op.
 *
 * Only the op's own shape is checked here (known type and flags; the
 * fields that must be zero for its type; range nonzero except UNMAP_BO;
 * addr + range and offset + range fit in 64 bits). Everything that depends
 * on a VM is gpuvm_bind_check()'s.
 *
 * Returns: 0, -EINVAL (the batch unchanged), -ENOMEM.
 */
GPUVM_EXPORT int gpuvm_bind_batch_add(struct gpuvm_bind_batch *batch,
				      const struct gpuvm_bind_op *op);

/**
 * gpuvm_bind_batch_add_sync() - append a copy of @sync.
 *
 * Returns: 0, -EINVAL (handle 0, unknown flags, a timeline point of 0 or a
 * binary syncobj with a point), -ENOMEM.
 */
GPUVM_EXPORT int gpuvm_bind_batch_add_sync(struct gpuvm_bind_batch *batch,
					   const struct gpuvm_bind_sync *sync);

/** gpuvm_bind_batch_ops() - the ops, in order; *@n gets their count. */
GPUVM_EXPORT const struct gpuvm_bind_op *
gpuvm_bind_batch_ops(const struct gpuvm_bind_batch *batch, size_t *n);

/** gpuvm_bind_batch_syncs() - the syncs, in order; *@n gets their count. */
GPUVM_EXPORT const struct gpuvm_bind_sync *
gpuvm_bind_batch_syncs(const struct gpuvm_bind_batch *batch, size_t *n);

/** gpuvm_bind_batch_queue() - the batch's queue id. */
GPUVM_EXPORT uint32_t gpuvm_bind_batch_queue(const struct gpuvm_bind_batch *batch);

/** gpuvm_bind_batch_flags() - the batch's &enum gpuvm_bind_batch_flags. */
GPUVM_EXPORT uint32_t gpuvm_bind_batch_flags(const struct gpuvm_bind_batch *batch);

/**
 * gpuvm_bind_batch_coalesce() - merge adjacent ops the driver takes as one.
 *
 * Two consecutive ops merge when applying the merged op gives the same VA
 * state as applying both: MAP + MAP of the same handle, flags and
 * driver_arg, where the second starts at the first's end in both the VA and
 * the object; MAP_SPARSE + MAP_SPARSE, UNMAP + UNMAP, PREFETCH + PREFETCH
 * (same driver_arg) that touch end to start. Only consecutive ops merge
 * (reordering could change the result), never UNMAP_BO or UNMAP_SPARSE
 * (regions are distinct objects), and nothing whose merged range would
 * overflow. A batch knows no driver and no VM, so this merges MAP_SPARSE
 * ops and maps regardless of regions. gpuvm_bind_submit() coalesces with
 * the VM in view: on drivers with GPUVM_BIND_CAP_SPARSE_REGIONS it never
 * merges MAP_SPARSE (two touching regions are two), merges maps only
 * within one region or one gap between regions (the kernel refuses a map
 * across a region's edge), and no maps at all in a batch that adds or
 * removes regions; prefer it to this function on such drivers.
 *
 * Returns: the number of ops removed (>= 0), or -EINVAL for a NULL batch.
 */
GPUVM_EXPORT int gpuvm_bind_batch_coalesce(struct gpuvm_bind_batch *batch);

/* ---- device and VM ------------------------------------------------------ */

struct gpuvm_bind_dev;
struct gpuvm_bind_vm;

/**
 * struct gpuvm_bind_dev_opts - arguments of gpuvm_bind_dev_create().
 * @sz: sizeof(struct gpuvm_bind_dev_opts) (GPUVM_OPTS()).
 * @driver: &enum gpuvm_bind_driver.
 * @alloc: allocator hooks for the device and, unless their own opts say
 *	otherwise, its VMs; NULL for malloc.
 */
struct gpuvm_bind_dev_opts {
	size_t sz;
	uint32_t driver;
	const struct gpuvm_allocator *alloc;
};

/**
 * gpuvm_bind_dev_create() - a device: the buffer objects of one DRM file.
 *
 * Returns: 0, -EINVAL (NULL @opts or @out, bad @opts, unknown driver),
 * -ENOMEM, or a pthread error.
 */
GPUVM_EXPORT int gpuvm_bind_dev_create(const struct gpuvm_bind_dev_opts *opts,
				       struct gpuvm_bind_dev **out);

/**
 * gpuvm_bind_dev_destroy() - free a device.
 *
 * Returns: 0, -EBUSY when VMs of it still exist (nothing freed), -EINVAL
 * for NULL.
 */
GPUVM_EXPORT int gpuvm_bind_dev_destroy(struct gpuvm_bind_dev *dev);

/** gpuvm_bind_dev_driver() - the device's &enum gpuvm_bind_driver. */
GPUVM_EXPORT uint32_t gpuvm_bind_dev_driver(const struct gpuvm_bind_dev *dev);

/**
 * gpuvm_bind_bo_add() - a GEM handle now names a buffer object of @size
 * bytes (after GEM create, or a prime import).
 * @seqno: if not NULL, the object's number: 1 for the device's first
 *	object, then 2, 3, ... (never reused; what gpuvm_bind_mapping.bo
 *	reports, stable when handles are reused).
 *
 * Returns: 0, -EINVAL (handle 0, size 0 or not a multiple of the page
 * size), -EEXIST (the handle names an object already), -ENOMEM.
 */
GPUVM_EXPORT int gpuvm_bind_bo_add(struct gpuvm_bind_dev *dev, uint32_t handle,
				   uint64_t size, uint64_t *seqno);

/**
 * gpuvm_bind_bo_remove() - the handle is closed (GEM close). Mappings of
 * the object keep it alive, as in the kernel; the handle may be reused.
 *
 * Returns: 0, -ENOENT.
 */
GPUVM_EXPORT int gpuvm_bind_bo_remove(struct gpuvm_bind_dev *dev, uint32_t handle);

/**
 * struct gpuvm_bind_vm_opts - arguments of gpuvm_bind_vm_create().
 * @sz: sizeof(struct gpuvm_bind_vm_opts) (GPUVM_OPTS()).
 * @vm_id: the kernel's id of the VM (xe, panthor), put in every encoded
 *	payload; 0 for nouveau (the VM is the file's) and msm (its VM_BIND
 *	names no VM: the queue's VM is used).
 * @start: first address of the VA space.
 * @range: size of the VA space (nonzero).
 * @reserve_addr: start of the kernel-managed region no bind may touch
 *	(nouveau's VM_INIT kernel_managed_addr, panthor's kernel VA range).
 * @reserve_range: its size, 0 for none.
 * @alloc: allocator hooks, or NULL for the device's.
 */
struct gpuvm_bind_vm_opts {
	size_t sz;
	uint32_t vm_id;
	uint64_t start;
	uint64_t range;
	uint64_t reserve_addr;
	uint64_t reserve_range;
	const struct gpuvm_allocator *alloc;
};

/**
 * gpuvm_bind_vm_create() - a VM of @dev with nothing mapped.
 *
 * Returns: 0, -EINVAL (NULL args, bad @opts, range 0, a space or reserved
 * region that overflows or is not page aligned), -ENOMEM.
 */
GPUVM_EXPORT int gpuvm_bind_vm_create(struct gpuvm_bind_dev *dev,
				      const struct gpuvm_bind_vm_opts *opts,
				      struct gpuvm_bind_vm **out);

/**
 * gpuvm_bind_vm_destroy() - unmap everything (as the kernel does when a VM
 * goes) and free the VM. NULL is a no-op.
 */
GPUVM_EXPORT void gpuvm_bind_vm_destroy(struct gpuvm_bind_vm *vm);

/** gpuvm_bind_vm_gpuvm() - the VM's struct gpuvm, for read-only walks. */
GPUVM_EXPORT struct gpuvm *gpuvm_bind_vm_gpuvm(struct gpuvm_bind_vm *vm);

/** gpuvm_bind_vm_id() - the @vm_id given at creation. */
GPUVM_EXPORT uint32_t gpuvm_bind_vm_id(const struct gpuvm_bind_vm *vm);

/* ---- before: check and preview ----------------------------------------- */

/**
 * gpuvm_bind_check() - would the driver take @batch on @vm?
 *
 * Refuses what the kernel refuses, before any ioctl: an op type or flag the
 * driver does not have; addr, range or offset not page aligned; a range
 * outside the VA space or touching the reserved region; an unknown handle;
 * offset + range beyond the object; on region drivers (nouveau) a
 * MAP_SPARSE over another sparse region or a map that is neither outside
 * every region nor inside one (-ENOSPC, the kernel's errno) and an
 * UNMAP_SPARSE that names no region exactly (-ENOENT); a driver_arg the driver has no use for
 * (xe: any; nouveau: a MAP's PTE kind up to 255); a queue id on nouveau or
 * panthor, none on msm; syncs the driver cannot take (a timeline without
 * GPUVM_BIND_CAP_TIMELINE, syncs on nouveau or panthor without
 * GPUVM_BIND_BATCH_ASYNC). Then runs the batch on the shadow and undoes it.
 *
 * Returns: 0, -EINVAL, -ENOENT (unknown handle, no such region),
 * -ENOSPC (region rules), -EOPNOTSUPP (op type, flag or sync the driver
 * lacks), -ENOMEM; @vm unchanged in every case.
 */
GPUVM_EXPORT int gpuvm_bind_check(struct gpuvm_bind_vm *vm,
				  const struct gpuvm_bind_batch *batch);

/**
 * struct gpuvm_bind_bo_delta - one object a batch changes.
 * @bo: the object's seqno (gpuvm_bind_bo_add()).
 * @handle: its handle, 0 if closed.
 * @mappings_before: its mappings in the VM before the batch.
 * @mappings_after: after it. 0 -> n: the batch takes a reference (a new
 *	vm_bo); n -> 0: it releases the VM's reference.
 */
struct gpuvm_bind_bo_delta {
	uint64_t bo;
	uint32_t handle;
	uint32_t pad_;
	uint64_t mappings_before;
	uint64_t mappings_after;
};

/**
 * gpuvm_bind_preview() - which objects @batch would change, without
 * changing anything.
 * @deltas: filled with up to @cap entries, by ascending @bo, only objects
 *	whose mapping count changes or that the batch maps/unmaps.
 * @n: the number of entries the batch produces (even when above @cap).
 *
 * Returns: 0, -ENOSPC with *@n > @cap (the first @cap are filled), or
 * gpuvm_bind_check()'s errors with *@n = 0 (its -ENOSPC, a region rule,
 * is told apart by *@n).
 */
GPUVM_EXPORT int gpuvm_bind_preview(struct gpuvm_bind_vm *vm,
				    const struct gpuvm_bind_batch *batch,
				    struct gpuvm_bind_bo_delta *deltas, size_t cap,
				    size_t *n);

/* ---- apply and submit ----------------------------------------------------- */

/**
 * gpuvm_bind_apply() - apply @batch to @vm, all of it or nothing (the
 * emulator's side; the UMD's is gpuvm_bind_submit()).
 *
 * Returns: 0, or gpuvm_bind_check()'s errors with @vm unchanged.
 */
GPUVM_EXPORT int gpuvm_bind_apply(struct gpuvm_bind_vm *vm,
				  const struct gpuvm_bind_batch *batch);

/**
 * typedef gpuvm_bind_ioctl_fn - how a payload reaches the kernel.
 * @data: the submit opts' @ioctl_data.
 * Returns: 0 or a negative errno.
 */
typedef int (*gpuvm_bind_ioctl_fn)(void *data, int fd, unsigned long request, void *arg);

/**
 * enum gpuvm_bind_submit_flags - flags of gpuvm_bind_submit().
 * @GPUVM_BIND_SUBMIT_NO_COALESCE: submit the ops as given.
 */
enum gpuvm_bind_submit_flags {
	GPUVM_BIND_SUBMIT_NO_COALESCE = 1u << 0,
};

/**
 * struct gpuvm_bind_submit_opts - arguments of gpuvm_bind_submit().
 * @sz: sizeof(struct gpuvm_bind_submit_opts) (GPUVM_OPTS()).
 * @fd: the render node.
 * @ioctl: NULL: ioctl(2) (EINTR and EAGAIN retried; -errno on failure).
 * @ioctl_data: passed to @ioctl.
 * @flags: &enum gpuvm_bind_submit_flags.
 * @max_ops_per_ioctl: 0: the whole batch in one ioctl; otherwise at most
 *	this many ops per ioctl (waits go with the first, signals with the
 *	last).
 */
struct gpuvm_bind_submit_opts {
	size_t sz;
	int fd;
	gpuvm_bind_ioctl_fn ioctl;
	void *ioctl_data;
	uint32_t flags;
	uint32_t max_ops_per_ioctl;
};

/**
 * struct gpuvm_bind_submit_stats - what gpuvm_bind_submit() did.
 * @ioctls: ioctls made (successful or not).
 * @ops_given: ops in the batch.
 * @ops_submitted: ops in the payloads, after coalescing.
 * @ops_applied: ops of the payloads the kernel accepted (the shadow holds
 *	exactly these).
 */
struct gpuvm_bind_submit_stats {
	uint32_t ioctls;
	uint32_t ops_given;
	uint32_t ops_submitted;
	uint32_t ops_applied;
};

/**
 * gpuvm_bind_submit() - check, coalesce, encode and submit @batch, and
 * update the shadow with exactly what the kernel applied.
 * @batch: not modified (coalescing works on a copy).
 * @stats: may be NULL.
 *
 * The shadow is prepared before each ioctl (so nothing can fail after the
 * kernel said yes) and rolled back if the ioctl fails.
 *
 * Returns: 0; -EINVAL for NULL @vm, @batch or @opts or bad @opts;
 * gpuvm_bind_check()'s errors, or -EOPNOTSUPP for a batch of syncs only
 * on a driver without GPUVM_BIND_CAP_SYNC_ONLY (no ioctl made); or the
 * failing ioctl's negative errno (-EIO when the ioctl function returns a
 * positive value), with @stats->ops_applied saying how many of the
 * (coalesced) ops the earlier ioctls applied.
 */
GPUVM_EXPORT int gpuvm_bind_submit(struct gpuvm_bind_vm *vm,
				   const struct gpuvm_bind_batch *batch,
				   const struct gpuvm_bind_submit_opts *opts,
				   struct gpuvm_bind_submit_stats *stats);

/* ---- after: queries -------------------------------------------------------- */

/**
 * enum gpuvm_bind_mapping_flags - gpuvm_bind_mapping.flags beyond the op
 * flags it was mapped with.
 * @GPUVM_BIND_MAPPING_SPARSE: a NULL mapping (no object).
 */
enum gpuvm_bind_mapping_flags {
	GPUVM_BIND_MAPPING_SPARSE = 1u << 30,
};

/**
 * struct gpuvm_bind_mapping - one mapping of the shadow.
 * @addr, @range: where.
 * @offset: offset in the object (arithmetic offset for NULL mappings).
 * @bo: the object's seqno, 0 for a NULL mapping.
 * @handle: the object's handle, 0 for a NULL mapping or a closed handle.
 * @flags: &enum gpuvm_bind_op_flags it was mapped with, and
 *	&enum gpuvm_bind_mapping_flags.
 * @driver_arg: the map op's driver_arg.
 */
struct gpuvm_bind_mapping {
	uint64_t addr;
	uint64_t range;
	uint64_t offset;
	uint64_t bo;
	uint32_t handle;
	uint32_t flags;
	uint32_t driver_arg;
	uint32_t pad_;
};

/**
 * gpuvm_bind_lookup() - the mapping that contains @addr.
 *
 * Returns: 0, -ENOENT (nothing mapped there; a sparse region without a
 * mapping is nothing mapped), -EINVAL for NULL arguments.
 */
GPUVM_EXPORT int gpuvm_bind_lookup(struct gpuvm_bind_vm *vm, uint64_t addr,
				   struct gpuvm_bind_mapping *out);

/**
 * gpuvm_bind_for_each() - call @fn for each mapping that overlaps
 * [addr, addr+range), in address order, until it returns nonzero.
 *
 * Returns: 0, @fn's nonzero value, -EINVAL (NULL, range 0, overflow).
 */
GPUVM_EXPORT int gpuvm_bind_for_each(struct gpuvm_bind_vm *vm, uint64_t addr,
				     uint64_t range,
				     int (*fn)(void *data, const struct gpuvm_bind_mapping *m),
				     void *data);

/**
 * struct gpuvm_bind_residency - how [addr, addr+range) is backed.
 * @bound: bytes mapped to an object.
 * @sparse: bytes that read as zero: NULL mappings, and sparse regions
 *	where nothing is mapped.
 * @unmapped: the rest (bound + sparse + unmapped = range).
 */
struct gpuvm_bind_residency {
	uint64_t bound;
	uint64_t sparse;
	uint64_t unmapped;
};

/**
 * gpuvm_bind_residency() - count @range's bytes by backing.
 *
 * Returns: 0, -EINVAL (NULL, range 0, overflow).
 */
GPUVM_EXPORT int gpuvm_bind_residency(struct gpuvm_bind_vm *vm, uint64_t addr,
				      uint64_t range, struct gpuvm_bind_residency *out);

/* ---- payloads: encode (UMD) and decode (emulator) --------------------------- */

/**
 * struct gpuvm_bind_encoded - one driver ioctl payload.
 * @request: the ioctl request number.
 * @arg: the ioctl's argument (inside @storage_).
 * @arg_size: its size (the size in @request).
 * @n_ops: ops in it; @n_syncs: syncs in it.
 * @storage_: private: the argument and the arrays it points to.
 * @storage_size_: private.
 * @alloc_: private.
 *
 * The arrays' user pointers are this process's addresses of @storage_, so
 * the payload is valid until gpuvm_bind_encoded_fini().
 */
struct gpuvm_bind_encoded {
	unsigned long request;
	void *arg;
	size_t arg_size;
	uint32_t n_ops;
	uint32_t n_syncs;
	void *storage_;
	size_t storage_size_;
	struct gpuvm_allocator alloc_;
};

/**
 * gpuvm_bind_encode() - encode @batch as @driver's VM_BIND payload.
 * @vm_id: the VM's id (ignored by nouveau).
 *
 * xe: an inline op when there is one op, else an array; panthor: ops at
 * their 48-byte stride, waits on the first op, signals on the last, a batch
 * of syncs only as one SYNC_ONLY op; msm: op_stride 40, syncobj_stride 16;
 * nouveau: waits and signals in their two arrays.
 *
 * Returns: 0 (@out must then be released with gpuvm_bind_encoded_fini()),
 * -EINVAL (unknown driver, NULL), -EOPNOTSUPP (an op type, flag or sync
 * the driver cannot express), -E2BIG (more ops or syncs than a 32-bit
 * count), -ENOMEM. On error @out holds nothing to free.
 */
GPUVM_EXPORT int gpuvm_bind_encode(uint32_t driver, uint32_t vm_id,
				   const struct gpuvm_bind_batch *batch,
				   struct gpuvm_bind_encoded *out);

/** gpuvm_bind_encoded_fini() - release @enc's storage (idempotent). */
GPUVM_EXPORT void gpuvm_bind_encoded_fini(struct gpuvm_bind_encoded *enc);

/**
 * typedef gpuvm_bind_read_fn - copy_from_user for a decoder.
 * @data: the decode opts' @read_data.
 * @uptr: the user (guest) address from the payload.
 * Returns: 0 when all @len bytes were copied to @dst, else -EFAULT.
 */
typedef int (*gpuvm_bind_read_fn)(void *data, uint64_t uptr, void *dst, size_t len);

/**
 * struct gpuvm_bind_decode_opts - arguments of gpuvm_bind_decode().
 * @sz: sizeof(struct gpuvm_bind_decode_opts) (GPUVM_OPTS()).
 * @driver: &enum gpuvm_bind_driver.
 * @read: NULL: user pointers are this process's addresses (the emulated
 *	node, LD_PRELOAD); a VMM passes its guest-memory reader.
 * @read_data: passed to @read.
 * @max_ops: most ops accepted in one payload (0: 1 << 16).
 * @max_syncs: most syncs accepted (0: 1 << 10).
 */
struct gpuvm_bind_decode_opts {
	size_t sz;
	uint32_t driver;
	gpuvm_bind_read_fn read;
	void *read_data;
	uint32_t max_ops;
	uint32_t max_syncs;
};

/**
 * gpuvm_bind_decode() - turn a VM_BIND payload into a batch, safely.
 * @request: the ioctl request as received; its nr must be the driver's
 *	VM_BIND, its size is how many bytes @arg holds.
 * @arg: the argument struct (already copied in by the caller).
 * @batch: reset, then filled (queue id and flags included).
 * @vm_id: the payload's VM id (0 for nouveau and msm, whose VM_BIND names
 *	no VM); may be NULL.
 *
 * Shorter argument structs (older user space) are zero-extended and longer
 * ones truncated, as DRM's core does. Every count is bounded by @max_ops /
 * @max_syncs before any size is computed; stride * count and pointer +
 * size are computed in 64 bits and checked for overflow; strides below the
 * driver's minimum are refused; fields that must be zero (pads, reserved,
 * extensions, the unknown tail of a longer op in a strided array) must be.
 *
 * Returns: 0, -EINVAL (malformed, @batch left empty), -EFAULT (@read
 * failed, or a NULL or wrapping array), -EOPNOTSUPP (valid for the driver
 * but not expressible: xe user fences, userptr, CPU address mirror and PXP
 * checks; nouveau PTE kinds; msm fence fds and syncobj resets), -ENOMEM.
 * On every error @batch has no ops or syncs and keeps its queue id and
 * flags.
 */
GPUVM_EXPORT int gpuvm_bind_decode(const struct gpuvm_bind_decode_opts *opts,
				   unsigned long request, const void *arg,
				   struct gpuvm_bind_batch *batch, uint32_t *vm_id);

#ifdef __cplusplus
}
#endif

#endif /* GPUVM_BIND_H */
