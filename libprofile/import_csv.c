/*
 * import_csv.c — the CSV reader of pf_import_csv (libcsv): the header row
 * (which columns hold what, pref:/like:/dislike:/need:/note: columns
 * included), each record converted into an irow for the engine, the
 * pre-count for progress, and the recovery from broken quoting: a row
 * whose quoting is broken is cut out and parsing resumes on the line after
 * its first line, so an unclosed quote cannot swallow the rows after it.
 *
 * Owns nothing stored.  May call import.c (pf_imp_row_done,
 * pf_imp_reject), import_row.c (the field parsers and reasons), text.c,
 * error.c and libcsv.
 */
#include "import.h"
#include "error.h"
#include "text.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

/* No valid row comes near this; a CSV row still open past it is taken for
 * an unclosed quote and cut out. */
#define ROW_BYTES_MAX (256 * 1024)

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
			c->im->rc = pf_fail(PF_ENOMEM, "out of memory");
			return;
		}
		c->f = v;
		c->fcap = cap;
	}
	char *copy = pf_imp_dupn(s ? s : "", s ? n : 0);
	if (!copy) {
		c->im->rc = pf_fail(PF_ENOMEM, "out of memory");
		return;
	}
	c->f[c->nf++] = (cfield){ copy, s ? n : 0 };
}

/* The kind of the column called `name` (-1: unknown); pref/note columns
 * give their kind of preference and the category after the prefix. */
static int col_kind(const char *name, int *pkind, const char **category)
{
	int kind = pf_imp_fixed_kind(name);
	if (kind >= 0)
		return kind;
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
		return pf_fail(PF_EINVAL, "%s:%llu: the header has more than %d columns", im->path, ln, FIELDS_MAX);
	if (!(c->cols = calloc(c->nf ? c->nf : 1, sizeof *c->cols)))
		return pf_fail(PF_ENOMEM, "out of memory");
	bool has_name = false;
	size_t known = 0;
	for (size_t i = 0; i < c->nf; i++) {
		size_t n = c->f[i].n;
		if (!pf_utf8_valid(c->f[i].s, n))
			return pf_fail(PF_EINVAL, "%s:%llu: column %zu of the header is not "
			                 "valid UTF-8", im->path, ln, i + 1);
		const char *t = pf_imp_trimmed(c->f[i].s, &n);
		col *k = &c->cols[c->ncols];
		if (!(k->name = pf_imp_dupn(t, n)))
			return pf_fail(PF_ENOMEM, "out of memory");
		c->ncols++;
		k->kind = col_kind(k->name, &k->pkind, &k->category);
		known += k->kind >= 0;
	}
	/* A first row with no known column is data, not a header: say so
	 * without quoting its cells. */
	if (c->ncols && !known)
		return pf_fail(PF_EINVAL, "%s:%llu: the first row is not a header: none of "
		                 "its %zu cells names a column (id, external_id, name, email, "
		                 "phone, language, country, loyalty_no, tier, tags, birth_date, "
		                 "consent, pref:CATEGORY, ...)", im->path, ln, c->ncols);
	for (size_t i = 0; i < c->ncols; i++) {
		char b[48];
		col *k = &c->cols[i];
		if (k->kind < 0)
			return pf_fail(PF_EINVAL, "%s:%llu: unknown column %s (column %zu; known: id, "
			                 "external_id, name, email, phone, language, country, "
			                 "loyalty_no, tier, tags, birth_date, consent, pref:CATEGORY, "
			                 "like:CATEGORY, dislike:CATEGORY, need:CATEGORY, note:CATEGORY)", im->path, ln, pf_imp_quoted_name(b, k->name), i + 1);
		if ((k->kind == C_PREF || k->kind == C_NOTE) &&
		    pf_check_category(k->category))
			return pf_fail(PF_EINVAL, "%s:%llu: column %zu %s: the category after "
			                 "the prefix is not lower-case dotted words (e.g. "
			                 "pref:room.floor)", im->path, ln, i + 1,
			                 pf_imp_quoted_name(b, k->name));
		for (size_t j = 0; j < i; j++) {
			const col *o = &c->cols[j];
			bool dup = o->kind == k->kind &&
			           (k->kind == C_PREF || k->kind == C_NOTE ?
			            strcmp(o->category, k->category) == 0 && o->pkind == k->pkind : true);
			if (dup)
				return pf_fail(PF_EINVAL, "%s:%llu: column %zu %s appears twice "
				                 "(first as column %zu)", im->path, ln, i + 1,
				                 pf_imp_quoted_name(b, k->name), j + 1);
		}
		has_name |= k->kind == C_NAME;
	}
	if (!has_name)
		return pf_fail(PF_EINVAL, "%s:%llu: the header has no 'name' column",
		                 im->path, ln);
	c->have_header = true;
	im->w = (places){ c->cols, c->ncols };
	pf_imp_at(im->ext_at, &im->w, C_EXT, NULL);
	return 0;
}

