/*
 * test_rules_lang.c — rules that know the guest's language and country
 * (rules.c), per-language texts of guest-facing prompts (rules.c, and
 * their language through event.c and the prompt record in codec.c),
 * visibly cut overlong text, and `birthday during stay` on day-use stays.
 *
 * Suites rules_lang_parse and rules_lang_eval need no database;
 * rules_lang_db fires and previews through the public API.
 */
#include "helpers.h"
#include "text.h"
#include "codec.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pf_rulebook *rb;
static pf_match_list *ml;

static void lang_fini(void)
{
	pf_match_list_free(ml);
	ml = NULL;
	pf_rulebook_free(rb);
	rb = NULL;
}

TestSuite(rules_lang_parse, .fini = lang_fini);
TestSuite(rules_lang_eval, .fini = lang_fini);
TestSuite(rules_lang_db, .init = db_setup, .fini = db_teardown, .timeout = 60);

#define ELLIPSIS "\xe2\x80\xa6"

/* ---------------------------------------------------------------- helpers */

static void lg_guest(pf_guest_rec *r, const char *language, const char *country)
{
	memset(r, 0, sizeof *r);
	r->g.name = "Zhuang Wei";
	r->g.consent = PF_CONSENT_PROFILING;
	r->g.language = language;
	r->g.country = country;
}

static pf_event lg_event(void)
{
	pf_event e = PF_EVENT_INIT;
	e.id = "res-1";
	e.kind = PF_EVENT_CHECK_IN;
	e.room = "1012";
	e.party = 2;
	e.time = T0;
	e.arrival = 20261123;
	e.departure = 20261125;
	return e;
}

static void lg_load(const char *text)
{
	pf_rule_error e;
	pf_rulebook_free(rb);
	rb = NULL;
	int rc = pf_rulebook_parse(&rb, "t.rules", text, strlen(text), &e);
	cr_assert(eq(int, rc, 0), "parse failed: %s", e.message);
}

static void lg_fails(const char *text, int line, int col, const char *msg)
{
	pf_rule_error e;
	pf_rulebook *b = NULL;
	char want[512];
	int rc = pf_rulebook_parse(&b, "t.rules", text, strlen(text), &e);
	cr_assert(eq(int, rc, PF_ESYNTAX), "text parsed: %s", text);
	cr_assert(b == NULL);
	snprintf(want, sizeof want, "t.rules:%d:%d: %s", line, col, msg);
	cr_assert(eq(str, e.message, want));
	cr_assert(eq(int, e.line, line));
	cr_assert(eq(int, e.column, col));
}

static void lg_run(const pf_guest_rec *r, const pf_event *ev)
{
	pf_view v = { r, ev };
	pf_match_list_free(ml);
	ml = NULL;
	int rc = pf_rulebook_eval(&ml, rb, &v);
	cr_assert(eq(int, rc, 0), "eval: %s", pf_errmsg());
}

/* Does `when COND` hold for a guest with this language and country? */
static bool lg_holds(const char *condition, const char *language, const char *country)
{
	char text[512];
	pf_guest_rec r;
	pf_event e = lg_event();
	snprintf(text, sizeof text, "rule r on check_in when %s notify front_desk low \"x\"",
	         condition);
	lg_load(text);
	lg_guest(&r, language, country);
	lg_run(&r, &e);
	return ml->count == 1;
}

/* A language the test expects: a NULL fails the test rather than crashing it. */
static void lang_is(const char *got, const char *want)
{
	cr_assert(got != NULL, "language is NULL, expected '%s'", want);
	cr_assert(eq(str, (char *)got, (char *)want));
}

static const pf_match *lg_match(const char *dept)
{
	for (size_t i = 0; i < ml->count; i++)
		if (strcmp(ml->items[i].department, dept) == 0)
			return &ml->items[i];
	return NULL;
}

/* The kiosk text (and its language) a guest speaking `language` gets. */
static const pf_match *lg_kiosk(const char *language)
{
	pf_guest_rec r;
	pf_event e = lg_event();
	lg_guest(&r, language, NULL);
	lg_run(&r, &e);
	return lg_match("kiosk");
}

/* ---------------------------------------------------------------- conditions */

