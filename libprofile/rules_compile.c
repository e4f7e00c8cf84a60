/*
 * rules_compile.c — the parser's upper levels and the compiled book:
 * templates ({placeholders} into segments), notify lines (department,
 * priority, `within`, per-language texts), rules (name, events,
 * condition, notify lines, source span), the per-event-kind index by
 * (category, value) and by category (compiled once per book), and
 * pf_rulebook_parse, which ties them together.
 *
 * Owns pf_rulebook_parse.  May call rules_parse.c (the lexer, syntax
 * errors, words/values and pf_rl_parse_or), rules.c (arena, scratch
 * arrays, UTF-8 and ASCII helpers, pf_rl_valid_lang_tag, pf_rulebook_free),
 * error.c (pf_seterr) and text.c (pf_utf8_cut).  Never touches LMDB.
 */
#include "rules_int.h"
#include "error.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Parser: templates, notify lines, rules                               */
/* ------------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Compile the inside of one {placeholder}; false if it is not one. */
static bool placeholder(parser *p, const char *s, size_t n, seg *out, int *rc)
{
	static const struct { const char *word; enum seg_kind kind; } simple[] = {
		{ "name", S_NAME }, { "tier", S_TIER }, { "room", S_ROOM },
		{ "party", S_PARTY }, { "stays", S_STAYS }, { "complaint.latest", S_COMPLAINT },
	};
	while (n && is_blank(*s))
		s++, n--;
	while (n && is_blank(s[n - 1]))
		n--;
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		if (n == strlen(simple[i].word) && memcmp(s, simple[i].word, n) == 0) {
			out->kind = simple[i].kind;
			return true;
		}
	}
	if (n > 5 && memcmp(s, "stays", 5) == 0) { /* {stays + 1}, blanks optional */
		size_t i = 5;
		while (i < n && is_blank(s[i]))
			i++;
		if (i < n && s[i] == '+') {
			i++;
			while (i < n && is_blank(s[i]))
				i++;
			if (i + 1 == n && s[i] == '1') {
				out->kind = S_STAYS1;
				return true;
			}
		}
		return false;
	}
	if (n > 5 && (memcmp(s, "pref", 4) == 0 || memcmp(s, "note", 4) == 0) &&
	    is_blank(s[4])) {
		size_t i = 5;
		while (i < n && is_blank(s[i]))
			i++;
		if (!pf_rl_valid_category(s + i, n - i))
			return false;
		out->kind = s[0] == 'p' ? S_PREF : S_NOTE;
		if (!(out->cat = pf_rl_arena_strndup(&p->rb->arena, s + i, n - i)))
			*rc = pf_rl_oom();
		return true;
	}
	return false;
}

/* Flush pending literal text into a segment. */
static int flush_text(parser *p, vec *segs, vec *lit)
{
	if (lit->n == 0)
		return 0;
	seg *sg = pf_rl_vec_push(segs, sizeof *sg);
	if (!sg || !(sg->text = pf_rl_arena_memdup(&p->rb->arena, lit->p, lit->n)))
		return pf_rl_oom();
	sg->kind = S_TEXT;
	sg->len = lit->n;
	lit->n = 0;
	return 0;
}

