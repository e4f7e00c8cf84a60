/* test_stay.c — stays: recording, listing in arrival order, updating a stay
 * with the same arrival, the guest's stay counter, argument checking and
 * persistence; pf_stay_add_batch (the same writes as single adds, atomic,
 * the failing index reported). */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(stay, .init = db_setup, .fini = db_teardown, .timeout = 60);

static pf_stay s_make(pf_id guest, pf_date arrival, pf_date departure)
{
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = guest, .arrival = arrival, .departure = departure };
	return s;
}

static uint32_t s_counter(pf_id id)
{
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	uint32_t n = g->stays;
	pf_guest_free(g);
	return n;
}

/* "arrival-departure/room/party;..." of a guest's stays. */
static char *s_snapshot(pf_id id)
{
	pf_stay_list *l = NULL;
	assert_ok(pf_stay_list_get(&l, tdb, &id));
	size_t cap = 64 + l->count * 320, n = 0;
	char *s = malloc(cap);
	cr_assert(s != NULL);
	s[0] = '\0';
	for (size_t i = 0; i < l->count; i++) {
		const pf_stay *st = &l->items[i];
		cr_assert(memcmp(st->guest.b, id.b, 16) == 0);
		n += (size_t)snprintf(s + n, cap - n, "%d-%d/%s/%s/%u;", (int)st->arrival,
		                      (int)st->departure, st->property ? st->property : "-",
		                      st->room ? st->room : "-", st->party);
	}
	pf_stay_list_free(l);
	return s;
}

Test(stay, add_and_list_round_trip)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_stay s = s_make(id, 20261201, 20261205);
	s.property = "MFM1";
	s.room = "1012";
	s.party = 2;
	assert_ok(pf_stay_add(tdb, &s));

	pf_stay_list *l = NULL;
	assert_ok(pf_stay_list_get(&l, tdb, &id));
	cr_assert(eq(sz, l->count, 1));
	pf_stay *r = &l->items[0];
	cr_assert(memcmp(r->guest.b, id.b, 16) == 0);
	cr_assert(eq(i32, r->arrival, 20261201));
	cr_assert(eq(i32, r->departure, 20261205));
	cr_assert(eq(str, (char *)r->property, "MFM1"));
	cr_assert(eq(str, (char *)r->room, "1012"));
	cr_assert(eq(u32, r->party, 2));
	pf_stay_list_free(l);
	cr_assert(eq(u32, s_counter(id), 1));
}

Test(stay, optional_fields_may_be_absent)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_stay s = s_make(id, 20261201, 20261202);
	assert_ok(pf_stay_add(tdb, &s));
	char *snap = s_snapshot(id);
	cr_assert(eq(str, snap, "20261201-20261202/-/-/0;"));
	free(snap);
}

Test(stay, listed_in_arrival_order)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_date arrivals[] = { 20270105, 20261201, 20270301, 20251231, 20261130 };
	for (size_t i = 0; i < sizeof arrivals / sizeof *arrivals; i++) {
		pf_date dep;
		assert_ok(pf_date_make(&dep, arrivals[i] / 10000 + 1, 1, 1));
		pf_stay s = s_make(id, arrivals[i], dep);
		assert_ok(pf_stay_add(tdb, &s));
	}
	pf_stay_list *l = NULL;
	assert_ok(pf_stay_list_get(&l, tdb, &id));
	cr_assert(eq(sz, l->count, 5));
	pf_date want[] = { 20251231, 20261130, 20261201, 20270105, 20270301 };
	for (size_t i = 0; i < 5; i++)
		cr_assert(eq(i32, l->items[i].arrival, want[i]));
	pf_stay_list_free(l);
	cr_assert(eq(u32, s_counter(id), 5));
}

Test(stay, same_arrival_updates_and_counts_once)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_stay s = s_make(id, 20261201, 20261205);
	s.room = "1012";
	assert_ok(pf_stay_add(tdb, &s));
	s.room = "1514";
	s.departure = 20261207;
	s.party = 3;
	assert_ok(pf_stay_add(tdb, &s));
	assert_ok(pf_stay_add(tdb, &s));
	char *snap = s_snapshot(id);
	cr_assert(eq(str, snap, "20261201-20261207/-/1514/3;"));
	free(snap);
	cr_assert(eq(u32, s_counter(id), 1), "the same stay must not count twice");

	pf_stay s2 = s_make(id, 20261205, 20261206);
	assert_ok(pf_stay_add(tdb, &s2));
	cr_assert(eq(u32, s_counter(id), 2));
}

