/*
 * test_rules_index.c — the rule index by (category, value) and by
 * category (rules_compile.c, rules_eval.c): on random books and random
 * guests the index finds exactly the matches a scan of every rule finds,
 * values compare case-insensitively through it, and rules on values no
 * guest has cost nothing.  No database: rules never touch LMDB.
 */
#include "helpers.h"
#include "text.h"
#include "codec.h"
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rules_eval.c's test hooks. */
size_t pf_rules_test_eval_count(void);
void pf_rules_test_full_scan(bool on);

static pf_rulebook *rb;

static void fini(void)
{
	pf_rules_test_full_scan(false);
	pf_rulebook_free(rb);
	rb = NULL;
}

TestSuite(rules_valueidx, .fini = fini);

/* ---------------------------------------------------------------- helpers */

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const cats[] = { "room.floor", "room.view", "food.diet", "drink.tea",
                                    "allergy.nuts", "spa.oil" };
#define NCATS (sizeof cats / sizeof cats[0])
/* Spellings that differ only in ASCII case compare equal; "é" and "É" do
 * not (values compare ASCII case-insensitively). */
static const char *const vals[] = { "high", "HIGH", "High", "low", "sea", "Sea view",
                                    "sea view", "caf\xc3\xa9", "CAF\xc3\x89", "x" };
#define NVALS (sizeof vals / sizeof vals[0])

