/*
 * bench_chain.c — `make bench-chain`: libprofile-sync's figures on
 * loopback, with a nats-server of its own (tests/chain/natsd.c).
 *
 *   replication throughput   changes applied per second at the receiving
 *                            property, pulling a 20,000-change backlog;
 *                            the floor is pf_changes_apply() of the same
 *                            changes handed over in memory
 *   change-to-visible        from a change at one property to its being
 *                            readable at another, both running the
 *                            background thread (pf_sync_start, 5 ms)
 *   backlog convergence      three properties that made 10,000 changes
 *                            between them while apart: from the heal to
 *                            every digest equal
 *
 * Printed as `make bench` prints (figure, unit, median, p99, baseline,
 * floor, ratio, target, holds).  Databases and the server's store go
 * under $TMPDIR.  Exit status 0 whether or not targets hold (a benchmark
 * reports; the tests decide); 1 if it could not run.
 */
#include "chain_util.h"
#include "natsd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static natsd srv;

/* A benchmark that dies leaves no server behind. */
static void stop_server(void)
{
	natsd_destroy(&srv);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench-chain: %s: %s: %s\n", what, pf_strerror(rc), pf_errmsg());
	exit(1);
}

static void fmt(char *b, size_t n, double v)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else if (fabs(v) >= 100)
		snprintf(b, n, "%.1f", v);
	else
		snprintf(b, n, "%.3g", v);
}

static void emit(const char *name, const char *unit, double median, double p99, double baseline,
                 double floor_, double ratio, const char *target, int holds)
{
	char m[32], p[32], b[32], f[32], r[32];
	fmt(m, sizeof m, median);
	fmt(p, sizeof p, p99);
	fmt(b, sizeof b, baseline);
	fmt(f, sizeof f, floor_);
	fmt(r, sizeof r, ratio);
	printf("%-44s %-9s %10s %10s %10s %10s %7s  %-34s %s\n", name, unit, m, p, b, f, r,
	       target ? target : "-", holds < 0 ? "-" : holds ? "holds" : "MISSES");
	fflush(stdout);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static pf_id guest(pf_db *db, const char *name)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	int rc = pf_guest_put(db, &g);
	if (rc)
		die("pf_guest_put", rc);
	return g.id;
}

/* n changes at db: new guests, each with two preferences. */
static void make_changes(pf_db *db, int n, const char *tag)
{
	static const char *const vals[] = { "8", "10", "12", "sea", "lily" };
	char name[64];
	pf_id g = {{0}};
	for (int i = 0; i < n; i++) {
		int rc;
		if (i % 3 == 0) {
			snprintf(name, sizeof name, "Guest %s %d", tag, i);
			g = guest(db, name);
			continue;
		}
		pf_observation o = PF_OBSERVATION_INIT;
		o.department = "front_desk";
		rc = pf_pref_set(db, &g, i % 3 == 1 ? "room.floor" : "amenity.flower", vals[i % 5], &o);
		if (rc)
			die("pf_pref_set", rc);
	}
}

static int sync_quiet(chain *c)
{
	int rc = chain_sync_quiet(c, 1000);
	if (rc < 0)
		die("sync", rc);
	return rc;
}

static void bench_throughput(const char *url)
{
	const int N = 20000;
	const char *const names[] = { "macau", "lisbon", "floor" };
	chain c;
	int rc = chain_open(&c, 2, names, NULL, url, "tput");
	if (rc)
		die("chain_open", rc);
	make_changes(c.p[0].db, N, "t");
	/* Macau publishes everything (and reads its own back). */
	while (1) {
		pf_sync_counts k;
		if ((rc = chain_round(&c, 0, &k)) != 0)
			die("round at macau", rc);
		if (k.pushed == 0 && k.pulled == 0)
			break;
	}
	/* Lisbon pulls the backlog. */
	size_t applied = 0;
	double t0 = chain_seconds();
	while (1) {
		pf_sync_counts k;
		if ((rc = chain_round(&c, 1, &k)) != 0)
			die("round at lisbon", rc);
		applied += k.apply.applied;
		if (k.pulled == 0)
			break;
	}
	double secs = chain_seconds() - t0;
	double tput = (double)applied / secs;

	/* The floor: the same changes applied from memory into a fresh db. */
	char dir[256];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/pfbench-floor.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp", PF_EIO);
	pf_options o = PF_OPTIONS_INIT;
	o.property = "floor";
	pf_db *fdb = NULL;
	if ((rc = pf_open(&fdb, dir, &o)) != 0)
		die("pf_open", rc);
	double f0 = chain_seconds();
	size_t fapplied = 0;
	for (uint64_t after = 0;;) {
		pf_change_list *l = NULL;
		if ((rc = pf_changes_read(&l, c.p[0].db, after, 1000)) != 0)
			die("pf_changes_read", rc);
		size_t n = l->count;
		pf_apply_report r;
		if (n && (rc = pf_changes_apply(fdb, l->items, n, &r)) != 0)
			die("pf_changes_apply", rc);
		if (n) {
			fapplied += r.applied;
			after = l->items[n - 1].seq;
		}
		pf_change_list_free(l);
		if (n < 1000)
			break;
	}
	double fsecs = chain_seconds() - f0;
	pf_close(fdb);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-chain: could not remove %s\n", dir);
	double floor_ = (double)fapplied / fsecs;
	if (applied != (size_t)N)
		fprintf(stderr, "bench-chain: applied %zu of %d changes\n", applied, N);
	emit("replication throughput (20k backlog)", "changes/s", tput, NAN, NAN, floor_, tput / 20000.0,
	     ">= 20000 changes/s applied", tput >= 20000);
	printf("    (%zu changes applied in %.3f s; in-memory floor %zu in %.3f s)\n", applied, secs,
	       fapplied, fsecs);
	chain_close(&c);
}

