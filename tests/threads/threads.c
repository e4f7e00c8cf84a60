/*
 * threads.c — one pf_db shared by several threads, as a front-desk server
 * would share it: readers (get, find, preview, pending), two writers
 * (preferences and check-ins, acknowledging and completing prompts), a
 * thread reloading the rule book, and subscribers that come and go while
 * prompts are delivered.  Built plainly for `make check` and with
 * ThreadSanitizer for `make check-tsan`, where any data race fails the
 * run.
 *
 * What it checks besides "no race": every call returns 0; every prompt a
 * fire returned was delivered exactly once to the subscriber that was
 * registered for the whole run; the stored prompt count equals what the
 * fires returned; every prompt the acker completed is done; every
 * preview's prompts come from one rule book, also while the book is
 * reloaded back to back under previewing threads (the reload storm).
 *
 * Uses only the public API (include/libprofile.h) and pthreads; prints its
 * figures.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "libprofile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GUESTS   24
#define ROUNDS   300          /* per writer; `THREADS_ROUNDS` overrides */

static pf_db *db;
static pf_id guests[GUESTS];
static int rounds = ROUNDS;
static atomic_int failures;
static atomic_int stop_readers;
static atomic_long delivered, fired, previews, reads, reloads, acked;

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

#define CHECK(expr)                                                              \
	do {                                                                     \
		int rc_ = (expr);                                                \
		if (rc_ != 0) {                                                  \
			fprintf(stderr, "threads: %s = %d: %s\n", #expr, rc_, pf_errmsg()); \
			atomic_fetch_add(&failures, 1);                          \
		}                                                                \
	} while (0)

static void on_prompt(const pf_prompt *p, void *payload)
{
	(void)payload;
	if (p && p->text)
		atomic_fetch_add(&delivered, 1);
}

static void on_prompt_transient(const pf_prompt *p, void *payload)
{
	(void)p;
	(void)payload;
}

/* Which book each prompt text comes from (1: A, 2: B, 0: neither). */
static int book_of(const char *t)
{
	if (!strncmp(t, "Assign a room on floor ", 23) || !strncmp(t, "Place lily in room ", 19))
		return 1;
	if ((!strncmp(t, "Floor ", 6) && strstr(t, ", please")) ||
	    !strncmp(t, "Fresh lily for room ", 20))
		return 2;
	return 0;
}

/* A preview is computed from one book, the one its snapshot holds: a
 * prompt from neither book (a freed book's bytes) or prompts from both
 * (a book swapped mid-evaluation) fail. */
static void check_one_book(const pf_prompt_list *pl)
{
	int book = 0;
	for (size_t i = 0; pl && i < pl->count; i++) {
		int b = book_of(pl->items[i].text);
		if (b == 0 || (book && b != book)) {
			fprintf(stderr, "threads: preview prompt '%s' is not from %s\n",
			        pl->items[i].text, book ? "the book of the others" : "a book");
			atomic_fetch_add(&failures, 1);
		}
		book = b;
	}
	if (pl && pl->count == 0) {
		fprintf(stderr, "threads: a preview made no prompt (every guest has a flower)\n");
		atomic_fetch_add(&failures, 1);
	}
}

/* Previews racing a reloader that swaps the book as fast as it can. */
static atomic_int storm_stop;
static atomic_long storm_previews, storm_reloads;

static void *storm_preview(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (!atomic_load(&storm_stop)) {
		pf_event ev = PF_EVENT_INIT;
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = guests[rand_r(&seed) % GUESTS];
		ev.room = "101";
		pf_prompt_list *pl = NULL;
		CHECK(pf_preview(&pl, db, &ev));
		check_one_book(pl);
		pf_prompt_list_free(pl);
		atomic_fetch_add(&storm_previews, 1);
	}
	return NULL;
}

static void *storm_reload(void *arg)
{
	(void)arg;
	pf_rule_error err;
	for (int i = 0; i < rounds; i++) {
		const char *b = i % 2 ? BOOK_A : BOOK_B;
		CHECK(pf_rules_load(db, "storm.rules", b, strlen(b), &err));
		atomic_fetch_add(&storm_reloads, 1);
	}
	atomic_store(&storm_stop, 1);
	return NULL;
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (!atomic_load(&stop_readers)) {
		pf_id id = guests[rand_r(&seed) % GUESTS];
		pf_guest *g = NULL;
		CHECK(pf_guest_get(&g, db, &id));
		pf_guest_free(g);
		pf_guest_list *l = NULL;
		CHECK(pf_guest_find(&l, db, "guest"));
		pf_guest_list_free(l);
		pf_event ev = PF_EVENT_INIT;
		ev.id = "preview";
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = id;
		ev.room = "101";
		pf_prompt_list *pl = NULL;
		CHECK(pf_preview(&pl, db, &ev));
		check_one_book(pl);
		pf_prompt_list_free(pl);
		CHECK(pf_prompts_pending(&pl, db, "housekeeping"));
		pf_prompt_list_free(pl);
		atomic_fetch_add(&previews, 1);
		atomic_fetch_add(&reads, 3);
	}
	return NULL;
}

static void *writer(void *arg)
{
	int w = (int)(intptr_t)arg;
	pf_observation obs = PF_OBSERVATION_INIT;
	obs.department = "housekeeping";
	for (int i = 0; i < rounds; i++) {
		pf_id id = guests[(i * 7 + w) % GUESTS];
		char v[16], evid[48];
		snprintf(v, sizeof v, "%d", 2 + i % 20);
		CHECK(pf_pref_set(db, &id, "room.floor", v, &obs));
		snprintf(evid, sizeof evid, "w%d-ev%d", w, i);
		pf_event ev = PF_EVENT_INIT;
		ev.id = evid;
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = id;
		ev.room = "101";
		pf_prompt_list *pl = NULL;
		CHECK(pf_fire(&pl, db, &ev));
		if (pl)
			atomic_fetch_add(&fired, (long)pl->count);
		pf_prompt_list_free(pl);
	}
	return NULL;
}

static void *acker(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_readers)) {
		pf_prompt_list *pl = NULL;
		CHECK(pf_prompts_pending(&pl, db, "front_desk"));
		for (size_t i = 0; pl && i < pl->count && i < 5; i++) {
			CHECK(pf_prompt_ack(db, &pl->items[i].id, "lina"));
			CHECK(pf_prompt_done(db, &pl->items[i].id, "lina"));
			atomic_fetch_add(&acked, 1);
		}
		pf_prompt_list_free(pl);
		usleep(1000);
	}
	return NULL;
}

