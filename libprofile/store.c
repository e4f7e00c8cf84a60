/*
 * store.c — the LMDB environment: opening and closing, the named
 * databases, the schema version, transactions, and map growth.
 * Uses LMDB and error.c; calls event.c and prompt.c only to free their
 * per-handle caches at close, and tz.c to load the hotel's time zone.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)64 << 20)
/* Past this the map stops doubling and PF_EFULL reaches the caller. */
#define MAX_MAP_SIZE ((size_t)1 << 40)

const char *const pf_dbi_names[PF_DBI_COUNT] = {
	[PF_DBI_META] = "meta",       [PF_DBI_GUEST] = "guest",
	[PF_DBI_CONTACT] = "contact", [PF_DBI_NAME] = "name",
	[PF_DBI_STAY] = "stay",       [PF_DBI_RULE] = "rule",
	[PF_DBI_EVENT] = "event",     [PF_DBI_PROMPT] = "prompt",
	[PF_DBI_QUEUE] = "queue",     [PF_DBI_FEEDBACK] = "feedback",
	[PF_DBI_JOURNAL] = "journal",
};

/*
 * LMDB forbids opening one environment twice in a process (its locks are
 * per process), so open paths are registered.  Keyed by pid as well: a
 * child after fork() inherits the list but is a different process and may
 * open the database itself.
 */
struct open_path {
	struct open_path *next;
	pid_t pid;
	char *path;
};
static struct open_path *open_paths;
static pthread_mutex_t open_paths_lock = PTHREAD_MUTEX_INITIALIZER;

static int register_path(const char *path)
{
	int rc = 0;
	pid_t pid = getpid();
	pthread_mutex_lock(&open_paths_lock);
	for (struct open_path *p = open_paths; p; p = p->next) {
		if (p->pid == pid && strcmp(p->path, path) == 0) {
			rc = pf_seterr(PF_EBUSY, "pf_open: '%s' is already open in this process "
			               "(LMDB allows one handle per environment per process)", path);
			goto out;
		}
	}
	struct open_path *p = malloc(sizeof *p);
	char *copy = strdup(path);
	if (!p || !copy) {
		free(p);
		free(copy);
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory");
		goto out;
	}
	p->pid = pid;
	p->path = copy;
	p->next = open_paths;
	open_paths = p;
out:
	pthread_mutex_unlock(&open_paths_lock);
	return rc;
}

static void unregister_path(const char *path)
{
	pid_t pid = getpid();
	pthread_mutex_lock(&open_paths_lock);
	for (struct open_path **pp = &open_paths; *pp; pp = &(*pp)->next) {
		struct open_path *p = *pp;
		if (p->pid == pid && strcmp(p->path, path) == 0) {
			*pp = p->next;
			free(p->path);
			free(p);
			break;
		}
	}
	pthread_mutex_unlock(&open_paths_lock);
}

const char *pf_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = PF_VERSION_MAJOR;
	if (minor)
		*minor = PF_VERSION_MINOR;
	if (patch)
		*patch = PF_VERSION_PATCH;
	return PF_VERSION_STRING;
}

/* Bytes of pf_options a caller of struct version `version` allocated:
 * fields are only ever appended, so older callers pass a shorter struct. */
static size_t options_size(unsigned int version)
{
	return version == 1 ? offsetof(pf_options, timezone) : sizeof(pf_options);
}

int pf_options_init(pf_options *opts, unsigned int version)
{
	if (!opts)
		return pf_seterr(PF_EINVAL, "pf_options_init: opts is NULL");
	if (version < 1 || version > PF_OPTIONS_VERSION)
		return pf_seterr(PF_EINVAL, "pf_options_init: unknown options version %u "
		                 "(this library knows 1 to %d)", version, PF_OPTIONS_VERSION);
	pf_options def = PF_OPTIONS_INIT;
	memcpy(opts, &def, options_size(version));
	opts->version = version;
	return 0;
}

pf_time pf_now(pf_db *db)
{
	if (db && db->opts.clock)
		return db->opts.clock(db->opts.clock_payload);
	return (pf_time)time(NULL);
}

/* ---------------------------------------------------------------- open */

/* Open every named database (creating what is missing when writable) and
 * check or write the schema version. */
