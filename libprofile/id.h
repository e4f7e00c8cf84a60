/*
 * id.h — what id.c offers the other files of the library.
 * Owner: id.c: random and time-ordered ids, the big-endian key encodings.
 * Never installed; nothing here is API.
 */
#ifndef PF_ID_H
#define PF_ID_H

#include "libprofile.h"
#include <stdint.h>

/** A new random UUID (version 4, 122 bits from getrandom): guests,
 *  merges.  Thread-safe, and fork-safe (a child never repeats its
 *  parent's ids). */
void pf_id_generate(pf_id *out);

/** A new time-ordered UUID (version 7: Unix milliseconds, a counter, 62
 *  random bits).  Ids made by one process strictly increase, so records
 *  keyed by them (prompts, feedback) append at the right edge of their
 *  B-tree instead of landing on a random page.  Thread-safe. */
void pf_id_generate_ordered(pf_id *out);

/** Big-endian helpers for keys that must sort numerically. */
void pf_be64_put(unsigned char *p, uint64_t v);
uint64_t pf_be64_get(const unsigned char *p);
void pf_be32_put(unsigned char *p, uint32_t v);
uint32_t pf_be32_get(const unsigned char *p);

#endif /* PF_ID_H */
