/*
 * test_codec.c — codec.c: round trips of every stored record, strict
 * validation of damaged records (each kind of corruption must come back as
 * PF_ECORRUPT with a message naming the database and the field, never a
 * crash or a read past the buffer), and the public free functions.
 * No database is needed.
 */
#include "helpers.h"
#include "text.h"
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(codec_roundtrip);
TestSuite(codec_corrupt);
TestSuite(codec_free);

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

enum { TC_GUEST, TC_STAY, TC_PROMPT, TC_EVENT, TC_RULE, TC_KINDS };
static const char *const tc_db[TC_KINDS] = { "guest", "stay", "prompt", "event", "rule" };

/*
 * A field to pack by hand, so tests can write records the encoder never
 * would.  t: 's' string (n = 0: strlen), 'u' unsigned, 'i' signed,
 * 'b' bin of n bytes, 'n' nil, 'f' float, 'm' map of n sub-fields,
 * 'a' array of n sub-field values (keys ignored), 'r' raw msgpack bytes.
 * A key starting with '+' is appended even if the base has it
 * (duplicates); NULL keys are skipped.
 */
typedef struct tf {
	const char *key;
	char t;
	const char *s;
	int64_t i;
	size_t n;
	const struct tf *sub;
} tf;

static void tc_pack_value(msgpack_packer *pk, const tf *f);

static void tc_pack_fields(msgpack_packer *pk, const tf *f, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += f[i].key != NULL;
	msgpack_pack_map(pk, count);
	for (size_t i = 0; i < n; i++) {
		if (!f[i].key)
			continue;
		const char *k = f[i].key[0] == '+' ? f[i].key + 1 : f[i].key;
		msgpack_pack_str_with_body(pk, k, strlen(k));
		tc_pack_value(pk, &f[i]);
	}
}

static void tc_pack_value(msgpack_packer *pk, const tf *f)
{
	switch (f->t) {
	case 's':
		msgpack_pack_str_with_body(pk, f->s, f->n ? f->n : strlen(f->s));
		break;
	case 'u': msgpack_pack_uint64(pk, (uint64_t)f->i); break;
	case 'i': msgpack_pack_int64(pk, f->i); break;
	case 'b': msgpack_pack_bin_with_body(pk, f->s, f->n); break;
	case 'n': msgpack_pack_nil(pk); break;
	case 'f': msgpack_pack_double(pk, 1.5); break;
	case 'm': tc_pack_fields(pk, f->sub, f->n); break;
	case 'a':
		msgpack_pack_array(pk, f->n);
		for (size_t i = 0; i < f->n; i++)
			tc_pack_value(pk, &f->sub[i]);
		break;
	case 'r': msgpack_sbuffer_write(pk->data, f->s, f->n); break;
	default: cr_fatal("bad test field type %c", f->t);
	}
}

/* Decodes exactly len bytes from a private allocation (so AddressSanitizer
 * catches any read past the end), checks that a failure leaves the output
 * cleared, frees what was decoded, and returns the result. */
static int tc_decode(int kind, const void *data, size_t len)
{
	char *buf = malloc(len ? len : 1);
	cr_assert(buf != NULL);
	if (len)
		memcpy(buf, data, len);
	int rc;
	switch (kind) {
	case TC_GUEST: {
		pf_guest_rec *r = (pf_guest_rec *)buf;   /* poison: must be reset */
		rc = pf_codec_guest_decode(&r, buf, len);
		if (rc)
			cr_assert(r == NULL, "*out is NULL after a failure");
		pf_guest_rec_free(r);
		break;
	}
	case TC_STAY: {
		pf_stay s = { .arrival = 20261123 };
		rc = pf_codec_stay_decode(&s, buf, len);
		if (rc)
			cr_assert(s.property == NULL && s.room == NULL);
		cr_assert(eq(i32, s.arrival, 20261123));
		pf_stay_clear(&s);
		break;
	}
	case TC_PROMPT: {
		pf_prompt p;
		memset(&p, 0x5a, sizeof p);
		rc = pf_codec_prompt_decode(&p, buf, len);
		if (rc)
			cr_assert(p.text == NULL && p.event_id == NULL && p.seq == 0);
		pf_prompt_clear(&p);
		break;
	}
	case TC_EVENT: {
		pf_event_rec e;
		memset(&e, 0x5a, sizeof e);
		rc = pf_codec_event_decode(&e, buf, len);
		if (rc)
			cr_assert(e.prompts == NULL && e.prompt_count == 0);
		pf_event_rec_clear(&e);
		break;
	}
	default: {
		pf_rule_rec r = { 7, NULL };
		rc = pf_codec_rule_decode(&r, buf, len);
		if (rc)
			cr_assert(r.source == NULL);
		free(r.source);
		break;
	}
	}
	free(buf);
	return rc;
}

/* Minimal valid records, per kind, to be varied by tests. */
static const unsigned char tc_id_a[16] = "0123456789abcdef";
static const unsigned char tc_id_b[16] = "fedcba9876543210";

static const tf tc_pref_fields[] = {
	{ .key = "value", .t = 's', .s = "lily" },
	{ .key = "kind", .t = 'u', .i = PF_LIKE },
	{ .key = "dept", .t = 's', .s = "housekeeping" },
	{ .key = "count", .t = 'u', .i = 1 },
	{ .key = "first", .t = 'i', .i = T0 },
	{ .key = "last", .t = 'i', .i = T0 },
};
#define TC_NPREF (sizeof tc_pref_fields / sizeof tc_pref_fields[0])

static const tf tc_base_guest[] = {
	{ .key = "v", .t = 'u', .i = PF_REC_GUEST_V },
	{ .key = "name", .t = 's', .s = "Zhuang Wei" },
	{ .key = "created", .t = 'i', .i = T0 },
	{ .key = "updated", .t = 'i', .i = T0 },
};
static const tf tc_base_stay[] = {
	{ .key = "v", .t = 'u', .i = PF_REC_STAY_V },
};
static const tf tc_base_prompt[] = {
	{ .key = "v", .t = 'u', .i = PF_REC_PROMPT_V },
	{ .key = "id", .t = 'b', .s = (const char *)tc_id_a, .n = 16 },
	{ .key = "guest", .t = 'b', .s = (const char *)tc_id_b, .n = 16 },
	{ .key = "event", .t = 's', .s = "res-881" },
	{ .key = "dept", .t = 's', .s = "front_desk" },
	{ .key = "rule", .t = 's', .s = "floor-preference" },
	{ .key = "prio", .t = 'u', .i = PF_PRIORITY_HIGH },
	{ .key = "text", .t = 's', .s = "Assign a room on floor 10" },
	{ .key = "status", .t = 'u', .i = PF_PROMPT_PENDING },
	{ .key = "created", .t = 'i', .i = T0 },
	{ .key = "due", .t = 'i', .i = T0 + 3600 },
	{ .key = "seq", .t = 'u', .i = 1 },
};
static const tf tc_base_event[] = {
	{ .key = "v", .t = 'u', .i = PF_REC_EVENT_V },
	{ .key = "kind", .t = 'u', .i = PF_EVENT_CHECK_IN },
	{ .key = "guest", .t = 'b', .s = (const char *)tc_id_b, .n = 16 },
	{ .key = "time", .t = 'i', .i = T0 },
};
static const tf tc_base_rule[] = {
	{ .key = "v", .t = 'u', .i = PF_REC_RULE_V },
	{ .key = "order", .t = 'u', .i = 0 },
	{ .key = "source", .t = 's', .s = "rule r\n  on check_in\n  notify spa low \"hi\"\n" },
};

static const tf *tc_base(int kind, size_t *n)
{
	switch (kind) {
	case TC_GUEST:  *n = sizeof tc_base_guest / sizeof(tf);  return tc_base_guest;
	case TC_STAY:   *n = sizeof tc_base_stay / sizeof(tf);   return tc_base_stay;
	case TC_PROMPT: *n = sizeof tc_base_prompt / sizeof(tf); return tc_base_prompt;
	case TC_EVENT:  *n = sizeof tc_base_event / sizeof(tf);  return tc_base_event;
	default:        *n = sizeof tc_base_rule / sizeof(tf);   return tc_base_rule;
	}
}

/*
 * Packs the base record of `kind` without the field `drop`, with each
 * extra field replacing the base field of the same name (or appended),
 * and decodes it.
 */
