/*
 * journal.c — the ordered change log: every mutation appends an entry in
 * the transaction that makes it, so the journal never disagrees with the
 * data.  Owns the `journal` db and meta "seq.journal"; the public reader
 * (pf_journal_iter/next/last_seq), retention (pf_journal_trim) and the
 * erasure rewrite other layers call.  Uses store.c, codec.c, text.c, and
 * chain.c's pf_chain_note (what each entry touched, for replication).
 *
 * `journal` keys:
 *   be64(seq)                      -> journal record (codec.c)
 *   'g' guest(16) be64(seq)        -> empty: the per-guest index
 * All realistic entry keys sort before every index key: an 8-byte key
 * starting with 'g' (0x67) would need seq >= 0x67 << 56, which append
 * refuses.  Scans of the entries stop at the first key that is not 8
 * bytes long.
 */
#include "journal.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_KEY "seq.journal"
#define ID_LEN ((int)sizeof(pf_id))
#define IDX_TAG 'g'
#define IDX_LEN (1 + ID_LEN + 8)
#define SEQ_LIMIT ((uint64_t)IDX_TAG << 56)
#define BATCH 256                  /* entries per read transaction */
#define TRIM_BATCH 1024            /* keys collected before deleting */
#define ERASED "[erased]"

/* ------------------------------------------------------------------ */
/* Validation                                                           */
/* ------------------------------------------------------------------ */

static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* An optional string of the entry: NULL, or 1..max bytes of UTF-8
 * (0..max when empty_ok). */
static int check_str(const char *what, const char *s, size_t max, bool empty_ok)
{
	if (!s)
		return 0;
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return pf_seterr(PF_EINVAL, "pf_journal_append: %s is longer than %zu bytes",
		                 what, max);
	if (n == 0 && !empty_ok)
		return pf_seterr(PF_EINVAL, "pf_journal_append: %s is empty", what);
	if (!pf_utf8_valid(s, n))
		return pf_seterr(PF_EINVAL, "pf_journal_append: %s is not valid UTF-8", what);
	return 0;
}

