/*
 * codec.c — every stored record as a msgpack map, encoded and decoded in
 * one place, and the internal helpers that free decoded records
 * (pf_guest_rec_free, pf_pref_clear, pf_stay_clear, pf_prompt_clear).  The
 * public _free() functions live beside their types' modules.
 *
 * Decoding trusts nothing: a record read from disk may be truncated,
 * bit-flipped or written by a buggy tool.  Before msgpack-c sees the bytes,
 * a bounds-checked pre-scan proves the buffer holds exactly one map, no
 * deeper than PF_CODEC_MAX_DEPTH, whose declared counts fit in the bytes
 * present (so a forged count cannot make msgpack-c allocate gigabytes).
 * Then every field is checked for type, range, UTF-8 and length.
 *
 * The guest record, read on every check-in and look-up, skips msgpack-c's
 * unpacker (a zone of two mallocs per record): build() makes the same
 * object tree on the caller's stack.  Readers that only look at a guest
 * take it packed (pf_codec_guest_decode_packed): one block holding the
 * record, its arrays and its strings, instead of a malloc per field.
 *
 * May call: text.c (UTF-8, word/category/date checks), error.c, msgpack-c.
 */
#include "codec.h"
#include "error.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rule sources and templates may be long; this is the stored limit. */
#define PF_RULE_SOURCE_MAX (64 * 1024)

/* ------------------------------------------------------------------ */
/* Freeing                                                              */
/* ------------------------------------------------------------------ */

/* Stored strings are malloc'd but exposed as const char * in the API. */
static void xfree(const void *p)
{
	free((void *)p);
}

void pf_pref_clear(pf_pref *p)
{
	xfree(p->category);
	xfree(p->value);
	xfree(p->department);
	xfree(p->staff);
	xfree(p->note);
	memset(p, 0, sizeof *p);
}

void pf_guest_rec_free(pf_guest_rec *r)
{
	if (!r)
		return;
	if (r->packed) {          /* one block: strings and arrays inside it */
		free(r);
		return;
	}
	xfree(r->g.name);
	xfree(r->g.email);
	xfree(r->g.phone);
	xfree(r->g.language);
	xfree(r->g.loyalty_no);
	xfree(r->g.external_id);
	xfree(r->g.country);
	if (r->tags)
		for (size_t i = 0; i < r->g.tag_count; i++)
			free(r->tags[i]);
	free(r->tags);
	if (r->prefs)
		for (size_t i = 0; i < r->g.pref_count; i++)
			pf_pref_clear(&r->prefs[i]);
	free(r->prefs);
	free(r->complaint_last_category);
	free(r->complaint_latest);
	free(r);
}

void pf_stay_clear(pf_stay *s)
{
	if (!s)
		return;
	xfree(s->property);
	xfree(s->room);
	s->property = NULL;
	s->room = NULL;
}

void pf_prompt_clear(pf_prompt *p)
{
	if (!p)
		return;
	xfree(p->event_id);
	xfree(p->department);
	xfree(p->rule);
	xfree(p->text);
	xfree(p->ack_by);
	xfree(p->done_by);
	xfree(p->dismiss_reason);
	xfree(p->language);
	memset(p, 0, sizeof *p);
}

void pf_event_rec_clear(pf_event_rec *e)
{
	if (!e)
		return;
	free(e->prompts);
	memset(e, 0, sizeof *e);
}

/* ------------------------------------------------------------------ */
/* Copying a caller's guest                                             */
/* ------------------------------------------------------------------ */

/* Copies src into *dst; false only when malloc fails. */
static bool dup_into(const char **dst, const char *src)
{
	if (!src) {
		*dst = NULL;
		return true;
	}
	*dst = strdup(src);
	return *dst != NULL;
}

int pf_pref_copy(pf_pref *dst, const pf_pref *src)
{
	*dst = *src;
	/* None may alias src's strings when the copy is undone below. */
	dst->category = dst->value = dst->department = dst->staff = dst->note = NULL;
	if (!dup_into(&dst->category, src->category) || !dup_into(&dst->value, src->value) ||
	    !dup_into(&dst->department, src->department) ||
	    !dup_into(&dst->staff, src->staff) || !dup_into(&dst->note, src->note)) {
		pf_pref_clear(dst);
		return PF_ENOMEM;
	}
	return 0;
}

