/*
 * db.c — the pf_db handle, above the modules: pf_open (options checked
 * and resolved, the hotel's zone loaded, the one-handle-per-directory
 * registry, then the store opened), pf_close (each module's per-handle
 * state torn down, then the store closed), pf_version, pf_options_init,
 * the clock (pf_now) and the public time helpers that read the handle's
 * zone and clock (pf_day_start, pf_utc_offset, pf_complaint_due).
 * Of struct pf_db it owns opts, dev, ino, the tz pointer and the two
 * module mutexes (rules_lock, sub_lock: made here, destroyed here).
 *
 * Also the property name (pf_property): meta "property", read at open,
 * written by the first writable open that gives one.
 *
 * May call: store.c (pf_store_prepare/_open/_close/_abandon, a read and a
 * write transaction and meta get/put for the property name), upgrade.c
 * (pf_upgrade, when the store found an older schema), tz.c,
 * error.c, text.c (date checks), and the teardown of the modules that
 * keep per-handle state: event.c (pf_rules_cache_free) and prompt.c
 * (pf_subs_free).  Calls go down only; no file below includes db.h.
 * The modules do call the public pf_now() for "now": it reads
 * db->opts only and calls nothing.
 */
#include "db.h"
#include "error.h"
#include "text.h"
#include "tz.h"
#include "event.h"
#include "prompt.h"
#include "upgrade.h"
#include "chain.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)64 << 20)

/*
 * LMDB forbids opening one environment twice in a process (its locks are
 * per process), so open directories are registered by device and inode:
 * a symlink, another spelling or a bind mount of the path is the same
 * directory.  Keyed by pid as well: a child after fork() inherits the
 * list but is a different process and may open the database itself.
 */
struct open_dir {
	struct open_dir *next;
	pid_t pid;
	dev_t dev;
	ino_t ino;
};
static struct open_dir *open_dirs;
static pthread_mutex_t open_dirs_lock = PTHREAD_MUTEX_INITIALIZER;

static int register_dir(const char *path, dev_t dev, ino_t ino)
{
	int rc = 0;
	pid_t pid = getpid();
	pthread_mutex_lock(&open_dirs_lock);
	for (struct open_dir *p = open_dirs; p; p = p->next) {
		if (p->pid == pid && p->dev == dev && p->ino == ino) {
			rc = pf_seterr(PF_EBUSY, "pf_open: '%s' is already open in this process "
			               "(under this or another path; LMDB allows one handle per "
			               "environment per process)", path);
			goto out;
		}
	}
	struct open_dir *p = malloc(sizeof *p);
	if (!p) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory");
		goto out;
	}
	p->pid = pid;
	p->dev = dev;
	p->ino = ino;
	p->next = open_dirs;
	open_dirs = p;
out:
	pthread_mutex_unlock(&open_dirs_lock);
	return rc;
}

static void unregister_dir(dev_t dev, ino_t ino)
{
	pid_t pid = getpid();
	pthread_mutex_lock(&open_dirs_lock);
	for (struct open_dir **pp = &open_dirs; *pp; pp = &(*pp)->next) {
		struct open_dir *p = *pp;
		if (p->pid == pid && p->dev == dev && p->ino == ino) {
			*pp = p->next;
			free(p);
			break;
		}
	}
	pthread_mutex_unlock(&open_dirs_lock);
}

const char *pf_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = PF_VERSION_MAJOR;
	if (minor)
		*minor = PF_VERSION_MINOR;
	if (patch)
		*patch = PF_VERSION_PATCH;
	return PF_VERSION_STRING;
}

/* Bytes of pf_options a caller of struct version `version` allocated:
 * fields are only ever appended, so older callers pass a shorter struct. */
static size_t options_size(unsigned int version)
{
	if (version == 1)
		return offsetof(pf_options, timezone);
	return version == 2 ? offsetof(pf_options, property) : sizeof(pf_options);
}

