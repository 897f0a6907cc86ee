/* SPDX-License-Identifier: MIT */
/*
 * Checks the DRM ABI declarations of lib/bind/abi/ against the ioctl
 * numbers and sizes computed by hand from the kernel uAPI layouts (see the
 * issue 6 ABI facts). The headers pin every layout at compile time; this
 * test also proves at run time that they are the ones compiled in, and
 * that the ioctl encoding macro yields the kernel's numbers.
 */
#include "drm_common.h"
#include "msm.h"
#include "nouveau.h"
#include "panthor.h"
#include "xe.h"

#include <inttypes.h>
#include <stdio.h>

static int failures;

static void check_u32(const char *what, uint32_t got, uint32_t want)
{
	if (got != want) {
		fprintf(stderr, "FAIL %s: 0x%08" PRIx32 ", expected 0x%08" PRIx32 "\n", what, got,
			want);
		failures++;
	}
}

static void check_size(const char *what, size_t got, size_t want)
{
	if (got != want) {
		fprintf(stderr, "FAIL sizeof %s: %zu, expected %zu\n", what, got, want);
		failures++;
	}
}

#define IOCTL(name, hex) check_u32(#name, (uint32_t)(name), (uint32_t)(hex))
#define SIZE(tag, n) check_size(#tag, sizeof(struct tag), (size_t)(n))

static void test_encoding(void)
{
	/* The encoding macro against hand-encoded commands. */
	check_u32("IOC(RW,'d',0x45,0x88)", GPUVM_ABI_IOC(GPUVM_ABI_IOC_RW, 'd', 0x45, 0x88),
		  0xc0886445u);
	check_u32("IOC(W,'d',0x09,8)", GPUVM_ABI_IOC(GPUVM_ABI_IOC_W, 'd', 0x09, 8), 0x40086409u);
	check_u32("IOC(R,'d',0x53,48)", GPUVM_ABI_IOC(GPUVM_ABI_IOC_R, 'd', 0x53, 48), 0x80306453u);
	check_u32("IOC(NONE,'d',0x1e,0)", GPUVM_ABI_DRM_IO(0x1e), 0x0000641eu);

	/* And the field extraction a decoder uses. */
	check_u32("DIR_OF", GPUVM_ABI_IOC_DIR_OF(0x40886445u), GPUVM_ABI_IOC_W);
	check_u32("SIZE_OF", GPUVM_ABI_IOC_SIZE_OF(0x40886445u), 136u);
	check_u32("TYPE_OF", GPUVM_ABI_IOC_TYPE_OF(0x40886445u), GPUVM_ABI_DRM_IOCTL_TYPE);
	check_u32("NR_OF", GPUVM_ABI_IOC_NR_OF(0x40886445u), 0x45u);
}

static void test_drm_common(void)
{
	if (sizeof(void *) == 8) {
		IOCTL(GPUVM_ABI_DRM_IOCTL_VERSION, 0xc0406400u);
		SIZE(gpuvm_abi_drm_version, 64);
	} else {
		IOCTL(GPUVM_ABI_DRM_IOCTL_VERSION, 0xc0246400u);
		SIZE(gpuvm_abi_drm_version, 36);
	}
	IOCTL(GPUVM_ABI_DRM_IOCTL_GEM_CLOSE, 0x40086409u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_GET_CAP, 0xc010640cu);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SET_CLIENT_CAP, 0x4010640du);
	IOCTL(GPUVM_ABI_DRM_IOCTL_PRIME_HANDLE_TO_FD, 0xc00c642du);
	IOCTL(GPUVM_ABI_DRM_IOCTL_PRIME_FD_TO_HANDLE, 0xc00c642eu);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_CREATE, 0xc00864bfu);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_DESTROY, 0xc00864c0u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, 0xc01864c1u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, 0xc01864c2u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_WAIT, 0xc02864c3u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_RESET, 0xc01064c4u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_SIGNAL, 0xc01064c5u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, 0xc03064cau);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_QUERY, 0xc01864cbu);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TRANSFER, 0xc02064ccu);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, 0xc01864cdu);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_WAIT_V1, 0xc02064c3u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT_V1, 0xc02864cau);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD_V1, 0xc01064c1u);
	IOCTL(GPUVM_ABI_DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE_V1, 0xc01064c2u);

	SIZE(gpuvm_abi_drm_gem_close, 8);
	SIZE(gpuvm_abi_drm_get_cap, 16);
	SIZE(gpuvm_abi_drm_set_client_cap, 16);
	SIZE(gpuvm_abi_drm_prime_handle, 12);
	SIZE(gpuvm_abi_drm_syncobj_create, 8);
	SIZE(gpuvm_abi_drm_syncobj_destroy, 8);
	SIZE(gpuvm_abi_drm_syncobj_handle, 24);
	SIZE(gpuvm_abi_drm_syncobj_transfer, 32);
	SIZE(gpuvm_abi_drm_syncobj_wait, 40);
	SIZE(gpuvm_abi_drm_syncobj_timeline_wait, 48);
	SIZE(gpuvm_abi_drm_syncobj_array, 16);
	SIZE(gpuvm_abi_drm_syncobj_timeline_array, 24);
}

