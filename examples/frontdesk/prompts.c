/*
 * prompts.c — the prompt commands: `prompts` (a department's work list),
 * `overdue`, `ack`, `done` and `dismiss`, and print_prompts, the table that
 * the event commands print too.
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

/* ------------------------------------------------------------------ */
/* Printing prompts                                                     */
/* ------------------------------------------------------------------ */

/* Work-list order: due, then priority, then creation (seq).  The library
 * promises due and priority; seq settles ties so that the same scene
 * prints the same list every time. */
static int by_due(const void *a, const void *b)
{
	const pf_prompt *x = *(const pf_prompt *const *)a, *y = *(const pf_prompt *const *)b;
	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print the prompts in list order, or in work-list order if `sorted`. */
void print_prompts(pf_db *db, const pf_prompt_list *l, int sorted, unsigned cols,
                   const char *indent)
{
	static const struct { unsigned col; const char *title; } heads[] = {
		{COL_ID, "ID"}, {COL_DEPT, "DEPARTMENT"}, {COL_DUE, "DUE (UTC)"},
		{COL_LATE, "LATE BY"}, {COL_PRIO, "PRIORITY"}, {COL_STATUS, "STATUS"},
		{COL_GUEST, "GUEST"}, {COL_TEXT, "TEXT"},
	};
	const size_t nheads = sizeof heads / sizeof heads[0];
	struct table t = {0, 0, NULL};
	struct name_cache names = {0, NULL, NULL};
	const char *row[TABLE_MAXCOLS];
	pf_time now = pf_now(db);

	for (size_t h = 0; h < nheads; h++)
		if (cols & heads[h].col)
			row[t.ncols++] = heads[h].title;
	table_row(&t, row);
	const pf_prompt **order = malloc((l->count ? l->count : 1) * sizeof *order);
	if (!order)
		die_nomem();
	for (size_t i = 0; i < l->count; i++)
		order[i] = &l->items[i];
	if (sorted)
		qsort(order, l->count, sizeof *order, by_due);
	for (size_t i = 0; i < l->count; i++) {
		const pf_prompt *p = order[i];
		char idbuf[PF_ID_STRLEN + 1], due[32], late[32];
		size_t n = 0;
		const char *id = short_id(idbuf, &p->id);
		format_time(due, p->due);
		format_span(late, now - p->due);
		if (cols & COL_ID) row[n++] = id;
		if (cols & COL_DEPT) row[n++] = p->department;
		if (cols & COL_DUE) row[n++] = due;
		if (cols & COL_LATE) row[n++] = late;
		if (cols & COL_PRIO) row[n++] = pf_priority_name(p->priority);
		if (cols & COL_STATUS) row[n++] = pf_prompt_status_name(p->status);
		if (cols & COL_GUEST) row[n++] = guest_name(&names, db, &p->guest);
		if (cols & COL_TEXT) row[n++] = p->text;
		table_row(&t, row);
	}
	table_print(&t, stdout, indent);
	table_free(&t);
	name_cache_free(&names);
	free(order);
}

/* ------------------------------------------------------------------ */
/* Work lists and the prompt lifecycle                                  */
/* ------------------------------------------------------------------ */

int cmd_prompts(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_prompt_list *l = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1,
	                  "missing the department (front_desk, housekeeping, ...)"))
		return 2;
	int rc = pf_prompts_pending(&l, db, pos[0]);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0)
		printf("%s: nothing open\n", pos[0]);
	else
		print_prompts(db, l, 1, COL_ID | COL_DUE | COL_PRIO | COL_STATUS | COL_GUEST | COL_TEXT,
		              "");
	pf_prompt_list_free(l);
	return 0;
}

int cmd_overdue(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_prompt_list *l = NULL;
	char now[32];
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 1);
	if (n < 0)
		return 2;
	int rc = pf_prompts_overdue(&l, db, n ? pos[0] : NULL, 0);
	if (rc)
		return lib_fail(rc);
	format_time(now, pf_now(db));
	if (l->count == 0)
		printf("Nothing overdue at %s UTC.\n", now);
	else {
		printf("Overdue at %s UTC: %zu prompt%s\n", now, l->count, l->count == 1 ? "" : "s");
		print_prompts(db, l, 1, COL_ID | (n ? 0 : COL_DEPT) | COL_DUE | COL_LATE |
		              COL_PRIO | COL_STATUS | COL_GUEST | COL_TEXT, "");
	}
	pf_prompt_list_free(l);
	return 0;
}

enum action { ACT_ACK, ACT_DONE, ACT_DISMISS };

static int act(pf_db *db, const struct command *cmd, int argc, char **argv, enum action what)
{
	char *pos[3];
	int want = what == ACT_DISMISS ? 3 : 2;
	pf_id id;
	pf_prompt *p = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, want,
	                  what == ACT_DISMISS ? "need PROMPT, STAFF and REASON"
	                                      : "need PROMPT and STAFF"))
		return 2;
	int status = resolve_short_id(&id, db, pos[0], ID_PROMPT);
	if (status)
		return status;
	int rc = what == ACT_ACK ? pf_prompt_ack(db, &id, pos[1])
	       : what == ACT_DONE ? pf_prompt_done(db, &id, pos[1])
	       : pf_prompt_dismiss(db, &id, pos[1], pos[2]);
	if (rc == 0)
		rc = pf_prompt_get(&p, db, &id);
	if (rc)
		return lib_fail(rc);
	char idbuf[PF_ID_STRLEN + 1];
	printf("%s %s (%s) by %s: %s\n", short_id(idbuf, &p->id), pf_prompt_status_name(p->status),
	       p->department,
	       pos[1], p->text);
	if (p->dismiss_reason && p->dismiss_reason[0])
		printf("%*s reason: %s\n", SHORT_ID, "", p->dismiss_reason);
	pf_prompt_free(p);
	return 0;
}

int cmd_ack(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return act(db, cmd, argc, argv, ACT_ACK);
}

int cmd_done(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return act(db, cmd, argc, argv, ACT_DONE);
}

int cmd_dismiss(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return act(db, cmd, argc, argv, ACT_DISMISS);
}
