/*
 * prompt.c — stored prompts, the department work lists, the prompt
 * lifecycle, change feeds and in-process subscriptions.
 *
 * Owns the `prompt` and `queue` dbs, meta "seq.prompt" and "seq.dept:*",
 * and db->subs (under db->sub_lock).  Calls store.c,
 * codec.c and text.c.  event.c stores new prompts through pf_prompts_store
 * and hands them to pf_prompts_deliver after its commit; feedback.c closes
 * prompts through pf_prompt_close_txn; merge.c and erase.c change records
 * through pf_prompt_rewrite and find a guest's prompts through
 * pf_prompts_of_guests; export.c reads them through the latter too.
 * Queue keys are laid out here and nowhere else.
 *
 * `prompt`: 16-byte id -> prompt record (codec).
 * `queue` keys (values empty unless stated); DUE is the due time as a
 * big-endian u64 with the sign bit flipped so that it sorts as a signed
 * number; departments are lower-case words, so the '\0' after one can
 * never be confused with a longer name:
 *   'o' DEPT '\0' DUE (3 - priority) ID   open work list of DEPT: due
 *                                         ascending, then priority
 *                                         descending
 *   's' DEPT '\0' be64(seq) -> ID         DEPT's feed, every status, in
 *                                         sequence order
 *   'g' GUEST ID                          every prompt of GUEST (16-byte
 *                                         guest id), every status
 * Schema 1 also kept 'd' DUE ID, every department's open prompts by due;
 * schema 2 reads "overdue across the hotel" from the 'o' lists instead
 * (one key fewer per prompt) and its upgrade deletes the 'd' keys.
 * 'o' entries exist while a prompt is pending or acknowledged and
 * go in the transaction that completes or dismisses it
 * (pf_prompt_close_txn).  A 'g' entry is written with the prompt, stays
 * when it closes, and moves when pf_prompt_rewrite changes its guest
 * (merge, unmerge); prompt records are never deleted.
 */
#include "prompt.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "journal.h"
#include "vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Q_OPEN 'o'
#define Q_DUE 'd'                 /* schema 1 only: deleted by the upgrade */
#define Q_SEQ 's'
#define Q_GUEST 'g'
#define GKEY_LEN (1 + 2 * ID_LEN)
#define ID_LEN ((int)sizeof(pf_id))
#define DEPT_KEY_MAX (1 + PF_FIELD_MAX + 1)
#define QKEY_MAX (DEPT_KEY_MAX + 8 + 1 + ID_LEN)
#define SEQ_KEY "seq.prompt"
#define DEPT_SEQ_PREFIX "seq.dept:"

/* ------------------------------------------------------------------ */
/* Names and defaults                                                   */
/* ------------------------------------------------------------------ */

const char *pf_priority_name(pf_priority p)
{
	switch (p) {
	case PF_PRIORITY_LOW: return "low";
	case PF_PRIORITY_NORMAL: return "normal";
	case PF_PRIORITY_HIGH: return "high";
	case PF_PRIORITY_URGENT: return "urgent";
	}
	return NULL;
}

const char *pf_prompt_status_name(pf_prompt_status s)
{
	switch (s) {
	case PF_PROMPT_PENDING: return "pending";
	case PF_PROMPT_ACKNOWLEDGED: return "acknowledged";
	case PF_PROMPT_DONE: return "done";
	case PF_PROMPT_DISMISSED: return "dismissed";
	}
	return NULL;
}

