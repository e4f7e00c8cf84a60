/*
 * crash.c — the crash loop: a child writes with full sync (check-ins
 * firing prompts, preferences, complaints) and reports each change on a
 * pipe only after the call returned 0; the parent SIGKILLs it at a random
 * moment, reopens the database and checks that
 *   - every acknowledged check-in's event is there with all its prompts,
 *   - every acknowledged preference value (a counter that only grows) is
 *     stored or superseded by a later one,
 *   - every acknowledged complaint is there,
 *   - no prompt is duplicated (one per event, rule and department), and
 *   - pf_verify reports nothing.
 * Usage: crash DIR KILLS [SEED].  `make check` runs 50 kills,
 * `make check-crash` 1,000.  Prints its figures.
 *
 * Uses only the public API (include/libprofile.h), fork, pipes and
 * signals.
 */
#include "libprofile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUESTS 16
#define ACK_MAX 200000

static const char BOOK[] =
	"rule floor\n  on check_in\n  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"rule flowers\n  on check_in\n  when pref amenity.flower\n"
	"  notify housekeeping normal \"Place {pref amenity.flower} in room {room}\"\n"
	"rule hello\n  on check_in\n"
	"  notify kiosk low \"Welcome, {name}!\"\n";

/* What the child acknowledges, one fixed-size record per change. */
enum { ACK_FIRE = 1, ACK_PREF, ACK_COMPLAINT };
typedef struct {
	unsigned char op;
	unsigned char guest;          /* index into guests[] */
	uint32_t n;                   /* fire: event number; pref: counter value */
	uint32_t prompts;             /* fire: prompts it returned */
	pf_id id;                     /* complaint: its id */
} ack;

static pf_id guests[GUESTS];
static ack acks[ACK_MAX];
static size_t nacks;

static void die(const char *what)
{
	fprintf(stderr, "crash: %s: %s\n", what, pf_errmsg());
	exit(1);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "crash: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(3);
		p += w;
		len -= (size_t)w;
	}
}

/* The child: writes until killed.  Event numbers continue from `next` so
 * every run fires new events; some repeat the last acknowledged check-in
 * (`last_fire`, carried over from the previous child), which must not
 * fire twice. */
static void child(const char *dir, int fd, uint32_t next, unsigned seed,
                  uint32_t last_fire, unsigned last_guest)
{
	pf_db *db = NULL;
	if (pf_open(&db, dir, NULL))
		_exit(2);
	pf_observation obs = PF_OBSERVATION_INIT;
	obs.department = "housekeeping";
	for (uint32_t n = next;; n++) {
		ack a = { 0 };
		unsigned g = (unsigned)rand_r(&seed) % GUESTS;
		int what = rand_r(&seed) % 3;
		/* Now and then the same check-in is reported again, as a PMS
		 * retrying after a timeout would: it must not fire twice. */
		bool again = what == 0 && last_fire && rand_r(&seed) % 3 == 0;
		a.n = again ? last_fire : n;
		if (again)
			g = last_guest;
		a.guest = (unsigned char)g;
		if (what == 0) {
			char evid[32];
			snprintf(evid, sizeof evid, "ev-%u", (unsigned)a.n);
			pf_event ev = PF_EVENT_INIT;
			ev.id = evid;
			ev.kind = PF_EVENT_CHECK_IN;
			ev.guest = guests[g];
			ev.room = "1012";
			pf_prompt_list *l = NULL;
			if (pf_fire(&l, db, &ev))
				_exit(4);
			a.op = ACK_FIRE;
			a.prompts = (uint32_t)l->count;
			pf_prompt_list_free(l);
			last_fire = a.n;
			last_guest = g;
		} else if (what == 1) {
			char v[16];
			snprintf(v, sizeof v, "%u", (unsigned)n);
			if (pf_pref_set(db, &guests[g], "test.counter", v, &obs))
				_exit(5);
			a.op = ACK_PREF;
		} else {
			pf_feedback fb = PF_FEEDBACK_INIT;
			fb.guest = guests[g];
			fb.department = "housekeeping";
			fb.category = "room";
			fb.text = "The room was not ready";
			fb.recorded_by = "mei";
			if (pf_feedback_add(db, &fb, NULL))
				_exit(6);
			a.op = ACK_COMPLAINT;
			a.id = fb.id;
		}
		write_all(fd, &a, sizeof a);   /* only after the call returned 0 */
	}
}

