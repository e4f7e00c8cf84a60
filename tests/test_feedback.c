/*
 * test_feedback.c — complaints, compliments and suggestions (feedback.c):
 * recording them, the sunset rule's prompts, the workflow and its refused
 * transitions, follow-ups, the guest's complaint counters as rules see
 * them, learning a preference from a complaint, the journal, and the
 * lifecycle helpers merge and erasure use.
 */
#include "helpers.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "feedback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(feedback, .init = db_setup, .fini = db_teardown, .timeout = 60);

#define HOUR 3600
/* 2026-11-23 23:59:00 UTC: the fixture day's end (UTC by default). */
#define T0_DAY_END (T0 + 14 * HOUR + 59 * 60)

/* ------------------------------------------------------------ helpers */

static pf_feedback fb_make(const pf_id *guest, pf_feedback_kind kind, const char *dept,
                           const char *cat, const char *text, int sev)
{
	pf_feedback f = PF_FEEDBACK_INIT;
	f.guest = *guest;
	f.kind = kind;
	f.department = dept;
	f.category = cat;
	f.text = text;
	f.severity = sev;
	f.recorded_by = "lina";
	return f;
}

static pf_id fb_add(const pf_id *guest, pf_feedback_kind kind, const char *dept,
                    const char *cat, const char *text, int sev)
{
	pf_feedback f = fb_make(guest, kind, dept, cat, text, sev);
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	cr_assert(eq(int, pf_id_is_zero(&f.id), 0));
	return f.id;
}

static pf_feedback *fb_get(const pf_id *id)
{
	pf_feedback *f = NULL;
	assert_ok(pf_feedback_get(&f, tdb, id));
	return f;
}

static pf_guest *fb_guest(const pf_id *id)
{
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, id));
	return g;
}

static pf_prompt_list *fb_pending(const char *dept)
{
	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_pending(&l, tdb, dept));
	return l;
}

static size_t fb_npending(const char *dept)
{
	pf_prompt_list *l = fb_pending(dept);
	size_t n = l->count;
	pf_prompt_list_free(l);
	return n;
}

static pf_prompt *fb_prompt(const pf_id *id)
{
	pf_prompt *p = NULL;
	assert_ok(pf_prompt_get(&p, tdb, id));
	return p;
}

static void fb_load_hotel_rules(void)
{
	pf_rule_error err;
	int rc = pf_rules_load_file(tdb, "examples/hotel.rules", &err);
	cr_assert(eq(int, rc, 0), "run the tests from the repository root: %s", err.message);
}

static pf_prompt_list *fb_fire(pf_event_kind kind, const pf_id *guest, const char *id)
{
	pf_event ev = PF_EVENT_INIT;
	ev.kind = kind;
	ev.id = id;
	ev.guest = *guest;
	ev.room = "1012";
	pf_prompt_list *l = NULL;
	assert_ok(pf_fire(&l, tdb, &ev));
	return l;
}

static const pf_prompt *fb_by_rule(const pf_prompt_list *l, const char *rule)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].rule, rule) == 0)
			return &l->items[i];
	return NULL;
}

static uint64_t fb_last_seq(void)
{
	uint64_t s = 0;
	assert_ok(pf_journal_last_seq(&s, tdb));
	return s;
}

/* The stored bytes of a feedback record, to prove a refused call changed
 * nothing. */
static unsigned char *fb_raw(const pf_id *id, size_t *len)
{
	unsigned char *b = raw_get(tdb, PF_DBI_FEEDBACK, id->b, 16, len);
	cr_assert(b != NULL);
	return b;
}

/* -------------------------------------------------------------- adding */

Test(feedback, add_complaint_fills_id_status_and_due)
{
	pf_id g = add_guest("Zhuang Wei", "zw@example.com", NULL);
	pf_stay s = { PF_STAY_VERSION, g, "MFM1", "1012", 20261122, 20261126, 1 };
	assert_ok(pf_stay_add(tdb, &s));
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise",
	                        "Room too noisy, next to the lift", 2);
	f.stay = 20261122;
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	cr_assert(eq(int, pf_id_is_zero(&f.id), 0));
	cr_assert(eq(int, f.status, PF_FEEDBACK_OPEN));
	cr_assert(eq(i64, f.recorded_at, T0));
	/* 09:00 UTC (the default zone) is before the 22:00 cut-off. */
	cr_assert(eq(i64, f.due, T0_DAY_END));

	pf_feedback *got = fb_get(&f.id);
	cr_assert(eq(int, memcmp(got->id.b, f.id.b, 16), 0));
	cr_assert(eq(int, memcmp(got->guest.b, g.b, 16), 0));
	cr_assert(eq(int, got->stay, 20261122));
	cr_assert(eq(int, got->kind, PF_FEEDBACK_COMPLAINT));
	cr_assert(eq(str, (char *)got->department, "housekeeping"));
	cr_assert(eq(str, (char *)got->category, "noise"));
	cr_assert(eq(str, (char *)got->text, "Room too noisy, next to the lift"));
	cr_assert(eq(int, got->severity, 2));
	cr_assert(eq(str, (char *)got->recorded_by, "lina"));
	cr_assert(eq(i64, got->recorded_at, T0));
	cr_assert(eq(i64, got->due, T0_DAY_END));
	cr_assert(eq(int, got->status, PF_FEEDBACK_OPEN));
	cr_assert(got->resolution == NULL && got->resolved_by == NULL && got->outcome_by == NULL);
	cr_assert(eq(int, got->outcome, PF_OUTCOME_NONE));
	cr_assert(eq(int, pf_id_is_zero(&got->followup_prompt), 1));
	pf_feedback_free(got);
}