static int check_entry(const pf_jentry *e)
{
	int rc;
	if (!e || !e->op)
		return pf_seterr(PF_EINVAL, "pf_journal_append: %s is NULL", e ? "op" : "entry");
	if (!pf_dotted_words_valid(e->op, strnlen(e->op, PF_JOURNAL_OP_MAX + 1), PF_JOURNAL_OP_MAX))
		return pf_seterr(PF_EINVAL, "pf_journal_append: op '%.64s' is not lower-case "
		                 "words joined by '.' (e.g. guest.put)", e->op);
	if ((rc = check_str("actor", e->actor, PF_JOURNAL_ACTOR_MAX, false)) ||
	    (rc = check_str("ref", e->ref, PF_JOURNAL_REF_MAX, false)))
		return rc;
	if (e->field_count > PF_JOURNAL_FIELDS_MAX)
		return pf_seterr(PF_EINVAL, "pf_journal_append: %zu fields, at most %d",
		                 e->field_count, PF_JOURNAL_FIELDS_MAX);
	if (e->field_count && !e->fields)
		return pf_seterr(PF_EINVAL, "pf_journal_append: fields is NULL");
	for (size_t i = 0; i < e->field_count; i++) {
		const pf_journal_field *f = &e->fields[i];
		if (!f->name)
			return pf_seterr(PF_EINVAL, "pf_journal_append: field %zu has no name", i);
		if ((rc = check_str("a field name", f->name, PF_JOURNAL_NAME_MAX, false)) ||
		    (rc = check_str("a field value", f->value, PF_JOURNAL_VALUE_MAX, true)))
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */
/* ------------------------------------------------------------------ */

static size_t idx_key(unsigned char k[IDX_LEN], const pf_id *guest, uint64_t seq)
{
	k[0] = IDX_TAG;
	memcpy(k + 1, guest->b, ID_LEN);
	pf_be64_put(k + 1 + ID_LEN, seq);
	return IDX_LEN;
}

/* For verify.c: the per-guest index key of entry `seq`. */
_Static_assert(IDX_LEN == PF_JOURNAL_INDEX_KEY_LEN, "journal index key length");
void pf_journal_index_key(unsigned char k[PF_JOURNAL_INDEX_KEY_LEN], const pf_id *guest,
                          uint64_t seq)
{
	idx_key(k, guest, seq);
}

/* Store entry `j` under j->seq, with its index key. */
static int entry_put(MDB_txn *txn, pf_db *db, const pf_journal_entry *j)
{
	msgpack_sbuffer sb;
	unsigned char key[8], ik[IDX_LEN];
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = pf_codec_journal_encode(&sb, j);
	if (rc)
		goto out;
	pf_be64_put(key, j->seq);
	rc = pf_store_put(txn, db, PF_DBI_JOURNAL, key, sizeof key, sb.data, sb.size, 0);
	if (rc == 0 && !pf_id_is_zero(&j->guest))
		rc = pf_store_put(txn, db, PF_DBI_JOURNAL, ik, idx_key(ik, &j->guest, j->seq),
		                  "", 0, 0);
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int pf_journal_append(MDB_txn *txn, pf_db *db, const pf_jentry *e)
{
	int rc = check_entry(e);
	if (rc)
		return rc;
	pf_journal_entry j;
	memset(&j, 0, sizeof j);
	if ((rc = pf_meta_next(txn, db, SEQ_KEY, &j.seq)))
		return rc;
	if (j.seq >= SEQ_LIMIT)
		return pf_seterr(PF_EFULL, "pf_journal_append: the journal ran out of sequence "
		                 "numbers");
	j.time = pf_now(db);
	j.actor = e->actor;
	j.op = e->op;
	j.guest = e->guest;
	j.object = e->object;
	j.ref = e->ref;
	j.fields = e->fields;
	j.field_count = e->field_count;
	if ((rc = entry_put(txn, db, &j)))
		return rc;
	if (db->chain) {
		/* The replicated state the entry's write touched (chain.h). */
		const char *keep = NULL;
		for (size_t i = 0; i < e->field_count; i++)
			if (strcmp(e->fields[i].name, "keep") == 0)
				keep = e->fields[i].value;
		pf_chain_note(db, e->op, &e->guest, &e->object, keep);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Journal entries of the other layers                                  */
/* ------------------------------------------------------------------ */

/* Text forms of guest fields for the journal. */
const char *pf_consent_text(unsigned int c)
{
	switch (c & (PF_CONSENT_PROFILING | PF_CONSENT_MARKETING)) {
	case PF_CONSENT_PROFILING: return "profiling";
	case PF_CONSENT_MARKETING: return "marketing";
	case PF_CONSENT_PROFILING | PF_CONSENT_MARKETING: return "profiling,marketing";
	default: return "none";
	}
}

/* "a,b,c"; NULL when there are none. */
static const char *tags_text(char buf[PF_JOURNAL_TAGS_TEXT_MAX], const pf_guest *g)
{
	size_t n = 0;
	if (!g->tag_count || !g->tags)
		return NULL;
	for (size_t i = 0; i < g->tag_count; i++) {
		const char *t = g->tags[i] ? g->tags[i] : "";
		size_t l = strnlen(t, PF_FIELD_MAX);
		if (n + l + 1 >= PF_JOURNAL_TAGS_TEXT_MAX)
			break;
		if (i)
			buf[n++] = ',';
		memcpy(buf + n, t, l);
		n += l;
	}
	buf[n] = '\0';
	return buf;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

size_t pf_journal_guest_fields(pf_journal_field *f, const pf_guest_rec *old,
                               const pf_guest_rec *nr, pf_jguest_text *t)
{
	const pf_guest *o = old ? &old->g : NULL, *g = &nr->g;
	const struct { const char *name, *oldname, *ov, *nv; } c[PF_JOURNAL_GUEST_FIELDS] = {
		{ "name", "name.old", o ? o->name : NULL, g->name },
		{ "email", "email.old", o ? o->email : NULL, g->email },
		{ "phone", "phone.old", o ? o->phone : NULL, g->phone },
		{ "language", "language.old", o ? o->language : NULL, g->language },
		{ "loyalty_no", "loyalty_no.old", o ? o->loyalty_no : NULL, g->loyalty_no },
		{ "external_id", "external_id.old", o ? o->external_id : NULL, g->external_id },
		{ "country", "country.old", o ? o->country : NULL, g->country },
		{ "birth_date", "birth_date.old",
		  o ? pf_date_text(t->birth_old, o->birth_date) : NULL,
		  pf_date_text(t->birth_new, g->birth_date) },
		{ "tier", "tier.old", o ? pf_tier_name(o->tier) : NULL,
		  g->tier != PF_TIER_NONE || o ? pf_tier_name(g->tier) : NULL },
		{ "tags", "tags.old", o ? tags_text(t->tags_old, o) : NULL,
		  tags_text(t->tags_new, g) },
		{ "consent", "consent.old", o ? pf_consent_text(o->consent) : NULL,
		  pf_consent_text(g->consent) },
	};
	size_t n = 0;
	for (size_t i = 0; i < PF_JOURNAL_GUEST_FIELDS; i++) {
		if (str_eq(c[i].ov, c[i].nv))
			continue;
		f[n++] = (pf_journal_field){ c[i].name, c[i].nv };
		if (old)
			f[n++] = (pf_journal_field){ c[i].oldname, c[i].ov };
	}
	return n;
}

int pf_journal_guest_put(MDB_txn *txn, pf_db *db, const pf_guest_rec *old,
                         const pf_guest_rec *nr)
{
	pf_journal_field f[2 * PF_JOURNAL_GUEST_FIELDS];
	/* Two tag lists of up to 4 KiB each: on the heap, not the stack. */
	pf_jguest_text *t = malloc(sizeof *t);
	if (!t)
		return pf_seterr(PF_ENOMEM, "pf_guest_put: out of memory");
	size_t n = pf_journal_guest_fields(f, old, nr, t);
	pf_jentry e = { .op = "guest.put", .guest = nr->g.id, .fields = f, .field_count = n };
	int rc = pf_journal_append(txn, db, &e);
	free(t);
	return rc;
}

int pf_journal_stay(MDB_txn *txn, pf_db *db, const pf_stay *s, bool is_new,
                    uint32_t stays, const char *ref)
{
	char arr[PF_DATE_TEXT_SIZE], dep[PF_DATE_TEXT_SIZE], party[16], count[16];
	pf_journal_field f[6];
	size_t n = 0;

	f[n++] = (pf_journal_field){ "arrival", pf_date_text(arr, s->arrival) };
	f[n++] = (pf_journal_field){ "departure", pf_date_text(dep, s->departure) };
	if (s->room)
		f[n++] = (pf_journal_field){ "room", s->room };
	if (s->property)
		f[n++] = (pf_journal_field){ "property", s->property };
	if (s->party) {
		snprintf(party, sizeof party, "%lu", (unsigned long)s->party);
		f[n++] = (pf_journal_field){ "party", party };
	}
	if (is_new) {
		snprintf(count, sizeof count, "%lu", (unsigned long)stays);
		f[n++] = (pf_journal_field){ "stays", count };
	}
	pf_jentry e = { .op = "stay.add", .guest = s->guest, .ref = ref, .fields = f,
	                .field_count = n };
	return pf_journal_append(txn, db, &e);
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

struct pf_journal_iterator {
	pf_db *db;
	uint64_t after;           /* entries with seq > after are still to come */
	bool by_guest;
	pf_id guest;
	/* The current batch: raw records copied out of their read txn. */
	size_t n, pos;
	uint64_t seq[BATCH];
	size_t off[BATCH + 1];    /* record i is buf[off[i] .. off[i+1]) */
	unsigned char *buf;
	size_t cap;
	pf_journal_entry cur;     /* what pf_journal_next handed out last */
	int err;                  /* sticky */
};

static int batch_add(pf_journal_iterator *it, uint64_t seq, const MDB_val *v)
{
	size_t used = it->off[it->n];
	if (v->mv_size > it->cap - used) {
		size_t cap = it->cap ? it->cap : 16384;
		while (cap - used < v->mv_size)
			cap *= 2;
		unsigned char *b = realloc(it->buf, cap);
		if (!b)
			return pf_seterr(PF_ENOMEM, "pf_journal_next: out of memory");
		it->buf = b;
		it->cap = cap;
	}
	memcpy(it->buf + used, v->mv_data, v->mv_size);
	it->seq[it->n] = seq;
	it->off[++it->n] = used + v->mv_size;
	return 0;
}

static int corrupt_key(size_t len)
{
	return pf_seterr(PF_ECORRUPT, "corrupt record in 'journal': a key of %zu bytes is "
	                 "neither an entry nor an index key", len);
}

static int fill_all(pf_journal_iterator *it, MDB_cursor *cur)
{
	unsigned char start[8];
	MDB_val k = { sizeof start, start }, v;
	int mrc;
	pf_be64_put(start, it->after + 1);
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0 && it->n < BATCH;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			if (k.mv_size == IDX_LEN && *(const unsigned char *)k.mv_data == IDX_TAG)
				return 0;        /* the index begins: no more entries */
			return corrupt_key(k.mv_size);
		}
		int rc = batch_add(it, pf_be64_get(k.mv_data), &v);
		if (rc)
			return rc;
	}
	return mrc && mrc != MDB_NOTFOUND ? pf_lmdb_err(mrc, NULL) : 0;
}

static int fill_guest(MDB_txn *txn, pf_db *db, pf_journal_iterator *it, MDB_cursor *cur)
{
	unsigned char start[IDX_LEN];
	MDB_val k = { idx_key(start, &it->guest, it->after + 1), start }, v;
	int mrc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0 && it->n < BATCH;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const unsigned char *kb = k.mv_data;
		if (k.mv_size < 1 + ID_LEN || memcmp(kb, start, 1 + ID_LEN) != 0)
			return 0;
		if (k.mv_size != IDX_LEN)
			return corrupt_key(k.mv_size);
		uint64_t seq = pf_be64_get(kb + 1 + ID_LEN);
		unsigned char ek[8];
		MDB_val ev;
		pf_be64_put(ek, seq);
		int rc = pf_store_get(txn, db, PF_DBI_JOURNAL, ek, sizeof ek, &ev);
		if (rc == PF_ENOTFOUND)
			return pf_seterr(PF_ECORRUPT, "corrupt record in 'journal': the guest index "
			                 "names entry %llu, which does not exist",
			                 (unsigned long long)seq);
		if (rc)
			return rc;
		if ((rc = batch_add(it, seq, &ev)))
			return rc;
	}
	return mrc && mrc != MDB_NOTFOUND ? pf_lmdb_err(mrc, NULL) : 0;
}

static int fill_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	pf_journal_iterator *it = arg;
	MDB_cursor *cur = NULL;
	it->n = it->pos = 0;
	it->off[0] = 0;
	int mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_JOURNAL], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	int rc = it->by_guest ? fill_guest(txn, db, it, cur) : fill_all(it, cur);
	mdb_cursor_close(cur);
	if (rc)
		it->n = 0;
	return rc;
}

int pf_journal_iter(pf_journal_iterator **out, pf_db *db, uint64_t since_seq,
                    const pf_id *guest)
{
	pf_api_enter("pf_journal_iter");
	if (!out)
		return pf_seterr(PF_EINVAL, "pf_journal_iter: out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, "pf_journal_iter: db is NULL");
	if (guest && pf_id_is_zero(guest))
		return pf_seterr(PF_EINVAL, "pf_journal_iter: guest id is zero (pass NULL for "
		                 "every guest)");
	pf_journal_iterator *it = calloc(1, sizeof *it);
	if (!it)
		return pf_seterr(PF_ENOMEM, "pf_journal_iter: out of memory");
	it->db = db;
	it->after = since_seq;
	if (guest) {
		it->by_guest = true;
		it->guest = *guest;
	}
	*out = it;
	return 0;
}

int pf_journal_next(const pf_journal_entry **entry, pf_journal_iterator *it)
{
	pf_api_enter("pf_journal_next");
	if (!entry)
		return pf_seterr(PF_EINVAL, "pf_journal_next: entry is NULL");
	*entry = NULL;
	if (!it)
		return pf_seterr(PF_EINVAL, "pf_journal_next: it is NULL");
	if (it->err)
		return pf_seterr(it->err, "pf_journal_next: the iterator stopped at an earlier "
		                 "error");
	pf_journal_entry_clear(&it->cur);
	if (it->pos == it->n) {
		if (it->after == UINT64_MAX)
			return PF_ITEROVER;
		int rc = pf_store_read(it->db, fill_txn, it);
		if (rc) {
			it->err = rc;
			return rc;
		}
		if (it->n == 0)
			return PF_ITEROVER;   /* not sticky: later entries may come */
	}
	size_t i = it->pos++;
	uint64_t seq = it->seq[i];
	it->after = seq;
	int rc = pf_codec_journal_decode(&it->cur, it->buf + it->off[i],
	                                 it->off[i + 1] - it->off[i]);
	if (rc) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s", pf_errmsg());
		it->err = rc;
		return pf_seterr(rc, "pf_journal_next: entry %llu: %s", (unsigned long long)seq,
		                 msg);
	}
	it->cur.seq = seq;
	*entry = &it->cur;
	return 0;
}

void pf_journal_iterator_free(pf_journal_iterator *it)
{
	if (!it)
		return;
	pf_journal_entry_clear(&it->cur);
	free(it->buf);
	free(it);
}

static int last_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	return pf_meta_get_u64(txn, db, SEQ_KEY, arg);
}

int pf_journal_last_seq(uint64_t *seq, pf_db *db)
{
	pf_api_enter("pf_journal_last_seq");
	if (!seq || !db)
		return pf_seterr(PF_EINVAL, "pf_journal_last_seq: %s is NULL", seq ? "db" : "seq");
	uint64_t v = 0;
	int rc = pf_store_read(db, last_txn, &v);
	if (rc == 0)
		*seq = v;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Retention                                                            */
/* ------------------------------------------------------------------ */

struct trim_args {
	uint64_t before;
	uint64_t removed;
};

/* A key to delete and the guest whose index key goes with it. */
struct victim {
	uint64_t seq;
	pf_id guest;
};

/* Collect up to TRIM_BATCH entries with seq < before, from the start;
 * they are deleted after the cursor is closed. */
static int trim_collect(MDB_txn *txn, pf_db *db, uint64_t before, struct victim *v,
                        size_t *n)
{
	MDB_cursor *cur = NULL;
	MDB_val k, d;
	int rc = 0, mrc;
	*n = 0;
	mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_JOURNAL], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	for (mrc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); mrc == 0 && *n < TRIM_BATCH;
	     mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != 8)
			break;
		uint64_t seq = pf_be64_get(k.mv_data);
		if (seq >= before)
			break;
		/* Decoded in full: its guest names the index key to delete, and a
		 * record that does not decode is reported rather than guessed at. */
		pf_journal_entry e;
		rc = pf_codec_journal_decode(&e, d.mv_data, d.mv_size);
		if (rc) {
			char msg[400];
			snprintf(msg, sizeof msg, "%s", pf_errmsg());
			rc = pf_seterr(rc, "pf_journal_trim: entry %llu: %s",
			               (unsigned long long)seq, msg);
			goto out;
		}
		v[*n].seq = seq;
		v[(*n)++].guest = e.guest;
		pf_journal_entry_clear(&e);
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
out:
	mdb_cursor_close(cur);
	return rc;
}

