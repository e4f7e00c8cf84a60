/* test_damage.c — damaged database directories at pf_open: truncated
 * data files, an empty or missing data.mdb, damaged meta pages, a lost
 * schema record.  Every open of a damaged copy runs in a forked child,
 * so a regression (LMDB dying with SIGBUS) fails one test instead of
 * crashing the suite. */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(damage, .init = db_setup, .fini = db_teardown, .timeout = 120);

/* What a child saw opening a directory. */
struct opened {
	int rc;            /* pf_open's return */
	int read_rc;       /* after a successful open: finding and reading guests */
	size_t guests;     /* guests read */
	char msg[512];     /* pf_errmsg() after a failed open */
};

/* pf_open `dir` (flags: PF_OPEN_*) in a forked child; when it opens,
 * find every guest named "guest" and read each.  Fails the test unless
 * the child exits normally. */
static struct opened open_in_child(const char *dir, unsigned flags)
{
	int fds[2];
	cr_assert(eq(int, pipe(fds), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		struct opened r = { 0 };
		pf_options o = test_options();
		o.flags = flags;
		pf_db *db = NULL;
		r.rc = pf_open(&db, dir, &o);
		snprintf(r.msg, sizeof r.msg, "%s", r.rc ? pf_errmsg() : "");
		if (r.rc == 0) {
			pf_guest_list *l = NULL;
			r.read_rc = pf_guest_find(&l, db, "guest");
			for (size_t i = 0; r.read_rc == 0 && i < l->count; i++) {
				pf_guest *g = NULL;
				r.read_rc = pf_guest_get(&g, db, &l->items[i]->id);
				pf_guest_free(g);
				r.guests++;
			}
			pf_guest_list_free(l);
			pf_close(db);
		}
		ssize_t n = write(fds[1], &r, sizeof r);
		_exit(n == (ssize_t)sizeof r ? 0 : 1);
	}
	close(fds[1]);
	struct opened r;
	memset(&r, 0, sizeof r);
	ssize_t n = read(fds[0], &r, sizeof r);
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	int normal = WIFEXITED(status), sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	cr_assert(normal, "opening '%s' killed the process (signal %d)", dir, sig);
	cr_assert(eq(int, WEXITSTATUS(status), 0));
	cr_assert(eq(sz, (size_t)n, sizeof r));
	return r;
}

/* Guests (with preferences) enough for a few hundred pages. */
static void fill(int n)
{
	char name[64], email[64];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof name, "Damage Guest %04d", i);
		snprintf(email, sizeof email, "damage%04d@example.com", i);
		pf_id id = add_guest(name, email, NULL);
		set_pref(&id, "room.floor", "12", PF_LIKE);
	}
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Copy the first `len` bytes of `from` (all of it when len < 0) to `to`. */
static void copy_prefix(const char *from, const char *to, off_t len)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(in >= 0 && out >= 0, "copy %s -> %s", from, to);
	char buf[65536];
	off_t done = 0;
	for (;;) {
		size_t want = sizeof buf;
		if (len >= 0 && (off_t)want > len - done)
			want = (size_t)(len - done);
		if (want == 0)
			break;
		ssize_t n = read(in, buf, want);
		cr_assert(n >= 0);
		if (n == 0)
			break;
		cr_assert(eq(sz, (size_t)write(out, buf, (size_t)n), (size_t)n));
		done += n;
	}
	close(in);
	close(out);
}

/* A new directory under tdir holding only data.mdb, a copy of the first
 * `len` bytes of `src`. */
static void damaged_copy(char *dir, size_t cap, const char *tag, const char *src, off_t len)
{
	snprintf(dir, cap, "%s/%s", tdir, tag);
	cr_assert(eq(int, mkdir(dir, 0700), 0), "mkdir %s", dir);
	char to[600];
	snprintf(to, sizeof to, "%s/data.mdb", dir);
	copy_prefix(src, to, len);
}

/* Page size and last page of the environment in `dir` (read with plain
 * LMDB, read-only, while no pf_db has it open). */
static void env_geometry(const char *dir, size_t *psize, size_t *last_pg)
{
	MDB_env *env = NULL;
	MDB_stat st;
	MDB_envinfo info;
	cr_assert(eq(int, mdb_env_create(&env), 0));
	cr_assert(eq(int, mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0), 0));
	mdb_env_stat(env, &st);
	mdb_env_info(env, &info);
	*psize = st.ms_psize;
	*last_pg = info.me_last_pgno;
	mdb_env_close(env);
}

