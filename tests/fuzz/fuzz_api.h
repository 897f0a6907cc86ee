/* SPDX-License-Identifier: MIT */
/*
 * The opcode language of fuzz_api (the full description is at the top of
 * fuzz_api.c and in docs/fuzzing.md), shared with the seed writer.
 *
 * An input is two header bytes, then ops: one opcode byte (taken modulo
 * FZ_OP_COUNT) followed by fz_op_args[op] argument bytes. Argument bytes
 * past the end of the input read as 0, so every prefix of an input is a
 * program.
 */
#ifndef GPUVM_FUZZ_API_H
#define GPUVM_FUZZ_API_H

#include <stdint.h>

enum fz_op {
	FZ_VM_NEW,     /* slot cfg geo bad */
	FZ_VM_PUT,     /* slot mode */
	FZ_INSERT,     /* slot va a r gem off */
	FZ_REMOVE,     /* slot va */
	FZ_LINK,       /* slot va which */
	FZ_UNLINK,     /* slot va mode */
	FZ_OBTAIN,     /* slot gem mode */
	FZ_BO_PUT,     /* slot gem mode */
	FZ_MAP,        /* slot a r gem off mode */
	FZ_UNMAP,      /* slot a r mode */
	FZ_PREFETCH,   /* slot a r */
	FZ_BO_UNMAP,   /* slot gem */
	FZ_CLEANUP,    /* slot */
	FZ_EXTOBJ,     /* slot gem */
	FZ_EVICT,      /* slot gem evicted */
	FZ_GEM_EVICT,  /* gem evicted */
	FZ_VALIDATE,   /* slot mode */
	FZ_RESV,       /* resv action */
	FZ_GPUVA_LOCK, /* gem action */
	FZ_EXEC,       /* slot kind a r gem off extra */
	FZ_EXEC_END,   /* slot mode */
	FZ_FAIL,       /* slot n */
	FZ_SIGNAL,     /* mode */
	FZ_INDEX,      /* slot mode n */
	FZ_FIND,       /* slot a r */
	FZ_INVALID,    /* slot kind */
	FZ_FILL,       /* slot a n */
	FZ_OP_COUNT,
};

static const uint8_t fz_op_args[FZ_OP_COUNT] __attribute__((unused)) = {
	[FZ_VM_NEW] = 4,  [FZ_VM_PUT] = 2,   [FZ_INSERT] = 6,   [FZ_REMOVE] = 2,
	[FZ_LINK] = 3,	  [FZ_UNLINK] = 3,   [FZ_OBTAIN] = 3,   [FZ_BO_PUT] = 3,
	[FZ_MAP] = 6,	  [FZ_UNMAP] = 4,    [FZ_PREFETCH] = 3, [FZ_BO_UNMAP] = 2,
	[FZ_CLEANUP] = 1, [FZ_EXTOBJ] = 2,   [FZ_EVICT] = 3,    [FZ_GEM_EVICT] = 2,
	[FZ_VALIDATE] = 2, [FZ_RESV] = 2,    [FZ_GPUVA_LOCK] = 2, [FZ_EXEC] = 7,
	[FZ_EXEC_END] = 2, [FZ_FAIL] = 2,    [FZ_SIGNAL] = 1,   [FZ_INDEX] = 3,
	[FZ_FIND] = 3,	  [FZ_INVALID] = 2,  [FZ_FILL] = 3,
};

/* VM_NEW cfg bits */
#define FZ_CFG_IMMEDIATE 0x01u
#define FZ_CFG_PROTECTED 0x02u
#define FZ_CFG_CUSTOM 0x04u   /* vm_bo_alloc/free and op_alloc/free callbacks */
#define FZ_CFG_VM_FREE 0x08u  /* a vm_free callback that frees the VM */
#define FZ_CFG_ROBJ_SHIFT 4   /* bits 4-6: r_obj gem 0-5, 6 and 7: none */
#define FZ_CFG_VALIDATE 0x80u /* a vm_bo_validate callback */

/* Special argument bytes of addresses, ranges and offsets (see fuzz_api.c). */
#define FZ_SPECIAL 0xfcu

#define FZ_NVM 3
#define FZ_NGEM 6
#define FZ_NRESV (2 + FZ_NGEM)
#define FZ_MAXVA 96

#endif /* GPUVM_FUZZ_API_H */
