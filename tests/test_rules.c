/*
 * test_rules.c — the rule language (rules.c): parsing, error positions
 * and messages, evaluation over in-memory guests, templates, needs and
 * consent, and the index.  No database: rules never touch LMDB.
 */
#include "helpers.h"
#include "text.h"
#include "codec.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rules evaluated by this thread's last pf_rulebook_eval (rules.c). */
size_t pf_rules_test_eval_count(void);

static pf_rulebook *rb;
static pf_match_list *ml;

static void rules_fini(void)
{
	pf_match_list_free(ml);
	ml = NULL;
	pf_rulebook_free(rb);
	rb = NULL;
}

TestSuite(rules_parse, .fini = rules_fini);
TestSuite(rules_eval, .fini = rules_fini);
TestSuite(rules_index, .fini = rules_fini);

/* ---------------------------------------------------------------- helpers */

typedef struct tguest {
	pf_guest_rec r;
	pf_pref prefs[32];
	const char *tags[8];
} tguest;

static void tg_init(tguest *t)
{
	memset(t, 0, sizeof *t);
	t->r.g.name = "Zhuang Wei";
	t->r.g.consent = PF_CONSENT_PROFILING;
	t->r.g.prefs = t->prefs;
	t->r.prefs = t->prefs;
}

/* Add a preference, keeping the array sorted by category as records are. */
static void tg_pref(tguest *t, const char *cat, const char *val, pf_pref_kind kind,
                    const char *note)
{
	size_t n = t->r.g.pref_count, i = n;
	cr_assert(n < 32);
	while (i > 0 && strcmp(t->prefs[i - 1].category, cat) > 0) {
		t->prefs[i] = t->prefs[i - 1];
		i--;
	}
	pf_pref p = { cat, val, kind, "front_desk", NULL, note, 1, T0, T0 };
	t->prefs[i] = p;
	t->r.g.pref_count = n + 1;
}

static void tg_tag(tguest *t, const char *tag)
{
	t->tags[t->r.g.tag_count++] = tag;
	t->r.g.tags = t->tags;
}

static pf_event tev(pf_event_kind kind)
{
	pf_event e = PF_EVENT_INIT;
	e.id = "res-1";
	e.kind = kind;
	e.room = "1012";
	e.party = 2;
	e.time = T0;
	return e;
}

static void load(const char *text)
{
	pf_rule_error e;
	pf_rulebook_free(rb);
	rb = NULL;
	int rc = pf_rulebook_parse(&rb, "t.rules", text, strlen(text), &e);
	cr_assert(eq(int, rc, 0), "parse failed: %s", e.message);
	cr_assert(rb != NULL);
}

/* The text must fail at line:col with exactly `msg` (without the prefix). */
static void parse_fails(const char *text, int line, int col, const char *msg)
{
	pf_rule_error e;
	pf_rulebook *b = (pf_rulebook *)&e;  /* must be reset to NULL */
	char want[512];
	int rc = pf_rulebook_parse(&b, "t.rules", text, strlen(text), &e);
	cr_assert(eq(int, rc, PF_ESYNTAX), "text parsed: %s", text);
	cr_assert(b == NULL);
	snprintf(want, sizeof want, "t.rules:%d:%d: %s", line, col, msg);
	cr_assert(eq(str, e.message, want));
	cr_assert(eq(int, e.line, line), "%s", e.message);
	cr_assert(eq(int, e.column, col), "%s", e.message);
	cr_assert(eq(str, (char *)pf_errmsg(), want));
}

static void run(tguest *t, const pf_event *ev)
{
	pf_view v = { &t->r, ev };
	pf_match_list_free(ml);
	ml = NULL;
	int rc = pf_rulebook_eval(&ml, rb, &v);
	cr_assert(eq(int, rc, 0), "eval: %s", pf_errmsg());
	cr_assert(ml != NULL);
}

/* Evaluate the single-rule book `when COND` for guest t at a check-in and
 * say whether it fired. */
static bool holds(const char *condition, tguest *t, const pf_event *ev)
{
	char text[1024];
	snprintf(text, sizeof text, "rule r on check_in when %s notify front_desk normal \"x\"",
	         condition);
	load(text);
	pf_event e = ev ? *ev : tev(PF_EVENT_CHECK_IN);
	run(t, &e);
	for (size_t i = 0; i < ml->count; i++)
		if (strcmp(ml->items[i].rule, "r") == 0)
			return true;
	return false;
}

static const pf_match *match_of(const char *rule)
{
	for (size_t i = 0; i < ml->count; i++)
		if (strcmp(ml->items[i].rule, rule) == 0)
			return &ml->items[i];
	return NULL;
}

static size_t count_of(const char *rule)
{
	size_t n = 0;
	for (size_t i = 0; i < ml->count; i++)
		n += strcmp(ml->items[i].rule, rule) == 0;
	return n;
}

/* Render `tmpl` for guest t and event ev; NULL if the prompt was dropped. */
static const char *render1(const char *tmpl, tguest *t, const pf_event *ev)
{
	char text[2048];
	snprintf(text, sizeof text, "rule r on check_in notify front_desk normal \"%s\"", tmpl);
	load(text);
	run(t, ev);
	const pf_match *m = match_of("r");
	return m ? m->text : NULL;
}

/* ---------------------------------------------------------------- parsing */

Test(rules_parse, every_construct_parses)
{
	load("# a book using every construct\n"
	     "rule a-1_x\n"
	     "  on reservation, check_in, check_out, room_change\n"
	     "  when pref room.floor and pref room.facing = west and pref x.y in (a, \"b c\", 8)\n"
	     "    or dislike pillow.type or dislike pillow.type = feather\n"
	     "    or need access.hearing or need allergy.peanuts in (severe, mild)\n"
	     "    or not (tier >= gold and tier < vip) or tier = none or tier != platinum\n"
	     "    or stays >= 1 or stays > 1 or stays = 0 or stays <= 3 or stays < 9 or stays != 2\n"
	     "    or party >= 3 or complaints.open > 0 or complaints.total >= 2\n"
	     "    or complaints.last_category = noise or tag press or birthday during stay\n"
	     "  notify front_desk high \"Floor {pref room.floor} {note room.floor} {name} {tier}\"\n"
	     "  notify housekeeping normal within 2h \"{room} {party} {stays} {stays + 1} {complaint.latest}\"\n"
	     "  notify kiosk low within 1h30m \"{{literal}} \\\"q\\\" \\\\\"\n"
	     "  notify management urgent within 45s \"x\"\n"
	     "rule b on check_in notify concierge low \"y\"\n");
	cr_assert(eq(sz, pf_rulebook_count(rb), 2));
	cr_assert(eq(str, (char *)pf_rulebook_rule_name(rb, 0), "a-1_x"));
	cr_assert(eq(str, (char *)pf_rulebook_rule_name(rb, 1), "b"));
}

