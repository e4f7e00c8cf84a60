/* test_event.c — the stored rule book, firing events and previews. */
#include "helpers.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* One timeout for the whole suite, the same as the other suites: Criterion
 * (boxfort) leaks a record when a test with an earlier deadline starts
 * while a longer-timed one runs under --jobs, and LeakSanitizer then fails
 * `make check-asan`.  With equal timeouts deadlines follow start order,
 * which does not trigger it. */
TestSuite(event, .init = db_setup, .fini = db_teardown, .timeout = 60);

static const char BOOK[] =
	"# a small rule book\n"
	"rule floor-preference\n"
	"  on reservation, check_in\n"
	"  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"\n"
	"rule sichuan-food\n"
	"  on check_in\n"
	"  when pref dining.cuisine = sichuan\n"
	"  notify restaurant normal within 2h \"Suggest Sichuan dishes\"\n"
	"\n"
	"rule returning\n"
	"  on check_in\n"
	"  when stays >= 1\n"
	"  notify front_desk normal \"Welcome back, {name}: stay number {stays + 1}\"\n";

/* 2026-01-01 plus `i` days, as a pf_date. */
static pf_date ev_date_plus(int i)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = 2026, m = 0, d = i;
	for (;;) {
		int len = mdays[m] + (m == 1 && y % 4 == 0 ? 1 : 0);
		if (d < len)
			break;
		d -= len;
		if (++m == 12) {
			m = 0;
			y++;
		}
	}
	pf_date out = 0;
	assert_ok(pf_date_make(&out, y, m + 1, d + 1));
	return out;
}

static void ev_load(const char *text)
{
	pf_rule_error err;
	int rc = pf_rules_load(tdb, "test.rules", text, strlen(text), &err);
	cr_assert(eq(int, rc, 0), "pf_rules_load: %s", pf_errmsg());
}

static pf_event ev_make(const char *id, pf_event_kind kind, const pf_id *guest)
{
	pf_event e = PF_EVENT_INIT;
	e.id = id;
	e.kind = kind;
	e.guest = *guest;
	return e;
}

static pf_prompt_list *ev_fire(const char *id, pf_event_kind kind, const pf_id *guest)
{
	pf_event e = ev_make(id, kind, guest);
	pf_prompt_list *l = NULL;
	int rc = pf_fire(&l, tdb, &e);
	cr_assert(eq(int, rc, 0), "pf_fire(%s): %s", id, pf_errmsg());
	cr_assert(l != NULL);
	return l;
}

static size_t ev_pending_count(const char *dept)
{
	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_pending(&l, tdb, dept));
	size_t n = l->count;
	pf_prompt_list_free(l);
	return n;
}

static uint64_t ev_seq(const char *dept)
{
	uint64_t s = 99;
	assert_ok(pf_prompts_seq(&s, tdb, dept));
	return s;
}

/* ---------------------------------------------------------- rule book */

Test(event, load_and_list_in_order)
{
	ev_load(BOOK);
	pf_rule_list *l = NULL;
	assert_ok(pf_rules_list(&l, tdb));
	cr_assert(eq(sz, l->count, 3));
	/* Book order, not the key order of the names. */
	cr_assert(eq(str, (char *)l->items[0].name, "floor-preference"));
	cr_assert(eq(str, (char *)l->items[1].name, "sichuan-food"));
	cr_assert(eq(str, (char *)l->items[2].name, "returning"));
	cr_assert(strncmp(l->items[0].source, "rule floor-preference", 21) == 0);
	cr_assert(strstr(l->items[0].source, "{pref room.floor}") != NULL);
	cr_assert(strstr(l->items[0].source, "sichuan") == NULL, "source runs into the next rule");
	cr_assert(strstr(l->items[2].source, "stay number {stays + 1}") != NULL);
	pf_rule_list_free(l);
}

Test(event, empty_book_lists_empty)
{
	pf_rule_list *l = NULL;
	assert_ok(pf_rules_list(&l, tdb));
	cr_assert(eq(sz, l->count, 0));
	pf_rule_list_free(l);
}

/* Issue 9: a book without rules is refused and the stored book stays;
 * removing every rule is pf_rules_clear, journaled. */
