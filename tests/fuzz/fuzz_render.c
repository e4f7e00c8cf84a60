/*
 * fuzz_render.c — libFuzzer target for template rendering over varied
 * guests, through the public API on a real LMDB environment.
 *
 * Input: a rule book, a NUL byte, then a guest description, one field a
 * line ("key value"; unknown keys and lines past the 64th are ignored):
 *
 *   name|email|phone|lang|loyalty|country TEXT   profile fields
 *   tier none|silver|gold|platinum|vip|N          consent N   birth YYYYMMDD
 *   tag WORD                                      (repeatable)
 *   like|dislike|need CAT VALUE[<TAB>NOTE]        a preference
 *   stay ARRIVAL DEPARTURE                        a past stay (at most 4)
 *   complaint CATEGORY TEXT                       a complaint (at most 2)
 *   event KIND   room TEXT   party N   arrival D   departure D
 *
 * The book is loaded with pf_rules_load (an empty or broken one leaves no
 * rule stored), the guest is stored field by field (a field the library
 * refuses is simply not set), and pf_preview renders the event.  Checks:
 *  - every prompt's text is valid UTF-8, at most PF_PROMPT_TEXT_MAX bytes,
 *    and holds no '{' or '}' unless the book wrote a literal brace ("{{",
 *    "}}") or a value the guest or event supplied holds one: a template
 *    placeholder is never left unreplaced;
 *  - department, rule and priority are set, the id is zero, the guest is ours;
 *  - with no rule stored, the prompts are exactly one "need" prompt per
 *    need of the guest (needs always reach staff);
 *  - pf_fire of the same event makes the same prompts, in the same order.
 */
#include "fuzz_common.h"

#define RENDER_LINES_MAX 64

struct render_state {
	pf_db *db;
	pf_id guest;
	bool brace;          /* a supplied value holds '{' or '}' */
	unsigned stays, complaints;
	pf_event ev;
	char room[PF_FIELD_MAX + 1];
};

FUZZ_FN bool render_has_brace(const char *s)
{
	return strchr(s, '{') || strchr(s, '}');
}

FUZZ_FN long render_num(const char *s)
{
	return strtol(s, NULL, 10);
}

/* Set one profile field; a value the library refuses leaves it unset. */
FUZZ_FN void render_update(struct render_state *st, unsigned mask, pf_guest *f)
{
	(void)pf_guest_update(st->db, &st->guest, f, mask);
}

/* Split "CAT VALUE[\tNOTE]" in place. */
FUZZ_FN void render_pref(struct render_state *st, pf_pref_kind kind, char *v)
{
	char *sp = strchr(v, ' ');
	if (!sp)
		return;
	*sp = '\0';
	char *value = sp + 1, *note = strchr(value, '\t');
	if (note)
		*note++ = '\0';
	pf_observation o = PF_OBSERVATION_INIT;
	o.kind = kind;
	o.department = "front_desk";
	o.note = note;
	(void)pf_pref_set(st->db, &st->guest, v, value, &o);
}

