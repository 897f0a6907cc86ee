/* SPDX-License-Identifier: MIT */
/*
 * bench-replay: workload (e) of the benchmarks (bench/README.md), the
 * requests per second of gpuvm-replay on a large generated trace.
 *
 *	bench-replay [--frames N] [--runs K] [--gen PATH] [--replay PATH]
 *		     [--tiny] [--json FILE]
 *
 * Generates a trace with `gen-trace --frames N` (default 14000: ten times
 * the example session, ~650 000 requests, ~26 MB, a second or two) into a
 * fresh directory under $TMPDIR (or /tmp), then runs gpuvm-replay on it K
 * times (default 5) in two ways:
 * - "listing": `gpuvm-replay -o /dev/null --stats TRACE`, the canonical
 *   listing formatted and written to /dev/null;
 * - "quiet": `gpuvm-replay -q --stats TRACE`, no listing at all;
 * and prints the median requests/s of each, timed around the whole process
 * (spawn to exit: exec, reading the file, replay, exit), beside the rate the
 * tool measures itself (its --stats line, replay loop only). The floor for
 * comparison: reading the trace and finding its lines in this process
 * ("read_floor", the same requests over the time of a read + memchr pass).
 * The directory is removed at the end. Nothing about speed is asserted; the
 * exit status is 0, or 1 when a tool failed or the runs disagree on the
 * request count.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef GEN_TRACE_PATH
#define GEN_TRACE_PATH "gen-trace"
#endif
#ifndef GPUVM_REPLAY_PATH
#define GPUVM_REPLAY_PATH "gpuvm-replay"
#endif

#define MAX_RUNS 50

extern char **environ;

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench-replay: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

/*
 * Run @argv with stdout to /dev/null and stderr captured into @err (up to
 * @errsz - 1 bytes, NUL-terminated). Returns the exit status (0-255), or -1
 * when it could not be run or died of a signal; @ns gets the wall time from
 * spawn to reaping.
 */
