/*
 * longrun.c — `make check-chain`: five properties, 100,000 random changes
 * through the public API, and random partitions: the server restarted
 * (stopped for a while, or killed), a property that does not sync for a
 * while, a property that closes its pf_sync and opens it again later.
 * After the final heal it syncs until quiet and prints how long that
 * took and the replication throughput; exits 1 if any digest differs
 * (or a call fails in a way the operation cannot explain).
 *
 *   longrun [operations] [apart]     (default 100000)
 *
 * Every kind of change meets on the same guests; "apart" keeps merges
 * and unmerges on the even guests and feedback and erasures on the odd
 * ones, as test_convergence.c's first test can.
 */
#include "chain_util.h"
#include "natsd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPROP 5
static const char *const names[NPROP] = { "macau", "lisbon", "kyoto", "paris", "recife" };
static const pf_time skews[NPROP] = { 0, 120, -180, 60, -30 };

static natsd srv;
static chain ch;

static void cleanup(void)
{
	chain_close(&ch);
	natsd_destroy(&srv);
}

static void fail(const char *what, int rc)
{
	fprintf(stderr, "longrun: %s: %s: %s\n", what, pf_strerror(rc), pf_errmsg());
	exit(1);
}

static uint64_t rng = 0x10e9a11u;
static unsigned rnd(unsigned n)
{
	return chain_rnd(&rng, n);
}

#define MAX_GUESTS 20000
static pf_id guests[MAX_GUESTS];
static int nguests;
static pf_id fbs[4096];
static int nfb;

static const char *const cats[] = { "room.floor", "room.view", "amenity.flower", "dining.sauce",
                                    "pillow.type", "allergy.nuts" };
static const char *const vals[] = { "8", "10", "sea", "lily", "rose", "chili oil", "feather", "peanut" };

static int mixed;

/* A guest of the given parity (0 even, 1 odd, -1 any). */
static const pf_id *pick(int parity)
{
	return chain_pick(guests, nguests, mixed ? -1 : parity, &rng);
}

static int op(pf_db *db, int i)
{
	char buf[64];
	unsigned r = rnd(40);
	int parity = r >= 29 && r <= 33 ? 1 : r == 34 ? 0 : r == 35 ? 1 : -1;
	const pf_id *g = pick(parity);
	switch (r) {
	case 0: case 1: case 2: case 3: {
		snprintf(buf, sizeof buf, "Guest %d", i);
		pf_guest ng = PF_GUEST_INIT;
		ng.name = buf;
		int rc = pf_guest_put(db, &ng);
		if (rc == 0 && nguests < MAX_GUESTS)
			guests[nguests++] = ng.id;
		return rc;
	}
	case 4: case 5: case 6: case 7: {
		pf_guest f = PF_GUEST_INIT;
		snprintf(buf, sizeof buf, "g%d@example.com", i);
		f.email = buf;
		f.tier = (pf_tier)rnd(4);
		return pf_guest_update(db, g, &f, PF_GUEST_EMAIL | PF_GUEST_TIER);
	}
	case 8: case 9: case 10: case 11: case 12: case 13: case 14: case 15: case 16: case 17:
	case 18: case 19: case 20: case 21: {
		int c = (int)rnd(6);
		pf_observation o = PF_OBSERVATION_INIT;
		o.kind = c == 5 ? PF_NEED : (pf_pref_kind)rnd(2);
		o.department = "housekeeping";
		return pf_pref_set(db, g, cats[c], vals[rnd(8)], &o);
	}
	case 22: case 23:
		return pf_pref_del(db, g, cats[rnd(6)]);
	case 24: case 25: case 26: case 27: case 28: {
		pf_stay st = PF_STAY_INIT;
		st.guest = *g;
		st.arrival = 20260101 + (pf_date)rnd(12) * 100 + (pf_date)rnd(25);
		st.departure = st.arrival + 1 + (pf_date)rnd(3);
		return pf_stay_add(db, &st);
	}
	case 29: case 30: case 31: {
		pf_feedback fb = PF_FEEDBACK_INIT;
		fb.guest = *g;
		fb.kind = (pf_feedback_kind)rnd(3);
		fb.department = "restaurant";
		fb.category = "food";
		fb.text = "the soup was cold";
		fb.recorded_by = "Rui";
		int rc = pf_feedback_add(db, &fb, NULL);
		if (rc == 0)
			fbs[nfb++ % 4096] = fb.id;
		return rc;
	}
	case 32: case 33:
		if (nfb == 0)
			return 0;
		return pf_feedback_resolve(db, &fbs[rnd((unsigned)(nfb < 4096 ? nfb : 4096))], "Ana", "soup replaced");
	case 34: {
		pf_id m;
		return pf_guest_merge(&m, db, g, pick(0));
	}
	case 35:
		return rnd(5) == 0 ? pf_guest_erase(db, g) : 0;
	default:
		return 0;
	}
}

static int expected(int rc)
{
	return rc == 0 || rc == PF_ENOTFOUND || rc == PF_EEXIST || rc == PF_EINVAL;
}

static size_t applied_total;
static double round_secs;

/* A round may fail with PF_EIO while the server is away and for a few
 * seconds after it is back (the client reconnects by itself). */
static void round_at(int p, int may_fail)
{
	pf_sync_counts k;
	double t0 = chain_seconds();
	int rc = chain_round(&ch, p, &k);
	round_secs += chain_seconds() - t0;
	applied_total += k.apply.applied;
	if (rc != 0 && rc != PF_EIO)
		fail("round", rc);
	if (rc == PF_EIO && !may_fail)
		fail("round with the server up for a while", rc);
}