Test(rules_lang_eval, language_matches_the_primary_subtag)
{
	/* `language = zh` is what a hotel means by "speaks Chinese" */
	cr_assert(lg_holds("language = zh", "zh", NULL));
	cr_assert(lg_holds("language = zh", "zh-TW", NULL));
	cr_assert(lg_holds("language = zh", "zh-Hant-HK", NULL));
	cr_assert(lg_holds("language = zh", "ZH-tw", NULL));     /* tags ignore case */
	cr_assert(lg_holds("language = zh", "zh_TW", NULL));     /* a POSIX locale name */
	cr_assert(not(lg_holds("language = zh", "zho", NULL)));  /* another tag, not a prefix */
	cr_assert(not(lg_holds("language = zh", "z", NULL)));
	cr_assert(not(lg_holds("language = zh", "en", NULL)));
	cr_assert(not(lg_holds("language = zh", NULL, NULL)));
	cr_assert(lg_holds("not language = zh", NULL, NULL));
}

Test(rules_lang_eval, language_with_a_region_matches_only_that)
{
	cr_assert(lg_holds("language = zh-TW", "zh-TW", NULL));
	cr_assert(lg_holds("language = zh-tw", "zh-TW", NULL));
	cr_assert(lg_holds("language = zh-TW", "zh_tw", NULL));
	cr_assert(not(lg_holds("language = zh-TW", "zh", NULL)));
	cr_assert(not(lg_holds("language = zh-TW", "zh-HK", NULL)));
	cr_assert(not(lg_holds("language = zh-TW", "zh-TWN", NULL)));
	cr_assert(lg_holds("language = zh-Hant", "zh-Hant-TW", NULL));
}

Test(rules_lang_eval, language_in_a_list)
{
	cr_assert(lg_holds("language in (zh, pt)", "pt-BR", NULL));
	cr_assert(lg_holds("language in (zh, pt)", "zh", NULL));
	cr_assert(lg_holds("language in ( zh-TW , pt-PT )", "pt-PT", NULL));
	cr_assert(not(lg_holds("language in (zh-TW, pt-PT)", "pt-BR", NULL)));
	cr_assert(not(lg_holds("language in (zh, pt)", "en-GB", NULL)));
	cr_assert(not(lg_holds("language in (zh, pt)", NULL, NULL)));
	cr_assert(lg_holds("language in (en) or language = pt", "pt", NULL));
}

Test(rules_lang_eval, country_compares_exactly)
{
	cr_assert(lg_holds("country = MAC", NULL, "MAC"));
	cr_assert(not(lg_holds("country = MAC", NULL, "HKG")));
	cr_assert(not(lg_holds("country = MAC", NULL, NULL)));
	cr_assert(lg_holds("country in (MAC, HKG)", NULL, "HKG"));
	cr_assert(not(lg_holds("country in (MAC, HKG)", NULL, "PRT")));
	cr_assert(lg_holds("not country = MAC", NULL, NULL));
	cr_assert(lg_holds("country = MAC and language = pt", "pt-MO", "MAC"));
	cr_assert(not(lg_holds("country = MAC and language = pt", "zh", "MAC")));
}

