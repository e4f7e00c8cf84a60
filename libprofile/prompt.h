/*
 * prompt.h — what prompt.c offers the other files of the library.
 * Owner: prompt.c: the prompt and queue databases, the lifecycle, delivery.
 * Never installed; nothing here is API.
 */
#ifndef PF_PROMPT_H
#define PF_PROMPT_H

#include "store.h"
#include "codec.h"

/** Store a new prompt (assigning p->seq) and its queue entries. */
int pf_prompt_store(MDB_txn *txn, pf_db *db, pf_prompt *p);

/** Store `count` new prompts, as pf_prompt_store() each in array order,
 *  with one read and write of each sequence counter (a fire's prompts). */
int pf_prompts_store(MDB_txn *txn, pf_db *db, pf_prompt *ps, size_t count);

/** Load a prompt by id inside a transaction (PF_ENOTFOUND if absent). */
int pf_prompt_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_prompt *out);

/** Store a prompt record again after changing its guest, text or staff
 *  names (no work-list key holds them); a changed guest moves the
 *  prompt's per-guest index entry.  Used by merge.c and erase.c. */
int pf_prompt_rewrite(MDB_txn *txn, pf_db *db, const pf_prompt *p);

/** Ids of every stored prompt whose guest is one of guests[0..n), from
 *  the per-guest index in `queue` (a range read per guest; a database
 *  whose index is not built yet is scanned whole).  Every id names a
 *  stored prompt (else PF_ECORRUPT); the order is by guest, then id.
 *  *out is malloc'd (NULL when none).  Used by merge.c, erase.c, export.c. */
int pf_prompts_of_guests(MDB_txn *txn, pf_db *db, const pf_id *guests, size_t n,
                         pf_id **out, size_t *nout);

/**
 * Close loaded prompt *p as `to` (PF_PROMPT_DONE or PF_PROMPT_DISMISSED)
 * inside the caller's write transaction, exactly as pf_prompt_done /
 * pf_prompt_dismiss do: done_by = staff, done_at = when, dismiss_reason =
 * reason (may be NULL), its work-list entries removed, the record
 * rewritten and "prompt.done" / "prompt.dismiss" journaled with actor
 * DEPT/staff.  *p is updated in place (the caller still clears it).
 * PF_EINVAL (messages start "<fn>: ") if *p is not pending or
 * acknowledged; the caller checks `staff` and `reason`.
 */
int pf_prompt_close_txn(MDB_txn *txn, pf_db *db, pf_prompt *p, pf_prompt_status to,
                        const char *staff, const char *reason, pf_time when);

/** Deliver prompts to in-process subscribers (after commit). */
void pf_prompts_deliver(pf_db *db, const pf_prompt_list *list);

/** Free subscriptions at close. */
void pf_subs_free(pf_db *db);

/** Default due delay in seconds for a priority (urgent 15 min, high 1 h,
 *  normal 4 h, low 24 h). */
int64_t pf_priority_default_within(pf_priority p);

/** The `queue` keys pf_prompt_store() writes for prompt p (prompt.c):
 *  key[0] its department feed entry ('s', value = the prompt id), key[1]
 *  its per-guest entry ('g'), and while p is pending or acknowledged
 *  key[2] its work-list entry ('o').  Returns out->n (2 or 3), or 0 when
 *  p's department is missing or too long for a key. */
#define PF_QUEUE_KEY_MAX (1 + PF_FIELD_MAX + 1 + 8 + 1 + 16)
typedef struct pf_queue_keys {
	size_t n;
	size_t len[3];
	unsigned char key[3][PF_QUEUE_KEY_MAX];
} pf_queue_keys;
size_t pf_prompt_queue_keys(const pf_prompt *p, pf_queue_keys *out);

/* ---- read accessors for the read-only walks (quality.c, verify.c) ---- */

/** A raw record of a walk of `prompt` or `queue` (key and value as
 *  stored).  A non-zero return stops the walk and is returned. */

/** Every record of the prompt database in key order, raw. */
int pf_prompt_each_raw(MDB_txn *txn, pf_db *db, pf_store_raw_fn fn, void *ctx);

/** For upgrade.c: hand every prompt record to fn, which may rewrite it in
 *  place (pf_store_recode); keys do not change. */
int pf_prompt_recode(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

/** For upgrade.c: delete schema 1's overdue list (the 'd' queue keys). */
int pf_prompt_drop_due_index(MDB_txn *txn, pf_db *db);

#endif /* PF_PROMPT_H */
