/*
 * export.c — what the library holds about guests, written out:
 * pf_guest_export_json (everything about one guest: the right of access),
 * pf_export_jsonl and pf_export_csv (every guest with its preferences, in
 * the formats import.c reads), and pf_string_free.
 *
 * JSON is built with jansson, never by hand; CSV fields that need quotes
 * go through libcsv's writer.  Export files are written under a temporary
 * name and renamed into place once complete and synced.
 *
 * Owns no database: every record comes through its owner.  May call:
 * store.c (read transactions), codec.c (guest, stay and prompt records),
 * guest.c (pf_guest_load, pf_guest_each), stay.c (pf_stays_read),
 * prompt.c (pf_prompts_of_guests, pf_prompt_load), the public feedback
 * and journal readers, text.c, error.c, jansson, libcsv.
 */
#include "error.h"
#include "text.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "stay.h"
#include "prompt.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


void pf_string_free(char *s)
{
	/* dumps() memory comes from malloc. */
	free(s);
}

/* ------------------------------------------------------------------ */
/* JSON building: one sticky out-of-memory flag instead of a check after  */
/* every jansson call                                                   */
/* ------------------------------------------------------------------ */

typedef struct jb {
	bool oom;
} jb;

/* json_dumps() with a failure that sticks: jansson 2.14 does not check
 * the write of an object's key, so a json_dumps() whose buffer failed to
 * grow there returns text without the key.  Once a write fails every
 * later one fails too, and the dump returns NULL. */
struct dump_buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static int dump_append(const char *data, size_t size, void *arg)
{
	struct dump_buf *d = arg;
	if (!d->failed && d->len + size >= d->cap) {
		size_t cap = (d->len + size + 1) * 2;
		char *s = realloc(d->s, cap);
		d->failed = !s;
		if (s) {
			d->s = s;
			d->cap = cap;
		}
	}
	if (d->failed)
		return -1;
	memcpy(d->s + d->len, data, size);
	d->len += size;
	d->s[d->len] = '\0';
	return 0;
}

static char *dumps(const json_t *root, size_t flags)
{
	struct dump_buf d = { NULL, 0, 0, false };
	if (json_dump_callback(root, dump_append, &d, flags) != 0 || d.failed || !d.s) {
		free(d.s);
		return NULL;
	}
	return d.s;
}

static void put(jb *b, json_t *obj, const char *key, json_t *v)
{
	/* json_object_set_new() takes v (and frees it on failure); a NULL v
	 * is an allocation that already failed. */
	if (!v || json_object_set_new(obj, key, v) != 0)
		b->oom = true;
}

static void push(jb *b, json_t *arr, json_t *v)
{
	if (!v || json_array_append_new(arr, v) != 0)
		b->oom = true;
}

static json_t *obj_new(jb *b)
{
	json_t *o = json_object();
	if (!o)
		b->oom = true;
	return o;
}

static json_t *arr_new(jb *b)
{
	json_t *a = json_array();
	if (!a)
		b->oom = true;
	return a;
}

/* An array of one object per item; fill() puts the item's fields. */
typedef void (*fill_fn)(jb *b, json_t *o, const void *item);

static json_t *objects_json(jb *b, const void *items, size_t n, size_t size, fill_fn fill)
{
	json_t *a = arr_new(b);
	for (size_t i = 0; a && i < n; i++) {
		json_t *o = obj_new(b);
		if (!o)
			break;
		fill(b, o, (const char *)items + i * size);
		push(b, a, o);
	}
	return a;
}

