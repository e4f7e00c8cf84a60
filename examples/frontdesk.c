/*
 * frontdesk — a small front-desk console over libprofile.
 *
 * Owns only argument handling and printing: every command is a thin call
 * into the public API (libprofile.h is the only header it may include).
 * Run `frontdesk help` for the commands.  With PF_NOW set the clock is
 * fixed, so the demo and the README examples print the same times on
 * every run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libprofile.h"

#define PROG "frontdesk"
#define DEFAULT_DB "./demo-db"
#define SHORT_ID 8        /* hex digits of a prompt id shown in lists */
#define MIN_PREFIX 6      /* shortest prompt id prefix accepted */

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

struct command;
typedef int (*command_fn)(pf_db *db, const struct command *cmd, int argc, char **argv);

struct command {
	const char *name;
	command_fn run;
	unsigned int open_flags;  /* PF_OPEN_READONLY for commands that only look */
	const char *usage;
};

/* ------------------------------------------------------------------ */
/* Small utilities                                                      */
/* ------------------------------------------------------------------ */

static void die_nomem(void)
{
	/* An example program may give up on OOM; the library never does. */
	fputs(PROG ": out of memory\n", stderr);
	exit(1);
}

/* A library call failed: "frontdesk: <code text>: <detail>". */
static int lib_fail(int rc)
{
	const char *detail = pf_errmsg();
	if (detail[0])
		fprintf(stderr, PROG ": %s: %s\n", pf_strerror(rc), detail);
	else
		fprintf(stderr, PROG ": %s\n", pf_strerror(rc));
	return 1;
}

/* A failure found here, not in the library. */
static int PRINTF_LIKE(1, 2) fail(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* Bad command line: say what, then the command's usage.  Exit status 2. */
static int PRINTF_LIKE(2, 3) usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage: " PROG " %s\n", cmd->usage);
	else
		fputs("Try '" PROG " help'.\n", stderr);
	return 2;
}

/* Display columns of UTF-8 text: East Asian wide characters take two, so
 * tables stay aligned for names such as 莊偉. */
static size_t text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	while (*p) {
		uint32_t cp;
		int n;
		if (*p < 0x80) { cp = *p; n = 1; }
		else if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; n = 2; }
		else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; n = 3; }
		else if ((*p & 0xF8) == 0xF0) { cp = *p & 0x07; n = 4; }
		else { w++; p++; continue; }
		int i;
		for (i = 1; i < n && (p[i] & 0xC0) == 0x80; i++)
			cp = (cp << 6) | (p[i] & 0x3F);
		p += i;
		if (i < n) { w++; continue; }   /* truncated sequence */
		int wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
		           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
		           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
		           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
		           (cp >= 0x20000 && cp <= 0x3FFFD);
		w += wide ? 2 : 1;
	}
	return w;
}

/* Copy for a table cell: control characters (a note with a newline)
 * would break the layout, so they become spaces. */
static char *cell_dup(const char *s)
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

#define TABLE_MAXCOLS 10

struct table {
	size_t ncols, nrows;
	char **cells;             /* nrows * ncols, row-major */
};

/* Add a row; NULL or empty cells print as "-". */
static void table_row(struct table *t, const char *const *cells)
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
static void table_print(const struct table *t, FILE *f, const char *indent)
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

static void table_free(struct table *t)
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

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in 1..y-1, counted from the Gregorian rules. */
static int64_t leaps_before(int64_t y)
{
	y -= 1;
	return y / 4 - y / 100 + y / 400;
}

/* Days since 1970-01-01 of a valid calendar date (years 1..9999). */
static int64_t civil_days(int y, int m, int d)
{
	static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	int64_t days = 365 * ((int64_t)y - 1970) + leaps_before(y) - leaps_before(1970);
	days += before_month[m - 1] + (m > 2 && is_leap(y)) + d - 1;
	return days;
}

static int64_t date_days(pf_date d)
{
	return civil_days(d / 10000, d / 100 % 100, d % 100);
}

/* Parse exactly `n` decimal digits. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" → pf_date; a real calendar date or -1. */
static int parse_date(const char *s, pf_date *out)
{
	int y, m, d;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
	    digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
		return -1;
	return pf_date_make(out, y, m, d) == 0 ? 0 : -1;
}

/* PF_NOW: epoch seconds, or "YYYY-MM-DDTHH:MM[:SS][Z]" in UTC. */
static int parse_instant(const char *s, pf_time *out)
{
	size_t len = strlen(s);
	if (len > 0 && strspn(s, "0123456789") == len) {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || *end)
			return -1;
		*out = (pf_time)v;
		return 0;
	}
	int y, mo, d, h, mi, sec = 0;
	pf_date date;
	if (len < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || pf_date_make(&date, y, mo, d))
		return -1;
	const char *rest = s + 16;
	if (rest[0] == ':') {
		if (digits(rest + 1, 2, &sec))
			return -1;
		rest += 3;
	}
	if (rest[0] == 'Z')
		rest++;
	if (rest[0] || h > 23 || mi > 59 || sec > 59)
		return -1;
	*out = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

