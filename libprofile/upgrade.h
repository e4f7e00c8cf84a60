/*
 * upgrade.h — what upgrade.c offers db.c.
 * Owner: upgrade.c: bringing an older schema up to PF_SCHEMA_VERSION.
 * Never installed; nothing here is API.
 */
#ifndef PF_UPGRADE_H
#define PF_UPGRADE_H

#include "store.h"

/**
 * Upgrade the database `db` opened (db->schema < PF_SCHEMA_VERSION) in
 * one write transaction: every step and the new schema record commit
 * together, so a crash or an error leaves the old schema, whole, and the
 * next open tries again.  Records that do not decode are left as they
 * are (pf_verify reports them); the upgrade never refuses a database for
 * damage it can step over.  Errors: PF_EFULL, PF_EIO, PF_ENOMEM.
 */
int pf_upgrade(pf_db *db);

#endif /* PF_UPGRADE_H */
