/*
 * natsd.h — a nats-server of the test's own: JetStream on, listening on a
 * free loopback port only (127.0.0.1), its store in a temporary
 * directory; stopped by its pid, restarted on the same port and store.
 * Used by tests/chain (Criterion suites, the long run) and
 * tests/bench/chain.  Never contacts any other address.
 */
#ifndef PF_TEST_NATSD_H
#define PF_TEST_NATSD_H

#include <sys/types.h>

typedef struct natsd {
	pid_t pid;                /* 0 while stopped */
	int port;
	char dir[256];            /* $TMPDIR/pfnatsd.XXXXXX: store/ and server.log */
	char url[64];             /* nats://127.0.0.1:<port> */
} natsd;

/** Choose a free port, make the directory, start the server and wait
 *  until it is ready (it printed "Server is ready" and accepts).
 *  0 or -1 (the reason on stderr). */
int natsd_start(natsd *d);
/** Start it again on the same port and store (after natsd_stop). */
int natsd_restart(natsd *d);
/** SIGTERM, wait for it to exit (SIGKILL after 10 s).  0 when stopped. */
int natsd_stop(natsd *d);
/** SIGKILL: a crash, no clean shutdown. */
int natsd_kill(natsd *d);
/** Stop it if it runs and remove its directory. */
void natsd_destroy(natsd *d);
/** A loopback URL on which nothing listens (a free port, not bound). */
void natsd_dead_url(char *out, size_t n);

/* rm -rf path (the server's store, a test's databases), waited for. */
void natsd_rm_tree(const char *path);

#endif
