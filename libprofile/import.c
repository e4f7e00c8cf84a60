/*
 * import.c — bulk import of guests and their preferences from CSV (libcsv)
 * and JSON Lines (jansson): pf_import_csv, pf_import_jsonl and
 * pf_import_report_free.  The file formats are specified in libprofile.h.
 *
 * Every row is converted and validated completely before anything is
 * written; good rows are written batch_size at a time, one write
 * transaction per batch.  A batch that fails as a whole (a row that only
 * the stored data can refuse, e.g. an external id that belongs to another
 * guest) is redone row by row, so a bad row costs only itself.  A CSV row
 * with broken quoting is cut out and parsing resumes on the line after its
 * first line, so an unclosed quote cannot swallow the rows after it.
 * The reasons of rejected rows name the column or field and never quote a
 * value that may be personal data: see `places`, quoted_name() and
 * quoted_word().
 *
 * May call: store.c, codec.c (guest records), guest.c (pf_guest_check,
 * pf_guest_load, pf_guest_reindex, pf_guest_save), journal.c
 * (pf_journal_append), text.c, error.c, libcsv, jansson.
 */
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "journal.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define ID_LEN 16
#define BATCH_DEFAULT 1000
/* No valid row comes near this; a CSV row still open past it is taken for
 * an unclosed quote and cut out. */
#define ROW_BYTES_MAX (256 * 1024)
#define JSONL_LINE_MAX (1024 * 1024)
#define REASON_MAX 400
/* Preferences detailed in one "import.row" journal entry (4 fields each,
 * within PF_JOURNAL_FIELDS_MAX with the profile fields). */
#define JOURNAL_PREFS_MAX 240

enum { ABSENT = 0, CLEAR, SET };
enum { OUT_NONE = 0, OUT_CREATED, OUT_UPDATED };

/* What a CSV column or a JSON key holds. */
enum {
	C_ID, C_EXT, C_NAME, C_EMAIL, C_PHONE, C_LANG, C_COUNTRY, C_LOYALTY, C_TIER, C_TAGS,
	C_BIRTH, C_CONSENT, C_PREF, C_NOTE
};

static const struct { const char *name; int kind; } fixed_cols[] = {
	{ "id", C_ID }, { "external_id", C_EXT }, { "name", C_NAME }, { "email", C_EMAIL },
	{ "phone", C_PHONE }, { "language", C_LANG }, { "country", C_COUNTRY },
	{ "loyalty_no", C_LOYALTY }, { "tier", C_TIER }, { "tags", C_TAGS },
	{ "birth_date", C_BIRTH }, { "consent", C_CONSENT },
};

static const char *kind_name(int kind)
{
	for (size_t j = 0; j < sizeof fixed_cols / sizeof fixed_cols[0]; j++)
		if (fixed_cols[j].kind == kind)
			return fixed_cols[j].name;
	return "prefs";
}

/* One CSV column, as the header names it. */
typedef struct col {
	int kind;
	int pkind;                /* C_PREF: -1 = from the value's prefix */
	char *name;               /* as written in the header (trimmed) */
	const char *category;     /* C_PREF / C_NOTE: points into name */
} col;

/*
 * Where a value came from, for the reasons of rejected rows: "column 4
 * 'email'" in a CSV file (the header's columns), "field 'email'" in JSON
 * Lines (cols NULL).  Reasons name the place and do not quote the value
 * (only an unknown tier or consent word, see quoted_word): a cell may
 * hold personal data, and a reason is shown to whoever runs the import
 * and kept in its log.
 */
typedef struct places {
	const col *cols;
	size_t ncols;
} places;

#define AT_MAX 160

static const char *at(char buf[AT_MAX], const places *w, int kind, const char *category)
{
	for (size_t i = 0; w->cols && i < w->ncols; i++) {
		const col *k = &w->cols[i];
		if (k->kind != kind || (category && (!k->category || strcmp(k->category, category))))
			continue;
		snprintf(buf, AT_MAX, "column %zu '%.100s'", i + 1, k->name);
		return buf;
	}
	if (category)
		snprintf(buf, AT_MAX, "field 'prefs', preference '%.80s'", category);
	else
		snprintf(buf, AT_MAX, "field '%s'", kind_name(kind));
	return buf;
}

/* ------------------------------------------------------------------ */
/* One row, converted from CSV or JSON                                  */
/* ------------------------------------------------------------------ */

typedef struct ipref {
	char *category;
	char *value;
	char *note;               /* NULL: not given */
	pf_pref_kind kind;
	bool changed;             /* written by the last attempt (journal) */
} ipref;

/* Field states: ABSENT (keep what is stored), CLEAR (empty cell / null:
 * remove it), SET (the value given). */
typedef struct irow {
	uint64_t line;
	bool has_id;              /* id given in the row; else generated */
	pf_id id;
	char *ext;                /* NULL: not given */
	char *name;
	int st_email, st_phone, st_lang, st_loyalty, st_tier, st_tags, st_birth, st_consent;
	int st_country;           /* never CLEAR: unknown leaves it as stored */
	char *email, *phone, *language, *loyalty;
	char country[4];
	pf_tier tier;
	char **tags;
	size_t ntags;
	pf_date birth;
	unsigned int consent;
	ipref *prefs;
	size_t npref, prefcap;
	int outcome;              /* OUT_*, of the last write attempt */
} irow;

static void row_clear(irow *r)
{
	free(r->ext);
	free(r->name);
	free(r->email);
	free(r->phone);
	free(r->language);
	free(r->loyalty);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	for (size_t i = 0; i < r->npref; i++) {
		free(r->prefs[i].category);
		free(r->prefs[i].value);
		free(r->prefs[i].note);
	}
	free(r->prefs);
	memset(r, 0, sizeof *r);
}

/* Conversion failures: a reason for the report in `why` and PF_EINVAL,
 * or PF_ENOMEM, which stops the import. */
static int reason(char *why, const char *fmt, ...) PF_PRINTF(2, 3);

static int reason(char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, REASON_MAX, fmt, ap);
	va_end(ap);
	return PF_EINVAL;
}

/*
 * A name from the file's structure (a header cell, a JSON key, a
 * preference kind) quoted in a message: "'emial'", when it is at most 40
 * bytes of letters, digits, '_', '.', ':' and '-', as column and field
 * names are; else "(name not shown)", because a file without a header row or
 * with a value where a key belongs puts personal data in that place.
 * Never used on the values of rows.
 */
static const char *quoted_name(char buf[48], const char *s)
{
	size_t n = strlen(s);
	bool ok = n > 0 && n <= 40;
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_' || c == '.' || c == ':' || c == '-';
	}
	if (ok)
		snprintf(buf, 48, "'%s'", s);
	else
		snprintf(buf, 48, "(name not shown)");
	return buf;
}

/*
 * An unknown tier or consent word: quoted ("'diamond'") when it is 1 to
 * 16 ASCII letters, as the words of those fields are; anything else (a
 * shifted cell with an e-mail or an id in it) is not shown.
 */
static const char *quoted_word(char buf[24], const char *s, size_t n, const char *other)
{
	bool ok = n > 0 && n <= 16;
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z');
	if (!ok)
		return other;
	snprintf(buf, 24, "'%.*s'", (int)n, s);
	return buf;
}