typedef struct buf {
	char *s;
	size_t n, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if ((size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		b->cap = b->cap * 2 + (size_t)k + 64;
		b->s = realloc(b->s, b->cap);
		cr_assert(b->s != NULL);
	}
}

/* A random condition, `depth` levels of and/or/not at most. */
static void cond(buf *b, int depth)
{
	unsigned k = rnd(depth > 0 ? 9 : 5);
	static const char *const pk[] = { "pref", "dislike", "need" };
	switch (k) {
	case 0: case 1: case 2:
		put(b, "%s %s", pk[rnd(3)], cats[rnd(NCATS)]);
		switch (rnd(3)) {
		case 0: break;
		case 1: put(b, " = \"%s\"", vals[rnd(NVALS)]); break;
		default: put(b, " in (\"%s\", \"%s\")", vals[rnd(NVALS)], vals[rnd(NVALS)]);
		}
		return;
	case 3:
		put(b, "tier >= gold");
		return;
	case 4:
		put(b, "stays %s %u", rnd(2) ? ">=" : "<", rnd(4));
		return;
	case 5:
		put(b, "not ");
		cond(b, depth - 1);
		return;
	default:
		put(b, "(");
		cond(b, depth - 1);
		put(b, k == 8 ? " or " : " and ");
		cond(b, depth - 1);
		if (rnd(2)) {
			put(b, k == 8 ? " or " : " and ");
			cond(b, depth - 1);
		}
		put(b, ")");
	}
}

static char *random_book(int nrules)
{
	static const char *const kinds[] = { "reservation", "check_in", "check_out",
	                                     "room_change" };
	buf b = { NULL, 0, 0 };
	for (int i = 0; i < nrules; i++) {
		put(&b, "rule r%d on %s", i, kinds[rnd(4)]);
		if (rnd(2))
			put(&b, ", %s", kinds[rnd(4)]);
		if (rnd(8)) {
			put(&b, " when ");
			cond(&b, 3);
		}
		/* {pref c} drops the prompt for a guest without c: the
		 * index must not change which prompts are dropped either. */
		put(&b, " notify front_desk low \"r%d {name}", i);
		if (!rnd(3))
			put(&b, " {pref %s}", cats[rnd(NCATS)]);
		put(&b, "\"\n");
	}
	return b.s;
}

typedef struct tguest {
	pf_guest_rec r;
	pf_pref prefs[NCATS];
} tguest;

static void random_guest(tguest *t)
{
	memset(t, 0, sizeof *t);
	t->r.g.name = "Zhuang Wei";
	t->r.g.consent = rnd(4) ? PF_CONSENT_PROFILING : 0;
	t->r.g.tier = (pf_tier)rnd(5);
	t->r.g.stays = rnd(5);
	t->r.g.prefs = t->prefs;
	t->r.prefs = t->prefs;
	/* Categories in table order are not sorted: pick, then sort. */
	for (size_t c = 0; c < NCATS; c++) {
		if (rnd(2))
			continue;
		pf_pref *p = &t->prefs[t->r.g.pref_count++];
		p->category = cats[c];
		p->value = vals[rnd(NVALS)];
		p->kind = (pf_pref_kind)rnd(3);
		p->department = "front_desk";
		p->count = 1;
	}
	for (size_t i = 1; i < t->r.g.pref_count; i++)
		for (size_t j = i; j > 0 && strcmp(t->prefs[j - 1].category,
		                                   t->prefs[j].category) > 0; j--) {
			pf_pref x = t->prefs[j];
			t->prefs[j] = t->prefs[j - 1];
			t->prefs[j - 1] = x;
		}
}

static pf_match_list *eval(const tguest *t, const pf_event *ev, bool full, size_t *count)
{
	pf_view v = { &t->r, ev };
	pf_match_list *ml = NULL;
	pf_rules_test_full_scan(full);
	int rc = pf_rulebook_eval(&ml, rb, &v);
	pf_rules_test_full_scan(false);
	cr_assert(eq(int, rc, 0), "%s", pf_errmsg());
	*count = pf_rules_test_eval_count();
	return ml;
}

static void load(const char *text)
{
	pf_rule_error e;
	pf_rulebook_free(rb);
	rb = NULL;
	int rc = pf_rulebook_parse(&rb, "t.rules", text, strlen(text), &e);
	cr_assert(eq(int, rc, 0), "parse failed: %s\n%s", e.message, text);
}

/* ------------------------------------------------------------------ tests */

Test(rules_valueidx, same_matches_as_a_full_scan_on_random_books)
{
	size_t indexed = 0, scanned = 0, matches = 0;
	rng = 0x9e3779b97f4a7c15u;
	for (int book = 0; book < 150; book++) {
		char *text = random_book(10 + (int)rnd(60));
		load(text);
		for (int g = 0; g < 40; g++) {
			tguest t;
			random_guest(&t);
			pf_event ev = PF_EVENT_INIT;
			ev.id = "e";
			ev.kind = (pf_event_kind)(1 + rnd(4));
			ev.time = T0;
			size_t ni, nf;
			pf_match_list *a = eval(&t, &ev, false, &ni);
			pf_match_list *b = eval(&t, &ev, true, &nf);
			indexed += ni;
			scanned += nf;
			cr_assert(eq(sz, a->count, b->count), "book %d guest %d: %zu matches "
			          "through the index, %zu by a full scan\n%s", book, g, a->count,
			          b->count, text);
			for (size_t i = 0; i < a->count; i++) {
				const pf_match *x = &a->items[i], *y = &b->items[i];
				cr_assert(eq(str, (char *)x->rule, (char *)y->rule),
				          "book %d guest %d match %zu\n%s", book, g, i, text);
				cr_assert(eq(str, (char *)x->text, (char *)y->text));
				cr_assert(eq(str, (char *)x->department, (char *)y->department));
				cr_assert(eq(int, x->priority, y->priority));
			}
			matches += a->count;
			pf_match_list_free(a);
			pf_match_list_free(b);
		}
		free(text);
	}
	/* The comparison means something only if rules fire and the index
	 * skips some. */
	cr_assert(gt(sz, matches, 1000), "%zu matches", matches);
	cr_assert(lt(sz, indexed * 4, scanned * 3), "index %zu, scan %zu", indexed, scanned);
}

Test(rules_valueidx, values_match_ascii_case_insensitively_through_the_index)
{
	load("rule up on check_in when pref room.view = \"SEA view\" notify kiosk low \"u\"\n"
	     "rule lst on check_in when pref room.view in (mountain, \"Sea View\") "
	     "notify kiosk low \"l\"\n"
	     "rule acc on check_in when pref drink.tea = \"Caf\xc3\xa9\" notify kiosk low \"a\"\n");
	tguest t;
	memset(&t, 0, sizeof t);
	t.r.g.name = "n";
	t.r.g.consent = PF_CONSENT_PROFILING;
	t.r.g.prefs = t.r.prefs = t.prefs;
	t.prefs[0] = (pf_pref){ "drink.tea", "CAF\xc3\xa9", PF_LIKE, "x", NULL, NULL, 1, 0, 0 };
	t.prefs[1] = (pf_pref){ "room.view", "sea VIEW", PF_LIKE, "x", NULL, NULL, 1, 0, 0 };
	t.r.g.pref_count = 2;
	pf_event ev = PF_EVENT_INIT;
	ev.kind = PF_EVENT_CHECK_IN;
	size_t n;
	pf_match_list *ml = eval(&t, &ev, false, &n);
	cr_assert(eq(sz, ml->count, 3));
	cr_assert(eq(str, (char *)ml->items[0].rule, "up"));
	cr_assert(eq(str, (char *)ml->items[1].rule, "lst"));
	cr_assert(eq(str, (char *)ml->items[2].rule, "acc"));
	pf_match_list_free(ml);
	/* Beyond ASCII, case is not folded: "É" is not "é". */
	t.prefs[0].value = "CAF\xc3\x89";
	ml = eval(&t, &ev, false, &n);
	cr_assert(eq(sz, ml->count, 2));
	cr_assert(eq(sz, n, 2), "the third rule is not even a candidate");
	pf_match_list_free(ml);
}

/* The bench's scaling book: rules on values nobody has are never looked
 * at, so 9,900 of them cost nothing. */
Test(rules_valueidx, rules_on_values_nobody_has_are_not_evaluated)
{
	buf b = { NULL, 0, 0 };
	put(&b, "rule real on check_in when pref room.floor = high and tier >= none "
	        "notify front_desk low \"r\"\n"
	        "rule any on check_in when need allergy.nuts notify restaurant urgent \"n\"\n");
	for (int i = 0; i < 9900; i++)
		put(&b, "rule never-%d on check_in when pref %s = zz%d notify kiosk low \"x\"\n",
		    i, cats[i % NCATS], i);
	load(b.s);
	free(b.s);
	tguest t;
	memset(&t, 0, sizeof t);
	t.r.g.name = "n";
	t.r.g.consent = PF_CONSENT_PROFILING;
	t.r.g.prefs = t.r.prefs = t.prefs;
	t.prefs[0] = (pf_pref){ "allergy.nuts", "severe", PF_NEED, "x", NULL, NULL, 1, 0, 0 };
	t.prefs[1] = (pf_pref){ "room.floor", "High", PF_LIKE, "x", NULL, NULL, 1, 0, 0 };
	t.prefs[2] = (pf_pref){ "room.view", "zz1", PF_LIKE, "x", NULL, NULL, 1, 0, 0 };
	t.r.g.pref_count = 3;
	pf_event ev = PF_EVENT_INIT;
	ev.kind = PF_EVENT_CHECK_IN;
	size_t n;
	pf_match_list *ml = eval(&t, &ev, false, &n);
	/* real, any, and never-1 (room.view = zz1) */
	cr_assert(eq(sz, n, 3));
	cr_assert(eq(sz, ml->count, 3));
	cr_assert(eq(str, (char *)ml->items[0].rule, "real"));
	cr_assert(eq(str, (char *)ml->items[1].rule, "any"));
	cr_assert(eq(str, (char *)ml->items[2].rule, "never-1"));
	pf_match_list_free(ml);
}
