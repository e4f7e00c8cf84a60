/*
 * events.c — the event commands: `reserve`, `checkin` (which also dismisses
 * the kiosk's welcome) and `preview` (nothing stored).
 *
 * May call: the public API (libprofile.h), cli.h and frontdesk.h.
 */
#include "frontdesk.h"

/* Options shared by reserve, checkin and preview. */
struct event_args {
	const char *arrival, *departure, *room, *party, *property;
};

/* Parse GUEST, an optional second positional (the event id, or the kind
 * for preview; required if `second_required`) and the event options into
 * *ev.  *g receives the guest (free it), *second the second positional or
 * NULL.  Returns an exit status. */
static int event_from_args(pf_event *ev, pf_guest **g, const char **second, int second_required,
                           pf_db *db, const struct command *cmd, int argc, char **argv)
{
	struct event_args a = {NULL, NULL, NULL, NULL, NULL};
	const struct opt opts[] = {
		{"arrival", OPT_STR, &a.arrival}, {"departure", OPT_STR, &a.departure},
		{"room", OPT_STR, &a.room}, {"party", OPT_STR, &a.party},
		{"property", OPT_STR, &a.property},
	};
	char *pos[2];

	*g = NULL;
	int n = parse_args(cmd, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 2);
	if (n < 0)
		return 2;
	if (n < 1 + second_required)
		return usage_error(cmd, second_required ? "need GUEST and EVENT_ID" : "missing the GUEST");
	*second = n == 2 ? pos[1] : NULL;
	if (parse_date_opt(cmd, "--arrival", a.arrival, &ev->arrival) ||
	    parse_date_opt(cmd, "--departure", a.departure, &ev->departure) ||
	    parse_count(cmd, "--party", a.party, &ev->party))
		return 2;
	ev->room = a.room;
	ev->property = a.property;
	int status = resolve_guest(g, db, pos[0]);
	if (status == 0)
		ev->guest = (*g)->id;
	return status;
}

/* A guest checked in at the desk will not see the kiosk's welcome screen:
 * dismiss those prompts rather than leave them open in the "kiosk" list,
 * where they would count as service omissions. */
static int dismiss_kiosk(pf_db *db, const pf_prompt_list *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->count; i++) {
		const pf_prompt *p = &l->items[i];
		if (strcmp(p->department, "kiosk") || p->status != PF_PROMPT_PENDING)
			continue;
		int rc = pf_prompt_dismiss(db, &p->id, "front_desk", "checked in at the front desk");
		if (rc)
			return lib_fail(rc);
		n++;
	}
	if (n)
		printf("  (kiosk welcome not needed at the desk: dismissed)\n");
	return 0;
}

static int fire(pf_db *db, const struct command *cmd, int argc, char **argv, pf_event_kind kind)
{
	pf_event ev = PF_EVENT_INIT;
	pf_guest *g = NULL;
	pf_prompt_list *l = NULL;
	const char *id = NULL;

	int status = event_from_args(&ev, &g, &id, 1, db, cmd, argc, argv);
	if (status)
		goto out;
	ev.kind = kind;
	ev.id = id;
	int rc = pf_fire(&l, db, &ev);
	if (rc) {
		status = lib_fail(rc);
		goto out;
	}
	printf("%s %s for %s: %zu prompt%s\n", kind == PF_EVENT_CHECK_IN ? "Check-in" : "Reservation",
	       id, g->name, l->count, l->count == 1 ? "" : "s");
	if (l->count)
		print_prompts(db, l, 0, COL_ID | COL_DEPT | COL_PRIO | COL_DUE | COL_TEXT, "  ");
	if (kind == PF_EVENT_CHECK_IN)
		status = dismiss_kiosk(db, l);
out:
	pf_prompt_list_free(l);
	pf_guest_free(g);
	return status;
}

int cmd_reserve(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return fire(db, cmd, argc, argv, PF_EVENT_RESERVATION);
}

int cmd_checkin(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	return fire(db, cmd, argc, argv, PF_EVENT_CHECK_IN);
}

int cmd_preview(pf_db *db, const struct command *cmd, int argc, char **argv)
{
	pf_event ev = PF_EVENT_INIT;
	pf_guest *g = NULL;
	pf_prompt_list *l = NULL;
	const char *kind = NULL;

	int status = event_from_args(&ev, &g, &kind, 0, db, cmd, argc, argv);
	if (status)
		goto out;
	ev.kind = PF_EVENT_CHECK_IN;
	if (kind && pf_event_kind_parse(&ev.kind, kind)) {
		status = usage_error(cmd, "unknown event '%s' (reservation, check_in, check_out, "
		                          "room_change)", kind);
		goto out;
	}
	int rc = pf_preview(&l, db, &ev);
	if (rc) {
		status = lib_fail(rc);
		goto out;
	}
	printf("Preview of %s for %s (nothing stored): %zu prompt%s\n", pf_event_kind_name(ev.kind),
	       g->name, l->count, l->count == 1 ? "" : "s");
	if (l->count)
		print_prompts(db, l, 0, COL_DEPT | COL_PRIO | COL_TEXT, "  ");
out:
	pf_prompt_list_free(l);
	pf_guest_free(g);
	return status;
}
