/*
 * fuzz_rules.c — libFuzzer target for the rule-language parser and, for
 * books that parse, the evaluator over a fixed guest.  Run: `make fuzz`
 * or `make check-fuzz`.
 * Any input must give success or PF_ESYNTAX/PF_EINVAL, never a crash,
 * a leak or undefined behaviour.
 */
#include "codec.h"
#include "rules.h"

#include <stdlib.h>
#include <string.h>

static int fuzz_rules_one(const uint8_t *data, size_t size)
{
	pf_rulebook *rb = NULL;
	pf_rule_error err;
	int rc = pf_rulebook_parse(&rb, "fuzz.rules", (const char *)data, size, &err);
	if (rc == 0) {
		pf_pref prefs[2] = {
			{ "access.hearing", "hard of hearing", PF_NEED, "front_desk", NULL, NULL, 1, 1, 1 },
			{ "room.floor", "10", PF_LIKE, "front_desk", "lina", "high up", 2, 1, 2 },
		};
		pf_guest_rec r;
		memset(&r, 0, sizeof r);
		r.g.name = "Zhuang Wei";
		r.g.tier = PF_TIER_GOLD;
		r.g.consent = PF_CONSENT_PROFILING;
		r.g.birth_date = 19801124;
		r.g.prefs = prefs;
		r.g.pref_count = 2;
		r.prefs = prefs;
		pf_event ev = PF_EVENT_INIT;
		ev.kind = (pf_event_kind)(1 + size % 4);
		ev.room = "1012";
		ev.arrival = 20261123;
		ev.departure = 20261126;
		ev.party = 2;
		pf_view v = { &r, &ev };
		pf_match_list *ml = NULL;
		if (pf_rulebook_eval(&ml, rb, &v) == 0)
			pf_match_list_free(ml);
		pf_rulebook_free(rb);
	} else if (rc != PF_ESYNTAX && rc != PF_EINVAL) {
		abort();
	}
	return 0;
}

#ifndef PF_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_rules_one(data, size);
}
#endif
