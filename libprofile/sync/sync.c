/*
 * sync.c — the replicator: pf_sync_open, pf_sync_round, pf_sync_stats_get,
 * pf_sync_close, and the error messages of the whole library.
 * A round: this property's unpublished changes from the core's change
 * feed (pf_chain_published, pf_changes_read) out to the stream, the
 * cursor moved to the last one the server acknowledged
 * (pf_chain_set_published); then the stream's messages in, applied in one
 * pf_changes_apply() per batch, acknowledged after it committed.
 * May call: the core's public API, jetstream.c, follow.c (sync_int.h).
 */
#include "sync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The message goes where the core's go (pf_errmsg_set). */
static void errmsg_write(const char *text)
{
	pf_errmsg_set(text);
}

int sync_fail(int code, const char *fn, const char *fmt, ...)
{
	char text[SYNC_ERRMSG_CAP];
	int n = snprintf(text, sizeof text, "%s: ", fn);
	if (n > 0 && (size_t)n < sizeof text) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
		va_end(ap);
	}
	errmsg_write(text);
	return code;
}

int sync_fail_core(int code, const char *fn)
{
	char core[SYNC_ERRMSG_CAP];
	snprintf(core, sizeof core, "%s", pf_errmsg());
	return sync_fail(code, fn, "%s", core[0] ? core : pf_strerror(code));
}

