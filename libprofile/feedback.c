/*
 * feedback.c — complaints, compliments and suggestions: pf_feedback_add /
 * get / list_get / update / resolve / followup; the sunset rule's prompts
 * to the department and the duty manager, the call-back after a
 * resolution, the guest's complaint counters (what rules test as
 * complaints.*), preferences learnt from feedback, and the helpers
 * merge.c and erase.c call (move / set guest, erase).
 *
 * Owns the `feedback` db (key layout in feedback.h).  Calls store.c,
 * codec.c, text.c, guest.c (load/save), pref.c (observe), prompt.c
 * (store, load, close, deliver), tz.c (due times) and journal.c.  Every
 * public mutation is one write transaction: record, index, prompts, guest
 * counters and journal entries commit together or not at all.
 */
#include "feedback.h"
#include "stay.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "pref.h"
#include "prompt.h"
#include "journal.h"
#include "tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_LEN ((int)sizeof(pf_id))
#define IDX_LEN (1 + ID_LEN + 8 + ID_LEN)
#define IDX_TAG 'g'
#define ERASED "[erased]"
#define MANAGEMENT "management"
#define FRONT_OFFICE "front_office"
#define EVENT_PREFIX "feedback:"
#define EVENT_ID_MAX (sizeof EVENT_PREFIX + PF_ID_STRLEN)

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

static const char *const kind_names[] = { "complaint", "compliment", "suggestion" };
static const char *const status_names[] = { "open", "in_progress", "resolved",
	                                        "closed_unresolved" };
static const char *const outcome_names[] = { "none", "satisfied", "not_satisfied" };

#define NAMES_N(a) (sizeof(a) / sizeof((a)[0]))

const char *pf_feedback_kind_name(pf_feedback_kind kind)
{
	return (unsigned)kind < NAMES_N(kind_names) ? kind_names[kind] : NULL;
}

const char *pf_feedback_status_name(pf_feedback_status status)
{
	return (unsigned)status < NAMES_N(status_names) ? status_names[status] : NULL;
}

const char *pf_outcome_name(pf_outcome outcome)
{
	return (unsigned)outcome < NAMES_N(outcome_names) ? outcome_names[outcome] : NULL;
}

/* `out` is the caller's pointer, checked here; the value goes to *v. */
static int parse_name(const void *out, int *v, const char *name, const char *const *names,
                      size_t n)
{
	if (!out || !name)
		return pf_fail(PF_EINVAL, "%s is NULL", out ? "name" : "out");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(name, names[i]) == 0) {
			*v = (int)i;
			return 0;
		}
	}
	return pf_fail(PF_EINVAL, "unknown name '%.40s'", name);
}

int pf_feedback_kind_parse(pf_feedback_kind *out, const char *name)
{
	pf_api_enter("pf_feedback_kind_parse");
	int v = 0;
	int rc = parse_name(out, &v, name, kind_names, NAMES_N(kind_names));
	if (!rc)
		*out = (pf_feedback_kind)v;
	return rc;
}

