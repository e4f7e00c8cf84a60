/* test_journal.c — the journal: one entry per mutation in its transaction,
 * reading in order (all, since, per guest, in batches), trim, erasure
 * rewrite, and strict decoding of stored entries. */
#include "helpers.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(journal, .init = db_setup, .fini = db_teardown, .timeout = 60);

/* ------------------------------------------------------------ helpers */

#define JR_FIELDS 32

/* An entry copied out of the iterator, so tests can look at several. */
typedef struct jr_entry {
	uint64_t seq;
	pf_time time;
	char *op, *actor, *ref;
	pf_id guest, object;
	size_t nf;
	char *fname[JR_FIELDS];
	char *fval[JR_FIELDS];    /* NULL: the field was removed */
} jr_entry;

typedef struct jr_list {
	size_t n;
	jr_entry *e;
} jr_list;

static char *jr_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void jr_free(jr_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		jr_entry *e = &l->e[i];
		free(e->op);
		free(e->actor);
		free(e->ref);
		for (size_t f = 0; f < e->nf; f++) {
			free(e->fname[f]);
			free(e->fval[f]);
		}
	}
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

/* Every entry after `since` (of `guest` when not NULL). */
static jr_list jr_read(uint64_t since, const pf_id *guest)
{
	jr_list l = { 0, NULL };
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_iter(&it, tdb, since, guest));
	int rc;
	while ((rc = pf_journal_next(&e, it)) == 0) {
		l.e = realloc(l.e, (l.n + 1) * sizeof *l.e);
		cr_assert(l.e != NULL);
		jr_entry *c = &l.e[l.n++];
		memset(c, 0, sizeof *c);
		c->seq = e->seq;
		c->time = e->time;
		c->op = jr_dup(e->op);
		c->actor = jr_dup(e->actor);
		c->ref = jr_dup(e->ref);
		c->guest = e->guest;
		c->object = e->object;
		cr_assert(e->field_count <= JR_FIELDS);
		c->nf = e->field_count;
		for (size_t f = 0; f < e->field_count; f++) {
			c->fname[f] = jr_dup(e->fields[f].name);
			c->fval[f] = jr_dup(e->fields[f].value);
		}
	}
	cr_assert(eq(int, rc, PF_ITEROVER), "pf_journal_next: %s", pf_errmsg());
	cr_assert(e == NULL);
	pf_journal_iterator_free(it);
	return l;
}

/* Index of field `name` in e, or -1. */
static int jr_find(const jr_entry *e, const char *name)
{
	for (size_t f = 0; f < e->nf; f++)
		if (strcmp(e->fname[f], name) == 0)
			return (int)f;
	return -1;
}

/* Assert e has field `name` with `value` (NULL: removed). */
static void jr_field_is(const jr_entry *e, const char *name, const char *value)
{
	int i = jr_find(e, name);
	cr_assert(i >= 0, "entry %llu (%s) has no field '%s'", (unsigned long long)e->seq,
	          e->op, name);
	if (!value)
		cr_assert(e->fval[i] == NULL, "field '%s' is '%s', expected removed", name,
		          e->fval[i]);
	else {
		cr_assert(e->fval[i] != NULL, "field '%s' is removed, expected '%s'", name, value);
		cr_assert(eq(str, e->fval[i], (char *)value), "field '%s'", name);
	}
}

static void jr_no_field(const jr_entry *e, const char *name)
{
	cr_assert(jr_find(e, name) < 0, "entry %llu (%s) has field '%s'",
	          (unsigned long long)e->seq, e->op, name);
}

