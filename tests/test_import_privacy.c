/*
 * test_import_privacy.c — no import rejection repeats a value from the
 * file.  Every rejection path of pf_import_csv and pf_import_jsonl (one
 * bad row of each kind, plus the file-level refusals and the pf_guest_put
 * checks they rely on) runs over rows whose personal values all carry the
 * marker "zq7"; neither the reject reasons nor pf_errmsg() may contain
 * it, and each reason must name the place (column or field) it is about.
 */
#include "helpers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

TestSuite(import_privacy, .init = db_setup, .fini = db_teardown, .timeout = 120);

/* In every personal value of this file, in either case. */
#define MARK "zq7"

/* A malloc'd printf. */
static char *pv_fmt(const char *fmt, ...)
{
	va_list ap, aq;
	va_start(ap, fmt);
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0);
	char *s = malloc((size_t)n + 1);
	cr_assert(s != NULL);
	vsnprintf(s, (size_t)n + 1, fmt, aq);
	va_end(aq);
	return s;
}

/* n bytes of `c` after the marker, as a personal value that is too long. */
static char *pv_long(size_t n, char c)
{
	char *s = malloc(n + 1);
	cr_assert(s != NULL);
	memset(s, c, n);
	memcpy(s, MARK, 3);
	memcpy(s + n - 3, MARK, 3);
	s[n] = '\0';
	return s;
}

/* Whether `msg` is free of the marker outside the test directory's path
 * (a random name that might contain it by chance). */
