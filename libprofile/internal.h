/*
 * internal.h — declarations shared between the library's own files.
 * Never installed; nothing here is API.  Each section names the file that
 * owns it.
 */
#ifndef PF_INTERNAL_H
#define PF_INTERNAL_H

#include "libprofile.h"

#include <lmdb.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

#define PF_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ------------------------------------------------------------------ */
/* error.c                                                              */
/* ------------------------------------------------------------------ */

/** Record `code` and a formatted detail as this thread's last error;
 *  returns `code` so callers can `return pf_seterr(...)`. */
int pf_seterr(int code, const char *fmt, ...) PF_PRINTF(2, 3);

/** Map an LMDB or errno code onto a PF_E* code and record
 *  "<what>: <lmdb text>" as the detail.  Returns the PF_E* code. */
int pf_lmdb_err(int mdb_rc, const char *what);

/* ------------------------------------------------------------------ */
/* text.c — validation and normalisation of caller-supplied text        */
/* ------------------------------------------------------------------ */

/** Non-zero if s[0..len) is well-formed UTF-8 (no overlongs, no
 *  surrogates, nothing above U+10FFFF, no NUL bytes). */
bool pf_utf8_valid(const char *s, size_t len);

/** Longest prefix of UTF-8 s[0..len) of at most max bytes that does not
 *  split a character: for cutting text to a limit. */
size_t pf_utf8_cut(const char *s, size_t len, size_t max);

/**
 * Check one caller-supplied string field.  `fn` is the public function
 * name and `field` the field name, both used in the error message.
 * NULL is accepted when !required; an empty string is refused when
 * required.  Otherwise the string must be valid UTF-8 of at most `max`
 * bytes.  Returns 0 or PF_EINVAL (with pf_errmsg set).
 */
int pf_check_text(const char *fn, const char *field, const char *s, size_t max,
                  bool required);

/** Check a lower-case word ([a-z][a-z0-9_]*, at most PF_FIELD_MAX bytes):
 *  departments, tags.  Returns 0 or PF_EINVAL. */
int pf_check_word(const char *fn, const char *field, const char *s);

/** True if `s` is three upper-case ASCII letters (the form of an ISO
 *  3166-1 alpha-3 country code, "MAC").  Whether the code is assigned is
 *  not checked: the standard adds codes, and a stored code must keep
 *  decoding.  NULL is false. */
bool pf_country_valid(const char *s);

/** Check a preference category: 1..4 lower-case words joined by '.',
 *  at most PF_CATEGORY_MAX bytes.  Returns 0 or PF_EINVAL. */
int pf_check_category(const char *fn, const char *s);

/** Check a pf_date (YYYYMMDD, real calendar date).  0 is accepted when
 *  !required.  Returns 0 or PF_EINVAL. */
int pf_check_date(const char *fn, const char *field, pf_date d, bool required);

/** Unicode case fold (NFKC_Casefold) of UTF-8 `s`.  Returns a malloc'd
 *  string or NULL (PF_ENOMEM or invalid input; *rc says which). */
char *pf_casefold(const char *s, int *rc);

/** Copy the decimal digits of `s` into out (NUL-terminated, at most
 *  cap-1 digits).  Returns the number of digits, or -1 if they do not
 *  fit. */
int pf_phone_digits(const char *s, char *out, size_t cap);

/** Check a caller's id argument: PF_EINVAL "<fn>: <what> is NULL" or
 *  "<fn>: <what> id is zero" (followed by " (<hint>)" when hint is not
 *  NULL).  Returns 0 or PF_EINVAL. */
int pf_check_id(const char *fn, const char *what, const pf_id *id, const char *hint);

/** "YYYY-MM-DD" of a pf_date in buf, or NULL for 0 (unknown), as the
 *  journal and the JSON export write dates. */
#define PF_DATE_TEXT_SIZE 16
const char *pf_date_text(char buf[PF_DATE_TEXT_SIZE], pf_date d);

/** Days since 1970-01-01 for a valid pf_date, and back. */
int64_t pf_date_days(pf_date d);
pf_date pf_date_from_days(int64_t days);

/** strdup that tolerates NULL (returns NULL) and sets *rc=PF_ENOMEM on
 *  allocation failure. */
char *pf_strdup_or_null(const char *s, int *rc);

/** Replace the malloc'd string *field with a copy of value (NULL: none).
 *  PF_ENOMEM (no message set) leaves *field as it was. */