static pf_time fixed_clock(void *payload)
{
	return *(const pf_time *)payload;
}

/* "HH:MM YYYY-MM-DD", UTC. */
static void format_time(char buf[32], pf_time t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, 32, "%H:%M %Y-%m-%d", &tm))
		snprintf(buf, 32, "%" PRId64, (int64_t)t);
}

static void format_date(char buf[16], pf_date d)
{
	if (d <= 0)
		snprintf(buf, 16, "-");
	else
		snprintf(buf, 16, "%04d-%02d-%02d", (int)(d / 10000), (int)(d / 100 % 100),
		         (int)(d % 100));
}

/* "3d 2h", "2h05m", "12m". */
static void format_span(char buf[32], pf_time secs)
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

enum opt_kind { OPT_STR, OPT_FLAG, OPT_LIST };

struct strlist {
	size_t n;
	const char *v[PF_TAGS_MAX];
};

struct opt {
	const char *name;         /* without the leading "--" */
	enum opt_kind kind;
	void *dest;               /* const char **, int *, or struct strlist * */
};

/* Fill the options' destinations and pos[] (at most maxpos).  Returns the
 * number of positionals, or -1 after printing a usage error. */
static int parse_args(const struct command *cmd, int argc, char **argv,
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

/* Optional numeric option: NULL leaves *out alone. */
static int parse_count(const struct command *cmd, const char *what, const char *s, uint32_t *out)
{
	if (!s)
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!s[0] || *end || errno || s[0] == '-' || v > UINT32_MAX) {
		usage_error(cmd, "%s must be a whole number, not '%s'", what, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Optional date option: NULL leaves *out alone. */
static int parse_date_opt(const struct command *cmd, const char *what, const char *s, pf_date *out)
{
	if (s && parse_date(s, out)) {
		usage_error(cmd, "%s must be a date YYYY-MM-DD, not '%s'", what, s);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Resolving GUEST and PROMPT arguments                                 */
/* ------------------------------------------------------------------ */

static void print_guest_rows(FILE *f, const pf_guest_list *l)
{
	struct table t = {5, 0, NULL};
	table_row(&t, (const char *[]){"ID", "NAME", "EMAIL", "PHONE", "TIER"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_guest *g = l->items[i];
		char id[PF_ID_STRLEN + 1];
		pf_id_format(id, &g->id);
		table_row(&t, (const char *[]){id, g->name, g->email, g->phone,
		                               g->tier ? pf_tier_name(g->tier) : NULL});
	}
	table_print(&t, f, "  ");
	table_free(&t);
}

/* GUEST is a UUID or a query that finds exactly one guest.  On success
 * *out is the loaded guest (free with pf_guest_free); returns an exit
 * status. */
static int resolve_guest(pf_guest **out, pf_db *db, const char *arg)
{
	pf_id id;
	pf_guest_list *l = NULL;
	int rc, status = 1;

	*out = NULL;
	if (pf_id_parse(&id, arg) == 0) {
		rc = pf_guest_get(out, db, &id);
		return rc ? lib_fail(rc) : 0;
	}
	rc = pf_guest_find(&l, db, arg);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0) {
		fail("no guest matches '%s'", arg);
	} else if (l->count > 1) {
		fail("'%s' matches %zu guests; give one of these ids:", arg, l->count);
		print_guest_rows(stderr, l);
	} else {
		rc = pf_guest_get(out, db, &l->items[0]->id);
		status = rc ? lib_fail(rc) : 0;
	}
	pf_guest_list_free(l);
	return status;
}

/* PROMPT is a full UUID, or a prefix of at least MIN_PREFIX hex digits
 * that matches exactly one open prompt.  Returns an exit status. */
static int resolve_prompt(pf_id *out, pf_db *db, const char *arg)
{
	pf_prompt_list *open = NULL;
	char want[PF_ID_STRLEN + 1];
	size_t len = strlen(arg), hits = 0, hit = 0;
	int rc;

	if (pf_id_parse(out, arg) == 0)
		return 0;
	if (len < MIN_PREFIX || len > PF_ID_STRLEN || strspn(arg, "0123456789abcdefABCDEF-") != len)
		return fail("'%s' is not a prompt id (give at least %d hex digits)", arg, MIN_PREFIX);
	for (size_t i = 0; i <= len; i++)
		want[i] = (arg[i] >= 'A' && arg[i] <= 'F') ? (char)(arg[i] - 'A' + 'a') : arg[i];

	/* Every open prompt of every department: due before the end of time. */
	rc = pf_prompts_overdue(&open, db, NULL, INT64_MAX);
	if (rc)
		return lib_fail(rc);
	for (size_t i = 0; i < open->count; i++) {
		char id[PF_ID_STRLEN + 1];
		pf_id_format(id, &open->items[i].id);
		if (!strncmp(id, want, len)) {
			hits++;
			hit = i;
		}
	}
	if (hits == 1)
		*out = open->items[hit].id;
	pf_prompt_list_free(open);
	if (hits == 0)
		return fail("no open prompt has an id starting with '%s'", arg);
	if (hits > 1)
		return fail("'%s' matches %zu open prompts; give more digits", arg, hits);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Printing prompts                                                     */
/* ------------------------------------------------------------------ */

enum {
	COL_ID = 1 << 0, COL_DEPT = 1 << 1, COL_DUE = 1 << 2, COL_LATE = 1 << 3,
	COL_PRIO = 1 << 4, COL_STATUS = 1 << 5, COL_GUEST = 1 << 6, COL_TEXT = 1 << 7
};

/* Guest names for a prompt list, looked up once per guest. */
struct name_cache {
	size_t n;
	pf_id *ids;
	char **names;
};

static const char *guest_name(struct name_cache *c, pf_db *db, const pf_id *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (!memcmp(c->ids[i].b, id->b, sizeof id->b))
			return c->names[i];
	pf_guest *g = NULL;
	/* A guest erased since the prompt was made shows as unknown. */
	char *name = cell_dup(pf_guest_get(&g, db, id) == 0 ? g->name : "(unknown guest)");
	pf_guest_free(g);
	pf_id *ids = realloc(c->ids, (c->n + 1) * sizeof *ids);
	if (ids)
		c->ids = ids;
	char **names = realloc(c->names, (c->n + 1) * sizeof *names);
	if (names)
		c->names = names;
	if (!ids || !names)
		die_nomem();
	c->ids[c->n] = *id;
	c->names[c->n++] = name;
	return name;
}

static void name_cache_free(struct name_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->ids);
	free(c->names);
}

/* Work-list order: due, then priority, then creation (seq).  The library
 * promises due and priority; seq settles ties so that the same scene
 * prints the same list every time. */
static int by_due(const void *a, const void *b)
{
	const pf_prompt *x = *(const pf_prompt *const *)a, *y = *(const pf_prompt *const *)b;
	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print the prompts in list order, or in work-list order if `sorted`. */
static void print_prompts(pf_db *db, const pf_prompt_list *l, int sorted, unsigned cols,
                          const char *indent)
{
	static const struct { unsigned col; const char *title; } heads[] = {
		{COL_ID, "ID"}, {COL_DEPT, "DEPARTMENT"}, {COL_DUE, "DUE (UTC)"},
		{COL_LATE, "LATE BY"}, {COL_PRIO, "PRIORITY"}, {COL_STATUS, "STATUS"},
		{COL_GUEST, "GUEST"}, {COL_TEXT, "TEXT"},
	};
	const size_t nheads = sizeof heads / sizeof heads[0];
	struct table t = {0, 0, NULL};
	struct name_cache names = {0, NULL, NULL};
	const char *row[TABLE_MAXCOLS];
	pf_time now = pf_now(db);

	for (size_t h = 0; h < nheads; h++)
		if (cols & heads[h].col)
			row[t.ncols++] = heads[h].title;
	table_row(&t, row);
	const pf_prompt **order = malloc((l->count ? l->count : 1) * sizeof *order);
	if (!order)
		die_nomem();
	for (size_t i = 0; i < l->count; i++)
		order[i] = &l->items[i];
	if (sorted)
		qsort(order, l->count, sizeof *order, by_due);
	for (size_t i = 0; i < l->count; i++) {
		const pf_prompt *p = order[i];
		char id[PF_ID_STRLEN + 1], due[32], late[32];
		size_t n = 0;
		pf_id_format(id, &p->id);
		id[pf_id_is_zero(&p->id) ? 0 : SHORT_ID] = '\0';
		format_time(due, p->due);
		format_span(late, now - p->due);
		if (cols & COL_ID) row[n++] = id;
		if (cols & COL_DEPT) row[n++] = p->department;
		if (cols & COL_DUE) row[n++] = due;
		if (cols & COL_LATE) row[n++] = late;
		if (cols & COL_PRIO) row[n++] = pf_priority_name(p->priority);
		if (cols & COL_STATUS) row[n++] = pf_prompt_status_name(p->status);
		if (cols & COL_GUEST) row[n++] = guest_name(&names, db, &p->guest);
		if (cols & COL_TEXT) row[n++] = p->text;
		table_row(&t, row);
	}
	table_print(&t, stdout, indent);
	table_free(&t);
	name_cache_free(&names);
	free(order);
}

/* ------------------------------------------------------------------ */
/* Guests, preferences, stays                                           */
/* ------------------------------------------------------------------ */

static int cmd_add(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *email = NULL, *phone = NULL, *lang = NULL, *loyalty = NULL, *tier = NULL,
	           *birth = NULL;
	struct strlist tags = {0, {0}};
	int no_profiling = 0;
	const struct opt opts[] = {
		{"email", OPT_STR, &email}, {"phone", OPT_STR, &phone}, {"lang", OPT_STR, &lang},
		{"loyalty", OPT_STR, &loyalty}, {"tier", OPT_STR, &tier}, {"tag", OPT_LIST, &tags},
		{"birth", OPT_STR, &birth}, {"no-profiling", OPT_FLAG, &no_profiling},
	};
	char *pos[1];
	pf_guest g = PF_GUEST_INIT;
	char id[PF_ID_STRLEN + 1];

	int n = parse_args(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1);
	if (n < 0)
		return 2;
	if (n != 1)
		return usage_error(cmd, "missing the guest's NAME");
	if (tier && pf_tier_parse(&g.tier, tier))
		return usage_error(cmd, "unknown tier '%s' (none, silver, gold, platinum, vip)", tier);
	if (parse_date_opt(cmd, "--birth", birth, &g.birth_date))
		return 2;
	g.name = pos[0];
	g.email = email;
	g.phone = phone;
	g.language = lang;
	g.loyalty_no = loyalty;
	g.tags = tags.v;
	g.tag_count = tags.n;
	g.consent = no_profiling ? 0 : PF_CONSENT_PROFILING;

	int rc = pf_guest_put(db, &g);
	if (rc)
		return lib_fail(rc);
	pf_id_format(id, &g.id);
	printf("Added %s  %s%s\n", id, g.name, no_profiling ? "  (no profiling consent)" : "");
	return 0;
}

static int cmd_find(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_guest_list *l = NULL;
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 1);
	if (n < 0)
		return 2;
	if (n != 1)
		return usage_error(cmd, "missing the QUERY");
	int rc = pf_guest_find(&l, db, pos[0]);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0)
		printf("No guest matches '%s'.\n", pos[0]);
	else
		print_guest_rows(stdout, l);
	pf_guest_list_free(l);
	return 0;
}

static void show_profile(const pf_guest *g)
{
	char id[PF_ID_STRLEN + 1], birth[16], created[32], updated[32], stays[16], tags[1024] = "";
	struct table t = {2, 0, NULL};

	pf_id_format(id, &g->id);
	format_date(birth, g->birth_date);
	format_time(created, g->created);
	format_time(updated, g->updated);
	snprintf(stays, sizeof stays, "%" PRIu32, g->stays);
	for (size_t i = 0; i < g->tag_count; i++) {
		size_t used = strlen(tags);
		snprintf(tags + used, sizeof tags - used, "%s%s", i ? ", " : "", g->tags[i]);
	}
	const char *consent = (g->consent & PF_CONSENT_PROFILING)
		? ((g->consent & PF_CONSENT_MARKETING) ? "profiling, marketing" : "profiling")
		: ((g->consent & PF_CONSENT_MARKETING) ? "marketing only (no profiling)"
		                                       : "none (no profiling)");
	printf("%s\n", g->name);
	table_row(&t, (const char *[]){"id", id});
	table_row(&t, (const char *[]){"email", g->email});
	table_row(&t, (const char *[]){"phone", g->phone});
	table_row(&t, (const char *[]){"language", g->language});
	table_row(&t, (const char *[]){"loyalty no.", g->loyalty_no});
	table_row(&t, (const char *[]){"tier", g->tier ? pf_tier_name(g->tier) : NULL});
	table_row(&t, (const char *[]){"tags", tags});
	table_row(&t, (const char *[]){"birth date", birth});
	table_row(&t, (const char *[]){"consent", consent});
	table_row(&t, (const char *[]){"stays", stays});
	table_row(&t, (const char *[]){"created", created});
	table_row(&t, (const char *[]){"updated", updated});
	table_print(&t, stdout, "  ");
	table_free(&t);
}

static void show_prefs(const pf_guest *g)
{
	struct table t = {6, 0, NULL};
	printf("\nPreferences (%zu)\n", g->pref_count);
	if (g->pref_count == 0) {
		printf("  none recorded\n");
		return;
	}
	table_row(&t, (const char *[]){"CATEGORY", "VALUE", "KIND", "COUNT", "OBSERVED BY", "NOTE"});
	for (size_t i = 0; i < g->pref_count; i++) {
		const pf_pref *p = &g->prefs[i];
		char count[16], by[2 * PF_FIELD_MAX + 4];
		snprintf(count, sizeof count, "%" PRIu32, p->count);
		if (p->staff && p->staff[0])
			snprintf(by, sizeof by, "%s (%s)", p->department, p->staff);
		else
			snprintf(by, sizeof by, "%s", p->department ? p->department : "");
		table_row(&t, (const char *[]){p->category, p->value, pf_pref_kind_name(p->kind),
		                               count, by, p->note});
	}
	table_print(&t, stdout, "  ");
	table_free(&t);
}

static int show_stays(pf_db *db, const pf_guest *g)
{
	pf_stay_list *l = NULL;
	struct table t = {6, 0, NULL};
	int rc = pf_stay_list_get(&l, db, &g->id);
	if (rc)
		return lib_fail(rc);
	printf("\nStays (%zu)\n", l->count);
	if (l->count == 0)
		printf("  none recorded\n");
	else
		table_row(&t, (const char *[]){"ARRIVAL", "DEPARTURE", "NIGHTS", "ROOM", "PROPERTY",
		                               "PARTY"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_stay *s = &l->items[i];
		char arr[16], dep[16], nights[24], party[16] = "";
		format_date(arr, s->arrival);
		format_date(dep, s->departure);
		snprintf(nights, sizeof nights, "%" PRId64,
		         s->arrival > 0 && s->departure > 0
		             ? date_days(s->departure) - date_days(s->arrival) : 0);
		if (s->party)
			snprintf(party, sizeof party, "%" PRIu32, s->party);
		table_row(&t, (const char *[]){arr, dep, nights, s->room, s->property, party});
	}
	if (l->count)
		table_print(&t, stdout, "  ");
	table_free(&t);
	pf_stay_list_free(l);
	return 0;
}

static int cmd_show(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_guest *g = NULL;
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 1);
	if (n < 0)
		return 2;
	if (n != 1)
		return usage_error(cmd, "missing the GUEST");
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	show_profile(g);
	show_prefs(g);
	status = show_stays(db, g);
	pf_guest_free(g);
	return status;
}

static int cmd_pref(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *by = NULL, *staff = NULL, *note = NULL;
	int dislike = 0, need = 0;
	const struct opt opts[] = {
		{"by", OPT_STR, &by}, {"staff", OPT_STR, &staff}, {"note", OPT_STR, &note},
		{"dislike", OPT_FLAG, &dislike}, {"need", OPT_FLAG, &need},
	};
	char *pos[3];
	pf_guest *g = NULL;
	pf_pref *p = NULL;
	pf_observation obs = PF_OBSERVATION_INIT;

	int n = parse_args(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 3);
	if (n < 0)
		return 2;
	if (n != 3)
		return usage_error(cmd, "need GUEST, CATEGORY and VALUE");
	if (!by)
		return usage_error(cmd, "say which department observed it with --by DEPT");
	if (dislike && need)
		return usage_error(cmd, "a preference is either --dislike or --need, not both");
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	obs.kind = need ? PF_NEED : dislike ? PF_DISLIKE : PF_LIKE;
	obs.department = by;
	obs.staff = staff;
	obs.note = note;
	int rc = pf_pref_set(db, &g->id, pos[1], pos[2], &obs);
	if (rc == 0)
		rc = pf_pref_get(&p, db, &g->id, pos[1]);
	if (rc) {
		status = lib_fail(rc);
	} else {
		printf("%s: %s = %s (%s, observed by %s", g->name, p->category, p->value,
		       pf_pref_kind_name(p->kind), p->department);
		if (p->staff && p->staff[0])
			printf(", staff %s", p->staff);
		if (p->count > 1)
			printf(", seen %" PRIu32 " times", p->count);
		printf(")\n");
	}
	pf_pref_free(p);
	pf_guest_free(g);
	return status;
}

static int cmd_unpref(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[2];
	pf_guest *g = NULL;
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 2);
	if (n < 0)
		return 2;
	if (n != 2)
		return usage_error(cmd, "need GUEST and CATEGORY");
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	int rc = pf_pref_del(db, &g->id, pos[1]);
	if (rc)
		status = lib_fail(rc);
	else
		printf("%s: removed %s\n", g->name, pos[1]);
	pf_guest_free(g);
	return status;
}

static int cmd_stay(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *room = NULL, *property = NULL, *party = NULL;
	const struct opt opts[] = {
		{"room", OPT_STR, &room}, {"property", OPT_STR, &property}, {"party", OPT_STR, &party},
	};
	char *pos[3];
	pf_guest *g = NULL;
	pf_stay s = {{{0}}, NULL, NULL, 0, 0, 0};

	int n = parse_args(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 3);
	if (n < 0)
		return 2;
	if (n != 3)
		return usage_error(cmd, "need GUEST, ARRIVAL and DEPARTURE");
	if (parse_date_opt(cmd, "ARRIVAL", pos[1], &s.arrival) ||
	    parse_date_opt(cmd, "DEPARTURE", pos[2], &s.departure) ||
	    parse_count(cmd, "--party", party, &s.party))
		return 2;
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	s.guest = g->id;
	s.room = room;
	s.property = property;
	int rc = pf_stay_add(db, &s);
	if (rc)
		status = lib_fail(rc);
	else
		printf("%s: stay %s to %s recorded (%" PRId64 " nights%s%s)\n", g->name, pos[1], pos[2],
		       date_days(s.departure) - date_days(s.arrival), room ? ", room " : "",
		       room ? room : "");
	pf_guest_free(g);
	return status;
}

/* ------------------------------------------------------------------ */
/* Rule book                                                            */
/* ------------------------------------------------------------------ */

static int cmd_rules(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	int source = 0;
	const struct opt opts[] = {{"source", OPT_FLAG, &source}};
	char *pos[2];
	pf_rule_list *l = NULL;
	pf_rule_error err;

	int n = parse_args(cmd, argc, argv, opts, 1, pos, 2);
	if (n < 0)
		return 2;
	if (n == 2 && !strcmp(pos[0], "load")) {
		int rc = pf_rules_load_file(db, pos[1], &err);
		if (rc == 0)
			rc = pf_rules_list(&l, db);
		if (rc)
			return lib_fail(rc);   /* pf_errmsg names file:line:column */
		printf("Loaded %zu rules from %s\n", l->count, pos[1]);
		pf_rule_list_free(l);
		return 0;
	}
	if (n != 1 || strcmp(pos[0], "list"))
		return usage_error(cmd, "expected 'rules load FILE' or 'rules list [--source]'");
	int rc = pf_rules_list(&l, db);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0)
		printf("The rule book is empty.\n");
	for (size_t i = 0; i < l->count; i++) {
		if (source)
			printf("%s%s\n", i ? "\n" : "", l->items[i].source);
		else
			printf("%3zu  %s\n", i + 1, l->items[i].name);
	}
	pf_rule_list_free(l);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

/* Options shared by reserve, checkin and preview. */
struct event_args {
	const char *arrival, *departure, *room, *party, *property;
};

/* Parse GUEST, an optional second positional (the event id, or the kind
 * for preview; required if `second_required`) and the event options into
 * *ev.  *g receives the guest (free it), *second the second positional or
 * NULL.  Returns an exit status. */
static int event_from_args(pf_event *ev, pf_guest **g, const char **second, int second_required,
                           pf_db *db, const struct command *cmd, int argc, char **argv)
{
	struct event_args a = {NULL, NULL, NULL, NULL, NULL};
	const struct opt opts[] = {
		{"arrival", OPT_STR, &a.arrival}, {"departure", OPT_STR, &a.departure},
		{"room", OPT_STR, &a.room}, {"party", OPT_STR, &a.party},
		{"property", OPT_STR, &a.property},
	};
	char *pos[2];

	*g = NULL;
	int n = parse_args(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 2);
	if (n < 0)
		return 2;
	if (n < 1 + second_required)
		return usage_error(cmd, second_required ? "need GUEST and EVENT_ID" : "missing the GUEST");
	*second = n == 2 ? pos[1] : NULL;
	if (parse_date_opt(cmd, "--arrival", a.arrival, &ev->arrival) ||
	    parse_date_opt(cmd, "--departure", a.departure, &ev->departure) ||
	    parse_count(cmd, "--party", a.party, &ev->party))
		return 2;
	ev->room = a.room;
	ev->property = a.property;
	int status = resolve_guest(g, db, pos[0]);
	if (status == 0)
		ev->guest = (*g)->id;
	return status;
}

/* A guest checked in at the desk will not see the kiosk's welcome screen:
 * dismiss those prompts rather than leave them open in the "kiosk" list,
 * where they would count as service omissions. */
static int dismiss_kiosk(pf_db *db, const pf_prompt_list *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->count; i++) {
		const pf_prompt *p = &l->items[i];
		if (strcmp(p->department, "kiosk") || p->status != PF_PROMPT_PENDING)
			continue;
		int rc = pf_prompt_dismiss(db, &p->id, "front_desk", "checked in at the front desk");
		if (rc)
			return lib_fail(rc);
		n++;
	}
	if (n)
		printf("  (kiosk welcome not needed at the desk: dismissed)\n");
	return 0;
}

static int fire(pf_db *db, const struct command *cmd, int argc, char **argv, pf_event_kind kind)
{
	pf_event ev = PF_EVENT_INIT;
	pf_guest *g = NULL;
	pf_prompt_list *l = NULL;
	const char *id = NULL;

	int status = event_from_args(&ev, &g, &id, 1, db, cmd, argc, argv);
	if (status)
		goto out;
	ev.kind = kind;
	ev.id = id;
	int rc = pf_fire(&l, db, &ev);
	if (rc) {
		status = lib_fail(rc);
		goto out;
	}
	printf("%s %s for %s: %zu prompt%s\n", kind == PF_EVENT_CHECK_IN ? "Check-in" : "Reservation",
	       id, g->name, l->count, l->count == 1 ? "" : "s");
	if (l->count)
		print_prompts(db, l, 0, COL_ID | COL_DEPT | COL_PRIO | COL_DUE | COL_TEXT, "  ");
	if (kind == PF_EVENT_CHECK_IN)
		status = dismiss_kiosk(db, l);
out:
	pf_prompt_list_free(l);
	pf_guest_free(g);
	return status;
}

static int cmd_reserve(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return fire(db, cmd, argc, argv, PF_EVENT_RESERVATION);
}

static int cmd_checkin(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return fire(db, cmd, argc, argv, PF_EVENT_CHECK_IN);
}

static int cmd_preview(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_event ev = PF_EVENT_INIT;
	pf_guest *g = NULL;
	pf_prompt_list *l = NULL;
	const char *kind = NULL;

	int status = event_from_args(&ev, &g, &kind, 0, db, cmd, argc, argv);
	if (status)
		goto out;
	ev.kind = PF_EVENT_CHECK_IN;
	if (kind && pf_event_kind_parse(&ev.kind, kind)) {
		status = usage_error(cmd, "unknown event '%s' (reservation, check_in, check_out, "
		                          "room_change)", kind);
		goto out;
	}
	int rc = pf_preview(&l, db, &ev);
	if (rc) {
		status = lib_fail(rc);
		goto out;
	}
	printf("Preview of %s for %s (nothing stored): %zu prompt%s\n", pf_event_kind_name(ev.kind),
	       g->name, l->count, l->count == 1 ? "" : "s");
	if (l->count)
		print_prompts(db, l, 0, COL_DEPT | COL_PRIO | COL_TEXT, "  ");
out:
	pf_prompt_list_free(l);
	pf_guest_free(g);
	return status;
}

/* ------------------------------------------------------------------ */
/* Work lists and the prompt lifecycle                                  */
/* ------------------------------------------------------------------ */

static int cmd_prompts(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_prompt_list *l = NULL;
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 1);
	if (n < 0)
		return 2;
	if (n != 1)
		return usage_error(cmd, "missing the department (front_desk, housekeeping, ...)");
	int rc = pf_prompts_pending(&l, db, pos[0]);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0)
		printf("%s: nothing open\n", pos[0]);
	else
		print_prompts(db, l, 1, COL_ID | COL_DUE | COL_PRIO | COL_STATUS | COL_GUEST | COL_TEXT,
		              "");
	pf_prompt_list_free(l);
	return 0;
}

