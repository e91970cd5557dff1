"""What users of command-line tools expect: stdin when piped, short options, a warning that
does not come before an error, help that says what an option does."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import metrics_engine as me

ROOT = Path(__file__).resolve().parent.parent
# Where the build under test lives (the checkout, or site-packages for an installed build):
# the commands run in subprocesses import that one.
PACKAGE_PARENT = Path(me.__file__).resolve().parent.parent
EVENTS = ROOT / "examples" / "events.jsonl"


def run(*args: str, stdin: int | bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    return subprocess.run(
        # -P: not the checkout (the working folder) first, but the build under test
        [sys.executable, "-P", "-m", "metrics_engine", *args],
        input=stdin if isinstance(stdin, bytes) else None,
        stdin=stdin
        if isinstance(stdin, int)
        else (None if isinstance(stdin, bytes) else subprocess.DEVNULL),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_no_file_reads_a_piped_stdin() -> None:
    lines = EVENTS.read_bytes().splitlines(keepends=True)[:40]
    piped = run("compute", "-q", stdin=b"".join(lines))
    given = run("compute", "-q", "-", stdin=b"".join(lines))
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == given.stdout
    assert piped.stdout.count(b"\n") >= 1
    assert piped.stderr == b""  # -q: nothing on stderr


def test_no_file_and_a_terminal_is_a_usage_error() -> None:
    primary, secondary = pty.openpty()
    try:
        done = run("compute", stdin=secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert done.returncode == 2
    message = done.stderr.decode().strip()
    assert "\n" not in message
    assert "found no input" in message


def test_short_options(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    done = run("compute", str(EVENTS), "-o", str(out), "-q", "-f", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert out.read_text().splitlines()[0].startswith("case_id,")


def test_the_no_calendar_warning_does_not_come_before_an_error(tmp_path: Path) -> None:
    done = run("compute", str(EVENTS), "--out", str(tmp_path))  # a folder: refused
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert "error" in lines[0]
    assert "no --calendar" not in lines[0]
    ok = run("compute", str(EVENTS), "--out", str(tmp_path / "rows.jsonl"))
    assert ok.returncode == 0
    assert "warning: no --calendar" in ok.stderr.decode()


def test_validate_quiet_says_what_it_does() -> None:
    text = run("validate", "--help").stdout.decode()
    quiet = text[text.index("--quiet") :]
    assert "validate still prints" in " ".join(quiet.split())


def test_kayako_hours_without_timezone_names_the_option() -> None:
    done = run("compute", str(EVENTS), "--calendar", "examples/kayako_business_hours.json", "-q")
    assert done.returncode == 2
    message = done.stderr.decode().strip()
    assert "--timezone" in message
    assert "Kayako business hours" in message
