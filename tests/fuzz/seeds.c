/*
 * seeds.c — writes the fuzzers' starting corpora from records the library
 * itself produced, so that every target starts from valid input and the
 * mutations explore the edges of real records rather than of noise.
 *
 *   seeds CORPUS_DIR RULE_BOOK
 *
 * builds a realistic database through the public API in a temporary
 * directory (guests with preferences, notes and stays, the rule book,
 * fired check-ins with prompts acknowledged, done and dismissed, a
 * complaint resolved and followed up, a merge), then writes:
 *
 *   CORPUS_DIR/codec/<db>-<n>     every stored value of the record
 *                                 databases, and each merge record
 *   CORPUS_DIR/rules/<n>.rules    each stored rule's source
 *   CORPUS_DIR/import_csv/export.csv, import_jsonl/export.jsonl
 *                                 pf_export_csv / pf_export_jsonl
 *   CORPUS_DIR/render/<n>         the rule book, a NUL, and the
 *                                 description of a stored guest in the
 *                                 form fuzz_render.c reads
 *
 * The Makefile copies the example CSV files and the rule book beside them.
 * Built with the library's sources by tests/fuzz/Makefile.inc; uses
 * the internal headers only to read the raw LMDB values.
 */
#include "fuzz_common.h"
#include "merge.h"

static const char *corpus;
static unsigned written;

static void ok(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "seeds: %s: %s (%s)\n", what, pf_strerror(rc), pf_errmsg());
		exit(1);
	}
}

static void put_file(const char *sub, const char *name, const void *data, size_t len)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", corpus, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/%s", corpus, sub, name);
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		fprintf(stderr, "seeds: cannot write %s\n", path);
		exit(1);
	}
	written++;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "seeds: cannot read %s\n", path);
		exit(1);
	}
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n + 4096 > cap && !(buf = realloc(buf, cap = 2 * cap + 4096)))
			exit(1);
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---------------------------------------------------------------- the scene */

typedef struct seed_pref {
	const char *cat, *value;
	pf_pref_kind kind;
	const char *dept, *note;
} seed_pref;

static pf_id add(pf_db *db, const char *name, const char *email, const char *phone,
                 const char *lang, const char *loyalty, const char *ext, pf_tier tier,
                 pf_date birth, const char *const *tags, size_t ntags,
                 const seed_pref *prefs, size_t nprefs)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	g.phone = phone;
	g.language = lang;
	g.loyalty_no = loyalty;
	g.external_id = ext;
	g.tier = tier;
	g.birth_date = birth;
	g.tags = tags;
	g.tag_count = ntags;
	g.consent = PF_CONSENT_PROFILING | (tier >= PF_TIER_GOLD ? PF_CONSENT_MARKETING : 0);
	ok(pf_guest_put(db, &g), "pf_guest_put");
	for (size_t i = 0; i < nprefs; i++) {
		pf_observation o = PF_OBSERVATION_INIT;
		o.kind = prefs[i].kind;
		o.department = prefs[i].dept;
		o.note = prefs[i].note;
		o.staff = "lina";
		ok(pf_pref_set(db, &g.id, prefs[i].cat, prefs[i].value, &o), "pf_pref_set");
	}
	return g.id;
}

static void stay(pf_db *db, const pf_id *g, pf_date a, pf_date d, const char *room,
                 uint32_t party)
{
	pf_stay s = { PF_STAY_VERSION, *g, "MFM1", room, a, d, party };
	ok(pf_stay_add(db, &s), "pf_stay_add");
}

static pf_prompt_list *fire(pf_db *db, const char *id, pf_event_kind kind, const pf_id *g,
                            const char *room, pf_date a, pf_date d, uint32_t party)
{
	pf_event ev = PF_EVENT_INIT;
	ev.id = id;
	ev.kind = kind;
	ev.guest = *g;
	ev.property = "MFM1";
	ev.room = room;
	ev.arrival = a;
	ev.departure = d;
	ev.party = party;
	pf_prompt_list *l = NULL;
	ok(pf_fire(&l, db, &ev), "pf_fire");
	return l;
}

