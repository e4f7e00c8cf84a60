/*
 * sqlite_side.c — the SQLite baseline of `make bench`, written the way a
 * competent developer would do it without libprofile.
 *
 * A normalised schema (guests, contacts, names, prefs, stays, events,
 * prompts; WITHOUT ROWID where the key is the natural one), the indexes
 * the queries need, every statement prepared once, WAL, one transaction
 * per event (BEGIN IMMEDIATE ... COMMIT), and the rule book evaluated in
 * C (rules_c.c) over the rows read.  Loading is one transaction for the
 * whole population, from the generator's structs (no file parsing: this
 * favours SQLite).  No journal of changes is kept (libprofile keeps one).
 */
#include "bench.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	S_GUEST_INS, S_CONTACT_INS, S_NAME_INS, S_PREF_INS, S_STAY_INS, S_STAY_GET, S_STAYS_INC,
	S_GUEST_GET, S_PREFS_GET, S_CONTACT_GET, S_NAME_GET, S_EVENT_GET, S_EVENT_INS,
	S_PROMPT_INS, S_PROMPTS_OF_EVENT, S_PENDING, S_BEGIN, S_COMMIT, S_BEGIN_READ, S_N
};

static const char *sql_text[S_N] = {
	[S_GUEST_INS] = "INSERT INTO guests(id, external_id, name, email, phone, language, country,"
	                " tier, consent, stays, created, updated) VALUES (?,?,?,?,?,?,?,?,?,0,?,?)",
	[S_CONTACT_INS] = "INSERT INTO contacts(kind, value, guest) VALUES (?,?,?)",
	[S_NAME_INS] = "INSERT INTO names(word, guest) VALUES (?,?)",
	[S_PREF_INS] = "INSERT INTO prefs(guest, category, value, kind, department, count,"
	               " first_seen, last_seen) VALUES (?,?,?,?,?,1,?,?)",
	[S_STAY_INS] = "INSERT INTO stays(guest, arrival, departure, room, party) VALUES (?,?,?,?,?)",
	[S_STAY_GET] = "SELECT 1 FROM stays WHERE guest = ? AND arrival = ?",
	[S_STAYS_INC] = "UPDATE guests SET stays = stays + 1, updated = ? WHERE id = ?",
	[S_GUEST_GET] = "SELECT name, email, phone, language, country, tier, consent, stays,"
	                " external_id FROM guests WHERE id = ?",
	[S_PREFS_GET] = "SELECT category, value, kind, department, count, first_seen, last_seen,"
	                " note FROM prefs WHERE guest = ? ORDER BY category",
	[S_CONTACT_GET] = "SELECT guest FROM contacts WHERE kind = ? AND value = ?",
	[S_NAME_GET] = "SELECT guest FROM names WHERE word >= ?1 AND word < ?2 ORDER BY word LIMIT 101",
	[S_EVENT_GET] = "SELECT 1 FROM events WHERE id = ?",
	[S_EVENT_INS] = "INSERT INTO events(id, kind, guest, time, arrival) VALUES (?,?,?,?,?)",
	[S_PROMPT_INS] = "INSERT INTO prompts(guest, event_id, department, rule, priority, text,"
	                 " status, created, due) VALUES (?,?,?,?,?,?,0,?,?)",
	[S_PROMPTS_OF_EVENT] = "SELECT department, text FROM prompts WHERE event_id = ? ORDER BY seq",
	[S_PENDING] = "SELECT seq, guest, event_id, department, rule, priority, text, status, created,"
	              " due FROM prompts WHERE department = ? AND status < 2"
	              " ORDER BY due, priority DESC LIMIT ?",
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_BEGIN_READ] = "BEGIN",
};

