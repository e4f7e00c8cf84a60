/*
 * change.c — the change feed of a property in a chain: the hybrid
 * logical clock, the commit hook that turns each local write into
 * changes (in the write's own transaction, so the change log is the
 * outbox), and the public readers (pf_changes_read, pf_changes_last,
 * pf_change_origin, pf_chain_mark, pf_chain_published, pf_chain_epoch).
 *
 * The hook compares what the write left in the guest, stay and feedback
 * records with what the registers say (chain_state.c) and records each
 * difference as a register with a new stamp: so every mutation of the
 * library, present or future, replicates without knowing about the
 * chain, as long as it journals the guest (or feedback) it touched.
 * What it cannot express as registers (the complaint counts, which follow
 * from feedback) is then written back from the registers, so the local
 * profile is always the function of the registers every property computes.
 *
 * Owns the 'c', 'w' and 'm' keys of the `chain` database, and the note
 * buffer journal.c fills (struct pf_chain_txn).
 * May call: chain_reg.c, chain_state.c, store.c, codec.c, guest.c (load),
 * stay.c (walk), feedback.c (load), merge.c (not-duplicate marks),
 * error.c, id.c, text.c, vec.c.
 */
#include "chain.h"
#include "error.h"
#include "id.h"
#include "text.h"
#include "guest.h"
#include "stay.h"
#include "feedback.h"
#include "merge.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN ((int)sizeof(pf_id))

enum { NOTE_GUEST = 'G', NOTE_FEEDBACK = 'F', NOTE_ERASE = 'E', NOTE_MERGE = 'M',
       NOTE_UNMERGE = 'U', NOTE_MARK = 'N' };

typedef struct note {
	char kind;
	pf_id guest, object, keep;
} note;

struct pf_chain_txn {
	note *notes;
	size_t n, cap;
	bool applying;            /* apply.c writes registers and records itself */
	bool failed;              /* a note could not be kept: the commit fails */
};

/* ------------------------------------------------------------------ */
/* Notes (journal.c) and the hooks (store.c)                            */
/* ------------------------------------------------------------------ */

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

void pf_chain_note(pf_db *db, const char *op, const pf_id *guest, const pf_id *object,
                   const char *keep)
{
	struct pf_chain_txn *c = db->chain;
	if (!c || c->applying || !op)
		return;
	note nt;
	memset(&nt, 0, sizeof nt);
	if (starts(op, "prompt.") || starts(op, "rules.") || starts(op, "journal."))
		return;               /* local to the property */
	if (starts(op, "feedback.")) {
		nt.kind = NOTE_FEEDBACK;
		nt.object = *object;
	} else if (strcmp(op, "guest.erase") == 0) {
		nt.kind = NOTE_ERASE;
	} else if (strcmp(op, "guest.not_duplicate") == 0) {
		nt.kind = NOTE_MARK;
	} else if ((strcmp(op, "guest.merge") == 0 || strcmp(op, "guest.unmerge") == 0) && keep) {
		nt.kind = op[6] == 'm' ? NOTE_MERGE : NOTE_UNMERGE;
		if (pf_id_parse(&nt.keep, keep))
			return;
	} else
		nt.kind = NOTE_GUEST;
	if (pf_id_is_zero(guest))
		return;
	nt.guest = *guest;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		note *nn = realloc(c->notes, cap * sizeof *nn);
		if (!nn) {
			c->failed = true;
			return;
		}
		c->notes = nn;
		c->cap = cap;
	}
	c->notes[c->n++] = nt;
}

static void txn_begin(pf_db *db)
{
	db->chain->n = 0;
	db->chain->failed = false;
}

/* ------------------------------------------------------------------ */
/* The hybrid logical clock                                             */
/* ------------------------------------------------------------------ */

static uint64_t physical(pf_db *db)
{
	pf_time t = pf_now(db);
	return t > 0 ? (uint64_t)t << PF_CHAIN_HLC_SHIFT : 0;
}

int pf_chain_tick(MDB_txn *txn, pf_db *db, pf_stamp *st)
{
	uint64_t last;
	int rc = pf_chain_get_u64(txn, db, "hlc", &last);
	if (rc)
		return rc;
	uint64_t pt = physical(db), now = pt > last ? pt : last + 1;
	memset(st, 0, sizeof *st);
	st->hlc = now;
	strcpy(st->prop, db->property);
	return pf_chain_put_u64(txn, db, "hlc", now);
}