int64_t pf_priority_default_within(pf_priority p)
{
	switch (p) {
	case PF_PRIORITY_URGENT: return 15 * 60;
	case PF_PRIORITY_HIGH: return 60 * 60;
	case PF_PRIORITY_NORMAL: return 4 * 60 * 60;
	case PF_PRIORITY_LOW: return 24 * 60 * 60;
	}
	return 4 * 60 * 60;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                 */
/* ------------------------------------------------------------------ */

static void due_put(unsigned char *p, pf_time t)
{
	pf_be64_put(p, (uint64_t)t ^ ((uint64_t)1 << 63));
}

static pf_time due_get(const unsigned char *p)
{
	return (pf_time)(pf_be64_get(p) ^ ((uint64_t)1 << 63));
}

/* TAG DEPT '\0' into k; returns its length. */
static size_t key_dept(unsigned char *k, char tag, const char *dept)
{
	size_t n = strlen(dept);
	k[0] = (unsigned char)tag;
	memcpy(k + 1, dept, n);
	k[1 + n] = '\0';
	return n + 2;
}

static size_t key_open(unsigned char *k, const pf_prompt *p)
{
	size_t n = key_dept(k, Q_OPEN, p->department);
	due_put(k + n, p->due);
	n += 8;
	k[n++] = (unsigned char)(PF_PRIORITY_URGENT - p->priority);
	memcpy(k + n, p->id.b, ID_LEN);
	return n + ID_LEN;
}

static size_t key_seq(unsigned char *k, const char *dept, uint64_t seq)
{
	size_t n = key_dept(k, Q_SEQ, dept);
	pf_be64_put(k + n, seq);
	return n + 8;
}

/* 'g' GUEST ID, or the prefix 'g' GUEST when id is NULL; returns its length. */
static size_t key_guest(unsigned char *k, const pf_id *guest, const pf_id *id)
{
	k[0] = Q_GUEST;
	memcpy(k + 1, guest->b, ID_LEN);
	if (!id)
		return 1 + ID_LEN;
	memcpy(k + 1 + ID_LEN, id->b, ID_LEN);
	return GKEY_LEN;
}

static void dept_seq_key(char *buf, size_t cap, const char *dept)
{
	size_t pre = sizeof DEPT_SEQ_PREFIX - 1;
	memcpy(buf, DEPT_SEQ_PREFIX, pre);
	size_t n = strlen(dept);
	if (n > cap - pre - 1)
		n = cap - pre - 1;
	memcpy(buf + pre, dept, n);
	buf[pre + n] = '\0';
}

/* For verify.c: the keys pf_prompt_store writes for p, built by the
 * functions above so that the layout stays in this file. */
_Static_assert(QKEY_MAX <= PF_QUEUE_KEY_MAX, "PF_QUEUE_KEY_MAX is too small");
size_t pf_prompt_queue_keys(const pf_prompt *p, pf_queue_keys *out)
{
	out->n = 0;
	if (!p->department || !*p->department || strlen(p->department) > PF_FIELD_MAX)
		return 0;
	out->len[out->n++] = key_seq(out->key[0], p->department, p->seq);
	out->len[out->n++] = key_guest(out->key[1], &p->guest, &p->id);
	if (p->status == PF_PROMPT_PENDING || p->status == PF_PROMPT_ACKNOWLEDGED)
		out->len[out->n++] = key_open(out->key[2], p);
	return out->n;
}

/* ------------------------------------------------------------------ */
/* Records                                                              */
/* ------------------------------------------------------------------ */

static int prompt_put(MDB_txn *txn, pf_db *db, const pf_prompt *p, unsigned flags)
{
	msgpack_sbuffer sb;
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = pf_codec_prompt_encode(&sb, p);
	if (rc) {
		pf_seterr(rc, "prompt: cannot encode the record");
		goto out;
	}
	rc = pf_store_put(txn, db, PF_DBI_PROMPT, p->id.b, ID_LEN, sb.data, sb.size, flags);
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* The record and its queue keys; p->seq is set. */
static int prompt_store_one(MDB_txn *txn, pf_db *db, const pf_prompt *p)
{
	unsigned char k[QKEY_MAX];
	size_t n;
	int rc = prompt_put(txn, db, p, MDB_NOOVERWRITE);
	if (rc)
		return rc;
	n = key_seq(k, p->department, p->seq);
	rc = pf_store_put(txn, db, PF_DBI_QUEUE, k, n, p->id.b, ID_LEN, 0);
	if (rc)
		return rc;
	n = key_guest(k, &p->guest, &p->id);
	rc = pf_store_put(txn, db, PF_DBI_QUEUE, k, n, "", 0, 0);
	if (rc)
		return rc;
	if (p->status == PF_PROMPT_PENDING || p->status == PF_PROMPT_ACKNOWLEDGED) {
		n = key_open(k, p);
		rc = pf_store_put(txn, db, PF_DBI_QUEUE, k, n, "", 0, 0);
	}
	return rc;
}

/*
 * The sequence counters are read and written once for the lot, not once
 * per prompt: a check-in's eight prompts made sixteen 'meta' writes, a
 * tenth of its instructions.  The prompts get consecutive numbers in
 * array order, exactly as eight single stores would give them.
 */
int pf_prompts_store(MDB_txn *txn, pf_db *db, pf_prompt *ps, size_t count)
{
	char mkey[sizeof DEPT_SEQ_PREFIX + PF_FIELD_MAX];
	uint64_t seq = 0;
	int rc;

	if (count == 0)
		return 0;
	for (size_t i = 0; i < count; i++)
		if (!ps[i].department || !*ps[i].department ||
		    strlen(ps[i].department) > PF_FIELD_MAX)
			return pf_seterr(PF_EINVAL, "prompt: department is missing or too long");
	if ((rc = pf_meta_get_u64(txn, db, SEQ_KEY, &seq)))
		return rc;
	for (size_t i = 0; i < count; i++) {
		ps[i].seq = seq + 1 + i;
		if ((rc = prompt_store_one(txn, db, &ps[i])))
			return rc;
	}
	if ((rc = pf_meta_put_u64(txn, db, SEQ_KEY, seq + count)))
		return rc;
	/* Each department's newest number: the last prompt routed to it. */
	for (size_t i = 0; i < count; i++) {
		bool last = true;
		for (size_t j = i + 1; j < count && last; j++)
			last = strcmp(ps[j].department, ps[i].department) != 0;
		if (!last)
			continue;
		dept_seq_key(mkey, sizeof mkey, ps[i].department);
		if ((rc = pf_meta_put_u64(txn, db, mkey, ps[i].seq)))
			return rc;
	}
	return 0;
}

int pf_prompt_store(MDB_txn *txn, pf_db *db, pf_prompt *p)
{
	return pf_prompts_store(txn, db, p, 1);
}

int pf_prompt_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_prompt *out)
{
	char idtext[PF_ID_STRLEN + 1];
	MDB_val v;
	int rc;

	memset(out, 0, sizeof *out);
	rc = pf_store_get_id(txn, db, PF_DBI_PROMPT, id, &v, "prompt");
	if (rc)
		return rc;
	rc = pf_codec_prompt_decode(out, v.mv_data, v.mv_size);
	if (rc) {
		memset(out, 0, sizeof *out);
		return rc;
	}
	if (memcmp(out->id.b, id->b, ID_LEN) != 0) {
		pf_prompt_clear(out);
		memset(out, 0, sizeof *out);
		pf_id_format(idtext, id);
		return pf_seterr(PF_ECORRUPT, "corrupt record in 'prompt': the record under "
		                 "%s holds another id", idtext);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lists                                                                */
/* ------------------------------------------------------------------ */

typedef struct plist {
	pf_prompt_list *l;
	size_t cap;
} plist;

static void plist_reset(plist *pl)
{
	pf_prompt_list_free(pl->l);
	pl->l = NULL;
	pl->cap = 0;
}

static int plist_init(plist *pl)
{
	plist_reset(pl);
	pl->l = calloc(1, sizeof *pl->l);
	if (!pl->l)
		return pf_fail(PF_ENOMEM, "out of memory");
	return 0;
}

/* Load prompt `id` onto the end of the list. */
static int plist_add(plist *pl, MDB_txn *txn, pf_db *db, const pf_id *id)
{
	pf_prompt_list *l = pl->l;
	if (l->count == pl->cap) {
		size_t ncap = pl->cap ? pl->cap * 2 : 8;
		pf_prompt *ni = realloc(l->items, ncap * sizeof *ni);
		if (!ni)
			return pf_fail(PF_ENOMEM, "out of memory");
		l->items = ni;
		pl->cap = ncap;
	}
	int rc = pf_prompt_load(txn, db, id, &l->items[l->count]);
	if (rc == PF_ENOTFOUND) {
		/* The queue names a prompt that is not there. */
		char idtext[PF_ID_STRLEN + 1];
		pf_id_format(idtext, id);
		return pf_fail(PF_ECORRUPT, "corrupt 'queue': it lists prompt %s, which "
		                 "does not exist", idtext);
	}
	if (rc)
		return rc;
	l->count++;
	return 0;
}

/* Called for each queue key under a prefix; returns 0 to go on, 1 to
 * stop, or a PF_E* code. */
typedef int (*scan_fn)(const MDB_val *k, const MDB_val *v, void *arg);

/* Walk the queue from `start` for as long as keys begin with its first
 * `plen` bytes. */
static int queue_scan(MDB_txn *txn, pf_db *db, const unsigned char *start, size_t slen,
                      size_t plen, scan_fn fn, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { slen, (void *)start }, v;
	int rc = 0, mrc;

	mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_QUEUE], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, start, plen) != 0)
			break;
		rc = fn(&k, &v, arg);
		if (rc)
			break;
	}
	if (rc == 1)
		rc = 0;
	else if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	mdb_cursor_close(cur);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reading: one prompt, work lists, overdue, feeds                       */
