/* test_guest.c — guest profiles: create/get/update round trips, the contact
 * and name indexes through pf_guest_find, argument checking, persistence,
 * and map growth under many guests. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(guest, .init = db_setup, .fini = db_teardown, .timeout = 60);

static bool g_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static pf_guest *g_get(pf_id id)
{
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &id));
	cr_assert(g != NULL);
	return g;
}

/* Number of guests pf_guest_find returns for `q`; *first gets the first id. */
static size_t g_find(const char *q, pf_id *first)
{
	pf_guest_list *l = NULL;
	int rc = pf_guest_find(&l, tdb, q);
	cr_assert(eq(int, rc, 0), "find(%s): %s", q, pf_errmsg());
	cr_assert(l != NULL);
	size_t n = l->count;
	if (first && n)
		*first = l->items[0]->id;
	pf_guest_list_free(l);
	return n;
}

/* Whether `id` is among the guests found by `q`. */
static bool g_found(const char *q, pf_id id)
{
	pf_guest_list *l = NULL;
	int rc = pf_guest_find(&l, tdb, q);
	cr_assert(eq(int, rc, 0), "find(%s): %s", q, pf_errmsg());
	bool hit = false;
	for (size_t i = 0; i < l->count; i++)
		if (memcmp(l->items[i]->id.b, id.b, 16) == 0)
			hit = true;
	pf_guest_list_free(l);
	return hit;
}

static bool g_same_id(pf_id a, pf_id b)
{
	return memcmp(a.b, b.b, 16) == 0;
}

Test(guest, create_and_get_round_trip)
{
	static const char *const tags[] = { "advertising", "repeat_guest" };
	pf_guest g = PF_GUEST_INIT;
	g.name = "Zhuang Wei";
	g.email = "zw@example.com";
	g.phone = "+853 6123 4567";
	g.language = "zh";
	g.loyalty_no = "GX-88123";
	g.birth_date = 19850612;
	g.tier = PF_TIER_GOLD;
	g.tags = tags;
	g.tag_count = 2;
	g.consent = PF_CONSENT_PROFILING | PF_CONSENT_MARKETING;
	assert_ok(pf_guest_put(tdb, &g));
	cr_assert(pf_id_is_zero(&g.id) == 0, "put must write the new id back");

	pf_guest *r = g_get(g.id);
	cr_assert(g_same_id(r->id, g.id));
	cr_assert(eq(str, (char *)r->name, "Zhuang Wei"));
	cr_assert(eq(str, (char *)r->email, "zw@example.com"));
	cr_assert(eq(str, (char *)r->phone, "+853 6123 4567"));
	cr_assert(eq(str, (char *)r->language, "zh"));
	cr_assert(eq(str, (char *)r->loyalty_no, "GX-88123"));
	cr_assert(eq(i32, r->birth_date, 19850612));
	cr_assert(eq(int, r->tier, PF_TIER_GOLD));
	cr_assert(eq(sz, r->tag_count, 2));
	cr_assert(eq(str, (char *)r->tags[0], "advertising"));
	cr_assert(eq(str, (char *)r->tags[1], "repeat_guest"));
	cr_assert(eq(uint, r->consent, PF_CONSENT_PROFILING | PF_CONSENT_MARKETING));
	cr_assert(eq(i64, r->created, T0));
	cr_assert(eq(i64, r->updated, T0));
	cr_assert(eq(u32, r->stays, 0));
	cr_assert(eq(sz, r->pref_count, 0));
	pf_guest_free(r);
}

Test(guest, two_creates_get_distinct_ids)
{
	pf_id a = add_guest("Ana Lima", NULL, NULL);
	pf_id b = add_guest("Ana Lima", NULL, NULL);
	cr_assert(g_same_id(a, b) == false);
	cr_assert(eq(sz, g_find("ana lima", NULL), 2));
}

