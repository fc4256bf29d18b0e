"""The optional compiled hot loop (smartcar_logs/importer/_speedups.pyx); everything else is
declared in pyproject.toml.

The extension is optional twice over: without Cython (a build with no build isolation and
no Cython installed) it is not declared, and when it does not compile (no C compiler)
setuptools says so and installs the package without it. Either way the pure-Python import
runs (smartcar_logs.importer._speed says which).
"""

import os

from setuptools import setup

try:
    from Cython.Build import cythonize
except ImportError:  # pip's build isolation installs it (pyproject.toml); a bare build may not
    ext_modules = []
else:
    from setuptools import Extension

    ext_modules = cythonize(
        [
            Extension(
                "smartcar_logs.importer._speedups",
                ["smartcar_logs/importer/_speedups.pyx"],
                optional=True,
                # No debug symbols: the shipped library is 6x smaller (610 -> ~100 KB).
                extra_compile_args=[] if os.name == "nt" else ["-g0", "-O2"],
            )
        ],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )
    for ext in ext_modules:
        ext.optional = True  # cythonize's copies drop it (Cython 3.3)

setup(ext_modules=ext_modules)
