/*
 * cli.h — helpers shared by the example programs (frontdesk, kiosk):
 * error messages, dates and the PF_NOW clock, whole numbers, UTF-8 widths.
 *
 * A header of functions rather than a .c file, because the Makefile builds
 * every .c file in examples/ into a program of its own.  Each program
 * defines PROG (its name, for messages) before including it.  It may call
 * only the public API (libprofile.h).
 *
 * A program of one file (kiosk) includes it as is: every function is
 * `static`, and -Wunused-function flags one that the program does not use,
 * so nothing here is kept for one program alone.  A program of several
 * files (frontdesk, in examples/frontdesk/) defines CLI_EXTERN before
 * including it everywhere: then this header only declares the functions,
 * and the one file that also defines CLI_DEFINE holds their definitions,
 * with external linkage.
 */
#ifndef CLI_H
#define CLI_H

#ifndef PROG
#error "define PROG (the program's name) before including cli.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libprofile.h"

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

#ifdef CLI_EXTERN
int lib_fail(int rc);
void vsay_error(const char *fmt, va_list ap);
int digits(const char *s, int n, int *out);
int parse_uint32(const char *s, uint32_t *out);
int parse_date(const char *s, pf_date *out);
int64_t civil_days(int y, int m, int d);
int use_pf_now(pf_options *opts, pf_time *now, const char *env);
size_t utf8_decode(const char *s, int32_t *cp);
int is_east_asian_wide(int32_t cp);
#define CLI_API                 /* the declarations above */
#else
#define CLI_API static
#endif

#if !defined(CLI_EXTERN) || defined(CLI_DEFINE)

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

/* A library call failed: "PROG: <code text>: <detail>". */
CLI_API int lib_fail(int rc)
{
	const char *detail = pf_errmsg();
	if (detail[0])
		fprintf(stderr, PROG ": %s: %s\n", pf_strerror(rc), detail);
	else
		fprintf(stderr, PROG ": %s\n", pf_strerror(rc));
	return 1;
}

/* "PROG: <message>\n" on stderr. */
CLI_API void vsay_error(const char *fmt, va_list ap)
{
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* Numbers, dates and the clock                                         */
/* ------------------------------------------------------------------ */

/* Parse exactly `n` decimal digits. */
CLI_API int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* A whole number that fits in 32 bits (no sign, nothing after it). */
CLI_API int parse_uint32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!s[0] || *end || errno || s[0] == '-' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "YYYY-MM-DD" → pf_date; a real calendar date or -1. */
CLI_API int parse_date(const char *s, pf_date *out)
{
	int y, m, d;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
	    digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
		return -1;
	return pf_date_make(out, y, m, d) == 0 ? 0 : -1;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in 1..y-1, counted from the Gregorian rules. */
static int64_t leaps_before(int64_t y)
{
	y -= 1;
	return y / 4 - y / 100 + y / 400;
}

/* Days since 1970-01-01 of a valid calendar date (years 1..9999). */
CLI_API int64_t civil_days(int y, int m, int d)
{
	static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	int64_t days = 365 * ((int64_t)y - 1970) + leaps_before(y) - leaps_before(1970);
	days += before_month[m - 1] + (m > 2 && is_leap(y)) + d - 1;
	return days;
}

/* PF_NOW: epoch seconds, or "YYYY-MM-DDTHH:MM[:SS][Z]" in UTC. */
static int parse_instant(const char *s, pf_time *out)
{
	size_t len = strlen(s);
	if (len > 0 && strspn(s, "0123456789") == len) {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || *end)
			return -1;
		*out = (pf_time)v;
		return 0;
	}
	int y, mo, d, h, mi, sec = 0;
	pf_date date;
	if (len < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || pf_date_make(&date, y, mo, d))
		return -1;
	const char *rest = s + 16;
	if (rest[0] == ':') {
		if (digits(rest + 1, 2, &sec))
			return -1;
		rest += 3;
	}
	if (rest[0] == 'Z')
		rest++;
	if (rest[0] || h > 23 || mi > 59 || sec > 59)
		return -1;
	*out = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

static pf_time fixed_clock(void *payload)
{
	return *(const pf_time *)payload;
}

/* PF_NOW (`env`, unset or empty: the real clock) fixes the clock of
 * `opts` at *now, which must outlive the database handle.  -1 if `env`
 * is not an instant; the caller says so in its own words. */
CLI_API int use_pf_now(pf_options *opts, pf_time *now, const char *env)
{
	if (!env || !env[0])
		return 0;
	if (parse_instant(env, now))
		return -1;
	opts->clock = fixed_clock;
	opts->clock_payload = now;
	return 0;
}

/* ------------------------------------------------------------------ */
/* UTF-8 display width                                                  */
/* ------------------------------------------------------------------ */

/* Length in bytes of the UTF-8 character at s (a malformed or cut-off
 * one counts as the bytes up to where it breaks); *cp is its code point,
 * or -1 if malformed. */
CLI_API size_t utf8_decode(const char *s, int32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t n;
	if (*p < 0x80) { c = *p; n = 1; }
	else if ((*p & 0xE0) == 0xC0) { c = *p & 0x1F; n = 2; }
	else if ((*p & 0xF0) == 0xE0) { c = *p & 0x0F; n = 3; }
	else if ((*p & 0xF8) == 0xF0) { c = *p & 0x07; n = 4; }
	else { *cp = -1; return 1; }
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*cp = -1;
			return i;
		}
		c = (c << 6) | (p[i] & 0x3F);
	}
	*cp = (int32_t)c;
	return n;
}

/* East Asian wide characters (such as 莊偉) take two columns. */
CLI_API int is_east_asian_wide(int32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
	       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	       (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

#endif /* definitions */

#endif
