/*
 * fuzz_common.h — what the database-backed fuzz targets share: one LMDB
 * environment per process in a temporary directory (on /dev/shm when it
 * exists, so commits cost no disk sync), a reset that empties it between
 * inputs, and the consistency checks run after each input.
 *
 * Included by the targets (each its own program under libFuzzer) and, all
 * together, by tests/test_fuzz_regress.c, which replays saved inputs
 * through the same functions in the normal suite; hence everything here
 * is static and guarded.  Built with the library's own sources or its
 * static archive: it reaches into the internal headers to read raw LMDB records.
 */
#ifndef PF_FUZZ_COMMON_H
#define PF_FUZZ_COMMON_H

#include "error.h"
#include "text.h"
#include "store.h"
#include "codec.h"
#include "guest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every helper is static; a target that uses only some of them must
 * not warn about the rest. */
#define FUZZ_FN static __attribute__((unused))

/* The replay test names the input it is running so that a failed
 * property says which saved file broke it. */
static const char *fuzz_input_name = NULL;

/* A property of the library does not hold: say which and stop.  Under
 * libFuzzer the abort is a crash, its input saved as an artifact; in the
 * replay test it fails the test. */
#define FUZZ_FAIL(...)                                                        \
	do {                                                                  \
		fprintf(stderr, "fuzz property violated%s%s: ",               \
		        fuzz_input_name ? " by " : "",                        \
		        fuzz_input_name ? fuzz_input_name : "");              \
		fprintf(stderr, __VA_ARGS__);                                 \
		fprintf(stderr, " [%s:%d; pf_errmsg: %s]\n", __FILE__,        \
		        __LINE__, pf_errmsg());                               \
		abort();                                                      \
	} while (0)

#define FUZZ_CHECK(cond, ...)                                                 \
	do {                                                                  \
		if (!(cond))                                                  \
			FUZZ_FAIL(__VA_ARGS__);                               \
	} while (0)

static pf_db *fuzz_db = NULL;
static char fuzz_dir[256];

FUZZ_FN void fuzz_rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	char p[512];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		fuzz_rm_rf(p);
	}
	closedir(d);
	rmdir(path);
}

/* Close the environment and remove its directory.  Registered with
 * atexit for the fuzzers; the replay test calls it at the end of each
 * test. */
FUZZ_FN void fuzz_env_close(void)
{
	if (!fuzz_db)
		return;
	pf_close(fuzz_db);
	fuzz_db = NULL;
	fuzz_rm_rf(fuzz_dir);
}

/* A fixed clock: the same input gives the same records, so a crash
 * reproduces. */
static pf_time fuzz_clock(void *payload)
{
	(void)payload;
	return (pf_time)1795424400;  /* 2026-11-23 09:00:00 UTC */
}

FUZZ_FN pf_db *fuzz_env(void)
{
	if (fuzz_db)
		return fuzz_db;
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	                   access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NULL;
	if (!base)
		base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(fuzz_dir, sizeof fuzz_dir, "%s/pf-fuzz-XXXXXX", base);
	if (!mkdtemp(fuzz_dir))
		FUZZ_FAIL("mkdtemp %s: %s", fuzz_dir, strerror(errno));
	char path[300];
	snprintf(path, sizeof path, "%s/db", fuzz_dir);
	pf_options o = PF_OPTIONS_INIT;
	o.clock = fuzz_clock;
	o.timezone = "Asia/Macau";
	/* Small and capped: a hostile input must not fill the machine. */
	o.map_size = 8u << 20;
	o.max_map_size = 256u << 20;
	o.flags = PF_OPEN_NOMETASYNC;
	if (pf_open(&fuzz_db, path, &o) != 0)
		FUZZ_FAIL("pf_open %s", path);
	atexit(fuzz_env_close);
	return fuzz_db;
}

/* Write an input to a file in the environment's directory (the importers
 * take a path). */
FUZZ_FN const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
	static char path[400];
	snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		FUZZ_FAIL("cannot write %s", path);
	return path;
}

/* ---------------------------------------------------------------- reset */