static const char *schema =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE TABLE IF NOT EXISTS guests(id BLOB PRIMARY KEY, external_id TEXT, name TEXT NOT NULL,"
	" email TEXT, phone TEXT, language TEXT, country TEXT, tier INTEGER NOT NULL,"
	" consent INTEGER NOT NULL, stays INTEGER NOT NULL, created INTEGER, updated INTEGER) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS contacts(kind TEXT NOT NULL, value TEXT NOT NULL, guest BLOB NOT NULL,"
	" PRIMARY KEY(kind, value, guest)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS names(word TEXT NOT NULL, guest BLOB NOT NULL,"
	" PRIMARY KEY(word, guest)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS prefs(guest BLOB NOT NULL, category TEXT NOT NULL, value TEXT NOT NULL,"
	" kind INTEGER NOT NULL, department TEXT NOT NULL, staff TEXT, note TEXT, count INTEGER NOT NULL,"
	" first_seen INTEGER, last_seen INTEGER, PRIMARY KEY(guest, category)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS stays(guest BLOB NOT NULL, arrival INTEGER NOT NULL, departure INTEGER,"
	" property TEXT, room TEXT, party INTEGER, PRIMARY KEY(guest, arrival)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS events(id TEXT PRIMARY KEY, kind INTEGER NOT NULL, guest BLOB NOT NULL,"
	" time INTEGER, arrival INTEGER) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS prompts(seq INTEGER PRIMARY KEY, guest BLOB NOT NULL, event_id TEXT NOT NULL,"
	" department TEXT NOT NULL, rule TEXT NOT NULL, priority INTEGER NOT NULL, text TEXT NOT NULL,"
	" status INTEGER NOT NULL, created INTEGER, due INTEGER, ack_by TEXT, ack_at INTEGER,"
	" done_by TEXT, done_at INTEGER);"
	"CREATE INDEX IF NOT EXISTS prompts_open ON prompts(department, due, priority DESC) WHERE status < 2;"
	"CREATE INDEX IF NOT EXISTS prompts_event ON prompts(event_id);";

struct sq_db {
	sqlite3 *db;
	sqlite3_stmt *st[S_N];
	const bench_book *book;
};

static void die(sq_db *s, const char *what)
{
	fprintf(stderr, "bench: sqlite: %s: %s\n", what, s->db ? sqlite3_errmsg(s->db) : "?");
	exit(1);
}

static void exec(sq_db *s, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench: sqlite: %s: %s\n", sql, err ? err : "?");
		exit(1);
	}
}

sq_db *sq_open(const char *path)
{
	sq_db *s = calloc(1, sizeof *s);
	if (!s || sqlite3_open(path, &s->db) != SQLITE_OK)
		die(s, "open");
	exec(s, schema);
	for (int i = 0; i < S_N; i++)
		if (sqlite3_prepare_v3(s->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL))
			die(s, sql_text[i]);
	return s;
}

void sq_close(sq_db *s)
{
	if (!s)
		return;
	for (int i = 0; i < S_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

void sq_set_book(sq_db *s, const bench_book *b) { s->book = b; }

void sq_synchronous(sq_db *s, const char *mode)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA synchronous = %s", mode);
	exec(s, sql);
}

void sq_checkpoint(sq_db *s) { exec(s, "PRAGMA wal_checkpoint(TRUNCATE)"); }

static void step_done(sq_db *s, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(s, sqlite3_sql(st));
	sqlite3_reset(st);
}

void sq_begin(sq_db *s) { step_done(s, s->st[S_BEGIN]); }
void sq_commit(sq_db *s) { step_done(s, s->st[S_COMMIT]); }

#define BLOB(st, i, id) sqlite3_bind_blob(st, i, (id)->b, 16, SQLITE_STATIC)
#define TEXT(st, i, t) sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC)

static void lower(char *d, const char *s, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++)
		d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	d[i] = '\0';
}

static void insert_guest(sq_db *s, const bench_guest *g, sqlite3_int64 now)
{
	char ext[24], buf[128], digits[24];
	snprintf(ext, sizeof ext, "PMS%08llu", (unsigned long long)g->idx);
	sqlite3_stmt *st = s->st[S_GUEST_INS];
	BLOB(st, 1, &g->id);
	TEXT(st, 2, ext);
	TEXT(st, 3, g->name);
	TEXT(st, 4, g->email);
	TEXT(st, 5, g->phone);
	TEXT(st, 6, g->language);
	TEXT(st, 7, g->country);
	sqlite3_bind_int(st, 8, (int)g->tier);
	sqlite3_bind_int(st, 9, PF_CONSENT_PROFILING);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now);
	step_done(s, st);
	st = s->st[S_CONTACT_INS];
	lower(buf, g->email, sizeof buf);
	TEXT(st, 1, "e");
	TEXT(st, 2, buf);
	BLOB(st, 3, &g->id);
	step_done(s, st);
	size_t nd = 0;
	for (const char *p = g->phone; *p && nd + 1 < sizeof digits; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	digits[nd] = '\0';
	TEXT(st, 1, "p");
	TEXT(st, 2, digits);
	BLOB(st, 3, &g->id);
	step_done(s, st);
	TEXT(st, 1, "x");
	TEXT(st, 2, ext);
	BLOB(st, 3, &g->id);
	step_done(s, st);
	st = s->st[S_NAME_INS];
	lower(buf, g->name, sizeof buf);
	for (char *w = buf; w; w = strchr(w, ' ')) {
		while (*w == ' ')
			w++;
		if (!*w)
			break;
		TEXT(st, 1, w);
		BLOB(st, 2, &g->id);
		step_done(s, st);
	}
	st = s->st[S_PREF_INS];
	for (int k = 0; k < g->npref; k++) {
		const bench_cat *c = &bench_cats[g->pref[k].cat];
		BLOB(st, 1, &g->id);
		TEXT(st, 2, c->name);
		TEXT(st, 3, c->vals[g->pref[k].val]);
		sqlite3_bind_int(st, 4, g->pref[k].kind);
		TEXT(st, 5, "import");
		sqlite3_bind_int64(st, 6, now);
		sqlite3_bind_int64(st, 7, now);
		step_done(s, st);
	}
}

