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

#endif /* PF_EVENT_H */
