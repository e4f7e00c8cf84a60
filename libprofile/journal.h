/*
 * journal.h — what journal.c offers the other files of the library.
 * Owner: journal.c: the journal database, the ordered change log.
 * Never installed; nothing here is API.
 */
#ifndef PF_JOURNAL_H
#define PF_JOURNAL_H

#include "store.h"
#include "codec.h"
#include "text.h"

/** What a mutation appends to the journal.  Strings are borrowed for the
 *  call; `op` is "module.verb" ("guest.put", "pref.set", "feedback.add",
 *  "guest.merge"...). */
typedef struct pf_jentry {
	const char *op;
	const char *actor;          /* department/staff, may be NULL */
	pf_id guest;                /* zero if none */
	pf_id object;               /* prompt / feedback / merge id, zero if none */
	const char *ref;            /* event id, category...; may be NULL */
	const pf_journal_field *fields;
	size_t field_count;
} pf_jentry;

/** Append an entry (next sequence number, time = pf_now(db)) inside the
 *  caller's write transaction.  PF_EINVAL for a malformed entry (op not
 *  "word.word", text not UTF-8 or over the journal's limits). */
int pf_journal_append(MDB_txn *txn, pf_db *db, const pf_jentry *e);

/** Journal a guest put: "guest.put" with every profile field that
 *  changed from `old` (NULL: created) to `nr`, new value as "field" and
 *  old value as "field.old" (NULL value: the field was cleared). */
int pf_journal_guest_put(MDB_txn *txn, pf_db *db, const pf_guest_rec *old,
                         const pf_guest_rec *nr);

/** The profile fields "guest.put" journals (name, email, phone, language,
 *  loyalty_no, external_id, birth_date, tier, tags, consent). */
#define PF_JOURNAL_GUEST_FIELDS 11
#define PF_JOURNAL_TAGS_TEXT_MAX (PF_TAGS_MAX * (PF_FIELD_MAX + 1))

/** Text the fields of pf_journal_guest_fields point into (8 KiB: keep it
 *  off the stack). */
typedef struct pf_jguest_text {
	char birth_old[PF_DATE_TEXT_SIZE], birth_new[PF_DATE_TEXT_SIZE];
	char tags_old[PF_JOURNAL_TAGS_TEXT_MAX], tags_new[PF_JOURNAL_TAGS_TEXT_MAX];
} pf_jguest_text;

/** Write to f (room for 2 * PF_JOURNAL_GUEST_FIELDS) the profile fields
 *  that changed from `old` (NULL: created) to `nr`, as "guest.put"
 *  journals them, and return how many.  Values point into old, nr and
 *  *t, which must outlive f.  Shared with import.c's "import.row". */
size_t pf_journal_guest_fields(pf_journal_field *f, const pf_guest_rec *old,
                               const pf_guest_rec *nr, pf_jguest_text *t);

/** The journal's text for consent flags: "none", "profiling",
 *  "marketing" or "profiling,marketing". */
const char *pf_consent_text(unsigned int c);

/** Journal a stay written by pf_stay_put_txn: "stay.add" with arrival,
 *  departure, room, property, party, and "stays" (the guest's new count)
 *  when the arrival is new.  `ref`: the check-in's event id, or NULL. */
int pf_journal_stay(MDB_txn *txn, pf_db *db, const pf_stay *s, bool is_new,
                    uint32_t stays, const char *ref);

/**
 * Right to be forgotten, inside the caller's write transaction: rewrite
 * every journal entry of `guest` (found through the per-guest index)
 * replacing personal values with "[erased]": fields named name, email,
 * phone, loyalty_no, external_id, birth_date, note, value, text,
 * resolution, reason, staff (and their ".old" forms), and the staff part
 * of the actor ("housekeeping/mei" -> "housekeeping/[erased]").  Keeps
 * seq, time, op, ids, ref and field names.  The entries stay indexed.
 */
int pf_journal_erase_guest(MDB_txn *txn, pf_db *db, const pf_id *guest);


/** The per-guest index key of journal entry `seq` about `guest`
 *  (journal.c). */
#define PF_JOURNAL_INDEX_KEY_LEN (1 + 16 + 8)
void pf_journal_index_key(unsigned char k[PF_JOURNAL_INDEX_KEY_LEN], const pf_id *guest,
                          uint64_t seq);

/** For upgrade.c: hand every journal entry record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
int pf_journal_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

#endif /* PF_JOURNAL_H */