Test(rules_lang_parse, errors_name_line_and_column)
{
	lg_fails("rule a on check_in\n  when country = mac\n  notify kiosk low \"x\"", 2, 18,
	         "invalid country code 'mac' (expected an ISO 3166-1 alpha-3 code in upper "
	         "case, e.g. MAC)");
	lg_fails("rule a on check_in when country in (MAC, Hkg) notify kiosk low \"x\"", 1, 42,
	         "invalid country code 'Hkg' (expected an ISO 3166-1 alpha-3 code in upper "
	         "case, e.g. MAC)");
	lg_fails("rule a on check_in when country = MACA notify kiosk low \"x\"", 1, 35,
	         "invalid country code 'MACA' (expected an ISO 3166-1 alpha-3 code in upper "
	         "case, e.g. MAC)");
	lg_fails("rule a on check_in when country = \"MAC\" notify kiosk low \"x\"", 1, 35,
	         "expected a country code after '=', found a string");
	lg_fails("rule a on check_in when language = z notify kiosk low \"x\"", 1, 36,
	         "invalid language tag 'z' (expected 2 or 3 letters, then optional subtags "
	         "joined by '-', e.g. zh, pt-BR, zh-Hant)");
	lg_fails("rule a on check_in when language = zh_TW notify kiosk low \"x\"", 1, 36,
	         "invalid language tag 'zh_TW' (expected 2 or 3 letters, then optional subtags "
	         "joined by '-', e.g. zh, pt-BR, zh-Hant)");
	lg_fails("rule a on check_in when language = zh-abcdefghi notify kiosk low \"x\"", 1, 36,
	         "invalid language tag 'zh-abcdefghi' (expected 2 or 3 letters, then optional "
	         "subtags joined by '-', e.g. zh, pt-BR, zh-Hant)");
	lg_fails("rule a on check_in when language zh notify kiosk low \"x\"", 1, 34,
	         "expected '=' or 'in' after 'language', found 'zh'");
	lg_fails("rule a on check_in when country != MAC notify kiosk low \"x\"", 1, 33,
	         "expected '=' or 'in' after 'country', found '!='");
	lg_fails("rule a on check_in when language in (zh pt) notify kiosk low \"x\"", 1, 41,
	         "expected ',' or ')' in the language list, found 'pt'");
	lg_fails("rule a on check_in when country in (MAC,) notify kiosk low \"x\"", 1, 41,
	         "expected a country code in the list, found ')'");
	lg_fails("rule a on check_in when language in zh notify kiosk low \"x\"", 1, 37,
	         "expected '(' after 'in', found 'zh'");
}

/* ---------------------------------------------------------------- texts */

static const char KIOSK_BOOK[] =
	"rule welcome on check_in\n"
	"  notify kiosk low \"Welcome, {name}!\" zh \"歡迎, {name}!\"\n"
	"    pt \"Bem-vindo, {name}!\" pt-BR \"Seja bem-vindo, {name}!\"\n"
	"  notify front_desk normal \"Greet {name}\"\n";

Test(rules_lang_eval, kiosk_text_in_the_guests_language)
{
	lg_load(KIOSK_BOOK);
	const pf_match *m = lg_kiosk("zh-TW");    /* primary subtag */
	cr_assert(eq(str, (char *)m->text, "歡迎, Zhuang Wei!"));
	lang_is(m->language, "zh");
	m = lg_kiosk("pt-BR");                    /* the exact tag first */
	cr_assert(eq(str, (char *)m->text, "Seja bem-vindo, Zhuang Wei!"));
	lang_is(m->language, "pt-BR");
	m = lg_kiosk("pt_br");                    /* case and '_' as for conditions */
	lang_is(m->language, "pt-BR");
	m = lg_kiosk("pt-PT");                    /* then the primary subtag */
	cr_assert(eq(str, (char *)m->text, "Bem-vindo, Zhuang Wei!"));
	lang_is(m->language, "pt");
	m = lg_kiosk("zh-Hant-TW");               /* every subtag dropped in turn */
	lang_is(m->language, "zh");
	m = lg_kiosk("PT");
	lang_is(m->language, "pt");
	m = lg_kiosk("en");                       /* no text: the default */
	cr_assert(eq(str, (char *)m->text, "Welcome, Zhuang Wei!"));
	cr_assert(m->language == NULL);
	m = lg_kiosk(NULL);
	cr_assert(eq(str, (char *)m->text, "Welcome, Zhuang Wei!"));
	cr_assert(m->language == NULL);
	m = lg_kiosk("zh-");
	lang_is(m->language, "zh");
}

Test(rules_lang_eval, a_more_specific_text_is_not_used_for_a_broader_guest)
{
	lg_load("rule w on check_in notify kiosk low \"Hello\" zh-TW \"您好\"");
	const pf_match *m = lg_kiosk("zh");
	cr_assert(eq(str, (char *)m->text, "Hello"));
	cr_assert(m->language == NULL);
	m = lg_kiosk("zh-HK");
	cr_assert(m->language == NULL);
	m = lg_kiosk("zh-TW");
	cr_assert(eq(str, (char *)m->text, "您好"));
}

