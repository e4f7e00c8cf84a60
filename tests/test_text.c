/*
 * test_text.c — text.c: the UTF-8 validator, field checks and their
 * messages, case folding, phone digits, calendar arithmetic and the public
 * name tables.  No database is needed.
 */
#include "helpers.h"
#include "error.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

TestSuite(text_utf8);
TestSuite(text_check);
TestSuite(text_fold);
TestSuite(text_date);
TestSuite(text_names);

/* Validates exactly n bytes copied into their own allocation, so that a
 * read past the end shows up under AddressSanitizer. */
static bool text_valid_n(const char *bytes, size_t n)
{
	char *p = malloc(n ? n : 1);
	cr_assert(p != NULL);
	memcpy(p, bytes, n);
	bool ok = pf_utf8_valid(p, n);
	free(p);
	return ok;
}

#define VALID(lit)   cr_assert(text_valid_n(lit, sizeof(lit) - 1), "should be valid: %s", #lit)
#define INVALID(lit) cr_assert(false == text_valid_n(lit, sizeof(lit) - 1), "should be invalid: %s", #lit)

Test(text_utf8, accepts_well_formed_text)
{
	VALID("");
	VALID("plain ascii, digits 0123 and ~");
	VALID("caf\xc3\xa9");                           /* é, 2 bytes */
	VALID("\xe8\x8e\x8a\xe5\x81\x89");              /* 莊偉, 3 bytes each */
	VALID("\xf0\x9f\x8f\xa8");                      /* U+1F3E8 hotel, 4 bytes */
	VALID("\xc2\x80");                              /* U+0080, smallest 2-byte */
	VALID("\xe0\xa0\x80");                          /* U+0800, smallest 3-byte */
	VALID("\xf0\x90\x80\x80");                      /* U+10000, smallest 4-byte */
	VALID("\xed\x9f\xbf");                          /* U+D7FF, just below surrogates */
	VALID("\xee\x80\x80");                          /* U+E000, just above */
	VALID("\xef\xbf\xbf");                          /* U+FFFF (noncharacter, still UTF-8) */
	VALID("\xf4\x8f\xbf\xbf");                      /* U+10FFFF, the last code point */
	cr_assert(pf_utf8_valid(NULL, 0));
}

Test(text_utf8, rejects_overlongs)
{
	INVALID("\xc0\x80");                            /* NUL as 2 bytes */
	INVALID("\xc1\xbf");                            /* U+007F as 2 bytes */
	INVALID("\xe0\x80\x80");
	INVALID("\xe0\x9f\xbf");                        /* U+07FF as 3 bytes */
	INVALID("\xf0\x80\x80\x80");
	INVALID("\xf0\x8f\xbf\xbf");                    /* U+FFFF as 4 bytes */
	INVALID("ok then \xc0\xaf");                    /* '/' overlong after ASCII */
}

Test(text_utf8, rejects_surrogates_and_beyond_unicode)
{
	INVALID("\xed\xa0\x80");                        /* U+D800 */
	INVALID("\xed\xbf\xbf");                        /* U+DFFF */
	INVALID("\xed\xa0\xbd\xed\xb2\xa9");            /* CESU-8 surrogate pair */
	INVALID("\xf4\x90\x80\x80");                    /* U+110000 */
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xf8\x88\x80\x80\x80");                /* old 5-byte form */
	INVALID("\xfe");
	INVALID("\xff");
}

Test(text_utf8, rejects_truncated_and_stray_bytes)
{
	INVALID("\xc3");                                /* lead byte at the end */
	INVALID("\xe8\x8e");
	INVALID("\xf0\x9f\x8f");
	INVALID("abc\xe8\x8e");
	INVALID("\x80");                                /* lone continuation */
	INVALID("a\xbf" "b");
	INVALID("\xc3\x28");                            /* continuation expected */
	INVALID("\xe8\x28\x8a");
	INVALID("\xf0\x9f\x28\xa8");
	/* A valid 3-byte character cut by the length, not by the data. */
	cr_assert(false == pf_utf8_valid("\xe8\x8e\x8a", 2));
	cr_assert(pf_utf8_valid("\xe8\x8e\x8a", 3));
}

Test(text_utf8, rejects_embedded_nul)
{
	INVALID("a\0b");
	INVALID("\0");
	cr_assert(pf_utf8_valid("a\0b", 1));            /* the NUL is outside the length */
}

