/* test_backup.c — hot backups (while another process writes) and
 * compacting copies. */
#include "helpers.h"
#include "store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(backup, .init = db_setup, .fini = db_teardown, .timeout = 60);

static char bk_dest[300];

static void bk_dest_path(const char *suffix)
{
	snprintf(bk_dest, sizeof bk_dest, "%s-%s", tdir, suffix);
	rm_rf(bk_dest);
}

static pf_id bk_guest(const char *name, const char *email)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	assert_ok(pf_guest_put(tdb, &g));
	return g.id;
}

static void bk_populate(void)
{
	pf_rule_error err;
	const char rules[] = "rule hi\n  on check_in\n  notify front_desk normal \"Hi {name}\"\n";
	assert_ok(pf_rules_load(tdb, "t", rules, strlen(rules), &err));
	for (int i = 0; i < 50; i++) {
		char name[32], email[64], ev_id[32];
		snprintf(name, sizeof name, "Guest %03d", i);
		snprintf(email, sizeof email, "guest%03d@example.com", i);
		pf_id g = bk_guest(name, email);
		set_pref(&g, "room.floor", i % 2 ? "3" : "9", PF_LIKE);
		pf_event ev = PF_EVENT_INIT;
		pf_prompt_list *l = NULL;
		snprintf(ev_id, sizeof ev_id, "ci-%03d", i);
		ev.id = ev_id;
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = g;
		ev.arrival = 20251101;
		ev.departure = 20251105;
		assert_ok(pf_fire(&l, tdb, &ev));
		pf_prompt_list_free(l);
	}
}

/* Compare every record of `tdb` with the copy in `dir`. */
static void bk_assert_same(const char *dir)
{
	pf_db *copy = NULL;
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&copy, dir, &o));
	size_t la = 0, lb = 0;
	unsigned char *a = dump_dbs(tdb, NULL, 0, &la), *b = dump_dbs(copy, NULL, 0, &lb);
	cr_assert(eq(sz, la, lb));
	cr_assert(eq(int, memcmp(a, b, la), 0), "the copy holds other records");
	free(a);
	free(b);
	pf_close(copy);
}

Test(backup, backup_is_a_working_copy)
{
	bk_populate();
	bk_dest_path("bak");
	assert_ok(pf_backup(tdb, bk_dest));
	struct stat st;
	char path[400];
	snprintf(path, sizeof path, "%s/data.mdb", bk_dest);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, st.st_mode & 0777, 0600));
	cr_assert(eq(int, stat(bk_dest, &st), 0));
	cr_assert(eq(int, st.st_mode & 0777, 0700));
	bk_assert_same(bk_dest);
	rm_rf(bk_dest);
}

Test(backup, compact_is_a_working_copy)
{
	bk_populate();
	bk_dest_path("cpt");
	cr_assert(eq(int, mkdir(bk_dest, 0700), 0));   /* an existing empty dir is fine */
	assert_ok(pf_compact(tdb, bk_dest));
	bk_assert_same(bk_dest);

	/* The copy opens writable and takes new data. */
	pf_db *copy = NULL;
	pf_options o = test_options();
	assert_ok(pf_open(&copy, bk_dest, &o));
	pf_guest g = PF_GUEST_INIT;
	g.name = "After Compaction";
	assert_ok(pf_guest_put(copy, &g));
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, copy, "guest042@example.com"));
	cr_assert(eq(sz, l->count, 1));
	pf_guest_list_free(l);
	pf_close(copy);
	rm_rf(bk_dest);
}

Test(backup, compact_after_deletes_is_smaller)
{
	bk_populate();
	for (int i = 0; i < 40; i++) {
		char email[64];
		pf_guest_list *l = NULL;
		snprintf(email, sizeof email, "guest%03d@example.com", i);
		assert_ok(pf_guest_find(&l, tdb, email));
		assert_ok(pf_guest_erase(tdb, &l->items[0]->id));
		pf_guest_list_free(l);
	}
	bk_dest_path("small");
	assert_ok(pf_compact(tdb, bk_dest));
	size_t before = 0, after = 0;
	free(read_data_file(tdir, &before));
	free(read_data_file(bk_dest, &after));
	cr_assert(lt(sz, after, before), "compacted %zu bytes, original %zu", after, before);
	bk_assert_same(bk_dest);
	rm_rf(bk_dest);
}

