/*
 * report_html.c — `frontdesk report --html FILE`: the service-quality
 * dashboard as one self-contained HTML page (inline CSS and SVG, no
 * script, nothing loaded from anywhere).
 *
 * It draws, per department and for the whole hotel, the omission rate,
 * the complaints per 100 stays and the share of complaints resolved by
 * sunset, then the same three figures day by day (one
 * pf_quality_report_get() per hotel day of the range).  Every bar carries
 * its figure in data-value (with data-metric, data-department and, in the
 * trend, data-day), and tables under the charts give the same figures to
 * screen readers.  bindings/python/libprofile/report_html.py writes the
 * same page byte for byte (tests/web checks both against the report).
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

#include <errno.h>
#include <sys/stat.h>

#define MAX_DAYS 366            /* a year of trend is plenty for one page */
#define LABEL_W 170             /* chart geometry, in SVG user units */
#define BAR_W 400
#define ROW_H 30
#define BAR_H 20

enum metric { M_OMISSION, M_PER_100, M_BY_SUNSET, M_COUNT };

static const struct {
	const char *key;        /* data-metric */
	const char *title;
	int percent;            /* a 0..1 rate shown as a percentage */
} METRICS[M_COUNT] = {
	{"omission_rate", "Omission rate (prompts never done, of those judged)", 1},
	{"per_100_stays", "Complaints per 100 stays", 0},
	{"on_time_rate", "Complaints resolved by sunset", 1},
};

/* The library's figure (a rate as a fraction), or -1 when it has no
 * denominator. */
static double figure(const pf_quality_row *w, enum metric m)
{
	double v = m == M_OMISSION ? w->omission_rate
	         : m == M_PER_100 ? w->per_100_stays : w->on_time_rate;
	return v < 0 ? -1 : v;
}

/* The figure in the chart's unit: rates as percentages. */
static double shown(double v, enum metric m)
{
	return v >= 0 && METRICS[m].percent ? v * 100.0 : v;
}

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#x27;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* "12.5%", "50.0" or "-" (no denominator): the text of a figure. */
static void format_figure(char buf[32], double v, enum metric m)
{
	if (v < 0)
		snprintf(buf, 32, "-");
	else
		snprintf(buf, 32, "%.1f%s", shown(v, m), METRICS[m].percent ? "%" : "");
}

/* One row of a chart: the label, then the bar (or "no data") and its
 * value.  `label` is a department name or a date, `dept` and `day` the
 * data attributes (day NULL in the department charts). */
static void chart_row(FILE *f, int i, const char *label, const char *dept, const char *day,
                      enum metric m, double v, double scale)
{
	int y = 10 + i * ROW_H;
	char text[32];
	fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\">", LABEL_W - 10, y + 15);
	put_escaped(f, label);
	fputs("</text>\n", f);
	if (v < 0) {
		fprintf(f, "<text class=\"none\" x=\"%d\" y=\"%d\">no data</text>\n", LABEL_W, y + 15);
		return;
	}
	double len = shown(v, m) / scale * BAR_W;
	format_figure(text, v, m);
	fprintf(f, "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
	           "data-metric=\"%s\" data-department=\"", LABEL_W, y, len, BAR_H,
	        METRICS[m].key);
	put_escaped(f, dept);
	fputs("\"", f);
	if (day)
		fprintf(f, " data-day=\"%s\"", day);
	/* data-value is the library's own figure, unrounded (a rate as a
	 * fraction): what a test compares with pf_quality_report_get(). */
	fprintf(f, " data-value=\"%.17g\"><title>", v);
	put_escaped(f, label);
	fprintf(f, ": %s</title></rect>\n", text);
	fprintf(f, "<text class=\"value\" x=\"%.1f\" y=\"%d\">%s</text>\n",
	        LABEL_W + len + 6, y + 15, text);
}

/* Which rows a department chart shows: omission for departments with
 * prompts, complaints per 100 stays for every department (0 says
 * something), by sunset for departments with complaints; ALL always. */
static int shows(const pf_quality_row *w, enum metric m)
{
	if (!w->department)
		return 1;
	return m == M_OMISSION ? w->prompts > 0 : m == M_PER_100 ? 1 : w->complaints > 0;
}

/* The bars' full length: 100% for rates, else the largest value (at
 * least 1), so the longest complaints bar fills the chart. */
