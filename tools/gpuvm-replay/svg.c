/* SPDX-License-Identifier: MIT */
/*
 * --svg: the final VA map of every VM, one band per VM.
 *
 * A VA space is 2^47 bytes or more and a sparse image maps 4 KiB pages all
 * over it, so a linear axis shows nothing. Each band's axis is condensed
 * instead: unmapped gaps much larger than what is mapped are cut down to a
 * fixed-width break, the runs of mappings between breaks stay linear inside
 * and get a width that grows with the square root of their span, and every
 * mapping is at least one pixel wide. The caption says so.
 */
#include "replay.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SVG_MARGIN 60.0
#define SVG_AXIS_W 1100.0
#define SVG_AXIS_MAX 30000.0
#define SVG_BAND_H 92.0
#define SVG_BAR_H 30.0
#define SVG_HEADER_H 78.0
#define SVG_CHAR_W 6.2
#define SVG_LEGEND_MAX 256
#define SVG_LEGEND_ROW 18.0

struct seg {
	uint64_t a, e; /* [a, e) */
	double x, w;
	bool brk;
};

struct axis {
	struct seg *s;
	size_t n;
	size_t nbrk;
	double x0, width;
	uint64_t cut; /* gaps above this are breaks */
};

struct span {
	uint64_t a, e;
};

static int cmp_span(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;

	return a->a < b->a ? -1 : a->a > b->a;
}

static int push_seg(struct axis *ax, size_t *cap, uint64_t a, uint64_t e, bool brk)
{
	if (ax->n == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		struct seg *s = realloc(ax->s, n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		ax->s = s;
		*cap = n;
	}
	ax->s[ax->n++] = (struct seg){ .a = a, .e = e, .brk = brk };
	ax->nbrk += brk;
	return 0;
}

static bool reserved_span(const struct rp_vm *v, struct span *out)
{
	uint64_t vs = v->start, ve = v->start + v->range;
	uint64_t ra = v->raddr, re = v->raddr + v->rrange;

	if (!v->rrange)
		return false;
	out->a = ra > vs ? ra : vs;
	out->e = re < ve ? re : ve;
	return out->a < out->e;
}

static int build_axis(const struct rp_vm *v, struct axis *ax)
{
	uint64_t vs = v->start, ve = v->start + v->range, mapped = 0, cur;
	size_t n = 0, cap = 0, nlin;
	double gap_px = 14.0, min_px = 2.0, need, free_px, sum = 0.0, x;
	struct span *sp, rs;
	const struct gpuva *va;

	memset(ax, 0, sizeof(*ax));
	ax->x0 = SVG_MARGIN;
	ax->width = SVG_AXIS_W;
	if (!v->range)
		return 0;

	sp = malloc((v->mappings + 1) * sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	gpuvm_for_each_va(va, &v->vm) {
		if (n == v->mappings)
			break; /* the replay checks the count; never overrun */
		sp[n].a = va->va.addr;
		sp[n].e = gpuva_end(va);
		mapped += va->va.range;
		n++;
	}
	if (reserved_span(v, &rs))
		sp[n++] = rs;
	qsort(sp, n, sizeof(*sp), cmp_span);

	ax->cut = mapped ? (mapped / 32 ? mapped / 32 : 1) : UINT64_MAX;
	cur = vs;
	for (size_t i = 0; i < n;) {
		uint64_t a = sp[i].a, e = sp[i].e;

		for (i++; i < n && (sp[i].a <= e || sp[i].a - e <= ax->cut); i++)
			if (sp[i].e > e)
				e = sp[i].e;
		if (a > cur && push_seg(ax, &cap, cur, a, a - cur > ax->cut))
			goto oom;
		if (push_seg(ax, &cap, a, e, false))
			goto oom;
		cur = e;
	}
	if (ve > cur && push_seg(ax, &cap, cur, ve, ve - cur > ax->cut))
		goto oom;
	free(sp);

	nlin = ax->n - ax->nbrk;
	need = (double)ax->nbrk * gap_px + (double)nlin * min_px;
	if (need > ax->width / 2)
		ax->width = fmin(2 * need, SVG_AXIS_MAX);
	if (need > ax->width * 0.9) {
		double s = ax->width * 0.9 / need;

		gap_px *= s;
		min_px *= s;
	}
	free_px = ax->width - (double)ax->nbrk * gap_px - (double)nlin * min_px;
	for (size_t i = 0; i < ax->n; i++)
		if (!ax->s[i].brk)
			sum += sqrt((double)(ax->s[i].e - ax->s[i].a));
	x = ax->x0;
	for (size_t i = 0; i < ax->n; i++) {
		struct seg *s = &ax->s[i];

		s->x = x;
		if (s->brk)
			s->w = gap_px;
		else
			s->w = min_px + (sum > 0 ? free_px * sqrt((double)(s->e - s->a)) / sum : 0);
		x += s->w;
	}
	return 0;
oom:
	free(sp);
	free(ax->s);
	ax->s = NULL;
	return -ENOMEM;
}

static double axis_pos(const struct axis *ax, uint64_t addr)
{
	size_t lo = 0, hi = ax->n;
	const struct seg *s;

	if (!ax->n)
		return ax->x0;
	/* the last segment that starts at or below addr */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ax->s[mid].a <= addr)
			lo = mid;
		else
			hi = mid;
	}
	s = &ax->s[lo];
	if (addr <= s->a)
		return s->x;
	if (addr >= s->e)
		return s->x + s->w;
	return s->x + (double)(addr - s->a) / (double)(s->e - s->a) * s->w;
}