Test(guest, update_replaces_profile_keeps_read_only_fields)
{
	pf_id id = add_guest("Mei Chan", "mei@example.com", NULL);
	set_pref(&id, "room.floor", "10", PF_LIKE);
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = id, .arrival = 20261201, .departure = 20261205 };
	assert_ok(pf_stay_add(tdb, &s));

	tclock = T0 + 3600;
	pf_guest *g = g_get(id);
	pf_guest c = *g;   /* g owns its strings: change a copy */
	c.name = "Mei Chan-Wong";
	c.tier = PF_TIER_PLATINUM;
	c.language = NULL;
	/* read-only fields in the caller's struct are ignored */
	c.created = 1;
	c.stays = 99;
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);

	pf_guest *r = g_get(id);
	cr_assert(eq(str, (char *)r->name, "Mei Chan-Wong"));
	cr_assert(eq(int, r->tier, PF_TIER_PLATINUM));
	cr_assert(eq(str, (char *)r->email, "mei@example.com"));
	cr_assert(r->language == NULL);
	cr_assert(eq(i64, r->created, T0));
	cr_assert(eq(i64, r->updated, T0 + 3600));
	cr_assert(eq(u32, r->stays, 1));
	cr_assert(eq(sz, r->pref_count, 1));
	cr_assert(eq(str, (char *)r->prefs[0].category, "room.floor"));
	cr_assert(eq(str, (char *)r->prefs[0].value, "10"));
	pf_guest_free(r);
}

Test(guest, update_of_unknown_id_is_not_found_and_creates_nothing)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Ghost Guest";
	memset(g.id.b, 0x42, sizeof g.id.b);
	pf_id before = g.id;
	cr_assert(eq(int, pf_guest_put(tdb, &g), PF_ENOTFOUND));
	cr_assert(g_same_id(g.id, before));
	cr_assert(eq(sz, g_find("ghost", NULL), 0));
	pf_guest *r = (pf_guest *)0x1;
	cr_assert(eq(int, pf_guest_get(&r, tdb, &before), PF_ENOTFOUND));
	cr_assert(r == NULL);
}

Test(guest, get_rejects_bad_arguments)
{
	pf_id id = add_guest("Some One", NULL, NULL);
	pf_id zero = { { 0 } };
	pf_guest *r = (pf_guest *)0x1;
	cr_assert(eq(int, pf_guest_get(NULL, tdb, &id), PF_EINVAL));
	cr_assert(eq(int, pf_guest_get(&r, NULL, &id), PF_EINVAL));
	cr_assert(r == NULL);
	r = (pf_guest *)0x1;
	cr_assert(eq(int, pf_guest_get(&r, tdb, NULL), PF_EINVAL));
	cr_assert(r == NULL);
	cr_assert(eq(int, pf_guest_get(&r, tdb, &zero), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "pf_guest_get") != NULL);
}

Test(guest, find_email_is_case_insensitive)
{
	pf_id id = add_guest("Zhuang Wei", "Zw@Example.COM", NULL);
	pf_id got;
	cr_assert(eq(sz, g_find("zw@example.com", &got), 1));
	cr_assert(g_same_id(got, id));
	cr_assert(eq(sz, g_find("ZW@EXAMPLE.COM", NULL), 1));
	cr_assert(eq(sz, g_find("  zw@example.com ", NULL), 1));
	/* an e-mail query is an exact look-up, never a prefix */
	cr_assert(eq(sz, g_find("zw@example.co", NULL), 0));
	/* and never a name search */
	cr_assert(eq(sz, g_find("zhuang@", NULL), 0));
}

Test(guest, find_phone_counts_only_digits)
{
	pf_id id = add_guest("Lei Fong", NULL, "+853 6123-4567");
	pf_id got;
	cr_assert(eq(sz, g_find("85361234567", &got), 1));
	cr_assert(g_same_id(got, id));
	cr_assert(eq(sz, g_find("+853 (6123) 4567", NULL), 1));
	cr_assert(eq(sz, g_find("6123-4567", NULL), 0), "phone match is exact, not a suffix");

	pf_id id2 = add_guest("Ana Reis", NULL, "85361234567");
	cr_assert(eq(sz, g_find("+853 6123 4567", NULL), 2));
	cr_assert(g_found("+853 6123 4567", id2));
}

Test(guest, find_loyalty_number_case_insensitive)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Jo Park";
	g.loyalty_no = "GX-1234";
	assert_ok(pf_guest_put(tdb, &g));
	pf_id got;
	cr_assert(eq(sz, g_find("gx-1234", &got), 1));
	cr_assert(g_same_id(got, g.id));
	cr_assert(eq(sz, g_find("GX-1234", NULL), 1));
	cr_assert(eq(sz, g_find("GX-123", NULL), 0));
}