static int run(char *const argv[], char *err, size_t errsz, uint64_t *ns)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], status, rc = -1;
	size_t len = 0;
	uint64_t t0;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addclose(&fa, pfd[1]);
	t0 = bench_now_ns();
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	for (;;) {
		char sink[4096];
		ssize_t n;

		if (len + 1 < errsz)
			n = read(pfd[0], err + len, errsz - 1 - len);
		else
			n = read(pfd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < errsz)
			len += (size_t)n;
	}
	close(pfd[0]);
	err[len] = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	*ns = bench_now_ns() - t0;
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t median_u64(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double median_d(double *v, int n)
{
	for (int i = 1; i < n; i++) {
		double x = v[i];
		int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Read the file and count its lines; returns the time in ns, 0 on error. */
static uint64_t read_floor(const char *path, size_t *lines, size_t *bytes)
{
	static char buf[1 << 20];
	uint64_t t0 = bench_now_ns();
	int fd = open(path, O_RDONLY);
	ssize_t n;

	*lines = 0;
	*bytes = 0;
	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		const char *p = buf, *end = buf + n;

		*bytes += (size_t)n;
		while ((p = memchr(p, '\n', (size_t)(end - p)))) {
			++*lines;
			p++;
		}
	}
	close(fd);
	return n < 0 ? 0 : bench_now_ns() - t0;
}

/* One variant: K runs; returns false when a run failed. */
static bool variant(const char *name, const char *replay, const char *mode, const char *trace,
		    int runs, unsigned long long *nreq_out)
{
	char *argv[6];
	char err[4096];
	uint64_t wall[MAX_RUNS];
	double internal[MAX_RUNS];
	unsigned long long nreq = 0;
	char fig[64];
	int i = 0;

	argv[i++] = (char *)replay;
	if (!strcmp(mode, "-o")) {
		argv[i++] = "-o";
		argv[i++] = "/dev/null";
	} else {
		argv[i++] = "-q";
	}
	argv[i++] = "--stats";
	argv[i++] = (char *)trace;
	argv[i] = NULL;

	for (int r = 0; r < runs; r++) {
		unsigned long long n = 0;
		double secs = 0;
		int rc = run(argv, err, sizeof(err), &wall[r]);

		if (rc) {
			fail("gpuvm-replay failed: %s", err);
			return false;
		}
		if (sscanf(err, "gpuvm-replay: %llu requests in %lf s", &n, &secs) < 1 || !n) {
			fail("cannot read gpuvm-replay's --stats line: %s", err);
			return false;
		}
		if (nreq && n != nreq) {
			fail("%s", "runs disagree on the number of requests");
			return false;
		}
		nreq = n;
		internal[r] = secs > 0 ? (double)n / secs : 0;
	}
	if (*nreq_out && *nreq_out != nreq) {
		fail("%s", "variants disagree on the number of requests");
		return false;
	}
	*nreq_out = nreq;
	snprintf(fig, sizeof(fig), "%s", name);
	bench_value("replay", fig, bench_rate((double)nreq, median_u64(wall, runs)), "requests/s");
	snprintf(fig, sizeof(fig), "%s_internal", name);
	bench_value("replay", fig, median_d(internal, runs), "requests/s");
	return true;
}

int main(int argc, char **argv)
{
	const char *gen = GEN_TRACE_PATH, *replay = GPUVM_REPLAY_PATH, *tmp;
	unsigned long frames = 14000;
	unsigned long long nreq = 0;
	int runs = 5, status = 0, rc;
	char dir[4096], trace[4200], fbuf[32], err[4096];
	uint64_t ns, floor_ns[MAX_RUNS];
	size_t lines = 0, bytes = 0;
	struct stat sb;

	argc = bench_init("bench-replay", argc, argv);
	if (bench_tiny()) {
		frames = 30;
		runs = 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--tiny"))
			continue;
		if (!v) {
			fprintf(stderr, "usage: bench-replay [--frames N] [--runs K] [--gen PATH] "
					"[--replay PATH] [--tiny] [--json FILE]\n");
			return 2;
		}
		i++;
		if (!strcmp(a, "--frames"))
			frames = strtoul(v, NULL, 0);
		else if (!strcmp(a, "--runs"))
			runs = atoi(v);
		else if (!strcmp(a, "--gen"))
			gen = v;
		else if (!strcmp(a, "--replay"))
			replay = v;
		else {
			fprintf(stderr, "bench-replay: bad option '%s'\n", a);
			return 2;
		}
	}
	if (!frames || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "bench-replay: --frames must be > 0, --runs 1..%d\n", MAX_RUNS);
		return 2;
	}

	tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/bench-replay.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("bench-replay: mkdtemp");
		return 1;
	}
	snprintf(trace, sizeof(trace), "%s/session.trace", dir);
	snprintf(fbuf, sizeof(fbuf), "%lu", frames);
	bench_meta("frames", fbuf);
	{
		char *gargv[] = { (char *)gen, "--frames", fbuf, "-o", trace, NULL };

		rc = run(gargv, err, sizeof(err), &ns);
	}
	if (rc || stat(trace, &sb)) {
		fail("gen-trace failed: %s", err);
		status = 1;
		goto out;
	}
	bench_value("replay", "trace_bytes", (double)sb.st_size, "bytes");
	bench_value("replay", "generate", (double)ns / 1e9, "s");

	if (!variant("listing", replay, "-o", trace, runs, &nreq) ||
	    !variant("quiet", replay, "-q", trace, runs, &nreq)) {
		status = 1;
		goto out;
	}
	bench_value("replay", "requests", (double)nreq, "requests");
	for (int r = 0; r < runs; r++) {
		floor_ns[r] = read_floor(trace, &lines, &bytes);
		if (!floor_ns[r]) {
			fail("cannot read %s", trace);
			status = 1;
			goto out;
		}
	}
	bench_value("replay", "trace_lines", (double)lines, "lines");
	bench_value("replay", "read_floor", bench_rate((double)nreq, median_u64(floor_ns, runs)),
		    "requests/s");
out:
	unlink(trace);
	if (rmdir(dir))
		perror("bench-replay: rmdir");
	rc = bench_finish();
	return status ? status : rc;
}