/* Compile the current string token as a template. */
static int parse_template(parser *p, tmpl *out)
{
	const tok t = p->cur;
	char *buf = NULL;
	size_t n = 0, *map = NULL;
	/* The parser's scratch, kept from one template to the next: a book
	 * of hundreds of templates then allocates them a few times only. */
	vec segs = p->tsegs, lit = p->tlit;
	int rc;

	segs.n = lit.n = 0;
	if ((rc = pf_rl_decode_scratch(p, &buf, &n, &map)))
		return rc;
#define COL_AT(i) (t.col + pf_rl_utf8_chars(p->s + t.off, map[i] - t.off))
	if (n == 0) {
		rc = pf_rl_perr(p, t.line, t.col, "empty template");
		goto out;
	}
	if (n > TEMPLATE_MAX) {
		rc = pf_rl_perr(p, t.line, t.col, "template is longer than %d bytes", TEMPLATE_MAX);
		goto out;
	}
	for (size_t i = 0; i < n;) {
		char c = buf[i];
		if ((c == '{' || c == '}') && i + 1 < n && buf[i + 1] == c) {
			char *slot = pf_rl_vec_push(&lit, 1);
			if (!slot) {
				rc = pf_rl_oom();
				goto out;
			}
			*slot = c;
			i += 2;
		} else if (c == '}') {
			rc = pf_rl_perr(p, t.line, COL_AT(i),
			          "unexpected '}' in a template (write '}}' for a literal brace)");
			goto out;
		} else if (c == '{') {
			size_t j = i + 1;
			while (j < n && buf[j] != '}' && buf[j] != '{')
				j++;
			if (j >= n || buf[j] != '}') {
				rc = pf_rl_perr(p, t.line, COL_AT(i), "unterminated placeholder in a template "
				          "(write '{{' for a literal brace)");
				goto out;
			}
			seg ph = { 0 };
			rc = 0;
			if (!placeholder(p, buf + i + 1, j - i - 1, &ph, &rc)) {
				size_t show = pf_utf8_cut(buf + i + 1, j - i - 1, SHOW_MAX);
				rc = pf_rl_perr(p, t.line, COL_AT(i), "unknown placeholder '{%.*s%s}'",
				          (int)show, buf + i + 1, show < j - i - 1 ? "..." : "");
				goto out;
			}
			if (rc || (rc = flush_text(p, &segs, &lit)))
				goto out;
			seg *sg = pf_rl_vec_push(&segs, sizeof *sg);
			if (!sg) {
				rc = pf_rl_oom();
				goto out;
			}
			*sg = ph;
			i = j + 1;
		} else {
			char *slot = pf_rl_vec_push(&lit, 1);
			if (!slot) {
				rc = pf_rl_oom();
				goto out;
			}
			*slot = c;
			i++;
		}
	}
#undef COL_AT
	if ((rc = flush_text(p, &segs, &lit)))
		goto out;
	if (!(out->segs = pf_rl_arena_memdup(&p->rb->arena, segs.p, segs.n * sizeof(seg)))) {
		rc = pf_rl_oom();
		goto out;
	}
	out->nsegs = segs.n;
	rc = pf_rl_lex(p);
out:
	p->tsegs = segs;
	p->tlit = lit;
	return rc;
}

/* "1h30m": one or more NUMBER+unit, 0 < total <= 30 days. */
static int take_duration(parser *p, int64_t *out)
{
	const char *w = p->s + p->cur.off;
	size_t n = p->cur.len, i = 0;
	int64_t total = 0;
	bool ok = true;
	char fbuf[SHOW_MAX + 8];

	if (p->cur.type != T_WORD)
		return pf_rl_expected(p, "a duration after 'within' (e.g. 30m, 2h, 1d)");
	while (ok && i < n) {
		int64_t v = 0;
		size_t d = i;
		while (i < n && w[i] >= '0' && w[i] <= '9') {
			if (v < 1000000000)  /* past this it is over 30 days anyway */
				v = v * 10 + (w[i] - '0');
			i++;
		}
		if (i == d || i >= n) {
			ok = false;
			break;
		}
		switch (w[i++]) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		default: ok = false;
		}
		total += v;
		if (total > (int64_t)DURATION_MAX * 2)
			total = (int64_t)DURATION_MAX * 2;
	}
	if (!ok)
		return pf_rl_perr(p, p->cur.line, p->cur.col,
		            "invalid duration %s (expected a number and a unit s, m, h or d, "
		            "e.g. 30m, 2h, 1h30m)", FOUND);
	if (total == 0)
		return pf_rl_perr(p, p->cur.line, p->cur.col, "duration %s must be greater than zero",
		            FOUND);
	if (total > DURATION_MAX)
		return pf_rl_perr(p, p->cur.line, p->cur.col, "duration %s is longer than 30 days",
		            FOUND);
	*out = total;
	return pf_rl_lex(p);
}

