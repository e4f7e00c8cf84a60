/* test_store.c — opening, closing, schema, options, map growth, errors;
 * read-only media, permissions, fork(), aliases of a path, full disks. */
#include "helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(store, .init = db_setup, .fini = db_teardown, .timeout = 60);

/* Write meta key `key` = big-endian `v` with plain LMDB, bypassing the
 * library, to simulate data from another version. */
static void raw_meta_put(const char *dir, const char *key, uint64_t v)
{
	unsigned char buf[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		buf[i] = (unsigned char)v;
	raw_put_dir(dir, "meta", key, strlen(key), buf, 8);
}

Test(store, version_matches_header)
{
	int maj = -1, min = -1, pat = -1;
	const char *s = pf_version(&maj, &min, &pat);
	cr_assert(eq(int, maj, PF_VERSION_MAJOR));
	cr_assert(eq(int, min, PF_VERSION_MINOR));
	cr_assert(eq(int, pat, PF_VERSION_PATCH));
	cr_assert(eq(str, (char *)s, PF_VERSION_STRING));
	cr_assert(eq(str, (char *)pf_version(NULL, NULL, NULL), PF_VERSION_STRING));
}

Test(store, strerror_covers_every_code)
{
	for (int c = PF_ITEROVER; c <= PF_OK; c++) {
		const char *s = pf_strerror(c);
		cr_assert(s != NULL && *s);
		cr_assert(strcmp(s, "unknown error code") != 0, "code %d has no text", c);
	}
	cr_assert(eq(str, (char *)pf_strerror(-999), "unknown error code"));
}

Test(store, open_rejects_bad_arguments)
{
	pf_db *db = (pf_db *)0x1;
	cr_assert(eq(int, pf_open(NULL, tdir, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_open(&db, NULL, NULL), PF_EINVAL));
	cr_assert(db == NULL, "out must be NULL after a failure");
	cr_assert(eq(int, pf_open(&db, "", NULL), PF_EINVAL));
	pf_options o = PF_OPTIONS_INIT;
	o.version = 99;
	cr_assert(eq(int, pf_open(&db, "/tmp/pf-never", &o), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "options version") != NULL, "%s", pf_errmsg());
	o.version = PF_OPTIONS_VERSION;
	o.flags = 0x100;
	cr_assert(eq(int, pf_open(&db, "/tmp/pf-never", &o), PF_EINVAL));
}

Test(store, options_init)
{
	pf_options o;
	memset(&o, 0xff, sizeof o);
	cr_assert(eq(int, pf_options_init(&o, PF_OPTIONS_VERSION), 0));
	cr_assert(eq(u32, o.version, PF_OPTIONS_VERSION));
	cr_assert(eq(sz, o.map_size, 0));
	cr_assert(o.clock == NULL);
	cr_assert(eq(int, pf_options_init(&o, 7), PF_EINVAL));
	cr_assert(eq(int, pf_options_init(NULL, PF_OPTIONS_VERSION), PF_EINVAL));
}

Test(store, second_open_in_same_process_refused)
{
	pf_db *db2 = NULL;
	pf_options o = test_options();
	cr_assert(eq(int, pf_open(&db2, tdir, &o), PF_EBUSY));
	cr_assert(db2 == NULL);
	cr_assert(strstr(pf_errmsg(), "already open") != NULL, "%s", pf_errmsg());
	/* Another spelling of the same directory is the same environment. */
	char alias[300];
	snprintf(alias, sizeof alias, "%s/.", tdir);
	cr_assert(eq(int, pf_open(&db2, alias, &o), PF_EBUSY));
	/* After closing, it can be opened again. */
	pf_close(tdb);
	tdb = NULL;
	assert_ok(pf_open(&tdb, tdir, &o));
}

Test(store, files_are_private)
{
	char path[300];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", tdir);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, st.st_mode & 0077, 0), "data.mdb mode %o", st.st_mode & 0777);
	snprintf(path, sizeof path, "%s/lock.mdb", tdir);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, st.st_mode & 0077, 0), "lock.mdb mode %o", st.st_mode & 0777);
}

Test(store, creates_missing_directory)
{
	char sub[300];
	snprintf(sub, sizeof sub, "%s/nested", tdir);
	pf_db *db = NULL;
	assert_ok(pf_open(&db, sub, NULL));
	struct stat st;
	cr_assert(eq(int, stat(sub, &st), 0));
	cr_assert(eq(int, st.st_mode & 0777, 0700));
	pf_close(db);
}