static void *reloader(void *arg)
{
	(void)arg;
	pf_rule_error err;
	for (int i = 0; !atomic_load(&stop_readers); i++) {
		const char *b = i % 2 ? BOOK_A : BOOK_B;
		CHECK(pf_rules_load(db, "threads.rules", b, strlen(b), &err));
		CHECK(pf_subscribe(db, "housekeeping", on_prompt_transient, NULL));
		usleep(2000);
		CHECK(pf_unsubscribe(db, "housekeeping", on_prompt_transient, NULL));
		atomic_fetch_add(&reloads, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/pf-threads-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	if (argc > 1)
		rounds = atoi(argv[1]);
	const char *r = getenv("THREADS_ROUNDS");
	if (r)
		rounds = atoi(r);

	CHECK(pf_open(&db, dir, NULL));
	if (!db)
		return 2;
	pf_rule_error err;
	CHECK(pf_rules_load(db, "threads.rules", BOOK_A, strlen(BOOK_A), &err));
	pf_observation obs = PF_OBSERVATION_INIT;
	obs.department = "housekeeping";
	for (int i = 0; i < GUESTS; i++) {
		char name[32];
		snprintf(name, sizeof name, "Guest %02d", i);
		pf_guest g = PF_GUEST_INIT;
		g.name = name;
		CHECK(pf_guest_put(db, &g));
		guests[i] = g.id;
		CHECK(pf_pref_set(db, &g.id, "amenity.flower", "lily", &obs));
	}
	CHECK(pf_subscribe(db, NULL, on_prompt, NULL));

	pthread_t rd[3], wr[2], ak, rl;
	for (int i = 0; i < 3; i++)
		pthread_create(&rd[i], NULL, reader, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_create(&wr[i], NULL, writer, (void *)(intptr_t)i);
	pthread_create(&ak, NULL, acker, NULL);
	pthread_create(&rl, NULL, reloader, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(wr[i], NULL);
	atomic_store(&stop_readers, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(rd[i], NULL);
	pthread_join(ak, NULL);
	pthread_join(rl, NULL);

	/* Every prompt fired was delivered once to the long subscriber, and
	 * the stored feeds hold exactly the prompts the fires returned. */
	long stored = 0, done = 0;
	const char *depts[] = { "front_desk", "housekeeping" };
	for (int d = 0; d < 2; d++) {
		pf_prompt_list *pl = NULL;
		CHECK(pf_prompts_since(&pl, db, depts[d], 0));
		if (pl)
			stored += (long)pl->count;
		for (size_t i = 0; pl && i < pl->count; i++)
			done += pl->items[i].status == PF_PROMPT_DONE;
		pf_prompt_list_free(pl);
	}

	/* The reload storm: books swapped back to back under two previewing
	 * threads (the cached book is reference counted, evaluated outside
	 * any lock). */
	pthread_t sp[2], sr;
	for (int i = 0; i < 2; i++)
		pthread_create(&sp[i], NULL, storm_preview, (void *)(uintptr_t)(i + 7));
	pthread_create(&sr, NULL, storm_reload, NULL);
	pthread_join(sr, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(sp[i], NULL);

	int bad = atomic_load(&failures);
	if (done != atomic_load(&acked)) {
		fprintf(stderr, "threads: %ld prompts completed, %ld stored as done\n",
		        atomic_load(&acked), done);
		bad++;
	}
	if (atomic_load(&delivered) != atomic_load(&fired)) {
		fprintf(stderr, "threads: %ld prompts fired, %ld delivered\n",
		        atomic_load(&fired), atomic_load(&delivered));
		bad++;
	}
	if (stored != atomic_load(&fired)) {
		fprintf(stderr, "threads: %ld prompts fired, %ld stored\n", atomic_load(&fired),
		        stored);
		bad++;
	}
	pf_close(db);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "threads: could not remove %s\n", dir);

	printf("threads: 3 readers, 2 writers, 1 acker, 1 rule reloader on one pf_db: "
	       "%ld prompts fired and delivered, %ld stored, %ld acked+done, %ld reads, "
	       "%ld previews, %ld reloads; %d failures\n",
	       atomic_load(&fired), stored, atomic_load(&acked), atomic_load(&reads),
	       atomic_load(&previews), atomic_load(&reloads), bad);
	printf("threads: reload storm: %ld previews during %ld back-to-back reloads\n",
	       atomic_load(&storm_previews), atomic_load(&storm_reloads));
	return bad ? 1 : 0;
}
