/*
 * pref.h — what pref.c offers the other files of the library.
 * Owner: pref.c: preferences inside the guest record.
 * Never installed; nothing here is API.
 */
#ifndef PF_PREF_H
#define PF_PREF_H

#include "store.h"
#include "codec.h"

/**
 * pf_pref_set's work on a loaded guest record, inside the caller's write
 * transaction: observe category = value (kind, department, staff and
 * note from *o; o->time and o->version are not read) at time t.  The
 * same value and kind again counts once more and keeps the stored note
 * when o->note is NULL; anything else replaces the category's
 * preference.  Journals "pref.set"; edits r but neither saves it nor
 * touches r->g.updated.  Arguments must be valid already.  PF_EINVAL
 * when a new category would pass PF_PREFS_MAX; messages start "<fn>: ".
 */
int pf_pref_observe(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const char *category,
                    const char *value, const pf_observation *o, pf_time t, const char *fn);

#endif /* PF_PREF_H */
