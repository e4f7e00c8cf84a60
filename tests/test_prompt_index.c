/* test_prompt_index.c — the per-guest prompt index in `queue` ('g' GUEST
 * ID): written on fire, kept on close, moved by merge and back by
 * unmerge, built for databases that predate it, and used by export,
 * erase and merge instead of a pass over every prompt. */
#include "helpers.h"
#include "id.h"
#include "store.h"
#include "prompt.h"

#include <stdlib.h>
#include <string.h>

TestSuite(prompt_index, .init = db_setup, .fini = db_teardown, .timeout = 60);

#define PX_GKEY 33

/* The queue alone, for dump_dbs before/after comparisons. */
static const int px_queue[] = { PF_DBI_QUEUE };

static const char px_rules[] =
	"rule hello\n"
	"  on reservation, check_in\n"
	"  notify front_desk normal \"Welcome {name}\"\n";

static void px_load_rules(void)
{
	pf_rule_error err;
	assert_ok(pf_rules_load(tdb, "t", px_rules, strlen(px_rules), &err));
}

/* Fire `n` reservations for g; the prompt ids go to ids[0..n) if given. */
static void px_fire(const pf_id *g, const char *tag, int n, pf_id *ids)
{
	for (int i = 0; i < n; i++) {
		char evid[64];
		pf_event ev = PF_EVENT_INIT;
		pf_prompt_list *l = NULL;
		snprintf(evid, sizeof evid, "%s-%d", tag, i);
		ev.id = evid;
		ev.kind = PF_EVENT_RESERVATION;
		ev.guest = *g;
		assert_ok(pf_fire(&l, tdb, &ev));
		cr_assert(eq(sz, l->count, 1));
		if (ids)
			ids[i] = l->items[0].id;
		pf_prompt_list_free(l);
	}
}

static bool px_has_key(enum pf_dbi dbi, const void *key, size_t len)
{
	size_t vlen = 0;
	unsigned char *v = raw_get(tdb, dbi, key, len, &vlen);
	bool found = v != NULL;
	free(v);
	return found;
}

static bool px_indexed(const pf_id *guest, const pf_id *prompt)
{
	unsigned char k[PX_GKEY];
	k[0] = 'g';
	memcpy(k + 1, guest->b, 16);
	memcpy(k + 17, prompt->b, 16);
	return px_has_key(PF_DBI_QUEUE, k, sizeof k);
}

/* 'g' entries of `guest` in the queue. */
static size_t px_index_count(const pf_id *guest)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	unsigned char p[17];
	size_t n = 0;
	p[0] = 'g';
	memcpy(p + 1, guest->b, 16);
	MDB_val k = { sizeof p, p }, v;
	cr_assert(eq(int, mdb_txn_begin(tdb->env, NULL, MDB_RDONLY, &txn), 0));
	cr_assert(eq(int, mdb_cursor_open(txn, tdb->dbi[PF_DBI_QUEUE], &cur), 0));
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < sizeof p || memcmp(k.mv_data, p, sizeof p) != 0)
			break;
		cr_assert(eq(sz, k.mv_size, PX_GKEY));
		cr_assert(eq(sz, v.mv_size, 0));
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return n;
}

/* Raw value of prompt `id` (malloc'd); the prompt must exist. */
static unsigned char *px_raw_prompt(const pf_id *id, size_t *len)
{
	unsigned char *out = raw_get(tdb, PF_DBI_PROMPT, id->b, 16, len);
	cr_assert(out != NULL);
	return out;
}

static size_t px_count_in(const char *hay, const pf_id *ids, size_t n)
{
	size_t hits = 0;
	for (size_t i = 0; i < n; i++) {
		char s[PF_ID_STRLEN + 1];
		pf_id_format(s, &ids[i]);
		hits += strstr(hay, s) != NULL;
	}
	return hits;
}