Test(feedback, complaint_prompts_department_and_duty_manager_in_macau)
{
	/* Macau (UTC+8): 15:30Z is 23:30 local, after the 22:00 cut-off, so
	 * the complaint is due at noon local the next day = 04:00Z on the 24th. */
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.timezone = "Asia/Macau";
	assert_ok(pf_open(&tdb, tdir, &o));
	tclock = T0 + 6 * HOUR + 30 * 60;
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise",
	                        "Room too noisy", 2);
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	pf_time noon24 = T0 + 19 * HOUR;
	cr_assert(eq(i64, f.due, noon24));

	char ev[64], ids[PF_ID_STRLEN + 1];
	pf_id_format(ids, &f.id);
	snprintf(ev, sizeof ev, "feedback:%s", ids);
	const char *depts[] = { "housekeeping", "management" };
	for (int i = 0; i < 2; i++) {
		pf_prompt_list *l = fb_pending(depts[i]);
		cr_assert(eq(sz, l->count, 1), "%s", depts[i]);
		const pf_prompt *p = &l->items[0];
		cr_assert(eq(str, (char *)p->rule, "complaint"));
		cr_assert(eq(str, (char *)p->event_id, ev));
		cr_assert(eq(int, p->priority, PF_PRIORITY_HIGH));   /* severity 2 */
		cr_assert(eq(i64, p->due, noon24));
		cr_assert(eq(i64, p->created, tclock));
		cr_assert(eq(int, memcmp(p->guest.b, g.b, 16), 0));
		cr_assert(strstr(p->text, "Zhuang Wei") && strstr(p->text, "Room too noisy"));
		pf_prompt_list_free(l);
	}
	pf_prompt_list *l = fb_pending("management");
	cr_assert(eq(str, (char *)l->items[0].text,
	             "Duty manager: complaint to housekeeping from Zhuang Wei (noise, severity 2): "
	             "Room too noisy"));
	pf_prompt_list_free(l);
	l = fb_pending("housekeeping");
	cr_assert(eq(str, (char *)l->items[0].text,
	             "Complaint from Zhuang Wei (noise, severity 2): Room too noisy"));
	pf_prompt_list_free(l);
}

Test(feedback, severity_sets_priority_and_management_gets_one_prompt)
{
	pf_id g = add_guest("Maria Rossi", NULL, NULL);
	fb_add(&g, PF_FEEDBACK_COMPLAINT, "management", "staff", "Rude night manager", 3);
	pf_prompt_list *l = fb_pending("management");
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(int, l->items[0].priority, PF_PRIORITY_URGENT));
	pf_prompt_list_free(l);
	fb_add(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", "Cold soup", 1);
	l = fb_pending("restaurant");
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(int, l->items[0].priority, PF_PRIORITY_NORMAL));
	pf_prompt_list_free(l);
	cr_assert(eq(sz, fb_npending("management"), 2));
}

Test(feedback, counters_are_kept_and_rules_see_them)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	fb_add(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", "Soup was cold", 1);
	fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise", "Noisy corridor at night", 1);
	pf_guest *gg = fb_guest(&g);
	cr_assert(eq(u32, gg->complaints_open, 2));
	cr_assert(eq(u32, gg->complaints_total, 2));
	cr_assert(eq(i64, gg->not_satisfied_at, 0));
	pf_guest_free(gg);

	const char *book =
		"rule two on check_in when complaints.total >= 2 and "
		"complaints.last_category = noise\n"
		"  notify management high \"Again: {complaint.latest}\"\n";
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t", book, strlen(book), &err));
	pf_prompt_list *l = fb_fire(PF_EVENT_CHECK_IN, &g, "CHK-1");
	const pf_prompt *p = fb_by_rule(l, "two");
	cr_assert(p != NULL);
	cr_assert(eq(str, (char *)p->text, "Again: Noisy corridor at night"));
	pf_prompt_list_free(l);
}

Test(feedback, compliment_and_suggestion_make_no_prompt_and_no_count)
{
	pf_id g = add_guest("Maria Rossi", NULL, NULL);
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLIMENT, "restaurant", "food",
	                        "The risotto was wonderful", 1);
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	cr_assert(eq(i64, f.due, 0));
	fb_add(&g, PF_FEEDBACK_SUGGESTION, "front_desk", "other", "Late breakfast on Sundays", 1);
	cr_assert(eq(sz, fb_npending("restaurant"), 0));
	cr_assert(eq(sz, fb_npending("management"), 0));
	pf_guest *gg = fb_guest(&g);
	cr_assert(eq(u32, gg->complaints_total, 0));
	pf_guest_free(gg);
	pf_feedback *got = fb_get(&f.id);
	cr_assert(eq(int, got->kind, PF_FEEDBACK_COMPLIMENT));
	cr_assert(eq(i64, got->due, 0));
	pf_feedback_free(got);
}

Test(feedback, complaint_learns_a_need)
{
	fb_load_hotel_rules();
	pf_id g = add_guest("Maria Rossi", NULL, NULL);
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room",
	                        "Feather pillow caused an allergic reaction", 3);
	f.recorded_by = "mei";
	pf_pref learn = { .category = "allergy.feathers", .value = "pillows and duvet",
	                  .kind = PF_NEED };
	assert_ok(pf_feedback_add(tdb, &f, &learn));

	pf_pref *p = NULL;
	assert_ok(pf_pref_get(&p, tdb, &g, "allergy.feathers"));
	cr_assert(eq(int, p->kind, PF_NEED));
	cr_assert(eq(str, (char *)p->value, "pillows and duvet"));
	cr_assert(eq(str, (char *)p->department, "housekeeping"));
	cr_assert(eq(str, (char *)p->staff, "mei"));
	cr_assert(eq(str, (char *)p->note, "Feather pillow caused an allergic reaction"));
	cr_assert(eq(u32, p->count, 1));
	cr_assert(eq(i64, p->first_seen, T0));
	pf_pref_free(p);

	/* The next stay avoids it. */
	tclock += 30 * 24 * HOUR;
	pf_prompt_list *l = fb_fire(PF_EVENT_CHECK_IN, &g, "CHK-2");
	const pf_prompt *pr = fb_by_rule(l, "allergy-feathers");
	cr_assert(pr != NULL);
	cr_assert(eq(str, (char *)pr->department, "housekeeping"));
	cr_assert(eq(int, pr->priority, PF_PRIORITY_URGENT));
	pf_prompt_list_free(l);
}

