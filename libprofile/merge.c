/*
 * merge.c — one person, two profiles: pf_guest_not_duplicate (marks,
 * which dupes.c's suggestions honour through pf_merge_marked_not_dup),
 * the reversible pf_guest_merge / pf_guest_unmerge, and the
 * in-transaction helper erase.c uses to forget a person's merge records
 * (pf_merge_forget_guest).  Duplicate suggestions are dupes.c's.
 *
 * Owns the meta key range "merge:", "mg:" and "nd:" (see merge.h), read
 * and written here with store.c's pf_meta_get/put/del
 * (the one database this file touches directly; tests/owners.sh allows
 * it).  A merge is one write transaction that stores a merge record
 * holding the exact bytes of both guest records before the merge, the
 * duplicate's stays byte for byte, and the ids of every prompt, event and
 * feedback record it re-pointed: unmerge puts those bytes back.
 *
 * Calls store.c (transactions, meta get/put/del), codec.c, text.c, id.c,
 * vec.c, guest.c (load, raw get/put/delete of a record, reindex),
 * stay.c (walk, count, get/put/delete of a stay), event.c (the events of
 * a guest, re-point), prompt.c (load, rewrite, the prompts of a guest
 * through its per-guest index; rewrite moves a prompt's index entry with
 * its guest, so unmerge puts the `queue` back too), feedback.c (move/set
 * guest) and journal.c.
 */
#include "merge.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "prompt.h"
#include "journal.h"
#include "feedback.h"
#include "stay.h"
#include "event.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN sizeof(pf_id)
#define MERGE_KEY_LEN (sizeof PF_META_MERGE - 1 + ID_LEN)
#define MG_KEY_LEN (sizeof PF_META_MERGE_GUEST - 1 + 2 * ID_LEN)
#define ND_KEY_LEN (sizeof PF_META_NOT_DUP - 1 + 2 * ID_LEN)


static bool id_eq(const pf_id *a, const pf_id *b)
{
	return memcmp(a->b, b->b, ID_LEN) == 0;
}

static size_t merge_key(unsigned char *k, const pf_id *merge)
{
	size_t p = sizeof PF_META_MERGE - 1;
	memcpy(k, PF_META_MERGE, p);
	memcpy(k + p, merge->b, ID_LEN);
	return p + ID_LEN;
}

/* PREFIX A B: "mg:" guest merge, or "nd:" guest other. */
static size_t pair_key(unsigned char *k, const char *prefix, const pf_id *a, const pf_id *b)
{
	size_t p = strlen(prefix);
	memcpy(k, prefix, p);
	memcpy(k + p, a->b, ID_LEN);
	if (b)
		memcpy(k + p + ID_LEN, b->b, ID_LEN);
	return p + ID_LEN + (b ? ID_LEN : 0);
}

/* Keys of `meta` that start with prefix[0..plen), collected before the
 * caller changes anything (LMDB cursors and writes do not mix well). */
typedef pf_vec keyvec;                 /* of pf_merge_blob */
#define KEYVEC_INIT PF_VEC_INIT(sizeof(pf_merge_blob))
#define KV(kv, i) ((pf_merge_blob *)pf_vec_at(&(kv), (i)))

static void keyvec_free(keyvec *kv)
{
	for (size_t i = 0; i < kv->n; i++)
		free(KV(*kv, i)->data);
	pf_vec_free(kv);
}

static int blob_set(pf_merge_blob *b, const void *data, size_t len)
{
	b->data = malloc(len ? len : 1);
	if (!b->data)
		return pf_seterr(PF_ENOMEM, "out of memory");
	memcpy(b->data, data, len);
	b->len = len;
	return 0;
}

static int keyvec_add(keyvec *kv, const void *data, size_t len)
{
	pf_merge_blob b = { NULL, 0 };
	int rc = blob_set(&b, data, len);
	if (rc == 0 && (rc = pf_vec_push(kv, &b)))
		free(b.data);
	return rc;
}

