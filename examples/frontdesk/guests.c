/*
 * guests.c — the guest commands: `add`, `find`, `show`, `pref`, `unpref`,
 * `stay`, and `history` (a guest's journal).
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

/* ------------------------------------------------------------------ */
/* Guests, preferences, stays                                           */
/* ------------------------------------------------------------------ */

int cmd_add(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *email = NULL, *phone = NULL, *lang = NULL, *loyalty = NULL, *tier = NULL,
	           *birth = NULL, *country = NULL;
	struct strlist tags = {0, {0}};
	int no_profiling = 0;
	const struct opt opts[] = {
		{"email", OPT_STR, &email}, {"phone", OPT_STR, &phone}, {"lang", OPT_STR, &lang},
		{"loyalty", OPT_STR, &loyalty}, {"tier", OPT_STR, &tier}, {"tag", OPT_LIST, &tags},
		{"birth", OPT_STR, &birth}, {"no-profiling", OPT_FLAG, &no_profiling},
		{"country", OPT_STR, &country},
	};
	char *pos[1];
	pf_guest g = PF_GUEST_INIT;
	char id[PF_ID_STRLEN + 1];

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the guest's NAME"))
		return 2;
	if (tier && pf_tier_parse(&g.tier, tier))
		return usage_error(cmd, "unknown tier '%s' (none, silver, gold, platinum, vip)", tier);
	if (parse_date_opt(cmd, "--birth", birth, &g.birth_date))
		return 2;
	g.name = pos[0];
	g.email = email;
	g.phone = phone;
	g.language = lang;
	g.country = country;
	g.loyalty_no = loyalty;
	g.tags = tags.v;
	g.tag_count = tags.n;
	g.consent = no_profiling ? 0 : PF_CONSENT_PROFILING;

	int rc = pf_guest_put(db, &g);
	if (rc)
		return lib_fail(rc);
	pf_id_format(id, &g.id);
	printf("Added %s  %s%s\n", id, g.name, no_profiling ? "  (no profiling consent)" : "");
	return 0;
}

int cmd_find(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[1];
	pf_guest_list *l = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the QUERY"))
		return 2;
	int rc = pf_guest_find(&l, db, pos[0]);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0)
		printf("No guest matches '%s'.\n", pos[0]);
	else
		print_guest_rows(stdout, l);
	if (l->truncated)
		printf("More than %zu guests match; refine the search.\n", l->count);
	pf_guest_list_free(l);
	return 0;
}

/* What a guest agreed to, as `show` and `consent` print it. */
const char *consent_text(unsigned int consent)
{
	if (consent & PF_CONSENT_PROFILING)
		return consent & PF_CONSENT_MARKETING ? "profiling, marketing" : "profiling";
	return consent & PF_CONSENT_MARKETING ? "marketing only (no profiling)"
	                                      : "none (no profiling)";
}

static void show_profile(const pf_guest *g)
{
	char id[PF_ID_STRLEN + 1], birth[16], created[32], updated[32], stays[16], tags[1024] = "";
	struct table t = {2, 0, NULL};

	pf_id_format(id, &g->id);
	format_date(birth, g->birth_date);
	format_time(created, g->created);
	format_time(updated, g->updated);
	snprintf(stays, sizeof stays, "%" PRIu32, g->stays);
	for (size_t i = 0; i < g->tag_count; i++) {
		size_t used = strlen(tags);
		snprintf(tags + used, sizeof tags - used, "%s%s", i ? ", " : "", g->tags[i]);
	}
	printf("%s\n", g->name);
	table_row(&t, (const char *[]){"id", id});
	table_row(&t, (const char *[]){"email", g->email});
	table_row(&t, (const char *[]){"phone", g->phone});
	table_row(&t, (const char *[]){"language", g->language});
	table_row(&t, (const char *[]){"country", g->country});
	table_row(&t, (const char *[]){"loyalty no.", g->loyalty_no});
	if (g->external_id)   /* only for imported guests: other output unchanged */
		table_row(&t, (const char *[]){"external id", g->external_id});
	table_row(&t, (const char *[]){"tier", g->tier ? pf_tier_name(g->tier) : NULL});
	table_row(&t, (const char *[]){"tags", tags});
	table_row(&t, (const char *[]){"birth date", birth});
	table_row(&t, (const char *[]){"consent", consent_text(g->consent)});
	table_row(&t, (const char *[]){"stays", stays});
	char complaints[64] = "", unsat[32] = "";
	if (g->complaints_total)
		snprintf(complaints, sizeof complaints, "%" PRIu32 " open of %" PRIu32,
		         g->complaints_open, g->complaints_total);
	if (g->not_satisfied_at)
		format_time(unsat, g->not_satisfied_at);
	table_row(&t, (const char *[]){"complaints", complaints});
	if (g->not_satisfied_at)
		table_row(&t, (const char *[]){"not satisfied", unsat});
	table_row(&t, (const char *[]){"created", created});
	table_row(&t, (const char *[]){"updated", updated});
	table_print(&t, stdout, "  ");
	table_free(&t);
}

