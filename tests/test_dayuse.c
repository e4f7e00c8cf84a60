/*
 * test_dayuse.c — day-use stays (departure on the arrival day, 0 nights)
 * are accepted everywhere a stay enters or is read: pf_stay_add, pf_fire
 * and pf_preview of a check-in, the quality report's stay count, the
 * right-of-access export, merge and the retention period's "last
 * activity".  Only a departure before the arrival is refused, with a
 * message that names both fields.
 */
#include "helpers.h"
#include "text.h"
#include "id.h"   /* pf_date_days, pf_date_from_days */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(dayuse, .init = db_setup, .fini = db_teardown, .timeout = 60);

#define DAY 86400

static const char du_rules[] =
	"rule welcome\n"
	"  on check_in\n"
	"  notify front_desk normal \"Welcome {name}\"\n";

static void du_load_rules(void)
{
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "dayuse.rules", du_rules, strlen(du_rules), &err));
}

static pf_event du_check_in(const char *id, const pf_id *g, pf_date arr, pf_date dep)
{
	pf_event e = PF_EVENT_INIT;
	e.id = id;
	e.kind = PF_EVENT_CHECK_IN;
	e.guest = *g;
	e.room = "0412";
	e.arrival = arr;
	e.departure = dep;
	return e;
}

static pf_stay_list *du_stays(const pf_id *g)
{
	pf_stay_list *l = NULL;
	assert_ok(pf_stay_list_get(&l, tdb, g));
	return l;
}

static uint32_t du_counter(const pf_id *g)
{
	pf_guest *r = NULL;
	assert_ok(pf_guest_get(&r, tdb, g));
	uint32_t n = r->stays;
	pf_guest_free(r);
	return n;
}

Test(dayuse, stay_add_accepts_departure_on_the_arrival_day)
{
	pf_id g = add_guest("Day Guest", NULL, NULL);
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = g, .arrival = 20150701, .departure = 20150701, .room = "12",
	              .party = 2 };
	assert_ok(pf_stay_add(tdb, &s));
	cr_assert(eq(u32, du_counter(&g), 1), "a day-use stay is a stay");
	assert_ok(pf_stay_add(tdb, &s));
	cr_assert(eq(u32, du_counter(&g), 1), "and, sent again, still one stay");

	pf_stay_list *l = du_stays(&g);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(i32, l->items[0].arrival, 20150701));
	cr_assert(eq(i32, l->items[0].departure, 20150701));
	cr_assert(eq(str, (char *)l->items[0].room, "12"));
	pf_stay_list_free(l);
}

Test(dayuse, departure_before_arrival_is_refused_naming_both_fields)
{
	pf_id g = add_guest("Early Leaver", NULL, NULL);
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = g, .arrival = 20150701, .departure = 20150630 };
	cr_assert(eq(int, pf_stay_add(tdb, &s), PF_EINVAL));
	const char *m = pf_errmsg();
	cr_assert(strstr(m, "pf_stay_add") && strstr(m, "departure") && strstr(m, "arrival"),
	          "%s", m);
	cr_assert(eq(u32, du_counter(&g), 0));

	du_load_rules();
	pf_event e = du_check_in("r-before", &g, 20150701, 20150630);
	pf_prompt_list *pl = NULL;
	cr_assert(eq(int, pf_fire(&pl, tdb, &e), PF_EINVAL));
	m = pf_errmsg();
	cr_assert(strstr(m, "pf_fire") && strstr(m, "departure") && strstr(m, "arrival"), "%s", m);
	cr_assert(eq(int, pf_preview(&pl, tdb, &e), PF_EINVAL));
	/* No arrival: it is the event's day (T0 = 2026-11-23), and a
	 * departure the day before is refused as well. */
	e = du_check_in("r-before-today", &g, 0, 20261122);
	cr_assert(eq(int, pf_fire(&pl, tdb, &e), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "arrival") != NULL, "%s", pf_errmsg());
	pf_stay_list *l = du_stays(&g);
	cr_assert(eq(sz, l->count, 0), "nothing stored");
	pf_stay_list_free(l);
}

