"""Access-log line formats: one reader per format behind one small interface.

A reader turns one raw log line (bytes, without its newline) into a :class:`LogEntry`, returns
``None`` for a line that belongs to the format but is not an HTTP request record (a CloudFront
``#Fields:`` header, a Heroku app line, a JSON log entry without a request URL: the importer
counts those as ordinary lines), or returns a reason string when the line is not in its
format (the importer rejects it). Readers are only ever called on *candidate* lines (the
importer finds those with a byte search), so they can afford a regex or ``json.loads``; what
they must not do is run ``strptime`` per line, hence the cached time parsers.

Each reader also undoes its server's own escaping of the request line before the query
string is decoded: nginx writes ``"``, ``\\`` and every byte outside printable ASCII as
``\\xHH``; Apache writes ``\\"``, ``\\\\``, C escapes (``\\n``) and ``\\xhh``; ALB writes ``"`` as
``\\x22``; CloudFront percent-encodes ``%`` (and space, quotes...) once more; JSON loggers use
JSON string escapes (nginx ``escape=json`` leaves bytes >= 0x80 raw, Go writes ``&`` as
``\\u0026``).

Per-file configuration: detection calls :meth:`LineFormat.configure` with the file's sample
lines and the user's :class:`FormatOptions`, and gets back the instance to read that file with
(CloudFront takes its field list from the ``#Fields:`` header, the JSON reader its field
names from ``--url-field``/``--time-field``, the custom reader its regex from
``--log-format``).

JSON documents: a file that is one JSON array (``gcloud logging read --format=json``) is not
line based. :func:`is_json_document` recognises it from its first bytes and
:func:`json_document_lines` turns it into one canonical JSON line per element; the importer
does that before fingerprinting, so every JSON-lines reader reads it unchanged and line
numbers are element numbers.

Layout: :mod:`.base` holds the interface, ``_text`` and ``_time`` the shared private helpers,
and each vendor family has one module (``clf``, ``aws``, ``heroku``, ``jsonlines``, ``custom``,
``urls``; ``document`` for JSON arrays). Vendor modules import only those three; this module
imports the vendors and holds the registry, whose order is the detection rule. Adding a format
is adding one module and one line in :data:`FORMATS` (see docs/formats.md).
"""

from __future__ import annotations

from ._text import split_request, unescape_log_bytes
from ._time import parse_any_time, parse_clf_time, parse_epoch_time, parse_iso_time
from .aws import CLOUDFRONT_FIELDS, AlbFormat, CloudFrontFormat, ElbFormat
from .base import FormatOptions, LineFormat, LogEntry
from .clf import CombinedFormat, CommonFormat, TraefikClfFormat, _fast_clf  # noqa: F401  (tests)
from .custom import CustomFormat
from .document import is_json_document, json_document_lines
from .heroku import HerokuFormat, logfmt
from .jsonlines import CaddyFormat, CloudflareFormat, GcpFormat, JsonFormat, TraefikJsonFormat
from .urls import UrlListFormat

__all__ = [
    "LogEntry",
    "LineFormat",
    "FormatOptions",
    "FORMATS",
    "detect_format",
    "get_format",
    "is_json_document",
    "json_document_lines",
    "unescape_log_bytes",
    "split_request",
    "logfmt",
    "parse_clf_time",
    "parse_iso_time",
    "parse_epoch_time",
    "parse_any_time",
    "CLOUDFRONT_FIELDS",
    "AlbFormat",
    "ElbFormat",
    "CloudFrontFormat",
    "HerokuFormat",
    "GcpFormat",
    "CloudflareFormat",
    "TraefikJsonFormat",
    "CaddyFormat",
    "TraefikClfFormat",
    "CombinedFormat",
    "CommonFormat",
    "JsonFormat",
    "UrlListFormat",
    "CustomFormat",
]


# --- registry and detection ------------------------------------------------------------------------

# Most specific first: detection takes the format matching most sample lines, ties to the earlier.
FORMATS: dict[str, LineFormat] = {
    f.name: f
    for f in (
        AlbFormat(),
        ElbFormat(),
        CloudFrontFormat(),
        HerokuFormat(),
        GcpFormat(),
        CloudflareFormat(),
        TraefikJsonFormat(),
        CaddyFormat(),
        TraefikClfFormat(),
        CombinedFormat(),
        CommonFormat(),
        JsonFormat(),
        UrlListFormat(),
        CustomFormat(),
    )
}


def get_format(
    name: str, sample_lines: list[bytes] | None = None, options: FormatOptions | dict | None = None
) -> LineFormat:
    """The format *name*, configured for a file from its *sample_lines* and *options*.

    Raises ValueError for an unknown name (or ``custom`` without a log format).
    """
    try:
        proto = FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose one of: auto, {', '.join(FORMATS)}") from None
    sample = [ln.rstrip(b"\r") for ln in (sample_lines or ())]
    return proto.configure(sample, FormatOptions.of(options))


def _share(fmt: LineFormat, lines: list[bytes]) -> float:
    # The share is what the chosen reader can read: requests and its own non-request lines
    # (headers, app lines), and combined also reads common lines.
    return sum(1 for ln in lines if not isinstance(fmt.parse(ln), str)) / len(lines)


def _detect_lines(lines: list[bytes], opts: FormatOptions) -> tuple[LineFormat | None, float]:
    if opts.log_format is not None:
        candidates = [FORMATS["custom"].configure(lines, opts)]
    else:
        candidates = [f.configure(lines, opts) for f in FORMATS.values() if f.name != "custom"]
    best, best_n = None, 0
    for fmt in candidates:
        n = sum(1 for ln in lines if fmt.matches(ln))
        if n > best_n:
            best, best_n = fmt, n
    if best is None:
        return None, 0.0
    return best, _share(best, lines)


def detect_format(
    sample_lines: list[bytes], options: FormatOptions | dict | None = None
) -> tuple[LineFormat | None, float]:
    """Pick the format matching the most *sample_lines*, configured for this file.

    Returns (format, share of non-blank sample lines it reads). A few odd lines at the start
    never decide: the format wins on the count, ties go to the more specific one. With a
    ``log_format`` option the custom format is the only candidate.
    """
    opts = FormatOptions.of(options)
    lines = [ln.rstrip(b"\r") for ln in sample_lines if ln.strip()]
    if not lines:
        return None, 0.0
    return _detect_lines(lines, opts)