int pf_str_set(const char **field, const char *value);

/* ------------------------------------------------------------------ */
/* store.c — the LMDB environment, transactions, map growth, schema     */
/* ------------------------------------------------------------------ */

enum pf_dbi {
	PF_DBI_META = 0,
	PF_DBI_GUEST,
	PF_DBI_CONTACT,  /* dupsort: "e:"email / "p:"digits / "l:"loyalty -> 16-byte id */
	PF_DBI_NAME,     /* folded name word + '\0' + id -> empty */
	PF_DBI_STAY,     /* id + be32 arrival -> stay record */
	PF_DBI_RULE,     /* rule name -> rule record */
	PF_DBI_EVENT,    /* event id -> event record */
	PF_DBI_PROMPT,   /* prompt id -> prompt record */
	PF_DBI_QUEUE,    /* department work lists, see prompt.c */
	PF_DBI_FEEDBACK,
	PF_DBI_JOURNAL,
	PF_DBI_COUNT
};

/** Names of the LMDB databases, indexed by enum pf_dbi ("guest", ...). */
extern const char *const pf_dbi_names[PF_DBI_COUNT];

struct pf_sub;
struct pf_rulebook;

struct pf_db {
	MDB_env *env;
	MDB_dbi dbi[PF_DBI_COUNT];
	char *path;               /* realpath of the directory */
	pf_options opts;
	/* Held shared by every transaction of this handle and exclusively
	 * while growing the map: LMDB requires no live transaction in the
	 * process when mdb_env_set_mapsize() runs. */
	pthread_rwlock_t txn_lock;

	/* rules cache, owned by event.c */
	pthread_mutex_t rules_lock;
	struct pf_rulebook *rules;
	uint64_t rules_version;   /* meta "rules.version" the cache was built from */

	/* subscriptions, owned by prompt.c */
	pthread_mutex_t sub_lock;
	struct pf_sub *subs;

	/* the hotel's time zone, owned by tz.c (loaded at pf_open, read-only) */
	struct pf_tz *tz;

	/* store.c: the process that opened the handle (every call from
	 * another one is refused), the directory's identity (one handle per
	 * directory per process), and for a read-only handle opened without
	 * LMDB's lock file (MDB_NOLOCK) the transaction it found at open:
	 * once another process commits, such a handle refuses to read. */
	pid_t pid;
	dev_t dev;
	ino_t ino;
	bool nolock;
	uint64_t nolock_txnid;
};

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
int pf_store_write(pf_db *db, const char *what, pf_txn_fn fn, void *arg);

/** Run `fn` in a read-only transaction. */
int pf_store_read(pf_db *db, const char *what, pf_txn_fn fn, void *arg);

/**
 * 0 if `db` may be used by the calling process; else PF_EINVAL "<what>:
 * this pf_db was opened by process N; open the database again after
 * fork()" (or PF_EBUSY for a lock-less read-only handle whose database
 * another process has written since).  pf_store_write and pf_store_read
 * check this first; a file that reaches db->env any other way must call
 * it before touching LMDB (or the file system on the handle's behalf).
 */
int pf_store_check(pf_db *db, const char *what);

/** What pf_envfile_check read from the current meta page. */
typedef struct pf_envfile {
	uint64_t txnid;           /* 0: created, never committed to */
	uint64_t last_pg;
	unsigned psize;
} pf_envfile;

/**
 * envcheck.c: check the LMDB data file `file` with pread() only, before
 * LMDB maps it: both meta pages, the file's length against the pages in
 * use (a truncated file would make LMDB die with SIGBUS), the main
 * database's records.  Returns 0 (and *out), PF_ECORRUPT ("... is
 * truncated: restore from backup", "... is damaged: ..."), PF_EACCES,
 * PF_EIO or PF_ENOMEM.
 */
int pf_envfile_check(const char *file, pf_envfile *out);

/** mdb_get; 0, PF_ENOTFOUND (no message set) or a mapped error. */
int pf_store_get(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, MDB_val *val);

/** pf_store_get of the record keyed by a 16-byte id; PF_ENOTFOUND with
 *  the message "<what>: no <noun> with id <id>" ("no <noun> with id <id>"
 *  when what is NULL). */
int pf_store_get_id(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const pf_id *id,
                    MDB_val *val, const char *what, const char *noun);