int pf_feedback_status_parse(pf_feedback_status *out, const char *name)
{
	pf_api_enter("pf_feedback_status_parse");
	int v = 0;
	int rc = parse_name(out, &v, name, status_names, NAMES_N(status_names));
	if (!rc)
		*out = (pf_feedback_status)v;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

/* A malloc'd copy of s cut to at most max bytes at a character boundary. */
static char *dup_cut(const char *s, size_t max)
{
	size_t n = pf_utf8_cut(s, strlen(s), max);
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Prompt text: formatted, then cut to PF_PROMPT_TEXT_MAX.  malloc'd. */
static char *prompt_text(const char *fmt, ...) PF_PRINTF(1, 2);

static char *prompt_text(const char *fmt, ...)
{
	char buf[PF_NAME_MAX + 2 * PF_NOTE_MAX + 2 * PF_FIELD_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return dup_cut(buf, PF_PROMPT_TEXT_MAX);
}

static void idx_key(unsigned char k[IDX_LEN], const pf_id *guest, pf_time at, const pf_id *id)
{
	k[0] = IDX_TAG;
	memcpy(k + 1, guest->b, ID_LEN);
	/* Sign bit flipped: times sort as signed numbers. */
	pf_be64_put(k + 1 + ID_LEN, (uint64_t)at ^ ((uint64_t)1 << 63));
	memcpy(k + 1 + ID_LEN + 8, id->b, ID_LEN);
}

/* For verify.c: the per-guest index key of a feedback record. */
_Static_assert(IDX_LEN == PF_FEEDBACK_INDEX_KEY_LEN, "feedback index key length");
void pf_feedback_index_key(unsigned char k[PF_FEEDBACK_INDEX_KEY_LEN], const pf_id *guest,
                           pf_time at, const pf_id *id)
{
	idx_key(k, guest, at, id);
}

static void event_id(char buf[EVENT_ID_MAX], const pf_id *id)
{
	char s[PF_ID_STRLEN + 1];
	pf_id_format(s, id);
	snprintf(buf, EVENT_ID_MAX, EVENT_PREFIX "%s", s);
}

static void time_text(char buf[32], pf_time t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	/* gmtime_r: UTC needs no zone, and it is thread-safe. */
	if (gmtime_r(&tt, &tm))
		strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, 32, "%lld", (long long)t);
}

static int check_staff(const char *field, const char *s, size_t max,
                       bool required)
{
	int rc = pf_check_text(field, s, max, required);
	if (!rc && s && !*s)
		rc = pf_fail(PF_EINVAL, "%s is empty (pass NULL for none)", field);
	return rc;
}

/* "dept/staff" for journal actors (journal.c erases the part after '/'). */
static void actor_text(char *buf, size_t cap, const char *dept, const char *staff)
{
	snprintf(buf, cap, "%s/%s", dept, staff);
}

/* ------------------------------------------------------------------ */
/* Records                                                              */
/* ------------------------------------------------------------------ */

static int rec_put(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_feedback_rec *r)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	int rc = pf_codec_feedback_encode(&sb, r);
	if (rc) {
		pf_seterr(rc, "feedback: cannot encode the record");
		goto out;
	}
	rc = pf_store_put(txn, db, PF_DBI_FEEDBACK, id->b, ID_LEN, sb.data, sb.size, 0);
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int pf_feedback_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_feedback_rec *out)
{
	MDB_val v;
	memset(out, 0, sizeof *out);
	int rc = pf_store_get_id(txn, db, PF_DBI_FEEDBACK, id, &v, "feedback");
	if (rc)
		return rc;
	rc = pf_codec_feedback_decode(out, v.mv_data, v.mv_size);
	if (rc)
		return rc;
	out->f.id = *id;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Prompts made and closed by feedback                                  */
/* ------------------------------------------------------------------ */

/* Prompts made in a transaction, delivered to subscribers after commit. */
static int made_add(pf_prompt_list **made, pf_prompt *p)
{
	pf_prompt_list *l = *made;
	if (!l && !(l = *made = calloc(1, sizeof *l)))
		return pf_fail(PF_ENOMEM, "out of memory");
	pf_prompt *items = realloc(l->items, (l->count + 1) * sizeof *items);
	if (!items)
		return pf_fail(PF_ENOMEM, "out of memory");
	l->items = items;
	l->items[l->count++] = *p;
	memset(p, 0, sizeof *p);
	return 0;
}

static void made_reset(pf_prompt_list **made)
{
	pf_prompt_list_free(*made);
	*made = NULL;
}

/* Store a new prompt about feedback `fid` and keep a copy in *made.
 * `text` is taken over (freed whatever happens). */
static int make_prompt(MDB_txn *txn, pf_db *db, pf_prompt_list **made, const pf_id *fid,
                       const pf_id *guest, const char *dept, const char *rule,
                       pf_priority prio, char *text, pf_time created, pf_time due,
                       pf_id *id_out)
{
	char ev[EVENT_ID_MAX];
	pf_prompt p;
	int rc;

	memset(&p, 0, sizeof p);
	event_id(ev, fid);
	pf_id_generate_ordered(&p.id);
	p.guest = *guest;
	p.priority = prio;
	p.status = PF_PROMPT_PENDING;
	p.created = created;
	p.due = due;
	p.text = text;
	p.event_id = strdup(ev);
	p.department = strdup(dept);
	p.rule = strdup(rule);
	if (!p.text || !p.event_id || !p.department || !p.rule) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = pf_prompt_store(txn, db, &p)))
		goto out;
	*id_out = p.id;
	rc = made_add(made, &p);
out:
	pf_prompt_clear(&p);
	return rc;
}

/*
 * Complete (done) or dismiss prompt `id` if it is still open, as
 * pf_prompt_done / pf_prompt_dismiss would, inside this transaction: the
 * feedback's own state change is what closes it.  A prompt already
 * closed, or no longer there (erased), is left alone.
 */
static int close_prompt(MDB_txn *txn, pf_db *db, const pf_id *id, pf_prompt_status to,
                        const char *staff, const char *reason, pf_time now)
{
	pf_prompt p;
	int rc = pf_prompt_load(txn, db, id, &p);

	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (p.status == PF_PROMPT_PENDING || p.status == PF_PROMPT_ACKNOWLEDGED)
		rc = pf_prompt_close_txn(txn, db, &p, to, staff, reason, now);
	pf_prompt_clear(&p);
	return rc;
}

static pf_priority severity_priority(int severity)
{
	return severity >= 3 ? PF_PRIORITY_URGENT :
	       severity == 2 ? PF_PRIORITY_HIGH : PF_PRIORITY_NORMAL;
}

/* ------------------------------------------------------------------ */
/* pf_feedback_add                                                      */
/* ------------------------------------------------------------------ */

#define ADD "pf_feedback_add"

struct add_args {
	const pf_feedback *fb;    /* validated; recorded_at resolved */
	const pf_pref *learn;
	pf_id id;
	pf_time now;
	pf_time due;
	pf_prompt_list *made;
};

static int stay_exists(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_date arrival)
{
	MDB_val v;
	int rc = pf_stay_get(txn, db, guest, arrival, &v);   /* stay.c owns the key */
	if (rc == PF_ENOTFOUND) {
		char s[PF_ID_STRLEN + 1];
		pf_id_format(s, guest);
		return pf_seterr(PF_ENOTFOUND, ADD ": guest %s has no stay arriving on %d", s,
		                 (int)arrival);
	}
	return rc;
}

