/* test_convergence.c — three properties whose clocks disagree by minutes
 * (+0, +3 min, -4 min) make a few thousand random changes through the
 * public API, syncing now and then; the server stops part-way while
 * every property keeps working (its rounds fail with PF_EIO), and comes
 * back.  Once synced until quiet, every property holds the same shared
 * state (equal digests), and the conflicts came out as the chain's rules
 * say: an erased guest is gone everywhere though another property
 * updated it concurrently, a preference's times-observed is summed across
 * properties, a need is kept over a concurrent like.  The checks are
 * shown to bite: a property that has not synced yet has another digest
 * and the unsummed count. */
#include "chain_util.h"
#include "natsd.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static natsd srv;
static chain ch;
static const char *const names[] = { "macau", "lisbon", "kyoto" };
static const pf_time skews[] = { 0, 180, -240 };
enum { A, B, C, NPROP };

static void up(void)
{
	cr_assert(eq(int, natsd_start(&srv), 0), "cannot start nats-server");
	cr_assert(eq(int, chain_open(&ch, NPROP, names, skews, srv.url, "grand"), 0), "%s", pf_errmsg());
}

static void down(void)
{
	chain_close(&ch);
	natsd_destroy(&srv);
}

TestSuite(convergence, .init = up, .fini = down, .timeout = 120);

/* The run is the same every time (chain_rnd). */
static uint64_t rng = 0x5eed2026u;
static unsigned rnd(unsigned n)
{
	return chain_rnd(&rng, n);
}

#define MAX_GUESTS 400
#define MAX_FB 400
#define MAX_MERGES 100
static pf_id guests[MAX_GUESTS];
static int nguests;
static pf_id fbs[MAX_FB];
static int nfb;
static struct { pf_id id; int at; } merges[MAX_MERGES];
static int nmerges;

/* `random`: one of the guests the random operations pick from. */
static pf_id new_guest(pf_db *db, const char *name, int random)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	cr_assert(eq(int, pf_guest_put(db, &g), 0), "%s", pf_errmsg());
	if (random && nguests < MAX_GUESTS)
		guests[nguests++] = g.id;
	return g.id;
}

static void observe(pf_db *db, const pf_id *g, const char *cat, const char *val, pf_pref_kind kind)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = "housekeeping";
	cr_assert(eq(int, pf_pref_set(db, g, cat, val, &o), 0), "%s", pf_errmsg());
}

/* What a random operation may meet: a guest erased or merged away here,
 * a merge already undone, feedback already resolved. */
static int expected(int rc)
{
	return rc == 0 || rc == PF_ENOTFOUND || rc == PF_EEXIST || rc == PF_EINVAL;
}

static const char *const cats[] = { "room.floor", "room.view", "amenity.flower", "dining.sauce",
                                    "pillow.type", "allergy.nuts" };
static const char *const vals[] = { "8", "10", "sea", "lily", "rose", "chili oil", "feather", "peanut" };
static const char *const langs[] = { "zh", "pt", "en", "ja" };

/* Guests with an even index take merges and unmerges, odd ones feedback
 * and erasures (see `apart` below); everyone takes the rest. */
static const pf_id *pick(int parity)
{
	return chain_pick(guests, nguests, parity, &rng);
}

/*
 * One random operation at property `at`.  `apart`: merges and unmerges
 * only among the even guests, feedback and erasures only among the odd
 * ones (each kind of change alone); otherwise all of them meet on the
 * same few guests.
 */
