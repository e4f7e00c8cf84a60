"""The README's console session, replayed: every `$ frontdesk ...`,
`$ kiosk ...` and `$ export ...` line of README.md's plain code blocks, in
order, in one temporary directory, and each command's output compared with
what the README shows.

The README's output is real but its ids are random, so a hexadecimal id
(a whole UUID or its last 8 digits, the short id lists show) in the README's text stands for
whatever id the run printed at the same place: the first time an id is
seen it is bound to the run's id, and later commands that name it (`frontdesk
ack 4ec51eb2`, `frontdesk merge <uuid> <uuid>`) are rewritten to the run's.
Lines whose order depends on those random ids (prompts due at the same
minute sort by id) are compared as a multiset within one command's output.
Blocks that start with another program (`make`, python) are left to their
own tests.  The binaries are $FRONTDESK and the kiosk beside it.
"""

import os
import re
import shlex
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FRONTDESK = os.environ.get("FRONTDESK") or os.path.join(REPO, "build", "frontdesk")
BIN = os.path.dirname(FRONTDESK)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Every 8-hex-digit word is a short id, letters or not (a random id is all
# digits one time in 43); the README prints dates as 2026-11-23 and no
# other number of exactly eight digits.
ID_RE = re.compile(r"\b(%s|[0-9a-f]{8})\b" % UUID)
PROGRAMS = ("frontdesk", "kiosk", "export")


def readme_session():
    """[(command, [expected output lines])] of the README's console blocks."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    steps, in_block, lang, current = [], False, "", None
    for line in lines:
        if line.startswith("```"):
            in_block, lang, current = (not in_block), line[3:].strip(), None
            continue
        if not in_block or lang:
            continue
        if line.startswith("$ "):
            cmd = line[2:]
            words = shlex.split(cmd)
            prog = next((w for w in words if "=" not in w), "")
            current = [cmd, [], prog in PROGRAMS]
            steps.append(current)
        elif current:
            current[1].append(line)
    return [(c, out) for c, out, ours in steps if ours]


def shape(line):
    """The line with every id replaced by a marker, for matching."""
    return ID_RE.sub("<id>", line)


def bind(ids, want, got):
    """Bind each id of README line `want` to the id at its place in `got`."""
    w = ID_RE.findall(want)
    g = ID_RE.findall(got)
    assert len(w) == len(g), (want, got)
    for a, b in zip(w, g):
        ids.setdefault(a, b)
        ids.setdefault(a[-8:], b[-8:])
        assert ids[a] == b, "README id %s printed as %s and as %s" % (a, ids[a], b)


def rewrite(cmd, ids):
    return ID_RE.sub(lambda m: ids.get(m.group(1), m.group(1)), cmd)


def run(cmd, env, cwd):
    words = shlex.split(cmd)
    if words[0] == "export":
        for w in words[1:]:
            k, v = w.split("=", 1)
            env[k] = v
        return []
    p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, "%s: exit %d\n%s%s" % (cmd, p.returncode, p.stdout, p.stderr)
    return p.stdout.rstrip("\n").split("\n") if p.stdout else []


def test_readme_session_prints_what_the_readme_shows(tmp_path):
    steps = readme_session()
    assert len(steps) >= 20, "the README's console session was not found"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PF_")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    os.symlink(os.path.join(REPO, "examples"), tmp_path / "examples")
    ids = {}
    for cmd, want in steps:
        got = run(rewrite(cmd, ids), env, str(tmp_path))
        assert len(got) == len(want), "%s\nREADME:\n%s\nrun:\n%s" % (
            cmd, "\n".join(want), "\n".join(got))
        # Pair lines in order where they agree in shape, else within the
        # command's output as a multiset (ties in id order).
        unused = list(range(len(got)))
        for w in want:
            j = next((j for j in unused if shape(got[j]) == shape(w)), None)
            assert j is not None, "%s: no output line like\n  %s\nrun:\n%s" % (
                cmd, w, "\n".join(got))
            unused.remove(j)
            bind(ids, w, got[j])
            assert rewrite(w, ids) == got[j], (cmd, w, got[j])
