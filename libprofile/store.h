/*
 * store.h — what store.c offers the other files of the library.
 * Owner: store.c: the LMDB environment, named databases, schema,
 * transactions, map growth, LMDB error mapping.
 *
 * struct pf_db is declared here, not in db.h: store.c needs the handle's
 * LMDB fields in every transaction, and the modules (and the white-box
 * tests) reach env and dbi through this header.  Each field says which
 * file owns it; a file writes only the fields it owns.
 * Never installed; nothing here is API.
 */
#ifndef PF_STORE_H
#define PF_STORE_H

#include "libprofile.h"
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

enum pf_dbi {
	PF_DBI_META = 0,
	PF_DBI_GUEST,
	PF_DBI_CONTACT,  /* dupsort: "e:"email / "p:"digits / "l:"loyalty -> id */
	PF_DBI_NAME,     /* folded name word + '\0' + id -> empty */
	PF_DBI_STAY,     /* id + be32 arrival -> stay record */
	PF_DBI_RULE,     /* rule name -> rule record */
	PF_DBI_EVENT,    /* event id -> event record */
	PF_DBI_PROMPT,   /* prompt id -> prompt record */
	PF_DBI_QUEUE,    /* department work lists, see prompt.c */
	PF_DBI_FEEDBACK,
	PF_DBI_JOURNAL,
	PF_DBI_CHAIN,    /* a chain's registers and changes, see chain.h */
	PF_DBI_COUNT
};

/** Names of the LMDB databases, indexed by enum pf_dbi ("guest", ...). */
extern const char *const pf_dbi_names[PF_DBI_COUNT];

struct pf_sub;
struct pf_rulebook;
struct pf_tz;

struct pf_db {
	/* store.c (set by pf_store_open, released by pf_store_close) */
	MDB_env *env;
	MDB_dbi dbi[PF_DBI_COUNT];
	char *path;               /* realpath of the directory */
	/* Held shared by every transaction of this handle and exclusively
	 * while growing the map: LMDB requires no live transaction in the
	 * process when mdb_env_set_mapsize() runs. */
	pthread_rwlock_t txn_lock;
	/* The process that opened the environment (every call from another
	 * one is refused, see pf_store_check), and for a read-only handle
	 * opened without LMDB's lock file (MDB_NOLOCK) the transaction it
	 * found at open: once another process commits, such a handle
	 * refuses to read. */
	pid_t pid;
	bool nolock;
	uint64_t nolock_txnid;
	/* Reset read transactions kept for the next reads (PF_STORE_READ_POOL
	 * at most): renewing one keeps its reader slot, so a read takes
	 * neither LMDB's process-shared reader mutex nor a malloc.  Under
	 * rpool_lock, taken for a pointer's move only. */
	pthread_mutex_t rpool_lock;
	MDB_txn *rpool[8];
	int rpool_n;
	/* The schema version the open found (PF_SCHEMA_VERSION for a new
	 * database); db.c upgrades an older one before the handle is used. */
	uint64_t schema;

	/* db.c: the options as resolved at pf_open (read by every module,
	 * written by none), and the directory's identity in the registry of
	 * open directories (one handle per directory per process). */
	pf_options opts;
	char property[PF_PROPERTY_MAX + 1];   /* meta "property"; "" = none.
	                                         opts.property points here */
	dev_t dev;
	ino_t ino;

	/* the hotel's time zone: made by tz.c (pf_tz_setup), held by db.c,
	 * read-only after pf_open */
	struct pf_tz *tz;

	/* rules cache, owned by event.c (freed by pf_rules_cache_free);
	 * db.c makes and destroys the mutex */
	pthread_mutex_t rules_lock;
	struct pf_rulebook *rules;
	uint64_t rules_version;   /* meta "rules.version" the cache was built from */

	/* subscriptions, owned by prompt.c (freed by pf_subs_free); db.c
	 * makes and destroys the mutex */
	pthread_mutex_t sub_lock;
	struct pf_sub *subs;

	/* the chain files (chain.h), set up by pf_chain_setup when the
	 * database has a property name: store.c calls precommit before every
	 * write transaction's commit (a non-zero return aborts it) and
	 * txn_begin when one begins; journal.c notes each entry through
	 * pf_chain_note into `chain`. */
	int (*precommit)(MDB_txn *txn, pf_db *db);
	void (*txn_begin)(pf_db *db);
	struct pf_chain_txn *chain;
	bool chain_missing;       /* read-only open of a database made before
	                             the chain database existed */
};

/** The directory pf_open was given, as pf_store_prepare found it. */
typedef struct pf_store_dir {
	char *path;               /* its realpath, malloc'd */
	dev_t dev;
	ino_t ino;
	bool empty;               /* holds no database yet: one is created */
	bool made;                /* pf_store_prepare created the directory */
} pf_store_dir;

