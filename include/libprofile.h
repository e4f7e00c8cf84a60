/*
 * libprofile — guest preference profiles and personalised-service prompts
 * for hotels, stored in LMDB.
 *
 * This header is the specification: what is not declared and documented
 * here is not API.
 *
 * RULES OF USE (they follow from LMDB; read them before anything else)
 *
 *  - One pf_db per database directory per process.  A second pf_open() of
 *    a directory that is already open in this process fails with PF_EBUSY,
 *    whatever path names it (the directory's device and inode are
 *    compared, so a symlink, "dir/." or a bind mount is the same
 *    directory).  Several *processes* may open the same directory at once
 *    (front desk, kiosks, a Python integration); one writer at a time,
 *    readers never block.
 *  - Do not use a pf_db after fork().  The handle remembers the process
 *    that opened it: every call that reads or writes the database, made
 *    with it from another process (a child after fork()), returns
 *    PF_EINVAL ("this pf_db was opened by process N; open the database
 *    again after fork()") without touching LMDB.  (Not yet pf_backup();
 *    calls that never reach the database, such as pf_now(),
 *    pf_utc_offset() or pf_subscribe(), are not refused but are no use
 *    there either.)  The child opens the database itself: pf_open() of
 *    the same directory works there.  pf_close() of the inherited handle
 *    in the child frees the handle's memory but leaves the environment
 *    alone, because closing it would clear the parent's reader slots in
 *    lock.mdb; LMDB's few KiB for it stay until the child exits or execs.
 *  - A pf_db may be shared by threads: every public function takes its own
 *    transaction and is safe to call concurrently.  Writes are serialised.
 *    Objects returned by the library (guests, lists, prompts) are plain
 *    memory owned by the caller and are not synchronised.
 *  - Every function returns 0 on success or a negative PF_E* code.  A
 *    function that returns an object takes `**out` first, sets *out to
 *    NULL on failure, and the caller frees the object with the matching
 *    _free() function, which accepts NULL.  Never free() library memory.
 *  - After a failure, pf_errmsg() tells what exactly was wrong (which
 *    field, which line of a rule file).  A rejected call changes nothing
 *    stored: every mutation is one LMDB transaction.
 *  - The "Errors:" list of each function names the codes particular to
 *    it.  Besides those, any call that allocates may return PF_ENOMEM,
 *    and any call that reads or writes the database may return PF_EIO
 *    (the system failed a read or write), PF_ECORRUPT (a stored record
 *    failed validation), PF_EBUSY (LMDB ran out of reader slots, or a
 *    handle opened without a lock saw another process write; see
 *    pf_open()) or PF_EINVAL (the handle was opened by another process:
 *    use after fork()).  Any call that writes may return PF_EFULL (the
 *    map reached max_map_size, the disk is full, or the file reached the
 *    process's RLIMIT_FSIZE; nothing was stored, and once there is room
 *    writes succeed again on the same handle).
 *    Functions declared void, and those returning a name or a number
 *    rather than a code, cannot fail.
 *  - An all-zero pf_id where a guest or prompt is expected is PF_EINVAL;
 *    a well-formed id that names nothing is PF_ENOTFOUND.  Optional
 *    strings are NULL when absent; "" is refused with PF_EINVAL.
 *  - Strings are UTF-8 and NUL-terminated unless a length is given; the
 *    library copies them and never keeps the caller's pointer.  Text that
 *    is not valid UTF-8, or longer than the PF_*_MAX limit of its field,
 *    is refused with PF_EINVAL.
 *  - Times (pf_time) are seconds since 1970-01-01 UTC.  Dates (pf_date)
 *    are calendar dates written as the integer YYYYMMDD, 0 meaning
 *    "unknown".  The current time comes from the clock in pf_options, so
 *    tests can control it.
 *
 * NAMES (one rule for every module; a new name must fit it)
 *
 *  - Every name is pf_ and then the noun of the module or type it belongs
 *    to, then what it does.
 *  - The noun is singular for a function on one object, or one that looks
 *    objects up by a key: pf_guest_put, pf_guest_get, pf_guest_find,
 *    pf_guest_merge, pf_pref_set, pf_stay_add, pf_prompt_get,
 *    pf_prompt_ack, pf_prompt_done, pf_feedback_resolve.
 *  - The noun is plural for a function over a stored collection as a
 *    whole (the rule book; a department's work list, overdue list or
 *    feed): pf_rules_load, pf_rules_load_file, pf_rules_clear,
 *    pf_rules_list, pf_prompts_pending, pf_prompts_overdue,
 *    pf_prompts_seq, pf_prompts_since.  "Feedback" is its own plural.
 *  - A function named after a type acts on an object of that type:
 *    pf_<type>_get reads a new one (pf_pref_list_get, pf_stay_list_get,
 *    pf_feedback_list_get, pf_quality_report_get), pf_<type>_free frees
 *    one (pf_prompt_free, pf_verify_report_free, pf_string_free), and
 *    pf_<type>_name, _parse, _format, _make and _init convert or
 *    initialise (pf_tier_name, pf_id_parse, pf_date_make,
 *    pf_options_init).
 *  - A list type is pf_<noun>_list, the noun singular, freed by
 *    pf_<noun>_list_free: pf_guest_list, pf_rule_list, pf_prompt_list.
 *  - Modules that are an activity rather than a thing take their own name
 *    as the noun: pf_journal_*, pf_import_*, pf_export_*,
 *    pf_retention_run; the time helpers name what they compute
 *    (pf_complaint_due, pf_day_start, pf_utc_offset); the core verbs stand
 *    alone: pf_open, pf_close, pf_now, pf_fire, pf_preview, pf_subscribe,
 *    pf_unsubscribe, pf_verify, pf_backup, pf_compact, pf_version,
 *    pf_strerror, pf_errmsg.
 *  - A struct made for the caller to fill in starts with
 *    `unsigned int version` (PF_<TYPE>_VERSION) and has a PF_<TYPE>_INIT:
 *    pf_options, pf_observation, pf_guest, pf_stay, pf_event, pf_feedback,
 *    pf_feedback_query, pf_import_options.  A function that reads one
 *    refuses a version it does not know with PF_EINVAL (for example
 *    "pf_stay_add: unknown pf_stay version 0 (expected 1)"); structs the
 *    library returns carry the current version.  New fields are only ever
 *    appended.
 *
 * The rule language is described in README.md ("Rule language"); the
 * storage layout and the design behind this API in libprofile/README.md.
 */
#ifndef LIBPROFILE_H
#define LIBPROFILE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PF_EXTERN __declspec(dllexport)
#elif defined(__GNUC__)
#define PF_EXTERN __attribute__((visibility("default")))
#else
#define PF_EXTERN
#endif

/* ------------------------------------------------------------------ */
/* Version                                                              */
/* ------------------------------------------------------------------ */

#define PF_VERSION_MAJOR 0
#define PF_VERSION_MINOR 2
#define PF_VERSION_PATCH 0
#define PF_VERSION_STRING "0.2.0"

/** Schema version of the stored data this library writes.  A database
 *  written by a newer schema is refused with PF_EVERSION; one written by
 *  an older schema is upgraded by pf_open() (see there).
 *  Schema 2 (after 0.2.0): records keyed by one-byte field codes instead of
 *  field names; prompt and feedback ids are time-ordered (UUIDv7).
 *  Schema 1: 0.1.0 and 0.2.0. */
#define PF_SCHEMA_VERSION 2

/**
 * The library's version at run time, to detect a header/library mismatch.
 * Stores the linked library's major, minor and patch numbers through the
 * pointers that are not NULL (any may be NULL) and returns its
 * PF_VERSION_STRING: static storage, never NULL, never freed.  Cannot
 * fail.
 */
PF_EXTERN const char *pf_version(int *major, int *minor, int *patch);

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

/** Return codes.  LMDB and errno values are mapped onto these, never
 *  passed through. */
typedef enum {
	PF_OK        =   0,
	PF_ENOTFOUND =  -1,  /**< no such guest, preference, prompt, rule... */
	PF_EEXIST    =  -2,  /**< already exists (e.g. an event id reused for another guest) */
	PF_EINVAL    =  -3,  /**< bad argument: NULL, empty, too long, not UTF-8, bad transition */
	PF_ENOMEM    =  -4,  /**< out of memory (any allocation failure, also LMDB's map) */
	PF_EIO       =  -5,  /**< the operating system failed a read or write */
	PF_ECORRUPT  =  -6,  /**< a stored record failed validation, or the data file is
	                          damaged or truncated (see pf_open) */
	PF_EFULL     =  -7,  /**< no room: the map reached max_map_size, the disk is full,
	                          or the file reached RLIMIT_FSIZE; nothing was stored */
	PF_EBUSY     =  -8,  /**< already open in this process, too many readers, or a
	                          lock-less read-only handle met a writer (see pf_open) */
	PF_ESYNTAX   =  -9,  /**< a rule book failed to parse; see pf_rule_error */
	PF_EVERSION  = -10,  /**< the database was written by a newer schema */
	PF_EREADONLY = -11,  /**< a write on a database opened read-only */
	PF_ITEROVER  = -12,  /**< an iterator has no more items (not a failure) */
	PF_EACCES    = -13   /**< the operating system refused access (file or
	                          directory permissions, or a read-only file system
	                          for a writable open) */
} pf_error_code;

/** Static, human-readable text for a return code (an unknown code gets
 *  a generic text).  Never NULL; do not free it.  Cannot fail. */
PF_EXTERN const char *pf_strerror(int code);

/**
 * The detail of this thread's last failure, e.g.
 * "pf_guest_put: email is not valid UTF-8" or
 * "hotel.rules:12:8: expected a department name after 'notify'".
 * Thread-local storage owned by the library (do not free it); valid
 * until this thread's next libprofile call.  Returns "" when nothing
 * failed yet.  Never NULL.  Cannot fail.
 */
PF_EXTERN const char *pf_errmsg(void);

/**
 * Set this thread's pf_errmsg() to `text` (copied, cut to 511 bytes;
 * NULL clears it), for libraries built on libprofile, so that their
 * callers read one message whichever library failed (libprofile-sync
 * reports through it).  Cannot fail.
 */
PF_EXTERN void pf_errmsg_set(const char *text);

/* ------------------------------------------------------------------ */
/* Basic types and limits                                               */
/* ------------------------------------------------------------------ */

/** A random (version 4) UUID identifying a guest, prompt or merge.
 *  All-zero means "no id". */
typedef struct pf_id {
	unsigned char b[16];
} pf_id;

/** Seconds since 1970-01-01 00:00:00 UTC. */
typedef int64_t pf_time;

/** A calendar date as YYYYMMDD (20261123 for 23 Nov 2026); 0 = unknown. */
typedef int32_t pf_date;

/** Length of a UUID in its canonical text form, without the NUL. */
#define PF_ID_STRLEN 36

/* Limits, in bytes of UTF-8 (excluding the NUL). */
#define PF_NAME_MAX       200  /**< guest name */
#define PF_FIELD_MAX      128  /**< email, phone, language, loyalty number, tags,
                                    department, staff, property, room, event id */
#define PF_CATEGORY_MAX    64  /**< preference category, e.g. "room.floor" */
#define PF_VALUE_MAX      200  /**< preference value */
#define PF_NOTE_MAX      1000  /**< free-text note */
#define PF_PROMPT_TEXT_MAX 500 /**< rendered prompt text */
#define PF_TAGS_MAX        32  /**< tags per guest */
#define PF_PREFS_MAX      256  /**< preferences per guest */

/** Format `id` as 36 lower-case characters plus a NUL into the caller's
 *  `buf`.  Errors: PF_EINVAL (an argument is NULL). */
PF_EXTERN int pf_id_format(char buf[PF_ID_STRLEN + 1], const pf_id *id);

/** Parse the canonical text form of a UUID into *out.  Errors:
 *  PF_EINVAL (an argument is NULL, or `text` is not a UUID; *out is left
 *  untouched). */
PF_EXTERN int pf_id_parse(pf_id *out, const char *text);

/** Non-zero if `id` is all zeros (also for a NULL pointer), else 0.
 *  Cannot fail. */
PF_EXTERN int pf_id_is_zero(const pf_id *id);

/** Build a pf_date from its parts into *out.  Errors: PF_EINVAL (NULL
 *  out, or an impossible date such as 2026-02-30). */
PF_EXTERN int pf_date_make(pf_date *out, int year, int month, int day);

/* ------------------------------------------------------------------ */
/* Opening a database                                                   */
/* ------------------------------------------------------------------ */

/** An open database (one environment directory): opaque, made by
 *  pf_open() and freed by pf_close().  See the rules of use above for
 *  processes and threads. */
typedef struct pf_db pf_db;

/** A clock: returns the current time.  Must be safe to call from any
 *  thread that uses the pf_db. */
typedef pf_time (*pf_clock_fn)(void *payload);

/** pf_options.flags */
#define PF_OPEN_READONLY   0x1u  /**< open for reading only; writes give PF_EREADONLY.
                                      Works on read-only media (see pf_open) */
#define PF_OPEN_NOMETASYNC 0x2u  /**< skip the meta-page fsync: a crash may lose the
                                      last commit, never corrupt (for kiosks) */
#define PF_OPEN_NORDAHEAD  0x4u  /**< no kernel readahead on the data file: a process
                                      that reads a few random profiles of a large
                                      database (a kiosk) keeps only the pages it
                                      touches resident, not the 128 KiB around each */

#define PF_OPTIONS_VERSION 3

/**
 * Options for pf_open().  Transparent; starts with a version; new fields
 * are only ever appended.  Initialise with PF_OPTIONS_INIT or
 * pf_options_init(); NULL options mean all defaults.
 */
typedef struct pf_options {
	unsigned int version;     /**< PF_OPTIONS_VERSION */
	size_t map_size;          /**< initial map size in bytes; 0 = 64 MiB.  The map
	                               grows by itself when it fills up. */
	unsigned int flags;       /**< PF_OPEN_* */
	pf_clock_fn clock;        /**< NULL = the system clock */
	void *clock_payload;      /**< passed to clock */

	/* version 2: the hotel's business day (complaint due times, feedback.c) */
	const char *timezone;     /**< IANA zone name read from the system zoneinfo, e.g.
	                               "Asia/Macau"; NULL = use utc_offset_minutes.  Copied. */
	int utc_offset_minutes;   /**< fixed offset east of UTC when timezone is NULL */
	int business_day_end;     /**< minute of the local day the business day ends;
	                               0 = 23:59 (1439) */
	int complaint_cutoff;     /**< complaints recorded at or after this local minute are
	                               due at noon the next day; 0 = 22:00 (1320), -1 = none */
	size_t max_map_size;      /**< the map stops growing here and writes fail with
	                               PF_EFULL (nothing stored changes); 0 = 1 TiB.  Caps
	                               the disk a kiosk's copy may take. */

	/* version 3: a hotel chain */
	const char *property;     /**< this property's name in its chain: 1 to
	                               PF_PROPERTY_MAX bytes of a-z, 0-9, '-' and '_'
	                               ("macau").  Stored by the first writable open
	                               that gives it; an open under another name is
	                               refused (PF_EINVAL); NULL uses the stored name,
	                               or none.  See pf_property(). */
} pf_options;