Test(feedback, complaint_learns_a_dislike_that_the_next_reservation_uses)
{
	fb_load_hotel_rules();
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "room.location", "high floor", PF_LIKE);
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "front_desk", "noise",
	                        "Room too noisy: next to the lift", 2);
	pf_pref learn = { .category = "room.location", .value = "near lift", .kind = PF_DISLIKE,
	                  .note = "kept awake by the lift" };
	assert_ok(pf_feedback_add(tdb, &f, &learn));
	pf_pref *p = NULL;
	assert_ok(pf_pref_get(&p, tdb, &g, "room.location"));
	cr_assert(eq(int, p->kind, PF_DISLIKE));
	cr_assert(eq(str, (char *)p->value, "near lift"));
	cr_assert(eq(str, (char *)p->note, "kept awake by the lift"));
	cr_assert(eq(u32, p->count, 1));           /* replaced the like */
	pf_pref_free(p);
	assert_ok(pf_feedback_resolve(tdb, &f.id, "lina", "Moved to a quiet room"));

	tclock += 60 * 24 * HOUR;
	pf_prompt_list *l = fb_fire(PF_EVENT_RESERVATION, &g, "RES-2");
	const pf_prompt *q = fb_by_rule(l, "quiet-room");
	cr_assert(q != NULL);
	cr_assert(eq(str, (char *)q->text, "Assign a quiet room away from the lift"));
	pf_prompt_list_free(l);
}

Test(feedback, rejected_adds_change_nothing)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id nobody;
	pf_id_generate(&nobody);
	uint64_t seq = fb_last_seq();
	char longtext[PF_NOTE_MAX + 2];
	memset(longtext, 'a', sizeof longtext - 1);
	longtext[sizeof longtext - 1] = '\0';

	struct { pf_feedback f; const pf_pref *learn; int rc; } cases[24];
	size_t n = 0;
	static const pf_pref bad_cat = { .category = "Allergy", .value = "x", .kind = PF_NEED };
	static const pf_pref bad_kind = { .category = "allergy.x", .value = "x", .kind = 7 };
	static const pf_pref no_value = { .category = "allergy.x", .value = NULL, .kind = PF_NEED };
#define CASE(field, val, want) do { \
		cases[n].f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise", "loud", 1); \
		cases[n].f.field = val; cases[n].learn = NULL; cases[n].rc = want; n++; } while (0)
	CASE(severity, 0, PF_EINVAL);
	CASE(severity, 4, PF_EINVAL);
	CASE(text, "", PF_EINVAL);
	CASE(text, longtext, PF_EINVAL);
	CASE(text, "bad \xff byte", PF_EINVAL);
	CASE(department, "House Keeping", PF_EINVAL);
	CASE(category, "Noise!", PF_EINVAL);
	CASE(recorded_by, NULL, PF_EINVAL);
	CASE(recorded_at, T0 + 60, PF_EINVAL);              /* in the future */
	CASE(kind, (pf_feedback_kind)9, PF_EINVAL);
	CASE(guest, nobody, PF_ENOTFOUND);
	CASE(stay, 20261101, PF_ENOTFOUND);                 /* no such stay */
	CASE(stay, 20261131, PF_EINVAL);                    /* no such date */
	CASE(severity, 1, PF_EINVAL);
	cases[n - 1].learn = &bad_cat;
	CASE(severity, 1, PF_EINVAL);
	cases[n - 1].learn = &bad_kind;
	CASE(severity, 1, PF_EINVAL);
	cases[n - 1].learn = &no_value;
#undef CASE
	for (size_t i = 0; i < n; i++) {
		int rc = pf_feedback_add(tdb, &cases[i].f, cases[i].learn);
		cr_assert(eq(int, rc, cases[i].rc), "case %zu: %s", i, pf_errmsg());
		cr_assert(eq(int, pf_id_is_zero(&cases[i].f.id), 1), "case %zu", i);
	}
	pf_feedback zero = PF_FEEDBACK_INIT;
	cr_assert(eq(int, pf_feedback_add(tdb, &zero, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_feedback_add(tdb, NULL, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_feedback_add(NULL, &cases[0].f, NULL), PF_EINVAL));

	pf_feedback_list *l = NULL;
	assert_ok(pf_feedback_list_get(&l, tdb, NULL, NULL));
	cr_assert(eq(sz, l->count, 0));
	pf_feedback_list_free(l);
	pf_guest *gg = fb_guest(&g);
	cr_assert(eq(u32, gg->complaints_total, 0));
	cr_assert(eq(sz, gg->pref_count, 0));
	pf_guest_free(gg);
	cr_assert(eq(sz, fb_npending("housekeeping"), 0));
	cr_assert(eq(sz, fb_npending("management"), 0));
	cr_assert(eq(u64, fb_last_seq(), seq));
}

Test(feedback, stay_must_be_one_of_the_guests)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", "Dusty", 1);
	f.stay = 20261120;
	cr_assert(eq(int, pf_feedback_add(tdb, &f, NULL), PF_ENOTFOUND));
	pf_stay s = { PF_STAY_VERSION, g, NULL, NULL, 20261120, 20261124, 1 };
	assert_ok(pf_stay_add(tdb, &s));
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	pf_feedback *got = fb_get(&f.id);
	cr_assert(eq(int, got->stay, 20261120));
	pf_feedback_free(got);
}

Test(feedback, recorded_late_keeps_its_own_due_and_is_overdue_at_once)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", "Dusty", 1);
	f.recorded_at = T0 - 24 * HOUR;          /* told yesterday, entered today */
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	cr_assert(eq(i64, f.due, T0_DAY_END - 24 * HOUR));
	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_overdue(&l, tdb, NULL, 0));
	cr_assert(eq(sz, l->count, 2));
	cr_assert(eq(i64, l->items[0].created, T0));
	pf_prompt_list_free(l);
}

Test(feedback, prompt_text_is_cut_at_a_character_boundary)
{
	pf_id g = add_guest("莊偉", NULL, NULL);
	char text[PF_NOTE_MAX + 1];
	size_t n = 0;
	while (n + 2 <= PF_NOTE_MAX) {      /* "é" is two bytes */
		text[n++] = (char)0xC3;
		text[n++] = (char)0xA9;
	}
	text[n] = '\0';
	fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", text, 1);
	pf_prompt_list *l = fb_pending("housekeeping");
	size_t len = strlen(l->items[0].text);
	cr_assert(le(sz, len, PF_PROMPT_TEXT_MAX));
	cr_assert(ge(sz, len, PF_PROMPT_TEXT_MAX - 1));
	cr_assert(pf_utf8_valid(l->items[0].text, len));
	pf_prompt_list_free(l);
	/* What rules see as {complaint.latest}: the whole text (it fits). */
	pf_guest *gg = fb_guest(&g);
	const pf_guest_rec *r = (const pf_guest_rec *)gg;
	cr_assert(eq(str, r->complaint_latest, text));
	cr_assert(eq(str, r->complaint_last_category, "room"));
	pf_guest_free(gg);
}

