/* test_jetstream.c — libprofile-sync against a real nats-server of the
 * test's own (natsd.c): what pf_sync_open refuses, a server that cannot
 * be reached (PF_EIO, a clear message, nothing lost), a change at one
 * property read at another, republished and redelivered changes having
 * no effect, and messages acknowledged only after their commit. */
#include "chain_util.h"
#include "natsd.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static natsd srv;
static chain ch;
static const char *const names2[] = { "macau", "lisbon" };

static void up(void)
{
	cr_assert(eq(int, natsd_start(&srv), 0), "cannot start nats-server");
	cr_assert(eq(int, chain_open(&ch, 2, names2, NULL, srv.url, "grand"), 0), "%s", pf_errmsg());
}

static void down(void)
{
	chain_close(&ch);
	natsd_destroy(&srv);
}

TestSuite(jetstream, .init = up, .fini = down, .timeout = 60);

static pf_id put_guest(pf_db *db, const char *name, const char *email)
{
	pf_guest g = PF_GUEST_INIT;
	g.name = name;
	g.email = email;
	cr_assert(eq(int, pf_guest_put(db, &g), 0), "%s", pf_errmsg());
	return g.id;
}

static void like(pf_db *db, const pf_id *g, const char *cat, const char *val)
{
	pf_observation o = PF_OBSERVATION_INIT;
	o.department = "housekeeping";
	cr_assert(eq(int, pf_pref_set(db, g, cat, val, &o), 0), "%s", pf_errmsg());
}

static int has_guest(pf_db *db, const pf_id *id)
{
	pf_guest *g = NULL;
	int rc = pf_guest_get(&g, db, id);
	pf_guest_free(g);
	return rc == 0;
}

static void quiet(void)
{
	int passes = chain_sync_quiet(&ch, 50);
	cr_assert(gt(int, passes, 0), "sync: %s (%d)", pf_errmsg(), passes);
}

static void digests_equal(void)
{
	int which = -1;
	cr_assert(eq(int, chain_digests_equal(&ch, &which), 1), "property %d differs", which);
}

Test(jetstream, open_refuses_a_database_without_a_property_name)
{
	char dir[256];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/pfnoprop.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	pf_db *db = NULL;
	cr_assert(eq(int, pf_open(&db, dir, NULL), 0), "%s", pf_errmsg());
	pf_sync *s = (pf_sync *)1;
	cr_assert(eq(int, pf_sync_open(&s, db, srv.url, "grand", NULL), PF_EINVAL));
	cr_assert_null(s);
	cr_assert(eq(str, (char *)pf_errmsg(), "pf_sync_open: the database has no property name; "
	             "open it with pf_options.property"));
	pf_close(db);
	natsd_rm_tree(dir);
	/* And bad arguments. */
	cr_assert(eq(int, pf_sync_open(&s, ch.p[0].db, srv.url, "Grand Hotels", NULL), PF_EINVAL));
	cr_assert(strstr(pf_errmsg(), "bad chain name") != NULL, "%s", pf_errmsg());
	pf_sync_options o = PF_SYNC_OPTIONS_INIT;
	o.version = 0;
	cr_assert(eq(int, pf_sync_open(&s, ch.p[0].db, srv.url, "grand", &o), PF_EINVAL));
	cr_assert(eq(int, pf_sync_open(&s, NULL, srv.url, "grand", NULL), PF_EINVAL));
	cr_assert(eq(int, pf_sync_round(NULL, 0, NULL), PF_EINVAL));
	pf_sync_close(NULL);
}

