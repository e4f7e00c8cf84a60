/*
 * feedback.h — what feedback.c offers the other files of the library.
 * Owner: feedback.c: the feedback database, the sunset rule, follow-ups.
 * Never installed; nothing here is API.
 */
#ifndef PF_FEEDBACK_H
#define PF_FEEDBACK_H

#include "store.h"
#include "codec.h"

/* feedback.c: the `feedback` db.
 *   id16                                   -> feedback record (codec)
 *   'g' guest16 be64(recorded_at ^ 2^63) id16 -> empty: a guest's feedback
 *                                             in time order
 * Record keys are 16 bytes and index keys 41, so neither can be taken for
 * the other. */

/** Load one feedback record inside a transaction (PF_ENOTFOUND with a
 *  message naming `what` if absent). */
int pf_feedback_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_feedback_rec *out);

/** Merge support: reassign every feedback of `from` to `to` (records and
 *  the per-guest index).  *moved (malloc'd, NULL when none; the caller
 *  frees it) receives the ids moved.  Journals nothing: the caller's
 *  operation does. */
int pf_feedback_move_guest(MDB_txn *txn, pf_db *db, const pf_id *from, const pf_id *to,
                           pf_id **moved, size_t *nmoved);
/** Unmerge support: set one feedback's guest (record and index). */
int pf_feedback_set_guest(MDB_txn *txn, pf_db *db, const pf_id *feedback,
                          const pf_id *guest);
/** Erasure support: tombstone the guest's feedback: text, resolution and
 *  every staff name become "[erased]"; kind, category, department,
 *  severity, dates, status and outcome stay so the figures stay right.
 *  The guest id (a random UUID) and the index stay. */
int pf_feedback_erase_guest(MDB_txn *txn, pf_db *db, const pf_id *guest);

/** What erasure leaves of a feedback record: its texts and staff names
 *  replaced by "[erased]" (in place; PF_ENOMEM). */
int pf_feedback_rec_anonymise(pf_feedback_rec *rec);

/** The ids of the feedback stored under `guest` (its index), oldest
 *  first, in *ids (malloc'd, *n of them). */
int pf_feedback_ids_of_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **ids,
                             size_t *n);

/** Store nr as feedback `id` (old: the record it replaces, or NULL for a
 *  new one), moving its per-guest index key when guest or time changed
 *  (chain_state.c: a record another property wrote). */
int pf_feedback_replace(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_feedback_rec *nr,
                        const pf_feedback_rec *old);

/** The per-guest index key of feedback `id` recorded at `at` for
 *  `guest` in the `feedback` db (feedback.c). */
#define PF_FEEDBACK_INDEX_KEY_LEN (1 + 16 + 8 + 16)
void pf_feedback_index_key(unsigned char k[PF_FEEDBACK_INDEX_KEY_LEN], const pf_id *guest,
                           pf_time at, const pf_id *id);

/** Every feedback record (not the per-guest index), in key order, as
 *  stored: fn(ctx, key, value); a non-zero return stops the walk.  For
 *  the quality report, which decodes what it counts. */
int pf_feedback_each_raw(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx);

/** For upgrade.c: hand every feedback record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
int pf_feedback_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

#endif /* PF_FEEDBACK_H */