double sq_load(sq_db *s, uint64_t n)
{
	double t = now_s();
	sqlite3_int64 now = (sqlite3_int64)time(NULL);
	exec(s, "BEGIN");
	bench_guest g;
	for (uint64_t i = 0; i < n; i++) {
		gen_guest(i, &g);
		insert_guest(s, &g, now);
	}
	exec(s, "COMMIT");
	return now_s() - t;
}

/* Add a stay if new; returns 1 if it was added. */
static int add_stay(sq_db *s, const pf_id *id, pf_date arr, pf_date dep, const char *room, int party)
{
	sqlite3_stmt *st = s->st[S_STAY_GET];
	BLOB(st, 1, id);
	sqlite3_bind_int(st, 2, arr);
	int exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (exists)
		return 0;
	st = s->st[S_STAY_INS];
	BLOB(st, 1, id);
	sqlite3_bind_int(st, 2, arr);
	sqlite3_bind_int(st, 3, dep);
	if (room)
		TEXT(st, 4, room);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int(st, 5, party);
	step_done(s, st);
	st = s->st[S_STAYS_INC];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	BLOB(st, 2, id);
	step_done(s, st);
	return 1;
}

void sq_load_stays(sq_db *s, uint64_t first, uint64_t n, int txn_per_stay, uint64_t *stays)
{
	bench_guest g;
	if (!txn_per_stay)
		sq_begin(s);
	for (uint64_t i = first; i < first + n; i++) {
		gen_guest(i, &g);
		for (int k = 0; k < g.nstays; k++) {
			pf_date a, d;
			gen_stay(&g, k, &a, &d);
			if (txn_per_stay)
				sq_begin(s);
			add_stay(s, &g.id, a, d, NULL, 0);
			if (txn_per_stay)
				sq_commit(s);
			(*stays)++;
		}
	}
	if (!txn_per_stay)
		sq_commit(s);
}

static const char *keep(char **p, char *end, const unsigned char *t)
{
	if (!t)
		return NULL;
	size_t l = strlen((const char *)t) + 1;
	if (*p + l > end)
		return "";
	char *r = *p;
	memcpy(r, t, l);
	*p += l;
	return r;
}

int sq_get(sq_db *s, const pf_id *id, bench_row_guest *g, char *buf, size_t bufsz)
{
	char *p = buf, *end = buf + bufsz;
	sqlite3_stmt *st = s->st[S_GUEST_GET];
	BLOB(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return PF_ENOTFOUND;
	}
	g->name = keep(&p, end, sqlite3_column_text(st, 0));
	keep(&p, end, sqlite3_column_text(st, 1));  /* email, phone, ... as a get returns them */
	keep(&p, end, sqlite3_column_text(st, 2));
	keep(&p, end, sqlite3_column_text(st, 3));
	keep(&p, end, sqlite3_column_text(st, 4));
	g->tier = sqlite3_column_int(st, 5);
	g->consent = (unsigned)sqlite3_column_int(st, 6);
	g->stays = sqlite3_column_int(st, 7);
	keep(&p, end, sqlite3_column_text(st, 8));
	sqlite3_reset(st);
	st = s->st[S_PREFS_GET];
	BLOB(st, 1, id);
	g->np = 0;
	while (sqlite3_step(st) == SQLITE_ROW && g->np < 64) {
		g->cat[g->np] = keep(&p, end, sqlite3_column_text(st, 0));
		g->val[g->np] = keep(&p, end, sqlite3_column_text(st, 1));
		g->kind[g->np] = sqlite3_column_int(st, 2);
		keep(&p, end, sqlite3_column_text(st, 3));
		(void)sqlite3_column_int64(st, 4);
		(void)sqlite3_column_int64(st, 5);
		(void)sqlite3_column_int64(st, 6);
		keep(&p, end, sqlite3_column_text(st, 7));
		g->np++;
	}
	sqlite3_reset(st);
	return 0;
}

