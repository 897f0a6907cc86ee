/* SPDX-License-Identifier: MIT */
/*
 * Run a piece of a test in a forked child, for the calls that must abort
 * (debug-build rule checks): the parent sees how the child ended and what it
 * wrote to stderr.
 */
#ifndef GPUVM_TEST_CHILD_H
#define GPUVM_TEST_CHILD_H

#include <stddef.h>

/*
 * Fork; the child runs @fn(@arg) with its stderr into a pipe and exits 0 if
 * @fn returns. Returns the child's wait status, or -1 when fork or pipe
 * failed; the child's stderr, NUL-terminated and cut to @len - 1 bytes,
 * goes to @err.
 */
int test_run_child(void (*fn)(void *arg), void *arg, char *err, size_t len);

#endif /* GPUVM_TEST_CHILD_H */