/* ------------------------------------------------------------------ */

struct get_args {
	const pf_id *id;
	pf_prompt *p;
};

static int get_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct get_args *a = arg;
	int rc = pf_prompt_load(txn, db, a->id, a->p);
	if (rc == PF_ENOTFOUND) {
		char idtext[PF_ID_STRLEN + 1];
		pf_id_format(idtext, a->id);
		return pf_fail(PF_ENOTFOUND, "no prompt with id %s", idtext);
	}
	return rc;
}

int pf_prompt_get(pf_prompt **out, pf_db *db, const pf_id *prompt)
{
	int rc;

	pf_api_enter("pf_prompt_get");
	if (!out)
		return pf_fail(PF_EINVAL, "out is NULL");
	*out = NULL;
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if ((rc = pf_check_id("prompt", prompt, NULL)))
		return rc;
	struct get_args a = { prompt, calloc(1, sizeof(pf_prompt)) };
	if (!a.p)
		return pf_fail(PF_ENOMEM, "out of memory");
	rc = pf_store_read(db, get_txn, &a);
	if (rc) {
		pf_prompt_free(a.p);
		return rc;
	}
	*out = a.p;
	return 0;
}

/* A list query: which keys to walk and where to stop. */
struct scan_args {
	const unsigned char *start;
	size_t slen, plen;
	size_t id_off_from_end;   /* the id is the key's last 16 bytes (0) or the value (SIZE_MAX) */
	size_t due_off;           /* offset of DUE in the key, for `before` */
	bool use_before;
	pf_time before;           /* stop at the first due >= before */
	size_t limit;             /* stop after this many prompts (0: no limit) */
	MDB_txn *txn;
	pf_db *db;
	plist pl;
};

