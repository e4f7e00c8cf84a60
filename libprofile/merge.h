/*
 * merge.h — what merge.c offers the other files of the library.
 * Owner: merge.c: merge records, not-duplicate marks, merge and unmerge
 * (duplicate suggestions are dupes.c's).
 * Never installed; nothing here is API.
 */
#ifndef PF_MERGE_H
#define PF_MERGE_H

#include "store.h"
#include "codec.h"

/* Meta keys owned by merge.c (binary ids follow the prefix):
 *   "merge:" MERGE16            -> merge record (codec)
 *   "mg:" GUEST16 MERGE16       -> empty: the merges a guest took part in
 *   "nd:" GUEST16 OTHER16       -> empty: "not a duplicate", stored both ways */
#define PF_META_MERGE "merge:"
#define PF_META_MERGE_GUEST "mg:"
#define PF_META_NOT_DUP "nd:"

/** True in *out when a and b are marked "not a duplicate" (meta "nd:" a
 *  b), for dupes.c's suggestions.  0 or a mapped error. */
int pf_merge_marked_not_dup(MDB_txn *txn, pf_db *db, const pf_id *a, const pf_id *b,
                            bool *out);

/**
 * Erasure support (merge.c): destroy every merge record that holds bytes
 * of `guest`, following merges transitively (a profile merged into a
 * profile merged into `guest` is the same person), and every "not a
 * duplicate" mark of those profiles.  *ids receives `guest` first, then
 * every other profile id reached (malloc'd; the caller frees it).
 */
int pf_merge_forget_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **ids,
                          size_t *n);

/** For upgrade.c: hand every merge record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
/* The same for one profile only (apply.c: an erasure made at another
 * property names every profile it takes): its merge records and marks go,
 * the profiles they name stay. */
int pf_merge_forget_profile(MDB_txn *txn, pf_db *db, const pf_id *guest);

/* Not-duplicate marks for the chain (change.c, apply.c, digest.c): the
 * guests marked with `guest` (*others malloc'd, in key order), a mark
 * stored both ways (no journal entry), and every mark of a guest gone. */
int pf_merge_marks_of(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **others, size_t *n);
int pf_merge_mark_put(MDB_txn *txn, pf_db *db, const pf_id *a, const pf_id *b);
int pf_merge_forget_marks(MDB_txn *txn, pf_db *db, const pf_id *guest);

int pf_merge_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

#endif /* PF_MERGE_H */
