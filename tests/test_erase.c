/* test_erase.c — erasure (and that compaction really removes the bytes),
 * consent changes, retention. */
#include "helpers.h"
#include "text.h"
#include "id.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(erase, .init = db_setup, .fini = db_teardown, .timeout = 60);

#define DAY 86400

static const char erase_rules[] =
	"rule hello\n"
	"  on reservation, check_in\n"
	"  notify front_desk normal \"Welcome {name}, floor {pref room.floor}\"\n";

static pf_id er_guest(const char *name, const char *email, const char *phone)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	g.phone = phone;
	g.loyalty_no = NULL;
	assert_ok(pf_guest_put(tdb, &g));
	return g.id;
}

static void er_stay(const pf_id *g, pf_date arrival, pf_date departure)
{
	pf_stay s = { PF_STAY_VERSION, *g, NULL, "1201", arrival, departure, 1 };
	assert_ok(pf_stay_add(tdb, &s));
}

static bool contains(const unsigned char *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n && i + n <= len; i++)
		if (buf[i] == (unsigned char)needle[0] && memcmp(buf + i, needle, n) == 0)
			return true;
	return false;
}

/* Journal entries of `guest` (all when NULL) with op `op`; if `bad` is not
 * NULL, fail when any field or the actor contains it. */
static size_t er_journal(const pf_id *guest, const char *op, const char *bad)
{
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e;
	size_t n = 0;
	assert_ok(pf_journal_iter(&it, tdb, 0, guest));
	while (pf_journal_next(&e, it) == 0) {
		if (op && strcmp(e->op, op) == 0)
			n++;
		for (size_t i = 0; bad && i < e->field_count; i++)
			cr_assert(eq(int, e->fields[i].value && strstr(e->fields[i].value, bad), 0),
			          "journal %s still holds '%s' in %s", e->op, bad, e->fields[i].name);
	}
	pf_journal_iterator_free(it);
	return n;
}

static const char *er_field(const pf_journal_entry *e, const char *name)
{
	for (size_t i = 0; i < e->field_count; i++)
		if (strcmp(e->fields[i].name, name) == 0)
			return e->fields[i].value;
	return NULL;
}

/* ------------------------------------------------------------ erase */

Test(erase, removes_profile_indexes_and_stays)
{
	pf_id g = er_guest("Yusuf Demir", "yusuf@example.com", "+90 532 111 2233");
	pf_id other = er_guest("Yusuf Demirel", "ydemirel@example.com", NULL);
	set_pref(&g, "room.floor", "4", PF_LIKE);
	er_stay(&g, 20250101, 20250103);
	er_stay(&g, 20250501, 20250503);

	assert_ok(pf_guest_erase(tdb, &g));
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, tdb, &g), PF_ENOTFOUND));
	pf_stay_list *sl = NULL;
	cr_assert(eq(int, pf_stay_list_get(&sl, tdb, &g), PF_ENOTFOUND));
	const char *queries[] = { "yusuf@example.com", "+90 532 111 2233", "Yusuf Demir" };
	for (size_t i = 0; i < 3; i++) {
		pf_guest_list *l = NULL;
		assert_ok(pf_guest_find(&l, tdb, queries[i]));
		for (size_t j = 0; j < l->count; j++)
			cr_assert(memcmp(l->items[j]->id.b, g.b, 16) != 0, "still found by %s",
			          queries[i]);
		pf_guest_list_free(l);
	}
	/* The namesake is untouched. */
	assert_ok(pf_guest_get(&got, tdb, &other));
	pf_guest_free(got);

	/* No stay key of the guest is left. */
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k = { 16, g.b }, v;
	cr_assert(eq(int, mdb_txn_begin(tdb->env, NULL, MDB_RDONLY, &txn), 0));
	cr_assert(eq(int, mdb_cursor_open(txn, tdb->dbi[PF_DBI_STAY], &cur), 0));
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	cr_assert(rc != 0 || memcmp(k.mv_data, g.b, 16) != 0);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);

	cr_assert(eq(sz, er_journal(&g, "guest.erase", "Yusuf"), 1));
	cr_assert(eq(int, pf_guest_erase(tdb, &g), PF_ENOTFOUND), "erasing twice");
}

