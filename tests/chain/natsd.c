/*
 * natsd.c — start, stop and restart a test's own nats-server (natsd.h).
 */
#include "natsd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The kernel picks a free port for a socket bound to port 0. */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	socklen_t len = sizeof a;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void natsd_dead_url(char *out, size_t n)
{
	snprintf(out, n, "nats://127.0.0.1:%d", free_port());
}

static int accepts(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/* The log is appended to by every start; "ready" counts its lines. */
static int ready_count(const natsd *d)
{
	char path[300];
	snprintf(path, sizeof path, "%s/server.log", d->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "Server is ready"))
			n++;
	fclose(f);
	return n;
}

static int spawn(natsd *d)
{
	char port[16], store[300], log[300];
	snprintf(port, sizeof port, "%d", d->port);
	snprintf(store, sizeof store, "%s/store", d->dir);
	snprintf(log, sizeof log, "%s/server.log", d->dir);
	int before = ready_count(d);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "natsd: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* A test that crashes takes its server with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", port, "-sd", store,
		       (char *)NULL);
		execl("/usr/sbin/nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", port, "-sd",
		      store, (char *)NULL);
		_exit(127);
	}
	d->pid = pid;
	for (int i = 0; i < 2000; i++) {  /* 20 s */
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			d->pid = 0;
			fprintf(stderr, "natsd: nats-server exited at start (see %s)\n", log);
			return -1;
		}
		if (ready_count(d) > before && accepts(d->port))
			return 0;
		sleep_ms(10);
	}
	fprintf(stderr, "natsd: nats-server not ready after 20 s (see %s)\n", log);
	natsd_kill(d);
	return -1;
}

int natsd_start(natsd *d)
{
	memset(d, 0, sizeof *d);
	const char *tmp = getenv("TMPDIR");
	snprintf(d->dir, sizeof d->dir, "%s/pfnatsd.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(d->dir)) {
		fprintf(stderr, "natsd: mkdtemp %s: %s\n", d->dir, strerror(errno));
		return -1;
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		d->port = free_port();
		if (d->port <= 0)
			continue;
		snprintf(d->url, sizeof d->url, "nats://127.0.0.1:%d", d->port);
		if (spawn(d) == 0)
			return 0;
	}
	return -1;
}

int natsd_restart(natsd *d)
{
	if (d->pid)
		return 0;
	/* The port was ours a moment ago; retry while the old socket goes. */
	for (int attempt = 0; attempt < 50; attempt++) {
		if (spawn(d) == 0)
			return 0;
		sleep_ms(100);
	}
	return -1;
}

static int reap(natsd *d, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		int st;
		pid_t r = waitpid(d->pid, &st, WNOHANG);
		if (r == d->pid || (r < 0 && errno == ECHILD)) {
			d->pid = 0;
			return 0;
		}
		sleep_ms(10);
	}
	return -1;
}

int natsd_kill(natsd *d)
{
	if (!d->pid)
		return 0;
	kill(d->pid, SIGKILL);
	return reap(d, 10000);
}

int natsd_stop(natsd *d)
{
	if (!d->pid)
		return 0;
	kill(d->pid, SIGTERM);
	if (reap(d, 10000) == 0)
		return 0;
	return natsd_kill(d);
}

void natsd_rm_tree(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0) {
		int st;
		waitpid(pid, &st, 0);
	}
}

void natsd_destroy(natsd *d)
{
	natsd_stop(d);
	if (d->dir[0])
		natsd_rm_tree(d->dir);
	d->dir[0] = 0;
}