Test(rules_lang_eval, staff_read_the_default_text)
{
	lg_load(KIOSK_BOOK);
	pf_guest_rec r;
	pf_event e = lg_event();
	lg_guest(&r, "zh", NULL);
	lg_run(&r, &e);
	cr_assert(eq(sz, ml->count, 2));
	const pf_match *m = lg_match("front_desk");
	cr_assert(eq(str, (char *)m->text, "Greet Zhuang Wei"));
	cr_assert(m->language == NULL);
}

Test(rules_lang_eval, guest_facing_marks_a_staff_department)
{
	lg_load("rule w on check_in\n"
	        "  notify front_desk normal guest_facing \"Your key is ready\" zh \"您的房卡已準備好\"\n"
	        "  notify concierge low within 1h guest_facing \"Tours at 10\" pt \"Passeios às 10\"\n"
	        "  notify restaurant low guest_facing within 2h \"Breakfast at 7\"\n");
	pf_guest_rec r;
	pf_event e = lg_event();
	lg_guest(&r, "zh-MO", NULL);
	lg_run(&r, &e);
	cr_assert(eq(sz, ml->count, 3));
	cr_assert(eq(str, ml->items[0].text, "您的房卡已準備好"));
	lang_is(ml->items[0].language, "zh");
	cr_assert(eq(str, ml->items[1].text, "Tours at 10"));
	cr_assert(ml->items[1].language == NULL);
	cr_assert(eq(i64, ml->items[1].within, 3600));
	cr_assert(eq(i64, ml->items[2].within, 7200));
	lg_guest(&r, "pt", NULL);
	lg_run(&r, &e);
	cr_assert(eq(str, ml->items[1].text, "Passeios às 10"));
	lang_is(ml->items[1].language, "pt");
}

Test(rules_lang_parse, texts_need_a_guest_facing_prompt)
{
	lg_fails("rule w on check_in\n  notify front_desk normal \"Greet\" zh \"迎\"", 2, 36,
	         "a text in 'zh' is only used by a guest-facing prompt (notify kiosk, or mark "
	         "the notify guest_facing)");
	/* a stray 2- or 3-letter word after a template reads as a language tag */
	lg_fails("rule a on check_in notify kiosk low \"x\" foo", 1, 44,
	         "expected a quoted template after the language tag 'foo', found end of text");
	lg_fails("rule a on check_in notify kiosk low \"x\" zh notify kiosk low \"y\"", 1, 44,
	         "expected a quoted template after the language tag 'zh', found 'notify'");
	lg_fails("rule a on check_in notify kiosk low \"x\" zh \"a\" ZH \"b\"", 1, 48,
	         "language 'ZH' has a text already in this notify");
	lg_fails("rule a on check_in notify front_desk low guest_facing guest_facing \"x\"", 1, 55,
	         "expected a quoted template after 'guest_facing', found 'guest_facing'");
	lg_fails("rule a on check_in notify kiosk low within 1h within 2h \"x\"", 1, 47,
	         "expected a quoted template after the duration, found 'within'");
	/* longer words are not tags: the rule's other errors stay as they were */
	lg_fails("rule a on check_in notify kiosk low \"x\" zh_TW \"y\"", 1, 41,
	         "expected 'notify', 'rule' or end of text after the template, found 'zh_TW'");
}

Test(rules_lang_parse, every_text_gets_the_template_checks)
{
	lg_fails("rule a on check_in notify kiosk low \"Hi {name}\" zh \"你好 {nmae}\"", 1, 56,
	         "unknown placeholder '{nmae}'");
	lg_fails("rule a on check_in notify kiosk low \"Hi\" pt \"Olá {name\"", 1, 50,
	         "unterminated placeholder in a template (write '{{' for a literal brace)");
	lg_fails("rule a on check_in notify kiosk low \"Hi\" pt \"a } b\"", 1, 48,
	         "unexpected '}' in a template (write '}}' for a literal brace)");
	lg_fails("rule a on check_in notify kiosk low \"Hi\" pt \"\"", 1, 45, "empty template");
	char *text = malloc(1200), body[1002];
	memset(body, 'a', 1001);
	body[1001] = '\0';
	snprintf(text, 1200, "rule a on check_in notify kiosk low \"Hi\" pt \"%s\"", body);
	lg_fails(text, 1, 45, "template is longer than 1000 bytes");
	free(text);
}

