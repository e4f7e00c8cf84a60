/*
 * chain_state.c — from a chain's registers to the stored profiles, and
 * from stored profiles to register values.  A profile is a function of
 * the registers of its group (the guest and every guest merged into it):
 * each field the later-stamped register, a preference the need when one
 * is alive (else the like or dislike), "times observed" the sum of every
 * property's counter, the stays those alive, the complaint counts what
 * its feedback records say.  Every property computes the same function,
 * so equal registers give equal profiles (pf_digest).
 * Owns no database of its own: it writes the guest, stay and feedback
 * records the registers describe, through their owners.
 * May call: chain_reg.c, store.c, codec.c, guest.c (load, save, reindex),
 * stay.c (walk, raw put/del), feedback.c (load, replace, walk of a
 * guest's ids), tz.c (a complaint's due time), error.c, id.c, vec.c.
 */
#include "chain.h"
#include "error.h"
#include "id.h"
#include "guest.h"
#include "stay.h"
#include "feedback.h"
#include "tz.h"
#include "vec.h"

#include <stdlib.h>
#include <string.h>

#define ID_LEN ((int)sizeof(pf_id))
#define GROUP_MAX 64       /* guests merged into one: deeper is damage */

/* ------------------------------------------------------------------ */
/* Value blobs                                                          */
/* ------------------------------------------------------------------ */

static void pack_opt_str(msgpack_packer *pk, const char *s)
{
	if (s)
		msgpack_pack_str_with_body(pk, s, strlen(s));
	else
		msgpack_pack_nil(pk);
}


int pf_chain_field_blob(msgpack_sbuffer *sb, const pf_guest_rec *r, int field)
{
	pf_cpack cp;
	pf_cpack_init(&cp, sb);
	msgpack_packer *pk = &cp.pk;
	const pf_guest *g = &r->g;
	switch (field) {
	case PF_CF_NAME: pack_opt_str(pk, g->name); break;
	case PF_CF_EMAIL: pack_opt_str(pk, g->email); break;
	case PF_CF_PHONE: pack_opt_str(pk, g->phone); break;
	case PF_CF_LANGUAGE: pack_opt_str(pk, g->language); break;
	case PF_CF_LOYALTY: pack_opt_str(pk, g->loyalty_no); break;
	case PF_CF_EXTERNAL: pack_opt_str(pk, g->external_id); break;
	case PF_CF_COUNTRY: pack_opt_str(pk, g->country); break;
	case PF_CF_BIRTH: msgpack_pack_int64(pk, g->birth_date); break;
	case PF_CF_TIER: msgpack_pack_int64(pk, g->tier); break;
	case PF_CF_CONSENT: msgpack_pack_uint64(pk, g->consent); break;
	case PF_CF_TAGS:
		msgpack_pack_array(pk, (uint32_t)g->tag_count);
		for (size_t i = 0; i < g->tag_count; i++)
			pack_opt_str(pk, g->tags[i]);
		break;
	case PF_CF_COMPLAINT_CATEGORY: pack_opt_str(pk, r->complaint_last_category); break;
	case PF_CF_COMPLAINT_LATEST: pack_opt_str(pk, r->complaint_latest); break;
	case PF_CF_NOT_SATISFIED: msgpack_pack_int64(pk, g->not_satisfied_at); break;
	}
	return pf_cpack_done(&cp);
}

static void pack_pref_body(msgpack_packer *pk, const pf_pref *p)
{
	pack_opt_str(pk, p->value);
	pack_opt_str(pk, p->department);
	pack_opt_str(pk, p->staff);
	pack_opt_str(pk, p->note);
	msgpack_pack_int64(pk, p->first_seen);
	msgpack_pack_int64(pk, p->last_seen);
}

int pf_chain_need_blob(msgpack_sbuffer *sb, const pf_pref *p)
{
	pf_cpack cp;
	pf_cpack_init(&cp, sb);
	msgpack_packer *pk = &cp.pk;
	msgpack_pack_array(pk, 6);
	pack_pref_body(pk, p);
	return pf_cpack_done(&cp);
}

