/*
 * tests/oom/oom.c — allocation-failure harness: `make check-oom` (every
 * case, every allocation, both modes) and `oom --short` inside `make
 * check` (every case over a stride of allocation numbers).
 *
 * What it owns: this program's own malloc, calloc, realloc, free,
 * reallocarray, memalign, aligned_alloc, posix_memalign, valloc and
 * pvalloc.  They forward to glibc's __libc_* entry points.  Defined in the
 * executable, they interpose for every shared library the process loads
 * (LMDB, msgpack-c, jansson, utf8proc, libcsv, libuuid, and glibc itself:
 * strdup, realpath, fopen, qsort, opendir, pthread_create), so every
 * allocation a libprofile call causes, directly or not, can be failed.
 * No library source changes: the switch is this test build.
 *
 * Why not ASan: ASan (and valgrind) own malloc and cannot be combined
 * with an allocator defined by the program, so this harness is built
 * without sanitizers and does its own leak accounting: it counts live
 * blocks (allocations minus frees).  Each run opens the database, makes
 * the call and closes the database, and the count after pf_close() must
 * equal the count before pf_open(): LMDB keeps freed pages in per-
 * environment caches until the environment closes, so comparing around
 * the call alone would report those caches as leaks.
 *
 * The hook counts allocation calls from the moment it is armed, and
 * fails the Nth: only the Nth ("once" mode), or the Nth and every later
 * one ("forever").  For every case below and N = 1, 2, 3, ... until the
 * call makes fewer than N allocations, one run is:
 *   1. copy the fixture database (built once at start) into place, take
 *      the live-block count, pf_open it, run the case's setup, and take a
 *      digest of every record of every LMDB database (raw LMDB: walk the
 *      main database, then each named one);
 *   2. arm the hook, call, disarm (in forever mode after the case's
 *      outputs were freed, so the _free() functions are shown to need no
 *      memory);
 *   3. if a failure was injected: the call must return PF_ENOMEM, its
 *      *out must be NULL, the digest must be unchanged, no file may have
 *      been left in the output directory (exports, backups), and the same
 *      call, run again at once with allocations allowed, must succeed on
 *      the same handle (so no in-memory state — rule cache, subscriptions,
 *      the open-path registry — was left half-made).  A call that
 *      succeeds although an allocation failed (glibc's qsort falls back
 *      to an in-place sort, stdio to an unbuffered stream) is counted as
 *      "absorbed" and must produce what a clean run produces: the same
 *      digest and the same outputs, whenever two clean runs agree;
 *   4. close everything: the live-block count must be back where it was.
 * Figures are printed per case and in total.
 *
 * jansson 2.14 cannot survive a failed allocation inside its lexer, so
 * json_loadb is interposed too and only its first allocation may fail
 * (see fail_now); the others are counted as "spared".
 *
 * Exceptions are listed in `known[]` with their reason and printed as
 * KNOWN (`--strict` makes them failures); there are none today.
 *
 * Public functions not run as cases (see `skipped` at the case table):
 * the void functions (pf_close and every *_free), which run after every
 * case — in forever mode with every allocation failing.
 *
 * May call: the public API; internal.h for struct pf_db (its LMDB
 * environment, for the digest) and pf_seterr (to clear pf_errmsg before a
 * call); LMDB directly; libc.
 *
 * Usage: oom [--short] [--strict] [--verbose] [--backtrace]
 *            [--mode once|forever] [--case SUBSTRING] [--list]
 * --verbose prints pf_errmsg() of every failed call, --backtrace the
 * stack of each run's first injected failure (addresses: addr2line -e).
 */
#include "libprofile.h"
#include "error.h"
#include "store.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <lmdb.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ================================================================== */
/* The allocator                                                        */
/* ================================================================== */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

/* Atomic: LMDB's compacting copy (pf_compact, pf_backup) allocates on a
 * thread of its own. */
static atomic_long live_blocks;   /* allocations not yet freed, ever */
static atomic_long attempts;      /* allocation calls since armed */
static atomic_long injected;      /* of those, made to fail */
static atomic_long fail_at;       /* the attempt to fail; 0 = count only */
static atomic_int armed;
static atomic_int forever;
static bool trace_failures;       /* --backtrace: where each first failure was */

/* backtrace_symbols_fd writes without allocating; backtrace() itself
 * loads libgcc once, which main() does before anything is armed. */
static void trace(void)
{
	void *frames[32];
	int n = backtrace(frames, 32);
	static const char head[] = "  -- injected allocation failure at:\n";
	if (write(2, head, sizeof head - 1) < 0)
		return;
	backtrace_symbols_fd(frames + 2, n - 2, 2);
}

/*
 * jansson 2.14's lexer cannot survive a failed allocation: lex_save()
 * ignores strbuffer_append_byte()'s failure, and lex_scan_string() then
 * asserts or runs past its buffer (load.c).  So inside json_loadb (which
 * this program also interposes, below) only the first allocation, the
 * lexer's buffer that json_loadb checks, may fail; the later ones are
 * spared and counted, and the harness moves on to the next N.
 */
static _Thread_local int in_json_load;   /* allocations seen inside json_loadb */
static atomic_long spared;

static bool fail_now(void)
{
	if (!atomic_load_explicit(&armed, memory_order_relaxed))
		return false;
	long n = atomic_fetch_add(&attempts, 1) + 1;
	long t = atomic_load(&fail_at);
	bool hit = t > 0 && (n == t || (n > t && atomic_load(&forever)));
	if (in_json_load && in_json_load++ > 1) {
		if (hit)
			atomic_fetch_add(&spared, 1);
		return false;
	}
	if (hit) {
		if (atomic_fetch_add(&injected, 1) == 0 && trace_failures)
			trace();
		return true;
	}
	return false;
}

static void *counted(void *p)
{
	if (p)
		atomic_fetch_add(&live_blocks, 1);
	return p;
}

void *malloc(size_t size)
{
	if (fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
	if (fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(__libc_calloc(n, size));
}

void free(void *p)
{
	if (!p)
		return;
	atomic_fetch_sub(&live_blocks, 1);
	__libc_free(p);
}

void *realloc(void *p, size_t size)
{
	if (!p)
		return malloc(size);
	if (size == 0) {            /* glibc: frees and returns NULL */
		free(p);
		return NULL;
	}
	if (fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, size);   /* one block before, one after */
}

void *reallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

void *memalign(size_t align, size_t size)
{
	if (fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	return counted(__libc_memalign(align, size));
}

void *aligned_alloc(size_t align, size_t size)
{
	return memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	int saved = errno;
	void *p = memalign(align, size);
	errno = saved;              /* posix_memalign reports, never sets errno */
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *valloc(size_t size)
{
	return memalign((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return memalign(page, (size + page - 1) / page * page);
}

json_t *json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error)
{
	static json_t *(*real)(const char *, size_t, size_t, json_error_t *);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "json_loadb");
	in_json_load = 1;
	json_t *j = real(buffer, buflen, flags, error);
	in_json_load = 0;
	return j;
}

/* n = 0 only counts.  Counters restart at every arming. */
static void hook_arm(long n, bool fail_forever)
{
	atomic_store(&attempts, 0);
	atomic_store(&injected, 0);
	atomic_store(&spared, 0);
	atomic_store(&fail_at, n);
	atomic_store(&forever, fail_forever ? 1 : 0);
	atomic_store(&armed, 1);
}

static void hook_disarm(void)
{
	atomic_store(&armed, 0);
}

/* ================================================================== */
/* Digests (no allocation of their own: they also hash outputs while    */
/* the hook fails everything)                                           */
/* ================================================================== */

typedef struct digest {
	uint64_t a, b, n;
	uint32_t records[32];     /* per named database, in LMDB's order */
} digest;

static const digest DIGEST_INIT = { 0xcbf29ce484222325ull, 0x6a09e667f3bcc909ull, 0, { 0 } };

static void dg_raw(digest *d, const void *p, size_t len)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < len; i++) {
		d->a = (d->a ^ s[i]) * 0x100000001b3ull;            /* FNV-1a */
		d->b = (d->b ^ s[i]) * 0x9e3779b97f4a7c15ull;
		d->b ^= d->b >> 29;
	}
	d->n += len;
}

/* Length-prefixed, so ("ab","c") and ("a","bc") differ. */
static void dg(digest *d, const void *p, size_t len)
{
	uint64_t l = len;
	dg_raw(d, &l, sizeof l);
	if (len)
		dg_raw(d, p, len);
}

static void dg_u(digest *d, uint64_t v)
{
	dg_raw(d, &v, sizeof v);
}

static void dg_s(digest *d, const char *s)
{
	if (!s)
		dg_u(d, 0xffffffffffffffffull);
	else
		dg(d, s, strlen(s));
}

static bool digest_eq(const digest *x, const digest *y)
{
	return x->a == y->a && x->b == y->b && x->n == y->n;
}

static bool records_eq(const digest *x, const digest *y)
{
	return memcmp(x->records, y->records, sizeof x->records) == 0;
}

/*
 * Every record of every named database of `env` (found by walking the
 * main database), in one read transaction.  The main database's own
 * values (page numbers, depth) are left out: equal records are what
 * "nothing stored" means, and a clean rerun may lay pages out otherwise.
 */
static int digest_env(MDB_env *env, digest *d)
{
	MDB_txn *txn = NULL;
	MDB_dbi main_dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	char names[32][128];
	size_t nnames = 0;

	*d = DIGEST_INIT;
	int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
	if (!rc)
		rc = mdb_cursor_open(txn, main_dbi, &cur);
	if (rc)
		goto out;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (nnames == 32 || k.mv_size >= sizeof names[0]) {
			rc = MDB_INCOMPATIBLE;
			goto out;
		}
		memcpy(names[nnames], k.mv_data, k.mv_size);
		names[nnames++][k.mv_size] = '\0';
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (rc != MDB_NOTFOUND)
		goto out;
	for (size_t i = 0; i < nnames; i++) {
		MDB_dbi dbi;
		dg_s(d, names[i]);
		rc = mdb_dbi_open(txn, names[i], 0, &dbi);
		if (rc == MDB_INCOMPATIBLE) {
			/* a plain key of the main database, not a named one */
			MDB_val key = { strlen(names[i]), names[i] };
			rc = mdb_get(txn, main_dbi, &key, &v);
			if (rc)
				goto out;
			dg(d, v.mv_data, v.mv_size);
			continue;
		}
		if (!rc)
			rc = mdb_cursor_open(txn, dbi, &cur);
		if (rc)
			goto out;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			dg(d, k.mv_data, k.mv_size);
			dg(d, v.mv_data, v.mv_size);
			d->records[i]++;
		}
		mdb_cursor_close(cur);
		cur = NULL;
		if (rc != MDB_NOTFOUND)
			goto out;
	}
	rc = 0;
out:
	if (cur)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

/* The same, of a directory no pf_db has open (LMDB allows one
 * environment per file per process). */
static int digest_dir(const char *dir, digest *d)
{
	MDB_env *env = NULL;
	int rc = mdb_env_create(&env);
	if (rc)
		return rc;
	mdb_env_set_maxdbs(env, 32);
	rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
	if (!rc)
		rc = digest_env(env, d);
	mdb_env_close(env);
	return rc;
}

/* ================================================================== */
/* Files                                                                */
/* ================================================================== */

static char base_dir[256];        /* everything of this run */
static char tmpl_dir[300];        /* the fixture database, never opened again */
static char db_dir[300];          /* the copy each run works on */
static char new_dir[300];         /* pf_open of a database not there yet */
static char out_dir[300];         /* exports, backups, compacted copies */
static char rules_path[300], csv_path[300], jsonl_path[300];
static char out_jsonl[320], out_csv[320], out_backup[320], out_compact[320];

static void die(const char *fmt, ...) PF_PRINTF(1, 2);
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("oom: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static long nfiles;
static int count_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path; (void)ftw;
	if (flag == FTW_F && S_ISREG(sb->st_mode))
		nfiles++;
	return 0;
}

/* Regular files under `dir` (0 if it does not exist). */
static long count_files(const char *dir)
{
	nfiles = 0;
	nftw(dir, count_one, 16, FTW_PHYS);
	return nfiles;
}

/* With a static buffer: runs between the leak counts. */
static void copy_file(const char *from, const char *to)
{
	static char buf[1 << 16];
	int in = open(from, O_RDONLY);
	if (in < 0)
		die("cannot open %s: %s", from, strerror(errno));
	int outfd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (outfd < 0)
		die("cannot create %s: %s", to, strerror(errno));
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(outfd, buf, (size_t)n) != n)
			die("cannot write %s", to);
	if (n < 0)
		die("cannot read %s", from);
	close(in);
	close(outfd);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("cannot write %s", path);
}

/* The file's bytes into d (0 bytes and a marker when absent). */
static void digest_file(digest *d, const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		dg_s(d, NULL);
		return;
	}
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		dg_raw(d, buf, (size_t)n);
	close(fd);
}