int pf_chain_observe(MDB_txn *txn, pf_db *db, uint64_t hlc)
{
	uint64_t last;
	int rc = pf_chain_get_u64(txn, db, "hlc", &last);
	if (rc || hlc <= last)
		return rc;
	return pf_chain_put_u64(txn, db, "hlc", hlc);
}

/* ------------------------------------------------------------------ */
/* Recording changes                                                    */
/* ------------------------------------------------------------------ */

/* The deltas of one commit, one per guest, emitted as changes at the end. */
typedef struct delta {
	pf_id id;
	pf_cguest g;
} delta;

typedef struct commit {
	pf_stamp st;
	delta *d;
	size_t n;
} commit;

static pf_cguest *delta_for(commit *cm, const pf_id *id, int *rc)
{
	for (size_t i = 0; i < cm->n; i++)
		if (memcmp(cm->d[i].id.b, id->b, ID_LEN) == 0)
			return &cm->d[i].g;
	delta *nd = realloc(cm->d, (cm->n + 1) * sizeof *nd);
	if (!nd) {
		*rc = pf_fail(PF_ENOMEM, "out of memory");
		return NULL;
	}
	cm->d = nd;
	memset(&nd[cm->n], 0, sizeof nd[cm->n]);
	nd[cm->n].id = *id;
	return &nd[cm->n++].g;
}

