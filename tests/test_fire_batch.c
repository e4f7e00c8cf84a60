/* test_fire_batch.c — pf_fire_batch: one transaction for many events, each
 * fired exactly as pf_fire fires it, all or nothing, idempotent per id. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(fire_batch, .init = db_setup, .fini = db_teardown, .timeout = 60);

static const char BOOK[] =
	"rule floor\n"
	"  on check_in\n"
	"  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"\n"
	"rule sichuan\n"
	"  on check_in\n"
	"  when pref dining.cuisine = sichuan\n"
	"  notify restaurant normal within 2h \"Suggest Sichuan dishes\"\n"
	"\n"
	"rule returning\n"
	"  on check_in\n"
	"  when stays >= 1\n"
	"  notify front_desk normal \"Welcome back, {name}: stay number {stays + 1}\"\n";

#define N 12

static pf_id guests[N];        /* in tdb */
static pf_id twin_guests[N];   /* the same guests in the twin database */

static void pref(pf_db *db, const pf_id *g, const char *category, const char *value)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "front_desk";
	assert_ok(pf_pref_set(db, g, category, value, &o));
}

/* N guests, two thirds with a floor, every other one eating Sichuan. */
static void seed(pf_db *db, pf_id *ids)
{
	pf_rule_error err;
	assert_ok(pf_rules_load(db, "batch.rules", BOOK, strlen(BOOK), &err));
	for (int i = 0; i < N; i++) {
		char name[32], floor[16];
		snprintf(name, sizeof name, "Guest %02d", i);
		pf_guest g = PF_GUEST_INIT;    /* with consent to profiling */
		g.name = name;
		assert_ok(pf_guest_put(db, &g));
		ids[i] = g.id;
		if (i % 3 != 2) {
			snprintf(floor, sizeof floor, "%d", 3 + i);
			pref(db, &ids[i], "room.floor", floor);
		}
		if (i % 2 == 0)
			pref(db, &ids[i], "dining.cuisine", "sichuan");
	}
}

static pf_event check_in(int i, char *idbuf, size_t cap)
{
	snprintf(idbuf, cap, "res-%02d", i);
	pf_event ev = PF_EVENT_INIT;
	ev.kind = PF_EVENT_CHECK_IN;
	ev.id = idbuf;
	ev.guest = guests[i % N];
	ev.room = "1001";
	return ev;
}

/* Check-ins of all N guests (their ids in ids[]), fired as one batch on
 * tdb; out[i] is what events[i] made. */
static void fire_all(pf_event evs[N], char ids[N][16], pf_prompt_list *out[N])
{
	for (int i = 0; i < N; i++)
		evs[i] = check_in(i, ids[i], sizeof ids[i]);
	assert_ok(pf_fire_batch(out, tdb, evs, N));
}

/* What a prompt says, without its id and sequence (those differ between
 * two databases). */
static void same_prompt(const pf_prompt *a, const pf_prompt *b)
{
	cr_assert_str_eq(a->department, b->department);
	cr_assert_str_eq(a->rule, b->rule);
	cr_assert_str_eq(a->text, b->text);
	cr_assert_str_eq(a->event_id, b->event_id);
	cr_assert(eq(int, a->priority, b->priority));
	cr_assert(eq(i64, a->due, b->due));
	cr_assert(eq(i64, a->created, b->created));
	cr_assert(eq(int, a->status, b->status));
}

Test(fire_batch, same_prompts_and_stays_as_pf_fire_one_by_one)
{
	seed(tdb, guests);
	/* A twin database fired one event at a time. */
	char twin[300];
	snprintf(twin, sizeof twin, "%s/twin", tdir);
	pf_options o = test_options();
	pf_db *db2 = NULL;
	assert_ok(pf_open(&db2, twin, &o));
	seed(db2, twin_guests);

	pf_event evs[N];
	char ids[N][16];
	pf_prompt_list *out[N];
	fire_all(evs, ids, out);
	for (int i = 0; i < N; i++) {
		pf_prompt_list *one = NULL;
		pf_event twin_ev = evs[i];
		twin_ev.guest = twin_guests[i];
		assert_ok(pf_fire(&one, db2, &twin_ev));
		cr_assert(eq(sz, out[i]->count, one->count), "event %d", i);
		for (size_t j = 0; j < one->count; j++) {
			same_prompt(&out[i]->items[j], &one->items[j]);
			cr_assert(eq(int, memcmp(out[i]->items[j].guest.b, guests[i].b, 16), 0));
			cr_assert(not(pf_id_is_zero(&out[i]->items[j].id)));
		}
		pf_prompt_list_free(one);
		pf_prompt_list_free(out[i]);

		pf_stay_list *s1 = NULL, *s2 = NULL;
		assert_ok(pf_stay_list_get(&s1, tdb, &guests[i]));
		assert_ok(pf_stay_list_get(&s2, db2, &twin_guests[i]));
		cr_assert(eq(sz, s1->count, 1));
		cr_assert(eq(sz, s2->count, 1));
		pf_stay_list_free(s1);
		pf_stay_list_free(s2);
	}
	/* The same pending work, department by department. */
	const char *depts[] = { "front_desk", "restaurant" };
	for (int d = 0; d < 2; d++) {
		pf_prompt_list *a = NULL, *b = NULL;
		assert_ok(pf_prompts_pending(&a, tdb, depts[d]));
		assert_ok(pf_prompts_pending(&b, db2, depts[d]));
		cr_assert(eq(sz, a->count, b->count));
		cr_assert(gt(sz, a->count, 0));
		pf_prompt_list_free(a);
		pf_prompt_list_free(b);
	}
	pf_close(db2);
}

