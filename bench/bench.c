/* SPDX-License-Identifier: MIT */
/*
 * The measurement kit of bench/: see bench.h.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ timer */

static double g_ticks_per_ns = 1.0;
static uint64_t g_overhead_ticks;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if !BENCH_TSC
uint64_t bench_clock_ticks_(void)
{
	return bench_now_ns();
}
#endif

double bench_ticks_per_ns(void)
{
	return g_ticks_per_ns;
}

uint64_t bench_overhead_ticks(void)
{
	return g_overhead_ticks;
}

double bench_ticks_to_ns(uint64_t ticks)
{
	return (double)ticks / g_ticks_per_ns;
}

double bench_overhead_ns(void)
{
	return bench_ticks_to_ns(g_overhead_ticks);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/*
 * Ticks per ns: read the clock and the TSC together at both ends of a
 * ~@ms interval; each pair is the one with the tightest clock bracket of a
 * few tries, so a preemption between the reads does not skew it.
 */
static void calibrate(unsigned int ms)
{
#if BENCH_TSC
	uint64_t ns[2], tsc[2];

	for (int end = 0; end < 2; end++) {
		uint64_t best = UINT64_MAX;

		if (end) {
			struct timespec d = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };

			nanosleep(&d, NULL);
		}
		for (int i = 0; i < 16; i++) {
			uint64_t a = bench_now_ns();
			uint64_t t = bench_start();
			uint64_t b = bench_now_ns();

			if (b - a < best) {
				best = b - a;
				ns[end] = a + (b - a) / 2;
				tsc[end] = t;
			}
		}
	}
	g_ticks_per_ns = (double)(tsc[1] - tsc[0]) / (double)(ns[1] - ns[0]);
#else
	(void)ms;
	g_ticks_per_ns = 1.0;
#endif
}

/* The median of many empty timed regions. */
static void measure_overhead(void)
{
	enum { N = 20001 };
	static uint64_t v[N];

	for (int i = 0; i < 1000; i++) { /* warm up */
		uint64_t t0 = bench_start();
		uint64_t t1 = bench_stop();

		bench_keep(t1 - t0);
	}
	for (int i = 0; i < N; i++) {
		uint64_t t0 = bench_start();
		uint64_t t1 = bench_stop();

		v[i] = t1 - t0;
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	g_overhead_ticks = v[N / 2];
}

/* The aggregate "cpu" line of /proc/stat: busy (user, nice, system, irq,
 * softirq) and steal ticks. */
static bool read_proc_stat(uint64_t *busy, uint64_t *steal)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return false;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return false;
	*busy = v[0] + v[1] + v[2] + v[5] + v[6];
	*steal = v[7];
	return true;
}

static uint64_t self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_load_begin(struct bench_load *l)
{
	l->ok = read_proc_stat(&l->busy_ticks, &l->steal_ticks);
	l->self_ns = self_cpu_ns();
	l->wall_ns = bench_now_ns();
}

void bench_load_end(struct bench_load *l, double *other, double *steal)
{
	uint64_t busy, st, wall = bench_now_ns() - l->wall_ns;
	uint64_t self = self_cpu_ns() - l->self_ns;
	double tick_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
	double cap = (double)wall * bench_ncpus();

	*other = *steal = -1.0;
	if (!l->ok || !read_proc_stat(&busy, &st) || cap <= 0)
		return;
	*other = ((double)(busy - l->busy_ticks) * tick_ns - (double)self) / cap;
	*other = *other < 0 ? 0 : *other > 1 ? 1 : *other;
	*steal = (double)(st - l->steal_ticks) * tick_ns / cap;
	*steal = *steal < 0 ? 0 : *steal > 1 ? 1 : *steal;
}

