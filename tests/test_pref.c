/* test_pref.c — preferences on a guest profile: set semantics (count,
 * replacement, kind change, notes, observer), order, delete, limits,
 * argument checking and persistence. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(pref, .init = db_setup, .fini = db_teardown, .timeout = 60);

static pf_observation p_obs(pf_pref_kind kind, const char *dept, const char *staff,
                            const char *note)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = dept;
	o.staff = staff;
	o.note = note;
	return o;
}

static pf_pref *p_get(pf_id id, const char *cat)
{
	pf_pref *p = NULL;
	assert_ok(pf_pref_get(&p, tdb, &id, cat));
	cr_assert(p != NULL);
	return p;
}

static pf_time p_updated(pf_id id)
{
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	pf_time t = g->updated;
	pf_guest_free(g);
	return t;
}

/* The guest's preferences as one string "cat=value/kind/count;...", for
 * comparing before and after a rejected call. */
static char *p_snapshot(pf_id id)
{
	pf_pref_list *l = NULL;
	assert_ok(pf_pref_list_get(&l, tdb, &id));
	size_t cap = 64 + l->count * 512, n = 0;
	char *s = malloc(cap);
	cr_assert(s != NULL);
	s[0] = '\0';
	for (size_t i = 0; i < l->count; i++) {
		const pf_pref *p = &l->items[i];
		n += (size_t)snprintf(s + n, cap - n, "%s=%s/%d/%u/%s/%s;", p->category, p->value,
		                      (int)p->kind, p->count, p->department,
		                      p->note ? p->note : "-");
	}
	pf_pref_list_free(l);
	return s;
}

Test(pref, set_then_get)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_observation o = p_obs(PF_LIKE, "housekeeping", "mei", "asked twice");
	assert_ok(pf_pref_set(tdb, &id, "amenity.flower", "lily", &o));
	pf_pref *p = p_get(id, "amenity.flower");
	cr_assert(eq(str, (char *)p->category, "amenity.flower"));
	cr_assert(eq(str, (char *)p->value, "lily"));
	cr_assert(eq(int, p->kind, PF_LIKE));
	cr_assert(eq(str, (char *)p->department, "housekeeping"));
	cr_assert(eq(str, (char *)p->staff, "mei"));
	cr_assert(eq(str, (char *)p->note, "asked twice"));
	cr_assert(eq(u32, p->count, 1));
	cr_assert(eq(i64, p->first_seen, T0));
	cr_assert(eq(i64, p->last_seen, T0));
	pf_pref_free(p);
}

Test(pref, same_value_and_kind_counts_up)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_observation o = p_obs(PF_LIKE, "housekeeping", "mei", "first note");
	assert_ok(pf_pref_set(tdb, &id, "room.facing", "west", &o));

	tclock = T0 + 86400;
	o = p_obs(PF_LIKE, "front_desk", NULL, NULL);
	assert_ok(pf_pref_set(tdb, &id, "room.facing", "west", &o));
	pf_pref *p = p_get(id, "room.facing");
	cr_assert(eq(u32, p->count, 2));
	cr_assert(eq(i64, p->first_seen, T0));
	cr_assert(eq(i64, p->last_seen, T0 + 86400));
	cr_assert(eq(str, (char *)p->department, "front_desk"), "observer updated");
	cr_assert(p->staff == NULL, "observer updated, staff included");
	cr_assert(eq(str, (char *)p->note, "first note"), "no note given: the note stays");
	pf_pref_free(p);

	tclock = T0 + 2 * 86400;
	o = p_obs(PF_LIKE, "concierge", "rui", "second note");
	assert_ok(pf_pref_set(tdb, &id, "room.facing", "west", &o));
	p = p_get(id, "room.facing");
	cr_assert(eq(u32, p->count, 3));
	cr_assert(eq(str, (char *)p->note, "second note"), "a given note replaces");
	cr_assert(eq(str, (char *)p->staff, "rui"));
	pf_pref_free(p);
}