Test(erase, tombstones_prompts_and_keeps_their_figures)
{
	pf_id g = er_guest("Priya Raman", "priya@example.com", NULL);
	pf_id o = er_guest("Other Guest", NULL, NULL);
	set_pref(&g, "room.floor", "9", PF_LIKE);
	set_pref(&o, "room.floor", "2", PF_LIKE);
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t", erase_rules, strlen(erase_rules), &err));
	pf_event ev = PF_EVENT_INIT;
	pf_prompt_list *l = NULL, *lo = NULL;
	ev.id = "res-priya";
	ev.guest = g;
	assert_ok(pf_fire(&l, tdb, &ev));
	ev.id = "res-other";
	ev.guest = o;
	assert_ok(pf_fire(&lo, tdb, &ev));
	cr_assert(eq(sz, l->count, 1));
	pf_id pid = l->items[0].id;
	assert_ok(pf_prompt_ack(tdb, &pid, "mei"));
	assert_ok(pf_prompt_dismiss(tdb, &pid, "mei", "Priya asked us not to"));

	assert_ok(pf_guest_erase(tdb, &g));
	pf_prompt *got = NULL;
	assert_ok(pf_prompt_get(&got, tdb, &pid));
	const pf_prompt *p = got;
	cr_assert(eq(str, (char *)p->text, "[erased]"));
	cr_assert(eq(str, (char *)p->ack_by, "[erased]"));
	cr_assert(eq(str, (char *)p->done_by, "[erased]"));
	cr_assert(eq(str, (char *)p->dismiss_reason, "[erased]"));
	cr_assert(eq(int, p->status, PF_PROMPT_DISMISSED));
	cr_assert(eq(i64, p->created, l->items[0].created));
	cr_assert(eq(i64, p->due, l->items[0].due));
	cr_assert(eq(str, (char *)p->department, "front_desk"));
	pf_prompt_free(got);
	/* Someone else's prompt is untouched. */
	assert_ok(pf_prompt_get(&got, tdb, &lo->items[0].id));
	cr_assert(eq(str, (char *)got->text, "Welcome Other Guest, floor 2"));
	pf_prompt_free(got);
	pf_prompt_list_free(l);
	pf_prompt_list_free(lo);
}

