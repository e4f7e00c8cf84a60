/*
 * gen.c — the generated population and rule books of `make bench`.
 *
 * Owns: guest i of the population as a pure function of (BENCH_SEED, i)
 * (so the kiosk child and the baseline regenerate the same guests without
 * storing them), its 0-5 stays, the JSON Lines and CSV files given to
 * pf_import_*, and the 100-, 200- and 10,000-rule books as both text (for
 * pf_rules_load) and structs (for the baseline's C evaluator).
 */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Like categories first, need categories last. */
const bench_cat bench_cats[] = {
	{ "amenity.flower", { "lily", "rose", "orchid", "tulip", "none" }, 5, 0 },
	{ "amenity.newspaper", { "scmp", "macau_daily", "ft", "nyt", "le_monde" }, 5, 0 },
	{ "amenity.pillow", { "feather", "foam", "buckwheat", "memory" }, 4, 0 },
	{ "amenity.toiletries", { "standard", "hypoallergenic", "premium" }, 3, 0 },
	{ "drink.coffee", { "espresso", "latte", "americano", "flat_white", "decaf" }, 5, 0 },
	{ "drink.minibar", { "soft", "wine", "beer", "spirits", "empty" }, 5, 0 },
	{ "drink.tea", { "jasmine", "oolong", "pu_erh", "earl_grey", "green" }, 5, 0 },
	{ "food.breakfast", { "continental", "english", "chinese", "buffet", "in_room" }, 5, 0 },
	{ "food.cuisine", { "cantonese", "portuguese", "italian", "japanese", "french",
	                    "thai", "indian", "vegan" }, 8, 0 },
	{ "food.diet", { "vegetarian", "halal", "kosher", "low_salt", "keto" }, 5, 0 },
	{ "room.bed", { "king", "queen", "twin", "double" }, 4, 0 },
	{ "room.floor", { "3", "8", "12", "18", "25", "30" }, 6, 0 },
	{ "room.location", { "near_lift", "far_from_lift", "corner", "quiet_wing" }, 4, 0 },
	{ "room.smoking", { "non_smoking", "smoking" }, 2, 0 },
	{ "room.temperature", { "19", "21", "23", "25" }, 4, 0 },
	{ "room.view", { "sea", "city", "garden", "pool", "mountain" }, 5, 0 },
	{ "service.housekeeping", { "morning", "afternoon", "evening", "do_not_disturb" }, 4, 0 },
	{ "service.turndown", { "evening", "late", "none" }, 3, 0 },
	{ "service.wakeup", { "0600", "0630", "0700", "0800" }, 4, 0 },
	{ "spa.treatment", { "massage", "facial", "sauna", "reflexology" }, 4, 0 },
	{ "sport.gym", { "morning", "evening", "trainer" }, 3, 0 },
	{ "transport.airport", { "limousine", "shuttle", "ferry", "taxi" }, 4, 0 },
	{ "transport.car", { "sedan", "van", "electric" }, 3, 0 },
	{ "entertainment.casino", { "vip_room", "slots", "tables" }, 3, 0 },
	{ "allergy.peanuts", { "severe", "mild" }, 2, 1 },
	{ "allergy.shellfish", { "severe", "mild" }, 2, 1 },
	{ "allergy.gluten", { "coeliac", "intolerant" }, 2, 1 },
	{ "access.mobility", { "wheelchair", "walking_frame", "step_free" }, 3, 1 },
	{ "access.hearing", { "hard_of_hearing", "deaf" }, 2, 1 },
};
const int bench_ncat = (int)(sizeof bench_cats / sizeof bench_cats[0]);
#define NLIKE 24