int pf_chain_like_blob(msgpack_sbuffer *sb, const pf_pref *p)
{
	pf_cpack cp;
	pf_cpack_init(&cp, sb);
	msgpack_packer *pk = &cp.pk;
	msgpack_pack_array(pk, 7);
	msgpack_pack_uint8(pk, (uint8_t)p->kind);
	pack_pref_body(pk, p);
	return pf_cpack_done(&cp);
}

size_t pf_chain_count_key(unsigned char *k, size_t cap, const pf_pref *p)
{
	size_t n = p->value ? strlen(p->value) : 0;
	if (n + 1 > cap)
		n = cap - 1;
	k[0] = (unsigned char)p->kind;
	memcpy(k + 1, p->value, n);
	return n + 1;
}

int pf_chain_feedback_blob(msgpack_sbuffer *sb, const pf_feedback_rec *r)
{
	pf_feedback_rec s = *r;
	s.prompt_count = 0;
	memset(s.prompts, 0, sizeof s.prompts);
	memset(&s.f.followup_prompt, 0, sizeof s.f.followup_prompt);
	s.f.due = 0;
	int rc = pf_codec_feedback_encode(sb, &s);
	return rc ? pf_fail(rc, "feedback: cannot encode the record") : 0;
}

/* Decoding a blob written by the functions above (a register's value). */
static int bad_blob(const char *what)
{
	return pf_fail(PF_ECORRUPT, "corrupt chain record: the value of %s", what);
}

static int unpack_blob(msgpack_unpacked *u, const pf_creg *r)
{
	size_t off = 0;
	msgpack_unpacked_init(u);
	msgpack_unpack_return ur = msgpack_unpack_next(u, (const char *)r->val, r->len, &off);
	if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
		return pf_fail(PF_ENOMEM, "out of memory");
	if (ur != MSGPACK_UNPACK_SUCCESS || off != r->len)
		return PF_ECORRUPT;
	return 0;
}

static int obj_str(char **out, const msgpack_object *o)
{
	*out = NULL;
	if (o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type != MSGPACK_OBJECT_STR)
		return PF_ECORRUPT;
	if (!(*out = strndup(o->via.str.ptr, o->via.str.size)))
		return pf_fail(PF_ENOMEM, "out of memory");
	return 0;
}

static int obj_int(int64_t *v, const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else
		return PF_ECORRUPT;
	return 0;
}

/* Set field `field` of r from register reg's value. */
static int field_from(pf_guest_rec *r, int field, const pf_creg *reg)
{
	msgpack_unpacked u;
	int rc = unpack_blob(&u, reg);
	const msgpack_object *o = &u.data;
	char *s = NULL;
	int64_t v = 0;
	if (rc)
		goto out;
	if (field <= PF_CF_COUNTRY || field == PF_CF_COMPLAINT_CATEGORY ||
	    field == PF_CF_COMPLAINT_LATEST) {
		if ((rc = obj_str(&s, o)))
			goto out;
		const char **dst[] = {
			[PF_CF_NAME] = &r->g.name, [PF_CF_EMAIL] = &r->g.email,
			[PF_CF_PHONE] = &r->g.phone, [PF_CF_LANGUAGE] = &r->g.language,
			[PF_CF_LOYALTY] = &r->g.loyalty_no, [PF_CF_EXTERNAL] = &r->g.external_id,
			[PF_CF_COUNTRY] = &r->g.country,
			[PF_CF_COMPLAINT_CATEGORY] = (const char **)&r->complaint_last_category,
			[PF_CF_COMPLAINT_LATEST] = (const char **)&r->complaint_latest,
		};
		free((char *)*dst[field]);
		*dst[field] = s;
	} else if (field == PF_CF_TAGS) {
		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > PF_TAGS_MAX) {
			rc = PF_ECORRUPT;
			goto out;
		}
		size_t n = o->via.array.size;
		char **tags = n ? calloc(n, sizeof *tags) : NULL;
		if (n && !tags) {
			rc = pf_fail(PF_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n && rc == 0; i++)
			if ((rc = obj_str(&tags[i], &o->via.array.ptr[i])) == 0 && !tags[i])
				rc = PF_ECORRUPT;
		if (rc) {
			for (size_t i = 0; i < n; i++)
				free(tags[i]);
			free(tags);
			goto out;
		}
		for (size_t i = 0; i < r->g.tag_count; i++)
			free(r->tags[i]);
		free(r->tags);
		r->tags = tags;
		r->g.tags = (const char *const *)tags;
		r->g.tag_count = n;
	} else {
		if ((rc = obj_int(&v, o)))
			goto out;
		switch (field) {
		case PF_CF_BIRTH: r->g.birth_date = (pf_date)v; break;
		case PF_CF_TIER: r->g.tier = (pf_tier)v; break;
		case PF_CF_CONSENT: r->g.consent = (unsigned int)v; break;
		case PF_CF_NOT_SATISFIED: r->g.not_satisfied_at = v; break;
		}
	}
out:
	msgpack_unpacked_destroy(&u);
	return rc == PF_ECORRUPT ? bad_blob("a profile field") : rc;
}