static bool jr_id_eq(const pf_id *a, const pf_id *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

static uint64_t jr_last(void)
{
	uint64_t s = 0;
	assert_ok(pf_journal_last_seq(&s, tdb));
	return s;
}

static const char JR_BOOK[] =
	"rule floor\n  on reservation, check_in\n  when pref room.floor\n"
	"  notify front_desk high \"Assign floor {pref room.floor}\"\n"
	"rule flowers\n  on check_in\n  when pref amenity.flower\n"
	"  notify housekeeping normal \"Place {pref amenity.flower}\"\n";

/* ------------------------------------------------------------ content */

Test(journal, empty_journal)
{
	cr_assert(eq(u64, jr_last(), 0));
	jr_list l = jr_read(0, NULL);
	cr_assert(eq(sz, l.n, 0));
	jr_free(&l);
}

Test(journal, guest_put_create_then_update)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = "Zhuang Wei";
	g.email = "zw@example.com";
	g.phone = "+853 6123 4567";
	g.tier = PF_TIER_GOLD;
	const char *tags[] = { "advertising", "vip_lounge" };
	g.tags = tags;
	g.tag_count = 2;
	assert_ok(pf_guest_put(tdb, &g));

	tclock += 60;
	g.email = "wei@example.org";
	g.phone = NULL;                       /* cleared */
	g.birth_date = 19800517;
	assert_ok(pf_guest_put(tdb, &g));

	jr_list l = jr_read(0, NULL);
	cr_assert(eq(sz, l.n, 2));
	const jr_entry *c = &l.e[0], *u = &l.e[1];
	cr_assert(eq(u64, c->seq, 1));
	cr_assert(eq(u64, u->seq, 2));
	cr_assert(eq(str, c->op, "guest.put"));
	cr_assert(eq(i64, c->time, T0));
	cr_assert(eq(i64, u->time, T0 + 60));
	cr_assert(jr_id_eq(&c->guest, &g.id));
	cr_assert(pf_id_is_zero(&c->object));
	cr_assert(c->actor == NULL);
	jr_field_is(c, "name", "Zhuang Wei");
	jr_field_is(c, "email", "zw@example.com");
	jr_field_is(c, "phone", "+853 6123 4567");
	jr_field_is(c, "tier", "gold");
	jr_field_is(c, "tags", "advertising,vip_lounge");
	jr_field_is(c, "consent", "profiling");
	jr_no_field(c, "email.old");         /* a creation has no old values */
	jr_no_field(c, "birth_date");        /* unknown fields are left out */

	/* The update names only what changed, new and old. */
	cr_assert(eq(str, u->op, "guest.put"));
	jr_field_is(u, "email", "wei@example.org");
	jr_field_is(u, "email.old", "zw@example.com");
	jr_field_is(u, "phone", NULL);
	jr_field_is(u, "phone.old", "+853 6123 4567");
	jr_field_is(u, "birth_date", "1980-05-17");
	jr_field_is(u, "birth_date.old", NULL);
	jr_no_field(u, "name");
	jr_no_field(u, "tier");
	jr_no_field(u, "tags");
	cr_assert(eq(sz, u->nf, 6));
	cr_assert(eq(u64, jr_last(), 2));
	jr_free(&l);
}

Test(journal, pref_set_change_and_delete)
{
	pf_id g = add_guest("Ana Lima", NULL, NULL);
	uint64_t base = jr_last();

	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "housekeeping";
	o.staff = "mei";
	o.note = "asked twice";
	assert_ok(pf_pref_set(tdb, &g, "amenity.flower", "lily", &o));
	o.staff = NULL;
	o.note = NULL;
	o.kind = PF_DISLIKE;
	assert_ok(pf_pref_set(tdb, &g, "amenity.flower", "rose", &o));
	assert_ok(pf_pref_del(tdb, &g, "amenity.flower"));

	jr_list l = jr_read(base, NULL);
	cr_assert(eq(sz, l.n, 3));
	const jr_entry *s1 = &l.e[0], *s2 = &l.e[1], *d = &l.e[2];
	cr_assert(eq(str, s1->op, "pref.set"));
	cr_assert(eq(str, s1->actor, "housekeeping/mei"));
	cr_assert(eq(str, s1->ref, "amenity.flower"));
	cr_assert(jr_id_eq(&s1->guest, &g));
	jr_field_is(s1, "value", "lily");
	jr_field_is(s1, "kind", "like");
	jr_field_is(s1, "count", "1");
	jr_field_is(s1, "note", "asked twice");
	jr_no_field(s1, "value.old");

	cr_assert(eq(str, s2->actor, "housekeeping"));
	jr_field_is(s2, "value", "rose");
	jr_field_is(s2, "value.old", "lily");
	jr_field_is(s2, "kind", "dislike");
	jr_field_is(s2, "kind.old", "like");
	jr_no_field(s2, "note");

	cr_assert(eq(str, d->op, "pref.del"));
	cr_assert(eq(str, d->ref, "amenity.flower"));
	cr_assert(d->actor == NULL);
	jr_field_is(d, "value", NULL);
	jr_field_is(d, "value.old", "rose");
	jr_field_is(d, "kind.old", "dislike");
	cr_assert(s1->seq < s2->seq && s2->seq < d->seq);
	jr_free(&l);
}

Test(journal, stay_add_new_and_resent)
{
	pf_id g = add_guest("Ana Lima", NULL, NULL);
	uint64_t base = jr_last();
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = g, .property = "macau", .room = "1012",
	              .arrival = 20261123, .departure = 20261126, .party = 2 };
	assert_ok(pf_stay_add(tdb, &s));
	s.room = "1014";
	assert_ok(pf_stay_add(tdb, &s));          /* the same arrival again */

	jr_list l = jr_read(base, NULL);
	cr_assert(eq(sz, l.n, 2));
	cr_assert(eq(str, l.e[0].op, "stay.add"));
	cr_assert(jr_id_eq(&l.e[0].guest, &g));
	cr_assert(l.e[0].ref == NULL);
	jr_field_is(&l.e[0], "arrival", "2026-11-23");
	jr_field_is(&l.e[0], "departure", "2026-11-26");
	jr_field_is(&l.e[0], "room", "1012");
	jr_field_is(&l.e[0], "property", "macau");
	jr_field_is(&l.e[0], "party", "2");
	jr_field_is(&l.e[0], "stays", "1");
	/* An update of a known stay does not count a new one. */
	jr_field_is(&l.e[1], "room", "1014");
	jr_no_field(&l.e[1], "stays");
	jr_free(&l);
}