static void show_prefs(const pf_guest *g)
{
	struct table t = {6, 0, NULL};
	printf("\nPreferences (%zu)\n", g->pref_count);
	if (g->pref_count == 0) {
		printf("  none recorded\n");
		return;
	}
	table_row(&t, (const char *[]){"CATEGORY", "VALUE", "KIND", "COUNT", "OBSERVED BY", "NOTE"});
	for (size_t i = 0; i < g->pref_count; i++) {
		const pf_pref *p = &g->prefs[i];
		char count[16], by[2 * PF_FIELD_MAX + 4];
		snprintf(count, sizeof count, "%" PRIu32, p->count);
		if (p->staff && p->staff[0])
			snprintf(by, sizeof by, "%s (%s)", p->department, p->staff);
		else
			snprintf(by, sizeof by, "%s", p->department ? p->department : "");
		table_row(&t, (const char *[]){p->category, p->value, pf_pref_kind_name(p->kind),
		                               count, by, p->note});
	}
	table_print(&t, stdout, "  ");
	table_free(&t);
}

static int show_stays(pf_db *db, const pf_guest *g)
{
	pf_stay_list *l = NULL;
	struct table t = {6, 0, NULL};
	int rc = pf_stay_list_get(&l, db, &g->id);
	if (rc)
		return lib_fail(rc);
	printf("\nStays (%zu)\n", l->count);
	if (l->count == 0)
		printf("  none recorded\n");
	else
		table_row(&t, (const char *[]){"ARRIVAL", "DEPARTURE", "NIGHTS", "ROOM", "PROPERTY",
		                               "PARTY"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_stay *s = &l->items[i];
		char arr[16], dep[16], nights[24], party[16] = "";
		format_date(arr, s->arrival);
		format_date(dep, s->departure);
		snprintf(nights, sizeof nights, "%" PRId64,
		         s->arrival > 0 && s->departure > 0
		             ? date_days(s->departure) - date_days(s->arrival) : 0);
		if (s->party)
			snprintf(party, sizeof party, "%" PRIu32, s->party);
		table_row(&t, (const char *[]){arr, dep, nights, s->room, s->property, party});
	}
	if (l->count)
		table_print(&t, stdout, "  ");
	table_free(&t);
	pf_stay_list_free(l);
	return 0;
}

int cmd_show(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_guest *g = NULL;
	int status = one_guest(db, cmd, argc, argv, &g);
	if (status)
		return status;
	show_profile(g);
	show_prefs(g);
	status = show_stays(db, g);
	pf_guest_free(g);
	return status;
}

int cmd_pref(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *by = NULL, *staff = NULL, *note = NULL;
	int dislike = 0, need = 0;
	const struct opt opts[] = {
		{"by", OPT_STR, &by}, {"staff", OPT_STR, &staff}, {"note", OPT_STR, &note},
		{"dislike", OPT_FLAG, &dislike}, {"need", OPT_FLAG, &need},
	};
	char *pos[3];
	pf_guest *g = NULL;
	pf_pref *p = NULL;
	pf_observation obs = PF_OBSERVATION_INIT;

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 3,
	                  "need GUEST, CATEGORY and VALUE"))
		return 2;
	if (!by)
		return usage_error(cmd, "say which department observed it with --by DEPT");
	if (dislike && need)
		return usage_error(cmd, "a preference is either --dislike or --need, not both");
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	obs.kind = need ? PF_NEED : dislike ? PF_DISLIKE : PF_LIKE;
	obs.department = by;
	obs.staff = staff;
	obs.note = note;
	int rc = pf_pref_set(db, &g->id, pos[1], pos[2], &obs);
	if (rc == 0)
		rc = pf_pref_get(&p, db, &g->id, pos[1]);
	if (rc) {
		status = lib_fail(rc);
	} else {
		printf("%s: %s = %s (%s, observed by %s", g->name, p->category, p->value,
		       pf_pref_kind_name(p->kind), p->department);
		if (p->staff && p->staff[0])
			printf(", staff %s", p->staff);
		if (p->count > 1)
			printf(", seen %" PRIu32 " times", p->count);
		printf(")\n");
	}
	pf_pref_free(p);
	pf_guest_free(g);
	return status;
}

int cmd_unpref(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	char *pos[2];
	pf_guest *g = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 2, "need GUEST and CATEGORY"))
		return 2;
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	int rc = pf_pref_del(db, &g->id, pos[1]);
	if (rc)
		status = lib_fail(rc);
	else
		printf("%s: removed %s\n", g->name, pos[1]);
	pf_guest_free(g);
	return status;
}

