/* test_export.c — right-of-access export of one guest as JSON (validated by
 * parsing it with jansson), and the export of all guests as JSON Lines and
 * CSV, each imported into a fresh database to give the same guests. */
#include "helpers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(export, .init = db_setup, .fini = db_teardown, .timeout = 60);

static const char exp_rules[] =
	"rule floor-preference\n"
	"  on check_in\n"
	"  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n";

/* A guest with something in every section of the export. */
static pf_id exp_rich_guest(void)
{
	static const char *const tags[] = { "vip" };
	pf_guest g = PF_GUEST_INIT;
	g.name = "Zhuang Wei";
	g.email = "zw@example.com";
	g.phone = "+853 6123 4567";
	g.language = "zh";
	g.country = "MAC";
	g.loyalty_no = "GX-88123";
	g.birth_date = 19850612;
	g.tier = PF_TIER_GOLD;
	g.tags = tags;
	g.tag_count = 1;
	g.external_id = "PMS-1";
	assert_ok(pf_guest_put(tdb, &g));

	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "housekeeping";
	o.staff = "mei";
	o.note = "asked twice";
	assert_ok(pf_pref_set(tdb, &g.id, "room.floor", "10", &o));
	set_pref(&g.id, "allergy.feathers", "feathers", PF_NEED);

	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t.rules", exp_rules, strlen(exp_rules), &err));
	pf_event ev = PF_EVENT_INIT;
	ev.id = "res-881";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = g.id;
	ev.room = "1012";
	ev.arrival = 20261123;
	ev.departure = 20261126;
	ev.party = 2;
	pf_prompt_list *pl = NULL;
	assert_ok(pf_fire(&pl, tdb, &ev));
	cr_assert(ge(sz, pl->count, 1));
	pf_id prompt = pl->items[0].id;
	pf_prompt_list_free(pl);
	tclock += 60;
	assert_ok(pf_prompt_ack(tdb, &prompt, "li"));

	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = g.id;
	fb.department = "housekeeping";
	fb.category = "room";
	fb.text = "Pillows were feather despite the allergy";
	fb.recorded_by = "mei";
	assert_ok(pf_feedback_add(tdb, &fb, NULL));
	return g.id;
}

/* jansson's json_is_* are macros that start with '(', which cr_assert()
 * cannot take: functions instead. */
static bool exp_is_object(const json_t *v) { return json_is_object(v); }
static bool exp_is_string(const json_t *v) { return json_is_string(v); }
static bool exp_is_array(const json_t *v) { return json_is_array(v); }
static bool exp_is_null(const json_t *v) { return json_is_null(v); }

static json_t *exp_parse(const char *text)
{
	json_error_t e;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &e);
	cr_assert(root != NULL, "export is not JSON: %s (line %d)", e.text, e.line);
	cr_assert(exp_is_object(root));
	return root;
}

static const char *exp_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(exp_is_string(v), "'%s' is not a string", key);
	return json_string_value(v);
}

