"""The package's face: ``import smartcar_logs as sl`` serves exactly ``__all__``, lazily and stably.

Like httpx's test of its public API: a name added to a module but not to the face, a submodule
missing from ``_MODULES``, or an export that shares a submodule's name (which made ``sl.generate``
the function on first access and the module after) fails here.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

import smartcar_logs as sl

#: Submodules that are not part of the library's face.
NOT_EXPORTED = {"cli"}


def _public_submodules() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(sl.__path__) if not m.name.startswith("_")}


def test_all_is_exactly_what_getattr_serves():
    assert sl.__all__ == sorted(sl._EXPORTS) + list(sl._MODULES) + ["__version__"]
    assert len(set(sl.__all__)) == len(sl.__all__)
    assert dir(sl) == sorted(sl.__all__)
    for name in ("generate", "ImportError_", "not_a_name", "_EXPORTS_"):
        with pytest.raises(AttributeError, match=name):
            sl.__getattr__(name)


def test_every_public_submodule_is_listed():
    assert set(sl._MODULES) == _public_submodules() - NOT_EXPORTED


@pytest.mark.parametrize("name", sorted(sl._EXPORTS))
def test_every_export_resolves_to_its_module_public_name(name):
    module = importlib.import_module(f"smartcar_logs.{sl._EXPORTS[name]}")
    assert getattr(sl, name) is getattr(module, name)
    assert not name.startswith("_")
    if hasattr(module, "__all__"):
        assert name in module.__all__, f"{module.__name__}.__all__ lacks {name}"


@pytest.mark.parametrize("name", sl._MODULES)
def test_every_module_resolves_to_the_submodule(name):
    assert getattr(sl, name) is importlib.import_module(f"smartcar_logs.{name}")


def test_no_export_shares_a_submodule_name():
    assert not set(sl._EXPORTS) & _public_submodules()


_FRESH = """
import importlib, json, pkgutil
import smartcar_logs as sl
names = [n for n in sl.__all__ if n != "__version__"]
before = {n: id(getattr(sl, n)) for n in names}
kinds = {n: type(getattr(sl, n)).__name__ for n in names}
for m in pkgutil.iter_modules(sl.__path__):
    importlib.import_module("smartcar_logs." + m.name)
after = {n: id(getattr(sl, n)) for n in names}
print(json.dumps({"changed": sorted(n for n in names if before[n] != after[n]),
                  "kinds": kinds, "generate": hasattr(sl, "generate")}))
"""


def test_names_are_the_same_objects_before_and_after_importing_every_submodule():
    # A fresh interpreter: in this one the test run has long imported every submodule.
    out = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["changed"] == []
    assert got["kinds"]["generate_log"] == "function"
    assert got["kinds"]["synthetic"] == "module"
    assert got["generate"] is False
    assert got["kinds"]["database_path"] == "function" and got["kinds"]["locations"] == "module"


def test_importing_the_package_loads_no_submodule():
    code = (
        "import sys, smartcar_logs; print(sorted(m for m in sys.modules if m.startswith('smartcar_logs.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