static int scan_collect(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct scan_args *a = arg;
	const unsigned char *kb = k->mv_data;
	pf_id id;

	if (a->use_before) {
		if (k->mv_size < a->due_off + 8)
			goto corrupt;
		if (due_get(kb + a->due_off) >= a->before)
			return 1;
	}
	if (a->id_off_from_end == SIZE_MAX) {
		if (v->mv_size != ID_LEN)
			goto corrupt;
		memcpy(id.b, v->mv_data, ID_LEN);
	} else {
		if (k->mv_size < a->plen + ID_LEN)
			goto corrupt;
		memcpy(id.b, kb + k->mv_size - ID_LEN, ID_LEN);
	}
	int rc = plist_add(&a->pl, a->txn, a->db, &id);
	if (rc == 0 && a->limit && a->pl.l->count >= a->limit)
		return 1;
	return rc;
corrupt:
	return pf_fail(PF_ECORRUPT, "corrupt 'queue': malformed key");
}

static int scan_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct scan_args *a = arg;
	int rc = plist_init(&a->pl);
	if (rc)
		return rc;
	a->txn = txn;
	a->db = db;
	return queue_scan(txn, db, a->start, a->slen, a->plen, scan_collect, a);
}

static int scan_run(pf_prompt_list **out, pf_db *db, struct scan_args *a)
{
	int rc = pf_store_read(db, scan_txn, a);
	if (rc) {
		plist_reset(&a->pl);
		return rc;
	}
	*out = a->pl.l;
	return 0;
}

/* Common argument checks of the department queries. */
static int check_list_args(pf_prompt_list **out, pf_db *db, const char *dept,
                           bool dept_required)
{
	if (!out)
		return pf_fail(PF_EINVAL, "out is NULL");
	*out = NULL;
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if (!dept && !dept_required)
		return 0;
	return pf_check_word("department", dept);
}

int pf_prompts_pending(pf_prompt_list **out, pf_db *db, const char *department)
{
	pf_api_enter("pf_prompts_pending");
	unsigned char start[DEPT_KEY_MAX];
	int rc = check_list_args(out, db, department, true);
	if (rc)
		return rc;
	size_t n = key_dept(start, Q_OPEN, department);
	struct scan_args a = { start, n, n, 0, 0, false, 0, 0, NULL, NULL,
	                       { NULL, 0 } };
	return scan_run(out, db, &a);
}

int pf_prompts_pending_page(pf_prompt_list **out, pf_db *db, const char *department,
                            const pf_prompt *after, size_t limit)
{
	pf_api_enter("pf_prompts_pending_page");
	unsigned char start[QKEY_MAX + 1];
	int rc = check_list_args(out, db, department, true);
	if (rc)
		return rc;
	if (limit == 0 || limit > PF_PAGE_MAX)
		return pf_fail(PF_EINVAL, "limit %zu is not 1..%d", limit, PF_PAGE_MAX);
	size_t plen = key_dept(start, Q_OPEN, department), slen = plen;
	if (after) {
		/* The key `after` has in this department's list, and one byte
		 * more: the smallest key after it, whether or not it is still
		 * there (done since, or never this department's). */
		pf_prompt at = *after;
		at.department = department;
		if ((rc = pf_check_id("after", &at.id, NULL)))
			return rc;
		if (at.priority < PF_PRIORITY_LOW || at.priority > PF_PRIORITY_URGENT)
			return pf_fail(PF_EINVAL, "after has unknown priority %d", (int)at.priority);
		slen = key_open(start, &at);
		start[slen++] = 0;
	}
	struct scan_args a = { start, slen, plen, 0, 0, false, 0, limit, NULL, NULL,
	                       { NULL, 0 } };
	return scan_run(out, db, &a);
}

/* Overdue across the hotel, in the order schema 1's 'd' list had. */
static int by_due_then_id(const void *x, const void *y)
{
	const pf_prompt *a = x, *b = y;
	if (a->due != b->due)
		return a->due < b->due ? -1 : 1;
	return memcmp(a->id.b, b->id.b, ID_LEN);
}

/*
 * Every department's open list up to `before`, one after the other: the
 * first 'o' key at or after `next` names a department, its list is read
 * up to the first prompt due at `before` or later, and the seek goes on
 * past the department's last key (its name and '\1' sorts after every
 * 'o' DEPT '\0' ... key).  A handful of departments, so a handful of
 * seeks; then the whole list is ordered by due time and id.
 */