Test(dayuse, check_in_records_a_day_use_stay_and_makes_its_prompts)
{
	pf_id g = add_guest("Day Room", NULL, NULL);
	du_load_rules();
	pf_event e = du_check_in("res-day-1", &g, 20261123, 20261123);

	pf_prompt_list *pl = NULL;
	assert_ok(pf_preview(&pl, tdb, &e));
	cr_assert(eq(sz, pl->count, 1));
	pf_prompt_list_free(pl);

	pl = NULL;
	assert_ok(pf_fire(&pl, tdb, &e));
	cr_assert(eq(sz, pl->count, 1));
	cr_assert(eq(str, (char *)pl->items[0].text, "Welcome Day Room"));
	pf_prompt_list_free(pl);

	/* A departure given alone, on the event's own day, is day-use too. */
	pf_id h = add_guest("Walk In", NULL, NULL);
	e = du_check_in("res-day-2", &h, 0, 20261123);
	pl = NULL;
	assert_ok(pf_fire(&pl, tdb, &e));
	pf_prompt_list_free(pl);

	const pf_id *who[2] = { &g, &h };
	for (int i = 0; i < 2; i++) {
		pf_stay_list *l = du_stays(who[i]);
		cr_assert(eq(sz, l->count, 1));
		cr_assert(eq(i32, l->items[0].arrival, 20261123));
		cr_assert(eq(i32, l->items[0].departure, 20261123));
		pf_stay_list_free(l);
		cr_assert(eq(u32, du_counter(who[i]), 1));
	}
}

Test(dayuse, quality_report_counts_a_day_use_stay_as_one_stay)
{
	pf_id a = add_guest("Day Use", NULL, NULL);
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = a, .arrival = 20261123, .departure = 20261123 };
	assert_ok(pf_stay_add(tdb, &s));
	pf_time from = 0, to = 0;
	assert_ok(pf_day_start(&from, tdb, 20261123));
	assert_ok(pf_day_start(&to, tdb, 20261124));

	/* Only the day-use stay, and one complaint: 100 per 100 stays. */
	pf_feedback f = PF_FEEDBACK_INIT;
	f.guest = a;
	f.kind = PF_FEEDBACK_COMPLAINT;
	f.department = "housekeeping";
	f.category = "room";
	f.text = "constructed";
	f.recorded_by = "staff";
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	pf_quality_report *r = NULL;
	assert_ok(pf_quality_report_get(&r, tdb, from, to));
	cr_assert(eq(u32, r->stays, 1));
	cr_assert(eq(u32, r->overall.complaints, 1));
	cr_assert(eq(dbl, r->overall.per_100_stays, 100.0));
	pf_quality_report_free(r);

	/* With a two-night stay arriving the same day: 2 stays, 50. */
	pf_id b = add_guest("Two Nights", NULL, NULL);
	pf_stay t = { .version = PF_STAY_VERSION,
	              .guest = b, .arrival = 20261123, .departure = 20261125 };
	assert_ok(pf_stay_add(tdb, &t));
	assert_ok(pf_quality_report_get(&r, tdb, from, to));
	cr_assert(eq(u32, r->stays, 2));
	cr_assert(eq(dbl, r->overall.per_100_stays, 50.0));
	pf_quality_report_free(r);
}

Test(dayuse, export_shows_departure_equal_to_arrival)
{
	pf_id g = add_guest("Export Day", NULL, NULL);
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = g, .arrival = 20261123, .departure = 20261123 };
	assert_ok(pf_stay_add(tdb, &s));
	char *text = NULL;
	assert_ok(pf_guest_export_json(&text, tdb, &g));
	json_error_t e;
	json_t *root = json_loads(text, 0, &e);
	cr_assert(root != NULL, "%s", e.text);
	json_t *stays = json_object_get(root, "stays");
	cr_assert(eq(sz, json_array_size(stays), 1));
	json_t *st = json_array_get(stays, 0);
	cr_assert(eq(str, (char *)json_string_value(json_object_get(st, "arrival")), "2026-11-23"));
	cr_assert(eq(str, (char *)json_string_value(json_object_get(st, "departure")),
	             "2026-11-23"));
	json_t *guest = json_object_get(root, "guest");
	cr_assert(eq(i64, (int64_t)json_integer_value(json_object_get(guest, "stays")), 1));
	json_decref(root);
	pf_string_free(text);
}

