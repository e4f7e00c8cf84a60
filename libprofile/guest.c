/*
 * guest.c — guest profiles: pf_guest_put / _update / _get_or_put / _get /
 * _find and the in-transaction helpers other layers use (pf_guest_load,
 * pf_guest_load_if, pf_guest_save, pf_guest_reindex, pf_contact_key,
 * pf_guest_find_by_contact; a record's preferences are pref.c's).  Owns the contents of the `guest`, `contact` and
 * `name` databases and keeps the two indexes in step with the records.
 * Uses store.c, codec.c, text.c, and utf8proc for the name search key.
 */
#include "guest.h"
#include "error.h"
#include "text.h"
#include "id.h"
#include "store.h"
#include "codec.h"
#include "journal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* LMDB refuses keys over 511 bytes (its default build); folded text can be
 * several times longer than the input (NFKC expands some characters), so
 * index keys are cut at a character boundary below that. */
#define KEY_TEXT_MAX 480
#define NAME_WORDS_MAX 8
#define ID_LEN sizeof(pf_id)

/* ------------------------------------------------------------ folding */

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Trim surrounding whitespace in place; returns the new length. */
static size_t trim(char *s)
{
	size_t len = strlen(s), start = 0;
	while (start < len && is_space((unsigned char)s[start]))
		start++;
	while (len > start && is_space((unsigned char)s[len - 1]))
		len--;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
	return len - start;
}

/* Key text for e-mail and loyalty numbers: case-folded, trimmed. */
static char *fold_contact(const char *s, int *rc)
{
	char *f = pf_casefold(s, rc);
	if (!f)
		return NULL;
	size_t len = trim(f);
	f[pf_utf8_cut(f, len, KEY_TEXT_MAX)] = '\0';
	return f;
}

/*
 * Key text for names: case-folded AND accent-stripped, so front-desk staff
 * typing "elodie" on any keyboard find "Élodie"; compatibility forms and
 * look-alike punctuation are lumped, whitespace runs collapse to one space.
 * Index and query go through this same function, so they always agree.
 */
static char *fold_name(const char *s, int *rc)
{
	utf8proc_uint8_t *m = NULL;
	utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &m,
	                                  UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPAT |
	                                  UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE |
	                                  UTF8PROC_LUMP | UTF8PROC_STRIPMARK);
	if (n < 0) {
		*rc = n == UTF8PROC_ERROR_NOMEM ? PF_ENOMEM : PF_EINVAL;
		return NULL;
	}
	char *f = (char *)m;
	size_t w = 0;
	bool pending_space = false;
	for (size_t r = 0; f[r]; r++) {
		if (is_space((unsigned char)f[r])) {
			pending_space = w > 0;
			continue;
		}
		if (pending_space)
			f[w++] = ' ';
		pending_space = false;
		f[w++] = f[r];
	}
	f[pf_utf8_cut(f, w, KEY_TEXT_MAX)] = '\0';
	return f;
}

/* For merge.c's duplicate search: the same folding as the index. */
char *pf_guest_fold_name(const char *s, int *rc)
{
	return fold_name(s, rc);
}

/* ------------------------------------------------------------ indexes */

typedef struct {
	size_t len;
	unsigned char b[KEY_TEXT_MAX + 3 + ID_LEN];
} idx_key;

/* Every index key of one guest record. */
typedef struct {
	size_t ncontact, nname;
	idx_key contact[4];              /* "e:"/"p:"/"l:"/"x:" + text; value = id */
	idx_key name[NAME_WORDS_MAX];    /* folded name from a word start + '\0' + id */
} idx_keys;

static void key_set(idx_key *k, const char *prefix, const char *text, size_t len)
{
	size_t p = strlen(prefix);
	memcpy(k->b, prefix, p);
	memcpy(k->b + p, text, len);
	k->len = p + len;
}

static int index_keys(idx_keys *ks, const pf_guest_rec *r)
{
	int rc = 0;
	char *f = NULL;
	ks->ncontact = ks->nname = 0;

	if (r->g.email) {
		if (!(f = fold_contact(r->g.email, &rc)))
			goto fail;
		idx_key *k = &ks->contact[ks->ncontact++];
		k->len = pf_contact_key(k->b, 'e', f, strlen(f));
		free(f);
	}
	if (r->g.phone) {
		char digits[PF_FIELD_MAX + 1];
		int n = pf_phone_digits(r->g.phone, digits, sizeof digits);
		if (n > 0) {
			idx_key *k = &ks->contact[ks->ncontact++];
			k->len = pf_contact_key(k->b, 'p', digits, (size_t)n);
		}
	}
	if (r->g.loyalty_no) {
		if (!(f = fold_contact(r->g.loyalty_no, &rc)))
			goto fail;
		idx_key *k = &ks->contact[ks->ncontact++];
		k->len = pf_contact_key(k->b, 'l', f, strlen(f));
		free(f);
	}
	/* External ids are another system's keys: matched exactly, unfolded. */
	if (r->g.external_id) {
		idx_key *k = &ks->contact[ks->ncontact++];
		k->len = pf_contact_key(k->b, 'x', r->g.external_id, strlen(r->g.external_id));
	}
	if (!(f = fold_name(r->g.name ? r->g.name : "", &rc)))
		goto fail;
	/* A key per word start, so "wei" finds "Zhuang Wei" by a range scan;
	 * a hyphen starts a word too ("Jean-Luc" -> "luc"). */
	size_t len = strlen(f);
	for (size_t i = 0; i < len && ks->nname < NAME_WORDS_MAX; i++) {
		bool start = i == 0 || f[i - 1] == ' ' || f[i - 1] == '-';
		if (!start || f[i] == ' ' || f[i] == '-')
			continue;
		idx_key *k = &ks->name[ks->nname++];
		key_set(k, "", f + i, len - i);
		k->b[k->len++] = '\0';
		memcpy(k->b + k->len, r->g.id.b, ID_LEN);
		k->len += ID_LEN;
	}
	free(f);
	return 0;
fail:
	return pf_seterr(rc ? rc : PF_ENOMEM, "pf_guest_put: cannot fold a name or contact "
	                 "for the index");
}