/* Truncations at many sizes of a compact copy (pf_backup: every page up
 * to the last is in use): PF_ECORRUPT saying "truncated", writable or
 * read-only, never a signal, and nothing written to the copy. */
Test(damage, truncated_data_file_is_ecorrupt_never_a_signal)
{
	fill(400);
	char bk[400], src[600];
	snprintf(bk, sizeof bk, "%s/backup", tdir);
	assert_ok(pf_backup(tdb, bk));
	snprintf(src, sizeof src, "%s/data.mdb", bk);
	size_t psize = 0, last_pg = 0;
	env_geometry(bk, &psize, &last_pg);
	off_t full = file_size(src);
	cr_assert(eq(i64, (int64_t)full, (int64_t)((last_pg + 1) * psize)),
	          "a compact copy ends at its last page");
	cr_assert(gt(sz, last_pg, 20), "only %zu pages", last_pg);

	/* The whole copy opens and reads: the damage below is what fails. */
	char dir[400];
	damaged_copy(dir, sizeof dir, "whole", src, -1);
	struct opened r = open_in_child(dir, 0);
	cr_assert(eq(int, r.rc, 0), "%s", r.msg);
	cr_assert(eq(int, r.read_rc, 0));
	cr_assert(eq(sz, r.guests, PF_FIND_LIMIT));

	off_t sizes[] = { 4096, 8192, (off_t)psize * 2 + 100, (off_t)psize * 3, full / 4,
	                  full / 2, full - (off_t)psize, full - 1, (off_t)(last_pg * psize) + 1 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (int ro = 0; ro < 2; ro++) {
			char tag[64];
			snprintf(tag, sizeof tag, "cut-%lld-%d", (long long)sizes[i], ro);
			damaged_copy(dir, sizeof dir, tag, src, sizes[i]);
			r = open_in_child(dir, ro ? PF_OPEN_READONLY : 0);
			cr_assert(eq(int, r.rc, PF_ECORRUPT), "cut to %lld bytes (%s): %d %s",
			          (long long)sizes[i], ro ? "read-only" : "writable", r.rc, r.msg);
			cr_assert(strstr(r.msg, "truncated") != NULL, "%s", r.msg);
			cr_assert(strstr(r.msg, "restore from backup") != NULL, "%s", r.msg);
			char f[600];
			snprintf(f, sizeof f, "%s/data.mdb", dir);
			cr_assert(eq(i64, (int64_t)file_size(f), (int64_t)sizes[i]), "data.mdb changed");
			snprintf(f, sizeof f, "%s/lock.mdb", dir);
			cr_assert(eq(int, exists(f), 0), "a damaged copy got a lock file");
		}
	}
}

/* Free pages of the environment in `dir`, from LMDB's own free list
 * (database 0, as mdb_stat -ff reads it): seen[pg] for pg <= last_pg. */
static unsigned char *free_pages(const char *dir, size_t last_pg)
{
	unsigned char *seen = calloc(last_pg + 1, 1);
	cr_assert(seen != NULL);
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	cr_assert(eq(int, mdb_env_create(&env), 0));
	cr_assert(eq(int, mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0), 0));
	cr_assert(eq(int, mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0));
	cr_assert(eq(int, mdb_cursor_open(txn, 0, &cur), 0));
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const size_t *idl = v.mv_data;
		for (size_t i = 1; i <= idl[0]; i++)
			if (idl[i] <= last_pg)
				seen[idl[i]] = 1;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return seen;
}

/* LMDB does not write a page it allocated and freed in one transaction,
 * so a healthy file may end before the last page its meta page names;
 * the pages past the end are then on the free list.  Such a file must
 * open; cutting a page in use must not.  (A bare length check fails the
 * first half; the free list is the oracle, read through LMDB.) */
