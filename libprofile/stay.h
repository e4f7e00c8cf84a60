/*
 * stay.h — what stay.c offers the other files of the library.
 * Owner: stay.c: the stay database.
 * Never installed; nothing here is API.
 */
#ifndef PF_STAY_H
#define PF_STAY_H

#include "store.h"
#include "codec.h"

#include <stdbool.h>

/* A stay's key: 16-byte guest id + big-endian arrival.  Built and parsed
 * only here: no other file knows the layout. */
#define PF_STAY_KEY_LEN (sizeof(pf_id) + 4)

/** Write the key of (guest, arrival) into key; returns its length. */
size_t pf_stay_key(unsigned char key[PF_STAY_KEY_LEN], const pf_id *guest, pf_date arrival);

/** Split a stored stay key; false when it is not a stay key's length
 *  (guest and arrival may be NULL). */
bool pf_stay_key_parse(const void *key, size_t len, pf_id *guest, pf_date *arrival);

/** One stay of a guest, as stored: its arrival and the encoded value.
 *  A non-zero return stops the walk and is returned. */
typedef int (*pf_stay_fn)(void *ctx, pf_date arrival, const MDB_val *val);

/* pf_stays_each flag: pass keys of the wrong length too (arrival 0)
 * instead of failing with PF_ECORRUPT. */
#define PF_STAYS_ANY_KEY 1u

/** Call fn for every stay of `guest` in arrival order.  A key of the
 *  wrong length is PF_ECORRUPT ("corrupt record in 'stay': key of N
 *  bytes, expected 20") unless flags has PF_STAYS_ANY_KEY.  The callback
 *  must not write the stay database. */
int pf_stays_each(MDB_txn *txn, pf_db *db, const pf_id *guest, unsigned flags,
                  pf_stay_fn fn, void *ctx);

/** The number of keys stored under `guest` (whatever their length). */
int pf_stays_count(MDB_txn *txn, pf_db *db, const pf_id *guest, uint64_t *out);

/** The encoded stay (guest, arrival): 0, PF_ENOTFOUND (no message) or a
 *  mapped error. */
int pf_stay_get(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_date arrival, MDB_val *val);

/** Store encoded stay bytes as they are (merge and unmerge move a stay
 *  byte for byte); no counter is touched. */
int pf_stay_put_raw(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_date arrival,
                    const void *val, size_t len);

/** Delete the stay (guest, arrival); a missing stay is 0. */
int pf_stay_del(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_date arrival);

/** Delete every stay of `guest`; *count (may be NULL) receives how many. */
int pf_stays_delete(MDB_txn *txn, pf_db *db, const pf_id *guest, size_t *count);

/** Every record of the stay database in key order, raw (for read-only
 *  walks that judge keys themselves with pf_stay_key_parse: quality.c,
 *  verify.c).  A non-zero return of fn stops the walk and is returned. */
int pf_stay_each_all(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx);

/** Append every stay of `guest`, in arrival order, to (*items)[*n..],
 *  growing *items (capacity *cap) with realloc.  On failure the stays
 *  already appended stay there for the caller to clear and free.
 *  PF_ECORRUPT for a malformed key or record; messages name `what`. */
int pf_stays_read(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_stay **items,
                  size_t *n, size_t *cap);

/** Record or update a stay inside a transaction; updates the guest's stay
 *  counter when the stay is new.  `r` is the loaded guest record, saved by
 *  this function when the counter changes. */
int pf_stay_put_txn(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const pf_stay *s);

/** For upgrade.c: hand every stay record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
int pf_stay_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

#endif /* PF_STAY_H */
