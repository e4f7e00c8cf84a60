/*
 * dupes.h — what dupes.c offers the other files of the library.
 * Owner: dupes.c: duplicate suggestions (pf_guest_duplicates, declared in
 * libprofile.h).  It offers nothing else today; the header exists so the
 * file has one, like every module.  Never installed; nothing here is API.
 */
#ifndef PF_DUPES_H
#define PF_DUPES_H

#include "store.h"

#endif /* PF_DUPES_H */
