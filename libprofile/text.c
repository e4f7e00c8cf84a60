/*
 * text.c — validation and normalisation of text and dates: the checks every
 * public function runs on caller-supplied strings, Unicode case folding for
 * the name index, phone digits, calendar arithmetic, and the public name
 * tables for tiers and preference kinds.
 * May call: error.c (pf_seterr) and libutf8proc.  Nothing stored.
 */
#include "text.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ------------------------------------------------------------------ */
/* UTF-8                                                                */
/* ------------------------------------------------------------------ */

size_t pf_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

bool pf_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	if (!s)
		return len == 0;
	while (i < len) {
		unsigned char c = s[i];

		/* ASCII is nearly all of what hotels type: skip it quickly. */
		if (c >= 0x01 && c < 0x80) {
			i++;
			continue;
		}
		if (c == 0x00)
			return false;

		/* Lead byte: number of continuation bytes and the allowed range
		 * of the first one, which is where overlongs (E0, F0), surrogates
		 * (ED) and code points above U+10FFFF (F4) are excluded. */
		size_t need;
		unsigned char lo = 0x80, hi = 0xBF;
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return false;   /* stray continuation, C0/C1 overlong, F5..FF */
		}
		if (len - i - 1 < need)
			return false;   /* truncated sequence */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= need; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += need + 1;
	}
	return true;
}

/* A caller's value quoted in an error message only when it is short and
 * printable, so messages stay valid UTF-8 and bounded. */
static const char *quotable(const char *s)
{
	size_t n = strnlen(s, 65);
	return (n <= 64 && pf_utf8_valid(s, n)) ? s : "...";
}

/* ------------------------------------------------------------------ */
/* Field checks                                                         */
/* ------------------------------------------------------------------ */

int pf_check_text(const char *field, const char *s, size_t max,
                  bool required)
{
	if (!s) {
		if (!required)
			return 0;
		return pf_fail(PF_EINVAL, "%s is required", field);
	}
	/* strnlen: an overlong string is refused without scanning all of it. */
	size_t len = strnlen(s, max + 1);
	if (len == 0 && required)
		return pf_fail(PF_EINVAL, "%s is empty", field);
	if (len > max)
		return pf_fail(PF_EINVAL, "%s is longer than %zu bytes", field, max);
	if (!pf_utf8_valid(s, len))
		return pf_fail(PF_EINVAL, "%s is not valid UTF-8", field);
	return 0;
}