static int overdue_all_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct scan_args *a = arg;
	unsigned char next[DEPT_KEY_MAX], dept[DEPT_KEY_MAX];
	size_t nlen = 1;
	int rc = plist_init(&a->pl);
	if (rc)
		return rc;
	a->txn = txn;
	a->db = db;
	next[0] = Q_OPEN;
	for (;;) {
		MDB_val k;
		rc = pf_store_seek(txn, db, PF_DBI_QUEUE, next, nlen, &k);
		if (rc == PF_ENOTFOUND)
			break;
		if (rc)
			return rc;
		const unsigned char *kb = k.mv_data;
		if (k.mv_size < 2 || kb[0] != Q_OPEN)
			break;
		const unsigned char *nul = memchr(kb + 1, '\0', k.mv_size - 1);
		if (!nul || (size_t)(nul - kb) + 1 > sizeof dept)
			return pf_fail(PF_ECORRUPT, "corrupt 'queue': malformed key");
		size_t plen = (size_t)(nul - kb) + 1;       /* 'o' DEPT '\0' */
		memcpy(dept, kb, plen);
		a->start = dept;
		a->slen = a->plen = a->due_off = plen;
		if ((rc = queue_scan(txn, db, dept, plen, plen, scan_collect, a)))
			return rc;
		memcpy(next, dept, plen);
		next[plen - 1] = 1;
		nlen = plen;
	}
	pf_prompt_list *l = a->pl.l;
	if (l->count > 1)
		qsort(l->items, l->count, sizeof *l->items, by_due_then_id);
	return 0;
}

/* For upgrade.c: schema 1's overdue list ('d' keys) deleted. */
int pf_prompt_drop_due_index(MDB_txn *txn, pf_db *db)
{
	const unsigned char tag = Q_DUE;
	return pf_store_del_prefix(txn, db, PF_DBI_QUEUE, &tag, 1);
}

int pf_prompts_overdue(pf_prompt_list **out, pf_db *db, const char *department,
                       pf_time now)
{
	pf_api_enter("pf_prompts_overdue");
	unsigned char start[DEPT_KEY_MAX];
	int rc = check_list_args(out, db, department, false);
	if (rc)
		return rc;
	if (now == 0)
		now = pf_now(db);
	struct scan_args a = { start, 0, 0, 0, 0, true, now, 0, NULL, NULL,
	                       { NULL, 0 } };
	if (!department) {
		int rc2 = pf_store_read(db, overdue_all_txn, &a);
		if (rc2) {
			plist_reset(&a.pl);
			return rc2;
		}
		*out = a.pl.l;
		return 0;
	}
	a.slen = a.plen = a.due_off = key_dept(start, Q_OPEN, department);
	return scan_run(out, db, &a);
}

int pf_prompts_since(pf_prompt_list **out, pf_db *db, const char *department,
                     uint64_t since)
{
	pf_api_enter("pf_prompts_since");
	unsigned char start[DEPT_KEY_MAX + 8];
	int rc = check_list_args(out, db, department, true);
	if (rc)
		return rc;
	size_t plen = key_dept(start, Q_SEQ, department);
	struct scan_args a = { start, plen + 8, plen, SIZE_MAX, 0, false, 0, 0, NULL, NULL,
	                       { NULL, 0 } };
	if (since == UINT64_MAX) {
		/* Nothing can come after the last sequence number. */
		a.pl.l = calloc(1, sizeof *a.pl.l);
		if (!a.pl.l)
			return pf_seterr(PF_ENOMEM, "pf_prompts_since: out of memory");
		*out = a.pl.l;
		return 0;
	}
	pf_be64_put(start + plen, since + 1);
	return scan_run(out, db, &a);
}

struct seq_args {
	const char *dept;
	uint64_t seq;
};

static int seq_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct seq_args *a = arg;
	char mkey[sizeof DEPT_SEQ_PREFIX + PF_FIELD_MAX];
	dept_seq_key(mkey, sizeof mkey, a->dept);
	return pf_meta_get_u64(txn, db, mkey, &a->seq);
}

