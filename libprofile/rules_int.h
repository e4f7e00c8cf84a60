/*
 * rules_int.h — what the rule-language files share among themselves: the
 * limits, the arena and scratch arrays, the compiled form of a rule book,
 * the parser's state, and the helpers one of them defines for another
 * (prefixed pf_rl_).  Owners: rules.c (arena, arrays, UTF-8, ASCII and
 * language-tag helpers), rules_parse.c (lexer, syntax errors, words and
 * values, conditions), rules_compile.c (templates, notify lines, rules,
 * index, parse), rules_eval.c (evaluation).  Private to those files: the
 * rest of the library includes rules.h.
 */
#ifndef PF_RULES_INT_H
#define PF_RULES_INT_H

#include "rules.h"
#include "codec.h"
#include "error.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A malloc'd array that grows by doubling; the parser's scratch space. */
typedef struct vec {
	void *p;
	size_t n, cap;
} vec;

/* ------------------------------------------------------------------ */
/* The compiled form                                                    */
/* ------------------------------------------------------------------ */

enum cmp_op { OP_GE, OP_GT, OP_EQ, OP_LE, OP_LT, OP_NE };

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

/*
 * The index.  Each rule listening to an event kind is filed under the
 * keys one of which a guest must have for its condition to hold (see
 * rule_keys() in rules_compile.c): (category, value) for a `pref c = v`
 * or `in (...)` test, (category, any value) for a test of the category
 * alone, or nowhere ("always") when no such key exists (ranges, `not`,
 * tier, ...).  A guest holds at most one preference per category, so
 * evaluation looks up two keys per preference: a book of 10,000 rules
 * on values nobody has costs what the rules that can fire cost.
 */
typedef struct idx_key {
	const char *cat;            /* in the arena; NULL: an empty slot */
	const char *val;            /* ASCII lower-cased (values compare so); NULL: any */
	size_t clen, vlen;
	uint64_t hash;              /* idx_hash(cat, val) */
	uint32_t first, n;          /* the key's rule numbers: lists[first .. first + n), ascending */
} idx_key;

typedef struct kind_idx {
	const uint32_t *always;     /* rule numbers, ascending */
	size_t nalways;
	const idx_key *keys;        /* open-addressing table of nkeys slots (a power of 2) */
	size_t nkeys;
	const uint32_t *lists;
} kind_idx;

struct pf_rulebook {
	atomic_size_t refs;         /* pf_rulebook_ref / pf_rulebook_free; the book is
	                               immutable once parsed, so holders share it */
	arena_blk *arena;
	const char *text;           /* the source, owned (rule sources point into it) */
	size_t len;
	rule *rules;
	size_t nrules, caprules;
	kind_idx idx[EV_KINDS];
};

/* ------------------------------------------------------------------ */
/* Parser state (rules_parse.c, rules_compile.c)                        */
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
	vec tsegs, tlit;            /* parse_template's scratch, reused */
	vec tbuf, tmap;             /* pf_rl_decode_scratch's, reused */
} parser;

/* How the current token reads in an error message; needs a local
 * char fbuf[SHOW_MAX + 8]. */
#define FOUND pf_rl_found(p, fbuf, sizeof fbuf)

/* ------------------------------------------------------------------ */
/* Helpers shared across the rules files                                */
/* ------------------------------------------------------------------ */

/* rules.c */
void *pf_rl_arena_alloc(arena_blk **head, size_t n);
char *pf_rl_arena_strndup(arena_blk **a, const char *s, size_t n);
void *pf_rl_arena_memdup(arena_blk **a, const void *s, size_t n);
void *pf_rl_vec_push(vec *v, size_t elsz);
void pf_rl_vec_free(vec *v);
size_t pf_rl_utf8_seq(const unsigned char *s, size_t n);
int32_t pf_rl_utf8_decode(const unsigned char *s, size_t len);
int pf_rl_utf8_chars(const char *s, size_t n);
bool pf_rl_ascii_lower_eq(const char *a, size_t alen, const char *b);
bool pf_rl_ci_eq(const char *a, const char *b);
bool pf_rl_valid_lang_tag(const char *s, size_t n);
uint64_t pf_rl_idx_hash(const char *cat, size_t clen, const char *val, size_t vlen);

/* rules_parse.c */
int pf_rl_perr(parser *p, int line, int col, const char *fmt, ...) PF_PRINTF(4, 5);
int pf_rl_oom(void);
int pf_rl_check_text(parser *p);
int pf_rl_lex(parser *p);
bool pf_rl_is_kw(const parser *p, const char *kw);
const char *pf_rl_found(const parser *p, char *buf, size_t cap);
int pf_rl_expected(parser *p, const char *what);
int pf_rl_decode_string(parser *p, char **out, size_t *outlen, size_t **srcmap);
int pf_rl_decode_scratch(parser *p, char **out, size_t *outlen, size_t **srcmap);
bool pf_rl_valid_category(const char *s, size_t n);
bool pf_rl_valid_lower_word(const char *s, size_t n, size_t max);
bool pf_rl_valid_rule_name(const char *s, size_t n);
int pf_rl_parse_or(parser *p, const cond **out);

#endif /* PF_RULES_INT_H */