static int trim_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct trim_args *a = arg;
	struct victim *v = malloc(TRIM_BATCH * sizeof *v);
	char before[24], removed[24];
	size_t n;
	int rc;

	a->removed = 0;
	if (!v)
		return pf_seterr(PF_ENOMEM, "pf_journal_trim: out of memory");
	do {
		if ((rc = trim_collect(txn, db, a->before, v, &n)))
			goto out;
		for (size_t i = 0; i < n; i++) {
			unsigned char k[IDX_LEN];
			pf_be64_put(k, v[i].seq);
			if ((rc = pf_store_del(txn, db, PF_DBI_JOURNAL, k, 8, NULL, 0)))
				goto out;
			if (!pf_id_is_zero(&v[i].guest) &&
			    (rc = pf_store_del(txn, db, PF_DBI_JOURNAL, k,
			                       idx_key(k, &v[i].guest, v[i].seq), NULL, 0)))
				goto out;
		}
		a->removed += n;
	} while (n == TRIM_BATCH);

	snprintf(before, sizeof before, "%llu", (unsigned long long)a->before);
	snprintf(removed, sizeof removed, "%llu", (unsigned long long)a->removed);
	pf_journal_field f[2] = { { "before_seq", before }, { "removed", removed } };
	pf_jentry e = { .op = "journal.trim", .fields = f, .field_count = 2 };
	rc = pf_journal_append(txn, db, &e);