static int random_op(int at, int i, int apart)
{
	pf_db *db = ch.p[at].db;
	char buf[64];
	unsigned r = rnd(20);
	static const int parity[20] = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	                                1, 1, 1, 1, 0, 0, 0, 1, -1 };
	const pf_id *g = pick(apart ? parity[r] : -1);
	switch (r) {
	case 0: {
		snprintf(buf, sizeof buf, "Guest %d at %s", i, names[at]);
		pf_guest ng = PF_GUEST_INIT;
		ng.name = buf;
		int rc = pf_guest_put(db, &ng);
		if (rc == 0 && nguests < MAX_GUESTS)
			guests[nguests++] = ng.id;
		return rc;
	}
	case 1: case 2: {
		pf_guest f = PF_GUEST_INIT;
		snprintf(buf, sizeof buf, "+853 6%07d", i);
		f.phone = buf;
		f.language = langs[rnd(4)];
		f.tier = (pf_tier)rnd(4);
		return pf_guest_update(db, g, &f, PF_GUEST_PHONE | PF_GUEST_LANGUAGE | PF_GUEST_TIER);
	}
	case 3: case 4: case 5: case 6: case 7: {
		int c = (int)rnd(6);
		pf_observation o = PF_OBSERVATION_INIT;
		o.kind = c == 5 ? PF_NEED : (pf_pref_kind)rnd(2);
		o.department = "front_desk";
		return pf_pref_set(db, g, cats[c], vals[rnd(8)], &o);
	}
	case 8:
		return pf_pref_del(db, g, cats[rnd(6)]);
	case 9: case 10: {
		pf_stay st = PF_STAY_INIT;
		st.guest = *g;
		st.arrival = 20261001 + (pf_date)rnd(25);
		st.departure = st.arrival + 1 + (pf_date)rnd(3);
		st.party = 1 + rnd(3);
		return pf_stay_add(db, &st);
	}
	case 11: case 12: {
		pf_feedback fb = PF_FEEDBACK_INIT;
		fb.guest = *g;
		fb.kind = (pf_feedback_kind)rnd(3);
		fb.department = "housekeeping";
		fb.category = "room";
		fb.text = "the room was not ready";
		fb.recorded_by = "Ana";
		int rc = pf_feedback_add(db, &fb, NULL);
		if (rc == 0 && nfb < MAX_FB)
			fbs[nfb++] = fb.id;
		return rc;
	}
	case 13: case 14:
		if (nfb == 0)
			return 0;
		return pf_feedback_resolve(db, &fbs[rnd((unsigned)nfb)], "Rui", "room cleaned again");
	case 15: case 16: {
		const pf_id *dup = pick(apart ? 0 : -1);
		pf_id m;
		int rc = pf_guest_merge(&m, db, g, dup);
		if (rc == 0 && nmerges < MAX_MERGES) {
			merges[nmerges].id = m;
			merges[nmerges++].at = at;
		}
		return rc;
	}
	case 17:
		if (nmerges == 0)
			return 0;
		/* A merge is undone where it was made (its record is local). */
		{
			int k = (int)rnd((unsigned)nmerges);
			return pf_guest_unmerge(ch.p[merges[k].at].db, &merges[k].id);
		}
	case 18:
		if (rnd(4) == 0)
			return pf_guest_erase(db, g);
		return 0;
	default:
		return 0;
	}
}

static void dbg_compare(void)
{
	for (int p = 1; p < NPROP; p++) {
		for (int i = 0; i < nguests; i++) {
			pf_guest *g0 = NULL, *g1 = NULL;
			int r0 = pf_guest_get(&g0, ch.p[0].db, &guests[i]);
			int r1 = pf_guest_get(&g1, ch.p[p].db, &guests[i]);
			if (r0 != r1) fprintf(stderr, "guest %d: get %d vs %d at %s\n", i, r0, r1, names[p]);
			else if (r0 == 0) {
				if (strcmp(g0->name, g1->name) || g0->stays != g1->stays || g0->pref_count != g1->pref_count ||
				    g0->complaints_open != g1->complaints_open || g0->complaints_total != g1->complaints_total)
					fprintf(stderr, "guest %d (%s/%s): stays %u/%u prefs %zu/%zu open %u/%u total %u/%u at %s\n", i,
					        g0->name, g1->name, g0->stays, g1->stays, g0->pref_count, g1->pref_count,
					        g0->complaints_open, g1->complaints_open, g0->complaints_total, g1->complaints_total, names[p]);
			}
			pf_guest_free(g0); pf_guest_free(g1);
		}
		pf_feedback_list *l0 = NULL, *l1 = NULL;
		pf_feedback_list_get(&l0, ch.p[0].db, NULL, NULL);
		pf_feedback_list_get(&l1, ch.p[p].db, NULL, NULL);
		fprintf(stderr, "feedback: %zu vs %zu at %s\n", l0->count, l1->count, names[p]);
		for (size_t k = 0; k < l0->count && k < l1->count; k++) {
			if (memcmp(&l0->items[k].id, &l1->items[k].id, 16) || memcmp(&l0->items[k].guest, &l1->items[k].guest, 16) || l0->items[k].status != l1->items[k].status) {
				char a[40], b[40]; int ga=-1, gb=-1;
				for (int i = 0; i < nguests; i++) { if (!memcmp(&guests[i], &l0->items[k].guest, 16)) ga = i; if (!memcmp(&guests[i], &l1->items[k].guest, 16)) gb = i; }
				(void)a; (void)b;
				fprintf(stderr, "  fb %zu: guest %d vs %d status %d vs %d same id %d\n", k, ga, gb, l0->items[k].status, l1->items[k].status, !memcmp(&l0->items[k].id, &l1->items[k].id, 16));
			}
		}
		pf_feedback_list_free(l0); pf_feedback_list_free(l1);
	}
}

