/*
 * rules_eval.c — evaluating a compiled rule book for one in-memory
 * pf_view: candidate rules through the index, conditions, default
 * prompts for needs no fired rule routed, template rendering with the
 * visible cut at PF_PROMPT_TEXT_MAX, and language-tag matching.
 *
 * Language tags (conditions `language = zh`, per-language texts of a
 * notify) compare ASCII case-insensitively, and a guest's "zh_TW" is read
 * as "zh-TW": the profile field is free text from a PMS, while the rule
 * book's tags are checked when it is loaded.
 *
 * Owns pf_rulebook_each (matches handed to a callback, no allocation for
 * a guest of up to PF_PREFS_MAX preferences whose keys file up to 256
 * rules), pf_rulebook_eval (the same collected into a list),
 * pf_match_list_free, and for the tests pf_rules_test_eval_count and
 * pf_rules_test_full_scan.  May call rules.c (pf_rl_vec_*, pf_rl_ci_eq), error.c
 * (pf_seterr), text.c (pf_utf8_cut, pf_tier_name) and pref.c
 * (pf_guest_rec_pref_find).  Never touches LMDB: event.c assembles the
 * view and stores what comes out.
 */
#include "rules_int.h"
#include "error.h"
#include "text.h"
#include "pref.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Language tags: matching                                              */
/* ------------------------------------------------------------------ */

static bool lang_sep(char c)
{
	return c == '-' || c == '_';
}

/* One character of two language tags: ASCII case ignored, '_' = '-'. */
static bool lang_char_eq(char a, char b)
{
	if (lang_sep(a) || lang_sep(b))
		return lang_sep(a) && lang_sep(b);
	if (a >= 'A' && a <= 'Z') a += 32;
	if (b >= 'A' && b <= 'Z') b += 32;
	return a == b;
}

/* Does the rule's tag t cover the guest's language g: the same tag, or a
 * prefix of it that ends at a subtag boundary (RFC 4647 basic filtering)?
 * `zh` covers "zh", "zh-TW" and "zh-Hant-HK"; `zh-TW` only "zh-TW..."; no
 * tag covers a guest whose language is unknown. */
