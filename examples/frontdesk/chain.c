/*
 * chain.c — the hotel-chain commands: `sync` (one round of libprofile-sync
 * with a NATS server, or rounds in the background until SIGINT/SIGTERM
 * with --follow) and `digest` (the shared state's digest, to compare two
 * properties).  The property's name is the global --property option
 * (main.c), stored by the first writable open that gives it.
 *
 * May call: the public API (libprofile.h, libprofile_sync.h), cli.h and
 * frontdesk.h.
 */
#include "frontdesk.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

#include "libprofile_sync.h"

/* A whole number of milliseconds from 1 to `max`; NULL leaves *out alone.
 * Returns 0 or exit status 2. */
static int parse_ms(const struct command *cmd, const char *what, const char *s, int max,
                    int *out)
{
	uint32_t v = 0;
	if (!s)
		return 0;
	if (parse_uint32(s, &v) || v < 1 || v > (uint32_t)max)
		return usage_error(cmd, "%s must be milliseconds from 1 to %d, not '%s'", what,
		                   max, s);
	*out = (int)v;
	return 0;
}

static void print_counts(const pf_sync_counts *c)
{
	const pf_apply_report *a = &c->apply;
	printf("pushed %zu, pulled %zu, applied %zu (duplicates %zu, own %zu, waiting %zu, "
	       "refused %zu, discarded %zu)\n", c->pushed, c->pulled, a->applied,
	       a->duplicates, a->own, a->waiting, a->refused, a->discarded);
}

static void print_stats(const char *when, const pf_sync_stats *st)
{
	printf("%s: rounds %" PRIu64 " (failed %" PRIu64 "), pushed %" PRIu64 ", pulled %" PRIu64
	       ", applied %" PRIu64 "%s%s\n", when, st->rounds, st->failed_rounds, st->pushed,
	       st->pulled, st->applied, st->last_error ? "; last failure: " : "",
	       st->last_error ? pf_strerror(st->last_error) : "");
	fflush(stdout);
}

/* pf_sync_open failed: the library's message, and for a database without
 * a property name what to type instead. */
static int open_failed(pf_db *db, int rc)
{
	lib_fail(rc);
	const char *name = NULL;
	if (rc == PF_EINVAL && pf_property(&name, db) == 0 && !name)
		fputs(PROG ": this database has no property name: give it one with "
		      "'" PROG " -d DIR --property NAME sync ...'\n", stderr);
	return 1;
}

/* --follow: rounds in the library's thread until SIGINT or SIGTERM.  The
 * signals are blocked before the thread starts (it inherits the mask) and
 * taken here with sigtimedwait, so they never interrupt a round; between
 * them the totals are printed whenever they change. */
static int follow(pf_sync *s, int interval_ms)
{
	sigset_t sigs, old;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &sigs, &old))
		return fail("cannot block SIGINT and SIGTERM");
	int status = 0;
	int rc = pf_sync_start(s, interval_ms);
	if (rc) {
		status = lib_fail(rc);
		goto out;
	}
	printf("syncing every %d ms; stop with Ctrl-C (SIGINT) or SIGTERM\n", interval_ms);
	fflush(stdout);
	pf_sync_stats last = {0}, st;
	struct timespec wait = {interval_ms / 1000, (long)(interval_ms % 1000) * 1000000L};
	for (;;) {
		int sig = sigtimedwait(&sigs, NULL, &wait);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			status = fail("waiting for a signal: %s", strerror(errno));
			break;
		}
		if (pf_sync_stats_get(s, &st) == 0 &&
		    (st.pushed != last.pushed || st.pulled != last.pulled ||
		     st.applied != last.applied || st.failed_rounds != last.failed_rounds)) {
			print_stats("so far", &st);
			last = st;
		}
	}
	if ((rc = pf_sync_stop(s)) && !status)
		status = lib_fail(rc);
	if (pf_sync_stats_get(s, &st) == 0)
		print_stats("stopped", &st);
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return status;
}

int cmd_sync(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *url = NULL, *chain = NULL, *interval = NULL, *timeout = NULL, *max = NULL;
	int follow_flag = 0;
	const struct opt opts[] = {
		{"nats", OPT_STR, &url}, {"chain", OPT_STR, &chain},
		{"follow", OPT_FLAG, &follow_flag}, {"interval", OPT_STR, &interval},
		{"timeout", OPT_STR, &timeout}, {"max", OPT_STR, &max},
	};
	char *pos[1];
	pf_sync_options so = PF_SYNC_OPTIONS_INIT;
	int interval_ms = 1000;
	uint32_t max_n = 0;

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0,
	                  "sync takes no arguments besides its options"))
		return 2;
	if (!url || !chain)
		return usage_error(cmd, "need --nats URL and --chain NAME");
	if (parse_ms(cmd, "--interval", interval, 60000, &interval_ms) ||
	    parse_ms(cmd, "--timeout", timeout, 3600000, &so.timeout_ms) ||
	    parse_count(cmd, "--max", max, &max_n))
		return 2;
	if (follow_flag && max)
		return usage_error(cmd, "--max is for one round, not with --follow");
	if (!follow_flag && interval)
		return usage_error(cmd, "--interval is for --follow");

	pf_sync *s = NULL;
	int rc = pf_sync_open(&s, db, url, chain, &so);
	if (rc)
		return open_failed(db, rc);
	int status = 0;
	if (follow_flag) {
		status = follow(s, interval_ms);
	} else {
		pf_sync_counts c;
		if ((rc = pf_sync_round(s, max_n, &c)))
			status = lib_fail(rc);
		else
			print_counts(&c);
	}
	pf_sync_close(s);
	return status;
}

int cmd_digest(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	unsigned char d[PF_DIGEST_SIZE];

	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 0, "digest takes no arguments"))
		return 2;
	int rc = pf_digest(d, db);
	if (rc)
		return lib_fail(rc);
	for (size_t i = 0; i < sizeof d; i++)
		printf("%02x", d[i]);
	putchar('\n');
	return 0;
}