Test(rules_lang_parse, texts_stay_in_the_rule_source)
{
	const char *book =
		"rule w on check_in\n"
		"  notify kiosk low \"Hello\" zh \"你好\"   # greeting\n"
		"    pt \"Olá\"\n"
		"rule x on check_in notify kiosk low \"x\"\n";
	lg_load(book);
	size_t len;
	const char *src = pf_rulebook_rule_source(rb, 0, &len);
	char *s = strndup(src, len);
	cr_assert(eq(str, s, "rule w on check_in\n  notify kiosk low \"Hello\" zh \"你好\"   "
	                     "# greeting\n    pt \"Olá\""));
	/* event.c rebuilds the book from the stored sources */
	pf_rulebook *again = NULL;
	assert_ok(pf_rulebook_parse(&again, NULL, s, strlen(s), NULL));
	free(s);
	pf_rulebook_free(rb);
	rb = again;
	const pf_match *m = lg_kiosk("pt");
	cr_assert(eq(str, (char *)m->text, "Olá"));
}

Test(rules_lang_eval, a_text_naming_something_missing_drops_the_prompt)
{
	lg_load("rule w on check_in notify kiosk low \"Welcome\" zh \"房間 {room}\"");
	pf_guest_rec r;
	pf_event e = lg_event();
	e.room = NULL;
	lg_guest(&r, "zh", NULL);
	lg_run(&r, &e);
	cr_assert(eq(sz, ml->count, 0));
	lg_guest(&r, "en", NULL);
	lg_run(&r, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(eq(str, ml->items[0].text, "Welcome"));
}

/* ---------------------------------------------------------------- text limit */

Test(rules_lang_eval, overlong_text_is_cut_visibly)
{
	/* 66 x 3-byte characters = 198 bytes of name; three names = 594 */
	char name[200] = "";
	for (int i = 0; i < 66; i++)
		strcat(name, "莊");
	pf_guest_rec r;
	pf_event e = lg_event();
	lg_guest(&r, NULL, NULL);
	r.g.name = name;
	lg_load("rule r on check_in notify front_desk normal \"{name}{name}{name}\"");
	lg_run(&r, &e);
	const pf_match *m = &ml->items[0];
	size_t n = strlen(m->text);
	cr_assert(m->cut);
	cr_assert(le(sz, n, PF_PROMPT_TEXT_MAX));
	cr_assert(ge(sz, n, PF_PROMPT_TEXT_MAX - 3 - 2));  /* at most a character short */
	cr_assert(pf_utf8_valid(m->text, n));
	cr_assert(eq(str, (char *)m->text + n - 3, ELLIPSIS));
	cr_assert(eq(int, memcmp(m->text, name, 198), 0));

	/* exactly PF_PROMPT_TEXT_MAX bytes is not cut; one more is */
	char tmpl[600], book[700];
	memset(tmpl, 'a', PF_PROMPT_TEXT_MAX);
	tmpl[PF_PROMPT_TEXT_MAX] = '\0';
	snprintf(book, sizeof book, "rule r on check_in notify front_desk normal \"%s\"", tmpl);
	lg_load(book);
	lg_run(&r, &e);
	cr_assert(not(ml->items[0].cut));
	cr_assert(eq(str, ml->items[0].text, tmpl));
	strcat(tmpl, "b");
	snprintf(book, sizeof book, "rule r on check_in notify front_desk normal \"%s\"", tmpl);
	lg_load(book);
	lg_run(&r, &e);
	m = &ml->items[0];
	cr_assert(m->cut);
	cr_assert(eq(sz, strlen(m->text), PF_PROMPT_TEXT_MAX));
	cr_assert(eq(int, memcmp(m->text, tmpl, PF_PROMPT_TEXT_MAX - 3), 0));
	cr_assert(eq(str, (char *)m->text + PF_PROMPT_TEXT_MAX - 3, ELLIPSIS));

	/* a language text is cut the same way */
	snprintf(book, sizeof book, "rule r on check_in notify kiosk low \"x\" zh \"%s\"", tmpl);
	lg_load(book);
	r.g.language = "zh";
	lg_run(&r, &e);
	cr_assert(ml->items[0].cut);
	cr_assert(eq(str, ml->items[0].text + PF_PROMPT_TEXT_MAX - 3, ELLIPSIS));
}

Test(rules_lang_eval, overlong_need_prompt_is_cut_visibly)
{
	char note[1001];
	memset(note, 'n', 1000);
	note[1000] = '\0';
	pf_pref pr = { "access.mobility", "wheelchair", PF_NEED, "front_desk", NULL, note,
	               1, T0, T0 };
	pf_guest_rec r;
	pf_event e = lg_event();
	lg_guest(&r, NULL, NULL);
	r.g.prefs = r.prefs = &pr;
	r.g.pref_count = 1;
	lg_load("rule r on reservation notify kiosk low \"x\"");
	lg_run(&r, &e);
	cr_assert(eq(sz, ml->count, 1));
	cr_assert(ml->items[0].cut);
	cr_assert(eq(sz, strlen(ml->items[0].text), PF_PROMPT_TEXT_MAX));
	cr_assert(eq(str, ml->items[0].text + PF_PROMPT_TEXT_MAX - 3, ELLIPSIS));
	/* a short need is not */
	pr.note = "left side";
	lg_run(&r, &e);
	cr_assert(not(ml->items[0].cut));
	cr_assert(strstr(ml->items[0].text, ELLIPSIS) == NULL);
}

/* ---------------------------------------------------------------- day-use */

static bool lg_bday(pf_date birth, pf_date arrival, pf_date departure)
{
	pf_guest_rec r;
	pf_event e = lg_event();
	lg_guest(&r, NULL, NULL);
	r.g.birth_date = birth;
	e.arrival = arrival;
	e.departure = departure;
	lg_load("rule r on check_in when birthday during stay notify front_desk low \"x\"");
	lg_run(&r, &e);
	return ml->count == 1;
}

Test(rules_lang_eval, birthday_on_a_day_use_stay)
{
	/* departure == arrival: 0 nights, and the arrival day is the stay */
	cr_assert(lg_bday(19800510, 20260510, 20260510));
	cr_assert(not(lg_bday(19800511, 20260510, 20260510)));
	cr_assert(not(lg_bday(19800509, 20260510, 20260510)));
	cr_assert(lg_bday(20000229, 20270228, 20270228));   /* Feb 29 kept on Feb 28 */
	cr_assert(lg_bday(19751231, 20261231, 20261231));
	/* one night still holds the arrival day only */
	cr_assert(lg_bday(19800510, 20260510, 20260511));
	cr_assert(not(lg_bday(19800511, 20260510, 20260511)));
}

/* ---------------------------------------------------------------- database */

static const char DB_BOOK[] =
	"rule kiosk-welcome on check_in\n"
	"  notify kiosk low \"Welcome, {name}!\" zh \"歡迎, {name}!\" pt \"Bem-vindo, {name}!\"\n"
	"rule macau-guest on check_in when country = MAC and language = zh\n"
	"  notify concierge normal \"Offer the Cantonese city guide\"\n"
	"rule long-greeting on check_in when country = PRT\n"
	"  notify front_desk normal \"{name} {name} {name}\"\n";

static pf_id lg_put(const char *name, const char *language, const char *country)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.language = language;
	g.country = country;
	assert_ok(pf_guest_put(tdb, &g));
	return g.id;
}

