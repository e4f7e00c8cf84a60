/*
 * store.c — the LMDB environment of one handle: opening and closing it
 * (what a directory must hold, read-only media, the data file's checks),
 * the named databases, the schema version, transactions, map growth, the
 * use-after-fork() check, and the mapping of LMDB and errno codes (a full
 * disk among them) onto PF_E* codes (pf_lmdb_err).
 *
 * db.c, above the modules, makes the pf_db and calls pf_store_prepare,
 * pf_store_open and pf_store_close; the modules read and write through
 * pf_store_read / pf_store_write.  Of struct pf_db this file owns env,
 * dbi, path, txn_lock, the read pool, pid, nolock, nolock_txnid and
 * schema; it reads the
 * options db.c resolved (flags, map sizes) and nothing else of the handle.
 *
 * May call: LMDB, error.c, id.c (big-endian meta values, an id's text in
 * messages) and envcheck.c (the data file's checks before LMDB maps it).
 * Nothing above it: no module, not tz.c, not db.c.
 */
#include "store.h"
#include "error.h"
#include "id.h"
#include "envcheck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Past this the map stops doubling and PF_EFULL reaches the caller. */
#define MAX_MAP_SIZE ((size_t)1 << 40)

const char *const pf_dbi_names[PF_DBI_COUNT] = {
	[PF_DBI_META] = "meta",       [PF_DBI_GUEST] = "guest",
	[PF_DBI_CONTACT] = "contact", [PF_DBI_NAME] = "name",
	[PF_DBI_STAY] = "stay",       [PF_DBI_RULE] = "rule",
	[PF_DBI_EVENT] = "event",     [PF_DBI_PROMPT] = "prompt",
	[PF_DBI_QUEUE] = "queue",     [PF_DBI_FEEDBACK] = "feedback",
	[PF_DBI_JOURNAL] = "journal",
	[PF_DBI_CHAIN] = "chain",
};

static int store_write_err(pf_db *db, int mrc);

/* ---------------------------------------------------------------- open */

/* "<dir>/<name>", malloc'd; NULL when out of memory. */
static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + 1 + b + 1);
	if (p) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

/* The error for a failed file-system call pf_open made on `path`. */
static int open_errno(int e, const char *verb, const char *path, bool readonly)
{
	switch (e) {
	case EACCES:
	case EPERM:
		if (readonly)
			return pf_seterr(PF_EACCES, "pf_open: cannot open '%s': permission denied "
			                 "(fix the permissions of the directory or its files)", path);
		return pf_seterr(PF_EACCES, "pf_open: cannot open '%s': permission denied (open "
		                 "read-only with PF_OPEN_READONLY, or fix the directory's "
		                 "permissions)", path);
	case EROFS:
		return pf_seterr(PF_EACCES, "pf_open: cannot open '%s' for writing: read-only file "
		                 "system (open read-only with PF_OPEN_READONLY)", path);
	case ENOMEM:
		return pf_seterr(PF_ENOMEM, "pf_open: cannot %s '%s': out of memory", verb, path);
	case ENOSPC:
	case EDQUOT:
		return pf_seterr(PF_EFULL, "pf_open: cannot %s '%s': the disk is full", verb, path);
	default:
		return pf_seterr(PF_EIO, "pf_open: cannot %s '%s': %s", verb, path, strerror(e));
	}
}

/* What pf_open found in the directory. */
enum dir_state {
	DIR_EMPTY,      /* created now, or empty: a database is created (unless read-only) */
	DIR_DATABASE,   /* holds a non-empty data.mdb */
};

/* A database is created only where none exists: a directory holding a
 * 0-byte data.mdb, or lock.mdb without data.mdb, is a damaged database;
 * one holding other files is not ours. */