static int add_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct add_args *a = arg;
	const pf_feedback *fb = a->fb;
	bool complaint = fb->kind == PF_FEEDBACK_COMPLAINT;
	pf_guest_rec *r = NULL;
	pf_feedback_rec rec;
	unsigned char k[IDX_LEN];
	int rc;

	made_reset(&a->made);      /* a retried attempt starts again */
	memset(&rec, 0, sizeof rec);
	if ((rc = pf_guest_load(&r, txn, db, &fb->guest)))
		goto out;
	if (fb->stay && (rc = stay_exists(txn, db, &fb->guest, fb->stay)))
		goto out;

	/* The record borrows the caller's strings: it is only encoded. */
	rec.f = *fb;
	rec.f.id = a->id;
	rec.f.status = PF_FEEDBACK_OPEN;
	rec.f.due = complaint ? a->due : 0;
	rec.f.resolution = rec.f.resolved_by = rec.f.outcome_by = NULL;
	rec.f.resolved_at = rec.f.outcome_at = 0;
	memset(&rec.f.followup_prompt, 0, sizeof rec.f.followup_prompt);
	rec.f.outcome = PF_OUTCOME_NONE;

	if (complaint) {
		pf_priority prio = severity_priority(fb->severity);
		char *t = prompt_text("Complaint from %s (%s, severity %d): %s", r->g.name,
		                      fb->category, fb->severity, fb->text);
		rc = make_prompt(txn, db, &a->made, &a->id, &fb->guest, fb->department,
		                 "complaint", prio, t, a->now, a->due,
		                 &rec.prompts[rec.prompt_count]);
		if (rc)
			goto out;
		rec.prompt_count++;
		if (strcmp(fb->department, MANAGEMENT) != 0) {
			t = prompt_text("Duty manager: complaint to %s from %s (%s, severity %d): %s",
			                fb->department, r->g.name, fb->category, fb->severity,
			                fb->text);
			rc = make_prompt(txn, db, &a->made, &a->id, &fb->guest, MANAGEMENT,
			                 "complaint", prio, t, a->now, a->due,
			                 &rec.prompts[rec.prompt_count]);
			if (rc)
				goto out;
			rec.prompt_count++;
		}
		char *cat = strdup(fb->category), *latest = dup_cut(fb->text, PF_NOTE_MAX);
		if (!cat || !latest) {
			free(cat);
			free(latest);
			rc = pf_seterr(PF_ENOMEM, ADD ": out of memory");
			goto out;
		}
		free(r->complaint_last_category);
		free(r->complaint_latest);
		r->complaint_last_category = cat;
		r->complaint_latest = latest;
		if (r->complaints_open < UINT32_MAX)
			r->complaints_open++;
		if (r->complaints_total < UINT32_MAX)
			r->complaints_total++;
	}
	if (a->learn) {
		/* Observed by whoever recorded the feedback; its text is the note
		 * unless `learn` brings one. */
		pf_observation o = PF_OBSERVATION_INIT;
		o.kind = a->learn->kind;
		o.department = fb->department;
		o.staff = fb->recorded_by;
		o.note = a->learn->note ? a->learn->note : fb->text;
		rc = pf_pref_observe(txn, db, r, a->learn->category, a->learn->value, &o,
		                     fb->recorded_at);
		if (rc)
			goto out;
		r->g.updated = a->now;
	}
	if ((complaint || a->learn) && (rc = pf_guest_save(txn, db, r)))
		goto out;

	if ((rc = rec_put(txn, db, &a->id, &rec)))
		goto out;
	idx_key(k, &fb->guest, fb->recorded_at, &a->id);
	if ((rc = pf_store_put(txn, db, PF_DBI_FEEDBACK, k, sizeof k, "", 0, 0)))
		goto out;

	char actor[PF_JOURNAL_ACTOR_MAX + 1], sev[8], due[32], at[32], stay[16];
	pf_journal_field jf[9];
	size_t n = 0;
	actor_text(actor, sizeof actor, fb->department, fb->recorded_by);
	snprintf(sev, sizeof sev, "%d", fb->severity);
	time_text(at, fb->recorded_at);
	jf[n++] = (pf_journal_field){ "kind", pf_feedback_kind_name(fb->kind) };
	jf[n++] = (pf_journal_field){ "department", fb->department };
	jf[n++] = (pf_journal_field){ "category", fb->category };
	jf[n++] = (pf_journal_field){ "severity", sev };
	jf[n++] = (pf_journal_field){ "text", fb->text };
	jf[n++] = (pf_journal_field){ "recorded_at", at };
	jf[n++] = (pf_journal_field){ "status", pf_feedback_status_name(PF_FEEDBACK_OPEN) };
	if (complaint) {
		time_text(due, a->due);
		jf[n++] = (pf_journal_field){ "due", due };
	}
	if (fb->stay) {
		snprintf(stay, sizeof stay, "%d", (int)fb->stay);
		jf[n++] = (pf_journal_field){ "stay", stay };
	}
	pf_jentry je = { .op = "feedback.add", .actor = actor, .guest = fb->guest,
	                 .object = a->id, .ref = fb->category, .fields = jf, .field_count = n };
	rc = pf_journal_append(txn, db, &je);
out:
	if (rc)
		made_reset(&a->made);
	pf_guest_rec_free(r);
	return rc;
}

