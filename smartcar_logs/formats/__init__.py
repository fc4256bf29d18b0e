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

import difflib
import re

from ._json import _load_json
from ._text import split_request, unescape_log_bytes
from ._time import parse_any_time, parse_clf_time, parse_epoch_time, parse_iso_time
from .aws import CLOUDFRONT_FIELDS, AlbFormat, CloudFrontFormat, ElbFormat, S3Format
from .azure import AzureFormat
from .base import FormatError, FormatOptions, LineFormat, LogEntry
from .clf import CombinedFormat, CommonFormat, SslRequestFormat, TraefikClfFormat, _fast_clf  # noqa: F401  (tests)
from .custom import CustomFormat
from .document import is_json_document, json_document_lines
from .envoy import EnvoyFormat
from .haproxy import HaproxyFormat
from .heroku import HerokuFormat, logfmt
from .jsonlines import (
    CaddyFormat,
    CloudflareFormat,
    GcpFormat,
    JsonFormat,
    KongFormat,
    TraefikJsonFormat,
    _field_names,
    _url_field_guess,
)
from .pyservers import UwsgiFormat, WerkzeugFormat
from .urls import UrlListFormat
from .w3c import W3cFormat
from .wrappers import WRAPPERS, WrappedFormat

__all__ = [
    "LogEntry",
    "LineFormat",
    "FormatOptions",
    "FormatError",
    "FORMATS",
    "FAMILIES",
    "WRAPPERS",
    "WrappedFormat",
    "detect_format",
    "get_format",
    "is_format_name",
    "check_options",
    "OptionError",
    "explain_unknown",
    "forced_note",
    "text_encoding",
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
    "W3cFormat",
    "S3Format",
    "HaproxyFormat",
    "EnvoyFormat",
    "UwsgiFormat",
    "SslRequestFormat",
    "AzureFormat",
    "KongFormat",
    "WerkzeugFormat",
]


# --- registry and detection ------------------------------------------------------------------------

# Most specific first: detection takes the format matching most sample lines, ties to the earlier.
FORMATS: dict[str, LineFormat] = {
    f.name: f
    for f in (
        AlbFormat(),
        ElbFormat(),
        CloudFrontFormat(),
        W3cFormat(),
        S3Format(),
        HerokuFormat(),
        HaproxyFormat(),
        EnvoyFormat(),
        UwsgiFormat(),
        SslRequestFormat(),
        GcpFormat(),
        CloudflareFormat(),
        AzureFormat(),
        TraefikJsonFormat(),
        KongFormat(),
        CaddyFormat(),
        TraefikClfFormat(),
        CombinedFormat(),
        CommonFormat(),
        WerkzeugFormat(),
        JsonFormat(),
        UrlListFormat(),
        CustomFormat(),
    )
}


#: The names users type for a server rather than a layout: each reads as the first of its members
#: that fits the file's first lines (auto-detection restricted to them), the file's format then
#: being that member's. nginx's and Apache's default access logs are both combined or common
#: (with or without a leading vhost, which those readers take).
FAMILIES: dict[str, tuple[str, ...]] = {
    "nginx": ("combined", "common"),
    "apache": ("combined", "common"),
}


def is_format_name(name: str) -> bool:
    """A name :func:`get_format` knows: a registered format, a family, or ``wrapper+format``."""
    wrapper, plus, inner = name.rpartition("+")
    return (inner in FORMATS or inner in FAMILIES) and (not plus or wrapper in WRAPPERS)


def _unknown_name(name: str) -> str:
    """Why *name* is no format, with the closest name when one is close ("did you mean combined?")."""
    wrapper, plus, inner = name.rpartition("+")
    names = ["auto", *FORMATS, *FAMILIES]
    if plus and wrapper not in WRAPPERS:
        got, known, what = wrapper, list(WRAPPERS), "wrapper"
    else:
        got, known, what = inner, names, "format"
    close = difflib.get_close_matches(got.lower(), known, n=1, cutoff=0.6)
    guess = ""
    if close:
        fixed = close[0] + plus + inner if what == "wrapper" else wrapper + plus + close[0]
        guess = f" (did you mean {fixed}?)"
    return (
        f"unknown {what} {got!r}{guess}; choose one of: {', '.join(names)} "
        f"(or WRAPPER+FORMAT with WRAPPER one of {', '.join(WRAPPERS)})"
    )


