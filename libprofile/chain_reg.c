/*
 * chain_reg.c — the registers a hotel chain replicates: stamps, a guest's
 * register record, a change, their msgpack codec, and the join that makes
 * the result of applying changes independent of their order (each
 * register keeps the value of the later stamp; a join is commutative,
 * associative and idempotent).
 * Owns the codec of the `chain` database's 'g' records and of changes,
 * and the record's load/store ('g', 'x', 'a', 'm' keys).
 * May call: store.c (get/put/del on the chain database), error.c, id.c,
 * vec.c (the sorted-array search), msgpack-c.
 */
#include "chain.h"
#include "error.h"
#include "id.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN ((int)sizeof(pf_id))
#define REC_V 1

static int cpack_write(void *data, const char *buf, size_t len)
{
	pf_cpack *p = data;
	int r = msgpack_sbuffer_write(p->sb, buf, len);
	if (r)
		p->err = r;
	return r;
}

void pf_cpack_init(pf_cpack *p, msgpack_sbuffer *sb)
{
	p->sb = sb;
	p->err = 0;
	msgpack_packer_init(&p->pk, p, cpack_write);
}

int pf_cpack_done(const pf_cpack *p)
{
	return p->err ? pf_fail(PF_ENOMEM, "out of memory") : 0;
}

int pf_stamp_cmp(const pf_stamp *a, const pf_stamp *b)
{
	if (a->hlc != b->hlc)
		return a->hlc < b->hlc ? -1 : 1;
	return strcmp(a->prop, b->prop);
}

void pf_creg_clear(pf_creg *r)
{
	free(r->val);
	memset(r, 0, sizeof *r);
}

int pf_creg_set(pf_creg *r, const pf_stamp *st, const void *val, size_t len)
{
	unsigned char *v = NULL;
	if (len) {
		if (!(v = malloc(len)))
			return pf_fail(PF_ENOMEM, "out of memory");
		memcpy(v, val, len);
	}
	free(r->val);
	r->val = v;
	r->len = len;
	r->st = *st;
	r->set = true;
	return 0;
}

bool pf_creg_is(const pf_creg *r, const void *val, size_t len)
{
	return r->set && r->len == len && (len == 0 || memcmp(r->val, val, len) == 0);
}

static void cpref_clear(pf_cpref *p)
{
	free(p->category);
	pf_creg_clear(&p->need);
	pf_creg_clear(&p->like);
	for (size_t i = 0; i < p->ncount; i++)
		free(p->counts[i].key);
	free(p->counts);
	memset(p, 0, sizeof *p);
}

void pf_cguest_clear(pf_cguest *g)
{
	pf_creg_clear(&g->alias);
	for (int i = 0; i < PF_CF_COUNT; i++)
		pf_creg_clear(&g->f[i]);
	for (size_t i = 0; i < g->npref; i++)
		cpref_clear(&g->prefs[i]);
	free(g->prefs);
	for (size_t i = 0; i < g->nstay; i++)
		pf_creg_clear(&g->stays[i].r);
	free(g->stays);
	free(g->marks);
	memset(g, 0, sizeof *g);
}

