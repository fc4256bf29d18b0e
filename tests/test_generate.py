"""Tests for the synthetic log generator: determinism, shape, and ground truth vs. a re-parse."""

from __future__ import annotations

import gzip
import io
import re
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import pytest

from smartcar_logs.synthetic import GENERATED_ERRORS, WRITERS, generate_file, generate_log

COMBINED = re.compile(
    rb"^(?P<ip>[0-9a-f.:]+) - - \[(?P<ts>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "
    rb'"(?P<method>[A-Z]+) (?P<target>/\S*) (?P<proto>HTTP/\d\.\d)" (?P<status>\d{3}) (?P<size>\d+) '
    rb'"(?P<referer>[^"]*)" "(?P<ua>[^"]*)"$'
)
COMMON = re.compile(
    rb'^[0-9a-f.:]+ - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[A-Z]+ /\S* HTTP/\d\.\d" \d{3} (\d+|-)$'
)
TS_FORMAT = "%d/%b/%Y:%H:%M:%S %z"
START = "2026-10-01T00:00:00+02:00"
N = 20_000


def run(**kwargs) -> tuple[bytes, dict]:
    buf = io.BytesIO()
    counts = generate_log(buf, **kwargs)
    return buf.getvalue(), counts


@pytest.fixture(scope="module")
def sample() -> tuple[list[bytes], dict]:
    data, counts = run(lines=N, seed=42, start=START, tz_offset_minutes=120)
    assert data.endswith(b"\n")
    return data.split(b"\n")[:-1], counts


@pytest.fixture(scope="module")
def parsed(sample):
    lines, _ = sample
    out = []
    for line in lines:
        m = COMBINED.match(line)
        assert m, line
        path, _, query = m["target"].decode().partition("?")
        out.append((m, path, dict(parse_qsl(query, keep_blank_values=True)), query))
    return out


def test_same_seed_same_bytes_different_seed_different():
    a, ca = run(lines=3_000, seed=5)
    b, cb = run(lines=3_000, seed=5)
    c, _ = run(lines=3_000, seed=6)
    assert a == b and ca == cb
    assert a != c


@pytest.mark.parametrize("n", [0, 1, 7, 500, 2_345])
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_exact_line_count(n, fmt):
    data, counts = run(lines=n, seed=1, fmt=fmt)
    assert data.count(b"\n") == n == counts["lines"]
    assert data == b"" or data.endswith(b"\n")


def test_every_line_is_combined(sample, parsed):
    lines, _ = sample
    assert len(parsed) == len(lines) == N
    assert all(b"\\" not in line for line in lines)  # nothing that would need log escaping


def test_counts_match_a_reparse(sample, parsed):
    _, counts = sample
    redirect_lines = [(m, q, raw) for m, p, q, raw in parsed if p == "/smartcar/callback"]
    launches = [(m, q) for m, p, q, _ in parsed if p == "/connect/smartcar"]
    assert (
        counts["redirects"] == len(redirect_lines) == sum(b"/smartcar/callback" in line for line in sample[0])
    )
    assert counts["launches"] == len(launches)
    assert (
        counts["redirects"]
        + counts["launches"]
        + counts["ordinary"]
        + counts["google_callbacks"]
        + sum(counts["noise"].values())
        == N
    )

    by_outcome = Counter()
    by_flow = Counter()
    for _m, q, raw in redirect_lines:
        if "error" in q:
            by_outcome[q["error"]] += 1
        else:
            assert "user_id" in q or "code" in q, raw
            by_outcome["success"] += 1
            by_flow[
                {(1, 0): "user_id", (0, 1): "code", (1, 1): "code+user_id"}["user_id" in q, "code" in q]
            ] += 1
    assert counts["by_outcome"] == {
        "success": by_outcome["success"],
        **{c: by_outcome[c] for c in GENERATED_ERRORS},
    }
    assert sum(by_outcome.values()) == counts["redirects"]
    assert counts["by_flow"] == dict(by_flow)
    assert counts["by_status"] == dict(Counter(int(m["status"]) for m, _, _ in redirect_lines))
    assert counts["test_vins"] == sum(q.get("vin", "").startswith("0SC") for _, q, _ in redirect_lines)
    assert counts["vehicle_info"] == sum(
        q["error"] == "vehicle_incompatible" and any(k in q for k in ("vin", "make"))
        for _, q, _ in redirect_lines
        if "error" in q
    )
    assert counts["google_callbacks"] == sum(p == "/auth/google/callback" for _, p, _, _ in parsed)
    for key in ("code", "error", "user_id"):
        other = [
            q
            for _, p, q, _ in parsed
            if key in q and p not in ("/smartcar/callback", "/auth/google/callback")
        ]
        assert counts["noise"][key] == len(other)

    # joins on state
    per_state = Counter(q["state"] for _, q, _ in redirect_lines if "state" in q)
    no_state_lines = sum("state" not in q for _, q, _ in redirect_lines)
    assert counts["reloads"] == sum(n - 1 for n in per_state.values()) + (no_state_lines - counts["no_state"])
    launch_states = [q["state"] for _, q in launches]
    assert len(set(launch_states)) == len(launch_states)
    assert all(re.fullmatch(r"[0-9a-f]{10}", s) for s in launch_states)
    assert counts["matched"] == len(set(per_state) & set(launch_states))
    assert counts["abandoned"] == len(set(launch_states) - set(per_state))
    assert counts["orphans"] == len(set(per_state) - set(launch_states))
    assert counts["redirects_unique"] == counts["matched"] + counts["orphans"] + counts["no_state"]

    # every matched redirect comes after its launch, from the same client
    launch_at = {q["state"]: (m["ts"], m["ip"]) for m, q in launches}
    for m, q, _ in redirect_lines:
        if q.get("state") in launch_at:
            ts, ip = launch_at[q["state"]]
            assert datetime.strptime(ts.decode(), TS_FORMAT) <= datetime.strptime(m["ts"].decode(), TS_FORMAT)
            assert ip == m["ip"]