/* The texts in other languages after a notify's default text:
 * `zh "歡迎, {name}!" pt "Bem-vindo, {name}!"`.  Each is a template with
 * every check the default text has. */
static int parse_lang_texts(parser *p, notify *nt)
{
	vec texts = { 0 };
	char fbuf[SHOW_MAX + 8];
	int rc = 0;

	while (p->cur.type == T_WORD && pf_rl_valid_lang_tag(p->s + p->cur.off, p->cur.len)) {
		const tok tag = p->cur;
		const char *w = p->s + tag.off;
		if (!nt->guest_facing) {
			rc = pf_rl_perr(p, tag.line, tag.col,
			          "a text in %s is only used by a guest-facing prompt (notify kiosk, "
			          "or mark the notify guest_facing)", FOUND);
			goto out;
		}
		for (size_t i = 0; i < texts.n; i++) {
			const lang_text *prev = (const lang_text *)texts.p + i;
			if (pf_rl_ascii_lower_eq(w, tag.len, prev->tag)) {
				rc = pf_rl_perr(p, tag.line, tag.col,
				          "language %s has a text already in this notify", FOUND);
				goto out;
			}
		}
		lang_text *lt = pf_rl_vec_push(&texts, sizeof *lt);
		if (!lt || !(lt->tag = pf_rl_arena_strndup(&p->rb->arena, w, tag.len))) {
			rc = pf_rl_oom();
			goto out;
		}
		if ((rc = pf_rl_lex(p)))
			goto out;
		if (p->cur.type != T_STRING) {
			char what[PF_FIELD_MAX + 64];
			snprintf(what, sizeof what, "a quoted template after the language tag '%s'",
			         lt->tag);
			rc = pf_rl_expected(p, what);
			goto out;
		}
		if ((rc = parse_template(p, &lt->t)))
			goto out;
	}
	if (texts.n &&
	    !(nt->texts = pf_rl_arena_memdup(&p->rb->arena, texts.p, texts.n * sizeof(lang_text)))) {
		rc = pf_rl_oom();
		goto out;
	}
	nt->ntexts = texts.n;
out:
	pf_rl_vec_free(&texts);
	return rc;
}

static int parse_notify(parser *p, vec *notes)
{
	static const char *const prios[] = { "low", "normal", "high", "urgent" };
	notify *nt = pf_rl_vec_push(notes, sizeof *nt);
	const char *after = "the priority";
	bool marked = false;
	int rc;

	if (!nt)
		return pf_rl_oom();
	nt->within = -1;
	if ((rc = pf_rl_lex(p)))
		return rc;
	if (p->cur.type != T_WORD ||
	    !pf_rl_valid_lower_word(p->s + p->cur.off, p->cur.len, PF_FIELD_MAX))
		return pf_rl_expected(p, "a department name after 'notify'");
	if (!(nt->dept = pf_rl_arena_strndup(&p->rb->arena, p->s + p->cur.off, p->cur.len)))
		return pf_rl_oom();
	if ((rc = pf_rl_lex(p)))
		return rc;
	if (p->cur.type != T_WORD)
		return pf_rl_expected(p, "a priority (low, normal, high or urgent) after the department");
	size_t k = 0;
	while (k < 4 && !pf_rl_is_kw(p, prios[k]))
		k++;
	if (k == 4) {
		char fbuf[SHOW_MAX + 8];
		return pf_rl_perr(p, p->cur.line, p->cur.col,
		            "unknown priority %s (expected low, normal, high or urgent)", FOUND);
	}
	nt->prio = (pf_priority)k;
	if ((rc = pf_rl_lex(p)))
		return rc;
	/* `within` and `guest_facing`, each at most once, in either order. */
	for (;;) {
		if (nt->within < 0 && pf_rl_is_kw(p, "within")) {
			if ((rc = pf_rl_lex(p)) || (rc = take_duration(p, &nt->within)))
				return rc;
			after = "the duration";
		} else if (!marked && pf_rl_is_kw(p, "guest_facing")) {
			marked = true;
			if ((rc = pf_rl_lex(p)))
				return rc;
			after = "'guest_facing'";
		} else
			break;
	}
	/* The kiosk's screen is read by the guest, never by staff. */
	nt->guest_facing = marked || strcmp(nt->dept, "kiosk") == 0;
	if (p->cur.type != T_STRING) {
		char what[64];
		snprintf(what, sizeof what, "a quoted template after %s", after);
		return pf_rl_expected(p, what);
	}
	if ((rc = parse_template(p, &nt->text)))
		return rc;
	return parse_lang_texts(p, nt);
}