int pf_guest_rec_from_public(pf_guest_rec **out, const pf_guest *g)
{
	pf_guest_rec *r = NULL;
	int rc = PF_ENOMEM;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_guest_rec_from_public: out is NULL");
	*out = NULL;
	if (!g)
		return pf_seterr(PF_EINVAL, "pf_guest_rec_from_public: guest is NULL");
	if (g->tag_count > 0 && !g->tags)
		return pf_seterr(PF_EINVAL, "pf_guest_rec_from_public: tags is NULL");

	r = calloc(1, sizeof *r);
	if (!r)
		goto fail;
	r->g.version = PF_GUEST_VERSION;   /* the library's own copy */
	r->g.id = g->id;
	r->g.birth_date = g->birth_date;
	r->g.tier = g->tier;
	r->g.consent = g->consent;
	if (!dup_into(&r->g.name, g->name) || !dup_into(&r->g.email, g->email) ||
	    !dup_into(&r->g.phone, g->phone) || !dup_into(&r->g.language, g->language) ||
	    !dup_into(&r->g.loyalty_no, g->loyalty_no) ||
	    !dup_into(&r->g.external_id, g->external_id) ||
	    !dup_into(&r->g.country, g->country))
		goto fail;
	if (g->tag_count > 0) {
		r->tags = calloc(g->tag_count, sizeof *r->tags);
		if (!r->tags)
			goto fail;
		r->g.tags = (const char *const *)r->tags;
		for (size_t i = 0; i < g->tag_count; i++) {
			if (!g->tags[i]) {
				rc = pf_seterr(PF_EINVAL, "pf_guest_rec_from_public: tag %zu is NULL", i);
				goto fail;
			}
			r->tags[i] = strdup(g->tags[i]);
			if (!r->tags[i])
				goto fail;
			r->g.tag_count++;   /* counts what the record owns, for freeing */
		}
	}
	*out = r;
	return 0;
fail:
	pf_guest_rec_free(r);
	if (rc == PF_ENOMEM)
		rc = pf_seterr(PF_ENOMEM, "out of memory copying a guest");
	return rc;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */
/* ------------------------------------------------------------------ */

/*
 * Each record's fields are written by one function that runs twice: first
 * with no packer, only counting the fields present (msgpack needs the map
 * size up front), then writing them.  One list of fields cannot disagree
 * with its own count.
 */
/*
 * A record's field table, shared by its encoder and its decoder.  Since
 * schema 2 a field's key on disk is its index in `names` (a one-byte
 * msgpack fixint) rather than the name itself: the names made up a third
 * of a guest record.  The decoder still reads named keys, so a schema-1
 * record, or a record kept inside another (a merge's "before" copies),
 * reads the same.
 */
typedef struct shape {
	const char *db;
	const char *const *names;
	int count;                /* at most 32 */
	uint32_t required;        /* bit i: names[i] must be present */
	int version;              /* > 0: names[0] is "v" and must hold this */
} shape;

#define BIT(i) (UINT32_C(1) << (i))

/* Defined with the decoders below. */
static const shape pref_shape, guest_shape, stay_shape, prompt_shape, event_shape,
	rule_shape, journal_shape, merge_shape, feedback_shape;

typedef struct enc {
	msgpack_packer *pk;       /* NULL: count only */
	const shape *sh;          /* the table whose indices are the keys */
	int at;                   /* index of the last key written */
	size_t n;
	int err;                  /* non-zero once a write failed (out of memory) */
} enc;

typedef void (*fields_fn)(enc *e, const void *rec);

/* Starts a field: counts it, or writes its key (its index in the
 * record's table).  True when the caller must write the value. */
static bool e_key(enc *e, const char *key)
{
	if (!e->pk) {
		e->n++;
		return false;
	}
	/* Fields are written in table order: the search starts after the
	 * last one and almost always stops at once. */
	const shape *sh = e->sh;
	int idx = -1;
	for (int i = 0; i < sh->count && idx < 0; i++) {
		int f = (e->at + 1 + i) % sh->count;
		if (strcmp(sh->names[f], key) == 0)
			idx = f;
	}
	if (idx < 0) {
		e->err |= 1;          /* a name missing from the table: a bug here */
		return false;
	}
	e->at = idx;
	e->err |= msgpack_pack_uint32(e->pk, (uint32_t)idx);
	return true;
}

static void e_str(enc *e, const char *key, const char *s)
{
	if (s && e_key(e, key))
		e->err |= msgpack_pack_str_with_body(e->pk, s, strlen(s));
}

static void e_uint(enc *e, const char *key, uint64_t v, bool always)
{
	if ((v || always) && e_key(e, key))
		e->err |= msgpack_pack_uint64(e->pk, v);
}

static void e_int(enc *e, const char *key, int64_t v, bool always)
{
	if ((v || always) && e_key(e, key))
		e->err |= msgpack_pack_int64(e->pk, v);
}

static void e_id(enc *e, const char *key, const pf_id *id)
{
	if (e_key(e, key))
		e->err |= msgpack_pack_bin_with_body(e->pk, id->b, sizeof id->b);
}

/* Writes a map of the fields `fn` emits for `rec`, keyed by `sh`. */
static int e_map(msgpack_packer *pk, const shape *sh, fields_fn fn, const void *rec)
{
	enc e = { NULL, sh, -1, 0, 0 };
	fn(&e, rec);
	int err = msgpack_pack_map(pk, e.n);
	e.pk = pk;
	fn(&e, rec);
	return err | e.err;
}

static int encode(msgpack_sbuffer *sb, const shape *sh, fields_fn fn, const void *rec)
{
	if (!sb || !rec)
		return pf_seterr(PF_EINVAL, "encoding a '%s' record: NULL argument", sh->db);
	msgpack_packer pk;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (e_map(&pk, sh, fn, rec))
		return pf_seterr(PF_ENOMEM, "out of memory encoding a '%s' record", sh->db);
	return 0;
}

static void pref_fields(enc *e, const void *rec)
{
	const pf_pref *p = rec;
	e_str(e, "value", p->value);
	e_uint(e, "kind", (uint64_t)p->kind, true);
	e_str(e, "dept", p->department);
	e_str(e, "staff", p->staff);
	e_str(e, "note", p->note);
	e_uint(e, "count", p->count, true);
	e_int(e, "first", p->first_seen, true);
	e_int(e, "last", p->last_seen, true);
}

static void guest_fields(enc *e, const void *rec)
{
	const pf_guest_rec *r = rec;
	const pf_guest *g = &r->g;

	e_uint(e, "v", PF_REC_GUEST_V, true);
	e_str(e, "name", g->name);
	e_str(e, "email", g->email);
	e_str(e, "phone", g->phone);
	e_str(e, "lang", g->language);
	e_str(e, "loyalty", g->loyalty_no);
	e_int(e, "birth", g->birth_date, false);
	e_uint(e, "tier", (uint64_t)g->tier, false);
	if (g->tag_count > 0 && g->tags && e_key(e, "tags")) {
		e->err |= msgpack_pack_array(e->pk, g->tag_count);
		for (size_t i = 0; i < g->tag_count; i++) {
			const char *t = g->tags[i] ? g->tags[i] : "";
			e->err |= msgpack_pack_str_with_body(e->pk, t, strlen(t));
		}
	}
	e_uint(e, "consent", g->consent, false);
	e_int(e, "created", g->created, true);
	e_int(e, "updated", g->updated, true);
	e_uint(e, "stays", g->stays, false);
	if (g->pref_count > 0 && g->prefs && e_key(e, "prefs")) {
		e->err |= msgpack_pack_map(e->pk, g->pref_count);
		for (size_t i = 0; i < g->pref_count; i++) {
			const char *c = g->prefs[i].category ? g->prefs[i].category : "";
			e->err |= msgpack_pack_str_with_body(e->pk, c, strlen(c));
			e->err |= e_map(e->pk, &pref_shape, pref_fields, &g->prefs[i]);
		}
	}
	e_uint(e, "c_open", r->complaints_open, false);
	e_uint(e, "c_total", r->complaints_total, false);
	e_str(e, "c_lastcat", r->complaint_last_category);
	e_str(e, "c_latest", r->complaint_latest);
	e_str(e, "ext", g->external_id);
	e_int(e, "unsat", g->not_satisfied_at, false);
	e_str(e, "country", g->country);
}

int pf_codec_guest_encode(msgpack_sbuffer *sb, const pf_guest_rec *r)
{
	return encode(sb, &guest_shape, guest_fields, r);
}

static void stay_fields(enc *e, const void *rec)
{
	const pf_stay *s = rec;
	e_uint(e, "v", PF_REC_STAY_V, true);
	e_str(e, "property", s->property);
	e_str(e, "room", s->room);
	e_int(e, "departure", s->departure, false);
	e_uint(e, "party", s->party, false);
}

int pf_codec_stay_encode(msgpack_sbuffer *sb, const pf_stay *s)
{
	return encode(sb, &stay_shape, stay_fields, s);
}

static void prompt_fields(enc *e, const void *rec)
{
	const pf_prompt *p = rec;
	e_uint(e, "v", PF_REC_PROMPT_V, true);
	e_id(e, "id", &p->id);
	e_id(e, "guest", &p->guest);
	e_str(e, "event", p->event_id);
	e_str(e, "dept", p->department);
	e_str(e, "rule", p->rule);
	e_uint(e, "prio", (uint64_t)p->priority, true);
	e_str(e, "text", p->text);
	e_uint(e, "status", (uint64_t)p->status, true);
	e_int(e, "created", p->created, true);
	e_int(e, "due", p->due, true);
	e_str(e, "ack_by", p->ack_by);
	e_int(e, "ack_at", p->ack_at, false);
	e_str(e, "done_by", p->done_by);
	e_int(e, "done_at", p->done_at, false);
	e_str(e, "reason", p->dismiss_reason);
	e_uint(e, "seq", p->seq, true);
	e_str(e, "lang", p->language);  /* absent: the default text */
}

int pf_codec_prompt_encode(msgpack_sbuffer *sb, const pf_prompt *p)
{
	return encode(sb, &prompt_shape, prompt_fields, p);
}

static void event_fields(enc *e, const void *rec)
{
	const pf_event_rec *ev = rec;
	e_uint(e, "v", PF_REC_EVENT_V, true);
	e_uint(e, "kind", (uint64_t)ev->kind, true);
	e_id(e, "guest", &ev->guest);
	e_int(e, "time", ev->time, true);
	e_int(e, "arrival", ev->arrival, false);
	if (ev->prompt_count > 0 && ev->prompts && e_key(e, "prompts")) {
		e->err |= msgpack_pack_array(e->pk, ev->prompt_count);
		for (size_t i = 0; i < ev->prompt_count; i++)
			e->err |= msgpack_pack_bin_with_body(e->pk, ev->prompts[i].b,
			                                     sizeof ev->prompts[i].b);
	}
}

int pf_codec_event_encode(msgpack_sbuffer *sb, const pf_event_rec *e)
{
	return encode(sb, &event_shape, event_fields, e);
}

static void rule_fields(enc *e, const void *rec)
{
	const pf_rule_rec *r = rec;
	e_uint(e, "v", PF_REC_RULE_V, true);
	e_uint(e, "order", r->order, true);
	e_str(e, "source", r->source);
}

int pf_codec_rule_encode(msgpack_sbuffer *sb, const pf_rule_rec *r)
{
	return encode(sb, &rule_shape, rule_fields, r);
}

/* ------------------------------------------------------------------ */
/* Decoding: errors                                                     */
/* ------------------------------------------------------------------ */

static int corrupt(const char *db, const char *fmt, ...) PF_PRINTF(2, 3);

static int corrupt(const char *db, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return pf_seterr(PF_ECORRUPT, "corrupt record in '%s': %s", db, msg);
}

static int nomem(const char *db)
{
	return pf_seterr(PF_ENOMEM, "out of memory decoding a '%s' record", db);
}

/* Stored text quoted in a message only when short and valid UTF-8. */
static int printable_len(const char *s, size_t len)
{
	return len <= 64 && pf_utf8_valid(s, len) ? (int)len : 0;
}

/* ------------------------------------------------------------------ */
/* Decoding: structural pre-scan                                        */
/* ------------------------------------------------------------------ */

enum { SCAN_OK = 0, SCAN_TRUNCATED, SCAN_DEEP, SCAN_BAD };

static uint64_t be_n(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Skips one msgpack object at p[*pos], never looking past len.  `depth` is
 * the number of containers around it.  A container must declare no more
 * elements than there are bytes left (each takes at least one), which
 * bounds what msgpack-c will allocate by the record's size.
 */
static int scan(const unsigned char *p, size_t len, size_t *pos, int depth)
{
	if (*pos >= len)
		return SCAN_TRUNCATED;
	unsigned char c = p[(*pos)++];
	size_t lenbytes = 0, extra = 0;
	uint64_t skip = 0, count = 0, per = 0;   /* per: objects per element; 0 = not a container */

	if (c <= 0x7f || c >= 0xe0)
		return SCAN_OK;                  /* fixint */
	if (c <= 0x8f) {
		count = c & 0x0f;
		per = 2;
	} else if (c <= 0x9f) {
		count = c & 0x0f;
		per = 1;
	} else if (c <= 0xbf) {
		skip = c & 0x1f;
	} else {
		switch (c) {
		case 0xc0: case 0xc2: case 0xc3: break;
		case 0xc1: return SCAN_BAD;
		case 0xc4: case 0xd9: lenbytes = 1; break;
		case 0xc5: case 0xda: lenbytes = 2; break;
		case 0xc6: case 0xdb: lenbytes = 4; break;
		case 0xc7: lenbytes = 1; extra = 1; break;
		case 0xc8: lenbytes = 2; extra = 1; break;
		case 0xc9: lenbytes = 4; extra = 1; break;
		case 0xca: skip = 4; break;
		case 0xcb: skip = 8; break;
		case 0xcc: case 0xd0: skip = 1; break;
		case 0xcd: case 0xd1: skip = 2; break;
		case 0xce: case 0xd2: skip = 4; break;
		case 0xcf: case 0xd3: skip = 8; break;
		case 0xd4: skip = 2; break;
		case 0xd5: skip = 3; break;
		case 0xd6: skip = 5; break;
		case 0xd7: skip = 9; break;
		case 0xd8: skip = 17; break;
		case 0xdc: lenbytes = 2; per = 1; break;
		case 0xdd: lenbytes = 4; per = 1; break;
		case 0xde: lenbytes = 2; per = 2; break;
		default:   lenbytes = 4; per = 2; break;   /* 0xdf */
		}
	}
	if (lenbytes) {
		if (len - *pos < lenbytes)
			return SCAN_TRUNCATED;
		uint64_t n = be_n(p + *pos, lenbytes);
		*pos += lenbytes;
		if (per)
			count = n;
		else
			skip = n + extra;
	}
	if (!per) {
		if (len - *pos < skip)
			return SCAN_TRUNCATED;
		*pos += (size_t)skip;
		return SCAN_OK;
	}
	if (depth + 1 > PF_CODEC_MAX_DEPTH)
		return SCAN_DEEP;
	if (count > (len - *pos) / per)
		return SCAN_TRUNCATED;
	for (uint64_t i = 0; i < count * per; i++) {
		int rc = scan(p, len, pos, depth + 1);
		if (rc)
			return rc;
	}
	return SCAN_OK;
}

/* Pre-scans and unpacks one record; on success up->data is its map. */
static int unpack_record(msgpack_unpacked *up, const char *db, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t pos = 0, off = 0;

	if (!p || len == 0)
		return corrupt(db, "empty record");
	if (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf))
		return corrupt(db, "the record is not a msgpack map");
	switch (scan(p, len, &pos, 0)) {
	case SCAN_OK:
		break;
	case SCAN_TRUNCATED:
		return corrupt(db, "truncated record");
	case SCAN_DEEP:
		return corrupt(db, "nesting deeper than %d levels", PF_CODEC_MAX_DEPTH);
	default:
		return corrupt(db, "invalid msgpack byte");
	}
	if (pos != len)
		return corrupt(db, "trailing bytes after the record");

	switch (msgpack_unpack_next(up, data, len, &off)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return nomem(db);
	default:
		return corrupt(db, "malformed msgpack");
	}
	if (off != len || up->data.type != MSGPACK_OBJECT_MAP)
		return corrupt(db, "malformed msgpack");
	return 0;
}

/*
 * The guest record's object tree, built here into the caller's buffer
 * rather than by msgpack_unpack_next (which allocates a zone per record),
 * in the same pass that checks the bytes: build() finds what scan() finds,
 * in the same order (truncation, nesting past PF_CODEC_MAX_DEPTH, a count
 * larger than the bytes left, the byte 0xc1), so the messages are the
 * same.  The objects are the ones msgpack-c makes: a non-negative value in
 * a signed format is a POSITIVE_INTEGER; strings, bins and exts point into
 * the record.  `slots` receives every array element and map key and
 * value; BUILD_FULL when there are too few (the caller retries with as
 * many as the record has bytes, which is enough for any whole record:
 * each object takes at least one byte).
 * `strbytes` adds up every string's size plus one, for pack_size().
 */
enum { BUILD_FULL = SCAN_BAD + 1 };

typedef struct objbuf {
	msgpack_object *p;
	size_t n, cap;
	size_t strbytes;
} objbuf;

_Static_assert(sizeof(msgpack_object_kv) == 2 * sizeof(msgpack_object),
               "a map's key-value pairs are laid out as two objects each");

static int build(const unsigned char *p, size_t len, size_t *pos, int depth,
                 msgpack_object *o, objbuf *b)
{
	if (*pos >= len)
		return SCAN_TRUNCATED;
	unsigned char c = p[(*pos)++];
	size_t lenbytes = 0, fixed = 0, extra = 0;
	uint64_t n = 0;
	enum { K_FIXED, K_STR, K_BIN, K_EXT, K_ARR, K_MAP } k = K_FIXED;

	if (c <= 0x7f) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = c;
		return SCAN_OK;
	}
	if (c >= 0xe0) {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = (int8_t)c;
		return SCAN_OK;
	}
	if (c <= 0x8f) {
		n = c & 0x0f;
		k = K_MAP;
	} else if (c <= 0x9f) {
		n = c & 0x0f;
		k = K_ARR;
	} else if (c <= 0xbf) {
		n = c & 0x1f;
		k = K_STR;
	} else {
		switch (c) {
		case 0xc0:
			o->type = MSGPACK_OBJECT_NIL;
			return SCAN_OK;
		case 0xc1:
			return SCAN_BAD;
		case 0xc2: case 0xc3:
			o->type = MSGPACK_OBJECT_BOOLEAN;
			o->via.boolean = c == 0xc3;
			return SCAN_OK;
		case 0xc4: case 0xc5: case 0xc6:
			lenbytes = (size_t)1 << (c - 0xc4);
			k = K_BIN;
			break;
		case 0xc7: case 0xc8: case 0xc9:
			lenbytes = (size_t)1 << (c - 0xc7);
			extra = 1;
			k = K_EXT;
			break;
		case 0xca: fixed = 4; break;
		case 0xcb: fixed = 8; break;
		case 0xcc: case 0xcd: case 0xce: case 0xcf:
			fixed = (size_t)1 << (c - 0xcc);
			break;
		case 0xd0: case 0xd1: case 0xd2: case 0xd3:
			fixed = (size_t)1 << (c - 0xd0);
			break;
		case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
			n = (uint64_t)1 << (c - 0xd4);
			extra = 1;
			k = K_EXT;
			break;
		case 0xd9: case 0xda: case 0xdb:
			lenbytes = (size_t)1 << (c - 0xd9);
			k = K_STR;
			break;
		case 0xdc: case 0xdd:
			lenbytes = c == 0xdc ? 2 : 4;
			k = K_ARR;
			break;
		default:  /* 0xde, 0xdf */
			lenbytes = c == 0xde ? 2 : 4;
			k = K_MAP;
			break;
		}
		if (lenbytes) {
			if (len - *pos < lenbytes)
				return SCAN_TRUNCATED;
			n = be_n(p + *pos, lenbytes);
			*pos += lenbytes;
		}
	}

	if (k == K_FIXED) {
		if (len - *pos < fixed)
			return SCAN_TRUNCATED;
		uint64_t u = be_n(p + *pos, fixed);
		*pos += fixed;
		if (c == 0xca) {
			union { uint32_t i; float f; } m = { (uint32_t)u };
			o->type = MSGPACK_OBJECT_FLOAT32;
			o->via.f64 = m.f;
		} else if (c == 0xcb) {
			union { uint64_t i; double f; } m = { u };
			o->type = MSGPACK_OBJECT_FLOAT64;
			o->via.f64 = m.f;
		} else if (c <= 0xcf) {
			o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
			o->via.u64 = u;
		} else {
			/* Sign-extend a 1-, 2-, 4- or 8-byte two's complement value. */
			int64_t v = fixed == 8 ? (int64_t)u
			          : (int64_t)(u ^ (UINT64_C(1) << (8 * fixed - 1))) -
			            (int64_t)(UINT64_C(1) << (8 * fixed - 1));
			if (v >= 0) {
				o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
				o->via.u64 = (uint64_t)v;
			} else {
				o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
				o->via.i64 = v;
			}
		}
		return SCAN_OK;
	}
	if (k == K_STR || k == K_BIN || k == K_EXT) {
		if (len - *pos < n + extra)
			return SCAN_TRUNCATED;
		if (k == K_EXT) {
			o->type = MSGPACK_OBJECT_EXT;
			o->via.ext.type = (int8_t)p[*pos];
			o->via.ext.size = (uint32_t)n;
			o->via.ext.ptr = (const char *)p + *pos + 1;
		} else {
			o->type = k == K_STR ? MSGPACK_OBJECT_STR : MSGPACK_OBJECT_BIN;
			o->via.str.size = (uint32_t)n;
			o->via.str.ptr = (const char *)p + *pos;
			if (k == K_STR)
				b->strbytes += (size_t)n + 1;
		}
		*pos += (size_t)(n + extra);
		return SCAN_OK;
	}

	size_t per = k == K_MAP ? 2 : 1;
	if (depth + 1 > PF_CODEC_MAX_DEPTH)
		return SCAN_DEEP;
	if (n > (len - *pos) / per)
		return SCAN_TRUNCATED;
	if (n * per > b->cap - b->n)
		return BUILD_FULL;
	msgpack_object *kids = b->p + b->n;
	b->n += (size_t)n * per;
	if (k == K_MAP) {
		o->type = MSGPACK_OBJECT_MAP;
		o->via.map.size = (uint32_t)n;
		o->via.map.ptr = n ? (msgpack_object_kv *)(void *)kids : NULL;
	} else {
		o->type = MSGPACK_OBJECT_ARRAY;
		o->via.array.size = (uint32_t)n;
		o->via.array.ptr = n ? kids : NULL;
	}
	for (size_t i = 0; i < n * per; i++) {
		int rc = build(p, len, pos, depth + 1, &kids[i], b);
		if (rc)
			return rc;
	}
	return SCAN_OK;
}