int pf_prompts_seq(uint64_t *seq, pf_db *db, const char *department)
{
	pf_api_enter("pf_prompts_seq");
	struct seq_args a = { department, 0 };
	int rc;

	if (!seq || !db)
		return pf_seterr(PF_EINVAL, "pf_prompts_seq: %s is NULL", seq ? "db" : "seq");
	rc = pf_check_word("department", department);
	if (rc)
		return rc;
	rc = pf_store_read(db, seq_txn, &a);
	if (rc)
		return rc;
	*seq = a.seq;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                            */
/* ------------------------------------------------------------------ */

enum transition { T_ACK, T_DONE, T_DISMISS };

/* Journal one status change of p ("prompt.ack", "prompt.done" or
 * "prompt.dismiss"), by DEPT/staff. */
static int journal_transition(MDB_txn *txn, pf_db *db, const pf_prompt *p,
                              pf_prompt_status old, const char *staff, const char *reason)
{
	const char *op = p->status == PF_PROMPT_ACKNOWLEDGED ? "prompt.ack" :
	                 p->status == PF_PROMPT_DONE ? "prompt.done" : "prompt.dismiss";
	char actor[PF_JOURNAL_ACTOR_MAX + 1];
	snprintf(actor, sizeof actor, "%s/%s", p->department, staff);
	pf_journal_field jf[3] = { { "status", pf_prompt_status_name(p->status) },
	                           { "status.old", pf_prompt_status_name(old) },
	                           { "reason", reason } };
	pf_jentry je = { .op = op, .actor = actor, .guest = p->guest, .object = p->id,
	                 .ref = p->event_id, .fields = jf, .field_count = reason ? 3 : 2 };
	return pf_journal_append(txn, db, &je);
}

int pf_prompt_close_txn(MDB_txn *txn, pf_db *db, pf_prompt *p, pf_prompt_status to,
                        const char *staff, const char *reason, pf_time when)
{
	char idtext[PF_ID_STRLEN + 1];
	unsigned char k[QKEY_MAX];
	size_t n;
	int rc;

	if (to != PF_PROMPT_DONE && to != PF_PROMPT_DISMISSED)
		return pf_fail(PF_EINVAL, "a prompt can only be closed as done or "
		                 "dismissed");
	if (p->status != PF_PROMPT_PENDING && p->status != PF_PROMPT_ACKNOWLEDGED) {
		pf_id_format(idtext, &p->id);
		return pf_fail(PF_EINVAL, "prompt %s is already %s; only a pending or "
		                 "acknowledged prompt can be %s", idtext,
		                 pf_prompt_status_name(p->status),
		                 to == PF_PROMPT_DONE ? "completed" : "dismissed");
	}
	/* key_open writes the department into k. */
	if (!p->department || strlen(p->department) > PF_FIELD_MAX)
		return pf_fail(PF_EINVAL, "prompt department is missing or too long");

	char *by = strdup(staff);
	char *why = reason ? strdup(reason) : NULL;
	if (!by || (reason && !why)) {
		free(by);
		free(why);
		return pf_fail(PF_ENOMEM, "out of memory");
	}
	pf_prompt_status old = p->status;
	free((char *)p->done_by);
	p->done_by = by;
	p->done_at = when;
	free((char *)p->dismiss_reason);
	p->dismiss_reason = why;
	p->status = to;
	/* Closed prompts leave the work lists; the feed keeps them.  The keys
	 * hold department, due, priority and id, none of which changed. */
	n = key_open(k, p);
	if ((rc = pf_store_del(txn, db, PF_DBI_QUEUE, k, n, NULL, 0)) ||
	    (rc = prompt_put(txn, db, p, 0)))
		return rc;
	return journal_transition(txn, db, p, old, staff, reason);
}

int pf_prompt_rewrite(MDB_txn *txn, pf_db *db, const pf_prompt *p)
{
	unsigned char k[GKEY_LEN];
	pf_prompt old;
	int rc;

	/* The stored guest decides whether the 'g' entry moves. */
	if ((rc = pf_prompt_load(txn, db, &p->id, &old)))
		return rc;
	if (memcmp(old.guest.b, p->guest.b, ID_LEN) != 0 &&
	    ((rc = pf_store_del(txn, db, PF_DBI_QUEUE, k, key_guest(k, &old.guest, &p->id), NULL,
	                        0)) ||
	     (rc = pf_store_put(txn, db, PF_DBI_QUEUE, k, key_guest(k, &p->guest, &p->id), "", 0,
	                        0))))
		goto out;
	rc = prompt_put(txn, db, p, 0);
out:
	pf_prompt_clear(&old);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Prompts of a guest (merge.c, erase.c, export.c)                      */
/* ------------------------------------------------------------------ */

struct guest_scan {
	MDB_txn *txn;
	pf_db *db;
	pf_idvec found;
};

static int guest_entry(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct guest_scan *a = arg;
	char idtext[PF_ID_STRLEN + 1];
	MDB_val rec;
	pf_id id;
	int rc;

	(void)v;
	if (k->mv_size != GKEY_LEN)
		return pf_seterr(PF_ECORRUPT, "corrupt 'queue': guest index key of %zu bytes",
		                 k->mv_size);
	memcpy(id.b, (const unsigned char *)k->mv_data + 1 + ID_LEN, ID_LEN);
	rc = pf_store_get(a->txn, a->db, PF_DBI_PROMPT, id.b, ID_LEN, &rec);
	if (rc == PF_ENOTFOUND) {
		pf_id_format(idtext, &id);
		return pf_seterr(PF_ECORRUPT, "corrupt 'queue': the guest index lists prompt %s, "
		                 "which does not exist", idtext);
	}
	return rc ? rc : pf_idvec_push(&a->found, &id);
}

int pf_prompts_of_guests(MDB_txn *txn, pf_db *db, const pf_id *guests, size_t n,
                         pf_id **out, size_t *nout)
{
	struct guest_scan a = { txn, db, { NULL, 0, 0 } };
	unsigned char k[GKEY_LEN];
	int rc = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t plen = key_guest(k, &guests[i], NULL);
		rc = queue_scan(txn, db, k, plen, plen, guest_entry, &a);
	}
	if (rc) {
		pf_idvec_free(&a.found);
		return rc;
	}
	*out = pf_idvec_take(&a.found, nout);
	return 0;
}

struct trans_args {
	const pf_id *id;
	enum transition t;
	const char *staff;
	const char *reason;
	pf_time now;
};

static int trans_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct trans_args *a = arg;
	char idtext[PF_ID_STRLEN + 1];
	pf_prompt p;
	int rc;

	rc = pf_prompt_load(txn, db, a->id, &p);
	if (rc == PF_ENOTFOUND) {
		pf_id_format(idtext, a->id);
		return pf_fail(PF_ENOTFOUND, "no prompt with id %s", idtext);
	}
	if (rc)
		return rc;

	if (a->t != T_ACK) {
		pf_prompt_status to = a->t == T_DONE ? PF_PROMPT_DONE : PF_PROMPT_DISMISSED;
		rc = pf_prompt_close_txn(txn, db, &p, to, a->staff, a->reason, a->now);
		goto out;
	}
	if (p.status != PF_PROMPT_PENDING) {
		pf_id_format(idtext, a->id);
		rc = pf_fail(PF_EINVAL, "prompt %s is %s; only a pending prompt can "
		               "be acknowledged", idtext,
		               pf_prompt_status_name(p.status));
		goto out;
	}
	char *staff = strdup(a->staff);
	if (!staff) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	free((char *)p.ack_by);
	p.ack_by = staff;
	p.ack_at = a->now;
	p.status = PF_PROMPT_ACKNOWLEDGED;
	if ((rc = prompt_put(txn, db, &p, 0)) == 0)
		rc = journal_transition(txn, db, &p, PF_PROMPT_PENDING, a->staff, NULL);
out:
	pf_prompt_clear(&p);
	return rc;
}

