/*
 * libprofile_sync.h — libprofile-sync: a hotel chain's profiles carried
 * between properties over NATS JetStream.
 *
 * A separate library (libprofile-sync.so, pkg-config libprofile-sync)
 * on top of libprofile's public change feed (pf_changes_read,
 * pf_changes_apply, see "A hotel chain" in libprofile.h) and nats.c.  A
 * single hotel or a kiosk links only libprofile and never needs NATS.
 *
 * The shape on the server: one stream per chain, named "PF_<CHAIN>"
 * (upper-cased), holding the subjects "pf.<chain>.<property>": each
 * property publishes its own changes on its own subject, with the
 * message id (Nats-Msg-Id) "<property>:<seq>" so the server drops a
 * republished change.  Each property reads every other property's
 * subject through its own durable pull consumer ("pf_<property>"),
 * and acknowledges a message only after pf_changes_apply() committed it;
 * a change delivered twice is a no-op (the per-origin high-water mark is
 * in the same LMDB transaction as the change).
 *
 * Offline-first: nothing in libprofile waits for the network; the
 * database is the outbox.  A round while the server is unreachable fails
 * with PF_EIO and a clear message, and loses nothing: the next round
 * publishes what is still unpublished and pulls what it missed.
 *
 * Errors are libprofile's codes (PF_EINVAL, PF_EIO, PF_ENOMEM...); the
 * detail of this thread's last failure is pf_sync_errmsg().  Every
 * function returns a code; nothing here aborts, exits or prints.
 */
#ifndef LIBPROFILE_SYNC_H
#define LIBPROFILE_SYNC_H

#include "libprofile.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PF_SYNC_VERSION_MAJOR 0
#define PF_SYNC_VERSION_MINOR 1

/** A replicator: one pf_db joined to one chain on one server. */
typedef struct pf_sync pf_sync;

#define PF_SYNC_OPTIONS_VERSION 1

/** Options for pf_sync_open().  Transparent; starts with a version; new
 *  fields are only ever appended.  Start from PF_SYNC_OPTIONS_INIT. */
typedef struct pf_sync_options {
	unsigned int version;       /**< PF_SYNC_OPTIONS_VERSION */
	int64_t max_age;            /**< how long the stream keeps a change, in seconds,
	                                 when this call creates the stream; 0 = 30 days.
	                                 A property away longer rejoins from a backup
	                                 (pf_chain_rejoin). */
	int timeout_ms;             /**< connect / request timeout; 0 = 2000 */
	int replicas;               /**< stream replicas when created; 0 = 1 (a
	                                 three-node cluster uses 3) */
} pf_sync_options;

#define PF_SYNC_OPTIONS_INIT { PF_SYNC_OPTIONS_VERSION, 0, 0, 0 }

/** What one round did. */
typedef struct pf_sync_counts {
	size_t pushed;              /**< own changes published */
	size_t pulled;              /**< changes received from other properties */
	pf_apply_report apply;      /**< what pf_changes_apply did with them */
} pf_sync_counts;

/**
 * Join `db` (which must have a property name, see pf_options.property)
 * to the chain `chain` (1 to PF_PROPERTY_MAX bytes of a-z, 0-9, '-',
 * '_') on the NATS server at `url` ("nats://127.0.0.1:4222"): connect,
 * create the chain's stream and this property's durable consumer if they
 * do not exist.  `opts` may be NULL.  *out is closed with
 * pf_sync_close(); the db must outlive it.
 *
 * Errors: PF_EINVAL (NULL, a malformed chain name, a database without a
 * property name: "this database has no property name: open it with
 * pf_options.property to sync"), PF_EIO (the server cannot be reached or
 * refused: the message names the URL and nats.c's reason), PF_ENOMEM.
 */
PF_EXTERN int pf_sync_open(pf_sync **out, pf_db *db, const char *url, const char *chain,
                           const pf_sync_options *opts);

/**
 * One bounded round: publish this property's unpublished changes (each
 * acknowledged by the stream before it counts as published), then pull
 * and apply what other properties published, until none is waiting or
 * `max` changes were pulled (0 = no bound).  `counts` may be NULL.
 * Reconnects if the connection was lost.
 * Errors: PF_EIO (the server is unreachable: nothing is lost, the next
 * round catches up), PF_EINVAL (NULL), errors of pf_changes_apply.
 */
PF_EXTERN int pf_sync_round(pf_sync *s, size_t max, pf_sync_counts *counts);

/**
 * Run rounds in a background thread, every `interval_ms` (1 to 60000)
 * and as soon as a change arrives, until pf_sync_stop().  Failed rounds
 * (server away) are retried; pf_sync_stats() reports the totals.
 * Errors: PF_EINVAL (NULL, bad interval, already running), PF_ENOMEM.
 */
PF_EXTERN int pf_sync_start(pf_sync *s, int interval_ms);

/** Stop the background thread (a no-op when none runs) and wait for it. */
PF_EXTERN int pf_sync_stop(pf_sync *s);

/** Totals since pf_sync_open (all rounds, foreground and background) and
 *  the last round's error code (0: it succeeded). */
PF_EXTERN int pf_sync_stats(pf_sync *s, pf_sync_counts *totals, int *last_error);

/** Close: stop the background thread, disconnect, free.  NULL is a no-op. */
PF_EXTERN void pf_sync_close(pf_sync *s);

/** This thread's last failure in libprofile-sync, e.g. "pf_sync_open:
 *  cannot connect to nats://127.0.0.1:4222: No server available".  Never
 *  NULL; "" when none. */
PF_EXTERN const char *pf_sync_errmsg(void);

#ifdef __cplusplus
}
#endif

#endif /* LIBPROFILE_SYNC_H */
