/*
 * verify.c — pf_verify and pf_verify_report_free: a read-only walk over
 * every named database in one read transaction, checking key shapes,
 * strict decoding, the indexes in both directions and the counters on
 * guest records (the checks are listed in libprofile.h).
 *
 * Owns nothing stored: it never writes, and adds no key, record or meta
 * entry.  May call store.c (read transactions, look-ups), codec.c (the
 * strict decoders), guest.c (pf_guest_index_keys: the index keys of a
 * guest record), stay.c (pf_stay_key_parse: the stay key's layout),
 * prompt.c (pf_prompt_queue_keys), feedback.c
 * (pf_feedback_index_key), journal.c (pf_journal_index_key), text.c and
 * error.c.  Key layouts it reads are those documented in the owners' headers and
 * at the top of the owning files; where a file builds keys for itself,
 * verify.c asks that file for them rather than laying them out again.
 *
 * Still reads every database raw (mdb_get and cursors through
 * db->dbi[]): LMDB's own codes tell it damaged pages apart.  Until the
 * owners offer read-only walks and look-ups that hand those codes back,
 * tests/owners.py lists this file as a known exception.
 *
 * Problems name the database, the key (ids, sequence numbers, dates and
 * lengths: contact and name keys hold guest data and are never shown) and
 * what is wrong; decoder messages name fields, never values.
 */
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "prompt.h"
#include "journal.h"
#include "merge.h"
#include "feedback.h"
#include "stay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_LEN ((int)sizeof(pf_id))
#define VERIFY "pf_verify"
#define ANONYMISED "[anonymised]"
#define KEY_TEXT 192
#define PROBLEM_TEXT 512

/* A look-up that met damage LMDB reports: recorded once per database,
 * the caller skips the check. */
#define SKIP 1

/* Complaints naming one guest, from the feedback records. */
typedef struct tally {
	pf_id guest;
	uint32_t total, open;
} tally;

typedef struct vctx {
	MDB_txn *txn;
	pf_db *db;
	pf_verify_report *rep;
	bool damaged[PF_DBI_COUNT];      /* a look-up met LMDB-detected damage */
	bool have_seq_prompt, have_seq_journal;
	uint64_t seq_prompt, seq_journal;
	tally *tallies;
	size_t ntallies;
	/* the contact key seen last, for the "x:" uniqueness check */
	unsigned char prev[PF_CONTACT_KEY_MAX];
	size_t prev_len;
} vctx;

/* ------------------------------------------------------------------ */
/* The report                                                           */
/* ------------------------------------------------------------------ */

void pf_verify_report_free(pf_verify_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++) {
		free((char *)r->items[i].key);
		free((char *)r->items[i].problem);
	}
	free(r->items);
	free(r->databases);
	free(r);
}

static int problem(vctx *v, enum pf_dbi dbi, const char *key, const char *fmt, ...)
	PF_PRINTF(4, 5);

