/*
 * test_tz.c — the hotel's time zone (tz.c): zone files and their POSIX
 * footer, fixed offsets, local days, the sunset rule and follow-up due
 * times, and the pf_open options that set them.  Expected instants were
 * worked out by hand from the zone rules (and checked against Python's
 * zoneinfo); each test says how.
 */
#include "helpers.h"
#include "text.h"
#include "store.h"
#include "tz.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

TestSuite(tz, .init = db_setup, .fini = db_teardown, .timeout = 60);

/* Seconds since 1970 of a UTC date and time, from the civil calendar. */
static pf_time tz_utc(int y, int m, int d, int h, int mi, int s)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	return days * 86400 + h * 3600 + mi * 60 + s;
}

/* Reopen the fixture's database with the zone options given. */
static int tz_reopen(const char *zone, int offset_min, int day_end, int cutoff)
{
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.timezone = zone;
	o.utc_offset_minutes = offset_min;
	o.business_day_end = day_end;
	o.complaint_cutoff = cutoff;
	return pf_open(&tdb, tdir, &o);
}

static int offset_at(pf_time t)
{
	int off = 12345;
	cr_assert(eq(int, pf_utc_offset(&off, tdb, t), 0));
	return off;
}

static pf_time due_of(pf_time recorded)
{
	pf_time due = 0;
	cr_assert(eq(int, pf_complaint_due(&due, tdb, recorded), 0), "%s", pf_errmsg());
	return due;
}

Test(tz, civil_helper_agrees_with_the_fixture_clock)
{
	/* T0 is 2026-11-23 09:00:00 UTC by helpers.h. */
	cr_assert(eq(i64, tz_utc(2026, 11, 23, 9, 0, 0), T0));
	cr_assert(eq(i64, tz_utc(1970, 1, 1, 0, 0, 0), 0));
}

Test(tz, default_is_utc_with_2359_and_2200)
{
	/* No zone options: UTC; 21:59 is before the 22:00 cut-off -> 23:59 the
	 * same day; 22:00 -> noon the next day. */
	cr_assert(eq(int, offset_at(T0), 0));
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 21, 59, 0)), tz_utc(2026, 11, 23, 23, 59, 0)));
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 22, 0, 0)), tz_utc(2026, 11, 24, 12, 0, 0)));
	/* 0 = now (the fixture clock, 09:00) -> 23:59 today. */
	cr_assert(eq(i64, due_of(0), tz_utc(2026, 11, 23, 23, 59, 0)));
}

Test(tz, macau_sunset_across_cutoff_and_day_boundary)
{
	assert_ok(tz_reopen("Asia/Macau", 0, 0, 0));
	/* Macau is UTC+8 all year (no daylight time since 1979). */
	cr_assert(eq(int, offset_at(T0), 8 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2026, 7, 1, 0, 0, 0)), 8 * 3600));
	/* 13:59Z = 21:59 local: before the cut-off -> 23:59 local = 15:59Z. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 13, 59, 0)), tz_utc(2026, 11, 23, 15, 59, 0)));
	/* 14:00Z = 22:00 local, exactly the cut-off -> noon local on the 24th
	 * = 04:00Z on the 24th. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 14, 0, 0)), tz_utc(2026, 11, 24, 4, 0, 0)));
	/* 15:30Z = 23:30 local -> noon local on the 24th. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 15, 30, 0)), tz_utc(2026, 11, 24, 4, 0, 0)));
	/* 17:00Z on the 23rd is already 01:00 local on the 24th: the business
	 * day is the 24th (not the UTC date) -> 23:59 local = 15:59Z on the 24th. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 17, 0, 0)), tz_utc(2026, 11, 24, 15, 59, 0)));
	/* Follow-ups: the end of the NEXT local business day. */
	cr_assert(eq(i64, pf_followup_due(tdb->tz, tz_utc(2026, 11, 23, 15, 30, 0)),
	             tz_utc(2026, 11, 24, 15, 59, 0)));
	cr_assert(eq(i64, pf_followup_due(tdb->tz, tz_utc(2026, 11, 23, 17, 0, 0)),
	             tz_utc(2026, 11, 25, 15, 59, 0)));
}

