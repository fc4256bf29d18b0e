"""JSON documents: a file that is one JSON array (or Azure's ``{"records": [...]}``), turned
into one JSON line per element.

``gcloud logging read --format=json`` writes one array, not lines. :func:`is_json_document`
recognises it from its first bytes and :func:`json_document_lines` turns it into one canonical
JSON line per element; the importer does that before fingerprinting, so every JSON-lines reader
reads it unchanged and line numbers are element numbers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._text import _text_bytes

__all__ = ["is_json_document", "json_document_lines"]

_WS = " \t\r\n\ufeff"


def _canonical(obj: Any) -> bytes:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(",", ":")).encode("ascii")


def json_document_lines(data: bytes) -> tuple[list[bytes], str | None]:
    """A top-level JSON array -> one canonical JSON line per element (no newlines inside).

    Returns (lines, problem). Several arrays one after the other (exports appended to one
    file) are read in turn. Elements up to the first malformed one are kept; the unreadable
    rest becomes one last line (so it is counted, and rejected if it looks like a redirect)
    and *problem* says where reading stopped. Not ``[...]`` at all: ([], reason).
    """
    text = data.decode("utf-8", "surrogateescape")
    n = len(text)

    def skip(i: int) -> int:
        while i < n and text[i] in _WS:
            i += 1
        return i

    i = skip(0)
    dec = json.JSONDecoder()
    out: list[bytes] = []
    if i < n and text[i] == "{":  # Azure's {"records": [...]} (Event Hub, older storage blobs)
        while i < n:
            try:
                obj, end = dec.raw_decode(text, i)
            except (ValueError, RecursionError):
                break
            records = obj.get("records") if isinstance(obj, dict) else None
            if not isinstance(records, list):
                break
            out.extend(map(_canonical, records))
            i = skip(end)
        else:
            return out, None
        good = len(out)
        rest = " ".join(text[i:].split())
        if rest:
            out.append(_text_bytes(rest))
        return out, f"JSON records document is truncated or malformed after element {good}"
    if i >= n or text[i] != "[":
        return [], "not a JSON array"
    while i < n:
        if text[i] != "[":
            break  # something else after a complete array
        i = skip(i + 1)
        closed = False
        if i < n and text[i] == "]":
            i = skip(i + 1)
            continue
        while True:
            try:
                obj, i = dec.raw_decode(text, i)
            except (ValueError, RecursionError):
                break
            out.append(_canonical(obj))
            i = skip(i)
            if i < n and text[i] == ",":
                i = skip(i + 1)
                continue
            if i < n and text[i] == "]":
                closed = True
                i = skip(i + 1)
            break
        if not closed:
            break
    else:
        return out, None
    good = len(out)
    rest = " ".join(text[i:].split())
    if rest:
        out.append(_text_bytes(rest))
    return out, f"JSON array is truncated or malformed after element {good}"


_RECORDS_RE = re.compile(rb'\{\s*"records"\s*:\s*\[')


def is_json_document(head: bytes) -> bool:
    """Does *head* (a file's first bytes) start a JSON array of objects, or an Azure
    ``{"records": [...]}`` document?

    The first element must parse (the head may end inside a later one), so a custom log
    line starting ``[01/Oct/2026...`` is not taken for one.
    """
    lead = head[:4096].lstrip(b" \t\r\n")  # cheap test first: this runs on every file
    if lead.startswith(b"\xef\xbb\xbf"):
        lead = lead[3:].lstrip(b" \t\r\n")
    if lead[:1] == b"{":
        return _RECORDS_RE.match(lead) is not None
    if lead[:1] != b"[":
        return False
    s = head.lstrip(b" \t\r\n\xef\xbb\xbf")
    rest = s[1:].lstrip(b" \t\r\n")
    if rest[:1] == b"]":
        return rest[1:].strip() == b""
    if rest[:1] != b"{":
        return False
    try:
        obj, _ = json.JSONDecoder().raw_decode(rest.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict)
