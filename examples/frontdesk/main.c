/*
 * main.c — frontdesk's entry point: the global options (-d, --property,
 * --version, -h),
 * the environment (PF_DB, PF_NOW, PF_TZ), opening the database for the
 * command, and checked output (a write that fails makes the run fail).
 *
 * Owns only argument handling and printing: every command is a thin call
 * into the public API; the commands live in the other files of this
 * directory, one file per group.  With PF_NOW set the clock is fixed, so
 * the demo and the README examples print the same times on every run.
 * There is no default database: -d DIR or PF_DB must name one.
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

#include <errno.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Global options, the environment, opening the database                */
/* ------------------------------------------------------------------ */

/* PF_TZ into opts: "+08:00" / "-05" is a fixed offset; anything else a
 * zone name.  Returns 0 or exit status 2. */
static int use_pf_tz(pf_options *opts, const char *tz_env)
{
	if (!tz_env || !tz_env[0])
		return 0;
	int h = 0, m = 0;
	size_t len = strlen(tz_env);
	if (tz_env[0] == '+' || tz_env[0] == '-') {
		if ((len != 3 && len != 6) || digits(tz_env + 1, 2, &h) || h > 18 ||
		    (len == 6 && (tz_env[3] != ':' || digits(tz_env + 4, 2, &m) || m > 59)))
			return usage_error(NULL, "PF_TZ must be a zone name or an offset like "
			                         "+08:00, not '%s'", tz_env);
		opts->utc_offset_minutes = (tz_env[0] == '-' ? -1 : 1) * (h * 60 + m);
	} else {
		opts->timezone = tz_env;
	}
	return 0;
}

const char *db_dir;
pf_options db_options;

/* Everything but the final check of the output: returns the exit status. */
static int run(int argc, char **argv)
{
	const char *dir = getenv("PF_DB");
	const char *now_env = getenv("PF_NOW");
	pf_options opts = PF_OPTIONS_INIT;
	pf_time fixed_now = 0;
	pf_db *db = NULL;
	const char *property = NULL;   /* the hotel chain's name for this property */
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf(PROG " (libprofile %s)\n", pf_version(NULL, NULL, NULL));
			return 0;
		} else if (!strcmp(argv[i], "-d")) {
			if (i + 1 == argc)
				return usage_error(NULL, "option -d needs a directory");
			dir = argv[++i];
		} else if (!strncmp(argv[i], "-d", 2) && argv[i][2]) {
			dir = argv[i] + 2;
		} else if (!strcmp(argv[i], "--property")) {
			if (i + 1 == argc)
				return usage_error(NULL, "option --property needs a name");
			property = argv[++i];
		} else if (!strncmp(argv[i], "--property=", 11)) {
			property = argv[i] + 11;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			return usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help"))
		return help(argc - i - 1, argv + i + 1);
	const struct command *cmd = find_command(argv[i]);   /* not `help`: done above */
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[i]);
	if (wants_help(argc - i - 1, argv + i + 1)) {
		command_help(cmd);
		return 0;
	}

	if (use_pf_now(&opts, &fixed_now, now_env))
		return usage_error(NULL, "PF_NOW must be like 2026-11-23T09:00:00Z or epoch "
		                         "seconds, not '%s'", now_env);
	if (use_pf_tz(&opts, getenv("PF_TZ")))
		return 2;
	opts.property = property;
	/* No default directory: a front desk that silently opened (and
	 * created) ./demo-db would record real guests in the wrong place. */
	if (!dir || !dir[0])
		return usage_error(NULL, "no database given (use -d DIR or PF_DB)");
	if (cmd->open_flags & CMD_OPENS_ITSELF) {
		db_dir = dir;
		db_options = opts;
		return cmd->run(NULL, cmd, argc - i - 1, argv + i + 1);
	}
	opts.flags = cmd->open_flags;
	int rc = pf_open(&db, dir, &opts);
	if (rc == PF_ENOTFOUND && (cmd->open_flags & PF_OPEN_READONLY))
		return fail("no database in %s yet (add a guest or load rules first)", dir);
	if (rc)
		return lib_fail(rc);
	int status = cmd->run(db, cmd, argc - i - 1, argv + i + 1);
	pf_close(db);
	return status;
}

/* ------------------------------------------------------------------ */
/* Checked output                                                       */
/* ------------------------------------------------------------------ */

/* Output that could not be written (a full disk, `> /dev/full`, a file
 * system gone away) is a failure: the caller would otherwise take a
 * partial or empty listing for the whole answer.  stdout is replaced by a
 * stream whose every write(2) is checked here, so that the reason of the
 * first failure is kept however much the command goes on printing (stdio
 * itself keeps only the fact, and errno is long overwritten by the time
 * the command returns).  Replacing stdout is documented glibc behaviour. */
static int out_errno;          /* errno of the first failed write, 0 if none */
static int out_used;           /* something was written (or tried) */

static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	(void)cookie;
	size_t done = 0;
	out_used = 1;
	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!out_errno)
				out_errno = n < 0 ? errno : EIO;
			break;      /* a short count marks the stream's error */
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int out_close(void *cookie)
{
	(void)cookie;
	/* Some file systems report a failed write only at close.  EBADF with
	 * nothing written: stdout was closed and the command printed nothing,
	 * which is no failure. */
	if (close(STDOUT_FILENO) != 0 && (out_used || errno != EBADF)) {
		if (!out_errno)
			out_errno = errno;
		return -1;
	}
	return 0;
}

static void checked_stdout(void)
{
	cookie_io_functions_t io = {NULL, out_write, NULL, out_close};
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		die_nomem();
	/* The buffering stdio would give stdout: by line on a terminal, so
	 * that output and messages on stderr come in order there. */
	if (setvbuf(f, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ))
		die_nomem();
	stdout = f;
}

/* Flush and close stdout; on a failure say so.  Returns the exit status:
 * `status`, or 1 if that was 0 and output (or a message) was lost. */
static int finish_output(int status)
{
	int failed = ferror(stdout) != 0;
	if (fclose(stdout) != 0)
		failed = 1;
	if (failed) {
		fprintf(stderr, PROG ": cannot write output: %s\n",
		        strerror(out_errno ? out_errno : EIO));
		if (!status)
			status = 1;
	}
	/* stderr is unbuffered, so there is nothing left to flush; but a
	 * message that could not be written means the run did not go as
	 * planned either. */
	if (ferror(stderr) && !status)
		status = 1;
	return status;
}

int main(int argc, char **argv)
{
	checked_stdout();
	return finish_output(run(argc, argv));
}
