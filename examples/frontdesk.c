/*
 * frontdesk — a small front-desk console over libprofile.
 *
 * Owns only argument handling and printing: every command is a thin call
 * into the public API (libprofile.h is the only library header it may
 * include; cli.h holds the helpers it shares with kiosk).
 * Run `frontdesk help` for the commands.  With PF_NOW set the clock is
 * fixed, so the demo and the README examples print the same times on
 * every run.  There is no default database (-d DIR or PF_DB), and output
 * that cannot be written makes the run fail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "frontdesk"
#define SHORT_ID 8        /* hex digits of a prompt id shown in lists */
#define MIN_PREFIX 6      /* shortest prompt id prefix accepted */

#include "cli.h"

struct command;
typedef int (*command_fn)(pf_db *db, const struct command *cmd, int argc, char **argv);

struct command {
	const char *name;
	command_fn run;
	unsigned int open_flags;  /* PF_OPEN_READONLY for commands that only look */
	const char *usage;
	const char *about;        /* one paragraph, for `help COMMAND` */
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

/* A failure found here, not in the library. */
static int PRINTF_LIKE(1, 2) fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay_error(fmt, ap);
	va_end(ap);
	return 1;
}

/* Bad command line: say what, then the command's usage.  Exit status 2. */
static int PRINTF_LIKE(2, 3) usage_error(const struct command *cmd, const char *fmt, ...)
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
static size_t text_width(const char *s)
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

static int64_t date_days(pf_date d)
{
	return civil_days(d / 10000, d / 100 % 100, d % 100);
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

/* parse_args for a command that takes exactly `want` positionals;
 * `missing` is the usage error otherwise.  Returns 0 or exit status 2. */
static int parse_exactly(const struct command *cmd, int argc, char **argv,
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
static int parse_count(const struct command *cmd, const char *what, const char *s, uint32_t *out)
{
	if (s && parse_uint32(s, out)) {
		usage_error(cmd, "%s must be a whole number, not '%s'", what, s);
		return -1;
	}
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

enum short_id { ID_PROMPT, ID_FEEDBACK };

/* PROMPT (FEEDBACK) is a full UUID, or a prefix of at least MIN_PREFIX hex
 * digits that matches exactly one open prompt (one feedback).  Returns an
 * exit status. */
static int resolve_short_id(pf_id *out, pf_db *db, const char *arg, enum short_id what)
{
	static const struct { const char *noun, *none, *many; } words[] = {
		[ID_PROMPT] = {"prompt", "no open prompt", "open prompts"},
		[ID_FEEDBACK] = {"feedback", "no feedback", "feedback records"},
	};
	pf_prompt_list *prompts = NULL;
	pf_feedback_list *feedback = NULL;
	char want[PF_ID_STRLEN + 1];
	size_t len = strlen(arg), count, hits = 0;
	pf_id hit = {{0}};
	int rc;

	if (pf_id_parse(out, arg) == 0)
		return 0;
	if (len < MIN_PREFIX || len > PF_ID_STRLEN || strspn(arg, "0123456789abcdefABCDEF-") != len)
		return fail("'%s' is not a %s id (give at least %d hex digits)", arg, words[what].noun,
		            MIN_PREFIX);
	for (size_t i = 0; i <= len; i++)
		want[i] = (arg[i] >= 'A' && arg[i] <= 'F') ? (char)(arg[i] - 'A' + 'a') : arg[i];

	/* For prompts, every open one of every department: due before the
	 * end of time. */
	rc = what == ID_PROMPT ? pf_prompts_overdue(&prompts, db, NULL, INT64_MAX)
	                       : pf_feedback_list_get(&feedback, db, NULL, -1);
	if (rc)
		return lib_fail(rc);
	count = what == ID_PROMPT ? prompts->count : feedback->count;
	for (size_t i = 0; i < count; i++) {
		const pf_id *cand = what == ID_PROMPT ? &prompts->items[i].id : &feedback->items[i].id;
		char id[PF_ID_STRLEN + 1];
		pf_id_format(id, cand);
		if (!strncmp(id, want, len)) {
			hits++;
			hit = *cand;
		}
	}
	if (hits == 1)
		*out = hit;
	pf_prompt_list_free(prompts);
	pf_feedback_list_free(feedback);
	if (hits == 0)
		return fail("%s has an id starting with '%s'", words[what].none, arg);
	if (hits > 1)
		return fail("'%s' matches %zu %s; give more digits", arg, hits, words[what].many);
	return 0;
}

/* The one argument of a command without options, a GUEST, resolved:
 * free *g.  Returns an exit status. */
static int one_guest(pf_db *db, const struct command *cmd, int argc, char **argv, pf_guest **g)
{
	char *pos[1];
	*g = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the GUEST"))
		return 2;
	return resolve_guest(g, db, pos[0]);
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

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the guest's NAME"))
		return 2;
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
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the QUERY"))
		return 2;
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

/* What a guest agreed to, as `show` and `consent` print it. */
static const char *consent_text(unsigned int consent)
{
	if (consent & PF_CONSENT_PROFILING)
		return consent & PF_CONSENT_MARKETING ? "profiling, marketing" : "profiling";
	return consent & PF_CONSENT_MARKETING ? "marketing only (no profiling)"
	                                      : "none (no profiling)";
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
	printf("%s\n", g->name);
	table_row(&t, (const char *[]){"id", id});
	table_row(&t, (const char *[]){"email", g->email});
	table_row(&t, (const char *[]){"phone", g->phone});
	table_row(&t, (const char *[]){"language", g->language});
	table_row(&t, (const char *[]){"loyalty no.", g->loyalty_no});
	if (g->external_id)   /* only for imported guests: other output unchanged */
		table_row(&t, (const char *[]){"external id", g->external_id});
	table_row(&t, (const char *[]){"tier", g->tier ? pf_tier_name(g->tier) : NULL});
	table_row(&t, (const char *[]){"tags", tags});
	table_row(&t, (const char *[]){"birth date", birth});
	table_row(&t, (const char *[]){"consent", consent_text(g->consent)});
	table_row(&t, (const char *[]){"stays", stays});
	char complaints[64] = "", unsat[32] = "";
	if (g->complaints_total)
		snprintf(complaints, sizeof complaints, "%" PRIu32 " open of %" PRIu32,
		         g->complaints_open, g->complaints_total);
	if (g->not_satisfied_at)
		format_time(unsat, g->not_satisfied_at);
	table_row(&t, (const char *[]){"complaints", complaints});
	if (g->not_satisfied_at)
		table_row(&t, (const char *[]){"not satisfied", unsat});
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
	pf_guest *g = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
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

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 3,
	                  "need GUEST, CATEGORY and VALUE"))
		return 2;
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
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 2, "need GUEST and CATEGORY"))
		return 2;
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

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 3,
	                  "need GUEST, ARRIVAL and DEPARTURE"))
		return 2;
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

/* `rules clear` asks nothing (a script must be able to run it), but it
 * says how many rules went, so that a mistaken run is noticed at once.
 * The count is read just before the clear, in its own transaction: a
 * book loaded in between by another process would be cleared uncounted. */