/* Put the fixture back: a fresh copy of its data file, empty output and
 * new-database directories. */
/* The schema-1 database checked in under tests/fixtures (the upgrade
 * case opens a copy of it), from the top directory or $PF_FIXTURE_DIR. */
static const char *schema1_file(void)
{
	static char path[600];
	const char *dir = getenv("PF_FIXTURE_DIR");
	snprintf(path, sizeof path, "%s/schema1/data.mdb", dir && *dir ? dir : "tests/fixtures");
	return path;
}

/* db_dir holds a fresh copy of the fixture (of the schema-1 database
 * when `schema1`), the output directories are empty. */
static void restore_from(bool schema1)
{
	char from[700], to[400];
	rm_rf(out_dir);
	rm_rf(new_dir);
	if (mkdir(out_dir, 0700) != 0)
		die("mkdir %s: %s", out_dir, strerror(errno));
	snprintf(to, sizeof to, "%s/lock.mdb", db_dir);
	unlink(to);
	if (schema1)
		snprintf(from, sizeof from, "%s", schema1_file());
	else
		snprintf(from, sizeof from, "%s/data.mdb", tmpl_dir);
	snprintf(to, sizeof to, "%s/data.mdb", db_dir);
	copy_file(from, to);
}


/* ================================================================== */
/* The fixture                                                          */
/* ================================================================== */

/* 2026-11-23 09:00:00 UTC, a Monday; the clock never moves. */
#define T0 ((pf_time)1795424400)
#define DAY ((pf_time)86400)

static pf_time fixed_clock(void *payload)
{
	(void)payload;
	return T0;
}

static pf_options fx_options(unsigned flags)
{
	pf_options o = PF_OPTIONS_INIT;
	o.clock = fixed_clock;
	o.map_size = (size_t)4 << 20;
	o.timezone = "Asia/Macau";    /* tz.c reads a zone file at every open */
	o.flags = flags;
	return o;
}

/* A book that fires several prompts for the fixture's main guest and
 * uses every kind of test. */
static const char rule_book[] =
	"# the harness's rule book\n"
	"rule floor-preference\n"
	"  on reservation, check_in\n"
	"  when pref room.floor\n"
	"  notify front_desk high \"Assign a room on floor {pref room.floor}\"\n"
	"  notify housekeeping normal within 2h \"Room {room}: guest likes floor {pref room.floor}\"\n"
	"rule no-feather-pillows\n"
	"  on check_in, room_change\n"
	"  when dislike pillow.type = feather\n"
	"  notify housekeeping high within 1h \"Room {room}: remove feather pillows ({note pillow.type})\"\n"
	"rule allergy-peanuts\n"
	"  on reservation, check_in\n"
	"  when need allergy.peanuts\n"
	"  notify restaurant urgent within 30m \"Peanut allergy ({pref allergy.peanuts}): no peanuts for {name}\"\n"
	"rule welcome-back\n"
	"  on check_in\n"
	"  when stays >= 1 and tier >= gold\n"
	"  notify front_desk normal \"Welcome back, {name}: stay number {stays + 1}\"\n"
	"rule first-stay\n"
	"  on check_in\n"
	"  when stays = 0\n"
	"  notify concierge low \"First stay: offer {name} a short tour\"\n"
	"rule birthday\n"
	"  on reservation, check_in\n"
	"  when birthday during stay\n"
	"  notify concierge normal \"{name}'s birthday falls during the stay\"\n"
	"rule large-party\n"
	"  on reservation, check_in\n"
	"  when party >= 3 or (tag family and not tier < silver)\n"
	"  notify front_desk normal \"Party of {party}: offer connecting rooms\"\n"
	"rule unresolved-complaint\n"
	"  on reservation, check_in\n"
	"  when complaints.open > 0\n"
	"  notify management urgent \"Unresolved complaint from {name}: {complaint.latest}\"\n"
	"rule quiet-after-noise\n"
	"  on check_in\n"
	"  when complaints.last_category = noise and not dislike room.location\n"
	"  notify front_desk normal \"Last complaint was about noise: assign a quiet room\"\n"
	"rule press\n"
	"  on reservation, check_in, check_out\n"
	"  when tag press\n"
	"  notify management normal \"Member of the press: {name} ({tier} tier)\"\n"
	"rule kiosk-room\n"
	"  on check_in, room_change\n"
	"  notify kiosk low within 5m \"Your room is {room}.\"\n"
	"rule checkout-after-complaint\n"
	"  on check_out\n"
	"  when complaints.total >= 1\n"
	"  notify management normal within 1h \"Ask {name} how the stay went\"\n";

/* A shorter book for pf_rules_load / pf_rules_load_file. */
static const char new_rule_book[] =
	"rule flowers\n"
	"  on check_in\n"
	"  when pref amenity.flower in (lily, \"white roses\")\n"
	"  notify housekeeping normal within 2h \"Place fresh {pref amenity.flower} in room {room}\"\n"
	"rule vip\n"
	"  on check_in\n"
	"  when tier >= vip\n"
	"  notify management high within 30m \"VIP arriving: greet {name} at room {room}\"\n"
	"rule kiosk-welcome\n"
	"  on check_in\n"
	"  notify kiosk low within 5m \"Welcome, {name}! Stay {stays + 1}.\"\n";

static const char csv_text[] =
	"external_id,name,email,phone,tier,tags,birth_date,consent,pref:room.floor,"
	"need:allergy.nuts,note:room.floor\n"
	"PMS-G,Gita Rao,gita@example.in,+91 22 5555 0101,silver,family,1985-02-03,profiling,12,,"
	"quiet side\n"
	"PMS-N1,Nuno Reis,nuno@example.pt,+351 21 555 0111,gold,,1970-07-07,"
	"profiling;marketing,3,severe,\n"
	"PMS-N2,\"Li, Na\",lina@example.cn,,none,press;family,,none,,,\n"
	"PMS-BAD,Bad Tier,,,diamond,,,,,,\n"
	"PMS-A,Zhuang Wei,zw@example.com,+853 6123 4567,gold,advertising;press,1980-11-24,"
	"profiling,10,,\n";

static const char jsonl_text[] =
	"{\"external_id\":\"PMS-G\",\"name\":\"Gita Rao\",\"email\":\"gita@example.in\","
	"\"tier\":\"silver\",\"tags\":[\"family\"],\"prefs\":{\"room.floor\":\"12\","
	"\"allergy.nuts\":{\"value\":\"severe\",\"kind\":\"need\",\"note\":\"carries an epipen\"}}}\n"
	"{\"external_id\":\"PMS-J1\",\"name\":\"Joana Dias\",\"phone\":\"+351 21 555 0199\","
	"\"consent\":[\"profiling\"],\"prefs\":{\"dining.cuisine\":\"dislike:spicy\"}}\n"
	"\n"
	"{\"name\":\"No Key\",\"tier\":\"diamond\"}\n"
	"not json\n"
	"{\"external_id\":\"PMS-A\",\"name\":\"Zhuang Wei\",\"email\":\"zw@example.com\"}\n";

/* Ids in the fixture, the same in every copy of it. */
static struct fixture {
	pf_id a;          /* Zhuang Wei: prefs, stays, prompts, an open complaint */
	pf_id b;          /* Élodie Martin: a need no rule routes, a resolved complaint */
	pf_id c;          /* Elodie Martin: B's phone, so a duplicate of B */
	pf_id d_keep;     /* Marta Sousa: d_dup was merged into her */
	pf_id d_dup;
	pf_id merge;      /* that merge */
	pf_id e;          /* Rui Santos: to erase (prompts, feedback, journal) */
	pf_id f;          /* Old Guest: last stay in 2019, for retention */
	pf_id g;          /* Gita Rao, PMS-G: updated by the imports */
	pf_id p_pending;  /* A's prompts: pending, pending, acknowledged */
	pf_id p_pending2;
	pf_id p_acked;
	pf_id fb_open;    /* A's open noise complaint */
	pf_id fb_resolved;/* B's resolved complaint (no outcome yet) */
	pf_id fb_compliment;
	uint64_t journal_mid;
} fx;

