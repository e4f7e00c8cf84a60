/*
 * rules.c — the rule language.  A hand-written lexer and recursive-descent
 * parser compile a rule book into immutable rules plus an index (per
 * event kind: rules keyed by a category the guest must have, and an
 * "always" list); the evaluator turns one in-memory pf_view into matches.
 *
 * Owns pf_rulebook_* and pf_match_list_free.  May call error.c
 * (pf_seterr), text.c (pf_tier_parse, pf_tier_name, pf_utf8_cut,
 * pf_country_valid), pref.c (pf_guest_rec_pref_find) and utf8proc.  Never touches LMDB: event.c assembles
 * the view and stores what comes out.
 *
 * Language tags (conditions `language = zh`, per-language texts of a
 * notify) compare ASCII case-insensitively, and a guest's "zh_TW" is read
 * as "zh-TW": the profile field is free text from a PMS, while the rule
 * book's tags are checked when it is loaded.
 *
 * Memory: everything a compiled book points at (names, conditions,
 * templates, a copy of the source text) lives in one arena freed at once,
 * so an error anywhere in the parse cannot leak a half-built rule.
 */
#include "rules.h"
#include "error.h"
#include "text.h"
#include "codec.h"
#include "pref.h"

#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define RULE_NAME_MAX   64
#define TEMPLATE_MAX    1000
#define NEST_MAX        64          /* parentheses / `not` levels in a condition */
#define DURATION_MAX    (30 * 86400)
#define EV_KINDS        4           /* PF_EVENT_RESERVATION .. PF_EVENT_ROOM_CHANGE */
#define SHOW_MAX        40          /* bytes of a token quoted in an error message */

/* ------------------------------------------------------------------ */
/* Arena and growable arrays                                            */
/* ------------------------------------------------------------------ */

typedef struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
} arena_blk;

#define ARENA_ALIGN  alignof(max_align_t)
#define ARENA_HDR    ((sizeof(arena_blk) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))
#define ARENA_BLOCK  16384

static void *arena_alloc(arena_blk **head, size_t n)
{
	if (n > SIZE_MAX / 2)
		return NULL;
	n = n ? (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1) : ARENA_ALIGN;
	arena_blk *b = *head;
	if (!b || b->cap - b->used < n) {
		bool big = n > ARENA_BLOCK / 2;
		arena_blk *nb = malloc(ARENA_HDR + (big ? n : ARENA_BLOCK));
		if (!nb)
			return NULL;
		nb->cap = big ? n : ARENA_BLOCK;
		nb->used = 0;
		/* A big allocation gets a block of its own behind the head, so
		 * the partly used head block keeps filling. */
		if (big && b) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			*head = nb;
		}
		b = nb;
	}
	void *p = (char *)b + ARENA_HDR + b->used;
	b->used += n;
	return p;
}

static void arena_free(arena_blk *b)
{
	while (b) {
		arena_blk *next = b->next;
		free(b);
		b = next;
	}
}

static char *arena_strndup(arena_blk **a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void *arena_memdup(arena_blk **a, const void *s, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

/* A malloc'd array that grows by doubling; the parser's scratch space. */
typedef struct vec {
	void *p;
	size_t n, cap;
} vec;

static void *vec_push(vec *v, size_t elsz)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		if (cap > SIZE_MAX / elsz)
			return NULL;
		void *np = realloc(v->p, cap * elsz);
		if (!np)
			return NULL;
		v->p = np;
		v->cap = cap;
	}
	void *slot = (char *)v->p + v->n++ * elsz;
	memset(slot, 0, elsz);
	return slot;
}

static void vec_free(vec *v)
{
	free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
}

/* ------------------------------------------------------------------ */
/* The compiled form                                                    */
/* ------------------------------------------------------------------ */

enum cmp_op { OP_GE, OP_GT, OP_EQ, OP_LE, OP_LT, OP_NE };
static const char *const op_text[] = { ">=", ">", "=", "<=", "<", "!=" };

enum cond_kind {
	C_AND, C_OR, C_NOT,
	C_PREF,          /* pref / dislike / need: pkind says which */
	C_TIER, C_STAYS, C_PARTY, C_COPEN, C_CTOTAL,
	C_CLASTCAT, C_TAG, C_BIRTHDAY,
	C_LANGUAGE,      /* values: language tags, any covers the guest's */
	C_COUNTRY        /* values: ISO 3166-1 alpha-3 codes, compared exactly */
};