static int rules_clear(pf_db *db)
{
	pf_rule_list *l = NULL;
	int rc = pf_rules_list(&l, db);
	if (rc)
		return lib_fail(rc);
	size_t n = l->count;
	pf_rule_list_free(l);
	if ((rc = pf_rules_clear(db)))
		return lib_fail(rc);
	printf("Removed %zu rule%s; the rule book is empty: events make no prompts until "
	       "a book is loaded.\n", n, n == 1 ? "" : "s");
	return 0;
}

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
		if (rc) {
			lib_fail(rc);   /* pf_errmsg names file:line:column */
			/* The library's advice names its C function; say the command. */
			if (rc == PF_ESYNTAX && strstr(pf_errmsg(), "defines no rules"))
				fputs(PROG ": to remove every rule on purpose, run '" PROG
				      " rules clear'\n", stderr);
			return 1;
		}
		printf("Loaded %zu rules from %s\n", l->count, pos[1]);
		pf_rule_list_free(l);
		return 0;
	}
	if (n == 1 && !strcmp(pos[0], "clear") && !source)
		return rules_clear(db);
	if (n != 1 || strcmp(pos[0], "list"))
		return usage_error(cmd, "expected 'rules load FILE', 'rules list [--source]' or "
		                        "'rules clear'");
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
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1,
	                  "missing the department (front_desk, housekeeping, ...)"))
		return 2;
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
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, want,
	                  what == ACT_DISMISS ? "need PROMPT, STAFF and REASON"
	                                      : "need PROMPT and STAFF"))
		return 2;
	int status = resolve_short_id(&id, db, pos[0], ID_PROMPT);
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
/* history: a guest's journal                                           */
/* ------------------------------------------------------------------ */

/* Append to a growing string; aborts on OOM like the rest of the CLI. */
static void str_add(char **s, size_t *len, const char *add)
{
	size_t n = strlen(add);
	char *g = realloc(*s, *len + n + 1);
	if (!g)
		die_nomem();
	memcpy(g + *len, add, n + 1);
	*s = g;
	*len += n;
}

/* "name=value, email=old -> new, phone=old -> (none)": a field and its
 * "FIELD.old" companion are shown together. */
static char *history_fields(const pf_journal_entry *e)
{
	char *s = NULL;
	size_t len = 0;
	str_add(&s, &len, "");
	for (size_t i = 0; i < e->field_count; i++) {
		const pf_journal_field *f = &e->fields[i];
		size_t nl = strlen(f->name);
		if (nl > 4 && !strcmp(f->name + nl - 4, ".old"))
			continue;
		const pf_journal_field *old = NULL;
		for (size_t j = 0; j < e->field_count && !old; j++)
			if (!strncmp(e->fields[j].name, f->name, nl) &&
			    !strcmp(e->fields[j].name + nl, ".old") && strlen(e->fields[j].name) == nl + 4)
				old = &e->fields[j];
		if (len)
			str_add(&s, &len, ", ");
		str_add(&s, &len, f->name);
		str_add(&s, &len, "=");
		if (old) {
			str_add(&s, &len, old->value ? old->value : "(none)");
			str_add(&s, &len, " -> ");
		}
		str_add(&s, &len, f->value ? f->value : "(none)");
	}
	return s;
}

static int cmd_history(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *since_opt = NULL;
	const struct opt opts[] = { {"since", OPT_STR, &since_opt} };
	char *pos[1], idtext[PF_ID_STRLEN + 1];
	pf_guest *g = NULL;
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	struct table t = {7, 0, NULL};
	uint64_t since = 0;
	pf_id id;
	int rc, status = 0;

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the GUEST"))
		return 2;
	if (since_opt) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(since_opt, &end, 10);
		if (!since_opt[0] || *end || errno || since_opt[0] == '-')
			return usage_error(cmd, "--since must be a sequence number, not '%s'", since_opt);
		since = v;
	}
	/* A full id works for an erased guest too: its tombstones remain. */
	if (pf_id_parse(&id, pos[0]) != 0) {
		if ((status = resolve_guest(&g, db, pos[0])))
			return status;
		id = g->id;
	} else if (pf_guest_get(&g, db, &id) != 0) {
		g = NULL;
	}
	pf_id_format(idtext, &id);
	rc = pf_journal_iter(&it, db, since, &id);
	if (rc) {
		status = lib_fail(rc);
		goto out;
	}
	table_row(&t, (const char *[]){"SEQ", "TIME", "ACTOR", "OP", "OBJECT", "REF", "CHANGES"});
	while ((rc = pf_journal_next(&e, it)) == 0) {
		char seq[24], when[32], object[PF_ID_STRLEN + 1] = "";
		snprintf(seq, sizeof seq, "%" PRIu64, e->seq);
		format_time(when, e->time);
		if (!pf_id_is_zero(&e->object)) {
			pf_id_format(object, &e->object);
			object[SHORT_ID] = '\0';   /* as `prompts` shows prompt ids */
		}
		char *changes = history_fields(e);
		table_row(&t, (const char *[]){seq, when, e->actor, e->op, object, e->ref, changes});
		free(changes);
	}
	if (rc != PF_ITEROVER) {
		status = lib_fail(rc);
		goto out;
	}
	printf("History of %s (%s)\n", g ? g->name : "an erased or unknown guest", idtext);
	if (t.nrows == 1)
		printf("  no journal entries\n");
	else
		table_print(&t, stdout, "  ");
out:
	table_free(&t);
	pf_journal_iterator_free(it);
	pf_guest_free(g);
	return status;
}

/* ------------------------------------------------------------------ */
/* Export and bulk import                                               */
/* ------------------------------------------------------------------ */

static int cmd_export(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *json = NULL;
	pf_guest *g = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
	if (status)
		return status;
	int rc = pf_guest_export_json(&json, db, &g->id);
	pf_guest_free(g);
	if (rc)
		return lib_fail(rc);
	puts(json);
	pf_string_free(json);
	return 0;
}

/* FILE.csv or FILE.jsonl (also .ndjson); --format overrides. */
static int file_format(const struct command *cmd, const char *path, const char *format,
                       int *csv)
{
	const char *dot = strrchr(path, '.');
	const char *f = format ? format : dot ? dot + 1 : "";
	if (!strcmp(f, "csv"))
		*csv = 1;
	else if (!strcmp(f, "jsonl") || !strcmp(f, "ndjson"))
		*csv = 0;
	else
		return usage_error(cmd, format ? "--format must be csv or jsonl, not '%s'" :
		                   "cannot tell the format of '%s': name it .csv or .jsonl, or "
		                   "give --format", format ? format : path);
	return 0;
}