static void lg_db_load(const char *text)
{
	pf_rule_error err;
	int rc = pf_rules_load(tdb, "lang.rules", text, strlen(text), &err);
	cr_assert(eq(int, rc, 0), "%s", err.message);
}

static const pf_prompt *lg_dept(const pf_prompt_list *l, const char *dept)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].department, dept) == 0)
			return &l->items[i];
	return NULL;
}

Test(rules_lang_db, preview_fire_and_stored_prompts_carry_the_language)
{
	lg_db_load(DB_BOOK);
	pf_id id = lg_put("Zhuang Wei", "zh-TW", "MAC");
	pf_event ev = lg_event();
	ev.guest = id;

	pf_prompt_list *l = NULL;
	assert_ok(pf_preview(&l, tdb, &ev));
	cr_assert(eq(sz, l->count, 2));
	const pf_prompt *k = lg_dept(l, "kiosk"), *c = lg_dept(l, "concierge");
	cr_assert(eq(str, (char *)k->text, "歡迎, Zhuang Wei!"));
	lang_is(k->language, "zh");
	cr_assert(eq(str, (char *)c->text, "Offer the Cantonese city guide"));
	cr_assert(c->language == NULL);
	pf_prompt_list_free(l);

	assert_ok(pf_fire(&l, tdb, &ev));
	cr_assert(eq(sz, l->count, 2));
	k = lg_dept(l, "kiosk");
	lang_is(k->language, "zh");
	pf_id kid = k->id, cid = lg_dept(l, "concierge")->id;
	pf_prompt_list_free(l);

	/* the record keeps it, across a reopen and a repeated fire */
	db_reopen();
	pf_prompt *p = NULL;
	assert_ok(pf_prompt_get(&p, tdb, &kid));
	lang_is(p->language, "zh");
	cr_assert(eq(str, (char *)p->text, "歡迎, Zhuang Wei!"));
	pf_prompt_free(p);
	assert_ok(pf_prompt_get(&p, tdb, &cid));
	cr_assert(p->language == NULL);
	pf_prompt_free(p);
	assert_ok(pf_prompts_pending(&l, tdb, "kiosk"));
	cr_assert(eq(sz, l->count, 1));
	lang_is(l->items[0].language, "zh");
	pf_prompt_list_free(l);
	assert_ok(pf_fire(&l, tdb, &ev));
	lang_is(lg_dept(l, "kiosk")->language, "zh");
	pf_prompt_list_free(l);

	/* a guest the book has no text for gets the default, language NULL */
	pf_id en = lg_put("Ann Lee", "en-GB", "GBR");
	ev.guest = en;
	ev.id = "res-2";
	assert_ok(pf_fire(&l, tdb, &ev));
	cr_assert(eq(sz, l->count, 1));
	cr_assert(eq(str, (char *)l->items[0].text, "Welcome, Ann Lee!"));
	cr_assert(l->items[0].language == NULL);
	pf_prompt_list_free(l);
}

