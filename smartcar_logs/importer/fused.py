"""The commonest candidate line in one match: a combined log line whose request is a plain
path and a query.

Nearly every candidate line of an nginx or Apache log has that shape (launches
``/connect/smartcar?state=…``, redirects ``?user_id=…&state=…`` and ``?error=…``). For
those, one pattern takes the fields that the reader, the path cut and the code check each
found again (a ``LogEntry``, a plain-path match), and the row is built straight from them.
Anything else returns :data:`OTHER` and :func:`scan._parse_line` takes its general steps;
``tests/test_import_fastpaths.py`` imports files both ways and compares every stored row.
"""

from __future__ import annotations

from ..formats._time import parse_clf_time
from ..formats.clf import _text, common_clf
from ..redirect import normalize_row, state_of
from .paths import PLAIN_PATH, _target_path

#: Not the common shape: take the general path.
OTHER = object()

# formats.clf._COMMON_CLF with its target spelled as a plain path, "?" and a query: every
# line this matches, that one matches with the same fields.
_LINE = common_clf(rb"(" + PLAIN_PATH + rb')\?([^ "\\]*)').match


def parse_line(ctx, line: bytes, offset: int, line_no: int):
    """:func:`scan._parse_line`'s item for a common-shape *line*, or :data:`OTHER`.

    Only for the combined and common formats without a redaction policy (``ctx.fused``).
    """
    m = _LINE(line)
    if m is None:
        return OTHER
    # privacy.cannot_hide_code over the whole line at once: no "%" and no "code" in any case
    # means no stored value can hold a code, and the row needs no scrub.
    clean = b"%" not in line and b"code" not in line.lower()
    ip, t, method, path_b, query, status, ua = m.groups()
    ts = parse_clf_time(t)
    if ts is None:
        return OTHER
    path = _target_path(path_b)
    head = (
        ctx.fp,
        line_no,
        offset,
        ctx.import_id,
        ts,
        _text(method),
        path,
        int(status),
        None if ip == b"-" else _text(ip),
        None if ua == b"-" else _text(ua),
    )
    if path in ctx.launch_paths:
        row = head + (state_of(query),)
        return "L", row if clean else ctx.redaction.launch_row(row), ts
    if ctx.explicit and path not in ctx.redirect_paths:
        return None
    # A target with a query is never held back as "N" (see scan._parse_line).
    values, empty, evidence = normalize_row(line[m.start(4) : m.end(5)])
    row = head + values
    return "R", offset, path, empty, evidence, row if clean else ctx.redaction.redirect_row(row), ts
