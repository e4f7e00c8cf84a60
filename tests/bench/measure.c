/*
 * measure.c — clocks, samples and the output of `make bench`.
 *
 * Owns: the monotonic clock, per-op latency samples with their median and
 * p99, the /proc figures (/proc/self/io wchar and write_bytes for bytes
 * written, /proc/self/status for RssAnon/RssFile/VmHWM), disk usage of a
 * file or directory (allocated blocks), removing a benchmark's databases,
 * and the result lines: printed one per figure and collected into
 * bench.json.
 */
#include "bench.h"

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void samples_add(samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		if (!s->v) {
			fputs("bench: out of memory\n", stderr);
			exit(1);
		}
	}
	s->v[s->n++] = v;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double samples_q(samples *s, double q)
{
	if (!s->n)
		return NAN;
	qsort(s->v, s->n, sizeof *s->v, cmp_d);
	size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->v[i];
}

void samples_free(samples *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

#define MAX_RESULTS 128
static result results[MAX_RESULTS];
static int nresults;

static void fmt(char *b, size_t n, double v)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else if (fabs(v) >= 100000)
		snprintf(b, n, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(b, n, "%.1f", v);
	else
		snprintf(b, n, "%.3g", v);
}

void result_emit(const result *r)
{
	char m[32], p[32], b[32], f[32], ra[32];
	fmt(m, sizeof m, r->median);
	fmt(p, sizeof p, r->p99);
	fmt(b, sizeof b, r->baseline);
	fmt(f, sizeof f, r->floor);
	fmt(ra, sizeof ra, r->ratio);
	printf("%-44s %-9s %10s %10s %10s %10s %7s  %-34s %s\n", r->name, r->unit, m, p, b, f, ra,
	       r->target ? r->target : "-",
	       r->holds < 0 ? "-" : r->holds ? "holds" : "MISSES");
	if (r->note)
		printf("    (%s)\n", r->note);
	fflush(stdout);
	if (nresults < MAX_RESULTS)
		results[nresults++] = *r;
}

static void jstr(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void jnum(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

void results_write_json(const char *path, const char *meta_json)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return;
	}
	fprintf(f, "{\"meta\": %s,\n \"results\": [\n", meta_json);
	for (int i = 0; i < nresults; i++) {
		const result *r = &results[i];
		fputs("  {\"name\": ", f); jstr(f, r->name);
		fputs(", \"unit\": ", f); jstr(f, r->unit);
		fputs(", \"median\": ", f); jnum(f, r->median);
		fputs(", \"p99\": ", f); jnum(f, r->p99);
		fputs(", \"baseline\": ", f); jnum(f, r->baseline);
		fputs(", \"floor\": ", f); jnum(f, r->floor);
		fputs(", \"ratio\": ", f); jnum(f, r->ratio);
		fputs(", \"target\": ", f); jstr(f, r->target);
		fprintf(f, ", \"holds\": %s", r->holds < 0 ? "null" : r->holds ? "true" : "false");
		fputs(", \"note\": ", f); jstr(f, r->note);
		fprintf(f, "}%s\n", i + 1 < nresults ? "," : "");
	}
	fputs(" ]\n}\n", f);
	fclose(f);
}

static int64_t field_of(const char *path, const char *field)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	size_t l = strlen(field);
	int64_t v = -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, field, l) && line[l] == ':') {
			v = strtoll(line + l + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

int64_t proc_io(const char *field) { return field_of("/proc/self/io", field); }
long proc_status_kib(const char *field) { return (long)field_of("/proc/self/status", field); }

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s; (void)f; (void)w;
	return remove(p);
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint64_t du_total;
static int du_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)p; (void)w;
	if (f == FTW_F)
		du_total += (uint64_t)s->st_blocks * 512u;
	return 0;
}

uint64_t disk_bytes(const char *path)
{
	du_total = 0;
	nftw(path, du_one, 16, FTW_PHYS);
	return du_total;
}