Test(event, book_without_rules_refused)
{
	ev_load(BOOK);
	pf_rule_list *l = NULL;
	assert_ok(pf_rules_list(&l, tdb));
	size_t before = l->count;
	pf_rule_list_free(l);
	cr_assert(gt(sz, before, 0));

	static const char *const empty[] = {
		"", "# nothing but a comment\n", "\n\n   \n# a\n# b",
	};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		pf_rule_error err;
		int rc = pf_rules_load(tdb, "test.rules", empty[i], strlen(empty[i]), &err);
		cr_assert(eq(int, rc, PF_ESYNTAX), "book %zu", i);
		cr_assert(strstr(pf_errmsg(), "the rule book defines no rules") != NULL, "%s",
		          pf_errmsg());
		cr_assert(strstr(err.message, "test.rules:") == err.message, "%s", err.message);
		cr_assert(gt(int, err.line, 0));
		assert_ok(pf_rules_list(&l, tdb));
		cr_assert(eq(sz, l->count, before), "the stored book is unchanged");
		pf_rule_list_free(l);
	}

	uint64_t seq0 = 0, seq1 = 0;
	assert_ok(pf_journal_last_seq(&seq0, tdb));
	assert_ok(pf_rules_clear(tdb));
	assert_ok(pf_rules_list(&l, tdb));
	cr_assert(eq(sz, l->count, 0));
	pf_rule_list_free(l);
	assert_ok(pf_journal_last_seq(&seq1, tdb));
	cr_assert(eq(u64, seq1, seq0 + 1), "pf_rules_clear is journaled");
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_iter(&it, tdb, seq0, NULL));
	assert_ok(pf_journal_next(&e, it));
	cr_assert(eq(str, (char *)e->op, "rules.clear"));
	cr_assert(eq(sz, e->field_count, 1));
	char n[24];
	snprintf(n, sizeof n, "%zu", before);
	cr_assert(eq(str, (char *)e->fields[0].value, n));
	pf_journal_iterator_free(it);

	assert_ok(pf_rules_clear(tdb));   /* clearing an empty book succeeds */
	cr_assert(eq(int, pf_rules_clear(NULL), PF_EINVAL));
}

Test(event, reload_replaces_book)
{
	ev_load(BOOK);
	ev_load("rule only-one\n  on check_out\n  notify housekeeping low \"Strip the room\"\n");
	pf_rule_list *l = NULL;
	assert_ok(pf_rules_list(&l, tdb));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].name, "only-one"));
	pf_rule_list_free(l);
}

Test(event, syntax_error_keeps_old_book)
{
	ev_load(BOOK);
	const char bad[] = "rule broken\n  on check_in\n  notify\n";
	pf_rule_error err;
	int rc = pf_rules_load(tdb, "bad.rules", bad, strlen(bad), &err);
	cr_assert(eq(int, rc, PF_ESYNTAX));
	cr_assert(gt(int, err.line, 0));
	cr_assert(strncmp(err.message, "bad.rules:", 10) == 0, "%s", err.message);
	cr_assert(strstr(pf_errmsg(), "bad.rules:") != NULL, "%s", pf_errmsg());

	pf_rule_list *l = NULL;
	assert_ok(pf_rules_list(&l, tdb));
	cr_assert(eq(sz, l->count, 3), "the old book is intact");
	cr_assert(eq(str, (char *)l->items[0].name, "floor-preference"));
	pf_rule_list_free(l);

	/* And it is still what fires. */
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	pf_prompt_list *p = ev_fire("res-1", PF_EVENT_RESERVATION, &g);
	cr_assert(eq(sz, p->count, 1));
	cr_assert(eq(str, (char *)p->items[0].text, "Assign a room on floor 10"));
	pf_prompt_list_free(p);
}

Test(event, load_rejects_bad_arguments)
{
	cr_assert(eq(int, pf_rules_load(NULL, NULL, "", 0, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_rules_load(tdb, NULL, NULL, 0, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_rules_load(tdb, "\xff", BOOK, strlen(BOOK), NULL), PF_EINVAL));
	pf_rule_list *l = (pf_rule_list *)1;
	cr_assert(eq(int, pf_rules_list(&l, NULL), PF_EINVAL));
	cr_assert(l == NULL, "*out is cleared on failure");
	cr_assert(eq(int, pf_rules_list(NULL, tdb), PF_EINVAL));
	pf_rule_list_free(NULL);
}

Test(event, load_file_missing)
{
	char path[512];
	snprintf(path, sizeof path, "%s/no-such.rules", tdir);
	pf_rule_error err;
	cr_assert(eq(int, pf_rules_load_file(tdb, path, &err), PF_ENOTFOUND));
	cr_assert(strstr(pf_errmsg(), "no-such.rules") != NULL, "%s", pf_errmsg());
	cr_assert(eq(int, pf_rules_load_file(tdb, NULL, &err), PF_EINVAL));
	cr_assert(eq(int, pf_rules_load_file(tdb, tdir, &err), PF_EIO), "a directory");
}

static void ev_write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f != NULL);
	cr_assert(eq(sz, fwrite(data, 1, len, f), len));
	fclose(f);
}

