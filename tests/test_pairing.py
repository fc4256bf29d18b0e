"""Launches without a ``state`` paired by client (smartcar_logs/store/pairing.py's contract), and the
JavaScript SDK's state paired on its ``originalState``: what attempts and the funnel hold, and
that imports in any order equal one rebuild."""

from __future__ import annotations

import base64
import json
from itertools import permutations
from urllib.parse import quote

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from hypothesis.stateful import rule

from helpers_derived import FilesEqualARebuild, derived_tables, rebuilt_tables
from logs import CB, LAUNCH, UID, clf, write
from smartcar_logs import import_paths
from smartcar_logs.analysis import funnel_caveats, funnel_summary, time_to_complete
from smartcar_logs.store import derived as _derived
from smartcar_logs.store import open_db


def _t(minute: int, second: int = 0) -> str:
    return f"01/Oct/2026:09:{minute:02d}:{second:02d} +0000"


def _funnel(tmp_path, *chunks: bytes, name: str = "a.log"):
    db = open_db(None)
    import_paths(db, [write(tmp_path, name, b"".join(chunks))], launch_paths=[LAUNCH], redirect_paths=[CB])
    return db, funnel_summary(db).iloc[0]


def _pairings(db) -> list[tuple]:
    return db.conn.execute(
        "SELECT launch_lines, launch_stateless, pairing, events, secs_redirect FROM attempts ORDER BY launched"
    ).fetchall()


def test_a_stateless_launch_pairs_with_its_clients_next_redirect(tmp_path):
    db, f = _funnel(
        tmp_path,
        clf(LAUNCH, t=_t(0)),
        clf(f"{CB}?user_id={UID}&state=server-made-1", t=_t(0, 40)),
        clf(LAUNCH, ip="198.51.100.7", t=_t(1)),  # another client: abandoned
    )
    assert (f["launched"], f["returned"], f["succeeded"], f["abandoned"]) == (2, 1, 1, 1)
    assert (f["launched_inferred"], f["returned_inferred"], f["paired_share"]) == (2, 1, 0.5)
    assert f["orphan_redirect_states"] == 0  # the redirect has its launch now
    assert (1, 1, "client (inferred)", 1, 40.0) in _pairings(db)
    assert time_to_complete(db).set_index("outcome").loc["all", "median_s"] == 40.0
    (text,) = funnel_caveats(funnel_summary(db))
    assert "paired by client (inferred)" in text and "NAT" in text and "50.0%" in text


def test_the_latest_launch_within_the_window_is_the_pair(tmp_path):
    db, f = _funnel(
        tmp_path,
        clf(LAUNCH, t=_t(0)),
        clf(LAUNCH, t=_t(5)),
        clf(f"{CB}?error=access_denied&state=s-9", t=_t(6)),
    )
    assert (f["launched"], f["returned"], f["abandoned"]) == (2, 1, 1)
    assert (1, 1, "client (inferred)", 1, 60.0) in _pairings(db)


def test_a_redirect_after_the_window_or_before_the_launch_is_not_paired(tmp_path):
    db, f = _funnel(
        tmp_path,
        clf(f"{CB}?code=c&state=early", t=_t(0)),
        clf(LAUNCH, t="01/Oct/2026:09:01:00 +0000"),
        clf(f"{CB}?code=c&state=late", t="01/Oct/2026:10:01:01 +0000"),  # 60 min 1 s later
    )
    assert (f["launched"], f["returned"], f["orphan_redirect_states"]) == (1, 0, 2)


def test_an_exact_state_wins_over_the_client(tmp_path):
    db, f = _funnel(
        tmp_path,
        clf(f"{LAUNCH}?state=s1", t=_t(0)),
        clf(LAUNCH, t=_t(1)),
        clf(f"{CB}?code=c&state=s1", t=_t(2)),
    )
    assert (f["launched"], f["returned"], f["launched_inferred"], f["returned_inferred"]) == (2, 1, 1, 0)
    assert (1, 0, "state", 1, 120.0) in _pairings(db)


def test_redirects_without_a_state_join_the_launch_they_follow(tmp_path):
    db, f = _funnel(
        tmp_path,
        clf(LAUNCH, t=_t(0)),
        clf(f"{CB}?error=access_denied", t=_t(1)),
        clf(f"{CB}?code=c", t=_t(3)),
    )
    assert (f["launched"], f["returned"], f["succeeded"]) == (1, 1, 1)
    assert _pairings(db) == [(1, 1, "client (inferred)", 2, 60.0)]


