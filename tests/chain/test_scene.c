/* test_scene.c — the seed scene across two hotels of a chain: what Macau
 * learned about a guest serves her at Lisbon.  Macau's staff observe
 * her preferences (room floor 10, lilies, chili-oil sauce) and she stays
 * there; the chain syncs; she reserves and checks in at Lisbon, whose
 * own rule book (loaded at Lisbon only) prompts the front desk,
 * housekeeping and the restaurant, and welcomes her back because of the
 * stay made in Macau. */
#include "chain_util.h"
#include "natsd.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

static natsd srv;
static chain ch;
static const char *const names[] = { "macau", "lisbon" };
enum { MACAU, LISBON };

static void up(void)
{
	cr_assert(eq(int, natsd_start(&srv), 0), "cannot start nats-server");
	cr_assert(eq(int, chain_open(&ch, 2, names, NULL, srv.url, "grand"), 0), "%s", pf_errmsg());
}

static void down(void)
{
	chain_close(&ch);
	natsd_destroy(&srv);
}

TestSuite(scene, .init = up, .fini = down, .timeout = 60);

static const char lisbon_rules[] =
	"rule floor\n"
	"  on reservation, check_in\n"
	"  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"\n"
	"rule flowers\n"
	"  on check_in\n"
	"  when pref amenity.flower\n"
	"  notify housekeeping normal \"Place fresh {pref amenity.flower} in room {room}\"\n"
	"\n"
	"rule sauce\n"
	"  on check_in\n"
	"  when pref dining.sauce\n"
	"  notify restaurant normal \"Have {pref dining.sauce} ready for {name}\"\n"
	"\n"
	"rule welcome-back\n"
	"  on check_in\n"
	"  when stays >= 1\n"
	"  notify front_desk normal \"Welcome back, {name}: stay number {stays + 1}\"\n";

static void observe(pf_db *db, const pf_id *g, const char *dept, const char *cat, const char *val,
                    pf_pref_kind kind)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = dept;
	o.staff = "Ana";
	cr_assert(eq(int, pf_pref_set(db, g, cat, val, &o), 0), "%s", pf_errmsg());
}

static int has_prompt(const pf_prompt_list *l, const char *dept, const char *text)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].department, dept) == 0 && strcmp(l->items[i].text, text) == 0)
			return 1;
	return 0;
}

static void dump(const pf_prompt_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		cr_log_info("prompt %s: %s", l->items[i].department, l->items[i].text);
}

Test(scene, what_macau_learned_serves_the_guest_at_lisbon)
{
	pf_db *macau = ch.p[MACAU].db, *lisbon = ch.p[LISBON].db;
	pf_rule_error err;
	cr_assert(eq(int, pf_rules_load(lisbon, "lisbon.rules", lisbon_rules, strlen(lisbon_rules), &err), 0),
	          "%s", pf_errmsg());

	/* Macau: the guest, what staff noticed, a stay. */
	pf_guest g = PF_GUEST_INIT;
	g.name = "Zhang Wei";
	g.email = "zw@example.com";
	g.language = "zh";
	g.tier = PF_TIER_GOLD;
	cr_assert(eq(int, pf_guest_put(macau, &g), 0), "%s", pf_errmsg());
	observe(macau, &g.id, "front_desk", "room.floor", "10", PF_LIKE);
	observe(macau, &g.id, "front_desk", "room.floor", "10", PF_LIKE);
	observe(macau, &g.id, "housekeeping", "amenity.flower", "lily", PF_LIKE);
	observe(macau, &g.id, "restaurant", "dining.sauce", "chili oil", PF_LIKE);
	pf_stay st = PF_STAY_INIT;
	st.guest = g.id;
	st.property = "MFM1";
	st.room = "1012";
	st.arrival = 20261101;
	st.departure = 20261104;
	cr_assert(eq(int, pf_stay_add(macau, &st), 0), "%s", pf_errmsg());

	/* Before the chain syncs, Lisbon knows nothing of her. */
	pf_guest *at = NULL;
	cr_assert(eq(int, pf_guest_get(&at, lisbon, &g.id), PF_ENOTFOUND));
	cr_assert(gt(int, chain_sync_quiet(&ch, 20), 0), "%s", pf_errmsg());

	cr_assert(eq(int, pf_guest_get(&at, lisbon, &g.id), 0), "%s", pf_errmsg());
	cr_assert(eq(str, (char *)at->name, "Zhang Wei"));
	cr_assert(ge(u32, at->stays, 1));
	cr_assert(eq(sz, at->pref_count, 3));
	pf_guest_free(at);
	pf_pref *p = NULL;
	cr_assert(eq(int, pf_pref_get(&p, lisbon, &g.id, "room.floor"), 0), "%s", pf_errmsg());
	cr_assert(eq(u32, p->count, 2));
	pf_pref_free(p);

	/* Lisbon: the reservation, then the check-in. */
	pf_event ev = PF_EVENT_INIT;
	ev.id = "LIS-RES-1";
	ev.kind = PF_EVENT_RESERVATION;
	ev.guest = g.id;
	ev.arrival = 20261201;
	ev.departure = 20261205;
	pf_prompt_list *l = NULL;
	cr_assert(eq(int, pf_fire(&l, lisbon, &ev), 0), "%s", pf_errmsg());
	dump(l);
	cr_assert(has_prompt(l, "front_desk", "Assign a room on floor 10"));
	pf_prompt_list_free(l);

	ev.id = "LIS-CI-1";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.room = "1010";
	cr_assert(eq(int, pf_fire(&l, lisbon, &ev), 0), "%s", pf_errmsg());
	dump(l);
	cr_assert(has_prompt(l, "front_desk", "Assign a room on floor 10"));
	cr_assert(has_prompt(l, "housekeeping", "Place fresh lily in room 1010"));
	cr_assert(has_prompt(l, "restaurant", "Have chili oil ready for Zhang Wei"));
	cr_assert(has_prompt(l, "front_desk", "Welcome back, Zhang Wei: stay number 2"));
	pf_prompt_list_free(l);

	/* Each department's work list at Lisbon has its prompt; Macau, with
	 * no rule book, has none: prompts stay where they were made. */
	const char *depts[] = { "front_desk", "housekeeping", "restaurant" };
	for (int i = 0; i < 3; i++) {
		cr_assert(eq(int, pf_prompts_pending(&l, lisbon, depts[i]), 0), "%s", pf_errmsg());
		cr_assert(gt(sz, l->count, 0), "no prompt for %s at Lisbon", depts[i]);
		pf_prompt_list_free(l);
		cr_assert(eq(int, pf_prompts_pending(&l, macau, depts[i]), 0), "%s", pf_errmsg());
		cr_assert(eq(sz, l->count, 0), "a prompt for %s at Macau", depts[i]);
		pf_prompt_list_free(l);
	}

	/* The Lisbon stay comes back to Macau: both count two. */
	cr_assert(gt(int, chain_sync_quiet(&ch, 20), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_get(&at, macau, &g.id), 0), "%s", pf_errmsg());
	cr_assert(eq(u32, at->stays, 2));
	pf_guest_free(at);
	int which = -1;
	cr_assert(eq(int, chain_digests_equal(&ch, &which), 1), "property %d differs", which);
}
