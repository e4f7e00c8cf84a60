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

/* libnats' own detail when it has one, else the status text. */
static const char *nats_text(natsStatus st)
{
	natsStatus last = NATS_OK;
	const char *t = nats_GetLastError(&last);
	if (t && *t && last == st)
		return t;
	return natsStatus_GetText(st);
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
		jsSubOptions so;
		jsSubOptions_Init(&so);
		so.Stream = s->stream;
		so.Consumer = s->durable;
		jsErrCode jerr = 0;
		natsStatus st = js_PullSubscribe(&s->sub, s->js, s->filter, s->durable, NULL, &so, &jerr);
		if (st != NATS_OK) {
			s->sub = NULL;
			rc = refused(s, fn, "the pull subscription", st, jerr);
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

int js_fetch(pf_sync *s, const char *fn, int batch, natsMsgList *out)
{
	memset(out, 0, sizeof *out);
	jsFetchRequest req;
	jsFetchRequest_Init(&req);
	req.Batch = batch;
	req.NoWait = true;     /* what the stream holds now: never wait for more */
	req.Expires = MS_TO_NS(timeout_ms(s));
	natsStatus st = natsSubscription_FetchRequest(out, s->sub, &req);
	if (st == NATS_OK)
		return 0;
	memset(out, 0, sizeof *out);
	if (st == NATS_NOT_FOUND)  /* 404: nothing for us */
		return 0;
	if (st == NATS_NO_MEMORY)
		return sync_fail(PF_ENOMEM, fn, "out of memory");
	s->need_setup = 1;
	return unreachable(s, fn, st);
}

int js_settle(pf_sync *s, const char *fn, natsMsgList *list, int ack)
{
	natsStatus first = NATS_OK;
	for (int i = 0; i < list->Count; i++) {
		natsStatus st = ack ? natsMsg_Ack(list->Msgs[i], NULL) : natsMsg_Nak(list->Msgs[i], NULL);
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
	/* Destroy, never Unsubscribe: the durable consumer stays on the
	 * server with its position. */
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