def test_without_a_state_or_a_client_the_funnel_says_it_cannot_be_measured(tmp_path):
    line = clf(LAUNCH, t=_t(0)).replace(b"203.0.113.9", b"-").replace(b'"Mozilla/5.0"', b'"-"')
    db, f = _funnel(tmp_path, line, clf(f"{CB}?code=c&state=x", t=_t(1)))
    assert (f["launched"], f["launches_unmeasurable"], f["launch_lines"]) == (0, 1, 1)
    (text,) = funnel_caveats(funnel_summary(db))
    assert text.startswith("The funnel cannot be measured")


def test_with_states_there_is_nothing_to_caveat(tmp_path):
    db, f = _funnel(tmp_path, clf(f"{LAUNCH}?state=s1", t=_t(0)), clf(f"{CB}?code=c&state=s1", t=_t(1)))
    assert funnel_caveats(funnel_summary(db)) == []
    assert f["launched_inferred"] == 0 and f["returned"] == 1


def _js_state(original: str | None, instance: str = "page-1") -> str:
    payload = {"instanceId": instance} | ({"originalState": original} if original else {})
    return quote(base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode(), safe="")


def test_a_js_sdk_state_pairs_on_its_original_state_and_keeps_the_raw(tmp_path):
    raw = _js_state("app-7")
    db, f = _funnel(
        tmp_path,
        clf(f"{LAUNCH}?state=app-7", t=_t(0)),
        clf(f"{CB}?error=access_denied&state={raw}", t=_t(1)),
        clf(f"{CB}?code=c&state={raw}", t=_t(2)),  # the same page's retry: one attempt
    )
    assert (f["launched"], f["returned"], f["succeeded"], f["launched_inferred"]) == (1, 1, 1, 0)
    assert _pairings(db) == [(1, 0, "js-sdk", 2, 60.0)]
    state, extras, flags = db.conn.execute("SELECT state, extras, flags FROM redirects LIMIT 1").fetchone()
    assert state == "app-7" and "js_sdk_state" in flags
    assert (
        json.loads(extras)["state_raw"]
        == base64.b64encode(b'{"instanceId":"page-1","originalState":"app-7"}').decode()
    )


def test_a_js_sdk_state_without_an_original_state_groups_by_page(tmp_path):
    raw = _js_state(None, "page-2")
    db, f = _funnel(
        tmp_path,
        clf(LAUNCH, t=_t(0)),
        clf(f"{CB}?error=access_denied&state={raw}", t=_t(1)),
        clf(f"{CB}?code=c&state={raw}", t=_t(2)),
    )
    # One page's attempts are one attempt, paired by client with the stateless launch.
    assert (f["launched"], f["returned"], f["succeeded"]) == (1, 1, 1)
    assert db.conn.execute("SELECT DISTINCT state FROM redirects").fetchall() == [("js-sdk-instance:page-2",)]


# Two clients, each with two stateless launches, redirects with and without states, split so
# that a launch and its redirect sit in different files.
_PARTS = [
    clf(LAUNCH, t=_t(0)) + clf(f"{CB}?error=access_denied&state=a1", t=_t(1)),
    clf(LAUNCH, t=_t(2)) + clf(LAUNCH, ip="198.51.100.7", t=_t(2, 30)),
    clf(f"{CB}?code=c&state=a2", t=_t(4)) + clf(f"{CB}?code=c", ip="198.51.100.7", t=_t(5)),
    clf(LAUNCH, ip="198.51.100.7", t=_t(9)) + clf(f"{CB}?error=no_vehicles", ip="198.51.100.7", t=_t(10)),
]


@pytest.mark.parametrize("order", list(permutations(range(4)))[::5])
@pytest.mark.parametrize("bulk", [False, True])
def test_pairing_across_files_in_any_order_equals_a_rebuild(tmp_path, order, bulk, monkeypatch):
    monkeypatch.setattr(_derived, "BULK_STATES", 0 if bulk else 50_000)
    paths = [write(tmp_path, f"part{i}.log", _PARTS[i]) for i in range(4)]
    db = open_db(None)
    for i in order:  # one run per file: each refresh sees only what came before
        import_paths(db, [paths[i]], launch_paths=[LAUNCH], redirect_paths=[CB])
        assert derived_tables(db.conn) == rebuilt_tables(db.conn)
    f = funnel_summary(db).iloc[0]
    assert (f["launched"], f["returned"], f["succeeded"], f["launched_inferred"]) == (4, 4, 2, 4)
    # a1's error was retried by the same client: the retry link sees the inferred attempts too
    assert db.conn.execute("SELECT retried, retry_succeeded FROM attempts WHERE state = 'a1'").fetchone() == (
        1,
        1,
    )