bool pf_cguest_empty(const pf_cguest *g)
{
	if (g->alias.set || g->npref || g->nstay || g->nmark)
		return false;
	for (int i = 0; i < PF_CF_COUNT; i++)
		if (g->f[i].set)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Lookup and insertion                                                 */
/* ------------------------------------------------------------------ */

/* Comparators for pf_sorted_find (vec.c): key, then the array's item. */
static int cmp_category(const void *key, const void *item)
{
	return strcmp(key, ((const pf_cpref *)item)->category);
}

static int cmp_arrival(const void *key, const void *item)
{
	pf_date a = *(const pf_date *)key, b = ((const pf_cstay *)item)->arrival;
	return a < b ? -1 : a > b;
}

static int cmp_id(const void *key, const void *item)
{
	return memcmp(key, item, ID_LEN);
}

pf_cpref *pf_cguest_pref(pf_cguest *g, const char *category, bool create, int *rc)
{
	bool found;
	size_t lo = pf_sorted_find(g->prefs, g->npref, sizeof *g->prefs, category, cmp_category,
	                           &found);
	if (found)
		return &g->prefs[lo];
	if (!create)
		return NULL;
	pf_cpref *np = realloc(g->prefs, (g->npref + 1) * sizeof *np);
	char *cat = strdup(category);
	if (!np || !cat) {
		if (np)
			g->prefs = np;
		free(cat);
		*rc = pf_fail(PF_ENOMEM, "out of memory");
		return NULL;
	}
	g->prefs = np;
	memmove(&np[lo + 1], &np[lo], (g->npref - lo) * sizeof *np);
	memset(&np[lo], 0, sizeof *np);
	np[lo].category = cat;
	g->npref++;
	return &np[lo];
}

pf_cstay *pf_cguest_stay(pf_cguest *g, pf_date arrival, bool create, int *rc)
{
	bool found;
	size_t lo = pf_sorted_find(g->stays, g->nstay, sizeof *g->stays, &arrival, cmp_arrival,
	                           &found);
	if (found)
		return &g->stays[lo];
	if (!create)
		return NULL;
	pf_cstay *ns = realloc(g->stays, (g->nstay + 1) * sizeof *ns);
	if (!ns) {
		*rc = pf_fail(PF_ENOMEM, "out of memory");
		return NULL;
	}
	g->stays = ns;
	memmove(&ns[lo + 1], &ns[lo], (g->nstay - lo) * sizeof *ns);
	memset(&ns[lo], 0, sizeof *ns);
	ns[lo].arrival = arrival;
	g->nstay++;
	return &ns[lo];
}

int pf_cguest_mark(pf_cguest *g, const pf_id *other, bool *added)
{
	bool found;
	size_t lo = pf_sorted_find(g->marks, g->nmark, sizeof *g->marks, other->b, cmp_id, &found);
	*added = false;
	if (found)
		return 0;
	pf_id *nm = realloc(g->marks, (g->nmark + 1) * sizeof *nm);
	if (!nm)
		return pf_fail(PF_ENOMEM, "out of memory");
	g->marks = nm;
	memmove(&nm[lo + 1], &nm[lo], (g->nmark - lo) * sizeof *nm);
	nm[lo] = *other;
	g->nmark++;
	*added = true;
	return 0;
}

int pf_ccount_set(pf_cpref *p, const pf_stamp *st, const void *key, size_t klen, int64_t n)
{
	pf_ccount *c = NULL;
	for (size_t i = 0; i < p->ncount; i++)
		if (strcmp(p->counts[i].st.prop, st->prop) == 0)
			c = &p->counts[i];
	if (!c) {
		pf_ccount *nc = realloc(p->counts, (p->ncount + 1) * sizeof *nc);
		if (!nc)
			return pf_fail(PF_ENOMEM, "out of memory");
		p->counts = nc;
		c = &nc[p->ncount++];
		memset(c, 0, sizeof *c);
	}
	unsigned char *k = malloc(klen ? klen : 1);
	if (!k)
		return pf_fail(PF_ENOMEM, "out of memory");
	memcpy(k, key, klen);
	free(c->key);
	c->key = k;
	c->klen = klen;
	c->n = n;
	c->st = *st;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Join                                                                 */
/* ------------------------------------------------------------------ */

static int join_reg(pf_creg *dst, const pf_creg *src, bool *took)
{
	if (took)
		*took = false;
	if (!src->set || (dst->set && pf_stamp_cmp(&dst->st, &src->st) >= 0))
		return 0;
	if (took)
		*took = true;
	return pf_creg_set(dst, &src->st, src->val, src->len);
}

int pf_cguest_join(pf_cguest *dst, const pf_cguest *src, bool *alias_changed)
{
	int rc = join_reg(&dst->alias, &src->alias, alias_changed);
	for (int i = 0; rc == 0 && i < PF_CF_COUNT; i++)
		rc = join_reg(&dst->f[i], &src->f[i], NULL);
	for (size_t i = 0; rc == 0 && i < src->npref; i++) {
		const pf_cpref *sp = &src->prefs[i];
		pf_cpref *dp = pf_cguest_pref(dst, sp->category, true, &rc);
		if (!dp)
			break;
		if ((rc = join_reg(&dp->need, &sp->need, NULL)) ||
		    (rc = join_reg(&dp->like, &sp->like, NULL)))
			break;
		for (size_t j = 0; rc == 0 && j < sp->ncount; j++) {
			const pf_ccount *sc = &sp->counts[j];
			const pf_ccount *dc = NULL;
			for (size_t k = 0; k < dp->ncount; k++)
				if (strcmp(dp->counts[k].st.prop, sc->st.prop) == 0)
					dc = &dp->counts[k];
			if (!dc || pf_stamp_cmp(&dc->st, &sc->st) < 0)
				rc = pf_ccount_set(dp, &sc->st, sc->key, sc->klen, sc->n);
		}
	}
	for (size_t i = 0; rc == 0 && i < src->nstay; i++) {
		pf_cstay *ds = pf_cguest_stay(dst, src->stays[i].arrival, true, &rc);
		if (ds)
			rc = join_reg(&ds->r, &src->stays[i].r, NULL);
	}
	for (size_t i = 0; rc == 0 && i < src->nmark; i++) {
		bool added;
		rc = pf_cguest_mark(dst, &src->marks[i], &added);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Codec                                                                */
/* ------------------------------------------------------------------ */

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void pack_stamp(msgpack_packer *pk, const pf_stamp *st)
{
	msgpack_pack_uint64(pk, st->hlc);
	pack_str(pk, st->prop);
}

static void pack_reg(msgpack_packer *pk, const pf_creg *r)
{
	if (!r->set) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_array(pk, 3);
	pack_stamp(pk, &r->st);
	msgpack_pack_bin_with_body(pk, r->val, r->len);
}

static void pack_cguest(msgpack_packer *pk, const pf_cguest *g)
{
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint8(pk, REC_V);
	pack_reg(pk, &g->alias);
	msgpack_pack_array(pk, PF_CF_COUNT);
	for (int i = 0; i < PF_CF_COUNT; i++)
		pack_reg(pk, &g->f[i]);
	msgpack_pack_array(pk, (uint32_t)g->npref);
	for (size_t i = 0; i < g->npref; i++) {
		const pf_cpref *p = &g->prefs[i];
		msgpack_pack_array(pk, 4);
		pack_str(pk, p->category);
		pack_reg(pk, &p->need);
		pack_reg(pk, &p->like);
		msgpack_pack_array(pk, (uint32_t)p->ncount);
		for (size_t j = 0; j < p->ncount; j++) {
			msgpack_pack_array(pk, 4);
			pack_stamp(pk, &p->counts[j].st);
			msgpack_pack_bin_with_body(pk, p->counts[j].key, p->counts[j].klen);
			msgpack_pack_int64(pk, p->counts[j].n);
		}
	}
	msgpack_pack_array(pk, (uint32_t)g->nstay);
	for (size_t i = 0; i < g->nstay; i++) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_int32(pk, g->stays[i].arrival);
		pack_reg(pk, &g->stays[i].r);
	}
	msgpack_pack_array(pk, (uint32_t)g->nmark);
	for (size_t i = 0; i < g->nmark; i++)
		msgpack_pack_bin_with_body(pk, g->marks[i].b, ID_LEN);
}

int pf_cguest_encode(msgpack_sbuffer *sb, const pf_cguest *g)
{
	pf_cpack cp;
	pf_cpack_init(&cp, sb);
	pack_cguest(&cp.pk, g);
	return pf_cpack_done(&cp);
}

/* Decoding trusts nothing: every shape and length is checked. */
#define BAD(what) do { rc = pf_fail(PF_ECORRUPT, "corrupt chain record: %s", what); \
	goto out; } while (0)

static bool is_arr(const msgpack_object *o, uint32_t n)
{
	return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == n;
}

static bool get_u64(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*v = o->via.u64;
	return true;
}

static bool get_i64(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return false;
		*v = (int64_t)o->via.u64;
		return true;
	}
	if (o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return false;
	*v = o->via.i64;
	return true;
}

static bool get_prop(const msgpack_object *o, char out[PF_PROPERTY_MAX + 1])
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
	    o->via.str.size > PF_PROPERTY_MAX)
		return false;
	memcpy(out, o->via.str.ptr, o->via.str.size);
	out[o->via.str.size] = '\0';
	return strlen(out) == o->via.str.size;
}