/* A progress bar on the terminal: "[#####.....]  52%  5200/10000 rows". */
static int progress_bar(uint64_t done, uint64_t total, void *payload)
{
	(void)payload;
	char bar[31];
	unsigned pct = total ? (unsigned)(done * 100 / total) : 0;
	size_t fill = total ? (size_t)(done * 30 / total) : 0;
	for (size_t i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	if (total)
		fprintf(stderr, "\r[%s] %3u%%  %" PRIu64 "/%" PRIu64 " rows", bar, pct, done, total);
	else
		fprintf(stderr, "\r%" PRIu64 " rows", done);
	fflush(stderr);
	return 0;
}

static int cmd_import(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *format = NULL, *by = NULL, *batch = NULL;
	const struct opt opts[] = {
		{"format", OPT_STR, &format}, {"by", OPT_STR, &by}, {"batch", OPT_STR, &batch},
	};
	char *pos[1];
	int csv = 0;
	uint32_t batch_size = 0;
	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the FILE"))
		return 2;
	if (file_format(cmd, pos[0], format, &csv) || parse_count(cmd, "--batch", batch, &batch_size))
		return 2;

	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.batch_size = batch_size;
	o.department = by;
	int bar = isatty(STDERR_FILENO);
	if (bar)
		o.progress = progress_bar;
	pf_import_report *rep = NULL;
	int rc = csv ? pf_import_csv(&rep, db, pos[0], &o) : pf_import_jsonl(&rep, db, pos[0], &o);
	if (bar)
		fputc('\n', stderr);
	if (rc)
		return lib_fail(rc);
	printf("Imported %s: %" PRIu64 " rows, %" PRIu64 " created, %" PRIu64 " updated, %"
	       PRIu64 " rejected\n", pos[0], rep->rows, rep->created, rep->updated, rep->rejected);
	if (rep->reject_count) {
		struct table t = {2, 0, NULL};
		table_row(&t, (const char *[]){"LINE", "REASON"});
		for (size_t i = 0; i < rep->reject_count; i++) {
			char line[24];
			snprintf(line, sizeof line, "%" PRIu64, rep->rejects[i].line);
			table_row(&t, (const char *[]){line, rep->rejects[i].reason});
		}
		table_print(&t, stdout, "  ");
		table_free(&t);
	}
	pf_import_report_free(rep);
	return 0;
}

static int cmd_export_all(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *format = NULL;
	const struct opt opts[] = { {"format", OPT_STR, &format} };
	char *pos[1];
	int csv = 0;
	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the FILE"))
		return 2;
	if (file_format(cmd, pos[0], format, &csv))
		return 2;
	int rc = csv ? pf_export_csv(db, pos[0]) : pf_export_jsonl(db, pos[0]);
	if (rc)
		return lib_fail(rc);
	printf("Exported every guest to %s\n", pos[0]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Data management: duplicates, merge, erasure, copies, consent          */
/* ------------------------------------------------------------------ */

static int cmd_duplicates(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_guest *g = NULL;
	pf_duplicate_list *l = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
	if (status)
		return status;
	int rc = pf_guest_duplicates(&l, db, &g->id);
	if (rc) {
		pf_guest_free(g);
		return lib_fail(rc);
	}
	if (l->count == 0)
		printf("No likely duplicates of %s.\n", g->name);
	else
		printf("Likely duplicates of %s:\n", g->name);
	struct table t = {6, 0, NULL};
	if (l->count)
		table_row(&t, (const char *[]){"SCORE", "ID", "NAME", "EMAIL", "PHONE", "WHY"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_duplicate *d = &l->items[i];
		char id[PF_ID_STRLEN + 1], score[8], why[96] = "";
		static const struct { unsigned int bit; const char *name; } reasons[] = {
			{PF_DUP_EMAIL, "e-mail"}, {PF_DUP_PHONE, "phone"}, {PF_DUP_LOYALTY, "loyalty no."},
			{PF_DUP_NAME_BIRTH, "name+birth date"}, {PF_DUP_SIMILAR_NAME, "similar name"},
		};
		for (size_t k = 0; k < sizeof reasons / sizeof reasons[0]; k++)
			if (d->reasons & reasons[k].bit) {
				size_t used = strlen(why);
				snprintf(why + used, sizeof why - used, "%s%s", used ? ", " : "",
				         reasons[k].name);
			}
		pf_id_format(id, &d->guest);
		snprintf(score, sizeof score, "%d", d->score);
		pf_guest *o = NULL;
		if (pf_guest_get(&o, db, &d->guest) != 0)
			o = NULL;
		table_row(&t, (const char *[]){score, id, o ? o->name : "?", o ? o->email : NULL,
		                               o ? o->phone : NULL, why});
		pf_guest_free(o);
	}
	if (l->count) {
		table_print(&t, stdout, "  ");
		printf("Merge one with `" PROG " merge KEEP DUPLICATE`, or record that they differ "
		       "with `" PROG " not-duplicate GUEST OTHER`.\n");
	}
	table_free(&t);
	pf_duplicate_list_free(l);
	pf_guest_free(g);
	return 0;
}

/* Two GUEST arguments, resolved. */
static int two_guests(pf_db *db, const struct command *cmd, int argc, char **argv,
                      pf_guest **a, pf_guest **b)
{
	char *pos[2];
	*a = *b = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 2, "need two guests"))
		return 2;
	int status = resolve_guest(a, db, pos[0]);
	if (status == 0 && (status = resolve_guest(b, db, pos[1])) != 0) {
		pf_guest_free(*a);
		*a = NULL;
	}
	return status;
}

static int cmd_not_duplicate(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_guest *a, *b;
	int status = two_guests(db, cmd, argc, argv, &a, &b);
	if (status)
		return status;
	int rc = pf_guest_not_duplicate(db, &a->id, &b->id);
	if (rc == 0)
		printf("Recorded: %s and %s are different guests.\n", a->name, b->name);
	pf_guest_free(a);
	pf_guest_free(b);
	return rc ? lib_fail(rc) : 0;
}

static int cmd_merge(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_guest *keep, *dup;
	pf_id merge;
	char kid[PF_ID_STRLEN + 1], did[PF_ID_STRLEN + 1], mid[PF_ID_STRLEN + 1];
	int status = two_guests(db, cmd, argc, argv, &keep, &dup);
	if (status)
		return status;
	int rc = pf_guest_merge(&merge, db, &keep->id, &dup->id);
	if (rc == 0) {
		pf_id_format(kid, &keep->id);
		pf_id_format(did, &dup->id);
		pf_id_format(mid, &merge);
		printf("Merged %s (%s) into %s (%s).\n", did, dup->name, kid, keep->name);
		printf("Merge id %s; undo with `" PROG " unmerge %s`.\n", mid, mid);
	}
	pf_guest_free(keep);
	pf_guest_free(dup);
	return rc ? lib_fail(rc) : 0;
}

static int cmd_unmerge(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_id merge;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the MERGE_ID"))
		return 2;
	if (pf_id_parse(&merge, pos[0]))
		return usage_error(cmd, "'%s' is not a merge id (a UUID, as `merge` printed it)",
		                   pos[0]);
	int rc = pf_guest_unmerge(db, &merge);
	if (rc)
		return lib_fail(rc);
	printf("Merge %s undone: both profiles are back as they were.\n", pos[0]);
	return 0;
}

static int cmd_erase(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char id[PF_ID_STRLEN + 1];
	pf_guest *g = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
	if (status)
		return status;
	pf_id_format(id, &g->id);
	int rc = pf_guest_erase(db, &g->id);
	pf_guest_free(g);
	if (rc)
		return lib_fail(rc);
	printf("Erased guest %s: profile, preferences and stays removed; prompts, feedback\n"
	       "and journal entries tombstoned.  To remove the bytes from the data file too,\n"
	       "compact into a new directory and swap it in (README, \"Data management\").\n", id);
	return 0;
}

static int copy_command(pf_db *db, const struct command *cmd, int argc, char **argv,
                        int compact)
{
	char *pos[1];
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the destination DIR"))
		return 2;
	int rc = compact ? pf_compact(db, pos[0]) : pf_backup(db, pos[0]);
	if (rc)
		return lib_fail(rc);
	printf("%s %s; open it with `" PROG " -d %s ...`.\n",
	       compact ? "Compacted copy written to" : "Backup written to", pos[0], pos[0]);
	return 0;
}

static int cmd_compact(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return copy_command(db, cmd, argc, argv, 1);
}

static int cmd_backup(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return copy_command(db, cmd, argc, argv, 0);
}

static int cmd_consent(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *by = NULL;
	const struct opt opts[] = { {"by", OPT_STR, &by} };
	char *pos[4];
	pf_guest *g = NULL;
	unsigned int consent = 0;
	int n = parse_args(cmd, argc, argv, opts, 1, pos, 4);
	if (n < 0)
		return 2;
	if (n < 2)
		return usage_error(cmd, "need GUEST and profiling, marketing or none");
	for (int i = 1; i < n; i++) {
		char word[32];
		const char *p = pos[i];
		while (*p) {
			size_t len = strcspn(p, ",");
			if (len == 0 || len >= sizeof word)
				return usage_error(cmd, "unknown consent '%s'", pos[i]);
			memcpy(word, p, len);
			word[len] = '\0';
			if (!strcmp(word, "profiling"))
				consent |= PF_CONSENT_PROFILING;
			else if (!strcmp(word, "marketing"))
				consent |= PF_CONSENT_MARKETING;
			else if (strcmp(word, "none") != 0)
				return usage_error(cmd, "unknown consent '%s' (profiling, marketing, none)",
				                   word);
			p += len + (p[len] == ',');
		}
	}
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	int rc = pf_guest_set_consent(db, &g->id, consent, by);
	if (rc == 0)
		printf("Consent of %s: %s\n", g->name, consent_text(consent));
	pf_guest_free(g);
	return rc ? lib_fail(rc) : 0;
}

static int cmd_retention(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *by = NULL;
	const struct opt opts[] = { {"by", OPT_STR, &by} };
	char *pos[1];
	uint32_t days = 0;
	pf_retention_report rep;
	if (parse_exactly(cmd, argc, argv, opts, 1, pos, 1, "missing DAYS"))
		return 2;
	if (parse_count(cmd, "DAYS", pos[0], &days))
		return 2;
	int rc = pf_retention_run(&rep, db, days, by);
	if (rc)
		return lib_fail(rc);
	printf("Examined %" PRIu64 " profiles; anonymised %" PRIu64 " with no stay in the last "
	       "%" PRIu32 " days.\n", rep.examined, rep.anonymised, days);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Complaints, feedback and service quality                             */
/* ------------------------------------------------------------------ */

/* "HH:MM YYYY-MM-DD" in the hotel's time zone (pf_options / PF_TZ). */
static void format_local(char buf[32], pf_db *db, pf_time t)
{
	int off = 0;
	pf_utc_offset(&off, db, t);
	format_time(buf, t + off);
}

/* The day after a valid pf_date. */
static pf_date next_date(pf_date d)
{
	int y = (int)(d / 10000), m = (int)(d / 100 % 100), day = (int)(d % 100);
	pf_date out;
	if (pf_date_make(&out, y, m, day + 1) == 0)
		return out;
	if (pf_date_make(&out, y, m + 1, 1) == 0)
		return out;
	pf_date_make(&out, y + 1, 1, 1);
	return out;
}

/* "CAT=VALUE" for --need / --dislike. */
static int split_pref(const struct command *cmd, const char *opt, const char *s, char *cat,
                      size_t cap, const char **value)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s || !eq[1] || (size_t)(eq - s) >= cap)
		return usage_error(cmd, "--%s needs CATEGORY=VALUE, not '%s'", opt, s);
	memcpy(cat, s, (size_t)(eq - s));
	cat[eq - s] = '\0';
	*value = eq + 1;
	return 0;
}

static int record_feedback(pf_db *db, const struct command *cmd, int argc, char **argv,
                           pf_feedback_kind kind)
{
	const char *by = NULL, *sev = NULL, *stay = NULL, *need = NULL, *dislike = NULL;
	const struct opt opts[] = {
		{"by", OPT_STR, &by}, {"severity", OPT_STR, &sev}, {"stay", OPT_STR, &stay},
		{"need", OPT_STR, &need}, {"dislike", OPT_STR, &dislike},
	};
	char *pos[4], cat[PF_CATEGORY_MAX + 1];
	pf_feedback f = PF_FEEDBACK_INIT;
	pf_pref learn;
	pf_guest *g = NULL;
	uint32_t severity = 1;

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 4,
	                  "need GUEST DEPT CATEGORY TEXT"))
		return 2;
	if (!by)
		return usage_error(cmd, "say who recorded it with --by STAFF");
	if (need && dislike)
		return usage_error(cmd, "--need and --dislike exclude each other");
	if (parse_count(cmd, "--severity", sev, &severity) ||
	    parse_date_opt(cmd, "--stay", stay, &f.stay))
		return 2;
	memset(&learn, 0, sizeof learn);
	if (need || dislike) {
		int st = split_pref(cmd, need ? "need" : "dislike", need ? need : dislike, cat,
		                    sizeof cat, &learn.value);
		if (st)
			return st;
		learn.category = cat;
		learn.kind = need ? PF_NEED : PF_DISLIKE;
	}
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	f.guest = g->id;
	f.kind = kind;
	f.department = pos[1];
	f.category = pos[2];
	f.text = pos[3];
	/* The library says what is wrong with a bad one. */
	f.severity = severity > 1000000 ? 1000000 : (int)severity;
	f.recorded_by = by;
	int rc = pf_feedback_add(db, &f, need || dislike ? &learn : NULL);
	if (rc) {
		pf_guest_free(g);
		return lib_fail(rc);
	}
	char id[PF_ID_STRLEN + 1], due[32], due_utc[32];
	pf_id_format(id, &f.id);
	printf("%s %s recorded for %s\n", pf_feedback_kind_name(kind), id, g->name);
	if (kind == PF_FEEDBACK_COMPLAINT) {
		int off = 0;
		pf_utc_offset(&off, db, f.due);
		format_local(due, db, f.due);
		format_time(due_utc, f.due);
		printf("  due by %s hotel time%s%s%s: prompts sent to %s%s\n", due,
		       off ? " (" : "", off ? due_utc : "", off ? " UTC)" : "",
		       f.department, strcmp(f.department, "management") ? " and management" : "");
	}
	if (need || dislike)
		printf("  learnt: %s %s = %s\n", pf_pref_kind_name(learn.kind), learn.category,
		       learn.value);
	pf_guest_free(g);
	return 0;
}