static void test_xe(void)
{
	IOCTL(GPUVM_ABI_XE_IOCTL_DEVICE_QUERY, 0xc0286440u);
	IOCTL(GPUVM_ABI_XE_IOCTL_GEM_CREATE, 0xc0386441u);
	IOCTL(GPUVM_ABI_XE_IOCTL_GEM_MMAP_OFFSET, 0xc0286442u);
	IOCTL(GPUVM_ABI_XE_IOCTL_VM_CREATE, 0xc0206443u);
	IOCTL(GPUVM_ABI_XE_IOCTL_VM_DESTROY, 0x40186444u);
	IOCTL(GPUVM_ABI_XE_IOCTL_VM_BIND, 0x40886445u); /* issue 6's figure */
	IOCTL(GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_CREATE, 0xc0306446u);
	IOCTL(GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_DESTROY, 0x40186447u);
	IOCTL(GPUVM_ABI_XE_IOCTL_EXEC_QUEUE_GET_PROPERTY, 0xc0286448u);
	IOCTL(GPUVM_ABI_XE_IOCTL_EXEC, 0x40386449u);
	IOCTL(GPUVM_ABI_XE_IOCTL_WAIT_USER_FENCE, 0xc048644au);

	SIZE(gpuvm_abi_xe_user_extension, 16);
	SIZE(gpuvm_abi_xe_device_query, 40);
	SIZE(gpuvm_abi_xe_engine_class_instance, 8);
	SIZE(gpuvm_abi_xe_engine, 32);
	SIZE(gpuvm_abi_xe_query_engines, 8);
	SIZE(gpuvm_abi_xe_mem_region, 88);
	SIZE(gpuvm_abi_xe_query_mem_regions, 8);
	SIZE(gpuvm_abi_xe_query_config, 8);
	SIZE(gpuvm_abi_xe_gem_create, 56);
	SIZE(gpuvm_abi_xe_gem_mmap_offset, 40);
	SIZE(gpuvm_abi_xe_vm_create, 32);
	SIZE(gpuvm_abi_xe_vm_destroy, 24);
	SIZE(gpuvm_abi_xe_vm_bind_op, 80);
	SIZE(gpuvm_abi_xe_vm_bind, 136);
	SIZE(gpuvm_abi_xe_sync, 48);
	SIZE(gpuvm_abi_xe_exec_queue_create, 48);
	SIZE(gpuvm_abi_xe_exec_queue_destroy, 24);
	SIZE(gpuvm_abi_xe_exec_queue_get_property, 40);
	SIZE(gpuvm_abi_xe_exec, 56);
	SIZE(gpuvm_abi_xe_wait_user_fence, 72);

	/* The inline operation and the vector pointer share offset 24. */
	struct gpuvm_abi_xe_vm_bind b = { .num_binds = 1 };
	b.bind.addr = 0x1000;
	check_u32("xe inline op addr offset",
		  (uint32_t)((const char *)&b.bind.addr - (const char *)&b), 24u + 32u);
	check_u32("xe vector offset",
		  (uint32_t)((const char *)&b.vector_of_binds - (const char *)&b), 24u);
}

static void test_nouveau(void)
{
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_GETPARAM, 0xc0106440u);
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_VM_INIT, 0xc0106450u);
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND, 0xc0286451u); /* issue 6's figure */
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_EXEC, 0xc0286452u);
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_GEM_NEW, 0xc0306480u);
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_GEM_CPU_PREP, 0x40086482u);
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_GEM_CPU_FINI, 0x40046483u);
	IOCTL(GPUVM_ABI_NOUVEAU_IOCTL_GEM_INFO, 0xc0286484u);

	SIZE(gpuvm_abi_nouveau_getparam, 16);
	SIZE(gpuvm_abi_nouveau_gem_info, 40);
	SIZE(gpuvm_abi_nouveau_gem_new, 48);
	SIZE(gpuvm_abi_nouveau_gem_cpu_prep, 8);
	SIZE(gpuvm_abi_nouveau_gem_cpu_fini, 4);
	SIZE(gpuvm_abi_nouveau_sync, 16);
	SIZE(gpuvm_abi_nouveau_vm_init, 16);
	SIZE(gpuvm_abi_nouveau_vm_bind_op, 40);
	SIZE(gpuvm_abi_nouveau_vm_bind, 40);
	SIZE(gpuvm_abi_nouveau_exec_push, 16);
	SIZE(gpuvm_abi_nouveau_exec, 40);
	check_u32("nouveau SPARSE", GPUVM_ABI_NOUVEAU_VM_BIND_SPARSE, 0x100u);
}

