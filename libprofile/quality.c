/*
 * quality.c — service-quality figures: pf_quality_report_get over a time
 * range, per department and for the whole hotel (the figures are defined
 * at pf_quality_row in libprofile.h; this file computes exactly those).
 *
 * Read-only: one read transaction walks the prompts (prompt.c's
 * pf_prompt_each_raw), the feedback records (feedback.c's
 * pf_feedback_each_raw) and the stay keys (stay.c's pf_stay_each_all and
 * pf_stay_key_parse) once each (there is no index by time; a report is an
 * occasional, off-line question).  Owns no database.  Calls store.c (the
 * read transaction), codec.c, prompt.c, feedback.c, stay.c, text.c and
 * tz.c (stays' arrival days in the hotel's zone).
 */
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "tz.h"
#include "prompt.h"
#include "stay.h"
#include "feedback.h"

#include <stdlib.h>
#include <string.h>

#define FN "pf_quality_report_get"

/* Counts of one row while the records are walked. */
typedef struct acc {
	char *department;         /* NULL: the whole hotel */
	pf_quality_row row;
	int64_t *durations;       /* resolve times of the resolved complaints */
	size_t ndur, capdur;
} acc;

typedef struct qargs {
	pf_time from, to, cut;
	pf_date first_day;        /* the hotel's date at `from` */
	acc all;
	acc *depts;
	size_t ndepts, cap;
	uint32_t stays;
} qargs;

static void acc_clear(acc *a)
{
	free(a->department);
	free(a->durations);
	memset(a, 0, sizeof *a);
}

static void qargs_reset(qargs *q)
{
	acc_clear(&q->all);
	for (size_t i = 0; i < q->ndepts; i++)
		acc_clear(&q->depts[i]);
	free(q->depts);
	q->depts = NULL;
	q->ndepts = q->cap = 0;
	q->stays = 0;
}

/* The row of `dept`, created on first use.  Departments are few (tens),
 * so a linear search costs less than keeping an index. */
static int dept_acc(acc **out, qargs *q, const char *dept)
{
	for (size_t i = 0; i < q->ndepts; i++)
		if (strcmp(q->depts[i].department, dept) == 0) {
			*out = &q->depts[i];
			return 0;
		}
	if (q->ndepts == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 8;
		acc *d = realloc(q->depts, cap * sizeof *d);
		if (!d)
			return pf_seterr(PF_ENOMEM, FN ": out of memory");
		q->depts = d;
		q->cap = cap;
	}
	acc *a = &q->depts[q->ndepts];
	memset(a, 0, sizeof *a);
	if (!(a->department = strdup(dept)))
		return pf_seterr(PF_ENOMEM, FN ": out of memory");
	q->ndepts++;
	*out = a;
	return 0;
}

static int add_duration(acc *a, int64_t d)
{
	if (a->ndur == a->capdur) {
		size_t cap = a->capdur ? a->capdur * 2 : 16;
		int64_t *n = realloc(a->durations, cap * sizeof *n);
		if (!n)
			return pf_seterr(PF_ENOMEM, FN ": out of memory");
		a->durations = n;
		a->capdur = cap;
	}
	a->durations[a->ndur++] = d;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Counting                                                             */
/* ------------------------------------------------------------------ */

static void count_prompt(pf_quality_row *r, const pf_prompt *p, pf_time cut)
{
	r->prompts++;
	switch (p->status) {
	case PF_PROMPT_DONE:
		if (p->done_at <= p->due)
			r->done_on_time++;
		else
			r->done_late++;
		break;
	case PF_PROMPT_DISMISSED:
		r->never_done++;
		break;
	default:
		if (p->due < cut)
			r->never_done++;
		else
			r->not_yet_due++;
		break;
	}
}

static int count_feedback(acc *a, const pf_feedback *f)
{
	pf_quality_row *r = &a->row;
	if (f->kind == PF_FEEDBACK_COMPLIMENT) {
		r->compliments++;
		return 0;
	}
	if (f->kind == PF_FEEDBACK_SUGGESTION) {
		r->suggestions++;
		return 0;
	}
	r->complaints++;
	if (f->status == PF_FEEDBACK_RESOLVED) {
		r->resolved++;
		if (f->resolved_at <= f->due)
			r->resolved_by_due++;
		int rc = add_duration(a, f->resolved_at - f->recorded_at);
		if (rc)
			return rc;
	}
	if (f->outcome != PF_OUTCOME_NONE) {
		r->followups++;
		if (f->outcome == PF_OUTCOME_NOT_SATISFIED)
			r->not_satisfied++;
	}
	return 0;
}

/* One record of a walk: 0 to go on, or a PF_E* code to stop with. */
typedef int (*step_fn)(pf_db *db, qargs *q, const MDB_val *k, const MDB_val *v);

static int prompt_step(pf_db *db, qargs *q, const MDB_val *k, const MDB_val *v)
{
	pf_prompt p;
	int rc;
	(void)db;
	(void)k;
	if ((rc = pf_codec_prompt_decode(&p, v->mv_data, v->mv_size)))
		return rc;
	if (p.created >= q->from && p.created < q->to) {
		acc *d = NULL;
		rc = dept_acc(&d, q, p.department);
		if (!rc) {
			count_prompt(&q->all.row, &p, q->cut);
			count_prompt(&d->row, &p, q->cut);
		}
	}
	pf_prompt_clear(&p);
	return rc;
}

static int feedback_step(pf_db *db, qargs *q, const MDB_val *k, const MDB_val *v)
{
	pf_feedback_rec rec;
	int rc;
	(void)db;
	(void)k;
	if ((rc = pf_codec_feedback_decode(&rec, v->mv_data, v->mv_size)))
		return rc;
	const pf_feedback *f = &rec.f;
	if (f->recorded_at >= q->from && f->recorded_at < q->to) {
		acc *d = NULL;
		if (!(rc = dept_acc(&d, q, f->department)) &&
		    !(rc = count_feedback(&q->all, f)))
			rc = count_feedback(d, f);
	}
	pf_feedback_rec_clear(&rec);
	return rc;
}

/* Stays are keyed guest + big-endian arrival: the key alone answers. */
static int stay_step(pf_db *db, qargs *q, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	pf_date arrival;
	if (!pf_stay_key_parse(k->mv_data, k->mv_size, NULL, &arrival))
		return pf_seterr(PF_ECORRUPT, FN ": corrupt 'stay': a key of %zu bytes",
		                 k->mv_size);
	if (pf_check_date("arrival", arrival, true))
		return pf_seterr(PF_ECORRUPT, FN ": corrupt 'stay': arrival %d in a key",
		                 (int)arrival);
	/* Cheap test first: days before from's local date cannot count. */
	if (arrival < q->first_day)
		return 0;
	pf_time start = pf_local_day_start(db->tz, arrival);
	if (start >= q->from && start < q->to && q->stays < UINT32_MAX)
		q->stays++;
	return 0;
}

/* A step run by an owner's walk. */
struct step_ctx {
	pf_db *db;
	qargs *q;
	step_fn step;
};

static int owner_step(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct step_ctx *c = ctx;
	return c->step(c->db, c->q, k, v);
}

static int report_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	qargs *q = arg;
	int rc;
	qargs_reset(q);
	q->first_day = pf_local_date(db->tz, q->from);
	struct step_ctx p = { db, q, prompt_step }, s = { db, q, stay_step },
	                f = { db, q, feedback_step };
	if ((rc = pf_prompt_each_raw(txn, db, owner_step, &p)) ||
	    (rc = pf_feedback_each_raw(txn, db, owner_step, &f)))
		return rc;
	return pf_stay_each_all(txn, db, owner_step, &s);
}

