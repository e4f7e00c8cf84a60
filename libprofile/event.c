/*
 * event.c — the stored rule book, its per-handle cache, and firing events.
 *
 * Owns pf_rules_load/_load_file/_list/_clear, pf_rule_list_free, pf_event_kind_*,
 * pf_fire, pf_preview and the rules cache (db->rules: a reference-counted,
 * immutable compiled book; db->rules_lock guards only the pointer and
 * its version, never an evaluation).
 * Calls store.c for transactions, codec.c for records, guest.c/stay.c for
 * the guest and its stays, rules.c to parse and evaluate, prompt.c to
 * store and deliver prompts.
 *
 * The `rule` db holds one record per rule (name -> {order, source}); meta
 * "rules.version" moves on every load.  Each handle caches the parsed book
 * with the version it was built from and swaps in a new one when the
 * version moves, so a book loaded by another process is seen at the next
 * fire without parsing text per event.
 */
#include "event.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "stay.h"
#include "rules.h"
#include "prompt.h"
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RULES_VERSION_KEY "rules.version"
#define RULES_FILE_MAX ((size_t)1 << 20)  /* pf_rules_load_file refuses more */
#define RULE_SOURCE_MAX ((size_t)64 << 10) /* what codec.c accepts per rule */
#define RULES_NAME_MAX 4096                /* a label, typically a path */
#define PARTY_MAX 1000
#define DAY_SECONDS 86400

/* ------------------------------------------------------------------ */
/* Event kinds                                                          */
/* ------------------------------------------------------------------ */

static const char *const kind_names[] = {
	[PF_EVENT_RESERVATION] = "reservation",
	[PF_EVENT_CHECK_IN] = "check_in",
	[PF_EVENT_CHECK_OUT] = "check_out",
	[PF_EVENT_ROOM_CHANGE] = "room_change",
};

const char *pf_event_kind_name(pf_event_kind kind)
{
	if ((int)kind < PF_EVENT_RESERVATION || (int)kind > PF_EVENT_ROOM_CHANGE)
		return NULL;
	return kind_names[kind];
}

int pf_event_kind_parse(pf_event_kind *out, const char *name)
{
	pf_api_enter("pf_event_kind_parse");
	if (!out || !name)
		return pf_seterr(PF_EINVAL, "pf_event_kind_parse: %s is NULL",
		                 out ? "name" : "out");
	for (int k = PF_EVENT_RESERVATION; k <= PF_EVENT_ROOM_CHANGE; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (pf_event_kind)k;
			return 0;
		}
	}
	return pf_seterr(PF_EINVAL, "pf_event_kind_parse: unknown event kind '%.40s' (expected "
	                 "reservation, check_in, check_out or room_change)", name);
}

/* ------------------------------------------------------------------ */
/* Reading the stored rule book                                         */
/* ------------------------------------------------------------------ */

/* One stored rule while the book is read back. */
typedef struct stored_rule {
	char *name;
	uint32_t order;
	char *source;
	size_t source_len;
} stored_rule;

static void stored_rules_free(stored_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].source);
	}
	free(v);
}

static int stored_rule_cmp(const void *a, const void *b)
{
	const stored_rule *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	/* Orders are unique when written by pf_rules_load; the name only
	 * keeps the result deterministic if they are not. */
	return strcmp(x->name, y->name);
}

/* Read every record of `rule`, sorted by order. */
static int stored_rules_read(stored_rule **out, size_t *count, MDB_txn *txn,
                             pf_db *db)
{
	MDB_cursor *cur = NULL;
	stored_rule *v = NULL;
	size_t n = 0, cap = 0;
	MDB_val k, d;
	int rc, mrc;

	*out = NULL;
	*count = 0;
	mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_RULE], &cur);
	if (mrc) {
		rc = pf_lmdb_err(mrc, NULL);
		goto fail;
	}
	for (mrc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			stored_rule *nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				rc = pf_fail(PF_ENOMEM, "out of memory");
				goto fail;
			}
			v = nv;
			cap = ncap;
		}
		if (k.mv_size == 0 || !pf_utf8_valid(k.mv_data, k.mv_size)) {
			rc = pf_fail(PF_ECORRUPT, "corrupt record in 'rule': "
			               "the rule name is not valid UTF-8");
			goto fail;
		}
		pf_rule_rec rec = { 0, NULL };
		rc = pf_codec_rule_decode(&rec, d.mv_data, d.mv_size);
		if (rc)
			goto fail;
		v[n].name = strndup(k.mv_data, k.mv_size);
		v[n].order = rec.order;
		v[n].source = rec.source;
		v[n].source_len = rec.source ? strlen(rec.source) : 0;
		n++;
		if (!rec.source) {
			rc = pf_fail(PF_ECORRUPT, "corrupt record in 'rule': "
			               "rule '%.*s' has no source", (int)k.mv_size,
			               (const char *)k.mv_data);
			goto fail;
		}
		if (!v[n - 1].name) {
			rc = pf_fail(PF_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (mrc != MDB_NOTFOUND) {
		rc = pf_lmdb_err(mrc, NULL);
		goto fail;
	}
	mdb_cursor_close(cur);
	if (n > 1)
		qsort(v, n, sizeof *v, stored_rule_cmp);
	*out = v;
	*count = n;
	return 0;
fail:
	if (cur)
		mdb_cursor_close(cur);
	stored_rules_free(v, n);
	return rc;
}

/* Parse the book stored in this transaction's snapshot. */
static int stored_book_parse(pf_rulebook **out, MDB_txn *txn, pf_db *db)
{
	stored_rule *v = NULL;
	size_t n = 0, total = 0;
	char *text = NULL;
	int rc;

	*out = NULL;
	rc = stored_rules_read(&v, &n, txn, db);
	if (rc)
		goto out;
	for (size_t i = 0; i < n; i++)
		total += v[i].source_len + 1;
	text = malloc(total + 1);
	if (!text) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(text + pos, v[i].source, v[i].source_len);
		pos += v[i].source_len;
		text[pos++] = '\n';
	}
	text[pos] = '\0';

	pf_rule_error perr;
	memset(&perr, 0, sizeof perr);
	rc = pf_rulebook_parse(out, "<stored rule book>", text, pos, &perr);
	if (rc == PF_ESYNTAX)
		rc = pf_fail(PF_ECORRUPT, "the stored rule book does not parse: %s", perr.message);
out:
	free(text);
	stored_rules_free(v, n);
	return rc;
}