static int emit(MDB_txn *txn, pf_db *db, pf_cchange *c)
{
	uint64_t seq;
	int rc = pf_chain_get_u64(txn, db, "seq", &seq);
	if (rc)
		return rc;
	c->seq = seq + 1;
	strcpy(c->origin, db->property);
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	unsigned char k[9];
	k[0] = 'c';
	pf_be64_put(k + 1, c->seq);
	if ((rc = pf_cchange_encode(&sb, c)) == 0 &&
	    (rc = pf_chain_put(txn, db, k, sizeof k, sb.data, sb.size)) == 0)
		rc = pf_chain_put_u64(txn, db, "seq", c->seq);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* Join a delta into guest id's registers (keeping the alias index) and
 * store them. */
int pf_chain_absorb(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_cguest *d,
                    pf_id *old_target, bool *had_old, bool *alias_changed)
{
	pf_cguest g;
	bool erased;
	*alias_changed = *had_old = false;
	int rc = pf_chain_erased(txn, db, id, &erased);
	if (rc)
		return rc;
	if (erased) {
		/* Only the alias register of an erased guest lives on, in its
		 * tombstone: where its feedback belongs. */
		pf_creg al;
		uint64_t when;
		if (!d->alias.set || (rc = pf_chain_tombstone_get(txn, db, id, &when, &al)))
			return rc;
		if (!al.set || pf_stamp_cmp(&al.st, &d->alias.st) < 0) {
			pf_id nt;
			bool has = d->alias.len == (size_t)ID_LEN;
			*had_old = al.set && al.len == (size_t)ID_LEN;
			if (*had_old)
				memcpy(old_target->b, al.val, ID_LEN);
			if (has)
				memcpy(nt.b, d->alias.val, ID_LEN);
			*alias_changed = true;
			if ((rc = pf_chain_tombstone_put(txn, db, id, when, &d->alias)) == 0)
				rc = pf_chain_alias_index(txn, db, *had_old ? old_target : NULL,
				                          has ? &nt : NULL, id);
		}
		pf_creg_clear(&al);
		return rc;
	}
	if ((rc = pf_cguest_load(txn, db, id, &g)))
		return rc;
	*had_old = g.alias.set && g.alias.len == (size_t)ID_LEN;
	if (*had_old)
		memcpy(old_target->b, g.alias.val, ID_LEN);
	if ((rc = pf_cguest_join(&g, d, alias_changed)))
		goto out;
	if (*alias_changed) {
		pf_id nt;
		bool has_new = g.alias.len == (size_t)ID_LEN;
		if (has_new)
			memcpy(nt.b, g.alias.val, ID_LEN);
		if ((rc = pf_chain_alias_index(txn, db, *had_old ? old_target : NULL,
		                               has_new ? &nt : NULL, id)))
			goto out;
	}
	rc = pf_cguest_store(txn, db, id, &g);
out:
	pf_cguest_clear(&g);
	return rc;
}

/* Blob helpers: encode into sb (reset), then compare with / set a register. */
static int diff_reg(pf_creg *dst, const pf_creg *have, msgpack_sbuffer *sb,
                    const pf_stamp *st)
{
	if (pf_creg_is(have, sb->data, sb->size))
		return 0;
	return pf_creg_set(dst, st, sb->data, sb->size);
}

static int dead_reg(pf_creg *dst, const pf_creg *have, const pf_stamp *st)
{
	if (!have->set || have->len == 0)
		return 0;
	return pf_creg_set(dst, st, NULL, 0);
}

/* The differences between the stored profile of root and its registers,
 * as registers stamped st in *d. */
static int diff_guest(MDB_txn *txn, pf_db *db, const pf_id *root, const pf_stamp *st,
                      pf_cguest *d)
{
	pf_chain_group g;
	pf_guest_rec *a = NULL;
	bool found = false;
	pf_vec sa = PF_VEC_INIT(sizeof(pf_chain_stay));
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	int rc = pf_chain_group_load(txn, db, root, &g, false);
	if (rc)
		return rc;
	if (g.erased)
		goto out;
	pf_cguest *j = &g.joined;
	if ((rc = pf_guest_load_if(&a, txn, db, root, &found)))
		goto out;
	if (!found) {
		rc = dead_reg(&d->f[PF_CF_NAME], &j->f[PF_CF_NAME], st);
		goto out;
	}
	for (int i = 0; rc == 0 && i < PF_CF_COUNT; i++) {
		sb.size = 0;
		if ((rc = pf_chain_field_blob(&sb, a, i)) == 0)
			rc = diff_reg(&d->f[i], &j->f[i], &sb, st);
	}
	/* Preferences: the stored ones, then categories only the registers have. */
	for (size_t i = 0; rc == 0 && i < a->g.pref_count; i++) {
		const pf_pref *p = &a->prefs[i];
		int r0 = 0;
		pf_cpref *jp = pf_cguest_pref(j, p->category, false, &r0);
		pf_cpref empty;
		memset(&empty, 0, sizeof empty);
		if (!jp)
			jp = &empty;
		pf_cpref *dp = pf_cguest_pref(d, p->category, true, &rc);
		if (!dp)
			break;
		sb.size = 0;
		if (p->kind == PF_NEED) {
			if ((rc = pf_chain_need_blob(&sb, p)) == 0)
				rc = diff_reg(&dp->need, &jp->need, &sb, st);
		} else {
			if ((rc = dead_reg(&dp->need, &jp->need, st)) == 0 &&
			    (rc = pf_chain_like_blob(&sb, p)) == 0)
				rc = diff_reg(&dp->like, &jp->like, &sb, st);
		}
		unsigned char key[1 + PF_VALUE_MAX];
		size_t kl = pf_chain_count_key(key, sizeof key, p);
		int64_t sum = pf_chain_group_count(&g, p->category, key, kl);
		if (rc == 0 && sum != (int64_t)p->count) {
			/* This property's counter in root's own registers takes the
			 * difference (the other properties' counts stay theirs). */
			int64_t own = 0;
			pf_cpref *rp = pf_cguest_pref(&g.members[0], p->category, false, &r0);
			for (size_t k = 0; rp && k < rp->ncount; k++)
				if (strcmp(rp->counts[k].st.prop, st->prop) == 0 &&
				    rp->counts[k].klen == kl && memcmp(rp->counts[k].key, key, kl) == 0)
					own = rp->counts[k].n;
			rc = pf_ccount_set(dp, st, key, kl, own + (int64_t)p->count - sum);
		}
	}
	for (size_t i = 0; rc == 0 && i < j->npref; i++) {
		const pf_cpref *jp = &j->prefs[i];
		bool stored = false;
		for (size_t k = 0; k < a->g.pref_count && !stored; k++)
			stored = strcmp(a->prefs[k].category, jp->category) == 0;
		if (stored || ((!jp->need.set || !jp->need.len) && (!jp->like.set || !jp->like.len)))
			continue;
		pf_cpref *dp = pf_cguest_pref(d, jp->category, true, &rc);
		if (dp && (rc = dead_reg(&dp->need, &jp->need, st)) == 0)
			rc = dead_reg(&dp->like, &jp->like, st);
	}
	/* Stays. */
	if (rc == 0)
		rc = pf_chain_stays_stored(txn, db, root, &sa);
	for (size_t i = 0; rc == 0 && i < sa.n; i++) {
		int r0 = 0;
		const pf_chain_stay *a_s = pf_vec_at(&sa, i);
		pf_cstay *js = pf_cguest_stay(j, a_s->arrival, false, &r0);
		if (js && pf_creg_is(&js->r, a_s->val, a_s->len))
			continue;
		pf_cstay *ds = pf_cguest_stay(d, a_s->arrival, true, &rc);
		if (ds)
			rc = pf_creg_set(&ds->r, st, a_s->val, a_s->len);
	}
	for (size_t i = 0; rc == 0 && i < j->nstay; i++) {
		bool stored = false;
		for (size_t k = 0; k < sa.n && !stored; k++)
			stored = ((const pf_chain_stay *)pf_vec_at(&sa, k))->arrival ==
			         j->stays[i].arrival;
		if (stored || !j->stays[i].r.set || !j->stays[i].r.len)
			continue;
		pf_cstay *ds = pf_cguest_stay(d, j->stays[i].arrival, true, &rc);
		if (ds)
			rc = pf_creg_set(&ds->r, st, NULL, 0);
	}
out:
	pf_chain_stays_free(&sa);
	msgpack_sbuffer_destroy(&sb);
	pf_guest_rec_free(a);
	pf_chain_group_clear(&g);
	return rc;
}

/* The stored feedback record id against its register; a difference is
 * recorded and emitted. */
static int diff_feedback(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_stamp *st)
{
	pf_feedback_rec a;
	pf_creg reg;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	memset(&reg, 0, sizeof reg);
	int rc = pf_feedback_load(txn, db, id, &a);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if ((rc = pf_cfeedback_load(txn, db, id, &reg)) || (rc = pf_chain_feedback_blob(&sb, &a)))
		goto out;
	if (reg.set) {
		/* Equal when only the guest differs by an alias (a merge moved it). */
		pf_feedback_rec r;
		if ((rc = pf_codec_feedback_decode(&r, reg.val, reg.len)))
			goto out;
		pf_id root;
		rc = pf_chain_root(txn, db, &r.f.guest, &root);
		r.f.guest = root;
		msgpack_sbuffer sb2;
		msgpack_sbuffer_init(&sb2);
		bool same = rc == 0 && pf_chain_feedback_blob(&sb2, &r) == 0 && sb2.size == sb.size &&
		            memcmp(sb2.data, sb.data, sb.size) == 0;
		msgpack_sbuffer_destroy(&sb2);
		pf_feedback_rec_clear(&r);
		if (rc || same)
			goto out;
	}
	if ((rc = pf_creg_set(&reg, st, sb.data, sb.size)) ||
	    (rc = pf_cfeedback_store(txn, db, id, &reg)))
		goto out;
	pf_cchange c;
	memset(&c, 0, sizeof c);
	c.kind = PF_CHANGE_FEEDBACK;
	c.id = *id;
	c.hlc = st->hlc;
	c.fb = reg;
	rc = emit(txn, db, &c);
out:
	pf_creg_clear(&reg);
	pf_feedback_rec_clear(&a);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static bool seen(const pf_id *ids, size_t n, const pf_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(ids[i].b, id->b, ID_LEN) == 0)
			return true;
	return false;
}

static int precommit(MDB_txn *txn, pf_db *db)
{
	struct pf_chain_txn *c = db->chain;
	if (c->failed)
		return pf_fail(PF_ENOMEM, "out of memory");
	if (c->applying || c->n == 0)
		return 0;
	commit cm = { .n = 0 };
	pf_id *roots = NULL;
	size_t nroots = 0;
	pf_idvec leave = { NULL, 0, 0 };   /* profiles to write again, without a diff */
	int rc = pf_chain_tick(txn, db, &cm.st);

	/* Erasures, merges and unmerges first: they decide the roots. */
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const note *nt = &c->notes[i];
		if (nt->kind == NOTE_ERASE) {
			/* The erasure names every guest it takes (those merged into
			 * this one, here and now), so that everywhere erases the same. */
			pf_cchange x;
			memset(&x, 0, sizeof x);
			x.kind = PF_CHANGE_ERASE;
			x.id = nt->guest;
			x.hlc = cm.st.hlc;
			pf_id *was_in = NULL;      /* profiles they were merged into */
			size_t nwas = 0;
			if ((rc = pf_chain_erase_set(txn, db, &nt->guest, &x.erased, &x.nerased)) == 0 &&
			    !(was_in = malloc(x.nerased * sizeof *was_in)))
				rc = pf_fail(PF_ENOMEM, "out of memory");
			if (rc == 0)
				rc = pf_chain_tombstone(txn, db, x.erased, x.nerased, cm.st.hlc, was_in,
				                        &nwas);
			for (size_t k = 0; rc == 0 && k < nwas; k++)
				if (pf_idvec_add_unique(&leave, &was_in[k]))
					rc = pf_fail(PF_ENOMEM, "out of memory");
			if (rc == 0)
				rc = emit(txn, db, &x);
			free(was_in);
			free(x.erased);
		} else if ((nt->kind == NOTE_MERGE || nt->kind == NOTE_UNMERGE) &&
		           memcmp(nt->guest.b, nt->keep.b, ID_LEN) != 0) {
			pf_cguest *d = delta_for(&cm, &nt->guest, &rc);
			if (!d)
				break;
			if (nt->kind == NOTE_MERGE)
				rc = pf_creg_set(&d->alias, &cm.st, nt->keep.b, ID_LEN);
			else
				rc = pf_creg_set(&d->alias, &cm.st, NULL, 0);
			pf_id old, before;
			bool had, changed;
			if (rc == 0)
				rc = pf_chain_root(txn, db, &nt->guest, &before);
			if (rc == 0)
				rc = pf_chain_absorb(txn, db, &nt->guest, d, &old, &had, &changed);
			/* The profile the guest leaves (merged into it elsewhere) is
			 * written again from its registers, without a diff: its stored
			 * record still holds what the guest brought. */
			if (rc == 0 && pf_idvec_add_unique(&leave, &before))
				rc = pf_fail(PF_ENOMEM, "out of memory");
		}
	}
	/* Not-duplicate marks: those stored and not yet in the registers. */
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const note *nt = &c->notes[i];
		if (nt->kind != NOTE_MARK)
			continue;
		pf_id *others = NULL;
		size_t no = 0;
		pf_cguest have;
		pf_cguest *d = delta_for(&cm, &nt->guest, &rc);
		if (!d || (rc = pf_merge_marks_of(txn, db, &nt->guest, &others, &no)))
			break;
		if ((rc = pf_cguest_load(txn, db, &nt->guest, &have)) == 0) {
			for (size_t k = 0; rc == 0 && k < no; k++) {
				bool added;
				if ((rc = pf_cguest_mark(&have, &others[k], &added)) == 0 && added)
					rc = pf_cguest_mark(d, &others[k], &added);
			}
			pf_cguest_clear(&have);
		}
		free(others);
		pf_id old;
		bool had, changed;
		if (rc == 0 && d->nmark)
			rc = pf_chain_absorb(txn, db, &nt->guest, d, &old, &had, &changed);
	}
	/* Feedback before profiles: the complaint counts follow from it. */
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		if (c->notes[i].kind == NOTE_FEEDBACK)
			rc = diff_feedback(txn, db, &c->notes[i].object, &cm.st);
	if (rc == 0 && !(roots = malloc(c->n * 2 * sizeof *roots)))
		rc = pf_fail(PF_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		const note *nt = &c->notes[i];
		if (nt->kind == NOTE_ERASE)
			continue;
		pf_id r;
		for (int w = 0; rc == 0 && w < 1 + (nt->kind == NOTE_MERGE || nt->kind == NOTE_UNMERGE);
		     w++) {
			if ((rc = pf_chain_root(txn, db, w ? &nt->keep : &nt->guest, &r)))
				break;
			if (!seen(roots, nroots, &r))
				roots[nroots++] = r;
		}
	}
	for (size_t i = 0; rc == 0 && i < nroots; i++) {
		/* Its feedback first: a write to the profile may have changed it
		 * without a note of its own (retention strips its texts). */
		pf_id *fids = NULL;
		size_t nf = 0;
		rc = pf_feedback_ids_of_guest(txn, db, &roots[i], &fids, &nf);
		for (size_t f = 0; rc == 0 && f < nf; f++)
			rc = diff_feedback(txn, db, &fids[f], &cm.st);
		free(fids);
		if (rc)
			break;
		pf_cguest *d = delta_for(&cm, &roots[i], &rc);
		if (!d || (rc = diff_guest(txn, db, &roots[i], &cm.st, d)))
			break;
		pf_id old;
		bool had, changed;
		if (!pf_cguest_empty(d))
			rc = pf_chain_absorb(txn, db, &roots[i], d, &old, &had, &changed);
		if (rc == 0)
			rc = pf_chain_materialize(txn, db, &roots[i]);
	}
	for (size_t i = 0; rc == 0 && i < leave.n; i++) {
		pf_id r;
		if ((rc = pf_chain_root(txn, db, &leave.ids[i], &r)) == 0 && !seen(roots, nroots, &r))
			rc = pf_chain_materialize(txn, db, &r);
	}
	for (size_t i = 0; rc == 0 && i < cm.n; i++) {
		if (pf_cguest_empty(&cm.d[i].g))
			continue;
		pf_cchange ch;
		memset(&ch, 0, sizeof ch);
		ch.kind = PF_CHANGE_GUEST;
		ch.id = cm.d[i].id;
		ch.hlc = cm.st.hlc;
		ch.g = cm.d[i].g;
		rc = emit(txn, db, &ch);
	}
	for (size_t i = 0; i < cm.n; i++)
		pf_cguest_clear(&cm.d[i].g);
	free(cm.d);
	free(roots);
	pf_idvec_free(&leave);
	return rc;
}