static int check_learn(const pf_pref *l)
{
	int rc;
	if ((rc = pf_check_category(l->category)) ||
	    (rc = pf_check_text("learn.value", l->value, PF_VALUE_MAX, true)) ||
	    (rc = check_staff("learn.note", l->note, PF_NOTE_MAX, false)))
		return rc;
	if (l->kind != PF_LIKE && l->kind != PF_DISLIKE && l->kind != PF_NEED)
		return pf_seterr(PF_EINVAL, ADD ": unknown preference kind %d in learn",
		                 (int)l->kind);
	return 0;
}

int pf_feedback_add(pf_db *db, pf_feedback *fb, const pf_pref *learn)
{
	pf_api_enter("pf_feedback_add");
	int rc;

	if (!db || !fb)
		return pf_seterr(PF_EINVAL, ADD ": %s is NULL", db ? "fb" : "db");
	if (fb->version != PF_FEEDBACK_VERSION)
		return pf_seterr(PF_EINVAL, ADD ": unknown pf_feedback version %u (expected %u)",
		                 fb->version, (unsigned)PF_FEEDBACK_VERSION);
	if ((rc = pf_check_id("guest", &fb->guest, NULL)))
		return rc;
	if ((unsigned)fb->kind > PF_FEEDBACK_SUGGESTION)
		return pf_seterr(PF_EINVAL, ADD ": unknown feedback kind %d", (int)fb->kind);
	if ((rc = pf_check_date("stay", fb->stay, false)) ||
	    (rc = pf_check_word("department", fb->department)) ||
	    (rc = pf_check_word("category", fb->category)) ||
	    (rc = pf_check_text("text", fb->text, PF_NOTE_MAX, true)) ||
	    (rc = check_staff("recorded_by", fb->recorded_by, PF_FIELD_MAX, true)))
		return rc;
	if (fb->severity < 1 || fb->severity > 3)
		return pf_seterr(PF_EINVAL, ADD ": severity %d is not 1, 2 or 3", fb->severity);
	if (learn && (rc = check_learn(learn)))
		return rc;

	pf_time now = pf_now(db);
	if (fb->recorded_at < 0 || fb->recorded_at > now)
		return pf_seterr(PF_EINVAL, ADD ": recorded_at %lld is %s", (long long)fb->recorded_at,
		                 fb->recorded_at < 0 ? "before 1970" : "in the future");

	pf_feedback copy = *fb;
	if (!copy.recorded_at)
		copy.recorded_at = now;
	struct add_args a = { .fb = &copy, .learn = learn, .now = now };
	a.due = pf_sunset_due(db->tz, copy.recorded_at);
	/* Generated before the write so that a retried transaction keeps it. */
	pf_id_generate_ordered(&a.id);
	rc = pf_store_write(db, add_txn, &a);
	if (rc) {
		made_reset(&a.made);
		return rc;
	}
	fb->id = a.id;
	fb->recorded_at = copy.recorded_at;
	fb->status = PF_FEEDBACK_OPEN;
	fb->due = copy.kind == PF_FEEDBACK_COMPLAINT ? a.due : 0;
	pf_prompts_deliver(db, a.made);
	made_reset(&a.made);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

static void feedback_strings_free(pf_feedback *f)
{
	free((char *)f->department);
	free((char *)f->category);
	free((char *)f->text);
	free((char *)f->recorded_by);
	free((char *)f->resolution);
	free((char *)f->resolved_by);
	free((char *)f->outcome_by);
}

void pf_feedback_free(pf_feedback *fb)
{
	if (!fb)
		return;
	feedback_strings_free(fb);
	free(fb);
}

void pf_feedback_list_free(pf_feedback_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; list->items && i < list->count; i++)
		feedback_strings_free(&list->items[i]);
	free(list->items);
	free(list);
}

struct get_args {
	const pf_id *id;
	pf_feedback_rec rec;
};

static int get_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct get_args *a = arg;
	pf_feedback_rec_clear(&a->rec);
	return pf_feedback_load(txn, db, a->id, &a->rec);
}