typedef struct cond {
	enum cond_kind kind;
	enum cmp_op op;
	pf_pref_kind pkind;
	const char *cat;
	const char *const *values;  /* C_PREF: 0 values = any; C_CLASTCAT, C_TAG: 1;
	                               C_LANGUAGE, C_COUNTRY: 1 or more */
	size_t nvalues;
	int64_t n;                  /* right-hand side of a comparison */
	const struct cond *const *kids;  /* and/or: n-ary (keeps trees shallow); not: 1 */
	size_t nkids;
} cond;

enum seg_kind {
	S_TEXT, S_NAME, S_TIER, S_ROOM, S_PARTY, S_STAYS, S_STAYS1, S_PREF, S_NOTE,
	S_COMPLAINT
};

typedef struct seg {
	enum seg_kind kind;
	const char *text;           /* S_TEXT */
	size_t len;
	const char *cat;            /* S_PREF, S_NOTE */
} seg;

/* One compiled template. */
typedef struct tmpl {
	const seg *segs;
	size_t nsegs;
} tmpl;

/* A notify's text for one language ("zh", "pt-BR"), as the book wrote it. */
typedef struct lang_text {
	const char *tag;
	tmpl t;
} lang_text;

typedef struct notify {
	const char *dept;
	pf_priority prio;
	int64_t within;
	bool guest_facing;          /* department kiosk, or marked guest_facing */
	tmpl text;                  /* the default text */
	const lang_text *texts;     /* only ever set when guest_facing */
	size_t ntexts;
} notify;

typedef struct rule {
	const char *name;
	int line;
	size_t src_off, src_len;
	unsigned events;            /* bit (kind - 1) */
	const cond *when;           /* NULL: always */
	const notify *notes;
	size_t nnotes;
} rule;

typedef struct idx_ent {
	const char *cat;
	uint32_t rule;
} idx_ent;

typedef struct kind_idx {
	uint32_t *always;           /* rule numbers, ascending */
	size_t nalways;
	idx_ent *bycat;             /* sorted by (category, rule) */
	size_t nbycat;
} kind_idx;

struct pf_rulebook {
	arena_blk *arena;
	const char *text;           /* the source, owned (rule sources point into it) */
	size_t len;
	rule *rules;
	size_t nrules, caprules;
	kind_idx idx[EV_KINDS];
};

/* ------------------------------------------------------------------ */
/* UTF-8 helpers                                                        */
/* ------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 if
 * malformed: overlongs, surrogates and values past U+10FFFF refused. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0) lo = 0xA0;
		if (c == 0xED) hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0) lo = 0x90;
		if (c == 0xF4) hi = 0x8F;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* Code point of a sequence already known to be well-formed. */
static int32_t utf8_decode(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0];
	int32_t cp = s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3F);
	return cp;
}

/* Characters (not bytes) in s[0..n): columns count characters. */
static int utf8_chars(const char *s, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

static bool ascii_lower_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z') x += 32;
		if (y >= 'A' && y <= 'Z') y += 32;
		if (x != y)
			return false;
	}
	return true;
}

static bool ci_eq(const char *a, const char *b)
{
	return a && b && ascii_lower_eq(a, strlen(a), b);
}

/* ------------------------------------------------------------------ */
/* Language tags                                                        */
/* ------------------------------------------------------------------ */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A language tag as a rule book may write it: a primary language subtag
 * of 2 or 3 ASCII letters (ISO 639), then any subtags of 1 to 8 letters
 * or digits, joined by '-': "zh", "pt-BR", "zh-Hant-TW".  Keeping the
 * primary subtag to 2 or 3 letters also keeps the words `rule` and
 * `notify` from reading as a tag after a template. */
