"""The importer: access logs in, Connect redirects (and launches) out, every line counted.

The pipeline, one module per step:

* :mod:`.discovery` which files, in which order (directories, globs, rotation order);
* :mod:`.inputs` opening them (files, stdin, archives) and the hostile-input defences;
* :mod:`.checkpoint` which content a file is and how far it was imported (exactly once);
* :mod:`.resume` where reading one starts: resumed, or re-read when the settings changed;
* :mod:`.paths` which path a request is for;
* :mod:`.scan` finding and parsing the candidate lines, in worker processes for big files
  (:mod:`.fused` the commonest line in one match);
* :mod:`.settings` the settings stored in the database, and re-reading on a change;
* :mod:`.run` the orchestration: one transaction per file, in named phases;
* :mod:`.results` what an import reports.
"""

from __future__ import annotations

from .discovery import InputPlan, expand_inputs, plan_inputs
from .inputs import CHUNK_SIZE, LINE_TOO_LONG, MAX_LINE_BYTES, open_input
from .results import FileResult, ImportResult, InputError, ProgressCallback
from .run import import_file, import_paths

__all__ = [
    "import_paths",
    "import_file",
    "expand_inputs",
    "plan_inputs",
    "InputPlan",
    "open_input",
    "ImportResult",
    "FileResult",
    "InputError",
    "ProgressCallback",
    "CHUNK_SIZE",
    "MAX_LINE_BYTES",
    "LINE_TOO_LONG",
]
