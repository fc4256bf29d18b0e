"""The import's fast paths store exactly the rows of its general paths.

Every fast path (the combined-line pattern, the per-hour time cache, the plain-path cut, the
redirect and launch shapes, the skipped code scrub, the windowed candidate search) steps aside
for anything unusual; these tests switch them all off, import the same files both ways and
compare every stored row, on generated logs of several shapes and on a real Apache log with
Connect redirects and hostile lines mixed in.
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logs import UID, UID2, clf
from smartcar_logs import privacy, redirect
from smartcar_logs.formats import _time
from smartcar_logs.formats import clf as clf_format
from smartcar_logs.importer import _speed, fused, import_paths, paths, scan
from smartcar_logs.store import open_db
from smartcar_logs.synthetic import generate_log

REAL = Path(__file__).parent / "data" / "apache_logs_elastic_examples.log.gz"
NEVER = re.compile(rb"(?!)")


def general_paths(monkeypatch) -> None:
    """Switch every fast path of the import off: what is left is the general path."""
    monkeypatch.setattr(redirect, "_FAST_RE", NEVER)
    monkeypatch.setattr(redirect, "_STATE_ONLY_RE", NEVER)
    monkeypatch.setattr(paths, "_PLAIN_PATH", NEVER.match)
    monkeypatch.setattr(scan, "_WINDOW", 1 << 40)  # one pass per needle over the whole block
    monkeypatch.setattr(clf_format, "_COMMON_CLF", NEVER)
    monkeypatch.setattr(clf_format, "parse_clf_time", _time._parse_clf_time)
    monkeypatch.setattr(privacy, "cannot_hide_code", lambda entry: False)
    monkeypatch.setattr(fused, "_LINE", NEVER.match)
    monkeypatch.setattr(_speed, "_forced", False)  # and the compiled loop, which has its own


def snapshot(db) -> dict:
    out = {}
    for table in ("redirects", "launches", "rejects", "sources"):
        cols = list(db[table].columns_dict)
        out[table] = db.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid").fetchall()
    out["imports"] = db.execute(
        "SELECT files, lines_read, redirects, launches, inserted, duplicates, ordinary, rejected, errors"
        " FROM imports ORDER BY id"
    ).fetchall()
    return out


def both_ways(tmp_path, monkeypatch, files: list[Path], **kw) -> dict:
    fast_db = open_db(tmp_path / "fast.db")
    import_paths(fast_db, [str(f) for f in files], launch_paths=["/connect/smartcar"], jobs=1, **kw)
    fast = snapshot(fast_db)
    with monkeypatch.context() as m:
        general_paths(m)
        general_db = open_db(tmp_path / "general.db")
        import_paths(general_db, [str(f) for f in files], launch_paths=["/connect/smartcar"], jobs=1, **kw)
        general = snapshot(general_db)
    assert fast == general
    return fast


def generated(tmp_path: Path, name: str, **kw) -> Path:
    out = io.BytesIO()
    generate_log(out, **kw)
    p = tmp_path / name
    p.write_bytes(out.getvalue())
    return p


HOSTILE = [
    clf(f"/smartcar/callback?user_id={UID}&state=s1"),
    clf(f"/smartcar/callback/?user_id={UID}&state=s1b"),  # trailing slash on the path
    clf(f"/smartcar/callback?user_id={UID}&state=s1#frag"),
    clf(f"/smartcar/callback?code=abc&user_id={UID2}&state=s2", ua="UA with code=leak"),
    clf("/smartcar/callback?code=abc&state=s3", ua="Mozilla%20x"),
    clf("/smartcar/callback?CODE=abc&state=s3b"),
    clf("/smartcar/callback;code=secret?state=s3c"),
    clf("/smartcar/callback?error=access_denied&error_description=No+thanks%21&state=s4"),
    clf("/smartcar/callback?error=x&error_description=%2520&state=s5"),
    clf("/smartcar/callback?error=x&error_description=%FF&state=s6"),
    clf("/smartcar/callback?error=vehicle_incompatible&error_description=&vin=5YJ3E1EA7KF317000&state=s7"),
    clf("/smartcar/callback?next=%2Fcb%3Fcode%3Dhidden&state=s8"),
    clf(b"/smartcar/callback?error=\\x22x&state=s9"),
    clf("/smartcar/callback"),
    clf("/connect/smartcar?state=L1"),
    clf("/connect/smartcar?state="),
    clf("/connect/smartcar?state=L2&state=L3"),
    clf("/connect/smartcar"),
    clf("/connect/smartcar?state=%41b"),
    clf(f"https://example.com/smartcar/callback?user_id={UID}&state=s10"),
    clf(f"/smartcar/callback?user_id={UID}&state=s11", t="01/Oct/2026:09:00:60 +0200"),
    clf(f"/smartcar/callback?user_id={UID}&state=s12", t="01/Oct/2026:23:59:59 -0530"),
    clf(f"/smartcar/callback?user_id={UID}&state=s13", t="31/Dec/2026:23:30:00 -0100"),
    clf(f"/smartcar/callback?user_id={UID}&state=s14", t="01/Oct/2026:09:61:00 +0200"),
    clf(f"/smartcar/callback?user_id={UID}&state=s15", vhost="example.com:443"),
    clf(f"/smartcar/callback?user_id={UID}&state=s16", ip="-", ua="-"),
    clf(f"/smartcar/callback?user_id={UID}&state=s16b", ip="203.0.113.9, 10.0.0.1"),
    b'203.0.113.9 - - [01/Oct/2026:09:00:01 +0200] "GET /smartcar/callback?user_id=x HTTP/1.1" 302 0\n',
    b"garbage with user_id= in it\n",
    b"\0\0" + clf(f"/smartcar/callback?user_id={UID}&state=s17"),
    clf(f"/smartcar/callback?user_id={UID}&state=s18")[:-1] + b"\r\n",
]


def test_real_log_with_connect_and_hostile_lines(tmp_path, monkeypatch):
    real = gzip.decompress(REAL.read_bytes()).splitlines(keepends=True)
    lines = []
    for i, line in enumerate(real):
        lines.append(line)
        if i % 400 == 0:
            lines.extend(HOSTILE)
    p = tmp_path / "real.log"
    p.write_bytes(b"".join(lines))
    rows = both_ways(tmp_path, monkeypatch, [p])
    assert len(rows["redirects"]) > 400 and len(rows["launches"]) > 100 and rows["rejects"]
    assert not any("hidden" in repr(r) or "leak" in repr(r) or "secret" in repr(r) for r in rows["redirects"])


@pytest.mark.parametrize(
    "kw",
    [
        dict(lines=30_000, seed=7, redirect_share=0.2),
        dict(lines=20_000, seed=8, redirect_share=1.0, tz_offset_minutes=330),
        dict(lines=20_000, seed=9, redirect_share=0.3, tz_offset_minutes=-120, fmt="vhost_combined"),
        dict(lines=10_000, seed=10, redirect_share=0.3, fmt="common"),
        dict(lines=10_000, seed=12, redirect_share=0.3, fmt="urls"),
    ],
    ids=["mix", "redirect-only-0530", "vhost", "common", "urls"],
)
def test_generated_logs(tmp_path, monkeypatch, kw):
    p = generated(tmp_path, "gen.log", **kw)
    rows = both_ways(tmp_path, monkeypatch, [p], chunk_size=256 * 1024)
    assert rows["redirects"] and rows["launches"]


def test_redaction_policy_and_workers(tmp_path, monkeypatch):
    # With a policy nothing skips the scrub (drop: a hash would differ with each database's
    # salt); worker processes take the same fast paths.
    p = generated(tmp_path, "gen.log", lines=20_000, seed=13, redirect_share=0.5)
    rows = both_ways(tmp_path, monkeypatch, [p], redaction=["user_id=drop", "client_ip=drop"])
    assert rows["redirects"] and all(r[9] is None for r in rows["redirects"])
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    par_db = open_db(tmp_path / "par.db")
    import_paths(par_db, [str(p)], launch_paths=["/connect/smartcar"], chunk_size=64 * 1024, jobs=2)
    serial_db = open_db(tmp_path / "serial.db")
    general_paths(monkeypatch)
    import_paths(serial_db, [str(p)], launch_paths=["/connect/smartcar"], jobs=1)
    par, serial = snapshot(par_db), snapshot(serial_db)
    for table in ("redirects", "launches", "rejects"):
        assert len(par[table]) == len(serial[table])
        # Ids follow block order, and byte offsets identify the lines.
        assert sorted(r[1:] for r in par[table]) == sorted(r[1:] for r in serial[table])


_PIECES = st.sampled_from([
    b" ", b"-", b'"', b"\\", b'\\"', b"[", b"]", b"GET", b"/cb?a=1", b"HTTP/1.1", b"302", b"0",
    b"1.2.3.4", b"01/Oct/2026:09:00:01 +0200", b"\xff", b"x", b":", b"+0000", b' "', b'" ',
    b" [", b'] "', b"-0530", b"01/Oct/2026:09:00:60 +0000", b",", b", ", b"10.0.0.1, ",
])  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(_PIECES, max_size=6), st.integers(0, 8), st.lists(_PIECES, max_size=6))
def test_common_line_pattern_agrees_with_the_slicing(a, k, b):
    base = clf(f"/smartcar/callback?user_id={UID}&state=s", ua="UA x")[:-1]
    line = base[: k * 12] + b"".join(a) + base[k * 12 :] + b"".join(b)
    fast = clf_format._fast_clf(line)
    saved = clf_format._COMMON_CLF
    clf_format._COMMON_CLF = NEVER
    try:
        sliced = clf_format._fast_clf(line)
    finally:
        clf_format._COMMON_CLF = saved
    if clf_format._COMMON_CLF.match(line) is not None:
        assert fast == sliced, line


@settings(max_examples=3000, deadline=None)
@given(
    st.integers(0, 32),
    st.sampled_from(["Jan", "Feb", "Oct", "Dec", "Foo"]),
    st.integers(1969, 2100),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["+", "-", " "]),
    st.integers(0, 15),
    st.sampled_from([0, 30, 45, 60]),
)
def test_hour_cache_agrees_with_the_arithmetic(d, mon, y, h, m, s, sign, zh, zm):
    t = f"{d:02d}/{mon}/{y}:{h:02d}:{m:02d}:{s:02d} {sign}{zh:02d}{zm:02d}".encode()
    assert _time.parse_clf_time(t) == _time._parse_clf_time(t), t
    assert _time.parse_clf_time(t) == _time._parse_clf_time(t), t  # cached the second time


@settings(max_examples=2000, deadline=None)
@given(st.binary(min_size=26, max_size=26))
def test_hour_cache_never_reads_garbage_differently(t):
    assert _time.parse_clf_time(t) == _time._parse_clf_time(t)


_QUERY_PIECES = st.sampled_from([
    b"user_id=" + UID.encode(), b"state=s1", b"&", b"error=access_denied", b"error_description=No+thanks",
    b"code=abc", b"CoDe=x", b"%41", b"vin=5YJ3E1EA7KF317000", b"=", b"?", b"#f", b"make=TESLA", b"",
])  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(["/smartcar/callback", "/connect/smartcar", "/other", "/", "//", "/smartcar/callback/"]),
    st.lists(_QUERY_PIECES, max_size=6),
    st.sampled_from(["UA x", "-", "Mozilla/5.0 (X11) Code", "ua%20"]),
    st.sampled_from(["203.0.113.9", "-", "10.0.0.1, 10.0.0.2"]),
    st.sampled_from([True, False]),
)
def test_fused_line_gives_the_general_item(path, query, ua, ip, explicit):
    # The fused parse and the general steps give the same item for any query on any path.
    line = clf(path + "?" + b"&".join(query).decode(), ua=ua, ip=ip)[:-1]
    ctx = scan._ParseContext(
        clf_format.CombinedFormat(), "fp", 1, "f.log", explicit,
        frozenset({"/smartcar/callback"}) if explicit else frozenset(),
        frozenset({"/connect/smartcar"}), frozenset(), privacy.Redaction(), True,
    )  # fmt: skip
    general = scan._parse_line(replace(ctx, fused=False), line, 100, 7)
    assert scan._parse_line(ctx, line, 100, 7) == general
    if fused.parse_line(ctx, line, 100, 7) is not fused.OTHER:
        assert general is None or general[0] in "LR"