FUZZ_FN void render_line(struct render_state *st, char *key, char *v)
{
	pf_guest f = PF_GUEST_INIT;
	const char *const tiers[] = { "none", "silver", "gold", "platinum", "vip" };

	if (!strcmp(key, "name")) {
		f.name = v;
		render_update(st, PF_GUEST_NAME, &f);
	} else if (!strcmp(key, "email")) {
		f.email = v;
		render_update(st, PF_GUEST_EMAIL, &f);
	} else if (!strcmp(key, "phone")) {
		f.phone = v;
		render_update(st, PF_GUEST_PHONE, &f);
	} else if (!strcmp(key, "lang")) {
		f.language = v;
		render_update(st, PF_GUEST_LANGUAGE, &f);
	} else if (!strcmp(key, "loyalty")) {
		f.loyalty_no = v;
		render_update(st, PF_GUEST_LOYALTY_NO, &f);
	} else if (!strcmp(key, "country")) {
		f.country = v;
		render_update(st, PF_GUEST_COUNTRY, &f);
	} else if (!strcmp(key, "tier")) {
		f.tier = (pf_tier)((unsigned long)render_num(v) % 5);
		for (int i = 0; i < 5; i++)
			if (!strcmp(v, tiers[i]))
				f.tier = (pf_tier)i;
		render_update(st, PF_GUEST_TIER, &f);
	} else if (!strcmp(key, "consent")) {
		f.consent = (unsigned)render_num(v) & 3u;
		render_update(st, PF_GUEST_CONSENT, &f);
	} else if (!strcmp(key, "birth")) {
		f.birth_date = (pf_date)render_num(v);
		render_update(st, PF_GUEST_BIRTH_DATE, &f);
	} else if (!strcmp(key, "tag")) {
		/* Add to the stored tags. */
		pf_guest *g = NULL;
		if (pf_guest_get(&g, st->db, &st->guest) != 0)
			return;
		const char *tags[PF_TAGS_MAX + 1];
		size_t n = g->tag_count < PF_TAGS_MAX ? g->tag_count : PF_TAGS_MAX;
		if (n)
			memcpy(tags, g->tags, n * sizeof *tags);
		tags[n++] = v;
		f.tags = tags;
		f.tag_count = n;
		render_update(st, PF_GUEST_TAGS, &f);
		pf_guest_free(g);
	} else if (!strcmp(key, "like")) {
		render_pref(st, PF_LIKE, v);
	} else if (!strcmp(key, "dislike")) {
		render_pref(st, PF_DISLIKE, v);
	} else if (!strcmp(key, "need")) {
		render_pref(st, PF_NEED, v);
	} else if (!strcmp(key, "stay") && st->stays < 4) {
		char *end;
		pf_stay s = { PF_STAY_VERSION, st->guest, NULL, NULL, (pf_date)strtol(v, &end, 10), 0, 0 };
		s.departure = (pf_date)strtol(end, NULL, 10);
		st->stays++;
		(void)pf_stay_add(st->db, &s);
	} else if (!strcmp(key, "complaint") && st->complaints < 2) {
		char *sp = strchr(v, ' ');
		if (!sp)
			return;
		*sp = '\0';
		pf_feedback fb = PF_FEEDBACK_INIT;
		fb.guest = st->guest;
		fb.department = "housekeeping";
		fb.category = v;
		fb.text = sp + 1;
		fb.recorded_by = "ana";
		st->complaints++;
		(void)pf_feedback_add(st->db, &fb, NULL);
	} else if (!strcmp(key, "event")) {
		pf_event_kind k;
		if (pf_event_kind_parse(&k, v) == 0)
			st->ev.kind = k;
	} else if (!strcmp(key, "room")) {
		snprintf(st->room, sizeof st->room, "%s", v);
		st->ev.room = st->room;
	} else if (!strcmp(key, "party")) {
		st->ev.party = (uint32_t)render_num(v);
	} else if (!strcmp(key, "arrival")) {
		st->ev.arrival = (pf_date)render_num(v);
	} else if (!strcmp(key, "departure")) {
		st->ev.departure = (pf_date)render_num(v);
	}
}

/* The stored guest's supplied text may hold braces that rendering copies
 * into a prompt. */
FUZZ_FN bool render_guest_braces(pf_db *db, const pf_id *id, size_t *needs)
{
	pf_guest *g = NULL;
	FUZZ_CHECK(pf_guest_get(&g, db, id) == 0, "the guest does not read back");
	bool b = render_has_brace(g->name);
	*needs = 0;
	for (size_t i = 0; i < g->pref_count; i++) {
		const pf_pref *p = &g->prefs[i];
		b = b || render_has_brace(p->value) || (p->note && render_has_brace(p->note));
		if (p->kind == PF_NEED)
			(*needs)++;
	}
	pf_guest_free(g);
	return b;
}

FUZZ_FN void render_check(const struct render_state *st, const pf_prompt_list *l,
                          bool literal_brace, bool no_rules, size_t needs)
{
	size_t need_prompts = 0;
	for (size_t i = 0; i < l->count; i++) {
		const pf_prompt *p = &l->items[i];
		FUZZ_CHECK(p->text != NULL, "prompt %zu has no text", i);
		size_t n = strlen(p->text);
		FUZZ_CHECK(n <= PF_PROMPT_TEXT_MAX, "prompt %zu text is %zu bytes", i, n);
		FUZZ_CHECK(pf_utf8_valid(p->text, n), "prompt %zu text is not UTF-8", i);
		FUZZ_CHECK(literal_brace || st->brace || !render_has_brace(p->text),
		           "prompt %zu has an unreplaced placeholder: %s", i, p->text);
		FUZZ_CHECK(p->department && p->rule, "prompt %zu lacks department or rule", i);
		FUZZ_CHECK(pf_priority_name(p->priority) != NULL, "prompt %zu priority %d", i,
		           (int)p->priority);
		FUZZ_CHECK(pf_id_is_zero(&p->id), "a previewed prompt has an id");
		FUZZ_CHECK(!memcmp(p->guest.b, st->guest.b, sizeof p->guest.b),
		           "prompt %zu is for another guest", i);
		if (!strcmp(p->rule, "need"))
			need_prompts++;
	}
	if (no_rules)
		FUZZ_CHECK(l->count == needs && need_prompts == needs,
		           "no rules, %zu needs, but %zu prompts (%zu need prompts)", needs,
		           l->count, need_prompts);
}