static int problem(vctx *v, enum pf_dbi dbi, const char *key, const char *fmt, ...)
{
	pf_verify_report *r = v->rep;
	r->problems++;
	r->databases[dbi].problems++;
	if (r->count >= PF_VERIFY_PROBLEMS_MAX)
		return 0;
	char text[PROBLEM_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (r->count % 64 == 0) {
		pf_verify_problem *items = realloc(r->items, (r->count + 64) * sizeof *items);
		if (!items)
			return pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
		r->items = items;
	}
	char *k = strdup(key), *p = strdup(text);
	if (!k || !p) {
		free(k);
		free(p);
		return pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
	}
	r->items[r->count++] = (pf_verify_problem){ pf_dbi_names[dbi], k, p };
	return 0;
}

/* The last error message without the decoders' "corrupt record in 'db': "
 * prefix (the report names the database already). */
static const char *decode_msg(void)
{
	const char *m = pf_errmsg(), *p = strstr(m, "': ");
	return strncmp(m, "corrupt record in '", 19) == 0 && p ? p + 3 : m;
}

/* ------------------------------------------------------------------ */
/* Keys as text                                                         */
/* ------------------------------------------------------------------ */

static const char *id_text(char buf[PF_ID_STRLEN + 1], const void *b)
{
	pf_id id;
	memcpy(id.b, b, ID_LEN);
	pf_id_format(buf, &id);
	return buf;
}

static void hex(char *out, size_t cap, const void *data, size_t len)
{
	const unsigned char *b = data;
	size_t shown = len > 48 ? 48 : len, n = 0;
	n += (size_t)snprintf(out + n, cap - n, "hex ");
	for (size_t i = 0; i < shown && n + 3 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x", b[i]);
	if (shown < len && n < cap)
		snprintf(out + n, cap - n, "... (%zu bytes)", len);
}

/* Text we may show: printable ASCII, at most `max` bytes. */
static bool plain(const void *data, size_t len, size_t max)
{
	const unsigned char *b = data;
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (b[i] < 0x20 || b[i] > 0x7e)
			return false;
	return true;
}

static pf_time due_of(const unsigned char *p)
{
	return (pf_time)(pf_be64_get(p) ^ ((uint64_t)1 << 63));
}

static const char *contact_kind(unsigned char c)
{
	switch (c) {
	case 'e': return "e-mail";
	case 'p': return "phone";
	case 'l': return "loyalty number";
	case 'x': return "external id";
	}
	return "unknown";
}

/* Length of the department word of a queue key starting at k + 1, or 0
 * if no '\0' ends a plain word there. */
static size_t dept_len(const unsigned char *k, size_t len)
{
	const unsigned char *z = memchr(k + 1, '\0', len - 1);
	if (!z)
		return 0;
	size_t n = (size_t)(z - (k + 1));
	return plain(k + 1, n, PF_FIELD_MAX) ? n : 0;
}

/* The key of a record of `dbi` as the report shows it. */
static void describe(char *out, size_t cap, enum pf_dbi dbi, const MDB_val *key,
                     const MDB_val *val)
{
	const unsigned char *k = key->mv_data;
	size_t len = key->mv_size;
	char a[PF_ID_STRLEN + 1], b[PF_ID_STRLEN + 1];

	switch (dbi) {
	case PF_DBI_META:
		if (len == 6 + ID_LEN && memcmp(k, PF_META_MERGE, 6) == 0) {
			snprintf(out, cap, PF_META_MERGE "%s", id_text(a, k + 6));
			return;
		}
		if (len == 3 + 2 * ID_LEN && (memcmp(k, PF_META_MERGE_GUEST, 3) == 0 ||
		                              memcmp(k, PF_META_NOT_DUP, 3) == 0)) {
			snprintf(out, cap, "%.3s%s:%s", (const char *)k, id_text(a, k + 3),
			         id_text(b, k + 3 + ID_LEN));
			return;
		}
		if (plain(k, len, 96)) {
			snprintf(out, cap, "%.*s", (int)len, (const char *)k);
			return;
		}
		break;
	case PF_DBI_GUEST:
	case PF_DBI_PROMPT:
		if (len == ID_LEN) {
			snprintf(out, cap, "%s %s", dbi == PF_DBI_GUEST ? "guest" : "prompt",
			         id_text(a, k));
			return;
		}
		break;
	case PF_DBI_CONTACT: {
		int n;
		if (len >= 2 && k[1] == ':' && strchr("eplx", k[0]) && k[0])
			n = snprintf(out, cap, "%c: [%zu bytes]", k[0], len);
		else
			n = snprintf(out, cap, "[%zu bytes]", len);
		if (val && val->mv_size == ID_LEN && n > 0 && (size_t)n < cap)
			snprintf(out + n, cap - (size_t)n, " -> guest %s", id_text(a, val->mv_data));
		return;
	}
	case PF_DBI_NAME:
		if (len > ID_LEN && k[len - ID_LEN - 1] == '\0')
			snprintf(out, cap, "[%zu bytes] guest %s", len, id_text(a, k + len - ID_LEN));
		else
			snprintf(out, cap, "[%zu bytes]", len);
		return;
	case PF_DBI_STAY: {
		pf_date arrival;
		if (pf_stay_key_parse(k, len, NULL, &arrival)) {
			snprintf(out, cap, "guest %s arrival %lu", id_text(a, k),
			         (unsigned long)(uint32_t)arrival);
			return;
		}
		break;
	}
	case PF_DBI_RULE:
		if (plain(k, len, 96)) {
			snprintf(out, cap, "rule %.*s", (int)len, (const char *)k);
			return;
		}
		break;
	case PF_DBI_EVENT:
		if (plain(k, len, 128)) {
			snprintf(out, cap, "event %.*s", (int)len, (const char *)k);
			return;
		}
		break;
	case PF_DBI_QUEUE:
		if (len == 1 + 2 * ID_LEN && k[0] == 'g') {
			snprintf(out, cap, "g guest %s prompt %s", id_text(a, k + 1),
			         id_text(b, k + 1 + ID_LEN));
			return;
		}
		if (len == 1 + 8 + ID_LEN && k[0] == 'd') {
			snprintf(out, cap, "d due %lld prompt %s", (long long)due_of(k + 1),
			         id_text(a, k + 9));
			return;
		}
		if (len > 2 && (k[0] == 'o' || k[0] == 's')) {
			size_t d = dept_len(k, len);
			if (d && k[0] == 'o' && len == 1 + d + 1 + 8 + 1 + ID_LEN) {
				const unsigned char *t = k + 1 + d + 1;
				snprintf(out, cap, "o %.*s due %lld rank %u prompt %s", (int)d,
				         (const char *)k + 1, (long long)due_of(t), t[8],
				         id_text(a, t + 9));
				return;
			}
			if (d && k[0] == 's' && len == 1 + d + 1 + 8) {
				snprintf(out, cap, "s %.*s seq %llu", (int)d, (const char *)k + 1,
				         (unsigned long long)pf_be64_get(k + 1 + d + 1));
				return;
			}
		}
		break;
	case PF_DBI_FEEDBACK:
		if (len == ID_LEN) {
			snprintf(out, cap, "feedback %s", id_text(a, k));
			return;
		}
		if (len == PF_FEEDBACK_INDEX_KEY_LEN && k[0] == 'g') {
			snprintf(out, cap, "g guest %s at %lld feedback %s", id_text(a, k + 1),
			         (long long)due_of(k + 1 + ID_LEN), id_text(b, k + 1 + ID_LEN + 8));
			return;
		}
		break;
	case PF_DBI_JOURNAL:
		if (len == 8) {
			snprintf(out, cap, "seq %llu", (unsigned long long)pf_be64_get(k));
			return;
		}
		if (len == PF_JOURNAL_INDEX_KEY_LEN && k[0] == 'g') {
			snprintf(out, cap, "g guest %s seq %llu", id_text(a, k + 1),
			         (unsigned long long)pf_be64_get(k + 1 + ID_LEN));
			return;
		}
		break;
	default:
		break;
	}
	hex(out, cap, k, len);
}

/* ------------------------------------------------------------------ */
/* Look-ups                                                             */
/* ------------------------------------------------------------------ */

static bool lmdb_damage(int mrc)
{
	return mrc == MDB_CORRUPTED || mrc == MDB_PAGE_NOTFOUND;
}

/* One damage report per database looked into; SKIP tells the caller to
 * leave the check undone. */
static int looked_damaged(vctx *v, enum pf_dbi dbi, int mrc)
{
	if (v->damaged[dbi])
		return SKIP;
	v->damaged[dbi] = true;
	int rc = problem(v, dbi, "(look-up)", "LMDB reports damaged pages (%s): the data "
	                 "file is damaged; restore from the latest backup", mdb_strerror(mrc));
	return rc ? rc : SKIP;
}

/* mdb_get: 0 (found), PF_ENOTFOUND, SKIP or a fatal PF_E* code. */
static int vget(vctx *v, enum pf_dbi dbi, const void *key, size_t klen, MDB_val *val)
{
	MDB_val k = { klen, (void *)key };
	int mrc = mdb_get(v->txn, v->db->dbi[dbi], &k, val);
	if (mrc == 0)
		return 0;
	if (mrc == MDB_NOTFOUND)
		return PF_ENOTFOUND;
	if (lmdb_damage(mrc))
		return looked_damaged(v, dbi, mrc);
	return pf_lmdb_err(mrc, NULL);
}

/* Does the dupsort pair key -> val exist in `contact`? 0 (yes),
 * PF_ENOTFOUND, SKIP or a fatal code. */
static int vget_both(vctx *v, const void *key, size_t klen, const void *val, size_t vlen)
{
	MDB_cursor *cur = NULL;
	int mrc = mdb_cursor_open(v->txn, v->db->dbi[PF_DBI_CONTACT], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { klen, (void *)key }, d = { vlen, (void *)val };
	mrc = mdb_cursor_get(cur, &k, &d, MDB_GET_BOTH);
	mdb_cursor_close(cur);
	if (mrc == 0)
		return 0;
	if (mrc == MDB_NOTFOUND)
		return PF_ENOTFOUND;
	if (lmdb_damage(mrc))
		return looked_damaged(v, PF_DBI_CONTACT, mrc);
	return pf_lmdb_err(mrc, NULL);
}

/* Load and decode guest `id` for an index check: 0 with *out set,
 * PF_ENOTFOUND, SKIP (the record does not decode: its own walk reports
 * it) or a fatal code. */
static int load_guest(vctx *v, const unsigned char *id, pf_guest_rec **out)
{
	MDB_val d;
	*out = NULL;
	int rc = vget(v, PF_DBI_GUEST, id, ID_LEN, &d);
	if (rc)
		return rc;
	rc = pf_codec_guest_decode(out, d.mv_data, d.mv_size);
	if (rc == PF_ECORRUPT)
		return SKIP;
	if (rc)
		return rc;
	memcpy((*out)->g.id.b, id, ID_LEN);
	return 0;
}

/* Load and decode prompt `id`, as load_guest. */
static int load_prompt(vctx *v, const unsigned char *id, pf_prompt *p)
{
	MDB_val d;
	memset(p, 0, sizeof *p);
	int rc = vget(v, PF_DBI_PROMPT, id, ID_LEN, &d);
	if (rc)
		return rc;
	rc = pf_codec_prompt_decode(p, d.mv_data, d.mv_size);
	if (rc) {
		memset(p, 0, sizeof *p);
		return rc == PF_ECORRUPT ? SKIP : rc;
	}
	if (memcmp(p->id.b, id, ID_LEN) != 0) {      /* reported by the prompt walk */
		pf_prompt_clear(p);
		memset(p, 0, sizeof *p);
		return SKIP;
	}
	return 0;
}

static bool zero_id(const unsigned char *b)
{
	for (size_t i = 0; i < ID_LEN; i++)
		if (b[i])
			return false;
	return true;
}

static bool key_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* ------------------------------------------------------------------ */
/* meta                                                                 */
/* ------------------------------------------------------------------ */

static bool is_counter_key(const unsigned char *k, size_t len)
{
	static const char *const counters[] = { "schema", "seq.prompt", "seq.journal",
		                                    "rules.version" };
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
		if (key_eq(k, len, counters[i], strlen(counters[i])))
			return true;
	size_t pre = strlen("seq.dept:");
	if (len > pre && len - pre <= PF_FIELD_MAX && memcmp(k, "seq.dept:", pre) == 0) {
		char dept[PF_FIELD_MAX + 1];
		memcpy(dept, k + pre, len - pre);
		dept[len - pre] = '\0';
		for (size_t i = 0; dept[i]; i++) {
			char c = dept[i];
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
				return false;
		}
		return dept[0] >= 'a' && dept[0] <= 'z';
	}
	return false;
}

static int check_meta(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *k = key->mv_data;
	size_t len = key->mv_size;
	char a[PF_ID_STRLEN + 1];
	int rc;

	if (is_counter_key(k, len)) {
		if (val->mv_size != 8)
			return problem(v, PF_DBI_META, kt, "a counter of %zu bytes, expected 8",
			               val->mv_size);
		uint64_t n = pf_be64_get(val->mv_data);
		if (key_eq(k, len, "schema", 6) && (n == 0 || n > PF_SCHEMA_VERSION))
			return problem(v, PF_DBI_META, kt, "schema version %llu (this library "
			               "writes %d)", (unsigned long long)n, PF_SCHEMA_VERSION);
		return 0;
	}
	if (len == 6 + ID_LEN && memcmp(k, PF_META_MERGE, 6) == 0) {
		pf_merge_rec m;
		if ((rc = pf_codec_merge_decode(&m, val->mv_data, val->mv_size))) {
			pf_merge_rec_clear(&m);
			return rc == PF_ECORRUPT ? problem(v, PF_DBI_META, kt, "does not decode: %s",
			                                   decode_msg()) : rc;
		}
		const pf_id *g[2] = { &m.keep, &m.dup };
		for (int i = 0; i < 2 && rc == 0; i++) {
			unsigned char lk[3 + 2 * ID_LEN];
			MDB_val d;
			memcpy(lk, PF_META_MERGE_GUEST, 3);
			memcpy(lk + 3, g[i]->b, ID_LEN);
			memcpy(lk + 3 + ID_LEN, k + 6, ID_LEN);
			rc = vget(v, PF_DBI_META, lk, sizeof lk, &d);
			if (rc == PF_ENOTFOUND)
				rc = problem(v, PF_DBI_META, kt, "no \"mg:\" link from the %s profile %s",
				             i ? "duplicate" : "kept", id_text(a, g[i]->b));
			else if (rc == SKIP)
				rc = 0;
		}
		pf_merge_rec_clear(&m);
		return rc;
	}
	if (len == 3 + 2 * ID_LEN && memcmp(k, PF_META_MERGE_GUEST, 3) == 0) {
		unsigned char mk[6 + ID_LEN];
		MDB_val d;
		if (val->mv_size)
			return problem(v, PF_DBI_META, kt, "a value of %zu bytes, expected none",
			               val->mv_size);
		memcpy(mk, PF_META_MERGE, 6);
		memcpy(mk + 6, k + 3 + ID_LEN, ID_LEN);
		rc = vget(v, PF_DBI_META, mk, sizeof mk, &d);
		if (rc == PF_ENOTFOUND)
			return problem(v, PF_DBI_META, kt, "names merge %s, which does not exist",
			               id_text(a, k + 3 + ID_LEN));
		if (rc)
			return rc == SKIP ? 0 : rc;
		pf_merge_rec m;
		if ((rc = pf_codec_merge_decode(&m, d.mv_data, d.mv_size))) {
			pf_merge_rec_clear(&m);
			return rc == PF_ECORRUPT ? 0 : rc;     /* reported under its own key */
		}
		bool ours = memcmp(m.keep.b, k + 3, ID_LEN) == 0 ||
		            memcmp(m.dup.b, k + 3, ID_LEN) == 0;
		pf_merge_rec_clear(&m);
		if (!ours)
			return problem(v, PF_DBI_META, kt, "merge %s is not about guest %s",
			               id_text(a, k + 3 + ID_LEN), id_text(a, k + 3));
		return 0;
	}
	if (len == 3 + 2 * ID_LEN && memcmp(k, PF_META_NOT_DUP, 3) == 0) {
		unsigned char mirror[3 + 2 * ID_LEN];
		MDB_val d;
		if (val->mv_size)
			return problem(v, PF_DBI_META, kt, "a value of %zu bytes, expected none",
			               val->mv_size);
		if (memcmp(k + 3, k + 3 + ID_LEN, ID_LEN) == 0)
			return problem(v, PF_DBI_META, kt, "marks a guest as not a duplicate of "
			               "itself");
		memcpy(mirror, PF_META_NOT_DUP, 3);
		memcpy(mirror + 3, k + 3 + ID_LEN, ID_LEN);
		memcpy(mirror + 3 + ID_LEN, k + 3, ID_LEN);
		rc = vget(v, PF_DBI_META, mirror, sizeof mirror, &d);
		if (rc == PF_ENOTFOUND)
			return problem(v, PF_DBI_META, kt, "the mark has no mirror (\"nd:\" the other "
			               "way round)");
		return rc == SKIP ? 0 : rc;
	}
	if (key_eq(k, len, "property", strlen("property"))) {
		char name[PF_PROPERTY_MAX + 1];
		size_t n = val->mv_size;
		if (n == 0 || n > PF_PROPERTY_MAX)
			return problem(v, PF_DBI_META, kt, "a property name of %zu bytes (expected 1 "
			               "to %d)", n, PF_PROPERTY_MAX);
		memcpy(name, val->mv_data, n);
		name[n] = '\0';
		if (pf_check_property("property", name))
			return problem(v, PF_DBI_META, kt, "not a property name (a-z, 0-9, '-', '_')");
		return 0;
	}
	return problem(v, PF_DBI_META, kt, "unknown key");
}

/* ------------------------------------------------------------------ */
/* guest                                                                */
/* ------------------------------------------------------------------ */

static int tally_cmp(const void *a, const void *b)
{
	return memcmp(((const tally *)a)->guest.b, ((const tally *)b)->guest.b, ID_LEN);
}

static uint32_t sat32(uint64_t n)
{
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Stay records stored under guest `id` (20-byte keys; others are the stay
 * walk's to report).  0, SKIP or a fatal code. */
static int count_stays(vctx *v, const unsigned char *id, uint64_t *out)
{
	MDB_cursor *cur = NULL;
	*out = 0;
	int mrc = mdb_cursor_open(v->txn, v->db->dbi[PF_DBI_STAY], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { ID_LEN, (void *)id }, d;
	for (mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size < ID_LEN || memcmp(k.mv_data, id, ID_LEN) != 0)
			break;
		if (pf_stay_key_parse(k.mv_data, k.mv_size, NULL, NULL))
			(*out)++;
	}
	mdb_cursor_close(cur);
	if (mrc == 0 || mrc == MDB_NOTFOUND)
		return 0;
	if (lmdb_damage(mrc))
		return looked_damaged(v, PF_DBI_STAY, mrc);
	return pf_lmdb_err(mrc, NULL);
}

static int check_guest(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *id = key->mv_data;
	pf_guest_rec *r = NULL;
	pf_index_keys *ks = NULL;
	int rc;

	if (key->mv_size != ID_LEN)
		return problem(v, PF_DBI_GUEST, kt, "a key of %zu bytes, expected a %d-byte id",
		               key->mv_size, ID_LEN);
	if (zero_id(id))
		return problem(v, PF_DBI_GUEST, kt, "the zero id");
	if ((rc = pf_codec_guest_decode(&r, val->mv_data, val->mv_size)))
		return rc == PF_ECORRUPT ? problem(v, PF_DBI_GUEST, kt, "does not decode: %s",
		                                   decode_msg()) : rc;
	memcpy(r->g.id.b, id, ID_LEN);

	if (!(ks = calloc(1, sizeof *ks))) {
		rc = pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
		goto out;
	}
	if ((rc = pf_guest_index_keys(r, ks))) {
		if (rc == PF_EINVAL)
			rc = problem(v, PF_DBI_GUEST, kt, "its name or a contact cannot be folded "
			             "into index keys");
		goto out;
	}
	for (size_t i = 0; i < ks->contact.n; i++) {
		rc = vget_both(v, ks->contact.key[i], ks->contact.len[i], id, ID_LEN);
		if (rc == PF_ENOTFOUND)
			rc = problem(v, PF_DBI_GUEST, kt, "no 'contact' entry for its %s (%c: key "
			             "of %zu bytes)", contact_kind(ks->contact.key[i][0]),
			             ks->contact.key[i][0], ks->contact.len[i]);
		if (rc && rc != SKIP)
			goto out;
	}
	/* Retention removes an anonymised profile's index entries without
	 * writing the entries of its new name. */
	bool anonymised = r->g.name && strcmp(r->g.name, ANONYMISED) == 0;
	for (size_t i = 0; i < ks->nname && !anonymised; i++) {
		MDB_val d;
		rc = vget(v, PF_DBI_NAME, ks->name[i], ks->name_len[i], &d);
		if (rc == PF_ENOTFOUND)
			rc = problem(v, PF_DBI_GUEST, kt, "no 'name' entry for word %zu of its name "
			             "(key of %zu bytes)", i + 1, ks->name_len[i]);
		if (rc && rc != SKIP)
			goto out;
	}

	uint64_t stays = 0;
	if ((rc = count_stays(v, id, &stays)) == 0 && sat32(stays) != r->g.stays)
		rc = problem(v, PF_DBI_GUEST, kt, "stays is %lu but the guest has %llu stay "
		             "record(s)", (unsigned long)r->g.stays, (unsigned long long)stays);
	if (rc && rc != SKIP)
		goto out;

	tally probe, *t;
	memcpy(probe.guest.b, id, ID_LEN);
	t = v->ntallies ? bsearch(&probe, v->tallies, v->ntallies, sizeof *t, tally_cmp) : NULL;
	uint32_t total = t ? t->total : 0, open = t ? t->open : 0;
	if (r->complaints_total != total &&
	    (rc = problem(v, PF_DBI_GUEST, kt, "complaints_total is %lu but 'feedback' holds "
	                  "%lu complaint(s) of this guest", (unsigned long)r->complaints_total,
	                  (unsigned long)total)))
		goto out;
	if (r->complaints_open != open)
		rc = problem(v, PF_DBI_GUEST, kt, "complaints_open is %lu but %lu complaint(s) of "
		             "this guest are open or in progress", (unsigned long)r->complaints_open,
		             (unsigned long)open);
out:
	free(ks);
	pf_guest_rec_free(r);
	return rc == SKIP ? 0 : rc;
}

/* ------------------------------------------------------------------ */
/* contact, name                                                        */
/* ------------------------------------------------------------------ */

/* The index keys of the guest an index entry names, or a problem. *ks is
 * NULL (and 0 returned) when the check cannot go on. */
static int entry_guest(vctx *v, enum pf_dbi dbi, const unsigned char *id, const char *kt,
                       pf_index_keys **ks)
{
	pf_guest_rec *r = NULL;
	char a[PF_ID_STRLEN + 1];
	*ks = NULL;
	int rc = load_guest(v, id, &r);
	if (rc == PF_ENOTFOUND)
		return problem(v, dbi, kt, "names guest %s, which does not exist", id_text(a, id));
	if (rc)
		return rc == SKIP ? 0 : rc;
	pf_index_keys *k = calloc(1, sizeof *k);
	if (!k) {
		pf_guest_rec_free(r);
		return pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
	}
	rc = pf_guest_index_keys(r, k);
	pf_guest_rec_free(r);
	if (rc) {
		free(k);
		return rc == PF_EINVAL ? 0 : rc;       /* reported under the guest */
	}
	*ks = k;
	return 0;
}

static int check_contact(vctx *v, MDB_cursor *cur, const MDB_val *key, const MDB_val *val,
                         const char *kt)
{
	const unsigned char *k = key->mv_data;
	size_t len = key->mv_size;
	bool first = !key_eq(k, len, v->prev, v->prev_len);
	int rc = 0;

	if (len <= sizeof v->prev) {
		memcpy(v->prev, k, len);
		v->prev_len = len;
	}
	if (len < 3 || k[1] != ':' || !k[0] || !strchr("eplx", k[0]))
		return problem(v, PF_DBI_CONTACT, kt, "malformed key: not \"e:\", \"p:\", \"l:\" "
		               "or \"x:\" followed by text");
	if (val->mv_size != ID_LEN)
		return problem(v, PF_DBI_CONTACT, kt, "a value of %zu bytes, expected a %d-byte "
		               "guest id", val->mv_size, ID_LEN);
	if (k[0] == 'x' && first) {
		size_t n = 0;
		int mrc = mdb_cursor_count(cur, &n);
		if (mrc)
			return pf_lmdb_err(mrc, NULL);
		if (n > 1 && (rc = problem(v, PF_DBI_CONTACT, kt, "the external id names %zu "
		                           "guests; it must name one", n)))
			return rc;
	}
	pf_index_keys *ks = NULL;
	if ((rc = entry_guest(v, PF_DBI_CONTACT, val->mv_data, kt, &ks)) || !ks)
		return rc;
	bool found = false;
	for (size_t i = 0; i < ks->contact.n && !found; i++)
		found = key_eq(ks->contact.key[i], ks->contact.len[i], k, len);
	free(ks);
	if (!found)
		return problem(v, PF_DBI_CONTACT, kt, "the guest's record has no such %s (the "
		               "entry is stale)", contact_kind(k[0]));
	return 0;
}

static int check_name(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *k = key->mv_data;
	size_t len = key->mv_size;
	int rc;

	if (len < ID_LEN + 2 || k[len - ID_LEN - 1] != '\0')
		return problem(v, PF_DBI_NAME, kt, "malformed key: not folded text + '\\0' + a "
		               "%d-byte guest id", ID_LEN);
	if (val->mv_size)
		return problem(v, PF_DBI_NAME, kt, "a value of %zu bytes, expected none",
		               val->mv_size);
	pf_index_keys *ks = NULL;
	if ((rc = entry_guest(v, PF_DBI_NAME, k + len - ID_LEN, kt, &ks)) || !ks)
		return rc;
	bool found = false;
	for (size_t i = 0; i < ks->nname && !found; i++)
		found = key_eq(ks->name[i], ks->name_len[i], k, len);
	free(ks);
	if (!found)
		return problem(v, PF_DBI_NAME, kt, "the guest's name does not give this key (the "
		               "entry is stale)");
	return 0;
}

/* ------------------------------------------------------------------ */
/* stay, rule, event                                                    */
/* ------------------------------------------------------------------ */

static int check_stay(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *k = key->mv_data;
	char a[PF_ID_STRLEN + 1];
	pf_stay s;
	MDB_val d;
	int rc;

	pf_date arrival;
	if (!pf_stay_key_parse(k, key->mv_size, NULL, &arrival))
		return problem(v, PF_DBI_STAY, kt, "a key of %zu bytes, expected %zu (guest id + "
		               "big-endian arrival)", key->mv_size, (size_t)PF_STAY_KEY_LEN);
	if (zero_id(k))
		return problem(v, PF_DBI_STAY, kt, "the zero guest id");
	if (pf_check_date("arrival", arrival, true))
		return problem(v, PF_DBI_STAY, kt, "the arrival in the key is not a date");
	memset(&s, 0, sizeof s);
	if ((rc = pf_codec_stay_decode(&s, val->mv_data, val->mv_size))) {
		pf_stay_clear(&s);
		return rc == PF_ECORRUPT ? problem(v, PF_DBI_STAY, kt, "does not decode: %s",
		                                   decode_msg()) : rc;
	}
	pf_date departure = s.departure;
	pf_stay_clear(&s);
	/* The header allows a day-use stay (departure == arrival). */
	if (departure < arrival &&
	    (rc = problem(v, PF_DBI_STAY, kt, "departure is before arrival")))
		return rc;
	rc = vget(v, PF_DBI_GUEST, k, ID_LEN, &d);
	if (rc == PF_ENOTFOUND)
		return problem(v, PF_DBI_STAY, kt, "guest %s does not exist", id_text(a, k));
	return rc == SKIP ? 0 : rc;
}

static int check_rule(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	pf_rule_rec r = { 0, NULL };
	if (key->mv_size == 0 || !pf_utf8_valid(key->mv_data, key->mv_size))
		return problem(v, PF_DBI_RULE, kt, "the rule name is empty or not UTF-8");
	int rc = pf_codec_rule_decode(&r, val->mv_data, val->mv_size);
	free(r.source);
	if (rc)
		return rc == PF_ECORRUPT ? problem(v, PF_DBI_RULE, kt, "does not decode: %s",
		                                   decode_msg()) : rc;
	return 0;
}

static int check_event(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	char a[PF_ID_STRLEN + 1], b[PF_ID_STRLEN + 1];
	pf_event_rec e;
	int rc;

	if (key->mv_size == 0 || !pf_utf8_valid(key->mv_data, key->mv_size))
		return problem(v, PF_DBI_EVENT, kt, "the event id is empty or not UTF-8");
	memset(&e, 0, sizeof e);
	if ((rc = pf_codec_event_decode(&e, val->mv_data, val->mv_size))) {
		pf_event_rec_clear(&e);
		return rc == PF_ECORRUPT ? problem(v, PF_DBI_EVENT, kt, "does not decode: %s",
		                                   decode_msg()) : rc;
	}
	for (size_t i = 0; rc == 0 && i < e.prompt_count; i++) {
		pf_prompt p;
		rc = load_prompt(v, e.prompts[i].b, &p);
		if (rc == PF_ENOTFOUND) {
			rc = problem(v, PF_DBI_EVENT, kt, "lists prompt %s, which does not exist",
			             id_text(a, e.prompts[i].b));
			continue;
		}
		if (rc) {
			rc = rc == SKIP ? 0 : rc;
			continue;
		}
		if (!p.event_id || !key_eq(p.event_id, strlen(p.event_id), key->mv_data,
		                           key->mv_size))
			rc = problem(v, PF_DBI_EVENT, kt, "lists prompt %s, which another event "
			             "made", id_text(a, e.prompts[i].b));
		else if (memcmp(p.guest.b, e.guest.b, ID_LEN) != 0)
			rc = problem(v, PF_DBI_EVENT, kt, "lists prompt %s of guest %s; the event "
			             "is about guest %s", id_text(a, e.prompts[i].b),
			             id_text(b, p.guest.b), id_text(b, e.guest.b));
		pf_prompt_clear(&p);
	}
	pf_event_rec_clear(&e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* prompt, queue                                                        */
/* ------------------------------------------------------------------ */

static const char *const queue_list[3] = {
	"department feed ('s')", "per-guest index ('g')", "open work list ('o')",
};

static int check_prompt(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *id = key->mv_data;
	pf_queue_keys *qk = NULL;
	pf_prompt p;
	int rc;

	if (key->mv_size != ID_LEN)
		return problem(v, PF_DBI_PROMPT, kt, "a key of %zu bytes, expected a %d-byte id",
		               key->mv_size, ID_LEN);
	memset(&p, 0, sizeof p);
	if ((rc = pf_codec_prompt_decode(&p, val->mv_data, val->mv_size))) {
		pf_prompt_clear(&p);
		return rc == PF_ECORRUPT ? problem(v, PF_DBI_PROMPT, kt, "does not decode: %s",
		                                   decode_msg()) : rc;
	}
	if (memcmp(p.id.b, id, ID_LEN) != 0) {
		rc = problem(v, PF_DBI_PROMPT, kt, "the record holds another id");
		goto out;
	}
	if (p.seq == 0 || (v->have_seq_prompt && p.seq > v->seq_prompt)) {
		if ((rc = problem(v, PF_DBI_PROMPT, kt, "sequence number %llu is not between 1 "
		                  "and meta \"seq.prompt\" (%llu)", (unsigned long long)p.seq,
		                  (unsigned long long)v->seq_prompt)))
			goto out;
	}
	if (p.department && strlen(p.department) <= PF_FIELD_MAX) {
		char mk[sizeof "seq.dept:" + PF_FIELD_MAX];
		MDB_val d;
		snprintf(mk, sizeof mk, "seq.dept:%s", p.department);
		rc = vget(v, PF_DBI_META, mk, strlen(mk), &d);
		if (rc == 0 && d.mv_size == 8 && pf_be64_get(d.mv_data) < p.seq)
			rc = problem(v, PF_DBI_PROMPT, kt, "sequence number %llu is above its "
			             "department's meta \"seq.dept:\" (%llu)", (unsigned long long)p.seq,
			             (unsigned long long)pf_be64_get(d.mv_data));
		else if (rc == PF_ENOTFOUND)
			rc = problem(v, PF_DBI_PROMPT, kt, "its department has no meta \"seq.dept:\" "
			             "counter");
		if (rc && rc != SKIP)
			goto out;
	}
	if (!(qk = malloc(sizeof *qk))) {
		rc = pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
		goto out;
	}
	if (pf_prompt_queue_keys(&p, qk) == 0) {
		rc = problem(v, PF_DBI_PROMPT, kt, "its department is missing or too long");
		goto out;
	}
	for (size_t i = 0; i < qk->n; i++) {
		MDB_val d;
		rc = vget(v, PF_DBI_QUEUE, qk->key[i], qk->len[i], &d);
		if (rc == PF_ENOTFOUND)
			rc = problem(v, PF_DBI_PROMPT, kt, "not in its %s of 'queue' (status %s)",
			             queue_list[i], pf_prompt_status_name(p.status) ?
			             pf_prompt_status_name(p.status) : "unknown");
		else if (rc == 0 && i == 0 && !key_eq(d.mv_data, d.mv_size, id, ID_LEN))
			rc = problem(v, PF_DBI_PROMPT, kt, "its department feed entry (seq %llu) "
			             "names another prompt", (unsigned long long)p.seq);
		if (rc && rc != SKIP)
			goto out;
		rc = 0;
	}
out:
	free(qk);
	pf_prompt_clear(&p);
	return rc == SKIP ? 0 : rc;
}

static int check_queue(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *k = key->mv_data;
	size_t len = key->mv_size;
	char a[PF_ID_STRLEN + 1];
	const unsigned char *id;
	int slot, rc;

	if (len == 0)
		return problem(v, PF_DBI_QUEUE, kt, "an empty key");
	switch (k[0]) {
	case 's': slot = 0; break;
	case 'g': slot = 1; break;
	case 'o': slot = 2; break;
	case 'd':
		/* Schema 1's overdue list: read as it is there (a read-only
		 * handle does not upgrade), gone since. */
		if (v->db->schema < 2)
			return 0;
		return problem(v, PF_DBI_QUEUE, kt, "an overdue-list key ('d'), which schema %llu "
		               "no longer keeps", (unsigned long long)v->db->schema);
	default:
		return problem(v, PF_DBI_QUEUE, kt, "unknown key kind (not 's', 'g' or 'o')");
	}
	if (slot == 0) {
		if (val->mv_size != ID_LEN)
			return problem(v, PF_DBI_QUEUE, kt, "a feed entry whose value is %zu bytes, "
			               "expected a %d-byte prompt id", val->mv_size, ID_LEN);
		id = val->mv_data;
	} else {
		if (len < 1 + ID_LEN)
			return problem(v, PF_DBI_QUEUE, kt, "a key of %zu bytes is too short to end "
			               "in a prompt id", len);
		if (val->mv_size)
			return problem(v, PF_DBI_QUEUE, kt, "a value of %zu bytes, expected none",
			               val->mv_size);
		id = k + len - ID_LEN;
	}
	pf_prompt p;
	rc = load_prompt(v, id, &p);
	if (rc == PF_ENOTFOUND)
		return problem(v, PF_DBI_QUEUE, kt, "names prompt %s, which does not exist",
		               id_text(a, id));
	if (rc)
		return rc == SKIP ? 0 : rc;
	pf_queue_keys *qk = malloc(sizeof *qk);
	if (!qk) {
		pf_prompt_clear(&p);
		return pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
	}
	size_t n = pf_prompt_queue_keys(&p, qk);
	if (n == 0) {
		rc = 0;                    /* reported under the prompt */
	} else if ((size_t)slot >= n) {
		rc = problem(v, PF_DBI_QUEUE, kt, "prompt %s is %s: closed prompts leave the %s",
		             id_text(a, id), pf_prompt_status_name(p.status) ?
		             pf_prompt_status_name(p.status) : "in an unknown status",
		             queue_list[slot]);
	} else if (!key_eq(qk->key[slot], qk->len[slot], k, len)) {
		static const char *const what[3] = {
			"another department or sequence number", "another guest",
			"another department, due time or priority",
		};
		rc = problem(v, PF_DBI_QUEUE, kt, "prompt %s has %s", id_text(a, id), what[slot]);
	}
	free(qk);
	pf_prompt_clear(&p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* feedback                                                             */
/* ------------------------------------------------------------------ */

/* Before the walks: the complaints of every guest, from the records
 * themselves (a record that does not decode is reported by the walk). */
static int tally_feedback(vctx *v)
{
	MDB_cursor *cur = NULL;
	size_t cap = 0, n = 0;
	tally *t = NULL;
	int rc = 0, mrc = mdb_cursor_open(v->txn, v->db->dbi[PF_DBI_FEEDBACK], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k, d;
	for (mrc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		pf_feedback_rec r;
		if (k.mv_size != ID_LEN)
			continue;
		if (pf_codec_feedback_decode(&r, d.mv_data, d.mv_size)) {
			pf_feedback_rec_clear(&r);
			continue;
		}
		bool complaint = r.f.kind == PF_FEEDBACK_COMPLAINT;
		bool open = r.f.status == PF_FEEDBACK_OPEN || r.f.status == PF_FEEDBACK_IN_PROGRESS;
		pf_id g = r.f.guest;
		pf_feedback_rec_clear(&r);
		if (!complaint)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			tally *nt = realloc(t, ncap * sizeof *nt);
			if (!nt) {
				rc = pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
				goto out;
			}
			t = nt;
			cap = ncap;
		}
		t[n++] = (tally){ g, 1, open ? 1 : 0 };
	}
	/* Damage met here is reported by the walk of `feedback`. */
	if (mrc && mrc != MDB_NOTFOUND && !lmdb_damage(mrc)) {
		rc = pf_lmdb_err(mrc, NULL);
		goto out;
	}
	if (n > 1)
		qsort(t, n, sizeof *t, tally_cmp);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && memcmp(t[w - 1].guest.b, t[i].guest.b, ID_LEN) == 0) {
			t[w - 1].total = sat32((uint64_t)t[w - 1].total + 1);
			t[w - 1].open = sat32((uint64_t)t[w - 1].open + t[i].open);
		} else {
			t[w++] = t[i];
		}
	}
	v->tallies = t;
	v->ntallies = w;
	t = NULL;
out:
	free(t);
	mdb_cursor_close(cur);
	return rc;
}

static int prompt_exists(vctx *v, enum pf_dbi dbi, const char *kt, const pf_id *id,
                         const char *what)
{
	char a[PF_ID_STRLEN + 1];
	MDB_val d;
	int rc = vget(v, PF_DBI_PROMPT, id->b, ID_LEN, &d);
	if (rc == PF_ENOTFOUND)
		return problem(v, dbi, kt, "its %s %s does not exist", what, id_text(a, id->b));
	return rc == SKIP ? 0 : rc;
}

static int check_feedback(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *k = key->mv_data;
	char a[PF_ID_STRLEN + 1];
	unsigned char ik[PF_FEEDBACK_INDEX_KEY_LEN];
	pf_feedback_rec r;
	MDB_val d;
	int rc;

	if (key->mv_size == ID_LEN) {
		if ((rc = pf_codec_feedback_decode(&r, val->mv_data, val->mv_size))) {
			pf_feedback_rec_clear(&r);
			return rc == PF_ECORRUPT ? problem(v, PF_DBI_FEEDBACK, kt, "does not decode: "
			                                   "%s", decode_msg()) : rc;
		}
		memcpy(r.f.id.b, k, ID_LEN);
		pf_feedback_index_key(ik, &r.f.guest, r.f.recorded_at, &r.f.id);
		rc = vget(v, PF_DBI_FEEDBACK, ik, sizeof ik, &d);
		if (rc == PF_ENOTFOUND)
			rc = problem(v, PF_DBI_FEEDBACK, kt, "no per-guest index entry (guest %s)",
			             id_text(a, r.f.guest.b));
		for (size_t i = 0; (rc == 0 || rc == SKIP) && i < r.prompt_count; i++)
			rc = prompt_exists(v, PF_DBI_FEEDBACK, kt, &r.prompts[i], "complaint prompt");
		if ((rc == 0 || rc == SKIP) && !pf_id_is_zero(&r.f.followup_prompt))
			rc = prompt_exists(v, PF_DBI_FEEDBACK, kt, &r.f.followup_prompt,
			                   "follow-up prompt");
		pf_feedback_rec_clear(&r);
		return rc == SKIP ? 0 : rc;
	}
	if (key->mv_size != PF_FEEDBACK_INDEX_KEY_LEN || k[0] != 'g')
		return problem(v, PF_DBI_FEEDBACK, kt, "a key of %zu bytes is neither a %d-byte "
		               "feedback id nor a %d-byte index key", key->mv_size, ID_LEN,
		               PF_FEEDBACK_INDEX_KEY_LEN);
	if (val->mv_size)
		return problem(v, PF_DBI_FEEDBACK, kt, "a value of %zu bytes, expected none",
		               val->mv_size);
	const unsigned char *id = k + PF_FEEDBACK_INDEX_KEY_LEN - ID_LEN;
	rc = vget(v, PF_DBI_FEEDBACK, id, ID_LEN, &d);
	if (rc == PF_ENOTFOUND)
		return problem(v, PF_DBI_FEEDBACK, kt, "names feedback %s, which does not exist",
		               id_text(a, id));
	if (rc)
		return rc == SKIP ? 0 : rc;
	if ((rc = pf_codec_feedback_decode(&r, d.mv_data, d.mv_size))) {
		pf_feedback_rec_clear(&r);
		return rc == PF_ECORRUPT ? 0 : rc;     /* reported under its own key */
	}
	memcpy(r.f.id.b, id, ID_LEN);
	pf_feedback_index_key(ik, &r.f.guest, r.f.recorded_at, &r.f.id);
	pf_feedback_rec_clear(&r);
	if (memcmp(ik, k, sizeof ik) != 0)
		return problem(v, PF_DBI_FEEDBACK, kt, "feedback %s is about another guest or "
		               "was recorded at another time", id_text(a, id));
	return 0;
}

/* ------------------------------------------------------------------ */
/* journal                                                              */
/* ------------------------------------------------------------------ */

static int check_journal(vctx *v, const MDB_val *key, const MDB_val *val, const char *kt)
{
	const unsigned char *k = key->mv_data;
	char a[PF_ID_STRLEN + 1];
	unsigned char ik[PF_JOURNAL_INDEX_KEY_LEN];
	pf_journal_entry e;
	MDB_val d;
	int rc;

	if (key->mv_size == 8) {
		uint64_t seq = pf_be64_get(k);
		if ((seq == 0 || (v->have_seq_journal && seq > v->seq_journal)) &&
		    (rc = problem(v, PF_DBI_JOURNAL, kt, "sequence number not between 1 and meta "
		                  "\"seq.journal\" (%llu)", (unsigned long long)v->seq_journal)))
			return rc;
		memset(&e, 0, sizeof e);
		if ((rc = pf_codec_journal_decode(&e, val->mv_data, val->mv_size))) {
			pf_journal_entry_clear(&e);
			return rc == PF_ECORRUPT ? problem(v, PF_DBI_JOURNAL, kt, "does not decode: "
			                                   "%s", decode_msg()) : rc;
		}
		pf_id g = e.guest;
		pf_journal_entry_clear(&e);
		if (pf_id_is_zero(&g))
			return 0;
		pf_journal_index_key(ik, &g, seq);
		rc = vget(v, PF_DBI_JOURNAL, ik, sizeof ik, &d);
		if (rc == PF_ENOTFOUND)
			return problem(v, PF_DBI_JOURNAL, kt, "no per-guest index entry (guest %s)",
			               id_text(a, g.b));
		return rc == SKIP ? 0 : rc;
	}
	if (key->mv_size != PF_JOURNAL_INDEX_KEY_LEN || k[0] != 'g')
		return problem(v, PF_DBI_JOURNAL, kt, "a key of %zu bytes is neither an 8-byte "
		               "sequence number nor a %d-byte index key", key->mv_size,
		               PF_JOURNAL_INDEX_KEY_LEN);
	if (val->mv_size)
		return problem(v, PF_DBI_JOURNAL, kt, "a value of %zu bytes, expected none",
		               val->mv_size);
	uint64_t seq = pf_be64_get(k + 1 + ID_LEN);
	unsigned char ek[8];
	pf_be64_put(ek, seq);
	rc = vget(v, PF_DBI_JOURNAL, ek, sizeof ek, &d);
	if (rc == PF_ENOTFOUND)
		return problem(v, PF_DBI_JOURNAL, kt, "names entry %llu, which does not exist",
		               (unsigned long long)seq);
	if (rc)
		return rc == SKIP ? 0 : rc;
	memset(&e, 0, sizeof e);
	if ((rc = pf_codec_journal_decode(&e, d.mv_data, d.mv_size))) {
		pf_journal_entry_clear(&e);
		return rc == PF_ECORRUPT ? 0 : rc;     /* reported under its own key */
	}
	bool same = memcmp(e.guest.b, k + 1, ID_LEN) == 0;
	pf_journal_entry_clear(&e);
	if (!same)
		return problem(v, PF_DBI_JOURNAL, kt, "entry %llu is not about guest %s",
		               (unsigned long long)seq, id_text(a, k + 1));
	return 0;
}

/* ------------------------------------------------------------------ */
/* The walk                                                             */
/* ------------------------------------------------------------------ */

static int check_record(vctx *v, enum pf_dbi dbi, MDB_cursor *cur, const MDB_val *k,
                        const MDB_val *d)
{
	char kt[KEY_TEXT];
	describe(kt, sizeof kt, dbi, k, d);
	switch (dbi) {
	case PF_DBI_META:     return check_meta(v, k, d, kt);
	case PF_DBI_GUEST:    return check_guest(v, k, d, kt);
	case PF_DBI_CONTACT:  return check_contact(v, cur, k, d, kt);
	case PF_DBI_NAME:     return check_name(v, k, d, kt);
	case PF_DBI_STAY:     return check_stay(v, k, d, kt);
	case PF_DBI_RULE:     return check_rule(v, k, d, kt);
	case PF_DBI_EVENT:    return check_event(v, k, d, kt);
	case PF_DBI_PROMPT:   return check_prompt(v, k, d, kt);
	case PF_DBI_QUEUE:    return check_queue(v, k, d, kt);
	case PF_DBI_FEEDBACK: return check_feedback(v, k, d, kt);
	case PF_DBI_JOURNAL:  return check_journal(v, k, d, kt);
	default:              return 0;
	}
}

/* Every record of one database, then LMDB's own count of them. */
static int walk(vctx *v, enum pf_dbi dbi)
{
	pf_verify_database *st = &v->rep->databases[dbi];
	MDB_cursor *cur = NULL;
	MDB_val k, d;
	int rc = 0, mrc = mdb_cursor_open(v->txn, v->db->dbi[dbi], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	for (mrc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		st->records++;
		if ((rc = check_record(v, dbi, cur, &k, &d)))
			goto out;
	}
	if (mrc != MDB_NOTFOUND) {
		if (!lmdb_damage(mrc)) {
			rc = pf_lmdb_err(mrc, NULL);
			goto out;
		}
		char kt[64];
		snprintf(kt, sizeof kt, "(after record %llu)", (unsigned long long)st->records);
		v->damaged[dbi] = true;
		rc = problem(v, dbi, kt, "LMDB reports damaged pages (%s): the walk of this "
		             "database stopped here; the data file is damaged, restore from the "
		             "latest backup", mdb_strerror(mrc));
		goto out;
	}
	MDB_stat ms;
	if ((mrc = mdb_stat(v->txn, v->db->dbi[dbi], &ms))) {
		rc = pf_lmdb_err(mrc, NULL);
		goto out;
	}
	if (ms.ms_entries != st->records)
		rc = problem(v, dbi, "(database)", "LMDB counts %llu records but the walk read "
		             "%llu: the B-tree is damaged; restore from the latest backup",
		             (unsigned long long)ms.ms_entries, (unsigned long long)st->records);
out:
	mdb_cursor_close(cur);
	return rc;
}

/* A meta counter for the range checks; absent or malformed: no check
 * (the meta walk reports a malformed one). */
static int read_counter(vctx *v, const char *key, bool *have, uint64_t *out)
{
	MDB_val d;
	*have = false;
	*out = 0;
	int rc = vget(v, PF_DBI_META, key, strlen(key), &d);
	if (rc == PF_ENOTFOUND) {
		*have = true;              /* nothing stored yet: 0 */
		return 0;
	}
	if (rc)
		return rc == SKIP ? 0 : rc;
	if (d.mv_size == 8) {
		*have = true;
		*out = pf_be64_get(d.mv_data);
	}
	return 0;
}

static int verify_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	vctx *v = arg;
	int rc;
	v->txn = txn;
	v->db = db;
	if ((rc = read_counter(v, "seq.prompt", &v->have_seq_prompt, &v->seq_prompt)) ||
	    (rc = read_counter(v, "seq.journal", &v->have_seq_journal, &v->seq_journal)) ||
	    (rc = tally_feedback(v)))
		return rc;
	for (int i = 0; i < PF_DBI_COUNT; i++)
		if ((rc = walk(v, (enum pf_dbi)i)))
			return rc;
	/* LMDB's free list is no database of ours, but the next write reads
	 * it: its damage is reported against 'meta', the environment's. */
	char why[PROBLEM_TEXT];
	rc = pf_store_check_free(txn, db, why, sizeof why);
	if (rc == 1)
		return problem(v, PF_DBI_META, "(free list)", "%s", why);
	return rc;
}

int pf_verify(pf_verify_report **out, pf_db *db)
{
	pf_api_enter("pf_verify");
	if (!out)
		return pf_seterr(PF_EINVAL, VERIFY ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, VERIFY ": db is NULL");

	vctx *v = calloc(1, sizeof *v);
	pf_verify_report *r = calloc(1, sizeof *r);
	if (!v || !r || !(r->databases = calloc(PF_DBI_COUNT, sizeof *r->databases))) {
		free(v);
		pf_verify_report_free(r);
		return pf_seterr(PF_ENOMEM, VERIFY ": out of memory");
	}
	r->database_count = PF_DBI_COUNT;
	for (int i = 0; i < PF_DBI_COUNT; i++)
		r->databases[i].name = pf_dbi_names[i];
	v->rep = r;
	int rc = pf_store_read(db, verify_txn, v);
	free(v->tallies);
	free(v);
	if (rc) {
		pf_verify_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
