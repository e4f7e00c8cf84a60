"""Build the optional CFFI extension ``libprofile._sync`` (out-of-line API
mode), linked against libprofile-sync: a hotel chain's changes carried
between properties over NATS JetStream (include/libprofile_sync.h).

It is a module of its own so that ``import libprofile`` never needs NATS:
a single hotel or a kiosk builds only ``libprofile._libprofile``
(build_ffi.py), and ``db.sync()`` says how to build this one when it is
missing.  The cdef includes build_ffi.py's (``ffibuilder.include``), so
the two modules share their types: the ``pf_db *`` of an open Database
passes straight to pf_sync_open(), and ``libprofile._libprofile`` is
imported first at run time.  As there, the cdef is compiled against the
real header with -Werror and every type is checked after the build.

Where libprofile_sync.h and libprofile-sync.so come from, first match wins:
  1. LIBPROFILE_SYNC_INCLUDE_DIR / LIBPROFILE_SYNC_LIBRARY_DIR, else
     LIBPROFILE_INCLUDE_DIR / LIBPROFILE_LIBRARY_DIR (the Makefile sets
     them to include/ and build/ of the source tree);
  2. ``pkg-config libprofile-sync``;
  3. /usr/local and /usr.
If they are not found the build stops with a message saying so.  libnats
is linked through libprofile-sync.so (its own dependency); the library
directory is written as the extension's rpath.

Run directly (``python3 build_ffi_sync.py``) to build in place.
"""

import os
import shlex
import subprocess
import sys

from cffi import FFI

import build_ffi

CDEF = r"""
/* ---- libprofile-sync (include/libprofile_sync.h) */
typedef struct pf_sync pf_sync;
#define PF_SYNC_OPTIONS_VERSION ...
#define PF_CHAIN_NAME_MAX ...
typedef struct pf_sync_options {
	unsigned int version;
	int64_t max_age;
	int timeout_ms;
	int replicas;
} pf_sync_options;
typedef struct pf_sync_counts {
	size_t pushed;
	size_t pulled;
	pf_apply_report apply;
} pf_sync_counts;
int pf_sync_open(pf_sync **out, pf_db *db, const char *url, const char *chain,
                 const pf_sync_options *opts);
int pf_sync_round(pf_sync *s, size_t max, pf_sync_counts *counts);
int pf_sync_start(pf_sync *s, int interval_ms);
int pf_sync_stop(pf_sync *s);
typedef struct pf_sync_stats {
	uint64_t rounds, failed_rounds;
	uint64_t pushed, pulled, applied;
	int last_error;
} pf_sync_stats;
int pf_sync_stats_get(pf_sync *s, pf_sync_stats *out);
void pf_sync_close(pf_sync *s);
"""

HEADER = "libprofile_sync.h"
LIBRARY = "libprofile-sync.so"


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "libprofile-sync"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def locate():
    """(include_dirs, library_dirs) of libprofile-sync; SystemExit with a
    message naming what is missing and where it was looked for."""
    env_inc = (os.environ.get("LIBPROFILE_SYNC_INCLUDE_DIR")
               or os.environ.get("LIBPROFILE_INCLUDE_DIR"))
    env_lib = (os.environ.get("LIBPROFILE_SYNC_LIBRARY_DIR")
               or os.environ.get("LIBPROFILE_LIBRARY_DIR"))
    inc_search, lib_search = [], []
    if env_inc:
        inc_search.append(os.path.abspath(env_inc))
    if env_lib:
        lib_search.append(os.path.abspath(env_lib))
    if not (env_inc and env_lib):
        for w in _pkg_config("--cflags-only-I") or []:
            if w.startswith("-I"):
                inc_search.append(w[2:])
        for w in _pkg_config("--libs-only-L") or []:
            if w.startswith("-L"):
                lib_search.append(w[2:])
        inc_search += (_pkg_config("--variable=includedir") or [])
        lib_search += (_pkg_config("--variable=libdir") or [])
        inc_search += ["/usr/local/include", "/usr/include"]
        lib_search += build_ffi._default_lib_dirs()
    inc = build_ffi._first_with(HEADER, inc_search)
    lib = build_ffi._first_with(LIBRARY, lib_search)
    missing = [n for n, found in ((HEADER, inc), (LIBRARY, lib)) if found is None]
    if missing:
        raise SystemExit(
            f"libprofile: cannot build libprofile._sync: {' and '.join(missing)} not found\n"
            f"  {HEADER}: looked in {', '.join(inc_search)}\n"
            f"  {LIBRARY}: looked in {', '.join(lib_search)}\n"
            "It is the optional extension for db.sync(); it needs libprofile-sync,\n"
            "which the top Makefile builds into build/ when libnats-dev is installed.")
    return [inc], [lib]


def available() -> bool:
    """True when libprofile-sync can be found (setup.py builds _sync then)."""
    try:
        locate()
    except SystemExit:
        return False
    return True


if __name__ == "__main__" or available():
    _include_dirs, _library_dirs = locate()
    _include_dirs += [d for d in build_ffi._include_dirs if d not in _include_dirs]
    _library_dirs += [d for d in build_ffi._library_dirs if d not in _library_dirs]

    ffibuilder = FFI()
    ffibuilder.include(build_ffi.ffibuilder)
    ffibuilder.cdef(CDEF)
    ffibuilder.set_source(
        "libprofile._sync",
        '#include "libprofile_sync.h"',
        include_dirs=_include_dirs,
        library_dirs=_library_dirs,
        libraries=["profile-sync", "profile"],
        extra_compile_args=["-Werror", "-Wall", "-Wextra"],
        extra_link_args=["-Wl,-rpath," + d for d in _library_dirs],
    )

_VERIFY = r"""
import sys
sys.path.insert(0, sys.argv[2])
import libprofile._libprofile
import importlib.util
spec = importlib.util.spec_from_file_location("libprofile._sync", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
ffi = mod.ffi
names = ["pf_sync_options", "pf_sync_counts", "pf_sync_stats"]
for name in names:
    ffi.typeof(name).fields
print("libprofile: verified", len(names), "types against libprofile_sync.h", file=sys.stderr)
"""


def build_in_place() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    print("libprofile: building _sync against", _include_dirs, _library_dirs,
          file=sys.stderr)
    ext = ffibuilder.compile(tmpdir=here, verbose=False)
    rc = subprocess.run([sys.executable, "-c", _VERIFY, ext, here]).returncode
    if rc != 0:
        os.unlink(ext)
        print("libprofile: the cdef in build_ffi_sync.py disagrees with libprofile_sync.h",
              file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(build_in_place())