Test(rules_parse, empty_book)
{
	load("");
	cr_assert(eq(sz, pf_rulebook_count(rb), 0));
	load("# only a comment\n\n   # and another\n");
	cr_assert(eq(sz, pf_rulebook_count(rb), 0));
	tguest t;
	tg_init(&t);
	tg_pref(&t, "room.floor", "10", PF_LIKE, NULL);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 0));
}

Test(rules_parse, whitespace_is_free_form_and_crlf)
{
	load("rule a on\r\n check_in ,\treservation when\n\n pref room.floor notify\r\n"
	     "front_desk\nhigh\n\"x\"\r\n");
	cr_assert(eq(sz, pf_rulebook_count(rb), 1));
	size_t len;
	const char *src = pf_rulebook_rule_source(rb, 0, &len);
	cr_assert(len > 0 && src[len - 1] == '"', "source must not keep the CR");
}

Test(rules_parse, rule_source_spans)
{
	const char *text =
		"# header comment\n"
		"rule one\n"
		"  on check_in   # listens to check-in\n"
		"  notify front_desk normal \"a\"   # trailing comment\n"
		"\n"
		"# comment before two\n"
		"rule two on reservation notify kiosk low \"b\" rule three on check_in notify kiosk low \"c\"\n";
	load(text);
	cr_assert(eq(sz, pf_rulebook_count(rb), 3));
	size_t len;
	const char *src = pf_rulebook_rule_source(rb, 0, &len);
	char *s = strndup(src, len);
	cr_assert(eq(str, s, "rule one\n  on check_in   # listens to check-in\n"
	                     "  notify front_desk normal \"a\"   # trailing comment"));
	free(s);
	src = pf_rulebook_rule_source(rb, 1, &len);
	s = strndup(src, len);
	cr_assert(eq(str, s, "rule two on reservation notify kiosk low \"b\""));
	free(s);
	src = pf_rulebook_rule_source(rb, 2, &len);
	s = strndup(src, len);
	cr_assert(eq(str, s, "rule three on check_in notify kiosk low \"c\""));
	free(s);
}

Test(rules_parse, sources_reparse_as_a_book)
{
	/* event.c stores each rule's source and rebuilds the book from them */
	load("rule a on check_in when pref x.y # c\n notify front_desk low \"{pref x.y}\" # t\n"
	     "rule b on reservation notify kiosk low \"b\"\n");
	char joined[1024] = "";
	for (size_t i = 0; i < pf_rulebook_count(rb); i++) {
		size_t len;
		const char *src = pf_rulebook_rule_source(rb, i, &len);
		strncat(joined, src, len);
		strcat(joined, "\n");
	}
	pf_rulebook *again = NULL;
	assert_ok(pf_rulebook_parse(&again, NULL, joined, strlen(joined), NULL));
	cr_assert(eq(sz, pf_rulebook_count(again), 2));
	cr_assert(eq(str, (char *)pf_rulebook_rule_name(again, 1), "b"));
	pf_rulebook_free(again);
}

Test(rules_parse, accessors_out_of_range)
{
	load("rule a on check_in notify kiosk low \"x\"");
	size_t len = 99;
	cr_assert(pf_rulebook_rule_name(rb, 1) == NULL);
	cr_assert(pf_rulebook_rule_source(rb, 1, &len) == NULL);
	cr_assert(eq(sz, len, 0));
	cr_assert(eq(sz, pf_rulebook_count(NULL), 0));
	cr_assert(pf_rulebook_rule_name(NULL, 0) == NULL);
	pf_rulebook_free(NULL);
	pf_match_list_free(NULL);
}

