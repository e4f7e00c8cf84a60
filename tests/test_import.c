/* test_import.c — bulk import from CSV and JSON Lines: mixed good and bad
 * rows (each bad one reported with its line), quoting recovery, idempotent
 * re-import on external_id, batches and their boundaries, progress and
 * stopping early, header errors, the journal, the external id index, and
 * the syncs: one data flush per batch, one forced sync before the import
 * returns, ordinary commits fully synchronous again afterwards. */
#include "helpers.h"
#include "store.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The syncs LMDB makes, counted: this executable's fdatasync interposes
 * for liblmdb.so (Linux LMDB flushes the data file with fdatasync; the
 * meta page of an ordinary commit is written through an O_DSYNC
 * descriptor, with no call of its own).  Each test runs in its own
 * process, so the count is the test's.
 */
static unsigned long imp_syncs;

__attribute__((visibility("default"))) int fdatasync(int fd)
{
	static int (*real)(int);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
	imp_syncs++;
	return real(fd);
}

TestSuite(import, .init = db_setup, .fini = db_teardown, .timeout = 60);

/* Write `text` (len bytes; -1: strlen) to tdir/name; returns the path
 * (static buffer per slot). */
static const char *imp_file(const char *name, const char *text, long len)
{
	static char paths[4][512];
	static int slot;
	char *p = paths[slot++ % 4];
	snprintf(p, 512, "%s/%s", tdir, name);
	FILE *f = fopen(p, "wb");
	cr_assert(f != NULL, "cannot write %s", p);
	size_t n = len < 0 ? strlen(text) : (size_t)len;
	cr_assert(eq(sz, fwrite(text, 1, n, f), n));
	fclose(f);
	return p;
}

static pf_import_report *imp_csv(const char *path, const pf_import_options *o)
{
	pf_import_report *rep = NULL;
	int rc = pf_import_csv(&rep, tdb, path, o);
	cr_assert(eq(int, rc, 0), "pf_import_csv: %s", pf_errmsg());
	cr_assert(rep != NULL);
	return rep;
}

static pf_import_report *imp_jsonl(const char *path, const pf_import_options *o)
{
	pf_import_report *rep = NULL;
	int rc = pf_import_jsonl(&rep, tdb, path, o);
	cr_assert(eq(int, rc, 0), "pf_import_jsonl: %s", pf_errmsg());
	cr_assert(rep != NULL);
	return rep;
}

/* The reject for `line` (fails the test if there is none). */
static const char *imp_reject(const pf_import_report *rep, uint64_t line)
{
	for (size_t i = 0; i < rep->reject_count; i++)
		if (rep->rejects[i].line == line)
			return rep->rejects[i].reason;
	cr_fatal("no reject for line %llu", (unsigned long long)line);
	return NULL;
}

