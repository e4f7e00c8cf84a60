/* test_merge.c — duplicate suggestions, not-a-duplicate marks, merge and
 * byte-for-byte unmerge. */
#include "helpers.h"
#include "id.h"
#include "store.h"
#include "codec.h"

#include <stdlib.h>
#include <string.h>

TestSuite(merge, .init = db_setup, .fini = db_teardown, .timeout = 60);

static const char merge_rules[] =
	"rule hello\n"
	"  on reservation, check_in\n"
	"  notify front_desk normal \"Welcome {name}\"\n";

static pf_id mg_guest(const char *name, const char *email, const char *phone,
                      const char *loyalty, pf_date birth)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	g.phone = phone;
	g.loyalty_no = loyalty;
	g.birth_date = birth;
	assert_ok(pf_guest_put(tdb, &g));
	return g.id;
}

static void mg_stay(const pf_id *g, pf_date arrival, pf_date departure, const char *room)
{
	pf_stay s = { PF_STAY_VERSION, *g, "MFM1", room, arrival, departure, 2 };
	assert_ok(pf_stay_add(tdb, &s));
}

static void mg_pref(const pf_id *g, const char *cat, const char *value, pf_pref_kind kind,
                    pf_time when, const char *note)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = "housekeeping";
	o.note = note;
	o.time = when;
	assert_ok(pf_pref_set(tdb, g, cat, value, &o));
}

static pf_prompt_list *mg_fire(const pf_id *g, const char *event_id)
{
	pf_event ev = PF_EVENT_INIT;
	pf_prompt_list *l = NULL;
	ev.id = event_id;
	ev.kind = PF_EVENT_RESERVATION;
	ev.guest = *g;
	assert_ok(pf_fire(&l, tdb, &ev));
	return l;
}

/* Every key and value of the given databases, serialised (dump_dbs). */
typedef struct snap {
	unsigned char *b;
	size_t len;
} snap;

static snap take_snap(void)
{
	static const int dbis[] = {
		PF_DBI_GUEST, PF_DBI_CONTACT, PF_DBI_NAME, PF_DBI_STAY, PF_DBI_PROMPT,
		PF_DBI_QUEUE, PF_DBI_EVENT, PF_DBI_FEEDBACK,
	};
	snap s;
	s.b = dump_dbs(tdb, dbis, sizeof dbis / sizeof dbis[0], &s.len);
	return s;
}