static bool valid_lang_tag(const char *s, size_t n)
{
	size_t i = 0;
	if (n > PF_FIELD_MAX)
		return false;
	while (i < n && is_alpha(s[i]))
		i++;
	if (i < 2 || i > 3)
		return false;
	while (i < n) {
		if (s[i++] != '-')
			return false;
		size_t start = i;
		while (i < n && (is_alpha(s[i]) || (s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i == start || i - start > 8)
			return false;
	}
	return true;
}

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
/* Lexer                                                                */
/* ------------------------------------------------------------------ */

enum tok_type { T_EOF, T_WORD, T_STRING, T_LPAREN, T_RPAREN, T_COMMA, T_OP, T_OTHER };

typedef struct tok {
	enum tok_type type;
	enum cmp_op op;
	size_t off, len;            /* span in the source (strings: with quotes) */
	int line, col;
} tok;

typedef struct parser {
	const char *name;
	const char *s;
	size_t len;
	size_t pos;
	int line, col;              /* of s[pos] */
	tok cur;                    /* the look-ahead token */
	size_t prev_end;            /* end of the last token consumed */
	int depth;
	pf_rulebook *rb;
	pf_rule_error *err;
	uint32_t *names;            /* open-addressing set of rule numbers + 1, by name */
	size_t names_cap;
} parser;

static int perr(parser *p, int line, int col, const char *fmt, ...) PF_PRINTF(4, 5);

static int perr(parser *p, int line, int col, const char *fmt, ...)
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

static int oom(void)
{
	return pf_seterr(PF_ENOMEM, "pf_rulebook_parse: out of memory");
}

/* Reject malformed UTF-8 and NUL bytes up front, with their position, so
 * the lexer and everything compiled from the text can trust it. */
static int check_text(parser *p)
{
	int line = 1, col = 1;
	const unsigned char *s = (const unsigned char *)p->s;
	for (size_t i = 0; i < p->len;) {
		if (s[i] == 0)
			return perr(p, line, col, "NUL byte in the rule text");
		size_t k = utf8_seq(s + i, p->len - i);
		if (!k)
			return perr(p, line, col, "invalid UTF-8 (byte 0x%02x)", s[i]);
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
	size_t k = utf8_seq((const unsigned char *)s + i, len - i);
	if (!k)
		return 0;
	switch (utf8proc_category(utf8_decode((const unsigned char *)s + i, k))) {
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
static int lex(parser *p)
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
				return perr(p, t.line, t.col, "unterminated string");
			if (s[i] == '"')
				break;
			if (s[i] == '\\') {
				if (i + 1 >= p->len || s[i + 1] == '\n')
					return perr(p, t.line, t.col, "unterminated string");
				if (s[i + 1] != '"' && s[i + 1] != '\\') {
					size_t k = utf8_seq((const unsigned char *)s + i + 1, p->len - i - 1);
					return perr(p, t.line, t.col + utf8_chars(s + t.off, i - t.off),
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
			n = utf8_seq((const unsigned char *)s + p->pos, p->len - p->pos);
		}
	}
	}
	t.len = n;
	advance_pos(p, n);
	p->cur = t;
	return 0;
}

static bool is_kw(const parser *p, const char *kw)
{
	return p->cur.type == T_WORD && p->cur.len == strlen(kw) &&
	       memcmp(p->s + p->cur.off, kw, p->cur.len) == 0;
}

/* How the current token reads in an error message. */
static const char *found(const parser *p, char *buf, size_t cap)
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

#define FOUND found(p, fbuf, sizeof fbuf)

/* Error at the current token: "<what>, found <token>". */
static int expected(parser *p, const char *what)
{
	char fbuf[SHOW_MAX + 8];
	return perr(p, p->cur.line, p->cur.col, "expected %s, found %s", what, FOUND);
}

/* Decode the current string token (escapes resolved).  If srcmap is not
 * NULL, (*srcmap)[i] receives the source offset of decoded byte i, so
 * template errors can point into the source.  Caller frees both. */
static int decode_string(parser *p, char **out, size_t *outlen, size_t **srcmap)
{
	const tok *t = &p->cur;
	size_t raw = t->len - 2, n = 0;
	char *buf = malloc(raw + 1);
	size_t *map = srcmap ? malloc((raw + 1) * sizeof *map) : NULL;

	if (!buf || (srcmap && !map)) {
		free(buf);
		free(map);
		return oom();
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

/* ------------------------------------------------------------------ */
/* Parser: words and values                                             */
/* ------------------------------------------------------------------ */

static bool valid_category(const char *s, size_t n)
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

static bool valid_lower_word(const char *s, size_t n, size_t max)
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

static bool valid_rule_name(const char *s, size_t n)
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
		return expected(p, what);
	}
	const char *w = p->s + p->cur.off;
	if (!valid_category(w, p->cur.len)) {
		char fbuf[SHOW_MAX + 8];
		return perr(p, p->cur.line, p->cur.col,
		            "invalid category %s (expected 1 to 4 lower-case words joined by "
		            "dots, e.g. room.floor)", FOUND);
	}
	if (!(*out = arena_strndup(&p->rb->arena, w, p->cur.len)))
		return oom();
	return lex(p);
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
		if ((rc = decode_string(p, &buf, &n, NULL)))
			return rc;
		v = buf;
	} else
		return expected(p, what);
	if (n == 0)
		rc = perr(p, t.line, t.col, "expected a non-empty value");
	else if (n > PF_VALUE_MAX)
		rc = perr(p, t.line, t.col, "value is longer than %d bytes", PF_VALUE_MAX);
	else if (!(*out = arena_strndup(&p->rb->arena, v, n)))
		rc = oom();
	else
		rc = lex(p);
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
		return expected(p, what);
	}
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (w[i] - '0');
		if (v > UINT32_MAX) {
			char fbuf[SHOW_MAX + 8];
			return perr(p, p->cur.line, p->cur.col,
			            "number %s is too large (at most %" PRIu32 ")", FOUND, UINT32_MAX);
		}
	}
	*out = v;
	return lex(p);
}

static int take_op(parser *p, const char *after, enum cmp_op *op)
{
	char what[96];
	if (p->cur.type != T_OP) {
		snprintf(what, sizeof what,
		         "a comparison (>=, >, =, <=, <, !=) after '%s'", after);
		return expected(p, what);
	}
	*op = p->cur.op;
	return lex(p);
}

/* ------------------------------------------------------------------ */
/* Parser: conditions                                                   */
/* ------------------------------------------------------------------ */

static int parse_or(parser *p, const cond **out);

static cond *new_cond(parser *p, enum cond_kind kind)
{
	cond *c = arena_alloc(&p->rb->arena, sizeof *c);
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

	if ((rc = lex(p)))
		return rc;
	if (p->cur.type != T_LPAREN)
		return expected(p, "'(' after 'in'");
	if ((rc = lex(p)))
		return rc;
	for (;;) {
		const char **slot = vec_push(&vals, sizeof *slot);
		if (!slot) {
			rc = oom();
			goto out;
		}
		if ((rc = take(p, ctx, slot)))
			goto out;
		if (p->cur.type == T_RPAREN)
			break;
		if (p->cur.type != T_COMMA) {
			rc = expected(p, sep);
			goto out;
		}
		if ((rc = lex(p)))
			goto out;
	}
	if (!(c->values = arena_memdup(&p->rb->arena, vals.p, vals.n * sizeof(char *)))) {
		rc = oom();
		goto out;
	}
	c->nvalues = vals.n;
	rc = lex(p);
out:
	vec_free(&vals);
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
		const char **slot = arena_alloc(&p->rb->arena, sizeof *slot);
		if (!slot)
			return oom();
		if ((rc = lex(p)) || (rc = take_value(p, "a value after '='", slot)))
			return rc;
		c->values = slot;
		c->nvalues = 1;
		return 0;
	}
	if (!is_kw(p, "in"))
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
		return expected(p, what);
	}
	if (lang && !valid_lang_tag(w, n))
		return perr(p, p->cur.line, p->cur.col,
		            "invalid language tag %s (expected 2 or 3 letters, then optional "
		            "subtags joined by '-', e.g. zh, pt-BR, zh-Hant)", FOUND);
	if (!lang) {
		char code[4] = "";
		if (n == 3)
			memcpy(code, w, 3);
		if (!pf_country_valid(code))
			return perr(p, p->cur.line, p->cur.col,
			            "invalid country code %s (expected an ISO 3166-1 alpha-3 code "
			            "in upper case, e.g. MAC)", FOUND);
	}
	if (!(*out = arena_strndup(&p->rb->arena, w, n)))
		return oom();
	return lex(p);
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
		const char **slot = arena_alloc(&p->rb->arena, sizeof *slot);
		if (!slot)
			return oom();
		if ((rc = lex(p)) || (rc = take_code(p, lang, "after '='", slot)))
			return rc;
		c->values = slot;
		c->nvalues = 1;
		return 0;
	}
	if (!is_kw(p, "in")) {
		snprintf(what, sizeof what, "'=' or 'in' after '%s'", kw);
		return expected(p, what);
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
			return perr(p, p->cur.line, p->cur.col,
			            "condition nested too deeply (more than %d levels)", NEST_MAX);
		if ((rc = lex(p)) || (rc = parse_or(p, out)))
			return rc;
		if (p->cur.type != T_RPAREN)
			return expected(p, "')'");
		p->depth--;
		return lex(p);
	}

	pf_pref_kind pk = PF_LIKE;
	bool is_pref = true;
	if (is_kw(p, "pref"))
		pk = PF_LIKE;
	else if (is_kw(p, "dislike"))
		pk = PF_DISLIKE;
	else if (is_kw(p, "need"))
		pk = PF_NEED;
	else
		is_pref = false;
	if (is_pref) {
		const char *kw = pk == PF_LIKE ? "pref" : pk == PF_DISLIKE ? "dislike" : "need";
		if (!(c = new_cond(p, C_PREF)))
			return oom();
		c->pkind = pk;
		if ((rc = lex(p)) || (rc = take_category(p, kw, &c->cat)) ||
		    (rc = parse_value_test(p, c)))
			return rc;
		*out = c;
		return 0;
	}

	for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
		if (!is_kw(p, numeric[i].kw))
			continue;
		if (!(c = new_cond(p, numeric[i].kind)))
			return oom();
		if ((rc = lex(p)) || (rc = take_op(p, numeric[i].kw, &c->op)) ||
		    (rc = take_number(p, c->op, &c->n)))
			return rc;
		*out = c;
		return 0;
	}

	if (is_kw(p, "tier")) {
		if (!(c = new_cond(p, C_TIER)))
			return oom();
		if ((rc = lex(p)) || (rc = take_op(p, "tier", &c->op)))
			return rc;
		if (p->cur.type != T_WORD)
			return expected(p, "a tier name (none, silver, gold, platinum or vip)");
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
			return perr(p, p->cur.line, p->cur.col,
			            "unknown tier %s (expected none, silver, gold, platinum or vip)",
			            FOUND);
		}
		c->n = tier;
		*out = c;
		return lex(p);
	}

	if (is_kw(p, "complaints.last_category") || is_kw(p, "tag")) {
		bool tag = is_kw(p, "tag");
		const char **slot;
		if (!(c = new_cond(p, tag ? C_TAG : C_CLASTCAT)) ||
		    !(slot = arena_alloc(&p->rb->arena, sizeof *slot)))
			return oom();
		if ((rc = lex(p)))
			return rc;
		if (!tag) {
			if (p->cur.type != T_OP || p->cur.op != OP_EQ)
				return expected(p, "'=' after 'complaints.last_category'");
			if ((rc = lex(p)))
				return rc;
		}
		if ((rc = take_value(p, tag ? "a tag after 'tag'" : "a category after '='", slot)))
			return rc;
		c->values = slot;
		c->nvalues = 1;
		*out = c;
		return 0;
	}

	if (is_kw(p, "language") || is_kw(p, "country")) {
		bool lang = is_kw(p, "language");
		if (!(c = new_cond(p, lang ? C_LANGUAGE : C_COUNTRY)))
			return oom();
		if ((rc = lex(p)) || (rc = parse_code_test(p, c, lang)))
			return rc;
		*out = c;
		return 0;
	}

	if (is_kw(p, "birthday")) {
		if (!(c = new_cond(p, C_BIRTHDAY)))
			return oom();
		if ((rc = lex(p)))
			return rc;
		if (!is_kw(p, "during"))
			return expected(p, "'during' after 'birthday'");
		if ((rc = lex(p)))
			return rc;
		if (!is_kw(p, "stay"))
			return expected(p, "'stay' after 'birthday during'");
		*out = c;
		return lex(p);
	}

	return expected(p, "a condition (pref, dislike, need, tier, stays, party, tag, "
	                   "language, country, birthday, complaints.*, not or '(')");
}

