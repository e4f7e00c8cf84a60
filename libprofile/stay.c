/*
 * stay.c — stays: pf_stay_add, pf_stay_add_batch, pf_stay_list_get, and
 * pf_stay_put_txn for
 * event.c (a check-in records its stay in the firing transaction).
 *
 * Owns the `stay` database, alone: it opens cursors on it, builds its keys
 * (16-byte guest id + big-endian arrival, so one guest's stays are
 * adjacent and in arrival order) and writes it.  Every other file reads
 * and writes stays through the functions of stay.h (pf_stays_read for
 * export.c, pf_stay_get/put_raw/del and pf_stays_each for merge.c,
 * pf_stays_delete for erase.c, pf_stay_exists for feedback.c,
 * pf_stay_each_all and pf_stay_key_parse for quality.c and verify.c).
 * A stay departs on or after its arrival day: on it for a day-use stay
 * (0 nights).
 *
 * Calls store.c (transactions, get/put/del), codec.c, text.c, id.c,
 * guest.c (load/save, pf_guest_exists) and journal.c.
 */
#include "stay.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "journal.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN sizeof(pf_id)
#define KEY_LEN PF_STAY_KEY_LEN
#define PARTY_MAX 1000

size_t pf_stay_key(unsigned char key[PF_STAY_KEY_LEN], const pf_id *guest, pf_date arrival)
{
	memcpy(key, guest->b, ID_LEN);
	pf_be32_put(key + ID_LEN, (uint32_t)arrival);
	return KEY_LEN;
}

bool pf_stay_key_parse(const void *key, size_t len, pf_id *guest, pf_date *arrival)
{
	if (len != KEY_LEN)
		return false;
	if (guest)
		memcpy(guest->b, key, ID_LEN);
	if (arrival)
		*arrival = (pf_date)pf_be32_get((const unsigned char *)key + ID_LEN);
	return true;
}

/* Write stay s of guest r (the record as loaded) and count it in r when
 * its arrival is new (*is_new); r itself is not saved, so a batch saves
 * a guest once however many of its stays it writes. */
static int stay_put(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const pf_stay *s, bool *is_new)
{
	int rc;
	/* Cheap, and keeps a bad date out of the key whoever the caller is. */
	if ((rc = pf_check_date("arrival", s->arrival, true)) ||
	    (rc = pf_check_date("departure", s->departure, true)))
		return rc;
	if (s->departure < s->arrival)
		return pf_fail(PF_EINVAL, "departure %ld is before arrival %ld",
		                 (long)s->departure, (long)s->arrival);

	unsigned char key[KEY_LEN];
	pf_stay_key(key, &r->g.id, s->arrival);
	MDB_val old;
	rc = pf_store_get(txn, db, PF_DBI_STAY, key, sizeof key, &old);
	if (rc && rc != PF_ENOTFOUND)
		return rc;
	*is_new = rc == PF_ENOTFOUND;

	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	if ((rc = pf_codec_stay_encode(&sb, s))) {
		rc = pf_fail(rc, "cannot encode the stay (out of memory)");
		goto out;
	}
	if ((rc = pf_store_put(txn, db, PF_DBI_STAY, key, sizeof key, sb.data, sb.size, 0)))
		goto out;
	/* Only a new arrival counts: re-sending a reservation must not make
	 * the guest look like a more frequent visitor. */
	if (*is_new && r->g.stays < UINT32_MAX)
		r->g.stays++;
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int pf_stay_put_txn(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const pf_stay *s)
{
	bool is_new = false;
	int rc = stay_put(txn, db, r, s, &is_new);
	if (rc == 0 && is_new)
		rc = pf_guest_save(txn, db, r);
	return rc;
}

/* ---------------------------------------------------------------- add */

static int add_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	const pf_stay *s = arg;
	pf_guest_rec *r = NULL;
	int rc = pf_guest_load(&r, txn, db, &s->guest);
	if (rc == 0) {
		uint32_t before = r->g.stays;
		rc = pf_stay_put_txn(txn, db, r, s);
		if (rc == 0)
			rc = pf_journal_stay(txn, db, s, r->g.stays != before, r->g.stays, NULL);
	}
	pf_guest_rec_free(r);
	return rc;
}

static int check_optional(const char *field, const char *s)
{
	int rc = pf_check_text(field, s, PF_FIELD_MAX, false);
	if (rc == 0 && s && !*s)
		rc = pf_fail(PF_EINVAL, "%s is empty (pass NULL when not known)", field);
	return rc;
}

/* Everything pf_stay_add checks before it writes, on one stay (messages
 * through pf_fail, so they name the caller's entry point). */