Test(store, newer_schema_refused)
{
	pf_close(tdb);
	tdb = NULL;
	raw_meta_put(tdir, "schema", PF_SCHEMA_VERSION + 1);
	pf_options o = test_options();
	cr_assert(eq(int, pf_open(&tdb, tdir, &o), PF_EVERSION));
	cr_assert(tdb == NULL);
	cr_assert(strstr(pf_errmsg(), "schema version") != NULL, "%s", pf_errmsg());
	/* Restoring the version makes it usable again: nothing was damaged. */
	raw_meta_put(tdir, "schema", PF_SCHEMA_VERSION);
	assert_ok(pf_open(&tdb, tdir, &o));
}

Test(store, readonly_open_of_missing_directory)
{
	char sub[300];
	snprintf(sub, sizeof sub, "%s/absent", tdir);
	pf_options o = PF_OPTIONS_INIT;
	o.flags = PF_OPEN_READONLY;
	pf_db *db = NULL;
	cr_assert(eq(int, pf_open(&db, sub, &o), PF_ENOTFOUND));
	struct stat st;
	int exists = stat(sub, &st) == 0;
	cr_assert(eq(int, exists, 0), "read-only open must not create anything");
}

Test(store, readonly_refuses_writes_and_reads_data)
{
	pf_id id = add_guest("Ana Lima", "ana@example.com", NULL);
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &o));
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	cr_assert(eq(str, (char *)g->name, "Ana Lima"));
	pf_guest_free(g);
	pf_guest ng = PF_GUEST_INIT;
	ng.name = "Nobody";
	cr_assert(eq(int, pf_guest_put(tdb, &ng), PF_EREADONLY));
	cr_assert(pf_id_is_zero(&ng.id));
}

Test(store, nometasync_option_opens)
{
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.flags = PF_OPEN_NOMETASYNC;
	assert_ok(pf_open(&tdb, tdir, &o));
	pf_id id = add_guest("Kiosk Guest", NULL, NULL);
	db_reopen();
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	pf_guest_free(g);
}

Test(store, injected_clock_is_used)
{
	cr_assert(eq(i64, pf_now(tdb), T0));
	tclock = T0 + 3600;
	cr_assert(eq(i64, pf_now(tdb), T0 + 3600));
	pf_id id = add_guest("Clock Guest", NULL, NULL);
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	cr_assert(eq(i64, g->created, T0 + 3600));
	pf_guest_free(g);
}

Test(store, persists_across_reopen)
{
	pf_id id = add_guest("Persist Me", "p@example.com", "+351 912 345 678");
	db_reopen();
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	cr_assert(eq(str, (char *)g->email, "p@example.com"));
	pf_guest_free(g);
}

/* The map starts at 1 MiB (fixture) and must grow by itself. */
Test(store, map_grows_automatically)
{
	char name[64];
	pf_id ids[3000];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "Guest Number %04d", i);
		ids[i] = add_guest(name, NULL, NULL);
	}
	db_reopen();
	for (int i = 0; i < 3000; i += 499) {
		pf_guest *g = NULL;
		assert_ok(pf_guest_get(&g, tdb, &ids[i]));
		snprintf(name, sizeof name, "Guest Number %04d", i);
		cr_assert(eq(str, (char *)g->name, name));
		pf_guest_free(g);
	}
}

/* Another process grows the map; this handle must adopt the new size
 * (MDB_MAP_RESIZED) instead of failing. */
Test(store, adopts_map_grown_by_another_process)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		pf_db *db = NULL;
		pf_options o = test_options();
		if (pf_open(&db, tdir, &o) != 0)
			_exit(2);
		char name[64];
		for (int i = 0; i < 3000; i++) {
			pf_guest g = PF_GUEST_INIT;
			snprintf(name, sizeof name, "Child Guest %04d", i);
			g.name = name;
			if (pf_guest_put(db, &g) != 0)
				_exit(3);
		}
		pf_close(db);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	int clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	cr_assert(clean_exit, "child failed: %d", status);
	/* The parent's handle still has the 1 MiB map: read and write. */
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "child guest 299"));
	cr_assert(eq(sz, l->count, 10));
	pf_guest_list_free(l);
	add_guest("Parent Guest", NULL, NULL);
}

Test(store, id_text_round_trip)
{
	pf_id id = add_guest("Id Guest", NULL, NULL);
	char buf[PF_ID_STRLEN + 1];
	assert_ok(pf_id_format(buf, &id));
	cr_assert(eq(sz, strlen(buf), PF_ID_STRLEN));
	pf_id back;
	assert_ok(pf_id_parse(&back, buf));
	cr_assert(eq(int, memcmp(&back, &id, sizeof id), 0));
	cr_assert(eq(int, pf_id_parse(&back, "not-a-uuid"), PF_EINVAL));
	cr_assert(eq(int, pf_id_parse(&back, "0123456789abcdef0123456789abcdef0123"), PF_EINVAL));
	cr_assert(pf_id_is_zero(NULL));
	pf_id zero = { { 0 } };
	cr_assert(pf_id_is_zero(&zero));
	cr_assert(eq(int, pf_id_is_zero(&id), 0));
	/* Version 4 (random) UUIDs. */
	cr_assert(eq(int, id.b[6] >> 4, 4));
}

