/* test_guest_atomic.c — the atomic guest calls of issue 9: pf_guest_update
 * (partial update in one transaction), pf_guest_get_or_put (find or
 * create, raced by several processes), the truncated flag of
 * pf_guest_find, and the country field. */
#include "helpers.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(guest_atomic, .init = db_setup, .fini = db_teardown, .timeout = 120);

static bool streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static pf_guest *get(pf_id id)
{
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	return g;
}

/* ------------------------------------------------------------ update */

Test(guest_atomic, update_changes_only_named_fields)
{
	pf_guest g = PF_GUEST_INIT;
	const char *tags[] = { "advertising" };
	g.name = "Zhuang Wei";
	g.email = "wei@example.com";
	g.phone = "+853 6123 4567";
	g.language = "zh";
	g.country = "MAC";
	g.tier = PF_TIER_GOLD;
	g.tags = tags;
	g.tag_count = 1;
	assert_ok(pf_guest_put(tdb, &g));
	set_pref(&g.id, "room.floor", "10", PF_LIKE);
	tclock += 60;

	pf_guest f = PF_GUEST_INIT;
	f.name = "ignored: not in the mask";
	f.email = "wei@new.example.com";
	f.language = NULL;          /* named: cleared */
	assert_ok(pf_guest_update(tdb, &g.id, &f, PF_GUEST_EMAIL | PF_GUEST_LANGUAGE));

	pf_guest *r = get(g.id);
	cr_assert(streq(r->name, "Zhuang Wei"));
	cr_assert(streq(r->email, "wei@new.example.com"));
	cr_assert(streq(r->phone, "+853 6123 4567"));
	cr_assert(r->language == NULL);
	cr_assert(streq(r->country, "MAC"));
	cr_assert(eq(int, r->tier, PF_TIER_GOLD));
	cr_assert(eq(sz, r->tag_count, 1));
	cr_assert(eq(sz, r->pref_count, 1), "preferences are kept");
	cr_assert(eq(i64, r->updated, T0 + 60));
	cr_assert(eq(i64, r->created, T0));
	pf_guest_free(r);

	/* The indexes moved with the e-mail. */
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "wei@new.example.com"));
	cr_assert(eq(sz, l->count, 1));
	pf_guest_list_free(l);
	assert_ok(pf_guest_find(&l, tdb, "wei@example.com"));
	cr_assert(eq(sz, l->count, 0));
	pf_guest_list_free(l);

	/* Mask 0: nothing changes, the guest must exist. */
	assert_ok(pf_guest_update(tdb, &g.id, &f, 0));
	r = get(g.id);
	cr_assert(eq(i64, r->updated, T0 + 60));
	pf_guest_free(r);
}

Test(guest_atomic, update_refuses_bad_input_and_keeps_data)
{
	pf_id a = add_guest("Ana Lima", "ana@example.com", NULL);
	pf_guest g = PF_GUEST_INIT;
	g.name = "Rui Costa";
	g.external_id = "PMS-1";
	assert_ok(pf_guest_put(tdb, &g));

	pf_guest f = PF_GUEST_INIT;
	cr_assert(eq(int, pf_guest_update(NULL, &a, &f, PF_GUEST_NAME), PF_EINVAL));
	cr_assert(eq(int, pf_guest_update(tdb, NULL, &f, PF_GUEST_NAME), PF_EINVAL));
	cr_assert(eq(int, pf_guest_update(tdb, &a, NULL, PF_GUEST_NAME), PF_EINVAL));
	pf_id zero = { { 0 } };
	cr_assert(eq(int, pf_guest_update(tdb, &zero, &f, PF_GUEST_NAME), PF_EINVAL));
	cr_assert(eq(int, pf_guest_update(tdb, &a, &f, 0x8000u), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "mask") != NULL, "%s", pf_errmsg());

	f.name = NULL;   /* the name is required */
	cr_assert(eq(int, pf_guest_update(tdb, &a, &f, PF_GUEST_NAME), PF_EINVAL));
	f.email = "not-an-address";
	cr_assert(eq(int, pf_guest_update(tdb, &a, &f, PF_GUEST_EMAIL), PF_EINVAL));
	f.country = "mac";
	cr_assert(eq(int, pf_guest_update(tdb, &a, &f, PF_GUEST_COUNTRY), PF_EINVAL));
	f.external_id = "PMS-1";  /* Rui's */
	cr_assert(eq(int, pf_guest_update(tdb, &a, &f, PF_GUEST_EXTERNAL_ID), PF_EEXIST));

	pf_id nobody;
	pf_id_parse(&nobody, "0f0e0d0c-0b0a-4908-8706-050403020100");
	f.name = "X";
	cr_assert(eq(int, pf_guest_update(tdb, &nobody, &f, PF_GUEST_NAME), PF_ENOTFOUND));

	pf_guest *r = get(a);
	cr_assert(streq(r->name, "Ana Lima"));
	cr_assert(streq(r->email, "ana@example.com"));
	cr_assert(r->external_id == NULL && r->country == NULL);
	pf_guest_free(r);
}