static int open_dbis(pf_db *db, bool readonly)
{
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(db->env, NULL, readonly ? MDB_RDONLY : 0, &txn);
	if (rc)
		return pf_lmdb_err(rc, "pf_open: cannot begin a transaction");
	for (int i = 0; i < PF_DBI_COUNT; i++) {
		unsigned flags = readonly ? 0 : MDB_CREATE;
		if (i == PF_DBI_CONTACT)
			flags |= MDB_DUPSORT;
		rc = mdb_dbi_open(txn, pf_dbi_names[i], flags, &db->dbi[i]);
		if (rc == MDB_NOTFOUND) {
			rc = pf_seterr(PF_ENOTFOUND, "pf_open: '%s' has no '%s' database: not a "
			               "libprofile database, or never opened for writing",
			               db->path, pf_dbi_names[i]);
			goto fail;
		}
		if (rc) {
			rc = pf_lmdb_err(rc, "pf_open: cannot open a named database");
			goto fail;
		}
	}

	uint64_t schema = 0;
	rc = pf_meta_get_u64(txn, db, "schema", &schema);
	if (rc)
		goto fail;
	if (schema > PF_SCHEMA_VERSION) {
		rc = pf_seterr(PF_EVERSION, "pf_open: '%s' has schema version %llu; this library "
		               "(%s) understands up to %d", db->path, (unsigned long long)schema,
		               PF_VERSION_STRING, PF_SCHEMA_VERSION);
		goto fail;
	}
	if (schema == 0) {
		if (readonly) {
			rc = pf_seterr(PF_ENOTFOUND, "pf_open: '%s' holds no libprofile data yet "
			               "(open it writable once first)", db->path);
			goto fail;
		}
		rc = pf_meta_put_u64(txn, db, "schema", PF_SCHEMA_VERSION);
		if (rc)
			goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		return pf_lmdb_err(rc, "pf_open: cannot commit the schema");
	return 0;
fail:
	mdb_txn_abort(txn);
	return rc;
}

static int prepare_dir(const char *path, bool readonly, char **real_out)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return pf_seterr(PF_EIO, "pf_open: cannot stat '%s': %s", path, strerror(errno));
		if (readonly)
			return pf_seterr(PF_ENOTFOUND, "pf_open: '%s' does not exist", path);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return pf_seterr(errno == EACCES ? PF_EREADONLY : PF_EIO,
			                 "pf_open: cannot create '%s': %s", path, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return pf_seterr(PF_EINVAL, "pf_open: '%s' is not a directory", path);
	}
	*real_out = realpath(path, NULL);
	if (!*real_out)
		return pf_seterr(PF_EIO, "pf_open: cannot resolve '%s': %s", path, strerror(errno));
	return 0;
}

int pf_open(pf_db **out, const char *path, const pf_options *opts)
{
	pf_db *db = NULL;
	pf_tz *tz = NULL;
	char *real = NULL;
	bool registered = false;
	int rc;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_open: out is NULL");
	*out = NULL;
	if (!path || !*path)
		return pf_seterr(PF_EINVAL, "pf_open: path is NULL or empty");
	if (opts && (opts->version < 1 || opts->version > PF_OPTIONS_VERSION))
		return pf_seterr(PF_EINVAL, "pf_open: unknown options version %u (expected 1 to %d)",
		                 opts->version, PF_OPTIONS_VERSION);
	if (opts && (opts->flags & ~(PF_OPEN_READONLY | PF_OPEN_NOMETASYNC)))
		return pf_seterr(PF_EINVAL, "pf_open: unknown flags 0x%x", opts->flags);

	pf_options o = PF_OPTIONS_INIT;
	if (opts)
		memcpy(&o, opts, options_size(opts->version));
	o.version = PF_OPTIONS_VERSION;
	bool readonly = (o.flags & PF_OPEN_READONLY) != 0;
	if (o.map_size == 0)
		o.map_size = DEFAULT_MAP_SIZE;
	if (o.max_map_size && o.map_size > o.max_map_size)
		o.map_size = o.max_map_size;
	/* The zone first: a bad one must be refused before anything is
	 * created on disk.  It leaves o.timezone pointing at its own copy. */
	rc = pf_tz_setup(&tz, &o, "pf_open");
	if (rc)
		goto fail;

	rc = prepare_dir(path, readonly, &real);
	if (rc)
		goto fail;
	rc = register_path(real);
	if (rc)
		goto fail;
	registered = true;

	db = calloc(1, sizeof *db);
	if (!db) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory");
		goto fail;
	}
	db->path = real;
	real = NULL;
	db->opts = o;
	db->tz = tz;
	tz = NULL;
	pthread_rwlock_init(&db->txn_lock, NULL);
	pthread_mutex_init(&db->rules_lock, NULL);
	pthread_mutex_init(&db->sub_lock, NULL);

	rc = mdb_env_create(&db->env);
	if (rc) {
		rc = pf_lmdb_err(rc, "pf_open: cannot create the environment");
		goto fail;
	}
	/* Must precede mdb_env_open (LMDB's rule). */
	mdb_env_set_maxdbs(db->env, PF_DBI_COUNT + 4);
	mdb_env_set_mapsize(db->env, o.map_size);

	/* MDB_NOTLS: read transactions belong to the transaction, not the
	 * thread, so threads (and Python) may share the handle freely. */
	unsigned flags = MDB_NOTLS;
	if (readonly)
		flags |= MDB_RDONLY;
	if (o.flags & PF_OPEN_NOMETASYNC)
		flags |= MDB_NOMETASYNC;
	rc = mdb_env_open(db->env, db->path, flags, 0600);
	if (rc) {
		if (rc == ENOENT)
			rc = pf_seterr(PF_ENOTFOUND, "pf_open: no database in '%s'", db->path);
		else
			rc = pf_lmdb_err(rc, "pf_open: cannot open the environment");
		goto fail;
	}

	/* Clear reader slots left by processes that died mid-read; otherwise
	 * they pin old pages and the file grows forever. */
	int dead = 0;
	mdb_reader_check(db->env, &dead);

	rc = open_dbis(db, readonly);
	if (rc)
		goto fail;

	*out = db;
	return 0;