static int unpack_reg(pf_creg *r, const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_NIL)
		return 0;
	pf_stamp st;
	if (!is_arr(o, 3) || !get_u64(&o->via.array.ptr[0], &st.hlc) ||
	    !get_prop(&o->via.array.ptr[1], st.prop) ||
	    o->via.array.ptr[2].type != MSGPACK_OBJECT_BIN)
		return pf_fail(PF_ECORRUPT, "corrupt chain record: a register");
	const msgpack_object_bin *b = &o->via.array.ptr[2].via.bin;
	return pf_creg_set(r, &st, b->ptr, b->size);
}

static int unpack_cguest(pf_cguest *g, const msgpack_object *o)
{
	int rc = 0;
	memset(g, 0, sizeof *g);
	if (!is_arr(o, 6))
		BAD("not a guest's registers");
	const msgpack_object *a = o->via.array.ptr;
	uint64_t v;
	if (!get_u64(&a[0], &v) || v != REC_V)
		BAD("unknown version");
	if ((rc = unpack_reg(&g->alias, &a[1])))
		goto out;
	if (!is_arr(&a[2], PF_CF_COUNT))
		BAD("fields");
	for (int i = 0; i < PF_CF_COUNT; i++)
		if ((rc = unpack_reg(&g->f[i], &a[2].via.array.ptr[i])))
			goto out;
	if (a[3].type != MSGPACK_OBJECT_ARRAY || a[4].type != MSGPACK_OBJECT_ARRAY)
		BAD("preferences or stays");
	uint32_t np = a[3].via.array.size, ns = a[4].via.array.size;
	if (np && !(g->prefs = calloc(np, sizeof *g->prefs)))
		{ rc = pf_fail(PF_ENOMEM, "out of memory"); goto out; }
	for (uint32_t i = 0; i < np; i++) {
		const msgpack_object *p = &a[3].via.array.ptr[i];
		pf_cpref *cp = &g->prefs[i];
		if (!is_arr(p, 4) || p->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
		    p->via.array.ptr[0].via.str.size == 0 ||
		    p->via.array.ptr[0].via.str.size > PF_CATEGORY_MAX ||
		    p->via.array.ptr[3].type != MSGPACK_OBJECT_ARRAY)
			BAD("a preference");
		g->npref = i + 1;
		const msgpack_object_str *s = &p->via.array.ptr[0].via.str;
		if (!(cp->category = strndup(s->ptr, s->size)))
			{ rc = pf_fail(PF_ENOMEM, "out of memory"); goto out; }
		if (i && strcmp(g->prefs[i - 1].category, cp->category) >= 0)
			BAD("preferences out of order");
		if ((rc = unpack_reg(&cp->need, &p->via.array.ptr[1])) ||
		    (rc = unpack_reg(&cp->like, &p->via.array.ptr[2])))
			goto out;
		const msgpack_object_array *cs = &p->via.array.ptr[3].via.array;
		for (uint32_t j = 0; j < cs->size; j++) {
			const msgpack_object *c = &cs->ptr[j];
			pf_stamp st;
			int64_t n;
			if (!is_arr(c, 4) || !get_u64(&c->via.array.ptr[0], &st.hlc) ||
			    !get_prop(&c->via.array.ptr[1], st.prop) ||
			    c->via.array.ptr[2].type != MSGPACK_OBJECT_BIN ||
			    !get_i64(&c->via.array.ptr[3], &n))
				BAD("a preference's counter");
			const msgpack_object_bin *b = &c->via.array.ptr[2].via.bin;
			if ((rc = pf_ccount_set(cp, &st, b->ptr, b->size, n)))
				goto out;
		}
	}
	if (ns && !(g->stays = calloc(ns, sizeof *g->stays)))
		{ rc = pf_fail(PF_ENOMEM, "out of memory"); goto out; }
	for (uint32_t i = 0; i < ns; i++) {
		const msgpack_object *s = &a[4].via.array.ptr[i];
		int64_t arr;
		if (!is_arr(s, 2) || !get_i64(&s->via.array.ptr[0], &arr) || arr < INT32_MIN ||
		    arr > INT32_MAX)
			BAD("a stay");
		g->nstay = i + 1;
		g->stays[i].arrival = (pf_date)arr;
		if (i && g->stays[i - 1].arrival >= g->stays[i].arrival)
			BAD("stays out of order");
		if ((rc = unpack_reg(&g->stays[i].r, &s->via.array.ptr[1])))
			goto out;
	}
	if (a[5].type != MSGPACK_OBJECT_ARRAY)
		BAD("not-duplicate marks");
	for (uint32_t i = 0; i < a[5].via.array.size; i++) {
		const msgpack_object *m = &a[5].via.array.ptr[i];
		pf_id id;
		bool added;
		if (m->type != MSGPACK_OBJECT_BIN || m->via.bin.size != ID_LEN)
			BAD("a not-duplicate mark");
		memcpy(id.b, m->via.bin.ptr, ID_LEN);
		if ((rc = pf_cguest_mark(g, &id, &added)))
			goto out;
	}
out:
	if (rc)
		pf_cguest_clear(g);
	return rc;
}