Test(event, load_file_uses_path_as_name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/hotel.rules", tdir);
	ev_write_file(path, BOOK, strlen(BOOK));
	assert_ok(pf_rules_load_file(tdb, path, NULL));
	pf_rule_list *l = NULL;
	assert_ok(pf_rules_list(&l, tdb));
	cr_assert(eq(sz, l->count, 3));
	pf_rule_list_free(l);

	const char bad[] = "rule x\n  on checkin\n  notify front_desk high \"t\"\n";
	ev_write_file(path, bad, strlen(bad));
	pf_rule_error err;
	cr_assert(eq(int, pf_rules_load_file(tdb, path, &err), PF_ESYNTAX));
	cr_assert(strncmp(err.message, path, strlen(path)) == 0, "%s", err.message);
	cr_assert(eq(int, err.line, 2));
}

Test(event, load_file_too_big)
{
	char path[512];
	snprintf(path, sizeof path, "%s/big.rules", tdir);
	size_t n = ((size_t)1 << 20) + 1;
	char *buf = malloc(n);
	cr_assert(buf != NULL);
	memset(buf, '#', n);      /* one long comment: would parse if accepted */
	ev_write_file(path, buf, n);
	free(buf);
	cr_assert(eq(int, pf_rules_load_file(tdb, path, NULL), PF_EINVAL));
}

/* ---------------------------------------------------------- firing */

Test(event, kind_names_round_trip)
{
	const char *names[] = { "reservation", "check_in", "check_out", "room_change" };
	for (int k = PF_EVENT_RESERVATION; k <= PF_EVENT_ROOM_CHANGE; k++) {
		cr_assert(eq(str, (char *)pf_event_kind_name((pf_event_kind)k), (char *)names[k - 1]));
		pf_event_kind out = 0;
		assert_ok(pf_event_kind_parse(&out, names[k - 1]));
		cr_assert(eq(int, (int)out, k));
	}
	cr_assert(pf_event_kind_name((pf_event_kind)0) == NULL);
	cr_assert(pf_event_kind_name((pf_event_kind)99) == NULL);
	pf_event_kind out = PF_EVENT_CHECK_OUT;
	cr_assert(eq(int, pf_event_kind_parse(&out, "checkin"), PF_EINVAL));
	cr_assert(eq(int, pf_event_kind_parse(&out, "CHECK_IN"), PF_EINVAL));
	cr_assert(eq(int, (int)out, PF_EVENT_CHECK_OUT));
	cr_assert(eq(int, pf_event_kind_parse(NULL, "check_in"), PF_EINVAL));
}

Test(event, each_kind_fires_its_rules)
{
	ev_load("rule r1\n  on reservation\n  notify concierge normal \"reservation\"\n"
	        "rule r2\n  on check_in\n  notify front_desk normal \"check_in\"\n"
	        "rule r3\n  on check_out\n  notify housekeeping normal \"check_out\"\n"
	        "rule r4\n  on room_change\n  notify housekeeping high \"room_change\"\n"
	        "rule r5\n  on reservation, room_change\n  notify management low \"either\"\n");
	pf_id g = add_guest("Maria Rossi", NULL, NULL);
	const char *ids[] = { "e-res", "e-in", "e-out", "e-move" };
	const char *first[] = { "reservation", "check_in", "check_out", "room_change" };
	const size_t counts[] = { 2, 1, 1, 2 };
	for (int k = PF_EVENT_RESERVATION; k <= PF_EVENT_ROOM_CHANGE; k++) {
		pf_prompt_list *l = ev_fire(ids[k - 1], (pf_event_kind)k, &g);
		cr_assert(eq(sz, l->count, counts[k - 1]), "kind %d", k);
		cr_assert(eq(str, (char *)l->items[0].text, (char *)first[k - 1]));
		cr_assert(eq(str, (char *)l->items[0].event_id, (char *)ids[k - 1]));
		if (counts[k - 1] == 2)
			cr_assert(eq(str, (char *)l->items[1].rule, "r5"));
		for (size_t i = 0; i < l->count; i++) {
			cr_assert(pf_id_is_zero(&l->items[i].id) == 0);
			cr_assert(eq(int, l->items[i].status, PF_PROMPT_PENDING));
			cr_assert(memcmp(&l->items[i].guest, &g, sizeof g) == 0);
			cr_assert(eq(i64, l->items[i].created, T0));
		}
		pf_prompt_list_free(l);
	}
	cr_assert(eq(sz, ev_pending_count("management"), 2));
	cr_assert(eq(sz, ev_pending_count("housekeeping"), 2));
}

