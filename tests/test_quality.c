/*
 * test_quality.c — service-quality figures (quality.c) on a constructed
 * month whose every figure was worked out by hand below, plus the range
 * edges and argument checks.
 *
 * The hotel is in Macau (UTC+8).  The month is November 2026, local:
 *   from = 2026-11-01 00:00 local = 2026-10-31 16:00Z
 *   to   = 2026-12-01 00:00 local = 2026-11-30 16:00Z
 */
#include "helpers.h"

#include <math.h>
#include <string.h>

TestSuite(quality, .init = db_setup, .fini = db_teardown, .timeout = 60);

#define H 3600

/* Seconds since 1970 of a UTC date and time. */
static pf_time q_utc(int y, int m, int d, int h, int mi)
{
	y -= m <= 2;
	int era = y / 400;                 /* years here are positive */
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return ((int64_t)era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60;
}

static void q_macau(void)
{
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.timezone = "Asia/Macau";
	assert_ok(pf_open(&tdb, tdir, &o));
	/* Every reservation makes a front-desk prompt due in 1 h and a
	 * housekeeping prompt due in 2 h. */
	const char *book =
		"rule greet on reservation when stays >= 0\n"
		"  notify front_desk normal within 1h \"Greet {name}\"\n"
		"rule room on reservation when stays >= 0\n"
		"  notify housekeeping normal within 2h \"Prepare the room for {name}\"\n";
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "q", book, strlen(book), &err));
}

/* Fire a reservation now; returns the two prompts' ids (front desk first). */
static void q_reserve(const pf_id *g, const char *id, pf_id *fd, pf_id *hk)
{
	pf_event ev = PF_EVENT_INIT;
	ev.id = id;
	ev.guest = *g;
	pf_prompt_list *l = NULL;
	assert_ok(pf_fire(&l, tdb, &ev));
	cr_assert(eq(sz, l->count, 2));
	if (fd)
		*fd = l->items[0].id;
	if (hk)
		*hk = l->items[1].id;
	pf_prompt_list_free(l);
}

static pf_id q_complaint(const pf_id *g, pf_feedback_kind kind, const char *dept,
                         const char *cat, int sev)
{
	pf_feedback f = PF_FEEDBACK_INIT;
	f.guest = *g;
	f.kind = kind;
	f.department = dept;
	f.category = cat;
	f.text = "constructed";
	f.severity = sev;
	f.recorded_by = "staff";
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	return f.id;
}

static void q_stay(const pf_id *g, pf_date arrival, pf_date departure)
{
	pf_stay s = { PF_STAY_VERSION, *g, NULL, NULL, arrival, departure, 1 };
	assert_ok(pf_stay_add(tdb, &s));
}

static pf_id q_followup_prompt(const pf_id *fb)
{
	pf_feedback *f = NULL;
	assert_ok(pf_feedback_get(&f, tdb, fb));
	pf_id id = f->followup_prompt;
	pf_feedback_free(f);
	return id;
}

static const pf_quality_row *q_row(const pf_quality_report *r, const char *dept)
{
	for (size_t i = 0; i < r->count; i++)
		if (strcmp(r->departments[i].department, dept) == 0)
			return &r->departments[i];
	cr_assert(0, "no row for %s", dept);
	return NULL;
}

