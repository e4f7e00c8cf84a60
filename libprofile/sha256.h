/*
 * sha256.h — what sha256.c offers the other files of the library.
 * Owner: sha256.c: SHA-256 (FIPS 180-4), incremental.
 * Never installed; nothing here is API.
 */
#ifndef PF_SHA256_H
#define PF_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PF_SHA256_SIZE 32

typedef struct pf_sha256 {
	uint32_t h[8];
	uint64_t bytes;           /* message length so far */
	unsigned char block[64];
	size_t fill;              /* bytes waiting in block */
} pf_sha256;

void pf_sha256_init(pf_sha256 *s);
void pf_sha256_update(pf_sha256 *s, const void *data, size_t len);
/** The digest of everything given; s must be initialised again to reuse. */
void pf_sha256_final(pf_sha256 *s, unsigned char out[PF_SHA256_SIZE]);

#endif /* PF_SHA256_H */
