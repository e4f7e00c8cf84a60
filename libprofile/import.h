/*
 * import.h — what the files of the import share: the converted row
 * (import_row.c), the batch engine's state (import.c) and the two format
 * readers (import_csv.c, import_jsonl.c).
 *
 *   import.c        the public entry points, the batches, the write
 *                   transaction, the "import.row" journal entry, the report
 *   import_row.c    one row: field parsers, the reasons of rejected rows,
 *                   validation against pf_guest_put's and pf_pref_set's checks
 *   import_csv.c    CSV via libcsv: header, rows, recovery from bad quoting
 *   import_jsonl.c  JSON Lines via jansson
 *
 * A reader converts each record into an irow and hands it to
 * pf_imp_row_done (import.c), which validates it (pf_imp_validate,
 * import_row.c) and queues it for the next batch.  Owner: import.c.
 * Never installed; nothing here is API.
 */
#ifndef PF_IMPORT_H
#define PF_IMPORT_H

#include "libprofile.h"
#include "error.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The longest reason of a rejected row, with its NUL. */
#define REASON_MAX 400
/* The longest place of a value ("column 4 'email'"), with its NUL. */
#define AT_MAX 160

/* Field states: ABSENT (keep what is stored), CLEAR (empty cell / null:
 * remove it), SET (the value given). */
enum { ABSENT = 0, CLEAR, SET };
enum { OUT_NONE = 0, OUT_CREATED, OUT_UPDATED };

/* What a CSV column or a JSON key holds. */
enum {
	C_ID, C_EXT, C_NAME, C_EMAIL, C_PHONE, C_LANG, C_COUNTRY, C_LOYALTY, C_TIER, C_TAGS,
	C_BIRTH, C_CONSENT, C_PREF, C_NOTE
};

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
 * (only an unknown tier or consent word, see pf_imp_quoted_word): a cell
 * may hold personal data, and a reason is shown to whoever runs the
 * import and kept in its log.
 */
typedef struct places {
	const col *cols;
	size_t ncols;
} places;

/* One preference of a row. */
typedef struct ipref {
	char *category;
	char *value;
	char *note;               /* NULL: not given */
	pf_pref_kind kind;
	bool changed;             /* written by the last attempt (journal) */
} ipref;

/* One row, converted from CSV or JSON. */
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
	char *why;                /* the last write attempt refused the row before
	                             writing anything for it: the reason (malloc'd) */
} irow;

/* The state of one import (import.c); the readers read and set the
 * fields marked so. */
typedef struct imp {
	pf_db *db;
	const char *fn;           /* "pf_import_csv" / "pf_import_jsonl" */
	const char *path;         /* readers: for messages */
	char *source;             /* the file's base name, for the journal; may be NULL */
	const char *dept;
	size_t batch_size;
	pf_progress_fn progress;
	void *payload;
	uint64_t total;           /* readers' pre-count, for progress */
	uint64_t reported;        /* `done` of the last progress call */
	pf_import_report *rep;    /* readers: rows++ for a row they reject themselves */
	size_t rej_cap;
	irow *batch;
	size_t nbatch, batch_cap;
	pf_time now;
	bool stop;                /* the progress callback asked to stop */
	int rc;                   /* a failure that ends the import */
	places w;                 /* the CSV header's columns while they are parsed
	                             (set by import_csv.c); none for JSON Lines */
	char ext_at[AT_MAX];      /* where external ids are, for write-time reasons */
	char write_why[REASON_MAX]; /* the reason of a row the write refused, when the
	                             import found it; "" when a library call did */
	bool unsynced;            /* a batch was committed without its meta sync:
	                             pf_store_sync before the import returns */
	/* the "import.row" entry's fields and their text, allocated once */
	struct pf_journal_field *jfields;
	struct pf_jguest_text *jtext;
} imp;

/* ---- import.c: the engine, for the readers ---- */