int pf_feedback_get(pf_feedback **out, pf_db *db, const pf_id *id)
{
	pf_api_enter("pf_feedback_get");
	int rc;
	if (!out)
		return pf_seterr(PF_EINVAL, "pf_feedback_get: out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, "pf_feedback_get: db is NULL");
	if ((rc = pf_check_id("feedback", id, NULL)))
		return rc;
	struct get_args a = { .id = id };
	memset(&a.rec, 0, sizeof a.rec);
	pf_feedback *f = malloc(sizeof *f);
	if (!f)
		return pf_seterr(PF_ENOMEM, "pf_feedback_get: out of memory");
	rc = pf_store_read(db, get_txn, &a);
	if (rc) {
		pf_feedback_rec_clear(&a.rec);
		free(f);
		return rc;
	}
	*f = a.rec.f;             /* the strings move to f */
	*out = f;
	return 0;
}

#define LIST "pf_feedback_list_get"

struct list_args {
	const pf_id *guest;
	int status;                /* PF_FEEDBACK_ANY or a status */
	int kind;                  /* PF_FEEDBACK_ANY or a kind */
	pf_feedback_list *l;
	size_t cap;
};

static int list_add(struct list_args *a, MDB_txn *txn, pf_db *db, const pf_id *id)
{
	pf_feedback_rec rec;
	int rc = pf_feedback_load(txn, db, id, &rec);
	if (rc == PF_ENOTFOUND) {
		char s[PF_ID_STRLEN + 1];
		pf_id_format(s, id);
		return pf_seterr(PF_ECORRUPT, LIST ": corrupt 'feedback': the guest index lists "
		                 "%s, which does not exist", s);
	}
	if (rc)
		return rc;
	if ((a->status != PF_FEEDBACK_ANY && (int)rec.f.status != a->status) ||
	    (a->kind != PF_FEEDBACK_ANY && (int)rec.f.kind != a->kind)) {
		pf_feedback_rec_clear(&rec);
		return 0;
	}
	if (a->l->count == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		pf_feedback *items = realloc(a->l->items, cap * sizeof *items);
		if (!items) {
			pf_feedback_rec_clear(&rec);
			return pf_seterr(PF_ENOMEM, LIST ": out of memory");
		}
		a->l->items = items;
		a->cap = cap;
	}
	a->l->items[a->l->count++] = rec.f;
	return 0;
}

static int by_time(const void *x, const void *y)
{
	const pf_feedback *a = x, *b = y;
	if (a->recorded_at != b->recorded_at)
		return a->recorded_at < b->recorded_at ? -1 : 1;
	return memcmp(a->id.b, b->id.b, ID_LEN);
}

static int list_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct list_args *a = arg;
	MDB_cursor *cur = NULL;
	unsigned char start[1 + ID_LEN];
	size_t plen = 0;
	MDB_val k, v;
	int rc = 0, mrc;

	pf_feedback_list_free(a->l);
	a->cap = 0;
	if (!(a->l = calloc(1, sizeof *a->l)))
		return pf_seterr(PF_ENOMEM, LIST ": out of memory");
	if ((mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_FEEDBACK], &cur)))
		return pf_lmdb_err(mrc, NULL);
	if (a->guest) {
		/* The guest's index keys, already in time order. */
		start[0] = IDX_TAG;
		memcpy(start + 1, a->guest->b, ID_LEN);
		plen = sizeof start;
		k = (MDB_val){ plen, start };
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else {
		mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		pf_id id;
		if (a->guest) {
			if (k.mv_size < plen || memcmp(k.mv_data, start, plen) != 0)
				break;
			if (k.mv_size != IDX_LEN) {
				rc = pf_seterr(PF_ECORRUPT, LIST ": corrupt 'feedback': an index key "
				               "of %zu bytes", k.mv_size);
				goto out;
			}
			memcpy(id.b, (const unsigned char *)k.mv_data + IDX_LEN - ID_LEN, ID_LEN);
		} else {
			if (k.mv_size != ID_LEN)
				continue;          /* an index key */
			memcpy(id.b, k.mv_data, ID_LEN);
		}
		if ((rc = list_add(a, txn, db, &id)))
			goto out;
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	else if (!a->guest && a->l->count > 1)
		qsort(a->l->items, a->l->count, sizeof *a->l->items, by_time);
out:
	mdb_cursor_close(cur);
	return rc;
}

int pf_feedback_list_get(pf_feedback_list **out, pf_db *db, const pf_id *guest,
                         const pf_feedback_query *query)
{
	pf_api_enter("pf_feedback_list_get");
	static const pf_feedback_query every = PF_FEEDBACK_QUERY_INIT;
	int rc;

	pf_api_enter(LIST);
	if (!out)
		return pf_fail(PF_EINVAL, "out is NULL");
	*out = NULL;
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if (guest && pf_id_is_zero(guest))
		return pf_fail(PF_EINVAL, "guest id is zero (pass NULL for every guest)");
	if (!query)
		query = &every;
	if (query->version != PF_FEEDBACK_QUERY_VERSION)
		return pf_fail(PF_EINVAL, "unknown pf_feedback_query version %u (expected %u)",
		               query->version, (unsigned)PF_FEEDBACK_QUERY_VERSION);
	if (query->status != PF_FEEDBACK_ANY &&
	    (query->status < PF_FEEDBACK_OPEN || query->status > PF_FEEDBACK_CLOSED_UNRESOLVED))
		return pf_fail(PF_EINVAL, "unknown status %d in the query (PF_FEEDBACK_ANY for any)",
		               query->status);
	if (query->kind != PF_FEEDBACK_ANY &&
	    (query->kind < PF_FEEDBACK_COMPLAINT || query->kind > PF_FEEDBACK_SUGGESTION))
		return pf_fail(PF_EINVAL, "unknown kind %d in the query (PF_FEEDBACK_ANY for any)",
		               query->kind);
	struct list_args a = { guest, query->status, query->kind, NULL, 0 };
	rc = pf_store_read(db, list_txn, &a);
	if (rc) {
		pf_feedback_list_free(a.l);
		return rc;
	}
	*out = a.l;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Workflow: update, resolve, follow-up                                 */
/* ------------------------------------------------------------------ */

enum op { OP_UPDATE, OP_RESOLVE, OP_FOLLOWUP };

struct flow_args {
	enum op op;
	const pf_id *id;
	pf_feedback_status status;  /* update */
	const char *staff;
	const char *text;           /* update: note; resolve: resolution */
	pf_outcome outcome;         /* follow-up */
	pf_time now;
	pf_prompt_list *made;
};

/* The guest of a feedback, or NULL (and 0) when it no longer exists: an
 * erased guest's complaint can still be closed, with nobody to count it
 * against or to call back. */
static int guest_or_none(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id)
{
	int rc = pf_guest_load(out, txn, db, id);
	if (rc == PF_ENOTFOUND) {
		*out = NULL;
		return 0;
	}
	return rc;
}

static int transition_error(const struct flow_args *a, const pf_feedback *f,
                            const char *why)
{
	char s[PF_ID_STRLEN + 1];
	pf_id_format(s, a->id);
	return pf_fail(PF_EINVAL, "feedback %s is %s; %s", s,
	                 pf_feedback_status_name(f->status), why);
}

static int flow_check(const struct flow_args *a, const pf_feedback *f)
{
	bool active = f->status == PF_FEEDBACK_OPEN || f->status == PF_FEEDBACK_IN_PROGRESS;
	switch (a->op) {
	case OP_UPDATE:
		if (a->status == PF_FEEDBACK_IN_PROGRESS && f->status != PF_FEEDBACK_OPEN)
			return transition_error(a, f, "only open feedback can go in progress");
		if (a->status == PF_FEEDBACK_CLOSED_UNRESOLVED && !active)
			return transition_error(a, f, "only open or in-progress feedback can be "
			                        "closed unresolved");
		return 0;
	case OP_RESOLVE:
		if (!active)
			return transition_error(a, f, "only open or in-progress feedback can be "
			                        "resolved");
		return 0;
	default:
		if (f->kind != PF_FEEDBACK_COMPLAINT)
			return transition_error(a, f, "only a complaint is followed up");
		if (f->status != PF_FEEDBACK_RESOLVED)
			return transition_error(a, f, "only a resolved complaint is followed up");
		if (f->outcome != PF_OUTCOME_NONE) {
			char s[PF_ID_STRLEN + 1];
			pf_id_format(s, a->id);
			return pf_fail(PF_EINVAL, "feedback %s already has its follow-up "
			                 "outcome (%s)", s, pf_outcome_name(f->outcome));
		}
		return 0;
	}
}

/*
 * The hotel is done with feedback rec (resolved, or closed unresolved):
 * keep a->text as the resolution with who and when; for a complaint, also
 * close its prompts still open as `to` (with `reason`) and take one off
 * the guest's open complaints (*save_guest then set).
 */
static int settle(MDB_txn *txn, pf_db *db, const struct flow_args *a, pf_feedback_rec *rec,
                  pf_guest_rec *r, pf_prompt_status to, const char *reason, bool *save_guest)
{
	pf_feedback *f = &rec->f;
	int rc;
	if (pf_str_set(&f->resolution, a->text) || pf_str_set(&f->resolved_by, a->staff))
		return pf_fail(PF_ENOMEM, "out of memory");
	f->resolved_at = a->now;
	if (f->kind != PF_FEEDBACK_COMPLAINT)
		return 0;
	for (size_t i = 0; i < rec->prompt_count; i++)
		if ((rc = close_prompt(txn, db, &rec->prompts[i], to, a->staff, reason,
		                       a->now)))
			return rc;
	if (r && r->complaints_open > 0) {
		r->complaints_open--;
		*save_guest = true;
	}
	return 0;
}

static int flow_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct flow_args *a = arg;
	pf_feedback_rec rec;
	pf_guest_rec *r = NULL;
	pf_feedback *f = &rec.f;
	bool save_guest = false;
	int rc;

	made_reset(&a->made);
	if ((rc = pf_feedback_load(txn, db, a->id, &rec)))
		return rc;
	if ((rc = flow_check(a, f)))
		goto out;
	bool complaint = f->kind == PF_FEEDBACK_COMPLAINT;
	pf_feedback_status old = f->status;
	if ((rc = guest_or_none(&r, txn, db, &f->guest)))
		goto out;

	switch (a->op) {
	case OP_UPDATE:
		f->status = a->status;
		if (a->status != PF_FEEDBACK_CLOSED_UNRESOLVED)
			break;
		if ((rc = settle(txn, db, a, &rec, r, PF_PROMPT_DISMISSED,
		                 "complaint closed unresolved", &save_guest)))
			goto out;
		break;
	case OP_RESOLVE:
		f->status = PF_FEEDBACK_RESOLVED;
		if ((rc = settle(txn, db, a, &rec, r, PF_PROMPT_DONE, NULL, &save_guest)))
			goto out;
		if (complaint && r) {
			char *t = prompt_text("Call %s back to confirm they are satisfied: %s "
			                      "complaint resolved \xe2\x80\x94 %s", r->g.name,
			                      f->category, a->text);
			rc = make_prompt(txn, db, &a->made, a->id, &f->guest, FRONT_OFFICE,
			                 "followup", PF_PRIORITY_NORMAL, t, a->now,
			                 pf_followup_due(db->tz, a->now), &f->followup_prompt);
			if (rc)
				goto out;
		}
		break;
	default:
		f->outcome = a->outcome;
		if (pf_str_set(&f->outcome_by, a->staff))
			goto nomem;
		f->outcome_at = a->now;
		if (!pf_id_is_zero(&f->followup_prompt) &&
		    (rc = close_prompt(txn, db, &f->followup_prompt, PF_PROMPT_DONE, a->staff,
		                       NULL, a->now)))
			goto out;
		if (r && a->outcome == PF_OUTCOME_NOT_SATISFIED) {
			r->g.not_satisfied_at = a->now;
			save_guest = true;
		}
		break;
	}
	if (save_guest && (rc = pf_guest_save(txn, db, r)))
		goto out;
	if ((rc = rec_put(txn, db, a->id, &rec)))
		goto out;

	static const char *const ops[] = { "feedback.update", "feedback.resolve",
		                               "feedback.followup" };
	char actor[PF_JOURNAL_ACTOR_MAX + 1], fup[PF_ID_STRLEN + 1];
	pf_journal_field jf[4];
	size_t n = 0;
	actor_text(actor, sizeof actor, a->op == OP_FOLLOWUP ? FRONT_OFFICE : f->department,
	           a->staff);
	jf[n++] = (pf_journal_field){ "status", pf_feedback_status_name(f->status) };
	if (old != f->status)
		jf[n++] = (pf_journal_field){ "status.old", pf_feedback_status_name(old) };
	if (a->op == OP_UPDATE && a->text)
		jf[n++] = (pf_journal_field){ "note", a->text };
	if (a->op == OP_RESOLVE) {
		jf[n++] = (pf_journal_field){ "resolution", a->text };
		if (!pf_id_is_zero(&f->followup_prompt)) {
			pf_id_format(fup, &f->followup_prompt);
			jf[n++] = (pf_journal_field){ "followup_prompt", fup };
		}
	}
	if (a->op == OP_FOLLOWUP)
		jf[n++] = (pf_journal_field){ "outcome", pf_outcome_name(f->outcome) };
	pf_jentry je = { .op = ops[a->op], .actor = actor, .guest = f->guest, .object = *a->id,
	                 .ref = f->category, .fields = jf, .field_count = n };
	rc = pf_journal_append(txn, db, &je);
	goto out;
nomem:
	rc = pf_fail(PF_ENOMEM, "out of memory");
out:
	if (rc)
		made_reset(&a->made);
	pf_guest_rec_free(r);
	pf_feedback_rec_clear(&rec);
	return rc;
}

static int flow_run(pf_db *db, struct flow_args *a)
{
	int rc;
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if ((rc = pf_check_id("feedback", a->id, NULL)) ||
	    (rc = check_staff("staff", a->staff, PF_FIELD_MAX, true)))
		return rc;
	a->now = pf_now(db);
	rc = pf_store_write(db, flow_txn, a);
	if (rc == 0)
		pf_prompts_deliver(db, a->made);
	made_reset(&a->made);
	return rc;
}

int pf_feedback_update(pf_db *db, const pf_id *id, pf_feedback_status status,
                       const char *staff, const char *note)
{
	pf_api_enter("pf_feedback_update");
	int rc;
	if (status == PF_FEEDBACK_RESOLVED)
		return pf_fail(PF_EINVAL, "resolve with pf_feedback_resolve(), which needs "
		                 "a resolution");
	if (status != PF_FEEDBACK_IN_PROGRESS && status != PF_FEEDBACK_CLOSED_UNRESOLVED)
		return pf_fail(PF_EINVAL, "cannot move feedback to status %d (%s)",
		                 (int)status, pf_feedback_status_name(status) ?
		                 pf_feedback_status_name(status) : "unknown");
	if ((rc = check_staff("note", note, PF_NOTE_MAX, false)))
		return rc;
	struct flow_args a = { .op = OP_UPDATE, .id = id, .status = status,
	                       .staff = staff, .text = note };
	return flow_run(db, &a);
}

int pf_feedback_resolve(pf_db *db, const pf_id *id, const char *staff, const char *resolution)
{
	pf_api_enter("pf_feedback_resolve");
	int rc;
	if ((rc = check_staff("resolution", resolution, PF_NOTE_MAX, true)))
		return rc;
	struct flow_args a = { .op = OP_RESOLVE, .id = id, .staff = staff,
	                       .text = resolution };
	return flow_run(db, &a);
}

int pf_feedback_followup(pf_db *db, const pf_id *id, const char *staff, pf_outcome outcome)
{
	pf_api_enter("pf_feedback_followup");
	if (outcome != PF_OUTCOME_SATISFIED && outcome != PF_OUTCOME_NOT_SATISFIED)
		return pf_fail(PF_EINVAL, "outcome %d is not satisfied or not_satisfied",
		                 (int)outcome);
	struct flow_args a = { .op = OP_FOLLOWUP, .id = id, .staff = staff,
	                       .outcome = outcome };
	return flow_run(db, &a);
}

/* ------------------------------------------------------------------ */
/* Lifecycle helpers (merge.c, erase.c)                                 */
/* ------------------------------------------------------------------ */

/* Ids of every feedback of `guest`, from its index (malloc'd). */
static int guest_feedback_ids(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **out,
                              size_t *n)
{
	MDB_cursor *cur = NULL;
	unsigned char start[1 + ID_LEN];
	pf_id *ids = NULL;
	size_t cap = 0;
	int rc = 0, mrc;

	*out = NULL;
	*n = 0;
	start[0] = IDX_TAG;
	memcpy(start + 1, guest->b, ID_LEN);
	if ((mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_FEEDBACK], &cur)))
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { sizeof start, start }, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < sizeof start || memcmp(k.mv_data, start, sizeof start) != 0)
			break;
		if (k.mv_size != IDX_LEN) {
			rc = pf_fail(PF_ECORRUPT, "corrupt 'feedback': an index key of %zu "
			               "bytes", k.mv_size);
			goto fail;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			pf_id *g = realloc(ids, cap * sizeof *g);
			if (!g) {
				rc = pf_fail(PF_ENOMEM, "out of memory");
				goto fail;
			}
			ids = g;
		}
		memcpy(ids[(*n)++].b, (const unsigned char *)k.mv_data + IDX_LEN - ID_LEN, ID_LEN);
	}
	if (mrc && mrc != MDB_NOTFOUND) {
		rc = pf_lmdb_err(mrc, NULL);
		goto fail;
	}
	mdb_cursor_close(cur);
	*out = ids;
	return 0;
