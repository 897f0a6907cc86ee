/* SPDX-License-Identifier: MIT */
/*
 * The fence-signalling section: a per-thread nesting depth.
 *
 * This is the library's only per-thread state, and the only state that is
 * not in an object the caller handed in. It has to be per thread: the
 * section is a property of the code path a thread is on (a driver's
 * run_job(), an emulator's GPU thread), not of any VM or object, and the
 * library calls that check it (an obtain, a put, an allocation deep in the
 * index) are given no context that could carry it. The kernel's
 * dma_fence_begin_signalling() is per task for the same reason.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

static _Thread_local unsigned int signalling_depth;

bool gpuvm_signalling_begin(void)
{
	return signalling_depth++ != 0;
}

void gpuvm_signalling_end(bool cookie)
{
#ifdef GPUVM_DEBUG
	if (!signalling_depth) {
		fputs("libgpuvm: gpuvm_signalling_end() without gpuvm_signalling_begin()\n",
		      stderr);
		abort();
	}
	if (cookie != (signalling_depth > 1)) {
		fputs("libgpuvm: gpuvm_signalling_end() with the cookie of another section: "
		      "sections must end in the reverse order of their begins\n", stderr);
		abort();
	}
#else
	(void)cookie;
#endif
	if (signalling_depth)
		signalling_depth--;
}

bool gpuvm_in_signalling(void)
{
	return signalling_depth != 0;
}

#ifdef GPUVM_DEBUG
void gpuvm__signalling_violation(const char *call, const char *rule)
{
	fprintf(stderr, "libgpuvm: %s() called in a fence-signalling section: %s\n", call, rule);
	abort();
}
#endif
