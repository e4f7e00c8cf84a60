/*
 * dupes.c — duplicate suggestions: pf_guest_duplicates and
 * pf_duplicate_list_free.  Candidates come from the contact index (a
 * shared email, phone or loyalty number) and the name index (the same
 * folded name and birth date); a similar name (edit distance, word order,
 * initials) counts only beside a shared phone.  Each reason carries a
 * weight and the reasons combine into a score.
 *
 * Owns no database and writes nothing: one read transaction.  Calls
 * store.c (pf_store_read), guest.c (pf_guest_load, pf_guest_contact_keys,
 * pf_guest_fold_name, pf_contact_ids, pf_name_ids_exact), merge.c
 * (pf_merge_marked_not_dup: the "not a duplicate" marks are merge.c's),
 * vec.c, text.c and error.c.
 */
#include "dupes.h"
#include "merge.h"
#include "error.h"
#include "text.h"
#include "store.h"
#include "codec.h"
#include "guest.h"
#include "vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on the work one duplicate search does: index entries read per
 * key, and candidates ranked. */
#define DUP_SCAN_MAX 10000

static bool id_eq(const pf_id *a, const pf_id *b)
{
	return memcmp(a->b, b->b, sizeof a->b) == 0;
}

/* ------------------------------------------------------------------ */
/* Duplicate suggestions                                                */
/* ------------------------------------------------------------------ */

#define DUPS "pf_guest_duplicates"

/* How much each reason alone says, as the probability that the two
 * profiles are one guest; reasons combine as independent evidence:
 * score = 100 * (1 - product of (1 - p)). */
static double reason_weight(unsigned int bit)
{
	switch (bit) {
	case PF_DUP_EMAIL:        return 0.80;
	case PF_DUP_PHONE:        return 0.60;
	case PF_DUP_LOYALTY:      return 0.90;
	case PF_DUP_NAME_BIRTH:   return 0.70;
	case PF_DUP_SIMILAR_NAME: return 0.75;
	}
	return 0;
}

static int dup_score(unsigned int reasons)
{
	double miss = 1.0;
	for (unsigned int bit = 1; bit <= PF_DUP_SIMILAR_NAME; bit <<= 1)
		if (reasons & bit)
			miss *= 1.0 - reason_weight(bit);
	int s = (int)((1.0 - miss) * 100.0 + 0.5);
	return s > 100 ? 100 : s;
}

/* Code points of UTF-8 text (valid: it came from the folding). */
static size_t utf8_decode(const char *s, uint32_t *out, size_t cap)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && n < cap) {
		uint32_t c = *p;
		int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
		if (extra)
			c &= 0x3Fu >> extra;
		p++;
		for (int i = 0; i < extra && (*p & 0xC0) == 0x80; i++, p++)
			c = c << 6 | (*p & 0x3Fu);
		out[n++] = c;
	}
	return n;
}

/* Levenshtein distance, with an early exit past `limit`. */
static size_t edit_distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                            size_t limit)
{
	size_t row[PF_NAME_MAX + 1];
	if (na > nb + limit || nb > na + limit)
		return limit + 1;
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0], best = row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = diag + cost;
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > limit)
			return limit + 1;
	}
	return row[nb];
}

/* Split folded text into at most `max` words (pointers into buf). */
static size_t words(char *buf, char **w, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, " -", &save); t && n < max; t = strtok_r(NULL, " -", &save))
		w[n++] = t;
	return n;
}

/* The first character of a word (one code point), for initials. */
static uint32_t initial(const char *w)
{
	uint32_t c = 0;
	utf8_decode(w, &c, 1);
	return c;
}

static int word_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Two folded names are similar when they differ by a typing slip (edit
 * distance at most a fifth of the shorter name, at least 1), hold the
 * same words in another order ("Wei Zhuang" / "Zhuang Wei"), or share the
 * last word and the first initial ("J. Smith" / "John Smith").
 */
