"""``smartcar-logs check``: quiet on clean traffic, the right signal and status on each injected
incident, the monitoring-plugins exit codes, perfdata, thresholds, the Prometheus textfile
format, and UNKNOWN when there is nothing to judge.

The databases are SYNTHETIC logs at constant rates (about 100 redirects an hour over 3 days,
tests/helpers_check.py), imported through the real importer; the incidents start an hour
before the end, which is where the checks' window is.
"""

from __future__ import annotations

import os
import re
import stat

import pytest
from click.testing import CliRunner

from helpers_check import END, build_check_db
from smartcar_logs.check import (
    CRITICAL,
    OK,
    UNKNOWN,
    WARNING,
    Alert,
    nagios_text,
    parse_duration,
    parse_range,
    perfdata_text,
    prometheus_text,
    run_check,
    write_prometheus,
)
from smartcar_logs.check._stats import holm, hypergeom_cdf, hypergeom_sf, p_more
from smartcar_logs.cli import cli
from smartcar_logs.store import open_db
from smartcar_logs.synthetic import generate_log
from smartcar_logs.synthetic.incidents import parse_incident

CLEAN_SEEDS = (1, 2, 3)
INCIDENTS = {
    # incident -> (status, the alert named first, another name the line must hold, how it starts)
    "server_error@-1h": (CRITICAL, "server_error", None, "server_error "),
    "denial@-1h": (WARNING, "access_denied", None, "access_denied "),
    "config_break@-1h": (CRITICAL, "silence", "abandonment", "no redirects in the last 1h"),
    "incompatible:FIAT@-1h": (
        WARNING,
        "incompatible:FIAT",
        "vehicle_incompatible",
        "vehicle_incompatible for FIAT",
    ),
}


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    """{name: path}: a clean database per seed, and one per incident (seed 1)."""
    root = tmp_path_factory.mktemp("check")
    out = {}
    for seed in CLEAN_SEEDS:
        out[f"clean{seed}"] = root / f"clean{seed}.db"
        build_check_db(out[f"clean{seed}"], seed)
    for i, incident in enumerate(INCIDENTS):
        out[incident] = root / f"incident{i}.db"
        truth = build_check_db(out[incident], 1, (incident,))
        assert sum(truth["incidents"].values()) > 0  # the generator did inject it
    return out


def _check(path, **kw):
    db = open_db(path, create=False)
    try:
        return run_check(db, at=kw.pop("at", END), **kw)
    finally:
        db.conn.close()


def _run(*args):
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


# -- what it finds -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", CLEAN_SEEDS)
def test_clean_traffic_stays_ok(dbs, seed):
    r = _check(dbs[f"clean{seed}"])
    assert r.status == OK, nagios_text(r)
    assert r.alerts == []
    assert 60 <= r.redirects <= 140  # about 100 an hour: the window is judged on real counts
    assert {s.kind for s in r.signals} >= {"code", "success", "abandonment"}


@pytest.mark.parametrize("seed", CLEAN_SEEDS)
def test_clean_traffic_stays_ok_at_every_hour_of_the_last_day(dbs, seed):
    db = open_db(dbs[f"clean{seed}"], create=False)
    try:
        for hour in range(1, 24):
            r = run_check(db, at=f"2026-10-03T{hour:02d}:00:00+00:00", baseline=parse_duration("2d"))
            assert r.status == OK, nagios_text(r)
    finally:
        db.conn.close()


@pytest.mark.parametrize("incident", INCIDENTS)
def test_each_incident_is_named_with_its_status(dbs, incident):
    status, first, also, starts = INCIDENTS[incident]
    r = _check(dbs[incident])
    assert r.status == status, nagios_text(r)
    assert r.alerts[0].name == first and r.alerts[0].by == "test"
    assert r.summary.startswith(starts)
    if also:
        assert also in {a.name for a in r.alerts}
    # nothing fires an hour earlier, before the incident began
    assert _check(dbs[incident], at="2026-10-03T23:00:00+00:00").status == OK


def test_the_status_line_reads_like_a_plugin(dbs):
    r = _check(dbs["server_error@-1h"])
    line = nagios_text(r).splitlines()[0]
    m = re.match(
        r"CONNECT CRITICAL - server_error (\d+\.\d)% of (\d+) redirects with an outcome in the last 1h"
        r" \(baseline (\d+\.\d)%, p<0\.001\)",
        line,
    )
    assert m, line
    s = next(s for s in r.signals if s.name == "server_error")
    assert float(m.group(1)) == round(100 * s.count / s.total, 1)
    assert int(m.group(2)) == r.decided == s.total
    assert " | 'redirects'=" in line