static int transition(pf_db *db, const pf_id *prompt, const char *staff,
                      const char *reason, enum transition t)
{
	int rc;

	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if ((rc = pf_check_id("prompt", prompt, NULL)) ||
	    (rc = pf_check_text("staff", staff, PF_FIELD_MAX, true)))
		return rc;
	if (t == T_DISMISS && (rc = pf_check_text("reason", reason, PF_NOTE_MAX, true)))
		return rc;
	struct trans_args a = { prompt, t, staff, t == T_DISMISS ? reason : NULL,
	                        pf_now(db) };
	return pf_store_write(db, trans_txn, &a);
}

int pf_prompt_ack(pf_db *db, const pf_id *prompt, const char *staff)
{
	pf_api_enter("pf_prompt_ack");
	return transition(db, prompt, staff, NULL, T_ACK);
}

int pf_prompt_done(pf_db *db, const pf_id *prompt, const char *staff)
{
	pf_api_enter("pf_prompt_done");
	return transition(db, prompt, staff, NULL, T_DONE);
}

int pf_prompt_dismiss(pf_db *db, const pf_id *prompt, const char *staff,
                      const char *reason)
{
	pf_api_enter("pf_prompt_dismiss");
	return transition(db, prompt, staff, reason, T_DISMISS);
}

/* ------------------------------------------------------------------ */
/* Subscriptions                                                        */
/* ------------------------------------------------------------------ */

struct pf_sub {
	struct pf_sub *next;
	char *department;         /* NULL: every department */
	pf_prompt_fn fn;
	void *payload;
};

static bool dept_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int pf_subscribe(pf_db *db, const char *department, pf_prompt_fn fn, void *payload)
{
	pf_api_enter("pf_subscribe");
	struct pf_sub *s = NULL;
	int rc;

	if (!db || !fn)
		return pf_seterr(PF_EINVAL, "pf_subscribe: %s is NULL", db ? "fn" : "db");
	if (department && (rc = pf_check_word("department", department)))
		return rc;
	s = calloc(1, sizeof *s);
	if (!s || (department && !(s->department = strdup(department)))) {
		free(s);
		return pf_seterr(PF_ENOMEM, "pf_subscribe: out of memory");
	}
	s->fn = fn;
	s->payload = payload;
	/* Appended, so callbacks run in the order they were registered. */
	pthread_mutex_lock(&db->sub_lock);
	struct pf_sub **pp = &db->subs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = s;
	pthread_mutex_unlock(&db->sub_lock);
	return 0;
}