static double scale_of(const pf_quality_row *const *rows, size_t n, enum metric m)
{
	if (METRICS[m].percent)
		return 100.0;
	double max = 1.0;
	for (size_t i = 0; i < n; i++) {
		double v = shown(figure(rows[i], m), m);
		if (v > max)
			max = v;
	}
	return max;
}

static void chart_open(FILE *f, const char *id, enum metric m, int rows)
{
	int h = 20 + rows * ROW_H;
	fprintf(f, "<figure>\n<figcaption id=\"%s-%s\">%s</figcaption>\n"
	           "<svg class=\"chart\" role=\"img\" aria-labelledby=\"%s-%s\" width=\"%d\" "
	           "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
	        id, METRICS[m].key, METRICS[m].title, id, METRICS[m].key,
	        LABEL_W + BAR_W + 80, h, LABEL_W + BAR_W + 80, h);
}

static void chart_close(FILE *f)
{
	fputs("</svg>\n</figure>\n", f);
}

static const char CSS[] =
	"body{margin:0;background:#fff;color:#111;font-family:system-ui,sans-serif;line-height:1.4}\n"
	"main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}\n"
	"figure{margin:1rem 0}\n"
	"figcaption{font-weight:700;margin-bottom:.25rem}\n"
	"svg.chart{max-width:100%;height:auto}\n"
	".bar{fill:#003a70}\n"
	".label{text-anchor:end;font-size:14px;fill:#111}\n"
	".value,.none{font-size:14px;fill:#111}\n"
	".none{font-style:italic}\n"
	"table{border-collapse:collapse;margin:1rem 0}\n"
	"th,td{border:1px solid #555;padding:.3rem .6rem;text-align:right}\n"
	"th:first-child,td:first-child{text-align:left}\n"
	"caption{text-align:left;font-weight:700;margin-bottom:.25rem}\n";

/* A table cell with a figure. */
static void cell(FILE *f, double v, enum metric m)
{
	char text[32];
	format_figure(text, v, m);
	fprintf(f, "<td>%s</td>", text);
}