/* Names are [A-Za-z0-9_.-]+ but escape anyway: the file must stay XML. */
static void put_text(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
				fputc(s[i], f);
			else
				fputc('?', f);
		}
	}
}

/* A colour per BO from its name's hash, so a BO keeps it from run to run. */
static void bo_colour(uint32_t h, bool alt, char out[8])
{
	double hue = (double)(h % 360), sat = 0.50 + (double)((h >> 9) % 30) / 100.0;
	double light = 0.40 + (double)((h >> 17) % 22) / 100.0 - (alt ? 0.16 : 0.0);
	double c = (1.0 - fabs(2.0 * light - 1.0)) * sat;
	double hp = hue / 60.0, xx = c * (1.0 - fabs(fmod(hp, 2.0) - 1.0));
	double r = 0, g = 0, b = 0, m = light - c / 2;

	if (hp < 1) {
		r = c;
		g = xx;
	} else if (hp < 2) {
		r = xx;
		g = c;
	} else if (hp < 3) {
		g = c;
		b = xx;
	} else if (hp < 4) {
		g = xx;
		b = c;
	} else if (hp < 5) {
		r = xx;
		b = c;
	} else {
		r = c;
		b = xx;
	}
	snprintf(out, 8, "#%02x%02x%02x", (unsigned int)lround((r + m) * 255),
		 (unsigned int)lround((g + m) * 255), (unsigned int)lround((b + m) * 255));
}

static int hexlen(uint64_t v)
{
	int n = 3;

	while (v >>= 4)
		n++;
	return n;
}

static void tick(FILE *f, double x, double y, uint64_t addr, double *last_end, double right,
		 const char *anchor_hint)
{
	double w = hexlen(addr) * SVG_CHAR_W, left;
	const char *anchor = "middle";

	fprintf(f, "<line class=\"tick\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>\n", x, y,
		x, y + 5);
	left = x - w / 2;
	if (anchor_hint) {
		anchor = anchor_hint;
		left = anchor_hint[0] == 's' ? x : x - w;
	}
	if (left < *last_end + 8 || left + w > right + SVG_MARGIN)
		return;
	fprintf(f, "<text class=\"lbl\" x=\"%.2f\" y=\"%.1f\" text-anchor=\"%s\">0x%llx</text>\n",
		x, y + 16, anchor, (unsigned long long)addr);
	*last_end = left + w;
}