static bool key_in(const idx_key *k, const idx_key *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].len == k->len && memcmp(set[i].b, k->b, k->len) == 0)
			return true;
	return false;
}

/* External ids are unique: PF_EEXIST if another guest holds nr's. */
static int external_id_free(MDB_txn *txn, pf_db *db, const pf_guest_rec *nr)
{
	idx_key k;
	MDB_val v;
	k.len = pf_contact_key(k.b, 'x', nr->g.external_id, strlen(nr->g.external_id));
	int rc = pf_store_get(txn, db, PF_DBI_CONTACT, k.b, k.len, &v);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size == ID_LEN && memcmp(v.mv_data, nr->g.id.b, ID_LEN) == 0)
		return 0;
	char s[PF_ID_STRLEN + 1] = "?";
	if (v.mv_size == ID_LEN) {
		pf_id other;
		memcpy(other.b, v.mv_data, ID_LEN);
		pf_id_format(s, &other);
	}
	return pf_seterr(PF_EEXIST, "pf_guest_put: external_id already belongs to guest %s", s);
}

/*
 * Bring the contact and name indexes from `old` (NULL: a new guest) to
 * `nr` (NULL: a removed guest): keys that disappeared are deleted, new
 * ones added, unchanged ones left alone.
 */
static int reindex(MDB_txn *txn, pf_db *db, const pf_guest_rec *old, const pf_guest_rec *nr)
{
	int rc = 0;
	/* ~11 KiB together: on the heap, not the caller's stack.  Not
	 * calloc: only the counts need to start at zero, and clearing 11 KiB
	 * twice per write was 5 % of a bulk import. */
	idx_keys *ok = malloc(sizeof *ok), *nk = malloc(sizeof *nk);
	if (!ok || !nk) {
		rc = pf_seterr(PF_ENOMEM, "pf_guest_put: out of memory");
		goto out;
	}
	ok->ncontact = ok->nname = nk->ncontact = nk->nname = 0;
	if (old && (rc = index_keys(ok, old)))
		goto out;
	if (nr && (rc = index_keys(nk, nr)))
		goto out;

	for (size_t i = 0; i < ok->ncontact; i++)
		if (!key_in(&ok->contact[i], nk->contact, nk->ncontact) &&
		    (rc = pf_store_del(txn, db, PF_DBI_CONTACT, ok->contact[i].b,
		                       ok->contact[i].len, old->g.id.b, ID_LEN)))
			goto out;
	for (size_t i = 0; i < ok->nname; i++)
		if (!key_in(&ok->name[i], nk->name, nk->nname) &&
		    (rc = pf_store_del(txn, db, PF_DBI_NAME, ok->name[i].b, ok->name[i].len,
		                       NULL, 0)))
			goto out;
	for (size_t i = 0; i < nk->ncontact; i++) {
		if (key_in(&nk->contact[i], ok->contact, ok->ncontact))
			continue;
		if (nk->contact[i].b[0] == 'x' && (rc = external_id_free(txn, db, nr)))
			goto out;
		if ((rc = pf_store_put(txn, db, PF_DBI_CONTACT, nk->contact[i].b,
		                       nk->contact[i].len, nr->g.id.b, ID_LEN, 0)))
			goto out;
	}
	for (size_t i = 0; i < nk->nname; i++)
		if (!key_in(&nk->name[i], ok->name, ok->nname) &&
		    (rc = pf_store_put(txn, db, PF_DBI_NAME, nk->name[i].b, nk->name[i].len,
		                       "", 0, 0)))
			goto out;
out:
	free(ok);
	free(nk);
	return rc;
}

int pf_guest_reindex(MDB_txn *txn, pf_db *db, const pf_guest_rec *old,
                     const pf_guest_rec *nr)
{
	return reindex(txn, db, old, nr);
}

int pf_guest_contact_keys(const pf_guest_rec *r, pf_contact_keys *out)
{
	idx_keys *ks = calloc(1, sizeof *ks);
	if (!ks)
		return pf_seterr(PF_ENOMEM, "out of memory");
	int rc = index_keys(ks, r);
	out->n = 0;
	for (size_t i = 0; rc == 0 && i < ks->ncontact && i < PF_CONTACT_KEYS_MAX; i++) {
		memcpy(out->key[i], ks->contact[i].b, ks->contact[i].len);
		out->len[i] = ks->contact[i].len;
		out->n++;
	}
	free(ks);
	return rc;
}

