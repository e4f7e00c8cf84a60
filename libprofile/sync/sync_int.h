/*
 * sync_int.h — what the files of libprofile-sync share: the pf_sync
 * struct and the functions each file offers the others.
 * Owner: sync.c (the struct); jetstream.c and follow.c add their parts.
 * Never installed; nothing here is API.
 *
 *   sync.c       pf_sync_open/round/close/stats_get, the error messages,
 *                the round (the core's change feed in, the stream out)
 *   jetstream.c  everything that talks to NATS: connect, the stream and
 *                durable consumer, publishing with Nats-Msg-Id, fetching,
 *                acknowledging
 *   follow.c     pf_sync_start/stop: the background thread
 *
 * They may call the public API of the core (include/libprofile.h) and
 * libnats; never the core's private headers.
 *
 * Error messages.  libprofile_sync.h promises that the detail of a failed
 * call is pf_errmsg(), the core's thread-local message: sync_fail() sets
 * it with the core's public pf_errmsg_set() (compiling error.c into this
 * library would give it a second buffer the caller's pf_errmsg() never
 * reads).  tests/chain/test_jetstream.c checks the messages arrive
 * through pf_errmsg().
 */
#ifndef PF_SYNC_INT_H
#define PF_SYNC_INT_H

#include "libprofile_sync.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#define SYNC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Bytes of the core's message buffer we ever write (its size is 512). */
#define SYNC_ERRMSG_CAP 256

/* Messages fetched per request; the server's default MaxRequestBatch is
 * unlimited, and one pf_changes_apply() takes them in one transaction. */
#define SYNC_FETCH_BATCH 1000
/* Unacknowledged messages the server delivers to one consumer at most. */
#define SYNC_MAX_ACK_PENDING 20000
/* A message delivered but not acknowledged (a round cut short by the
 * server going away) is delivered again after this long. */
#define SYNC_ACK_WAIT_MS 5000
/* The server drops a republished message id within this window; later
 * duplicates are caught by the core's high-water marks instead. */
#define SYNC_DUPLICATES_S 120
/* Waits for the server are cut in slices of this many ms, to notice a
 * lost connection without waiting out timeout_ms. */
#define SYNC_WAIT_SLICE_MS 50
/* Asynchronous publishes in flight at once. */
#define SYNC_PUB_INFLIGHT 4096

struct pf_sync {
	pf_db *db;
	pf_sync_options opts;
	char url[512];            /* as given (passed to libnats) */
	char where[600];          /* "<url without user:password@> (chain X)" */
	char chain[PF_CHAIN_NAME_MAX + 1];
	char property[PF_PROPERTY_MAX + 1];
	char stream[PF_CHAIN_NAME_MAX + 4];        /* PF_<chain> */
	char filter[PF_CHAIN_NAME_MAX + 6];        /* pf.<chain>.> */
	char subject[PF_CHAIN_NAME_MAX + PF_PROPERTY_MAX + 6];  /* pf.<chain>.<property> */
	char durable[PF_PROPERTY_MAX + 24];        /* <property>[_e<epoch>] */

	/* libnats objects (jetstream.c) */
	natsOptions *nopts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;    /* our pull requests' replies: <inbox>.<n> */
	char inbox[64];
	char next_subj[PF_CHAIN_NAME_MAX + PF_PROPERTY_MAX + 64];  /* $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable> */
	unsigned long long req_no;
	int need_setup;           /* check the stream and consumer again next round */

	/* The publish in progress (jetstream.c): acknowledgements arrive on
	 * libnats' thread and are matched by sequence number. */
	pthread_mutex_t pub_lock;
	pthread_cond_t pub_cond;
	const uint64_t *pub_seqs; /* sequence numbers sent, ascending; NULL between rounds */
	unsigned char *pub_acked; /* 1 acknowledged, 2 failed */
	size_t pub_n, pub_answered;
	natsStatus pub_err;       /* the first refusal or timeout */
	jsErrCode pub_jerr;

	/* Totals (sync.c), read by pf_sync_stats_get from any thread. */
	pthread_mutex_t stats_lock;
	pf_sync_stats stats;

	/* The background thread (follow.c). */
	pthread_mutex_t follow_lock;
	pthread_cond_t follow_cond;
	pthread_t thread;
	int running, stopping;
	int interval_ms;
};

/* ---- sync.c ---------------------------------------------------------- */

/* Record "<fn>: <detail>" as this thread's pf_errmsg(); returns `code`. */
int sync_fail(int code, const char *fn, const char *fmt, ...) SYNC_PRINTF(3, 4);
/* After a core call failed: "<fn>: <the core's message>"; returns `code`. */
int sync_fail_core(int code, const char *fn);
/* One round; pf_sync_round() without the check for the background thread. */
int sync_round(pf_sync *s, const char *fn, size_t max, pf_sync_counts *counts);

/* ---- jetstream.c ----------------------------------------------------- */

/* Connect (libnats options: reconnect forever, quickly). */
int js_connect(pf_sync *s, const char *fn);
/* Make the stream and the durable consumer if missing; bind the pull
 * subscription to the consumer. */
int js_setup(pf_sync *s, const char *fn);
/* PF_EIO with the message unless the connection is up now. */
int js_check_connected(pf_sync *s, const char *fn);
/* Publish `n` changes, oldest first; *acked is the number of them, from
 * the first, that the server acknowledged (those after a failure are
 * not counted even if acknowledged). */
int js_publish(pf_sync *s, const char *fn, const pf_change *changes, size_t n, size_t *acked);
/* Fetch up to `batch` messages the consumer has now, never waiting for
 * new ones (PF_EIO if the server does not answer in timeout_ms):
 * js_fetch_ask sends the request (its reply subject into `reply`),
 * js_fetch_take collects its answer; js_fetch does both. */
#define SYNC_REPLY_MAX 96
int js_fetch_ask(pf_sync *s, const char *fn, int batch, char reply[SYNC_REPLY_MAX]);
int js_fetch_take(pf_sync *s, const char *fn, int batch, const char *reply, natsMsgList *out);
int js_fetch(pf_sync *s, const char *fn, int batch, natsMsgList *out);
/* Acknowledge (ack != 0) or hand back for redelivery (ack == 0, "-NAK")
 * every message of the list, then flush them to the server. */
int js_settle(pf_sync *s, const char *fn, natsMsgList *list, int ack);
/* Drain nothing, close and free the libnats objects. */
void js_close(pf_sync *s);

/* ---- follow.c -------------------------------------------------------- */

void follow_stop(pf_sync *s);

#endif /* PF_SYNC_INT_H */
