/*
 * kiosk — what a self-service check-in kiosk does with libprofile.
 *
 *   kiosk [-d DIR] CONTACT EVENT_ID [--room R] [--arrival D] [--departure D] [--party N]
 *
 * Finds the booking by e-mail or phone, greets the guest with the prompts
 * the rule book addresses to department "kiosk" (pf_preview: nothing is
 * stored yet) — in the guest's language when the book has a text for it —
 * then fires the check-in and tells the guest which teams were told —
 * never what they were told: guests see the kiosk, staff see the rest.  Uses only the public API.  It may run beside a frontdesk
 * process on the same database: each process opens the environment
 * itself and LMDB serialises the writers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROG "kiosk"
#define KIOSK_DEPT "kiosk"
#define SCREEN_WIDTH 60           /* inside the frame */

#include "cli.h"

static void usage(FILE *f)
{
	fputs(
"usage: " PROG " [-d DIR] CONTACT EVENT_ID [--room R] [--arrival D] [--departure D] [--party N]\n"
"\n"
"Check a guest in at a kiosk: CONTACT is the e-mail or phone number of the\n"
"booking, EVENT_ID the reservation or transaction id (checking in twice with\n"
"the same id does the work once).  Dates are YYYY-MM-DD.\n"
"\n"
"  -d DIR   database directory (default: $PF_DB; one of them is required)\n"
"  PF_NOW   environment: fixed clock, \"2026-11-23T09:00:00Z\" or epoch seconds\n", f);
}

static int PRINTF_LIKE(1, 2) usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay_error(fmt, ap);
	va_end(ap);
	usage(stderr);
	return 2;
}

/* ------------------------------------------------------------------ */
/* The screen                                                           */
/* ------------------------------------------------------------------ */

static void frame_rule(void)
{
	putchar('+');
	for (int i = 0; i < SCREEN_WIDTH + 4; i++)
		putchar('-');
	puts("+");
}

/* One framed line of `len` bytes and `width` columns. */
static void frame_line(const char *s, size_t len, size_t width)
{
	printf("|  %.*s%*s  |\n", (int)len, s, (int)(SCREEN_WIDTH - width), "");
}

/* Word-wrap `text` into framed lines; a word wider than the screen (or
 * text without spaces, as Chinese is written) breaks between characters. */
static void frame_text(const char *text)
{
	const char *line = text, *p = text, *brk = NULL;
	size_t width = 0, brk_width = 0;

	while (*p) {
		int32_t cp;
		size_t n = utf8_decode(p, &cp), w = is_east_asian_wide(cp) ? 2 : 1;
		if (*p == ' ' || *p == '\n' || *p == '\t') {
			if (*p == '\n') {
				frame_line(line, (size_t)(p - line), width);
				line = p + 1;
				width = 0;
				brk = NULL;
				p++;
				continue;
			}
			brk = p;
			brk_width = width;
		}
		if (width + w > SCREEN_WIDTH) {
			if (brk && brk > line) {
				frame_line(line, (size_t)(brk - line), brk_width);
				p = brk + 1;
			} else {
				frame_line(line, (size_t)(p - line), width);
			}
			while (*p == ' ')
				p++;
			line = p;
			width = 0;
			brk = NULL;
			continue;
		}
		width += w;
		p += n;
	}
	frame_line(line, (size_t)(p - line), width);
}

