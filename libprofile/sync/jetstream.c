/*
 * jetstream.c — everything libprofile-sync says to the NATS server: the
 * connection and its reconnect policy, the chain's stream and this
 * property's durable pull consumer, publishing changes with their
 * Nats-Msg-Id, fetching, acknowledging.
 * May call: libnats, sync.c's error functions (sync_int.h).  Never the
 * database: sync.c hands it bytes and takes bytes back, so no LMDB
 * transaction is ever open while we wait on the network.
 */
#include "sync_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS_TO_NS(ms) ((int64_t)(ms) * 1000000)

static int timeout_ms(const pf_sync *s)
{
	return s->opts.timeout_ms > 0 ? s->opts.timeout_ms : 2000;
}

/* libnats' own detail when it has one (without its "(file.c:123): "),
 * else the status text. */
static const char *nats_text(natsStatus st)
{
	natsStatus last = NATS_OK;
	const char *t = nats_GetLastError(&last);
	if (!t || !*t || last != st)
		return natsStatus_GetText(st);
	if (t[0] == '(') {
		const char *end = strstr(t, "): ");
		if (end)
			t = end + 3;
	}
	return *t ? t : natsStatus_GetText(st);
}

static int unreachable(pf_sync *s, const char *fn, natsStatus st)
{
	return sync_fail(PF_EIO, fn, "cannot reach the NATS server at %s: %s", s->where, nats_text(st));
}

/* A JetStream API call the server answered with an error. */
static int refused(pf_sync *s, const char *fn, const char *what, natsStatus st, jsErrCode jerr)
{
	if (jerr == 0)
		return unreachable(s, fn, st);
	return sync_fail(PF_EIO, fn, "the NATS server at %s refused %s: %s (JetStream error %d)",
	                 s->where, what, nats_text(st), (int)jerr);
}

/* Asynchronous errors (slow consumer and the like) have no caller to go
 * to; libnats would otherwise print them. */
static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
	(void)nc; (void)sub; (void)err; (void)closure;
}

static void on_puback(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	pf_sync *s = closure;
	const char *id = NULL;
	if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id) {
		const char *dash = strrchr(id, '-');
		uint64_t seq = dash ? strtoull(dash + 1, NULL, 10) : 0;
		pthread_mutex_lock(&s->pub_lock);
		if (s->pub_seqs && seq) {
			size_t lo = 0, hi = s->pub_n;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (s->pub_seqs[mid] < seq)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < s->pub_n && s->pub_seqs[lo] == seq && !s->pub_acked[lo]) {
				s->pub_acked[lo] = pa ? 1 : 2;
				if (!pa && pae && s->pub_err == NATS_OK) {
					s->pub_err = pae->Err != NATS_OK ? pae->Err : NATS_ERR;
					s->pub_jerr = pae->ErrCode;
				}
				s->pub_answered++;
				pthread_cond_broadcast(&s->pub_cond);
			}
		}
		pthread_mutex_unlock(&s->pub_lock);
	}
	natsMsg_Destroy(msg);
}

int js_connect(pf_sync *s, const char *fn)
{
	natsStatus st = natsOptions_Create(&s->nopts);
	if (st == NATS_NO_MEMORY)
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	if (st != NATS_OK)
		return unreachable(s, fn, st);
	char name[PF_PROPERTY_MAX + 32];
	snprintf(name, sizeof name, "libprofile-sync %s", s->property);
	/* Reconnect forever, quickly: a server restart costs a round or two,
	 * and the rounds in between fail with PF_EIO instead of waiting. */
	st = natsOptions_SetURL(s->nopts, s->url);
	if (st == NATS_OK) st = natsOptions_SetName(s->nopts, name);
	if (st == NATS_OK) st = natsOptions_SetTimeout(s->nopts, timeout_ms(s));
	if (st == NATS_OK) st = natsOptions_SetAllowReconnect(s->nopts, true);
	if (st == NATS_OK) st = natsOptions_SetMaxReconnect(s->nopts, -1);
	if (st == NATS_OK) st = natsOptions_SetReconnectWait(s->nopts, 100);
	if (st == NATS_OK) st = natsOptions_SetReconnectJitter(s->nopts, 50, 50);
	if (st == NATS_OK) st = natsOptions_SetNoRandomize(s->nopts, true);
	if (st == NATS_OK) st = natsOptions_SetFailRequestsOnDisconnect(s->nopts, true);
	if (st == NATS_OK) st = natsOptions_SetErrorHandler(s->nopts, on_async_error, NULL);
	if (st != NATS_OK)
		return sync_fail(PF_EINVAL, fn, "bad server address %s: %s", s->where, nats_text(st));

	st = natsConnection_Connect(&s->nc, s->nopts);
	if (st != NATS_OK)
		return unreachable(s, fn, st);

	jsOptions jo;
	jsOptions_Init(&jo);
	jo.Wait = timeout_ms(s);
	jo.PublishAsync.MaxPending = SYNC_PUB_INFLIGHT;
	/* With that many in flight, a publish waits for acknowledgements to
	 * make room; as long as for any other answer, not libnats' 200 ms. */
	jo.PublishAsync.StallWait = timeout_ms(s);
	jo.PublishAsync.AckHandler = on_puback;
	jo.PublishAsync.AckHandlerClosure = s;
	st = natsConnection_JetStream(&s->js, s->nc, &jo);
	if (st == NATS_NO_MEMORY)
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	if (st != NATS_OK)
		return unreachable(s, fn, st);
	s->need_setup = 1;
	return 0;
}