int pf_cguest_decode(pf_cguest *g, const void *data, size_t len)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	int rc;
	memset(g, 0, sizeof *g);
	msgpack_unpack_return ur = msgpack_unpack_next(&u, data, len, &off);
	if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
		rc = pf_fail(PF_ENOMEM, "out of memory");
	else if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
		rc = pf_fail(PF_ECORRUPT, "corrupt chain record: not msgpack");
	else
		rc = unpack_cguest(g, &u.data);
	msgpack_unpacked_destroy(&u);
	return rc;
}

void pf_cchange_clear(pf_cchange *c)
{
	pf_cguest_clear(&c->g);
	pf_creg_clear(&c->fb);
	free(c->erased);
	c->erased = NULL;
	c->nerased = 0;
}

int pf_cchange_encode(msgpack_sbuffer *sb, const pf_cchange *c)
{
	pf_cpack cp;
	pf_cpack_init(&cp, sb);
	msgpack_packer *pk = &cp.pk;
	msgpack_pack_array(pk, 7);
	msgpack_pack_uint8(pk, REC_V);
	pack_str(pk, c->origin);
	msgpack_pack_uint64(pk, c->seq);
	msgpack_pack_uint64(pk, c->hlc);
	msgpack_pack_uint8(pk, (uint8_t)c->kind);
	msgpack_pack_bin_with_body(pk, c->id.b, ID_LEN);
	if (c->kind == PF_CHANGE_GUEST)
		pack_cguest(pk, &c->g);
	else if (c->kind == PF_CHANGE_FEEDBACK)
		pack_reg(pk, &c->fb);
	else {
		msgpack_pack_array(pk, (uint32_t)c->nerased);
		for (size_t i = 0; i < c->nerased; i++)
			msgpack_pack_bin_with_body(pk, c->erased[i].b, ID_LEN);
	}
	return pf_cpack_done(&cp);
}

