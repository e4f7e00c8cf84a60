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
 * Owns pf_rulebook_eval, pf_match_list_free and pf_rules_test_eval_count
 * (for the tests).  May call rules.c (pf_rl_vec_*, pf_rl_ci_eq), error.c
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

static pf_match *push_match(vec *ms)
{
	return pf_rl_vec_push(ms, sizeof(pf_match));
}

static int cand_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Rules that can fire for this guest at this kind of event, in book
 * order: the "always" list plus the rules indexed under each of the
 * guest's categories. */
static int candidates(const kind_idx *ix, const pf_guest_rec *r, uint32_t **out,
                      size_t *count)
{
	const pf_pref *prefs = r->g.prefs;
	size_t np = prefs ? r->g.pref_count : 0, total = ix->nalways;
	size_t (*ranges)[2] = np ? malloc(np * sizeof *ranges) : NULL;
	uint32_t *c = NULL;
	int rc = 0;

	if (np && !ranges)
		return pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
	for (size_t i = 0; i < np; i++) {
		size_t lo = 0, hi = ix->nbycat;
		while (lo < hi) {  /* first entry >= category */
			size_t mid = lo + (hi - lo) / 2;
			if (strcmp(ix->bycat[mid].cat, prefs[i].category) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t e = lo;
		while (e < ix->nbycat && strcmp(ix->bycat[e].cat, prefs[i].category) == 0)
			e++;
		ranges[i][0] = lo;
		ranges[i][1] = e;
		total += e - lo;
	}
	if (total && !(c = malloc(total * sizeof *c))) {
		rc = pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
		goto out;
	}
	size_t n = 0;
	for (size_t i = 0; i < ix->nalways; i++)
		c[n++] = ix->always[i];
	for (size_t i = 0; i < np; i++)
		for (size_t j = ranges[i][0]; j < ranges[i][1]; j++)
			c[n++] = ix->bycat[j].rule;
	if (n > 1)
		qsort(c, n, sizeof *c, cand_cmp);
	size_t u = 0;  /* a category listed twice must not fire a rule twice */
	for (size_t i = 0; i < n; i++)
		if (u == 0 || c[u - 1] != c[i])
			c[u++] = c[i];
	*out = c;
	*count = u;
	c = NULL;
out:
	free(c);
	free(ranges);
	return rc;
}

int pf_rulebook_eval(pf_match_list **out, const pf_rulebook *rb, const pf_view *v)
{
	pf_match_list *list = NULL;
	vec ms = { 0 };
	uint32_t *cand = NULL;
	size_t ncand = 0;
	bool *covered = NULL;
	int rc = 0;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_rulebook_eval: out is NULL");
	*out = NULL;
	if (!v || !v->guest || !v->event)
		return pf_seterr(PF_EINVAL, "pf_rulebook_eval: %s is NULL",
		                 !v ? "view" : !v->guest ? "view guest" : "view event");
	int kind = (int)v->event->kind;
	if (kind < PF_EVENT_RESERVATION || kind > PF_EVENT_ROOM_CHANGE)
		return pf_seterr(PF_EINVAL, "pf_rulebook_eval: unknown event kind %d", kind);

	const pf_guest_rec *r = v->guest;
	size_t np = r->g.prefs ? r->g.pref_count : 0;
	eval_count = 0;
	if (!(list = calloc(1, sizeof *list)) || (np && !(covered = calloc(np, sizeof *covered)))) {
		rc = pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
		goto fail;
	}

	if (rb && (rc = candidates(&rb->idx[kind - 1], r, &cand, &ncand)))
		goto fail;
	for (size_t i = 0; i < ncand; i++) {
		const rule *ru = &rb->rules[cand[i]];
		eval_count++;
		if (ru->when && !eval_cond(ru->when, v))
			continue;
		size_t made = 0;
		for (size_t j = 0; j < ru->nnotes; j++) {
			const notify *nt = &ru->notes[j];
			pf_match *m = push_match(&ms);
			if (!m) {
				rc = pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
				goto fail;
			}
			/* Staff read the default text; the guest reads their own
			 * language when the book has it. */
			const lang_text *lt = nt->guest_facing ? pick_text(nt, r->g.language) : NULL;
			if (!render(lt ? &lt->t : &nt->text, v, m->text, &m->cut)) {
				ms.n--;
				continue;
			}
			m->language = lt ? lt->tag : NULL;
			m->rule = ru->name;
			m->department = nt->dept;
			m->priority = nt->prio;
			m->within = nt->within;
			made++;
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
		pf_match *m = push_match(&ms);
		if (!m) {
			rc = pf_seterr(PF_ENOMEM, "pf_rulebook_eval: out of memory");
			goto fail;
		}
		outbuf o = { m->text, 0, false };
		m->text[0] = '\0';
		out_str(&o, "Guest need (");
		out_str(&o, pr->category ? pr->category : "");
		out_str(&o, "): ");
		out_str(&o, pr->value ? pr->value : "");
		if (pr->note && *pr->note) {
			out_str(&o, " \xe2\x80\x94 ");  /* em dash */
			out_str(&o, pr->note);
		}
		m->cut = out_end(&o);
		m->rule = "need";
		m->department = "front_desk";
		m->priority = PF_PRIORITY_HIGH;
		m->within = -1;
	}

	list->count = ms.n;
	list->items = ms.p;
	ms.p = NULL;
	*out = list;
	list = NULL;
fail:
	pf_rl_vec_free(&ms);
	free(cand);
	free(covered);
	pf_match_list_free(list);
	return rc;
}

void pf_match_list_free(pf_match_list *l)
{
	if (!l)
		return;
	free(l->items);
	free(l);
}
