/*
 * event.h — what event.c offers the other files of the library.
 * Owner: event.c: the rule and event databases, the rule-book cache, firing.
 * Never installed; nothing here is API.
 */
#ifndef PF_EVENT_H
#define PF_EVENT_H

#include "store.h"

/** Free the cached rule book (db->rules); db.c calls it from pf_close,
 *  before the store closes.  Leaves rules_lock to db.c, which made it. */
void pf_rules_cache_free(pf_db *db);

/* ---- for merge.c and verify.c (appended: the stored events by guest) ---- */

/** One stored event: its key (the caller's event id, not terminated). */
typedef int (*pf_event_key_fn)(void *ctx, const void *key, size_t klen);

/** Call fn with the key of every stored event that names `guest` (a full
 *  scan: events have no per-guest index).  A record that does not decode
 *  stops the walk with PF_ECORRUPT. */
int pf_events_of_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_event_key_fn fn,
                       void *ctx);

/** Re-point stored event key[0..klen) from guest `from` to `to` when it
 *  still names `from`; a missing event is 0 (nothing to do). */
int pf_event_repoint(MDB_txn *txn, pf_db *db, const void *key, size_t klen,
                     const pf_id *from, const pf_id *to);

/** For upgrade.c: hand every event record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
int pf_events_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);
/** For upgrade.c: hand every rule record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
int pf_rules_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

#endif /* PF_EVENT_H */
