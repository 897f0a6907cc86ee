/* SPDX-License-Identifier: MIT */
/*
 * capture_msm: a fixed msm session on the fake node of fake_msm.c, for the
 * capture's golden test (capture_golden.sh compares the trace with
 * msm.trace.expected, and its replay with msm.replay.expected):
 *
 *   SET_PARAM(EN_VM_BIND)           -> vm vm1 (range from GET_PARAM)
 *   GEM_NEW 5000 and 8192 bytes     -> bo1 (rounded up to 0x2000), bo2
 *   VM_BIND, queue 1, 2 ops         -> map bo1 DUMPABLE, NULL map; a signal
 *   VM_BIND, queue 1, 2 ops (array) -> unmap, map bo2
 *   VM_BIND on queue 99             -> refused by the node: not recorded,
 *                                      errno EINVAL intact
 *   VM_BIND with FENCE_FD_OUT       -> accepted by the node, refused by the
 *                                      decoder: a comment
 *   VM_BIND, ops array at 0x8       -> accepted by the (blind) node, refused
 *                                      by the decoder with EFAULT, no crash:
 *                                      a comment
 *   GEM_CLOSE bo1, close()          -> a comment, dump vm1
 *
 * The last line is "capture_msm: ok" only on success.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gpuvm/bind.h>

#include "bind/abi/drm_common.h"
#include "bind/abi/msm.h"

static int failures;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "capture_msm: FAILED %s: ", #cond); \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			failures++;                                         \
		}                                                           \
	} while (0)

/*
 * Encode @ops (and @sync if nonzero) for msm on @queue and submit them, with
 * @extra_flags added to the argument's flags and, if @wild, its ops array
 * pointer replaced by a wild one.
 */
static int bind(int fd, uint32_t queue, const struct gpuvm_bind_op *ops, size_t n,
		uint32_t sync, uint32_t extra_flags, bool wild)
{
	GPUVM_OPTS(gpuvm_bind_batch_opts, opts, .queue_id = queue);
	struct gpuvm_bind_batch *b = NULL;
	struct gpuvm_bind_encoded enc;
	int rc;

	rc = gpuvm_bind_batch_create(&opts, &b);
	CHECK(rc == 0, "batch_create: %d", rc);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = gpuvm_bind_batch_add(b, &ops[i]);
		CHECK(rc == 0, "batch_add %zu: %d", i, rc);
	}
	if (sync) {
		struct gpuvm_bind_sync s = { .handle = sync, .flags = GPUVM_BIND_SYNC_SIGNAL };

		rc = gpuvm_bind_batch_add_sync(b, &s);
		CHECK(rc == 0, "add_sync: %d", rc);
	}
	rc = gpuvm_bind_encode(GPUVM_BIND_MSM, 0, b, &enc);
	CHECK(rc == 0, "encode: %d", rc);
	gpuvm_bind_batch_destroy(b);
	if (rc)
		return rc;
	((struct gpuvm_abi_msm_vm_bind *)enc.arg)->flags |= extra_flags;
	if (wild)
		((struct gpuvm_abi_msm_vm_bind *)enc.arg)->ops = 8;
	rc = ioctl(fd, enc.request, enc.arg) ? -errno : 0;
	gpuvm_bind_encoded_fini(&enc);
	return rc;
}

int main(void)
{
	struct gpuvm_abi_msm_param en = {
		.pipe = GPUVM_ABI_MSM_PIPE_3D0,
		.param = GPUVM_ABI_MSM_PARAM_EN_VM_BIND,
		.value = 1,
	};
	struct gpuvm_abi_msm_gem_new g1 = { .size = 5000 }, g2 = { .size = 8192 };
	struct gpuvm_abi_drm_gem_close gc = { 0 };
	int fd, rc;

	fd = open("/dev/dri/renderD200", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("capture_msm: open");
		return 1;
	}
	CHECK(ioctl(fd, GPUVM_ABI_MSM_IOCTL_SET_PARAM, &en) == 0, "EN_VM_BIND");
	CHECK(ioctl(fd, GPUVM_ABI_MSM_IOCTL_GEM_NEW, &g1) == 0, "GEM_NEW 1");
	CHECK(ioctl(fd, GPUVM_ABI_MSM_IOCTL_GEM_NEW, &g2) == 0, "GEM_NEW 2");

	{
		const struct gpuvm_bind_op ops[] = {
			{ .type = GPUVM_BIND_OP_MAP, .flags = GPUVM_BIND_DUMPABLE,
			  .handle = g1.handle, .addr = 0x100000000ull, .range = 0x2000 },
			{ .type = GPUVM_BIND_OP_MAP_SPARSE, .addr = 0x100010000ull,
			  .range = 0x4000 },
		};

		rc = bind(fd, 1, ops, 2, 7, 0, false);
		CHECK(rc == 0, "bind 1: %d", rc);
	}
	{
		const struct gpuvm_bind_op ops[] = {
			{ .type = GPUVM_BIND_OP_UNMAP, .addr = 0x100011000ull, .range = 0x1000 },
			{ .type = GPUVM_BIND_OP_MAP, .handle = g2.handle, .addr = 0x100020000ull,
			  .range = 0x1000, .offset = 0x1000 },
		};

		rc = bind(fd, 1, ops, 2, 0, 0, false);
		CHECK(rc == 0, "bind 2: %d", rc);
		rc = bind(fd, 1, ops, 2, 0, 0, true);
		CHECK(rc == 0, "bind with a wild ops pointer: %d", rc);
	}
	{
		const struct gpuvm_bind_op op = {
			.type = GPUVM_BIND_OP_UNMAP, .addr = 0x100000000ull, .range = 0x2000,
		};

		rc = bind(fd, 99, &op, 1, 0, 0, false);
		CHECK(rc == -EINVAL, "bind on queue 99 gave %d, not -EINVAL", rc);
		rc = bind(fd, 1, &op, 1, 0, GPUVM_ABI_MSM_VM_BIND_FENCE_FD_OUT, false);
		CHECK(rc == 0, "bind with a fence fd: %d", rc);
	}
	gc.handle = g1.handle;
	CHECK(ioctl(fd, GPUVM_ABI_DRM_IOCTL_GEM_CLOSE, &gc) == 0, "GEM_CLOSE");
	CHECK(close(fd) == 0, "close");
	if (failures)
		return 1;
	printf("capture_msm: ok\n");
	return 0;
}