static bool snap_eq(const snap *a, const snap *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static const pf_duplicate *dup_of(const pf_duplicate_list *l, const pf_id *id)
{
	for (size_t i = 0; i < l->count; i++)
		if (!memcmp(l->items[i].guest.b, id->b, 16))
			return &l->items[i];
	return NULL;
}

static size_t journal_count(const pf_id *guest, const char *op)
{
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e;
	size_t n = 0;
	assert_ok(pf_journal_iter(&it, tdb, 0, guest));
	while (pf_journal_next(&e, it) == 0)
		n += strcmp(e->op, op) == 0;
	pf_journal_iterator_free(it);
	return n;
}

/* ------------------------------------------------------------ duplicates */

Test(merge, duplicates_by_contact)
{
	pf_id a = mg_guest("Zhuang Wei", "zw@example.com", "+853 6123 4567", "GLD-100", 0);
	pf_id b = mg_guest("Z. Wei", "ZW@Example.com", NULL, NULL, 0);
	pf_id c = mg_guest("Someone Else", NULL, NULL, "gld-100", 0);
	pf_id d = mg_guest("Unrelated", "other@example.com", "+1 555 0100", NULL, 0);
	pf_duplicate_list *l = NULL;

	assert_ok(pf_guest_duplicates(&l, tdb, &a));
	cr_assert(eq(sz, l->count, 2));
	const pf_duplicate *db_ = dup_of(l, &b), *dc = dup_of(l, &c);
	cr_assert(db_ != NULL && dc != NULL);
	cr_assert(eq(u32, db_->reasons, PF_DUP_EMAIL));
	cr_assert(eq(int, db_->score, 80));
	cr_assert(eq(u32, dc->reasons, PF_DUP_LOYALTY));
	cr_assert(eq(int, dc->score, 90));
	/* Highest score first. */
	cr_assert(eq(int, memcmp(l->items[0].guest.b, c.b, 16), 0));
	cr_assert(dup_of(l, &d) == NULL);
	cr_assert(dup_of(l, &a) == NULL, "a guest is not its own duplicate");
	pf_duplicate_list_free(l);
}

Test(merge, duplicates_phone_and_similar_name)
{
	pf_id a = mg_guest("Maria Santos", NULL, "+351 912 345 678", NULL, 0);
	pf_id typo = mg_guest("Maria Santso", NULL, "351912345678", NULL, 0);
	pf_id swapped = mg_guest("Santos Maria", NULL, "351 912-345-678", NULL, 0);
	pf_id initial = mg_guest("M. Santos", NULL, "(351) 912 345 678", NULL, 0);
	pf_id spouse = mg_guest("Joao Santos", NULL, "+351912345678", NULL, 0);
	pf_id namesake = mg_guest("Maria Santos", NULL, "+44 20 7946 0000", NULL, 0);
	pf_duplicate_list *l = NULL;

	assert_ok(pf_guest_duplicates(&l, tdb, &a));
	const pf_id *similar[] = { &typo, &swapped, &initial };
	for (size_t i = 0; i < 3; i++) {
		const pf_duplicate *d = dup_of(l, similar[i]);
		cr_assert(d != NULL, "similar name %zu not suggested", i);
		cr_assert(eq(u32, d->reasons, PF_DUP_PHONE | PF_DUP_SIMILAR_NAME));
		cr_assert(eq(int, d->score, 90));
	}
	const pf_duplicate *ds = dup_of(l, &spouse);
	cr_assert(ds != NULL);
	cr_assert(eq(u32, ds->reasons, PF_DUP_PHONE), "same phone, different first name");
	cr_assert(eq(int, ds->score, 60));
	/* Same name without a birth date or a shared contact: no evidence. */
	cr_assert(dup_of(l, &namesake) == NULL);
	cr_assert(eq(sz, l->count, 4));
	cr_assert(eq(int, memcmp(l->items[3].guest.b, spouse.b, 16), 0), "lowest score last");
	pf_duplicate_list_free(l);
}

Test(merge, duplicates_name_and_birth_date)
{
	pf_date birth = 19850412;
	pf_id a = mg_guest("Élodie Martin", NULL, NULL, NULL, birth);
	pf_id same = mg_guest("ELODIE   MARTIN", NULL, NULL, NULL, birth);
	pf_id other_day = mg_guest("Elodie Martin", NULL, NULL, NULL, 19850413);
	pf_id longer = mg_guest("Anne Élodie Martin", NULL, NULL, NULL, birth);
	pf_duplicate_list *l = NULL;

	assert_ok(pf_guest_duplicates(&l, tdb, &a));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(int, memcmp(l->items[0].guest.b, same.b, 16), 0));
	cr_assert(eq(u32, l->items[0].reasons, PF_DUP_NAME_BIRTH));
	cr_assert(eq(int, l->items[0].score, 70));
	cr_assert(dup_of(l, &other_day) == NULL);
	cr_assert(dup_of(l, &longer) == NULL, "a longer name ending in it is another name");
	pf_duplicate_list_free(l);
}

