/*
 * bench.h — declarations shared by the files of `make bench`.
 *
 * gen.c       the generated population (guests, preferences, stays) and
 *             rule books, with a fixed seed; JSONL/CSV writers
 * rules_c.c   the generated books' rule semantics in plain C (used by the
 *             SQLite baseline over the rows it reads)
 * sqlite_side.c  the SQLite baseline: schema, load, reads, fire, preview
 * floor.c     the floor: bare LMDB get + msgpack unpack, bare commits
 * measure.c   clocks, samples, medians/p99, /proc figures, result lines
 *             and bench.json, the counting malloc
 * main.c      the run: which figure is measured when, against what target
 */
#ifndef BENCH_H
#define BENCH_H

#include "libprofile.h"

#include <stddef.h>
#include <stdint.h>

#define BENCH_SEED 0x5eed2024u
#define BENCH_PREFS 10

/* ---- gen.c ---------------------------------------------------------- */

typedef struct {
	const char *name;         /* "room.view" */
	const char *vals[8];
	int nval;
	int need;                 /* 1: values are needs (allergy.*, access.*) */
} bench_cat;

extern const bench_cat bench_cats[];
extern const int bench_ncat;

typedef struct {
	uint8_t cat, val;
	uint8_t kind;             /* pf_pref_kind */
} bench_pref;

typedef struct {
	uint64_t idx;
	pf_id id;
	char name[64];
	char email[96];
	char phone[24];
	const char *language;
	const char *country;
	pf_tier tier;
	int npref;
	bench_pref pref[BENCH_PREFS];  /* sorted by category name */
	int nstays;               /* 0..5 */
} bench_guest;

/* Guest i of the population: a pure function of (seed, i). */
void gen_guest(uint64_t i, bench_guest *g);
/* Stay k (< g->nstays) of a guest: arrival/departure dates. */
void gen_stay(const bench_guest *g, int k, pf_date *arrival, pf_date *departure);

int gen_write_jsonl(const char *path, uint64_t n);
int gen_write_csv(const char *path, uint64_t n);

/* Rule tests used by the generated books (the subset the baseline knows). */
typedef enum {
	T_PREF_EQ,                /* pref CAT = V */
	T_PREF_IN,                /* pref CAT in (V, ...) */
	T_DISLIKE_EQ,             /* dislike CAT = V */
	T_NEED,                   /* need CAT */
	T_TIER_GE,                /* tier >= TIER */
	T_STAYS_GE,               /* stays >= N */
	T_PARTY_GE                /* party >= N */
} bench_test_kind;

typedef struct {
	bench_test_kind t;
	int cat;
	const char *v[3];
	int nv;
	int n;
} bench_test;

typedef struct {
	const char *dept;
	const char *prio;
	char tmpl[200];
} bench_notify;

typedef struct {
	char name[48];
	int on_check_in, on_check_out;
	int ntest;
	bench_test test[3];       /* joined by `and` */
	int nnotify;
	bench_notify notify[2];
} bench_rule;

typedef struct {
	size_t n;
	bench_rule *r;
} bench_book;

/* kind: 100, 200 or 10000 rules.  The 10,000 book is the 100 book plus
 * 9,900 rules on categories guests have with values nobody has. */
void gen_book(bench_book *b, int kind);
char *gen_book_text(const bench_book *b, size_t *len);
void gen_book_free(bench_book *b);

/* ---- rules_c.c ------------------------------------------------------ */

/* A guest as the baseline reads it from its rows. */
typedef struct {
	const char *name;
	int tier;
	unsigned consent;
	int stays;
	int np;
	const char *cat[64];      /* category names, as read */
	const char *val[64];
	int kind[64];
} bench_row_guest;

typedef struct {
	char dept[32];
	char rule[48];
	int prio;
	char text[PF_PROMPT_TEXT_MAX + 1];
} bench_prompt;

/* Evaluate `b` for an event: fills up to max prompts, returns how many. */
int rules_c_eval(const bench_book *b, const bench_row_guest *g, int check_in,
                 const char *room, int party, bench_prompt *out, int max);
int rules_c_prio(const char *name);

/* ---- sqlite_side.c -------------------------------------------------- */

typedef struct sq_db sq_db;
sq_db *sq_open(const char *path);
void sq_close(sq_db *s);
void sq_set_book(sq_db *s, const bench_book *b);
void sq_synchronous(sq_db *s, const char *mode);   /* "FULL" / "NORMAL" */
double sq_load(sq_db *s, uint64_t n);              /* one transaction; seconds */
void sq_load_stays(sq_db *s, uint64_t first, uint64_t n, int txn_per_stay, uint64_t *stays);
int sq_get(sq_db *s, const pf_id *id, bench_row_guest *g, char *buf, size_t bufsz);
int sq_find_email(sq_db *s, const char *email, int *found);
int sq_find_prefix(sq_db *s, const char *prefix, int *found);
int sq_preview(sq_db *s, const pf_id *id, int check_in, const char *room, int party,
               bench_prompt *out, int max);
int sq_fire(sq_db *s, const char *event_id, const pf_id *id, int check_in,
            const char *room, int party, pf_date arrival, int own_txn);
void sq_begin(sq_db *s);
void sq_commit(sq_db *s);
int sq_pending(sq_db *s, const char *dept, int limit);
void sq_checkpoint(sq_db *s);

/* ---- floor.c -------------------------------------------------------- */

typedef struct fl_env fl_env;
fl_env *fl_open(const char *dir, uint64_t n, size_t record_size);
void fl_close(fl_env *f);
size_t fl_record_size(const fl_env *f);
void fl_get(fl_env *f, const pf_id *id);           /* txn renew + mdb_get + unpack */
void fl_get_email(fl_env *f, const char *email);   /* + a contact-index get first */
void fl_commit(fl_env *f, int nometasync);         /* one durable small put */

/* ---- measure.c ------------------------------------------------------ */

double now_s(void);
uint64_t now_ns(void);

typedef struct {
	double *v;
	size_t n, cap;
} samples;
void samples_add(samples *s, double v);
double samples_q(samples *s, double q);             /* sorts; q in [0,1] */
void samples_free(samples *s);

/* One result line; NAN for "not measured".  `unit` names the figures. */
typedef struct {
	const char *name;
	const char *unit;
	double median, p99, baseline, floor;
	double ratio;             /* what the target compares; NAN if none */
	const char *target;       /* text, e.g. "<= 1.5x floor" */
	int holds;                /* 1 holds, 0 misses, -1 no target */
	const char *note;
} result;
void result_emit(const result *r);
void results_write_json(const char *path, const char *meta_json);

int64_t proc_io(const char *field);                 /* /proc/self/io */
long proc_status_kib(const char *field);            /* /proc/self/status */

/* Counting malloc (the bench executable interposes malloc & co.). */
void alloc_count_start(void);
uint64_t alloc_count_stop(void);

void rm_rf(const char *path);
uint64_t disk_bytes(const char *path);              /* st_blocks*512, dirs summed */

uint64_t bench_rand(uint64_t *state);

#endif