static bool lang_covers(const char *t, const char *g)
{
	if (!g)
		return false;
	size_t i = 0;
	for (; t[i]; i++)
		if (!g[i] || !lang_char_eq(t[i], g[i]))
			return false;
	return g[i] == '\0' || lang_sep(g[i]);
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                           */
/* ------------------------------------------------------------------ */

/* Rules evaluated by this thread's last pf_rulebook_eval(): lets the
 * tests prove that the index keeps big books cheap. */
static _Thread_local size_t eval_count;

size_t pf_rules_test_eval_count(void);
size_t pf_rules_test_eval_count(void)
{
	return eval_count;
}

/* Index of the guest's preference in `cat` (prefs are sorted), or -1. */
static ptrdiff_t find_pref(const pf_guest_rec *r, const char *cat)
{
	bool pf_rl_found;
	size_t i = pf_guest_rec_pref_find(r, cat, &pf_rl_found);
	return pf_rl_found ? (ptrdiff_t)i : -1;
}

/* Likes and dislikes are observations: invisible without consent.
 * Needs are safety matters and always visible. */
static const pf_pref *visible_pref(const pf_view *v, const char *cat)
{
	ptrdiff_t i = find_pref(v->guest, cat);
	if (i < 0)
		return NULL;
	const pf_pref *pr = &v->guest->g.prefs[i];
	if (pr->kind != PF_NEED && !(v->guest->g.consent & PF_CONSENT_PROFILING))
		return NULL;
	return pr;
}

static bool compare(int64_t a, enum cmp_op op, int64_t b)
{
	switch (op) {
	case OP_GE: return a >= b;
	case OP_GT: return a > b;
	case OP_EQ: return a == b;
	case OP_LE: return a <= b;
	case OP_LT: return a < b;
	case OP_NE: return a != b;
	}
	return false;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t civil_days(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Does the guest's birthday (month and day) fall in [arrival, departure)?
 * A stay always holds its arrival day: with no departure, and on a
 * day-use stay (departure == arrival, 0 nights), the arrival day is the
 * whole stay.  Feb 29 birthdays are kept on Feb 28 in common years. */
static bool birthday_in_stay(pf_date birth, pf_date arr, pf_date dep)
{
	if (birth <= 0 || arr <= 0)
		return false;
	int64_t bm = birth / 100 % 100, bd = birth % 100;
	int64_t ay = arr / 10000, am = arr / 100 % 100, ad = arr % 100;
	if (bm < 1 || bm > 12 || bd < 1 || bd > 31 || am < 1 || am > 12 || ad < 1 || ad > 31)
		return false;
	int64_t a = civil_days(ay, am, ad), e = a;
	if (dep > 0) {
		int64_t dm = dep / 100 % 100, dd = dep % 100;
		if (dm >= 1 && dm <= 12 && dd >= 1 && dd <= 31)
			e = civil_days(dep / 10000, dm, dd);
	}
	if (e <= a)  /* no departure, or day-use: [a, a) would hold no day */
		e = a + 1;
	if (e - a >= 366)  /* a whole year holds every birthday */
		return true;
	for (int64_t y = ay; y <= ay + 1; y++) {
		int64_t d = bd;
		if (bm == 2 && bd == 29 && !is_leap(y))
			d = 28;
		int64_t x = civil_days(y, bm, d);
		if (x >= a && x < e)
			return true;
	}
	return false;
}

static bool eval_cond(const cond *c, const pf_view *v);

static bool pref_holds(const cond *c, const pf_view *v)
{
	const pf_pref *pr = visible_pref(v, c->cat);
	if (!pr || pr->kind != c->pkind)
		return false;
	if (c->nvalues == 0)
		return true;
	for (size_t i = 0; i < c->nvalues; i++)
		if (pf_rl_ci_eq(pr->value, c->values[i]))
			return true;
	return false;
}

static bool eval_cond(const cond *c, const pf_view *v)
{
	const pf_guest_rec *r = v->guest;
	switch (c->kind) {
	case C_AND:
		for (size_t i = 0; i < c->nkids; i++)
			if (!eval_cond(c->kids[i], v))
				return false;
		return true;
	case C_OR:
		for (size_t i = 0; i < c->nkids; i++)
			if (eval_cond(c->kids[i], v))
				return true;
		return false;
	case C_NOT:
		return !eval_cond(c->kids[0], v);
	case C_PREF:
		return pref_holds(c, v);
	case C_TIER:
		return compare((int64_t)r->g.tier, c->op, c->n);
	case C_STAYS:
		return compare(r->g.stays, c->op, c->n);
	case C_PARTY:
		return compare(v->event->party, c->op, c->n);
	case C_COPEN:
		return compare(r->complaints_open, c->op, c->n);
	case C_CTOTAL:
		return compare(r->complaints_total, c->op, c->n);
	case C_CLASTCAT:
		return pf_rl_ci_eq(r->complaint_last_category, c->values[0]);
	case C_TAG:
		for (size_t i = 0; r->g.tags && i < r->g.tag_count; i++)
			if (pf_rl_ci_eq(r->g.tags[i], c->values[0]))
				return true;
		return false;
	case C_BIRTHDAY:
		return birthday_in_stay(r->g.birth_date, v->event->arrival, v->event->departure);
	case C_LANGUAGE:
		for (size_t i = 0; i < c->nvalues; i++)
			if (lang_covers(c->values[i], r->g.language))
				return true;
		return false;
	case C_COUNTRY:
		/* Stored codes are checked upper case (guest.c), as the book's are. */
		for (size_t i = 0; r->g.country && i < c->nvalues; i++)
			if (strcmp(r->g.country, c->values[i]) == 0)
				return true;
		return false;
	}
	return false;
}

/* Needs a fired rule took care of: `need` tests outside any `not` that
 * hold for this guest.  (A need test in an `or` branch that did not hold
 * routed nothing, so that need still gets its default prompt.) */
static void mark_needs(const cond *c, const pf_view *v, bool *covered)
{
	if (!c || c->kind == C_NOT)
		return;
	if (c->kind == C_AND || c->kind == C_OR) {
		for (size_t i = 0; i < c->nkids; i++)
			mark_needs(c->kids[i], v, covered);
		return;
	}
	if (c->kind == C_PREF && c->pkind == PF_NEED && pref_holds(c, v)) {
		ptrdiff_t i = find_pref(v->guest, c->cat);
		if (i >= 0)
			covered[i] = true;
	}
}

/* Bounded output.  Text that would pass PF_PROMPT_TEXT_MAX is cut
 * visibly: out_end() keeps what fits before a closing "…" (at a character
 * boundary) and later pieces are ignored.  A silent cut could drop the
 * end of an allergy note unnoticed; an ellipsis tells staff to look at
 * the profile, and pf_match.cut lets event.c journal it. */
#define ELLIPSIS     "\xe2\x80\xa6"  /* U+2026 */
#define ELLIPSIS_LEN 3

typedef struct outbuf {
	char *buf;
	size_t len;
	bool full;
} outbuf;

static void out_put(outbuf *o, const char *s, size_t n)
{
	if (o->full)
		return;
	size_t room = PF_PROMPT_TEXT_MAX - o->len;
	if (n > room) {
		n = pf_utf8_cut(s, n, room);
		o->full = true;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_str(outbuf *o, const char *s)
{
	out_put(o, s, strlen(s));
}

/* Finish the text; true if it was cut (and now ends with the ellipsis). */
static bool out_end(outbuf *o)
{
	if (!o->full)
		return false;
	o->len = pf_utf8_cut(o->buf, o->len, PF_PROMPT_TEXT_MAX - ELLIPSIS_LEN);
	memcpy(o->buf + o->len, ELLIPSIS, ELLIPSIS_LEN + 1);
	o->len += ELLIPSIS_LEN;
	return true;
}

static void out_u64(outbuf *o, uint64_t x)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRIu64, x);
	out_put(o, num, (size_t)n);
}

/* Render one template into text; false drops the prompt because it
 * names something the guest or event does not have.  *cut says whether
 * the text had to be cut to PF_PROMPT_TEXT_MAX. */
static bool render(const tmpl *t, const pf_view *v, char *text, bool *cut)
{
	const pf_guest_rec *r = v->guest;
	outbuf o = { text, 0, false };
	text[0] = '\0';
	for (size_t i = 0; i < t->nsegs; i++) {
		const seg *sg = &t->segs[i];
		const char *s = NULL;
		const pf_pref *pr;
		switch (sg->kind) {
		case S_TEXT:
			out_put(&o, sg->text, sg->len);
			continue;
		case S_NAME:
			s = r->g.name;
			break;
		case S_TIER:
			s = pf_tier_name(r->g.tier);
			break;
		case S_ROOM:
			s = v->event->room;
			break;
		case S_COMPLAINT:
			s = r->complaint_latest;
			break;
		case S_PARTY:
			if (v->event->party == 0)
				return false;
			out_u64(&o, v->event->party);
			continue;
		case S_STAYS:
			out_u64(&o, r->g.stays);
			continue;
		case S_STAYS1:
			out_u64(&o, (uint64_t)r->g.stays + 1);
			continue;
		case S_PREF:
		case S_NOTE:
			if (!(pr = visible_pref(v, sg->cat)))
				return false;
			s = sg->kind == S_PREF ? pr->value : pr->note;
			break;
		}
		if (!s || !*s)
			return false;
		out_str(&o, s);
	}
	*cut = out_end(&o);
	return true;
}

/* The text of a guest-facing notify for a guest who speaks `lang`: the
 * text for that exact tag, else for the tag with its last subtag dropped,
 * and so on down to the primary language (RFC 4647 lookup: "zh-Hant-TW"
 * tries zh-Hant-TW, zh-Hant, zh); NULL: the default text. */
static const lang_text *pick_text(const notify *nt, const char *lang)
{
	size_t len = lang ? strlen(lang) : 0;
	while (len > 0) {
		for (size_t i = 0; i < nt->ntexts; i++) {
			const char *t = nt->texts[i].tag;
			size_t j = 0;
			while (j < len && t[j] && lang_char_eq(t[j], lang[j]))
				j++;
			if (j == len && t[j] == '\0')
				return &nt->texts[i];
		}
		while (len > 0 && !lang_sep(lang[len - 1]))
			len--;
		while (len > 0 && lang_sep(lang[len - 1]))
			len--;
	}
	return NULL;
}

/* Candidate rule numbers: a buffer on the caller's stack that moves to
 * the heap only for a guest whose keys file more rules than it holds. */
typedef struct candbuf {
	uint32_t *p;
	size_t n, cap;
	uint32_t *heap;             /* p once it moved; freed by the caller */
} candbuf;

static bool cand_add(candbuf *b, const uint32_t *src, size_t n)
{
	if (n == 0)               /* src may be NULL (an empty "always" list) */
		return true;
	if (n > b->cap - b->n) {
		size_t cap = b->cap * 2;
		while (cap - b->n < n)
			cap *= 2;
		uint32_t *np = malloc(cap * sizeof *np);
		if (!np)
			return false;
		memcpy(np, b->p, b->n * sizeof *np);
		free(b->heap);
		b->p = b->heap = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, n * sizeof *src);
	b->n += n;
	return true;
}

/* In-place sort of rule numbers without allocating: insertion sort for
 * the usual few dozen, heapsort past that. */
static void sift(uint32_t *a, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1] > a[c])
			c++;
		if (a[i] >= a[c])
			return;
		uint32_t t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

static void sort_u32(uint32_t *a, size_t n)
{
	if (n <= 48) {
		for (size_t i = 1; i < n; i++) {
			uint32_t x = a[i];
			size_t j = i;
			for (; j > 0 && a[j - 1] > x; j--)
				a[j] = a[j - 1];
			a[j] = x;
		}
		return;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (size_t e = n; e-- > 1;) {
		uint32_t t = a[0];
		a[0] = a[e];
		a[e] = t;
		sift(a, 0, e);
	}
}

/* A stored (lower-cased) key value equal to the guest's, ASCII case
 * ignored: pf_rl_ci_eq's comparison. */
static bool fold_eq(const char *key, const char *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)g[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if ((unsigned char)key[i] != c)
			return false;
	}
	return true;
}

static const idx_key *idx_find(const kind_idx *ix, const char *cat, size_t clen,
                               const char *val, size_t vlen)
{
	if (!ix->nkeys)
		return NULL;
	uint64_t h = pf_rl_idx_hash(cat, clen, val, vlen);
	size_t mask = ix->nkeys - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const idx_key *k = &ix->keys[i];
		if (!k->cat)
			return NULL;  /* the table is never more than half full */
		if (k->hash == h && k->clen == clen && k->vlen == vlen &&
		    (k->val != NULL) == (val != NULL) && memcmp(k->cat, cat, clen) == 0 &&
		    (!val || fold_eq(k->val, val, vlen)))
			return k;
	}
}

/* Set by the tests: this thread's evaluations then take every rule of the
 * event kind, the full scan the index must agree with. */
static _Thread_local bool full_scan;

void pf_rules_test_full_scan(bool on);
void pf_rules_test_full_scan(bool on)
{
	full_scan = on;
}

/* Rules that can fire for this guest at this kind of event, in book
 * order, each once: the "always" list plus, for each preference, the
 * rules filed under its category and under its (category, value). */
static int candidates(const pf_rulebook *rb, int k, const pf_guest_rec *r, candbuf *b)
{
	const kind_idx *ix = &rb->idx[k];
	const pf_pref *prefs = r->g.prefs;
	size_t np = prefs ? r->g.pref_count : 0;

	if (full_scan) {
		for (uint32_t i = 0; i < rb->nrules; i++)
			if ((rb->rules[i].events & (1u << k)) && !cand_add(b, &i, 1))
				return pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
		return 0;
	}
	if (!cand_add(b, ix->always, ix->nalways))
		return pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
	bool sorted = true;  /* one list alone is in order already */
	for (size_t i = 0; i < np && ix->nkeys; i++) {
		const char *cat = prefs[i].category, *val = prefs[i].value;
		size_t clen = strlen(cat);
		const idx_key *hit[2] = { idx_find(ix, cat, clen, NULL, 0),
		                          val ? idx_find(ix, cat, clen, val, strlen(val)) : NULL };
		for (int j = 0; j < 2; j++) {
			if (!hit[j])
				continue;
			if (b->n)
				sorted = false;
			if (!cand_add(b, ix->lists + hit[j]->first, hit[j]->n))
				return pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
		}
	}
	if (sorted)
		return 0;
	sort_u32(b->p, b->n);
	size_t u = 0;  /* a rule filed under two of the guest's keys fires once */
	for (size_t i = 0; i < b->n; i++)
		if (u == 0 || b->p[u - 1] != b->p[i])
			b->p[u++] = b->p[i];
	b->n = u;
	return 0;
}

#define CAND_STACK 256

int pf_rulebook_each(const pf_rulebook *rb, const pf_view *v, pf_match_fn fn, void *ctx)
{
	uint32_t cstack[CAND_STACK];
	candbuf cand = { cstack, 0, CAND_STACK, NULL };
	bool cov_stack[PF_PREFS_MAX];
	bool *covered = cov_stack, *cov_heap = NULL;
	pf_match m;
	int rc = 0;

	if (!v || !v->guest || !v->event)
		return pf_seterr(PF_EINVAL, "pf_rulebook_eval: %s is NULL",
		                 !v ? "view" : !v->guest ? "view guest" : "view event");
	int kind = (int)v->event->kind;
	if (kind < PF_EVENT_RESERVATION || kind > PF_EVENT_ROOM_CHANGE)
		return pf_seterr(PF_EINVAL, "pf_rulebook_eval: unknown event kind %d", kind);

	const pf_guest_rec *r = v->guest;
	size_t np = r->g.prefs ? r->g.pref_count : 0;
	eval_count = 0;
	if (np > PF_PREFS_MAX && !(covered = cov_heap = malloc(np * sizeof *covered)))
		return pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
	memset(covered, 0, np * sizeof *covered);

	if (rb && (rc = candidates(rb, kind - 1, r, &cand)))
		goto out;
	for (size_t i = 0; rb && i < cand.n; i++) {
		const rule *ru = &rb->rules[cand.p[i]];
		eval_count++;
		if (ru->when && !eval_cond(ru->when, v))
			continue;
		size_t made = 0;
		for (size_t j = 0; j < ru->nnotes; j++) {
			const notify *nt = &ru->notes[j];
			/* Staff read the default text; the guest reads their own
			 * language when the book has it. */
			const lang_text *lt = nt->guest_facing ? pick_text(nt, r->g.language) : NULL;
			if (!render(lt ? &lt->t : &nt->text, v, m.text, &m.cut))
				continue;
			m.language = lt ? lt->tag : NULL;
			m.rule = ru->name;
			m.department = nt->dept;
			m.priority = nt->prio;
			m.within = nt->within;
			made++;
			if ((rc = fn(ctx, &m)))
				goto out;
		}
		if (made)
			mark_needs(ru->when, v, covered);
	}

	/* Needs always reach staff: whatever no fired rule routed goes to
	 * the front desk. */
	for (size_t i = 0; i < np; i++) {
		const pf_pref *pr = &r->g.prefs[i];
		if (pr->kind != PF_NEED || covered[i])
			continue;
		outbuf o = { m.text, 0, false };
		m.text[0] = '\0';
		out_str(&o, "Guest need (");
		out_str(&o, pr->category ? pr->category : "");
		out_str(&o, "): ");
		out_str(&o, pr->value ? pr->value : "");
		if (pr->note && *pr->note) {
			out_str(&o, " \xe2\x80\x94 ");  /* em dash */
			out_str(&o, pr->note);
		}
		m.cut = out_end(&o);
		m.rule = "need";
		m.department = "front_desk";
		m.priority = PF_PRIORITY_HIGH;
		m.within = -1;
		m.language = NULL;
		if ((rc = fn(ctx, &m)))
			goto out;
	}
out:
	free(cand.heap);
	free(cov_heap);
	return rc;
}

/* pf_rulebook_eval's collector: each match copied onto a growing array. */
static int collect(void *ctx, const pf_match *m)
{
	pf_match *slot = pf_rl_vec_push(ctx, sizeof *slot);
	if (!slot)
		return pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
	*slot = *m;
	return 0;
}

int pf_rulebook_eval(pf_match_list **out, const pf_rulebook *rb, const pf_view *v)
{
	vec ms = { 0 };
	int rc;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_rulebook_eval: out is NULL");
	*out = NULL;
	pf_match_list *list = calloc(1, sizeof *list);
	if (!list)
		return pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
	rc = pf_rulebook_each(rb, v, collect, &ms);
	if (rc) {
		pf_rl_vec_free(&ms);
		free(list);
		return rc;
	}
	list->count = ms.n;
	list->items = ms.p;
	*out = list;
	return 0;
}

void pf_match_list_free(pf_match_list *l)
{
	if (!l)
		return;
	free(l->items);
	free(l);
}