#define FX_OK(expr) do { int fx_rc_ = (expr); if (fx_rc_) \
	die("fixture: %s: %s (%s)", #expr, pf_strerror(fx_rc_), pf_errmsg()); } while (0)

static pf_id fx_guest(pf_db *db, const char *name, const char *email, const char *phone,
                      const char *ext, pf_tier tier, pf_date birth)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	g.phone = phone;
	g.external_id = ext;
	g.tier = tier;
	g.birth_date = birth;
	FX_OK(pf_guest_put(db, &g));
	return g.id;
}

static void fx_pref(pf_db *db, const pf_id *g, const char *cat, const char *value,
                    pf_pref_kind kind, const char *note)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = "housekeeping";
	o.staff = "Ana";
	o.note = note;
	FX_OK(pf_pref_set(db, g, cat, value, &o));
}

static void fx_stay(pf_db *db, const pf_id *g, pf_date arrival, pf_date departure)
{
	pf_stay s = { PF_STAY_VERSION, *g, "MFM1", "1203", arrival, departure, 2 };
	FX_OK(pf_stay_add(db, &s));
}

static pf_id fx_feedback(pf_db *db, const pf_id *g, pf_feedback_kind kind, const char *cat,
                         const char *text, int severity)
{
	pf_feedback f = PF_FEEDBACK_INIT;
	f.guest = *g;
	f.kind = kind;
	f.department = "housekeeping";
	f.category = cat;
	f.text = text;
	f.severity = severity;
	f.recorded_by = "Ana";
	FX_OK(pf_feedback_add(db, &f, NULL));
	return f.id;
}

static void build_fixture(void)
{
	pf_db *db = NULL;
	pf_options o = fx_options(0);
	FX_OK(pf_open(&db, tmpl_dir, &o));
	FX_OK(pf_rules_load(db, "harness.rules", rule_book, sizeof rule_book - 1, NULL));

	/* A: the guest most rules fire for. */
	static const char *const tags[] = { "advertising", "press" };
	pf_guest g = PF_GUEST_INIT;
	g.name = "Zhuang Wei";
	g.email = "zw@example.com";
	g.phone = "+853 6123 4567";
	g.language = "zh";
	g.loyalty_no = "LX-1";
	g.birth_date = 19801124;
	g.tier = PF_TIER_GOLD;
	g.tags = tags;
	g.tag_count = 2;
	g.external_id = "PMS-A";
	g.country = "MAC";
	FX_OK(pf_guest_put(db, &g));
	fx.a = g.id;
	fx_pref(db, &fx.a, "room.floor", "10", PF_LIKE, "high floor, away from the lift");
	fx_pref(db, &fx.a, "pillow.type", "feather", PF_DISLIKE, "sneezes");
	fx_pref(db, &fx.a, "allergy.peanuts", "severe", PF_NEED, NULL);
	fx_pref(db, &fx.a, "dining.cuisine", "sichuan", PF_LIKE, NULL);
	fx_stay(db, &fx.a, 20250501, 20250505);

	fx.b = fx_guest(db, "Élodie Martin", "elodie@example.fr", "+33 1 23 45 67 89", NULL,
	                PF_TIER_SILVER, 19900102);
	fx_pref(db, &fx.b, "access.hearing", "hard of hearing: speak on the left", PF_NEED, NULL);
	fx.c = fx_guest(db, "Elodie Martin", NULL, "+33 1 23 45 67 89", NULL, PF_TIER_NONE, 0);

	fx.d_keep = fx_guest(db, "Marta Sousa", "marta@example.pt", "+351 22 555 0274", NULL,
	                     PF_TIER_GOLD, 19881102);
	fx.d_dup = fx_guest(db, "Marta Souza", NULL, "+351 22 555 0274", "PMS-D2",
	                    PF_TIER_NONE, 19881102);
	fx_pref(db, &fx.d_dup, "room.bed", "twin", PF_LIKE, NULL);
	fx_pref(db, &fx.d_keep, "room.bed", "king", PF_LIKE, NULL);
	fx_stay(db, &fx.d_dup, 20240301, 20240303);

	fx.e = fx_guest(db, "Rui Santos", "rui@example.pt", "+351 21 555 0238", "PMS-E",
	                PF_TIER_SILVER, 19751010);
	fx_pref(db, &fx.e, "room.floor", "3", PF_LIKE, "near the stairs");
	fx_stay(db, &fx.e, 20250801, 20250804);
	fx.f = fx_guest(db, "Old Guest", "old@example.com", NULL, "PMS-F", PF_TIER_NONE, 0);
	fx_stay(db, &fx.f, 20190101, 20190105);
	fx.g = fx_guest(db, "Gita Rao", "gita@example.in", NULL, "PMS-G", PF_TIER_NONE, 0);

	/* A's check-in: prompts to several departments. */
	pf_prompt_list *l = NULL;
	pf_event ev = PF_EVENT_INIT;
	ev.id = "EV-A1";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = fx.a;
	ev.room = "1203";
	ev.arrival = 20261123;
	ev.departure = 20261127;
	ev.party = 2;
	ev.time = T0 - 3 * DAY;
	FX_OK(pf_fire(&l, db, &ev));
	if (l->count < 4)
		die("fixture: EV-A1 made %zu prompts, expected at least 4", l->count);
	fx.p_pending = l->items[0].id;
	fx.p_pending2 = l->items[1].id;
	fx.p_acked = l->items[2].id;
	pf_prompt_list_free(l);
	FX_OK(pf_prompt_ack(db, &fx.p_acked, "Ana"));

	ev.id = "EV-E1";
	ev.kind = PF_EVENT_RESERVATION;
	ev.guest = fx.e;
	ev.room = NULL;
	FX_OK(pf_fire(&l, db, &ev));
	pf_prompt_list_free(l);
	ev.id = "EV-B1";
	ev.guest = fx.b;
	FX_OK(pf_fire(&l, db, &ev));
	pf_prompt_list_free(l);

	fx.fb_open = fx_feedback(db, &fx.a, PF_FEEDBACK_COMPLAINT, "noise",
	                         "Noisy corridor at night", 2);
	fx.fb_resolved = fx_feedback(db, &fx.b, PF_FEEDBACK_COMPLAINT, "room",
	                             "Cold shower", 1);
	FX_OK(pf_feedback_resolve(db, &fx.fb_resolved, "Ana", "Boiler fixed, apologised"));
	fx.fb_compliment = fx_feedback(db, &fx.b, PF_FEEDBACK_COMPLIMENT, "staff",
	                               "Lovely concierge", 1);
	(void)fx_feedback(db, &fx.e, PF_FEEDBACK_SUGGESTION, "food", "More vegetarian dishes", 1);

	FX_OK(pf_guest_merge(&fx.merge, db, &fx.d_keep, &fx.d_dup));
	FX_OK(pf_guest_not_duplicate(db, &fx.a, &fx.e));

	uint64_t seq = 0;
	FX_OK(pf_journal_last_seq(&seq, db));
	fx.journal_mid = seq / 2;
	pf_close(db);

	write_file(rules_path, new_rule_book);
	write_file(csv_path, csv_text);
	write_file(jsonl_path, jsonl_text);
}

/* ================================================================== */
/* Cases                                                                */
/* ================================================================== */

/* Everything one run of a case holds.  Output slots are freed by
 * free_outputs(); a failed call must leave them NULL. */
struct run {
	pf_db *db;                    /* the fixture copy (NULL for C_NODB) */
	pf_journal_iterator *setup_it;/* made by a setup, not an output */
	/* outputs */
	pf_db *opened;
	pf_guest *guest;
	pf_guest_list *guests;
	pf_pref *pref;
	pf_pref_list *prefs;
	pf_stay_list *stays;
	pf_rule_list *rules;
	pf_prompt_list *prompts;
	pf_prompt *prompt;
	pf_feedback *fb;
	pf_feedback_list *fbs;
	pf_quality_report *quality;
	pf_journal_iterator *it;
	pf_duplicate_list *dups;
	pf_import_report *import;
	char *str;
	/* plain results, hashed into the outputs' digest */
	digest acc;                   /* e.g. journal entries read */
	uint64_t u64;
	int created;
	pf_retention_report retention;
	long sub_calls;               /* subscriber callbacks seen */
	const char *file;             /* a file the call writes */
};

static bool outputs_any(const struct run *r)
{
	return r->opened || r->guest || r->guests || r->pref || r->prefs || r->stays ||
	       r->rules || r->prompts || r->prompt || r->fb || r->fbs || r->quality || r->it || r->dups ||
	       r->import || r->str;
}

static void free_outputs(struct run *r)
{
	pf_close(r->opened);
	pf_guest_free(r->guest);
	pf_guest_list_free(r->guests);
	pf_pref_free(r->pref);
	pf_pref_list_free(r->prefs);
	pf_stay_list_free(r->stays);
	pf_rule_list_free(r->rules);
	pf_prompt_list_free(r->prompts);
	pf_prompt_free(r->prompt);
	pf_feedback_free(r->fb);
	pf_feedback_list_free(r->fbs);
	pf_quality_report_free(r->quality);
	pf_journal_iterator_free(r->it);
	pf_duplicate_list_free(r->dups);
	pf_import_report_free(r->import);
	pf_string_free(r->str);
	r->opened = NULL;
	r->guest = NULL;
	r->guests = NULL;
	r->pref = NULL;
	r->prefs = NULL;
	r->stays = NULL;
	r->rules = NULL;
	r->prompts = NULL;
	r->prompt = NULL;
	r->fb = NULL;
	r->fbs = NULL;
	r->quality = NULL;
	r->it = NULL;
	r->dups = NULL;
	r->import = NULL;
	r->str = NULL;
}

static void h_pref(digest *d, const pf_pref *p)
{
	dg_s(d, p->category);
	dg_s(d, p->value);
	dg_u(d, p->kind);
	dg_s(d, p->department);
	dg_s(d, p->staff);
	dg_s(d, p->note);
	dg_u(d, p->count);
	dg_u(d, (uint64_t)p->first_seen);
	dg_u(d, (uint64_t)p->last_seen);
}