int sq_find_email(sq_db *s, const char *email, int *found)
{
	char buf[128], gbuf[4096];
	lower(buf, email, sizeof buf);
	sqlite3_stmt *st = s->st[S_CONTACT_GET];
	TEXT(st, 1, "e");
	TEXT(st, 2, buf);
	pf_id ids[8];
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < 8)
		memcpy(ids[n++].b, sqlite3_column_blob(st, 0), 16);
	sqlite3_reset(st);
	bench_row_guest g;
	for (int i = 0; i < n; i++)
		sq_get(s, &ids[i], &g, gbuf, sizeof gbuf);
	*found = n;
	return 0;
}

int sq_find_prefix(sq_db *s, const char *prefix, int *found)
{
	char lo[128], hi[130], gbuf[4096];
	lower(lo, prefix, sizeof lo);
	snprintf(hi, sizeof hi, "%s\xff", lo);
	sqlite3_stmt *st = s->st[S_NAME_GET];
	TEXT(st, 1, lo);
	TEXT(st, 2, hi);
	pf_id ids[101];
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < 101) {
		const void *b = sqlite3_column_blob(st, 0);
		int dup = 0;
		for (int i = 0; i < n && !dup; i++)
			dup = !memcmp(ids[i].b, b, 16);
		if (!dup)
			memcpy(ids[n++].b, b, 16);
	}
	sqlite3_reset(st);
	if (n > PF_FIND_LIMIT)
		n = PF_FIND_LIMIT;
	bench_row_guest g;
	for (int i = 0; i < n; i++)
		sq_get(s, &ids[i], &g, gbuf, sizeof gbuf);
	*found = n;
	return 0;
}

int sq_preview(sq_db *s, const pf_id *id, int check_in, const char *room, int party,
               bench_prompt *out, int max)
{
	char buf[4096];
	bench_row_guest g;
	step_done(s, s->st[S_BEGIN_READ]);  /* guest row and prefs from one snapshot */
	int rc = sq_get(s, id, &g, buf, sizeof buf);
	step_done(s, s->st[S_COMMIT]);
	if (rc)
		return rc;
	return rules_c_eval(s->book, &g, check_in, room, party, out, max);
}

int sq_fire(sq_db *s, const char *event_id, const pf_id *id, int check_in,
            const char *room, int party, pf_date arrival, int own_txn)
{
	char buf[4096];
	bench_prompt pr[64];
	bench_row_guest g;
	if (own_txn)
		sq_begin(s);
	sqlite3_stmt *st = s->st[S_EVENT_GET];
	TEXT(st, 1, event_id);
	int seen = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	int n = 0;
	if (seen) {
		st = s->st[S_PROMPTS_OF_EVENT];
		TEXT(st, 1, event_id);
		while (sqlite3_step(st) == SQLITE_ROW)
			n++;
		sqlite3_reset(st);
	} else {
		if (sq_get(s, id, &g, buf, sizeof buf))
			die(s, "fire: no such guest");
		n = rules_c_eval(s->book, &g, check_in, room, party, pr, 64);
		sqlite3_int64 now = (sqlite3_int64)time(NULL);
		st = s->st[S_EVENT_INS];
		TEXT(st, 1, event_id);
		sqlite3_bind_int(st, 2, check_in ? PF_EVENT_CHECK_IN : PF_EVENT_CHECK_OUT);
		BLOB(st, 3, id);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int(st, 5, arrival);
		step_done(s, st);
		st = s->st[S_PROMPT_INS];
		static const int due_s[] = { 86400, 14400, 3600, 900 };
		for (int i = 0; i < n; i++) {
			BLOB(st, 1, id);
			TEXT(st, 2, event_id);
			TEXT(st, 3, pr[i].dept);
			TEXT(st, 4, pr[i].rule);
			sqlite3_bind_int(st, 5, pr[i].prio);
			TEXT(st, 6, pr[i].text);
			sqlite3_bind_int64(st, 7, now);
			sqlite3_bind_int64(st, 8, now + due_s[pr[i].prio]);
			step_done(s, st);
		}
		if (check_in)
			add_stay(s, id, arrival, arrival, room, party);
	}
	if (own_txn)
		sq_commit(s);
	return n;
}

int sq_pending(sq_db *s, const char *dept, int limit)
{
	sqlite3_stmt *st = s->st[S_PENDING];
	TEXT(st, 1, dept);
	sqlite3_bind_int(st, 2, limit);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < 10; c++)
			(void)sqlite3_column_text(st, c);
		n++;
	}
	sqlite3_reset(st);
	return n;
}