def test_mix_is_plausible(sample):
    _, c = sample
    assert c["redirects"] == pytest.approx(0.03 * N, rel=0.15)
    unique = c["by_outcome_unique"]
    assert unique["success"] / c["redirects_unique"] == pytest.approx(0.72, abs=0.07)
    assert all(unique[code] > 0 for code in ("access_denied", "vehicle_incompatible", "oem_cancelled_login"))
    assert c["retries"] > 0 and c["reloads"] > 0 and c["no_state"] > 0 and c["abandoned"] > 0
    assert c["google_callbacks"] > 0 and all(v > 0 for v in c["noise"].values())


def test_redirect_share_follows_argument():
    _, c = run(lines=N, seed=3, redirect_share=0.10)
    assert c["redirects"] == pytest.approx(0.10 * N, rel=0.12)
    _, c = run(lines=N, seed=3, redirect_share=0.0)
    assert c["redirects"] == c["launches"] == 0
    data, c = run(lines=300, seed=3, redirect_share=1.0)  # more than fits: still exactly 300 lines
    assert data.count(b"\n") == 300 and c["redirects"] > 0


def test_timestamps_monotonic_in_range_and_daily_rhythm(parsed, sample):
    _, counts = sample
    times = [datetime.strptime(m["ts"].decode(), TS_FORMAT) for m, *_ in parsed]
    assert all(a <= b for a, b in zip(times, times[1:]))
    start = datetime.fromisoformat(START)
    assert start <= times[0] and times[-1] < start + timedelta(days=28)
    assert all(m["ts"].endswith(b" +0200") for m, *_ in parsed)
    assert times[0].isoformat() == counts["first_ts"] and times[-1].isoformat() == counts["last_ts"]
    by_hour = Counter(t.hour for t in times)
    assert by_hour[14] > 2 * by_hour[3]


def test_start_mid_hour_and_negative_offset():
    data, c = run(lines=2_000, seed=9, start="2026-03-05T07:30:15+00:00", days=1, tz_offset_minutes=-300)
    times = [datetime.strptime(COMBINED.match(line)["ts"].decode(), TS_FORMAT) for line in data.splitlines()]
    start = datetime.fromisoformat("2026-03-05T07:30:15+00:00")
    assert start <= times[0] and times[-1] < start + timedelta(days=1)
    assert data.splitlines()[0].split(b"]")[0].endswith(b"-0500")
    assert c["start"] == "2026-03-05T02:30:15-05:00"


def test_other_formats():
    common, _ = run(lines=2_000, seed=2, fmt="common")
    assert all(COMMON.match(line) for line in common.splitlines())
    vhost, _ = run(lines=2_000, seed=2, fmt="vhost_combined", host="shop.example.com")
    for line in vhost.splitlines():
        assert line.startswith(b"shop.example.com:443 ")
        assert COMBINED.match(line.split(b" ", 1)[1])
    urls, c = run(lines=2_000, seed=2, fmt="urls")
    assert all(u.startswith((b"/", b"http")) and b" " not in u for u in urls.splitlines())
    assert sum(u.startswith(b"/smartcar/callback?") for u in urls.splitlines()) == c["redirects"]
    urls, _ = run(lines=200, seed=2, fmt="urls", host="example.com")
    assert all(u.startswith(b"https://example.com/") for u in urls.splitlines())


def test_custom_paths():
    data, c = run(lines=5_000, seed=4, redirect_path="/cb", launch_path="/go/smartcar", redirect_share=0.05)
    targets = [COMBINED.match(line)["target"] for line in data.splitlines()]
    assert c["redirects"] == sum(t.startswith(b"/cb?") for t in targets) > 0
    assert c["launches"] == sum(t.startswith(b"/go/smartcar?") for t in targets) > 0
    with pytest.raises(ValueError):
        run(lines=10, fmt="json-nope")