Test(rules_lang_db, lower_case_country_refused_at_load)
{
	pf_rule_error err;
	const char *bad = "rule a on check_in\nwhen country = mac notify kiosk low \"x\"\n";
	cr_assert(eq(int, pf_rules_load(tdb, "lang.rules", bad, strlen(bad), &err), PF_ESYNTAX));
	cr_assert(eq(int, err.line, 2));
	cr_assert(eq(int, err.column, 16));
	cr_assert(strstr(pf_errmsg(), "lang.rules:2:16: invalid country code 'mac'") != NULL,
	          "%s", pf_errmsg());
}

/* The "cut" field of the last "event.fire" journal entry, or NULL. */
static char *lg_fire_cut(void)
{
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e;
	char *cut = NULL;
	bool fire = false;
	int rc;
	assert_ok(pf_journal_iter(&it, tdb, 0, NULL));
	while ((rc = pf_journal_next(&e, it)) == 0) {
		if (strcmp(e->op, "event.fire") != 0)
			continue;
		fire = true;
		free(cut);
		cut = NULL;
		for (size_t i = 0; i < e->field_count; i++)
			if (strcmp(e->fields[i].name, "cut") == 0)
				cut = strdup(e->fields[i].value);
	}
	cr_assert(eq(int, rc, PF_ITEROVER));
	cr_assert(fire);
	pf_journal_iterator_free(it);
	return cut;
}

Test(rules_lang_db, a_cut_is_journaled)
{
	lg_db_load(DB_BOOK);
	char name[PF_NAME_MAX + 1];
	memset(name, 'x', PF_NAME_MAX);
	name[PF_NAME_MAX] = '\0';
	pf_id id = lg_put(name, "pt-PT", "PRT");
	pf_event ev = lg_event();
	ev.guest = id;
	pf_prompt_list *l = NULL;
	assert_ok(pf_fire(&l, tdb, &ev));
	const pf_prompt *p = lg_dept(l, "front_desk");
	cr_assert(eq(sz, strlen(p->text), PF_PROMPT_TEXT_MAX));
	cr_assert(eq(str, (char *)p->text + PF_PROMPT_TEXT_MAX - 3, ELLIPSIS));
	lang_is(lg_dept(l, "kiosk")->language, "pt");
	pf_prompt_list_free(l);
	char *cut = lg_fire_cut();
	cr_assert(cut != NULL);
	cr_assert(eq(str, cut, "long-greeting"));
	free(cut);

	/* nothing cut: no field */
	pf_id short_id = lg_put("Rui Sá", "pt", "PRT");
	ev.guest = short_id;
	ev.id = "res-2";
	assert_ok(pf_fire(&l, tdb, &ev));
	pf_prompt_list_free(l);
	cr_assert(lg_fire_cut() == NULL);
}