/* unpack_record's checks, messages and result, through build(): the tree
 * in `stack` (cap objects) or, for a record of more objects, in *heap
 * (malloc'd; the caller frees it after the decode).  *strbytes: what
 * build() counted. */
static int tree_record(msgpack_object *root, const char *db, const void *data, size_t len,
                       msgpack_object *stack, size_t cap, msgpack_object **heap,
                       size_t *strbytes)
{
	const unsigned char *p = data;
	size_t pos = 0;

	*heap = NULL;
	if (!p || len == 0)
		return corrupt(db, "empty record");
	if (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf))
		return corrupt(db, "the record is not a msgpack map");
	objbuf b = { stack, 0, cap, 0 };
	int rc = build(p, len, &pos, 0, root, &b);
	if (rc == BUILD_FULL) {
		if (!(*heap = malloc(len * sizeof **heap)))
			return nomem(db);
		b = (objbuf){ *heap, 0, len, 0 };
		pos = 0;
		rc = build(p, len, &pos, 0, root, &b);
		/* More objects than bytes: the counts of a damaged record, each
		 * within the bytes left where it stands; scan() says which
		 * damage it is, as it would for any other record. */
		if (rc == BUILD_FULL) {
			pos = 0;
			rc = scan(p, len, &pos, 0);
			if (rc == SCAN_OK)   /* cannot be: a whole record has no more objects than bytes */
				rc = SCAN_BAD;
		}
	}
	switch (rc) {
	case SCAN_OK:
		break;
	case SCAN_TRUNCATED:
		return corrupt(db, "truncated record");
	case SCAN_DEEP:
		return corrupt(db, "nesting deeper than %d levels", PF_CODEC_MAX_DEPTH);
	default:
		return corrupt(db, "invalid msgpack byte");
	}
	if (pos != len)
		return corrupt(db, "trailing bytes after the record");
	*strbytes = b.strbytes;
	return 0;
}

/* For the tests (tests/test_codec_tree.c): 1 when build() makes the tree
 * msgpack_unpack_next makes of data[0..len) (msgpack_object_equal), -1
 * when both refuse the bytes with the same message, 0 otherwise. */
int pf_codec_test_tree_same(const void *data, size_t len);
int pf_codec_test_tree_same(const void *data, size_t len)
{
	msgpack_object stack[4], root, *heap = NULL;
	msgpack_unpacked up;
	size_t strbytes;
	char msg[512];
	int same;

	int rt = tree_record(&root, "test", data, len, stack, 4, &heap, &strbytes);
	snprintf(msg, sizeof msg, "%s", rt ? pf_errmsg() : "");
	msgpack_unpacked_init(&up);
	int ru = unpack_record(&up, "test", data, len);
	if (rt != ru || (rt && strcmp(msg, pf_errmsg()) != 0))
		same = 0;
	else if (rt)
		same = -1;
	else
		same = msgpack_object_equal(root, up.data) ? 1 : 0;
	msgpack_unpacked_destroy(&up);
	free(heap);
	return same;
}

/* ------------------------------------------------------------------ */
/* Decoding: typed fields                                               */
/* ------------------------------------------------------------------ */

/*
 * Where a field sits, for error messages only.  The text ("tags[3]",
 * "prefs[room.floor].kind") is built when a message needs it, never on
 * the success path: formatting every label costs more than decoding.
 */
typedef struct fld {
	const char *name;
	const char *pref;         /* category, for a field inside prefs[...] */
	long index;               /* >= 0: element of the array field `name` */
} fld;

#define FLD(n) (&(const fld){ (n), NULL, -1 })

static const char *fld_text(const fld *f, char *buf, size_t cap)
{
	if (f->pref)
		snprintf(buf, cap, "prefs[%s].%s", f->pref, f->name);
	else if (f->index >= 0)
		snprintf(buf, cap, "%s[%ld]", f->name, f->index);
	else
		return f->name;
	return buf;
}

/* "corrupt record in '<db>': field '<f>' <what>" */
static int bad_field(const char *db, const fld *f, const char *fmt, ...) PF_PRINTF(3, 4);

static int bad_field(const char *db, const fld *f, const char *fmt, ...)
{
	char label[PF_CATEGORY_MAX + 32], what[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return corrupt(db, "field '%s' %s", fld_text(f, label, sizeof label), what);
}

/*
 * Where a read-only guest record's strings and arrays go: the rest of the
 * one block pf_codec_guest_decode_packed allocates, sized beforehand from
 * the object tree (pack_size).  NULL everywhere else: each string is its
 * own malloc, so writers can replace them one by one.
 */
typedef struct pack {
	char *pos, *end;
} pack;

static void *pack_take(pack *pk, size_t n, size_t align)
{
	uintptr_t a = ((uintptr_t)pk->pos + align - 1) & ~(uintptr_t)(align - 1);
	if (a > (uintptr_t)pk->end || n > (uintptr_t)pk->end - a)
		return NULL;      /* pack_size() counted wrong: reported as out of memory */
	pk->pos = (char *)a + n;
	return (void *)a;
}

static int want_str_in(pack *pk, const char *db, const fld *f, const msgpack_object *o,
                       size_t max, bool nonempty, const char **out);

/* A string field: checked and copied NUL-terminated into *out. */
static int want_str(const char *db, const fld *f, const msgpack_object *o, size_t max,
                    bool nonempty, const char **out)
{
	return want_str_in(NULL, db, f, o, max, nonempty, out);
}

/* want_str into the pack when there is one. */
static int want_str_in(pack *pk, const char *db, const fld *f, const msgpack_object *o,
                       size_t max, bool nonempty, const char **out)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return bad_field(db, f, "is not a string");
	size_t n = o->via.str.size;
	if (n > max)
		return bad_field(db, f, "is longer than %zu bytes", max);
	if (n == 0 && nonempty)
		return bad_field(db, f, "is empty");
	if (!pf_utf8_valid(o->via.str.ptr, n))
		return bad_field(db, f, "is not valid UTF-8");
	char *s = pk ? pack_take(pk, n + 1, 1) : malloc(n + 1);
	if (!s)
		return nomem(db);
	if (n)                    /* an empty string's ptr may be NULL */
		memcpy(s, o->via.str.ptr, n);
	s[n] = '\0';
	if (!pk)
		xfree(*out);
	*out = s;
	return 0;
}