def test_silence_without_any_traffic_is_unknown_not_critical(dbs):
    # three hours after the log's end nothing at all arrives: the logs may have stopped
    r = _check(dbs["clean1"], at="2026-10-04T03:00:00+00:00")
    assert r.status == UNKNOWN
    assert "may have stopped" in r.summary
    # while a config break (other lines keep coming) is CRITICAL: test_each_incident_...


def test_a_window_the_logs_do_not_reach_the_end_of_is_said(dbs):
    r = _check(dbs["clean1"], at="2026-10-04T00:20:00+00:00")
    assert r.status == OK
    assert any("window is not complete" in m for m in r.messages)
    assert not any("window is not complete" in m for m in _check(dbs["clean1"]).messages)


def test_too_little_baseline_is_unknown(dbs):
    r = _check(dbs["clean1"], at="2026-10-01T01:30:00+00:00")  # 30 minutes before the window
    assert r.status == UNKNOWN
    assert r.summary.startswith("too little baseline")


def test_a_few_errors_never_alarm_however_unlikely(dbs, tmp_path):
    """2 of 3 redirects are server_error (p tiny against a 1% baseline): under the minimum count."""
    from smartcar_logs.importer import import_paths

    def lines(codes, minute0):
        out = []
        for i, code in enumerate(codes):
            q = "user_id=0b6e4a52-1c1a-4b8e-9f0e-2f6d3c1d0a11" if code == "ok" else f"error={code}"
            out.append(
                f"192.0.2.{i + 1} - - [04/Oct/2026:02:{minute0 + i:02d}:00 +0000] "
                f'"GET /smartcar/callback?{q}&state=f00d{minute0:02d}{i:04d} HTTP/1.1" 302 154 "-" "Mozilla/5.0"\n'
            )
        return out

    for name, codes, expect in (
        ("few", ["server_error", "server_error", "ok"], OK),
        ("many", ["server_error"] * 6, CRITICAL),
    ):
        db_path = tmp_path / f"{name}.db"
        db_path.write_bytes(dbs["clean1"].read_bytes())
        extra = tmp_path / f"{name}.log"
        extra.write_text("".join(lines(codes, 10)))
        db = open_db(db_path, create=False)
        import_paths(db, [str(extra)], redirect_paths=["/smartcar/callback"])
        r = run_check(db, at="2026-10-04T02:30:00+00:00")
        db.conn.close()
        assert r.decided == len(codes)
        assert r.status == expect, nagios_text(r)
        s = next(s for s in r.signals if s.name == "server_error")
        assert s.p_value < 1e-3  # unlikely by chance either way: the minimum count decides


def test_ignore_leaves_a_code_out(dbs):
    r = _check(dbs["server_error@-1h"], ignore=["server_error"])
    assert "server_error" not in {s.name for s in r.signals}
    assert "server_error" not in {p.label for p in r.perfdata}
    assert r.status != CRITICAL  # the success share's fall is still a WARNING


# -- thresholds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, alerting, quiet",
    [
        ("10", [-1, 10.5], [0, 5, 10]),
        ("10:", [9.9, -3], [10, 1e9]),
        ("~:10", [10.1], [-1e9, 10]),
        ("10:20", [9, 21], [10, 15, 20]),
        ("@10:20", [10, 15, 20], [9.9, 20.1]),
        ("0.15", [0.151, -0.01], [0, 0.15]),
    ],
)
def test_range_syntax_is_the_monitoring_plugins_one(text, alerting, quiet):
    r = parse_range(text)
    assert all(r.alerts(v) for v in alerting)
    assert not any(r.alerts(v) for v in quiet)


@pytest.mark.parametrize("bad", ["", "@", "a", "20:10", "1:x"])
def test_a_malformed_range_is_refused(bad):
    with pytest.raises(ValueError):
        parse_range(bad)


def test_thresholds_fire_and_say_so(dbs):
    r = _check(dbs["clean1"], warning=["denial_rate=0.01"])
    assert r.status == WARNING
    assert r.alerts[0].by == "threshold" and "warning threshold 0.01" in r.summary
    # a threshold under a test that fires too: both are in the line, the critical one first
    r = _check(dbs["server_error@-1h"], critical=["server_error=0.05"])
    assert r.status == CRITICAL
    assert [(a.name, a.by) for a in r.alerts[:2]] == [("server_error", "threshold"), ("server_error", "test")]
    assert "critical threshold 0.05" in r.summary and "p<0.001" in r.summary
    # a lower bound on the volume
    assert _check(dbs["clean1"], critical=["redirects=1000:"]).status == CRITICAL
    # a threshold on what the window does not have is said, not silently passed
    r = _check(dbs["server_error@-1h"], critical=["server_error=0.05"], ignore=["server_error"])
    assert "threshold on server_error not judged: no server_error in the window" in r.messages
    assert "server_error" not in {a.name for a in r.alerts}
    # both thresholds crossed: CRITICAL, said once
    r = _check(dbs["clean1"], warning=["denial_rate=0.01"], critical=["denial_rate=0.02"])
    assert r.status == CRITICAL and len(r.alerts) == 1


