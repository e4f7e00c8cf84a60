/*
 * fuzz_codec.c — libFuzzer target for the strict record decoders: every
 * stored record type is decoded from the same bytes.  Run: `make fuzz`.
 * Malformed input must give PF_ECORRUPT (or PF_ENOMEM), never a crash,
 * an out-of-bounds read or a leak.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect(int rc)
{
	if (rc != 0 && rc != PF_ECORRUPT && rc != PF_ENOMEM)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_guest_rec *g = NULL;
	int rc = pf_codec_guest_decode(&g, data, size);
	expect(rc);
	pf_guest_rec_free(g);

	pf_prompt p;
	memset(&p, 0, sizeof p);
	expect(pf_codec_prompt_decode(&p, data, size));
	pf_prompt_clear(&p);

	pf_stay s;
	memset(&s, 0, sizeof s);
	expect(pf_codec_stay_decode(&s, data, size));
	pf_stay_clear(&s);

	pf_event_rec e;
	memset(&e, 0, sizeof e);
	expect(pf_codec_event_decode(&e, data, size));
	pf_event_rec_clear(&e);

	pf_journal_entry j;
	memset(&j, 0, sizeof j);
	expect(pf_codec_journal_decode(&j, data, size));
	pf_journal_entry_clear(&j);

	pf_feedback_rec f;
	memset(&f, 0, sizeof f);
	expect(pf_codec_feedback_decode(&f, data, size));
	pf_feedback_rec_clear(&f);
	return 0;
}