static int classify_dir(const char *dir, bool readonly, enum dir_state *state)
{
	char *data = join(dir, "data.mdb"), *lock = join(dir, "lock.mdb");
	struct stat st;
	int rc = 0;
	if (!data || !lock) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory");
		goto out;
	}
	if (stat(data, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' is not a regular file", data);
		else if (st.st_size == 0)
			rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' is empty (0 bytes): truncated: "
			               "restore from backup (nothing was written)", data);
		else
			*state = DIR_DATABASE;
		goto out;
	}
	if (errno != ENOENT) {
		rc = open_errno(errno, "stat", data, readonly);
		goto out;
	}
	if (stat(lock, &st) == 0) {
		rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' holds lock.mdb but no data.mdb: the "
		               "database is damaged or its data file was moved away; restore "
		               "data.mdb from backup (nothing was written)", dir);
		goto out;
	}
	if (errno != ENOENT) {
		rc = open_errno(errno, "stat", lock, readonly);
		goto out;
	}
	DIR *d = opendir(dir);
	if (!d) {
		rc = open_errno(errno, "read", dir, readonly);
		goto out;
	}
	struct dirent *e;
	const char *other = NULL;
	while (!other && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			other = e->d_name;
	if (readonly)
		rc = pf_seterr(PF_ENOTFOUND, "pf_open: no database in '%s'", dir);
	else if (other)
		rc = pf_seterr(PF_EINVAL, "pf_open: '%s' holds no database (no data.mdb) but is "
		               "not empty (it holds '%s'): give a new or empty directory", dir, other);
	else
		*state = DIR_EMPTY;
	closedir(d);
out:
	free(data);
	free(lock);
	return rc;
}

/* Create the directory if missing, resolve it, and see what it holds.
 * Nothing is written unless the directory is missing. */
static int prepare_dir(const char *path, bool readonly, char **real_out, struct stat *st,
                       enum dir_state *state, bool *made)
{
	*made = false;
	if (stat(path, st) != 0) {
		if (errno != ENOENT)
			return open_errno(errno, "stat", path, readonly);
		if (readonly)
			return pf_seterr(PF_ENOTFOUND, "pf_open: '%s' does not exist", path);
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			if (e == EACCES || e == EPERM || e == EROFS)
				return pf_seterr(PF_EACCES, "pf_open: cannot create '%s': %s (fix the "
				                 "permissions of its parent directory)", path,
				                 e == EROFS ? "read-only file system" : "permission denied");
			return open_errno(e, "create", path, readonly);
		}
		*made = true;
		if (stat(path, st) != 0)
			return open_errno(errno, "stat", path, readonly);
	}
	if (!S_ISDIR(st->st_mode))
		return pf_seterr(PF_EINVAL, "pf_open: '%s' is not a directory", path);
	char *real = realpath(path, NULL);
	int rc = real ? classify_dir(real, readonly, state)
	              : open_errno(errno, "resolve", path, readonly);
	if (rc) {
		if (*made)
			rmdir(path);
		free(real);
		return rc;
	}
	*real_out = real;
	return 0;
}

/* Whether this process may not open lock.mdb for writing (read-only
 * media, or a directory and lock file it may not write): LMDB then needs
 * MDB_NOLOCK even to read. */
static bool lock_unwritable(const char *dir)
{
	char *lock = join(dir, "lock.mdb");
	if (!lock)
		return false;   /* LMDB will run out of memory too and say so */
	/* What LMDB does itself, so creating the file is no extra effect. */
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int e = errno;
	free(lock);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return e == EACCES || e == EPERM || e == EROFS;
}

/* Whether another process has the environment open: LMDB keeps a shared
 * fcntl() lock on the first byte of lock.mdb in every process that has
 * it open.  *pid is that process (0 if not known). */
static bool env_in_use(const char *dir, long *pid)
{
	char *lock = join(dir, "lock.mdb");
	bool used = false;
	if (!lock)
		return false;
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	free(lock);
	if (fd < 0)
		return false;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
		used = true;
		*pid = fl.l_pid;
	}
	close(fd);
	return used;
}

/* Open every named database (creating what is missing when writable) and
 * check or write the schema version.  In a database that holds committed
 * data (`existing`) the meta database and its schema record must be
 * there: their absence is damage, never a reason to start afresh. */
static int open_dbis(pf_db *db, bool readonly, bool existing)
{
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(db->env, NULL, readonly ? MDB_RDONLY : 0, &txn);
	if (rc)
		return pf_lmdb_err(rc, "pf_open: cannot begin a transaction");
	for (int i = 0; i < PF_DBI_COUNT; i++) {
		bool must_exist = readonly || (existing && i == PF_DBI_META);
		unsigned flags = must_exist ? 0 : MDB_CREATE;
		if (i == PF_DBI_CONTACT)
			flags |= MDB_DUPSORT;
		rc = mdb_dbi_open(txn, pf_dbi_names[i], flags, &db->dbi[i]);
		if (rc == MDB_NOTFOUND && readonly && i == PF_DBI_CHAIN) {
			/* made by an older version: a read-only handle reads it as empty */
			db->chain_missing = true;
			rc = 0;
			continue;
		}
		if (rc == MDB_NOTFOUND && existing && i == PF_DBI_META) {
			rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' holds data but no 'meta' database: "
			               "damaged, or not a libprofile database: restore from backup",
			               db->path);
			goto fail;
		}
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
	if (schema == 0 && existing) {
		rc = pf_seterr(PF_ECORRUPT, "pf_open: '%s' has no schema record in 'meta': "
		               "damaged, or not a libprofile database: restore from backup",
		               db->path);
		goto fail;
	}
	if (schema == 0) {
		if (readonly) {
			rc = pf_seterr(PF_ENOTFOUND, "pf_open: '%s' holds no libprofile data yet "
			               "(open it writable once first)", db->path);
			goto fail;
		}
		schema = PF_SCHEMA_VERSION;
		rc = pf_meta_put_u64(txn, db, "schema", schema);
		if (rc)
			goto fail;
	}
	db->schema = schema;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		return store_write_err(db, rc);
	return 0;
fail:
	mdb_txn_abort(txn);
	return rc;
}