Test(event, idempotent_per_event_id)
{
	ev_load(BOOK);
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	set_pref(&g, "dining.cuisine", "sichuan", PF_LIKE);
	pf_prompt_list *a = ev_fire("res-881", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, a->count, 2));
	uint64_t seq = ev_seq("front_desk");

	/* The profile changes meanwhile: the repeat must not re-evaluate. */
	set_pref(&g, "room.floor", "12", PF_LIKE);
	tclock += 600;
	pf_prompt_list *b = ev_fire("res-881", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, b->count, 2));
	for (size_t i = 0; i < 2; i++) {
		cr_assert(memcmp(&a->items[i].id, &b->items[i].id, sizeof(pf_id)) == 0);
		cr_assert(eq(str, (char *)a->items[i].text, (char *)b->items[i].text));
		cr_assert(eq(u64, a->items[i].seq, b->items[i].seq));
	}
	cr_assert(eq(u64, ev_seq("front_desk"), seq));
	cr_assert(eq(sz, ev_pending_count("front_desk"), 1));
	cr_assert(eq(sz, ev_pending_count("restaurant"), 1));

	/* The repeat reports the prompts as they are now. */
	assert_ok(pf_prompt_ack(tdb, &a->items[0].id, "mei"));
	pf_prompt_list *c = ev_fire("res-881", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(int, c->items[0].status, PF_PROMPT_ACKNOWLEDGED));
	pf_stay_list *stays = NULL;
	assert_ok(pf_stay_list_get(&stays, tdb, &g));
	cr_assert(eq(sz, stays->count, 1), "the stay is recorded once");
	pf_stay_list_free(stays);
	pf_prompt_list_free(a);
	pf_prompt_list_free(b);
	pf_prompt_list_free(c);
}

Test(event, event_id_reused_elsewhere)
{
	ev_load(BOOK);
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id h = add_guest("Maria Rossi", NULL, NULL);
	set_pref(&h, "room.floor", "3", PF_LIKE);
	pf_prompt_list *l = ev_fire("res-1", PF_EVENT_RESERVATION, &g);
	pf_prompt_list_free(l);

	pf_event e = ev_make("res-1", PF_EVENT_RESERVATION, &h);
	l = (pf_prompt_list *)1;
	cr_assert(eq(int, pf_fire(&l, tdb, &e), PF_EEXIST));
	cr_assert(l == NULL);
	cr_assert(strstr(pf_errmsg(), "res-1") != NULL, "%s", pf_errmsg());
	cr_assert(strstr(pf_errmsg(), "another guest") != NULL, "%s", pf_errmsg());

	e = ev_make("res-1", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(int, pf_fire(&l, tdb, &e), PF_EEXIST));
	cr_assert(strstr(pf_errmsg(), "reservation") != NULL, "%s", pf_errmsg());
	cr_assert(eq(sz, ev_pending_count("front_desk"), 0), "nothing was stored for h");
	pf_stay_list *stays = NULL;
	assert_ok(pf_stay_list_get(&stays, tdb, &g));
	cr_assert(eq(sz, stays->count, 0), "the refused check-in recorded no stay");
	pf_stay_list_free(stays);
}

Test(event, preview_stores_nothing)
{
	ev_load(BOOK);
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	set_pref(&g, "access.hearing", "hard of hearing", PF_NEED);
	pf_event e = ev_make(NULL, PF_EVENT_CHECK_IN, &g);
	pf_prompt_list *l = NULL;
	assert_ok(pf_preview(&l, tdb, &e));
	cr_assert(eq(sz, l->count, 2));
	cr_assert(eq(str, (char *)l->items[0].text, "Assign a room on floor 10"));
	cr_assert(eq(str, (char *)l->items[1].rule, "need"));
	for (size_t i = 0; i < l->count; i++) {
		cr_assert(pf_id_is_zero(&l->items[i].id));
		cr_assert(eq(int, l->items[i].status, PF_PROMPT_PENDING));
		cr_assert(eq(u64, l->items[i].seq, 0));
	}
	cr_assert(eq(i64, l->items[0].due, T0 + 3600));
	pf_prompt_list_free(l);

	cr_assert(eq(sz, ev_pending_count("front_desk"), 0));
	cr_assert(eq(u64, ev_seq("front_desk"), 0));
	pf_stay_list *stays = NULL;
	assert_ok(pf_stay_list_get(&stays, tdb, &g));
	cr_assert(eq(sz, stays->count, 0), "a previewed check-in records no stay");
	pf_stay_list_free(stays);

	/* Preview with an id that is then fired: the fire does the work. */
	e.id = "res-9";
	assert_ok(pf_preview(&l, tdb, &e));
	pf_prompt_list_free(l);
	l = ev_fire("res-9", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, l->count, 2));
	pf_prompt_list_free(l);
	cr_assert(eq(sz, ev_pending_count("front_desk"), 2));
}