void pf_chain_setup(pf_db *db, bool naming)
{
	if (db->chain || (!db->property[0] && !naming) || (db->opts.flags & PF_OPEN_READONLY))
		return;
	struct pf_chain_txn *c = calloc(1, sizeof *c);
	if (!c)
		return;               /* pf_chain_ready reports it */
	db->chain = c;
	db->txn_begin = txn_begin;
	db->precommit = precommit;
}

int pf_chain_ready(pf_db *db, bool naming)
{
	if ((db->property[0] || naming) && !(db->opts.flags & PF_OPEN_READONLY) && !db->chain)
		return pf_seterr(PF_ENOMEM, "pf_open: out of memory");
	return 0;
}

void pf_chain_teardown(pf_db *db)
{
	if (!db->chain)
		return;
	free(db->chain->notes);
	free(db->chain);
	db->chain = NULL;
	db->precommit = NULL;
	db->txn_begin = NULL;
}

void pf_chain_applying(pf_db *db, bool on)
{
	if (db->chain) {
		db->chain->applying = on;
		db->chain->n = 0;
	}
}

/* ------------------------------------------------------------------ */
/* Public readers                                                       */
/* ------------------------------------------------------------------ */

static int need_property(pf_db *db)
{
	if (!db->property[0])
		return pf_fail(PF_EINVAL, "the database has no property name; open it with "
		               "pf_options.property to take part in a chain");
	return 0;
}