Test(rules_parse, bad_arguments)
{
	pf_rulebook *b = (pf_rulebook *)&b;
	cr_assert(eq(int, pf_rulebook_parse(NULL, NULL, "", 0, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_rulebook_parse(&b, NULL, NULL, 0, NULL), PF_EINVAL));
	cr_assert(b == NULL);
}

Test(rules_parse, error_expected_on)
{
	parse_fails("rule floor\n  when pref room.floor\n", 2, 3,
	            "expected 'on' after the rule name, found 'when'");
}

Test(rules_parse, error_name_defaults_to_rules)
{
	pf_rule_error e;
	pf_rulebook *b = NULL;
	const char *text = "rule a on\n";
	cr_assert(eq(int, pf_rulebook_parse(&b, NULL, text, strlen(text), &e), PF_ESYNTAX));
	cr_assert(eq(str, e.message, "<rules>:2:1: expected an event kind after 'on', found end of text"));
}

Test(rules_parse, error_unknown_event_kind)
{
	parse_fails("rule a\n  on reservation, checkin\n", 2, 19,
	            "unknown event kind 'checkin' (expected reservation, check_in, "
	            "check_out or room_change)");
	parse_fails("rule a on check_in,\n", 2, 1,
	            "expected an event kind after ',', found end of text");
	parse_fails("rule a on check_in reservation notify kiosk low \"x\"", 1, 20,
	            "expected ',', 'when' or 'notify' after the event kind, found 'reservation'");
}

Test(rules_parse, error_department)
{
	parse_fails("rule a on check_in\n  notify \"Assign\"\n", 2, 10,
	            "expected a department name after 'notify', found a string");
	parse_fails("rule a on check_in notify Front_Desk high \"x\"", 1, 27,
	            "expected a department name after 'notify', found 'Front_Desk'");
}

Test(rules_parse, error_priority)
{
	parse_fails("rule a on check_in notify front_desk hgh \"x\"", 1, 38,
	            "unknown priority 'hgh' (expected low, normal, high or urgent)");
	parse_fails("rule a on check_in notify front_desk \"x\"", 1, 38,
	            "expected a priority (low, normal, high or urgent) after the department, "
	            "found a string");
}

Test(rules_parse, error_template_missing)
{
	parse_fails("rule a on check_in notify front_desk high", 1, 42,
	            "expected a quoted template after the priority, found end of text");
	parse_fails("rule a on check_in notify front_desk high within 2h x", 1, 53,
	            "expected a quoted template after the duration, found 'x'");
	parse_fails("rule a on check_in notify front_desk high \"\"", 1, 43, "empty template");
}

Test(rules_parse, error_unknown_placeholder_position)
{
	/* column counts characters of the source, escapes and all */
	parse_fails("rule a on check_in\n"
	            "notify front_desk high \"a\\\"b é {pref}\"", 2, 32,
	            "unknown placeholder '{pref}'");
	parse_fails("rule a on check_in notify kiosk low \"{floor}\"", 1, 38,
	            "unknown placeholder '{floor}'");
	parse_fails("rule a on check_in notify kiosk low \"x {stays + 2}\"", 1, 40,
	            "unknown placeholder '{stays + 2}'");
	parse_fails("rule a on check_in notify kiosk low \"{pref Room.Floor}\"", 1, 38,
	            "unknown placeholder '{pref Room.Floor}'");
	parse_fails("rule a on check_in notify kiosk low \"{ note }\"", 1, 38,
	            "unknown placeholder '{ note }'");
	parse_fails("rule a on check_in notify kiosk low \"{}\"", 1, 38,
	            "unknown placeholder '{}'");
}

Test(rules_parse, error_braces)
{
	parse_fails("rule a on check_in notify kiosk low \"ab {name\"", 1, 41,
	            "unterminated placeholder in a template (write '{{' for a literal brace)");
	parse_fails("rule a on check_in notify kiosk low \"ab } c\"", 1, 41,
	            "unexpected '}' in a template (write '}}' for a literal brace)");
}

Test(rules_parse, error_duplicate_name)
{
	parse_fails("rule x on check_in notify kiosk low \"a\"\n"
	            "rule y on check_in notify kiosk low \"a\"\n"
	            "\n"
	            "rule x on check_in notify kiosk low \"b\"\n", 4, 6,
	            "duplicate rule name 'x' (first defined at line 1)");
}

Test(rules_parse, error_strings)
{
	parse_fails("rule a on check_in notify kiosk low \"abc\n\"", 1, 37, "unterminated string");
	parse_fails("rule a on check_in notify kiosk low \"abc", 1, 37, "unterminated string");
	parse_fails("rule a on check_in notify kiosk low \"a\\nb\"", 1, 39,
	            "unknown escape '\\n' in a string (only \\\" and \\\\)");
}

Test(rules_parse, error_parentheses)
{
	parse_fails("rule a on check_in when (pref a.b or pref c.d\n  notify kiosk low \"x\"",
	            2, 3, "expected ')', found 'notify'");
	parse_fails("rule a on check_in when pref a.b) notify kiosk low \"x\"", 1, 33,
	            "expected 'and', 'or' or 'notify' after the condition, found ')'");
}

Test(rules_parse, error_conditions)
{
	parse_fails("rule a on check_in when notify kiosk low \"x\"", 1, 25,
	            "expected a condition (pref, dislike, need, tier, stays, party, tag, "
	            "language, country, birthday, complaints.*, not or '('), found 'notify'");
	parse_fails("rule a on check_in when pref a.b an pref c.d notify kiosk low \"x\"", 1, 34,
	            "expected 'and', 'or' or 'notify' after the condition, found 'an'");
	parse_fails("rule a on check_in when pref Room.Floor notify kiosk low \"x\"", 1, 30,
	            "invalid category 'Room.Floor' (expected 1 to 4 lower-case words joined "
	            "by dots, e.g. room.floor)");
	parse_fails("rule a on check_in when need a.b.c.d.e notify kiosk low \"x\"", 1, 30,
	            "invalid category 'a.b.c.d.e' (expected 1 to 4 lower-case words joined "
	            "by dots, e.g. room.floor)");
	parse_fails("rule a on check_in when dislike ( notify kiosk low \"x\"", 1, 33,
	            "expected a category after 'dislike', found '('");
	parse_fails("rule a on check_in when pref a.b in x notify kiosk low \"x\"", 1, 37,
	            "expected '(' after 'in', found 'x'");
	parse_fails("rule a on check_in when pref a.b in (x y) notify kiosk low \"x\"", 1, 40,
	            "expected ',' or ')' in the value list, found 'y'");
	parse_fails("rule a on check_in when pref a.b = notify kiosk low \"x\"", 1, 43,
	            "expected 'and', 'or' or 'notify' after the condition, found 'kiosk'");
	parse_fails("rule a on check_in when pref a.b = \"\" notify kiosk low \"x\"", 1, 36,
	            "expected a non-empty value");
	parse_fails("rule a on check_in when birthday in stay notify kiosk low \"x\"", 1, 34,
	            "expected 'during' after 'birthday', found 'in'");
	parse_fails("rule a on check_in when complaints.last_category > x notify kiosk low \"x\"",
	            1, 50, "expected '=' after 'complaints.last_category', found '>'");
}

Test(rules_parse, error_comparisons)
{
	parse_fails("rule a on check_in when stays >= x notify kiosk low \"x\"", 1, 34,
	            "expected a non-negative integer after '>=', found 'x'");
	parse_fails("rule a on check_in when party > -1 notify kiosk low \"x\"", 1, 33,
	            "expected a non-negative integer after '>', found '-1'");
	parse_fails("rule a on check_in when stays 1 notify kiosk low \"x\"", 1, 31,
	            "expected a comparison (>=, >, =, <=, <, !=) after 'stays', found '1'");
	parse_fails("rule a on check_in when complaints.open > 4294967296 notify kiosk low \"x\"",
	            1, 43, "number '4294967296' is too large (at most 4294967295)");
	parse_fails("rule a on check_in when tier >= diamond notify kiosk low \"x\"", 1, 33,
	            "unknown tier 'diamond' (expected none, silver, gold, platinum or vip)");
	parse_fails("rule a on check_in when tier >= Gold notify kiosk low \"x\"", 1, 33,
	            "unknown tier 'Gold' (expected none, silver, gold, platinum or vip)");
}

Test(rules_parse, error_durations)
{
	parse_fails("rule a on check_in notify kiosk low within 0m \"x\"", 1, 44,
	            "duration '0m' must be greater than zero");
	parse_fails("rule a on check_in notify kiosk low within 31d \"x\"", 1, 44,
	            "duration '31d' is longer than 30 days");
	parse_fails("rule a on check_in notify kiosk low within 2x \"x\"", 1, 44,
	            "invalid duration '2x' (expected a number and a unit s, m, h or d, "
	            "e.g. 30m, 2h, 1h30m)");
	parse_fails("rule a on check_in notify kiosk low within 1h30 \"x\"", 1, 44,
	            "invalid duration '1h30' (expected a number and a unit s, m, h or d, "
	            "e.g. 30m, 2h, 1h30m)");
	parse_fails("rule a on check_in notify kiosk low within \"x\"", 1, 44,
	            "expected a duration after 'within' (e.g. 30m, 2h, 1d), found a string");
}

Test(rules_parse, durations_in_seconds)
{
	load("rule a on check_in\n"
	     "  notify kiosk low within 30d \"a\"\n"
	     "  notify kiosk low within 1h30m \"b\"\n"
	     "  notify kiosk low within 90s \"c\"\n"
	     "  notify kiosk low within 1d2h3m4s \"d\"\n"
	     "  notify kiosk low \"e\"\n");
	tguest t;
	tg_init(&t);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 5));
	cr_assert(eq(i64, ml->items[0].within, 30 * 86400));
	cr_assert(eq(i64, ml->items[1].within, 5400));
	cr_assert(eq(i64, ml->items[2].within, 90));
	cr_assert(eq(i64, ml->items[3].within, 86400 + 7200 + 180 + 4));
	cr_assert(eq(i64, ml->items[4].within, -1));
}

