"""Rows read from a line that cannot hide a code skip the scrub: they must need none."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from smartcar_logs.privacy import Redaction, cannot_hide_code, scrub_codes
from smartcar_logs.redirect import normalize, row_values
from smartcar_logs.store import REDIRECT_COLUMNS

_PIECES = st.sampled_from([
    b"code", b"CODE", b"Code", b"cOdE", b"co", b"de", b"=", b"%", b"%3D", b"%63ode", b"\\", b"\\x63",
    b"&", b"?", b"/cb", b"state=", b"user_id=", b"error=", b"error_description=", b" ", b":",
    b'"', b"\xc3\xa9", b"\xff", b"x", b"+", b";", b"#", b"status_code=", b"vin=", b"make=",
])


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, max_size=20), st.text(max_size=10))
def test_a_clean_line_gives_rows_the_scrub_leaves_alone(pieces, text):
    line = b"".join(pieces) + text.encode("utf-8", "surrogatepass")
    if not cannot_hide_code(line):
        return
    decoded = line.decode("utf-8", "replace")
    assert scrub_codes(decoded) == decoded
    # A redirect row built from the line as a target and as a user agent: the full check
    # changes nothing either.
    rec = normalize(b"/cb?" + line)
    prefix = ("fp", 1, 0, 1, "2026-10-01T00:00:00+00:00", "GET", "/cb", 302, "192.0.2.1", decoded)
    row = prefix + row_values(rec)
    assert len(row) == len(REDIRECT_COLUMNS)
    assert Redaction().redirect_row(row) == row
    assert Redaction().redirect_row(row, line) is row


def test_lines_that_may_hide_a_code_are_scrubbed():
    line = b"/cb?next=%2Fx%3Fcode%3Dsecret123&state=s"
    assert not cannot_hide_code(line)
    rec = normalize(line)
    row = ("fp", 1, 0, 1, None, "GET", "/cb", 302, None, None) + row_values(rec)
    out = Redaction().redirect_row(row, line)
    assert "secret123" not in json.dumps(out)
    for hiding in (b"CoDe=1", b"%63ode=1", b"\\x63ode=1"):
        assert not cannot_hide_code(hiding)


def test_a_policy_is_applied_even_to_clean_lines():
    salt = "s" * 32
    red = Redaction(["state=hash"], salt)
    line = b"/cb?user_id=725146a3-69f4-46c8-965d-54b3b6f81eb7&state=abc"
    row = ("fp", 1, 0, 1, None, "GET", "/cb", 302, None, None) + row_values(normalize(line))
    out = red.redirect_row(row, line)
    assert out[REDIRECT_COLUMNS.index("state")] not in (None, "abc")
