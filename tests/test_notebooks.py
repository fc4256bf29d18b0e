"""The notebooks: committed without outputs, parameterised, and producing the right numbers.

Each analysis notebook (shipped in smartcar_logs/notebooks/, the one copy) is executed once with
papermill against the hand-built fixture database (fixtures_analysis.py); the tests then read
what it produced: figures, printed key numbers and escaped tables. The copies
`smartcar-logs notebooks` writes for pip users are tested at the end, from a built wheel.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from smartcar_logs.notebook_copies import analysis_notebook_paths
from smartcar_logs.report import _kernel_env, report_notebook_path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "smartcar_logs" / "notebooks").glob("0*.ipynb"))
ALL_NOTEBOOKS = sorted((ROOT / "smartcar_logs" / "notebooks").glob("*.ipynb"))


def _ids(paths):
    return [p.name for p in paths]


# --- static checks: cheap, no kernel ------------------------------------------------------------


def test_the_expected_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01-connection-funnel.ipynb",
        "02-denial-rates.ipynb",
        "03-incompatible-vehicles.ipynb",
    ]
    assert report_notebook_path().is_file()
    assert report_notebook_path() in ALL_NOTEBOOKS
    assert [p.name for p in analysis_notebook_paths()] == [p.name for p in NOTEBOOKS]
    # One copy of each notebook, the package's; notebooks/ (what `make lab` opens) links to it.
    for nb in NOTEBOOKS:
        link = ROOT / "notebooks" / nb.name
        assert link.is_symlink() and link.resolve() == nb.resolve(), link
    assert {p.name for p in (ROOT / "notebooks").iterdir()} == {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_committed_notebooks_have_no_outputs(path):
    """The nbstripout check: outputs and execution counts must not be committed."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; run `nbstripout {path}`"
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_notebooks_have_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    source = tagged[0].source
    for name in ("db_path", "since", "until", "period", "include_test"):
        assert f"\n{name} = " in f"\n{source}", f"{path.name}: no {name} parameter"
    # the command line's rule ($SMARTCAR_LOGS_DB, else the per-user database), not a second copy
    assert "db_path = str(database_path())" in source
    assert "SMARTCAR_LOGS_DB" in source and "data/smartcar_logs.db" not in source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebooks_are_thin(path):
    """Logic lives in the package: no function definitions or SQL in notebook cells."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "def " not in code and "SELECT" not in code.upper().replace("SELECTED", "")
    assert "from smartcar_logs import analysis, plots" in code


def test_gitattributes_sets_up_nbstripout():
    text = (ROOT / ".gitattributes").read_text()
    assert "*.ipynb filter=nbstripout" in text


# --- executing them -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def executed(analysis_db_path, tmp_path_factory):
    """Run every notebook once with papermill; name -> executed notebook."""
    import papermill as pm

    out_dir = tmp_path_factory.mktemp("executed")
    results = {}
    with _kernel_env():
        for path in NOTEBOOKS:
            out = out_dir / path.name
            pm.execute_notebook(
                str(path),
                str(out),
                parameters={"db_path": str(analysis_db_path), "period": "week"},
                kernel_name="python3",
                progress_bar=False,
                cwd=str(path.parent),
                execution_timeout=120,
            )
            results[path.name] = nbformat.read(out, as_version=4)
    return results


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _stdout(nb):
    return "".join(
        o.get("text", "") for o in _outputs(nb) if o.output_type == "stream" and o.name == "stdout"
    )


def _html(nb):
    return "".join(
        o.data.get("text/html", "")
        for o in _outputs(nb)
        if o.output_type in ("display_data", "execute_result")
    )


def _pngs(nb):
    return [o for o in _outputs(nb) if "image/png" in o.get("data", {})]


@pytest.mark.parametrize("name", _ids(NOTEBOOKS))
def test_notebook_ran_cleanly(executed, name):
    nb = executed[name]
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"warnings in {name}: {stderr}"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "analysis.db" in injected[0].source


def test_funnel_notebook(executed):
    nb = executed["01-connection-funnel.ipynb"]
    assert "Launch → success: 50.0% (5 of 10 launches); abandoned: 20.0% (2)" in _stdout(nb)
    assert len(_pngs(nb)) == 2  # funnel, abandonment over time
    html = _html(nb)
    assert "Recovered share" in html and "15.4% (95% CI 4.3% – 42.2%)" in html  # 2 of 13
    assert "2,244.0" in html  # p90 of the time to the first redirect


def test_denial_rates_notebook(executed):
    nb = executed["02-denial-rates.ipynb"]
    out = _stdout(nb)
    assert "Denial rate: 27.3% (6 of 22), 95% CI 13.2%–48.2%" in out
    assert "Failure rate: 63.6% (14 of 22)" in out
    assert len(_pngs(nb)) == 2  # rates, outcome mix
    markdown = "".join(o.data.get("text/markdown", "") for o in _outputs(nb) if "data" in o)
    # the data end on a Friday: the last week is partial and is not compared (issue 12)
    assert "Fewer than two complete weeks" in markdown and "2026-10-12 is not complete" in markdown
    assert "&lt;script&gt;alert(&quot;desc&quot;)" in _html(nb) or '&lt;script&gt;alert("desc")' in _html(nb)


def test_incompatible_vehicles_notebook(executed):
    nb = executed["03-incompatible-vehicles.ipynb"]
    out = _stdout(nb)
    assert "Incompatible redirects: 5" in out
    assert "Top make: AUDI (3, 60%)" in out
    assert len(_pngs(nb)) == 2  # bars, heatmap
    html = _html(nb)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "VOLKSWAGEN" not in html and "TESLA" in html  # AUDI vs VOLKSWAGEN is one family; the year differs
    # AUDI's second model was not sent: said in the words the report and the CLI use
    assert "(no model sent)" in html and "(unknown)" not in html


def test_denial_rates_notebook_on_one_day_by_hour(one_day_db_path, tmp_path):
    """Small data: a one-day log charted by hour runs cleanly, both charts drawn (issue 23)."""
    import papermill as pm

    path = ROOT / "notebooks" / "02-denial-rates.ipynb"
    out = tmp_path / path.name
    with _kernel_env():
        pm.execute_notebook(
            str(path),
            str(out),
            parameters={"db_path": str(one_day_db_path), "period": "hour"},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(path.parent),
            execution_timeout=120,
        )
    nb = nbformat.read(out, as_version=4)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.output_type == "error" or getattr(o, "name", "") == "stderr"]
    assert len(_pngs(nb)) == 2  # rates, outcome mix
    markdown = "".join(o.data.get("text/markdown", "") for o in outputs if "data" in o)
    assert "complete hours" in markdown


def test_executed_notebooks_keep_no_secrets(executed):
    """Nothing that identifies a user (states, VINs) is printed by the notebooks."""
    text = json.dumps([_outputs(nb) for nb in executed.values()])
    assert "WAUZZZ8V0FA000001" not in text
    assert '"s04"' not in text


# --- the copies pip users get: `smartcar-logs notebooks DIR --db X` from an installed wheel --------


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The repository built into a wheel and installed into a folder of its own (dependencies
    from this environment); returns (wheel, site folder)."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = folder.glob("smartcar_logs-*.whl")
    site = folder / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    return wheel, site


def test_the_wheel_carries_every_notebook(installed):
    import zipfile

    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ALL_NOTEBOOKS:
        assert f"smartcar_logs/notebooks/{path.name}" in names


def test_notebooks_command_writes_copies_that_run_against_the_users_database(
    installed, analysis_db_path, tmp_path
):
    """Issue 23: a pip user writes the notebooks next to nothing of this repository and runs one
    with papermill, without passing the database: the path written by --db is the one read."""
    import subprocess
    import sys

    import papermill as pm

    _, site = installed
    home = tmp_path / "home"
    home.mkdir()
    db = home / "my logs.db"  # a space: the path is written as a Python string, quoted
    db.write_bytes(analysis_db_path.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("SMARTCAR_LOGS_DB", None)
    cmd = [sys.executable, "-m", "smartcar_logs.cli", "notebooks", "nb", "--db", "my logs.db"]
    out = subprocess.run(cmd, cwd=home, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    written = sorted((home / "nb").glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    assert out.stdout.split() == [str(Path("nb") / p.name) for p in written]
    where = subprocess.run(
        [sys.executable, "-c", "import smartcar_logs; print(smartcar_logs.__file__)"],
        cwd=home, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(site))  # the installed wheel ran, not this checkout
    for p in written:
        nb = nbformat.read(p, as_version=4)
        (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert f"db_path = {json.dumps(str(db))}" in params.source
        assert "SMARTCAR_LOGS_DB" not in params.source  # --db wins over the environment
        # the rest of each copy is the shipped notebook unchanged
        shipped = nbformat.read(ROOT / "smartcar_logs" / "notebooks" / p.name, as_version=4)
        assert [c.source for c in nb.cells if c is not params] == [
            c.source for c in shipped.cells if "parameters" not in c.metadata.get("tags", [])
        ]
    again = subprocess.run(cmd, cwd=home, env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "already exist" in again.stderr and "--force" in again.stderr
    forced = subprocess.run([*cmd, "--force"], cwd=home, env=env, capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr

    # Executed elsewhere (cwd = /) in a kernel that imports the installed package.
    executed = tmp_path / "ran.ipynb"
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(site)
    try:
        pm.execute_notebook(
            str(home / "nb" / "02-denial-rates.ipynb"),
            str(executed),
            kernel_name="python3",
            progress_bar=False,
            cwd="/",
            execution_timeout=120,
        )
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved
    nb = nbformat.read(executed, as_version=4)
    assert not [o for o in _outputs(nb) if o.output_type == "error"]
    assert "Denial rate: 27.3% (6 of 22), 95% CI 13.2%–48.2%" in _stdout(nb)


def test_notebooks_command_says_when_the_database_is_not_there_yet(tmp_path):
    from click.testing import CliRunner

    from smartcar_logs.cli import cli

    r = CliRunner().invoke(cli, ["notebooks", str(tmp_path / "nb"), "--db", str(tmp_path / "none.db")])
    assert r.exit_code == 0
    assert "does not exist yet" in r.stderr and len(list((tmp_path / "nb").glob("*.ipynb"))) == 3