Test(rules_parse, error_structure)
{
	parse_fails("rules a on check_in", 1, 1, "expected 'rule', found 'rules'");
	/* (a 2- or 3-letter word there is a language tag: test_rules_lang.c) */
	parse_fails("rule a on check_in notify kiosk low \"x\" extra", 1, 41,
	            "expected 'notify', 'rule' or end of text after the template, found 'extra'");
	parse_fails("rule on check_in", 1, 9, "expected 'on' after the rule name, found 'check_in'");
	parse_fails("rule Floor on check_in notify kiosk low \"x\"", 1, 6,
	            "invalid rule name 'Floor' (expected lower-case letters, digits, '_' and '-', "
	            "starting with a letter or digit, at most 64 bytes)");
	parse_fails("rule -x on check_in notify kiosk low \"x\"", 1, 6,
	            "invalid rule name '-x' (expected lower-case letters, digits, '_' and '-', "
	            "starting with a letter or digit, at most 64 bytes)");
	parse_fails("rule a on check_in when pref a.b ; notify", 1, 34,
	            "expected 'and', 'or' or 'notify' after the condition, found ';'");
	parse_fails("rule a on check_in", 1, 19,
	            "expected ',', 'when' or 'notify' after the event kind, found end of text");
}

Test(rules_parse, rule_name_length)
{
	char text[256];
	char name[66];
	memset(name, 'n', 64);
	name[64] = '\0';
	snprintf(text, sizeof text, "rule %s on check_in notify kiosk low \"x\"", name);
	load(text);
	name[64] = 'n';
	name[65] = '\0';
	snprintf(text, sizeof text, "rule %s on check_in notify kiosk low \"x\"", name);
	pf_rulebook *b = NULL;
	cr_assert(eq(int, pf_rulebook_parse(&b, NULL, text, strlen(text), NULL), PF_ESYNTAX));
}

Test(rules_parse, error_invalid_utf8)
{
	parse_fails("rule a\n  on \xff", 2, 6, "invalid UTF-8 (byte 0xff)");
	/* columns count characters: "é" is one column */
	parse_fails("# é\xc3\n", 1, 4, "invalid UTF-8 (byte 0xc3)");
	/* overlong encoding of '/' and a UTF-16 surrogate */
	parse_fails("rule a on check_in notify kiosk low \"\xc0\xaf\"", 1, 38,
	            "invalid UTF-8 (byte 0xc0)");
	parse_fails("#\xed\xa0\x80", 1, 2, "invalid UTF-8 (byte 0xed)");
	/* a NUL byte inside the given length */
	pf_rule_error e;
	pf_rulebook *b = NULL;
	cr_assert(eq(int, pf_rulebook_parse(&b, "t", "rule\0a", 6, &e), PF_ESYNTAX));
	cr_assert(eq(str, e.message, "t:1:5: NUL byte in the rule text"));
}

Test(rules_parse, error_unexpected_character)
{
	parse_fails("rule a on check_in when pref a.b notify kiosk low \"x\"\n  ;", 2, 3,
	            "expected 'notify', 'rule' or end of text after the template, found ';'");
	parse_fails("rule a on check_in when stays ! 1 notify kiosk low \"x\"", 1, 31,
	            "expected a comparison (>=, >, =, <=, <, !=) after 'stays', found '!'");
}

Test(rules_parse, template_length_limit)
{
	char *text = malloc(2200);
	char *body = malloc(1002);
	memset(body, 'a', 1000);
	body[1000] = '\0';
	snprintf(text, 2200, "rule a on check_in notify kiosk low \"%s\"", body);
	load(text);
	strcpy(body + 1000, "a");
	snprintf(text, 2200, "rule a on check_in notify kiosk low \"%s\"", body);
	parse_fails(text, 1, 37, "template is longer than 1000 bytes");
	free(text);
	free(body);
}

Test(rules_parse, nesting_limit)
{
	char text[1024];
	size_t n = 0;
	n += (size_t)snprintf(text, sizeof text, "rule a on check_in when ");
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "not ");
	snprintf(text + n, sizeof text - n, "pref a.b notify kiosk low \"x\"");
	parse_fails(text, 1, 25 + 64 * 4, "condition nested too deeply (more than 64 levels)");
	/* 64 levels are fine */
	n = (size_t)snprintf(text, sizeof text, "rule a on check_in when ");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "(");
	n += (size_t)snprintf(text + n, sizeof text - n, "pref a.b");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, ")");
	snprintf(text + n, sizeof text - n, " notify kiosk low \"x\"");
	load(text);
}

Test(rules_parse, long_and_chain_is_flat)
{
	/* 3000 operands: n-ary nodes keep evaluation off deep recursion */
	size_t cap = 3000 * 20 + 200, n = 0;
	char *text = malloc(cap);
	n += (size_t)snprintf(text, cap, "rule a on check_in when stays >= 0");
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(text + n, cap - n, " and party >= 0");
	snprintf(text + n, cap - n, " notify kiosk low \"x\"");
	load(text);
	free(text);
	tguest t;
	tg_init(&t);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 1));
}

/* ---------------------------------------------------------------- evaluation */

Test(rules_eval, only_rules_for_the_event_kind)
{
	load("rule a on check_in notify kiosk low \"a\"\n"
	     "rule b on reservation, room_change notify kiosk low \"b\"\n"
	     "rule c on check_out notify kiosk low \"c\"\n");
	tguest t;
	tg_init(&t);
	pf_event e = tev(PF_EVENT_RESERVATION);
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, (char *)ml->items[0].rule, "b"));
	e.kind = PF_EVENT_ROOM_CHANGE;
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, (char *)ml->items[0].rule, "b"));
	e.kind = PF_EVENT_CHECK_OUT;
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, (char *)ml->items[0].rule, "c"));
	e.kind = PF_EVENT_CHECK_IN;
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, (char *)ml->items[0].rule, "a"));
}

Test(rules_eval, bad_arguments)
{
	load("rule a on check_in notify kiosk low \"a\"");
	tguest t;
	tg_init(&t);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	pf_view v = { &t.r, &e };
	cr_assert(eq(int, pf_rulebook_eval(NULL, rb, &v), PF_EINVAL));
	cr_assert(eq(int, pf_rulebook_eval(&ml, rb, NULL), PF_EINVAL));
	cr_assert(ml == NULL);
	pf_view nog = { NULL, &e };
	cr_assert(eq(int, pf_rulebook_eval(&ml, rb, &nog), PF_EINVAL));
	e.kind = (pf_event_kind)9;
	cr_assert(eq(int, pf_rulebook_eval(&ml, rb, &v), PF_EINVAL));
	cr_assert(ml == NULL);
}

