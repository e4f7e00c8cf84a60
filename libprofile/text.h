/*
 * text.h — what text.c offers the other files of the library.
 * Owner: text.c: validation and normalisation of caller-supplied text.
 * Never installed; nothing here is API.
 */
#ifndef PF_TEXT_H
#define PF_TEXT_H

#include "libprofile.h"
#include <stdbool.h>
#include <stddef.h>

/** Non-zero if s[0..len) is well-formed UTF-8 (no overlongs, no
 *  surrogates, nothing above U+10FFFF, no NUL bytes). */
bool pf_utf8_valid(const char *s, size_t len);

/** Longest prefix of UTF-8 s[0..len) of at most max bytes that does not
 *  split a character: for cutting text to a limit. */
size_t pf_utf8_cut(const char *s, size_t len, size_t max);

/**
 * Check one caller-supplied string field.  `fn` is the public function
 * name and `field` the field name, both used in the error message.
 * NULL is accepted when !required; an empty string is refused when
 * required.  Otherwise the string must be valid UTF-8 of at most `max`
 * bytes.  Returns 0 or PF_EINVAL (with pf_errmsg set).
 */
int pf_check_text(const char *field, const char *s, size_t max,
                  bool required);

/** Check a lower-case word ([a-z][a-z0-9_]*, at most PF_FIELD_MAX bytes):
 *  departments, tags.  Returns 0 or PF_EINVAL. */
int pf_check_word(const char *field, const char *s);

/** Check a property name (pf_options.property): 1 to PF_PROPERTY_MAX
 *  bytes of a-z, 0-9, '-' and '_', starting with a letter or digit.
 *  Returns 0 or PF_EINVAL naming `field`. */
int pf_check_property(const char *field, const char *s);

/** True if `s` is three upper-case ASCII letters (the form of an ISO
 *  3166-1 alpha-3 country code, "MAC").  Whether the code is assigned is
 *  not checked: the standard adds codes, and a stored code must keep
 *  decoding.  NULL is false. */
bool pf_country_valid(const char *s);

/** Check a preference category: 1..4 lower-case words joined by '.',
 *  at most PF_CATEGORY_MAX bytes.  Returns 0 or PF_EINVAL. */
int pf_check_category(const char *s);

/** Check a pf_date (YYYYMMDD, real calendar date).  0 is accepted when
 *  !required.  Returns 0 or PF_EINVAL. */
int pf_check_date(const char *field, pf_date d, bool required);

/** Unicode case fold (NFKC_Casefold) of UTF-8 `s`.  Returns a malloc'd
 *  string or NULL (PF_ENOMEM or invalid input; *rc says which). */
char *pf_casefold(const char *s, int *rc);

/** Copy the decimal digits of `s` into out (NUL-terminated, at most
 *  cap-1 digits).  Returns the number of digits, or -1 if they do not
 *  fit. */
int pf_phone_digits(const char *s, char *out, size_t cap);

/** Check a caller's id argument: PF_EINVAL "<fn>: <what> is NULL" or
 *  "<fn>: <what> id is zero" (followed by " (<hint>)" when hint is not
 *  NULL).  Returns 0 or PF_EINVAL. */
int pf_check_id(const char *what, const pf_id *id, const char *hint);

/** "YYYY-MM-DD" of a pf_date in buf, or NULL for 0 (unknown), as the
 *  journal and the JSON export write dates. */
#define PF_DATE_TEXT_SIZE 16
const char *pf_date_text(char buf[PF_DATE_TEXT_SIZE], pf_date d);

/** Days since 1970-01-01 for a valid pf_date, and back. */
int64_t pf_date_days(pf_date d);
pf_date pf_date_from_days(int64_t days);

/** strdup that tolerates NULL (returns NULL) and sets *rc=PF_ENOMEM on
 *  allocation failure. */
char *pf_strdup_or_null(const char *s, int *rc);

/** Replace the malloc'd string *field with a copy of value (NULL: none).
 *  PF_ENOMEM (no message set) leaves *field as it was. */
int pf_str_set(const char **field, const char *value);

/** True if s[0..len) is lower-case words ([a-z][a-z0-9_]*) joined by
 *  '.', at most max bytes: a journal op ("guest.put"). */
bool pf_dotted_words_valid(const char *s, size_t len, size_t max);

#endif /* PF_TEXT_H */
