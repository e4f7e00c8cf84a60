"""Build the CFFI extension ``libprofile._libprofile`` (out-of-line API mode).

The cdef below is written by hand from include/libprofile.h.  In API mode
the C compiler compiles it against the real header, with -Werror, so a
declaration that disagrees with the header (a wrong field type, a missing
const, a changed signature) fails the build instead of corrupting memory
at run time.

Where the header and library come from, first match wins:
  1. LIBPROFILE_INCLUDE_DIR / LIBPROFILE_LIBRARY_DIR (the Makefile sets them
     to include/ and build/ of the source tree);
  2. ``pkg-config libprofile`` (an installed library, for pip install);
  3. /usr/local/include and /usr/local/lib.
The library directory is also written as the extension's rpath, so tests
run against a freshly built library without installing it.

Run directly (``python3 build_ffi.py``) to build the extension in place,
next to the package sources; setup.py uses ``ffibuilder`` through
``cffi_modules``.
"""

import os
import shlex
import subprocess
import sys

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
	PF_ITEROVER  = -12
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
#define PF_OPTIONS_VERSION ...
typedef struct pf_options {
	unsigned int version;
	size_t map_size;
	unsigned int flags;
	pf_clock_fn clock;
	void *clock_payload;
} pf_options;
int pf_options_init(pf_options *opts, unsigned int version);
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
typedef struct pf_guest {
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
	pf_time created;
	pf_time updated;
	uint32_t stays;
	const pf_pref *prefs;
	size_t pref_count;
} pf_guest;
typedef struct pf_guest_list {
	size_t count;
	pf_guest **items;
} pf_guest_list;
int pf_guest_put(pf_db *db, pf_guest *g);
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
typedef struct pf_stay {
	pf_id guest;
	const char *property;
	const char *room;
	pf_date arrival;
	pf_date departure;
	uint32_t party;
} pf_stay;
int pf_stay_add(pf_db *db, const pf_stay *stay);
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
} pf_prompt;
typedef struct pf_prompt_list {
	size_t count;
	pf_prompt *items;
} pf_prompt_list;
void pf_prompt_list_free(pf_prompt_list *list);
int pf_fire(pf_prompt_list **out, pf_db *db, const pf_event *ev);
int pf_preview(pf_prompt_list **out, pf_db *db, const pf_event *ev);
int pf_prompt_get(pf_prompt_list **out, pf_db *db, const pf_id *prompt);
int pf_prompts_pending(pf_prompt_list **out, pf_db *db, const char *department);
int pf_prompts_overdue(pf_prompt_list **out, pf_db *db, const char *department, pf_time now);
int pf_prompt_ack(pf_db *db, const pf_id *prompt, const char *staff);
int pf_prompt_done(pf_db *db, const pf_id *prompt, const char *staff);
int pf_prompt_dismiss(pf_db *db, const pf_id *prompt, const char *staff, const char *reason);
int pf_prompts_seq(uint64_t *seq, pf_db *db, const char *department);
int pf_prompts_since(pf_prompt_list **out, pf_db *db, const char *department, uint64_t since);
typedef void (*pf_prompt_fn)(const pf_prompt *prompt, void *payload);
int pf_subscribe(pf_db *db, const char *department, pf_prompt_fn fn, void *payload);
int pf_unsubscribe(pf_db *db, const char *department, pf_prompt_fn fn, void *payload);

/* ---- callbacks implemented in Python (see libprofile/_callbacks.py) */
extern "Python" pf_time _pf_py_clock(void *payload);
extern "Python" void _pf_py_prompt(const pf_prompt *prompt, void *payload);
"""


def _pkg_config(*args):
    """Output words of pkg-config, or None if it or the package is missing."""
    try:
        out = subprocess.run(["pkg-config", *args, "libprofile"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def _locate():
    """(include_dirs, library_dirs) of the libprofile to build against."""
    inc = os.environ.get("LIBPROFILE_INCLUDE_DIR")
    lib = os.environ.get("LIBPROFILE_LIBRARY_DIR")
    if inc and lib:
        return [os.path.abspath(inc)], [os.path.abspath(lib)]
    cflags = _pkg_config("--cflags-only-I")
    libs = _pkg_config("--libs-only-L")
    if cflags is not None and libs is not None:
        incs = [w[2:] for w in cflags if w.startswith("-I")]
        libdirs = [w[2:] for w in libs if w.startswith("-L")]
    else:
        incs, libdirs = ["/usr/local/include"], ["/usr/local/lib"]
    return [os.path.abspath(inc)] if inc else incs, \
           [os.path.abspath(lib)] if lib else libdirs


_include_dirs, _library_dirs = _locate()

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