Test(merge, not_duplicate_mark)
{
	pf_id a = mg_guest("Li Na", "family@example.com", NULL, NULL, 0);
	pf_id b = mg_guest("Li Ming", "family@example.com", NULL, NULL, 0);
	pf_id c = mg_guest("Li Na", "lina@example.com", NULL, NULL, 0);
	pf_duplicate_list *l = NULL;

	assert_ok(pf_guest_duplicates(&l, tdb, &a));
	cr_assert(eq(sz, l->count, 1));
	pf_duplicate_list_free(l);

	assert_ok(pf_guest_not_duplicate(tdb, &a, &b));
	assert_ok(pf_guest_not_duplicate(tdb, &b, &a));   /* again: a no-op */
	assert_ok(pf_guest_duplicates(&l, tdb, &a));
	cr_assert(eq(sz, l->count, 0));
	pf_duplicate_list_free(l);
	assert_ok(pf_guest_duplicates(&l, tdb, &b));
	cr_assert(eq(sz, l->count, 0), "the mark is symmetric");
	pf_duplicate_list_free(l);
	cr_assert(eq(sz, journal_count(&a, "guest.not_duplicate"), 1));
	cr_assert(eq(sz, journal_count(&b, "guest.not_duplicate"), 1));

	pf_id zero = { { 0 } }, ghost;
	pf_id_generate(&ghost);
	cr_assert(eq(int, pf_guest_not_duplicate(tdb, &a, &a), PF_EINVAL));
	cr_assert(eq(int, pf_guest_not_duplicate(tdb, &a, &zero), PF_EINVAL));
	cr_assert(eq(int, pf_guest_not_duplicate(tdb, &a, &ghost), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_not_duplicate(tdb, &c, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_guest_duplicates(&l, tdb, &ghost), PF_ENOTFOUND));
	cr_assert(l == NULL);
}

/* ------------------------------------------------------------ merge */

Test(merge, preferences_combined)
{
	pf_id keep = mg_guest("Ana Costa", "ana@example.com", NULL, NULL, 0);
	pf_id dup = mg_guest("Ana Costa", NULL, "+351 911 111 111", NULL, 19900101);
	/* Same value: counts add, dates widen, the later observer's note. */
	mg_pref(&keep, "amenity.flower", "lily", PF_LIKE, T0 - 5000, "keep note");
	mg_pref(&dup, "amenity.flower", "lily", PF_LIKE, T0 - 9000, NULL);
	mg_pref(&dup, "amenity.flower", "lily", PF_LIKE, T0 - 100, NULL);
	/* Different values: the most recently seen wins. */
	mg_pref(&keep, "room.floor", "3", PF_LIKE, T0 - 100, NULL);
	mg_pref(&dup, "room.floor", "12", PF_LIKE, T0 - 50, NULL);
	mg_pref(&keep, "dining.cuisine", "sichuan", PF_LIKE, T0 - 10, NULL);
	mg_pref(&dup, "dining.cuisine", "cantonese", PF_LIKE, T0 - 20, NULL);
	/* A need beats a later like. */
	mg_pref(&keep, "diet.nuts", "allergic", PF_NEED, T0 - 1000, NULL);
	mg_pref(&dup, "diet.nuts", "loves them", PF_LIKE, T0 - 1, NULL);
	/* Only the duplicate has it. */
	mg_pref(&dup, "room.pillow", "foam", PF_DISLIKE, T0 - 30, "feathers itch");

	pf_id m;
	assert_ok(pf_guest_merge(&m, tdb, &keep, &dup));
	cr_assert(eq(int, pf_id_is_zero(&m), 0));

	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &keep));
	cr_assert(eq(sz, g->pref_count, 5));
	const pf_pref *p = &g->prefs[0];   /* amenity.flower */
	cr_assert(eq(str, (char *)p->category, "amenity.flower"));
	cr_assert(eq(u32, p->count, 3));
	cr_assert(eq(i64, p->first_seen, T0 - 9000));
	cr_assert(eq(i64, p->last_seen, T0 - 100));
	cr_assert(eq(str, (char *)p->note, "keep note"));
	cr_assert(eq(str, (char *)g->prefs[1].value, "allergic"));    /* diet.nuts */
	cr_assert(eq(int, g->prefs[1].kind, PF_NEED));
	cr_assert(eq(str, (char *)g->prefs[2].value, "sichuan"));     /* dining.cuisine */
	cr_assert(eq(str, (char *)g->prefs[3].value, "12"));          /* room.floor */
	cr_assert(eq(str, (char *)g->prefs[4].category, "room.pillow"));
	cr_assert(eq(str, (char *)g->prefs[4].note, "feathers itch"));
	/* Fields keep lacked came from the duplicate. */
	cr_assert(eq(str, (char *)g->email, "ana@example.com"));
	cr_assert(eq(str, (char *)g->phone, "+351 911 111 111"));
	cr_assert(eq(int, g->birth_date, 19900101));
	pf_guest_free(g);

	cr_assert(eq(int, pf_guest_get(&g, tdb, &dup), PF_ENOTFOUND));
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "+351 911 111 111"));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(int, memcmp(l->items[0]->id.b, keep.b, 16), 0));
	pf_guest_list_free(l);
	cr_assert(eq(sz, journal_count(&keep, "guest.merge"), 1));
	cr_assert(eq(sz, journal_count(&dup, "guest.merge"), 1));
}