/* For verify.c: every index key reindex() would write for r (r->g.id
 * set), contact keys and name keys alike. */
_Static_assert(NAME_WORDS_MAX <= PF_NAME_KEYS_MAX &&
               sizeof(((idx_key *)0)->b) <= PF_NAME_KEY_MAX &&
               sizeof(((idx_key *)0)->b) <= PF_CONTACT_KEY_MAX,
               "pf_index_keys must hold every key index_keys() makes");
int pf_guest_index_keys(const pf_guest_rec *r, pf_index_keys *out)
{
	idx_keys *ks = calloc(1, sizeof *ks);
	if (!ks)
		return pf_seterr(PF_ENOMEM, "out of memory");
	int rc = index_keys(ks, r);
	out->contact.n = out->nname = 0;
	for (size_t i = 0; rc == 0 && i < ks->ncontact && i < PF_CONTACT_KEYS_MAX; i++) {
		memcpy(out->contact.key[i], ks->contact[i].b, ks->contact[i].len);
		out->contact.len[i] = ks->contact[i].len;
		out->contact.n++;
	}
	for (size_t i = 0; rc == 0 && i < ks->nname && i < PF_NAME_KEYS_MAX; i++) {
		memcpy(out->name[i], ks->name[i].b, ks->name[i].len);
		out->name_len[i] = ks->name[i].len;
		out->nname++;
	}
	free(ks);
	return rc;
}

/* ------------------------------------------------ in-transaction helpers */

typedef int (*guest_decoder)(pf_guest_rec **out, const void *data, size_t len);

/* The stored guest `id`, decoded by `decode` (per field, or packed). */
static int guest_load_with(guest_decoder decode, pf_guest_rec **out, MDB_txn *txn,
                           pf_db *db, const pf_id *id)
{
	*out = NULL;
	MDB_val v;
	int rc = pf_store_get_id(txn, db, PF_DBI_GUEST, id, &v, "guest");
	if (rc)
		return rc;
	rc = decode(out, v.mv_data, v.mv_size);
	if (rc)
		return rc;
	/* The key holds the id, not the value. */
	(*out)->g.id = *id;
	return 0;
}

int pf_guest_load(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id)
{
	return guest_load_with(pf_codec_guest_decode, out, txn, db, id);
}

int pf_guest_load_packed(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id)
{
	return guest_load_with(pf_codec_guest_decode_packed, out, txn, db, id);
}

int pf_guest_save(MDB_txn *txn, pf_db *db, const pf_guest_rec *r)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	int rc = pf_codec_guest_encode(&sb, r);
	if (rc) {
		rc = pf_seterr(rc, "guest record: cannot encode (out of memory)");
		goto out;
	}
	rc = pf_store_put(txn, db, PF_DBI_GUEST, r->g.id.b, ID_LEN, sb.data, sb.size, 0);
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int pf_guest_exists(MDB_txn *txn, pf_db *db, const pf_id *id)
{
	MDB_val v;
	return pf_store_get_id(txn, db, PF_DBI_GUEST, id, &v, "guest");
}

int pf_guest_get_raw(MDB_txn *txn, pf_db *db, const pf_id *id, MDB_val *val,
                     const char *what)
{
	if (what)
		return pf_store_get_id(txn, db, PF_DBI_GUEST, id, val, "guest");
	return pf_store_get(txn, db, PF_DBI_GUEST, id->b, ID_LEN, val);
}

int pf_guest_put_raw(MDB_txn *txn, pf_db *db, const pf_id *id, const void *data, size_t len)
{
	return pf_store_put(txn, db, PF_DBI_GUEST, id->b, ID_LEN, data, len, 0);
}

int pf_guest_del_record(MDB_txn *txn, pf_db *db, const pf_id *id)
{
	return pf_store_del(txn, db, PF_DBI_GUEST, id->b, ID_LEN, NULL, 0);
}

int pf_guest_each(MDB_txn *txn, pf_db *db, pf_guest_fn fn, void *ctx)
{
	MDB_cursor *cur = NULL;
	int mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_GUEST], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k, v;
	int rc = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != ID_LEN) {
			rc = pf_seterr(PF_ECORRUPT, "corrupt record in 'guest': key of %zu bytes, "
			               "expected a %zu-byte id", k.mv_size, (size_t)ID_LEN);
			break;
		}
		pf_guest_rec *r = NULL;
		if ((rc = pf_codec_guest_decode(&r, v.mv_data, v.mv_size)))
			break;
		memcpy(r->g.id.b, k.mv_data, ID_LEN);
		rc = fn(ctx, r);
		pf_guest_rec_free(r);
		if (rc)
			break;
	}
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	mdb_cursor_close(cur);
	return rc;
}

int pf_guest_each_raw(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx)
{
	return pf_store_each(txn, db, PF_DBI_GUEST, fn, ctx);
}