Test(export, guest_json_holds_everything_and_parses)
{
	pf_id id = exp_rich_guest();
	char *text = NULL;
	assert_ok(pf_guest_export_json(&text, tdb, &id));
	json_t *root = exp_parse(text);

	cr_assert(eq(str, (char *)exp_str(root, "format"), "libprofile.guest-export"));
	cr_assert(eq(str, (char *)exp_str(root, "exported_at"), "2026-11-23T09:01:00Z"));
	json_t *g = json_object_get(root, "guest");
	char ids[PF_ID_STRLEN + 1];
	pf_id_format(ids, &id);
	cr_assert(eq(str, (char *)exp_str(g, "id"), ids));
	cr_assert(eq(str, (char *)exp_str(g, "name"), "Zhuang Wei"));
	cr_assert(eq(str, (char *)exp_str(g, "external_id"), "PMS-1"));
	cr_assert(eq(str, (char *)exp_str(g, "country"), "MAC"));
	cr_assert(eq(str, (char *)exp_str(g, "birth_date"), "1985-06-12"));
	cr_assert(eq(str, (char *)exp_str(g, "tier"), "gold"));
	cr_assert(eq(str, (char *)exp_str(g, "created"), "2026-11-23T09:00:00Z"));
	cr_assert(exp_is_null(json_object_get(g, "not_satisfied_at")));
	cr_assert(eq(int, (int)json_integer_value(json_object_get(g, "stays")), 1));
	cr_assert(eq(int, (int)json_integer_value(json_object_get(g, "complaints_open")), 1));
	cr_assert(eq(str, (char *)json_string_value(json_array_get(json_object_get(g, "consent"), 0)),
	             "profiling"));

	json_t *prefs = json_object_get(root, "preferences");
	cr_assert(eq(sz, json_array_size(prefs), 2));
	json_t *floor = json_array_get(prefs, 1);   /* sorted: allergy.*, room.* */
	cr_assert(eq(str, (char *)exp_str(floor, "category"), "room.floor"));
	cr_assert(eq(str, (char *)exp_str(floor, "kind"), "like"));
	cr_assert(eq(str, (char *)exp_str(floor, "note"), "asked twice"));
	json_t *by = json_object_get(floor, "observed_by");
	cr_assert(eq(str, (char *)exp_str(by, "department"), "housekeeping"));
	cr_assert(eq(str, (char *)exp_str(by, "staff"), "mei"));
	cr_assert(eq(str, (char *)exp_str(json_array_get(prefs, 0), "kind"), "need"));

	json_t *stays = json_object_get(root, "stays");
	cr_assert(eq(sz, json_array_size(stays), 1));
	cr_assert(eq(str, (char *)exp_str(json_array_get(stays, 0), "arrival"), "2026-11-23"));
	cr_assert(eq(str, (char *)exp_str(json_array_get(stays, 0), "room"), "1012"));

	/* The rule's prompt, the unrouted need's, and the complaint's two. */
	json_t *prompts = json_object_get(root, "prompts");
	cr_assert(eq(sz, json_array_size(prompts), 4));
	json_t *p0 = json_array_get(prompts, 0);
	cr_assert(eq(str, (char *)exp_str(p0, "text"), "Assign a room on floor 10"));
	cr_assert(eq(str, (char *)exp_str(p0, "status"), "acknowledged"));
	cr_assert(eq(str, (char *)exp_str(p0, "ack_by"), "li"));
	cr_assert(eq(str, (char *)exp_str(p0, "ack_at"), "2026-11-23T09:01:00Z"));

	json_t *fb = json_object_get(root, "feedback");
	cr_assert(eq(sz, json_array_size(fb), 1));
	cr_assert(eq(str, (char *)exp_str(json_array_get(fb, 0), "kind"), "complaint"));
	cr_assert(eq(str, (char *)exp_str(json_array_get(fb, 0), "text"),
	             "Pillows were feather despite the allergy"));

	/* guest.put, two pref.set, stay.add, event.fire, prompt.ack, feedback.add... */
	json_t *journal = json_object_get(root, "journal");
	cr_assert(ge(sz, json_array_size(journal), 5));
	json_t *j0 = json_array_get(journal, 0);
	cr_assert(eq(str, (char *)exp_str(j0, "op"), "guest.put"));
	cr_assert(exp_is_array(json_object_get(j0, "fields")));
	uint64_t prev = 0;
	size_t i;
	json_t *e;
	json_array_foreach(journal, i, e) {
		uint64_t seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
		cr_assert(gt(u64, seq, prev), "journal in sequence order");
		prev = seq;
	}
	json_decref(root);
	pf_string_free(text);
}

Test(export, guest_json_arguments)
{
	char *text = (char *)1;
	pf_id zero = { { 0 } }, unknown;
	assert_ok(pf_id_parse(&unknown, "7d9f6a52-3c1e-4b7a-9a51-0c2f1e6d8b11"));
	cr_assert(eq(int, pf_guest_export_json(&text, tdb, &zero), PF_EINVAL));
	cr_assert(text == NULL);
	cr_assert(eq(int, pf_guest_export_json(&text, tdb, &unknown), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_export_json(&text, NULL, &unknown), PF_EINVAL));
	cr_assert(eq(int, pf_guest_export_json(NULL, tdb, &unknown), PF_EINVAL));
	pf_string_free(NULL);

	/* A bare guest: empty sections, nulls for what is unknown. */
	pf_id id = add_guest("Bare Guest", NULL, NULL);
	assert_ok(pf_guest_export_json(&text, tdb, &id));
	json_t *root = exp_parse(text);
	json_t *g = json_object_get(root, "guest");
	cr_assert(exp_is_null(json_object_get(g, "email")));
	cr_assert(exp_is_null(json_object_get(g, "birth_date")));
	cr_assert(eq(sz, json_array_size(json_object_get(root, "preferences")), 0));
	cr_assert(eq(sz, json_array_size(json_object_get(root, "prompts")), 0));
	cr_assert(eq(sz, json_array_size(json_object_get(root, "feedback")), 0));
	json_decref(root);
	pf_string_free(text);
}

/* ---- round trips ---- */

