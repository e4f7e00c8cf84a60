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
 *    a path that is already open in this process fails with PF_EBUSY.
 *    Several *processes* may open the same directory at once (front desk,
 *    kiosks, a Python integration); one writer at a time, readers never
 *    block.
 *  - Do not use a pf_db after fork().  A child process opens the database
 *    itself.
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
 * Storage layout, the rule language and the design behind this API are
 * described in README.md ("Rule language") and DESIGN.md.
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
 *  written by a newer schema is refused with PF_EVERSION. */
#define PF_SCHEMA_VERSION 1

/**
 * The library's version at run time, to detect a header/library mismatch.
 * Any of the pointers may be NULL.  Returns PF_VERSION_STRING of the
 * library that was linked (static storage).
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
	PF_ENOMEM    =  -4,  /**< out of memory */
	PF_EIO       =  -5,  /**< the operating system failed a read or write */
	PF_ECORRUPT  =  -6,  /**< a stored record failed validation */
	PF_EFULL     =  -7,  /**< the disk is full: the map could not grow further */
	PF_EBUSY     =  -8,  /**< already open in this process, or too many readers */
	PF_ESYNTAX   =  -9,  /**< a rule book failed to parse; see pf_rule_error */
	PF_EVERSION  = -10,  /**< the database was written by a newer schema */
	PF_EREADONLY = -11,  /**< a write on a database opened read-only */
	PF_ITEROVER  = -12   /**< an iterator has no more items (not a failure) */
} pf_error_code;

/** Static, human-readable text for a return code.  Never NULL. */
PF_EXTERN const char *pf_strerror(int code);

/**
 * The detail of this thread's last failure, e.g.
 * "pf_guest_put: email is not valid UTF-8" or
 * "hotel.rules:12:8: expected a department name after 'notify'".
 * Thread-local; valid until this thread's next libprofile call.  Returns
 * "" when nothing failed yet.  Never NULL.
 */
PF_EXTERN const char *pf_errmsg(void);

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

/** Format `id` as 36 lower-case characters plus a NUL into `buf`.
 *  Returns PF_EINVAL if an argument is NULL. */
PF_EXTERN int pf_id_format(char buf[PF_ID_STRLEN + 1], const pf_id *id);

/** Parse the canonical text form of a UUID.  Returns PF_EINVAL (and
 *  leaves *out untouched) if `text` is not one. */
PF_EXTERN int pf_id_parse(pf_id *out, const char *text);

/** Non-zero if `id` is all zeros (also for a NULL pointer). */
PF_EXTERN int pf_id_is_zero(const pf_id *id);

/** Build a pf_date from its parts.  Returns PF_EINVAL for an impossible
 *  date (e.g. 2026-02-30). */
PF_EXTERN int pf_date_make(pf_date *out, int year, int month, int day);

/* ------------------------------------------------------------------ */
/* Opening a database                                                   */
/* ------------------------------------------------------------------ */

typedef struct pf_db pf_db;

/** A clock: returns the current time.  Must be safe to call from any
 *  thread that uses the pf_db. */
typedef pf_time (*pf_clock_fn)(void *payload);

/** pf_options.flags */
#define PF_OPEN_READONLY   0x1u  /**< open for reading only; writes give PF_EREADONLY */
#define PF_OPEN_NOMETASYNC 0x2u  /**< skip the meta-page fsync: a crash may lose the
                                      last commit, never corrupt (for kiosks) */

#define PF_OPTIONS_VERSION 1

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
} pf_options;

#define PF_OPTIONS_INIT { PF_OPTIONS_VERSION, 0, 0, NULL, NULL }

/** Fill `opts` with defaults for the given struct version.  Returns
 *  PF_EINVAL for a NULL pointer or a version this library does not know. */
PF_EXTERN int pf_options_init(pf_options *opts, unsigned int version);

/**
 * Open (creating it if missing, unless read-only) the database in the
 * directory `path`.  The directory is created with mode 0700 if absent;
 * data files are created 0600.  Stale reader slots left by crashed
 * processes are cleared.
 *
 * Errors: PF_EINVAL (NULL argument, unknown options version),
 * PF_EBUSY (already open in this process), PF_EVERSION (written by a
 * newer schema), PF_ENOTFOUND (read-only and nothing there),
 * PF_ECORRUPT (not a libprofile database), PF_EIO, PF_ENOMEM.
 */