int pf_contact_ids(MDB_txn *txn, pf_db *db, const void *key, size_t klen, size_t max,
                   pf_id_fn fn, void *ctx)
{
	MDB_cursor *cur = NULL;
	int mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_CONTACT], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { klen, (void *)key }, v;
	size_t seen = 0;
	int rc = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); mrc == 0 && seen < max;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP), seen++) {
		if (v.mv_size != ID_LEN) {
			rc = pf_seterr(PF_ECORRUPT, "corrupt record in 'contact': value is %zu "
			               "bytes, expected a %zu-byte id", v.mv_size, (size_t)ID_LEN);
			break;
		}
		pf_id id;
		memcpy(id.b, v.mv_data, ID_LEN);
		if ((rc = fn(ctx, &id)))
			break;
	}
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	mdb_cursor_close(cur);
	return rc;
}

int pf_name_ids_exact(MDB_txn *txn, pf_db *db, const char *fname, size_t max, pf_id_fn fn,
                      void *ctx)
{
	size_t plen = strlen(fname) + 1;
	MDB_cursor *cur = NULL;
	int rc = 0, mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_NAME], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { plen, (void *)fname }, v;
	size_t seen = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0 && seen < max;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), seen++) {
		if (k.mv_size != plen + ID_LEN || memcmp(k.mv_data, fname, plen) != 0)
			break;
		pf_id id;
		memcpy(id.b, (const unsigned char *)k.mv_data + plen, ID_LEN);
		if ((rc = fn(ctx, &id)))
			break;
	}
	if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
	mdb_cursor_close(cur);
	return rc;
}

/* ---------------------------------------------------------------- put */

#define PUT "pf_guest_put"

static int check_optional(const char *field, const char *s)
{
	int rc = pf_check_text(field, s, PF_FIELD_MAX, false);
	if (rc)
		return rc;
	if (s && !*s)
		return pf_seterr(PF_EINVAL, PUT ": %s is empty (pass NULL when not known)", field);
	return 0;
}

static int check_guest(const pf_guest *g)
{
	int rc;
	if ((rc = pf_check_text("name", g->name, PF_NAME_MAX, true)))
		return rc;
	const char *p = g->name;
	while (is_space((unsigned char)*p))
		p++;
	if (!*p)
		return pf_seterr(PF_EINVAL, PUT ": name is blank");

	if ((rc = check_optional("email", g->email)))
		return rc;
	if (g->email) {
		const char *at = strchr(g->email, '@');
		if (!at || at == g->email || !at[1] || strchr(at + 1, '@'))
			return pf_seterr(PF_EINVAL, PUT ": email is not an address "
			                 "(one '@' with text on both sides)");
	}
	if ((rc = check_optional("phone", g->phone)))
		return rc;
	if (g->phone) {
		char digits[PF_FIELD_MAX + 1];
		int n = pf_phone_digits(g->phone, digits, sizeof digits);
		if (n < 5)
			return pf_seterr(PF_EINVAL, PUT ": phone has fewer than 5 digits");
	}
	if ((rc = check_optional("language", g->language)) ||
	    (rc = check_optional("loyalty_no", g->loyalty_no)) ||
	    (rc = check_optional("external_id", g->external_id)))
		return rc;
	if (g->country && !pf_country_valid(g->country))
		return pf_seterr(PF_EINVAL, PUT ": country is not an ISO 3166-1 alpha-3 code "
		                 "(three upper-case letters, e.g. \"MAC\")");
	if ((rc = pf_check_date("birth_date", g->birth_date, false)))
		return rc;
	if (g->tier < PF_TIER_NONE || g->tier > PF_TIER_VIP)
		return pf_seterr(PF_EINVAL, PUT ": unknown tier %d", (int)g->tier);
	if (g->tag_count > PF_TAGS_MAX)
		return pf_seterr(PF_EINVAL, PUT ": %zu tags, at most %d allowed", g->tag_count,
		                 PF_TAGS_MAX);
	if (g->tag_count && !g->tags)
		return pf_seterr(PF_EINVAL, PUT ": tag_count is %zu but tags is NULL", g->tag_count);
	for (size_t i = 0; i < g->tag_count; i++)
		if ((rc = pf_check_word("tag", g->tags[i])))
			return rc;
	if (g->consent & ~(PF_CONSENT_PROFILING | PF_CONSENT_MARKETING))
		return pf_seterr(PF_EINVAL, PUT ": unknown consent flags 0x%x", g->consent);
	return 0;
}

int pf_guest_check(const pf_guest *g)
{
	if (!g)
		return pf_seterr(PF_EINVAL, PUT ": g is NULL");
	return check_guest(g);
}

/*
 * Store profile `g` as guest `id` in txn: `old` is its stored record
 * (NULL creates the guest).  Keeps what a put does not own (preferences,
 * counters, complaint state), re-indexes and journals.  `old` stays the
 * caller's.
 */