FUZZ_FN bool fuzz_meta_keep(const MDB_val *k)
{
	/* The schema version, and the rule book's version, which only ever
	 * moves on: each handle caches the parsed book by it. */
	static const char *const keep[] = { "schema", "rules.version" };
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (k->mv_size == strlen(keep[i]) && !memcmp(k->mv_data, keep[i], k->mv_size))
			return true;
	return false;
}

FUZZ_FN int fuzz_reset_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	(void)arg;
	for (int i = 0; i < PF_DBI_COUNT; i++) {
		if (i == PF_DBI_META)
			continue;
		int rc = mdb_drop(txn, db->dbi[i], 0);
		if (rc)
			return pf_lmdb_err(rc, "fuzz reset");
	}
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, db->dbi[PF_DBI_META], &c);
	if (rc)
		return pf_lmdb_err(rc, "fuzz reset");
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if (!fuzz_meta_keep(&k) && (rc = mdb_cursor_del(c, 0)))
			break;
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return pf_lmdb_err(rc, "fuzz reset");
	/* The rule records are gone: move the version on so every cache
	 * rebuilds from the (empty) stored book. */
	uint64_t version;
	return pf_meta_next(txn, db, "rules.version", &version);
}

/* Empty every database, so each input starts from the same state
 * whatever ran before it: crashes reproduce from their input alone. */
FUZZ_FN void fuzz_reset(pf_db *db)
{
	if (pf_store_write(db, fuzz_reset_txn, NULL) != 0)
		FUZZ_FAIL("cannot reset the database");
}

/* ---------------------------------------------------------------- checks */

typedef struct fuzz_ids {
	size_t n;
	pf_id *ids;
} fuzz_ids;

struct fuzz_scan {
	fuzz_ids *out;
};

/*
 * Walk the guest records and the look-up indexes in one read
 * transaction: every guest decodes, every index entry names a stored
 * guest, and every contact key a guest has is in the index.  *out gets
 * the guests' ids in key order.
 */
FUZZ_FN int fuzz_scan_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	fuzz_ids *out = ((struct fuzz_scan *)arg)->out;
	MDB_cursor *c;
	MDB_val k, v, tmp;
	int rc;

	out->n = 0;
	if ((rc = mdb_cursor_open(txn, db->dbi[PF_DBI_GUEST], &c)))
		return pf_lmdb_err(rc, "fuzz scan");
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		FUZZ_CHECK(k.mv_size == sizeof(pf_id), "guest key of %zu bytes", k.mv_size);
		pf_guest_rec *r = NULL;
		FUZZ_CHECK(pf_codec_guest_decode(&r, v.mv_data, v.mv_size) == 0,
		           "a stored guest record does not decode");
		pf_id id;
		memcpy(id.b, k.mv_data, sizeof id.b);
		r->g.id = id;
		pf_contact_keys keys;
		FUZZ_CHECK(pf_guest_contact_keys(r, &keys) == 0, "contact keys of a guest");
		for (size_t i = 0; i < keys.n; i++) {
			MDB_val ck = { keys.len[i], keys.key[i] }, cv = { sizeof id.b, id.b };
			MDB_cursor *cc;
			FUZZ_CHECK(mdb_cursor_open(txn, db->dbi[PF_DBI_CONTACT], &cc) == 0, "cursor");
			int got = mdb_cursor_get(cc, &ck, &cv, MDB_GET_BOTH);
			mdb_cursor_close(cc);
			FUZZ_CHECK(got == 0, "a guest's contact key '%.*s' is not indexed",
			           (int)keys.len[i], (const char *)keys.key[i]);
		}
		pf_guest_rec_free(r);
		pf_id *grown = realloc(out->ids, (out->n + 1) * sizeof *grown);
		if (!grown)
			FUZZ_FAIL("out of memory");
		out->ids = grown;
		out->ids[out->n++] = id;
	}
	mdb_cursor_close(c);
	FUZZ_CHECK(rc == MDB_NOTFOUND, "guest scan: %s", mdb_strerror(rc));

	/* Contact index: key -> guest id (dupsort). */
	FUZZ_CHECK(mdb_cursor_open(txn, db->dbi[PF_DBI_CONTACT], &c) == 0, "cursor");
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		FUZZ_CHECK(v.mv_size == sizeof(pf_id), "contact entry of %zu bytes", v.mv_size);
		FUZZ_CHECK(mdb_get(txn, db->dbi[PF_DBI_GUEST], &v, &tmp) == 0,
		           "contact key '%.*s' names no stored guest", (int)k.mv_size,
		           (const char *)k.mv_data);
	}
	mdb_cursor_close(c);
	FUZZ_CHECK(rc == MDB_NOTFOUND, "contact scan: %s", mdb_strerror(rc));

	/* Name index: folded word + '\0' + id -> empty. */
	FUZZ_CHECK(mdb_cursor_open(txn, db->dbi[PF_DBI_NAME], &c) == 0, "cursor");
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		FUZZ_CHECK(k.mv_size > sizeof(pf_id), "name key of %zu bytes", k.mv_size);
		MDB_val id = { sizeof(pf_id), (char *)k.mv_data + k.mv_size - sizeof(pf_id) };
		FUZZ_CHECK(mdb_get(txn, db->dbi[PF_DBI_GUEST], &id, &tmp) == 0,
		           "a name key names no stored guest");
	}
	mdb_cursor_close(c);
	FUZZ_CHECK(rc == MDB_NOTFOUND, "name scan: %s", mdb_strerror(rc));
	return 0;
}