static bool imp_has(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

/* The one guest pf_guest_find returns for q (fails unless exactly one). */
static pf_guest *imp_find1(const char *q)
{
	pf_guest_list *l = NULL;
	int rc = pf_guest_find(&l, tdb, q);
	cr_assert(eq(int, rc, 0), "find(%s): %s", q, pf_errmsg());
	cr_assert(eq(sz, l->count, 1), "find(%s) found %zu guests", q, l->count);
	pf_guest *g = l->items[0];
	l->items[0] = NULL;
	l->count = 0;
	pf_guest_list_free(l);
	return g;
}

static size_t imp_count(const char *q)
{
	pf_guest_list *l = NULL;
	int rc = pf_guest_find(&l, tdb, q);
	cr_assert(eq(int, rc, 0), "find(%s): %s", q, pf_errmsg());
	size_t n = l->count;
	pf_guest_list_free(l);
	return n;
}

static const pf_pref *imp_pref(const pf_guest *g, const char *cat)
{
	for (size_t i = 0; i < g->pref_count; i++)
		if (strcmp(g->prefs[i].category, cat) == 0)
			return &g->prefs[i];
	return NULL;
}

/* The whole guest database as JSON Lines text (malloc'd). */
static char *imp_snapshot(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/snapshot.jsonl", tdir);
	int rc = pf_export_jsonl(tdb, path);
	cr_assert(eq(int, rc, 0), "pf_export_jsonl: %s", pf_errmsg());
	FILE *f = fopen(path, "rb");
	cr_assert(f != NULL);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	cr_assert(s != NULL);
	cr_assert(eq(sz, fread(s, 1, (size_t)n, f), (size_t)n));
	s[n] = '\0';
	fclose(f);
	return s;
}

static uint64_t imp_last_seq(void)
{
	uint64_t seq = 0;
	assert_ok(pf_journal_last_seq(&seq, tdb));
	return seq;
}

/* A 129-byte e-mail: one byte over PF_FIELD_MAX. */
static const char *imp_long_email(void)
{
	static char s[PF_FIELD_MAX + 2];
	memset(s, 'a', sizeof s - 1);
	s[sizeof s - 1] = '\0';
	memcpy(s + sizeof s - 13, "@example.com", 12);
	return s;
}

Test(import, csv_mixed_file_loads_exactly_the_good_rows)
{
	char text[4096];
	snprintf(text, sizeof text,
	         "\xEF\xBB\xBF" "external_id,name,email,phone,tier,tags,pref:room.floor\n" /* 1 */
	         "P-1,Zhuang Wei,zw@example.com,+853 6123 4567,gold,vip;repeat,10\n"     /* 2 */
	         "P-2,Ana \"Bad\" Quote,ana@example.com,,,,\n"                            /* 3 */
	         "P-3,,noname@example.com,,,,\n"                                        /* 4 */
	         "P-4,Bad Mail,not-an-email,,,,\n"                                      /* 5 */
	         "P-5,Long Mail,%s,,,,\n"                                               /* 6 */
	         "P-6,Bad \xff\xfe Bytes,bytes@example.com,,,,\n"                       /* 7 */
	         "P-7,\"Dupont, Marie\",marie@example.com,,silver,,\"3, quiet side\"\n" /* 8 */
	         "P-8,\"Line\nBreak\",lb@example.com,,,,\n"                             /* 9-10 */
	         "P-9,Last Guest,last@example.com,,platinum,,12\n",                     /* 11 */
	         imp_long_email());
	const char *path = imp_file("mixed.csv", text, -1);
	pf_import_report *rep = imp_csv(path, NULL);

	cr_assert(eq(u64, rep->rows, 9));
	cr_assert(eq(u64, rep->created, 4));
	cr_assert(eq(u64, rep->updated, 0));
	cr_assert(eq(u64, rep->rejected, 5));
	cr_assert(eq(sz, rep->reject_count, 5));
	cr_assert(imp_has(imp_reject(rep, 3), "quot"), "%s", imp_reject(rep, 3));
	cr_assert(imp_has(imp_reject(rep, 4), "missing name"), "%s", imp_reject(rep, 4));
	cr_assert(imp_has(imp_reject(rep, 5), "not an address"), "%s", imp_reject(rep, 5));
	cr_assert(imp_has(imp_reject(rep, 6), "longer than 128 bytes"), "%s", imp_reject(rep, 6));
	cr_assert(imp_has(imp_reject(rep, 7), "UTF-8"), "%s", imp_reject(rep, 7));
	/* Rejects come in line order. */
	for (size_t i = 1; i < rep->reject_count; i++)
		cr_assert(lt(u64, rep->rejects[i - 1].line, rep->rejects[i].line));
	pf_import_report_free(rep);

	pf_guest *g = imp_find1("zw@example.com");
	cr_assert(eq(str, (char *)g->name, "Zhuang Wei"));       /* BOM skipped */
	cr_assert(eq(str, (char *)g->external_id, "P-1"));
	cr_assert(eq(int, g->tier, PF_TIER_GOLD));
	cr_assert(eq(sz, g->tag_count, 2));
	cr_assert(eq(str, (char *)g->tags[1], "repeat"));
	cr_assert(eq(str, (char *)imp_pref(g, "room.floor")->value, "10"));
	cr_assert(eq(str, (char *)imp_pref(g, "room.floor")->department, "import"));
	pf_guest_free(g);

	g = imp_find1("marie@example.com");
	cr_assert(eq(str, (char *)g->name, "Dupont, Marie"));
	cr_assert(eq(str, (char *)imp_pref(g, "room.floor")->value, "3, quiet side"));
	pf_guest_free(g);
	g = imp_find1("lb@example.com");
	cr_assert(eq(str, (char *)g->name, "Line\nBreak"));
	pf_guest_free(g);
	g = imp_find1("last@example.com");
	cr_assert(eq(int, g->tier, PF_TIER_PLATINUM));
	pf_guest_free(g);
	cr_assert(eq(sz, imp_count("ana@example.com"), 0));
	cr_assert(eq(sz, imp_count("noname@example.com"), 0));
	cr_assert(eq(sz, imp_count("bytes@example.com"), 0));
}

Test(import, csv_unclosed_quote_swallows_no_rows)
{
	const char *path = imp_file("unclosed.csv",
		"external_id,name,email\n"
		"U-1,First,first@example.com\n"
		"U-2,\"Never closed,open@example.com\n"
		"U-3,Third,third@example.com\n"
		"U-4,Fourth,fourth@example.com\n", -1);
	pf_import_report *rep = imp_csv(path, NULL);
	cr_assert(eq(u64, rep->created, 3), "created %llu", (unsigned long long)rep->created);
	cr_assert(eq(u64, rep->rejected, 1));
	cr_assert(eq(u64, rep->rejects[0].line, 3));
	cr_assert(imp_has(rep->rejects[0].reason, "quote"));
	pf_import_report_free(rep);
	cr_assert(eq(sz, imp_count("third@example.com"), 1));
	cr_assert(eq(sz, imp_count("fourth@example.com"), 1));
}

Test(import, csv_reimport_is_idempotent)
{
	const char *path = imp_file("guests.csv",
		"external_id,name,email,language,tier,birth_date,consent,pref:room.floor,"
		"need:allergy.feathers,note:allergy.feathers\n"
		"R-1,Zhuang Wei,zw@example.com,zh,gold,1985-06-12,profiling;marketing,10,"
		"feathers,hives\n"
		"R-2,Élodie Martin,elodie@example.com,fr,,,none,dislike:low,,\n"
		"R-3,Kenji Sato,kenji@example.com,ja,vip,,,,,\n", -1);
	pf_import_report *rep = imp_csv(path, NULL);
	cr_assert(eq(u64, rep->created, 3));
	cr_assert(eq(u64, rep->rejected, 0));
	pf_import_report_free(rep);
	char *before = imp_snapshot();
	uint64_t seq = imp_last_seq();

	tclock += 3600;   /* a second run an hour later changes nothing */
	rep = imp_csv(path, NULL);
	cr_assert(eq(u64, rep->rows, 3));
	cr_assert(eq(u64, rep->created, 0));
	cr_assert(eq(u64, rep->updated, 3));
	cr_assert(eq(u64, rep->rejected, 0));
	pf_import_report_free(rep);
	char *after = imp_snapshot();
	cr_assert(eq(str, after, before));
	cr_assert(eq(u64, imp_last_seq(), seq), "a no-op re-import journals nothing");

	pf_guest *g = imp_find1("zw@example.com");
	cr_assert(eq(i64, g->updated, T0), "updated must not move");
	const pf_pref *p = imp_pref(g, "allergy.feathers");
	cr_assert(eq(int, p->kind, PF_NEED));
	cr_assert(eq(u32, p->count, 1));
	cr_assert(eq(str, (char *)p->note, "hives"));
	cr_assert(eq(u32, g->consent, PF_CONSENT_PROFILING | PF_CONSENT_MARKETING));
	cr_assert(eq(i32, g->birth_date, 19850612));
	pf_guest_free(g);
	g = imp_find1("elodie@example.com");
	cr_assert(eq(u32, g->consent, 0));
	cr_assert(eq(int, imp_pref(g, "room.floor")->kind, PF_DISLIKE));
	cr_assert(eq(str, (char *)imp_pref(g, "room.floor")->value, "low"));
	pf_guest_free(g);
	free(before);
	free(after);
}

Test(import, reimport_updates_what_changed_and_keeps_the_rest)
{
	pf_import_report *rep = imp_csv(imp_file("v1.csv",
		"external_id,name,email,phone,pref:room.floor,pref:amenity.flower\n"
		"C-1,Zhuang Wei,zw@example.com,+853 6123 4567,10,lily\n", -1), NULL);
	pf_import_report_free(rep);
	pf_guest *g = imp_find1("zw@example.com");
	pf_id id = g->id;
	pf_guest_free(g);
	set_pref(&id, "dining.cuisine", "sichuan", PF_LIKE);   /* staff add one */

	tclock += 60;
	/* No amenity.flower column: kept.  Empty phone: cleared. */
	rep = imp_csv(imp_file("v2.csv",
		"external_id,name,email,phone,pref:room.floor\n"
		"C-1,Zhuang Wei,wei@example.com,,12\n", -1), NULL);
	cr_assert(eq(u64, rep->created, 0));
	cr_assert(eq(u64, rep->updated, 1));
	pf_import_report_free(rep);

	pf_guest *r = NULL;
	assert_ok(pf_guest_get(&r, tdb, &id));
	cr_assert(eq(str, (char *)r->email, "wei@example.com"));
	cr_assert(r->phone == NULL);
	cr_assert(eq(i64, r->updated, T0 + 60));
	cr_assert(eq(str, (char *)imp_pref(r, "room.floor")->value, "12"));
	cr_assert(eq(i64, imp_pref(r, "room.floor")->first_seen, T0 + 60));
	cr_assert(eq(str, (char *)imp_pref(r, "amenity.flower")->value, "lily"));
	cr_assert(eq(str, (char *)imp_pref(r, "dining.cuisine")->value, "sichuan"));
	pf_guest_free(r);
	/* The indexes followed: the old e-mail finds nobody. */
	cr_assert(eq(sz, imp_count("zw@example.com"), 0));
	cr_assert(eq(sz, imp_count("wei@example.com"), 1));
}

Test(import, jsonl_mixed_lines)
{
	const char *path = imp_file("guests.jsonl",
		"{\"external_id\":\"J-1\",\"name\":\"Zhuang Wei\",\"email\":\"zw@example.com\","
		"\"tags\":[\"vip\"],\"consent\":[\"profiling\",\"marketing\"],"
		"\"prefs\":{\"room.floor\":\"10\",\"allergy.feathers\":\"need:feathers\","
		"\"room.pillow\":{\"value\":\"foam\",\"kind\":\"dislike\",\"note\":\"itchy\"}}}\n" /* 1 */
		"{\"external_id\":\"J-2\",\"name\":\"Broken\",\n"                           /* 2 */
		"\n"                                                                        /* 3 */
		"[1,2,3]\n"                                                                 /* 4 */
		"{\"external_id\":\"J-3\",\"name\":\"Who\",\"favourite\":\"x\"}\n"          /* 5 */
		"{\"external_id\":\"J-4\",\"name\":42}\n"                                   /* 6 */
		"{\"external_id\":\"J-5\",\"email\":\"noname@example.com\"}\n"              /* 7 */
		"{\"external_id\":\"J-6\",\"name\":\"Ok Two\",\"tier\":\"silver\","
		"\"birth_date\":\"1990-02-28\",\"tags\":\"a;b\"}\n"                         /* 8 */
		"{\"external_id\":\"J-7\",\"name\":\"Bad Date\",\"birth_date\":\"1990-02-30\"}\n" /* 9 */
		"{\"name\":\"A\",\"name\":\"B\"}\n", -1);                                    /* 10 */
	pf_import_report *rep = imp_jsonl(path, NULL);
	cr_assert(eq(u64, rep->rows, 9), "blank lines are not rows");
	cr_assert(eq(u64, rep->created, 2));
	cr_assert(eq(u64, rep->rejected, 7));
	cr_assert(imp_has(imp_reject(rep, 2), "invalid JSON"));
	cr_assert(imp_has(imp_reject(rep, 4), "not a JSON object"));
	cr_assert(imp_has(imp_reject(rep, 5), "unknown field 'favourite'"));
	cr_assert(imp_has(imp_reject(rep, 6), "'name' is not a string"));
	cr_assert(imp_has(imp_reject(rep, 7), "missing name"));
	cr_assert(imp_has(imp_reject(rep, 9), "birth_date"));
	cr_assert(imp_has(imp_reject(rep, 10), "invalid JSON"), "duplicate keys are refused");
	pf_import_report_free(rep);

	pf_guest *g = imp_find1("zw@example.com");
	cr_assert(eq(u32, g->consent, PF_CONSENT_PROFILING | PF_CONSENT_MARKETING));
	cr_assert(eq(int, imp_pref(g, "room.floor")->kind, PF_LIKE));
	cr_assert(eq(int, imp_pref(g, "allergy.feathers")->kind, PF_NEED));
	cr_assert(eq(str, (char *)imp_pref(g, "allergy.feathers")->value, "feathers"));
	const pf_pref *p = imp_pref(g, "room.pillow");
	cr_assert(eq(int, p->kind, PF_DISLIKE));
	cr_assert(eq(str, (char *)p->note, "itchy"));
	pf_guest_free(g);
	g = imp_find1("ok two");
	cr_assert(eq(int, g->tier, PF_TIER_SILVER));
	cr_assert(eq(i32, g->birth_date, 19900228));
	cr_assert(eq(sz, g->tag_count, 2));
	pf_guest_free(g);
}

struct imp_calls {
	int n;
	uint64_t done[16], total[16];
	int stop_at;              /* return non-zero on this call (1-based); 0 never */
};

static int imp_progress(uint64_t done, uint64_t total, void *payload)
{
	struct imp_calls *c = payload;
	if (c->n < 16) {
		c->done[c->n] = done;
		c->total[c->n] = total;
	}
	c->n++;
	return c->stop_at && c->n == c->stop_at;
}

static const char *imp_five_rows(void)
{
	return imp_file("five.csv",
		"external_id,name\n"
		"F-1,One\nF-2,Two\nF-3,Three\nF-4,Four\nF-5,Five\n", -1);
}

Test(import, progress_counts_each_batch)
{
	struct imp_calls c = { 0 };
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.batch_size = 2;
	o.progress = imp_progress;
	o.payload = &c;
	pf_import_report *rep = imp_csv(imp_five_rows(), &o);
	cr_assert(eq(u64, rep->created, 5));
	pf_import_report_free(rep);
	cr_assert(eq(int, c.n, 3));
	cr_assert(eq(u64, c.done[0], 2));
	cr_assert(eq(u64, c.done[1], 4));
	cr_assert(eq(u64, c.done[2], 5));
	for (int i = 0; i < 3; i++)
		cr_assert(eq(u64, c.total[i], 5));
}

Test(import, progress_can_stop_the_import)
{
	struct imp_calls c = { .stop_at = 1 };
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.batch_size = 2;
	o.progress = imp_progress;
	o.payload = &c;
	pf_import_report *rep = imp_csv(imp_five_rows(), &o);
	cr_assert(eq(int, c.n, 1));
	cr_assert(eq(u64, rep->rows, 2));
	cr_assert(eq(u64, rep->created, 2));
	pf_import_report_free(rep);
	cr_assert(eq(sz, imp_count("two"), 1), "the first batch stays committed");
	cr_assert(eq(sz, imp_count("three"), 0));
}

Test(import, batch_boundary_with_bad_rows_in_the_middle)
{
	/* Guest "Owner" holds external id B-OWNED.  Line 5 names another id
	 * with that external id: only the write can see the conflict, so its
	 * batch (lines 5 and 6) fails as a whole and is redone row by row. */
	pf_guest o = PF_GUEST_INIT;
	o.name = "Owner";
	o.external_id = "B-OWNED";
	assert_ok(pf_guest_put(tdb, &o));

	const char *path = imp_file("batches.csv",
		"id,external_id,name,email\n"                                       /* 1 */
		",B-1,Alpha,alpha@example.com\n"                                    /* 2 */
		",B-2,,beta@example.com\n"                                          /* 3: no name */
		",B-3,Gamma,gamma@example.com\n"                                    /* 4 */
		"7d9f6a52-3c1e-4b7a-9a51-0c2f1e6d8b11,B-OWNED,Delta,delta@example.com\n" /* 5 */
		",B-5,Epsilon,epsilon@example.com\n"                                /* 6 */
		",B-6,Zeta,zeta@example.com\n", -1);                                /* 7 */
	pf_import_options opts = PF_IMPORT_OPTIONS_INIT;
	opts.batch_size = 2;
	pf_import_report *rep = imp_csv(path, &opts);
	cr_assert(eq(u64, rep->rows, 6));
	cr_assert(eq(u64, rep->created, 4));
	cr_assert(eq(u64, rep->rejected, 2));
	cr_assert(imp_has(imp_reject(rep, 3), "missing name"));
	cr_assert(imp_has(imp_reject(rep, 5), "belongs to guest"), "%s", imp_reject(rep, 5));
	pf_import_report_free(rep);
	cr_assert(eq(sz, imp_count("alpha@example.com"), 1));
	cr_assert(eq(sz, imp_count("gamma@example.com"), 1));
	cr_assert(eq(sz, imp_count("epsilon@example.com"), 1));
	cr_assert(eq(sz, imp_count("zeta@example.com"), 1));
	cr_assert(eq(sz, imp_count("delta@example.com"), 0));
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &o.id));
	cr_assert(eq(str, (char *)g->name, "Owner"), "the owner is untouched");
	pf_guest_free(g);
}