Test(store, close_null_is_noop)
{
	pf_close(NULL);
}

/* A map that may not grow further: writes fail with PF_EFULL, the
 * failed write leaves nothing behind, earlier data stays readable, and a
 * larger cap lets work continue. */
Test(store, full_map_refuses_writes_and_keeps_data)
{
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.map_size = 256 * 1024;
	o.max_map_size = 512 * 1024;
	assert_ok(pf_open(&tdb, tdir, &o));

	char name[64], email[64];
	int stored = 0, rc = 0;
	for (int i = 0; i < 20000; i++) {
		pf_guest g = PF_GUEST_INIT;
		snprintf(name, sizeof name, "Full Map Guest %05d", i);
		snprintf(email, sizeof email, "full%05d@example.com", i);
		g.name = name;
		g.email = email;
		rc = pf_guest_put(tdb, &g);
		if (rc != 0) {
			int zero = pf_id_is_zero(&g.id);
			cr_assert(zero, "a refused put must not hand out an id");
			break;
		}
		stored++;
	}
	cr_assert(eq(int, rc, PF_EFULL), "expected PF_EFULL, got %d: %s", rc, pf_errmsg());
	cr_assert(gt(int, stored, 100), "only %d guests fitted", stored);
	cr_assert(strstr(pf_errmsg(), "maximum size") != NULL, "%s", pf_errmsg());

	/* The refused guest is nowhere, the last stored one is intact. */
	pf_guest_list *l = NULL;
	snprintf(email, sizeof email, "full%05d@example.com", stored);
	assert_ok(pf_guest_find(&l, tdb, email));
	cr_assert(eq(sz, l->count, 0));
	pf_guest_list_free(l);
	snprintf(email, sizeof email, "full%05d@example.com", stored - 1);
	assert_ok(pf_guest_find(&l, tdb, email));
	cr_assert(eq(sz, l->count, 1));
	pf_guest_list_free(l);

	/* With a larger cap the same database takes more. */
	pf_close(tdb);
	tdb = NULL;
	o.max_map_size = 8u << 20;
	assert_ok(pf_open(&tdb, tdir, &o));
	add_guest("After The Cap", "after@example.com", NULL);
}

/* A stored record damaged on disk (here by a byte flipped with plain
 * LMDB) reads back as PF_ECORRUPT naming the database, and neither
 * crashes nor spoils other guests; writes to it are refused too. */
Test(store, corrupt_record_reads_as_ecorrupt)
{
	pf_id bad = add_guest("Damaged Record", "damaged@example.com", NULL);
	pf_id good = add_guest("Sound Record", "sound@example.com", NULL);
	pf_close(tdb);
	tdb = NULL;

	size_t len = 0;
	unsigned char *copy = raw_get_dir(tdir, "guest", bad.b, sizeof bad.b, &len);
	cr_assert(copy != NULL);
	copy[0] = 0x93; /* the map header becomes an array header */
	raw_put_dir(tdir, "guest", bad.b, sizeof bad.b, copy, len);
	free(copy);

	db_reopen();
	pf_guest *g = NULL;
	cr_assert(eq(int, pf_guest_get(&g, tdb, &bad), PF_ECORRUPT));
	cr_assert(g == NULL);
	cr_assert(strstr(pf_errmsg(), "guest") != NULL, "%s", pf_errmsg());
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "front_desk";
	cr_assert(eq(int, pf_pref_set(tdb, &bad, "room.floor", "10", &o), PF_ECORRUPT));
	assert_ok(pf_guest_get(&g, tdb, &good));
	cr_assert(eq(str, (char *)g->name, "Sound Record"));
	pf_guest_free(g);
}

/* ------------------------------------------------------------------ */
/* Read-only media, permissions, fork(), aliases, full disks, memory    */
/* ------------------------------------------------------------------ */

#define NOBODY 65534
/* A child's exit code meaning "this sandbox cannot do that": skip. */
#define CANNOT 77

/* Run fn(arg) in a forked child and return its exit code; fails the
 * test if the child died of a signal. */
static int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int status = 0;
	waitpid(pid, &status, 0);
	int normal = WIFEXITED(status), sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	cr_assert(normal, "the child died of signal %d", sig);
	return WEXITSTATUS(status);
}

/* Become an unprivileged user (tests run as root, for whom permission
 * bits do not stop access).  0, or CANNOT. */
static int drop_privileges(void)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
		return CANNOT;
	return 0;
}

/* A private mount namespace for this process (mounts vanish with it).
 * 0, or CANNOT. */
static int private_mounts(void)
{
	if (unshare(CLONE_NEWNS) != 0)
		return CANNOT;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return CANNOT;
	return 0;
}

