/*
 * feedback.c — complaints, compliments and suggestions (`complaint`,
 * `compliment`, `suggestion`), their lifecycle (`feedback`, `update`,
 * `resolve`, `followup`) and the service-quality `report`.  Times are shown
 * in the hotel's time zone (PF_TZ) where a column says "local".
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

/* "HH:MM YYYY-MM-DD" in the hotel's time zone (pf_options / PF_TZ). */
static void format_local(char buf[32], pf_db *db, pf_time t)
{
	int off = 0;
	pf_utc_offset(&off, db, t);
	format_time(buf, t + off);
}

/* The day after a valid pf_date. */
pf_date date_next(pf_date d)
{
	int y = (int)(d / 10000), m = (int)(d / 100 % 100), day = (int)(d % 100);
	pf_date out;
	if (pf_date_make(&out, y, m, day + 1) == 0)
		return out;
	if (pf_date_make(&out, y, m + 1, 1) == 0)
		return out;
	pf_date_make(&out, y + 1, 1, 1);
	return out;
}

/* "CAT=VALUE" for --need / --dislike. */
static int split_pref(const struct command *cmd, const char *opt, const char *s, char *cat,
                      size_t cap, const char **value)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s || !eq[1] || (size_t)(eq - s) >= cap)
		return usage_error(cmd, "--%s needs CATEGORY=VALUE, not '%s'", opt, s);
	memcpy(cat, s, (size_t)(eq - s));
	cat[eq - s] = '\0';
	*value = eq + 1;
	return 0;
}

static int record_feedback(pf_db *db, const struct command *cmd, int argc, char **argv,
                           pf_feedback_kind kind)
{
	const char *by = NULL, *sev = NULL, *stay = NULL, *need = NULL, *dislike = NULL;
	const struct opt opts[] = {
		{"by", OPT_STR, &by}, {"severity", OPT_STR, &sev}, {"stay", OPT_STR, &stay},
		{"need", OPT_STR, &need}, {"dislike", OPT_STR, &dislike},
	};
	char *pos[4], cat[PF_CATEGORY_MAX + 1];
	pf_feedback f = PF_FEEDBACK_INIT;
	pf_pref learn;
	pf_guest *g = NULL;
	uint32_t severity = 1;

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 4,
	                  "need GUEST DEPT CATEGORY TEXT"))
		return 2;
	if (!by)
		return usage_error(cmd, "say who recorded it with --by STAFF");
	if (need && dislike)
		return usage_error(cmd, "--need and --dislike exclude each other");
	if (parse_count(cmd, "--severity", sev, &severity) ||
	    parse_date_opt(cmd, "--stay", stay, &f.stay))
		return 2;
	memset(&learn, 0, sizeof learn);
	if (need || dislike) {
		int st = split_pref(cmd, need ? "need" : "dislike", need ? need : dislike, cat,
		                    sizeof cat, &learn.value);
		if (st)
			return st;
		learn.category = cat;
		learn.kind = need ? PF_NEED : PF_DISLIKE;
	}
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	f.guest = g->id;
	f.kind = kind;
	f.department = pos[1];
	f.category = pos[2];
	f.text = pos[3];
	/* The library says what is wrong with a bad one. */
	f.severity = severity > 1000000 ? 1000000 : (int)severity;
	f.recorded_by = by;
	int rc = pf_feedback_add(db, &f, need || dislike ? &learn : NULL);
	if (rc) {
		pf_guest_free(g);
		return lib_fail(rc);
	}
	char id[PF_ID_STRLEN + 1], due[32], due_utc[32];
	pf_id_format(id, &f.id);
	printf("%s %s recorded for %s\n", pf_feedback_kind_name(kind), id, g->name);
	if (kind == PF_FEEDBACK_COMPLAINT) {
		int off = 0;
		pf_utc_offset(&off, db, f.due);
		format_local(due, db, f.due);
		format_time(due_utc, f.due);
		printf("  due by %s hotel time%s%s%s: prompts sent to %s%s\n", due,
		       off ? " (" : "", off ? due_utc : "", off ? " UTC)" : "",
		       f.department, strcmp(f.department, "management") ? " and management" : "");
	}
	if (need || dislike)
		printf("  learnt: %s %s = %s\n", pf_pref_kind_name(learn.kind), learn.category,
		       learn.value);
	pf_guest_free(g);
	return 0;
}

int cmd_complaint(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return record_feedback(db, cmd, argc, argv, PF_FEEDBACK_COMPLAINT);
}

int cmd_compliment(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return record_feedback(db, cmd, argc, argv, PF_FEEDBACK_COMPLIMENT);
}

int cmd_suggestion(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return record_feedback(db, cmd, argc, argv, PF_FEEDBACK_SUGGESTION);
}

