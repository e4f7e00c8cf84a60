/*
 * erase.c — personal data going away: pf_guest_erase (right to be
 * forgotten), pf_retention_run (anonymise profiles with no recent stay)
 * and pf_guest_set_consent.
 *
 * An erasure is one write transaction over everything that holds the
 * person: the guest record and its indexes (guest.c), its stays
 * (stay.c), prompts (tombstoned here through prompt.c's load/rewrite),
 * feedback (feedback.c), journal entries (journal.c) and merge records
 * (merge.c).  Retention strips the profile instead of deleting it and
 * keeps the stays, but tombstones the rest through the same two helpers
 * as an erasure (erase_traces, erase_prompts).
 *
 * Owns no database: every record is reached through its owner's
 * functions.  Calls store.c (transactions only), codec.c, text.c,
 * guest.c, stay.c, merge.c, prompt.c, feedback.c, journal.c, and
 * change.c's pf_chain_note (the profiles an erasure takes, for a chain).
 */
#include "error.h"
#include "text.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "stay.h"
#include "prompt.h"
#include "journal.h"
#include "merge.h"
#include "feedback.h"
#include "erase.h"
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERASED "[erased]"
#define ANONYMISED "[anonymised]"
#define DAY_SECONDS 86400
/* Profiles anonymised per write transaction by pf_retention_run. */
#define RETENTION_BATCH 500

static int check_actor(const char *actor)
{
	int rc = pf_check_text("actor", actor, PF_JOURNAL_ACTOR_MAX, false);
	if (rc == 0 && actor && !*actor)
		rc = pf_fail(PF_EINVAL, "actor is empty (pass NULL when not known)");
	return rc;
}

/* Replace *s (malloc'd, non-NULL) with the tombstone; true if it changed. */
static int tombstone(const char **s, bool *changed)
{
	if (!*s || strcmp(*s, ERASED) == 0)
		return 0;
	if (pf_str_set(s, ERASED))
		return pf_fail(PF_ENOMEM, "out of memory");
	*changed = true;
	return 0;
}

/* Tombstone the personal text of every prompt of guests[0..n) (found
 * through prompt.c's per-guest index): what the prompt said (it may quote
 * the name or a preference) and who acted. */
static int erase_prompts(MDB_txn *txn, pf_db *db, const pf_id *guests, size_t n,
                         size_t *count)
{
	pf_id *ids = NULL;
	size_t nids = 0;
	pf_prompt p;
	int rc = pf_prompts_of_guests(txn, db, guests, n, &ids, &nids);
	memset(&p, 0, sizeof p);
	for (size_t i = 0; rc == 0 && i < nids; i++) {
		bool changed = false;
		if ((rc = pf_prompt_load(txn, db, &ids[i], &p)))
			break;
		if (!p.text && !(p.text = strdup(ERASED)))
			rc = pf_fail(PF_ENOMEM, "out of memory");
		if (rc == 0 && (rc = tombstone(&p.text, &changed)) == 0 &&
		    (rc = tombstone(&p.ack_by, &changed)) == 0 &&
		    (rc = tombstone(&p.done_by, &changed)) == 0 &&
		    (rc = tombstone(&p.dismiss_reason, &changed)) == 0 && changed)
			rc = pf_prompt_rewrite(txn, db, &p);
		pf_prompt_clear(&p);
	}
	if (count)
		*count = nids;
	free(ids);
	return rc;
}

/* Feedback (pf_feedback_erase_guest: text, resolution and staff names
 * become "[erased]"), journal entries and merge records of one person
 * (`guest` and every profile merged into it), for erasure and retention
 * alike.  *people receives them, guest first. */
static int erase_traces(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **people,
                        size_t *n)
{
	int rc = pf_merge_forget_guest(txn, db, guest, people, n);
	for (size_t i = 0; rc == 0 && i < *n; i++)
		if ((rc = pf_feedback_erase_guest(txn, db, &(*people)[i])) == 0)
			rc = pf_journal_erase_guest(txn, db, &(*people)[i]);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Erase                                                                */
/* ------------------------------------------------------------------ */

#define ERASE "pf_guest_erase"

static int erase_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	const pf_id *guest = arg;
	pf_guest_rec *r = NULL;
	pf_id *people = NULL;
	size_t npeople = 0, nstays = 0, nprompts = 0;
	int rc;

	if ((rc = pf_guest_load(&r, txn, db, guest)))
		goto out;
	if ((rc = pf_guest_reindex(txn, db, r, NULL)) ||
	    (rc = pf_guest_del_record(txn, db, guest)) ||
	    (rc = pf_stays_delete(txn, db, guest, &nstays)))
		goto out;
	if ((rc = erase_traces(txn, db, guest, &people, &npeople)) ||
	    (rc = erase_prompts(txn, db, people, npeople, &nprompts)))
		goto out;
	/* A chain's other properties erase each profile this person had here
	 * (change.c names them in the erasure it sends). */
	for (size_t i = 1; i < npeople; i++)
		pf_chain_note(db, "guest.erase", &people[i], &people[i], NULL);

	char merged[24], stays[24], prompts[24];
	snprintf(merged, sizeof merged, "%zu", npeople - 1);
	snprintf(stays, sizeof stays, "%zu", nstays);
	snprintf(prompts, sizeof prompts, "%zu", nprompts);
	pf_journal_field f[] = {
		{ "stays", stays }, { "prompts", prompts }, { "merged_profiles", merged },
	};
	pf_jentry e = { "guest.erase", NULL, *guest, { { 0 } }, NULL, f, sizeof f / sizeof f[0] };
	rc = pf_journal_append(txn, db, &e);
out:
	free(people);
	pf_guest_rec_free(r);
	return rc;
}