static void h_guest(digest *d, const pf_guest *g)
{
	dg_s(d, g->name);
	dg_s(d, g->email);
	dg_s(d, g->phone);
	dg_s(d, g->language);
	dg_s(d, g->loyalty_no);
	dg_s(d, g->external_id);
	dg_s(d, g->country);
	dg_u(d, (uint64_t)g->birth_date);
	dg_u(d, g->tier);
	dg_u(d, g->consent);
	dg_u(d, g->tag_count);
	for (size_t i = 0; i < g->tag_count; i++)
		dg_s(d, g->tags[i]);
	dg_u(d, g->pref_count);
	for (size_t i = 0; i < g->pref_count; i++)
		h_pref(d, &g->prefs[i]);
	dg_u(d, g->stays);
	dg_u(d, g->complaints_open);
	dg_u(d, g->complaints_total);
	dg_u(d, (uint64_t)g->created);
	dg_u(d, (uint64_t)g->updated);
}

/* Prompt ids are random in fired prompts: left out. */
static void h_prompt(digest *d, const pf_prompt *p)
{
	dg_s(d, p->event_id);
	dg_s(d, p->department);
	dg_s(d, p->rule);
	dg_u(d, p->priority);
	dg_s(d, p->text);
	dg_u(d, p->status);
	dg_u(d, (uint64_t)p->created);
	dg_u(d, (uint64_t)p->due);
	dg_s(d, p->ack_by);
	dg_s(d, p->done_by);
	dg_s(d, p->dismiss_reason);
	dg_s(d, p->language);
}

static void h_feedback(digest *d, const pf_feedback *f)
{
	dg_u(d, f->kind);
	dg_s(d, f->department);
	dg_s(d, f->category);
	dg_s(d, f->text);
	dg_u(d, (uint64_t)f->severity);
	dg_s(d, f->recorded_by);
	dg_u(d, f->status);
	dg_u(d, (uint64_t)f->due);
	dg_s(d, f->resolution);
	dg_u(d, f->outcome);
}

static void h_quality_row(digest *d, const pf_quality_row *q)
{
	dg_s(d, q->department);
	uint64_t v[] = { q->prompts, q->done_on_time, q->done_late, q->never_done,
	                 q->not_yet_due, q->complaints, q->resolved, q->resolved_by_due,
	                 (uint64_t)q->median_resolve_seconds, q->unresolved, q->followups,
	                 q->not_satisfied, q->compliments, q->suggestions };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		dg_u(d, v[i]);
}

/* A digest of everything the call handed back; allocates nothing. */
static digest hash_outputs(const struct run *r)
{
	digest d = DIGEST_INIT;
	dg_u(&d, r->acc.a);
	dg_u(&d, r->acc.b);
	dg_u(&d, r->u64);
	dg_u(&d, (uint64_t)r->created);
	dg_u(&d, r->retention.examined);
	dg_u(&d, r->retention.anonymised);
	dg_u(&d, (uint64_t)r->sub_calls);
	dg_u(&d, r->opened != NULL);
	if (r->guest)
		h_guest(&d, r->guest);
	if (r->guests) {
		dg_u(&d, r->guests->count);
		dg_u(&d, (uint64_t)r->guests->truncated);
		for (size_t i = 0; i < r->guests->count; i++)
			h_guest(&d, r->guests->items[i]);
	}
	if (r->pref)
		h_pref(&d, r->pref);
	if (r->prefs)
		for (size_t i = 0; i < r->prefs->count; i++)
			h_pref(&d, &r->prefs->items[i]);
	if (r->stays)
		for (size_t i = 0; i < r->stays->count; i++) {
			dg_u(&d, (uint64_t)r->stays->items[i].arrival);
			dg_s(&d, r->stays->items[i].room);
		}
	if (r->rules)
		for (size_t i = 0; i < r->rules->count; i++) {
			dg_s(&d, r->rules->items[i].name);
			dg_s(&d, r->rules->items[i].source);
		}
	if (r->prompts) {
		dg_u(&d, r->prompts->count);
		for (size_t i = 0; i < r->prompts->count; i++)
			h_prompt(&d, &r->prompts->items[i]);
	}
	if (r->prompt)
		h_prompt(&d, r->prompt);
	if (r->fb)
		h_feedback(&d, r->fb);
	if (r->fbs) {
		dg_u(&d, r->fbs->count);
		for (size_t i = 0; i < r->fbs->count; i++)
			h_feedback(&d, &r->fbs->items[i]);
	}
	if (r->quality) {
		dg_u(&d, r->quality->stays);
		h_quality_row(&d, &r->quality->overall);
		for (size_t i = 0; i < r->quality->count; i++)
			h_quality_row(&d, &r->quality->departments[i]);
	}
	if (r->dups)
		for (size_t i = 0; i < r->dups->count; i++) {
			dg(&d, r->dups->items[i].guest.b, 16);
			dg_u(&d, (uint64_t)r->dups->items[i].score);
			dg_u(&d, r->dups->items[i].reasons);
		}
	if (r->import) {
		dg_u(&d, r->import->rows);
		dg_u(&d, r->import->created);
		dg_u(&d, r->import->updated);
		dg_u(&d, r->import->rejected);
		for (size_t i = 0; i < r->import->reject_count; i++) {
			dg_u(&d, r->import->rejects[i].line);
			dg_s(&d, r->import->rejects[i].reason);
		}
	}
	if (r->str)
		dg_s(&d, r->str);
	if (r->file)
		digest_file(&d, r->file);
	return d;
}

/* ---- the calls ---------------------------------------------------- */

/* Every case's call: its return code is the public function's. */
typedef int (*case_fn)(struct run *r);

static int c_open(struct run *r)
{
	pf_options o = fx_options(0);
	return pf_open(&r->opened, db_dir, &o);
}

static int c_open_create(struct run *r)
{
	pf_options o = fx_options(0);
	return pf_open(&r->opened, new_dir, &o);
}

/* A schema-1 database: the open upgrades it in one transaction, so a
 * failed allocation anywhere in it must leave schema 1 whole. */
static int c_open_upgrade(struct run *r)
{
	pf_options o = fx_options(0);
	return pf_open(&r->opened, db_dir, &o);
}

/* Names an unnamed database: the one open that writes the name. */
static int c_open_property(struct run *r)
{
	pf_options o = fx_options(0);
	o.property = "macau";
	int rc = pf_open(&r->opened, db_dir, &o);
	const char *name = NULL;
	if (rc == 0 && (rc = pf_property(&name, r->opened)) == 0)
		dg_s(&r->acc, name);
	return rc;
}

static int c_open_readonly(struct run *r)
{
	pf_options o = fx_options(PF_OPEN_READONLY);
	return pf_open(&r->opened, db_dir, &o);
}

static int c_open_offset(struct run *r)
{
	pf_options o = fx_options(PF_OPEN_NOMETASYNC);
	o.timezone = NULL;
	o.utc_offset_minutes = 480;
	return pf_open(&r->opened, db_dir, &o);
}

static int c_guest_put_new(struct run *r)
{
	static const char *const tags[] = { "family", "vegetarian" };
	pf_guest g = PF_GUEST_INIT;
	g.name = "Ana Lima";
	g.email = "ana.lima@example.br";
	g.phone = "+55 11 5555 0101";
	g.language = "pt-BR";
	g.loyalty_no = "LX-77";
	g.birth_date = 19920615;
	g.tier = PF_TIER_SILVER;
	g.tags = tags;
	g.tag_count = 2;
	g.external_id = "PMS-NEW";
	g.country = "BRA";
	return pf_guest_put(r->db, &g);
}

static int c_guest_put_update(struct run *r)
{
	static const char *const tags[] = { "press" };
	pf_guest g = PF_GUEST_INIT;
	g.id = fx.a;
	g.name = "Zhuang Wei-Ming";
	g.email = "zwm@example.com";
	g.phone = "+853 6123 0000";
	g.language = "zh";
	g.loyalty_no = "LX-2";
	g.birth_date = 19801124;
	g.tier = PF_TIER_PLATINUM;
	g.tags = tags;
	g.tag_count = 1;
	g.external_id = "PMS-A";
	g.country = "CHN";
	return pf_guest_put(r->db, &g);
}

static int c_guest_update(struct run *r)
{
	static const char *const tags[] = { "press", "family" };
	pf_guest g = PF_GUEST_INIT;
	g.name = "Élodie Martin-Dubois";
	g.email = "elodie.md@example.fr";
	g.tags = tags;
	g.tag_count = 2;
	g.tier = PF_TIER_GOLD;
	return pf_guest_update(r->db, &fx.b, &g,
	                       PF_GUEST_NAME | PF_GUEST_EMAIL | PF_GUEST_TAGS | PF_GUEST_TIER |
	                       PF_GUEST_PHONE);
}

static int c_get_or_put_found(struct run *r)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Whoever";
	g.email = "ZW@example.com";
	return pf_guest_get_or_put(&r->guest, &r->created, r->db, &g);
}

static int c_get_or_put_new(struct run *r)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Kiosk Walk-in";
	g.email = "walkin@example.com";
	g.phone = "+853 6000 1111";
	return pf_guest_get_or_put(&r->guest, &r->created, r->db, &g);
}

static int c_guest_get(struct run *r)
{
	return pf_guest_get(&r->guest, r->db, &fx.a);
}

static int c_find_name(struct run *r)
{
	return pf_guest_find(&r->guests, r->db, "elo");
}

static int c_find_email(struct run *r)
{
	return pf_guest_find(&r->guests, r->db, "zw@example.com");
}

static int c_find_phone(struct run *r)
{
	return pf_guest_find(&r->guests, r->db, "+351 22 555 0274");
}

static int c_pref_set_new(struct run *r)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "restaurant";
	o.staff = "Rui";
	o.note = "asked twice";
	return pf_pref_set(r->db, &fx.a, "dining.condiment", "chili_oil", &o);
}

static int c_pref_set_again(struct run *r)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "front_desk";
	return pf_pref_set(r->db, &fx.a, "room.floor", "10", &o);
}

static int c_pref_get(struct run *r)
{
	return pf_pref_get(&r->pref, r->db, &fx.a, "pillow.type");
}

static int c_pref_del(struct run *r)
{
	return pf_pref_del(r->db, &fx.a, "dining.cuisine");
}

static int c_pref_list(struct run *r)
{
	return pf_pref_list_get(&r->prefs, r->db, &fx.a);
}

static int c_stay_add(struct run *r)
{
	pf_stay s = { PF_STAY_VERSION, fx.b, "MFM1", "808", 20261201, 20261204, 3 };
	return pf_stay_add(r->db, &s);
}

/* Two guests, an arrival given twice: an allocation failure anywhere
 * must leave nothing of the batch (it is one transaction). */