void bench_perf(bool on)
{
	const char *env = getenv("BENCH_PERF_CTL");
	const char *msg = on ? "enable\n" : "disable\n";
	char ctl[512], ack[512] = "", buf[16];
	const char *comma;
	bool ok;
	int fd;

	if (!env || !*env)
		return;
	comma = strchr(env, ',');
	snprintf(ctl, sizeof(ctl), "%.*s", comma ? (int)(comma - env) : (int)strlen(env), env);
	if (comma)
		snprintf(ack, sizeof(ack), "%s", comma + 1);
	fd = open(ctl, O_WRONLY | O_CLOEXEC);
	ok = fd >= 0 && write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg);
	if (fd >= 0)
		close(fd);
	if (ok && *ack) {
		/* perf answers "ack" once the command took effect */
		fd = open(ack, O_RDONLY | O_CLOEXEC);
		ok = fd >= 0 && read(fd, buf, sizeof(buf)) > 0;
		if (fd >= 0)
			close(fd);
	}
	if (!ok)
		fprintf(stderr, "bench: BENCH_PERF_CTL=%s: %s\n", env, strerror(errno));
}

int bench_pin_cpu(int cpu)
{
	cpu_set_t set;
	int n = bench_ncpus();

	CPU_ZERO(&set);
	CPU_SET(n > 0 ? cpu % n : 0, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int bench_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* ---------------------------------------------------------------- samples */

int bench_samples_init(struct bench_samples *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	if (cap) {
		s->v = malloc(cap * sizeof(*s->v));
		if (!s->v)
			return -ENOMEM;
		memset(s->v, 0, cap * sizeof(*s->v));
	}
	s->cap = cap;
	return 0;
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void bench_samples_reset(struct bench_samples *s)
{
	s->n = 0;
	s->dropped = 0;
	s->sorted = false;
}

int bench_samples_merge(struct bench_samples *dst,
			const struct bench_samples *src)
{
	if (dst->n + src->n > dst->cap) {
		size_t cap = dst->n + src->n;
		uint64_t *v = realloc(dst->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		dst->v = v;
		dst->cap = cap;
	}
	if (src->n)
		memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	dst->dropped += src->dropped;
	dst->sorted = false;
	return 0;
}

void bench_samples_sort(struct bench_samples *s)
{
	if (!s->sorted && s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	s->sorted = true;
}

static double sample_ns(uint64_t ticks)
{
	return ticks > g_overhead_ticks ?
		bench_ticks_to_ns(ticks - g_overhead_ticks) : 0.0;
}

/* Nearest rank: the smallest sample with at least p of the samples <= it. */
static size_t rank_of(size_t n, double p)
{
	double r = ceil(p * (double)n);

	if (r < 1)
		r = 1;
	if (r > (double)n)
		r = (double)n;
	return (size_t)r - 1;
}

double bench_percentile(struct bench_samples *s, double p)
{
	if (!s->n)
		return 0.0;
	bench_samples_sort(s);
	return sample_ns(s->v[rank_of(s->n, p)]);
}

void bench_stats(struct bench_samples *s, struct bench_stats *out)
{
	double sum = 0.0;

	memset(out, 0, sizeof(*out));
	if (!s->n)
		return;
	bench_samples_sort(s);
	for (size_t i = 0; i < s->n; i++)
		sum += sample_ns(s->v[i]);
	out->n = s->n;
	out->p50 = sample_ns(s->v[rank_of(s->n, 0.50)]);
	out->p99 = sample_ns(s->v[rank_of(s->n, 0.99)]);
	out->p999 = sample_ns(s->v[rank_of(s->n, 0.999)]);
	out->p9999 = sample_ns(s->v[rank_of(s->n, 0.9999)]);
	out->mean = sum / (double)s->n;
	out->min = sample_ns(s->v[0]);
	out->max = sample_ns(s->v[s->n - 1]);
}

/* ----------------------------------------------------------------- output */

struct figure {
	char *name;
	double value;
	char *unit;
};

struct record {
	char *name;
	struct figure *fig;
	size_t nfig, capfig;
};

static struct {
	char *program;
	char *json_path;
	char *cdf_dir;
	bool tiny;
	struct record *rec;
	size_t nrec, caprec;
	char **meta; /* key, value, key, value ... */
	size_t nmeta, capmeta;
	bool oom;
} g;

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		g.oom = true;
	return d;
}

/* @p with room for @need elements (maybe moved), or NULL (@p unchanged). */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *np;

	if (p && need <= *cap)
		return p;
	while (ncap < need)
		ncap *= 2;
	np = realloc(p, ncap * elem);
	if (!np) {
		g.oom = true;
		return NULL;
	}
	*cap = ncap;
	return np;
}

static void record(const char *bench, const char *figure, double value,
		   const char *unit)
{
	struct record *r = NULL;

	for (size_t i = 0; i < g.nrec; i++)
		if (!strcmp(g.rec[i].name, bench))
			r = &g.rec[i];
	if (!r) {
		struct record *nr = grow(g.rec, &g.caprec, g.nrec + 1, sizeof(*nr));

		if (!nr)
			return;
		g.rec = nr;
		r = &g.rec[g.nrec++];
		memset(r, 0, sizeof(*r));
		r->name = xstrdup(bench);
	}
	for (size_t i = 0; i < r->nfig; i++) {
		if (!strcmp(r->fig[i].name, figure)) {
			r->fig[i].value = value;
			free(r->fig[i].unit);
			r->fig[i].unit = xstrdup(unit);
			return;
		}
	}
	struct figure *nf = grow(r->fig, &r->capfig, r->nfig + 1, sizeof(*nf));

	if (!nf)
		return;
	r->fig = nf;
	r->fig[r->nfig].name = xstrdup(figure);
	r->fig[r->nfig].value = value;
	r->fig[r->nfig].unit = xstrdup(unit);
	r->nfig++;
}

/* Plain decimal (never exponent notation for big values, so a regex like
 * "[0-9]+ requests/s" matches), with precision that suits the magnitude. */
static void print_value(FILE *f, double v)
{
	double a = fabs(v);

	if (a >= 100.0 || v == floor(v))
		fprintf(f, "%.0f", v);
	else if (a >= 1.0)
		fprintf(f, "%.2f", v);
	else
		fprintf(f, "%.4g", v);
}

void bench_value(const char *bench, const char *figure, double value,
		 const char *unit)
{
	bool fig = figure && *figure;

	printf("%s%s%s ", bench, fig ? "_" : "", fig ? figure : "");
	print_value(stdout, value);
	printf(" %s\n", unit ? unit : "");
	fflush(stdout);
	record(bench, fig ? figure : "value", value, unit);
}

void bench_meta(const char *key, const char *value)
{
	for (size_t i = 0; i < g.nmeta; i += 2) {
		if (!strcmp(g.meta[i], key)) {
			free(g.meta[i + 1]);
			g.meta[i + 1] = xstrdup(value);
			return;
		}
	}
	char **nm = grow(g.meta, &g.capmeta, g.nmeta + 2, sizeof(*nm));

	if (!nm)
		return;
	g.meta = nm;
	g.meta[g.nmeta++] = xstrdup(key);
	g.meta[g.nmeta++] = xstrdup(value);
}

void bench_report_latency(const char *bench, struct bench_samples *s,
			  struct bench_stats *out)
{
	struct bench_stats st;

	bench_stats(s, &st);
	bench_value(bench, "p50", st.p50, "ns");
	bench_value(bench, "p99", st.p99, "ns");
	bench_value(bench, "p99.9", st.p999, "ns");
	bench_value(bench, "p99.99", st.p9999, "ns");
	bench_value(bench, "mean", st.mean, "ns");
	bench_value(bench, "min", st.min, "ns");
	bench_value(bench, "max", st.max, "ns");
	bench_value(bench, "samples", (double)st.n, "samples");
	if (s->dropped)
		fprintf(stderr, "%s: %zu samples dropped (buffer full)\n",
			bench, s->dropped);
	if (out)
		*out = st;
}

static int path_join(char *buf, size_t len, const char *dir, const char *name,
		     const char *ext)
{
	size_t dl = strlen(dir);
	int n = snprintf(buf, len, "%s%s%s%s", dir,
			 dl && dir[dl - 1] == '/' ? "" : "/", name, ext);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	size_t len = strlen(dir);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];

			buf[i] = '\0';
			if (mkdir(buf, 0777) && errno != EEXIST)
				return -errno;
			buf[i] = c;
		}
	}
	return 0;
}