/*
 * A reference to the compiled book of this transaction's snapshot, in
 * *out (NULL: no book was ever loaded); the caller drops it with
 * pf_rulebook_free.  The compiled book is immutable and reference
 * counted: rules_lock is held only to compare the cached version and
 * take a reference, or to swap in a newer book, never while a book is
 * parsed or evaluated, so threads previewing on one handle run in
 * parallel, and a book replaced while a thread evaluates it lives until
 * that thread drops it.  The cache is only ever built from committed data
 * (fire and preview never write rules), so keeping it after a write
 * transaction is retried or aborted is safe.
 */
static int rules_snapshot(pf_rulebook **out, MDB_txn *txn, pf_db *db)
{
	pf_rulebook *rb = NULL;
	uint64_t version;
	int rc;

	*out = NULL;
	rc = pf_meta_get_u64(txn, db, RULES_VERSION_KEY, &version);
	if (rc)
		return rc;
	pthread_mutex_lock(&db->rules_lock);
	bool hit = version == db->rules_version;
	if (hit)
		*out = pf_rulebook_ref(db->rules);
	pthread_mutex_unlock(&db->rules_lock);
	if (hit)
		return 0;

	/* Parsed outside the lock; two threads meeting a new version at once
	 * may both parse it, and the second's copy is dropped. */
	rc = stored_book_parse(&rb, txn, db);
	if (rc)
		return rc;
	pthread_mutex_lock(&db->rules_lock);
	/* Versions only grow: a reader on an older snapshot uses its own book
	 * for this call and leaves the newer one cached. */
	if (version > db->rules_version) {
		pf_rulebook *old = db->rules;
		db->rules = pf_rulebook_ref(rb);
		db->rules_version = version;
		pthread_mutex_unlock(&db->rules_lock);
		pf_rulebook_free(old);
	} else {
		pthread_mutex_unlock(&db->rules_lock);
	}
	*out = rb;
	return 0;
}

void pf_rules_cache_free(pf_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->rules_lock);
	pf_rulebook *rb = db->rules;
	db->rules = NULL;
	db->rules_version = 0;
	pthread_mutex_unlock(&db->rules_lock);
	pf_rulebook_free(rb);
}

/* ------------------------------------------------------------------ */
/* Loading and listing the rule book                                    */
/* ------------------------------------------------------------------ */

struct load_args {
	const pf_rulebook *rb;
	const char *name;         /* the book's label, for the journal; may be NULL */
};

static int rules_load_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct load_args *a = arg;
	msgpack_sbuffer sb;
	uint64_t version;
	int rc, mrc;

	msgpack_sbuffer_init(&sb);
	/* Emptying the db and refilling it in the same transaction is what
	 * makes a load all-or-nothing. */
	mrc = mdb_drop(txn, db->dbi[PF_DBI_RULE], 0);
	if (mrc) {
		rc = pf_lmdb_err(mrc, NULL);
		goto out;
	}
	size_t n = pf_rulebook_count(a->rb);
	for (size_t i = 0; i < n; i++) {
		const char *name = pf_rulebook_rule_name(a->rb, i);
		size_t slen = 0;
		const char *src = pf_rulebook_rule_source(a->rb, i, &slen);
		pf_rule_rec rec;

		rec.order = (uint32_t)i;
		rec.source = strndup(src, slen);
		if (!rec.source) {
			rc = pf_seterr(PF_ENOMEM, "pf_rules_load: out of memory");
			goto out;
		}
		msgpack_sbuffer_clear(&sb);
		rc = pf_codec_rule_encode(&sb, &rec);
		free(rec.source);
		if (rc) {
			pf_seterr(rc, "pf_rules_load: cannot encode rule '%s'", name);
			goto out;
		}
		rc = pf_store_put(txn, db, PF_DBI_RULE, name, strlen(name), sb.data,
		                  sb.size, 0);
		if (rc)
			goto out;
	}
	if ((rc = pf_meta_next(txn, db, RULES_VERSION_KEY, &version)))
		goto out;
	char count[24];
	snprintf(count, sizeof count, "%zu", n);
	pf_journal_field jf[1] = { { "rules", count } };
	pf_jentry je = { .op = "rules.load", .ref = a->name && *a->name ? a->name : NULL,
	                 .fields = jf, .field_count = 1 };
	rc = pf_journal_append(txn, db, &je);
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* PF_ESYNTAX for a book without rules, placed at the end of the text
 * (where the first rule was expected). */