def test_perfdata_format_and_thresholds_in_it(dbs):
    r = _check(dbs["clean1"], warning=["denial_rate=0.15"], critical=["server_error=0.05"])
    text = perfdata_text(r)
    item = re.compile(
        r"'([^']+)'=(-?[\d.]+(?:e-?\d+)?)([a-zA-Z%]*)(?:;([^;]*)(?:;([^;]*)(?:;([^;]*)(?:;(.*))?)?)?)?$"
    )
    found = {}
    for part in text.split(" "):
        m = item.match(part)
        assert m, part
        found[m.group(1)] = m.groups()[1:]
    assert found["redirects"][0] == str(r.redirects)
    assert found["denial_rate"][2] == "0.15" and found["server_error"][3] == "0.05"
    for label in ("success_rate", "denial_rate", "failure_rate", "server_error", "abandonment"):
        value, _uom, _w, _c, lo, hi = found[label]
        assert lo == "0" and hi == "1" and 0 <= float(value) <= 1
    assert float(found["success_rate"][0]) + float(found["failure_rate"][0]) == pytest.approx(1, abs=2e-4)
    assert "launches" in found


# -- outputs ---------------------------------------------------------------------------------


def test_prometheus_textfile_parses_and_is_written_atomically(dbs, tmp_path):
    from prometheus_client import parser

    r = _check(dbs["incompatible:FIAT@-1h"])
    text = prometheus_text(r)
    families = {f.name: f for f in parser.text_string_to_metric_families(text)}
    assert all(n.startswith("smartcar_connect_") for n in families)
    for name in families:
        assert f"# HELP {name} " in text and f"# TYPE {name} gauge" in text
    (status,) = families["smartcar_connect_status"].samples
    assert status.value == WARNING
    fiat = [
        s
        for s in families["smartcar_connect_incompatible_redirects"].samples
        if s.labels == {"make": "FIAT", "period": "window"}
    ]
    assert fiat and fiat[0].value == next(s.count for s in r.signals if s.name == "incompatible:FIAT")
    codes = {s.labels["code"] for s in families["smartcar_connect_error_share"].samples}
    assert "vehicle_incompatible" in codes
    alerts = {(s.labels["signal"], s.labels["by"]) for s in families["smartcar_connect_alert"].samples}
    assert ("incompatible:FIAT", "test") in alerts

    target = tmp_path / "smartcar.prom"
    target.write_text("old")
    write_prometheus(r, target)
    assert target.read_text() == text
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["smartcar.prom"]  # no temporary file left behind


def test_prometheus_label_values_are_escaped(dbs):
    from prometheus_client import parser

    r = _check(dbs["clean1"])
    r.alerts.append(Alert(WARNING, 'we"ird\\make\nx', "test", "x"))
    samples = [s for f in parser.text_string_to_metric_families(prometheus_text(r)) for s in f.samples]
    assert any(s.labels.get("signal") == 'we"ird\\make\nx' for s in samples)


# -- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, args, code",
    [
        ("clean1", [], 0),
        ("denial@-1h", [], 1),
        ("server_error@-1h", [], 2),
        ("clean1", ["--at", "2026-10-04T03:00:00"], 3),  # no traffic at all
        ("clean1", ["--warning", "denial_rate=0.01"], 1),
    ],
)
def test_exit_status_is_the_plugins_one(dbs, name, args, code):
    res = _run("--db", str(dbs[name]), "--at", END, *args)
    assert res.exit_code == code, res.output
    assert res.output.startswith(f"CONNECT {['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][code]} - ")


@pytest.mark.parametrize(
    "args, says",
    [
        (["--bogus"], "No such option"),
        (["--window", "1x"], "not a duration"),
        (["--warning", "denial_rate"], "LABEL=RANGE"),
        (["--critical", "nonsense=1"], "not a label"),
        (["--critical", "server_error=5:1"], "start is above end"),
        (["--at", "yesterday"], "not a time"),
    ],
)
def test_usage_errors_are_unknown_not_critical(dbs, args, says):
    res = _run("--db", str(dbs["clean1"]), *args)
    assert res.exit_code == 3, res.output
    assert res.output.startswith("CONNECT UNKNOWN - ") and says in res.output


