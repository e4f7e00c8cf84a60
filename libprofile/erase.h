/*
 * erase.h — what erase.c offers the other files of the library.
 * Owner: erase.c: erasure, retention, consent (owns no database).
 * Never installed; nothing here is API.
 */
#ifndef PF_ERASE_H
#define PF_ERASE_H

#include "store.h"

/** pf_guest_erase's work inside `txn`: the guest (which must exist:
 *  PF_ENOTFOUND otherwise), its indexes, stays, the texts of its prompts
 *  and feedback, its journal entries and merge records (apply.c: an
 *  erasure made at another property of the chain). */
int pf_erase_guest_txn(MDB_txn *txn, pf_db *db, const pf_id *guest);

#endif /* PF_ERASE_H */