Test(erase, erase_then_compact_leaves_no_personal_bytes)
{
	const char *name = "Xiomara Quintanilla", *email = "xiomara.q@example.org",
	           *phone = "+1 415 555 0199", *dup_email = "xq.second@example.net";
	pf_id g = er_guest(name, email, phone);
	pf_id dup = er_guest("XIOMARA QUINTANILLA", dup_email, NULL);
	pf_id bob = er_guest("Bartholomew Keeping", "bart@example.com", "+44 20 7946 0018");
	set_pref(&g, "room.floor", "7", PF_LIKE);
	set_pref(&bob, "room.floor", "1", PF_LIKE);
	er_stay(&g, 20250101, 20250104);
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t", erase_rules, strlen(erase_rules), &err));
	pf_event ev = PF_EVENT_INIT;
	pf_prompt_list *l = NULL;
	ev.id = "res-xq";
	ev.guest = dup;
	assert_ok(pf_fire(&l, tdb, &ev));   /* empty for dup (no floor) */
	pf_prompt_list_free(l);
	ev.id = "res-xq-2";
	ev.guest = g;
	assert_ok(pf_fire(&l, tdb, &ev));
	assert_ok(pf_prompt_done(tdb, &l->items[0].id, "front_desk/mei"));
	pf_prompt_list_free(l);
	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = g;
	fb.kind = PF_FEEDBACK_COMPLAINT;
	fb.department = "housekeeping";
	fb.category = "room";
	fb.text = "Xiomara Quintanilla found the room not cleaned";
	fb.severity = 2;
	fb.recorded_by = "ana";
	assert_ok(pf_feedback_add(tdb, &fb, NULL));
	pf_id m;
	assert_ok(pf_guest_merge(&m, tdb, &g, &dup));   /* a merge record with dup's bytes */

	size_t len = 0;
	unsigned char *data = read_data_file(tdir, &len);
	cr_assert(contains(data, len, email), "sanity: the e-mail is in the file before");
	cr_assert(contains(data, len, dup_email));
	free(data);

	assert_ok(pf_guest_erase(tdb, &g));
	char dest[300];
	snprintf(dest, sizeof dest, "%s-compact", tdir);
	assert_ok(pf_compact(tdb, dest));
	data = read_data_file(dest, &len);
	const char *personal[] = {
		name, "Xiomara", "xiomara", "XIOMARA", "Quintanilla", "quintanilla", email, dup_email,
		phone, "14155550199", "415 555",
	};
	for (size_t i = 0; i < sizeof personal / sizeof personal[0]; i++)
		cr_assert(eq(int, contains(data, len, personal[i]), 0), "'%s' is still in the compacted file",
		          personal[i]);
	cr_assert(contains(data, len, "bart@example.com"), "other guests are kept");
	free(data);

	/* The copy is a working database. */
	pf_db *copy = NULL;
	pf_options o = test_options();
	assert_ok(pf_open(&copy, dest, &o));
	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, copy, &bob));
	cr_assert(eq(str, (char *)got->name, "Bartholomew Keeping"));
	pf_guest_free(got);
	cr_assert(eq(int, pf_guest_get(&got, copy, &g), PF_ENOTFOUND));
	pf_close(copy);
	rm_rf(dest);
}

/*
 * LMDB reuses the memory of pages it freed for new pages without clearing
 * it, and copies overflow pages whole: here the erased guest's bytes end
 * up in the unused tail of another guest's overflow page, which a page
 * copy (pf_backup, mdb_env_copy2 with MDB_CP_COMPACT) carries along.
 * pf_compact copies records, not pages, so they are gone.
 */
Test(erase, compact_drops_bytes_left_in_reused_pages)
{
	char note[1000];
	/* The default map size: page reuse differs with the fixture's tiny map. */
	pf_close(tdb);
	pf_options opts = test_options();
	opts.map_size = (size_t)64 << 20;
	assert_ok(pf_open(&tdb, tdir, &opts));
	pf_id x = er_guest("Zebediah Secretperson", NULL, NULL);
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "housekeeping";
	memset(note, 'a', sizeof note - 1);
	note[sizeof note - 1] = '\0';
	o.note = note;
	assert_ok(pf_pref_set(tdb, &x, "a.one", "v", &o));
	assert_ok(pf_pref_set(tdb, &x, "a.two", "v", &o));
	assert_ok(pf_pref_set(tdb, &x, "a.three", "v", &o));
	o.note = "zebediah-tail-marker";
	assert_ok(pf_pref_set(tdb, &x, "z.last", "v", &o));
	o.note = "zebediah-tail-marker-2";
	assert_ok(pf_pref_set(tdb, &x, "z.last", "v", &o));
	pf_id y = er_guest("Other Person", NULL, NULL);
	memset(note, 'b', sizeof note - 1);
	o.note = note;
	assert_ok(pf_pref_set(tdb, &y, "b.one", "v", &o));
	assert_ok(pf_pref_set(tdb, &y, "b.two", "v", &o));
	assert_ok(pf_guest_erase(tdb, &x));

	size_t len = 0;
	unsigned char *data = read_data_file(tdir, &len);
	cr_assert(contains(data, len, "tail-marker"), "sanity: stale bytes in the live file");
	free(data);
	char dest[300];
	snprintf(dest, sizeof dest, "%s-compact2", tdir);
	assert_ok(pf_compact(tdb, dest));
	data = read_data_file(dest, &len);
	cr_assert(eq(int, contains(data, len, "tail-marker"), 0));
	cr_assert(eq(int, contains(data, len, "Zebediah"), 0));
	free(data);
	rm_rf(dest);
}

