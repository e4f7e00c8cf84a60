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

#define assert_ok(expr) cr_assert(eq(int, (expr), 0), "%s: %s", #expr, pf_errmsg())

#endif