Test(pref, different_value_replaces_and_resets)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_observation o = p_obs(PF_LIKE, "front_desk", NULL, "high floors");
	assert_ok(pf_pref_set(tdb, &id, "room.floor", "10", &o));
	assert_ok(pf_pref_set(tdb, &id, "room.floor", "10", &o));
	tclock = T0 + 500;
	o = p_obs(PF_LIKE, "front_desk", NULL, NULL);
	assert_ok(pf_pref_set(tdb, &id, "room.floor", "12", &o));
	pf_pref *p = p_get(id, "room.floor");
	cr_assert(eq(str, (char *)p->value, "12"));
	cr_assert(eq(u32, p->count, 1));
	cr_assert(eq(i64, p->first_seen, T0 + 500));
	cr_assert(eq(i64, p->last_seen, T0 + 500));
	cr_assert(p->note == NULL, "a replacement takes the note as given");
	pf_pref_free(p);
}

Test(pref, kind_change_replaces_and_resets)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&id, "bedding.pillow", "feather", PF_LIKE);
	set_pref(&id, "bedding.pillow", "feather", PF_LIKE);
	tclock = T0 + 10;
	set_pref(&id, "bedding.pillow", "feather", PF_DISLIKE);
	pf_pref *p = p_get(id, "bedding.pillow");
	cr_assert(eq(int, p->kind, PF_DISLIKE));
	cr_assert(eq(u32, p->count, 1));
	cr_assert(eq(i64, p->first_seen, T0 + 10));
	pf_pref_free(p);

	set_pref(&id, "bedding.pillow", "feather", PF_NEED);
	p = p_get(id, "bedding.pillow");
	cr_assert(eq(int, p->kind, PF_NEED));
	cr_assert(eq(u32, p->count, 1));
	pf_pref_free(p);
}

Test(pref, observation_time_is_used_and_dates_never_go_back)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_observation o = p_obs(PF_LIKE, "restaurant", NULL, NULL);
	o.time = T0 - 7200;
	assert_ok(pf_pref_set(tdb, &id, "dining.cuisine", "sichuan", &o));
	pf_pref *p = p_get(id, "dining.cuisine");
	cr_assert(eq(i64, p->first_seen, T0 - 7200));
	pf_pref_free(p);
	cr_assert(eq(i64, p_updated(id), T0), "updated comes from the clock");

	o.time = T0 - 3600;
	assert_ok(pf_pref_set(tdb, &id, "dining.cuisine", "sichuan", &o));
	/* an observation entered late, older than both */
	o.time = T0 - 86400;
	assert_ok(pf_pref_set(tdb, &id, "dining.cuisine", "sichuan", &o));
	p = p_get(id, "dining.cuisine");
	cr_assert(eq(u32, p->count, 3));
	cr_assert(eq(i64, p->first_seen, T0 - 86400));
	cr_assert(eq(i64, p->last_seen, T0 - 3600));
	pf_pref_free(p);
}

Test(pref, kept_sorted_by_category)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	const char *cats[] = { "room.floor", "amenity.flower", "dining.cuisine", "zz", "a",
	                       "room.facing", "access.hearing" };
	const char *sorted[] = { "a", "access.hearing", "amenity.flower", "dining.cuisine",
	                         "room.facing", "room.floor", "zz" };
	size_t n = sizeof cats / sizeof *cats;
	for (size_t i = 0; i < n; i++)
		set_pref(&id, cats[i], cats[i], PF_LIKE);

	pf_pref_list *l = NULL;
	assert_ok(pf_pref_list_get(&l, tdb, &id));
	cr_assert(eq(sz, l->count, n));
	for (size_t i = 0; i < n; i++) {
		cr_assert(eq(str, (char *)l->items[i].category, (char *)sorted[i]));
		cr_assert(eq(str, (char *)l->items[i].value, (char *)sorted[i]),
		          "value stays with its category");
	}
	pf_pref_list_free(l);

	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	cr_assert(eq(sz, g->pref_count, n));
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(str, (char *)g->prefs[i].category, (char *)sorted[i]));
	pf_guest_free(g);
}