static int tc_variant(int kind, const char *drop, const tf *extra, size_t nextra)
{
	size_t nb;
	const tf *base = tc_base(kind, &nb);
	tf all[64];
	size_t n = 0;

	cr_assert(nb + nextra <= 64);
	for (size_t i = 0; i < nb; i++) {
		all[n] = base[i];
		if (drop && strcmp(base[i].key, drop) == 0)
			all[n].key = NULL;
		for (size_t j = 0; j < nextra; j++)
			if (extra[j].key && strcmp(extra[j].key, base[i].key) == 0)
				all[n] = extra[j];
		n++;
	}
	for (size_t j = 0; j < nextra; j++) {
		bool replaced = false;
		for (size_t i = 0; i < nb; i++)
			replaced |= extra[j].key && strcmp(extra[j].key, base[i].key) == 0;
		if (!replaced)
			all[n++] = extra[j];
	}

	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	tc_pack_fields(&pk, all, n);
	int rc = tc_decode(kind, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int tc_with(int kind, tf extra)
{
	return tc_variant(kind, NULL, &extra, 1);
}

/* The guest base with one preference whose fields are `pf` (n of them). */
static int tc_guest_pref(const char *category, const tf *pf, size_t n)
{
	tf cat = { .key = category, .t = 'm', .sub = pf, .n = n };
	return tc_with(TC_GUEST, (tf){ .key = "prefs", .t = 'm', .sub = &cat, .n = 1 });
}

/* The pref fields with one replaced / added / dropped. */
static int tc_pref_variant(const char *drop, const tf *extra)
{
	tf f[TC_NPREF + 1];
	size_t n = 0;
	bool replaced = false;
	for (size_t i = 0; i < TC_NPREF; i++) {
		if (drop && strcmp(tc_pref_fields[i].key, drop) == 0)
			continue;
		f[n] = tc_pref_fields[i];
		if (extra && strcmp(extra->key, f[n].key) == 0) {
			f[n] = *extra;
			replaced = true;
		}
		n++;
	}
	if (extra && !replaced)
		f[n++] = *extra;
	return tc_guest_pref("room.floor", f, n);
}

/* Asserts a corrupt-record failure whose message contains `part` and
 * names the database. */
static void tc_expect(int rc, int kind, const char *part)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "corrupt record in '%s': ", tc_db[kind]);
	cr_assert(eq(int, rc, PF_ECORRUPT), "expected corrupt (%s), got %d: %s", part, rc,
	          pf_errmsg());
	cr_assert(strncmp(pf_errmsg(), prefix, strlen(prefix)) == 0, "message: %s", pf_errmsg());
	cr_assert(strstr(pf_errmsg(), part) != NULL, "want '%s' in: %s", part, pf_errmsg());
}

static bool tc_streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

#define STREQ(a, b) cr_assert(tc_streq((a), (b)), "%s: '%s' != '%s'", #a, \
                              (a) ? (a) : "(null)", (b) ? (b) : "(null)")

/* ------------------------------------------------------------------ */
/* Full records for round trips                                         */
/* ------------------------------------------------------------------ */

/* Sorted by category, as records keep them. */
static const pf_pref tc_prefs[] = {
	{ "access.hearing", "visual fire alarm", PF_NEED, "front_desk", NULL, NULL, 1, T0, T0 },
	{ "amenity.flower", "\xe7\x99\xbe\xe5\x90\x88 lily", PF_LIKE, "housekeeping",
	  "Mei", "asked twice \xe2\x80\x94 tr\xc3\xa8s important", 2, T0 - 86400, T0 },
	{ "dining.cuisine", "\xe5\xb7\x9d\xe8\x8f\x9c", PF_LIKE, "restaurant", "Jo\xc3\xa3o",
	  NULL, 7, T0 - 5 * 86400, T0 - 60 },
	{ "room.pillow", "feather", PF_DISLIKE, "housekeeping", NULL,
	  "\xe9\x81\x8e\xe6\x95\x8f", 1, -5, 3 },
};
static const char *const tc_tags[] = { "advertising", "repeat_guest", "vip2" };

static void tc_full_guest(pf_guest_rec *r)
{
	memset(r, 0, sizeof *r);
	r->g.name = "\xe8\x8e\x8a\xe5\x81\x89 Zhuang Wei";
	r->g.email = "zw@example.com";
	r->g.phone = "+853 6123 4567";
	r->g.language = "zh";
	r->g.loyalty_no = "MO-00012345";
	r->g.birth_date = 19800229;
	r->g.tier = PF_TIER_PLATINUM;
	r->g.tags = tc_tags;
	r->g.tag_count = 3;
	r->g.consent = PF_CONSENT_PROFILING | PF_CONSENT_MARKETING;
	r->g.created = T0 - 1000;
	r->g.updated = T0;
	r->g.stays = 12;
	r->g.prefs = tc_prefs;
	r->g.pref_count = sizeof tc_prefs / sizeof tc_prefs[0];
	r->complaints_open = 1;
	r->complaints_total = 3;
	r->complaint_last_category = "room.noise";
	r->complaint_latest = "Bruit de la rue \xe2\x80\x94 street noise at night";
}

static void tc_full_prompt(pf_prompt *p)
{
	memset(p, 0, sizeof *p);
	memcpy(p->id.b, tc_id_a, 16);
	memcpy(p->guest.b, tc_id_b, 16);
	p->event_id = "res-881";
	p->department = "restaurant";
	p->rule = "sichuan-food";
	p->priority = PF_PRIORITY_URGENT;
	p->text = "Suggest Sichuan dishes \xe5\xb7\x9d\xe8\x8f\x9c; chili-oil sauce on the side";
	p->status = PF_PROMPT_DISMISSED;
	p->created = T0;
	p->due = T0 + 900;
	p->ack_by = "Andr\xc3\xa9";
	p->ack_at = T0 + 60;
	p->done_by = "\xe6\x9d\x8e\xe6\x98\x8e";
	p->done_at = T0 + 120;
	p->dismiss_reason = "guest left early";
	p->seq = UINT64_C(18446744073709551615);
}

static void tc_encode(int kind, msgpack_sbuffer *sb)
{
	msgpack_sbuffer_init(sb);
	switch (kind) {
	case TC_GUEST: {
		pf_guest_rec r;
		tc_full_guest(&r);
		assert_ok(pf_codec_guest_encode(sb, &r));
		break;
	}
	case TC_STAY: {
		pf_stay s = { .property = "MFM1", .room = "1012", .arrival = 20261123,
		              .departure = 20261127, .party = 2 };
		assert_ok(pf_codec_stay_encode(sb, &s));
		break;
	}
	case TC_PROMPT: {
		pf_prompt p;
		tc_full_prompt(&p);
		assert_ok(pf_codec_prompt_encode(sb, &p));
		break;
	}
	case TC_EVENT: {
		pf_id ids[2];
		memcpy(ids[0].b, tc_id_a, 16);
		memcpy(ids[1].b, tc_id_b, 16);
		pf_event_rec e = { PF_EVENT_RESERVATION, { { 0 } }, T0, 20261123, 2, ids };
		assert_ok(pf_codec_event_encode(sb, &e));
		break;
	}
	default: {
		pf_rule_rec r = { 3, "rule welcome-back\n  on check_in\n  when stays >= 1\n"
		                     "  notify front_desk normal \"Bem-vindo, {name}\"\n" };
		assert_ok(pf_codec_rule_encode(sb, &r));
		break;
	}
	}
}

/* ------------------------------------------------------------------ */
/* Round trips                                                          */
/* ------------------------------------------------------------------ */