out:
	free(v);
	return rc;
}

int pf_journal_trim(pf_db *db, uint64_t before_seq, uint64_t *removed)
{
	pf_api_enter("pf_journal_trim");
	if (removed)
		*removed = 0;
	if (!db)
		return pf_seterr(PF_EINVAL, "pf_journal_trim: db is NULL");
	struct trim_args a = { before_seq, 0 };
	int rc = pf_store_write(db, trim_txn, &a);
	if (rc == 0 && removed)
		*removed = a.removed;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Erasure                                                              */
/* ------------------------------------------------------------------ */

/* Field names whose values are the guest's personal data; "x.old" and
 * other dotted forms count as "x". */
static const char *const personal[] = {
	"name", "email", "phone", "loyalty_no", "external_id", "birth_date", "note",
	"value", "text", "resolution", "reason", "staff",
};

static bool is_personal(const char *name)
{
	size_t len = strcspn(name, ".");
	for (size_t i = 0; i < sizeof personal / sizeof personal[0]; i++)
		if (strlen(personal[i]) == len && memcmp(personal[i], name, len) == 0)
			return true;
	return false;
}

/* The actor with its staff part erased: "dept/staff" -> "dept/[erased]"; a
 * lone department word is kept; anything else goes.  Writes into buf. */
static const char *erase_actor(char *buf, size_t cap, const char *actor)
{
	if (!actor)
		return NULL;
	const char *slash = strchr(actor, '/');
	if (slash) {
		snprintf(buf, cap, "%.*s/" ERASED, (int)(slash - actor), actor);
		return buf;
	}
	bool word = actor[0] >= 'a' && actor[0] <= 'z';
	for (const char *p = actor; word && *p; p++)
		word = word_char((unsigned char)*p);
	return word ? actor : ERASED;
}

/* Rewrite one entry; `fields` has room for PF_JOURNAL_FIELDS_MAX. */
static int erase_one(MDB_txn *txn, pf_db *db, uint64_t seq, pf_journal_field *fields)
{
	unsigned char k[8];
	char actor[PF_JOURNAL_ACTOR_MAX + sizeof ERASED + 1];
	pf_journal_entry e;
	MDB_val v;
	int rc;

	pf_be64_put(k, seq);
	rc = pf_store_get(txn, db, PF_DBI_JOURNAL, k, sizeof k, &v);
	if (rc == PF_ENOTFOUND)
		return pf_seterr(PF_ECORRUPT, "corrupt record in 'journal': the guest index "
		                 "names entry %llu, which does not exist", (unsigned long long)seq);
	if (rc)
		return rc;
	if ((rc = pf_codec_journal_decode(&e, v.mv_data, v.mv_size))) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s", pf_errmsg());
		return pf_seterr(rc, "journal entry %llu: %s", (unsigned long long)seq, msg);
	}
	/* A view of the entry that borrows its strings, with the personal
	 * ones swapped for the tombstone. */
	pf_journal_entry w = e;
	w.seq = seq;
	w.actor = erase_actor(actor, sizeof actor, e.actor);
	for (size_t i = 0; i < e.field_count; i++) {
		fields[i] = e.fields[i];
		if (fields[i].value && is_personal(fields[i].name))
			fields[i].value = ERASED;
	}
	w.fields = fields;
	rc = entry_put(txn, db, &w);
	pf_journal_entry_clear(&e);
	return rc;
}

