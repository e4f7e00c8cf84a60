/* test_prompt.c — the prompt queue, its lifecycle, feeds, subscriptions. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* .timeout: as every suite, and equal to theirs (see test_event.c). */
TestSuite(prompt, .init = db_setup, .fini = db_teardown, .timeout = 60);

/* Four housekeeping prompts with known due times and priorities, and one
 * for the front desk. */
static const char PR_BOOK[] =
	"rule a\n  on check_in\n  notify housekeeping low within 1h \"A\"\n"
	"rule b\n  on check_in\n  notify housekeeping urgent within 2h \"B\"\n"
	"rule c\n  on check_in\n  notify housekeeping high within 1h \"C\"\n"
	"rule d\n  on check_in\n  notify housekeeping normal within 30m \"D\"\n"
	"rule e\n  on check_in\n  notify front_desk normal within 45m \"E\"\n";

static pf_id pr_guest;

/* Load PR_BOOK and fire one check-in; returns its five prompts A..E. */
static pf_prompt_list *pr_fire_book(void)
{
	assert_ok(pf_rules_load(tdb, "prompt.rules", PR_BOOK, strlen(PR_BOOK), NULL));
	pr_guest = add_guest("Zhuang Wei", NULL, NULL);
	pf_event e = PF_EVENT_INIT;
	e.id = "in-1";
	e.kind = PF_EVENT_CHECK_IN;
	e.guest = pr_guest;
	pf_prompt_list *l = NULL;
	assert_ok(pf_fire(&l, tdb, &e));
	cr_assert(eq(sz, l->count, 5));
	return l;
}

/* Read one prompt back; the caller frees it with pf_prompt_free(). */
static pf_prompt *pr_get(const pf_id *id)
{
	pf_prompt *p = NULL;
	assert_ok(pf_prompt_get(&p, tdb, id));
	cr_assert(p != NULL);
	return p;
}

static int pr_streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void pr_assert_same(const pf_prompt *a, const pf_prompt *b)
{
	cr_assert(memcmp(&a->id, &b->id, sizeof a->id) == 0);
	cr_assert(eq(int, a->status, b->status));
	cr_assert(pr_streq(a->ack_by, b->ack_by));
	cr_assert(eq(i64, a->ack_at, b->ack_at));
	cr_assert(pr_streq(a->done_by, b->done_by));
	cr_assert(eq(i64, a->done_at, b->done_at));
	cr_assert(pr_streq(a->dismiss_reason, b->dismiss_reason));
	cr_assert(eq(i64, a->due, b->due));
	cr_assert(eq(u64, a->seq, b->seq));
	cr_assert(eq(str, (char *)a->text, (char *)b->text));
}

static size_t pr_pending(const char *dept)
{
	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_pending(&l, tdb, dept));
	size_t n = l->count;
	pf_prompt_list_free(l);
	return n;
}

Test(prompt, names)
{
	cr_assert(eq(str, (char *)pf_priority_name(PF_PRIORITY_LOW), "low"));
	cr_assert(eq(str, (char *)pf_priority_name(PF_PRIORITY_NORMAL), "normal"));
	cr_assert(eq(str, (char *)pf_priority_name(PF_PRIORITY_HIGH), "high"));
	cr_assert(eq(str, (char *)pf_priority_name(PF_PRIORITY_URGENT), "urgent"));
	cr_assert(pf_priority_name((pf_priority)4) == NULL);
	cr_assert(pf_priority_name((pf_priority)-1) == NULL);
	cr_assert(eq(str, (char *)pf_prompt_status_name(PF_PROMPT_PENDING), "pending"));
	cr_assert(eq(str, (char *)pf_prompt_status_name(PF_PROMPT_ACKNOWLEDGED), "acknowledged"));
	cr_assert(eq(str, (char *)pf_prompt_status_name(PF_PROMPT_DONE), "done"));
	cr_assert(eq(str, (char *)pf_prompt_status_name(PF_PROMPT_DISMISSED), "dismissed"));
	cr_assert(pf_prompt_status_name((pf_prompt_status)7) == NULL);
}