static int cmd_overdue(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_prompt_list *l = NULL;
	char now[32];
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 1);
	if (n < 0)
		return 2;
	int rc = pf_prompts_overdue(&l, db, n ? pos[0] : NULL, 0);
	if (rc)
		return lib_fail(rc);
	format_time(now, pf_now(db));
	if (l->count == 0)
		printf("Nothing overdue at %s UTC.\n", now);
	else {
		printf("Overdue at %s UTC: %zu prompt%s\n", now, l->count, l->count == 1 ? "" : "s");
		print_prompts(db, l, 1, COL_ID | (n ? 0 : COL_DEPT) | COL_DUE | COL_LATE |
		              COL_PRIO | COL_STATUS | COL_GUEST | COL_TEXT, "");
	}
	pf_prompt_list_free(l);
	return 0;
}

enum action { ACT_ACK, ACT_DONE, ACT_DISMISS };

static int act(pf_db *db, const struct command *cmd, int argc, char **argv, enum action what)
{
	char *pos[3];
	int want = what == ACT_DISMISS ? 3 : 2;
	pf_id id;
	pf_prompt_list *l = NULL;
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, want);
	if (n < 0)
		return 2;
	if (n != want)
		return usage_error(cmd, what == ACT_DISMISS ? "need PROMPT, STAFF and REASON"
		                                            : "need PROMPT and STAFF");
	int status = resolve_prompt(&id, db, pos[0]);
	if (status)
		return status;
	int rc = what == ACT_ACK ? pf_prompt_ack(db, &id, pos[1])
	       : what == ACT_DONE ? pf_prompt_done(db, &id, pos[1])
	       : pf_prompt_dismiss(db, &id, pos[1], pos[2]);
	if (rc == 0)
		rc = pf_prompt_get(&l, db, &id);
	if (rc)
		return lib_fail(rc);
	const pf_prompt *p = &l->items[0];
	char short_id[PF_ID_STRLEN + 1];
	pf_id_format(short_id, &p->id);
	short_id[SHORT_ID] = '\0';
	printf("%s %s (%s) by %s: %s\n", short_id, pf_prompt_status_name(p->status), p->department,
	       pos[1], p->text);
	if (p->dismiss_reason && p->dismiss_reason[0])
		printf("%*s reason: %s\n", SHORT_ID, "", p->dismiss_reason);
	pf_prompt_list_free(l);
	return 0;
}

