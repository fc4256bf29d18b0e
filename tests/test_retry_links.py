"""Retry links kept by a refresh (store/derived.py's ``_link_retries``): a refresh relinks only
the attempts ended in an error whose retry window holds an attempt it changed, as that attempt
was or as it is, so a retry that arrives in a later file, or a line that moves an attempt into
or out of an older error's window, must still change that error's link exactly as a rebuild
would; and an error whose window is far from the new rows keeps its link."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import rule

from helpers_derived import FilesEqualARebuild, derived_tables, rebuilt_tables
from logs import CB, LAUNCH, clf, write
from smartcar_logs import import_paths
from smartcar_logs.store import open_db

A, B = "198.51.100.1", "198.51.100.2"


def _t(hour: int, minute: int) -> str:
    return f"01/Oct/2026:{hour:02d}:{minute:02d}:00 +0000"


def _error(state: str, hour: int, minute: int, ip: str = A) -> bytes:
    return clf(f"{CB}?error=access_denied&state={state}", ip=ip, t=_t(hour, minute))


def _success(state: str, hour: int, minute: int, ip: str = A) -> bytes:
    return clf(f"{CB}?code=x&state={state}", ip=ip, t=_t(hour, minute))


def _files(tmp_path: Path, *files: bytes):
    """Import each of *files* in a run of its own; yield the database after each."""
    db = open_db(tmp_path / "r.db")
    for i, data in enumerate(files):
        import_paths(db, [write(tmp_path, f"{i}.log", data)], redirect_paths=[CB], launch_paths=[LAUNCH])
        assert derived_tables(db.conn) == rebuilt_tables(db.conn)
        yield db


def _link(db, state: str) -> tuple:
    return db.conn.execute(
        "SELECT retried, retry_succeeded FROM attempts WHERE state = ?", (state,)
    ).fetchone()


def test_a_retry_in_a_later_file_links_an_error_from_an_earlier_one(tmp_path):
    runs = _files(
        tmp_path,
        _error("far1", 6, 0) + _error("far2", 6, 10) + _error("s1", 9, 0),
        _success("s2", 9, 10),
    )
    db = next(runs)
    assert (_link(db, "s1"), _link(db, "far1")) == ((0, None), (1, 0))
    db = next(runs)
    assert _link(db, "s1") == (1, 1)
    # Three hours before the new line: its window holds nothing new, and its link is kept.
    assert (_link(db, "far1"), _link(db, "far2")) == ((1, 0), (0, None))


def test_an_earlier_line_moves_a_retry_into_an_older_errors_window(tmp_path):
    # s2 began 45 minutes after s1's error; an earlier line of s2 from another file brings it
    # to 20 minutes after: s1 was retried after all (its new first time is in the window).
    runs = _files(tmp_path, _error("s1", 9, 0) + _success("s2", 9, 45), _error("s2", 9, 20))
    assert _link(next(runs), "s1") == (0, None)
    assert _link(next(runs), "s1") == (1, 1)


def test_an_earlier_line_moves_a_retry_out_of_an_older_errors_window(tmp_path):
    # s2 seemed to follow s1's error; a line of s2 before that error means it did not (only
    # its old first time is in the window).
    runs = _files(tmp_path, _error("s1", 9, 0) + _success("s2", 9, 10), _success("s2", 8, 50))
    assert _link(next(runs), "s1") == (1, 1)
    assert _link(next(runs), "s1") == (0, None)


def test_a_retry_that_turns_out_to_be_another_clients_is_unlinked(tmp_path):
    # s2's first line (which gives an attempt its client) turns out to be client B's.
    runs = _files(tmp_path, _error("s1", 9, 0) + _success("s2", 9, 10), _error("s2", 9, 5, ip=B))
    assert _link(next(runs), "s1") == (1, 1)
    assert _link(next(runs), "s1") == (0, None)


def test_a_stateless_launchs_attempt_moved_out_of_an_errors_window_by_its_pairing(tmp_path):
    # The stateless launch at 09:00 is paired with its client's next stateless redirect: at
    # 09:20 its attempt is s1's retry; an earlier one at 09:05 (in a later file) makes the
    # pairing rewrite that attempt to begin before s1's error, which it then does not follow.
    runs = _files(
        tmp_path,
        clf(LAUNCH, ip=A, t=_t(9, 0))
        + clf(f"{LAUNCH}?state=s1", ip=A, t=_t(9, 9))
        + _error("s1", 9, 10)
        + clf(f"{CB}?error=access_denied", ip=A, t=_t(9, 20)),
        clf(f"{CB}?error=access_denied", ip=A, t=_t(9, 5)),
    )
    assert _link(next(runs), "s1") == (1, 0)
    assert _link(next(runs), "s1") == (0, None)


# --- any lines, in any files -------------------------------------------------------------------

_STATES = ("s0", "s1", "s2", "s3", "s4")
_line = st.tuples(
    st.sampled_from(("error", "success", "launch", "stateless launch", "stateless error")),
    st.sampled_from(_STATES),
    st.sampled_from((A, B, "198.51.100.3")),
    st.integers(0, 180),  # minutes after 08:00: windows of 30 (retries) and 60 (pairing) overlap
    st.sampled_from(("", "&user_id=u1", "&user_id=u2")),
)


def _text(kind: str, state: str, ip: str, minute: int, user: str) -> bytes:
    t = _t(8 + minute // 60, minute % 60)
    target = {
        "error": f"{CB}?error=access_denied&state={state}{user}",
        "success": f"{CB}?code=x&state={state}{user}",
        "launch": f"{LAUNCH}?state={state}",
        "stateless launch": LAUNCH,
        "stateless error": f"{CB}?error=access_denied{user}",
    }[kind]
    return clf(target, ip=ip, t=t)


class RetryLinksOverFiles(FilesEqualARebuild):
    """Files of a few lines each (the cron case), whose states, clients and times overlap the
    earlier files' in every way a retry window can: after each import the derived tables,
    retry links included, equal a rebuild's."""

    @rule(lines=st.lists(_line, min_size=1, max_size=6))
    def import_a_file(self, lines):
        self.import_file(b"".join(_text(*line) for line in lines))


def test_retry_links_over_any_files():
    run = RetryLinksOverFiles.TestCase
    run.settings = settings(max_examples=40, stateful_step_count=6, deadline=None)
    run().runTest()
