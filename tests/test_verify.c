/* test_verify.c — pf_verify: clean on realistic databases built through the
 * public API (preferences, stays, check-ins firing prompts, complaints and
 * their resolution, a merge and an unmerge, an erasure, an import,
 * retention, a journal trim), and each kind of damage done through raw
 * LMDB reported with the right database and key. */
#include "helpers.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "prompt.h"
#include "journal.h"
#include "feedback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(verify, .init = db_setup, .fini = db_teardown, .timeout = 60);

#define DAY 86400

static const char vf_rules[] =
	"rule floor\n"
	"  on reservation, check_in\n"
	"  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"\n"
	"rule pillow\n"
	"  on check_in\n"
	"  when pref room.pillow\n"
	"  notify housekeeping normal \"Pillow: {pref room.pillow}\"\n";

/* What the scene built, for the damage tests. */
typedef struct scene {
	pf_id ana, bo, chen, dup, gone, old, imported;
	pf_id ana_prompt;          /* pending front_desk prompt of ana */
	pf_id done_prompt;         /* a prompt completed by staff */
	pf_id open_complaint;      /* bo's complaint, open */
	pf_id merge;               /* dup merged into ana, still merged */
} scene;

static pf_prompt_list *vf_fire(const pf_id *g, const char *id, pf_event_kind kind,
                               pf_date arrival, pf_date departure, const char *room)
{
	pf_event ev = PF_EVENT_INIT;
	pf_prompt_list *l = NULL;
	ev.id = id;
	ev.kind = kind;
	ev.guest = *g;
	ev.arrival = arrival;
	ev.departure = departure;
	ev.room = room;
	assert_ok(pf_fire(&l, tdb, &ev));
	return l;
}

static void vf_stay(const pf_id *g, pf_date arrival, pf_date departure)
{
	pf_stay s = { PF_STAY_VERSION, *g, "MFM1", "1203", arrival, departure, 2 };
	assert_ok(pf_stay_add(tdb, &s));
}

static pf_id vf_feedback(const pf_id *g, pf_feedback_kind kind, const char *dept,
                         const char *text)
{
	pf_feedback f = PF_FEEDBACK_INIT;
	f.guest = *g;
	f.kind = kind;
	f.department = dept;
	f.category = "room";
	f.text = text;
	f.severity = 2;
	f.recorded_by = "lina";
	assert_ok(pf_feedback_add(tdb, &f, NULL));
	return f.id;
}

static const char *vf_csv(void)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/import.csv", tdir);
	FILE *f = fopen(path, "wb");
	cr_assert(f != NULL);
	fputs("external_id,name,email,phone,tier,tags,pref:room.floor\n"
	      "P-1,Zhuang Wei,zw@example.com,+853 6123 4567,gold,vip;repeat,10\n"
	      "P-2,Marie-Claire Dupont,marie@example.com,,silver,,3\n"
	      "P-3,Kenji Sato,,+81 90 1234 5678,,,\n", f);
	fclose(f);
	return path;
}