int js_check_connected(pf_sync *s, const char *fn)
{
	natsConnStatus cs = natsConnection_Status(s->nc);
	if (cs == NATS_CONN_STATUS_CONNECTED)
		return 0;
	const char *why = cs == NATS_CONN_STATUS_RECONNECTING ? "disconnected, reconnecting"
	                : cs == NATS_CONN_STATUS_CLOSED ? "connection closed" : "not connected";
	return sync_fail(PF_EIO, fn, "cannot reach the NATS server at %s: %s", s->where, why);
}

static int setup_stream(pf_sync *s, const char *fn)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus st = js_GetStreamInfo(&si, s->js, s->stream, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	si = NULL;
	if (st == NATS_OK)
		return 0;
	if (st != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
		return refused(s, fn, "to describe the stream", st, jerr);

	int64_t max_age = s->opts.max_age > 0 ? s->opts.max_age : (int64_t)30 * 86400;
	const char *subjects[1] = { s->filter };
	jsStreamConfig cfg;
	jsStreamConfig_Init(&cfg);
	cfg.Name = s->stream;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Retention = js_LimitsPolicy;
	cfg.Storage = js_FileStorage;
	cfg.MaxAge = max_age * 1000000000;
	cfg.Replicas = s->opts.replicas > 0 ? s->opts.replicas : 1;
	cfg.Duplicates = (int64_t)SYNC_DUPLICATES_S * 1000000000;
	/* No Sources/Mirror: libnats 3.4.1 crashes on a source whose
	 * External->DeliverPrefix is NULL (set it to "" if ever added). */
	jerr = 0;
	st = js_AddStream(&si, s->js, &cfg, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (st == NATS_OK || jerr == JSStreamNameExistErr)  /* another property made it first */
		return 0;
	return refused(s, fn, "to create the stream", st, jerr);
}

static int setup_consumer(pf_sync *s, const char *fn)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus st = js_GetConsumerInfo(&ci, s->js, s->stream, s->durable, NULL, &jerr);
	jsConsumerInfo_Destroy(ci);
	ci = NULL;
	if (st == NATS_OK)
		return 0;
	if (st != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr)
		return refused(s, fn, "to describe the consumer", st, jerr);

	jsConsumerConfig cc;
	jsConsumerConfig_Init(&cc);
	cc.Durable = s->durable;
	cc.DeliverPolicy = js_DeliverAll;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = MS_TO_NS(SYNC_ACK_WAIT_MS);
	cc.MaxAckPending = SYNC_MAX_ACK_PENDING;
	cc.FilterSubject = s->filter;
	jerr = 0;
	st = js_AddConsumer(&ci, s->js, s->stream, &cc, NULL, &jerr);
	jsConsumerInfo_Destroy(ci);
	if (st == NATS_OK || jerr == JSConsumerNameExistErr)
		return 0;
	return refused(s, fn, "to create the consumer", st, jerr);
}

int js_setup(pf_sync *s, const char *fn)
{
	int rc = setup_stream(s, fn);
	if (rc == 0)
		rc = setup_consumer(s, fn);
	if (rc == 0 && !s->sub) {
		natsInbox *inbox = NULL;
		natsStatus st = natsInbox_Create(&inbox);
		if (st == NATS_OK) {
			snprintf(s->inbox, sizeof s->inbox, "%s", (const char *)inbox);
			natsInbox_Destroy(inbox);
			char wild[sizeof s->inbox + 4];
			snprintf(wild, sizeof wild, "%s.*", s->inbox);
			st = natsConnection_SubscribeSync(&s->sub, s->nc, wild);
		}
		if (st == NATS_OK)
			/* No limit of our own: a batch is at most SYNC_FETCH_BATCH. */
			st = natsSubscription_SetPendingLimits(s->sub, -1, -1);
		if (st != NATS_OK) {
			natsSubscription_Destroy(s->sub);
			s->sub = NULL;
			rc = unreachable(s, fn, st);
		}
	}
	if (rc == 0)
		s->need_setup = 0;
	return rc;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int js_publish(pf_sync *s, const char *fn, const pf_change *changes, size_t n, size_t *acked)
{
	*acked = 0;
	if (n == 0)
		return 0;
	uint64_t *seqs = malloc(n * sizeof *seqs);
	unsigned char *flags = calloc(n, 1);
	if (!seqs || !flags) {
		free(seqs);
		free(flags);
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		seqs[i] = changes[i].seq;

	pthread_mutex_lock(&s->pub_lock);
	s->pub_seqs = seqs;
	s->pub_acked = flags;
	s->pub_n = n;
	s->pub_answered = 0;
	s->pub_err = NATS_OK;
	s->pub_jerr = 0;
	pthread_mutex_unlock(&s->pub_lock);

	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = timeout_ms(s);
	natsStatus send_err = NATS_OK;
	size_t sent = 0;
	for (; sent < n; sent++) {
		char id[PF_PROPERTY_MAX + 24];
		snprintf(id, sizeof id, "%s-%" PRIu64, s->property, changes[sent].seq);
		natsMsg *m = NULL;
		natsStatus st = natsMsg_Create(&m, s->subject, NULL, (const char *)changes[sent].data,
		                               (int)changes[sent].len);
		if (st == NATS_OK)
			st = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
		if (st == NATS_OK)
			st = js_PublishMsgAsync(s->js, &m, &po);
		natsMsg_Destroy(m);  /* NULL once libnats took it */
		if (st != NATS_OK) {
			send_err = st;
			break;
		}
	}

	/* Every message sent is answered: acknowledged, refused, or timed out
	 * by libnats after po.MaxWait; wait a little longer than that. */
	struct timespec dl;
	deadline_after(&dl, timeout_ms(s) + 500);
	pthread_mutex_lock(&s->pub_lock);
	while (s->pub_answered < sent) {
		if (pthread_cond_timedwait(&s->pub_cond, &s->pub_lock, &dl) == ETIMEDOUT)
			break;
	}
	size_t k = 0;
	while (k < sent && flags[k] == 1)
		k++;
	natsStatus pub_err = s->pub_err;
	jsErrCode pub_jerr = s->pub_jerr;
	size_t answered = s->pub_answered;
	s->pub_seqs = NULL;
	s->pub_acked = NULL;
	s->pub_n = 0;
	pthread_mutex_unlock(&s->pub_lock);
	free(seqs);
	free(flags);

	if (answered < sent) {
		/* Take back what is still unanswered so that it does not linger;
		 * the next round publishes it again (same ids). */
		natsMsgList pending;
		if (js_PublishAsyncGetPendingList(&pending, s->js) == NATS_OK)
			natsMsgList_Destroy(&pending);
	}
	*acked = k;
	if (k == n)
		return 0;
	if (send_err == NATS_NO_MEMORY)
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	if (send_err != NATS_OK)
		return unreachable(s, fn, send_err);
	if (pub_err != NATS_OK)
		return refused(s, fn, "a change", pub_err, pub_jerr);
	return unreachable(s, fn, NATS_TIMEOUT);
}

/* A status message ("NATS/1.0 404 No Messages"): no data, a Status header. */
static const char *status_of(natsMsg *m)
{
	const char *v = NULL;
	if (natsMsg_GetDataLength(m) > 0)
		return NULL;
	if (natsMsgHeader_Get(m, "Status", &v) != NATS_OK)
		return NULL;
	return v;
}

/*
 * Our own pull request, {"batch":N,"no_wait":true} without "expires":
 * the server sends what the consumer has now and a 404 when that was
 * less than N, at once.  (libnats 3.4.1's fetch always adds "expires",
 * with which nats-server 2.9 holds the request until it expires when
 * there is nothing: every quiet round would wait out a timeout.)  Each
 * request has its own reply subject, so a late answer to an earlier one
 * never ends this one; messages it delivered are kept all the same.
 */
int js_fetch(pf_sync *s, const char *fn, int batch, natsMsgList *out)
{
	memset(out, 0, sizeof *out);
	natsMsg **msgs = calloc((size_t)batch, sizeof *msgs);
	if (!msgs)
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	char reply[sizeof s->inbox + 24], body[64];
	snprintf(reply, sizeof reply, "%s.%llu", s->inbox, (unsigned long long)++s->req_no);
	int blen = snprintf(body, sizeof body, "{\"batch\":%d,\"no_wait\":true}", batch);
	natsStatus st = natsConnection_PublishRequest(s->nc, s->next_subj, reply, body, blen);
	int count = 0, rc = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (st == NATS_OK && count < batch) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		int64_t left = timeout_ms(s) - ((int64_t)(t.tv_sec - t0.tv_sec) * 1000 +
		                                (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			st = NATS_TIMEOUT;
			break;
		}
		natsMsg *m = NULL;
		st = natsSubscription_NextMsg(&m, s->sub, left);
		if (st != NATS_OK)
			break;
		const char *status = status_of(m);
		if (!status) {
			msgs[count++] = m;
			continue;
		}
		int mine = strcmp(natsMsg_GetSubject(m), reply) == 0;
		if (mine && (strncmp(status, "404", 3) == 0 || strncmp(status, "408", 3) == 0)) {
			natsMsg_Destroy(m);
			break;    /* that was all */
		}
		if (mine && strncmp(status, "100", 3) != 0) {
			const char *desc = NULL;
			natsMsgHeader_Get(m, "Description", &desc);
			s->need_setup = 1;
			rc = sync_fail(PF_EIO, fn, "the NATS server at %s did not deliver (consumer %s): %.3s %s",
			               s->where, s->durable, status,
			               strncmp(status, "503", 3) == 0 ? "no JetStream responder" :
			               desc ? desc : "");
			natsMsg_Destroy(m);
			break;
		}
		natsMsg_Destroy(m);  /* an earlier request's end, or a heartbeat */
	}
	if (rc == 0 && st != NATS_OK) {
		s->need_setup = 1;
		rc = st == NATS_NO_MEMORY ? sync_fail(PF_ENOMEM, fn, "out of memory") : unreachable(s, fn, st);
	}
	if (rc != 0 && count > 0) {
		/* Delivered but not to be applied: the server redelivers them. */
		natsMsgList l = { msgs, count };
		natsMsgList_Destroy(&l);
		return rc;
	}
	if (count == 0) {
		free(msgs);
		return rc;
	}
	out->Msgs = msgs;
	out->Count = count;
	return 0;
}

int js_settle(pf_sync *s, const char *fn, natsMsgList *list, int ack)
{
	natsStatus first = NATS_OK;
	for (int i = 0; i < list->Count; i++) {
		const char *to = natsMsg_GetReply(list->Msgs[i]);
		if (!to)
			continue;
		natsStatus st = natsConnection_Publish(s->nc, to, ack ? "+ACK" : "-NAK", 4);
		if (st != NATS_OK && first == NATS_OK)
			first = st;
	}
	if (first == NATS_OK)
		first = natsConnection_FlushTimeout(s->nc, timeout_ms(s));
	if (first != NATS_OK)
		return unreachable(s, fn, first);
	return 0;
}

void js_close(pf_sync *s)
{
	if (s->nc && natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED)
		natsConnection_FlushTimeout(s->nc, timeout_ms(s));
	natsSubscription_Destroy(s->sub);
	s->sub = NULL;
	jsCtx_Destroy(s->js);
	s->js = NULL;
	if (s->nc)
		natsConnection_Close(s->nc);
	natsConnection_Destroy(s->nc);
	s->nc = NULL;
	natsOptions_Destroy(s->nopts);
	s->nopts = NULL;
}