/** mdb_put with flags; 0 or a mapped error (MDB_MAP_FULL -> PF_EFULL). */
int pf_store_put(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, const void *val, size_t vlen, unsigned flags);

/** mdb_del of a key (val NULL) or of one dupsort pair; a missing key is
 *  0, not an error. */
int pf_store_del(MDB_txn *txn, pf_db *db, enum pf_dbi dbi, const void *key,
                 size_t klen, const void *val, size_t vlen);

/** Read / write an unsigned 64-bit value in `meta` (stored big-endian).
 *  A missing key reads as 0. */
int pf_meta_get_u64(MDB_txn *txn, pf_db *db, const char *key, uint64_t *out);
int pf_meta_put_u64(MDB_txn *txn, pf_db *db, const char *key, uint64_t v);

/** Increment a meta counter and return its new value in *out. */
int pf_meta_next(MDB_txn *txn, pf_db *db, const char *key, uint64_t *out);

/** A new random UUID (libuuid). */
void pf_id_generate(pf_id *out);

/** Big-endian helpers for keys that must sort numerically. */
void pf_be64_put(unsigned char *p, uint64_t v);
uint64_t pf_be64_get(const unsigned char *p);
void pf_be32_put(unsigned char *p, uint32_t v);
uint32_t pf_be32_get(const unsigned char *p);

/* ------------------------------------------------------------------ */
/* codec.c — every stored record, encoded and decoded in one place      */
/* ------------------------------------------------------------------ */

/* Record versions (field "v" of each map). */
#define PF_REC_GUEST_V  1
#define PF_REC_STAY_V   1
#define PF_REC_RULE_V   1
#define PF_REC_EVENT_V  1
#define PF_REC_PROMPT_V 1

/** Maximum msgpack nesting depth the decoder accepts. */
#define PF_CODEC_MAX_DEPTH 4

/**
 * A stored guest: the public view first (pf_guest_free() casts back),
 * then what only the library sees.  Every string and array is separately
 * malloc'd and owned by the record; pf_guest_rec_free() frees them.
 */
typedef struct pf_guest_rec {
	pf_guest g;               /* g.prefs == prefs, g.tags == (const char**)tags */
	pf_pref *prefs;           /* sorted by category */
	size_t pref_cap;
	char **tags;
	uint32_t complaints_open;
	uint32_t complaints_total;
	char *complaint_last_category;
	char *complaint_latest;
} pf_guest_rec;

void pf_guest_rec_free(pf_guest_rec *r);

/** Free a preference's strings and zero it (not the struct itself). */
void pf_pref_clear(pf_pref *p);

/** Deep copy of src (its strings malloc'd) into dst.  PF_ENOMEM (no
 *  message set) leaves dst holding nothing. */
int pf_pref_copy(pf_pref *dst, const pf_pref *src);

/** Deep-copy a caller's pf_guest (profile fields only) into a new record.
 *  Returns 0 or PF_ENOMEM. */
int pf_guest_rec_from_public(pf_guest_rec **out, const pf_guest *g);

/** Encode a record into sb (which the caller initialised).  0 or PF_ENOMEM. */
int pf_codec_guest_encode(msgpack_sbuffer *sb, const pf_guest_rec *r);

/** Decode and validate; PF_ECORRUPT (message names db "guest" and the
 *  field) for anything malformed.  *out is freed with pf_guest_rec_free. */
int pf_codec_guest_decode(pf_guest_rec **out, const void *data, size_t len);

/** Stay record (key holds guest and arrival; the value holds the rest). */
int pf_codec_stay_encode(msgpack_sbuffer *sb, const pf_stay *s);
/** Decodes into s (strings malloc'd; free with pf_stay_clear). */
int pf_codec_stay_decode(pf_stay *s, const void *data, size_t len);
void pf_stay_clear(pf_stay *s);

/** Prompt record.  Decoded strings are malloc'd; pf_prompt_clear frees them. */
int pf_codec_prompt_encode(msgpack_sbuffer *sb, const pf_prompt *p);
int pf_codec_prompt_decode(pf_prompt *p, const void *data, size_t len);
void pf_prompt_clear(pf_prompt *p);

/** Event record: what was fired and which prompts it made. */
typedef struct pf_event_rec {
	pf_event_kind kind;
	pf_id guest;
	pf_time time;
	pf_date arrival;
	size_t prompt_count;
	pf_id *prompts;           /* malloc'd */
} pf_event_rec;