static int parse_not(parser *p, const cond **out)
{
	if (!is_kw(p, "not"))
		return parse_primary(p, out);
	if (++p->depth > NEST_MAX)
		return perr(p, p->cur.line, p->cur.col,
		            "condition nested too deeply (more than %d levels)", NEST_MAX);
	cond *c = new_cond(p, C_NOT);
	const cond **kid = arena_alloc(&p->rb->arena, sizeof *kid);
	int rc;
	if (!c || !kid)
		return oom();
	if ((rc = lex(p)) || (rc = parse_not(p, kid)))
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
	if (!is_kw(p, kw)) {
		*out = first;
		return 0;
	}
	const cond **slot = vec_push(&kids, sizeof *slot);
	if (!slot) {
		rc = oom();
		goto out;
	}
	*slot = first;
	while (is_kw(p, kw)) {
		if ((rc = lex(p)))
			goto out;
		if (!(slot = vec_push(&kids, sizeof *slot))) {
			rc = oom();
			goto out;
		}
		if ((rc = operand(p, slot)))
			goto out;
	}
	cond *c = new_cond(p, kind);
	if (!c || !(c->kids = arena_memdup(&p->rb->arena, kids.p, kids.n * sizeof(cond *)))) {
		rc = oom();
		goto out;
	}
	c->nkids = kids.n;
	*out = c;
out:
	vec_free(&kids);
	return rc;
}