Test(stay, guests_stays_do_not_mix)
{
	pf_id a = add_guest("Ana Lima", NULL, NULL);
	pf_id b = add_guest("Rui Lima", NULL, NULL);
	pf_stay s = s_make(a, 20261201, 20261203);
	assert_ok(pf_stay_add(tdb, &s));
	s = s_make(b, 20261202, 20261204);
	assert_ok(pf_stay_add(tdb, &s));
	s = s_make(a, 20261210, 20261212);
	assert_ok(pf_stay_add(tdb, &s));

	char *sa = s_snapshot(a), *sb = s_snapshot(b);
	cr_assert(eq(str, sa, "20261201-20261203/-/-/0;20261210-20261212/-/-/0;"));
	cr_assert(eq(str, sb, "20261202-20261204/-/-/0;"));
	free(sa);
	free(sb);
	cr_assert(eq(u32, s_counter(a), 2));
	cr_assert(eq(u32, s_counter(b), 1));

	pf_id c = add_guest("No Stays", NULL, NULL);
	char *sc = s_snapshot(c);
	cr_assert(eq(str, sc, ""));
	free(sc);
}

Test(stay, stay_counter_survives_profile_update)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_stay s = s_make(id, 20261201, 20261205);
	assert_ok(pf_stay_add(tdb, &s));
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	pf_guest c = *g;
	c.name = "Zhuang Wei Jr";
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);
	cr_assert(eq(u32, s_counter(id), 1));
	s = s_make(id, 20270101, 20270102);
	assert_ok(pf_stay_add(tdb, &s));
	cr_assert(eq(u32, s_counter(id), 2));
}

Test(stay, add_rejects_bad_arguments_and_changes_nothing)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_stay good = s_make(id, 20261201, 20261205);
	assert_ok(pf_stay_add(tdb, &good));
	char *before = s_snapshot(id);

	char longfield[PF_FIELD_MAX + 2];
	memset(longfield, 'r', sizeof longfield - 1);
	longfield[sizeof longfield - 1] = '\0';
	pf_id zero = { { 0 } };

	enum { V = PF_STAY_VERSION };
	struct { const char *what; pf_stay s; } cases[] = {
		{ "departure before", s_make(id, 20261210, 20261209) },
		{ "departure a year before", s_make(id, 20261210, 20251210) },
		{ "impossible arrival", s_make(id, 20260230, 20260305) },
		{ "impossible departure", s_make(id, 20260201, 20260230) },
		{ "month 13", s_make(id, 20261301, 20270105) },
		{ "zero arrival", s_make(id, 0, 20261205) },
		{ "zero departure", s_make(id, 20261201, 0) },
		{ "negative date", s_make(id, -20261201, 20261205) },
		{ "zero guest", s_make(zero, 20261210, 20261212) },
		{ "party 1001", { .version = V, .guest = id, .arrival = 20261210, .departure = 20261212,
		                  .party = 1001 } },
		{ "empty property", { .version = V, .guest = id, .arrival = 20261210, .departure = 20261212,
		                      .property = "" } },
		{ "non-UTF-8 property", { .version = V, .guest = id, .arrival = 20261210,
		                          .departure = 20261212, .property = "\xff" } },
		{ "long room", { .version = V, .guest = id, .arrival = 20261210, .departure = 20261212,
		                 .room = longfield } },
		{ "non-UTF-8 room over an existing stay",
		  { .version = V, .guest = id, .arrival = 20261201, .departure = 20261206, .room = "\xc3" } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = pf_stay_add(tdb, &cases[i].s);
		cr_assert(eq(int, rc, PF_EINVAL), "%s: rc %d", cases[i].what, rc);
		cr_assert(strstr(pf_errmsg(), "pf_stay_add") != NULL, "%s: %s", cases[i].what,
		          pf_errmsg());
		char *after = s_snapshot(id);
		cr_assert(eq(str, after, before), "%s changed data", cases[i].what);
		free(after);
	}
	cr_assert(eq(int, pf_stay_add(NULL, &good), PF_EINVAL));
	cr_assert(eq(int, pf_stay_add(tdb, NULL), PF_EINVAL));
	cr_assert(eq(u32, s_counter(id), 1));
	free(before);

	/* the limits themselves are fine */
	pf_stay edge = s_make(id, 20261231, 20270101);
	edge.party = 1000;
	edge.room = longfield + 1;   /* exactly PF_FIELD_MAX bytes */
	assert_ok(pf_stay_add(tdb, &edge));
	/* departure on the arrival day: a day-use stay (0 nights) */
	pf_stay day = s_make(id, 20261210, 20261210);
	assert_ok(pf_stay_add(tdb, &day));
	cr_assert(eq(u32, s_counter(id), 3));
}