Test(erase, destroys_merge_records_and_merged_profiles_traces)
{
	pf_id a = er_guest("Lena Vogel", "lena@example.com", NULL);
	pf_id b = er_guest("Lena Vogel", "l.vogel@example.com", NULL);
	pf_id c = er_guest("L. Vogel", "vogel@example.com", NULL);
	pf_id other = er_guest("Lena Vogt", NULL, NULL);
	assert_ok(pf_guest_not_duplicate(tdb, &a, &other));
	pf_id m1, m2;
	assert_ok(pf_guest_merge(&m1, tdb, &b, &a));   /* a into b */
	assert_ok(pf_guest_merge(&m2, tdb, &c, &b));   /* b into c */

	assert_ok(pf_guest_erase(tdb, &c));
	cr_assert(eq(int, pf_guest_unmerge(tdb, &m2), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_unmerge(tdb, &m1), PF_ENOTFOUND), "the older merge too");
	/* a's and b's own journal entries (their guest.put) are tombstoned. */
	er_journal(&a, NULL, "lena@example.com");
	er_journal(&b, NULL, "l.vogel@example.com");
	er_journal(&c, NULL, "vogel@example.com");

	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e;
	size_t erases = 0;
	assert_ok(pf_journal_iter(&it, tdb, 0, &c));
	while (pf_journal_next(&e, it) == 0) {
		if (strcmp(e->op, "guest.erase") != 0)
			continue;
		erases++;
		cr_assert(eq(str, (char *)er_field(e, "merged_profiles"), "2"));
	}
	pf_journal_iterator_free(it);
	cr_assert(eq(sz, erases, 1));

	/* No merge, merge-link or not-a-duplicate key is left in meta. */
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	cr_assert(eq(int, mdb_txn_begin(tdb->env, NULL, MDB_RDONLY, &txn), 0));
	cr_assert(eq(int, mdb_cursor_open(txn, tdb->dbi[PF_DBI_META], &cur), 0));
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *kb = k.mv_data;
		bool lifecycle = (k.mv_size > 6 && !memcmp(kb, "merge:", 6)) ||
		                 (k.mv_size > 3 && (!memcmp(kb, "mg:", 3) || !memcmp(kb, "nd:", 3)));
		cr_assert(eq(int, lifecycle, 0), "meta key %.*s left", (int)(k.mv_size > 6 ? 6 : k.mv_size), kb);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
}

