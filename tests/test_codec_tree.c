/*
 * test_codec_tree.c — the guest record's read path builds msgpack-c's
 * object tree itself (codec.c's build(), into a caller's buffer, no zone):
 * on random records written in every msgpack format (signed formats
 * holding non-negative values, str/bin/ext of every width, floats, nested
 * arrays and maps) the tree equals msgpack_unpack_next's, whether it fits
 * the caller's buffer or moves to the heap, and damaged records are refused
 * with the pre-scan's message.
 */
#include "helpers.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

int pf_codec_test_tree_same(const void *data, size_t len);

static uint64_t rng = 0x2545F4914F6CDD1Du;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

typedef struct out {
	unsigned char b[1 << 16];
	size_t n;
} out;

static void byte(out *o, unsigned v)
{
	cr_assert(o->n < sizeof o->b);
	o->b[o->n++] = (unsigned char)v;
}

static void be(out *o, uint64_t v, int w)
{
	for (int i = w - 1; i >= 0; i--)
		byte(o, (unsigned)(v >> (8 * i)) & 0xff);
}

static void bytes(out *o, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		byte(o, 'a' + rnd(26));
}

static void value(out *o, int depth);

static void container(out *o, int depth, bool map)
{
	unsigned n = rnd(6);
	switch (rnd(3)) {
	case 0: byte(o, (map ? 0x80 : 0x90) | n); break;
	case 1: byte(o, map ? 0xde : 0xdc); be(o, n, 2); break;
	default: byte(o, map ? 0xdf : 0xdd); be(o, n, 4); break;
	}
	for (unsigned i = 0; i < n * (map ? 2 : 1); i++)
		value(o, depth + 1);
}

static void value(out *o, int depth)
{
	static const double fl[] = { 0.0, -1.5, 3.25, 1e300, -2e-300 };
	unsigned k = rnd(depth < 3 ? 12 : 10);
	uint64_t u = rnd(2) ? rnd(200) : ((uint64_t)rnd(1u << 31) << 33) ^ rnd(1u << 31);
	switch (k) {
	case 0: byte(o, 0xc0 + (rnd(3) == 0 ? 0 : 2 + rnd(2))); break;  /* nil, false, true */
	case 1:                                   /* fixints */
		byte(o, rnd(2) ? rnd(0x80) : 0xe0 + rnd(32));
		break;
	case 2: {                                 /* uint 8..64 */
		int w = 1 << rnd(4);
		byte(o, 0xcc + (unsigned)__builtin_ctz((unsigned)w));
		be(o, w == 8 ? u : u & ((UINT64_C(1) << (8 * w)) - 1), w);
		break;
	}
	case 3: {                                 /* int 8..64, either sign */
		int w = 1 << rnd(4);
		byte(o, 0xd0 + (unsigned)__builtin_ctz((unsigned)w));
		be(o, w == 8 ? u : u & ((UINT64_C(1) << (8 * w)) - 1), w);
		break;
	}
	case 4: {                                 /* float 32 / 64 */
		double d = fl[rnd(5)];
		if (rnd(2)) {
			float f = (float)(d > 1e30 || d < -1e30 || (d != 0 && d < 1e-30 && d > -1e-30)
			                  ? 2.5 : d);
			uint32_t i;
			memcpy(&i, &f, 4);
			byte(o, 0xca);
			be(o, i, 4);
		} else {
			uint64_t i;
			memcpy(&i, &d, 8);
			byte(o, 0xcb);
			be(o, i, 8);
		}
		break;
	}
	case 5: case 6: {                         /* str: fix, 8, 16, 32 */
		unsigned n = rnd(40);
		switch (rnd(4)) {
		case 0: n %= 32; byte(o, 0xa0 | n); break;
		case 1: byte(o, 0xd9); be(o, n, 1); break;
		case 2: byte(o, 0xda); be(o, n, 2); break;
		default: byte(o, 0xdb); be(o, n, 4); break;
		}
		bytes(o, n);
		break;
	}
	case 7: {                                 /* bin 8, 16, 32 */
		unsigned n = rnd(20), w = 1u << rnd(3);
		byte(o, 0xc4 + (w == 1 ? 0 : w == 2 ? 1 : 2));
		be(o, n, (int)w);
		bytes(o, n);
		break;
	}
	case 8: {                                 /* fixext 1..16 */
		unsigned w = rnd(5);
		byte(o, 0xd4 + w);
		byte(o, rnd(256));
		bytes(o, 1u << w);
		break;
	}
	case 9: {                                 /* ext 8, 16, 32 */
		unsigned n = rnd(20), w = 1u << rnd(3);
		byte(o, 0xc7 + (w == 1 ? 0 : w == 2 ? 1 : 2));
		be(o, n, (int)w);
		byte(o, rnd(256));
		bytes(o, n);
		break;
	}
	case 10: container(o, depth, false); break;
	default: container(o, depth, true); break;
	}
}