/* A hotel's database: every module has written to it through the API. */
static void vf_scene(scene *s)
{
	pf_rule_error err;
	pf_prompt_list *l;
	memset(s, 0, sizeof *s);

	/* A profile created long ago and never seen since: retention takes it. */
	tclock = T0 - 800 * (pf_time)DAY;
	s->old = add_guest("Old Timer", "old@example.com", "+1 555 0100");
	set_pref(&s->old, "room.floor", "2", PF_LIKE);
	tclock = T0;

	assert_ok(pf_rules_load(tdb, "verify.rules", vf_rules, strlen(vf_rules), &err));
	pf_guest g = PF_GUEST_INIT;
	g.name = "Ana Lima-Costa";
	g.email = "Ana.Lima@Example.com";
	g.phone = "+853 6600 1122";
	g.loyalty_no = "GL-778899";
	g.tier = PF_TIER_GOLD;
	assert_ok(pf_guest_put(tdb, &g));
	s->ana = g.id;
	set_pref(&s->ana, "room.floor", "12", PF_LIKE);
	set_pref(&s->ana, "room.pillow", "buckwheat", PF_LIKE);
	set_pref(&s->ana, "allergy.nuts", "peanuts", PF_NEED);
	s->bo = add_guest("Bo Chen", "bo@example.com", NULL);
	s->chen = add_guest("Chen Jia Hui", NULL, "+86 138 0013 8000");
	pf_guest ext = PF_GUEST_INIT;
	ext.external_id = "PMS-4242";
	assert_ok(pf_guest_update(tdb, &s->chen, &ext, PF_GUEST_EXTERNAL_ID));

	/* Stays, check-ins and the prompts they fire, worked by staff. */
	vf_stay(&s->ana, 20250301, 20250305);
	vf_stay(&s->ana, 20250301, 20250306);          /* same arrival: updated */
	l = vf_fire(&s->ana, "res-100", PF_EVENT_RESERVATION, 20261123, 20261127, NULL);
	cr_assert(ge(sz, l->count, 1));
	pf_prompt_list_free(l);
	l = vf_fire(&s->ana, "ci-100", PF_EVENT_CHECK_IN, 20261123, 20261127, "1203");
	cr_assert(ge(sz, l->count, 2));
	for (size_t i = 0; i < l->count; i++) {
		if (!strcmp(l->items[i].department, "housekeeping"))
			assert_ok(pf_prompt_ack(tdb, &l->items[i].id, "mei"));
		else if (!strcmp(l->items[i].rule, "floor"))
			s->ana_prompt = l->items[i].id;
		else
			assert_ok(pf_prompt_dismiss(tdb, &l->items[i].id, "joao", "noted"));
	}
	pf_prompt_list_free(l);
	cr_assert(pf_id_is_zero(&s->ana_prompt) == 0);
	l = vf_fire(&s->ana, "ci-100", PF_EVENT_CHECK_IN, 20261123, 20261127, "1203");
	pf_prompt_list_free(l);                        /* fired again: nothing new */
	set_pref(&s->bo, "room.floor", "3", PF_LIKE);
	l = vf_fire(&s->bo, "ci-200", PF_EVENT_CHECK_IN, 20261120, 20261124, "305");
	cr_assert(ge(sz, l->count, 1));
	s->done_prompt = l->items[0].id;
	assert_ok(pf_prompt_done(tdb, &s->done_prompt, "joao"));
	pf_prompt_list_free(l);

	/* Complaints: one resolved and followed up, one open, one closed
	 * unresolved; a compliment. */
	tclock += 3600;
	pf_id c1 = vf_feedback(&s->ana, PF_FEEDBACK_COMPLAINT, "housekeeping", "Towels");
	assert_ok(pf_feedback_update(tdb, &c1, PF_FEEDBACK_IN_PROGRESS, "mei", NULL));
	assert_ok(pf_feedback_resolve(tdb, &c1, "mei", "Fresh towels brought"));
	assert_ok(pf_feedback_followup(tdb, &c1, "joao", PF_OUTCOME_SATISFIED));
	s->open_complaint = vf_feedback(&s->bo, PF_FEEDBACK_COMPLAINT, "restaurant",
	                                "Cold soup");
	pf_id c3 = vf_feedback(&s->bo, PF_FEEDBACK_COMPLAINT, "management", "Noise");
	assert_ok(pf_feedback_update(tdb, &c3, PF_FEEDBACK_CLOSED_UNRESOLVED, "duty", NULL));
	vf_feedback(&s->chen, PF_FEEDBACK_COMPLIMENT, "concierge", "Great tips");

	/* A duplicate of ana with a stay, a prompt and a complaint, merged in;
	 * another pair merged and unmerged; a "not a duplicate" mark. */
	s->dup = add_guest("Ana Lima Costa", "analima@example.org", "+853 6600 1122");
	vf_stay(&s->dup, 20240510, 20240512);
	vf_stay(&s->dup, 20250301, 20250303);          /* ana has this arrival */
	l = vf_fire(&s->dup, "res-dup", PF_EVENT_RESERVATION, 20270101, 20270105, NULL);
	pf_prompt_list_free(l);
	pf_id c4 = vf_feedback(&s->dup, PF_FEEDBACK_COMPLAINT, "front_desk", "Slow check-in");
	(void)c4;
	assert_ok(pf_guest_merge(&s->merge, tdb, &s->ana, &s->dup));
	pf_id x = add_guest("Bo Chen", "bo.chen@example.net", NULL);
	vf_stay(&x, 20261001, 20261003);
	vf_feedback(&x, PF_FEEDBACK_COMPLAINT, "housekeeping", "Dusty");
	pf_id m2;
	assert_ok(pf_guest_merge(&m2, tdb, &s->bo, &x));
	assert_ok(pf_guest_unmerge(tdb, &m2));
	assert_ok(pf_guest_not_duplicate(tdb, &s->bo, &x));

	/* A guest with a stay, prompts and feedback, then erased. */
	s->gone = add_guest("Erin Gone", "erin@example.com", "+44 20 7946 0000");
	set_pref(&s->gone, "room.floor", "7", PF_LIKE);
	l = vf_fire(&s->gone, "ci-300", PF_EVENT_CHECK_IN, 20261121, 20261122, "707");
	pf_prompt_list_free(l);
	pf_id c5 = vf_feedback(&s->gone, PF_FEEDBACK_COMPLAINT, "front_desk", "Lost key");
	assert_ok(pf_guest_erase(tdb, &s->gone));
	assert_ok(pf_feedback_resolve(tdb, &c5, "lina", "New key"));   /* after erasure */

	/* An import, retention and a journal trim. */
	pf_import_report *rep = NULL;
	assert_ok(pf_import_csv(&rep, tdb, vf_csv(), NULL));
	cr_assert(eq(u64, rep->created, 3), "import created %llu",
	          (unsigned long long)rep->created);
	pf_import_report_free(rep);
	pf_guest_list *gl = NULL;
	assert_ok(pf_guest_find(&gl, tdb, "zw@example.com"));
	cr_assert(eq(sz, gl->count, 1));
	s->imported = gl->items[0]->id;
	pf_guest_list_free(gl);
	pf_retention_report rr;
	assert_ok(pf_retention_run(&rr, tdb, 365, "dpo"));
	cr_assert(eq(u64, rr.anonymised, 1));
	uint64_t removed = 0;
	assert_ok(pf_journal_trim(tdb, 3, &removed));
	cr_assert(eq(u64, removed, 2));
}

