/*
 * pref.c — preferences: pf_pref_set / get / del / list_get.  Preferences
 * live inside the guest record (libprofile/README.md: one read and one decode per
 * check-in), so every change here is load, edit, save of that record in
 * one write transaction.  Also owns the record's sorted preference array
 * (pf_guest_rec_pref_find / _insert / _remove, on vec.c's pf_sorted_find
 * and pf_vec), which guest.c, import and rules.c use too.  Uses guest.c
 * (load/save), codec.c, store.c, journal.c, vec.c and text.c.
 */
#include "pref.h"
#include "error.h"
#include "text.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "journal.h"
#include "vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------- the sorted preference array */

static int category_cmp(const void *key, const void *item)
{
	return strcmp((const char *)key, ((const pf_pref *)item)->category);
}

size_t pf_guest_rec_pref_find(const pf_guest_rec *r, const char *category, bool *found)
{
	/* g.prefs, as the public view holds it (== r->prefs in a record). */
	const pf_pref *prefs = r->g.prefs;
	return pf_sorted_find(prefs, prefs ? r->g.pref_count : 0, sizeof *prefs, category,
	                      category_cmp, found);
}

const pf_pref *pf_guest_rec_pref(const pf_guest_rec *r, const char *category)
{
	bool found;
	size_t i = pf_guest_rec_pref_find(r, category, &found);
	return found ? &r->g.prefs[i] : NULL;
}

/* The record's array as a pf_vec, and back: one growth rule for both. */
static pf_vec prefs_vec(const pf_guest_rec *r)
{
	pf_vec v = PF_VEC_INIT(sizeof(pf_pref));
	v.items = r->prefs;
	v.n = r->g.pref_count;
	v.cap = r->pref_cap;
	return v;
}

static void prefs_unvec(pf_guest_rec *r, const pf_vec *v)
{
	r->prefs = v->items;
	r->g.prefs = v->items;
	r->g.pref_count = v->n;
	r->pref_cap = v->cap;
}

int pf_guest_rec_pref_insert(pf_guest_rec *r, size_t i, const pf_pref *p)
{
	pf_vec v = prefs_vec(r);
	int rc = pf_vec_insert(&v, i, p);
	if (rc == 0)
		prefs_unvec(r, &v);
	return rc;
}

void pf_guest_rec_pref_remove(pf_guest_rec *r, size_t i)
{
	pf_vec v = prefs_vec(r);
	pf_pref_clear(&r->prefs[i]);
	pf_vec_remove(&v, i);
	prefs_unvec(r, &v);
}

/* The journal entry of a set: the new value, and the old one when it
 * changed.  `actor` is "department" or "department/staff". */
static int journal_set(MDB_txn *txn, pf_db *db, const pf_id *guest, const pf_pref *p,
                       const char *note, const char *old_value, int old_kind)
{
	char actor[PF_JOURNAL_ACTOR_MAX + 1], count[16];
	pf_journal_field f[6];
	size_t n = 0;

	if (p->staff)
		snprintf(actor, sizeof actor, "%s/%s", p->department, p->staff);
	else
		snprintf(actor, sizeof actor, "%s", p->department);
	snprintf(count, sizeof count, "%lu", (unsigned long)p->count);
	f[n++] = (pf_journal_field){ "value", p->value };
	f[n++] = (pf_journal_field){ "kind", pf_pref_kind_name(p->kind) };
	f[n++] = (pf_journal_field){ "count", count };
	if (note)
		f[n++] = (pf_journal_field){ "note", note };
	if (old_value && strcmp(old_value, p->value) != 0)
		f[n++] = (pf_journal_field){ "value.old", old_value };
	if (old_kind >= 0 && old_kind != (int)p->kind)
		f[n++] = (pf_journal_field){ "kind.old", pf_pref_kind_name((pf_pref_kind)old_kind) };
	pf_jentry e = { .op = "pref.set", .actor = actor, .guest = *guest,
	                .ref = p->category, .fields = f, .field_count = n };
	return pf_journal_append(txn, db, &e);
}

/* ---------------------------------------------------------------- set */

#define SET "pf_pref_set"

struct set_args {
	const pf_id *guest;
	const char *category;
	const char *value;
	const pf_observation *obs;
	pf_time time;     /* of the observation */
	pf_time now;      /* becomes the guest's `updated` */
};