static void run(int apart)
{
	/* Everyone knows a first population. */
	char name[64];
	for (int p = 0; p < NPROP; p++)
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof name, "Seed %d of %s", i, names[p]);
			new_guest(ch.p[p].db, name, 1);
		}
	/* These three take no random operations (a random merge or erasure
	 * would change what is checked at the end). */
	pf_id erased = new_guest(ch.p[A].db, "Erased Guest", 0);
	pf_id counted = new_guest(ch.p[A].db, "Counted Guest", 0);
	pf_id needy = new_guest(ch.p[A].db, "Needy Guest", 0);
	cr_assert(gt(int, chain_sync_quiet(&ch, 50), 0), "%s", pf_errmsg());

	/* Concurrent conflicts, made before any property syncs again. */
	cr_assert(eq(int, pf_guest_erase(ch.p[A].db, &erased), 0), "%s", pf_errmsg());
	pf_guest f = PF_GUEST_INIT;
	f.email = "still-here@example.com";
	cr_assert(eq(int, pf_guest_update(ch.p[B].db, &erased, &f, PF_GUEST_EMAIL), 0), "%s", pf_errmsg());
	observe(ch.p[A].db, &counted, "pillow.type", "feather", PF_LIKE);
	observe(ch.p[A].db, &counted, "pillow.type", "feather", PF_LIKE);
	observe(ch.p[B].db, &counted, "pillow.type", "feather", PF_LIKE);
	observe(ch.p[A].db, &needy, "allergy.nuts", "peanut", PF_NEED);
	observe(ch.p[B].db, &needy, "allergy.nuts", "peanut", PF_LIKE);  /* B's clock is ahead */
	/* Each property counts only its own observations so far: the sum at
	 * the end is the chain's doing. */
	pf_pref *pr = NULL;
	cr_assert(eq(int, pf_pref_get(&pr, ch.p[A].db, &counted, "pillow.type"), 0), "%s", pf_errmsg());
	cr_assert(eq(u32, pr->count, 2));
	pf_pref_free(pr);
	cr_assert(eq(int, pf_pref_get(&pr, ch.p[B].db, &counted, "pillow.type"), 0), "%s", pf_errmsg());
	cr_assert(eq(u32, pr->count, 1));
	cr_assert(eq(int, (int)pr->kind, (int)PF_LIKE));
	pf_pref_free(pr);
	cr_assert(eq(int, pf_pref_get(&pr, ch.p[C].db, &counted, "pillow.type"), PF_ENOTFOUND));

	/* The random run; the server is away for a part of it. */
	const int total = 4000, stop_at = 1800, restart_at = 2600;
	int ok = 0, eio = 0;
	for (int i = 0; i < total; i++) {
		if (i == stop_at)
			cr_assert(eq(int, natsd_stop(&srv), 0));
		if (i == restart_at)
			cr_assert(eq(int, natsd_restart(&srv), 0));
		int at = (int)rnd(NPROP);
		int rc = random_op(at, i, apart);
		cr_assert(expected(rc), "op %d at %s: %s (%d)", i, names[at], pf_errmsg(), rc);
		ok += rc == 0;
		if (i % 40 == 39) {
			int p = (int)rnd(NPROP);
			rc = chain_round(&ch, p, NULL);
			if (i > stop_at && i < restart_at) {
				cr_assert(eq(int, rc, PF_EIO), "a round while the server is away: %d", rc);
				cr_assert(strstr(pf_errmsg(), "cannot reach the NATS server at") != NULL, "%s", pf_errmsg());
				eio++;
			} else if (rc != 0) {
				/* Just after the restart the client may still be reconnecting. */
				cr_assert(eq(int, rc, PF_EIO), "%s", pf_errmsg());
			}
		}
	}
	cr_assert(gt(int, ok, total / 2), "only %d of %d operations succeeded", ok, total);
	cr_assert(gt(int, eio, 5));

	/* Not yet synced: the digest check below would catch a property left out. */
	int which = -1;
	observe(ch.p[A].db, &counted, "room.floor", "8", PF_LIKE);
	cr_assert(eq(int, chain_digests_equal(&ch, &which), 0), "the digests agree before the sync");

	/* Heal: rounds until nothing moves (the client reconnects by itself). */
	int passes = PF_EIO;
	for (int t = 0; t < 100 && passes == PF_EIO; t++) {
		passes = chain_sync_quiet(&ch, 100);
		if (passes == PF_EIO)
			usleep(50000);
	}
	cr_assert(gt(int, passes, 0), "%s (%d)", pf_errmsg(), passes);
	if (chain_digests_equal(&ch, &which) != 1) {
		chain_report(&ch, stderr);
		dbg_compare();
	}
	cr_assert(eq(int, chain_digests_equal(&ch, &which), 1), "property %d differs", which);

	for (int p = 0; p < NPROP; p++) {
		pf_db *db = ch.p[p].db;
		pf_guest *g = NULL;
		cr_assert(eq(int, pf_guest_get(&g, db, &erased), PF_ENOTFOUND), "the erased guest is at %s",
		          names[p]);
		cr_assert(eq(int, pf_pref_get(&pr, db, &counted, "pillow.type"), 0), "%s", pf_errmsg());
		cr_assert(eq(u32, pr->count, 3), "count at %s", names[p]);
		pf_pref_free(pr);
		cr_assert(eq(int, pf_pref_get(&pr, db, &needy, "allergy.nuts"), 0), "%s", pf_errmsg());
		cr_assert(eq(int, (int)pr->kind, (int)PF_NEED), "the need was lost at %s", names[p]);
		pf_pref_free(pr);
	}

	/* One change at one property: the digests differ until it syncs. */
	observe(ch.p[C].db, &counted, "room.view", "sea", PF_LIKE);
	cr_assert(eq(int, chain_digests_equal(&ch, &which), 0));
	cr_assert(gt(int, chain_sync_quiet(&ch, 20), 0), "%s", pf_errmsg());
	cr_assert(eq(int, chain_digests_equal(&ch, &which), 1), "property %d differs", which);
}