/* A preference from its need or like register. */
static int pref_from(pf_pref *p, const char *category, const pf_creg *reg, bool need)
{
	msgpack_unpacked u;
	int rc = unpack_blob(&u, reg);
	const msgpack_object *o = &u.data;
	memset(p, 0, sizeof *p);
	if (rc)
		goto out;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != (need ? 6u : 7u)) {
		rc = PF_ECORRUPT;
		goto out;
	}
	const msgpack_object *a = o->via.array.ptr;
	int64_t kind = PF_NEED;
	if (!need && ((rc = obj_int(&kind, &a[0])) || (kind != PF_LIKE && kind != PF_DISLIKE))) {
		rc = PF_ECORRUPT;
		goto out;
	}
	if (!need)
		a++;
	char *value = NULL, *dept = NULL, *staff = NULL, *note = NULL;
	int64_t first = 0, last = 0;
	if ((rc = obj_str(&value, &a[0])) || (rc = obj_str(&dept, &a[1])) ||
	    (rc = obj_str(&staff, &a[2])) || (rc = obj_str(&note, &a[3])) ||
	    (rc = obj_int(&first, &a[4])) || (rc = obj_int(&last, &a[5])) ||
	    !(p->category = strdup(category))) {
		if (rc == 0)
			rc = pf_fail(PF_ENOMEM, "out of memory");
	}
	p->value = value;
	p->department = dept;
	p->staff = staff;
	p->note = note;
	p->kind = (pf_pref_kind)kind;
	p->first_seen = first;
	p->last_seen = last;
	if (rc == 0 && (!value || !dept))
		rc = PF_ECORRUPT;
	if (rc)
		pf_pref_clear(p);
out:
	msgpack_unpacked_destroy(&u);
	return rc == PF_ECORRUPT ? bad_blob("a preference") : rc;
}

/* ------------------------------------------------------------------ */
/* Groups: a root and the guests merged into it                         */
/* ------------------------------------------------------------------ */

static bool alias_of(const pf_cguest *g, pf_id *target)
{
	if (!g->alias.set || g->alias.len != (size_t)ID_LEN)
		return false;
	memcpy(target->b, g->alias.val, ID_LEN);
	return true;
}

static int root_of(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id *root, bool *erased);

/* An erased guest's tombstone: be64 stamp, then the id it had been merged
 * into, if it had. */
static int tombstone_alias(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id *target, bool *has,
                           bool *erased)
{
	pf_creg al;
	uint64_t when;
	*has = false;
	int rc = pf_chain_tombstone_get(txn, db, id, &when, &al);
	if (rc == PF_ENOTFOUND)
		return 0;
	*erased = rc == 0;
	if (rc == 0 && al.len == (size_t)ID_LEN) {
		memcpy(target->b, al.val, ID_LEN);
		*has = true;
	}
	pf_creg_clear(&al);
	return rc;
}

int pf_chain_root(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id *root)
{
	return root_of(txn, db, id, root, NULL);
}

int pf_chain_path_erased(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id *root, bool *erased)
{
	*erased = false;
	return root_of(txn, db, id, root, erased);
}

/* root of id; with `erased`, whether a guest on the way (id, the guests
 * it was merged into, the root) is erased. */