int pf_erase_profile_txn(MDB_txn *txn, pf_db *db, const pf_id *guest)
{
	pf_guest_rec *r = NULL;
	bool found;
	size_t nstays = 0, nprompts = 0;
	int rc = pf_guest_load_if(&r, txn, db, guest, &found);
	if (rc == 0 && found && (rc = pf_guest_reindex(txn, db, r, NULL)) == 0 &&
	    (rc = pf_guest_del_record(txn, db, guest)) == 0)
		rc = pf_stays_delete(txn, db, guest, &nstays);
	pf_guest_rec_free(r);
	if (rc == 0)
		rc = pf_merge_forget_profile(txn, db, guest);
	if (rc == 0)
		rc = pf_feedback_erase_guest(txn, db, guest);
	if (rc == 0)
		rc = pf_journal_erase_guest(txn, db, guest);
	if (rc == 0)
		rc = erase_prompts(txn, db, guest, 1, &nprompts);
	return rc;
}

int pf_guest_erase(pf_db *db, const pf_id *guest)
{
	pf_api_enter("pf_guest_erase");
	if (!db)
		return pf_seterr(PF_EINVAL, ERASE ": db is NULL");
	int rc = pf_check_id("guest", guest, "no guest");
	if (rc)
		return rc;
	return pf_store_write(db, erase_txn, (void *)guest);
}

/* ------------------------------------------------------------------ */
/* Consent                                                              */
/* ------------------------------------------------------------------ */

#define CONSENT "pf_guest_set_consent"

struct consent_args {
	const pf_id *guest;
	unsigned int consent;
	const char *actor;
	pf_time now;
};

static int consent_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct consent_args *a = arg;
	pf_guest_rec *r = NULL;
	int rc = pf_guest_load(&r, txn, db, a->guest);
	if (rc || r->g.consent == a->consent)
		goto out;
	pf_journal_field f[] = {
		{ "consent", pf_consent_text(a->consent) },
		{ "consent.old", pf_consent_text(r->g.consent) },
	};
	r->g.consent = a->consent;
	r->g.updated = a->now;
	if ((rc = pf_guest_save(txn, db, r)))
		goto out;
	pf_jentry e = { "guest.consent", a->actor, *a->guest, { { 0 } }, NULL, f, 2 };
	rc = pf_journal_append(txn, db, &e);
out:
	pf_guest_rec_free(r);
	return rc;
}

int pf_guest_set_consent(pf_db *db, const pf_id *guest, unsigned int consent, const char *actor)
{
	pf_api_enter("pf_guest_set_consent");
	if (!db)
		return pf_seterr(PF_EINVAL, CONSENT ": db is NULL");
	int rc;
	if ((rc = pf_check_id("guest", guest, "no guest")) ||
	    (rc = check_actor(actor)))
		return rc;
	if (consent & ~(PF_CONSENT_PROFILING | PF_CONSENT_MARKETING))
		return pf_seterr(PF_EINVAL, CONSENT ": unknown consent flags 0x%x", consent);
	struct consent_args a = { guest, consent, actor, pf_now(db) };
	return pf_store_write(db, consent_txn, &a);
}

/* ------------------------------------------------------------------ */
/* Retention                                                            */
/* ------------------------------------------------------------------ */

#define RETAIN "pf_retention_run"

static int64_t floor_day(pf_time t)
{
	int64_t d = t / DAY_SECONDS;
	return (t % DAY_SECONDS < 0) ? d - 1 : d;
}

static bool is_anonymised(const pf_guest_rec *r)
{
	return r->g.name && strcmp(r->g.name, ANONYMISED) == 0 && !r->g.email && !r->g.phone &&
	       !r->g.loyalty_no && !r->g.external_id && !r->g.country && !r->g.birth_date &&
	       !r->g.pref_count;
}

