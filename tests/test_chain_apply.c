/* test_chain_apply.c — the change feed and the apply step of a hotel
 * chain without a network (pf_changes_read, pf_changes_apply, pf_digest):
 * a property's writes become changes; applying another property's
 * changes in any order, with duplicates, gives the same digest; the
 * conflict rules (per-field last writer, needs kept, counters summed,
 * erasure wins, merges travel). */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define NPROP 3

typedef struct prop {
	pf_db *db;
	char dir[256];
	pf_time clock;
} prop;

static prop P[NPROP + 2];
static const char *const NAMES[] = { "macau", "lisbon", "porto", "faro", "evora" };

static pf_time prop_clock(void *payload)
{
	return ((prop *)payload)->clock;
}

static void prop_open(int i, const char *name)
{
	pf_options o = PF_OPTIONS_INIT;
	o.clock = prop_clock;
	o.clock_payload = &P[i];
	o.property = name;
	o.timezone = "Asia/Macau";
	assert_ok(pf_open(&P[i].db, P[i].dir, &o));
}

static void props_setup(void)
{
	for (int i = 0; i < NPROP + 2; i++) {
		const char *tmp = getenv("TMPDIR");
		snprintf(P[i].dir, sizeof P[i].dir, "%s/pf-chain-XXXXXX", tmp ? tmp : "/tmp");
		cr_assert_not_null(mkdtemp(P[i].dir));
		P[i].clock = T0;
		P[i].db = NULL;
	}
	for (int i = 0; i < NPROP; i++)
		prop_open(i, NAMES[i]);
}

static void props_teardown(void)
{
	for (int i = 0; i < NPROP + 2; i++) {
		pf_close(P[i].db);
		P[i].db = NULL;
		rm_rf(P[i].dir);
	}
}

TestSuite(chain_apply, .init = props_setup, .fini = props_teardown, .timeout = 120);

/* Every change of `from` (after `after`) into a growing array. */
typedef struct bag {
	pf_change *c;
	size_t n, cap;
} bag;

static void bag_take(bag *b, pf_db *from, uint64_t after)
{
	pf_change_list *l = NULL;
	assert_ok(pf_changes_read(&l, from, after, PF_CHANGES_MAX));
	for (size_t i = 0; i < l->count; i++) {
		if (b->n == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 256;
			b->c = realloc(b->c, b->cap * sizeof *b->c);
			cr_assert_not_null(b->c);
		}
		unsigned char *d = malloc(l->items[i].len);
		memcpy(d, l->items[i].data, l->items[i].len);
		b->c[b->n++] = (pf_change){ l->items[i].seq, d, l->items[i].len };
	}
	pf_change_list_free(l);
}

static void bag_free(bag *b)
{
	for (size_t i = 0; i < b->n; i++)
		free((void *)b->c[i].data);
	free(b->c);
	memset(b, 0, sizeof *b);
}

static void apply_all(pf_db *db, const bag *b, pf_apply_report *rep)
{
	for (size_t i = 0; i < b->n; i += PF_CHANGES_MAX) {
		size_t n = b->n - i < PF_CHANGES_MAX ? b->n - i : PF_CHANGES_MAX;
		pf_apply_report r;
		assert_ok(pf_changes_apply(db, b->c + i, n, &r));
		if (rep) {
			rep->applied += r.applied;
			rep->duplicates += r.duplicates;
			rep->discarded += r.discarded;
			rep->refused += r.refused;
			rep->own += r.own;
			rep->waiting = r.waiting;
		}
	}
}

/* Every property's changes to every other one, until all are applied. */
static void sync_all(int n)
{
	bag b[NPROP + 2];
	memset(b, 0, sizeof b);
	for (int i = 0; i < n; i++)
		bag_take(&b[i], P[i].db, 0);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (i != j)
				apply_all(P[j].db, &b[i], NULL);
	for (int i = 0; i < n; i++)
		bag_free(&b[i]);
}

static void digest_of(pf_db *db, unsigned char d[PF_DIGEST_SIZE])
{
	assert_ok(pf_digest(d, db));
}