Test(prompt, get_returns_stored_prompt)
{
	pf_prompt_list *l = pr_fire_book();
	pf_prompt *g = pr_get(&l->items[2].id);
	const pf_prompt *p = g;
	pr_assert_same(p, &l->items[2]);
	cr_assert(eq(str, (char *)p->department, "housekeeping"));
	cr_assert(eq(str, (char *)p->rule, "c"));
	cr_assert(eq(str, (char *)p->event_id, "in-1"));
	cr_assert(eq(int, p->priority, PF_PRIORITY_HIGH));
	cr_assert(memcmp(&p->guest, &pr_guest, sizeof pr_guest) == 0);
	cr_assert(p->ack_by == NULL && p->done_by == NULL && p->dismiss_reason == NULL);
	pf_prompt_free(g);
	pf_prompt_list_free(l);
}

Test(prompt, get_bad_arguments)
{
	pf_prompt *l = (pf_prompt *)1;
	pf_id zero = { { 0 } }, ghost;
	assert_ok(pf_id_parse(&ghost, "7d4c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"));
	cr_assert(eq(int, pf_prompt_get(&l, tdb, &zero), PF_EINVAL));
	cr_assert(l == NULL);
	cr_assert(eq(int, pf_prompt_get(&l, tdb, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_get(&l, NULL, &ghost), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_get(NULL, tdb, &ghost), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_get(&l, tdb, &ghost), PF_ENOTFOUND));
	cr_assert(strstr(pf_errmsg(), "7d4c1d2e") != NULL, "%s", pf_errmsg());
}

Test(prompt, lifecycle_ack_then_done)
{
	pf_prompt_list *l = pr_fire_book();
	const pf_id *id = &l->items[0].id;

	tclock = T0 + 60;
	assert_ok(pf_prompt_ack(tdb, id, "mei"));
	pf_prompt *g = pr_get(id);
	cr_assert(eq(int, g->status, PF_PROMPT_ACKNOWLEDGED));
	cr_assert(eq(str, (char *)g->ack_by, "mei"));
	cr_assert(eq(i64, g->ack_at, T0 + 60));
	cr_assert(g->done_by == NULL);
	pf_prompt_free(g);
	cr_assert(eq(sz, pr_pending("housekeeping"), 4), "acknowledged is still open");

	tclock = T0 + 120;
	assert_ok(pf_prompt_done(tdb, id, "李明"));
	g = pr_get(id);
	cr_assert(eq(int, g->status, PF_PROMPT_DONE));
	cr_assert(eq(str, (char *)g->ack_by, "mei"), "who acknowledged is kept");
	cr_assert(eq(str, (char *)g->done_by, "李明"));
	cr_assert(eq(i64, g->done_at, T0 + 120));
	cr_assert(g->dismiss_reason == NULL);
	pf_prompt_free(g);
	cr_assert(eq(sz, pr_pending("housekeeping"), 3));
	pf_prompt_list_free(l);
}

Test(prompt, done_without_ack)
{
	pf_prompt_list *l = pr_fire_book();
	tclock = T0 + 5;
	assert_ok(pf_prompt_done(tdb, &l->items[4].id, "ana"));
	pf_prompt *g = pr_get(&l->items[4].id);
	cr_assert(eq(int, g->status, PF_PROMPT_DONE));
	cr_assert(g->ack_by == NULL);
	cr_assert(eq(i64, g->done_at, T0 + 5));
	pf_prompt_free(g);
	cr_assert(eq(sz, pr_pending("front_desk"), 0));
	pf_prompt_list_free(l);
}

Test(prompt, dismiss_records_reason)
{
	pf_prompt_list *l = pr_fire_book();
	const pf_id *id = &l->items[1].id;
	assert_ok(pf_prompt_ack(tdb, id, "mei"));
	tclock = T0 + 300;
	assert_ok(pf_prompt_dismiss(tdb, id, "mei", "guest declined turndown service"));
	pf_prompt *g = pr_get(id);
	cr_assert(eq(int, g->status, PF_PROMPT_DISMISSED));
	cr_assert(eq(str, (char *)g->done_by, "mei"));
	cr_assert(eq(i64, g->done_at, T0 + 300));
	cr_assert(eq(str, (char *)g->dismiss_reason, "guest declined turndown service"));
	pf_prompt_free(g);
	cr_assert(eq(sz, pr_pending("housekeeping"), 3));
	pf_prompt_list_free(l);
}

Test(prompt, invalid_transitions_change_nothing)
{
	pf_prompt_list *l = pr_fire_book();
	const pf_id *acked = &l->items[0].id, *done = &l->items[1].id,
	            *dismissed = &l->items[2].id, *pending = &l->items[3].id;
	assert_ok(pf_prompt_ack(tdb, acked, "mei"));
	assert_ok(pf_prompt_done(tdb, done, "mei"));
	assert_ok(pf_prompt_dismiss(tdb, dismissed, "mei", "room already prepared"));
	tclock = T0 + 999;

	struct {
		const pf_id *id;
		int op;               /* 0 ack, 1 done, 2 dismiss */
		const char *status;   /* named in the message */
	} cases[] = {
		{ acked, 0, "acknowledged" },
		{ done, 0, "done" },
		{ done, 1, "done" },
		{ done, 2, "done" },
		{ dismissed, 0, "dismissed" },
		{ dismissed, 1, "dismissed" },
		{ dismissed, 2, "dismissed" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pf_prompt *before = pr_get(cases[i].id);
		int rc = cases[i].op == 0 ? pf_prompt_ack(tdb, cases[i].id, "li")
		       : cases[i].op == 1 ? pf_prompt_done(tdb, cases[i].id, "li")
		       : pf_prompt_dismiss(tdb, cases[i].id, "li", "changed my mind");
		cr_assert(eq(int, rc, PF_EINVAL), "case %zu", i);
		cr_assert(strstr(pf_errmsg(), cases[i].status) != NULL, "case %zu: %s", i,
		          pf_errmsg());
		pf_prompt *after = pr_get(cases[i].id);
		pr_assert_same(after, before);
		pf_prompt_free(before);
		pf_prompt_free(after);
	}
	/* Open lists are as they were: a, d pending/acknowledged. */
	cr_assert(eq(sz, pr_pending("housekeeping"), 2));

	/* Bad arguments: refused before anything is looked at. */
	pf_prompt *before = pr_get(pending);
	char longstaff[PF_FIELD_MAX + 2];
	memset(longstaff, 's', sizeof longstaff - 1);
	longstaff[sizeof longstaff - 1] = '\0';
	char longreason[PF_NOTE_MAX + 2];
	memset(longreason, 'r', sizeof longreason - 1);
	longreason[sizeof longreason - 1] = '\0';
	cr_assert(eq(int, pf_prompt_ack(tdb, pending, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_ack(tdb, pending, ""), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_ack(tdb, pending, "\xc0\xaf"), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_done(tdb, pending, longstaff), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_dismiss(tdb, pending, "mei", NULL), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_dismiss(tdb, pending, "mei", ""), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_dismiss(tdb, pending, "mei", longreason), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_ack(NULL, pending, "mei"), PF_EINVAL));
	cr_assert(eq(int, pf_prompt_ack(tdb, NULL, "mei"), PF_EINVAL));
	pf_prompt *after = pr_get(pending);
	pr_assert_same(after, before);
	cr_assert(eq(int, after->status, PF_PROMPT_PENDING));
	pf_prompt_free(before);
	pf_prompt_free(after);
	pf_prompt_list_free(l);
}

Test(prompt, unknown_prompt_not_found)
{
	pf_id ghost;
	assert_ok(pf_id_parse(&ghost, "7d4c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"));
	cr_assert(eq(int, pf_prompt_ack(tdb, &ghost, "mei"), PF_ENOTFOUND));
	cr_assert(eq(int, pf_prompt_done(tdb, &ghost, "mei"), PF_ENOTFOUND));
	cr_assert(eq(int, pf_prompt_dismiss(tdb, &ghost, "mei", "why"), PF_ENOTFOUND));
	cr_assert(strncmp(pf_errmsg(), "pf_prompt_dismiss:", 18) == 0, "%s", pf_errmsg());
}

Test(prompt, pending_by_due_then_priority)
{
	pf_prompt_list *l = pr_fire_book();
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_pending(&l, tdb, "housekeeping"));
	cr_assert(eq(sz, l->count, 4));
	const char *want[] = { "D", "C", "A", "B" };
	for (size_t i = 0; i < 4; i++)
		cr_assert(eq(str, (char *)l->items[i].text, (char *)want[i]), "position %zu", i);
	pf_prompt_list_free(l);
	cr_assert(eq(sz, pr_pending("front_desk"), 1));
	cr_assert(eq(sz, pr_pending("front"), 0), "a prefix of a department is not it");
	cr_assert(eq(sz, pr_pending("spa"), 0));
}

Test(prompt, pending_bad_department)
{
	pf_prompt_list *l = (pf_prompt_list *)1;
	cr_assert(eq(int, pf_prompts_pending(&l, tdb, NULL), PF_EINVAL));
	cr_assert(l == NULL);
	cr_assert(eq(int, pf_prompts_pending(&l, tdb, "Front Desk"), PF_EINVAL));
	cr_assert(eq(int, pf_prompts_pending(&l, tdb, ""), PF_EINVAL));
	cr_assert(eq(int, pf_prompts_pending(NULL, tdb, "spa"), PF_EINVAL));
	cr_assert(eq(int, pf_prompts_overdue(&l, tdb, "Spa", 0), PF_EINVAL));
	cr_assert(eq(int, pf_prompts_since(&l, tdb, NULL, 0), PF_EINVAL));
	uint64_t s;
	cr_assert(eq(int, pf_prompts_seq(&s, tdb, "x y"), PF_EINVAL));
	cr_assert(eq(int, pf_prompts_seq(NULL, tdb, "spa"), PF_EINVAL));
}

Test(prompt, overdue_as_clock_moves)
{
	pf_prompt_list *l = pr_fire_book();
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_overdue(&l, tdb, NULL, 0));
	cr_assert(eq(sz, l->count, 0), "nothing is overdue yet");
	pf_prompt_list_free(l);

	tclock += 90 * 60;
	assert_ok(pf_prompts_overdue(&l, tdb, "housekeeping", 0));
	cr_assert(eq(sz, l->count, 3));
	cr_assert(eq(str, (char *)l->items[0].text, "D"));
	cr_assert(eq(str, (char *)l->items[1].text, "C"));
	cr_assert(eq(str, (char *)l->items[2].text, "A"));
	pf_prompt_list_free(l);

	assert_ok(pf_prompts_overdue(&l, tdb, NULL, 0));
	cr_assert(eq(sz, l->count, 4), "every department: D, E, C, A");
	cr_assert(eq(str, (char *)l->items[0].text, "D"));
	cr_assert(eq(str, (char *)l->items[1].text, "E"));
	for (size_t i = 1; i < l->count; i++)
		cr_assert(le(i64, l->items[i - 1].due, l->items[i].due));
	pf_prompt_list_free(l);

	/* A completed prompt is no longer overdue; an explicit `now` wins. */
	assert_ok(pf_prompts_pending(&l, tdb, "housekeeping"));
	assert_ok(pf_prompt_done(tdb, &l->items[0].id, "mei"));
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_overdue(&l, tdb, "housekeeping", 0));
	cr_assert(eq(sz, l->count, 2));
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_overdue(&l, tdb, NULL, T0 + 3 * 3600));
	cr_assert(eq(sz, l->count, 4), "C, A, B and E by three hours");
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_overdue(&l, tdb, "front_desk", T0 + 45 * 60));
	cr_assert(eq(sz, l->count, 0), "due at exactly now is not overdue");
	pf_prompt_list_free(l);
}