Test(merge, stays_prompts_events_feedback_move)
{
	pf_id keep = mg_guest("Tomás Silva", "tomas@example.com", NULL, NULL, 0);
	pf_id dup = mg_guest("Tomas Silva", "tsilva@example.com", NULL, NULL, 0);
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t", merge_rules, strlen(merge_rules), &err));
	mg_stay(&keep, 20250301, 20250305, "101");
	mg_stay(&dup, 20250301, 20250303, "707");   /* same arrival: keep's stays */
	mg_stay(&dup, 20251010, 20251012, "202");
	pf_prompt_list *pl = mg_fire(&dup, "res-dup-1");
	cr_assert(eq(sz, pl->count, 1));
	pf_id prompt = pl->items[0].id;
	pf_prompt_list_free(pl);
	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = dup;
	fb.kind = PF_FEEDBACK_COMPLAINT;
	fb.department = "housekeeping";
	fb.category = "noise";
	fb.text = "Loud corridor at night";
	fb.severity = 2;
	fb.recorded_by = "mei";
	assert_ok(pf_feedback_add(tdb, &fb, NULL));

	pf_id m;
	assert_ok(pf_guest_merge(&m, tdb, &keep, &dup));

	pf_stay_list *sl = NULL;
	assert_ok(pf_stay_list_get(&sl, tdb, &keep));
	cr_assert(eq(sz, sl->count, 2));
	cr_assert(eq(str, (char *)sl->items[0].room, "101"));
	cr_assert(eq(str, (char *)sl->items[1].room, "202"));
	pf_stay_list_free(sl);
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &keep));
	cr_assert(eq(u32, g->stays, 2));
	cr_assert(eq(u32, g->complaints_open, 1));
	pf_guest_free(g);

	pf_prompt *pg = NULL;
	assert_ok(pf_prompt_get(&pg, tdb, &prompt));
	cr_assert(eq(int, memcmp(pg->guest.b, keep.b, 16), 0));
	pf_prompt_free(pg);
	pf_feedback *f = NULL;
	assert_ok(pf_feedback_get(&f, tdb, &fb.id));
	cr_assert(eq(int, memcmp(f->guest.b, keep.b, 16), 0));
	pf_feedback_free(f);

	/* The reservation now belongs to keep: re-sending it for keep is the
	 * idempotent replay, not a conflict. */
	pl = mg_fire(&keep, "res-dup-1");
	cr_assert(eq(sz, pl->count, 1));
	cr_assert(eq(int, memcmp(pl->items[0].id.b, prompt.b, 16), 0));
	pf_prompt_list_free(pl);
}