int pf_codec_event_encode(msgpack_sbuffer *sb, const pf_event_rec *e);
int pf_codec_event_decode(pf_event_rec *e, const void *data, size_t len);
void pf_event_rec_clear(pf_event_rec *e);

/** Rule record: the rule's position in the book and its source text. */
typedef struct pf_rule_rec {
	uint32_t order;
	char *source;             /* malloc'd */
} pf_rule_rec;

int pf_codec_rule_encode(msgpack_sbuffer *sb, const pf_rule_rec *r);
int pf_codec_rule_decode(pf_rule_rec *r, const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* guest.c / pref.c / stay.c — in-transaction helpers for other layers  */
/* ------------------------------------------------------------------ */

/** Load a guest record inside a transaction.  PF_ENOTFOUND (with
 *  message) if absent, PF_ECORRUPT if it fails to decode. */
int pf_guest_load(pf_guest_rec **out, MDB_txn *txn, pf_db *db, const pf_id *id,
                  const char *what);

/** Store a guest record (no index maintenance: for changes that do not
 *  touch indexed fields, e.g. preferences and counters). */
int pf_guest_save(MDB_txn *txn, pf_db *db, const pf_guest_rec *r);

/** Find a preference of r by category (binary search); NULL if none. */
const pf_pref *pf_guest_rec_pref(const pf_guest_rec *r, const char *category);

/** Append every stay of `guest`, in arrival order, to (*items)[*n..],
 *  growing *items (capacity *cap) with realloc.  On failure the stays
 *  already appended stay there for the caller to clear and free.
 *  PF_ECORRUPT for a malformed key or record; messages name `what`. */
int pf_stays_read(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_stay **items,
                  size_t *n, size_t *cap, const char *what);

/** Record or update a stay inside a transaction; updates the guest's stay
 *  counter when the stay is new.  `r` is the loaded guest record, saved by
 *  this function when the counter changes. */
int pf_stay_put_txn(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const pf_stay *s,
                    const char *what);

/**
 * pf_pref_set's work on a loaded guest record, inside the caller's write
 * transaction: observe category = value (kind, department, staff and
 * note from *o; o->time and o->version are not read) at time t.  The
 * same value and kind again counts once more and keeps the stored note
 * when o->note is NULL; anything else replaces the category's
 * preference.  Journals "pref.set"; edits r but neither saves it nor
 * touches r->g.updated.  Arguments must be valid already.  PF_EINVAL
 * when a new category would pass PF_PREFS_MAX; messages start "<fn>: ".
 */
int pf_pref_observe(MDB_txn *txn, pf_db *db, pf_guest_rec *r, const char *category,
                    const char *value, const pf_observation *o, pf_time t, const char *fn);

/* ------------------------------------------------------------------ */
/* rules.c — the rule language; evaluates over memory, never LMDB        */
/* ------------------------------------------------------------------ */

typedef struct pf_rulebook pf_rulebook;

/** Parse a whole rule book.  On PF_ESYNTAX, err (if not NULL) and
 *  pf_errmsg() hold "name:line:col: message". */
int pf_rulebook_parse(pf_rulebook **out, const char *name, const char *text,
                      size_t len, pf_rule_error *err);
void pf_rulebook_free(pf_rulebook *rb);

size_t pf_rulebook_count(const pf_rulebook *rb);
const char *pf_rulebook_rule_name(const pf_rulebook *rb, size_t i);
/** The rule's source text (from `rule` to the end of its last line),
 *  not NUL-terminated. */
const char *pf_rulebook_rule_source(const pf_rulebook *rb, size_t i, size_t *len);

/** Everything rules can see of one guest at one event. */
typedef struct pf_view {
	const pf_guest_rec *guest;
	const pf_event *event;
} pf_view;

/** One prompt the rule book produced (before storage). */
typedef struct pf_match {
	const char *rule;         /* borrowed from the rule book; "need" for defaults */
	const char *department;   /* borrowed */
	pf_priority priority;
	int64_t within;           /* seconds, or -1 when the rule gave none */
	const char *language;     /* borrowed: the tag of the rule's text in the guest's
	                             language; NULL for the default text */
	bool cut;                 /* text was cut to PF_PROMPT_TEXT_MAX (ends in "…") */
	char text[PF_PROMPT_TEXT_MAX + 1];
} pf_match;

typedef struct pf_match_list {
	size_t count;
	pf_match *items;
} pf_match_list;

/**
 * Evaluate the rule book for one view: only rules listening to the
 * event's kind, found through the book's index; a template naming a
 * missing preference drops that prompt; without profiling consent, like
 * and dislike tests are false; every need no fired rule tested yields a
 * default high-priority front_desk prompt (rule "need").  A guest-facing
 * notify (department kiosk, or marked guest_facing) renders the text in
 * the guest's language when it has one (exact tag, then shorter
 * prefixes), others the default text.  Text longer than
 * PF_PROMPT_TEXT_MAX is cut to end in "…" and flagged `cut`.  `rb` may be
 * NULL (no rule book).  *out is freed with pf_match_list_free.
 */
int pf_rulebook_eval(pf_match_list **out, const pf_rulebook *rb, const pf_view *v);
void pf_match_list_free(pf_match_list *l);

/* ------------------------------------------------------------------ */
/* prompt.c — records, queue keys and delivery (the only file that lays  */
/* out queue keys); used by event.c, feedback.c, merge.c, erase.c and    */
/* export.c                                                             */
/* ------------------------------------------------------------------ */

/** Store a new prompt (assigning p->seq) and its queue entries. */
int pf_prompt_store(MDB_txn *txn, pf_db *db, pf_prompt *p);

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
                        const char *staff, const char *reason, pf_time when,
                        const char *fn);