Test(codec_roundtrip, guest_full)
{
	pf_guest_rec in, *out = NULL;
	msgpack_sbuffer sb;
	tc_full_guest(&in);
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_guest_encode(&sb, &in));
	assert_ok(pf_codec_guest_decode(&out, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);

	const pf_guest *g = &out->g;
	cr_assert(pf_id_is_zero(&g->id), "the id lives in the key");
	STREQ(g->name, in.g.name);
	STREQ(g->email, in.g.email);
	STREQ(g->phone, in.g.phone);
	STREQ(g->language, in.g.language);
	STREQ(g->loyalty_no, in.g.loyalty_no);
	cr_assert(eq(i32, g->birth_date, 19800229));
	cr_assert(eq(int, (int)g->tier, PF_TIER_PLATINUM));
	cr_assert(eq(u32, g->consent, PF_CONSENT_PROFILING | PF_CONSENT_MARKETING));
	cr_assert(eq(i64, g->created, T0 - 1000));
	cr_assert(eq(i64, g->updated, T0));
	cr_assert(eq(u32, g->stays, 12));
	cr_assert(eq(sz, g->tag_count, 3));
	cr_assert(g->tags == (const char *const *)out->tags);
	for (size_t i = 0; i < 3; i++)
		STREQ(g->tags[i], tc_tags[i]);
	cr_assert(eq(sz, g->pref_count, 4));
	cr_assert(g->prefs == out->prefs);
	for (size_t i = 0; i < 4; i++) {
		const pf_pref *a = &g->prefs[i], *b = &tc_prefs[i];
		STREQ(a->category, b->category);
		STREQ(a->value, b->value);
		cr_assert(eq(int, (int)a->kind, (int)b->kind));
		STREQ(a->department, b->department);
		STREQ(a->staff, b->staff);
		STREQ(a->note, b->note);
		cr_assert(eq(u32, a->count, b->count));
		cr_assert(eq(i64, a->first_seen, b->first_seen));
		cr_assert(eq(i64, a->last_seen, b->last_seen));
	}
	cr_assert(eq(u32, out->complaints_open, 1));
	cr_assert(eq(u32, out->complaints_total, 3));
	STREQ(out->complaint_last_category, in.complaint_last_category);
	STREQ(out->complaint_latest, in.complaint_latest);

	/* Decoding what was decoded and re-encoded gives the same bytes. */
	msgpack_sbuffer sb2, sb3;
	msgpack_sbuffer_init(&sb2);
	msgpack_sbuffer_init(&sb3);
	assert_ok(pf_codec_guest_encode(&sb2, out));
	tc_full_guest(&in);
	assert_ok(pf_codec_guest_encode(&sb3, &in));
	cr_assert(eq(sz, sb2.size, sb3.size));
	cr_assert(memcmp(sb2.data, sb3.data, sb2.size) == 0);
	msgpack_sbuffer_destroy(&sb2);
	msgpack_sbuffer_destroy(&sb3);
	pf_guest_free(&out->g);
}