Test(fire_batch, one_bad_event_stores_nothing_and_is_named)
{
	seed(tdb, guests);
	uint64_t seq0 = 0, seq1 = 0;
	assert_ok(pf_journal_last_seq(&seq0, tdb));
	pf_event evs[5];
	char ids[5][16];
	for (int i = 0; i < 5; i++)
		evs[i] = check_in(i, ids[i], sizeof ids[i]);
	pf_id nobody;
	memset(nobody.b, 0x5a, sizeof nobody.b);
	evs[3].guest = nobody;
	pf_prompt_list *out[5];
	memset(out, 0x1, sizeof out);
	cr_assert(eq(int, pf_fire_batch(out, tdb, evs, 5), PF_ENOTFOUND));
	cr_assert(not(strstr(pf_errmsg(), "pf_fire_batch: events[3]: ") == NULL), "%s",
	          pf_errmsg());
	for (int i = 0; i < 5; i++)
		cr_assert(eq(ptr, out[i], NULL));
	assert_ok(pf_journal_last_seq(&seq1, tdb));
	cr_assert(eq(u64, seq0, seq1), "the batch left journal entries");
	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_pending(&l, tdb, "front_desk"));
	cr_assert(eq(sz, l->count, 0), "events before the bad one were stored");
	pf_prompt_list_free(l);
	pf_stay_list *s = NULL;
	assert_ok(pf_stay_list_get(&s, tdb, &guests[0]));
	cr_assert(eq(sz, s->count, 0));
	pf_stay_list_free(s);

	/* A bad event (no id) is refused before anything starts, by index. */
	evs[3].guest = guests[3];
	evs[1].id = NULL;
	cr_assert(eq(int, pf_fire_batch(out, tdb, evs, 5), PF_EINVAL));
	cr_assert(not(strstr(pf_errmsg(), "events[1]") == NULL), "%s", pf_errmsg());
}

Test(fire_batch, repeated_ids_fire_once)
{
	seed(tdb, guests);
	pf_event evs[4];
	char ids[4][16];
	for (int i = 0; i < 3; i++)
		evs[i] = check_in(i, ids[i], sizeof ids[i]);
	evs[3] = evs[0];            /* the same reservation twice in one batch */
	pf_prompt_list *out[4];
	assert_ok(pf_fire_batch(out, tdb, evs, 4));
	cr_assert(gt(sz, out[0]->count, 0));
	cr_assert(eq(sz, out[3]->count, out[0]->count));
	for (size_t j = 0; j < out[0]->count; j++)
		cr_assert(eq(int, memcmp(out[3]->items[j].id.b, out[0]->items[j].id.b, 16), 0));
	pf_stay_list *s = NULL;
	assert_ok(pf_stay_list_get(&s, tdb, &guests[0]));
	cr_assert(eq(sz, s->count, 1), "the repeated check-in recorded a second stay");
	pf_stay_list_free(s);

	/* The whole batch again: nothing new, the same prompts back. */
	pf_prompt_list *again[4];
	uint64_t seq0 = 0, seq1 = 0;
	assert_ok(pf_journal_last_seq(&seq0, tdb));
	assert_ok(pf_fire_batch(again, tdb, evs, 4));
	assert_ok(pf_journal_last_seq(&seq1, tdb));
	cr_assert(eq(u64, seq0, seq1));
	for (int i = 0; i < 4; i++) {
		cr_assert(eq(sz, again[i]->count, out[i]->count));
		for (size_t j = 0; j < out[i]->count; j++)
			cr_assert(eq(int, memcmp(again[i]->items[j].id.b, out[i]->items[j].id.b, 16), 0));
		pf_prompt_list_free(again[i]);
		pf_prompt_list_free(out[i]);
	}
}

Test(fire_batch, bad_arguments)
{
	pf_prompt_list *out[2];
	pf_event ev = PF_EVENT_INIT;
	cr_assert(eq(int, pf_fire_batch(NULL, tdb, &ev, 1), PF_EINVAL));
	cr_assert(eq(int, pf_fire_batch(out, NULL, &ev, 1), PF_EINVAL));
	cr_assert(eq(ptr, out[0], NULL));
	cr_assert(eq(int, pf_fire_batch(out, tdb, NULL, 1), PF_EINVAL));
	cr_assert(eq(int, pf_fire_batch(out, tdb, NULL, 0), 0));
	cr_assert(eq(int, pf_fire_batch(out, tdb, &ev, PF_FIRE_BATCH_MAX + 1), PF_EINVAL));
}

/* Prompt ids are time-ordered: a batch's prompts sort in creation order,
 * so they append to the right edge of the prompt tree. */
Test(fire_batch, prompt_ids_increase)
{
	seed(tdb, guests);
	pf_event evs[N];
	char ids[N][16];
	pf_prompt_list *out[N];
	fire_all(evs, ids, out);
	pf_id prev;
	memset(&prev, 0, sizeof prev);
	size_t seen = 0;
	for (int i = 0; i < N; i++) {
		for (size_t j = 0; j < out[i]->count; j++) {
			const pf_id *id = &out[i]->items[j].id;
			cr_assert(gt(int, memcmp(id->b, prev.b, 16), 0), "prompt ids out of order");
			cr_assert(eq(int, id->b[6] >> 4, 7), "not a version-7 UUID");
			prev = *id;
			seen++;
		}
		pf_prompt_list_free(out[i]);
	}
	cr_assert(gt(sz, seen, 5));
}
