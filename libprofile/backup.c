/*
 * backup.c — copies of the whole database: pf_backup (LMDB's compacting
 * page copy, fast, for routine hot backups) and pf_compact (a record-by-
 * record copy into a fresh environment, the last step of an erasure).
 *
 * Why two: LMDB never clears the unused space inside a page, so bytes of
 * a deleted record can survive in a live page, and a page copy (even
 * MDB_CP_COMPACT) carries them along.  pf_compact writes only the live
 * keys and values, through LMDB, into pages that held nothing else.
 *
 * Both read one snapshot: pf_backup through pf_store_copy_env (LMDB's
 * copy under the handle's transaction lock, restarted if another process
 * grew the map), pf_compact in one pf_store_read transaction.
 * May call: store.c, error.c, and LMDB for the copy's own environment
 * (and to walk the source's databases inside store.c's transaction).
 * Nothing above the store.
 */
#include "error.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Records per write transaction of the compacting copy. */
#define COPY_BATCH 20000

/* Room for "<dir>/lock.mdb". */
static int join(char *buf, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= cap)
		return pf_fail(PF_EINVAL, "dest_dir is too long");
	return 0;
}

/* dest must be missing (created 0700) or an empty directory.  *created
 * says whether this call made it (so a failure can remove it). */
static int prepare_dest(const char *dest, bool *created)
{
	struct stat st;
	*created = false;
	if (stat(dest, &st) != 0) {
		if (errno != ENOENT)
			return pf_fail(PF_EIO, "cannot stat '%s': %s", dest, strerror(errno));
		if (mkdir(dest, 0700) != 0)
			return pf_fail(PF_EIO, "cannot create '%s': %s", dest,
			                 strerror(errno));
		*created = true;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return pf_fail(PF_EINVAL, "'%s' is not a directory", dest);
	DIR *d = opendir(dest);
	if (!d)
		return pf_fail(PF_EIO, "cannot read '%s': %s", dest, strerror(errno));
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			rc = pf_fail(PF_EEXIST, "'%s' is not empty (it holds '%s'); give a new "
			               "or empty directory", dest, e->d_name);
			break;
		}
	}
	closedir(d);
	return rc;
}

/* Remove what a failed copy left behind. */
static void cleanup_dest(const char *dest, bool created)
{
	char path[4096];
	if (snprintf(path, sizeof path, "%s/data.mdb", dest) < (int)sizeof path)
		unlink(path);
	if (snprintf(path, sizeof path, "%s/lock.mdb", dest) < (int)sizeof path)
		unlink(path);
	if (created)
		rmdir(dest);
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int check_args(pf_db *db, const char *dest)
{
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if (!dest || !*dest)
		return pf_fail(PF_EINVAL, "dest_dir is NULL or empty");
	/* The fork guard before either copy touches the file system on the
	 * handle's behalf (pf_compact also reads db->env's size first). */
	return pf_store_check(db);
}

/* ------------------------------------------------------------------ */
/* Backup: LMDB's page copy                                             */
/* ------------------------------------------------------------------ */

#define BACKUP "pf_backup"

int pf_backup(pf_db *db, const char *dest_dir)
{
	pf_api_enter("pf_backup");
	char path[4096];
	bool created = false;
	int fd = -1, rc;

	if ((rc = check_args(db, dest_dir)) ||
	    (rc = join(path, sizeof path, dest_dir, "data.mdb")) ||
	    (rc = prepare_dest(dest_dir, &created)))
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = pf_seterr(PF_EIO, BACKUP ": cannot create '%s': %s", path, strerror(errno));
		goto fail;
	}
	if ((rc = pf_store_copy_env(db, fd)))
		goto fail;
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = pf_seterr(PF_EIO, BACKUP ": cannot write '%s': %s", path, strerror(errno));
		goto fail;
	}
	sync_dir(dest_dir);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	cleanup_dest(dest_dir, created);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Compact: a record-by-record copy                                     */
/* ------------------------------------------------------------------ */

#define COMPACT "pf_compact"

struct copy_args {
	MDB_env *dst;
};