static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;  /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

/* Rule number of an earlier rule called s[0..n), or -1; records rule
 * `self` under that name when there is none. */
static int64_t name_seen(parser *p, const char *s, size_t n, uint32_t self)
{
	const pf_rulebook *rb = p->rb;
	if ((self + 1) * 2 > p->names_cap) {
		size_t cap = p->names_cap ? p->names_cap * 2 : 64;
		uint32_t *t = calloc(cap, sizeof *t);
		if (!t)
			return -2;
		for (size_t i = 0; i < p->names_cap; i++) {
			uint32_t r = p->names[i];
			if (!r)
				continue;
			const char *nm = rb->rules[r - 1].name;
			size_t h = name_hash(nm, strlen(nm)) & (cap - 1);
			while (t[h])
				h = (h + 1) & (cap - 1);
			t[h] = r;
		}
		free(p->names);
		p->names = t;
		p->names_cap = cap;
	}
	size_t h = name_hash(s, n) & (p->names_cap - 1);
	while (p->names[h]) {
		const char *nm = rb->rules[p->names[h] - 1].name;
		if (strlen(nm) == n && memcmp(nm, s, n) == 0)
			return p->names[h] - 1;
		h = (h + 1) & (p->names_cap - 1);
	}
	p->names[h] = self + 1;
	return -1;
}

