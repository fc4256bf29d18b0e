"""Which hot loop an import runs: the compiled one when it was built, else the pure one.

The candidate search and the per-line parse of :mod:`.scan` have a C version in the optional
extension :mod:`._speedups` (Cython, built by setup.py when a compiler is there; an install
without it still works). The pure-Python code in :mod:`.scan` is the reference and the
fallback: the compiled code parses only the commonest line shapes itself and hands every
other line to it, and ``tests/test_speedups.py`` holds both paths equal row for row. :mod:`.scan` asks
:func:`active` at each block; this module never imports it (the extension does).

``SMARTCAR_LOGS_PURE=1`` in the environment forces the pure path (to compare, or to rule the
extension out); :func:`use` switches in-process (tests, benchmarks). Worker processes are
forked, so they run the path their parent chose.
"""

from __future__ import annotations

import os

_compiled = None
_loaded = False


def _load():
    global _compiled, _loaded
    if not _loaded:
        _loaded = True
        try:
            from . import _speedups
        except ImportError:  # not built (no compiler at install time): the pure path
            _speedups = None
        _compiled = _speedups
    return _compiled


def available() -> bool:
    """Whether the compiled extension was built and imports."""
    return _load() is not None


def _wanted() -> bool:
    return os.environ.get("SMARTCAR_LOGS_PURE", "") in ("", "0")


_forced: bool | None = None  # set by use(); None: the environment decides


def use(compiled: bool | None) -> None:
    """Run the compiled path (True; it must be built), the pure path (False), or let
    ``SMARTCAR_LOGS_PURE`` decide (None)."""
    global _forced
    if compiled and not available():
        raise RuntimeError("the compiled extension smartcar_logs.importer._speedups is not built")
    _forced = compiled


def active():
    """The compiled module when the next import runs it, else None (the pure path)."""
    on = _wanted() if _forced is None else _forced
    return _load() if on else None


def path() -> str:
    """``"compiled"`` or ``"pure"``: which loop the next import runs."""
    return "compiled" if active() is not None else "pure"


def describe() -> str:
    """One line for the import summary: which loop ran, and why the pure one if it did."""
    if active() is not None:
        return "compiled (C extension smartcar_logs.importer._speedups)"
    if not available():
        return "pure Python (the optional C extension is not built: see the install notes)"
    return "pure Python (SMARTCAR_LOGS_PURE is set)" if _forced is None else "pure Python"