static int c_stay_add_batch(struct run *r)
{
	pf_stay v[] = {
		{ PF_STAY_VERSION, fx.b, "MFM1", "808", 20261201, 20261204, 3 },
		{ PF_STAY_VERSION, fx.a, NULL, "101", 20261110, 20261112, 1 },
		{ PF_STAY_VERSION, fx.b, "MFM1", "809", 20261201, 20261205, 2 },
	};
	size_t failed;
	return pf_stay_add_batch(r->db, v, sizeof v / sizeof *v, &failed);
}

static int c_stay_list(struct run *r)
{
	return pf_stay_list_get(&r->stays, r->db, &fx.a);
}

static int c_rules_load(struct run *r)
{
	pf_rule_error err;
	return pf_rules_load(r->db, "new.rules", new_rule_book, sizeof new_rule_book - 1, &err);
}

static int c_rules_load_file(struct run *r)
{
	pf_rule_error err;
	return pf_rules_load_file(r->db, rules_path, &err);
}

static int c_rules_clear(struct run *r)
{
	return pf_rules_clear(r->db);
}

static int c_rules_list(struct run *r)
{
	return pf_rules_list(&r->rules, r->db);
}

static pf_event ev_checkin_a(void)
{
	pf_event ev = PF_EVENT_INIT;
	ev.id = "EV-A2";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = fx.a;
	ev.property = "MFM1";
	ev.room = "1508";
	ev.arrival = 20261123;
	ev.departure = 20261126;
	ev.party = 3;
	return ev;
}

static int c_fire(struct run *r)
{
	pf_event ev = ev_checkin_a();
	return pf_fire(&r->prompts, r->db, &ev);
}

static int c_fire_need(struct run *r)
{
	pf_event ev = PF_EVENT_INIT;
	ev.id = "EV-B2";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = fx.b;
	ev.room = "505";
	ev.arrival = 20261123;
	ev.departure = 20261124;
	return pf_fire(&r->prompts, r->db, &ev);
}

static int c_fire_repeat(struct run *r)
{
	pf_event ev = PF_EVENT_INIT;
	ev.id = "EV-A1";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = fx.a;
	ev.room = "1203";
	ev.arrival = 20261123;
	ev.departure = 20261127;
	ev.party = 2;
	ev.time = T0 - 3 * DAY;
	return pf_fire(&r->prompts, r->db, &ev);
}

static int c_preview(struct run *r)
{
	pf_event ev = ev_checkin_a();
	ev.id = NULL;
	return pf_preview(&r->prompts, r->db, &ev);
}

/* Setups that warm the rule cache, so the call measures the hot path. */
static int s_warm(struct run *r)
{
	pf_prompt_list *l = NULL;
	pf_event ev = ev_checkin_a();
	ev.id = NULL;
	int rc = pf_preview(&l, r->db, &ev);
	pf_prompt_list_free(l);
	return rc;
}

static void on_prompt(const pf_prompt *p, void *payload)
{
	struct run *r = payload;
	r->sub_calls++;
	dg_s(&r->acc, p->department);
	dg_s(&r->acc, p->text);
}

static int s_subscribe(struct run *r)
{
	int rc = s_warm(r);
	if (!rc)
		rc = pf_subscribe(r->db, NULL, on_prompt, r);
	if (!rc)
		rc = pf_subscribe(r->db, "housekeeping", on_prompt, r);
	return rc;
}

static int c_prompt_get(struct run *r)
{
	return pf_prompt_get(&r->prompt, r->db, &fx.p_acked);
}

static int c_pending(struct run *r)
{
	return pf_prompts_pending(&r->prompts, r->db, "front_desk");
}

static int c_overdue(struct run *r)
{
	return pf_prompts_overdue(&r->prompts, r->db, NULL, T0 + 2 * DAY);
}

static int c_ack(struct run *r)
{
	return pf_prompt_ack(r->db, &fx.p_pending, "Rui");
}

static int c_done(struct run *r)
{
	return pf_prompt_done(r->db, &fx.p_acked, "Rui");
}

static int c_dismiss(struct run *r)
{
	return pf_prompt_dismiss(r->db, &fx.p_pending2, "Rui", "guest asked not to be disturbed");
}

static int c_seq(struct run *r)
{
	return pf_prompts_seq(&r->u64, r->db, "housekeeping");
}

static int c_since(struct run *r)
{
	return pf_prompts_since(&r->prompts, r->db, "housekeeping", 0);
}

static int c_subscribe(struct run *r)
{
	return pf_subscribe(r->db, "front_desk", on_prompt, r);
}

static int s_subscribe_one(struct run *r)
{
	return pf_subscribe(r->db, "kiosk", on_prompt, r);
}

static int c_unsubscribe(struct run *r)
{
	return pf_unsubscribe(r->db, "kiosk", on_prompt, r);
}

static int c_feedback_complaint(struct run *r)
{
	pf_feedback f = PF_FEEDBACK_INIT;
	pf_pref learn = { "allergy.feathers", "feather pillow", PF_NEED, NULL, NULL, NULL, 0, 0, 0 };
	f.guest = fx.a;
	f.stay = 20250501;
	f.department = "housekeeping";
	f.category = "room";
	f.text = "Feather pillow caused an allergy";
	f.severity = 3;
	f.recorded_by = "Ana";
	f.recorded_at = T0 - 3600;
	return pf_feedback_add(r->db, &f, &learn);
}

static int c_feedback_compliment(struct run *r)
{
	pf_feedback f = PF_FEEDBACK_INIT;
	f.guest = fx.c;
	f.kind = PF_FEEDBACK_COMPLIMENT;
	f.department = "restaurant";
	f.category = "food";
	f.text = "Best dim sum in town";
	f.recorded_by = "Rui";
	return pf_feedback_add(r->db, &f, NULL);
}

static int c_feedback_get(struct run *r)
{
	return pf_feedback_get(&r->fb, r->db, &fx.fb_resolved);
}

static int c_feedback_list_guest(struct run *r)
{
	return pf_feedback_list_get(&r->fbs, r->db, &fx.b, NULL);
}

static int c_feedback_list_all(struct run *r)
{
	pf_feedback_query q = PF_FEEDBACK_QUERY_INIT;
	q.status = PF_FEEDBACK_OPEN;
	return pf_feedback_list_get(&r->fbs, r->db, NULL, &q);
}

static int c_feedback_progress(struct run *r)
{
	return pf_feedback_update(r->db, &fx.fb_open, PF_FEEDBACK_IN_PROGRESS, "Ana",
	                          "maintenance called");
}

static int c_feedback_close(struct run *r)
{
	return pf_feedback_update(r->db, &fx.fb_open, PF_FEEDBACK_CLOSED_UNRESOLVED, "Ana",
	                          "guest left before we could fix it");
}

static int c_feedback_resolve(struct run *r)
{
	return pf_feedback_resolve(r->db, &fx.fb_open, "Ana", "Moved to a quiet room");
}

static int c_feedback_followup(struct run *r)
{
	return pf_feedback_followup(r->db, &fx.fb_resolved, "Rui", PF_OUTCOME_NOT_SATISFIED);
}

static int c_quality(struct run *r)
{
	return pf_quality_report_get(&r->quality, r->db, T0 - 30 * DAY, T0 + DAY);
}

static int c_journal_iter(struct run *r)
{
	return pf_journal_iter(&r->it, r->db, 0, NULL);
}

static int s_iter_all(struct run *r)
{
	return pf_journal_iter(&r->setup_it, r->db, 0, NULL);
}

static int s_iter_guest(struct run *r)
{
	return pf_journal_iter(&r->setup_it, r->db, 0, &fx.a);
}

/* Read to the end; each entry goes into r->acc. */
static int c_journal_next(struct run *r)
{
	const pf_journal_entry *e;
	int rc;
	while ((rc = pf_journal_next(&e, r->setup_it)) == 0) {
		dg_u(&r->acc, e->seq);
		dg_s(&r->acc, e->op);
		dg_s(&r->acc, e->actor);
		dg_s(&r->acc, e->ref);
		for (size_t i = 0; i < e->field_count; i++) {
			dg_s(&r->acc, e->fields[i].name);
			dg_s(&r->acc, e->fields[i].value);
		}
	}
	return rc == PF_ITEROVER ? 0 : rc;
}

static int c_journal_last_seq(struct run *r)
{
	return pf_journal_last_seq(&r->u64, r->db);
}

static int c_journal_trim(struct run *r)
{
	return pf_journal_trim(r->db, fx.journal_mid, &r->u64);
}

static int c_duplicates(struct run *r)
{
	return pf_guest_duplicates(&r->dups, r->db, &fx.b);
}

static int c_not_duplicate(struct run *r)
{
	return pf_guest_not_duplicate(r->db, &fx.b, &fx.c);
}

static int c_merge(struct run *r)
{
	pf_id m;
	return pf_guest_merge(&m, r->db, &fx.b, &fx.c);
}

static int c_merge_rich(struct run *r)
{
	pf_id m;
	return pf_guest_merge(&m, r->db, &fx.a, &fx.e);
}

static int c_unmerge(struct run *r)
{
	return pf_guest_unmerge(r->db, &fx.merge);
}

static int c_erase(struct run *r)
{
	return pf_guest_erase(r->db, &fx.e);
}

static int c_erase_merged(struct run *r)
{
	return pf_guest_erase(r->db, &fx.d_keep);
}

static int c_compact(struct run *r)
{
	return pf_compact(r->db, out_compact);
}

static int c_backup(struct run *r)
{
	return pf_backup(r->db, out_backup);
}

static int c_consent(struct run *r)
{
	return pf_guest_set_consent(r->db, &fx.a, PF_CONSENT_MARKETING, "front_desk/Ana");
}

static int c_retention(struct run *r)
{
	return pf_retention_run(&r->retention, r->db, 365, "dpo");
}

static int c_export_json(struct run *r)
{
	return pf_guest_export_json(&r->str, r->db, &fx.a);
}

static int c_import_csv(struct run *r)
{
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.department = "front_desk";
	return pf_import_csv(&r->import, r->db, csv_path, &o);
}

static int c_import_csv_rows(struct run *r)
{
	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.batch_size = 2;     /* several transactions */
	return pf_import_csv(&r->import, r->db, csv_path, &o);
}

static int c_import_jsonl(struct run *r)
{
	return pf_import_jsonl(&r->import, r->db, jsonl_path, NULL);
}

static int c_export_jsonl(struct run *r)
{
	r->file = out_jsonl;
	return pf_export_jsonl(r->db, out_jsonl);
}

static int c_export_csv(struct run *r)
{
	r->file = out_csv;
	return pf_export_csv(r->db, out_csv);
}