Test(dayuse, merge_moves_a_day_use_stay)
{
	pf_id keep = add_guest("Keep Me", "keep@example.com", NULL);
	pf_id dup = add_guest("Keep Me", "keep2@example.com", NULL);
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = dup, .arrival = 20261120, .departure = 20261120 };
	assert_ok(pf_stay_add(tdb, &s));
	pf_id m;
	assert_ok(pf_guest_merge(&m, tdb, &keep, &dup));
	pf_stay_list *l = du_stays(&keep);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(i32, l->items[0].departure, 20261120));
	pf_stay_list_free(l);
	cr_assert(eq(u32, du_counter(&keep), 1));
}

Test(dayuse, retention_counts_the_day_use_day_as_last_activity)
{
	/* Created at T0 (2026-11-23); a day-use stay 40 days later is its
	 * last activity: 30 days after it the profile stays, 31 it goes. */
	pf_id g = add_guest("Retained", "ret@example.com", NULL);
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = g, .arrival = 20270102, .departure = 20270102 };
	assert_ok(pf_stay_add(tdb, &s));

	pf_retention_report rep;
	tclock = T0 + 40 * DAY + 30 * DAY;   /* 2027-02-01 */
	assert_ok(pf_retention_run(&rep, tdb, 30, "dpo"));
	cr_assert(eq(u64, rep.anonymised, 0), "30 days after the day-use stay");
	tclock += DAY;
	assert_ok(pf_retention_run(&rep, tdb, 30, "dpo"));
	cr_assert(eq(u64, rep.anonymised, 1), "31 days after it");
}

/* ---- real bookings ---- */

/* The first 600 bookings of the benchmark slice of the Hotel booking
 * demand data set (tests/bench/data/README.md has its attribution). */
#define BK_PATH "tests/bench/data/hotel_bookings_4k.csv"
#define BK_ROWS 600

struct booking {
	char country[8];
	pf_date arrival;
	int nights;
	pf_id id;
};

static int bk_month(const char *m)
{
	static const char *const names[] = { "January", "February", "March", "April", "May",
	                                     "June", "July", "August", "September", "October",
	                                     "November", "December" };
	for (int i = 0; i < 12; i++)
		if (strcmp(m, names[i]) == 0)
			return i + 1;
	return 0;
}

/* The check-outs among the first BK_ROWS bookings (the file has no
 * quoted fields: a plain split on commas reads it). */
static size_t bk_load(struct booking *out, size_t cap)
{
	FILE *f = fopen(BK_PATH, "r");
	cr_assert(f != NULL, "cannot read %s (run the tests from the top directory)", BK_PATH);
	char line[1024];
	size_t n = 0;
	cr_assert(fgets(line, sizeof line, f) != NULL);   /* header */
	for (int row = 0; row < BK_ROWS && fgets(line, sizeof line, f); row++) {
		char *col[32];
		int nc = 0;
		line[strcspn(line, "\r\n")] = '\0';
		for (char *p = line; nc < 32; ) {
			col[nc++] = p;
			char *c = strchr(p, ',');
			if (!c)
				break;
			*c = '\0';
			p = c + 1;
		}
		cr_assert(eq(int, nc, 32), "row %d has %d columns", row + 1, nc);
		if (strcmp(col[30], "Check-Out") != 0)
			continue;
		cr_assert(lt(sz, n, cap));
		struct booking *b = &out[n++];
		snprintf(b->country, sizeof b->country, "%s", col[13]);
		int m = bk_month(col[4]);
		cr_assert(m > 0, "month %s", col[4]);
		assert_ok(pf_date_make(&b->arrival, atoi(col[3]), m, atoi(col[6])));
		b->nights = atoi(col[7]) + atoi(col[8]);
	}
	fclose(f);
	return n;
}

static bool bk_country_ok(const char *c)
{
	return strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' &&
	       c[2] >= 'A' && c[2] <= 'Z';
}