#define PF_OPTIONS_INIT { PF_OPTIONS_VERSION, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0, NULL }

/** Fill `opts` with defaults for the given struct version.  Returns
 *  PF_EINVAL for a NULL pointer or a version this library does not know. */
PF_EXTERN int pf_options_init(pf_options *opts, unsigned int version);

/**
 * Open (creating it if missing, unless read-only) the database in the
 * directory `path`.  On success *out is the new handle, which the caller
 * closes with pf_close(); on failure *out is NULL.  `opts` is copied (the
 * zone name too); the clock and its payload are kept and called for as
 * long as the handle is open.  Stale reader slots left by crashed
 * processes are cleared.
 *
 * What the directory must hold.  A database is created only where none
 * exists: a missing directory (made with mode 0700) or an empty one; the
 * data files are created 0600.  If creating fails, what was created is
 * removed again.  A directory holding other files but no data.mdb is
 * refused (PF_EINVAL; PF_ENOTFOUND when read-only), and so is one whose
 * data.mdb is empty (0 bytes), or that holds lock.mdb without data.mdb
 * (PF_ECORRUPT: a failed copy, a full disk, a file moved away).  Nothing
 * is written in any of these cases.
 *
 * Checks before LMDB maps the file (LMDB 0.9 does not make them, and dies
 * with SIGBUS or SIGSEGV on a file that fails them): both meta pages are
 * LMDB meta pages of one page size; the current one names roots inside
 * the file; the file holds every page in use (pages past its end must be
 * on the free list: LMDB does not write a page it freed in the
 * transaction that allocated it); the named databases' records point at
 * sane pages; and a database that holds data has its 'meta' database and
 * schema record (1 to PF_SCHEMA_VERSION).  A failed check is PF_ECORRUPT
 * with a message naming the file: "... is truncated: restore from backup
 * (...)" or "... is damaged: <what> (page N): restore from backup".
 * These checks read the meta pages and the main database's pages only;
 * damage inside the B-trees (a flipped bit in a leaf page) is not found
 * at open, and LMDB 0.9 may still crash on it while reading.
 *
 * Older schemas.  A writable pf_open() of a database an older library
 * wrote (schema 1) upgrades it before it returns, in one write
 * transaction: every stored record is written again in the current
 * format and the schema record changes with them, so a crash or an error
 * part-way leaves the old database whole (the error says so, and the next
 * open tries again).  It takes about as long as writing the data once
 * (seconds per 100,000 guests).  Everything reads, exports and verifies
 * exactly as before.  A read-only open does not upgrade: it reads the
 * older format as it is.  Once upgraded, a database cannot be opened by
 * the older library (PF_EVERSION there); keep a backup (pf_backup()) if
 * you may need to go back.  We chose the automatic upgrade over an
 * explicit call: an upgrade that can only commit whole or not at all has
 * nothing to ask the caller, and a kiosk or PMS opening its database
 * after a library update should not fail.
 *
 * Read-only media.  With PF_OPEN_READONLY, a database whose directory and
 * files this process may not write (a backup on a read-only mount, or a
 * directory 0555 with files 0444) opens without LMDB's lock file
 * (MDB_NOLOCK): such a handle takes no part in LMDB's reader table, so a
 * writer elsewhere could reuse pages it is reading.  To keep that from
 * happening, pf_open() refuses with PF_EBUSY when another process has the
 * database open (seen through LMDB's lock on lock.mdb), and once another
 * process has committed a write, every call on the handle returns PF_EBUSY
 * ("... another process has written to it since: close it and open it
 * again").  On read-only media no writer can exist and neither happens.
 * Without PF_OPEN_READONLY, such a database is PF_EACCES ("cannot open
 * <path>: permission denied (open read-only with PF_OPEN_READONLY, or fix
 * the directory's permissions)", or "... read-only file system ...").
 *
 * Errors: PF_EINVAL (NULL argument, unknown options version, a time
 * zone that is not in the system zoneinfo, both a zone and an offset, an
 * offset beyond 18 hours, business_day_end or complaint_cutoff not a
 * minute of the day, `path` not a directory, a non-empty directory
 * holding no database), PF_EBUSY (already open in this process under any
 * path; read-only without a lock while another process has it open),
 * PF_EVERSION (written by a newer schema), PF_ENOTFOUND (read-only and
 * nothing there), PF_ECORRUPT (damaged or truncated, see above; not a
 * libprofile database), PF_EACCES (permissions, or a read-only file
 * system for a writable open; never PF_EREADONLY, which is only for a
 * write on a read-only handle), PF_EFULL (no room to create the
 * database), PF_EIO, PF_ENOMEM (any allocation failure, including
 * LMDB's map not fitting in the address space).
 */
PF_EXTERN int pf_open(pf_db **out, const char *path, const pf_options *opts);

/** Close the database and free the handle.  NULL is a no-op.  Objects
 *  returned earlier stay valid (they own their memory).  In a child
 *  after fork() it only frees the handle's memory and leaves the parent's
 *  environment alone (see the rules of use). */
PF_EXTERN void pf_close(pf_db *db);

/** The current time by this database's clock (pf_options.clock); the
 *  system clock when `db` is NULL or has no clock.  Cannot fail. */
PF_EXTERN pf_time pf_now(pf_db *db);

/* ------------------------------------------------------------------ */
/* Guests                                                               */
/* ------------------------------------------------------------------ */

/** Loyalty tiers, ordered: a rule's `tier >= gold` holds for platinum. */
typedef enum {
	PF_TIER_NONE = 0,
	PF_TIER_SILVER,
	PF_TIER_GOLD,
	PF_TIER_PLATINUM,
	PF_TIER_VIP
} pf_tier;

/** "none", "silver", "gold", "platinum", "vip" (static strings, never
 *  freed); NULL for an unknown value.  Cannot fail. */
PF_EXTERN const char *pf_tier_name(pf_tier tier);

/** Parse a tier name (exact, lower case) into *out.  Errors: PF_EINVAL
 *  (NULL argument, unknown name). */
PF_EXTERN int pf_tier_parse(pf_tier *out, const char *name);

/** pf_guest.consent flags */
#define PF_CONSENT_PROFILING 0x1u  /**< may build prompts from observed likes/dislikes */
#define PF_CONSENT_MARKETING 0x2u  /**< may be contacted with offers */

/** Preference kinds.  Needs (allergy, hearing, mobility) are safety
 *  matters: they always reach staff, whatever the consent flags. */
typedef enum {
	PF_LIKE = 0,
	PF_DISLIKE,
	PF_NEED
} pf_pref_kind;

/** "like", "dislike", "need" (static strings); NULL for an unknown value.
 *  Cannot fail. */
PF_EXTERN const char *pf_pref_kind_name(pf_pref_kind kind);

/** One preference as stored on a profile.  All strings belong to the
 *  object that holds the preference. */
typedef struct pf_pref {
	const char *category;     /**< lower-case dotted words: "room.floor" */
	const char *value;        /**< "10", "south", "lily" */
	pf_pref_kind kind;
	const char *department;   /**< who observed it: "housekeeping" */
	const char *staff;        /**< may be NULL */
	const char *note;         /**< may be NULL */
	uint32_t count;           /**< times this value was observed */
	pf_time first_seen;
	pf_time last_seen;
} pf_pref;

/**
 * A guest profile.
 *
 * For pf_guest_put() the caller fills it in (strings are borrowed for the
 * call only; NULL means "not known").  Objects returned by pf_guest_get()
 * and pf_guest_find() own all their strings and arrays and are freed with
 * pf_guest_free() (each guest is one allocation: never free a string or
 * array of it on its own).  Fields marked "read-only" are maintained by the
 * library and ignored by pf_guest_put().
 *
 * Start from PF_GUEST_INIT: a zeroed struct has no profiling consent, and
 * no version.  The struct starts with a version, like every struct the
 * caller fills in that may grow: pf_guest_put(), pf_guest_update() and
 * pf_guest_get_or_put() refuse any other version than PF_GUEST_VERSION
 * with PF_EINVAL ("unknown pf_guest version 0 (expected 1)"); guests the
 * library returns have it set.  New fields are only ever appended.
 */
#define PF_GUEST_VERSION 1

typedef struct pf_guest {
	unsigned int version;     /**< PF_GUEST_VERSION */
	pf_id id;                 /**< zero: pf_guest_put() creates the guest */
	const char *name;         /**< required, 1..PF_NAME_MAX bytes */
	const char *email;
	const char *phone;
	const char *language;     /**< e.g. "zh", "pt-BR" */
	const char *loyalty_no;
	pf_date birth_date;       /**< 0 = unknown */
	pf_tier tier;
	const char *const *tags;  /**< tag_count lower-case words, e.g. "advertising" */
	size_t tag_count;
	unsigned int consent;     /**< PF_CONSENT_* */
	const char *external_id;  /**< id in another system (a PMS, an import source);
	                               unique, indexed; re-imports match on it */
	const char *country;      /**< ISO 3166-1 alpha-3 code, three upper-case letters:
	                               "MAC", "PRT"; where the guest comes from */

	/* read-only */
	pf_time created;
	pf_time updated;
	uint32_t stays;           /**< stays recorded (pf_stay_add, check-ins) */
	const pf_pref *prefs;     /**< pref_count preferences, sorted by category */
	size_t pref_count;
	uint32_t complaints_open;  /**< complaints not yet resolved or closed */
	uint32_t complaints_total; /**< complaints ever recorded */
	pf_time not_satisfied_at;  /**< when a follow-up found the guest not satisfied; 0 = never */
} pf_guest;

#define PF_GUEST_INIT { PF_GUEST_VERSION, {{0}}, NULL, NULL, NULL, NULL, NULL, 0, \
	PF_TIER_NONE, NULL, 0, PF_CONSENT_PROFILING, NULL, NULL, 0, 0, 0, NULL, 0, 0, 0, 0 }

/** A list of guests; free with pf_guest_list_free(). */
typedef struct pf_guest_list {
	size_t count;
	pf_guest **items;
	int truncated;            /**< pf_guest_find(): 1 when more guests matched than
	                               the list holds (PF_FIND_LIMIT): ask the user to
	                               refine the search; else 0 */
} pf_guest_list;

/**
 * Create or update a guest.
 *
 * If g->id is zero, a new guest is created with a random UUID, which is
 * written back into g->id.  Otherwise the guest with that id is updated:
 * every profile field is replaced by what `g` holds; preferences, stays
 * and other read-only fields are kept.  To change one field, copy the
 * struct pf_guest_get() returned, change the copy, put it, then free the
 * original: `pf_guest c = *got; c.email = "new@example.com";
 * pf_guest_put(db, &c); pf_guest_free(got);` (never store your own
 * pointers into a library-owned guest: pf_guest_free() would free them).  The look-up indexes (e-mail, phone,
 * loyalty number, name) change in the same transaction.
 *
 * Errors: PF_EINVAL (NULL, unknown g->version, missing name, a field too
 * long or not UTF-8, a tag that is not a lower-case word, more than
 * PF_TAGS_MAX tags, an impossible birth date, unknown tier), PF_ENOTFOUND (non-zero id that
 * does not exist), PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_guest_put(pf_db *db, pf_guest *g);

/** pf_guest_update() field mask: which profile fields to change. */
#define PF_GUEST_NAME        0x001u
#define PF_GUEST_EMAIL       0x002u
#define PF_GUEST_PHONE       0x004u
#define PF_GUEST_LANGUAGE    0x008u
#define PF_GUEST_LOYALTY_NO  0x010u
#define PF_GUEST_BIRTH_DATE  0x020u
#define PF_GUEST_TIER        0x040u
#define PF_GUEST_TAGS        0x080u   /**< tags and tag_count together */
#define PF_GUEST_CONSENT     0x100u
#define PF_GUEST_EXTERNAL_ID 0x200u
#define PF_GUEST_COUNTRY     0x400u
#define PF_GUEST_ALL         0x7ffu

/**
 * Change some fields of an existing guest atomically: in one write
 * transaction the stored profile is read, the fields named in `mask`
 * are replaced by those of `fields` (NULL clears an optional string),
 * and the result is validated, re-indexed, stored and journaled
 * ("guest.put", with only the fields that changed).  Fields outside
 * `mask` keep their stored values, even if another process changed them
 * a moment ago: two updates of different fields never undo each other.
 * `fields->id` is ignored; `id` names the guest.  Strings are borrowed for
 * the call.  A mask of 0 changes nothing and succeeds if the guest exists.
 *
 * Errors: PF_EINVAL (NULL argument, zero id, unknown fields->version
 * (checked whatever the mask), a mask bit this library does not know, a
 * named field that is invalid as for pf_guest_put()),
 * PF_ENOTFOUND (no such guest), PF_EEXIST (the new external_id belongs
 * to another guest), PF_EREADONLY, PF_EFULL.
 */
PF_EXTERN int pf_guest_update(pf_db *db, const pf_id *id, const pf_guest *fields,
                              unsigned int mask);

/**
 * Find the guest a kiosk or PMS is talking about, or create it: the
 * atomic form of "find, and add if nobody matched".  In one write
 * transaction the profile is looked up by g->external_id if given, else
 * by g->email (case-insensitive) if given, else by g->phone (its
 * digits); only the first of these that the caller gave is used.  If a
 * guest matches, it is returned unchanged (`g`'s other fields are not
 * applied: use pf_guest_update() for that) and *created is 0.  If none
 * matches, a guest is created from `g` exactly as pf_guest_put() would,
 * and *created is 1.  Two processes calling this at once for the same
 * new e-mail end with one profile: LMDB serialises the two writes and the
 * second one finds the first one's guest.
 *
 * On success *out is the stored guest (freed with pf_guest_free()); on
 * failure *out is NULL.  `created` may be NULL.  g->id is ignored.
 *
 * Errors: PF_EINVAL (NULL db/g/out, unknown g->version, none of
 * external_id, email and phone given, or `g` invalid as for
 * pf_guest_put()), PF_EEXIST (more than one guest has that e-mail or
 * phone: the caller must choose, e.g. with pf_guest_find()),
 * PF_EREADONLY, PF_EFULL.
 */
PF_EXTERN int pf_guest_get_or_put(pf_guest **out, int *created, pf_db *db,
                                  const pf_guest *g);

/** Read a guest with its preferences.  *out is freed with
 *  pf_guest_free().  Errors: PF_EINVAL (NULL argument, zero id),
 *  PF_ENOTFOUND, PF_ECORRUPT. */
PF_EXTERN int pf_guest_get(pf_guest **out, pf_db *db, const pf_id *id);

/** Free a guest returned by the library.  NULL is a no-op.  Never pass a
 *  pf_guest the caller filled in itself. */
PF_EXTERN void pf_guest_free(pf_guest *g);

/** Maximum number of guests pf_guest_find() returns. */
#define PF_FIND_LIMIT 100