static int cmd_ack(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return act(db, cmd, argc, argv, ACT_ACK);
}

static int cmd_done(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return act(db, cmd, argc, argv, ACT_DONE);
}

static int cmd_dismiss(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return act(db, cmd, argc, argv, ACT_DISMISS);
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

static const struct command commands[] = {
	{"add", cmd_add, 0,
	 "add NAME [--email E] [--phone P] [--lang L] [--loyalty N] [--tier T]\n"
	 "                 [--tag T]... [--birth YYYY-MM-DD] [--no-profiling]"},
	{"find", cmd_find, PF_OPEN_READONLY, "find QUERY"},
	{"show", cmd_show, PF_OPEN_READONLY, "show GUEST"},
	{"pref", cmd_pref, 0,
	 "pref GUEST CATEGORY VALUE --by DEPT [--staff S] [--note N] [--dislike|--need]"},
	{"unpref", cmd_unpref, 0, "unpref GUEST CATEGORY"},
	{"stay", cmd_stay, 0,
	 "stay GUEST ARRIVAL DEPARTURE [--room R] [--property P] [--party N]"},
	{"rules", cmd_rules, 0, "rules load FILE | rules list [--source]"},
	{"reserve", cmd_reserve, 0,
	 "reserve GUEST EVENT_ID [--arrival D] [--departure D] [--room R] [--party N]\n"
	 "                 [--property P]"},
	{"checkin", cmd_checkin, 0, "checkin GUEST EVENT_ID [same options as reserve]"},
	{"preview", cmd_preview, PF_OPEN_READONLY,
	 "preview GUEST [reservation|check_in|check_out|room_change] [same options]"},
	{"prompts", cmd_prompts, PF_OPEN_READONLY, "prompts DEPT"},
	{"overdue", cmd_overdue, PF_OPEN_READONLY, "overdue [DEPT]"},
	{"ack", cmd_ack, 0, "ack PROMPT STAFF"},
	{"done", cmd_done, 0, "done PROMPT STAFF"},
	{"dismiss", cmd_dismiss, 0, "dismiss PROMPT STAFF REASON"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fputs(
"usage: " PROG " [-d DIR] COMMAND [ARGS]\n"
"\n"
"The front desk's view of libprofile guest profiles and service prompts.\n"
"\n"
"Guests\n"
"  add NAME [--email E] [--phone P] [--lang L] [--loyalty N] [--tier T]\n"
"           [--tag T]... [--birth YYYY-MM-DD] [--no-profiling]\n"
"                              create a guest; tiers: none silver gold platinum vip\n"
"  find QUERY                  by e-mail, phone, loyalty no. or start of a name\n"
"  show GUEST                  profile, preferences and stays\n"
"  pref GUEST CATEGORY VALUE --by DEPT [--staff S] [--note N] [--dislike|--need]\n"
"                              record what a department observed (a like by default)\n"
"  unpref GUEST CATEGORY       forget a preference\n"
"  stay GUEST ARRIVAL DEPARTURE [--room R] [--property P] [--party N]\n"
"                              record a past or current stay\n"
"\n"
"Rule book\n"
"  rules load FILE             replace the rule book (all or nothing)\n"
"  rules list [--source]       rule names, or their full text\n"
"\n"
"Events\n"
"  reserve GUEST EVENT_ID [--arrival D] [--departure D] [--room R] [--party N]\n"
"                              [--property P]\n"
"                              a booking: send its prompts to the departments\n"
"  checkin GUEST EVENT_ID [same options]\n"
"                              a check-in at the desk: prompts, the stay is\n"
"                              recorded, the kiosk's welcome is dismissed\n"
"  preview GUEST [reservation|check_in|check_out|room_change] [same options]\n"
"                              the prompts an event would make; nothing stored\n"
"                              (default: check_in)\n"
"\n"
"Prompts\n"
"  prompts DEPT                the department's open work list, earliest due first\n"
"  overdue [DEPT]              open prompts past their due time\n"
"  ack PROMPT STAFF            seen, being handled\n"
"  done PROMPT STAFF           carried out\n"
"  dismiss PROMPT STAFF REASON\n"
"                              will not be carried out, and why\n"
"\n"
"GUEST is a guest id, or an e-mail, phone, loyalty number or name that\n"
"matches exactly one guest.  PROMPT is a prompt id or the first 6 or more\n"
"hex digits of an open one, as `prompts` shows them.  Dates are YYYY-MM-DD;\n"
"times are shown in UTC.  EVENT_ID is your reservation or transaction id:\n"
"sending the same one twice does the work once, so a reservation and its\n"
"check-in need different ids.\n"
"\n"
"Options\n"
"  -d DIR   database directory (default: $PF_DB, else " DEFAULT_DB ")\n"
"  -h       this help\n"
"\n"
"Environment\n"
"  PF_DB    database directory\n"
"  PF_NOW   fixed clock: \"2026-11-23T09:00:00Z\" or epoch seconds (reproducible demos)\n"
"\n"
"Exit status: 0 done, 1 failed, 2 bad command line.\n", f);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("PF_DB");
	const char *now_env = getenv("PF_NOW");
	pf_options opts = PF_OPTIONS_INIT;
	pf_time fixed_now = 0;
	pf_db *db = NULL;
	int i = 1;

	if (!dir || !dir[0])
		dir = DEFAULT_DB;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-d")) {
			if (i + 1 == argc)
				return usage_error(NULL, "option -d needs a directory");
			dir = argv[++i];
		} else if (!strncmp(argv[i], "-d", 2) && argv[i][2]) {
			dir = argv[i] + 2;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			return usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	const struct command *cmd = NULL;
	for (size_t k = 0; k < NCOMMANDS; k++)
		if (!strcmp(commands[k].name, argv[i]))
			cmd = &commands[k];
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[i]);

	if (now_env && now_env[0]) {
		if (parse_instant(now_env, &fixed_now))
			return usage_error(NULL, "PF_NOW must be like 2026-11-23T09:00:00Z or epoch "
			                         "seconds, not '%s'", now_env);
		opts.clock = fixed_clock;
		opts.clock_payload = &fixed_now;
	}
	opts.flags = cmd->open_flags;
	int rc = pf_open(&db, dir, &opts);
	if (rc == PF_ENOTFOUND && (cmd->open_flags & PF_OPEN_READONLY))
		return fail("no database in %s yet (add a guest or load rules first)", dir);
	if (rc)
		return lib_fail(rc);
	int status = cmd->run(db, cmd, argc - i - 1, argv + i + 1);
	pf_close(db);
	return status;
}
