/*
 * db.h — what db.c offers the other files of the library.
 * Owner: db.c: the pf_db handle (open/close, options, the registry of
 * open directories, the clock), above the modules.
 *
 * Everything db.c offers is public (libprofile.h: pf_open, pf_close,
 * pf_now, pf_version, pf_options_init, pf_day_start, pf_utc_offset,
 * pf_complaint_due), so this header declares nothing of its own.  It
 * exists so the layer has a name: only db.c includes it.  struct pf_db
 * is in store.h (store.c needs its LMDB fields; see there).
 * Never installed; nothing here is API.
 */
#ifndef PF_DB_H
#define PF_DB_H

#include "store.h"

#endif /* PF_DB_H */