static char *dupn(const char *s, size_t n)
{
	char *c = malloc(n + 1);
	if (c) {
		memcpy(c, s, n);
		c[n] = '\0';
	}
	return c;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* s[0..*n) without surrounding blanks. */
static const char *trimmed(const char *s, size_t *n)
{
	while (*n && is_blank((unsigned char)*s)) {
		s++;
		(*n)--;
	}
	while (*n && is_blank((unsigned char)s[*n - 1]))
		(*n)--;
	return s;
}

static int set_text(int *st, char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (!s || !*s) {
		*st = CLEAR;
		return 0;
	}
	if (!(*dst = strdup(s)))
		return PF_ENOMEM;
	*st = SET;
	return 0;
}

static int parse_id(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	const char *t = trimmed(s, &n);
	if (n == 0)
		return 0;
	char text[PF_ID_STRLEN + 1];
	if (n != PF_ID_STRLEN)
		return reason(why, "%s is not a UUID", where);
	memcpy(text, t, n);
	text[n] = '\0';
	if (pf_id_parse(&r->id, text) != 0)
		return reason(why, "%s is not a UUID", where);
	if (pf_id_is_zero(&r->id))
		return reason(why, "%s is the all-zero UUID", where);
	r->has_id = true;
	return 0;
}

static int parse_tier(irow *r, const char *s, const char *where, char *why)
{
	char low[16];
	size_t n = strlen(s);
	const char *t = trimmed(s, &n);
	if (n == 0) {
		r->st_tier = CLEAR;
		return 0;
	}
	if (n < sizeof low) {
		for (size_t i = 0; i < n; i++)
			low[i] = (char)((t[i] >= 'A' && t[i] <= 'Z') ? t[i] - 'A' + 'a' : t[i]);
		low[n] = '\0';
		if (pf_tier_parse(&r->tier, low) == 0) {
			r->st_tier = SET;
			return 0;
		}
	}
	char b[24];
	return reason(why, "%s: %s is not one of none, silver, gold, platinum, vip", where,
	              quoted_word(b, t, n, "the value"));
}

/* "YYYY-MM-DD" (ISO 8601 calendar date). */
static int parse_birth(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	const char *t = trimmed(s, &n);
	if (n == 0) {
		r->st_birth = CLEAR;
		r->birth = 0;
		return 0;
	}
	int y, m, d;
	if (n != 10 || t[4] != '-' || t[7] != '-')
		goto bad;
	for (size_t i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (t[i] < '0' || t[i] > '9'))
			goto bad;
	y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
	m = (t[5] - '0') * 10 + (t[6] - '0');
	d = (t[8] - '0') * 10 + (t[9] - '0');
	if (pf_date_make(&r->birth, y, m, d) != 0)
		goto bad;
	r->st_birth = SET;
	return 0;
bad:
	return reason(why, "%s is not a date (YYYY-MM-DD)", where);
}

/*
 * ISO 3166-1 alpha-3, as the bookings exports write it ("PRT"); letters
 * are taken in either case.  Empty and "NULL" (what those exports write
 * for unknown) mean not known: the stored country stays.
 */
static int parse_country(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	const char *t = trimmed(s, &n);
	if (n == 0 || (n == 4 && strncasecmp(t, "NULL", 4) == 0))
		return 0;
	if (n == 3) {
		for (size_t i = 0; i < 3; i++)
			r->country[i] = (char)((t[i] >= 'a' && t[i] <= 'z') ? t[i] - 'a' + 'A' : t[i]);
		r->country[3] = '\0';
		if (pf_country_valid(r->country)) {
			r->st_country = SET;
			return 0;
		}
	}
	memset(r->country, 0, sizeof r->country);
	return reason(why, "%s is not an ISO 3166-1 alpha-3 country code (three letters, "
	              "e.g. PRT; empty or NULL when not known)", where);
}

/* Calls fn for each `sep`-separated, trimmed, non-empty item of s. */
typedef int (*item_fn)(irow *r, const char *item, size_t n, const char *where, char *why);

static int split(irow *r, const char *s, const char *seps, item_fn fn, const char *where,
                 char *why)
{
	while (*s) {
		size_t n = strcspn(s, seps);
		size_t tn = n;
		const char *t = trimmed(s, &tn);
		if (tn) {
			int rc = fn(r, t, tn, where, why);
			if (rc)
				return rc;
		}
		s += n;
		if (*s)
			s++;
	}
	return 0;
}

static int tag_item(irow *r, const char *t, size_t n, const char *where, char *why)
{
	if (r->ntags >= PF_TAGS_MAX)
		return reason(why, "%s has more than %d tags", where, PF_TAGS_MAX);
	if (!r->tags && !(r->tags = calloc(PF_TAGS_MAX, sizeof *r->tags)))
		return PF_ENOMEM;
	if (!(r->tags[r->ntags] = dupn(t, n)))
		return PF_ENOMEM;
	r->ntags++;
	return 0;
}

static void tags_reset(irow *r)
{
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	r->ntags = 0;
}

/* Tags separated by ';' (tag words are checked by check_tags). */
static int parse_tags(irow *r, const char *s, const char *where, char *why)
{
	tags_reset(r);
	int rc = split(r, s, ";", tag_item, where, why);
	if (rc)
		return rc;
	r->st_tags = r->ntags ? SET : CLEAR;
	return 0;
}

static int consent_item(irow *r, const char *t, size_t n, const char *where, char *why)
{
	if (n == 9 && strncasecmp(t, "profiling", 9) == 0)
		r->consent |= PF_CONSENT_PROFILING;
	else if (n == 9 && strncasecmp(t, "marketing", 9) == 0)
		r->consent |= PF_CONSENT_MARKETING;
	else if (!(n == 4 && strncasecmp(t, "none", 4) == 0)) {
		char b[24];
		return reason(why, "%s: %s is not profiling, marketing or none", where,
		              quoted_word(b, t, n, "a word"));
	}
	return 0;
}

/* "profiling;marketing", "marketing", "none"; ',' separates too.  Empty
 * means not given: a blank cell never withdraws consent. */
static int parse_consent(irow *r, const char *s, const char *where, char *why)
{
	size_t n = strlen(s);
	trimmed(s, &n);
	if (n == 0)
		return 0;
	r->consent = 0;
	int rc = split(r, s, ";,", consent_item, where, why);
	if (rc)
		return rc;
	r->st_consent = SET;
	return 0;
}

static ipref *pref_of(irow *r, const char *category)
{
	for (size_t i = 0; i < r->npref; i++)
		if (strcmp(r->prefs[i].category, category) == 0)
			return &r->prefs[i];
	return NULL;
}

/*
 * A preference value.  kind < 0: the kind comes from an optional prefix
 * of the value, "like:", "dislike:" or "need:" (default like).  The
 * category is a valid one (checked with the header, or by json_prefs).
 */
static int add_pref(irow *r, const char *category, const char *value, int kind,
                    const char *note, const char *where, char *why)
{
	static const struct { const char *p; pf_pref_kind k; } prefixes[] = {
		{ "like:", PF_LIKE }, { "dislike:", PF_DISLIKE }, { "need:", PF_NEED },
	};
	if (kind < 0) {
		kind = PF_LIKE;
		for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
			size_t pl = strlen(prefixes[i].p);
			if (strncmp(value, prefixes[i].p, pl) == 0) {
				kind = (int)prefixes[i].k;
				value += pl;
				break;
			}
		}
	}
	size_t n = strlen(value);
	value = trimmed(value, &n);
	if (n == 0)
		return reason(why, "%s: no value after the kind prefix", where);
	if (pref_of(r, category))
		return reason(why, "%s: a second value for preference '%s'", where, category);
	if (r->npref >= PF_PREFS_MAX)
		return reason(why, "%s: more than %d preferences", where, PF_PREFS_MAX);
	if (r->npref == r->prefcap) {
		size_t cap = r->prefcap ? 2 * r->prefcap : 8;
		ipref *p = realloc(r->prefs, cap * sizeof *p);
		if (!p)
			return PF_ENOMEM;
		r->prefs = p;
		r->prefcap = cap;
	}
	ipref *p = &r->prefs[r->npref];
	memset(p, 0, sizeof *p);
	p->kind = (pf_pref_kind)kind;
	p->category = strdup(category);
	p->value = dupn(value, n);
	p->note = note ? strdup(note) : NULL;
	if (!p->category || !p->value || (note && !p->note)) {
		free(p->category);
		free(p->value);
		free(p->note);
		return PF_ENOMEM;
	}
	r->npref++;
	return 0;
}

/* Strip "pf_guest_put: " and the like from a library message. */
static const char *errmsg_tail(void)
{
	const char *m = pf_errmsg();
	static const char *const prefixes[] = { "pf_guest_put: ", "pf_import: " };
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(m, prefixes[i], strlen(prefixes[i])) == 0)
			return m + strlen(prefixes[i]);
	return m;
}

/*
 * One field through pf_guest_check, on a profile that holds only that
 * field (and a placeholder name): a failure is that field's, reported
 * where it came from.  pf_guest_check's messages name the field and what
 * is wrong with it, never its value.
 */
static int check_one(const pf_guest *g, const places *w, int kind, char *why)
{
	char a[AT_MAX];
	if (pf_guest_check(g) == 0)
		return 0;
	return reason(why, "%s: %s", at(a, w, kind, NULL), errmsg_tail());
}

/* Tags as pf_check_word takes them (a lower-case word), checked here so
 * that the reason names the tag by its position, not by its text. */
static int check_tags(const irow *r, const places *w, char *why)
{
	char a[AT_MAX];
	for (size_t i = 0; r->st_tags == SET && i < r->ntags; i++) {
		const char *t = r->tags[i];
		size_t n = strlen(t);
		if (n > PF_FIELD_MAX)
			return reason(why, "%s: tag %zu is longer than %d bytes", at(a, w, C_TAGS, NULL),
			              i + 1, PF_FIELD_MAX);
		bool ok = t[0] >= 'a' && t[0] <= 'z';
		for (size_t j = 1; ok && j < n; j++)
			ok = (t[j] >= 'a' && t[j] <= 'z') || (t[j] >= '0' && t[j] <= '9') || t[j] == '_';
		if (!ok)
			return reason(why, "%s: tag %zu is not a lower-case word (a-z, 0-9 and '_', "
			              "starting with a letter, e.g. repeat_guest)", at(a, w, C_TAGS, NULL),
			              i + 1);
	}
	return 0;
}

