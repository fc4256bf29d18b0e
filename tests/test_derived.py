"""The derived tables (store.EVENTS, store.ATTEMPTS): kept by the importer, equal to a rebuild.

Analysis reads these tables instead of every redirect, so they must be exactly what a rebuild
from the rows gives, whatever order files arrive in, however often they are imported again,
and whether the importer took the state-by-state or the rebuild-everything path.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path

import hypothesis.strategies as st
import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from helpers_derived import derived_tables, rebuilt_tables
from logs import CB, LAUNCH, clf, write
from smartcar_logs import analysis, import_paths, store
from smartcar_logs.importer import import_file
from smartcar_logs.store import _rows, open_db, rebuild_derived
from smartcar_logs.store import derived as _derived
from smartcar_logs.summary import summarize
from smartcar_logs.synthetic import generate_file


class ImportsInAnyOrder(RuleBasedStateMachine):
    """Parts of one generated log (a reload or a retry may sit in a later part than the
    first redirect), imported in any order, again and again, by either refresh path."""

    parts: list[str] = []

    def __init__(self):
        super().__init__()
        self.db = open_db(None)
        self.saved = _derived.BULK_STATES

    @rule(part=st.integers(0, 3), bulk=st.booleans())
    def import_part(self, part, bulk):
        _derived.BULK_STATES = 0 if bulk else 50_000
        try:
            import_paths(self.db, [self.parts[part]], launch_paths=[LAUNCH])
        finally:
            _derived.BULK_STATES = self.saved

    @rule(parts=st.lists(st.integers(0, 3), min_size=2, max_size=4), bulk=st.booleans())
    def import_parts_in_one_run(self, parts, bulk):
        # Rotated logs: the run refreshes the derived tables once, for all of its files.
        _derived.BULK_STATES = 0 if bulk else 50_000
        try:
            import_paths(self.db, [self.parts[p] for p in parts], launch_paths=[LAUNCH])
        finally:
            _derived.BULK_STATES = self.saved

    @invariant()
    def derived_tables_equal_a_rebuild(self):
        assert self.db.conn.execute("SELECT count(*) FROM derived_pending").fetchone()[0] == 0
        assert derived_tables(self.db.conn) == rebuilt_tables(self.db.conn)

    def teardown(self):
        _derived.BULK_STATES = self.saved
        self.db.conn.close()


@pytest.mark.parametrize(
    "launch_modes",
    # with states; and a mix with stateless launches (paired by client, across the parts) and
    # JavaScript-SDK states
    ["state", ((1, "state"), (2, "stateless"), (1, "js-sdk"))],
)
def test_derived_tables_survive_any_import_order(tmp_path_factory, launch_modes):
    tmp = tmp_path_factory.mktemp("parts")
    whole = tmp / "whole.log"
    generate_file(str(whole), lines=3000, redirect_share=0.3, seed=7, days=1, launch_modes=launch_modes)
    lines = whole.read_bytes().splitlines(keepends=True)
    # Interleaved slices, so each part holds pieces of the same attempts.
    ImportsInAnyOrder.parts = []
    for i in range(4):
        p = tmp / f"part{i}.log"
        p.write_bytes(b"".join(lines[i::4]))
        ImportsInAnyOrder.parts.append(str(p))
    run = ImportsInAnyOrder.TestCase
    run.settings = settings(max_examples=10, stateful_step_count=5, deadline=None)
    run().runTest()


def test_a_database_from_before_the_derived_tables_gets_them(tmp_path):
    path = tmp_path / "old.db"
    db = open_db(path)
    import_paths(
        db, [write(tmp_path, "a.log", clf(f"{CB}?error=access_denied&state=s1"))], redirect_paths=[CB]
    )
    expected = derived_tables(db.conn)
    assert len(expected["events"]) == 1
    db.conn.execute("DELETE FROM events")
    db.conn.execute("DELETE FROM meta WHERE key = 'derived_version'")
    db.conn.close()
    assert derived_tables(open_db(path).conn) == expected  # ensure_schema rebuilt them


# --- retries across states -------------------------------------------------------------------------


def _t(minute: int) -> str:
    return f"01/Oct/2026:09:{minute:02d}:00 +0000"


def test_retries_under_a_new_state_are_linked_by_client(tmp_path):
    a, b, c = "198.51.100.1", "198.51.100.2", "198.51.100.3"
    log = b"".join(
        [
            clf(f"{LAUNCH}?state=a1", ip=a, t=_t(0)),
            clf(f"{CB}?error=access_denied&state=a1", ip=a, t=_t(1)),
            clf(f"{LAUNCH}?state=a2", ip=a, t=_t(5)),  # 4 minutes later, same client: a retry
            clf(f"{CB}?code=x&user_id=u1&state=a2", ip=a, t=_t(6)),
            clf(f"{CB}?error=vehicle_incompatible&state=b1", ip=b, t=_t(2)),
            clf(f"{CB}?code=y&user_id=u2&state=b2", ip=b, t=_t(40)),  # 38 minutes: not a retry
            clf(f"{CB}?error=access_denied&state=c1", ip=c, t=_t(3)),
            clf(f"{CB}?error=access_denied&state=c2", ip=c, t=_t(10)),  # retried, failed again
        ]
    )
    db = open_db(tmp_path / "r.db")
    import_paths(db, [write(tmp_path, "r.log", log)], redirect_paths=[CB], launch_paths=[LAUNCH])
    s = analysis.attempt_summary(db).iloc[0]
    # ended in an error: a1, b1, c1, c2; c2's own retry never came
    assert (s["ended_in_error"], s["linkable"], s["retried_inferred"], s["recovered_inferred"]) == (
        4,
        4,
        2,
        1,
    )
    assert s["retried_share"] == 0.5 and s["recovered_inferred_share"] == 0.25
    assert s["recovered"] == 0  # nothing recovered under its own state


def test_without_a_client_the_retries_cannot_be_measured(tmp_path):
    db = open_db(tmp_path / "n.db")
    db["redirects"].insert_all(
        [
            {"source_fp": "x", "line_no": i, "byte_offset": i, "ts": ts, "state": st_, "outcome": o,
             "error_code": code, "category": cat, "is_test": 0}
            for i, (ts, st_, o, code, cat) in enumerate([
                ("2026-10-01T09:00:00+00:00", "s1", "error", "access_denied", "denied"),
                ("2026-10-01T09:02:00+00:00", "s2", "success", None, "success"),
            ])
        ]
    )  # fmt: skip
    rebuild_derived(db.conn)
    s = analysis.attempt_summary(db).iloc[0]
    assert (s["ended_in_error"], s["linkable"]) == (1, 0)
    assert math.isnan(s["retried_share"]) and math.isnan(s["recovered_inferred_share"])


def test_refresh_is_idempotent(tmp_path):
    log = write(tmp_path, "a.log", clf(f"{CB}?error=access_denied&state=s1") + clf(f"{CB}?code=c&state=s1"))
    db = open_db(Path(tmp_path) / "i.db")
    import_paths(db, [log], redirect_paths=[CB])
    before = derived_tables(db.conn)
    db.conn.execute("BEGIN")
    (fp,) = db.conn.execute("SELECT fingerprint FROM sources").fetchone()
    store.refresh_derived(db.conn, fp, 1)
    db.conn.execute("COMMIT")
    assert derived_tables(db.conn) == before


# --- one refresh per run, and what a killed run leaves ---------------------------------------


def _three_parts(tmp_path) -> list[str]:
    whole = tmp_path / "whole.log"
    generate_file(str(whole), lines=2000, redirect_share=0.4, seed=11, days=1)
    lines = whole.read_bytes().splitlines(keepends=True)
    return [write(tmp_path, f"access.log.{i}", b"".join(lines[i::3])) for i in range(3)]


class _Killed(Exception):
    pass


def test_a_run_refreshes_once_after_its_last_file(tmp_path, monkeypatch):
    parts = _three_parts(tmp_path)
    refreshed = []
    real = _derived.refresh
    monkeypatch.setattr(
        _derived, "refresh", lambda conn, files: refreshed.append(list(files)) or real(conn, files)
    )
    db = open_db(tmp_path / "r.db")
    r = import_paths(db, parts, launch_paths=[LAUNCH])
    assert r.inserted > 0
    assert len(refreshed) == 1 and len(refreshed[0]) == 3  # one refresh, of the three files
    assert derived_tables(db.conn) == rebuilt_tables(db.conn)
    # The same lines in one file give the same attempts.
    one = open_db(tmp_path / "one.db")
    import_paths(one, [write(tmp_path, "whole-again.log", b"".join(Path(p).read_bytes() for p in parts))],
                 launch_paths=[LAUNCH])  # fmt: skip
    assert derived_tables(one.conn)["attempts"] == derived_tables(db.conn)["attempts"]


def _killed_after_two(tmp_path, parts) -> Path:
    """A database whose import was killed after committing two of *parts*."""
    path = tmp_path / "k.db"
    db = open_db(path)
    done = []

    def die_after_two(result):
        done.append(result)
        if len(done) == 2:
            raise _Killed

    try:
        import_paths(db, parts, launch_paths=[LAUNCH], on_file=die_after_two)
    except _Killed:
        pass
    db.conn.close()
    return path


def test_files_a_killed_run_committed_wait_for_a_writer_and_readers_are_told(tmp_path):
    parts = _three_parts(tmp_path)
    path = _killed_after_two(tmp_path, parts)
    # Two files' rows are committed, and noted as not yet in the derived tables.
    reader = open_db(path, create=False)
    assert store.pending_files(reader.conn) == 2
    assert reader.conn.execute("SELECT count(*) FROM attempts").fetchone()[0] == 0
    assert reader.conn.execute("SELECT count(*) FROM redirects").fetchone()[0] > 0
    # A reader never refreshes: opening again leaves them, and summary says the tables lag.
    reader.conn.close()
    reader = open_db(path, create=False)
    assert store.pending_files(reader.conn) == 2
    assert summarize(reader)["files_not_in_analysis"] == 2
    reader.conn.close()
    # A read-only connection reads what there is too.
    ro = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None))
    store.ensure_schema(ro)
    assert store.pending_files(ro.conn) == 2
    ro.conn.close()
    # Asked to, an open refreshes them.
    again = open_db(path, refresh=True)
    assert store.pending_files(again.conn) == 0
    assert summarize(again)["files_not_in_analysis"] == 0
    assert again.conn.execute("SELECT count(*) FROM attempts").fetchone()[0] > 0
    assert derived_tables(again.conn) == rebuilt_tables(again.conn)
    # The next import reads only the third file and leaves the tables a rebuild's equal.
    r = import_paths(again, parts, launch_paths=[LAUNCH])
    assert [f.status for f in r.files] == ["up to date", "up to date", "imported"]
    assert derived_tables(again.conn) == rebuilt_tables(again.conn)


def test_the_next_import_refreshes_what_a_killed_run_left_even_with_nothing_new(tmp_path):
    parts = _three_parts(tmp_path)
    path = _killed_after_two(tmp_path, parts)
    db = open_db(path)
    r = import_paths(db, parts[:2], launch_paths=[LAUNCH])
    assert [f.status for f in r.files] == ["up to date", "up to date"]
    assert store.pending_files(db.conn) == 0
    assert derived_tables(db.conn) == rebuilt_tables(db.conn)


def test_a_database_with_an_older_layout_of_the_derived_tables_gets_the_new_one(tmp_path):
    path = tmp_path / "v3.db"
    db = open_db(path)
    log = clf(f"{LAUNCH}?state=s1", ip="198.51.100.1") + clf(
        f"{CB}?error=access_denied&state=s1", ip="198.51.100.1"
    )
    import_paths(db, [write(tmp_path, "a.log", log)], redirect_paths=[CB], launch_paths=[LAUNCH])
    expected = derived_tables(db.conn)
    # DERIVED_VERSION 3 copied the client's IP and user agent into events and kept the client
    # as text in attempts: such tables are replaced, not filled through columns they lack.
    v3_events = replace(store.EVENTS, columns=(*store.EVENTS.columns, *(
        (c, "TEXT") for c in ("user_id", "client_ip", "user_agent"))))  # fmt: skip
    v3_attempts = replace(
        store.ATTEMPTS, columns=tuple((n, "TEXT" if n == "client" else t) for n, t in store.ATTEMPTS.columns)
    )
    for table in (v3_events, v3_attempts):
        db.conn.execute(f"DROP TABLE {table.name}")
        db.conn.execute(table.ddl())
    db.conn.execute("UPDATE meta SET value = '3' WHERE key = 'derived_version'")
    db.conn.close()
    again = open_db(path)
    assert derived_tables(again.conn) == expected
    (client_type,) = again.conn.execute("SELECT typeof(client) FROM attempts").fetchone()
    assert client_type == "integer"


_CLIENTS = st.one_of(st.none(), st.text(alphabet="aZ é€😀 -.", max_size=4))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["s1", "s2", "S3", "é"]),
            st.one_of(st.none(), st.sampled_from([f"2026-10-01T00:00:0{i}+00:00" for i in range(4)])),
            _CLIENTS,
        ),
        max_size=12,
    )
)
def test_launches_are_grouped_as_sql_groups_them(rows):
    # The attempts pass groups launch rows in Python (cheaper than SQL's GROUP BY); it must
    # give SQL's MIN, COUNT and MAX, NULLs skipped and text in SQLite's byte order.
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE l (state TEXT, ts TEXT, client TEXT)")
    conn.executemany("INSERT INTO l VALUES (?, ?, ?)", rows)
    want = conn.execute(
        "SELECT state, MIN(ts), COUNT(*), MAX(client) FROM l GROUP BY state ORDER BY state"
    ).fetchall()
    got = list(_rows.launch_groups(conn.execute("SELECT state, ts, client FROM l ORDER BY state")))
    assert got == want


def test_import_file_refreshes_in_the_files_own_transaction(tmp_path):
    # The single-file API is its own run: nothing is left pending for a later refresh.
    parts = _three_parts(tmp_path)
    db = open_db(tmp_path / "f.db")
    import_id = db.conn.execute("INSERT INTO imports (started_at) VALUES ('2026-12-07')").lastrowid
    r = import_file(db, parts[0], import_id=import_id, launch_paths=[LAUNCH])
    assert r.status == "imported" and r.inserted > 0
    assert db.conn.execute("SELECT count(*) FROM derived_pending").fetchone()[0] == 0
    assert db.conn.execute("SELECT count(*) FROM attempts").fetchone()[0] > 0
    assert derived_tables(db.conn) == rebuilt_tables(db.conn)
