/*
 * rules.c — the heart of the rule language: the memory a compiled rule
 * book lives in and the helpers its parse and evaluation share.  A
 * hand-written lexer and recursive-descent parser (rules_parse.c,
 * rules_compile.c) compile a rule book into immutable rules plus an index
 * (per event kind: rules keyed by a category the guest must have, and an
 * "always" list); the evaluator (rules_eval.c) turns one in-memory pf_view
 * into matches.  The compiled form is in rules_int.h.
 *
 * Owns pf_rulebook_ref, pf_rulebook_free, pf_rulebook_count, pf_rulebook_rule_name and
 * pf_rulebook_rule_source, and for the other rules files the arena
 * (pf_rl_arena_*), the scratch arrays (pf_rl_vec_*), the UTF-8 helpers
 * (pf_rl_utf8_*), ASCII case-insensitive comparison (pf_rl_ascii_lower_eq,
 * pf_rl_ci_eq) and language-tag validity (pf_rl_valid_lang_tag).  Calls
 * nothing else of the library (codec.h limits only) and never LMDB.
 *
 * Memory: everything a compiled book points at (names, conditions,
 * templates, a copy of the source text) lives in one arena freed at once,
 * so an error anywhere in the parse cannot leak a half-built rule.
 */
#include "rules_int.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN  alignof(max_align_t)
#define ARENA_HDR    ((sizeof(arena_blk) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))
#define ARENA_BLOCK  16384

void *pf_rl_arena_alloc(arena_blk **head, size_t n)
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

char *pf_rl_arena_strndup(arena_blk **a, const char *s, size_t n)
{
	char *p = pf_rl_arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void *pf_rl_arena_memdup(arena_blk **a, const void *s, size_t n)
{
	void *p = pf_rl_arena_alloc(a, n);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

/* A malloc'd array that grows by doubling; the parser's scratch space. */
void *pf_rl_vec_push(vec *v, size_t elsz)
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

void pf_rl_vec_free(vec *v)
{
	free(v->p);
	v->p = NULL;
	v->n = v->cap = 0;
}

/* ------------------------------------------------------------------ */
/* UTF-8 helpers                                                        */
/* ------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at s (n bytes left), 0 if
 * malformed: overlongs, surrogates and values past U+10FFFF refused. */
size_t pf_rl_utf8_seq(const unsigned char *s, size_t n)
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
int32_t pf_rl_utf8_decode(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0];
	int32_t cp = s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3F);
	return cp;
}

/* Characters (not bytes) in s[0..n): columns count characters. */
int pf_rl_utf8_chars(const char *s, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k++;
	return k;
}

bool pf_rl_ascii_lower_eq(const char *a, size_t alen, const char *b)
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

bool pf_rl_ci_eq(const char *a, const char *b)
{
	return a && b && pf_rl_ascii_lower_eq(a, strlen(a), b);
}

/* The hash of an index key (rules_compile.c builds the table, rules_eval.c
 * looks guests' preferences up in it): FNV-1a over the category, a byte
 * no category holds, then the value with ASCII letters lower-cased, the
 * way pf_rl_ci_eq compares values.  val NULL (any value) hashes apart
 * from every value, the empty one included. */
uint64_t pf_rl_idx_hash(const char *cat, size_t clen, const char *val, size_t vlen)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < clen; i++)
		h = (h ^ (unsigned char)cat[i]) * 1099511628211u;
	h = (h ^ (val ? 0xFFu : 0xFEu)) * 1099511628211u;
	for (size_t i = 0; val && i < vlen; i++) {
		unsigned char c = (unsigned char)val[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		h = (h ^ c) * 1099511628211u;
	}
	return h ^ (h >> 29);
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
bool pf_rl_valid_lang_tag(const char *s, size_t n)
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

/* ------------------------------------------------------------------ */
/* Public: free, inspect                                                */
/* ------------------------------------------------------------------ */

pf_rulebook *pf_rulebook_ref(pf_rulebook *rb)
{
	if (rb)
		atomic_fetch_add_explicit(&rb->refs, 1, memory_order_relaxed);
	return rb;
}

void pf_rulebook_free(pf_rulebook *rb)
{
	if (!rb)
		return;
	/* Release: this holder's reads of the book happen before the free;
	 * the last holder's acquire sees every other holder's. */
	if (atomic_fetch_sub_explicit(&rb->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* The index lives in the arena. */
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