/* Subscriber callback: records which departments were told. */
struct fb_seen {
	int calls;
	char depts[4][32];
};

static void fb_on_prompt(const pf_prompt *p, void *payload)
{
	struct fb_seen *s = payload;
	if (s->calls < 4)
		snprintf(s->depts[s->calls], sizeof s->depts[0], "%s", p->department);
	s->calls++;
}

Test(feedback, subscribers_get_the_prompts_after_commit)
{
	struct fb_seen seen;
	memset(&seen, 0, sizeof seen);
	assert_ok(pf_subscribe(tdb, NULL, fb_on_prompt, &seen));
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", "Cold soup", 1);
	cr_assert(eq(int, seen.calls, 2));
	cr_assert(eq(str, seen.depts[0], "restaurant"));
	cr_assert(eq(str, seen.depts[1], "management"));
	assert_ok(pf_feedback_resolve(tdb, &id, "chen", "Soup replaced, dessert offered"));
	cr_assert(eq(int, seen.calls, 3));
	cr_assert(eq(str, seen.depts[2], "front_office"));
	/* A refused call delivers nothing. */
	cr_assert(eq(int, pf_feedback_resolve(tdb, &id, "chen", "again"), PF_EINVAL));
	cr_assert(eq(int, seen.calls, 3));
	assert_ok(pf_unsubscribe(tdb, NULL, fb_on_prompt, &seen));
}

/* ------------------------------------------------------------ workflow */

Test(feedback, resolve_closes_complaint_prompts_and_makes_the_followup)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise",
	                  "Room too noisy", 2);
	tclock = T0 + 3 * HOUR;
	assert_ok(pf_feedback_resolve(tdb, &id, "mei", "Moved to a quiet room"));

	pf_feedback *f = fb_get(&id);
	cr_assert(eq(int, f->status, PF_FEEDBACK_RESOLVED));
	cr_assert(eq(str, (char *)f->resolution, "Moved to a quiet room"));
	cr_assert(eq(str, (char *)f->resolved_by, "mei"));
	cr_assert(eq(i64, f->resolved_at, T0 + 3 * HOUR));
	cr_assert(eq(int, pf_id_is_zero(&f->followup_prompt), 0));

	/* The complaint's own prompts were carried out by the resolution. */
	cr_assert(eq(sz, fb_npending("housekeeping"), 0));
	cr_assert(eq(sz, fb_npending("management"), 0));
	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_overdue(&l, tdb, NULL, T0 + 100 * HOUR));
	cr_assert(eq(sz, l->count, 1));           /* only the follow-up is open */
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_since(&l, tdb, "housekeeping", 0));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(int, l->items[0].status, PF_PROMPT_DONE));
	cr_assert(eq(str, (char *)l->items[0].done_by, "mei"));
	cr_assert(eq(i64, l->items[0].done_at, T0 + 3 * HOUR));
	pf_prompt_list_free(l);

	/* The call-back, to the front office, due at the end of the NEXT
	 * business day: 2026-11-24 23:59 UTC. */
	l = fb_pending("front_office");
	cr_assert(eq(sz, l->count, 1));
	const pf_prompt *p = &l->items[0];
	cr_assert(eq(int, memcmp(p->id.b, f->followup_prompt.b, 16), 0));
	cr_assert(eq(str, (char *)p->rule, "followup"));
	cr_assert(eq(int, p->priority, PF_PRIORITY_NORMAL));
	cr_assert(eq(str, (char *)p->text, "Call Zhuang Wei back to confirm they are satisfied: "
	             "noise complaint resolved \xe2\x80\x94 Moved to a quiet room"));
	cr_assert(eq(i64, p->due, T0_DAY_END + 24 * HOUR));
	pf_prompt_list_free(l);
	pf_feedback_free(f);

	pf_guest *gg = fb_guest(&g);
	cr_assert(eq(u32, gg->complaints_open, 0));
	cr_assert(eq(u32, gg->complaints_total, 1));
	pf_guest_free(gg);
}

Test(feedback, followup_satisfied_closes_the_loop)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", "Cold soup", 1);
	assert_ok(pf_feedback_resolve(tdb, &id, "chen", "Replaced"));
	tclock = T0 + 20 * HOUR;
	assert_ok(pf_feedback_followup(tdb, &id, "ana", PF_OUTCOME_SATISFIED));
	pf_feedback *f = fb_get(&id);
	cr_assert(eq(int, f->outcome, PF_OUTCOME_SATISFIED));
	cr_assert(eq(str, (char *)f->outcome_by, "ana"));
	cr_assert(eq(i64, f->outcome_at, T0 + 20 * HOUR));
	pf_prompt *fp = fb_prompt(&f->followup_prompt);
	cr_assert(eq(int, fp->status, PF_PROMPT_DONE));
	cr_assert(eq(str, (char *)fp->done_by, "ana"));
	pf_prompt_free(fp);
	pf_feedback_free(f);
	cr_assert(eq(sz, fb_npending("front_office"), 0));
	pf_guest *gg = fb_guest(&g);
	cr_assert(eq(i64, gg->not_satisfied_at, 0));
	pf_guest_free(gg);
}