Test(journal, rules_load_fire_checkin_and_stay)
{
	assert_ok(pf_rules_load(tdb, "hotel.rules", JR_BOOK, strlen(JR_BOOK), NULL));
	pf_id g = add_guest("Ana Lima", NULL, NULL);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	set_pref(&g, "amenity.flower", "lily", PF_LIKE);
	uint64_t base = jr_last();

	pf_event ev = PF_EVENT_INIT;
	ev.id = "res-881";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = g;
	ev.room = "1012";
	ev.arrival = 20261123;
	ev.departure = 20261125;
	pf_prompt_list *pl = NULL;
	assert_ok(pf_fire(&pl, tdb, &ev));
	cr_assert(eq(sz, pl->count, 2));
	pf_prompt_list_free(pl);

	jr_list all = jr_read(0, NULL);
	cr_assert(eq(str, all.e[0].op, "rules.load"));
	cr_assert(eq(str, all.e[0].ref, "hotel.rules"));
	cr_assert(pf_id_is_zero(&all.e[0].guest));
	jr_field_is(&all.e[0], "rules", "2");
	jr_free(&all);

	jr_list l = jr_read(base, NULL);
	cr_assert(eq(sz, l.n, 2));
	cr_assert(eq(str, l.e[0].op, "event.fire"));
	cr_assert(eq(str, l.e[0].ref, "res-881"));
	cr_assert(jr_id_eq(&l.e[0].guest, &g));
	jr_field_is(&l.e[0], "kind", "check_in");
	jr_field_is(&l.e[0], "prompts", "2");
	jr_field_is(&l.e[0], "room", "1012");
	/* The check-in's stay, in the same transaction, names the event. */
	cr_assert(eq(str, l.e[1].op, "stay.add"));
	cr_assert(eq(str, l.e[1].ref, "res-881"));
	jr_field_is(&l.e[1], "arrival", "2026-11-23");
	jr_field_is(&l.e[1], "stays", "1");
	cr_assert(eq(u64, l.e[1].seq, l.e[0].seq + 1));
	jr_free(&l);

	/* Firing the same id again stores nothing, so journals nothing. */
	uint64_t last = jr_last();
	tclock += 3600;
	assert_ok(pf_fire(&pl, tdb, &ev));
	cr_assert(eq(sz, pl->count, 2));
	pf_prompt_list_free(pl);
	cr_assert(eq(u64, jr_last(), last));
	l = jr_read(last, NULL);
	cr_assert(eq(sz, l.n, 0));
	jr_free(&l);
}

Test(journal, prompt_transitions)
{
	assert_ok(pf_rules_load(tdb, NULL, JR_BOOK, strlen(JR_BOOK), NULL));
	pf_id g = add_guest("Ana Lima", NULL, NULL);
	set_pref(&g, "room.floor", "10", PF_LIKE);
	set_pref(&g, "amenity.flower", "lily", PF_LIKE);
	pf_event ev = PF_EVENT_INIT;
	ev.id = "in-7";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = g;
	pf_prompt_list *pl = NULL;
	assert_ok(pf_fire(&pl, tdb, &ev));
	cr_assert(eq(sz, pl->count, 2));
	pf_id fd = pl->items[0].id, hk = pl->items[1].id;
	cr_assert(eq(str, (char *)pl->items[1].department, "housekeeping"));
	pf_prompt_list_free(pl);
	uint64_t base = jr_last();

	assert_ok(pf_prompt_ack(tdb, &hk, "mei"));
	assert_ok(pf_prompt_done(tdb, &hk, "mei"));
	assert_ok(pf_prompt_dismiss(tdb, &fd, "joao", "hotel full on floor 10"));

	jr_list l = jr_read(base, NULL);
	cr_assert(eq(sz, l.n, 3));
	cr_assert(eq(str, l.e[0].op, "prompt.ack"));
	cr_assert(eq(str, l.e[0].actor, "housekeeping/mei"));
	cr_assert(jr_id_eq(&l.e[0].object, &hk));
	cr_assert(jr_id_eq(&l.e[0].guest, &g));
	cr_assert(eq(str, l.e[0].ref, "in-7"));
	jr_field_is(&l.e[0], "status", "acknowledged");
	jr_field_is(&l.e[0], "status.old", "pending");
	cr_assert(eq(str, l.e[1].op, "prompt.done"));
	jr_field_is(&l.e[1], "status", "done");
	jr_field_is(&l.e[1], "status.old", "acknowledged");
	cr_assert(eq(str, l.e[2].op, "prompt.dismiss"));
	cr_assert(eq(str, l.e[2].actor, "front_desk/joao"));
	cr_assert(jr_id_eq(&l.e[2].object, &fd));
	jr_field_is(&l.e[2], "status", "dismissed");
	jr_field_is(&l.e[2], "reason", "hotel full on floor 10");
	jr_free(&l);

	/* The rules.load of a book without a name has no ref. */
	l = jr_read(0, NULL);
	cr_assert(eq(str, l.e[0].op, "rules.load"));
	cr_assert(l.e[0].ref == NULL);
	jr_free(&l);
}