static int cmd_complaint(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return record_feedback(db, cmd, argc, argv, PF_FEEDBACK_COMPLAINT);
}

static int cmd_compliment(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return record_feedback(db, cmd, argc, argv, PF_FEEDBACK_COMPLIMENT);
}

static int cmd_suggestion(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return record_feedback(db, cmd, argc, argv, PF_FEEDBACK_SUGGESTION);
}

static int cmd_feedback(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *st = NULL;
	const struct opt opts[] = { {"status", OPT_STR, &st} };
	char *pos[1];
	pf_guest *g = NULL;
	pf_feedback_list *l = NULL;
	pf_feedback_status status = PF_FEEDBACK_OPEN;
	struct name_cache names = {0, NULL, NULL};

	int n = parse_args(cmd, argc, argv, opts, 1, pos, 1);
	if (n < 0)
		return 2;
	if (st && pf_feedback_status_parse(&status, st))
		return usage_error(cmd, "--status is open, in_progress, resolved or "
		                        "closed_unresolved, not '%s'", st);
	if (n == 1) {
		int s = resolve_guest(&g, db, pos[0]);
		if (s)
			return s;
	}
	int rc = pf_feedback_list_get(&l, db, g ? &g->id : NULL, st ? (int)status : -1);
	pf_guest_free(g);
	if (rc)
		return lib_fail(rc);
	struct table t = {10, 0, NULL};
	table_row(&t, (const char *[]){"ID", "RECORDED (local)", "GUEST", "KIND", "DEPARTMENT",
	                               "CATEGORY", "STATUS", "DUE (local)", "FOLLOW-UP", "TEXT"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_feedback *f = &l->items[i];
		char id[PF_ID_STRLEN + 1], at[32], due[32], kind[24];
		pf_id_format(id, &f->id);
		id[SHORT_ID] = '\0';
		format_local(at, db, f->recorded_at);
		if (f->due)
			format_local(due, db, f->due);
		else
			due[0] = '\0';
		if (f->kind == PF_FEEDBACK_COMPLAINT)
			snprintf(kind, sizeof kind, "complaint (sev %d)", f->severity);
		else
			snprintf(kind, sizeof kind, "%s", pf_feedback_kind_name(f->kind));
		table_row(&t, (const char *[]){id, at, guest_name(&names, db, &f->guest), kind,
		                               f->department, f->category,
		                               pf_feedback_status_name(f->status), due,
		                               f->outcome ? pf_outcome_name(f->outcome) : NULL,
		                               f->text});
	}
	if (l->count == 0)
		printf("  (no feedback)\n");
	else
		table_print(&t, stdout, "  ");
	table_free(&t);
	name_cache_free(&names);
	pf_feedback_list_free(l);
	return 0;
}

static int cmd_resolve(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[3];
	pf_id id;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 3, "need FEEDBACK STAFF RESOLUTION"))
		return 2;
	int status = resolve_short_id(&id, db, pos[0], ID_FEEDBACK);
	if (status)
		return status;
	int rc = pf_feedback_resolve(db, &id, pos[1], pos[2]);
	if (rc)
		return lib_fail(rc);
	pf_feedback *f = NULL;
	pf_prompt_list *p = NULL;
	if ((rc = pf_feedback_get(&f, db, &id)))
		return lib_fail(rc);
	char when[32], due[32];
	format_local(when, db, f->resolved_at);
	printf("resolved at %s hotel time%s\n", when,
	       f->kind == PF_FEEDBACK_COMPLAINT ? (f->resolved_at <= f->due ?
	                                            " (within the sunset rule)" :
	                                            " (after its due time)") : "");
	if (!pf_id_is_zero(&f->followup_prompt) && pf_prompt_get(&p, db, &f->followup_prompt) == 0) {
		format_local(due, db, p->items[0].due);
		printf("  follow-up for %s, due %s hotel time: %s\n", p->items[0].department, due,
		       p->items[0].text);
	}
	pf_prompt_list_free(p);
	pf_feedback_free(f);
	return 0;
}

