"""The analysis layer against numbers worked out by hand on the fixture in fixtures_analysis.py.

The expected values below are counted from the table in that module's docstring; each
comment says which rows make the number.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from fixtures_analysis import IMG_MODEL, SCRIPT_MAKE
from smartcar_logs import analysis
from smartcar_logs.store import StoreError, open_db, rebuild_derived

WEEK_A = pd.Timestamp("2026-10-05")
WEEK_B = pd.Timestamp("2026-10-12")


# --- Wilson interval ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # toolkit conventions section 4, checked there against statsmodels 0.15.
        (7, 50, 0.0695, 0.2619),
    ],
)
def test_wilson_matches_published_values(k, n, lo, hi):
    got = analysis.wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=5e-5)


def test_wilson_edge_cases_and_arrays():
    assert analysis.wilson_interval(0, 20)[0] == 0.0
    assert analysis.wilson_interval(20, 20)[1] == 1.0
    assert all(math.isnan(v) for v in analysis.wilson_interval(0, 0))
    lo, hi = analysis.wilson_interval(np.array([81, 0]), np.array([263, 0]))
    assert lo[0] == pytest.approx(0.2553, abs=5e-5) and math.isnan(lo[1]) and math.isnan(hi[1])
    # a 90% interval is narrower
    lo90, hi90 = analysis.wilson_interval(81, 263, alpha=0.10)
    assert 0.2553 < lo90 < hi90 < 0.3662


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_equals_statsmodels_and_contains_estimate(kn):
    k, n = kn
    lo, hi = analysis.wilson_interval(k, n)
    ref = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert (lo, hi) == pytest.approx(ref, abs=1e-12)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


# --- arguments --------------------------------------------------------------------------------


def test_bounds_accept_dates_datetimes_and_strings():
    assert analysis.bounds("2026-10-01") == ("2026-10-01", None)
    assert analysis.bounds(date(2026, 10, 1)) == ("2026-10-01", None)
    aware = datetime(2026, 10, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert analysis.bounds(aware)[0] == "2026-10-01T07:30:00+00:00"
    assert analysis.bounds(until="2026-10-01T07:30:00Z") == (None, "2026-10-01T07:30:00+00:00")
    assert analysis.bounds(None, "") == (None, None)
    with pytest.raises(ValueError, match="since"):
        analysis.bounds("last tuesday")
    with pytest.raises(ValueError, match="until"):
        analysis.bounds(None, "next week")


def test_bad_period_and_by_are_rejected(analysis_db):
    with pytest.raises(ValueError, match="period"):
        analysis.rates(analysis_db, period="fortnight")
    with pytest.raises(ValueError, match="by"):
        analysis.outcome_counts(analysis_db, by="colour")
    with pytest.raises(ValueError, match="by"):
        analysis.incompatible_vehicles(analysis_db, by="colour")


def test_a_path_works_like_a_database(analysis_db_path):
    assert analysis.summary(str(analysis_db_path)).loc[0, "events"] == 23


def test_missing_database_is_a_store_error(tmp_path):
    with pytest.raises(StoreError):
        analysis.summary(tmp_path / "nope.db")


def test_empty_database_gives_zeros_not_errors(tmp_path):
    db = open_db(tmp_path / "empty.db")
    s = analysis.summary(db)
    assert s.loc[0, "events"] == 0 and math.isnan(s.loc[0, "denial_rate"])
    assert analysis.rates(db, period="week").empty
    assert analysis.rates(db, period=None).loc[0, "n"] == 0
    assert analysis.attempt_summary(db).loc[0, "attempts"] == 0
    assert analysis.funnel(db)["n"].tolist() == [0, 0, 0]
    assert analysis.incompatible_vehicles(db).empty
    assert analysis.time_to_complete(db).empty
    assert analysis.compare_latest(db).empty
    assert analysis.data_range(db) == (None, None)


# --- summary, outcomes, rates ---------------------------------------------------------------


def test_summary(analysis_db):
    s = analysis.summary(analysis_db).iloc[0]
    assert s["redirects"] == 26  # 27 rows less the test row R12
    assert s["reloads"] == 3  # R3, R14, R25
    assert s["events"] == 23
    assert (s["success"], s["errors"], s["empty"]) == (8, 14, 1)
    assert s["denied"] == 6  # R4 R5 R10 R17 R23 R24
    assert s["incompatible"] == 5  # R7 R8 R18 R19 R20
    assert s["stateless_redirects"] == 2  # R9 (NULL), R10 ('')
    assert s["test_redirects"] == 1
    assert s["launches"] == 13
    assert s["denial_rate"] == pytest.approx(6 / 22)
    assert s["failure_rate"] == pytest.approx(14 / 22)
    assert (s["first_ts"], s["last_ts"]) == ("2026-10-05T09:00:10+00:00", "2026-10-16T13:00:00+00:00")


def test_outcome_counts_by_category_per_week(analysis_db):
    oc = analysis.outcome_counts(analysis_db, period="week", by="category")
    got = {(p.strftime("%m-%d"), c): n for p, c, n in oc[["period", "category", "n"]].itertuples(index=False)}
    assert got == {
        ("10-05", "success"): 4,  # R1 R2 R6 R9
        ("10-05", "denied"): 3,  # R4 R5 R10
        ("10-05", "incompatible"): 2,  # R7 R8
        ("10-05", "system"): 1,  # R13 (+ reload R14)
        ("10-05", "empty"): 1,  # R11
        ("10-12", "success"): 4,  # R15 R16 R22 R26
        ("10-12", "denied"): 3,  # R17 R23 R24
        ("10-12", "incompatible"): 3,  # R18 R19 R20
        ("10-12", "exited"): 1,  # R21
        ("10-12", "other"): 1,  # R27
    }
    assert oc.groupby("period")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    a_success = oc[(oc["period"] == WEEK_A) & (oc["category"] == "success")]["share"].item()
    assert a_success == pytest.approx(4 / 11)


def test_outcome_counts_totals_by_error_code_and_raw_lines(analysis_db):
    oc = analysis.outcome_counts(analysis_db, period=None, by="error_code").set_index("error_code")
    assert "period" not in oc.columns
    assert oc.loc["access_denied", "n"] == 6
    assert oc.loc["success", "n"] == 8
    assert oc.loc["weird_error", "n"] == 1
    raw = analysis.outcome_counts(analysis_db, period=None, by="outcome", dedupe=False)
    assert raw.set_index("outcome")["n"].to_dict() == {"success": 9, "error": 16, "empty": 1}
    with_test = analysis.outcome_counts(analysis_db, period=None, by="outcome", include_test=True)
    assert with_test.set_index("outcome").loc["error", "n"] == 15


def test_rates_per_week_fill_empty_periods(analysis_db):
    r = analysis.rates(analysis_db, since="2026-10-01", until="2026-10-19", period="week")
    # 2026-10-01 is a Thursday: its week starts on Monday 09-28 and has no redirects.
    assert r["period"].tolist() == [pd.Timestamp("2026-09-28"), WEEK_A, WEEK_B]
    assert r["n"].tolist() == [0, 10, 12]
    assert r["denied"].tolist() == [0, 3, 3]
    assert r["errors"].tolist() == [0, 6, 8]
    assert r["empty"].tolist() == [0, 1, 0]
    assert math.isnan(r.loc[0, "denial_rate"]) and math.isnan(r.loc[0, "denial_rate_lo"])
    assert r.loc[1, "denial_rate"] == pytest.approx(0.3)
    assert r.loc[2, "denial_rate"] == pytest.approx(0.25)
    assert r.loc[2, "failure_rate"] == pytest.approx(8 / 12)
    lo, hi = proportion_confint(3, 10, method="wilson")
    assert (r.loc[1, "denial_rate_lo"], r.loc[1, "denial_rate_hi"]) == pytest.approx((lo, hi))


def test_rates_day_and_month_and_range(analysis_db):
    daily = analysis.rates(analysis_db, period="day")
    assert len(daily) == 12  # 10-05 .. 10-16, including the empty 10-10 and 10-11
    assert daily.set_index("period").loc["2026-10-10", "n"] == 0
    monthly = analysis.rates(analysis_db, period="month")
    assert monthly["period"].tolist() == [pd.Timestamp("2026-10-01")]
    assert monthly.loc[0, "n"] == 22
    # until is exclusive: 2026-10-12 stops before week B
    assert analysis.rates(analysis_db, until="2026-10-12", period=None).loc[0, "n"] == 10
    # a datetime bound: from 10-16 12:00 on: R24 (+reload R25) R26 R27
    late = analysis.rates(analysis_db, since="2026-10-16T12:00:00+00:00", period=None)
    assert (late.loc[0, "n"], late.loc[0, "denied"]) == (3, 1)


def test_rates_without_dedupe_count_reloads(analysis_db):
    raw = analysis.rates(analysis_db, period=None, dedupe=False).iloc[0]
    assert (raw["n"], raw["denied"], raw["errors"]) == (25, 7, 16)


def test_error_codes_table(analysis_db):
    ec = analysis.error_codes(analysis_db).set_index("error_code")
    assert ec["n"].to_dict() == {
        "access_denied": 6,
        "vehicle_incompatible": 5,
        "server_error": 1,
        "user_manually_returned_to_application": 1,
        "weird_error": 1,
    }
    assert ec.loc["access_denied", "known"] and not ec.loc["weird_error", "known"]
    assert ec.loc["weird_error", "example_description"] == '<script>alert("desc")</script>'
    assert ec["share"].sum() == pytest.approx(1.0)


# --- comparison ---------------------------------------------------------------------------------


def _rate_db(path, before, after):
    """A database with (denied, success) redirect counts in week 1 and week 2 of October."""
    db = open_db(path)
    rows, i = [], 0
    for day, (denied, success) in (("2026-10-05", before), ("2026-10-12", after)):
        for outcome, code, count in (("error", "access_denied", denied), ("success", None, success)):
            for _ in range(count):
                i += 1
                rows.append({
                    "source_fp": "x", "line_no": i, "byte_offset": i, "ts": f"{day}T10:00:00+00:00",
                    "state": f"s{i}", "outcome": outcome, "error_code": code,
                    "category": "denied" if code else "success", "is_test": 0,
                })  # fmt: skip
    db["redirects"].insert_all(rows)
    rebuild_derived(db.conn)  # rows written outside the importer: derive the events by hand
    return db


def test_compare_periods_significant_change(tmp_path):
    db = _rate_db(tmp_path / "c.db", before=(10, 90), after=(40, 60))
    cmp = analysis.compare_periods(db, ("2026-10-05", "2026-10-12"), ("2026-10-12", "2026-10-19"))
    row = cmp.loc["denial_rate"]
    assert (row["k_before"], row["n_before"], row["k_after"], row["n_after"]) == (10, 100, 40, 100)
    assert row["diff"] == pytest.approx(0.30)
    # by hand: pooled p = 0.25, se = sqrt(0.25 * 0.75 * (2/100)) = 0.0612372, z = 0.3 / se = 4.899
    assert row["test"] == "z-test"
    assert row["p_value"] == pytest.approx(9.6336e-07, rel=1e-3)
    assert row["significant"]
    assert row["diff_lo"] < 0.30 < row["diff_hi"] and row["diff_lo"] > 0
    # failure rate = denial rate here (the only errors are denials)
    assert cmp.loc["failure_rate", "p_value"] == pytest.approx(row["p_value"])


def test_compare_periods_no_change_and_small_counts(tmp_path):
    db = _rate_db(tmp_path / "c.db", before=(20, 80), after=(21, 79))
    cmp = analysis.compare_periods(db, ("2026-10-05", "2026-10-12"), ("2026-10-12", "2026-10-19"))
    row = cmp.loc["denial_rate"]
    assert row["test"] == "z-test" and not row["significant"]
    assert row["p_value"] == pytest.approx(proportions_ztest([21, 20], [100, 100])[1])
    small = analysis.compare_periods(
        db, ("2026-10-05", "2026-10-06"), ("2026-10-12", "2026-10-13"), method="auto"
    )
    assert small.loc["denial_rate", "test"] in ("z-test", "Fisher exact")
    fisher = analysis.compare_periods(
        db, ("2026-10-05", "2026-10-12"), ("2026-10-12", "2026-10-19"), method="fisher"
    )
    assert fisher.loc["denial_rate", "test"] == "Fisher exact"
    with pytest.raises(ValueError):
        analysis.compare_periods(db, (None, None), (None, None), method="bayes")


def test_compare_latest_leaves_out_a_partial_period(analysis_db):
    # the data end on Friday 10-16: the week of 10-12 is still running, so there is only one
    # complete week and nothing honest to compare
    cmp = analysis.compare_latest(analysis_db, period="week")
    assert cmp.empty and cmp.attrs["partial"] == [WEEK_B] and cmp.attrs["complete"] == 1


def test_compare_latest_on_fixture(analysis_db):
    cmp = analysis.compare_latest(analysis_db, until="2026-10-19", period="week")
    row = cmp.loc["denial_rate"]
    assert (row["before"], row["after"]) == (WEEK_A, WEEK_B)
    assert (row["k_before"], row["n_before"], row["k_after"], row["n_after"]) == (3, 10, 3, 12)
    # expected cells (pooled 6/22 of 10) < 5, so Fisher's exact test; 3/10 vs 3/12 is no change
    assert row["test"] == "Fisher exact"
    assert row["p_value"] == pytest.approx(1.0)
    assert not row["significant"]
    assert list(cmp["p_holm"]) == pytest.approx(list(analysis.holm(cmp["p_value"])))


def test_compare_latest_takes_the_rates_at_hand(analysis_db):
    # the report passes the rates it has just charted; the comparison must be the same, and
    # must really use them (a frame with the counts doubled gives other counts)
    args = dict(until="2026-10-19", period="week")
    r = analysis.rates(analysis_db, **args)
    pd.testing.assert_frame_equal(
        analysis.compare_latest(analysis_db, per_period=r, **args),
        analysis.compare_latest(analysis_db, **args),
    )
    doubled = r.assign(**{k: r[k] * 2 for k in ("n", "denied", "errors")})
    row = analysis.compare_latest(analysis_db, per_period=doubled, **args).loc["denial_rate"]
    assert (row["k_before"], row["n_before"]) == (6, 20)


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.2, 0.5]
    assert analysis.holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    assert np.isnan(analysis.holm([np.nan, 0.01])[0]) and analysis.holm([np.nan, 0.01])[1] == 0.01


def test_two_significant_looking_rates_are_corrected_together(tmp_path):
    db = _rate_db(tmp_path / "h.db", before=(10, 90), after=(19, 81))
    cmp = analysis.compare_periods(db, ("2026-10-05", "2026-10-12"), ("2026-10-12", "2026-10-19"))
    # both rates are the same counts here: raw p < 0.05 for each, but tested twice
    assert (cmp["p_value"] < 0.1).all()
    assert (cmp["p_holm"] >= cmp["p_value"]).all()
    assert list(cmp["significant"]) == list(cmp["p_holm"] < 0.05)


def test_compare_with_an_empty_period(analysis_db):
    cmp = analysis.compare_periods(analysis_db, ("2026-01-01", "2026-02-01"), (None, None))
    assert cmp.loc["denial_rate", "test"] == "n/a"
    assert not cmp.loc["denial_rate", "significant"]


# --- attempts -----------------------------------------------------------------------------------


def test_attempts_collapse_reloads_and_show_retries(analysis_db):
    att = analysis.attempts(analysis_db).set_index("state")
    assert len(att) == 18  # distinct non-empty states, test state s10 excluded
    assert "s10" not in att.index and "" not in att.index
    # reload: two identical success lines, one event
    assert att.loc["s02", ["redirects", "events", "reloads", "retries"]].tolist() == [2, 1, 1, 0]
    assert att.loc["s11", ["redirects", "events", "reloads"]].tolist() == [2, 1, 1]
    # retry after an error, recovered
    s04 = att.loc["s04"]
    assert (s04["events"], s04["retries"], s04["first_outcome"], s04["final_outcome"]) == (
        2,
        1,
        "error",
        "success",
    )
    assert s04["recovered"]
    # reload of the denial, then success: 3 lines, 2 events, recovered
    s20 = att.loc["s20"]
    assert (s20["redirects"], s20["events"], s20["reloads"], s20["recovered"]) == (3, 2, 1, True)
    # success, then a denial: a retry but not a recovery; the final outcome is the error
    s19 = att.loc["s19"]
    assert (s19["retries"], s19["final_outcome"], s19["final_error_code"], s19["recovered"]) == (
        1,
        "error",
        "access_denied",
        False,
    )
    assert att["recovered"].sum() == 2


def test_attempt_summary_reports_stateless_redirects(analysis_db):
    s = analysis.attempt_summary(analysis_db).iloc[0]
    assert s["redirects"] == 26
    assert s["stateless_redirects"] == 2  # R9 (NULL) and R10 ('') are counted, not dropped
    assert s["stated_redirects"] == 24
    assert s["reloads"] == 3
    assert s["attempts"] == 18
    assert (s["attempts_with_retry"], s["retries"]) == (3, 3)  # s04, s19, s20
    assert s["attempts_succeeded"] == 7  # s01 s02 s04 s12 s13 s19 s20
    assert s["attempts_with_error"] == 13
    assert s["recovered"] == 2  # s04, s20
    assert s["recovered_share"] == pytest.approx(2 / 13)
    lo, hi = proportion_confint(2, 13, method="wilson")
    assert (s["recovered_share_lo"], s["recovered_share_hi"]) == pytest.approx((lo, hi))
    assert s["attempt_success_rate"] == pytest.approx(7 / 18)


def test_attempt_summary_per_week(analysis_db):
    s = analysis.attempt_summary(analysis_db, period="week").set_index("period")
    assert s.loc[WEEK_A, ["attempts", "stateless_redirects", "reloads", "recovered"]].tolist() == [8, 2, 2, 1]
    assert s.loc[WEEK_B, ["attempts", "stateless_redirects", "reloads", "recovered"]].tolist() == [
        10,
        0,
        1,
        1,
    ]


def test_attempts_with_test_traffic(analysis_db):
    assert analysis.attempt_summary(analysis_db, include_test=True).loc[0, "attempts"] == 19


# --- funnel ---------------------------------------------------------------------------------------


def test_funnel_steps(analysis_db):
    f = analysis.funnel(analysis_db)
    assert f["step"].tolist() == ["Connect launched", "Redirect received", "Success"]
    # launched: s01 s02 s03 s04 s05 s12 s14 s20 s21 s22 (s10 is test, one launch has no state)
    assert f["n"].tolist() == [10, 8, 5]
    assert f["share_of_launches"].tolist() == pytest.approx([1.0, 0.8, 0.5])
    assert f["share_of_previous"].tolist() == pytest.approx([1.0, 0.8, 5 / 8])


def test_funnel_steps_from_a_summary_at_hand(analysis_db):
    fs = analysis.funnel_summary(analysis_db)
    pd.testing.assert_frame_equal(analysis.funnel_steps(fs), analysis.funnel(analysis_db))


def test_funnel_summary(analysis_db):
    s = analysis.funnel_summary(analysis_db).iloc[0]
    assert s["launch_lines"] == 12  # 13 lines less the test launch L7
    assert s["launch_reloads"] == 1  # L3
    assert s["launches_without_state"] == 1  # L11
    assert (s["launched"], s["returned"], s["succeeded"], s["abandoned"]) == (10, 8, 5, 2)
    assert s["late"] == 1  # s14 came back 2 h after its launch
    assert s["abandonment_rate"] == pytest.approx(0.2)
    assert s["conversion_rate"] == pytest.approx(0.5)
    # redirect states with no launch: s06 s09 s11 s13 s15 s16 s17 s18 s19 s23
    assert s["orphan_redirect_states"] == 10
    assert s["stateless_redirects"] == 2


def test_funnel_by_launch_week_and_test_traffic(analysis_db):
    s = analysis.funnel_summary(analysis_db, period="week").set_index("period")
    assert s.loc[WEEK_A, ["launched", "returned", "succeeded", "abandoned"]].tolist() == [5, 5, 3, 0]
    assert s.loc[WEEK_B, ["launched", "returned", "succeeded", "abandoned"]].tolist() == [5, 3, 2, 2]
    with_test = analysis.funnel_summary(analysis_db, include_test=True).iloc[0]
    assert (with_test["launched"], with_test["returned"], with_test["succeeded"]) == (11, 9, 5)


def test_time_to_complete(analysis_db):
    t = analysis.time_to_complete(analysis_db).set_index("outcome")
    assert t.index.tolist() == ["all", "denied", "incompatible", "success", "to success"]
    # first redirect after launch: s01 10, s02 30, s03 20, s04 60, s05 60, s12 120, s14 7200, s20 60
    # sorted 10 20 30 60 60 60 120 7200: median 60; p90 at 6.3 -> 120 + 0.3 * 7080 = 2244
    assert t.loc["all"].tolist() == pytest.approx([8, 60.0, 2244.0])
    # denied: 20 60 60 7200 -> median 60, p90 at 2.7 -> 60 + 0.7 * 7140 = 5058
    assert t.loc["denied"].tolist() == pytest.approx([4, 60.0, 5058.0])
    # success: 10 30 120 -> median 30, p90 at 1.8 -> 30 + 0.8 * 90 = 102
    assert t.loc["success"].tolist() == pytest.approx([3, 30.0, 102.0])
    # to the first success: 10 30 120 180 360 -> median 120, p90 at 3.6 -> 180 + 0.6 * 180 = 288
    assert t.loc["to success"].tolist() == pytest.approx([5, 120.0, 288.0])


# --- vehicles ------------------------------------------------------------------------------------


def test_incompatible_by_make(analysis_db):
    m = analysis.incompatible_vehicles(analysis_db, by="make")
    assert m["make"].tolist() == ["AUDI", SCRIPT_MAKE, "TESLA"]
    assert m["n"].tolist() == [3, 1, 1]  # AUDI: R7, R19, R20 (make from the VIN)
    assert m["share"].tolist() == pytest.approx([0.6, 0.2, 0.2])
    assert m["from_vin"].tolist() == [1, 0, 0]
    assert "AUDI" in analysis.incompatible_vehicles(analysis_db, by="make", top=1)["make"].tolist()
    assert len(analysis.incompatible_vehicles(analysis_db, by="make", top=1)) == 1
    # the test VIN's AUDI (R12) only with include_test
    with_test = analysis.incompatible_vehicles(analysis_db, by="make", include_test=True)
    assert with_test.set_index("make").loc["AUDI", "n"] == 4


def test_incompatible_by_make_model_and_year(analysis_db):
    mm = analysis.incompatible_vehicles(analysis_db, by="make_model")
    got = {(a, b): n for a, b, n in mm[["make", "model", "n"]].itertuples(index=False)}
    assert got == {
        ("AUDI", "A3"): 2,
        (SCRIPT_MAKE, IMG_MODEL): 1,
        ("AUDI", "(unknown)"): 1,
        ("TESLA", "Model 3"): 1,
    }
    my = analysis.incompatible_vehicles(analysis_db, by="make_year")
    got = {
        (a, int(y)): (n, v) for a, y, n, v in my[["make", "year", "n", "from_vin"]].itertuples(index=False)
    }
    assert got == {
        ("AUDI", 2015): (1, 0),
        ("AUDI", 2016): (1, 0),
        ("AUDI", 2017): (1, 1),  # R20: make and year both from the VIN
        ("TESLA", 2020): (1, 0),  # Connect's year wins over the VIN's 2021
        (SCRIPT_MAKE, 2019): (1, 0),
    }
    assert str(my["year"].dtype) == "Int64"


def test_incompatible_per_week(analysis_db):
    w = analysis.incompatible_vehicles(analysis_db, by="make", period="week")
    got = {(p.strftime("%m-%d"), m): n for p, m, n in w[["period", "make", "n"]].itertuples(index=False)}
    assert got == {
        ("10-05", "AUDI"): 1,
        ("10-05", SCRIPT_MAKE): 1,
        ("10-12", "AUDI"): 2,
        ("10-12", "TESLA"): 1,
    }


def test_vin_agreement_and_disagreements(analysis_db):
    a = analysis.vin_agreement(analysis_db)
    # VINs on R7 R18 R19 R20; both makes known on R7 R18 R19 (R19: AUDI against VOLKSWAGEN,
    # one family), both years on R7 R18 R19 (R18 disagrees)
    # columns: with_vin, compared, agree, same_family, disagree, disagree_share
    assert a.loc["make"].tolist() == pytest.approx([4, 3, 2, 1, 0, 0.0])
    assert a.loc["year"].tolist() == pytest.approx([4, 3, 2, 0, 1, 1 / 3])
    d = analysis.vehicle_disagreements(analysis_db)
    assert d[["make", "vin_make", "disagrees"]].values.tolist() == [["TESLA", "TESLA", "year"]]
    assert d["year"].tolist() == [2020] and d["vin_year"].tolist() == [2021]


@pytest.mark.parametrize(
    "make, vin_make, same",
    [
        ("FIAT", "FIAT AUTOMOBILES", True),  # the decoder's longer name (issue 12)
        ("SUBARU", "SUBARU / SCION", True),  # a decoder name listing two brands
        ("JEEP", "DODGE", True),  # a sister brand on the same VIN codes
        ("MERCEDES-BENZ", "DAIMLERCHRYSLER AG/DAIMLER AG", True),
        ("GMC", "GMC TRUCK", True),
        ("TESLA", "FORD", False),
        ("AUDI", "TOYOTA", False),
        ("AUDI", None, False),
    ],
)
def test_makes_compare_by_brand_family(make, vin_make, same):
    assert analysis.same_family(make, vin_make) is same


# --- helpers ------------------------------------------------------------------------------------


def _daily_db(path, per_day, days):
    db = open_db(path)
    start = pd.Timestamp("2026-01-05")
    db["redirects"].insert_all(
        {"source_fp": "x", "line_no": i, "byte_offset": i, "outcome": "success", "category": "success",
         "ts": (start + pd.Timedelta(days=i // per_day)).strftime("%Y-%m-%dT10:00:00+00:00"), "is_test": 0}
        for i in range(per_day * days)
    )  # fmt: skip
    rebuild_derived(db.conn)
    return db


def test_choose_period_from_the_data(analysis_db, tmp_path):
    assert analysis.choose_period(analysis_db) == "day"  # 12 days, too few redirects for weeks
    assert analysis.choose_period(_daily_db(tmp_path / "d.db", 250, 10)) == "day"
    assert analysis.choose_period(_daily_db(tmp_path / "w.db", 40, 60)) == "week"  # 280 a week
    assert analysis.choose_period(_daily_db(tmp_path / "m.db", 10, 200)) == "month"  # ~300 a month
    assert analysis.choose_period(_daily_db(tmp_path / "f.db", 1, 30)) == "week"  # never enough


def test_data_range(analysis_db):
    first, last = analysis.data_range(analysis_db)
    assert first == "2026-10-05T09:00:00+00:00"  # launch L1 comes before the first redirect
    assert last == "2026-10-16T13:00:00+00:00"


def test_public_names_survive_the_split_into_modules():
    # Notebooks and users call analysis.<name>; the split into modules must not move any of them.
    before_split = {
        "PERIODS", "CONVERSION_WINDOW_MINUTES", "MIN_N", "UNKNOWN", "connect", "wilson_interval",
        "choose_period", "data_range", "summary", "outcome_counts", "error_codes", "rates",
        "compare_periods", "compare_latest", "attempts", "attempt_summary", "funnel",
        "funnel_summary", "time_to_complete", "incompatible_vehicles", "vin_agreement",
        "vehicle_disagreements",
    }  # fmt: skip
    assert before_split <= set(analysis.__all__)
    assert all(hasattr(analysis, name) for name in analysis.__all__)
    import importlib

    for name in ("outcomes", "retries", "conversion", "vehicles", "stats"):
        module = importlib.import_module(f"smartcar_logs.analysis.{name}")
        assert set(module.__all__) <= set(analysis.__all__), name
    # importing every submodule did not turn a function into a module
    assert callable(analysis.attempts) and callable(analysis.funnel)


# --- small data: by hour, partial periods, what was imported (issue 23, item 5) -------------------


def test_a_day_or_two_is_charted_by_hour(one_day_db_path, analysis_db):
    assert analysis.choose_period(one_day_db_path) == "hour"
    assert analysis.choose_period(analysis_db) == "day"  # 12 days: unchanged
    by_hour = analysis.rates(one_day_db_path, period="hour")
    total = analysis.rates(one_day_db_path, period=None).iloc[0]
    assert by_hour["n"].sum() == total["n"] and by_hour["denied"].sum() == total["denied"]
    hours = pd.DatetimeIndex(by_hour["period"])
    assert (hours == hours.floor("h")).all() and (
        hours.to_series().diff().dropna() == pd.Timedelta("1h")
    ).all()
    assert hours.normalize().nunique() == 1  # one day, every hour of it from the first redirect's on
    counts = analysis.outcome_counts(one_day_db_path, period="hour")
    assert counts["n"].sum() == analysis.summary(one_day_db_path).loc[0, "events"]
    launched = analysis.funnel_summary(one_day_db_path, period="hour")["launched"].sum()
    assert launched == analysis.funnel_summary(one_day_db_path).loc[0, "launched"]


def test_partial_periods_are_those_the_comparison_leaves_out(analysis_db):
    weeks = analysis.rates(analysis_db, period="week")["period"]
    assert analysis.partial_periods(analysis_db, weeks, "week") == [WEEK_B]  # the data end on a Friday
    assert analysis.partial_periods(analysis_db, weeks, "week", until="2026-10-19") == []
    cmp = analysis.compare_latest(analysis_db, period="week")
    assert cmp.attrs["partial"] == analysis.partial_periods(analysis_db, weeks, "week")
    days = analysis.rates(analysis_db, period="day")["period"]
    assert analysis.partial_periods(analysis_db, days, "day") == [pd.Timestamp("2026-10-16")]  # still running


def test_what_was_imported_into_a_database_without_redirects(no_redirects_db_path):
    totals = analysis.import_totals(no_redirects_db_path).iloc[0]
    assert (totals["imports"], totals["files"], totals["lines_read"]) == (1, 1, 500)
    assert (totals["redirects"], totals["launches"], totals["ordinary"]) == (0, 0, 500)
    paths = analysis.oauth_looking_paths(no_redirects_db_path)
    assert len(paths) and list(paths.columns) == ["path", "lines"]
    assert paths["lines"].is_monotonic_decreasing and paths["lines"].sum() <= totals["ordinary"]
    assert "/auth/google/callback" in set(paths["path"])  # the generator's other OAuth provider


def test_oauth_looking_paths_add_up_over_imports_and_drop_a_path_once_taken(tmp_path):
    from smartcar_logs.store import add_oauth_looking, oauth_looking

    db = open_db(tmp_path / "x.db")
    add_oauth_looking(db.conn, {"/auth/cb": 2, "/promo": 1})
    add_oauth_looking(db.conn, {"/auth/cb": 3})
    assert oauth_looking(db.conn) == {"/auth/cb": 5, "/promo": 1}
    db.conn.execute("INSERT INTO redirect_paths (path, how) VALUES ('/auth/cb', 'known')")
    assert oauth_looking(db.conn) == {"/promo": 1}
    empty = open_db(tmp_path / "y.db")
    assert oauth_looking(empty.conn) == {} and analysis.oauth_looking_paths(empty).empty
    assert analysis.import_totals(empty).iloc[0].tolist() == [0] * 7