def test_stateless_redirects_a_launch_took_in_are_counted_once_in_the_attempts(tmp_path):
    from smartcar_logs.analysis import attempt_summary

    db, f = _funnel(
        tmp_path,
        clf(LAUNCH, t=_t(0)),
        clf(f"{CB}?error=access_denied", t=_t(1)),
        clf(f"{CB}?code=c&state=s1", ip="198.51.100.7", t=_t(2)),
    )
    a = attempt_summary(db).iloc[0]
    assert f["returned"] == 1  # the funnel has the stateless redirect
    assert (a["redirects"], a["stateless_redirects"], a["attempts"]) == (2, 1, 1)  # not 3 lines


def test_the_first_return_decides_what_a_launch_takes(tmp_path):
    # A redirect without a state comes first: the launch takes it (and any other stateless
    # one), and the later redirect with a state the launch never showed stays an orphan.
    db, f = _funnel(
        tmp_path,
        clf(LAUNCH, t=_t(0)),
        clf(f"{CB}?error=access_denied", t=_t(1)),
        clf(f"{CB}?code=c&state=s-late", t=_t(2)),
    )
    assert (f["launched"], f["returned"], f["succeeded"], f["orphan_redirect_states"]) == (1, 1, 0, 1)
    # The other way round: the state's attempt takes the launch, the stateless redirect is left.
    db, f = _funnel(
        tmp_path,
        clf(LAUNCH, t=_t(0)),
        clf(f"{CB}?code=c&state=s-first", t=_t(1)),
        clf(f"{CB}?error=access_denied", t=_t(2)),
        name="b.log",
    )
    assert (f["launched"], f["returned"], f["succeeded"], f["orphan_redirect_states"]) == (1, 1, 1, 0)


@pytest.mark.parametrize("bulk", [False, True])
def test_a_rebuild_pairs_the_earliest_return_whatever_the_state_order(tmp_path, bulk, monkeypatch):
    # A rebuild pairs the attempts as it writes them, in state order: "aa-late" comes first
    # and is paired, then "zz-early", earlier in time, takes the launch from it (rule 2).
    monkeypatch.setattr(_derived, "BULK_STATES", 0 if bulk else 50_000)
    lines = [
        clf(LAUNCH, t=_t(0)),
        clf(f"{CB}?code=c&state=zz-early", t=_t(1)),
        clf(f"{CB}?error=access_denied&state=aa-late", t=_t(2)),
    ]
    for parts in ([lines], [lines[:2], lines[2:]], [lines[2:], lines[:2]]):
        db = open_db(None)
        for i, part in enumerate(parts):
            import_paths(
                db, [write(tmp_path, f"p{i}.log", b"".join(part))], launch_paths=[LAUNCH], redirect_paths=[CB]
            )
        assert derived_tables(db.conn) == rebuilt_tables(db.conn)
        paired = db.conn.execute(
            "SELECT state, launch_lines, pairing FROM attempts ORDER BY state"
        ).fetchall()
        assert paired == [("aa-late", 0, None), ("zz-early", 1, "client (inferred)")], parts
        f = funnel_summary(db).iloc[0]
        assert (f["launched"], f["returned"], f["succeeded"], f["orphan_redirect_states"]) == (1, 1, 1, 1)


# --- a refresh decides again only the launches near the new lines -------------------------------

_KINDS = ("stateless launch", "stateless success", "stateless error", "success", "error", "launch")
_pair_line = st.tuples(
    st.sampled_from(_KINDS),
    st.sampled_from(("s0", "s1", "s2")),
    st.sampled_from(("198.51.100.1", "198.51.100.2")),
    # Minutes after 08:00 on a 20-minute grid: ten hours, so a span of a few hours leaves some
    # out, and lines fall often at a window's length (60) from each other.
    st.integers(0, 30).map(lambda m: m * 20),
)


def _pair_text(kind: str, state: str, ip: str, minute: int) -> bytes:
    t = f"01/Oct/2026:{8 + minute // 60:02d}:{minute % 60:02d}:00 +0000"
    target = {
        "stateless launch": LAUNCH,
        "stateless success": f"{CB}?code=x",
        "stateless error": f"{CB}?error=access_denied",
        "success": f"{CB}?code=x&state={state}",  # an (a) return while no launch carries s*
        "error": f"{CB}?error=access_denied&state={state}",
        "launch": f"{LAUNCH}?state={state}",  # ... and not one any more once one does
    }[kind]
    return clf(target, ip=ip, t=t)


class PairingOverFiles(FilesEqualARebuild):
    """Small files (the cron case) of launches and returns over ten hours: a refresh reads and
    decides again only the launches within a few hours of its files' lines (and of the other
    lines of the states they touch), yet after each import the tables equal a rebuild's."""

    @rule(lines=st.lists(_pair_line, min_size=1, max_size=5))
    def import_a_file(self, lines):
        self.import_file(b"".join(_pair_text(*line) for line in lines))