Test(prompt, seq_and_since)
{
	uint64_t s = 42;
	assert_ok(pf_prompts_seq(&s, tdb, "housekeeping"));
	cr_assert(eq(u64, s, 0));

	pf_prompt_list *l = pr_fire_book();
	for (size_t i = 0; i < 5; i++)
		cr_assert(eq(u64, l->items[i].seq, i + 1));
	assert_ok(pf_prompt_done(tdb, &l->items[0].id, "mei"));
	pf_prompt_list_free(l);

	assert_ok(pf_prompts_seq(&s, tdb, "housekeeping"));
	cr_assert(eq(u64, s, 4));
	assert_ok(pf_prompts_seq(&s, tdb, "front_desk"));
	cr_assert(eq(u64, s, 5));
	assert_ok(pf_prompts_seq(&s, tdb, "spa"));
	cr_assert(eq(u64, s, 0));

	assert_ok(pf_prompts_since(&l, tdb, "housekeeping", 0));
	cr_assert(eq(sz, l->count, 4));
	const char *want[] = { "A", "B", "C", "D" };
	for (size_t i = 0; i < 4; i++)
		cr_assert(eq(str, (char *)l->items[i].text, (char *)want[i]));
	cr_assert(eq(int, l->items[0].status, PF_PROMPT_DONE), "every status is in the feed");
	pf_prompt_list_free(l);

	assert_ok(pf_prompts_since(&l, tdb, "housekeeping", 2));
	cr_assert(eq(sz, l->count, 2));
	cr_assert(eq(str, (char *)l->items[0].text, "C"));
	cr_assert(eq(u64, l->items[0].seq, 3));
	pf_prompt_list_free(l);

	assert_ok(pf_prompts_since(&l, tdb, "front_desk", 5));
	cr_assert(eq(sz, l->count, 0));
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_since(&l, tdb, "housekeeping", UINT64_MAX));
	cr_assert(eq(sz, l->count, 0));
	pf_prompt_list_free(l);

	/* A second event moves the counters on. */
	pf_event e = PF_EVENT_INIT;
	e.id = "in-2";
	e.kind = PF_EVENT_CHECK_IN;
	e.guest = pr_guest;
	e.arrival = 20261201;
	assert_ok(pf_fire(&l, tdb, &e));
	pf_prompt_list_free(l);
	assert_ok(pf_prompts_seq(&s, tdb, "front_desk"));
	cr_assert(eq(u64, s, 10));
	assert_ok(pf_prompts_since(&l, tdb, "front_desk", 5));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].event_id, "in-2"));
	pf_prompt_list_free(l);
}