static void bench_latency(const char *url)
{
	const char *const names[] = { "macau", "lisbon" };
	chain c;
	int rc = chain_open(&c, 2, names, NULL, url, "lat");
	if (rc)
		die("chain_open", rc);
	pf_id g = guest(c.p[0].db, "Latency Guest");
	sync_quiet(&c);
	if ((rc = pf_sync_start(c.p[0].sync, 5)) != 0 || (rc = pf_sync_start(c.p[1].sync, 5)) != 0)
		die("pf_sync_start", rc);
	enum { SAMPLES = 300 };
	double lat[SAMPLES];
	int got = 0;
	for (int i = 0; i < SAMPLES; i++) {
		pf_observation o = PF_OBSERVATION_INIT;
		o.department = "front_desk";
		uint64_t seq = 0, mark = 0;
		double t0 = chain_seconds();
		if ((rc = pf_pref_set(c.p[0].db, &g, "room.floor", i % 2 ? "10" : "12", &o)) != 0)
			die("pf_pref_set", rc);
		if ((rc = pf_changes_last(&seq, c.p[0].db)) != 0)
			die("pf_changes_last", rc);
		double t;
		do {
			if ((rc = pf_chain_mark(&mark, c.p[1].db, "macau")) != 0)
				die("pf_chain_mark", rc);
			t = chain_seconds() - t0;
			if (mark >= seq)
				break;
			usleep(200);
		} while (t < 5);
		if (mark >= seq)
			lat[got++] = t * 1000;
		usleep(2000 + (useconds_t)(i % 7) * 1000);  /* not in step with the threads' ticks */
	}
	pf_sync_stop(c.p[0].sync);
	pf_sync_stop(c.p[1].sync);
	qsort(lat, (size_t)got, sizeof lat[0], cmp_dbl);
	double med = got ? lat[got / 2] : NAN, p99 = got ? lat[(got * 99) / 100 < got ? (got * 99) / 100 : got - 1] : NAN;
	emit("change-to-visible, loopback, follower 5 ms", "ms", med, p99, NAN, NAN, med / 20.0,
	     "median <= 20 ms", got == SAMPLES && med <= 20);
	if (got != SAMPLES)
		printf("    (%d of %d changes arrived within 5 s)\n", got, SAMPLES);
	chain_close(&c);
}

static void bench_backlog(const char *url)
{
	const char *const names[] = { "macau", "lisbon", "kyoto" };
	chain c;
	int rc = chain_open(&c, 3, names, NULL, url, "backlog");
	if (rc)
		die("chain_open", rc);
	/* 10,000 changes made while the properties are apart. */
	make_changes(c.p[0].db, 3334, "m");
	make_changes(c.p[1].db, 3333, "l");
	make_changes(c.p[2].db, 3333, "k");
	double t0 = chain_seconds();
	int passes = sync_quiet(&c);
	int which = -1;
	int eq = chain_digests_equal(&c, &which);
	double secs = chain_seconds() - t0;
	emit("3 properties converge, 10k-change backlog", "s", secs, NAN, NAN, NAN, secs / 2.0, "<= 2 s",
	     eq == 1 && secs <= 2);
	printf("    (%d passes of rounds; digests %s)\n", passes, eq == 1 ? "equal" : "DIFFER");
	chain_close(&c);
}

int main(void)
{
	if (natsd_start(&srv) != 0)
		return 1;
	atexit(stop_server);
	printf("%-44s %-9s %10s %10s %10s %10s %7s  %-34s %s\n", "figure", "unit", "median", "p99",
	       "baseline", "floor", "ratio", "target", "");
	bench_throughput(srv.url);
	bench_latency(srv.url);
	bench_backlog(srv.url);
	return 0;
}
