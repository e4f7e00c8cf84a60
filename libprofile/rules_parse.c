/*
 * rules_parse.c — the rule language's lexer and the parser's lower
 * levels: syntax errors ("name:line:col: message"), the check that the
 * text is well-formed UTF-8 without NUL bytes, tokens, words and values,
 * and conditions (`when ...`, compiled into cond trees in the arena).
 *
 * Owns, for rules_compile.c: pf_rl_perr, pf_rl_oom, pf_rl_check_text,
 * pf_rl_lex, pf_rl_is_kw, pf_rl_found (FOUND), pf_rl_expected,
 * pf_rl_decode_string, pf_rl_valid_category, pf_rl_valid_lower_word,
 * pf_rl_valid_rule_name and pf_rl_parse_or.  May call rules.c (arena,
 * scratch arrays, UTF-8 helpers, pf_rl_valid_lang_tag), error.c
 * (pf_seterr), text.c (pf_utf8_cut, pf_tier_parse, pf_country_valid) and
 * utf8proc (character categories of bare words).  Never touches LMDB.
 */
#include "rules_int.h"
#include "error.h"
#include "text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static const char *const op_text[] = { ">=", ">", "=", "<=", "<", "!=" };

/* ------------------------------------------------------------------ */
/* Lexer                                                                */
/* ------------------------------------------------------------------ */

int pf_rl_perr(parser *p, int line, int col, const char *fmt, ...)
{
	char what[256], msg[sizeof p->err->message];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	int n = snprintf(msg, sizeof msg, "%s:%d:%d: %s", p->name, line, col, what);
	if (n >= (int)sizeof msg) /* truncated: do not leave half a character */
		msg[pf_utf8_cut(msg, sizeof msg - 1, sizeof msg - 1)] = '\0';
	if (p->err) {
		p->err->line = line;
		p->err->column = col;
		memcpy(p->err->message, msg, sizeof msg);
	}
	return pf_seterr(PF_ESYNTAX, "%s", msg);
}

int pf_rl_oom(void)
{
	return pf_seterr(PF_ENOMEM, "pf_rulebook_parse: out of memory");
}

/* Reject malformed UTF-8 and NUL bytes up front, with their position, so
 * the lexer and everything compiled from the text can trust it. */
int pf_rl_check_text(parser *p)
{
	int line = 1, col = 1;
	const unsigned char *s = (const unsigned char *)p->s;
	for (size_t i = 0; i < p->len;) {
		if (s[i] == 0)
			return pf_rl_perr(p, line, col, "NUL byte in the rule text");
		size_t k = pf_rl_utf8_seq(s + i, p->len - i);
		if (!k)
			return pf_rl_perr(p, line, col, "invalid UTF-8 (byte 0x%02x)", s[i]);
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
		i += k;
	}
	return 0;
}

static void advance_pos(parser *p, size_t n)
{
	for (size_t end = p->pos + n; p->pos < end; p->pos++) {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '\n') {
			p->line++;
			p->col = 1;
		} else if ((c & 0xC0) != 0x80)
			p->col++;
	}
}

/* Bare words: [A-Za-z0-9_.+-] and non-ASCII letters, marks and digits.
 * Returns the byte length of the word character at s[i], 0 if none. */
static size_t word_char(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	if (c < 0x80)
		return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' ||
		        c == '-') ? 1 : 0;
	size_t k = pf_rl_utf8_seq((const unsigned char *)s + i, len - i);
	if (!k)
		return 0;
	switch (utf8proc_category(pf_rl_utf8_decode((const unsigned char *)s + i, k))) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return k;
	default:
		return 0;
	}
}