Test(codec_roundtrip, guest_minimal_omits_empty_fields)
{
	pf_guest_rec in, *out = NULL;
	memset(&in, 0, sizeof in);
	in.g.name = "A";
	in.g.created = T0;
	in.g.updated = T0;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_guest_encode(&sb, &in));
	/* map(4) v name created updated: nothing else is written. */
	cr_assert(eq(u8, (uint8_t)sb.data[0], 0x84));
	assert_ok(pf_codec_guest_decode(&out, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	STREQ(out->g.name, "A");
	cr_assert(out->g.email == NULL && out->g.phone == NULL && out->g.language == NULL &&
	          out->g.loyalty_no == NULL && out->complaint_latest == NULL);
	cr_assert(out->g.tags == NULL && out->g.tag_count == 0);
	cr_assert(out->g.prefs == NULL && out->g.pref_count == 0);
	cr_assert(eq(u32, out->g.consent, 0), "no consent stays no consent");
	cr_assert(eq(int, (int)out->g.tier, PF_TIER_NONE));
	pf_guest_rec_free(out);
}

Test(codec_roundtrip, guest_prefs_sorted_on_decode)
{
	static const tf p1[] = {
		{ .key = "value", .t = 's', .s = "west" }, { .key = "kind", .t = 'u', .i = 0 },
		{ .key = "dept", .t = 's', .s = "front_desk" }, { .key = "count", .t = 'u', .i = 1 },
		{ .key = "first", .t = 'i', .i = 1 }, { .key = "last", .t = 'i', .i = 2 },
	};
	tf cats[] = {
		{ .key = "room.facing", .t = 'm', .sub = p1, .n = 6 },
		{ .key = "amenity.flower", .t = 'm', .sub = tc_pref_fields, .n = TC_NPREF },
		{ .key = "room", .t = 'm', .sub = p1, .n = 6 },
		{ .key = "dining", .t = 'm', .sub = tc_pref_fields, .n = TC_NPREF },
	};
	tf all[] = {
		tc_base_guest[0], tc_base_guest[1], tc_base_guest[2], tc_base_guest[3],
		{ .key = "prefs", .t = 'm', .sub = cats, .n = 4 },
	};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	tc_pack_fields(&pk, all, 5);
	pf_guest_rec *r = NULL;
	assert_ok(pf_codec_guest_decode(&r, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(eq(sz, r->g.pref_count, 4));
	STREQ(r->prefs[0].category, "amenity.flower");
	STREQ(r->prefs[1].category, "dining");
	STREQ(r->prefs[2].category, "room");
	STREQ(r->prefs[3].category, "room.facing");
	STREQ(r->prefs[3].value, "west");
	STREQ(r->prefs[0].value, "lily");
	pf_guest_rec_free(r);
}

Test(codec_roundtrip, stay_keeps_key_fields)
{
	msgpack_sbuffer sb;
	tc_encode(TC_STAY, &sb);
	pf_id g;
	memcpy(g.b, tc_id_a, 16);
	pf_stay s = { .guest = g, .arrival = 20250101 };
	assert_ok(pf_codec_stay_decode(&s, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(memcmp(s.guest.b, tc_id_a, 16) == 0, "guest untouched");
	cr_assert(eq(i32, s.arrival, 20250101), "arrival untouched (it is in the key)");
	STREQ(s.property, "MFM1");
	STREQ(s.room, "1012");
	cr_assert(eq(i32, s.departure, 20261127));
	cr_assert(eq(u32, s.party, 2));
	pf_stay_clear(&s);
	cr_assert(s.property == NULL && s.room == NULL);

	/* Nothing optional: all unknown. */
	pf_stay e = { .arrival = 20261123 };
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_stay_encode(&sb, &e));
	pf_stay d = { .property = NULL };
	assert_ok(pf_codec_stay_decode(&d, sb.data, sb.size));
	cr_assert(d.property == NULL && d.room == NULL && d.departure == 0 && d.party == 0);
	msgpack_sbuffer_destroy(&sb);
}

Test(codec_roundtrip, prompt_full_and_minimal)
{
	pf_prompt in, out;
	msgpack_sbuffer sb;
	tc_full_prompt(&in);
	tc_encode(TC_PROMPT, &sb);
	assert_ok(pf_codec_prompt_decode(&out, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(memcmp(out.id.b, in.id.b, 16) == 0);
	cr_assert(memcmp(out.guest.b, in.guest.b, 16) == 0);
	STREQ(out.event_id, in.event_id);
	STREQ(out.department, in.department);
	STREQ(out.rule, in.rule);
	cr_assert(eq(int, (int)out.priority, PF_PRIORITY_URGENT));
	STREQ(out.text, in.text);
	cr_assert(eq(int, (int)out.status, PF_PROMPT_DISMISSED));
	cr_assert(eq(i64, out.created, in.created));
	cr_assert(eq(i64, out.due, in.due));
	STREQ(out.ack_by, in.ack_by);
	cr_assert(eq(i64, out.ack_at, in.ack_at));
	STREQ(out.done_by, in.done_by);
	cr_assert(eq(i64, out.done_at, in.done_at));
	STREQ(out.dismiss_reason, in.dismiss_reason);
	cr_assert(eq(u64, out.seq, UINT64_MAX));
	pf_prompt_clear(&out);
	cr_assert(out.text == NULL && out.seq == 0, "clear zeroes the prompt");

	/* A fresh pending prompt: who/when fields stay empty. */
	in.status = PF_PROMPT_PENDING;
	in.ack_by = in.done_by = in.dismiss_reason = NULL;
	in.ack_at = in.done_at = 0;
	in.seq = 1;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_prompt_encode(&sb, &in));
	assert_ok(pf_codec_prompt_decode(&out, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(out.ack_by == NULL && out.done_by == NULL && out.dismiss_reason == NULL);
	cr_assert(out.ack_at == 0 && out.done_at == 0 && out.seq == 1);
	cr_assert(eq(int, (int)out.status, PF_PROMPT_PENDING));
	pf_prompt_clear(&out);
}

Test(codec_roundtrip, event_with_and_without_prompts)
{
	msgpack_sbuffer sb;
	pf_event_rec e;
	tc_encode(TC_EVENT, &sb);
	assert_ok(pf_codec_event_decode(&e, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(eq(int, (int)e.kind, PF_EVENT_RESERVATION));
	cr_assert(pf_id_is_zero(&e.guest));
	cr_assert(eq(i64, e.time, T0));
	cr_assert(eq(i32, e.arrival, 20261123));
	cr_assert(eq(sz, e.prompt_count, 2));
	cr_assert(memcmp(e.prompts[0].b, tc_id_a, 16) == 0);
	cr_assert(memcmp(e.prompts[1].b, tc_id_b, 16) == 0);
	pf_event_rec_clear(&e);
	cr_assert(e.prompts == NULL && e.prompt_count == 0);

	pf_event_rec none = { PF_EVENT_ROOM_CHANGE, { { 0 } }, -7, 0, 0, NULL };
	memcpy(none.guest.b, tc_id_b, 16);
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_event_encode(&sb, &none));
	assert_ok(pf_codec_event_decode(&e, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(eq(int, (int)e.kind, PF_EVENT_ROOM_CHANGE));
	cr_assert(memcmp(e.guest.b, tc_id_b, 16) == 0);
	cr_assert(eq(i64, e.time, -7));
	cr_assert(e.arrival == 0 && e.prompt_count == 0 && e.prompts == NULL);
	pf_event_rec_clear(&e);
}

Test(codec_roundtrip, rule_up_to_64k)
{
	size_t max = 64 * 1024;
	char *src = malloc(max + 2);
	cr_assert(src != NULL);
	for (size_t i = 0; i < max + 1; i++)
		src[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
	src[max] = '\0';

	pf_rule_rec in = { 41, src }, out = { 0, NULL };
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_rule_encode(&sb, &in));
	assert_ok(pf_codec_rule_decode(&out, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(eq(u32, out.order, 41));
	cr_assert(eq(str, out.source, src));
	free(out.source);

	/* One byte more is over the limit. */
	src[max] = 'z';
	src[max + 1] = '\0';
	tc_expect(tc_with(TC_RULE, (tf){ .key = "source", .t = 's', .s = src }), TC_RULE,
	          "field 'source' is longer than 65536 bytes");
	free(src);

	tc_encode(TC_RULE, &sb);
	assert_ok(pf_codec_rule_decode(&out, sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	cr_assert(eq(u32, out.order, 3));
	cr_assert(strstr(out.source, "Bem-vindo") != NULL);
	free(out.source);
}

/* ------------------------------------------------------------------ */
/* Corruption                                                           */
/* ------------------------------------------------------------------ */

Test(codec_corrupt, every_truncation_of_every_record)
{
	for (int kind = 0; kind < TC_KINDS; kind++) {
		msgpack_sbuffer sb;
		tc_encode(kind, &sb);
		cr_assert(eq(int, tc_decode(kind, sb.data, sb.size), 0), "%s: %s", tc_db[kind],
		          pf_errmsg());
		for (size_t len = 0; len < sb.size; len++) {
			int rc = tc_decode(kind, sb.data, len);
			if (rc != PF_ECORRUPT)
				cr_fatal("%s cut to %zu of %zu bytes: rc %d", tc_db[kind], len,
				               sb.size, rc);
		}
		msgpack_sbuffer_destroy(&sb);
	}
	tc_expect(tc_decode(TC_GUEST, "", 0), TC_GUEST, "empty record");
	cr_assert(eq(int, pf_codec_prompt_decode(&(pf_prompt){ 0 }, NULL, 0), PF_ECORRUPT));
}

Test(codec_corrupt, trailing_bytes)
{
	for (int kind = 0; kind < TC_KINDS; kind++) {
		msgpack_sbuffer sb;
		tc_encode(kind, &sb);
		size_t len = sb.size;
		char *two = malloc(2 * len);
		cr_assert(two != NULL);
		memcpy(two, sb.data, len);
		memcpy(two + len, sb.data, len);

		msgpack_sbuffer_write(&sb, "\xc0", 1);
		tc_expect(tc_decode(kind, sb.data, sb.size), kind, "trailing bytes after the record");
		/* Two whole records back to back are not one record either. */
		tc_expect(tc_decode(kind, two, 2 * len), kind, "trailing bytes after the record");
		cr_assert(eq(int, tc_decode(kind, two + len, len), 0));
		free(two);
		msgpack_sbuffer_destroy(&sb);
	}
}

Test(codec_corrupt, not_a_map)
{
	tc_expect(tc_decode(TC_GUEST, "\xc0", 1), TC_GUEST, "not a msgpack map");
	tc_expect(tc_decode(TC_STAY, "\x91\x01", 2), TC_STAY, "not a msgpack map");
	tc_expect(tc_decode(TC_EVENT, "\xa1v", 2), TC_EVENT, "not a msgpack map");
	tc_expect(tc_decode(TC_RULE, "\x01", 1), TC_RULE, "not a msgpack map");
	/* An empty map has no version. */
	tc_expect(tc_decode(TC_PROMPT, "\x80", 1), TC_PROMPT, "missing required field 'v'");
	/* 0xc1 is never valid msgpack. */
	tc_expect(tc_decode(TC_GUEST, "\x81\xa1v\xc1", 4), TC_GUEST, "invalid msgpack byte");
}

Test(codec_corrupt, wrong_types)
{
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "name", .t = 'u', .i = 5 }), TC_GUEST,
	          "field 'name' is not a string");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "email", .t = 'n' }), TC_GUEST,
	          "field 'email' is not a string");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "created", .t = 's', .s = "2026" }), TC_GUEST,
	          "field 'created' is not an integer");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "updated", .t = 'f' }), TC_GUEST,
	          "field 'updated' is not an integer");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "tags", .t = 's', .s = "vip" }), TC_GUEST,
	          "field 'tags' is not an array");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "prefs", .t = 'a', .n = 0 }), TC_GUEST,
	          "field 'prefs' is not a map");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "name", .t = 'b', .s = "Zhuang", .n = 6 }),
	          TC_GUEST, "field 'name' is not a string");
	tc_expect(tc_with(TC_PROMPT, (tf){ .key = "id", .t = 's', .s = "0123456789abcdef" }),
	          TC_PROMPT, "field 'id' is not a 16-byte id");
	tc_expect(tc_with(TC_PROMPT, (tf){ .key = "seq", .t = 'i', .i = -1 }), TC_PROMPT,
	          "field 'seq' is out of range");
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "time", .t = 'n' }), TC_EVENT,
	          "field 'time' is not an integer");
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "prompts", .t = 'b', .s = "x", .n = 1 }),
	          TC_EVENT, "field 'prompts' is not an array");
	tc_expect(tc_with(TC_STAY, (tf){ .key = "party", .t = 's', .s = "2" }), TC_STAY,
	          "field 'party' is not an integer");
	tc_expect(tc_with(TC_RULE, (tf){ .key = "order", .t = 'f' }), TC_RULE,
	          "field 'order' is not an integer");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "count", .t = 's', .s = "1" }), TC_GUEST,
	          "field 'prefs[room.floor].count' is not an integer");
	tc_expect(tc_guest_pref("room.floor", &(tf){ .t = 's', .s = "x" }, 0), TC_GUEST,
	          "missing required field 'prefs[room.floor].value'");
	/* A preference that is not a map at all. */
	tf notmap = { .key = "room.floor", .t = 's', .s = "10" };
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "prefs", .t = 'm', .sub = &notmap, .n = 1 }),
	          TC_GUEST, "'prefs[room.floor]' is not a map");
}