/* The day of the guest's last activity: the latest departure of its
 * stays, or the day it was created when it has none. */
struct latest_args {
	pf_date latest;
};

static int latest_departure(void *ctx, pf_date arrival, const MDB_val *v)
{
	struct latest_args *a = ctx;
	pf_stay s;
	(void)arrival;
	memset(&s, 0, sizeof s);
	int rc = pf_codec_stay_decode(&s, v->mv_data, v->mv_size);
	if (rc == 0 && s.departure > a->latest)
		a->latest = s.departure;
	pf_stay_clear(&s);
	return rc;
}

static int last_activity(MDB_txn *txn, pf_db *db, const pf_guest_rec *r, int64_t *out)
{
	struct latest_args a = { 0 };
	int rc = pf_stays_each(txn, db, &r->g.id, PF_STAYS_ANY_KEY, latest_departure, &a);
	if (rc == 0)
		*out = a.latest ? pf_date_days(a.latest) : floor_day(r->g.created);
	return rc;
}

struct retain_args {
	uint32_t days;
	int64_t today;
	const char *actor;
	pf_time now;
	/* scan */
	uint64_t examined;
	pf_id *ids;
	size_t n, cap;
	/* one batch */
	const pf_id *batch;
	size_t batch_n;
	uint64_t done;            /* anonymised by the batch's transaction */
	bool last;                /* the last batch also journals the run */
	uint64_t prior;           /* anonymised by the batches before it */
};

static int summary_txn(MDB_txn *txn, pf_db *db, void *arg);

static int expired(MDB_txn *txn, pf_db *db, struct retain_args *a, const pf_guest_rec *r,
                   bool *out)
{
	int64_t last = 0;
	int rc = last_activity(txn, db, r, &last);
	*out = rc == 0 && !is_anonymised(r) && a->today - last > (int64_t)a->days;
	return rc;
}

struct scan_ctx {
	MDB_txn *txn;
	pf_db *db;
	struct retain_args *a;
};

static int scan_one(void *ctx, const pf_guest_rec *r)
{
	struct scan_ctx *c = ctx;
	struct retain_args *a = c->a;
	bool old = false;
	int rc;
	a->examined++;
	if ((rc = expired(c->txn, c->db, a, r, &old)))
		return rc;
	if (old) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 64;
			pf_id *ids = realloc(a->ids, cap * sizeof *ids);
			if (!ids)
				return pf_seterr(PF_ENOMEM, RETAIN ": out of memory");
			a->ids = ids;
			a->cap = cap;
		}
		a->ids[a->n++] = r->g.id;
	}
	return 0;
}

static int scan_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct retain_args *a = arg;
	struct scan_ctx c = { txn, db, a };
	a->examined = 0;
	a->n = 0;
	return pf_guest_each(txn, db, scan_one, &c);
}

/* Strip a record down to what retention keeps. */
static int strip(pf_guest_rec *r)
{
	char *name = strdup(ANONYMISED);
	if (!name)
		return pf_seterr(PF_ENOMEM, RETAIN ": out of memory");
	free((char *)r->g.name);
	r->g.name = name;
	const char **fields[] = { &r->g.email, &r->g.phone, &r->g.language, &r->g.loyalty_no,
	                          &r->g.external_id, &r->g.country };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		free((char *)*fields[i]);
		*fields[i] = NULL;
	}
	r->g.birth_date = 0;
	for (size_t i = 0; i < r->g.tag_count; i++)
		free(r->tags[i]);
	free(r->tags);
	r->tags = NULL;
	r->g.tags = NULL;
	r->g.tag_count = 0;
	for (size_t i = 0; i < r->g.pref_count; i++)
		pf_pref_clear(&r->prefs[i]);
	free(r->prefs);
	r->prefs = NULL;
	r->g.prefs = NULL;
	r->g.pref_count = 0;
	r->pref_cap = 0;
	free(r->complaint_latest);
	r->complaint_latest = NULL;
	return 0;
}

/* One batch: strip each profile that is still expired, tombstone its
 * feedback, journal entries and merge records (erase_traces), then the
 * prompts of every person anonymised (erase_prompts). */
