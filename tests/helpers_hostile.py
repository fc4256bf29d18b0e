"""Shared helpers for the hostile-input, privacy, fault and property tests."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from logs import CB, UID, clf
from smartcar_logs.cli import cli

ROOT = Path(__file__).resolve().parent.parent


#: Three ordinary-and-redirect lines every matrix file can carry alongside its bad input.
GOOD = (
    clf("/index.html", status=200)
    + clf(f"{CB}?user_id={UID}&state=s1")
    + clf(f"{CB}?error=access_denied&error_description=User+denied&state=s2")
)


def run(*args: str, input=None, env=None):
    """Invoke the CLI in-process; an uncaught exception fails the test with its traceback."""
    r = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        import traceback

        raise AssertionError("CLI raised:\n" + "".join(traceback.format_exception(*r.exc_info)))
    assert "Traceback" not in r.output
    return r


def one_line_error(r, *needles: str) -> str:
    """The CLI stopped or reported with exactly one stderr line naming *needles*."""
    assert "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith(("error", "usage"))]
    assert len(errors) == 1, r.stderr
    for n in needles:
        assert n in errors[0], (n, errors[0])
    return errors[0]


def rows(db_path, table: str, drop=("id", "import_id")) -> list[tuple]:
    """All rows of *table* without run-specific columns, sorted: for run-vs-run comparisons."""
    conn = sqlite3.connect(str(db_path))
    try:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in drop]
        got = conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
    finally:
        conn.close()
    return sorted(got, key=repr)


def count(db_path, table: str) -> int:
    conn = sqlite3.connect(str(db_path))
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def all_text(conn: sqlite3.Connection):
    """(table, column, value) for every text value stored in every table."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for t in tables:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({t})")]
        for row in conn.execute(f"SELECT * FROM {t}"):
            for c, v in zip(cols, row):
                if isinstance(v, (str, bytes)):
                    yield t, c, v if isinstance(v, str) else v.decode("latin-1")


def unprivileged_prefix() -> list[str] | None:
    """A command prefix under which file permission bits apply, or None when there is none.

    Tests run as root, which ignores permission bits (CAP_DAC_OVERRIDE). ``setpriv`` drops
    that capability for the child, so a 0000 file or a 0444 database is really unreadable or
    read-only. Non-root needs no prefix.
    """
    if os.geteuid() != 0:
        return []
    cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    try:
        with tempfile.TemporaryDirectory() as d:
            probe = Path(d) / "probe"
            probe.write_text("x")
            probe.chmod(0)
            r = subprocess.run([*cmd, "cat", str(probe)], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return cmd if r.returncode != 0 else None


def cli_subprocess(
    *args: str, prefix: list[str] | None = None, timeout: float = 60, env=None, cwd=None
) -> subprocess.CompletedProcess:
    """Run ``python -m smartcar_logs.cli`` in a child process."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("SMARTCAR_LOGS_BUSY_TIMEOUT", None)
    if env:
        e.update(env)
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "smartcar_logs.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=e,
        cwd=cwd,
    )