Test(codec_corrupt, missing_required_fields)
{
	static const char *const required[TC_KINDS][12] = {
		{ "v", "name", "created", "updated" },
		{ "v" },
		{ "v", "id", "guest", "event", "dept", "rule", "prio", "text", "status", "created",
		  "due", "seq" },
		{ "v", "kind", "guest", "time" },
		{ "v", "order", "source" },
	};
	char want[64];
	for (int kind = 0; kind < TC_KINDS; kind++) {
		cr_assert(eq(int, tc_variant(kind, NULL, NULL, 0), 0), "%s base: %s", tc_db[kind],
		          pf_errmsg());
		for (size_t i = 0; i < 12 && required[kind][i]; i++) {
			snprintf(want, sizeof want, "missing required field '%s'", required[kind][i]);
			tc_expect(tc_variant(kind, required[kind][i], NULL, 0), kind, want);
		}
	}
	/* Optional fields may go: every field of the base that is not listed
	 * above is optional (the stay base only has "v"). */
	const char *pref_required[] = { "value", "kind", "dept", "count", "first", "last" };
	cr_assert(eq(int, tc_pref_variant(NULL, NULL), 0), "%s", pf_errmsg());
	for (size_t i = 0; i < 6; i++) {
		snprintf(want, sizeof want, "missing required field 'prefs[room.floor].%s'",
		         pref_required[i]);
		tc_expect(tc_pref_variant(pref_required[i], NULL), TC_GUEST, want);
	}
}

Test(codec_corrupt, unknown_fields)
{
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "nickname", .t = 's', .s = "Z" }), TC_GUEST,
	          "unknown field 'nickname'");
	tc_expect(tc_with(TC_STAY, (tf){ .key = "arrival", .t = 'u', .i = 20261123 }), TC_STAY,
	          "unknown field 'arrival'");
	tc_expect(tc_with(TC_PROMPT, (tf){ .key = "Text", .t = 's', .s = "x" }), TC_PROMPT,
	          "unknown field 'Text'");
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "room", .t = 's', .s = "1012" }), TC_EVENT,
	          "unknown field 'room'");
	tc_expect(tc_with(TC_RULE, (tf){ .key = "name", .t = 's', .s = "r" }), TC_RULE,
	          "unknown field 'name'");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "colour", .t = 's', .s = "red" }),
	          TC_GUEST, "unknown field 'prefs[room.floor].colour'");
	/* A key that is a prefix of a known one is still unknown. */
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "nam", .t = 's', .s = "Z" }), TC_GUEST,
	          "unknown field 'nam'");
}

Test(codec_corrupt, duplicate_fields)
{
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "+name", .t = 's', .s = "Other" }), TC_GUEST,
	          "duplicate field 'name'");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "+v", .t = 'u', .i = 1 }), TC_GUEST,
	          "duplicate field 'v'");
	tc_expect(tc_with(TC_PROMPT, (tf){ .key = "+seq", .t = 'u', .i = 2 }), TC_PROMPT,
	          "duplicate field 'seq'");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "+kind", .t = 'u', .i = 1 }), TC_GUEST,
	          "duplicate field 'prefs[room.floor].kind'");
	/* The same category twice in the prefs map. */
	tf cats[] = {
		{ .key = "room.floor", .t = 'm', .sub = tc_pref_fields, .n = TC_NPREF },
		{ .key = "room.floor", .t = 'm', .sub = tc_pref_fields, .n = TC_NPREF },
	};
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "prefs", .t = 'm', .sub = cats, .n = 2 }),
	          TC_GUEST, "duplicate preference category 'room.floor'");
}

Test(codec_corrupt, keys_are_field_codes_or_names)
{
	/* {v:1, 7:"x"}: a stay has 5 fields, codes 0..4. */
	tc_expect(tc_decode(TC_STAY, "\x82\xa1v\x01\x07\xa1x", 7), TC_STAY,
	          "unknown field code 7");
	/* {v:1, -1:"x"}: a negative key is neither a code nor a name. */
	tc_expect(tc_decode(TC_STAY, "\x82\xa1v\x01\xff\xa1x", 7), TC_STAY,
	          "a key is neither a field code nor a name");
	/* {1:1}: code 1 is "order", and there is no "v" (code 0). */
	tc_expect(tc_decode(TC_RULE, "\x81\x01\x01", 3), TC_RULE, "missing required field 'v'");
	/* {0:1, 1:2, "source":"x"}: codes and names may mix (a record some
	 * tool rewrote in part), and the same field both ways is a duplicate. */
	tc_expect(tc_decode(TC_RULE, "\x84\x00\x01\x01\x02\xa6source\xa1x\x02\xa1y", 17),
	          TC_RULE, "duplicate field 'source'");
	/* A preference map keyed by an integer. */
	tf bad = { .key = "prefs", .t = 'r', .s = "\x81\x05\x80", .n = 3 };
	tc_expect(tc_with(TC_GUEST, bad), TC_GUEST, "'prefs (category)' is not a string");
	/* A nil key inside one preference. */
	tf bad2 = { .key = "prefs", .t = 'r', .s = "\x81\xa4room\x81\xc0\x01", .n = 9 };
	tc_expect(tc_with(TC_GUEST, bad2), TC_GUEST,
	          "a key in prefs[room] is neither a field code nor a name");
}

/* Schema 2 writes field codes, one byte each, never the names; the
 * same record written with names (schema 1) reads back identically. */
Test(codec_free, records_are_written_with_field_codes)
{
	pf_stay st = PF_STAY_INIT;
	st.property = "macau";
	st.room = "1001";
	st.departure = 20260105;
	st.party = 2;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	assert_ok(pf_codec_stay_encode(&sb, &st));
	/* {0:1, 1:"macau", 2:"1001", 3:20260105, 4:2} */
	const unsigned char *b = (const unsigned char *)sb.data;
	cr_assert(eq(int, b[0], 0x85));
	cr_assert(eq(int, b[1], 0x00), "the version's key is not code 0");
	cr_assert(eq(int, b[3], 0x01), "property's key is not code 1");
	cr_assert(eq(ptr, memmem(sb.data, sb.size, "property", 8), NULL), "a field name was written");
	pf_stay coded, named;
	memset(&coded, 0, sizeof coded);
	memset(&named, 0, sizeof named);
	assert_ok(pf_codec_stay_decode(&coded, sb.data, sb.size));
	static const char v1[] = "\x85\xa1" "v\x01\xa8" "property\xa5" "macau\xa4" "room\xa4" "1001"
	                         "\xa9" "departure\xce\x01\x35\x25\x09\xa5" "party\x02";
	assert_ok(pf_codec_stay_decode(&named, v1, sizeof v1 - 1));
	cr_assert_str_eq(coded.property, named.property);
	cr_assert_str_eq(coded.room, named.room);
	cr_assert(eq(int, coded.departure, named.departure));
	cr_assert(eq(int, coded.party, named.party));
	pf_stay_clear(&coded);
	pf_stay_clear(&named);
	msgpack_sbuffer_destroy(&sb);
}

Test(codec_corrupt, nesting_too_deep)
{
	/* tags: [[[["x"]]]] puts a container at depth 5 (the record is 1). */
	tf deep = { .key = "tags", .t = 'r', .s = "\x91\x91\x91\x91\xa1x", .n = 6 };
	tc_expect(tc_with(TC_GUEST, deep), TC_GUEST, "nesting deeper than 4 levels");
	/* Depth 4 is structurally fine, then refused for its type. */
	tf ok_depth = { .key = "tags", .t = 'r', .s = "\x91\x91\x91\xa1x", .n = 5 };
	tc_expect(tc_with(TC_GUEST, ok_depth), TC_GUEST, "field 'tags[0]' is not a string");
	/* Very deep nesting anywhere (here in an unknown field) is refused
	 * before anything else looks at it. */
	char raw[200];
	memset(raw, 0x91, 199);
	raw[199] = 0x01;
	tf deeper = { .key = "zzz", .t = 'r', .s = raw, .n = 200 };
	tc_expect(tc_with(TC_PROMPT, deeper), TC_PROMPT, "nesting deeper than 4 levels");
}