static pf_id guests[8];
static size_t nguests;

static void scene(pf_db *db, const char *book)
{
	static const char *const vip[] = { "vip", "advertising" };
	static const char *const fam[] = { "family" };
	static const seed_pref zw[] = {
		{ "room.floor", "10", PF_LIKE, "front_desk", "high up, away from the lift" },
		{ "pillow.type", "feather", PF_DISLIKE, "housekeeping", NULL },
		{ "amenity.flower", "lily", PF_LIKE, "housekeeping", NULL },
		{ "access.hearing", "hard of hearing", PF_NEED, "front_desk", "speak on the left side" },
		{ "dining.cuisine", "cantonese", PF_LIKE, "restaurant", NULL },
	};
	static const seed_pref el[] = {
		{ "allergy.peanuts", "severe", PF_NEED, "restaurant", "carries an EpiPen" },
		{ "room.bed", "king", PF_LIKE, "front_desk", NULL },
		{ "room.location", "near lift", PF_DISLIKE, "front_desk", NULL },
	};
	static const seed_pref ob[] = {
		{ "room.cot", "baby cot", PF_NEED, "housekeeping", NULL },
		{ "reading.newspaper", "The Times", PF_LIKE, "concierge", NULL },
		{ "number.lucky", "8", PF_LIKE, "front_desk", NULL },
	};
	static const seed_pref dup[] = {
		{ "room.floor", "12", PF_LIKE, "front_desk", NULL },
		{ "minibar.drink", "oolong tea", PF_LIKE, "housekeeping", "no sugar" },
	};

	guests[nguests++] = add(db, "Zhuang Wei", "zhuang.wei@example.mo", "+853 6123 4567", "zh",
	                        "LX-100200", "PMS-0001", PF_TIER_PLATINUM, 19801124, vip, 2, zw, 5);
	guests[nguests++] = add(db, "Élodie Martin", "elodie.martin@example.fr", "+33 1 55 55 01 02",
	                        "fr", NULL, "PMS-0002", PF_TIER_GOLD, 19921201, NULL, 0, el, 3);
	guests[nguests++] = add(db, "Oliver Bennett", "oliver.bennett@example.co.uk", "+44 20 7946 0101",
	                        "en", "LX-200117", "CRM-0001", PF_TIER_SILVER, 19840312, fam, 1, ob, 3);
	guests[nguests++] = add(db, "莊偉", NULL, "+853 6555 0000", "zh-Hant", NULL, NULL, PF_TIER_NONE,
	                        0, NULL, 0, NULL, 0);
	pf_id dupe = add(db, "Zhuang  Wei", "ZHUANG.WEI@example.mo", NULL, NULL, NULL, "OLD-77",
	                 PF_TIER_GOLD, 19801124, fam, 1, dup, 2);

	stay(db, &guests[0], 20250802, 20250809, "1012", 2);
	stay(db, &guests[0], 20260110, 20260112, "1108", 1);
	stay(db, &guests[2], 20240501, 20240504, "612", 3);
	stay(db, &dupe, 20230301, 20230305, "905", 1);

	pf_rule_error err;
	ok(pf_rules_load(db, "hotel.rules", book, strlen(book), &err), "pf_rules_load");

	pf_prompt_list *a = fire(db, "RES-1001", PF_EVENT_RESERVATION, &guests[0], NULL,
	                         20261123, 20261126, 2);
	pf_prompt_list *b = fire(db, "CHK-1001", PF_EVENT_CHECK_IN, &guests[0], "1012",
	                         20261123, 20261126, 2);
	pf_prompt_list *c = fire(db, "CHK-1002", PF_EVENT_CHECK_IN, &guests[1], "508",
	                         20261123, 20261124, 1);
	pf_prompt_list *d = fire(db, "CHK-1003", PF_EVENT_CHECK_IN, &guests[2], "612",
	                         20261123, 20261128, 3);
	pf_prompt_list_free(fire(db, "MOV-1003", PF_EVENT_ROOM_CHANGE, &guests[2], "614",
	                         20261123, 20261128, 3));
	if (b->count > 0)
		ok(pf_prompt_ack(db, &b->items[0].id, "mei"), "pf_prompt_ack");
	if (b->count > 1)
		ok(pf_prompt_done(db, &b->items[1].id, "mei"), "pf_prompt_done");
	if (c->count > 0)
		ok(pf_prompt_dismiss(db, &c->items[0].id, "ana", "guest declined"), "pf_prompt_dismiss");
	pf_prompt_list_free(a);
	pf_prompt_list_free(b);
	pf_prompt_list_free(c);
	pf_prompt_list_free(d);

	pf_feedback fb = PF_FEEDBACK_INIT;
	fb.guest = guests[1];
	fb.stay = 20261123;
	fb.department = "housekeeping";
	fb.category = "noise";
	fb.text = "Room next to the lift was too noisy at night";
	fb.severity = 2;
	fb.recorded_by = "ana";
	pf_pref learn = { "room.location", "near_lift", PF_DISLIKE, NULL, NULL, NULL, 0, 0, 0 };
	ok(pf_feedback_add(db, &fb, &learn), "pf_feedback_add");
	ok(pf_feedback_resolve(db, &fb.id, "ana", "moved to a quiet room on floor 14"),
	   "pf_feedback_resolve");
	ok(pf_feedback_followup(db, &fb.id, "joao", PF_OUTCOME_SATISFIED), "pf_feedback_followup");
	pf_feedback cm = PF_FEEDBACK_INIT;
	cm.guest = guests[2];
	cm.kind = PF_FEEDBACK_COMPLIMENT;
	cm.department = "restaurant";
	cm.category = "food";
	cm.text = "Breakfast was excellent";
	cm.recorded_by = "rui";
	ok(pf_feedback_add(db, &cm, NULL), "pf_feedback_add compliment");

	ok(pf_guest_not_duplicate(db, &guests[0], &guests[3]), "pf_guest_not_duplicate");
	pf_id merge;
	ok(pf_guest_merge(&merge, db, &guests[0], &dupe), "pf_guest_merge");
}