Test(prompt_index, entries_follow_fire_and_close)
{
	px_load_rules();
	pf_id a = add_guest("Ada Index", NULL, NULL);
	pf_id b = add_guest("Bob Index", NULL, NULL);
	pf_id pa[3], pb[2];
	px_fire(&a, "a", 3, pa);
	px_fire(&b, "b", 2, pb);

	cr_assert(eq(sz, px_index_count(&a), 3));
	cr_assert(eq(sz, px_index_count(&b), 2));
	for (int i = 0; i < 3; i++) {
		cr_assert(px_indexed(&a, &pa[i]));
		cr_assert(not(px_indexed(&b, &pa[i])));
	}
	for (int i = 0; i < 2; i++)
		cr_assert(px_indexed(&b, &pb[i]));

	/* Closing a prompt keeps its entry: the index lists every status. */
	assert_ok(pf_prompt_done(tdb, &pa[0], "Kim"));
	assert_ok(pf_prompt_dismiss(tdb, &pa[1], "Kim", "guest declined"));
	cr_assert(eq(sz, px_index_count(&a), 3));
	cr_assert(px_indexed(&a, &pa[0]));
	cr_assert(px_indexed(&a, &pa[1]));

	/* The helper returns exactly A's prompts. */
	MDB_txn *txn = NULL;
	pf_id *ids = NULL;
	size_t n = 0;
	cr_assert(eq(int, mdb_txn_begin(tdb->env, NULL, MDB_RDONLY, &txn), 0));
	int rc = pf_prompts_of_guests(txn, tdb, &a, 1, &ids, &n);
	mdb_txn_abort(txn);
	cr_assert(eq(int, rc, 0));
	cr_assert(eq(sz, n, 3));
	size_t found = 0;
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 3; j++)
			found += memcmp(ids[i].b, pa[j].b, 16) == 0;
	cr_assert(eq(sz, found, 3));
	free(ids);
}

Test(prompt_index, export_erase_leave_other_guest_alone)
{
	px_load_rules();
	pf_id a = add_guest("Ada Export", NULL, NULL);
	pf_id b = add_guest("Bob Crowd", NULL, NULL);
	pf_id pa[3], pb[40];
	px_fire(&a, "a", 3, pa);
	px_fire(&b, "b", 40, pb);

	char *json = NULL;
	assert_ok(pf_guest_export_json(&json, tdb, &a));
	cr_assert(eq(sz, px_count_in(json, pa, 3), 3));
	cr_assert(eq(sz, px_count_in(json, pb, 40), 0));
	pf_string_free(json);

	unsigned char *before[40];
	size_t blen[40];
	for (int i = 0; i < 40; i++)
		before[i] = px_raw_prompt(&pb[i], &blen[i]);

	assert_ok(pf_guest_erase(tdb, &a));
	for (int i = 0; i < 3; i++) {
		pf_prompt *p = NULL;
		assert_ok(pf_prompt_get(&p, tdb, &pa[i]));
		cr_assert(eq(str, (char *)p->text, "[erased]"));
		pf_prompt_free(p);
	}
	for (int i = 0; i < 40; i++) {
		size_t len;
		unsigned char *after = px_raw_prompt(&pb[i], &len);
		cr_assert(eq(sz, len, blen[i]));
		cr_assert(eq(int, memcmp(after, before[i], len), 0));
		free(after);
		free(before[i]);
	}
	cr_assert(eq(sz, px_index_count(&b), 40));
}