Test(stay, unknown_guest_is_not_found)
{
	pf_id ghost;
	memset(ghost.b, 0x33, sizeof ghost.b);
	pf_stay s = s_make(ghost, 20261201, 20261205);
	cr_assert(eq(int, pf_stay_add(tdb, &s), PF_ENOTFOUND));
	pf_stay_list *l = (pf_stay_list *)0x1;
	cr_assert(eq(int, pf_stay_list_get(&l, tdb, &ghost), PF_ENOTFOUND));
	cr_assert(l == NULL);
	cr_assert(strstr(pf_errmsg(), "pf_stay_list_get") != NULL);
}

Test(stay, list_rejects_bad_arguments)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_id zero = { { 0 } };
	pf_stay_list *l = (pf_stay_list *)0x1;
	cr_assert(eq(int, pf_stay_list_get(NULL, tdb, &id), PF_EINVAL));
	cr_assert(eq(int, pf_stay_list_get(&l, NULL, &id), PF_EINVAL));
	cr_assert(l == NULL);
	l = (pf_stay_list *)0x1;
	cr_assert(eq(int, pf_stay_list_get(&l, tdb, NULL), PF_EINVAL));
	cr_assert(l == NULL);
	cr_assert(eq(int, pf_stay_list_get(&l, tdb, &zero), PF_EINVAL));
}

Test(stay, stays_survive_reopen)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_stay s = s_make(id, 20261201, 20261205);
	s.property = "澳門一號";
	s.room = "1012";
	s.party = 4;
	assert_ok(pf_stay_add(tdb, &s));
	s = s_make(id, 20270101, 20270103);
	assert_ok(pf_stay_add(tdb, &s));
	char *before = s_snapshot(id);
	db_reopen();
	char *after = s_snapshot(id);
	cr_assert(eq(str, after, before));
	cr_assert(eq(str, after, "20261201-20261205/澳門一號/1012/4;20270101-20270103/-/-/0;"));
	free(before);
	free(after);
	cr_assert(eq(u32, s_counter(id), 2));
}

Test(stay, read_only_database_lists_but_refuses_adds)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_stay s = s_make(id, 20261201, 20261205);
	assert_ok(pf_stay_add(tdb, &s));
	pf_close(tdb);
	tdb = NULL;
	pf_options ro = test_options();
	ro.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &ro));
	s = s_make(id, 20270101, 20270105);
	cr_assert(eq(int, pf_stay_add(tdb, &s), PF_EREADONLY));
	char *snap = s_snapshot(id);
	cr_assert(eq(str, snap, "20261201-20261205/-/-/0;"));
	free(snap);
}

/* ---- pf_stay_add_batch ---- */

/* How many "stay.add" entries the journal holds about `id`. */
static size_t s_journaled(pf_id id)
{
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	size_t n = 0;
	assert_ok(pf_journal_iter(&it, tdb, 0, &id));
	while (pf_journal_next(&e, it) == 0)
		n += strcmp(e->op, "stay.add") == 0;
	pf_journal_iterator_free(it);
	return n;
}

Test(stay, batch_writes_what_single_adds_would)
{
	pf_id a = add_guest("Batch Alpha", NULL, NULL), b = add_guest("Batch Beta", NULL, NULL);
	pf_id c = add_guest("Single Alpha", NULL, NULL), d = add_guest("Single Beta", NULL, NULL);
	/* Interleaved guests, an arrival given twice (an update, counted once),
	 * a day-use stay. */
	pf_stay v[] = {
		s_make(a, 20250101, 20250104), s_make(a, 20250301, 20250302),
		s_make(b, 20250110, 20250111), s_make(a, 20250101, 20250105),
		s_make(b, 20250210, 20250210), s_make(a, 20250401, 20250403),
	};
	v[3].room = "1012";
	v[4].party = 3;
	size_t n = sizeof v / sizeof *v, failed = 99;
	assert_ok(pf_stay_add_batch(tdb, v, n, &failed));
	cr_assert(eq(sz, failed, n));
	/* The same stays one pf_stay_add each, on two other guests. */
	for (size_t i = 0; i < n; i++) {
		pf_stay s = v[i];
		s.guest = memcmp(&s.guest, &a, sizeof a) == 0 ? c : d;
		assert_ok(pf_stay_add(tdb, &s));
	}
	char *sa = s_snapshot(a), *sc = s_snapshot(c), *sb = s_snapshot(b), *sd = s_snapshot(d);
	cr_assert(eq(str, sa, sc));
	cr_assert(eq(str, sb, sd));
	cr_assert(eq(str, sa, "20250101-20250105/-/1012/0;20250301-20250302/-/-/0;"
	                      "20250401-20250403/-/-/0;"));
	free(sa); free(sb); free(sc); free(sd);
	cr_assert(eq(u32, s_counter(a), 3));
	cr_assert(eq(u32, s_counter(a), s_counter(c)));
	cr_assert(eq(u32, s_counter(b), 2));
	cr_assert(eq(u32, s_counter(b), s_counter(d)));
	/* One "stay.add" per stay given, as the single adds journal. */
	cr_assert(eq(sz, s_journaled(a), 4));
	cr_assert(eq(sz, s_journaled(a), s_journaled(c)));
	cr_assert(eq(sz, s_journaled(b), s_journaled(d)));
	/* Committed durably: still there after a reopen. */
	db_reopen();
	cr_assert(eq(u32, s_counter(a), 3));
}