/* Read the next token into p->cur. */
int pf_rl_lex(parser *p)
{
	const char *s = p->s;

	p->prev_end = p->cur.off + p->cur.len;
	for (;;) { /* whitespace and comments */
		if (p->pos >= p->len)
			break;
		char c = s[p->pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			advance_pos(p, 1);
		} else if (c == '#') {
			size_t e = p->pos;
			while (e < p->len && s[e] != '\n')
				e++;
			advance_pos(p, e - p->pos);
		} else
			break;
	}

	tok t = { T_EOF, OP_EQ, p->pos, 0, p->line, p->col };
	if (p->pos >= p->len) {
		p->cur = t;
		return 0;
	}
	char c = s[p->pos];
	char c2 = p->pos + 1 < p->len ? s[p->pos + 1] : '\0';
	size_t n = 1;
	switch (c) {
	case '(': t.type = T_LPAREN; break;
	case ')': t.type = T_RPAREN; break;
	case ',': t.type = T_COMMA; break;
	case '=': t.type = T_OP; t.op = OP_EQ; break;
	case '>': t.type = T_OP; t.op = c2 == '=' ? OP_GE : OP_GT; n = c2 == '=' ? 2 : 1; break;
	case '<': t.type = T_OP; t.op = c2 == '=' ? OP_LE : OP_LT; n = c2 == '=' ? 2 : 1; break;
	case '!':
		if (c2 == '=') {
			t.type = T_OP;
			t.op = OP_NE;
			n = 2;
		} else
			t.type = T_OTHER;
		break;
	case '"': {
		/* Strings stay on one line; only \" and \\ are escapes. */
		size_t i = p->pos + 1;
		for (;;) {
			if (i >= p->len || s[i] == '\n')
				return pf_rl_perr(p, t.line, t.col, "unterminated string");
			if (s[i] == '"')
				break;
			if (s[i] == '\\') {
				if (i + 1 >= p->len || s[i + 1] == '\n')
					return pf_rl_perr(p, t.line, t.col, "unterminated string");
				if (s[i + 1] != '"' && s[i + 1] != '\\') {
					size_t k = pf_rl_utf8_seq((const unsigned char *)s + i + 1, p->len - i - 1);
					return pf_rl_perr(p, t.line, t.col + pf_rl_utf8_chars(s + t.off, i - t.off),
					            "unknown escape '\\%.*s' in a string (only \\\" and \\\\)",
					            (int)k, s + i + 1);
				}
				i++;
			}
			i++;
		}
		t.type = T_STRING;
		n = i + 1 - p->pos;
		break;
	}
	default: {
		size_t i = p->pos, k;
		while (i < p->len && (k = word_char(s, p->len, i)) > 0)
			i += k;
		if (i > p->pos) {
			t.type = T_WORD;
			n = i - p->pos;
		} else {
			t.type = T_OTHER;
			n = pf_rl_utf8_seq((const unsigned char *)s + p->pos, p->len - p->pos);
		}
	}
	}
	t.len = n;
	advance_pos(p, n);
	p->cur = t;
	return 0;
}

bool pf_rl_is_kw(const parser *p, const char *kw)
{
	return p->cur.type == T_WORD && p->cur.len == strlen(kw) &&
	       memcmp(p->s + p->cur.off, kw, p->cur.len) == 0;
}

/* How the current token reads in an error message. */
const char *pf_rl_found(const parser *p, char *buf, size_t cap)
{
	const tok *t = &p->cur;
	switch (t->type) {
	case T_EOF:
		return "end of text";
	case T_STRING:
		return "a string";
	default: {
		size_t n = pf_utf8_cut(p->s + t->off, t->len, SHOW_MAX);
		snprintf(buf, cap, "'%.*s%s'", (int)n, p->s + t->off, n < t->len ? "..." : "");
		return buf;
	}
	}
}

/* Error at the current token: "<what>, found <token>". */
int pf_rl_expected(parser *p, const char *what)
{
	char fbuf[SHOW_MAX + 8];
	return pf_rl_perr(p, p->cur.line, p->cur.col, "expected %s, found %s", what, FOUND);
}

/* Decode the current string token (escapes resolved).  If srcmap is not
 * NULL, (*srcmap)[i] receives the source offset of decoded byte i, so
 * template errors can point into the source.  Caller frees both. */
