/*
 * chain_util.h — a hotel chain in one process, for tests/chain and
 * tests/bench/chain: N property databases in temporary directories, each
 * with its own clock (the chain's clock plus a skew), each with a pf_sync
 * to the test's nats-server; sync until quiet; compare digests.
 */
#ifndef PF_TEST_CHAIN_UTIL_H
#define PF_TEST_CHAIN_UTIL_H

#include "libprofile_sync.h"

#include <stdio.h>

#define CHAIN_MAX 8

/* 2026-11-23 09:00:00 UTC, where the chain's clock starts. */
#define CHAIN_T0 ((pf_time)1795424400)

typedef struct chain_prop {
	char name[PF_PROPERTY_MAX + 1];
	char dir[256];
	pf_db *db;
	pf_sync *sync;            /* NULL while "disconnected" */
	pf_time skew;             /* seconds added to the chain's clock */
} chain_prop;

typedef struct chain {
	int n;
	chain_prop p[CHAIN_MAX];
	char url[128];
	char name[PF_CHAIN_NAME_MAX + 1];
} chain;

/** The chain's clock (CHAIN_T0 plus what chain_clock_advance added) and
 *  each property's clock: it plus the property's skew. */
pf_time chain_clock_now(void);
void chain_clock_advance(pf_time seconds);

/** Open n properties named names[i] with skews[i] (NULL: none) in fresh
 *  temporary directories, and a pf_sync each to `url` on chain `name`.
 *  0, or the failing code (pf_errmsg() says what). */
int chain_open(chain *c, int n, const char *const *names, const pf_time *skews,
               const char *url, const char *name);
/** Close every pf_sync and database, remove the directories. */
void chain_close(chain *c);

/** Close / open property i's pf_sync (a property off the network). */
void chain_disconnect(chain *c, int i);
int chain_connect(chain *c, int i);
/** Close and reopen property i's database (and its pf_sync if it had one). */
int chain_reopen(chain *c, int i, unsigned int flags);

/** Open property i's directory (its db must be closed) with its clock
 *  but without a property name (for pf_chain_rejoin). */
int chain_open_unnamed(chain *c, int i);

/** One round at property i (0 when it is disconnected). */
int chain_round(chain *c, int i, pf_sync_counts *counts);
/** Rounds at every connected property until a full pass moves nothing,
 *  at most max_passes.  The number of passes, or a negative code. */
int chain_sync_quiet(chain *c, int max_passes);

/** 1 when every property's pf_digest is the same (else 0; -1 on error).
 *  With `which`: the first property whose digest differs from property 0's. */
int chain_digests_equal(chain *c, int *which);

/** Each property's last change, published cursor, digest and marks. */
void chain_report(chain *c, FILE *f);

/** A small deterministic generator: 0..n-1 from *state (xorshift), so a
 *  random run is the same every time. */
unsigned chain_rnd(uint64_t *state, unsigned n);

/** One of ids[0..n) drawn with *state: of the given parity (0 even
 *  index, 1 odd; -1 any). */
const pf_id *chain_pick(const pf_id *ids, int n, int parity, uint64_t *state);

/** Wall-clock seconds since some fixed point (CLOCK_MONOTONIC). */
double chain_seconds(void);

#endif