Test(erase, refused_arguments)
{
	pf_id zero = { { 0 } }, ghost;
	pf_id_generate(&ghost);
	cr_assert(eq(int, pf_guest_erase(NULL, &ghost), PF_EINVAL));
	cr_assert(eq(int, pf_guest_erase(tdb, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_guest_erase(tdb, &zero), PF_EINVAL));
	cr_assert(eq(int, pf_guest_erase(tdb, &ghost), PF_ENOTFOUND));
	cr_assert(strstr(pf_errmsg(), "pf_guest_erase") != NULL, "%s", pf_errmsg());
}

/* ------------------------------------------------------------ consent */

Test(erase, consent_change_is_journaled)
{
	pf_id g = er_guest("Sofia Rossi", NULL, NULL);
	tclock += 500;
	assert_ok(pf_guest_set_consent(tdb, &g, PF_CONSENT_PROFILING | PF_CONSENT_MARKETING,
	                               "front_desk/luca"));
	assert_ok(pf_guest_set_consent(tdb, &g, PF_CONSENT_PROFILING | PF_CONSENT_MARKETING,
	                               NULL));   /* unchanged: nothing journaled */
	assert_ok(pf_guest_set_consent(tdb, &g, 0, NULL));

	pf_guest *got = NULL;
	assert_ok(pf_guest_get(&got, tdb, &g));
	cr_assert(eq(u32, got->consent, 0));
	cr_assert(eq(i64, got->updated, T0 + 500));
	pf_guest_free(got);

	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e;
	int seen = 0;
	assert_ok(pf_journal_iter(&it, tdb, 0, &g));
	while (pf_journal_next(&e, it) == 0) {
		if (strcmp(e->op, "guest.consent") != 0)
			continue;
		if (seen == 0) {
			cr_assert(eq(str, (char *)e->actor, "front_desk/luca"));
			cr_assert(eq(str, (char *)er_field(e, "consent"), "profiling,marketing"));
			cr_assert(eq(str, (char *)er_field(e, "consent.old"), "profiling"));
		} else {
			cr_assert(e->actor == NULL);
			cr_assert(eq(str, (char *)er_field(e, "consent"), "none"));
			cr_assert(eq(str, (char *)er_field(e, "consent.old"), "profiling,marketing"));
		}
		seen++;
	}
	pf_journal_iterator_free(it);
	cr_assert(eq(int, seen, 2));

	pf_id ghost;
	pf_id_generate(&ghost);
	cr_assert(eq(int, pf_guest_set_consent(tdb, &g, 0x4, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_guest_set_consent(tdb, &g, 0, ""), PF_EINVAL));
	cr_assert(eq(int, pf_guest_set_consent(tdb, &g, 0, "\xff"), PF_EINVAL));
	cr_assert(eq(int, pf_guest_set_consent(tdb, &ghost, 0, NULL), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_set_consent(NULL, &g, 0, NULL), PF_EINVAL));
}

/* ------------------------------------------------------------ retention */

/* Day number (since 1970) of the fixture clock now. */
static pf_date er_date(int64_t days_before_today)
{
	return pf_date_from_days(tclock / DAY - days_before_today);
}

Test(erase, retention_anonymises_exactly_the_right_profiles)
{
	/* Created long ago: T0 - 400 days. */
	tclock = T0 - 400 * (pf_time)DAY;
	pf_id old_stay = er_guest("Old Stay", "old@example.com", "+1 202 555 0101");
	pf_id never = er_guest("Never Stayed", "never@example.com", NULL);
	pf_id mixed = er_guest("Old And New", NULL, NULL);
	pf_id edge = er_guest("Exactly Ninety", NULL, NULL);
	pf_id past_edge = er_guest("Ninety One", NULL, NULL);
	pf_id future = er_guest("Booked Ahead", NULL, NULL);
	tclock = T0 - 10 * (pf_time)DAY;
	pf_id fresh = er_guest("Fresh Profile", "fresh@example.com", NULL);
	tclock = T0;
	set_pref(&old_stay, "room.floor", "3", PF_LIKE);
	er_stay(&old_stay, er_date(300), er_date(297));
	er_stay(&mixed, er_date(380), er_date(375));
	er_stay(&mixed, er_date(20), er_date(15));
	er_stay(&edge, er_date(95), er_date(90));        /* departed 90 days ago: kept */
	er_stay(&past_edge, er_date(95), er_date(91));   /* 91 days ago: anonymised */
	er_stay(&future, er_date(-25), er_date(-30));

	pf_retention_report rep = { 99, 99 };
	assert_ok(pf_retention_run(&rep, tdb, 90, "system/retention"));
	cr_assert(eq(u64, rep.examined, 7));
	cr_assert(eq(u64, rep.anonymised, 3));

	const pf_id *gone[] = { &old_stay, &never, &past_edge };
	const pf_id *kept[] = { &mixed, &edge, &future, &fresh };
	for (size_t i = 0; i < 3; i++) {
		pf_guest *g = NULL;
		assert_ok(pf_guest_get(&g, tdb, gone[i]));
		cr_assert(eq(str, (char *)g->name, "[anonymised]"));
		cr_assert(g->email == NULL && g->phone == NULL && g->pref_count == 0);
		pf_guest_free(g);
		cr_assert(eq(sz, er_journal(gone[i], "guest.anonymise", NULL), 1));
	}
	for (size_t i = 0; i < 4; i++) {
		pf_guest *g = NULL;
		assert_ok(pf_guest_get(&g, tdb, kept[i]));
		cr_assert(strcmp(g->name, "[anonymised]") != 0, "%s was anonymised", g->name);
		pf_guest_free(g);
	}
	/* Stays and the stay counter are kept. */
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &old_stay));
	cr_assert(eq(u32, g->stays, 1));
	pf_guest_free(g);
	pf_stay_list *sl = NULL;
	assert_ok(pf_stay_list_get(&sl, tdb, &old_stay));
	cr_assert(eq(sz, sl->count, 1));
	pf_stay_list_free(sl);
	/* No longer findable, and nothing personal in its journal. */
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "old@example.com"));
	cr_assert(eq(sz, l->count, 0));
	pf_guest_list_free(l);
	assert_ok(pf_guest_find(&l, tdb, "+1 202 555 0101"));
	cr_assert(eq(sz, l->count, 0));
	pf_guest_list_free(l);
	er_journal(&old_stay, NULL, "old@example.com");
	cr_assert(eq(sz, er_journal(NULL, "retention.run", NULL), 1));

	/* A second run finds nothing new. */
	assert_ok(pf_retention_run(&rep, tdb, 90, NULL));
	cr_assert(eq(u64, rep.examined, 7));
	cr_assert(eq(u64, rep.anonymised, 0));
	/* One more day: "Exactly Ninety" is now 91 days past. */
	tclock += DAY;
	assert_ok(pf_retention_run(&rep, tdb, 90, NULL));
	cr_assert(eq(u64, rep.anonymised, 1));
	assert_ok(pf_guest_get(&g, tdb, &edge));
	cr_assert(eq(str, (char *)g->name, "[anonymised]"));
	pf_guest_free(g);
}