static int fuzz_render_one(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t booklen = nul ? (size_t)(nul - data) : size;
	pf_db *db = fuzz_env();
	fuzz_reset(db);

	struct render_state st;
	memset(&st, 0, sizeof st);
	st.db = db;
	pf_event init = PF_EVENT_INIT;
	st.ev = init;
	st.ev.kind = PF_EVENT_CHECK_IN;

	pf_rule_error err;
	int rc = pf_rules_load(db, "fuzz.rules", (const char *)data, booklen, &err);
	FUZZ_CHECK(rc == 0 || rc == PF_ESYNTAX, "pf_rules_load returned %d", rc);
	bool no_rules = rc != 0;
	bool literal_brace = memmem(data, booklen, "{{", 2) || memmem(data, booklen, "}}", 2);

	pf_guest g = PF_GUEST_INIT;
	g.name = "Guest";
	FUZZ_CHECK(pf_guest_put(db, &g) == 0, "pf_guest_put");
	st.guest = g.id;
	st.ev.guest = g.id;

	/* The description, as NUL-terminated lines. */
	size_t dlen = nul ? size - booklen - 1 : 0;
	char *desc = malloc(dlen + 1);
	if (!desc)
		FUZZ_FAIL("out of memory");
	if (dlen)
		memcpy(desc, nul + 1, dlen);
	desc[dlen] = '\0';
	char *line = desc;
	for (int i = 0; i < RENDER_LINES_MAX && line && *line; i++) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *sp = strchr(line, ' ');
		if (sp) {
			*sp = '\0';
			render_line(&st, line, sp + 1);
		}
		line = next;
	}
	free(desc);

	size_t needs = 0;
	st.brace = render_guest_braces(db, &st.guest, &needs) ||
	           (st.ev.room && render_has_brace(st.ev.room));
	/* A stored complaint's text is rendered by {complaint.latest}. */
	pf_feedback_list *fl = NULL;
	if (pf_feedback_list_get(&fl, db, &st.guest, NULL) == 0) {
		for (size_t i = 0; i < fl->count; i++)
			st.brace = st.brace || render_has_brace(fl->items[i].text);
		pf_feedback_list_free(fl);
	}

	pf_prompt_list *pl = NULL;
	rc = pf_preview(&pl, db, &st.ev);
	FUZZ_CHECK(rc == 0 || rc == PF_EINVAL, "pf_preview returned %d", rc);
	if (rc != 0)
		return 0;
	render_check(&st, pl, literal_brace, no_rules, needs);

	/* What the kiosk previewed is what firing stores. */
	pf_event fe = st.ev;
	fe.id = "fuzz-render-1";
	pf_prompt_list *fl2 = NULL;
	rc = pf_fire(&fl2, db, &fe);
	FUZZ_CHECK(rc == 0, "pf_fire of a previewed event returned %d", rc);
	FUZZ_CHECK(fl2->count == pl->count, "preview made %zu prompts, fire %zu", pl->count,
	           fl2->count);
	for (size_t i = 0; i < pl->count; i++) {
		const pf_prompt *a = &pl->items[i], *b = &fl2->items[i];
		FUZZ_CHECK(!strcmp(a->text, b->text) && !strcmp(a->rule, b->rule) &&
		           !strcmp(a->department, b->department) && a->priority == b->priority,
		           "prompt %zu differs between preview and fire:\n  %s\n  %s", i, a->text,
		           b->text);
	}
	pf_prompt_list_free(fl2);
	pf_prompt_list_free(pl);
	return 0;
}

#ifndef PF_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_render_one(data, size);
}
#endif