Test(event, preview_on_readonly_database)
{
	ev_load(BOOK);
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "room.floor", "7", PF_LIKE);
	pf_close(tdb);
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &o));

	pf_event e = ev_make("kiosk-1", PF_EVENT_CHECK_IN, &g);
	pf_prompt_list *l = NULL;
	assert_ok(pf_preview(&l, tdb, &e));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "Assign a room on floor 7"));
	pf_prompt_list_free(l);
	cr_assert(eq(int, pf_fire(&l, tdb, &e), PF_EREADONLY));
	cr_assert(eq(int, pf_rules_load(tdb, NULL, BOOK, strlen(BOOK), NULL), PF_EREADONLY));
}

Test(event, needs_always_routed)
{
	pf_id g = add_guest("Maria Rossi", NULL, NULL);
	set_pref(&g, "access.hearing", "hard of hearing", PF_NEED);
	/* No rule book was ever loaded. */
	pf_prompt_list *l = ev_fire("res-1", PF_EVENT_RESERVATION, &g);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].department, "front_desk"));
	cr_assert(eq(str, (char *)l->items[0].rule, "need"));
	cr_assert(eq(int, l->items[0].priority, PF_PRIORITY_HIGH));
	cr_assert(strstr(l->items[0].text, "access.hearing") != NULL, "%s", l->items[0].text);
	cr_assert(eq(i64, l->items[0].due, T0 + 3600), "high: due within an hour");
	pf_prompt_list_free(l);
	cr_assert(eq(sz, ev_pending_count("front_desk"), 1));

	/* Clearing the book later changes nothing about that. */
	assert_ok(pf_rules_clear(tdb));
	l = ev_fire("res-2", PF_EVENT_CHECK_OUT, &g);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].rule, "need"));
	pf_prompt_list_free(l);
}

Test(event, rule_order_then_needs_last)
{
	ev_load(BOOK);
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "allergy.peanuts", "severe", PF_NEED);
	set_pref(&g, "dining.cuisine", "sichuan", PF_LIKE);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	pf_prompt_list *l = ev_fire("in-1", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, l->count, 3));
	cr_assert(eq(str, (char *)l->items[0].rule, "floor-preference"));
	cr_assert(eq(str, (char *)l->items[1].rule, "sichuan-food"));
	cr_assert(eq(str, (char *)l->items[2].rule, "need"));
	cr_assert(lt(u64, l->items[0].seq, l->items[1].seq));
	cr_assert(lt(u64, l->items[1].seq, l->items[2].seq));
	pf_prompt_list_free(l);
}

Test(event, consent_withdrawn)
{
	ev_load(BOOK);
	pf_guest g = PF_GUEST_INIT;
	g.name = "Private Person";
	g.consent = 0;
	assert_ok(pf_guest_put(tdb, &g));
	set_pref(&g.id, "room.floor", "10", PF_LIKE);
	set_pref(&g.id, "dining.cuisine", "sichuan", PF_LIKE);
	set_pref(&g.id, "allergy.shellfish", "anaphylaxis", PF_NEED);
	pf_prompt_list *l = ev_fire("in-1", PF_EVENT_CHECK_IN, &g.id);
	cr_assert(eq(sz, l->count, 1), "likes give nothing without consent");
	cr_assert(eq(str, (char *)l->items[0].rule, "need"));
	cr_assert(strstr(l->items[0].text, "allergy.shellfish") != NULL);
	pf_prompt_list_free(l);
	cr_assert(eq(sz, ev_pending_count("restaurant"), 0));
}

Test(event, dislike_never_satisfies_pref)
{
	ev_load("rule feather\n  on check_in\n  when pref pillow.type = feather\n"
	        "  notify housekeeping normal \"Feather pillows\"\n"
	        "rule no-feather\n  on check_in\n  when dislike pillow.type = feather\n"
	        "  notify housekeeping high \"Replace feather pillows with foam\"\n");
	pf_id g = add_guest("Maria Rossi", NULL, NULL);
	set_pref(&g, "pillow.type", "feather", PF_DISLIKE);
	pf_prompt_list *l = ev_fire("in-1", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].rule, "no-feather"));
	cr_assert(eq(str, (char *)l->items[0].text, "Replace feather pillows with foam"));
	pf_prompt_list_free(l);
}