static int parse_and(parser *p, const cond **out)
{
	return parse_chain(p, out, "and", C_AND, parse_not);
}

static int parse_or(parser *p, const cond **out)
{
	return parse_chain(p, out, "or", C_OR, parse_and);
}

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
		if (!valid_category(s + i, n - i))
			return false;
		out->kind = s[0] == 'p' ? S_PREF : S_NOTE;
		if (!(out->cat = arena_strndup(&p->rb->arena, s + i, n - i)))
			*rc = oom();
		return true;
	}
	return false;
}

/* Flush pending literal text into a segment. */
static int flush_text(parser *p, vec *segs, vec *lit)
{
	if (lit->n == 0)
		return 0;
	seg *sg = vec_push(segs, sizeof *sg);
	if (!sg || !(sg->text = arena_memdup(&p->rb->arena, lit->p, lit->n)))
		return oom();
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
	vec segs = { 0 }, lit = { 0 };
	int rc;

	if ((rc = decode_string(p, &buf, &n, &map)))
		return rc;
#define COL_AT(i) (t.col + utf8_chars(p->s + t.off, map[i] - t.off))
	if (n == 0) {
		rc = perr(p, t.line, t.col, "empty template");
		goto out;
	}
	if (n > TEMPLATE_MAX) {
		rc = perr(p, t.line, t.col, "template is longer than %d bytes", TEMPLATE_MAX);
		goto out;
	}
	for (size_t i = 0; i < n;) {
		char c = buf[i];
		if ((c == '{' || c == '}') && i + 1 < n && buf[i + 1] == c) {
			char *slot = vec_push(&lit, 1);
			if (!slot) {
				rc = oom();
				goto out;
			}
			*slot = c;
			i += 2;
		} else if (c == '}') {
			rc = perr(p, t.line, COL_AT(i),
			          "unexpected '}' in a template (write '}}' for a literal brace)");
			goto out;
		} else if (c == '{') {
			size_t j = i + 1;
			while (j < n && buf[j] != '}' && buf[j] != '{')
				j++;
			if (j >= n || buf[j] != '}') {
				rc = perr(p, t.line, COL_AT(i), "unterminated placeholder in a template "
				          "(write '{{' for a literal brace)");
				goto out;
			}
			seg ph = { 0 };
			rc = 0;
			if (!placeholder(p, buf + i + 1, j - i - 1, &ph, &rc)) {
				size_t show = pf_utf8_cut(buf + i + 1, j - i - 1, SHOW_MAX);
				rc = perr(p, t.line, COL_AT(i), "unknown placeholder '{%.*s%s}'",
				          (int)show, buf + i + 1, show < j - i - 1 ? "..." : "");
				goto out;
			}
			if (rc || (rc = flush_text(p, &segs, &lit)))
				goto out;
			seg *sg = vec_push(&segs, sizeof *sg);
			if (!sg) {
				rc = oom();
				goto out;
			}
			*sg = ph;
			i = j + 1;
		} else {
			char *slot = vec_push(&lit, 1);
			if (!slot) {
				rc = oom();
				goto out;
			}
			*slot = c;
			i++;
		}
	}
#undef COL_AT
	if ((rc = flush_text(p, &segs, &lit)))
		goto out;
	if (!(out->segs = arena_memdup(&p->rb->arena, segs.p, segs.n * sizeof(seg)))) {
		rc = oom();
		goto out;
	}
	out->nsegs = segs.n;
	rc = lex(p);
out:
	vec_free(&segs);
	vec_free(&lit);
	free(buf);
	free(map);
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
		return expected(p, "a duration after 'within' (e.g. 30m, 2h, 1d)");
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
		return perr(p, p->cur.line, p->cur.col,
		            "invalid duration %s (expected a number and a unit s, m, h or d, "
		            "e.g. 30m, 2h, 1h30m)", FOUND);
	if (total == 0)
		return perr(p, p->cur.line, p->cur.col, "duration %s must be greater than zero",
		            FOUND);
	if (total > DURATION_MAX)
		return perr(p, p->cur.line, p->cur.col, "duration %s is longer than 30 days",
		            FOUND);
	*out = total;
	return lex(p);
}