Test(import, bad_header_or_arguments_refuse_the_file)
{
	pf_import_report *rep = (pf_import_report *)1;
	const char *p = imp_file("unknown.csv", "external_id,name,emial\nX-1,A,a@example.com\n", -1);
	cr_assert(eq(int, pf_import_csv(&rep, tdb, p, NULL), PF_EINVAL));
	cr_assert(rep == NULL);
	cr_assert(imp_has(pf_errmsg(), "unknown column 'emial'"), "%s", pf_errmsg());

	p = imp_file("noname.csv", "external_id,email\nX-1,a@example.com\n", -1);
	cr_assert(eq(int, pf_import_csv(&rep, tdb, p, NULL), PF_EINVAL));
	cr_assert(imp_has(pf_errmsg(), "no 'name' column"));

	p = imp_file("twice.csv", "name,email,Email\nA,a@example.com,b@example.com\n", -1);
	cr_assert(eq(int, pf_import_csv(&rep, tdb, p, NULL), PF_EINVAL));
	cr_assert(imp_has(pf_errmsg(), "twice"));

	p = imp_file("badcat.csv", "name,pref:Room Floor\nA,1\n", -1);
	cr_assert(eq(int, pf_import_csv(&rep, tdb, p, NULL), PF_EINVAL));

	p = imp_file("empty.csv", "", 0);
	cr_assert(eq(int, pf_import_csv(&rep, tdb, p, NULL), PF_EINVAL));

	cr_assert(eq(sz, imp_count("a@example.com"), 0), "nothing was written");

	char missing[600];
	snprintf(missing, sizeof missing, "%s/nope.csv", tdir);
	cr_assert(eq(int, pf_import_csv(&rep, tdb, missing, NULL), PF_ENOTFOUND));
	cr_assert(eq(int, pf_import_jsonl(&rep, tdb, missing, NULL), PF_ENOTFOUND));
	cr_assert(eq(int, pf_import_csv(&rep, tdb, tdir, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_import_csv(NULL, tdb, p, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_import_csv(&rep, NULL, p, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_import_csv(&rep, tdb, "", NULL), PF_EINVAL));
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.version = 99;
	cr_assert(eq(int, pf_import_csv(&rep, tdb, p, &o), PF_EINVAL));
	o.version = PF_IMPORT_OPTIONS_VERSION;
	o.department = "Front Desk";
	cr_assert(eq(int, pf_import_jsonl(&rep, tdb, p, &o), PF_EINVAL));
	cr_assert(rep == NULL);
	pf_import_report_free(NULL);
}

Test(import, read_only_database_is_refused_up_front)
{
	const char *p = imp_file("ro.csv", "name\nA\n", -1);
	pf_close(tdb);
	pf_options o = test_options();
	o.flags = PF_OPEN_READONLY;
	assert_ok(pf_open(&tdb, tdir, &o));
	pf_import_report *rep = NULL;
	cr_assert(eq(int, pf_import_csv(&rep, tdb, p, NULL), PF_EREADONLY));
	cr_assert(rep == NULL);
}

Test(import, preference_columns_and_kinds)
{
	const char *p = imp_file("prefs.csv",
		"name,email,pref:room.floor,dislike:room.pillow,need:access.hearing,"
		"like:amenity.flower,note:amenity.flower\n"
		"Kinds,kinds@example.com,need: ground floor,feather,visual alarm,lily,asked twice\n"
		"Stray Note,stray@example.com,,,,,a note without a value\n"
		"Prefix,prefix@example.com,dislike:high,,,need:x,\n", -1);
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.department = "reservations";
	pf_import_report *rep = imp_csv(p, &o);
	cr_assert(eq(u64, rep->created, 2));
	cr_assert(eq(u64, rep->rejected, 1));
	cr_assert(imp_has(imp_reject(rep, 3), "no value"));
	pf_import_report_free(rep);

	pf_guest *g = imp_find1("kinds@example.com");
	const pf_pref *f = imp_pref(g, "room.floor");
	cr_assert(eq(int, f->kind, PF_NEED));
	cr_assert(eq(str, (char *)f->value, "ground floor"));
	cr_assert(eq(str, (char *)f->department, "reservations"));
	cr_assert(eq(int, imp_pref(g, "room.pillow")->kind, PF_DISLIKE));
	cr_assert(eq(int, imp_pref(g, "access.hearing")->kind, PF_NEED));
	cr_assert(eq(str, (char *)imp_pref(g, "amenity.flower")->note, "asked twice"));
	pf_guest_free(g);
	g = imp_find1("prefix@example.com");
	cr_assert(eq(int, imp_pref(g, "room.floor")->kind, PF_DISLIKE));
	/* like: columns take the value as written, prefix and all. */
	cr_assert(eq(int, imp_pref(g, "amenity.flower")->kind, PF_LIKE));
	cr_assert(eq(str, (char *)imp_pref(g, "amenity.flower")->value, "need:x"));
	pf_guest_free(g);
}

Test(import, each_written_row_is_journaled)
{
	const char *p = imp_file("journal.csv",
		"external_id,name,pref:room.floor,need:access.hearing\n"
		"J-1,Journal Guest,10,visual alarm\n", -1);
	pf_import_report *rep = imp_csv(p, NULL);
	pf_import_report_free(rep);
	pf_guest *g = imp_find1("journal guest");
	pf_journal_iterator *it = NULL;
	assert_ok(pf_journal_iter(&it, tdb, 0, &g->id));
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_next(&e, it));
	cr_assert(eq(str, (char *)e->op, "import.row"));
	cr_assert(eq(str, (char *)e->actor, "import"));
	cr_assert(eq(str, (char *)e->ref, "journal.csv"));
	bool line = false, action = false, name = false, pref = false, need = false;
	int kinds = 0;
	for (size_t i = 0; i < e->field_count; i++) {
		const pf_journal_field *f = &e->fields[i];
		line |= strcmp(f->name, "line") == 0 && strcmp(f->value, "2") == 0;
		action |= strcmp(f->name, "action") == 0 && strcmp(f->value, "created") == 0;
		name |= strcmp(f->name, "name") == 0 && strcmp(f->value, "Journal Guest") == 0;
		pref |= strcmp(f->name, "pref") == 0 && strcmp(f->value, "room.floor") == 0;
		/* The need says its kind, right after its value; the like
		 * (room.floor) does not. */
		if (strcmp(f->name, "kind") == 0) {
			kinds++;
			need |= strcmp(f->value, "need") == 0 && i >= 2 &&
			        strcmp(e->fields[i - 1].value, "visual alarm") == 0 &&
			        strcmp(e->fields[i - 2].value, "access.hearing") == 0;
		}
	}
	cr_assert(line && action && name && pref);
	cr_assert(need, "the need's kind is not journaled after it");
	cr_assert(eq(int, kinds, 1), "the like's kind was journaled");
	cr_assert(eq(int, pf_journal_next(&e, it), PF_ITEROVER));
	pf_journal_iterator_free(it);
	pf_guest_free(g);
}

Test(import, external_id_is_unique_and_kept_by_updates)
{
	pf_guest a = PF_GUEST_INIT;
	a.name = "First";
	a.external_id = "PMS-77";
	assert_ok(pf_guest_put(tdb, &a));
	pf_guest b = PF_GUEST_INIT;
	b.name = "Second";
	b.external_id = "PMS-77";
	cr_assert(eq(int, pf_guest_put(tdb, &b), PF_EEXIST));
	cr_assert(pf_id_is_zero(&b.id));

	/* Updating the holder itself is fine; the id moves when changed. */
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &a.id));
	cr_assert(eq(str, (char *)g->external_id, "PMS-77"));
	pf_guest c = *g;
	c.email = "first@example.com";
	assert_ok(pf_guest_put(tdb, &c));
	c.external_id = "PMS-78";
	assert_ok(pf_guest_put(tdb, &c));
	pf_guest_free(g);
	b.external_id = "PMS-77";   /* free again */
	assert_ok(pf_guest_put(tdb, &b));

	char big[PF_FIELD_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	pf_guest d = PF_GUEST_INIT;
	d.name = "Too Long";
	d.external_id = big;
	cr_assert(eq(int, pf_guest_put(tdb, &d), PF_EINVAL));
	d.external_id = "";
	cr_assert(eq(int, pf_guest_put(tdb, &d), PF_EINVAL));

	/* An import matches the guest by its external id. */
	const char *p = imp_file("match.csv", "external_id,name\nPMS-78,First Renamed\n", -1);
	pf_import_report *rep = imp_csv(p, NULL);
	cr_assert(eq(u64, rep->updated, 1));
	pf_import_report_free(rep);
	assert_ok(pf_guest_get(&g, tdb, &a.id));
	cr_assert(eq(str, (char *)g->name, "First Renamed"));
	cr_assert(eq(str, (char *)g->email, "first@example.com"), "absent columns are kept");
	pf_guest_free(g);
}

Test(import, csv_country_column)
{
	/* As booking exports write it: ISO 3166-1 alpha-3, "NULL" or empty
	 * for unknown; anything else is refused, naming the column. */
	const char *path = imp_file("country.csv",
		"external_id,name,country\n"         /* 1 */
		"K-1,Porto Guest,PRT\n"              /* 2 */
		"K-2,Lower Case, mac \n"             /* 3 */
		"K-3,Unknown Null,NULL\n"            /* 4 */
		"K-4,Unknown Empty,\n"               /* 5 */
		"K-5,Two Letters,CN\n"               /* 6 */
		"K-6,Digits,P1T\n"                   /* 7 */
		"K-7,Four Letters,PRTX\n", -1);      /* 8 */
	pf_import_report *rep = imp_csv(path, NULL);
	cr_assert(eq(u64, rep->created, 4));
	cr_assert(eq(u64, rep->rejected, 3));
	for (uint64_t line = 6; line <= 8; line++)
		cr_assert(imp_has(imp_reject(rep, line), "column 3 'country' is not an ISO 3166-1 "
		                  "alpha-3"), "%s", imp_reject(rep, line));
	pf_import_report_free(rep);

	pf_guest *g = imp_find1("porto guest");
	cr_assert(eq(str, (char *)g->country, "PRT"));
	pf_id porto = g->id;
	pf_guest_free(g);
	g = imp_find1("lower case");
	cr_assert(eq(str, (char *)g->country, "MAC"));
	pf_guest_free(g);
	g = imp_find1("unknown null");
	cr_assert(g->country == NULL);
	pf_guest_free(g);
	g = imp_find1("unknown empty");
	cr_assert(g->country == NULL);
	pf_guest_free(g);
	cr_assert(eq(sz, imp_count("two letters"), 0));

	/* Unknown leaves a stored country alone; a new code replaces it. */
	rep = imp_csv(imp_file("country2.csv",
		"external_id,name,country\nK-1,Porto Guest,NULL\n", -1), NULL);
	cr_assert(eq(u64, rep->updated, 1));
	pf_import_report_free(rep);
	assert_ok(pf_guest_get(&g, tdb, &porto));
	cr_assert(eq(str, (char *)g->country, "PRT"));
	pf_guest_free(g);
	rep = imp_csv(imp_file("country3.csv",
		"external_id,name,country\nK-1,Porto Guest,ESP\n", -1), NULL);
	pf_import_report_free(rep);
	assert_ok(pf_guest_get(&g, tdb, &porto));
	cr_assert(eq(str, (char *)g->country, "ESP"));
	pf_guest_free(g);
}

Test(import, jsonl_country_key)
{
	const char *path = imp_file("country.jsonl",
		"{\"external_id\":\"Q-1\",\"name\":\"Macau Guest\",\"country\":\"MAC\"}\n"   /* 1 */
		"{\"external_id\":\"Q-2\",\"name\":\"Null Country\",\"country\":null}\n"     /* 2 */
		"{\"external_id\":\"Q-3\",\"name\":\"Text Null\",\"country\":\"NULL\"}\n"    /* 3 */
		"{\"external_id\":\"Q-4\",\"name\":\"Number\",\"country\":620}\n"            /* 4 */
		"{\"external_id\":\"Q-5\",\"name\":\"Bad Code\",\"country\":\"P-T\"}\n", -1); /* 5 */
	pf_import_report *rep = imp_jsonl(path, NULL);
	cr_assert(eq(u64, rep->created, 3));
	cr_assert(eq(u64, rep->rejected, 2));
	cr_assert(imp_has(imp_reject(rep, 4), "field 'country' is not a string or null"));
	cr_assert(imp_has(imp_reject(rep, 5), "field 'country' is not an ISO 3166-1 alpha-3"));
	pf_import_report_free(rep);
	pf_guest *g = imp_find1("macau guest");
	cr_assert(eq(str, (char *)g->country, "MAC"));
	pf_guest_free(g);
	g = imp_find1("null country");
	cr_assert(g->country == NULL);
	pf_guest_free(g);
	g = imp_find1("text null");
	cr_assert(g->country == NULL);
	pf_guest_free(g);
}

/* "id,external_id,name,email" rows S-1..S-n (no ids: generated). */
static const char *imp_rows(const char *name, int n, int conflict_at)
{
	size_t cap = 64 + (size_t)n * 96, len = 0;
	char *t = malloc(cap);
	cr_assert(t != NULL);
	len += (size_t)snprintf(t + len, cap - len, "id,external_id,name,email\n");
	for (int i = 1; i <= n; i++) {
		if (i == conflict_at)   /* another id with an external id that is taken */
			len += (size_t)snprintf(t + len, cap - len, "7d9f6a52-3c1e-4b7a-9a51-0c2f1e6d8b11,"
			                        "S-OWNED,Sync Conflict,c@example.com\n");
		else
			len += (size_t)snprintf(t + len, cap - len, ",S-%d,Sync Guest %d,s%d@example.com\n",
			                        i, i, i);
	}
	const char *p = imp_file(name, t, (long)len);
	free(t);
	return p;
}

/* Durable at return: every batch's data pages are flushed when it commits
 * (MDB_NOMETASYNC keeps the file intact after a power loss), and one
 * forced sync after the last batch makes the last meta page durable too. */
Test(import, one_flush_per_batch_and_one_sync_at_the_end)
{
	const char *p = imp_rows("sync.csv", 2500, 0);
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.batch_size = 1000;
	imp_syncs = 0;
	pf_import_report *rep = imp_csv(p, &o);
	cr_assert(eq(u64, rep->created, 2500));
	pf_import_report_free(rep);
	cr_assert(eq(ulong, imp_syncs, 3 + 1), "%lu syncs for 3 batches", imp_syncs);
}

/* A row only the stored data refuses (its external id is another
 * guest's) is set aside inside its batch: the batch commits once with the
 * other rows instead of being redone one row per transaction. */
Test(import, a_row_refused_at_write_time_does_not_cost_its_batch)
{
	pf_guest o = PF_GUEST_INIT;
	o.name = "Owner";
	o.external_id = "S-OWNED";
	assert_ok(pf_guest_put(tdb, &o));
	const char *p = imp_rows("conflict.csv", 50, 20);
	imp_syncs = 0;
	pf_import_report *rep = imp_csv(p, NULL);
	cr_assert(eq(u64, rep->rows, 50));
	cr_assert(eq(u64, rep->created, 49));
	cr_assert(eq(u64, rep->rejected, 1));
	cr_assert(imp_has(imp_reject(rep, 21), "belongs to guest"), "%s", imp_reject(rep, 21));
	pf_import_report_free(rep);
	cr_assert(eq(ulong, imp_syncs, 1 + 1), "%lu syncs: the batch was redone", imp_syncs);
	cr_assert(eq(sz, imp_count("c@example.com"), 0));
	cr_assert(eq(sz, imp_count("s50@example.com"), 1));
}

/* The import's MDB_NOMETASYNC is for its own commits: the next ordinary
 * write on the handle syncs its meta page again (and so does a handle
 * opened with PF_OPEN_NOMETASYNC keep its flag). */
Test(import, ordinary_commits_after_an_import_are_fully_synchronous)
{
	const char *p = imp_rows("after.csv", 10, 0);
	pf_import_report *rep = imp_csv(p, NULL);
	pf_import_report_free(rep);
	(void)add_guest("After Import", NULL, NULL);
	unsigned int flags = 0;
	cr_assert(eq(int, mdb_env_get_flags(tdb->env, &flags), 0));
	cr_assert(eq(u32, flags & MDB_NOMETASYNC, 0), "an ordinary commit ran without its meta sync");

	pf_close(tdb);
	tdb = NULL;
	pf_options nm = test_options();
	nm.flags = PF_OPEN_NOMETASYNC;
	assert_ok(pf_open(&tdb, tdir, &nm));
	p = imp_rows("after2.csv", 10, 0);
	rep = imp_csv(p, NULL);
	pf_import_report_free(rep);
	(void)add_guest("After Import Two", NULL, NULL);
	cr_assert(eq(int, mdb_env_get_flags(tdb->env, &flags), 0));
	cr_assert(ne(u32, flags & MDB_NOMETASYNC, 0), "PF_OPEN_NOMETASYNC was lost");
}

/* JSON Lines are read by a one-pass reader when they are simple (strings,
 * nulls, arrays of strings, a "prefs" object of strings) and by jansson
 * otherwise.  The same guest written both ways (line 2's consent as an
 * array, which only jansson reads) must come out the same, escapes and
 * all; and a simple line with a bad value is reported as jansson's path
 * reports it. */
Test(import, jsonl_simple_and_general_lines_read_alike)
{
	const char *common =
		"\"name\":\"Zo\\u00eb \\\"Z\\\" Ng\\t\\ud83d\\ude00\\/x\",\"tier\":\"Gold\","
		"\"country\":\"prt\",\"language\":\"pt\",\"loyalty_no\":null,\"birth_date\":\"1980-01-31\","
		"\"tags\":[\"vip\",\" repeat_guest \",\"\"],"
		"\"prefs\":{\"room.floor\":\"need:high\",\"food.cuisine\":\" dislike:spicy \","
		"\"drink.tea\":null,\"room.view\":\"  \",\"amenity.pillow\":\"like:foam\\u00e9\"}";
	char text[2048];
	snprintf(text, sizeof text,
	         "{\"external_id\":\"F-1\",\"email\":\"f1@example.com\",\"consent\":\"marketing\",%s}\n"
	         "{\"external_id\":\"F-2\",\"email\":\"f2@example.com\",\"consent\":[\"marketing\"],%s}\n"
	         "{\"external_id\":\"F-3\",\"name\":\"Bad Tier\",\"tier\":\"diamond\"}\n"
	         "{\"external_id\":\"F-4\",\"name\":\"Bad\\u0000Nul\"}\n",
	         common, common);
	pf_import_report *rep = imp_jsonl(imp_file("alike.jsonl", text, -1), NULL);
	cr_assert(eq(u64, rep->created, 2));
	cr_assert(eq(u64, rep->rejected, 2));
	cr_assert(imp_has(imp_reject(rep, 3), "field 'tier': 'diamond' is not one of"), "%s",
	          imp_reject(rep, 3));
	cr_assert(imp_has(imp_reject(rep, 4), "invalid JSON"), "%s", imp_reject(rep, 4));
	pf_import_report_free(rep);

	pf_guest *a = imp_find1("f1@example.com"), *b = imp_find1("f2@example.com");
	cr_assert(eq(str, (char *)a->name, "Zo\xc3\xab \"Z\" Ng\t\xf0\x9f\x98\x80/x"));
	const pf_guest *g[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		cr_assert(eq(str, (char *)g[i]->name, (char *)a->name));
		cr_assert(eq(int, g[i]->tier, PF_TIER_GOLD));
		cr_assert(eq(str, (char *)g[i]->country, "PRT"));
		cr_assert(eq(str, (char *)g[i]->language, "pt"));
		cr_assert(eq(i32, g[i]->birth_date, 19800131));
		cr_assert(eq(u32, g[i]->consent, PF_CONSENT_MARKETING));
		cr_assert(eq(sz, g[i]->tag_count, 2));
		cr_assert(eq(str, (char *)g[i]->tags[0], "vip"));
		cr_assert(eq(str, (char *)g[i]->tags[1], "repeat_guest"));
		cr_assert(eq(sz, g[i]->pref_count, 3));
		cr_assert(eq(int, imp_pref(g[i], "room.floor")->kind, PF_NEED));
		cr_assert(eq(str, (char *)imp_pref(g[i], "room.floor")->value, "high"));
		cr_assert(eq(int, imp_pref(g[i], "food.cuisine")->kind, PF_LIKE),
		          "a prefix after a blank is part of the value, as before");
		cr_assert(eq(str, (char *)imp_pref(g[i], "amenity.pillow")->value, "foam\xc3\xa9"));
	}
	cr_assert(eq(str, (char *)imp_pref(a, "food.cuisine")->value,
	             (char *)imp_pref(b, "food.cuisine")->value));
	pf_guest_free(a);
	pf_guest_free(b);
}