struct read_args {
	uint64_t after;
	size_t max;
	pf_change_list *list;
	size_t cap;
};

static int read_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct read_args *a = ctx;
	pf_change_list *l = a->list;
	if (l->count == a->max)
		return 1;
	if (k->mv_size != 9)
		return pf_fail(PF_ECORRUPT, "corrupt key in 'chain': a change key of %zu bytes",
		               k->mv_size);
	unsigned char *b = malloc(v->mv_size ? v->mv_size : 1);
	if (!b)
		return pf_fail(PF_ENOMEM, "out of memory");
	memcpy(b, v->mv_data, v->mv_size);
	l->items[l->count].seq = pf_be64_get((const unsigned char *)k->mv_data + 1);
	l->items[l->count].data = b;
	l->items[l->count].len = v->mv_size;
	l->count++;
	return 0;
}

static int read_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct read_args *a = arg;
	for (size_t i = 0; i < a->list->count; i++)
		free((void *)a->list->items[i].data);
	a->list->count = 0;
	unsigned char start[9];
	start[0] = 'c';
	pf_be64_put(start + 1, a->after + 1);
	int rc = pf_chain_each_from(txn, db, start, sizeof start, 1, read_one, a);
	return rc == 1 ? 0 : rc;
}

void pf_change_list_free(pf_change_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free((void *)list->items[i].data);
	free(list->items);
	free(list);
}