static void vf_print(const pf_verify_report *r)
{
	for (size_t i = 0; i < r->count; i++)
		fprintf(stderr, "  %s | %s | %s\n", r->items[i].database, r->items[i].key,
		        r->items[i].problem);
}

static pf_verify_report *vf_run(void)
{
	pf_verify_report *r = NULL;
	assert_ok(pf_verify(&r, tdb));
	cr_assert(r != NULL);
	return r;
}

static void vf_clean(void)
{
	pf_verify_report *r = vf_run();
	if (r->count)
		vf_print(r);
	cr_assert(eq(sz, r->count, 0), "a clean database has %zu problems", r->count);
	cr_assert(eq(u64, r->problems, 0));
	pf_verify_report_free(r);
}

/* The report holds exactly one problem, in `db`, with `key` and a problem
 * text containing `what`. */
static void vf_expect_one(const char *db, const char *key, const char *what)
{
	pf_verify_report *r = vf_run();
	bool ok = r->count == 1 && !strcmp(r->items[0].database, db) &&
	          !strcmp(r->items[0].key, key) && strstr(r->items[0].problem, what);
	if (!ok) {
		fprintf(stderr, "expected one problem %s | %s | ...%s...; got %zu:\n", db, key,
		        what, r->count);
		vf_print(r);
	}
	cr_assert(ok, "expected %s | %s | %s", db, key, what);
	cr_assert(eq(u64, r->problems, 1));
	pf_verify_report_free(r);
}

static const char *vf_key(const char *kind, const pf_id *id)
{
	static char buf[4][128];
	static int slot;
	char s[PF_ID_STRLEN + 1];
	char *b = buf[slot++ % 4];
	pf_id_format(s, id);
	snprintf(b, 128, "%s %s", kind, s);
	return b;
}

/* Rewrite guest `id` through the codec after `edit` changed its record. */
static void vf_edit_guest(const pf_id *id, void (*edit)(pf_guest_rec *))
{
	size_t len = 0;
	unsigned char *v = raw_get(tdb, PF_DBI_GUEST, id->b, 16, &len);
	cr_assert(v != NULL);
	pf_guest_rec *r = NULL;
	assert_ok(pf_codec_guest_decode(&r, v, len));
	free(v);
	edit(r);
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_guest_encode(&sb, r));
	raw_put(tdb, PF_DBI_GUEST, id->b, 16, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	pf_guest_rec_free(r);
}

static pf_prompt vf_prompt(const pf_id *id)
{
	size_t len = 0;
	unsigned char *v = raw_get(tdb, PF_DBI_PROMPT, id->b, 16, &len);
	cr_assert(v != NULL);
	pf_prompt p;
	assert_ok(pf_codec_prompt_decode(&p, v, len));
	free(v);
	return p;
}

/* ------------------------------------------------------------------ */

Test(verify, empty_database_is_clean)
{
	pf_verify_report *r = vf_run();
	cr_assert(eq(sz, r->count, 0));
	cr_assert(eq(sz, r->database_count, PF_DBI_COUNT));
	for (size_t i = 0; i < r->database_count; i++)
		cr_assert(eq(str, (char *)r->databases[i].name, (char *)pf_dbi_names[i]));
	cr_assert(eq(u64, r->databases[PF_DBI_META].records, 1));   /* schema */
	pf_verify_report_free(r);
	pf_verify_report_free(NULL);
}

Test(verify, arguments)
{
	pf_verify_report *r = (pf_verify_report *)1;
	cr_assert(eq(int, pf_verify(NULL, tdb), PF_EINVAL));
	cr_assert(eq(int, pf_verify(&r, NULL), PF_EINVAL));
	cr_assert(r == NULL);
}

Test(verify, realistic_database_is_clean)
{
	scene s;
	vf_scene(&s);
	pf_verify_report *r = vf_run();
	if (r->count)
		vf_print(r);
	cr_assert(eq(sz, r->count, 0));
	/* Every database was walked and holds what the scene wrote. */
	for (int i = 0; i < PF_DBI_COUNT; i++)
		cr_assert(gt(u64, r->databases[i].records, 0), "'%s' is empty", pf_dbi_names[i]);
	fprintf(stderr, "verify: realistic database:");
	for (size_t i = 0; i < r->database_count; i++)
		fprintf(stderr, " %s %llu", r->databases[i].name,
		        (unsigned long long)r->databases[i].records);
	fprintf(stderr, "\n");
	pf_verify_report_free(r);

	/* Still clean after reopening. */
	db_reopen();
	vf_clean();
}

Test(verify, unmerge_of_the_open_merge_is_clean)
{
	scene s;
	vf_scene(&s);
	assert_ok(pf_guest_unmerge(tdb, &s.merge));
	vf_clean();
}