/* A stay that fails its checks: found before the transaction, nothing
 * stored, its index reported. */
Test(stay, batch_with_a_bad_stay_stores_nothing)
{
	pf_id a = add_guest("Batch Alpha", NULL, NULL);
	pf_stay v[] = { s_make(a, 20250101, 20250104), s_make(a, 20250301, 20250302),
	                s_make(a, 20250410, 20250409) };
	size_t failed = 0;
	cr_assert(eq(int, pf_stay_add_batch(tdb, v, 3, &failed), PF_EINVAL));
	cr_assert(eq(sz, failed, 2));
	cr_assert(strstr(pf_errmsg(), "pf_stay_add_batch: stays[2]: departure") != NULL, "%s",
	          pf_errmsg());
	char *snap = s_snapshot(a);
	cr_assert(eq(str, snap, ""));
	free(snap);
	cr_assert(eq(u32, s_counter(a), 0));
	cr_assert(eq(sz, s_journaled(a), 0));
}

/* A stay only the stored data can refuse (its guest does not exist):
 * found inside the transaction, after earlier stays were written there;
 * the whole transaction is abandoned. */
Test(stay, batch_failing_in_the_transaction_stores_nothing)
{
	pf_id a = add_guest("Batch Alpha", NULL, NULL), b = add_guest("Batch Beta", NULL, NULL);
	pf_id ghost;
	memset(ghost.b, 0x44, sizeof ghost.b);
	pf_stay v[] = { s_make(a, 20250101, 20250104), s_make(b, 20250301, 20250302),
	                s_make(ghost, 20250410, 20250412), s_make(a, 20250501, 20250502) };
	size_t failed = 0;
	cr_assert(eq(int, pf_stay_add_batch(tdb, v, 4, &failed), PF_ENOTFOUND));
	cr_assert(eq(sz, failed, 2));
	cr_assert(strstr(pf_errmsg(), "pf_stay_add_batch: stays[2]: ") != NULL, "%s",
	          pf_errmsg());
	char *sa = s_snapshot(a), *sb = s_snapshot(b);
	cr_assert(eq(str, sa, ""));
	cr_assert(eq(str, sb, ""));
	free(sa);
	free(sb);
	cr_assert(eq(u32, s_counter(a), 0));
	cr_assert(eq(u32, s_counter(b), 0));
	cr_assert(eq(sz, s_journaled(a), 0));
	cr_assert(eq(sz, s_journaled(b), 0));
}

Test(stay, batch_arguments)
{
	pf_id a = add_guest("Batch Alpha", NULL, NULL);
	pf_stay s = s_make(a, 20250101, 20250104);
	size_t failed = 7;
	assert_ok(pf_stay_add_batch(tdb, NULL, 0, &failed));   /* nothing to do */
	cr_assert(eq(sz, failed, 0));
	assert_ok(pf_stay_add_batch(tdb, &s, 1, NULL));
	cr_assert(eq(u32, s_counter(a), 1));
	cr_assert(eq(int, pf_stay_add_batch(NULL, &s, 1, &failed), PF_EINVAL));
	cr_assert(eq(int, pf_stay_add_batch(tdb, NULL, 2, &failed), PF_EINVAL));
	cr_assert(eq(sz, failed, 2));
	pf_stay bad = s;
	bad.version = 0;
	cr_assert(eq(int, pf_stay_add_batch(tdb, &bad, 1, &failed), PF_EINVAL));
	cr_assert(eq(sz, failed, 0));
	cr_assert(strstr(pf_errmsg(), "stays[0]: unknown pf_stay version") != NULL, "%s",
	          pf_errmsg());
}

Test(stay, batch_refused_on_a_read_only_database)
{
	pf_id a = add_guest("Batch Alpha", NULL, NULL);
	pf_close(tdb);
	tdb = NULL;
	pf_options ro = test_options();
	ro.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &ro));
	pf_stay s = s_make(a, 20250101, 20250104);
	cr_assert(eq(int, pf_stay_add_batch(tdb, &s, 1, NULL), PF_EREADONLY));
}