/* A failed pf_open that was to create the database removes what LMDB
 * left of it (lock.mdb, an empty data.mdb) and the directory if it made
 * it, so that the next attempt does not find a "damaged" database.  A
 * data.mdb LMDB got as far as initialising stays: it holds no committed
 * transaction and the next pf_open initialises it.  Allocates nothing
 * (it runs after allocations failed): the paths are made beforehand. */
static void undo_create(const char *dir, const char *data, const char *lock, bool made)
{
	struct stat st;
	if (stat(data, &st) != 0 || st.st_size == 0) {
		unlink(data);
		unlink(lock);
		if (made)
			rmdir(dir);
	}
}

int pf_store_prepare(pf_store_dir *dir, const char *path, bool readonly)
{
	struct stat st;
	enum dir_state state = DIR_EMPTY;
	memset(dir, 0, sizeof *dir);
	int rc = prepare_dir(path, readonly, &dir->path, &st, &state, &dir->made);
	if (rc) {
		dir->made = false;   /* prepare_dir removed what it made */
		return rc;
	}
	dir->dev = st.st_dev;
	dir->ino = st.st_ino;
	dir->empty = state == DIR_EMPTY;
	return 0;
}

void pf_store_abandon(pf_store_dir *dir)
{
	if (dir->path && dir->empty && dir->made)
		rmdir(dir->path);   /* nothing created in it yet */
	free(dir->path);
	dir->path = NULL;
}

int pf_store_open(pf_db *db, pf_store_dir *dir)
{
	bool readonly = (db->opts.flags & PF_OPEN_READONLY) != 0;
	bool empty = dir->empty, made = dir->made, lock_made = false;
	char *data = NULL, *lock = NULL;
	int rc;

	db->path = dir->path;
	dir->path = NULL;
	db->pid = getpid();
	if (pthread_rwlock_init(&db->txn_lock, NULL) != 0) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory (cannot make a lock)");
		goto fail;
	}
	if (pthread_mutex_init(&db->rpool_lock, NULL) != 0) {
		pthread_rwlock_destroy(&db->txn_lock);
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory (cannot make a lock)");
		goto fail;
	}
	db->rpool_n = 0;
	lock_made = true;

	data = join(db->path, "data.mdb");
	lock = join(db->path, "lock.mdb");
	if (!data || !lock) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory");
		goto fail;
	}
	/* What LMDB does not check before it maps the file. */
	bool existing = false;
	if (!empty) {
		pf_envfile info;
		rc = pf_envfile_check(data, &info);
		if (rc)
			goto fail;
		existing = info.txnid > 0;
	}

	/* Read-only media, or a lock file this process may not write: read
	 * without LMDB's lock (MDB_NOLOCK), which leaves it to us to make
	 * sure no writer runs meanwhile (see pf_store_check). */
	if (readonly && lock_unwritable(db->path)) {
		long holder = 0;
		if (env_in_use(db->path, &holder)) {
			rc = pf_seterr(PF_EBUSY, "pf_open: '%s' is open in another process (%ld) and "
			               "this one may not write its lock file: reading it without the "
			               "lock could meet pages that process rewrites; open it when no "
			               "other process uses it, or allow writing to lock.mdb",
			               db->path, holder);
			goto fail;
		}
		db->nolock = true;
	}

	rc = mdb_env_create(&db->env);
	if (rc) {
		rc = pf_lmdb_err(rc, "pf_open: cannot create the environment");
		goto fail;
	}
	/* Must precede mdb_env_open (LMDB's rule). */
	mdb_env_set_maxdbs(db->env, PF_DBI_COUNT + 4);
	mdb_env_set_mapsize(db->env, db->opts.map_size);

	/* MDB_NOTLS: read transactions belong to the transaction, not the
	 * thread, so threads (and Python) may share the handle freely. */
	unsigned flags = MDB_NOTLS;
	if (readonly)
		flags |= MDB_RDONLY;
	if (db->nolock)
		flags |= MDB_NOLOCK;
	if (db->opts.flags & PF_OPEN_NOMETASYNC)
		flags |= MDB_NOMETASYNC;
	if (db->opts.flags & PF_OPEN_NORDAHEAD)
		flags |= MDB_NORDAHEAD;
	rc = mdb_env_open(db->env, db->path, flags, 0600);
	if (rc) {
		if (rc == ENOENT)
			rc = pf_seterr(PF_ENOTFOUND, "pf_open: no database in '%s'", db->path);
		else if (rc == EACCES || rc == EPERM || rc == EROFS || rc == ENOMEM ||
		         rc == ENOSPC || rc == EDQUOT)
			rc = open_errno(rc, "open", db->path, readonly);
		else
			rc = pf_lmdb_err(rc, "pf_open: cannot open the environment");
		goto fail;
	}
	if (db->nolock) {
		MDB_envinfo info;
		mdb_env_info(db->env, &info);
		db->nolock_txnid = info.me_last_txnid;
	}

	/* Clear reader slots left by processes that died mid-read; otherwise
	 * they pin old pages and the file grows forever. */
	int dead = 0;
	mdb_reader_check(db->env, &dead);

	rc = open_dbis(db, readonly, existing);
	if (rc)
		goto fail;

	free(data);
	free(lock);
	return 0;