Test(feedback, followup_not_satisfied_marks_the_profile)
{
	pf_id g = add_guest("Zhuang Wei", "zw@example.com", NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", "Cold soup", 1);
	assert_ok(pf_feedback_resolve(tdb, &id, "chen", "Replaced"));
	/* The follow-up prompt was already done by hand: still fine. */
	pf_feedback *f = fb_get(&id);
	assert_ok(pf_prompt_done(tdb, &f->followup_prompt, "ana"));
	pf_feedback_free(f);
	tclock = T0 + 26 * HOUR;
	assert_ok(pf_feedback_followup(tdb, &id, "ana", PF_OUTCOME_NOT_SATISFIED));

	pf_guest *gg = fb_guest(&g);
	cr_assert(eq(i64, gg->not_satisfied_at, T0 + 26 * HOUR));
	/* A profile update keeps the mark and the counters ... */
	pf_guest c = *gg;
	c.email = "wei@example.com";
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(gg);
	/* ... and so does a reopen (the codec stores it). */
	db_reopen();
	gg = fb_guest(&g);
	cr_assert(eq(str, (char *)gg->email, "wei@example.com"));
	cr_assert(eq(i64, gg->not_satisfied_at, T0 + 26 * HOUR));
	cr_assert(eq(u32, gg->complaints_total, 1));
	cr_assert(eq(u32, gg->complaints_open, 0));
	pf_guest_free(gg);
}

Test(feedback, in_progress_then_closed_unresolved)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", "Stained carpet", 1);
	tclock = T0 + HOUR;
	assert_ok(pf_feedback_update(tdb, &id, PF_FEEDBACK_IN_PROGRESS, "mei", "carpet cleaner called"));
	pf_feedback *f = fb_get(&id);
	cr_assert(eq(int, f->status, PF_FEEDBACK_IN_PROGRESS));
	cr_assert(f->resolution == NULL);
	pf_feedback_free(f);
	cr_assert(eq(sz, fb_npending("housekeeping"), 1));   /* still work to do */

	tclock = T0 + 2 * HOUR;
	assert_ok(pf_feedback_update(tdb, &id, PF_FEEDBACK_CLOSED_UNRESOLVED, "mei",
	                             "guest checked out before the cleaner came"));
	f = fb_get(&id);
	cr_assert(eq(int, f->status, PF_FEEDBACK_CLOSED_UNRESOLVED));
	cr_assert(eq(str, (char *)f->resolution, "guest checked out before the cleaner came"));
	cr_assert(eq(str, (char *)f->resolved_by, "mei"));
	cr_assert(eq(i64, f->resolved_at, T0 + 2 * HOUR));
	cr_assert(eq(int, pf_id_is_zero(&f->followup_prompt), 1));  /* no call-back */
	pf_feedback_free(f);
	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_since(&l, tdb, "management", 0));
	cr_assert(eq(int, l->items[0].status, PF_PROMPT_DISMISSED));
	cr_assert(eq(str, (char *)l->items[0].dismiss_reason, "complaint closed unresolved"));
	pf_prompt_list_free(l);
	cr_assert(eq(sz, fb_npending("housekeeping"), 0));
	cr_assert(eq(sz, fb_npending("front_office"), 0));
	pf_guest *gg = fb_guest(&g);
	cr_assert(eq(u32, gg->complaints_open, 0));
	cr_assert(eq(u32, gg->complaints_total, 1));
	pf_guest_free(gg);
}

/* A refused transition: PF_EINVAL (the test then checks that the stored
 * records, the prompts and the journal are exactly as they were). */
static void fb_refused(int rc, const char *what)
{
	cr_assert(eq(int, rc, PF_EINVAL), "%s: %s", what, pf_errmsg());
}

Test(feedback, invalid_transitions_are_refused_with_nothing_changed)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id open = fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", "Dusty", 1);
	pf_id praise = fb_add(&g, PF_FEEDBACK_COMPLIMENT, "restaurant", "food", "Lovely", 1);
	pf_id done = fb_add(&g, PF_FEEDBACK_COMPLAINT, "restaurant", "food", "Cold", 1);
	assert_ok(pf_feedback_resolve(tdb, &done, "chen", "Replaced"));
	pf_id closed = fb_add(&g, PF_FEEDBACK_COMPLAINT, "front_desk", "billing", "Charged twice", 2);
	assert_ok(pf_feedback_update(tdb, &closed, PF_FEEDBACK_CLOSED_UNRESOLVED, "lina", NULL));

	const pf_id *all[] = { &open, &praise, &done, &closed };
	size_t len[4];
	unsigned char *before[4];
	for (int i = 0; i < 4; i++)
		before[i] = fb_raw(all[i], &len[i]);
	uint64_t seq = fb_last_seq();
	pf_guest *g0 = fb_guest(&g);
	uint32_t open_before = g0->complaints_open;
	pf_guest_free(g0);
	size_t pending[3] = { fb_npending("housekeeping"), fb_npending("management"),
	                      fb_npending("front_office") };

	fb_refused(pf_feedback_followup(tdb, &open, "ana", PF_OUTCOME_SATISFIED),
	           "follow-up before resolution");
	fb_refused(pf_feedback_update(tdb, &open, PF_FEEDBACK_RESOLVED, "mei", NULL),
	           "resolve through update");
	fb_refused(pf_feedback_update(tdb, &open, PF_FEEDBACK_OPEN, "mei", NULL),
	           "back to open");
	fb_refused(pf_feedback_update(tdb, &open, (pf_feedback_status)9, "mei", NULL),
	           "unknown status");
	fb_refused(pf_feedback_resolve(tdb, &open, "mei", ""), "empty resolution");
	fb_refused(pf_feedback_resolve(tdb, &open, NULL, "x"), "no staff");
	fb_refused(pf_feedback_resolve(tdb, &done, "chen", "again"), "resolve twice");
	fb_refused(pf_feedback_update(tdb, &done, PF_FEEDBACK_IN_PROGRESS, "chen", NULL),
	           "resolved back in progress");
	fb_refused(pf_feedback_update(tdb, &done, PF_FEEDBACK_CLOSED_UNRESOLVED, "chen",
	                                     NULL), "resolved then closed");
	fb_refused(pf_feedback_followup(tdb, &done, "ana", PF_OUTCOME_NONE),
	           "outcome none");
	fb_refused(pf_feedback_resolve(tdb, &closed, "lina", "late"),
	           "closed then resolved");
	fb_refused(pf_feedback_followup(tdb, &closed, "ana", PF_OUTCOME_SATISFIED),
	           "follow-up of a closed complaint");
	fb_refused(pf_feedback_followup(tdb, &praise, "ana", PF_OUTCOME_SATISFIED),
	           "follow-up of a compliment");

	for (int i = 0; i < 4; i++) {
		size_t n = 0;
		unsigned char *after = fb_raw(all[i], &n);
		cr_assert(eq(sz, n, len[i]), "record %d", i);
		cr_assert(eq(int, memcmp(after, before[i], n), 0), "record %d changed", i);
		free(after);
		free(before[i]);
	}
	cr_assert(eq(u64, fb_last_seq(), seq));
	pf_guest *g1 = fb_guest(&g);
	cr_assert(eq(u32, g1->complaints_open, open_before));
	pf_guest_free(g1);
	cr_assert(eq(sz, fb_npending("housekeeping"), pending[0]));
	cr_assert(eq(sz, fb_npending("management"), pending[1]));
	cr_assert(eq(sz, fb_npending("front_office"), pending[2]));

	/* Twice the same outcome: the second is refused. */
	assert_ok(pf_feedback_followup(tdb, &done, "ana", PF_OUTCOME_SATISFIED));
	cr_assert(eq(int, pf_feedback_followup(tdb, &done, "ana", PF_OUTCOME_NOT_SATISFIED),
	             PF_EINVAL));
	pf_feedback *f = fb_get(&done);
	cr_assert(eq(int, f->outcome, PF_OUTCOME_SATISFIED));
	pf_feedback_free(f);
	/* In progress twice. */
	assert_ok(pf_feedback_update(tdb, &open, PF_FEEDBACK_IN_PROGRESS, "mei", NULL));
	cr_assert(eq(int, pf_feedback_update(tdb, &open, PF_FEEDBACK_IN_PROGRESS, "mei", NULL),
	             PF_EINVAL));
	/* Unknown ids and zero ids. */
	pf_id nobody, zero;
	pf_id_generate(&nobody);
	memset(&zero, 0, sizeof zero);
	cr_assert(eq(int, pf_feedback_resolve(tdb, &nobody, "mei", "x"), PF_ENOTFOUND));
	cr_assert(eq(int, pf_feedback_resolve(tdb, &zero, "mei", "x"), PF_EINVAL));
	cr_assert(eq(int, pf_feedback_followup(tdb, NULL, "mei", PF_OUTCOME_SATISFIED), PF_EINVAL));
}

