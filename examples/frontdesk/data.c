/*
 * data.c — data management: `export` and `export-all`, `import`,
 * `duplicates`, `not-duplicate`, `merge` and `unmerge`, `erase`, `compact`,
 * `backup`, `verify` (in a child process), `consent` and `retention`.
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Export and bulk import                                               */
/* ------------------------------------------------------------------ */

int cmd_export(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *json = NULL;
	pf_guest *g = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
	if (status)
		return status;
	int rc = pf_guest_export_json(&json, db, &g->id);
	pf_guest_free(g);
	if (rc)
		return lib_fail(rc);
	puts(json);
	pf_string_free(json);
	return 0;
}

/* FILE.csv or FILE.jsonl (also .ndjson); --format overrides. */
static int file_format(const struct command *cmd, const char *path, const char *format,
                       int *csv)
{
	const char *dot = strrchr(path, '.');
	const char *f = format ? format : dot ? dot + 1 : "";
	if (!strcmp(f, "csv"))
		*csv = 1;
	else if (!strcmp(f, "jsonl") || !strcmp(f, "ndjson"))
		*csv = 0;
	else
		return usage_error(cmd, format ? "--format must be csv or jsonl, not '%s'" :
		                   "cannot tell the format of '%s': name it .csv or .jsonl, or "
		                   "give --format", format ? format : path);
	return 0;
}