static int want_uint(const char *db, const fld *f, const msgpack_object *o,
                     uint64_t min, uint64_t max, uint64_t *out)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return bad_field(db, f, "is out of range (%lld)", (long long)o->via.i64);
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return bad_field(db, f, "is not an integer");
	if (o->via.u64 < min || o->via.u64 > max)
		return bad_field(db, f, "is out of range (%llu)", (unsigned long long)o->via.u64);
	*out = o->via.u64;
	return 0;
}

static int want_u32(const char *db, const fld *f, const msgpack_object *o,
                    uint32_t min, uint32_t *out)
{
	uint64_t v = 0;
	int rc = want_uint(db, f, o, min, UINT32_MAX, &v);
	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

/* An enum field in lo..hi. */
static int want_enum(const char *db, const fld *f, const msgpack_object *o,
                     int lo, int hi, int *out)
{
	uint64_t v = 0;
	int rc = want_uint(db, f, o, (uint64_t)lo, (uint64_t)hi, &v);
	if (!rc)
		*out = (int)v;
	return rc;
}

static int want_int(const char *db, const fld *f, const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return bad_field(db, f, "is not an integer");
	if (o->via.u64 > (uint64_t)INT64_MAX)
		return bad_field(db, f, "is out of range (%llu)", (unsigned long long)o->via.u64);
	*out = (int64_t)o->via.u64;
	return 0;
}

/* A date field: 0 (unknown) or a real calendar date. */
static int want_date(const char *db, const fld *f, const msgpack_object *o, pf_date *out)
{
	int64_t v = 0;
	int rc = want_int(db, f, o, &v);
	if (rc)
		return rc;
	if (v < INT32_MIN || v > INT32_MAX ||
	    pf_check_date(f->name, (pf_date)v, false) != 0)
		return bad_field(db, f, "is not a valid date (%lld)", (long long)v);
	*out = (pf_date)v;
	return 0;
}

static int want_id(const char *db, const fld *f, const msgpack_object *o, pf_id *out)
{
	if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != sizeof out->b)
		return bad_field(db, f, "is not a 16-byte id");
	memcpy(out->b, o->via.bin.ptr, sizeof out->b);
	return 0;
}

/* A lower-case word (department, tag). */
static int want_word_in(pack *pk, const char *db, const fld *f, const msgpack_object *o,
                        const char **out)
{
	int rc = want_str_in(pk, db, f, o, PF_FIELD_MAX, true, out);
	if (rc)
		return rc;
	if (pf_check_word(f->name, *out) != 0)
		return bad_field(db, f, "is not a lower-case word");
	return 0;
}

static int want_word(const char *db, const fld *f, const msgpack_object *o, const char **out)
{
	return want_word_in(NULL, db, f, o, out);
}

/* ------------------------------------------------------------------ */
/* Decoding: maps of named fields                                       */
/* ------------------------------------------------------------------ */

typedef int (*field_fn)(void *ctx, int idx, const fld *f, const msgpack_object *val);


/* A msgpack str key equal to `name`.  Compared inline (field names are a
 * few bytes: two libc calls per key cost more than the comparison); the
 * loop stops at name's NUL, so it never reads past either string. */
static bool key_is(const msgpack_object *k, const char *name)
{
	if (k->type != MSGPACK_OBJECT_STR)
		return false;
	size_t n = k->via.str.size;
	const char *s = k->via.str.ptr;
	for (size_t i = 0; i < n; i++)
		if (!name[i] || name[i] != s[i])
			return false;
	return n > 0 && name[n] == '\0';
}

/* A msgpack unsigned key small enough to be a field code, or -1. */
static int key_code(const msgpack_object *k)
{
	if (k->type != MSGPACK_OBJECT_POSITIVE_INTEGER || k->via.u64 > 31)
		return -1;
	return (int)k->via.u64;
}

/*
 * Walks a map of named fields: rejects non-string, unknown and duplicate
 * keys, checks the version first (a record of another version would
 * otherwise be blamed on some field), hands each field to fn, and then
 * checks that the required ones were there.  `pref` is the category when
 * the map is one preference, NULL for a whole record.
 */
static int walk(const shape *sh, const char *pref, const msgpack_object *map,
                field_fn fn, void *ctx)
{
	char label[PF_CATEGORY_MAX + 32];
	uint32_t seen = 0;
	int prev = -1;

	if (map->type != MSGPACK_OBJECT_MAP) {
		if (pref)
			return corrupt(sh->db, "field 'prefs[%s]' is not a map", pref);
		return corrupt(sh->db, "the record is not a map");
	}
	const msgpack_object_kv *kv = map->via.map.ptr;
	uint32_t n = map->via.map.size;

	if (sh->version > 0) {
		const msgpack_object *v = NULL;
		for (uint32_t i = 0; i < n && !v; i++)
			if (key_is(&kv[i].key, "v") || key_code(&kv[i].key) == 0)
				v = &kv[i].val;
		if (!v)
			return corrupt(sh->db, "missing required field 'v'");
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return corrupt(sh->db, "field 'v' is not an unsigned integer");
		if (v->via.u64 != (uint64_t)sh->version)
			return corrupt(sh->db, "record version %llu is not supported (expected %d)",
			               (unsigned long long)v->via.u64, sh->version);
	}

	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *k = &kv[i].key;
		int idx = -1;
		if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			/* Schema 2: the key is the field's index. */
			idx = key_code(k);
			if (idx < 0 || idx >= sh->count) {
				if (pref)
					return corrupt(sh->db, "unknown field code %llu in prefs[%s]",
					               (unsigned long long)k->via.u64, pref);
				return corrupt(sh->db, "unknown field code %llu",
				               (unsigned long long)k->via.u64);
			}
		} else if (k->type != MSGPACK_OBJECT_STR) {
			if (pref)
				return corrupt(sh->db, "a key in prefs[%s] is neither a field code nor "
				               "a name", pref);
			return corrupt(sh->db, "a key is neither a field code nor a name");
		}
		/* Schema 1: the key is the field's name.  Fields are written in
		 * table order, so the next one is after the last match (past the
		 * optional fields a record leaves out); search from there, then
		 * the start of the table. */
		for (int f = prev + 1; f < sh->count && idx < 0; f++)
			if (key_is(k, sh->names[f]))
				idx = f;
		for (int f = 0; f <= prev && idx < 0; f++)
			if (key_is(k, sh->names[f]))
				idx = f;
		if (idx < 0) {
			/* The key is not NUL-terminated, and is echoed only when
			 * short and valid UTF-8. */
			int pl = printable_len(k->via.str.ptr, k->via.str.size);
			char key[72];
			snprintf(key, sizeof key, "%.*s", pl, pl ? k->via.str.ptr : "");
			const fld uk = { key, pref, -1 };
			return corrupt(sh->db, "unknown field '%s'", fld_text(&uk, label, sizeof label));
		}
		const fld f = { sh->names[idx], pref, -1 };
		if (seen & BIT(idx))
			return corrupt(sh->db, "duplicate field '%s'", fld_text(&f, label, sizeof label));
		seen |= BIT(idx);
		prev = idx;
		if (sh->version > 0 && idx == 0)
			continue;                    /* "v", checked above */
		int rc = fn(ctx, idx, &f, &kv[i].val);
		if (rc)
			return rc;
	}

	uint32_t missing = sh->required & ~seen;
	for (int i = 0; i < sh->count; i++) {
		if (missing & BIT(i)) {
			const fld f = { sh->names[i], pref, -1 };
			return corrupt(sh->db, "missing required field '%s'",
			               fld_text(&f, label, sizeof label));
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Guest                                                                */
/* ------------------------------------------------------------------ */

enum { P_VALUE, P_KIND, P_DEPT, P_STAFF, P_NOTE, P_COUNT, P_FIRST, P_LAST, P_N };
static const char *const pref_names[P_N] = {
	"value", "kind", "dept", "staff", "note", "count", "first", "last"
};
static const shape pref_shape = {
	"guest", pref_names, P_N,
	BIT(P_VALUE) | BIT(P_KIND) | BIT(P_DEPT) | BIT(P_COUNT) | BIT(P_FIRST) | BIT(P_LAST), 0
};

/* What the guest decoder's field functions write to: the record (or one
 * of its preferences) and the pack of a read-only record (else NULL). */
typedef struct gdec {
	pf_guest_rec *r;
	pf_pref *p;
	pack *pk;
} gdec;

static int pref_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	gdec *d = ctx;
	pf_pref *p = d->p;
	pack *pk = d->pk;
	const char *db = "guest";
	int kind = 0;
	int rc = 0;

	switch (idx) {
	case P_VALUE: return want_str_in(pk, db, f, o, PF_VALUE_MAX, true, &p->value);
	case P_KIND:
		rc = want_enum(db, f, o, PF_LIKE, PF_NEED, &kind);
		p->kind = (pf_pref_kind)kind;
		return rc;
	case P_DEPT:  return want_word_in(pk, db, f, o, &p->department);
	case P_STAFF: return want_str_in(pk, db, f, o, PF_FIELD_MAX, false, &p->staff);
	case P_NOTE:  return want_str_in(pk, db, f, o, PF_NOTE_MAX, false, &p->note);
	case P_COUNT: return want_u32(db, f, o, 1, &p->count);
	case P_FIRST: return want_int(db, f, o, &p->first_seen);
	default:      return want_int(db, f, o, &p->last_seen);
	}
}

static int pref_cmp(const void *a, const void *b)
{
	return strcmp(((const pf_pref *)a)->category, ((const pf_pref *)b)->category);
}

static int decode_prefs(gdec *d, const msgpack_object *o)
{
	pf_guest_rec *r = d->r;
	const char *db = "guest";
	if (o->type != MSGPACK_OBJECT_MAP)
		return corrupt(db, "field 'prefs' is not a map");
	uint32_t n = o->via.map.size;
	if (n > PF_PREFS_MAX)
		return corrupt(db, "field 'prefs' has more than %d preferences", PF_PREFS_MAX);
	if (n == 0)
		return 0;
	r->prefs = d->pk ? pack_take(d->pk, n * sizeof *r->prefs, _Alignof(pf_pref))
	                 : calloc(n, sizeof *r->prefs);
	if (!r->prefs)
		return nomem(db);
	if (d->pk)
		memset(r->prefs, 0, n * sizeof *r->prefs);
	r->pref_cap = n;
	r->g.prefs = r->prefs;

	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		pf_pref *p = &r->prefs[r->g.pref_count];
		/* Counted before it is filled so that a failure frees it. */
		r->g.pref_count++;
		int rc = want_str_in(d->pk, db, FLD("prefs (category)"), &kv->key, PF_CATEGORY_MAX,
		                     true, &p->category);
		if (rc)
			return rc;
		if (pf_check_category(p->category) != 0)
			return corrupt(db, "preference category '%s' is not lower-case dotted words",
			               printable_len(p->category, strlen(p->category)) ?
			               p->category : "...");
		gdec pd = { r, p, d->pk };
		rc = walk(&pref_shape, p->category, &kv->val, pref_field, &pd);
		if (rc)
			return rc;
	}
	/* The encoder writes them sorted; sorting anyway when they are not
	 * keeps binary search right for a record some other tool wrote. */
	bool sorted = true;
	for (size_t i = 1; i < r->g.pref_count && sorted; i++)
		sorted = strcmp(r->prefs[i - 1].category, r->prefs[i].category) < 0;
	if (!sorted)
		qsort(r->prefs, r->g.pref_count, sizeof *r->prefs, pref_cmp);
	for (size_t i = 1; i < r->g.pref_count; i++)
		if (strcmp(r->prefs[i - 1].category, r->prefs[i].category) == 0)
			return corrupt(db, "duplicate preference category '%s'", r->prefs[i].category);
	return 0;
}