int cmd_feedback(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *st = NULL;
	const struct opt opts[] = { {"status", OPT_STR, &st} };
	char *pos[1];
	pf_guest *g = NULL;
	pf_feedback_list *l = NULL;
	pf_feedback_status status = PF_FEEDBACK_OPEN;
	struct name_cache names = {0, NULL, NULL};

	int n = parse_args(cmd, argc, argv, opts, 1, pos, 1);
	if (n < 0)
		return 2;
	if (st && pf_feedback_status_parse(&status, st))
		return usage_error(cmd, "--status is open, in_progress, resolved or "
		                        "closed_unresolved, not '%s'", st);
	if (n == 1) {
		int s = resolve_guest(&g, db, pos[0]);
		if (s)
			return s;
	}
	pf_feedback_query q = PF_FEEDBACK_QUERY_INIT;
	if (st)
		q.status = (int)status;
	int rc = pf_feedback_list_get(&l, db, g ? &g->id : NULL, &q);
	pf_guest_free(g);
	if (rc)
		return lib_fail(rc);
	struct table t = {10, 0, NULL};
	table_row(&t, (const char *[]){"ID", "RECORDED (local)", "GUEST", "KIND", "DEPARTMENT",
	                               "CATEGORY", "STATUS", "DUE (local)", "FOLLOW-UP", "TEXT"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_feedback *f = &l->items[i];
		char idbuf[PF_ID_STRLEN + 1], at[32], due[32], kind[24];
		const char *id = short_id(idbuf, &f->id);
		format_local(at, db, f->recorded_at);
		if (f->due)
			format_local(due, db, f->due);
		else
			due[0] = '\0';
		if (f->kind == PF_FEEDBACK_COMPLAINT)
			snprintf(kind, sizeof kind, "complaint (sev %d)", f->severity);
		else
			snprintf(kind, sizeof kind, "%s", pf_feedback_kind_name(f->kind));
		table_row(&t, (const char *[]){id, at, guest_name(&names, db, &f->guest), kind,
		                               f->department, f->category,
		                               pf_feedback_status_name(f->status), due,
		                               f->outcome ? pf_outcome_name(f->outcome) : NULL,
		                               f->text});
	}
	if (l->count == 0)
		printf("  (no feedback)\n");
	else
		table_print(&t, stdout, "  ");
	table_free(&t);
	name_cache_free(&names);
	pf_feedback_list_free(l);
	return 0;
}

int cmd_resolve(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[3];
	pf_id id;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 3, "need FEEDBACK STAFF RESOLUTION"))
		return 2;
	int status = resolve_short_id(&id, db, pos[0], ID_FEEDBACK);
	if (status)
		return status;
	int rc = pf_feedback_resolve(db, &id, pos[1], pos[2]);
	if (rc)
		return lib_fail(rc);
	pf_feedback *f = NULL;
	pf_prompt *p = NULL;
	if ((rc = pf_feedback_get(&f, db, &id)))
		return lib_fail(rc);
	char when[32], due[32];
	format_local(when, db, f->resolved_at);
	printf("resolved at %s hotel time%s\n", when,
	       f->kind == PF_FEEDBACK_COMPLAINT ? (f->resolved_at <= f->due ?
	                                            " (within the sunset rule)" :
	                                            " (after its due time)") : "");
	if (!pf_id_is_zero(&f->followup_prompt) && pf_prompt_get(&p, db, &f->followup_prompt) == 0) {
		format_local(due, db, p->due);
		printf("  follow-up for %s, due %s hotel time: %s\n", p->department, due, p->text);
	}
	pf_prompt_free(p);
	pf_feedback_free(f);
	return 0;
}

int cmd_update(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[4];
	pf_id id;
	pf_feedback_status to;
	int n = parse_args(cmd, argc, argv, NULL, 0, pos, 4);
	if (n < 0)
		return 2;
	if (n < 3)
		return usage_error(cmd, "need FEEDBACK STATUS STAFF [NOTE]");
	if (pf_feedback_status_parse(&to, pos[1]))
		return usage_error(cmd, "STATUS is in_progress or closed_unresolved, not '%s'",
		                   pos[1]);
	int status = resolve_short_id(&id, db, pos[0], ID_FEEDBACK);
	if (status)
		return status;
	int rc = pf_feedback_update(db, &id, to, pos[2], n == 4 ? pos[3] : NULL);
	if (rc)
		return lib_fail(rc);
	char idt[PF_ID_STRLEN + 1];
	printf("feedback %s is now %s\n", short_id(idt, &id), pf_feedback_status_name(to));
	return 0;
}

int cmd_followup(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[3];
	pf_id id;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 3,
	                  "need FEEDBACK STAFF satisfied|not_satisfied"))
		return 2;
	pf_outcome o;
	if (!strcmp(pos[2], "satisfied"))
		o = PF_OUTCOME_SATISFIED;
	else if (!strcmp(pos[2], "not_satisfied"))
		o = PF_OUTCOME_NOT_SATISFIED;
	else
		return usage_error(cmd, "the outcome is satisfied or not_satisfied, not '%s'",
		                   pos[2]);
	int status = resolve_short_id(&id, db, pos[0], ID_FEEDBACK);
	if (status)
		return status;
	int rc = pf_feedback_followup(db, &id, pos[1], o);
	if (rc)
		return lib_fail(rc);
	printf("follow-up recorded: %s%s\n", pf_outcome_name(o),
	       o == PF_OUTCOME_NOT_SATISFIED ? " (marked on the guest's profile)" : "");
	return 0;
}