static void setup(const char *dir)
{
	pf_db *db = NULL;
	if (pf_open(&db, dir, NULL))
		die("open");
	pf_rule_error err;
	if (pf_rules_load(db, "crash.rules", BOOK, strlen(BOOK), &err))
		die("rules");
	pf_observation obs = PF_OBSERVATION_INIT;
	obs.department = "front_desk";
	for (int i = 0; i < GUESTS; i++) {
		char name[32];
		snprintf(name, sizeof name, "Crash Guest %02d", i);
		pf_guest g = PF_GUEST_INIT;
		g.name = name;
		if (pf_guest_put(db, &g))
			die("guest");
		guests[i] = g.id;
		if (pf_pref_set(db, &g.id, "room.floor", "10", &obs) ||
		    pf_pref_set(db, &g.id, "amenity.flower", "lily", &obs))
			die("pref");
	}
	pf_close(db);
}

/* The book's departments and rules, for looking prompts up. */
static const char *const depts[] = { "front_desk", "housekeeping", "kiosk" };
#define NDEPTS (sizeof depts / sizeof depts[0])
static const char *const rules[] = { "floor", "flowers", "hello" };
#define NRULES (sizeof rules / sizeof rules[0])

static int by_event_rule(const void *x, const void *y)
{
	const pf_prompt *a = x, *b = y;
	int c = strcmp(a->event_id, b->event_id);
	return c ? c : strcmp(a->rule, b->rule);
}