static int decode_tags(gdec *d, const msgpack_object *o)
{
	pf_guest_rec *r = d->r;
	const char *db = "guest";
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return corrupt(db, "field 'tags' is not an array");
	uint32_t n = o->via.array.size;
	if (n > PF_TAGS_MAX)
		return corrupt(db, "field 'tags' has more than %d tags", PF_TAGS_MAX);
	if (n == 0)
		return 0;
	r->tags = d->pk ? pack_take(d->pk, n * sizeof *r->tags, _Alignof(char *))
	                : calloc(n, sizeof *r->tags);
	if (!r->tags)
		return nomem(db);
	if (d->pk)
		memset(r->tags, 0, n * sizeof *r->tags);
	r->g.tags = (const char *const *)r->tags;
	for (uint32_t i = 0; i < n; i++) {
		const fld f = { "tags", NULL, (long)i };
		const char *t = NULL;
		int rc = want_word_in(d->pk, db, &f, &o->via.array.ptr[i], &t);
		r->tags[i] = (char *)t;
		r->g.tag_count++;
		if (rc)
			return rc;
	}
	return 0;
}

enum {
	G_V, G_NAME, G_EMAIL, G_PHONE, G_LANG, G_LOYALTY, G_BIRTH, G_TIER, G_TAGS,
	G_CONSENT, G_CREATED, G_UPDATED, G_STAYS, G_PREFS, G_COPEN, G_CTOTAL,
	G_CLASTCAT, G_CLATEST, G_EXT, G_UNSAT, G_COUNTRY, G_N
};
static const char *const guest_names[G_N] = {
	"v", "name", "email", "phone", "lang", "loyalty", "birth", "tier", "tags",
	"consent", "created", "updated", "stays", "prefs", "c_open", "c_total",
	"c_lastcat", "c_latest", "ext", "unsat", "country"
};
static const shape guest_shape = {
	"guest", guest_names, G_N,
	BIT(G_V) | BIT(G_NAME) | BIT(G_CREATED) | BIT(G_UPDATED), PF_REC_GUEST_V
};

static int guest_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	gdec *d = ctx;
	pack *pk = d->pk;
	pf_guest_rec *r = d->r;
	pf_guest *g = &r->g;
	const char *db = "guest";
	const char *s = NULL;
	uint64_t u = 0;
	int tier = 0, rc;

	switch (idx) {
	case G_NAME:    return want_str_in(pk, db, f, o, PF_NAME_MAX, true, &g->name);
	case G_EMAIL:   return want_str_in(pk, db, f, o, PF_FIELD_MAX, false, &g->email);
	case G_PHONE:   return want_str_in(pk, db, f, o, PF_FIELD_MAX, false, &g->phone);
	case G_LANG:    return want_str_in(pk, db, f, o, PF_FIELD_MAX, false, &g->language);
	case G_LOYALTY: return want_str_in(pk, db, f, o, PF_FIELD_MAX, false, &g->loyalty_no);
	case G_BIRTH:   return want_date(db, f, o, &g->birth_date);
	case G_TIER:
		rc = want_enum(db, f, o, PF_TIER_NONE, PF_TIER_VIP, &tier);
		g->tier = (pf_tier)tier;
		return rc;
	case G_TAGS:    return decode_tags(d, o);
	case G_CONSENT:
		rc = want_uint(db, f, o, 0, PF_CONSENT_PROFILING | PF_CONSENT_MARKETING, &u);
		g->consent = (unsigned int)u;
		return rc;
	case G_CREATED: return want_int(db, f, o, &g->created);
	case G_UPDATED: return want_int(db, f, o, &g->updated);
	case G_STAYS:   return want_u32(db, f, o, 0, &g->stays);
	case G_PREFS:   return decode_prefs(d, o);
	case G_COPEN:   return want_u32(db, f, o, 0, &r->complaints_open);
	case G_CTOTAL:  return want_u32(db, f, o, 0, &r->complaints_total);
	case G_EXT:     return want_str_in(pk, db, f, o, PF_FIELD_MAX, true, &g->external_id);
	case G_UNSAT:   return want_int(db, f, o, &g->not_satisfied_at);
	case G_COUNTRY:
		rc = want_str_in(pk, db, f, o, 3, true, &g->country);
		if (rc == 0 && !pf_country_valid(g->country))
			rc = bad_field(db, f, "is not an ISO 3166-1 alpha-3 code");
		return rc;
	case G_CLASTCAT:
		rc = want_str_in(pk, db, f, o, PF_FIELD_MAX, false, &s);
		r->complaint_last_category = (char *)s;
		return rc;
	default:
		rc = want_str_in(pk, db, f, o, PF_NOTE_MAX, false, &s);
		r->complaint_latest = (char *)s;
		return rc;
	}
}

/* Room the pack of a read-only record needs beyond the record itself:
 * every string of the tree with its NUL (build() counted them, map keys
 * too: a bound, not the exact need), and the preference and tag arrays
 * with their alignment. */
static size_t pack_size(const msgpack_object *root, size_t strbytes)
{
	size_t n = strbytes + 2 * _Alignof(max_align_t);
	const msgpack_object_kv *kv = root->via.map.ptr;
	/* Every "prefs" and "tags" counts, by code (schema 2) or by name
	 * (schema 1), so a duplicate (which walk() refuses later) cannot
	 * overrun the pack first. */
	for (uint32_t i = 0; i < root->via.map.size; i++) {
		const msgpack_object *k = &kv[i].key;
		if ((key_code(k) == G_PREFS || key_is(k, "prefs")) &&
		    kv[i].val.type == MSGPACK_OBJECT_MAP)
			n += (size_t)kv[i].val.via.map.size * sizeof(pf_pref);
		if ((key_code(k) == G_TAGS || key_is(k, "tags")) &&
		    kv[i].val.type == MSGPACK_OBJECT_ARRAY)
			n += (size_t)kv[i].val.via.array.size * sizeof(char *);
	}
	return n;
}

/* The objects a usual guest record's tree takes (about 200 for ten
 * preferences) fit on the stack; a bigger record's go to the heap. */
#define GUEST_TREE_STACK 320

static int guest_decode(pf_guest_rec **out, const void *data, size_t len, bool packed)
{
	msgpack_object stack[GUEST_TREE_STACK], root, *heap = NULL;
	pf_guest_rec *r = NULL;
	size_t strbytes = 0;
	pack pk;
	int rc;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_codec_guest_decode: out is NULL");
	*out = NULL;
	rc = tree_record(&root, "guest", data, len, stack, GUEST_TREE_STACK, &heap, &strbytes);
	if (rc)
		goto out;
	if (packed) {
		size_t extra = pack_size(&root, strbytes);
		r = malloc(sizeof *r + extra);
		if (r) {
			memset(r, 0, sizeof *r);
			r->packed = true;
			pk = (pack){ (char *)(r + 1), (char *)(r + 1) + extra };
		}
	} else {
		r = calloc(1, sizeof *r);
	}
	if (!r) {
		rc = nomem("guest");
		goto out;
	}
	/* g.id stays zero: the key holds it and the caller fills it in. */
	r->g.version = PF_GUEST_VERSION;
	gdec d = { r, NULL, packed ? &pk : NULL };
	rc = walk(&guest_shape, NULL, &root, guest_field, &d);
	if (rc)
		goto out;
	/* The record's counters are the stored truth; the public view shows
	 * copies (feedback.c changes the record's). */
	r->g.complaints_open = r->complaints_open;
	r->g.complaints_total = r->complaints_total;
	*out = r;
	r = NULL;
out:
	pf_guest_rec_free(r);
	free(heap);
	return rc;
}

int pf_codec_guest_decode(pf_guest_rec **out, const void *data, size_t len)
{
	return guest_decode(out, data, len, false);
}

int pf_codec_guest_decode_packed(pf_guest_rec **out, const void *data, size_t len)
{
	return guest_decode(out, data, len, true);
}

/* ------------------------------------------------------------------ */
/* Stay                                                                 */
/* ------------------------------------------------------------------ */

enum { S_V, S_PROPERTY, S_ROOM, S_DEPARTURE, S_PARTY, S_N };
static const char *const stay_names[S_N] = { "v", "property", "room", "departure", "party" };
static const shape stay_shape = { "stay", stay_names, S_N, BIT(S_V), PF_REC_STAY_V };

static int stay_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	pf_stay *s = ctx;
	switch (idx) {
	case S_PROPERTY:  return want_str("stay", f, o, PF_FIELD_MAX, false, &s->property);
	case S_ROOM:      return want_str("stay", f, o, PF_FIELD_MAX, false, &s->room);
	case S_DEPARTURE: return want_date("stay", f, o, &s->departure);
	default:          return want_u32("stay", f, o, 0, &s->party);
	}
}