def test_no_database_is_unknown(tmp_path):
    prom = tmp_path / "c.prom"
    prom.write_text("smartcar_connect_status 0\n")  # the last good run's
    res = _run("--db", str(tmp_path / "none.db"), "--prometheus", str(prom))
    assert res.exit_code == 3
    assert "no database yet" in res.output
    assert not (tmp_path / "none.db").exists()
    assert "smartcar_connect_status 3" in prom.read_text()  # not a stale OK


def test_cli_json_and_prometheus(dbs, tmp_path):
    import json

    prom = tmp_path / "c.prom"
    res = _run("--db", str(dbs["config_break@-1h"]), "--at", END, "--json", "--prometheus", str(prom))
    assert res.exit_code == 2
    d = json.loads(res.output)
    assert d["status"] == 2 and d["status_name"] == "CRITICAL" and d["alerts"][0]["name"] == "silence"
    assert d["redirects"] == 0
    rates = {p["label"]: p["value"] for p in d["perfdata"]}
    assert rates["success_rate"] is None and rates["launches"] > 0  # a share of nothing is undefined
    line = _run("--db", str(dbs["config_break@-1h"]), "--at", END).output.splitlines()[0]
    assert "'success_rate'=U;;;0;1" in line and "'redirects'=0;;;0" in line
    assert "smartcar_connect_status 2" in prom.read_text()
    quiet = _run("--db", str(dbs["clean1"]), "--at", END, "-q")
    assert quiet.exit_code == 0 and quiet.output == ""


def test_an_unwritable_prometheus_file_is_unknown_on_an_ok_check(dbs, tmp_path):
    res = _run("--db", str(dbs["clean1"]), "--at", END, "--prometheus", str(tmp_path / "no" / "x.prom"))
    assert res.exit_code == 3


# -- the statistics and the generator --------------------------------------------------------


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    ps = [0.01, 0.04, 0.03, 0.005, 0.5, 1.0, 1e-6]
    assert holm(ps) == pytest.approx(list(multipletests(ps, method="holm")[1]))


def test_hypergeometric_tails_match_scipy():
    import random

    from scipy.stats import hypergeom

    rng = random.Random(7)
    for _ in range(500):
        N = rng.choice((10, 60, 500, 20_000, 300_000))
        K, n = rng.randint(0, N), rng.randint(0, min(N, 3_000))
        k = rng.randint(-1, n + 1)
        assert hypergeom_sf(k, N, K, n) == pytest.approx(hypergeom.sf(k - 1, N, K, n), rel=1e-7, abs=1e-15)
        assert hypergeom_cdf(k, N, K, n) == pytest.approx(hypergeom.cdf(k, N, K, n), rel=1e-7, abs=1e-15)


def test_p_more_is_fishers_one_sided_test():
    from scipy.stats import fisher_exact

    for k, n, kb, nb in ((5, 100, 100, 10_000), (0, 50, 3, 900), (20, 80, 800, 16_000)):
        want = fisher_exact([[k, n - k], [kb, nb - kb]], alternative="greater").pvalue
        assert p_more(k, n, kb, nb) == pytest.approx(want if k else 1.0)


def test_incident_syntax():
    assert parse_incident("server_error@-1h").offset == -3600
    assert parse_incident("incompatible:mazda@+2d").make == "MAZDA"
    for bad in ("server_error", "meteor@-1h", "denial:FIAT@-1h", "denial@1h", "denial@-1y"):
        with pytest.raises(ValueError):
            parse_incident(bad)


def test_an_incident_changes_the_log_from_its_start_only():
    import io

    out = io.BytesIO()
    truth = generate_log(
        out, lines=7_200, redirect_share=0.3, seed=5, days=1, flat=True, incidents=["server_error@-2h"]
    )
    changed = truth["incidents"]["server_error@-7200s"]
    before = {"n": 0, "server_error": 0}
    after = dict(before)
    for line in out.getvalue().splitlines():
        if b"/smartcar/callback?" not in line:
            continue
        side = after if b"[01/Oct/2026:22:" in line or b"[01/Oct/2026:23:" in line else before
        side["n"] += 1
        side["server_error"] += b"error=server_error" in line
    assert before["server_error"] / before["n"] < 0.03  # the catalogue's 1%
    assert after["server_error"] / after["n"] > 0.15  # a quarter of the redirects turned
    assert after["server_error"] >= changed


def test_flat_rates_give_about_100_redirects_an_hour():
    import io

    truth = generate_log(io.BytesIO(), lines=24 * 1000, redirect_share=0.3, seed=2, days=3, flat=True)
    per_hour = truth["redirects"] / 72
    assert 90 <= per_hour <= 110
