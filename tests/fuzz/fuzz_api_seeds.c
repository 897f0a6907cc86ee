// SPDX-License-Identifier: MIT
/*
 * Writes the seed corpus of fuzz_api: a handful of programs in its opcode
 * language (fuzz_api.h), each a legal scenario the fuzzer can mutate from.
 * Built and run by the build, into the build tree:
 *
 *	fuzz_api_seeds DIR
 *
 * Writing them from here rather than keeping binary files in the tree keeps
 * them readable and valid when the language changes.
 */
#include "fuzz_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prog {
	uint8_t b[1024];
	size_t n;
};

static void put(struct prog *p, uint8_t v)
{
	if (p->n == sizeof(p->b)) {
		fputs("fuzz_api_seeds: program too long\n", stderr);
		exit(1);
	}
	p->b[p->n++] = v;
}

/* One op with exactly fz_op_args[op] arguments. */
static void op_n(struct prog *p, enum fz_op o, const int *args, size_t nargs)
{
	if (nargs != fz_op_args[o]) {
		fprintf(stderr, "fuzz_api_seeds: op %d takes %d arguments, not %zu\n", (int)o,
			fz_op_args[o], nargs);
		exit(1);
	}
	put(p, (uint8_t)o);
	for (size_t i = 0; i < nargs; i++)
		put(p, (uint8_t)args[i]);
}