int pf_journal_erase_guest(MDB_txn *txn, pf_db *db, const pf_id *guest)
{
	MDB_cursor *cur = NULL;
	uint64_t *seqs = NULL;
	pf_journal_field *fields = NULL;
	size_t n = 0, cap = 0;
	unsigned char start[IDX_LEN];
	int rc = 0, mrc;

	if (!guest || pf_id_is_zero(guest))
		return pf_seterr(PF_EINVAL, "pf_journal_erase_guest: guest is NULL or zero");
	/* The entries are collected first: rewriting them while a cursor
	 * walks the same db would move it. */
	mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_JOURNAL], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { idx_key(start, guest, 0), start }, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 1 + ID_LEN || memcmp(k.mv_data, start, 1 + ID_LEN) != 0)
			break;
		if (k.mv_size != IDX_LEN) {
			rc = corrupt_key(k.mv_size);
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint64_t *ns = realloc(seqs, ncap * sizeof *ns);
			if (!ns) {
				rc = pf_seterr(PF_ENOMEM, "pf_journal_erase_guest: out of memory");
				goto out;
			}
			seqs = ns;
			cap = ncap;
		}
		seqs[n++] = pf_be64_get((const unsigned char *)k.mv_data + 1 + ID_LEN);
	}
	if (mrc && mrc != MDB_NOTFOUND) {
		rc = pf_lmdb_err(mrc, NULL);
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (n && !(fields = malloc(PF_JOURNAL_FIELDS_MAX * sizeof *fields))) {
		rc = pf_seterr(PF_ENOMEM, "pf_journal_erase_guest: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = erase_one(txn, db, seqs[i], fields);
out:
	if (cur)
		mdb_cursor_close(cur);
	free(seqs);
	free(fields);
	return rc;
}

/* Entries only: their keys are 8 bytes, the per-guest index keys longer. */
int pf_journal_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_JOURNAL, NULL, 0, 8, fn, ctx);
}