static int store_profile(MDB_txn *txn, pf_db *db, pf_guest_rec *old, const pf_guest *g,
                         const pf_id *id, pf_time now)
{
	pf_guest_rec *nr = NULL;
	int rc;

	if ((rc = pf_guest_rec_from_public(&nr, g))) {
		rc = pf_seterr(rc, PUT ": out of memory");
		goto out;
	}
	nr->g.id = *id;
	nr->g.updated = now;
	if (old) {
		/* Keep what put does not own.  Swapping (not copying) the
		 * pointers leaves each record owning exactly one set, so freeing
		 * both below is correct whatever from_public filled in. */
		pf_pref *prefs = nr->prefs;
		size_t cap = nr->pref_cap, count = nr->g.pref_count;
		nr->prefs = old->prefs;
		nr->pref_cap = old->pref_cap;
		nr->g.pref_count = old->g.pref_count;
		nr->g.prefs = nr->prefs;
		old->prefs = prefs;
		old->pref_cap = cap;
		old->g.pref_count = count;
		old->g.prefs = prefs;

		char *s = nr->complaint_last_category;
		nr->complaint_last_category = old->complaint_last_category;
		old->complaint_last_category = s;
		s = nr->complaint_latest;
		nr->complaint_latest = old->complaint_latest;
		old->complaint_latest = s;

		nr->complaints_open = old->complaints_open;
		nr->complaints_total = old->complaints_total;
		nr->g.complaints_open = old->complaints_open;
		nr->g.complaints_total = old->complaints_total;
		nr->g.not_satisfied_at = old->g.not_satisfied_at;
		nr->g.stays = old->g.stays;
		nr->g.created = old->g.created;
	} else {
		nr->g.created = now;
		nr->g.stays = 0;
	}

	if ((rc = reindex(txn, db, old, nr)))
		goto out;
	if ((rc = pf_guest_save(txn, db, nr)))
		goto out;
	rc = pf_journal_guest_put(txn, db, old, nr);
out:
	pf_guest_rec_free(nr);
	return rc;
}

struct put_args {
	const pf_guest *g;
	pf_id id;
	bool create;
	pf_time now;
};

static int put_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct put_args *a = arg;
	pf_guest_rec *old = NULL;
	int rc = 0;

	if (!a->create)
		rc = pf_guest_load(&old, txn, db, &a->id);
	if (rc == 0)
		rc = store_profile(txn, db, old, a->g, &a->id, a->now);
	pf_guest_rec_free(old);
	return rc;
}

int pf_guest_put(pf_db *db, pf_guest *g)
{
	pf_api_enter("pf_guest_put");
	if (!db || !g)
		return pf_seterr(PF_EINVAL, PUT ": %s is NULL", db ? "g" : "db");
	if (g->version != PF_GUEST_VERSION)
		return pf_seterr(PF_EINVAL, PUT ": unknown pf_guest version %u (expected %u)",
		                 g->version, (unsigned)PF_GUEST_VERSION);
	int rc = check_guest(g);
	if (rc)
		return rc;

	struct put_args a = { .g = g, .id = g->id, .create = pf_id_is_zero(&g->id),
	                      .now = pf_now(db) };
	/* Generated before the write so a retried transaction reuses it. */
	if (a.create)
		pf_id_generate(&a.id);
	rc = pf_store_write(db, put_txn, &a);
	if (rc == 0)
		g->id = a.id;
	return rc;
}

/* ------------------------------------------------------------- update */

#define UPDATE "pf_guest_update"

struct update_args {
	const pf_id *id;
	const pf_guest *fields;
	unsigned int mask;
	pf_time now;
};

static int update_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct update_args *a = arg;
	pf_guest_rec *old = NULL;
	int rc = pf_guest_load(&old, txn, db, a->id);
	if (rc)
		return rc;
	if (a->mask == 0)
		goto out;

	/* The stored profile with the named fields replaced; strings are
	 * borrowed from `old` and the caller, copied by store_profile. */
	pf_guest m = old->g;
	const pf_guest *f = a->fields;
	unsigned int k = a->mask;
	if (k & PF_GUEST_NAME)        m.name = f->name;
	if (k & PF_GUEST_EMAIL)       m.email = f->email;
	if (k & PF_GUEST_PHONE)       m.phone = f->phone;
	if (k & PF_GUEST_LANGUAGE)    m.language = f->language;
	if (k & PF_GUEST_LOYALTY_NO)  m.loyalty_no = f->loyalty_no;
	if (k & PF_GUEST_BIRTH_DATE)  m.birth_date = f->birth_date;
	if (k & PF_GUEST_TIER)        m.tier = f->tier;
	if (k & PF_GUEST_TAGS) {
		m.tags = f->tags;
		m.tag_count = f->tag_count;
	}
	if (k & PF_GUEST_CONSENT)     m.consent = f->consent;
	if (k & PF_GUEST_EXTERNAL_ID) m.external_id = f->external_id;
	if (k & PF_GUEST_COUNTRY)     m.country = f->country;
	if ((rc = check_guest(&m)) == 0)
		rc = store_profile(txn, db, old, &m, a->id, a->now);
out:
	pf_guest_rec_free(old);
	return rc;
}

