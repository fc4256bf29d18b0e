"""A model of a log's whole life, checked against the importer: exactly once, whatever happens.

The machine writes an nginx-style access log the way servers and logrotate do: appends of
lines of random sizes (single ~100-byte lines matter most: they defeat any checkpoint that
vouches for "what this run read"), a last line without its newline that is finished later,
rename rotation with delayed compression (``access.log`` -> ``.1`` -> ``.2.gz`` / ``.2.zst``),
copytruncate, plain copies, truncate-and-rewrite, two imports at once, and an import killed
with SIGKILL part way. Every line it writes is unique (a sequence number in its state or
path), so "the same line" is well defined.

After every import the database must hold exactly the redirect and launch lines of the files
imported so far, each once (an unterminated last line counts once it is taken: archives,
``--final``), the ``sources`` and ``imports`` counters must agree with the rows, and the
derived tables must equal a rebuild from the rows. A killed import may have committed some of
its files: rows from nothing else may appear; a reader's open leaves them out of the derived
tables (it never takes the write lock), and an open with ``refresh=True`` (as the next import)
brings the derived tables up to date with them.

Settings stick (importer/settings.py): the first import stores the redirect and launch paths,
and the machine also imports *without* them ("forget a flag": nothing may change) and turns a
second launch path and a second redirect path on and off ("change a setting"). Lines on those
two paths are what a setting decides: after every import, each of them that was imported and
is still readable is a row exactly when its path is a setting (what a fresh database would
hold for the same inputs); only a source that no current file can be identified as (rewritten
away) may keep rows read under other settings, and the imports' counters still add up to the
rows (``imports.reread`` counts the lines read again).

``make test`` runs a bounded, seeded exploration; ``make soak`` (SMARTCAR_LOGS_SOAK=N) runs N
examples of up to 60 steps with fresh randomness.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from helpers_derived import derived_tables, rebuilt_tables
from logs import CB, LAUNCH, UID, clf
from smartcar_logs.importer import checkpoint, import_paths
from smartcar_logs.importer.settings import load
from smartcar_logs.store import open_db, pending_files

SOAK = int(os.environ.get("SMARTCAR_LOGS_SOAK", "0"))

KINDS = st.sampled_from(["redirect", "launch", "ordinary", "launch2", "redirect2"])
#: The paths a setting decides: (path, table, state prefix) for each kind of line on them.
LAUNCH2, CB2 = "/connect/other", "/oauth/done"
DEPENDENT = {"launch2": (LAUNCH2, "launches", "m"), "redirect2": (CB2, "redirects", "q")}
# User-agent padding: lines from ~100 bytes (no padding) to ~700.
PADS = st.integers(0, 600) | st.just(0)


def _line(n: int, kind: str, pad: int) -> tuple[bytes, str | None, str | None]:
    """(line with its newline, redirect state or None, launch state or None)."""
    ua = "u" * pad
    if kind == "redirect":
        return clf(f"{CB}?user_id={UID}&state=r{n}", ua=ua), f"r{n}", None
    if kind == "launch":
        return clf(f"{LAUNCH}?state=l{n}", ua=ua, status=302), None, f"l{n}"
    if kind in DEPENDENT:  # decided by a setting: neither expected unless its path is set
        path, _, prefix = DEPENDENT[kind]
        return clf(f"{path}?code=c{n}&state={prefix}{n}", ua=ua, status=302), None, None
    return clf(f"/page/{n}", ua=ua, status=200), None, None


class Lifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="lifecycle-"))
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.db_path = self.root / "l.db"
        self.db = open_db(self.db_path)
        self.n = 0
        self.copies = 0
        # The model: each file's decompressed content, and which files are archives.
        self.content: dict[str, bytes] = {}
        self.archives: set[str] = set()
        self.lines: dict[bytes, tuple[str | None, str | None]] = {}  # line (no newline) -> states
        self.expected_r: set[str] = set()
        self.expected_l: set[str] = set()
        self.on: set[str] = set()  # the DEPENDENT kinds whose path is a setting now
        self.taken_dep: set[str] = set()  # their states in lines some import took
        self.maybe_dep: set[str] = set()  # and in lines a killed import may have taken

    def teardown(self):
        self.db.conn.close()
        shutil.rmtree(self.root, ignore_errors=True)

    @initialize()
    def start(self):
        self._write("access.log", b"")
        self._import([])  # stores the settings: every later import may forget the flags

    # --- the filesystem -------------------------------------------------------------------

    def _write(self, name: str, data: bytes, *, append: bool = False) -> None:
        p = self.logs / name
        with p.open("ab" if append else "wb") as f:
            f.write(data)
        self.content[name] = (self.content.get(name, b"") if append else b"") + data

    def _new_line(self, kind: str, pad: int) -> bytes:
        self.n += 1
        line, r, lch = _line(self.n, kind, pad)
        self.lines[line[:-1]] = (r, lch)
        return line

    def _live_unterminated(self) -> bool:
        c = self.content["access.log"]
        return bool(c) and not c.endswith(b"\n")

    @rule(kinds=st.lists(st.tuples(KINDS, PADS), min_size=0, max_size=6))
    def append(self, kinds):
        data = b"\n" if self._live_unterminated() else b""  # the newline arrives first
        data += b"".join(self._new_line(k, p) for k, p in kinds)
        self._write("access.log", data, append=True)

    @rule(kind=KINDS, pad=PADS)
    def append_unterminated(self, kind, pad):
        data = b"\n" if self._live_unterminated() else b""
        self._write("access.log", data + self._new_line(kind, pad)[:-1], append=True)

    @precondition(lambda self: self._live_unterminated())
    @rule()
    def finish_line(self):
        self._write("access.log", b"\n", append=True)

    def _shift(self, ext: str) -> None:
        """logrotate's numbering, with delaycompress: .N.* -> .N+1.*, .1 -> .2.<ext>."""
        numbered = sorted(
            (int(name.split(".")[2]), name) for name in self.content if name.startswith("access.log.")
        )
        for i, name in reversed(numbered):
            if name in self.archives:
                new = f"access.log.{i + 1}.{name.split('.', 3)[3]}"
                os.rename(self.logs / name, self.logs / new)
                self.content[new] = self.content.pop(name)
                self.archives.discard(name)
                self.archives.add(new)
            else:  # the .1 file is compressed on the rotation after its own
                new = f"access.log.{i + 1}.{ext}"
                data = self.content.pop(name)
                packed = gzip.compress(data) if ext == "gz" else zstandard.ZstdCompressor().compress(data)
                (self.logs / new).write_bytes(packed)
                os.unlink(self.logs / name)
                self.content[new] = data
                self.archives.add(new)

    @rule(ext=st.sampled_from(["gz", "zst"]))
    def rotate(self, ext):
        self._shift(ext)
        os.rename(self.logs / "access.log", self.logs / "access.log.1")
        self.content["access.log.1"] = self.content.pop("access.log")
        self._write("access.log", b"")

    @rule(ext=st.sampled_from(["gz", "zst"]))
    def copytruncate(self, ext):
        self._shift(ext)
        shutil.copyfile(self.logs / "access.log", self.logs / "access.log.1")
        self.content["access.log.1"] = self.content["access.log"]
        self._write("access.log", b"")

    @rule()
    def copy(self):
        self.copies += 1
        name = f"access-copy-{self.copies}.log"
        shutil.copyfile(self.logs / "access.log", self.logs / name)
        self.content[name] = self.content["access.log"]

    @rule(kinds=st.lists(st.tuples(KINDS, PADS), min_size=1, max_size=4))
    def truncate_and_rewrite(self, kinds):
        self._write("access.log", b"".join(self._new_line(k, p) for k, p in kinds))

    # --- imports ----------------------------------------------------------------------------

    def _lines_of(self, names, final: bool):
        for name in names:
            data = self.content[name]
            lines = data.split(b"\n")
            last = lines.pop()  # b"" when the file ends with a newline
            if last and (final or name in self.archives):
                lines.append(last)
            yield from lines

    def _taken(self, names, final: bool) -> tuple[set[str], set[str]]:
        """The redirect and launch states an import of *names* must leave in the database."""
        r, lch = set(), set()
        for ln in self._lines_of(names, final):
            a, b = self.lines.get(ln, (None, None))
            r.update([a] if a else [])
            lch.update([b] if b else [])
        return r, lch

    @staticmethod
    def _dependent(lines) -> set[str]:
        """The states of the setting-dependent lines among *lines*."""
        out = set()
        for ln in lines:
            for path, _, prefix in DEPENDENT.values():
                if f"GET {path}?".encode() in ln:
                    out.add(prefix + ln.split(b"state=" + prefix.encode())[1].split(b" ")[0].decode())
        return out

    def _import(self, paths, final=False, db=None, flags=True, **change):
        kw = dict(redirect_paths=[CB], launch_paths=[LAUNCH]) if flags else {}
        res = import_paths(db or self.db, [str(p) for p in paths], jobs=1, final=final, **kw, **change)
        # A file re-read (settings changed) is read whole, with what was appended since.
        self._expect([os.path.basename(f.path) for f in res.files if f.reread], final)
        return res

    def _expect(self, names, final: bool) -> None:
        r, lch = self._taken(names, final)
        self.expected_r |= r
        self.expected_l |= lch
        self.taken_dep |= self._dependent(self._lines_of(names, final))

    @rule(final=st.booleans(), flags=st.booleans())
    def import_live_file(self, final, flags):
        res = self._import([self.logs / "access.log"], final, flags=flags)  # flags False: forgotten
        assert res.errors == 0, [f.message for f in res.files]
        assert flags or not res.settings_changes, res.settings_changes  # forgetting changes nothing
        self._expect(["access.log"], final)
        self._check()

    @rule(kind=st.sampled_from(sorted(DEPENDENT)), on=st.booleans(), files=st.booleans())
    def change_a_setting(self, kind, on, files):
        """Add or remove the second launch or redirect path; with *files* False, no FILES:
        only what was imported is re-read."""
        path = DEPENDENT[kind][0]
        which = "launch" if kind == "launch2" else "redirect"
        change = {f"{which}_paths": [path]} if on else {f"no_{which}_paths": [path]}
        res = self._import([self.logs] if files else [], flags=False, **change)
        assert res.errors == 0, [f.message for f in res.files if f.status == "error"]
        if on != (kind in self.on):
            assert res.settings_changes, "the change is said"
        self.on = self.on | {kind} if on else self.on - {kind}
        if files:
            self._expect(list(self.content), False)
        self._check()

    @rule(final=st.booleans())
    def import_folder(self, final):
        res = self._import([self.logs], final)
        assert res.errors == 0, [f.message for f in res.files if f.status == "error"]
        self._expect(list(self.content), final)
        self._check()

    def _fork_import(self) -> int:
        pid = os.fork()
        if pid == 0:  # the child: its own connection, and no cleanup of the parent's state
            code = 0
            try:
                db = open_db(self.db_path)
                self._import([self.logs], db=db)
            except BaseException:
                code = 1
            os._exit(code)
        return pid

    @rule()
    def two_imports_at_once(self):
        pids = [self._fork_import(), self._fork_import()]
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
        self._expect(list(self.content), False)
        self._check()

    @rule(delay_ms=st.integers(0, 40))
    def kill_an_import(self, delay_ms):
        pid = self._fork_import()
        time.sleep(delay_ms / 1000)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        # Whatever files it committed are in; the rest is not: nothing in between.
        r, lch = self._taken(list(self.content), False)
        q = self.db.conn.execute
        reds = {s for (s,) in q("SELECT state FROM redirects")}
        launches = {s for (s,) in q("SELECT state FROM launches")}
        dep = tuple(prefix for _, _, prefix in DEPENDENT.values())
        fixed_r = {s for s in reds if not s.startswith(dep)}
        fixed_l = {s for s in launches if not s.startswith(dep)}
        assert fixed_r <= self.expected_r | r and fixed_l <= self.expected_l | lch
        self.expected_r |= reds & r
        self.expected_l |= launches & lch
        self.maybe_dep |= self._dependent(self._lines_of(list(self.content), False))
        # The files it committed may not be in the derived tables yet: a reader's open leaves
        # them so (it writes nothing), an open with refresh brings them in.
        pending = pending_files(self.db.conn)
        self.db.conn.close()
        reader = open_db(self.db_path)
        assert pending_files(reader.conn) == pending
        reader.conn.close()
        self.db = open_db(self.db_path, refresh=True)
        self._check()

    # --- the invariant ----------------------------------------------------------------------

    def _check(self) -> None:
        q = self.db.conn.execute
        dep = tuple(prefix for _, _, prefix in DEPENDENT.values())
        reds = [s for (s,) in q("SELECT state FROM redirects")]
        launches = [s for (s,) in q("SELECT state FROM launches")]
        assert len(reds) == len(set(reds)), "a redirect stored twice"
        assert len(launches) == len(set(launches)), "a launch stored twice"
        fixed_r = {s for s in reds if not s.startswith(dep)}
        assert fixed_r == self.expected_r, (
            sorted(self.expected_r - fixed_r),
            sorted(fixed_r - self.expected_r),
        )
        assert {s for s in launches if not s.startswith(dep)} == self.expected_l
        self._check_settings()
        assert q("SELECT count(*) FROM rejects").fetchone()[0] == 0
        src = q(
            "SELECT coalesce(sum(redirects), 0), coalesce(sum(launches), 0), coalesce(sum(lines), 0) FROM sources"
        )
        imp = q(
            "SELECT coalesce(sum(inserted), 0), coalesce(sum(launches), 0), coalesce(sum(lines_read), 0),"
            " coalesce(sum(duplicates), 0) FROM imports"
        ).fetchone()
        src = src.fetchone()
        (reread,) = q("SELECT coalesce(sum(reread), 0) FROM imports").fetchone()
        assert src[0] == imp[0] == len(reds), ("redirect counters", src, imp, len(reds))
        assert src[1] == imp[1] == len(launches), ("launch counters", src, imp, len(launches))
        assert src[2] == imp[2] - reread, ("line counters", src, imp, reread)
        assert imp[3] == 0, "a line was read twice"
        assert q("SELECT count(*) FROM derived_pending").fetchone()[0] == 0, "files left out of analysis"
        assert derived_tables(self.db.conn) == rebuilt_tables(self.db.conn)