static int no_rules_error(const char *label, const char *text, size_t len,
                          pf_rule_error *err)
{
	int line = 1, col = 1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	char msg[sizeof err->message];
	snprintf(msg, sizeof msg, "%s:%d:%d: the rule book defines no rules "
	         "(use pf_rules_clear to remove all rules)", label, line, col);
	if (err) {
		err->line = line;
		err->column = col;
		snprintf(err->message, sizeof err->message, "%s", msg);
	}
	return pf_seterr(PF_ESYNTAX, "%s", msg);
}

static int rules_clear_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	(void)arg;
	MDB_stat st;
	int mrc = mdb_stat(txn, db->dbi[PF_DBI_RULE], &st);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	if ((mrc = mdb_drop(txn, db->dbi[PF_DBI_RULE], 0)))
		return pf_lmdb_err(mrc, NULL);
	uint64_t version;
	int rc = pf_meta_next(txn, db, RULES_VERSION_KEY, &version);
	if (rc)
		return rc;
	char count[24];
	snprintf(count, sizeof count, "%zu", (size_t)st.ms_entries);
	pf_journal_field jf[1] = { { "rules", count } };
	pf_jentry je = { .op = "rules.clear", .fields = jf, .field_count = 1 };
	return pf_journal_append(txn, db, &je);
}

int pf_rules_clear(pf_db *db)
{
	pf_api_enter("pf_rules_clear");
	if (!db)
		return pf_seterr(PF_EINVAL, "pf_rules_clear: db is NULL");
	return pf_store_write(db, rules_clear_txn, NULL);
}

/* pf_rules_load's work, also pf_rules_load_file's (which names itself). */
static int rules_load(pf_db *db, const char *name, const char *text, size_t len,
                      pf_rule_error *err)
{
	pf_rulebook *rb = NULL;
	int rc;

	if (err)
		memset(err, 0, sizeof *err);
	if (!db || !text)
		return pf_seterr(PF_EINVAL, "pf_rules_load: %s is NULL", db ? "text" : "db");
	rc = pf_check_text("name", name, RULES_NAME_MAX, false);
	if (rc)
		return rc;
	rc = pf_rulebook_parse(&rb, name ? name : "<rules>", text, len, err);
	if (rc)
		goto out;
	if (pf_rulebook_count(rb) == 0) {
		/* An empty upload, a file of comments or one cut off before its
		 * first rule would otherwise stop every prompt without a word;
		 * pf_rules_clear() is the deliberate way to do that. */
		rc = no_rules_error(name ? name : "<rules>", text, len, err);
		goto out;
	}
	for (size_t i = 0; i < pf_rulebook_count(rb); i++) {
		size_t slen = 0;
		pf_rulebook_rule_source(rb, i, &slen);
		if (slen > RULE_SOURCE_MAX) {
			rc = pf_seterr(PF_EINVAL, "pf_rules_load: rule '%s' is longer than "
			               "%zu bytes", pf_rulebook_rule_name(rb, i),
			               RULE_SOURCE_MAX);
			goto out;
		}
	}
	struct load_args a = { rb, name };
	rc = pf_store_write(db, rules_load_txn, &a);
out:
	pf_rulebook_free(rb);
	return rc;
}

int pf_rules_load(pf_db *db, const char *name, const char *text, size_t len,
                  pf_rule_error *err)
{
	pf_api_enter("pf_rules_load");
	return rules_load(db, name, text, len, err);
}

int pf_rules_load_file(pf_db *db, const char *path, pf_rule_error *err)
{
	pf_api_enter("pf_rules_load_file");
	char *buf = NULL;
	size_t n = 0;
	int fd = -1, rc;
	struct stat st;

	if (err)
		memset(err, 0, sizeof *err);
	if (!db || !path)
		return pf_seterr(PF_EINVAL, "pf_rules_load_file: %s is NULL", db ? "path" : "db");
	rc = pf_check_text("path", path, RULES_NAME_MAX, true);
	if (rc)
		return rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		rc = pf_seterr(e == ENOENT || e == ENOTDIR ? PF_ENOTFOUND : PF_EIO,
		               "pf_rules_load_file: cannot open '%s': %s", path, strerror(e));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = pf_seterr(PF_EIO, "pf_rules_load_file: '%s' is not a readable regular file",
		               path);
		goto out;
	}
	if ((uintmax_t)st.st_size > RULES_FILE_MAX) {
		rc = pf_seterr(PF_EINVAL, "pf_rules_load_file: '%s' is larger than %zu bytes",
		               path, RULES_FILE_MAX);
		goto out;
	}
	/* Read up to one byte past the limit: the file may grow after fstat. */
	buf = malloc(RULES_FILE_MAX + 1);
	if (!buf) {
		rc = pf_seterr(PF_ENOMEM, "pf_rules_load_file: out of memory");
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, RULES_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pf_seterr(PF_EIO, "pf_rules_load_file: cannot read '%s': %s", path,
			               strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > RULES_FILE_MAX) {
			rc = pf_seterr(PF_EINVAL, "pf_rules_load_file: '%s' is larger than %zu "
			               "bytes", path, RULES_FILE_MAX);
			goto out;
		}
	}
	rc = rules_load(db, path, buf, n, err);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

