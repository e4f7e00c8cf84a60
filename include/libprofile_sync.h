/*
 * libprofile_sync.h — libprofile-sync: a hotel chain's changes carried
 * between properties over NATS JetStream.
 *
 * A separate library (libprofile-sync.so, pkg-config libprofile-sync) on
 * top of libprofile and Debian's libnats (nats.c 3.4.1).  A single hotel
 * or a kiosk links only libprofile and never needs NATS.
 *
 * The shape on the server: one stream per chain, "PF_<chain>", holding
 * the subjects "pf.<chain>.<property>" (one per property), kept for
 * pf_sync_options.max_age; each property publishes its own changes (the
 * core library's change feed, pf_changes_read) with the message id
 * "<property>-<sequence>" (the server drops a republished one), and reads
 * every property's with its own durable pull consumer "<property>" (or
 * "<property>_e<epoch>" after pf_chain_rejoin), acknowledging a message
 * only after pf_changes_apply has committed it.  Local calls on the pf_db
 * never wait on the network: a sync while the server is unreachable fails
 * with PF_EIO and a clear message and loses nothing; the next one catches
 * up.
 *
 * Every function returns 0 or a negative PF_E* code; the detail of the
 * last failure of the calling thread is pf_errmsg() (the core library's),
 * naming the server address and the chain, never a guest's data.
 * A pf_sync is used by one thread at a time, except that pf_sync_stats()
 * may be called while pf_sync_start()'s thread runs.
 */
#ifndef LIBPROFILE_SYNC_H
#define LIBPROFILE_SYNC_H

#include "libprofile.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque replicator: one pf_db, one server, one chain. */
typedef struct pf_sync pf_sync;

#define PF_SYNC_OPTIONS_VERSION 1

/** Longest chain name, in bytes (a-z, 0-9, '-' and '_'). */
#define PF_CHAIN_NAME_MAX 32

/** Options of pf_sync_open(); start from PF_SYNC_OPTIONS_INIT. */
typedef struct pf_sync_options {
	unsigned int version;     /**< PF_SYNC_OPTIONS_VERSION */
	int64_t max_age;          /**< seconds the stream keeps messages, when this
	                               call creates it; 0 = 30 days */
	int timeout_ms;           /**< connect and request timeout; 0 = 2000 */
	int replicas;             /**< stream replicas when this call creates it
	                               (3 on a three-node cluster); 0 = 1 */
} pf_sync_options;

#define PF_SYNC_OPTIONS_INIT { PF_SYNC_OPTIONS_VERSION, 0, 0, 0 }

/** What one round did. */
typedef struct pf_sync_counts {
	size_t pushed;            /**< own changes published (server-acknowledged) */
	size_t pulled;            /**< messages fetched from the stream */
	pf_apply_report apply;    /**< what pf_changes_apply made of them */
} pf_sync_counts;

/**
 * Connect to the NATS server at `url` (e.g. "nats://127.0.0.1:4222"),
 * make the chain's stream and this property's durable consumer if they do
 * not exist, and return the replicator in *out (free with
 * pf_sync_close()).  `chain` names the chain; `opts` may be NULL.  `db`
 * must have a property name and outlive the replicator.
 * Errors: PF_EINVAL (NULL argument, bad chain name or options, a database
 * without a property name: "open it with pf_options.property"), PF_EIO
 * (the server cannot be reached or refused: the message says which),
 * PF_ENOMEM.
 */
PF_EXTERN int pf_sync_open(pf_sync **out, pf_db *db, const char *url, const char *chain,
                           const pf_sync_options *opts);

/**
 * One bounded round: publish this property's unpublished changes (at
 * most `max`), then fetch and apply what the stream holds for it (at most
 * `max` messages), acknowledging them after the commit.  `counts` may be
 * NULL.  `max` 0 means PF_CHANGES_MAX.  Changes published before a
 * failure stay published; the rest are published by the next round.
 * A fetched batch that pf_changes_apply() refuses (a read-only database,
 * a full disk) is handed back to the server ("-NAK") and fetched again by
 * a later round; a message on the chain's subjects that is not a change
 * is acknowledged and skipped.  A round never waits for new messages: it
 * takes what the stream holds and returns.
 * Errors: PF_EIO (the server went away or timed out), PF_EINVAL (the
 * background thread runs), and those of pf_changes_read/apply.
 */
PF_EXTERN int pf_sync_round(pf_sync *s, size_t max, pf_sync_counts *counts);

/**
 * Run rounds in a background thread: whenever this property has new
 * changes, and every `interval_ms` (1 to 60000) to pull; a failed round
 * (server away) is retried at the next interval.  The thread looks for
 * new local changes every 2 ms (or every interval, if shorter): one
 * short read transaction.  Errors: PF_EINVAL (already running, bad
 * interval), PF_ENOMEM.
 */
PF_EXTERN int pf_sync_start(pf_sync *s, int interval_ms);

/** Stop the background thread and wait for it.  0 when none runs. */
PF_EXTERN int pf_sync_stop(pf_sync *s);

/** Totals since pf_sync_open (every round, the background ones too), and
 *  the error code of the last failed round (0 if none). */
typedef struct pf_sync_stats {
	uint64_t rounds, failed_rounds;
	uint64_t pushed, pulled, applied;
	int last_error;
} pf_sync_stats;

PF_EXTERN int pf_sync_stats_get(pf_sync *s, pf_sync_stats *out);

/** Stop the thread if it runs, drain and close the connection, free.
 *  NULL is a no-op. */
PF_EXTERN void pf_sync_close(pf_sync *s);

#ifdef __cplusplus
}
#endif

#endif /* LIBPROFILE_SYNC_H */