int pf_pref_observe(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const char *category,
                    const char *value, const pf_observation *o, pf_time t)
{
	pf_pref fresh = { 0 };
	char *old_value = NULL;      /* for the journal */
	int old_kind = -1;
	int rc = 0;

	bool exists;
	size_t i = pf_guest_rec_pref_find(r, category, &exists);
	if (!exists && r->g.pref_count >= PF_PREFS_MAX)
		return pf_fail(PF_EINVAL, "the guest already has %d preferences, the "
		                 "most allowed", PF_PREFS_MAX);

	/* Build the new strings first so a failed allocation leaves the
	 * record untouched. */
	const pf_pref *cur = exists ? &r->prefs[i] : NULL;
	bool same = cur && cur->kind == o->kind && strcmp(cur->value, value) == 0;
	const char *note = o->note ? o->note : (same ? cur->note : NULL);
	pf_pref src = {
		.category = category, .value = value, .kind = o->kind,
		.department = o->department, .staff = o->staff, .note = note,
	};
	if (pf_pref_copy(&fresh, &src))
		return pf_fail(PF_ENOMEM, "out of memory");
	if (same) {
		fresh.count = cur->count < UINT32_MAX ? cur->count + 1 : UINT32_MAX;
		/* An observation entered late must not move the dates backwards. */
		fresh.first_seen = t < cur->first_seen ? t : cur->first_seen;
		fresh.last_seen = t > cur->last_seen ? t : cur->last_seen;
	} else {
		fresh.count = 1;
		fresh.first_seen = fresh.last_seen = t;
	}

	if (exists) {
		old_value = (char *)r->prefs[i].value;
		old_kind = (int)r->prefs[i].kind;
		r->prefs[i].value = NULL;
		pf_pref_clear(&r->prefs[i]);
		r->prefs[i] = fresh;
	} else if (pf_guest_rec_pref_insert(r, i, &fresh)) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	memset(&fresh, 0, sizeof fresh);
	rc = journal_set(txn, db, &r->g.id, &r->prefs[i], o->note, old_value, old_kind);
out:
	free(old_value);
	pf_pref_clear(&fresh);
	return rc;
}

static int set_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct set_args *a = arg;
	pf_guest_rec *r = NULL;
	int rc = pf_guest_load(&r, txn, db, a->guest);
	if (rc == 0)
		rc = pf_pref_observe(txn, db, r, a->category, a->value, a->obs, a->time);
	if (rc == 0) {
		r->g.updated = a->now;
		rc = pf_guest_save(txn, db, r);
	}
	pf_guest_rec_free(r);
	return rc;
}

int pf_pref_set(pf_db *db, const pf_id *guest, const char *category, const char *value,
                const pf_observation *obs)
{
	pf_api_enter("pf_pref_set");
	int rc;
	if (!db)
		return pf_seterr(PF_EINVAL, SET ": db is NULL");
	if ((rc = pf_check_id("guest", guest, "no guest")) ||
	    (rc = pf_check_category(category)) ||
	    (rc = pf_check_text("value", value, PF_VALUE_MAX, true)))
		return rc;
	if (!obs)
		return pf_seterr(PF_EINVAL, SET ": obs is NULL");
	if (obs->version != PF_OBSERVATION_VERSION)
		return pf_seterr(PF_EINVAL, SET ": unknown observation version %u (expected %d)",
		                 obs->version, PF_OBSERVATION_VERSION);
	if (obs->kind != PF_LIKE && obs->kind != PF_DISLIKE && obs->kind != PF_NEED)
		return pf_seterr(PF_EINVAL, SET ": unknown preference kind %d", (int)obs->kind);
	if ((rc = pf_check_word("department", obs->department)) ||
	    (rc = pf_check_text("staff", obs->staff, PF_FIELD_MAX, false)) ||
	    (rc = pf_check_text("note", obs->note, PF_NOTE_MAX, false)))
		return rc;
	if (obs->staff && !*obs->staff)
		return pf_seterr(PF_EINVAL, SET ": staff is empty (pass NULL when not known)");
	if (obs->note && !*obs->note)
		return pf_seterr(PF_EINVAL, SET ": note is empty (pass NULL for none)");
	if (obs->time < 0)
		return pf_seterr(PF_EINVAL, SET ": observation time %lld is before 1970",
		                 (long long)obs->time);

	struct set_args a = { .guest = guest, .category = category, .value = value,
	                      .obs = obs, .now = pf_now(db) };
	a.time = obs->time ? obs->time : a.now;
	return pf_store_write(db, set_txn, &a);
}

/* ---------------------------------------------------------------- del */

#define DEL "pf_pref_del"

struct cat_args {
	const pf_id *guest;
	const char *category;
	pf_time now;
	pf_pref *out;            /* get: the copy made */
	pf_guest_rec *r;         /* list_get: the record whose prefs are taken */
};

static int no_pref(const pf_id *guest, const char *category)
{
	char s[PF_ID_STRLEN + 1];
	pf_id_format(s, guest);
	return pf_fail(PF_ENOTFOUND, "guest %s has no preference in '%s'", s,
	                 category);
}

