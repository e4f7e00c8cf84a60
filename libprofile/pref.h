/*
 * pref.h — what pref.c offers the other files of the library.
 * Owner: pref.c: preferences inside the guest record.
 * Never installed; nothing here is API.
 */
#ifndef PF_PREF_H
#define PF_PREF_H

#include "store.h"
#include "codec.h"

#include <stdbool.h>
#include <stddef.h>

/*
 * A guest record's preferences are sorted by category (strcmp order);
 * these are the one search, insert and remove on that array (built on
 * vec.c's pf_sorted_find), for pref.c, guest.c, import and rules.c.
 */

/** Index of `category` in r's preferences, or of where it would go (the
 *  first preference that sorts after it); *found says whether it is there. */
size_t pf_guest_rec_pref_find(const pf_guest_rec *r, const char *category, bool *found);

/** The preference of r in `category`; NULL if none. */
const pf_pref *pf_guest_rec_pref(const pf_guest_rec *r, const char *category);

/** Insert *p at index i (from pf_guest_rec_pref_find, which said not
 *  found), moving later preferences up; r takes over p's strings.
 *  PF_ENOMEM ("out of memory" set) leaves r as it was and *p the caller's. */
int pf_guest_rec_pref_insert(pf_guest_rec *r, size_t i, const pf_pref *p);

/** Free preference i's strings (pf_pref_clear: a caller keeping one sets
 *  it to NULL first) and close the gap. */
void pf_guest_rec_pref_remove(pf_guest_rec *r, size_t i);

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
                    const char *value, const pf_observation *o, pf_time t);

#endif /* PF_PREF_H */