/* A directory under /tmp any user may enter (tdir is 0700). */
static void open_base(char *base, size_t cap)
{
	snprintf(base, cap, "/tmp/pftest-ro-XXXXXX");
	cr_assert(mkdtemp(base) != NULL);
	cr_assert(eq(int, chmod(base, 0755), 0));
}

/* `dir` := a pf_backup of tdb (data.mdb only), plus a copy of lock.mdb
 * when with_lock, then files 0444 and the directory 0555, as a backup on
 * read-only media. */
static void readonly_copy(const char *dir, bool with_lock)
{
	assert_ok(pf_backup(tdb, dir));
	char f[600];
	if (with_lock) {
		snprintf(f, sizeof f, "%s/lock.mdb", dir);
		int fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0600);
		cr_assert(fd >= 0);
		close(fd);
		cr_assert(eq(int, chmod(f, 0444), 0));
	}
	snprintf(f, sizeof f, "%s/data.mdb", dir);
	cr_assert(eq(int, chmod(f, 0444), 0));
	cr_assert(eq(int, chmod(dir, 0555), 0));
}

struct ro_case {
	const char *dir;
	pf_id id;
};

/* As an unprivileged user: writable open is PF_EACCES with its
 * message; read-only open reads; a write is PF_EREADONLY. */
static int ro_child(void *p)
{
	struct ro_case *c = p;
	if (drop_privileges())
		return CANNOT;
	pf_db *db = NULL;
	pf_options o = test_options();
	if (pf_open(&db, c->dir, &o) != PF_EACCES)
		return 10;
	if (!strstr(pf_errmsg(), "permission denied") || !strstr(pf_errmsg(), "PF_OPEN_READONLY"))
		return 11;
	o.flags = PF_OPEN_READONLY;
	if (pf_open(&db, c->dir, &o) != 0)
		return 12;
	pf_guest *g = NULL;
	if (pf_guest_get(&g, db, &c->id) != 0 || strcmp(g->name, "Backup Guest") != 0)
		return 13;
	pf_guest_free(g);
	pf_guest ng = PF_GUEST_INIT;
	ng.name = "Nobody Writes";
	if (pf_guest_put(db, &ng) != PF_EREADONLY)
		return 14;
	pf_close(db);
	/* Nothing was created in the read-only directory. */
	char f[600];
	snprintf(f, sizeof f, "%s/lock.mdb", c->dir);
	struct stat st;
	if (stat(f, &st) == 0 && st.st_size != 0)
		return 15;
	return 0;
}

/* A backup on read-only media (directory 0555, files 0444), with and
 * without a lock file, opens with PF_OPEN_READONLY. */
Test(store, readonly_open_of_unwritable_directory)
{
	struct ro_case c;
	c.id = add_guest("Backup Guest", NULL, NULL);
	char base[64], dir[2][300];
	open_base(base, sizeof base);
	for (int lock = 0; lock < 2; lock++) {
		snprintf(dir[lock], sizeof dir[lock], "%s/copy%d", base, lock);
		readonly_copy(dir[lock], lock);
		c.dir = dir[lock];
		int rc = in_child(ro_child, &c);
		if (rc == CANNOT)
			cr_skip_test("cannot drop privileges here");
		cr_assert(eq(int, rc, 0), "%s lock file: step %d failed", lock ? "with" : "without", rc);
	}
	for (int lock = 0; lock < 2; lock++)
		chmod(dir[lock], 0700);
	rm_rf(base);
}

/* Permission failures are PF_EACCES with a message, never
 * PF_EREADONLY: a directory this user may not enter. */
static int eacces_child(void *p)
{
	const char *dir = p;
	if (drop_privileges())
		return CANNOT;
	pf_db *db = NULL;
	pf_options o = test_options();
	int rc = pf_open(&db, dir, &o);
	if (rc != PF_EACCES)
		return 20;
	if (!strstr(pf_errmsg(), "permission denied"))
		return 21;
	o.flags = PF_OPEN_READONLY;
	if (pf_open(&db, dir, &o) != PF_EACCES)
		return 22;
	return 0;
}

Test(store, permission_failure_is_eacces)
{
	char base[64], dir[300], sub[400];
	open_base(base, sizeof base);
	snprintf(dir, sizeof dir, "%s/db", base);
	assert_ok(pf_backup(tdb, dir));
	cr_assert(eq(int, chmod(dir, 0700), 0));  /* root's; nobody may not enter */
	int rc = in_child(eacces_child, dir);
	if (rc == CANNOT)
		cr_skip_test("cannot drop privileges here");
	cr_assert(eq(int, rc, 0), "step %d failed", rc);
	/* Nor may nobody create a database in a directory it cannot write. */
	snprintf(sub, sizeof sub, "%s/new", dir);
	cr_assert(eq(int, chmod(dir, 0755), 0));
	rc = in_child(eacces_child, sub);
	cr_assert(eq(int, rc, 22), "step %d failed", rc);  /* read-only: nothing there, ENOTFOUND */
	struct stat st;
	cr_assert(ne(int, stat(sub, &st), 0), "'%s' was created", sub);
	rm_rf(base);
}

