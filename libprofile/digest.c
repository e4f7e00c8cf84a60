/*
 * digest.c — pf_digest: one SHA-256 over the state the properties of a
 * chain share (profiles, preferences, not-duplicate marks, stays,
 * feedback), so two properties, a backup and its source, or a database
 * before and after a maintenance step can be compared by 32 bytes.  What each property
 * keeps for itself (rules, events, prompts, queues, the journal, the
 * profile's created/updated stamps, a complaint's prompts and its due
 * time, which follow the property's own zone) is left out.
 *
 * Owns no database: one read transaction over guest, stay, feedback and
 * merge.c's marks in meta.
 * May call: store.c (the read), guest.c (walk), stay.c (walk), feedback.c
 * (raw walk), merge.c (a guest's not-duplicate marks), codec.c (stay and
 * feedback decoders), sha256.c, error.c.
 */
#include "error.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "stay.h"
#include "feedback.h"
#include "merge.h"
#include "sha256.h"

#include <stdlib.h>
#include <string.h>

#define DIGEST "pf_digest"

/* Every value is written with a one-byte tag and, for texts, a length, so
 * no two different states feed the hash the same bytes. */
static void put_u64(pf_sha256 *h, char tag, uint64_t v)
{
	unsigned char b[9];
	b[0] = (unsigned char)tag;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(v >> (56 - 8 * i));
	pf_sha256_update(h, b, sizeof b);
}

static void put_str(pf_sha256 *h, char tag, const char *s)
{
	if (!s) {
		put_u64(h, (char)(tag | 0x80), 0);     /* absent, unlike "" */
		return;
	}
	size_t n = strlen(s);
	put_u64(h, tag, n);
	pf_sha256_update(h, s, n);
}

static void put_id(pf_sha256 *h, char tag, const pf_id *id)
{
	pf_sha256_update(h, &tag, 1);
	pf_sha256_update(h, id->b, sizeof id->b);
}

struct walk {
	pf_sha256 h;
	MDB_txn *txn;
	pf_db *db;
};

static int stay_one(void *ctx, pf_date arrival, const MDB_val *v)
{
	struct walk *w = ctx;
	pf_stay s = PF_STAY_INIT;
	int rc = pf_codec_stay_decode(&s, v->mv_data, v->mv_size);
	if (rc == 0) {
		put_u64(&w->h, 'A', (uint64_t)(uint32_t)arrival);
		put_u64(&w->h, 'D', (uint64_t)(uint32_t)s.departure);
		put_str(&w->h, 'r', s.room);
		put_str(&w->h, 'h', s.property);
		put_u64(&w->h, 'n', s.party);
	}
	pf_stay_clear(&s);
	return rc;
}

static int guest_one(void *ctx, const pf_guest_rec *r)
{
	struct walk *w = ctx;
	const pf_guest *g = &r->g;
	put_id(&w->h, 'G', &g->id);
	put_str(&w->h, 'n', g->name);
	put_str(&w->h, 'e', g->email);
	put_str(&w->h, 'p', g->phone);
	put_str(&w->h, 'l', g->language);
	put_str(&w->h, 'y', g->loyalty_no);
	put_str(&w->h, 'x', g->external_id);
	put_str(&w->h, 'c', g->country);
	put_u64(&w->h, 'b', (uint64_t)(uint32_t)g->birth_date);
	put_u64(&w->h, 't', (uint64_t)g->tier);
	put_u64(&w->h, 'k', (uint64_t)g->consent);
	put_u64(&w->h, 'T', g->tag_count);
	for (size_t i = 0; i < g->tag_count; i++)
		put_str(&w->h, 'g', g->tags[i]);
	put_u64(&w->h, 's', g->stays);
	put_u64(&w->h, 'o', r->complaints_open);
	put_u64(&w->h, 'O', r->complaints_total);
	put_u64(&w->h, 'f', (uint64_t)g->not_satisfied_at);
	put_u64(&w->h, 'P', g->pref_count);
	for (size_t i = 0; i < g->pref_count; i++) {
		const pf_pref *p = &g->prefs[i];
		put_str(&w->h, 'C', p->category);
		put_str(&w->h, 'v', p->value);
		put_u64(&w->h, 'K', (uint64_t)p->kind);
		put_str(&w->h, 'd', p->department);
		put_str(&w->h, 'w', p->staff);
		put_str(&w->h, 'N', p->note);
		put_u64(&w->h, 'u', p->count);
		put_u64(&w->h, 'F', (uint64_t)p->first_seen);
		put_u64(&w->h, 'L', (uint64_t)p->last_seen);
	}
	pf_id *marks = NULL;
	size_t nmarks = 0;
	int rc = pf_merge_marks_of(w->txn, w->db, &g->id, &marks, &nmarks);
	for (size_t i = 0; rc == 0 && i < nmarks; i++)
		put_id(&w->h, 'M', &marks[i]);
	free(marks);
	return rc ? rc : pf_stays_each(w->txn, w->db, &g->id, 0, stay_one, w);
}

static int feedback_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct walk *w = ctx;
	pf_feedback_rec r;
	memset(&r, 0, sizeof r);
	int rc = pf_codec_feedback_decode(&r, v->mv_data, v->mv_size);
	if (rc == 0) {
		const pf_feedback *f = &r.f;
		pf_sha256_update(&w->h, "B", 1);
		pf_sha256_update(&w->h, k->mv_data, k->mv_size);
		put_id(&w->h, 'g', &f->guest);
		put_u64(&w->h, 'a', (uint64_t)(uint32_t)f->stay);
		put_u64(&w->h, 'k', (uint64_t)f->kind);
		put_str(&w->h, 'd', f->department);
		put_str(&w->h, 'c', f->category);
		put_str(&w->h, 't', f->text);
		put_u64(&w->h, 's', (uint64_t)f->severity);
		put_str(&w->h, 'b', f->recorded_by);
		put_u64(&w->h, 'r', (uint64_t)f->recorded_at);
		put_u64(&w->h, 'S', (uint64_t)f->status);
		put_str(&w->h, 'R', f->resolution);
		put_str(&w->h, 'y', f->resolved_by);
		put_u64(&w->h, 'Y', (uint64_t)f->resolved_at);
		put_u64(&w->h, 'o', (uint64_t)f->outcome);
		put_str(&w->h, 'w', f->outcome_by);
		put_u64(&w->h, 'W', (uint64_t)f->outcome_at);
	}
	pf_feedback_rec_clear(&r);
	return rc;
}

static int digest_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct walk *w = arg;
	w->txn = txn;
	w->db = db;
	pf_sha256_init(&w->h);
	pf_sha256_update(&w->h, "libprofile digest 1", 19);
	int rc = pf_guest_each(txn, db, guest_one, w);
	if (rc == 0)
		rc = pf_feedback_each_raw(txn, db, feedback_one, w);
	return rc;
}

int pf_digest(unsigned char out[PF_DIGEST_SIZE], pf_db *db)
{
	pf_api_enter(DIGEST);
	if (!out || !db)
		return pf_seterr(PF_EINVAL, DIGEST ": %s is NULL", out ? "db" : "out");
	struct walk w;
	int rc = pf_store_read(db, digest_txn, &w);
	if (rc == 0)
		pf_sha256_final(&w.h, out);
	return rc;
}