int pf_cchange_decode(pf_cchange *c, const void *data, size_t len)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	int rc = 0;
	memset(c, 0, sizeof *c);
	msgpack_unpack_return ur = data ? msgpack_unpack_next(&u, data, len, &off)
	                                : MSGPACK_UNPACK_PARSE_ERROR;
	if (ur == MSGPACK_UNPACK_NOMEM_ERROR) {
		rc = pf_fail(PF_ENOMEM, "out of memory");
		goto out;
	}
	if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
		BAD("a change that is not msgpack");
	const msgpack_object *o = &u.data;
	if (!is_arr(o, 7))
		BAD("not a change");
	const msgpack_object *a = o->via.array.ptr;
	uint64_t v, kind;
	if (!get_u64(&a[0], &v) || v != REC_V)
		BAD("a change of an unknown version");
	if (!get_prop(&a[1], c->origin) || !get_u64(&a[2], &c->seq) || c->seq == 0 ||
	    !get_u64(&a[3], &c->hlc) || !get_u64(&a[4], &kind) ||
	    a[5].type != MSGPACK_OBJECT_BIN || a[5].via.bin.size != ID_LEN)
		BAD("a change's header");
	c->kind = (int)kind;
	memcpy(c->id.b, a[5].via.bin.ptr, ID_LEN);
	if (c->kind == PF_CHANGE_GUEST)
		rc = unpack_cguest(&c->g, &a[6]);
	else if (c->kind == PF_CHANGE_FEEDBACK) {
		rc = unpack_reg(&c->fb, &a[6]);
		if (rc == 0 && (!c->fb.set || c->fb.len <= (size_t)ID_LEN))
			BAD("a feedback change");
	} else if (c->kind == PF_CHANGE_ERASE && a[6].type == MSGPACK_OBJECT_ARRAY &&
	           a[6].via.array.size >= 1 && a[6].via.array.size <= 4096) {
		uint32_t n = a[6].via.array.size;
		if (!(c->erased = malloc(n * sizeof *c->erased)))
			{ rc = pf_fail(PF_ENOMEM, "out of memory"); goto out; }
		for (uint32_t i = 0; i < n; i++) {
			const msgpack_object *o = &a[6].via.array.ptr[i];
			if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != ID_LEN)
				BAD("an erasure's guests");
			memcpy(c->erased[i].b, o->via.bin.ptr, ID_LEN);
		}
		c->nerased = n;
		if (memcmp(c->erased[0].b, c->id.b, ID_LEN) != 0)
			BAD("an erasure's guests");
	} else
		BAD("a change of an unknown kind");