static int root_of(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id *root, bool *erased)
{
	pf_id path[GROUP_MAX];
	size_t n = 0;
	pf_id cur = *id;
	for (;;) {
		for (size_t i = 0; i < n; i++) {
			if (memcmp(path[i].b, cur.b, ID_LEN) != 0)
				continue;
			/* A cycle (two properties merged each into the other while
			 * apart): its smallest id is the root, everywhere. */
			pf_id min = path[i];
			for (size_t j = i; j < n; j++)
				if (memcmp(path[j].b, min.b, ID_LEN) < 0)
					min = path[j];
			*root = min;
			return 0;
		}
		if (n == GROUP_MAX)
			return pf_fail(PF_ECORRUPT, "corrupt chain record: aliases deeper than %d",
			               GROUP_MAX);
		path[n++] = cur;
		pf_cguest g;
		int rc = pf_cguest_load(txn, db, &cur, &g);
		if (rc)
			return rc;
		pf_id next;
		bool has = alias_of(&g, &next);
		pf_cguest_clear(&g);
		if (!has) {
			bool er = false;
			if ((rc = tombstone_alias(txn, db, &cur, &next, &has, &er)))
				return rc;
			if (erased && er)
				*erased = true;
		}
		if (!has) {
			*root = cur;
			return 0;
		}
		cur = next;
	}
}

void pf_chain_group_clear(pf_chain_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		pf_cguest_clear(&g->members[i]);
	free(g->members);
	free(g->ids);
	pf_cguest_clear(&g->joined);
	memset(g, 0, sizeof *g);
}

struct collect {
	pf_id found[GROUP_MAX];
	size_t n;
	bool over;
};

static int collect_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	struct collect *c = ctx;
	if (k->mv_size != 1 + 2 * (size_t)ID_LEN)
		return pf_fail(PF_ECORRUPT, "corrupt key in 'chain': an alias index key");
	if (c->n == GROUP_MAX) {
		c->over = true;
		return 1;
	}
	memcpy(c->found[c->n++].b, (const unsigned char *)k->mv_data + 1 + ID_LEN, ID_LEN);
	return 0;
}

static bool has_id(const pf_id *ids, size_t n, const pf_id *id)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(ids[i].b, id->b, ID_LEN) == 0)
			return true;
	return false;
}

int pf_chain_group_load(MDB_txn *txn, pf_db *db, const pf_id *root, pf_chain_group *g,
                        bool descendants)
{
	memset(g, 0, sizeof *g);
	int rc = pf_chain_erased(txn, db, root, &g->erased);
	if (rc)
		return rc;
	if (!(g->ids = malloc(GROUP_MAX * sizeof *g->ids)) ||
	    !(g->members = calloc(GROUP_MAX, sizeof *g->members))) {
		pf_chain_group_clear(g);
		return pf_fail(PF_ENOMEM, "out of memory");
	}
	g->ids[0] = *root;
	g->n = 1;
	bool dead[GROUP_MAX];
	dead[0] = g->erased;
	/* Breadth first over the alias index; a member counts only when its
	 * own root is `root` (a cycle's other members point elsewhere).  A
	 * guest merged into an erased one is dead: it has no profile and its
	 * registers count for nothing (the erasure took what was merged). */
	for (size_t i = 0; rc == 0 && i < g->n; i++) {
		unsigned char pre[1 + ID_LEN];
		pf_chain_key(pre, 'a', &g->ids[i]);
		struct collect c = { .n = 0 };
		rc = pf_chain_each_from(txn, db, pre, sizeof pre, sizeof pre, collect_one, &c);
		if (rc == 1)
			rc = 0;
		for (size_t j = 0; rc == 0 && j < c.n; j++) {
			pf_id r;
			if (has_id(g->ids, g->n, &c.found[j]))
				continue;
			bool er;
			if ((rc = pf_chain_erased(txn, db, &c.found[j], &er)))
				break;
			if (!descendants && (rc = pf_chain_root(txn, db, &c.found[j], &r)))
				break;
			if (!descendants && memcmp(r.b, root->b, ID_LEN) != 0)
				continue;
			if (g->n == GROUP_MAX) {
				rc = pf_fail(PF_ECORRUPT, "corrupt chain record: more than %d guests "
				             "merged into one", GROUP_MAX);
				break;
			}
			dead[g->n] = er || dead[i];
			g->ids[g->n++] = c.found[j];
		}
	}
	for (size_t i = 0; rc == 0 && i < g->n; i++)
		if (!dead[i])
			rc = pf_cguest_load(txn, db, &g->ids[i], &g->members[i]);
	for (size_t i = 0; rc == 0 && i < g->n; i++)
		rc = pf_cguest_join(&g->joined, &g->members[i], NULL);
	pf_creg_clear(&g->joined.alias);
	if (rc)
		pf_chain_group_clear(g);
	return rc;
}

