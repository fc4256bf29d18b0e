"""The command line: exit codes, JSON output, human summary, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from logs import UID
from logs import clf_text as clf
from smartcar_logs.cli import cli
from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db

LOG = (
    clf("/index.html", status=200)
    + clf(f"/smartcar/callback?user_id={UID}&state=a")
    + clf("/smartcar/callback?error=access_denied&error_description=User+denied&state=b")
    + clf("/smartcar/callback?error=vehicle_incompatible&make=VW&model=ID.4&year=2021&state=c")
    + clf("/smartcar/callback?error=vehicle_incompatible&make=Volkswagen&model=ID.4&year=2022&state=d")
)


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_import_json_summary(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LOG)
    db = tmp_path / "x.db"
    r = run("import", "--db", str(db), "--json", str(log))
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["lines_read"] == 5
    assert out["redirects"] == 4 and out["inserted"] == 4 and out["duplicates"] == 0
    assert out["rejected"] == 0 and out["ordinary"] == 1
    assert out["by_outcome"]["success"] == 1
    assert out["by_outcome"]["access_denied"] == 1
    assert out["by_outcome"]["vehicle_incompatible"] == 2
    assert out["redirect_paths"] == {"/smartcar/callback": 4}
    assert [f["format"] for f in out["files"]] == ["combined"]
    assert len(out["files"]) == 1

    again = json.loads(run("import", "--db", str(db), "--json", str(log)).stdout)
    assert again["inserted"] == 0 and again["files"][0]["status"] == "up to date"


def test_import_human_output_and_summary(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LOG)
    db = tmp_path / "x.db"
    r = run("import", "--db", str(db), str(log))
    assert r.exit_code == 0
    assert "redirects" in r.stdout and "/smartcar/callback (4)" in r.stdout
    s = run("summary", "--db", str(db))
    assert s.exit_code == 0
    assert "denial rate: 25.0%" in s.stdout
    assert "VOLKSWAGEN" in s.stdout  # VW and Volkswagen collapse to one make
    js = json.loads(run("summary", "--db", str(db), "--json").stdout)
    assert js["top_incompatible_makes"] == [{"make": "VOLKSWAGEN", "n": 2}]
    assert js["by_error_code"] == {"vehicle_incompatible": 2, "access_denied": 1}
    assert abs(js["denial_rate"] - 0.25) < 1e-12
    assert js["redirect_lines"] == 4 and js["reloads"] == 0


def test_summary_counts_reloads_once(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(
        LOG + clf("/smartcar/callback?error=access_denied&error_description=User+denied&state=b") * 2
    )
    db = tmp_path / "x.db"
    run("import", "--db", str(db), "-q", str(log))
    js = json.loads(run("summary", "--db", str(db), "--json").stdout)
    assert js["redirect_lines"] == 6 and js["redirects"] == 4 and js["reloads"] == 2
    assert js["by_error_code"]["access_denied"] == 1
    assert abs(js["denial_rate"] - 0.25) < 1e-12
    assert "2 reloads" in run("summary", "--db", str(db)).stdout


def test_unreadable_file_among_good_ones_exits_nonzero(tmp_path):
    good = tmp_path / "good.log"
    good.write_text(LOG)
    db = tmp_path / "x.db"
    r = CliRunner().invoke(cli, ["import", "--db", str(db), "--json", str(tmp_path / "nope.log"), str(good)])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert "nope.log" in r.stderr and r.stderr.count("\n") == 1
    assert json.loads(r.stdout)["inserted"] == 4


def test_rejected_lines_exit_0_with_the_count_on_stderr_or_65_when_strict(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LOG + "garbage with user_id=1\n")
    r = run("import", "--db", str(tmp_path / "x.db"), "--json", str(log))
    assert r.exit_code == 0  # recorded data, not a failed run (cron mails only failures)
    assert json.loads(r.stdout)["rejected"] == 1
    assert "1 line rejected" in r.stderr
    log.write_text(LOG + "garbage with user_id=1\n" + "more garbage user_id=2\n")
    r = run("import", "--db", str(tmp_path / "x.db"), "--strict", str(log))
    assert r.exit_code == 65 and "1 line rejected" in r.stderr


def test_database_in_missing_folder_is_one_line_error(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LOG)
    r = CliRunner().invoke(cli, ["import", "--db", str(tmp_path / "no" / "x.db"), str(log)])
    assert r.exit_code == 1
    assert "does not exist" in r.output and "Traceback" not in r.output


def test_summary_without_database(tmp_path):
    r = CliRunner().invoke(cli, ["summary", "--db", str(tmp_path / "none.db")])
    assert r.exit_code == 1 and "no database yet at" in r.output
    assert not (tmp_path / "none.db").exists()


def test_stdin_dash(tmp_path):
    r = run("import", "--db", str(tmp_path / "x.db"), "--json", "-", input=LOG)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["inserted"] == 4


def test_new_database_is_private(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LOG)
    db = tmp_path / "x.db"
    run("import", "--db", str(db), "-q", str(log))
    assert (db.stat().st_mode & 0o077) == 0


def test_terminal_output_strips_control_characters(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(clf("/smartcar/callback?error=vehicle_incompatible&make=%1b%5b31mRED%1b%5b0m&state=z"))
    db = tmp_path / "x.db"
    run("import", "--db", str(db), "-q", str(log))
    s = run("summary", "--db", str(db))
    assert "\x1b" not in s.stdout and "RED (no model sent)" in s.stdout


def test_generate_then_import(tmp_path):
    out = tmp_path / "gen.log.gz"
    g = run("generate", str(out), "--lines", "2000", "--seed", "3", "--json")
    assert g.exit_code == 0
    truth = json.loads(g.output)
    r = run(
        "import", "--db", str(tmp_path / "x.db"), "--json", "--launch-path", "/connect/smartcar", str(out)
    )
    got = json.loads(r.stdout)
    assert got["lines_read"] == 2000
    assert got["redirects"] == truth["redirects"]
    assert got["files"][0]["compression"] == "gzip"


def test_help_for_every_command():
    for name in cli.commands:
        r = run(name, "--help")
        assert r.exit_code == 0 and "Usage" in r.output


def test_summary_agrees_with_the_analysis_layer(tmp_path):
    from smartcar_logs import analysis
    from smartcar_logs.store import open_db
    from smartcar_logs.summary import summarize
    from smartcar_logs.synthetic import generate_file

    log = tmp_path / "g.log"
    generate_file(str(log), lines=20_000, seed=5)  # reloads, retries and stateless redirects
    db = tmp_path / "x.db"
    run("import", "--db", str(db), "-q", str(log))
    s = summarize(open_db(db))
    a = analysis.summary(analysis.connect(str(db))).iloc[0]
    assert s["reloads"] > 0
    assert s["redirects"] == a["events"] and s["redirect_lines"] == a["redirects"]
    assert s["by_outcome"]["success"] == a["success"] and s["denied"] == a["denied"]
    assert abs(s["denial_rate"] - a["denial_rate"]) < 1e-12


def test_console_script_imports_without_pandas(tmp_path):
    """The fast start: `smartcar-logs import` never loads pandas or numpy (half a second each run)."""
    log = tmp_path / "a.log"
    log.write_text(LOG)
    code = (
        "import sys\nfrom smartcar_logs import cli\n"
        f"sys.argv = ['smartcar-logs', 'import', '-q', '--db', {str(tmp_path / 'x.db')!r}, {str(log)!r}]\n"
        "try:\n    cli.main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "x.db").exists()


def test_only_missing_files_leave_nothing_behind(tmp_path):
    db = tmp_path / "x.db"
    r = run("import", "--db", str(db), str(tmp_path / "nope.log"), str(tmp_path / "gone-*.log"))
    assert r.exit_code == 1
    assert not db.exists()  # no empty database created
    assert r.stdout == ""  # no table of zeros, no empty headings
    assert r.stderr.count("nope.log") == 1 and r.stderr.count("\n") == 2


def test_error_is_printed_once_and_reimport_is_one_line_per_file(tmp_path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text(LOG)
    b.write_text(LOG.replace("state=", "state=b-"))
    db = str(tmp_path / "x.db")
    r = run("import", "--db", db, str(a), str(tmp_path / "nope.log"))
    assert r.exit_code == 1
    assert "nope.log" in r.stderr and "nope.log" not in r.stdout
    run("import", "--db", db, str(b))
    r = run("import", "--db", db, str(a), str(b))
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [f"{a}: up to date", f"{b}: up to date", f"database: {db}"]


def test_waiting_line_is_said_by_import_and_summary(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LOG.rstrip("\n"))
    db = str(tmp_path / "x.db")
    r = run("import", "--db", db, str(log))
    assert "1 line waiting for its newline" in r.stdout
    assert "1 line is waiting for a newline" in run("summary", "--db", db).stdout
    assert json.loads(run("summary", "--db", db, "--json").stdout)["waiting_lines"] == 1
    r = run("import", "--db", db, "--final", "--json", str(log))
    assert json.loads(r.stdout)["inserted"] == 1
    assert "waiting" not in run("summary", "--db", db).stdout


def test_usage_errors_exit_2_in_every_command(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(LOG)
    db = str(tmp_path / "x.db")
    assert run("import", "--db", db, str(log)).exit_code == 0
    cases = [
        ("import", "--db", db, "--format", "bogus", str(log)),
        ("import", "--db", db, "--redact", "vin=shred", str(log)),
        ("import", "--db", str(tmp_path / "none-yet.db")),  # no FILES and no database to re-read
        ("summary", "--db", db, "--top", "many"),
        ("report", "--db", db, "--since", "2026-13-45", "--out", str(tmp_path / "r.html")),
        ("generate", "--format", "bogus", str(tmp_path / "g.log")),
        ("generate", "--lines", "-5", str(tmp_path / "g.log")),
        ("export", "--db", db, "--table", "bogus", "--out", str(tmp_path / "csv")),
        ("no-such-command",),
    ]
    for args in cases:
        r = run(*args)
        assert r.exit_code == 2, (args, r.exit_code, r.output)
        assert "Traceback" not in r.output
    assert not (tmp_path / "g.log").exists() and not (tmp_path / "r.html").exists()


# --- --since/--until with local inputs (issue 22) ---------------------------------------------------


@pytest.mark.parametrize(
    "inputs",
    [["a.log"], ["-"], ["logs/"], ["s3://bucket/AWSLogs/", "a.log"]],
    ids=["file", "stdin", "folder", "mixed"],
)
def test_since_until_with_a_local_input_is_refused_before_anything_is_written(tmp_path, monkeypatch, inputs):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.log").write_text(LOG)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "b.log").write_text(LOG)
    for flags in (["--since", "2030-01-01"], ["--until", "2020-01-01"]):
        r = CliRunner().invoke(cli, ["import", "--db", "x.db", *flags, *inputs], input=LOG)
        assert r.exit_code == 2, r.output
        assert "Invalid value for --since/--until" in r.output
        local = "stdin" if inputs == ["-"] else inputs[-1] if inputs[0].startswith("s3") else inputs[0]
        assert f"{local} is local, and every line of it would be imported" in " ".join(r.output.split())
        assert not (tmp_path / "x.db").exists()  # no database, no imports row


def test_since_until_refused_by_the_library_too(tmp_path):
    from datetime import date

    from smartcar_logs.importer.remote import WindowError, check_window

    log = tmp_path / "a.log"
    log.write_text(LOG)
    db = open_db(tmp_path / "x.db")
    with pytest.raises(WindowError, match="is local"):
        import_paths(db, [str(log)], since=date(2030, 1, 1))
    assert db["imports"].count == 0 and db["redirects"].count == 0
    check_window(["s3://b/AWSLogs/", "gs://b/x/"], date(2026, 10, 1), None)  # object storage only: fine
    check_window([str(log)], None, None)  # no window: nothing to refuse
    with pytest.raises(WindowError, match="is not before"):
        check_window(["s3://b/"], date(2026, 10, 2), date(2026, 10, 1))