int pf_options_init(pf_options *opts, unsigned int version)
{
	pf_api_enter("pf_options_init");
	if (!opts)
		return pf_seterr(PF_EINVAL, "pf_options_init: opts is NULL");
	if (version < 1 || version > PF_OPTIONS_VERSION)
		return pf_seterr(PF_EINVAL, "pf_options_init: unknown options version %u "
		                 "(this library knows 1 to %d)", version, PF_OPTIONS_VERSION);
	pf_options def = PF_OPTIONS_INIT;
	memcpy(opts, &def, options_size(version));
	opts->version = version;
	return 0;
}

pf_time pf_now(pf_db *db)
{
	if (db && db->opts.clock)
		return db->opts.clock(db->opts.clock_payload);
	return (pf_time)time(NULL);
}

/* ---------------------------------------------------------- property */

#define PROPERTY_KEY "property"

struct property_args {
	const char *want;         /* the caller's name, or NULL */
	char *have;               /* db->property: the stored one, "" = none */
	bool store;               /* set by the read: want must be written */
};

static int property_read(MDB_txn *txn, pf_db *db, void *arg)
{
	struct property_args *a = arg;
	MDB_val v;
	int rc = pf_meta_get(txn, db, PROPERTY_KEY, strlen(PROPERTY_KEY), &v);
	if (rc == PF_ENOTFOUND) {
		a->have[0] = '\0';
		a->store = a->want != NULL;
		return 0;
	}
	if (rc)
		return rc;
	if (v.mv_size == 0 || v.mv_size > PF_PROPERTY_MAX)
		return pf_seterr(PF_ECORRUPT, "pf_open: meta \"property\" holds %zu bytes "
		                 "(expected 1 to %d): restore from backup", v.mv_size,
		                 PF_PROPERTY_MAX);
	memcpy(a->have, v.mv_data, v.mv_size);
	a->have[v.mv_size] = '\0';
	if (a->want && strcmp(a->want, a->have) != 0)
		return pf_seterr(PF_EINVAL, "pf_open: this database belongs to property '%s'; "
		                 "it cannot be opened as '%s' (a property's name is fixed when "
		                 "it is first given)", a->have, a->want);
	return 0;
}

static int property_write(MDB_txn *txn, pf_db *db, void *arg)
{
	struct property_args *a = arg;
	/* Read again inside the write: another process may have named it. */
	int rc = property_read(txn, db, a);
	if (rc || !a->store)
		return rc;
	rc = pf_meta_put(txn, db, PROPERTY_KEY, strlen(PROPERTY_KEY), a->want, strlen(a->want), 0);
	if (rc == 0)
		snprintf(a->have, PF_PROPERTY_MAX + 1, "%s", a->want);
	return rc;
}

/* The stored property name into db->property; the caller's is stored by
 * the first writable open that gives one and must match it afterwards.
 * With `read_only_now` the name is checked but not yet written. */
static int property_setup(pf_db *db, const char *want, bool readonly, bool read_only_now)
{
	struct property_args a = { want, db->property, false };
	int rc = pf_store_read(db, property_read, &a);
	if (rc == 0 && a.store && !read_only_now) {
		if (readonly)
			return pf_seterr(PF_EINVAL, "pf_open: cannot name the property '%s' on a "
			                 "read-only open (the name is stored by a writable one)", want);
		rc = pf_store_write(db, property_write, &a);
	}
	if (rc)
		return rc;
	db->opts.property = db->property[0] ? db->property : NULL;
	return 0;
}

struct rejoin_args {
	const char *property;
};

static int rejoin_txn(MDB_txn *txn, pf_db *db, void *arg)
{
	struct rejoin_args *a = arg;
	int rc = pf_chain_rejoin_txn(txn, db, a->property);
	if (rc == 0)
		rc = pf_meta_put(txn, db, PROPERTY_KEY, strlen(PROPERTY_KEY), a->property,
		                 strlen(a->property), 0);
	return rc;
}

