"""smartcar-logs: Smartcar Connect outcomes from access logs, in SQLite and pandas.

The public surface is what ``__all__`` lists; modules are loaded on first use, so the
command line starts without importing pandas or matplotlib.

>>> import smartcar_logs as sl
>>> db = sl.open_db(sl.database_path())  # the CLI's database       # doctest: +SKIP
>>> sl.import_paths(db, ["/var/log/nginx/"]).inserted             # doctest: +SKIP
>>> sl.analysis.rates(db, period="week")                          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it. No public name may also be a submodule's name:
# importing that submodule would rebind the attribute (``sl.generate`` was the function on first
# access and the module after); tests/test_api.py checks this.
_EXPORTS = {
    "normalize": "redirect",
    "parse_query": "redirect",
    "canonical_make": "redirect",
    "ERROR_CODES": "redirect",
    "CATEGORIES": "redirect",
    "open_db": "store",
    "database_path": "locations",
    "ensure_schema": "store",
    "StoreError": "store",
    "import_paths": "importer",
    "import_file": "importer",
    "ImportResult": "importer",
    "FileResult": "importer",
    "InputError": "importer",
    "FORMATS": "formats",
    "detect_format": "formats",
    "summarize": "summary",
    "generate_log": "synthetic",
    "generate_file": "synthetic",
    "build_report": "report",
    "ReportError": "report",
    "export_csv": "export",
    "write_notebooks": "notebook_copies",
    "run_check": "check",
    "CheckResult": "check",
}
# every public submodule but ``cli`` (the command line, not part of the library's face)
_MODULES = (
    "analysis",
    "plots",
    "redirect",
    "query",
    "vehicle",
    "formats",
    "store",
    "locations",
    "importer",
    "privacy",
    "summary",
    "display",
    "report",
    "export",
    "synthetic",
    "views",
    "descriptions",
    "serve",
    "notebook_copies",
    "check",
)

__all__ = sorted(_EXPORTS) + list(_MODULES) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