/* ---------------------------------------------------------------- dumps */

static int dump_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	(void)arg;
	static const enum pf_dbi records[] = {
		PF_DBI_GUEST, PF_DBI_STAY, PF_DBI_RULE, PF_DBI_EVENT, PF_DBI_PROMPT,
		PF_DBI_FEEDBACK, PF_DBI_JOURNAL, PF_DBI_META,
	};
	for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
		enum pf_dbi d = records[i];
		MDB_cursor *c;
		MDB_val k, v;
		unsigned n = 0;
		int rc = mdb_cursor_open(txn, db->dbi[d], &c);
		if (rc)
			return pf_lmdb_err(rc, "seeds");
		while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
			char name[64];
			const char *label = pf_dbi_names[d];
			if (d == PF_DBI_META) {
				/* Only merge records are records; the rest are counters. */
				if (k.mv_size < strlen(PF_META_MERGE) ||
				    memcmp(k.mv_data, PF_META_MERGE, strlen(PF_META_MERGE)))
					continue;
				label = "merge";
			}
			/* Feedback's per-guest index keys hold empty values. */
			if (v.mv_size == 0)
				continue;
			snprintf(name, sizeof name, "%s-%03u", label, n++);
			put_file("codec", name, v.mv_data, v.mv_size);
			if (d == PF_DBI_RULE) {
				pf_rule_rec r;
				if (pf_codec_rule_decode(&r, v.mv_data, v.mv_size) == 0) {
					snprintf(name, sizeof name, "stored-%03u.rules", n);
					put_file("rules", name, r.source, strlen(r.source));
					free(r.source);
				}
			}
		}
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			return pf_lmdb_err(rc, "seeds");
	}
	return 0;
}