Test(prompt, survives_reopen)
{
	pf_prompt_list *l = pr_fire_book();
	assert_ok(pf_prompt_ack(tdb, &l->items[3].id, "mei"));
	db_reopen();
	pf_prompt *g = pr_get(&l->items[3].id);
	cr_assert(eq(int, g->status, PF_PROMPT_ACKNOWLEDGED));
	cr_assert(eq(str, (char *)g->ack_by, "mei"));
	pf_prompt_free(g);
	cr_assert(eq(sz, pr_pending("housekeeping"), 4));
	pf_prompt_list_free(l);
}

/* ---------------------------------------------------------- subscriptions */

struct pr_seen {
	int calls;
	int committed;            /* how many the callback could read back */
	char depts[8][32];
	char texts[8][32];
};

static void pr_record(const pf_prompt *p, void *payload)
{
	struct pr_seen *s = payload;
	if (s->calls < 8) {
		snprintf(s->depts[s->calls], sizeof s->depts[0], "%s", p->department);
		snprintf(s->texts[s->calls], sizeof s->texts[0], "%s", p->text);
	}
	s->calls++;
	/* Runs after the commit: a new read transaction sees the prompt. */
	pf_prompt *got = NULL;
	if (pf_prompt_get(&got, tdb, &p->id) == 0 && strcmp(got->text, p->text) == 0)
		s->committed++;
	pf_prompt_free(got);
}