Test(jetstream, an_unreachable_server_is_PF_EIO_and_nothing_is_lost)
{
	/* Nothing listens there: open says so. */
	char dead[64], want[160];
	natsd_dead_url(dead, sizeof dead);
	pf_sync *s = NULL;
	cr_assert(eq(int, pf_sync_open(&s, ch.p[0].db, dead, "grand", NULL), PF_EIO));
	snprintf(want, sizeof want, "pf_sync_open: cannot reach the NATS server at %s (chain grand): ", dead);
	cr_assert(eq(int, strncmp(pf_errmsg(), want, strlen(want)), 0), "%s", pf_errmsg());

	/* The server goes away after open: rounds fail, local work goes on. */
	pf_id g = put_guest(ch.p[0].db, "Chan Tai Man", "chan@example.mo");
	cr_assert(eq(int, natsd_stop(&srv), 0));
	double t0 = chain_seconds();
	pf_id g2 = put_guest(ch.p[0].db, "Ho Ka Yan", "ho@example.mo");
	like(ch.p[0].db, &g, "amenity.flower", "lily");
	cr_assert(has_guest(ch.p[0].db, &g2));
	cr_assert(lt(dbl, chain_seconds() - t0, 0.5), "local calls waited on the network");
	pf_sync_counts k;
	cr_assert(eq(int, pf_sync_round(ch.p[0].sync, 0, &k), PF_EIO));
	snprintf(want, sizeof want, "pf_sync_round: cannot reach the NATS server at %s (chain grand): ", srv.url);
	cr_assert(eq(int, strncmp(pf_errmsg(), want, strlen(want)), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), PF_EIO));
	pf_sync_stats st;
	cr_assert(eq(int, pf_sync_stats_get(ch.p[0].sync, &st), 0));
	cr_assert(eq(int, st.last_error, PF_EIO));
	cr_assert(ge(u64, st.failed_rounds, 1));

	/* Back: the next rounds catch up (the client reconnects by itself). */
	cr_assert(eq(int, natsd_restart(&srv), 0));
	int rc = PF_EIO;
	for (int i = 0; i < 100 && rc != 0; i++) {
		rc = pf_sync_round(ch.p[0].sync, 0, &k);
		if (rc != 0)
			usleep(50000);
	}
	cr_assert(eq(int, rc, 0), "%s", pf_errmsg());
	for (int i = 0; i < 100 && (rc = pf_sync_round(ch.p[1].sync, 0, &k)) != 0; i++)
		usleep(50000);
	quiet();
	cr_assert(has_guest(ch.p[1].db, &g));
	cr_assert(has_guest(ch.p[1].db, &g2));
	pf_pref *p = NULL;
	cr_assert(eq(int, pf_pref_get(&p, ch.p[1].db, &g, "amenity.flower"), 0), "%s", pf_errmsg());
	cr_assert(eq(str, (char *)p->value, "lily"));
	pf_pref_free(p);
	digests_equal();
}