static void format_rate(char buf[16], double r)
{
	if (r < 0)
		snprintf(buf, 16, "-");
	else
		snprintf(buf, 16, "%.0f%%", r * 100.0);
}

int cmd_report(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *from_s = NULL, *to_s = NULL, *html = NULL;
	const struct opt opts[] = { {"from", OPT_STR, &from_s}, {"to", OPT_STR, &to_s},
	                            {"html", OPT_STR, &html} };
	pf_date from_d = 0, to_d = 0;
	pf_time from = 0, to = 0;
	pf_quality_report *r = NULL;

	int n = parse_args(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0);
	if (n < 0)
		return 2;
	if (!from_s || !to_s)
		return usage_error(cmd, "need --from and --to");
	if (parse_date_opt(cmd, "--from", from_s, &from_d) ||
	    parse_date_opt(cmd, "--to", to_s, &to_d))
		return 2;
	if (to_d < from_d)
		return usage_error(cmd, "--to is before --from");
	int rc = pf_day_start(&from, db, from_d);
	if (!rc)
		rc = pf_day_start(&to, db, date_next(to_d));   /* --to is included */
	if (!rc)
		rc = pf_quality_report_get(&r, db, from, to);
	if (rc)
		return lib_fail(rc);

	printf("Service quality %s to %s (hotel days), %" PRIu32 " stay%s arriving\n", from_s,
	       to_s, r->stays, r->stays == 1 ? "" : "s");
	struct table t = {7, 0, NULL};
	printf("\nPrompts\n");
	table_row(&t, (const char *[]){"DEPARTMENT", "MADE", "ON TIME", "LATE", "NEVER DONE",
	                               "NOT YET DUE", "OMISSION"});
	for (size_t i = 0; i <= r->count; i++) {
		const pf_quality_row *w = i < r->count ? &r->departments[i] : &r->overall;
		if (w->prompts == 0 && i < r->count)
			continue;
		char c[5][16], rate[16];
		snprintf(c[0], 16, "%" PRIu32, w->prompts);
		snprintf(c[1], 16, "%" PRIu32, w->done_on_time);
		snprintf(c[2], 16, "%" PRIu32, w->done_late);
		snprintf(c[3], 16, "%" PRIu32, w->never_done);
		snprintf(c[4], 16, "%" PRIu32, w->not_yet_due);
		format_rate(rate, w->omission_rate);
		table_row(&t, (const char *[]){w->department ? w->department : "ALL", c[0], c[1],
		                               c[2], c[3], c[4], rate});
	}
	table_print(&t, stdout, "  ");
	table_free(&t);

	printf("\nComplaints\n");
	t = (struct table){9, 0, NULL};
	table_row(&t, (const char *[]){"DEPARTMENT", "COMPLAINTS", "PER 100 STAYS",
	                               "BY SUNSET", "MEDIAN FIX", "UNRESOLVED", "FOLLOW-UPS",
	                               "NOT SATISFIED", "PRAISE/IDEAS"});
	for (size_t i = 0; i <= r->count; i++) {
		const pf_quality_row *w = i < r->count ? &r->departments[i] : &r->overall;
		if (i < r->count && !w->complaints && !w->compliments && !w->suggestions)
			continue;
		char c[9][32];
		snprintf(c[0], 32, "%" PRIu32, w->complaints);
		if (w->per_100_stays < 0)
			snprintf(c[1], 32, "-");
		else
			snprintf(c[1], 32, "%.1f", w->per_100_stays);
		format_rate(c[2], w->on_time_rate);
		if (w->median_resolve_seconds < 0)
			snprintf(c[3], 32, "-");
		else
			format_span(c[3], w->median_resolve_seconds);
		format_rate(c[4], w->unresolved_rate);
		snprintf(c[5], 32, "%" PRIu32, w->followups);
		format_rate(c[6], w->dissatisfaction_rate);
		snprintf(c[7], 32, "%" PRIu32 "/%" PRIu32, w->compliments, w->suggestions);
		table_row(&t, (const char *[]){w->department ? w->department : "ALL", c[0], c[1],
		                               c[2], c[3], c[4], c[5], c[6], c[7]});
	}
	table_print(&t, stdout, "  ");
	table_free(&t);
	printf("\nOMISSION: never done / judged (done or past due).  BY SUNSET: resolved by\n"
	       "the end of the business day.  UNRESOLVED and NOT SATISFIED: shares of the\n"
	       "complaints and of the follow-up calls.\n");
	int status = 0;
	if (html) {
		status = report_html(db, html, from_d, to_d, r);
		if (!status)
			printf("\nDashboard written to %s\n", html);
	}
	pf_quality_report_free(r);
	return status;
}
