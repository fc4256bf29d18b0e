"""Form-decode a query string on bytes, key by key, never raising.

The redirect's query is split on ``&`` and ``=`` as bytes, ``+`` becomes a space, ``%XX`` is
decoded, and only then is each key and value decoded as UTF-8 (``errors="replace"``), so
multi-byte escapes survive and a bad escape becomes a *flag*, not an exception.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_to_bytes

__all__ = ["parse_query", "is_uuid", "as_bytes"]

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# A lone "%" or "%" followed by anything but two hex digits: left as-is by unquote_to_bytes.
_BAD_ESCAPE_RE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_DOUBLE_RE = re.compile(rb"%25[0-9A-Fa-f]{2}")


def is_uuid(s: str | None) -> bool:
    """Return True when *s* is a UUID in 8-4-4-4-12 hex form (any case).

    Smartcar's ``user_id`` is such a UUID; OAuth codes from other providers usually are not,
    which is what makes a UUID ``user_id`` Smartcar-specific evidence.
    """
    return bool(s) and _UUID_RE.fullmatch(s) is not None


def as_bytes(value: bytes | str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # Lone surrogates outside the surrogateescape range; "surrogatepass" yields bytes that
        # are invalid UTF-8, which the decoder then flags instead of raising.
        return value.encode("utf-8", "surrogatepass")
    except AttributeError:
        return str(value).encode("utf-8", "surrogatepass")


def _decode_bytes(raw: bytes, flags: list[str]) -> str:
    """Percent-decode one key or value (``+`` already turned into spaces) to text."""
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if "invalid_utf8" not in flags:
            flags.append("invalid_utf8")
        return raw.decode("utf-8", "replace")


def _unquote_text(s: str, flags: list[str]) -> str:
    """Percent-decode a piece of already valid text; escapes may still hide bad UTF-8."""
    try:
        return unquote(s, "utf-8", "strict")
    except UnicodeDecodeError:
        if "invalid_utf8" not in flags:
            flags.append("invalid_utf8")
        return unquote(s, "utf-8", "replace")


def parse_query(query: bytes | str) -> tuple[dict[str, str], list[str], list[str]]:
    """Decode a query string the way a browser form would, without ever raising.

    Parameters
    ----------
    query
        The part after ``?`` (a leading ``?`` is tolerated), as bytes or text.  Text is
        encoded with ``surrogateescape`` so bytes smuggled in by a lossy decoder survive.

    Returns
    -------
    values : dict[str, str]
        First value per key; blank values are kept as ``''``.
    bare_keys : list[str]
        Keys that had no ``=`` at all (``&state``), in order of first appearance.
    flags : list[str]
        Any of ``bare_keys``, ``duplicate_keys``, ``bad_escape``, ``invalid_utf8``,
        ``double_encoded``, in the order first met.
    """
    values: dict[str, str] = {}
    bare: list[str] = []
    flags: list[str] = []
    try:
        raw = as_bytes(query)
        if raw[:1] == b"?":
            raw = raw[1:]
        # "+" is a space in form encoding and can never be part of "&", "=" or "%XX", so it is
        # safe to replace across the whole query at once.
        if b"+" in raw:
            raw = raw.replace(b"+", b" ")
        if b"%" in raw:
            # Escapes never span "&" or "=", so scanning the whole query equals scanning
            # each key and value separately.
            if _BAD_ESCAPE_RE.search(raw) is not None:
                flags.append("bad_escape")
            if b"%25" in raw and _DOUBLE_RE.search(raw) is not None:
                flags.append("double_encoded")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is not None:
                pairs = []
                for seg in text.split("&"):
                    if seg:
                        k, eq, v = seg.partition("=")
                        if "%" in k:
                            k = _unquote_text(k, flags)
                        if "%" in v:
                            v = _unquote_text(v, flags)
                        pairs.append((k, eq, v))
            else:
                # Raw high bytes that are not UTF-8: decode piecewise as bytes so a broken
                # raw byte cannot swallow a neighbouring escape.
                flags.append("invalid_utf8")
                pairs = []
                for seg in raw.split(b"&"):
                    if seg:
                        k, eq, v = seg.partition(b"=")
                        pairs.append((_decode_bytes(k, flags), eq, _decode_bytes(v, flags)))
        else:
            # Common case: nothing escaped, so decode the whole query once.  Decoding before
            # splitting is equivalent because "&" and "=" never occur inside a UTF-8
            # multi-byte sequence.
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                flags.append("invalid_utf8")
                text = raw.decode("utf-8", "replace")
            pairs = [seg.partition("=") for seg in text.split("&") if seg]
        for key, eq, value in pairs:
            if eq:
                if key in values:
                    if "duplicate_keys" not in flags:
                        flags.append("duplicate_keys")
                    continue
                values[key] = value
            else:
                if "bare_keys" not in flags:
                    flags.append("bare_keys")
                if key in bare:
                    if "duplicate_keys" not in flags:
                        flags.append("duplicate_keys")
                    continue
                bare.append(key)
    except Exception:  # pragma: no cover - defensive: the contract is "never raise"
        pass
    return values, bare, flags
