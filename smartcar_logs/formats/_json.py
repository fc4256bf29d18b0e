"""Shared helpers of the JSON-lines readers: one cached parse, dotted field lookup."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)
def _load_json(line: bytes) -> dict | None:
    """One JSON object from a line; raw non-UTF-8 bytes survive as surrogate escapes."""
    s = line.strip()
    if s[:1] != b"{":
        return None
    try:
        obj = json.loads(s.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _get(obj: dict, path: str) -> Any:
    """``obj["a.b"]`` if that key exists, else ``obj["a"]["b"]``."""
    if path in obj:
        return obj[path]
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _first(obj: dict, paths: Iterable[str]) -> Any:
    for p in paths:
        v = _get(obj, p)
        if v is not None and v != "":
            return v
    return None


def _header(v: Any) -> Any:
    """Caddy logs header values as arrays."""
    if isinstance(v, list):
        return v[0] if v else None
    return v