int cmd_stay(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *room = NULL, *property = NULL, *party = NULL;
	const struct opt opts[] = {
		{"room", OPT_STR, &room}, {"property", OPT_STR, &property}, {"party", OPT_STR, &party},
	};
	char *pos[3];
	pf_guest *g = NULL;
	pf_stay s = PF_STAY_INIT;

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 3,
	                  "need GUEST, ARRIVAL and DEPARTURE"))
		return 2;
	if (parse_date_opt(cmd, "ARRIVAL", pos[1], &s.arrival) ||
	    parse_date_opt(cmd, "DEPARTURE", pos[2], &s.departure) ||
	    parse_count(cmd, "--party", party, &s.party))
		return 2;
	int status = resolve_guest(&g, db, pos[0]);
	if (status)
		return status;
	s.guest = g->id;
	s.room = room;
	s.property = property;
	int rc = pf_stay_add(db, &s);
	if (rc)
		status = lib_fail(rc);
	else
		printf("%s: stay %s to %s recorded (%" PRId64 " nights%s%s)\n", g->name, pos[1], pos[2],
		       date_days(s.departure) - date_days(s.arrival), room ? ", room " : "",
		       room ? room : "");
	pf_guest_free(g);
	return status;
}

/* ------------------------------------------------------------------ */
/* history: a guest's journal                                           */
/* ------------------------------------------------------------------ */

/* Append to a growing string; aborts on OOM like the rest of the CLI. */
static void str_add(char **s, size_t *len, const char *add)
{
	size_t n = strlen(add);
	char *g = realloc(*s, *len + n + 1);
	if (!g)
		die_nomem();
	memcpy(g + *len, add, n + 1);
	*s = g;
	*len += n;
}

/* "name=value, email=old -> new, phone=old -> (none)": a field and its
 * "FIELD.old" companion are shown together. */
static char *history_fields(const pf_journal_entry *e)
{
	char *s = NULL;
	size_t len = 0;
	str_add(&s, &len, "");
	for (size_t i = 0; i < e->field_count; i++) {
		const pf_journal_field *f = &e->fields[i];
		size_t nl = strlen(f->name);
		if (nl > 4 && !strcmp(f->name + nl - 4, ".old"))
			continue;
		const pf_journal_field *old = NULL;
		for (size_t j = 0; j < e->field_count && !old; j++)
			if (!strncmp(e->fields[j].name, f->name, nl) &&
			    !strcmp(e->fields[j].name + nl, ".old") && strlen(e->fields[j].name) == nl + 4)
				old = &e->fields[j];
		if (len)
			str_add(&s, &len, ", ");
		str_add(&s, &len, f->name);
		str_add(&s, &len, "=");
		if (old) {
			str_add(&s, &len, old->value ? old->value : "(none)");
			str_add(&s, &len, " -> ");
		}
		str_add(&s, &len, f->value ? f->value : "(none)");
	}
	return s;
}

int cmd_history(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	const char *since_opt = NULL;
	const struct opt opts[] = { {"since", OPT_STR, &since_opt} };
	char *pos[1], idtext[PF_ID_STRLEN + 1];
	pf_guest *g = NULL;
	pf_journal_iterator *it = NULL;
	const pf_journal_entry *e = NULL;
	struct table t = {7, 0, NULL};
	uint64_t since = 0;
	pf_id id;
	int rc, status = 0;

	if (parse_exactly(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
	                  "missing the GUEST"))
		return 2;
	if (since_opt) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(since_opt, &end, 10);
		if (!since_opt[0] || *end || errno || since_opt[0] == '-')
			return usage_error(cmd, "--since must be a sequence number, not '%s'", since_opt);
		since = v;
	}
	/* A full id works for an erased guest too: its tombstones remain. */
	if (pf_id_parse(&id, pos[0]) != 0) {
		if ((status = resolve_guest(&g, db, pos[0])))
			return status;
		id = g->id;
	} else if (pf_guest_get(&g, db, &id) != 0) {
		g = NULL;
	}
	pf_id_format(idtext, &id);
	rc = pf_journal_iter(&it, db, since, &id);
	if (rc) {
		status = lib_fail(rc);
		goto out;
	}
	table_row(&t, (const char *[]){"SEQ", "TIME", "ACTOR", "OP", "OBJECT", "REF", "CHANGES"});
	while ((rc = pf_journal_next(&e, it)) == 0) {
		char seq[24], when[32], objbuf[PF_ID_STRLEN + 1];
		snprintf(seq, sizeof seq, "%" PRIu64, e->seq);
		format_time(when, e->time);
		const char *object = short_id(objbuf, &e->object);   /* as `prompts` shows them */
		char *changes = history_fields(e);
		table_row(&t, (const char *[]){seq, when, e->actor, e->op, object, e->ref, changes});
		free(changes);
	}
	if (rc != PF_ITEROVER) {
		status = lib_fail(rc);
		goto out;
	}
	printf("History of %s (%s)\n", g ? g->name : "an erased or unknown guest", idtext);
	if (t.nrows == 1)
		printf("  no journal entries\n");
	else
		table_print(&t, stdout, "  ");
out:
	table_free(&t);
	pf_journal_iterator_free(it);
	pf_guest_free(g);
	return status;
}