static void exp_make_guests(void)
{
	static const char *const tags[] = { "advertising", "repeat_guest" };
	pf_guest g = PF_GUEST_INIT;
	g.name = "Dupont, \"Marie\"\nsecond line";
	g.email = "marie@example.com";
	g.phone = "+33 1 23 45 67 89";
	g.language = "fr";
	g.country = "FRA";
	g.loyalty_no = "FR-1";
	g.birth_date = 19700101;
	g.tier = PF_TIER_VIP;
	g.tags = tags;
	g.tag_count = 2;
	g.consent = PF_CONSENT_PROFILING | PF_CONSENT_MARKETING;
	g.external_id = "PMS-9";
	assert_ok(pf_guest_put(tdb, &g));
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "front_desk";
	o.note = "near the lift, please";
	assert_ok(pf_pref_set(tdb, &g.id, "room.floor", "10, high", &o));
	set_pref(&g.id, "room.pillow", "feather", PF_DISLIKE);
	set_pref(&g.id, "amenity.flower", "need:lily", PF_LIKE);   /* looks like a prefix */
	set_pref(&g.id, "access.hearing", "visual alarm", PF_NEED);

	pf_guest h = PF_GUEST_INIT;
	h.name = "莊偉";
	h.consent = 0;
	assert_ok(pf_guest_put(tdb, &h));
	set_pref(&h.id, "dining.cuisine", "sichuan", PF_LIKE);

	pf_guest k = PF_GUEST_INIT;
	k.name = " Spaced Name ";
	assert_ok(pf_guest_put(tdb, &k));
}

static bool exp_streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Every guest of `a` is in `b` with the same profile and preference
 * values, kinds and notes; and b has no others. */
static void exp_same_guests(pf_db *a, pf_db *b)
{
	char pa[600], pb[600];
	snprintf(pa, sizeof pa, "%s/cmp-a.jsonl", tdir);
	snprintf(pb, sizeof pb, "%s/cmp-b.jsonl", tdir);
	assert_ok(pf_export_jsonl(a, pa));
	assert_ok(pf_export_jsonl(b, pb));
	FILE *fa = fopen(pa, "r");
	cr_assert(fa != NULL);
	char line[8192];
	size_t n = 0;
	while (fgets(line, sizeof line, fa)) {
		json_error_t e;
		json_t *o = json_loads(line, 0, &e);
		cr_assert(o != NULL);
		pf_id id;
		assert_ok(pf_id_parse(&id, json_string_value(json_object_get(o, "id"))));
		json_decref(o);
		pf_guest *x = NULL, *y = NULL;
		assert_ok(pf_guest_get(&x, a, &id));
		int rc = pf_guest_get(&y, b, &id);
		cr_assert(eq(int, rc, 0), "guest %s missing after the round trip", x->name);
		cr_assert(exp_streq(x->name, y->name));
		cr_assert(exp_streq(x->email, y->email));
		cr_assert(exp_streq(x->phone, y->phone));
		cr_assert(exp_streq(x->language, y->language));
		cr_assert(exp_streq(x->country, y->country));
		cr_assert(exp_streq(x->loyalty_no, y->loyalty_no));
		cr_assert(exp_streq(x->external_id, y->external_id));
		cr_assert(eq(i32, x->birth_date, y->birth_date));
		cr_assert(eq(int, x->tier, y->tier));
		cr_assert(eq(u32, x->consent, y->consent));
		cr_assert(eq(sz, x->tag_count, y->tag_count));
		for (size_t i = 0; i < x->tag_count; i++)
			cr_assert(exp_streq(x->tags[i], y->tags[i]));
		cr_assert(eq(sz, x->pref_count, y->pref_count));
		for (size_t i = 0; i < x->pref_count; i++) {
			cr_assert(exp_streq(x->prefs[i].category, y->prefs[i].category));
			cr_assert(exp_streq(x->prefs[i].value, y->prefs[i].value),
			          "%s: %s vs %s", x->prefs[i].category, x->prefs[i].value,
			          y->prefs[i].value);
			cr_assert(eq(int, x->prefs[i].kind, y->prefs[i].kind));
			cr_assert(exp_streq(x->prefs[i].note, y->prefs[i].note));
		}
		pf_guest_free(x);
		pf_guest_free(y);
		n++;
	}
	fclose(fa);
	cr_assert(eq(sz, n, 3));
	/* Same guests, same order, same everything the format carries. */
	FILE *fb = fopen(pb, "r");
	fa = fopen(pa, "r");
	char lb[8192];
	while (fgets(line, sizeof line, fa)) {
		cr_assert(fgets(lb, sizeof lb, fb) != NULL);
		cr_assert(eq(str, lb, line));
	}
	cr_assert(fgets(lb, sizeof lb, fb) == NULL);
	fclose(fa);
	fclose(fb);
}