out:
	msgpack_unpacked_destroy(&u);
	if (rc)
		pf_cchange_clear(c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The chain database                                                   */
/* ------------------------------------------------------------------ */

size_t pf_chain_key(unsigned char *k, char tag, const pf_id *id)
{
	k[0] = (unsigned char)tag;
	memcpy(k + 1, id->b, ID_LEN);
	return 1 + ID_LEN;
}

static size_t name_key(unsigned char *k, const char *name)
{
	size_t n = strlen(name);
	k[0] = 'm';
	memcpy(k + 1, name, n);
	return n + 1;
}

int pf_chain_get_u64(MDB_txn *txn, pf_db *db, const char *name, uint64_t *v)
{
	unsigned char k[64];
	MDB_val val;
	*v = 0;
	int rc = pf_store_get(txn, db, PF_DBI_CHAIN, k, name_key(k, name), &val);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (val.mv_size != 8)
		return pf_fail(PF_ECORRUPT, "corrupt record in 'chain': counter %s", name);
	*v = pf_be64_get(val.mv_data);
	return 0;
}

int pf_chain_put_u64(MDB_txn *txn, pf_db *db, const char *name, uint64_t v)
{
	unsigned char k[64], b[8];
	pf_be64_put(b, v);
	return pf_store_put(txn, db, PF_DBI_CHAIN, k, name_key(k, name), b, 8, 0);
}

int pf_cguest_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_cguest *g)
{
	unsigned char k[1 + ID_LEN];
	MDB_val v;
	memset(g, 0, sizeof *g);
	int rc = pf_store_get(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'g', id), &v);
	if (rc == PF_ENOTFOUND)
		return 0;
	return rc ? rc : pf_cguest_decode(g, v.mv_data, v.mv_size);
}

int pf_cguest_store(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_cguest *g)
{
	unsigned char k[1 + ID_LEN];
	size_t kl = pf_chain_key(k, 'g', id);
	if (pf_cguest_empty(g))
		return pf_store_del(txn, db, PF_DBI_CHAIN, k, kl, NULL, 0);
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	int rc = pf_cguest_encode(&sb, g);
	if (rc == 0)
		rc = pf_store_put(txn, db, PF_DBI_CHAIN, k, kl, sb.data, sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int pf_chain_alias_index(MDB_txn *txn, pf_db *db, const pf_id *old_target,
                         const pf_id *new_target, const pf_id *member)
{
	unsigned char k[1 + 2 * ID_LEN];
	k[0] = 'a';
	memcpy(k + 1 + ID_LEN, member->b, ID_LEN);
	int rc = 0;
	if (old_target) {
		memcpy(k + 1, old_target->b, ID_LEN);
		rc = pf_store_del(txn, db, PF_DBI_CHAIN, k, sizeof k, NULL, 0);
	}
	if (rc == 0 && new_target) {
		memcpy(k + 1, new_target->b, ID_LEN);
		rc = pf_store_put(txn, db, PF_DBI_CHAIN, k, sizeof k, "", 0, 0);
	}
	return rc;
}

int pf_chain_erased(MDB_txn *txn, pf_db *db, const pf_id *id, bool *out)
{
	unsigned char k[1 + ID_LEN];
	MDB_val v;
	int rc = pf_store_get(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'x', id), &v);
	*out = rc == 0;
	return rc == PF_ENOTFOUND ? 0 : rc;
}

/* A feedback register as stored: be64 hlc, the property's length and
 * bytes, then the value. */
int pf_cfeedback_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_creg *r)
{
	unsigned char k[1 + ID_LEN];
	MDB_val v;
	memset(r, 0, sizeof *r);
	int rc = pf_store_get(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'f', id), &v);
	if (rc == PF_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	const unsigned char *p = v.mv_data;
	if (v.mv_size < 10 || p[8] == 0 || p[8] > PF_PROPERTY_MAX || (size_t)p[8] + 9 > v.mv_size)
		return pf_fail(PF_ECORRUPT, "corrupt record in 'chain': a feedback register");
	pf_stamp st;
	st.hlc = pf_be64_get(p);
	memcpy(st.prop, p + 9, p[8]);
	st.prop[p[8]] = '\0';
	return pf_creg_set(r, &st, p + 9 + p[8], v.mv_size - 9 - p[8]);
}

