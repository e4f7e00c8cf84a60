/*
 * apply.c — pf_changes_apply: other properties' changes joined into this
 * property's registers, in one write transaction with each origin's
 * high-water mark, then the profiles they touched rewritten from the
 * registers (chain_state.c).  Changes of an origin take effect in their
 * order: one that arrives before its predecessors waits (stored under
 * 'p'); one stamped too far ahead of the local clock waits too.  Because
 * the join keeps the later stamp of each register, the result depends on
 * the set of changes, not on the order in which they came.
 *
 * Owns the 'p' and 'x' keys of the `chain` database (waiting changes,
 * erasure tombstones).
 * May call: chain_reg.c, chain_state.c, change.c (marks, clock, absorb,
 * the hook's switch), store.c, codec.c, guest.c, feedback.c, erase.c
 * (an erasure made elsewhere), merge.c (not-duplicate marks), error.c,
 * id.c, vec.c.
 */
#include "chain.h"
#include "error.h"
#include "id.h"
#include "guest.h"
#include "feedback.h"
#include "erase.h"
#include "merge.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN ((int)sizeof(pf_id))
#define APPLY "pf_changes_apply"

struct apply {
	const pf_change *in;
	pf_cchange *c;            /* decoded, in the caller's order */
	size_t *order;            /* by origin, then sequence */
	size_t n;
	pf_apply_report rep;
	pf_idvec guests, feedback;  /* what the changes touched */
	uint64_t limit;           /* stamps above this are refused */
};

/* ------------------------------------------------------------------ */
/* Erasure                                                              */
/* ------------------------------------------------------------------ */

static int scrub_feedback(MDB_txn *txn, pf_db *db, const pf_id *fid)
{
	pf_creg reg;
	int rc = pf_cfeedback_load(txn, db, fid, &reg);
	if (rc || !reg.set)
		return rc;
	pf_feedback_rec r;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	if ((rc = pf_codec_feedback_decode(&r, reg.val, reg.len)) == 0) {
		if ((rc = pf_feedback_rec_anonymise(&r)) == 0 &&
		    (rc = pf_chain_feedback_blob(&sb, &r)) == 0 &&
		    (rc = pf_creg_set(&reg, &reg.st, sb.data, sb.size)) == 0)
			rc = pf_cfeedback_store(txn, db, fid, &reg);
		pf_feedback_rec_clear(&r);
	}
	msgpack_sbuffer_destroy(&sb);
	pf_creg_clear(&reg);
	return rc;
}

/* Erase one guest's registers: its tombstone keeps the alias register (no
 * personal data), so the erased guest's feedback sits under the same
 * profile everywhere, whenever a merge of it arrives. */
static int tombstone_one(MDB_txn *txn, pf_db *db, const pf_id *m, uint64_t hlc)
{
	unsigned char k[1 + ID_LEN];
	pf_cguest mg;
	int rc = pf_cguest_load(txn, db, m, &mg);
	if (rc)
		return rc;
	if (rc == 0)
		rc = pf_chain_del(txn, db, k, pf_chain_key(k, 'g', m));
	if (rc == 0)
		rc = pf_chain_tombstone_put(txn, db, m, hlc, &mg.alias);
	pf_cguest_clear(&mg);
	if (rc == 0)
		rc = pf_chain_drop_profile(txn, db, m);
	if (rc == 0)
		rc = pf_merge_forget_marks(txn, db, m);
	/* The feedback stored under the person is written again (as the
	 * erasure leaves it: anonymised). */
	pf_id *fids = NULL;
	size_t nf = 0;
	if (rc == 0)
		rc = pf_feedback_ids_of_guest(txn, db, m, &fids, &nf);
	for (size_t f = 0; rc == 0 && f < nf; f++)
		rc = pf_chain_materialize_feedback(txn, db, &fids[f]);
	free(fids);
	return rc;
}

/* Every feedback register of a guest in ids[0..n): its personal text goes
 * (the register's own guest decides, never where the record is stored,
 * so every property strips the same registers). */
