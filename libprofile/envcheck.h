/*
 * envcheck.h — what envcheck.c offers the other files of the library.
 * Owner: envcheck.c: checks of the data file LMDB cannot make, before it maps it.
 * Never installed; nothing here is API.
 */
#ifndef PF_ENVCHECK_H
#define PF_ENVCHECK_H

#include <stdbool.h>
#include <stdint.h>

/** What pf_envfile_check read from the current meta page. */
typedef struct pf_envfile {
	uint64_t txnid;           /* 0: created, never committed to */
	uint64_t last_pg;
	unsigned psize;
} pf_envfile;

/**
 * envcheck.c: check the LMDB data file `file` with pread() only, before
 * LMDB maps it: both meta pages, the file's length against the pages in
 * use (a truncated file would make LMDB die with SIGBUS), the main
 * database's records.  Returns 0 (and *out), PF_ECORRUPT ("... is
 * truncated: restore from backup", "... is damaged: ..."), PF_EACCES,
 * PF_EIO or PF_ENOMEM.
 */
int pf_envfile_check(const char *file, pf_envfile *out);

#endif /* PF_ENVCHECK_H */
