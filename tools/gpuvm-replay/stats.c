/* SPDX-License-Identifier: MIT */
/* The --stats summary: what the trace asked, what was refused, what it did. */
#include "replay.h"

/* Past this many VMs the per-VM lines are summed up in one. */
#define STATS_MAX_VM_LINES 32

void stats_print(FILE *f, const struct replay *rp)
{
	static const char *const op_names[4] = { "map", "remap", "unmap", "prefetch" };
	const struct stats *st = &rp->st;
	uint64_t nreq = 0, nops = 0, nchange;
	size_t total = 0, total_peak = 0;

	for (int k = 0; k < TRACE_KIND_COUNT; k++)
		nreq += st->req[k];
	for (int k = 0; k < 4; k++)
		nops += st->ops[k];

	fprintf(f, "gpuvm-replay: %llu requests", (unsigned long long)nreq);
	if (st->seconds > 0)
		fprintf(f, " in %.3f s (%.0f requests/s)", st->seconds, (double)nreq / st->seconds);
	fputc('\n', f);

	fprintf(f, "  requests   %llu:", (unsigned long long)nreq);
	for (int k = 0; k < TRACE_KIND_COUNT; k++) {
		fprintf(f, " %s %llu", trace_kind_name((enum trace_kind)k),
			(unsigned long long)st->req[k]);
		if (k == TRACE_MAP)
			fprintf(f, " (sparse %llu)", (unsigned long long)st->sparse_maps);
	}
	fputc('\n', f);

	fprintf(f, "  errors     %llu:", (unsigned long long)st->errors);
	for (int e = 0; e < STATS_MAX_ERRNO; e++)
		if (st->err_by[e])
			fprintf(f, " %s %llu",
				e == STATS_MAX_ERRNO - 1 ? "other" : gpuvm_err_name(-e),
				(unsigned long long)st->err_by[e]);
	fputc('\n', f);

	fprintf(f, "  ops        %llu:", (unsigned long long)nops);
	for (int k = 0; k < 4; k++)
		fprintf(f, " %s %llu", op_names[k], (unsigned long long)st->ops[k]);
	fputc('\n', f);

	nchange = st->ops[GPUVA_OP_UNMAP] + st->ops[GPUVA_OP_REMAP];
	if (nchange)
		fprintf(f, "  keep ratio %.4f (%llu of %llu unmap+remap ops keep=1)\n",
			(double)st->kept / (double)nchange, (unsigned long long)st->kept,
			(unsigned long long)nchange);
	else
		fprintf(f, "  keep ratio n/a (no unmap or remap op)\n");

	fprintf(f, "  bos        %zu\n", rp->nbo);
	fprintf(f, "  vms        %zu\n", rp->nvm);
	for (size_t i = 0; i < rp->nvm; i++) {
		const struct rp_vm *v = rp->vms[i];
		GPUVM_OPTS(gpuvm_stats, s);

		total += v->mappings;
		total_peak += v->peak;
		if (i >= STATS_MAX_VM_LINES)
			continue;
		fprintf(f, "  vm %-10s mappings %zu, peak %zu", v->name, v->mappings, v->peak);
		if (gpuvm_stats(&v->vm, &s) == 0)
			fprintf(f, "; index: %zu nodes, %zu bytes, height %u, %zu cached",
				s.index_nodes, s.index_bytes, s.height, s.cached_nodes);
		fputc('\n', f);
	}
	if (rp->nvm > STATS_MAX_VM_LINES)
		fprintf(f, "  ... %zu more vms; all vms: mappings %zu, sum of peaks %zu\n",
			rp->nvm - STATS_MAX_VM_LINES, total, total_peak);
}