struct nolock_case {
	const char *dir;
	int to_child[2], to_parent[2];
};

static int wait_byte(int fd)
{
	char c = 0;
	return read(fd, &c, 1) == 1 ? c : -1;
}

static void send_byte(int fd, char c)
{
	ssize_t n = write(fd, &c, 1);
	(void)n;
}

/* An unprivileged reader of a database whose lock file it may not write:
 * refused while another process has it open, and refuses to read once
 * another process has written. */
static int nolock_child(void *p)
{
	struct nolock_case *c = p;
	if (drop_privileges())
		return CANNOT;
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	pf_db *db = NULL;
	if (wait_byte(c->to_child[0]) != 'o')   /* the parent has it open */
		return 30;
	int rc = pf_open(&db, c->dir, &o);
	send_byte(c->to_parent[1], 'x');
	if (rc != PF_EBUSY || !strstr(pf_errmsg(), "another process"))
		return 31;
	if (wait_byte(c->to_child[0]) != 'c')   /* the parent closed it */
		return 32;
	if (pf_open(&db, c->dir, &o) != 0)
		return 33;
	pf_guest_list *l = NULL;
	if (pf_guest_find(&l, db, "lockless") != 0 || l->count != 1)
		return 34;
	pf_guest_list_free(l);
	send_byte(c->to_parent[1], 'r');
	if (wait_byte(c->to_child[0]) != 'w')   /* the parent wrote */
		return 35;
	if (pf_guest_find(&l, db, "lockless") != PF_EBUSY || !strstr(pf_errmsg(), "written"))
		return 36;
	pf_close(db);
	return 0;
}