/* A converted row: validated, then queued (rejected rows go to the
 * report).  `conv` is the conversion's result (0, PF_EINVAL with the
 * reason in why_conv, or PF_ENOMEM).  Takes over *r; writes a batch when
 * it is full.  0, or the failure that ends the import. */
int pf_imp_row_done(imp *im, irow *r, int conv, const char *why_conv);

/* A row the reader refused as a whole (e.g. broken CSV quoting): counted
 * and reported with `why`.  0 or PF_ENOMEM. */
int pf_imp_reject(imp *im, uint64_t line, const char *why);

/* ---- the readers, for import.c ---- */

/* Records in the file, for the progress total (rewinds f). */
uint64_t pf_imp_csv_precount(FILE *f);
uint64_t pf_imp_jsonl_precount(FILE *f);
/* Read the whole file, handing each row to pf_imp_row_done.  0 or the
 * failure that ends the import (messages start "<entry point>: "). */
int pf_imp_csv_read(imp *im, FILE *f);
int pf_imp_jsonl_read(imp *im, FILE *f);

/* ---- import_row.c: one row ---- */

void pf_imp_row_clear(irow *r);

/* A reason for the report in `why` (REASON_MAX bytes); returns PF_EINVAL. */
int pf_imp_reason(char *why, const char *fmt, ...) PF_PRINTF(2, 3);

/* Where a value of `kind` (and preference `category`, or NULL) is: the
 * CSV column, else the JSON field. */
const char *pf_imp_at(char buf[AT_MAX], const places *w, int kind, const char *category);

/* A header cell or JSON key quoted in a message only when it looks like a
 * name ("'emial'"), else "(name not shown)". */
const char *pf_imp_quoted_name(char buf[48], const char *s);

/* The kind (C_*) of a fixed column or key called `name` (ASCII case
 * ignored); -1 if none. */
int pf_imp_fixed_kind(const char *name);

char *pf_imp_dupn(const char *s, size_t n);
bool pf_imp_is_blank(unsigned char c);
/* s[0..*n) without surrounding blanks. */
const char *pf_imp_trimmed(const char *s, size_t *n);

/* Field parsers: `where` names the place for the reason in `why`.  0,
 * PF_EINVAL (reason written) or PF_ENOMEM. */
int pf_imp_set_text(int *st, char **dst, const char *s);
int pf_imp_parse_id(irow *r, const char *s, const char *where, char *why);
int pf_imp_parse_tier(irow *r, const char *s, const char *where, char *why);
int pf_imp_parse_birth(irow *r, const char *s, const char *where, char *why);
int pf_imp_parse_country(irow *r, const char *s, const char *where, char *why);
int pf_imp_parse_tags(irow *r, const char *s, const char *where, char *why);
int pf_imp_parse_consent(irow *r, const char *s, const char *where, char *why);

/* One item of a list (a tag, a consent word), trimmed and non-empty. */
typedef int (*pf_imp_item_fn)(irow *r, const char *item, size_t n, const char *where,
                              char *why);
int pf_imp_split(irow *r, const char *s, const char *seps, pf_imp_item_fn fn,
                 const char *where, char *why);
int pf_imp_tag_item(irow *r, const char *t, size_t n, const char *where, char *why);
int pf_imp_consent_item(irow *r, const char *t, size_t n, const char *where, char *why);
void pf_imp_tags_reset(irow *r);

/* The row's preference in `category`, or NULL. */
ipref *pf_imp_pref_of(irow *r, const char *category);
/* Add a preference; kind < 0 takes it from a "like:"/"dislike:"/"need:"
 * prefix of the value (default like).  The category is valid already. */
int pf_imp_add_pref(irow *r, const char *category, const char *value, int kind,
                    const char *note, const char *where, char *why);

/* Everything pf_guest_put and pf_pref_set would check, on the row alone:
 * 0, or PF_EINVAL with the reason in why. */
int pf_imp_validate(const irow *r, const places *w, char *why);

#endif /* PF_IMPORT_H */