/**
 * Find guests by e-mail (case-insensitive), phone number (only the digits
 * count: "+853 6123-4567" matches "85361234567"), loyalty number, or a
 * prefix of the name, ignoring case and accents (Unicode case folding:
 * "zhu" finds "Zhuang Wei", "elo" finds "Élodie", "莊" finds "莊偉").
 * Name prefixes also match at the start of each word of the name ("wei"
 * finds "Zhuang Wei"; a hyphen starts a word too).  Exact contact matches
 * come first, then name matches in name order; at most PF_FIND_LIMIT
 * guests: when more matched, (*out)->truncated is 1 so the caller can say
 * "more than 100 matches, refine the search".  No match is not an
 * error: *out is an empty list.  *out is freed with pf_guest_list_free().
 *
 * Errors: PF_EINVAL (NULL, empty, too long or not UTF-8), PF_ECORRUPT.
 */
PF_EXTERN int pf_guest_find(pf_guest_list **out, pf_db *db, const char *query);

/** Free a guest list and every guest in it.  NULL is a no-op. */
PF_EXTERN void pf_guest_list_free(pf_guest_list *list);

/* ------------------------------------------------------------------ */
/* Preferences                                                          */
/* ------------------------------------------------------------------ */

#define PF_OBSERVATION_VERSION 1

/** Who observed a preference, and how it is meant.  Strings are borrowed
 *  for the call. */
typedef struct pf_observation {
	unsigned int version;     /**< PF_OBSERVATION_VERSION */
	pf_pref_kind kind;        /**< like, dislike or need */
	const char *department;   /**< required: "housekeeping" (a lower-case word) */
	const char *staff;        /**< optional */
	const char *note;         /**< optional, up to PF_NOTE_MAX bytes */
	pf_time time;             /**< 0 = now, by the database clock */
} pf_observation;

#define PF_OBSERVATION_INIT { PF_OBSERVATION_VERSION, PF_LIKE, NULL, NULL, NULL, 0 }

/**
 * Record that a guest has preference `value` in `category`.
 *
 * A category is one to four lower-case words ([a-z0-9_]) joined by dots,
 * such as "room.floor", "dining.cuisine", "amenity.flower",
 * "access.hearing".  A guest has at most one preference per category.
 * Observing the same value and kind again increments its count and moves
 * last_seen; a different value or kind replaces the preference and resets
 * the count to 1.  The observer, and the note when one is given, are
 * updated either way.
 *
 * Errors: PF_EINVAL (NULL, bad category, empty/overlong/non-UTF-8 value
 * or note, bad department, unknown kind or observation version, more than
 * PF_PREFS_MAX preferences), PF_ENOTFOUND (no such guest), PF_EREADONLY,
 * PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_pref_set(pf_db *db, const pf_id *guest, const char *category,
                          const char *value, const pf_observation *obs);

/** Read one preference.  *out is freed with pf_pref_free().
 *  Errors: PF_EINVAL (NULL argument, zero id, bad category),
 *  PF_ENOTFOUND (no such guest or no preference in that category),
 *  PF_ECORRUPT. */
PF_EXTERN int pf_pref_get(pf_pref **out, pf_db *db, const pf_id *guest,
                          const char *category);

/** Free a preference returned by pf_pref_get().  NULL is a no-op. */
PF_EXTERN void pf_pref_free(pf_pref *pref);

/** Remove a preference (journaled as "pref.del").  Errors: PF_EINVAL
 *  (NULL argument, zero id, bad category), PF_ENOTFOUND (no such guest or
 *  category), PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO. */
PF_EXTERN int pf_pref_del(pf_db *db, const pf_id *guest, const char *category);

/** A list of preferences; free with pf_pref_list_free(). */
typedef struct pf_pref_list {
	size_t count;
	pf_pref *items;           /**< sorted by category */
} pf_pref_list;

/** All preferences of a guest, sorted by category.  *out is freed with
 *  pf_pref_list_free().  Errors: PF_EINVAL (NULL argument, zero id),
 *  PF_ENOTFOUND (no such guest), PF_ECORRUPT. */
PF_EXTERN int pf_pref_list_get(pf_pref_list **out, pf_db *db, const pf_id *guest);

/** Free a preference list.  NULL is a no-op. */
PF_EXTERN void pf_pref_list_free(pf_pref_list *list);

/* ------------------------------------------------------------------ */
/* Stays                                                                */
/* ------------------------------------------------------------------ */

#define PF_STAY_VERSION 1

/** One stay.  Strings are borrowed by pf_stay_add() and owned by the list
 *  that pf_stay_list_get() returns.  Starts with a version (new fields
 *  are only ever appended): start from PF_STAY_INIT; pf_stay_add()
 *  refuses any other version than PF_STAY_VERSION with PF_EINVAL, and
 *  stays the library returns have it set. */
typedef struct pf_stay {
	unsigned int version;     /**< PF_STAY_VERSION */
	pf_id guest;
	const char *property;     /**< optional hotel code, e.g. "MFM1" */
	const char *room;         /**< optional */
	pf_date arrival;          /**< required */
	pf_date departure;        /**< required, on or after arrival: equal to it for
	                               a day-use stay (0 nights) */
	uint32_t party;           /**< people in the party; 0 = unknown */
} pf_stay;

#define PF_STAY_INIT { PF_STAY_VERSION, {{0}}, NULL, NULL, 0, 0, 0 }

/**
 * Record a stay.  A stay is identified by guest and arrival date: adding
 * one with the same arrival again updates it and does not count twice.
 * Departure on the arrival day is a day-use stay (0 nights): it counts
 * as a stay like any other.
 * The guest's stay counter (used by `stays >= N` rules) counts distinct
 * stays.
 *
 * Errors: PF_EINVAL (NULL, unknown stay->version, impossible dates,
 * departure before arrival, overlong or non-UTF-8 strings), PF_ENOTFOUND
 * (no such guest),
 * PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_stay_add(pf_db *db, const pf_stay *stay);

/**
 * Record n stays in one write transaction, each exactly as pf_stay_add()
 * would (the same arrival again updates a stay and counts once; "stay.add"
 * is journaled for each), in the order given, with one durable commit for
 * the whole batch.  For loading history: at 1,000-10,000 stays a call the
 * cost per stay is a small fraction of one pf_stay_add().  Stays of the
 * same guest next to each other are cheapest (the guest's record is read
 * and written once per run), but any order is correct.
 *
 * The batch is atomic: if stay k fails, nothing of the batch is stored.
 * Every stay is checked (as pf_stay_add() checks it) before anything is
 * written, so a bad stay costs no transaction.  The array and its strings
 * are borrowed for the call.  n == 0 stores nothing and returns 0
 * (stays may then be NULL).  The transaction holds the database's single
 * writer for the whole batch: very large batches (say over 100,000) delay
 * other writers and use memory for the pages they change; split them.
 *
 * failed (may be NULL) receives, on an error, the index of the stay that
 * caused it, and n when no single stay did (e.g. the disk filled at
 * commit); n on success.  pf_errmsg() names the index:
 * "pf_stay_add_batch: stays[3]: departure 20240101 is before arrival
 * 20240105".
 *
 * Errors: as pf_stay_add() (PF_EINVAL, PF_ENOTFOUND for a stay whose guest
 * does not exist, PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO), and
 * PF_EINVAL for a NULL db, or NULL stays with n > 0.
 */
PF_EXTERN int pf_stay_add_batch(pf_db *db, const pf_stay *stays, size_t n, size_t *failed);

/** A list of stays; free with pf_stay_list_free(). */
typedef struct pf_stay_list {
	size_t count;
	pf_stay *items;           /**< in order of arrival */
} pf_stay_list;

/** All stays of a guest in order of arrival.  *out is freed with
 *  pf_stay_list_free().  Errors: PF_EINVAL (NULL argument, zero id),
 *  PF_ENOTFOUND (no such guest), PF_ECORRUPT. */
PF_EXTERN int pf_stay_list_get(pf_stay_list **out, pf_db *db, const pf_id *guest);

/** Free a stay list.  NULL is a no-op. */
PF_EXTERN void pf_stay_list_free(pf_stay_list *list);

/* ------------------------------------------------------------------ */
/* Rule book                                                            */
/* ------------------------------------------------------------------ */

/** Where a rule book failed to parse.  line and column count from 1. */
typedef struct pf_rule_error {
	int line;
	int column;
	char message[256];        /**< "file:line:column: what was expected" */
} pf_rule_error;

/**
 * Parse and validate a whole rule book, then replace the stored rule book
 * with it in one transaction: all or nothing.  `name` labels error
 * messages (e.g. "hotel.rules"); NULL means "<rules>".  The language is
 * described in README.md, section "Rule language".
 *
 * Every process that has the database open picks up the new rule book at
 * its next pf_fire()/pf_preview().
 *
 * A book that defines no rule (empty, only comments, or cut off before
 * its first rule) is refused with PF_ESYNTAX, "the rule book defines no
 * rules", and the stored book is kept: a truncated upload must not stop
 * every prompt silently.  pf_rules_clear() removes all rules on purpose.
 *
 * Language and country.  `language = zh` and `language in (zh, pt)` test
 * pf_guest.language: a rule's tag holds for the same tag or for a longer
 * one it is a prefix of, up to a '-' (`zh` holds for "zh", "zh-TW" and
 * "zh-Hant-HK"; `zh-TW` only for "zh-TW"); tags ignore ASCII case and a
 * guest's "zh_TW" reads as "zh-TW"; a guest without a language matches
 * none.  `country = MAC` and `country in (MAC, HKG)` compare
 * pf_guest.country exactly; a code that is not three upper-case letters
 * is a syntax error.
 *
 * Texts per language.  A notify may follow its default text with texts
 * for other languages, each after its tag:
 * `notify kiosk low "Welcome, {name}!" zh "歡迎, {name}!" pt "Bem-vindo!"`.
 * Only guest-facing prompts use them: every prompt for department
 * `kiosk`, and a notify marked `guest_facing` (after the priority, before
 * or after `within`).  Such a prompt is rendered in the guest's language
 * when the notify has a text for it: the guest's exact tag first, then
 * the tag with its last subtag dropped, down to the primary language (a
 * "pt-BR" guest gets the `pt-BR` text, else the `pt` one; a `zh-TW` text
 * is never used for a "zh" guest); otherwise, and for every staff-facing
 * prompt, the default text.  pf_prompt.language says which.  Every text
 * gets the template checks the default has, and language texts on a
 * notify that is not guest-facing are a syntax error (nobody would read
 * them).  The chosen text naming something the guest or event lacks
 * drops the prompt, as the default text would.
 *
 * Text limit.  A rendered prompt holds at most PF_PROMPT_TEXT_MAX bytes.
 * Templates are not refused for what they could render to: {note CAT}
 * and {complaint.latest} alone may hold PF_NOTE_MAX bytes, so a worst-case
 * rule would refuse ordinary books (examples/hotel.rules among them).
 * Instead text that would pass the limit is cut visibly: at a character
 * boundary, ending in "…" (U+2026), within PF_PROMPT_TEXT_MAX bytes (a
 * default need prompt too).  pf_fire() reports it in the journal: the
 * "event.fire" entry gets a field "cut" naming the rules whose text was
 * cut.  Only templates longer than 1000 bytes are refused.
 *
 * Errors: PF_EINVAL (NULL db/text), PF_ESYNTAX (the text does not parse:
 * `err`, if not NULL, and pf_errmsg() say where and what was expected;
 * unknown placeholders, event kinds, priorities, duplicate rule names are
 * syntax errors too), PF_EREADONLY, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_rules_load(pf_db *db, const char *name, const char *text,
                            size_t len, pf_rule_error *err);

/** Remove every rule: the explicit way to stop all prompts, since
 *  pf_rules_load() refuses a book that defines no rule.  Journaled as
 *  "rules.clear" with the number of rules removed.  Clearing an empty
 *  book succeeds.  Errors: PF_EINVAL (NULL db), PF_EREADONLY, PF_EFULL. */
PF_EXTERN int pf_rules_clear(pf_db *db);

/** Read a rule book from a file and pf_rules_load() it, with the path as
 *  its name.  Errors: as pf_rules_load(), and PF_EIO / PF_ENOTFOUND if the
 *  file cannot be read. */
PF_EXTERN int pf_rules_load_file(pf_db *db, const char *path, pf_rule_error *err);

/** One stored rule. */
typedef struct pf_rule_info {
	const char *name;
	const char *source;       /**< the rule's text, from `rule` to its last line */
} pf_rule_info;

/** The stored rule book; free with pf_rule_list_free(). */
typedef struct pf_rule_list {
	size_t count;
	pf_rule_info *items;      /**< in the order of the rule book */
} pf_rule_list;

/** List the stored rules.  An empty rule book is an empty list.  *out is
 *  freed with pf_rule_list_free().  Errors: PF_EINVAL (NULL argument),
 *  PF_ECORRUPT. */
PF_EXTERN int pf_rules_list(pf_rule_list **out, pf_db *db);

/** Free a rule list.  NULL is a no-op. */
PF_EXTERN void pf_rule_list_free(pf_rule_list *list);

/* ------------------------------------------------------------------ */
/* Events and prompts                                                   */
/* ------------------------------------------------------------------ */

/** What happened to the guest; rules name these in their `on` line. */
typedef enum {
	PF_EVENT_RESERVATION = 1,
	PF_EVENT_CHECK_IN,
	PF_EVENT_CHECK_OUT,
	PF_EVENT_ROOM_CHANGE
} pf_event_kind;

/** "reservation", "check_in", "check_out", "room_change" (static
 *  strings); NULL if unknown.  Cannot fail. */
PF_EXTERN const char *pf_event_kind_name(pf_event_kind kind);

/** Parse an event kind name into *out.  Errors: PF_EINVAL (NULL argument,
 *  unknown name). */
PF_EXTERN int pf_event_kind_parse(pf_event_kind *out, const char *name);

#define PF_EVENT_VERSION 1

/** Something that happened to a guest.  Strings are borrowed for the call. */
typedef struct pf_event {
	unsigned int version;     /**< PF_EVENT_VERSION */
	const char *id;           /**< required: the caller's reservation or transaction
	                               id; firing the same id twice does the work once */
	pf_event_kind kind;
	pf_id guest;
	const char *property;     /**< optional */
	const char *room;         /**< optional; needed by templates using {room} */
	pf_date arrival;          /**< optional; check-ins record a stay from it */
	pf_date departure;        /**< optional; on or after arrival (equal to it for a
	                               day-use stay, 0 nights) */
	uint32_t party;           /**< 0 = unknown */
	pf_time time;             /**< 0 = now; due times count from it */
} pf_event;

#define PF_EVENT_INIT { PF_EVENT_VERSION, NULL, PF_EVENT_RESERVATION, {{0}}, \
	NULL, NULL, 0, 0, 0, 0 }

/** How soon a prompt must be acted on; ordered.  A prompt fired by a
 *  rule without `within` is due 24 h (low), 4 h (normal), 1 h (high) or
 *  15 min (urgent) after its event's time. */