Test(journal, rejected_mutations_journal_nothing)
{
	pf_id g = add_guest("Ana Lima", NULL, NULL);
	uint64_t last = jr_last();
	cr_assert(eq(u64, last, 1));

	/* Refused before the transaction... */
	pf_guest bad = PF_GUEST_INIT;
	bad.name = "X";
	bad.email = "not-an-address";
	cr_assert(eq(int, pf_guest_put(tdb, &bad), PF_EINVAL));
	/* ...and inside it, after the journal may have been written: the
	 * abort takes the entry with it. */
	pf_id nobody;
	pf_id_parse(&nobody, "00000000-0000-4000-8000-000000000001");
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "front_desk";
	cr_assert(eq(int, pf_pref_set(tdb, &nobody, "room.floor", "3", &o), PF_ENOTFOUND));
	cr_assert(eq(int, pf_pref_del(tdb, &g, "room.floor"), PF_ENOTFOUND));
	pf_stay s = { .version = PF_STAY_VERSION,
	              .guest = g, .arrival = 20261123, .departure = 20261122 };
	cr_assert(eq(int, pf_stay_add(tdb, &s), PF_EINVAL));
	const char broken[] = "rule x\n  on check_in\n  notify\n";
	cr_assert(eq(int, pf_rules_load(tdb, "b", broken, strlen(broken), NULL), PF_ESYNTAX));

	cr_assert(eq(u64, jr_last(), last));
	jr_list l = jr_read(0, NULL);
	cr_assert(eq(sz, l.n, 1));
	jr_free(&l);
}

/* An invalid entry aborts the mutation that appends it. */
static int jr_bad_append(MDB_txn *txn, pf_db *db, void *arg)
{
	const pf_jentry *e = arg;
	return pf_journal_append(txn, db, e);
}

Test(journal, append_validates)
{
	pf_jentry e = { .op = "Guest.Put" };
	cr_assert(eq(int, pf_store_write(tdb, jr_bad_append, &e), PF_EINVAL));
	e.op = "guest.";
	cr_assert(eq(int, pf_store_write(tdb, jr_bad_append, &e), PF_EINVAL));
	e.op = "guest.put";
	e.actor = "";
	cr_assert(eq(int, pf_store_write(tdb, jr_bad_append, &e), PF_EINVAL));
	e.actor = "front_desk";
	pf_journal_field f[1] = { { "name", "\xff\xfe" } };
	e.fields = f;
	e.field_count = 1;
	cr_assert(eq(int, pf_store_write(tdb, jr_bad_append, &e), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "UTF-8") != NULL);
	cr_assert(eq(u64, jr_last(), 0));   /* the sequence did not move either */

	f[0].value = NULL;                   /* "removed" is fine */
	assert_ok(pf_store_write(tdb, jr_bad_append, &e));
	cr_assert(eq(u64, jr_last(), 1));
}

/* ------------------------------------------------------------ reading */

Test(journal, since_and_guest_filter)
{
	pf_id a = add_guest("Ana Lima", NULL, NULL);             /* 1 */
	pf_id b = add_guest("Bo Chen", NULL, NULL);              /* 2 */
	set_pref(&a, "room.floor", "3", PF_LIKE);                /* 3 */
	set_pref(&b, "room.floor", "7", PF_LIKE);                /* 4 */
	assert_ok(pf_rules_load(tdb, "r", JR_BOOK, strlen(JR_BOOK), NULL)); /* 5 */
	set_pref(&a, "amenity.flower", "lily", PF_LIKE);         /* 6 */

	jr_list l = jr_read(3, NULL);
	cr_assert(eq(sz, l.n, 3));
	cr_assert(eq(u64, l.e[0].seq, 4));
	cr_assert(eq(u64, l.e[2].seq, 6));
	jr_free(&l);

	l = jr_read(0, &a);
	cr_assert(eq(sz, l.n, 3));
	cr_assert(eq(u64, l.e[0].seq, 1));
	cr_assert(eq(u64, l.e[1].seq, 3));
	cr_assert(eq(u64, l.e[2].seq, 6));
	for (size_t i = 0; i < l.n; i++)
		cr_assert(jr_id_eq(&l.e[i].guest, &a));
	jr_free(&l);

	l = jr_read(3, &a);
	cr_assert(eq(sz, l.n, 1));
	cr_assert(eq(u64, l.e[0].seq, 6));
	jr_free(&l);

	l = jr_read(0, &b);
	cr_assert(eq(sz, l.n, 2));
	cr_assert(eq(u64, l.e[1].seq, 4));
	jr_free(&l);

	pf_id nobody;
	pf_id_parse(&nobody, "00000000-0000-4000-8000-000000000001");
	l = jr_read(0, &nobody);
	cr_assert(eq(sz, l.n, 0));
	jr_free(&l);
	l = jr_read(UINT64_MAX, NULL);
	cr_assert(eq(sz, l.n, 0));
	jr_free(&l);
}