static bool names_similar(const char *fa, const char *fb)
{
	uint32_t ca[PF_NAME_MAX], cb[PF_NAME_MAX];
	size_t na = utf8_decode(fa, ca, PF_NAME_MAX), nb = utf8_decode(fb, cb, PF_NAME_MAX);
	size_t shorter = na < nb ? na : nb, limit = shorter / 5 ? shorter / 5 : 1;
	if (edit_distance(ca, na, cb, nb, limit) <= limit)
		return true;

	char ba[PF_NAME_MAX * 4 + 1], bb[PF_NAME_MAX * 4 + 1], *wa[16], *wb[16];
	snprintf(ba, sizeof ba, "%s", fa);
	snprintf(bb, sizeof bb, "%s", fb);
	size_t ka = words(ba, wa, 16), kb = words(bb, wb, 16);
	if (ka == 0 || kb == 0)
		return false;
	if (ka >= 2 && kb >= 2 && strcmp(wa[ka - 1], wb[kb - 1]) == 0 &&
	    initial(wa[0]) == initial(wb[0]))
		return true;
	if (ka != kb || ka < 2)
		return false;
	qsort(wa, ka, sizeof *wa, word_cmp);
	qsort(wb, kb, sizeof *wb, word_cmp);
	for (size_t i = 0; i < ka; i++)
		if (strcmp(wa[i], wb[i]) != 0)
			return false;
	return true;
}

struct cand {
	pf_id id;
	unsigned int reasons;
};

struct dup_args {
	const pf_id *guest;
	struct cand *c;
	size_t n, cap;
	pf_duplicate_list *list;
};

static struct cand *cand_get(struct dup_args *a, const pf_id *id)
{
	for (size_t i = 0; i < a->n; i++)
		if (id_eq(&a->c[i].id, id))
			return &a->c[i];
	if (a->n == DUP_SCAN_MAX)
		return NULL;           /* enough to rank; the rest is dropped */
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct cand *c = realloc(a->c, cap * sizeof *c);
		if (!c)
			return NULL;
		a->c = c;
		a->cap = cap;
	}
	a->c[a->n].id = *id;
	a->c[a->n].reasons = 0;
	return &a->c[a->n++];
}

static unsigned int contact_reason(unsigned char kind)
{
	switch (kind) {
	case 'e': return PF_DUP_EMAIL;
	case 'p': return PF_DUP_PHONE;
	case 'l': return PF_DUP_LOYALTY;
	}
	return 0;                  /* "x:" external ids are unique: never shared */
}

struct contact_ctx {
	struct dup_args *a;
	unsigned int reason;
};

static int contact_hit(void *ctx, const pf_id *id)
{
	struct contact_ctx *c = ctx;
	struct dup_args *a = c->a;
	if (id_eq(id, a->guest))
		return 0;
	struct cand *cd = cand_get(a, id);
	if (!cd && a->n < DUP_SCAN_MAX)
		return pf_seterr(PF_ENOMEM, DUPS ": out of memory");
	if (cd)
		cd->reasons |= c->reason;
	return 0;
}

static int dup_contacts(MDB_txn *txn, pf_db *db, struct dup_args *a, const pf_guest_rec *r)
{
	pf_contact_keys ks;
	int rc = pf_guest_contact_keys(r, &ks);
	for (size_t i = 0; i < ks.n && rc == 0; i++) {
		struct contact_ctx c = { a, contact_reason(ks.key[i][0]) };
		if (c.reason)
			rc = pf_contact_ids(txn, db, ks.key[i], ks.len[i], DUP_SCAN_MAX, contact_hit,
			                    &c);
	}
	return rc;
}

struct name_ctx {
	const pf_id *self;
	pf_idvec *out;
};

static int name_hit(void *ctx, const pf_id *id)
{
	struct name_ctx *c = ctx;
	return id_eq(id, c->self) ? 0 : pf_idvec_push(c->out, id);
}

/* Guests whose whole folded name equals `fname`: the name index holds a
 * key per word start, so the exact "fname\0" prefix finds them, plus
 * longer names ending in it, which the caller weeds out. */
static int dup_names(MDB_txn *txn, pf_db *db, struct dup_args *a, const char *fname,
                     pf_idvec *out)
{
	struct name_ctx c = { a->guest, out };
	return pf_name_ids_exact(txn, db, fname, DUP_SCAN_MAX, name_hit, &c);
}

/* A candidate the indexes named: it must exist. */
static int load_candidate(pf_guest_rec **o, MDB_txn *txn, pf_db *db, const pf_id *id)
{
	int rc = pf_guest_load(o, txn, db, id);
	if (rc == PF_ENOTFOUND)
		rc = pf_seterr(PF_ECORRUPT, DUPS ": an index names a guest that does not exist");
	return rc;
}

static int dup_cmp(const void *x, const void *y)
{
	const pf_duplicate *a = x, *b = y;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return memcmp(a->guest.b, b->guest.b, sizeof a->guest.b);
}