/** Deliver prompts to in-process subscribers (after commit). */
void pf_prompts_deliver(pf_db *db, const pf_prompt_list *list);

/** Free subscriptions at close. */
void pf_subs_free(pf_db *db);

/** Default due delay in seconds for a priority (urgent 15 min, high 1 h,
 *  normal 4 h, low 24 h). */
int64_t pf_priority_default_within(pf_priority p);

/* ------------------------------------------------------------------ */
/* event.c                                                              */
/* ------------------------------------------------------------------ */

/** Free the cached rule book at close. */
void pf_rules_cache_free(pf_db *db);

/* ------------------------------------------------------------------ */
/* journal.c — every mutation appends one entry in its own transaction  */
/* ------------------------------------------------------------------ */

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

/* Journal limits, enforced by pf_journal_append and by the decoder.
 * Generous: a mutation is never refused because its entry is large. */
#define PF_JOURNAL_OP_MAX     64
#define PF_JOURNAL_ACTOR_MAX  (2 * PF_FIELD_MAX + 1)   /* "department/staff" */
#define PF_JOURNAL_REF_MAX    4096                      /* e.g. a rule book path */
#define PF_JOURNAL_NAME_MAX   64
#define PF_JOURNAL_VALUE_MAX  16384
#define PF_JOURNAL_FIELDS_MAX 1024

/** Non-zero if s[0..len) is a journal op: lower-case words ([a-z][a-z0-9_]*)
 *  joined by '.', at most PF_JOURNAL_OP_MAX bytes. */
bool pf_journal_op_valid(const char *s, size_t len);

/** Journal record (key: big-endian seq, which the record does not hold).
 *  The decoded entry owns its strings and field array; free them with
 *  pf_journal_entry_clear().  e->seq is left 0 by decode. */
#define PF_REC_JOURNAL_V 1
int pf_codec_journal_encode(msgpack_sbuffer *sb, const pf_journal_entry *e);
int pf_codec_journal_decode(pf_journal_entry *e, const void *data, size_t len);
void pf_journal_entry_clear(pf_journal_entry *e);

/* ------------------------------------------------------------------ */
/* guest.c helpers for import.c / export.c (and merge.c, erase.c)       */
/* ------------------------------------------------------------------ */

/** Validate a caller's guest exactly as pf_guest_put() does (messages
 *  start "pf_guest_put: ").  Returns 0 or PF_EINVAL. */
int pf_guest_check(const pf_guest *g);

/** Bring the contact ("e:" "p:" "l:" "x:") and name indexes from `old`
 *  (NULL: a new guest) to `nr` (NULL: the guest is removed).  PF_EEXIST if
 *  nr's external id belongs to another guest. */
int pf_guest_reindex(MDB_txn *txn, pf_db *db, const pf_guest_rec *old,
                     const pf_guest_rec *nr);

