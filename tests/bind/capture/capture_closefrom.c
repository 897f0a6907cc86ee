/* SPDX-License-Identifier: MIT */
/*
 * The trace's file descriptor closed behind the capture's back: a program
 * that calls close_range() (or closefrom(), dup2()) bypasses the wrapped
 * close(), and the number may then name one of the program's own files.
 * The capture must notice and stop, never write trace lines into that file.
 *
 * Run with LD_PRELOAD="libgpuvm-trace.so libgpuvm-drmshim.so",
 * GPUVM_DRMSHIM_DRIVER=xe and GPUVM_TRACE_OUT=<trace>; the last line is
 * "capture_closefrom: ok" only on success.
 */
#define _GNU_SOURCE /* NOLINT(bugprone-reserved-identifier): syscall, F_DUPFD */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bind/abi/xe.h"

#define FAIL(...)                                                                  \
	do {                                                                       \
		fprintf(stderr, "capture_closefrom: FAIL: " __VA_ARGS__);          \
		fputc('\n', stderr);                                               \
		exit(1);                                                           \
	} while (0)

static void gem_create(int fd)
{
	struct gpuvm_abi_xe_gem_create c = {
		.size = 0x1000, .placement = 1, .cpu_caching = GPUVM_ABI_XE_GEM_CPU_CACHING_WB,
	};

	if (ioctl(fd, GPUVM_ABI_XE_IOCTL_GEM_CREATE, &c))
		FAIL("GEM_CREATE: %s", strerror(errno));
}

static long file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		FAIL("stat %s: %s", path, strerror(errno));
	return (long)st.st_size;
}

static int count_lines(const char *path, const char *prefix)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		FAIL("open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(f);
	return n;
}

int main(void)
{
	const char *trace = getenv("GPUVM_TRACE_OUT");
	char victim[] = "/tmp/capture-closefrom-victim-XXXXXX";
	int fd, v, high;

	if (!trace)
		FAIL("GPUVM_TRACE_OUT is not set");
	/* the capture appends: start from an empty trace (writes land at its end) */
	if (truncate(trace, 0) && errno != ENOENT)
		FAIL("truncate %s: %s", trace, strerror(errno));
	fd = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		FAIL("open the node: %s (is the shim preloaded?)", strerror(errno));
	gem_create(fd); /* recorded: bo bo1 */

	/* every descriptor from 512 up goes, the capture's trace among them */
	if (syscall(SYS_close_range, 512u, ~0u, 0u))
		FAIL("close_range: %s", strerror(errno));
	v = mkstemp(victim);
	if (v < 0)
		FAIL("mkstemp: %s", strerror(errno));
	/* the lowest number from 512: the one the trace had */
	high = fcntl(v, F_DUPFD_CLOEXEC, 512);
	if (high < 0)
		FAIL("F_DUPFD: %s", strerror(errno));

	gem_create(fd); /* the capture must not write this into the victim */
	gem_create(fd);

	if (file_size(victim) != 0)
		FAIL("the capture wrote %ld bytes into the program's file", file_size(victim));
	if (count_lines(trace, "bo ") != 1)
		FAIL("the trace has %d bo lines, want 1 (recorded before the close)",
		     count_lines(trace, "bo "));
	close(high);
	close(v);
	unlink(victim);
	close(fd);
	printf("capture_closefrom: ok\n");
	return 0;
}