#define op(p, o, ...)                                                          \
	op_n(p, o, (const int[]){ __VA_ARGS__ },                               \
	     sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

static void header(struct prog *p, unsigned int resv_cfg)
{
	p->n = 0;
	put(p, resv_cfg & 0xff);
	put(p, resv_cfg >> 8);
}

/* gem g gets reservation k (0 none, 1 A, 2 B, 3 its own) */
#define RESV(g, k) ((unsigned int)(k) << (2 * (g)))
#define ROBJ(g) ((unsigned int)(g) << FZ_CFG_ROBJ_SHIFT)
#define NO_ROBJ ROBJ(7)

static int write_prog(const char *dir, const char *name, const struct prog *p)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p->b, 1, p->n, f) != p->n || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct prog p;
	int rc = 0;

	if (argc != 2) {
		fputs("usage: fuzz_api_seeds DIR\n", stderr);
		return 2;
	}

	/* one plain VM: direct inserts and links, list and callback requests */
	header(&p, 0);
	op(&p, FZ_VM_NEW, 0, NO_ROBJ | FZ_CFG_VALIDATE, 0, 0);
	op(&p, FZ_OBTAIN, 0, 0, 0);
	op(&p, FZ_INSERT, 0, 0, 10, 4, 0, 0);
	op(&p, FZ_LINK, 0, 0, 0);
	op(&p, FZ_MAP, 0, 12, 8, 0, 2, 0);
	op(&p, FZ_MAP, 0, 14, 2, 1, 0, 1);
	op(&p, FZ_MAP, 0, 20, 4, 6, 0, 0);
	op(&p, FZ_PREFETCH, 0, 8, 20);
	op(&p, FZ_FIND, 0, 13, 3);
	op(&p, FZ_UNMAP, 0, 15, 3, 0);
	op(&p, FZ_UNMAP, 0, 11, 2, 1);
	op(&p, FZ_BO_UNMAP, 0, 0);
	op(&p, FZ_EVICT, 0, 1, 1);
	op(&p, FZ_VALIDATE, 0, 1);
	op(&p, FZ_BO_PUT, 0, 0, 0);
	op(&p, FZ_UNMAP, 0, 2, 0x3e, 0);
	op(&p, FZ_VM_PUT, 0, 1);
	rc |= write_prog(argv[1], "plain", &p);

	/* immediate mode: deferred unlinks, a signalling section, cleanup */
	header(&p, RESV(0, 3) | RESV(1, 3));
	op(&p, FZ_VM_NEW, 1, NO_ROBJ | FZ_CFG_IMMEDIATE | FZ_CFG_CUSTOM, 0, 0);
	op(&p, FZ_OBTAIN, 1, 0, 2);
	op(&p, FZ_MAP, 1, 4, 16, 0, 0, 1);
	op(&p, FZ_MAP, 1, 8, 4, 0, 4, 1);
	op(&p, FZ_MAP, 1, 30, 4, 6, 0, 0);
	op(&p, FZ_SIGNAL, 0);
	op(&p, FZ_UNMAP, 1, 6, 4, 1);
	op(&p, FZ_UNLINK, 1, 0, 1);
	op(&p, FZ_BO_PUT, 1, 0, 1);
	op(&p, FZ_SIGNAL, 0);
	op(&p, FZ_CLEANUP, 1);
	op(&p, FZ_GPUVA_LOCK, 1, 0);
	op(&p, FZ_OBTAIN, 1, 1, 3);
	op(&p, FZ_GPUVA_LOCK, 1, 1);
	op(&p, FZ_OBTAIN, 1, 1, 2);
	op(&p, FZ_BO_PUT, 1, 1, 1);
	op(&p, FZ_UNMAP, 1, 2, 0x3e, 1);
	op(&p, FZ_CLEANUP, 1);
	op(&p, FZ_VM_PUT, 1, 0);
	rc |= write_prog(argv[1], "immediate", &p);

	/*
	 * RESV_PROTECTED VM whose r_obj is gem 0 (reservation A), gems 1 and
	 * 2 external with their own: extobj, evict, exec, validate.
	 */
	header(&p, RESV(0, 1) | RESV(1, 3) | RESV(2, 3) | RESV(5, 1));
	op(&p, FZ_VM_NEW, 0, ROBJ(0) | FZ_CFG_PROTECTED | FZ_CFG_VALIDATE | FZ_CFG_VM_FREE, 4, 0);
	op(&p, FZ_OBTAIN, 0, 1, 0);
	op(&p, FZ_OBTAIN, 0, 2, 0);
	op(&p, FZ_OBTAIN, 0, 5, 0);
	op(&p, FZ_MAP, 0, 10, 4, 1, 0, 0);
	op(&p, FZ_MAP, 0, 16, 2, 5, 0, 0);
	op(&p, FZ_EXTOBJ, 0, 1);
	op(&p, FZ_RESV, 0, 0);
	op(&p, FZ_EXTOBJ, 0, 1);
	op(&p, FZ_EXTOBJ, 0, 2);
	op(&p, FZ_RESV, 0, 2);
	op(&p, FZ_RESV, 3, 0);
	op(&p, FZ_EVICT, 0, 1, 1);
	op(&p, FZ_GEM_EVICT, 5, 1);
	op(&p, FZ_RESV, 3, 2);
	op(&p, FZ_EXEC, 0, 0, 0, 0, 0, 0, 0);
	op(&p, FZ_VALIDATE, 0, 1);
	op(&p, FZ_EXEC_END, 0, 1);
	op(&p, FZ_EXEC, 0, 1 | 8, 0x26, 0, 0, 0, 2);
	op(&p, FZ_EXEC_END, 0, 0);
	op(&p, FZ_EXEC, 0, 2, 11, 10, 0, 0, 0);
	op(&p, FZ_EXEC_END, 0, 0);
	op(&p, FZ_EXEC, 0, 3, 12, 4, 2, 0, 0);
	op(&p, FZ_EXEC_END, 0, 0);
	op(&p, FZ_BO_PUT, 0, 2, 0);
	op(&p, FZ_UNMAP, 0, 2, 0x3e, 0);
	op(&p, FZ_VM_PUT, 0, 1);
	rc |= write_prog(argv[1], "protected-exec", &p);

	/* two VMs sharing objects: gem_evict across VMs, one immediate */
	header(&p, RESV(3, 2) | RESV(4, 2));
	op(&p, FZ_VM_NEW, 0, NO_ROBJ | FZ_CFG_VALIDATE, 0, 0);
	op(&p, FZ_VM_NEW, 1, ROBJ(3) | FZ_CFG_IMMEDIATE | FZ_CFG_VM_FREE, 0, 0);
	op(&p, FZ_MAP, 0, 4, 2, 0, 0, 0);
	op(&p, FZ_MAP, 1, 4, 2, 0, 0, 1);
	op(&p, FZ_MAP, 1, 7, 1, 4, 0xfe, 0);
	op(&p, FZ_GEM_EVICT, 0, 1);
	op(&p, FZ_VALIDATE, 0, 0x11);
	op(&p, FZ_VALIDATE, 0, 0x01);
	op(&p, FZ_LINK, 0, 0, 3);
	op(&p, FZ_VM_PUT, 1, 0);
	op(&p, FZ_UNMAP, 1, 2, 0x3e, 0);
	op(&p, FZ_CLEANUP, 1);
	op(&p, FZ_VM_PUT, 1, 0);
	rc |= write_prog(argv[1], "two-vms", &p);

	/* allocation failures met by every allocating call */
	header(&p, RESV(0, 3));
	op(&p, FZ_VM_NEW, 0, NO_ROBJ, 0, 0);
	op(&p, FZ_FAIL, 0, 0);
	op(&p, FZ_INSERT, 0, 1, 10, 4, 0, 0);
	op(&p, FZ_FAIL, 0, 1);
	op(&p, FZ_MAP, 0, 10, 8, 0, 0, 0);
	op(&p, FZ_FAIL, 0, 2);
	op(&p, FZ_MAP, 0, 12, 2, 1, 0, 1);
	op(&p, FZ_FAIL, 0, 0);
	op(&p, FZ_OBTAIN, 0, 2, 1);
	op(&p, FZ_FAIL, 0, 0);
	op(&p, FZ_INDEX, 0, 0, 5);
	op(&p, FZ_FAIL, 0, 0);
	op(&p, FZ_EXEC, 0, 1, 0x3f, 0, 0, 0, 0);
	op(&p, FZ_EXEC_END, 0, 0);
	op(&p, FZ_FAIL, 0, 0);
	op(&p, FZ_UNMAP, 0, 11, 4, 1);
	op(&p, FZ_INDEX, 0, 2, 0);
	rc |= write_prog(argv[1], "nomem", &p);

	/* invalid arguments and misuse, and bad VM options */
	header(&p, RESV(1, 1));
	op(&p, FZ_VM_NEW, 2, NO_ROBJ | FZ_CFG_PROTECTED, 0, 0);
	for (int bad = 9; bad < 16; bad++)
		op(&p, FZ_VM_NEW, 2, NO_ROBJ, 1, bad);
	op(&p, FZ_VM_NEW, 2, NO_ROBJ, 1, 8);
	for (int k = 0; k < 24; k++)
		op(&p, FZ_INVALID, 2, k);
	op(&p, FZ_INSERT, 2, 0, 0xff, 1, 0, 0);
	op(&p, FZ_INSERT, 2, 1, 3, 5, 1, 0xfd);
	op(&p, FZ_INSERT, 2, 2, 3, 5, 6, 0);
	op(&p, FZ_INSERT, 2, 2, 3, 5, 6, 0);
	op(&p, FZ_INSERT, 2, 3, 4, 5, 6, 0);
	op(&p, FZ_REMOVE, 2, 7);
	op(&p, FZ_UNLINK, 2, 2, 0);
	op(&p, FZ_RESV, 0, 2);
	op(&p, FZ_RESV, 0, 0);
	op(&p, FZ_RESV, 0, 1);
	op(&p, FZ_GPUVA_LOCK, 0, 1);
	op(&p, FZ_EXEC, 2, 0x80, 0, 0, 0, 0, 0);
	op(&p, FZ_EXEC, 2, 2, 0xff, 0xff, 0, 0, 0);
	op(&p, FZ_EXEC, 2, 1, 0, 1, 0, 0, 0);
	op(&p, FZ_FIND, 2, 0xff, 0xff);
	op(&p, FZ_FIND, 2, 0xfe, 0xfd);
	rc |= write_prog(argv[1], "invalid", &p);

	/* the top of the 64-bit space, byte granularity, an empty VA space */
	header(&p, 0);
	op(&p, FZ_VM_NEW, 0, NO_ROBJ, 2, 0);
	op(&p, FZ_VM_NEW, 1, NO_ROBJ | FZ_CFG_IMMEDIATE, 1, 0);
	op(&p, FZ_VM_NEW, 2, NO_ROBJ, 3, 0);
	op(&p, FZ_MAP, 0, 2, 0xfe, 6, 0, 0);
	op(&p, FZ_MAP, 0, 0xf0, 8, 4, 0xfe, 1);
	op(&p, FZ_MAP, 1, 2, 200, 6, 0, 1);
	op(&p, FZ_MAP, 1, 40, 3, 2, 7, 2);
	op(&p, FZ_MAP, 2, 2, 1, 6, 0, 0);
	op(&p, FZ_FIND, 0, 0xfd, 0xff);
	op(&p, FZ_UNMAP, 0, 0xfc, 0xfe, 0);
	op(&p, FZ_UNMAP, 1, 30, 20, 1 | 4);
	rc |= write_prog(argv[1], "edges", &p);
	return rc;
}