/* Everything pf_guest_put and pf_pref_set would check, on the row alone. */
static int validate_row(const irow *r, const places *w, char *why)
{
	char a[AT_MAX];
	int rc;
	if (!r->name)
		return reason(why, "missing name");

	const pf_guest empty = PF_GUEST_INIT;
	pf_guest g = empty;
	g.name = r->name;
	if ((rc = check_one(&g, w, C_NAME, why)))
		return rc;
	static const int kinds[] = { C_EMAIL, C_PHONE, C_LANG, C_LOYALTY, C_EXT, C_COUNTRY };
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		g = empty;
		g.name = "x";
		switch (kinds[i]) {
		case C_EMAIL:   g.email = r->st_email == SET ? r->email : NULL; break;
		case C_PHONE:   g.phone = r->st_phone == SET ? r->phone : NULL; break;
		case C_LANG:    g.language = r->st_lang == SET ? r->language : NULL; break;
		case C_LOYALTY: g.loyalty_no = r->st_loyalty == SET ? r->loyalty : NULL; break;
		case C_EXT:     g.external_id = r->ext; break;
		default:        g.country = r->st_country == SET ? r->country : NULL; break;
		}
		if ((rc = check_one(&g, w, kinds[i], why)))
			return rc;
	}
	if ((rc = check_tags(r, w, why)))
		return rc;

	/* The whole profile, as pf_guest_put will see it: every field passed
	 * alone, so this only fails if the fields conflict. */
	g = empty;
	g.name = r->name;
	g.email = r->st_email == SET ? r->email : NULL;
	g.phone = r->st_phone == SET ? r->phone : NULL;
	g.language = r->st_lang == SET ? r->language : NULL;
	g.loyalty_no = r->st_loyalty == SET ? r->loyalty : NULL;
	g.country = r->st_country == SET ? r->country : NULL;
	g.tier = r->st_tier == SET ? r->tier : PF_TIER_NONE;
	g.tags = (const char *const *)r->tags;
	g.tag_count = r->st_tags == SET ? r->ntags : 0;
	g.birth_date = r->st_birth == SET ? r->birth : 0;
	g.consent = r->st_consent == SET ? r->consent : PF_CONSENT_PROFILING;
	g.external_id = r->ext;
	if (pf_guest_check(&g) != 0)
		return reason(why, "the row's profile is refused by pf_guest_put");
	for (size_t i = 0; i < r->npref; i++) {
		const ipref *p = &r->prefs[i];
		const char *pa = at(a, w, C_PREF, p->category);
		/* A CSV note column is its own place. */
		if (pf_check_text("pf_import", "preference value", p->value, PF_VALUE_MAX, true))
			return reason(why, "%s: %s", pa, errmsg_tail());
		if (pf_check_text("pf_import", "preference note", p->note, PF_NOTE_MAX, false))
			return reason(why, "%s: %s",
			              w->cols ? at(a, w, C_NOTE, p->category) : pa, errmsg_tail());
	}
	return 0;
}


/* ------------------------------------------------------------------ */
/* The import: report, batches, writing                                 */
/* ------------------------------------------------------------------ */

typedef struct imp {
	pf_db *db;
	const char *fn;           /* "pf_import_csv" / "pf_import_jsonl" */
	const char *path;
	char *source;             /* the file's base name, for the journal; may be NULL */
	const char *dept;
	size_t batch_size;
	pf_progress_fn progress;
	void *payload;
	uint64_t total;
	uint64_t reported;        /* `done` of the last progress call */
	pf_import_report *rep;
	size_t rej_cap;
	irow *batch;
	size_t nbatch;
	pf_time now;
	bool stop;                /* the progress callback asked to stop */
	int rc;                   /* a failure that ends the import */
	places w;                 /* the CSV header's columns while they are parsed;
	                             none for JSON Lines */
	char ext_at[AT_MAX];      /* where external ids are, for write-time reasons */
} imp;

static int add_reject(imp *im, uint64_t line, const char *why)
{
	pf_import_report *rep = im->rep;
	if (rep->reject_count == im->rej_cap) {
		size_t cap = im->rej_cap ? 2 * im->rej_cap : 16;
		pf_import_reject *v = realloc(rep->rejects, cap * sizeof *v);
		if (!v)
			return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
		rep->rejects = v;
		im->rej_cap = cap;
	}
	/* Library messages may quote text cut mid-character: keep the
	 * longest valid prefix so the report is always UTF-8. */
	size_t n = strnlen(why, REASON_MAX);
	while (n && !pf_utf8_valid(why, n))
		n--;
	char *s = dupn(why, n);
	if (!s)
		return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
	rep->rejects[rep->reject_count++] = (pf_import_reject){ line, s };
	rep->rejected++;
	/* The detail of the last failure is the reason too: whatever a check
	 * left there (a library message may quote what it refused) goes. */
	pf_seterr(PF_EINVAL, "%s: %s:%llu: %s", im->fn, im->path, (unsigned long long)line, s);
	return 0;
}

static bool same_id(const pf_id *a, const pf_id *b)
{
	return memcmp(a->b, b->b, ID_LEN) == 0;
}

static int ext_lookup(MDB_txn *txn, pf_db *db, const char *ext, pf_id *out, bool *found)
{
	unsigned char key[2 + PF_FIELD_MAX];
	size_t n = strlen(ext);
	MDB_val v;
	*found = false;
	if (n > PF_FIELD_MAX)
		return pf_seterr(PF_EINVAL, "pf_import: external_id is longer than %d bytes",
		                 PF_FIELD_MAX);
	key[0] = 'x';
	key[1] = ':';
	memcpy(key + 2, ext, n);
	int rc = pf_store_get(txn, db, PF_DBI_CONTACT, key, n + 2, &v);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != ID_LEN)
		return pf_seterr(PF_ECORRUPT, "corrupt record in 'contact': value is %zu bytes, "
		                 "expected a %d-byte id", v.mv_size, ID_LEN);
	memcpy(out->b, v.mv_data, ID_LEN);
	*found = true;
	return 0;
}

static int replace_tags(pf_guest_rec *nr, char *const *tags, size_t n)
{
	char **t = NULL;
	if (n) {
		if (!(t = calloc(n, sizeof *t)))
			return PF_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			if (!(t[i] = strdup(tags[i]))) {
				for (size_t j = 0; j < i; j++)
					free(t[j]);
				free(t);
				return PF_ENOMEM;
			}
		}
	}
	for (size_t i = 0; i < nr->g.tag_count; i++)
		free(nr->tags[i]);
	free(nr->tags);
	nr->tags = t;
	nr->g.tags = (const char *const *)t;
	nr->g.tag_count = n;
	return 0;
}

static int text_field(const char **dst, int st, const char *v)
{
	if (st == ABSENT)
		return 0;
	return pf_str_set(dst, st == SET ? v : NULL);
}

/* The row's profile fields onto the record; absent fields are kept. */
static int set_profile(pf_guest_rec *nr, const irow *r)
{
	pf_guest *g = &nr->g;
	if (pf_str_set(&g->name, r->name) ||
	    text_field(&g->email, r->st_email, r->email) ||
	    text_field(&g->phone, r->st_phone, r->phone) ||
	    text_field(&g->language, r->st_lang, r->language) ||
	    text_field(&g->loyalty_no, r->st_loyalty, r->loyalty) ||
	    (r->ext && pf_str_set(&g->external_id, r->ext)) ||
	    (r->st_country == SET && pf_str_set(&g->country, r->country)))
		return PF_ENOMEM;
	if (r->st_tier != ABSENT)
		g->tier = r->st_tier == SET ? r->tier : PF_TIER_NONE;
	if (r->st_birth != ABSENT)
		g->birth_date = r->st_birth == SET ? r->birth : 0;
	if (r->st_consent == SET)
		g->consent = r->consent;
	if (r->st_tags != ABSENT && replace_tags(nr, r->tags, r->st_tags == SET ? r->ntags : 0))
		return PF_ENOMEM;
	return 0;
}

