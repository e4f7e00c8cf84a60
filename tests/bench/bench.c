/*
 * bench.c — `make bench`: how fast libprofile is on realistic profiles.
 *
 * Builds a population of guests from real bookings (tests/bench/data),
 * then times the calls a hotel makes most: creating profiles, recording
 * preferences, reading a profile, finding a guest, and firing a check-in
 * against examples/hotel.rules; finally shows that firing cost does not
 * grow with the size of the rule book.  Prints figures; asserts nothing
 * about speed (targets belong here, not in tests).
 *
 * Usage: bench [GUESTS]   (default 20000)
 */
#include "libprofile.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct booking {
	char country[8];
	char meal[16];
	int adults, children, babies, parking, requests;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bench: %s: %s: %s\n", what, pf_strerror(rc), pf_errmsg());
		exit(1);
	}
}

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s; (void)f; (void)w;
	return remove(p);
}

/* Columns of hotel_bookings.csv used here (0-based). */
enum { C_ADULTS = 9, C_CHILDREN, C_BABIES, C_MEAL, C_COUNTRY, C_PARKING = 27, C_REQUESTS };

static size_t load_bookings(const char *path, struct booking **out)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t n = 0, cap = 4096;
	struct booking *b = malloc(cap * sizeof *b);
	char line[1024];
	if (!fgets(line, sizeof line, f)) /* header */
		exit(1);
	while (b && fgets(line, sizeof line, f)) {
		if (n == cap)
			b = realloc(b, (cap *= 2) * sizeof *b);
		if (!b)
			break;
		struct booking *r = &b[n];
		memset(r, 0, sizeof *r);
		int col = 0;
		for (char *tok = line, *end; tok; tok = end ? end + 1 : NULL, col++) {
			end = strchr(tok, ',');
			if (end)
				*end = '\0';
			switch (col) {
			case C_ADULTS:   r->adults = atoi(tok); break;
			case C_CHILDREN: r->children = atoi(tok); break;
			case C_BABIES:   r->babies = atoi(tok); break;
			case C_MEAL:     snprintf(r->meal, sizeof r->meal, "%.15s", tok); break;
			case C_COUNTRY:  snprintf(r->country, sizeof r->country, "%.7s", tok); break;
			case C_PARKING:  r->parking = atoi(tok); break;
			case C_REQUESTS: r->requests = atoi(tok); break;
			}
		}
		n++;
	}
	fclose(f);
	if (!b) {
		fputs("bench: out of memory\n", stderr);
		exit(1);
	}
	*out = b;
	return n;
}

static const char *language_of(const char *country)
{
	static const struct { const char *c, *l; } map[] = {
		{ "PRT", "pt" }, { "BRA", "pt-BR" }, { "GBR", "en" }, { "USA", "en" },
		{ "IRL", "en" }, { "ESP", "es" }, { "FRA", "fr" }, { "DEU", "de" },
		{ "ITA", "it" }, { "CHN", "zh" }, { "NLD", "nl" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].c, country))
			return map[i].l;
	return "en";
}

static void observe(pf_db *db, const pf_id *g, const char *cat, const char *val,
                    pf_pref_kind kind, const char *dept)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = dept;
	check(pf_pref_set(db, g, cat, val, &o), "pf_pref_set");
}

static void report(const char *what, size_t n, double secs)
{
	printf("  %-44s %9zu ops  %9.1f us/op  %10.0f ops/s\n", what, n,
	       secs * 1e6 / (double)n, (double)n / secs);
}

static long rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Fire `n` check-ins for guests[0..n) against the stored book. */
static double fire_all(pf_db *db, const pf_id *guests, size_t n, const char *tag,
                       size_t *prompts)
{
	char id[64];
	*prompts = 0;
	double t = now_s();
	for (size_t i = 0; i < n; i++) {
		pf_event ev = PF_EVENT_INIT;
		snprintf(id, sizeof id, "%s-%zu", tag, i);
		ev.id = id;
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = guests[i];
		ev.room = "1012";
		ev.party = 2;
		pf_prompt_list *l = NULL;
		check(pf_fire(&l, db, &ev), "pf_fire");
		*prompts += l->count;
		pf_prompt_list_free(l);
	}
	return now_s() - t;
}