Test(jetstream, a_change_at_one_property_is_read_at_another)
{
	pf_id g = put_guest(ch.p[0].db, "Chan Tai Man", "chan@example.mo");
	like(ch.p[0].db, &g, "room.floor", "10");
	cr_assert(not(has_guest(ch.p[1].db, &g)));
	pf_sync_counts k;
	cr_assert(eq(int, pf_sync_round(ch.p[0].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(ge(sz, k.pushed, 2));
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(ge(sz, k.pulled, 2));
	cr_assert(ge(sz, k.apply.applied, 2));
	pf_guest *got = NULL;
	cr_assert(eq(int, pf_guest_get(&got, ch.p[1].db, &g), 0), "%s", pf_errmsg());
	cr_assert(eq(str, (char *)got->name, "Chan Tai Man"));
	cr_assert(eq(sz, got->pref_count, 1));
	cr_assert(eq(str, (char *)got->prefs[0].value, "10"));
	pf_guest_free(got);
	/* The property's own messages come back to it and do nothing. */
	cr_assert(eq(int, pf_sync_round(ch.p[0].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(eq(sz, k.apply.own, k.pulled));
	quiet();
	digests_equal();
	pf_sync_stats st;
	cr_assert(eq(int, pf_sync_stats_get(ch.p[1].sync, &st), 0));
	cr_assert(ge(u64, st.applied, 2));
	cr_assert(eq(int, st.last_error, 0));
}

/* The same bytes again under other message ids (as a second publisher,
 * or a republish after the server's duplicate window, would send them). */
static void republish_raw(const char *subject, pf_db *db)
{
	pf_change_list *l = NULL;
	cr_assert(eq(int, pf_changes_read(&l, db, 0, PF_CHANGES_MAX), 0), "%s", pf_errmsg());
	natsConnection *nc = NULL;
	cr_assert(eq(int, natsConnection_ConnectTo(&nc, srv.url), NATS_OK));
	jsCtx *js = NULL;
	cr_assert(eq(int, natsConnection_JetStream(&js, nc, NULL), NATS_OK));
	for (size_t i = 0; i < l->count; i++) {
		jsPubOptions po;
		jsPubOptions_Init(&po);
		char id[64];
		snprintf(id, sizeof id, "again-%zu", i);
		po.MsgId = id;
		cr_assert(eq(int, js_Publish(NULL, js, subject, l->items[i].data, (int)l->items[i].len, &po, NULL),
		             NATS_OK));
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	pf_change_list_free(l);
}

Test(jetstream, republished_and_redelivered_changes_have_no_effect)
{
	pf_id g = put_guest(ch.p[0].db, "Chan Tai Man", "chan@example.mo");
	like(ch.p[0].db, &g, "room.floor", "10");
	like(ch.p[0].db, &g, "room.floor", "10");
	quiet();
	digests_equal();
	uint64_t last = 0;
	cr_assert(eq(int, pf_changes_last(&last, ch.p[0].db), 0));

	/* A republish with the same ids (the cursor lost): the server drops it. */
	cr_assert(eq(int, pf_chain_set_published(ch.p[0].db, 0), 0), "%s", pf_errmsg());
	pf_sync_counts k;
	cr_assert(eq(int, pf_sync_round(ch.p[0].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(eq(sz, k.pushed, (size_t)last));
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(eq(sz, k.pulled, 0));

	/* The same changes under new ids reach the other property, which
	 * counts them as duplicates and changes nothing. */
	republish_raw("pf.grand.macau", ch.p[0].db);
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(eq(sz, k.pulled, (size_t)last));
	cr_assert(eq(sz, k.apply.duplicates, (size_t)last));
	cr_assert(eq(sz, k.apply.applied, 0));
	quiet();
	digests_equal();
	pf_pref *p = NULL;
	cr_assert(eq(int, pf_pref_get(&p, ch.p[1].db, &g, "room.floor"), 0), "%s", pf_errmsg());
	cr_assert(eq(u32, p->count, 2));
	pf_pref_free(p);
}

Test(jetstream, messages_are_acknowledged_only_after_their_commit)
{
	pf_id g = put_guest(ch.p[0].db, "Chan Tai Man", "chan@example.mo");
	pf_sync_counts k;
	cr_assert(eq(int, pf_sync_round(ch.p[0].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), 0), "%s", pf_errmsg());
	pf_id g2 = put_guest(ch.p[0].db, "Ho Ka Yan", "ho@example.mo");
	cr_assert(eq(int, pf_sync_round(ch.p[0].sync, 0, &k), 0), "%s", pf_errmsg());

	/* Lisbon read-only: the apply fails, nothing is acknowledged. */
	cr_assert(eq(int, chain_reopen(&ch, 1, PF_OPEN_READONLY), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), PF_EREADONLY), "%s", pf_errmsg());
	cr_assert(gt(sz, k.pulled, 0));
	cr_assert(strstr(pf_errmsg(), "pf_sync_round: ") == pf_errmsg(), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), PF_EREADONLY));
	cr_assert(not(has_guest(ch.p[1].db, &g2)));

	/* Writable again: the same messages come back and apply. */
	cr_assert(eq(int, chain_reopen(&ch, 1, 0), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(ge(sz, k.apply.applied, 1));
	cr_assert(has_guest(ch.p[1].db, &g));
	cr_assert(has_guest(ch.p[1].db, &g2));
	quiet();
	digests_equal();
}

Test(jetstream, the_background_thread_carries_changes)
{
	cr_assert(eq(int, pf_sync_start(ch.p[1].sync, 0), PF_EINVAL));
	cr_assert(eq(int, pf_sync_start(ch.p[0].sync, 10), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_start(ch.p[1].sync, 10), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_start(ch.p[1].sync, 10), PF_EINVAL));
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, NULL), PF_EINVAL));
	pf_id g = put_guest(ch.p[0].db, "Chan Tai Man", "chan@example.mo");
	int seen = 0;
	for (int i = 0; i < 500 && !seen; i++) {
		seen = has_guest(ch.p[1].db, &g);
		if (!seen)
			usleep(10000);
	}
	cr_assert(seen, "the change did not arrive in 5 s");
	pf_sync_stats st;
	cr_assert(eq(int, pf_sync_stats_get(ch.p[1].sync, &st), 0));
	cr_assert(ge(u64, st.rounds, 1));
	cr_assert(ge(u64, st.applied, 1));
	cr_assert(eq(int, pf_sync_stop(ch.p[1].sync), 0));
	cr_assert(eq(int, pf_sync_stop(ch.p[1].sync), 0));
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, NULL), 0), "%s", pf_errmsg());
}

Test(jetstream, a_property_restored_from_another_reads_the_stream_again)
{
	pf_id g = put_guest(ch.p[1].db, "Ho Ka Yan", "ho@example.mo");
	pf_id g2 = put_guest(ch.p[0].db, "Chan Tai Man", "chan@example.mo");
	quiet();
	/* Lisbon makes one more change that Macau never sees, then loses its
	 * database. */
	like(ch.p[1].db, &g, "room.view", "sea");
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, NULL), 0), "%s", pf_errmsg());
	chain_disconnect(&ch, 1);
	pf_close(ch.p[1].db);
	ch.p[1].db = NULL;
	natsd_rm_tree(ch.p[1].dir);

	/* Lisbon again, from Macau's backup. */
	cr_assert(eq(int, pf_backup(ch.p[0].db, ch.p[1].dir), 0), "%s", pf_errmsg());
	cr_assert(eq(int, chain_open_unnamed(&ch, 1), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_chain_rejoin(ch.p[1].db, "lisbon"), 0), "%s", pf_errmsg());
	uint64_t epoch = 0;
	cr_assert(eq(int, pf_chain_epoch(&epoch, ch.p[1].db), 0));
	cr_assert(eq(u64, epoch, 1));
	cr_assert(eq(int, chain_connect(&ch, 1), 0), "%s", pf_errmsg());

	/* Its new consumer "lisbon_e1" starts at the stream's beginning. */
	natsConnection *nc = NULL;
	cr_assert(eq(int, natsConnection_ConnectTo(&nc, srv.url), NATS_OK));
	jsCtx *js = NULL;
	cr_assert(eq(int, natsConnection_JetStream(&js, nc, NULL), NATS_OK));
	jsConsumerInfo *ci = NULL;
	cr_assert(eq(int, js_GetConsumerInfo(&ci, js, "PF_grand", "lisbon_e1", NULL, NULL), NATS_OK));
	jsConsumerInfo_Destroy(ci);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);

	quiet();
	digests_equal();
	pf_pref *p = NULL;
	cr_assert(eq(int, pf_pref_get(&p, ch.p[1].db, &g, "room.view"), 0), "%s", pf_errmsg());
	pf_pref_free(p);
	/* And its own sequence goes on: a new change reaches Macau. */
	like(ch.p[1].db, &g2, "amenity.flower", "lily");
	quiet();
	cr_assert(eq(int, pf_pref_get(&p, ch.p[0].db, &g2, "amenity.flower"), 0), "%s", pf_errmsg());
	pf_pref_free(p);
	digests_equal();
}

