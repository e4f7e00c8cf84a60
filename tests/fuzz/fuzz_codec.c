/*
 * fuzz_codec.c — libFuzzer target for the strict record decoders: every
 * stored record type (guest, stay, prompt, event, rule, journal, merge,
 * feedback) is decoded from the same bytes, so one corpus of real
 * records (seeds.c dumps every database) feeds them all.  Run:
 * `make fuzz` or `make check-fuzz`.
 *
 * Malformed input must give PF_ECORRUPT (or PF_ENOMEM), never a crash,
 * an out-of-bounds read or a leak.  What decodes must survive a round
 * trip: encoding it succeeds, the encoding decodes, and encoding that
 * again gives the same bytes (the encoder is canonical and the decoder
 * keeps everything the encoder writes).  A merge record's guest and stay
 * blobs are decoded as pf_guest_unmerge() decodes them.
 */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void codec_expect(int rc, const char *what)
{
	if (rc != 0 && rc != PF_ECORRUPT && rc != PF_ENOMEM) {
		fprintf(stderr, "fuzz_codec: %s returned %d: %s\n", what, rc, pf_errmsg());
		abort();
	}
}

/* Encoding of a decoded record: must succeed.  Returns the sbuffer's
 * data (caller destroys it). */
#define CODEC_ENCODE(sb, encode, rec, what)                                          \
	do {                                                                         \
		msgpack_sbuffer_init(sb);                                            \
		int erc_ = encode(sb, rec);                                          \
		if (erc_ != 0) {                                                     \
			fprintf(stderr, "fuzz_codec: re-encoding a decoded %s record "  \
			        "failed (%d): %s\n", what, erc_, pf_errmsg());          \
			abort();                                                     \
		}                                                                    \
	} while (0)

static void codec_same(const msgpack_sbuffer *a, const msgpack_sbuffer *b, const char *what)
{
	if (a->size != b->size || memcmp(a->data, b->data, a->size) != 0) {
		fprintf(stderr, "fuzz_codec: %s record: encode(decode(encode(x))) != encode(x) "
		        "(%zu vs %zu bytes)\n", what, a->size, b->size);
		abort();
	}
}

static void codec_redecoded(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "fuzz_codec: the re-encoded %s record does not decode (%d): %s\n",
		        what, rc, pf_errmsg());
		abort();
	}
}

/*
 * For a record type T with decoder D(T *, data, len), encoder E(sb,
 * const T *) and clear C(T *): decode; if it worked, encode, decode the
 * encoding, encode again, compare.  Guests are heap records and get
 * their own block below.
 */
#define CODEC_ROUND_TRIP(T, D, E, C, what)                                           \
	do {                                                                         \
		T r1_, r2_;                                                          \
		memset(&r1_, 0, sizeof r1_);                                         \
		memset(&r2_, 0, sizeof r2_);                                         \
		int rc_ = D(&r1_, data, size);                                       \
		codec_expect(rc_, what);                                             \
		if (rc_ == 0) {                                                      \
			msgpack_sbuffer s1_, s2_;                                    \
			CODEC_ENCODE(&s1_, E, &r1_, what);                           \
			codec_redecoded(D(&r2_, s1_.data, s1_.size), what);          \
			CODEC_ENCODE(&s2_, E, &r2_, what);                           \
			codec_same(&s1_, &s2_, what);                                \
			msgpack_sbuffer_destroy(&s1_);                               \
			msgpack_sbuffer_destroy(&s2_);                               \
		}                                                                    \
		C(&r1_);                                                             \
		C(&r2_);                                                             \
	} while (0)

static void codec_rule_clear(pf_rule_rec *r)
{
	free(r->source);
	r->source = NULL;
}

static void codec_guest(const uint8_t *data, size_t size)
{
	pf_guest_rec *g = NULL, *g2 = NULL;
	int rc = pf_codec_guest_decode(&g, data, size);
	codec_expect(rc, "guest");
	if (rc == 0) {
		msgpack_sbuffer s1, s2;
		CODEC_ENCODE(&s1, pf_codec_guest_encode, g, "guest");
		codec_redecoded(pf_codec_guest_decode(&g2, s1.data, s1.size), "guest");
		CODEC_ENCODE(&s2, pf_codec_guest_encode, g2, "guest");
		codec_same(&s1, &s2, "guest");
		msgpack_sbuffer_destroy(&s1);
		msgpack_sbuffer_destroy(&s2);
	}
	pf_guest_rec_free(g);
	pf_guest_rec_free(g2);
}

/* The blobs a merge record keeps are decoded again by unmerge. */
static void codec_merge_blobs(const pf_merge_rec *m)
{
	const pf_merge_blob *b[3] = { &m->keep_before, &m->keep_after, &m->dup_before };
	for (int i = 0; i < 3; i++) {
		pf_guest_rec *g = NULL;
		codec_expect(pf_codec_guest_decode(&g, b[i]->data, b[i]->len), "merge guest blob");
		pf_guest_rec_free(g);
	}
	for (size_t i = 0; i < m->stay_count; i++) {
		pf_stay s;
		memset(&s, 0, sizeof s);
		codec_expect(pf_codec_stay_decode(&s, m->stays[i].value, m->stays[i].len),
		             "merge stay blob");
		pf_stay_clear(&s);
	}
}

static int fuzz_codec_one(const uint8_t *data, size_t size)
{
	codec_guest(data, size);
	CODEC_ROUND_TRIP(pf_prompt, pf_codec_prompt_decode, pf_codec_prompt_encode,
	                 pf_prompt_clear, "prompt");
	CODEC_ROUND_TRIP(pf_stay, pf_codec_stay_decode, pf_codec_stay_encode, pf_stay_clear,
	                 "stay");
	CODEC_ROUND_TRIP(pf_event_rec, pf_codec_event_decode, pf_codec_event_encode,
	                 pf_event_rec_clear, "event");
	CODEC_ROUND_TRIP(pf_journal_entry, pf_codec_journal_decode, pf_codec_journal_encode,
	                 pf_journal_entry_clear, "journal");
	CODEC_ROUND_TRIP(pf_feedback_rec, pf_codec_feedback_decode, pf_codec_feedback_encode,
	                 pf_feedback_rec_clear, "feedback");
	CODEC_ROUND_TRIP(pf_rule_rec, pf_codec_rule_decode, pf_codec_rule_encode,
	                 codec_rule_clear, "rule");
	CODEC_ROUND_TRIP(pf_merge_rec, pf_codec_merge_decode, pf_codec_merge_encode,
	                 pf_merge_rec_clear, "merge");

	pf_merge_rec m;
	if (pf_codec_merge_decode(&m, data, size) == 0) {
		codec_merge_blobs(&m);
		pf_merge_rec_clear(&m);
	}
	return 0;
}

#ifndef PF_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_codec_one(data, size);
}
#endif