/* ------------------------------------------------------------------ */
/* Rates and the result                                                 */
/* ------------------------------------------------------------------ */

static double rate(uint32_t num, uint32_t den)
{
	return den ? (double)num / den : -1.0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void finish(acc *a, uint32_t stays)
{
	pf_quality_row *r = &a->row;
	r->omission_rate = rate(r->never_done, r->done_on_time + r->done_late + r->never_done);
	r->on_time_rate = rate(r->resolved_by_due, r->complaints);
	r->unresolved = r->complaints - r->resolved;
	r->unresolved_rate = rate(r->unresolved, r->complaints);
	r->dissatisfaction_rate = rate(r->not_satisfied, r->followups);
	r->per_100_stays = stays ? (double)r->complaints * 100.0 / stays : -1.0;
	r->median_resolve_seconds = -1;
	if (a->ndur) {
		qsort(a->durations, a->ndur, sizeof *a->durations, cmp_i64);
		size_t m = a->ndur / 2;
		if (a->ndur % 2)
			r->median_resolve_seconds = a->durations[m];
		else   /* the mean of the middle two, rounded down, without overflow */
			r->median_resolve_seconds = a->durations[m - 1] +
			    (a->durations[m] - a->durations[m - 1]) / 2;
	}
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const acc *)x)->department, ((const acc *)y)->department);
}

void pf_quality_report_free(pf_quality_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; report->departments && i < report->count; i++)
		free((char *)report->departments[i].department);
	free(report->departments);
	free(report);
}

int pf_quality_report_get(pf_quality_report **out, pf_db *db, pf_time from, pf_time to)
{
	pf_api_enter("pf_quality_report_get");
	pf_quality_report *rep = NULL;
	qargs q;
	int rc;

	if (!out)
		return pf_seterr(PF_EINVAL, FN ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, FN ": db is NULL");
	if (from < 0 || to <= from)
		return pf_seterr(PF_EINVAL, FN ": the range [%lld, %lld) is empty or before 1970",
		                 (long long)from, (long long)to);

	memset(&q, 0, sizeof q);
	q.from = from;
	q.to = to;
	pf_time now = pf_now(db);
	q.cut = now < to ? now : to;
	rc = pf_store_read(db, report_txn, &q);
	if (rc)
		goto out;

	rep = calloc(1, sizeof *rep);
	if (!rep || (q.ndepts && !(rep->departments = calloc(q.ndepts, sizeof *rep->departments)))) {
		rc = pf_seterr(PF_ENOMEM, FN ": out of memory");
		goto out;
	}
	rep->from = from;
	rep->to = to;
	rep->stays = q.stays;
	finish(&q.all, q.stays);
	rep->overall = q.all.row;
	rep->overall.department = NULL;
	if (q.ndepts > 1)
		qsort(q.depts, q.ndepts, sizeof *q.depts, by_name);
	for (size_t i = 0; i < q.ndepts; i++) {
		finish(&q.depts[i], q.stays);
		rep->departments[i] = q.depts[i].row;
		rep->departments[i].department = q.depts[i].department;
		q.depts[i].department = NULL;     /* now the report's */
		rep->count++;
	}
	*out = rep;
	rep = NULL;
out:
	pf_quality_report_free(rep);
	qargs_reset(&q);
	return rc;
}