static void exp_round_trip(bool csv)
{
	exp_make_guests();
	char path[600], dir[600];
	snprintf(path, sizeof path, "%s/all.%s", tdir, csv ? "csv" : "jsonl");
	assert_ok(csv ? pf_export_csv(tdb, path) : pf_export_jsonl(tdb, path));

	struct stat st;
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0600), "exports hold personal data");

	snprintf(dir, sizeof dir, "%s/fresh", tdir);
	pf_options o = test_options();
	pf_db *fresh = NULL;
	assert_ok(pf_open(&fresh, dir, &o));
	pf_import_report *rep = NULL;
	int rc = csv ? pf_import_csv(&rep, fresh, path, NULL) : pf_import_jsonl(&rep, fresh, path, NULL);
	cr_assert(eq(int, rc, 0), "import: %s", pf_errmsg());
	cr_assert(eq(u64, rep->created, 3));
	cr_assert(eq(u64, rep->rejected, 0), "%s", rep->reject_count ? rep->rejects[0].reason : "");
	pf_import_report_free(rep);
	exp_same_guests(tdb, fresh);

	/* And importing the export into the database it came from changes
	 * nothing: the rows match on their ids. */
	rc = csv ? pf_import_csv(&rep, tdb, path, NULL) : pf_import_jsonl(&rep, tdb, path, NULL);
	cr_assert(eq(int, rc, 0));
	cr_assert(eq(u64, rep->updated, 3));
	cr_assert(eq(u64, rep->created, 0));
	pf_import_report_free(rep);
	pf_close(fresh);
}

Test(export, jsonl_round_trip_gives_the_same_guests)
{
	exp_round_trip(false);
}

Test(export, csv_round_trip_gives_the_same_guests)
{
	exp_round_trip(true);
}

Test(export, csv_columns_and_quoting)
{
	exp_make_guests();
	char path[600];
	snprintf(path, sizeof path, "%s/all.csv", tdir);
	assert_ok(pf_export_csv(tdb, path));
	FILE *f = fopen(path, "r");
	char line[4096];
	cr_assert(fgets(line, sizeof line, f) != NULL);
	fclose(f);
	cr_assert(eq(str, line,
	             "id,external_id,name,email,phone,language,country,loyalty_no,tier,tags,birth_date,"
	             "consent,pref:access.hearing,pref:amenity.flower,pref:dining.cuisine,"
	             "pref:room.floor,note:room.floor,pref:room.pillow\n"));
	unsigned char *data = NULL;
	FILE *g = fopen(path, "r");
	static char all[16384];
	size_t n = fread(all, 1, sizeof all - 1, g);
	fclose(g);
	all[n] = '\0';
	(void)data;
	cr_assert(strstr(all, "\"Dupont, \"\"Marie\"\"\nsecond line\"") != NULL, "%s", all);
	cr_assert(strstr(all, ",need:visual alarm,like:need:lily,,\"10, high\","
	                      "\"near the lift, please\",dislike:feather") != NULL, "%s", all);
	cr_assert(strstr(all, "\" Spaced Name \"") != NULL);
	cr_assert(strstr(all, "advertising;repeat_guest,1970-01-01,profiling;marketing") != NULL);
}

Test(export, failures_leave_no_file)
{
	char path[600];
	snprintf(path, sizeof path, "%s/no/such/dir/all.jsonl", tdir);
	cr_assert(eq(int, pf_export_jsonl(tdb, path), PF_ENOTFOUND));
	cr_assert(eq(int, pf_export_csv(tdb, path), PF_ENOTFOUND));
	cr_assert(eq(int, pf_export_csv(NULL, path), PF_EINVAL));
	cr_assert(eq(int, pf_export_jsonl(tdb, ""), PF_EINVAL));
	cr_assert(eq(int, pf_export_jsonl(tdb, NULL), PF_EINVAL));

	/* An empty database exports an empty JSON Lines file and a CSV
	 * header; no temporary file is left beside them. */
	snprintf(path, sizeof path, "%s/empty.jsonl", tdir);
	assert_ok(pf_export_jsonl(tdb, path));
	struct stat st;
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(i64, (int64_t)st.st_size, 0));
	char cmd[700];
	snprintf(cmd, sizeof cmd, "ls %s | grep -c XXXX >/dev/null; ls %s/*.jsonl.* 2>/dev/null | wc -l",
	         tdir, tdir);
	FILE *p = popen(cmd, "r");
	char out[32] = "";
	cr_assert(fgets(out, sizeof out, p) != NULL);
	pclose(p);
	cr_assert(eq(int, atoi(out), 0), "temporary files left: %s", out);
}