/* Only a string that is there: the JSON Lines form leaves out the rest. */
static void put_str_if(jb *b, json_t *obj, const char *key, const char *s)
{
	if (s)
		put(b, obj, key, json_string(s));
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *id_json(const pf_id *id)
{
	char s[PF_ID_STRLEN + 1];
	if (pf_id_is_zero(id))
		return json_null();
	pf_id_format(s, id);
	return json_string(s);
}

/* "2026-11-23T09:00:00Z"; null for 0 (never happened). */
static json_t *time_json(pf_time t)
{
	char s[40];
	struct tm tm;
	time_t tt = (time_t)t;
	if (t == 0 || !gmtime_r(&tt, &tm) || strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_null();
	return json_string(s);
}

static json_t *date_json(pf_date d)
{
	char b[PF_DATE_TEXT_SIZE];
	return str_or_null(pf_date_text(b, d));
}

static json_t *consent_json(jb *b, unsigned int c)
{
	json_t *a = arr_new(b);
	if (!a)
		return NULL;
	if (c & PF_CONSENT_PROFILING)
		push(b, a, json_string("profiling"));
	if (c & PF_CONSENT_MARKETING)
		push(b, a, json_string("marketing"));
	return a;
}

static json_t *tags_json(jb *b, const pf_guest *g)
{
	json_t *a = arr_new(b);
	for (size_t i = 0; a && i < g->tag_count; i++)
		push(b, a, json_string(g->tags[i]));
	return a;
}

static int json_fail(jb *b)
{
	(void)b;
	return pf_fail(PF_ENOMEM, "out of memory building the JSON");
}

/* ------------------------------------------------------------------ */
/* One guest, everything                                                */
/* ------------------------------------------------------------------ */

#define EXPORT "pf_guest_export_json"

struct one {
	pf_id id;
	pf_guest_rec *g;
	pf_stay *stays;
	size_t nstays, stay_cap;
	pf_prompt *prompts;
	size_t nprompts;
};

static void one_clear(struct one *a)
{
	pf_guest_rec_free(a->g);
	for (size_t i = 0; i < a->nstays; i++)
		pf_stay_clear(&a->stays[i]);
	free(a->stays);
	for (size_t i = 0; i < a->nprompts; i++)
		pf_prompt_clear(&a->prompts[i]);
	free(a->prompts);
	memset(a, 0, sizeof *a);
}

/* The guest's prompts, through the per-guest index (prompt.c). */
static int read_prompts(MDB_txn *txn, pf_db *db, struct one *a)
{
	pf_id *ids = NULL;
	size_t n = 0;
	int rc = pf_prompts_of_guests(txn, db, &a->id, 1, &ids, &n);
	if (rc == 0 && n) {
		a->prompts = calloc(n, sizeof *a->prompts);
		if (!a->prompts)
			rc = pf_seterr(PF_ENOMEM, EXPORT ": out of memory");
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = pf_prompt_load(txn, db, &ids[i], &a->prompts[a->nprompts]);
		if (rc == 0)
			a->nprompts++;
	}
	free(ids);
	return rc;
}

static int one_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct one *a = arg;
	int rc;
	pf_id id = a->id;
	one_clear(a);   /* a read may be retried: start clean */
	a->id = id;
	if ((rc = pf_guest_load(&a->g, txn, db, &a->id)) ||
	    (rc = pf_stays_read(txn, db, &a->id, &a->stays, &a->nstays, &a->stay_cap)))
		return rc;
	return read_prompts(txn, db, a);
}

static int prompt_order(const void *x, const void *y)
{
	const pf_prompt *a = x, *b = y;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static json_t *guest_json(jb *b, const pf_guest_rec *r)
{
	const pf_guest *g = &r->g;
	json_t *o = obj_new(b);
	if (!o)
		return NULL;
	put(b, o, "id", id_json(&g->id));
	put(b, o, "external_id", str_or_null(g->external_id));
	put(b, o, "name", str_or_null(g->name));
	put(b, o, "email", str_or_null(g->email));
	put(b, o, "phone", str_or_null(g->phone));
	put(b, o, "language", str_or_null(g->language));
	put(b, o, "country", str_or_null(g->country));
	put(b, o, "loyalty_no", str_or_null(g->loyalty_no));
	put(b, o, "birth_date", date_json(g->birth_date));
	put(b, o, "tier", str_or_null(pf_tier_name(g->tier)));
	put(b, o, "tags", tags_json(b, g));
	put(b, o, "consent", consent_json(b, g->consent));
	put(b, o, "created", time_json(g->created));
	put(b, o, "updated", time_json(g->updated));
	put(b, o, "stays", json_integer(g->stays));
	put(b, o, "complaints_open", json_integer(r->complaints_open));
	put(b, o, "complaints_total", json_integer(r->complaints_total));
	put(b, o, "not_satisfied_at", time_json(g->not_satisfied_at));
	return o;
}

static void pref_fields(jb *b, json_t *o, const void *item)
{
	const pf_pref *p = item;
	json_t *by = obj_new(b);
	put(b, o, "category", json_string(p->category));
	put(b, o, "value", json_string(p->value));
	put(b, o, "kind", str_or_null(pf_pref_kind_name(p->kind)));
	if (by) {
		put(b, by, "department", str_or_null(p->department));
		put(b, by, "staff", str_or_null(p->staff));
	}
	put(b, o, "observed_by", by);
	put(b, o, "note", str_or_null(p->note));
	put(b, o, "count", json_integer(p->count));
	put(b, o, "first_seen", time_json(p->first_seen));
	put(b, o, "last_seen", time_json(p->last_seen));
}

static void stay_fields(jb *b, json_t *o, const void *item)
{
	const pf_stay *s = item;
	put(b, o, "arrival", date_json(s->arrival));
	put(b, o, "departure", date_json(s->departure));
	put(b, o, "property", str_or_null(s->property));
	put(b, o, "room", str_or_null(s->room));
	put(b, o, "party", json_integer(s->party));
}

static void prompt_fields(jb *b, json_t *o, const void *item)
{
	const pf_prompt *p = item;
	put(b, o, "id", id_json(&p->id));
	put(b, o, "event_id", str_or_null(p->event_id));
	put(b, o, "department", str_or_null(p->department));
	put(b, o, "rule", str_or_null(p->rule));
	put(b, o, "priority", str_or_null(pf_priority_name(p->priority)));
	put(b, o, "text", str_or_null(p->text));
	put(b, o, "status", str_or_null(pf_prompt_status_name(p->status)));
	put(b, o, "created", time_json(p->created));
	put(b, o, "due", time_json(p->due));
	put(b, o, "ack_by", str_or_null(p->ack_by));
	put(b, o, "ack_at", time_json(p->ack_at));
	put(b, o, "done_by", str_or_null(p->done_by));
	put(b, o, "done_at", time_json(p->done_at));
	put(b, o, "dismiss_reason", str_or_null(p->dismiss_reason));
}

static void feedback_fields(jb *b, json_t *o, const void *item)
{
	const pf_feedback *f = item;
	put(b, o, "id", id_json(&f->id));
	put(b, o, "kind", str_or_null(pf_feedback_kind_name(f->kind)));
	put(b, o, "department", str_or_null(f->department));
	put(b, o, "category", str_or_null(f->category));
	put(b, o, "text", str_or_null(f->text));
	put(b, o, "severity", json_integer(f->severity));
	put(b, o, "stay", date_json(f->stay));
	put(b, o, "recorded_by", str_or_null(f->recorded_by));
	put(b, o, "recorded_at", time_json(f->recorded_at));
	put(b, o, "status", str_or_null(pf_feedback_status_name(f->status)));
	put(b, o, "due", time_json(f->due));
	put(b, o, "resolution", str_or_null(f->resolution));
	put(b, o, "resolved_by", str_or_null(f->resolved_by));
	put(b, o, "resolved_at", time_json(f->resolved_at));
	put(b, o, "followup_prompt", id_json(&f->followup_prompt));
	put(b, o, "outcome", str_or_null(pf_outcome_name(f->outcome)));
	put(b, o, "outcome_by", str_or_null(f->outcome_by));
	put(b, o, "outcome_at", time_json(f->outcome_at));
}

static int feedback_json(jb *b, json_t *root, pf_db *db, const pf_id *guest)
{
	pf_feedback_list *fl = NULL;
	int rc = pf_feedback_list_get(&fl, db, guest, NULL);
	if (rc)
		return rc;       /* its message names pf_feedback_list_get, as it did */
	pf_api_enter("pf_guest_export_json");   /* the entry point again */
	put(b, root, "feedback",
	    objects_json(b, fl->items, fl->count, sizeof *fl->items, feedback_fields));
	pf_feedback_list_free(fl);
	return 0;
}

static int journal_json(jb *b, json_t *root, pf_db *db, const pf_id *guest)
{
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	int rc = pf_journal_iter(&it, db, 0, guest);
	if (rc)
		return rc;
	json_t *a = arr_new(b);
	while (a && !b->oom && (rc = pf_journal_next(&e, it)) == 0) {
		json_t *o = obj_new(b), *fields = arr_new(b);
		if (!o || !fields) {
			json_decref(o);
			json_decref(fields);
			break;
		}
		put(b, o, "seq", json_integer((json_int_t)e->seq));
		put(b, o, "time", time_json(e->time));
		put(b, o, "actor", str_or_null(e->actor));
		put(b, o, "op", str_or_null(e->op));
		put(b, o, "object", id_json(&e->object));
		put(b, o, "ref", str_or_null(e->ref));
		for (size_t i = 0; i < e->field_count; i++) {
			json_t *pair = arr_new(b);
			if (!pair)
				break;
			push(b, pair, json_string(e->fields[i].name));
			push(b, pair, str_or_null(e->fields[i].value));
			push(b, fields, pair);
		}
		put(b, o, "fields", fields);
		push(b, a, o);
	}
	pf_journal_iterator_free(it);
	if (rc == PF_ITEROVER || rc == 0)
		pf_api_enter("pf_guest_export_json");   /* the entry point again */
	put(b, root, "journal", a);
	return rc == PF_ITEROVER || rc == 0 ? 0 : rc;
}

int pf_guest_export_json(char **out, pf_db *db, const pf_id *guest)
{
	pf_api_enter("pf_guest_export_json");
	if (!out)
		return pf_seterr(PF_EINVAL, EXPORT ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, EXPORT ": db is NULL");
	int rc = pf_check_id("guest", guest, "no guest");
	if (rc)
		return rc;

	struct one a;
	jb b = { false };
	json_t *root = NULL;
	memset(&a, 0, sizeof a);
	a.id = *guest;
	rc = pf_store_read(db, one_txn, &a);
	if (rc)
		goto out;
	a.g->g.id = *guest;
	if (a.nprompts > 1)
		qsort(a.prompts, a.nprompts, sizeof *a.prompts, prompt_order);

	if (!(root = obj_new(&b))) {
		rc = json_fail(&b);
		goto out;
	}
	put(&b, root, "format", json_string("libprofile.guest-export"));
	put(&b, root, "version", json_integer(1));
	put(&b, root, "exported_at", time_json(pf_now(db)));
	put(&b, root, "guest", guest_json(&b, a.g));
	put(&b, root, "preferences", objects_json(&b, a.g->g.prefs, a.g->g.pref_count,
	                                          sizeof *a.g->g.prefs, pref_fields));
	put(&b, root, "stays", objects_json(&b, a.stays, a.nstays, sizeof *a.stays, stay_fields));
	put(&b, root, "prompts",
	    objects_json(&b, a.prompts, a.nprompts, sizeof *a.prompts, prompt_fields));
	/* The guest and its own records are released before the feedback
	 * and journal readers take their own read transactions. */
	one_clear(&a);
	if ((rc = feedback_json(&b, root, db, guest)) || (rc = journal_json(&b, root, db, guest)))
		goto out;
	if (b.oom) {
		rc = json_fail(&b);
		goto out;
	}
	*out = dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!*out)
		rc = json_fail(&b);
out:
	one_clear(&a);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* All guests: JSON Lines and CSV files                                 */
/* ------------------------------------------------------------------ */

/* An export file being written: a temporary file next to the target,
 * renamed onto it once complete. */
typedef struct outfile {
	const char *path;
	char *tmp;
	FILE *f;
} outfile;

static int io_err(const outfile *o, const char *what, int err)
{
	int code = err == ENOENT || err == ENOTDIR ? PF_ENOTFOUND :
	           err == ENOSPC || err == EDQUOT ? PF_EFULL :
	           err == ENOMEM ? PF_ENOMEM : PF_EIO;
	return pf_fail(code, "%s '%s': %s", what, o->path, strerror(err));
}

static int out_open(outfile *o, const char *path)
{
	memset(o, 0, sizeof *o);
	o->path = path;
	size_t n = strlen(path);
	if (!(o->tmp = malloc(n + 8)))
		return pf_fail(PF_ENOMEM, "out of memory");
	memcpy(o->tmp, path, n);
	memcpy(o->tmp + n, ".XXXXXX", 8);
	/* mkstemp creates the file 0600: it holds personal data. */
	int fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(o->tmp);
		o->tmp = NULL;
		return io_err(o, "cannot create a file next to", e);
	}
	if (!(o->f = fdopen(fd, "w"))) {
		int e = errno;
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		return io_err(o, "cannot write", e);
	}
	return 0;
}

/* Finish: on success flush, sync and rename into place; otherwise (or if
 * that fails) remove the temporary file. */
static int out_close(outfile *o, int rc)
{
	if (!o->f)
		return rc;
	if (!rc && (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0))
		rc = io_err(o, "cannot write", errno ? errno : EIO);
	if (fclose(o->f) != 0 && !rc)
		rc = io_err(o, "cannot write", errno);
	o->f = NULL;
	if (!rc && rename(o->tmp, o->path) != 0)
		rc = io_err(o, "cannot rename the export onto", errno);
	if (rc)
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return rc;
}

/* Calls fn for every guest record, in id order, inside the caller's txn
 * (guest.c walks its database). */
typedef int (*each_fn)(const pf_guest_rec *r, void *arg);

struct each_ctx {
	each_fn cb;
	void *arg;
};

static int each_one(void *ctx, const pf_guest_rec *r)
{
	struct each_ctx *c = ctx;
	return c->cb(r, c->arg);
}

static int each_guest(MDB_txn *txn, pf_db *db, each_fn cb, void *arg)
{
	struct each_ctx c = { cb, arg };
	return pf_guest_each(txn, db, each_one, &c);
}

/* ---- JSON Lines ---- */


static bool has_kind_prefix(const char *v)
{
	return strncmp(v, "like:", 5) == 0 || strncmp(v, "dislike:", 8) == 0 ||
	       strncmp(v, "need:", 5) == 0;
}

static int jsonl_guest(const pf_guest_rec *r, void *arg)
{
	outfile *o = arg;
	const pf_guest *g = &r->g;
	char bd[PF_DATE_TEXT_SIZE];
	jb b = { false };
	json_t *root = obj_new(&b);
	if (!root)
		return json_fail(&b);
	put(&b, root, "id", id_json(&g->id));
	put_str_if(&b, root, "external_id", g->external_id);
	put(&b, root, "name", json_string(g->name));
	put_str_if(&b, root, "email", g->email);
	put_str_if(&b, root, "phone", g->phone);
	put_str_if(&b, root, "language", g->language);
	put_str_if(&b, root, "country", g->country);
	put_str_if(&b, root, "loyalty_no", g->loyalty_no);
	put(&b, root, "tier", str_or_null(pf_tier_name(g->tier)));
	if (g->tag_count)
		put(&b, root, "tags", tags_json(&b, g));
	if (g->birth_date)
		put(&b, root, "birth_date", json_string(pf_date_text(bd, g->birth_date)));
	put(&b, root, "consent", consent_json(&b, g->consent));
	if (g->pref_count) {
		json_t *prefs = obj_new(&b);
		for (size_t i = 0; prefs && i < g->pref_count; i++) {
			const pf_pref *p = &g->prefs[i];
			/* A plain string is read back as a like unless it starts
			 * with a kind prefix: anything else is written in full. */
			if (p->kind == PF_LIKE && !p->note && !has_kind_prefix(p->value)) {
				put(&b, prefs, p->category, json_string(p->value));
				continue;
			}
			json_t *po = obj_new(&b);
			if (!po)
				break;
			put(&b, po, "value", json_string(p->value));
			put(&b, po, "kind", str_or_null(pf_pref_kind_name(p->kind)));
			put_str_if(&b, po, "note", p->note);
			put(&b, prefs, p->category, po);
		}
		put(&b, root, "prefs", prefs);
	}
	int rc = 0;
	char *line = b.oom ? NULL : dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!line)
		return json_fail(&b);
	if (fputs(line, o->f) == EOF || putc('\n', o->f) == EOF)
		rc = io_err(o, "cannot write", errno ? errno : EIO);
	free(line);
	return rc;
}