static int check_stay(const pf_stay *stay)
{
	int rc;
	if (stay->version != PF_STAY_VERSION)
		return pf_fail(PF_EINVAL, "unknown pf_stay version %u (expected %u)",
		               stay->version, (unsigned)PF_STAY_VERSION);
	if (pf_id_is_zero(&stay->guest))
		return pf_fail(PF_EINVAL, "guest id is zero (no guest)");
	if ((rc = check_optional("property", stay->property)) ||
	    (rc = check_optional("room", stay->room)) ||
	    (rc = pf_check_date("arrival", stay->arrival, true)) ||
	    (rc = pf_check_date("departure", stay->departure, true)))
		return rc;
	/* departure == arrival is a day-use stay (0 nights). */
	if (stay->departure < stay->arrival)
		return pf_fail(PF_EINVAL, "departure %ld is before arrival %ld",
		               (long)stay->departure, (long)stay->arrival);
	if (stay->party > PARTY_MAX)
		return pf_fail(PF_EINVAL, "party of %lu is more than %d people",
		               (unsigned long)stay->party, PARTY_MAX);
	return 0;
}

int pf_stay_add(pf_db *db, const pf_stay *stay)
{
	pf_api_enter("pf_stay_add");
	if (!db || !stay)
		return pf_fail(PF_EINVAL, "%s is NULL", db ? "stay" : "db");
	int rc = check_stay(stay);
	if (rc)
		return rc;
	return pf_store_write(db, add_txn, (void *)stay);
}

/* ---------------------------------------------------------- add batch */

/* The failure being reported, put at index k: "<fn>: stays[k]: <what>"
 * (the detail pf_fail or a store function left, without its prefix). */
static int at_index(int rc, size_t k)
{
	char detail[512];
	const char *m = pf_errmsg(), *fn = pf_api_fn();
	size_t fl = strlen(fn);
	if (strncmp(m, fn, fl) == 0 && strncmp(m + fl, ": ", 2) == 0)
		m += fl + 2;
	snprintf(detail, sizeof detail, "%s", m);
	return pf_fail(rc, "stays[%zu]: %s", k, detail);
}

struct batch_args {
	const pf_stay *stays;
	size_t n;
	size_t failed;            /* index of the stay that failed */
};

/*
 * The whole batch in one transaction, in the order given, each stay
 * exactly as pf_stay_add would write it (stay record, counter, "stay.add"
 * journal entry).  A run of stays of the same guest loads and saves the
 * guest record once; a later stay of that guest after another guest's
 * loads it again (it was saved), so the counter stays right in any order.
 */
static int batch_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct batch_args *a = arg;
	pf_guest_rec *r = NULL;
	bool dirty = false;
	int rc = 0;
	size_t k;
	for (k = 0; k < a->n; k++) {
		const pf_stay *s = &a->stays[k];
		if (r && memcmp(&r->g.id, &s->guest, sizeof(pf_id)) != 0) {
			if (dirty && (rc = pf_guest_save(txn, db, r)))
				goto fail_prev;
			pf_guest_rec_free(r);
			r = NULL;
			dirty = false;
		}
		if (!r && (rc = pf_guest_load(&r, txn, db, &s->guest)))
			goto fail;
		bool is_new = false;
		if ((rc = stay_put(txn, db, r, s, &is_new)) ||
		    (rc = pf_journal_stay(txn, db, s, is_new, r->g.stays, NULL)))
			goto fail;
		dirty |= is_new;
	}
	if (r && dirty && (rc = pf_guest_save(txn, db, r))) {
		k = a->n - 1;
		goto fail;
	}
	pf_guest_rec_free(r);
	return 0;
fail_prev:
	/* Saving the previous guest failed: the last stay written for it. */
	k--;
fail:
	pf_guest_rec_free(r);
	a->failed = k;
	/* Map growth is not the batch's fault: pf_store_write retries it. */
	return rc == PF_EFULL ? rc : at_index(rc, k);
}

int pf_stay_add_batch(pf_db *db, const pf_stay *stays, size_t n, size_t *failed)
{
	pf_api_enter("pf_stay_add_batch");
	if (failed)
		*failed = n;   /* no stay to blame (yet) */
	if (!db)
		return pf_fail(PF_EINVAL, "db is NULL");
	if (n == 0)
		return 0;
	if (!stays)
		return pf_fail(PF_EINVAL, "stays is NULL");
	/* Every stay is checked before the transaction starts: a bad one is
	 * found without writing anything. */
	for (size_t k = 0; k < n; k++) {
		int rc = check_stay(&stays[k]);
		if (rc) {
			if (failed)
				*failed = k;
			return at_index(rc, k);
		}
	}
	struct batch_args a = { stays, n, n };
	int rc = pf_store_write(db, batch_txn, &a);
	if (rc && failed)
		*failed = a.failed;
	return rc;
}

/* --------------------------------------------------------------- list */

#define LIST "pf_stay_list_get"

struct list_args {
	const pf_id *guest;
	pf_stay_list *list;
	size_t cap;
};

int pf_stays_each(MDB_txn *txn, pf_db *db, const pf_id *guest, unsigned flags,
                  pf_stay_fn fn, void *ctx)
{
	MDB_cursor *cur = NULL;
	int rc = 0, mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_STAY], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { ID_LEN, (void *)guest->b }, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < ID_LEN || memcmp(k.mv_data, guest->b, ID_LEN) != 0)
			break;
		pf_date arrival = 0;
		if (!pf_stay_key_parse(k.mv_data, k.mv_size, NULL, &arrival) &&
		    !(flags & PF_STAYS_ANY_KEY)) {
			rc = pf_seterr(PF_ECORRUPT, "corrupt record in 'stay': key of %zu bytes, "
			               "expected %zu", k.mv_size, (size_t)KEY_LEN);
			goto out;
		}
		if ((rc = fn(ctx, arrival, &v)))
			goto out;
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
out:
	mdb_cursor_close(cur);
	return rc;
}