int pf_codec_stay_decode(pf_stay *s, const void *data, size_t len)
{
	msgpack_unpacked up;
	pf_stay tmp;
	int rc;

	if (!s)
		return pf_seterr(PF_EINVAL, "pf_codec_stay_decode: stay is NULL");
	memset(&tmp, 0, sizeof tmp);
	msgpack_unpacked_init(&up);
	rc = unpack_record(&up, "stay", data, len);
	if (!rc)
		rc = walk(&stay_shape, NULL, &up.data, stay_field, &tmp);
	if (rc)
		pf_stay_clear(&tmp);
	/* guest and arrival live in the key: the caller's values stay. */
	s->version = PF_STAY_VERSION;
	s->property = tmp.property;
	s->room = tmp.room;
	s->departure = rc ? 0 : tmp.departure;
	s->party = rc ? 0 : tmp.party;
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Prompt                                                               */
/* ------------------------------------------------------------------ */

enum {
	PR_V, PR_ID, PR_GUEST, PR_EVENT, PR_DEPT, PR_RULE, PR_PRIO, PR_TEXT, PR_STATUS,
	PR_CREATED, PR_DUE, PR_ACK_BY, PR_ACK_AT, PR_DONE_BY, PR_DONE_AT, PR_REASON,
	PR_SEQ, PR_LANG, PR_N
};
/* "lang" came later and is optional: records written before it decode
 * with language NULL, which is what they were (the default text). */
static const char *const prompt_names[PR_N] = {
	"v", "id", "guest", "event", "dept", "rule", "prio", "text", "status",
	"created", "due", "ack_by", "ack_at", "done_by", "done_at", "reason", "seq", "lang"
};
static const shape prompt_shape = {
	"prompt", prompt_names, PR_N,
	BIT(PR_V) | BIT(PR_ID) | BIT(PR_GUEST) | BIT(PR_EVENT) | BIT(PR_DEPT) | BIT(PR_RULE) |
	BIT(PR_PRIO) | BIT(PR_TEXT) | BIT(PR_STATUS) | BIT(PR_CREATED) | BIT(PR_DUE) |
	BIT(PR_SEQ),
	PF_REC_PROMPT_V
};

static int prompt_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	pf_prompt *p = ctx;
	const char *db = "prompt";
	int e = 0, rc;

	switch (idx) {
	case PR_ID:      return want_id(db, f, o, &p->id);
	case PR_GUEST:   return want_id(db, f, o, &p->guest);
	case PR_EVENT:   return want_str(db, f, o, PF_FIELD_MAX, true, &p->event_id);
	case PR_DEPT:    return want_word(db, f, o, &p->department);
	case PR_RULE:    return want_str(db, f, o, PF_FIELD_MAX, true, &p->rule);
	case PR_PRIO:
		rc = want_enum(db, f, o, PF_PRIORITY_LOW, PF_PRIORITY_URGENT, &e);
		p->priority = (pf_priority)e;
		return rc;
	case PR_TEXT:    return want_str(db, f, o, PF_PROMPT_TEXT_MAX, false, &p->text);
	case PR_STATUS:
		rc = want_enum(db, f, o, PF_PROMPT_PENDING, PF_PROMPT_DISMISSED, &e);
		p->status = (pf_prompt_status)e;
		return rc;
	case PR_CREATED: return want_int(db, f, o, &p->created);
	case PR_DUE:     return want_int(db, f, o, &p->due);
	case PR_ACK_BY:  return want_str(db, f, o, PF_FIELD_MAX, false, &p->ack_by);
	case PR_ACK_AT:  return want_int(db, f, o, &p->ack_at);
	case PR_DONE_BY: return want_str(db, f, o, PF_FIELD_MAX, false, &p->done_by);
	case PR_DONE_AT: return want_int(db, f, o, &p->done_at);
	case PR_REASON:  return want_str(db, f, o, PF_NOTE_MAX, false, &p->dismiss_reason);
	case PR_LANG:    return want_str(db, f, o, PF_FIELD_MAX, true, &p->language);
	default:         return want_uint(db, f, o, 0, UINT64_MAX, &p->seq);
	}
}

int pf_codec_prompt_decode(pf_prompt *p, const void *data, size_t len)
{
	msgpack_unpacked up;
	pf_prompt tmp;
	int rc;

	if (!p)
		return pf_seterr(PF_EINVAL, "pf_codec_prompt_decode: prompt is NULL");
	memset(&tmp, 0, sizeof tmp);
	msgpack_unpacked_init(&up);
	rc = unpack_record(&up, "prompt", data, len);
	if (!rc)
		rc = walk(&prompt_shape, NULL, &up.data, prompt_field, &tmp);
	if (rc)
		pf_prompt_clear(&tmp);   /* leaves tmp zeroed: *p comes back cleared */
	*p = tmp;
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

enum { E_V, E_KIND, E_GUEST, E_TIME, E_ARRIVAL, E_PROMPTS, E_N };
static const char *const event_names[E_N] = { "v", "kind", "guest", "time", "arrival", "prompts" };
static const shape event_shape = {
	"event", event_names, E_N, BIT(E_V) | BIT(E_KIND) | BIT(E_GUEST) | BIT(E_TIME),
	PF_REC_EVENT_V
};

static int event_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	pf_event_rec *e = ctx;
	const char *db = "event";
	int kind = 0, rc;

	switch (idx) {
	case E_KIND:
		rc = want_enum(db, f, o, PF_EVENT_RESERVATION, PF_EVENT_ROOM_CHANGE, &kind);
		e->kind = (pf_event_kind)kind;
		return rc;
	case E_GUEST:   return want_id(db, f, o, &e->guest);
	case E_TIME:    return want_int(db, f, o, &e->time);
	case E_ARRIVAL: return want_date(db, f, o, &e->arrival);
	default:
		if (o->type != MSGPACK_OBJECT_ARRAY)
			return corrupt(db, "field 'prompts' is not an array");
		if (o->via.array.size == 0)
			return 0;
		e->prompts = calloc(o->via.array.size, sizeof *e->prompts);
		if (!e->prompts)
			return nomem(db);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			const fld el = { "prompts", NULL, (long)i };
			rc = want_id(db, &el, &o->via.array.ptr[i], &e->prompts[i]);
			if (rc)
				return rc;
		}
		e->prompt_count = o->via.array.size;
		return 0;
	}
}

int pf_codec_event_decode(pf_event_rec *e, const void *data, size_t len)
{
	msgpack_unpacked up;
	pf_event_rec tmp;
	int rc;

	if (!e)
		return pf_seterr(PF_EINVAL, "pf_codec_event_decode: event is NULL");
	memset(&tmp, 0, sizeof tmp);
	msgpack_unpacked_init(&up);
	rc = unpack_record(&up, "event", data, len);
	if (!rc)
		rc = walk(&event_shape, NULL, &up.data, event_field, &tmp);
	if (rc)
		pf_event_rec_clear(&tmp);
	*e = tmp;
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Rule                                                                 */
/* ------------------------------------------------------------------ */

enum { R_V, R_ORDER, R_SOURCE, R_N };
static const char *const rule_names[R_N] = { "v", "order", "source" };
static const shape rule_shape = {
	"rule", rule_names, R_N, BIT(R_V) | BIT(R_ORDER) | BIT(R_SOURCE), PF_REC_RULE_V
};

static int rule_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	pf_rule_rec *r = ctx;
	if (idx == R_ORDER)
		return want_u32("rule", f, o, 0, &r->order);
	const char *s = NULL;
	int rc = want_str("rule", f, o, PF_RULE_SOURCE_MAX, true, &s);
	r->source = (char *)s;
	return rc;
}

int pf_codec_rule_decode(pf_rule_rec *r, const void *data, size_t len)
{
	msgpack_unpacked up;
	pf_rule_rec tmp = { 0, NULL };
	int rc;

	if (!r)
		return pf_seterr(PF_EINVAL, "pf_codec_rule_decode: rule is NULL");
	msgpack_unpacked_init(&up);
	rc = unpack_record(&up, "rule", data, len);
	if (!rc)
		rc = walk(&rule_shape, NULL, &up.data, rule_field, &tmp);
	if (rc) {
		free(tmp.source);
		tmp.source = NULL;
		tmp.order = 0;
	}
	*r = tmp;
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Journal (journal.c's records)                                        */
/* ------------------------------------------------------------------ */

/*
 * Key: big-endian seq (journal.c).  Value: {v, time, actor?, op, guest?,
 * object?, ref?, fields?}; fields is an array of [name, value|nil] pairs,
 * nil meaning "the field was removed".  Zero ids are left out.
 */

void pf_journal_entry_clear(pf_journal_entry *e)
{
	if (!e)
		return;
	xfree(e->actor);
	xfree(e->op);
	xfree(e->ref);
	if (e->fields) {
		for (size_t i = 0; i < e->field_count; i++) {
			xfree(e->fields[i].name);
			xfree(e->fields[i].value);
		}
		xfree(e->fields);
	}
	memset(e, 0, sizeof *e);
}

/*
 * The library's own operations, coded by position (schema 2): an entry's
 * op is one byte instead of ten.  Codes are on disk: this list is only
 * ever appended to.  An op not in it (a later library's, read by this one
 * through a shared backup) is written as its name.
 */
static const char *const journal_ops[] = {
	NULL, "guest.put", "pref.set", "pref.del", "stay.add", "event.fire", "rules.load",
	"rules.clear", "prompt.ack", "prompt.done", "prompt.dismiss", "feedback.add",
	"feedback.update", "feedback.resolve", "feedback.followup", "guest.merge",
	"guest.unmerge", "guest.not_duplicate", "guest.erase", "guest.anonymise",
	"guest.consent", "retention.run", "import.row", "journal.trim",
};
#define JOURNAL_OPS ((int)(sizeof journal_ops / sizeof journal_ops[0]))

static int journal_op_code(const char *op)
{
	for (int i = 1; op && i < JOURNAL_OPS; i++)
		if (strcmp(journal_ops[i], op) == 0)
			return i;
	return 0;
}

static void journal_fields(enc *e, const void *rec)
{
	const pf_journal_entry *j = rec;
	e_uint(e, "v", PF_REC_JOURNAL_V, true);
	e_int(e, "time", j->time, true);
	e_str(e, "actor", j->actor);
	int op = journal_op_code(j->op);
	if (op)
		e_uint(e, "op", (uint64_t)op, true);
	else
		e_str(e, "op", j->op);
	if (!pf_id_is_zero(&j->guest))
		e_id(e, "guest", &j->guest);
	if (!pf_id_is_zero(&j->object))
		e_id(e, "object", &j->object);
	e_str(e, "ref", j->ref);
	if (j->field_count > 0 && j->fields && e_key(e, "fields")) {
		e->err |= msgpack_pack_array(e->pk, j->field_count);
		for (size_t i = 0; i < j->field_count; i++) {
			const pf_journal_field *f = &j->fields[i];
			const char *n = f->name ? f->name : "";
			e->err |= msgpack_pack_array(e->pk, 2);
			e->err |= msgpack_pack_str_with_body(e->pk, n, strlen(n));
			if (f->value)
				e->err |= msgpack_pack_str_with_body(e->pk, f->value, strlen(f->value));
			else
				e->err |= msgpack_pack_nil(e->pk);
		}
	}
}

int pf_codec_journal_encode(msgpack_sbuffer *sb, const pf_journal_entry *e)
{
	return encode(sb, &journal_shape, journal_fields, e);
}

enum { J_V, J_TIME, J_ACTOR, J_OP, J_GUEST, J_OBJECT, J_REF, J_FIELDS, J_N };
static const char *const journal_names[J_N] = {
	"v", "time", "actor", "op", "guest", "object", "ref", "fields"
};
static const shape journal_shape = {
	"journal", journal_names, J_N, BIT(J_V) | BIT(J_TIME) | BIT(J_OP), PF_REC_JOURNAL_V
};

static int journal_decode_fields(pf_journal_entry *j, const msgpack_object *o)
{
	const char *db = "journal";
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return corrupt(db, "field 'fields' is not an array");
	uint32_t n = o->via.array.size;
	if (n > PF_JOURNAL_FIELDS_MAX)
		return corrupt(db, "field 'fields' has more than %d entries", PF_JOURNAL_FIELDS_MAX);
	if (n == 0)
		return 0;
	pf_journal_field *fs = calloc(n, sizeof *fs);
	if (!fs)
		return nomem(db);
	j->fields = fs;
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *pair = &o->via.array.ptr[i];
		const fld f = { "fields", NULL, (long)i };
		if (pair->type != MSGPACK_OBJECT_ARRAY || pair->via.array.size != 2)
			return bad_field(db, &f, "is not a [name, value] pair");
		/* Counted before it is filled so that a failure frees it. */
		j->field_count++;
		int rc = want_str(db, &f, &pair->via.array.ptr[0], PF_JOURNAL_NAME_MAX, true,
		                  &fs[i].name);
		if (rc)
			return rc;
		const msgpack_object *v = &pair->via.array.ptr[1];
		if (v->type == MSGPACK_OBJECT_NIL)
			continue;
		rc = want_str(db, &f, v, PF_JOURNAL_VALUE_MAX, false, &fs[i].value);
		if (rc)
			return rc;
	}
	return 0;
}

static int journal_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	pf_journal_entry *j = ctx;
	const char *db = "journal";
	int rc;

	switch (idx) {
	case J_TIME:   return want_int(db, f, o, &j->time);
	case J_ACTOR:  return want_str(db, f, o, PF_JOURNAL_ACTOR_MAX, true, &j->actor);
	case J_OP:
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			if (o->via.u64 == 0 || o->via.u64 >= (uint64_t)JOURNAL_OPS)
				return bad_field(db, f, "is an unknown operation code %llu",
				                 (unsigned long long)o->via.u64);
			j->op = strdup(journal_ops[o->via.u64]);
			return j->op ? 0 : nomem(db);
		}
		rc = want_str(db, f, o, PF_JOURNAL_OP_MAX, true, &j->op);
		if (rc == 0 && !pf_dotted_words_valid(j->op, strlen(j->op), PF_JOURNAL_OP_MAX))
			rc = bad_field(db, f, "is not an operation name (e.g. guest.put)");
		return rc;
	case J_GUEST:  return want_id(db, f, o, &j->guest);
	case J_OBJECT: return want_id(db, f, o, &j->object);
	case J_REF:    return want_str(db, f, o, PF_JOURNAL_REF_MAX, true, &j->ref);
	default:       return journal_decode_fields(j, o);
	}
}