fail:
	if (db) {
		if (db->env)
			mdb_env_close(db->env);
		pthread_rwlock_destroy(&db->txn_lock);
		pthread_mutex_destroy(&db->rules_lock);
		pthread_mutex_destroy(&db->sub_lock);
		if (registered)
			unregister_path(db->path);
		pf_tz_free(db->tz);
		free(db->path);
		free(db);
	} else if (registered) {
		unregister_path(real);
	}
	pf_tz_free(tz);
	free(real);
	return rc;
}

void pf_close(pf_db *db)
{
	if (!db)
		return;
	pf_rules_cache_free(db);
	pf_subs_free(db);
	mdb_env_close(db->env);
	unregister_path(db->path);
	pthread_rwlock_destroy(&db->txn_lock);
	pthread_mutex_destroy(&db->rules_lock);
	pthread_mutex_destroy(&db->sub_lock);
	pf_tz_free(db->tz);
	free(db->path);
	free(db);
}

/* -------------------------------------------------------- transactions */

/* Take the size another process grew the map to.  No transaction of
 * this handle may be live, hence the exclusive lock. */
static int adopt_map_size(pf_db *db, const char *what)
{
	pthread_rwlock_wrlock(&db->txn_lock);
	int rc = mdb_env_set_mapsize(db->env, 0);
	pthread_rwlock_unlock(&db->txn_lock);
	return rc ? pf_lmdb_err(rc, what) : 0;
}

/* Double the map, unless another thread already grew it past `seen`. */
static int grow_map(pf_db *db, size_t seen, const char *what)
{
	int rc = 0;
	pthread_rwlock_wrlock(&db->txn_lock);
	MDB_envinfo info;
	mdb_env_info(db->env, &info);
	if (info.me_mapsize <= seen) {
		size_t max = db->opts.max_map_size ? db->opts.max_map_size : MAX_MAP_SIZE;
		if (seen >= max) {
			rc = pf_seterr(PF_EFULL, "%s: the database reached its maximum size "
			               "(%zu bytes); nothing was stored", what, seen);
		} else {
			size_t next = seen > max / 2 ? max : seen * 2;
			int mrc = mdb_env_set_mapsize(db->env, next);
			if (mrc)
				rc = pf_seterr(PF_EFULL, "%s: cannot grow the map to %zu bytes: %s",
				               what, next, mdb_strerror(mrc));
		}
	}
	pthread_rwlock_unlock(&db->txn_lock);
	return rc;
}

static size_t map_size(pf_db *db)
{
	MDB_envinfo info;
	mdb_env_info(db->env, &info);
	return info.me_mapsize;
}