Test(pref, delete_removes_one)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&id, "a.b", "1", PF_LIKE);
	set_pref(&id, "c.d", "2", PF_LIKE);
	set_pref(&id, "e.f", "3", PF_LIKE);
	tclock = T0 + 99;
	assert_ok(pf_pref_del(tdb, &id, "c.d"));
	cr_assert(eq(i64, p_updated(id), T0 + 99));
	char *s = p_snapshot(id);
	cr_assert(eq(str, s, "a.b=1/0/1/front_desk/-;e.f=3/0/1/front_desk/-;"));
	free(s);

	pf_pref *p = (pf_pref *)0x1;
	cr_assert(eq(int, pf_pref_get(&p, tdb, &id, "c.d"), PF_ENOTFOUND));
	cr_assert(p == NULL);
	cr_assert(eq(int, pf_pref_del(tdb, &id, "c.d"), PF_ENOTFOUND));
	assert_ok(pf_pref_del(tdb, &id, "a.b"));
	assert_ok(pf_pref_del(tdb, &id, "e.f"));
	s = p_snapshot(id);
	cr_assert(eq(str, s, ""));
	free(s);
}

Test(pref, missing_preference_and_guest_are_not_found)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_pref *p = (pf_pref *)0x1;
	cr_assert(eq(int, pf_pref_get(&p, tdb, &id, "room.floor"), PF_ENOTFOUND));
	cr_assert(p == NULL);
	cr_assert(strstr(pf_errmsg(), "room.floor") != NULL);

	pf_id ghost;
	memset(ghost.b, 0x17, sizeof ghost.b);
	pf_observation o = p_obs(PF_LIKE, "front_desk", NULL, NULL);
	cr_assert(eq(int, pf_pref_set(tdb, &ghost, "room.floor", "10", &o), PF_ENOTFOUND));
	cr_assert(eq(int, pf_pref_get(&p, tdb, &ghost, "room.floor"), PF_ENOTFOUND));
	cr_assert(eq(int, pf_pref_del(tdb, &ghost, "room.floor"), PF_ENOTFOUND));
	pf_pref_list *l = (pf_pref_list *)0x1;
	cr_assert(eq(int, pf_pref_list_get(&l, tdb, &ghost), PF_ENOTFOUND));
	cr_assert(l == NULL);
	/* no guest was created as a side effect */
	pf_guest *g = NULL;
	cr_assert(eq(int, pf_guest_get(&g, tdb, &ghost), PF_ENOTFOUND));
}

Test(pref, empty_list_for_a_guest_without_prefs)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_pref_list *l = NULL;
	assert_ok(pf_pref_list_get(&l, tdb, &id));
	cr_assert(l != NULL);
	cr_assert(eq(sz, l->count, 0));
	pf_pref_list_free(l);
}

Test(pref, at_most_prefs_max)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	char cat[32];
	for (int i = 0; i < PF_PREFS_MAX; i++) {
		snprintf(cat, sizeof cat, "misc.c%03d", i);
		set_pref(&id, cat, "x", PF_LIKE);
	}
	char *before = p_snapshot(id);
	pf_observation o = p_obs(PF_LIKE, "front_desk", NULL, NULL);
	cr_assert(eq(int, pf_pref_set(tdb, &id, "misc.extra", "x", &o), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "pf_pref_set") != NULL);
	char *after = p_snapshot(id);
	cr_assert(eq(str, after, before));
	free(after);
	/* an existing category may still change at the limit */
	assert_ok(pf_pref_set(tdb, &id, "misc.c100", "y", &o));
	/* and after a delete there is room again */
	assert_ok(pf_pref_del(tdb, &id, "misc.c000"));
	assert_ok(pf_pref_set(tdb, &id, "misc.extra", "x", &o));
	pf_pref_list *l = NULL;
	assert_ok(pf_pref_list_get(&l, tdb, &id));
	cr_assert(eq(sz, l->count, PF_PREFS_MAX));
	pf_pref_list_free(l);
	free(before);
}

