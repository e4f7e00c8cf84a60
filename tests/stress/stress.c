/*
 * stress.c — many processes on one database, as a hotel runs it: front
 * desks and kiosks firing check-ins for overlapping guests, often with the
 * same event ids from several processes at once; staff acknowledging and
 * completing prompts; previews; and the rule book reloaded under them.
 * Each process logs what succeeded (to its own file, after the call
 * returned 0).  Afterwards the parent checks that
 *   - every process that fired an event id got the same prompt ids (an
 *     event fires once, however many processes report it),
 *   - the feeds hold exactly the prompts of the fired events: none lost,
 *     none duplicated,
 *   - every acknowledged or completed transition is stored, and
 *   - pf_verify reports nothing.
 * Usage: stress DIR PROCESSES SECONDS.  `make check` runs 8 processes for
 * 5 s, `make check-stress` for 60 s.  Prints its figures.
 *
 * Uses only the public API (include/libprofile.h), fork and files.
 */
#include "libprofile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUESTS  40
#define EVENTS  400           /* event ids shared by all processes */
#define PROCS_MAX 32

static const char BOOK_A[] =
	"rule floor\n  on check_in\n  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"rule flowers\n  on check_in\n  when pref amenity.flower\n"
	"  notify housekeeping normal \"Place {pref amenity.flower} in room {room}\"\n";
static const char BOOK_B[] =
	"rule floor\n  on check_in\n  when pref room.floor\n"
	"  notify front_desk high \"Floor {pref room.floor}, please\"\n"
	"rule flowers\n  on check_in\n  when pref amenity.flower\n"
	"  notify housekeeping normal \"Fresh {pref amenity.flower} for room {room}\"\n";

enum { LOG_FIRE = 1, LOG_ACK, LOG_DONE };
typedef struct {
	unsigned char op;
	uint16_t event;               /* fire: event number */
	uint16_t nprompts;
	pf_id prompt[2];              /* fire: its prompts (the book makes 2); ack/done: [0] */
} rec;

static pf_id guests[GUESTS];

static void die(const char *what)
{
	fprintf(stderr, "stress: %s: %s\n", what, pf_errmsg());
	exit(1);
}

