/* SPDX-License-Identifier: MIT */
/*
 * gpuvm-replay: read a gpuvm trace (shared trace-format, v1), print the
 * canonical listing of the ops libgpuvm produces for it.
 */
#define _POSIX_C_SOURCE 200809L

#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUT_BUF (1u << 20)
#define IN_BUF (1u << 20)

enum {
	EXIT_INPUT = 1, /* the trace could not be read, or the listing written */
	EXIT_USAGE = 2,
	/* 3: the library broke its contract (replay_die) */
};

static void usage(FILE *f)
{
	fputs("usage: gpuvm-replay [OPTION]... [TRACE]\n"
	      "Replay a gpuvm trace through libgpuvm and print the canonical listing of\n"
	      "the operations (trace format v1). Reads TRACE, or stdin if it is absent or -.\n"
	      "\n"
	      "  -o FILE      write the listing to FILE instead of stdout\n"
	      "  -q, --quiet  do not write the listing at all\n"
	      "  --stats      print a summary to stderr after the listing\n"
	      "  --svg FILE   draw the final VA map of every VM into FILE (SVG)\n"
	      "  --verify     run gpuvm_verify() after every change (slow)\n"
	      "  -h, --help   show this and exit\n"
	      "\n"
	      "Refused requests are part of the listing (error lines) and do not change the\n"
	      "exit status. Exit status: 0 replayed; 1 the trace could not be read or the\n"
	      "listing not written; 2 bad usage; 3 libgpuvm broke its documented contract.\n",
	      f);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Feed @fd to the replay line by line. Returns 0 or a negative errno. */
static int replay_fd(struct replay *rp, int fd)
{
	size_t cap = IN_BUF, len = 0, scanned = 0;
	char *buf = malloc(cap);
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		char *p, *nl, *end;
		ssize_t n;

		if (len == cap) {
			char *b = realloc(buf, cap * 2);

			if (!b) {
				rc = -ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0) {
			if (len)
				rc = replay_line(rp, buf, len);
			break;
		}
		len += (size_t)n;
		p = buf;
		end = buf + len;
		/* a long line is scanned once, not once per read */
		while ((nl = memchr(p + scanned, '\n', (size_t)(end - p) - scanned))) {
			rc = replay_line(rp, p, (size_t)(nl - p));
			if (rc)
				goto out;
			p = nl + 1;
			scanned = 0;
		}
		scanned = (size_t)(end - p);
		len = (size_t)(end - p);
		memmove(buf, p, len);
	}
out:
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	const char *in_path = NULL, *out_path = NULL, *svg_path = NULL;
	bool quiet = false, stats = false, verify = false, end_opts = false;
	FILE *of = stdout;
	struct replay rp;
	struct out out;
	double t0;
	int fd = 0, rc, status = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!end_opts && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--")) {
				end_opts = true;
			} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
				usage(stdout);
				return 0;
			} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
				quiet = true;
			} else if (!strcmp(a, "--stats")) {
				stats = true;
			} else if (!strcmp(a, "--verify")) {
				verify = true;
			} else if ((!strcmp(a, "-o") || !strcmp(a, "--svg")) && i + 1 < argc) {
				if (a[1] == 'o')
					out_path = argv[++i];
				else
					svg_path = argv[++i];
			} else {
				fprintf(stderr, "gpuvm-replay: bad option '%s'\n", a);
				usage(stderr);
				return EXIT_USAGE;
			}
		} else if (!in_path) {
			in_path = a;
		} else {
			fprintf(stderr, "gpuvm-replay: more than one trace given\n");
			usage(stderr);
			return EXIT_USAGE;
		}
	}

	if (in_path && strcmp(in_path, "-")) {
		fd = open(in_path, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "gpuvm-replay: %s: %s\n", in_path, strerror(errno));
			return EXIT_INPUT;
		}
	}
	if (quiet) {
		of = NULL;
	} else if (out_path && strcmp(out_path, "-")) {
		of = fopen(out_path, "w");
		if (!of) {
			fprintf(stderr, "gpuvm-replay: %s: %s\n", out_path, strerror(errno));
			if (fd)
				close(fd);
			return EXIT_INPUT;
		}
	}
	if (out_init(&out, of, OUT_BUF)) {
		fprintf(stderr, "gpuvm-replay: out of memory\n");
		return EXIT_INPUT;
	}
	replay_init(&rp, &out);
	rp.verify = verify;

	t0 = now();
	rc = replay_fd(&rp, fd);
	rp.st.seconds = now() - t0;
	if (rc) {
		fprintf(stderr, "gpuvm-replay: %s: %s\n", in_path ? in_path : "stdin",
			strerror(-rc));
		status = EXIT_INPUT;
	}
	if (fd)
		close(fd);

	out_flush(&out);
	if (of && fflush(of) != 0)
		out.failed = true;
	if (out.failed) {
		fprintf(stderr, "gpuvm-replay: cannot write the listing: %s\n", strerror(errno));
		status = EXIT_INPUT;
	}
	if (stats)
		stats_print(stderr, &rp);
	if (svg_path) {
		int src = svg_write(svg_path, &rp);

		if (src) {
			fprintf(stderr, "gpuvm-replay: %s: %s\n", svg_path, strerror(-src));
			status = EXIT_INPUT;
		}
	}
	replay_fini(&rp);
	out_fini(&out);
	if (of && of != stdout && fclose(of) != 0 && !status) {
		fprintf(stderr, "gpuvm-replay: %s: %s\n", out_path, strerror(errno));
		status = EXIT_INPUT;
	}
	return status;
}