static bool is_lower_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool pf_country_valid(const char *s)
{
	if (!s)
		return false;
	for (int i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return s[3] == '\0';
}

/* The length of a required name of 1 to `max` bytes into *len, or
 * PF_EINVAL naming `field` (missing, empty, too long). */
static int check_name_length(const char *field, const char *s, size_t max, size_t *len)
{
	if (!s)
		return pf_fail(PF_EINVAL, "%s is required", field);
	*len = strnlen(s, max + 1);
	if (*len == 0)
		return pf_fail(PF_EINVAL, "%s is empty", field);
	if (*len > max)
		return pf_fail(PF_EINVAL, "%s is longer than %zu bytes", field, max);
	return 0;
}

int pf_check_word(const char *field, const char *s)
{
	size_t len;
	int rc = check_name_length(field, s, PF_FIELD_MAX, &len);
	if (rc)
		return rc;
	bool ok = s[0] >= 'a' && s[0] <= 'z';
	for (size_t i = 1; ok && i < len; i++)
		ok = is_lower_word_char((unsigned char)s[i]);
	if (!ok)
		return pf_fail(PF_EINVAL, "%s '%s' is not a lower-case word (e.g. front_desk)", field, quotable(s));
	return 0;
}

int pf_check_property(const char *field, const char *s)
{
	size_t len;
	int rc = check_name_length(field, s, PF_PROPERTY_MAX, &len);
	if (rc)
		return rc;
	bool ok = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9');
	for (size_t i = 1; ok && i < len; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		     s[i] == '_';
	if (!ok)
		return pf_fail(PF_EINVAL, "%s '%s' is not a property name (a-z, 0-9, '-', '_': "
		               "e.g. macau)", field, quotable(s));
	return 0;
}

int pf_check_category(const char *s)
{
	if (!s)
		return pf_fail(PF_EINVAL, "category is required");
	size_t len = strnlen(s, PF_CATEGORY_MAX + 1);
	if (len == 0)
		return pf_fail(PF_EINVAL, "category is empty");
	if (len > PF_CATEGORY_MAX)
		return pf_fail(PF_EINVAL, "category is longer than %d bytes",
		                 PF_CATEGORY_MAX);

	int words = 1;
	size_t wordlen = 0;
	bool ok = true;
	for (size_t i = 0; ok && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			ok = wordlen > 0;
			words++;
			wordlen = 0;
		} else {
			ok = is_lower_word_char(c);
			wordlen++;
		}
	}
	if (!ok || wordlen == 0)
		return pf_fail(PF_EINVAL, "category '%s' is not lower-case dotted words (e.g. room.floor)", quotable(s));
	if (words > 4)
		return pf_fail(PF_EINVAL, "category '%s' has more than 4 words", s);
	return 0;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Years 1..9999: what YYYYMMDD can spell with a four-digit year. */
static bool ymd_valid(int y, int m, int d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= days_in_month(y, m);
}

static bool date_valid(pf_date d)
{
	return d > 0 && ymd_valid(d / 10000, d / 100 % 100, d % 100);
}

int pf_check_date(const char *field, pf_date d, bool required)
{
	if (d == 0) {
		if (!required)
			return 0;
		return pf_fail(PF_EINVAL, "%s is required", field);
	}
	if (!date_valid(d))
		return pf_fail(PF_EINVAL, "%s %ld is not a valid date (YYYYMMDD)",
		                 field, (long)d);
	return 0;
}

const char *pf_date_text(char buf[PF_DATE_TEXT_SIZE], pf_date d)
{
	if (!d)
		return NULL;
	snprintf(buf, PF_DATE_TEXT_SIZE, "%04d-%02d-%02d", (int)(d / 10000),
	         (int)(d / 100 % 100), (int)(d % 100));
	return buf;
}

int pf_check_id(const char *what, const pf_id *id, const char *hint)
{
	if (!id)
		return pf_fail(PF_EINVAL, "%s is NULL", what);
	if (pf_id_is_zero(id))
		return hint ? pf_fail(PF_EINVAL, "%s id is zero (%s)", what, hint)
		            : pf_fail(PF_EINVAL, "%s id is zero", what);
	return 0;
}

int pf_date_make(pf_date *out, int year, int month, int day)
{
	if (!out)
		return pf_seterr(PF_EINVAL, "pf_date_make: out is NULL");
	if (!ymd_valid(year, month, day))
		return pf_seterr(PF_EINVAL, "pf_date_make: %d-%02d-%02d is not a valid date",
		                 year, month, day);
	*out = (pf_date)(year * 10000 + month * 100 + day);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Normalisation                                                        */
/* ------------------------------------------------------------------ */

char *pf_casefold(const char *s, int *rc)
{
	int dummy;
	if (!rc)
		rc = &dummy;
	if (!s || !pf_utf8_valid(s, strlen(s))) {
		*rc = pf_seterr(PF_EINVAL, "pf_casefold: text is not valid UTF-8");
		return NULL;
	}
	/* The flags of NFKC_Casefold, through utf8proc_map so that running out
	 * of memory can be told apart from bad input. */
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &dst,
	                                  UTF8PROC_NULLTERM | UTF8PROC_STABLE |
	                                  UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
	                                  UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
	if (n < 0) {
		if (n == UTF8PROC_ERROR_NOMEM)
			*rc = pf_seterr(PF_ENOMEM, "pf_casefold: out of memory");
		else
			*rc = pf_seterr(PF_EINVAL, "pf_casefold: %s", utf8proc_errmsg(n));
		return NULL;
	}
	*rc = 0;
	return (char *)dst;   /* utf8proc allocates with malloc: free() it */
}

int pf_phone_digits(const char *s, char *out, size_t cap)
{
	if (!s || !out || cap == 0)
		return -1;
	size_t n = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (n + 1 >= cap) {
			out[0] = '\0';
			return -1;
		}
		out[n++] = *s;
	}
	out[n] = '\0';
	return (int)n;
}

/*
 * Calendar arithmetic in the proleptic Gregorian calendar.  Years are
 * counted from March so that the leap day ends the year; a 400-year era
 * then has exactly 146097 days, which turns both directions into integer
 * divisions.
 */
#define ERA_DAYS 146097
/* Days from 0000-03-01 to 1970-01-01. */
#define EPOCH_SHIFT 719468

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t pf_date_days(pf_date d)
{
	int64_t y = d / 10000, m = d / 100 % 100, day = d % 100;
	if (m <= 2)
		y--;                                    /* Jan, Feb belong to the year before */
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                 /* 0..399 */
	int64_t mp = (m + 9) % 12;                   /* March = 0 .. February = 11 */
	int64_t doy = (153 * mp + 2) / 5 + day - 1;  /* day of the March-based year */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * ERA_DAYS + doe - EPOCH_SHIFT;
}

pf_date pf_date_from_days(int64_t days)
{
	/* Outside years 1..9999 there is no YYYYMMDD: answer "unknown". */
	if (days < -800000000 || days > 800000000)
		return 0;
	int64_t z = days + EPOCH_SHIFT;
	int64_t era = floor_div(z, ERA_DAYS);
	int64_t doe = z - era * ERA_DAYS;                                       /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;    /* 0..399 */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                  /* 0..365 */
	int64_t mp = (5 * doy + 2) / 153;                                       /* 0..11 */
	int64_t day = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	if (y < 1 || y > 9999)
		return 0;
	return (pf_date)(y * 10000 + m * 100 + day);
}

char *pf_strdup_or_null(const char *s, int *rc)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d && rc)
		*rc = pf_seterr(PF_ENOMEM, "out of memory");
	return d;
}