/* Copy one named database.  Keys come out of the cursor in order, so
 * every put appends: pages fill completely and nothing is ever deleted
 * in the new file. */
static int copy_dbi(MDB_txn *src, pf_db *db, int i, MDB_env *dst)
{
	MDB_txn *dt = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi ddbi;
	unsigned int flags = 0;
	size_t in_txn = 0;
	int mrc;

	if ((mrc = mdb_dbi_flags(src, db->dbi[i], &flags)) ||
	    (mrc = mdb_txn_begin(dst, NULL, 0, &dt)) ||
	    (mrc = mdb_dbi_open(dt, pf_dbi_names[i], MDB_CREATE | (flags & MDB_DUPSORT), &ddbi)) ||
	    (mrc = mdb_cursor_open(src, db->dbi[i], &cur)))
		goto out;
	bool dupsort = (flags & MDB_DUPSORT) != 0;
	MDB_val k, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int prc = mdb_put(dt, ddbi, &k, &v, dupsort ? MDB_APPENDDUP : MDB_APPEND);
		if (prc) {
			mrc = prc;
			break;
		}
		if (++in_txn == COPY_BATCH) {
			mrc = mdb_txn_commit(dt);
			dt = NULL;
			if (mrc || (mrc = mdb_txn_begin(dst, NULL, 0, &dt)))
				break;
			in_txn = 0;
		}
	}
	if (mrc == MDB_NOTFOUND)
		mrc = 0;
	if (mrc == 0) {
		mrc = mdb_txn_commit(dt);
		dt = NULL;
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	if (dt)
		mdb_txn_abort(dt);
	if (mrc)
		return mrc == MDB_MAP_FULL
		       ? pf_seterr(PF_EFULL, COMPACT ": the copy outgrew its map while copying '%s'",
		                   pf_dbi_names[i])
		       : pf_lmdb_err(mrc, NULL);
	return 0;
}

static int compact_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct copy_args *a = arg;
	for (int i = 0; i < PF_DBI_COUNT; i++) {
		int rc = copy_dbi(txn, db, i, a->dst);
		if (rc)
			return rc;
	}
	return 0;
}

int pf_compact(pf_db *db, const char *dest_dir)
{
	pf_api_enter("pf_compact");
	char path[4096];
	bool created = false;
	MDB_env *dst = NULL;
	int rc, mrc;

	if ((rc = check_args(db, dest_dir)) ||
	    (rc = join(path, sizeof path, dest_dir, "lock.mdb")) ||
	    (rc = prepare_dest(dest_dir, &created)))
		return rc;

	/* The copy holds at most the source's live pages, packed at least as
	 * densely; its map is twice the source's used size, never less than
	 * the source map, and only address space until written. */
	MDB_envinfo info;
	MDB_stat st;
	mdb_env_info(db->env, &info);
	mdb_env_stat(db->env, &st);
	size_t used = (size_t)(info.me_last_pgno + 1) * st.ms_psize;
	size_t map = 2 * used + ((size_t)16 << 20);
	if (map < info.me_mapsize)
		map = info.me_mapsize;

	if ((mrc = mdb_env_create(&dst)) || (mrc = mdb_env_set_maxdbs(dst, PF_DBI_COUNT + 4)) ||
	    (mrc = mdb_env_set_mapsize(dst, map)) ||
	    (mrc = mdb_env_open(dst, dest_dir, MDB_NOSYNC | MDB_NOTLS, 0600))) {
		rc = pf_lmdb_err(mrc, "cannot create the copy");
		goto fail;
	}
	struct copy_args a = { dst };
	if ((rc = pf_store_read(db, compact_txn, &a)))
		goto fail;
	if ((mrc = mdb_env_sync(dst, 1))) {
		rc = pf_lmdb_err(mrc, "cannot sync the copy");
		goto fail;
	}
	mdb_env_close(dst);
	sync_dir(dest_dir);
	return 0;
fail:
	if (dst)
		mdb_env_close(dst);
	cleanup_dest(dest_dir, created);
	return rc;
}