typedef enum {
	PF_PRIORITY_LOW = 0,
	PF_PRIORITY_NORMAL,
	PF_PRIORITY_HIGH,
	PF_PRIORITY_URGENT
} pf_priority;

/** "low", "normal", "high", "urgent" (static strings); NULL if unknown.
 *  Cannot fail. */
PF_EXTERN const char *pf_priority_name(pf_priority p);

/** Where a prompt is in its lifecycle: pending, optionally acknowledged,
 *  then done or dismissed (both final). */
typedef enum {
	PF_PROMPT_PENDING = 0,
	PF_PROMPT_ACKNOWLEDGED,
	PF_PROMPT_DONE,
	PF_PROMPT_DISMISSED
} pf_prompt_status;

/** "pending", "acknowledged", "done", "dismissed" (static strings); NULL
 *  if unknown.  Cannot fail. */
PF_EXTERN const char *pf_prompt_status_name(pf_prompt_status s);

/** One instruction to a department.  Owned by the list that holds it, or
 *  (from pf_prompt_get()) by the caller, who frees it with
 *  pf_prompt_free(). */
typedef struct pf_prompt {
	pf_id id;                 /**< zero in pf_preview() results */
	pf_id guest;
	const char *event_id;
	const char *department;   /**< "front_desk", "housekeeping", ... */
	const char *rule;         /**< the rule that made it; "need" for an unrouted need */
	pf_priority priority;
	const char *text;         /**< rendered, at most PF_PROMPT_TEXT_MAX bytes; the
	                               rule book's text (and a default need prompt's)
	                               that would be longer is cut at a character
	                               boundary and ends in "…" (see pf_rules_load()) */
	pf_prompt_status status;
	pf_time created;
	pf_time due;
	const char *ack_by;       /**< NULL until acknowledged */
	pf_time ack_at;
	const char *done_by;      /**< who completed or dismissed it */
	pf_time done_at;          /**< when it was completed or dismissed */
	const char *dismiss_reason;
	uint64_t seq;             /**< position in its department's feed (pf_prompts_since) */
	const char *language;     /**< the language `text` is in when the rule gave a
	                               text in the guest's language (guest-facing prompts);
	                               NULL for the rule's default text.  The tag as the
	                               rule book writes it ("zh", "pt-BR"), which may be
	                               shorter than the guest's ("zh-TW"); always NULL for
	                               staff-facing prompts and default need prompts, and
	                               in prompts stored before languages existed */
} pf_prompt;

/** A list of prompts; free with pf_prompt_list_free(). */
typedef struct pf_prompt_list {
	size_t count;
	pf_prompt *items;
} pf_prompt_list;

/** Free a prompt list.  NULL is a no-op. */
PF_EXTERN void pf_prompt_list_free(pf_prompt_list *list);

/**
 * Fire an event: in one write transaction, record the event, evaluate the
 * rule book against the guest's profile, render the templates, store each
 * prompt and add it to its department's queue.  A check-in also records
 * its stay: arriving on ev->arrival (default: the UTC day of ev->time)
 * and departing on ev->departure (default: the day after arrival).  A
 * departure on the arrival day is a day-use stay (0 nights); a departure
 * before the arrival is PF_EINVAL, for every kind of event.
 *
 * Idempotent per ev->id: firing an id that was already fired stores
 * nothing and returns the prompts made the first time.  *out (prompts in
 * rule-book order, unrouted needs last) is freed with
 * pf_prompt_list_free().
 *
 * After the commit, and never inside the transaction, the callbacks
 * registered with pf_subscribe() run for each new prompt.
 *
 * Errors: PF_EINVAL (NULL, missing id, unknown kind or version, bad
 * strings, impossible dates, departure before arrival), PF_ENOTFOUND (no
 * such guest), PF_EEXIST (the id was fired
 * for a different guest or kind), PF_EREADONLY, PF_ECORRUPT, PF_EFULL,
 * PF_EIO.
 */
PF_EXTERN int pf_fire(pf_prompt_list **out, pf_db *db, const pf_event *ev);

/** The most events one pf_fire_batch() call takes. */
#define PF_FIRE_BATCH_MAX 10000

/**
 * Fire `count` events in one write transaction and one durable commit:
 * what a PMS replaying the morning's arrivals calls instead of pf_fire()
 * in a loop, which pays one disk sync per event.  Each event is fired
 * exactly as pf_fire() would fire it, in array order: the same prompts,
 * the same stays, the same journal entries, and the same idempotency per
 * id (an id fired before, or earlier in the same batch, stores nothing
 * and gives back the prompts made the first time).
 *
 * `out` is an array of `count` pointers the caller provides (a count
 * over PF_FIRE_BATCH_MAX is refused before any is written); on success
 * out[i] holds the prompts events[i] made (free each with
 * pf_prompt_list_free()).  All or nothing: on any error nothing of the
 * batch is stored, every out[i] is NULL, and pf_errmsg() names the event
 * ("pf_fire_batch: events[3]: no guest with id ...").  Subscribers
 * (pf_subscribe()) run after the commit, event by event.  count 0 does
 * nothing and succeeds.
 *
 * Errors: those of pf_fire() for any event; PF_EINVAL also for a NULL
 * `out` or `events`, or more than PF_FIRE_BATCH_MAX events.
 */
PF_EXTERN int pf_fire_batch(pf_prompt_list **out, pf_db *db, const pf_event *events,
                            size_t count);

/**
 * The prompts pf_fire() would make for `ev`, computed in a read
 * transaction: nothing is stored, ev->id may be NULL, and the prompts have
 * zero ids.  This is what a kiosk calls to greet a guest.  Works on a
 * read-only database.  *out is freed with pf_prompt_list_free().
 * Errors: as pf_fire(), without the write errors.
 */
PF_EXTERN int pf_preview(pf_prompt_list **out, pf_db *db, const pf_event *ev);

/** Read one prompt into a new *out, freed with pf_prompt_free().
 *  Errors: PF_EINVAL (NULL argument, zero id), PF_ENOTFOUND,
 *  PF_ECORRUPT. */
PF_EXTERN int pf_prompt_get(pf_prompt **out, pf_db *db, const pf_id *prompt);

/** Free a prompt returned by pf_prompt_get() and its strings.  NULL is a
 *  no-op.  Never pass a prompt that belongs to a list. */
PF_EXTERN void pf_prompt_free(pf_prompt *prompt);

/**
 * A department's open prompts (pending and acknowledged), earliest due
 * first, then highest priority first.  *out is freed with
 * pf_prompt_list_free().  Errors: PF_EINVAL (NULL or a department that is
 * not a lower-case word), PF_ECORRUPT.
 */
PF_EXTERN int pf_prompts_pending(pf_prompt_list **out, pf_db *db, const char *department);

/** The most prompts one pf_prompts_pending_page() call returns. */
#define PF_PAGE_MAX 1000

/**
 * One page of a department's open prompts, in pf_prompts_pending() order:
 * at most `limit` (1..PF_PAGE_MAX) prompts after `after`, the last prompt
 * of the previous page (NULL: from the start).  Only after's id, due and
 * priority are read, so a prompt done or dismissed since still marks the
 * place, and a page costs the same however long the list is (what a
 * kiosk or a handheld showing "the next 50" calls).  Fewer than `limit`
 * prompts means the list ends there.  *out is freed with
 * pf_prompt_list_free(); keep a copy of its last prompt's fields (or the
 * list itself) to ask for the next page.
 *
 * Errors: PF_EINVAL (NULL out or db, a department that is not a lower-case
 * word, limit 0 or over PF_PAGE_MAX, an `after` with a zero id or an
 * unknown priority), PF_ECORRUPT.
 */
PF_EXTERN int pf_prompts_pending_page(pf_prompt_list **out, pf_db *db,
                                      const char *department, const pf_prompt *after,
                                      size_t limit);

/** Open prompts of one department (or of all when `department` is NULL)
 *  whose due time is before `now` (0 = the database clock), earliest
 *  first (one department: then highest priority first; all: then by
 *  prompt id).  *out is freed with pf_prompt_list_free().  Errors: PF_EINVAL
 *  (NULL out/db, a department that is not a lower-case word),
 *  PF_ECORRUPT. */
PF_EXTERN int pf_prompts_overdue(pf_prompt_list **out, pf_db *db,
                                 const char *department, pf_time now);

/** A pending prompt was seen by `staff`: status acknowledged, ack_by and
 *  ack_at set, journaled as "prompt.ack".  Errors: PF_EINVAL (NULL, zero
 *  id, bad staff, not pending), PF_ENOTFOUND, PF_EREADONLY, PF_ECORRUPT,
 *  PF_EFULL, PF_EIO. */
PF_EXTERN int pf_prompt_ack(pf_db *db, const pf_id *prompt, const char *staff);

/** A pending or acknowledged prompt was carried out by `staff`: status
 *  done, done_by and done_at set, off the department's work list,
 *  journaled as "prompt.done".  Errors: PF_EINVAL (NULL, zero id, bad
 *  staff, already done or dismissed), PF_ENOTFOUND, PF_EREADONLY,
 *  PF_ECORRUPT, PF_EFULL, PF_EIO. */
PF_EXTERN int pf_prompt_done(pf_db *db, const pf_id *prompt, const char *staff);

/** A pending or acknowledged prompt will not be carried out, and why
 *  (`reason` required, up to PF_NOTE_MAX bytes): status dismissed,
 *  done_by, done_at and dismiss_reason set, off the work list, journaled
 *  as "prompt.dismiss".  Errors: PF_EINVAL (NULL, zero id, bad staff,
 *  empty or overlong reason, already done or dismissed), PF_ENOTFOUND,
 *  PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO. */
PF_EXTERN int pf_prompt_dismiss(pf_db *db, const pf_id *prompt, const char *staff,
                                const char *reason);

/**
 * A cheap change check for other processes: *seq receives the sequence
 * number of the newest prompt routed to `department` (0 if none), read in
 * one read transaction.  Poll it; when it moves, pf_prompts_since() lists
 * what is new.  Errors: PF_EINVAL (NULL seq/db, a department that is not
 * a lower-case word), PF_ECORRUPT.
 */
PF_EXTERN int pf_prompts_seq(uint64_t *seq, pf_db *db, const char *department);

/** Prompts routed to `department` with a sequence number greater than
 *  `since`, in sequence order, whatever their status.  *out is freed with
 *  pf_prompt_list_free().  Errors: PF_EINVAL (NULL out/db, a department
 *  that is not a lower-case word), PF_ECORRUPT. */
PF_EXTERN int pf_prompts_since(pf_prompt_list **out, pf_db *db,
                               const char *department, uint64_t since);

/** Called once per new prompt after pf_fire() commits.  The prompt is
 *  borrowed for the duration of the call.  Runs on the thread that called
 *  pf_fire(); must not call pf_subscribe()/pf_unsubscribe(). */
typedef void (*pf_prompt_fn)(const pf_prompt *prompt, void *payload);

/**
 * Call `fn` for every new prompt routed to `department` (NULL: every
 * department) that this pf_db fires.  Prompts fired by other processes
 * are not delivered: poll pf_prompts_seq() for those.  Callbacks run
 * after the commit; nothing they do can undo it.  The subscription lasts
 * until pf_unsubscribe() or pf_close(); `payload` is the caller's and is
 * passed back untouched.
 * Errors: PF_EINVAL (NULL db or fn, bad department), PF_ENOMEM.
 */
PF_EXTERN int pf_subscribe(pf_db *db, const char *department, pf_prompt_fn fn,
                           void *payload);

/** Remove a subscription made with the same three arguments.
 *  Errors: PF_EINVAL (NULL db or fn, bad department), PF_ENOTFOUND (no
 *  such subscription). */
PF_EXTERN int pf_unsubscribe(pf_db *db, const char *department, pf_prompt_fn fn,
                             void *payload);

/* ------------------------------------------------------------------ */
/* Feedback and service quality (feedback.c, quality.c)                 */
/* ------------------------------------------------------------------ */

/** What a guest's feedback is; only complaints have a due time, prompts
 *  and a follow-up. */
typedef enum {
	PF_FEEDBACK_COMPLAINT = 0,
	PF_FEEDBACK_COMPLIMENT,
	PF_FEEDBACK_SUGGESTION
} pf_feedback_kind;

/** Feedback workflow: open -> in_progress; open or in_progress -> resolved
 *  (pf_feedback_resolve) or closed_unresolved (pf_feedback_update), both
 *  final. */
typedef enum {
	PF_FEEDBACK_OPEN = 0,
	PF_FEEDBACK_IN_PROGRESS,
	PF_FEEDBACK_RESOLVED,
	PF_FEEDBACK_CLOSED_UNRESOLVED
} pf_feedback_status;

/** What the call-back after a resolved complaint found
 *  (pf_feedback_followup). */
typedef enum {
	PF_OUTCOME_NONE = 0,        /**< no follow-up recorded yet */
	PF_OUTCOME_SATISFIED,
	PF_OUTCOME_NOT_SATISFIED
} pf_outcome;

#define PF_FEEDBACK_VERSION 1

/** A complaint, compliment or suggestion.  Strings are borrowed by
 *  pf_feedback_add() and owned by objects the library returns.  Starts
 *  with a version (new fields are only ever appended): start from
 *  PF_FEEDBACK_INIT; pf_feedback_add() refuses any other version than
 *  PF_FEEDBACK_VERSION with PF_EINVAL, and feedback the library returns
 *  has it set. */
typedef struct pf_feedback {
	unsigned int version;      /**< PF_FEEDBACK_VERSION */
	pf_id id;                  /**< filled in by pf_feedback_add() */
	pf_id guest;               /**< required */
	pf_date stay;              /**< arrival date of the stay concerned; 0 = none */
	pf_feedback_kind kind;
	const char *department;    /**< department concerned (lower-case word), required */
	const char *category;      /**< room, food, noise, staff, billing, other, or any
	                                lower-case word */
	const char *text;          /**< required, at most PF_NOTE_MAX bytes */
	int severity;              /**< 1 (minor) .. 3 (serious) */
	const char *recorded_by;   /**< staff, required */
	pf_time recorded_at;       /**< 0 = now */

	/* read-only */
	pf_feedback_status status;
	pf_time due;               /**< complaints: the sunset due time; 0 otherwise */
	const char *resolution;
	const char *resolved_by;
	pf_time resolved_at;
	pf_id followup_prompt;     /**< the call-back prompt made at resolution */
	pf_outcome outcome;
	const char *outcome_by;
	pf_time outcome_at;
} pf_feedback;

/** Start from this: kind complaint, severity 1, everything else empty. */
#define PF_FEEDBACK_INIT { PF_FEEDBACK_VERSION, {{0}}, {{0}}, 0, PF_FEEDBACK_COMPLAINT, \
	NULL, NULL, NULL, 1, NULL, 0, PF_FEEDBACK_OPEN, 0, NULL, NULL, 0, {{0}}, \
	PF_OUTCOME_NONE, NULL, 0 }

/** A list of feedback; free with pf_feedback_list_free(). */
typedef struct pf_feedback_list {
	size_t count;
	pf_feedback *items;        /**< oldest first (by recorded_at, then id) */
} pf_feedback_list;