static void test_panthor(void)
{
	IOCTL(GPUVM_ABI_PANTHOR_IOCTL_DEV_QUERY, 0xc0106440u);
	IOCTL(GPUVM_ABI_PANTHOR_IOCTL_VM_CREATE, 0xc0106441u);
	IOCTL(GPUVM_ABI_PANTHOR_IOCTL_VM_DESTROY, 0xc0086442u);
	IOCTL(GPUVM_ABI_PANTHOR_IOCTL_VM_BIND, 0xc0186443u); /* issue 6's figure */
	IOCTL(GPUVM_ABI_PANTHOR_IOCTL_VM_GET_STATE, 0xc0086444u);
	IOCTL(GPUVM_ABI_PANTHOR_IOCTL_BO_CREATE, 0xc0186445u);
	IOCTL(GPUVM_ABI_PANTHOR_IOCTL_BO_MMAP_OFFSET, 0xc0106446u);

	SIZE(gpuvm_abi_panthor_obj_array, 16);
	SIZE(gpuvm_abi_panthor_sync_op, 16);
	SIZE(gpuvm_abi_panthor_dev_query, 16);
	SIZE(gpuvm_abi_panthor_vm_create, 16);
	SIZE(gpuvm_abi_panthor_vm_destroy, 8);
	SIZE(gpuvm_abi_panthor_vm_bind_op, 48);
	SIZE(gpuvm_abi_panthor_vm_bind, 24);
	SIZE(gpuvm_abi_panthor_vm_get_state, 8);
	SIZE(gpuvm_abi_panthor_bo_create, 24);
	SIZE(gpuvm_abi_panthor_bo_mmap_offset, 16);
	check_u32("panthor UNMAP", GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_UNMAP, 1u << 28);
	check_u32("panthor SYNC_ONLY", GPUVM_ABI_PANTHOR_VM_BIND_OP_TYPE_SYNC_ONLY, 2u << 28);
	check_u32("panthor SIGNAL", GPUVM_ABI_PANTHOR_SYNC_OP_SIGNAL, 1u << 31);
}

static void test_msm(void)
{
	IOCTL(GPUVM_ABI_MSM_IOCTL_GET_PARAM, 0xc0186440u);
	IOCTL(GPUVM_ABI_MSM_IOCTL_SET_PARAM, 0x40186441u);
	IOCTL(GPUVM_ABI_MSM_IOCTL_GEM_NEW, 0xc0106442u);
	IOCTL(GPUVM_ABI_MSM_IOCTL_GEM_INFO, 0xc0186443u);
	IOCTL(GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_NEW, 0xc00c644au);
	IOCTL(GPUVM_ABI_MSM_IOCTL_SUBMITQUEUE_CLOSE, 0x4004644bu);
	IOCTL(GPUVM_ABI_MSM_IOCTL_VM_BIND, 0xc058644du); /* nr 0x4d, 88 bytes */

	SIZE(gpuvm_abi_msm_param, 24);
	SIZE(gpuvm_abi_msm_gem_new, 16);
	SIZE(gpuvm_abi_msm_gem_info, 24);
	SIZE(gpuvm_abi_msm_submitqueue, 12);
	SIZE(gpuvm_abi_msm_syncobj, 16);
	SIZE(gpuvm_abi_msm_vm_bind_op, 40);
	SIZE(gpuvm_abi_msm_vm_bind, 88);
}

/* The figures, also checked while compiling. */
GPUVM_ABI_ASSERT(GPUVM_ABI_XE_IOCTL_VM_BIND == 0x40886445u, "xe VM_BIND");
GPUVM_ABI_ASSERT(GPUVM_ABI_NOUVEAU_IOCTL_VM_BIND == 0xc0286451u, "nouveau VM_BIND");
GPUVM_ABI_ASSERT(GPUVM_ABI_PANTHOR_IOCTL_VM_BIND == 0xc0186443u, "panthor VM_BIND");
GPUVM_ABI_ASSERT(GPUVM_ABI_MSM_IOCTL_VM_BIND == 0xc058644du, "msm VM_BIND");

int main(void)
{
	test_encoding();
	test_drm_common();
	test_xe();
	test_nouveau();
	test_panthor();
	test_msm();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("abi layout: all checks passed\n");
	return 0;
}