struct list_args {
	stored_rule *v;
	size_t n;
};

static int rules_list_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct list_args *a = arg;
	stored_rules_free(a->v, a->n);
	a->v = NULL;
	a->n = 0;
	return stored_rules_read(&a->v, &a->n, txn, db);
}

int pf_rules_list(pf_rule_list **out, pf_db *db)
{
	pf_api_enter("pf_rules_list");
	struct list_args a = { NULL, 0 };
	pf_rule_list *l = NULL;
	int rc;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_rules_list: out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, "pf_rules_list: db is NULL");
	rc = pf_store_read(db, rules_list_txn, &a);
	if (rc)
		goto out;
	l = calloc(1, sizeof *l);
	if (!l || (a.n && !(l->items = calloc(a.n, sizeof *l->items)))) {
		rc = pf_seterr(PF_ENOMEM, "pf_rules_list: out of memory");
		goto out;
	}
	/* Hand the strings over to the list. */
	for (size_t i = 0; i < a.n; i++) {
		l->items[i].name = a.v[i].name;
		l->items[i].source = a.v[i].source;
		a.v[i].name = a.v[i].source = NULL;
	}
	l->count = a.n;
	*out = l;
	l = NULL;
out:
	pf_rule_list_free(l);
	stored_rules_free(a.v, a.n);
	return rc;
}

void pf_rule_list_free(pf_rule_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free((char *)list->items[i].name);
		free((char *)list->items[i].source);
	}
	free(list->items);
	free(list);
}

/* ------------------------------------------------------------------ */
/* Firing                                                               */
/* ------------------------------------------------------------------ */

/*
 * Check an event and complete it: the time defaults to now, and a
 * check-in's stay defaults to arriving on the event's (UTC) day for one
 * night; a departure on the arrival day is a day-use stay (0 nights).  The completed copy is what the rules see and what is stored,
 * so pf_preview and pf_fire agree.  Strings stay borrowed from `ev`.
 */
static int event_normalise(pf_event *out, pf_db *db, const pf_event *ev,
                           bool id_required)
{
	int rc;

	if (ev->version != PF_EVENT_VERSION)
		return pf_fail(PF_EINVAL, "unknown event version %u (expected %u)",
		                 ev->version, (unsigned)PF_EVENT_VERSION);
	if ((rc = pf_check_text("id", ev->id, PF_FIELD_MAX, id_required)))
		return rc;
	if (ev->id && !*ev->id)
		return pf_fail(PF_EINVAL, "id is empty");
	if (!pf_event_kind_name(ev->kind))
		return pf_fail(PF_EINVAL, "unknown event kind %d", (int)ev->kind);
	if (pf_id_is_zero(&ev->guest))
		return pf_fail(PF_EINVAL, "guest id is zero");
	if ((rc = pf_check_text("property", ev->property, PF_FIELD_MAX, false)))
		return rc;
	if ((rc = pf_check_text("room", ev->room, PF_FIELD_MAX, false)))
		return rc;
	if ((rc = pf_check_date("arrival", ev->arrival, false)))
		return rc;
	if ((rc = pf_check_date("departure", ev->departure, false)))
		return rc;
	/* Equal dates are a day-use stay (0 nights). */
	if (ev->arrival && ev->departure && ev->departure < ev->arrival)
		return pf_fail(PF_EINVAL, "departure %d is before arrival %d",
		                 (int)ev->departure, (int)ev->arrival);
	if (ev->party > PARTY_MAX)
		return pf_fail(PF_EINVAL, "party %u is more than %d people",
		                 (unsigned)ev->party, PARTY_MAX);
	if (ev->time < 0)
		return pf_fail(PF_EINVAL, "event time is before 1970");

	*out = *ev;
	if (!out->time)
		out->time = pf_now(db);
	if (out->kind == PF_EVENT_CHECK_IN) {
		if (!out->arrival)
			out->arrival = pf_date_from_days(out->time / DAY_SECONDS);
		if (!out->departure)
			out->departure = pf_date_from_days(pf_date_days(out->arrival) + 1);
		if (out->departure < out->arrival)
			return pf_fail(PF_EINVAL, "departure %d is before the arrival "
			                 "%d (today, the event's date)",
			                 (int)out->departure, (int)out->arrival);
	}
	return 0;
}