int pf_guest_update(pf_db *db, const pf_id *id, const pf_guest *fields, unsigned int mask)
{
	pf_api_enter("pf_guest_update");
	if (!db || !id || !fields)
		return pf_seterr(PF_EINVAL, UPDATE ": %s is NULL", !db ? "db" : !id ? "id" : "fields");
	if (fields->version != PF_GUEST_VERSION)
		return pf_seterr(PF_EINVAL, UPDATE ": unknown pf_guest version %u (expected %u)",
		                 fields->version, (unsigned)PF_GUEST_VERSION);
	if (pf_id_is_zero(id))
		return pf_seterr(PF_EINVAL, UPDATE ": id is zero (no guest)");
	if (mask & ~PF_GUEST_ALL)
		return pf_seterr(PF_EINVAL, UPDATE ": unknown field bits 0x%x in mask",
		                 mask & ~PF_GUEST_ALL);
	struct update_args a = { id, fields, mask, pf_now(db) };
	return pf_store_write(db, update_txn, &a);
}

/* ---------------------------------------------------------- get or put */

#define GET_OR_PUT "pf_guest_get_or_put"

struct gop_args {
	const pf_guest *g;
	idx_key key;                       /* the contact index key to match */
	const char *what;                  /* "external_id", "email" or "phone" */
	pf_id new_id;
	pf_time now;
	pf_guest_rec *r;
	bool created;
};

static int gop_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct gop_args *a = arg;
	MDB_cursor *cur = NULL;
	pf_id found = { { 0 } };
	size_t matches = 0;
	int rc = 0;

	/* A retried transaction starts again from nothing. */
	pf_guest_rec_free(a->r);
	a->r = NULL;
	a->created = false;
	int mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_CONTACT], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { a->key.len, a->key.b }, v;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); mrc == 0 && matches < 2;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != ID_LEN) {
			rc = pf_seterr(PF_ECORRUPT, "corrupt record in 'contact': value is %zu "
			               "bytes, expected a %d-byte id", v.mv_size, (int)ID_LEN);
			goto out;
		}
		memcpy(found.b, v.mv_data, ID_LEN);
		matches++;
	}
	if (mrc && mrc != MDB_NOTFOUND) {
		rc = pf_lmdb_err(mrc, NULL);
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;

	if (matches > 1) {
		rc = pf_seterr(PF_EEXIST, GET_OR_PUT ": more than one guest has this %s; "
		               "choose one (pf_guest_find) and use its id", a->what);
		goto out;
	}
	if (matches == 1) {
		rc = pf_guest_load(&a->r, txn, db, &found);
		if (rc == PF_ENOTFOUND) {
			char s[PF_ID_STRLEN + 1];
			pf_id_format(s, &found);
			rc = pf_seterr(PF_ECORRUPT, GET_OR_PUT ": the %s index points at guest %s, "
			               "which does not exist", a->what, s);
		}
		goto out;
	}
	if ((rc = store_profile(txn, db, NULL, a->g, &a->new_id, a->now)))
		goto out;
	a->created = true;
	rc = pf_guest_load(&a->r, txn, db, &a->new_id);
out:
	mdb_cursor_close(cur);
	if (rc) {
		pf_guest_rec_free(a->r);
		a->r = NULL;
	}
	return rc;
}

/* The contact key of the first identifier `g` gives (external id, e-mail,
 * phone), built exactly as index_keys() builds it. */
static int gop_key(struct gop_args *a, const pf_guest *g)
{
	int rc = 0;
	if (g->external_id) {
		a->what = "external_id";
		a->key.len = pf_contact_key(a->key.b, 'x', g->external_id, strlen(g->external_id));
		return 0;
	}
	if (g->email) {
		a->what = "email";
		char *f = fold_contact(g->email, &rc);
		if (!f)
			return pf_seterr(rc ? rc : PF_ENOMEM, GET_OR_PUT ": cannot fold the email");
		a->key.len = pf_contact_key(a->key.b, 'e', f, strlen(f));
		free(f);
		return 0;
	}
	if (g->phone) {
		char digits[PF_FIELD_MAX + 1];
		int n = pf_phone_digits(g->phone, digits, sizeof digits);
		a->what = "phone";
		a->key.len = pf_contact_key(a->key.b, 'p', digits, n > 0 ? (size_t)n : 0);
		return 0;
	}
	return pf_seterr(PF_EINVAL, GET_OR_PUT ": give external_id, email or phone "
	                 "to match on");
}

int pf_guest_get_or_put(pf_guest **out, int *created, pf_db *db, const pf_guest *g)
{
	pf_api_enter("pf_guest_get_or_put");
	if (!out)
		return pf_seterr(PF_EINVAL, GET_OR_PUT ": out is NULL");
	*out = NULL;
	if (created)
		*created = 0;
	if (!db || !g)
		return pf_seterr(PF_EINVAL, GET_OR_PUT ": %s is NULL", db ? "g" : "db");
	if (g->version != PF_GUEST_VERSION)
		return pf_seterr(PF_EINVAL, GET_OR_PUT ": unknown pf_guest version %u (expected %u)",
		                 g->version, (unsigned)PF_GUEST_VERSION);
	int rc = check_guest(g);
	if (rc)
		return rc;

	struct gop_args *a = calloc(1, sizeof *a);
	if (!a)
		return pf_seterr(PF_ENOMEM, GET_OR_PUT ": out of memory");
	if ((rc = gop_key(a, g)))
		goto out;
	a->g = g;
	a->now = pf_now(db);
	/* Generated before the write so a retried transaction reuses it. */
	pf_id_generate(&a->new_id);
	rc = pf_store_write(db, gop_txn, a);
	if (rc == 0) {
		*out = &a->r->g;
		a->r = NULL;
		if (created)
			*created = a->created;
	}
out:
	pf_guest_rec_free(a->r);
	free(a);
	return rc;
}

