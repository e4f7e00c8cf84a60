/*
 * follow.c — pf_sync_start/pf_sync_stop: rounds in a background thread.
 * The thread looks at this property's last change sequence number every
 * few milliseconds (one short read transaction) and runs a round as soon
 * as there is something new to publish; every interval it runs one to
 * pull.  A failed round (server away) waits for the next interval.
 * May call: sync.c (sync_round), the core's public API.
 */
#include "sync_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* How often the thread looks for new local changes, at most. */
#define FOLLOW_TICK_MS 2

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *follow_main(void *arg)
{
	pf_sync *s = arg;
	int64_t next_pull = 0, retry_at = 0;
	uint64_t published = 0;
	int know_published = 0;
	for (;;) {
		pthread_mutex_lock(&s->follow_lock);
		int stopping = s->stopping, interval = s->interval_ms;
		pthread_mutex_unlock(&s->follow_lock);
		if (stopping)
			break;

		int64_t t = now_ms();
		int due = t >= next_pull;
		int fresh = 0;
		if (!know_published)
			know_published = pf_chain_published(&published, s->db) == 0;
		uint64_t last = 0;
		if (know_published && pf_changes_last(&last, s->db) == 0 && last > published)
			fresh = t >= retry_at;
		int busy = 0;
		if (due || fresh) {
			pf_sync_counts c;
			int rc = sync_round(s, "pf_sync_start", 0, &c);
			next_pull = now_ms() + interval;
			know_published = 0;
			if (rc != 0)
				retry_at = next_pull;
			else
				busy = c.pulled > 0 || c.pushed > 0;  /* more may wait: look again now */
		}
		if (busy)
			continue;

		int wait = FOLLOW_TICK_MS < interval ? FOLLOW_TICK_MS : interval;
		struct timespec dl;
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += (long)wait * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&s->follow_lock);
		while (!s->stopping) {
			if (pthread_cond_timedwait(&s->follow_cond, &s->follow_lock, &dl) == ETIMEDOUT)
				break;
		}
		pthread_mutex_unlock(&s->follow_lock);
	}
	return NULL;
}

int pf_sync_start(pf_sync *s, int interval_ms)
{
	static const char fn[] = "pf_sync_start";
	if (!s)
		return sync_fail(PF_EINVAL, fn, "NULL argument");
	if (interval_ms < 1 || interval_ms > 60000)
		return sync_fail(PF_EINVAL, fn, "interval_ms %d is out of range (1 to 60000)", interval_ms);
	pthread_mutex_lock(&s->follow_lock);
	if (s->running) {
		pthread_mutex_unlock(&s->follow_lock);
		return sync_fail(PF_EINVAL, fn, "the background thread already runs");
	}
	s->interval_ms = interval_ms;
	s->stopping = 0;
	int rc = pthread_create(&s->thread, NULL, follow_main, s);
	if (rc == 0)
		s->running = 1;
	pthread_mutex_unlock(&s->follow_lock);
	if (rc != 0)
		return sync_fail(PF_ENOMEM, fn, "cannot start the thread: %s", strerror(rc));
	return 0;
}

void follow_stop(pf_sync *s)
{
	pthread_mutex_lock(&s->follow_lock);
	if (!s->running) {
		pthread_mutex_unlock(&s->follow_lock);
		return;
	}
	s->stopping = 1;
	pthread_cond_broadcast(&s->follow_cond);
	pthread_mutex_unlock(&s->follow_lock);
	pthread_join(s->thread, NULL);
	pthread_mutex_lock(&s->follow_lock);
	s->running = 0;
	s->stopping = 0;
	pthread_mutex_unlock(&s->follow_lock);
}

int pf_sync_stop(pf_sync *s)
{
	if (!s)
		return sync_fail(PF_EINVAL, "pf_sync_stop", "NULL argument");
	follow_stop(s);
	return 0;
}
