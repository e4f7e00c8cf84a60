/*
 * lookup.c — turning arguments into records: GUEST (an id or a query that
 * finds one guest), PROMPT and FEEDBACK (an id or its last digits),
 * and the guest names that lists show.
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

void print_guest_rows(FILE *f, const pf_guest_list *l)
{
	struct table t = {5, 0, NULL};
	table_row(&t, (const char *[]){"ID", "NAME", "EMAIL", "PHONE", "TIER"});
	for (size_t i = 0; i < l->count; i++) {
		const pf_guest *g = l->items[i];
		char id[PF_ID_STRLEN + 1];
		pf_id_format(id, &g->id);
		table_row(&t, (const char *[]){id, g->name, g->email, g->phone,
		                               g->tier ? pf_tier_name(g->tier) : NULL});
	}
	table_print(&t, f, "  ");
	table_free(&t);
}

/* GUEST is a UUID or a query that finds exactly one guest.  On success
 * *out is the loaded guest (free with pf_guest_free); returns an exit
 * status. */
int resolve_guest(pf_guest **out, pf_db *db, const char *arg)
{
	pf_id id;
	pf_guest_list *l = NULL;
	int rc, status = 1;

	*out = NULL;
	if (pf_id_parse(&id, arg) == 0) {
		rc = pf_guest_get(out, db, &id);
		return rc ? lib_fail(rc) : 0;
	}
	rc = pf_guest_find(&l, db, arg);
	if (rc)
		return lib_fail(rc);
	if (l->count == 0) {
		fail("no guest matches '%s'", arg);
	} else if (l->count > 1) {
		fail("'%s' matches %s%zu guests; give one of these ids:", arg,
		     l->truncated ? "more than " : "", l->count);
		print_guest_rows(stderr, l);
	} else {
		rc = pf_guest_get(out, db, &l->items[0]->id);
		status = rc ? lib_fail(rc) : 0;
	}
	pf_guest_list_free(l);
	return status;
}

const char *short_id(char buf[PF_ID_STRLEN + 1], const pf_id *id)
{
	if (pf_id_is_zero(id)) {
		buf[0] = '\0';
		return buf;
	}
	pf_id_format(buf, id);
	return buf + PF_ID_STRLEN - SHORT_ID;
}

/* PROMPT (FEEDBACK) is a full UUID, or at least MIN_SHORT hex digits that
 * end the id of exactly one open prompt (one feedback).  Returns an exit
 * status. */
int resolve_short_id(pf_id *out, pf_db *db, const char *arg, enum short_id what)
{
	static const struct { const char *noun, *none, *many; } words[] = {
		[ID_PROMPT] = {"prompt", "no open prompt", "open prompts"},
		[ID_FEEDBACK] = {"feedback", "no feedback", "feedback records"},
	};
	pf_prompt_list *prompts = NULL;
	pf_feedback_list *feedback = NULL;
	char want[PF_ID_STRLEN + 1];
	size_t len = strlen(arg), count, hits = 0;
	pf_id hit = {{0}};
	int rc;

	if (pf_id_parse(out, arg) == 0)
		return 0;
	if (len < MIN_SHORT || len > PF_ID_STRLEN || strspn(arg, "0123456789abcdefABCDEF-") != len)
		return fail("'%s' is not a %s id (give at least its last %d hex digits)", arg,
		            words[what].noun, MIN_SHORT);
	for (size_t i = 0; i <= len; i++)
		want[i] = (arg[i] >= 'A' && arg[i] <= 'F') ? (char)(arg[i] - 'A' + 'a') : arg[i];

	/* For prompts, every open one of every department: due before the
	 * end of time. */
	rc = what == ID_PROMPT ? pf_prompts_overdue(&prompts, db, NULL, INT64_MAX)
	                       : pf_feedback_list_get(&feedback, db, NULL, NULL);
	if (rc)
		return lib_fail(rc);
	count = what == ID_PROMPT ? prompts->count : feedback->count;
	for (size_t i = 0; i < count; i++) {
		const pf_id *cand = what == ID_PROMPT ? &prompts->items[i].id : &feedback->items[i].id;
		char id[PF_ID_STRLEN + 1];
		pf_id_format(id, cand);
		if (!strcmp(id + PF_ID_STRLEN - len, want)) {
			hits++;
			hit = *cand;
		}
	}
	if (hits == 1)
		*out = hit;
	pf_prompt_list_free(prompts);
	pf_feedback_list_free(feedback);
	if (hits == 0)
		return fail("%s has an id ending in '%s'", words[what].none, arg);
	if (hits > 1)
		return fail("'%s' matches %zu %s; give more digits", arg, hits, words[what].many);
	return 0;
}

/* The one argument of a command without options, a GUEST, resolved:
 * free *g.  Returns an exit status. */
int one_guest(pf_db *db, const struct command *cmd, int argc, char **argv, pf_guest **g)
{
	char *pos[1];
	*g = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 1, "missing the GUEST"))
		return 2;
	return resolve_guest(g, db, pos[0]);
}

/* Two GUEST arguments, resolved. */
int two_guests(pf_db *db, const struct command *cmd, int argc, char **argv,
               pf_guest **a, pf_guest **b)
{
	char *pos[2];
	*a = *b = NULL;
	if (parse_exactly(cmd, argc, argv, NULL, 0, pos, 2, "need two guests"))
		return 2;
	int status = resolve_guest(a, db, pos[0]);
	if (status == 0 && (status = resolve_guest(b, db, pos[1])) != 0) {
		pf_guest_free(*a);
		*a = NULL;
	}
	return status;
}

const char *guest_name(struct name_cache *c, pf_db *db, const pf_id *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (!memcmp(c->ids[i].b, id->b, sizeof id->b))
			return c->names[i];
	pf_guest *g = NULL;
	/* A guest erased since the prompt was made shows as unknown. */
	char *name = cell_dup(pf_guest_get(&g, db, id) == 0 ? g->name : "(unknown guest)");
	pf_guest_free(g);
	pf_id *ids = realloc(c->ids, (c->n + 1) * sizeof *ids);
	if (ids)
		c->ids = ids;
	char **names = realloc(c->names, (c->n + 1) * sizeof *names);
	if (names)
		c->names = names;
	if (!ids || !names)
		die_nomem();
	c->ids[c->n] = *id;
	c->names[c->n++] = name;
	return name;
}

void name_cache_free(struct name_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->ids);
	free(c->names);
}
