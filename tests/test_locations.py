"""Any directory, any install (issue 22): where the database is, and commands run from anywhere.

One rule for every command: ``--db``, else ``$SMARTCAR_LOGS_DB``, else the per-user database
(``locations.default_database()``). conftest.py points the per-user folder at a fresh temporary
folder for every test, so these tests exercise the default without touching ~/.local.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from logs import CB, UID, clf
from smartcar_logs.cli import cli
from smartcar_logs.locations import DB_ENV, database_path, default_database
from smartcar_logs.store import open_db

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "access-2.log.gz"


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """An empty current directory, as after `pip install` in a fresh shell."""
    d = tmp_path / "cwd"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


def _log(folder: Path) -> Path:
    p = folder / "access.log"
    p.write_bytes(clf(f"{CB}?user_id={UID}&state=s1") + clf(f"{CB}?error=access_denied&state=s2"))
    return p


def test_the_rule_db_then_variable_then_per_user(tmp_path, monkeypatch):
    assert database_path() == default_database()
    assert default_database().name == "smartcar_logs.db" and default_database().is_absolute()
    monkeypatch.setenv(DB_ENV, str(tmp_path / "env.db"))
    assert database_path() == tmp_path / "env.db"
    assert database_path(tmp_path / "flag.db") == tmp_path / "flag.db"  # --db wins over the variable
    monkeypatch.setenv(DB_ENV, "  ")  # set but blank: as if unset
    assert database_path() == default_database()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert str(database_path("~/x.db")) == str(tmp_path / "home" / "x.db")


@pytest.mark.parametrize("command", ["summary", "export", "report"])
def test_reading_before_any_import_says_so_and_creates_nothing(elsewhere, command):
    r = CliRunner().invoke(cli, [command])
    assert r.exit_code == 1, r.output
    assert f"no database yet at {default_database()}: run `smartcar-logs import` first" in r.output
    assert "Traceback" not in r.output
    assert not default_database().parent.exists()  # no folder, no empty database
    assert list(elsewhere.iterdir()) == []  # no report, no export folder


def test_reading_a_named_database_that_is_not_there(tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "no-folder" / "x.db"))
    r = CliRunner().invoke(cli, ["summary"])
    assert r.exit_code == 1 and f"no database yet at {tmp_path / 'no-folder' / 'x.db'}" in r.output
    assert not (tmp_path / "no-folder").exists()


def test_import_from_anywhere_meets_summary_from_elsewhere(tmp_path, elsewhere, monkeypatch):
    log = _log(tmp_path)
    r = CliRunner().invoke(cli, ["import", "-q", str(log)])
    assert r.exit_code == 0, r.output
    db_file = default_database()
    assert db_file.is_file()
    assert stat.S_IMODE(db_file.parent.stat().st_mode) == 0o700  # the folder holds VINs and IPs too
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    assert list(elsewhere.iterdir()) == []  # nothing written where the command ran
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)  # cron's import and a summary typed in $HOME meet one database
    r = CliRunner().invoke(cli, ["summary", "--json"])
    assert r.exit_code == 0, r.output
    assert '"redirects": 2' in r.output


def test_the_variable_names_the_database_for_every_command(tmp_path, elsewhere, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "env.db"))
    assert CliRunner().invoke(cli, ["import", "-q", str(_log(tmp_path))]).exit_code == 0
    assert (tmp_path / "env.db").is_file() and not default_database().exists()
    assert '"redirects": 2' in CliRunner().invoke(cli, ["summary", "--json"]).output
    # --db still wins: a database named there that does not exist is not the variable's
    r = CliRunner().invoke(cli, ["summary", "--db", str(tmp_path / "other.db")])
    assert r.exit_code == 1 and "other.db" in r.output


def test_a_folder_the_user_named_is_never_created(tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "typo" / "x.db"))
    r = CliRunner().invoke(cli, ["import", str(_log(tmp_path))])
    assert r.exit_code == 1 and "does not exist" in r.output
    assert not (tmp_path / "typo").exists()


def test_export_default_out_is_in_the_current_directory(tmp_path, elsewhere):
    assert CliRunner().invoke(cli, ["import", "-q", str(_log(tmp_path))]).exit_code == 0
    r = CliRunner().invoke(cli, ["export"])
    assert r.exit_code == 0, r.output
    out = elsewhere / "smartcar-logs-export"
    assert sorted(p.name for p in out.iterdir()) == [
        "launches.csv",
        "redirects.csv",
        "rejects.csv",
        "sources.csv",
    ]
    assert len((out / "redirects.csv").read_text().splitlines()) == 3  # header and two redirects


def test_help_says_the_rule_and_the_file_it_gives_here(tmp_path, monkeypatch):
    for command in ("import", "summary", "report", "export"):
        text = " ".join(CliRunner().invoke(cli, [command, "--help"]).output.split())
        assert "$SMARTCAR_LOGS_DB" in text and "per-user database" in text, command
        assert f"Here: {default_database()}".replace(" ", "") in text.replace(" ", ""), command
    group = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())
    assert "--db PATH, else $SMARTCAR_LOGS_DB, else the per-user database" in group
    monkeypatch.setenv(DB_ENV, str(tmp_path / "env.db"))
    text = CliRunner().invoke(cli, ["summary", "--help"]).output.replace("\n", "").replace(" ", "")
    assert f"Here:{tmp_path / 'env.db'}".replace(" ", "") in text


def test_open_db_reading_never_creates(tmp_path):
    from smartcar_logs.store import StoreError

    with pytest.raises(StoreError, match="no database yet at"):
        open_db(tmp_path / "none.db", create=False)
    assert list(tmp_path.iterdir()) == []


# --- the installed console script, from an empty directory ---------------------------------------------


def _console_script() -> str:
    """The `smartcar-logs` that `pip install` put beside this Python (not a PATH lookup: the
    one of this environment)."""
    name = "smartcar-logs.exe" if os.name == "nt" else "smartcar-logs"
    script = Path(sys.executable).parent / name
    assert script.is_file(), f"{script}: install the package (pip install -e .) to run this test"
    return str(script)


def test_installed_script_from_an_empty_directory_with_no_db(tmp_path, monkeypatch):
    """`pip install` then, from an empty folder with a fresh $HOME: import, summary, export and the
    report, no --db anywhere. The database lands in the per-user folder under that $HOME."""
    home, cwd = tmp_path / "home", tmp_path / "empty"
    home.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in (DB_ENV, "XDG_DATA_HOME")}
    env["HOME"] = str(home)
    # matplotlib's font cache under the new HOME would be rebuilt (seconds); it holds no data
    env.setdefault("MPLCONFIGDIR", str(tmp_path / "mpl"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME")
    expected = default_database()  # what the script must resolve to under that HOME
    assert expected.is_relative_to(home)
    script = _console_script()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([script, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)

    r = run("summary")
    assert r.returncode == 1 and f"no database yet at {expected}" in r.stderr, r.stderr
    r = run("import", "-q", "--launch-path", "/connect/smartcar", str(SAMPLE))
    assert r.returncode == 0, r.stderr
    assert expected.is_file()
    db = open_db(expected, create=False)
    n = db.execute("SELECT count(*) FROM redirects").fetchone()[0]
    db.conn.close()
    assert n > 0
    r = run("summary", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["redirect_lines"] + s["test_redirects_excluded"] == n
    r = run("export", "--table", "redirects")
    assert r.returncode == 0, r.stderr
    csv = cwd / "smartcar-logs-export" / "redirects.csv"
    assert len(csv.read_text().splitlines()) == n + 1
    started = time.monotonic()
    r = run("report")
    assert r.returncode == 0, r.stderr
    html = cwd / "smartcar-logs-report.html"
    assert html.is_file() and "Smartcar Connect report" in html.read_text()
    assert r.stdout.strip() == str(html)
    print(f"report from an empty directory: {time.monotonic() - started:.1f} s")
    assert sorted(p.name for p in cwd.iterdir()) == ["smartcar-logs-export", "smartcar-logs-report.html"]
