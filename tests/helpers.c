/* helpers.c — see helpers.h. The raw LMDB helpers reach into pf_db, so
 * this file (not helpers.h) includes internal.h. */
#include "helpers.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdint.h>
#include <unistd.h>

pf_db *tdb;
char tdir[256];
pf_time tclock;

pf_time test_clock(void *payload)
{
	(void)payload;
	return tclock;
}

pf_options test_options(void)
{
	pf_options o = PF_OPTIONS_INIT;
	o.clock = test_clock;
	o.map_size = 1u << 20;
	return o;
}

void db_setup(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tdir, sizeof tdir, "%s/pftest-XXXXXX", base && *base ? base : "/tmp");
	cr_assert(mkdtemp(tdir) != NULL, "mkdtemp failed");
	tclock = T0;
	pf_options o = test_options();
	int rc = pf_open(&tdb, tdir, &o);
	cr_assert(eq(int, rc, 0), "pf_open: %s", pf_errmsg());
}

void db_reopen(void)
{
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	int rc = pf_open(&tdb, tdir, &o);
	cr_assert(eq(int, rc, 0), "pf_open: %s", pf_errmsg());
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void db_teardown(void)
{
	pf_close(tdb);
	tdb = NULL;
	if (tdir[0])
		rm_rf(tdir);
}

pf_id add_guest(const char *name, const char *email, const char *phone)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	g.phone = phone;
	int rc = pf_guest_put(tdb, &g);
	cr_assert(eq(int, rc, 0), "pf_guest_put(%s): %s", name, pf_errmsg());
	return g.id;
}

void set_pref(const pf_id *guest, const char *category, const char *value,
              pf_pref_kind kind)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = "front_desk";
	int rc = pf_pref_set(tdb, guest, category, value, &o);
	cr_assert(eq(int, rc, 0), "pf_pref_set(%s): %s", category, pf_errmsg());
}

unsigned char *read_data_file(const char *dir, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)n + 1);
	cr_assert(buf != NULL);
	cr_assert(eq(sz, fread(buf, 1, (size_t)n, f), (size_t)n));
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- raw LMDB access ---- */

/* Open `dir` with plain LMDB; the caller must have closed every pf_db on
 * it (LMDB allows one environment per file per process). */
static MDB_env *raw_env_open(const char *dir)
{
	MDB_env *env = NULL;
	cr_assert(eq(int, mdb_env_create(&env), 0));
	mdb_env_set_maxdbs(env, 32);
	cr_assert(eq(int, mdb_env_open(env, dir, MDB_NOTLS, 0600), 0));
	return env;
}

/* Shared by raw_put and raw_put_dir: the database is `dbname` if given,
 * else the handle `dbi` already open in `env`. */
static void raw_put_env(MDB_env *env, const char *dbname, MDB_dbi dbi, const void *key,
                        size_t klen, const void *val, size_t vlen)
{
	MDB_txn *txn = NULL;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	cr_assert(eq(int, mdb_txn_begin(env, NULL, 0, &txn), 0));
	if (dbname)
		cr_assert(eq(int, mdb_dbi_open(txn, dbname, 0, &dbi), 0));
	int rc = val ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
	cr_assert(eq(int, rc, 0), "raw write: %s", mdb_strerror(rc));
	cr_assert(eq(int, mdb_txn_commit(txn), 0));
}

/* Shared by raw_get and raw_get_dir, as raw_put_env. */
static unsigned char *raw_get_env(MDB_env *env, const char *dbname, MDB_dbi dbi,
                                  const void *key, size_t klen, size_t *len)
{
	MDB_txn *txn = NULL;
	MDB_val k = { klen, (void *)key }, v;
	unsigned char *out = NULL;
	cr_assert(eq(int, mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0));
	if (dbname)
		cr_assert(eq(int, mdb_dbi_open(txn, dbname, 0, &dbi), 0));
	int rc = mdb_get(txn, dbi, &k, &v);
	cr_assert(rc == 0 || rc == MDB_NOTFOUND, "raw read: %s", mdb_strerror(rc));
	if (rc == 0) {
		out = malloc(v.mv_size + 1);   /* + 1: empty values still give non-NULL */
		cr_assert(out != NULL);
		memcpy(out, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	mdb_txn_abort(txn);
	return out;
}

void raw_put(pf_db *db, int dbi, const void *key, size_t klen, const void *val, size_t vlen)
{
	cr_assert(dbi >= 0 && dbi < PF_DBI_COUNT);
	raw_put_env(db->env, NULL, db->dbi[dbi], key, klen, val, vlen);
}

unsigned char *raw_get(pf_db *db, int dbi, const void *key, size_t klen, size_t *len)
{
	cr_assert(dbi >= 0 && dbi < PF_DBI_COUNT);
	return raw_get_env(db->env, NULL, db->dbi[dbi], key, klen, len);
}

void raw_put_dir(const char *dir, const char *dbname, const void *key, size_t klen,
                 const void *val, size_t vlen)
{
	MDB_env *env = raw_env_open(dir);
	raw_put_env(env, dbname, 0, key, klen, val, vlen);
	mdb_env_close(env);
}

unsigned char *raw_get_dir(const char *dir, const char *dbname, const void *key,
                           size_t klen, size_t *len)
{
	MDB_env *env = raw_env_open(dir);
	unsigned char *out = raw_get_env(env, dbname, 0, key, klen, len);
	mdb_env_close(env);
	return out;
}

/* Append the 8-byte length of p, then p, growing the buffer. */
static void dump_put(unsigned char **b, size_t *n, size_t *cap, const void *p, size_t len)
{
	if (*n + 8 + len > *cap) {
		*cap = (*n + 8 + len) * 2;
		unsigned char *grown = realloc(*b, *cap);
		cr_assert(grown != NULL);
		*b = grown;
	}
	uint64_t l = len;
	memcpy(*b + *n, &l, 8);
	if (len)
		memcpy(*b + *n + 8, p, len);
	*n += 8 + len;
}

unsigned char *dump_dbs(pf_db *db, const int *dbis, size_t ndbis, size_t *len)
{
	size_t cap = 4096, n = 0;
	unsigned char *b = malloc(cap);
	cr_assert(b != NULL);
	if (!dbis)
		ndbis = PF_DBI_COUNT;
	MDB_txn *txn = NULL;
	cr_assert(eq(int, mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn), 0));
	for (size_t i = 0; i < ndbis; i++) {
		int dbi = dbis ? dbis[i] : (int)i;
		cr_assert(dbi >= 0 && dbi < PF_DBI_COUNT);
		MDB_cursor *cur = NULL;
		MDB_val k, v;
		cr_assert(eq(int, mdb_cursor_open(txn, db->dbi[dbi], &cur), 0));
		for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			unsigned char tag = (unsigned char)dbi;
			dump_put(&b, &n, &cap, &tag, 1);
			dump_put(&b, &n, &cap, k.mv_data, k.mv_size);
			dump_put(&b, &n, &cap, v.mv_data, v.mv_size);
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	*len = n;
	return b;
}