/* Convert the parsed fields of one row. */
static int csv_convert(csvr *c, irow *r, char *why)
{
	char a[AT_MAX];
	int rc;
	if (c->too_many || c->nf != c->ncols)
		return pf_imp_reason(why, "the row has %s%zu fields; the header has %zu",
		              c->too_many ? "more than " : "", c->nf, c->ncols);
	for (size_t i = 0; i < c->nf; i++)
		if (!pf_utf8_valid(c->f[i].s, c->f[i].n))
			return pf_imp_reason(why, "column %zu '%.100s' is not valid UTF-8", i + 1,
			              c->cols[i].name);
	for (size_t i = 0; i < c->nf; i++) {
		const col *k = &c->cols[i];
		const char *s = c->f[i].s;
		snprintf(a, sizeof a, "column %zu '%.100s'", i + 1, k->name);
		switch (k->kind) {
		case C_ID:      rc = pf_imp_parse_id(r, s, a, why); break;
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
		case C_EMAIL:   rc = pf_imp_set_text(&r->st_email, &r->email, s); break;
		case C_PHONE:   rc = pf_imp_set_text(&r->st_phone, &r->phone, s); break;
		case C_LANG:    rc = pf_imp_set_text(&r->st_lang, &r->language, s); break;
		case C_COUNTRY: rc = pf_imp_parse_country(r, s, a, why); break;
		case C_LOYALTY: rc = pf_imp_set_text(&r->st_loyalty, &r->loyalty, s); break;
		case C_TIER:    rc = pf_imp_parse_tier(r, s, a, why); break;
		case C_TAGS:    rc = pf_imp_parse_tags(r, s, a, why); break;
		case C_BIRTH:   rc = pf_imp_parse_birth(r, s, a, why); break;
		case C_CONSENT: rc = pf_imp_parse_consent(r, s, a, why); break;
		case C_PREF:
			rc = *s ? pf_imp_add_pref(r, k->category, s, k->pkind, NULL, a, why) : 0;
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
		ipref *p = pf_imp_pref_of(r, k->category);
		if (!p)
			return pf_imp_reason(why, "column %zu '%.100s': a note for preference '%s', which "
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
	im->rc = pf_imp_row_done(im, &r, conv, why);
}

static bool blank_line(const cline *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (!pf_imp_is_blank((unsigned char)l->text[i]))
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
		return pf_fail(PF_EINVAL, "%s:%llu: the header row %s", im->path,
		                 (unsigned long long)c->row_line, why);
	int rc = pf_imp_reject(im, c->row_line, why);
	if (rc)
		return rc;
	fields_clear(c);
	csv_free(&c->p);
	c->p_live = false;
	if (csv_init(&c->p, CSV_OPTS) != 0)
		return pf_fail(PF_ENOMEM, "out of memory");
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
	return pf_fail(PF_ENOMEM, "out of memory");
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
			return pf_fail(PF_ENOMEM, "out of memory");
		if (ferror(f))
			return pf_fail(PF_EIO, "reading '%s': %s", c->im->path,
			                 strerror(errno ? errno : EIO));
		return 0;
	}
	char *text = *buf;
	size_t len = (size_t)n;
	if (++c->lineno == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;   /* the UTF-8 byte order mark some spreadsheets write */
		len -= 3;
	}
	if (!(out->text = pf_imp_dupn(text, len)))
		return pf_fail(PF_ENOMEM, "out of memory");
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

uint64_t pf_imp_csv_precount(FILE *f)
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
				rc = pf_fail(PF_ENOMEM, "out of memory");
				goto out;
			}
			c->row_bytes += l.len;
			c->events = c->last_end = false;
			size_t used = csv_parse(&c->p, l.text, l.len, csv_cb_field, csv_cb_row, c);
			if (im->rc || im->stop)
				break;
			/* libcsv stops at a buffer it cannot grow: not bad quoting. */
			if (csv_error(&c->p) == CSV_ENOMEM) {
				rc = pf_fail(PF_ENOMEM, "out of memory");
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
		rc = pf_fail(PF_EINVAL, "%s: no header row (the file is empty)",
		               im->path);
out:
	free(buf);
	return rc ? rc : im->rc;
}

int pf_imp_csv_read(imp *im, FILE *f)
{
	csvr c;
	memset(&c, 0, sizeof c);
	c.im = im;
	c.boundary = true;
	int rc;
	if (csv_init(&c.p, CSV_OPTS) != 0) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	c.p_live = true;
	rc = csv_run(&c, f);
out:
	im->w = (places){ NULL, 0 };   /* the columns go; a last batch may still be written */
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
	return rc;
}