#define Q_DBL(actual, expected) \
	cr_assert(fabs((actual) - (expected)) < 1e-9, "%s = %.12f, expected %.12f", \
	          #actual, (double)(actual), (double)(expected))

/* Every count of a row, in pf_quality_row order. */
static void q_prompts(const pf_quality_row *r, uint32_t n, uint32_t on, uint32_t late,
                      uint32_t never, uint32_t nyd, double omission)
{
	const char *d = r->department ? r->department : "overall";
	cr_assert(eq(u32, r->prompts, n), "%s prompts", d);
	cr_assert(eq(u32, r->done_on_time, on), "%s on time", d);
	cr_assert(eq(u32, r->done_late, late), "%s late", d);
	cr_assert(eq(u32, r->never_done, never), "%s never", d);
	cr_assert(eq(u32, r->not_yet_due, nyd), "%s not yet due", d);
	Q_DBL(r->omission_rate, omission);
}

static void q_complaints(const pf_quality_row *r, uint32_t n, uint32_t resolved,
                         uint32_t by_due, double on_time, int64_t median,
                         uint32_t unresolved, double unresolved_rate, uint32_t followups,
                         uint32_t not_sat, double dissat, double per100,
                         uint32_t compliments, uint32_t suggestions)
{
	const char *d = r->department ? r->department : "overall";
	cr_assert(eq(u32, r->complaints, n), "%s complaints", d);
	cr_assert(eq(u32, r->resolved, resolved), "%s resolved", d);
	cr_assert(eq(u32, r->resolved_by_due, by_due), "%s resolved by due", d);
	Q_DBL(r->on_time_rate, on_time);
	cr_assert(eq(i64, r->median_resolve_seconds, median), "%s median", d);
	cr_assert(eq(u32, r->unresolved, unresolved), "%s unresolved", d);
	Q_DBL(r->unresolved_rate, unresolved_rate);
	cr_assert(eq(u32, r->followups, followups), "%s follow-ups", d);
	cr_assert(eq(u32, r->not_satisfied, not_sat), "%s not satisfied", d);
	Q_DBL(r->dissatisfaction_rate, dissat);
	Q_DBL(r->per_100_stays, per100);
	cr_assert(eq(u32, r->compliments, compliments), "%s compliments", d);
	cr_assert(eq(u32, r->suggestions, suggestions), "%s suggestions", d);
}

/*
 * The month, in the order it happens (Z = UTC; local = Z + 8 h).  Prompts
 * are P1..P20 (counted) plus some outside the range; complaints C1..C6.
 *
 *  10-30 02:00Z  reservation R0 (guest C): 2 prompts, created before
 *                `from`: not counted.
 *  10-31 15:00Z  C5 (A, restaurant) = 23:00 local on 31 Oct: before
 *                `from`, not counted; its 2 prompts neither.
 *  11-01 01:00Z  C5 resolved -> follow-up P17 (front_office) created in
 *                the range, due end of next local day = 11-02 15:59Z;
 *                never done -> never_done.
 *  11-02 02:00Z  R1 (A): P1 front_desk due 03:00Z, P2 housekeeping due 04:00Z.
 *        02:30Z  P1 done            -> on time
 *        04:00Z  C1 (A, housekeeping, room, sev 2), 12:00 local -> due
 *                23:59 local = 15:59Z; P7 housekeeping, P8 management.
 *        05:00Z  P2 done            -> late (due 04:00Z)
 *        10:00Z  C1 resolved (6 h = 21600 s, before due): P7, P8 done on
 *                time; follow-up P9 (front_office) due 11-03 15:59Z.
 *  11-03 03:00Z  C1 follow-up: satisfied -> P9 done on time.
 *  11-10 02:00Z  R2 (B): P3 front_desk, P4 housekeeping.
 *        02:10Z  P3 dismissed       -> never done
 *                P4 stays open, due 04:00Z < cut -> never done
 *        14:30Z  C2 (B, restaurant, food, sev 1) = 22:30 local, after the
 *                cut-off -> due noon local 11-11 = 11-11 04:00Z;
 *                P10 restaurant, P11 management.
 *  11-11 06:00Z  C2 resolved (15 h 30 = 55800 s, after due): P10, P11
 *                done late; follow-up P12 due 11-12 15:59Z.
 *  11-12 05:00Z  compliment (B, restaurant).
 *  11-13 01:00Z  C2 follow-up: NOT satisfied -> P12 done late.
 *  11-15 01:00Z  C3 (C, housekeeping, noise, sev 3), due 15:59Z;
 *                P13 housekeeping, P14 management; in progress at 02:00Z
 *                and never finished -> P13, P14 never done; unresolved.
 *  11-18 03:00Z  suggestion (D, front_desk).
 *  11-20 02:00Z  C4 (D, housekeeping, room), due 15:59Z; P15, P16.
 *  11-21 02:00Z  C4 closed unresolved -> P15, P16 dismissed: never done.
 *  11-25 03:00Z  C6 (C, front_desk, staff), due 15:59Z; P18 front_desk,
 *                P19 management.
 *        03:30Z  C6 resolved (1800 s): P18, P19 done on time; follow-up
 *                P20 due 11-26 15:59Z, never made -> never done.
 *  11-30 15:00Z  R3 (D): P5 front_desk due 16:00Z = `to`, P6 due 17:00Z:
 *                both open and not due before the cut (= `to`, the
 *                clock being later) -> not yet due.
 *  11-30 16:00Z  R4 (D) at `to` exactly: not counted.
 *  report at 12-05 00:00Z.
 *
 * Stays (arrival dates, local): A 11-01 and 11-25, B 11-10 and 11-28,
 * C 11-15 and 11-30, D 11-05 and 11-20 are in (8); A 10-31 and D 12-01
 * (which starts exactly at `to`) are out.
 *
 * Overall:
 *   prompts 20 = on time 6 (P1 P7 P8 P9 P18 P19) + late 4 (P2 P10 P11 P12)
 *     + never 8 (P3 P4 P13 P14 P15 P16 P17 P20) + not yet due 2 (P5 P6);
 *     omission = 8 / (6 + 4 + 8) = 8/18.
 *   complaints 5 (C1 C2 C3 C4 C6); resolved 3 (C1 C2 C6); by due 2 (C1 C6)
 *     -> 2/5 = 0.4; median of 1800, 21600, 55800 = 21600; unresolved 2
 *     (C3 C4) -> 0.4; follow-ups 2 (C1 C2), not satisfied 1 -> 0.5;
 *     per 100 stays = 5 * 100 / 8 = 62.5; compliments 1, suggestions 1.
 * front_desk:   P1 on, P3 never, P5 nyd, P18 on -> 4 = 2/0/1/1, omission
 *     1/3; complaints 1 (C6) resolved by due -> 1.0, median 1800,
 *     unresolved 0 -> 0.0, follow-ups 0 -> -1, per 100 = 12.5, 1 suggestion.
 * front_office: P9 on, P12 late, P17 never, P20 never -> 4 = 1/1/2/0,
 *     omission 2/4 = 0.5; no complaints -> rates -1, median -1, per 100 0.
 * housekeeping: P2 late, P4 never, P6 nyd, P7 on, P13 never, P15 never
 *     -> 6 = 1/1/3/1, omission 3/5 = 0.6; complaints 3 (C1 C3 C4),
 *     resolved 1, by due 1 -> 1/3, median 21600, unresolved 2 -> 2/3,
 *     follow-ups 1 (satisfied) -> 0.0, per 100 = 37.5.
 * management:   P8 on, P11 late, P14 never, P16 never, P19 on -> 5 =
 *     2/1/2/0, omission 2/5 = 0.4; no complaints.
 * restaurant:   P10 late -> 1 = 0/1/0/0, omission 0/1 = 0.0; complaints 1
 *     (C2) resolved late -> 0.0, median 55800, unresolved 0, follow-ups 1
 *     not satisfied -> 1.0, per 100 = 12.5, 1 compliment.
 */
Test(quality, constructed_month_every_figure)
{
	q_macau();
	pf_id a = add_guest("Guest A", NULL, NULL);
	pf_id b = add_guest("Guest B", NULL, NULL);
	pf_id c = add_guest("Guest C", NULL, NULL);
	pf_id d = add_guest("Guest D", NULL, NULL);
	pf_id p1, p2, p3, p4, fb;

	q_stay(&a, 20261101, 20261103);
	q_stay(&a, 20261125, 20261126);
	q_stay(&b, 20261110, 20261112);
	q_stay(&b, 20261128, 20261129);
	q_stay(&c, 20261115, 20261116);
	q_stay(&c, 20261130, 20261202);
	q_stay(&d, 20261105, 20261106);
	q_stay(&d, 20261120, 20261122);
	q_stay(&a, 20261031, 20261101);        /* out: the day before */
	q_stay(&d, 20261201, 20261203);        /* out: starts at `to` */

	tclock = q_utc(2026, 10, 30, 2, 0);
	q_reserve(&c, "R0", NULL, NULL);
	tclock = q_utc(2026, 10, 31, 15, 0);
	pf_id c5 = q_complaint(&a, PF_FEEDBACK_COMPLAINT, "restaurant", "food", 1);
	tclock = q_utc(2026, 11, 1, 1, 0);
	assert_ok(pf_feedback_resolve(tdb, &c5, "chen", "replaced"));        /* P17 */

	tclock = q_utc(2026, 11, 2, 2, 0);
	q_reserve(&a, "R1", &p1, &p2);
	tclock = q_utc(2026, 11, 2, 2, 30);
	assert_ok(pf_prompt_done(tdb, &p1, "lina"));

	/* Part way: at 03:30Z on 2 November, with `to` still ahead, the cut
	 * is the clock.  Counted so far: P17 (due 11-02 15:59Z, open),
	 * P1 (done on time), P2 (due 04:00Z, open): 1 on time, 2 not yet
	 * due, nothing judged missed -> omission 0/1 = 0. */
	tclock = q_utc(2026, 11, 2, 3, 30);
	pf_time from = 0, to = 0;
	assert_ok(pf_day_start(&from, tdb, 20261101));
	assert_ok(pf_day_start(&to, tdb, 20261201));
	cr_assert(eq(i64, from, q_utc(2026, 10, 31, 16, 0)));
	cr_assert(eq(i64, to, q_utc(2026, 11, 30, 16, 0)));
	pf_quality_report *r = NULL;
	assert_ok(pf_quality_report_get(&r, tdb, from, to));
	q_prompts(&r->overall, 3, 1, 0, 0, 2, 0.0);
	pf_quality_report_free(r);

	tclock = q_utc(2026, 11, 2, 4, 0);
	pf_id c1 = q_complaint(&a, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", 2);
	tclock = q_utc(2026, 11, 2, 5, 0);
	assert_ok(pf_prompt_done(tdb, &p2, "mei"));
	tclock = q_utc(2026, 11, 2, 10, 0);
	assert_ok(pf_feedback_resolve(tdb, &c1, "mei", "cleaned again"));
	tclock = q_utc(2026, 11, 3, 3, 0);
	assert_ok(pf_feedback_followup(tdb, &c1, "ana", PF_OUTCOME_SATISFIED));

	tclock = q_utc(2026, 11, 10, 2, 0);
	q_reserve(&b, "R2", &p3, &p4);
	tclock = q_utc(2026, 11, 10, 2, 10);
	assert_ok(pf_prompt_dismiss(tdb, &p3, "lina", "guest arrived early"));
	tclock = q_utc(2026, 11, 10, 14, 30);
	pf_id c2 = q_complaint(&b, PF_FEEDBACK_COMPLAINT, "restaurant", "food", 1);
	pf_feedback *f = NULL;
	assert_ok(pf_feedback_get(&f, tdb, &c2));
	cr_assert(eq(i64, f->due, q_utc(2026, 11, 11, 4, 0)));   /* noon local */
	pf_feedback_free(f);
	tclock = q_utc(2026, 11, 11, 6, 0);
	assert_ok(pf_feedback_resolve(tdb, &c2, "chen", "refund"));
	tclock = q_utc(2026, 11, 12, 5, 0);
	q_complaint(&b, PF_FEEDBACK_COMPLIMENT, "restaurant", "food", 1);
	tclock = q_utc(2026, 11, 13, 1, 0);
	assert_ok(pf_feedback_followup(tdb, &c2, "ana", PF_OUTCOME_NOT_SATISFIED));

	tclock = q_utc(2026, 11, 15, 1, 0);
	pf_id c3 = q_complaint(&c, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise", 3);
	tclock = q_utc(2026, 11, 15, 2, 0);
	assert_ok(pf_feedback_update(tdb, &c3, PF_FEEDBACK_IN_PROGRESS, "mei", NULL));
	tclock = q_utc(2026, 11, 18, 3, 0);
	q_complaint(&d, PF_FEEDBACK_SUGGESTION, "front_desk", "other", 1);
	tclock = q_utc(2026, 11, 20, 2, 0);
	pf_id c4 = q_complaint(&d, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", 1);
	tclock = q_utc(2026, 11, 21, 2, 0);
	assert_ok(pf_feedback_update(tdb, &c4, PF_FEEDBACK_CLOSED_UNRESOLVED, "mei", "left"));
	tclock = q_utc(2026, 11, 25, 3, 0);
	pf_id c6 = q_complaint(&c, PF_FEEDBACK_COMPLAINT, "front_desk", "staff", 1);
	tclock = q_utc(2026, 11, 25, 3, 30);
	assert_ok(pf_feedback_resolve(tdb, &c6, "lina", "apologised"));
	fb = q_followup_prompt(&c6);
	cr_assert(eq(int, pf_id_is_zero(&fb), 0));          /* P20, left undone */

	tclock = q_utc(2026, 11, 30, 15, 0);
	q_reserve(&d, "R3", NULL, NULL);
	tclock = q_utc(2026, 11, 30, 16, 0);
	q_reserve(&d, "R4", NULL, NULL);

	tclock = q_utc(2026, 12, 5, 0, 0);
	assert_ok(pf_quality_report_get(&r, tdb, from, to));
	cr_assert(eq(i64, r->from, from));
	cr_assert(eq(i64, r->to, to));
	cr_assert(eq(u32, r->stays, 8));
	cr_assert(r->overall.department == NULL);
	q_prompts(&r->overall, 20, 6, 4, 8, 2, 8.0 / 18.0);
	q_complaints(&r->overall, 5, 3, 2, 0.4, 21600, 2, 0.4, 2, 1, 0.5, 62.5, 1, 1);

	cr_assert(eq(sz, r->count, 5));
	const char *order[] = { "front_desk", "front_office", "housekeeping", "management",
	                        "restaurant" };
	for (int i = 0; i < 5; i++)
		cr_assert(eq(str, (char *)r->departments[i].department, (char *)order[i]));

	const pf_quality_row *w = q_row(r, "front_desk");
	q_prompts(w, 4, 2, 0, 1, 1, 1.0 / 3.0);
	q_complaints(w, 1, 1, 1, 1.0, 1800, 0, 0.0, 0, 0, -1.0, 12.5, 0, 1);
	w = q_row(r, "front_office");
	q_prompts(w, 4, 1, 1, 2, 0, 0.5);
	q_complaints(w, 0, 0, 0, -1.0, -1, 0, -1.0, 0, 0, -1.0, 0.0, 0, 0);
	w = q_row(r, "housekeeping");
	q_prompts(w, 6, 1, 1, 3, 1, 0.6);
	q_complaints(w, 3, 1, 1, 1.0 / 3.0, 21600, 2, 2.0 / 3.0, 1, 0, 0.0, 37.5, 0, 0);
	w = q_row(r, "management");
	q_prompts(w, 5, 2, 1, 2, 0, 0.4);
	q_complaints(w, 0, 0, 0, -1.0, -1, 0, -1.0, 0, 0, -1.0, 0.0, 0, 0);
	w = q_row(r, "restaurant");
	q_prompts(w, 1, 0, 1, 0, 0, 0.0);
	q_complaints(w, 1, 1, 0, 0.0, 55800, 0, 0.0, 1, 1, 1.0, 12.5, 1, 0);
	pf_quality_report_free(r);
}

Test(quality, median_of_an_even_count_is_the_mean_of_the_middle_two)
{
	pf_id g = add_guest("Guest", NULL, NULL);
	/* Resolve times 600 s and 1500 s: median (600 + 1500) / 2 = 1050. */
	pf_id x = q_complaint(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", 1);
	pf_id y = q_complaint(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", 1);
	tclock = T0 + 600;
	assert_ok(pf_feedback_resolve(tdb, &x, "chen", "a"));
	tclock = T0 + 1500;
	assert_ok(pf_feedback_resolve(tdb, &y, "chen", "b"));
	/* And an odd mean rounds down: 601 and 1500 -> 1050. */
	tclock = T0 + 1;
	pf_id z = q_complaint(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", 1);
	pf_id u = q_complaint(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", 1);
	tclock = T0 + 602;
	assert_ok(pf_feedback_resolve(tdb, &z, "mei", "a"));
	tclock = T0 + 1501;
	assert_ok(pf_feedback_resolve(tdb, &u, "mei", "b"));
	pf_quality_report *r = NULL;
	assert_ok(pf_quality_report_get(&r, tdb, T0, T0 + 24 * H));
	cr_assert(eq(i64, q_row(r, "restaurant")->median_resolve_seconds, 1050));
	cr_assert(eq(i64, q_row(r, "housekeeping")->median_resolve_seconds, 1050));
	/* Overall: 600, 601, 1500, 1500 -> (601 + 1500) / 2 = 1050 (rounded down). */
	cr_assert(eq(i64, r->overall.median_resolve_seconds, 1050));
	/* No stays: the per-stay figure has no denominator. */
	cr_assert(eq(u32, r->stays, 0));
	Q_DBL(r->overall.per_100_stays, -1.0);
	pf_quality_report_free(r);
}

Test(quality, empty_range_and_bad_arguments)
{
	pf_quality_report *r = (pf_quality_report *)1;
	cr_assert(eq(int, pf_quality_report_get(&r, tdb, T0, T0), PF_EINVAL));
	cr_assert(r == NULL);
	cr_assert(eq(int, pf_quality_report_get(&r, tdb, T0, T0 - 1), PF_EINVAL));
	cr_assert(eq(int, pf_quality_report_get(&r, tdb, -5, T0), PF_EINVAL));
	cr_assert(eq(int, pf_quality_report_get(&r, NULL, 0, T0), PF_EINVAL));
	cr_assert(eq(int, pf_quality_report_get(NULL, tdb, 0, T0), PF_EINVAL));
	assert_ok(pf_quality_report_get(&r, tdb, 0, T0));
	cr_assert(eq(sz, r->count, 0));
	cr_assert(eq(u32, r->overall.prompts, 0));
	Q_DBL(r->overall.omission_rate, -1.0);
	Q_DBL(r->overall.on_time_rate, -1.0);
	cr_assert(eq(i64, r->overall.median_resolve_seconds, -1));
	pf_quality_report_free(r);
	pf_quality_report_free(NULL);
}