PF_EXTERN int pf_open(pf_db **out, const char *path, const pf_options *opts);

/** Close the database and free the handle.  NULL is a no-op.  Objects
 *  returned earlier stay valid (they own their memory). */
PF_EXTERN void pf_close(pf_db *db);

/** The current time by this database's clock. */
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

/** "none", "silver", "gold", "platinum", "vip"; NULL for an unknown value. */
PF_EXTERN const char *pf_tier_name(pf_tier tier);

/** Parse a tier name (exact, lower case).  PF_EINVAL if unknown. */
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

/** "like", "dislike", "need"; NULL for an unknown value. */
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
 * pf_guest_free().  Fields marked "read-only" are maintained by the
 * library and ignored by pf_guest_put().
 *
 * Start from PF_GUEST_INIT: a zeroed struct has no profiling consent.
 */
typedef struct pf_guest {
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

	/* read-only */
	pf_time created;
	pf_time updated;
	uint32_t stays;           /**< stays recorded (pf_stay_add, check-ins) */
	const pf_pref *prefs;     /**< pref_count preferences, sorted by category */
	size_t pref_count;
} pf_guest;

#define PF_GUEST_INIT { {{0}}, NULL, NULL, NULL, NULL, NULL, 0, PF_TIER_NONE, \
	NULL, 0, PF_CONSENT_PROFILING, 0, 0, 0, NULL, 0 }

/** A list of guests; free with pf_guest_list_free(). */
typedef struct pf_guest_list {
	size_t count;
	pf_guest **items;
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
 * Errors: PF_EINVAL (NULL, missing name, a field too long or not UTF-8,
 * a tag that is not a lower-case word, more than PF_TAGS_MAX tags, an
 * impossible birth date, unknown tier), PF_ENOTFOUND (non-zero id that
 * does not exist), PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_guest_put(pf_db *db, pf_guest *g);

/** Read a guest with its preferences.  *out is freed with
 *  pf_guest_free().  Errors: PF_EINVAL, PF_ENOTFOUND, PF_ECORRUPT. */
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
 * guests.  No match is not an error: *out is an empty list.
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
 *  Errors: PF_EINVAL, PF_ENOTFOUND (no such guest or no preference in
 *  that category), PF_ECORRUPT. */
PF_EXTERN int pf_pref_get(pf_pref **out, pf_db *db, const pf_id *guest,
                          const char *category);

/** Free a preference returned by pf_pref_get().  NULL is a no-op. */
PF_EXTERN void pf_pref_free(pf_pref *pref);

/** Remove a preference.  Errors: PF_EINVAL, PF_ENOTFOUND (no such guest
 *  or category), PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO. */
PF_EXTERN int pf_pref_del(pf_db *db, const pf_id *guest, const char *category);

/** A list of preferences; free with pf_pref_list_free(). */
typedef struct pf_pref_list {
	size_t count;
	pf_pref *items;           /**< sorted by category */
} pf_pref_list;

/** All preferences of a guest, sorted by category.  Errors: PF_EINVAL,
 *  PF_ENOTFOUND, PF_ECORRUPT. */
PF_EXTERN int pf_pref_list_get(pf_pref_list **out, pf_db *db, const pf_id *guest);

/** Free a preference list.  NULL is a no-op. */
PF_EXTERN void pf_pref_list_free(pf_pref_list *list);

/* ------------------------------------------------------------------ */
/* Stays                                                                */
/* ------------------------------------------------------------------ */

/** One stay.  Strings are borrowed by pf_stay_add() and owned by the list
 *  that pf_stay_list() returns. */
typedef struct pf_stay {
	pf_id guest;
	const char *property;     /**< optional hotel code, e.g. "MFM1" */
	const char *room;         /**< optional */
	pf_date arrival;          /**< required */
	pf_date departure;        /**< required, after arrival */
	uint32_t party;           /**< people in the party; 0 = unknown */
} pf_stay;

/**
 * Record a stay.  A stay is identified by guest and arrival date: adding
 * one with the same arrival again updates it and does not count twice.
 * The guest's stay counter (used by `stays >= N` rules) counts distinct
 * stays.
 *
 * Errors: PF_EINVAL (NULL, impossible dates, departure not after arrival,
 * overlong or non-UTF-8 strings), PF_ENOTFOUND (no such guest),
 * PF_EREADONLY, PF_ECORRUPT, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_stay_add(pf_db *db, const pf_stay *stay);

/** A list of stays; free with pf_stay_list_free(). */
typedef struct pf_stay_list {
	size_t count;
	pf_stay *items;           /**< in order of arrival */
} pf_stay_list;

/** All stays of a guest in order of arrival.  Errors: PF_EINVAL,
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
 * Errors: PF_EINVAL (NULL db/text), PF_ESYNTAX (the text does not parse:
 * `err`, if not NULL, and pf_errmsg() say where and what was expected;
 * unknown placeholders, event kinds, priorities, duplicate rule names are
 * syntax errors too), PF_EREADONLY, PF_EFULL, PF_EIO.
 */
PF_EXTERN int pf_rules_load(pf_db *db, const char *name, const char *text,
                            size_t len, pf_rule_error *err);

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

/** List the stored rules.  An empty rule book is an empty list.
 *  Errors: PF_EINVAL, PF_ECORRUPT. */
PF_EXTERN int pf_rules_list(pf_rule_list **out, pf_db *db);

/** Free a rule list.  NULL is a no-op. */
PF_EXTERN void pf_rule_list_free(pf_rule_list *list);

/* ------------------------------------------------------------------ */
/* Events and prompts                                                   */
/* ------------------------------------------------------------------ */

typedef enum {
	PF_EVENT_RESERVATION = 1,
	PF_EVENT_CHECK_IN,
	PF_EVENT_CHECK_OUT,
	PF_EVENT_ROOM_CHANGE
} pf_event_kind;

/** "reservation", "check_in", "check_out", "room_change"; NULL if unknown. */
PF_EXTERN const char *pf_event_kind_name(pf_event_kind kind);

/** Parse an event kind name.  PF_EINVAL if unknown. */
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
	pf_date departure;        /**< optional */
	uint32_t party;           /**< 0 = unknown */
	pf_time time;             /**< 0 = now; due times count from it */
} pf_event;

