/*
 * upgrade.c — the schema upgrades pf_open runs on a database an older
 * library wrote.  Owns their order and the transaction they share; each
 * owner walks its own records (its pf_*_recode), this file says what
 * becomes of each record.
 *
 * Schema 1 -> 2: every msgpack record is written again with one-byte
 * field codes for keys instead of the field names (codec.c), about a
 * third smaller, and the queue's overdue list ('d' keys, one per open
 * prompt) is deleted: overdue is read from the work lists.  Every other
 * key stays as it is.
 *
 * May call: store.c (pf_store_write, pf_store_add_missing, pf_store_set_schema), codec.c
 * (pf_codec_recode), error.c, and the owners' recode walks: guest.c,
 * stay.c, event.c, prompt.c (and its pf_prompt_drop_due_index),
 * feedback.c, journal.c, merge.c.
 */
#include "upgrade.h"
#include "error.h"
#include "codec.h"
#include "guest.h"
#include "stay.h"
#include "event.h"
#include "prompt.h"
#include "feedback.h"
#include "journal.h"
#include "merge.h"

struct recode_ctx {
	pf_rec_kind kind;
	msgpack_sbuffer sb;
	size_t rewritten, left;   /* records written again, left as they were */
};

static int recode_one(void *arg, const MDB_val *key, const MDB_val *val, MDB_val *out)
{
	struct recode_ctx *c = arg;
	(void)key;
	int rc = pf_codec_recode(c->kind, val->mv_data, val->mv_size, &c->sb);
	if (rc == PF_ENOMEM)
		return rc;
	if (rc) {
		/* Damage: keep the record for pf_verify to name, and go on. */
		c->left++;
		return 0;
	}
	out->mv_data = c->sb.data;
	out->mv_size = c->sb.size;
	c->rewritten++;
	return 0;
}

typedef int (*recode_walk)(MDB_txn *txn, pf_db *db, pf_store_recode_fn fn, void *ctx);

static int to_schema2(MDB_txn *txn, pf_db *db, void *arg)
{
	static const struct { pf_rec_kind kind; recode_walk walk; } steps[] = {
		{ PF_REC_GUEST, pf_guest_recode },     { PF_REC_STAY, pf_stay_recode },
		{ PF_REC_RULE, pf_rules_recode },      { PF_REC_EVENT, pf_events_recode },
		{ PF_REC_PROMPT, pf_prompt_recode },   { PF_REC_FEEDBACK, pf_feedback_recode },
		{ PF_REC_JOURNAL, pf_journal_recode }, { PF_REC_MERGE, pf_merge_recode },
	};
	struct recode_ctx *c = arg;
	int rc = 0;
	c->rewritten = c->left = 0;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0] && rc == 0; i++) {
		c->kind = steps[i].kind;
		rc = steps[i].walk(txn, db, recode_one, c);
	}
	if (rc == 0)
		rc = pf_prompt_drop_due_index(txn, db);
	if (rc == 0)
		rc = pf_store_add_missing(txn, db);
	if (rc == 0)
		rc = pf_store_set_schema(txn, db, 2);
	return rc;
}

int pf_upgrade(pf_db *db)
{
	struct recode_ctx c;
	c.kind = PF_REC_GUEST;
	msgpack_sbuffer_init(&c.sb);
	int rc = 0;
	if (db->schema < 2)
		rc = pf_store_write(db, to_schema2, &c);
	msgpack_sbuffer_destroy(&c.sb);
	if (rc) {
		/* A copy: the message is written into the buffer pf_errmsg() reads. */
		char why[512];
		snprintf(why, sizeof why, "%s", pf_errmsg());
		return pf_fail(rc, "cannot upgrade '%s' from schema %llu to %d: %s "
		               "(nothing changed; the database is still schema %llu)", db->path,
		               (unsigned long long)db->schema, PF_SCHEMA_VERSION, why,
		               (unsigned long long)db->schema);
	}
	return 0;
}
