/*
 * chain.h — what the chain files (chain_reg.c, chain_state.c, change.c,
 * apply.c) offer one another and the rest of the library.
 * Owner of the `chain` database: these four files, each for its key range:
 *
 *   'g' guest(16)              -> the guest's registers (chain_reg.c codec)
 *   'x' guest(16)              -> erased: be64 stamp of the erasure [+ its
 *                                 alias register: where it had been merged]
 *   'f' feedback(16)           -> the feedback record's register
 *   'a' target(16) member(16)  -> empty: member's alias points at target
 *   'c' be64(seq)              -> this property's change number seq
 *   'w' origin                 -> be64: origin's high-water mark here
 *   'p' origin '\0' be64(seq)  -> a change waiting for its predecessors
 *   'm' name                   -> this property's counters ("seq", "hlc",
 *                                 "published", "epoch")
 *
 * A register is a value (an opaque msgpack blob; empty = none) with the
 * stamp of the write that set it: (hybrid logical clock, property).  The
 * later stamp wins; equal clocks go to the greater property name.
 * Never installed; nothing here is API.
 */
#ifndef PF_CHAIN_H
#define PF_CHAIN_H

#include "store.h"
#include "codec.h"
#include <stdbool.h>

#define PF_CHAIN_HLC_SHIFT 20
/* Profile fields with a register each, in this order. */
enum {
	PF_CF_NAME, PF_CF_EMAIL, PF_CF_PHONE, PF_CF_LANGUAGE, PF_CF_LOYALTY, PF_CF_EXTERNAL,
	PF_CF_COUNTRY, PF_CF_BIRTH, PF_CF_TIER, PF_CF_CONSENT, PF_CF_TAGS,
	/* what rules test of the guest's complaints, besides the counts
	 * (which follow from the feedback records) */
	PF_CF_COMPLAINT_CATEGORY, PF_CF_COMPLAINT_LATEST, PF_CF_NOT_SATISFIED,
	PF_CF_COUNT
};

typedef struct pf_stamp {
	uint64_t hlc;
	char prop[PF_PROPERTY_MAX + 1];
} pf_stamp;

typedef struct pf_creg {
	bool set;                 /* never written when false */
	pf_stamp st;
	unsigned char *val;       /* malloc'd; NULL with len 0 = none */
	size_t len;
} pf_creg;

/* One property's contribution to a preference's "times observed":
 * `n` observations of the value `key` (kind byte + value). */
typedef struct pf_ccount {
	pf_stamp st;              /* st.prop is the property counted */
	unsigned char *key;
	size_t klen;
	int64_t n;
} pf_ccount;

typedef struct pf_cpref {
	char *category;
	pf_creg need;             /* [value, dept, staff, note, first, last] */
	pf_creg like;             /* [kind, value, dept, staff, note, first, last] */
	pf_ccount *counts;
	size_t ncount;
} pf_cpref;

typedef struct pf_cstay {
	pf_date arrival;
	pf_creg r;                /* the stay record as codec.c encodes it */
} pf_cstay;

/* A guest's registers, or (in a change) the ones a write changed. */
typedef struct pf_cguest {
	pf_creg alias;            /* 16-byte id of the profile it was merged into */
	pf_creg f[PF_CF_COUNT];
	pf_cpref *prefs;          /* sorted by category */
	size_t npref;
	pf_cstay *stays;          /* sorted by arrival */
	size_t nstay;
	pf_id *marks;             /* "not a duplicate of": a set that only grows
	                             (an erasure takes it whole), sorted */
	size_t nmark;
} pf_cguest;

/* ---- chain_reg.c: stamps, registers, their codec and join ---- */
/* A msgpack packer into an sbuffer that remembers a failed write (out of
 * memory), which msgpack-c's own sbuffer writer leaves unseen. */
typedef struct pf_cpack {
	msgpack_packer pk;
	msgpack_sbuffer *sb;
	int err;
} pf_cpack;
void pf_cpack_init(pf_cpack *p, msgpack_sbuffer *sb);
/* 0, or PF_ENOMEM (message set) when a write failed. */
int pf_cpack_done(const pf_cpack *p);

int pf_stamp_cmp(const pf_stamp *a, const pf_stamp *b);
void pf_creg_clear(pf_creg *r);
int pf_creg_set(pf_creg *r, const pf_stamp *st, const void *val, size_t len);
/* true when r holds exactly val[0..len) (set, same bytes) */
bool pf_creg_is(const pf_creg *r, const void *val, size_t len);
void pf_cguest_clear(pf_cguest *g);
bool pf_cguest_empty(const pf_cguest *g);
int pf_cguest_encode(msgpack_sbuffer *sb, const pf_cguest *g);
int pf_cguest_decode(pf_cguest *g, const void *data, size_t len);
/* Join src into dst (the later stamp of each register wins).  *alias_changed
 * is set when dst's alias register took src's. */