#define PF_EVENT_INIT { PF_EVENT_VERSION, NULL, PF_EVENT_RESERVATION, {{0}}, \
	NULL, NULL, 0, 0, 0, 0 }

typedef enum {
	PF_PRIORITY_LOW = 0,
	PF_PRIORITY_NORMAL,
	PF_PRIORITY_HIGH,
	PF_PRIORITY_URGENT
} pf_priority;

/** "low", "normal", "high", "urgent"; NULL if unknown. */
PF_EXTERN const char *pf_priority_name(pf_priority p);

typedef enum {
	PF_PROMPT_PENDING = 0,
	PF_PROMPT_ACKNOWLEDGED,
	PF_PROMPT_DONE,
	PF_PROMPT_DISMISSED
} pf_prompt_status;

/** "pending", "acknowledged", "done", "dismissed"; NULL if unknown. */
PF_EXTERN const char *pf_prompt_status_name(pf_prompt_status s);

/** One instruction to a department.  Owned by the list that holds it. */
typedef struct pf_prompt {
	pf_id id;                 /**< zero in pf_preview() results */
	pf_id guest;
	const char *event_id;
	const char *department;   /**< "front_desk", "housekeeping", ... */
	const char *rule;         /**< the rule that made it; "need" for an unrouted need */
	pf_priority priority;
	const char *text;         /**< rendered, at most PF_PROMPT_TEXT_MAX bytes */
	pf_prompt_status status;
	pf_time created;
	pf_time due;
	const char *ack_by;       /**< NULL until acknowledged */
	pf_time ack_at;
	const char *done_by;      /**< who completed or dismissed it */
	pf_time done_at;          /**< when it was completed or dismissed */
	const char *dismiss_reason;
	uint64_t seq;             /**< position in its department's feed (pf_prompts_since) */
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
 * prompt and add it to its department's queue.  A check-in with an
 * arrival and departure date also records the stay.
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
 * strings), PF_ENOTFOUND (no such guest), PF_EEXIST (the id was fired
 * for a different guest or kind), PF_EREADONLY, PF_ECORRUPT, PF_EFULL,
 * PF_EIO.
 */
