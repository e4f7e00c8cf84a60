#!/usr/bin/env python3
"""tests/check_version.py — owns the rule that libprofile states one version.

The single source is include/libprofile.h: PF_VERSION_MAJOR, _MINOR and
_PATCH.  Everything else either derives from it or is checked against it
here; any disagreement fails (exit 1) and names the places that differ.

  derived (checked all the same, to catch a broken derivation or a stale
  build):
    Makefile VERSION       awk over the header        (--make-version)
    build/libprofile.pc    Version: $(VERSION)        (--pc)
    Python __version__     the header the binding was compiled against
    Python version()       pf_version() of the shared library it loaded
  written out, so only this check keeps them in step:
    PF_VERSION_STRING      the header's string macro; kept a literal,
                           which tools and tests read with a regex
    pyproject.toml         [project] version; kept literal so that
                           `pip install ./bindings/python` works anywhere,
                           offline, with Debian's setuptools, even from an
                           sdist that has no ../../include
    CHANGELOG.md           the latest numbered release heading

CHANGELOG rule: "## [Unreleased]" stays on top and is not a version; the
first heading "## [X.Y.Z]" below it must equal the header's version.
Between releases the header keeps the last released version while changes
gather under [Unreleased]; a release renames [Unreleased] to
"[X.Y.Z] - date" and bumps the three macros in the same commit.  A bump
without its CHANGELOG heading, or a heading without the bump, fails.

Run by `make _check-version` (part of `make check`), after `make python`:

  tests/check_version.py --make-version 0.2.0 --pc build/libprofile.pc

Run by hand, --make-version and --pc may be left out; those two are then
reported as skipped.
"""

import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # nothing written into bindings/python/
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(rel):
    with open(os.path.join(REPO, rel), encoding="utf-8") as f:
        return f.read()


def header_version():
    text = read("include/libprofile.h")
    parts = []
    for name in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"^#define PF_VERSION_%s (\d+)\s*$" % name, text, re.M)
        if not m:
            sys.exit("check-version: PF_VERSION_%s not found in include/libprofile.h" % name)
        parts.append(m.group(1))
    s = re.search(r'^#define PF_VERSION_STRING "([^"]*)"', text, re.M)
    return ".".join(parts), (s.group(1) if s else None)


def pyproject_version():
    text = read("bindings/python/pyproject.toml")
    try:
        import tomllib  # Python 3.11
        return tomllib.loads(text).get("project", {}).get("version")
    except ImportError:
        section = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        m = section and re.search(r'^version\s*=\s*"([^"]*)"', section.group(1), re.M)
        return m.group(1) if m else None


def changelog_version():
    for line in read("CHANGELOG.md").splitlines():
        m = re.match(r"^## \[([^\]]+)\]", line)
        if m and m.group(1).lower() != "unreleased":
            return m.group(1)
    return None


def pc_version(path):
    with open(path, encoding="utf-8") as f:
        m = re.search(r"^Version:\s*(\S+)\s*$", f.read(), re.M)
    return m.group(1) if m else None


def python_versions():
    sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
    try:
        import libprofile
    except Exception as e:  # not built, or refuses the library it found
        msg = "cannot import the binding (run `make python`): %s" % e
        return msg, msg
    return libprofile.__version__, libprofile.version()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--make-version", help="the Makefile's $(VERSION)")
    ap.add_argument("--pc", help="the generated libprofile.pc")
    args = ap.parse_args()

    truth, string = header_version()
    py_version, py_library = python_versions()
    found = [
        ("include/libprofile.h PF_VERSION_STRING", string),
        ("Makefile VERSION", args.make_version),
        ("libprofile.pc Version", pc_version(args.pc) if args.pc else None),
        ("bindings/python/pyproject.toml version", pyproject_version()),
        ("libprofile.__version__ (Python)", py_version),
        ("libprofile.version() (loaded library)", py_library),
        ("CHANGELOG.md latest release heading", changelog_version()),
    ]
    skippable = {"Makefile VERSION": args.make_version,
                 "libprofile.pc Version": args.pc}

    bad = 0
    print("check-version: include/libprofile.h PF_VERSION_MAJOR.MINOR.PATCH = %s" % truth)
    for where, value in found:
        if where in skippable and skippable[where] is None:
            print("  skipped  %s (not given)" % where)
            continue
        ok = value == truth
        bad += not ok
        print("  %-7s  %s = %s" % ("ok" if ok else "DIFFERS", where, value))
    if bad:
        print("check-version: %d place(s) disagree with include/libprofile.h "
              "(see tests/check_version.py for which are derived)" % bad)
        return 1
    print("check-version: ok (%s everywhere)" % truth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
