"""The compiled hot loop (importer/_speedups.pyx) stores exactly what the pure one stores.

The pure-Python scan is the reference. These tests run the compiled candidate search and
block parse beside it, on generated lines (hypothesis, built from the pieces that steer each
branch of the compiled parse: shapes, escapes, codes, ``%``, ``\\r``, zero fill, long lines)
and on every real fixture, and compare the items, then whole imports row for row. CI builds
the extension (``make test``); when it is missing these tests fail under
``SMARTCAR_LOGS_REQUIRE_COMPILED=1`` (see the ``parser_path`` fixture) rather than pass on
the pure path alone.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from logs import UID, UID2, clf
from smartcar_logs import privacy
from smartcar_logs.cli import cli
from smartcar_logs.formats import clf as clf_format
from smartcar_logs.importer import _speed, import_paths, scan
from smartcar_logs.store import open_db
from smartcar_logs.synthetic import generate_log

DATA = Path(__file__).parent / "data"
REAL = DATA / "apache_logs_elastic_examples.log.gz"
FIXTURES = sorted((DATA / "formats").iterdir())


def compiled():
    """The compiled module, or a failure/skip saying it is not built."""
    if not _speed.available():
        if os.environ.get("SMARTCAR_LOGS_REQUIRE_COMPILED"):
            pytest.fail("the compiled extension is not built (make test builds it)")
        pytest.skip("the compiled extension is not built (python setup.py build_ext --inplace)")
    return _speed._load()


def snapshot(db) -> dict:
    out = {}
    for table in ("redirects", "launches", "rejects", "sources", "source_heads", "redirect_paths"):
        cols = list(db[table].columns_dict)
        out[table] = db.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid").fetchall()
    out["imports"] = db.execute(
        "SELECT files, lines_read, redirects, launches, inserted, duplicates, ordinary, rejected, errors"
        " FROM imports ORDER BY id"
    ).fetchall()
    return out


def import_with(path: str, tmp: Path, files: list[Path], **kw) -> tuple[dict, str]:
    _speed.use(path == "compiled")
    try:
        # Copies of one new database: the same salt, so hashed (--redact) values compare.
        template = tmp / "template.db"
        if not template.exists():
            open_db(template).conn.close()
        shutil.copy(template, tmp / f"{path}.db")
        db = open_db(tmp / f"{path}.db")
        res = import_paths(db, [str(f) for f in files], **kw)
        return snapshot(db), res.parser
    finally:
        _speed.use(None)


def both_ways(tmp_path, files: list[Path], **kw) -> dict:
    compiled()
    c, c_parser = import_with("compiled", tmp_path, files, **kw)
    p, p_parser = import_with("pure", tmp_path, files, **kw)
    assert (c_parser, p_parser) == ("compiled", "pure")
    assert c == p
    return c


def context(**kw) -> scan._ParseContext:
    ctx = scan._ParseContext(
        clf_format.CombinedFormat(), "fp", 1, "f.log", False, frozenset(),
        frozenset({"/connect/smartcar"}), frozenset(), privacy.Redaction(), True,
    )  # fmt: skip
    return replace(ctx, **kw)


def blocks_agree(buf: bytes, ctx: scan._ParseContext, needles) -> list:
    """The compiled search and parse of *buf* equal the pure ones; the items."""
    c = compiled()
    bounds = scan._find_candidates(buf, needles)
    assert c.find_candidates(buf, needles) == bounds
    for since in (0, len(buf) // 3):
        assert c.find_candidates(buf, needles, since) == scan._find_candidates(buf, needles, since)
    pairs = sorted(bounds.items())
    pure = scan._parse_block(ctx, buf, pairs, 1000, 41)
    assert c.parse_block(ctx, buf, pairs, 1000, 41) == pure
    return pure


NEEDLES = sorted(set(scan.AUTO_NEEDLES) | {b"/connect/smartcar"})

_QUERY = st.sampled_from([
    b"user_id=" + UID.encode(), b"user_id=" + UID.upper().encode(), b"user_id=not-a-uuid", b"state=s1",
    b"state=", b"&", b"error=access_denied", b"error=Vehicle_Incompatible", b"error=server_error",
    b"error=weird_one", b"error_description=No+thanks", b"error_description=%C3%A9t%C3%A9",
    b"error_description=%2520", b"error_description=%FF", b"error_description=+++",
    b"error_description=a%20code%20b", b"code=abc", b"CoDe=x", b"%41", b"vin=5YJ3E1EA7KF317000",
    b"=", b"?", b"#f", b"make=TESLA", b"", b"state=a%25b", b"x=\xc3\xa9",
])  # fmt: skip
_PATH = st.sampled_from(
    ["/smartcar/callback", "/connect/smartcar", "/other", "/", "//", "/smartcar/callback/"]
)
_UA = st.sampled_from(["UA x", "-", "Mozilla/5.0 (X11) Code", "ua%20", 'a \\" b', "é"])
_IP = st.sampled_from(["203.0.113.9", "-", "10.0.0.1, 10.0.0.2", "[::1]"])
_TIME = st.sampled_from([
    "01/Oct/2026:09:00:01 +0200", "01/Oct/2026:09:00:60 +0200", "01/Oct/2026:23:59:59 -0530",
    "01/Oct/2026:09:61:00 +0200", "31/Feb/2026:09:00:00 +0000", "01/Oct/2026:09:00:01 +0000",
])  # fmt: skip


@st.composite
def lines(draw) -> bytes:
    query = b"&".join(draw(st.lists(_QUERY, max_size=6)))
    target = draw(_PATH).encode() + draw(st.sampled_from([b"?", b"", b"?state=L1&"])) + query
    line = clf(target, ua=draw(_UA), ip=draw(_IP), t=draw(_TIME), vhost=draw(st.sampled_from(["", "h:443"])))
    cut = draw(st.integers(0, len(line)))
    return draw(
        st.sampled_from(
            [
                line,
                line[:-1] + b"\r\n",
                b"\0\0" + line,
                line[:cut] + b"\n",  # truncated anywhere
                line.replace(b"HTTP/1.1", b"HTTP/1.1 x"),
                line.replace(b'"GET ', b'"get '),
                line.replace(b" 302 ", b" 30x "),
            ]
        )
    )


@settings(max_examples=600, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=12), st.booleans(), st.booleans())
def test_generated_lines_parse_alike(batch, explicit, trailing_newline):
    buf = b"".join(batch)
    if not trailing_newline:
        buf = buf.rstrip(b"\n")  # a last line without its newline
    ctx = context(
        explicit=explicit, redirect_paths=frozenset({"/smartcar/callback"}) if explicit else frozenset()
    )
    blocks_agree(buf, ctx, NEEDLES if not explicit else [b"/smartcar/callback", b"/connect/smartcar"])


@settings(max_examples=400, deadline=None)
@given(
    st.binary(max_size=300).map(lambda b: b.translate(bytes.maketrans(b"\x00\x01\x02\x03", b"\nab="))),
    st.lists(st.binary(min_size=1, max_size=5), min_size=1, max_size=4),
    st.integers(0, 3),
    st.integers(0, 400),
)
def test_the_candidate_search_finds_alike(body, needles, at_edge, since):
    """The compiled search memchr's each needle's rarest byte in the block: the same lines as
    the pure search, for needles of any bytes but a newline (repeated ones too), from any
    offset, and with a needle straddling a search window's edge."""
    c = compiled()
    # A needle is a path or a query key: never a newline (on which neither search would end).
    needles = sorted({n.translate(bytes.maketrans(b"\x00\x01\x02\n", b"ab=c")) for n in needles})
    edge = scan._WINDOW - at_edge  # a needle that begins just before the window ends
    buf = body + b"x" * max(0, edge - len(body)) + needles[0] + b"\n" + body
    for start in (since, edge - 2):
        assert c.find_candidates(buf, needles, start) == scan._find_candidates(buf, needles, start)
    assert c.find_candidates(body, needles, 0) == scan._find_candidates(body, needles, 0)