Test(journal, iterator_sees_later_commits)
{
	pf_id a = add_guest("Ana Lima", NULL, NULL);
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_iter(&it, tdb, 0, NULL));
	assert_ok(pf_journal_next(&e, it));
	cr_assert(eq(u64, e->seq, 1));
	cr_assert(eq(int, pf_journal_next(&e, it), PF_ITEROVER));
	cr_assert(e == NULL);
	/* The end is not sticky: a follower polls the same iterator. */
	set_pref(&a, "room.floor", "3", PF_LIKE);
	assert_ok(pf_journal_next(&e, it));
	cr_assert(eq(u64, e->seq, 2));
	cr_assert(eq(str, (char *)e->op, "pref.set"));
	cr_assert(eq(int, pf_journal_next(&e, it), PF_ITEROVER));
	pf_journal_iterator_free(it);
}

/* mdb_reader_list callback: counts lines "pid thread txnid" of readers
 * inside a transaction (an idle slot shows "-" for its txnid). */
static int jr_reader_count(const char *msg, void *ctx)
{
	int pid;
	unsigned long long txnid;
	if (sscanf(msg, "%d %*x %llu", &pid, &txnid) == 2)
		(*(int *)ctx)++;
	return 0;
}

/* 600 entries in one transaction (one commit, not 600 fsyncs). */
static int jr_append_600(MDB_txn *txn, pf_db *db, void *arg)
{
	const pf_id *g = arg;
	char v[16];
	pf_journal_field f[1] = { { "n", v } };
	pf_jentry e = { .op = "test.bulk", .fields = f, .field_count = 1 };
	for (int i = 0; i < 600; i++) {
		snprintf(v, sizeof v, "%d", i);
		/* Every third entry belongs to the guest. */
		memset(&e.guest, 0, sizeof e.guest);
		if (i % 3 == 0)
			e.guest = *g;
		int rc = pf_journal_append(txn, db, &e);
		if (rc)
			return rc;
	}
	return 0;
}

/* Inside a read transaction the counter sees it: the check below can fail. */
static int jr_count_inside(MDB_txn *txn, pf_db *db, void *arg)
{
	(void)txn;
	mdb_reader_list(db->env, jr_reader_count, arg);
	return 0;
}

Test(journal, batches_and_no_reader_between_calls)
{
	int inside = 0;
	assert_ok(pf_store_read(tdb, jr_count_inside, &inside));
	cr_assert(eq(int, inside, 1));

	pf_id g = add_guest("Ana Lima", NULL, NULL);            /* seq 1 */
	assert_ok(pf_store_write(tdb, jr_append_600, &g));  /* seq 2..601 */
	cr_assert(eq(u64, jr_last(), 601));

	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_iter(&it, tdb, 0, NULL));
	uint64_t want = 1;
	int rc;
	while ((rc = pf_journal_next(&e, it)) == 0) {
		cr_assert(eq(u64, e->seq, want), "entry %llu", (unsigned long long)want);
		if (want > 1) {
			char v[24];
			snprintf(v, sizeof v, "%llu", (unsigned long long)(want - 2));
			cr_assert(eq(str, (char *)e->fields[0].value, v));
		}
		want++;
		/* Between calls the iterator holds no read transaction. */
		int readers = 0;
		mdb_reader_list(tdb->env, jr_reader_count, &readers);
		cr_assert(eq(int, readers, 0), "%d live read transactions", readers);
	}
	cr_assert(eq(int, rc, PF_ITEROVER));
	cr_assert(eq(u64, want, 602));
	pf_journal_iterator_free(it);

	/* The guest's 1 + 200 entries through the index, also in batches. */
	jr_list l = jr_read(0, &g);
	cr_assert(eq(sz, l.n, 201));
	cr_assert(eq(u64, l.e[0].seq, 1));
	for (size_t i = 1; i < l.n; i++) {
		cr_assert(eq(u64, l.e[i].seq, 2 + 3 * (i - 1)));
		cr_assert(jr_id_eq(&l.e[i].guest, &g));
	}
	jr_free(&l);
	l = jr_read(550, &g);
	cr_assert(eq(sz, l.n, 17));          /* seq 551..599 step 3, from 551 */
	jr_free(&l);
}

