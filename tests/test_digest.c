/* test_digest.c — pf_digest: equal for a database and its backup, changed
 * by any change to the shared state (a profile field, a preference, a
 * stay, a complaint's resolution), unchanged by what a property keeps for
 * itself (rules, prompts); and the SHA-256 under it (sha256.c) against
 * FIPS 180-4's test vectors. */
#include "helpers.h"
#include "sha256.h"

#include <stdio.h>
#include <string.h>

TestSuite(digest, .init = db_setup, .fini = db_teardown, .timeout = 60);

static void digest_of(pf_db *db, unsigned char d[PF_DIGEST_SIZE])
{
	cr_assert(eq(int, pf_digest(d, db), 0), "%s", pf_errmsg());
}

static void hex(char out[65], const unsigned char d[32])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

Test(digest, sha256_matches_the_standard_vectors)
{
	static const struct { const char *in; const char *want; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		pf_sha256 s;
		unsigned char d[32];
		char got[65];
		pf_sha256_init(&s);
		/* Fed a byte at a time and whole: the same digest. */
		for (size_t j = 0; v[i].in[j]; j++)
			pf_sha256_update(&s, v[i].in + j, 1);
		pf_sha256_final(&s, d);
		hex(got, d);
		cr_assert_str_eq(got, v[i].want, "vector %zu", i);
	}
	pf_sha256 s;
	unsigned char d[32];
	char got[65], block[1000];
	memset(block, 'a', sizeof block);
	pf_sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		pf_sha256_update(&s, block, sizeof block);
	pf_sha256_final(&s, d);
	hex(got, d);
	cr_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Opens the backup of tdb as a second handle. */
static pf_db *backup_of_tdb(char *dir, size_t cap)
{
	snprintf(dir, cap, "%s-copy", tdir);
	cr_assert(eq(int, pf_backup(tdb, dir), 0), "%s", pf_errmsg());
	pf_options o = test_options();
	pf_db *b = NULL;
	cr_assert(eq(int, pf_open(&b, dir, &o), 0), "%s", pf_errmsg());
	return b;
}

static void same(pf_db *a, pf_db *b, const char *what)
{
	unsigned char da[PF_DIGEST_SIZE], db[PF_DIGEST_SIZE];
	digest_of(a, da);
	digest_of(b, db);
	cr_assert(eq(int, memcmp(da, db, sizeof da), 0), "%s: the digests differ", what);
}

static void differ(pf_db *a, pf_db *b, const char *what)
{
	unsigned char da[PF_DIGEST_SIZE], db[PF_DIGEST_SIZE];
	digest_of(a, da);
	digest_of(b, db);
	cr_assert(not(memcmp(da, db, sizeof da) == 0), "%s: the digests are equal", what);
}

Test(digest, a_backup_has_the_same_digest_and_every_shared_change_shows)
{
	pf_id g = add_guest("Chan Tai Man", "chan@example.mo", "+853 6123 4567");
	set_pref(&g, "room.floor", "10", PF_LIKE);
	char dir[400];
	pf_db *b = backup_of_tdb(dir, sizeof dir);
	same(tdb, b, "a fresh backup");

	/* A profile field. */
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, b, &g), 0));
	pf_guest c = *got;
	c.language = "pt";
	cr_assert(eq(int, pf_guest_put(b, &c), 0), "%s", pf_errmsg());
	pf_guest_free(got);
	differ(tdb, b, "language changed in the copy");
	cr_assert(eq(int, pf_guest_get(&got, tdb, &g), 0));
	c = *got;
	c.language = "pt";
	cr_assert(eq(int, pf_guest_put(tdb, &c), 0), "%s", pf_errmsg());
	pf_guest_free(got);
	same(tdb, b, "the same change on both");

	/* A preference, then a stay. */
	set_pref(&g, "amenity.flower", "lily", PF_LIKE);
	differ(tdb, b, "a preference added to one");
	pf_close(b);
	rm_rf(dir);
	b = backup_of_tdb(dir, sizeof dir);
	same(tdb, b, "a second backup");
	pf_stay s = PF_STAY_INIT;
	s.guest = g;
	s.arrival = 20261201;
	s.departure = 20261203;
	s.room = "1012";
	cr_assert(eq(int, pf_stay_add(b, &s), 0), "%s", pf_errmsg());
	differ(tdb, b, "a stay added to one");
	cr_assert(eq(int, pf_stay_add(tdb, &s), 0), "%s", pf_errmsg());
	same(tdb, b, "the same stay on both");
	pf_observation ob = PF_OBSERVATION_INIT;
	ob.department = "front_desk";
	ob.time = 1700000000;
	cr_assert(eq(int, pf_pref_set(b, &g, "room.floor", "11", &ob), 0), "%s", pf_errmsg());
	differ(tdb, b, "a preference's value changed in one");
	cr_assert(eq(int, pf_pref_set(tdb, &g, "room.floor", "11", &ob), 0), "%s", pf_errmsg());
	same(tdb, b, "the same value on both");

	/* A complaint, and its resolution. */
	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = g;
	fb.department = "housekeeping";
	fb.category = "room";
	fb.text = "towels missing";
	fb.recorded_by = "mei";
	cr_assert(eq(int, pf_feedback_add(tdb, &fb, NULL), 0), "%s", pf_errmsg());
	pf_close(b);
	rm_rf(dir);
	b = backup_of_tdb(dir, sizeof dir);
	same(tdb, b, "a backup with a complaint");
	cr_assert(eq(int, pf_feedback_resolve(b, &fb.id, "mei", "brought towels"), 0), "%s",
	          pf_errmsg());
	differ(tdb, b, "the complaint resolved in one");
	pf_close(b);
	rm_rf(dir);
}

Test(digest, what_a_property_keeps_for_itself_does_not_count)
{
	pf_id g = add_guest("Ana Lima", "ana@example.pt", NULL);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	char dir[400];
	pf_db *b = backup_of_tdb(dir, sizeof dir);
	pf_rule_error err;
	static const char book[] = "rule floor\n  on reservation\n  when pref room.floor\n"
	                           "  notify front_desk high \"Floor {pref room.floor}\"\n";
	cr_assert(eq(int, pf_rules_load(b, "t.rules", book, strlen(book), &err), 0), "%s",
	          pf_errmsg());
	pf_prompt_list *out = NULL;
	pf_event ev = PF_EVENT_INIT;
	ev.kind = PF_EVENT_RESERVATION;
	ev.guest = g;
	ev.id = "R-1";
	ev.arrival = 20261224;
	ev.departure = 20261226;
	cr_assert(eq(int, pf_fire(&out, b, &ev), 0), "%s", pf_errmsg());
	cr_assert(gt(sz, out->count, 0));
	cr_assert(eq(int, pf_prompt_ack(b, &out->items[0].id, "lei"), 0), "%s", pf_errmsg());
	pf_prompt_list_free(out);
	same(tdb, b, "rules loaded, a reservation fired and its prompt acknowledged");
	pf_close(b);
	rm_rf(dir);
}

Test(digest, null_arguments)
{
	unsigned char d[PF_DIGEST_SIZE];
	cr_assert(eq(int, pf_digest(NULL, tdb), PF_EINVAL));
	cr_assert(eq(int, pf_digest(d, NULL), PF_EINVAL));
}