@pytest.mark.parametrize("spans", ["near", "whole history"])
def test_a_refresh_pairs_near_its_lines_as_a_rebuild_pairs_all(monkeypatch, spans):
    # Refreshed, not rebuilt: a file of a few lines into a few earlier ones would otherwise
    # count as most of the database.
    monkeypatch.setattr(_derived, "BULK_STATES", 10_000)
    if spans == "whole history":  # as for a client whose lines carry no time
        from smartcar_logs.store import pairing

        monkeypatch.setattr(pairing, "_windows", lambda clients: dict.fromkeys(clients))
    run = PairingOverFiles.TestCase
    run.settings = settings(max_examples=60 if spans == "near" else 25, stateful_step_count=8, deadline=None)
    run().runTest()


def test_a_refresh_leaves_the_pairs_far_from_its_lines_unread(tmp_path, monkeypatch):
    # What makes the span worth having: a follow-up hour reads a few hours of its clients'
    # launches, not their whole history.
    from smartcar_logs.store import pairing

    early = [clf(LAUNCH, t=f"01/Oct/2026:0{h}:00:00 +0000") for h in range(1, 6)]
    late = [clf(LAUNCH, t="01/Oct/2026:12:00:00 +0000"), clf(f"{CB}?code=x", t="01/Oct/2026:12:01:00 +0000")]
    db = open_db(tmp_path / "s.db")
    import_paths(db, [write(tmp_path, "a.log", b"".join(early))], launch_paths=[LAUNCH], redirect_paths=[CB])
    read = []
    real = pairing._Launches.__init__

    def spy(self, conn, clients):
        real(self, conn, clients)
        read.extend(ts for group in self.by_client.values() for ts, _ in group)

    monkeypatch.setattr(pairing._Launches, "__init__", spy)
    monkeypatch.setattr(_derived, "BULK_STATES", 10_000)
    import_paths(db, [write(tmp_path, "b.log", b"".join(late))], launch_paths=[LAUNCH], redirect_paths=[CB])
    assert read == ["2026-10-01T12:00:00+00:00"]  # 05:00 is more than two windows before noon
    assert derived_tables(db.conn) == rebuilt_tables(db.conn)
    assert _pairings(db)[-1][:3] == (1, 1, "client (inferred)")


def test_a_return_just_before_the_span_keeps_the_launch_an_hour_before_it(tmp_path, monkeypatch):
    # The new launch at 10:00 decides again the launches from 08:59; the return at 09:05 is
    # among the returns read, and its launch at 08:10 must be read too (two windows back), or
    # the refresh would take it for a return with no launch and unpair it.
    monkeypatch.setattr(_derived, "BULK_STATES", 10_000)
    first = [
        clf(LAUNCH, t="01/Oct/2026:08:10:00 +0000"),
        clf(f"{CB}?code=x&state=s0", t="01/Oct/2026:09:05:00 +0000"),
    ]
    db = open_db(tmp_path / "j.db")
    import_paths(db, [write(tmp_path, "a.log", b"".join(first))], launch_paths=[LAUNCH], redirect_paths=[CB])
    later = [
        clf(LAUNCH, t="01/Oct/2026:10:00:00 +0000"),
        clf(f"{CB}?error=access_denied", t="01/Oct/2026:10:01:00 +0000"),
    ]
    import_paths(db, [write(tmp_path, "b.log", b"".join(later))], launch_paths=[LAUNCH], redirect_paths=[CB])
    assert derived_tables(db.conn) == rebuilt_tables(db.conn)
    s0 = db.conn.execute("SELECT launched, pairing FROM attempts WHERE state = 's0'").fetchone()
    assert s0 == ("2026-10-01T08:10:00+00:00", "client (inferred)")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 20)), max_size=8))
def test_the_spans_are_read_as_the_fewest_disjoint_ranges(starts_and_lengths):
    # Times as ISO strings compare as times: two-digit hours stand in for them here.
    from smartcar_logs.store.pairing import _union

    spans = [(f"{a:02d}", "", "", f"{a + n:02d}") for a, n in starts_and_lengths]
    ranges = _union(spans, 0)
    assert ranges == sorted(ranges)
    assert all(hi < lo for (_, hi), (lo, _) in zip(ranges, ranges[1:]))  # disjoint, not touching
    covered = {h for lo, hi in ranges for h in range(int(lo), int(hi) + 1)}
    wanted = {h for a, n in starts_and_lengths for h in range(a, a + n + 1)}
    # Every hour of a span is read, and no other: spans merge only where they meet.
    assert covered == wanted