int pf_str_set(const char **field, const char *value)
{
	char *d = NULL;
	if (value && !(d = strdup(value)))
		return PF_ENOMEM;
	free((char *)*field);
	*field = d;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public name tables                                                   */
/* ------------------------------------------------------------------ */

static const char *const tier_names[] = { "none", "silver", "gold", "platinum", "vip" };

const char *pf_tier_name(pf_tier tier)
{
	if ((int)tier < 0 || (size_t)tier >= sizeof tier_names / sizeof tier_names[0])
		return NULL;
	return tier_names[tier];
}

int pf_tier_parse(pf_tier *out, const char *name)
{
	if (!out || !name)
		return pf_seterr(PF_EINVAL, "pf_tier_parse: %s is NULL", out ? "name" : "out");
	for (size_t i = 0; i < sizeof tier_names / sizeof tier_names[0]; i++) {
		if (strcmp(name, tier_names[i]) == 0) {
			*out = (pf_tier)i;
			return 0;
		}
	}
	return pf_seterr(PF_EINVAL,
	                 "pf_tier_parse: unknown tier '%s' (none, silver, gold, platinum, vip)",
	                 quotable(name));
}

const char *pf_pref_kind_name(pf_pref_kind kind)
{
	switch (kind) {
	case PF_LIKE:    return "like";
	case PF_DISLIKE: return "dislike";
	case PF_NEED:    return "need";
	}
	return NULL;
}

bool pf_dotted_words_valid(const char *s, size_t len, size_t max)
{
	if (!s || len == 0 || len > max)
		return false;
	bool word_start = true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (word_start) {
			if (c < 'a' || c > 'z')
				return false;
			word_start = false;
		} else if (c == '.') {
			word_start = true;
		} else if (!is_lower_word_char(c)) {
			return false;
		}
	}
	return !word_start;
}
