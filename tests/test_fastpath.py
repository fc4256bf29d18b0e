"""The combined-format fast path must read every line exactly as the general regex does."""

from __future__ import annotations

import gzip
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcar_logs.formats import CombinedFormat, _fast_clf, clf, parse_clf_time

REAL = Path(__file__).parent / "data" / "apache_logs_elastic_examples.log.gz"


def regex_parse(line: bytes):
    fmt = CombinedFormat()
    saved = clf._fast_clf
    clf._fast_clf = lambda _line: None
    try:
        return fmt.parse(line)
    finally:
        clf._fast_clf = saved


def same(line: bytes) -> None:
    fast = _fast_clf(line)
    if fast is not None:
        assert fast == regex_parse(line), line


def test_real_log_lines_agree():
    lines = gzip.decompress(REAL.read_bytes()).splitlines()
    taken = sum(_fast_clf(ln) is not None for ln in lines)
    for ln in lines:
        same(ln)
    assert taken > 0.95 * len(lines)  # the fast path really is the common path


def test_escapes_agree():
    for line in (
        b'1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /cb?a=\\x22b\\x22&make=Citro\\xC3\\xABn HTTP/1.1" 302 0 "-" "curl \\x22x\\x22"',
        b'1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /cb?model=Model\\"S\\" HTTP/1.1" 302 0 "-" "UA \\"q\\" \\\\"',
        b'1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /a\\\\" 400 0 "-" "-"',
        b'vhost:443 1.2.3.4 - - [01/Oct/2026:09:00:01 -0730] "GET /cb?x=1 HTTP/2.0" 200 12',
    ):
        same(line)
    assert (
        _fast_clf(b'1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /x HTTP/1.1" 302 0 "-" "UA"').user_agent
        == "UA"
    )


_PIECES = st.sampled_from(
    [
        b" ",
        b"-",
        b'"',
        b"\\",
        b"\\x22",
        b'\\"',
        b"[",
        b"]",
        b"GET",
        b"/cb?a=1",
        b"HTTP/1.1",
        b"302",
        b"0",
        b"1.2.3.4",
        b"01/Oct/2026:09:00:01 +0200",
        b"\xff",
        b"x",
        b":",
        b"+0000",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=30))
def test_random_lines_agree(pieces):
    same(b"".join(pieces))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='abc ?=&%"\\/', max_size=40), st.text(alphabet='ab "\\', max_size=20))
def test_structured_lines_agree(target, ua):
    t = target.encode().replace(b'"', b'\\"')
    u = ua.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    same(b'1.2.3.4 - - [01/Oct/2026:09:00:01 +0200] "GET /' + t + b' HTTP/1.1" 302 0 "-" "' + u + b'"')


def test_clf_time_matches_datetime():
    from datetime import datetime

    for t in (
        b"01/Oct/2026:09:00:01 +0200",
        b"31/Dec/2026:23:59:59 -0100",
        b"29/Feb/2028:00:00:00 +1400",
        b"01/Jan/1970:00:00:00 +0000",
        b"15/Jun/2031:12:34:56 -0930",
    ):
        want = (
            datetime.strptime(t.decode(), "%d/%b/%Y:%H:%M:%S %z")
            .astimezone()
            .astimezone(__import__("datetime").timezone.utc)
            .isoformat()
        )
        assert parse_clf_time(t) == want
    for bad in (
        b"32/Oct/2026:09:00:01 +0200",
        b"01/Foo/2026:09:00:01 +0200",
        b"01/Oct/2026:25:00:01 +0200",
        b"01/Oct/2026:09:00:01 0200",
        b"01/Oct/2026 09:00:01 +0200",
        b"",
    ):
        assert parse_clf_time(bad) is None