Test(rules_eval, pref_value_and_in_lists_case_insensitive)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "room.facing", "West", PF_LIKE, NULL);
	tg_pref(&t, "amenity.flower", "百合", PF_LIKE, NULL);
	tg_pref(&t, "room.location", "near lift", PF_DISLIKE, NULL);
	cr_assert(holds("pref room.facing", &t, NULL));
	cr_assert(holds("pref room.facing = west", &t, NULL));
	cr_assert(holds("pref room.facing = \"WEST\"", &t, NULL));
	cr_assert(not(holds("pref room.facing = east", &t, NULL)));
	cr_assert(not(holds("pref room.facing = wes", &t, NULL)));
	cr_assert(holds("pref room.facing in (east, WEST)", &t, NULL));
	cr_assert(not(holds("pref room.facing in (east, south)", &t, NULL)));
	cr_assert(not(holds("pref room.floor", &t, NULL)));
	cr_assert(holds("pref amenity.flower = 百合", &t, NULL));
	cr_assert(holds("dislike room.location in (lift, \"Near Lift\")", &t, NULL));
	cr_assert(not(holds("pref room.location", &t, NULL)));
}

Test(rules_eval, dislike_never_satisfies_pref)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "pillow.type", "feather", PF_DISLIKE, "no feather pillows");
	cr_assert(not(holds("pref pillow.type = feather", &t, NULL)));
	cr_assert(not(holds("pref pillow.type", &t, NULL)));
	cr_assert(not(holds("pref pillow.type in (feather, down)", &t, NULL)));
	cr_assert(not(holds("need pillow.type", &t, NULL)));
	cr_assert(holds("dislike pillow.type = feather", &t, NULL));
	cr_assert(holds("dislike pillow.type", &t, NULL));
	cr_assert(not(holds("dislike pillow.type = foam", &t, NULL)));
	tg_init(&t);
	tg_pref(&t, "pillow.type", "feather", PF_LIKE, NULL);
	cr_assert(not(holds("dislike pillow.type = feather", &t, NULL)));
	cr_assert(holds("pref pillow.type = feather", &t, NULL));
}

Test(rules_eval, need_conditions)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "allergy.peanuts", "severe", PF_NEED, NULL);
	cr_assert(holds("need allergy.peanuts", &t, NULL));
	cr_assert(holds("need allergy.peanuts = Severe", &t, NULL));
	cr_assert(holds("need allergy.peanuts in (mild, severe)", &t, NULL));
	cr_assert(not(holds("need allergy.peanuts = mild", &t, NULL)));
	cr_assert(not(holds("pref allergy.peanuts", &t, NULL)));
	cr_assert(not(holds("need allergy.shellfish", &t, NULL)));
}

Test(rules_eval, precedence_and_binds_tighter_than_or)
{
	tguest t;
	/* a or b and c  ==  a or (b and c) */
	tg_init(&t);
	tg_pref(&t, "a.a", "1", PF_LIKE, NULL);
	cr_assert(holds("pref a.a or pref b.b and pref c.c", &t, NULL));
	cr_assert(not(holds("(pref a.a or pref b.b) and pref c.c", &t, NULL)));
	tg_init(&t);
	tg_pref(&t, "b.b", "1", PF_LIKE, NULL);
	cr_assert(not(holds("pref a.a or pref b.b and pref c.c", &t, NULL)));
	tg_pref(&t, "c.c", "1", PF_LIKE, NULL);
	cr_assert(holds("pref a.a or pref b.b and pref c.c", &t, NULL));
}

Test(rules_eval, precedence_not_binds_tightest)
{
	tguest t;
	/* not a and b  ==  (not a) and b, not not (a and b) */
	tg_init(&t);
	tg_pref(&t, "a.a", "1", PF_LIKE, NULL);
	cr_assert(not(holds("not pref a.a and pref b.b", &t, NULL)));
	cr_assert(holds("not (pref a.a and pref b.b)", &t, NULL));
	tg_init(&t);
	tg_pref(&t, "b.b", "1", PF_LIKE, NULL);
	cr_assert(holds("not pref a.a and pref b.b", &t, NULL));
	cr_assert(holds("not not pref b.b", &t, NULL));
	cr_assert(not(holds("not pref b.b or pref a.a", &t, NULL)));
}

Test(rules_eval, tier_ordering)
{
	tguest t;
	tg_init(&t);
	t.r.g.tier = PF_TIER_PLATINUM;
	cr_assert(holds("tier >= gold", &t, NULL));
	cr_assert(holds("tier > gold", &t, NULL));
	cr_assert(holds("tier < vip", &t, NULL));
	cr_assert(holds("tier = platinum", &t, NULL));
	cr_assert(holds("tier != vip", &t, NULL));
	cr_assert(not(holds("tier >= vip", &t, NULL)));
	t.r.g.tier = PF_TIER_SILVER;
	cr_assert(not(holds("tier >= gold", &t, NULL)));
	cr_assert(holds("tier <= gold", &t, NULL));
	t.r.g.tier = PF_TIER_VIP;
	cr_assert(holds("tier >= gold", &t, NULL));
	t.r.g.tier = PF_TIER_NONE;
	cr_assert(holds("tier = none", &t, NULL));
	cr_assert(not(holds("tier >= silver", &t, NULL)));
}

Test(rules_eval, numeric_comparisons)
{
	tguest t;
	tg_init(&t);
	t.r.g.stays = 3;
	t.r.complaints_open = 1;
	t.r.complaints_total = 4;
	pf_event e = tev(PF_EVENT_CHECK_IN);
	e.party = 5;
	cr_assert(holds("stays >= 3", &t, &e));
	cr_assert(not(holds("stays > 3", &t, &e)));
	cr_assert(holds("stays = 3", &t, &e));
	cr_assert(holds("stays <= 3", &t, &e));
	cr_assert(not(holds("stays < 3", &t, &e)));
	cr_assert(not(holds("stays != 3", &t, &e)));
	cr_assert(holds("party >= 3", &t, &e));
	cr_assert(not(holds("party < 5", &t, &e)));
	cr_assert(holds("complaints.open > 0", &t, &e));
	cr_assert(not(holds("complaints.open > 1", &t, &e)));
	cr_assert(holds("complaints.total = 4", &t, &e));
	cr_assert(not(holds("complaints.total >= 5", &t, &e)));
	e.party = 0;
	cr_assert(not(holds("party >= 1", &t, &e)));
}