PF_EXTERN int pf_fire(pf_prompt_list **out, pf_db *db, const pf_event *ev);

/**
 * The prompts pf_fire() would make for `ev`, computed in a read
 * transaction: nothing is stored, ev->id may be NULL, and the prompts have
 * zero ids.  This is what a kiosk calls to greet a guest.  Works on a
 * read-only database.  Errors: as pf_fire(), without the write errors.
 */
PF_EXTERN int pf_preview(pf_prompt_list **out, pf_db *db, const pf_event *ev);

/** Read one prompt.  The result is a one-item list.  Errors: PF_EINVAL,
 *  PF_ENOTFOUND, PF_ECORRUPT. */
PF_EXTERN int pf_prompt_get(pf_prompt_list **out, pf_db *db, const pf_id *prompt);

/**
 * A department's open prompts (pending and acknowledged), earliest due
 * first, then highest priority first.  Errors: PF_EINVAL (NULL or a
 * department that is not a lower-case word), PF_ECORRUPT.
 */
PF_EXTERN int pf_prompts_pending(pf_prompt_list **out, pf_db *db, const char *department);

/** Open prompts of one department (or of all when `department` is NULL)
 *  whose due time is before `now` (0 = the database clock), earliest
 *  first.  Errors: PF_EINVAL, PF_ECORRUPT. */
PF_EXTERN int pf_prompts_overdue(pf_prompt_list **out, pf_db *db,
                                 const char *department, pf_time now);

/** A pending prompt was seen by `staff`.  Errors: PF_EINVAL (NULL, bad
 *  staff, not pending), PF_ENOTFOUND, PF_EREADONLY, PF_EFULL, PF_EIO. */
PF_EXTERN int pf_prompt_ack(pf_db *db, const pf_id *prompt, const char *staff);

/** A pending or acknowledged prompt was carried out by `staff`.
 *  Errors: PF_EINVAL (already done or dismissed), PF_ENOTFOUND,
 *  PF_EREADONLY, PF_EFULL, PF_EIO. */
PF_EXTERN int pf_prompt_done(pf_db *db, const pf_id *prompt, const char *staff);

/** A pending or acknowledged prompt will not be carried out, and why
 *  (`reason` required).  Errors: PF_EINVAL (already done or dismissed,
 *  empty reason), PF_ENOTFOUND, PF_EREADONLY, PF_EFULL, PF_EIO. */
PF_EXTERN int pf_prompt_dismiss(pf_db *db, const pf_id *prompt, const char *staff,
                                const char *reason);

/**
 * A cheap change check for other processes: *seq receives the sequence
 * number of the newest prompt routed to `department` (0 if none), read in
 * one read transaction.  Poll it; when it moves, pf_prompts_since() lists
 * what is new.  Errors: PF_EINVAL, PF_ECORRUPT.
 */
PF_EXTERN int pf_prompts_seq(uint64_t *seq, pf_db *db, const char *department);

/** Prompts routed to `department` with a sequence number greater than
 *  `since`, in sequence order, whatever their status.  Errors: PF_EINVAL,
 *  PF_ECORRUPT. */
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
 * after the commit; nothing they do can undo it.
 * Errors: PF_EINVAL (NULL fn, bad department), PF_ENOMEM.
 */
PF_EXTERN int pf_subscribe(pf_db *db, const char *department, pf_prompt_fn fn,
                           void *payload);

/** Remove a subscription made with the same three arguments.
 *  Errors: PF_EINVAL, PF_ENOTFOUND. */
PF_EXTERN int pf_unsubscribe(pf_db *db, const char *department, pf_prompt_fn fn,
                             void *payload);

#ifdef __cplusplus
}
#endif

#endif /* LIBPROFILE_H */