Test(tz, new_york_sunset_across_spring_forward)
{
	assert_ok(tz_reopen("America/New_York", 0, 0, 0));
	/* 2026: EST (-5) until Sunday 8 March 02:00 EST = 07:00Z, then EDT (-4). */
	cr_assert(eq(int, offset_at(tz_utc(2026, 3, 8, 6, 59, 59)), -5 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2026, 3, 8, 7, 0, 0)), -4 * 3600));
	/* Saturday 7 March 23:00 EST = 04:00Z on the 8th: after the cut-off ->
	 * noon on Sunday the 8th, which is EDT: 16:00Z, not 17:00Z. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 3, 8, 4, 0, 0)), tz_utc(2026, 3, 8, 16, 0, 0)));
	/* Saturday 21:00 EST = 02:00Z on the 8th (a UTC date later): before the
	 * cut-off -> 23:59 EST Saturday = 04:59Z on the 8th. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 3, 8, 2, 0, 0)), tz_utc(2026, 3, 8, 4, 59, 0)));
	/* Sunday 10:00 EDT = 14:00Z -> 23:59 EDT = 03:59Z on the 9th. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 3, 8, 14, 0, 0)), tz_utc(2026, 3, 9, 3, 59, 0)));
	/* The local day of the change is 23 hours long. */
	pf_time d8 = 0, d9 = 0;
	assert_ok(pf_day_start(&d8, tdb, 20260308));
	assert_ok(pf_day_start(&d9, tdb, 20260309));
	cr_assert(eq(i64, d8, tz_utc(2026, 3, 8, 5, 0, 0)));
	cr_assert(eq(i64, d9, tz_utc(2026, 3, 9, 4, 0, 0)));
}

Test(tz, new_york_sunset_across_fall_back)
{
	assert_ok(tz_reopen("America/New_York", 0, 0, 0));
	/* EDT ends Sunday 1 November 2026 02:00 EDT = 06:00Z. */
	cr_assert(eq(int, offset_at(tz_utc(2026, 11, 1, 5, 59, 59)), -4 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2026, 11, 1, 6, 0, 0)), -5 * 3600));
	/* Saturday 31 October 22:30 EDT = 02:30Z on 1 November: after the
	 * cut-off -> noon Sunday, by then EST: 17:00Z. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 1, 2, 30, 0)), tz_utc(2026, 11, 1, 17, 0, 0)));
	/* Follow-up of a resolution at the same instant: the end of Sunday
	 * (the next business day after Saturday) = 23:59 EST = 04:59Z Monday. */
	cr_assert(eq(i64, pf_followup_due(tdb->tz, tz_utc(2026, 11, 1, 2, 30, 0)),
	             tz_utc(2026, 11, 2, 4, 59, 0)));
}

Test(tz, local_times_in_a_gap_and_an_overlap)
{
	assert_ok(tz_reopen("America/New_York", 0, 0, 0));
	int64_t day = pf_date_days(20260308) * 86400;
	/* 02:30 on 8 March 2026 never happens (02:00 EST jumps to 03:00 EDT):
	 * moved on by the gap, it is 03:30 EDT = 07:30Z. */
	cr_assert(eq(i64, pf_tz_from_local(tdb->tz, day + 2 * 3600 + 1800),
	             tz_utc(2026, 3, 8, 7, 30, 0)));
	/* 01:30 on 1 November happens twice; the first is EDT = 05:30Z. */
	day = pf_date_days(20261101) * 86400;
	cr_assert(eq(i64, pf_tz_from_local(tdb->tz, day + 3600 + 1800),
	             tz_utc(2026, 11, 1, 5, 30, 0)));
}

