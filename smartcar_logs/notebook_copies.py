"""The analysis notebooks the package ships, and copies of them pointed at a database.

The notebooks live once, in ``smartcar_logs/notebooks/`` (package data, so a pip install has
them; ``make lab`` opens that folder). :func:`write_notebooks` writes copies for a user, with
the database path written into each notebook's papermill ``parameters`` cell, so they run
from any folder, in JupyterLab or with ``papermill``.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

__all__ = ["ANALYSIS_NOTEBOOKS", "analysis_notebook_paths", "write_notebooks", "NotebooksExist"]

#: The analysis notebooks, one per question (the report's notebook is ``report.ipynb``).
ANALYSIS_NOTEBOOKS = (
    "01-connection-funnel.ipynb",
    "02-denial-rates.ipynb",
    "03-incompatible-vehicles.ipynb",
)

_DB_LINE = re.compile(r"^db_path = .*$", re.MULTILINE)


class NotebooksExist(Exception):
    """Copies would overwrite notebooks already in the folder; the message names them."""


def analysis_notebook_paths() -> list[Path]:
    """Paths of the analysis notebooks inside the installed package."""
    folder = resources.files("smartcar_logs") / "notebooks"
    return [Path(str(folder / name)) for name in ANALYSIS_NOTEBOOKS]


def _pointed(text: str, db_path: str) -> str:
    """The notebook JSON *text* with its ``parameters`` cell reading *db_path*."""
    nb = json.loads(text)
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError("a shipped notebook has no single parameters cell")
    cell = cells[0]
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    line = (
        f"db_path = {json.dumps(db_path)}  # from `smartcar-logs notebooks --db`; papermill -p overrides it"
    )
    new, n = _DB_LINE.subn(lambda _: line, source, count=1)
    if n != 1:
        raise ValueError("a shipped notebook's parameters cell sets no db_path")
    cell["source"] = new.splitlines(keepends=True)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def write_notebooks(
    folder: str | os.PathLike, db_path: str | os.PathLike, *, overwrite: bool = False
) -> list[Path]:
    """Write the analysis notebooks into *folder* (created if needed), reading *db_path*.

    The path is made absolute, so the notebooks work wherever they are opened from.

    Parameters
    ----------
    folder : str or os.PathLike
    db_path : str or os.PathLike
        The database the notebooks read (it need not exist yet).
    overwrite : bool, default False
        Replace notebooks of the same names already in *folder*.

    Returns
    -------
    list of pathlib.Path
        The notebooks written.

    Raises
    ------
    NotebooksExist
        *folder* already has one of them and *overwrite* is False; nothing was written.
    OSError
        *folder* cannot be created or written.

    Examples
    --------
    >>> write_notebooks("analysis", "data/smartcar_logs.db")  # doctest: +SKIP
    [PosixPath('analysis/01-connection-funnel.ipynb'), ...]
    """
    folder = Path(folder)
    db = os.path.abspath(os.path.expanduser(os.fspath(db_path)))
    targets = [(src, folder / src.name) for src in analysis_notebook_paths()]
    existing = [str(dest) for _, dest in targets if dest.exists()]
    if existing and not overwrite:
        raise NotebooksExist(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}")
    texts = [(dest, _pointed(src.read_text(encoding="utf-8"), db)) for src, dest in targets]
    folder.mkdir(parents=True, exist_ok=True)
    for dest, text in texts:
        dest.write_text(text, encoding="utf-8")
    return [dest for dest, _ in texts]