/**
 * First step of pf_open: create the directory if missing (not when
 * `readonly`), resolve it and see what it holds; nothing else is written.
 * A directory that holds something other than a database, or a damaged
 * one (a 0-byte data.mdb, a lock.mdb alone), is refused.  On failure
 * nothing is left behind (a directory it made is removed).
 */
int pf_store_prepare(pf_store_dir *dir, const char *path, bool readonly);

/** Undo a pf_store_prepare that pf_store_open will not follow: remove
 *  the directory if it made it, free dir->path. */
void pf_store_abandon(pf_store_dir *dir);

/**
 * Second step of pf_open: check the data file (envcheck.c), open the
 * LMDB environment for db (db->opts already resolved: flags, map_size,
 * max_map_size), its named databases and schema record.  Takes dir->path
 * (as db->path) in every case; sets db->env, db->dbi, db->txn_lock,
 * db->pid, db->nolock(_txnid).  On failure the environment is closed, a
 * database it was creating is removed again (and the directory, if
 * pf_store_prepare made it), and db->path is freed.
 */
int pf_store_open(pf_db *db, pf_store_dir *dir);

/** Close what pf_store_open opened (in a child after fork() only the
 *  memory: LMDB's state belongs to the parent). */
void pf_store_close(pf_db *db);

/** A unit of work run inside one transaction.  It must have no effect
 *  outside the transaction: a write may be run more than once (after the
 *  map grows).  Returns 0 or a PF_E* code (with pf_errmsg set). */
typedef int (*pf_txn_fn)(MDB_txn *txn, pf_db *db, void *arg);

/**
 * Run `fn` in a write transaction and commit it.  If the map fills up
 * (in fn or at commit), the transaction is aborted, the map is doubled
 * and fn runs again; PF_EFULL comes back only when the map cannot grow.
 * Any non-zero return of fn aborts the transaction.  `what` names the
 * public function for error messages.  Returns PF_EREADONLY on a
 * read-only database.
 */
int pf_store_write(pf_db *db, pf_txn_fn fn, void *arg);

/**
 * pf_store_write for one batch of a bulk load (import.c): the commit
 * flushes the data pages (one fdatasync) but not the meta page
 * (MDB_NOMETASYNC for that commit only), so the database stays intact
 * after a power loss, which may only undo the last such commits.  The
 * caller makes them durable with pf_store_sync before it returns.  Not
 * MDB_NOSYNC: LMDB says a system crash can then corrupt the database (the
 * meta page may reach the disk before the pages it points to, and pages
 * of the last durable state may be reused).  Ordinary pf_store_write
 * commits of other threads meanwhile stay fully synchronous.
 */
int pf_store_write_nometasync(pf_db *db, pf_txn_fn fn, void *arg);

/** Flush everything committed to disk (mdb_env_sync, forced): 0, or
 *  PF_EIO / PF_EFULL.  0 on a read-only handle. */
int pf_store_sync(pf_db *db);

/** Run `fn` in a read-only transaction. */
int pf_store_read(pf_db *db, pf_txn_fn fn, void *arg);

/**
 * 0 if `db` may be used by the calling process; else PF_EINVAL "<what>:
 * this pf_db was opened by process N; open the database again after
 * fork()" (or PF_EBUSY for a lock-less read-only handle whose database
 * another process has written since).  pf_store_write and pf_store_read
 * check this first; a file that reaches db->env any other way must call
 * it before touching LMDB (or the file system on the handle's behalf).
 */
int pf_store_check(pf_db *db);

/**
 * LMDB's compacting page copy of the environment (mdb_env_copyfd2 with
 * MDB_CP_COMPACT) into `fd`, under the handle's transaction lock; if
 * another process grew the map meanwhile, its size is adopted, fd is
 * truncated and the copy starts over.  Checks pf_store_check first.
 */
int pf_store_copy_env(pf_db *db, int fd);


/** Map an LMDB or errno code onto a PF_E* code and record
 *  "<entry point>: [<detail>: ]<lmdb text>" as the detail (detail may be
 *  NULL).  Returns the PF_E* code. */
int pf_lmdb_err(int mdb_rc, const char *detail);

/** mdb_get; 0, PF_ENOTFOUND (no message set) or a mapped error. */
int pf_store_get(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, MDB_val *val);

/** pf_store_get of the record keyed by an id (sizeof(pf_id) bytes); PF_ENOTFOUND with
 *  the message "<what>: no <noun> with id <id>" ("no <noun> with id <id>"
 *  when what is NULL). */