/* Two processes change different fields of one guest at the same time,
 * many times: with a read in one transaction and a write in another, one
 * side's change would be lost; pf_guest_update loses none. */
Test(guest_atomic, concurrent_updates_of_different_fields_both_survive)
{
	pf_id id = add_guest("Zhuang Wei", "w0@example.com", "+853 6000 0000");
	char dir[sizeof tdir];
	memcpy(dir, tdir, sizeof dir);
	enum { ROUNDS = 150 };
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		cr_assert(kids[k] >= 0);
		if (kids[k] == 0) {
			pf_db *db = NULL;
			if (pf_open(&db, dir, NULL))
				_exit(10);
			for (int i = 1; i <= ROUNDS; i++) {
				char v[64];
				pf_guest f = PF_GUEST_INIT;
				if (k == 0) {
					snprintf(v, sizeof v, "w%d@example.com", i);
					f.email = v;
				} else {
					snprintf(v, sizeof v, "+853 6000 %04d", i);
					f.phone = v;
				}
				if (pf_guest_update(db, &id, &f, k == 0 ? PF_GUEST_EMAIL : PF_GUEST_PHONE))
					_exit(11);
			}
			pf_close(db);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st = 0;
		cr_assert(eq(int, waitpid(kids[k], &st, 0), kids[k]));
		bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		cr_assert(ok, "child %d: status %d", k, st);
	}
	pf_guest *r = get(id);
	char want[64];
	snprintf(want, sizeof want, "w%d@example.com", ROUNDS);
	cr_assert(streq(r->email, want), "email %s", r->email);
	snprintf(want, sizeof want, "+853 6000 %04d", ROUNDS);
	cr_assert(streq(r->phone, want), "phone %s", r->phone);
	pf_guest_free(r);
}

/* -------------------------------------------------------- get or put */

Test(guest_atomic, get_or_put_creates_once_then_finds)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Élodie Martin";
	g.email = "Elodie@Example.com";
	g.country = "FRA";
	pf_guest *out = NULL;
	int created = -1;
	assert_ok(pf_guest_get_or_put(&out, &created, tdb, &g));
	cr_assert(eq(int, created, 1));
	cr_assert(streq(out->name, "Élodie Martin"));
	cr_assert(streq(out->country, "FRA"));
	pf_id first = out->id;
	cr_assert(eq(int, pf_id_is_zero(&first), 0));
	pf_guest_free(out);

	/* Same e-mail in another case, another name: found, unchanged. */
	g.name = "E. Martin";
	g.email = "elodie@example.COM";
	assert_ok(pf_guest_get_or_put(&out, &created, tdb, &g));
	cr_assert(eq(int, created, 0));
	cr_assert(eq(int, memcmp(out->id.b, first.b, 16), 0));
	cr_assert(streq(out->name, "Élodie Martin"), "an existing guest is not changed");
	pf_guest_free(out);

	/* created may be NULL. */
	assert_ok(pf_guest_get_or_put(&out, NULL, tdb, &g));
	pf_guest_free(out);
}