static int dup_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct dup_args *a = arg;
	pf_guest_rec *r = NULL, *o = NULL;
	pf_idvec same_name = { NULL, 0, 0 };
	char *fname = NULL, *oname = NULL;
	int rc;

	/* A retried read starts from scratch. */
	a->n = 0;
	if ((rc = pf_guest_load(&r, txn, db, a->guest)))
		goto out;
	if ((rc = dup_contacts(txn, db, a, r)))
		goto out;
	if (!(fname = pf_guest_fold_name(r->g.name, &rc))) {
		rc = pf_seterr(rc ? rc : PF_ENOMEM, DUPS ": cannot fold the guest's name");
		goto out;
	}
	if (r->g.birth_date && (rc = dup_names(txn, db, a, fname, &same_name)))
		goto out;

	/* Name and birth date: the candidate's whole name must fold the same. */
	for (size_t i = 0; i < same_name.n; i++) {
		if ((rc = load_candidate(&o, txn, db, &same_name.ids[i])))
			goto out;
		if (o->g.birth_date == r->g.birth_date) {
			if (!(oname = pf_guest_fold_name(o->g.name, &rc))) {
				rc = pf_seterr(rc ? rc : PF_ENOMEM, DUPS ": cannot fold a name");
				goto out;
			}
			struct cand *c = strcmp(oname, fname) == 0 ? cand_get(a, &o->g.id) : NULL;
			if (c)
				c->reasons |= PF_DUP_NAME_BIRTH;
			free(oname);
			oname = NULL;
		}
		pf_guest_rec_free(o);
		o = NULL;
	}

	/* A similar name counts only with the same phone (families share
	 * surnames; a shared number plus a near-identical name is one guest). */
	for (size_t i = 0; i < a->n; i++) {
		struct cand *c = &a->c[i];
		if ((rc = load_candidate(&o, txn, db, &c->id)))
			goto out;
		if (c->reasons & PF_DUP_PHONE) {
			if (!(oname = pf_guest_fold_name(o->g.name, &rc))) {
				rc = pf_seterr(rc ? rc : PF_ENOMEM, DUPS ": cannot fold a name");
				goto out;
			}
			if (names_similar(fname, oname))
				c->reasons |= PF_DUP_SIMILAR_NAME;
			free(oname);
			oname = NULL;
		}
		pf_guest_rec_free(o);
		o = NULL;
	}

	a->list = calloc(1, sizeof *a->list);
	if (!a->list || (a->n && !(a->list->items = calloc(a->n, sizeof *a->list->items)))) {
		rc = pf_seterr(PF_ENOMEM, DUPS ": out of memory");
		goto out;
	}
	for (size_t i = 0; i < a->n; i++) {
		bool marked = false;
		if ((rc = pf_merge_marked_not_dup(txn, db, a->guest, &a->c[i].id, &marked)))
			goto out;
		if (marked || !a->c[i].reasons)
			continue;
		pf_duplicate *d = &a->list->items[a->list->count++];
		d->guest = a->c[i].id;
		d->reasons = a->c[i].reasons;
		d->score = dup_score(d->reasons);
	}
	if (a->list->count > 1)
		qsort(a->list->items, a->list->count, sizeof *a->list->items, dup_cmp);
	if (a->list->count > PF_FIND_LIMIT)
		a->list->count = PF_FIND_LIMIT;
out:
	pf_guest_rec_free(r);
	pf_guest_rec_free(o);
	pf_idvec_free(&same_name);
	free(fname);
	free(oname);
	return rc;
}

int pf_guest_duplicates(pf_duplicate_list **out, pf_db *db, const pf_id *guest)
{
	pf_api_enter("pf_guest_duplicates");
	if (!out)
		return pf_seterr(PF_EINVAL, DUPS ": out is NULL");
	*out = NULL;
	if (!db)
		return pf_seterr(PF_EINVAL, DUPS ": db is NULL");
	int rc = pf_check_id("guest", guest, NULL);
	if (rc)
		return rc;
	struct dup_args a = { guest, NULL, 0, 0, NULL };
	rc = pf_store_read(db, dup_txn, &a);
	free(a.c);
	if (rc) {
		pf_duplicate_list_free(a.list);
		return rc;
	}
	*out = a.list;
	return 0;
}

void pf_duplicate_list_free(pf_duplicate_list *list)
{
	if (!list)
		return;
	free(list->items);
	free(list);
}