/* ---------------------------------------------------------------- get */

struct get_args {
	const pf_id *id;
	pf_guest_rec *r;
};

static int get_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct get_args *a = arg;
	/* The caller only reads it: one block, freed by pf_guest_free. */
	return pf_guest_load_packed(&a->r, txn, db, a->id);
}

int pf_guest_get(pf_guest **out, pf_db *db, const pf_id *id)
{
	pf_api_enter("pf_guest_get");
	if (!out)
		return pf_seterr(PF_EINVAL, "pf_guest_get: out is NULL");
	*out = NULL;
	if (!db || !id)
		return pf_seterr(PF_EINVAL, "pf_guest_get: %s is NULL", db ? "id" : "db");
	if (pf_id_is_zero(id))
		return pf_seterr(PF_EINVAL, "pf_guest_get: id is zero (no guest)");

	struct get_args a = { .id = id, .r = NULL };
	int rc = pf_store_read(db, get_txn, &a);
	if (rc) {
		pf_guest_rec_free(a.r);
		return rc;
	}
	*out = &a.r->g;
	return 0;
}

/* --------------------------------------------------------------- find */

/* Matches are collected up to PF_FIND_LIMIT; one more distinct match
 * marks the list truncated, so the caller can ask for a narrower query. */

#define FIND "pf_guest_find"

struct find_args {
	char *email_key;      /* "e:..." or NULL */
	char *loyalty_key;    /* "l:..." or NULL */
	char *phone_key;      /* "p:..." or NULL */
	char *name_prefix;    /* folded query, or NULL */
	size_t nids;
	pf_id ids[PF_FIND_LIMIT];
	bool truncated;       /* a match beyond PF_FIND_LIMIT was seen */
	pf_guest_list *list;
};

static void add_id(struct find_args *a, const unsigned char *id)
{
	for (size_t i = 0; i < a->nids; i++)
		if (memcmp(a->ids[i].b, id, ID_LEN) == 0)
			return;
	if (a->nids < PF_FIND_LIMIT)
		memcpy(a->ids[a->nids++].b, id, ID_LEN);
	else
		a->truncated = true;
}

static int find_contact(MDB_txn *txn, pf_db *db, struct find_args *a, const char *key)
{
	MDB_cursor *cur = NULL;
	int mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_CONTACT], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); mrc == 0 && !a->truncated;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != ID_LEN) {
			rc = pf_seterr(PF_ECORRUPT, "corrupt record in 'contact': value is %zu "
			               "bytes, expected a %d-byte id", v.mv_size, (int)ID_LEN);
			goto out;
		}
		add_id(a, v.mv_data);
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
out:
	mdb_cursor_close(cur);
	return rc;
}

static int find_names(MDB_txn *txn, pf_db *db, struct find_args *a)
{
	MDB_cursor *cur = NULL;
	int mrc = mdb_cursor_open(txn, db->dbi[PF_DBI_NAME], &cur);
	if (mrc)
		return pf_lmdb_err(mrc, NULL);
	size_t plen = strlen(a->name_prefix);
	MDB_val k = { plen, a->name_prefix }, v;
	int rc = 0;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0 && !a->truncated;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, a->name_prefix, plen) != 0)
			break;
		const unsigned char *kb = k.mv_data;
		if (k.mv_size < ID_LEN + 1 || kb[k.mv_size - ID_LEN - 1] != '\0') {
			rc = pf_seterr(PF_ECORRUPT, "corrupt record in 'name': key of %zu bytes "
			               "does not end in '\\0' + id", k.mv_size);
			goto out;
		}
		add_id(a, kb + k.mv_size - ID_LEN);
	}
	if (mrc && mrc != MDB_NOTFOUND)
		rc = pf_lmdb_err(mrc, NULL);
out:
	mdb_cursor_close(cur);
	return rc;
}

static int find_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct find_args *a = arg;
	int rc = 0;
	/* Exact contact matches first, then names in key order. */
	if (a->email_key && (rc = find_contact(txn, db, a, a->email_key)))
		return rc;
	if (a->loyalty_key && (rc = find_contact(txn, db, a, a->loyalty_key)))
		return rc;
	if (a->phone_key && (rc = find_contact(txn, db, a, a->phone_key)))
		return rc;
	if (a->name_prefix && *a->name_prefix && !a->truncated &&
	    (rc = find_names(txn, db, a)))
		return rc;
	a->list->truncated = a->truncated;

	if (a->nids) {
		a->list->items = calloc(a->nids, sizeof *a->list->items);
		if (!a->list->items)
			return pf_seterr(PF_ENOMEM, FIND ": out of memory");
	}
	for (size_t i = 0; i < a->nids; i++) {
		pf_guest_rec *r = NULL;
		rc = pf_guest_load_packed(&r, txn, db, &a->ids[i]);
		if (rc == PF_ENOTFOUND) {
			char s[PF_ID_STRLEN + 1];
			pf_id_format(s, &a->ids[i]);
			return pf_seterr(PF_ECORRUPT, FIND ": an index points at guest %s, "
			                 "which does not exist", s);
		}
		if (rc)
			return rc;
		a->list->items[a->list->count++] = &r->g;
	}
	return 0;
}