struct scrub_walk {
	const pf_id *ids;
	size_t n;
	pf_id *hit;
	size_t nhit, cap;
};

static int scrub_seen(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct scrub_walk *w = ctx;
	const unsigned char *p = v->mv_data;
	if (k->mv_size != 1 + (size_t)ID_LEN || v->mv_size < 10 || (size_t)p[8] + 9 > v->mv_size)
		return pf_fail(PF_ECORRUPT, "corrupt record in 'chain': a feedback register");
	pf_feedback_rec r;
	int rc = pf_codec_feedback_decode(&r, p + 9 + p[8], v->mv_size - 9 - p[8]);
	if (rc)
		return rc;
	bool mine = false;
	for (size_t i = 0; i < w->n && !mine; i++)
		mine = memcmp(w->ids[i].b, r.f.guest.b, ID_LEN) == 0;
	pf_feedback_rec_clear(&r);
	if (!mine)
		return 0;
	if (w->nhit == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		pf_id *h = realloc(w->hit, cap * sizeof *h);
		if (!h)
			return pf_fail(PF_ENOMEM, "out of memory");
		w->hit = h;
		w->cap = cap;
	}
	memcpy(w->hit[w->nhit++].b, (const unsigned char *)k->mv_data + 1, ID_LEN);
	return 0;
}

static int scrub_all(MDB_txn *txn, pf_db *db, const pf_id *ids, size_t n)
{
	struct scrub_walk w = { ids, n, NULL, 0, 0 };
	int rc = pf_chain_each_from(txn, db, "f", 1, 1, scrub_seen, &w);
	for (size_t i = 0; rc == 0 && i < w.nhit; i++)
		if ((rc = scrub_feedback(txn, db, &w.hit[i])) == 0)
			rc = pf_chain_materialize_feedback(txn, db, &w.hit[i]);
	free(w.hit);
	return rc;
}

int pf_chain_erase_set(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id **ids, size_t *n)
{
	pf_chain_group g;
	*ids = NULL;
	*n = 0;
	int rc = pf_chain_group_load(txn, db, id, &g, true);
	if (rc)
		return rc;
	if (!(*ids = malloc((g.n ? g.n : 1) * sizeof **ids)))
		rc = pf_fail(PF_ENOMEM, "out of memory");
	else {
		*ids[0] = *id;
		*n = 1;
		for (size_t i = 0; i < g.n; i++)
			if (memcmp(g.ids[i].b, id->b, ID_LEN) != 0)
				(*ids)[(*n)++] = g.ids[i];
	}
	pf_chain_group_clear(&g);
	return rc;
}

int pf_chain_tombstone(MDB_txn *txn, pf_db *db, const pf_id *ids, size_t n, uint64_t hlc,
                       pf_id *roots, size_t *nroots)
{
	int rc = 0;
	*nroots = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		bool erased;
		pf_id root;
		if ((rc = pf_chain_erased(txn, db, &ids[i], &erased)) || erased)
			continue;
		/* The profile the guest's data lived in loses it. */
		if ((rc = pf_chain_root(txn, db, &ids[i], &root)))
			break;
		if (memcmp(root.b, ids[i].b, ID_LEN) != 0)
			roots[(*nroots)++] = root;
		rc = tombstone_one(txn, db, &ids[i], hlc);
	}
	return rc ? rc : scrub_all(txn, db, ids, n);
}

static int apply_erase(MDB_txn *txn, pf_db *db, struct apply *a, const pf_cchange *c)
{
	/* Each profile it names, as this property holds it (prompts, journal,
	 * merge records...), and nothing more: local merges are not followed. */
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < c->nerased; i++) {
		bool erased;
		if ((rc = pf_chain_erased(txn, db, &c->erased[i], &erased)) == 0 && !erased)
			rc = pf_erase_profile_txn(txn, db, &c->erased[i]);
	}
	pf_id *roots = rc ? NULL : malloc(c->nerased * sizeof *roots);
	size_t nroots = 0;
	if (rc == 0 && !roots)
		rc = pf_fail(PF_ENOMEM, "out of memory");
	if (rc == 0)
		rc = pf_chain_tombstone(txn, db, c->erased, c->nerased, c->hlc, roots, &nroots);
	for (size_t i = 0; rc == 0 && i < nroots; i++)
		rc = pf_idvec_add_unique(&a->guests, &roots[i]);
	free(roots);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Guests and feedback                                                  */