/* Index of `category` in nr's sorted preferences, or where it would go. */
static size_t pref_pos(const pf_guest_rec *nr, const char *category, bool *found)
{
	size_t lo = 0, hi = nr->g.pref_count;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(nr->prefs[mid].category, category);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The row's preferences onto the record.  The same value and kind again
 * changes nothing (a re-import is idempotent; only a new note is taken);
 * a different value or kind replaces the preference as a new observation
 * by the import's department.  Preferences the row does not name stay.
 */
static int set_prefs(pf_guest_rec *nr, irow *r, const imp *im)
{
	for (size_t i = 0; i < r->npref; i++) {
		ipref *p = &r->prefs[i];
		bool found;
		size_t pos = pref_pos(nr, p->category, &found);
		p->changed = false;
		if (found) {
			pf_pref *ex = &nr->prefs[pos];
			if (strcmp(ex->value, p->value) == 0 && ex->kind == p->kind) {
				if (p->note && (!ex->note || strcmp(ex->note, p->note) != 0)) {
					if (pf_str_set(&ex->note, p->note))
						return PF_ENOMEM;
					p->changed = true;
				}
				continue;
			}
			if (pf_str_set(&ex->value, p->value) ||
			    pf_str_set(&ex->department, im->dept) ||
			    pf_str_set(&ex->staff, NULL) || pf_str_set(&ex->note, p->note))
				return PF_ENOMEM;
			ex->kind = p->kind;
			ex->count = 1;
			ex->first_seen = ex->last_seen = im->now;
			p->changed = true;
			continue;
		}
		if (nr->g.pref_count >= PF_PREFS_MAX)
			return pf_seterr(PF_EINVAL, "pf_import: the guest already has %d preferences; "
			                 "'%s' does not fit", PF_PREFS_MAX, p->category);
		if (nr->g.pref_count == nr->pref_cap) {
			size_t cap = nr->pref_cap ? 2 * nr->pref_cap : 8;
			pf_pref *v = realloc(nr->prefs, cap * sizeof *v);
			if (!v)
				return PF_ENOMEM;
			nr->prefs = v;
			nr->g.prefs = v;
			nr->pref_cap = cap;
		}
		pf_pref np = { 0 };
		np.category = strdup(p->category);
		np.value = strdup(p->value);
		np.department = strdup(im->dept);
		np.note = p->note ? strdup(p->note) : NULL;
		if (!np.category || !np.value || !np.department || (p->note && !np.note)) {
			free((void *)np.category);
			free((void *)np.value);
			free((void *)np.department);
			free((void *)np.note);
			return PF_ENOMEM;
		}
		np.kind = p->kind;
		np.count = 1;
		np.first_seen = np.last_seen = im->now;
		memmove(&nr->prefs[pos + 1], &nr->prefs[pos],
		        (nr->g.pref_count - pos) * sizeof *nr->prefs);
		nr->prefs[pos] = np;
		nr->g.pref_count++;
		p->changed = true;
	}
	return 0;
}

/* Whether two records encode to the same bytes. */
static int same_record(const pf_guest_rec *a, const pf_guest_rec *b, bool *same)
{
	msgpack_sbuffer sa, sb;
	msgpack_sbuffer_init(&sa);
	msgpack_sbuffer_init(&sb);
	int rc = pf_codec_guest_encode(&sa, a);
	if (!rc)
		rc = pf_codec_guest_encode(&sb, b);
	if (!rc)
		*same = sa.size == sb.size && memcmp(sa.data, sb.data, sa.size) == 0;
	msgpack_sbuffer_destroy(&sa);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* ---- the journal entry of one row ---- */

/*
 * "import.row": ref = the file's base name; fields "line", "action"
 * (created/updated), every profile field that changed (new value, and
 * "<field>.old" on an update, as guest.put journals them), then for each
 * preference written "pref" (category), "value", "kind" and "note".
 * Field names follow the journal's erasure list, so pf_guest_erase can
 * blank the personal values.
 */
static int journal_row(MDB_txn *txn, imp *im, const irow *r, const pf_guest_rec *old,
                       const pf_guest_rec *nr)
{
	char line[24], more[24];
	pf_jguest_text *t = NULL;
	pf_journal_field *f = NULL;
	size_t n = 0, shown = 0, skipped = 0;
	int rc;

	f = calloc(4 + 2 * PF_JOURNAL_GUEST_FIELDS + 4 * JOURNAL_PREFS_MAX + 1, sizeof *f);
	t = malloc(sizeof *t);
	if (!f || !t) {
		rc = pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
		goto out;
	}
	snprintf(line, sizeof line, "%llu", (unsigned long long)r->line);
	f[n++] = (pf_journal_field){ "line", line };
	f[n++] = (pf_journal_field){ "action", old ? "updated" : "created" };
	n += pf_journal_guest_fields(f + n, old, nr, t);
	for (size_t i = 0; i < r->npref; i++) {
		const ipref *p = &r->prefs[i];
		if (!p->changed)
			continue;
		if (shown == JOURNAL_PREFS_MAX) {
			skipped++;
			continue;
		}
		shown++;
		f[n++] = (pf_journal_field){ "pref", p->category };
		f[n++] = (pf_journal_field){ "value", p->value };
		f[n++] = (pf_journal_field){ "kind", pf_pref_kind_name(p->kind) };
		if (p->note)
			f[n++] = (pf_journal_field){ "note", p->note };
	}
	if (skipped) {
		snprintf(more, sizeof more, "%zu", skipped);
		f[n++] = (pf_journal_field){ "prefs.more", more };
	}
	pf_jentry e = { .op = "import.row", .actor = im->dept, .guest = nr->g.id,
	                .ref = im->source, .fields = f, .field_count = n };
	rc = pf_journal_append(txn, im->db, &e);
out:
	free(f);
	free(t);
	return rc;
}

/*
 * Write one row inside the batch's transaction.  The guest is found by
 * external_id, else by id; a row naming neither an existing guest creates
 * one (with the row's id if it gave one).  A row that changes nothing
 * writes nothing (and journals nothing): a re-import leaves the stored
 * bytes as they were.
 */
static int apply_row(MDB_txn *txn, imp *im, irow *r)
{
	pf_guest_rec *old = NULL, *nr = NULL;
	pf_id target = { { 0 } };
	bool found = false;
	int rc = 0;

	r->outcome = OUT_NONE;
	if (r->ext && (rc = ext_lookup(txn, im->db, r->ext, &target, &found)))
		goto out;
	if (found && r->has_id && !same_id(&target, &r->id)) {
		char a[PF_ID_STRLEN + 1], b[PF_ID_STRLEN + 1];
		pf_id_format(a, &target);
		pf_id_format(b, &r->id);
		rc = pf_seterr(PF_EEXIST, "pf_import: %s: the external id belongs to guest %s, "
		               "not to the row's id %s", im->ext_at, a, b);
		goto out;
	}
	if (!found && r->has_id) {
		MDB_val v;
		rc = pf_store_get(txn, im->db, PF_DBI_GUEST, r->id.b, ID_LEN, &v);
		if (rc == 0) {
			found = true;
			target = r->id;
		} else if (rc != PF_ENOTFOUND) {
			goto out;
		}
		rc = 0;
	}
	if (found) {
		/* Two decodes: `old` stays as stored, for the indexes, the
		 * comparison and the journal. */
		if ((rc = pf_guest_load(&old, txn, im->db, &target, im->fn)) ||
		    (rc = pf_guest_load(&nr, txn, im->db, &target, im->fn)))
			goto out;
	} else {
		if (!(nr = calloc(1, sizeof *nr))) {
			rc = PF_ENOMEM;
			goto nomem;
		}
		nr->g.id = r->id;
		nr->g.created = nr->g.updated = im->now;
		nr->g.consent = PF_CONSENT_PROFILING;
	}
	if ((rc = set_profile(nr, r)))
		goto nomem;
	if ((rc = set_prefs(nr, r, im))) {
		if (rc == PF_ENOMEM)
			goto nomem;
		goto out;
	}
	if (old) {
		bool same = false;
		nr->g.updated = old->g.updated;
		if ((rc = same_record(old, nr, &same)))
			goto out;
		if (same) {
			r->outcome = OUT_UPDATED;
			goto out;
		}
		nr->g.updated = im->now;
	}
	if ((rc = pf_guest_reindex(txn, im->db, old, nr)) ||
	    (rc = pf_guest_save(txn, im->db, nr)) ||
	    (rc = journal_row(txn, im, r, old, nr)))
		goto out;
	r->outcome = old ? OUT_UPDATED : OUT_CREATED;
	goto out;
nomem:
	rc = pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
out:
	pf_guest_rec_free(old);
	pf_guest_rec_free(nr);
	return rc;
}

struct batch_arg {
	imp *im;
	irow *rows;
	size_t n;
};

static int batch_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct batch_arg *a = arg;
	(void)db;
	/* The transaction may run again after the map grows: start clean. */
	for (size_t i = 0; i < a->n; i++)
		a->rows[i].outcome = OUT_NONE;
	for (size_t i = 0; i < a->n; i++) {
		int rc = apply_row(txn, a->im, &a->rows[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Failures that belong to one row; anything else (disk full, I/O, out of
 * memory, read-only) ends the import. */
static bool row_failure(int rc)
{
	return rc == PF_EINVAL || rc == PF_EEXIST || rc == PF_ECORRUPT || rc == PF_ENOTFOUND;
}

static void report_progress(imp *im, uint64_t done, bool last)
{
	if (!im->progress || im->stop)
		return;
	if (im->total < done || (last && im->total != done))
		im->total = done;   /* the pre-count was short: never past 100% */
	im->reported = done;
	if (im->progress(done, im->total, im->payload) != 0)
		im->stop = true;
}

/* Write the pending batch, then report progress. */
static int flush(imp *im)
{
	if (im->nbatch == 0)
		return 0;
	struct batch_arg a = { im, im->batch, im->nbatch };
	int rc = pf_store_write(im->db, im->fn, batch_txn, &a);
	if (rc && row_failure(rc)) {
		/* Some row only the stored data could refuse: redo the batch
		 * one row per transaction, so the others still go in. */
		for (size_t i = 0; i < im->nbatch; i++) {
			struct batch_arg one = { im, &im->batch[i], 1 };
			rc = pf_store_write(im->db, im->fn, batch_txn, &one);
			if (rc == 0)
				continue;
			if (!row_failure(rc))
				break;
			im->batch[i].outcome = OUT_NONE;
			if ((rc = add_reject(im, im->batch[i].line, errmsg_tail())))
				break;
		}
	}
	for (size_t i = 0; i < im->nbatch; i++) {
		if (im->batch[i].outcome == OUT_CREATED)
			im->rep->created++;
		else if (im->batch[i].outcome == OUT_UPDATED)
			im->rep->updated++;
		row_clear(&im->batch[i]);
	}
	im->nbatch = 0;
	if (rc)
		return rc;
	report_progress(im, im->rep->rows, false);
	return 0;
}

/* A converted row: validated, then queued (rejected rows go to the
 * report).  `conv` is the conversion's result.  Takes over *r. */
static int row_done(imp *im, irow *r, int conv, const char *why_conv)
{
	char why[REASON_MAX];
	int rc = conv;
	im->rep->rows++;
	if (rc == PF_ENOMEM) {
		row_clear(r);
		return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
	}
	if (rc == 0)
		rc = validate_row(r, &im->w, why);
	else
		snprintf(why, sizeof why, "%s", why_conv);
	if (rc) {
		uint64_t line = r->line;
		row_clear(r);
		return add_reject(im, line, why);
	}
	if (!r->has_id)
		pf_id_generate(&r->id);   /* before the write: a retry reuses it */
	im->batch[im->nbatch++] = *r;
	memset(r, 0, sizeof *r);
	if (im->nbatch == im->batch_size)
		return flush(im);
	return 0;
}

static int bad_path_err(const char *fn, const char *path, int err)
{
	int code = err == ENOENT || err == ENOTDIR ? PF_ENOTFOUND :
	           err == ENOMEM ? PF_ENOMEM : PF_EIO;
	return pf_seterr(code, "%s: cannot read '%s': %s", fn, path, strerror(err));
}

static int open_input(FILE **out, const char *fn, const char *path, bool *regular)
{
	struct stat st;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return bad_path_err(fn, path, errno);
	if (fstat(fileno(f), &st) != 0) {
		int e = errno;
		fclose(f);
		return bad_path_err(fn, path, e);
	}
	if (S_ISDIR(st.st_mode)) {
		fclose(f);
		return pf_seterr(PF_EINVAL, "%s: '%s' is a directory", fn, path);
	}
	*regular = S_ISREG(st.st_mode);
	*out = f;
	return 0;
}

static int imp_begin(imp *im, pf_import_report **out, pf_db *db, const char *path,
                     const pf_import_options *opts, const char *fn)
{
	memset(im, 0, sizeof *im);
	im->fn = fn;
	snprintf(im->ext_at, sizeof im->ext_at, "field 'external_id'");
	if (!out)
		return pf_seterr(PF_EINVAL, "%s: out is NULL", fn);
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, "%s: db is NULL", fn);
	if (!path || !*path)
		return pf_seterr(PF_EINVAL, "%s: path is NULL or empty", fn);
	if (opts && opts->version != PF_IMPORT_OPTIONS_VERSION)
		return pf_seterr(PF_EINVAL, "%s: unknown options version %u (expected %d)", fn,
		                 opts->version, PF_IMPORT_OPTIONS_VERSION);
	im->dept = opts && opts->department ? opts->department : "import";
	if (pf_check_word(fn, "department", im->dept))
		return PF_EINVAL;
	/* Refused before the file is read, not after every row failed. */
	if (db->opts.flags & PF_OPEN_READONLY)
		return pf_seterr(PF_EREADONLY, "%s: the database was opened read-only", fn);
	im->db = db;
	im->path = path;
	im->batch_size = opts && opts->batch_size ? opts->batch_size : BATCH_DEFAULT;
	im->progress = opts ? opts->progress : NULL;
	im->payload = opts ? opts->payload : NULL;
	im->now = pf_now(db);

	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t bl = strlen(base);
	/* A file name is bytes: the journal takes it only as UTF-8. */
	if (bl && bl <= 255 && pf_utf8_valid(base, bl) && !(im->source = strdup(base)))
		return pf_seterr(PF_ENOMEM, "%s: out of memory", fn);
	/* The batch array grows with the batch, so a huge batch_size costs
	 * memory only when there are that many rows. */
	im->rep = calloc(1, sizeof *im->rep);
	if (!im->rep)
		return pf_seterr(PF_ENOMEM, "%s: out of memory", fn);
	return 0;
}

static int batch_room(imp *im, size_t *cap)
{
	if (im->nbatch < *cap)
		return 0;
	size_t n = *cap ? 2 * *cap : 64;
	if (n > im->batch_size)
		n = im->batch_size;
	irow *b = realloc(im->batch, n * sizeof *b);
	if (!b)
		return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
	im->batch = b;
	*cap = n;
	return 0;
}

static int reject_cmp(const void *a, const void *b)
{
	uint64_t x = ((const pf_import_reject *)a)->line, y = ((const pf_import_reject *)b)->line;
	return x < y ? -1 : x > y;
}

/* Flush what is left and hand the report out, or clean up after a
 * failure (rows already committed stay: a re-run is idempotent). */
static int imp_end(imp *im, pf_import_report **out, int rc)
{
	if (!rc && !im->stop)
		rc = flush(im);
	if (!rc && !im->stop && (im->reported != im->rep->rows || im->total != im->rep->rows))
		report_progress(im, im->rep->rows, true);
	for (size_t i = 0; i < im->nbatch; i++)
		row_clear(&im->batch[i]);
	free(im->batch);
	free(im->source);
	if (rc) {
		pf_import_report_free(im->rep);
		return rc;
	}
	/* Rows refused at write time are reported after later parse-time
	 * rejects: put the report in file order. */
	if (im->rep->reject_count > 1)
		qsort(im->rep->rejects, im->rep->reject_count, sizeof *im->rep->rejects,
		      reject_cmp);
	*out = im->rep;
	return 0;
}

void pf_import_report_free(pf_import_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->reject_count; i++)
		free((void *)rep->rejects[i].reason);
	free(rep->rejects);
	free(rep);
}

/* ------------------------------------------------------------------ */
/* CSV                                                                  */
/* ------------------------------------------------------------------ */

static const struct { const char *prefix; int kind, pkind; } pref_cols[] = {
	{ "pref:", C_PREF, -1 }, { "like:", C_PREF, PF_LIKE }, { "dislike:", C_PREF, PF_DISLIKE },
	{ "need:", C_PREF, PF_NEED }, { "note:", C_NOTE, -1 },
};

typedef struct cline {
	uint64_t no;
	char *text;
	size_t len;
} cline;

typedef struct lines {
	cline *v;
	size_t n, cap;
} lines;

typedef struct cfield {
	char *s;
	size_t n;
} cfield;

typedef struct csvr {
	imp *im;
	struct csv_parser p;
	bool p_live;
	size_t batch_cap;
	/* the row being parsed */
	cfield *f;
	size_t nf, fcap;
	bool too_many;
	uint64_t row_line;        /* line its first byte came from */
	size_t row_bytes;
	bool boundary;            /* the parser is between rows */
	bool events, last_end;    /* callbacks during the current feed */
	/* the header */
	bool have_header;
	col *cols;
	size_t ncols;
	/* lines of the current row (to resume after a quoting error), and
	 * lines to feed again before reading on */
	lines raw, pend;
	size_t pend_pos;
	uint64_t lineno;
} csvr;

#define CSV_OPTS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)
#define FIELDS_MAX 4096

static void lines_free_from(lines *l, size_t from)
{
	for (size_t i = from; i < l->n; i++)
		free(l->v[i].text);
	l->n = from < l->n ? from : l->n;
}

static int lines_push(lines *l, cline c)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		cline *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return PF_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = c;
	return 0;
}

static void fields_clear(csvr *c)
{
	for (size_t i = 0; i < c->nf; i++)
		free(c->f[i].s);
	c->nf = 0;
	c->too_many = false;
}

static void csv_cb_field(void *s, size_t n, void *data)
{
	csvr *c = data;
	c->events = true;
	c->last_end = false;
	if (c->im->rc || c->im->stop)
		return;
	if (c->nf >= FIELDS_MAX) {
		c->too_many = true;
		return;
	}
	if (c->nf == c->fcap) {
		size_t cap = c->fcap ? 2 * c->fcap : 32;
		cfield *v = realloc(c->f, cap * sizeof *v);
		if (!v) {
			c->im->rc = pf_seterr(PF_ENOMEM, "%s: out of memory", c->im->fn);
			return;
		}
		c->f = v;
		c->fcap = cap;
	}
	char *copy = dupn(s ? s : "", s ? n : 0);
	if (!copy) {
		c->im->rc = pf_seterr(PF_ENOMEM, "%s: out of memory", c->im->fn);
		return;
	}
	c->f[c->nf++] = (cfield){ copy, s ? n : 0 };
}

/* The kind of the column called `name` (-1: unknown); pref/note columns
 * give their kind of preference and the category after the prefix. */
static int col_kind(const char *name, int *pkind, const char **category)
{
	for (size_t j = 0; j < sizeof fixed_cols / sizeof fixed_cols[0]; j++)
		if (strcasecmp(name, fixed_cols[j].name) == 0)
			return fixed_cols[j].kind;
	for (size_t j = 0; j < sizeof pref_cols / sizeof pref_cols[0]; j++) {
		size_t pl = strlen(pref_cols[j].prefix);
		if (strncasecmp(name, pref_cols[j].prefix, pl) == 0) {
			*pkind = pref_cols[j].pkind;
			*category = name + pl;
			return pref_cols[j].kind;
		}
	}
	return -1;
}

static int header(csvr *c)
{
	imp *im = c->im;
	unsigned long long ln = (unsigned long long)c->row_line;
	if (c->too_many)
		return pf_seterr(PF_EINVAL, "%s: %s:%llu: the header has more than %d columns",
		                 im->fn, im->path, ln, FIELDS_MAX);
	if (!(c->cols = calloc(c->nf ? c->nf : 1, sizeof *c->cols)))
		return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
	bool has_name = false;
	size_t known = 0;
	for (size_t i = 0; i < c->nf; i++) {
		size_t n = c->f[i].n;
		if (!pf_utf8_valid(c->f[i].s, n))
			return pf_seterr(PF_EINVAL, "%s: %s:%llu: column %zu of the header is not "
			                 "valid UTF-8", im->fn, im->path, ln, i + 1);
		const char *t = trimmed(c->f[i].s, &n);
		col *k = &c->cols[c->ncols];
		if (!(k->name = dupn(t, n)))
			return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
		c->ncols++;
		k->kind = col_kind(k->name, &k->pkind, &k->category);
		known += k->kind >= 0;
	}
	/* A first row with no known column is data, not a header: say so
	 * without quoting its cells. */
	if (c->ncols && !known)
		return pf_seterr(PF_EINVAL, "%s: %s:%llu: the first row is not a header: none of "
		                 "its %zu cells names a column (id, external_id, name, email, "
		                 "phone, language, country, loyalty_no, tier, tags, birth_date, "
		                 "consent, pref:CATEGORY, ...)", im->fn, im->path, ln, c->ncols);
	for (size_t i = 0; i < c->ncols; i++) {
		char b[48];
		col *k = &c->cols[i];
		if (k->kind < 0)
			return pf_seterr(PF_EINVAL, "%s: %s:%llu: unknown column %s (column %zu; known: id, "
			                 "external_id, name, email, phone, language, country, "
			                 "loyalty_no, tier, tags, birth_date, consent, pref:CATEGORY, "
			                 "like:CATEGORY, dislike:CATEGORY, need:CATEGORY, note:CATEGORY)",
			                 im->fn, im->path, ln, quoted_name(b, k->name), i + 1);
		if ((k->kind == C_PREF || k->kind == C_NOTE) &&
		    pf_check_category("pf_import", k->category))
			return pf_seterr(PF_EINVAL, "%s: %s:%llu: column %zu %s: the category after "
			                 "the prefix is not lower-case dotted words (e.g. "
			                 "pref:room.floor)", im->fn, im->path, ln, i + 1,
			                 quoted_name(b, k->name));
		for (size_t j = 0; j < i; j++) {
			const col *o = &c->cols[j];
			bool dup = o->kind == k->kind &&
			           (k->kind == C_PREF || k->kind == C_NOTE ?
			            strcmp(o->category, k->category) == 0 && o->pkind == k->pkind : true);
			if (dup)
				return pf_seterr(PF_EINVAL, "%s: %s:%llu: column %zu %s appears twice "
				                 "(first as column %zu)", im->fn, im->path, ln, i + 1,
				                 quoted_name(b, k->name), j + 1);
		}
		has_name |= k->kind == C_NAME;
	}
	if (!has_name)
		return pf_seterr(PF_EINVAL, "%s: %s:%llu: the header has no 'name' column", im->fn,
		                 im->path, ln);
	c->have_header = true;
	im->w = (places){ c->cols, c->ncols };
	at(im->ext_at, &im->w, C_EXT, NULL);
	return 0;
}

/* Convert the parsed fields of one row. */
static int csv_convert(csvr *c, irow *r, char *why)
{
	char a[AT_MAX];
	int rc;
	if (c->too_many || c->nf != c->ncols)
		return reason(why, "the row has %s%zu fields; the header has %zu",
		              c->too_many ? "more than " : "", c->nf, c->ncols);
	for (size_t i = 0; i < c->nf; i++)
		if (!pf_utf8_valid(c->f[i].s, c->f[i].n))
			return reason(why, "column %zu '%.100s' is not valid UTF-8", i + 1,
			              c->cols[i].name);
	for (size_t i = 0; i < c->nf; i++) {
		const col *k = &c->cols[i];
		const char *s = c->f[i].s;
		snprintf(a, sizeof a, "column %zu '%.100s'", i + 1, k->name);
		switch (k->kind) {
		case C_ID:      rc = parse_id(r, s, a, why); break;
		case C_EXT:
			rc = 0;
			if (*s && !(r->ext = strdup(s)))
				rc = PF_ENOMEM;
			break;
		case C_NAME:
			rc = 0;
			if (*s && !(r->name = strdup(s)))
				rc = PF_ENOMEM;
			break;
		case C_EMAIL:   rc = set_text(&r->st_email, &r->email, s); break;
		case C_PHONE:   rc = set_text(&r->st_phone, &r->phone, s); break;
		case C_LANG:    rc = set_text(&r->st_lang, &r->language, s); break;
		case C_COUNTRY: rc = parse_country(r, s, a, why); break;
		case C_LOYALTY: rc = set_text(&r->st_loyalty, &r->loyalty, s); break;
		case C_TIER:    rc = parse_tier(r, s, a, why); break;
		case C_TAGS:    rc = parse_tags(r, s, a, why); break;
		case C_BIRTH:   rc = parse_birth(r, s, a, why); break;
		case C_CONSENT: rc = parse_consent(r, s, a, why); break;
		case C_PREF:
			rc = *s ? add_pref(r, k->category, s, k->pkind, NULL, a, why) : 0;
			break;
		default:
			rc = 0;   /* notes: below, once every value is known */
			break;
		}
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < c->nf; i++) {
		const col *k = &c->cols[i];
		if (k->kind != C_NOTE || !*c->f[i].s)
			continue;
		ipref *p = pref_of(r, k->category);
		if (!p)
			return reason(why, "column %zu '%.100s': a note for preference '%s', which "
			              "has no value", i + 1, k->name, k->category);
		if (!(p->note = strdup(c->f[i].s)))
			return PF_ENOMEM;
	}
	return 0;
}

static void csv_cb_row(int term, void *data)
{
	csvr *c = data;
	imp *im = c->im;
	(void)term;
	c->events = true;
	c->last_end = true;
	if (im->rc || im->stop) {
		fields_clear(c);
		return;
	}
	if (!c->have_header) {
		im->rc = header(c);
		fields_clear(c);
		return;
	}
	char why[REASON_MAX] = "";
	irow r;
	memset(&r, 0, sizeof r);
	r.line = c->row_line;
	int conv = csv_convert(c, &r, why);
	fields_clear(c);
	if ((im->rc = batch_room(im, &c->batch_cap))) {
		row_clear(&r);
		return;
	}
	im->rc = row_done(im, &r, conv, why);
}

static bool blank_line(const cline *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (!is_blank((unsigned char)l->text[i]))
			return false;
	return true;
}

/*
 * The row that began on c->row_line has broken quoting.  Report it, throw
 * the parser's state away, and feed the row's later lines again: they may
 * well be rows of their own that an unclosed quote swallowed.
 */
static int resync(csvr *c, const char *why)
{
	imp *im = c->im;
	if (!c->have_header)
		return pf_seterr(PF_EINVAL, "%s: %s:%llu: the header row %s", im->fn, im->path,
		                 (unsigned long long)c->row_line, why);
	im->rep->rows++;
	int rc = add_reject(im, c->row_line, why);
	if (rc)
		return rc;
	fields_clear(c);
	csv_free(&c->p);
	c->p_live = false;
	if (csv_init(&c->p, CSV_OPTS) != 0)
		return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
	c->p_live = true;

	lines np = { NULL, 0, 0 };
	for (size_t i = 1; i < c->raw.n; i++)
		if (lines_push(&np, c->raw.v[i]))
			goto nomem;
	for (size_t i = c->pend_pos; i < c->pend.n; i++)
		if (lines_push(&np, c->pend.v[i]))
			goto nomem;
	if (c->raw.n)
		free(c->raw.v[0].text);
	c->raw.n = 0;
	free(c->pend.v);
	c->pend = np;
	c->pend_pos = 0;
	c->boundary = true;
	return 0;
nomem:
	free(np.v);
	return pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
}

/* Next line: one fed again after a resync, else one from the file.
 * Returns 1 with a line, 0 at the end of the file, or an error. */
static int next_line(csvr *c, FILE *f, char **buf, size_t *cap, cline *out)
{
	if (c->pend_pos < c->pend.n) {
		*out = c->pend.v[c->pend_pos++];
		if (c->pend_pos == c->pend.n)
			c->pend.n = c->pend_pos = 0;
		return 1;
	}
	errno = 0;
	ssize_t n = getline(buf, cap, f);
	if (n < 0) {
		/* getline's ENOMEM sets no error flag: it would pass for the end. */
		if (errno == ENOMEM)
			return pf_seterr(PF_ENOMEM, "%s: out of memory", c->im->fn);
		if (ferror(f))
			return pf_seterr(PF_EIO, "%s: reading '%s': %s", c->im->fn, c->im->path,
			                 strerror(errno ? errno : EIO));
		return 0;
	}
	char *text = *buf;
	size_t len = (size_t)n;
	if (++c->lineno == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;   /* the UTF-8 byte order mark some spreadsheets write */
		len -= 3;
	}
	if (!(out->text = dupn(text, len)))
		return pf_seterr(PF_ENOMEM, "%s: out of memory", c->im->fn);
	out->no = c->lineno;
	out->len = len;
	return 1;
}

/* Counts the records of a CSV file for the progress total. */
static void count_row(int term, void *data)
{
	(void)term;
	(*(uint64_t *)data)++;
}

static uint64_t csv_precount(FILE *f)
{
	struct csv_parser p;
	uint64_t rows = 0;
	char buf[64 * 1024];
	size_t n;
	if (csv_init(&p, CSV_APPEND_NULL) != 0)
		return 0;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		csv_parse(&p, buf, n, NULL, count_row, &rows);
	csv_fini(&p, NULL, count_row, &rows);
	csv_free(&p);
	rewind(f);
	return rows ? rows - 1 : 0;
}

static int csv_run(csvr *c, FILE *f)
{
	imp *im = c->im;
	char *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	cline l;

	for (;;) {
		while (!im->rc && !im->stop && (rc = next_line(c, f, &buf, &cap, &l)) == 1) {
			if (c->boundary) {
				lines_free_from(&c->raw, 0);
				c->row_line = l.no;
				c->row_bytes = 0;
			}
			if (lines_push(&c->raw, l)) {
				free(l.text);
				rc = pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
				goto out;
			}
			c->row_bytes += l.len;
			c->events = c->last_end = false;
			size_t used = csv_parse(&c->p, l.text, l.len, csv_cb_field, csv_cb_row, c);
			if (im->rc || im->stop)
				break;
			/* libcsv stops at a buffer it cannot grow: not bad quoting. */
			if (csv_error(&c->p) == CSV_ENOMEM) {
				rc = pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
				goto out;
			}
			if (used < l.len || csv_error(&c->p) == CSV_EPARSE) {
				if ((rc = resync(c, "bad quoting: a '\"' inside a field that is not "
				                 "quoted, or text after a closing '\"'")))
					goto out;
				continue;
			}
			bool was = c->boundary;
			c->boundary = c->events ? c->last_end : was && blank_line(&l);
			if (!c->boundary && c->row_bytes > ROW_BYTES_MAX) {
				if ((rc = resync(c, "bad quoting: the row runs past 256 KiB (a quote "
				                 "that is never closed?)")))
					goto out;
			}
		}
		if (rc < 0)
			goto out;
		rc = 0;
		if (im->rc || im->stop)
			break;
		/* End of file: a last row without a newline, or a quote never
		 * closed. */
		if (csv_fini(&c->p, csv_cb_field, csv_cb_row, c) == 0)
			break;
		if (im->rc)
			break;
		if ((rc = resync(c, "bad quoting: a quote that is never closed")))
			goto out;
	}
	if (!rc && !im->rc && !im->stop && !c->have_header)
		rc = pf_seterr(PF_EINVAL, "%s: %s: no header row (the file is empty)", im->fn,
		               im->path);
out:
	free(buf);
	return rc ? rc : im->rc;
}

int pf_import_csv(pf_import_report **out, pf_db *db, const char *path,
                  const pf_import_options *opts)
{
	imp im;
	csvr c;
	FILE *f = NULL;
	bool regular = false;
	memset(&c, 0, sizeof c);
	int rc = imp_begin(&im, out, db, path, opts, "pf_import_csv");
	if (rc)
		goto out;
	if ((rc = open_input(&f, im.fn, path, &regular)))
		goto out;
	if (im.progress && regular)
		im.total = csv_precount(f);
	c.im = &im;
	c.boundary = true;
	if (csv_init(&c.p, CSV_OPTS) != 0) {
		rc = pf_seterr(PF_ENOMEM, "%s: out of memory", im.fn);
		goto out;
	}
	c.p_live = true;
	rc = csv_run(&c, f);
out:
	im.w = (places){ NULL, 0 };   /* the columns go; a last batch may still be written */
	if (c.p_live)
		csv_free(&c.p);
	fields_clear(&c);
	free(c.f);
	for (size_t i = 0; i < c.ncols; i++)
		free(c.cols[i].name);
	free(c.cols);
	lines_free_from(&c.raw, 0);
	free(c.raw.v);
	lines_free_from(&c.pend, c.pend_pos);
	free(c.pend.v);
	if (f)
		fclose(f);
	return imp_end(&im, out, rc);
}

/* ------------------------------------------------------------------ */
/* JSON Lines                                                           */
/* ------------------------------------------------------------------ */

/* A text field: a string, or null (clear it). */
static int json_text(const char *key, json_t *v, int *st, char **dst, char *why)
{
	if (json_is_null(v))
		return set_text(st, dst, NULL);
	if (!json_is_string(v))
		return reason(why, "field '%s' is not a string or null", key);
	return set_text(st, dst, json_string_value(v));
}

/* A list: an array of strings, or one string with `seps` between items. */
static int json_list(const char *key, json_t *v, const char *seps, item_fn fn, irow *r,
                     char *why)
{
	char a[AT_MAX];
	snprintf(a, sizeof a, "field '%s'", key);
	if (json_is_string(v))
		return split(r, json_string_value(v), seps, fn, a, why);
	if (!json_is_array(v))
		return reason(why, "field '%s' is not an array of strings, a string or null", key);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return reason(why, "field '%s': item %zu is not a string", key, i + 1);
		const char *s = json_string_value(e);
		size_t n = strlen(s);
		const char *t = trimmed(s, &n);
		if (n) {
			int rc = fn(r, t, n, a, why);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int json_prefs(irow *r, json_t *v, char *why)
{
	char a[AT_MAX], b[48];
	const char *cat;
	json_t *p;
	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return reason(why, "field 'prefs' is not an object");
	json_object_foreach(v, cat, p) {
		if (pf_check_category("pf_import", cat))
			return reason(why, "field 'prefs': category %s is not lower-case dotted words "
			              "(e.g. room.floor) of at most %d bytes", quoted_name(b, cat),
			              PF_CATEGORY_MAX);
		snprintf(a, sizeof a, "field 'prefs', preference '%s'", cat);
		size_t blank = json_is_string(p) ? strlen(json_string_value(p)) : 1;
		if (json_is_string(p))
			trimmed(json_string_value(p), &blank);
		if (json_is_null(p) || blank == 0)
			continue;   /* as an empty CSV cell: no preference */
		if (json_is_string(p)) {
			int rc = add_pref(r, cat, json_string_value(p), -1, NULL, a, why);
			if (rc)
				return rc;
			continue;
		}
		if (!json_is_object(p))
			return reason(why, "%s is not a string, an object or null", a);
		const char *value = NULL, *note = NULL, *k;
		int kind = PF_LIKE;
		json_t *x;
		json_object_foreach(p, k, x) {
			if (strcmp(k, "value") == 0 && json_is_string(x)) {
				value = json_string_value(x);
			} else if (strcmp(k, "note") == 0 && (json_is_string(x) || json_is_null(x))) {
				note = json_is_null(x) ? NULL : json_string_value(x);
				if (note && !*note)
					note = NULL;
			} else if (strcmp(k, "kind") == 0 && json_is_string(x)) {
				const char *kn = json_string_value(x);
				if (strcmp(kn, "like") == 0)
					kind = PF_LIKE;
				else if (strcmp(kn, "dislike") == 0)
					kind = PF_DISLIKE;
				else if (strcmp(kn, "need") == 0)
					kind = PF_NEED;
				else
					return reason(why, "%s: \"kind\" is not like, dislike or need", a);
			} else if (strcmp(k, "value") == 0 || strcmp(k, "note") == 0 ||
			           strcmp(k, "kind") == 0) {
				return reason(why, "%s: \"%s\" has the wrong type", a, k);
			} else {
				return reason(why, "%s: unknown field %s (value, kind, note)", a,
				              quoted_name(b, k));
			}
		}
		if (!value)
			return reason(why, "%s has no \"value\"", a);
		int rc = add_pref(r, cat, value, kind, note, a, why);
		if (rc)
			return rc;
	}
	return 0;
}

static int json_convert(json_t *obj, irow *r, char *why)
{
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "id") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return reason(why, "field 'id' is not a string");
			rc = parse_id(r, json_string_value(v), "field 'id'", why);
		} else if (strcmp(key, "external_id") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return reason(why, "field 'external_id' is not a string or null");
			const char *s = json_string_value(v);
			if (*s && !(r->ext = strdup(s)))
				return PF_ENOMEM;
		} else if (strcmp(key, "name") == 0) {
			if (json_is_null(v))
				continue;
			if (!json_is_string(v))
				return reason(why, "field 'name' is not a string");
			const char *s = json_string_value(v);
			if (*s && !(r->name = strdup(s)))
				return PF_ENOMEM;
		} else if (strcmp(key, "email") == 0) {
			rc = json_text(key, v, &r->st_email, &r->email, why);
		} else if (strcmp(key, "phone") == 0) {
			rc = json_text(key, v, &r->st_phone, &r->phone, why);
		} else if (strcmp(key, "language") == 0) {
			rc = json_text(key, v, &r->st_lang, &r->language, why);
		} else if (strcmp(key, "country") == 0) {
			/* null, "" and "NULL" are "not known", as in CSV */
			if (!json_is_null(v) && !json_is_string(v))
				return reason(why, "field 'country' is not a string or null");
			rc = parse_country(r, json_is_null(v) ? "" : json_string_value(v),
			                   "field 'country'", why);
		} else if (strcmp(key, "loyalty_no") == 0) {
			rc = json_text(key, v, &r->st_loyalty, &r->loyalty, why);
		} else if (strcmp(key, "tier") == 0) {
			if (!json_is_null(v) && !json_is_string(v))
				return reason(why, "field 'tier' is not a string or null");
			rc = parse_tier(r, json_is_null(v) ? "" : json_string_value(v), "field 'tier'",
			                why);
		} else if (strcmp(key, "birth_date") == 0) {
			if (!json_is_null(v) && !json_is_string(v))
				return reason(why, "field 'birth_date' is not a string or null");
			rc = parse_birth(r, json_is_null(v) ? "" : json_string_value(v),
			                 "field 'birth_date'", why);
		} else if (strcmp(key, "tags") == 0) {
			tags_reset(r);
			r->st_tags = CLEAR;
			if (json_is_null(v))
				continue;
			rc = json_list(key, v, ";", tag_item, r, why);
			if (!rc && r->ntags)
				r->st_tags = SET;
		} else if (strcmp(key, "consent") == 0) {
			size_t n = json_is_string(v) ? strlen(json_string_value(v)) : 1;
			if (json_is_string(v))
				trimmed(json_string_value(v), &n);
			if (json_is_null(v) || n == 0)
				continue;   /* as in CSV: a blank never withdraws consent */
			r->consent = 0;
			rc = json_list(key, v, ";,", consent_item, r, why);
			if (!rc)
				r->st_consent = SET;
		} else if (strcmp(key, "prefs") == 0) {
			rc = json_prefs(r, v, why);
		} else {
			char b[48];
			return reason(why, "unknown field %s", quoted_name(b, key));
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* What is wrong with a line jansson refused, in words of our own:
 * jansson's texts quote the input near the error ("near 'ana@'"). */
static const char *json_what(const json_error_t *err)
{
	switch (json_error_code(err)) {
	case json_error_premature_end_of_input: return "the line ends inside a value";
	case json_error_end_of_input_expected:  return "text after the end of the object";
	case json_error_invalid_utf8:           return "bytes that are not UTF-8";
	case json_error_null_character:         return "a \\u0000 escape";
	case json_error_null_byte_in_key:       return "a NUL byte in a key";
	case json_error_duplicate_key:          return "a key that appears twice";
	case json_error_numeric_overflow:       return "a number too large";
	case json_error_stack_overflow:         return "values nested too deep";
	default:                                return "invalid syntax";
	}
}

static uint64_t jsonl_precount(FILE *f)
{
	uint64_t n = 0;
	bool content = false;
	int ch;
	while ((ch = getc(f)) != EOF) {
		if (ch == '\n') {
			n += content;
			content = false;
		} else if (!is_blank((unsigned char)ch)) {
			content = true;
		}
	}
	n += content;
	rewind(f);
	return n;
}

/*
 * json_loadb, telling running out of memory from bad JSON.  jansson
 * reports an allocation that failed inside its lexer as a syntax error
 * (or with no message at all), so a failed parse is repeated: the same
 * input gives the same error, unless memory ran out.
 */
static json_t *jsonl_parse(const char *text, size_t len, json_error_t *err, bool *oom)
{
	json_error_t again;
	memset(err, 0, sizeof *err);
	memset(&again, 0, sizeof again);
	*oom = false;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, err);
	if (!obj && !(obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &again)))
		*oom = !err->text[0] || json_error_code(err) == json_error_out_of_memory ||
		       err->position != again.position || strcmp(err->text, again.text) != 0;
	return obj;
}

static int jsonl_run(imp *im, FILE *f)
{
	char *buf = NULL;
	size_t cap = 0, batch_cap = 0;
	uint64_t lineno = 0;
	int rc = 0;
	ssize_t got;

	while (!im->stop && (errno = 0, got = getline(&buf, &cap, f)) >= 0) {
		char why[REASON_MAX] = "";
		char *text = buf;
		size_t len = (size_t)got;
		irow r;
		memset(&r, 0, sizeof r);
		r.line = ++lineno;
		if (lineno == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
			text += 3;
			len -= 3;
		}
		size_t tl = len;
		trimmed(text, &tl);
		if (tl == 0)
			continue;
		if ((rc = batch_room(im, &batch_cap)))
			goto out;
		int conv;
		json_t *obj = NULL;
		json_error_t err;
		bool oom;
		if (len > JSONL_LINE_MAX) {
			conv = reason(why, "the line is longer than %d bytes", JSONL_LINE_MAX);
		} else if (!pf_utf8_valid(text, len)) {
			conv = reason(why, "the line is not valid UTF-8");
		} else if (!(obj = jsonl_parse(text, len, &err, &oom))) {
			if (oom) {
				rc = pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
				goto out;
			}
			conv = reason(why, "invalid JSON at column %d: %s", err.column,
			              json_what(&err));
		} else if (!json_is_object(obj)) {
			conv = reason(why, "the line is not a JSON object");
		} else {
			conv = json_convert(obj, &r, why);
		}
		json_decref(obj);
		if ((rc = row_done(im, &r, conv, why)))
			goto out;
	}
	if (errno == ENOMEM)      /* getline: no error flag, see next_line */
		rc = pf_seterr(PF_ENOMEM, "%s: out of memory", im->fn);
	else if (ferror(f))
		rc = pf_seterr(PF_EIO, "%s: reading '%s': %s", im->fn, im->path,
		               strerror(errno ? errno : EIO));
out:
	free(buf);
	return rc;
}

int pf_import_jsonl(pf_import_report **out, pf_db *db, const char *path,
                    const pf_import_options *opts)
{
	imp im;
	FILE *f = NULL;
	bool regular = false;
	int rc = imp_begin(&im, out, db, path, opts, "pf_import_jsonl");
	if (rc)
		goto out;
	if ((rc = open_input(&f, im.fn, path, &regular)))
		goto out;
	if (im.progress && regular)
		im.total = jsonl_precount(f);
	rc = jsonl_run(&im, f);
out:
	if (f)
		fclose(f);
	return imp_end(&im, out, rc);
}