fail:
	if (db->env)
		mdb_env_close(db->env);
	db->env = NULL;
	if (empty && data && lock)
		undo_create(db->path, data, lock, made);
	else if (empty && made)
		rmdir(db->path);   /* nothing created in it yet */
	free(data);
	free(lock);
	if (lock_made) {
		pthread_rwlock_destroy(&db->txn_lock);
		pthread_mutex_destroy(&db->rpool_lock);
	}
	free(db->path);
	db->path = NULL;
	return rc;
}

/*
 * In the process that opened it, close the environment.  In a child
 * after fork() the environment is the parent's: LMDB's close would
 * clear the parent's reader slots in lock.mdb (it marks them by the
 * opening process's pid) while the parent still reads, so only the
 * handle's own memory is freed and LMDB's state for it is left as it is
 * (it goes when the child exits or execs).
 */
void pf_store_close(pf_db *db)
{
	if (db->pid == getpid()) {
		/* The kept read transactions go before their environment. */
		for (int i = 0; i < db->rpool_n; i++)
			mdb_txn_abort(db->rpool[i]);
		mdb_env_close(db->env);
	}
	db->rpool_n = 0;
	db->env = NULL;
	pthread_rwlock_destroy(&db->txn_lock);
	pthread_mutex_destroy(&db->rpool_lock);
	free(db->path);
	db->path = NULL;
}

/* -------------------------------------------------------- transactions */

/* Take the size another process grew the map to.  No transaction of
 * this handle may be live, hence the exclusive lock. */
static int adopt_map_size(pf_db *db)
{
	pthread_rwlock_wrlock(&db->txn_lock);
	int rc = mdb_env_set_mapsize(db->env, 0);
	pthread_rwlock_unlock(&db->txn_lock);
	return rc ? pf_lmdb_err(rc, NULL) : 0;
}

