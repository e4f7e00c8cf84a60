/*
 * erase.h — what erase.c offers the other files of the library.
 * Owner: erase.c: erasure, retention, consent (owns no database).
 * Never installed; nothing here is API.
 */
#ifndef PF_ERASE_H
#define PF_ERASE_H

#include "store.h"

/** An erasure made at another property of the chain (apply.c), for one
 *  profile exactly: its record, indexes and stays if it has them here,
 *  its merge records and not-duplicate marks, the texts of its feedback,
 *  journal entries and prompts.  Profiles merged into it here are not
 *  followed: the erasure names every profile it takes. */
int pf_erase_profile_txn(MDB_txn *txn, pf_db *db, const pf_id *guest);

#endif /* PF_ERASE_H */
