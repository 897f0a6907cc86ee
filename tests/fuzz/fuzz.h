/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share: the entry point libFuzzer (or the standalone
 * driver, fuzz_main.c) calls, and the check that turns a disagreement into
 * a crash libFuzzer records.
 *
 * A fuzz target has no test framework around it: a failed check prints one
 * line saying where and what, then abort()s, so that libFuzzer saves the
 * input and the standalone driver fails its ctest.
 */
#ifndef GPUVM_FUZZ_H
#define GPUVM_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((format(printf, 3, 4), noreturn, cold, unused)) static void
fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s:%d: check failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Abort with a message unless @cond holds. */
#define FZ_CHECK(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond))                                                   \
			fz_fail(__FILE__, __LINE__, __VA_ARGS__);              \
	} while (0)

#endif /* GPUVM_FUZZ_H */