fail:
	mdb_cursor_close(cur);
	free(ids);
	*n = 0;
	return rc;
}

int pf_feedback_set_guest(MDB_txn *txn, pf_db *db, const pf_id *feedback, const pf_id *guest)
{
	pf_feedback_rec rec;
	unsigned char k[IDX_LEN];
	int rc = pf_feedback_load(txn, db, feedback, &rec);
	if (rc)
		return rc;
	if (memcmp(rec.f.guest.b, guest->b, ID_LEN) == 0)
		goto out;
	idx_key(k, &rec.f.guest, rec.f.recorded_at, feedback);
	if ((rc = pf_store_del(txn, db, PF_DBI_FEEDBACK, k, sizeof k, NULL, 0)))
		goto out;
	rec.f.guest = *guest;
	if ((rc = rec_put(txn, db, feedback, &rec)))
		goto out;
	idx_key(k, guest, rec.f.recorded_at, feedback);
	rc = pf_store_put(txn, db, PF_DBI_FEEDBACK, k, sizeof k, "", 0, 0);
out:
	pf_feedback_rec_clear(&rec);
	return rc;
}

int pf_feedback_move_guest(MDB_txn *txn, pf_db *db, const pf_id *from, const pf_id *to,
                           pf_id **moved, size_t *nmoved)
{
	pf_id *ids = NULL;
	size_t n = 0;
	int rc;

	*moved = NULL;
	*nmoved = 0;
	/* Collect first: the loop below rewrites the keys being walked. */
	if ((rc = guest_feedback_ids(txn, db, from, &ids, &n)))
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = pf_feedback_set_guest(txn, db, &ids[i], to))) {
			free(ids);
			return rc;
		}
	*moved = ids;
	*nmoved = n;
	return 0;
}