Test(codec_corrupt, overlong_strings)
{
	char s[PF_NOTE_MAX + 2];
	memset(s, 'a', sizeof s);
	struct { int kind; const char *key; size_t max; } cases[] = {
		{ TC_GUEST, "name", PF_NAME_MAX },
		{ TC_GUEST, "email", PF_FIELD_MAX },
		{ TC_GUEST, "phone", PF_FIELD_MAX },
		{ TC_GUEST, "lang", PF_FIELD_MAX },
		{ TC_GUEST, "loyalty", PF_FIELD_MAX },
		{ TC_GUEST, "c_latest", PF_NOTE_MAX },
		{ TC_STAY, "property", PF_FIELD_MAX },
		{ TC_STAY, "room", PF_FIELD_MAX },
		{ TC_PROMPT, "event", PF_FIELD_MAX },
		{ TC_PROMPT, "text", PF_PROMPT_TEXT_MAX },
		{ TC_PROMPT, "ack_by", PF_FIELD_MAX },
		{ TC_PROMPT, "reason", PF_NOTE_MAX },
	};
	char want[96];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tf at = { .key = cases[i].key, .t = 's', .s = s, .n = cases[i].max };
		cr_assert(eq(int, tc_with(cases[i].kind, at), 0), "%s at its limit: %s",
		          cases[i].key, pf_errmsg());
		at.n++;
		snprintf(want, sizeof want, "field '%s' is longer than %zu bytes", cases[i].key,
		         cases[i].max);
		tc_expect(tc_with(cases[i].kind, at), cases[i].kind, want);
	}
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "value", .t = 's', .s = s,
	                                       .n = PF_VALUE_MAX + 1 }),
	          TC_GUEST, "field 'prefs[room.floor].value' is longer than 200 bytes");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "note", .t = 's', .s = s,
	                                       .n = PF_NOTE_MAX + 1 }),
	          TC_GUEST, "field 'prefs[room.floor].note' is longer than 1000 bytes");
	/* A category of 65 bytes. */
	char cat[PF_CATEGORY_MAX + 2];
	memset(cat, 'c', sizeof cat - 1);
	cat[sizeof cat - 1] = '\0';
	tc_expect(tc_guest_pref(cat, tc_pref_fields, TC_NPREF), TC_GUEST, "longer than 64 bytes");
}

Test(codec_corrupt, invalid_utf8_and_nul)
{
	const char *bad[] = { "Zhu\xc0\xafng", "Zhuang \xed\xa0\x80", "Zhuang\xe8\x8e",
	                      "\xff", "Zh\0ang" };
	size_t len[] = { 8, 10, 8, 1, 6 };
	for (size_t i = 0; i < 5; i++) {
		tc_expect(tc_with(TC_GUEST, (tf){ .key = "name", .t = 's', .s = bad[i], .n = len[i] }),
		          TC_GUEST, "field 'name' is not valid UTF-8");
		tc_expect(tc_with(TC_PROMPT, (tf){ .key = "text", .t = 's', .s = bad[i], .n = len[i] }),
		          TC_PROMPT, "field 'text' is not valid UTF-8");
	}
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "staff", .t = 's', .s = "M\0i", .n = 3 }),
	          TC_GUEST, "field 'prefs[room.floor].staff' is not valid UTF-8");
	tc_expect(tc_with(TC_RULE, (tf){ .key = "source", .t = 's', .s = "rule\0x", .n = 6 }),
	          TC_RULE, "field 'source' is not valid UTF-8");
	/* Unprintable unknown keys are not echoed into the message. */
	int rc = tc_with(TC_STAY, (tf){ .key = "\xff\xfe", .t = 'u', .i = 1 });
	tc_expect(rc, TC_STAY, "unknown field");
	cr_assert(pf_utf8_valid(pf_errmsg(), strlen(pf_errmsg())), "message stays UTF-8");
}

Test(codec_corrupt, bad_enum_values)
{
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "tier", .t = 'u', .i = PF_TIER_VIP + 1 }),
	          TC_GUEST, "field 'tier' is out of range (5)");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "tier", .t = 'i', .i = -1 }), TC_GUEST,
	          "field 'tier' is out of range (-1)");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "consent", .t = 'u', .i = 4 }), TC_GUEST,
	          "field 'consent' is out of range");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "kind", .t = 'u', .i = 3 }), TC_GUEST,
	          "field 'prefs[room.floor].kind' is out of range (3)");
	tc_expect(tc_with(TC_PROMPT, (tf){ .key = "prio", .t = 'u', .i = 4 }), TC_PROMPT,
	          "field 'prio' is out of range (4)");
	tc_expect(tc_with(TC_PROMPT, (tf){ .key = "status", .t = 'u', .i = 4 }), TC_PROMPT,
	          "field 'status' is out of range (4)");
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "kind", .t = 'u', .i = 0 }), TC_EVENT,
	          "field 'kind' is out of range (0)");
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "kind", .t = 'u', .i = 5 }), TC_EVENT,
	          "field 'kind' is out of range (5)");
	/* The edges of each range are accepted. */
	cr_assert(eq(int, tc_with(TC_GUEST, (tf){ .key = "tier", .t = 'u', .i = PF_TIER_VIP }), 0));
	cr_assert(eq(int, tc_with(TC_GUEST, (tf){ .key = "consent", .t = 'u', .i = 3 }), 0));
	cr_assert(eq(int, tc_with(TC_EVENT, (tf){ .key = "kind", .t = 'u', .i = 4 }), 0));
	cr_assert(eq(int, tc_with(TC_PROMPT, (tf){ .key = "status", .t = 'u', .i = 3 }), 0));
	cr_assert(eq(int, tc_pref_variant(NULL, &(tf){ .key = "kind", .t = 'u', .i = PF_NEED }), 0));
}

Test(codec_corrupt, numeric_ranges)
{
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "stays", .t = 'u', .i = INT64_C(4294967296) }),
	          TC_GUEST, "field 'stays' is out of range (4294967296)");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "c_open", .t = 'i', .i = -3 }), TC_GUEST,
	          "field 'c_open' is out of range (-3)");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "count", .t = 'u', .i = 0 }), TC_GUEST,
	          "field 'prefs[room.floor].count' is out of range (0)");
	tc_expect(tc_with(TC_STAY, (tf){ .key = "party", .t = 'u', .i = INT64_C(1) << 32 }),
	          TC_STAY, "field 'party' is out of range");
	/* A time above INT64_MAX cannot be a pf_time. */
	tf big = { .key = "created", .t = 'r', .s = "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", .n = 9 };
	tc_expect(tc_with(TC_GUEST, big), TC_GUEST, "field 'created' is out of range");
	cr_assert(eq(int, tc_with(TC_EVENT, (tf){ .key = "time", .t = 'i', .i = INT64_MIN }), 0));
	cr_assert(eq(int, tc_with(TC_EVENT, (tf){ .key = "time", .t = 'i', .i = INT64_MAX }), 0));
}

Test(codec_corrupt, wrong_version)
{
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "v", .t = 'u', .i = 2 }), TC_GUEST,
	          "record version 2 is not supported (expected 1)");
	tc_expect(tc_with(TC_PROMPT, (tf){ .key = "v", .t = 'u', .i = 0 }), TC_PROMPT,
	          "record version 0 is not supported");
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "v", .t = 's', .s = "1" }), TC_EVENT,
	          "field 'v' is not an unsigned integer");
	tc_expect(tc_with(TC_RULE, (tf){ .key = "v", .t = 'i', .i = -1 }), TC_RULE,
	          "field 'v' is not an unsigned integer");
	for (int kind = 0; kind < TC_KINDS; kind++)
		tc_expect(tc_variant(kind, "v", NULL, 0), kind, "missing required field 'v'");
	/* The version is checked before other fields: a record of another
	 * version is not blamed on a field it may legitimately have. */
	tf v2[] = { { .key = "v", .t = 'u', .i = 2 }, { .key = "nickname", .t = 's', .s = "Z" } };
	tc_expect(tc_variant(TC_GUEST, NULL, v2, 2), TC_GUEST, "record version 2");
}

Test(codec_corrupt, ids_must_be_16_bytes)
{
	const char *ids = "0123456789abcdefg";
	size_t lens[] = { 0, 15, 17 };
	for (size_t i = 0; i < 3; i++) {
		tc_expect(tc_with(TC_PROMPT, (tf){ .key = "id", .t = 'b', .s = ids, .n = lens[i] }),
		          TC_PROMPT, "field 'id' is not a 16-byte id");
		tc_expect(tc_with(TC_PROMPT, (tf){ .key = "guest", .t = 'b', .s = ids, .n = lens[i] }),
		          TC_PROMPT, "field 'guest' is not a 16-byte id");
		tc_expect(tc_with(TC_EVENT, (tf){ .key = "guest", .t = 'b', .s = ids, .n = lens[i] }),
		          TC_EVENT, "field 'guest' is not a 16-byte id");
	}
	tf list[] = { { .t = 'b', .s = ids, .n = 16 }, { .t = 'b', .s = ids, .n = 8 } };
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "prompts", .t = 'a', .sub = list, .n = 2 }),
	          TC_EVENT, "field 'prompts[1]' is not a 16-byte id");
	cr_assert(eq(int, tc_with(TC_EVENT, (tf){ .key = "prompts", .t = 'a', .sub = list, .n = 1 }),
	             0));
}