Test(guest_atomic, get_or_put_matches_in_order_external_id_email_phone)
{
	pf_guest a = PF_GUEST_INIT;
	a.name = "Ana";
	a.external_id = "PMS-7";
	assert_ok(pf_guest_put(tdb, &a));
	pf_id b = add_guest("Bea", "bea@example.com", "+351 912 345 678");

	pf_guest *out = NULL;
	int created = -1;
	/* The external id decides even when the e-mail is someone else's. */
	pf_guest q = PF_GUEST_INIT;
	q.name = "whoever";
	q.external_id = "PMS-7";
	q.email = "bea@example.com";
	assert_ok(pf_guest_get_or_put(&out, &created, tdb, &q));
	cr_assert(eq(int, created, 0));
	cr_assert(eq(int, memcmp(out->id.b, a.id.b, 16), 0));
	pf_guest_free(out);

	/* An unknown external id creates, even though the e-mail exists:
	 * only the first identifier given is matched. */
	q.external_id = "PMS-8";
	q.email = NULL;
	assert_ok(pf_guest_get_or_put(&out, &created, tdb, &q));
	cr_assert(eq(int, created, 1));
	pf_guest_free(out);

	/* Phone: only the digits count. */
	pf_guest p = PF_GUEST_INIT;
	p.name = "someone";
	p.phone = "351912345678";
	assert_ok(pf_guest_get_or_put(&out, &created, tdb, &p));
	cr_assert(eq(int, created, 0));
	cr_assert(eq(int, memcmp(out->id.b, b.b, 16), 0));
	pf_guest_free(out);
}

Test(guest_atomic, get_or_put_refuses_bad_and_ambiguous)
{
	add_guest("Twin One", "family@example.com", NULL);
	add_guest("Twin Two", "family@example.com", NULL);
	pf_guest *out = (pf_guest *)1;
	int created = -1;
	pf_guest q = PF_GUEST_INIT;
	q.name = "Twin";
	q.email = "family@example.com";
	cr_assert(eq(int, pf_guest_get_or_put(&out, &created, tdb, &q), PF_EEXIST));
	cr_assert(out == NULL && created == 0);
	cr_assert(strstr(pf_errmsg(), "family@") == NULL, "no personal data: %s", pf_errmsg());

	q.email = NULL;   /* nothing to match on */
	cr_assert(eq(int, pf_guest_get_or_put(&out, &created, tdb, &q), PF_EINVAL));
	q.email = "x@example.com";
	q.name = NULL;    /* invalid for a put */
	cr_assert(eq(int, pf_guest_get_or_put(&out, &created, tdb, &q), PF_EINVAL));
	cr_assert(eq(int, pf_guest_get_or_put(NULL, &created, tdb, &q), PF_EINVAL));
	cr_assert(eq(int, pf_guest_get_or_put(&out, &created, NULL, &q), PF_EINVAL));
	cr_assert(eq(int, pf_guest_get_or_put(&out, &created, tdb, NULL), PF_EINVAL));

	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "x@example.com"));
	cr_assert(eq(sz, l->count, 0), "a refused call creates nothing");
	pf_guest_list_free(l);
}