static int cmd_update(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[4];
	pf_id id;
	pf_feedback_status to;
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 4);
	if (n < 0)
		return 2;
	if (n < 3)
		return usage_error(cmd, "need FEEDBACK STATUS STAFF [NOTE]");
	if (pf_feedback_status_parse(&to, pos[1]))
		return usage_error(cmd, "STATUS is in_progress or closed_unresolved, not '%s'",
		                   pos[1]);
	int status = resolve_short_id(&id, db, pos[0], ID_FEEDBACK);
	if (status)
		return status;
	int rc = pf_feedback_update(db, &id, to, pos[2], n == 4 ? pos[3] : NULL);
	if (rc)
		return lib_fail(rc);
	char idt[PF_ID_STRLEN + 1];
	pf_id_format(idt, &id);
	idt[SHORT_ID] = '\0';
	printf("feedback %s is now %s\n", idt, pf_feedback_status_name(to));
	return 0;
}

static int cmd_followup(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[3];
	pf_id id;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 3,
	                  "need FEEDBACK STAFF satisfied|not_satisfied"))
		return 2;
	pf_outcome o;
	if (!strcmp(pos[2], "satisfied"))
		o = PF_OUTCOME_SATISFIED;
	else if (!strcmp(pos[2], "not_satisfied"))
		o = PF_OUTCOME_NOT_SATISFIED;
	else
		return usage_error(cmd, "the outcome is satisfied or not_satisfied, not '%s'",
		                   pos[2]);
	int status = resolve_short_id(&id, db, pos[0], ID_FEEDBACK);
	if (status)
		return status;
	int rc = pf_feedback_followup(db, &id, pos[1], o);
	if (rc)
		return lib_fail(rc);
	printf("follow-up recorded: %s%s\n", pf_outcome_name(o),
	       o == PF_OUTCOME_NOT_SATISFIED ? " (marked on the guest's profile)" : "");
	return 0;
}

static void format_rate(char buf[16], double r)
{
	if (r < 0)
		snprintf(buf, 16, "-");
	else
		snprintf(buf, 16, "%.0f%%", r * 100.0);
}