static void prompt_list_reset(pf_prompt_list **l)
{
	pf_prompt_list_free(*l);
	*l = NULL;
}

static int prompt_list_new(pf_prompt_list **out, size_t n)
{
	pf_prompt_list *l = calloc(1, sizeof *l);
	if (!l || (n && !(l->items = calloc(n, sizeof *l->items)))) {
		free(l);
		return pf_fail(PF_ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}

/*
 * The matches of one evaluation, staged before the list is built: the
 * entries and their texts in buffers on prompts_build's stack that move
 * to the heap only for an unusually long list.  Strings other than the
 * text are borrowed from the book, which prompts_build holds a reference
 * to until the list is built.
 */
typedef struct staged {
	const char *rule, *department, *language;
	pf_priority priority;
	int64_t within;
	bool cut;
	size_t text_off, text_len;
} staged;

#define STAGE_N 32
#define STAGE_TEXT 8192

typedef struct stage {
	staged *e;
	size_t n, cap;
	char *text;
	size_t len, text_cap;
	staged *e_heap;           /* e once it moved to the heap */
	char *text_heap;          /* text once it moved */
} stage;

/* Double a staging buffer, moving it to the heap the first time. */
static bool stage_grow(void **p, void **heap, size_t *cap, size_t used, size_t elsz)
{
	size_t ncap = *cap * 2;
	void *np = malloc(ncap * elsz);
	if (!np)
		return false;
	memcpy(np, *p, used * elsz);
	free(*heap);
	*p = *heap = np;
	*cap = ncap;
	return true;
}

static int stage_match(void *ctx, const pf_match *m)
{
	stage *st = ctx;
	size_t tl = strlen(m->text);
	if (st->n == st->cap && !stage_grow((void **)&st->e, (void **)&st->e_heap, &st->cap,
	                                    st->n, sizeof *st->e))
		return pf_fail(PF_ENOMEM, "out of memory");
	while (st->text_cap - st->len < tl + 1)
		if (!stage_grow((void **)&st->text, (void **)&st->text_heap, &st->text_cap,
		                st->len, 1))
			return pf_fail(PF_ENOMEM, "out of memory");
	memcpy(st->text + st->len, m->text, tl + 1);
	st->e[st->n++] = (staged){ m->rule, m->department, m->language, m->priority,
	                           m->within, m->cut, st->len, tl };
	st->len += tl + 1;
	return 0;
}

/* Journal text naming the rules whose prompt text was cut: each rule
 * once, in prompt order, joined by ','; a list that would pass CUT_LIST_MAX
 * bytes ends in ",...".  NULL when nothing was cut. */
#define CUT_LIST_MAX 1024

static int cut_rules_text(char **out, const stage *st)
{
	size_t len = 0;
	char *s = NULL;

	*out = NULL;
	for (size_t i = 0; i < st->n; i++) {
		const staged *m = &st->e[i];
		bool seen = false;
		if (!m->cut)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = st->e[j].cut && strcmp(st->e[j].rule, m->rule) == 0;
		if (seen)
			continue;
		if (!s && !(s = malloc(CUT_LIST_MAX + 1)))
			return pf_fail(PF_ENOMEM, "out of memory");
		size_t n = strlen(m->rule);
		if (len + (len > 0) + n + 4 > CUT_LIST_MAX) {  /* room for ",..." */
			memcpy(s + len, ",...", 5);
			len += 4;
			break;
		}
		if (len)
			s[len++] = ',';
		memcpy(s + len, m->rule, n + 1);
		len += n;
	}
	*out = s;
	return 0;
}

/* Copy s (NUL included) to *pos and advance it. */
static const char *pack_str(char **pos, const char *s, size_t n)
{
	char *d = *pos;
	memcpy(d, s, n);
	d[n] = '\0';
	*pos += n + 1;
	return d;
}

/*
 * The staged matches as one malloc'd block: the pf_prompt_list, its items
 * right after it, then every string (the event id once, shared by all
 * items).  pf_prompt_list_free (prompt.c) recognises the block by its
 * items following the list and frees the one pointer; nothing may free
 * or reallocate an item or string of it on its own.
 */
static int prompt_list_pack(pf_prompt_list **out, const stage *st, const pf_event *ev)
{
	const char *eid = ev->id ? ev->id : "";
	size_t eid_len = strlen(eid);
	size_t size = sizeof(pf_prompt_list) + st->n * sizeof(pf_prompt) + eid_len + 1;
	for (size_t i = 0; i < st->n; i++) {
		const staged *m = &st->e[i];
		size += strlen(m->department) + strlen(m->rule) + m->text_len + 3;
		if (m->language)
			size += strlen(m->language) + 1;
	}
	pf_prompt_list *l = malloc(size);
	if (!l)
		return pf_fail(PF_ENOMEM, "out of memory");
	l->count = st->n;
	l->items = (pf_prompt *)(l + 1);
	char *pos = (char *)(l->items + st->n);
	const char *event_id = pack_str(&pos, eid, eid_len);
	for (size_t i = 0; i < st->n; i++) {
		const staged *m = &st->e[i];
		pf_prompt *p = &l->items[i];
		memset(p, 0, sizeof *p);
		p->guest = ev->guest;
		p->event_id = event_id;
		p->department = pack_str(&pos, m->department, strlen(m->department));
		p->rule = pack_str(&pos, m->rule, strlen(m->rule));
		p->text = pack_str(&pos, st->text + m->text_off, m->text_len);
		p->language = m->language ? pack_str(&pos, m->language, strlen(m->language)) : NULL;
		p->priority = m->priority;
		p->status = PF_PROMPT_PENDING;
		p->created = ev->time;
		p->due = ev->time + (m->within >= 0 ? m->within
		                                    : pf_priority_default_within(m->priority));
	}
	*out = l;
	return 0;
}

/*
 * Evaluate the rule book of this transaction's snapshot over guest `r`
 * for the completed event `ev` and turn the matches into unsaved prompts
 * (zero ids, no seq), returned as one block (prompt_list_pack).  No lock
 * is held while evaluating: the book is a reference-counted snapshot
 * (rules_snapshot), dropped once its strings are copied.  If `cut` is not
 * NULL it receives cut_rules_text() (malloc'd, NULL when no text was cut).
 * Allocates the list, and nothing else for a usual guest.
 */
static int prompts_build(pf_prompt_list **out, char **cut, MDB_txn *txn, pf_db *db,
                         const pf_guest_rec *r, const pf_event *ev)
{
	staged e_stack[STAGE_N];
	char text_stack[STAGE_TEXT];
	stage st = { e_stack, 0, STAGE_N, text_stack, 0, STAGE_TEXT, NULL, NULL };
	pf_rulebook *rb = NULL;
	pf_view view = { r, ev };
	int rc;

	*out = NULL;
	if (cut)
		*cut = NULL;
	rc = rules_snapshot(&rb, txn, db);
	if (rc)
		goto out;
	rc = pf_rulebook_each(rb, &view, stage_match, &st);
	if (rc)
		goto out;
	rc = prompt_list_pack(out, &st, ev);
	if (rc)
		goto out;
	if (cut && (rc = cut_rules_text(cut, &st))) {
		pf_prompt_list_free(*out);
		*out = NULL;
	}
out:
	pf_rulebook_free(rb);
	free(st.e_heap);
	free(st.text_heap);
	return rc;
}

struct fire_args {
	const pf_event *ev;       /* completed by event_normalise */
	pf_prompt_list *list;     /* output, rebuilt by every attempt */
	bool fresh;               /* prompts are new: deliver them */
};

/* The event id was fired before: hand back what it made, as it is now. */
static int fire_repeat(struct fire_args *a, MDB_txn *txn, pf_db *db, const MDB_val *val)
{
	pf_event_rec rec;
	pf_prompt_list *l = NULL;
	int rc;

	memset(&rec, 0, sizeof rec);
	rc = pf_codec_event_decode(&rec, val->mv_data, val->mv_size);
	if (rc)
		goto out;
	if (memcmp(&rec.guest, &a->ev->guest, sizeof rec.guest) != 0) {
		rc = pf_fail(PF_EEXIST, "event id '%s' was already fired for "
		               "another guest", a->ev->id);
		goto out;
	}
	if (rec.kind != a->ev->kind) {
		rc = pf_fail(PF_EEXIST, "event id '%s' was already fired as a %s, "
		               "not a %s", a->ev->id, pf_event_kind_name(rec.kind),
		               pf_event_kind_name(a->ev->kind));
		goto out;
	}
	rc = prompt_list_new(&l, rec.prompt_count);
	if (rc)
		goto out;
	for (size_t i = 0; i < rec.prompt_count; i++) {
		rc = pf_prompt_load(txn, db, &rec.prompts[i], &l->items[l->count]);
		/* A prompt erased since (the guest's right to be forgotten) is
		 * simply no longer there. */
		if (rc == PF_ENOTFOUND)
			continue;
		if (rc)
			goto out;
		l->count++;
	}
	rc = 0;
	a->list = l;
	l = NULL;
out:
	pf_prompt_list_free(l);
	pf_event_rec_clear(&rec);
	return rc;
}

/* Fire one event inside `txn`: pf_fire's transaction, or one step of
 * pf_fire_batch's.  An event fired earlier in the same transaction is
 * found like any other, so a batch that names one id twice fires it once. */
static int fire_one(struct fire_args *a, MDB_txn *txn, pf_db *db)
{
	const pf_event *ev = a->ev;
	pf_guest_rec *r = NULL;
	pf_event_rec rec;
	msgpack_sbuffer sb;
	MDB_val val;
	char *cut = NULL;
	int rc;

	/* A retried attempt starts from scratch. */
	prompt_list_reset(&a->list);
	a->fresh = false;
	memset(&rec, 0, sizeof rec);
	msgpack_sbuffer_init(&sb);

	rc = pf_store_get(txn, db, PF_DBI_EVENT, ev->id, strlen(ev->id), &val);
	if (rc == 0) {
		rc = fire_repeat(a, txn, db, &val);
		goto out;
	}
	if (rc != PF_ENOTFOUND)
		goto out;

	rc = pf_guest_load(&r, txn, db, &ev->guest);
	if (rc)
		goto out;
	r->g.id = ev->guest;
	/* Evaluate before the stay is recorded: `stays` counts earlier stays. */
	rc = prompts_build(&a->list, &cut, txn, db, r, ev);
	if (rc)
		goto out;

	rec.kind = ev->kind;
	rec.guest = ev->guest;
	rec.time = ev->time;
	rec.arrival = ev->arrival;
	rec.prompt_count = a->list->count;
	if (rec.prompt_count) {
		rec.prompts = calloc(rec.prompt_count, sizeof *rec.prompts);
		if (!rec.prompts) {
			rc = pf_fail(PF_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < a->list->count; i++) {
		pf_prompt *p = &a->list->items[i];
		pf_id_generate_ordered(&p->id);
		rec.prompts[i] = p->id;
	}
	rc = pf_prompts_store(txn, db, a->list->items, a->list->count);
	if (rc)
		goto out;

	char nprompts[24];
	snprintf(nprompts, sizeof nprompts, "%zu", a->list->count);
	/* "cut": the rules whose text was cut to fit (see cut_rules_text), so
	 * a template too long for its guests shows up in the journal. */
	pf_journal_field jf[4] = { { "kind", pf_event_kind_name(ev->kind) },
	                           { "prompts", nprompts } };
	size_t njf = 2;
	if (ev->room)
		jf[njf++] = (pf_journal_field){ "room", ev->room };
	if (cut)
		jf[njf++] = (pf_journal_field){ "cut", cut };
	pf_jentry je = { .op = "event.fire", .guest = ev->guest, .ref = ev->id,
	                 .fields = jf, .field_count = njf };
	if ((rc = pf_journal_append(txn, db, &je)))
		goto out;

	if (ev->kind == PF_EVENT_CHECK_IN) {
		pf_stay s;
		memset(&s, 0, sizeof s);
		s.guest = ev->guest;
		s.property = ev->property;
		s.room = ev->room;
		s.arrival = ev->arrival;
		s.departure = ev->departure;
		s.party = ev->party;
		uint32_t before = r->g.stays;
		rc = pf_stay_put_txn(txn, db, r, &s);
		if (rc)
			goto out;
		rc = pf_journal_stay(txn, db, &s, r->g.stays != before, r->g.stays, ev->id);
		if (rc)
			goto out;
	}

	rc = pf_codec_event_encode(&sb, &rec);
	if (rc) {
		pf_fail(rc, "cannot encode the event record");
		goto out;
	}
	rc = pf_store_put(txn, db, PF_DBI_EVENT, ev->id, strlen(ev->id), sb.data, sb.size,
	                  MDB_NOOVERWRITE);
	if (rc)
		goto out;
	a->fresh = true;
out:
	if (rc)
		prompt_list_reset(&a->list);
	msgpack_sbuffer_destroy(&sb);
	free(rec.prompts);
	free(cut);
	pf_guest_rec_free(r);
	return rc;
}

static int fire_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	return fire_one(arg, txn, db);
}

int pf_fire(pf_prompt_list **out, pf_db *db, const pf_event *ev)
{
	pf_api_enter("pf_fire");
	struct fire_args a = { NULL, NULL, false };
	pf_event e;
	int rc;

	if (!out)
		return pf_fail(PF_EINVAL, "out is NULL");
	*out = NULL;
	if (!db || !ev)
		return pf_fail(PF_EINVAL, "%s is NULL", db ? "ev" : "db");
	rc = event_normalise(&e, db, ev, true);
	if (rc)
		return rc;
	a.ev = &e;
	rc = pf_store_write(db, fire_txn, &a);
	if (rc) {
		pf_prompt_list_free(a.list);
		return rc;
	}
	/* Subscribers run only once the prompts are committed. */
	if (a.fresh)
		pf_prompts_deliver(db, a.list);
	*out = a.list;
	return 0;
}

struct batch_args {
	struct fire_args *each;   /* one per event, events already normalised */
	size_t count;
	size_t failed;            /* the index whose error ended the attempt, or SIZE_MAX */
};

static void batch_reset(struct batch_args *b)
{
	for (size_t i = 0; i < b->count; i++) {
		prompt_list_reset(&b->each[i].list);
		b->each[i].fresh = false;
	}
}

static int batch_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct batch_args *b = arg;
	/* A retried attempt (the map grew) starts from scratch. */
	batch_reset(b);
	b->failed = SIZE_MAX;
	for (size_t i = 0; i < b->count; i++) {
		int rc = fire_one(&b->each[i], txn, db);
		if (rc) {
			b->failed = i;
			return rc;
		}
	}
	return 0;
}

/* "pf_fire_batch: <detail>" becomes "pf_fire_batch: events[i]: <detail>",
 * so the caller knows which event of the batch was refused. */
static int batch_blame(int rc, size_t i)
{
	char detail[512];
	const char *msg = pf_errmsg();
	const char *pre = "pf_fire_batch: ";
	if (strncmp(msg, pre, strlen(pre)) == 0)
		msg += strlen(pre);
	snprintf(detail, sizeof detail, "%s", msg);
	return pf_fail(rc, "events[%zu]: %s", i, detail);
}

int pf_fire_batch(pf_prompt_list **out, pf_db *db, const pf_event *events, size_t count)
{
	pf_api_enter("pf_fire_batch");
	struct batch_args b = { NULL, count, SIZE_MAX };
	pf_event *norm = NULL;
	int rc;

	if (!out)
		return pf_fail(PF_EINVAL, "out is NULL");
	/* Checked before out[] is written: out has room for count entries
	 * only if count is one the call takes. */
	if (count > PF_FIRE_BATCH_MAX)
		return pf_fail(PF_EINVAL, "%zu events, at most %d in one batch", count,
		               PF_FIRE_BATCH_MAX);
	for (size_t i = 0; i < count; i++)
		out[i] = NULL;
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if (count == 0)
		return 0;
	if (!events)
		return pf_fail(PF_EINVAL, "events is NULL");
	norm = calloc(count, sizeof *norm);
	b.each = calloc(count, sizeof *b.each);
	if (!norm || !b.each) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		if ((rc = event_normalise(&norm[i], db, &events[i], true))) {
			rc = batch_blame(rc, i);
			goto out;
		}
		b.each[i].ev = &norm[i];
	}
	rc = pf_store_write(db, batch_txn, &b);
	if (rc) {
		/* An error of the commit itself (a full disk) is nobody's event. */
		if (b.failed != SIZE_MAX)
			rc = batch_blame(rc, b.failed);
		batch_reset(&b);
		goto out;
	}
	/* Subscribers run only once every prompt of the batch is committed. */
	for (size_t i = 0; i < count; i++) {
		if (b.each[i].fresh)
			pf_prompts_deliver(db, b.each[i].list);
		out[i] = b.each[i].list;
		b.each[i].list = NULL;
	}
out:
	free(b.each);
	free(norm);
	return rc;
}

struct preview_args {
	const pf_event *ev;
	pf_prompt_list *list;
};

static int preview_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct preview_args *a = arg;
	pf_guest_rec *r = NULL;
	int rc;

	prompt_list_reset(&a->list);
	/* Only read: the record in one block. */
	rc = pf_guest_load_packed(&r, txn, db, &a->ev->guest);
	if (rc)
		goto out;
	r->g.id = a->ev->guest;
	rc = prompts_build(&a->list, NULL, txn, db, r, a->ev);
out:
	pf_guest_rec_free(r);
	return rc;
}