/* More than one batch (1,000): the batch asked for in advance while the
 * first was being applied goes back to the server too. */
Test(jetstream, a_failed_apply_hands_back_every_batch_it_fetched)
{
	pf_id last = {{0}};
	char name[64];
	for (int i = 0; i < 2500; i++) {
		snprintf(name, sizeof name, "Guest %d", i);
		last = put_guest(ch.p[0].db, name, NULL);
	}
	pf_sync_counts k;
	cr_assert(eq(int, pf_sync_round(ch.p[0].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(eq(sz, k.pushed, 2500));
	cr_assert(eq(int, chain_reopen(&ch, 1, PF_OPEN_READONLY), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), PF_EREADONLY), "%s", pf_errmsg());
	cr_assert(eq(int, chain_reopen(&ch, 1, 0), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_round(ch.p[1].sync, 0, &k), 0), "%s", pf_errmsg());
	cr_assert(eq(sz, k.pulled, 2500));
	cr_assert(eq(sz, k.apply.applied, 2500));
	cr_assert(has_guest(ch.p[1].db, &last));
	quiet();
	digests_equal();
}

Test(jetstream, the_background_thread_rides_out_a_server_restart)
{
	cr_assert(eq(int, pf_sync_start(ch.p[0].sync, 20), 0), "%s", pf_errmsg());
	cr_assert(eq(int, pf_sync_start(ch.p[1].sync, 20), 0), "%s", pf_errmsg());
	cr_assert(eq(int, natsd_stop(&srv), 0));
	pf_id g = put_guest(ch.p[0].db, "Chan Tai Man", "chan@example.mo");
	pf_sync_stats st;
	for (int i = 0; i < 100; i++) {
		cr_assert(eq(int, pf_sync_stats_get(ch.p[0].sync, &st), 0));
		if (st.failed_rounds > 0)
			break;
		usleep(10000);
	}
	cr_assert(ge(u64, st.failed_rounds, 1), "no round failed within 1 s of the server going away");
	cr_assert(eq(int, st.last_error, PF_EIO));
	cr_assert(not(has_guest(ch.p[1].db, &g)));
	cr_assert(eq(int, natsd_restart(&srv), 0));
	int seen = 0;
	for (int i = 0; i < 1000 && !seen; i++) {
		seen = has_guest(ch.p[1].db, &g);
		if (!seen)
			usleep(10000);
	}
	cr_assert(seen, "the change did not arrive within 10 s of the restart");
	pf_sync_close(ch.p[0].sync);  /* closes a running thread too */
	ch.p[0].sync = NULL;
}