Test(journal, argument_errors)
{
	pf_journal_iterator *it = (pf_journal_iterator *)1;
	const pf_journal_entry *e = (const pf_journal_entry *)1;
	pf_id zero;
	memset(&zero, 0, sizeof zero);
	cr_assert(eq(int, pf_journal_iter(NULL, tdb, 0, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_journal_iter(&it, NULL, 0, NULL), PF_EINVAL));
	cr_assert(it == NULL);
	cr_assert(eq(int, pf_journal_iter(&it, tdb, 0, &zero), PF_EINVAL));
	cr_assert(eq(int, pf_journal_next(&e, NULL), PF_EINVAL));
	cr_assert(e == NULL);
	assert_ok(pf_journal_iter(&it, tdb, 0, NULL));
	cr_assert(eq(int, pf_journal_next(NULL, it), PF_EINVAL));
	pf_journal_iterator_free(it);
	pf_journal_iterator_free(NULL);
	uint64_t s;
	cr_assert(eq(int, pf_journal_last_seq(NULL, tdb), PF_EINVAL));
	cr_assert(eq(int, pf_journal_last_seq(&s, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_journal_trim(NULL, 5, &s), PF_EINVAL));
}

/* ------------------------------------------------------------ trim */

Test(journal, trim_is_explicit_and_journalled)
{
	pf_id a = add_guest("Ana Lima", NULL, NULL);             /* 1 */
	pf_id b = add_guest("Bo Chen", NULL, NULL);              /* 2 */
	set_pref(&a, "room.floor", "3", PF_LIKE);                /* 3 */
	assert_ok(pf_rules_load(tdb, "r", JR_BOOK, strlen(JR_BOOK), NULL)); /* 4 */
	set_pref(&a, "room.view", "sea", PF_LIKE);               /* 5 */

	uint64_t removed = 99;
	tclock += 10;
	assert_ok(pf_journal_trim(tdb, 4, &removed));
	cr_assert(eq(u64, removed, 3));
	cr_assert(eq(u64, jr_last(), 6));

	jr_list l = jr_read(0, NULL);
	cr_assert(eq(sz, l.n, 3));
	cr_assert(eq(u64, l.e[0].seq, 4));
	cr_assert(eq(u64, l.e[1].seq, 5));
	cr_assert(eq(str, l.e[2].op, "journal.trim"));
	cr_assert(eq(i64, l.e[2].time, T0 + 10));
	jr_field_is(&l.e[2], "before_seq", "4");
	jr_field_is(&l.e[2], "removed", "3");
	jr_free(&l);

	/* The index went with the entries. */
	l = jr_read(0, &a);
	cr_assert(eq(sz, l.n, 1));
	cr_assert(eq(u64, l.e[0].seq, 5));
	jr_free(&l);
	l = jr_read(0, &b);
	cr_assert(eq(sz, l.n, 0));
	jr_free(&l);

	/* Trimming everything keeps the record of the trims. */
	assert_ok(pf_journal_trim(tdb, UINT64_MAX, NULL));
	l = jr_read(0, NULL);
	cr_assert(eq(sz, l.n, 1));
	cr_assert(eq(u64, l.e[0].seq, 7));
	jr_field_is(&l.e[0], "removed", "3");
	jr_free(&l);

	/* Numbering carries on. */
	set_pref(&b, "room.floor", "8", PF_LIKE);
	cr_assert(eq(u64, jr_last(), 8));
}

/* ------------------------------------------------------------ erase */

static int jr_erase(MDB_txn *txn, pf_db *db, void *arg)
{
	return pf_journal_erase_guest(txn, db, arg);
}

/* Count occurrences of `needle` in every value and key of the journal db. */
struct jr_scan {
	const char *needle;
	int hits;
	int entries;
};

static int jr_scan_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct jr_scan *s = arg;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	cr_assert(eq(int, mdb_cursor_open(txn, db->dbi[PF_DBI_JOURNAL], &cur), 0));
	size_t nl = strlen(s->needle);
	while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
		s->entries++;
		if (v.mv_size >= nl && memmem(v.mv_data, v.mv_size, s->needle, nl))
			s->hits++;
	}
	mdb_cursor_close(cur);
	return 0;
}

static int jr_hits(const char *needle)
{
	struct jr_scan s = { needle, 0, 0 };
	assert_ok(pf_store_read(tdb, jr_scan_txn, &s));
	return s.hits;
}