Test(convergence, three_skewed_properties_agree_after_a_server_outage)
{
	run(1);
}

/* Small cases of merges meeting other changes, each from a synced start. */

static void two_guests(pf_id *x, pf_id *y)
{
	*x = new_guest(ch.p[A].db, "Keep Guest", 0);
	*y = new_guest(ch.p[A].db, "Duplicate Guest", 0);
	cr_assert(gt(int, chain_sync_quiet(&ch, 50), 0), "%s", pf_errmsg());
}

static void complaint(pf_db *db, const pf_id *g)
{
	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = *g;
	fb.department = "housekeeping";
	fb.category = "room";
	fb.text = "the room was not ready";
	fb.recorded_by = "Ana";
	cr_assert(eq(int, pf_feedback_add(db, &fb, NULL), 0), "%s", pf_errmsg());
}

static void settle_and_compare(void)
{
	cr_assert(gt(int, chain_sync_quiet(&ch, 50), 0), "%s", pf_errmsg());
	int which = -1;
	if (chain_digests_equal(&ch, &which) != 1) {
		chain_report(&ch, stderr);
		dbg_compare();
	}
	cr_assert(eq(int, chain_digests_equal(&ch, &which), 1), "property %d differs", which);
}

Test(convergence, a_complaint_about_the_duplicate_made_elsewhere_follows_the_merge)
{
	pf_id x, y, m;
	two_guests(&x, &y);
	complaint(ch.p[B].db, &y);
	complaint(ch.p[C].db, &x);
	cr_assert(eq(int, pf_guest_merge(&m, ch.p[A].db, &x, &y), 0), "%s", pf_errmsg());
	settle_and_compare();
	pf_guest *g = NULL;
	for (int p = 0; p < NPROP; p++) {
		cr_assert(eq(int, pf_guest_get(&g, ch.p[p].db, &x), 0), "%s", pf_errmsg());
		cr_assert(eq(u32, g->complaints_total, 2), "at %s", names[p]);
		pf_guest_free(g);
		cr_assert(eq(int, pf_guest_get(&g, ch.p[p].db, &y), PF_ENOTFOUND), "at %s", names[p]);
	}
}