static int del_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct cat_args *a = arg;
	pf_guest_rec *r = NULL;
	int rc = pf_guest_load(&r, txn, db, a->guest);
	if (rc)
		goto out;
	bool found;
	size_t i = pf_guest_rec_pref_find(r, a->category, &found);
	if (!found) {
		rc = no_pref(a->guest, a->category);
		goto out;
	}
	/* The old value is journalled, so it outlives the slot. */
	char *old_value = (char *)r->prefs[i].value;
	pf_pref_kind old_kind = r->prefs[i].kind;
	r->prefs[i].value = NULL;
	pf_guest_rec_pref_remove(r, i);
	r->g.updated = a->now;
	if ((rc = pf_guest_save(txn, db, r)) == 0) {
		pf_journal_field f[3] = { { "value", NULL }, { "value.old", old_value },
		                          { "kind.old", pf_pref_kind_name(old_kind) } };
		pf_jentry e = { .op = "pref.del", .guest = *a->guest, .ref = a->category,
		                .fields = f, .field_count = 3 };
		rc = pf_journal_append(txn, db, &e);
	}
	free(old_value);
out:
	pf_guest_rec_free(r);
	return rc;
}

int pf_pref_del(pf_db *db, const pf_id *guest, const char *category)
{
	pf_api_enter("pf_pref_del");
	int rc;
	if (!db)
		return pf_seterr(PF_EINVAL, DEL ": db is NULL");
	if ((rc = pf_check_id("guest", guest, "no guest")) ||
	    (rc = pf_check_category(category)))
		return rc;
	struct cat_args a = { .guest = guest, .category = category, .now = pf_now(db) };
	return pf_store_write(db, del_txn, &a);
}

/* ---------------------------------------------------------------- get */

#define GET "pf_pref_get"

static int get_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct cat_args *a = arg;
	pf_guest_rec *r = NULL;
	int rc = pf_guest_load(&r, txn, db, a->guest);
	if (rc)
		goto out;
	const pf_pref *p = pf_guest_rec_pref(r, a->category);
	if (!p) {
		rc = no_pref(a->guest, a->category);
		goto out;
	}
	a->out = malloc(sizeof *a->out);
	if (!a->out || pf_pref_copy(a->out, p)) {
		free(a->out);
		a->out = NULL;
		rc = pf_seterr(PF_ENOMEM, GET ": out of memory");
	}
out:
	pf_guest_rec_free(r);
	return rc;
}

int pf_pref_get(pf_pref **out, pf_db *db, const pf_id *guest, const char *category)
{
	pf_api_enter("pf_pref_get");
	int rc;
	if (!out)
		return pf_seterr(PF_EINVAL, GET ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, GET ": db is NULL");
	if ((rc = pf_check_id("guest", guest, "no guest")) ||
	    (rc = pf_check_category(category)))
		return rc;
	struct cat_args a = { .guest = guest, .category = category };
	rc = pf_store_read(db, get_txn, &a);
	if (rc) {
		pf_pref_free(a.out);
		return rc;
	}
	*out = a.out;
	return 0;
}

/* ----------------------------------------------------------- list_get */

#define LIST "pf_pref_list_get"

static int list_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct cat_args *a = arg;
	return pf_guest_load(&a->r, txn, db, a->guest);
}

int pf_pref_list_get(pf_pref_list **out, pf_db *db, const pf_id *guest)
{
	pf_api_enter("pf_pref_list_get");
	int rc;
	if (!out)
		return pf_seterr(PF_EINVAL, LIST ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, LIST ": db is NULL");
	if ((rc = pf_check_id("guest", guest, "no guest")))
		return rc;
	struct cat_args a = { .guest = guest };
	pf_pref_list *l = NULL;
	rc = pf_store_read(db, list_txn, &a);
	if (rc)
		goto out;
	l = malloc(sizeof *l);
	if (!l) {
		rc = pf_seterr(PF_ENOMEM, LIST ": out of memory");
		goto out;
	}
	/* The record's array already has the list's layout (one malloc'd
	 * string per field, sorted by category): take it rather than copy. */
	l->count = a.r->g.pref_count;
	l->items = a.r->prefs;
	a.r->prefs = NULL;
	a.r->g.prefs = NULL;
	a.r->g.pref_count = 0;
	a.r->pref_cap = 0;
	*out = l;
out:
	pf_guest_rec_free(a.r);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Public free functions (moved from codec.c)                           */
/* ------------------------------------------------------------------ */

void pf_pref_free(pf_pref *pref)
{
	if (!pref)
		return;
	pf_pref_clear(pref);
	free(pref);
}

void pf_pref_list_free(pf_pref_list *list)
{
	if (!list)
		return;
	if (list->items)
		for (size_t i = 0; i < list->count; i++)
			pf_pref_clear(&list->items[i]);
	free(list->items);
	free(list);
}

/* ---- end of public free functions ------------------------------- */