int pf_changes_read(pf_change_list **out, pf_db *db, uint64_t after, size_t max)
{
	pf_api_enter("pf_changes_read");
	if (out)
		*out = NULL;
	if (!out || !db)
		return pf_fail(PF_EINVAL, "%s is NULL", out ? "db" : "out");
	if (max == 0 || max > PF_CHANGES_MAX)
		return pf_fail(PF_EINVAL, "max is %zu (1 to %d)", max, PF_CHANGES_MAX);
	int rc = need_property(db);
	if (rc)
		return rc;
	pf_change_list *l = calloc(1, sizeof *l);
	struct read_args a = { after, max, l, max };
	if (!l || !(l->items = calloc(max, sizeof *l->items))) {
		free(l);
		return pf_fail(PF_ENOMEM, "out of memory");
	}
	if ((rc = pf_store_read(db, read_txn, &a))) {
		pf_change_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

struct u64_args {
	const char *name;
	uint64_t v;
};

static int u64_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct u64_args *a = arg;
	return pf_chain_get_u64(txn, db, a->name, &a->v);
}

static int read_counter(uint64_t *out, pf_db *db, const char *name, bool need_prop)
{
	if (!out || !db)
		return pf_fail(PF_EINVAL, "%s is NULL", out ? "db" : "the output");
	int rc = need_prop ? need_property(db) : 0;
	struct u64_args a = { name, 0 };
	if (rc == 0)
		rc = pf_store_read(db, u64_txn, &a);
	*out = rc ? 0 : a.v;
	return rc;
}

int pf_changes_last(uint64_t *seq, pf_db *db)
{
	pf_api_enter("pf_changes_last");
	return read_counter(seq, db, "seq", true);
}

int pf_chain_published(uint64_t *seq, pf_db *db)
{
	pf_api_enter("pf_chain_published");
	return read_counter(seq, db, "published", true);
}

int pf_chain_epoch(uint64_t *epoch, pf_db *db)
{
	pf_api_enter("pf_chain_epoch");
	return read_counter(epoch, db, "epoch", false);
}

static int set_published_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	uint64_t seq = *(uint64_t *)arg, last;
	int rc = pf_chain_get_u64(txn, db, "seq", &last);
	if (rc)
		return rc;
	if (seq > last)
		return pf_fail(PF_EINVAL, "sequence number %llu is beyond this property's last "
		               "change (%llu)", (unsigned long long)seq, (unsigned long long)last);
	return pf_chain_put_u64(txn, db, "published", seq);
}

