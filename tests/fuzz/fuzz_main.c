// SPDX-License-Identifier: MIT
/*
 * Standalone driver of a fuzz target: runs LLVMFuzzerTestOneInput() once on
 * each input, so the seed corpus and the saved regressions run as ordinary
 * ctests in every build (gcc, TSan) without libFuzzer.
 *
 *	fuzz_trace-run [--min N] PATH...
 *
 * A PATH that is a directory stands for its files in name order; names
 * starting with '.' and ending in ".md" are skipped (README files). Each
 * input's name is printed before it runs, so the last name printed is the
 * culprit when a check aborts. Exits 1 when fewer than N inputs ran (a
 * missing or emptied corpus must not pass unnoticed).
 */
#define _POSIX_C_SOURCE 200809L

#include "fuzz.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static unsigned long ran;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "fuzz-run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				fprintf(stderr, "fuzz-run: %s: out of memory\n", path);
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "fuzz-run: %s: read error\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	printf("run %s (%zu bytes)\n", path, len);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	ran++;
	return 0;
}

static bool skip_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' || (n >= 3 && strcmp(name + n - 3, ".md") == 0);
}

static int run_path(const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st)) {
		fprintf(stderr, "fuzz-run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "fuzz-run: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (!rc && !skip_name(ents[i]->d_name)) {
			size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
			char *p = malloc(len);

			if (!p) {
				rc = -1;
			} else {
				snprintf(p, len, "%s/%s", path, ents[i]->d_name);
				if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
					rc = run_file(p);
				free(p);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned long min = 0;
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "--min") == 0) {
		char *end;

		min = strtoul(argv[i + 1], &end, 10);
		if (*end) {
			fprintf(stderr, "fuzz-run: bad --min '%s'\n", argv[i + 1]);
			return 2;
		}
		i += 2;
	}
	if (i == argc) {
		fprintf(stderr, "usage: %s [--min N] FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (; i < argc; i++)
		if (run_path(argv[i]))
			return 1;
	printf("%lu input%s ran\n", ran, ran == 1 ? "" : "s");
	if (ran < min) {
		fprintf(stderr, "fuzz-run: only %lu inputs, expected at least %lu\n", ran, min);
		return 1;
	}
	return 0;
}