int pf_feedback_rec_anonymise(pf_feedback_rec *rec)
{
	pf_feedback *f = &rec->f;
	if (pf_str_set(&f->text, ERASED) || pf_str_set(&f->recorded_by, ERASED) ||
	    (f->resolution && pf_str_set(&f->resolution, ERASED)) ||
	    (f->resolved_by && pf_str_set(&f->resolved_by, ERASED)) ||
	    (f->outcome_by && pf_str_set(&f->outcome_by, ERASED)))
		return pf_fail(PF_ENOMEM, "out of memory");
	return 0;
}

int pf_feedback_erase_guest(MDB_txn *txn, pf_db *db, const pf_id *guest)
{
	pf_id *ids = NULL;
	size_t n = 0;
	int rc = guest_feedback_ids(txn, db, guest, &ids, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		pf_feedback_rec rec;
		if ((rc = pf_feedback_load(txn, db, &ids[i], &rec)))
			break;
		if ((rc = pf_feedback_rec_anonymise(&rec)) == 0)
			rc = rec_put(txn, db, &ids[i], &rec);
		pf_feedback_rec_clear(&rec);
	}
	free(ids);
	return rc;
}

int pf_feedback_ids_of_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **ids,
                             size_t *n)
{
	return guest_feedback_ids(txn, db, guest, ids, n);
}