Test(text_check, text_fields)
{
	char big[PF_NAME_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';

	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("email", NULL, PF_FIELD_MAX, false)), 0));
	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("email", "", PF_FIELD_MAX, false)), 0));
	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("name", "\xe8\x8e\x8a\xe5\x81\x89",
	                                PF_NAME_MAX, true)), 0));

	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("name", NULL, PF_NAME_MAX, true)), PF_EINVAL));
	cr_assert(eq(str, (char *)pf_errmsg(), "pf_guest_put: name is required"));
	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("name", "", PF_NAME_MAX, true)), PF_EINVAL));
	cr_assert(eq(str, (char *)pf_errmsg(), "pf_guest_put: name is empty"));
	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("email", "a\xff", PF_FIELD_MAX, false)),
	             PF_EINVAL));
	cr_assert(eq(str, (char *)pf_errmsg(), "pf_guest_put: email is not valid UTF-8"));

	/* Exactly at the limit passes; one byte more is refused. */
	big[PF_NAME_MAX] = '\0';
	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("name", big, PF_NAME_MAX, true)), 0));
	big[PF_NAME_MAX] = 'x';
	cr_assert(eq(int, (pf_api_enter("pf_guest_put"), pf_check_text("name", big, PF_NAME_MAX, true)), PF_EINVAL));
	cr_assert(eq(str, (char *)pf_errmsg(), "pf_guest_put: name is longer than 200 bytes"));
}