class OptionError(ValueError):
    """The format options contradict each other; :attr:`option` is the flag at fault."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def check_options(
    fmt: str | None = None,
    log_format: str | None = None,
    url_field: str | None = None,
    time_field: str | None = None,
) -> FormatOptions:
    """The format options of an import, checked before any file is opened.

    Parameters
    ----------
    fmt : str, optional
        ``--format``: ``auto``, a format, a family (``nginx``) or ``WRAPPER+FORMAT``; None when
        not given (the database's remembered format stands: importer/settings.py).
    log_format : str, optional
        ``--log-format``: an Apache ``LogFormat`` or nginx ``log_format`` string.
    url_field, time_field : str, optional
        ``--url-field`` / ``--time-field`` for JSON logs.

    Returns
    -------
    FormatOptions
        The three options as given: None is "not given" (the remembered value stands) and ``''``
        forgets a remembered one; the settings merge them into what :func:`get_format` and
        :func:`detect_format` take.

    Raises
    ------
    OptionError
        An unknown format name (with the closest one), ``custom`` without a log format, a log
        format with another format, or a log format that does not compile.

    Examples
    --------
    >>> check_options("nginx")
    FormatOptions(log_format=None, url_field=None, time_field=None)
    >>> check_options("combnied")
    Traceback (most recent call last):
    ...
    smartcar_logs.formats.OptionError: unknown format 'combnied' (did you mean combined?); choose one of: ...
    """
    if fmt not in (None, "auto") and not is_format_name(fmt):
        raise OptionError(_unknown_name(fmt), "--format")
    if fmt == "custom" and not log_format:
        raise OptionError("--format custom needs --log-format", "--format")
    if log_format:
        if fmt not in (None, "auto", "custom"):
            raise OptionError("goes with --format custom (or auto)", "--log-format")
        try:
            CustomFormat(log_format)
        except (ValueError, re.error) as e:
            raise OptionError(str(e), "--log-format") from None
    return FormatOptions(log_format, url_field, time_field)


def _family_member(family: str, lines: list[bytes], opts: FormatOptions) -> LineFormat:
    """The member of *family* matching most of *lines* (the first member when none does)."""
    members = [FORMATS[m] for m in FAMILIES[family]]
    best, _ = _best([m.configure(lines, opts) for m in members], lines)
    return best or members[0]


def get_format(
    name: str, sample_lines: list[bytes] | None = None, options: FormatOptions | dict | None = None
) -> LineFormat:
    """The format *name*, configured for a file from its *sample_lines* and *options*.

    *name* may name a wrapper too (``syslog+haproxy``, ``docker+combined``), or a family
    (``nginx``, ``apache``: the member that fits the sample, see :data:`FAMILIES`). Raises
    ValueError for an unknown name, :class:`FormatError` (a ValueError) when the options do not
    fit the file (``custom`` without a log format, a ``--url-field`` in no sample line).
    """
    wrapper_name, plus, inner_name = name.rpartition("+")
    if not is_format_name(name):
        raise ValueError(_unknown_name(name))
    sample = [ln.rstrip(b"\r") for ln in (sample_lines or ())]
    opts = FormatOptions.of(options)
    if plus:
        wrapper = WRAPPERS[wrapper_name]
        inner = FORMATS.get(inner_name)
        if inner is None:
            unwrapped = [u[0] for u in map(wrapper.unwrap, sample) if u is not None]
            inner = _family_member(inner_name, [ln for ln in unwrapped if ln.strip()], opts)
        return WrappedFormat(wrapper, inner).configure(sample, opts)
    if inner_name in FAMILIES:
        return _family_member(inner_name, [ln for ln in sample if ln.strip()], opts)
    return FORMATS[inner_name].configure(sample, opts)


def _share(fmt: LineFormat, lines: list[bytes]) -> float:
    # The share is what the chosen reader can read: requests and its own non-request lines
    # (headers, app lines), and combined also reads common lines.
    return sum(1 for ln in lines if not isinstance(fmt.parse(ln), str)) / len(lines)


def _candidates(lines: list[bytes], opts: FormatOptions) -> tuple[list[LineFormat], FormatError | None]:
    """Every reader configured for *lines*; a reader the options do not fit is left out."""
    protos = (
        [FORMATS["custom"]]
        if opts.log_format is not None
        else [f for f in FORMATS.values() if f.name != "custom"]
    )
    out, error = [], None
    for proto in protos:
        try:
            out.append(proto.configure(lines, opts))
        except FormatError as e:
            error = error or e
    return out, error


def _best(candidates: list[LineFormat], lines: list[bytes], beat: int = 0) -> tuple[LineFormat | None, int]:
    best, best_n = None, beat
    for fmt in candidates:
        n = sum(1 for ln in lines if fmt.matches(ln))
        if n > best_n:
            best, best_n = fmt, n
    return best, best_n


def _detect_lines(lines: list[bytes], opts: FormatOptions) -> tuple[LineFormat | None, float]:
    candidates, error = _candidates(lines, opts)
    best, best_n = _best(candidates, lines)
    # Wrappers: take the envelope off and detect what is inside. The bare reading wins ties
    # (Heroku reads its own syslog-style prefix).
    for wrapper in WRAPPERS.values():
        inner = [u[0] for u in map(wrapper.unwrap, lines) if u is not None]
        if len(inner) <= best_n:
            continue
        inner_candidates, inner_error = _candidates(inner, opts)
        fmt, n = _best(inner_candidates, inner, best_n)
        if fmt is not None:
            best, best_n, error = WrappedFormat(wrapper, fmt), n, inner_error
        elif inner_error is not None and error is None:
            error = inner_error
    if error is not None and (best is None or getattr(best, "inner", best).json_lines):
        raise error  # e.g. a --url-field that is in none of the sample's JSON lines
    if best is None:
        return None, 0.0
    return best, _share(best, lines)


def detect_format(
    sample_lines: list[bytes], options: FormatOptions | dict | None = None
) -> tuple[LineFormat | None, float]:
    """Pick the format matching the most *sample_lines*, configured for this file.

    Returns (format, share of non-blank sample lines it reads). A few odd lines at the start
    never decide: the format wins on the count, ties go to the more specific one. With a
    ``log_format`` option the custom format is the only candidate. Lines inside a container or
    syslog envelope are detected inside it (the format is then a :class:`WrappedFormat`).
    Raises :class:`FormatError` when a JSON file has none of the ``--url-field`` /
    ``--time-field`` named.
    """
    opts = FormatOptions.of(options)
    lines = [ln.rstrip(b"\r") for ln in sample_lines if ln.strip()]
    if not lines:
        return None, 0.0
    return _detect_lines(lines, opts)


# --- helpful errors ---------------------------------------------------------------------------------

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\xfe\xff", "UTF-16BE"),
)
_PRESET = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"'


def text_encoding(head: bytes) -> str | None:
    """The UTF-16/UTF-32 encoding *head* (a file's first bytes) is in, by BOM or NUL bytes; None for
    ASCII-compatible text. (The readers read bytes of an ASCII-compatible encoding.)"""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    probe = head[:4096]
    if len(probe) >= 64 and probe.count(b"\x00") > len(probe) // 4:
        return "UTF-16LE" if probe[1:2] == b"\x00" else "UTF-16BE"
    return None


def _not_layout(reason: str) -> bool:
    """A reason that says the line got past the reader's layout (its time or request was bad)."""
    return not reason.startswith(("not a", "not an", "fewer fields", "field count"))


def explain_unknown(sample_lines: list[bytes], options: FormatOptions | dict | None = None) -> str:
    """Why no reader fits *sample_lines*, which came closest, and the flag that would help."""
    opts = FormatOptions.of(options)
    lines = [ln.rstrip(b"\r") for ln in sample_lines if ln.strip()]
    if not lines:
        return "no lines to read"
    enc = text_encoding(b"\n".join(lines[:50]))
    if enc is not None:
        return (
            f"the file is {enc} text, not UTF-8/ASCII (PowerShell '>' writes UTF-16): convert it "
            f"first, e.g. iconv -f {enc} -t UTF-8 FILE > FILE.utf8.log"
        )
    n = len(lines)
    if opts.log_format is not None:
        auto, share = _detect_lines(
            lines, FormatOptions(url_field=opts.url_field, time_field=opts.time_field)
        )
        msg = f"--log-format matches none of the first {n} lines"
        if auto is not None:
            return msg + f"; without it they read as {auto.name} ({share:.0%}): drop --log-format"
        return msg + "; compare it with the server's LogFormat / log_format line"
    json_objs = [o for o in map(_load_json, lines) if o is not None]
    if len(json_objs) * 2 > n:
        guess = _url_field_guess(json_objs)
        flag = f"--url-field {guess}" if guess else "--url-field"
        return (
            f"JSON lines, but none of the first {n} has a URL field this tool knows: name it with "
            f"{flag} (and the time with --time-field); fields seen: {', '.join(_field_names(json_objs))}"
        )
    closest, got = None, 0
    for fmt in _candidates(lines, opts)[0]:
        reasons = [r for r in map(fmt.parse, lines) if isinstance(r, str) and _not_layout(r)]
        if len(reasons) > got:
            closest, got = (fmt, max(set(reasons), key=reasons.count)), len(reasons)
    hint = (
        f"if it is an Apache/nginx variant, give its LogFormat / log_format with --log-format, "
        f"e.g. --log-format '{_PRESET}'; a plain list of URLs reads with --format urls"
    )
    if closest is None:
        return f"no reader fits any of the first {n} lines; {hint}"
    fmt, reason = closest
    # Readers that share a parser (traefik-clf, common) are named by the one that defines it.
    fmt = next((f for f in FORMATS.values() if vars(type(f)).get("parse") is type(fmt).parse), fmt)
    return f"closest reader: {fmt.name}, whose layout fits {got} of the first {n} lines but: {reason}; {hint}"


def forced_note(
    fmt: LineFormat,
    sample_lines: list[bytes],
    options: FormatOptions | dict | None = None,
    name: str | None = None,
) -> str | None:
    """A warning when a forced ``--format`` reads under half of *sample_lines*, naming what
    auto-detection would pick; None when the forced format reads them. *name* is the name the
    user gave (``nginx`` for the ``combined`` it gave), default ``fmt.name``."""
    lines = [ln.rstrip(b"\r") for ln in sample_lines if ln.strip()]
    if not lines:
        return None
    share = _share(fmt, lines)
    if share >= 0.5:
        return None
    try:
        auto, auto_share = _detect_lines(lines, FormatOptions.of(options))
    except FormatError:
        auto, auto_share = None, 0.0
    msg = f"--format {name or fmt.name} reads {share:.0%} of the first {len(lines)} lines"
    if auto is not None and auto.name != fmt.name:
        return msg + f"; auto-detection would read them as {auto.name} ({auto_share:.0%}): drop --format"
    return msg