int pf_feedback_replace(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_feedback_rec *nr,
                        const pf_feedback_rec *old)
{
	unsigned char k[IDX_LEN];
	int rc = 0;
	bool same_key = old && memcmp(old->f.guest.b, nr->f.guest.b, ID_LEN) == 0 &&
	                old->f.recorded_at == nr->f.recorded_at;
	if (old && !same_key) {
		idx_key(k, &old->f.guest, old->f.recorded_at, id);
		rc = pf_store_del(txn, db, PF_DBI_FEEDBACK, k, sizeof k, NULL, 0);
	}
	if (rc == 0)
		rc = rec_put(txn, db, id, nr);
	if (rc == 0 && !same_key) {
		idx_key(k, &nr->f.guest, nr->f.recorded_at, id);
		rc = pf_store_put(txn, db, PF_DBI_FEEDBACK, k, sizeof k, "", 0, 0);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Read-only walk (quality.c)                                           */
/* ------------------------------------------------------------------ */

struct records_only {
	pf_store_raw_fn fn;
	void *ctx;
};

static int record_only(void *ctx, const MDB_val *k, const MDB_val *v)
{
	const struct records_only *r = ctx;
	/* Record keys are 16 bytes, the per-guest index's 41. */
	return k->mv_size == sizeof(pf_id) ? r->fn(r->ctx, k, v) : 0;
}

int pf_feedback_each_raw(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx)
{
	struct records_only r = { fn, ctx };
	return pf_store_each(txn, db, PF_DBI_FEEDBACK, record_only, &r);
}

/* Records only: their keys are 16 bytes, the index keys longer. */
int pf_feedback_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_FEEDBACK, NULL, 0, ID_LEN, fn, ctx);
}
