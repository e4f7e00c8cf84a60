"""The frontdesk command-line tool, run as a user runs it (issue 9, item 7,
and `rules clear` from item 2).

Each test starts the built binary in a subprocess, in a temporary working
directory, with PF_DB, PF_NOW and PF_TZ removed from the environment, so
that nothing outside the test's own directory is read or written.  The
binary is $FRONTDESK (the Makefile's `_check-cli` passes it), else
build/frontdesk in this checkout.
"""

import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FRONTDESK = os.environ.get("FRONTDESK") or os.path.join(REPO, "build", "frontdesk")
HOTEL_RULES = os.path.join(REPO, "examples", "hotel.rules")

NO_DB = "frontdesk: no database given (use -d DIR or PF_DB)"
DISK_FULL = "frontdesk: cannot write output: No space left on device"

# Every command, as `frontdesk help` lists them, and `help` itself.
COMMANDS = [
    "add", "find", "show", "history", "export", "import", "export-all", "pref",
    "unpref", "stay", "rules", "reserve", "checkin", "preview", "prompts",
    "overdue", "ack", "done", "dismiss", "complaint", "compliment", "suggestion",
    "feedback", "update", "resolve", "followup", "report", "duplicates",
    "not-duplicate", "merge", "unmerge", "erase", "compact", "backup", "consent",
    "retention", "sync", "digest", "help",
]


def library_version():
    with open(os.path.join(REPO, "include", "libprofile.h"), encoding="utf-8") as f:
        return re.search(r'#define PF_VERSION_STRING "([^"]+)"', f.read()).group(1)


@pytest.fixture(scope="session", autouse=True)
def built():
    if not os.access(FRONTDESK, os.X_OK):
        pytest.fail(f"{FRONTDESK} is missing: run `make` first")


@pytest.fixture
def cwd(tmp_path):
    """An empty working directory; tests check that it stays empty."""
    d = tmp_path / "cwd"
    d.mkdir()
    return d


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "db")