static void draw_ticks(FILE *f, const struct axis *ax, double y)
{
	double last_end = -1e9, right = ax->x0 + ax->width;

	for (size_t i = 0; i < ax->n; i++) {
		const struct seg *s = &ax->s[i];

		tick(f, s->x, y, s->a, &last_end, right, i == 0 ? "start" : NULL);
		/* round addresses inside wide linear stretches */
		if (!s->brk && s->w > 150) {
			double per_px = (double)(s->e - s->a) / s->w;
			uint64_t step = 1, t;

			while ((double)step < per_px * 130 && step < (UINT64_C(1) << 62))
				step <<= 1;
			t = (s->a / step + 1) * step;
			for (; t > s->a && t < s->e; t += step) {
				double tx = axis_pos(ax, t);

				if (tx - s->x < 60 || s->x + s->w - tx < 60)
					continue;
				tick(f, tx, y, t, &last_end, right, NULL);
			}
		}
	}
	if (ax->n)
		tick(f, ax->s[ax->n - 1].x + ax->s[ax->n - 1].w, y, ax->s[ax->n - 1].e, &last_end,
		     right, "end");
}

static void draw_vm(FILE *f, const struct rp_vm *v, const struct axis *ax, double y0)
{
	double bar = y0 + 22, x1 = ax->x0 + ax->width;
	const struct gpuvm_gem *prev_obj = NULL;
	const struct gpuva *va;
	uint64_t prev_end = 0;
	bool alt = false;
	struct span rs;
	char col[8];

	fprintf(f, "<g class=\"vm\">\n<text class=\"vmname\" x=\"%.1f\" y=\"%.1f\">vm ", ax->x0,
		y0 + 14);
	put_text(f, v->name, v->nlen);
	fprintf(f, " [0x%llx, +0x%llx): %zu mapping%s", (unsigned long long)v->start,
		(unsigned long long)v->range, v->mappings, v->mappings == 1 ? "" : "s");
	if (v->rrange)
		fprintf(f, ", reserved 0x%llx+0x%llx", (unsigned long long)v->raddr,
			(unsigned long long)v->rrange);
	if (ax->nbrk)
		fprintf(f, ", %zu gap%s cut (gaps over 0x%llx)", ax->nbrk, ax->nbrk == 1 ? "" : "s",
			(unsigned long long)ax->cut);
	fputs("</text>\n", f);

	if (!v->range) {
		fputs("</g>\n", f);
		return;
	}
	fprintf(f, "<rect class=\"space\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\"/>\n",
		ax->x0, bar, ax->width, SVG_BAR_H);
	for (size_t i = 0; i < ax->n; i++) {
		const struct seg *s = &ax->s[i];
		double mx = s->x + s->w / 2;

		if (!s->brk)
			continue;
		fprintf(f,
			"<rect class=\"brk\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\">"
			"<title>unmapped 0x%llx+0x%llx (cut)</title></rect>\n",
			s->x, bar - 3, s->w, SVG_BAR_H + 6, (unsigned long long)s->a,
			(unsigned long long)(s->e - s->a));
		fprintf(f, "<path class=\"brkmark\" d=\"M%.2f %.1fl-3 10M%.2f %.1fl-3 10\"/>\n", mx,
			bar + SVG_BAR_H / 2 - 5, mx + 3.5, bar + SVG_BAR_H / 2 - 5);
	}
	if (reserved_span(v, &rs)) {
		double a = axis_pos(ax, rs.a), e = axis_pos(ax, rs.e);

		fprintf(f,
			"<rect class=\"reserved\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
			"height=\"%.1f\">"
			"<title>reserved 0x%llx+0x%llx</title></rect>\n",
			a, bar, fmax(e - a, 1.0), SVG_BAR_H, (unsigned long long)v->raddr,
			(unsigned long long)v->rrange);
	}
	gpuvm_for_each_va(va, &v->vm) {
		const struct gpuvm_gem *obj = gpuva_gem(va);
		double a = axis_pos(ax, va->va.addr), e = axis_pos(ax, gpuva_end(va));
		double w = fmax(e - a, 1.0);

		/* a split leaves touching pieces of one BO: shade them apart */
		alt = obj && obj == prev_obj && va->va.addr == prev_end ? !alt : false;
		prev_obj = obj;
		prev_end = gpuva_end(va);
		if (obj) {
			const struct rp_bo *b = rp_bo_of(obj);

			bo_colour(b->hash, alt, col);
			fprintf(f,
				"<rect class=\"va%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
				"height=\"%.1f\" fill=\"%s\"><title>",
				w >= 4 ? " wide" : "", a, bar, w, SVG_BAR_H, col);
		} else {
			fprintf(f,
				"<rect class=\"va sparse\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
				"height=\"%.1f\" fill=\"url(#sparse)\"><title>",
				a, bar, w, SVG_BAR_H);
		}
		fprintf(f, "0x%llx+0x%llx:", (unsigned long long)va->va.addr,
			(unsigned long long)va->va.range);
		if (obj)
			put_text(f, rp_bo_of(obj)->name, rp_bo_of(obj)->nlen);
		else
			fputc('-', f);
		fprintf(f, "@0x%llx</title></rect>\n", (unsigned long long)va->gem.offset);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>\n",
		ax->x0, bar + SVG_BAR_H, x1, bar + SVG_BAR_H);
	draw_ticks(f, ax, bar + SVG_BAR_H);
	fputs("</g>\n", f);
}