static void log_rec(int fd, const rec *r)
{
	if (write(fd, r, sizeof *r) != (ssize_t)sizeof *r)
		_exit(3);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void event_name(char *buf, size_t n, unsigned e)
{
	snprintf(buf, n, "ev-%u", e);
}

static void child(const char *dir, int me, double seconds)
{
	char path[512];
	snprintf(path, sizeof path, "%s.log%d", dir, me);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(2);
	pf_db *db = NULL;
	if (pf_open(&db, dir, NULL))
		_exit(2);
	unsigned seed = 7919u * (unsigned)(me + 1);
	double end = now_s() + seconds;
	while (now_s() < end) {
		int what = rand_r(&seed) % 10;
		if (what < 4) {
			unsigned e = (unsigned)rand_r(&seed) % EVENTS;
			char evid[32];
			event_name(evid, sizeof evid, e);
			pf_event ev = PF_EVENT_INIT;
			ev.id = evid;
			ev.kind = PF_EVENT_CHECK_IN;
			ev.guest = guests[e % GUESTS];  /* an event id always names one guest */
			ev.room = "1012";
			pf_prompt_list *l = NULL;
			if (pf_fire(&l, db, &ev))
				_exit(4);
			rec r = { LOG_FIRE, (uint16_t)e, (uint16_t)l->count, { { { 0 } } } };
			for (size_t i = 0; i < l->count && i < 2; i++)
				r.prompt[i] = l->items[i].id;
			pf_prompt_list_free(l);
			log_rec(fd, &r);
		} else if (what < 7) {
			const char *dept = what == 4 ? "housekeeping" : "front_desk";
			pf_prompt_list *l = NULL;
			if (pf_prompts_pending(&l, db, dept))
				_exit(5);
			if (l->count) {
				const pf_prompt *p = &l->items[(size_t)rand_r(&seed) % l->count];
				/* Another process may move it first: only a success counts. */
				rec r = { 0, 0, 0, { p->id } };
				if (p->status == PF_PROMPT_PENDING &&
				    pf_prompt_ack(db, &p->id, "mei") == 0) {
					r.op = LOG_ACK;
					log_rec(fd, &r);
				} else if (pf_prompt_done(db, &p->id, "mei") == 0) {
					r.op = LOG_DONE;
					log_rec(fd, &r);
				}
			}
			pf_prompt_list_free(l);
		} else if (what < 9) {
			pf_event ev = PF_EVENT_INIT;
			ev.id = "preview";
			ev.kind = PF_EVENT_CHECK_IN;
			ev.guest = guests[(unsigned)rand_r(&seed) % GUESTS];
			ev.room = "1012";
			pf_prompt_list *l = NULL;
			if (pf_preview(&l, db, &ev))
				_exit(6);
			pf_prompt_list_free(l);
		} else {
			const char *b = rand_r(&seed) % 2 ? BOOK_A : BOOK_B;
			pf_rule_error err;
			if (pf_rules_load(db, "stress.rules", b, strlen(b), &err))
				_exit(7);
		}
	}
	pf_close(db);
	close(fd);
	_exit(0);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(pf_id));
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: stress DIR PROCESSES SECONDS\n");
		return 2;
	}
	const char *dir = argv[1];
	int procs = atoi(argv[2]);
	double seconds = atof(argv[3]);
	if (procs < 1 || procs > PROCS_MAX)
		return fprintf(stderr, "stress: 1..%d processes\n", PROCS_MAX), 2;

	pf_db *db = NULL;
	if (pf_open(&db, dir, NULL))
		die("open");
	pf_rule_error err;
	if (pf_rules_load(db, "stress.rules", BOOK_A, strlen(BOOK_A), &err))
		die("rules");
	pf_observation obs = PF_OBSERVATION_INIT;
	obs.department = "front_desk";
	for (int i = 0; i < GUESTS; i++) {
		char name[32];
		snprintf(name, sizeof name, "Stress Guest %02d", i);
		pf_guest g = PF_GUEST_INIT;
		g.name = name;
		if (pf_guest_put(db, &g) || pf_pref_set(db, &g.id, "room.floor", "10", &obs) ||
		    pf_pref_set(db, &g.id, "amenity.flower", "lily", &obs))
			die("setup");
		guests[i] = g.id;
	}
	pf_close(db);

	pid_t kids[PROCS_MAX];
	for (int k = 0; k < procs; k++) {
		kids[k] = fork();
		if (kids[k] < 0)
			return perror("fork"), 1;
		if (kids[k] == 0)
			child(dir, k, seconds);
	}
	for (int k = 0; k < procs; k++) {
		int st = 0;
		waitpid(kids[k], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "stress: process %d failed (status %d)\n", k, st);
			return 1;
		}
	}

	/* Read every log: the prompts of each event, and the transitions. */
	static pf_id event_prompts[EVENTS][2];
	static int event_fired[EVENTS], event_n[EVENTS];
	size_t ncap = 1024, nacks = 0, ndone = 0, fires = 0, same_id_fires = 0;
	pf_id *acked = malloc(ncap * sizeof *acked), *done = malloc(ncap * sizeof *done);
	size_t acap = ncap, dcap = ncap;
	for (int k = 0; k < procs; k++) {
		char path[512];
		snprintf(path, sizeof path, "%s.log%d", dir, k);
		FILE *f = fopen(path, "rb");
		if (!f)
			return perror(path), 1;
		rec r;
		while (fread(&r, sizeof r, 1, f) == 1) {
			if (r.op == LOG_FIRE) {
				fires++;
				if (r.event >= EVENTS || r.nprompts != 2) {
					fprintf(stderr, "stress: event %u fired %u prompts, expected 2\n",
					        r.event, r.nprompts);
					return 1;
				}
				if (event_fired[r.event]) {
					same_id_fires++;
					if (memcmp(event_prompts[r.event], r.prompt, sizeof r.prompt) != 0) {
						fprintf(stderr, "stress: event ev-%u fired twice with "
						        "different prompts\n", r.event);
						return 1;
					}
				}
				event_fired[r.event] = 1;
				event_n[r.event] = r.nprompts;
				memcpy(event_prompts[r.event], r.prompt, sizeof r.prompt);
			} else if (r.op == LOG_ACK) {
				if (nacks == acap)
					acked = realloc(acked, (acap *= 2) * sizeof *acked);
				acked[nacks++] = r.prompt[0];
			} else if (r.op == LOG_DONE) {
				if (ndone == dcap)
					done = realloc(done, (dcap *= 2) * sizeof *done);
				done[ndone++] = r.prompt[0];
			}
		}
		fclose(f);
		unlink(path);
	}

	if (pf_open(&db, dir, NULL))
		die("reopen");
	size_t events = 0, want = 0;
	pf_id *fired_ids = malloc(EVENTS * 2 * sizeof *fired_ids);
	for (int e = 0; e < EVENTS; e++)
		if (event_fired[e]) {
			events++;
			for (int i = 0; i < event_n[e]; i++)
				fired_ids[want++] = event_prompts[e][i];
		}
	qsort(fired_ids, want, sizeof *fired_ids, id_cmp);

	/* The feeds hold exactly the fired prompts. */
	size_t stored = 0;
	static const char *const depts[] = { "front_desk", "housekeeping" };
	for (int d = 0; d < 2; d++) {
		pf_prompt_list *l = NULL;
		if (pf_prompts_since(&l, db, depts[d], 0))
			die("feed");
		for (size_t i = 0; i < l->count; i++) {
			if (!bsearch(&l->items[i].id, fired_ids, want, sizeof *fired_ids, id_cmp)) {
				fprintf(stderr, "stress: a stored prompt of %s was never returned by a "
				        "fire (duplicate)\n", l->items[i].event_id);
				return 1;
			}
		}
		stored += l->count;
		pf_prompt_list_free(l);
	}
	if (stored != want) {
		fprintf(stderr, "stress: %zu prompts fired, %zu stored\n", want, stored);
		return 1;
	}
	/* Every transition that succeeded is stored. */
	for (size_t i = 0; i < nacks + ndone; i++) {
		const pf_id *id = i < nacks ? &acked[i] : &done[i - nacks];
		pf_prompt *p = NULL;
		if (pf_prompt_get(&p, db, id))
			die("prompt get");
		pf_prompt_status s = p->status;
		bool ok = i < nacks ? (s == PF_PROMPT_ACKNOWLEDGED || s == PF_PROMPT_DONE)
		                    : s == PF_PROMPT_DONE;
		pf_prompt_free(p);
		if (!ok) {
			fprintf(stderr, "stress: a %s prompt is stored as %s\n",
			        i < nacks ? "acknowledged" : "completed", pf_prompt_status_name(s));
			return 1;
		}
	}
	pf_verify_report *rep = NULL;
	if (pf_verify(&rep, db))
		die("verify");
	if (rep->count) {
		fprintf(stderr, "stress: pf_verify: %zu problems, first: %s %s\n", rep->count,
		        rep->items[0].database, rep->items[0].problem);
		return 1;
	}
	pf_verify_report_free(rep);
	pf_close(db);
	free(acked);
	free(done);
	free(fired_ids);
	printf("stress: %d processes for %.0f s on one database: %zu fires of %zu events "
	       "(%zu repeated an event id another fire had used), %zu prompts stored = fired, "
	       "%zu acknowledgements and %zu completions all stored, pf_verify clean\n",
	       procs, seconds, fires, events, same_id_fires, stored, nacks, ndone);
	return 0;
}