/* ---------------------------------------------------------------- codec */

Test(rules_lang_db, prompt_record_language_is_optional)
{
	pf_prompt p;
	memset(&p, 0, sizeof p);
	p.id.b[0] = 1;
	p.guest.b[0] = 2;
	p.event_id = "res-1";
	p.department = "kiosk";
	p.rule = "welcome";
	p.text = "歡迎";
	p.created = T0;
	p.due = T0 + 60;
	p.seq = 1;

	/* without a language (and so as records written before it): no key */
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_prompt_encode(&sb, &p));
	cr_assert(memmem(sb.data, sb.size, "lang", 4) == NULL);
	pf_prompt out;
	assert_ok(pf_codec_prompt_decode(&out, sb.data, sb.size));
	cr_assert(out.language == NULL);
	cr_assert(eq(str, (char *)out.text, "歡迎"));
	pf_prompt_clear(&out);
	msgpack_sbuffer_destroy(&sb);

	/* with one: it comes back */
	p.language = "zh-Hant";
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_prompt_encode(&sb, &p));
	assert_ok(pf_codec_prompt_decode(&out, sb.data, sb.size));
	lang_is(out.language, "zh-Hant");
	pf_prompt_clear(&out);
	msgpack_sbuffer_destroy(&sb);

	/* an empty language is not a stored form */
	p.language = "";
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_prompt_encode(&sb, &p));
	cr_assert(eq(int, pf_codec_prompt_decode(&out, sb.data, sb.size), PF_ECORRUPT));
	cr_assert(strstr(pf_errmsg(), "field 'lang' is empty") != NULL, "%s", pf_errmsg());
	msgpack_sbuffer_destroy(&sb);
}

/* ---------------------------------------------------------------- example */

Test(rules_lang_eval, hotel_rules_example_speaks_the_guests_language)
{
	FILE *f = fopen("examples/hotel.rules", "rb");
	cr_assert(f != NULL, "run the tests from the repository root");
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof text, f);
	fclose(f);
	pf_rule_error err;
	int rc = pf_rulebook_parse(&rb, "examples/hotel.rules", text, n, &err);
	cr_assert(eq(int, rc, 0), "%s", err.message);

	pf_guest_rec r;
	pf_event e = lg_event();
	lg_guest(&r, "zh-TW", "MAC");
	lg_run(&r, &e);
	const pf_match *m = lg_match("kiosk");
	cr_assert(m != NULL);
	cr_assert(eq(str, (char *)m->text, "Zhuang Wei，歡迎光臨！很高興您選擇入住。"));
	lang_is(m->language, "zh");
	bool regional = false;
	for (size_t i = 0; i < ml->count; i++) {
		regional |= strcmp(ml->items[i].rule, "regional-guest") == 0;
		/* staff prompts stay in the default text */
		if (strcmp(ml->items[i].department, "kiosk") != 0)
			cr_assert(ml->items[i].language == NULL, "%s", ml->items[i].rule);
	}
	cr_assert(regional);

	e.kind = PF_EVENT_RESERVATION;
	lg_run(&r, &e);
	cr_assert(lg_match("front_desk") != NULL);
	cr_assert(eq(str, (char *)ml->items[0].rule, "chinese-speaking-guest"));

	/* unknown language and country: the default kiosk texts, no regional rule */
	e.kind = PF_EVENT_CHECK_IN;
	lg_guest(&r, "de", NULL);
	lg_run(&r, &e);
	for (size_t i = 0; i < ml->count; i++) {
		cr_assert(ml->items[i].language == NULL);
		cr_assert(strcmp(ml->items[i].rule, "regional-guest") != 0);
	}
}