Test(rules_eval, complaint_category_and_tags)
{
	tguest t;
	tg_init(&t);
	cr_assert(not(holds("complaints.last_category = noise", &t, NULL)));  /* NULL */
	char cat[] = "noise";
	t.r.complaint_last_category = cat;
	cr_assert(holds("complaints.last_category = Noise", &t, NULL));
	cr_assert(not(holds("complaints.last_category = cleanliness", &t, NULL)));
	cr_assert(not(holds("tag press", &t, NULL)));
	tg_tag(&t, "advertising");
	tg_tag(&t, "press");
	cr_assert(holds("tag press", &t, NULL));
	cr_assert(holds("tag PRESS", &t, NULL));
	cr_assert(not(holds("tag pres", &t, NULL)));
}

static bool bday(pf_date birth, pf_date arrival, pf_date departure)
{
	tguest t;
	tg_init(&t);
	t.r.g.birth_date = birth;
	pf_event e = tev(PF_EVENT_CHECK_IN);
	e.arrival = arrival;
	e.departure = departure;
	return holds("birthday during stay", &t, &e);
}

Test(rules_eval, birthday_during_stay)
{
	cr_assert(bday(19800512, 20260510, 20260514));
	cr_assert(bday(19800510, 20260510, 20260514));        /* arrival day counts */
	cr_assert(not(bday(19800514, 20260510, 20260514)));   /* departure day does not */
	cr_assert(not(bday(19800509, 20260510, 20260514)));
	cr_assert(not(bday(0, 20260510, 20260514)));          /* unknown birth date */
	cr_assert(not(bday(19800512, 0, 20260514)));          /* no arrival: false */
	cr_assert(bday(19800510, 20260510, 0));               /* no departure: arrival only */
	cr_assert(not(bday(19800511, 20260510, 0)));
}

Test(rules_eval, birthday_year_wrap)
{
	/* Dec 30 -> Jan 3 */
	cr_assert(bday(19751231, 20261230, 20270103));
	cr_assert(bday(19750102, 20261230, 20270103));
	cr_assert(bday(19751230, 20261230, 20270103));
	cr_assert(not(bday(19750103, 20261230, 20270103)));
	cr_assert(not(bday(19751229, 20261230, 20270103)));
	/* a stay of a year or more holds every birthday */
	cr_assert(bday(19750601, 20260101, 20270105));
}

Test(rules_eval, birthday_feb_29)
{
	/* 2027 is not a leap year: the birthday is kept on Feb 28 */
	cr_assert(bday(20000229, 20270228, 20270301));
	cr_assert(bday(20000229, 20270227, 0) == false);
	cr_assert(bday(20000229, 20270228, 0));
	cr_assert(not(bday(20000229, 20270301, 20270305)));
	/* 2028 is: Feb 29 itself, and Feb 28 alone is not the birthday */
	cr_assert(bday(20000229, 20280229, 20280302));
	cr_assert(not(bday(20000229, 20280228, 20280229)));
	/* a Feb 28 birthday in a leap year is Feb 28 */
	cr_assert(bday(19990228, 20280228, 20280229));
}

Test(rules_eval, consent_withdrawn)
{
	tguest t;
	tg_init(&t);
	t.r.g.consent = PF_CONSENT_MARKETING;  /* no profiling */
	tg_pref(&t, "room.floor", "10", PF_LIKE, "high floors");
	tg_pref(&t, "pillow.type", "feather", PF_DISLIKE, NULL);
	tg_pref(&t, "access.hearing", "hard of hearing", PF_NEED, "left ear");
	cr_assert(not(holds("pref room.floor", &t, NULL)));
	cr_assert(not(holds("dislike pillow.type", &t, NULL)));
	cr_assert(holds("need access.hearing", &t, NULL));
	cr_assert(holds("not pref room.floor", &t, NULL));
	pf_event e = tev(PF_EVENT_CHECK_IN);
	cr_assert(render1("Floor {pref room.floor}", &t, &e) == NULL);
	cr_assert(render1("{note room.floor}", &t, &e) == NULL);
	cr_assert(render1("{pref pillow.type}", &t, &e) == NULL);
	cr_assert(eq(str, (char *)render1("Hearing: {pref access.hearing} ({note access.hearing})",
	                                  &t, &e), "Hearing: hard of hearing (left ear)"));
	/* the need still reaches the front desk */
	load("");
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, (char *)ml->items[0].rule, "need"));
}

Test(rules_eval, needs_always_routed)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "room.floor", "10", PF_LIKE, NULL);
	tg_pref(&t, "access.hearing", "hard of hearing", PF_NEED, "speak on the left side");
	tg_pref(&t, "allergy.peanuts", "severe", PF_NEED, NULL);
	pf_event e = tev(PF_EVENT_CHECK_OUT);
	pf_view v = { &t.r, &e };
	/* no rule book at all */
	cr_assert(eq(int, pf_rulebook_eval(&ml, NULL, &v), 0));
	cr_assert(eq(sz, ml->count, 2));
	/* in category order */
	cr_assert(eq(str, (char *)ml->items[0].rule, "need"));
	cr_assert(eq(str, (char *)ml->items[0].department, "front_desk"));
	cr_assert(eq(int, ml->items[0].priority, PF_PRIORITY_HIGH));
	cr_assert(eq(i64, ml->items[0].within, -1));
	cr_assert(eq(str, ml->items[0].text,
	             "Guest need (access.hearing): hard of hearing \xe2\x80\x94 speak on the left side"));
	cr_assert(eq(str, ml->items[1].text, "Guest need (allergy.peanuts): severe"));
	/* every event kind */
	for (int k = PF_EVENT_RESERVATION; k <= PF_EVENT_ROOM_CHANGE; k++) {
		e.kind = (pf_event_kind)k;
		load("rule x on check_in when pref room.floor notify front_desk high \"floor\"");
		run(&t, &e);
		cr_assert(eq(str, (char *)ml->items[ml->count - 1].rule, "need"));
		cr_assert(eq(sz, count_of("need"), 2));
	}
}

Test(rules_eval, routed_need_not_duplicated)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "access.hearing", "hard of hearing", PF_NEED, NULL);
	tg_pref(&t, "allergy.peanuts", "severe", PF_NEED, NULL);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	load("rule hearing on check_in when need access.hearing\n"
	     "  notify front_desk high \"Speak clearly\"\n"
	     "  notify housekeeping high \"Speak clearly\"\n");
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 3));
	cr_assert(eq(str, (char *)ml->items[0].rule, "hearing"));
	cr_assert(eq(str, (char *)ml->items[1].rule, "hearing"));
	/* only the peanut allergy, which no rule routed, gets a default */
	cr_assert(eq(str, (char *)ml->items[2].rule, "need"));
	cr_assert(eq(str, ml->items[2].text, "Guest need (allergy.peanuts): severe"));
}

