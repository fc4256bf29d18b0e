"""The redirect fast path must give exactly the record of the general normaliser, or step aside."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcar_logs.redirect import (
    FIELDS,
    _fast,
    _normalize_general,
    normalize,
    normalize_row,
    parse_query,
    row_values,
    state_of,
)
from smartcar_logs.store import REDIRECT_COLUMNS
from smartcar_logs.synthetic import generate_log as generate

REAL = Path(__file__).parent / "data" / "apache_logs_elastic_examples.log.gz"
_TARGET = re.compile(rb'"[A-Z]+ (\S+) HTTP/[0-9.]+"')


def agree(target: bytes) -> bool:
    """True when the fast path took *target*; fails when it took it and disagrees."""
    fast = _fast(target)
    if fast is None:
        return False
    general = _normalize_general(target)
    assert fast == general, target
    assert list(fast) == list(general)  # same key order: rows are built from it
    assert normalize(target) == general
    # What the importer stores: the same values, without the dict in between.
    assert normalize_row(target) == (
        row_values(general),
        general["outcome"] == "empty",
        general["evidence"],
    ), target
    return True


def test_stored_values_follow_the_table_columns():
    # row_values relies on the record and the table sharing their order from "outcome" on.
    assert FIELDS[1:25] + ("flags", "extras") == REDIRECT_COLUMNS[10:]


def targets_of(data: bytes) -> list[bytes]:
    return [m.group(1) for m in _TARGET.finditer(data)]


def generated(seed: int, **kw) -> bytes:
    out = io.BytesIO()
    generate(out, lines=kw.pop("lines", 20_000), seed=seed, **kw)
    return out.getvalue()


def test_generated_redirects_agree_and_mostly_take_the_fast_path():
    data = generated(3, redirect_share=1.0)
    redirects = [t for t in targets_of(data) if t.startswith(b"/smartcar/callback?")]
    assert len(redirects) > 5000
    taken = sum(agree(t) for t in redirects)
    # The shapes the generator draws most are the fast path's: it really is the common path.
    assert taken > 0.85 * len(redirects)


def test_every_generated_target_agrees():
    # Ordinary traffic, launches, other OAuth callbacks, several seeds and time zones.
    for seed in (1, 2, 5):
        for t in targets_of(generated(seed, lines=8000, redirect_share=0.2, tz_offset_minutes=seed * 90)):
            agree(t)


def test_real_apache_targets_agree():
    for t in targets_of(gzip.decompress(REAL.read_bytes())):
        agree(t)
        agree(b"/smartcar/callback?" + t.partition(b"?")[2])


def test_examples():
    uid = b"725146a3-69f4-46c8-965d-54b3b6f81eb7"
    for t in (
        b"/cb?user_id=" + uid + b"&state=0facda3319",
        b"/cb?user_id=" + uid.upper() + b"&state=s",
        b"/cb?code=abc&user_id=" + uid + b"&state=s",
        b"/cb?code=abc&state=s",
        b"/cb?error=access_denied&error_description=User+denied+access+to+application.&state=s",
        b"/cb?error=ACCESS_DENIED&error_description=User%20denied&state=s",
        b"/cb?error=vehicle_incompatible&error_description=The+user%E2%80%99s+car&state=s",
        b"/cb?error=weird&error_description=&state=s",
        b"/cb?error=server_error&error_description=+%20+&state=s",
    ):
        assert agree(t), t
    for t in (
        b"/cb?error=x&error_description=%2541&state=s",  # double encoded: flagged there
        b"/cb?error=x&error_description=%FF&state=s",  # invalid UTF-8: flagged there
        b"/cb?user_id=" + uid + b"&state=s#frag",
        b"https://example.com/cb?user_id=" + uid + b"&state=s",
        b"/cb?user_id=" + uid + b"&state=s&state=t",
        b"/cb?user_id=" + uid + b"&state=",
        b"/cb?user_id=not-a-uuid&state=s",
    ):
        assert _fast(t) is None, t
        normalize(t)


_PIECES = st.sampled_from(
    [
        b"/cb",
        b"/",
        b"?",
        b"&",
        b"=",
        b"#",
        b"%",
        b"%2",
        b"%41",
        b"%25",
        b"%FF",
        b"%e2%80%99",
        b"+",
        b" ",
        b"\xff",
        b"\xc3\xa9",
        b"user_id",
        b"user_id=",
        b"state=",
        b"code=",
        b"error=",
        b"error_description=",
        b"access_denied",
        b"ACCESS_DENIED",
        b"server_error",
        b"vin=",
        b"make=",
        b"725146a3-69f4-46c8-965d-54b3b6f81eb7",
        b"x",
        b"-",
        b"~",
        b".",
        b"CODE=",
        b"https://h",
        b"\t",
        b"\x00",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_PIECES, max_size=16))
def test_random_near_miss_targets_agree(pieces):
    agree(b"".join(pieces))


_VALUE = st.text(st.characters(codec="utf-8"), max_size=12).map(lambda s: s.encode("utf-8", "surrogatepass"))
_PCT = st.binary(max_size=6).map(lambda b: "".join(f"%{c:02X}" for c in b).encode())


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from([b"/cb", b"/smartcar/callback", b"/a.b/c~d-e", b"/"]),
    st.sampled_from([b"user_id", b"code", b"error", b"error_description", b"state", b"make"]),
    st.one_of(_VALUE, _PCT, st.sampled_from([b"access_denied", b"Other", b"a+b", b"%2B"])),
    st.one_of(_VALUE, _PCT, st.just(b"725146a3-69f4-46c8-965d-54b3b6f81eb7")),
    st.one_of(_VALUE, st.just(b"0facda3319")),
)
def test_random_common_shapes_agree(path, key, v1, v2, state):
    for q in (
        b"error=" + v1 + b"&error_description=" + v2 + b"&state=" + state,
        b"error=" + v1 + b"&error_description=" + v1 + v2 + b"&state=" + state,
        b"user_id=" + v2 + b"&state=" + state,
        b"code=" + v1 + b"&user_id=" + v2 + b"&state=" + state,
        b"code=" + v1 + b"&state=" + state,
        key + b"=" + v1 + b"&state=" + state,
    ):
        agree(path + b"?" + q)
        assert state_of(q) == (parse_query(q)[0].get("state") or None)