/* ------------------------------------------------------------------ */

static int apply_guest(MDB_txn *txn, pf_db *db, struct apply *a, const pf_cchange *c)
{
	bool erased;
	int rc = pf_chain_erased(txn, db, &c->id, &erased);
	if (rc)
		return rc;
	pf_id root, old;
	bool had, changed;
	if (erased) {
		/* Only its alias register counts: where its feedback belongs. */
		a->rep.discarded++;
		if ((rc = pf_chain_absorb(txn, db, &c->id, &c->g, &old, &had, &changed)) || !changed)
			return rc;
		if (had)
			rc = pf_idvec_add_unique(&a->guests, &old);
		if (rc == 0 && c->g.alias.len == (size_t)ID_LEN) {
			memcpy(root.b, c->g.alias.val, ID_LEN);
			rc = pf_idvec_add_unique(&a->guests, &root);
		}
		if (rc == 0)
			rc = pf_idvec_add_unique(&a->guests, &c->id);
		pf_id *fids = NULL;
		size_t nf = 0;
		if (rc == 0)
			rc = pf_feedback_ids_of_guest(txn, db, &c->id, &fids, &nf);
		for (size_t f = 0; rc == 0 && f < nf; f++)
			rc = pf_idvec_add_unique(&a->feedback, &fids[f]);
		free(fids);
		return rc;
	}
	/* The root before: a guest merged elsewhere leaves it. */
	if ((rc = pf_chain_root(txn, db, &c->id, &root)) || (rc = pf_idvec_add_unique(&a->guests, &root)) ||
	    (rc = pf_chain_absorb(txn, db, &c->id, &c->g, &old, &had, &changed)))
		return rc;
	if (changed && had)
		rc = pf_idvec_add_unique(&a->guests, &old);
	if (rc == 0)
		rc = pf_idvec_add_unique(&a->guests, &c->id);
	/* Not-duplicate marks, stored both ways (with a guest not erased). */
	for (size_t i = 0; rc == 0 && i < c->g.nmark; i++) {
		bool gone;
		if ((rc = pf_chain_erased(txn, db, &c->g.marks[i], &gone)) == 0 && !gone)
			rc = pf_merge_mark_put(txn, db, &c->id, &c->g.marks[i]);
	}
	return rc;
}

static int apply_feedback(MDB_txn *txn, pf_db *db, struct apply *a, const pf_cchange *c)
{
	pf_feedback_rec r;
	int rc = pf_codec_feedback_decode(&r, c->fb.val, c->fb.len);
	if (rc)
		return rc;
	bool erased = false;
	rc = pf_chain_erased(txn, db, &r.f.guest, &erased);
	if (rc == 0 && erased)
		a->rep.discarded++;    /* kept, but only as erasure leaves it */
	pf_creg cur;
	if (rc == 0 && (rc = pf_cfeedback_load(txn, db, &c->id, &cur)) == 0) {
		if (!cur.set || pf_stamp_cmp(&cur.st, &c->fb.st) < 0) {
			if ((rc = pf_creg_set(&cur, &c->fb.st, c->fb.val, c->fb.len)) == 0)
				rc = pf_cfeedback_store(txn, db, &c->id, &cur);
			if (rc == 0 && erased)
				rc = scrub_feedback(txn, db, &c->id);
		}
		pf_creg_clear(&cur);
	}
	if (rc == 0)
		rc = pf_idvec_add_unique(&a->feedback, &c->id);
	if (rc == 0)
		rc = pf_idvec_add_unique(&a->guests, &r.f.guest);
	pf_feedback_rec_clear(&r);
	return rc;
}

/* One change whose predecessors are all applied.  1: refused (too far
 * ahead), so it and its successors wait. */