int pf_unsubscribe(pf_db *db, const char *department, pf_prompt_fn fn, void *payload)
{
	pf_api_enter("pf_unsubscribe");
	struct pf_sub *found = NULL;

	if (!db || !fn)
		return pf_seterr(PF_EINVAL, "pf_unsubscribe: %s is NULL", db ? "fn" : "db");
	if (department && pf_check_word("department", department))
		return PF_EINVAL;
	pthread_mutex_lock(&db->sub_lock);
	for (struct pf_sub **pp = &db->subs; *pp; pp = &(*pp)->next) {
		struct pf_sub *s = *pp;
		if (s->fn == fn && s->payload == payload && dept_eq(s->department, department)) {
			*pp = s->next;
			found = s;
			break;
		}
	}
	pthread_mutex_unlock(&db->sub_lock);
	if (!found)
		return pf_seterr(PF_ENOTFOUND, "pf_unsubscribe: no such subscription");
	free(found->department);
	free(found);
	return 0;
}

/* Out of memory for the list of calls: the prompts are committed, so the
 * subscribers still get them, in the same order, each call looked up
 * again under the lock (a subscription another thread adds or removes
 * meanwhile may be skipped or called; callbacks themselves may not). */
static void deliver_one_by_one(pf_db *db, const pf_prompt_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		for (size_t k = 0;; k++) {
			pf_prompt_fn fn = NULL;
			void *payload = NULL;
			size_t seen = 0;
			pthread_mutex_lock(&db->sub_lock);
			for (struct pf_sub *s = db->subs; s && !fn; s = s->next)
				if ((!s->department ||
				     strcmp(s->department, list->items[i].department) == 0) &&
				    seen++ == k) {
					fn = s->fn;
					payload = s->payload;
				}
			pthread_mutex_unlock(&db->sub_lock);
			if (!fn)
				break;
			fn(&list->items[i], payload);
		}
	}
}

void pf_prompts_deliver(pf_db *db, const pf_prompt_list *list)
{
	struct call {
		pf_prompt_fn fn;
		void *payload;
		const pf_prompt *prompt;
	} *calls = NULL;
	size_t n = 0;

	if (!db || !list || !list->count)
		return;
	/* Decide who gets what under the lock, call without it: a callback
	 * may fire events itself, which delivers again. */
	pthread_mutex_lock(&db->sub_lock);
	for (size_t i = 0; i < list->count; i++)
		for (struct pf_sub *s = db->subs; s; s = s->next)
			if (!s->department || strcmp(s->department, list->items[i].department) == 0)
				n++;
	if (n)
		calls = malloc(n * sizeof *calls);
	if (calls) {
		size_t j = 0;
		for (size_t i = 0; i < list->count; i++)
			for (struct pf_sub *s = db->subs; s; s = s->next)
				if (!s->department ||
				    strcmp(s->department, list->items[i].department) == 0)
					calls[j++] = (struct call){ s->fn, s->payload, &list->items[i] };
	}
	pthread_mutex_unlock(&db->sub_lock);
	if (n && !calls) {
		deliver_one_by_one(db, list);
		return;
	}
	for (size_t j = 0; j < n; j++)
		calls[j].fn(calls[j].prompt, calls[j].payload);
	free(calls);
}

void pf_subs_free(pf_db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&db->sub_lock);
	struct pf_sub *s = db->subs;
	db->subs = NULL;
	pthread_mutex_unlock(&db->sub_lock);
	while (s) {
		struct pf_sub *next = s->next;
		free(s->department);
		free(s);
		s = next;
	}
}

/* ------------------------------------------------------------------ */
/* Read accessors for the read-only walks (quality.c, verify.c)         */
/* ------------------------------------------------------------------ */

int pf_prompt_each_raw(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx)
{
	return pf_store_each(txn, db, PF_DBI_PROMPT, fn, ctx);
}

/* ------------------------------------------------------------------ */
/* Freeing what the library returns                                     */
/* ------------------------------------------------------------------ */

void pf_prompt_free(pf_prompt *p)
{
	if (!p)
		return;
	pf_prompt_clear(p);
	free(p);
}

void pf_prompt_list_free(pf_prompt_list *list)
{
	if (!list)
		return;
	/* A list event.c built as one block (prompt_list_pack: the items
	 * right after the list, the strings after them) is one pointer.  A
	 * separately allocated items array never starts exactly where its
	 * list ends: the allocator keeps its own header or size class there. */
	if (list->items == (pf_prompt *)(list + 1)) {
		free(list);
		return;
	}
	if (list->items)
		for (size_t i = 0; i < list->count; i++)
			pf_prompt_clear(&list->items[i]);
	free(list->items);
	free(list);
}

int pf_prompt_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_PROMPT, NULL, 0, ID_LEN, fn, ctx);
}
