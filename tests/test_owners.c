/*
 * test_owners.c — the stay functions stay.c offers the files that used to
 * reach into the stay database themselves (erase.c, feedback.c, merge.c,
 * quality.c, verify.c): its key, a guest's walk and count, raw get/put/
 * delete, and deleting every stay of a guest.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include "helpers.h"
#include "stay.h"

#include <string.h>

TestSuite(owners, .init = db_setup, .fini = db_teardown, .timeout = 60);

Test(owners, stay_key_round_trip)
{
	pf_id g, back = { { 0 } };
	for (int i = 0; i < 16; i++)
		g.b[i] = (unsigned char)(0xA0 + i);
	unsigned char k[PF_STAY_KEY_LEN];
	cr_assert(eq(sz, pf_stay_key(k, &g, 20261201), 20));
	pf_date arrival = 0;
	cr_assert(pf_stay_key_parse(k, sizeof k, &back, &arrival));
	cr_assert(eq(int, memcmp(back.b, g.b, 16), 0));
	cr_assert(eq(int, (int)arrival, 20261201));
	/* Big-endian: keys of one guest sort by arrival. */
	unsigned char later[PF_STAY_KEY_LEN];
	pf_stay_key(later, &g, 20261202);
	cr_assert(lt(int, memcmp(k, later, sizeof k), 0));
	cr_assert(not(pf_stay_key_parse(k, 19, NULL, NULL)));
	cr_assert(not(pf_stay_key_parse(k, 21, NULL, NULL)));
}

struct seen {
	pf_date arrival[8];
	size_t n;
};

static int note_arrival(void *ctx, pf_date arrival, const MDB_val *val)
{
	struct seen *s = ctx;
	(void)val;
	if (s->n < 8)
		s->arrival[s->n++] = arrival;
	return 0;
}

struct walk_args {
	pf_id guest;
	struct seen seen;
	uint64_t count;
	int get_rc, missing_rc;
};

static int walk_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct walk_args *a = arg;
	MDB_val v;
	int rc = pf_stays_each(txn, db, &a->guest, 0, note_arrival, &a->seen);
	if (rc == 0)
		rc = pf_stays_count(txn, db, &a->guest, &a->count);
	a->get_rc = pf_stay_get(txn, db, &a->guest, 20260301, &v);
	a->missing_rc = pf_stay_get(txn, db, &a->guest, 20260302, &v);
	return rc;
}

struct delete_args {
	pf_id guest;
	size_t deleted;
};

static int delete_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct delete_args *a = arg;
	return pf_stays_delete(txn, db, &a->guest, &a->deleted);
}

Test(owners, a_guests_stays_walk_count_get_and_delete)
{
	pf_id g = add_guest("Ana Lima", NULL, NULL);
	pf_id other = add_guest("Wei Zhuang", NULL, NULL);
	const pf_date arrivals[3] = { 20261201, 20260301, 20260715 };
	for (int i = 0; i < 3; i++) {
		pf_stay s = { .version = PF_STAY_VERSION, .guest = g, .arrival = arrivals[i], .departure = arrivals[i] };
		assert_ok(pf_stay_add(tdb, &s));
	}
	pf_stay o = { .version = PF_STAY_VERSION, .guest = other, .arrival = 20260301, .departure = 20260302 };
	assert_ok(pf_stay_add(tdb, &o));

	struct walk_args w = { .guest = g };
	assert_ok(pf_store_read(tdb, walk_txn, &w));
	cr_assert(eq(sz, w.seen.n, 3));
	cr_assert(eq(int, (int)w.seen.arrival[0], 20260301));
	cr_assert(eq(int, (int)w.seen.arrival[1], 20260715));
	cr_assert(eq(int, (int)w.seen.arrival[2], 20261201));
	cr_assert(eq(u64, w.count, 3));
	cr_assert(eq(int, w.get_rc, 0));
	cr_assert(eq(int, w.missing_rc, PF_ENOTFOUND));

	struct delete_args d = { .guest = g };
	assert_ok(pf_store_write(tdb, delete_txn, &d));
	cr_assert(eq(sz, d.deleted, 3));
	pf_stay_list *l = NULL;
	assert_ok(pf_stay_list_get(&l, tdb, &g));
	cr_assert(eq(sz, l->count, 0));
	pf_stay_list_free(l);
	/* The other guest's stay is not touched. */
	assert_ok(pf_stay_list_get(&l, tdb, &other));
	cr_assert(eq(sz, l->count, 1));
	pf_stay_list_free(l);
}