int bench_cdf_dump(const char *name, struct bench_samples *s)
{
	enum { EVEN = 1000, TAIL = 1000 };
	char path[4096];
	size_t *idx;
	size_t k = 0;
	FILE *f;
	int err;

	if (!g.cdf_dir)
		return 0;
	err = mkdir_p(g.cdf_dir);
	if (!err)
		err = path_join(path, sizeof(path), g.cdf_dir, name, ".dat");
	if (err)
		goto fail;
	bench_samples_sort(s);
	idx = malloc((EVEN + TAIL + 2) * sizeof(*idx));
	if (!idx) {
		err = -ENOMEM;
		goto fail;
	}
	if (s->n) {
		/* Even in rank ... */
		for (size_t i = 0; i <= EVEN; i++)
			idx[k++] = (size_t)((double)i / EVEN * (double)(s->n - 1));
		/* ... and log-spaced in 1 - F, from 1e-2 down to 1/n. */
		double lo = log10(1.0 / (double)s->n);

		for (size_t i = 0; i < TAIL && lo < -2.0; i++) {
			double q = pow(10.0, -2.0 + (lo + 2.0) * (double)i / (TAIL - 1));

			idx[k++] = rank_of(s->n, 1.0 - q);
		}
		idx[k++] = s->n - 1;
		qsort(idx, k, sizeof(*idx), cmp_size);
	}
	f = fopen(path, "w");
	if (!f) {
		err = -errno;
		free(idx);
		goto fail;
	}
	fprintf(f, "# %s %s: %zu samples, timer overhead %.2f ns subtracted\n"
		   "# latency_ns fraction\n",
		g.program ? g.program : "bench", name, s->n, bench_overhead_ns());
	for (size_t i = 0; i < k; i++) {
		if (i && idx[i] == idx[i - 1])
			continue;
		size_t j = idx[i];

		fprintf(f, "%.2f %.8f\n", sample_ns(s->v[j]),
			(double)(j + 1) / (double)s->n);
	}
	free(idx);
	if (fclose(f)) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "%s: cdf %s: %s\n", g.program ? g.program : "bench",
		name, strerror(-err));
	return err;
}