static void assert_same(int a, int b)
{
	unsigned char da[PF_DIGEST_SIZE], db_[PF_DIGEST_SIZE];
	digest_of(P[a].db, da);
	digest_of(P[b].db, db_);
	cr_assert(eq(int, memcmp(da, db_, PF_DIGEST_SIZE), 0), "%s and %s differ", NAMES[a],
	          NAMES[b]);
}

static pf_id guest_at(int i, const char *name, const char *email)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	assert_ok(pf_guest_put(P[i].db, &g));
	return g.id;
}

static void pref_at(int i, const pf_id *g, const char *cat, const char *val, pf_pref_kind k)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = k;
	o.department = "housekeeping";
	assert_ok(pf_pref_set(P[i].db, g, cat, val, &o));
}

static void field_at(int i, const pf_id *g, unsigned mask, const char *value)
{
	pf_guest f = PF_GUEST_INIT;
	f.name = f.email = f.phone = f.language = value;
	assert_ok(pf_guest_update(P[i].db, g, &f, mask));
}

/* ------------------------------------------------------------------ */

Test(chain_apply, a_write_becomes_a_change_and_travels)
{
	pf_id g = guest_at(0, "Chan Tai Man", "chan@example.mo");
	pref_at(0, &g, "flowers", "lily", PF_LIKE);
	uint64_t last = 0;
	assert_ok(pf_changes_last(&last, P[0].db));
	cr_assert(eq(u64, last, 2));
	pf_change_list *l = NULL;
	assert_ok(pf_changes_read(&l, P[0].db, 0, 10));
	cr_assert(eq(sz, l->count, 2));
	char origin[PF_PROPERTY_MAX + 1];
	uint64_t seq;
	assert_ok(pf_change_origin(origin, &seq, l->items[1].data, l->items[1].len));
	cr_assert_str_eq(origin, "macau");
	cr_assert(eq(u64, seq, 2));
	pf_apply_report r;
	assert_ok(pf_changes_apply(P[1].db, l->items, l->count, &r));
	cr_assert(eq(sz, r.applied, 2));
	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, P[1].db, &g));
	cr_assert_str_eq(got->name, "Chan Tai Man");
	cr_assert(eq(sz, got->pref_count, 1));
	cr_assert_str_eq(got->prefs[0].value, "lily");
	pf_guest_free(got);
	assert_same(0, 1);
	/* Lisbon applied but made nothing of its own. */
	assert_ok(pf_changes_last(&last, P[1].db));
	cr_assert(eq(u64, last, 0));
	/* Again: duplicates, no effect; back to Macau: its own. */
	assert_ok(pf_changes_apply(P[1].db, l->items, l->count, &r));
	cr_assert(eq(sz, r.duplicates, 2));
	cr_assert(eq(sz, r.applied, 0));
	assert_ok(pf_changes_apply(P[0].db, l->items, l->count, &r));
	cr_assert(eq(sz, r.own, 2));
	assert_ok(pf_chain_mark(&seq, P[1].db, "macau"));
	cr_assert(eq(u64, seq, 2));
	pf_change_list_free(l);
}

Test(chain_apply, a_change_waits_for_its_predecessors)
{
	pf_id g = guest_at(0, "Chan Tai Man", NULL);
	pref_at(0, &g, "flowers", "lily", PF_LIKE);
	pref_at(0, &g, "room.floor", "10", PF_LIKE);
	bag b = { 0 };
	bag_take(&b, P[0].db, 0);
	cr_assert(eq(sz, b.n, 3));
	pf_apply_report r;
	assert_ok(pf_changes_apply(P[1].db, &b.c[2], 1, &r));
	cr_assert(eq(sz, r.applied, 0));
	cr_assert(eq(sz, r.waiting, 1));
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, P[1].db, &g), PF_ENOTFOUND));
	assert_ok(pf_changes_apply(P[1].db, &b.c[0], 2, &r));
	cr_assert(eq(sz, r.applied, 3));
	cr_assert(eq(sz, r.waiting, 0));
	assert_same(0, 1);
	bag_free(&b);
}