Test(verify, unmerge_after_the_kept_profile_changed_is_clean)
{
	scene s;
	vf_scene(&s);
	/* A new stay and a new complaint: unmerge takes the three-way path. */
	vf_stay(&s.ana, 20261201, 20261203);
	vf_feedback(&s.ana, PF_FEEDBACK_COMPLAINT, "restaurant", "Late breakfast");
	assert_ok(pf_guest_unmerge(tdb, &s.merge));
	vf_clean();
}

Test(verify, erasing_a_merged_profile_is_clean)
{
	scene s;
	vf_scene(&s);
	assert_ok(pf_guest_erase(tdb, &s.ana));
	vf_clean();
}

/* ---- indexes: a record without its entry, an entry without its record */

Test(verify, missing_contact_entry_is_reported_on_the_guest)
{
	scene s;
	vf_scene(&s);
	raw_put(tdb, PF_DBI_CONTACT, "e:bo@example.com", 16, NULL, 0);
	vf_expect_one("guest", vf_key("guest", &s.bo), "no 'contact' entry for its e-mail");
}

Test(verify, missing_name_entry_is_reported_on_the_guest)
{
	scene s;
	vf_scene(&s);
	unsigned char k[64];
	memcpy(k, "chen\0", 5);
	memcpy(k + 5, s.bo.b, 16);
	raw_put(tdb, PF_DBI_NAME, k, 21, NULL, 0);
	vf_expect_one("guest", vf_key("guest", &s.bo), "no 'name' entry for word 2");
}

Test(verify, dangling_contact_entry_is_reported)
{
	scene s;
	vf_scene(&s);
	pf_id ghost;
	pf_id_generate(&ghost);
	raw_put(tdb, PF_DBI_CONTACT, "e:ghost@example.com", 19, ghost.b, 16);
	char key[128], gs[PF_ID_STRLEN + 1];
	pf_id_format(gs, &ghost);
	snprintf(key, sizeof key, "e: [19 bytes] -> guest %s", gs);
	vf_expect_one("contact", key, "which does not exist");
}

Test(verify, stale_contact_entry_of_a_live_guest_is_reported)
{
	scene s;
	vf_scene(&s);
	/* bo exists but has no such e-mail. */
	raw_put(tdb, PF_DBI_CONTACT, "e:old.bo@example.com", 20, s.bo.b, 16);
	char key[128], gs[PF_ID_STRLEN + 1];
	pf_id_format(gs, &s.bo);
	snprintf(key, sizeof key, "e: [20 bytes] -> guest %s", gs);
	vf_expect_one("contact", key, "has no such e-mail");
}

static void vf_take_chens_external_id(pf_guest_rec *r)
{
	cr_assert(r->g.external_id == NULL);
	r->g.external_id = strdup("PMS-4242");
}

Test(verify, external_id_naming_two_guests_is_reported)
{
	scene s;
	vf_scene(&s);
	/* bo's record also carries chen's external id and has the entry, so
	 * only the uniqueness of "x:" keys fails. */
	vf_edit_guest(&s.bo, vf_take_chens_external_id);
	raw_put(tdb, PF_DBI_CONTACT, "x:PMS-4242", 10, s.bo.b, 16);
	const pf_id *first = memcmp(s.bo.b, s.chen.b, 16) < 0 ? &s.bo : &s.chen;
	char key[128], gs[PF_ID_STRLEN + 1];
	pf_id_format(gs, first);
	snprintf(key, sizeof key, "x: [10 bytes] -> guest %s", gs);
	vf_expect_one("contact", key, "names 2 guests");
}

Test(verify, dangling_name_entry_is_reported)
{
	scene s;
	vf_scene(&s);
	pf_id ghost;
	pf_id_generate(&ghost);
	unsigned char k[64];
	memcpy(k, "ghost\0", 6);
	memcpy(k + 6, ghost.b, 16);
	raw_put(tdb, PF_DBI_NAME, k, 22, "", 0);
	char key[128], gs[PF_ID_STRLEN + 1];
	pf_id_format(gs, &ghost);
	snprintf(key, sizeof key, "[22 bytes] guest %s", gs);
	vf_expect_one("name", key, "which does not exist");
}

Test(verify, missing_queue_entry_is_reported_on_the_prompt)
{
	scene s;
	vf_scene(&s);
	pf_prompt p = vf_prompt(&s.ana_prompt);
	pf_queue_keys qk;
	cr_assert(eq(sz, pf_prompt_queue_keys(&p, &qk), 3));
	raw_put(tdb, PF_DBI_QUEUE, qk.key[2], qk.len[2], NULL, 0);
	pf_prompt_clear(&p);
	vf_expect_one("prompt", vf_key("prompt", &s.ana_prompt), "open work list");
}