int main(int argc, char **argv)
{
	size_t nguests = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 20000;
	if (nguests < 1000)
		nguests = 1000;
	struct booking *bk;
	size_t nbk = load_bookings("tests/bench/data/hotel_bookings_4k.csv", &bk);

	char dir[] = "/tmp/pfbench-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	pf_options o = PF_OPTIONS_INIT;
	o.flags = PF_OPEN_NOMETASYNC; /* durability as a kiosk would run it */
	pf_db *db;
	check(pf_open(&db, dir, &o), "pf_open");
	printf("libprofile %s bench: %zu guests from %zu real bookings (cycled)\n",
	       pf_version(NULL, NULL, NULL), nguests, nbk);

	pf_id *ids = malloc(nguests * sizeof *ids);
	char name[64], email[64], phone[32];
	double t = now_s();
	for (size_t i = 0; i < nguests; i++) {
		const struct booking *b = &bk[i % nbk];
		pf_guest g = PF_GUEST_INIT;
		snprintf(name, sizeof name, "Guest %s %06zu", b->country, i);
		snprintf(email, sizeof email, "guest%06zu@example.com", i);
		snprintf(phone, sizeof phone, "+351 91%07zu", i);
		g.name = name;
		g.email = email;
		g.phone = phone;
		g.language = language_of(b->country);
		g.tier = (pf_tier)(i % 5);
		check(pf_guest_put(db, &g), "pf_guest_put");
		ids[i] = g.id;
	}
	report("pf_guest_put (create, 3 indexes)", nguests, now_s() - t);

	size_t nprefs = 0;
	t = now_s();
	for (size_t i = 0; i < nguests; i++) {
		const struct booking *b = &bk[i % nbk];
		const char *meal = !strcmp(b->meal, "HB") ? "half_board"
		                 : !strcmp(b->meal, "FB") ? "full_board" : "breakfast";
		observe(db, &ids[i], "dining.plan", meal, PF_LIKE, "restaurant");
		observe(db, &ids[i], "room.floor", (i & 1) ? "high" : "low", PF_LIKE, "front_desk");
		nprefs += 2;
		if (b->babies) {
			observe(db, &ids[i], "room.cot", "cot", PF_NEED, "front_desk");
			nprefs++;
		}
		if (b->parking) {
			observe(db, &ids[i], "parking.car", "space", PF_NEED, "front_desk");
			nprefs++;
		}
		if (b->requests > 1) {
			observe(db, &ids[i], "amenity.flower", "lily", PF_LIKE, "housekeeping");
			nprefs++;
		}
		if (i % 7 == 0) {
			observe(db, &ids[i], "dining.cuisine", "sichuan", PF_LIKE, "restaurant");
			nprefs++;
		}
	}
	report("pf_pref_set", nprefs, now_s() - t);

	size_t reads = nguests * 2;
	unsigned seed = 42;
	t = now_s();
	for (size_t i = 0; i < reads; i++) {
		pf_guest *g = NULL;
		check(pf_guest_get(&g, db, &ids[(size_t)rand_r(&seed) % nguests]), "pf_guest_get");
		pf_guest_free(g);
	}
	report("pf_guest_get (profile + preferences)", reads, now_s() - t);

	size_t finds = 5000;
	t = now_s();
	for (size_t i = 0; i < finds; i++) {
		snprintf(email, sizeof email, "GUEST%06zu@example.com",
		         (size_t)rand_r(&seed) % nguests);
		pf_guest_list *l = NULL;
		check(pf_guest_find(&l, db, email), "pf_guest_find");
		if (l->count != 1) {
			fprintf(stderr, "bench: find %s gave %zu\n", email, l->count);
			return 1;
		}
		pf_guest_list_free(l);
	}
	report("pf_guest_find (e-mail, case-folded)", finds, now_s() - t);

	t = now_s();
	for (size_t i = 0; i < finds; i++) {
		snprintf(name, sizeof name, "guest prt %06zu", (size_t)rand_r(&seed) % nguests);
		pf_guest_list *l = NULL;
		check(pf_guest_find(&l, db, name), "pf_guest_find");
		pf_guest_list_free(l);
	}
	report("pf_guest_find (name prefix)", finds, now_s() - t);

	pf_rule_error err;
	check(pf_rules_load_file(db, "examples/hotel.rules", &err), "pf_rules_load_file");
	pf_rule_list *rl = NULL;
	check(pf_rules_list(&rl, db), "pf_rules_list");
	size_t nrules = rl->count;
	pf_rule_list_free(rl);

	size_t nfire = nguests < 10000 ? nguests : 10000;
	size_t prompts;
	double secs = fire_all(db, ids, nfire, "chk", &prompts);
	char what[80];
	snprintf(what, sizeof what, "pf_fire check_in (%zu rules, %.1f prompts/ev)", nrules,
	         (double)prompts / (double)nfire);
	report(what, nfire, secs);

	t = now_s();
	for (size_t i = 0; i < nfire; i++) {
		pf_event ev = PF_EVENT_INIT;
		ev.kind = PF_EVENT_CHECK_IN;
		ev.guest = ids[i];
		ev.room = "1012";
		pf_prompt_list *l = NULL;
		check(pf_preview(&l, db, &ev), "pf_preview");
		pf_prompt_list_free(l);
	}
	report("pf_preview check_in (read-only)", nfire, now_s() - t);

	/* The same firing with 5,000 extra rules on categories these guests
	 * do not have: the index keeps the cost flat. */
	size_t cap = 5000 * 160 + 1;
	char *book = malloc(cap), *p = book;
	for (int i = 0; i < 5000; i++)
		p += snprintf(p, cap - (size_t)(p - book),
		              "rule extra-%d\n on check_in\n when pref extra.c%d\n"
		              " notify front_desk low \"extra {pref extra.c%d}\"\n", i, i, i);
	FILE *hr = fopen("examples/hotel.rules", "r");
	size_t hlen = hr ? fread(p, 1, cap - (size_t)(p - book) - 1, hr) : 0;
	if (hr)
		fclose(hr);
	p[hlen] = '\0';
	check(pf_rules_load(db, "big.rules", book, strlen(book), &err), "pf_rules_load big");
	secs = fire_all(db, ids, nfire, "big", &prompts);
	snprintf(what, sizeof what, "pf_fire check_in (%zu rules)", nrules + 5000);
	report(what, nfire, secs);
	free(book);

	long kib = rss_kib();
	printf("  peak resident memory: %.1f MiB\n", (double)kib / 1024.0);
	pf_close(db);
	char path[64];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	FILE *df = fopen(path, "rb");
	if (df) {
		fseek(df, 0, SEEK_END);
		printf("  data file: %.1f MiB for %zu guests\n", (double)ftell(df) / 1048576.0, nguests);
		fclose(df);
	}
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(ids);
	free(bk);
	return 0;
}
