/*
 * guest.h — what guest.c offers the other files of the library.
 * Owner: guest.c: the guest, contact and name databases.
 * Never installed; nothing here is API.
 */
#ifndef PF_GUEST_H
#define PF_GUEST_H

#include "store.h"
#include "codec.h"

/** Load a guest record inside a transaction.  PF_ENOTFOUND (with
 *  message) if absent, PF_ECORRUPT if it fails to decode. */
int pf_guest_load(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id);

/** pf_guest_load for a reader: the record in one block (a `packed` record,
 *  see codec.h), which must not be changed; pf_guest_rec_free frees it. */
int pf_guest_load_packed(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id);

/** Store a guest record (no index maintenance: for changes that do not
 *  touch indexed fields, e.g. preferences and counters). */
int pf_guest_save(MDB_txn *txn, pf_db *db, const pf_guest_rec *r);

/** 0 if guest `id` exists, else PF_ENOTFOUND "<what>: no guest with id
 *  <id>" (or a mapped error). */
int pf_guest_exists(MDB_txn *txn, pf_db *db, const pf_id *id);

/** The stored bytes of guest `id`: 0, PF_ENOTFOUND or a mapped error.
 *  PF_ENOTFOUND sets "<what>: no guest with id <id>" when what is not
 *  NULL, no message when it is.  Valid until the transaction writes. */
int pf_guest_get_raw(MDB_txn *txn, pf_db *db, const pf_id *id, MDB_val *val,
                     const char *what);

/** Store encoded guest bytes as they are (unmerge restores a record byte
 *  for byte); no index maintenance. */
int pf_guest_put_raw(MDB_txn *txn, pf_db *db, const pf_id *id, const void *data, size_t len);

/** Delete the record of guest `id` (not its index entries: see
 *  pf_guest_reindex(old, NULL)); a missing record is 0. */
int pf_guest_del_record(MDB_txn *txn, pf_db *db, const pf_id *id);

/** Call fn for every guest record, decoded, in id order.  A key that is
 *  not an id is PF_ECORRUPT "corrupt record in 'guest': key of N bytes,
 *  expected a 16-byte id".  A non-zero return of fn stops the walk. */
typedef int (*pf_guest_fn)(void *ctx, const pf_guest_rec *r);
int pf_guest_each(MDB_txn *txn, pf_db *db, pf_guest_fn fn, void *ctx);

/** Every guest record in key order, raw (for verify.c, which judges the
 *  keys and decodes the values itself). */
int pf_guest_each_raw(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx);

/** One guest id found in an index. */
typedef int (*pf_id_fn)(void *ctx, const pf_id *id);

/** The guests of contact key[0..klen) (as pf_guest_contact_keys builds
 *  them), at most `max` index entries.  A value that is not an id is
 *  PF_ECORRUPT. */
int pf_contact_ids(MDB_txn *txn, pf_db *db, const void *key, size_t klen, size_t max,
                   pf_id_fn fn, void *ctx);

/** The guests whose name index holds exactly the folded text `fname`
 *  (key fname + '\0' + id), at most `max` entries read. */
int pf_name_ids_exact(MDB_txn *txn, pf_db *db, const char *fname, size_t max, pf_id_fn fn,
                      void *ctx);

/** Validate a caller's guest exactly as pf_guest_put() does (messages
 *  start "pf_guest_put: ").  Returns 0 or PF_EINVAL. */
int pf_guest_check(const pf_guest *g);

/** Bring the contact ("e:" "p:" "l:" "x:") and name indexes from `old`
 *  (NULL: a new guest) to `nr` (NULL: the guest is removed).  PF_EEXIST if
 *  nr's external id belongs to another guest. */
int pf_guest_reindex(MDB_txn *txn, pf_db *db, const pf_guest_rec *old,
                     const pf_guest_rec *nr);

/** The folded form of a name the name index is keyed by (case folded,
 *  accents stripped, whitespace collapsed), from guest.c.  malloc'd;
 *  NULL with *rc = PF_ENOMEM or PF_EINVAL on failure. */
char *pf_guest_fold_name(const char *s, int *rc);

/** The contact index keys of a record ("e:" "p:" "l:" "x:" + text, as
 *  guest.c writes them), for merge.c's duplicate search. */
#define PF_CONTACT_KEYS_MAX 4
#define PF_CONTACT_KEY_MAX 512
typedef struct pf_contact_keys {
	size_t n;
	size_t len[PF_CONTACT_KEYS_MAX];
	unsigned char key[PF_CONTACT_KEYS_MAX][PF_CONTACT_KEY_MAX];
} pf_contact_keys;
int pf_guest_contact_keys(const pf_guest_rec *r, pf_contact_keys *out);

/** Every index key of a guest record exactly as pf_guest_reindex()
 *  writes them: the contact keys (each stored in `contact` with the
 *  guest's id as its value) and the name keys (folded name from a word
 *  start + '\0' + id, stored in `name` with an empty value).  r->g.id
 *  must be set.  Returns 0, PF_ENOMEM, or PF_EINVAL when a stored name
 *  or contact cannot be folded. */
#define PF_NAME_KEYS_MAX 8
#define PF_NAME_KEY_MAX 512
typedef struct pf_index_keys {
	pf_contact_keys contact;
	size_t nname;
	size_t name_len[PF_NAME_KEYS_MAX];
	unsigned char name[PF_NAME_KEYS_MAX][PF_NAME_KEY_MAX];
} pf_index_keys;
int pf_guest_index_keys(const pf_guest_rec *r, pf_index_keys *out);

/** Build the contact index key of `kind` ('e' e-mail, 'p' phone digits,
 *  'l' loyalty number, 'x' external id) for text[0..len), already in the
 *  index's form (folded for 'e' and 'l', digits for 'p', exact for 'x'):
 *  "<kind>:" + text, written to out (room for len + 2 bytes).  Returns
 *  the key's length.  The one place the "x:"-style prefixes are made. */
size_t pf_contact_key(unsigned char *out, char kind, const char *text, size_t len);

/** The guest the contact index holds under key[0..len) (a key from
 *  pf_contact_key; for a key several guests share, the first): 0 with
 *  *found set, or an error (PF_ECORRUPT for a value that is not an id).
 *  Absence is not an error and sets no message. */
int pf_guest_find_by_contact(MDB_txn *txn, pf_db *db, const unsigned char *key, size_t len,
                             pf_id *id, bool *found);

/** pf_guest_load for a guest that may not exist: 0 with *found false and
 *  *out NULL (no message set) when there is no guest `id`. */
int pf_guest_load_if(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id,
                     bool *found);

/** For upgrade.c: hand every guest record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
int pf_guest_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

#endif /* PF_GUEST_H */