/* Everything acknowledged so far is there, nothing is doubled. */
static void check(const char *dir, unsigned long kill_no)
{
	pf_db *db = NULL;
	if (pf_open(&db, dir, NULL))
		die("reopen after kill");
	/* The feeds, sorted by (event, rule): one prompt per (event, rule,
	 * department), and the index the acknowledged fires are looked up in. */
	pf_prompt_list *feeds[NDEPTS];
	for (size_t d = 0; d < NDEPTS; d++) {
		if (pf_prompts_since(&feeds[d], db, depts[d], 0))
			die("feed");
		pf_prompt_list *l = feeds[d];
		qsort(l->items, l->count, sizeof *l->items, by_event_rule);
		for (size_t i = 1; i < l->count; i++)
			if (by_event_rule(&l->items[i - 1], &l->items[i]) == 0)
				fail("a prompt of %s is duplicated (feed %lu)", l->items[i].event_id,
				     (unsigned long)d);
	}
	uint32_t last_pref[GUESTS] = { 0 };
	for (size_t i = 0; i < nacks; i++) {
		const ack *a = &acks[i];
		if (a->op == ACK_FIRE) {
			/* Every prompt the acknowledged fire returned is in the
			 * feeds (looked up, never re-fired: that would create it). */
			char evid[32];
			snprintf(evid, sizeof evid, "ev-%u", (unsigned)a->n);
			size_t have = 0;
			for (size_t d = 0; d < NDEPTS; d++) {
				pf_prompt key = { 0 };
				key.event_id = evid;
				for (size_t r = 0; r < NRULES; r++) {
					key.rule = rules[r];
					have += bsearch(&key, feeds[d]->items, feeds[d]->count,
					                sizeof key, by_event_rule) != NULL;
				}
			}
			if (have != a->prompts)
				fail("event %s: %zu of its prompts after the kill", evid, have);
		} else if (a->op == ACK_PREF) {
			if (a->n > last_pref[a->guest])
				last_pref[a->guest] = a->n;
		} else {
			pf_feedback *fb = NULL;
			if (pf_feedback_get(&fb, db, &a->id))
				fail("an acknowledged complaint is missing (%s) after kill %lu",
				     pf_errmsg(), kill_no);
			pf_feedback_free(fb);
		}
	}
	for (int g = 0; g < GUESTS; g++) {
		if (!last_pref[g])
			continue;
		pf_pref *p = NULL;
		if (pf_pref_get(&p, db, &guests[g], "test.counter"))
			die("pref get");
		unsigned long v = strtoul(p->value, NULL, 10);
		if (v < last_pref[g])
			fail("preference test.counter went back to %lu", v);
		pf_pref_free(p);
	}

	for (size_t d = 0; d < NDEPTS; d++)
		pf_prompt_list_free(feeds[d]);

	pf_verify_report *rep = NULL;
	if (pf_verify(&rep, db))
		die("verify");
	if (rep->count) {
		fprintf(stderr, "crash: pf_verify after kill %lu: %zu problems, first: %s %s\n",
		        kill_no, rep->count, rep->items[0].database, rep->items[0].problem);
		exit(1);
	}
	pf_verify_report_free(rep);
	pf_close(db);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: crash DIR KILLS [SEED]\n");
		return 2;
	}
	const char *dir = argv[1];
	unsigned long kills = strtoul(argv[2], NULL, 10);
	unsigned seed = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : (unsigned)time(NULL);
	setup(dir);

	uint32_t next = 1;
	unsigned long fires = 0, prefs = 0, complaints = 0;
	for (unsigned long k = 1; k <= kills; k++) {
		int p[2];
		if (pipe(p))
			return perror("pipe"), 1;
		pid_t pid = fork();
		if (pid < 0)
			return perror("fork"), 1;
		if (pid == 0) {
			close(p[0]);
			uint32_t lf = 0;
			unsigned lg = 0;
			for (size_t i = nacks; i-- > 0;)
				if (acks[i].op == ACK_FIRE) {
					lf = acks[i].n;
					lg = acks[i].guest;
					break;
				}
			child(dir, p[1], next, seed + (unsigned)k, lf, lg);
		}
		close(p[1]);
		/* Let it run 5..60 ms, reading acknowledgements as they come. */
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long run_us = 5000 + (long)(rand_r(&seed) % 55000);
		ack a;
		size_t got = 0;
		for (;;) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long el = (t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000;
			if (el >= run_us)
				break;
			struct pollfd pf = { p[0], POLLIN, 0 };
			if (poll(&pf, 1, (int)((run_us - el) / 1000) + 1) <= 0)
				continue;
			ssize_t r = read(p[0], (char *)&a + got, sizeof a - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			if (got == sizeof a) {
				if (nacks < ACK_MAX)
					acks[nacks++] = a;
				got = 0;
			}
		}
		kill(pid, SIGKILL);
		/* Drain what was acknowledged before the kill landed. */
		ssize_t r;
		while ((r = read(p[0], (char *)&a + got, sizeof a - got)) > 0) {
			got += (size_t)r;
			if (got == sizeof a) {
				if (nacks < ACK_MAX)
					acks[nacks++] = a;
				got = 0;
			}
		}
		close(p[0]);
		int st = 0;
		waitpid(pid, &st, 0);
		if (!WIFSIGNALED(st)) {
			fprintf(stderr, "crash: the writer exited with status %d before the kill\n",
			        WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			return 1;
		}
		for (size_t i = 0; i < nacks; i++)
			if (acks[i].n >= next)
				next = acks[i].n + 1;
		next += 1000;   /* past anything the killed child may have committed */
		check(dir, k);
	}
	for (size_t i = 0; i < nacks; i++) {
		fires += acks[i].op == ACK_FIRE;
		prefs += acks[i].op == ACK_PREF;
		complaints += acks[i].op == ACK_COMPLAINT;
	}
	printf("crash: %lu SIGKILLs of a full-sync writer survived; %zu acknowledged changes "
	       "all present (%lu check-ins, %lu preference writes, %lu complaints), no "
	       "duplicated prompt, pf_verify clean after every kill\n",
	       kills, nacks, fires, prefs, complaints);
	return 0;
}
