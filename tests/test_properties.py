"""Property-based tests: every line reader, the normaliser and the importer, on any input.

The readers are taken from ``formats.FORMATS`` at collection time, so a format added later
is covered without touching this file.
"""

from __future__ import annotations

import json
import os
import tempfile
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from logs import CB, UID, clf
from smartcar_logs.formats import FORMATS, FormatOptions, LogEntry, detect_format, get_format
from smartcar_logs.importer import import_paths
from smartcar_logs.privacy import scrub_codes
from smartcar_logs.redirect import FIELDS, normalize
from smartcar_logs.store import get_salt, open_db

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
LAUNCH = "/connect/smartcar"
NGINX_COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)


def _options(name: str) -> FormatOptions:
    """What a format needs to be usable at all (the custom reader needs its format string)."""
    return FormatOptions(log_format=NGINX_COMBINED) if name == "custom" else FormatOptions()


# --- line material -------------------------------------------------------------------------------

_TOKENS = st.sampled_from(
    [
        b"user_id=",
        b"error=",
        b"code=",
        b"vehicle_id=",
        b"state=",
        b"&",
        b"?",
        b"=",
        b"%",
        b"%2",
        b"%41",
        b"%C3",
        b"%FF",
        b"\xff",
        b"\xc3",
        b"\x00",
        b"\r",
        b"\n",
        b'"',
        b"\\",
        b"\\x22",
        b"\\",
        b"[",
        b"]",
        b" ",
        b"\t",
        b"{",
        b"}",
        b":",
        b",",
        b"-",
        CB.encode(),
        LAUNCH.encode(),
        b"GET ",
        b" HTTP/1.1",
        b"01/Oct/2026:09:00:01 +0200",
        b"2026-10-01T07:00:01Z",
        b"1790000000.123",
        UID.encode(),
        b"access_denied",
        b"vehicle_incompatible",
        b"\x16\x03\x01\x02\x00",
        b"203.0.113.9",
        b'"request_uri":',
        b'"time":',
        b'{"status":302,',
        b"#Fields: date time",
        b"at=info method=GET path=",
        b"https://",
        b"sc123://exchange",
        b"h2 ",
        b"http ",
    ]
)
FRAGMENT_LINE = st.lists(st.one_of(_TOKENS, st.binary(max_size=6)), max_size=30).map(b"".join)
ANY_LINE = st.one_of(st.binary(max_size=200), FRAGMENT_LINE)

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "user_id",
            "state",
            "error",
            "error_description",
            "vin",
            "make",
            "model",
            "year",
            "vehicle_id",
            "code",
            "status_code",
            "foo",
            "next",
        ]
    ),
    _TEXT,
    max_size=6,
)


def nginx_escape(b: bytes) -> bytes:
    """nginx's escaping of a logged string: quote, backslash and non-printable bytes as \\xHH."""
    return b"".join(bytes((c,)) if 0x20 <= c < 0x7F and c not in (0x22, 0x5C) else b"\\x%02X" % c for c in b)


def _clf_line(params: dict, path: str, ua: str) -> bytes:
    return clf(f"{path}?{urlencode(params)}", ua=nginx_escape(ua.encode("utf-8"))).rstrip(b"\n")


VALID_LINE = st.builds(_clf_line, _PARAMS, st.sampled_from([CB, LAUNCH, "/other/cb", "/"]), _TEXT)
JSON_LINE = st.builds(
    lambda p, path: json.dumps(
        {
            "time": "2026-10-01T07:00:01Z",
            "request_uri": f"{path}?{urlencode(p)}",
            "status": 302,
            "remote_addr": "203.0.113.9",
        }
    ).encode(),
    _PARAMS,
    st.sampled_from([CB, LAUNCH]),
)
LINE = st.one_of(VALID_LINE, VALID_LINE, JSON_LINE, ANY_LINE)
CONTENT = st.tuples(
    st.lists(LINE, max_size=25),
    st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"]),
    st.booleans(),
).map(lambda t: t[1].join(t[0]) + (t[1] if t[2] and t[0] else b""))


