/* test_store.c — opening, closing, schema, options, map growth, errors. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
