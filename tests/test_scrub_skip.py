"""Rows built from an entry that cannot hide a code skip the scrub: they must need none."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcar_logs.formats import LogEntry
from smartcar_logs.privacy import Redaction, cannot_hide_code
from smartcar_logs.redirect import normalize, row_values
from smartcar_logs.store import REDIRECT_COLUMNS

_PIECES = st.sampled_from([
    b"code", b"CODE", b"Code", b"cOdE", b"co", b"de", b"=", b"%", b"%3D", b"%63ode", b"\\", b"\\x63",
    b"&", b"?", b"/cb", b"state=", b"user_id=", b"error=", b"error_description=", b" ", b":",
    b'"', b"\xc3\xa9", b"\xff", b"x", b"+", b";", b"#", b"status_code=", b"vin=", b"make=", b"\t",
])  # fmt: skip
_TEXT = st.one_of(st.none(), st.text(max_size=8), _PIECES.map(lambda b: b.decode("utf-8", "replace")))


def _row(entry: LogEntry) -> tuple:
    prefix = ("fp", 1, 0, 1, entry.ts, entry.method, "/cb", 302, entry.client_ip, entry.user_agent)
    return prefix + row_values(normalize(entry.target))


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, max_size=20), st.text(max_size=10), _TEXT, _TEXT, _TEXT)
def test_a_clean_entry_gives_rows_the_scrub_leaves_alone(pieces, text, ua, method, ip):
    target = b"/cb?" + b"".join(pieces) + text.encode("utf-8", "surrogatepass")
    entry = LogEntry(target, "2026-10-01T00:00:00+00:00", method, 302, ip, ua)
    row = _row(entry)
    assert len(row) == len(REDIRECT_COLUMNS)
    if cannot_hide_code(entry):
        assert Redaction().redirect_row(row) == row  # the full check changes nothing
        assert Redaction().redirect_row(row, entry) is row
    else:
        assert Redaction().redirect_row(row, entry) == Redaction().redirect_row(row)


def test_entries_that_may_hide_a_code_are_scrubbed():
    entry = LogEntry(b"/cb?next=%2Fx%3Fcode%3Dsecret123&state=s", None, "GET")
    assert not cannot_hide_code(entry)
    assert "secret123" not in json.dumps(Redaction().redirect_row(_row(entry), entry))
    for ua in ("x CoDe=1", "%63ode=1"):
        assert not cannot_hide_code(LogEntry(b"/cb?state=s", None, "GET", 302, None, ua))
    assert not cannot_hide_code(LogEntry(b"/cb?CODE=1", None, "GET"))


def test_a_policy_is_applied_even_to_clean_entries():
    red = Redaction(["state=hash"], "s" * 32)
    entry = LogEntry(b"/cb?user_id=725146a3-69f4-46c8-965d-54b3b6f81eb7&state=abc", None, "GET")
    assert cannot_hide_code(entry)
    out = red.redirect_row(_row(entry), entry)
    assert out[REDIRECT_COLUMNS.index("state")] not in (None, "abc")