static bool is_dir(const char *p)
{
	struct stat st;
	size_t l = strlen(p);

	if (l && p[l - 1] == '/')
		return true;
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static void usage_exit(const char *program, const char *msg)
{
	fprintf(stderr, "%s: %s (kit options: --json FILE|DIR, --cdf-dir DIR)\n",
		program, msg);
	exit(2);
}

int bench_init(const char *program, int argc, char **argv)
{
	const char *json = getenv("BENCH_JSON");
	const char *cdf = getenv("BENCH_CDF_DIR");
	int out = 1;

	g.program = xstrdup(program);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		const char *val = NULL;

		if (!strcmp(a, "--json") || !strcmp(a, "--cdf-dir")) {
			dst = a[2] == 'j' ? &json : &cdf;
			if (i + 1 >= argc)
				usage_exit(program, "missing argument");
			val = argv[++i];
		} else if (!strncmp(a, "--json=", 7)) {
			dst = &json;
			val = a + 7;
		} else if (!strncmp(a, "--cdf-dir=", 10)) {
			dst = &cdf;
			val = a + 10;
		}
		if (dst) {
			*dst = val;
			continue;
		}
		if (!strcmp(a, "--tiny"))
			g.tiny = true;
		argv[out++] = argv[i];
	}
	if (out < argc)
		argv[out] = NULL;

	if (json && *json) {
		if (is_dir(json)) {
			char buf[4096];

			if (path_join(buf, sizeof(buf), json, program, ".json"))
				usage_exit(program, "--json path too long");
			g.json_path = xstrdup(buf);
		} else {
			g.json_path = xstrdup(json);
		}
	}
	if (cdf && *cdf)
		g.cdf_dir = xstrdup(cdf);

	calibrate(g.tiny ? 20 : 100);
	measure_overhead();
	/* Printed only: the JSON has them under "timer". */
	printf("tsc_ticks_per_ns %.4f ticks/ns%s\n", g_ticks_per_ns,
	       BENCH_TSC ? "" : " (clock_gettime fallback)");
	printf("timer_overhead %.2f ns (median empty region, subtracted)\n",
	       bench_overhead_ns());
	fflush(stdout);
	return out;
}