Test(store, readonly_without_lock_is_kept_safe_from_writers)
{
	add_guest("Lockless Reader", NULL, NULL);
	char base[64], dir[300];
	open_base(base, sizeof base);
	snprintf(dir, sizeof dir, "%s/db", base);
	readonly_copy(dir, true);

	struct nolock_case c = { .dir = dir };
	signal(SIGPIPE, SIG_IGN);   /* a child gone early must fail the test, not kill it */
	cr_assert(eq(int, pipe(c.to_child), 0));
	cr_assert(eq(int, pipe(c.to_parent), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(nolock_child(&c));
	close(c.to_child[0]);    /* so that a child gone early reads as EOF, not a hang */
	close(c.to_parent[1]);
	/* Root may open it writable whatever the bits say. */
	pf_close(tdb);
	tdb = NULL;
	pf_db *w = NULL;
	pf_options o = test_options();
	assert_ok(pf_open(&w, dir, &o));
	send_byte(c.to_child[1], 'o');
	wait_byte(c.to_parent[0]);
	pf_close(w);
	send_byte(c.to_child[1], 'c');
	int step = wait_byte(c.to_parent[0]);
	if (step == 'r') {
		assert_ok(pf_open(&w, dir, &o));
		pf_guest g = PF_GUEST_INIT;
		g.name = "Written Meanwhile";
		assert_ok(pf_guest_put(w, &g));
		pf_close(w);
		send_byte(c.to_child[1], 'w');
	}
	close(c.to_child[1]);
	close(c.to_parent[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	int normal = WIFEXITED(status);
	cr_assert(normal, "the reader died: %d", status);
	if (WEXITSTATUS(status) == CANNOT)
		cr_skip_test("cannot drop privileges here");
	cr_assert(eq(int, WEXITSTATUS(status), 0), "step %d failed", WEXITSTATUS(status));
	chmod(dir, 0700);
	rm_rf(base);
	db_reopen();
}

struct mount_case {
	const char *src;   /* a backup's data.mdb */
	const char *mnt;
	pf_id id;
};

/* A tmpfs remounted read-only (EROFS, not EACCES). */
static int rofs_child(void *p)
{
	struct mount_case *c = p;
	if (private_mounts() || mount("tmpfs", c->mnt, "tmpfs", 0, "size=16m") != 0)
		return CANNOT;
	char dir[400], to[500], buf[65536];
	snprintf(dir, sizeof dir, "%s/db", c->mnt);
	snprintf(to, sizeof to, "%s/data.mdb", dir);
	if (mkdir(dir, 0700) != 0)
		return 40;
	int in = open(c->src, O_RDONLY), out = open(to, O_WRONLY | O_CREAT, 0600);
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			return 41;
	close(in);
	close(out);
	if (mount(NULL, c->mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0)
		return CANNOT;
	pf_db *db = NULL;
	pf_options o = test_options();
	if (pf_open(&db, dir, &o) != PF_EACCES || !strstr(pf_errmsg(), "read-only"))
		return 42;
	o.flags = PF_OPEN_READONLY;
	if (pf_open(&db, dir, &o) != 0)
		return 43;
	pf_guest *g = NULL;
	if (pf_guest_get(&g, db, &c->id) != 0)
		return 44;
	pf_guest_free(g);
	pf_close(db);
	return 0;
}

Test(store, readonly_open_on_readonly_mount)
{
	struct mount_case c;
	c.id = add_guest("Mounted Guest", NULL, NULL);
	char bk[300], src[400], mnt[300];
	snprintf(bk, sizeof bk, "%s/bk", tdir);
	assert_ok(pf_backup(tdb, bk));
	snprintf(src, sizeof src, "%s/data.mdb", bk);
	snprintf(mnt, sizeof mnt, "%s/mnt", tdir);
	cr_assert(eq(int, mkdir(mnt, 0700), 0));
	c.src = src;
	c.mnt = mnt;
	int rc = in_child(rofs_child, &c);
	if (rc == CANNOT)
		cr_skip_test("cannot mount a tmpfs here");
	cr_assert(eq(int, rc, 0), "step %d failed", rc);
}

/* A child after fork() using its parent's handle: PF_EINVAL with the
 * message, LMDB untouched; it may open the database itself; the
 * parent's handle keeps working. */
static int fork_child(void *p)
{
	const pf_id *id = p;
	pf_guest *g = NULL;
	char want[128];
	snprintf(want, sizeof want, "opened by process %ld; open the database again after fork()",
	         (long)getppid());
	if (pf_guest_get(&g, tdb, id) != PF_EINVAL || !strstr(pf_errmsg(), want))
		return 50;
	pf_guest ng = PF_GUEST_INIT;
	ng.name = "Forked Write";
	if (pf_guest_put(tdb, &ng) != PF_EINVAL || !pf_id_is_zero(&ng.id))
		return 51;
	pf_guest_list *l = NULL;
	if (pf_guest_find(&l, tdb, "fork") != PF_EINVAL || l != NULL)
		return 52;
	uint64_t seq = 0;
	if (pf_journal_last_seq(&seq, tdb) != PF_EINVAL)
		return 53;
	/* The copies reach LMDB without a store.c transaction. */
	char bk[400];
	snprintf(bk, sizeof bk, "%s/forked-backup", tdir);
	if (pf_backup(tdb, bk) != PF_EINVAL || pf_compact(tdb, bk) != PF_EINVAL)
		return 56;
	pf_close(tdb);  /* frees memory only: the parent's environment is left alone */
	pf_db *mine = NULL;
	pf_options o = test_options();
	if (pf_open(&mine, tdir, &o) != 0)
		return 54;
	ng.name = "Child Opened Its Own";
	if (pf_guest_put(mine, &ng) != 0)
		return 55;
	pf_close(mine);
	return 0;
}

Test(store, handle_used_after_fork_is_refused)
{
	pf_id id = add_guest("Fork Parent", NULL, NULL);
	int rc = in_child(fork_child, &id);
	cr_assert(eq(int, rc, 0), "step %d failed", rc);
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	pf_guest_free(g);
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "child opened"));
	cr_assert(eq(sz, l->count, 1));
	pf_guest_list_free(l);
	l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "forked write"));
	cr_assert(eq(sz, l->count, 0));
	pf_guest_list_free(l);
	add_guest("After The Child", NULL, NULL);
	/* A read transaction of the parent still works after the child's
	 * pf_close (its reader slots were left alone). */
	db_reopen();
}

/* A symlink to an open directory is the same database. */
Test(store, symlinked_path_is_busy)
{
	char link[300];
	snprintf(link, sizeof link, "%s-link", tdir);
	cr_assert(eq(int, symlink(tdir, link), 0));
	pf_db *db2 = NULL;
	pf_options o = test_options();
	int rc = pf_open(&db2, link, &o);
	unlink(link);
	cr_assert(eq(int, rc, PF_EBUSY), "%s", pf_errmsg());
	cr_assert(db2 == NULL);
}

/* A bind mount of an open directory is the same database (same device
 * and inode, different path text). */
static int bind_child(void *p)
{
	const char *alias = p;
	if (private_mounts() || mount(tdir, alias, NULL, MS_BIND, NULL) != 0)
		return CANNOT;
	pf_db *a = NULL, *b = NULL;
	pf_options o = test_options();
	if (pf_open(&a, tdir, &o) != 0)
		return 60;
	int rc = pf_open(&b, alias, &o);
	if (rc == 0)
		pf_close(b);
	pf_close(a);
	if (rc != PF_EBUSY || !strstr(pf_errmsg(), "already open"))
		return 61;
	return 0;
}

Test(store, bind_mounted_path_is_busy)
{
	char alias[300];
	snprintf(alias, sizeof alias, "%s-bind", tdir);
	cr_assert(eq(int, mkdir(alias, 0700), 0));
	int rc = in_child(bind_child, alias);
	rmdir(alias);
	if (rc == CANNOT)
		cr_skip_test("cannot bind-mount here");
	cr_assert(eq(int, rc, 0), "step %d failed", rc);
}

/* Write guests with long names, numbered from `from`, until a call
 * fails; returns the number of the first guest not stored and the
 * failing code in *rc. */
static int fill_until_failure(pf_db *db, int *rc, int from, int max)
{
	char name[PF_NAME_MAX + 1], pad[171];
	memset(pad, 'x', sizeof pad - 1);   /* bytes enough to fill a disk quickly */
	pad[sizeof pad - 1] = '\0';
	for (int i = from; i < max; i++) {
		pf_guest g = PF_GUEST_INIT;
		snprintf(name, sizeof name, "Disk Guest %05d %s", i, pad);
		g.name = name;
		*rc = pf_guest_put(db, &g);
		if (*rc)
			return i;
	}
	return max;
}

/* Every guest 0..n-1 is there, n is not. */
static int all_there(pf_db *db, int n)
{
	char name[64];
	for (int i = 0; i <= n; i++) {
		pf_guest_list *l = NULL;
		snprintf(name, sizeof name, "disk guest %05d", i);
		if (pf_guest_find(&l, db, name) != 0)
			return 0;
		size_t want = i < n ? 1 : 0;
		size_t got = l->count;
		pf_guest_list_free(l);
		if (got != want)
			return 0;
	}
	return 1;
}

/* A small tmpfs filled up again and again (LMDB reports a write cut
 * short by the full disk as EIO, one that wrote nothing as ENOSPC; which
 * one happens depends on the page runs a commit writes, so several
 * fills): PF_EFULL saying the disk is full every time; stored data reads
 * back (in this handle and after reopening); after space is freed,
 * writes resume. */
#define FILLERS 8

static int full_disk_child(void *p)
{
	const char *mnt = p;
	if (private_mounts() || mount("tmpfs", mnt, "tmpfs", 0, "size=4m") != 0)
		return CANNOT;
	char dir[400], filler[FILLERS][400];
	snprintf(dir, sizeof dir, "%s/db", mnt);
	char block[65536];
	memset(block, 'f', sizeof block);
	for (int k = 0; k < FILLERS; k++) {   /* 64 KiB each, freed one by one */
		snprintf(filler[k], sizeof filler[k], "%s/filler%d", mnt, k);
		int fd = open(filler[k], O_WRONLY | O_CREAT, 0600);
		if (fd < 0 || write(fd, block, sizeof block) != (ssize_t)sizeof block)
			return 70;
		close(fd);
	}
	pf_db *db = NULL;
	pf_options o = test_options();
	o.map_size = 16u << 20;
	if (pf_open(&db, dir, &o) != 0)
		return 71;
	int rc = 0, n = 0;
	for (int k = 0; k <= FILLERS; k++) {
		int before = n;
		n = fill_until_failure(db, &rc, n, 100000);
		if (k > 0 && n <= before)
			return 76;   /* freeing space did not let writes resume */
		if (rc != PF_EFULL) {
			fprintf(stderr, "fill %d: %d %s\n", k, rc, pf_errmsg());
			return 72;
		}
		if (!strstr(pf_errmsg(), "disk") || !strstr(pf_errmsg(), "full"))
			return 73;
		if (n < 100 || !all_there(db, n))
			return 74;
		if (k < FILLERS)
			unlink(filler[k]);
	}
	pf_close(db);
	if (pf_open(&db, dir, &o) != 0 || !all_there(db, n))
		return 75;
	pf_close(db);
	return 0;
}

Test(store, full_disk_is_efull_and_recovers, .timeout = 120)
{
	char mnt[300];
	snprintf(mnt, sizeof mnt, "%s/small", tdir);
	cr_assert(eq(int, mkdir(mnt, 0700), 0));
	int rc = in_child(full_disk_child, mnt);
	if (rc == CANNOT)
		cr_skip_test("cannot mount a tmpfs here");
	cr_assert(eq(int, rc, 0), "step %d failed", rc);
}

/* The same with the process's file size limit (RLIMIT_FSIZE, SIGXFSZ
 * ignored): no privilege needed. */
static int fsize_child(void *p)
{
	(void)p;
	signal(SIGXFSZ, SIG_IGN);
	pf_db *db = NULL;
	pf_options o = test_options();
	o.map_size = 16u << 20;
	o.flags = PF_OPEN_NOMETASYNC;   /* fewer syncs: this one is on the real disk */
	char dir[400];
	snprintf(dir, sizeof dir, "%s/limited", tdir);
	if (pf_open(&db, dir, &o) != 0)
		return 80;
	char f[500];
	struct stat st;
	snprintf(f, sizeof f, "%s/data.mdb", dir);
	if (stat(f, &st) != 0)
		return 80;
	struct rlimit rl;
	getrlimit(RLIMIT_FSIZE, &rl);
	struct rlimit small = { (rlim_t)st.st_size + (1u << 20), rl.rlim_max };
	if (setrlimit(RLIMIT_FSIZE, &small) != 0)
		return 81;
	int rc = 0;
	int n = fill_until_failure(db, &rc, 0, 100000);
	if (rc != PF_EFULL || !strstr(pf_errmsg(), "file size limit"))
		return 82;
	if (n < 100 || !all_there(db, n))
		return 83;
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 84;
	pf_guest g = PF_GUEST_INIT;
	char name[64];
	snprintf(name, sizeof name, "Disk Guest %05d", n);
	g.name = name;
	if (pf_guest_put(db, &g) != 0 || !all_there(db, n + 1))
		return 85;
	pf_close(db);
	return 0;
}

Test(store, file_size_limit_is_efull_and_recovers, .timeout = 120)
{
	int rc = in_child(fsize_child, NULL);
	cr_assert(eq(int, rc, 0), "step %d failed", rc);
}

/* Address-space limits at every step of pf_open (in a child): each
 * attempt either opens or fails with PF_ENOMEM, never PF_EIO.  Not under
 * AddressSanitizer, whose shadow memory needs terabytes of address
 * space. */
#if !defined(__SANITIZE_ADDRESS__)
static long vm_bytes(void)
{
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pages) != 1)
		pages = -1;
	fclose(f);
	return pages < 0 ? -1 : pages * sysconf(_SC_PAGESIZE);
}