Test(verify, missing_guest_index_and_feed_entries_are_reported_on_the_prompt)
{
	scene s;
	vf_scene(&s);
	pf_prompt p = vf_prompt(&s.done_prompt);
	pf_queue_keys qk;
	cr_assert(eq(sz, pf_prompt_queue_keys(&p, &qk), 2));   /* done: feed + guest */
	raw_put(tdb, PF_DBI_QUEUE, qk.key[1], qk.len[1], NULL, 0);
	vf_expect_one("prompt", vf_key("prompt", &s.done_prompt), "per-guest index");
	raw_put(tdb, PF_DBI_QUEUE, qk.key[1], qk.len[1], "", 0);
	vf_clean();
	raw_put(tdb, PF_DBI_QUEUE, qk.key[0], qk.len[0], NULL, 0);
	pf_prompt_clear(&p);
	vf_expect_one("prompt", vf_key("prompt", &s.done_prompt), "department feed");
}

Test(verify, closed_prompt_left_in_a_work_list_is_reported)
{
	scene s;
	vf_scene(&s);
	pf_prompt p = vf_prompt(&s.done_prompt);
	pf_queue_keys qk;
	p.status = PF_PROMPT_PENDING;              /* the keys an open prompt has */
	cr_assert(eq(sz, pf_prompt_queue_keys(&p, &qk), 3));
	pf_prompt_clear(&p);
	raw_put(tdb, PF_DBI_QUEUE, qk.key[2], qk.len[2], "", 0);
	char gs[PF_ID_STRLEN + 1];
	pf_id_format(gs, &s.done_prompt);
	pf_verify_report *r = vf_run();
	cr_assert(eq(sz, r->count, 1));
	cr_assert(eq(str, (char *)r->items[0].database, "queue"));
	cr_assert(strstr(r->items[0].key, gs) && r->items[0].key[0] == 'o');
	cr_assert(strstr(r->items[0].problem, "is done") != NULL, "%s", r->items[0].problem);
	pf_verify_report_free(r);
}

Test(verify, queue_entry_of_a_missing_prompt_is_reported)
{
	scene s;
	vf_scene(&s);
	pf_id ghost;
	pf_id_generate(&ghost);
	unsigned char k[33];
	k[0] = 'g';
	memcpy(k + 1, s.ana.b, 16);
	memcpy(k + 17, ghost.b, 16);
	raw_put(tdb, PF_DBI_QUEUE, k, sizeof k, "", 0);
	char key[128], a[PF_ID_STRLEN + 1], b[PF_ID_STRLEN + 1];
	pf_id_format(a, &s.ana);
	pf_id_format(b, &ghost);
	snprintf(key, sizeof key, "g guest %s prompt %s", a, b);
	vf_expect_one("queue", key, "which does not exist");
}

Test(verify, per_guest_prompt_index_naming_another_guest_is_reported)
{
	scene s;
	vf_scene(&s);
	unsigned char k[33];
	k[0] = 'g';
	memcpy(k + 1, s.bo.b, 16);                 /* ana's prompt under bo */
	memcpy(k + 17, s.ana_prompt.b, 16);
	raw_put(tdb, PF_DBI_QUEUE, k, sizeof k, "", 0);
	char key[128], a[PF_ID_STRLEN + 1], b[PF_ID_STRLEN + 1];
	pf_id_format(a, &s.bo);
	pf_id_format(b, &s.ana_prompt);
	snprintf(key, sizeof key, "g guest %s prompt %s", a, b);
	vf_expect_one("queue", key, "another guest");
}

Test(verify, journal_index_damage_is_reported)
{
	scene s;
	vf_scene(&s);
	uint64_t last = 0;
	assert_ok(pf_journal_last_seq(&last, tdb));
	/* Find an entry about ana and drop its index entry. */
	uint64_t seq = 0;
	for (uint64_t q = last; q >= 3 && !seq; q--) {
		unsigned char ek[8];
		size_t len = 0;
		pf_be64_put(ek, q);
		unsigned char *v = raw_get(tdb, PF_DBI_JOURNAL, ek, 8, &len);
		if (!v)
			continue;
		pf_journal_entry e;
		assert_ok(pf_codec_journal_decode(&e, v, len));
		if (!memcmp(e.guest.b, s.ana.b, 16))
			seq = q;
		pf_journal_entry_clear(&e);
		free(v);
	}
	cr_assert(ne(u64, seq, 0));
	unsigned char ik[PF_JOURNAL_INDEX_KEY_LEN];
	pf_journal_index_key(ik, &s.ana, seq);
	raw_put(tdb, PF_DBI_JOURNAL, ik, sizeof ik, NULL, 0);
	char key[32];
	snprintf(key, sizeof key, "seq %llu", (unsigned long long)seq);
	vf_expect_one("journal", key, "no per-guest index entry");

	/* Put back under another guest: the entry is not about it. */
	pf_journal_index_key(ik, &s.ana, seq);
	raw_put(tdb, PF_DBI_JOURNAL, ik, sizeof ik, "", 0);
	pf_journal_index_key(ik, &s.bo, seq);
	raw_put(tdb, PF_DBI_JOURNAL, ik, sizeof ik, "", 0);
	char gkey[128], bs[PF_ID_STRLEN + 1];
	pf_id_format(bs, &s.bo);
	snprintf(gkey, sizeof gkey, "g guest %s seq %llu", bs, (unsigned long long)seq);
	vf_expect_one("journal", gkey, "is not about guest");
}