int pf_chain_set_published(pf_db *db, uint64_t seq)
{
	pf_api_enter("pf_chain_set_published");
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	int rc = need_property(db);
	return rc ? rc : pf_store_write(db, set_published_txn, &seq);
}

int pf_chain_mark_get(MDB_txn *txn, pf_db *db, const char *origin, uint64_t *seq)
{
	if (strcmp(origin, db->property) == 0)
		return pf_chain_get_u64(txn, db, "seq", seq);
	unsigned char k[1 + PF_PROPERTY_MAX];
	size_t n = strlen(origin);
	MDB_val v;
	k[0] = 'w';
	memcpy(k + 1, origin, n);
	*seq = 0;
	int rc = pf_chain_get(txn, db, k, n + 1, &v);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != 8)
		return pf_fail(PF_ECORRUPT, "corrupt record in 'chain': high-water mark");
	*seq = pf_be64_get(v.mv_data);
	return 0;
}

int pf_chain_mark_put(MDB_txn *txn, pf_db *db, const char *origin, uint64_t seq)
{
	if (strcmp(origin, db->property) == 0)
		return pf_chain_put_u64(txn, db, "seq", seq);
	unsigned char k[1 + PF_PROPERTY_MAX], b[8];
	size_t n = strlen(origin);
	k[0] = 'w';
	memcpy(k + 1, origin, n);
	pf_be64_put(b, seq);
	return pf_chain_put(txn, db, k, n + 1, b, 8);
}

struct mark_args {
	const char *origin;
	uint64_t seq;
};

static int mark_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct mark_args *a = arg;
	return pf_chain_mark_get(txn, db, a->origin, &a->seq);
}

int pf_chain_mark(uint64_t *seq, pf_db *db, const char *origin)
{
	pf_api_enter("pf_chain_mark");
	if (!seq || !db || !origin)
		return pf_fail(PF_EINVAL, "%s is NULL", !seq ? "seq" : !db ? "db" : "origin");
	*seq = 0;
	int rc = pf_check_property("origin", origin);
	struct mark_args a = { origin, 0 };
	if (rc == 0)
		rc = pf_store_read(db, mark_txn, &a);
	if (rc == 0)
		*seq = a.seq;
	return rc;
}

