/*
 * chain_util.c — a hotel chain in one process (chain_util.h).
 */
#include "chain_util.h"
#include "natsd.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic long long clock_added;

double chain_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Real seconds go by too, so that stamps move the way a hotel's do. */
pf_time chain_clock_now(void)
{
	static double start;
	static _Atomic int started;
	if (!atomic_exchange(&started, 1))
		start = chain_seconds();
	double elapsed = start > 0 ? chain_seconds() - start : 0;
	return CHAIN_T0 + (pf_time)elapsed + (pf_time)atomic_load(&clock_added);
}

void chain_clock_advance(pf_time seconds)
{
	atomic_fetch_add(&clock_added, (long long)seconds);
}

static pf_time prop_clock(void *payload)
{
	const chain_prop *p = payload;
	return chain_clock_now() + p->skew;
}

static int open_db(chain_prop *p, unsigned int flags, int named)
{
	pf_options o = PF_OPTIONS_INIT;
	o.property = (flags & PF_OPEN_READONLY) || !named ? NULL : p->name;
	o.clock = prop_clock;
	o.clock_payload = p;
	o.flags = flags;
	return pf_open(&p->db, p->dir, &o);
}

int chain_open(chain *c, int n, const char *const *names, const pf_time *skews,
               const char *url, const char *name)
{
	memset(c, 0, sizeof *c);
	if (n < 1 || n > CHAIN_MAX)
		return PF_EINVAL;
	snprintf(c->url, sizeof c->url, "%s", url);
	snprintf(c->name, sizeof c->name, "%s", name);
	const char *tmp = getenv("TMPDIR");
	for (int i = 0; i < n; i++) {
		chain_prop *p = &c->p[i];
		snprintf(p->name, sizeof p->name, "%s", names[i]);
		p->skew = skews ? skews[i] : 0;
		snprintf(p->dir, sizeof p->dir, "%s/pfchain-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", names[i]);
		if (!mkdtemp(p->dir))
			return PF_EIO;
		c->n = i + 1;
		int rc = open_db(p, 0, 1);
		if (rc == 0)
			rc = pf_sync_open(&p->sync, p->db, url, name, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

unsigned chain_rnd(uint64_t *state, unsigned n)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return (unsigned)(x % n);
}

const pf_id *chain_pick(const pf_id *ids, int n, int parity, uint64_t *state)
{
	if (parity < 0 || n < 2)
		return &ids[chain_rnd(state, (unsigned)n)];
	unsigned half = (unsigned)(n - parity + 1) / 2;
	return &ids[2 * chain_rnd(state, half) + (unsigned)parity];
}

void chain_close(chain *c)
{
	for (int i = 0; i < c->n; i++) {
		pf_sync_close(c->p[i].sync);
		c->p[i].sync = NULL;
		pf_close(c->p[i].db);
		c->p[i].db = NULL;
		if (c->p[i].dir[0] && !getenv("CHAIN_KEEP"))
			natsd_rm_tree(c->p[i].dir);
	}
	c->n = 0;
}

void chain_disconnect(chain *c, int i)
{
	pf_sync_close(c->p[i].sync);
	c->p[i].sync = NULL;
}

int chain_connect(chain *c, int i)
{
	if (c->p[i].sync)
		return 0;
	return pf_sync_open(&c->p[i].sync, c->p[i].db, c->url, c->name, NULL);
}

int chain_reopen(chain *c, int i, unsigned int flags)
{
	int had = c->p[i].sync != NULL;
	chain_disconnect(c, i);
	pf_close(c->p[i].db);
	c->p[i].db = NULL;
	int rc = open_db(&c->p[i], flags, 1);
	if (rc == 0 && had)
		rc = chain_connect(c, i);
	return rc;
}

int chain_open_unnamed(chain *c, int i)
{
	return open_db(&c->p[i], 0, 0);
}

int chain_round(chain *c, int i, pf_sync_counts *counts)
{
	if (counts)
		memset(counts, 0, sizeof *counts);
	if (!c->p[i].sync)
		return 0;
	return pf_sync_round(c->p[i].sync, 0, counts);
}

int chain_sync_quiet(chain *c, int max_passes)
{
	for (int pass = 1; pass <= max_passes; pass++) {
		size_t moved = 0;
		for (int i = 0; i < c->n; i++) {
			pf_sync_counts k;
			int rc = chain_round(c, i, &k);
			if (rc != 0)
				return rc;
			moved += k.pushed + k.pulled;
		}
		if (moved == 0)
			return pass;
	}
	return PF_EBUSY;
}

int chain_digests_equal(chain *c, int *which)
{
	unsigned char first[PF_DIGEST_SIZE], d[PF_DIGEST_SIZE];
	if (which)
		*which = -1;
	if (pf_digest(first, c->p[0].db) != 0)
		return -1;
	for (int i = 1; i < c->n; i++) {
		if (pf_digest(d, c->p[i].db) != 0)
			return -1;
		if (memcmp(first, d, sizeof d) != 0) {
			if (which)
				*which = i;
			return 0;
		}
	}
	return 1;
}

void chain_report(chain *c, FILE *f)
{
	for (int i = 0; i < c->n; i++) {
		uint64_t last = 0, pub = 0;
		pf_changes_last(&last, c->p[i].db);
		pf_chain_published(&pub, c->p[i].db);
		unsigned char d[PF_DIGEST_SIZE];
		pf_digest(d, c->p[i].db);
		fprintf(f, "%-8s last %llu published %llu digest %02x%02x%02x%02x marks:", c->p[i].name,
		        (unsigned long long)last, (unsigned long long)pub, d[0], d[1], d[2], d[3]);
		for (int j = 0; j < c->n; j++) {
			uint64_t m = 0;
			pf_chain_mark(&m, c->p[i].db, c->p[j].name);
			fprintf(f, " %s=%llu", c->p[j].name, (unsigned long long)m);
		}
		fprintf(f, "\n");
	}
}