/* ------------------------------------------------------------- reading */

Test(feedback, get_validates_and_reports_not_found)
{
	pf_feedback *f = (pf_feedback *)1;
	pf_id nobody, zero;
	pf_id_generate(&nobody);
	memset(&zero, 0, sizeof zero);
	cr_assert(eq(int, pf_feedback_get(&f, tdb, &nobody), PF_ENOTFOUND));
	cr_assert(f == NULL);
	cr_assert(eq(int, pf_feedback_get(&f, tdb, &zero), PF_EINVAL));
	cr_assert(eq(int, pf_feedback_get(&f, tdb, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_feedback_get(NULL, tdb, &nobody), PF_EINVAL));
	cr_assert(eq(int, pf_feedback_get(&f, NULL, &nobody), PF_EINVAL));
	pf_feedback_free(NULL);
	pf_feedback_list_free(NULL);
}

Test(feedback, lists_by_guest_and_status_oldest_first)
{
	pf_id a = add_guest("Zhuang Wei", NULL, NULL);
	pf_id b = add_guest("Maria Rossi", NULL, NULL);
	pf_feedback f1 = fb_make(&a, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", "first", 1);
	f1.recorded_at = T0 - 5 * HOUR;
	pf_feedback f2 = fb_make(&a, PF_FEEDBACK_COMPLIMENT, "restaurant", "food", "second", 1);
	f2.recorded_at = T0 - 3 * HOUR;
	pf_feedback f3 = fb_make(&b, PF_FEEDBACK_SUGGESTION, "front_desk", "other", "third", 1);
	f3.recorded_at = T0 - 2 * HOUR;
	pf_feedback f4 = fb_make(&a, PF_FEEDBACK_COMPLAINT, "restaurant", "food", "fourth", 1);
	/* Added out of time order on purpose. */
	assert_ok(pf_feedback_add(tdb, &f4, NULL));
	assert_ok(pf_feedback_add(tdb, &f2, NULL));
	assert_ok(pf_feedback_add(tdb, &f3, NULL));
	assert_ok(pf_feedback_add(tdb, &f1, NULL));
	assert_ok(pf_feedback_resolve(tdb, &f4.id, "chen", "ok"));

	pf_feedback_list *l = NULL;
	assert_ok(pf_feedback_list_get(&l, tdb, &a, NULL));
	cr_assert(eq(sz, l->count, 3));
	cr_assert(eq(str, (char *)l->items[0].text, "first"));
	cr_assert(eq(str, (char *)l->items[1].text, "second"));
	cr_assert(eq(str, (char *)l->items[2].text, "fourth"));
	cr_assert(eq(int, memcmp(l->items[2].id.b, f4.id.b, 16), 0));
	pf_feedback_list_free(l);

	assert_ok(pf_feedback_list_get(&l, tdb, NULL, NULL));
	cr_assert(eq(sz, l->count, 4));
	const char *want[] = { "first", "second", "third", "fourth" };
	for (int i = 0; i < 4; i++)
		cr_assert(eq(str, (char *)l->items[i].text, (char *)want[i]));
	pf_feedback_list_free(l);

	pf_feedback_query q = PF_FEEDBACK_QUERY_INIT;
	assert_ok(pf_feedback_list_get(&l, tdb, NULL, &q));   /* INIT: everything */
	cr_assert(eq(sz, l->count, 4));
	pf_feedback_list_free(l);
	q.status = PF_FEEDBACK_RESOLVED;
	assert_ok(pf_feedback_list_get(&l, tdb, &a, &q));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "fourth"));
	pf_feedback_list_free(l);
	q.status = PF_FEEDBACK_OPEN;
	assert_ok(pf_feedback_list_get(&l, tdb, NULL, &q));
	cr_assert(eq(sz, l->count, 3));
	pf_feedback_list_free(l);
	/* kind filters too, alone or with status */
	q.kind = PF_FEEDBACK_COMPLAINT;
	assert_ok(pf_feedback_list_get(&l, tdb, NULL, &q));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "first"));
	pf_feedback_list_free(l);
	q.status = PF_FEEDBACK_ANY;
	assert_ok(pf_feedback_list_get(&l, tdb, &a, &q));
	cr_assert(eq(sz, l->count, 2));
	cr_assert(eq(str, (char *)l->items[0].text, "first"));
	cr_assert(eq(str, (char *)l->items[1].text, "fourth"));
	pf_feedback_list_free(l);
	q.kind = PF_FEEDBACK_SUGGESTION;
	assert_ok(pf_feedback_list_get(&l, tdb, NULL, &q));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "third"));
	pf_feedback_list_free(l);

	pf_id nobody, zero;
	pf_id_generate(&nobody);
	memset(&zero, 0, sizeof zero);
	assert_ok(pf_feedback_list_get(&l, tdb, &nobody, NULL));
	cr_assert(eq(sz, l->count, 0));
	pf_feedback_list_free(l);
	l = (pf_feedback_list *)1;
	cr_assert(eq(int, pf_feedback_list_get(&l, tdb, &zero, NULL), PF_EINVAL));
	cr_assert(l == NULL);
	pf_feedback_query bad = PF_FEEDBACK_QUERY_INIT;
	bad.status = 4;
	cr_assert(eq(int, pf_feedback_list_get(&l, tdb, NULL, &bad), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "unknown status 4") != NULL, "%s", pf_errmsg());
	bad.status = -2;
	cr_assert(eq(int, pf_feedback_list_get(&l, tdb, NULL, &bad), PF_EINVAL));
	bad = (pf_feedback_query)PF_FEEDBACK_QUERY_INIT;
	bad.kind = 3;
	cr_assert(eq(int, pf_feedback_list_get(&l, tdb, NULL, &bad), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "unknown kind 3") != NULL, "%s", pf_errmsg());
	bad = (pf_feedback_query)PF_FEEDBACK_QUERY_INIT;
	bad.version = 0;
	cr_assert(eq(int, pf_feedback_list_get(&l, tdb, NULL, &bad), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "pf_feedback_list_get: unknown pf_feedback_query version 0 "
	                 "(expected 1)") != NULL, "%s", pf_errmsg());
	cr_assert(l == NULL);
}