Test(prompt, subscriber_after_commit_own_department)
{
	struct pr_seen hk = { 0 }, all = { 0 };
	assert_ok(pf_subscribe(tdb, "housekeeping", pr_record, &hk));
	assert_ok(pf_subscribe(tdb, NULL, pr_record, &all));
	pf_prompt_list *l = pr_fire_book();
	pf_prompt_list_free(l);

	cr_assert(eq(int, hk.calls, 4));
	cr_assert(eq(int, hk.committed, 4));
	for (int i = 0; i < 4; i++)
		cr_assert(eq(str, hk.depts[i], "housekeeping"));
	cr_assert(eq(str, hk.texts[0], "A"), "in the order the prompts were made");
	cr_assert(eq(str, hk.texts[3], "D"));
	cr_assert(eq(int, all.calls, 5));
	cr_assert(eq(int, all.committed, 5));
	cr_assert(eq(str, all.depts[4], "front_desk"));

	/* Firing the same event again delivers nothing new. */
	pf_event e = PF_EVENT_INIT;
	e.id = "in-1";
	e.kind = PF_EVENT_CHECK_IN;
	e.guest = pr_guest;
	assert_ok(pf_fire(&l, tdb, &e));
	pf_prompt_list_free(l);
	cr_assert(eq(int, all.calls, 5));
}