int pf_change_origin(char origin[PF_PROPERTY_MAX + 1], uint64_t *seq,
                     const unsigned char *data, size_t len)
{
	pf_api_enter("pf_change_origin");
	if (!origin || !seq || !data)
		return pf_fail(PF_EINVAL, "%s is NULL", !origin ? "origin" : !seq ? "seq" : "data");
	pf_cchange c;
	int rc = pf_cchange_decode(&c, data, len);
	if (rc)
		return rc;
	strcpy(origin, c.origin);
	*seq = c.seq;
	pf_cchange_clear(&c);
	return 0;
}

/* Rejoin (db.c's pf_chain_rejoin): the registers and marks of the backup
 * stay; this property's sequence continues after what the backup had of
 * it; the backup's own changes are left to their origin. */
int pf_chain_rejoin_txn(MDB_txn *txn, pf_db *db, const char *property)
{
	uint64_t mine = 0, theirs = 0, epoch = 0;
	unsigned char k[1 + PF_PROPERTY_MAX];
	size_t n = strlen(property);
	int rc;
	if ((rc = pf_chain_mark_get(txn, db, property, &mine)) ||
	    (rc = pf_chain_get_u64(txn, db, "seq", &theirs)) ||
	    (rc = pf_chain_get_u64(txn, db, "epoch", &epoch)))
		return rc;
	if (db->property[0] && strcmp(db->property, property) != 0) {
		/* the backup's own name becomes an origin like any other */
		unsigned char b[8];
		size_t on = strlen(db->property);
		k[0] = 'w';
		memcpy(k + 1, db->property, on);
		pf_be64_put(b, theirs);
		rc = pf_chain_put(txn, db, k, on + 1, b, 8);
	}
	k[0] = 'w';
	memcpy(k + 1, property, n);
	if (rc == 0)
		rc = pf_chain_del(txn, db, k, n + 1);
	if (rc == 0)
		rc = pf_chain_del_prefix(txn, db, "c", 1);
	if (rc == 0)
		rc = pf_chain_put_u64(txn, db, "seq", mine);
	if (rc == 0)
		rc = pf_chain_put_u64(txn, db, "published", mine);
	if (rc == 0)
		rc = pf_chain_put_u64(txn, db, "epoch", epoch + 1);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Seeding: what a database held before it was named                    */
/* ------------------------------------------------------------------ */

static int seed_guest(void *ctx, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	pf_db *db = ctx;
	pf_id id, zero;
	memset(&zero, 0, sizeof zero);
	if (k->mv_size != (size_t)ID_LEN)
		return 0;
	memcpy(id.b, k->mv_data, ID_LEN);
	pf_chain_note(db, "guest.put", &id, &zero, NULL);
	return db->chain->failed ? pf_fail(PF_ENOMEM, "out of memory") : 0;
}

static int seed_feedback(void *ctx, const MDB_val *k, const MDB_val *v)
{
	pf_db *db = ctx;
	pf_feedback_rec r;
	pf_id id;
	memcpy(id.b, k->mv_data, ID_LEN);
	int rc = pf_codec_feedback_decode(&r, v->mv_data, v->mv_size);
	if (rc)
		return rc;
	pf_chain_note(db, "feedback.add", &r.f.guest, &id, NULL);
	pf_feedback_rec_clear(&r);
	return db->chain->failed ? pf_fail(PF_ENOMEM, "out of memory") : 0;
}

int pf_chain_seed_txn(MDB_txn *txn, pf_db *db)
{
	if (!db->chain)
		return 0;
	uint64_t seeded;
	int rc = pf_chain_get_u64(txn, db, "seeded", &seeded);
	if (rc || seeded)
		return rc;
	if ((rc = pf_guest_each_raw(txn, db, seed_guest, db)) ||
	    (rc = pf_feedback_each_raw(txn, db, seed_feedback, db)))
		return rc;
	return pf_chain_put_u64(txn, db, "seeded", 1);
}

static int seed_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	(void)arg;
	return pf_chain_seed_txn(txn, db);
}

static int seeded_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	return pf_chain_get_u64(txn, db, "seeded", arg);
}

int pf_chain_seed(pf_db *db)
{
	if (!db->chain)
		return 0;
	uint64_t seeded = 0;
	int rc = pf_store_read(db, seeded_txn, &seeded);
	if (rc || seeded)
		return rc;
	return pf_store_write(db, seed_txn, NULL);
}