static int apply_one(MDB_txn *txn, pf_db *db, struct apply *a, const pf_cchange *c)
{
	if (c->hlc > a->limit)
		return 1;
	int rc = pf_chain_observe(txn, db, c->hlc);
	if (rc)
		return rc;
	switch (c->kind) {
	case PF_CHANGE_GUEST: rc = apply_guest(txn, db, a, c); break;
	case PF_CHANGE_ERASE: rc = apply_erase(txn, db, a, c); break;
	default: rc = apply_feedback(txn, db, a, c); break;
	}
	if (rc == 0)
		rc = pf_chain_mark_put(txn, db, c->origin, c->seq);
	if (rc == 0)
		a->rep.applied++;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Waiting changes                                                      */
/* ------------------------------------------------------------------ */

static size_t wait_key(unsigned char *k, const char *origin, uint64_t seq)
{
	size_t n = strlen(origin);
	k[0] = 'p';
	memcpy(k + 1, origin, n);
	k[1 + n] = '\0';
	pf_be64_put(k + 2 + n, seq);
	return n + 10;
}

static int wait_put(MDB_txn *txn, pf_db *db, const pf_cchange *c, const pf_change *raw)
{
	unsigned char k[10 + PF_PROPERTY_MAX];
	return pf_chain_put(txn, db, k, wait_key(k, c->origin, c->seq), raw->data,
	                    raw->len);
}

/* Apply origin's waiting changes that now follow its mark. */
static int drain(MDB_txn *txn, pf_db *db, struct apply *a, const char *origin)
{
	for (;;) {
		uint64_t mark;
		int rc = pf_chain_mark_get(txn, db, origin, &mark);
		if (rc)
			return rc;
		unsigned char k[10 + PF_PROPERTY_MAX];
		size_t kl = wait_key(k, origin, mark + 1);
		MDB_val v;
		rc = pf_chain_get(txn, db, k, kl, &v);
		if (rc == PF_ENOTFOUND)
			return 0;
		if (rc)
			return rc;
		pf_cchange c;
		if ((rc = pf_cchange_decode(&c, v.mv_data, v.mv_size)))
			return rc;
		rc = apply_one(txn, db, a, &c);
		pf_cchange_clear(&c);
		if (rc == 1)
			return 0;
		if (rc || (rc = pf_chain_del(txn, db, k, kl)))
			return rc;
	}
}

struct origins {
	char names[64][PF_PROPERTY_MAX + 1];
	size_t n;
	size_t waiting;
};

static int origin_seen(void *ctx, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	struct origins *o = ctx;
	const char *name = (const char *)k->mv_data + 1;
	size_t n = strnlen(name, k->mv_size - 1);
	o->waiting++;
	if (n == 0 || n > PF_PROPERTY_MAX)
		return pf_fail(PF_ECORRUPT, "corrupt key in 'chain': a waiting change");
	if (o->n && strncmp(o->names[o->n - 1], name, n) == 0 && !o->names[o->n - 1][n])
		return 0;
	if (o->n == 64)
		return 0;
	memcpy(o->names[o->n], name, n);
	o->names[o->n++][n] = '\0';
	return 0;
}

/* ------------------------------------------------------------------ */
/* The transaction                                                      */
/* ------------------------------------------------------------------ */

static int apply_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct apply *a = arg;
	memset(&a->rep, 0, sizeof a->rep);
	a->guests.n = a->feedback.n = 0;
	pf_chain_applying(db, true);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < a->n; i++) {
		const pf_cchange *c = &a->c[a->order[i]];
		const pf_change *raw = &a->in[a->order[i]];
		uint64_t mark;
		if ((rc = pf_chain_mark_get(txn, db, c->origin, &mark)))
			break;
		if (c->seq <= mark) {
			if (strcmp(c->origin, db->property) == 0)
				a->rep.own++;
			else
				a->rep.duplicates++;
			continue;
		}
		if (c->seq > mark + 1) {
			rc = wait_put(txn, db, c, raw);
			continue;
		}
		rc = apply_one(txn, db, a, c);
		if (rc == 1) {
			a->rep.refused++;
			rc = wait_put(txn, db, c, raw);
			continue;
		}
		if (rc == 0)
			rc = drain(txn, db, a, c->origin);
	}
	/* Changes kept back earlier (too far ahead then) may fit now. */
	struct origins o = { .n = 0 };
	if (rc == 0)
		rc = pf_chain_each_from(txn, db, "p", 1, 1, origin_seen, &o);
	for (size_t i = 0; rc == 0 && i < o.n; i++)
		rc = drain(txn, db, a, o.names[i]);
	o.n = o.waiting = 0;
	if (rc == 0)
		rc = pf_chain_each_from(txn, db, "p", 1, 1, origin_seen, &o);
	a->rep.waiting = o.waiting;
	/* Then the records: feedback first (the complaint counts follow from
	 * it), then each touched profile's root. */
	for (size_t i = 0; rc == 0 && i < a->feedback.n; i++)
		rc = pf_chain_materialize_feedback(txn, db, &a->feedback.ids[i]);
	pf_idvec roots = { NULL, 0, 0 };
	for (size_t i = 0; rc == 0 && i < a->guests.n; i++) {
		pf_id r;
		if ((rc = pf_chain_root(txn, db, &a->guests.ids[i], &r)) == 0)
			rc = pf_idvec_add_unique(&roots, &r);
	}
	for (size_t i = 0; rc == 0 && i < roots.n; i++)
		rc = pf_chain_materialize(txn, db, &roots.ids[i]);
	pf_idvec_free(&roots);
	return rc;
}