Test(dayuse, real_bookings_with_their_countries_and_day_use_stays)
{
	static struct booking bk[BK_ROWS];
	size_t n = bk_load(bk, BK_ROWS);
	size_t dayuse = 0, bad_country = 0, unknown = 0;
	for (size_t i = 0; i < n; i++) {
		dayuse += bk[i].nights == 0;
		unknown += strcmp(bk[i].country, "NULL") == 0;
		bad_country += strcmp(bk[i].country, "NULL") != 0 && !bk_country_ok(bk[i].country);
	}
	/* What this slice holds (so the test cannot pass on nothing). */
	cr_assert(eq(sz, n, 465));
	cr_assert(eq(sz, dayuse, 9));
	cr_assert(eq(sz, unknown, 1));
	cr_assert(eq(sz, bad_country, 5), "\"CN\" is two letters");

	/* One guest per booking, in the importer's own format. */
	char path[600];
	snprintf(path, sizeof path, "%s/bookings.csv", tdir);
	FILE *f = fopen(path, "w");
	cr_assert(f != NULL);
	fprintf(f, "id,external_id,name,country\n");
	for (size_t i = 0; i < n; i++) {
		char id[PF_ID_STRLEN + 1];
		pf_id_generate(&bk[i].id);
		pf_id_format(id, &bk[i].id);
		fprintf(f, "%s,BK-%04zu,Booking %04zu,%s\n", id, i + 1, i + 1, bk[i].country);
	}
	fclose(f);
	pf_import_report *rep = NULL;
	assert_ok(pf_import_csv(&rep, tdb, path, NULL));
	cr_assert(eq(u64, rep->created, n - bad_country));
	cr_assert(eq(u64, rep->rejected, bad_country));
	for (size_t i = 0; i < rep->reject_count; i++)
		cr_assert(strstr(rep->rejects[i].reason, "column 4 'country'") != NULL, "%s",
		          rep->rejects[i].reason);
	pf_import_report_free(rep);

	/* Their stays: day-use ones fired as check-ins, the rest added. */
	du_load_rules();
	size_t fired = 0, recorded = 0;
	pf_date first = 0, last = 0;
	for (size_t i = 0; i < n; i++) {
		if (!bk_country_ok(bk[i].country) && strcmp(bk[i].country, "NULL") != 0)
			continue;
		pf_date dep = pf_date_from_days(pf_date_days(bk[i].arrival) + bk[i].nights);
		if (bk[i].nights == 0) {
			char eid[32];
			snprintf(eid, sizeof eid, "bk-%zu", i + 1);
			pf_event e = du_check_in(eid, &bk[i].id, bk[i].arrival, dep);
			e.time = (pf_time)pf_date_days(bk[i].arrival) * DAY + 12 * 3600;
			pf_prompt_list *pl = NULL;
			int rc = pf_fire(&pl, tdb, &e);
			cr_assert(eq(int, rc, 0), "booking %zu: %s", i + 1, pf_errmsg());
			cr_assert(eq(sz, pl->count, 1));
			pf_prompt_list_free(pl);
			fired++;
		} else {
			pf_stay s = { .version = PF_STAY_VERSION,
			              .guest = bk[i].id, .arrival = bk[i].arrival, .departure = dep };
			int rc = pf_stay_add(tdb, &s);
			cr_assert(eq(int, rc, 0), "booking %zu: %s", i + 1, pf_errmsg());
		}
		recorded++;
		if (!first || bk[i].arrival < first)
			first = bk[i].arrival;
		if (bk[i].arrival > last)
			last = bk[i].arrival;
	}
	cr_assert(eq(sz, fired, dayuse), "no day-use booking has a two-letter country here");

	for (size_t i = 0; i < n; i++) {
		if (!bk_country_ok(bk[i].country) && strcmp(bk[i].country, "NULL") != 0)
			continue;
		pf_guest *g = NULL;
		assert_ok(pf_guest_get(&g, tdb, &bk[i].id));
		if (strcmp(bk[i].country, "NULL") == 0)
			cr_assert(g->country == NULL);
		else
			cr_assert(eq(str, (char *)g->country, bk[i].country));
		cr_assert(eq(u32, g->stays, 1));
		pf_guest_free(g);
		if (bk[i].nights == 0) {
			pf_stay_list *l = du_stays(&bk[i].id);
			cr_assert(eq(sz, l->count, 1));
			cr_assert(eq(i32, l->items[0].departure, bk[i].arrival));
			pf_stay_list_free(l);
		}
	}

	/* Every stay, day-use or not, counts once in the quality report. */
	pf_time from = 0, to = 0;
	assert_ok(pf_day_start(&from, tdb, first));
	assert_ok(pf_day_start(&to, tdb, pf_date_from_days(pf_date_days(last) + 1)));
	pf_quality_report *q = NULL;
	assert_ok(pf_quality_report_get(&q, tdb, from, to));
	cr_assert(eq(u32, q->stays, (uint32_t)recorded));
	cr_assert(eq(dbl, q->overall.per_100_stays, 0.0), "no complaints");
	pf_quality_report_free(q);
}