/* Double the map, unless another thread already grew it past `seen`. */
static int grow_map(pf_db *db, size_t seen)
{
	int rc = 0;
	pthread_rwlock_wrlock(&db->txn_lock);
	MDB_envinfo info;
	mdb_env_info(db->env, &info);
	if (info.me_mapsize <= seen) {
		size_t max = db->opts.max_map_size ? db->opts.max_map_size : MAX_MAP_SIZE;
		if (seen >= max) {
			rc = pf_fail(PF_EFULL, "the database reached its maximum size "
			               "(%zu bytes); nothing was stored", seen);
		} else {
			size_t next = seen > max / 2 ? max : seen * 2;
			int mrc = mdb_env_set_mapsize(db->env, next);
			if (mrc)
				rc = pf_fail(PF_EFULL, "cannot grow the map to %zu bytes: %s", next, mdb_strerror(mrc));
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

/*
 * LMDB 0.9 turns a short write into EIO (mdb_page_flush and
 * mdb_env_write_meta: "short write, filesystem full?"), losing the
 * ENOSPC the next write would have given; past RLIMIT_FSIZE a short
 * write is likewise EIO and the next one EFBIG.  So an EIO from a write
 * is taken for a full disk when the file system has (almost) no space
 * left, or for the file size limit when the file reached it.
 */
#define FULL_SLACK ((uint64_t)64 << 10)

static int store_write_err(pf_db *db, int mrc)
{
	int fd = -1;
	if (mrc == EIO && mdb_env_get_fd(db->env, &fd) == 0 && fd >= 0) {
		struct statvfs vfs;
		struct stat st;
		struct rlimit rl;
		if (fstatvfs(fd, &vfs) == 0 &&
		    (uint64_t)vfs.f_bavail * vfs.f_frsize < FULL_SLACK)
			mrc = ENOSPC;
		else if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		         fstat(fd, &st) == 0 && (uint64_t)st.st_size + FULL_SLACK > rl.rlim_cur)
			mrc = EFBIG;
	}
	if (mrc == ENOSPC || mrc == EDQUOT)
		return pf_fail(PF_EFULL, "the disk holding '%s' is full (%s); nothing was "
		                 "stored: free some space and retry", db->path,
		                 mrc == EDQUOT ? "quota exceeded" : "no space left");
	if (mrc == EFBIG)
		return pf_fail(PF_EFULL, "'%s/data.mdb' reached the file size limit of this "
		                 "process (RLIMIT_FSIZE); nothing was stored", db->path);
	return pf_lmdb_err(mrc, NULL);
}

int pf_store_check(pf_db *db)
{
	if (db->pid != getpid())
		return pf_fail(PF_EINVAL, "this pf_db was opened by process %ld; open the "
		                 "database again after fork()", (long)db->pid);
	if (db->nolock) {
		MDB_envinfo info;
		mdb_env_info(db->env, &info);
		if (info.me_last_txnid != db->nolock_txnid)
			return pf_fail(PF_EBUSY, "'%s' is open read-only without a lock (its "
			                 "lock file is not writable here) and another process has "
			                 "written to it since: close it and open it again",
			                 db->path);
	}
	return 0;
}

/*
 * Whether the commit about to happen writes the meta page synchronously.
 * MDB_NOMETASYNC is a flag of the whole environment (LMDB 0.9.24's
 * mdb_txn_begin ignores MDB_NOSYNC and MDB_NOMETASYNC per transaction:
 * checked with strace, every commit still syncs), so it is set for the
 * commit that asked for it and cleared again by the next ordinary commit.
 * Both happen while the committing thread holds LMDB's write lock (inside
 * its write transaction), so no other commit of this handle runs with a
 * flag it did not choose; other processes have their own environment and
 * flags.  A handle opened with PF_OPEN_NOMETASYNC keeps the flag.
 */
static void choose_meta_sync(pf_db *db, bool metasync)
{
	bool want = !metasync || (db->opts.flags & PF_OPEN_NOMETASYNC);
	unsigned int flags = 0;
	mdb_env_get_flags(db->env, &flags);
	if (!(flags & MDB_NOMETASYNC) != !want)
		mdb_env_set_flags(db->env, MDB_NOMETASYNC, want);
}

static int store_write(pf_db *db, pf_txn_fn fn, void *arg, bool metasync);

int pf_store_write(pf_db *db, pf_txn_fn fn, void *arg)
{
	return store_write(db, fn, arg, true);
}

int pf_store_write_nometasync(pf_db *db, pf_txn_fn fn, void *arg)
{
	return store_write(db, fn, arg, false);
}

int pf_store_sync(pf_db *db)
{
	int crc = pf_store_check(db);
	if (crc)
		return crc;
	if (db->opts.flags & PF_OPEN_READONLY)
		return 0;
	int mrc = mdb_env_sync(db->env, 1);
	return mrc ? store_write_err(db, mrc) : 0;
}

static int store_write(pf_db *db, pf_txn_fn fn, void *arg, bool metasync)
{
	int crc = pf_store_check(db);
	if (crc)
		return crc;
	if (db->opts.flags & PF_OPEN_READONLY)
		return pf_fail(PF_EREADONLY, "the database was opened read-only");

	for (;;) {
		MDB_txn *txn = NULL;
		pthread_rwlock_rdlock(&db->txn_lock);
		size_t seen = map_size(db);
		int mrc = mdb_txn_begin(db->env, NULL, 0, &txn);
		if (mrc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&db->txn_lock);
			int rc = adopt_map_size(db);
			if (rc)
				return rc;
			continue;
		}
		if (mrc) {
			pthread_rwlock_unlock(&db->txn_lock);
			return pf_lmdb_err(mrc, NULL);
		}

		if (db->txn_begin)
			db->txn_begin(db);
		int rc = fn(txn, db, arg);
		if (rc == 0 && db->precommit)
			rc = db->precommit(txn, db);
		bool map_full;
		if (rc == 0) {
			choose_meta_sync(db, metasync);
			mrc = mdb_txn_commit(txn);
			if (mrc == 0) {
				pthread_rwlock_unlock(&db->txn_lock);
				return 0;
			}
			map_full = mrc == MDB_MAP_FULL;
			if (!map_full) {
				pthread_rwlock_unlock(&db->txn_lock);
				return store_write_err(db, mrc);
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
		rc = grow_map(db, seen);
		if (rc)
			return rc;
	}
}

/* A kept reset read transaction, or NULL. */
static MDB_txn *rpool_take(pf_db *db)
{
	MDB_txn *txn = NULL;
	pthread_mutex_lock(&db->rpool_lock);
	if (db->rpool_n > 0)
		txn = db->rpool[--db->rpool_n];
	pthread_mutex_unlock(&db->rpool_lock);
	return txn;
}

/* Keep the reset transaction `txn` for the next read, or end it when as
 * many are kept as the pool holds. */
static void rpool_give(pf_db *db, MDB_txn *txn)
{
	pthread_mutex_lock(&db->rpool_lock);
	if (db->rpool_n < (int)(sizeof db->rpool / sizeof db->rpool[0])) {
		db->rpool[db->rpool_n++] = txn;
		txn = NULL;
	}
	pthread_mutex_unlock(&db->rpool_lock);
	if (txn)
		mdb_txn_abort(txn);
}

int pf_store_read(pf_db *db, pf_txn_fn fn, void *arg)
{
	int crc = pf_store_check(db);
	if (crc)
		return crc;
	for (;;) {
		MDB_txn *txn = rpool_take(db);
		pthread_rwlock_rdlock(&db->txn_lock);
		int mrc;
		if (txn && (mrc = mdb_txn_renew(txn)) != 0) {
			mdb_txn_abort(txn);
			txn = NULL;
		}
		if (!txn)
			mrc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
		if (mrc == MDB_MAP_RESIZED) {
			pthread_rwlock_unlock(&db->txn_lock);
			int rc = adopt_map_size(db);
			if (rc)
				return rc;
			continue;
		}
		if (mrc) {
			pthread_rwlock_unlock(&db->txn_lock);
			return pf_lmdb_err(mrc, NULL);
		}
		int rc = fn(txn, db, arg);
		mdb_txn_reset(txn);
		pthread_rwlock_unlock(&db->txn_lock);
		rpool_give(db, txn);
		/* Without the lock a writer elsewhere may have reused pages this
		 * read saw: what it found cannot be trusted. */
		if (db->nolock && (crc = pf_store_check(db)))
			return crc;
		return rc;
	}
}

int pf_store_copy_env(pf_db *db, int fd)
{
	int crc = pf_store_check(db);
	if (crc)
		return crc;
	for (;;) {
		pthread_rwlock_rdlock(&db->txn_lock);
		int mrc = mdb_env_copyfd2(db->env, fd, MDB_CP_COMPACT);
		pthread_rwlock_unlock(&db->txn_lock);
		if (mrc == MDB_MAP_RESIZED) {
			/* Another process grew the map: adopt its size, start over. */
			pthread_rwlock_wrlock(&db->txn_lock);
			mrc = mdb_env_set_mapsize(db->env, 0);
			pthread_rwlock_unlock(&db->txn_lock);
			if (mrc == 0 && ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0)
				continue;
			if (mrc == 0)
				mrc = errno;
		}
		return mrc ? pf_lmdb_err(mrc, NULL) : 0;
	}
}

int pf_store_get(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)key };
	if (dbi == PF_DBI_CHAIN && db->chain_missing)
		return PF_ENOTFOUND;
	int rc = mdb_get(txn, db->dbi[dbi], &k, val);
	if (rc == MDB_NOTFOUND)
		return PF_ENOTFOUND;
	if (rc)
		return pf_lmdb_err(rc, pf_dbi_names[dbi]);
	return 0;
}

int pf_store_get_id(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const pf_id *id,
                    MDB_val *val, const char *noun)
{
	int rc = pf_store_get(txn, db, dbi, id->b, sizeof id->b, val);
	if (rc == PF_ENOTFOUND) {
		char s[PF_ID_STRLEN + 1];
		pf_id_format(s, id);
		return pf_fail(rc, "no %s with id %s", noun, s);
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
		return store_write_err(db, rc);
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
		return store_write_err(db, rc);
	return 0;
}

/* ---------------------------------------------------------------- meta */

/* LMDB's default largest key (mdb_env_get_maxkeysize). */
#define PF_STORE_KEY_MAX 511

int pf_store_recode(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *prefix,
                    size_t plen, size_t klen, pf_store_recode_fn fn, void *ctx)
{
	MDB_cursor *cur = NULL;
	int rc = 0, mrc = mdb_cursor_open(txn, db->dbi[dbi], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { plen, (void *)prefix }, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if (klen && k.mv_size != klen)
			continue;
		MDB_val out = { 0, NULL };
		if ((rc = fn(ctx, &k, &v, &out)))
			break;
		if (out.mv_size == 0)
			continue;
		/* MDB_CURRENT replaces the value under the cursor (a delete and
		 * an insert when the size changes), and the cursor stays on the
		 * key, so MDB_NEXT goes on from there.  The key LMDB handed out
		 * points into the page the delete rewrites: put a copy. */
		unsigned char kbuf[PF_STORE_KEY_MAX];
		if (k.mv_size > sizeof kbuf) {
			rc = pf_fail(PF_ECORRUPT, "a key of %zu bytes in '%s'", k.mv_size,
			             pf_dbi_names[dbi]);
			break;
		}
		memcpy(kbuf, k.mv_data, k.mv_size);
		MDB_val kc = { k.mv_size, kbuf };
		mrc = mdb_cursor_put(cur, &kc, &out, MDB_CURRENT);
		if (mrc) {
			rc = store_write_err(db, mrc);
			break;
		}
	}
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	mdb_cursor_close(cur);
	return rc;
}

int pf_store_check_free(MDB_txn *txn, pf_db *db, char *why, size_t cap)
{
	MDB_envinfo info;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc = 0, mrc;

	why[0] = 0;
	if ((mrc = mdb_env_info(db->env, &info)))
		return pf_lmdb_err(mrc, NULL);
	const size_t last = info.me_last_pgno;
	/* dbi 0 is LMDB's FREE_DBI: txnid -> [count, pgno...] (mdb_stat -f). */
	if ((mrc = mdb_cursor_open(txn, 0, &cur)))
		return pf_lmdb_err(mrc, NULL);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t txnid = 0, n = 0;
		if (k.mv_size == sizeof txnid)
			memcpy(&txnid, k.mv_data, sizeof txnid);
		if (k.mv_size != sizeof txnid || v.mv_size < sizeof n ||
		    v.mv_size % sizeof n != 0) {
			snprintf(why, cap, "a free-list record has a %zu-byte key and %zu bytes",
			         k.mv_size, v.mv_size);
			rc = 1;
			break;
		}
		memcpy(&n, v.mv_data, sizeof n);
		if (n != v.mv_size / sizeof n - 1) {
			snprintf(why, cap, "the free-list record of transaction %zu says %zu pages "
			         "in %zu bytes", txnid, n, v.mv_size);
			rc = 1;
			break;
		}
		const unsigned char *p = (const unsigned char *)v.mv_data + sizeof n;
		for (size_t i = 0; i < n; i++) {
			size_t pg;
			memcpy(&pg, p + i * sizeof pg, sizeof pg);
			if (pg < 2 || pg > last) {
				snprintf(why, cap, "the free list of transaction %zu names page %zu, "
				         "outside the pages in use (2 to %zu)", txnid, pg, last);
				rc = 1;
				break;
			}
		}
	}
	if (rc == 0 && (mrc == MDB_CORRUPTED || mrc == MDB_PAGE_NOTFOUND)) {
		snprintf(why, cap, "the free list is damaged (%s)", mdb_strerror(mrc));
		rc = 1;
	} else if (rc == 0 && mrc && mrc != MDB_NOTFOUND) {
		rc = pf_lmdb_err(mrc, NULL);
	}
	mdb_cursor_close(cur);
	return rc;
}

int pf_store_seek(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key, size_t klen,
                  MDB_val *found)
{
	MDB_cursor *cur = NULL;
	int mrc = mdb_cursor_open(txn, db->dbi[dbi], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { klen, (void *)key }, v;
	mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	*found = k;
	return 0;
}

int pf_store_del_prefix(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *prefix,
                        size_t plen)
{
	MDB_cursor *cur = NULL;
	int rc = 0, mrc = mdb_cursor_open(txn, db->dbi[dbi], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	for (;;) {
		/* A fresh seek after each delete: where LMDB leaves a cursor
		 * after mdb_cursor_del at a page's end is not a thing to lean on. */
		MDB_val k = { plen, (void *)prefix }, v;
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (mrc || k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
			break;
		if ((mrc = mdb_cursor_del(cur, 0))) {
			rc = store_write_err(db, mrc);
			break;
		}
	}
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	mdb_cursor_close(cur);
	return rc;
}

int pf_meta_recode(MDB_txn *txn, pf_db *db, const void *prefix, size_t plen, size_t klen,
                   pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_META, prefix, plen, klen, fn, ctx);
}

int pf_store_set_schema(MDB_txn *txn, pf_db *db, uint64_t version)
{
	int rc = pf_meta_put_u64(txn, db, "schema", version);
	if (rc == 0)
		db->schema = version;
	return rc;
}

int pf_store_each_prefix(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *prefix,
                         size_t plen, pf_store_raw_fn fn, void *ctx)
{
	return pf_store_each_from(txn, db, dbi, prefix, plen, plen, fn, ctx);
}

int pf_store_each_from(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *start,
                       size_t slen, size_t plen, pf_store_raw_fn fn, void *ctx)
{
	if (dbi == PF_DBI_CHAIN && db->chain_missing)
		return 0;
	MDB_cursor *cur = NULL;
	int rc = 0, mrc = mdb_cursor_open(txn, db->dbi[dbi], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { slen, (void *)start }, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, start, plen) != 0)
			break;
		if ((rc = fn(ctx, &k, &v)))
			break;
	}
	mdb_cursor_close(cur);
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, pf_dbi_names[dbi]);
	return rc;
}