/** "complaint", "compliment", "suggestion" (static strings); NULL for an
 *  unknown value.  Cannot fail. */
PF_EXTERN const char *pf_feedback_kind_name(pf_feedback_kind kind);
/** "open", "in_progress", "resolved", "closed_unresolved" (static
 *  strings); NULL if unknown.  Cannot fail. */
PF_EXTERN const char *pf_feedback_status_name(pf_feedback_status status);
/** "none", "satisfied", "not_satisfied" (static strings); NULL if unknown.
 *  Cannot fail. */
PF_EXTERN const char *pf_outcome_name(pf_outcome outcome);
/** Parse a feedback kind name (exact, lower case) into *out.  Errors:
 *  PF_EINVAL (NULL argument, unknown name). */
PF_EXTERN int pf_feedback_kind_parse(pf_feedback_kind *out, const char *name);
/** Parse a feedback status name (exact, lower case) into *out.  Errors:
 *  PF_EINVAL (NULL argument, unknown name). */
PF_EXTERN int pf_feedback_status_parse(pf_feedback_status *out, const char *name);

/**
 * Record a complaint, compliment or suggestion, in one write transaction.
 *
 * The caller fills in guest, kind, department, category, text, severity
 * and recorded_by (stay and recorded_at are optional; the read-only
 * fields are ignored).  recorded_at may lie in the past (an entry made
 * late) but not in the future.  A stay, when given, must be a stay of the
 * guest (its arrival date).  On success fb->id, fb->status (open) and
 * fb->due are filled in.
 *
 * A complaint also, in the same transaction:
 *  - gets its due time by the sunset rule: the end of the hotel's
 *    business day on which it was recorded (pf_options.business_day_end,
 *    in pf_options' time zone), or noon the next local day when recorded
 *    at or after pf_options.complaint_cutoff, or after the business day
 *    ended (see pf_complaint_due());
 *  - makes a prompt (rule "complaint") to the department concerned and
 *    one to "management" (the duty manager; only one prompt when the
 *    department is management), both due then, with priority normal,
 *    high or urgent for severity 1, 2 or 3, and event id
 *    "feedback:<feedback id>".  Subscribers (pf_subscribe) get them after
 *    the commit;
 *  - adds one to the guest's complaints_open and complaints_total, and
 *    makes its category and text what rules see as
 *    complaints.last_category and {complaint.latest}.
 *
 * `learn` (may be NULL) records a preference on the profile in the same
 * transaction, so the next stay avoids what went wrong: its category,
 * value, kind (like, dislike or need) and note are used (note NULL: the
 * feedback's text), the observer is fb->department and fb->recorded_by,
 * and it behaves as pf_pref_set() (its other fields are ignored).  For
 * example "feather pillow caused an allergy" learns the need
 * allergy.feathers, "room too noisy" the dislike room.location=near_lift.
 *
 * Journal: "feedback.add" (and "pref.set" for `learn`).
 * Errors: PF_EINVAL (NULL, unknown fb->version, zero guest id, unknown
 * kind, bad department or category word, empty/overlong/non-UTF-8 text or staff, severity not
 * 1..3, a time in the future, a bad `learn`, more than PF_PREFS_MAX
 * preferences), PF_ENOTFOUND (no such guest, or no such stay),
 * PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_feedback_add(pf_db *db, pf_feedback *fb, const pf_pref *learn);

/** Read one feedback.  *out is freed with pf_feedback_free().
 *  Errors: PF_EINVAL (NULL or zero id), PF_ENOTFOUND, PF_ECORRUPT. */
PF_EXTERN int pf_feedback_get(pf_feedback **out, pf_db *db, const pf_id *id);

/** Free a feedback returned by pf_feedback_get().  NULL is a no-op. */
PF_EXTERN void pf_feedback_free(pf_feedback *fb);

/** pf_feedback_query.status and .kind: no filter on that field. */
#define PF_FEEDBACK_ANY (-1)

#define PF_FEEDBACK_QUERY_VERSION 1

/** Which feedback pf_feedback_list_get() lists.  Transparent; starts with
 *  a version; new fields are only ever appended.  Start from
 *  PF_FEEDBACK_QUERY_INIT (every status, every kind). */
typedef struct pf_feedback_query {
	unsigned int version;      /**< PF_FEEDBACK_QUERY_VERSION */
	int status;                /**< a pf_feedback_status, or PF_FEEDBACK_ANY */
	int kind;                  /**< a pf_feedback_kind, or PF_FEEDBACK_ANY */
} pf_feedback_query;

#define PF_FEEDBACK_QUERY_INIT { PF_FEEDBACK_QUERY_VERSION, PF_FEEDBACK_ANY, PF_FEEDBACK_ANY }

/**
 * List feedback, oldest first: of one guest (a range scan of the guest's
 * index) or, with `guest` NULL, of every guest (a scan of all feedback).
 * `query` filters by status and kind; NULL lists every status and kind
 * (as PF_FEEDBACK_QUERY_INIT).  A guest with no feedback (or none that
 * exists) gives an empty list, not an error: the feedback of an erased
 * guest stays listed for the figures.  *out is freed with
 * pf_feedback_list_free().
 * Errors: PF_EINVAL (NULL out/db, zero guest id, unknown query version,
 * status or kind), PF_ECORRUPT.
 */
PF_EXTERN int pf_feedback_list_get(pf_feedback_list **out, pf_db *db, const pf_id *guest,
                                   const pf_feedback_query *query);

/** Free a feedback list.  NULL is a no-op. */
PF_EXTERN void pf_feedback_list_free(pf_feedback_list *list);

/**
 * Move feedback along its workflow without resolving it:
 * open -> in_progress, and open or in_progress -> closed_unresolved (the
 * hotel gives up: `note`, if given, is kept as the resolution and `staff`
 * and the time as resolved_by / resolved_at).  Resolving goes through
 * pf_feedback_resolve().  Closing a complaint unresolved takes one off
 * the guest's complaints_open and dismisses its open complaint prompts
 * (reason "complaint closed unresolved").  Any other transition is
 * refused with PF_EINVAL and nothing changes.  `note` (optional) is
 * journaled.
 *
 * Journal: "feedback.update".
 * Errors: PF_EINVAL (NULL, zero id, unknown or forbidden transition,
 * empty/overlong staff or note), PF_ENOTFOUND, PF_EREADONLY, PF_ECORRUPT,
 * PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_feedback_update(pf_db *db, const pf_id *id, pf_feedback_status status,
                                 const char *staff, const char *note);

/**
 * Resolve open or in-progress feedback: status resolved, `resolution`
 * (required) and `staff` recorded with the time.  For a complaint, in the
 * same transaction: the guest's complaints_open goes down by one, its
 * complaint prompts still open are marked done by `staff`, and a
 * follow-up prompt (rule "followup", normal priority) goes to
 * "front_office": "Call <name> back to confirm they are satisfied:
 * <category> complaint resolved — <resolution>", due at the end of the
 * NEXT business day in the hotel's time zone.  Its id is kept in
 * followup_prompt.
 *
 * Journal: "feedback.resolve".
 * Errors: PF_EINVAL (NULL, zero id, already resolved or closed, empty/
 * overlong staff or resolution), PF_ENOTFOUND, PF_EREADONLY,
 * PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_feedback_resolve(pf_db *db, const pf_id *id, const char *staff,
                                  const char *resolution);

/**
 * Record the outcome of the call-back after a complaint was resolved,
 * which closes the loop: outcome, `staff` and the time are stored, and
 * the follow-up prompt is marked done by `staff` if still open.
 * PF_OUTCOME_NOT_SATISFIED also sets the guest's not_satisfied_at to now
 * (a later satisfied call does not clear it: it says when the guest was
 * last found unhappy).  An outcome is recorded once.
 *
 * Journal: "feedback.followup".
 * Errors: PF_EINVAL (NULL, zero id, not a complaint, not resolved, an
 * outcome already recorded, outcome not SATISFIED or NOT_SATISFIED, bad
 * staff), PF_ENOTFOUND, PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_feedback_followup(pf_db *db, const pf_id *id, const char *staff,
                                   pf_outcome outcome);

/**
 * The sunset due time a complaint recorded at `recorded` (0 = now) gets,
 * by this database's time zone and business day (what
 * pf_feedback_add() stores in fb->due).  Zones come from the system
 * zoneinfo (TZif), read once at pf_open, never through TZ/localtime;
 * instants past a zone file's table follow the POSIX rule at its end.  A
 * local time that does not exist (clocks going forward) is moved on by
 * the gap; one that happens twice is taken the first time.
 * Errors: PF_EINVAL (NULL out/db, a time before 1970).
 */
PF_EXTERN int pf_complaint_due(pf_time *out, pf_db *db, pf_time recorded);

/** The instant the local calendar day `day` begins in the hotel's time
 *  zone (pf_options.timezone or utc_offset_minutes); for report ranges.
 *  Errors: PF_EINVAL (NULL, impossible date). */
PF_EXTERN int pf_day_start(pf_time *out, pf_db *db, pf_date day);

/** The hotel's offset from UTC in seconds (east positive) at instant t,
 *  to show times in local time.  Errors: PF_EINVAL (NULL). */
PF_EXTERN int pf_utc_offset(int *out, pf_db *db, pf_time t);

/**
 * Service-quality figures of one department, or of the whole hotel.
 *
 * PROMPTS counted are those created in [from, to), whatever their rule
 * (complaint and follow-up prompts included).  `cut` below is the
 * earlier of `to` and the database clock's now: an open prompt not yet
 * due at `cut` is not judged yet.
 *   done_on_time  status done, done_at <= due
 *   done_late     status done, done_at >  due
 *   never_done    status dismissed, or still open (pending/acknowledged)
 *                 with due < cut
 *   not_yet_due   still open with due >= cut (left out of the rate)
 *   omission_rate never_done / (done_on_time + done_late + never_done)
 *
 * COMPLAINTS counted are those recorded in [from, to); in a department's
 * row, those whose department concerned is that department.
 *   resolved          status resolved
 *   resolved_by_due   resolved with resolved_at <= due (the sunset time)
 *   on_time_rate      resolved_by_due / complaints
 *   median_resolve_seconds  median of resolved_at - recorded_at over the
 *                     resolved ones (even count: the mean of the middle
 *                     two, rounded down); -1 when none is resolved
 *   unresolved        complaints - resolved (open, in progress, or closed
 *                     unresolved)
 *   unresolved_rate   unresolved / complaints
 *   followups         complaints with an outcome recorded (a follow-up
 *                     call made; each counts once, per complaint)
 *   not_satisfied     of those, outcome not satisfied
 *   dissatisfaction_rate  not_satisfied / followups
 *   per_100_stays     complaints * 100 / the report's stays (the same
 *                     hotel-wide denominator in every row)
 * Compliments and suggestions recorded in [from, to) are counted too.
 *
 * Figures come from the records as they stand when the report is made: a
 * prompt created in the range but done later counts with when it was done.
 * Every rate is a fraction in 0..1 (per_100_stays excepted), or -1 when
 * its denominator is 0.
 */
typedef struct pf_quality_row {
	const char *department;    /**< NULL in the hotel-wide row */
	uint32_t prompts;
	uint32_t done_on_time;
	uint32_t done_late;
	uint32_t never_done;
	uint32_t not_yet_due;
	double omission_rate;
	uint32_t complaints;
	uint32_t resolved;
	uint32_t resolved_by_due;
	double on_time_rate;
	int64_t median_resolve_seconds;
	uint32_t unresolved;
	double unresolved_rate;
	uint32_t followups;
	uint32_t not_satisfied;
	double dissatisfaction_rate;
	double per_100_stays;
	uint32_t compliments;
	uint32_t suggestions;
} pf_quality_row;

/** A quality report; free with pf_quality_report_free(). */
typedef struct pf_quality_report {
	pf_time from, to;          /**< the range asked for, [from, to) */
	uint32_t stays;            /**< stays arriving in the range: their arrival date,
	                                as the start of that day in the hotel's time
	                                zone, is in [from, to); a day-use stay (0
	                                nights) counts as one stay */
	pf_quality_row overall;    /**< the whole hotel */
	size_t count;
	pf_quality_row *departments; /**< one row per department with a prompt or
	                                  feedback counted, sorted by name */
} pf_quality_report;

/**
 * Service-quality figures over [from, to), per department and overall,
 * as defined at pf_quality_row, read in one read transaction.  Cost: one
 * pass over every stored prompt, feedback and stay key (no index by
 * time), fine for a hotel's years of data; run it off the check-in path.
 * To report calendar days, take the bounds from pf_day_start().  *out
 * (with its department rows and names) is freed with
 * pf_quality_report_free().
 * Errors: PF_EINVAL (NULL, from < 0, to <= from), PF_ECORRUPT, PF_ENOMEM.
 */
PF_EXTERN int pf_quality_report_get(pf_quality_report **out, pf_db *db, pf_time from,
                                    pf_time to);

/** Free a quality report.  NULL is a no-op. */
PF_EXTERN void pf_quality_report_free(pf_quality_report *report);

/* ------------------------------------------------------------------ */
/* Journal: audit trail and change feed (journal.c)                     */
/* ------------------------------------------------------------------ */

/** One changed field of a journal entry. */
typedef struct pf_journal_field {
	const char *name;
	const char *value;         /**< text form; NULL when the field was removed */
} pf_journal_field;

/** One mutation, as recorded in the same transaction as the change. */
typedef struct pf_journal_entry {
	uint64_t seq;              /**< 1, 2, 3... in commit order */
	pf_time time;
	const char *actor;         /**< department/staff where known, else NULL */
	const char *op;            /**< "guest.put", "pref.set", "prompt.done", ... */
	pf_id guest;               /**< the guest concerned; zero if none */
	pf_id object;              /**< prompt, feedback or merge id; zero if none */
	const char *ref;           /**< event id, category, rule book name...; may be NULL */
	const pf_journal_field *fields;
	size_t field_count;
} pf_journal_entry;

/** A reader of the journal (opaque): made by pf_journal_iter(), advanced
 *  by pf_journal_next(), freed by pf_journal_iterator_free(). */
typedef struct pf_journal_iterator pf_journal_iterator;

/* ------------------------------------------------------------------ */
/* Data lifecycle: duplicates, merge, erase, backup (merge.c, erase.c,  */
/* backup.c) and import/export (import.c, export.c)                     */
/* ------------------------------------------------------------------ */

/** Why two profiles look like one guest (pf_duplicate.reasons bits). */
#define PF_DUP_EMAIL        0x01u
#define PF_DUP_PHONE        0x02u
#define PF_DUP_LOYALTY      0x04u
#define PF_DUP_NAME_BIRTH   0x08u   /**< same folded name and birth date */
#define PF_DUP_SIMILAR_NAME 0x10u   /**< similar name with the same phone */

/** One profile suggested as the same guest (pf_guest_duplicates). */
typedef struct pf_duplicate {
	pf_id guest;
	int score;                 /**< 0..100, higher is likelier */
	unsigned int reasons;      /**< PF_DUP_* */
} pf_duplicate;

