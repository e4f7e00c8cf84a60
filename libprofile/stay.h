/*
 * stay.h — what stay.c offers the other files of the library.
 * Owner: stay.c: the stay database.
 * Never installed; nothing here is API.
 */
#ifndef PF_STAY_H
#define PF_STAY_H

#include "store.h"
#include "codec.h"

/** Append every stay of `guest`, in arrival order, to (*items)[*n..],
 *  growing *items (capacity *cap) with realloc.  On failure the stays
 *  already appended stay there for the caller to clear and free.
 *  PF_ECORRUPT for a malformed key or record; messages name `what`. */
int pf_stays_read(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_stay **items,
                  size_t *n, size_t *cap, const char *what);

/** Record or update a stay inside a transaction; updates the guest's stay
 *  counter when the stay is new.  `r` is the loaded guest record, saved by
 *  this function when the counter changes. */
int pf_stay_put_txn(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const pf_stay *s,
                    const char *what);

#endif /* PF_STAY_H */