Test(guest, find_name_prefix_and_word_starts)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	add_guest("Ana Lima", NULL, NULL);
	const char *hits[] = { "zhu", "Zhu", "ZHUANG", "zhuang w", "Zhuang Wei", "wei", "WE",
	                       "  zhuang   wei  " };
	for (size_t i = 0; i < sizeof hits / sizeof *hits; i++) {
		pf_id got;
		cr_assert(eq(sz, g_find(hits[i], &got), 1), "query '%s'", hits[i]);
		cr_assert(g_same_id(got, id), "query '%s'", hits[i]);
	}
	const char *misses[] = { "hua", "ei", "zhuangwei", "wei zhuang", "zhuang wei x" };
	for (size_t i = 0; i < sizeof misses / sizeof *misses; i++)
		cr_assert(eq(sz, g_find(misses[i], NULL), 0), "query '%s'", misses[i]);
}

Test(guest, find_chinese_name_by_prefix)
{
	pf_id id = add_guest("莊偉", NULL, NULL);
	pf_id got;
	cr_assert(eq(sz, g_find("莊", &got), 1));
	cr_assert(g_same_id(got, id));
	cr_assert(eq(sz, g_find("莊偉", NULL), 1));
	cr_assert(eq(sz, g_find("偉", NULL), 0), "a name without spaces is one word");
}

Test(guest, find_accented_name_ignores_case_and_accents)
{
	pf_id id = add_guest("Élodie Durand", NULL, NULL);
	const char *hits[] = { "élo", "ELO", "Élo", "ÉLODIE", "elodie d", "durand", "E\xcc\x81lo" };
	for (size_t i = 0; i < sizeof hits / sizeof *hits; i++)
		cr_assert(g_found(hits[i], id), "query '%s'", hits[i]);
	cr_assert(eq(sz, g_find("elu", NULL), 0));

	pf_id id2 = add_guest("Jürgen Groß", NULL, NULL);
	cr_assert(g_found("jurgen", id2));
	cr_assert(g_found("GROSS", id2));
	cr_assert(g_found("groß", id2));
}

Test(guest, find_hyphenated_name_parts)
{
	pf_id id = add_guest("Jean-Luc Picard", NULL, NULL);
	cr_assert(g_found("jean-luc", id));
	cr_assert(g_found("luc", id));
	cr_assert(g_found("picard", id));
}

Test(guest, find_without_match_is_empty_list)
{
	add_guest("Zhuang Wei", "zw@example.com", "+853 6123 4567");
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "nobody"));
	cr_assert(l != NULL);
	cr_assert(eq(sz, l->count, 0));
	pf_guest_list_free(l);
	cr_assert(eq(sz, g_find("nobody@example.com", NULL), 0));
	cr_assert(eq(sz, g_find("99999999", NULL), 0));
}

Test(guest, find_returns_full_guests_with_prefs)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&id, "room.facing", "west", PF_LIKE);
	set_pref(&id, "amenity.flower", "lily", PF_LIKE);
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "zhu"));
	cr_assert(eq(sz, l->count, 1));
	pf_guest *g = l->items[0];
	cr_assert(g_same_id(g->id, id));
	cr_assert(eq(str, (char *)g->name, "Zhuang Wei"));
	cr_assert(eq(sz, g->pref_count, 2));
	cr_assert(eq(str, (char *)g->prefs[0].category, "amenity.flower"));
	cr_assert(eq(str, (char *)g->prefs[1].value, "west"));
	pf_guest_list_free(l);
}

Test(guest, find_contact_matches_first_and_deduplicates)
{
	/* "beta" is A's loyalty number and the start of B's name */
	pf_guest a = PF_GUEST_INIT;
	a.name = "Alpha Test";
	a.loyalty_no = "beta";
	assert_ok(pf_guest_put(tdb, &a));
	pf_id b = add_guest("Aardvark Beta", NULL, NULL);
	pf_id c = add_guest("Beta Smith", NULL, NULL);

	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "beta"));
	cr_assert(eq(sz, l->count, 3));
	cr_assert(g_same_id(l->items[0]->id, a.id), "the contact match comes first");
	/* name matches in key order: "beta\0<b>" < "beta smith\0<c>" */
	cr_assert(g_same_id(l->items[1]->id, b));
	cr_assert(g_same_id(l->items[2]->id, c));
	pf_guest_list_free(l);

	/* a guest matching by loyalty and by name (twice) is listed once */
	pf_guest d = PF_GUEST_INIT;
	d.name = "Gamma Gamma";
	d.loyalty_no = "gamma";
	assert_ok(pf_guest_put(tdb, &d));
	cr_assert(eq(sz, g_find("gamma", NULL), 1));
}

