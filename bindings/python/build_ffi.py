"""Build the CFFI extension ``libprofile._libprofile`` (out-of-line API mode).

The cdef below is written by hand from include/libprofile.h.  In API mode
the C compiler compiles it against the real header, with -Werror, so a
declaration that disagrees with the header (a wrong field type, a missing
const, a changed signature) fails the build instead of corrupting memory
at run time.

Where the header and library come from, first match wins:
  1. LIBPROFILE_INCLUDE_DIR / LIBPROFILE_LIBRARY_DIR (the Makefile sets them
     to include/ and build/ of the source tree);
  2. ``pkg-config libprofile`` (an installed library, for pip install;
     PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig for a non-standard PREFIX);
  3. /usr/local and /usr (include/, lib/ and the multiarch lib dir).
Before anything is compiled, libprofile.h and libprofile.so must be found
there; if not, the build stops with a message saying what is missing and
how to install it (:func:`locate`), not with a compiler error.  The
library directory is also written as the extension's rpath, so tests run
against a freshly built library without installing it and a library
installed under any PREFIX is found at run time.

Run directly (``python3 build_ffi.py``) to build the extension in place,
next to the package sources; setup.py uses ``ffibuilder`` through
``cffi_modules``.
"""

import os
import shlex
import subprocess
import sys
import sysconfig

from cffi import FFI

