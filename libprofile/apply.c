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
 * (an erasure made elsewhere), error.c, id.c.
 */
#include "chain.h"
#include "error.h"
#include "id.h"
#include "guest.h"
#include "feedback.h"
#include "erase.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN ((int)sizeof(pf_id))
#define APPLY "pf_changes_apply"

typedef struct idset {
	pf_id *ids;
	size_t n, cap;
} idset;

static int idset_add(idset *s, const pf_id *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->ids[i].b, id->b, ID_LEN) == 0)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		pf_id *n = realloc(s->ids, cap * sizeof *n);
		if (!n)
			return pf_fail(PF_ENOMEM, "out of memory");
		s->ids = n;
		s->cap = cap;
	}
	s->ids[s->n++] = *id;
	return 0;
}

struct apply {
	const pf_change *in;
	pf_cchange *c;            /* decoded, in the caller's order */
	size_t *order;            /* by origin, then sequence */
	size_t n;
	pf_apply_report rep;
	idset guests, feedback;
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

int pf_chain_tombstone(MDB_txn *txn, pf_db *db, const pf_id *id, uint64_t hlc)
{
	pf_chain_group g;
	int rc = pf_chain_group_load(txn, db, id, &g, true);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < g.n; i++) {
		unsigned char k[1 + ID_LEN];
		const pf_id *m = &g.ids[i];
		pf_cguest *mg = &g.members[i];
		if (mg->alias.set && mg->alias.len == (size_t)ID_LEN) {
			pf_id t;
			memcpy(t.b, mg->alias.val, ID_LEN);
			rc = pf_chain_alias_index(txn, db, &t, NULL, m);
		}
		/* The tombstone keeps the alias register (no personal data), so
		 * the erased guest's feedback sits under the same profile
		 * everywhere, whenever the merge arrives. */
		if (rc == 0)
			rc = pf_store_del(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'g', m), NULL, 0);
		if (rc == 0)
			rc = pf_chain_tombstone_put(txn, db, m, hlc, &mg->alias);
		if (rc == 0)
			rc = pf_store_del_prefix(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'a', m));
		if (rc == 0)
			rc = pf_chain_drop_profile(txn, db, m);
		/* The feedback stored under the person (anonymised by the
		 * erasure) keeps no personal text in its register either. */
		pf_id *fids = NULL;
		size_t nf = 0;
		if (rc == 0)
			rc = pf_feedback_ids_of_guest(txn, db, m, &fids, &nf);
		for (size_t f = 0; rc == 0 && f < nf; f++)
			if ((rc = scrub_feedback(txn, db, &fids[f])) == 0)
				rc = pf_chain_materialize_feedback(txn, db, &fids[f]);
		free(fids);
	}
	pf_chain_group_clear(&g);
	return rc;
}