static double legend_item_w(size_t nlen)
{
	return 24 + (double)nlen * SVG_CHAR_W + 18;
}

int svg_write(const char *path, const struct replay *rp)
{
	struct axis *axes = calloc(rp->nvm ? rp->nvm : 1, sizeof(*axes));
	bool *used = calloc(rp->nbo ? rp->nbo : 1, sizeof(*used));
	double width = SVG_AXIS_W, height, lx, ly;
	size_t nused = 0, shown = 0, rows = 1;
	int rc = 0;
	FILE *f;

	if (!axes || !used) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rp->nvm; i++) {
		const struct gpuva *va;

		rc = build_axis(rp->vms[i], &axes[i]);
		if (rc)
			goto out;
		if (axes[i].width > width)
			width = axes[i].width;
		gpuvm_for_each_va(va, &rp->vms[i]->vm)
			if (gpuva_gem(va))
				used[rp_bo_of(gpuva_gem(va))->idx] = true;
	}
	width += 2 * SVG_MARGIN;

	/* the legend: sparse and reserved swatches, then one item per BO */
	lx = SVG_MARGIN + legend_item_w(6) + legend_item_w(8);
	for (size_t i = 0; i < rp->nbo; i++) {
		if (!used[i])
			continue;
		nused++;
		if (shown == SVG_LEGEND_MAX)
			continue;
		shown++;
		if (lx + legend_item_w(rp->bos[i]->nlen) > width - SVG_MARGIN) {
			rows++;
			lx = SVG_MARGIN;
		}
		lx += legend_item_w(rp->bos[i]->nlen);
	}
	if (nused > shown)
		rows++;
	height = SVG_HEADER_H + (double)rp->nvm * SVG_BAND_H + 20 + (double)rows * SVG_LEGEND_ROW +
		 16;

	f = fopen(path, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"monospace\" "
		"font-size=\"11\">\n",
		width, height, width, height);
	fputs("<title>gpuvm-replay: final VA map</title>\n"
	      "<defs>\n"
	      "<pattern id=\"sparse\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
	      "patternTransform=\"rotate(45)\">"
	      "<rect width=\"6\" height=\"6\" fill=\"#e8e8e8\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#555\" stroke-width=\"2\"/>"
	      "</pattern>\n"
	      "<style>"
	      ".space{fill:#f6f6f6;stroke:#bbb;stroke-width:0.5}"
	      ".brk{fill:#fff}"
	      ".brkmark{stroke:#777;stroke-width:1.2;fill:none}"
	      ".reserved{fill:#777;fill-opacity:0.45}"
	      ".va{shape-rendering:crispEdges}"
	      ".wide{stroke:#fff;stroke-width:0.75}"
	      ".axis,.tick{stroke:#444;stroke-width:0.8}"
	      ".lbl{font-size:10px;fill:#333}"
	      ".vmname{font-weight:bold}"
	      ".caption{font-size:10px;fill:#555}"
	      "</style>\n"
	      "</defs>\n",
	      f);
	fprintf(f,
		"<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
		"fill=\"#fff\"/>\n",
		width, height);
	fprintf(f,
		"<text x=\"%.1f\" y=\"20\" font-size=\"14\" font-weight=\"bold\">"
		"gpuvm-replay: final VA map, %zu vm%s</text>\n",
		SVG_MARGIN, rp->nvm, rp->nvm == 1 ? "" : "s");
	fprintf(f,
		"<text class=\"caption\" x=\"%.1f\" y=\"36\">Condensed axes: an unmapped gap "
		"wider than 1/32 of its VM's mapped bytes is cut to a fixed-width break "
		"(//).</text>\n",
		SVG_MARGIN);
	fprintf(f,
		"<text class=\"caption\" x=\"%.1f\" y=\"49\">Between breaks the axis is "
		"linear; a run's width grows with the square root of its span. Every mapping is at "
		"least 1 px wide.</text>\n",
		SVG_MARGIN);
	fprintf(f,
		"<text class=\"caption\" x=\"%.1f\" y=\"62\">Hatched: sparse (no object). "
		"Grey: reserved region. Two shades: touching mappings of one BO. Hover a mapping "
		"for "
		"ADDR+RANGE:BO@OFFSET.</text>\n\n",
		SVG_MARGIN);

	for (size_t i = 0; i < rp->nvm; i++)
		draw_vm(f, rp->vms[i], &axes[i], SVG_HEADER_H + (double)i * SVG_BAND_H);

	ly = SVG_HEADER_H + (double)rp->nvm * SVG_BAND_H + 20;
	fprintf(f, "<g class=\"legend\">\n");
	lx = SVG_MARGIN;
	fprintf(f,
		"<rect class=\"key\" x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" "
		"fill=\"url(#sparse)\"/><text x=\"%.1f\" y=\"%.1f\">sparse</text>\n",
		lx, ly, lx + 20, ly + 10);
	lx += legend_item_w(6);
	fprintf(f,
		"<rect class=\"key reserved\" x=\"%.1f\" y=\"%.1f\" width=\"14\" "
		"height=\"12\"/><text x=\"%.1f\" y=\"%.1f\">reserved</text>\n",
		lx, ly, lx + 20, ly + 10);
	lx += legend_item_w(8);
	shown = 0;
	for (size_t i = 0; i < rp->nbo && shown < SVG_LEGEND_MAX; i++) {
		const struct rp_bo *b = rp->bos[i];
		char col[8];

		if (!used[i])
			continue;
		shown++;
		if (lx + legend_item_w(b->nlen) > width - SVG_MARGIN) {
			ly += SVG_LEGEND_ROW;
			lx = SVG_MARGIN;
		}
		bo_colour(b->hash, false, col);
		fprintf(f,
			"<rect class=\"key bo\" x=\"%.1f\" y=\"%.1f\" width=\"14\" "
			"height=\"12\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
			lx, ly, col, lx + 20, ly + 10);
		put_text(f, b->name, b->nlen);
		fputs("</text>\n", f);
		lx += legend_item_w(b->nlen);
	}
	if (nused > shown)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">... and %zu more bos</text>\n", SVG_MARGIN,
			ly + SVG_LEGEND_ROW + 10, nused - shown);
	fputs("</g>\n</svg>\n", f);

	if (ferror(f))
		rc = -EIO;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
out:
	if (axes)
		for (size_t i = 0; i < rp->nvm; i++)
			free(axes[i].s);
	free(axes);
	free(used);
	return rc;
}
