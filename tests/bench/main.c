/*
 * main.c — the run of `make bench`: what is measured when, against what,
 * and the targets (goals, printed; nothing here fails the build).
 *
 * libprofile (public API only), the SQLite baseline and the LMDB/msgpack
 * floor run in this one process, interleaved in blocks, 3 repetitions;
 * per-op latencies are pooled over the repetitions for the median and
 * p99.  Bulk import at BENCH_GUESTS is measured once per side and format
 * (it takes minutes at 1M); its 3 repetitions are at 20,000 guests.
 *
 * Methods:
 *  - pages written per fire: the /proc/self/io `wchar` delta over a block
 *    of fires (bytes passed to write()/pwrite() by this process: LMDB's
 *    page writes and meta page, SQLite's WAL frames), / fires / 4096.
 *    Not device I/O (no filesystem journal, no read-modify-write).
 *  - allocations per op: alloc_count.c interposes malloc/calloc/realloc
 *    for the whole process; 1000 ops single-threaded, count / 1000.
 *  - disk bytes per guest: allocated blocks (st_blocks * 512) of the
 *    database directory right after the bulk load, / guests; SQLite's
 *    directory after PRAGMA wal_checkpoint(TRUNCATE).
 *  - named LMDB databases: after pf_close(), the environment is opened
 *    read-only with LMDB and mdb_stat gives (branch + leaf + overflow
 *    pages) * page size for each name in the main database.  The mean
 *    stored guest record (first 5000 values of `guest`) sizes the floor's
 *    records.
 *  - kiosk: a child process (this binary, --kiosk) opens the database
 *    PF_OPEN_READONLY | PF_OPEN_NORDAHEAD (as examples/kiosk.c does) and
 *    previews 100,000 random guests; RssAnon and
 *    RssFile are sampled from /proc/self/status every 1000 previews and
 *    the peaks reported with VmHWM.
 *  - stays: every guest's 0-5 stays, with pf_stay_add_batch (10,000
 *    guests' stays a call, one durable commit each); SQLite loads the same
 *    in one transaction.
 *
 * Usage: bench [--json PATH] [GUESTS]      (GUESTS default 1000000, or
 *        $BENCH_GUESTS); databases go to $TMPDIR (default /tmp) and are
 *        removed at the end.
 *        bench --kiosk DIR GUESTS PREVIEWS  (the kiosk child, internal)
 */
#include "bench.h"

#include <errno.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPS 3
#define SMALL_N 20000u
#define PICKS 4096
#define ROOM "1012"

static uint64_t N, SMALL;
static char tmp[512];
static uint64_t rng = 0x12345678u;
static unsigned long evseq;

static void ck(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bench: %s: %s: %s\n", what, pf_strerror(rc), pf_errmsg());
		exit(1);
	}
}

static void path_of(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmp, name);
}

static pf_db *lib_open(const char *dir, unsigned flags)
{
	pf_options o = PF_OPTIONS_INIT;
	o.flags = flags;
	o.map_size = (size_t)1 << 30;
	pf_db *db = NULL;
	ck(pf_open(&db, dir, &o), "pf_open");
	return db;
}

/* ---- picks: random guests drawn up front, so no generation is timed --- */

typedef struct {
	pf_id id;
	uint64_t idx;
	char email[96];
	char prefix[8];
	int party;
} pick;
static pick picks[PICKS];

static void make_picks(void)
{
	bench_guest g;
	for (int i = 0; i < PICKS; i++) {
		uint64_t x = bench_rand(&rng) % N;
		gen_guest(x, &g);
		picks[i].id = g.id;
		picks[i].idx = x;
		snprintf(picks[i].email, sizeof picks[i].email, "%s", g.email);
		const char *sp = strchr(g.name, ' ');
		snprintf(picks[i].prefix, sizeof picks[i].prefix, "%.3s", sp ? sp + 1 : g.name);
		picks[i].party = 1 + (int)(x % 4);
	}
}

static const pick *rpick(void) { return &picks[bench_rand(&rng) % PICKS]; }

/* ---- import ------------------------------------------------------------ */

static double lib_import(const char *dir, const char *file, int csv)
{
	rm_rf(dir);
	pf_db *db = lib_open(dir, 0);
	pf_import_report *rep = NULL;
	double t = now_s();
	ck(csv ? pf_import_csv(&rep, db, file, NULL) : pf_import_jsonl(&rep, db, file, NULL),
	   csv ? "pf_import_csv" : "pf_import_jsonl");
	t = now_s() - t;
	if (rep->rejected) {
		fprintf(stderr, "bench: import rejected %llu rows (line %llu: %s)\n",
		        (unsigned long long)rep->rejected, (unsigned long long)rep->rejects[0].line,
		        rep->rejects[0].reason);
		exit(1);
	}
	pf_import_report_free(rep);
	pf_close(db);
	return t;
}

static double sq_import(const char *dir, uint64_t n)
{
	char p[600];
	rm_rf(dir);
	mkdir(dir, 0700);
	snprintf(p, sizeof p, "%s/bench.db", dir);
	sq_db *s = sq_open(p);
	double t = sq_load(s, n);
	sq_checkpoint(s);
	sq_close(s);
	return t;
}