/* True if `list` holds guest `id`. */
FUZZ_FN bool fuzz_list_has(const pf_guest_list *list, const pf_id *id)
{
	for (size_t i = 0; i < list->count; i++)
		if (!memcmp(list->items[i]->id.b, id->b, sizeof id->b))
			return true;
	return false;
}

/* Only whitespace: pf_guest_find refuses such a query as blank. */
FUZZ_FN bool fuzz_blank(const char *s)
{
	for (; *s; s++)
		if (!strchr(" \t\n\r\v\f", *s))
			return false;
	return true;
}

/* `query` must find guest `id` through pf_guest_find (unless more guests
 * matched than a list holds). */
FUZZ_FN void fuzz_check_found(pf_db *db, const char *query, const pf_id *id, const char *what)
{
	pf_guest_list *l = NULL;
	int rc = pf_guest_find(&l, db, query);
	FUZZ_CHECK(rc == 0, "pf_guest_find by %s failed (%d)", what, rc);
	FUZZ_CHECK(l->truncated || fuzz_list_has(l, id),
	           "a stored guest is not found by its %s", what);
	pf_guest_list_free(l);
}

/*
 * The database is consistent: records decode, indexes agree with them,
 * every guest reads back through the public API and is found again by
 * its e-mail and loyalty number.  Returns the ids (caller frees ->ids).
 */
FUZZ_FN fuzz_ids fuzz_check_db(pf_db *db)
{
	fuzz_ids ids = { 0, NULL };
	struct fuzz_scan a = { &ids };
	FUZZ_CHECK(pf_store_read(db, fuzz_scan_txn, &a) == 0, "scan failed");
	for (size_t i = 0; i < ids.n; i++) {
		pf_guest *g = NULL;
		FUZZ_CHECK(pf_guest_get(&g, db, &ids.ids[i]) == 0, "a stored guest does not read back");
		FUZZ_CHECK(!memcmp(g->id.b, ids.ids[i].b, sizeof g->id.b), "guest read back with another id");
		/* The find routes a query by its '@': an e-mail without one is
		 * looked up as a loyalty number or name, not as an e-mail. */
		if (g->email && strchr(g->email, '@') && !fuzz_blank(g->email))
			fuzz_check_found(db, g->email, &g->id, "e-mail");
		if (g->loyalty_no && !strchr(g->loyalty_no, '@') && !fuzz_blank(g->loyalty_no))
			fuzz_check_found(db, g->loyalty_no, &g->id, "loyalty number");
		pf_guest_free(g);
	}
	return ids;
}

#endif /* PF_FUZZ_COMMON_H */
