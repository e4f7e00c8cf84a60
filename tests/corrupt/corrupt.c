/*
 * corrupt.c — damaged files: copies of a realistic database, truncated at
 * many sizes or with 1-8 random bits flipped, each opened and used by a
 * child process (open, pf_verify, finds and reads of every guest, a
 * check-in, a preference, a complaint, a work list).  How each copy ended:
 *   - refused at open with an error code (a truncation is PF_ECORRUPT),
 *   - opened, and pf_verify or a call reported the damage with a code,
 *   - opened and everything worked (the flip hit free space or slack),
 *   - the child died on a signal: damage LMDB 0.9 cannot survive (it has
 *     no checksums).  Then `frontdesk verify` (which runs pf_verify in a
 *     child of its own) must report it and exit non-zero; a crash it does
 *     not report fails the run, and so does any signal where no LMDB limit
 *     applies (a truncated file must never crash).
 * Usage: corrupt WORKDIR COPIES FRONTDESK [SEED].  Prints the figures.
 * `make check` runs 60 flipped copies, `make check-corrupt` 300.
 *
 * Uses only the public API (include/libprofile.h), fork/exec and files.
 */
#include "libprofile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUESTS 300

static const char BOOK[] =
	"rule floor\n  on reservation, check_in\n  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"rule flowers\n  on check_in\n  when pref amenity.flower\n"
	"  notify housekeeping normal \"Place {pref amenity.flower} in room {room}\"\n"
	"rule sichuan\n  on check_in\n  when pref dining.cuisine = sichuan\n"
	"  notify restaurant normal \"Suggest Sichuan dishes to {name}\"\n";

static void die(const char *what)
{
	fprintf(stderr, "corrupt: %s: %s\n", what, pf_errmsg());
	exit(2);
}

/* A database like a small hotel's: guests with contacts and preferences,
 * check-ins with their prompts and stays, complaints, a merge. */
static void build_template(const char *dir)
{
	pf_db *db = NULL;
	if (pf_open(&db, dir, NULL))
		die("open template");
	pf_rule_error err;
	if (pf_rules_load(db, "corrupt.rules", BOOK, strlen(BOOK), &err))
		die("rules");
	pf_observation obs = PF_OBSERVATION_INIT;
	obs.department = "front_desk";
	pf_id ids[GUESTS];
	for (int i = 0; i < GUESTS; i++) {
		char name[48], email[48], phone[32], evid[32];
		snprintf(name, sizeof name, "Guest Number %03d", i);
		snprintf(email, sizeof email, "guest%03d@example.com", i);
		snprintf(phone, sizeof phone, "+853 6%03d %04d", i, i * 7);
		pf_guest g = PF_GUEST_INIT;
		g.name = name;
		g.email = email;
		g.phone = phone;
		g.language = i % 2 ? "zh" : "pt";
		if (pf_guest_put(db, &g))
			die("guest");
		ids[i] = g.id;
		if (pf_pref_set(db, &g.id, "room.floor", i % 3 ? "10" : "4", &obs) ||
		    pf_pref_set(db, &g.id, "amenity.flower", "lily", &obs) ||
		    (i % 4 == 0 && pf_pref_set(db, &g.id, "dining.cuisine", "sichuan", &obs)))
			die("pref");
		snprintf(evid, sizeof evid, "chk-%d", i);
		pf_event ev = PF_EVENT_INIT;
		ev.id = evid;
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = g.id;
		ev.room = "1012";
		ev.arrival = 20261120 + i % 5;
		ev.departure = ev.arrival + 2;
		pf_prompt_list *l = NULL;
		if (pf_fire(&l, db, &ev))
			die("fire");
		pf_prompt_list_free(l);
		if (i % 10 == 0) {
			pf_feedback fb = PF_FEEDBACK_INIT;
			fb.guest = g.id;
			fb.department = "housekeeping";
			fb.category = "room";
			fb.text = "The room was not ready";
			fb.recorded_by = "mei";
			if (pf_feedback_add(db, &fb, NULL))
				die("complaint");
		}
	}
	pf_id merge;
	if (pf_guest_merge(&merge, db, &ids[0], &ids[1]))
		die("merge");
	pf_close(db);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(b);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void write_copy(const char *dir, const unsigned char *data, size_t len)
{
	char path[600];
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		exit(2);
	if (mkdir(dir, 0700))
		exit(2);
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || close(fd))
		exit(2);
}