static double median3(double *v)
{
	samples s = { 0 };
	for (int i = 0; i < REPS; i++)
		samples_add(&s, v[i]);
	double m = samples_q(&s, 0.5);
	samples_free(&s);
	return m;
}

static result R(const char *name, const char *unit)
{
	result r = { name, unit, NAN, NAN, NAN, NAN, NAN, NULL, -1, NULL };
	return r;
}

/* ---- reading libprofile's file with LMDB (after pf_close) ---------------- */

static double mean_guest_record(const char *dir, int print_dbs)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi main_dbi, dbi;
	double mean = 0;
	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 64) ||
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &t) || mdb_dbi_open(t, NULL, 0, &main_dbi)) {
		fprintf(stderr, "bench: cannot read %s with LMDB\n", dir);
		exit(1);
	}
	MDB_cursor *c;
	MDB_val k, v;
	char names[32][64];
	int nn = 0;
	mdb_cursor_open(t, main_dbi, &c);
	while (nn < 32 && !mdb_cursor_get(c, &k, &v, nn ? MDB_NEXT : MDB_FIRST))
		snprintf(names[nn++], sizeof names[0], "%.*s", (int)k.mv_size, (const char *)k.mv_data);
	mdb_cursor_close(c);
	for (int i = 0; i < nn; i++) {
		if (mdb_dbi_open(t, names[i], 0, &dbi))
			continue;
		MDB_stat st;
		mdb_stat(t, dbi, &st);
		if (!strcmp(names[i], "guest")) {
			uint64_t n = 0, sum = 0;
			mdb_cursor_open(t, dbi, &c);
			for (int op = MDB_FIRST; n < 5000 && !mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op);
			     op = MDB_NEXT, n++)
				sum += v.mv_size;
			mdb_cursor_close(c);
			mean = n ? (double)sum / (double)n : 0;
		}
		if (print_dbs) {
			static char nm[32][96];
			snprintf(nm[i], sizeof nm[i], "lmdb db '%.40s' size (%zu entries)", names[i], st.ms_entries);
			result r = R(nm[i], "bytes");
			r.median = (double)(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) *
			           (double)st.ms_psize;
			result_emit(&r);
		}
	}
	mdb_txn_abort(t);
	mdb_env_close(env);
	return mean;
}

/* ---- the prompt check -------------------------------------------------- */

static pf_event check_in_event(const pf_id *id, int party)
{
	pf_event ev = PF_EVENT_INIT;
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = *id;
	ev.room = ROOM;
	ev.party = (uint32_t)party;
	return ev;
}

static void prompt_check(pf_db *db, sq_db *sq, uint64_t stayed, const char *when)
{
	static bench_prompt bp[128];
	int guests = 1000, equal = 0, prompts = 0, shown = 0;
	samples rules = { 0 };
	bench_guest g;
	uint64_t s = 777;
	for (int i = 0; i < guests; i++) {
		uint64_t x = i < guests / 2 && stayed ? bench_rand(&s) % stayed : bench_rand(&s) % N;
		gen_guest(x, &g);
		int party = 1 + (int)(x % 4);
		pf_event ev = check_in_event(&g.id, party);
		pf_prompt_list *l = NULL;
		ck(pf_preview(&l, db, &ev), "pf_preview");
		int n = sq_preview(sq, &g.id, 1, ROOM, party, bp, 128);
		int same = n == (int)l->count;
		for (int k = 0; same && k < n; k++)
			same = !strcmp(bp[k].dept, l->items[k].department) && !strcmp(bp[k].text, l->items[k].text);
		if (!same && shown++ < 3) {
			printf("  check mismatch guest %llu: libprofile %zu prompts, SQLite %d\n",
			       (unsigned long long)x, l->count, n);
			for (size_t k = 0; k < l->count; k++)
				printf("    lib %s: %s\n", l->items[k].department, l->items[k].text);
			for (int k = 0; k < n; k++)
				printf("    sql %s: %s\n", bp[k].dept, bp[k].text);
		}
		equal += same;
		prompts += (int)l->count;
		int distinct = 0;
		for (size_t k = 0; k < l->count; k++)
			if (strcmp(l->items[k].rule, "need") && (k == 0 || strcmp(l->items[k].rule, l->items[k - 1].rule)))
				distinct++;
		samples_add(&rules, distinct);
		pf_prompt_list_free(l);
	}
	printf("check (%s): %d of %d sampled guests get the same prompts (department + text, in order) "
	       "from libprofile and SQLite: %s; %d prompts; rules matched per guest median %.0f, "
	       "p10 %.0f, p90 %.0f\n", when, equal, guests, equal == guests ? "PASS" : "FAIL", prompts,
	       samples_q(&rules, 0.5), samples_q(&rules, 0.1), samples_q(&rules, 0.9));
	samples_free(&rules);
}

/* ---- per-op blocks ------------------------------------------------------- */

enum { OP_GET, OP_FIND, OP_PREFIX, OP_PREVIEW, OP_FIRE, OP_FIRE_NMS, OP_N };
enum { SIDE_LIB, SIDE_SQ, SIDE_FLOOR, SIDE_N };
static samples lat[OP_N][SIDE_N];
static double wbytes[2][SIDE_N], wfires[2][SIDE_N];

