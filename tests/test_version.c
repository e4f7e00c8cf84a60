/* test_version.c — the version field that starts every struct a caller
 * fills in (pf_guest, pf_stay, pf_feedback): every entry point that reads
 * one refuses a version it does not know, names the struct and the
 * version expected, and stores nothing; structs the library fills in
 * carry the current version. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(version, .init = db_setup, .fini = db_teardown, .timeout = 60);

/* Every record of every database, to prove a refused call stored nothing. */
static unsigned char *v_dump(size_t *len)
{
	return dump_dbs(tdb, NULL, 0, len);
}

static void v_unchanged(unsigned char *before, size_t blen, const char *what)
{
	size_t alen;
	unsigned char *after = v_dump(&alen);
	cr_assert(blen == alen && memcmp(before, after, blen) == 0,
	          "%s: the stored data changed", what);
	free(before);
	free(after);
}

static void v_refused(int rc, const char *want, const char *what)
{
	cr_assert(eq(int, rc, PF_EINVAL), "%s: rc %d", what, rc);
	cr_assert(strstr(pf_errmsg(), want) != NULL, "%s: %s", what, pf_errmsg());
}

static const unsigned int bad_versions[] = { 0, PF_GUEST_VERSION + 1, 0xffffffffu };
#define NBAD (sizeof bad_versions / sizeof *bad_versions)

Test(version, guest_put_refuses_an_unknown_version)
{
	pf_id id = add_guest("Kept Name", "kept@example.com", NULL);
	for (size_t i = 0; i < NBAD; i++) {
		size_t blen;
		unsigned char *before = v_dump(&blen);
		char want[96];
		snprintf(want, sizeof want, "pf_guest_put: unknown pf_guest version %u (expected %u)",
		         bad_versions[i], (unsigned)PF_GUEST_VERSION);

		/* a new guest */
		pf_guest g = PF_GUEST_INIT;
		g.version = bad_versions[i];
		g.name = "New Guest";
		v_refused(pf_guest_put(tdb, &g), want, "create");
		cr_assert(pf_id_is_zero(&g.id), "no id is written back");

		/* an update of a stored guest */
		pf_guest u = PF_GUEST_INIT;
		u.version = bad_versions[i];
		u.id = id;
		u.name = "Changed Name";
		v_refused(pf_guest_put(tdb, &u), want, "update");
		v_unchanged(before, blen, "pf_guest_put");
	}
	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, tdb, &id));
	cr_assert(eq(str, (char *)got->name, "Kept Name"));
	pf_guest_free(got);
}

Test(version, guest_update_refuses_an_unknown_version_whatever_the_mask)
{
	pf_id id = add_guest("Kept Name", "kept@example.com", NULL);
	const unsigned int masks[] = { 0, PF_GUEST_NAME, PF_GUEST_ALL };
	for (size_t i = 0; i < NBAD; i++)
		for (size_t m = 0; m < sizeof masks / sizeof *masks; m++) {
			size_t blen;
			unsigned char *before = v_dump(&blen);
			pf_guest f = PF_GUEST_INIT;
			f.version = bad_versions[i];
			f.name = "Changed Name";
			v_refused(pf_guest_update(tdb, &id, &f, masks[m]),
			          "pf_guest_update: unknown pf_guest version", "update");
			v_unchanged(before, blen, "pf_guest_update");
		}
}

Test(version, guest_get_or_put_refuses_an_unknown_version)
{
	add_guest("Kept Name", "kept@example.com", NULL);
	for (size_t i = 0; i < NBAD; i++) {
		size_t blen;
		unsigned char *before = v_dump(&blen);
		int created = 7;
		pf_guest *out = (pf_guest *)1;
		pf_guest g = PF_GUEST_INIT;
		g.version = bad_versions[i];
		g.name = "Someone New";
		g.email = "new@example.com";        /* would create */
		v_refused(pf_guest_get_or_put(&out, &created, tdb, &g),
		          "pf_guest_get_or_put: unknown pf_guest version", "new e-mail");
		cr_assert(out == NULL);
		cr_assert(eq(int, created, 0));
		g.email = "kept@example.com";       /* would find */
		v_refused(pf_guest_get_or_put(&out, NULL, tdb, &g),
		          "pf_guest_get_or_put: unknown pf_guest version", "known e-mail");
		cr_assert(out == NULL);
		v_unchanged(before, blen, "pf_guest_get_or_put");
	}
}