/** Suggested duplicates; free with pf_duplicate_list_free(). */
typedef struct pf_duplicate_list {
	size_t count;
	pf_duplicate *items;       /**< highest score first */
} pf_duplicate_list;

/** Progress of a long operation: `done` items so far of `total` (0 when
 *  not known).  Return non-zero to stop early. */
typedef int (*pf_progress_fn)(uint64_t done, uint64_t total, void *payload);

/** A row an import refused, and why. */
typedef struct pf_import_reject {
	uint64_t line;             /**< 1-based line of the row in the file */
	const char *reason;
} pf_import_reject;

/** What pf_import_csv() / pf_import_jsonl() did; free with
 *  pf_import_report_free() (it owns rejects and their reasons). */
typedef struct pf_import_report {
	uint64_t rows;             /**< data rows read */
	uint64_t created;
	uint64_t updated;          /**< matched on external_id */
	uint64_t rejected;
	size_t reject_count;       /**< == rejected */
	pf_import_reject *rejects;
} pf_import_report;

#define PF_IMPORT_OPTIONS_VERSION 1

/** Options of pf_import_csv() / pf_import_jsonl().  Transparent; starts
 *  with a version; start from PF_IMPORT_OPTIONS_INIT; NULL means the
 *  defaults.  Read during the call only. */
typedef struct pf_import_options {
	unsigned int version;      /**< PF_IMPORT_OPTIONS_VERSION */
	size_t batch_size;         /**< rows per transaction; 0 = 10,000 (see
	                                pf_import_csv: memory and the writer lock
	                                grow with it) */
	const char *department;    /**< observer recorded on imported preferences;
	                                NULL = "import" */
	pf_progress_fn progress;   /**< may be NULL */
	void *payload;
} pf_import_options;

#define PF_IMPORT_OPTIONS_INIT { PF_IMPORT_OPTIONS_VERSION, 0, NULL, NULL, NULL }

/** What pf_retention_run() did. */
typedef struct pf_retention_report {
	uint64_t examined;         /**< profiles looked at */
	uint64_t anonymised;       /**< profiles with no stay in the period, anonymised */
} pf_retention_report;

/* The functions of these sections follow, grouped by module. */

/* ---- Journal (journal.c) ------------------------------------------ */

/*
 * Every mutation appends one entry in its own transaction: a rejected or
 * aborted call journals nothing, and neither does re-firing an event id.
 * Field values are text; "F.old" holds the value F had before, a NULL
 * value means "removed".  The actor is "department" or
 * "department/staff".  Entries written by the core modules:
 *
 *   op              guest  object  ref          fields
 *   guest.put       yes    -       -            name email phone language loyalty_no
 *                                               external_id birth_date tier tags consent
 *                                               (created: those set; updated: those
 *                                               changed, each with F.old)
 *   pref.set        yes    -       category     value kind count [note] [value.old]
 *                                               [kind.old]; actor: the observer
 *   pref.del        yes    -       category     value (NULL) value.old kind.old
 *   stay.add        yes    -       event id of  arrival departure [room] [property]
 *                                  a check-in   [party] [stays: the new count]
 *   rules.load      -      -       book name    rules (how many)
 *   event.fire      yes    -       event id     kind prompts [room] [cut: the rules
 *                                               whose prompt text was cut to
 *                                               PF_PROMPT_TEXT_MAX, "a,b"]
 *   prompt.ack      yes    prompt  event id     status status.old
 *   prompt.done     yes    prompt  event id     status status.old
 *   prompt.dismiss  yes    prompt  event id     status status.old reason
 *   journal.trim    -      -       -            before_seq removed
 *
 * Other modules document the entries they write next to their functions.
 * Erasing a guest replaces the personal values of its entries with
 * "[erased]" and keeps the entries.
 */

/**
 * Read the journal in sequence order: entries with seq > `since_seq`
 * (0: from the start), and when `guest` is not NULL only that guest's
 * entries (an index makes this a range scan; an unknown or erased guest
 * simply has few or no entries).  The iterator sees entries committed
 * before each of its reads, including ones committed after this call.
 *
 * The iterator holds no transaction between calls: it reads 256 entries
 * per short read transaction, so a slow consumer never pins old pages.
 * Free it with pf_journal_iterator_free(); it must not outlive `db`, and
 * one thread at a time may use it.
 *
 * Errors: PF_EINVAL (NULL out or db, an all-zero guest id), PF_ENOMEM.
 */
PF_EXTERN int pf_journal_iter(pf_journal_iterator **out, pf_db *db, uint64_t since_seq,
                              const pf_id *guest);

/**
 * The next entry.  Returns 0 and sets *entry, PF_ITEROVER at the end
 * (*entry NULL; a later call sees entries committed since), or an error.
 * The entry and its strings belong to the iterator and stay valid until
 * the next call on it or its free.  After an error the iterator is spent:
 * later calls return the same error.
 *
 * Errors: PF_EINVAL (NULL argument), PF_ECORRUPT (a stored entry failed
 * validation, or the guest index names a missing entry), PF_ENOMEM,
 * PF_EIO.
 */
PF_EXTERN int pf_journal_next(const pf_journal_entry **entry, pf_journal_iterator *it);

/** Free an iterator.  NULL is a no-op. */
PF_EXTERN void pf_journal_iterator_free(pf_journal_iterator *it);

/** *seq receives the sequence number of the newest entry ever written
 *  (0 for an empty journal; trimming does not move it).  Poll it to
 *  notice changes made by other processes.  Errors: PF_EINVAL (NULL
 *  argument), PF_ECORRUPT. */
PF_EXTERN int pf_journal_last_seq(uint64_t *seq, pf_db *db);

/**
 * Retention.  The journal keeps everything unless this is called: delete
 * the entries with seq < `before_seq` (and their index keys), then append
 * a "journal.trim" entry recording `before_seq` and how many were
 * removed, all in one transaction.  *removed (if not NULL) receives the
 * count.
 *
 * Errors: PF_EINVAL (NULL db), PF_ECORRUPT (an entry to delete failed
 * validation; nothing is deleted), PF_EREADONLY, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_journal_trim(pf_db *db, uint64_t before_seq, uint64_t *removed);

/* ---- Duplicates, merge, erasure, backup, consent, retention -------- */
/* (merge.c, erase.c, backup.c)                                         */

/**
 * Profiles that look like the same guest as `guest`, found through the
 * look-up indexes (no full scan):
 *  - PF_DUP_EMAIL, PF_DUP_PHONE, PF_DUP_LOYALTY: the same e-mail (case
 *    ignored), phone digits or loyalty number;
 *  - PF_DUP_NAME_BIRTH: the same name, ignoring case, accents and spacing,
 *    and the same (known) birth date;
 *  - PF_DUP_SIMILAR_NAME, only together with PF_DUP_PHONE: names that
 *    differ by a typing slip (an edit distance of at most a fifth of the
 *    shorter name, at least 1), hold the same words in another order, or
 *    share the last word and the first initial ("J. Smith", "John Smith").
 * Each reason counts as independent evidence with a weight (e-mail 0.80,
 * phone 0.60, loyalty number 0.90, name and birth date 0.70, similar name
 * 0.75): score = round(100 * (1 - product of (1 - weight))), so a shared
 * phone alone scores 60 and a shared phone with a similar name 90.
 * Pairs marked with pf_guest_not_duplicate() are never suggested.  *out
 * holds at most PF_FIND_LIMIT suggestions, highest score first (then by
 * id); none is an empty list.  Free it with pf_duplicate_list_free().
 *
 * Errors: PF_EINVAL (NULL, zero id), PF_ENOTFOUND (no such guest),
 * PF_ECORRUPT, PF_ENOMEM.
 */
PF_EXTERN int pf_guest_duplicates(pf_duplicate_list **out, pf_db *db, const pf_id *guest);

/** Free a duplicate list.  NULL is a no-op. */
PF_EXTERN void pf_duplicate_list_free(pf_duplicate_list *list);

/**
 * Record that `a` and `b` are different guests, so pf_guest_duplicates()
 * never suggests one for the other.  Symmetric; marking a pair again is a
 * no-op.  Journaled ("guest.not_duplicate", one entry per guest).  The
 * mark goes when either profile is erased.
 *
 * Errors: PF_EINVAL (NULL, zero id, a == b), PF_ENOTFOUND (either guest
 * missing), PF_EREADONLY, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_guest_not_duplicate(pf_db *db, const pf_id *a, const pf_id *b);

/**
 * Merge profile `duplicate` into `keep`, in one transaction, and return
 * the merge's id in *merge_out (zeroed first) for pf_guest_unmerge().
 *
 *  - Preferences: a category only the duplicate has is added as it was.
 *    A category both have: a need beats a like or dislike (a safety
 *    matter is never lost to a taste); the same value and kind are one
 *    preference whose count is the sum, first_seen the earlier and
 *    last_seen the later of the two, with the observer (department,
 *    staff) and note of the later observation (the other's note if the
 *    later has none); different values keep the one with the later
 *    last_seen (keep's on a tie).  More than PF_PREFS_MAX categories in
 *    all is refused.
 *  - Profile: keep's fields win; fields keep lacks (e-mail, phone,
 *    language, loyalty number, external id, birth date) are taken from
 *    the duplicate (so when both have an external id, only keep's still
 *    matches a re-import); tier is the higher; tags are the union (up to
 *    PF_TAGS_MAX); consent is the intersection (what both allowed);
 *    complaint counters add up, and keep's latest complaint stays unless
 *    it has none.
 *  - Stays move to keep (the stay counter is recounted).  Where both have
 *    a stay with the same arrival, keep's stays and the duplicate's is
 *    dropped.
 *  - Prompts, event records and feedback of the duplicate now name keep.
 *  - The duplicate's record and index entries are deleted.
 *  - A merge record (in `meta`) keeps the exact bytes of both guest
 *    records before the merge, the duplicate's stays, and the ids of what
 *    was re-pointed.  It holds personal data: pf_guest_erase() of either
 *    profile (or of a profile keep is later merged into) destroys it.
 * Journaled: "guest.merge" for keep and for the duplicate (object = the
 * merge id).  Cost: besides the two profiles, the duplicate's own
 * prompts (read through a per-guest index) and one pass over the `event`
 * database (events have no per-guest index).
 *
 * Errors: PF_EINVAL (NULL, zero ids, keep == duplicate, too many
 * preferences), PF_ENOTFOUND (either guest missing), PF_EREADONLY,
 * PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_guest_merge(pf_id *merge_out, pf_db *db, const pf_id *keep,
                             const pf_id *duplicate);

/**
 * Undo a merge, in one transaction.  The duplicate comes back byte for
 * byte (its record, stays and index entries), and its prompts, events and
 * feedback name it again.  If keep was not changed since the merge, its
 * record is restored byte for byte too.  If it was (a new preference, a
 * check-in, another merge into it), the restore is three-way: every
 * preference category and profile field the merge set returns to its
 * pre-merge value unless it was changed after the merge, in which case
 * the later change stays; complaint counters lose what the merge added;
 * the stay counter is recounted and `updated` is now.  Stays the merge
 * moved go back to the duplicate as they were at the merge.  The merge
 * record is deleted: unmerging twice gives PF_ENOTFOUND.  Journaled:
 * "guest.unmerge" for both profiles.
 *
 * Errors: PF_EINVAL (NULL, zero id), PF_ENOTFOUND (no such merge: never
 * made, already undone, or destroyed by an erasure), PF_EEXIST (keep was
 * since merged into another profile — undo that merge first — or the
 * duplicate's external id now belongs to another guest), PF_EREADONLY,
 * PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_guest_unmerge(pf_db *db, const pf_id *merge);

/**
 * Right to be forgotten, in one transaction: delete the profile (with its
 * preferences), its index entries and stays; replace the personal data in
 * its prompts (text, ack_by, done_by, dismiss_reason become "[erased]";
 * ids, department, status and times stay, so service figures stay
 * right), feedback and journal entries with the tombstone "[erased]";
 * destroy the merge records that hold bytes of it (following merges: a
 * profile merged into this one is the same person, and its prompts,
 * feedback and journal entries are tombstoned too) and its "not a
 * duplicate" marks.  Event records (ids and dates) stay.  Journaled as
 * "guest.erase" without personal data.
 *
 * LMDB leaves old page contents in free pages, so the bytes are not gone
 * from the data file until it is rewritten: follow with pf_compact() and
 * swap the directories (README, "Data management").
 *
 * Errors: PF_EINVAL (NULL, zero id), PF_ENOTFOUND, PF_EREADONLY,
 * PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_guest_erase(pf_db *db, const pf_id *guest);

/**
 * Write a compacted copy of the database into directory `dest_dir`
 * (created with mode 0700 if missing; an existing one must be empty):
 * every record is copied, in key order, into a fresh LMDB environment
 * (data.mdb, mode 0600, synced).  Only live records are copied: unlike a
 * page copy (mdb_env_copy2 with MDB_CP_COMPACT copies whole pages, whose
 * unused space can still hold bytes of deleted records), nothing of an
 * erased guest survives.  The copy is one consistent snapshot (one read
 * transaction); other processes keep reading and writing meanwhile, but
 * their changes after the snapshot are not in the copy.  Works on a
 * read-only database.  Open the copy with pf_open().
 *
 * Errors: PF_EINVAL (NULL or empty path, `dest_dir` not a directory),
 * PF_EEXIST (`dest_dir` is not empty), PF_EFULL, PF_EIO (on failure the
 * partial copy is removed), PF_ENOMEM.
 */
PF_EXTERN int pf_compact(pf_db *db, const char *dest_dir);

/**
 * A consistent hot backup into directory `dest_dir` (created with mode
 * 0700 if missing; an existing one must be empty): LMDB's compacting page
 * copy (mdb_env_copyfd2 with MDB_CP_COMPACT) of one read snapshot,
 * written to data.mdb (mode 0600) and synced.  Other processes keep
 * writing meanwhile.  To restore, pf_open() the copy (or move it into
 * place while nothing has the database open).  Faster than pf_compact(),
 * but unused space inside copied pages may still hold bytes of records
 * deleted before the backup: after an erasure, use pf_compact().
 *
 * Errors: as pf_compact().
 */
PF_EXTERN int pf_backup(pf_db *db, const char *dest_dir);

/**
 * Change a guest's consent flags (PF_CONSENT_*) and journal it
 * ("guest.consent" with fields consent and consent.old, each written as
 * "profiling,marketing", "profiling", "marketing" or "none"; actor =
 * `actor`, NULL when unknown).  Setting the flags the guest already has
 * stores and journals nothing.
 *
 * Errors: PF_EINVAL (NULL db/guest, zero id, unknown flags, empty, overlong
 * or non-UTF-8 actor), PF_ENOTFOUND, PF_EREADONLY, PF_ECORRUPT, PF_EFULL,
 * PF_EIO.
 */
PF_EXTERN int pf_guest_set_consent(pf_db *db, const pf_id *guest, unsigned int consent,
                                   const char *actor);

