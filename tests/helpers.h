/*
 * helpers.h — fixtures shared by the Criterion suites: a fresh LMDB
 * environment in a temporary directory per test, and a clock the test
 * controls.
 */
#ifndef PF_TEST_HELPERS_H
#define PF_TEST_HELPERS_H

#include "libprofile.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

/* 2026-11-23 09:00:00 UTC, the fixture clock's starting time. */
#define T0 ((pf_time)1795424400)

/* The fixture's database, directory and clock. */
extern pf_db *tdb;
extern char tdir[256];
extern pf_time tclock;

/** Create a temporary directory and open a database in it, the clock at
 *  T0 (use as TestSuite .init). */
void db_setup(void);
/** Close the database and remove the directory (TestSuite .fini). */
void db_teardown(void);

/** The clock the fixture passes to pf_open: returns tclock. */
pf_time test_clock(void *payload);

/** Options with the fixture clock. */
pf_options test_options(void);

/** Close and reopen tdb on the same directory. */
void db_reopen(void);

/** Remove a directory tree (tests' own temporary directories). */
void rm_rf(const char *path);

/** Create a guest with the given name (and optional email/phone) and
 *  return its id; fails the test on error. */
pf_id add_guest(const char *name, const char *email, const char *phone);

/** Record a preference with department "front_desk"; fails the test on
 *  error. */
void set_pref(const pf_id *guest, const char *category, const char *value,
              pf_pref_kind kind);

/** The data file of the fixture's environment, read whole (malloc'd). */
unsigned char *read_data_file(const char *dir, size_t *len);

/* Raw LMDB access, bypassing the library, to inspect or damage stored
 * bytes. `dbi` is an enum pf_dbi value (store.h); it is taken as an int
 * so this header need not include store.h. Every LMDB error fails the
 * test. */

/** Every key and value of the databases dbis[0..ndbis) of `db` (all of
 *  them when dbis is NULL), read in one transaction and serialised as
 *  (dbi byte, key length, key, value length, value) per record: two dumps
 *  are byte-equal exactly when those databases hold the same records.
 *  Returns a malloc'd buffer of *len bytes. */
unsigned char *dump_dbs(pf_db *db, const int *dbis, size_t ndbis, size_t *len);

/** Write key = val into database `dbi` of the open `db` in a transaction
 *  of its own; NULL val deletes the key (which must exist). */
void raw_put(pf_db *db, int dbi, const void *key, size_t klen, const void *val,
             size_t vlen);

/** The stored value of `key` in database `dbi` of the open `db`, copied
 *  (malloc'd, *len bytes), or NULL if absent. */
unsigned char *raw_get(pf_db *db, int dbi, const void *key, size_t klen, size_t *len);

/** raw_put on the environment in `dir` while no pf_db has it open, the
 *  database named `dbname` ("meta", "guest", ...). */
void raw_put_dir(const char *dir, const char *dbname, const void *key, size_t klen,
                 const void *val, size_t vlen);

/** raw_get on the environment in `dir` while no pf_db has it open. */
unsigned char *raw_get_dir(const char *dir, const char *dbname, const void *key,
                           size_t klen, size_t *len);

#define assert_ok(expr) cr_assert(eq(int, (expr), 0), "%s: %s", #expr, pf_errmsg())

#endif