Test(feedback, names_and_parsing)
{
	cr_assert(eq(str, (char *)pf_feedback_kind_name(PF_FEEDBACK_SUGGESTION), "suggestion"));
	cr_assert(eq(str, (char *)pf_feedback_status_name(PF_FEEDBACK_CLOSED_UNRESOLVED),
	             "closed_unresolved"));
	cr_assert(eq(str, (char *)pf_outcome_name(PF_OUTCOME_NOT_SATISFIED), "not_satisfied"));
	cr_assert(pf_feedback_kind_name((pf_feedback_kind)3) == NULL);
	cr_assert(pf_feedback_status_name((pf_feedback_status)-1) == NULL);
	cr_assert(pf_outcome_name((pf_outcome)3) == NULL);
	pf_feedback_kind k;
	pf_feedback_status s;
	assert_ok(pf_feedback_kind_parse(&k, "compliment"));
	cr_assert(eq(int, k, PF_FEEDBACK_COMPLIMENT));
	assert_ok(pf_feedback_status_parse(&s, "in_progress"));
	cr_assert(eq(int, s, PF_FEEDBACK_IN_PROGRESS));
	cr_assert(eq(int, pf_feedback_kind_parse(&k, "Complaint"), PF_EINVAL));
	cr_assert(eq(int, pf_feedback_status_parse(&s, NULL), PF_EINVAL));
}

Test(feedback, corrupt_record_is_reported)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", "Dusty", 1);
	/* Overwrite the record with a map that lacks required fields. */
	raw_put(tdb, PF_DBI_FEEDBACK, id.b, 16, "\x81\xa1v", 3);
	pf_feedback *f = NULL;
	cr_assert(eq(int, pf_feedback_get(&f, tdb, &id), PF_ECORRUPT));
	cr_assert(strstr(pf_errmsg(), "feedback") != NULL);
	pf_feedback_list *l = NULL;
	cr_assert(eq(int, pf_feedback_list_get(&l, tdb, &g, NULL), PF_ECORRUPT));
	cr_assert(eq(int, pf_feedback_resolve(tdb, &id, "mei", "x"), PF_ECORRUPT));
}

/* -------------------------------------------------- memory across stays */

Test(feedback, unresolved_complaint_escalates_at_next_reservation_and_check_in)
{
	fb_load_hotel_rules();
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise",
	                  "Room too noisy, next to the lift", 2);

	tclock += 40 * 24 * HOUR;
	pf_prompt_list *l = fb_fire(PF_EVENT_RESERVATION, &g, "RES-2");
	const pf_prompt *p = fb_by_rule(l, "unresolved-complaint");
	cr_assert(p != NULL, "no escalation at the reservation");
	cr_assert(eq(str, (char *)p->department, "management"));
	cr_assert(eq(int, p->priority, PF_PRIORITY_URGENT));
	cr_assert(eq(str, (char *)p->text, "Unresolved complaint from Zhuang Wei: Room too noisy, "
	             "next to the lift. Meet the guest and settle it"));
	/* The noise complaint also asks for a quiet room. */
	cr_assert(fb_by_rule(l, "quiet-after-noise") != NULL);
	cr_assert(fb_by_rule(l, "complaint-resolved-welcome") == NULL);
	pf_prompt_list_free(l);

	l = fb_fire(PF_EVENT_CHECK_IN, &g, "CHK-2");
	cr_assert(fb_by_rule(l, "unresolved-complaint") != NULL, "no escalation at check-in");
	cr_assert(fb_by_rule(l, "complaint-resolved-welcome") == NULL);
	pf_prompt_list_free(l);

	/* Once resolved, the next arrival is welcomed back with a gesture. */
	assert_ok(pf_feedback_resolve(tdb, &id, "duty_manager", "Apologised; room upgraded"));
	tclock += 40 * 24 * HOUR;
	l = fb_fire(PF_EVENT_CHECK_IN, &g, "CHK-3");
	cr_assert(fb_by_rule(l, "unresolved-complaint") == NULL);
	p = fb_by_rule(l, "complaint-resolved-welcome");
	cr_assert(p != NULL);
	cr_assert(eq(str, (char *)p->department, "front_desk"));
	cr_assert(strstr(p->text, "Room too noisy, next to the lift") != NULL);
	pf_prompt_list_free(l);
}

/* ------------------------------------------------------------- journal */