Test(rules_eval, need_covered_only_by_a_rule_that_produced_a_prompt)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "access.hearing", "hard of hearing", PF_NEED, NULL);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	e.room = NULL;
	/* the rule holds, but its only prompt is dropped (no room) */
	load("rule hearing on check_in when need access.hearing\n"
	     "  notify housekeeping high \"Room {room}: knock and wait\"\n");
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, (char *)ml->items[0].rule, "need"));
	/* a need tested under `not` routes nothing */
	load("rule x on check_in when not need access.hearing or stays >= 0\n"
	     "  notify front_desk low \"x\"\n");
	run(&t, &e);
	cr_assert(eq(sz, count_of("x"), 1));
	cr_assert(eq(sz, count_of("need"), 1));
	/* a need test in an `or` branch that did not hold routes nothing either */
	load("rule y on check_in when need access.hearing = deaf or stays >= 0\n"
	     "  notify front_desk low \"y\"\n");
	run(&t, &e);
	cr_assert(eq(sz, count_of("y"), 1));
	cr_assert(eq(sz, count_of("need"), 1));
}

Test(rules_eval, template_placeholders)
{
	tguest t;
	tg_init(&t);
	t.r.g.tier = PF_TIER_GOLD;
	t.r.g.stays = 1;
	char latest[] = "Noisy air conditioning";
	t.r.complaint_latest = latest;
	tg_pref(&t, "room.floor", "10", PF_LIKE, "likes the view");
	pf_event e = tev(PF_EVENT_CHECK_IN);
	e.party = 3;
	cr_assert(eq(str, (char *)render1("{name}|{tier}|{room}|{party}|{stays}|{stays + 1}|"
	                                  "{pref room.floor}|{note room.floor}|{complaint.latest}",
	                                  &t, &e),
	             "Zhuang Wei|gold|1012|3|1|2|10|likes the view|Noisy air conditioning"));
	/* blanks inside braces are tolerated */
	cr_assert(eq(str, (char *)render1("{ stays+1 } { name } {stays +1} {\tpref  room.floor }",
	                                  &t, &e), "2 Zhuang Wei 2 10"));
	t.r.g.tier = PF_TIER_NONE;
	cr_assert(eq(str, (char *)render1("{tier}", &t, &e), "none"));
}

Test(rules_eval, template_escapes)
{
	tguest t;
	tg_init(&t);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	cr_assert(eq(str, (char *)render1("{{name}} is {name}; {{{room}}} \\\"q\\\" back\\\\slash }}",
	                                  &t, &e),
	             "{name} is Zhuang Wei; {1012} \"q\" back\\slash }"));
	/* printf directives are plain text */
	t.r.g.name = "%s%n%x";
	cr_assert(eq(str, (char *)render1("100% {name} %d", &t, &e), "100% %s%n%x %d"));
}

Test(rules_eval, missing_things_drop_the_prompt)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "room.floor", "10", PF_LIKE, NULL);  /* no note */
	pf_event e = tev(PF_EVENT_CHECK_IN);
	cr_assert(render1("Floor {pref room.facing}", &t, &e) == NULL);
	cr_assert(render1("Note {note room.floor}", &t, &e) == NULL);
	cr_assert(render1("Note {note room.facing}", &t, &e) == NULL);
	cr_assert(render1("{complaint.latest}", &t, &e) == NULL);
	char empty[] = "";
	t.r.complaint_latest = empty;
	cr_assert(render1("{complaint.latest}", &t, &e) == NULL);
	e.party = 0;
	cr_assert(render1("Party of {party}", &t, &e) == NULL);
	e.room = NULL;
	cr_assert(render1("Room {room}", &t, &e) == NULL);
	e.room = "";
	cr_assert(render1("Room {room}", &t, &e) == NULL);
	/* only the prompt naming the missing thing goes; the rule's others stay */
	load("rule r on check_in when pref room.floor\n"
	     "  notify front_desk high \"Floor {pref room.floor}\"\n"
	     "  notify housekeeping normal \"Room {room}\"\n"
	     "  notify kiosk low \"Welcome {name}\"\n");
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 2));
	cr_assert(eq(str, ml->items[0].text, "Floor 10"));
	cr_assert(eq(str, ml->items[1].text, "Welcome Zhuang Wei"));
	cr_assert(eq(str, (char *)ml->items[1].department, "kiosk"));
}

static bool utf8_ok(const char *s)
{
	return pf_utf8_valid(s, strlen(s));
}

Test(rules_eval, overlong_output_cut_at_character_boundary)
{
	tguest t;
	tg_init(&t);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	/* 66 x 3-byte characters = 198 bytes of name, three times = 594 */
	char name[200] = "";
	for (int i = 0; i < 66; i++)
		strcat(name, "\xe8\x8e\x8a");  /* 莊 */
	t.r.g.name = name;
	const char *out = render1("{name}{name}{name}", &t, &e);
	cr_assert(out != NULL);
	cr_assert(eq(sz, strlen(out), 498));  /* 500 would split a character */
	cr_assert(utf8_ok(out));
	/* ASCII fills exactly PF_PROMPT_TEXT_MAX */
	char tmpl[700];
	memset(tmpl, 'a', 600);
	tmpl[600] = '\0';
	out = render1(tmpl, &t, &e);
	cr_assert(eq(sz, strlen(out), PF_PROMPT_TEXT_MAX));
	/* a missing placeholder past the cut still drops the prompt */
	memcpy(tmpl + 600, "{room}", 7);
	e.room = NULL;
	cr_assert(render1(tmpl, &t, &e) == NULL);
	/* default need prompts are bounded too */
	char note[1001];
	memset(note, 'n', 1000);
	note[1000] = '\0';
	tg_pref(&t, "access.mobility", "wheelchair", PF_NEED, note);
	load("");
	run(&t, &e);
	cr_assert(eq(sz, strlen(ml->items[0].text), PF_PROMPT_TEXT_MAX));
}