static int c_digest(struct run *r)
{
	unsigned char d[PF_DIGEST_SIZE];
	int rc = pf_digest(d, r->db);
	if (rc == 0)
		for (size_t i = 0; i < sizeof d; i++)
			dg_u(&r->acc, d[i]);
	return rc;
}

/* Functions that must make no allocation at all: run together, they
 * show it (any allocation would be failed in the first run). */
static int c_pure(struct run *r)
{
	char buf[PF_ID_STRLEN + 1];
	pf_id id;
	pf_date d;
	pf_options o;
	pf_tier t;
	pf_event_kind k;
	pf_feedback_kind fk;
	pf_feedback_status fs;
	pf_time tm;
	int off, rc = 0;
	const char *s;

	s = pf_version(NULL, NULL, NULL);
	dg_s(&r->acc, s);
	dg_s(&r->acc, pf_strerror(PF_ENOMEM));
	dg_s(&r->acc, pf_errmsg());
	rc |= pf_id_format(buf, &fx.a);
	rc |= pf_id_parse(&id, buf);
	dg_u(&r->acc, (uint64_t)pf_id_is_zero(&id));
	rc |= pf_date_make(&d, 2026, 2, 28);
	rc |= pf_options_init(&o, PF_OPTIONS_VERSION);
	dg_u(&r->acc, (uint64_t)pf_now(r->db));
	dg_s(&r->acc, pf_tier_name(PF_TIER_GOLD));
	rc |= pf_tier_parse(&t, "platinum");
	dg_s(&r->acc, pf_pref_kind_name(PF_NEED));
	dg_s(&r->acc, pf_event_kind_name(PF_EVENT_CHECK_OUT));
	rc |= pf_event_kind_parse(&k, "room_change");
	dg_s(&r->acc, pf_priority_name(PF_PRIORITY_URGENT));
	dg_s(&r->acc, pf_prompt_status_name(PF_PROMPT_DISMISSED));
	dg_s(&r->acc, pf_feedback_kind_name(PF_FEEDBACK_SUGGESTION));
	dg_s(&r->acc, pf_feedback_status_name(PF_FEEDBACK_IN_PROGRESS));
	dg_s(&r->acc, pf_outcome_name(PF_OUTCOME_SATISFIED));
	rc |= pf_feedback_kind_parse(&fk, "compliment");
	rc |= pf_feedback_status_parse(&fs, "closed_unresolved");
	rc |= pf_complaint_due(&tm, r->db, T0);
	dg_u(&r->acc, (uint64_t)tm);
	rc |= pf_day_start(&tm, r->db, 20261123);
	dg_u(&r->acc, (uint64_t)tm);
	rc |= pf_utc_offset(&off, r->db, T0);
	dg_u(&r->acc, (uint64_t)off);
	return rc;
}

/* C_NODB: the case opens the database itself (pf_open).  C_NEWDIR: the
 * database does not exist before the call: no digest to compare.
 * C_PURE: must not allocate.  C_SHORT: not in --short (see main). */
#define C_NODB   0x1u
#define C_NEWDIR 0x2u
#define C_PURE   0x4u
/* C_PARTIAL: documented to keep the transactions committed before a
 * failure (pf_import_csv's batches): instead of an unchanged database,
 * the rerun must end with as many records in every database as a clean
 * run (re-running is safe: nothing doubled, nothing lost). */
#define C_PARTIAL 0x8u
/* C_SCHEMA1: the database is a copy of the schema-1 fixture (C_NODB). */
#define C_SCHEMA1 0x10u

struct oom_case {
	const char *name;
	const char *fn;               /* the public function it covers */
	case_fn call;
	case_fn setup;                /* before the digest, never armed */
	unsigned flags;
};