static const char *kind_word(pf_pref_kind k)
{
	return k == PF_NEED ? "need" : k == PF_DISLIKE ? "dislike" : "like";
}

/* A stored guest in fuzz_render.c's description form, after the book. */
static void render_seed(pf_db *db, const pf_id *id, const char *book, unsigned n,
                        const char *event, const char *room, int party)
{
	pf_guest *g = NULL;
	ok(pf_guest_get(&g, db, id), "pf_guest_get");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fputs(book, f);
	fputc('\0', f);
	fprintf(f, "name %s\n", g->name);
	if (g->email)
		fprintf(f, "email %s\n", g->email);
	if (g->language)
		fprintf(f, "lang %s\n", g->language);
	if (g->loyalty_no)
		fprintf(f, "loyalty %s\n", g->loyalty_no);
	fprintf(f, "tier %s\n", pf_tier_name(g->tier));
	fprintf(f, "consent %u\n", g->consent);
	if (g->birth_date)
		fprintf(f, "birth %d\n", (int)g->birth_date);
	for (size_t i = 0; i < g->tag_count; i++)
		fprintf(f, "tag %s\n", g->tags[i]);
	for (size_t i = 0; i < g->pref_count; i++) {
		const pf_pref *p = &g->prefs[i];
		fprintf(f, "%s %s %s", kind_word(p->kind), p->category, p->value);
		if (p->note)
			fprintf(f, "\t%s", p->note);
		fputc('\n', f);
	}
	pf_stay_list *sl = NULL;
	ok(pf_stay_list_get(&sl, db, id), "pf_stay_list_get");
	for (size_t i = 0; i < sl->count; i++)
		fprintf(f, "stay %d %d\n", (int)sl->items[i].arrival, (int)sl->items[i].departure);
	pf_stay_list_free(sl);
	if (g->complaints_total)
		fprintf(f, "complaint noise Room next to the lift was too noisy at night\n");
	fprintf(f, "event %s\n", event);
	if (room)
		fprintf(f, "room %s\n", room);
	if (party)
		fprintf(f, "party %d\n", party);
	fprintf(f, "arrival 20261123\ndeparture 20261201\n");
	fclose(f);
	char name[32];
	snprintf(name, sizeof name, "guest-%u", n);
	put_file("render", name, buf, len);
	free(buf);
	pf_guest_free(g);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: seeds CORPUS_DIR RULE_BOOK\n");
		return 2;
	}
	corpus = argv[1];
	mkdir(corpus, 0755);
	size_t booklen;
	char *book = slurp(argv[2], &booklen);

	pf_db *db = fuzz_env();
	scene(db, book);
	ok(pf_store_read(db, dump_txn, NULL), "dump");

	char path[600];
	snprintf(path, sizeof path, "%s/import_csv", corpus);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/import_csv/export.csv", corpus);
	ok(pf_export_csv(db, path), "pf_export_csv");
	snprintf(path, sizeof path, "%s/import_jsonl", corpus);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/import_jsonl/export.jsonl", corpus);
	ok(pf_export_jsonl(db, path), "pf_export_jsonl");
	written += 2;

	static const char *const events[] = { "check_in", "reservation", "room_change", "check_out" };
	for (size_t i = 0; i < nguests; i++)
		render_seed(db, &guests[i], book, (unsigned)i, events[i % 4], i % 2 ? NULL : "1012",
		            (int)i);
	/* The same guests under a one-rule book, so short books are seeded too. */
	const char *small = "rule hello\n  on check_in\n  when tier >= gold or need access.hearing\n"
	                    "  notify front_desk high \"Welcome back {name} ({tier}), stay {stays + 1}"
	                    " in room {room}: {{not a placeholder}} {pref room.floor}\"\n";
	render_seed(db, &guests[0], small, 100, "check_in", "1012", 2);

	fuzz_env_close();
	free(book);
	printf("seeds: wrote %u corpus files under %s\n", written, corpus);
	return 0;
}