Test(event, check_in_records_stay_and_counts)
{
	ev_load(BOOK);
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_event e = ev_make("in-1", PF_EVENT_CHECK_IN, &g);
	e.room = "1012";
	e.property = "MFM1";
	e.party = 2;
	pf_prompt_list *l = NULL;
	assert_ok(pf_fire(&l, tdb, &e));
	cr_assert(eq(sz, l->count, 0), "first stay: not yet returning");
	pf_prompt_list_free(l);

	pf_stay_list *stays = NULL;
	assert_ok(pf_stay_list_get(&stays, tdb, &g));
	cr_assert(eq(sz, stays->count, 1));
	cr_assert(eq(i32, stays->items[0].arrival, 20261123), "defaults to the event's date");
	cr_assert(eq(i32, stays->items[0].departure, 20261124), "for one night");
	cr_assert(eq(str, (char *)stays->items[0].room, "1012"));
	cr_assert(eq(str, (char *)stays->items[0].property, "MFM1"));
	cr_assert(eq(u32, stays->items[0].party, 2));
	pf_stay_list_free(stays);

	/* A reservation records no stay. */
	l = ev_fire("res-2", PF_EVENT_RESERVATION, &g);
	pf_prompt_list_free(l);

	tclock += 30 * 86400;
	e = ev_make("in-2", PF_EVENT_CHECK_IN, &g);
	e.arrival = 20261223;
	e.departure = 20261226;
	assert_ok(pf_fire(&l, tdb, &e));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "Welcome back, Zhuang Wei: stay number 2"));
	pf_prompt_list_free(l);

	pf_guest *gg = NULL;
	assert_ok(pf_guest_get(&gg, tdb, &g));
	cr_assert(eq(u32, gg->stays, 2));
	pf_guest_free(gg);
	assert_ok(pf_stay_list_get(&stays, tdb, &g));
	cr_assert(eq(sz, stays->count, 2));
	cr_assert(eq(i32, stays->items[1].arrival, 20261223));
	cr_assert(eq(i32, stays->items[1].departure, 20261226));
	pf_stay_list_free(stays);
}

Test(event, due_from_within_and_default)
{
	ev_load("rule a\n  on check_in\n  notify housekeeping normal within 1h30m \"A\"\n"
	        "rule b\n  on check_in\n  notify concierge urgent \"B\"\n"
	        "rule c\n  on check_in\n  notify front_desk normal \"C\"\n"
	        "rule d\n  on check_in\n  notify restaurant low \"D\"\n");
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_event e = ev_make("in-1", PF_EVENT_CHECK_IN, &g);
	e.time = T0 - 7200;       /* the event happened two hours ago */
	pf_prompt_list *l = NULL;
	assert_ok(pf_fire(&l, tdb, &e));
	cr_assert(eq(sz, l->count, 4));
	for (size_t i = 0; i < 4; i++)
		cr_assert(eq(i64, l->items[i].created, T0 - 7200));
	cr_assert(eq(i64, l->items[0].due, T0 - 7200 + 5400));
	cr_assert(eq(i64, l->items[1].due, T0 - 7200 + 15 * 60));
	cr_assert(eq(i64, l->items[2].due, T0 - 7200 + 4 * 3600));
	cr_assert(eq(i64, l->items[3].due, T0 - 7200 + 24 * 3600));
	pf_prompt_list_free(l);

	/* Stored with the same times. */
	assert_ok(pf_prompts_pending(&l, tdb, "housekeeping"));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(i64, l->items[0].due, T0 - 7200 + 5400));
	pf_prompt_list_free(l);
}