static int chain_name_ok(const char *c)
{
	size_t n = strlen(c);
	if (n == 0 || n > PF_CHAIN_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = c[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

/* The address for messages: "nats://user:secret@host" loses "user:secret@". */
static void describe(pf_sync *s)
{
	const char *u = s->url, *scheme = strstr(u, "://");
	const char *host = scheme ? scheme + 3 : u;
	const char *end = host + strcspn(host, "/,");
	const char *at = memchr(host, '@', (size_t)(end - host));
	if (at)
		snprintf(s->where, sizeof s->where, "%.*s%s (chain %s)", (int)(host - u), u, at + 1, s->chain);
	else
		snprintf(s->where, sizeof s->where, "%s (chain %s)", u, s->chain);
}

static void sync_free(pf_sync *s)
{
	js_close(s);
	pthread_mutex_destroy(&s->pub_lock);
	pthread_cond_destroy(&s->pub_cond);
	pthread_mutex_destroy(&s->stats_lock);
	pthread_mutex_destroy(&s->follow_lock);
	pthread_cond_destroy(&s->follow_cond);
	free(s);
}

static int monotonic_cond(pthread_cond_t *c)
{
	pthread_condattr_t a;
	if (pthread_condattr_init(&a) != 0)
		return -1;
	int rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

int pf_sync_open(pf_sync **out, pf_db *db, const char *url, const char *chain,
                 const pf_sync_options *opts)
{
	static const char fn[] = "pf_sync_open";
	if (out)
		*out = NULL;
	if (!out || !db || !url || !chain)
		return sync_fail(PF_EINVAL, fn, "NULL argument");
	if (!chain_name_ok(chain))
		return sync_fail(PF_EINVAL, fn, "bad chain name (1 to %d bytes of a-z, 0-9, '-' and '_')",
		                 PF_CHAIN_NAME_MAX);
	if (!*url || strlen(url) >= sizeof ((pf_sync *)0)->url)
		return sync_fail(PF_EINVAL, fn, "bad server address (empty or longer than %zu bytes)",
		                 sizeof ((pf_sync *)0)->url - 1);
	pf_sync_options o = PF_SYNC_OPTIONS_INIT;
	if (opts) {
		if (opts->version != PF_SYNC_OPTIONS_VERSION)
			return sync_fail(PF_EINVAL, fn, "unknown pf_sync_options version %u (expected %d)",
			                 opts->version, PF_SYNC_OPTIONS_VERSION);
		o = *opts;
	}
	if (o.max_age < 0 || o.timeout_ms < 0 || o.replicas < 0 || o.replicas > 5)
		return sync_fail(PF_EINVAL, fn, "bad options: max_age and timeout_ms must not be negative, "
		                 "replicas 0 to 5");

	const char *property = NULL;
	int rc = pf_property(&property, db);
	if (rc != 0)
		return sync_fail_core(rc, fn);
	if (!property)
		return sync_fail(PF_EINVAL, fn, "the database has no property name; open it with "
		                 "pf_options.property");
	uint64_t epoch = 0;
	rc = pf_chain_epoch(&epoch, db);
	if (rc != 0)
		return sync_fail_core(rc, fn);

	pf_sync *s = calloc(1, sizeof *s);
	if (!s)
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	if (pthread_mutex_init(&s->pub_lock, NULL) || monotonic_cond(&s->pub_cond) ||
	    pthread_mutex_init(&s->stats_lock, NULL) || pthread_mutex_init(&s->follow_lock, NULL) ||
	    monotonic_cond(&s->follow_cond)) {
		free(s);  /* glibc's init of these never fails; nothing to destroy */
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	}
	s->db = db;
	s->opts = o;
	snprintf(s->url, sizeof s->url, "%s", url);
	snprintf(s->chain, sizeof s->chain, "%s", chain);
	snprintf(s->property, sizeof s->property, "%s", property);
	snprintf(s->stream, sizeof s->stream, "PF_%s", chain);
	snprintf(s->filter, sizeof s->filter, "pf.%s.>", chain);
	snprintf(s->subject, sizeof s->subject, "pf.%s.%s", chain, property);
	if (epoch > 0)
		snprintf(s->durable, sizeof s->durable, "%s_e%llu", property, (unsigned long long)epoch);
	else
		snprintf(s->durable, sizeof s->durable, "%s", property);
	snprintf(s->next_subj, sizeof s->next_subj, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", s->stream, s->durable);
	describe(s);

	rc = js_connect(s, fn);
	if (rc == 0)
		rc = js_setup(s, fn);
	if (rc != 0) {
		sync_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static void add_report(pf_apply_report *to, const pf_apply_report *r)
{
	to->applied += r->applied;
	to->duplicates += r->duplicates;
	to->discarded += r->discarded;
	to->refused += r->refused;
	to->own += r->own;
	to->waiting += r->waiting;
}

static int push(pf_sync *s, const char *fn, size_t max, pf_sync_counts *c)
{
	uint64_t published = 0;
	int rc = pf_chain_published(&published, s->db);
	if (rc != 0)
		return sync_fail_core(rc, fn);
	size_t left = max;
	while (left > 0) {
		pf_change_list *list = NULL;
		rc = pf_changes_read(&list, s->db, published, left < PF_CHANGES_MAX ? left : PF_CHANGES_MAX);
		if (rc != 0)
			return sync_fail_core(rc, fn);
		size_t n = list->count;
		if (n == 0) {
			pf_change_list_free(list);
			return 0;
		}
		size_t acked = 0;
		rc = js_publish(s, fn, list->items, n, &acked);
		uint64_t last = acked ? list->items[acked - 1].seq : 0;
		pf_change_list_free(list);
		if (acked) {
			/* Moved even when the rest failed: what the server has is
			 * published, the rest goes next round. */
			int rc2 = pf_chain_set_published(s->db, last);
			if (rc2 != 0 && rc == 0)
				rc = sync_fail_core(rc2, fn);
			if (rc2 == 0)
				published = last;
			c->pushed += acked;
		}
		if (rc != 0)
			return rc;
		left -= n;
		if (n < PF_CHANGES_MAX)
			return 0;
	}
	return 0;
}

/* Apply one fetched batch and settle it (acknowledged after the commit,
 * handed back if it failed); frees the list. */
static int apply_batch(pf_sync *s, const char *fn, natsMsgList *ml, pf_sync_counts *c)
{
	c->pulled += (size_t)ml->Count;
	pf_change *ch = malloc((size_t)ml->Count * sizeof *ch);
	if (!ch) {
		js_settle(s, fn, ml, 0);
		natsMsgList_Destroy(ml);
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	}
	size_t n = 0;
	for (int i = 0; i < ml->Count; i++) {
		const unsigned char *d = (const unsigned char *)natsMsg_GetData(ml->Msgs[i]);
		size_t len = (size_t)natsMsg_GetDataLength(ml->Msgs[i]);
		char origin[PF_PROPERTY_MAX + 1];
		uint64_t seq = 0;
		/* Something on our subjects that is not a change (another
		 * program's message) is acknowledged and never applied: it can
		 * never become one. */
		if (pf_change_origin(origin, &seq, d, len) != 0)
			continue;
		ch[n].seq = seq;
		ch[n].data = d;
		ch[n].len = len;
		n++;
	}
	pf_apply_report rep;
	memset(&rep, 0, sizeof rep);
	int rc = n ? pf_changes_apply(s->db, ch, n, &rep) : 0;
	free(ch);
	if (rc != 0) {
		rc = sync_fail_core(rc, fn);
		/* Not applied: handed back to the server for the next round. */
		char keep[SYNC_ERRMSG_CAP];
		snprintf(keep, sizeof keep, "%s", pf_errmsg());
		js_settle(s, fn, ml, 0);
		errmsg_write(keep);
		natsMsgList_Destroy(ml);
		return rc;
	}
	add_report(&c->apply, &rep);
	/* Committed: from now on a redelivery is a duplicate, so a lost
	 * acknowledgement costs nothing but a second look. */
	rc = js_settle(s, fn, ml, 1);
	natsMsgList_Destroy(ml);
	return rc;
}

/* Batches until the consumer has no more or `max` were fetched.  The
 * next batch is asked for before this one is applied, so the server
 * delivers it while the core commits. */
static int pull(pf_sync *s, const char *fn, size_t max, pf_sync_counts *c)
{
	size_t left = max;
	int batch = left < SYNC_FETCH_BATCH ? (int)left : SYNC_FETCH_BATCH;
	char reply[SYNC_REPLY_MAX], next_reply[SYNC_REPLY_MAX];
	int rc = js_fetch_ask(s, fn, batch, reply);
	while (rc == 0) {
		natsMsgList ml;
		rc = js_fetch_take(s, fn, batch, reply, &ml);
		if (rc != 0 || ml.Count == 0)
			return rc;
		int got = ml.Count;
		left -= (size_t)got;
		int next = got == batch && left > 0 ? (left < SYNC_FETCH_BATCH ? (int)left : SYNC_FETCH_BATCH) : 0;
		int asked = next ? js_fetch_ask(s, fn, next, next_reply) : -1;
		rc = apply_batch(s, fn, &ml, c);
		if (rc != 0) {
			if (asked == 0) {
				/* The batch asked for in advance goes back too. */
				char keep[SYNC_ERRMSG_CAP];
				snprintf(keep, sizeof keep, "%s", pf_errmsg());
				natsMsgList nl;
				if (js_fetch_take(s, fn, next, next_reply, &nl) == 0 && nl.Count > 0) {
					js_settle(s, fn, &nl, 0);
					natsMsgList_Destroy(&nl);
				}
				errmsg_write(keep);
			}
			return rc;
		}
		if (!next)
			return 0;
		if (asked != 0)
			return asked;
		batch = next;
		memcpy(reply, next_reply, sizeof reply);
	}
	return rc;
}

int sync_round(pf_sync *s, const char *fn, size_t max, pf_sync_counts *counts)
{
	pf_sync_counts c;
	memset(&c, 0, sizeof c);
	if (max == 0 || max > PF_CHANGES_MAX)
		max = PF_CHANGES_MAX;
	int rc = js_check_connected(s, fn);
	if (rc == 0 && s->need_setup)
		rc = js_setup(s, fn);
	if (rc == 0)
		rc = push(s, fn, max, &c);
	if (rc == 0)
		rc = pull(s, fn, max, &c);
	if (rc == PF_EIO)
		s->need_setup = 1;

	pthread_mutex_lock(&s->stats_lock);
	s->stats.rounds++;
	s->stats.pushed += c.pushed;
	s->stats.pulled += c.pulled;
	s->stats.applied += c.apply.applied;
	if (rc != 0) {
		s->stats.failed_rounds++;
		s->stats.last_error = rc;
	}
	pthread_mutex_unlock(&s->stats_lock);
	if (counts)
		*counts = c;
	return rc;
}

int pf_sync_round(pf_sync *s, size_t max, pf_sync_counts *counts)
{
	static const char fn[] = "pf_sync_round";
	if (counts)
		memset(counts, 0, sizeof *counts);
	if (!s)
		return sync_fail(PF_EINVAL, fn, "NULL argument");
	pthread_mutex_lock(&s->follow_lock);
	int running = s->running;
	pthread_mutex_unlock(&s->follow_lock);
	if (running)
		return sync_fail(PF_EINVAL, fn, "the background thread runs (pf_sync_start): "
		                 "call pf_sync_stop first");
	return sync_round(s, fn, max, counts);
}

int pf_sync_stats_get(pf_sync *s, pf_sync_stats *out)
{
	if (!s || !out)
		return sync_fail(PF_EINVAL, "pf_sync_stats_get", "NULL argument");
	pthread_mutex_lock(&s->stats_lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->stats_lock);
	return 0;
}

void pf_sync_close(pf_sync *s)
{
	if (!s)
		return;
	follow_stop(s);
	sync_free(s);
}