/* A resolved complaint with its call-back answered, recorded by `guest`. */
static pf_id er_complaint(const pf_id *guest, const char *text, const char *resolution)
{
	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = *guest;
	fb.department = "housekeeping";
	fb.category = "room";
	fb.text = text;
	fb.severity = 2;
	fb.recorded_by = "ana";
	assert_ok(pf_feedback_add(tdb, &fb, NULL));
	assert_ok(pf_feedback_resolve(tdb, &fb.id, "lina", resolution));
	assert_ok(pf_feedback_followup(tdb, &fb.id, "omar", PF_OUTCOME_SATISFIED));
	return fb.id;
}

/* Every prompt of `guest` in the feeds of the departments these tests
 * route to; checks each one's text is (or is not) the tombstone. */
static size_t er_check_prompts(const pf_id *guest, bool erased)
{
	static const char *const depts[] = { "front_desk", "housekeeping", "management",
		                                 "front_office" };
	size_t n = 0;
	for (size_t d = 0; d < sizeof depts / sizeof depts[0]; d++) {
		pf_prompt_list *l = NULL;
		assert_ok(pf_prompts_since(&l, tdb, depts[d], 0));
		for (size_t i = 0; i < l->count; i++) {
			const pf_prompt *p = &l->items[i];
			if (memcmp(p->guest.b, guest->b, sizeof guest->b) != 0)
				continue;
			n++;
			int is_erased = p->text && strcmp(p->text, "[erased]") == 0;
			cr_assert(eq(int, is_erased, erased), "%s prompt text: %s", depts[d],
			          p->text);
			if (erased && p->done_by)
				cr_assert(eq(str, (char *)p->done_by, "[erased]"));
		}
		pf_prompt_list_free(l);
	}
	return n;
}