Test(tz, footer_rule_beyond_the_table)
{
	/* The zone file's table stops in 2037; 2040 comes from its footer
	 * "EST5EDT,M3.2.0,M11.1.0": second Sunday of March 2040 is the 11th,
	 * first Sunday of November is the 4th. */
	assert_ok(tz_reopen("America/New_York", 0, 0, 0));
	cr_assert(eq(int, offset_at(tz_utc(2040, 3, 11, 6, 59, 59)), -5 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 3, 11, 7, 0, 0)), -4 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 11, 4, 5, 59, 59)), -4 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 11, 4, 6, 0, 0)), -5 * 3600));
	/* Southern hemisphere, "AEST-10AEDT,M10.1.0,M4.1.0/3": daylight time
	 * spans the new year; it ends Sunday 1 April 2040 03:00 AEDT (16:00Z on
	 * 31 March) and starts Sunday 7 October 02:00 AEST (16:00Z on the 6th). */
	assert_ok(tz_reopen("Australia/Sydney", 0, 0, 0));
	cr_assert(eq(int, offset_at(tz_utc(2040, 1, 15, 0, 0, 0)), 11 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 3, 31, 15, 59, 59)), 11 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 3, 31, 16, 0, 0)), 10 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 7, 15, 0, 0, 0)), 10 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 10, 6, 15, 59, 59)), 10 * 3600));
	cr_assert(eq(int, offset_at(tz_utc(2040, 10, 6, 16, 0, 0)), 11 * 3600));
}

Test(tz, fixed_offset_with_custom_business_day)
{
	/* UTC+1, the business day ends at 18:00, no cut-off. */
	assert_ok(tz_reopen(NULL, 60, 18 * 60, -1));
	cr_assert(eq(int, offset_at(T0), 3600));
	/* 10:00 local (09:00Z) -> 18:00 local = 17:00Z. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 9, 0, 0)), tz_utc(2026, 11, 23, 17, 0, 0)));
	/* 19:00 local: the business day is over -> noon next day = 11:00Z. */
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 18, 0, 0)), tz_utc(2026, 11, 24, 11, 0, 0)));
	/* Follow-up: 18:00 local the next day. */
	cr_assert(eq(i64, pf_followup_due(tdb->tz, tz_utc(2026, 11, 23, 9, 0, 0)),
	             tz_utc(2026, 11, 24, 17, 0, 0)));
	/* No cut-off, default day end: 23:00 local is still answered today. */
	assert_ok(tz_reopen(NULL, -300, 0, -1));
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 24, 4, 0, 0)), tz_utc(2026, 11, 24, 4, 59, 0)));
	/* Local dates follow the offset: 04:00Z on the 24th is the 23rd at UTC-5. */
	cr_assert(eq(int, pf_local_date(tdb->tz, tz_utc(2026, 11, 24, 4, 0, 0)), 20261123));
}

Test(tz, bad_zone_options_are_refused_before_anything_is_created)
{
	char dir[300];
	struct stat st;
	pf_db *db = NULL;
	pf_options o = test_options();
	snprintf(dir, sizeof dir, "%s/never", tdir);

	const char *bad[] = { "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime",
	                      "America", "Asia/./Macau", "", "Asia/Macau\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o.timezone = bad[i];
		cr_assert(eq(int, pf_open(&db, dir, &o), PF_EINVAL), "zone '%s'", bad[i]);
		cr_assert(db == NULL);
		cr_assert(ne(int, stat(dir, &st), 0), "'%s' created the directory", bad[i]);
	}
	cr_assert(strstr(pf_errmsg(), "pf_open") != NULL);

	o = test_options();
	o.timezone = "Asia/Macau";
	o.utc_offset_minutes = 480;
	cr_assert(eq(int, pf_open(&db, dir, &o), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "not both") != NULL);
	o = test_options();
	o.utc_offset_minutes = 19 * 60;
	cr_assert(eq(int, pf_open(&db, dir, &o), PF_EINVAL));
	o = test_options();
	o.business_day_end = 1440;
	cr_assert(eq(int, pf_open(&db, dir, &o), PF_EINVAL));
	o = test_options();
	o.complaint_cutoff = -2;
	cr_assert(eq(int, pf_open(&db, dir, &o), PF_EINVAL));
	cr_assert(ne(int, stat(dir, &st), 0));
}