int pf_cfeedback_store(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_creg *r)
{
	unsigned char k[1 + ID_LEN];
	size_t pl = strlen(r->st.prop), n = 9 + pl + r->len;
	unsigned char *b = malloc(n);
	if (!b)
		return pf_fail(PF_ENOMEM, "out of memory");
	pf_be64_put(b, r->st.hlc);
	b[8] = (unsigned char)pl;
	memcpy(b + 9, r->st.prop, pl);
	memcpy(b + 9 + pl, r->val, r->len);
	int rc = pf_store_put(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'f', id), b, n, 0);
	free(b);
	return rc;
}

/* A tombstone: be64 stamp of the erasure, then the guest's alias
 * register when it had one: be64 hlc, property length, property, and
 * the 16-byte id (or nothing: no alias). */
int pf_chain_tombstone_put(MDB_txn *txn, pf_db *db, const pf_id *id, uint64_t hlc,
                           const pf_creg *alias)
{
	unsigned char k[1 + ID_LEN], b[8 + 9 + PF_PROPERTY_MAX + ID_LEN];
	size_t n = 8;
	pf_be64_put(b, hlc);
	if (alias && alias->set) {
		size_t pl = strlen(alias->st.prop);
		pf_be64_put(b + 8, alias->st.hlc);
		b[16] = (unsigned char)pl;
		memcpy(b + 17, alias->st.prop, pl);
		n = 17 + pl;
		if (alias->len == (size_t)ID_LEN) {
			memcpy(b + n, alias->val, ID_LEN);
			n += ID_LEN;
		}
	}
	return pf_store_put(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'x', id), b, n, 0);
}

int pf_chain_tombstone_get(MDB_txn *txn, pf_db *db, const pf_id *id, uint64_t *hlc,
                           pf_creg *alias)
{
	unsigned char k[1 + ID_LEN];
	MDB_val v;
	memset(alias, 0, sizeof *alias);
	*hlc = 0;
	int rc = pf_store_get(txn, db, PF_DBI_CHAIN, k, pf_chain_key(k, 'x', id), &v);
	if (rc)
		return rc;
	const unsigned char *p = v.mv_data;
	if (v.mv_size < 8)
		goto bad;
	*hlc = pf_be64_get(p);
	if (v.mv_size == 8)
		return 0;
	if (v.mv_size < 17 || p[16] == 0 || p[16] > PF_PROPERTY_MAX)
		goto bad;
	size_t pl = p[16], rest = v.mv_size - 17 - pl;
	if (v.mv_size < 17 + pl || (rest != 0 && rest != (size_t)ID_LEN))
		goto bad;
	pf_stamp st;
	st.hlc = pf_be64_get(p + 8);
	memcpy(st.prop, p + 17, pl);
	st.prop[pl] = '\0';
	return pf_creg_set(alias, &st, p + 17 + pl, rest);
bad:
	return pf_fail(PF_ECORRUPT, "corrupt record in 'chain': a tombstone");
}

/* The chain database for the other chain files, which own key ranges of
 * it (chain.h) but reach it only through these. */
int pf_chain_get(MDB_txn *txn, pf_db *db, const void *key, size_t klen, MDB_val *val)
{
	return pf_store_get(txn, db, PF_DBI_CHAIN, key, klen, val);
}

int pf_chain_put(MDB_txn *txn, pf_db *db, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
	return pf_store_put(txn, db, PF_DBI_CHAIN, key, klen, val, vlen, 0);
}

int pf_chain_del(MDB_txn *txn, pf_db *db, const void *key, size_t klen)
{
	return pf_store_del(txn, db, PF_DBI_CHAIN, key, klen, NULL, 0);
}

int pf_chain_del_prefix(MDB_txn *txn, pf_db *db, const void *prefix, size_t plen)
{
	return pf_store_del_prefix(txn, db, PF_DBI_CHAIN, prefix, plen);
}

int pf_chain_each_from(MDB_txn *txn, pf_db *db, const void *start, size_t slen, size_t plen,
                       pf_store_raw_fn fn, void *ctx)
{
	return pf_store_each_from(txn, db, PF_DBI_CHAIN, start, slen, plen, fn, ctx);
}