Test(event, fire_rejects_bad_events)
{
	ev_load("rule any\n  on reservation, check_in\n  notify front_desk low \"hello\"\n");
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_id zero = { { 0 } };
	pf_prompt_list *l = (pf_prompt_list *)1;
	pf_event e = PF_EVENT_INIT;

	cr_assert(eq(int, pf_fire(NULL, tdb, &e), PF_EINVAL));
	cr_assert(eq(int, pf_fire(&l, tdb, NULL), PF_EINVAL));
	cr_assert(l == NULL);
	cr_assert(eq(int, pf_fire(&l, NULL, &e), PF_EINVAL));

	char longid[PF_FIELD_MAX + 2];
	memset(longid, 'x', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';

	struct { const char *what; pf_event e; } bad[12];
	size_t n = 0;
	bad[n].what = "no id"; bad[n++].e = ev_make(NULL, PF_EVENT_CHECK_IN, &g);
	bad[n].what = "empty id"; bad[n++].e = ev_make("", PF_EVENT_CHECK_IN, &g);
	bad[n].what = "long id"; bad[n++].e = ev_make(longid, PF_EVENT_CHECK_IN, &g);
	bad[n].what = "bad utf8 id"; bad[n++].e = ev_make("r\xc3", PF_EVENT_CHECK_IN, &g);
	bad[n].what = "kind"; bad[n++].e = ev_make("x", (pf_event_kind)9, &g);
	bad[n].what = "zero guest"; bad[n++].e = ev_make("x", PF_EVENT_CHECK_IN, &zero);
	bad[n].what = "version"; bad[n].e = ev_make("x", PF_EVENT_CHECK_IN, &g); bad[n++].e.version = 2;
	bad[n].what = "room"; bad[n].e = ev_make("x", PF_EVENT_CHECK_IN, &g); bad[n++].e.room = "\xff";
	bad[n].what = "date"; bad[n].e = ev_make("x", PF_EVENT_CHECK_IN, &g); bad[n++].e.arrival = 20260230;
	bad[n].what = "order"; bad[n].e = ev_make("x", PF_EVENT_CHECK_IN, &g);
	bad[n].e.arrival = 20261125; bad[n++].e.departure = 20261124;
	bad[n].what = "party"; bad[n].e = ev_make("x", PF_EVENT_CHECK_IN, &g); bad[n++].e.party = 1001;
	bad[n].what = "departure before today"; bad[n].e = ev_make("x", PF_EVENT_CHECK_IN, &g);
	bad[n++].e.departure = 20261120;
	for (size_t i = 0; i < n; i++) {
		int rc = pf_fire(&l, tdb, &bad[i].e);
		cr_assert(eq(int, rc, PF_EINVAL), "%s", bad[i].what);
		cr_assert(strncmp(pf_errmsg(), "pf_fire:", 8) == 0, "%s: %s", bad[i].what, pf_errmsg());
		if (i > 0) {
			rc = pf_preview(&l, tdb, &bad[i].e);
			cr_assert(eq(int, rc, PF_EINVAL), "preview %s", bad[i].what);
		}
	}
	cr_assert(eq(u64, ev_seq("front_desk"), 0), "nothing stored");
	pf_stay_list *stays = NULL;
	assert_ok(pf_stay_list_get(&stays, tdb, &g));
	cr_assert(eq(sz, stays->count, 0));
	pf_stay_list_free(stays);

	pf_id ghost;
	assert_ok(pf_id_parse(&ghost, "0b5f7c1e-9d5a-4c1e-8f3e-6a2b9c0d1e2f"));
	e = ev_make("x", PF_EVENT_CHECK_IN, &ghost);
	cr_assert(eq(int, pf_fire(&l, tdb, &e), PF_ENOTFOUND));
	cr_assert(eq(int, pf_preview(&l, tdb, &e), PF_ENOTFOUND));
	/* The failed fire did not claim the id. */
	l = ev_fire("x", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, l->count, 1));
	pf_prompt_list_free(l);
}

Test(event, stored_book_survives_reopen)
{
	ev_load(BOOK);
	db_reopen();
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "dining.cuisine", "Sichuan", PF_LIKE);
	pf_prompt_list *l = ev_fire("in-1", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].rule, "sichuan-food"));
	cr_assert(eq(i64, l->items[0].due, T0 + 7200), "within 2h from the stored source");
	pf_prompt_list_free(l);
}

Test(event, new_book_used_by_next_fire)
{
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	ev_load("rule one\n  on reservation\n  notify front_desk low \"first book\"\n");
	pf_prompt_list *l = ev_fire("r1", PF_EVENT_RESERVATION, &g);
	cr_assert(eq(str, (char *)l->items[0].text, "first book"));
	pf_prompt_list_free(l);
	ev_load("rule two\n  on reservation\n  notify front_desk low \"second book\"\n");
	l = ev_fire("r2", PF_EVENT_RESERVATION, &g);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "second book"));
	pf_prompt_list_free(l);
}

/* ---------------------------------------------------------- growth, threads */

static void ev_count_cb(const pf_prompt *p, void *payload)
{
	(void)p;
	__atomic_add_fetch((int *)payload, 1, __ATOMIC_SEQ_CST);
}

Test(event, fires_grow_the_map)
{
	/* 20 prompts per event and a 1 MiB initial map: the map must grow
	 * mid-fire, and the retried transaction must neither duplicate nor
	 * lose prompts, stays or deliveries. */
	char book[8192];
	size_t n = 0;
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(book + n, sizeof book - n,
		                      "rule r%d\n  on check_in\n  notify housekeeping normal "
		                      "\"Task %d for {name}, a fairly long text to fill pages\"\n", i, i);
	ev_load(book);
	int delivered = 0;
	assert_ok(pf_subscribe(tdb, NULL, ev_count_cb, &delivered));
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	for (int i = 0; i < 300; i++) {
		char id[32];
		snprintf(id, sizeof id, "in-%d", i);
		pf_event e = ev_make(id, PF_EVENT_CHECK_IN, &g);
		e.arrival = ev_date_plus(i);
		pf_prompt_list *l = NULL;
		int rc = pf_fire(&l, tdb, &e);
		cr_assert(eq(int, rc, 0), "%s: %s", id, pf_errmsg());
		cr_assert(eq(sz, l->count, 20));
		pf_prompt_list_free(l);
	}
	cr_assert(eq(int, delivered, 6000));
	cr_assert(eq(u64, ev_seq("housekeeping"), 6000));
	cr_assert(eq(sz, ev_pending_count("housekeeping"), 6000));
	pf_guest *gg = NULL;
	assert_ok(pf_guest_get(&gg, tdb, &g));
	cr_assert(eq(u32, gg->stays, 300));
	pf_guest_free(gg);
	char path[512];
	struct stat st;
	snprintf(path, sizeof path, "%s/data.mdb", tdir);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(gt(i64, (int64_t)st.st_size, (int64_t)1 << 20), "the map did grow");
}