int pf_preview(pf_prompt_list **out, pf_db *db, const pf_event *ev)
{
	pf_api_enter("pf_preview");
	struct preview_args a = { NULL, NULL };
	pf_event e;
	int rc;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_preview: out is NULL");
	*out = NULL;
	if (!db || !ev)
		return pf_seterr(PF_EINVAL, "pf_preview: %s is NULL", db ? "ev" : "db");
	rc = event_normalise(&e, db, ev, false);
	if (rc)
		return rc;
	a.ev = &e;
	rc = pf_store_read(db, preview_txn, &a);
	if (rc) {
		pf_prompt_list_free(a.list);
		return rc;
	}
	*out = a.list;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Stored events by guest, for merge.c (appended)                       */
/* ------------------------------------------------------------------ */

int pf_events_of_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_event_key_fn fn,
                       void *ctx)
{
	MDB_cursor *cur = NULL;
	pf_event_rec e;
	int rc = 0, mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_EVENT], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, "event scan");
	MDB_val k, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((rc = pf_codec_event_decode(&e, v.mv_data, v.mv_size)))
			break;
		bool hit = memcmp(e.guest.b, guest->b, sizeof guest->b) == 0;
		pf_event_rec_clear(&e);
		if (hit && (rc = fn(ctx, k.mv_data, k.mv_size)))
			break;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, "event scan");
	mdb_cursor_close(cur);
	return rc;
}

int pf_event_repoint(MDB_txn *txn, pf_db *db, const void *key, size_t klen,
                     const pf_id *from, const pf_id *to)
{
	pf_event_rec e;
	MDB_val v;
	msgpack_sbuffer sb;
	int rc = pf_store_get(txn, db, PF_DBI_EVENT, key, klen, &v);
	if (rc)
		return rc == PF_ENOTFOUND ? 0 : rc;
	if ((rc = pf_codec_event_decode(&e, v.mv_data, v.mv_size)))
		return rc;
	msgpack_sbuffer_init(&sb);
	if (memcmp(e.guest.b, from->b, sizeof from->b) == 0) {
		e.guest = *to;
		if ((rc = pf_codec_event_encode(&sb, &e)) == 0)
			rc = pf_store_put(txn, db, PF_DBI_EVENT, key, klen, sb.data, sb.size, 0);
	}
	msgpack_sbuffer_destroy(&sb);
	pf_event_rec_clear(&e);
	return rc;
}

int pf_events_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_EVENT, NULL, 0, 0, fn, ctx);
}

int pf_rules_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_RULE, NULL, 0, 0, fn, ctx);
}