Test(verify, feedback_index_damage_is_reported)
{
	scene s;
	vf_scene(&s);
	pf_feedback *f = NULL;
	assert_ok(pf_feedback_get(&f, tdb, &s.open_complaint));
	unsigned char ik[PF_FEEDBACK_INDEX_KEY_LEN];
	pf_feedback_index_key(ik, &f->guest, f->recorded_at, &s.open_complaint);
	pf_feedback_free(f);
	raw_put(tdb, PF_DBI_FEEDBACK, ik, sizeof ik, NULL, 0);
	vf_expect_one("feedback", vf_key("feedback", &s.open_complaint),
	              "no per-guest index entry");
}

/* ---- records that do not decode, keys of the wrong shape */

Test(verify, corrupt_guest_record_is_reported_and_nothing_else)
{
	scene s;
	vf_scene(&s);
	size_t len = 0;
	unsigned char *v = raw_get(tdb, PF_DBI_GUEST, s.ana.b, 16, &len);
	cr_assert(v != NULL && len > 4);
	v[len - 1] ^= 0xff;                         /* msgpack no longer ends right */
	v[0] = 0xc1;                                /* never-used msgpack byte */
	raw_put(tdb, PF_DBI_GUEST, s.ana.b, 16, v, len);
	free(v);
	vf_expect_one("guest", vf_key("guest", &s.ana), "does not decode");
}

Test(verify, corrupt_records_of_other_databases_are_reported)
{
	scene s;
	vf_scene(&s);
	/* A record version the library does not know. */
	raw_put(tdb, PF_DBI_PROMPT, s.done_prompt.b, 16, "\x81\xa1v\x07", 4);
	vf_expect_one("prompt", vf_key("prompt", &s.done_prompt), "does not decode");
}

Test(verify, corrupt_journal_record_is_reported)
{
	scene s;
	vf_scene(&s);
	uint64_t last = 0;
	assert_ok(pf_journal_last_seq(&last, tdb));
	unsigned char ek[8];
	pf_be64_put(ek, last);
	raw_put(tdb, PF_DBI_JOURNAL, ek, 8, "\xa3" "abc", 4);    /* a string, not a map */
	char key[32];
	snprintf(key, sizeof key, "seq %llu", (unsigned long long)last);
	vf_expect_one("journal", key, "does not decode");
}

Test(verify, corrupt_feedback_record_is_reported)
{
	scene s;
	vf_scene(&s);
	raw_put(tdb, PF_DBI_FEEDBACK, s.open_complaint.b, 16, "\x90", 1);
	pf_verify_report *r = vf_run();
	/* The record, and bo's complaint counters that no longer add up. */
	bool rec = false;
	for (size_t i = 0; i < r->count; i++)
		rec |= !strcmp(r->items[i].database, "feedback") &&
		       !strcmp(r->items[i].key, vf_key("feedback", &s.open_complaint)) &&
		       strstr(r->items[i].problem, "does not decode");
	if (!rec)
		vf_print(r);
	cr_assert(rec);
	pf_verify_report_free(r);
}

Test(verify, key_shapes_are_checked)
{
	scene s;
	vf_scene(&s);
	/* A guest key of 15 bytes. */
	size_t len = 0;
	unsigned char *v = raw_get(tdb, PF_DBI_GUEST, s.bo.b, 16, &len);
	raw_put(tdb, PF_DBI_GUEST, s.bo.b, 15, v, len);
	free(v);
	char hexkey[64] = "hex ";
	for (int i = 0; i < 15; i++)
		snprintf(hexkey + 4 + 2 * i, 3, "%02x", s.bo.b[i]);
	vf_expect_one("guest", hexkey, "a key of 15 bytes");
	raw_put(tdb, PF_DBI_GUEST, s.bo.b, 15, NULL, 0);

	/* A stay key without its arrival date. */
	raw_put(tdb, PF_DBI_STAY, s.ana.b, 16, "\x80", 1);
	char skey[64] = "hex ";
	for (int i = 0; i < 16; i++)
		snprintf(skey + 4 + 2 * i, 3, "%02x", s.ana.b[i]);
	vf_expect_one("stay", skey, "a key of 16 bytes");
	raw_put(tdb, PF_DBI_STAY, s.ana.b, 16, NULL, 0);

	/* A journal key that is not a big-endian seq (4 bytes). */
	raw_put(tdb, PF_DBI_JOURNAL, "\0\0\0\1", 4, "", 0);
	vf_expect_one("journal", "hex 00000001", "neither an 8-byte sequence number");
	raw_put(tdb, PF_DBI_JOURNAL, "\0\0\0\1", 4, NULL, 0);

	/* A stay whose guest does not exist (erased guests lose their stays). */
	unsigned char sk[20];
	memcpy(sk, s.gone.b, 16);
	pf_be32_put(sk + 16, 20261121);
	size_t sl = 0;
	unsigned char ak[20];
	memcpy(ak, s.ana.b, 16);
	pf_be32_put(ak + 16, 20261123);
	unsigned char *sv = raw_get(tdb, PF_DBI_STAY, ak, 20, &sl);
	cr_assert(sv != NULL);
	raw_put(tdb, PF_DBI_STAY, sk, 20, sv, sl);
	free(sv);
	char gs[PF_ID_STRLEN + 1], key[128];
	pf_id_format(gs, &s.gone);
	snprintf(key, sizeof key, "guest %s arrival 20261121", gs);
	vf_expect_one("stay", key, "does not exist");
}