Test(feedback, every_mutation_is_journaled)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	uint64_t seq = fb_last_seq();
	pf_feedback f = fb_make(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "room",
	                        "Feather pillow allergy", 3);
	pf_pref learn = { .category = "allergy.feathers", .value = "yes", .kind = PF_NEED };
	assert_ok(pf_feedback_add(tdb, &f, &learn));
	assert_ok(pf_feedback_update(tdb, &f.id, PF_FEEDBACK_IN_PROGRESS, "mei", "new pillows"));
	assert_ok(pf_feedback_resolve(tdb, &f.id, "mei", "Synthetic pillows and duvet"));
	assert_ok(pf_feedback_followup(tdb, &f.id, "ana", PF_OUTCOME_SATISFIED));

	pf_journal_iterator *it = NULL;
	assert_ok(pf_journal_iter(&it, tdb, seq, &g));
	const char *want[] = { "pref.set", "feedback.add", "feedback.update", "prompt.done",
	                       "prompt.done", "feedback.resolve", "prompt.done",
	                       "feedback.followup" };
	const pf_journal_entry *e = NULL;
	size_t n = 0;
	int rc;
	while ((rc = pf_journal_next(&e, it)) == 0) {
		cr_assert(lt(sz, n, sizeof want / sizeof want[0]), "extra entry %s", e->op);
		cr_assert(eq(str, (char *)e->op, (char *)want[n]), "entry %zu", n);
		if (strncmp(e->op, "feedback.", 9) == 0)
			cr_assert(eq(int, memcmp(e->object.b, f.id.b, 16), 0));
		if (strcmp(e->op, "feedback.add") == 0) {
			cr_assert(eq(str, (char *)e->actor, "housekeeping/lina"));
			bool has_text = false;
			for (size_t i = 0; i < e->field_count; i++)
				if (!strcmp(e->fields[i].name, "text"))
					has_text = !strcmp(e->fields[i].value, "Feather pillow allergy");
			cr_assert(has_text);
		}
		n++;
	}
	cr_assert(eq(int, rc, PF_ITEROVER));
	cr_assert(eq(sz, n, sizeof want / sizeof want[0]));
	pf_journal_iterator_free(it);
}

/* ----------------------------------------------- lifecycle (merge/erase) */

struct fb_move_args {
	pf_id from, to;
	pf_id *moved;
	size_t n;
};

static int fb_move_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct fb_move_args *a = arg;
	free(a->moved);
	a->moved = NULL;
	return pf_feedback_move_guest(txn, db, &a->from, &a->to, &a->moved, &a->n);
}

static int fb_set_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct fb_move_args *a = arg;
	return pf_feedback_set_guest(txn, db, &a->moved[0], &a->from);
}

static int fb_erase_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	return pf_feedback_erase_guest(txn, db, arg);
}

static size_t fb_count_of(const pf_id *g)
{
	pf_feedback_list *l = NULL;
	assert_ok(pf_feedback_list_get(&l, tdb, g, NULL));
	size_t n = l->count;
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(int, memcmp(l->items[i].guest.b, g->b, 16), 0));
	pf_feedback_list_free(l);
	return n;
}

Test(feedback, move_and_set_guest_for_merge_and_unmerge)
{
	pf_id a = add_guest("Zhuang Wei", NULL, NULL);
	pf_id b = add_guest("Wei Zhuang", NULL, NULL);
	pf_id f1 = fb_add(&a, PF_FEEDBACK_COMPLAINT, "housekeeping", "room", "Dusty", 1);
	tclock += HOUR;
	pf_id f2 = fb_add(&a, PF_FEEDBACK_COMPLIMENT, "restaurant", "food", "Great", 1);
	fb_add(&b, PF_FEEDBACK_SUGGESTION, "front_desk", "other", "Faster wifi", 1);

	struct fb_move_args m = { a, b, NULL, 0 };
	assert_ok(pf_store_write(tdb, fb_move_txn, &m));
	cr_assert(eq(sz, m.n, 2));
	cr_assert(eq(int, memcmp(m.moved[0].b, f1.b, 16), 0));
	cr_assert(eq(int, memcmp(m.moved[1].b, f2.b, 16), 0));
	cr_assert(eq(sz, fb_count_of(&a), 0));
	cr_assert(eq(sz, fb_count_of(&b), 3));

	/* Unmerge puts one back. */
	assert_ok(pf_store_write(tdb, fb_set_txn, &m));
	cr_assert(eq(sz, fb_count_of(&a), 1));
	cr_assert(eq(sz, fb_count_of(&b), 2));
	pf_feedback *f = fb_get(&f1);
	cr_assert(eq(int, memcmp(f->guest.b, a.b, 16), 0));
	pf_feedback_free(f);
	free(m.moved);
}

Test(feedback, erase_guest_tombstones_text_and_names_but_keeps_figures)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id id = fb_add(&g, PF_FEEDBACK_COMPLAINT, "housekeeping", "noise",
	                  "Zhuang Wei in 1012 says the lift is loud", 2);
	assert_ok(pf_feedback_resolve(tdb, &id, "mei", "Moved Mr Zhuang to 1415"));
	assert_ok(pf_feedback_followup(tdb, &id, "ana", PF_OUTCOME_NOT_SATISFIED));
	pf_feedback *before = fb_get(&id);

	assert_ok(pf_store_write(tdb, fb_erase_txn, &g));
	pf_feedback *f = fb_get(&id);
	cr_assert(eq(str, (char *)f->text, "[erased]"));
	cr_assert(eq(str, (char *)f->resolution, "[erased]"));
	cr_assert(eq(str, (char *)f->recorded_by, "[erased]"));
	cr_assert(eq(str, (char *)f->resolved_by, "[erased]"));
	cr_assert(eq(str, (char *)f->outcome_by, "[erased]"));
	cr_assert(eq(str, (char *)f->category, "noise"));
	cr_assert(eq(str, (char *)f->department, "housekeeping"));
	cr_assert(eq(int, f->kind, before->kind));
	cr_assert(eq(int, f->status, PF_FEEDBACK_RESOLVED));
	cr_assert(eq(int, f->outcome, PF_OUTCOME_NOT_SATISFIED));
	cr_assert(eq(int, f->severity, 2));
	cr_assert(eq(i64, f->recorded_at, before->recorded_at));
	cr_assert(eq(i64, f->due, before->due));
	cr_assert(eq(i64, f->resolved_at, before->resolved_at));
	cr_assert(eq(i64, f->outcome_at, before->outcome_at));
	pf_feedback_free(f);
	pf_feedback_free(before);
	/* Still listed under the (random) guest id, and still counted. */
	cr_assert(eq(sz, fb_count_of(&g), 1));
	pf_quality_report *r = NULL;
	assert_ok(pf_quality_report_get(&r, tdb, T0 - HOUR, T0 + HOUR));
	cr_assert(eq(u32, r->overall.complaints, 1));
	cr_assert(eq(u32, r->overall.not_satisfied, 1));
	pf_quality_report_free(r);
}