/* Several processes check in the same new guest at once: one profile. */
Test(guest_atomic, racing_processes_create_one_profile)
{
	char dir[sizeof tdir];
	memcpy(dir, tdir, sizeof dir);
	enum { KIDS = 4, ROUNDS = 10 };
	for (int round = 0; round < ROUNDS; round++) {
		char email[64];
		snprintf(email, sizeof email, "new%d@example.com", round);
		int go[2], res[2];
		cr_assert(eq(int, pipe(go), 0));
		cr_assert(eq(int, pipe(res), 0));
		pid_t kids[KIDS];
		for (int k = 0; k < KIDS; k++) {
			kids[k] = fork();
			cr_assert(kids[k] >= 0);
			if (kids[k] == 0) {
				close(go[1]);
				close(res[0]);
				pf_db *db = NULL;
				if (pf_open(&db, dir, NULL))
					_exit(10);
				char c;
				if (read(go[0], &c, 1) != 0)   /* wait for the start */
					_exit(12);
				pf_guest g = PF_GUEST_INIT;
				g.name = "New Guest";
				g.email = email;
				pf_guest *out = NULL;
				int created = 0;
				if (pf_guest_get_or_put(&out, &created, db, &g))
					_exit(11);
				char b = created ? '1' : '0';
				if (write(res[1], &b, 1) != 1)
					_exit(13);
				pf_guest_free(out);
				pf_close(db);
				_exit(0);
			}
		}
		close(go[0]);
		close(res[1]);
		usleep(20000);
		close(go[1]);   /* all children start at once */
		int creators = 0;
		char b;
		while (read(res[0], &b, 1) == 1)
			creators += b == '1';
		close(res[0]);
		for (int k = 0; k < KIDS; k++) {
			int st = 0;
			cr_assert(eq(int, waitpid(kids[k], &st, 0), kids[k]));
			bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
			cr_assert(ok, "child status %d", st);
		}
		cr_assert(eq(int, creators, 1), "round %d: %d creators", round, creators);
		pf_guest_list *l = NULL;
		assert_ok(pf_guest_find(&l, tdb, email));
		cr_assert(eq(sz, l->count, 1), "round %d: %zu profiles", round, l->count);
		pf_guest_list_free(l);
	}
}

/* ---------------------------------------------------------- find cut */

Test(guest_atomic, find_says_when_the_list_was_cut)
{
	char name[32];
	for (int i = 0; i < PF_FIND_LIMIT; i++) {
		snprintf(name, sizeof name, "Lee %03d", i);
		add_guest(name, NULL, NULL);
	}
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "lee"));
	cr_assert(eq(sz, l->count, PF_FIND_LIMIT));
	cr_assert(eq(int, l->truncated, 0), "exactly the limit is not cut");
	pf_guest_list_free(l);

	add_guest("Lee 999", NULL, NULL);
	assert_ok(pf_guest_find(&l, tdb, "lee"));
	cr_assert(eq(sz, l->count, PF_FIND_LIMIT));
	cr_assert(eq(int, l->truncated, 1));
	pf_guest_list_free(l);

	assert_ok(pf_guest_find(&l, tdb, "lee 99"));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(int, l->truncated, 0));
	pf_guest_list_free(l);
}

/* ----------------------------------------------------------- country */

Test(guest_atomic, country_is_validated_stored_and_journaled)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Zhuang Wei";
	static const char *const bad[] = { "mac", "MA", "MACA", "M4C", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		g.country = bad[i];
		cr_assert(eq(int, pf_guest_put(tdb, &g), PF_EINVAL), "'%s'", bad[i]);
		cr_assert(strstr(pf_errmsg(), "country") != NULL, "%s", pf_errmsg());
	}
	g.country = "MAC";
	assert_ok(pf_guest_put(tdb, &g));
	db_reopen();
	pf_guest *r = get(g.id);
	cr_assert(streq(r->country, "MAC"));
	pf_guest_free(r);

	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_iter(&it, tdb, 0, &g.id));
	assert_ok(pf_journal_next(&e, it));
	bool seen = false;
	for (size_t i = 0; i < e->field_count; i++)
		if (strcmp(e->fields[i].name, "country") == 0)
			seen = streq(e->fields[i].value, "MAC");
	cr_assert(seen, "the journal records the country");
	pf_journal_iterator_free(it);
}