Test(damage, short_file_whose_tail_is_free_opens)
{
	fill(50);
	pf_close(tdb);
	tdb = NULL;
	/* Big values put and deleted within one transaction: their overflow
	 * pages are allocated at the end and never written. */
	MDB_env *env = NULL;
	cr_assert(eq(int, mdb_env_create(&env), 0));
	mdb_env_set_maxdbs(env, 32);
	mdb_env_set_mapsize(env, (size_t)64 << 20);
	cr_assert(eq(int, mdb_env_open(env, tdir, MDB_NOTLS, 0600), 0));
	size_t vlen = (size_t)200 * 4096;
	char *big = calloc(1, vlen);
	cr_assert(big != NULL);
	for (int round = 0; round < 3; round++) {
		MDB_txn *txn = NULL;
		MDB_dbi dbi;
		MDB_val k = { 7, "scratch" }, v = { vlen, big }, k2 = { 4, "keep" }, v2 = { 4, "kept" };
		cr_assert(eq(int, mdb_txn_begin(env, NULL, 0, &txn), 0));
		cr_assert(eq(int, mdb_dbi_open(txn, "scratch", MDB_CREATE, &dbi), 0));
		cr_assert(eq(int, mdb_put(txn, dbi, &k, &v, 0), 0));
		cr_assert(eq(int, mdb_del(txn, dbi, &k, NULL), 0));
		cr_assert(eq(int, mdb_put(txn, dbi, &k2, &v2, 0), 0));
		cr_assert(eq(int, mdb_txn_commit(txn), 0));
	}
	free(big);
	mdb_env_close(env);

	char src[400];
	snprintf(src, sizeof src, "%s/data.mdb", tdir);
	size_t psize = 0, last_pg = 0;
	env_geometry(tdir, &psize, &last_pg);
	size_t pages = (size_t)file_size(src) / psize;
	cr_assert(lt(sz, pages, last_pg + 1), "the set-up should leave the file short: "
	          "%zu pages, last page %zu", pages, last_pg);
	unsigned char *isfree = free_pages(tdir, last_pg);

	/* As it is: opens and reads. */
	char dir[400];
	damaged_copy(dir, sizeof dir, "short", src, -1);
	struct opened r = open_in_child(dir, 0);
	cr_assert(eq(int, r.rc, 0), "a healthy short file was refused: %s", r.msg);
	cr_assert(eq(int, r.read_rc, 0));
	cr_assert(eq(sz, r.guests, 50));

	/* Cut more and more pages: fine while every page cut is free. */
	int opened = 0, refused = 0;
	for (size_t keep = pages; keep > 2; keep--) {
		bool all_free = true;
		for (size_t pg = keep; pg <= last_pg; pg++)
			if (!isfree[pg])
				all_free = false;
		char tag[64];
		snprintf(tag, sizeof tag, "keep-%zu", keep);
		damaged_copy(dir, sizeof dir, tag, src, (off_t)(keep * psize));
		r = open_in_child(dir, PF_OPEN_READONLY);
		if (all_free) {
			cr_assert(eq(int, r.rc, 0), "%zu pages, the rest free: %s", keep, r.msg);
			cr_assert(eq(int, r.read_rc, 0));
			opened++;
		} else {
			cr_assert(eq(int, r.rc, PF_ECORRUPT), "%zu pages, a page in use cut: %d", keep,
			          r.rc);
			cr_assert(strstr(r.msg, "truncated") != NULL, "%s", r.msg);
			refused++;
		}
	}
	free(isfree);
	cr_assert(gt(int, opened, 0));
	cr_assert(gt(int, refused, 0));
	cr_log_info("short file: %zu of %zu pages present; %d cuts opened, %d refused", pages,
	            last_pg + 1, opened, refused);
}

/* A 0-byte data.mdb (a failed copy, a full disk) beside lock.mdb is a
 * damaged database, not a place for a new one. */
Test(damage, empty_data_file_is_ecorrupt)
{
	add_guest("Vanishing Guest", NULL, NULL);
	pf_close(tdb);
	tdb = NULL;
	char f[400];
	snprintf(f, sizeof f, "%s/data.mdb", tdir);
	cr_assert(eq(int, truncate(f, 0), 0));
	for (int ro = 0; ro < 2; ro++) {
		struct opened r = open_in_child(tdir, ro ? PF_OPEN_READONLY : 0);
		cr_assert(eq(int, r.rc, PF_ECORRUPT), "%d %s", r.rc, r.msg);
		cr_assert(strstr(r.msg, "truncated: restore from backup") != NULL, "%s", r.msg);
		cr_assert(eq(i64, (int64_t)file_size(f), 0), "something was written");
	}
}

