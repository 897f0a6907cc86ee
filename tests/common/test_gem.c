/* SPDX-License-Identifier: MIT */
#include "test_gem.h"

#include <string.h>

static void test_gem_free(struct gpuvm_gem *obj)
{
	struct test_gem *g = to_test_gem(obj);

	g->fini_ret = gpuvm_gem_fini(obj);
	g->frees++;
}

const struct gpuvm_gem_funcs test_gem_funcs = {
	.free = test_gem_free,
};

int test_gem_init(struct test_gem *g, const char *name, uint64_t size)
{
	GPUVM_OPTS(gpuvm_gem_opts, opts, .size = size, .funcs = &test_gem_funcs);

	memset(g, 0, sizeof(*g));
	if (name) {
		strncpy(g->name, name, sizeof(g->name) - 1);
		g->name[sizeof(g->name) - 1] = '\0';
	}
	g->fini_ret = 1; /* not a valid return: "free never ran" */
	return gpuvm_gem_init(&g->base, &opts);
}

const char *test_gem_name(const struct gpuvm_gem *obj)
{
	if (!obj || obj->funcs != &test_gem_funcs)
		return NULL;
	return to_test_gem(obj)->name;
}