Test(pref, set_rejects_bad_arguments_and_changes_nothing)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&id, "room.floor", "10", PF_LIKE);
	char *before = p_snapshot(id);
	tclock = T0 + 1000;

	char longval[PF_VALUE_MAX + 2];
	memset(longval, 'v', sizeof longval - 1);
	longval[sizeof longval - 1] = '\0';
	char longnote[PF_NOTE_MAX + 2];
	memset(longnote, 'n', sizeof longnote - 1);
	longnote[sizeof longnote - 1] = '\0';
	char longcat[PF_CATEGORY_MAX + 2];
	memset(longcat, 'c', sizeof longcat - 1);
	longcat[sizeof longcat - 1] = '\0';
	pf_id zero = { { 0 } };

	pf_observation ok = p_obs(PF_LIKE, "front_desk", NULL, NULL);
	pf_observation badver = ok, badkind = ok, nodept = ok, baddept = ok, baddept2 = ok,
	               badstaff = ok, emptystaff = ok, bignote = ok, emptynote = ok,
	               badnote = ok, badtime = ok;
	badver.version = 2;
	badkind.kind = (pf_pref_kind)7;
	nodept.department = NULL;
	baddept.department = "Front Desk";
	baddept2.department = "";
	badstaff.staff = "\xff";
	emptystaff.staff = "";
	bignote.note = longnote;
	emptynote.note = "";
	badnote.note = "ok\xed\xa0\x80";   /* a surrogate */
	badtime.time = -5;

	struct {
		const char *what;
		pf_db *db;
		const pf_id *guest;
		const char *cat, *val;
		const pf_observation *obs;
	} cases[] = {
		{ "NULL db", NULL, &id, "room.floor", "12", &ok },
		{ "NULL guest", tdb, NULL, "room.floor", "12", &ok },
		{ "zero guest", tdb, &zero, "room.floor", "12", &ok },
		{ "NULL category", tdb, &id, NULL, "12", &ok },
		{ "empty category", tdb, &id, "", "12", &ok },
		{ "upper-case category", tdb, &id, "Room.Floor", "12", &ok },
		{ "empty word", tdb, &id, "room..x", "12", &ok },
		{ "five words", tdb, &id, "a.b.c.d.e", "12", &ok },
		{ "trailing dot", tdb, &id, "room.", "12", &ok },
		{ "space in category", tdb, &id, "room floor", "12", &ok },
		{ "long category", tdb, &id, longcat, "12", &ok },
		{ "NULL value", tdb, &id, "room.floor", NULL, &ok },
		{ "empty value", tdb, &id, "room.floor", "", &ok },
		{ "201-byte value", tdb, &id, "room.floor", longval, &ok },
		{ "non-UTF-8 value", tdb, &id, "room.floor", "\xff", &ok },
		{ "NULL obs", tdb, &id, "room.floor", "12", NULL },
		{ "obs version", tdb, &id, "room.floor", "12", &badver },
		{ "unknown kind", tdb, &id, "room.floor", "12", &badkind },
		{ "NULL department", tdb, &id, "room.floor", "12", &nodept },
		{ "bad department", tdb, &id, "room.floor", "12", &baddept },
		{ "empty department", tdb, &id, "room.floor", "12", &baddept2 },
		{ "non-UTF-8 staff", tdb, &id, "room.floor", "12", &badstaff },
		{ "empty staff", tdb, &id, "room.floor", "12", &emptystaff },
		{ "1001-byte note", tdb, &id, "room.floor", "12", &bignote },
		{ "empty note", tdb, &id, "room.floor", "12", &emptynote },
		{ "non-UTF-8 note", tdb, &id, "room.floor", "12", &badnote },
		{ "negative time", tdb, &id, "room.floor", "12", &badtime },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = pf_pref_set(cases[i].db, cases[i].guest, cases[i].cat, cases[i].val,
		                     cases[i].obs);
		cr_assert(eq(int, rc, PF_EINVAL), "%s: rc %d", cases[i].what, rc);
		cr_assert(strstr(pf_errmsg(), "pf_pref_set") != NULL, "%s: %s", cases[i].what,
		          pf_errmsg());
		char *after = p_snapshot(id);
		cr_assert(eq(str, after, before), "%s changed data", cases[i].what);
		free(after);
	}
	cr_assert(eq(i64, p_updated(id), T0), "a rejected call must not touch the guest");
	free(before);
}