int pf_codec_journal_decode(pf_journal_entry *e, const void *data, size_t len)
{
	msgpack_unpacked up;
	pf_journal_entry tmp;
	int rc;

	if (!e)
		return pf_seterr(PF_EINVAL, "pf_codec_journal_decode: entry is NULL");
	memset(&tmp, 0, sizeof tmp);
	msgpack_unpacked_init(&up);
	rc = unpack_record(&up, "journal", data, len);
	if (!rc)
		rc = walk(&journal_shape, NULL, &up.data, journal_field, &tmp);
	if (rc)
		pf_journal_entry_clear(&tmp);   /* leaves tmp zeroed */
	*e = tmp;
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Merge record (merge.c; meta "merge:" + merge id)                     */
/* ------------------------------------------------------------------ */

/* Event ids are LMDB keys: at most 511 bytes. */
#define MERGE_EVENT_KEY_MAX 511

void pf_merge_rec_clear(pf_merge_rec *m)
{
	if (!m)
		return;
	free(m->keep_before.data);
	free(m->keep_after.data);
	free(m->dup_before.data);
	if (m->stays)
		for (size_t i = 0; i < m->stay_count; i++)
			free(m->stays[i].value);
	free(m->stays);
	free(m->prompts);
	if (m->events)
		for (size_t i = 0; i < m->event_count; i++)
			free(m->events[i].data);
	free(m->events);
	free(m->feedback);
	memset(m, 0, sizeof *m);
}

static void e_blob(enc *e, const char *key, const pf_merge_blob *b)
{
	if (e_key(e, key))
		e->err |= msgpack_pack_bin_with_body(e->pk, b->data, b->len);
}

static void e_ids(enc *e, const char *key, const pf_id *ids, size_t n)
{
	if (!e_key(e, key))
		return;
	e->err |= msgpack_pack_array(e->pk, n);
	for (size_t i = 0; i < n; i++)
		e->err |= msgpack_pack_bin_with_body(e->pk, ids[i].b, sizeof ids[i].b);
}

static void merge_fields(enc *e, const void *rec)
{
	const pf_merge_rec *m = rec;
	e_uint(e, "v", PF_REC_MERGE_V, true);
	e_id(e, "keep", &m->keep);
	e_id(e, "dup", &m->dup);
	e_int(e, "time", m->time, true);
	e_blob(e, "keep_before", &m->keep_before);
	e_blob(e, "keep_after", &m->keep_after);
	e_blob(e, "dup_before", &m->dup_before);
	if (e_key(e, "stays")) {
		e->err |= msgpack_pack_array(e->pk, m->stay_count);
		for (size_t i = 0; i < m->stay_count; i++) {
			const pf_merge_stay *s = &m->stays[i];
			e->err |= msgpack_pack_array(e->pk, 3);
			e->err |= msgpack_pack_int64(e->pk, s->arrival);
			e->err |= msgpack_pack_uint64(e->pk, s->moved ? 1 : 0);
			e->err |= msgpack_pack_bin_with_body(e->pk, s->value, s->len);
		}
	}
	e_ids(e, "prompts", m->prompts, m->prompt_count);
	if (e_key(e, "events")) {
		e->err |= msgpack_pack_array(e->pk, m->event_count);
		for (size_t i = 0; i < m->event_count; i++)
			e->err |= msgpack_pack_bin_with_body(e->pk, m->events[i].data,
			                                     m->events[i].len);
	}
	e_ids(e, "feedback", m->feedback, m->feedback_count);
}

int pf_codec_merge_encode(msgpack_sbuffer *sb, const pf_merge_rec *m)
{
	return encode(sb, &merge_shape, merge_fields, m);
}

enum {
	M_V, M_KEEP, M_DUP, M_TIME, M_KEEP_BEFORE, M_KEEP_AFTER, M_DUP_BEFORE, M_STAYS,
	M_PROMPTS, M_EVENTS, M_FEEDBACK, M_N
};
static const char *const merge_names[M_N] = {
	"v", "keep", "dup", "time", "keep_before", "keep_after", "dup_before", "stays",
	"prompts", "events", "feedback"
};
static const shape merge_shape = {
	"merge", merge_names, M_N, (UINT32_C(1) << M_N) - 1, PF_REC_MERGE_V
};

/* A non-empty byte string of at most `max` bytes, copied. */
static int want_blob(const char *db, const fld *f, const msgpack_object *o, size_t max,
                     pf_merge_blob *out)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return bad_field(db, f, "is not a byte string");
	size_t n = o->via.bin.size;
	if (n == 0 || n > max)
		return bad_field(db, f, "has %zu bytes (1 to %zu allowed)", n, max);
	unsigned char *p = malloc(n);
	if (!p)
		return nomem(db);
	memcpy(p, o->via.bin.ptr, n);
	free(out->data);
	out->data = p;
	out->len = n;
	return 0;
}

static int want_array(const char *db, const fld *f, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return bad_field(db, f, "is not an array");
	return 0;
}

static int merge_ids(const fld *f, const msgpack_object *o, pf_id **out, size_t *n)
{
	const char *db = "merge";
	int rc = want_array(db, f, o);
	if (rc || o->via.array.size == 0)
		return rc;
	*out = calloc(o->via.array.size, sizeof **out);
	if (!*out)
		return nomem(db);
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const fld el = { f->name, NULL, (long)i };
		if ((rc = want_id(db, &el, &o->via.array.ptr[i], &(*out)[i])))
			return rc;
		(*n)++;
	}
	return 0;
}

static int merge_stays(pf_merge_rec *m, const fld *f, const msgpack_object *o)
{
	const char *db = "merge";
	int rc = want_array(db, f, o);
	if (rc || o->via.array.size == 0)
		return rc;
	m->stays = calloc(o->via.array.size, sizeof *m->stays);
	if (!m->stays)
		return nomem(db);
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const fld el = { "stays", NULL, (long)i };
		const msgpack_object *a = &o->via.array.ptr[i];
		pf_merge_stay *s = &m->stays[m->stay_count];
		if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 3)
			return bad_field(db, &el, "is not [arrival, moved, value]");
		/* Counted before it is filled so that a failure frees it. */
		m->stay_count++;
		uint64_t moved = 0;
		pf_merge_blob b = { NULL, 0 };
		if ((rc = want_date(db, &el, &a->via.array.ptr[0], &s->arrival)) ||
		    (rc = want_uint(db, &el, &a->via.array.ptr[1], 0, 1, &moved)))
			return rc;
		rc = want_blob(db, &el, &a->via.array.ptr[2], UINT32_MAX, &b);
		s->value = b.data;
		s->len = b.len;
		if (rc)
			return rc;
		if (s->arrival == 0)
			return bad_field(db, &el, "has no arrival date");
		s->moved = moved != 0;
	}
	return 0;
}

static int merge_events(pf_merge_rec *m, const fld *f, const msgpack_object *o)
{
	const char *db = "merge";
	int rc = want_array(db, f, o);
	if (rc || o->via.array.size == 0)
		return rc;
	m->events = calloc(o->via.array.size, sizeof *m->events);
	if (!m->events)
		return nomem(db);
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const fld el = { "events", NULL, (long)i };
		m->event_count++;
		if ((rc = want_blob(db, &el, &o->via.array.ptr[i], MERGE_EVENT_KEY_MAX,
		                    &m->events[i])))
			return rc;
	}
	return 0;
}