Test(chain_apply, a_stamp_too_far_ahead_is_refused_until_the_clock_catches_up)
{
	P[0].clock += PF_CHAIN_AHEAD_MAX + 60;    /* Macau's clock is 16 minutes fast */
	pf_id g = guest_at(0, "Chan Tai Man", NULL);
	bag b = { 0 };
	bag_take(&b, P[0].db, 0);
	pf_apply_report r;
	assert_ok(pf_changes_apply(P[1].db, b.c, b.n, &r));
	cr_assert(eq(sz, r.refused, 1));
	cr_assert(eq(sz, r.applied, 0));
	cr_assert(eq(sz, r.waiting, 1));
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, P[1].db, &g), PF_ENOTFOUND));
	uint64_t mark = 9;
	assert_ok(pf_chain_mark(&mark, P[1].db, "macau"));
	cr_assert(eq(u64, mark, 0));
	/* Lisbon's clock catches up: the next apply (of anything) takes it. */
	P[1].clock += 120;
	assert_ok(pf_changes_apply(P[1].db, NULL, 0, &r));
	cr_assert(eq(sz, r.applied, 1));
	cr_assert(eq(sz, r.waiting, 0));
	assert_ok(pf_guest_get(&got, P[1].db, &g));
	pf_guest_free(got);
	bag_free(&b);
}

Test(chain_apply, edits_to_different_fields_both_survive)
{
	pf_id g = guest_at(0, "Chan Tai Man", "chan@example.mo");
	sync_all(2);
	P[0].clock += 60;
	P[1].clock += 120;
	field_at(0, &g, PF_GUEST_EMAIL, "new@example.mo");
	field_at(1, &g, PF_GUEST_PHONE, "+853 6123 4567");
	sync_all(2);
	assert_same(0, 1);
	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, P[1].db, &g));
	cr_assert_str_eq(got->email, "new@example.mo");
	cr_assert_str_eq(got->phone, "+853 6123 4567");
	pf_guest_free(got);
}

Test(chain_apply, the_same_field_goes_to_the_later_stamp)
{
	pf_id g = guest_at(0, "Chan Tai Man", "chan@example.mo");
	sync_all(2);
	P[0].clock += 300;          /* Macau's edit is later, though made first */
	field_at(0, &g, PF_GUEST_LANGUAGE, "zh");
	P[1].clock += 60;
	field_at(1, &g, PF_GUEST_LANGUAGE, "pt");
	sync_all(2);
	assert_same(0, 1);
	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, P[1].db, &g));
	cr_assert_str_eq(got->language, "zh");
	pf_guest_free(got);
}

Test(chain_apply, a_need_is_kept_over_a_concurrent_like)
{
	pf_id g = guest_at(0, "Chan Tai Man", NULL);
	sync_all(2);
	P[0].clock += 60;
	pref_at(0, &g, "diet", "no-peanuts", PF_NEED);
	P[1].clock += 600;          /* later, but made without knowing of the need */
	pref_at(1, &g, "diet", "sichuan", PF_LIKE);
	sync_all(2);
	assert_same(0, 1);
	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, P[1].db, &g));
	cr_assert(eq(sz, got->pref_count, 1));
	cr_assert(eq(int, got->prefs[0].kind, PF_NEED));
	cr_assert_str_eq(got->prefs[0].value, "no-peanuts");
	pf_guest_free(got);
}

Test(chain_apply, times_observed_are_summed_across_properties)
{
	pf_id g = guest_at(0, "Chan Tai Man", NULL);
	sync_all(2);
	pref_at(0, &g, "flowers", "lily", PF_LIKE);
	P[0].clock += 10;
	pref_at(0, &g, "flowers", "lily", PF_LIKE);
	P[1].clock += 20;
	pref_at(1, &g, "flowers", "lily", PF_LIKE);
	sync_all(2);
	assert_same(0, 1);
	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, P[0].db, &g));
	cr_assert(eq(u32, got->prefs[0].count, 3));
	pf_guest_free(got);
	/* Once more at Lisbon, after hearing of Macau's: four. */
	P[1].clock += 20;
	pref_at(1, &g, "flowers", "lily", PF_LIKE);
	sync_all(2);
	assert_ok(pf_guest_get(&got, P[0].db, &g));
	cr_assert(eq(u32, got->prefs[0].count, 4));
	pf_guest_free(got);
	assert_same(0, 1);
}

