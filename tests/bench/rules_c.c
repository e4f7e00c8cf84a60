/*
 * rules_c.c — the generated rule books' semantics in plain C, for the
 * SQLite baseline: what a competent developer would write over the rows
 * read from SQLite instead of using libprofile.
 *
 * Only the subset the generated books use: `pref CAT = V`, `pref CAT in
 * (...)`, `dislike CAT = V`, `need CAT`, `tier >=`, `stays >=`, `party >=`
 * joined by `and`; templates with {name}, {tier}, {room}, {party} and
 * {pref CAT}; a template naming something missing drops that prompt; the
 * default "Guest need (CAT): VALUE" front_desk prompt for every need no
 * prompting rule tested; consent gates likes and dislikes.  Rows are
 * mapped to category numbers once per guest through a small hash table
 * (a competent developer would not strcmp 200 rules against 10 rows).
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HSLOTS 128
static int cat_slot[HSLOTS];
static int cat_ready;

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void cat_init(void)
{
	for (int i = 0; i < HSLOTS; i++)
		cat_slot[i] = -1;
	for (int c = 0; c < bench_ncat; c++) {
		unsigned h = hash(bench_cats[c].name) % HSLOTS;
		while (cat_slot[h] >= 0)
			h = (h + 1) % HSLOTS;
		cat_slot[h] = c;
	}
	cat_ready = 1;
}

static int cat_of(const char *name)
{
	unsigned h = hash(name) % HSLOTS;
	while (cat_slot[h] >= 0) {
		if (!strcmp(bench_cats[cat_slot[h]].name, name))
			return cat_slot[h];
		h = (h + 1) % HSLOTS;
	}
	return -1;
}

int rules_c_prio(const char *p)
{
	return !strcmp(p, "low") ? 0 : !strcmp(p, "normal") ? 1 : !strcmp(p, "high") ? 2 : 3;
}

typedef struct {
	const char *val[64];
	int kind[64];
	int row[64];
} gview;

static int holds(const bench_test *t, const bench_row_guest *g, const gview *v, int party)
{
	switch (t->t) {
	case T_PREF_EQ:
	case T_PREF_IN:
	case T_DISLIKE_EQ: {
		int want = t->t == T_DISLIKE_EQ ? PF_DISLIKE : PF_LIKE;
		if (!(g->consent & PF_CONSENT_PROFILING) || v->kind[t->cat] != want)
			return 0;
		for (int k = 0; k < t->nv; k++)
			if (!strcasecmp(v->val[t->cat], t->v[k]))
				return 1;
		return 0;
	}
	case T_NEED:
		return v->kind[t->cat] == PF_NEED;
	case T_TIER_GE:
		return g->tier >= t->n;
	case T_STAYS_GE:
		return g->stays >= t->n;
	case T_PARTY_GE:
		return party >= t->n;
	}
	return 0;
}

/* Render `tmpl` into out; 0 if it names something missing. */
static int render(const char *tmpl, const bench_row_guest *g, const gview *v, const char *room,
                  int party, char *out, size_t cap)
{
	static const char *tiers[] = { "none", "silver", "gold", "platinum", "vip" };
	size_t n = 0;
	char num[16];
	for (const char *p = tmpl; *p;) {
		const char *add = NULL;
		size_t addn = 0;
		if (*p == '{') {
			const char *e = strchr(p, '}');
			size_t l = (size_t)(e - p - 1);
			const char *in = p + 1;
			if (l == 4 && !memcmp(in, "name", 4))
				add = g->name;
			else if (l == 4 && !memcmp(in, "tier", 4))
				add = tiers[g->tier];
			else if (l == 4 && !memcmp(in, "room", 4)) {
				if (!room || !*room)
					return 0;
				add = room;
			} else if (l == 5 && !memcmp(in, "party", 5)) {
				if (party <= 0)
					return 0;
				snprintf(num, sizeof num, "%d", party);
				add = num;
			} else if (l > 5 && !memcmp(in, "pref ", 5)) {
				char cat[PF_CATEGORY_MAX + 1];
				snprintf(cat, sizeof cat, "%.*s", (int)(l - 5), in + 5);
				int c = cat_of(cat);
				if (c < 0 || v->kind[c] < 0)
					return 0;
				if (v->kind[c] != PF_NEED && !(g->consent & PF_CONSENT_PROFILING))
					return 0;
				add = v->val[c];
			}
			addn = add ? strlen(add) : 0;
			p = e + 1;
		} else {
			add = p;
			addn = 1;
			p++;
		}
		if (n + addn >= cap)
			addn = cap - 1 - n;
		memcpy(out + n, add, addn);
		n += addn;
	}
	out[n] = '\0';
	return 1;
}

int rules_c_eval(const bench_book *b, const bench_row_guest *g, int check_in,
                 const char *room, int party, bench_prompt *out, int max)
{
	if (!cat_ready)
		cat_init();
	gview v;
	for (int c = 0; c < bench_ncat; c++)
		v.kind[c] = -1;
	for (int i = 0; i < g->np; i++) {
		int c = cat_of(g->cat[i]);
		if (c < 0)
			continue;
		v.val[c] = g->val[i];
		v.kind[c] = g->kind[i];
		v.row[c] = i;
	}
	int covered[64] = { 0 };
	int n = 0;
	for (size_t i = 0; i < b->n; i++) {
		const bench_rule *r = &b->r[i];
		if (!(check_in ? r->on_check_in : r->on_check_out))
			continue;
		int ok = 1;
		for (int k = 0; ok && k < r->ntest; k++)
			ok = holds(&r->test[k], g, &v, party);
		if (!ok)
			continue;
		int made = 0;
		for (int k = 0; k < r->nnotify && n < max; k++) {
			bench_prompt *p = &out[n];
			if (!render(r->notify[k].tmpl, g, &v, room, party, p->text, sizeof p->text))
				continue;
			snprintf(p->dept, sizeof p->dept, "%s", r->notify[k].dept);
			snprintf(p->rule, sizeof p->rule, "%s", r->name);
			p->prio = rules_c_prio(r->notify[k].prio);
			n++;
			made++;
		}
		if (made)
			for (int k = 0; k < r->ntest; k++)
				if (r->test[k].t == T_NEED && v.kind[r->test[k].cat] == PF_NEED)
					covered[v.row[r->test[k].cat]] = 1;
	}
	/* rows come ORDER BY category: default need prompts in that order */
	for (int i = 0; i < g->np && n < max; i++) {
		if (g->kind[i] != PF_NEED || covered[i])
			continue;
		bench_prompt *p = &out[n++];
		snprintf(p->dept, sizeof p->dept, "front_desk");
		snprintf(p->rule, sizeof p->rule, "need");
		p->prio = PF_PRIORITY_HIGH;
		snprintf(p->text, sizeof p->text, "Guest need (%s): %s", g->cat[i], g->val[i]);
	}
	return n;
}