Test(text_check, words)
{
	const char *good[] = { "front_desk", "housekeeping", "a", "spa2", "x_1_y" };
	const char *bad[] = { "", "Front_desk", "front desk", "2spa", "_spa", "spa-1", "caf\xc3\xa9",
	                      "front.desk" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_assert(eq(int, pf_check_word("department", good[i]), 0), "%s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert(eq(int, pf_check_word("department", bad[i]), PF_EINVAL), "%s", bad[i]);
	cr_assert(eq(int, pf_check_word("department", NULL), PF_EINVAL));

	cr_assert(eq(int, (pf_api_enter("pf_subscribe"), pf_check_word("department", "Spa")), PF_EINVAL));
	cr_assert(eq(str, (char *)pf_errmsg(),
	             "pf_subscribe: department 'Spa' is not a lower-case word (e.g. front_desk)"));

	char longw[PF_FIELD_MAX + 2];
	memset(longw, 'a', sizeof longw - 1);
	longw[sizeof longw - 1] = '\0';
	cr_assert(eq(int, pf_check_word("tag", longw), PF_EINVAL));
	longw[PF_FIELD_MAX] = '\0';
	cr_assert(eq(int, pf_check_word("tag", longw), 0));
}

Test(text_check, categories)
{
	const char *good[] = { "room", "room.floor", "dining.cuisine", "access.hearing",
	                       "a.b.c.d", "room.10", "x_y.z_1" };
	const char *bad[] = { "", ".room", "room.", "room..floor", "Room.Floor", "room floor",
	                      "a.b.c.d.e", "room-floor", "r\xc3\xb6om", "room/floor" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		cr_assert(eq(int, pf_check_category(good[i]), 0), "%s: %s", good[i], pf_errmsg());
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert(eq(int, pf_check_category(bad[i]), PF_EINVAL), "%s", bad[i]);
	cr_assert(eq(int, pf_check_category(NULL), PF_EINVAL));

	cr_assert(eq(int, (pf_api_enter("pf_pref_set"), pf_check_category("Room.Floor")), PF_EINVAL));
	cr_assert(eq(str, (char *)pf_errmsg(),
	             "pf_pref_set: category 'Room.Floor' is not lower-case dotted words (e.g. room.floor)"));

	char cat[PF_CATEGORY_MAX + 2];
	memset(cat, 'c', sizeof cat - 1);
	cat[sizeof cat - 1] = '\0';
	cr_assert(eq(int, pf_check_category(cat), PF_EINVAL));
	cat[PF_CATEGORY_MAX] = '\0';
	cr_assert(eq(int, pf_check_category(cat), 0));
}

Test(text_check, dates)
{
	cr_assert(eq(int, pf_check_date("arrival", 20261123, true), 0));
	cr_assert(eq(int, pf_check_date("arrival", 20240229, true), 0));  /* leap year */
	cr_assert(eq(int, pf_check_date("arrival", 20000229, true), 0));  /* 400-year rule */
	cr_assert(eq(int, pf_check_date("birth", 0, false), 0));

	cr_assert(eq(int, pf_check_date("arrival", 0, true), PF_EINVAL));
	cr_assert(eq(int, pf_check_date("arrival", 21000229, true), PF_EINVAL)); /* 100-year */
	cr_assert(eq(int, pf_check_date("arrival", 20250229, true), PF_EINVAL));
	cr_assert(eq(int, pf_check_date("arrival", 20261131, true), PF_EINVAL));
	cr_assert(eq(int, pf_check_date("arrival", 20261300, true), PF_EINVAL));
	cr_assert(eq(int, pf_check_date("arrival", 20260001, true), PF_EINVAL));
	cr_assert(eq(int, pf_check_date("arrival", 20260100, true), PF_EINVAL));
	cr_assert(eq(int, pf_check_date("arrival", -20260101, false), PF_EINVAL));
	cr_assert(eq(int, pf_check_date("arrival", 2026, false), PF_EINVAL));

	cr_assert(eq(int, (pf_api_enter("pf_stay_add"), pf_check_date("arrival", 20260230, true)), PF_EINVAL));
	cr_assert(eq(str, (char *)pf_errmsg(),
	             "pf_stay_add: arrival 20260230 is not a valid date (YYYYMMDD)"));
}

Test(text_date, make)
{
	pf_date d = 7;
	assert_ok(pf_date_make(&d, 2026, 11, 23));
	cr_assert(eq(i32, d, 20261123));
	assert_ok(pf_date_make(&d, 2024, 2, 29));
	cr_assert(eq(i32, d, 20240229));

	d = 7;
	cr_assert(eq(int, pf_date_make(&d, 2026, 2, 30), PF_EINVAL));
	cr_assert(eq(i32, d, 7), "a refused date leaves *out alone");
	cr_assert(eq(int, pf_date_make(&d, 2026, 13, 1), PF_EINVAL));
	cr_assert(eq(int, pf_date_make(&d, 2026, 0, 1), PF_EINVAL));
	cr_assert(eq(int, pf_date_make(&d, 0, 1, 1), PF_EINVAL));
	cr_assert(eq(int, pf_date_make(&d, 10000, 1, 1), PF_EINVAL));
	cr_assert(eq(int, pf_date_make(NULL, 2026, 1, 1), PF_EINVAL));
}

Test(text_date, known_days)
{
	cr_assert(eq(i64, pf_date_days(19700101), 0));
	cr_assert(eq(i64, pf_date_days(19700102), 1));
	cr_assert(eq(i64, pf_date_days(19691231), -1));
	cr_assert(eq(i64, pf_date_days(20000301), 11017));
	cr_assert(eq(i64, pf_date_days(20261123), T0 / 86400), "the fixture clock's day");
	cr_assert(eq(i64, pf_date_days(10101) , -719162));   /* 0001-01-01 */
	cr_assert(eq(i32, pf_date_from_days(0), 19700101));
	cr_assert(eq(i32, pf_date_from_days(T0 / 86400), 20261123));
	cr_assert(eq(i32, pf_date_from_days(-719162), 10101));
	cr_assert(eq(i32, pf_date_from_days(-719163), 0), "before year 1 is unknown");
	cr_assert(eq(i32, pf_date_from_days(pf_date_days(99991231) + 1), 0));
	cr_assert(eq(i32, pf_date_from_days(INT64_MAX), 0));
	cr_assert(eq(i32, pf_date_from_days(INT64_MIN), 0));
}

/* Every day from year 1 to 9999: consecutive days map to consecutive
 * dates, in step with an independent day-by-day calendar. */
Test(text_date, round_trip_every_day)
{
	int y = 1, m = 1, d = 1;
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t first = pf_date_days(10101);
	int64_t last = pf_date_days(99991231);
	cr_assert(eq(i64, last - first + 1, (int64_t)3652059), "days in years 1..9999");

	for (int64_t n = first; n <= last; n++) {
		pf_date want = y * 10000 + m * 100 + d;
		pf_date got = pf_date_from_days(n);
		if (got != want)
			cr_fatal("day %lld: got %d, want %d", (long long)n, got, want);
		if (pf_date_days(want) != n)
			cr_fatal("date %d: got day %lld, want %lld", want,
			               (long long)pf_date_days(want), (long long)n);
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int len = dim[m - 1] + (m == 2 && leap);
		if (++d > len) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
}

Test(text_fold, casefold)
{
	struct { const char *in, *out; } cases[] = {
		{ "Zhuang Wei", "zhuang wei" },
		{ "ABC xyz 123", "abc xyz 123" },
		{ "\xc3\x89" "COLE", "\xc3\xa9" "cole" },                 /* ÉCOLE -> école */
		{ "E\xcc\x81" "cole", "\xc3\xa9" "cole" },                /* decomposed É composes */
		{ "Stra\xc3\x9f" "e", "strasse" },                        /* ß folds to ss */
		{ "STRASSE", "strasse" },
		{ "\xe8\x8e\x8a\xe5\x81\x89", "\xe8\x8e\x8a\xe5\x81\x89" }, /* 莊偉 unchanged */
		{ "\xef\xbc\xa1", "a" },                                  /* fullwidth Ａ (NFKC) */
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = 99;
		char *f = pf_casefold(cases[i].in, &rc);
		cr_assert(f != NULL, "case %zu: %s", i, pf_errmsg());
		cr_assert(eq(int, rc, 0));
		cr_assert(eq(str, f, (char *)cases[i].out), "case %zu", i);
		free(f);
	}
}

Test(text_fold, casefold_refuses_bad_input)
{
	int rc = 0;
	cr_assert(pf_casefold("ab\xc0\xaf", &rc) == NULL);
	cr_assert(eq(int, rc, PF_EINVAL));
	rc = 0;
	cr_assert(pf_casefold("\xed\xa0\x80", &rc) == NULL);
	cr_assert(eq(int, rc, PF_EINVAL));
	rc = 0;
	cr_assert(pf_casefold(NULL, &rc) == NULL);
	cr_assert(eq(int, rc, PF_EINVAL));
}

Test(text_fold, phone_digits)
{
	char out[16];
	cr_assert(eq(int, pf_phone_digits("+853 6123-4567", out, sizeof out), 11));
	cr_assert(eq(str, out, "85361234567"));
	cr_assert(eq(int, pf_phone_digits("(0)20 7946 0018 ext. 2", out, sizeof out), 12));
	cr_assert(eq(str, out, "020794600182"));
	cr_assert(eq(int, pf_phone_digits("no digits", out, sizeof out), 0));
	cr_assert(eq(str, out, ""));
	/* Fullwidth digits are not ASCII digits. */
	cr_assert(eq(int, pf_phone_digits("\xef\xbc\x91" "2", out, sizeof out), 1));
	cr_assert(eq(str, out, "2"));

	/* cap counts the NUL: 15 digits fit in 16 bytes, 16 do not. */
	cr_assert(eq(int, pf_phone_digits("123456789012345", out, sizeof out), 15));
	cr_assert(eq(int, pf_phone_digits("1234567890123456", out, sizeof out), -1));
	cr_assert(eq(int, pf_phone_digits("1", out, 1), -1));
	cr_assert(eq(int, pf_phone_digits(NULL, out, sizeof out), -1));
}

Test(text_fold, strdup_or_null)
{
	int rc = 0;
	cr_assert(pf_strdup_or_null(NULL, &rc) == NULL);
	cr_assert(eq(int, rc, 0), "NULL in is not a failure");
	char *s = pf_strdup_or_null("caf\xc3\xa9", &rc);
	cr_assert(s != NULL);
	cr_assert(eq(str, s, "caf\xc3\xa9"));
	cr_assert(eq(int, rc, 0));
	free(s);
}

Test(text_names, tiers)
{
	const char *names[] = { "none", "silver", "gold", "platinum", "vip" };
	for (int t = PF_TIER_NONE; t <= PF_TIER_VIP; t++) {
		cr_assert(eq(str, (char *)pf_tier_name((pf_tier)t), (char *)names[t]));
		pf_tier got = PF_TIER_NONE;
		assert_ok(pf_tier_parse(&got, names[t]));
		cr_assert(eq(int, (int)got, t));
	}
	cr_assert(pf_tier_name((pf_tier)5) == NULL);
	cr_assert(pf_tier_name((pf_tier)-1) == NULL);

	pf_tier t = PF_TIER_GOLD;
	cr_assert(eq(int, pf_tier_parse(&t, "Gold"), PF_EINVAL));
	cr_assert(eq(int, (int)t, PF_TIER_GOLD), "unchanged on failure");
	cr_assert(eq(int, pf_tier_parse(&t, "diamond"), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "diamond") != NULL, "%s", pf_errmsg());
	cr_assert(eq(int, pf_tier_parse(&t, ""), PF_EINVAL));
	cr_assert(eq(int, pf_tier_parse(&t, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_tier_parse(NULL, "gold"), PF_EINVAL));
}

Test(text_names, pref_kinds)
{
	cr_assert(eq(str, (char *)pf_pref_kind_name(PF_LIKE), "like"));
	cr_assert(eq(str, (char *)pf_pref_kind_name(PF_DISLIKE), "dislike"));
	cr_assert(eq(str, (char *)pf_pref_kind_name(PF_NEED), "need"));
	cr_assert(pf_pref_kind_name((pf_pref_kind)3) == NULL);
	cr_assert(pf_pref_kind_name((pf_pref_kind)-1) == NULL);
}