Test(merge, refused_arguments_change_nothing)
{
	pf_id a = mg_guest("Ken Sato", "ken@example.com", NULL, NULL, 0);
	pf_id b = mg_guest("Ken Satou", "ken@example.com", NULL, NULL, 0);
	pf_id zero = { { 0 } }, ghost, m;
	pf_id_generate(&ghost);
	snap before = take_snap();

	cr_assert(eq(int, pf_guest_merge(&m, tdb, &a, &a), PF_EINVAL));
	cr_assert(eq(int, pf_id_is_zero(&m), 1), "merge_out is zeroed on failure");
	cr_assert(eq(int, pf_guest_merge(&m, tdb, &a, &ghost), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_merge(&m, tdb, &ghost, &b), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_merge(&m, tdb, &zero, &b), PF_EINVAL));
	cr_assert(eq(int, pf_guest_merge(&m, tdb, &a, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_guest_merge(NULL, tdb, &a, &b), PF_EINVAL));
	cr_assert(eq(int, pf_guest_merge(&m, NULL, &a, &b), PF_EINVAL));
	cr_assert(eq(int, pf_guest_unmerge(tdb, &ghost), PF_ENOTFOUND));
	cr_assert(eq(int, pf_guest_unmerge(tdb, &zero), PF_EINVAL));
	cr_assert(eq(int, pf_guest_unmerge(NULL, &ghost), PF_EINVAL));

	snap after = take_snap();
	cr_assert(snap_eq(&before, &after), "a refused merge changed stored data");
	free(before.b);
	free(after.b);
}

Test(merge, unmerge_restores_byte_for_byte)
{
	pf_id keep = mg_guest("Grace Ho", "grace@example.com", "+852 9123 4567", "PL-77", 0);
	pf_id dup = mg_guest("Grace  HO", "g.ho@example.com", "+852 9123 4567", NULL, 19800202);
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t", merge_rules, strlen(merge_rules), &err));
	mg_pref(&keep, "room.floor", "3", PF_LIKE, T0 - 100, NULL);
	mg_pref(&dup, "room.floor", "3", PF_LIKE, T0 - 50, "repeat");
	mg_pref(&dup, "amenity.flower", "orchid", PF_LIKE, T0 - 50, NULL);
	mg_stay(&keep, 20250101, 20250104, "11");
	mg_stay(&dup, 20250101, 20250102, "12");
	mg_stay(&dup, 20250601, 20250605, "13");
	pf_prompt_list *pl = mg_fire(&dup, "res-g-1");
	pf_prompt_list_free(pl);
	pl = mg_fire(&keep, "res-g-2");
	pf_prompt_list_free(pl);
	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = dup;
	fb.kind = PF_FEEDBACK_SUGGESTION;
	fb.department = "restaurant";
	fb.category = "food";
	fb.text = "More vegetarian dishes";
	fb.severity = 1;
	fb.recorded_by = "ana";
	assert_ok(pf_feedback_add(tdb, &fb, NULL));

	size_t klen = 0, dlen = 0;
	unsigned char *kraw = raw_get(tdb, PF_DBI_GUEST, keep.b, 16, &klen), *draw = raw_get(tdb, PF_DBI_GUEST, dup.b, 16, &dlen);
	snap before = take_snap();

	pf_id m;
	tclock += 3600;
	assert_ok(pf_guest_merge(&m, tdb, &keep, &dup));
	snap merged = take_snap();
	cr_assert(eq(int, snap_eq(&before, &merged), 0));
	free(merged.b);

	tclock += 3600;
	assert_ok(pf_guest_unmerge(tdb, &m));
	snap after = take_snap();
	size_t klen2 = 0, dlen2 = 0;
	unsigned char *kraw2 = raw_get(tdb, PF_DBI_GUEST, keep.b, 16, &klen2), *draw2 = raw_get(tdb, PF_DBI_GUEST, dup.b, 16, &dlen2);
	cr_assert(kraw2 != NULL && draw2 != NULL);
	cr_assert(eq(sz, klen2, klen));
	cr_assert(eq(int, memcmp(kraw, kraw2, klen), 0), "keep's record differs");
	cr_assert(eq(sz, dlen2, dlen));
	cr_assert(eq(int, memcmp(draw, draw2, dlen), 0), "the duplicate's record differs");
	/* guest, contact, name, stay, prompt, queue, event, feedback: all equal. */
	cr_assert(snap_eq(&before, &after), "unmerge did not restore every record");

	cr_assert(eq(int, pf_guest_unmerge(tdb, &m), PF_ENOTFOUND), "unmerge twice");
	cr_assert(eq(sz, journal_count(&keep, "guest.unmerge"), 1));
	cr_assert(eq(sz, journal_count(&dup, "guest.unmerge"), 1));
	free(before.b);
	free(after.b);
	free(kraw);
	free(draw);
	free(kraw2);
	free(draw2);
}

Test(merge, unmerge_after_keep_changed_is_three_way)
{
	pf_id keep = mg_guest("Omar Haddad", "omar@example.com", NULL, NULL, 0);
	pf_id dup = mg_guest("Omar Hadad", NULL, "+971 50 123 4567", NULL, 0);
	mg_pref(&keep, "room.floor", "5", PF_LIKE, T0 - 100, NULL);
	mg_pref(&dup, "room.floor", "20", PF_LIKE, T0 - 10, NULL);
	mg_pref(&dup, "room.view", "sea", PF_LIKE, T0 - 10, NULL);
	mg_pref(&dup, "minibar.drink", "cola", PF_LIKE, T0 - 10, NULL);
	size_t dlen = 0;
	unsigned char *draw = raw_get(tdb, PF_DBI_GUEST, dup.b, 16, &dlen);

	pf_id m;
	assert_ok(pf_guest_merge(&m, tdb, &keep, &dup));
	/* After the merge, staff record an allergy and change the view. */
	tclock += 60;
	mg_pref(&keep, "diet.gluten", "coeliac", PF_NEED, 0, NULL);
	mg_pref(&keep, "room.view", "garden", PF_LIKE, 0, NULL);
	mg_stay(&keep, 20260101, 20260103, NULL);

	assert_ok(pf_guest_unmerge(tdb, &m));
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &keep));
	cr_assert(eq(sz, g->pref_count, 3));
	cr_assert(eq(str, (char *)g->prefs[0].category, "diet.gluten"), "later need kept");
	cr_assert(eq(str, (char *)g->prefs[1].value, "5"), "floor back to keep's own");
	cr_assert(eq(str, (char *)g->prefs[2].value, "garden"), "later change kept");
	cr_assert(g->phone == NULL, "phone taken from the duplicate goes back");
	cr_assert(eq(u32, g->stays, 1));
	pf_guest_free(g);
	size_t dlen2 = 0;
	unsigned char *draw2 = raw_get(tdb, PF_DBI_GUEST, dup.b, 16, &dlen2);
	cr_assert(draw2 != NULL && dlen2 == dlen && memcmp(draw, draw2, dlen) == 0,
	          "the duplicate comes back byte for byte");
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "+971 50 123 4567"));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(int, memcmp(l->items[0]->id.b, dup.b, 16), 0));
	pf_guest_list_free(l);
	free(draw);
	free(draw2);
}