Test(prompt, unsubscribe_stops_delivery)
{
	struct pr_seen a = { 0 }, b = { 0 };
	assert_ok(pf_subscribe(tdb, "front_desk", pr_record, &a));
	assert_ok(pf_subscribe(tdb, "front_desk", pr_record, &b));
	assert_ok(pf_unsubscribe(tdb, "front_desk", pr_record, &a));
	cr_assert(eq(int, pf_unsubscribe(tdb, "front_desk", pr_record, &a), PF_ENOTFOUND));
	cr_assert(eq(int, pf_unsubscribe(tdb, NULL, pr_record, &b), PF_ENOTFOUND),
	          "the department is part of the subscription");
	pf_prompt_list *l = pr_fire_book();
	pf_prompt_list_free(l);
	cr_assert(eq(int, a.calls, 0));
	cr_assert(eq(int, b.calls, 1));
	cr_assert(eq(str, b.texts[0], "E"));
	/* The remaining subscription is freed by pf_close (LeakSanitizer). */
}

Test(prompt, subscribe_bad_arguments)
{
	int x;
	cr_assert(eq(int, pf_subscribe(tdb, "housekeeping", NULL, &x), PF_EINVAL));
	cr_assert(eq(int, pf_subscribe(NULL, "housekeeping", pr_record, &x), PF_EINVAL));
	cr_assert(eq(int, pf_subscribe(tdb, "House Keeping", pr_record, &x), PF_EINVAL));
	cr_assert(eq(int, pf_subscribe(tdb, "", pr_record, &x), PF_EINVAL));
	cr_assert(eq(int, pf_unsubscribe(tdb, "housekeeping", NULL, &x), PF_EINVAL));
	cr_assert(eq(int, pf_unsubscribe(NULL, "housekeeping", pr_record, &x), PF_EINVAL));
}

/* A callback that fires another event: delivery must not hold a lock the
 * nested pf_fire needs. */
static int pr_nested_calls;
static void pr_fire_again(const pf_prompt *p, void *payload)
{
	(void)payload;
	pr_nested_calls++;
	if (strcmp(p->event_id, "in-1") != 0)
		return;
	pf_event e = PF_EVENT_INIT;
	e.id = "in-nested";
	e.kind = PF_EVENT_CHECK_IN;
	e.guest = p->guest;
	e.arrival = 20261210;
	pf_prompt_list *l = NULL;
	if (pf_fire(&l, tdb, &e) == 0)
		pf_prompt_list_free(l);
}

Test(prompt, callback_may_fire)
{
	assert_ok(pf_subscribe(tdb, "front_desk", pr_fire_again, NULL));
	pf_prompt_list *l = pr_fire_book();
	pf_prompt_list_free(l);
	cr_assert(eq(int, pr_nested_calls, 2), "E from in-1, then E from in-nested");
	cr_assert(eq(sz, pr_pending("front_desk"), 2));
}