static int parse_rule(parser *p)
{
	static const char *const kinds[EV_KINDS] = {
		"reservation", "check_in", "check_out", "room_change"
	};
	pf_rulebook *rb = p->rb;
	const tok start = p->cur;
	vec notes = { 0 };
	char fbuf[SHOW_MAX + 8];
	int rc;

	if (rb->nrules == rb->caprules) {
		size_t cap = rb->caprules ? rb->caprules * 2 : 16;
		rule *nr = cap < UINT32_MAX / 2 ? realloc(rb->rules, cap * sizeof *nr) : NULL;
		if (!nr)
			return pf_rl_oom();
		rb->rules = nr;
		rb->caprules = cap;
	}
	rule *r = &rb->rules[rb->nrules];
	memset(r, 0, sizeof *r);
	r->line = start.line;

	if ((rc = pf_rl_lex(p)))
		return rc;
	if (p->cur.type != T_WORD)
		return pf_rl_expected(p, "a rule name after 'rule'");
	if (!pf_rl_valid_rule_name(p->s + p->cur.off, p->cur.len))
		return pf_rl_perr(p, p->cur.line, p->cur.col,
		            "invalid rule name %s (expected lower-case letters, digits, '_' and "
		            "'-', starting with a letter or digit, at most %d bytes)", FOUND,
		            RULE_NAME_MAX);
	if (!(r->name = pf_rl_arena_strndup(&rb->arena, p->s + p->cur.off, p->cur.len)))
		return pf_rl_oom();
	int64_t prev = name_seen(p, r->name, p->cur.len, (uint32_t)rb->nrules);
	if (prev == -2)
		return pf_rl_oom();
	if (prev >= 0)
		return pf_rl_perr(p, p->cur.line, p->cur.col,
		            "duplicate rule name '%s' (first defined at line %d)", r->name,
		            rb->rules[prev].line);
	rb->nrules++;  /* the name is recorded: keep the rule visible to name_seen */

	if ((rc = pf_rl_lex(p)))
		return rc;
	if (!pf_rl_is_kw(p, "on"))
		return pf_rl_expected(p, "'on' after the rule name");
	do {
		const char *after = r->events ? "','" : "'on'";
		char what[64];
		if ((rc = pf_rl_lex(p)))
			return rc;
		if (p->cur.type != T_WORD) {
			snprintf(what, sizeof what, "an event kind after %s", after);
			return pf_rl_expected(p, what);
		}
		size_t k = 0;
		while (k < EV_KINDS && !pf_rl_is_kw(p, kinds[k]))
			k++;
		if (k == EV_KINDS)
			return pf_rl_perr(p, p->cur.line, p->cur.col,
			            "unknown event kind %s (expected reservation, check_in, "
			            "check_out or room_change)", FOUND);
		r->events |= 1u << k;
		if ((rc = pf_rl_lex(p)))
			return rc;
	} while (p->cur.type == T_COMMA);

	if (pf_rl_is_kw(p, "when")) {
		p->depth = 0;
		if ((rc = pf_rl_lex(p)) || (rc = pf_rl_parse_or(p, &r->when)))
			return rc;
		if (!pf_rl_is_kw(p, "notify"))
			return pf_rl_expected(p, "'and', 'or' or 'notify' after the condition");
	} else if (!pf_rl_is_kw(p, "notify"))
		return pf_rl_expected(p, "',', 'when' or 'notify' after the event kind");

	while (pf_rl_is_kw(p, "notify")) {
		if ((rc = parse_notify(p, &notes)))
			goto out;
	}
	if (p->cur.type != T_EOF && !pf_rl_is_kw(p, "rule")) {
		rc = pf_rl_expected(p, "'notify', 'rule' or end of text after the template");
		goto out;
	}
	if (!(r->notes = pf_rl_arena_memdup(&rb->arena, notes.p, notes.n * sizeof(notify)))) {
		rc = pf_rl_oom();
		goto out;
	}
	r->nnotes = notes.n;

	/* The source runs to the end of the last token's line (keeping a
	 * trailing comment), but never into the next rule. */
	size_t end = p->prev_end;
	while (end < p->len && p->s[end] != '\n')
		end++;
	if (p->cur.type != T_EOF && p->cur.off < end)
		end = p->prev_end;
	while (end > p->prev_end && (p->s[end - 1] == '\r' || is_blank(p->s[end - 1])))
		end--;
	r->src_off = start.off;
	r->src_len = end - start.off;
out:
	pf_rl_vec_free(&notes);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Index                                                                */
/* ------------------------------------------------------------------ */

/* One key a rule is filed under, before the table is built.  `val` is
 * the book's spelling: keys compare with ASCII letters lower-cased. */
typedef struct pend_key {
	const char *cat, *val;      /* val NULL: any value */
	size_t clen, vlen;
	uint32_t rule;
} pend_key;

static int fold_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	for (size_t i = 0; i < alen && i < blen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z') x += 32;
		if (y >= 'A' && y <= 'Z') y += 32;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (alen > blen) - (alen < blen);
}

/* Order of keys: category, then "any value" before values, then the
 * folded value; within a key, rule order. */
static int pend_key_cmp_key(const pend_key *x, const pend_key *y)
{
	int c = strcmp(x->cat, y->cat);
	if (c)
		return c;
	if (!x->val || !y->val)
		return (x->val != NULL) - (y->val != NULL);
	return fold_cmp(x->val, x->vlen, y->val, y->vlen);
}

static int pend_key_cmp(const void *a, const void *b)
{
	const pend_key *x = a, *y = b;
	int c = pend_key_cmp_key(x, y);
	if (c)
		return c;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

/*
 * The keys a guest must hold one of for condition c to hold, appended to
 * `out` (pend_key, rule left 0): 1 when there is such a set, 0 when c can
 * hold without any (out is then as it was), PF_ENOMEM.  A preference test
 * gives (category, v) for each of its values, or (category, any); `and`
 * the set of one operand, the narrowest: one naming values, then the
 * fewest keys.  Everything else (`or`, `not`, numbers, tier, tags,
 * language...) has none: such rules are evaluated for every guest.  (An
 * `or` could be filed under the union of its operands' keys; the index's
 * test counts it among the rules always evaluated.)  This is what makes the index exact: a rule not found under
 * any of a guest's keys cannot hold for that guest.
 */
static int cond_keys(const cond *c, vec *out)
{
	switch (c->kind) {
	case C_PREF:
		for (size_t i = 0; i < (c->nvalues ? c->nvalues : 1); i++) {
			pend_key *k = pf_rl_vec_push(out, sizeof *k);
			if (!k)
				return PF_ENOMEM;
			k->cat = c->cat;
			k->clen = strlen(c->cat);
			k->val = c->nvalues ? c->values[i] : NULL;
			k->vlen = k->val ? strlen(k->val) : 0;
		}
		return 1;
	case C_AND: {
		/* Each operand's keys are appended after the best so far and
		 * either replace it (moved down) or are dropped: no scratch. */
		size_t start = out->n, best_n = 0;
		bool best_valued = false;
		int have = 0;
		for (size_t i = 0; i < c->nkids; i++) {
			size_t mark = out->n;
			int r = cond_keys(c->kids[i], out);
			if (r < 0)
				return r;
			if (r == 0)
				continue;         /* out->n is still mark */
			size_t kn = out->n - mark;  /* at least one key */
			pend_key *kk = (pend_key *)out->p + mark;
			bool valued = true;
			for (size_t j = 0; j < kn; j++)
				valued = valued && kk[j].val != NULL;
			if (!have || (valued && !best_valued) ||
			    (valued == best_valued && kn < best_n)) {
				memmove((pend_key *)out->p + start, kk, kn * sizeof *kk);
				out->n = start + kn;
				best_n = kn;
				best_valued = valued;
				have = 1;
			} else {
				out->n = mark;
			}
		}
		return have;
	}
	default:
		return 0;
	}
}

/* The index of one event kind, in the arena (see kind_idx). */
static int build_kind_index(pf_rulebook *rb, int k)
{
	kind_idx *ix = &rb->idx[k];
	vec pend = { 0 }, always = { 0 };
	int rc = 0;

	for (size_t i = 0; i < rb->nrules; i++) {
		const rule *ru = &rb->rules[i];
		if (!(ru->events & (1u << k)))
			continue;
		size_t mark = pend.n;
		int r = ru->when ? cond_keys(ru->when, &pend) : 0;
		if (r < 0) {
			rc = pf_rl_oom();
			goto out;
		}
		if (r == 0) {
			uint32_t *slot = pf_rl_vec_push(&always, sizeof *slot);
			if (!slot) {
				rc = pf_rl_oom();
				goto out;
			}
			*slot = (uint32_t)i;
		}
		for (size_t j = mark; j < pend.n; j++)
			((pend_key *)pend.p)[j].rule = (uint32_t)i;
	}
	pend_key *pk = pend.p;
	if (pend.n > 1)
		qsort(pk, pend.n, sizeof *pk, pend_key_cmp);
	/* A rule listing a value twice, or `or`-ing one key twice, is filed once. */
	size_t n = 0, nkeys = 0;
	for (size_t i = 0; i < pend.n; i++) {
		if (n && pend_key_cmp(&pk[n - 1], &pk[i]) == 0)
			continue;
		if (!n || pend_key_cmp_key(&pk[n - 1], &pk[i]) != 0)
			nkeys++;
		pk[n++] = pk[i];
	}
	size_t cap = 0;
	if (nkeys) {
		cap = 4;
		while (cap < nkeys * 2)   /* half full at most: probes stay short */
			cap *= 2;
	}
	uint32_t *lists = n ? pf_rl_arena_alloc(&rb->arena, n * sizeof *lists) : NULL;
	idx_key *keys = cap ? pf_rl_arena_alloc(&rb->arena, cap * sizeof *keys) : NULL;
	uint32_t *alw = always.n ? pf_rl_arena_memdup(&rb->arena, always.p,
	                                              always.n * sizeof *alw) : NULL;
	if ((n && !lists) || (cap && !keys) || (always.n && !alw)) {
		rc = pf_rl_oom();
		goto out;
	}
	if (cap)
		memset(keys, 0, cap * sizeof *keys);
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && pend_key_cmp_key(&pk[i], &pk[e]) == 0) {
			lists[e] = pk[e].rule;
			e++;
		}
		char *val = NULL;
		if (pk[i].val) {
			if (!(val = pf_rl_arena_strndup(&rb->arena, pk[i].val, pk[i].vlen))) {
				rc = pf_rl_oom();
				goto out;
			}
			for (char *q = val; *q; q++)
				if (*q >= 'A' && *q <= 'Z')
					*q = (char)(*q + 32);
		}
		uint64_t h = pf_rl_idx_hash(pk[i].cat, pk[i].clen, val, pk[i].vlen);
		size_t s = h & (cap - 1);
		while (keys[s].cat)
			s = (s + 1) & (cap - 1);
		keys[s] = (idx_key){ pk[i].cat, val, pk[i].clen, pk[i].vlen, h,
		                     (uint32_t)i, (uint32_t)(e - i) };
		i = e;
	}
	ix->always = alw;
	ix->nalways = always.n;
	ix->keys = keys;
	ix->nkeys = cap;
	ix->lists = lists;
out:
	pf_rl_vec_free(&pend);
	pf_rl_vec_free(&always);
	return rc;
}