/* Exit codes of the child that uses a copy. */
enum { USE_OK = 0, USE_OPEN_REFUSED = 10, USE_VERIFY_FOUND = 11, USE_CALL_ERROR = 12 };

static void use_copy(const char *dir)
{
	pf_db *db = NULL;
	int rc = pf_open(&db, dir, NULL);
	if (rc)
		_exit(rc == PF_ECORRUPT ? USE_OPEN_REFUSED : USE_OPEN_REFUSED + 20);
	pf_verify_report *rep = NULL;
	rc = pf_verify(&rep, db);
	size_t problems = rc ? 1 : rep->count;
	pf_verify_report_free(rep);
	int errors = 0;
	pf_guest_list *l = NULL;
	if (pf_guest_find(&l, db, "guest"))
		errors++;
	for (size_t i = 0; l && i < l->count; i++) {
		pf_guest *g = NULL;
		if (pf_guest_get(&g, db, &l->items[i]->id))
			errors++;
		pf_guest_free(g);
		pf_stay_list *s = NULL;
		if (pf_stay_list_get(&s, db, &l->items[i]->id))
			errors++;
		pf_stay_list_free(s);
	}
	if (l && l->count) {
		pf_observation obs = PF_OBSERVATION_INIT;
		obs.department = "housekeeping";
		pf_id id = l->items[l->count / 2]->id;
		if (pf_pref_set(db, &id, "amenity.soap", "sandalwood", &obs))
			errors++;
		pf_event ev = PF_EVENT_INIT;
		ev.id = "chk-after-damage";
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = id;
		ev.room = "818";
		pf_prompt_list *pl = NULL;
		if (pf_fire(&pl, db, &ev))
			errors++;
		pf_prompt_list_free(pl);
		pf_feedback fb = PF_FEEDBACK_INIT;
		fb.guest = id;
		fb.department = "housekeeping";
		fb.category = "noise";
		fb.text = "Noisy corridor";
		fb.recorded_by = "mei";
		if (pf_feedback_add(db, &fb, NULL))
			errors++;
	}
	pf_guest_list_free(l);
	pf_prompt_list *pl = NULL;
	if (pf_prompts_pending(&pl, db, "front_desk"))
		errors++;
	pf_prompt_list_free(pl);
	pf_close(db);
	_exit(problems ? USE_VERIFY_FOUND : errors ? USE_CALL_ERROR : USE_OK);
}