/**
 * Anonymise the profiles nobody has stayed under for more than
 * `days_without_stay` days, the way hotel systems apply a retention
 * period.  A profile's last activity is the latest departure of its stays
 * (a stay still to come counts), or its creation when it has none, as a
 * UTC calendar day; it is anonymised when today (by the database clock)
 * is more than `days_without_stay` days after that.
 *
 * Anonymising keeps the profile id, tier, consent flags, created, the
 * stay counter, the complaint counters and the stays themselves (dates,
 * room, property, party); it sets the name to "[anonymised]", removes
 * e-mail, phone, language, loyalty number, external id, birth date,
 * tags, preferences and the latest complaint's text, removes every index
 * entry of the profile (it can no longer be found by name or contact),
 * and, exactly as pf_guest_erase() does, replaces with "[erased]" the
 * personal text of its prompts (text, ack_by, done_by, dismiss_reason),
 * of its feedback (text, recorded_by, resolution, resolved_by,
 * outcome_by; kind, category, department, severity, dates, status and
 * outcome stay, so the figures stay right) and of its journal entries,
 * and destroys merge records holding its bytes (profiles merged into it
 * are treated the same way).
 * Each profile is journaled ("guest.anonymise", actor = `actor`), and so
 * is the run ("retention.run" with days, examined, anonymised).
 * Profiles already anonymised are examined but not counted again.
 *
 * The work is done in transactions of up to 500 profiles: if it fails
 * midway, the profiles of earlier transactions stay anonymised and `out`
 * reports them.  `out` (if not NULL) is zeroed first: examined = every
 * profile looked at, anonymised = the profiles anonymised by this run.
 * Cost: one pass over all profiles and their stays, plus the prompts of
 * each anonymised profile (read through a per-guest index).
 *
 * Errors: PF_EINVAL (NULL db, days_without_stay 0, bad actor),
 * PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_retention_run(pf_retention_report *out, pf_db *db,
                               uint32_t days_without_stay, const char *actor);

/* ---- Export and bulk import (export.c, import.c) ------------------ */

/**
 * Everything held about one guest (right of access), as one JSON object
 * built with jansson and written into a new NUL-terminated UTF-8 string
 * *out, freed with pf_string_free():
 *
 *   { "format": "libprofile.guest-export", "version": 1,
 *     "exported_at": "2026-11-23T09:00:00Z",
 *     "guest": { "id", "external_id", "name", "email", "phone", "language",
 *                "country", "loyalty_no", "birth_date", "tier", "tags": [...],
 *                "consent": ["profiling", ...], "created", "updated",
 *                "stays", "complaints_open", "complaints_total",
 *                "not_satisfied_at" },          (unknown values are null)
 *     "preferences": [ { "category", "value", "kind",
 *                        "observed_by": { "department", "staff" }, "note",
 *                        "count", "first_seen", "last_seen" } ],
 *     "stays":       [ { "arrival", "departure", "property", "room", "party" } ],
 *     "prompts":     [ { "id", "event_id", "department", "rule", "priority",
 *                        "text", "status", "created", "due", "ack_by",
 *                        "ack_at", "done_by", "done_at", "dismiss_reason" } ],
 *     "feedback":    [ { "id", "kind", "department", "category", "text",
 *                        "severity", "stay", "recorded_by", "recorded_at",
 *                        "status", "due", "resolution", "resolved_by",
 *                        "resolved_at", "followup_prompt", "outcome",
 *                        "outcome_by", "outcome_at" } ],
 *     "journal":     [ { "seq", "time", "actor", "op", "object", "ref",
 *                        "fields": [ [name, value-or-null], ... ] } ] }
 *
 * Times are ISO 8601 UTC strings ("2026-11-23T09:00:00Z"), dates
 * "YYYY-MM-DD", ids UUID text; an absent time or date is null.  Stays are
 * in arrival order, prompts in creation order, journal entries in
 * sequence order.  The profile, stays and prompts are read in one read
 * transaction; feedback and the journal each in their own, so a change
 * committed meanwhile may show in one section and not another.  Cost: the
 * guest's own records (prompts are found through a per-guest index).
 *
 * Errors: PF_EINVAL (NULL, zero id), PF_ENOTFOUND (no such guest),
 * PF_ECORRUPT, PF_ENOMEM.
 */
PF_EXTERN int pf_guest_export_json(char **out, pf_db *db, const pf_id *guest);

/** Free a string the library returned (pf_guest_export_json()).  NULL is
 *  a no-op. */
PF_EXTERN void pf_string_free(char *s);

/**
 * Import guests and their preferences from a CSV file (RFC 4180: comma
 * separated, fields with commas, quotes or line breaks in double quotes,
 * a quote doubled inside them; LF or CRLF line ends; a UTF-8 byte order
 * mark at the start is skipped; UTF-8 text).  The first row names the
 * columns, in any order (names of the fixed columns ignore case):
 *
 *   id           the guest's libprofile UUID (pf_export_csv writes it, so
 *                an export re-imports onto the same guests)
 *   external_id  the guest's id in the source system (pf_guest.external_id)
 *   name         required in every row
 *   email, phone, language, loyalty_no
 *   country      ISO 3166-1 alpha-3 code ("PRT"; letters in either case);
 *                empty or NULL (as booking exports write it) means not
 *                known and leaves the stored country as it is
 *   tier         none, silver, gold, platinum or vip
 *   tags         lower-case words separated by ';'
 *   birth_date   YYYY-MM-DD
 *   consent      "profiling", "marketing", "profiling;marketing" or "none"
 *   pref:CAT     a preference in category CAT (e.g. pref:room.floor): the
 *                value, optionally prefixed "like:", "dislike:" or "need:"
 *                for its kind (default like): "need:feather allergy"
 *   like:CAT, dislike:CAT, need:CAT
 *                a preference of that kind; the value is taken as written
 *   note:CAT     a note for the preference in CAT
 *
 * A cell that is empty clears that field of an existing guest (tier
 * becomes none); a column that is absent leaves the field as stored.
 * Exceptions: an empty consent cell leaves consent as it is (new guests
 * get PF_CONSENT_PROFILING), an empty or NULL country cell leaves the
 * country as it is, and an empty preference cell sets nothing.
 * An unknown or repeated column, or a header without a name column,
 * refuses the whole file before anything is written.
 *
 * Matching: a row whose external_id belongs to a stored guest updates
 * that guest (a row with an id as well must name the same guest); else a
 * row whose id names a stored guest updates it; else the row creates a
 * guest (with the row's id, if given).  Re-running an import is therefore
 * idempotent for rows with an external_id or an id: the second run
 * reports every row as updated and changes no stored byte.  An update
 * replaces the fields the file has (as pf_guest_put() does); preferences
 * the row does not name stay; a preference the guest already has with the
 * same value and kind is left as it is (count and times unchanged; only a
 * new note is taken); a different value or kind replaces it as a new
 * observation (count 1, first and last seen now) by `opts->department`.
 *
 * Every row is checked completely before anything is written: exactly the
 * checks of pf_guest_put() and pf_pref_set(), plus the file's own (bad
 * quoting, a row with more or fewer fields than the header, bytes that
 * are not UTF-8, an unknown tier or consent word, a date that is not
 * YYYY-MM-DD, a country that is not three letters).  A row that fails is
 * left out and reported in (*out)->rejects with its line (the line its
 * first byte is on) and the reason; it never stops the import or costs
 * the rows around it.
 *
 * Reasons, and pf_errmsg() after an import, name the place (CSV: "column
 * 4 'email'"; JSON Lines: "field 'email'", and the character column of a
 * JSON syntax error), the line, and the library's own guest ids; they
 * never repeat a value from the file (a name, e-mail, phone, loyalty
 * number, external id, tag, note or preference value may be personal
 * data, and reasons end up in logs).  Header names and JSON keys are
 * quoted only when they look like names (letters, digits, '_', '.', ':',
 * '-'; at most 40 bytes): "unknown column 'emial' (column 3; ...)"; an
 * unknown tier or consent word only when it is 1 to 16 letters ("column
 * 7 'tier': 'diamond' is not one of ...").  A row
 * with broken quoting is cut at the end of its first line and parsing
 * resumes on the next line, so an unclosed quote swallows nothing.
 *
 * Good rows are written opts->batch_size at a time (default 10,000), one
 * write transaction per batch; a batch holds the database's single writer
 * while it is written (other writers wait for at most one batch), and
 * memory for its rows and the pages it changes: importing 1M guests into
 * a database that grows to 1M peaks at about 200 MB at the default, 33 MB
 * with batches of 1,000, which flush five times as often and were a third
 * slower to a disk.  A row that only the stored data can refuse (e.g. an
 * external_id that belongs to another guest than the row's id, or a guest
 * that would exceed PF_PREFS_MAX preferences) is found before it writes
 * and rejected alone, the rest of its batch going in; should a row fail
 * after writing, its batch is redone row by row, and again only that row
 * is rejected.
 *
 * Durable when it returns: each batch's commit flushes the pages it wrote
 * but not the meta page that makes it current (LMDB's MDB_NOMETASYNC for
 * that commit only, which keeps the database intact after a power loss;
 * MDB_NOSYNC would not), and one forced sync after the last batch makes
 * everything durable before the import returns, also when it ends early
 * with an error or at the progress callback's request.  Until then a
 * power loss may undo the last batches, never leave a part of one; a
 * re-run is idempotent.  Commits of other threads on the same handle
 * during the import stay fully synchronous (the flag is chosen per
 * commit, under LMDB's write lock), and other processes are unaffected.
 *
 * Each guest created or changed is
 * journaled as "import.row" (actor = the department, ref = the file's
 * base name; fields: line, action created/updated, the profile fields
 * that changed with their old values, and for each preference written
 * pref (the category), value, kind (only when not "like") and note (when
 * given)); a row that changes nothing journals nothing.
 *
 * opts->progress, if set, is called after each batch commits (the last
 * call after the final sync) with the
 * rows read so far (good and rejected) and the total from a quick
 * pre-count of the file's records (0 for a pipe); the last call has
 * done == total.  If it returns non-zero the import stops there: what was
 * committed stays, and the report covers the rows read.  NULL opts means
 * the defaults.
 *
 * *out (freed with pf_import_report_free()) says how many rows were read,
 * created, updated (matched a stored guest, changed or not) and rejected;
 * rows == created + updated + rejected.  Rejects are in line order.
 *
 * Errors (nothing is reported; batches committed before a failure stay,
 * and re-running the import is safe): PF_EINVAL (NULL out/db/path, empty
 * path, a directory, unknown options version, a department that is not a
 * lower-case word, a bad header row, no header row), PF_ENOTFOUND (no
 * such file), PF_EIO (the file cannot be read), PF_EREADONLY, PF_EFULL,
 * PF_ENOMEM.
 */
PF_EXTERN int pf_import_csv(pf_import_report **out, pf_db *db, const char *path,
                            const pf_import_options *opts);

/**
 * Import guests from a JSON Lines file: one JSON object per line (blank
 * lines are skipped; a UTF-8 byte order mark on the first line too), with
 * the keys of pf_import_csv()'s columns: "id", "external_id", "name",
 * "email", "phone", "language", "country", "loyalty_no", "tier",
 * "birth_date" (strings), "tags" and "consent" (arrays of strings, or one string with
 * ';' between items), and "prefs": an object mapping each category to its
 * value (a string, with the optional "like:"/"dislike:"/"need:" prefix)
 * or to an object { "value": ..., "kind": "like"|"dislike"|"need",
 * "note": ... }; a category mapped to null or "" sets nothing.  A key
 * that is absent leaves the field as stored; null (or "") clears it,
 * except consent and country, which null or "" (or, for country, "NULL")
 * leave as they are.  A line
 * that is not valid JSON, not an object, has an unknown key, a duplicate
 * key or a value of the wrong type is rejected with its line number.
 * Matching, validation, batches, journal, progress, report and errors are
 * as for pf_import_csv().
 */
PF_EXTERN int pf_import_jsonl(pf_import_report **out, pf_db *db, const char *path,
                              const pf_import_options *opts);

/** Free an import report and its reject reasons.  NULL is a no-op. */
PF_EXTERN void pf_import_report_free(pf_import_report *report);

/**
 * Export every guest with its preferences as JSON Lines, one object per
 * guest in id order, in exactly the format pf_import_jsonl() reads:
 * "id", "external_id", "name", "email", "phone", "language", "country",
 * "loyalty_no", "tier", "tags", "birth_date", "consent" (keys of unknown
 * values left out) and "prefs" (a like without a note as its value
 * string, anything else as { "value", "kind", "note" }).  Importing the
 * file into an empty database gives the same guests: same ids, profile
 * fields and preference values, kinds and notes (observers, counts and
 * times of preferences, stays and the rest are not part of the format).
 *
 * The guests are read in one read transaction (a consistent snapshot;
 * writers are not blocked).  The file is written next to `path` under a
 * temporary name with mode 0600 (it holds personal data), synced, and
 * renamed onto `path` only when complete: a failed export leaves no
 * partial file, and replaces nothing.
 *
 * Errors: PF_EINVAL (NULL or empty argument), PF_ENOTFOUND (the directory
 * of `path` does not exist), PF_EFULL (the disk is full), PF_EIO (cannot
 * write), PF_ECORRUPT, PF_ENOMEM.
 */
PF_EXTERN int pf_export_jsonl(pf_db *db, const char *path);

/**
 * Export every guest with its preferences as CSV in the format
 * pf_import_csv() reads: a header row, then one row per guest in id
 * order.  Columns: id, external_id, name, email, phone, language, country,
 * loyalty_no, tier, tags, birth_date, consent, then for every preference
 * category any guest has, in category order, pref:CAT (the value, with a
 * "dislike:"/"need:" prefix for those kinds, and "like:" for a like whose
 * value itself starts with one of the prefixes) and, when any guest has a
 * note in that category, note:CAT.  Fields are quoted when they hold a
 * comma, a quote, a line break or surrounding spaces.  Writing, the
 * snapshot, round trip and errors are as for pf_export_jsonl().
 */
PF_EXTERN int pf_export_csv(pf_db *db, const char *path);

/* ------------------------------------------------------------------ */
/* Verifying a database                                                 */
/* ------------------------------------------------------------------ */