Test(tz, zone_name_is_copied_not_kept)
{
	char name[32];
	strcpy(name, "Asia/Macau");
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.timezone = name;
	assert_ok(pf_open(&tdb, tdir, &o));
	memset(name, 'x', sizeof name - 1);    /* the caller reuses its buffer */
	cr_assert(eq(int, offset_at(T0), 8 * 3600));
	cr_assert(eq(str, (char *)tdb->opts.timezone, "Asia/Macau"));
	cr_assert(tdb->opts.timezone != name);
}

Test(tz, options_version_1_callers_get_the_defaults)
{
	/* A caller built against version 1 passes a shorter struct: the
	 * business-day fields must not be read from it. */
	pf_close(tdb);
	tdb = NULL;
	pf_options o = test_options();
	o.version = 1;
	o.timezone = (const char *)1;     /* garbage a v1 caller never set */
	o.business_day_end = 99999;
	assert_ok(pf_open(&tdb, tdir, &o));
	cr_assert(eq(int, offset_at(T0), 0));
	cr_assert(eq(i64, due_of(tz_utc(2026, 11, 23, 22, 30, 0)), tz_utc(2026, 11, 24, 12, 0, 0)));
}

Test(tz, public_helpers_validate)
{
	pf_time t = 0;
	int off = 0;
	cr_assert(eq(int, pf_day_start(NULL, tdb, 20261123), PF_EINVAL));
	cr_assert(eq(int, pf_day_start(&t, NULL, 20261123), PF_EINVAL));
	cr_assert(eq(int, pf_day_start(&t, tdb, 20260230), PF_EINVAL));
	cr_assert(eq(int, pf_utc_offset(NULL, tdb, 0), PF_EINVAL));
	cr_assert(eq(int, pf_utc_offset(&off, NULL, 0), PF_EINVAL));
	cr_assert(eq(int, pf_complaint_due(&t, tdb, -5), PF_EINVAL));
	cr_assert(eq(int, pf_complaint_due(NULL, tdb, 0), PF_EINVAL));
	assert_ok(pf_day_start(&t, tdb, 20261123));
	cr_assert(eq(i64, t, tz_utc(2026, 11, 23, 0, 0, 0)));
}

Test(tz, zone_arithmetic_needs_no_handle)
{
	/* tz.c works on a zone and instants only; a NULL zone is UTC with
	 * the default business day (23:59, cut-off 22:00). */
	cr_assert(eq(int, pf_local_date(NULL, T0), 20261123));
	cr_assert(eq(i64, pf_local_day_start(NULL, 20261123), tz_utc(2026, 11, 23, 0, 0, 0)));
	cr_assert(eq(i64, pf_sunset_due(NULL, T0), tz_utc(2026, 11, 23, 23, 59, 0)));
	cr_assert(eq(i64, pf_sunset_due(NULL, tz_utc(2026, 11, 23, 22, 0, 0)),
	             tz_utc(2026, 11, 24, 12, 0, 0)));
	cr_assert(eq(i64, pf_followup_due(NULL, T0), tz_utc(2026, 11, 24, 23, 59, 0)));
	/* The handle's zone gives the same answers as the public helpers. */
	pf_time due = 0;
	assert_ok(pf_complaint_due(&due, tdb, T0));
	cr_assert(eq(i64, pf_sunset_due(tdb->tz, T0), due));
}