Test(chain_apply, an_erasure_wins_over_a_concurrent_update)
{
	pf_id g = guest_at(0, "Chan Tai Man", "chan@example.mo");
	pf_stay s = PF_STAY_INIT;
	s.guest = g;
	s.arrival = 20420;
	s.departure = 20423;
	assert_ok(pf_stay_add(P[0].db, &s));
	sync_all(3);
	P[1].clock += 3600;          /* Lisbon's update is later than the erasure */
	pref_at(1, &g, "flowers", "lily", PF_LIKE);
	field_at(1, &g, PF_GUEST_EMAIL, "other@example.mo");
	assert_ok(pf_guest_erase(P[0].db, &g));
	sync_all(3);
	for (int i = 0; i < 3; i++) {
		pf_guest *got = NULL;
		cr_assert(eq(int, pf_guest_get(&got, P[i].db, &g), PF_ENOTFOUND), "%s", NAMES[i]);
	}
	assert_same(0, 1);
	assert_same(0, 2);
	/* A late change to the erased guest is discarded. */
	P[1].clock += 10;
	bag b = { 0 };
	bag_take(&b, P[1].db, 0);
	pf_apply_report r;
	assert_ok(pf_changes_apply(P[2].db, b.c, b.n, &r));
	bag_free(&b);
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, P[2].db, &g), PF_ENOTFOUND));
}

Test(chain_apply, a_change_to_the_duplicate_lands_on_the_kept_profile)
{
	pf_id keep = guest_at(0, "Chan Tai Man", "chan@example.mo");
	pf_id dup = guest_at(0, "Tai Man Chan", "tmc@example.mo");
	sync_all(2);
	pf_id m;
	P[0].clock += 60;
	assert_ok(pf_guest_merge(&m, P[0].db, &keep, &dup));
	P[1].clock += 120;
	pref_at(1, &dup, "flowers", "lily", PF_LIKE);   /* Lisbon did not know yet */
	sync_all(2);
	assert_same(0, 1);
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, P[1].db, &dup), PF_ENOTFOUND));
	assert_ok(pf_guest_get(&got, P[1].db, &keep));
	int lily = 0;
	for (size_t i = 0; i < got->pref_count; i++)
		lily += strcmp(got->prefs[i].value, "lily") == 0;
	cr_assert(eq(int, lily, 1));
	pf_guest_free(got);
	/* The unmerge travels too. */
	P[0].clock += 60;
	assert_ok(pf_guest_unmerge(P[0].db, &m));
	sync_all(2);
	assert_same(0, 1);
	assert_ok(pf_guest_get(&got, P[1].db, &dup));
	pf_guest_free(got);
}

Test(chain_apply, a_not_duplicate_mark_travels)
{
	pf_id a = guest_at(0, "Chan Tai Man", "chan@example.mo");
	pf_id b = guest_at(0, "Chan Tai-man", "tm.chan@example.mo");
	sync_all(2);
	assert_ok(pf_guest_not_duplicate(P[1].db, &a, &b));
	unsigned char d0[PF_DIGEST_SIZE], d1[PF_DIGEST_SIZE];
	digest_of(P[0].db, d0);
	digest_of(P[1].db, d1);
	cr_assert(memcmp(d0, d1, sizeof d0) != 0, "the mark is in the digest");
	sync_all(2);
	assert_same(0, 1);
	pf_duplicate_list *l = NULL;
	assert_ok(pf_guest_duplicates(&l, P[0].db, &a));
	for (size_t i = 0; i < l->count; i++)
		cr_assert(memcmp(l->items[i].guest.b, b.b, sizeof b.b) != 0,
		          "Macau still suggests the pair Lisbon marked");
	pf_duplicate_list_free(l);
}

Test(chain_apply, a_database_without_a_name_refuses)
{
	pf_close(P[3].db);
	pf_options o = PF_OPTIONS_INIT;
	assert_ok(pf_open(&P[3].db, P[3].dir, &o));
	pf_change_list *l = NULL;
	cr_assert(eq(int, pf_changes_read(&l, P[3].db, 0, 10), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "no property name") != NULL, "%s", pf_errmsg());
	cr_assert(eq(int, pf_changes_apply(P[3].db, NULL, 0, NULL), PF_EINVAL));
	pf_change junk = { 1, (const unsigned char *)"junk", 4 };
	cr_assert(eq(int, pf_changes_apply(P[0].db, &junk, 1, NULL), PF_ECORRUPT));
	cr_assert(strstr(pf_errmsg(), "changes[0]") != NULL, "%s", pf_errmsg());
}