static bool pv_clean(const char *msg)
{
	char *m = strdup(msg ? msg : "");
	cr_assert(m != NULL);
	size_t tl = strlen(tdir);
	for (char *p = tl ? strstr(m, tdir) : NULL; p; p = strstr(p + tl, tdir))
		memset(p, '_', tl);
	for (char *p = m; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
	bool clean = strstr(m, MARK) == NULL;
	free(m);
	return clean;
}

static const char *pv_file(const char *name, const char *text)
{
	static char path[600];
	snprintf(path, sizeof path, "%s/%s", tdir, name);
	FILE *f = fopen(path, "wb");
	cr_assert(f != NULL);
	cr_assert(eq(sz, fwrite(text, 1, strlen(text), f), strlen(text)));
	fclose(f);
	return path;
}

/*
 * Import `text` (freed here) as CSV or JSON Lines: exactly one row, on
 * line `line`, must be rejected, with a reason naming `place`; neither
 * the reason nor pf_errmsg() may hold the marker.
 */
static void pv_reject(bool csv, char *text, uint64_t line, const char *place, const char *what)
{
	const char *path = pv_file(csv ? "bad.csv" : "bad.jsonl", text);
	pf_import_report *rep = NULL;
	int rc = csv ? pf_import_csv(&rep, tdb, path, NULL) : pf_import_jsonl(&rep, tdb, path, NULL);
	cr_assert(eq(int, rc, 0), "%s: %s", what, pf_errmsg());
	cr_assert(eq(u64, rep->rejected, 1), "%s: %llu rejected", what,
	          (unsigned long long)rep->rejected);
	const char *why = rep->rejects[0].reason;
	cr_assert(eq(u64, rep->rejects[0].line, line), "%s: line", what);
	cr_assert(pv_clean(why), "%s: the reason repeats a value: %s", what, why);
	cr_assert(pv_clean(pf_errmsg()), "%s: pf_errmsg repeats a value: %s", what,
	          pf_errmsg());
	cr_assert(strstr(why, place) != NULL, "%s: the reason does not name %s: %s", what, place,
	          why);
	pf_import_report_free(rep);
	free(text);
}

static void pv_csv(const char *header, char *row, const char *place, const char *what)
{
	pv_reject(true, pv_fmt("%s\n%s\n", header, row), 2, place, what);
	free(row);
}

static void pv_json(char *line, const char *place, const char *what)
{
	pv_reject(false, pv_fmt("%s\n", line), 1, place, what);
	free(line);
}

/* A file the import refuses as a whole: its message must not leak. */
static void pv_refused(bool csv, char *text, const char *what)
{
	const char *path = pv_file(csv ? "refused.csv" : "refused.jsonl", text);
	pf_import_report *rep = NULL;
	int rc = csv ? pf_import_csv(&rep, tdb, path, NULL) : pf_import_jsonl(&rep, tdb, path, NULL);
	cr_assert(eq(int, rc, PF_EINVAL), "%s", what);
	cr_assert(pv_clean(pf_errmsg()), "%s: pf_errmsg repeats a value: %s", what, pf_errmsg());
	free(text);
}

#define NAME "Zq7 Ana Secreta Zq7"
#define EMAIL "zq7.ana@secreta.zq7"

Test(import_privacy, csv_rejections_never_repeat_a_value)
{
	char *s1, *s2;

	pv_csv("external_id,name,email", pv_fmt("zq7-PMS-1,%s", NAME), "fields", "field count");
	pv_csv("name,email", pv_fmt("%s,zq7.ana\xff@secreta.zq7", NAME),
	       "column 2 'email' is not valid UTF-8", "bad UTF-8");
	pv_csv("id,name", pv_fmt("zq7-not-a-uuid-zq7,%s", NAME), "column 1 'id'", "short id");
	pv_csv("id,name", pv_fmt("zq7zzzzz-zzzz-4zzz-8zzz-zzzzzzzzzzq7,%s", NAME),
	       "column 1 'id'", "36-byte id");
	pv_csv("id,name", pv_fmt("00000000-0000-0000-0000-000000000000,%s", NAME),
	       "column 1 'id'", "zero id");
	pv_csv("name,tier", pv_fmt("%s,zq7gold", NAME), "column 2 'tier': the value is not one of",
	       "tier");
	/* A plain word in an enumerated field is shown: it is not personal. */
	pv_csv("name,tier", pv_fmt("%s,diamond", NAME), "column 2 'tier': 'diamond' is not one of",
	       "tier word");
	pv_csv("name,consent", pv_fmt("%s,maybe", NAME), "column 2 'consent': 'maybe' is not",
	       "consent word");
	pv_csv("name,birth_date", pv_fmt("%s,zq7-1990-zq7", NAME), "column 2 'birth_date'",
	       "birth date");
	pv_csv("name,birth_date", pv_fmt("%s,1990-02-30", NAME), "column 2 'birth_date'",
	       "impossible birth date");
	pv_csv("name,consent", pv_fmt("%s,profiling;zq7consent", NAME), "column 2 'consent'",
	       "consent");
	pv_csv("name,country", pv_fmt("%s,Zq7", NAME), "column 2 'country'", "country");
	pv_csv("name,country", pv_fmt("%s,zq7-PRT", NAME), "column 2 'country'", "long country");
	pv_csv("name,pref:room.floor", pv_fmt("%s,need: ", NAME),
	       "column 2 'pref:room.floor': no value", "no value");
	pv_csv("name,pref:room.floor,like:room.floor", pv_fmt("%s,zq7 high,zq7 low", NAME),
	       "column 3 'like:room.floor': a second value for preference 'room.floor'",
	       "two values");
	s1 = malloc(40 * 6);
	cr_assert(s1 != NULL);
	s1[0] = '\0';
	for (int i = 0; i < PF_TAGS_MAX + 1; i++)
		sprintf(s1 + strlen(s1), "%szq7%c", i ? ";" : "", 'a' + i % 26);
	pv_csv("name,tags", pv_fmt("%s,%s", NAME, s1), "column 2 'tags' has more than 32 tags",
	       "too many tags");
	free(s1);
	pv_csv("name,pref:room.floor,note:room.floor", pv_fmt("%s,,Zq7 private note Zq7", NAME),
	       "column 3 'note:room.floor': a note for preference 'room.floor'", "stray note");
	pv_csv("name,email", pv_fmt("%s,zq7\"ana@secreta.zq7", NAME), "quoting", "stray quote");
	pv_reject(true, pv_fmt("name,email\n%s,\"zq7.ana@secreta.zq7", NAME), 2, "never closed",
	          "unclosed quote at the end");
	s1 = pv_long(300 * 1024, 'x');
	pv_reject(true, pv_fmt("name,email\n%s,\"%s\n", NAME, s1), 2, "256 KiB", "endless row");
	free(s1);

	/* The checks of pf_guest_put, each named by its column. */
	pv_csv("name,email", pv_fmt("," EMAIL), "missing name", "missing name");
	pv_csv("email,name", pv_fmt(EMAIL ",\"   \""), "column 2 'name': name is blank",
	       "blank name");
	s1 = pv_long(PF_NAME_MAX + 1, 'a');
	pv_csv("name,email", pv_fmt("%s," EMAIL, s1), "column 1 'name': name is longer", "long name");
	free(s1);
	pv_csv("name,email", pv_fmt("%s,zq7.ana.secreta.zq7", NAME),
	       "column 2 'email': email is not an address", "email without @");
	s1 = pv_long(PF_FIELD_MAX + 1, 'e');
	s1[10] = '@';
	pv_csv("name,email", pv_fmt("%s,%s", NAME, s1), "column 2 'email': email is longer",
	       "long email");
	pv_csv("name,language", pv_fmt("%s,%s", NAME, s1), "column 2 'language'", "long language");
	pv_csv("name,loyalty_no", pv_fmt("%s,%s", NAME, s1), "column 2 'loyalty_no'",
	       "long loyalty number");
	pv_csv("name,external_id", pv_fmt("%s,%s", NAME, s1), "column 2 'external_id'",
	       "long external id");
	free(s1);
	pv_csv("name,phone", pv_fmt("%s,zq7-12-zq7", NAME), "column 2 'phone': phone has fewer",
	       "short phone");
	pv_csv("name,tags", pv_fmt("%s,vip;Zq7 Ana Secreta", NAME),
	       "column 2 'tags': tag 2 is not a lower-case word", "tag with capitals");
	s1 = pv_long(PF_FIELD_MAX + 1, 'a');
	pv_csv("name,tags", pv_fmt("%s,%s", NAME, s1), "column 2 'tags': tag 1 is longer",
	       "long tag");
	free(s1);
	s1 = pv_long(PF_VALUE_MAX + 1, 'v');
	pv_csv("name,pref:room.floor", pv_fmt("%s,%s", NAME, s1),
	       "column 2 'pref:room.floor': preference value is longer", "long value");
	free(s1);
	s1 = pv_long(PF_NOTE_MAX + 1, 'n');
	pv_csv("name,pref:room.floor,note:room.floor", pv_fmt("%s,zq7 high,%s", NAME, s1),
	       "column 3 'note:room.floor': preference note is longer", "long note");
	free(s1);

	/* What only the stored data can refuse. */
	pf_guest owner = PF_GUEST_INIT;
	owner.name = "Owner";
	owner.external_id = "zq7-PMS-SECRET-zq7";
	assert_ok(pf_guest_put(tdb, &owner));
	char oid[PF_ID_STRLEN + 1];
	pf_id_format(oid, &owner.id);
	s2 = pv_fmt("column 2 'external_id': the external id belongs to guest %s", oid);
	pv_csv("id,external_id,name",
	       pv_fmt("7d9f6a52-3c1e-4b7a-9a51-0c2f1e6d8b11,zq7-PMS-SECRET-zq7,%s", NAME), s2,
	       "external id of another guest");
	free(s2);

	pf_id full = add_guest("Full Guest", NULL, NULL);
	char cat[32];
	for (int i = 0; i < PF_PREFS_MAX; i++) {
		snprintf(cat, sizeof cat, "test.c%03d", i);
		set_pref(&full, cat, "x", PF_LIKE);
	}
	pf_id_format(oid, &full);
	pv_csv("id,name,pref:zz.new", pv_fmt("%s,%s,zq7 value zq7", oid, NAME),
	       "already has 256 preferences", "no room for a preference");
}

Test(import_privacy, jsonl_rejections_never_repeat_a_value)
{
	char *s1;
	const char *n = "\"name\":\"" NAME "\"";

	s1 = pv_long(1024 * 1024 + 10, 'x');
	pv_json(pv_fmt("{%s,\"email\":\"%s\"}", n, s1), "longer than", "long line");
	free(s1);
	pv_json(pv_fmt("{%s,\"email\":\"zq7\xff@secreta.zq7\"}", n), "UTF-8", "bad UTF-8");
	pv_json(pv_fmt("{%s,\"email\":zq7.ana@secreta.zq7}", n), "invalid JSON at column",
	        "bare word");
	pv_json(pv_fmt("{%s,\"email\":\"" EMAIL "\"", n), "invalid JSON", "cut short");
	pv_json(pv_fmt("{%s} \"" EMAIL "\"", n), "invalid JSON", "text after the object");
	pv_json(pv_fmt("{%s,\"email\":\"zq7\\uZZ7q\"}", n), "invalid JSON", "bad escape");
	pv_json(pv_fmt("{%s,\"name\":\"Zq7 Other Zq7\"}", n), "invalid JSON", "duplicate key");
	pv_json(pv_fmt("[\"" NAME "\",\"" EMAIL "\"]"), "not a JSON object", "array");
	pv_json(pv_fmt("{%s,\"" EMAIL "\":\"x\"}", n), "unknown field (name not shown)",
	        "an e-mail as a key");

	/* Wrong types, one field at a time. */
	static const struct { const char *key, *value, *place; } types[] = {
		{ "id", "5", "field 'id'" },
		{ "external_id", "5", "field 'external_id'" },
		{ "email", "5", "field 'email'" },
		{ "phone", "[\"zq7\"]", "field 'phone'" },
		{ "language", "{\"zq7\":1}", "field 'language'" },
		{ "country", "5", "field 'country'" },
		{ "loyalty_no", "true", "field 'loyalty_no'" },
		{ "tier", "5", "field 'tier'" },
		{ "birth_date", "19900101", "field 'birth_date'" },
		{ "tags", "5", "field 'tags'" },
		{ "tags", "[\"vip\",5]", "field 'tags': item 2" },
		{ "consent", "5", "field 'consent'" },
		{ "prefs", "\"zq7\"", "field 'prefs'" },
		{ "prefs", "{\"room.floor\":5}", "field 'prefs', preference 'room.floor'" },
		{ "prefs", "{\"room.floor\":{\"value\":5}}", "preference 'room.floor': \"value\"" },
		{ "prefs", "{\"room.floor\":{\"value\":\"zq7 v\",\"kind\":\"Zq7 Kind\"}}",
		  "preference 'room.floor': \"kind\"" },
		{ "prefs", "{\"room.floor\":{\"value\":\"zq7 v\",\"Zq7 sub key\":1}}",
		  "unknown field (name not shown)" },
		{ "prefs", "{\"room.floor\":{\"note\":\"Zq7 private note\"}}",
		  "preference 'room.floor' has no \"value\"" },
		{ "prefs", "{\"Zq7 Ana Secreta\":\"zq7 v\"}", "field 'prefs': category (name not shown)" },
		{ "prefs", "{\"room.floor\":\"need:\"}", "preference 'room.floor': no value" },
		{ "id", "\"zq7-not-a-uuid\"", "field 'id' is not a UUID" },
		{ "tier", "\"zq7gold\"", "field 'tier'" },
		{ "birth_date", "\"zq7-1990\"", "field 'birth_date'" },
		{ "consent", "[\"profiling\",\"Zq7 consent\"]", "field 'consent'" },
		{ "country", "\"Zq7\"", "field 'country'" },
		{ "email", "\"zq7.ana.secreta.zq7\"", "field 'email': email is not an address" },
		{ "phone", "\"zq7-12-zq7\"", "field 'phone': phone has fewer" },
		{ "tags", "[\"vip\",\"Zq7 Ana Secreta\"]", "field 'tags': tag 2" },
		{ "tags", "\"vip;Zq7 Ana Secreta\"", "field 'tags': tag 2" },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		pv_json(pv_fmt("{%s,\"%s\":%s}", n, types[i].key, types[i].value), types[i].place,
		        types[i].place);
	pv_json(pv_fmt("{\"email\":\"" EMAIL "\"}"), "missing name", "no name");
	pv_json(pv_fmt("{\"name\":5,\"email\":\"" EMAIL "\"}"), "field 'name'", "name a number");
	pv_json(pv_fmt("{\"name\":\"  \",\"email\":\"" EMAIL "\"}"), "field 'name': name is blank",
	        "blank name");

	static const char *const longs[] = { "email", "language", "loyalty_no", "external_id" };
	s1 = pv_long(PF_FIELD_MAX + 1, 'e');
	s1[10] = '@';
	for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
		char place[64];
		snprintf(place, sizeof place, "field '%s'", longs[i]);
		pv_json(pv_fmt("{%s,\"%s\":\"%s\"}", n, longs[i], s1), place, place);
	}
	free(s1);
	s1 = pv_long(PF_VALUE_MAX + 1, 'v');
	pv_json(pv_fmt("{%s,\"prefs\":{\"room.floor\":\"%s\"}}", n, s1),
	        "preference 'room.floor': preference value is longer", "long value");
	free(s1);
	s1 = pv_long(PF_NOTE_MAX + 1, 'n');
	pv_json(pv_fmt("{%s,\"prefs\":{\"room.floor\":{\"value\":\"x\",\"note\":\"%s\"}}}", n, s1),
	        "preference note is longer", "long note");
	free(s1);

	/* More preferences than a guest may have. */
	size_t cap = 64 + (PF_PREFS_MAX + 1) * 32, len = 0;
	s1 = malloc(cap);
	cr_assert(s1 != NULL);
	len += (size_t)snprintf(s1, cap, "{%s,\"prefs\":{", n);
	for (int i = 0; i <= PF_PREFS_MAX; i++)
		len += (size_t)snprintf(s1 + len, cap - len, "%s\"test.c%03d\":\"zq7\"", i ? "," : "",
		                        i);
	snprintf(s1 + len, cap - len, "}}");
	pv_json(s1, "more than 256 preferences", "too many preferences");

	pf_guest owner = PF_GUEST_INIT;
	owner.name = "Owner";
	owner.external_id = "zq7-PMS-SECRET-zq7";
	assert_ok(pf_guest_put(tdb, &owner));
	pv_json(pv_fmt("{\"id\":\"7d9f6a52-3c1e-4b7a-9a51-0c2f1e6d8b11\","
	               "\"external_id\":\"zq7-PMS-SECRET-zq7\",%s}", n),
	        "field 'external_id': the external id belongs to guest", "taken external id");
}

Test(import_privacy, refused_files_and_guest_checks_never_repeat_a_value)
{
	/* No header row: the first guest's row is read as one. */
	pv_refused(true, pv_fmt("zq7-PMS-1," NAME "," EMAIL "\n"), "headerless file");
	pv_refused(true, pv_fmt("name," EMAIL "\n" NAME ",x\n"), "a value as a column");
	pv_refused(true, pv_fmt("name,pref:Zq7 Ana\nx,y\n"), "a value as a category");
	pv_refused(true, pv_fmt("name,email,EMAIL\n" NAME "," EMAIL "," EMAIL "\n"), "twice");

	/* pf_guest_put's own messages, which the import's build on. */
	pf_guest g = PF_GUEST_INIT;
	g.name = NAME;
	g.email = "zq7.ana.secreta.zq7";
	cr_assert(eq(int, pf_guest_put(tdb, &g), PF_EINVAL));
	cr_assert(pv_clean(pf_errmsg()), "%s", pf_errmsg());
	cr_assert(strstr(pf_errmsg(), "email") != NULL);
	g.email = NULL;
	g.phone = "zq7-12-zq7";
	cr_assert(eq(int, pf_guest_put(tdb, &g), PF_EINVAL));
	cr_assert(pv_clean(pf_errmsg()), "%s", pf_errmsg());
	cr_assert(strstr(pf_errmsg(), "phone") != NULL);

	g.phone = NULL;
	g.external_id = "zq7-PMS-SECRET-zq7";
	assert_ok(pf_guest_put(tdb, &g));
	pf_guest h = PF_GUEST_INIT;
	h.name = "Other Guest";
	h.external_id = "zq7-PMS-SECRET-zq7";
	cr_assert(eq(int, pf_guest_put(tdb, &h), PF_EEXIST));
	cr_assert(pv_clean(pf_errmsg()), "%s", pf_errmsg());
	char id[PF_ID_STRLEN + 1];
	pf_id_format(id, &g.id);
	cr_assert(strstr(pf_errmsg(), id) != NULL, "names the holder by our id: %s", pf_errmsg());
}