Test(merge, unmerge_refused_while_keep_is_merged_away)
{
	pf_id a = mg_guest("Ivan Petrov", "ivan@example.com", NULL, NULL, 0);
	pf_id b = mg_guest("Ivan Petrov", "ip@example.com", NULL, NULL, 0);
	pf_id c = mg_guest("I. Petrov", "petrov@example.com", NULL, NULL, 0);
	pf_id m1, m2;
	assert_ok(pf_guest_merge(&m1, tdb, &b, &a));   /* a into b */
	assert_ok(pf_guest_merge(&m2, tdb, &c, &b));   /* b into c */
	cr_assert(eq(int, pf_guest_unmerge(tdb, &m1), PF_EEXIST));
	cr_assert(strstr(pf_errmsg(), "undo that merge first") != NULL, "%s", pf_errmsg());
	assert_ok(pf_guest_unmerge(tdb, &m2));
	assert_ok(pf_guest_unmerge(tdb, &m1));
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &a));
	cr_assert(eq(str, (char *)g->email, "ivan@example.com"));
	pf_guest_free(g);
	assert_ok(pf_guest_get(&g, tdb, &b));
	cr_assert(eq(str, (char *)g->email, "ip@example.com"));
	pf_guest_free(g);
}

Test(merge, merge_record_codec_round_trip)
{
	pf_merge_rec m, d;
	memset(&m, 0, sizeof m);
	pf_id_generate(&m.keep);
	pf_id_generate(&m.dup);
	m.time = T0;
	unsigned char kb[] = { 0x81, 0xa1, 'v', 1 }, st[] = { 1, 2, 3 };
	m.keep_before = (pf_merge_blob){ kb, sizeof kb };
	m.keep_after = (pf_merge_blob){ kb, sizeof kb };
	m.dup_before = (pf_merge_blob){ kb, sizeof kb };
	pf_merge_stay s = { 20250101, true, st, sizeof st };
	m.stays = &s;
	m.stay_count = 1;
	pf_id p;
	pf_id_generate(&p);
	m.prompts = &p;
	m.prompt_count = 1;
	pf_merge_blob ev = { (unsigned char *)"res-1", 5 };
	m.events = &ev;
	m.event_count = 1;

	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_merge_encode(&sb, &m));
	assert_ok(pf_codec_merge_decode(&d, sb.data, sb.size));
	cr_assert(eq(int, memcmp(d.keep.b, m.keep.b, 16), 0));
	cr_assert(eq(sz, d.stay_count, 1));
	cr_assert(eq(int, d.stays[0].arrival, 20250101));
	cr_assert(d.stays[0].moved);
	cr_assert(eq(sz, d.event_count, 1));
	cr_assert(eq(int, memcmp(d.events[0].data, "res-1", 5), 0));
	cr_assert(eq(sz, d.feedback_count, 0));
	pf_merge_rec_clear(&d);
	/* Truncated: refused, nothing leaked. */
	cr_assert(eq(int, pf_codec_merge_decode(&d, sb.data, sb.size - 3), PF_ECORRUPT));
	msgpack_sbuffer_destroy(&sb);
}