/* ------------------------------------------------------------------ */
/* Random sets of changes, applied in random orders with duplicates     */
/* ------------------------------------------------------------------ */

#define GUESTS 12
#ifndef SEED
#define SEED 0
#endif
#ifndef ROUNDS
#define ROUNDS 8
#endif

static uint64_t rnd_state;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rnd_state >> 33);
}

static const char *const CATS[] = { "flowers", "room.floor", "diet", "pillow" };
static const char *const VALS[] = { "lily", "10", "sichuan", "soft", "rose", "12" };

static pf_id merges[NPROP][64];
static size_t nmerges[NPROP];

static void random_ops(int i, pf_id *ids, size_t *nids, int ops)
{
	for (int k = 0; k < ops; k++) {
		P[i].clock += 1 + rnd() % 3;
		uint32_t op = rnd() % 11;
		if (*nids < 3 || op == 0) {
			char name[32];
			snprintf(name, sizeof name, "Guest %s %d", NAMES[i], k);
			ids[(*nids)++] = guest_at(i, name, NULL);
			if (*nids == GUESTS * 3)
				*nids = 3;
			continue;
		}
		pf_id *g = &ids[rnd() % *nids];
		pf_guest *got = NULL;
		if (pf_guest_get(&got, P[i].db, g) != 0)
			continue;         /* not here (yet, or any more) */
		pf_guest_free(got);
		int rc = 0;
		if (op <= 4) {
			pf_observation o = PF_OBSERVATION_INIT;
			o.kind = (pf_pref_kind)(rnd() % 3);
			o.department = "housekeeping";
			rc = pf_pref_set(P[i].db, g, CATS[rnd() % 4], VALS[rnd() % 6], &o);
		} else if (op <= 6) {
			pf_guest f = PF_GUEST_INIT;
			const char *v[] = { "a@example.mo", "b@example.mo", "zh", "pt" };
			f.email = v[rnd() % 2];
			f.language = v[2 + rnd() % 2];
			rc = pf_guest_update(P[i].db, g, &f, rnd() % 2 ? PF_GUEST_EMAIL
			                                            : PF_GUEST_LANGUAGE);
		} else if (op == 7) {
			pf_stay s = PF_STAY_INIT;
			s.guest = *g;
			s.arrival = 20400 + (pf_date)(rnd() % 20);
			s.departure = s.arrival + 2;
			s.property = NAMES[i];
			rc = pf_stay_add(P[i].db, &s);
		} else if (op == 8 || op == 10) {
			pf_feedback fb = PF_FEEDBACK_INIT;
			fb.guest = *g;
			fb.department = "housekeeping";
			fb.category = "room";
			fb.text = "towels";
			fb.recorded_by = "ana";
			rc = pf_feedback_add(P[i].db, &fb, NULL);
		} else if (rnd() % 4 == 0) {
			rc = pf_guest_erase(P[i].db, g);
		} else if (rnd() % 3 == 0 && nmerges[i]) {
			/* undo one of this property's merges */
			size_t k = rnd() % nmerges[i];
			rc = pf_guest_unmerge(P[i].db, &merges[i][k]);
			merges[i][k] = merges[i][--nmerges[i]];
			if (rc == PF_ENOTFOUND)
				rc = 0;
		} else if (rnd() % 3 == 0) {
			pf_id other = ids[rnd() % *nids];
			if (memcmp(other.b, g->b, sizeof other.b) != 0 &&
			    pf_guest_get(&got, P[i].db, &other) == 0) {
				pf_guest_free(got);
				rc = pf_guest_not_duplicate(P[i].db, g, &other);
			}
		} else if (rnd() % 2 == 0) {
			/* resolve a complaint of this guest */
			pf_feedback_list *l = NULL;
			if (pf_feedback_list_get(&l, P[i].db, g, NULL) == 0 && l->count)
				rc = pf_feedback_resolve(P[i].db, &l->items[rnd() % l->count].id, "ana",
				                         "new towels");
			pf_feedback_list_free(l);
		} else {
			pf_id other = ids[rnd() % *nids], m;
			if (memcmp(other.b, g->b, sizeof other.b) != 0 &&
			    pf_guest_get(&got, P[i].db, &other) == 0) {
				pf_guest_free(got);
				rc = pf_guest_merge(&m, P[i].db, g, &other);
				if (rc == 0 && nmerges[i] < 64)
					merges[i][nmerges[i]++] = m;
			}
		}
		cr_assert(rc == 0 || rc == PF_EINVAL || rc == PF_EEXIST, "op %u at %s: %s", op,
		          NAMES[i], pf_errmsg());
	}
}

