/*
 * id.h — what id.c offers the other files of the library.
 * Owner: id.c: random ids and the big-endian key encodings.
 * Never installed; nothing here is API.
 */
#ifndef PF_ID_H
#define PF_ID_H

#include "libprofile.h"
#include <stdint.h>

/** A new random UUID (libuuid). */
void pf_id_generate(pf_id *out);

/** Big-endian helpers for keys that must sort numerically. */
void pf_be64_put(unsigned char *p, uint64_t v);
uint64_t pf_be64_get(const unsigned char *p);
void pf_be32_put(unsigned char *p, uint32_t v);
uint32_t pf_be32_get(const unsigned char *p);

#endif /* PF_ID_H */