/* ------------------------------------------------------------------ */
/* merge.c / erase.c / backup.c — data lifecycle                        */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* guest.c helper for verify.c                                          */
/* ------------------------------------------------------------------ */

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

/* Meta keys owned by merge.c (binary ids follow the prefix):
 *   "merge:" MERGE16            -> merge record (codec)
 *   "mg:" GUEST16 MERGE16       -> empty: the merges a guest took part in
 *   "nd:" GUEST16 OTHER16       -> empty: "not a duplicate", stored both ways */
#define PF_META_MERGE "merge:"
#define PF_META_MERGE_GUEST "mg:"
#define PF_META_NOT_DUP "nd:"

/** One stay of the duplicate as it was before a merge. */
typedef struct pf_merge_stay {
	pf_date arrival;
	bool moved;               /* re-keyed to keep; false: keep had that arrival,
	                             the duplicate's stay was dropped */
	unsigned char *value;     /* the stored stay value, byte for byte (malloc'd) */
	size_t len;
} pf_merge_stay;

/** A byte string owned by a merge record. */
typedef struct pf_merge_blob {
	unsigned char *data;      /* malloc'd */
	size_t len;
} pf_merge_blob;

/** Everything pf_guest_unmerge() needs to put two profiles back. */
typedef struct pf_merge_rec {
	pf_id keep, dup;
	pf_time time;
	pf_merge_blob keep_before;    /* keep's guest record before the merge */
	pf_merge_blob keep_after;     /* keep's guest record as the merge wrote it */
	pf_merge_blob dup_before;     /* the duplicate's guest record */
	size_t stay_count;
	pf_merge_stay *stays;
	size_t prompt_count;
	pf_id *prompts;               /* prompts re-pointed from dup to keep */
	size_t event_count;
	pf_merge_blob *events;        /* event keys (event ids) re-pointed */
	size_t feedback_count;
	pf_id *feedback;              /* feedback moved from dup to keep */
} pf_merge_rec;

#define PF_REC_MERGE_V 1
int pf_codec_merge_encode(msgpack_sbuffer *sb, const pf_merge_rec *m);
/** Decodes into *m (zeroed first); free with pf_merge_rec_clear. */
int pf_codec_merge_decode(pf_merge_rec *m, const void *data, size_t len);
void pf_merge_rec_clear(pf_merge_rec *m);

/**
 * Erasure support (merge.c): destroy every merge record that holds bytes
 * of `guest`, following merges transitively (a profile merged into a
 * profile merged into `guest` is the same person), and every "not a
 * duplicate" mark of those profiles.  *ids receives `guest` first, then
 * every other profile id reached (malloc'd; the caller frees it).
 */
int pf_merge_forget_guest(MDB_txn *txn, pf_db *db, const pf_id *guest, pf_id **ids,
                          size_t *n);



/* ------------------------------------------------------------------ */
/* tz.c / feedback.c / quality.c — business day, feedback, figures      */
/* ------------------------------------------------------------------ */

/* tz.c: the hotel's time zone (db->tz), loaded once at pf_open. */
typedef struct pf_tz pf_tz;

/** Validate the version-2 fields of *o (business day end, cut-off, offset,
 *  zone name), load the zone from the system zoneinfo, and normalise *o:
 *  defaults resolved, o->timezone pointing at the zone's own copy of the
 *  name (never the caller's).  PF_EINVAL for an unknown zone or a bad
 *  value; `what` prefixes messages. */
int pf_tz_setup(pf_tz **out, pf_options *o, const char *what);
void pf_tz_free(pf_tz *tz);

/** Offset east of UTC, in seconds, in force at instant t (NULL tz: 0). */
int32_t pf_tz_offset(const pf_tz *tz, pf_time t);
/** The instant of a local wall-clock time given as seconds since
 *  1970-01-01 00:00 local; a repeated time gives the first instant, a
 *  skipped one is moved on by the gap. */
pf_time pf_tz_from_local(const pf_tz *tz, int64_t local);

/** The hotel's calendar date at t, and the instant its day `d` starts. */
pf_date pf_local_date(const pf_db *db, pf_time t);
pf_time pf_local_day_start(const pf_db *db, pf_date d);
/** The sunset rule: a complaint recorded at t is due at the end of that
 *  local business day, or at noon the next day when recorded at or after
 *  the cut-off (or after the business day ended). */