def run(*args, cwd, stdout=subprocess.PIPE, env=None):
    """frontdesk ARGS with no PF_DB/PF_NOW/PF_TZ unless `env` sets them;
    English error texts (strerror) whatever the caller's locale."""
    e = {k: v for k, v in os.environ.items() if k not in ("PF_DB", "PF_NOW", "PF_TZ")}
    e.update(LC_ALL="C.UTF-8", PF_NOW="2026-11-23T09:00:00Z")
    e.update(env or {})
    return subprocess.run([FRONTDESK, *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, env=e, text=True, timeout=60)


def ok(*args, cwd, env=None):
    r = run(*args, cwd=cwd, env=env)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def load_hotel_rules(db, cwd):
    out = ok("-d", db, "rules", "load", HOTEL_RULES, cwd=cwd)
    n = int(re.match(r"Loaded (\d+) rules from ", out).group(1))
    assert n > 1
    return n


def rule_names(db, cwd):
    out = ok("-d", db, "rules", "list", cwd=cwd)
    return [] if out == "The rule book is empty.\n" else out.splitlines()


# ---------------------------------------------------------------- write errors

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")


@needs_dev_full
@pytest.mark.parametrize("args", [
    ["help"],                      # fits stdio's buffer: fails when stdout is closed
    ["--version"],
    ["help", "rules"],
    ["rules", "--help"],
], ids=lambda a: " ".join(a))
def test_output_to_a_full_device_fails_with_the_reason(args, cwd):
    with open("/dev/full", "w") as full:
        r = run(*args, cwd=cwd, stdout=full)
    assert r.returncode == 1
    assert r.stderr == DISK_FULL + "\n"


@needs_dev_full
def test_a_long_listing_that_fails_midway_is_a_failure(db, cwd, tmp_path):
    # Far more than stdio's buffer (BUFSIZ, 8 KiB): the first write fails
    # long before the end, and the command goes on printing into the
    # failed stream; the reason must still be the first failure's.
    book = tmp_path / "many.rules"
    book.write_text("".join(
        f'rule rule-number-{i:04d}-with-a-long-name-to-fill-the-listing\n'
        f'  on check_in\n  notify front_desk low "Rule {i}"\n\n' for i in range(400)))
    ok("-d", db, "rules", "load", str(book), cwd=cwd)
    assert len(ok("-d", db, "rules", "list", cwd=cwd)) > 2 * 8192
    with open("/dev/full", "w") as full:
        r = run("-d", db, "rules", "list", cwd=cwd, stdout=full)
    assert r.returncode == 1
    assert r.stderr == DISK_FULL + "\n"


@needs_dev_full
def test_a_command_whose_output_is_lost_still_did_its_work(db, cwd):
    # The exit status says the output was lost, not that nothing happened.
    with open("/dev/full", "w") as full:
        r = run("-d", db, "add", "Zhuang Wei", "--email", "zw@example.com", cwd=cwd,
                stdout=full)
    assert r.returncode == 1
    assert r.stderr == DISK_FULL + "\n"
    assert "Zhuang Wei" in ok("-d", db, "find", "zw@example.com", cwd=cwd)


# ---------------------------------------------------------------- no database

@pytest.mark.parametrize("args", [
    ["find", "zhu"], ["rules", "list"], ["rules", "clear"], ["add", "Zhuang Wei"],
    ["prompts", "front_desk"],
], ids=lambda a: " ".join(a))
@pytest.mark.parametrize("pf_db", [None, ""], ids=["unset", "empty"])
def test_without_a_database_it_says_so_and_creates_nothing(args, pf_db, cwd):
    r = run(*args, cwd=cwd, env=None if pf_db is None else {"PF_DB": pf_db})
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == NO_DB
    assert r.stdout == ""
    assert os.listdir(cwd) == []


def test_an_empty_d_option_is_no_database(cwd):
    r = run("-d", "", "rules", "list", cwd=cwd)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == NO_DB
    assert os.listdir(cwd) == []


def test_pf_db_and_d_name_the_database(tmp_path, cwd):
    ok("rules", "load", HOTEL_RULES, cwd=cwd, env={"PF_DB": str(tmp_path / "by-env")})
    ok("-d", str(tmp_path / "by-option"), "rules", "list", cwd=cwd)
    assert (tmp_path / "by-env" / "data.mdb").exists()
    assert (tmp_path / "by-option" / "data.mdb").exists()
    assert os.listdir(cwd) == []


# ---------------------------------------------------------------- --version

def test_version_names_the_library(cwd):
    r = run("--version", cwd=cwd)
    assert r.returncode == 0
    assert r.stdout == f"frontdesk (libprofile {library_version()})\n"
    assert r.stderr == ""
    assert os.listdir(cwd) == []


# ---------------------------------------------------------------- help COMMAND

def check_command_help(cmd, out):
    """usage, a blank line, then one paragraph saying what it does."""
    assert out.startswith((f"usage: frontdesk {cmd} ", f"usage: frontdesk {cmd}\n\n"))
    parts = out.rstrip("\n").split("\n\n")
    assert len(parts) == 2, out                   # usage, then one paragraph
    assert len(parts[1].split()) >= 5, out        # a sentence, not a stub
    assert out.endswith(".\n"), out


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_command_prints_usage_and_a_description(cmd, cwd):
    r = run("help", cmd, cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    check_command_help(cmd, r.stdout)
    assert os.listdir(cwd) == []


def test_help_rules_describes_clear(cwd):
    out = ok("help", "rules", cwd=cwd)
    assert out.startswith("usage: frontdesk rules load FILE | rules list [--source] | rules clear\n")


def test_help_of_an_unknown_command_is_a_usage_error(cwd):
    r = run("help", "checkout", cwd=cwd)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines()[0] == "frontdesk: unknown command 'checkout'"


def test_help_without_a_command_lists_them_all(cwd):
    out = ok("help", cwd=cwd)
    assert out == ok("--help", cwd=cwd) == ok("-h", cwd=cwd)
    for cmd in COMMANDS:
        assert re.search(rf"\b{re.escape(cmd)}\b", out), cmd
    assert "rules clear" in out and "--version" in out


# ---------------------------------------------------------------- COMMAND --help

@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c != "help"])
def test_command_help_flag_is_help_command(cmd, flag, cwd):
    r = run(cmd, flag, cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout == ok("help", cmd, cwd=cwd)
    assert os.listdir(cwd) == []                  # no database needed, none made


def test_help_flag_after_other_arguments(db, cwd):
    assert ok("-d", db, "rules", "load", "--help", cwd=cwd) == ok("help", "rules", cwd=cwd)
    assert ok("pref", "zw@example.com", "room.floor", "10", "-h", cwd=cwd) == \
        ok("help", "pref", cwd=cwd)
    assert not os.path.exists(db)                 # nothing was loaded or opened


def test_after_double_dash_help_is_an_argument(db, cwd):
    ok("-d", db, "add", "Zhuang Wei", cwd=cwd)
    assert ok("-d", db, "find", "--", "-h", cwd=cwd) == "No guest matches '-h'.\n"


# ---------------------------------------------------------------- rules clear

def test_rules_clear_removes_every_rule_and_says_how_many(db, cwd):
    n = load_hotel_rules(db, cwd)
    assert len(rule_names(db, cwd)) == n
    out = ok("-d", db, "rules", "clear", cwd=cwd)
    assert out.startswith(f"Removed {n} rules; the rule book is empty")
    assert ok("-d", db, "rules", "list", cwd=cwd) == "The rule book is empty.\n"
    assert ok("-d", db, "rules", "list", "--source", cwd=cwd) == "The rule book is empty.\n"
    # In effect too: an event that made prompts now makes none.
    ok("-d", db, "add", "Zhuang Wei", "--email", "zw@example.com", "--tier", "vip", cwd=cwd)
    prev = ok("-d", db, "preview", "zw@example.com", "--arrival", "2026-11-23",
              "--departure", "2026-11-26", cwd=cwd)
    assert prev.startswith("Preview of check_in for Zhuang Wei (nothing stored): 0 prompts\n")
    # Clearing an empty book is no error, and says so.
    assert ok("-d", db, "rules", "clear", cwd=cwd).startswith("Removed 0 rules;")


def test_rules_clear_then_load_again(db, cwd):
    n = load_hotel_rules(db, cwd)
    ok("-d", db, "rules", "clear", cwd=cwd)
    assert load_hotel_rules(db, cwd) == n
    assert len(rule_names(db, cwd)) == n


def test_rules_clear_takes_nothing_more(db, cwd):
    load_hotel_rules(db, cwd)
    for extra in (["now"], ["--source"]):
        r = run("-d", db, "rules", "clear", *extra, cwd=cwd)
        assert r.returncode == 2, extra
    assert len(rule_names(db, cwd)) > 1           # nothing was removed


# ---------------------------------------------------------------- empty rule book

@pytest.mark.parametrize("text", ["", "# only a comment\n\n   \n"], ids=["empty", "comments"])
def test_loading_a_book_without_rules_is_refused(text, db, cwd, tmp_path):
    n = load_hotel_rules(db, cwd)
    empty = tmp_path / "empty.rules"
    empty.write_text(text)
    r = run("-d", db, "rules", "load", str(empty), cwd=cwd)
    assert r.returncode == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith("frontdesk: ")
    assert "the rule book defines no rules" in lines[0]       # the library's words
    assert lines[1] == "frontdesk: to remove every rule on purpose, run 'frontdesk rules clear'"
    assert len(rule_names(db, cwd)) == n          # the stored book is unchanged


# ---------------------------------------------------------------- find cut

def test_find_says_when_more_guests_match_than_it_lists(db, cwd, tmp_path):
    rows = ["name"] + [f"Lee {i:03d}" for i in range(101)]
    csv = tmp_path / "lee.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ok("-d", db, "import", str(csv), cwd=cwd)
    out = ok("-d", db, "find", "lee", cwd=cwd)
    assert "More than 100 guests match; refine the search." in out
    out = ok("-d", db, "find", "lee 05", cwd=cwd)
    assert "refine the search" not in out
    r = run("-d", db, "show", "lee", cwd=cwd)
    assert r.returncode != 0 and "matches more than 100 guests" in r.stderr, r.stderr