static void department_section(FILE *f, const pf_quality_report *r)
{
	const pf_quality_row **rows = calloc(r->count + 1, sizeof *rows);
	size_t n = 0;
	if (!rows)
		die_nomem();
	for (size_t i = 0; i < r->count; i++)
		rows[n++] = &r->departments[i];
	rows[n++] = &r->overall;

	fputs("<section aria-labelledby=\"by-department\">\n"
	      "<h2 id=\"by-department\">By department</h2>\n", f);
	for (int m = 0; m < M_COUNT; m++) {
		int nrows = 0;
		for (size_t i = 0; i < n; i++)
			nrows += shows(rows[i], (enum metric)m);
		double scale = scale_of(rows, n, (enum metric)m);
		chart_open(f, "department", (enum metric)m, nrows);
		int row = 0;
		for (size_t i = 0; i < n; i++) {
			if (!shows(rows[i], (enum metric)m))
				continue;
			const char *name = rows[i]->department ? rows[i]->department : "ALL";
			chart_row(f, row++, name, name, NULL, (enum metric)m,
			          figure(rows[i], (enum metric)m), scale);
		}
		chart_close(f);
	}
	fputs("<table>\n<caption>Figures by department</caption>\n"
	      "<thead><tr><th scope=\"col\">Department</th><th scope=\"col\">Prompts</th>"
	      "<th scope=\"col\">Never done</th><th scope=\"col\">Omission rate</th>"
	      "<th scope=\"col\">Complaints</th><th scope=\"col\">Per 100 stays</th>"
	      "<th scope=\"col\">Resolved by sunset</th></tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < n; i++) {
		const pf_quality_row *w = rows[i];
		fputs("<tr><th scope=\"row\">", f);
		put_escaped(f, w->department ? w->department : "ALL");
		fprintf(f, "</th><td>%" PRIu32 "</td><td>%" PRIu32 "</td>", w->prompts,
		        w->never_done);
		cell(f, figure(w, M_OMISSION), M_OMISSION);
		fprintf(f, "<td>%" PRIu32 "</td>", w->complaints);
		cell(f, figure(w, M_PER_100), M_PER_100);
		cell(f, figure(w, M_BY_SUNSET), M_BY_SUNSET);
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
	free(rows);
}

static void day_section(FILE *f, pf_quality_report *const *days, const pf_date *dates,
                        size_t ndays)
{
	const pf_quality_row *rows[MAX_DAYS];
	char label[16];
	for (size_t i = 0; i < ndays; i++)
		rows[i] = &days[i]->overall;

	fputs("<section aria-labelledby=\"by-day\">\n"
	      "<h2 id=\"by-day\">Day by day, whole hotel</h2>\n", f);
	for (int m = 0; m < M_COUNT; m++) {
		double scale = scale_of(rows, ndays, (enum metric)m);
		chart_open(f, "day", (enum metric)m, (int)ndays);
		for (size_t i = 0; i < ndays; i++) {
			format_date(label, dates[i]);
			chart_row(f, (int)i, label, "ALL", label, (enum metric)m,
			          figure(rows[i], (enum metric)m), scale);
		}
		chart_close(f);
	}
	fputs("<table>\n<caption>Figures by day</caption>\n"
	      "<thead><tr><th scope=\"col\">Day</th><th scope=\"col\">Stays arriving</th>"
	      "<th scope=\"col\">Prompts</th><th scope=\"col\">Omission rate</th>"
	      "<th scope=\"col\">Complaints</th><th scope=\"col\">Per 100 stays</th>"
	      "<th scope=\"col\">Resolved by sunset</th></tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < ndays; i++) {
		const pf_quality_row *w = rows[i];
		format_date(label, dates[i]);
		fprintf(f, "<tr><th scope=\"row\">%s</th><td>%" PRIu32 "</td><td>%" PRIu32 "</td>",
		        label, days[i]->stays, w->prompts);
		cell(f, figure(w, M_OMISSION), M_OMISSION);
		fprintf(f, "<td>%" PRIu32 "</td>", w->complaints);
		cell(f, figure(w, M_PER_100), M_PER_100);
		cell(f, figure(w, M_BY_SUNSET), M_BY_SUNSET);
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

static void write_page(FILE *f, const pf_quality_report *r, pf_quality_report *const *days,
                       const pf_date *dates, size_t ndays)
{
	char from[16], to[16];
	format_date(from, dates[0]);
	format_date(to, dates[ndays - 1]);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	           "<title>Service quality %s to %s</title>\n<style>\n%s</style>\n</head>\n"
	           "<body>\n<main>\n<h1>Service quality</h1>\n"
	           "<p id=\"range\" data-from=\"%s\" data-to=\"%s\" data-stays=\"%" PRIu32 "\">"
	           "Hotel days %s to %s: %" PRIu32 " stay%s arriving.</p>\n",
	        from, to, CSS, from, to, r->stays, from, to, r->stays, r->stays == 1 ? "" : "s");
	department_section(f, r);
	day_section(f, days, dates, ndays);
	fputs("<p>Omission rate: prompts never done (dismissed, or open past their due time) "
	      "of those judged (done, or past due). Complaints per 100 stays: complaints "
	      "recorded per 100 stays arriving in the range, in every row. Resolved by "
	      "sunset: complaints resolved by the end of the business day they were due. "
	      "&quot;-&quot; and &quot;no data&quot;: the figure has no denominator.</p>\n"
	      "</main>\n</body>\n</html>\n", f);
}

int report_html(pf_db *db, const char *path, pf_date from, pf_date to,
                const pf_quality_report *r)
{
	pf_quality_report *days[MAX_DAYS];
	pf_date dates[MAX_DAYS];
	size_t ndays = 0;
	int status = 0;

	for (pf_date d = from; d <= to; d = date_next(d)) {
		pf_time start, end;
		if (ndays == MAX_DAYS) {
			status = fail("--html draws at most %d days; ask for a shorter range", MAX_DAYS);
			goto out;
		}
		int rc = pf_day_start(&start, db, d);
		if (!rc)
			rc = pf_day_start(&end, db, date_next(d));
		if (!rc)
			rc = pf_quality_report_get(&days[ndays], db, start, end);
		if (rc) {
			status = lib_fail(rc);
			goto out;
		}
		dates[ndays++] = d;
	}

	FILE *f = fopen(path, "w");
	if (!f) {
		status = fail("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	struct stat st;
	int regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
	errno = 0;
	write_page(f, r, days, dates, ndays);
	int werr = ferror(f) ? (errno ? errno : EIO) : 0;
	if (fclose(f) != 0 && !werr)
		werr = errno ? errno : EIO;
	if (werr) {
		status = fail("cannot write %s: %s", path, strerror(werr));
		/* Half a page would look like a whole one; but only a file is
		 * removed (FILE may be a device such as /dev/stdout). */
		if (regular)
			remove(path);
	}
out:
	for (size_t i = 0; i < ndays; i++)
		pf_quality_report_free(days[i]);
	return status;
}