Test(rules_eval, output_order_and_fields)
{
	tguest t;
	tg_init(&t);
	tg_pref(&t, "room.floor", "10", PF_LIKE, NULL);
	tg_pref(&t, "allergy.gluten", "coeliac", PF_NEED, NULL);
	tg_pref(&t, "access.mobility", "wheelchair", PF_NEED, NULL);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	load("rule zz on check_in when pref room.floor\n"
	     "  notify front_desk high \"1\"\n"
	     "  notify housekeeping urgent within 15m \"2\"\n"
	     "rule aa on check_in notify concierge low \"3\"\n"
	     "rule mm on check_in when pref room.floor notify restaurant normal \"4\"\n");
	run(&t, &e);
	cr_assert(eq(sz, ml->count, 6));
	const char *rules[] = { "zz", "zz", "aa", "mm", "need", "need" };
	const char *depts[] = { "front_desk", "housekeeping", "concierge", "restaurant",
	                        "front_desk", "front_desk" };
	const char *texts[] = { "1", "2", "3", "4", "Guest need (access.mobility): wheelchair",
	                        "Guest need (allergy.gluten): coeliac" };
	pf_priority prios[] = { PF_PRIORITY_HIGH, PF_PRIORITY_URGENT, PF_PRIORITY_LOW,
	                        PF_PRIORITY_NORMAL, PF_PRIORITY_HIGH, PF_PRIORITY_HIGH };
	for (size_t i = 0; i < 6; i++) {
		cr_assert(eq(str, (char *)ml->items[i].rule, (char *)rules[i]));
		cr_assert(eq(str, (char *)ml->items[i].department, (char *)depts[i]));
		cr_assert(eq(str, ml->items[i].text, (char *)texts[i]));
		cr_assert(eq(int, ml->items[i].priority, prios[i]));
	}
	cr_assert(eq(i64, ml->items[1].within, 900));
	cr_assert(eq(i64, ml->items[0].within, -1));
}

Test(rules_eval, hotel_rules_example)
{
	FILE *f = fopen("examples/hotel.rules", "rb");
	cr_assert(f != NULL, "run the tests from the repository root");
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof text, f);
	fclose(f);
	pf_rule_error err;
	int rc = pf_rulebook_parse(&rb, "examples/hotel.rules", text, n, &err);
	cr_assert(eq(int, rc, 0), "%s", err.message);
	cr_assert(pf_rulebook_count(rb) >= 20 && pf_rulebook_count(rb) <= 40);

	tguest t;
	tg_init(&t);
	t.r.g.stays = 2;
	t.r.g.tier = PF_TIER_GOLD;
	tg_pref(&t, "dining.cuisine", "sichuan", PF_LIKE, NULL);
	tg_pref(&t, "dining.condiment", "chili_oil", PF_LIKE, NULL);
	tg_pref(&t, "pillow.type", "feather", PF_DISLIKE, NULL);
	tg_pref(&t, "access.hearing", "hard of hearing", PF_NEED, NULL);
	tg_pref(&t, "allergy.sesame", "mild", PF_NEED, NULL);
	tg_pref(&t, "reading.newspaper", "South China Morning Post", PF_LIKE, NULL);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	run(&t, &e);
	cr_assert(match_of("sichuan-food") != NULL);
	cr_assert(match_of("chili-oil") != NULL);
	cr_assert(match_of("no-feather-pillows") != NULL);
	cr_assert(match_of("feather-pillows") == NULL);
	cr_assert(match_of("other-cuisine") == NULL);
	cr_assert(eq(sz, count_of("hearing"), 3));
	cr_assert(eq(str, (char *)match_of("welcome-back")->text,
	             "Welcome back, Zhuang Wei: stay number 3"));
	cr_assert(eq(str, (char *)match_of("newspaper")->text,
	             "Place the latest South China Morning Post in the room"));
	/* the sesame allergy has no rule: it still reaches the front desk */
	cr_assert(eq(sz, count_of("need"), 1));
	cr_assert(eq(str, ml->items[ml->count - 1].text, "Guest need (allergy.sesame): mild"));
}

/* ---------------------------------------------------------------- index */

Test(rules_index, big_book_evaluates_only_relevant_rules)
{
	size_t cap = 5200 * 110, n = 0;
	char *text = malloc(cap);
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(text + n, cap - n,
		                      "rule r%d on check_in when pref cat%d.x and stays >= 0 "
		                      "notify front_desk low \"r%d\"\n", i, i, i);
	n += (size_t)snprintf(text + n, cap - n,
	                      "rule always on check_in when stays >= 0 notify kiosk low \"a\"\n"
	                      "rule either on check_in when pref cat7.x or pref cat8.x "
	                      "notify kiosk low \"e\"\n"
	                      "rule both on check_in when stays >= 0 and dislike cat42.x "
	                      "notify kiosk low \"b\"\n"
	                      "rule resv on reservation when pref cat42.x notify kiosk low \"v\"\n");
	load(text);
	free(text);
	cr_assert(eq(sz, pf_rulebook_count(rb), 5004));

	tguest t;
	tg_init(&t);
	tg_pref(&t, "cat4999.x", "1", PF_LIKE, NULL);
	tg_pref(&t, "cat42.x", "1", PF_LIKE, NULL);
	tg_pref(&t, "other.thing", "1", PF_LIKE, NULL);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	run(&t, &e);
	/* always + either (an `or` has no required category) + r42 + r4999 +
	 * both (indexed under cat42.x, false: a like is not a dislike) */
	cr_assert(eq(sz, pf_rules_test_eval_count(), 5));
	cr_assert(eq(sz, ml->count, 3));
	cr_assert(eq(str, (char *)ml->items[0].rule, "r42"));
	cr_assert(eq(str, (char *)ml->items[1].rule, "r4999"));
	cr_assert(eq(str, (char *)ml->items[2].rule, "always"));

	/* reservations use their own index */
	e.kind = PF_EVENT_RESERVATION;
	run(&t, &e);
	cr_assert(eq(sz, pf_rules_test_eval_count(), 1));
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, (char *)ml->items[0].rule, "resv"));

	/* a guest without preferences sees only the unindexed rules */
	tg_init(&t);
	e.kind = PF_EVENT_CHECK_IN;
	run(&t, &e);
	cr_assert(eq(sz, pf_rules_test_eval_count(), 2));
	cr_assert(eq(sz, ml->count, 1));
}

Test(rules_index, rules_sharing_a_category_keep_book_order)
{
	load("rule c on check_in when pref room.floor notify kiosk low \"c\"\n"
	     "rule b on check_in when stays >= 0 and need room.floor notify kiosk low \"b\"\n"
	     "rule a on check_in when pref room.floor = 10 notify kiosk low \"a\"\n"
	     "rule d on check_in when pref room.facing notify kiosk low \"d\"\n"
	     "rule e on check_in notify kiosk low \"e\"\n");
	tguest t;
	tg_init(&t);
	tg_pref(&t, "room.floor", "10", PF_LIKE, NULL);
	tg_pref(&t, "room.facing", "west", PF_LIKE, NULL);
	pf_event e = tev(PF_EVENT_CHECK_IN);
	run(&t, &e);
	cr_assert(eq(sz, pf_rules_test_eval_count(), 5));
	cr_assert(eq(sz, ml->count, 4));
	cr_assert(eq(str, (char *)ml->items[0].rule, "c"));
	cr_assert(eq(str, (char *)ml->items[1].rule, "a"));
	cr_assert(eq(str, (char *)ml->items[2].rule, "d"));
	cr_assert(eq(str, (char *)ml->items[3].rule, "e"));
}