/* ---- counters */

static void vf_more_stays(pf_guest_rec *r)
{
	r->g.stays++;
}

static void vf_fewer_open(pf_guest_rec *r)
{
	r->complaints_open--;
}

static void vf_more_total(pf_guest_rec *r)
{
	r->complaints_total++;
}

Test(verify, stays_counter_is_checked)
{
	scene s;
	vf_scene(&s);
	vf_edit_guest(&s.ana, vf_more_stays);
	vf_expect_one("guest", vf_key("guest", &s.ana), "stays is 4 but the guest has 3");
}

Test(verify, complaint_counters_are_checked)
{
	scene s;
	vf_scene(&s);
	vf_edit_guest(&s.bo, vf_fewer_open);
	vf_expect_one("guest", vf_key("guest", &s.bo), "complaints_open is 0 but 1");
	vf_edit_guest(&s.bo, vf_more_total);
	pf_verify_report *r = vf_run();
	cr_assert(eq(sz, r->count, 2));
	cr_assert(strstr(r->items[0].problem, "complaints_total is 3 but 'feedback' holds 2") != NULL,
	          "%s", r->items[0].problem);
	pf_verify_report_free(r);
}

Test(verify, merged_counters_agree_with_moved_feedback)
{
	scene s;
	vf_scene(&s);
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &s.ana));
	/* ana's own resolved complaint and the duplicate's open one. */
	cr_assert(eq(u32, g->complaints_total, 2));
	cr_assert(eq(u32, g->complaints_open, 1));
	/* Her two arrivals and the duplicate's other one. */
	cr_assert(eq(u32, g->stays, 3));
	pf_guest_free(g);
	vf_edit_guest(&s.ana, vf_more_total);
	vf_expect_one("guest", vf_key("guest", &s.ana), "complaints_total is 3 but");
}

/* ---- meta */

Test(verify, merge_links_and_marks_are_checked)
{
	scene s;
	vf_scene(&s);
	unsigned char k[35];
	memcpy(k, "mg:", 3);
	memcpy(k + 3, s.dup.b, 16);
	memcpy(k + 19, s.merge.b, 16);
	raw_put(tdb, PF_DBI_META, k, sizeof k, NULL, 0);
	char ms[PF_ID_STRLEN + 1], ds[PF_ID_STRLEN + 1], key[128];
	pf_id_format(ms, &s.merge);
	pf_id_format(ds, &s.dup);
	snprintf(key, sizeof key, "merge:%s", ms);
	vf_expect_one("meta", key, "no \"mg:\" link from the duplicate profile");
	raw_put(tdb, PF_DBI_META, k, sizeof k, "", 0);
	vf_clean();

	raw_put(tdb, PF_DBI_META, "what.is.this", 12, "", 0);
	vf_expect_one("meta", "what.is.this", "unknown key");
}

Test(verify, every_problem_is_counted_past_the_listed_limit)
{
	/* Many dangling name entries: counted, listed up to the limit. */
	pf_id ghost;
	pf_id_generate(&ghost);
	MDB_txn *txn = NULL;
	cr_assert(eq(int, mdb_txn_begin(tdb->env, NULL, 0, &txn), 0));
	for (unsigned i = 0; i < PF_VERIFY_PROBLEMS_MAX + 5; i++) {
		unsigned char k[32];
		int n = snprintf((char *)k, 12, "g%07u", i);
		k[n] = '\0';
		memcpy(k + n + 1, ghost.b, 16);
		MDB_val mk = { (size_t)n + 17, k }, mv = { 0, "" };
		cr_assert(eq(int, mdb_put(txn, tdb->dbi[PF_DBI_NAME], &mk, &mv, 0), 0));
	}
	cr_assert(eq(int, mdb_txn_commit(txn), 0));
	pf_verify_report *r = vf_run();
	cr_assert(eq(sz, r->count, PF_VERIFY_PROBLEMS_MAX));
	cr_assert(eq(u64, r->problems, PF_VERIFY_PROBLEMS_MAX + 5));
	cr_assert(eq(u64, r->databases[PF_DBI_NAME].problems, PF_VERIFY_PROBLEMS_MAX + 5));
	pf_verify_report_free(r);
}

/* ---- more index directions */

Test(verify, stale_name_entry_of_a_live_guest_is_reported)
{
	scene s;
	vf_scene(&s);
	unsigned char k[64];
	memcpy(k, "robert\0", 7);                  /* bo is not called that */
	memcpy(k + 7, s.bo.b, 16);
	raw_put(tdb, PF_DBI_NAME, k, 23, "", 0);
	char key[128], gs[PF_ID_STRLEN + 1];
	pf_id_format(gs, &s.bo);
	snprintf(key, sizeof key, "[23 bytes] guest %s", gs);
	vf_expect_one("name", key, "does not give this key");
}