# --- every reader: arbitrary bytes never raise ---------------------------------------------------


def _check_entry(entry) -> None:
    assert entry is None or isinstance(entry, (LogEntry, str)), type(entry)
    if isinstance(entry, LogEntry):
        assert isinstance(entry.target, bytes)
        assert entry.ts is None or isinstance(entry.ts, str)
        assert entry.method is None or isinstance(entry.method, str)
        assert entry.status is None or isinstance(entry.status, int)
        assert entry.client_ip is None or isinstance(entry.client_ip, str)
        assert entry.user_agent is None or isinstance(entry.user_agent, str)
        # Whatever a reader returns must survive the normaliser.
        assert tuple(normalize(entry.target)) == FIELDS


@pytest.mark.parametrize("name", sorted(FORMATS))
@FAST
@given(line=ANY_LINE)
def test_reader_never_raises(name, line):
    fmt = get_format(name, [], _options(name))
    _check_entry(fmt.parse(line))
    assert isinstance(fmt.matches(line), bool)


@pytest.mark.parametrize("name", sorted(FORMATS))
@FAST
@given(line=st.one_of(VALID_LINE, JSON_LINE))
def test_reader_never_raises_on_near_valid_lines(name, line):
    fmt = get_format(name, [], _options(name))
    _check_entry(fmt.parse(line))
    _check_entry(fmt.parse(line[: len(line) // 2]))  # cut anywhere


@pytest.mark.parametrize("name", sorted(FORMATS))
@FAST
@given(sample=st.lists(ANY_LINE, max_size=5), line=ANY_LINE)
def test_configure_from_any_sample_never_raises(name, sample, line):
    fmt = get_format(name, sample, _options(name))
    _check_entry(fmt.parse(line))


@SLOW
@given(sample=st.lists(LINE, max_size=10))
def test_detect_format_never_raises(sample):
    fmt, share = detect_format(sample)
    assert fmt is None or fmt.name in FORMATS
    assert 0.0 <= share <= 1.0


# --- the normaliser: gaps left by test_redirect.py -----------------------------------------------

_MAPPED = {
    "code",
    "error",
    "error_description",
    "state",
    "user_id",
    "vehicle_id",
    "external_id",
    "virtual_key_url",
    "vin",
    "make",
    "model",
    "year",
    "status_code",
    "error_message",
}


@SLOW
@given(extras=st.dictionaries(_TEXT.filter(lambda k: k not in _MAPPED and k != ""), _TEXT, max_size=5))
def test_unmapped_parameters_round_trip_into_extras(extras):
    rec = normalize(f"/cb?user_id={UID}&" + urlencode(extras))
    assert rec["extras"] == extras


_SECRET = st.from_regex(r"ZQX[0-9a-f]{6,20}", fullmatch=True)


@SLOW
@given(code=_SECRET, params=_PARAMS)
def test_code_value_never_in_the_record(code, params):
    params = {k: v for k, v in params.items() if k != "code"}
    rec = normalize(f"/cb?{urlencode(params)}&code={code}")
    assert rec["has_code"] is True
    assert code not in json.dumps(rec, ensure_ascii=False, default=str)


@SLOW
@given(
    code=_SECRET,
    # a code key starts after a separator ("zipcode=" is not one)
    before=st.one_of(
        st.just(""), st.tuples(st.text("abc =&?/;:\"'%", max_size=20), st.sampled_from(' &?;/"')).map("".join)
    ),
    after=st.text("abc =&?/;:\"'%", max_size=20),
    key=st.sampled_from(["code=", "CODE=", "code%3D", "code%253D", '"code":"', "%63ode%3D", "code = "]),
)
def test_scrub_codes_removes_any_code(code, before, after, key):
    out = scrub_codes(before + key + code + after)
    assert code not in out
    assert scrub_codes(out) == out


# --- the importer: the sum holds and a re-import adds nothing, whatever the file -----------------


def _counts(db) -> tuple:
    return tuple(
        db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("redirects", "launches", "rejects", "sources")
    )


@SLOW
@given(
    content=CONTENT,
    fmt=st.sampled_from(["auto", *sorted(FORMATS)]),
    chunk=st.sampled_from([64, 4096, 1 << 20]),
)
def test_import_sum_holds_and_reimport_adds_nothing(content, fmt, chunk):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "any.log")
        with open(path, "wb") as f:
            f.write(content)
        db = open_db(None)
        kw = dict(
            fmt=fmt,
            launch_paths=[LAUNCH],
            chunk_size=chunk,
            format_options=_options(fmt) if fmt == "custom" else None,
        )
        res = import_paths(db, [path], **kw)
        for f in res.files:
            assert f.lines == f.redirects + f.launches + f.ordinary + f.rejected, f
            assert f.ordinary >= 0
        assert res.lines_read == res.redirects + res.launches + res.ordinary + res.rejected
        assert db.execute("SELECT count(*) FROM redirects").fetchone()[0] == res.inserted
        before = _counts(db)
        again = import_paths(db, [path], **kw)
        assert again.lines_read == 0 and again.inserted == 0, again.files
        assert _counts(db) == before


@SLOW
@given(params=st.lists(_PARAMS, min_size=1, max_size=8), ua=_TEXT)
def test_imported_rows_equal_the_generated_parameters(params, ua):
    """URLs built from generated values (nginx-escaped in a combined line) decode back to them."""
    lines = b"".join(_clf_line({**p, "user_id": UID}, CB, ua) + b"\n" for p in params)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "a.log")
        with open(path, "wb") as f:
            f.write(lines)
        db = open_db(None)
        res = import_paths(db, [path], redirect_paths=[CB])
        assert res.rejected == 0 and res.redirects == len(params)
        got = db.execute(
            "SELECT state, error_description, make_raw, user_agent, extras FROM redirects"
            " ORDER BY byte_offset"
        ).fetchall()
    blank = lambda v: v if v and not v.isspace() else None  # noqa: E731  ("blank means absent")
    for p, (state, desc, make_raw, got_ua, extras) in zip(params, got):
        expect_state = blank(p.get("state"))
        if expect_state is not None and ("code" in expect_state.lower() or "%" in expect_state):
            expect_state = scrub_codes(expect_state)
        assert state == expect_state
        if "error" in p and p["error"].strip():
            d = blank(p.get("error_description"))
            assert desc == (scrub_codes(d) if d else d)
        assert got_ua == (None if ua == "-" else scrub_codes(ua))  # "-" is the log's "none"
        assert make_raw == (scrub_codes(blank(p["make"])) if blank(p.get("make")) else None)
        ex = {k: scrub_codes(v) for k, v in p.items() if k in ("foo", "next")}
        assert (json.loads(extras) if extras else {}) == ex


@SLOW
@given(states=st.lists(_TEXT.filter(lambda s: s.strip()), min_size=1, max_size=6, unique=True))
def test_hashed_states_join_launches_to_redirects(states):
    lines = b""
    for s in states:
        lines += clf(f"{LAUNCH}?{urlencode({'state': s})}") + clf(
            f"{CB}?{urlencode({'user_id': UID, 'state': s})}"
        )
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "a.log")
        with open(path, "wb") as f:
            f.write(lines)
        db = open_db(None)
        import_paths(db, [path], launch_paths=[LAUNCH], redirect_paths=[CB], redaction=["state=hash"])
        joined = db.execute(
            "SELECT count(*) FROM launches l JOIN redirects r ON l.state = r.state"
        ).fetchone()[0]
        stored = {r[0] for r in db.execute("SELECT state FROM redirects UNION SELECT state FROM launches")}
        assert get_salt(db)
    assume(len({s.strip() for s in states}) == len(states))
    assert joined == len(states)
    assert not (stored & set(states))