def test_the_compiled_parse_takes_the_common_lines():
    # What makes it worth building: the generated export's lines are parsed in C, not handed
    # back to the pure parse (which would still give equal rows).
    c = compiled()
    out = io.BytesIO()
    generate_log(out, lines=2000, seed=3, redirect_share=1.0)
    buf = out.getvalue()
    ctx = context()
    pairs = sorted(c.find_candidates(buf, NEEDLES).items())
    calls = []
    real = scan._parse_line

    def spy(*a):
        calls.append(a)
        return real(*a)

    c.set_fallback(spy)
    try:
        items = c.parse_block(ctx, buf, pairs, 0, 0)
    finally:
        c.set_fallback(real)
    assert items == scan._parse_block(ctx, buf, pairs, 0, 0)
    # Only the redirects with vehicle details, or the odd shape, go back to Python.
    assert len(calls) < len(pairs) * 0.05, (len(calls), len(pairs))


def test_real_apache_log_parses_alike():
    buf = gzip.decompress(REAL.read_bytes())
    for ctx in (context(), context(fused=False)):
        blocks_agree(buf, ctx, NEEDLES + [b"/presentations/"])


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_every_real_fixture_imports_alike(tmp_path, fixture):
    got = both_ways(tmp_path, [fixture])
    assert got["redirects"], fixture.name  # each fixture holds Connect redirects