Test(version, stay_add_refuses_an_unknown_version)
{
	pf_id id = add_guest("Stay Guest", NULL, NULL);
	for (size_t i = 0; i < NBAD; i++) {
		size_t blen;
		unsigned char *before = v_dump(&blen);
		char want[96];
		snprintf(want, sizeof want, "pf_stay_add: unknown pf_stay version %u (expected %u)",
		         bad_versions[i], (unsigned)PF_STAY_VERSION);
		pf_stay s = PF_STAY_INIT;
		s.version = bad_versions[i];
		s.guest = id;
		s.arrival = 20261201;
		s.departure = 20261205;
		v_refused(pf_stay_add(tdb, &s), want, "stay");
		v_unchanged(before, blen, "pf_stay_add");
	}
	pf_stay_list *l = NULL;
	assert_ok(pf_stay_list_get(&l, tdb, &id));
	cr_assert(eq(sz, l->count, 0));
	pf_stay_list_free(l);
}

Test(version, feedback_add_refuses_an_unknown_version)
{
	pf_id id = add_guest("Feedback Guest", NULL, NULL);
	for (size_t i = 0; i < NBAD; i++) {
		size_t blen;
		unsigned char *before = v_dump(&blen);
		char want[96];
		snprintf(want, sizeof want,
		         "pf_feedback_add: unknown pf_feedback version %u (expected %u)",
		         bad_versions[i], (unsigned)PF_FEEDBACK_VERSION);
		pf_feedback fb = PF_FEEDBACK_INIT;
		fb.version = bad_versions[i];
		fb.guest = id;
		fb.department = "housekeeping";
		fb.category = "room";
		fb.text = "towels missing";
		fb.recorded_by = "mei";
		v_refused(pf_feedback_add(tdb, &fb, NULL), want, "feedback");
		cr_assert(pf_id_is_zero(&fb.id), "no id is written back");
		v_unchanged(before, blen, "pf_feedback_add");
	}
	pf_feedback_list *l = NULL;
	assert_ok(pf_feedback_list_get(&l, tdb, &id, NULL));
	cr_assert(eq(sz, l->count, 0));
	pf_feedback_list_free(l);
}

Test(version, structs_the_library_fills_carry_the_version)
{
	pf_id id = add_guest("Vera Version", "vera@example.com", NULL);

	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	cr_assert(eq(u32, g->version, PF_GUEST_VERSION));
	/* the documented copy-and-put pattern works as it is */
	pf_guest c = *g;
	c.phone = "+853 6123 4567";
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);

	pf_guest_list *found = NULL;
	assert_ok(pf_guest_find(&found, tdb, "vera"));
	cr_assert(eq(sz, found->count, 1));
	cr_assert(eq(u32, found->items[0]->version, PF_GUEST_VERSION));
	pf_guest_list_free(found);

	pf_guest want = PF_GUEST_INIT;
	want.name = "Nico New";
	want.email = "nico@example.com";
	int created = 0;
	assert_ok(pf_guest_get_or_put(&g, &created, tdb, &want));
	cr_assert(eq(int, created, 1));
	cr_assert(eq(u32, g->version, PF_GUEST_VERSION));
	pf_guest_free(g);
	assert_ok(pf_guest_get_or_put(&g, &created, tdb, &want));
	cr_assert(eq(int, created, 0));
	cr_assert(eq(u32, g->version, PF_GUEST_VERSION));
	pf_guest_free(g);

	pf_stay s = PF_STAY_INIT;
	s.guest = id;
	s.arrival = 20261201;
	s.departure = 20261203;
	assert_ok(pf_stay_add(tdb, &s));
	pf_stay_list *sl = NULL;
	assert_ok(pf_stay_list_get(&sl, tdb, &id));
	cr_assert(eq(sz, sl->count, 1));
	cr_assert(eq(u32, sl->items[0].version, PF_STAY_VERSION));
	/* a listed stay goes back in as it is */
	assert_ok(pf_stay_add(tdb, &sl->items[0]));
	pf_stay_list_free(sl);

	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = id;
	fb.kind = PF_FEEDBACK_COMPLIMENT;
	fb.department = "restaurant";
	fb.category = "food";
	fb.text = "lovely congee";
	fb.recorded_by = "chen";
	assert_ok(pf_feedback_add(tdb, &fb, NULL));
	pf_feedback *f = NULL;
	assert_ok(pf_feedback_get(&f, tdb, &fb.id));
	cr_assert(eq(u32, f->version, PF_FEEDBACK_VERSION));
	pf_feedback_free(f);
	pf_feedback_list *fl = NULL;
	assert_ok(pf_feedback_list_get(&fl, tdb, &id, NULL));
	cr_assert(eq(sz, fl->count, 1));
	cr_assert(eq(u32, fl->items[0].version, PF_FEEDBACK_VERSION));
	pf_feedback_list_free(fl);
}