Test(backup, refuses_bad_destinations)
{
	bk_guest("Some One", NULL);
	cr_assert(eq(int, pf_backup(tdb, tdir), PF_EEXIST), "the database's own directory");
	cr_assert(eq(int, pf_compact(tdb, tdir), PF_EEXIST));
	bk_dest_path("file");
	FILE *f = fopen(bk_dest, "w");
	cr_assert(f != NULL);
	fclose(f);
	cr_assert(eq(int, pf_backup(tdb, bk_dest), PF_EINVAL));
	cr_assert(eq(int, pf_compact(tdb, bk_dest), PF_EINVAL));
	unlink(bk_dest);
	cr_assert(eq(int, pf_backup(tdb, ""), PF_EINVAL));
	cr_assert(eq(int, pf_backup(tdb, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_compact(NULL, "/tmp/x"), PF_EINVAL));
	/* A parent that does not exist: PF_EIO, nothing created. */
	char deep[400];
	snprintf(deep, sizeof deep, "%s-missing/sub", tdir);
	cr_assert(eq(int, pf_backup(tdb, deep), PF_EIO));
	struct stat st;
	cr_assert(ne(int, stat(deep, &st), 0));
}

Test(backup, readonly_database_can_be_copied)
{
	bk_populate();
	pf_close(tdb);
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &o));
	bk_dest_path("ro-bak");
	assert_ok(pf_backup(tdb, bk_dest));
	bk_assert_same(bk_dest);
	rm_rf(bk_dest);
	bk_dest_path("ro-cpt");
	assert_ok(pf_compact(tdb, bk_dest));
	bk_assert_same(bk_dest);
	rm_rf(bk_dest);
}

/* The child: its own pf_open of the same directory, then a stream of
 * guests "Writer NNNN" in order, one transaction each. */
#define WRITER_GUESTS 400

static void bk_writer(const char *dir, int ready_fd)
{
	pf_db *db = NULL;
	pf_options o = PF_OPTIONS_INIT;
	o.map_size = 1u << 20;   /* small: the map grows while the parent copies */
	if (pf_open(&db, dir, &o) != 0)
		_exit(3);
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	close(ready_fd);
	for (int i = 0; i < WRITER_GUESTS; i++) {
		char name[32], note[600];
		pf_guest g = PF_GUEST_INIT;
		snprintf(name, sizeof name, "Writer %04d", i);
		g.name = name;
		if (pf_guest_put(db, &g) != 0)
			_exit(5);
		memset(note, 'n', sizeof note - 1);
		note[sizeof note - 1] = '\0';
		pf_observation ob = PF_OBSERVATION_INIT;
		ob.department = "housekeeping";
		ob.note = note;
		if (pf_pref_set(db, &g.id, "room.floor", "2", &ob) != 0)
			_exit(6);
	}
	pf_close(db);
	_exit(0);
}

/* How many "Writer NNNN" guests the database holds, checking that they
 * are a prefix 0..n-1 of the writer's sequence (a consistent snapshot). */
static int bk_writers_in(pf_db *db)
{
	int n = 0;
	for (int i = 0; i < WRITER_GUESTS; i++) {
		char name[32];
		pf_guest_list *l = NULL;
		snprintf(name, sizeof name, "Writer %04d", i);
		assert_ok(pf_guest_find(&l, db, name));
		size_t c = l->count;
		pf_guest_list_free(l);
		if (c == 0)
			break;
		cr_assert(eq(sz, c, 1));
		n++;
	}
	for (int i = n + 1; i < WRITER_GUESTS; i += 37) {
		char name[32];
		pf_guest_list *l = NULL;
		snprintf(name, sizeof name, "Writer %04d", i);
		assert_ok(pf_guest_find(&l, db, name));
		cr_assert(eq(sz, l->count, 0), "guest %d without guest %d: not a snapshot", i, n);
		pf_guest_list_free(l);
	}
	return n;
}

Test(backup, hot_backup_while_another_process_writes)
{
	bk_populate();
	int pipefd[2];
	cr_assert(eq(int, pipe(pipefd), 0));
	pid_t pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		close(pipefd[0]);
		bk_writer(tdir, pipefd[1]);
	}
	close(pipefd[1]);
	char c;
	cr_assert(eq(int, (int)read(pipefd[0], &c, 1), 1), "the writer did not start");
	close(pipefd[0]);

	/* Several backups while the writer runs. */
	int counts[4];
	for (int k = 0; k < 4; k++) {
		char suffix[16];
		snprintf(suffix, sizeof suffix, "hot%d", k);
		bk_dest_path(suffix);
		assert_ok(pf_backup(tdb, bk_dest));
		pf_db *copy = NULL;
		pf_options o = test_options();
		assert_ok(pf_open(&copy, bk_dest, &o));
		counts[k] = bk_writers_in(copy);
		pf_guest_list *l = NULL;
		assert_ok(pf_guest_find(&l, copy, "guest007@example.com"));
		cr_assert(eq(sz, l->count, 1), "data from before the backup is there");
		pf_guest_list_free(l);
		pf_close(copy);
		rm_rf(bk_dest);
	}
	int status = 0;
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	int exited = WIFEXITED(status), code = WEXITSTATUS(status);
	cr_assert(exited, "writer crashed");
	cr_assert(eq(int, code, 0), "writer failed with %d", code);
	for (int k = 1; k < 4; k++)
		cr_assert(ge(int, counts[k], counts[k - 1]), "backups go forward in time");

	/* After the writer is done, a backup holds everything. */
	bk_dest_path("final");
	assert_ok(pf_backup(tdb, bk_dest));
	pf_db *copy = NULL;
	pf_options o = test_options();
	assert_ok(pf_open(&copy, bk_dest, &o));
	cr_assert(eq(int, bk_writers_in(copy), WRITER_GUESTS));
	pf_close(copy);
	rm_rf(bk_dest);
}