static const char *first_names[] = {
	"Wei", "Ana", "John", "Maria", "Chen", "Luis", "Sofia", "Hiro", "Emma", "Rui",
	"Joao", "Mei", "Paul", "Ines", "Kenji", "Laura", "Tomas", "Yuki", "David", "Clara",
	"Ming", "Pedro", "Sarah", "Li", "Marco", "Julia", "Omar", "Nadia", "Felix", "Ivy",
	"Hugo", "Rosa", "Ka", "Elena", "Sam", "Lena", "Tiago", "Mia", "Arjun", "Zoe",
};
static const char *last_names[] = {
	"Wong", "Silva", "Smith", "Chan", "Santos", "Lee", "Ferreira", "Tanaka", "Brown", "Costa",
	"Leung", "Garcia", "Muller", "Ho", "Pereira", "Sato", "Martin", "Lam", "Rossi", "Cheung",
	"Oliveira", "Kim", "Dubois", "Ng", "Lopez", "Yamamoto", "Schmidt", "Lau", "Moreau", "Tang",
	"Almeida", "Park", "Fischer", "Chow", "Ribeiro", "Suzuki", "Bernard", "Kwok", "Romano", "Fung",
	"Carvalho", "Choi", "Weber", "Yip", "Gomes", "Watanabe", "Petit", "Mak", "Ricci", "Tse",
	"Sousa", "Nakamura", "Wagner", "Cheng", "Martins", "Kobayashi", "Durand", "Poon", "Greco", "Kwan",
};
static const char *languages[] = { "zh", "zh-TW", "en", "pt", "pt-BR", "ja", "ko", "fr", "de", "es" };
static const char *countries[] = { "MAC", "HKG", "CHN", "TWN", "PRT", "BRA", "GBR", "USA",
                                   "JPN", "KOR", "FRA", "DEU", "ESP", "SGP", "AUS" };

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

uint64_t bench_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int cmp_pref(const void *a, const void *b)
{
	const bench_pref *x = a, *y = b;
	return strcmp(bench_cats[x->cat].name, bench_cats[y->cat].name);
}

void gen_guest(uint64_t i, bench_guest *g)
{
	uint64_t s = ((uint64_t)BENCH_SEED << 32) ^ (i * 0x2545f4914f6cdd1dull);
	memset(g, 0, sizeof *g);
	g->idx = i;
	for (int k = 0; k < 16; k += 8) {
		uint64_t r = bench_rand(&s);
		memcpy(g->id.b + k, &r, 8);
	}
	g->id.b[6] = (unsigned char)((g->id.b[6] & 0x0f) | 0x40);
	g->id.b[8] = (unsigned char)((g->id.b[8] & 0x3f) | 0x80);
	const char *fn = first_names[bench_rand(&s) % NELEM(first_names)];
	const char *ln = last_names[bench_rand(&s) % NELEM(last_names)];
	snprintf(g->name, sizeof g->name, "%s %s", fn, ln);
	snprintf(g->email, sizeof g->email, "%s.%s.%llu@example.com", fn, ln,
	         (unsigned long long)i);
	for (char *p = g->email; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(g->phone, sizeof g->phone, "+853 6%07llu", (unsigned long long)(i % 10000000));
	g->language = languages[bench_rand(&s) % NELEM(languages)];
	g->country = countries[bench_rand(&s) % NELEM(countries)];
	unsigned t = (unsigned)(bench_rand(&s) % 100);
	g->tier = t < 50 ? PF_TIER_NONE : t < 75 ? PF_TIER_SILVER : t < 90 ? PF_TIER_GOLD
	        : t < 97 ? PF_TIER_PLATINUM : PF_TIER_VIP;
	/* 10 preferences: likes from distinct like categories; 35 % of guests
	 * have one need instead of the tenth like; 15 % one dislike. */
	int used[NLIKE] = { 0 };
	int nlikes = BENCH_PREFS;
	if (bench_rand(&s) % 100 < 35) {
		nlikes--;
		int c = NLIKE + (int)(bench_rand(&s) % (uint64_t)(bench_ncat - NLIKE));
		g->pref[g->npref].cat = (uint8_t)c;
		g->pref[g->npref].val = (uint8_t)(bench_rand(&s) % (uint64_t)bench_cats[c].nval);
		g->pref[g->npref].kind = PF_NEED;
		g->npref++;
	}
	for (int k = 0; k < nlikes; k++) {
		int c;
		do
			c = (int)(bench_rand(&s) % NLIKE);
		while (used[c]);
		used[c] = 1;
		g->pref[g->npref].cat = (uint8_t)c;
		g->pref[g->npref].val = (uint8_t)(bench_rand(&s) % (uint64_t)bench_cats[c].nval);
		g->pref[g->npref].kind = PF_LIKE;
		g->npref++;
	}
	if (bench_rand(&s) % 100 < 15)
		g->pref[g->npref - 1].kind = PF_DISLIKE;
	qsort(g->pref, (size_t)g->npref, sizeof g->pref[0], cmp_pref);
	g->nstays = (int)(bench_rand(&s) % 6);
}

static pf_date add_days(pf_date d, int days)
{
	int y = d / 10000, m = d / 100 % 100, dd = d % 100;
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	dd += days;
	for (;;) {
		int ml = mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 || y % 400 == 0));
		if (dd <= ml)
			break;
		dd -= ml;
		if (++m > 12) {
			m = 1;
			y++;
		}
	}
	return y * 10000 + m * 100 + dd;
}