Test(pref, get_del_list_reject_bad_arguments)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&id, "room.floor", "10", PF_LIKE);
	pf_id zero = { { 0 } };
	pf_pref *p = (pf_pref *)0x1;
	cr_assert(eq(int, pf_pref_get(NULL, tdb, &id, "room.floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_get(&p, NULL, &id, "room.floor"), PF_EINVAL));
	cr_assert(p == NULL);
	cr_assert(eq(int, pf_pref_get(&p, tdb, NULL, "room.floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_get(&p, tdb, &zero, "room.floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_get(&p, tdb, &id, "Room.Floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_get(&p, tdb, &id, NULL), PF_EINVAL));

	cr_assert(eq(int, pf_pref_del(NULL, &id, "room.floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_del(tdb, NULL, "room.floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_del(tdb, &zero, "room.floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_del(tdb, &id, "room..floor"), PF_EINVAL));
	cr_assert(eq(int, pf_pref_del(tdb, &id, NULL), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "pf_pref_del") != NULL);

	pf_pref_list *l = (pf_pref_list *)0x1;
	cr_assert(eq(int, pf_pref_list_get(NULL, tdb, &id), PF_EINVAL));
	cr_assert(eq(int, pf_pref_list_get(&l, NULL, &id), PF_EINVAL));
	cr_assert(l == NULL);
	cr_assert(eq(int, pf_pref_list_get(&l, tdb, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_pref_list_get(&l, tdb, &zero), PF_EINVAL));

	/* none of that deleted anything */
	p = p_get(id, "room.floor");
	cr_assert(eq(str, (char *)p->value, "10"));
	pf_pref_free(p);
}

Test(pref, updated_moves_on_every_change)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	tclock = T0 + 1;
	set_pref(&id, "room.floor", "10", PF_LIKE);
	cr_assert(eq(i64, p_updated(id), T0 + 1));
	tclock = T0 + 2;
	set_pref(&id, "room.floor", "10", PF_LIKE);
	cr_assert(eq(i64, p_updated(id), T0 + 2));
	tclock = T0 + 3;
	assert_ok(pf_pref_del(tdb, &id, "room.floor"));
	cr_assert(eq(i64, p_updated(id), T0 + 3));
}

Test(pref, unicode_values_and_notes)
{
	pf_id id = add_guest("莊偉", NULL, NULL);
	pf_observation o = p_obs(PF_NEED, "restaurant", "李", "花生過敏 — severe");
	assert_ok(pf_pref_set(tdb, &id, "diet.allergy", "花生", &o));
	pf_pref *p = p_get(id, "diet.allergy");
	cr_assert(eq(str, (char *)p->value, "花生"));
	cr_assert(eq(str, (char *)p->note, "花生過敏 — severe"));
	cr_assert(eq(str, (char *)p->staff, "李"));
	cr_assert(eq(int, p->kind, PF_NEED));
	pf_pref_free(p);
}

Test(pref, prefs_survive_reopen)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_observation o = p_obs(PF_DISLIKE, "housekeeping", "mei", "sneezes");
	assert_ok(pf_pref_set(tdb, &id, "bedding.pillow", "feather", &o));
	assert_ok(pf_pref_set(tdb, &id, "bedding.pillow", "feather", &o));
	set_pref(&id, "room.floor", "10", PF_LIKE);
	char *before = p_snapshot(id);
	db_reopen();
	char *after = p_snapshot(id);
	cr_assert(eq(str, after, before));
	cr_assert(eq(str, after,
	             "bedding.pillow=feather/1/2/housekeeping/sneezes;room.floor=10/0/1/front_desk/-;"));
	free(before);
	free(after);
}

Test(pref, read_only_database_reads_but_refuses_writes)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&id, "room.floor", "10", PF_LIKE);
	pf_close(tdb);
	tdb = NULL;
	pf_options ro = test_options();
	ro.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &ro));
	pf_observation o = p_obs(PF_LIKE, "front_desk", NULL, NULL);
	cr_assert(eq(int, pf_pref_set(tdb, &id, "room.floor", "12", &o), PF_EREADONLY));
	cr_assert(eq(int, pf_pref_del(tdb, &id, "room.floor"), PF_EREADONLY));
	char *s = p_snapshot(id);
	cr_assert(eq(str, s, "room.floor=10/0/1/front_desk/-;"));
	free(s);
	pf_pref *p = p_get(id, "room.floor");
	cr_assert(eq(str, (char *)p->value, "10"));
	pf_pref_free(p);
}