static char *prefixed(const char *prefix, const char *text, int *rc)
{
	size_t p = strlen(prefix), n = strlen(text);
	char *s = malloc(p + n + 1);
	if (!s) {
		*rc = PF_ENOMEM;
		return NULL;
	}
	memcpy(s, prefix, p);
	memcpy(s + p, text, n + 1);
	return s;
}

/* A phone query: at least 5 digits and nothing but digits and the
 * punctuation people write phone numbers with. */
static bool phone_like(const char *q, char *digits, size_t cap)
{
	for (const char *p = q; *p; p++)
		if (!((*p >= '0' && *p <= '9') || strchr(" +-().", *p)))
			return false;
	return pf_phone_digits(q, digits, cap) >= 5;
}

int pf_guest_find(pf_guest_list **out, pf_db *db, const char *query)
{
	pf_api_enter("pf_guest_find");
	if (!out)
		return pf_seterr(PF_EINVAL, FIND ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, FIND ": db is NULL");
	int rc = pf_check_text("query", query, PF_NAME_MAX, true);
	if (rc)
		return rc;

	struct find_args *a = calloc(1, sizeof *a);
	char *q = NULL, *f = NULL;
	if (!a || !(a->list = calloc(1, sizeof *a->list)) || !(q = strdup(query))) {
		rc = pf_seterr(PF_ENOMEM, FIND ": out of memory");
		goto out;
	}
	if (trim(q) == 0) {
		rc = pf_seterr(PF_EINVAL, FIND ": query is blank");
		goto out;
	}

	rc = PF_ENOMEM;
	if (strchr(q, '@')) {
		if (!(f = fold_contact(q, &rc)) || !(a->email_key = prefixed("e:", f, &rc)))
			goto fold_fail;
	} else {
		char digits[PF_NAME_MAX + 1];
		if (!(f = fold_contact(q, &rc)) || !(a->loyalty_key = prefixed("l:", f, &rc)))
			goto fold_fail;
		if (phone_like(q, digits, sizeof digits) &&
		    !(a->phone_key = prefixed("p:", digits, &rc)))
			goto fold_fail;
		if (!(a->name_prefix = fold_name(q, &rc)))
			goto fold_fail;
	}

	rc = pf_store_read(db, find_txn, a);
	if (rc == 0) {
		*out = a->list;
		a->list = NULL;
	}
	goto out;
fold_fail:
	rc = pf_seterr(rc ? rc : PF_ENOMEM, FIND ": cannot normalise the query");
out:
	if (a) {
		pf_guest_list_free(a->list);
		free(a->email_key);
		free(a->loyalty_key);
		free(a->phone_key);
		free(a->name_prefix);
		free(a);
	}
	free(q);
	free(f);
	return rc;
}

/* ------------------------------------------------------- contact keys */

size_t pf_contact_key(unsigned char *out, char kind, const char *text, size_t len)
{
	out[0] = (unsigned char)kind;
	out[1] = ':';
	memcpy(out + 2, text, len);
	return len + 2;
}

int pf_guest_find_by_contact(MDB_txn *txn, pf_db *db, const unsigned char *key, size_t len,
                             pf_id *id, bool *found)
{
	MDB_val v;
	*found = false;
	int rc = pf_store_get(txn, db, PF_DBI_CONTACT, key, len, &v);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (v.mv_size != ID_LEN)
		return pf_seterr(PF_ECORRUPT, "corrupt record in 'contact': value is %zu bytes, "
		                 "expected a %zu-byte id", v.mv_size, ID_LEN);
	memcpy(id->b, v.mv_data, ID_LEN);
	*found = true;
	return 0;
}

int pf_guest_load_if(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id,
                     bool *found)
{
	MDB_val v;
	*out = NULL;
	*found = false;
	int rc = pf_store_get(txn, db, PF_DBI_GUEST, id->b, ID_LEN, &v);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if ((rc = pf_codec_guest_decode(out, v.mv_data, v.mv_size)))
		return rc;
	(*out)->g.id = *id;
	*found = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public free functions (moved from codec.c)                           */
/* ------------------------------------------------------------------ */

void pf_guest_free(pf_guest *g)
{
	/* Guests handed out by the library are always the head of a record. */
	pf_guest_rec_free((pf_guest_rec *)g);
}

void pf_guest_list_free(pf_guest_list *list)
{
	if (!list)
		return;
	if (list->items)
		for (size_t i = 0; i < list->count; i++)
			pf_guest_free(list->items[i]);
	free(list->items);
	free(list);
}

/* ---- end of public free functions ------------------------------- */

int pf_guest_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx)
{
	return pf_store_recode(txn, db, PF_DBI_GUEST, NULL, 0, ID_LEN, fn, ctx);
}