CDEF = r"""
/* ---- version */
#define PF_VERSION_MAJOR ...
#define PF_VERSION_MINOR ...
#define PF_VERSION_PATCH ...
#define PF_SCHEMA_VERSION ...
const char *pf_version(int *major, int *minor, int *patch);

/* ---- errors */
typedef enum {
	PF_OK        =   0,
	PF_ENOTFOUND =  -1,
	PF_EEXIST    =  -2,
	PF_EINVAL    =  -3,
	PF_ENOMEM    =  -4,
	PF_EIO       =  -5,
	PF_ECORRUPT  =  -6,
	PF_EFULL     =  -7,
	PF_EBUSY     =  -8,
	PF_ESYNTAX   =  -9,
	PF_EVERSION  = -10,
	PF_EREADONLY = -11,
	PF_ITEROVER  = -12,
	PF_EACCES    = -13
} pf_error_code;
const char *pf_strerror(int code);
const char *pf_errmsg(void);

/* ---- basic types and limits */
typedef struct pf_id { unsigned char b[16]; } pf_id;
typedef int64_t pf_time;
typedef int32_t pf_date;
#define PF_ID_STRLEN ...
#define PF_NAME_MAX ...
#define PF_FIELD_MAX ...
#define PF_CATEGORY_MAX ...
#define PF_VALUE_MAX ...
#define PF_NOTE_MAX ...
#define PF_PROMPT_TEXT_MAX ...
#define PF_TAGS_MAX ...
#define PF_PREFS_MAX ...
int pf_id_format(char buf[], const pf_id *id);
int pf_id_parse(pf_id *out, const char *text);
int pf_id_is_zero(const pf_id *id);
int pf_date_make(pf_date *out, int year, int month, int day);

/* ---- opening */
typedef struct pf_db pf_db;
typedef pf_time (*pf_clock_fn)(void *payload);
#define PF_OPEN_READONLY ...
#define PF_OPEN_NOMETASYNC ...
#define PF_OPEN_NORDAHEAD ...
#define PF_OPTIONS_VERSION ...
typedef struct pf_options {
	unsigned int version;
	size_t map_size;
	unsigned int flags;
	pf_clock_fn clock;
	void *clock_payload;
	const char *timezone;
	int utc_offset_minutes;
	int business_day_end;
	int complaint_cutoff;
	size_t max_map_size;
	const char *property;
} pf_options;
int pf_options_init(pf_options *opts, unsigned int version);
#define PF_PROPERTY_MAX ...
int pf_property(const char **out, pf_db *db);
#define PF_DIGEST_SIZE ...
int pf_digest(unsigned char out[], pf_db *db);

/* ---- a hotel chain: the change feed and the apply step (wrapped by
 *      libprofile/chain.py) */
#define PF_CHAIN_AHEAD_MAX ...
#define PF_CHANGES_MAX ...
typedef struct pf_change {
	uint64_t seq;
	const unsigned char *data;
	size_t len;
} pf_change;
typedef struct pf_change_list {
	size_t count;
	pf_change *items;
} pf_change_list;
int pf_changes_read(pf_change_list **out, pf_db *db, uint64_t after, size_t max);
void pf_change_list_free(pf_change_list *list);
int pf_changes_last(uint64_t *seq, pf_db *db);
int pf_change_origin(char origin[], uint64_t *seq,
                     const unsigned char *data, size_t len);
typedef struct pf_apply_report {
	size_t applied;
	size_t duplicates;
	size_t discarded;
	size_t refused;
	size_t own;
	size_t waiting;
} pf_apply_report;
int pf_changes_apply(pf_db *db, const pf_change *changes, size_t n,
                     pf_apply_report *report);
int pf_chain_mark(uint64_t *seq, pf_db *db, const char *origin);
int pf_chain_published(uint64_t *seq, pf_db *db);
int pf_chain_set_published(pf_db *db, uint64_t seq);
int pf_chain_rejoin(pf_db *db, const char *property);
int pf_chain_epoch(uint64_t *epoch, pf_db *db);
int pf_open(pf_db **out, const char *path, const pf_options *opts);
void pf_close(pf_db *db);
pf_time pf_now(pf_db *db);

/* ---- guests */
typedef enum {
	PF_TIER_NONE = 0,
	PF_TIER_SILVER,
	PF_TIER_GOLD,
	PF_TIER_PLATINUM,
	PF_TIER_VIP
} pf_tier;
const char *pf_tier_name(pf_tier tier);
int pf_tier_parse(pf_tier *out, const char *name);
#define PF_CONSENT_PROFILING ...
#define PF_CONSENT_MARKETING ...
typedef enum { PF_LIKE = 0, PF_DISLIKE, PF_NEED } pf_pref_kind;
const char *pf_pref_kind_name(pf_pref_kind kind);
typedef struct pf_pref {
	const char *category;
	const char *value;
	pf_pref_kind kind;
	const char *department;
	const char *staff;
	const char *note;
	uint32_t count;
	pf_time first_seen;
	pf_time last_seen;
} pf_pref;
#define PF_GUEST_VERSION ...
typedef struct pf_guest {
	unsigned int version;
	pf_id id;
	const char *name;
	const char *email;
	const char *phone;
	const char *language;
	const char *loyalty_no;
	pf_date birth_date;
	pf_tier tier;
	const char *const *tags;
	size_t tag_count;
	unsigned int consent;
	const char *external_id;
	const char *country;
	pf_time created;
	pf_time updated;
	uint32_t stays;
	const pf_pref *prefs;
	size_t pref_count;
	uint32_t complaints_open;
	uint32_t complaints_total;
	pf_time not_satisfied_at;
} pf_guest;
typedef struct pf_guest_list {
	size_t count;
	pf_guest **items;
	int truncated;
} pf_guest_list;
int pf_guest_put(pf_db *db, pf_guest *g);
#define PF_GUEST_NAME ...
#define PF_GUEST_EMAIL ...
#define PF_GUEST_PHONE ...
#define PF_GUEST_LANGUAGE ...
#define PF_GUEST_LOYALTY_NO ...
#define PF_GUEST_BIRTH_DATE ...
#define PF_GUEST_TIER ...
#define PF_GUEST_TAGS ...
#define PF_GUEST_CONSENT ...
#define PF_GUEST_EXTERNAL_ID ...
#define PF_GUEST_COUNTRY ...
#define PF_GUEST_ALL ...
int pf_guest_update(pf_db *db, const pf_id *id, const pf_guest *fields,
                    unsigned int mask);
int pf_guest_get_or_put(pf_guest **out, int *created, pf_db *db,
                        const pf_guest *g);
int pf_guest_get(pf_guest **out, pf_db *db, const pf_id *id);
void pf_guest_free(pf_guest *g);
#define PF_FIND_LIMIT ...
int pf_guest_find(pf_guest_list **out, pf_db *db, const char *query);
void pf_guest_list_free(pf_guest_list *list);

/* ---- preferences */
#define PF_OBSERVATION_VERSION ...
typedef struct pf_observation {
	unsigned int version;
	pf_pref_kind kind;
	const char *department;
	const char *staff;
	const char *note;
	pf_time time;
} pf_observation;
int pf_pref_set(pf_db *db, const pf_id *guest, const char *category,
                const char *value, const pf_observation *obs);
int pf_pref_get(pf_pref **out, pf_db *db, const pf_id *guest, const char *category);
void pf_pref_free(pf_pref *pref);
int pf_pref_del(pf_db *db, const pf_id *guest, const char *category);
typedef struct pf_pref_list {
	size_t count;
	pf_pref *items;
} pf_pref_list;
int pf_pref_list_get(pf_pref_list **out, pf_db *db, const pf_id *guest);
void pf_pref_list_free(pf_pref_list *list);

/* ---- stays */
#define PF_STAY_VERSION ...
typedef struct pf_stay {
	unsigned int version;
	pf_id guest;
	const char *property;
	const char *room;
	pf_date arrival;
	pf_date departure;
	uint32_t party;
} pf_stay;
int pf_stay_add(pf_db *db, const pf_stay *stay);
int pf_stay_add_batch(pf_db *db, const pf_stay *stays, size_t n, size_t *failed);
typedef struct pf_stay_list {
	size_t count;
	pf_stay *items;
} pf_stay_list;
int pf_stay_list_get(pf_stay_list **out, pf_db *db, const pf_id *guest);
void pf_stay_list_free(pf_stay_list *list);

/* ---- rule book */
typedef struct pf_rule_error {
	int line;
	int column;
	char message[256];
} pf_rule_error;
int pf_rules_load(pf_db *db, const char *name, const char *text, size_t len,
                  pf_rule_error *err);
int pf_rules_load_file(pf_db *db, const char *path, pf_rule_error *err);
int pf_rules_clear(pf_db *db);
typedef struct pf_rule_info {
	const char *name;
	const char *source;
} pf_rule_info;
typedef struct pf_rule_list {
	size_t count;
	pf_rule_info *items;
} pf_rule_list;
int pf_rules_list(pf_rule_list **out, pf_db *db);
void pf_rule_list_free(pf_rule_list *list);

/* ---- events and prompts */
typedef enum {
	PF_EVENT_RESERVATION = 1,
	PF_EVENT_CHECK_IN,
	PF_EVENT_CHECK_OUT,
	PF_EVENT_ROOM_CHANGE
} pf_event_kind;
const char *pf_event_kind_name(pf_event_kind kind);
int pf_event_kind_parse(pf_event_kind *out, const char *name);
#define PF_EVENT_VERSION ...
typedef struct pf_event {
	unsigned int version;
	const char *id;
	pf_event_kind kind;
	pf_id guest;
	const char *property;
	const char *room;
	pf_date arrival;
	pf_date departure;
	uint32_t party;
	pf_time time;
} pf_event;
typedef enum {
	PF_PRIORITY_LOW = 0,
	PF_PRIORITY_NORMAL,
	PF_PRIORITY_HIGH,
	PF_PRIORITY_URGENT
} pf_priority;
const char *pf_priority_name(pf_priority p);
typedef enum {
	PF_PROMPT_PENDING = 0,
	PF_PROMPT_ACKNOWLEDGED,
	PF_PROMPT_DONE,
	PF_PROMPT_DISMISSED
} pf_prompt_status;
const char *pf_prompt_status_name(pf_prompt_status s);
typedef struct pf_prompt {
	pf_id id;
	pf_id guest;
	const char *event_id;
	const char *department;
	const char *rule;
	pf_priority priority;
	const char *text;
	pf_prompt_status status;
	pf_time created;
	pf_time due;
	const char *ack_by;
	pf_time ack_at;
	const char *done_by;
	pf_time done_at;
	const char *dismiss_reason;
	uint64_t seq;
	const char *language;
} pf_prompt;
typedef struct pf_prompt_list {
	size_t count;
	pf_prompt *items;
} pf_prompt_list;
void pf_prompt_list_free(pf_prompt_list *list);
int pf_fire(pf_prompt_list **out, pf_db *db, const pf_event *ev);
int pf_fire_batch(pf_prompt_list **out, pf_db *db, const pf_event *events, size_t count);
int pf_preview(pf_prompt_list **out, pf_db *db, const pf_event *ev);
int pf_prompt_get(pf_prompt **out, pf_db *db, const pf_id *prompt);
void pf_prompt_free(pf_prompt *prompt);
int pf_prompts_pending(pf_prompt_list **out, pf_db *db, const char *department);
int pf_prompts_pending_page(pf_prompt_list **out, pf_db *db, const char *department,
                            const pf_prompt *after, size_t limit);
int pf_prompts_overdue(pf_prompt_list **out, pf_db *db, const char *department, pf_time now);
int pf_prompt_ack(pf_db *db, const pf_id *prompt, const char *staff);
int pf_prompt_done(pf_db *db, const pf_id *prompt, const char *staff);
int pf_prompt_dismiss(pf_db *db, const pf_id *prompt, const char *staff, const char *reason);
int pf_prompts_seq(uint64_t *seq, pf_db *db, const char *department);
int pf_prompts_since(pf_prompt_list **out, pf_db *db, const char *department, uint64_t since);
typedef void (*pf_prompt_fn)(const pf_prompt *prompt, void *payload);
int pf_subscribe(pf_db *db, const char *department, pf_prompt_fn fn, void *payload);
int pf_unsubscribe(pf_db *db, const char *department, pf_prompt_fn fn, void *payload);

/* ---- journal (journal.c; wrapped by libprofile/journal.py) */
typedef struct pf_journal_field {
	const char *name;
	const char *value;
} pf_journal_field;
typedef struct pf_journal_entry {
	uint64_t seq;
	pf_time time;
	const char *actor;
	const char *op;
	pf_id guest;
	pf_id object;
	const char *ref;
	const pf_journal_field *fields;
	size_t field_count;
} pf_journal_entry;
typedef struct pf_journal_iterator pf_journal_iterator;
int pf_journal_iter(pf_journal_iterator **out, pf_db *db, uint64_t since_seq,
                    const pf_id *guest);
int pf_journal_next(const pf_journal_entry **entry, pf_journal_iterator *it);
void pf_journal_iterator_free(pf_journal_iterator *it);
int pf_journal_last_seq(uint64_t *seq, pf_db *db);
int pf_journal_trim(pf_db *db, uint64_t before_seq, uint64_t *removed);

/* ---- feedback and service quality (feedback.c, quality.c, tz.c;
 *      wrapped by libprofile/feedback.py) */
typedef enum {
	PF_FEEDBACK_COMPLAINT = 0,
	PF_FEEDBACK_COMPLIMENT,
	PF_FEEDBACK_SUGGESTION
} pf_feedback_kind;
typedef enum {
	PF_FEEDBACK_OPEN = 0,
	PF_FEEDBACK_IN_PROGRESS,
	PF_FEEDBACK_RESOLVED,
	PF_FEEDBACK_CLOSED_UNRESOLVED
} pf_feedback_status;
typedef enum {
	PF_OUTCOME_NONE = 0,
	PF_OUTCOME_SATISFIED,
	PF_OUTCOME_NOT_SATISFIED
} pf_outcome;
#define PF_FEEDBACK_VERSION ...
typedef struct pf_feedback {
	unsigned int version;
	pf_id id;
	pf_id guest;
	pf_date stay;
	pf_feedback_kind kind;
	const char *department;
	const char *category;
	const char *text;
	int severity;
	const char *recorded_by;
	pf_time recorded_at;
	pf_feedback_status status;
	pf_time due;
	const char *resolution;
	const char *resolved_by;
	pf_time resolved_at;
	pf_id followup_prompt;
	pf_outcome outcome;
	const char *outcome_by;
	pf_time outcome_at;
} pf_feedback;
typedef struct pf_feedback_list {
	size_t count;
	pf_feedback *items;
} pf_feedback_list;
const char *pf_feedback_kind_name(pf_feedback_kind kind);
const char *pf_feedback_status_name(pf_feedback_status status);
const char *pf_outcome_name(pf_outcome outcome);
int pf_feedback_kind_parse(pf_feedback_kind *out, const char *name);
int pf_feedback_status_parse(pf_feedback_status *out, const char *name);
int pf_feedback_add(pf_db *db, pf_feedback *fb, const pf_pref *learn);
int pf_feedback_get(pf_feedback **out, pf_db *db, const pf_id *id);
void pf_feedback_free(pf_feedback *fb);
#define PF_FEEDBACK_ANY ...
#define PF_FEEDBACK_QUERY_VERSION ...
typedef struct pf_feedback_query {
	unsigned int version;
	int status;
	int kind;
} pf_feedback_query;
int pf_feedback_list_get(pf_feedback_list **out, pf_db *db, const pf_id *guest,
                         const pf_feedback_query *query);
void pf_feedback_list_free(pf_feedback_list *list);
int pf_feedback_update(pf_db *db, const pf_id *id, pf_feedback_status status,
                       const char *staff, const char *note);
int pf_feedback_resolve(pf_db *db, const pf_id *id, const char *staff,
                        const char *resolution);
int pf_feedback_followup(pf_db *db, const pf_id *id, const char *staff,
                         pf_outcome outcome);
int pf_complaint_due(pf_time *out, pf_db *db, pf_time recorded);
int pf_day_start(pf_time *out, pf_db *db, pf_date day);
int pf_utc_offset(int *out, pf_db *db, pf_time t);
typedef struct pf_quality_row {
	const char *department;
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
typedef struct pf_quality_report {
	pf_time from, to;
	uint32_t stays;
	pf_quality_row overall;
	size_t count;
	pf_quality_row *departments;
} pf_quality_report;
int pf_quality_report_get(pf_quality_report **out, pf_db *db, pf_time from, pf_time to);
void pf_quality_report_free(pf_quality_report *report);

/* ---- data lifecycle: duplicates, merge, erasure, backup, consent,
 *      retention (merge.c, erase.c, backup.c; wrapped by
 *      libprofile/lifecycle.py) */
#define PF_DUP_EMAIL ...
#define PF_DUP_PHONE ...
#define PF_DUP_LOYALTY ...
#define PF_DUP_NAME_BIRTH ...
#define PF_DUP_SIMILAR_NAME ...
typedef struct pf_duplicate {
	pf_id guest;
	int score;
	unsigned int reasons;
} pf_duplicate;
typedef struct pf_duplicate_list {
	size_t count;
	pf_duplicate *items;
} pf_duplicate_list;
typedef struct pf_retention_report {
	uint64_t examined;
	uint64_t anonymised;
} pf_retention_report;
int pf_guest_duplicates(pf_duplicate_list **out, pf_db *db, const pf_id *guest);
void pf_duplicate_list_free(pf_duplicate_list *list);
int pf_guest_not_duplicate(pf_db *db, const pf_id *a, const pf_id *b);
int pf_guest_merge(pf_id *merge_out, pf_db *db, const pf_id *keep,
                   const pf_id *duplicate);
int pf_guest_unmerge(pf_db *db, const pf_id *merge);
int pf_guest_erase(pf_db *db, const pf_id *guest);
int pf_compact(pf_db *db, const char *dest_dir);
int pf_backup(pf_db *db, const char *dest_dir);
int pf_guest_set_consent(pf_db *db, const pf_id *guest, unsigned int consent,
                         const char *actor);
int pf_retention_run(pf_retention_report *out, pf_db *db,
                     uint32_t days_without_stay, const char *actor);

/* ---- export and bulk import (export.c, import.c; wrapped by
 *      libprofile/dataio.py, which implements _pf_py_progress) */
typedef int (*pf_progress_fn)(uint64_t done, uint64_t total, void *payload);
typedef struct pf_import_reject {
	uint64_t line;
	const char *reason;
} pf_import_reject;
typedef struct pf_import_report {
	uint64_t rows;
	uint64_t created;
	uint64_t updated;
	uint64_t rejected;
	size_t reject_count;
	pf_import_reject *rejects;
} pf_import_report;
#define PF_IMPORT_OPTIONS_VERSION ...
typedef struct pf_import_options {
	unsigned int version;
	size_t batch_size;
	const char *department;
	pf_progress_fn progress;
	void *payload;
} pf_import_options;
int pf_guest_export_json(char **out, pf_db *db, const pf_id *guest);
void pf_string_free(char *s);
int pf_import_csv(pf_import_report **out, pf_db *db, const char *path,
                  const pf_import_options *opts);
int pf_import_jsonl(pf_import_report **out, pf_db *db, const char *path,
                    const pf_import_options *opts);
void pf_import_report_free(pf_import_report *report);
int pf_export_jsonl(pf_db *db, const char *path);
int pf_export_csv(pf_db *db, const char *path);
extern "Python" int _pf_py_progress(uint64_t done, uint64_t total, void *payload);

/* ---- callbacks implemented in Python (see libprofile/_callbacks.py) */
extern "Python" pf_time _pf_py_clock(void *payload);
extern "Python" void _pf_py_prompt(const pf_prompt *prompt, void *payload);
"""