static int jsonl_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	outfile *o = arg;
	/* A retried read starts the file again. */
	if (fseek(o->f, 0, SEEK_SET) != 0 || ftruncate(fileno(o->f), 0) != 0)
		return io_err(o, "cannot write", errno);
	return each_guest(txn, db, jsonl_guest, o);
}

static int export_file(pf_db *db, const char *path, pf_txn_fn txn_fn,
                       void *ctx, outfile *o)
{
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if (!path || !*path)
		return pf_fail(PF_EINVAL, "path is NULL or empty");
	int rc = out_open(o, path);
	if (rc)
		return rc;
	rc = pf_store_read(db, txn_fn, ctx);
	return out_close(o, rc);
}

int pf_export_jsonl(pf_db *db, const char *path)
{
	pf_api_enter("pf_export_jsonl");
	outfile o;
	return export_file(db, path, jsonl_txn, &o, &o);
}

/* ---- CSV ---- */

#define EXPORT_CSV "pf_export_csv"

typedef struct catcol {
	char *category;
	bool note;                /* some guest has a note in it */
} catcol;

typedef struct csvx {
	outfile o;
	catcol *cats;
	size_t ncats, cap;
	int err;
} csvx;

static void cats_free(csvx *x)
{
	for (size_t i = 0; i < x->ncats; i++)
		free(x->cats[i].category);
	free(x->cats);
	x->cats = NULL;
	x->ncats = x->cap = 0;
}

