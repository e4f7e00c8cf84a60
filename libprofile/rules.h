/*
 * rules.h — what the rule language offers the other files of the library:
 * parse a book (rules_compile.c), inspect and free it (rules.c), evaluate
 * it for one guest at one event (rules_eval.c).  Evaluates over memory,
 * never LMDB.
 * Never installed; nothing here is API.
 */
#ifndef PF_RULES_H
#define PF_RULES_H

#include "codec.h"


typedef struct pf_rulebook pf_rulebook;

/** Parse a whole rule book.  On PF_ESYNTAX, err (if not NULL) and
 *  pf_errmsg() hold "name:line:col: message".  *out holds one reference. */
int pf_rulebook_parse(pf_rulebook **out, const char *name, const char *text,
                      size_t len, pf_rule_error *err);

/** A parsed book never changes, so threads share it by reference:
 *  pf_rulebook_ref takes one more (returns rb; NULL is a no-op),
 *  pf_rulebook_free drops one and frees the book with the last.  Taking
 *  a reference to a book another thread may be dropping needs the
 *  caller's own lock (event.c's rules_lock). */
pf_rulebook *pf_rulebook_ref(pf_rulebook *rb);
void pf_rulebook_free(pf_rulebook *rb);

size_t pf_rulebook_count(const pf_rulebook *rb);
const char *pf_rulebook_rule_name(const pf_rulebook *rb, size_t i);
/** The rule's source text (from `rule` to the end of its last line),
 *  not NUL-terminated. */
const char *pf_rulebook_rule_source(const pf_rulebook *rb, size_t i, size_t *len);

/** Everything rules can see of one guest at one event. */
typedef struct pf_view {
	const pf_guest_rec *guest;
	const pf_event *event;
} pf_view;

/** One prompt the rule book produced (before storage). */
typedef struct pf_match {
	const char *rule;         /* borrowed from the rule book; "need" for defaults */
	const char *department;   /* borrowed */
	pf_priority priority;
	int64_t within;           /* seconds, or -1 when the rule gave none */
	const char *language;     /* borrowed: the tag of the rule's text in the guest's
	                             language; NULL for the default text */
	bool cut;                 /* text was cut to PF_PROMPT_TEXT_MAX (ends in "…") */
	char text[PF_PROMPT_TEXT_MAX + 1];
} pf_match;

typedef struct pf_match_list {
	size_t count;
	pf_match *items;
} pf_match_list;

/**
 * Evaluate the rule book for one view: only rules listening to the
 * event's kind, found through the book's index; a template naming a
 * missing preference drops that prompt; without profiling consent, like
 * and dislike tests are false; every need no fired rule tested yields a
 * default high-priority front_desk prompt (rule "need").  A guest-facing
 * notify (department kiosk, or marked guest_facing) renders the text in
 * the guest's language when it has one (exact tag, then shorter
 * prefixes), others the default text.  Text longer than
 * PF_PROMPT_TEXT_MAX is cut to end in "…" and flagged `cut`.  `rb` may be
 * NULL (no rule book).  *out is freed with pf_match_list_free.
 */
int pf_rulebook_eval(pf_match_list **out, const pf_rulebook *rb, const pf_view *v);
void pf_match_list_free(pf_match_list *l);

/**
 * pf_rulebook_eval without the list: each match, in the same order, is
 * handed to fn, valid only during the call (its strings are borrowed from
 * the book and the view).  A non-zero return of fn stops the evaluation
 * and is returned.  Allocates nothing for a guest of up to PF_PREFS_MAX
 * preferences whose index keys name up to 256 rules.  The book is only
 * read: threads may evaluate one book at once.
 */
typedef int (*pf_match_fn)(void *ctx, const pf_match *m);
int pf_rulebook_each(const pf_rulebook *rb, const pf_view *v, pf_match_fn fn, void *ctx);

#endif /* PF_RULES_H */