bool bench_tiny(void)
{
	return g.tiny;
}

const char *bench_cdf_dir(void)
{
	return g.cdf_dir;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.9g", v);
	else
		fputs("null", f);
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c++;
			while (*c == ' ' || *c == '\t')
				c++;
			c[strcspn(c, "\n")] = '\0';
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	fclose(f);
}

static int write_json(void)
{
	char tmp[4096], date[64], cpu[256];
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", g.json_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	cpu_model(cpu, sizeof(cpu));

	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs("{\n  \"program\": ", f);
	json_str(f, g.program);
	fputs(",\n  \"date\": ", f);
	json_str(f, date);
	fputs(",\n  \"host\": ", f);
	json_str(f, u.nodename);
	fputs(",\n  \"kernel\": ", f);
	json_str(f, u.release);
	fputs(",\n  \"cpu\": ", f);
	json_str(f, cpu);
	fprintf(f, ",\n  \"ncpus\": %d,\n  \"tiny\": %s,\n", bench_ncpus(),
		g.tiny ? "true" : "false");
	fprintf(f, "  \"timer\": { \"source\": \"%s\", \"ticks_per_ns\": ",
		BENCH_TSC ? "tsc" : "clock_gettime");
	json_num(f, g_ticks_per_ns);
	fputs(", \"overhead_ns\": ", f);
	json_num(f, bench_overhead_ns());
	fputs(" },\n  \"meta\": {", f);
	for (size_t i = 0; i < g.nmeta; i += 2) {
		fputs(i ? ",\n    " : "\n    ", f);
		json_str(f, g.meta[i]);
		fputs(": ", f);
		json_str(f, g.meta[i + 1]);
	}
	fputs(g.nmeta ? "\n  },\n" : " },\n", f);
	fputs("  \"benchmarks\": {", f);
	for (size_t i = 0; i < g.nrec; i++) {
		struct record *r = &g.rec[i];

		fputs(i ? ",\n    " : "\n    ", f);
		json_str(f, r->name);
		fputs(": {", f);
		for (size_t j = 0; j < r->nfig; j++) {
			fputs(j ? ",\n      " : "\n      ", f);
			json_str(f, r->fig[j].name);
			fputs(": { \"value\": ", f);
			json_num(f, r->fig[j].value);
			fputs(", \"unit\": ", f);
			json_str(f, r->fig[j].unit);
			fputs(" }", f);
		}
		fputs(r->nfig ? "\n    }" : "}", f);
	}
	fputs(g.nrec ? "\n  }\n}\n" : "}\n}\n", f);
	if (ferror(f)) {
		fclose(f);
		remove(tmp);
		return -EIO;
	}
	if (fclose(f)) {
		int err = -errno;

		remove(tmp);
		return err;
	}
	if (rename(tmp, g.json_path)) {
		int err = -errno;

		remove(tmp);
		return err;
	}
	return 0;
}

int bench_finish(void)
{
	int status = 0;

	if (g.json_path) {
		char dir[4096];
		char *slash;
		int err;

		snprintf(dir, sizeof(dir), "%s", g.json_path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir_p(dir);
		}
		err = g.oom ? -ENOMEM : write_json();
		if (err) {
			fprintf(stderr, "%s: writing %s: %s\n", g.program,
				g.json_path, strerror(-err));
			status = 1;
		}
	}
	for (size_t i = 0; i < g.nrec; i++) {
		for (size_t j = 0; j < g.rec[i].nfig; j++) {
			free(g.rec[i].fig[j].name);
			free(g.rec[i].fig[j].unit);
		}
		free(g.rec[i].fig);
		free(g.rec[i].name);
	}
	for (size_t i = 0; i < g.nmeta; i++)
		free(g.meta[i]);
	free(g.rec);
	free(g.meta);
	free(g.program);
	free(g.json_path);
	free(g.cdf_dir);
	memset(&g, 0, sizeof(g));
	return status;
}