Test(erase, retention_tombstones_feedback_and_prompts)
{
	tclock = T0 - 400 * (pf_time)DAY;
	pf_id old = er_guest("Ingrid Solberg", "ingrid@example.com", NULL);
	tclock = T0 - 10 * (pf_time)DAY;
	pf_id kept = er_guest("Kept Guest", NULL, NULL);
	tclock = T0 - 5 * (pf_time)DAY;
	set_pref(&old, "room.floor", "4", PF_LIKE);
	set_pref(&kept, "room.floor", "6", PF_LIKE);
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t", erase_rules, strlen(erase_rules), &err));
	pf_event ev = PF_EVENT_INIT;
	pf_prompt_list *l = NULL;
	ev.id = "res-ingrid";
	ev.guest = old;
	assert_ok(pf_fire(&l, tdb, &ev));
	pf_prompt_list_free(l);
	ev.id = "res-kept";
	ev.guest = kept;
	assert_ok(pf_fire(&l, tdb, &ev));
	pf_prompt_list_free(l);
	pf_id fo = er_complaint(&old, "Ingrid Solberg found hair in the bath",
	                        "Ingrid Solberg got a new room");
	pf_id fk = er_complaint(&kept, "Kept Guest heard noise", "Kept Guest moved");
	/* Fired prompt, department + management complaint prompts, call-back. */
	cr_assert(eq(sz, er_check_prompts(&old, false), 4));
	tclock = T0;

	pf_retention_report rep;
	assert_ok(pf_retention_run(&rep, tdb, 90, "system/retention"));
	cr_assert(eq(u64, rep.anonymised, 1));

	pf_feedback *f = NULL;
	assert_ok(pf_feedback_get(&f, tdb, &fo));
	cr_assert(eq(str, (char *)f->text, "[erased]"));
	cr_assert(eq(str, (char *)f->recorded_by, "[erased]"));
	cr_assert(eq(str, (char *)f->resolution, "[erased]"));
	cr_assert(eq(str, (char *)f->resolved_by, "[erased]"));
	cr_assert(eq(str, (char *)f->outcome_by, "[erased]"));
	/* What the figures count stays. */
	cr_assert(eq(int, f->kind, PF_FEEDBACK_COMPLAINT));
	cr_assert(eq(str, (char *)f->category, "room"));
	cr_assert(eq(str, (char *)f->department, "housekeeping"));
	cr_assert(eq(int, f->severity, 2));
	cr_assert(eq(int, f->status, PF_FEEDBACK_RESOLVED));
	cr_assert(eq(int, f->outcome, PF_OUTCOME_SATISFIED));
	pf_feedback_free(f);
	cr_assert(eq(sz, er_check_prompts(&old, true), 4));
	er_journal(&old, NULL, "Solberg");

	/* The kept guest's feedback and prompts are untouched. */
	assert_ok(pf_feedback_get(&f, tdb, &fk));
	cr_assert(eq(str, (char *)f->text, "Kept Guest heard noise"));
	cr_assert(eq(str, (char *)f->resolution, "Kept Guest moved"));
	pf_feedback_free(f);
	cr_assert(eq(sz, er_check_prompts(&kept, false), 4));
}

Test(erase, retention_refused_arguments)
{
	pf_retention_report rep = { 5, 5 };
	cr_assert(eq(int, pf_retention_run(&rep, tdb, 0, NULL), PF_EINVAL));
	cr_assert(eq(u64, rep.examined, 0), "the report is zeroed first");
	cr_assert(eq(int, pf_retention_run(&rep, NULL, 30, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_retention_run(&rep, tdb, 30, ""), PF_EINVAL));
	assert_ok(pf_retention_run(NULL, tdb, 30, NULL));   /* no report wanted */

	pf_close(tdb);
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &o));
	cr_assert(eq(int, pf_retention_run(&rep, tdb, 30, NULL), PF_EREADONLY));
}