int main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 100000;
	mixed = !(argc > 2 && strcmp(argv[2], "apart") == 0);
	if (natsd_start(&srv) != 0)
		return 1;
	atexit(cleanup);
	int rc = chain_open(&ch, NPROP, names, skews, srv.url, "longrun");
	if (rc)
		fail("chain_open", rc);
	char name[64];
	for (int p = 0; p < NPROP; p++)
		for (int i = 0; i < 40; i++) {
			snprintf(name, sizeof name, "Seed %d of %s", i, names[p]);
			pf_guest g = PF_GUEST_INIT;
			g.name = name;
			if ((rc = pf_guest_put(ch.p[p].db, &g)) != 0)
				fail("pf_guest_put", rc);
			guests[nguests++] = g.id;
		}
	if ((rc = chain_sync_quiet(&ch, 100)) < 0)
		fail("first sync", rc);

	double start = chain_seconds();
	int server_down_until = -1;     /* op index, or -1 */
	double up_since = 0;            /* when the server came back */
	int quiet_prop = -1, quiet_until = -1, closed_prop = -1, closed_until = -1;
	int restarts = 0, silences = 0, closes = 0, ok = 0;
	for (long i = 0; i < total; i++) {
		if (i % 5000 == 2500) {
			switch (rnd(4)) {
			case 0:
				if (server_down_until < 0) {
					if (rnd(2))
						natsd_stop(&srv);
					else
						natsd_kill(&srv);
					server_down_until = (int)i + 500 + (int)rnd(2000);
					restarts++;
				}
				break;
			case 1: case 2:
				if (quiet_prop < 0) {
					quiet_prop = (int)rnd(NPROP);
					quiet_until = (int)i + 1000 + (int)rnd(4000);
					silences++;
				}
				break;
			default:
				if (closed_prop < 0) {
					closed_prop = (int)rnd(NPROP);
					chain_disconnect(&ch, closed_prop);
					closed_until = (int)i + 1000 + (int)rnd(4000);
					closes++;
				}
			}
		}
		if (server_down_until >= 0 && i >= server_down_until) {
			if (natsd_restart(&srv) != 0)
				fail("restart", PF_EIO);
			server_down_until = -1;
			up_since = chain_seconds();
		}
		if (quiet_prop >= 0 && i >= quiet_until)
			quiet_prop = -1;
		if (closed_prop >= 0 && i >= closed_until && server_down_until < 0) {
			if ((rc = chain_connect(&ch, closed_prop)) != 0)
				fail("reconnect", rc);
			closed_prop = -1;
		}

		int at = (int)rnd(NPROP);
		rc = op(ch.p[at].db, (int)i);
		if (!expected(rc))
			fail("operation", rc);
		ok += rc == 0;

		if (i % 50 == 49) {
			int p = (int)rnd(NPROP);
			if (p != quiet_prop)
				round_at(p, server_down_until >= 0 || chain_seconds() - up_since < 5);
		}
		if (i % 10000 == 9999) {
			printf("longrun: %ld operations (%d succeeded), %.1f s\n", i + 1, ok, chain_seconds() - start);
			fflush(stdout);
		}
	}

	/* The final heal. */
	if (server_down_until >= 0 && natsd_restart(&srv) != 0)
		fail("restart", PF_EIO);
	if (closed_prop >= 0 && (rc = chain_connect(&ch, closed_prop)) != 0) {
		/* The client may need a moment to see the restarted server. */
		usleep(200000);
		if ((rc = chain_connect(&ch, closed_prop)) != 0)
			fail("reconnect", rc);
	}
	double heal = chain_seconds();
	size_t before = applied_total;
	int passes = PF_EIO;
	for (int t = 0; t < 200 && passes < 0; t++) {
		passes = 0;
		for (int pass = 1; pass <= 10000; pass++) {
			size_t moved = 0;
			int failed = 0;
			for (int p = 0; p < NPROP; p++) {
				pf_sync_counts k;
				double t0 = chain_seconds();
				rc = chain_round(&ch, p, &k);
				round_secs += chain_seconds() - t0;
				applied_total += k.apply.applied;
				moved += k.pushed + k.pulled;
				if (rc == PF_EIO)
					failed = 1;
				else if (rc != 0)
					fail("final sync", rc);
			}
			if (failed) {
				passes = PF_EIO;
				usleep(50000);
				break;
			}
			if (moved == 0) {
				passes = pass;
				break;
			}
		}
	}
	double conv = chain_seconds() - heal;
	int which = -1;
	int eq = chain_digests_equal(&ch, &which);
	printf("longrun: %ld operations (%d succeeded) at %d properties in %.1f s; "
	       "%d server outages, %d properties silent for a while, %d closed and reopened\n",
	       total, ok, NPROP, heal - start, restarts, silences, closes);
	printf("longrun: converged %.3f s after the final heal (%d passes, %zu changes applied)\n", conv,
	       passes, applied_total - before);
	printf("longrun: replication throughput %.0f changes applied/s over all rounds "
	       "(%zu applied in %.1f s of rounds)\n", (double)applied_total / round_secs, applied_total,
	       round_secs);
	if (passes <= 0) {
		printf("longrun: FAILED: never quiet (%s)\n", pf_errmsg());
		return 1;
	}
	if (eq != 1) {
		chain_report(&ch, stdout);
		printf("longrun: FAILED: property %s has another digest\n", which >= 0 ? names[which] : "?");
		return 1;
	}
	printf("longrun: ok: all %d digests equal\n", NPROP);
	return 0;
}