int pf_store_get_id(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const pf_id *id,
                    MDB_val *val, const char *noun);

/** mdb_put with flags; 0 or a mapped error (MDB_MAP_FULL -> PF_EFULL). */
int pf_store_put(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, const void *val, size_t vlen, unsigned flags);

/** mdb_del of a key (val NULL) or of one dupsort pair; a missing key is
 *  0, not an error. */
int pf_store_del(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, const void *val, size_t vlen);

/** The `meta` database for the files that own a key range of it (merge.c:
 *  "merge:", "mg:", "nd:"): pf_store_get/put/del on meta, and a cursor
 *  for prefix scans (an LMDB return code; the caller closes the cursor). */
int pf_meta_get(MDB_txn *txn, pf_db *db, const void *key, size_t klen, MDB_val *val);
int pf_meta_put(MDB_txn *txn, pf_db *db, const void *key, size_t klen, const void *val,
                size_t vlen, unsigned flags);
int pf_meta_del(MDB_txn *txn, pf_db *db, const void *key, size_t klen);
int pf_meta_cursor_open(MDB_txn *txn, pf_db *db, MDB_cursor **cur);

/** One record of a walk: key and value as stored; non-zero stops it. */
typedef int (*pf_store_raw_fn)(void *ctx, const MDB_val *key, const MDB_val *val);

/** Every record of `dbi` in key order, as stored (the one cursor walk the
 *  owners' read-only walks are built on).  A non-zero return of fn stops
 *  the walk and is returned. */
int pf_store_each(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, pf_store_raw_fn fn, void *ctx);

/** The records of `dbi` whose key starts with prefix[0..plen), in key
 *  order, until fn returns non-zero (which is returned).  fn must not
 *  write to `dbi`. */
int pf_store_each_prefix(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *prefix,
                         size_t plen, pf_store_raw_fn fn, void *ctx);
/** The same from the key `start` (slen bytes) on, while keys start with
 *  its first plen bytes. */
int pf_store_each_from(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *start,
                       size_t slen, size_t plen, pf_store_raw_fn fn, void *ctx);

/** A record's new value in a pf_store_recode walk: set out to bytes that
 *  stay valid until the next call, or leave out->mv_size 0 to keep it. */
typedef int (*pf_store_recode_fn)(void *ctx, const MDB_val *key, const MDB_val *val,
                                  MDB_val *out);

/** Rewrite in place, in `txn`, every record of `dbi` whose key starts
 *  with the `plen` bytes of `prefix` and, when `klen` is not 0, is `klen`
 *  bytes long (an owner's records, not its index keys).  Schema upgrades
 *  use it; keys never change. */
int pf_store_recode(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *prefix,
                    size_t plen, size_t klen, pf_store_recode_fn fn, void *ctx);

/** LMDB's free list (the pages later writes will reuse) checked in the
 *  read transaction `txn`: each record's shape, and each page number
 *  inside the file's pages in use.  Returns 0 and leaves why empty when
 *  it is sound, 1 with a description in `why` (no guest data: page
 *  numbers and transaction ids) when it is not, or a PF_E* code.  The
 *  pages are read, so damage LMDB cannot survive shows here (in
 *  pf_verify) rather than in the next write. */
int pf_store_check_free(MDB_txn *txn, pf_db *db, char *why, size_t cap);

/** The first key of `dbi` at or after key (MDB_SET_RANGE) in *found,
 *  pointing into the map (valid for the transaction); PF_ENOTFOUND past
 *  the last key. */
int pf_store_seek(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key, size_t klen,
                  MDB_val *found);

/** Delete every key of `dbi` that starts with the plen bytes of prefix. */
int pf_store_del_prefix(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *prefix,
                        size_t plen);

/** pf_store_recode over meta records (merge.c's merge records). */
int pf_meta_recode(MDB_txn *txn, pf_db *db, const void *prefix, size_t plen, size_t klen,
                   pf_store_recode_fn fn, void *ctx);

/** Record that the database is now at schema `version` (an upgrade's last
 *  step, in its transaction). */
int pf_store_set_schema(MDB_txn *txn, pf_db *db, uint64_t version);

/** Read / write an unsigned 64-bit value in `meta` (stored big-endian).
 *  A missing key reads as 0. */
int pf_meta_get_u64(MDB_txn *txn, pf_db *db, const char *key, uint64_t *out);
int pf_meta_put_u64(MDB_txn *txn, pf_db *db, const char *key, uint64_t v);

/** Increment a meta counter and return its new value in *out. */
int pf_meta_next(MDB_txn *txn, pf_db *db, const char *key, uint64_t *out);

#endif /* PF_STORE_H */