static int block_n(int op)
{
	return op == OP_PREFIX ? 200 : op >= OP_FIRE ? 100 : 2000;
}

static void lib_fire(pf_db *db, const pick *p, int check_in, pf_date arrival)
{
	char id[48];
	snprintf(id, sizeof id, "ev-%lu", evseq);
	pf_event ev = check_in_event(&p->id, p->party);
	ev.id = id;
	ev.kind = check_in ? PF_EVENT_CHECK_IN : PF_EVENT_CHECK_OUT;
	ev.arrival = arrival;
	pf_prompt_list *l = NULL;
	ck(pf_fire(&l, db, &ev), "pf_fire");
	pf_prompt_list_free(l);
}

static void sq_fire1(sq_db *sq, const pick *p, int check_in, pf_date arrival, int own)
{
	char id[48];
	snprintf(id, sizeof id, "ev-%lu", evseq);
	sq_fire(sq, id, &p->id, check_in, ROOM, p->party, arrival, own);
}

static void run_block(int op, int side, pf_db *db, sq_db *sq, fl_env *fl, const pick *ps, int n)
{
	static bench_prompt bp[128];
	char gbuf[4096];
	bench_row_guest rg;
	int found;
	int64_t w0 = proc_io("wchar");
	for (int i = 0; i < n; i++) {
		const pick *p = &ps[i];
		uint64_t t = now_ns();
		if (side == SIDE_LIB) {
			pf_guest *g = NULL;
			pf_guest_list *gl = NULL;
			pf_prompt_list *l = NULL;
			pf_event ev;
			switch (op) {
			case OP_GET:
				ck(pf_guest_get(&g, db, &p->id), "pf_guest_get");
				pf_guest_free(g);
				break;
			case OP_FIND:
			case OP_PREFIX:
				ck(pf_guest_find(&gl, db, op == OP_FIND ? p->email : p->prefix), "pf_guest_find");
				if (op == OP_FIND && gl->count != 1) {
					fprintf(stderr, "bench: find by e-mail found %zu\n", gl->count);
					exit(1);
				}
				pf_guest_list_free(gl);
				break;
			case OP_PREVIEW:
				ev = check_in_event(&p->id, p->party);
				ck(pf_preview(&l, db, &ev), "pf_preview");
				pf_prompt_list_free(l);
				break;
			default:
				lib_fire(db, p, 1, 20250301);
			}
		} else if (side == SIDE_SQ) {
			switch (op) {
			case OP_GET: sq_get(sq, &p->id, &rg, gbuf, sizeof gbuf); break;
			case OP_FIND: sq_find_email(sq, p->email, &found); break;
			case OP_PREFIX: sq_find_prefix(sq, p->prefix, &found); break;
			case OP_PREVIEW: sq_preview(sq, &p->id, 1, ROOM, p->party, bp, 128); break;
			default: sq_fire1(sq, p, 1, 20250301, 1);
			}
		} else {
			switch (op) {
			case OP_GET:
			case OP_PREVIEW: fl_get(fl, &p->id); break;
			case OP_FIND: fl_get_email(fl, p->email); break;
			case OP_FIRE: fl_commit(fl, 0); break;
			case OP_FIRE_NMS: fl_commit(fl, 1); break;
			default: break;
			}
		}
		samples_add(&lat[op][side], (double)(now_ns() - t) / 1000.0);
		if (op >= OP_FIRE && side != SIDE_FLOOR)
			evseq++;
	}
	if (op >= OP_FIRE) {
		wbytes[op - OP_FIRE][side] += (double)(proc_io("wchar") - w0);
		wfires[op - OP_FIRE][side] += n;
	}
}

/* The same picks for every side of a block. */
static void block_all(int op, pf_db *db, sq_db *sq, fl_env *fl)
{
	int n = block_n(op);
	pick *ps = malloc((size_t)n * sizeof *ps);
	for (int i = 0; i < n; i++)
		ps[i] = *rpick();
	unsigned long e = evseq;
	run_block(op, SIDE_LIB, db, sq, fl, ps, n);
	evseq = e;   /* the baseline fires the same event ids for the same guests */
	run_block(op, SIDE_SQ, db, sq, fl, ps, n);
	if (op != OP_PREFIX)
		run_block(op, SIDE_FLOOR, db, sq, fl, ps, n);
	free(ps);
}

static double q(int op, int side, double p) { return samples_q(&lat[op][side], p); }

/* ---- batch, pending, threads, kiosk ---------------------------------------- */

static void batch_fire(pf_db *db, sq_db *sq, double *lib_rate, double *sq_rate)
{
	pick ps[200];
	for (int i = 0; i < 200; i++)
		ps[i] = *rpick();
	unsigned long e = evseq;
	static char ids[200][48];
	pf_event evs[200];
	pf_prompt_list *out[200];
	for (int i = 0; i < 200; i++) {
		snprintf(ids[i], sizeof ids[i], "ev-%lu", evseq + (unsigned long)i);
		evs[i] = check_in_event(&ps[i].id, ps[i].party);
		evs[i].id = ids[i];
		evs[i].arrival = 20250302;
	}
	double t = now_s();
	ck(pf_fire_batch(out, db, evs, 200), "pf_fire_batch");
	*lib_rate = 200 / (now_s() - t);
	for (int i = 0; i < 200; i++)
		pf_prompt_list_free(out[i]);
	evseq += 200;
	evseq = e;
	t = now_s();
	sq_begin(sq);
	for (int i = 0; i < 200; i++, evseq++)
		sq_fire1(sq, &ps[i], 1, 20250302, 0);
	sq_commit(sq);
	*sq_rate = 200 / (now_s() - t);
}