struct read_args {
	const pf_id *guest;
	pf_stay **items;
	size_t *n, *cap;
};

static int read_one(void *ctx, pf_date arrival, const MDB_val *v)
{
	struct read_args *a = ctx;
	if (*a->n == *a->cap) {
		size_t ncap = *a->cap ? *a->cap * 2 : 8;
		pf_stay *grown = realloc(*a->items, ncap * sizeof *grown);
		if (!grown)
			return pf_fail(PF_ENOMEM, "out of memory");
		*a->items = grown;
		*a->cap = ncap;
	}
	pf_stay *s = &(*a->items)[*a->n];
	memset(s, 0, sizeof *s);
	/* Guest and arrival live in the key, not the value. */
	s->guest = *a->guest;
	s->arrival = arrival;
	int rc = pf_codec_stay_decode(s, v->mv_data, v->mv_size);
	if (rc == 0)
		(*a->n)++;
	return rc;
}

int pf_stays_read(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_stay **items,
                  size_t *n, size_t *cap)
{
	struct read_args a = { guest, items, n, cap };
	return pf_stays_each(txn, db, guest, 0, read_one, &a);
}

static int count_one(void *ctx, pf_date arrival, const MDB_val *v)
{
	uint64_t *n = ctx;
	(void)arrival;
	(void)v;
	(*n)++;
	return 0;
}

int pf_stays_count(MDB_txn *txn, pf_db *db, const pf_id *guest, uint64_t *out)
{
	uint64_t n = 0;
	int rc = pf_stays_each(txn, db, guest, PF_STAYS_ANY_KEY, count_one, &n);
	if (rc == 0)
		*out = n;
	return rc;
}

int pf_stay_get(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_date arrival, MDB_val *val)
{
	unsigned char k[KEY_LEN];
	return pf_store_get(txn, db, PF_DBI_STAY, k, pf_stay_key(k, guest, arrival), val);
}

int pf_stay_put_raw(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_date arrival,
                    const void *val, size_t len)
{
	unsigned char k[KEY_LEN];
	return pf_store_put(txn, db, PF_DBI_STAY, k, pf_stay_key(k, guest, arrival), val, len,
	                    0);
}

int pf_stay_del(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_date arrival)
{
	unsigned char k[KEY_LEN];
	return pf_store_del(txn, db, PF_DBI_STAY, k, pf_stay_key(k, guest, arrival), NULL, 0);
}

static int collect_arrival(void *ctx, pf_date arrival, const MDB_val *v)
{
	(void)v;
	return pf_vec_push(ctx, &arrival);
}

int pf_stays_delete(MDB_txn *txn, pf_db *db, const pf_id *guest, size_t *count)
{
	/* Keys collected first, then deleted: no writes under an open cursor. */
	pf_vec arrivals = PF_VEC_INIT(sizeof(pf_date));
	int rc = pf_stays_each(txn, db, guest, 0, collect_arrival, &arrivals);
	for (size_t i = 0; rc == 0 && i < arrivals.n; i++)
		rc = pf_stay_del(txn, db, guest, *(pf_date *)pf_vec_at(&arrivals, i));
	if (rc == 0 && count)
		*count = arrivals.n;
	pf_vec_free(&arrivals);
	return rc;
}

int pf_stay_each_all(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx)
{
	return pf_store_each(txn, db, PF_DBI_STAY, fn, ctx);
}

static int list_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct list_args *a = arg;
	int rc = pf_guest_exists(txn, db, a->guest);
	if (rc)
		return rc;
	return pf_stays_read(txn, db, a->guest, &a->list->items, &a->list->count, &a->cap);
}

int pf_stay_list_get(pf_stay_list **out, pf_db *db, const pf_id *guest)
{
	pf_api_enter("pf_stay_list_get");
	if (!out)
		return pf_seterr(PF_EINVAL, LIST ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, LIST ": db is NULL");
	int rc = pf_check_id("guest", guest, "no guest");
	if (rc)
		return rc;

	struct list_args a = { .guest = guest };
	a.list = calloc(1, sizeof *a.list);
	if (!a.list)
		return pf_seterr(PF_ENOMEM, LIST ": out of memory");
	rc = pf_store_read(db, list_txn, &a);
	if (rc) {
		pf_stay_list_free(a.list);
		return rc;
	}
	*out = a.list;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public free functions (moved from codec.c)                           */
/* ------------------------------------------------------------------ */

void pf_stay_list_free(pf_stay_list *list)
{
	if (!list)
		return;
	if (list->items)
		for (size_t i = 0; i < list->count; i++)
			pf_stay_clear(&list->items[i]);
	free(list->items);
	free(list);
}

/* ---- end of public free functions ------------------------------- */

int pf_stay_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_STAY, NULL, 0, 0, fn, ctx);
}
