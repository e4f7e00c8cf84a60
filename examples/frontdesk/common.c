/*
 * common.c — what every command uses: messages, aligned tables, dates and
 * times, and the option parser (positionals and --name [value], in any
 * order).  It also holds the definitions of cli.h's helpers (CLI_DEFINE).
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#define CLI_DEFINE        /* cli.h's functions are defined here */
#include "frontdesk.h"

#include <time.h>

/* ------------------------------------------------------------------ */
/* Messages and small utilities                                         */
/* ------------------------------------------------------------------ */

void die_nomem(void)
{
	/* An example program may give up on OOM; the library never does. */
	fputs(PROG ": out of memory\n", stderr);
	exit(1);
}

/* A failure found here, not in the library. */
int PRINTF_LIKE(1, 2) fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay_error(fmt, ap);
	va_end(ap);
	return 1;
}

/* Bad command line: say what, then the command's usage.  Exit status 2. */
int PRINTF_LIKE(2, 3) usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay_error(fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "usage: " PROG " %s\n", cmd->usage);
	else
		fputs("Try '" PROG " help'.\n", stderr);
	return 2;
}

/* Display columns of UTF-8 text: East Asian wide characters take two, so
 * tables stay aligned for names such as 莊偉. */
size_t text_width(const char *s)
{
	size_t w = 0;
	while (*s) {
		int32_t cp;
		s += utf8_decode(s, &cp);
		/* Emoji are wide in tables too (the kiosk's frame counts them as
		 * one column, as it always has). */
		w += is_east_asian_wide(cp) || (cp >= 0x1F300 && cp <= 0x1FAFF) ? 2 : 1;
	}
	return w;
}

/* Copy for a table cell: control characters (a note with a newline)
 * would break the layout, so they become spaces. */
char *cell_dup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die_nomem();
	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = ' ';
	return d;
}

/* ------------------------------------------------------------------ */
/* Aligned tables                                                       */
/* ------------------------------------------------------------------ */

/* Add a row; NULL or empty cells print as "-". */
void table_row(struct table *t, const char *const *cells)
{
	char **grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof *grown);
	if (!grown)
		die_nomem();
	t->cells = grown;
	for (size_t c = 0; c < t->ncols; c++)
		grown[t->nrows * t->ncols + c] = cell_dup(cells[c] && cells[c][0] ? cells[c] : "-");
	t->nrows++;
}

/* Columns two spaces apart; the last one is not padded. */
void table_print(const struct table *t, FILE *f, const char *indent)
{
	size_t width[TABLE_MAXCOLS] = {0};
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = text_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(indent, f);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			fputs(cell, f);
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", (int)(width[c] - text_width(cell) + 2), "");
		}
		putc('\n', f);
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* ------------------------------------------------------------------ */
/* Dates and times                                                      */
/* ------------------------------------------------------------------ */

int64_t date_days(pf_date d)
{
	return civil_days(d / 10000, d / 100 % 100, d % 100);
}

/* "HH:MM YYYY-MM-DD", UTC. */
void format_time(char buf[32], pf_time t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%H:%M %Y-%m-%d", &tm))
		snprintf(buf, 32, "%" PRId64, (int64_t)t);
}

void format_date(char buf[16], pf_date d)
{
	if (d <= 0)
		snprintf(buf, 16, "-");
	else
		snprintf(buf, 16, "%04d-%02d-%02d", (int)(d / 10000), (int)(d / 100 % 100),
		         (int)(d % 100));
}

/* "3d 2h", "2h05m", "12m". */
void format_span(char buf[32], pf_time secs)
{
	if (secs < 0)
		secs = 0;
	int64_t m = secs / 60, h = m / 60, d = h / 24;
	if (d > 0)
		snprintf(buf, 32, "%" PRId64 "d %" PRId64 "h", d, h % 24);
	else if (h > 0)
		snprintf(buf, 32, "%" PRId64 "h%02" PRId64 "m", h, m % 60);
	else
		snprintf(buf, 32, "%" PRId64 "m", m);
}

/* ------------------------------------------------------------------ */
/* Command-line options: positionals and --name [value], in any order   */
/* ------------------------------------------------------------------ */

/* Fill the options' destinations and pos[] (at most maxpos).  Returns the
 * number of positionals, or -1 after printing a usage error. */
int parse_args(const struct command *cmd, int argc, char **argv,
               const struct opt *opts, size_t nopts, char **pos, int maxpos)
{
	int npos = 0, only_pos = 0;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] != '-') {
			if (npos == maxpos) {
				usage_error(cmd, "unexpected argument '%s'", a);
				return -1;
			}
			pos[npos++] = a;
			continue;
		}
		if (a[2] == '\0') {
			only_pos = 1;
			continue;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct opt *o = NULL;
		for (size_t k = 0; k < nopts; k++)
			if (strlen(opts[k].name) == nlen && !strncmp(opts[k].name, name, nlen))
				o = &opts[k];
		if (!o) {
			usage_error(cmd, "unknown option '--%.*s'", (int)nlen, name);
			return -1;
		}
		if (o->kind == OPT_FLAG) {
			if (eq) {
				usage_error(cmd, "option '--%s' takes no value", o->name);
				return -1;
			}
			*(int *)o->dest = 1;
			continue;
		}
		const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val) {
			usage_error(cmd, "option '--%s' needs a value", o->name);
			return -1;
		}
		if (o->kind == OPT_STR) {
			*(const char **)o->dest = val;
		} else {
			struct strlist *l = o->dest;
			if (l->n == PF_TAGS_MAX) {
				usage_error(cmd, "at most %d values for '--%s'", PF_TAGS_MAX, o->name);
				return -1;
			}
			l->v[l->n++] = val;
		}
	}
	return npos;
}

/* parse_args for a command that takes exactly `want` positionals;
 * `missing` is the usage error otherwise.  Returns 0 or exit status 2. */
int parse_exactly(const struct command *cmd, int argc, char **argv,
                  const struct opt *opts, size_t nopts, char **pos, int want,
                  const char *missing)
{
	int n = parse_args(cmd, argc, argv, opts, nopts, pos, want);
	if (n < 0)
		return 2;
	if (n != want)
		return usage_error(cmd, "%s", missing);
	return 0;
}

/* Optional numeric option: NULL leaves *out alone. */
int parse_count(const struct command *cmd, const char *what, const char *s, uint32_t *out)
{
	if (s && parse_uint32(s, out)) {
		usage_error(cmd, "%s must be a whole number, not '%s'", what, s);
		return -1;
	}
	return 0;
}

/* Optional date option: NULL leaves *out alone. */
int parse_date_opt(const struct command *cmd, const char *what, const char *s, pf_date *out)
{
	if (s && parse_date(s, out)) {
		usage_error(cmd, "%s must be a date YYYY-MM-DD, not '%s'", what, s);
		return -1;
	}
	return 0;
}