int64_t pf_chain_group_count(const pf_chain_group *g, const char *category, const void *key,
                             size_t klen)
{
	int64_t sum = 0;
	for (size_t i = 0; i < g->n; i++) {
		pf_cguest *m = &g->members[i];
		int rc = 0;
		const pf_cpref *p = pf_cguest_pref(m, category, false, &rc);
		for (size_t j = 0; p && j < p->ncount; j++)
			if (p->counts[j].klen == klen && memcmp(p->counts[j].key, key, klen) == 0)
				sum += p->counts[j].n;
	}
	return sum;
}

/* ------------------------------------------------------------------ */
/* The profile the registers make                                       */
/* ------------------------------------------------------------------ */

static bool alive(const pf_creg *r)
{
	return r->set && r->len > 0;
}

/* The profile of group g (NULL when it has none), created/updated taken
 * from `old` (the stored one) or now. */
static int expect(pf_db *db, const pf_chain_group *g, const pf_id *root,
                  const pf_guest_rec *old, pf_guest_rec **out)
{
	*out = NULL;
	const pf_cguest *j = &g->joined;
	if (g->erased || !alive(&j->f[PF_CF_NAME]))
		return 0;
	pf_guest_rec *r = calloc(1, sizeof *r);
	if (!r)
		return pf_fail(PF_ENOMEM, "out of memory");
	r->g.version = PF_GUEST_VERSION;
	r->g.id = *root;
	r->g.consent = 0;
	int rc = 0;
	for (int i = 0; rc == 0 && i < PF_CF_COUNT; i++)
		if (j->f[i].set && j->f[i].len)
			rc = field_from(r, i, &j->f[i]);
	size_t np = 0;
	if (rc == 0 && j->npref && !(r->prefs = calloc(j->npref, sizeof *r->prefs)))
		rc = pf_fail(PF_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < j->npref; i++) {
		const pf_cpref *cp = &j->prefs[i];
		bool need = alive(&cp->need);
		if (!need && !alive(&cp->like))
			continue;
		pf_pref *p = &r->prefs[np];
		if ((rc = pref_from(p, cp->category, need ? &cp->need : &cp->like, need)))
			break;
		np++;
		unsigned char key[1 + PF_VALUE_MAX];
		size_t kl = pf_chain_count_key(key, sizeof key, p);
		int64_t n = pf_chain_group_count(g, cp->category, key, kl);
		p->count = n < 1 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	}
	r->g.prefs = r->prefs;
	r->g.pref_count = np;
	r->pref_cap = j->npref;
	uint32_t stays = 0;
	for (size_t i = 0; i < j->nstay; i++)
		stays += alive(&j->stays[i].r);
	r->g.stays = stays;
	r->g.created = old ? old->g.created : pf_now(db);
	r->g.updated = old ? old->g.updated : r->g.created;
	if (rc) {
		pf_guest_rec_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Writing what the registers say                                       */
/* ------------------------------------------------------------------ */

int pf_chain_drop_profile(MDB_txn *txn, pf_db *db, const pf_id *id)
{
	pf_guest_rec *r = NULL;
	bool found;
	int rc = pf_guest_load_if(&r, txn, db, id, &found);
	if (rc == 0 && found) {
		size_t n;
		if ((rc = pf_guest_reindex(txn, db, r, NULL)) == 0 &&
		    (rc = pf_guest_del_record(txn, db, id)) == 0)
			rc = pf_stays_delete(txn, db, id, &n);
	}
	pf_guest_rec_free(r);
	return rc;
}

static int stay_stored(void *ctx, pf_date arrival, const MDB_val *v)
{
	pf_vec *w = ctx;
	pf_chain_stay *st;
	if (pf_vec_push_zero(w, (void **)&st))
		return pf_fail(PF_ENOMEM, "out of memory");
	st->arrival = arrival;
	if (!(st->val = malloc(v->mv_size ? v->mv_size : 1)))
		return pf_fail(PF_ENOMEM, "out of memory");
	memcpy(st->val, v->mv_data, v->mv_size);
	st->len = v->mv_size;
	return 0;
}

int pf_chain_stays_stored(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_vec *out)
{
	*out = (pf_vec)PF_VEC_INIT(sizeof(pf_chain_stay));
	return pf_stays_each(txn, db, guest, 0, stay_stored, out);
}

void pf_chain_stays_free(pf_vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(((pf_chain_stay *)pf_vec_at(v, i))->val);
	pf_vec_free(v);
}

static int write_stays(MDB_txn *txn, pf_db *db, const pf_id *root, const pf_cguest *j)
{
	pf_vec w;
	int rc = pf_chain_stays_stored(txn, db, root, &w);
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		int r0 = 0;
		pf_date arrival = ((pf_chain_stay *)pf_vec_at(&w, i))->arrival;
		pf_cstay *s = pf_cguest_stay((pf_cguest *)j, arrival, false, &r0);
		if (!s || !alive(&s->r))
			rc = pf_stay_del(txn, db, root, arrival);
	}
	for (size_t i = 0; rc == 0 && i < j->nstay; i++) {
		const pf_cstay *s = &j->stays[i];
		if (!alive(&s->r))
			continue;
		MDB_val v;
		int g = pf_stay_get(txn, db, root, s->arrival, &v);
		if (g == 0 && v.mv_size == s->r.len && memcmp(v.mv_data, s->r.val, s->r.len) == 0)
			continue;
		if (g && g != PF_ENOTFOUND) {
			rc = g;
			break;
		}
		rc = pf_stay_put_raw(txn, db, root, s->arrival, s->r.val, s->r.len);
	}
	pf_chain_stays_free(&w);
	return rc;
}

/* complaints_open / complaints_total from the feedback stored under root. */
static int complaint_counts(MDB_txn *txn, pf_db *db, const pf_id *root, pf_guest_rec *r)
{
	pf_id *ids = NULL;
	size_t n = 0;
	uint32_t open = 0, total = 0;
	int rc = pf_feedback_ids_of_guest(txn, db, root, &ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		pf_feedback_rec f;
		if ((rc = pf_feedback_load(txn, db, &ids[i], &f)))
			break;
		if (f.f.kind == PF_FEEDBACK_COMPLAINT) {
			total++;
			open += f.f.status == PF_FEEDBACK_OPEN || f.f.status == PF_FEEDBACK_IN_PROGRESS;
		}
		pf_feedback_rec_clear(&f);
	}
	free(ids);
	r->complaints_open = r->g.complaints_open = open;
	r->complaints_total = r->g.complaints_total = total;
	return rc;
}

/* The complaint counts of a stored profile brought up to date with the
 * feedback stored under it (after feedback moved to or from it). */
static int recount(MDB_txn *txn, pf_db *db, const pf_id *guest)
{
	pf_guest_rec *r = NULL;
	bool found;
	int rc = pf_guest_load_if(&r, txn, db, guest, &found);
	if (rc || !found)
		return rc;
	uint32_t open = r->complaints_open, total = r->complaints_total;
	if ((rc = complaint_counts(txn, db, guest, r)) == 0 &&
	    (open != r->complaints_open || total != r->complaints_total))
		rc = pf_guest_save(txn, db, r);
	pf_guest_rec_free(r);
	return rc;
}

/* Feedback stored under `from` whose register says it belongs elsewhere
 * (an alias came or went) is moved to where it belongs. */
static int repoint_feedback(MDB_txn *txn, pf_db *db, const pf_id *from)
{
	pf_id *ids = NULL;
	size_t n = 0;
	int rc = pf_feedback_ids_of_guest(txn, db, from, &ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = pf_chain_materialize_feedback(txn, db, &ids[i]);
	free(ids);
	return rc;
}

static bool same_bytes(MDB_txn *txn, pf_db *db, const pf_guest_rec *r)
{
	MDB_val v;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	bool same = pf_guest_get_raw(txn, db, &r->g.id, &v, NULL) == 0 &&
	            pf_codec_guest_encode(&sb, r) == 0 && sb.size == v.mv_size &&
	            memcmp(sb.data, v.mv_data, sb.size) == 0;
	msgpack_sbuffer_destroy(&sb);
	return same;
}

int pf_chain_materialize(MDB_txn *txn, pf_db *db, const pf_id *root)
{
	pf_chain_group g;
	pf_guest_rec *old = NULL, *nr = NULL;
	bool found = false;
	int rc = pf_chain_group_load(txn, db, root, &g, false);
	if (rc)
		return rc;
	for (size_t i = 1; rc == 0 && i < g.n; i++)
		if ((rc = pf_chain_drop_profile(txn, db, &g.ids[i])) == 0)
			rc = repoint_feedback(txn, db, &g.ids[i]);
	if (rc == 0)
		rc = repoint_feedback(txn, db, root);
	if (rc == 0)
		rc = pf_guest_load_if(&old, txn, db, root, &found);
	if (rc == 0)
		rc = expect(db, &g, root, old, &nr);
	if (rc)
		goto out;
	if (!nr) {
		rc = pf_chain_drop_profile(txn, db, root);
		goto out;
	}
	if ((rc = complaint_counts(txn, db, root, nr)))
		goto out;
	if (!found || !same_bytes(txn, db, nr)) {
		rc = pf_guest_reindex(txn, db, old, nr);
		if (rc == PF_EEXIST) {
			/* Two properties gave one external id to two guests while
			 * apart: the later-materialised one goes without it. */
			free((char *)nr->g.external_id);
			nr->g.external_id = NULL;
			rc = pf_guest_reindex(txn, db, old, nr);
		}
		if (rc == 0)
			rc = pf_guest_save(txn, db, nr);
	}
	if (rc == 0)
		rc = write_stays(txn, db, root, &g.joined);
out:
	pf_guest_rec_free(old);
	pf_guest_rec_free(nr);
	pf_chain_group_clear(&g);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Feedback                                                             */
/* ------------------------------------------------------------------ */

int pf_chain_materialize_feedback(MDB_txn *txn, pf_db *db, const pf_id *id)
{
	pf_creg reg;
	int rc = pf_cfeedback_load(txn, db, id, &reg);
	if (rc)
		return rc;
	if (!reg.set)
		return 0;             /* never replicated: the record stays as it is */
	pf_feedback_rec s, old;
	memset(&s, 0, sizeof s);
	memset(&old, 0, sizeof old);
	bool have_old = false;
	rc = pf_codec_feedback_decode(&s, reg.val, reg.len);
	pf_creg_clear(&reg);
	if (rc)
		goto out;
	pf_id root;
	bool erased = false;
	if ((rc = pf_chain_path_erased(txn, db, &s.f.guest, &root, &erased)))
		goto out;
	if (erased && (rc = pf_feedback_rec_anonymise(&s)))
		goto out;
	s.f.guest = root;
	rc = pf_feedback_load(txn, db, id, &old);
	if (rc == 0) {
		have_old = true;
		s.prompt_count = old.prompt_count;
		memcpy(s.prompts, old.prompts, sizeof s.prompts);
		s.f.followup_prompt = old.f.followup_prompt;
		s.f.due = old.f.due;
	} else if (rc == PF_ENOTFOUND) {
		s.f.due = s.f.kind == PF_FEEDBACK_COMPLAINT ? pf_sunset_due(db->tz, s.f.recorded_at)
		                                            : 0;
	} else
		goto out;
	rc = pf_feedback_replace(txn, db, id, &s, have_old ? &old : NULL);
	if (rc == 0)
		rc = recount(txn, db, &s.f.guest);
	if (rc == 0 && have_old && memcmp(old.f.guest.b, s.f.guest.b, ID_LEN) != 0)
		rc = recount(txn, db, &old.f.guest);
out:
	pf_feedback_rec_clear(&s);
	pf_feedback_rec_clear(&old);
	return rc;
}