int pf_cguest_join(pf_cguest *dst, const pf_cguest *src, bool *alias_changed);
pf_cpref *pf_cguest_pref(pf_cguest *g, const char *category, bool create, int *rc);
pf_cstay *pf_cguest_stay(pf_cguest *g, pf_date arrival, bool create, int *rc);
int pf_ccount_set(pf_cpref *p, const pf_stamp *st, const void *key, size_t klen, int64_t n);
/* Add `other` to g's not-duplicate marks (no effect when there); *added. */
int pf_cguest_mark(pf_cguest *g, const pf_id *other, bool *added);

/* A change: [1, origin, seq, hlc, kind, id, body]. */
#define PF_CHANGE_GUEST 'g'
#define PF_CHANGE_ERASE 'x'
#define PF_CHANGE_FEEDBACK 'f'
typedef struct pf_cchange {
	char origin[PF_PROPERTY_MAX + 1];
	uint64_t seq, hlc;
	int kind;
	pf_id id;
	pf_cguest g;              /* kind 'g' */
	pf_creg fb;               /* kind 'f': the feedback blob */
	pf_id *erased;            /* kind 'x': every guest it erases (id first) */
	size_t nerased;
} pf_cchange;
int pf_cchange_encode(msgpack_sbuffer *sb, const pf_cchange *c);
int pf_cchange_decode(pf_cchange *c, const void *data, size_t len);
void pf_cchange_clear(pf_cchange *c);

/* The chain database (chain_reg.c owns the handle; the others their key
 * ranges): get, put, delete, delete a prefix, walk from `start` while
 * keys begin with its first plen bytes. */
int pf_chain_get(MDB_txn *txn, pf_db *db, const void *key, size_t klen, MDB_val *val);
int pf_chain_put(MDB_txn *txn, pf_db *db, const void *key, size_t klen, const void *val,
                 size_t vlen);
int pf_chain_del(MDB_txn *txn, pf_db *db, const void *key, size_t klen);
int pf_chain_del_prefix(MDB_txn *txn, pf_db *db, const void *prefix, size_t plen);
int pf_chain_each_from(MDB_txn *txn, pf_db *db, const void *start, size_t slen, size_t plen,
                       pf_store_raw_fn fn, void *ctx);

/* Keys of the chain database. */
size_t pf_chain_key(unsigned char *k, char tag, const pf_id *id);
int pf_chain_get_u64(MDB_txn *txn, pf_db *db, const char *name, uint64_t *v);
int pf_chain_put_u64(MDB_txn *txn, pf_db *db, const char *name, uint64_t v);

/* Load / store a guest's registers (an absent record loads empty). */
int pf_cguest_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_cguest *g);
int pf_cguest_store(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_cguest *g);
/* Record (or drop, target NULL) the reverse alias key target->member. */
int pf_chain_alias_index(MDB_txn *txn, pf_db *db, const pf_id *old_target,
                         const pf_id *new_target, const pf_id *member);
int pf_chain_erased(MDB_txn *txn, pf_db *db, const pf_id *id, bool *out);
/* A tombstone ('x'): the erasure's clock and the guest's alias register
 * (unset: none).  _get gives PF_ENOTFOUND (no message) for a guest not
 * erased. */
int pf_chain_tombstone_put(MDB_txn *txn, pf_db *db, const pf_id *id, uint64_t hlc,
                           const pf_creg *alias);
int pf_chain_tombstone_get(MDB_txn *txn, pf_db *db, const pf_id *id, uint64_t *hlc,
                           pf_creg *alias);
/* A feedback record's register ('f'; unset when there is none). */
int pf_cfeedback_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_creg *r);
int pf_cfeedback_store(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_creg *r);

/* ---- chain_state.c: registers -> profiles, and profiles -> blobs ---- */
/* The profile the registers make for id: its root (after aliases), and
 * the guests merged into that root. */
int pf_chain_root(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id *root);
/* The same, and whether a guest on the way there (id, those it was merged
 * into, the root) is erased: its data is then erased too. */
int pf_chain_path_erased(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id *root, bool *erased);
/* The registers of root's group: root and every guest merged into it
 * (members[0] is root), each one's own, and `joined`, their join (the
 * alias register left out).  With `descendants`, every guest whose alias
 * leads through root, even where root is itself merged into another
 * (an erasure takes them all).  Free with pf_chain_group_clear. */
typedef struct pf_chain_group {
	pf_id *ids;
	pf_cguest *members;
	size_t n;
	pf_cguest joined;
	bool erased;              /* root is erased: no profile */
} pf_chain_group;
int pf_chain_group_load(MDB_txn *txn, pf_db *db, const pf_id *root, pf_chain_group *g,
                        bool descendants);