Test(prompt_index, merge_moves_entries_and_unmerge_restores)
{
	px_load_rules();
	pf_id keep = add_guest("Kay Keep", NULL, NULL);
	pf_id dup = add_guest("Kay Keep", "kay@example.com", NULL);
	pf_id other = add_guest("Otto Other", NULL, NULL);
	pf_id pk[2], pd[3], po[30];
	px_fire(&keep, "k", 2, pk);
	px_fire(&dup, "d", 3, pd);
	px_fire(&other, "o", 30, po);

	size_t qlen0;
	unsigned char *q0 = dump_dbs(tdb, px_queue, 1, &qlen0);
	unsigned char *ob[30];
	size_t olen[30];
	for (int i = 0; i < 30; i++)
		ob[i] = px_raw_prompt(&po[i], &olen[i]);

	pf_id merge;
	assert_ok(pf_guest_merge(&merge, tdb, &keep, &dup));
	cr_assert(eq(sz, px_index_count(&dup), 0));
	cr_assert(eq(sz, px_index_count(&keep), 5));
	for (int i = 0; i < 3; i++) {
		cr_assert(px_indexed(&keep, &pd[i]));
		pf_prompt *p = NULL;
		assert_ok(pf_prompt_get(&p, tdb, &pd[i]));
		cr_assert(eq(int, memcmp(p->guest.b, keep.b, 16), 0));
		pf_prompt_free(p);
	}
	cr_assert(eq(sz, px_index_count(&other), 30));
	for (int i = 0; i < 30; i++) {
		size_t len;
		unsigned char *after = px_raw_prompt(&po[i], &len);
		cr_assert(eq(sz, len, olen[i]));
		cr_assert(eq(int, memcmp(after, ob[i], len), 0));
		free(after);
	}

	assert_ok(pf_guest_unmerge(tdb, &merge));
	size_t qlen1;
	unsigned char *q1 = dump_dbs(tdb, px_queue, 1, &qlen1);
	cr_assert(eq(sz, qlen1, qlen0));
	cr_assert(eq(int, memcmp(q0, q1, qlen0), 0));
	cr_assert(eq(sz, px_index_count(&dup), 3));
	cr_assert(eq(sz, px_index_count(&keep), 2));
	for (int i = 0; i < 30; i++)
		free(ob[i]);
	free(q0);
	free(q1);
}

/* B's prompt record turned into bytes that contain A's id but do not
 * decode: a pass over every prompt (even one skipping records without
 * A's id) fails on it; the index never reads it. */
Test(prompt_index, corrupt_prompt_of_another_guest_is_not_read)
{
	px_load_rules();
	pf_id a = add_guest("Ada Safe", NULL, NULL);
	pf_id b = add_guest("Bob Broken", NULL, NULL);
	pf_id c = add_guest("Cy Keep", NULL, NULL);
	pf_id pa[2], pb[2];
	px_fire(&a, "a", 2, pa);
	px_fire(&b, "b", 2, pb);

	unsigned char junk[1 + 16];
	junk[0] = 0xc1;                 /* never used in msgpack */
	memcpy(junk + 1, a.b, 16);
	raw_put(tdb, PF_DBI_PROMPT, pb[0].b, 16, junk, sizeof junk);

	char *json = NULL;
	assert_ok(pf_guest_export_json(&json, tdb, &a));
	cr_assert(eq(sz, px_count_in(json, pa, 2), 2));
	pf_string_free(json);

	pf_id merge;
	assert_ok(pf_guest_merge(&merge, tdb, &c, &a));
	cr_assert(eq(sz, px_index_count(&c), 2));
	assert_ok(pf_guest_unmerge(tdb, &merge));
	cr_assert(eq(sz, px_index_count(&a), 2));

	assert_ok(pf_guest_erase(tdb, &a));
	pf_prompt *p = NULL;
	assert_ok(pf_prompt_get(&p, tdb, &pa[1]));
	cr_assert(eq(str, (char *)p->text, "[erased]"));
	pf_prompt_free(p);
}

Test(prompt_index, entry_naming_a_missing_prompt_is_corrupt)
{
	px_load_rules();
	pf_id a = add_guest("Ada Ghost", NULL, NULL);
	px_fire(&a, "a", 1, NULL);
	unsigned char k[PX_GKEY];
	pf_id ghost;
	pf_id_generate(&ghost);
	k[0] = 'g';
	memcpy(k + 1, a.b, 16);
	memcpy(k + 17, ghost.b, 16);
	raw_put(tdb, PF_DBI_QUEUE, k, sizeof k, "", 0);

	char *json = NULL;
	cr_assert(eq(int, pf_guest_export_json(&json, tdb, &a), PF_ECORRUPT));
	cr_assert(strstr(pf_errmsg(), "guest index") != NULL, "%s", pf_errmsg());
	cr_assert(eq(int, pf_guest_erase(tdb, &a), PF_ECORRUPT));
	/* Rejected: the profile is still there. */
	pf_guest *g = NULL;
	assert_ok(pf_guest_get(&g, tdb, &a));
	pf_guest_free(g);
}