static int merge_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	pf_merge_rec *m = ctx;
	const char *db = "merge";

	switch (idx) {
	case M_KEEP:        return want_id(db, f, o, &m->keep);
	case M_DUP:         return want_id(db, f, o, &m->dup);
	case M_TIME:        return want_int(db, f, o, &m->time);
	case M_KEEP_BEFORE: return want_blob(db, f, o, UINT32_MAX, &m->keep_before);
	case M_KEEP_AFTER:  return want_blob(db, f, o, UINT32_MAX, &m->keep_after);
	case M_DUP_BEFORE:  return want_blob(db, f, o, UINT32_MAX, &m->dup_before);
	case M_STAYS:       return merge_stays(m, f, o);
	case M_PROMPTS:     return merge_ids(f, o, &m->prompts, &m->prompt_count);
	case M_EVENTS:      return merge_events(m, f, o);
	default:            return merge_ids(f, o, &m->feedback, &m->feedback_count);
	}
}

int pf_codec_merge_decode(pf_merge_rec *m, const void *data, size_t len)
{
	msgpack_unpacked up;
	int rc;

	if (!m)
		return pf_seterr(PF_EINVAL, "pf_codec_merge_decode: record is NULL");
	memset(m, 0, sizeof *m);
	msgpack_unpacked_init(&up);
	rc = unpack_record(&up, "merge", data, len);
	if (!rc)
		rc = walk(&merge_shape, NULL, &up.data, merge_field, m);
	if (rc)
		pf_merge_rec_clear(m);
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Feedback (feedback.c's records; the key holds the id)                */
/* ------------------------------------------------------------------ */

void pf_feedback_rec_clear(pf_feedback_rec *r)
{
	if (!r)
		return;
	xfree(r->f.department);
	xfree(r->f.category);
	xfree(r->f.text);
	xfree(r->f.recorded_by);
	xfree(r->f.resolution);
	xfree(r->f.resolved_by);
	xfree(r->f.outcome_by);
	memset(r, 0, sizeof *r);
}

static void feedback_fields(enc *e, const void *rec)
{
	const pf_feedback_rec *r = rec;
	const pf_feedback *f = &r->f;
	e_uint(e, "v", PF_REC_FEEDBACK_V, true);
	e_id(e, "guest", &f->guest);
	e_int(e, "stay", f->stay, false);
	e_uint(e, "kind", (uint64_t)f->kind, true);
	e_str(e, "dept", f->department);
	e_str(e, "cat", f->category);
	e_str(e, "text", f->text);
	e_uint(e, "sev", (uint64_t)f->severity, true);
	e_str(e, "by", f->recorded_by);
	e_int(e, "at", f->recorded_at, true);
	e_uint(e, "status", (uint64_t)f->status, true);
	e_int(e, "due", f->due, false);
	e_str(e, "res", f->resolution);
	e_str(e, "res_by", f->resolved_by);
	e_int(e, "res_at", f->resolved_at, false);
	if (!pf_id_is_zero(&f->followup_prompt))
		e_id(e, "fup", &f->followup_prompt);
	e_uint(e, "outcome", (uint64_t)f->outcome, false);
	e_str(e, "out_by", f->outcome_by);
	e_int(e, "out_at", f->outcome_at, false);
	if (r->prompt_count > 0 && e_key(e, "prompts")) {
		e->err |= msgpack_pack_array(e->pk, r->prompt_count);
		for (size_t i = 0; i < r->prompt_count; i++)
			e->err |= msgpack_pack_bin_with_body(e->pk, r->prompts[i].b,
			                                     sizeof r->prompts[i].b);
	}
}

int pf_codec_feedback_encode(msgpack_sbuffer *sb, const pf_feedback_rec *r)
{
	if (r && r->prompt_count > PF_FEEDBACK_PROMPTS_MAX)
		return pf_seterr(PF_EINVAL, "encoding a 'feedback' record: %zu prompts",
		                 r->prompt_count);
	return encode(sb, &feedback_shape, feedback_fields, r);
}

enum {
	F_V, F_GUEST, F_STAY, F_KIND, F_DEPT, F_CAT, F_TEXT, F_SEV, F_BY, F_AT, F_STATUS,
	F_DUE, F_RES, F_RES_BY, F_RES_AT, F_FUP, F_OUTCOME, F_OUT_BY, F_OUT_AT, F_PROMPTS, F_N
};
static const char *const feedback_names[F_N] = {
	"v", "guest", "stay", "kind", "dept", "cat", "text", "sev", "by", "at", "status",
	"due", "res", "res_by", "res_at", "fup", "outcome", "out_by", "out_at", "prompts"
};
static const shape feedback_shape = {
	"feedback", feedback_names, F_N,
	BIT(F_V) | BIT(F_GUEST) | BIT(F_KIND) | BIT(F_DEPT) | BIT(F_CAT) | BIT(F_TEXT) |
	BIT(F_SEV) | BIT(F_BY) | BIT(F_AT) | BIT(F_STATUS),
	PF_REC_FEEDBACK_V
};

static int feedback_field(void *ctx, int idx, const fld *f, const msgpack_object *o)
{
	pf_feedback_rec *r = ctx;
	pf_feedback *fb = &r->f;
	const char *db = "feedback";
	int e = 0, rc;

	switch (idx) {
	case F_GUEST:  return want_id(db, f, o, &fb->guest);
	case F_STAY:   return want_date(db, f, o, &fb->stay);
	case F_KIND:
		rc = want_enum(db, f, o, PF_FEEDBACK_COMPLAINT, PF_FEEDBACK_SUGGESTION, &e);
		fb->kind = (pf_feedback_kind)e;
		return rc;
	case F_DEPT:   return want_word(db, f, o, &fb->department);
	case F_CAT:    return want_word(db, f, o, &fb->category);
	case F_TEXT:   return want_str(db, f, o, PF_NOTE_MAX, true, &fb->text);
	case F_SEV:    return want_enum(db, f, o, 1, 3, &fb->severity);
	case F_BY:     return want_str(db, f, o, PF_FIELD_MAX, true, &fb->recorded_by);
	case F_AT:     return want_int(db, f, o, &fb->recorded_at);
	case F_STATUS:
		rc = want_enum(db, f, o, PF_FEEDBACK_OPEN, PF_FEEDBACK_CLOSED_UNRESOLVED, &e);
		fb->status = (pf_feedback_status)e;
		return rc;
	case F_DUE:    return want_int(db, f, o, &fb->due);
	case F_RES:    return want_str(db, f, o, PF_NOTE_MAX, true, &fb->resolution);
	case F_RES_BY: return want_str(db, f, o, PF_FIELD_MAX, true, &fb->resolved_by);
	case F_RES_AT: return want_int(db, f, o, &fb->resolved_at);
	case F_FUP:    return want_id(db, f, o, &fb->followup_prompt);
	case F_OUTCOME:
		rc = want_enum(db, f, o, PF_OUTCOME_NONE, PF_OUTCOME_NOT_SATISFIED, &e);
		fb->outcome = (pf_outcome)e;
		return rc;
	case F_OUT_BY: return want_str(db, f, o, PF_FIELD_MAX, true, &fb->outcome_by);
	case F_OUT_AT: return want_int(db, f, o, &fb->outcome_at);
	default:
		if (o->type != MSGPACK_OBJECT_ARRAY)
			return corrupt(db, "field 'prompts' is not an array");
		if (o->via.array.size > PF_FEEDBACK_PROMPTS_MAX)
			return corrupt(db, "field 'prompts' has more than %d ids",
			               PF_FEEDBACK_PROMPTS_MAX);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			const fld el = { "prompts", NULL, (long)i };
			if ((rc = want_id(db, &el, &o->via.array.ptr[i], &r->prompts[i])))
				return rc;
		}
		r->prompt_count = o->via.array.size;
		return 0;
	}
}

int pf_codec_feedback_decode(pf_feedback_rec *r, const void *data, size_t len)
{
	msgpack_unpacked up;
	pf_feedback_rec tmp;
	int rc;

	if (!r)
		return pf_seterr(PF_EINVAL, "pf_codec_feedback_decode: record is NULL");
	memset(&tmp, 0, sizeof tmp);
	msgpack_unpacked_init(&up);
	rc = unpack_record(&up, "feedback", data, len);
	if (!rc)
		rc = walk(&feedback_shape, NULL, &up.data, feedback_field, &tmp);
	if (rc)
		pf_feedback_rec_clear(&tmp);   /* leaves tmp zeroed */
	else
		tmp.f.version = PF_FEEDBACK_VERSION;
	*r = tmp;
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Re-encoding (schema upgrades)                                        */
/* ------------------------------------------------------------------ */

int pf_codec_recode(pf_rec_kind kind, const void *data, size_t len, msgpack_sbuffer *sb)
{
	int rc;
	msgpack_sbuffer_clear(sb);
	switch (kind) {
	case PF_REC_GUEST: {
		pf_guest_rec *r = NULL;
		if ((rc = pf_codec_guest_decode(&r, data, len)) == 0)
			rc = pf_codec_guest_encode(sb, r);
		pf_guest_rec_free(r);
		return rc;
	}
	case PF_REC_STAY: {
		pf_stay s;
		memset(&s, 0, sizeof s);
		if ((rc = pf_codec_stay_decode(&s, data, len)) == 0)
			rc = pf_codec_stay_encode(sb, &s);
		pf_stay_clear(&s);
		return rc;
	}
	case PF_REC_PROMPT: {
		pf_prompt p;
		memset(&p, 0, sizeof p);
		if ((rc = pf_codec_prompt_decode(&p, data, len)) == 0)
			rc = pf_codec_prompt_encode(sb, &p);
		pf_prompt_clear(&p);
		return rc;
	}
	case PF_REC_EVENT: {
		pf_event_rec e;
		memset(&e, 0, sizeof e);
		if ((rc = pf_codec_event_decode(&e, data, len)) == 0)
			rc = pf_codec_event_encode(sb, &e);
		pf_event_rec_clear(&e);
		return rc;
	}
	case PF_REC_RULE: {
		pf_rule_rec r = { 0, NULL };
		if ((rc = pf_codec_rule_decode(&r, data, len)) == 0)
			rc = pf_codec_rule_encode(sb, &r);
		free(r.source);
		return rc;
	}
	case PF_REC_JOURNAL: {
		pf_journal_entry j;
		memset(&j, 0, sizeof j);
		if ((rc = pf_codec_journal_decode(&j, data, len)) == 0)
			rc = pf_codec_journal_encode(sb, &j);
		pf_journal_entry_clear(&j);
		return rc;
	}
	case PF_REC_MERGE: {
		pf_merge_rec m;
		memset(&m, 0, sizeof m);
		if ((rc = pf_codec_merge_decode(&m, data, len)) == 0)
			rc = pf_codec_merge_encode(sb, &m);
		pf_merge_rec_clear(&m);
		return rc;
	}
	case PF_REC_FEEDBACK: {
		pf_feedback_rec f;
		memset(&f, 0, sizeof f);
		if ((rc = pf_codec_feedback_decode(&f, data, len)) == 0)
			rc = pf_codec_feedback_encode(sb, &f);
		pf_feedback_rec_clear(&f);
		return rc;
	}
	}
	return pf_seterr(PF_EINVAL, "pf_codec_recode: unknown record kind %d", (int)kind);
}
