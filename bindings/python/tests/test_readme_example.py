"""The README's Python example runs, and runs again on the same database
(issue 9, items 4 and 5): the example is the fenced ```python block
between the markers <!-- readme-python:start --> and
<!-- readme-python:end --> in README.md at the top of the repository.

The ```text block after it is what the README says it prints, and must
be what it prints.  It is run as a reader would, from the top of a source tree (its paths,
"bindings/python", "examples/hotel.rules" and its database directory, are
relative): in a temporary directory holding links to the repository's
bindings/ and examples/, so the database it creates is thrown away.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

README = os.path.join(REPO, "README.md")
START = "<!-- readme-python:start -->"
END = "<!-- readme-python:end -->"


def extract_example(text):
    """The code of the ```python block between the markers, or None when
    the markers are absent."""
    if START not in text or END not in text:
        return None
    between = text.split(START, 1)[1].split(END, 1)[0]
    m = re.search(r"^```python[ \t]*\n(.*?)^```", between, re.S | re.M)
    assert m, f"README.md: no ```python block between {START} and {END}"
    return m.group(1)


def run_example(code, workdir):
    """Run `code` as a script in `workdir` (made like a source tree) and
    return the CompletedProcess."""
    for name in ("bindings", "examples"):
        link = os.path.join(workdir, name)
        if not os.path.exists(link):
            os.symlink(os.path.join(REPO, name), link)
    script = os.path.join(workdir, "readme_example.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(code)
    env = {k: v for k, v in os.environ.items() if k not in ("PF_DB", "PF_NOW")}
    return subprocess.run([sys.executable, script], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120)


def test_readme_python_example_runs_twice(tmp_path):
    with open(README, encoding="utf-8") as f:
        code = extract_example(f.read())
    if code is None:
        pytest.skip(f"README.md has no {START} ... {END} markers around its Python "
                    "example yet (they are added when the binding's README text is "
                    "merged)")
    first = run_example(code, str(tmp_path))
    assert first.returncode == 0, "first run:\n" + first.stdout + first.stderr
    assert first.stdout.strip(), "the example prints nothing"
    second = run_example(code, str(tmp_path))
    assert second.returncode == 0, "second run, same database:\n" + second.stdout + second.stderr
    # Found again rather than added; the check-in fired again returns the
    # prompts it made the first time.
    assert second.stdout == first.stdout
    # What the README says it prints: the ```text block after the example.
    with open(README, encoding="utf-8") as f:
        after = f.read().split(END, 1)[1]
    m = re.search(r"^```text[ \t]*\n(.*?)^```", after, re.S | re.M)
    assert m, "README.md: no ```text block of the example's output after " + END
    assert first.stdout == m.group(1), "the README shows other output:\n" + first.stdout