Test(journal, erase_guest_rewrites_personal_values)
{
	assert_ok(pf_rules_load(tdb, "r", JR_BOOK, strlen(JR_BOOK), NULL));
	pf_guest g = PF_GUEST_INIT;
	g.name = "Zhuang Wei";
	g.email = "zw@example.com";
	g.phone = "+853 6123 4567";
	g.loyalty_no = "LX-99812";
	g.birth_date = 19800517;
	assert_ok(pf_guest_put(tdb, &g));
	g.email = "zhuang@example.org";
	assert_ok(pf_guest_put(tdb, &g));
	pf_id other = add_guest("Bo Chen", "bo@example.com", NULL);
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "housekeeping";
	o.staff = "mei";
	o.note = "allergic to lilies of Zhuang";
	assert_ok(pf_pref_set(tdb, &g.id, "amenity.flower", "orchid-secret", &o));
	assert_ok(pf_pref_set(tdb, &g.id, "room.floor", "10", &o));
	pf_event ev = PF_EVENT_INIT;
	ev.id = "res-881";
	ev.kind = PF_EVENT_CHECK_IN;
	ev.guest = g.id;
	pf_prompt_list *pl = NULL;
	assert_ok(pf_fire(&pl, tdb, &ev));
	cr_assert(eq(sz, pl->count, 2));
	assert_ok(pf_prompt_dismiss(tdb, &pl->items[0].id, "joao", "Zhuang declined"));
	pf_prompt_list_free(pl);
	assert_ok(pf_pref_del(tdb, &g.id, "amenity.flower"));

	jr_list before = jr_read(0, &g.id);
	const char *secrets[] = { "Zhuang", "zw@example.com", "zhuang@example.org",
	                          "6123 4567", "LX-99812", "1980-05-17", "orchid-secret",
	                          "allergic", "mei", "joao" };
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		cr_assert(jr_hits(secrets[i]) > 0, "'%s' not journalled at all", secrets[i]);

	assert_ok(pf_store_write(tdb, jr_erase, &g.id));

	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		cr_assert(eq(int, jr_hits(secrets[i]), 0), "'%s' is still in the journal",
		          secrets[i]);
	/* The other guest is untouched. */
	cr_assert(eq(int, jr_hits("bo@example.com"), 1));
	cr_assert(eq(int, jr_hits("Bo Chen"), 1));

	/* Same entries, same order, ops, times, ids, refs and field names. */
	jr_list after = jr_read(0, &g.id);
	cr_assert(eq(sz, after.n, before.n));
	for (size_t i = 0; i < after.n; i++) {
		const jr_entry *x = &before.e[i], *y = &after.e[i];
		cr_assert(eq(u64, x->seq, y->seq));
		cr_assert(eq(i64, x->time, y->time));
		cr_assert(eq(str, x->op, y->op));
		cr_assert(jr_id_eq(&x->object, &y->object));
		cr_assert(jr_id_eq(&y->guest, &g.id));
		bool same_ref = (!x->ref && !y->ref) || (x->ref && y->ref && !strcmp(x->ref, y->ref));
		cr_assert(same_ref);
		cr_assert(eq(sz, x->nf, y->nf));
		for (size_t f = 0; f < y->nf; f++)
			cr_assert(eq(str, x->fname[f], y->fname[f]));
	}
	/* Spot checks of what stays and what goes. */
	const jr_entry *created = &after.e[0];
	jr_field_is(created, "name", "[erased]");
	jr_field_is(created, "email", "[erased]");
	jr_field_is(created, "consent", "profiling");        /* not personal */
	const jr_entry *upd = &after.e[1];
	jr_field_is(upd, "email.old", "[erased]");
	const jr_entry *pset = &after.e[2];
	cr_assert(eq(str, pset->actor, "housekeeping/[erased]"));
	cr_assert(eq(str, pset->ref, "amenity.flower"));
	jr_field_is(pset, "kind", "like");
	jr_field_is(pset, "note", "[erased]");
	const jr_entry *del = &after.e[after.n - 1];
	cr_assert(eq(str, del->op, "pref.del"));
	jr_field_is(del, "value", NULL);                       /* removed stays removed */
	jr_field_is(del, "value.old", "[erased]");
	jr_free(&before);
	jr_free(&after);

	cr_assert(eq(int, pf_store_write(tdb, jr_erase, &(pf_id){{0}}), PF_EINVAL));
	(void)other;
}

/* ------------------------------------------------------------ corruption */

Test(journal, corrupt_entry_is_ecorrupt_and_sticky)
{
	add_guest("Ana Lima", NULL, NULL);                       /* 1 */
	add_guest("Bo Chen", NULL, NULL);                        /* 2 */
	add_guest("Cy Dias", NULL, NULL);                        /* 3 */
	unsigned char key[8];
	pf_be64_put(key, 2);
	/* A map with an unknown field and no op. */
	const unsigned char junk[] = { 0x82, 0xa1, 'v', 0x01, 0xa3, 'z', 'z', 'z', 0x01 };
	raw_put(tdb, PF_DBI_JOURNAL, key, 8, junk, sizeof junk);

	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_iter(&it, tdb, 0, NULL));
	assert_ok(pf_journal_next(&e, it));
	cr_assert(eq(u64, e->seq, 1));
	cr_assert(eq(int, pf_journal_next(&e, it), PF_ECORRUPT));
	cr_assert(e == NULL);
	cr_assert(strstr(pf_errmsg(), "entry 2") != NULL, "%s", pf_errmsg());
	cr_assert(strstr(pf_errmsg(), "journal") != NULL, "%s", pf_errmsg());
	cr_assert(eq(int, pf_journal_next(&e, it), PF_ECORRUPT));   /* spent */
	pf_journal_iterator_free(it);

	/* Truncated msgpack, and a value that is not a map at all. */
	const unsigned char trunc[] = { 0x83, 0xa1, 'v', 0x01, 0xa4, 't', 'i' };
	raw_put(tdb, PF_DBI_JOURNAL, key, 8, trunc, sizeof trunc);
	assert_ok(pf_journal_iter(&it, tdb, 1, NULL));
	cr_assert(eq(int, pf_journal_next(&e, it), PF_ECORRUPT));
	pf_journal_iterator_free(it);

	/* Trim refuses to delete what it cannot read, and deletes nothing. */
	cr_assert(eq(int, pf_journal_trim(tdb, 3, NULL), PF_ECORRUPT));
	assert_ok(pf_journal_iter(&it, tdb, 0, NULL));
	assert_ok(pf_journal_next(&e, it));
	cr_assert(eq(u64, e->seq, 1));
	pf_journal_iterator_free(it);
}