int pf_store_each(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, pf_store_raw_fn fn, void *ctx)
{
	MDB_cursor *cur = NULL;
	int rc = 0, mrc = mdb_cursor_open(txn, db->dbi[dbi], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if ((rc = fn(ctx, &k, &v)))
			break;
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	mdb_cursor_close(cur);
	return rc;
}

int pf_meta_get(MDB_txn *txn, pf_db *db, const void *key, size_t klen, MDB_val *val)
{
	return pf_store_get(txn, db, PF_DBI_META, key, klen, val);
}

int pf_meta_put(MDB_txn *txn, pf_db *db, const void *key, size_t klen, const void *val,
                size_t vlen, unsigned flags)
{
	return pf_store_put(txn, db, PF_DBI_META, key, klen, val, vlen, flags);
}

int pf_meta_del(MDB_txn *txn, pf_db *db, const void *key, size_t klen)
{
	return pf_store_del(txn, db, PF_DBI_META, key, klen, NULL, 0);
}

int pf_meta_cursor_open(MDB_txn *txn, pf_db *db, MDB_cursor **cur)
{
	return mdb_cursor_open(txn, db->dbi[PF_DBI_META], cur);
}

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

/* LMDB and errno codes onto PF_E* codes: the one place that knows
 * LMDB's error numbers. */
int pf_lmdb_err(int rc, const char *detail)
{
	int code;
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		code = PF_ENOTFOUND;
		break;
	case MDB_KEYEXIST:
		code = PF_EEXIST;
		break;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
	case EFBIG:         /* the process's file size limit (RLIMIT_FSIZE) */
		code = PF_EFULL;
		break;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_DBS_FULL:
	case EBUSY:
	case EAGAIN:
		code = PF_EBUSY;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_DBI:
	case MDB_INCOMPATIBLE:
	case MDB_VERSION_MISMATCH:
		code = PF_ECORRUPT;
		break;
	case MDB_BAD_VALSIZE:
	case EINVAL:
		code = PF_EINVAL;
		break;
	case ENOMEM:
		code = PF_ENOMEM;
		break;
	/* Permissions and read-only media; PF_EREADONLY is only for a write
	 * on a handle opened read-only. */
	case EACCES:
	case EROFS:
	case EPERM:
		code = PF_EACCES;
		break;
	case ENOENT:
		code = PF_ENOTFOUND;
		break;
	default:
		code = PF_EIO;
		break;
	}
	return detail ? pf_fail(code, "%s: %s", detail, mdb_strerror(rc))
	              : pf_fail(code, "%s", mdb_strerror(rc));
}
