#!/usr/bin/python3
"""
tests/owners.py -- one owner per database (run by `make check`).

Each named LMDB database is opened, keyed and written by exactly one file
of libprofile/; every other file goes through that file's functions.  This
check reads libprofile/*.c and libprofile/*.h (comments and strings
removed) and fails, naming file:line and the owner, when

  * a PF_DBI_<NAME> handle appears outside the file that owns <NAME>;
  * PF_DBI_COUNT or pf_dbi_names (whole-environment work) appears outside
    the files that do whole-environment work;
  * a database handle is picked by a variable (db->dbi[i]) outside the
    files allowed to do that -- a generic helper would hide a raw use.

The owner table (it matches the layer table of libprofile/README.md,
which this script also checks for the databases it names):

    database   owner
    --------   ----------
    META       store.c     (schema version, sequences: pf_meta_*)
    GUEST      guest.c
    CONTACT    guest.c
    NAME       guest.c
    STAY       stay.c
    RULE       event.c
    EVENT      event.c
    PROMPT     prompt.c
    QUEUE      prompt.c
    FEEDBACK   feedback.c
    JOURNAL    journal.c
    CHAIN      chain_reg.c (the other chain files own key ranges: chain.h)

store.c opens every database by name (the environment is its job), so it
may name every PF_DBI_*; store.h declares them.  PF_DBI_COUNT and
pf_dbi_names are for whole-environment work: store.c (open), backup.c
(compaction copies every database), verify.c (per-database record counts).

EXCEPTIONS below are the uses this pass leaves, each with its reason; a
line there is a debt, not a second owner.  Usage:
    tests/owners.py [ROOT]     (ROOT defaults to the repository root)
"""
import os
import re
import sys

OWNER = {
    "META": "store.c",
    "GUEST": "guest.c",
    "CONTACT": "guest.c",
    "NAME": "guest.c",
    "STAY": "stay.c",
    "RULE": "event.c",
    "EVENT": "event.c",
    "PROMPT": "prompt.c",
    "QUEUE": "prompt.c",
    "FEEDBACK": "feedback.c",
    "JOURNAL": "journal.c",
    "CHAIN": "chain_reg.c",
}

# Files that may name every database: the environment.
EVERY_DB = {"store.c", "store.h"}

# Whole-environment work: PF_DBI_COUNT and pf_dbi_names.
WHOLE_ENV = {"store.c", "store.h", "backup.c", "verify.c"}

# Files that may pick a handle with a variable (db->dbi[i]), and why.
INDIRECT = {
    "store.c": "opens and closes every database",
    "backup.c": "compaction copies every database",
    "verify.c": "per-database record counts, and its walks (READ_ONLY)",
}

# (file, database) -> reason.  "*" stands for every database.
EXCEPTIONS = {
}

# Read-only checkers: they may read any database (with keys the owners
# build: pf_stay_key, pf_guest_index_keys, pf_prompt_queue_keys, ...) but
# never open, key or write one -- so a write call in them is a problem.
# verify.c must tell LMDB's own damage codes apart from decoding errors
# record by record, which an owner's decoded walk would hide.
READ_ONLY = {"verify.c"}
WRITE_CALL = re.compile(r"\b(pf_store_put|pf_store_del|pf_store_write|mdb_put|mdb_del|"
                        r"mdb_cursor_put|mdb_cursor_del|mdb_drop|pf_meta_put_u64|pf_meta_next)\s*\(")

TOKEN = re.compile(r"\b(PF_DBI_[A-Z_]+|pf_dbi_names)\b")
INDIRECT_USE = re.compile(r"dbi\s*\[\s*(?!PF_DBI_)[^\]]+\]")


def strip(src):
    """Blank out comments, string and character literals, keeping newlines
    (so line numbers stay right)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * (j - i - 2) + (c if j - i >= 2 else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def readme_check(root, problems):
    """The layer table of libprofile/README.md must give each owner its
    databases (`guest`, `contact`... in its "owns" column)."""
    path = os.path.join(root, "libprofile", "README.md")
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        problems.append(f"{path}: cannot read ({e})")
        return
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*`([a-z_]+\.c)`\s*\|([^|]*)\|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    for dbname, owner in OWNER.items():
        if dbname == "META":
            continue        # the README's store.c row names the environment
        owns = rows.get(owner)
        if owns is None:
            problems.append(f"libprofile/README.md: no layer-table row for {owner}")
        elif f"`{dbname.lower()}`" not in owns:
            problems.append(f"libprofile/README.md: the {owner} row does not own "
                            f"`{dbname.lower()}` (owner table: {dbname} -> {owner})")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src_dir = os.path.join(root, "libprofile")
    problems = []
    files = sorted(f for f in os.listdir(src_dir) if f.endswith((".c", ".h")))
    for name in files:
        with open(os.path.join(src_dir, name), encoding="utf-8") as fh:
            lines = strip(fh.read()).split("\n")
        for no, line in enumerate(lines, 1):
            where = f"libprofile/{name}:{no}"
            for m in TOKEN.finditer(line):
                tok = m.group(1)
                if tok in ("PF_DBI_COUNT", "pf_dbi_names"):
                    if name not in WHOLE_ENV:
                        problems.append(f"{where}: {tok} outside whole-environment work "
                                        f"(allowed in {', '.join(sorted(WHOLE_ENV))})")
                    continue
                db = tok[len("PF_DBI_"):]
                owner = OWNER.get(db)
                if owner is None:
                    problems.append(f"{where}: {tok} is not in the owner table")
                    continue
                if name == owner or name in EVERY_DB:
                    continue
                if (name, db) in EXCEPTIONS or (name, "*") in EXCEPTIONS:
                    continue
                if name in READ_ONLY:
                    continue
                problems.append(f"{where}: {tok} used outside its owner "
                                f"(owner: {owner}; go through {owner}'s functions)")
            if name in READ_ONLY:
                for m in WRITE_CALL.finditer(line):
                    problems.append(f"{where}: {m.group(1)} in a read-only checker "
                                    f"(it may read any database, never write one)")
            for m in INDIRECT_USE.finditer(line):
                if name not in INDIRECT and name not in EVERY_DB:
                    problems.append(f"{where}: a database handle picked by a variable "
                                    f"({m.group(0)}): name the database, in its owner")
    readme_check(root, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"owners: {len(problems)} problem(s); the owner table is at the top of "
              f"tests/owners.py", file=sys.stderr)
        return 1
    print(f"owners: ok ({len(files)} files; {len(EXCEPTIONS)} known exception(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