Test(codec_tree, the_tree_is_msgpack_c_s_on_random_records)
{
	static out o;
	int compared = 0, refused = 0;
	for (int i = 0; i < 40000; i++) {
		o.n = 0;
		container(&o, 0, true);
		/* Every other record damaged: a byte changed, or cut short. */
		if (i % 2 && o.n) {
			if (rnd(2))
				o.b[rnd((unsigned)o.n)] = (unsigned char)rnd(256);
			else
				o.n = rnd((unsigned)o.n);
		}
		int same = pf_codec_test_tree_same(o.b, o.n);
		cr_assert(ne(int, same, 0), "record %d (%zu bytes): another tree or another "
		          "error than msgpack-c's and the pre-scan's", i, o.n);
		compared += same == 1;
		refused += same == -1;
	}
	/* Both outcomes must be well represented. */
	cr_assert(gt(int, compared, 15000), "%d compared", compared);
	cr_assert(gt(int, refused, 5000), "%d refused", refused);
}

/* ---- the packed guest record (one block) and the malloc'd one agree ---- */

#include "codec.h"

static bool same_str(const char *x, const char *y)
{
	return (x == NULL) == (y == NULL) && (!x || strcmp(x, y) == 0);
}

static void same_guest(const pf_guest_rec *a, const pf_guest_rec *b)
{
#define S(f) cr_assert(same_str(a->f, b->f), #f)
	S(g.name); S(g.email); S(g.phone); S(g.language); S(g.loyalty_no);
	S(g.external_id); S(g.country); S(complaint_last_category); S(complaint_latest);
	cr_assert(eq(int, a->g.tier, b->g.tier));
	cr_assert(eq(u32, a->g.stays, b->g.stays));
	cr_assert(eq(u32, a->complaints_open, b->complaints_open));
	cr_assert(eq(sz, a->g.tag_count, b->g.tag_count));
	for (size_t i = 0; i < a->g.tag_count; i++)
		S(g.tags[i]);
	cr_assert(eq(sz, a->g.pref_count, b->g.pref_count));
	for (size_t i = 0; i < a->g.pref_count; i++) {
		S(g.prefs[i].category); S(g.prefs[i].value); S(g.prefs[i].department);
		S(g.prefs[i].staff); S(g.prefs[i].note);
		cr_assert(eq(int, a->g.prefs[i].kind, b->g.prefs[i].kind));
		cr_assert(eq(i64, a->g.prefs[i].last_seen, b->g.prefs[i].last_seen));
	}
#undef S
}

Test(codec_tree, packed_guest_records_decode_as_malloced_ones_damaged_or_not)
{
	static const char *const cats[] = { "allergy.nuts", "drink.tea", "food.diet",
	                                    "room.floor", "room.view", "spa.oil" };
	pf_pref prefs[6];
	const char *tags[3] = { "press", "vip", "advertising" };
	pf_guest_rec in;
	memset(&in, 0, sizeof in);
	in.g.name = "Zhuang Wei";
	in.g.email = "zw@example.com";
	in.g.language = "zh-TW";
	in.g.country = "MAC";
	in.g.tier = PF_TIER_GOLD;
	in.g.stays = 4;
	in.g.created = in.g.updated = T0;
	in.g.tags = tags;
	in.tags = (char **)tags;
	in.g.tag_count = 3;
	in.complaints_open = 1;
	in.complaint_latest = "cold soup";
	for (int i = 0; i < 6; i++)
		prefs[i] = (pf_pref){ cats[i], i % 2 ? "High" : "sea view", (pf_pref_kind)(i % 3),
		                      "housekeeping", i % 2 ? "lina" : NULL,
		                      i == 3 ? "floor 10 or higher" : NULL, 1, T0, T0 + i };
	in.g.prefs = in.prefs = prefs;
	in.g.pref_count = 6;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	cr_assert(eq(int, pf_codec_guest_encode(&sb, &in), 0));

	static unsigned char buf[4096];
	cr_assert(sb.size <= sizeof buf);
	int failed = 0;
	for (int round = 0; round < 4000; round++) {
		memcpy(buf, sb.data, sb.size);
		size_t len = sb.size;
		/* Round 0 is the record as written; then damage: a byte or
		 * two changed, or the record cut short. */
		for (int k = 0; round && k < 1 + (int)rnd(2); k++)
			buf[rnd((unsigned)len)] = (unsigned char)rnd(256);
		if (round && rnd(8) == 0)
			len = rnd((unsigned)len);
		pf_guest_rec *a = NULL, *b = NULL;
		int ra = pf_codec_guest_decode(&a, buf, len);
		char ma[512];
		snprintf(ma, sizeof ma, "%s", pf_errmsg());
		int rb = pf_codec_guest_decode_packed(&b, buf, len);
		cr_assert(eq(int, ra, rb), "round %d: %d vs %d (%s / %s)", round, ra, rb, ma,
		          pf_errmsg());
		if (ra) {
			cr_assert(eq(str, ma, (char *)pf_errmsg()));
			failed++;
		} else {
			cr_assert(b->packed && !a->packed);
			same_guest(a, b);
		}
		pf_guest_rec_free(a);
		pf_guest_rec_free(b);
	}
	cr_assert(gt(int, failed, 1000), "%d damaged records refused", failed);
	msgpack_sbuffer_destroy(&sb);
}