static int apply_erase(MDB_txn *txn, pf_db *db, struct apply *a, const pf_cchange *c)
{
	bool erased;
	int rc = pf_chain_erased(txn, db, &c->id, &erased);
	if (rc || erased)
		return rc;
	/* The profile the guest's data lived in loses it: rewrite that root. */
	pf_id root;
	if ((rc = pf_chain_root(txn, db, &c->id, &root)))
		return rc;
	pf_guest_rec *r = NULL;
	bool found;
	if ((rc = pf_guest_load_if(&r, txn, db, &c->id, &found)))
		return rc;
	pf_guest_rec_free(r);
	if (found && (rc = pf_erase_guest_txn(txn, db, &c->id)))
		return rc;
	if ((rc = pf_chain_tombstone(txn, db, &c->id, c->hlc)))
		return rc;
	if (memcmp(root.b, c->id.b, ID_LEN) != 0)
		rc = idset_add(&a->guests, &root);
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
	if (erased) {
		a->rep.discarded++;
		/* Only its alias register counts: where its feedback belongs. */
		pf_creg al;
		uint64_t when;
		if (!c->g.alias.set || (rc = pf_chain_tombstone_get(txn, db, &c->id, &when, &al)))
			return rc;
		if (!al.set || pf_stamp_cmp(&al.st, &c->g.alias.st) < 0) {
			if (al.set && al.len == (size_t)ID_LEN) {
				memcpy(old.b, al.val, ID_LEN);
				rc = idset_add(&a->guests, &old);
			}
			if (rc == 0)
				rc = pf_chain_tombstone_put(txn, db, &c->id, when, &c->g.alias);
			if (rc == 0 && c->g.alias.len == (size_t)ID_LEN) {
				memcpy(old.b, c->g.alias.val, ID_LEN);
				rc = idset_add(&a->guests, &old);
			}
			if (rc == 0)
				rc = idset_add(&a->guests, &c->id);
			/* its feedback follows the alias */
			pf_id *fids = NULL;
			size_t nf = 0;
			if (rc == 0)
				rc = pf_feedback_ids_of_guest(txn, db, &c->id, &fids, &nf);
			for (size_t f = 0; rc == 0 && f < nf; f++)
				rc = idset_add(&a->feedback, &fids[f]);
			free(fids);
		}
		pf_creg_clear(&al);
		return rc;
	}
	bool had, changed;
	/* The root before: a guest merged elsewhere leaves it. */
	if ((rc = pf_chain_root(txn, db, &c->id, &root)) || (rc = idset_add(&a->guests, &root)) ||
	    (rc = pf_chain_absorb(txn, db, &c->id, &c->g, &old, &had, &changed)))
		return rc;
	if (changed && had)
		rc = idset_add(&a->guests, &old);
	if (rc == 0)
		rc = idset_add(&a->guests, &c->id);
	/* Merged into an erased profile: erased too, so that whatever comes
	 * later (an unmerge) finds it erased here as everywhere. */
	bool gone = false;
	if (rc == 0 && changed && (rc = pf_chain_root(txn, db, &c->id, &root)) == 0 &&
	    (rc = pf_chain_erased(txn, db, &root, &gone)) == 0 && gone)
		rc = pf_chain_tombstone(txn, db, &c->id, c->hlc);
	return rc;
}

static int apply_feedback(MDB_txn *txn, pf_db *db, struct apply *a, const pf_cchange *c)
{
	pf_feedback_rec r;
	int rc = pf_codec_feedback_decode(&r, c->fb.val, c->fb.len);
	if (rc)
		return rc;
	bool erased = false;
	pf_id root;
	if ((rc = pf_chain_erased(txn, db, &r.f.guest, &erased)) == 0 && !erased &&
	    (rc = pf_chain_root(txn, db, &r.f.guest, &root)) == 0)
		rc = pf_chain_erased(txn, db, &root, &erased);
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
		rc = idset_add(&a->feedback, &c->id);
	if (rc == 0)
		rc = idset_add(&a->guests, &r.f.guest);
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
	return pf_store_put(txn, db, PF_DBI_CHAIN, k, wait_key(k, c->origin, c->seq), raw->data,
	                    raw->len, 0);
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
		rc = pf_store_get(txn, db, PF_DBI_CHAIN, k, kl, &v);
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
		if (rc || (rc = pf_store_del(txn, db, PF_DBI_CHAIN, k, kl, NULL, 0)))
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
		rc = pf_store_each_prefix(txn, db, PF_DBI_CHAIN, "p", 1, origin_seen, &o);
	for (size_t i = 0; rc == 0 && i < o.n; i++)
		rc = drain(txn, db, a, o.names[i]);
	o.n = o.waiting = 0;
	if (rc == 0)
		rc = pf_store_each_prefix(txn, db, PF_DBI_CHAIN, "p", 1, origin_seen, &o);
	a->rep.waiting = o.waiting;
	/* Then the records: feedback first (the complaint counts follow from
	 * it), then each touched profile's root. */
	for (size_t i = 0; rc == 0 && i < a->feedback.n; i++)
		rc = pf_chain_materialize_feedback(txn, db, &a->feedback.ids[i]);
	idset roots = { 0 };
	for (size_t i = 0; rc == 0 && i < a->guests.n; i++) {
		pf_id r;
		if ((rc = pf_chain_root(txn, db, &a->guests.ids[i], &r)) == 0)
			rc = idset_add(&roots, &r);
	}
	for (size_t i = 0; rc == 0 && i < roots.n; i++)
		rc = pf_chain_materialize(txn, db, &roots.ids[i]);
	free(roots.ids);
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
		if (!changes[i].data ||
		    pf_cchange_decode(&a.c[i], changes[i].data, changes[i].len)) {
			rc = pf_fail(PF_ECORRUPT, "changes[%zu] is not a change (damaged in transit, "
			             "or from another program)", i);
			goto out;
		}
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
	free(a.guests.ids);
	free(a.feedback.ids);
	return rc;
}