int pf_store_write(pf_db *db, const char *what, pf_txn_fn fn, void *arg)
{
	if (db->opts.flags & PF_OPEN_READONLY)
		return pf_seterr(PF_EREADONLY, "%s: the database was opened read-only", what);

	for (;;) {
		MDB_txn *txn = NULL;
		pthread_rwlock_rdlock(&db->txn_lock);
		size_t seen = map_size(db);
		int mrc = mdb_txn_begin(db->env, NULL, 0, &txn);
		if (mrc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&db->txn_lock);
			int rc = adopt_map_size(db, what);
			if (rc)
				return rc;
			continue;
		}
		if (mrc) {
			pthread_rwlock_unlock(&db->txn_lock);
			return pf_lmdb_err(mrc, what);
		}

		int rc = fn(txn, db, arg);
		bool map_full;
		if (rc == 0) {
			mrc = mdb_txn_commit(txn);
			if (mrc == 0) {
				pthread_rwlock_unlock(&db->txn_lock);
				return 0;
			}
			map_full = mrc == MDB_MAP_FULL;
			if (!map_full) {
				pthread_rwlock_unlock(&db->txn_lock);
				return pf_lmdb_err(mrc, what);
			}
		} else {
			mdb_txn_abort(txn);
			/* Inside a transaction PF_EFULL can only mean the map filled:
			 * a full disk shows up at commit, as ENOSPC. */
			map_full = rc == PF_EFULL;
			if (!map_full) {
				pthread_rwlock_unlock(&db->txn_lock);
				return rc;
			}
		}
		pthread_rwlock_unlock(&db->txn_lock);
		rc = grow_map(db, seen, what);
		if (rc)
			return rc;
	}
}

int pf_store_read(pf_db *db, const char *what, pf_txn_fn fn, void *arg)
{
	for (;;) {
		MDB_txn *txn = NULL;
		pthread_rwlock_rdlock(&db->txn_lock);
		int mrc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
		if (mrc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&db->txn_lock);
			int rc = adopt_map_size(db, what);
			if (rc)
				return rc;
			continue;
		}
		if (mrc) {
			pthread_rwlock_unlock(&db->txn_lock);
			return pf_lmdb_err(mrc, what);
		}
		int rc = fn(txn, db, arg);
		mdb_txn_abort(txn);
		pthread_rwlock_unlock(&db->txn_lock);
		return rc;
	}
}

int pf_store_get(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(txn, db->dbi[dbi], &k, val);
	if (rc == MDB_NOTFOUND)
		return PF_ENOTFOUND;
	if (rc)
		return pf_lmdb_err(rc, pf_dbi_names[dbi]);
	return 0;
}

int pf_store_get_id(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const pf_id *id,
                    MDB_val *val, const char *what, const char *noun)
{
	int rc = pf_store_get(txn, db, dbi, id->b, sizeof id->b, val);
	if (rc == PF_ENOTFOUND) {
		char s[PF_ID_STRLEN + 1];
		pf_id_format(s, id);
		return what ? pf_seterr(rc, "%s: no %s with id %s", what, noun, s)
		            : pf_seterr(rc, "no %s with id %s", noun, s);
	}
	return rc;
}

int pf_store_put(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = { klen, (void *)key };
	MDB_val v = { vlen, (void *)val };
	int rc = mdb_put(txn, db->dbi[dbi], &k, &v, flags);
	if (rc)
		return pf_lmdb_err(rc, pf_dbi_names[dbi]);
	return 0;
}

int pf_store_del(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key };
	MDB_val v = { vlen, (void *)val };
	int rc = mdb_del(txn, db->dbi[dbi], &k, val ? &v : NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return pf_lmdb_err(rc, pf_dbi_names[dbi]);
	return 0;
}

/* ---------------------------------------------------------------- meta */

int pf_meta_get_u64(MDB_txn *txn, pf_db *db, const char *key, uint64_t *out)
{
	MDB_val v;
	int rc = pf_store_get(txn, db, PF_DBI_META, key, strlen(key), &v);
	if (rc == PF_ENOTFOUND) {
		*out = 0;
		return 0;
	}
	if (rc)
		return rc;
	if (v.mv_size != 8)
		return pf_seterr(PF_ECORRUPT, "corrupt record in 'meta': '%s' is %zu bytes, "
		                 "expected 8", key, v.mv_size);
	*out = pf_be64_get(v.mv_data);
	return 0;
}

int pf_meta_put_u64(MDB_txn *txn, pf_db *db, const char *key, uint64_t v)
{
	unsigned char buf[8];
	pf_be64_put(buf, v);
	return pf_store_put(txn, db, PF_DBI_META, key, strlen(key), buf, sizeof buf, 0);
}

int pf_meta_next(MDB_txn *txn, pf_db *db, const char *key, uint64_t *out)
{
	uint64_t v;
	int rc = pf_meta_get_u64(txn, db, key, &v);
	if (rc)
		return rc;
	rc = pf_meta_put_u64(txn, db, key, v + 1);
	if (rc)
		return rc;
	*out = v + 1;
	return 0;
}
