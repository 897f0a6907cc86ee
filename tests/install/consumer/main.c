/* SPDX-License-Identifier: MIT */
/* The smallest real use of an installed libgpuvm: one VM, up and down. */
#include <gpuvm.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct gpuvm vm;
	GPUVM_OPTS(gpuvm_init_opts, opts, .name = "consumer", .start = 0, .range = 1ull << 32);
	int err;

	err = gpuvm_init(&vm, &opts);
	if (err) {
		fprintf(stderr, "gpuvm_init: %s\n", gpuvm_err_name(err));
		return 1;
	}
	err = gpuvm_fini(&vm);
	if (err) {
		fprintf(stderr, "gpuvm_fini: %s\n", gpuvm_err_name(err));
		return 1;
	}
	if (strcmp(gpuvm_err_name(-EINVAL), "EINVAL") != 0) {
		fprintf(stderr, "gpuvm_err_name(-EINVAL) is %s\n", gpuvm_err_name(-EINVAL));
		return 1;
	}
	printf("libgpuvm %d.%d.%d: init, fini and err_name work\n", GPUVM_VERSION_MAJOR,
	       GPUVM_VERSION_MINOR, GPUVM_VERSION_PATCH);
	return 0;
}