/* "front_desk" → "Front desk": what a guest reads on the screen. */
static void print_department(const char *dept)
{
	for (const char *p = dept; *p; p++) {
		char c = *p == '_' ? ' ' : *p;
		if (p == dept && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		putchar(c);
	}
}

/* ------------------------------------------------------------------ */
/* The kiosk's steps                                                    */
/* ------------------------------------------------------------------ */

/* Non-zero if `contact` is this guest's booking e-mail or phone.  The
 * kiosk refuses name matches: typing someone's name must not check them
 * in or show their welcome screen. */
static int is_contact_of(const pf_guest *g, const char *contact)
{
	if (strchr(contact, '@'))
		return g->email && !strcasecmp(g->email, contact);
	if (!g->phone)
		return 0;
	const char *a = contact, *b = g->phone;
	size_t nd = 0;
	for (;;) {
		while (*a && (*a < '0' || *a > '9'))
			a++;
		while (*b && (*b < '0' || *b > '9'))
			b++;
		if (!*a || !*b)
			return !*a && !*b && nd > 0;
		if (*a++ != *b++)
			return 0;
		nd++;
	}
}

/* The one guest whose booking contact is `contact`; 1 with a message if
 * there is none or more than one. */
static int find_guest(pf_id *out, pf_db *db, const char *contact)
{
	pf_guest_list *l = NULL;
	size_t hits = 0;
	int rc = pf_guest_find(&l, db, contact);
	if (rc)
		return lib_fail(rc);
	for (size_t i = 0; i < l->count; i++)
		if (is_contact_of(l->items[i], contact)) {
			if (hits++ == 0)
				*out = l->items[i]->id;
		}
	pf_guest_list_free(l);
	if (hits == 1)
		return 0;
	puts(hits == 0 ? "Sorry, we could not find a booking for that e-mail or phone number."
	               : "Sorry, more than one booking has that contact.");
	puts("Please see the front desk; we will be glad to help.");
	return 1;
}

/* The welcome screen: the kiosk prompts of a preview, or a plain welcome.
 * Kiosk prompts are guest-facing: each comes in the guest's language when
 * the rule book has a text for it (pf_prompt.language), else in the
 * book's default text (language NULL). */
static int welcome(pf_db *db, const pf_event *ev, const pf_guest *g)
{
	pf_prompt_list *l = NULL;
	const char *lang = NULL;
	size_t shown = 0, in_default = 0;
	int rc = pf_preview(&l, db, ev);
	if (rc)
		return lib_fail(rc);
	frame_rule();
	frame_line("", 0, 0);
	for (size_t i = 0; i < l->count; i++) {
		if (strcmp(l->items[i].department, KIOSK_DEPT))
			continue;
		if (shown++)
			frame_line("", 0, 0);
		frame_text(l->items[i].text);
		if (l->items[i].language)
			lang = l->items[i].language;
		else
			in_default++;
	}
	if (!shown) {
		char buf[PF_NAME_MAX + 16];
		snprintf(buf, sizeof buf, "Welcome, %s", g->name);
		frame_text(buf);
	}
	frame_line("", 0, 0);
	frame_rule();
	if (lang)
		printf("(shown in '%s', the guest's language%s)\n", lang,
		       in_default ? "; some texts only in the default language" : "");
	else if (shown)
		printf("(shown in the rule book's default language)\n");
	pf_prompt_list_free(l);
	return 0;
}

/* Fire the check-in; tell the guest which teams were told, in the order
 * they first appear.  The kiosk has just shown its own prompts, so it
 * marks them done: they would otherwise wait in the "kiosk" work list
 * for a person who does not exist. */
static int check_in(pf_db *db, const pf_event *ev)
{
	pf_prompt_list *l = NULL;
	int status = 0;
	int rc = pf_fire(&l, db, ev);
	if (rc)
		return lib_fail(rc);

	size_t staff_prompts = 0;
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].department, KIOSK_DEPT))
			staff_prompts++;
	printf("\nYou are checked in%s%s.\n", ev->room ? " to room " : "", ev->room ? ev->room : "");
	if (staff_prompts == 0) {
		puts("Enjoy your stay.");
	} else {
		printf("We have let our team know you are here (%zu note%s):\n", staff_prompts,
		       staff_prompts == 1 ? "" : "s");
		for (size_t i = 0; i < l->count; i++) {
			const char *dept = l->items[i].department;
			size_t n = 0, seen_before = 0;
			if (!strcmp(dept, KIOSK_DEPT))
				continue;
			for (size_t j = 0; j < i; j++)
				seen_before |= !strcmp(l->items[j].department, dept);
			if (seen_before)
				continue;
			for (size_t j = i; j < l->count; j++)
				n += !strcmp(l->items[j].department, dept);
			printf("  ");
			print_department(dept);
			printf(": %zu\n", n);
		}
	}
	for (size_t i = 0; i < l->count; i++) {
		const pf_prompt *p = &l->items[i];
		if (strcmp(p->department, KIOSK_DEPT) ||
		    (p->status != PF_PROMPT_PENDING && p->status != PF_PROMPT_ACKNOWLEDGED))
			continue;
		rc = pf_prompt_done(db, &p->id, KIOSK_DEPT);
		if (rc)
			status = lib_fail(rc);   /* the check-in itself has committed */
	}
	pf_prompt_list_free(l);
	return status;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("PF_DB"), *now_env = getenv("PF_NOW");
	const char *pos[2], *room = NULL, *arrival = NULL, *departure = NULL, *party = NULL;
	int npos = 0, only_pos = 0;
	pf_options opts = PF_OPTIONS_INIT;
	pf_event ev = PF_EVENT_INIT;
	pf_time fixed_now = 0;
	pf_db *db = NULL;
	pf_guest *g = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **dest = NULL;
		if (only_pos || a[0] != '-') {
			if (npos == 2)
				return usage_error("unexpected argument '%s'", a);
			pos[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) { only_pos = 1; continue; }
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
		if (!strcmp(a, "-d")) dest = &dir;
		else if (!strcmp(a, "--room")) dest = &room;
		else if (!strcmp(a, "--arrival")) dest = &arrival;
		else if (!strcmp(a, "--departure")) dest = &departure;
		else if (!strcmp(a, "--party")) dest = &party;
		else return usage_error("unknown option '%s'", a);
		if (i + 1 == argc)
			return usage_error("option '%s' needs a value", a);
		*dest = argv[++i];
	}
	if (npos != 2)
		return usage_error("need the booking's CONTACT (e-mail or phone) and EVENT_ID");
	/* No default directory, as for frontdesk: a kiosk that created a
	 * database where it happened to start would check guests in nowhere. */
	if (!dir || !dir[0])
		return usage_error("no database given (use -d DIR or PF_DB)");
	if (arrival && parse_date(arrival, &ev.arrival))
		return usage_error("--arrival must be a date YYYY-MM-DD, not '%s'", arrival);
	if (departure && parse_date(departure, &ev.departure))
		return usage_error("--departure must be a date YYYY-MM-DD, not '%s'", departure);
	if (party && parse_uint32(party, &ev.party))
		return usage_error("--party must be a whole number, not '%s'", party);
	if (use_pf_now(&opts, &fixed_now, now_env))
		return usage_error("PF_NOW must be like 2026-11-23T09:00:00Z, not '%s'", now_env);
	/* A kiosk may lose power: losing the last commit is acceptable (the
	 * front desk can check the guest in again), corruption is not.  It
	 * reads a few random profiles of a large file: no readahead. */
	opts.flags = PF_OPEN_NOMETASYNC | PF_OPEN_NORDAHEAD;

	int rc = pf_open(&db, dir, &opts);
	if (rc)
		return lib_fail(rc);
	int status = find_guest(&ev.guest, db, pos[0]);
	if (status == 0) {
		rc = pf_guest_get(&g, db, &ev.guest);
		status = rc ? lib_fail(rc) : 0;
	}
	if (status == 0) {
		ev.kind = PF_EVENT_CHECK_IN;
		ev.id = pos[1];
		ev.room = room;
		status = welcome(db, &ev, g);
	}
	if (status == 0)
		status = check_in(db, &ev);
	pf_guest_free(g);
	pf_close(db);
	return status;
}
