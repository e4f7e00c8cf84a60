"""setuptools entry point: compiles build_ffi.py's extension (cffi_modules).

Metadata lives in pyproject.toml; the package list is here.  Offline
install against an installed libprofile:

    pip install --no-build-isolation ./bindings/python

build_ffi.py first checks that libprofile.h and libprofile.so can be
found (LIBPROFILE_INCLUDE_DIR / LIBPROFILE_LIBRARY_DIR, pkg-config, the
defaults) and stops with a message saying how to install them if not.

The optional extension libprofile._sync (db.sync, over NATS) is built too
when build_ffi_sync.py finds libprofile-sync (LIBPROFILE_SYNC_INCLUDE_DIR /
LIBPROFILE_SYNC_LIBRARY_DIR, pkg-config libprofile-sync, the defaults);
without it the package installs without syncing.

Every run builds in a fresh temporary directory, removed at exit, never
in ./build: setuptools skips compiling an extension whose output in
build/ looks up to date, so a build/ left by an earlier install (against
another library, or before the library was removed) would be packaged
instead of the real thing.
"""

import atexit
import os
import shutil
import sys
import tempfile

from setuptools import setup

_BUILD = tempfile.mkdtemp(prefix="libprofile-build-")
atexit.register(shutil.rmtree, _BUILD, ignore_errors=True)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_ffi_sync  # noqa: E402

_MODULES = ["build_ffi.py:ffibuilder"]
if build_ffi_sync.available():
    _MODULES.append("build_ffi_sync.py:ffibuilder")

setup(
    packages=["libprofile"],
    package_data={"libprofile": ["py.typed"]},
    cffi_modules=_MODULES,
    options={"build": {"build_base": _BUILD},
             # Whatever build_base says, never trust an existing output.
             "build_ext": {"force": True}},
)