Test(codec_corrupt, invalid_dates)
{
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "birth", .t = 'u', .i = 20260230 }), TC_GUEST,
	          "field 'birth' is not a valid date (20260230)");
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "birth", .t = 'u', .i = INT64_C(1) << 40 }),
	          TC_GUEST, "field 'birth' is not a valid date");
	tc_expect(tc_with(TC_STAY, (tf){ .key = "departure", .t = 'u', .i = 20261301 }), TC_STAY,
	          "field 'departure' is not a valid date");
	tc_expect(tc_with(TC_EVENT, (tf){ .key = "arrival", .t = 'i', .i = -20261123 }), TC_EVENT,
	          "field 'arrival' is not a valid date");
	cr_assert(eq(int, tc_with(TC_GUEST, (tf){ .key = "birth", .t = 'u', .i = 20000229 }), 0));
}

Test(codec_corrupt, preferences_and_tags)
{
	tc_expect(tc_guest_pref("Room.Floor", tc_pref_fields, TC_NPREF), TC_GUEST,
	          "preference category 'Room.Floor' is not lower-case dotted words");
	tc_expect(tc_guest_pref("a.b.c.d.e", tc_pref_fields, TC_NPREF), TC_GUEST,
	          "preference category 'a.b.c.d.e'");
	tc_expect(tc_guest_pref("", tc_pref_fields, TC_NPREF), TC_GUEST, "is empty");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "dept", .t = 's', .s = "Front Desk" }),
	          TC_GUEST, "field 'prefs[room.floor].dept' is not a lower-case word");
	tc_expect(tc_pref_variant(NULL, &(tf){ .key = "value", .t = 's', .s = "" }), TC_GUEST,
	          "field 'prefs[room.floor].value' is empty");

	/* PF_PREFS_MAX preferences are fine; one more is not. */
	static char names[PF_PREFS_MAX + 1][24];
	static tf cats[PF_PREFS_MAX + 1];
	for (int i = 0; i <= PF_PREFS_MAX; i++) {
		snprintf(names[i], sizeof names[i], "cat.c%03d", i);
		cats[i] = (tf){ .key = names[i], .t = 'm', .sub = tc_pref_fields, .n = TC_NPREF };
	}
	cr_assert(eq(int, tc_with(TC_GUEST, (tf){ .key = "prefs", .t = 'm', .sub = cats,
	                                          .n = PF_PREFS_MAX }), 0), "%s", pf_errmsg());
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "prefs", .t = 'm', .sub = cats,
	                                  .n = PF_PREFS_MAX + 1 }),
	          TC_GUEST, "more than 256 preferences");

	static tf tags[PF_TAGS_MAX + 1];
	for (int i = 0; i <= PF_TAGS_MAX; i++)
		tags[i] = (tf){ .t = 's', .s = "repeat" };
	cr_assert(eq(int, tc_with(TC_GUEST, (tf){ .key = "tags", .t = 'a', .sub = tags,
	                                          .n = PF_TAGS_MAX }), 0));
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "tags", .t = 'a', .sub = tags,
	                                  .n = PF_TAGS_MAX + 1 }),
	          TC_GUEST, "more than 32 tags");
	tags[1] = (tf){ .t = 's', .s = "Repeat Guest" };
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "tags", .t = 'a', .sub = tags, .n = 3 }),
	          TC_GUEST, "field 'tags[1]' is not a lower-case word");
	tags[1] = (tf){ .t = 'u', .i = 1 };
	tc_expect(tc_with(TC_GUEST, (tf){ .key = "tags", .t = 'a', .sub = tags, .n = 3 }),
	          TC_GUEST, "field 'tags[1]' is not a string");
}

/* Declared sizes far beyond the buffer must fail fast, without msgpack-c
 * trying to allocate for them. */
Test(codec_corrupt, forged_sizes)
{
	tc_expect(tc_decode(TC_GUEST, "\xdf\xff\xff\xff\xff\xa1v\x01", 8), TC_GUEST,
	          "truncated record");
	tc_expect(tc_decode(TC_GUEST, "\xde\xff\xff\xa1v\x01", 6), TC_GUEST, "truncated record");
	tf arr = { .key = "tags", .t = 'r', .s = "\xdd\xff\xff\xff\xff\xa1x", .n = 7 };
	tc_expect(tc_with(TC_GUEST, arr), TC_GUEST, "truncated record");
	tf str = { .key = "name", .t = 'r', .s = "\xdb\xff\xff\xff\xff" "abc", .n = 8 };
	tc_expect(tc_with(TC_GUEST, str), TC_GUEST, "truncated record");
	tf bin = { .key = "id", .t = 'r', .s = "\xc6\x7f\xff\xff\xff" "abc", .n = 8 };
	tc_expect(tc_with(TC_PROMPT, bin), TC_PROMPT, "truncated record");
	tf ext = { .key = "zzz", .t = 'r', .s = "\xc9\xff\xff\xff\xff\x01", .n = 6 };
	tc_expect(tc_with(TC_STAY, ext), TC_STAY, "truncated record");
	/* A well-formed ext value is structurally fine, then an unknown field. */
	tf ext2 = { .key = "zzz", .t = 'r', .s = "\xd4\x01\x02", .n = 3 };
	tc_expect(tc_with(TC_STAY, ext2), TC_STAY, "unknown field 'zzz'");
}

/* Every msgpack form the pre-scan must step over, each as the last value
 * of a record: a wrong size would leave trailing bytes or run short. */
Test(codec_corrupt, every_value_form_is_skipped_exactly)
{
	static const struct { const char *raw; size_t n; } forms[] = {
		{ "\x05", 1 }, { "\xff", 1 }, { "\xc0", 1 }, { "\xc2", 1 }, { "\xc3", 1 },
		{ "\xa3" "abc", 4 }, { "\xd9\x02" "ab", 4 }, { "\xda\x00\x02" "ab", 5 },
		{ "\xdb\x00\x00\x00\x02" "ab", 7 },
		{ "\xc4\x02" "ab", 4 }, { "\xc5\x00\x02" "ab", 5 }, { "\xc6\x00\x00\x00\x02" "ab", 7 },
		{ "\xc7\x02\x01" "ab", 5 }, { "\xc8\x00\x02\x01" "ab", 6 },
		{ "\xc9\x00\x00\x00\x02\x01" "ab", 8 },
		{ "\xca" "abcd", 5 }, { "\xcb" "abcdefgh", 9 },
		{ "\xcc\x01", 2 }, { "\xcd\x01\x02", 3 }, { "\xce\x01\x02\x03\x04", 5 },
		{ "\xcf" "abcdefgh", 9 }, { "\xd0\x01", 2 }, { "\xd1\x01\x02", 3 },
		{ "\xd2\x01\x02\x03\x04", 5 }, { "\xd3" "abcdefgh", 9 },
		{ "\xd4\x01" "a", 3 }, { "\xd5\x01" "ab", 4 }, { "\xd6\x01" "abcd", 6 },
		{ "\xd7\x01" "abcdefgh", 10 }, { "\xd8\x01" "abcdefghijklmnop", 18 },
		{ "\x92\x01\x02", 3 }, { "\xdc\x00\x02\x01\x02", 5 },
		{ "\xdd\x00\x00\x00\x02\x01\x02", 7 },
		{ "\x81\x01\x02", 3 }, { "\xde\x00\x01\x01\x02", 5 },
		{ "\xdf\x00\x00\x00\x01\x01\x02", 7 },
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		/* {v:1, zzz:<form>}: structurally sound, so the complaint is
		 * about the unknown field, not the bytes. */
		unsigned char buf[32] = { 0x82, 0xa1, 'v', 0x01, 0xa3, 'z', 'z', 'z' };
		memcpy(buf + 8, forms[i].raw, forms[i].n);
		int rc = tc_decode(TC_STAY, buf, 8 + forms[i].n);
		cr_assert(eq(int, rc, PF_ECORRUPT), "form %zu", i);
		cr_assert(strstr(pf_errmsg(), "unknown field 'zzz'") != NULL, "form %zu: %s", i,
		          pf_errmsg());
		rc = tc_decode(TC_STAY, buf, 8 + forms[i].n - 1);
		cr_assert(strstr(pf_errmsg(), "truncated record") != NULL, "form %zu cut: %s", i,
		          pf_errmsg());
	}
}