int pf_chain_rejoin(pf_db *db, const char *property)
{
	pf_api_enter("pf_chain_rejoin");
	if (!db || !property)
		return pf_seterr(PF_EINVAL, "pf_chain_rejoin: %s is NULL", db ? "property" : "db");
	int rc = pf_check_property("property", property);
	if (rc)
		return rc;
	struct rejoin_args a = { property };
	if ((rc = pf_store_write(db, rejoin_txn, &a)))
		return rc;
	snprintf(db->property, sizeof db->property, "%s", property);
	db->opts.property = db->property;
	pf_chain_setup(db);
	return pf_chain_ready(db);
}

int pf_property(const char **out, pf_db *db)
{
	pf_api_enter("pf_property");
	if (!out || !db)
		return pf_seterr(PF_EINVAL, "pf_property: %s is NULL", out ? "db" : "out");
	*out = db->property[0] ? db->property : NULL;
	return 0;
}

/* ---------------------------------------------------------- open, close */

/* A failure once the store is open: pf_close undoes the open whole, and
 * the failure's message (which closing may overwrite) is kept. */
static int close_failed(pf_db *db, int rc)
{
	char why[512];
	snprintf(why, sizeof why, "%s", pf_errmsg());
	pf_close(db);
	return pf_seterr(rc, "%s", why);
}

int pf_open(pf_db **out, const char *path, const pf_options *opts)
{
	pf_api_enter("pf_open");
	pf_db *db = NULL;
	pf_tz *tz = NULL;
	pf_store_dir dir = { 0 };
	bool registered = false, locks = false, prepared = false;
	int rc;

	if (!out)
		return pf_seterr(PF_EINVAL, "pf_open: out is NULL");
	*out = NULL;
	if (!path || !*path)
		return pf_seterr(PF_EINVAL, "pf_open: path is NULL or empty");
	if (opts && (opts->version < 1 || opts->version > PF_OPTIONS_VERSION))
		return pf_seterr(PF_EINVAL, "pf_open: unknown options version %u (expected 1 to %d)",
		                 opts->version, PF_OPTIONS_VERSION);
	if (opts && (opts->flags & ~(PF_OPEN_READONLY | PF_OPEN_NOMETASYNC | PF_OPEN_NORDAHEAD)))
		return pf_seterr(PF_EINVAL, "pf_open: unknown flags 0x%x", opts->flags);

	pf_options o = PF_OPTIONS_INIT;
	if (opts)
		memcpy(&o, opts, options_size(opts->version));
	o.version = PF_OPTIONS_VERSION;
	bool readonly = (o.flags & PF_OPEN_READONLY) != 0;
	/* Like the zone, a malformed name is refused before anything is made
	 * on disk; the caller's string is not kept (db->property is). */
	const char *want_property = o.property;
	o.property = NULL;
	if (want_property && (rc = pf_check_property("property", want_property)))
		return rc;
	if (o.map_size == 0)
		o.map_size = DEFAULT_MAP_SIZE;
	if (o.max_map_size && o.map_size > o.max_map_size)
		o.map_size = o.max_map_size;
	/* The zone first: a bad one must be refused before anything is
	 * created on disk.  It leaves o.timezone pointing at its own copy. */
	rc = pf_tz_setup(&tz, &o);
	if (rc)
		goto fail;

	rc = pf_store_prepare(&dir, path, readonly);
	if (rc)
		goto fail;
	prepared = true;
	rc = register_dir(dir.path, dir.dev, dir.ino);
	if (rc)
		goto fail;
	registered = true;

	db = calloc(1, sizeof *db);
	if (!db) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory");
		goto fail;
	}
	db->opts = o;
	db->tz = tz;
	tz = NULL;
	db->dev = dir.dev;
	db->ino = dir.ino;
	if (pthread_mutex_init(&db->rules_lock, NULL) != 0) {
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory (cannot make a lock)");
		goto fail;
	}
	if (pthread_mutex_init(&db->sub_lock, NULL) != 0) {
		pthread_mutex_destroy(&db->rules_lock);
		rc = pf_seterr(PF_ENOMEM, "pf_open: out of memory (cannot make a lock)");
		goto fail;
	}
	locks = true;

	/* Takes dir.path; undoes all it did when it fails. */
	prepared = false;
	rc = pf_store_open(db, &dir);
	if (rc)
		goto fail;

	/* The property name is checked before the upgrade (an open refused
	 * after the upgrade committed would have changed the database); a new
	 * name for an older database is written after it, so a failed
	 * upgrade leaves the database as it was, unnamed. */
	bool upgrading = db->schema < PF_SCHEMA_VERSION && !readonly;
	rc = property_setup(db, want_property, readonly, upgrading);
	if (rc)
		return close_failed(db, rc);

	/* A database an older library wrote is brought up to this schema
	 * now, in one transaction.  A read-only handle reads it as it is:
	 * every decoder still reads the older form. */
	if (upgrading) {
		rc = pf_upgrade(db);
		if (rc == 0 && want_property && !db->property[0])
			rc = property_setup(db, want_property, readonly, false);
		if (rc)
			return close_failed(db, rc);
	}
	/* A named property records its changes for the chain (change.c);
	 * what it held before it was named joins the feed once. */
	pf_chain_setup(db);
	if ((rc = pf_chain_ready(db)) || (rc = pf_chain_seed(db)))
		return close_failed(db, rc);
	*out = db;
	return 0;