static const struct apply *sort_ctx;

static int by_origin_seq(const void *x, const void *y)
{
	const pf_cchange *a = &sort_ctx->c[*(const size_t *)x], *b = &sort_ctx->c[*(const size_t *)y];
	int c = strcmp(a->origin, b->origin);
	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

int pf_changes_apply(pf_db *db, const pf_change *changes, size_t n, pf_apply_report *report)
{
	pf_api_enter(APPLY);
	if (report)
		memset(report, 0, sizeof *report);
	if (!db || (!changes && n))
		return pf_fail(PF_EINVAL, "%s is NULL", db ? "changes" : "db");
	if (n > PF_CHANGES_MAX)
		return pf_fail(PF_EINVAL, "%zu changes (at most %d in one call)", n, PF_CHANGES_MAX);
	if (!db->property[0])
		return pf_fail(PF_EINVAL, "the database has no property name; open it with "
		               "pf_options.property to take part in a chain");
	struct apply a;
	memset(&a, 0, sizeof a);
	a.in = changes;
	a.n = n;
	int rc = 0;
	if (n && (!(a.c = calloc(n, sizeof *a.c)) || !(a.order = malloc(n * sizeof *a.order)))) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = changes[i].data ? pf_cchange_decode(&a.c[i], changes[i].data, changes[i].len)
		                     : PF_ECORRUPT;
		if (rc == PF_ECORRUPT)
			rc = pf_fail(PF_ECORRUPT, "changes[%zu] is not a change (damaged in transit, "
			             "or from another program)", i);
		if (rc)
			goto out;
		a.order[i] = i;
	}
	if (n > 1) {
		pthread_mutex_lock(&sort_lock);
		sort_ctx = &a;
		qsort(a.order, n, sizeof *a.order, by_origin_seq);
		pthread_mutex_unlock(&sort_lock);
	}
	pf_time now = pf_now(db);
	a.limit = now > 0 ? (uint64_t)(now + PF_CHAIN_AHEAD_MAX + 1) << PF_CHAIN_HLC_SHIFT : 0;
	rc = pf_store_write(db, apply_txn, &a);
	pf_chain_applying(db, false);
	if (rc == 0 && report)
		*report = a.rep;
out:
	for (size_t i = 0; a.c && i < n; i++)
		pf_cchange_clear(&a.c[i]);
	free(a.c);
	free(a.order);
	pf_idvec_free(&a.guests);
	pf_idvec_free(&a.feedback);
	return rc;
}