/* The texts in other languages after a notify's default text:
 * `zh "歡迎, {name}!" pt "Bem-vindo, {name}!"`.  Each is a template with
 * every check the default text has. */
static int parse_lang_texts(parser *p, notify *nt)
{
	vec texts = { 0 };
	char fbuf[SHOW_MAX + 8];
	int rc = 0;

	while (p->cur.type == T_WORD && valid_lang_tag(p->s + p->cur.off, p->cur.len)) {
		const tok tag = p->cur;
		const char *w = p->s + tag.off;
		if (!nt->guest_facing) {
			rc = perr(p, tag.line, tag.col,
			          "a text in %s is only used by a guest-facing prompt (notify kiosk, "
			          "or mark the notify guest_facing)", FOUND);
			goto out;
		}
		for (size_t i = 0; i < texts.n; i++) {
			const lang_text *prev = (const lang_text *)texts.p + i;
			if (ascii_lower_eq(w, tag.len, prev->tag)) {
				rc = perr(p, tag.line, tag.col,
				          "language %s has a text already in this notify", FOUND);
				goto out;
			}
		}
		lang_text *lt = vec_push(&texts, sizeof *lt);
		if (!lt || !(lt->tag = arena_strndup(&p->rb->arena, w, tag.len))) {
			rc = oom();
			goto out;
		}
		if ((rc = lex(p)))
			goto out;
		if (p->cur.type != T_STRING) {
			char what[PF_FIELD_MAX + 64];
			snprintf(what, sizeof what, "a quoted template after the language tag '%s'",
			         lt->tag);
			rc = expected(p, what);
			goto out;
		}
		if ((rc = parse_template(p, &lt->t)))
			goto out;
	}
	if (texts.n &&
	    !(nt->texts = arena_memdup(&p->rb->arena, texts.p, texts.n * sizeof(lang_text)))) {
		rc = oom();
		goto out;
	}
	nt->ntexts = texts.n;
out:
	vec_free(&texts);
	return rc;
}