fail:
	if (prepared)
		pf_store_abandon(&dir);
	if (db) {
		if (locks) {
			pthread_mutex_destroy(&db->rules_lock);
			pthread_mutex_destroy(&db->sub_lock);
		}
		pf_tz_free(db->tz);
		free(db);
	}
	if (registered)
		unregister_dir(dir.dev, dir.ino);
	pf_tz_free(tz);
	return rc;
}

/* Each module's per-handle state first (they may still look at the
 * handle), then the environment; the directory leaves the registry only
 * in the process that registered it. */
void pf_close(pf_db *db)
{
	if (!db)
		return;
	pf_rules_cache_free(db);
	pf_subs_free(db);
	pf_chain_teardown(db);
	bool own = db->pid == getpid();
	pf_store_close(db);
	if (own)
		unregister_dir(db->dev, db->ino);
	pthread_mutex_destroy(&db->rules_lock);
	pthread_mutex_destroy(&db->sub_lock);
	pf_tz_free(db->tz);
	free(db);
}

/* ------------------------------------------------ the handle's zone, now */

int pf_day_start(pf_time *out, pf_db *db, pf_date day)
{
	pf_api_enter("pf_day_start");
	int rc;
	if (!out || !db)
		return pf_seterr(PF_EINVAL, "pf_day_start: %s is NULL", out ? "db" : "out");
	if ((rc = pf_check_date("day", day, true)))
		return rc;
	*out = pf_local_day_start(db->tz, day);
	return 0;
}

int pf_utc_offset(int *out, pf_db *db, pf_time t)
{
	pf_api_enter("pf_utc_offset");
	if (!out || !db)
		return pf_seterr(PF_EINVAL, "pf_utc_offset: %s is NULL", out ? "db" : "out");
	*out = pf_tz_offset(db->tz, t);
	return 0;
}

int pf_complaint_due(pf_time *out, pf_db *db, pf_time recorded)
{
	pf_api_enter("pf_complaint_due");
	if (!out || !db)
		return pf_seterr(PF_EINVAL, "pf_complaint_due: %s is NULL", out ? "db" : "out");
	if (recorded < 0)
		return pf_seterr(PF_EINVAL, "pf_complaint_due: time %lld is before 1970",
		                 (long long)recorded);
	*out = pf_sunset_due(db->tz, recorded ? recorded : pf_now(db));
	return 0;
}