void gen_stay(const bench_guest *g, int k, pf_date *arrival, pf_date *departure)
{
	/* Stays 60 days apart from a per-guest start in 2022-2023. */
	int start = (int)(g->idx * 7919 % 300);
	*arrival = add_days(20220101, start + 60 * k);
	*departure = add_days(*arrival, 1 + (int)((g->idx + (uint64_t)k) % 5));
}

static const char *tier_word(pf_tier t)
{
	return pf_tier_name(t);
}

static void pref_cell(char *buf, size_t sz, const bench_pref *p)
{
	const char *v = bench_cats[p->cat].vals[p->val];
	snprintf(buf, sz, "%s%s", p->kind == PF_NEED ? "need:" : p->kind == PF_DISLIKE ? "dislike:" : "", v);
}

int gen_write_jsonl(const char *path, uint64_t n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	bench_guest g;
	char id[PF_ID_STRLEN + 1], cell[128];
	for (uint64_t i = 0; i < n; i++) {
		gen_guest(i, &g);
		pf_id_format(id, &g.id);
		fprintf(f, "{\"id\":\"%s\",\"external_id\":\"PMS%08llu\",\"name\":\"%s\",\"email\":\"%s\","
		        "\"phone\":\"%s\",\"language\":\"%s\",\"country\":\"%s\",\"tier\":\"%s\",\"prefs\":{",
		        id, (unsigned long long)i, g.name, g.email, g.phone, g.language, g.country,
		        tier_word(g.tier));
		for (int k = 0; k < g.npref; k++) {
			pref_cell(cell, sizeof cell, &g.pref[k]);
			fprintf(f, "%s\"%s\":\"%s\"", k ? "," : "", bench_cats[g.pref[k].cat].name, cell);
		}
		fputs("}}\n", f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

int gen_write_csv(const char *path, uint64_t n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("id,external_id,name,email,phone,language,country,tier", f);
	for (int c = 0; c < bench_ncat; c++)
		fprintf(f, ",pref:%s", bench_cats[c].name);
	fputc('\n', f);
	bench_guest g;
	char id[PF_ID_STRLEN + 1], cell[128];
	for (uint64_t i = 0; i < n; i++) {
		gen_guest(i, &g);
		pf_id_format(id, &g.id);
		fprintf(f, "%s,PMS%08llu,%s,%s,%s,%s,%s,%s", id, (unsigned long long)i, g.name,
		        g.email, g.phone, g.language, g.country, tier_word(g.tier));
		int k = 0;
		for (int c = 0; c < bench_ncat; c++) {
			fputc(',', f);
			/* g.pref is sorted by name; bench_cats is not: look it up. */
			for (k = 0; k < g.npref; k++)
				if (g.pref[k].cat == c)
					break;
			if (k < g.npref) {
				pref_cell(cell, sizeof cell, &g.pref[k]);
				fputs(cell, f);
			}
		}
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- rule books ------------------------------------------------------ */

static const char *dept_of(const char *cat)
{
	if (!strncmp(cat, "food.", 5) || !strncmp(cat, "drink.", 6) || !strncmp(cat, "allergy.", 8))
		return "restaurant";
	if (!strncmp(cat, "amenity.", 8) || !strncmp(cat, "service.", 8))
		return "housekeeping";
	if (!strncmp(cat, "spa.", 4) || !strncmp(cat, "sport.", 6))
		return "spa";
	if (!strncmp(cat, "transport.", 10) || !strncmp(cat, "entertainment.", 14))
		return "concierge";
	return "front_desk";
}

static bench_rule *push(bench_book *b, size_t *cap)
{
	if (b->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		b->r = realloc(b->r, *cap * sizeof *b->r);
		if (!b->r) {
			fputs("bench: out of memory\n", stderr);
			exit(1);
		}
	}
	bench_rule *r = &b->r[b->n++];
	memset(r, 0, sizeof *r);
	r->on_check_in = 1;
	return r;
}

static void rname(bench_rule *r, int c, const char *what)
{
	snprintf(r->name, sizeof r->name, "%s-%s", bench_cats[c].name, what);
	for (char *p = r->name; *p; p++)
		if (*p == '.')
			*p = '_';
}

__attribute__((format(printf, 4, 5)))
static void notify(bench_rule *r, const char *dept, const char *prio, const char *fmt, ...)
{
	bench_notify *nt = &r->notify[r->nnotify++];
	nt->dept = dept;
	nt->prio = prio;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(nt->tmpl, sizeof nt->tmpl, fmt, ap);
	va_end(ap);
}

static bench_test *test(bench_rule *r, bench_test_kind t, int cat)
{
	bench_test *x = &r->test[r->ntest++];
	x->t = t;
	x->cat = cat;
	return x;
}

/* The 8 rules of like category c. */
static void cat_rules(bench_book *b, size_t *cap, int c)
{
	const bench_cat *k = &bench_cats[c];
	const char *d = dept_of(k->name);
	bench_rule *r;
	bench_test *t;
	for (int v = 0; v < 2; v++) {
		r = push(b, cap);
		rname(r, c, v ? "eq1" : "eq0");
		t = test(r, T_PREF_EQ, c);
		t->v[0] = k->vals[v];
		t->nv = 1;
		if (v == 1)
			test(r, T_TIER_GE, -1)->n = PF_TIER_GOLD;
		notify(r, d, "normal", "{name} prefers %s: {pref %s}", k->name, k->name);
		if (v == 0)
			notify(r, "housekeeping", "low", "Room {room}: guest likes {pref %s}%s", k->name, "");
	}
	r = push(b, cap);
	rname(r, c, "in-gold");
	r->on_check_out = 0;
	t = test(r, T_PREF_IN, c);
	t->v[0] = k->vals[2 % k->nval];
	t->v[1] = k->vals[3 % k->nval];
	t->nv = 2;
	t = test(r, T_TIER_GE, -1);
	t->n = PF_TIER_GOLD;
	notify(r, d, "high", "{name} ({tier}) expects %s {pref %s}", k->name, k->name);
	r = push(b, cap);
	rname(r, c, "regular");
	t = test(r, T_PREF_EQ, c);
	t->v[0] = k->vals[2 % k->nval];
	t->nv = 1;
	t = test(r, T_STAYS_GE, -1);
	t->n = 3;
	notify(r, d, "normal", "Returning guest {name}: %s {pref %s} as before", k->name, k->name);
	r = push(b, cap);
	rname(r, c, "dislike");
	t = test(r, T_DISLIKE_EQ, c);
	t->v[0] = k->vals[1];
	t->nv = 1;
	notify(r, d, "normal", "{name} dislikes %s {pref %s}: avoid it", k->name, k->name);
	r = push(b, cap);
	rname(r, c, "pair");
	int c2 = (c + 7) % NLIKE;
	t = test(r, T_PREF_EQ, c);
	t->v[0] = k->vals[0];
	t->nv = 1;
	t = test(r, T_PREF_EQ, c2);
	t->v[0] = bench_cats[c2].vals[0];
	t->nv = 1;
	notify(r, "concierge", "low", "{name}: {pref %s} and {pref %s}", k->name, bench_cats[c2].name);
	r = push(b, cap);
	rname(r, c, "party");
	t = test(r, T_PREF_EQ, c);
	t->v[0] = k->vals[k->nval - 1];
	t->nv = 1;
	t = test(r, T_PARTY_GE, -1);
	t->n = 4;
	notify(r, d, "normal", "Party of {party}: %s {pref %s} for all", k->name, k->name);
	r = push(b, cap);
	rname(r, c, "platinum");
	t = test(r, T_TIER_GE, -1);
	t->n = PF_TIER_PLATINUM;
	t = test(r, T_PREF_EQ, c);
	t->v[0] = k->vals[3 % k->nval];
	t->nv = 1;
	notify(r, "management", "high", "Platinum {name}: %s {pref %s}", k->name, k->name);
}

static void need_rules(bench_book *b, size_t *cap)
{
	/* access.hearing has no rule: its needs get the default prompt. */
	for (int c = NLIKE; c < bench_ncat - 1; c++) {
		bench_rule *r = push(b, cap);
		rname(r, c, "need");
		r->on_check_out = 1;
		test(r, T_NEED, c);
		notify(r, dept_of(bench_cats[c].name), "urgent", "Need %s for {name}: {pref %s}",
		       bench_cats[c].name, bench_cats[c].name);
	}
}

void gen_book(bench_book *b, int kind)
{
	size_t cap = 0;
	memset(b, 0, sizeof *b);
	int ncat = kind == 200 ? NLIKE : 12;
	for (int c = 0; c < ncat; c++)
		cat_rules(b, &cap, c);
	need_rules(b, &cap);
	if (kind == 200) {
		bench_rule *r = push(b, &cap);
		snprintf(r->name, sizeof r->name, "vip-welcome");
		test(r, T_TIER_GE, -1)->n = PF_TIER_VIP;
		notify(r, "management", "high", "VIP {name} arriving in room {room}%s%s", "", "");
		r = push(b, &cap);
		snprintf(r->name, sizeof r->name, "loyal-welcome");
		test(r, T_STAYS_GE, -1)->n = 3;
		notify(r, "front_desk", "normal", "Welcome back {name}%s%s", "", "");
		r = push(b, &cap);
		snprintf(r->name, sizeof r->name, "family");
		test(r, T_PARTY_GE, -1)->n = 4;
		notify(r, "housekeeping", "normal", "Room {room}: extra towels for {party}%s%s", "", "");
		r = push(b, &cap);
		snprintf(r->name, sizeof r->name, "checkout-survey");
		r->on_check_in = 0;
		r->on_check_out = 1;
		notify(r, "guest_relations", "low", "Ask {name} about the stay%s%s", "", "");
	}
	/* kind 100: 12 categories * 8 + 4 need rules = 100 */
	if (kind == 10000) {
		for (int k = 0; b->n < 10000; k++) {
			int c = k % NLIKE;
			bench_rule *r = push(b, &cap);
			snprintf(r->name, sizeof r->name, "never-%d", k);
			bench_test *t = test(r, T_PREF_EQ, c);
			/* a value no guest has */
			static char vals[9900][16];
			snprintf(vals[k], sizeof vals[k], "zz%d", k % 10000);
			t->v[0] = vals[k];
			t->nv = 1;
			notify(r, dept_of(bench_cats[c].name), "low", "Never: {name} {pref %s}%s",
			       bench_cats[c].name, "");
		}
	}
}

void gen_book_free(bench_book *b)
{
	free(b->r);
	b->r = NULL;
	b->n = 0;
}

char *gen_book_text(const bench_book *b, size_t *len)
{
	size_t cap = b->n * 400 + 1024, n = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	static const char *tiers[] = { "none", "silver", "gold", "platinum", "vip" };
	for (size_t i = 0; i < b->n; i++) {
		const bench_rule *r = &b->r[i];
		n += (size_t)snprintf(s + n, cap - n, "rule %s\n  on %s%s%s\n", r->name,
		                      r->on_check_in ? "check_in" : "",
		                      r->on_check_in && r->on_check_out ? ", " : "",
		                      r->on_check_out ? "check_out" : "");
		for (int k = 0; k < r->ntest; k++) {
			const bench_test *t = &r->test[k];
			const char *cat = t->cat >= 0 ? bench_cats[t->cat].name : "";
			n += (size_t)snprintf(s + n, cap - n, "  %s ", k ? "and" : "when");
			switch (t->t) {
			case T_PREF_EQ:
				n += (size_t)snprintf(s + n, cap - n, "pref %s = %s\n", cat, t->v[0]);
				break;
			case T_PREF_IN:
				n += (size_t)snprintf(s + n, cap - n, "pref %s in (%s, %s)\n", cat, t->v[0], t->v[1]);
				break;
			case T_DISLIKE_EQ:
				n += (size_t)snprintf(s + n, cap - n, "dislike %s = %s\n", cat, t->v[0]);
				break;
			case T_NEED:
				n += (size_t)snprintf(s + n, cap - n, "need %s\n", cat);
				break;
			case T_TIER_GE:
				n += (size_t)snprintf(s + n, cap - n, "tier >= %s\n", tiers[t->n]);
				break;
			case T_STAYS_GE:
				n += (size_t)snprintf(s + n, cap - n, "stays >= %d\n", t->n);
				break;
			case T_PARTY_GE:
				n += (size_t)snprintf(s + n, cap - n, "party >= %d\n", t->n);
				break;
			}
		}
		for (int k = 0; k < r->nnotify; k++)
			n += (size_t)snprintf(s + n, cap - n, "  notify %s %s \"%s\"\n", r->notify[k].dept,
			                      r->notify[k].prio, r->notify[k].tmpl);
	}
	*len = n;
	return s;
}