typedef struct {
	pf_db *db;
	int n;
	uint64_t seed;
} thr_arg;

static void *thr_preview(void *a_)
{
	thr_arg *a = a_;
	for (int i = 0; i < a->n; i++) {
		const pick *p = &picks[bench_rand(&a->seed) % PICKS];
		pf_event ev = check_in_event(&p->id, p->party);
		pf_prompt_list *l = NULL;
		ck(pf_preview(&l, a->db, &ev), "pf_preview");
		pf_prompt_list_free(l);
	}
	return NULL;
}

static double threads_preview(pf_db *db, int nthr, int per)
{
	pthread_t th[2];
	thr_arg a[2];
	double t = now_s();
	for (int i = 0; i < nthr; i++) {
		a[i] = (thr_arg){ db, per, 99 + (uint64_t)i };
		pthread_create(&th[i], NULL, thr_preview, &a[i]);
	}
	for (int i = 0; i < nthr; i++)
		pthread_join(th[i], NULL);
	return nthr * per / (now_s() - t);
}

static int kiosk_main(const char *dir, uint64_t n, int previews)
{
	N = n;
	/* As examples/kiosk.c opens it: random reads, no readahead. */
	pf_db *db = lib_open(dir, PF_OPEN_READONLY | PF_OPEN_NORDAHEAD);
	long anon = 0, file = 0;
	bench_guest g;
	uint64_t s = 4242;
	for (int i = 0; i < previews; i++) {
		uint64_t x = bench_rand(&s) % n;
		gen_guest(x, &g);
		pf_event ev = check_in_event(&g.id, 1 + (int)(x % 4));
		pf_prompt_list *l = NULL;
		ck(pf_preview(&l, db, &ev), "pf_preview");
		pf_prompt_list_free(l);
		if (i % 1000 == 999) {
			long a = proc_status_kib("RssAnon"), f = proc_status_kib("RssFile");
			if (a > anon)
				anon = a;
			if (f > file)
				file = f;
		}
	}
	printf("%ld %ld %ld\n", anon, file, proc_status_kib("VmHWM"));
	pf_close(db);
	return 0;
}