/* lock.mdb without data.mdb: damaged; nothing is created. */
Test(damage, missing_data_file_beside_lock_is_ecorrupt)
{
	add_guest("Moved Away", NULL, NULL);
	pf_close(tdb);
	tdb = NULL;
	char f[400];
	snprintf(f, sizeof f, "%s/data.mdb", tdir);
	cr_assert(eq(int, unlink(f), 0));
	for (int ro = 0; ro < 2; ro++) {
		struct opened r = open_in_child(tdir, ro ? PF_OPEN_READONLY : 0);
		cr_assert(eq(int, r.rc, PF_ECORRUPT), "%d %s", r.rc, r.msg);
		cr_assert(strstr(r.msg, "no data.mdb") != NULL, "%s", r.msg);
		cr_assert(eq(int, exists(f), 0), "data.mdb was created");
	}
}

/* A database is created only in a missing or empty directory. */
Test(damage, directory_with_other_files_is_refused)
{
	char dir[400], f[600];
	snprintf(dir, sizeof dir, "%s/notes", tdir);
	cr_assert(eq(int, mkdir(dir, 0700), 0));
	snprintf(f, sizeof f, "%s/todo.txt", dir);
	FILE *fp = fopen(f, "w");
	cr_assert(fp != NULL);
	fputs("not a database\n", fp);
	fclose(fp);
	pf_db *db = NULL;
	pf_options o = test_options();
	cr_assert(eq(int, pf_open(&db, dir, &o), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "not empty") != NULL, "%s", pf_errmsg());
	snprintf(f, sizeof f, "%s/data.mdb", dir);
	cr_assert(eq(int, exists(f), 0));
	o.flags = PF_OPEN_READONLY;
	cr_assert(eq(int, pf_open(&db, dir, &o), PF_ENOTFOUND));

	/* An empty directory is a place for a new database. */
	snprintf(dir, sizeof dir, "%s/empty", tdir);
	cr_assert(eq(int, mkdir(dir, 0700), 0));
	o.flags = 0;
	assert_ok(pf_open(&db, dir, &o));
	pf_close(db);
}

/* Byte offsets in a meta page of 64-bit LMDB 0.9 (see envcheck.c). */
#define META_MAGIC  16
#define META_MAINDB_ROOT (16 + 24 + 48 + 40)
#define META_TXNID  (16 + 24 + 96 + 8)

static void patch(const char *file, off_t off, const void *bytes, size_t len)
{
	int fd = open(file, O_WRONLY);
	cr_assert(fd >= 0);
	cr_assert(eq(sz, (size_t)pwrite(fd, bytes, len, off), len));
	close(fd);
}

/* Meta pages that name what is not there. */
Test(damage, damaged_meta_pages_are_ecorrupt)
{
	cr_assert(eq(sz, sizeof(size_t), 8), "the offsets below are for 64-bit LMDB");
	fill(100);
	char bk[400], src[600], dir[400], f[600];
	snprintf(bk, sizeof bk, "%s/backup", tdir);
	assert_ok(pf_backup(tdb, bk));
	snprintf(src, sizeof src, "%s/data.mdb", bk);
	size_t psize = 0, last_pg = 0;
	env_geometry(bk, &psize, &last_pg);

	/* Which meta page is current: the larger transaction id. */
	uint64_t t0 = 0, t1 = 0;
	int fd = open(src, O_RDONLY);
	cr_assert(fd >= 0);
	cr_assert(eq(int, (int)pread(fd, &t0, 8, META_TXNID), 8));
	cr_assert(eq(int, (int)pread(fd, &t1, 8, (off_t)psize + META_TXNID), 8));
	close(fd);
	off_t cur = t1 > t0 ? (off_t)psize : 0;

	/* A bad magic number. */
	damaged_copy(dir, sizeof dir, "magic", src, -1);
	snprintf(f, sizeof f, "%s/data.mdb", dir);
	uint32_t bad = 0x12345678;
	patch(f, (off_t)psize + META_MAGIC, &bad, 4);
	struct opened r = open_in_child(dir, 0);
	cr_assert(eq(int, r.rc, PF_ECORRUPT), "%d %s", r.rc, r.msg);
	cr_assert(strstr(r.msg, "meta page 1") != NULL, "%s", r.msg);

	/* The main database's root past the last page, and on a meta page. */
	uint64_t roots[] = { last_pg + 10, 1, 0xFFFFFFF0ull };
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		char tag[32];
		snprintf(tag, sizeof tag, "root-%zu", i);
		damaged_copy(dir, sizeof dir, tag, src, -1);
		snprintf(f, sizeof f, "%s/data.mdb", dir);
		patch(f, cur + META_MAINDB_ROOT, &roots[i], 8);
		r = open_in_child(dir, PF_OPEN_READONLY);
		cr_assert(eq(int, r.rc, PF_ECORRUPT), "root %llu: %d %s",
		          (unsigned long long)roots[i], r.rc, r.msg);
		cr_assert(strstr(r.msg, "damaged") != NULL, "%s", r.msg);
	}
}