Test(verify, dangling_feedback_index_entry_is_reported)
{
	scene s;
	vf_scene(&s);
	pf_id ghost;
	pf_id_generate(&ghost);
	unsigned char ik[PF_FEEDBACK_INDEX_KEY_LEN];
	pf_feedback_index_key(ik, &s.bo, T0, &ghost);
	raw_put(tdb, PF_DBI_FEEDBACK, ik, sizeof ik, "", 0);
	pf_verify_report *r = vf_run();
	cr_assert(eq(sz, r->count, 1));
	cr_assert(eq(str, (char *)r->items[0].database, "feedback"));
	char gs[PF_ID_STRLEN + 1];
	pf_id_format(gs, &ghost);
	cr_assert(strstr(r->items[0].key, gs) != NULL && r->items[0].key[0] == 'g');
	cr_assert(strstr(r->items[0].problem, "which does not exist") != NULL);
	pf_verify_report_free(r);

	/* An entry for a real record under the wrong guest. */
	raw_put(tdb, PF_DBI_FEEDBACK, ik, sizeof ik, NULL, 0);
	pf_feedback_index_key(ik, &s.ana, T0, &s.open_complaint);
	raw_put(tdb, PF_DBI_FEEDBACK, ik, sizeof ik, "", 0);
	r = vf_run();
	cr_assert(eq(sz, r->count, 1));
	cr_assert(strstr(r->items[0].problem, "about another guest") != NULL);
	pf_verify_report_free(r);
}

Test(verify, event_prompts_are_checked)
{
	scene s;
	vf_scene(&s);
	/* bo's check-in now claims ana's prompt. */
	size_t len = 0;
	unsigned char *v = raw_get(tdb, PF_DBI_EVENT, "ci-200", 6, &len);
	cr_assert(v != NULL);
	pf_event_rec e;
	assert_ok(pf_codec_event_decode(&e, v, len));
	free(v);
	cr_assert(ge(sz, e.prompt_count, 1));
	e.prompts[0] = s.ana_prompt;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_event_encode(&sb, &e));
	raw_put(tdb, PF_DBI_EVENT, "ci-200", 6, sb.data, sb.size);
	vf_expect_one("event", "event ci-200", "which another event made");

	/* A prompt that does not exist. */
	pf_id_generate(&e.prompts[0]);
	msgpack_sbuffer_clear(&sb);
	assert_ok(pf_codec_event_encode(&sb, &e));
	raw_put(tdb, PF_DBI_EVENT, "ci-200", 6, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	pf_event_rec_clear(&e);
	vf_expect_one("event", "event ci-200", "which does not exist");
}

Test(verify, sequence_numbers_are_checked)
{
	scene s;
	vf_scene(&s);
	/* A journal entry beyond meta "seq.journal" (a copy of an entry about
	 * no guest, so it needs no index entry). */
	uint64_t last = 0;
	assert_ok(pf_journal_last_seq(&last, tdb));
	unsigned char ek[8];
	size_t len = 0;
	pf_be64_put(ek, last);                     /* journal.trim: no guest */
	unsigned char *v = raw_get(tdb, PF_DBI_JOURNAL, ek, 8, &len);
	cr_assert(v != NULL);
	pf_be64_put(ek, last + 5);
	raw_put(tdb, PF_DBI_JOURNAL, ek, 8, v, len);
	free(v);
	char key[32];
	snprintf(key, sizeof key, "seq %llu", (unsigned long long)last + 5);
	vf_expect_one("journal", key, "not between 1 and meta \"seq.journal\"");
	raw_put(tdb, PF_DBI_JOURNAL, ek, 8, NULL, 0);

	/* meta "seq.prompt" behind the prompts stored. */
	unsigned char one[8];
	pf_be64_put(one, 1);
	raw_put(tdb, PF_DBI_META, "seq.prompt", 10, one, 8);
	pf_verify_report *r = vf_run();
	cr_assert(gt(sz, r->count, 1));
	for (size_t i = 0; i < r->count; i++) {
		cr_assert(eq(str, (char *)r->items[i].database, "prompt"));
		cr_assert(strstr(r->items[i].problem, "meta \"seq.prompt\"") != NULL);
	}
	pf_verify_report_free(r);
}

Test(verify, not_duplicate_marks_are_checked)
{
	scene s;
	vf_scene(&s);
	unsigned char k[35];
	pf_id other;
	pf_id_generate(&other);
	memcpy(k, "nd:", 3);
	memcpy(k + 3, s.ana.b, 16);
	memcpy(k + 19, other.b, 16);
	raw_put(tdb, PF_DBI_META, k, sizeof k, "", 0);
	char a[PF_ID_STRLEN + 1], b[PF_ID_STRLEN + 1], key[128];
	pf_id_format(a, &s.ana);
	pf_id_format(b, &other);
	snprintf(key, sizeof key, "nd:%s:%s", a, b);
	vf_expect_one("meta", key, "no mirror");
}