void pf_chain_group_clear(pf_chain_group *g);
/* The sum over the group of the counters of category that count key. */
int64_t pf_chain_group_count(const pf_chain_group *g, const char *category,
                             const void *key, size_t klen);
/* A guest's stored stays as stored (value bytes malloc'd), in arrival
 * order, into *out (a pf_vec of pf_chain_stay; pf_chain_stays_free). */
typedef struct pf_chain_stay {
	pf_date arrival;
	unsigned char *val;
	size_t len;
} pf_chain_stay;
struct pf_vec;
int pf_chain_stays_stored(MDB_txn *txn, pf_db *db, const pf_id *guest, struct pf_vec *out);
void pf_chain_stays_free(struct pf_vec *v);
/* Remove guest id's stored profile, its indexes and stays, if it has one. */
int pf_chain_drop_profile(MDB_txn *txn, pf_db *db, const pf_id *id);
/* Blobs of a profile's parts as registers hold them. */
int pf_chain_field_blob(msgpack_sbuffer *sb, const pf_guest_rec *r, int field);
int pf_chain_need_blob(msgpack_sbuffer *sb, const pf_pref *p);
int pf_chain_like_blob(msgpack_sbuffer *sb, const pf_pref *p);
size_t pf_chain_count_key(unsigned char *k, size_t cap, const pf_pref *p);
/* Make the stored profile of root (guest record, its indexes, stays, the
 * counters derived from stays and feedback) what the registers say; the
 * members' own records are removed. */
int pf_chain_materialize(MDB_txn *txn, pf_db *db, const pf_id *root);
/* The feedback register's blob for a stored record (the shared part:
 * prompts, follow-up prompt and due time zeroed), guest first. */
int pf_chain_feedback_blob(msgpack_sbuffer *sb, const pf_feedback_rec *r);
/* Make the stored feedback record what its register says. */
int pf_chain_materialize_feedback(MDB_txn *txn, pf_db *db, const pf_id *id);

/* ---- change.c ---- */
/* The local stamp for a write now (advances the hybrid clock). */
int pf_chain_tick(MDB_txn *txn, pf_db *db, pf_stamp *st);
/* Fold a remote clock into ours (apply). */
int pf_chain_observe(MDB_txn *txn, pf_db *db, uint64_t hlc);
/* journal.c notes what each entry touched (a write's guests, feedback,
 * merges and erasures) for the commit hook. */
void pf_chain_note(pf_db *db, const char *op, const pf_id *guest, const pf_id *object,
                   const char *keep);
/* db.c: install the hooks when the database has a property name, or is
 * being given one (`naming`; pf_chain_ready then reports a failed
 * allocation), and remove them. */
void pf_chain_setup(pf_db *db, bool naming);
int pf_chain_ready(pf_db *db, bool naming);
/* The seeding's work inside the naming's transaction (db.c). */
int pf_chain_seed_txn(MDB_txn *txn, pf_db *db);
/* Once per database: every profile and feedback record it held before it
 * was named is recorded as changes (a write transaction). */
int pf_chain_seed(pf_db *db);
void pf_chain_teardown(pf_db *db);
/* apply.c: while on, the hook records nothing (apply writes registers
 * and profiles itself). */
void pf_chain_applying(pf_db *db, bool on);
/* Join delta d into guest id's stored registers, keeping the alias index;
 * *old_target / *had_old: its alias before, *alias_changed: it moved. */
int pf_chain_absorb(MDB_txn *txn, pf_db *db, const pf_id *id, const pf_cguest *d,
                    pf_id *old_target, bool *had_old, bool *alias_changed);
/* An origin's high-water mark (this property's own: its last change). */
int pf_chain_mark_get(MDB_txn *txn, pf_db *db, const char *origin, uint64_t *seq);
int pf_chain_mark_put(MDB_txn *txn, pf_db *db, const char *origin, uint64_t seq);
/* db.c's pf_chain_rejoin, for the chain database's part. */
int pf_chain_rejoin_txn(MDB_txn *txn, pf_db *db, const char *property);

/* ---- apply.c ---- */
/* The guests an erasure of id takes: id and every guest whose alias
 * leads through it (malloc'd; id first). */
int pf_chain_erase_set(MDB_txn *txn, pf_db *db, const pf_id *id, pf_id **ids, size_t *n);
/* Erase the registers of ids[0..n) (those not erased yet), keep their
 * tombstones, strip their feedback registers of personal text and drop
 * their stored profiles; roots (room for n) receives the profiles they
 * had been merged into, which must be rewritten. */
int pf_chain_tombstone(MDB_txn *txn, pf_db *db, const pf_id *ids, size_t n, uint64_t hlc,
                       pf_id *roots, size_t *nroots);

#endif /* PF_CHAIN_H */