/*
 * pf_verify() reads the whole database in one read transaction and checks
 * what the library keeps true of it: every record decodes, keys have their
 * shape, every index entry points at a record that carries it and every
 * record has its index entries, and the counters on each guest record
 * agree with its stays and complaints.  It changes nothing, takes no
 * write lock, and other processes keep reading and writing meanwhile
 * (their changes after its snapshot are not seen).
 *
 * WHAT LMDB 0.9 CANNOT DETECT.  LMDB keeps no checksums.  It checks a
 * page's number and type when it reads the page (a mismatch is MDB_CORRUPTED
 * or MDB_PAGE_NOTFOUND, which pf_verify reports as damage of that
 * database), but nothing else:
 *
 *  - A flipped bit in a key or a value is read as it is.  In a record,
 *    pf_verify's strict decoding or its cross-checks usually see it; a bit
 *    that turns one valid value into another (a date, a count, a letter of
 *    a preference, a status) decodes as a valid record, and only the
 *    checks below that value takes part in can notice.
 *  - A flipped bit in a branch page, a page pointer, a node's offset or
 *    size, or a page header makes mdb_cursor_get() follow garbage: it may
 *    return records of another subtree (pf_verify then reports keys out of
 *    place, missing index entries or an entry count that disagrees), or
 *    read outside the file and kill the process with SIGSEGV or SIGBUS.
 *    No library call can survive that, pf_verify included.
 *  - Free pages and old page versions are not read at all.
 *
 * So run pf_verify in a child process: fork(), pf_open() the directory in
 * the child (never use the parent's pf_db after fork), call pf_verify and
 * pass the report back (a pipe, or exit status); when the child is killed
 * by a signal, the data file is damaged where LMDB cannot survive it.  In
 * both cases of damage (a report with problems, or a killed child) stop
 * writing to the database and restore it from the latest backup
 * (pf_backup() / pf_compact(); README, "Data management"); keep the damaged
 * copy for analysis.  `frontdesk verify` does the child-process part.
 */

/** One problem pf_verify() found.  Strings are owned by the report. */
typedef struct pf_verify_problem {
	const char *database;      /**< "meta", "guest", "contact", "name", "stay",
	                                "rule", "event", "prompt", "queue",
	                                "feedback" or "journal" (static) */
	const char *key;           /**< the record's key, written as our ids, sequence
	                                numbers, dates and lengths, e.g.
	                                "guest 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
	                                "seq 42", "e: [21 bytes] -> guest ...";
	                                keys holding guest data (contact and name
	                                entries) never show that data; other
	                                unreadable keys are in hex */
	const char *problem;       /**< what is wrong, naming fields, databases and
	                                ids, never guest data */
} pf_verify_problem;

/** Records read in one database. */
typedef struct pf_verify_database {
	const char *name;          /**< as pf_verify_problem.database (static) */
	uint64_t records;          /**< keys read (for `contact`, key/id pairs) */
	uint64_t problems;         /**< problems found in it, listed or not */
} pf_verify_database;

/** At most this many problems are listed; more are counted. */
#define PF_VERIFY_PROBLEMS_MAX 10000

/** What pf_verify() found; free with pf_verify_report_free(). */
typedef struct pf_verify_report {
	size_t count;              /**< problems listed; 0: the database is clean */
	pf_verify_problem *items;  /**< in the order found: by database, then key */
	uint64_t problems;         /**< problems found; more than count when over
	                                PF_VERIFY_PROBLEMS_MAX */
	size_t database_count;     /**< every database walked, in a fixed order */
	pf_verify_database *databases;
} pf_verify_report;

/**
 * Check the whole database in one read transaction (see above) and
 * return what was found in a new report *out, freed with
 * pf_verify_report_free().  The checks:
 *
 *  - every key has its shape (16-byte ids, big-endian sequence numbers,
 *    a stay key = guest id + big-endian arrival date) and every record
 *    decodes strictly; LMDB's own entry count of each database matches
 *    the records read;
 *  - guest: each record's contact ("e:" "p:" "l:" "x:") and name index
 *    entries exist (an anonymised profile has no name entry: retention
 *    removes it); `stays` equals the number of its stay records;
 *    complaints_total equals the number of complaint feedback records
 *    naming it and complaints_open those still open or in progress
 *    (merge moves a duplicate's feedback and adds its counters to the
 *    kept profile, so both hold there too; an erased guest's feedback
 *    stays, with no guest to count it);
 *  - contact and name: each entry names an existing guest whose record
 *    produces that key; an external id ("x:") names one guest only;
 *  - stay: each names an existing guest; departure is not before arrival;
 *  - event: each prompt it lists exists, came from that event and has
 *    the event's guest;
 *  - prompt: the record holds the id of its key; it is in its department's
 *    feed (sequence number, not above meta "seq.prompt" and
 *    "seq.dept:DEPT") and in its guest's index, and in the department's
 *    open work list and the overdue list exactly while pending or
 *    acknowledged;
 *  - queue: each work-list, overdue, feed and per-guest entry names an
 *    existing prompt with that department, due time, priority, sequence
 *    number, guest and an open status where the list requires one;
 *  - feedback: each record has its per-guest index entry and the prompts
 *    it made exist; each index entry names a record of that guest and
 *    time;
 *  - journal: each entry's sequence number is at most meta "seq.journal"
 *    and an entry about a guest has its per-guest index entry; each index
 *    entry names an existing entry about that guest;
 *  - meta: known keys only; counters are 8 bytes; merge records decode
 *    and are linked from both profiles ("mg:"), every link names a merge
 *    record of that profile, and every "not a duplicate" mark has its
 *    mirror.
 *
 * Records of guests that no longer exist (erased, or merged away) are not
 * problems where the library keeps them: prompts, feedback, events and
 * journal entries.  Problems name the database and key and never quote
 * guest data.  Cost: one pass over every database, plus a look-up per
 * index entry and a range read of each guest's stays; memory grows with
 * the number of feedback records (a few dozen bytes each) and of problems
 * listed.
 *
 * Returns 0 when the walk completed, whatever it found (report->count 0:
 * the database is clean).  Damage LMDB detects in a database's pages
 * (MDB_CORRUPTED, MDB_PAGE_NOTFOUND) is a problem of that database: its
 * walk stops there and the others go on.  Damage LMDB cannot detect may
 * crash the process (see above).
 *
 * Errors (the walk could not run; *out is NULL): PF_EINVAL (NULL out or
 * db), PF_ENOMEM, PF_EIO, PF_EBUSY (no reader slot).
 */
PF_EXTERN int pf_verify(pf_verify_report **out, pf_db *db);

/** Free a report of pf_verify() and its strings.  NULL is a no-op. */
PF_EXTERN void pf_verify_report_free(pf_verify_report *report);


/* ------------------------------------------------------------------ */
/* A hotel chain: the property name                                     */
/* ------------------------------------------------------------------ */

/** Longest property name (pf_options.property), in bytes. */
#define PF_PROPERTY_MAX 32

/**
 * The property name of `db` into *out: the one stored in the database
 * (pf_options.property), owned by the handle and valid until pf_close(),
 * or NULL when it has none.  Errors: PF_EINVAL (NULL argument).
 */
PF_EXTERN int pf_property(const char **out, pf_db *db);

/** Size of pf_digest()'s digest, in bytes. */
#define PF_DIGEST_SIZE 32

/**
 * A digest of the state the properties of a chain share into `out`: a
 * SHA-256 over every guest profile (each field, tags, consent, counters),
 * its preferences (category, value, kind, department, staff, note,
 * count, first and last seen), its not-duplicate marks
 * (pf_guest_not_duplicate), its stays, and every feedback record
 * (without the prompts it made and its due time, which each property
 * works out in its own zone), in key order.  Left out, because each
 * property keeps them for itself: rules, events, prompts and queues, the
 * journal, and the profiles' created/updated times.  Equal digests mean
 * the same shared state; any difference in it changes the digest.  Use it
 * to compare two properties, or a backup with its source.  One read
 * transaction over the guest, stay and feedback databases.
 * Errors: PF_EINVAL (NULL argument), PF_ECORRUPT (a record that does not
 * decode: the message names it), PF_ENOMEM, PF_EBUSY (no reader slot).
 */
PF_EXTERN int pf_digest(unsigned char out[PF_DIGEST_SIZE], pf_db *db);


/* ------------------------------------------------------------------ */
/* A hotel chain: the change feed and the apply step                   */
/* ------------------------------------------------------------------ */

/*
 * A database opened with a property name (pf_options.property) records
 * every change to the shared state (profiles, preferences, stays,
 * feedback, merges and unmerges, erasures) as a *change*: an opaque,
 * self-describing byte string that names its origin property and its
 * sequence number there (1, 2, 3... per property), and carries each
 * changed value with a hybrid logical clock stamp (physical seconds of
 * the pf_options clock, shifted left 20 bits, plus a counter; Kulkarni
 * et al. 2014).  The change is written in the same transaction as the
 * mutation, so the change log is the outbox: nothing needs the network.
 * A transport (libprofile-sync, or the caller's own) publishes a
 * property's changes with pf_changes_read() and hands every other
 * property's changes to pf_changes_apply().
 *
 * Conflicts resolve the same way at every property, whatever the order
 * in which changes arrive: each profile field is its own register, and
 * the later stamp (then the greater property name) wins; a preference is
 * one register per category for a need and one for a like or dislike, and
 * a need is kept over a like or dislike made concurrently; a preference's
 * "times observed" and a profile's counters are per-property counters
 * summed across the chain; a stay (guest, arrival) and a feedback record
 * are each one register.  An erasure wins over everything: changes to an
 * erased guest are discarded on arrival and the guest never reappears; it
 * travels as the guest's id alone.  A merge travels as an alias from the
 * duplicate to the kept profile, so a change made elsewhere to the
 * duplicate lands on the kept one; an unmerge removes the alias.  The
 * rule book, events, prompts and queues stay local to each property.
 * A database without a property name records no changes.
 */

/** A remote stamp more than this many seconds ahead of the local clock
 *  is refused (reported in pf_apply_report.refused and applied later,
 *  once the local clock has caught up), so one broken clock cannot win
 *  every conflict. */
#define PF_CHAIN_AHEAD_MAX 900

/** Most changes pf_changes_read() returns, and pf_changes_apply() takes,
 *  in one call. */
#define PF_CHANGES_MAX 10000

/** One change, as pf_changes_read() returns it or a transport received
 *  it. */
typedef struct pf_change {
	uint64_t seq;             /**< its sequence number at its origin */
	const unsigned char *data;
	size_t len;
} pf_change;

/** A list of changes; pf_change_list_free() frees it and its bytes. */
typedef struct pf_change_list {
	size_t count;
	pf_change *items;
} pf_change_list;

/**
 * The changes this property made after sequence number `after`, oldest
 * first, at most `max` (1 to PF_CHANGES_MAX), into *out (empty when
 * there are none).  Free it with pf_change_list_free().  Changes of
 * other properties are never returned.
 * Errors: PF_EINVAL (NULL argument, max out of range, or the database has
 * no property name), PF_ENOMEM, PF_ECORRUPT, PF_EBUSY.
 */
PF_EXTERN int pf_changes_read(pf_change_list **out, pf_db *db, uint64_t after, size_t max);

/** Free a pf_change_list and its bytes.  NULL is a no-op. */
PF_EXTERN void pf_change_list_free(pf_change_list *list);

/**
 * This property's last change sequence number into *seq (0 when it has
 * made none).  Errors: PF_EINVAL (NULL argument or no property name),
 * PF_EBUSY.
 */
PF_EXTERN int pf_changes_last(uint64_t *seq, pf_db *db);

/**
 * The origin property of a change into `origin` (NUL-terminated) and its
 * sequence number there into *seq, without a database: a transport names
 * the message with them (libprofile-sync: subject and Nats-Msg-Id).
 * Errors: PF_EINVAL (NULL argument), PF_ECORRUPT (not a change).
 */
PF_EXTERN int pf_change_origin(char origin[PF_PROPERTY_MAX + 1], uint64_t *seq,
                               const unsigned char *data, size_t len);

/** What pf_changes_apply() did with the changes it was given. */
typedef struct pf_apply_report {
	size_t applied;           /**< new changes applied (also the waiting
	                               ones they released) */
	size_t duplicates;        /**< already applied: no effect */
	size_t discarded;         /**< applied, but about an erased guest: no effect */
	size_t refused;           /**< stamped more than PF_CHAIN_AHEAD_MAX seconds
	                               ahead: kept back, not applied */
	size_t own;               /**< this property's own changes: no effect */
	size_t waiting;           /**< changes held after this call (of this call
	                               and earlier ones) until the changes before
	                               them at their origin arrive, or their stamp
	                               fits the clock: not yet applied.  Staying
	                               above 0 after every round means the stream
	                               no longer holds what they wait for: rejoin
	                               (pf_chain_rejoin) */
} pf_apply_report;

/**
 * Apply `n` changes of other properties (0 to PF_CHANGES_MAX, in any
 * order, duplicates allowed) in one write transaction, which also records
 * each origin's high-water mark, so a redelivered change is a no-op and
 * each origin's changes take effect in their order: a change whose
 * predecessors have not arrived waits (stored) until they do.  The result
 * depends only on the set of changes applied, never on their order; a
 * transport may acknowledge the changes once this returns 0.  `report`
 * may be NULL.  Nothing is applied when it fails.
 * Errors: PF_EINVAL (NULL argument, n too large, or no property name),
 * PF_ECORRUPT (a change that does not decode: the message names its index
 * in the array; nothing is applied), PF_EREADONLY, PF_EFULL, PF_ENOMEM,
 * PF_EIO.
 */
PF_EXTERN int pf_changes_apply(pf_db *db, const pf_change *changes, size_t n,
                               pf_apply_report *report);

/**
 * The high-water mark of `origin` into *seq: the sequence number up to
 * which its changes have been applied here (this property's own last
 * change for its own name; 0 for an origin never heard of).
 * Errors: PF_EINVAL (NULL argument, bad property name), PF_EBUSY.
 */
PF_EXTERN int pf_chain_mark(uint64_t *seq, pf_db *db, const char *origin);

/**
 * A transport's cursor over this property's own changes: the sequence
 * number up to which they have been published, stored in the database
 * (pf_chain_set_published) so a restart publishes only what is new.
 * Errors: PF_EINVAL (NULL argument, no property name, or a sequence
 * number beyond pf_changes_last()), PF_EREADONLY, PF_EFULL, PF_EBUSY.
 */
PF_EXTERN int pf_chain_published(uint64_t *seq, pf_db *db);
PF_EXTERN int pf_chain_set_published(pf_db *db, uint64_t seq);

/**
 * Make a database restored from another property's backup the database
 * of `property`, a property that has been away longer than the transport
 * keeps messages (or lost its own database).  The backup keeps the shared
 * state it holds and its high-water marks; this property's own sequence
 * continues after the highest of its changes the backup had applied, the
 * backup's own change log is dropped (its origin still publishes it), and
 * the epoch (pf_chain_epoch) is incremented so the transport reads its
 * stream again from the start (its changes after the backup's marks
 * apply; the rest are duplicates).  `db` must be opened writable without
 * pf_options.property.
 * Errors: PF_EINVAL (NULL argument, bad property name), PF_EREADONLY,
 * PF_EFULL, PF_EBUSY.
 */
PF_EXTERN int pf_chain_rejoin(pf_db *db, const char *property);

/** The rejoin epoch of this database into *epoch (0 until the first
 *  pf_chain_rejoin()); a transport names its position with it.
 *  Errors: PF_EINVAL, PF_EBUSY. */
PF_EXTERN int pf_chain_epoch(uint64_t *epoch, pf_db *db);

#ifdef __cplusplus
}
#endif

#endif /* LIBPROFILE_H */