static const struct oom_case cases[] = {
	{ "open existing (zone file)",   "pf_open", c_open, NULL, C_NODB },
	{ "open read-only",              "pf_open", c_open_readonly, NULL, C_NODB },
	{ "open, fixed offset",          "pf_open", c_open_offset, NULL, C_NODB },
	{ "open, creating",              "pf_open", c_open_create, NULL, C_NODB | C_NEWDIR },
	{ "open schema 1 (upgrade)",     "pf_open", c_open_upgrade, NULL, C_NODB | C_SCHEMA1 },
	{ "open, naming the property",   "pf_open pf_property", c_open_property, NULL, C_NODB },
	{ "guest put (create)",          "pf_guest_put", c_guest_put_new, NULL, 0 },
	{ "guest put (update)",          "pf_guest_put", c_guest_put_update, NULL, 0 },
	{ "guest update",                "pf_guest_update", c_guest_update, NULL, 0 },
	{ "guest get_or_put (found)",    "pf_guest_get_or_put", c_get_or_put_found, NULL, 0 },
	{ "guest get_or_put (created)",  "pf_guest_get_or_put", c_get_or_put_new, NULL, 0 },
	{ "guest get",                   "pf_guest_get", c_guest_get, NULL, 0 },
	{ "guest find (name prefix)",    "pf_guest_find", c_find_name, NULL, 0 },
	{ "guest find (e-mail)",         "pf_guest_find", c_find_email, NULL, 0 },
	{ "guest find (phone)",          "pf_guest_find", c_find_phone, NULL, 0 },
	{ "pref set (new)",              "pf_pref_set", c_pref_set_new, NULL, 0 },
	{ "pref set (again)",            "pf_pref_set", c_pref_set_again, NULL, 0 },
	{ "pref get",                    "pf_pref_get", c_pref_get, NULL, 0 },
	{ "pref del",                    "pf_pref_del", c_pref_del, NULL, 0 },
	{ "pref list",                   "pf_pref_list_get", c_pref_list, NULL, 0 },
	{ "stay add",                    "pf_stay_add", c_stay_add, NULL, 0 },
	{ "stay add batch",              "pf_stay_add_batch", c_stay_add_batch, NULL, 0 },
	{ "stay list",                   "pf_stay_list_get", c_stay_list, NULL, 0 },
	{ "rules load",                  "pf_rules_load", c_rules_load, NULL, 0 },
	{ "rules load file",             "pf_rules_load_file", c_rules_load_file, NULL, 0 },
	{ "rules clear",                 "pf_rules_clear", c_rules_clear, NULL, 0 },
	{ "rules list",                  "pf_rules_list", c_rules_list, NULL, 0 },
	{ "fire (cold rule cache)",      "pf_fire", c_fire, NULL, 0 },
	{ "fire (warm cache)",           "pf_fire", c_fire, s_warm, 0 },
	{ "fire (subscribers)",          "pf_fire", c_fire, s_subscribe, 0 },
	{ "fire (unrouted need)",        "pf_fire", c_fire_need, s_warm, 0 },
	{ "fire (repeated id)",          "pf_fire", c_fire_repeat, NULL, 0 },
	{ "preview (cold cache)",        "pf_preview", c_preview, NULL, 0 },
	{ "preview (warm cache)",        "pf_preview", c_preview, s_warm, 0 },
	{ "prompt get",                  "pf_prompt_get", c_prompt_get, NULL, 0 },
	{ "prompts pending",             "pf_prompts_pending", c_pending, NULL, 0 },
	{ "prompts overdue",             "pf_prompts_overdue", c_overdue, NULL, 0 },
	{ "prompt ack",                  "pf_prompt_ack", c_ack, NULL, 0 },
	{ "prompt done",                 "pf_prompt_done", c_done, NULL, 0 },
	{ "prompt dismiss",              "pf_prompt_dismiss", c_dismiss, NULL, 0 },
	{ "prompts seq",                 "pf_prompts_seq", c_seq, NULL, 0 },
	{ "prompts since",               "pf_prompts_since", c_since, NULL, 0 },
	{ "subscribe",                   "pf_subscribe", c_subscribe, NULL, 0 },
	{ "unsubscribe",                 "pf_unsubscribe", c_unsubscribe, s_subscribe_one, 0 },
	{ "feedback add (complaint+learn)", "pf_feedback_add", c_feedback_complaint, NULL, 0 },
	{ "feedback add (compliment)",   "pf_feedback_add", c_feedback_compliment, NULL, 0 },
	{ "feedback get",                "pf_feedback_get", c_feedback_get, NULL, 0 },
	{ "feedback list (guest)",       "pf_feedback_list_get", c_feedback_list_guest, NULL, 0 },
	{ "feedback list (all open)",    "pf_feedback_list_get", c_feedback_list_all, NULL, 0 },
	{ "feedback update (progress)",  "pf_feedback_update", c_feedback_progress, NULL, 0 },
	{ "feedback update (close)",     "pf_feedback_update", c_feedback_close, NULL, 0 },
	{ "feedback resolve",            "pf_feedback_resolve", c_feedback_resolve, NULL, 0 },
	{ "feedback followup",           "pf_feedback_followup", c_feedback_followup, NULL, 0 },
	{ "quality report",              "pf_quality_report_get", c_quality, NULL, 0 },
	{ "journal iter",                "pf_journal_iter", c_journal_iter, NULL, 0 },
	{ "journal next (all)",          "pf_journal_next", c_journal_next, s_iter_all, 0 },
	{ "journal next (one guest)",    "pf_journal_next", c_journal_next, s_iter_guest, 0 },
	{ "journal last seq",            "pf_journal_last_seq", c_journal_last_seq, NULL, 0 },
	{ "journal trim",                "pf_journal_trim", c_journal_trim, NULL, 0 },
	{ "duplicates",                  "pf_guest_duplicates", c_duplicates, NULL, 0 },
	{ "not duplicate",               "pf_guest_not_duplicate", c_not_duplicate, NULL, 0 },
	{ "merge",                       "pf_guest_merge", c_merge, NULL, 0 },
	{ "merge (prompts, feedback)",   "pf_guest_merge", c_merge_rich, NULL, 0 },
	{ "unmerge",                     "pf_guest_unmerge", c_unmerge, NULL, 0 },
	{ "erase",                       "pf_guest_erase", c_erase, NULL, 0 },
	{ "erase (merged profile)",      "pf_guest_erase", c_erase_merged, NULL, 0 },
	{ "compact",                     "pf_compact", c_compact, NULL, 0 },
	{ "backup",                      "pf_backup", c_backup, NULL, 0 },
	{ "consent",                     "pf_guest_set_consent", c_consent, NULL, 0 },
	{ "retention run",               "pf_retention_run", c_retention, NULL, 0 },
	{ "export guest JSON",           "pf_guest_export_json", c_export_json, NULL, 0 },
	{ "import CSV",                  "pf_import_csv", c_import_csv, NULL, 0 },
	{ "import CSV (batches of 2)",   "pf_import_csv", c_import_csv_rows, NULL, C_PARTIAL },
	{ "import JSONL",                "pf_import_jsonl", c_import_jsonl, NULL, 0 },
	{ "export JSONL",                "pf_export_jsonl", c_export_jsonl, NULL, 0 },
	{ "export CSV",                  "pf_export_csv", c_export_csv, NULL, 0 },
	{ "digest",                      "pf_digest", c_digest, NULL, 0 },
	{ "pure functions (24)",         "pf_version pf_strerror pf_errmsg pf_id_format "
	  "pf_id_parse pf_id_is_zero pf_date_make pf_options_init pf_now pf_tier_name "
	  "pf_tier_parse pf_pref_kind_name pf_event_kind_name pf_event_kind_parse "
	  "pf_priority_name pf_prompt_status_name pf_feedback_kind_name "
	  "pf_feedback_status_name pf_outcome_name pf_feedback_kind_parse "
	  "pf_feedback_status_parse pf_complaint_due pf_day_start pf_utc_offset",
	  c_pure, NULL, C_PURE },
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Not cases: the functions that return nothing, so cannot report a
 * failure.  Each runs in the cleanup of the cases above — in forever
 * mode while every allocation fails, and one that tried to allocate is
 * reported. */
static const char skipped[] =
	"pf_close pf_guest_free pf_guest_list_free pf_pref_free pf_pref_list_free "
	"pf_stay_list_free pf_rule_list_free pf_prompt_list_free pf_feedback_free "
	"pf_feedback_list_free pf_quality_report_free pf_journal_iterator_free "
	"pf_duplicate_list_free pf_string_free pf_import_report_free";

/* Deviations accepted (printed as KNOWN; --strict refuses them). */
static const struct known {
	const char *fn;
	int rc;
	const char *msg;              /* a substring of pf_errmsg() */
	const char *why;
} known[] = {
	/* None today: pf_open's realpath() ENOMEM (issue 10 item 5) is
	 * PF_ENOMEM since store.c maps it.  The list ends at a NULL fn. */
	{ NULL, 0, NULL, NULL },
};

/* ================================================================== */
/* The driver                                                           */
/* ================================================================== */

static bool opt_short, opt_strict, opt_verbose, opt_backtrace;
static int opt_modes = 3;         /* bit 0 once, bit 1 forever */
static const char *opt_case;

struct ref {                      /* two clean runs of a case */
	long allocs;
	bool det_db, det_out;         /* the two runs agreed */
	digest db, out;
};

struct stats {
	long runs[2], injected[2], absorbed[2], spared[2], calls, nomsg, known;
	const char *known_why;
	long allocs;
	double secs;
	bool failed;
};

static int failures;

static void report_fail(const struct oom_case *c, int mode, long n, const char *fmt, ...)
	PF_PRINTF(4, 5);
static void report_fail(const struct oom_case *c, int mode, long n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL %s (%s) mode=%s N=%ld: ", c->name, c->fn,
	       mode < 0 ? "clean" : mode ? "forever" : "once", n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	failures++;
}

static const struct known *find_known(const struct oom_case *c, int rc, const char *msg)
{
	for (size_t i = 0; known[i].fn; i++)
		if (strstr(c->fn, known[i].fn) == c->fn && rc == known[i].rc &&
		    strstr(msg, known[i].msg))
			return &known[i];
	return NULL;
}

/* The database's digest after the call: for C_NODB through a raw
 * environment, once the opened handle is closed. */
static int digest_after(struct run *r, const struct oom_case *c, digest *d)
{
	if (c->flags & C_NODB) {
		pf_close(r->opened);
		r->opened = NULL;
		return digest_dir((c->flags & C_NEWDIR) ? new_dir : db_dir, d);
	}
	return digest_env(r->db->env, d);
}

struct outcome {
	long injected, attempts, spared;
	int rc;
	digest db, out;
};

/*
 * One run of case `c` with the Nth allocation failing (n = 0: none, the
 * clean reference runs; mode -1).  Returns false when a check failed
 * (reported).  `ref` is NULL for the reference runs themselves.
 */
static bool run_case(const struct oom_case *c, int mode, long n, const struct ref *ref,
                     struct outcome *o, struct stats *st)
{
	struct run r;
	char msg[512];
	digest before = DIGEST_INIT;
	bool ok = true;
	int rc;

	restore_from((c->flags & C_SCHEMA1) != 0);
	memset(&r, 0, sizeof r);
	memset(o, 0, sizeof *o);
	r.acc = DIGEST_INIT;
	long base = atomic_load(&live_blocks);

	if (!(c->flags & C_NODB)) {
		pf_options opts = fx_options(0);
		if ((rc = pf_open(&r.db, db_dir, &opts)))
			die("%s: pf_open of the fixture: %s", c->name, pf_errmsg());
	}
	if (c->setup && (rc = c->setup(&r)))
		die("%s: setup: %s", c->name, pf_errmsg());
	if (!(c->flags & C_NEWDIR)) {
		if ((rc = (c->flags & C_NODB) ? digest_dir(db_dir, &before)
		                              : digest_env(r.db->env, &before)))
			die("%s: digest: %s", c->name, mdb_strerror(rc));
	}
	pf_seterr(0, "%s", "");

	hook_arm(n, mode == 1);
	rc = c->call(&r);
	o->rc = rc;
	o->injected = atomic_load(&injected);
	o->attempts = atomic_load(&attempts);
	o->spared = atomic_load(&spared);
	snprintf(msg, sizeof msg, "%s", pf_errmsg());
	o->out = hash_outputs(&r);
	bool out_left = rc != 0 && outputs_any(&r);
	if (mode == 1) {
		/* Freeing needs no memory: run the _free()s (and pf_close of
		 * an opened handle) with every allocation failing. */
		long a0 = atomic_load(&attempts);
		free_outputs(&r);
		if (atomic_load(&attempts) != a0) {
			report_fail(c, mode, n, "a _free() function allocated memory");
			ok = false;
		}
	}
	hook_disarm();
	st->calls++;

	if (o->injected == 0 && o->spared) {
		/* N fell inside jansson's lexer: nothing failed, nothing to check
		 * but the leak count. */
		if (rc != 0) {
			report_fail(c, mode, n, "no allocation failed, yet it returned %s: %s",
			            pf_strerror(rc), msg);
			ok = false;
		}
	} else if (o->injected == 0) {
		if (rc != 0) {
			report_fail(c, mode, n, "no allocation failed, yet it returned %s: %s",
			            pf_strerror(rc), msg);
			ok = false;
		} else if ((c->flags & C_PURE) && o->attempts) {
			report_fail(c, mode, n, "allocated %ld times; these functions must not "
			            "allocate", o->attempts);
			ok = false;
		} else if ((rc = digest_after(&r, c, &o->db))) {
			die("%s: digest: %s", c->name, mdb_strerror(rc));
		}
		if (ok && ref && ref->det_db && !digest_eq(&o->db, &ref->db)) {
			report_fail(c, mode, n, "the clean run stored other records than the "
			            "reference runs");
			ok = false;
		}
	} else if (rc == PF_ENOMEM || (rc && find_known(c, rc, msg) && !opt_strict)) {
		if (rc != PF_ENOMEM) {
			st->known++;
			st->known_why = find_known(c, rc, msg)->why;
			if (opt_verbose)
				printf("  KNOWN %s N=%ld: %s: %s\n", c->name, n, pf_strerror(rc), msg);
		}
		if (!msg[0])
			st->nomsg++;
		if (opt_verbose)
			printf("  %s %s N=%ld: %s\n", c->name, mode ? "forever" : "once", n, msg);
		if (out_left) {
			report_fail(c, mode, n, "failed, but left an output (*out not NULL)");
			ok = false;
		}
		digest after;
		if (!(c->flags & C_NEWDIR)) {
			if ((rc = digest_after(&r, c, &after)))
				die("%s: digest: %s", c->name, mdb_strerror(rc));
			if (!(c->flags & C_PARTIAL) && !digest_eq(&before, &after)) {
				report_fail(c, mode, n, "returned PF_ENOMEM but the stored records "
				            "changed (%s)", msg);
				ok = false;
			}
		}
		long left = count_files(out_dir);
		if (left) {
			report_fail(c, mode, n, "returned PF_ENOMEM but left %ld file(s) in the "
			            "output directory", left);
			ok = false;
		}
		/* The same call at once, memory allowed again, on the same handle. */
		free_outputs(&r);
		if (c->setup == s_iter_all || c->setup == s_iter_guest) {
			pf_journal_iterator_free(r.setup_it);  /* spent by its error */
			r.setup_it = NULL;
			if (c->setup(&r))
				die("%s: setup: %s", c->name, pf_errmsg());
		}
		r.acc = DIGEST_INIT;
		r.sub_calls = 0;
		rc = c->call(&r);
		st->calls++;
		if (rc != 0) {
			report_fail(c, mode, n, "after PF_ENOMEM (%s), the same call with memory "
			            "returned %s: %s", msg, pf_strerror(rc), pf_errmsg());
			ok = false;
		} else if (c->flags & C_PARTIAL) {
			digest end;
			if ((rc = digest_after(&r, c, &end)))
				die("%s: digest: %s", c->name, mdb_strerror(rc));
			if (ref && !records_eq(&end, &ref->db)) {
				report_fail(c, mode, n, "after PF_ENOMEM and a rerun, the database "
				            "holds other numbers of records than after a clean run");
				ok = false;
			}
		} else if (ref && ref->det_out && !(c->flags & C_NODB)) {
			digest out = hash_outputs(&r);
			if (!digest_eq(&out, &ref->out)) {
				report_fail(c, mode, n, "after PF_ENOMEM, the call with memory gave "
				            "other results than a clean run");
				ok = false;
			}
		}
	} else if (rc == 0) {
		/* Succeeded though an allocation failed: only if its results are
		 * those of a clean run. */
		st->absorbed[mode]++;
		if (opt_verbose) {
			printf("  %s %s N=%ld: absorbed (succeeded)\n", c->name,
			       mode ? "forever" : "once", n);
			for (size_t i = 0; r.import && i < r.import->reject_count; i++)
				printf("    rejected line %llu: %s\n",
				       (unsigned long long)r.import->rejects[i].line,
				       r.import->rejects[i].reason);
		}
		if ((rc = digest_after(&r, c, &o->db)))
			die("%s: digest: %s", c->name, mdb_strerror(rc));
		if (ref && ref->det_db && !digest_eq(&o->db, &ref->db)) {
			report_fail(c, mode, n, "succeeded after a failed allocation, but stored "
			            "other records than a clean run");
			ok = false;
		}
		if (ref && ref->det_out && !digest_eq(&o->out, &ref->out)) {
			report_fail(c, mode, n, "succeeded after a failed allocation, but its "
			            "results differ from a clean run's");
			ok = false;
		}
	} else {
		report_fail(c, mode, n, "returned %s instead of PF_ENOMEM: %s", pf_strerror(rc), msg);
		ok = false;
	}

	/* Teardown; in forever mode with every allocation failing, so
	 * pf_close and the _free()s are shown to need no memory. */
	if (mode == 1)
		hook_arm(1, true);
	free_outputs(&r);
	pf_journal_iterator_free(r.setup_it);
	pf_close(r.db);
	long teardown_allocs = atomic_load(&attempts);
	hook_disarm();
	if (mode == 1 && teardown_allocs) {
		report_fail(c, mode, n, "pf_close or a _free() function allocated memory");
		ok = false;
	}
	long leaked = atomic_load(&live_blocks) - base;
	if (leaked) {
		report_fail(c, mode, n, "%ld block(s) leaked (rc %s)", leaked, pf_strerror(o->rc));
		ok = false;
	}
	return ok;
}

/* Which N to try after n: all of them, or with --short the first ten,
 * then a stride giving about 25 runs a mode, then the last few. */
static long next_n(long n, long allocs)
{
	if (!opt_short || n < 10 || n + 3 >= allocs)
		return n + 1;
	long step = allocs / 25 > 1 ? allocs / 25 : 1;
	return n + step + 3 >= allocs ? allocs - 2 : n + step;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_all_modes(const struct oom_case *c, struct stats *st)
{
	struct ref ref;
	struct outcome o1, o2;
	double t0 = now_s();

	memset(&ref, 0, sizeof ref);
	if (!run_case(c, -1, 0, NULL, &o1, st) || !run_case(c, -1, 0, NULL, &o2, st)) {
		st->failed = true;
		return;
	}
	ref.allocs = o1.attempts;
	ref.det_db = digest_eq(&o1.db, &o2.db);
	ref.det_out = digest_eq(&o1.out, &o2.out);
	ref.db = o1.db;
	ref.out = o1.out;
	st->allocs = ref.allocs;

	for (int mode = 0; mode < 2; mode++) {
		if (!(opt_modes & (1 << mode)))
			continue;
		for (long n = 1;; n = next_n(n, ref.allocs)) {
			struct outcome o;
			if (n > 20 * ref.allocs + 1000) {
				report_fail(c, mode, n, "the call kept allocating (%ld in a clean run)",
				            ref.allocs);
				st->failed = true;
				break;
			}
			bool ok = run_case(c, mode, n, &ref, &o, st);
			if (o.injected) {
				st->runs[mode]++;
				st->injected[mode] += o.injected;
			}
			if (!ok) {
				st->failed = true;
				break;
			}
			st->spared[mode] += o.spared;
			if (!o.injected && !o.spared)
				break;
		}
	}
	st->secs = now_s() - t0;
}

static void *idle_thread(void *arg)
{
	return arg;
}

/*
 * glibc keeps the stack of a finished thread, with the TLS vector it
 * calloc'd, for the next thread.  pf_backup's copy runs on a thread of
 * LMDB's (mdb_env_copyfd2 with MDB_CP_COMPACT), so the first one ever
 * started would look like a leaked block: start and join one first.
 */
static void warm_thread_cache(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, idle_thread, NULL) != 0 || pthread_join(t, NULL) != 0)
		die("cannot start a thread");
}