Lifecycle.TestCase.settings = settings(
    max_examples=SOAK or 40,
    stateful_step_count=60 if SOAK else 30,
    derandomize=not SOAK,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
TestLifecycle = Lifecycle.TestCase


def _check_settings(self) -> None:
    """The setting-dependent lines: rows exactly when their path is a setting, but for the
    sources that could not be re-read (no current file is identified as them)."""
    q = self.db.conn.execute
    stored = load(self.db.conn)
    assert stored is not None
    assert set(stored.redirect_paths) == {CB} | {CB2 for k in self.on if k == "redirect2"}
    assert set(stored.launch_paths) == {LAUNCH} | {LAUNCH2 for k in self.on if k == "launch2"}
    stale = dict(q("SELECT fingerprint, path FROM sources WHERE settings IS NOT ?", (stored.key,)).fetchall())
    for fp, path in stale.items():  # nothing readable is left stale: its file is not that content now
        name = os.path.basename(path)
        if name in self.content:
            ident = checkpoint.identify(self.db.conn, checkpoint.Content(self.content[name], complete=True))
            assert ident.fingerprint != fp or ident.prefix, (name, "readable but not re-read")
    on_disk = self._dependent(self._lines_of(list(self.content), True))
    for kind, (_, table, prefix) in DEPENDENT.items():
        rows = dict(q(f"SELECT state, source_fp FROM {table} WHERE state LIKE '{prefix}%'").fetchall())
        taken = {s for s in self.taken_dep if s.startswith(prefix)}
        assert set(rows) <= taken | self.maybe_dep, "a row from a line no import took"
        if kind not in self.on:  # only stale sources keep rows of a path no longer set
            assert all(fp in stale for fp in rows.values()), (kind, "kept after its path was removed")
        elif not stale:  # every line taken and still on disk is a row
            assert taken & on_disk <= set(rows), (kind, sorted(taken & on_disk - set(rows)))


Lifecycle._check_settings = _check_settings