static void shuffle(pf_change *c, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd() % i;
		pf_change t = c[i - 1];
		c[i - 1] = c[j];
		c[j] = t;
	}
}

Test(chain_apply, any_order_with_duplicates_gives_the_same_digest)
{
	for (int round = 0; round < ROUNDS; round++) {
		rnd_state = 0x9e3779b97f4a7c15ULL * (uint64_t)(round + 1 + SEED);
		pf_id ids[GUESTS * 3];
		size_t nids = 0;
		/* Clocks minutes apart (within PF_CHAIN_AHEAD_MAX of each other). */
		pf_time top = 0;
		for (int i = 0; i < 3; i++)
			top = P[i].clock > top ? P[i].clock : top;
		for (int i = 0; i < 3; i++)
			P[i].clock = top + 120 * i;
		/* Three properties, each working alone on guests the others
		 * created earlier (a first exchange), then apart. */
		random_ops(0, ids, &nids, 40);
		sync_all(3);
		for (int i = 0; i < 3; i++)
			random_ops(i, ids, &nids, 60);
		bag all = { 0 };
		for (int i = 0; i < 3; i++)
			bag_take(&all, P[i].db, 0);
		/* Two receivers that have none of it, each in its own order,
		 * with a third of the changes delivered twice. */
		unsigned char want[PF_DIGEST_SIZE] = { 0 };
		for (int r = 3; r < 5; r++) {
			prop_open(r, NAMES[r]);
			for (int i = 0; i < 3; i++)
				if (P[i].clock > P[r].clock)
					P[r].clock = P[i].clock;
			bag b = { 0 };
			for (size_t i = 0; i < all.n; i++) {
				int copies = rnd() % 3 == 0 ? 2 : 1;
				for (int c = 0; c < copies; c++) {
					if (b.n == b.cap) {
						b.cap = b.cap ? 2 * b.cap : 256;
						b.c = realloc(b.c, b.cap * sizeof *b.c);
					}
					b.c[b.n++] = all.c[i];
				}
			}
			shuffle(b.c, b.n);
			/* in small batches, so orders matter across transactions */
			for (size_t i = 0; i < b.n; i += 7) {
				size_t n = b.n - i < 7 ? b.n - i : 7;
				pf_apply_report rr;
				assert_ok(pf_changes_apply(P[r].db, b.c + i, n, &rr));
				if (i + 7 >= b.n)
					cr_assert(eq(sz, rr.waiting, 0), "round %d: changes left waiting", round);
			}
			free(b.c);
			unsigned char d[PF_DIGEST_SIZE];
			digest_of(P[r].db, d);
			if (r == 3)
				memcpy(want, d, sizeof d);
			else
				cr_assert(eq(int, memcmp(want, d, sizeof d), 0), "round %d: orders differ",
				          round);
		}
		/* And the properties themselves, once everything is exchanged. */
		sync_all(3);
		for (int i = 0; i < 3; i++) {
			unsigned char d[PF_DIGEST_SIZE];
			digest_of(P[i].db, d);
			cr_assert(eq(int, memcmp(want, d, sizeof d), 0), "round %d: %s differs", round,
			          NAMES[i]);
		}
		bag_free(&all);
		for (int r = 3; r < 5; r++) {
			pf_close(P[r].db);
			P[r].db = NULL;
			rm_rf(P[r].dir);
			cr_assert(eq(int, mkdir(P[r].dir, 0700), 0));
		}
	}
}