static int parse_notify(parser *p, vec *notes)
{
	static const char *const prios[] = { "low", "normal", "high", "urgent" };
	notify *nt = vec_push(notes, sizeof *nt);
	const char *after = "the priority";
	bool marked = false;
	int rc;

	if (!nt)
		return oom();
	nt->within = -1;
	if ((rc = lex(p)))
		return rc;
	if (p->cur.type != T_WORD ||
	    !valid_lower_word(p->s + p->cur.off, p->cur.len, PF_FIELD_MAX))
		return expected(p, "a department name after 'notify'");
	if (!(nt->dept = arena_strndup(&p->rb->arena, p->s + p->cur.off, p->cur.len)))
		return oom();
	if ((rc = lex(p)))
		return rc;
	if (p->cur.type != T_WORD)
		return expected(p, "a priority (low, normal, high or urgent) after the department");
	size_t k = 0;
	while (k < 4 && !is_kw(p, prios[k]))
		k++;
	if (k == 4) {
		char fbuf[SHOW_MAX + 8];
		return perr(p, p->cur.line, p->cur.col,
		            "unknown priority %s (expected low, normal, high or urgent)", FOUND);
	}
	nt->prio = (pf_priority)k;
	if ((rc = lex(p)))
		return rc;
	/* `within` and `guest_facing`, each at most once, in either order. */
	for (;;) {
		if (nt->within < 0 && is_kw(p, "within")) {
			if ((rc = lex(p)) || (rc = take_duration(p, &nt->within)))
				return rc;
			after = "the duration";
		} else if (!marked && is_kw(p, "guest_facing")) {
			marked = true;
			if ((rc = lex(p)))
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
		return expected(p, what);
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
			return oom();
		rb->rules = nr;
		rb->caprules = cap;
	}
	rule *r = &rb->rules[rb->nrules];
	memset(r, 0, sizeof *r);
	r->line = start.line;

	if ((rc = lex(p)))
		return rc;
	if (p->cur.type != T_WORD)
		return expected(p, "a rule name after 'rule'");
	if (!valid_rule_name(p->s + p->cur.off, p->cur.len))
		return perr(p, p->cur.line, p->cur.col,
		            "invalid rule name %s (expected lower-case letters, digits, '_' and "
		            "'-', starting with a letter or digit, at most %d bytes)", FOUND,
		            RULE_NAME_MAX);
	if (!(r->name = arena_strndup(&rb->arena, p->s + p->cur.off, p->cur.len)))
		return oom();
	int64_t prev = name_seen(p, r->name, p->cur.len, (uint32_t)rb->nrules);
	if (prev == -2)
		return oom();
	if (prev >= 0)
		return perr(p, p->cur.line, p->cur.col,
		            "duplicate rule name '%s' (first defined at line %d)", r->name,
		            rb->rules[prev].line);
	rb->nrules++;  /* the name is recorded: keep the rule visible to name_seen */

	if ((rc = lex(p)))
		return rc;
	if (!is_kw(p, "on"))
		return expected(p, "'on' after the rule name");
	do {
		const char *after = r->events ? "','" : "'on'";
		char what[64];
		if ((rc = lex(p)))
			return rc;
		if (p->cur.type != T_WORD) {
			snprintf(what, sizeof what, "an event kind after %s", after);
			return expected(p, what);
		}
		size_t k = 0;
		while (k < EV_KINDS && !is_kw(p, kinds[k]))
			k++;
		if (k == EV_KINDS)
			return perr(p, p->cur.line, p->cur.col,
			            "unknown event kind %s (expected reservation, check_in, "
			            "check_out or room_change)", FOUND);
		r->events |= 1u << k;
		if ((rc = lex(p)))
			return rc;
	} while (p->cur.type == T_COMMA);

	if (is_kw(p, "when")) {
		p->depth = 0;
		if ((rc = lex(p)) || (rc = parse_or(p, &r->when)))
			return rc;
		if (!is_kw(p, "notify"))
			return expected(p, "'and', 'or' or 'notify' after the condition");
	} else if (!is_kw(p, "notify"))
		return expected(p, "',', 'when' or 'notify' after the event kind");

	while (is_kw(p, "notify")) {
		if ((rc = parse_notify(p, &notes)))
			goto out;
	}
	if (p->cur.type != T_EOF && !is_kw(p, "rule")) {
		rc = expected(p, "'notify', 'rule' or end of text after the template");
		goto out;
	}
	if (!(r->notes = arena_memdup(&rb->arena, notes.p, notes.n * sizeof(notify)))) {
		rc = oom();
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
	vec_free(&notes);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Index                                                                */
/* ------------------------------------------------------------------ */

/* A category the guest must have a preference in for c to hold. */
static const char *required_category(const cond *c)
{
	if (!c)
		return NULL;
	if (c->kind == C_PREF)
		return c->cat;
	if (c->kind == C_AND) {
		for (size_t i = 0; i < c->nkids; i++) {
			const char *r = required_category(c->kids[i]);
			if (r)
				return r;
		}
	}
	return NULL;
}

static int idx_cmp(const void *a, const void *b)
{
	const idx_ent *x = a, *y = b;
	int c = strcmp(x->cat, y->cat);
	if (c)
		return c;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

static int build_index(pf_rulebook *rb)
{
	for (int k = 0; k < EV_KINDS; k++) {
		kind_idx *ix = &rb->idx[k];
		size_t na = 0, nc = 0;
		for (size_t i = 0; i < rb->nrules; i++) {
			if (!(rb->rules[i].events & (1u << k)))
				continue;
			if (required_category(rb->rules[i].when))
				nc++;
			else
				na++;
		}
		ix->always = na ? malloc(na * sizeof *ix->always) : NULL;
		ix->bycat = nc ? malloc(nc * sizeof *ix->bycat) : NULL;
		if ((na && !ix->always) || (nc && !ix->bycat))
			return oom();
		for (size_t i = 0; i < rb->nrules; i++) {
			if (!(rb->rules[i].events & (1u << k)))
				continue;
			const char *cat = required_category(rb->rules[i].when);
			if (cat)
				ix->bycat[ix->nbycat++] = (idx_ent){ cat, (uint32_t)i };
			else
				ix->always[ix->nalways++] = (uint32_t)i;
		}
		if (ix->nbycat > 1)
			qsort(ix->bycat, ix->nbycat, sizeof *ix->bycat, idx_cmp);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public: parse, free, inspect                                         */
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
		rc = oom();
		goto fail;
	}
	p.rb = rb;
	char *copy = arena_alloc(&rb->arena, len + 1);
	if (!copy) {
		rc = oom();
		goto fail;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	rb->text = p.s = copy;
	rb->len = p.len = len;

	if ((rc = check_text(&p)) || (rc = lex(&p)))
		goto fail;
	while (p.cur.type != T_EOF) {
		if (!is_kw(&p, "rule")) {
			rc = expected(&p, "'rule'");
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
	pf_rulebook_free(rb);
	return rc;
}

void pf_rulebook_free(pf_rulebook *rb)
{
	if (!rb)
		return;
	for (int k = 0; k < EV_KINDS; k++) {
		free(rb->idx[k].always);
		free(rb->idx[k].bycat);
	}
	free(rb->rules);
	arena_free(rb->arena);
	free(rb);
}

size_t pf_rulebook_count(const pf_rulebook *rb)
{
	return rb ? rb->nrules : 0;
}

const char *pf_rulebook_rule_name(const pf_rulebook *rb, size_t i)
{
	return rb && i < rb->nrules ? rb->rules[i].name : NULL;
}

const char *pf_rulebook_rule_source(const pf_rulebook *rb, size_t i, size_t *len)
{
	if (!rb || i >= rb->nrules) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = rb->rules[i].src_len;
	return rb->text + rb->rules[i].src_off;
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
	bool found;
	size_t i = pf_guest_rec_pref_find(r, cat, &found);
	return found ? (ptrdiff_t)i : -1;
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
		if (ci_eq(pr->value, c->values[i]))
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
		return ci_eq(r->complaint_last_category, c->values[0]);
	case C_TAG:
		for (size_t i = 0; r->g.tags && i < r->g.tag_count; i++)
			if (ci_eq(r->g.tags[i], c->values[0]))
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
	return vec_push(ms, sizeof(pf_match));
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
	vec_free(&ms);
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
