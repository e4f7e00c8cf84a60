/*
 * test_dayuse.c — day-use stays (departure on the arrival day, 0 nights)
 * are accepted everywhere a stay enters or is read: pf_stay_add, pf_fire
 * and pf_preview of a check-in, the quality report's stay count, the
 * right-of-access export, merge and the retention period's "last
 * activity".  Only a departure before the arrival is refused, with a
 * message that names both fields.
 */
#include "helpers.h"

#include <jansson.h>
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
	pf_stay s = { .guest = g, .arrival = 20150701, .departure = 20150701, .room = "12",
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
	pf_stay s = { .guest = g, .arrival = 20150701, .departure = 20150630 };
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
	pf_stay s = { .guest = a, .arrival = 20261123, .departure = 20261123 };
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
	pf_stay t = { .guest = b, .arrival = 20261123, .departure = 20261125 };
	assert_ok(pf_stay_add(tdb, &t));
	assert_ok(pf_quality_report_get(&r, tdb, from, to));
	cr_assert(eq(u32, r->stays, 2));
	cr_assert(eq(dbl, r->overall.per_100_stays, 50.0));
	pf_quality_report_free(r);
}

Test(dayuse, export_shows_departure_equal_to_arrival)
{
	pf_id g = add_guest("Export Day", NULL, NULL);
	pf_stay s = { .guest = g, .arrival = 20261123, .departure = 20261123 };
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
	pf_stay s = { .guest = dup, .arrival = 20261120, .departure = 20261120 };
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
	pf_stay s = { .guest = g, .arrival = 20270102, .departure = 20270102 };
	assert_ok(pf_stay_add(tdb, &s));

	pf_retention_report rep;
	tclock = T0 + 40 * DAY + 30 * DAY;   /* 2027-02-01 */
	assert_ok(pf_retention_run(&rep, tdb, 30, "dpo"));
	cr_assert(eq(u64, rep.anonymised, 0), "30 days after the day-use stay");
	tclock += DAY;
	assert_ok(pf_retention_run(&rep, tdb, 30, "dpo"));
	cr_assert(eq(u64, rep.anonymised, 1), "31 days after it");
}