def test_generated_logs_import_alike(tmp_path, monkeypatch):
    # The 1M mix's and the export's shapes, small; with the worker pool too (pieces).
    files = []
    for i, kw in enumerate(({"seed": 1}, {"seed": 3, "redirect_share": 1.0})):
        out = io.BytesIO()
        generate_log(out, lines=6000, **kw)
        p = tmp_path / f"g{i}.log"
        p.write_bytes(out.getvalue())
        files.append(p)
    got = both_ways(tmp_path, files, launch_paths=["/connect/smartcar"], jobs=1)
    assert len(got["redirects"]) > 2000 and len(got["launches"]) > 2000
    (tmp_path / "pool").mkdir()
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)  # the worker pool, in pieces
    monkeypatch.setattr(scan, "MIN_PIECE", 64 << 10)
    pooled = both_ways(tmp_path / "pool", files, launch_paths=["/connect/smartcar"], jobs=2)
    assert len(pooled["redirects"]) == len(got["redirects"])  # rowids follow the pieces' order


def test_hostile_lines_with_redaction_import_alike(tmp_path):
    lines_ = [
        clf(f"/smartcar/callback?user_id={UID}&state=s1"),
        clf(f"/smartcar/callback?code=abc&user_id={UID2}&state=s2", ua="UA with code=leak"),
        clf("/smartcar/callback?error=access_denied&error_description=a%20code%3Dx&state=s4"),
        clf("/connect/smartcar?state=L1", ua="ua%20code"),
        clf("/smartcar/callback?error=x&error_description=%2520&state=s5"),
    ] * 50
    p = tmp_path / "h.log"
    p.write_bytes(b"".join(lines_))
    # No policy: the compiled parse reads these lines and must leave the scrubbed ones to the
    # pure path; with one, every line takes the pure path (its own item, no fused parse).
    got = both_ways(tmp_path, [p], launch_paths=["/connect/smartcar"])
    assert len(got["redirects"]) == 200 and len(got["launches"]) == 50
    (tmp_path / "policy").mkdir()
    both_ways(tmp_path / "policy", [p], launch_paths=["/connect/smartcar"], redaction=["user_agent=hash"])


def test_the_import_says_which_path_ran(tmp_path, monkeypatch):
    compiled()
    p = tmp_path / "a.log"
    p.write_bytes(clf(f"/smartcar/callback?user_id={UID}&state=s1"))
    for env, want in (("1", "pure"), ("0", "compiled"), ("", "compiled")):
        monkeypatch.setenv("SMARTCAR_LOGS_PURE", env)
        db = str(tmp_path / f"{env or 'unset'}.db")
        res = CliRunner().invoke(cli, ["import", "--db", db, "--json", str(p)])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["parser"] == want
        res = CliRunner().invoke(cli, ["import", "--db", db + "2", str(p)])
        assert f"parser: {'compiled' if want == 'compiled' else 'pure Python'}" in res.stdout