/* A database with data but no schema record is damaged: it is not
 * silently stamped as new. */
Test(damage, missing_schema_record_is_ecorrupt)
{
	add_guest("Schema Guest", NULL, NULL);
	pf_close(tdb);
	tdb = NULL;
	raw_put_dir(tdir, "meta", "schema", 6, NULL, 0);
	struct opened r = open_in_child(tdir, 0);
	cr_assert(eq(int, r.rc, PF_ECORRUPT), "%d %s", r.rc, r.msg);
	cr_assert(strstr(r.msg, "schema") != NULL, "%s", r.msg);
	size_t len = 0;
	unsigned char *v = raw_get_dir(tdir, "meta", "schema", 6, &len);
	cr_assert(v == NULL, "the open wrote a schema record");
}

#define META_FREEDB_ROOT (16 + 24 + 40)

/* A free list naming a page outside the file: the next write would reuse
 * (and LMDB 0.9 might read) it, so pf_verify reads LMDB's free list and
 * reports it, with page numbers only. */
Test(damage, free_list_outside_the_file_is_reported_by_verify)
{
	cr_assert(eq(sz, sizeof(size_t), 8), "the offsets below are for 64-bit LMDB");
	fill(60);
	for (int round = 0; round < 3; round++)   /* rewrites leave pages free */
		fill(20);
	pf_close(tdb);
	tdb = NULL;
	char f[600];
	snprintf(f, sizeof f, "%s/data.mdb", tdir);
	size_t psize = 0, last_pg = 0;
	env_geometry(tdir, &psize, &last_pg);
	int fd = open(f, O_RDWR);
	cr_assert(fd >= 0);
	/* The current meta page: the one with the larger transaction id. */
	uint64_t txn[2], root[2];
	for (int m = 0; m < 2; m++) {
		cr_assert(eq(sz, (size_t)pread(fd, &txn[m], 8, (off_t)(m * psize + META_TXNID)), 8));
		cr_assert(eq(sz, (size_t)pread(fd, &root[m], 8,
		                               (off_t)(m * psize + META_FREEDB_ROOT)), 8));
	}
	uint64_t fr = root[txn[1] > txn[0] ? 1 : 0];
	cr_assert(ne(u64, fr, UINT64_MAX), "no free list to damage");
	unsigned char *page = malloc(psize);
	cr_assert(eq(sz, (size_t)pread(fd, page, psize, (off_t)(fr * psize)), psize));
	uint16_t flags, ptr;
	memcpy(&flags, page + 10, 2);
	cr_assert(eq(int, flags & 0x02, 0x02), "the free list's root is not a leaf (flags %x)", flags);
	memcpy(&ptr, page + 16, 2);               /* the first node */
	uint16_t nflags, ksize;
	memcpy(&nflags, page + ptr + 4, 2);
	memcpy(&ksize, page + ptr + 6, 2);
	cr_assert(eq(int, nflags & 0x01, 0), "the record is on an overflow page");
	size_t at = ptr + 8 + ksize, count;
	memcpy(&count, page + at, 8);
	cr_assert(gt(sz, count, 0));
	size_t bogus = last_pg + 1000;
	cr_assert(eq(sz, (size_t)pwrite(fd, &bogus, 8, (off_t)(fr * psize + at + 8)), 8));
	close(fd);
	free(page);

	pf_options o = test_options();
	assert_ok(pf_open(&tdb, tdir, &o));
	pf_verify_report *r = NULL;
	assert_ok(pf_verify(&r, tdb));
	bool seen = false;
	for (size_t i = 0; i < r->count; i++)
		if (!strcmp(r->items[i].key, "(free list)")) {
			seen = true;
			cr_assert(not(strstr(r->items[i].problem, "outside the pages in use") == NULL),
			          "%s", r->items[i].problem);
		}
	cr_assert(seen, "pf_verify did not report the free list (%zu problems)", r->count);
	pf_verify_report_free(r);
}