static int anonymise_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct retain_args *a = arg;
	pf_guest_rec *r = NULL;
	pf_id *people = NULL, *all = NULL;
	size_t npeople = 0, nall = 0, cap = 0;
	char days[24];
	int rc = 0;

	a->done = 0;
	snprintf(days, sizeof days, "%lu", (unsigned long)a->days);
	for (size_t i = 0; i < a->batch_n; i++) {
		bool old = false;
		rc = pf_guest_load(&r, txn, db, &a->batch[i]);
		if (rc == PF_ENOTFOUND) {      /* erased or merged since the scan */
			rc = 0;
			continue;
		}
		/* Re-checked: a stay may have been recorded since the scan. */
		if (rc || (rc = expired(txn, db, a, r, &old)))
			goto out;
		if (old) {
			if ((rc = pf_guest_reindex(txn, db, r, NULL)) || (rc = strip(r)))
				goto out;
			r->g.updated = a->now;
			if ((rc = pf_guest_save(txn, db, r)) ||
			    (rc = erase_traces(txn, db, &a->batch[i], &people, &npeople)))
				goto out;
			if (nall + npeople > cap) {
				size_t ncap = (nall + npeople) * 2;
				pf_id *p = realloc(all, ncap * sizeof *p);
				if (!p) {
					rc = pf_seterr(PF_ENOMEM, RETAIN ": out of memory");
					goto out;
				}
				all = p;
				cap = ncap;
			}
			memcpy(all + nall, people, npeople * sizeof *people);
			nall += npeople;
			free(people);
			people = NULL;
			pf_journal_field f[] = { { "days", days } };
			pf_jentry e = { "guest.anonymise", a->actor, a->batch[i], { { 0 } }, NULL, f, 1 };
			if ((rc = pf_journal_append(txn, db, &e)))
				goto out;
			a->done++;
		}
		pf_guest_rec_free(r);
		r = NULL;
	}
	/* The prompts of the whole batch, through the per-guest index. */
	if (nall)
		rc = erase_prompts(txn, db, all, nall, NULL);
	/* The run's entry goes in with the last batch: a failure cannot leave
	 * profiles anonymised by a run the journal does not show. */
	if (!rc && a->last) {
		uint64_t batch = a->done;
		a->done += a->prior;
		rc = summary_txn(txn, db, a);
		a->done = batch;
	}
out:
	pf_guest_rec_free(r);
	free(people);
	free(all);
	return rc;
}

static int summary_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct retain_args *a = arg;
	char days[24], examined[24], anonymised[24];
	snprintf(days, sizeof days, "%lu", (unsigned long)a->days);
	snprintf(examined, sizeof examined, "%llu", (unsigned long long)a->examined);
	snprintf(anonymised, sizeof anonymised, "%llu", (unsigned long long)a->done);
	pf_journal_field f[] = {
		{ "days", days }, { "examined", examined }, { "anonymised", anonymised },
	};
	pf_jentry e = { "retention.run", a->actor, { { 0 } }, { { 0 } }, NULL, f, 3 };
	return pf_journal_append(txn, db, &e);
}

/* Scan in a read transaction, anonymise in batches of RETENTION_BATCH
 * write transactions (each re-checks its profiles); the last one journals
 * the run.
 * Personal text outside the profile (prompts, feedback, journal) is
 * tombstoned exactly as pf_guest_erase does it. */
int pf_retention_run(pf_retention_report *out, pf_db *db, uint32_t days_without_stay,
                     const char *actor)
{
	pf_api_enter("pf_retention_run");
	if (out)
		memset(out, 0, sizeof *out);
	if (!db)
		return pf_seterr(PF_EINVAL, RETAIN ": db is NULL");
	if (days_without_stay == 0)
		return pf_seterr(PF_EINVAL, RETAIN ": days_without_stay is 0 (at least 1)");
	int rc = check_actor(actor);
	if (rc)
		return rc;
	if (db->opts.flags & PF_OPEN_READONLY)
		return pf_seterr(PF_EREADONLY, RETAIN ": the database was opened read-only");

	struct retain_args a;
	memset(&a, 0, sizeof a);
	a.days = days_without_stay;
	a.actor = actor;
	a.now = pf_now(db);
	a.today = floor_day(a.now);
	uint64_t total = 0;

	if ((rc = pf_store_read(db, scan_txn, &a)))
		goto out;
	if (out)
		out->examined = a.examined;
	for (size_t i = 0; i < a.n; i += RETENTION_BATCH) {
		a.batch = a.ids + i;
		a.batch_n = a.n - i < RETENTION_BATCH ? a.n - i : RETENTION_BATCH;
		a.last = i + a.batch_n == a.n;
		a.prior = total;
		if ((rc = pf_store_write(db, anonymise_txn, &a)))
			goto out;
		total += a.done;
		if (out)
			out->anonymised = total;
	}
	if (a.n == 0) {           /* no batch: the entry has a transaction of its own */
		a.done = 0;
		rc = pf_store_write(db, summary_txn, &a);
	}
out:
	free(a.ids);
	return rc;
}