static int build_index(pf_rulebook *rb)
{
	for (int k = 0; k < EV_KINDS; k++) {
		int rc = build_kind_index(rb, k);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public: parse                                                        */
/* ------------------------------------------------------------------ */

int pf_rulebook_parse(pf_rulebook **out, const char *name, const char *text, size_t len,
                      pf_rule_error *err)
{
	parser p;
	pf_rulebook *rb = NULL;
	int rc;

	if (err)
		memset(err, 0, sizeof *err);
	if (!out)
		return pf_seterr(PF_EINVAL, "pf_rulebook_parse: out is NULL");
	*out = NULL;
	if (!text)
		return pf_seterr(PF_EINVAL, "pf_rulebook_parse: text is NULL");

	memset(&p, 0, sizeof p);
	p.name = name ? name : "<rules>";
	p.err = err;
	p.line = p.col = 1;
	if (!(rb = calloc(1, sizeof *rb))) {
		rc = pf_rl_oom();
		goto fail;
	}
	atomic_init(&rb->refs, 1);
	p.rb = rb;
	char *copy = pf_rl_arena_alloc(&rb->arena, len + 1);
	if (!copy) {
		rc = pf_rl_oom();
		goto fail;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	rb->text = p.s = copy;
	rb->len = p.len = len;

	if ((rc = pf_rl_check_text(&p)) || (rc = pf_rl_lex(&p)))
		goto fail;
	while (p.cur.type != T_EOF) {
		if (!pf_rl_is_kw(&p, "rule")) {
			rc = pf_rl_expected(&p, "'rule'");
			goto fail;
		}
		if ((rc = parse_rule(&p)))
			goto fail;
	}
	if ((rc = build_index(rb)))
		goto fail;
	*out = rb;
	rb = NULL;
fail:
	free(p.names);
	pf_rl_vec_free(&p.tsegs);
	pf_rl_vec_free(&p.tlit);
	pf_rl_vec_free(&p.tbuf);
	pf_rl_vec_free(&p.tmap);
	pf_rulebook_free(rb);
	return rc;
}