static int enomem_child(void *p)
{
	(void)p;
	char dir[400];
	snprintf(dir, sizeof dir, "%s/oom", tdir);
	pf_options o = PF_OPTIONS_INIT;
	o.map_size = 32u << 20;
	o.timezone = "Asia/Macau";
	struct rlimit rl;
	getrlimit(RLIMIT_AS, &rl);
	int nomem = 0, opened = 0;
	for (long extra = 0; extra <= (48L << 20); extra += 128L << 10) {
		long vm = vm_bytes();
		if (vm < 0)
			return CANNOT;
		struct rlimit lim = { (rlim_t)(vm + extra), rl.rlim_max };
		if (setrlimit(RLIMIT_AS, &lim) != 0)
			return CANNOT;
		pf_db *db = NULL;
		int rc = pf_open(&db, dir, &o);
		setrlimit(RLIMIT_AS, &rl);
		if (rc == 0) {
			opened++;
			pf_close(db);
		} else if (rc == PF_ENOMEM) {
			nomem++;
		} else {
			fprintf(stderr, "pf_open under %ld bytes more: %d %s\n", extra, rc, pf_errmsg());
			return 90;
		}
	}
	return nomem > 0 && opened > 0 ? 0 : 91;
}
#endif

Test(store, out_of_memory_in_open_is_enomem)
{
#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("RLIMIT_AS cannot be used under AddressSanitizer");
#else
	/* valgrind keeps its own heap and shadow memory inside the process's
	 * address space, so a small RLIMIT_AS starves valgrind, not us. */
	if (getenv("PF_UNDER_VALGRIND"))
		cr_skip_test("RLIMIT_AS cannot be used under valgrind");
	int rc = in_child(enomem_child, NULL);
	if (rc == CANNOT)
		cr_skip_test("cannot limit the address space here");
	cr_assert(eq(int, rc, 0), "step %d failed", rc);
#endif
}

/* The errno values LMDB passes through map onto their own codes:
 * permissions are PF_EACCES (PF_EREADONLY is only for a write on a
 * read-only handle), a file size limit is PF_EFULL. */
int pf_lmdb_err(int mdb_rc, const char *what);   /* store.h (store.c) */

Test(store, system_errors_map_to_their_codes)
{
	cr_assert(eq(int, pf_lmdb_err(EACCES, "t"), PF_EACCES));
	cr_assert(eq(int, pf_lmdb_err(EPERM, "t"), PF_EACCES));
	cr_assert(eq(int, pf_lmdb_err(EROFS, "t"), PF_EACCES));
	cr_assert(eq(int, pf_lmdb_err(ENOSPC, "t"), PF_EFULL));
	cr_assert(eq(int, pf_lmdb_err(EFBIG, "t"), PF_EFULL));
	cr_assert(eq(int, pf_lmdb_err(ENOMEM, "t"), PF_ENOMEM));
	cr_assert(eq(int, pf_lmdb_err(EIO, "t"), PF_EIO));
}