/* `frontdesk verify -d DIR`: its exit status, -1 if it died itself. */
static int frontdesk_verify(const char *frontdesk, const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(frontdesk, frontdesk, "-d", dir, "verify", (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct tally {
	unsigned tried, refused, found, call_error, clean, contained;
};

/* Use one damaged copy; false if it ended in a way that is not allowed. */
static bool try_copy(const char *dir, const char *frontdesk, bool truncated,
                     struct tally *t, const char *what)
{
	t->tried++;
	pid_t pid = fork();
	if (pid == 0)
		use_copy(dir);
	int st = 0;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st)) {
		switch (WEXITSTATUS(st)) {
		case USE_OK:           t->clean++; return true;
		case USE_OPEN_REFUSED: t->refused++; return true;
		case USE_VERIFY_FOUND: t->found++; return true;
		case USE_CALL_ERROR:   t->call_error++; return true;
		default:
			fprintf(stderr, "corrupt: %s: open failed with a code other than "
			        "PF_ECORRUPT (exit %d)\n", what, WEXITSTATUS(st));
			return false;
		}
	}
	int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	if (truncated) {
		fprintf(stderr, "corrupt: %s: signal %d; a truncated file must be refused\n",
		        what, sig);
		return false;
	}
	int v = frontdesk_verify(frontdesk, dir);
	if (v <= 0) {
		fprintf(stderr, "corrupt: %s: the process died on signal %d and `frontdesk "
		        "verify` %s\n", what, sig, v == 0 ? "said the copy is clean" : "died too");
		return false;
	}
	t->contained++;
	return true;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: corrupt WORKDIR COPIES FRONTDESK [SEED]\n");
		return 2;
	}
	const char *work = argv[1];
	unsigned copies = (unsigned)strtoul(argv[2], NULL, 10);
	const char *frontdesk = argv[3];
	unsigned seed = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 1;
	char tmpl[512], copy[512], path[600];
	mkdir(work, 0700);
	snprintf(tmpl, sizeof tmpl, "%s/template", work);
	snprintf(copy, sizeof copy, "%s/copy", work);
	build_template(tmpl);
	snprintf(path, sizeof path, "%s/data.mdb", tmpl);
	size_t len = 0;
	unsigned char *data = read_file(path, &len);
	if (!data)
		return perror(path), 2;
	unsigned char *buf = malloc(len);

	/* The undamaged copy must be clean, or nothing below means anything. */
	write_copy(copy, data, len);
	struct tally tt = { 0 }, tf = { 0 };
	if (!try_copy(copy, frontdesk, true, &tt, "the undamaged copy") || tt.clean != 1) {
		fprintf(stderr, "corrupt: the undamaged copy is not clean\n");
		return 1;
	}
	tt = (struct tally){ 0 };
	if (frontdesk_verify(frontdesk, copy) != 0) {
		fprintf(stderr, "corrupt: `frontdesk verify` fails on the undamaged copy\n");
		return 1;
	}

	bool ok = true;
	size_t cuts[] = { 0, 1, 4095, 4096, 8192, 12288, len / 4, len / 2, len - 4096, len - 1 };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "truncated to %zu bytes", cuts[i]);
		write_copy(copy, data, cuts[i]);
		bool good = try_copy(copy, frontdesk, true, &tt, what);
		ok &= good;
		if (good && tt.refused + tt.found + tt.call_error != tt.tried) {
			fprintf(stderr, "corrupt: %s: opened and used as if whole\n", what);
			ok = false;
		}
	}
	for (unsigned c = 0; c < copies; c++) {
		memcpy(buf, data, len);
		int flips = 1 + rand_r(&seed) % 8;
		for (int f = 0; f < flips; f++) {
			size_t at = (size_t)rand_r(&seed) % len;
			buf[at] ^= (unsigned char)(1u << (rand_r(&seed) % 8));
		}
		char what[64];
		snprintf(what, sizeof what, "copy %u (%d flipped bits)", c, flips);
		write_copy(copy, buf, len);
		ok &= try_copy(copy, frontdesk, false, &tf, what);
	}
	snprintf(path, sizeof path, "rm -rf '%s'", work);
	if (system(path) != 0)
		fprintf(stderr, "corrupt: could not remove %s\n", work);
	free(data);
	free(buf);

	printf("corrupt: %u truncated copies: %u refused at open (PF_ECORRUPT), %u found by "
	       "pf_verify, %u by a call; 0 signals\n",
	       tt.tried, tt.refused, tt.found, tt.call_error);
	printf("corrupt: %u copies with 1-8 flipped bits of a %zu-byte database: %u refused at "
	       "open, %u found by pf_verify, %u by a call returning a code, %u verified clean "
	       "(the flips hit free space), %u crashes of the using process, each reported by "
	       "`frontdesk verify`\n",
	       tf.tried, len, tf.refused, tf.found, tf.call_error, tf.clean, tf.contained);
	return ok ? 0 : 1;
}