/* The interposition works for the library, LMDB and glibc itself. */
static void self_test(void)
{
	char *(*volatile dup)(const char *) = strdup;
	hook_arm(0, false);
	char *s = dup("x");
	long a = atomic_load(&attempts);
	hook_disarm();
	free(s);
	if (a != 1)
		die("self-test: glibc's strdup made %ld counted allocations, expected 1: this "
		    "program's malloc does not interpose", a);
	MDB_env *env = NULL;
	hook_arm(1, false);
	int rc = mdb_env_create(&env);
	hook_disarm();
	if (rc != ENOMEM)
		die("self-test: LMDB's allocation was not failed (mdb_env_create: %d)", rc);
}

static void usage(void)
{
	fprintf(stderr, "usage: oom [--short] [--strict] [--verbose] [--backtrace] [--mode once|forever] "
	        "[--case SUBSTRING] [--list]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--short"))
			opt_short = true;
		else if (!strcmp(argv[i], "--strict"))
			opt_strict = true;
		else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			opt_verbose = true;
		else if (!strcmp(argv[i], "--backtrace"))
			opt_backtrace = true;
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			i++;
			opt_modes = !strcmp(argv[i], "once") ? 1 : !strcmp(argv[i], "forever") ? 2 : 0;
			if (!opt_modes)
				usage();
		} else if (!strcmp(argv[i], "--case") && i + 1 < argc)
			opt_case = argv[++i];
		else if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < NCASES; k++)
				printf("%-34s %s\n", cases[k].name, cases[k].fn);
			printf("not run as cases (void): %s\n", skipped);
			return 0;
		} else
			usage();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	void *frame;
	backtrace(&frame, 1);
	self_test();
	warm_thread_cache();
	trace_failures = opt_backtrace;

	const char *tmp = getenv("TMPDIR");
	struct stat sb;
	if (!tmp || !*tmp)
		tmp = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(base_dir, sizeof base_dir, "%s/pfoom-XXXXXX", tmp);
	if (!mkdtemp(base_dir))
		die("mkdtemp %s: %s", base_dir, strerror(errno));
	snprintf(tmpl_dir, sizeof tmpl_dir, "%s/fixture", base_dir);
	snprintf(db_dir, sizeof db_dir, "%s/db", base_dir);
	snprintf(new_dir, sizeof new_dir, "%s/new", base_dir);
	snprintf(out_dir, sizeof out_dir, "%s/out", base_dir);
	snprintf(rules_path, sizeof rules_path, "%s/new.rules", base_dir);
	snprintf(csv_path, sizeof csv_path, "%s/guests.csv", base_dir);
	snprintf(jsonl_path, sizeof jsonl_path, "%s/guests.jsonl", base_dir);
	snprintf(out_jsonl, sizeof out_jsonl, "%s/export.jsonl", out_dir);
	snprintf(out_csv, sizeof out_csv, "%s/export.csv", out_dir);
	snprintf(out_backup, sizeof out_backup, "%s/backup", out_dir);
	snprintf(out_compact, sizeof out_compact, "%s/compact", out_dir);
	if (mkdir(db_dir, 0700) != 0)
		die("mkdir %s: %s", db_dir, strerror(errno));
	build_fixture();

	printf("oom: allocation-failure harness (%s), fixture in %s\n",
	       opt_short ? "short: a stride over N" : "every N", base_dir);
	printf("%-32s %7s %8s %9s %8s %9s %7s %7s\n", "case", "allocs", "once", "failed",
	       "forever", "failed", "calls", "secs");

	struct stats total;
	memset(&total, 0, sizeof total);
	size_t ran = 0;
	char covered[4096] = " ";      /* " name name ... " */
	size_t nfn = 0;
	double t0 = now_s();
	for (size_t i = 0; i < NCASES; i++) {
		const struct oom_case *c = &cases[i];
		if (opt_case && !strstr(c->name, opt_case) && !strstr(c->fn, opt_case))
			continue;
		struct stats st;
		memset(&st, 0, sizeof st);
		run_all_modes(c, &st);
		ran++;
		printf("%-32s %7ld %8ld %9ld %8ld %9ld %7ld %7.2f%s%s\n", c->name, st.allocs,
		       st.runs[0], st.injected[0], st.runs[1], st.injected[1], st.calls, st.secs,
		       st.failed ? "  FAILED" : "",
		       st.absorbed[0] + st.absorbed[1] ? "  (absorbed)" : "");
		if (st.absorbed[0] + st.absorbed[1])
			printf("  %s: %ld once / %ld forever runs succeeded although an allocation "
			       "failed, with a clean run's results\n", c->name, st.absorbed[0],
			       st.absorbed[1]);
		if (st.spared[0] + st.spared[1])
			printf("  %s: %ld once / %ld forever allocations spared inside json_loadb "
			       "(jansson 2.14's lexer cannot survive them)\n", c->name, st.spared[0],
			       st.spared[1]);
		if (st.nomsg)
			printf("  %s: %ld PF_ENOMEM returns left pf_errmsg() empty\n", c->name, st.nomsg);
		if (st.known)
			printf("  KNOWN %s: %ld failure(s) accepted: %s\n", c->name, st.known,
			       st.known_why);
		for (int m = 0; m < 2; m++) {
			total.runs[m] += st.runs[m];
			total.injected[m] += st.injected[m];
			total.absorbed[m] += st.absorbed[m];
			total.spared[m] += st.spared[m];
		}
		total.calls += st.calls;
		total.allocs += st.allocs;
		total.nomsg += st.nomsg;
		total.known += st.known;
		/* distinct public functions covered */
		for (const char *f = c->fn; *f;) {
			size_t len = strcspn(f, " ");
			char name[80];
			snprintf(name, sizeof name, " %.*s ", (int)len, f);
			if (!strstr(covered, name) && strlen(covered) + len + 2 < sizeof covered) {
				strcat(covered, name + 1);
				nfn++;
			}
			f += len;
			f += strspn(f, " ");
		}
	}
	printf("%-32s %7ld %8ld %9ld %8ld %9ld %7ld %7.2f\n", "total", total.allocs,
	       total.runs[0], total.injected[0], total.runs[1], total.injected[1], total.calls,
	       now_s() - t0);
	printf("oom: %zu cases, %zu public functions called under failing allocations; "
	       "%ld + %ld allocation failures injected (once + forever) in %ld + %ld runs; "
	       "%ld library calls; %ld absorbed; %ld spared in jansson; %ld known; "
	       "%d failure(s)\n",
	       ran, nfn, total.injected[0], total.injected[1], total.runs[0], total.runs[1],
	       total.calls, total.absorbed[0] + total.absorbed[1],
	       total.spared[0] + total.spared[1], total.known, failures);
	if (!opt_case)
		printf("oom: not run as cases (they return nothing; run in every cleanup): %s\n",
		       skipped);
	rm_rf(base_dir);
	return failures ? 1 : 0;
}
