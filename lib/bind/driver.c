/* SPDX-License-Identifier: MIT */
/* The drivers VM_BIND speaks: their codec tables, by number and by name. */
#include "bind_internal.h"

#include <string.h>

const struct gpuvm__bind_codec *gpuvm__bind_codec(uint32_t driver)
{
	switch (driver) {
	case GPUVM_BIND_XE:
		return &gpuvm__bind_codec_xe;
	case GPUVM_BIND_NOUVEAU:
		return &gpuvm__bind_codec_nouveau;
	case GPUVM_BIND_PANTHOR:
		return &gpuvm__bind_codec_panthor;
	case GPUVM_BIND_MSM:
		return &gpuvm__bind_codec_msm;
	default:
		return NULL;
	}
}

/* The first version of struct gpuvm_bind_driver_info ends at bind_request. */
#define INFO_V1_SIZE                                             \
	(offsetof(struct gpuvm_bind_driver_info, bind_request) + \
	 sizeof(((struct gpuvm_bind_driver_info *)0)->bind_request))

int gpuvm_bind_driver_info(uint32_t driver, struct gpuvm_bind_driver_info *info)
{
	const struct gpuvm__bind_codec *c = gpuvm__bind_codec(driver);
	size_t sz, orig;

	if (!c || !info || info->sz < INFO_V1_SIZE)
		return -EINVAL;
	sz = orig = info->sz;
	if (sz > sizeof(*info)) {
		memset((char *)info + sizeof(*info), 0, sz - sizeof(*info));
		sz = sizeof(*info);
	}
	memcpy(info, &c->info, sz);
	info->sz = orig;
	return 0;
}

int gpuvm_bind_driver_from_name(const char *name)
{
	/* the DRM version names, indexed by enum gpuvm_bind_driver */
	static const char *const names[] = {
		[GPUVM_BIND_XE] = "xe",
		[GPUVM_BIND_NOUVEAU] = "nouveau",
		[GPUVM_BIND_PANTHOR] = "panthor",
		[GPUVM_BIND_MSM] = "msm",
	};

	if (!name)
		return -EINVAL;
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -ENOENT;
}