Test(guest, find_stops_at_limit)
{
	char name[32];
	for (int i = 0; i < PF_FIND_LIMIT + 20; i++) {
		snprintf(name, sizeof name, "Lim %03d", i);
		add_guest(name, NULL, NULL);
	}
	cr_assert(eq(sz, g_find("lim", NULL), PF_FIND_LIMIT));
	pf_guest_list *l = NULL;
	assert_ok(pf_guest_find(&l, tdb, "lim"));
	/* in name order: the first is "lim 000" */
	cr_assert(eq(str, (char *)l->items[0]->name, "Lim 000"));
	cr_assert(eq(str, (char *)l->items[PF_FIND_LIMIT - 1]->name, "Lim 099"));
	pf_guest_list_free(l);
}

Test(guest, find_rejects_bad_queries)
{
	add_guest("Zhuang Wei", NULL, NULL);
	char big[PF_NAME_MAX + 2];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	const char *bad[] = { NULL, "", "   ", "\xff", "zh\xc3", big };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		pf_guest_list *l = (pf_guest_list *)0x1;
		cr_assert(eq(int, pf_guest_find(&l, tdb, bad[i]), PF_EINVAL), "query %zu", i);
		cr_assert(l == NULL);
		cr_assert(strstr(pf_errmsg(), "pf_guest_find") != NULL);
	}
	pf_guest_list *l = NULL;
	cr_assert(eq(int, pf_guest_find(NULL, tdb, "zhu"), PF_EINVAL));
	cr_assert(eq(int, pf_guest_find(&l, NULL, "zhu"), PF_EINVAL));
}

Test(guest, changing_email_moves_the_index)
{
	pf_id id = add_guest("Ana Lima", "ana@old.example", NULL);
	pf_guest *g = g_get(id);
	pf_guest c = *g;   /* g owns its strings: change a copy */
	c.email = "Ana@New.Example";
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);
	cr_assert(eq(sz, g_find("ana@old.example", NULL), 0), "old e-mail must be gone");
	cr_assert(g_found("ana@new.example", id));

	g = g_get(id);
	c = *g;
	c.email = NULL;
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);
	cr_assert(eq(sz, g_find("ana@new.example", NULL), 0), "removed e-mail must be gone");
}

Test(guest, changing_phone_and_loyalty_moves_the_index)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Ana Lima";
	g.phone = "+1 (555) 010-2030";
	g.loyalty_no = "LY-1";
	assert_ok(pf_guest_put(tdb, &g));
	cr_assert(g_found("15550102030", g.id));
	cr_assert(g_found("ly-1", g.id));

	g.phone = "+44 20 7946 0000";
	g.loyalty_no = "LY-2";
	assert_ok(pf_guest_put(tdb, &g));
	cr_assert(eq(sz, g_find("15550102030", NULL), 0));
	cr_assert(eq(sz, g_find("ly-1", NULL), 0));
	cr_assert(g_found("442079460000", g.id));
	cr_assert(g_found("LY-2", g.id));

	/* the phone formatted differently but with the same digits keeps one key */
	g.phone = "442079460000";
	assert_ok(pf_guest_put(tdb, &g));
	cr_assert(g_found("+44 20 7946 0000", g.id));
}

Test(guest, changing_name_moves_the_index)
{
	pf_id id = add_guest("Zhuang Wei", NULL, NULL);
	pf_id other = add_guest("Wei Ling", NULL, NULL);
	pf_guest *g = g_get(id);
	pf_guest c = *g;
	c.name = "Chan Tai Man";
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);
	cr_assert(eq(sz, g_find("zhuang", NULL), 0));
	cr_assert(g_found("wei", id) == false, "every word key of the old name must be gone");
	cr_assert(g_found("wei", other));
	cr_assert(g_found("chan", id));
	cr_assert(g_found("tai", id));
	cr_assert(g_found("man", id));
	cr_assert(g_found("tai man", id));
}