Test(convergence, merges_in_opposite_directions_agree)
{
	pf_id x, y, m, m2;
	two_guests(&x, &y);
	cr_assert(eq(int, pf_guest_merge(&m, ch.p[A].db, &x, &y), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_merge(&m2, ch.p[B].db, &y, &x), 0), "%s", pf_errmsg());
	settle_and_compare();
}

Test(convergence, one_duplicate_merged_into_two_profiles_agrees)
{
	pf_id x, y, m, m2;
	two_guests(&x, &y);
	pf_id z = new_guest(ch.p[A].db, "Third Guest", 0);
	cr_assert(gt(int, chain_sync_quiet(&ch, 50), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_merge(&m, ch.p[A].db, &x, &y), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_merge(&m2, ch.p[B].db, &z, &y), 0), "%s", pf_errmsg());
	settle_and_compare();
}

Test(convergence, an_unmerge_travels)
{
	pf_id x, y, m;
	two_guests(&x, &y);
	cr_assert(eq(int, pf_guest_merge(&m, ch.p[A].db, &x, &y), 0), "%s", pf_errmsg());
	cr_assert(gt(int, chain_sync_quiet(&ch, 50), 0), "%s", pf_errmsg());
	pf_guest *g = NULL;
	cr_assert(eq(int, pf_guest_get(&g, ch.p[B].db, &y), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_unmerge(ch.p[A].db, &m), 0), "%s", pf_errmsg());
	settle_and_compare();
	for (int p = 0; p < NPROP; p++) {
		cr_assert(eq(int, pf_guest_get(&g, ch.p[p].db, &y), 0), "at %s: %s", names[p], pf_errmsg());
		pf_guest_free(g);
	}
}

Test(convergence, erasing_the_kept_profile_after_a_merge_agrees)
{
	pf_id x, y, m;
	two_guests(&x, &y);
	cr_assert(eq(int, pf_guest_merge(&m, ch.p[A].db, &x, &y), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_erase(ch.p[B].db, &x), 0), "%s", pf_errmsg());
	settle_and_compare();
	pf_guest *g = NULL;
	for (int p = 0; p < NPROP; p++)
		cr_assert(eq(int, pf_guest_get(&g, ch.p[p].db, &x), PF_ENOTFOUND), "at %s", names[p]);
}

/* Property A unmerges while B erases the kept profile. */
Test(convergence, an_unmerge_racing_the_erasure_of_the_kept_profile)
{
	pf_id x, y, m;
	two_guests(&x, &y);
	cr_assert(eq(int, pf_guest_merge(&m, ch.p[A].db, &x, &y), 0), "%s", pf_errmsg());
	cr_assert(gt(int, chain_sync_quiet(&ch, 50), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_erase(ch.p[B].db, &x), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_unmerge(ch.p[A].db, &m), 0), "%s", pf_errmsg());
	settle_and_compare();
}

/* Merges, unmerges, erasures and complaints on the same few guests (an
 * unmerge at one property of a duplicate another merged elsewhere: the
 * profile it leaves is written again). */
Test(convergence, merges_complaints_and_erasures_on_the_same_guests)
{
	run(0);
}