/* Sorted insert of a category (binary search: categories are few). */
static int cat_add(csvx *x, const char *category, bool note)
{
	size_t lo = 0, hi = x->ncats;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(x->cats[mid].category, category);
		if (c == 0) {
			x->cats[mid].note |= note;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (x->ncats == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 32;
		catcol *v = realloc(x->cats, cap * sizeof *v);
		if (!v)
			return pf_seterr(PF_ENOMEM, EXPORT_CSV ": out of memory");
		x->cats = v;
		x->cap = cap;
	}
	char *c = strdup(category);
	if (!c)
		return pf_seterr(PF_ENOMEM, EXPORT_CSV ": out of memory");
	memmove(&x->cats[lo + 1], &x->cats[lo], (x->ncats - lo) * sizeof *x->cats);
	x->cats[lo] = (catcol){ c, note };
	x->ncats++;
	return 0;
}

static int collect_cats(const pf_guest_rec *r, void *arg)
{
	csvx *x = arg;
	for (size_t i = 0; i < r->g.pref_count; i++) {
		int rc = cat_add(x, r->g.prefs[i].category, r->g.prefs[i].note != NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* One field: quoted (by libcsv) only when it must be. */
static void field(csvx *x, const char *s, bool first)
{
	if (!first && putc(',', x->o.f) == EOF)
		x->err = errno ? errno : EIO;
	if (!s || !*s)
		return;
	size_t n = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' || s[0] == '\t' ||
	             s[n - 1] == ' ' || s[n - 1] == '\t';
	if (quote ? csv_fwrite(x->o.f, s, n) != 0 : fwrite(s, 1, n, x->o.f) != n)
		x->err = errno ? errno : EIO;
}

static const char *kind_prefix(const pf_pref *p)
{
	switch (p->kind) {
	case PF_DISLIKE: return "dislike:";
	case PF_NEED:    return "need:";
	default:         return has_kind_prefix(p->value) ? "like:" : "";
	}
}

static int csv_guest(const pf_guest_rec *r, void *arg)
{
	csvx *x = arg;
	const pf_guest *g = &r->g;
	char id[PF_ID_STRLEN + 1], bd[PF_DATE_TEXT_SIZE];
	char *tags = NULL, *pv = NULL;
	size_t tl = 1;
	int rc = 0;

	for (size_t i = 0; i < g->tag_count; i++)
		tl += strlen(g->tags[i]) + 1;
	if (!(tags = malloc(tl)) || !(pv = malloc(PF_VALUE_MAX + 16))) {
		rc = pf_seterr(PF_ENOMEM, EXPORT_CSV ": out of memory");
		goto out;
	}
	tags[0] = '\0';
	for (size_t i = 0; i < g->tag_count; i++) {
		if (i)
			strcat(tags, ";");
		strcat(tags, g->tags[i]);
	}
	pf_id_format(id, &g->id);
	const char *consent =
		(g->consent & PF_CONSENT_PROFILING) && (g->consent & PF_CONSENT_MARKETING) ?
		"profiling;marketing" : g->consent & PF_CONSENT_PROFILING ? "profiling" :
		g->consent & PF_CONSENT_MARKETING ? "marketing" : "none";

	field(x, id, true);
	field(x, g->external_id, false);
	field(x, g->name, false);
	field(x, g->email, false);
	field(x, g->phone, false);
	field(x, g->language, false);
	field(x, g->country, false);
	field(x, g->loyalty_no, false);
	field(x, pf_tier_name(g->tier), false);
	field(x, tags, false);
	field(x, pf_date_text(bd, g->birth_date), false);
	field(x, consent, false);
	/* Both lists are sorted by category: one merge-like walk. */
	size_t j = 0;
	for (size_t i = 0; i < x->ncats; i++) {
		const pf_pref *p = NULL;
		while (j < g->pref_count && strcmp(g->prefs[j].category, x->cats[i].category) < 0)
			j++;
		if (j < g->pref_count && strcmp(g->prefs[j].category, x->cats[i].category) == 0)
			p = &g->prefs[j];
		if (p)
			snprintf(pv, PF_VALUE_MAX + 16, "%s%s", kind_prefix(p), p->value);
		field(x, p ? pv : NULL, false);
		if (x->cats[i].note)
			field(x, p ? p->note : NULL, false);
	}
	if (putc('\n', x->o.f) == EOF)
		x->err = errno ? errno : EIO;
	if (x->err)
		rc = io_err(&x->o, "cannot write", x->err);
out:
	free(tags);
	free(pv);
	return rc;
}

static int csv_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	csvx *x = arg;
	int rc;
	cats_free(x);
	x->err = 0;
	if (fseek(x->o.f, 0, SEEK_SET) != 0 || ftruncate(fileno(x->o.f), 0) != 0)
		return io_err(&x->o, "cannot write", errno);
	/* Two passes in one snapshot: the columns, then the rows. */
	if ((rc = each_guest(txn, db, collect_cats, x)))
		return rc;
	static const char *const fixed[] = {
		"id", "external_id", "name", "email", "phone", "language", "country",
		"loyalty_no", "tier", "tags", "birth_date", "consent",
	};
	char name[PF_CATEGORY_MAX + 8];
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		field(x, fixed[i], i == 0);
	for (size_t i = 0; i < x->ncats; i++) {
		snprintf(name, sizeof name, "pref:%s", x->cats[i].category);
		field(x, name, false);
		if (x->cats[i].note) {
			snprintf(name, sizeof name, "note:%s", x->cats[i].category);
			field(x, name, false);
		}
	}
	if (putc('\n', x->o.f) == EOF)
		x->err = errno ? errno : EIO;
	if (x->err)
		return io_err(&x->o, "cannot write", x->err);
	return each_guest(txn, db, csv_guest, x);
}

int pf_export_csv(pf_db *db, const char *path)
{
	pf_api_enter("pf_export_csv");
	csvx x;
	memset(&x, 0, sizeof x);
	int rc = export_file(db, path, csv_txn, &x, &x.o);
	cats_free(&x);
	return rc;
}