static int cmd_report(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *from_s = NULL, *to_s = NULL;
	const struct opt opts[] = { {"from", OPT_STR, &from_s}, {"to", OPT_STR, &to_s} };
	pf_date from_d = 0, to_d = 0;
	pf_time from = 0, to = 0;
	pf_quality_report *r = NULL;

	int n = parse_args(cmd, argc, argv, opts, 2, NULL, 0);
	if (n < 0)
		return 2;
	if (!from_s || !to_s)
		return usage_error(cmd, "need --from and --to");
	if (parse_date_opt(cmd, "--from", from_s, &from_d) ||
	    parse_date_opt(cmd, "--to", to_s, &to_d))
		return 2;
	if (to_d < from_d)
		return usage_error(cmd, "--to is before --from");
	int rc = pf_day_start(&from, db, from_d);
	if (!rc)
		rc = pf_day_start(&to, db, next_date(to_d));   /* --to is included */
	if (!rc)
		rc = pf_quality_report_get(&r, db, from, to);
	if (rc)
		return lib_fail(rc);

	printf("Service quality %s to %s (hotel days), %" PRIu32 " stay%s arriving\n", from_s,
	       to_s, r->stays, r->stays == 1 ? "" : "s");
	struct table t = {7, 0, NULL};
	printf("\nPrompts\n");
	table_row(&t, (const char *[]){"DEPARTMENT", "MADE", "ON TIME", "LATE", "NEVER DONE",
	                               "NOT YET DUE", "OMISSION"});
	for (size_t i = 0; i <= r->count; i++) {
		const pf_quality_row *w = i < r->count ? &r->departments[i] : &r->overall;
		if (w->prompts == 0 && i < r->count)
			continue;
		char c[5][16], rate[16];
		snprintf(c[0], 16, "%" PRIu32, w->prompts);
		snprintf(c[1], 16, "%" PRIu32, w->done_on_time);
		snprintf(c[2], 16, "%" PRIu32, w->done_late);
		snprintf(c[3], 16, "%" PRIu32, w->never_done);
		snprintf(c[4], 16, "%" PRIu32, w->not_yet_due);
		format_rate(rate, w->omission_rate);
		table_row(&t, (const char *[]){w->department ? w->department : "ALL", c[0], c[1],
		                               c[2], c[3], c[4], rate});
	}
	table_print(&t, stdout, "  ");
	table_free(&t);

	printf("\nComplaints\n");
	t = (struct table){9, 0, NULL};
	table_row(&t, (const char *[]){"DEPARTMENT", "COMPLAINTS", "PER 100 STAYS",
	                               "BY SUNSET", "MEDIAN FIX", "UNRESOLVED", "FOLLOW-UPS",
	                               "NOT SATISFIED", "PRAISE/IDEAS"});
	for (size_t i = 0; i <= r->count; i++) {
		const pf_quality_row *w = i < r->count ? &r->departments[i] : &r->overall;
		if (i < r->count && !w->complaints && !w->compliments && !w->suggestions)
			continue;
		char c[9][32];
		snprintf(c[0], 32, "%" PRIu32, w->complaints);
		if (w->per_100_stays < 0)
			snprintf(c[1], 32, "-");
		else
			snprintf(c[1], 32, "%.1f", w->per_100_stays);
		format_rate(c[2], w->on_time_rate);
		if (w->median_resolve_seconds < 0)
			snprintf(c[3], 32, "-");
		else
			format_span(c[3], w->median_resolve_seconds);
		format_rate(c[4], w->unresolved_rate);
		snprintf(c[5], 32, "%" PRIu32, w->followups);
		format_rate(c[6], w->dissatisfaction_rate);
		snprintf(c[7], 32, "%" PRIu32 "/%" PRIu32, w->compliments, w->suggestions);
		table_row(&t, (const char *[]){w->department ? w->department : "ALL", c[0], c[1],
		                               c[2], c[3], c[4], c[5], c[6], c[7]});
	}
	table_print(&t, stdout, "  ");
	table_free(&t);
	printf("\nOMISSION: never done / judged (done or past due).  BY SUNSET: resolved by\n"
	       "the end of the business day.  UNRESOLVED and NOT SATISFIED: shares of the\n"
	       "complaints and of the follow-up calls.\n");
	pf_quality_report_free(r);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The command table and the help texts                                 */
/* ------------------------------------------------------------------ */

/* `usage` is the synopsis after "usage: frontdesk "; continuation lines
 * are indented to line up under it.  `about` is the paragraph that
 * `help COMMAND` and `COMMAND --help` print under the usage. */
static const struct command commands[] = {
	{"add", cmd_add, 0,
	 "add NAME [--email E] [--phone P] [--lang L] [--loyalty N] [--tier T]\n"
	 "                 [--tag T]... [--birth YYYY-MM-DD] [--no-profiling]",
	 "Create a guest profile and print its id.  --email, --phone and --loyalty\n"
	 "make the guest findable by them; --lang is the guest's language (zh, it,\n"
	 "pt-BR...), --tier one of none, silver, gold, platinum and vip, --tag adds a\n"
	 "tag (repeat it for more) and --birth gives the birth date.  The guest\n"
	 "consents to profiling unless --no-profiling is given: then observed likes\n"
	 "and dislikes make no prompts (needs, such as allergies, always do)."},
	{"find", cmd_find, PF_OPEN_READONLY, "find QUERY",
	 "List the guests that QUERY finds: an e-mail, a phone or loyalty number, or\n"
	 "the start of a name.  Each row shows the guest's id, name, contacts and\n"
	 "tier; any other command takes that id, or a query that finds only that\n"
	 "guest, as GUEST."},
	{"show", cmd_show, PF_OPEN_READONLY, "show GUEST",
	 "Print GUEST's profile (contacts, tier, tags, birth date, consent, stays\n"
	 "and complaint counts), every recorded preference with the department and\n"
	 "staff who observed it, and the list of stays."},
	{"history", cmd_history, PF_OPEN_READONLY, "history GUEST [--since SEQ]",
	 "Print every journal entry concerning GUEST in the order they were made:\n"
	 "sequence number, time, actor, operation, and the fields that changed (old\n"
	 "-> new).  --since SEQ shows only the entries after that sequence number.\n"
	 "A full guest id also works for an erased guest, whose tombstoned entries\n"
	 "remain."},
	{"export", cmd_export, PF_OPEN_READONLY, "export GUEST",
	 "Print everything held about GUEST as one JSON document: the profile,\n"
	 "preferences with who observed them, stays, prompts, feedback and journal\n"
	 "entries.  This is the answer to a guest's right-of-access request."},
	{"import", cmd_import, 0,
	 "import FILE.csv|FILE.jsonl [--by DEPT] [--batch N] [--format csv|jsonl]",
	 "Load guests and their preferences from a CSV or JSON-lines file (the\n"
	 "format follows the file's name unless --format is given), --batch N rows\n"
	 "per transaction.  Every row is checked before anything is written; bad\n"
	 "rows are left out and listed with their line, the rest is loaded.  Rows\n"
	 "match stored guests on external_id (or id), so running it again is safe.\n"
	 "--by names the department recorded as the observer of the preferences."},
	{"export-all", cmd_export_all, PF_OPEN_READONLY,
	 "export-all FILE.jsonl|FILE.csv [--format csv|jsonl]",
	 "Write every guest and their preferences to FILE (mode 0600) in the format\n"
	 "`import` reads, so importing the file into an empty database gives the\n"
	 "same guests.  The format follows the file's name unless --format is\n"
	 "given."},
	{"pref", cmd_pref, 0,
	 "pref GUEST CATEGORY VALUE --by DEPT [--staff S] [--note N] [--dislike|--need]",
	 "Record that department DEPT (and staff member S) observed GUEST's\n"
	 "preference: a like by default, --dislike for something to avoid, --need\n"
	 "for a safety matter such as an allergy or hearing, which always reaches\n"
	 "staff whatever the consent.  CATEGORY is dotted, such as room.floor;\n"
	 "observing the same value again counts it, a new value replaces the old."},
	{"unpref", cmd_unpref, 0, "unpref GUEST CATEGORY",
	 "Forget GUEST's preference in CATEGORY (journaled)."},
	{"stay", cmd_stay, 0,
	 "stay GUEST ARRIVAL DEPARTURE [--room R] [--property P] [--party N]",
	 "Record a past or current stay of GUEST from ARRIVAL to DEPARTURE\n"
	 "(YYYY-MM-DD), with the room, the property code and the number of people\n"
	 "if known.  Stays count towards the profile and rules can test them;\n"
	 "`checkin` records its stay itself."},
	{"rules", cmd_rules, 0, "rules load FILE | rules list [--source] | rules clear",
	 "Manage the rule book that turns events into prompts.  `rules load`\n"
	 "replaces the whole book with FILE, all or nothing: a file with an error,\n"
	 "or one that defines no rule, is refused and the stored book stays as it\n"
	 "was.  `rules list` prints the rules' names (--source: their full text).\n"
	 "`rules clear` removes every rule on purpose, without asking, and says how\n"
	 "many it removed: events make no prompts until a book is loaded again."},
	{"reserve", cmd_reserve, 0,
	 "reserve GUEST EVENT_ID [--arrival D] [--departure D] [--room R] [--party N]\n"
	 "                 [--property P]",
	 "Report a booking of GUEST: the rule book sends its prompts to the\n"
	 "departments concerned, and they are printed.  EVENT_ID is your\n"
	 "reservation id; sending the same one twice does the work once.  The\n"
	 "options describe the booked stay, as the rules see it."},
	{"checkin", cmd_checkin, 0, "checkin GUEST EVENT_ID [same options as reserve]",
	 "Report GUEST's check-in at the front desk: the rule book's prompts are\n"
	 "sent and printed, the stay is recorded, and the kiosk's welcome prompts\n"
	 "are dismissed, since the guest is already at the desk.  EVENT_ID must\n"
	 "differ from the reservation's; sending the same one twice does the work\n"
	 "once."},
	{"preview", cmd_preview, PF_OPEN_READONLY,
	 "preview GUEST [reservation|check_in|check_out|room_change] [same options]",
	 "Print the prompts that an event (check_in unless named) would make for\n"
	 "GUEST with the given options, without storing anything: a look ahead as\n"
	 "the guest walks in, or a way to try a new rule book."},
	{"prompts", cmd_prompts, PF_OPEN_READONLY, "prompts DEPT",
	 "Print department DEPT's open work list (pending and acknowledged\n"
	 "prompts), earliest due first, then by priority.  The first column is the\n"
	 "prompt's short id, which ack, done and dismiss take as PROMPT."},
	{"overdue", cmd_overdue, PF_OPEN_READONLY, "overdue [DEPT]",
	 "Print the open prompts whose due time has passed, with how late each one\n"
	 "is, for every department or only DEPT: the service omissions still in the\n"
	 "making."},
	{"ack", cmd_ack, 0, "ack PROMPT STAFF",
	 "Mark PROMPT as acknowledged by STAFF: seen, and being handled.  PROMPT is\n"
	 "a prompt id or the first 6 or more hex digits of an open one."},
	{"done", cmd_done, 0, "done PROMPT STAFF",
	 "Mark PROMPT as carried out by STAFF.  PROMPT is a prompt id or the first\n"
	 "6 or more hex digits of an open one."},
	{"dismiss", cmd_dismiss, 0, "dismiss PROMPT STAFF REASON",
	 "Mark PROMPT as not to be carried out, with STAFF's REASON (for example\n"
	 "\"out of stock\"): it leaves the work list, and the quality report counts\n"
	 "it as never done.  PROMPT is a prompt id or the first 6 or more hex\n"
	 "digits of an open one."},
	{"complaint", cmd_complaint, 0,
	 "complaint GUEST DEPT CATEGORY TEXT --by STAFF [--severity 1|2|3]\n"
	 "                 [--stay ARRIVAL] [--need CAT=V | --dislike CAT=V]",
	 "Record GUEST's complaint about department DEPT (CATEGORY such as noise or\n"
	 "food), taken by STAFF.  It is due by the end of the hotel's business day\n"
	 "(noon the next day if made after 22:00, in PF_TZ time) and prompts DEPT\n"
	 "and management.  --stay ties it to the stay that arrived on ARRIVAL;\n"
	 "--need or --dislike also records that preference on the profile, in the\n"
	 "same transaction."},
	{"compliment", cmd_compliment, 0, "compliment GUEST DEPT CATEGORY TEXT --by STAFF",
	 "Record GUEST's compliment for department DEPT, taken by STAFF.  It counts\n"
	 "in the quality report and stays with the guest's feedback."},
	{"suggestion", cmd_suggestion, 0, "suggestion GUEST DEPT CATEGORY TEXT --by STAFF",
	 "Record GUEST's suggestion for department DEPT, taken by STAFF.  It counts\n"
	 "in the quality report and stays with the guest's feedback."},
	{"feedback", cmd_feedback, PF_OPEN_READONLY, "feedback [GUEST] [--status S]",
	 "Print the complaints, compliments and suggestions of GUEST (or of every\n"
	 "guest), oldest first, with their status, due time and follow-up outcome\n"
	 "in the hotel's time.  --status keeps only open, in_progress, resolved or\n"
	 "closed_unresolved ones.  The first column is the short id that update,\n"
	 "resolve and followup take as FEEDBACK."},
	{"update", cmd_update, 0, "update FEEDBACK in_progress|closed_unresolved STAFF [NOTE]",
	 "Move FEEDBACK to in_progress (being looked into) or closed_unresolved\n"
	 "(closed without a fix), by STAFF, with an optional NOTE.  FEEDBACK is a\n"
	 "feedback id or its first 6 or more hex digits."},
	{"resolve", cmd_resolve, 0, "resolve FEEDBACK STAFF RESOLUTION",
	 "Record that STAFF put FEEDBACK right, and how.  The output says whether a\n"
	 "complaint was resolved within the sunset rule, and a call-back prompt\n"
	 "goes to front_office to ask the guest whether they are satisfied."},
	{"followup", cmd_followup, 0, "followup FEEDBACK STAFF satisfied|not_satisfied",
	 "Record the outcome of the call-back after FEEDBACK was resolved, which\n"
	 "closes the loop.  A guest who was not satisfied is marked so on the\n"
	 "profile, where rules can see it."},
	{"report", cmd_report, PF_OPEN_READONLY, "report --from YYYY-MM-DD --to YYYY-MM-DD",
	 "Print the service-quality figures for the hotel days from --from to --to\n"
	 "(both included, in PF_TZ time): per department, the prompts done on time,\n"
	 "late or never, and the omission rate; the complaints per 100 stays, the\n"
	 "share resolved by sunset, the median time to fix, and the follow-ups."},
	{"duplicates", cmd_duplicates, PF_OPEN_READONLY, "duplicates GUEST",
	 "List the profiles that are likely the same person as GUEST, with a score\n"
	 "and why (same e-mail, phone or loyalty number, same name and birth date,\n"
	 "a similar name).  Merge one with `merge`, or record that they differ with\n"
	 "`not-duplicate`."},
	{"not-duplicate", cmd_not_duplicate, 0, "not-duplicate GUEST OTHER",
	 "Record that GUEST and OTHER are different people, so that `duplicates`\n"
	 "never suggests the pair again."},
	{"merge", cmd_merge, 0, "merge KEEP DUPLICATE",
	 "Merge the profile DUPLICATE into KEEP: preferences, stays, prompts,\n"
	 "events and feedback move to KEEP, and DUPLICATE goes away.  Prints a merge\n"
	 "id with which `unmerge` undoes it."},
	{"unmerge", cmd_unmerge, 0, "unmerge MERGE_ID",
	 "Undo the merge MERGE_ID (as `merge` printed it): both profiles come back\n"
	 "exactly as they were before it, keeping changes made to the kept profile\n"
	 "since."},
	{"erase", cmd_erase, 0, "erase GUEST",
	 "Erase GUEST (the right to be forgotten): the profile, preferences and\n"
	 "stays are removed, and the personal text of their prompts, feedback and\n"
	 "journal entries is replaced by [erased].  To remove the bytes from the\n"
	 "data file too, stop every process, `compact` into a new directory and\n"
	 "swap it in."},
	{"compact", cmd_compact, PF_OPEN_READONLY, "compact DIR",
	 "Copy only the live records of the database into DIR (new or empty), one\n"
	 "by one, so that nothing of an erased guest survives in the copy.  Open it\n"
	 "with -d DIR to check it, then swap the directories while nothing has the\n"
	 "database open."},
	{"backup", cmd_backup, PF_OPEN_READONLY, "backup DIR",
	 "Write a consistent copy of the database into DIR (new or empty) while\n"
	 "other processes keep writing.  To restore, open the copy with -d DIR, or\n"
	 "move it into place while nothing has the database open.  After an\n"
	 "erasure, use `compact` instead."},
	{"consent", cmd_consent, 0, "consent GUEST profiling|marketing|none... [--by ACTOR]",
	 "Set what GUEST agreed to: profiling (observed likes and dislikes may make\n"
	 "prompts), marketing (the guest may be sent offers), both, or none.  The\n"
	 "change is journaled with ACTOR."},
	{"retention", cmd_retention, 0, "retention DAYS [--by ACTOR]",
	 "Anonymise every profile with no stay (or, without stays, created) more\n"
	 "than DAYS days ago: the name becomes [anonymised], contacts, birth date,\n"
	 "tags and preferences are removed; the id, stays and counters stay so the\n"
	 "figures remain right.  Prints how many profiles were examined and\n"
	 "anonymised."},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* `help` is not in the table (it needs no database), but `help help`
 * describes it like any other command. */
static const struct command help_command = {
	"help", NULL, 0, "help [COMMAND]",
	"Without COMMAND, list every command with a line about it; with one, print\n"
	"that command's usage and what it does.  `" PROG " COMMAND --help` (or -h)\n"
	"prints the same.  Neither needs a database."};

static const struct command *find_command(const char *name)
{
	if (!strcmp(name, help_command.name))
		return &help_command;
	for (size_t k = 0; k < NCOMMANDS; k++)
		if (!strcmp(commands[k].name, name))
			return &commands[k];
	return NULL;
}

static void command_help(const struct command *cmd)
{
	printf("usage: " PROG " %s\n\n%s\n", cmd->usage, cmd->about);
}

static void usage(FILE *f)
{
	fputs(
"usage: " PROG " [-d DIR] COMMAND [ARGS]\n"
"       " PROG " help [COMMAND]        (or " PROG " COMMAND --help)\n"
"       " PROG " --version\n"
"\n"
"The front desk's view of libprofile guest profiles and service prompts.\n"
"\n"
"Guests\n"
"  add NAME [--email E] [--phone P] [--lang L] [--loyalty N] [--tier T]\n"
"           [--tag T]... [--birth YYYY-MM-DD] [--no-profiling]\n"
"                              create a guest; tiers: none silver gold platinum vip\n"
"  find QUERY                  by e-mail, phone, loyalty no. or start of a name\n"
"  show GUEST                  profile, preferences and stays\n"
"  history GUEST [--since SEQ] every recorded change concerning the guest (journal)\n"
"  export GUEST                everything held about the guest, as JSON\n"
"  import FILE.csv|FILE.jsonl [--by DEPT] [--batch N] [--format csv|jsonl]\n"
"                              load guests and preferences; re-running is safe;\n"
"                              rejected rows are listed with their line\n"
"  export-all FILE.jsonl|FILE.csv [--format csv|jsonl]\n"
"                              every guest and preferences, in the import format\n"
"  pref GUEST CATEGORY VALUE --by DEPT [--staff S] [--note N] [--dislike|--need]\n"
"                              record what a department observed (a like by default)\n"
"  unpref GUEST CATEGORY       forget a preference\n"
"  stay GUEST ARRIVAL DEPARTURE [--room R] [--property P] [--party N]\n"
"                              record a past or current stay\n"
"\n"
"Rule book\n"
"  rules load FILE             replace the rule book (all or nothing)\n"
"  rules list [--source]       rule names, or their full text\n"
"  rules clear                 remove every rule (no prompts until the next load)\n"
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
"Complaints and feedback\n"
"  complaint GUEST DEPT CATEGORY TEXT --by STAFF [--severity 1|2|3]\n"
"            [--stay ARRIVAL] [--need CAT=V | --dislike CAT=V]\n"
"                              due by the end of the business day (noon next day\n"
"                              after 22:00); prompts DEPT and management; --need /\n"
"                              --dislike also records that on the profile\n"
"  compliment | suggestion GUEST DEPT CATEGORY TEXT --by STAFF\n"
"  feedback [GUEST] [--status S]\n"
"                              feedback of a guest (or all), oldest first\n"
"  update FEEDBACK in_progress|closed_unresolved STAFF [NOTE]\n"
"  resolve FEEDBACK STAFF RESOLUTION\n"
"                              resolved; a call-back prompt goes to front_office\n"
"  followup FEEDBACK STAFF satisfied|not_satisfied\n"
"                              the call-back's outcome closes the loop\n"
"  report --from YYYY-MM-DD --to YYYY-MM-DD\n"
"                              service-quality figures for those hotel days\n"
"\n"
"Data management\n"
"  duplicates GUEST            likely duplicate profiles, with a score and why\n"
"  not-duplicate GUEST OTHER   never suggest these two as duplicates again\n"
"  merge KEEP DUPLICATE        merge DUPLICATE into KEEP; prints a merge id\n"
"  unmerge MERGE_ID            undo a merge: both profiles back as they were\n"
"  erase GUEST                 right to be forgotten (then compact and swap)\n"
"  compact DIR                 copy only live records into a new directory\n"
"  backup DIR                  consistent hot copy while others keep writing\n"
"  consent GUEST profiling|marketing|none... [--by ACTOR]\n"
"                              change consent (journaled)\n"
"  retention DAYS [--by ACTOR] anonymise profiles with no stay for DAYS days\n"
"\n"
"GUEST is a guest id, or an e-mail, phone, loyalty number or name that\n"
"matches exactly one guest.  PROMPT is a prompt id or the first 6 or more\n"
"hex digits of an open one, as `prompts` shows them; FEEDBACK likewise, as\n"
"`feedback` shows them.  Dates are YYYY-MM-DD; times are shown in UTC, except\n"
"where a column says \"local\" (the hotel's time, PF_TZ).  EVENT_ID is your\n"
"reservation or transaction id:\n"
"sending the same one twice does the work once, so a reservation and its\n"
"check-in need different ids.  An option value that is itself --help or -h\n"
"is written --note=--help.\n"
"\n"
"Options\n"
"  -d DIR       the database directory (else $PF_DB: one of them is required)\n"
"  -h, --help   this help; `" PROG " help COMMAND` describes one command\n"
"  --version    which libprofile this " PROG " is built with\n"
"\n"
"Environment\n"
"  PF_DB    the database directory, when -d is not given\n"
"  PF_NOW   fixed clock: \"2026-11-23T09:00:00Z\" or epoch seconds (reproducible demos)\n"
"  PF_TZ    the hotel's time zone, for complaint due times and reports: a zone\n"
"           name such as Asia/Macau, or an offset such as +08:00 (default UTC)\n"
"\n"
"Exit status: 0 done, 1 failed (also when the output could not be written),\n"
"2 bad command line.\n", f);
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

/* `COMMAND --help` or `COMMAND -h` anywhere before a `--`.  Checked
 * before the database is opened, so that asking for help needs none; the
 * price is that an option value equal to --help or -h must be attached
 * with '=' (--note=-h). */
static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* `help [COMMAND]`: argv holds what follows "help". */
static int help(int argc, char **argv)
{
	if (argc == 0) {
		usage(stdout);
		return 0;
	}
	if (wants_help(argc, argv)) {
		command_help(&help_command);
		return 0;
	}
	if (argc > 1)
		return usage_error(&help_command, "help takes one COMMAND, not %d words", argc);
	const struct command *cmd = find_command(argv[0]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[0]);
	command_help(cmd);
	return 0;
}

/* PF_TZ into opts: "+08:00" / "-05" is a fixed offset; anything else a
 * zone name.  Returns 0 or exit status 2. */
static int use_pf_tz(pf_options *opts, const char *tz_env)
{
	if (!tz_env || !tz_env[0])
		return 0;
	int h = 0, m = 0;
	size_t len = strlen(tz_env);
	if (tz_env[0] == '+' || tz_env[0] == '-') {
		if ((len != 3 && len != 6) || digits(tz_env + 1, 2, &h) || h > 18 ||
		    (len == 6 && (tz_env[3] != ':' || digits(tz_env + 4, 2, &m) || m > 59)))
			return usage_error(NULL, "PF_TZ must be a zone name or an offset like "
			                         "+08:00, not '%s'", tz_env);
		opts->utc_offset_minutes = (tz_env[0] == '-' ? -1 : 1) * (h * 60 + m);
	} else {
		opts->timezone = tz_env;
	}
	return 0;
}

/* Everything but the final check of the output: returns the exit status. */
static int run(int argc, char **argv)
{
	const char *dir = getenv("PF_DB");
	const char *now_env = getenv("PF_NOW");
	pf_options opts = PF_OPTIONS_INIT;
	pf_time fixed_now = 0;
	pf_db *db = NULL;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf(PROG " (libprofile %s)\n", pf_version(NULL, NULL, NULL));
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
	if (!strcmp(argv[i], "help"))
		return help(argc - i - 1, argv + i + 1);
	const struct command *cmd = find_command(argv[i]);
	if (!cmd || cmd == &help_command)
		return usage_error(NULL, "unknown command '%s'", argv[i]);
	if (wants_help(argc - i - 1, argv + i + 1)) {
		command_help(cmd);
		return 0;
	}

	if (use_pf_now(&opts, &fixed_now, now_env))
		return usage_error(NULL, "PF_NOW must be like 2026-11-23T09:00:00Z or epoch "
		                         "seconds, not '%s'", now_env);
	if (use_pf_tz(&opts, getenv("PF_TZ")))
		return 2;
	/* No default directory: a front desk that silently opened (and
	 * created) ./demo-db would record real guests in the wrong place. */
	if (!dir || !dir[0])
		return usage_error(NULL, "no database given (use -d DIR or PF_DB)");
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

/* ------------------------------------------------------------------ */
/* Checked output                                                       */
/* ------------------------------------------------------------------ */

/* Output that could not be written (a full disk, `> /dev/full`, a file
 * system gone away) is a failure: the caller would otherwise take a
 * partial or empty listing for the whole answer.  stdout is replaced by a
 * stream whose every write(2) is checked here, so that the reason of the
 * first failure is kept however much the command goes on printing (stdio
 * itself keeps only the fact, and errno is long overwritten by the time
 * the command returns).  Replacing stdout is documented glibc behaviour. */
static int out_errno;          /* errno of the first failed write, 0 if none */
static int out_used;           /* something was written (or tried) */

static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	size_t done = 0;
	out_used = 1;
	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!out_errno)
				out_errno = n < 0 ? errno : EIO;
			break;      /* a short count marks the stream's error */
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int out_close(void *cookie)
{
	(void)cookie;
	/* Some file systems report a failed write only at close.  EBADF with
	 * nothing written: stdout was closed and the command printed nothing,
	 * which is no failure. */
	if (close(STDOUT_FILENO) != 0 && (out_used || errno != EBADF)) {
		if (!out_errno)
			out_errno = errno;
		return -1;
	}
	return 0;
}

static void checked_stdout(void)
{
	cookie_io_functions_t io = {NULL, out_write, NULL, out_close};
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		die_nomem();
	/* The buffering stdio would give stdout: by line on a terminal, so
	 * that output and messages on stderr come in order there. */
	if (setvbuf(f, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ))
		die_nomem();
	stdout = f;
}

/* Flush and close stdout; on a failure say so.  Returns the exit status:
 * `status`, or 1 if that was 0 and output (or a message) was lost. */
static int finish_output(int status)
{
	int failed = ferror(stdout) != 0;
	if (fclose(stdout) != 0)
		failed = 1;
	if (failed) {
		fprintf(stderr, PROG ": cannot write output: %s\n",
		        strerror(out_errno ? out_errno : EIO));
		if (!status)
			status = 1;
	}
	/* stderr is unbuffered, so there is nothing left to flush; but a
	 * message that could not be written means the run did not go as
	 * planned either. */
	if (ferror(stderr) && !status)
		status = 1;
	return status;
}

int main(int argc, char **argv)
{
	checked_stdout();
	return finish_output(run(argc, argv));
}