/* A progress bar on the terminal: "[#####.....]  52%  5200/10000 rows". */
static int progress_bar(uint64_t done, uint64_t total, void *payload)
{
	(void)payload;
	char bar[31];
	unsigned pct = total ? (unsigned)(done * 100 / total) : 0;
	size_t fill = total ? (size_t)(done * 30 / total) : 0;
	for (size_t i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	if (total)
		fprintf(stderr, "\r[%s] %3u%%  %" PRIu64 "/%" PRIu64 " rows", bar, pct, done, total);
	else
		fprintf(stderr, "\r%" PRIu64 " rows", done);
	fflush(stderr);
	return 0;
}

int cmd_import(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *format = NULL, *by = NULL, *batch = NULL;
	const struct opt opts[] = {
		{"format", OPT_STR, &format}, {"by", OPT_STR, &by}, {"batch", OPT_STR, &batch},
	};
	char *pos[1];
	int csv = 0;
	uint32_t batch_size = 0;
	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the FILE"))
		return 2;
	if (file_format(cmd, pos[0], format, &csv) || parse_count(cmd, "--batch", batch, &batch_size))
		return 2;

	pf_import_options o = PF_IMPORT_OPTIONS_INIT;
	o.batch_size = batch_size;
	o.department = by;
	int bar = isatty(STDERR_FILENO);
	if (bar)
		o.progress = progress_bar;
	pf_import_report *rep = NULL;
	int rc = csv ? pf_import_csv(&rep, db, pos[0], &o) : pf_import_jsonl(&rep, db, pos[0], &o);
	if (bar)
		fputc('\n', stderr);
	if (rc)
		return lib_fail(rc);
	printf("Imported %s: %" PRIu64 " rows, %" PRIu64 " created, %" PRIu64 " updated, %"
	       PRIu64 " rejected\n", pos[0], rep->rows, rep->created, rep->updated, rep->rejected);
	if (rep->reject_count) {
		struct table t = {2, 0, NULL};
		table_row(&t, (const char *[]){"LINE", "REASON"});
		for (size_t i = 0; i < rep->reject_count; i++) {
			char line[24];
			snprintf(line, sizeof line, "%" PRIu64, rep->rejects[i].line);
			table_row(&t, (const char *[]){line, rep->rejects[i].reason});
		}
		table_print(&t, stdout, "  ");
		table_free(&t);
	}
	pf_import_report_free(rep);
	return 0;
}

int cmd_export_all(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *format = NULL;
	const struct opt opts[] = { {"format", OPT_STR, &format} };
	char *pos[1];
	int csv = 0;
	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the FILE"))
		return 2;
	if (file_format(cmd, pos[0], format, &csv))
		return 2;
	int rc = csv ? pf_export_csv(db, pos[0]) : pf_export_jsonl(db, pos[0]);
	if (rc)
		return lib_fail(rc);
	printf("Exported every guest to %s\n", pos[0]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Data management: duplicates, merge, erasure, copies, consent         */
/* ------------------------------------------------------------------ */

int cmd_duplicates(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_guest *g = NULL;
	pf_duplicate_list *l = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
	if (status)
		return status;
	int rc = pf_guest_duplicates(&l, db, &g->id);
	if (rc) {
		pf_guest_free(g);
		return lib_fail(rc);
	}
	if (l->count == 0)
		printf("No likely duplicates of %s.\n", g->name);
	else
		printf("Likely duplicates of %s:\n", g->name);
	struct table t = {6, 0, NULL};
	if (l->count)
		table_row(&t, (const char *[]){"SCORE", "ID", "NAME", "EMAIL", "PHONE", "WHY"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_duplicate *d = &l->items[i];
		char id[PF_ID_STRLEN + 1], score[8], why[96] = "";
		static const struct { unsigned int bit; const char *name; } reasons[] = {
			{PF_DUP_EMAIL, "e-mail"}, {PF_DUP_PHONE, "phone"}, {PF_DUP_LOYALTY, "loyalty no."},
			{PF_DUP_NAME_BIRTH, "name+birth date"}, {PF_DUP_SIMILAR_NAME, "similar name"},
		};
		for (size_t k = 0; k < sizeof reasons / sizeof reasons[0]; k++)
			if (d->reasons & reasons[k].bit) {
				size_t used = strlen(why);
				snprintf(why + used, sizeof why - used, "%s%s", used ? ", " : "",
				         reasons[k].name);
			}
		pf_id_format(id, &d->guest);
		snprintf(score, sizeof score, "%d", d->score);
		pf_guest *o = NULL;
		if (pf_guest_get(&o, db, &d->guest) != 0)
			o = NULL;
		table_row(&t, (const char *[]){score, id, o ? o->name : "?", o ? o->email : NULL,
		                               o ? o->phone : NULL, why});
		pf_guest_free(o);
	}
	if (l->count) {
		table_print(&t, stdout, "  ");
		printf("Merge one with `" PROG " merge KEEP DUPLICATE`, or record that they differ "
		       "with `" PROG " not-duplicate GUEST OTHER`.\n");
	}
	table_free(&t);
	pf_duplicate_list_free(l);
	pf_guest_free(g);
	return 0;
}

int cmd_not_duplicate(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_guest *a, *b;
	int status = two_guests(db, cmd, argc, argv, &a, &b);
	if (status)
		return status;
	int rc = pf_guest_not_duplicate(db, &a->id, &b->id);
	if (rc == 0)
		printf("Recorded: %s and %s are different guests.\n", a->name, b->name);
	pf_guest_free(a);
	pf_guest_free(b);
	return rc ? lib_fail(rc) : 0;
}

int cmd_merge(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_guest *keep, *dup;
	pf_id merge;
	char kid[PF_ID_STRLEN + 1], did[PF_ID_STRLEN + 1], mid[PF_ID_STRLEN + 1];
	int status = two_guests(db, cmd, argc, argv, &keep, &dup);
	if (status)
		return status;
	int rc = pf_guest_merge(&merge, db, &keep->id, &dup->id);
	if (rc == 0) {
		pf_id_format(kid, &keep->id);
		pf_id_format(did, &dup->id);
		pf_id_format(mid, &merge);
		printf("Merged %s (%s) into %s (%s).\n", did, dup->name, kid, keep->name);
		printf("Merge id %s; undo with `" PROG " unmerge %s`.\n", mid, mid);
	}
	pf_guest_free(keep);
	pf_guest_free(dup);
	return rc ? lib_fail(rc) : 0;
}

int cmd_unmerge(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_id merge;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the MERGE_ID"))
		return 2;
	if (pf_id_parse(&merge, pos[0]))
		return usage_error(cmd, "'%s' is not a merge id (a UUID, as `merge` printed it)",
		                   pos[0]);
	int rc = pf_guest_unmerge(db, &merge);
	if (rc)
		return lib_fail(rc);
	printf("Merge %s undone: both profiles are back as they were.\n", pos[0]);
	return 0;
}

int cmd_erase(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char id[PF_ID_STRLEN + 1];
	pf_guest *g = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
	if (status)
		return status;
	pf_id_format(id, &g->id);
	int rc = pf_guest_erase(db, &g->id);
	pf_guest_free(g);
	if (rc)
		return lib_fail(rc);
	printf("Erased guest %s: profile, preferences and stays removed; prompts, feedback\n"
	       "and journal entries tombstoned.  To remove the bytes from the data file too,\n"
	       "compact into a new directory and swap it in (README, \"Data management\").\n", id);
	return 0;
}

static int copy_command(pf_db *db, const struct command *cmd, int argc, char **argv,
                        int compact)
{
	char *pos[1];
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the destination DIR"))
		return 2;
	int rc = compact ? pf_compact(db, pos[0]) : pf_backup(db, pos[0]);
	if (rc)
		return lib_fail(rc);
	printf("%s %s; open it with `" PROG " -d %s ...`.\n",
	       compact ? "Compacted copy written to" : "Backup written to", pos[0], pos[0]);
	return 0;
}

int cmd_compact(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return copy_command(db, cmd, argc, argv, 1);
}

int cmd_backup(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return copy_command(db, cmd, argc, argv, 0);
}

/* ------------------------------------------------------------------ */
/* Verify                                                               */
/* ------------------------------------------------------------------ */

/* The child: open read-only, verify, write the report to `out`; exit 0
 * (clean), 1 (problems found) or 3 (could not open or walk). */
static void verify_child(FILE *out)
{
	pf_db *db = NULL;
	pf_options o = db_options;
	o.flags |= PF_OPEN_READONLY;
	int rc = pf_open(&db, db_dir, &o);
	if (rc) {
		fprintf(out, "cannot open %s: %s\n", db_dir, pf_errmsg());
		fflush(out);
		_exit(3);
	}
	pf_verify_report *rep = NULL;
	rc = pf_verify(&rep, db);
	if (rc) {
		fprintf(out, "cannot verify %s: %s\n", db_dir, pf_errmsg());
		fflush(out);
		_exit(3);
	}
	uint64_t records = 0;
	for (size_t i = 0; i < rep->database_count; i++) {
		const pf_verify_database *d = &rep->databases[i];
		records += d->records;
		fprintf(out, "  %-10s %10" PRIu64 " records  %" PRIu64 " problems\n", d->name,
		        d->records, d->problems);
	}
	for (size_t i = 0; i < rep->count; i++)
		fprintf(out, "%s: %s: %s\n", rep->items[i].database, rep->items[i].key,
		        rep->items[i].problem);
	if (rep->problems)
		fprintf(out, "%s: %" PRIu64 " problems in %" PRIu64 " records: stop writing and "
		        "restore from the latest backup\n", db_dir, (uint64_t)rep->problems, records);
	else
		fprintf(out, "%s: %" PRIu64 " records in %zu databases, no problems\n", db_dir,
		        records, rep->database_count);
	int status = rep->problems ? 1 : 0;
	pf_verify_report_free(rep);
	pf_close(db);
	fflush(out);
	_exit(status);
}

int cmd_verify(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	(void)db;
	if (parse_exactly(cmd, argc, argv, NULL, 0, NULL, 0, NULL))
		return 2;
	int p[2];
	if (pipe(p))
		return fail("cannot verify: pipe: %s", strerror(errno));
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return fail("cannot verify: fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		FILE *out = fdopen(p[1], "w");
		if (!out)
			_exit(3);
		verify_child(out);
	}
	close(p[1]);
	/* Copied through this process, so that our checked stdout sees it. */
	char buf[4096];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			fwrite(buf, 1, (size_t)n, stdout);
	close(p[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		return fail("the data file is damaged at %s: the check died on signal %d (%s): "
		            "restore from the latest backup", db_dir, WTERMSIG(st),
		            strsignal(WTERMSIG(st)));
	if (!WIFEXITED(st))
		return fail("the check of %s ended abnormally", db_dir);
	return WEXITSTATUS(st) == 0 ? 0 : 1;
}

int cmd_consent(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *by = NULL;
	const struct opt opts[] = { {"by", OPT_STR, &by} };
	char *pos[4];
	pf_guest *g = NULL;
	unsigned int consent = 0;
	int n = parse_args(cmd, argc, argv, opts, 1, pos, 4);
	if (n < 0)
		return 2;
	if (n < 2)
		return usage_error(cmd, "need GUEST and profiling, marketing or none");
	for (int i = 1; i < n; i++) {
		char word[32];
		const char *p = pos[i];
		while (*p) {
			size_t len = strcspn(p, ",");
			if (len == 0 || len >= sizeof word)
				return usage_error(cmd, "unknown consent '%s'", pos[i]);
			memcpy(word, p, len);
			word[len] = '\0';
			if (!strcmp(word, "profiling"))
				consent |= PF_CONSENT_PROFILING;
			else if (!strcmp(word, "marketing"))
				consent |= PF_CONSENT_MARKETING;
			else if (strcmp(word, "none") != 0)
				return usage_error(cmd, "unknown consent '%s' (profiling, marketing, none)",
				                   word);
			p += len + (p[len] == ',');
		}
	}
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	int rc = pf_guest_set_consent(db, &g->id, consent, by);
	if (rc == 0)
		printf("Consent of %s: %s\n", g->name, consent_text(consent));
	pf_guest_free(g);
	return rc ? lib_fail(rc) : 0;
}

int cmd_retention(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *by = NULL;
	const struct opt opts[] = { {"by", OPT_STR, &by} };
	char *pos[1];
	uint32_t days = 0;
	pf_retention_report rep;
	if (parse_exactly(cmd, argc, argv, opts, 1, pos, 1, "missing DAYS"))
		return 2;
	if (parse_count(cmd, "DAYS", pos[0], &days))
		return 2;
	int rc = pf_retention_run(&rep, db, days, by);
	if (rc)
		return lib_fail(rc);
	printf("Examined %" PRIu64 " profiles; anonymised %" PRIu64 " with no stay in the last "
	       "%" PRIu32 " days.\n", rep.examined, rep.anonymised, days);
	return 0;
}