def test_generate_file_gzip_is_reproducible(tmp_path):
    (tmp_path / "again").mkdir()
    p1, p2, plain = tmp_path / "a.log.gz", tmp_path / "again" / "a.log.gz", tmp_path / "a.log"
    c1 = generate_file(p1, lines=1_000, seed=8)
    generate_file(p2, lines=1_000, seed=8)
    c3 = generate_file(plain, lines=1_000, seed=8)
    assert c1 == c3
    assert gzip.decompress(p1.read_bytes()) == plain.read_bytes()
    assert p1.read_bytes() == p2.read_bytes()  # mtime 0: byte-identical archives


def test_the_generator_imports_nothing_from_the_package():
    """An independent oracle: ground truth the readers and the normaliser did not shape."""
    import ast
    from pathlib import Path

    import smartcar_logs.synthetic as synthetic

    for path in Path(synthetic.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level in (0, 1), (path.name, node.module)  # siblings only, never ..
                assert not (node.module or "").startswith("smartcar_logs"), (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("smartcar_logs") for a in node.names), path.name


# --- launch modes: the funnel held to the generator's truth -----------------------------------

MIXED = ((2, "state"), (2, "stateless"), (1, "js-sdk"))


@pytest.mark.parametrize("mode", ["state", "stateless", "js-sdk", MIXED])
def test_funnel_summary_meets_the_generators_truth_in_each_launch_mode(tmp_path, mode):
    from smartcar_logs import import_paths
    from smartcar_logs.analysis import funnel_summary
    from smartcar_logs.store import open_db

    log = tmp_path / "modes.log"
    truth = generate_file(log, lines=30_000, seed=9, days=3, launch_modes=mode)
    want = {k: sum(t[k] for t in truth["funnel"].values()) for k in ("launched", "returned", "succeeded")}
    db = open_db(None)
    import_paths(db, [str(log)], launch_paths=["/connect/smartcar"])
    got = funnel_summary(db, include_test=True).iloc[0]
    for k, n in want.items():
        assert n > 300 and abs(got[k] - n) <= 0.03 * n, (k, got[k], n)
    # The stateless launches are the inferred part, and only they.
    stateless = truth["funnel"]["stateless"]
    assert abs(got["launched_inferred"] - stateless["launched"]) <= 0.03 * max(stateless["launched"], 1)
    assert abs(got["returned_inferred"] - stateless["returned"]) <= 0.03 * max(stateless["returned"], 1)


def test_launch_modes_write_what_each_site_sends():
    data, truth = run(lines=8_000, seed=4, days=1, launch_modes=MIXED)
    launches = re.findall(rb'"GET /connect/smartcar(\S*) HTTP', data)
    assert truth["launches"] == len(launches) == sum(t["launched"] for t in truth["funnel"].values())
    assert launches.count(b"") == truth["funnel"]["stateless"]["launched"] > 0  # no query at all
    js = re.findall(rb"state=(eyJ\S*) HTTP", data)
    assert js and all(b"%3D" in s or len(s) % 4 == 0 for s in js)  # base64, its padding encoded
    assert truth["funnel"]["js-sdk"]["returned"] > 0 and truth["funnel"]["state"]["returned"] > 0
    # One mode alone draws nothing more: the default writes the bytes it always wrote.
    assert run(lines=3_000, seed=4, launch_modes="state")[0] == run(lines=3_000, seed=4)[0]
    with pytest.raises(ValueError, match="unknown launch mode"):
        run(lines=10, launch_modes="cookie")


def test_the_cli_writes_each_launch_mode(tmp_path):
    """``generate --launch-mode`` makes the shapes a benchmark or a demo of a real site needs:
    the same bytes as the library's ``launch_modes``, weighted rows included."""
    from click.testing import CliRunner

    from smartcar_logs.cli import cli

    runner = CliRunner()
    for args, modes in (
        (["--launch-mode", "stateless"], "stateless"),
        (["--launch-mode", "state:2", "--launch-mode", "stateless:2", "--launch-mode", "js-sdk"], MIXED),
        ([], "state"),
    ):
        out = tmp_path / "g.log"
        res = runner.invoke(
            cli, ["generate", str(out), "--lines", "4000", "--seed", "5", "--days", "1", *args]
        )
        assert res.exit_code == 0, res.output
        assert out.read_bytes() == run(lines=4_000, seed=5, days=1, launch_modes=modes)[0]
    launches = re.findall(
        rb'"GET /connect/smartcar(\S*) HTTP', run(lines=4_000, seed=5, days=1, launch_modes="stateless")[0]
    )
    assert launches and set(launches) == {b""}  # no launch carries a state
    res = runner.invoke(cli, ["generate", str(out), "--launch-mode", "cookie"])
    assert res.exit_code == 2 and "choose one of state, stateless, js-sdk" in res.output