struct ev_thread_arg {
	int n;
	pf_id guest;
	int failures;
};

static void *ev_thread_main(void *p)
{
	struct ev_thread_arg *a = p;
	for (int i = 0; i < 40; i++) {
		char id[48];
		snprintf(id, sizeof id, "t%d-%d", a->n, i);
		pf_event e = ev_make(id, PF_EVENT_RESERVATION, &a->guest);
		pf_prompt_list *l = NULL;
		if (pf_fire(&l, tdb, &e) != 0 || l->count != 1)
			a->failures++;
		pf_prompt_list_free(l);
		if (pf_preview(&l, tdb, &e) != 0 || l->count != 1)
			a->failures++;
		pf_prompt_list_free(l);
	}
	return NULL;
}

Test(event, threads_share_a_handle)
{
	ev_load("rule any\n  on reservation\n  notify front_desk low \"Hello {name}\"\n");
	int delivered = 0;
	assert_ok(pf_subscribe(tdb, "front_desk", ev_count_cb, &delivered));
	pthread_t th[4];
	struct ev_thread_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i].n = i;
		args[i].guest = add_guest("Maria Rossi", NULL, NULL);
		args[i].failures = 0;
	}
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, pthread_create(&th[i], NULL, ev_thread_main, &args[i]), 0));
	/* Meanwhile the book is replaced: every fire sees one book or the
	 * other, never a half-swapped one. */
	ev_load("rule any2\n  on reservation\n  notify front_desk low \"Hi {name}\"\n");
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert(eq(int, args[i].failures, 0));
	}
	cr_assert(eq(int, delivered, 160));
	cr_assert(eq(u64, ev_seq("front_desk"), 160));
}

/* ---------------------------------------------------------- processes */

/* Child side of the fork tests: never the inherited handle, and no
 * Criterion assertions (they belong to the parent); the exit status says
 * what went wrong. */
static int ev_child_open(pf_db **db)
{
	pf_options o = test_options();
	return pf_open(db, tdir, &o) == 0 ? 0 : 10;
}

static void ev_wait_child(pid_t pid)
{
	int status = 0;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	int exited = WIFEXITED(status);
	cr_assert(exited, "child did not exit normally");
	cr_assert(eq(int, WEXITSTATUS(status), 0), "child failed with %d", WEXITSTATUS(status));
}

Test(event, fire_in_child_process)
{
	ev_load(BOOK);
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		pf_db *db = NULL;
		int code = ev_child_open(&db);
		if (!code) {
			pf_event e = ev_make("kiosk-7", PF_EVENT_CHECK_IN, &g);
			pf_prompt_list *l = NULL;
			if (pf_fire(&l, db, &e) != 0)
				code = 11;
			else if (l->count != 1)
				code = 12;
			pf_prompt_list_free(l);
			pf_close(db);
		}
		_exit(code);
	}
	ev_wait_child(pid);

	pf_prompt_list *l = NULL;
	assert_ok(pf_prompts_pending(&l, tdb, "front_desk"));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].event_id, "kiosk-7"));
	cr_assert(eq(str, (char *)l->items[0].text, "Assign a room on floor 10"));
	pf_prompt_list_free(l);
	cr_assert(eq(u64, ev_seq("front_desk"), 1));
}

Test(event, book_loaded_by_other_process)
{
	ev_load("rule old\n  on check_in\n  notify front_desk low \"old book\"\n");
	pf_id g = add_guest("Zhuang Wei", NULL, NULL);
	pf_prompt_list *l = ev_fire("in-1", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(str, (char *)l->items[0].text, "old book"));
	pf_prompt_list_free(l);

	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		pf_db *db = NULL;
		int code = ev_child_open(&db);
		const char nb[] = "rule new\n  on check_in\n  notify housekeeping high \"new book\"\n";
		if (!code && pf_rules_load(db, "other", nb, strlen(nb), NULL) != 0)
			code = 11;
		pf_close(db);
		_exit(code);
	}
	ev_wait_child(pid);

	/* Same handle, no reopen. */
	l = ev_fire("in-2", PF_EVENT_CHECK_IN, &g);
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "new book"));
	cr_assert(eq(str, (char *)l->items[0].department, "housekeeping"));
	pf_prompt_list_free(l);
	pf_event e = ev_make(NULL, PF_EVENT_CHECK_IN, &g);
	assert_ok(pf_preview(&l, tdb, &e));
	cr_assert(eq(str, (char *)l->items[0].rule, "new"));
	pf_prompt_list_free(l);
}