Test(guest, two_guests_share_an_email)
{
	/* a family sharing an address: the index keeps both */
	pf_id a = add_guest("Ana Lima", "family@example.com", NULL);
	pf_id b = add_guest("Rui Lima", "family@example.com", NULL);
	cr_assert(eq(sz, g_find("family@example.com", NULL), 2));
	pf_guest *g = g_get(a);
	pf_guest c = *g;
	c.email = "ana@example.com";
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);
	pf_id got;
	cr_assert(eq(sz, g_find("family@example.com", &got), 1));
	cr_assert(g_same_id(got, b));
}

/* Attempt an invalid put of `bad` over guest `id`; check PF_EINVAL and that
 * the stored guest still has its original name and e-mail. */
static void g_expect_rejected(pf_guest *bad, pf_id id, const char *what)
{
	bad->id = id;
	int rc = pf_guest_put(tdb, bad);
	cr_assert(eq(int, rc, PF_EINVAL), "%s: rc %d", what, rc);
	cr_assert(strstr(pf_errmsg(), "pf_guest_put") != NULL, "%s: %s", what, pf_errmsg());
	pf_guest *r = g_get(id);
	cr_assert(eq(str, (char *)r->name, "Kept Name"), "%s", what);
	cr_assert(g_streq(r->email, "kept@example.com"), "%s", what);
	cr_assert(eq(i64, r->updated, T0), "%s", what);
	pf_guest_free(r);
	/* the same as a create stores nothing */
	memset(&bad->id, 0, sizeof bad->id);
	cr_assert(eq(int, pf_guest_put(tdb, bad), PF_EINVAL), "%s (create)", what);
	cr_assert(pf_id_is_zero(&bad->id), "%s: id written back on failure", what);
}

