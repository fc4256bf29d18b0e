"""Which path a request is for: the comparable form of a configured path, and the path of a
logged request target, cut, decoded and scrubbed of codes."""

from __future__ import annotations

import re

from .. import privacy as _privacy


def _norm_path(p: str) -> str:
    """Reduce a configured redirect path or URL to the comparable path."""
    p = p.strip()
    i = p.find("://")
    if i != -1:
        j = p.find("/", i + 3)
        p = p[j:] if j != -1 else "/"
    p = p.split("?", 1)[0].split("#", 1)[0]
    if len(p) > 1:
        p = p.rstrip("/")
    return p


# What nearly every target starts with: a plain path, with nothing to cut, decode or scrub.
PLAIN_PATH = rb"/[A-Za-z0-9._~/\-]*"
_PLAIN_PATH = re.compile(PLAIN_PATH).match
# One str per distinct plain path: a block's pickled rows then carry each path once.
_PATHS: dict[bytes, str] = {}


def _target_path(target: bytes) -> str:
    m = _PLAIN_PATH(target)
    if m is not None:
        end = m.end()
        if end == len(target) or target[end] == 63:  # "?": the general steps below agree
            raw = m.group()
            s = _PATHS.get(raw)
            if s is None:
                s = raw.decode("ascii")
                s = s.rstrip("/") if len(s) > 1 else s
                if len(raw) <= 256:
                    if len(_PATHS) >= 10_000:
                        _PATHS.clear()
                    _PATHS[raw] = s
            return s
    q = target.find(b"?")
    p = target if q == -1 else target[:q]
    h = p.find(b"#")
    if h != -1:
        p = p[:h]
    i = p.find(b"://")
    if i != -1:
        j = p.find(b"/", i + 3)
        p = p[j:] if j != -1 else b"/"
    s = p.decode("utf-8", "replace")
    if len(s) > 1:
        s = s.rstrip("/")
    return _privacy.scrub_codes(s)  # "/cb;code=..." must not store a code (cheap no-op otherwise)