static int prefix_keys(MDB_txn *txn, pf_db *db, const void *prefix, size_t plen,
                       keyvec *out)
{
	MDB_cursor *cur = NULL;
	int mrc = pf_meta_cursor_open(txn, db, &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { plen, (void *)prefix }, v;
	int rc = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if ((rc = keyvec_add(out, k.mv_data, k.mv_size)))
			goto out;
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
out:
	mdb_cursor_close(cur);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Not a duplicate                                                      */
/* ------------------------------------------------------------------ */

#define NOTDUP "pf_guest_not_duplicate"

int pf_merge_marked_not_dup(MDB_txn *txn, pf_db *db, const pf_id *a, const pf_id *b,
                            bool *out)
{
	unsigned char k[ND_KEY_LEN];
	MDB_val v;
	int rc = pf_meta_get(txn, db, k, pair_key(k, PF_META_NOT_DUP, a, b), &v);
	*out = rc == 0;
	return rc == PF_ENOTFOUND ? 0 : rc;
}

struct pair_args {
	const pf_id *a, *b;
	const char *actor;
};

static int notdup_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct pair_args *p = arg;
	int rc;
	const pf_id *both[2] = { p->a, p->b };
	for (int i = 0; i < 2; i++)
		if ((rc = pf_guest_exists(txn, db, both[i])))
			return rc;
	bool marked = false;
	if ((rc = pf_merge_marked_not_dup(txn, db, p->a, p->b, &marked)) || marked)
		return rc;                 /* already marked: nothing to store */

	unsigned char k[ND_KEY_LEN];
	if ((rc = pf_meta_put(txn, db, k, pair_key(k, PF_META_NOT_DUP, p->a, p->b),
	                       "", 0, 0)) ||
	    (rc = pf_meta_put(txn, db, k, pair_key(k, PF_META_NOT_DUP, p->b, p->a),
	                       "", 0, 0)))
		return rc;

	char other[PF_ID_STRLEN + 1];
	pf_id_format(other, p->b);
	pf_journal_field f[] = { { "other", other } };
	pf_jentry e = { "guest.not_duplicate", p->actor, *p->a, { { 0 } }, NULL, f, 1 };
	if ((rc = pf_journal_append(txn, db, &e)))
		return rc;
	pf_id_format(other, p->a);
	e.guest = *p->b;
	return pf_journal_append(txn, db, &e);
}

int pf_guest_not_duplicate(pf_db *db, const pf_id *a, const pf_id *b)
{
	pf_api_enter("pf_guest_not_duplicate");
	int rc;
	if (!db)
		return pf_seterr(PF_EINVAL, NOTDUP ": db is NULL");
	if ((rc = pf_check_id("a", a, NULL)) ||
	    (rc = pf_check_id("b", b, NULL)))
		return rc;
	if (id_eq(a, b))
		return pf_seterr(PF_EINVAL, NOTDUP ": a and b are the same guest");
	struct pair_args p = { a, b, NULL };
	return pf_store_write(db, notdup_txn, &p);
}

/* ------------------------------------------------------------------ */
/* Preferences of a merged profile                                      */
/* ------------------------------------------------------------------ */

static int pref_dup(pf_pref *dst, const pf_pref *src)
{
	return pf_pref_copy(dst, src) ? pf_seterr(PF_ENOMEM, "out of memory") : 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Replace r's preferences with prefs[0..n) (taken over). */
static void prefs_replace(pf_guest_rec *r, pf_pref *prefs, size_t n)
{
	for (size_t i = 0; i < r->g.pref_count; i++)
		pf_pref_clear(&r->prefs[i]);
	free(r->prefs);
	r->prefs = prefs;
	r->pref_cap = n;
	r->g.prefs = prefs;
	r->g.pref_count = n;
}

/*
 * One category held by both profiles.  A need beats a like or dislike (a
 * safety matter is never lost to a taste); otherwise the same value and
 * kind add up (counts summed, first/last seen widened, the observer and
 * note of the later observation), and different values keep the one seen
 * last (keep's on a tie).
 */
static int pref_combine(pf_pref *dst, const pf_pref *k, const pf_pref *d)
{
	bool kneed = k->kind == PF_NEED, dneed = d->kind == PF_NEED;
	if (kneed != dneed)
		return pref_dup(dst, kneed ? k : d);
	if (k->kind != d->kind || strcmp(k->value, d->value) != 0)
		return pref_dup(dst, d->last_seen > k->last_seen ? d : k);

	const pf_pref *recent = d->last_seen > k->last_seen ? d : k;
	const pf_pref *other = recent == k ? d : k;
	int rc = pref_dup(dst, recent);
	if (rc)
		return rc;
	if (!dst->note && other->note && !(dst->note = strdup(other->note))) {
		pf_pref_clear(dst);
		return pf_seterr(PF_ENOMEM, "out of memory");
	}
	uint64_t sum = (uint64_t)k->count + d->count;
	dst->count = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
	dst->first_seen = k->first_seen < d->first_seen ? k->first_seen : d->first_seen;
	dst->last_seen = k->last_seen > d->last_seen ? k->last_seen : d->last_seen;
	return 0;
}

static int merge_prefs(pf_guest_rec *kr, const pf_guest_rec *dr)
{
	size_t nk = kr->g.pref_count, nd = dr->g.pref_count, n = 0, i = 0, j = 0;
	pf_pref *out = calloc(nk + nd ? nk + nd : 1, sizeof *out);
	int rc = 0;
	if (!out)
		return pf_fail(PF_ENOMEM, "out of memory");
	while (rc == 0 && (i < nk || j < nd)) {
		int c = i == nk ? 1 : j == nd ? -1
		        : strcmp(kr->prefs[i].category, dr->prefs[j].category);
		if (c < 0)
			rc = pref_dup(&out[n], &kr->prefs[i++]);
		else if (c > 0)
			rc = pref_dup(&out[n], &dr->prefs[j++]);
		else
			rc = pref_combine(&out[n], &kr->prefs[i++], &dr->prefs[j++]);
		if (rc == 0)
			n++;
	}
	if (rc == 0 && n > PF_PREFS_MAX)
		rc = pf_fail(PF_EINVAL, "the merged profile would have %zu preferences, "
		               "more than %d", n, PF_PREFS_MAX);
	if (rc) {
		for (size_t x = 0; x < n; x++)
			pf_pref_clear(&out[x]);
		free(out);
		return rc;
	}
	prefs_replace(kr, out, n);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Profile fields of a merged profile                                   */
/* ------------------------------------------------------------------ */

/* Give *dst a copy of src when *dst is empty. */
static int fill(const char **dst, const char *src)
{
	if (*dst || !src)
		return 0;
	if (!(*dst = strdup(src)))
		return pf_seterr(PF_ENOMEM, "out of memory");
	return 0;
}

static bool has_tag(const pf_guest_rec *r, const char *t)
{
	for (size_t i = 0; i < r->g.tag_count; i++)
		if (strcmp(r->tags[i], t) == 0)
			return true;
	return false;
}

/*
 * keep's profile after absorbing dr: its own fields win; fields keep
 * lacks are taken from the duplicate (contacts, language, birth date,
 * external id); tier is the higher; tags are the union (up to
 * PF_TAGS_MAX); consent is what both allowed (the more private choice);
 * complaint counters add up.
 */
static int merge_profile(pf_guest_rec *kr, const pf_guest_rec *dr)
{
	int rc;
	if ((rc = fill(&kr->g.email, dr->g.email)) || (rc = fill(&kr->g.phone, dr->g.phone)) ||
	    (rc = fill(&kr->g.language, dr->g.language)) ||
	    (rc = fill(&kr->g.loyalty_no, dr->g.loyalty_no)) ||
	    (rc = fill(&kr->g.external_id, dr->g.external_id)) ||
	    (rc = fill(&kr->g.country, dr->g.country)))
		return rc;
	if (!kr->g.birth_date)
		kr->g.birth_date = dr->g.birth_date;
	if (dr->g.tier > kr->g.tier)
		kr->g.tier = dr->g.tier;
	kr->g.consent &= dr->g.consent;

	for (size_t i = 0; i < dr->g.tag_count && kr->g.tag_count < PF_TAGS_MAX; i++) {
		if (has_tag(kr, dr->tags[i]))
			continue;
		char **t = realloc(kr->tags, (kr->g.tag_count + 1) * sizeof *t);
		if (!t)
			return pf_seterr(PF_ENOMEM, "out of memory");
		kr->tags = t;
		kr->g.tags = (const char *const *)t;
		if (!(t[kr->g.tag_count] = strdup(dr->tags[i])))
			return pf_seterr(PF_ENOMEM, "out of memory");
		kr->g.tag_count++;
	}

	uint64_t open = (uint64_t)kr->complaints_open + dr->complaints_open;
	uint64_t total = (uint64_t)kr->complaints_total + dr->complaints_total;
	kr->complaints_open = open > UINT32_MAX ? UINT32_MAX : (uint32_t)open;
	kr->complaints_total = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	kr->g.complaints_open = kr->complaints_open;
	kr->g.complaints_total = kr->complaints_total;
	if (!kr->complaint_latest && dr->complaint_latest) {
		char *cat = pf_strdup_or_null(dr->complaint_last_category, &rc);
		char *latest = pf_strdup_or_null(dr->complaint_latest, &rc);
		if (rc) {
			free(cat);
			free(latest);
			return pf_seterr(PF_ENOMEM, "out of memory");
		}
		free(kr->complaint_last_category);
		kr->complaint_last_category = cat;
		kr->complaint_latest = latest;
	}
	if (dr->g.not_satisfied_at > kr->g.not_satisfied_at)
		kr->g.not_satisfied_at = dr->g.not_satisfied_at;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Stays, events: shared by merge and unmerge                           */
/* ------------------------------------------------------------------ */

/* Number of stays stored under `guest` (stay.c counts them). */
static int count_stays(MDB_txn *txn, pf_db *db, const pf_id *guest, uint32_t *out)
{
	uint64_t n = 0;
	int rc = pf_stays_count(txn, db, guest, &n);
	if (rc == 0)
		*out = n < UINT32_MAX ? (uint32_t)n : UINT32_MAX;
	return rc;
}

/* Re-point stored event `key` from guest `from` to `to` (event.c). */
static int event_repoint(MDB_txn *txn, pf_db *db, const pf_merge_blob *key,
                         const pf_id *from, const pf_id *to)
{
	return pf_event_repoint(txn, db, key->data, key->len, from, to);
}

static int event_key_add(void *ctx, const void *key, size_t klen)
{
	return keyvec_add(ctx, key, klen);
}

static int events_of_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, keyvec *out)
{
	return pf_events_of_guest(txn, db, guest, event_key_add, out);
}

/* Re-point prompt `id` from `from` to `to` (when it still names `from`). */
static int prompt_repoint(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_id *from,
                          const pf_id *to)
{
	pf_prompt p;
	int rc = pf_prompt_load(txn, db, id, &p);
	if (rc)
		return rc == PF_ENOTFOUND ? 0 : rc;
	if (id_eq(&p.guest, from)) {
		p.guest = *to;
		rc = pf_prompt_rewrite(txn, db, &p);
	}
	pf_prompt_clear(&p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Merge                                                                */
/* ------------------------------------------------------------------ */

#define MERGE "pf_guest_merge"

struct merge_args {
	const pf_id *keep, *dup;
	pf_id merge;
	pf_time now;
};

static int load_raw_guest(MDB_txn *txn, pf_db *db, const pf_id *id, pf_merge_blob *b,
                          pf_guest_rec **r, const char *fn)
{
	/* The stored bytes themselves: the merge record keeps them. */
	MDB_val v;
	int rc = pf_guest_get_raw(txn, db, id, &v, fn);
	if (rc || (rc = blob_set(b, v.mv_data, v.mv_size)))
		return rc;
	if ((rc = pf_codec_guest_decode(r, b->data, b->len)))
		return rc;
	(*r)->g.id = *id;
	return 0;
}

static int decode_guest(pf_guest_rec **r, const pf_merge_blob *b, const pf_id *id)
{
	int rc = pf_codec_guest_decode(r, b->data, b->len);
	if (rc == 0)
		(*r)->g.id = *id;
	return rc;
}

/* Move the duplicate's stays to keep: same arrival as one of keep's
 * stays: keep's stays, the duplicate's is dropped (kept in the record). */
struct stays_ctx {
	pf_merge_rec *m;
	size_t cap;
};

static int stay_copy(void *ctx, pf_date arrival, const MDB_val *v)
{
	struct stays_ctx *c = ctx;
	pf_merge_rec *m = c->m;
	if (m->stay_count == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		pf_merge_stay *s = realloc(m->stays, ncap * sizeof *s);
		if (!s)
			return pf_seterr(PF_ENOMEM, MERGE ": out of memory");
		m->stays = s;
		c->cap = ncap;
	}
	pf_merge_stay *s = &m->stays[m->stay_count];
	memset(s, 0, sizeof *s);
	s->arrival = arrival;
	pf_merge_blob b = { NULL, 0 };
	int rc = blob_set(&b, v->mv_data, v->mv_size);
	if (rc)
		return rc;
	s->value = b.data;
	s->len = b.len;
	m->stay_count++;
	return 0;
}

static int merge_stays(MDB_txn *txn, pf_db *db, pf_merge_rec *m)
{
	/* The duplicate's stays byte for byte first, then the moves. */
	struct stays_ctx c = { m, 0 };
	int rc = pf_stays_each(txn, db, &m->dup, 0, stay_copy, &c);

	for (size_t i = 0; rc == 0 && i < m->stay_count; i++) {
		pf_merge_stay *s = &m->stays[i];
		MDB_val existing;
		rc = pf_stay_get(txn, db, &m->keep, s->arrival, &existing);
		if (rc && rc != PF_ENOTFOUND)
			break;
		s->moved = rc == PF_ENOTFOUND;
		rc = 0;
		if (s->moved &&
		    (rc = pf_stay_put_raw(txn, db, &m->keep, s->arrival, s->value, s->len)))
			break;
		rc = pf_stay_del(txn, db, &m->dup, s->arrival);
	}
	return rc;
}

static int merge_links(MDB_txn *txn, pf_db *db, const pf_id *merge, const pf_id *keep,
                       const pf_id *dup, bool add)
{
	unsigned char k[MG_KEY_LEN];
	const pf_id *g[2] = { keep, dup };
	for (int i = 0; i < 2; i++) {
		size_t n = pair_key(k, PF_META_MERGE_GUEST, g[i], merge);
		int rc = add ? pf_meta_put(txn, db, k, n, "", 0, 0)
		             : pf_meta_del(txn, db, k, n);
		if (rc)
			return rc;
	}
	return 0;
}

static int journal_pair(MDB_txn *txn, pf_db *db, const char *op, const pf_id *merge,
                        const pf_id *keep, const pf_id *dup, const pf_merge_rec *m)
{
	char ks[PF_ID_STRLEN + 1], ds[PF_ID_STRLEN + 1], stays[24], prompts[24], fb[24];
	pf_id_format(ks, keep);
	pf_id_format(ds, dup);
	snprintf(stays, sizeof stays, "%zu", m->stay_count);
	snprintf(prompts, sizeof prompts, "%zu", m->prompt_count);
	snprintf(fb, sizeof fb, "%zu", m->feedback_count);
	pf_journal_field f[] = {
		{ "keep", ks }, { "duplicate", ds }, { "stays", stays }, { "prompts", prompts },
		{ "feedback", fb },
	};
	/* One entry per profile, so each one's history shows the event. */
	pf_jentry e = { op, NULL, *keep, *merge, NULL, f, sizeof f / sizeof f[0] };
	int rc = pf_journal_append(txn, db, &e);
	if (rc)
		return rc;
	e.guest = *dup;
	return pf_journal_append(txn, db, &e);
}

static int merge_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct merge_args *a = arg;
	pf_merge_rec m;
	pf_guest_rec *kb = NULL, *kr = NULL, *dr = NULL;
	keyvec events = KEYVEC_INIT;
	msgpack_sbuffer sb, msb;
	unsigned char key[MERGE_KEY_LEN];
	int rc;

	memset(&m, 0, sizeof m);
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_init(&msb);
	m.keep = *a->keep;
	m.dup = *a->dup;
	m.time = a->now;

	if ((rc = load_raw_guest(txn, db, a->keep, &m.keep_before, &kb, MERGE)) ||
	    (rc = decode_guest(&kr, &m.keep_before, a->keep)) ||
	    (rc = load_raw_guest(txn, db, a->dup, &m.dup_before, &dr, MERGE)))
		goto out;

	if ((rc = merge_prefs(kr, dr)) || (rc = merge_profile(kr, dr)))
		goto out;

	/* The duplicate leaves the indexes before keep takes its external id. */
	if ((rc = pf_guest_reindex(txn, db, dr, NULL)) ||
	    (rc = pf_guest_del_record(txn, db, a->dup)))
		goto out;
	if ((rc = merge_stays(txn, db, &m)) ||
	    (rc = count_stays(txn, db, a->keep, &kr->g.stays)))
		goto out;

	if ((rc = pf_prompts_of_guests(txn, db, a->dup, 1, &m.prompts, &m.prompt_count)))
		goto out;
	for (size_t i = 0; i < m.prompt_count; i++)
		if ((rc = prompt_repoint(txn, db, &m.prompts[i], a->dup, a->keep)))
			goto out;

	if ((rc = events_of_guest(txn, db, a->dup, &events)))
		goto out;
	m.events = pf_vec_take(&events, &m.event_count);
	for (size_t i = 0; i < m.event_count; i++)
		if ((rc = event_repoint(txn, db, &m.events[i], a->dup, a->keep)))
			goto out;

	if ((rc = pf_feedback_move_guest(txn, db, a->dup, a->keep, &m.feedback,
	                                 &m.feedback_count)))
		goto out;

	kr->g.updated = a->now;
	if ((rc = pf_guest_reindex(txn, db, kb, kr)))
		goto out;
	if ((rc = pf_codec_guest_encode(&sb, kr)) ||
	    (rc = pf_guest_put_raw(txn, db, a->keep, sb.data, sb.size)) ||
	    (rc = blob_set(&m.keep_after, sb.data, sb.size)))
		goto out;

	if ((rc = pf_codec_merge_encode(&msb, &m)) ||
	    (rc = pf_meta_put(txn, db, key, merge_key(key, &a->merge), msb.data,
	                       msb.size, MDB_NOOVERWRITE)) ||
	    (rc = merge_links(txn, db, &a->merge, a->keep, a->dup, true)))
		goto out;
	rc = journal_pair(txn, db, "guest.merge", &a->merge, a->keep, a->dup, &m);
out:
	keyvec_free(&events);
	pf_merge_rec_clear(&m);
	pf_guest_rec_free(kb);
	pf_guest_rec_free(kr);
	pf_guest_rec_free(dr);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&msb);
	return rc;
}

int pf_guest_merge(pf_id *merge_out, pf_db *db, const pf_id *keep, const pf_id *duplicate)
{
	pf_api_enter("pf_guest_merge");
	if (!merge_out)
		return pf_seterr(PF_EINVAL, MERGE ": merge_out is NULL");
	memset(merge_out, 0, sizeof *merge_out);
	if (!db)
		return pf_seterr(PF_EINVAL, MERGE ": db is NULL");
	int rc;
	if ((rc = pf_check_id("keep", keep, NULL)) ||
	    (rc = pf_check_id("duplicate", duplicate, NULL)))
		return rc;
	if (id_eq(keep, duplicate))
		return pf_seterr(PF_EINVAL, MERGE ": keep and duplicate are the same guest");
	struct merge_args a = { keep, duplicate, { { 0 } }, pf_now(db) };
	/* Generated before the write so a retried transaction reuses it. */
	pf_id_generate(&a.merge);
	rc = pf_store_write(db, merge_txn, &a);
	if (rc == 0)
		*merge_out = a.merge;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Unmerge                                                              */
/* ------------------------------------------------------------------ */

#define UNMERGE "pf_guest_unmerge"

struct unmerge_args {
	const pf_id *merge;
	pf_time now;
};

static int load_merge(MDB_txn *txn, pf_db *db, const pf_id *merge, pf_merge_rec *m)
{
	unsigned char key[MERGE_KEY_LEN];
	MDB_val v;
	memset(m, 0, sizeof *m);
	int rc = pf_meta_get(txn, db, key, merge_key(key, merge), &v);
	if (rc == PF_ENOTFOUND) {
		char s[PF_ID_STRLEN + 1];
		pf_id_format(s, merge);
		return pf_fail(PF_ENOTFOUND, "no merge with id %s (never made, already "
		                 "undone, or removed by an erasure)", s);
	}
	if (rc)
		return rc;
	return pf_codec_merge_decode(m, v.mv_data, v.mv_size);
}

static bool pref_same(const pf_pref *a, const pf_pref *b)
{
	if (!a || !b)
		return !a && !b;
	return str_eq(a->value, b->value) && a->kind == b->kind &&
	       str_eq(a->department, b->department) && str_eq(a->staff, b->staff) &&
	       str_eq(a->note, b->note) && a->count == b->count &&
	       a->first_seen == b->first_seen && a->last_seen == b->last_seen;
}

static bool tags_same(const pf_guest_rec *a, const pf_guest_rec *b)
{
	if (a->g.tag_count != b->g.tag_count)
		return false;
	for (size_t i = 0; i < a->g.tag_count; i++)
		if (strcmp(a->tags[i], b->tags[i]) != 0)
			return false;
	return true;
}

/* Where cur still holds what the merge wrote (after), put back what was
 * there before; where someone changed it since, keep the change. */
static void restore_str(const char **cur, const char *after, const char **before)
{
	if (!str_eq(*cur, after))
		return;
	free((char *)*cur);
	*cur = *before;             /* taken over from the before-record */
	*before = NULL;
}

static uint32_t undo_add(uint32_t cur, uint32_t after, uint32_t before)
{
	uint32_t added = after > before ? after - before : 0;
	return cur > added ? cur - added : 0;
}

/*
 * keep changed after the merge (a new preference, a check-in...): a
 * three-way restore.  Each preference category and profile field the
 * merge set goes back to its pre-merge value unless it was changed since,
 * in which case the later change stays; complaint counters lose what the
 * merge added.  `cur` becomes the result.
 */
static int restore_three_way(pf_guest_rec *cur, const pf_guest_rec *after, pf_guest_rec *before)
{
	size_t cap = cur->g.pref_count + before->g.pref_count + after->g.pref_count;
	pf_pref *out = calloc(cap ? cap : 1, sizeof *out);
	size_t n = 0, ic = 0, ia = 0, ib = 0;
	int rc = 0;
	if (!out)
		return pf_seterr(PF_ENOMEM, UNMERGE ": out of memory");
	while (rc == 0 && (ic < cur->g.pref_count || ia < after->g.pref_count ||
	                   ib < before->g.pref_count)) {
		/* The smallest category among the three heads. */
		const char *c = NULL;
		if (ic < cur->g.pref_count)
			c = cur->prefs[ic].category;
		if (ia < after->g.pref_count && (!c || strcmp(after->prefs[ia].category, c) < 0))
			c = after->prefs[ia].category;
		if (ib < before->g.pref_count && (!c || strcmp(before->prefs[ib].category, c) < 0))
			c = before->prefs[ib].category;
		const pf_pref *x = ic < cur->g.pref_count && !strcmp(cur->prefs[ic].category, c)
		                   ? &cur->prefs[ic] : NULL;
		const pf_pref *y = ia < after->g.pref_count && !strcmp(after->prefs[ia].category, c)
		                   ? &after->prefs[ia] : NULL;
		const pf_pref *z = ib < before->g.pref_count && !strcmp(before->prefs[ib].category, c)
		                   ? &before->prefs[ib] : NULL;
		const pf_pref *pick = pref_same(x, y) ? z : x;
		if (pick && (rc = pref_dup(&out[n], pick)) == 0)
			n++;
		ic += x != NULL;
		ia += y != NULL;
		ib += z != NULL;
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			pf_pref_clear(&out[i]);
		free(out);
		return rc;
	}
	prefs_replace(cur, out, n);

	restore_str(&cur->g.email, after->g.email, &before->g.email);
	restore_str(&cur->g.phone, after->g.phone, &before->g.phone);
	restore_str(&cur->g.language, after->g.language, &before->g.language);
	restore_str(&cur->g.loyalty_no, after->g.loyalty_no, &before->g.loyalty_no);
	restore_str(&cur->g.external_id, after->g.external_id, &before->g.external_id);
	restore_str(&cur->g.country, after->g.country, &before->g.country);
	if (cur->g.birth_date == after->g.birth_date)
		cur->g.birth_date = before->g.birth_date;
	if (cur->g.tier == after->g.tier)
		cur->g.tier = before->g.tier;
	if (cur->g.consent == after->g.consent)
		cur->g.consent = before->g.consent;
	if (tags_same(cur, after)) {
		char **t = cur->tags;
		size_t tn = cur->g.tag_count;
		cur->tags = before->tags;
		cur->g.tags = (const char *const *)before->tags;
		cur->g.tag_count = before->g.tag_count;
		before->tags = t;          /* freed with the before-record */
		before->g.tags = (const char *const *)t;
		before->g.tag_count = tn;
	}
	cur->complaints_open = undo_add(cur->complaints_open, after->complaints_open,
	                                before->complaints_open);
	cur->complaints_total = undo_add(cur->complaints_total, after->complaints_total,
	                                 before->complaints_total);
	cur->g.complaints_open = cur->complaints_open;
	cur->g.complaints_total = cur->complaints_total;
	if (str_eq(cur->complaint_latest, after->complaint_latest) &&
	    str_eq(cur->complaint_last_category, after->complaint_last_category)) {
		free(cur->complaint_latest);
		free(cur->complaint_last_category);
		cur->complaint_latest = before->complaint_latest;
		cur->complaint_last_category = before->complaint_last_category;
		before->complaint_latest = before->complaint_last_category = NULL;
	}
	if (cur->g.not_satisfied_at == after->g.not_satisfied_at)
		cur->g.not_satisfied_at = before->g.not_satisfied_at;
	return 0;
}

/* Name the later merge that absorbed `keep`, for the error message. */
static void absorbed_by(MDB_txn *txn, pf_db *db, const pf_id *keep, const pf_id *self,
                        char out[PF_ID_STRLEN + 1])
{
	keyvec ks = KEYVEC_INIT;
	unsigned char p[MG_KEY_LEN];
	strcpy(out, "another merge");
	size_t plen = pair_key(p, PF_META_MERGE_GUEST, keep, NULL);
	if (prefix_keys(txn, db, p, plen, &ks) == 0) {
		for (size_t i = 0; i < ks.n; i++) {
			pf_id mid;
			pf_merge_rec m;
			if (KV(ks, i)->len != MG_KEY_LEN)
				continue;
			memcpy(mid.b, KV(ks, i)->data + plen, ID_LEN);
			if (id_eq(&mid, self) || load_merge(txn, db, &mid, &m))
				continue;
			if (id_eq(&m.dup, keep))
				pf_id_format(out, &mid);
			pf_merge_rec_clear(&m);
		}
	}
	keyvec_free(&ks);
}

static int unmerge_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct unmerge_args *a = arg;
	pf_merge_rec m;
	pf_guest_rec *kc = NULL, *kc_old = NULL, *ka = NULL, *kb = NULL, *dr = NULL;
	msgpack_sbuffer sb;
	MDB_val cur;
	char ks[PF_ID_STRLEN + 1], other[PF_ID_STRLEN + 1];
	int rc;

	msgpack_sbuffer_init(&sb);
	if ((rc = load_merge(txn, db, a->merge, &m)))
		goto out;
	pf_id_format(ks, &m.keep);

	rc = pf_guest_get_raw(txn, db, &m.keep, &cur, NULL);
	if (rc == PF_ENOTFOUND) {
		absorbed_by(txn, db, &m.keep, a->merge, other);
		rc = pf_seterr(PF_EEXIST, UNMERGE ": the kept profile %s was since merged into "
		               "another (%s); undo that merge first", ks, other);
		goto out;
	}
	if (rc)
		goto out;
	MDB_val v;
	rc = pf_guest_get_raw(txn, db, &m.dup, &v, NULL);
	if (rc == 0) {
		pf_id_format(other, &m.dup);
		rc = pf_seterr(PF_EEXIST, UNMERGE ": guest %s exists again", other);
		goto out;
	}
	if (rc != PF_ENOTFOUND)
		goto out;

	bool exact = cur.mv_size == m.keep_after.len &&
	             memcmp(cur.mv_data, m.keep_after.data, cur.mv_size) == 0;
	if ((rc = pf_codec_guest_decode(&kc, cur.mv_data, cur.mv_size)) ||
	    (rc = pf_codec_guest_decode(&kc_old, cur.mv_data, cur.mv_size)) ||
	    (rc = decode_guest(&kb, &m.keep_before, &m.keep)) ||
	    (rc = decode_guest(&ka, &m.keep_after, &m.keep)) ||
	    (rc = decode_guest(&dr, &m.dup_before, &m.dup)))
		goto out;
	kc->g.id = kc_old->g.id = m.keep;

	/* Stays first: the three-way restore recounts keep's. */
	for (size_t i = 0; i < m.stay_count; i++) {
		pf_merge_stay *s = &m.stays[i];
		if ((s->moved && (rc = pf_stay_del(txn, db, &m.keep, s->arrival))) ||
		    (rc = pf_stay_put_raw(txn, db, &m.dup, s->arrival, s->value, s->len)))
			goto out;
	}

	if (exact) {
		/* Nothing touched keep since: its bytes from before the merge. */
		if ((rc = pf_guest_reindex(txn, db, kc_old, kb)) ||
		    (rc = pf_guest_put_raw(txn, db, &m.keep, m.keep_before.data,
		                           m.keep_before.len)))
			goto out;
	} else {
		if ((rc = restore_three_way(kc, ka, kb)) ||
		    (rc = count_stays(txn, db, &m.keep, &kc->g.stays)))
			goto out;
		kc->g.updated = a->now;
		if ((rc = pf_guest_reindex(txn, db, kc_old, kc)) ||
		    (rc = pf_codec_guest_encode(&sb, kc)) ||
		    (rc = pf_guest_put_raw(txn, db, &m.keep, sb.data, sb.size)))
			goto out;
	}

	rc = pf_guest_reindex(txn, db, NULL, dr);
	if (rc == PF_EEXIST) {
		rc = pf_seterr(PF_EEXIST, UNMERGE ": the duplicate's external id now belongs "
		               "to another guest");
		goto out;
	}
	if (rc || (rc = pf_guest_put_raw(txn, db, &m.dup, m.dup_before.data,
	                                 m.dup_before.len)))
		goto out;

	for (size_t i = 0; i < m.prompt_count; i++)
		if ((rc = prompt_repoint(txn, db, &m.prompts[i], &m.keep, &m.dup)))
			goto out;
	for (size_t i = 0; i < m.event_count; i++)
		if ((rc = event_repoint(txn, db, &m.events[i], &m.keep, &m.dup)))
			goto out;
	for (size_t i = 0; i < m.feedback_count; i++) {
		rc = pf_feedback_set_guest(txn, db, &m.feedback[i], &m.dup);
		if (rc && rc != PF_ENOTFOUND)
			goto out;
		rc = 0;
	}

	unsigned char key[MERGE_KEY_LEN];
	if ((rc = pf_meta_del(txn, db, key, merge_key(key, a->merge))) ||
	    (rc = merge_links(txn, db, a->merge, &m.keep, &m.dup, false)))
		goto out;
	rc = journal_pair(txn, db, "guest.unmerge", a->merge, &m.keep, &m.dup, &m);
out:
	pf_merge_rec_clear(&m);
	pf_guest_rec_free(kc);
	pf_guest_rec_free(kc_old);
	pf_guest_rec_free(ka);
	pf_guest_rec_free(kb);
	pf_guest_rec_free(dr);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int pf_guest_unmerge(pf_db *db, const pf_id *merge)
{
	pf_api_enter("pf_guest_unmerge");
	if (!db)
		return pf_seterr(PF_EINVAL, UNMERGE ": db is NULL");
	int rc = pf_check_id("merge", merge, NULL);
	if (rc)
		return rc;
	struct unmerge_args a = { merge, pf_now(db) };
	return pf_store_write(db, unmerge_txn, &a);
}

/* ------------------------------------------------------------------ */
/* Erasure support                                                      */
/* ------------------------------------------------------------------ */

/* Delete every "not a duplicate" mark of `g`, both directions. */
static int forget_marks(MDB_txn *txn, pf_db *db, const pf_id *g)
{
	keyvec ks = KEYVEC_INIT;
	unsigned char p[ND_KEY_LEN];
	size_t plen = pair_key(p, PF_META_NOT_DUP, g, NULL);
	int rc = prefix_keys(txn, db, p, plen, &ks);
	for (size_t i = 0; rc == 0 && i < ks.n; i++) {
		if (KV(ks, i)->len != ND_KEY_LEN)
			continue;
		pf_id other;
		unsigned char mirror[ND_KEY_LEN];
		memcpy(other.b, KV(ks, i)->data + plen, ID_LEN);
		if ((rc = pf_meta_del(txn, db, KV(ks, i)->data, KV(ks, i)->len)))
			break;
		rc = pf_meta_del(txn, db, mirror,
		                  pair_key(mirror, PF_META_NOT_DUP, &other, g));
	}
	keyvec_free(&ks);
	return rc;
}

static int forget_person(MDB_txn *txn, pf_db *db, const pf_id *guest, bool follow, pf_id **ids,
                         size_t *n);

int pf_merge_forget_marks(MDB_txn *txn, pf_db *db, const pf_id *guest)
{
	return forget_marks(txn, db, guest);
}

int pf_merge_marks_of(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **others, size_t *n)
{
	keyvec ks = KEYVEC_INIT;
	unsigned char p[ND_KEY_LEN];
	size_t plen = pair_key(p, PF_META_NOT_DUP, guest, NULL);
	*others = NULL;
	*n = 0;
	int rc = prefix_keys(txn, db, p, plen, &ks);
	if (rc == 0 && ks.n && !(*others = malloc(ks.n * sizeof **others)))
		rc = pf_seterr(PF_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < ks.n; i++)
		if (KV(ks, i)->len == ND_KEY_LEN)
			memcpy((*others)[(*n)++].b, KV(ks, i)->data + plen, ID_LEN);
	keyvec_free(&ks);
	return rc;
}

int pf_merge_mark_put(MDB_txn *txn, pf_db *db, const pf_id *a, const pf_id *b)
{
	unsigned char k[ND_KEY_LEN];
	int rc = pf_meta_put(txn, db, k, pair_key(k, PF_META_NOT_DUP, a, b), "", 0, 0);
	if (rc == 0)
		rc = pf_meta_put(txn, db, k, pair_key(k, PF_META_NOT_DUP, b, a), "", 0, 0);
	return rc;
}

int pf_merge_forget_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **ids,
                          size_t *n)
{
	return forget_person(txn, db, guest, true, ids, n);
}

int pf_merge_forget_profile(MDB_txn *txn, pf_db *db, const pf_id *guest)
{
	pf_id *ids = NULL;
	size_t n = 0;
	int rc = forget_person(txn, db, guest, false, &ids, &n);
	free(ids);
	return rc;
}

/* pf_merge_forget_guest; with `follow` false only `guest` itself: its
 * merge records go, the other profiles they name stay. */
static int forget_person(MDB_txn *txn, pf_db *db, const pf_id *guest, bool follow, pf_id **ids,
                         size_t *n)
{
	pf_idvec people = { NULL, 0, 0 };
	keyvec ks = KEYVEC_INIT;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = pf_idvec_push(&people, guest)))
		goto out;
	/* Breadth-first over merge records: each links two profiles of the
	 * same person, and each holds bytes of both. */
	for (size_t i = 0; i < people.n; i++) {
		pf_id g = people.ids[i];
		unsigned char p[MG_KEY_LEN];
		size_t plen = pair_key(p, PF_META_MERGE_GUEST, &g, NULL);
		keyvec_free(&ks);
		if ((rc = prefix_keys(txn, db, p, plen, &ks)))
			goto out;
		for (size_t j = 0; j < ks.n; j++) {
			pf_id mid;
			pf_merge_rec m;
			unsigned char key[MERGE_KEY_LEN];
			if (KV(ks, j)->len != MG_KEY_LEN)
				continue;
			memcpy(mid.b, KV(ks, j)->data + plen, ID_LEN);
			if ((rc = pf_meta_del(txn, db, KV(ks, j)->data, KV(ks, j)->len)))
				goto out;
			rc = load_merge(txn, db, &mid, &m);
			if (rc == PF_ENOTFOUND) {
				rc = 0;
				continue;
			}
			if (rc)
				goto out;
			if ((follow && (rc = pf_idvec_add_unique(&people, &m.keep))) ||
			    (follow && (rc = pf_idvec_add_unique(&people, &m.dup))) ||
			    (rc = pf_meta_del(txn, db, key, merge_key(key, &mid))) ||
			    (rc = merge_links(txn, db, &mid, &m.keep, &m.dup, false))) {
				pf_merge_rec_clear(&m);
				goto out;
			}
			pf_merge_rec_clear(&m);
		}
	}
	for (size_t i = 0; i < people.n; i++)
		if ((rc = forget_marks(txn, db, &people.ids[i])))
			goto out;
	*ids = pf_idvec_take(&people, n);
out:
	keyvec_free(&ks);
	pf_idvec_free(&people);
	return rc;
}

int pf_merge_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_meta_recode(txn, db, PF_META_MERGE, sizeof PF_META_MERGE - 1,
	                      sizeof PF_META_MERGE - 1 + ID_LEN, fn, ctx);
}