Test(journal, dangling_guest_index_is_ecorrupt)
{
	pf_id a = add_guest("Ana Lima", NULL, NULL);             /* 1 */
	unsigned char ik[25];
	ik[0] = 'g';
	memcpy(ik + 1, a.b, 16);
	pf_be64_put(ik + 17, 40);                                /* no entry 40 */
	raw_put(tdb, PF_DBI_JOURNAL, ik, sizeof ik, "", 0);

	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	assert_ok(pf_journal_iter(&it, tdb, 0, &a));
	cr_assert(eq(int, pf_journal_next(&e, it), PF_ECORRUPT));
	cr_assert(strstr(pf_errmsg(), "40") != NULL, "%s", pf_errmsg());
	pf_journal_iterator_free(it);
	/* The unfiltered reader does not look at the index. */
	jr_list l = jr_read(0, NULL);
	cr_assert(eq(sz, l.n, 1));
	jr_free(&l);
}

Test(journal, codec_round_trip)
{
	pf_journal_field f[3] = { { "email", "a@b.c" }, { "phone", NULL }, { "note", "" } };
	pf_journal_entry in = { .seq = 9, .time = T0, .actor = "front_desk/ana",
	                        .op = "guest.put", .ref = "r1", .fields = f, .field_count = 3 };
	pf_id_parse(&in.guest, "6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5");
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_journal_encode(&sb, &in));
	pf_journal_entry out;
	assert_ok(pf_codec_journal_decode(&out, sb.data, sb.size));
	cr_assert(eq(u64, out.seq, 0));                  /* the key holds it */
	cr_assert(eq(i64, out.time, T0));
	cr_assert(eq(str, (char *)out.actor, "front_desk/ana"));
	cr_assert(eq(str, (char *)out.op, "guest.put"));
	cr_assert(eq(str, (char *)out.ref, "r1"));
	cr_assert(jr_id_eq(&out.guest, &in.guest));
	cr_assert(pf_id_is_zero(&out.object));
	cr_assert(eq(sz, out.field_count, 3));
	cr_assert(eq(str, (char *)out.fields[0].value, "a@b.c"));
	cr_assert(out.fields[1].value == NULL);
	cr_assert(eq(str, (char *)out.fields[2].value, ""));
	pf_journal_entry_clear(&out);

	/* Every prefix of the record is refused, never read past its end. */
	for (size_t n = 0; n < sb.size; n++) {
		int rc = pf_codec_journal_decode(&out, sb.data, n);
		cr_assert(eq(int, rc, PF_ECORRUPT), "prefix of %zu bytes", n);
		cr_assert(out.op == NULL);
	}
	msgpack_sbuffer_destroy(&sb);

	/* A bad op name is refused by the decoder too. */
	in.op = "Bad Op";
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_journal_encode(&sb, &in));
	cr_assert(eq(int, pf_codec_journal_decode(&out, sb.data, sb.size), PF_ECORRUPT));
	msgpack_sbuffer_destroy(&sb);
}

/* Schema 2 writes the library's operations as one-byte codes: each entry
 * a few everyday calls make carries its op as a code, and reads back as
 * the name. */
Test(journal, library_ops_are_stored_as_codes)
{
	pf_id g = add_guest("Coded Ops", "co@example.com", NULL);
	set_pref(&g, "room.floor", "9", PF_LIKE);
	assert_ok(pf_pref_del(tdb, &g, "room.floor"));
	uint64_t last = 0;
	assert_ok(pf_journal_last_seq(&last, tdb));
	cr_assert(ge(u64, last, 3));
	for (uint64_t seq = 1; seq <= last; seq++) {
		unsigned char key[8];
		pf_be64_put(key, seq);
		size_t len = 0;
		unsigned char *v = raw_get(tdb, PF_DBI_JOURNAL, key, 8, &len);
		cr_assert(v != NULL, "no journal entry %llu", (unsigned long long)seq);
		msgpack_unpacked up;
		msgpack_unpacked_init(&up);
		cr_assert(eq(int, msgpack_unpack_next(&up, (const char *)v, len, NULL),
		             MSGPACK_UNPACK_SUCCESS));
		const msgpack_object_map *m = &up.data.via.map;
		bool op_seen = false;
		for (uint32_t i = 0; i < m->size; i++) {
			cr_assert(eq(int, m->ptr[i].key.type, MSGPACK_OBJECT_POSITIVE_INTEGER),
			          "entry %llu has a named key", (unsigned long long)seq);
			if (m->ptr[i].key.via.u64 == 3) {     /* "op" */
				op_seen = true;
				cr_assert(eq(int, m->ptr[i].val.type, MSGPACK_OBJECT_POSITIVE_INTEGER),
				          "entry %llu's op is not a code", (unsigned long long)seq);
			}
		}
		cr_assert(op_seen);
		msgpack_unpacked_destroy(&up);
		free(v);
	}
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	const char *want[] = { "guest.put", "pref.set", "pref.del" };
	assert_ok(pf_journal_iter(&it, tdb, 0, NULL));
	for (int i = 0; i < 3; i++) {
		assert_ok(pf_journal_next(&e, it));
		cr_assert(e != NULL);
		cr_assert_str_eq(e->op, want[i]);
	}
	pf_journal_iterator_free(it);
}