pf_time pf_sunset_due(const pf_db *db, pf_time recorded);
/** A follow-up after a resolution at t: the end of the next business day. */
pf_time pf_followup_due(const pf_db *db, pf_time resolved);

/* feedback.c: the `feedback` db.
 *   id16                                   -> feedback record (codec)
 *   'g' guest16 be64(recorded_at ^ 2^63) id16 -> empty: a guest's feedback
 *                                             in time order
 * Record keys are 16 bytes and index keys 41, so neither can be taken for
 * the other. */
#define PF_REC_FEEDBACK_V 1
#define PF_FEEDBACK_PROMPTS_MAX 2

/** A stored feedback record: the public view, plus the complaint prompts
 *  (to the department and to management) its creation made. */
typedef struct pf_feedback_rec {
	pf_feedback f;            /* decoded strings are malloc'd */
	size_t prompt_count;
	pf_id prompts[PF_FEEDBACK_PROMPTS_MAX];
} pf_feedback_rec;

/** Encode / decode (codec.c).  The id lives in the key: decode leaves
 *  f.id zero.  pf_feedback_rec_clear frees decoded strings and zeroes. */
int pf_codec_feedback_encode(msgpack_sbuffer *sb, const pf_feedback_rec *r);
int pf_codec_feedback_decode(pf_feedback_rec *r, const void *data, size_t len);
void pf_feedback_rec_clear(pf_feedback_rec *r);

/** Load one feedback record inside a transaction (PF_ENOTFOUND with a
 *  message naming `what` if absent). */
int pf_feedback_load(MDB_txn *txn, pf_db *db, const pf_id *id, pf_feedback_rec *out,
                     const char *what);

/** Merge support: reassign every feedback of `from` to `to` (records and
 *  the per-guest index).  *moved (malloc'd, NULL when none; the caller
 *  frees it) receives the ids moved.  Journals nothing: the caller's
 *  operation does. */
int pf_feedback_move_guest(MDB_txn *txn, pf_db *db, const pf_id *from, const pf_id *to,
                           pf_id **moved, size_t *nmoved);
/** Unmerge support: set one feedback's guest (record and index). */
int pf_feedback_set_guest(MDB_txn *txn, pf_db *db, const pf_id *feedback,
                          const pf_id *guest);
/** Erasure support: tombstone the guest's feedback: text, resolution and
 *  every staff name become "[erased]"; kind, category, department,
 *  severity, dates, status and outcome stay so the figures stay right.
 *  The guest id (a random UUID) and the index stay. */
int pf_feedback_erase_guest(MDB_txn *txn, pf_db *db, const pf_id *guest);

/* ------------------------------------------------------------------ */
/* verify.c — read-only checker; key builders it borrows from the files */
/* that own the layouts (prompt.c, feedback.c, journal.c)                */
/* ------------------------------------------------------------------ */

/** The `queue` keys pf_prompt_store() writes for prompt p (prompt.c):
 *  key[0] its department feed entry ('s', value = the prompt id), key[1]
 *  its per-guest entry ('g'), and while p is pending or acknowledged
 *  key[2] its work-list entry ('o') and key[3] its overdue entry ('d').
 *  Returns out->n (2 or 4), or 0 when p's department is missing or too
 *  long for a key. */
#define PF_QUEUE_KEY_MAX (1 + PF_FIELD_MAX + 1 + 8 + 1 + 16)
typedef struct pf_queue_keys {
	size_t n;
	size_t len[4];
	unsigned char key[4][PF_QUEUE_KEY_MAX];
} pf_queue_keys;
size_t pf_prompt_queue_keys(const pf_prompt *p, pf_queue_keys *out);

/** The per-guest index key of feedback `id` recorded at `at` for
 *  `guest` in the `feedback` db (feedback.c). */
#define PF_FEEDBACK_INDEX_KEY_LEN (1 + 16 + 8 + 16)
void pf_feedback_index_key(unsigned char k[PF_FEEDBACK_INDEX_KEY_LEN], const pf_id *guest,
                           pf_time at, const pf_id *id);

/** The per-guest index key of journal entry `seq` about `guest`
 *  (journal.c). */
#define PF_JOURNAL_INDEX_KEY_LEN (1 + 16 + 8)
void pf_journal_index_key(unsigned char k[PF_JOURNAL_INDEX_KEY_LEN], const pf_id *guest,
                          uint64_t seq);

#endif /* PF_INTERNAL_H */