HEADER = "libprofile.h"
LIBRARY = "libprofile.so"   # the development link -lprofile needs


def _pkg_config(*args):
    """Output words of pkg-config, or None if it or the package is missing."""
    try:
        out = subprocess.run(["pkg-config", *args, "libprofile"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def _pkg_config_state():
    """Why pkg-config did not give libprofile, for the error message."""
    try:
        subprocess.run(["pkg-config", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return "pkg-config: not installed"
    path = os.environ.get("PKG_CONFIG_PATH")
    where = f"PKG_CONFIG_PATH={path}" if path else "PKG_CONFIG_PATH is not set"
    return f"pkg-config: no libprofile.pc on its search path ({where})"


def _default_lib_dirs():
    dirs = ["/usr/local/lib", "/usr/lib"]
    multiarch = sysconfig.get_config_var("MULTIARCH")
    if multiarch:
        dirs += [f"/usr/local/lib/{multiarch}", f"/usr/lib/{multiarch}"]
    return dirs + ["/usr/lib64"]


def _first_with(name, dirs):
    """The first of `dirs` that holds a file `name`, or None."""
    for d in dirs:
        if os.path.isfile(os.path.join(d, name)):
            return d
    return None


def _message(missing, looked, pkg_config_note):
    what = " and ".join(missing)
    lines = [f"libprofile: cannot build the Python binding: {what} "
             f"{'was' if len(missing) == 1 else 'were'} not found."]
    for name, (dirs, how) in looked.items():
        if name in missing:
            lines.append(f"  {name}: looked in {', '.join(dirs) or '(nothing)'} ({how})")
    if pkg_config_note:
        lines.append("  " + pkg_config_note)
    lines += [
        "The binding needs the libprofile C library installed first.  At the top",
        "of the libprofile source tree:",
        "    make install                          # into /usr/local (as root)",
        "or, without root:",
        "    make install PREFIX=$HOME/.local",
        "    export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig",
        "then run pip install again.  Or set LIBPROFILE_INCLUDE_DIR and",
        f"LIBPROFILE_LIBRARY_DIR to the directories holding {HEADER} and {LIBRARY}.",
    ]
    return "\n".join(lines)


def locate():
    """(include_dirs, library_dirs) of the libprofile to build against.

    Raises SystemExit with a message naming what is missing, where it was
    looked for and how to install it when libprofile.h or libprofile.so
    cannot be found: a build must not get as far as the compiler's
    "libprofile.h: No such file or directory".
    """
    env_inc = os.environ.get("LIBPROFILE_INCLUDE_DIR")
    env_lib = os.environ.get("LIBPROFILE_LIBRARY_DIR")
    pc_note = None
    pc_inc = pc_lib = None
    if not (env_inc and env_lib):
        cflags = _pkg_config("--cflags-only-I")
        libs = _pkg_config("--libs-only-L")
        if cflags is not None and libs is not None:
            # pkg-config leaves out -I/usr/include and -L/usr/lib: check
            # the .pc file's own directories too.
            incdir = (_pkg_config("--variable=includedir") or [None])[0]
            libdir = (_pkg_config("--variable=libdir") or [None])[0]
            pc_inc = [w[2:] for w in cflags if w.startswith("-I")]
            pc_lib = [w[2:] for w in libs if w.startswith("-L")]
            pc_inc_search = pc_inc + ([incdir] if incdir else [])
            pc_lib_search = pc_lib + ([libdir] if libdir else [])
        else:
            pc_note = _pkg_config_state()

    if env_inc:
        inc_search, inc_how = [os.path.abspath(env_inc)], "LIBPROFILE_INCLUDE_DIR"
    elif pc_inc is not None:
        inc_search, inc_how = pc_inc_search, "from pkg-config libprofile"
    else:
        inc_search, inc_how = ["/usr/local/include", "/usr/include"], "the defaults"
    if env_lib:
        lib_search, lib_how = [os.path.abspath(env_lib)], "LIBPROFILE_LIBRARY_DIR"
    elif pc_lib is not None:
        lib_search, lib_how = pc_lib_search, "from pkg-config libprofile"
    else:
        lib_search, lib_how = _default_lib_dirs(), "the defaults"

    inc = _first_with(HEADER, inc_search)
    lib = _first_with(LIBRARY, lib_search)
    missing = [n for n, found in ((HEADER, inc), (LIBRARY, lib)) if found is None]
    if missing:
        raise SystemExit(_message(missing, {HEADER: (inc_search, inc_how),
                                            LIBRARY: (lib_search, lib_how)}, pc_note))
    # Other -I flags pkg-config gives (its Requires) are kept.
    return [inc] + [d for d in (pc_inc or []) if d != inc and not env_inc], [lib]


_include_dirs, _library_dirs = locate()

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "libprofile._libprofile",
    '#include "libprofile.h"',
    include_dirs=_include_dirs,
    library_dirs=_library_dirs,
    libraries=["profile"],
    # Warnings are errors: a cdef that disagrees with the header (pointer
    # types, const) is only a warning to the C compiler otherwise.
    extra_compile_args=["-Werror", "-Wall", "-Wextra"],
    extra_link_args=["-Wl,-rpath," + d for d in _library_dirs],
)

# Run in a fresh interpreter on the built extension.  cffi compares the
# cdef's struct field sizes and offsets, and enum values, with what the C
# compiler saw only when a type is first used; using every type here turns
# a mismatch (say uint64_t declared for a uint32_t field, which C accepts
# silently as "an integer") into a build failure too.
_VERIFY = r"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("libprofile._libprofile", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
ffi = mod.ffi
typedefs, structs, unions = ffi.list_types()
names = typedefs + ["struct " + n for n in structs] + ["union " + n for n in unions]
for name in names:
    t = ffi.typeof(name)
    if t.kind in ("struct", "union"):
        t.fields
    elif t.kind == "enum":
        t.elements
print("libprofile: verified", len(names), "types against libprofile.h", file=sys.stderr)
"""


def build_in_place() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    print("libprofile: building against", _include_dirs, _library_dirs,
          file=sys.stderr)
    ext = ffibuilder.compile(tmpdir=here, verbose=False)
    rc = subprocess.run([sys.executable, "-c", _VERIFY, ext]).returncode
    if rc != 0:
        os.unlink(ext)
        print("libprofile: the cdef in build_ffi.py disagrees with libprofile.h",
              file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(build_in_place())