Test(guest, put_rejects_bad_arguments_and_changes_nothing)
{
	pf_id id = add_guest("Kept Name", "kept@example.com", NULL);
	tclock = T0 + 60;

	char longname[PF_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';   /* 201 bytes */
	char longfield[PF_FIELD_MAX + 2];
	memset(longfield, 'b', sizeof longfield - 1);
	longfield[sizeof longfield - 1] = '\0';
	const char *badtag[] = { "Bad Tag" };
	const char *manytags[PF_TAGS_MAX + 1];
	for (size_t i = 0; i < PF_TAGS_MAX + 1; i++)
		manytags[i] = "vip";

	enum { V = PF_GUEST_VERSION };
	struct { const char *what; pf_guest g; } cases[] = {
		{ "NULL name", { .version = V, .name = NULL } },
		{ "empty name", { .version = V, .name = "" } },
		{ "blank name", { .version = V, .name = "   " } },
		{ "201-byte name", { .version = V, .name = longname } },
		{ "non-UTF-8 name", { .version = V, .name = "\xff" } },
		{ "email without @", { .version = V, .name = "N", .email = "nobody.example.com" } },
		{ "email @ first", { .version = V, .name = "N", .email = "@example.com" } },
		{ "email @ last", { .version = V, .name = "N", .email = "ana@" } },
		{ "email two @", { .version = V, .name = "N", .email = "a@b@c" } },
		{ "empty email", { .version = V, .name = "N", .email = "" } },
		{ "non-UTF-8 email", { .version = V, .name = "N", .email = "a\xc0@b" } },
		{ "short phone", { .version = V, .name = "N", .phone = "1234" } },
		{ "phone without digits", { .version = V, .name = "N", .phone = "call me" } },
		{ "long language", { .version = V, .name = "N", .language = longfield } },
		{ "empty loyalty", { .version = V, .name = "N", .loyalty_no = "" } },
		{ "bad birth date", { .version = V, .name = "N", .birth_date = 20260230 } },
		{ "unknown tier", { .version = V, .name = "N", .tier = (pf_tier)7 } },
		{ "bad tag", { .version = V, .name = "N", .tags = badtag, .tag_count = 1 } },
		{ "too many tags", { .version = V, .name = "N", .tags = manytags,
		                     .tag_count = PF_TAGS_MAX + 1 } },
		{ "tags NULL", { .version = V, .name = "N", .tags = NULL, .tag_count = 1 } },
		{ "unknown consent", { .version = V, .name = "N", .consent = 0x80 } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		g_expect_rejected(&cases[i].g, id, cases[i].what);

	cr_assert(eq(int, pf_guest_put(NULL, &cases[0].g), PF_EINVAL));
	cr_assert(eq(int, pf_guest_put(tdb, NULL), PF_EINVAL));
	/* nothing extra in the indexes either: "n" matches only "Kept Name"
	 * (through its word "name") */
	cr_assert(eq(sz, g_find("n", NULL), 1));
	cr_assert(eq(sz, g_find("aaaa", NULL), 0));
	cr_assert(eq(sz, g_find("kept", NULL), 1));
}

Test(guest, put_accepts_limits_exactly)
{
	char name[PF_NAME_MAX + 1];
	memset(name, 'x', PF_NAME_MAX);
	name[PF_NAME_MAX] = '\0';
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.phone = "12345";
	assert_ok(pf_guest_put(tdb, &g));
	cr_assert(g_found("12345", g.id));
	cr_assert(g_found("xxxxxxxx", g.id));
}

Test(guest, long_folded_name_is_indexed)
{
	/* U+FDFA folds to 18 characters: the folded name is far longer than
	 * the name, and longer than an LMDB key may be. */
	char name[PF_NAME_MAX + 1] = "";
	while (strlen(name) + 3 <= PF_NAME_MAX)
		strcat(name, "\xef\xb7\xba");
	pf_id id = add_guest(name, NULL, NULL);
	cr_assert(g_found("\xef\xb7\xba", id));
}

Test(guest, data_survives_reopen)
{
	pf_id id = add_guest("Zhuang Wei", "zw@example.com", "+853 6123 4567");
	set_pref(&id, "room.floor", "10", PF_LIKE);
	db_reopen();
	pf_guest *g = g_get(id);
	cr_assert(eq(str, (char *)g->name, "Zhuang Wei"));
	cr_assert(eq(sz, g->pref_count, 1));
	pf_guest_free(g);
	cr_assert(g_found("zw@example.com", id));
	cr_assert(g_found("85361234567", id));
	cr_assert(g_found("wei", id));
}

Test(guest, many_guests_grow_the_map)
{
	/* The fixture starts with a 1 MiB map; 2000 guests with prefs need
	 * several times that, so the map must grow transparently (checked
	 * below by the size of the file).  Each call is a durable commit, so
	 * the count is kept to what proves the growth. */
	enum { N = 2000 };
	pf_id *ids = malloc(N * sizeof *ids);
	cr_assert(ids != NULL);
	char name[64], email[64];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "Guest Number %05d", i);
		snprintf(email, sizeof email, "g%05d@example.com", i);
		ids[i] = add_guest(name, email, NULL);
		set_pref(&ids[i], "room.floor", "10", PF_LIKE);
		set_pref(&ids[i], "amenity.flower", "lily", PF_LIKE);
	}
	for (int i = 0; i < N; i++) {
		snprintf(email, sizeof email, "G%05d@EXAMPLE.COM", i);
		pf_guest_list *l = NULL;
		assert_ok(pf_guest_find(&l, tdb, email));
		cr_assert(eq(sz, l->count, 1), "guest %d", i);
		cr_assert(g_same_id(l->items[0]->id, ids[i]));
		cr_assert(eq(sz, l->items[0]->pref_count, 2), "guest %d", i);
		pf_guest_list_free(l);
	}
	snprintf(name, sizeof name, "number %05d", N - 1);
	cr_assert(g_found(name, ids[N - 1]));
	cr_assert(eq(sz, g_find("guest", NULL), PF_FIND_LIMIT));
	free(ids);
	size_t len = 0;
	free(read_data_file(tdir, &len));
	cr_assert(gt(sz, len, (size_t)1 << 20), "the map grew past 1 MiB (%zu bytes)", len);
}

Test(guest, read_only_database_reads_but_refuses_writes)
{
	pf_id id = add_guest("Zhuang Wei", "zw@example.com", NULL);
	set_pref(&id, "room.floor", "10", PF_LIKE);
	pf_close(tdb);
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	tdb = NULL;
	assert_ok(pf_open(&tdb, tdir, &o));

	cr_assert(g_found("zw@example.com", id));
	cr_assert(g_found("zhu", id));
	pf_guest *g = g_get(id);
	pf_guest c = *g;
	c.name = "Changed";
	cr_assert(eq(int, pf_guest_put(tdb, &c), PF_EREADONLY));
	pf_guest_free(g);
	pf_guest n = PF_GUEST_INIT;
	n.name = "New Guest";
	cr_assert(eq(int, pf_guest_put(tdb, &n), PF_EREADONLY));
	cr_assert(pf_id_is_zero(&n.id) != 0);
	cr_assert(eq(sz, g_find("changed", NULL), 0));
}