int pf_rl_decode_string(parser *p, char **out, size_t *outlen, size_t **srcmap)
{
	const tok *t = &p->cur;
	size_t raw = t->len - 2, n = 0;
	char *buf = malloc(raw + 1);
	size_t *map = srcmap ? malloc((raw + 1) * sizeof *map) : NULL;

	if (!buf || (srcmap && !map)) {
		free(buf);
		free(map);
		return pf_rl_oom();
	}
	for (size_t i = t->off + 1; i < t->off + t->len - 1; i++) {
		if (p->s[i] == '\\')
			i++;
		if (map)
			map[n] = i;
		buf[n++] = p->s[i];
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	if (srcmap)
		*srcmap = map;
	return 0;
}

/* pf_rl_decode_string into the parser's scratch (p->tbuf, p->tmap), which
 * the next call reuses and pf_rulebook_parse frees: *out and *srcmap are
 * valid until then and are not freed by the caller. */
int pf_rl_decode_scratch(parser *p, char **out, size_t *outlen, size_t **srcmap)
{
	const tok *t = &p->cur;
	size_t raw = t->len - 2, n = 0;

	while (p->tbuf.cap < raw + 1 || p->tmap.cap < raw + 1) {
		size_t cap = p->tbuf.cap > p->tmap.cap ? p->tbuf.cap : p->tmap.cap;
		cap = cap ? cap * 2 : 256;
		char *nb = realloc(p->tbuf.p, cap);
		if (nb) {
			p->tbuf.p = nb;
			p->tbuf.cap = cap;
		}
		size_t *nm = nb ? realloc(p->tmap.p, cap * sizeof *nm) : NULL;
		if (!nm)
			return pf_rl_oom();
		p->tmap.p = nm;
		p->tmap.cap = cap;
	}
	char *buf = p->tbuf.p;
	size_t *map = p->tmap.p;
	for (size_t i = t->off + 1; i < t->off + t->len - 1; i++) {
		if (p->s[i] == '\\')
			i++;
		map[n] = i;
		buf[n++] = p->s[i];
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	*srcmap = map;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parser: words and values                                             */
/* ------------------------------------------------------------------ */

bool pf_rl_valid_category(const char *s, size_t n)
{
	if (n == 0 || n > PF_CATEGORY_MAX)
		return false;
	int words = 1;
	size_t wl = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (wl == 0)
				return false;
			words++;
			wl = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
			wl++;
		else
			return false;
	}
	return wl > 0 && words <= 4;
}

bool pf_rl_valid_lower_word(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

bool pf_rl_valid_rule_name(const char *s, size_t n)
{
	if (n == 0 || n > RULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		          (i > 0 && (c == '_' || c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

/* The current token as a category, copied into the arena. */
static int take_category(parser *p, const char *after, const char **out)
{
	char what[64];
	if (p->cur.type != T_WORD) {
		snprintf(what, sizeof what, "a category after '%s'", after);
		return pf_rl_expected(p, what);
	}
	const char *w = p->s + p->cur.off;
	if (!pf_rl_valid_category(w, p->cur.len)) {
		char fbuf[SHOW_MAX + 8];
		return pf_rl_perr(p, p->cur.line, p->cur.col,
		            "invalid category %s (expected 1 to 4 lower-case words joined by "
		            "dots, e.g. room.floor)", FOUND);
	}
	if (!(*out = pf_rl_arena_strndup(&p->rb->arena, w, p->cur.len)))
		return pf_rl_oom();
	return pf_rl_lex(p);
}

/* A value: a bare word or a quoted string, 1..PF_VALUE_MAX bytes. */
static int take_value(parser *p, const char *what, const char **out)
{
	const tok t = p->cur;
	const char *v;
	size_t n;
	char *buf = NULL;
	int rc;

	if (t.type == T_WORD) {
		v = p->s + t.off;
		n = t.len;
	} else if (t.type == T_STRING) {
		if ((rc = pf_rl_decode_string(p, &buf, &n, NULL)))
			return rc;
		v = buf;
	} else
		return pf_rl_expected(p, what);
	if (n == 0)
		rc = pf_rl_perr(p, t.line, t.col, "expected a non-empty value");
	else if (n > PF_VALUE_MAX)
		rc = pf_rl_perr(p, t.line, t.col, "value is longer than %d bytes", PF_VALUE_MAX);
	else if (!(*out = pf_rl_arena_strndup(&p->rb->arena, v, n)))
		rc = pf_rl_oom();
	else
		rc = pf_rl_lex(p);
	free(buf);
	return rc;
}

static int take_number(parser *p, enum cmp_op op, int64_t *out)
{
	const char *w = p->s + p->cur.off;
	size_t n = p->cur.len;
	bool digits = p->cur.type == T_WORD;

	for (size_t i = 0; digits && i < n; i++)
		digits = w[i] >= '0' && w[i] <= '9';
	if (!digits) {
		char what[64];
		snprintf(what, sizeof what, "a non-negative integer after '%s'", op_text[op]);
		return pf_rl_expected(p, what);
	}
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (w[i] - '0');
		if (v > UINT32_MAX) {
			char fbuf[SHOW_MAX + 8];
			return pf_rl_perr(p, p->cur.line, p->cur.col,
			            "number %s is too large (at most %" PRIu32 ")", FOUND, UINT32_MAX);
		}
	}
	*out = v;
	return pf_rl_lex(p);
}

static int take_op(parser *p, const char *after, enum cmp_op *op)
{
	char what[96];
	if (p->cur.type != T_OP) {
		snprintf(what, sizeof what,
		         "a comparison (>=, >, =, <=, <, !=) after '%s'", after);
		return pf_rl_expected(p, what);
	}
	*op = p->cur.op;
	return pf_rl_lex(p);
}

/* ------------------------------------------------------------------ */
/* Parser: conditions                                                   */
/* ------------------------------------------------------------------ */

static cond *new_cond(parser *p, enum cond_kind kind)
{
	cond *c = pf_rl_arena_alloc(&p->rb->arena, sizeof *c);
	if (c) {
		memset(c, 0, sizeof *c);
		c->kind = kind;
	}
	return c;
}

/* One item of an `in (...)` list; `ctx` is the test's own. */
typedef int (*list_item_fn)(parser *p, const void *ctx, const char **out);

/*
 * The `(X, ...)` of an `in` test, the current token being `in`: every
 * item is read by `take`, the list is copied into the arena as
 * c->values.  `sep` names the list in the error for a missing ',' or ')'.
 */
static int parse_in_list(parser *p, cond *c, list_item_fn take, const void *ctx,
                         const char *sep)
{
	vec vals = { 0 };
	int rc;

	if ((rc = pf_rl_lex(p)))
		return rc;
	if (p->cur.type != T_LPAREN)
		return pf_rl_expected(p, "'(' after 'in'");
	if ((rc = pf_rl_lex(p)))
		return rc;
	for (;;) {
		const char **slot = pf_rl_vec_push(&vals, sizeof *slot);
		if (!slot) {
			rc = pf_rl_oom();
			goto out;
		}
		if ((rc = take(p, ctx, slot)))
			goto out;
		if (p->cur.type == T_RPAREN)
			break;
		if (p->cur.type != T_COMMA) {
			rc = pf_rl_expected(p, sep);
			goto out;
		}
		if ((rc = pf_rl_lex(p)))
			goto out;
	}
	if (!(c->values = pf_rl_arena_memdup(&p->rb->arena, vals.p, vals.n * sizeof(char *)))) {
		rc = pf_rl_oom();
		goto out;
	}
	c->nvalues = vals.n;
	rc = pf_rl_lex(p);
out:
	pf_rl_vec_free(&vals);
	return rc;
}

static int value_item(parser *p, const void *ctx, const char **out)
{
	(void)ctx;
	return take_value(p, "a value in the list", out);
}

/* `= V` or `in (V, ...)` after a category, or nothing (any value). */
static int parse_value_test(parser *p, cond *c)
{
	int rc = 0;

	if (p->cur.type == T_OP && p->cur.op == OP_EQ) {
		const char **slot = pf_rl_arena_alloc(&p->rb->arena, sizeof *slot);
		if (!slot)
			return pf_rl_oom();
		if ((rc = pf_rl_lex(p)) || (rc = take_value(p, "a value after '='", slot)))
			return rc;
		c->values = slot;
		c->nvalues = 1;
		return 0;
	}
	if (!pf_rl_is_kw(p, "in"))
		return 0;
	return parse_in_list(p, c, value_item, NULL, "',' or ')' in the value list");
}

/* One code of a `language` or `country` test: a bare word, checked here
 * so that a typo is refused when the book is loaded. */
static int take_code(parser *p, bool lang, const char *where, const char **out)
{
	char what[64], fbuf[SHOW_MAX + 8];
	const char *w = p->s + p->cur.off;
	size_t n = p->cur.len;

	if (p->cur.type != T_WORD) {
		snprintf(what, sizeof what, "%s %s", lang ? "a language tag" : "a country code",
		         where);
		return pf_rl_expected(p, what);
	}
	if (lang && !pf_rl_valid_lang_tag(w, n))
		return pf_rl_perr(p, p->cur.line, p->cur.col,
		            "invalid language tag %s (expected 2 or 3 letters, then optional "
		            "subtags joined by '-', e.g. zh, pt-BR, zh-Hant)", FOUND);
	if (!lang) {
		char code[4] = "";
		if (n == 3)
			memcpy(code, w, 3);
		if (!pf_country_valid(code))
			return pf_rl_perr(p, p->cur.line, p->cur.col,
			            "invalid country code %s (expected an ISO 3166-1 alpha-3 code "
			            "in upper case, e.g. MAC)", FOUND);
	}
	if (!(*out = pf_rl_arena_strndup(&p->rb->arena, w, n)))
		return pf_rl_oom();
	return pf_rl_lex(p);
}

static int code_item(parser *p, const void *ctx, const char **out)
{
	return take_code(p, *(const bool *)ctx, "in the list", out);
}

/* `= CODE` or `in (CODE, ...)` after `language` or `country`. */
static int parse_code_test(parser *p, cond *c, bool lang)
{
	const char *kw = lang ? "language" : "country";
	char what[64];
	int rc;

	if (p->cur.type == T_OP && p->cur.op == OP_EQ) {
		const char **slot = pf_rl_arena_alloc(&p->rb->arena, sizeof *slot);
		if (!slot)
			return pf_rl_oom();
		if ((rc = pf_rl_lex(p)) || (rc = take_code(p, lang, "after '='", slot)))
			return rc;
		c->values = slot;
		c->nvalues = 1;
		return 0;
	}
	if (!pf_rl_is_kw(p, "in")) {
		snprintf(what, sizeof what, "'=' or 'in' after '%s'", kw);
		return pf_rl_expected(p, what);
	}
	return parse_in_list(p, c, code_item, &lang, lang ? "',' or ')' in the language list"
	                                               : "',' or ')' in the country list");
}

static int parse_primary(parser *p, const cond **out)
{
	static const struct { const char *kw; enum cond_kind kind; } numeric[] = {
		{ "stays", C_STAYS }, { "party", C_PARTY },
		{ "complaints.open", C_COPEN }, { "complaints.total", C_CTOTAL },
	};
	cond *c;
	int rc;

	if (p->cur.type == T_LPAREN) {
		if (++p->depth > NEST_MAX)
			return pf_rl_perr(p, p->cur.line, p->cur.col,
			            "condition nested too deeply (more than %d levels)", NEST_MAX);
		if ((rc = pf_rl_lex(p)) || (rc = pf_rl_parse_or(p, out)))
			return rc;
		if (p->cur.type != T_RPAREN)
			return pf_rl_expected(p, "')'");
		p->depth--;
		return pf_rl_lex(p);
	}

	pf_pref_kind pk = PF_LIKE;
	bool is_pref = true;
	if (pf_rl_is_kw(p, "pref"))
		pk = PF_LIKE;
	else if (pf_rl_is_kw(p, "dislike"))
		pk = PF_DISLIKE;
	else if (pf_rl_is_kw(p, "need"))
		pk = PF_NEED;
	else
		is_pref = false;
	if (is_pref) {
		const char *kw = pk == PF_LIKE ? "pref" : pk == PF_DISLIKE ? "dislike" : "need";
		if (!(c = new_cond(p, C_PREF)))
			return pf_rl_oom();
		c->pkind = pk;
		if ((rc = pf_rl_lex(p)) || (rc = take_category(p, kw, &c->cat)) ||
		    (rc = parse_value_test(p, c)))
			return rc;
		*out = c;
		return 0;
	}

	for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
		if (!pf_rl_is_kw(p, numeric[i].kw))
			continue;
		if (!(c = new_cond(p, numeric[i].kind)))
			return pf_rl_oom();
		if ((rc = pf_rl_lex(p)) || (rc = take_op(p, numeric[i].kw, &c->op)) ||
		    (rc = take_number(p, c->op, &c->n)))
			return rc;
		*out = c;
		return 0;
	}

	if (pf_rl_is_kw(p, "tier")) {
		if (!(c = new_cond(p, C_TIER)))
			return pf_rl_oom();
		if ((rc = pf_rl_lex(p)) || (rc = take_op(p, "tier", &c->op)))
			return rc;
		if (p->cur.type != T_WORD)
			return pf_rl_expected(p, "a tier name (none, silver, gold, platinum or vip)");
		char name[16];
		pf_tier tier;
		bool known = p->cur.len < sizeof name;
		if (known) {
			memcpy(name, p->s + p->cur.off, p->cur.len);
			name[p->cur.len] = '\0';
			known = pf_tier_parse(&tier, name) == 0;
		}
		if (!known) {
			char fbuf[SHOW_MAX + 8];
			return pf_rl_perr(p, p->cur.line, p->cur.col,
			            "unknown tier %s (expected none, silver, gold, platinum or vip)",
			            FOUND);
		}
		c->n = tier;
		*out = c;
		return pf_rl_lex(p);
	}

	if (pf_rl_is_kw(p, "complaints.last_category") || pf_rl_is_kw(p, "tag")) {
		bool tag = pf_rl_is_kw(p, "tag");
		const char **slot;
		if (!(c = new_cond(p, tag ? C_TAG : C_CLASTCAT)) ||
		    !(slot = pf_rl_arena_alloc(&p->rb->arena, sizeof *slot)))
			return pf_rl_oom();
		if ((rc = pf_rl_lex(p)))
			return rc;
		if (!tag) {
			if (p->cur.type != T_OP || p->cur.op != OP_EQ)
				return pf_rl_expected(p, "'=' after 'complaints.last_category'");
			if ((rc = pf_rl_lex(p)))
				return rc;
		}
		if ((rc = take_value(p, tag ? "a tag after 'tag'" : "a category after '='", slot)))
			return rc;
		c->values = slot;
		c->nvalues = 1;
		*out = c;
		return 0;
	}

	if (pf_rl_is_kw(p, "language") || pf_rl_is_kw(p, "country")) {
		bool lang = pf_rl_is_kw(p, "language");
		if (!(c = new_cond(p, lang ? C_LANGUAGE : C_COUNTRY)))
			return pf_rl_oom();
		if ((rc = pf_rl_lex(p)) || (rc = parse_code_test(p, c, lang)))
			return rc;
		*out = c;
		return 0;
	}

	if (pf_rl_is_kw(p, "birthday")) {
		if (!(c = new_cond(p, C_BIRTHDAY)))
			return pf_rl_oom();
		if ((rc = pf_rl_lex(p)))
			return rc;
		if (!pf_rl_is_kw(p, "during"))
			return pf_rl_expected(p, "'during' after 'birthday'");
		if ((rc = pf_rl_lex(p)))
			return rc;
		if (!pf_rl_is_kw(p, "stay"))
			return pf_rl_expected(p, "'stay' after 'birthday during'");
		*out = c;
		return pf_rl_lex(p);
	}

	return pf_rl_expected(p, "a condition (pref, dislike, need, tier, stays, party, tag, "
	                   "language, country, birthday, complaints.*, not or '(')");
}

static int parse_not(parser *p, const cond **out)
{
	if (!pf_rl_is_kw(p, "not"))
		return parse_primary(p, out);
	if (++p->depth > NEST_MAX)
		return pf_rl_perr(p, p->cur.line, p->cur.col,
		            "condition nested too deeply (more than %d levels)", NEST_MAX);
	cond *c = new_cond(p, C_NOT);
	const cond **kid = pf_rl_arena_alloc(&p->rb->arena, sizeof *kid);
	int rc;
	if (!c || !kid)
		return pf_rl_oom();
	if ((rc = pf_rl_lex(p)) || (rc = parse_not(p, kid)))
		return rc;
	p->depth--;
	c->kids = kid;
	c->nkids = 1;
	*out = c;
	return 0;
}

/* One level of `and` or `or`: operands joined by `kw`, made n-ary. */
static int parse_chain(parser *p, const cond **out, const char *kw, enum cond_kind kind,
                       int (*operand)(parser *, const cond **))
{
	vec kids = { 0 };
	const cond *first;
	int rc;

	if ((rc = operand(p, &first)))
		return rc;
	if (!pf_rl_is_kw(p, kw)) {
		*out = first;
		return 0;
	}
	const cond **slot = pf_rl_vec_push(&kids, sizeof *slot);
	if (!slot) {
		rc = pf_rl_oom();
		goto out;
	}
	*slot = first;
	while (pf_rl_is_kw(p, kw)) {
		if ((rc = pf_rl_lex(p)))
			goto out;
		if (!(slot = pf_rl_vec_push(&kids, sizeof *slot))) {
			rc = pf_rl_oom();
			goto out;
		}
		if ((rc = operand(p, slot)))
			goto out;
	}
	cond *c = new_cond(p, kind);
	if (!c || !(c->kids = pf_rl_arena_memdup(&p->rb->arena, kids.p, kids.n * sizeof(cond *)))) {
		rc = pf_rl_oom();
		goto out;
	}
	c->nkids = kids.n;
	*out = c;
out:
	pf_rl_vec_free(&kids);
	return rc;
}

static int parse_and(parser *p, const cond **out)
{
	return parse_chain(p, out, "and", C_AND, parse_not);
}

int pf_rl_parse_or(parser *p, const cond **out)
{
	return parse_chain(p, out, "or", C_OR, parse_and);
}