static void kiosk(const char *dir, long *anon, long *file, long *hwm)
{
	int fd[2];
	if (pipe(fd))
		exit(1);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		char nb[32];
		snprintf(nb, sizeof nb, "%llu", (unsigned long long)N);
		execl("/proc/self/exe", "bench", "--kiosk", dir, nb, "100000", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	FILE *f = fdopen(fd[0], "r");
	if (!f || fscanf(f, "%ld %ld %ld", anon, file, hwm) != 3)
		*anon = *file = *hwm = -1;
	if (f)
		fclose(f);
	waitpid(pid, NULL, 0);
}

/* ---- main ------------------------------------------------------------------ */

static void load_book(pf_db *db, int kind, bench_book *b)
{
	size_t len;
	gen_book(b, kind);
	char *text = gen_book_text(b, &len);
	pf_rule_error err;
	ck(pf_rules_load(db, "bench.rules", text, len, &err), "pf_rules_load");
	free(text);
}

/* Every stay of the first n guests through pf_stay_add_batch, a batch of
 * up to 10,000 guests' stays per call (one durable commit each). */
static void load_stays(pf_db *db, uint64_t n, uint64_t *stays, double *secs)
{
	enum { GUESTS_PER_BATCH = 10000 };
	bench_guest g;
	pf_stay *v = malloc(6 * GUESTS_PER_BATCH * sizeof *v);
	if (!v) {
		perror("malloc");
		exit(1);
	}
	*stays = 0;
	*secs = 0;
	for (uint64_t i = 0; i < n; i += GUESTS_PER_BATCH) {
		size_t m = 0, failed = 0;
		for (uint64_t j = i; j < n && j < i + GUESTS_PER_BATCH; j++) {
			gen_guest(j, &g);
			for (int k = 0; k < g.nstays; k++) {
				pf_stay st = PF_STAY_INIT;
				st.guest = g.id;
				gen_stay(&g, k, &st.arrival, &st.departure);
				v[m++] = st;
			}
		}
		double t = now_s();          /* the generator is not timed */
		ck(pf_stay_add_batch(db, v, m, &failed), "pf_stay_add_batch");
		*secs += now_s() - t;
		*stays += m;
	}
	free(v);
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--kiosk"))
		return kiosk_main(argv[2], strtoull(argv[3], NULL, 10), atoi(argv[4]));
	const char *json = "bench.json";
	int ai = 1;
	if (argc > 2 && !strcmp(argv[1], "--json")) {
		json = argv[2];
		ai = 3;
	}
	const char *env_n = getenv("BENCH_GUESTS");
	N = ai < argc && *argv[ai] ? strtoull(argv[ai], NULL, 10)
	  : env_n && *env_n ? strtoull(env_n, NULL, 10) : 1000000;
	if (N < 1000)
		N = 1000;
	SMALL = N < SMALL_N ? N : SMALL_N;
	const char *td = getenv("TMPDIR");
	snprintf(tmp, sizeof tmp, "%s/pfbench.%d", td && *td ? td : "/tmp", (int)getpid());
	rm_rf(tmp);
	if (mkdir(tmp, 0700)) {
		perror(tmp);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	double t_start = now_s();
	printf("libprofile %s bench: %llu guests (%d preferences each, 0-5 stays), seed 0x%x, "
	       "databases in %s\n", PF_VERSION_STRING, (unsigned long long)N, BENCH_PREFS, BENCH_SEED, tmp);
	printf("libprofile, SQLite %s (WAL, prepared statements, C rule evaluation) and the LMDB/msgpack "
	       "floor, interleaved in blocks, %d repetitions; per-op figures in microseconds, pooled "
	       "median and p99.\n", "3", REPS);

	/* files */
	char js[600], cs[600], jsN[600], csN[600];
	path_of(js, sizeof js, "small.jsonl");
	path_of(cs, sizeof cs, "small.csv");
	double t = now_s();
	if (gen_write_jsonl(js, SMALL) || gen_write_csv(cs, SMALL))
		return 1;
	if (N > SMALL) {
		path_of(jsN, sizeof jsN, "full.jsonl");
		path_of(csN, sizeof csN, "full.csv");
		if (gen_write_jsonl(jsN, N) || gen_write_csv(csN, N))
			return 1;
	} else {
		snprintf(jsN, sizeof jsN, "%s", js);
		snprintf(csN, sizeof csN, "%s", cs);
	}
	printf("generated JSONL and CSV in %.1f s\n", now_s() - t);

	/* bulk import: 3 repetitions at SMALL, interleaved */
	char libdir[600], csvdir[600], sqdir[600], fldir[600];
	path_of(libdir, sizeof libdir, "lib");
	path_of(csvdir, sizeof csvdir, "libcsv");
	path_of(sqdir, sizeof sqdir, "sqlite");
	path_of(fldir, sizeof fldir, "floor");
	double rj[REPS], rc[REPS], rs[REPS];
	for (int r = 0; r < REPS; r++) {
		rj[r] = (double)SMALL / lib_import(libdir, js, 0);
		rc[r] = (double)SMALL / lib_import(csvdir, cs, 1);
		rs[r] = (double)SMALL / sq_import(sqdir, SMALL);
	}
	double mj = median3(rj), mc = median3(rc), ms = median3(rs);
	static char nm_js[64], nm_cs[64];
	snprintf(nm_js, sizeof nm_js, "import jsonl %lluk (3 reps)", (unsigned long long)SMALL / 1000);
	snprintf(nm_cs, sizeof nm_cs, "import csv %lluk (3 reps)", (unsigned long long)SMALL / 1000);
	result r = R(nm_js, "guests/s");
	r.median = mj; r.baseline = ms; r.ratio = mj / ms; r.target = ">= 5x SQLite (ratio)";
	r.holds = r.ratio >= 5;
	result_emit(&r);
	r = R(nm_cs, "guests/s");
	r.median = mc; r.baseline = ms; r.ratio = mc / ms; r.target = ">= 5x SQLite (ratio)";
	r.holds = r.ratio >= 5;
	result_emit(&r);

	double bj = mj, bc = mc, bs = ms;
	if (N > SMALL) {
		printf("bulk import at %llu guests: measured once per side and format (minutes each)\n",
		       (unsigned long long)N);
		bj = (double)N / lib_import(libdir, jsN, 0);
		bc = (double)N / lib_import(csvdir, csN, 1);
		bs = (double)N / sq_import(sqdir, N);
	}
	static char nm_jN[64], nm_cN[64];
	snprintf(nm_jN, sizeof nm_jN, "import jsonl %llu (%s)", (unsigned long long)N,
	         N > SMALL ? "once" : "median of 3");
	snprintf(nm_cN, sizeof nm_cN, "import csv %llu (%s)", (unsigned long long)N,
	         N > SMALL ? "once" : "median of 3");
	r = R(nm_jN, "guests/s");
	r.median = bj; r.baseline = bs; r.ratio = bj / bs;
	r.target = ">= 50000/s and >= 5x SQLite";
	r.holds = bj >= 50000 && r.ratio >= 5;
	result_emit(&r);
	r = R(nm_cN, "guests/s");
	r.median = bc; r.baseline = bs; r.ratio = bc / bs;
	r.target = ">= 50000/s and >= 5x SQLite";
	r.holds = bc >= 50000 && r.ratio >= 5;
	result_emit(&r);
	if (N > SMALL) {
		r = R("import slowdown 20k -> N, jsonl", "x");
		r.median = mj / bj; r.baseline = ms / bs; r.ratio = mj / bj; r.target = "<= 1.5x";
		r.holds = r.ratio <= 1.5;
		result_emit(&r);
		r = R("import slowdown 20k -> N, csv", "x");
		r.median = mc / bc; r.baseline = ms / bs; r.ratio = mc / bc; r.target = "<= 1.5x";
		r.holds = r.ratio <= 1.5;
		result_emit(&r);
	}

	/* disk after the full load (before stays and events) */
	char sqfile[700];
	snprintf(sqfile, sizeof sqfile, "%s/bench.db", sqdir);
	double lib_b = (double)disk_bytes(libdir) / (double)N, csv_b = (double)disk_bytes(csvdir) / (double)N;
	double sq_b = (double)disk_bytes(sqdir) / (double)N;
	r = R("disk bytes per guest after load (jsonl)", "bytes");
	r.median = lib_b; r.baseline = sq_b; r.ratio = lib_b / sq_b; r.target = "<= SQLite's";
	r.holds = lib_b <= sq_b;
	r.note = "allocated blocks (st_blocks*512) of the database directory / guests; SQLite after a WAL checkpoint";
	result_emit(&r);
	r = R("disk bytes per guest after load (csv)", "bytes");
	r.median = csv_b; r.baseline = sq_b; r.ratio = csv_b / sq_b; r.target = "<= SQLite's";
	r.holds = csv_b <= sq_b;
	result_emit(&r);
	printf("named LMDB databases after the jsonl load ((branch+leaf+overflow pages) * page size):\n");
	double rec = mean_guest_record(libdir, 1);
	rm_rf(csvdir);
	remove(js); remove(cs); remove(jsN); remove(csN);

	/* stays: every guest's, in batches (pf_stay_add_batch; SQLite: one
	 * transaction for all) */
	pf_db *db = lib_open(libdir, 0);
	sq_db *sq = sq_open(sqfile);
	uint64_t stayed = N, nst = 0, nst2 = 0;
	double st_s;
	load_stays(db, stayed, &nst, &st_s);
	t = now_s();
	sq_load_stays(sq, 0, stayed, 0, &nst2);
	double sq_st = now_s() - t;
	r = R("stays added (pf_stay_add_batch)", "stays/s");
	r.median = (double)nst / st_s; r.baseline = (double)nst2 / sq_st; r.ratio = r.median / r.baseline;
	r.target = ">= 50000/s"; r.holds = r.median >= 50000;
	static char stnote[160];
	snprintf(stnote, sizeof stnote, "%llu stays of all %llu guests, 10,000 guests' stays per "
	         "pf_stay_add_batch (one durable commit each); SQLite: one transaction for all",
	         (unsigned long long)nst, (unsigned long long)stayed);
	r.note = stnote;
	result_emit(&r);

	bench_book book;
	load_book(db, 200, &book);
	sq_set_book(sq, &book);
	printf("rule book: %zu rules\n", book.n);
	printf("floor: building an LMDB environment of %llu msgpack records of %.0f bytes "
	       "(the mean stored guest record)\n", (unsigned long long)N, rec);
	fl_env *fl = fl_open(fldir, N, (size_t)rec);
	make_picks();
	prompt_check(db, sq, stayed, "after load");

	/* interleaved blocks */
	double blr[REPS], bsr[REPS];
	for (int rep = 0; rep < REPS; rep++) {
		for (int op = OP_GET; op <= OP_FIRE; op++)
			block_all(op, db, sq, fl);
		batch_fire(db, sq, &blr[rep], &bsr[rep]);
		pf_close(db);
		db = lib_open(libdir, PF_OPEN_NOMETASYNC);
		sq_synchronous(sq, "NORMAL");
		block_all(OP_FIRE_NMS, db, sq, fl);
		sq_synchronous(sq, "FULL");
		pf_close(db);
		db = lib_open(libdir, 0);
	}
	printf("elapsed %.0f s\n", now_s() - t_start);

	static const struct { int op; const char *name, *target; double fl_max, sq_max; } per[] = {
		{ OP_GET, "get by id", "<= 1.5x floor, <= 0.33x SQLite", 1.5, 0.33 },
		{ OP_FIND, "find by e-mail", "<= 2x floor, <= 0.33x SQLite", 2, 0.33 },
		{ OP_PREFIX, "find by name prefix (3 letters)", NULL, 0, 0 },
		{ OP_PREVIEW, "preview (check-in, 200 rules)", "<= 2.5x floor, <= 0.35x SQLite", 2.5, 0.35 },
		{ OP_FIRE, "durable fire (check-in)", "<= 1.5x bare commit, < SQLite", 1.5, 1 },
		{ OP_FIRE_NMS, "fire, PF_OPEN_NOMETASYNC vs SQLite NORMAL", "<= 1.5x bare commit, < SQLite", 1.5, 1 },
	};
	static char notes[8][200];
	for (size_t i = 0; i < sizeof per / sizeof per[0]; i++) {
		int op = per[i].op;
		r = R(per[i].name, "us");
		r.median = q(op, SIDE_LIB, 0.5);
		r.p99 = q(op, SIDE_LIB, 0.99);
		r.baseline = q(op, SIDE_SQ, 0.5);
		r.floor = op == OP_PREFIX ? NAN : q(op, SIDE_FLOOR, 0.5);
		r.target = per[i].target;
		if (per[i].target) {
			r.ratio = r.median / r.floor;
			double vs = r.median / r.baseline;
			r.holds = r.ratio <= per[i].fl_max && (per[i].sq_max >= 1 ? vs < 1 : vs <= per[i].sq_max);
			snprintf(notes[i], sizeof notes[i], "ratio is to the floor; %.2fx SQLite; SQLite p99 %.1f us; %zu ops per side",
			         vs, q(op, SIDE_SQ, 0.99), lat[op][SIDE_LIB].n);
		} else {
			r.ratio = r.median / r.baseline;
			snprintf(notes[i], sizeof notes[i], "ratio is to SQLite; %zu ops per side", lat[op][SIDE_LIB].n);
		}
		r.note = notes[i];
		result_emit(&r);
		if (op >= OP_FIRE) {
			static char pn[2][64];
			snprintf(pn[op - OP_FIRE], sizeof pn[0], "%s: pages written per fire",
			         op == OP_FIRE ? "durable fire" : "nometasync fire");
			r = R(pn[op - OP_FIRE], "pages");
			r.median = wbytes[op - OP_FIRE][SIDE_LIB] / wfires[op - OP_FIRE][SIDE_LIB] / 4096;
			r.baseline = wbytes[op - OP_FIRE][SIDE_SQ] / wfires[op - OP_FIRE][SIDE_SQ] / 4096;
			r.ratio = r.median / r.baseline;
			r.target = "<= 12 pages";
			r.holds = r.median <= 12;
			static char wn[2][200];
			snprintf(wn[op - OP_FIRE], sizeof wn[0], "/proc/self/io wchar delta over the block / fires / 4096: "
			         "%.0f bytes per fire (SQLite %.0f); write() bytes, not device I/O",
			         r.median * 4096, r.baseline * 4096);
			r.note = wn[op - OP_FIRE];
			result_emit(&r);
		}
	}
	r = R("batch fire: 200 arrivals (pf_fire_batch)", "checkins/s");
	r.median = median3(blr); r.baseline = median3(bsr); r.ratio = r.median / r.baseline;
	r.target = ">= 20000/s"; r.holds = r.median >= 20000;
	r.note = "one pf_fire_batch call: one write transaction, one durable commit; SQLite: 200 in one transaction";
	result_emit(&r);

	/* allocations */
	{
		static bench_prompt bp[128];
		char gbuf[4096];
		bench_row_guest rg;
		uint64_t a[3][2];
		int n = 1000;
		alloc_count_start();
		for (int i = 0; i < n; i++) {
			pf_event ev = check_in_event(&picks[i].id, picks[i].party);
			pf_prompt_list *l = NULL;
			ck(pf_preview(&l, db, &ev), "pf_preview");
			pf_prompt_list_free(l);
		}
		a[0][0] = alloc_count_stop();
		alloc_count_start();
		for (int i = 0; i < n; i++)
			sq_preview(sq, &picks[i].id, 1, ROOM, picks[i].party, bp, 128);
		a[1][0] = alloc_count_stop();
		alloc_count_start();
		for (int i = 0; i < n; i++)
			fl_get(fl, &picks[i].id);
		a[2][0] = alloc_count_stop();
		alloc_count_start();
		for (int i = 0; i < n; i++) {
			pf_guest *g = NULL;
			ck(pf_guest_get(&g, db, &picks[i].id), "pf_guest_get");
			pf_guest_free(g);
		}
		a[0][1] = alloc_count_stop();
		alloc_count_start();
		for (int i = 0; i < n; i++)
			sq_get(sq, &picks[i].id, &rg, gbuf, sizeof gbuf);
		a[1][1] = alloc_count_stop();
		r = R("allocations per preview", "allocs");
		r.median = (double)a[0][0] / n; r.baseline = (double)a[1][0] / n; r.floor = (double)a[2][0] / n;
		r.target = "<= 5"; r.holds = r.median <= 5;
		r.note = "malloc/calloc/realloc calls in the process (malloc interposed by the bench executable) / 1000 ops";
		result_emit(&r);
		r = R("allocations per get by id", "allocs");
		r.median = (double)a[0][1] / n; r.baseline = (double)a[1][1] / n; r.floor = (double)a[2][0] / n;
		result_emit(&r);
	}

	/* first 50 pending of a department with 10,000 pending */
	{
		pf_close(db);
		db = lib_open(libdir, PF_OPEN_NOMETASYNC);
		sq_synchronous(sq, "NORMAL");
		t = now_s();
		for (int i = 0; i < 10000; i++, evseq++)
			lib_fire(db, &picks[i % PICKS], 0, 0);
		double tl = now_s() - t;
		evseq -= 10000;
		t = now_s();
		for (int i = 0; i < 10000; i++, evseq++)
			sq_fire1(sq, &picks[i % PICKS], 0, 0, 1);
		printf("pending: fired 10,000 check-outs (nometasync) in %.1f s, SQLite (NORMAL) %.1f s\n",
		       tl, now_s() - t);
		sq_synchronous(sq, "FULL");
		pf_close(db);
		db = lib_open(libdir, 0);
		samples sl = { 0 }, ss = { 0 };
		size_t cnt = 0;
		for (int rep = 0; rep < REPS; rep++) {
			for (int i = 0; i < 20; i++) {
				uint64_t t0 = now_ns();
				pf_prompt_list *l = NULL;
				ck(pf_prompts_pending_page(&l, db, "guest_relations", NULL, 50),
				   "pf_prompts_pending_page");
				cnt = l->count;
				pf_prompt_list_free(l);
				samples_add(&sl, (double)(now_ns() - t0) / 1000);
			}
			for (int i = 0; i < 20; i++) {
				uint64_t t0 = now_ns();
				sq_pending(sq, "guest_relations", 50);
				samples_add(&ss, (double)(now_ns() - t0) / 1000);
			}
		}
		r = R("first 50 pending of 10,000", "us");
		r.median = samples_q(&sl, 0.5); r.p99 = samples_q(&sl, 0.99); r.baseline = samples_q(&ss, 0.5);
		r.ratio = r.median / r.baseline; r.target = "<= 100 us"; r.holds = r.median <= 100;
		static char pn[200];
		snprintf(pn, sizeof pn, "pf_prompts_pending_page(limit 50) returned %zu prompts; "
		         "SQLite: LIMIT 50 on a partial index", cnt);
		r.note = pn;
		result_emit(&r);
		samples_free(&sl);
		samples_free(&ss);
	}

	/* rule-book size: 100 vs 10,000 rules, interleaved */
	{
		samples s100 = { 0 }, s10k = { 0 };
		bench_book b100, b10k;
		for (int rep = 0; rep < REPS; rep++) {
			for (int which = 0; which < 2; which++) {
				bench_book *b = which ? &b10k : &b100;
				load_book(db, which ? 10000 : 100, b);
				for (int i = 0; i < 2000; i++) {
					const pick *p = rpick();
					pf_event ev = check_in_event(&p->id, p->party);
					pf_prompt_list *l = NULL;
					uint64_t t0 = now_ns();
					ck(pf_preview(&l, db, &ev), "pf_preview");
					pf_prompt_list_free(l);
					samples_add(which ? &s10k : &s100, (double)(now_ns() - t0) / 1000);
				}
				gen_book_free(b);
			}
		}
		r = R("preview, 100-rule book", "us");
		r.median = samples_q(&s100, 0.5); r.p99 = samples_q(&s100, 0.99);
		result_emit(&r);
		r = R("preview, 10,000-rule book", "us");
		r.median = samples_q(&s10k, 0.5); r.p99 = samples_q(&s10k, 0.99);
		r.ratio = r.median / samples_q(&s100, 0.5); r.target = "<= 2x the 100-rule preview";
		r.holds = r.ratio <= 2;
		r.note = "the 100 rules plus 9,900 testing categories guests have with values nobody has";
		result_emit(&r);
		samples_free(&s100);
		samples_free(&s10k);
		bench_book tmpb;
		load_book(db, 200, &tmpb);
		gen_book_free(&tmpb);
	}

	/* threads */
	{
		double one[REPS], two[REPS];
		for (int rep = 0; rep < REPS; rep++) {
			one[rep] = threads_preview(db, 1, 10000);
			two[rep] = threads_preview(db, 2, 10000);
		}
		r = R("preview throughput, 2 threads vs 1", "previews/s");
		r.median = median3(two); r.baseline = median3(one); r.ratio = r.median / r.baseline;
		r.target = ">= 1.7x one thread"; r.holds = r.ratio >= 1.7;
		r.note = "baseline column: one thread; one shared pf_db; 2 cores";
		result_emit(&r);
	}

	/* kiosk */
	{
		long anon, file, hwm;
		kiosk(libdir, &anon, &file, &hwm);
		r = R("kiosk 100k previews: peak RssAnon", "MiB");
		r.median = (double)anon / 1024; r.target = "<= 16 MiB"; r.holds = anon >= 0 && anon <= 16 * 1024;
		static char kn[1024];
		snprintf(kn, sizeof kn, "child process, PF_OPEN_READONLY, random guests; peak RssFile %.1f MiB "
		         "(the mapped database, with the pages the kernel maps around each fault), VmHWM %.1f MiB; sampled every 1000 previews from /proc/self/status",
		         (double)file / 1024, (double)hwm / 1024);
		r.note = kn;
		result_emit(&r);
		r = R("kiosk 100k previews: peak RssFile", "MiB");
		r.median = (double)file / 1024;
		result_emit(&r);
	}

	prompt_check(db, sq, stayed, "after all fires");
	pf_close(db);
	sq_close(sq);
	fl_close(fl);
	printf("named LMDB databases at the end (after stays, fires, 10,000 pending):\n");
	mean_guest_record(libdir, 1);
	gen_book_free(&book);

	char meta[512];
	snprintf(meta, sizeof meta, "{\"guests\": %llu, \"small\": %llu, \"reps\": %d, \"seed\": %u, "
	         "\"version\": \"%s\", \"seconds\": %.0f}", (unsigned long long)N,
	         (unsigned long long)SMALL, REPS, BENCH_SEED, PF_VERSION_STRING, now_s() - t_start);
	results_write_json(json, meta);
	printf("wrote %s; total %.0f s\n", json, now_s() - t_start);
	rm_rf(tmp);
	return 0;
}