/* Random damage to valid records: every outcome is a clean success or
 * PF_ECORRUPT; under ASan, no read past the buffer and no leak. */
Test(codec_corrupt, random_damage)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int kind = 0; kind < TC_KINDS; kind++) {
		msgpack_sbuffer sb;
		tc_encode(kind, &sb);
		char *buf = malloc(sb.size);
		cr_assert(buf != NULL);
		int ok = 0;
		for (int round = 0; round < 4000; round++) {
			memcpy(buf, sb.data, sb.size);
			int flips = 1 + round % 3;
			for (int f = 0; f < flips; f++) {
				x ^= x << 13; x ^= x >> 7; x ^= x << 17;
				size_t at = (size_t)(x % sb.size);
				if (round & 1)
					buf[at] ^= (char)(1u << (x >> 32) % 8);
				else
					buf[at] = (char)(x >> 40);
			}
			int rc = tc_decode(kind, buf, sb.size);
			if (rc != 0 && rc != PF_ECORRUPT)
				cr_fatal("%s round %d: rc %d", tc_db[kind], round, rc);
			ok += rc == 0;
		}
		cr_assert(ok < 4000, "%s: damage was never detected", tc_db[kind]);
		free(buf);
		msgpack_sbuffer_destroy(&sb);
	}
}

/* ------------------------------------------------------------------ */
/* Copies and frees                                                     */
/* ------------------------------------------------------------------ */

Test(codec_free, rec_from_public_copies_deeply)
{
	char name[] = "Jo\xc3\xa3o Silva", email[] = "js@example.com", tag0[] = "advertising";
	const char *tags[] = { tag0, "repeat" };
	pf_guest g = PF_GUEST_INIT;
	memcpy(g.id.b, tc_id_a, 16);
	g.name = name;
	g.email = email;
	g.language = "pt-BR";
	g.birth_date = 19751231;
	g.tier = PF_TIER_GOLD;
	g.tags = tags;
	g.tag_count = 2;
	g.created = 5;               /* read-only fields are not copied */
	g.stays = 9;
	g.prefs = tc_prefs;
	g.pref_count = 4;

	pf_guest_rec *r = (pf_guest_rec *)&g;
	assert_ok(pf_guest_rec_from_public(&r, &g));
	memset(name, 'x', sizeof name - 1);
	memset(email, 'x', sizeof email - 1);
	memset(tag0, 'x', sizeof tag0 - 1);
	STREQ(r->g.name, "Jo\xc3\xa3o Silva");
	STREQ(r->g.email, "js@example.com");
	STREQ(r->g.language, "pt-BR");
	cr_assert(r->g.phone == NULL && r->g.loyalty_no == NULL);
	cr_assert(r->g.name != g.name && r->g.language != g.language);
	cr_assert(eq(sz, r->g.tag_count, 2));
	cr_assert(r->g.tags == (const char *const *)r->tags);
	STREQ(r->tags[0], "advertising");
	STREQ(r->tags[1], "repeat");
	cr_assert(memcmp(r->g.id.b, tc_id_a, 16) == 0);
	cr_assert(eq(i32, r->g.birth_date, 19751231));
	cr_assert(eq(int, (int)r->g.tier, PF_TIER_GOLD));
	cr_assert(eq(u32, r->g.consent, PF_CONSENT_PROFILING));
	cr_assert(r->g.created == 0 && r->g.stays == 0);
	cr_assert(r->g.prefs == NULL && r->g.pref_count == 0 && r->prefs == NULL);
	pf_guest_rec_free(r);

	g.tag_count = 0;
	g.tags = NULL;
	assert_ok(pf_guest_rec_from_public(&r, &g));
	cr_assert(r->tags == NULL && r->g.tag_count == 0);
	pf_guest_rec_free(r);

	g.tag_count = 1;
	cr_assert(eq(int, pf_guest_rec_from_public(&r, &g), PF_EINVAL));
	cr_assert(r == NULL);
	cr_assert(eq(int, pf_guest_rec_from_public(&r, NULL), PF_EINVAL));
}

static char *tc_strdup(const char *s)
{
	char *d = strdup(s);
	cr_assert(d != NULL);
	return d;
}

Test(codec_free, null_and_empty_are_fine)
{
	pf_guest_free(NULL);
	pf_guest_rec_free(NULL);
	pf_guest_list_free(NULL);
	pf_pref_free(NULL);
	pf_pref_list_free(NULL);
	pf_stay_list_free(NULL);
	pf_prompt_list_free(NULL);
	pf_stay_clear(NULL);
	pf_prompt_clear(NULL);
	pf_event_rec_clear(NULL);

	pf_guest_list *gl = calloc(1, sizeof *gl);
	pf_pref_list *pl = calloc(1, sizeof *pl);
	pf_stay_list *sl = calloc(1, sizeof *sl);
	pf_prompt_list *ql = calloc(1, sizeof *ql);
	cr_assert(gl && pl && sl && ql);
	pf_guest_list_free(gl);
	pf_pref_list_free(pl);
	pf_stay_list_free(sl);
	pf_prompt_list_free(ql);
}

/* Filled objects, freed: LeakSanitizer (make check-asan) fails the run if
 * any string is left behind. */
Test(codec_free, filled_objects)
{
	pf_pref *p = calloc(1, sizeof *p);
	cr_assert(p != NULL);
	p->category = tc_strdup("room.floor");
	p->value = tc_strdup("10");
	p->department = tc_strdup("front_desk");
	p->note = tc_strdup("high floors only");
	pf_pref_free(p);

	pf_pref_list *pl = calloc(1, sizeof *pl);
	cr_assert(pl != NULL);
	pl->items = calloc(2, sizeof *pl->items);
	pl->count = 2;
	for (int i = 0; i < 2; i++) {
		pl->items[i].category = tc_strdup("a.b");
		pl->items[i].value = tc_strdup("v");
		pl->items[i].department = tc_strdup("spa");
		pl->items[i].staff = tc_strdup("Mei");
	}
	pf_pref_list_free(pl);

	pf_stay_list *sl = calloc(1, sizeof *sl);
	cr_assert(sl != NULL);
	sl->items = calloc(2, sizeof *sl->items);
	sl->count = 2;
	sl->items[0].property = tc_strdup("MFM1");
	sl->items[1].room = tc_strdup("1012");
	pf_stay_list_free(sl);

	pf_prompt_list *ql = calloc(1, sizeof *ql);
	cr_assert(ql != NULL);
	ql->items = calloc(1, sizeof *ql->items);
	ql->count = 1;
	msgpack_sbuffer sb;
	tc_encode(TC_PROMPT, &sb);
	assert_ok(pf_codec_prompt_decode(&ql->items[0], sb.data, sb.size));
	msgpack_sbuffer_destroy(&sb);
	pf_prompt_list_free(ql);

	pf_guest_list *gl = calloc(1, sizeof *gl);
	cr_assert(gl != NULL);
	gl->items = calloc(2, sizeof *gl->items);
	gl->count = 2;
	tc_encode(TC_GUEST, &sb);
	for (int i = 0; i < 2; i++) {
		pf_guest_rec *r = NULL;
		assert_ok(pf_codec_guest_decode(&r, sb.data, sb.size));
		gl->items[i] = &r->g;
	}
	msgpack_sbuffer_destroy(&sb);
	pf_guest_list_free(gl);
}

Test(codec_free, encode_refuses_null)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	cr_assert(eq(int, pf_codec_guest_encode(&sb, NULL), PF_EINVAL));
	cr_assert(eq(int, pf_codec_prompt_encode(NULL, &(pf_prompt){ 0 }), PF_EINVAL));
	cr_assert(eq(sz, sb.size, 0), "nothing written");
	msgpack_sbuffer_destroy(&sb);
	cr_assert(eq(int, pf_codec_guest_decode(NULL, "\x80", 1), PF_EINVAL));
	cr_assert(eq(int, pf_codec_stay_decode(NULL, "\x80", 1), PF_EINVAL));
}
