"""Charts: each helper draws on the given ax, returns it, and is labelled, percent-scaled, cb-safe."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from fixtures_analysis import SCRIPT_MAKE  # noqa: E402
from smartcar_logs import analysis, plots  # noqa: E402

OKABE_ITO = {c.lower() for c in plots.OKABE_ITO.values()}


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_denial_rate_plot_band_n_and_percent_axis(ax, analysis_db):
    frame = analysis.rates(analysis_db, since="2026-10-01", until="2026-10-19", period="week")
    out = plots.plot_denial_rate(ax, frame, min_n=11)
    assert out is ax
    assert "Denial rate" in ax.get_title() and ax.get_ylabel() == "Denial rate"
    assert ax.get_xlabel()
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    # the rate line: 0.3 and 0.25 for the two weeks with data, NaN for the empty one
    line = ax.get_lines()[0]
    assert np.allclose(line.get_ydata()[1:], [0.3, 0.25]) and np.isnan(line.get_ydata()[0])
    assert to_hex(line.get_color()) in OKABE_ITO
    # the Wilson interval: a box per period with data, from lo to hi
    boxes = [c for c in ax.containers if c.get_label() == "95% interval"][0]
    assert np.allclose([b.get_y() for b in boxes], frame["denial_rate_lo"].dropna())
    assert np.allclose([b.get_y() + b.get_height() for b in boxes], frame["denial_rate_hi"].dropna())
    # the n bars live on the twin axis
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert [p.get_height() for p in twin.patches] == [0, 10, 12]
    assert "n" in twin.get_ylabel()
    # week A has n = 10 < min_n, so it is drawn hollow and the legend says so
    assert any(t.get_text() == "Denial rate, n < 11" for t in ax.get_legend().get_texts())
    hollow = [c for c in ax.collections if c.get_label() == "Denial rate, n < 11"][0]
    assert hollow.get_offsets().shape[0] == 1


def test_rate_plot_with_no_data(ax):
    empty = pd.DataFrame(columns=["period", "n", "denial_rate", "denial_rate_lo", "denial_rate_hi"])
    plots.plot_denial_rate(ax, empty)
    assert "No data" in " ".join(_texts(ax))


def test_outcome_mix_is_stacked_shares(ax, analysis_db):
    frame = analysis.outcome_counts(analysis_db, period="week", by="category")
    assert plots.plot_outcome_mix(ax, frame) is ax
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    assert ax.get_title() and ax.get_ylabel() and ax.get_xlabel()
    # each week's bars stack to 100 %, each bar starting on its week's Monday
    tops = {}
    for patch in ax.patches:
        x = mdates.num2date(patch.get_x()).strftime("%a %Y-%m-%d")
        tops[x] = max(tops.get(x, 0), patch.get_y() + patch.get_height())
    assert tops == {"Mon 2026-10-05": pytest.approx(1.0), "Mon 2026-10-12": pytest.approx(1.0)}
    # fixed category colours from the Okabe-Ito palette
    legend = {
        t.get_text(): to_hex(h.get_facecolor())
        for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles)
    }
    assert legend["success"] == plots.CATEGORY_COLORS["success"].lower()
    assert legend["denied"] == plots.CATEGORY_COLORS["denied"].lower()
    assert set(legend.values()) <= OKABE_ITO
    assert ["11", "12"] == _texts(ax)  # n above the bars


def test_funnel_plot(ax, analysis_db):
    assert plots.plot_funnel(ax, analysis.funnel(analysis_db)) is ax
    assert [p.get_width() for p in ax.patches] == [10, 8, 5]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Connect launched",
        "Redirect received",
        "Success",
    ]
    assert any("50% of launches" in t for t in _texts(ax))
    assert ax.get_title() and ax.get_xlabel()


def test_funnel_plot_without_launches(ax):
    frame = pd.DataFrame(
        {
            "step": ["Connect launched", "Redirect received", "Success"],
            "n": [0, 0, 0],
            "share_of_launches": [np.nan] * 3,
            "share_of_previous": [np.nan] * 3,
        }
    )
    plots.plot_funnel(ax, frame)
    assert "--launch-path" in " ".join(_texts(ax))


def test_top_incompatible_bars(ax, analysis_db):
    frame = analysis.incompatible_vehicles(analysis_db, by="make_model")
    assert plots.plot_top_incompatible(ax, frame, top=3) is ax
    assert len(ax.patches) == 3
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "AUDI A3"  # largest at the top
    assert ax.get_xlabel() and ax.get_title()
    colours = {to_hex(p.get_facecolor()) for p in ax.patches}
    assert colours <= OKABE_ITO
    # redirects without a make are not a bar (the text says their share): issue 12
    by_make = analysis.incompatible_vehicles(analysis_db, by="make")
    fig, ax2 = plt.subplots()
    plots.plot_top_incompatible(
        ax2,
        pd.concat([by_make, pd.DataFrame([{"make": analysis.UNKNOWN, "n": 9, "share": 0.5, "from_vin": 0}])]),
    )
    labels = [t.get_text() for t in ax2.get_yticklabels()]
    assert len(ax2.patches) == len(by_make) and analysis.UNKNOWN not in labels
    plt.close(fig)


def test_make_year_heatmap(ax, analysis_db):
    frame = analysis.incompatible_vehicles(analysis_db, by="make_year")
    assert plots.plot_make_year_heatmap(ax, frame) is ax
    image = ax.get_images()[0].get_array()
    # makes down (AUDI first: 3), years 2015..2020 across
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2015", "2016", "2017", "2018", "2019", "2020"]
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "AUDI"
    assert np.nansum(image) == 5
    assert sorted(_texts(ax)) == ["1"] * 5
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_heatmap_folds_old_years(ax):
    frame = pd.DataFrame(
        {
            "make": ["A", "A", "A"],
            "year": pd.array([1985, 2010, 2026], dtype="Int64"),
            "n": [1, 2, 3],
            "share": [1 / 6, 2 / 6, 3 / 6],
            "from_vin": [0, 0, 0],
        }
    )
    plots.plot_make_year_heatmap(ax, frame, max_years=5)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["≤2022", "2023", "2024", "2025", "2026"]
    assert np.nansum(ax.get_images()[0].get_array()) == 6


def test_figures_render_with_hostile_labels(analysis_db, tmp_path):
    """Makes like <script> end up as text in a PNG: rendering must not choke on them."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    plots.plot_top_incompatible(axes[0], analysis.incompatible_vehicles(analysis_db, by="make"))
    plots.plot_make_year_heatmap(axes[1], analysis.incompatible_vehicles(analysis_db, by="make_year"))
    assert SCRIPT_MAKE in [t.get_text() for t in axes[0].get_yticklabels()]
    fig.savefig(tmp_path / "x.png")
    plt.close(fig)
    assert (tmp_path / "x.png").stat().st_size > 1000


def test_heatmap_colour_grows_with_the_count_and_zero_is_empty(ax):
    frame = pd.DataFrame({"make": ["AUDI", "AUDI", "FORD"], "year": pd.array([2015, 2016, 2015], dtype="Int64"),
                          "n": [1, 50, 7], "share": [0.02, 0.86, 0.12], "from_vin": [0, 0, 0]})  # fmt: skip
    plots.plot_make_year_heatmap(ax, frame)
    image = ax.images[0]
    rgba = image.cmap(image.norm(image.get_array()))
    lum = rgba[..., :3] @ [0.299, 0.587, 0.114]
    makes = [t.get_text() for t in ax.get_yticklabels()]
    audi, ford = makes.index("AUDI"), makes.index("FORD")
    assert lum[audi, 1] < lum[ford, 0] < lum[audi, 0] < 0.97  # 50 darkest, 1 lightest but coloured
    assert np.ma.is_masked(image.get_array()[ford, 1]) or np.isnan(image.get_array()[ford, 1])  # zero: empty


def test_compact_labels():
    assert [plots.compact(v) for v in (7, 950, 2140, 18_400, 1_230_000)] == [
        "7",
        "950",
        "2.1k",
        "18k",
        "1.2M",
    ]


# --- small, odd and empty data (issue 23, item 5) -----------------------------------------------


def _drawn_labels(ax):
    """Labels of the artists that put ink on *ax*: a bar or box of some size, a line or points."""
    labels = set()
    for c in ax.containers:
        if any(p.get_width() > 0 and p.get_height() > 0 for p in c.patches):
            labels.add(c.get_label())
    for c in ax.collections:
        if len(c.get_offsets()) or any(len(p.vertices) > 2 for p in c.get_paths()):
            labels.add(c.get_label())
    labels |= {line.get_label() for line in ax.get_lines() if np.isfinite(line.get_ydata()).any()}
    return labels


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _ticks(ax, axis="x"):
    ax.figure.canvas.draw()
    return [t.get_text() for t in getattr(ax, f"get_{axis}ticklabels")() if t.get_text()]


def test_one_day_is_charted_by_the_hour(ax, one_day_db_path):
    period = analysis.choose_period(one_day_db_path)
    assert period == "hour"
    frame = analysis.rates(one_day_db_path, period=period)
    plots.plot_denial_rate(ax, frame, period=period)
    assert isinstance(ax.xaxis.get_major_locator(), mdates.HourLocator)
    labels = _ticks(ax)
    assert labels and all(len(t) == 5 and t[2] == ":" for t in labels), labels  # "03:00", "06:00", ...
    lo, hi = ax.get_xlim()
    assert hi - lo < 1.1  # the axis spans the day, not years around one point
    assert "Hour (UTC, 2026-10-01" in ax.get_xlabel()
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert isinstance(twin.yaxis.get_major_locator(), MaxNLocator)
    assert all(float(t).is_integer() for t in _ticks(twin, "y"))  # counts have no fractions


def test_a_lone_period_is_drawn_with_its_interval_and_does_not_fill_the_chart(ax):
    frame = pd.DataFrame({"period": [pd.Timestamp("2026-10-01")], "n": [40], "launched": [40],
                          "abandonment_rate": [0.2], "abandonment_rate_lo": [0.1],
                          "abandonment_rate_hi": [0.35]})  # fmt: skip
    plots.plot_rate(
        ax, frame, "abandonment_rate", n="launched", label="Abandonment", show_n=False, period="day"
    )
    assert set(_legend(ax)) <= _drawn_labels(ax)  # no legend entry for something not drawn
    assert "95% interval" in _legend(ax)
    box = [c for c in ax.containers if c.get_label() == "95% interval"][0].patches[0]
    assert box.get_height() == pytest.approx(0.25)
    lo, hi = ax.get_xlim()
    assert box.get_width() / (hi - lo) < 0.4
    # one day by day: the ticks are days, not the hours of that one day
    assert isinstance(ax.xaxis.get_major_locator(), mdates.DayLocator)


def test_a_lone_outcome_bar_does_not_fill_the_chart(ax):
    frame = pd.DataFrame({"period": [pd.Timestamp("2026-10-05")] * 2, "category": ["success", "denied"],
                          "n": [3, 1], "share": [0.75, 0.25]})  # fmt: skip
    plots.plot_outcome_mix(ax, frame, period="week")
    lo, hi = ax.get_xlim()
    assert all(p.get_width() / (hi - lo) < 0.4 for p in ax.patches)
    assert _legend(ax) == ["success", "denied"]


def test_legend_names_only_what_is_drawn(ax, one_day_db_path):
    frame = analysis.rates(one_day_db_path, period="hour")
    plots.plot_denial_rate(ax, frame, period="hour")
    assert set(_legend(ax)) <= _drawn_labels(ax)
    # every hour here has fewer than MIN_N redirects: no filled-point entry, only the hollow one
    assert "Denial rate" not in _legend(ax) and f"Denial rate, n < {analysis.MIN_N}" in _legend(ax)


def test_partial_periods_are_striped_on_every_time_chart(analysis_db):
    frame = analysis.rates(analysis_db, period="week")
    partial = analysis.partial_periods(analysis_db, frame["period"], "week")
    assert partial  # the fixture's range starts and ends mid-week
    fig, axes = plt.subplots(3, 1)
    plots.plot_denial_rate(axes[0], frame, period="week", partial=partial)
    plots.plot_rate(axes[1], frame, "failure_rate", show_n=False, period="week", partial=partial)
    counts = analysis.outcome_counts(analysis_db, period="week", by="category")
    plots.plot_outcome_mix(axes[2], counts, period="week", partial=partial)
    for ax in axes:
        assert "partial week (not all of it in range)" in _legend(ax)
        striped = [p for a in fig.axes for p in a.patches if p.get_hatch() and p.get_x() < 1e6]
        starts = {mdates.num2date(p.get_x()).date() for p in striped}
        assert starts and starts <= {p.date() for p in partial}
    plt.close(fig)
    fig, ax = plt.subplots()
    plots.plot_denial_rate(ax, frame, period="week")  # nothing partial: nothing striped, no entry
    assert not any(p.get_hatch() for a in fig.axes for p in a.patches)
    assert not any("partial" in t for t in _legend(ax))
    plt.close(fig)


def test_time_charts_mark_periods_the_same_way(analysis_db):
    """Spans: every bar starts at its period's start and is most of the period wide; ticks at starts."""
    fig, axes = plt.subplots(2, 1)
    frame = analysis.rates(analysis_db, period="week")
    plots.plot_denial_rate(axes[0], frame, period="week")
    plots.plot_outcome_mix(axes[1], analysis.outcome_counts(analysis_db, period="week"), period="week")
    for ax in fig.axes:
        for c in ax.containers:
            for p in c.patches:
                start, mid = mdates.num2date(p.get_x()), mdates.num2date(p.get_x() + p.get_width() / 2)
                if c.get_label() == "95% interval":  # the interval: a box in the middle of the week
                    assert (mid.weekday(), mid.hour) == (3, 12)
                else:  # n and outcome bars: from the Monday, most of the week wide
                    assert (start.weekday(), start.hour) == (0, 0)
                    assert p.get_width() == pytest.approx(7 * 0.9)
    for ax in axes:
        assert isinstance(ax.xaxis.get_major_locator(), mdates.WeekdayLocator)
        assert all(mdates.num2date(t).weekday() == 0 for t in ax.get_xticks())
        assert "a bar spans one week" in ax.get_xlabel()
    plt.close(fig)


def test_rate_ticks_are_labelled_exactly(ax):
    frame = pd.DataFrame({"period": pd.date_range("2026-10-01", periods=3), "n": [40, 40, 40],
                          "denial_rate": [0.05, 0.08, 0.09], "denial_rate_lo": [0.02, 0.05, 0.06],
                          "denial_rate_hi": [0.1, 0.105, 0.11]})  # fmt: skip
    plots.plot_denial_rate(ax, frame)
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    labels = _ticks(ax, "y")
    for t in ax.get_yticklabels():  # each label says its tick's value exactly
        if t.get_text():
            assert float(t.get_text().rstrip("%")) == pytest.approx(t.get_position()[1] * 100)
    assert "12.5%" in labels  # ticks every 2.5 points, not rounded to "12%"
    f = plots.ExactPercentFormatter(xmax=1)
    assert [f.format_pct(v, 1) for v in (0.125, 0.1, 0.0225, 0.3 + 4e-16, 0)] == [
        "12.5%",
        "10%",
        "2.25%",
        "30%",
        "0%",
    ]


def test_heatmap_colour_bar_counts_in_whole_numbers(ax):
    frame = pd.DataFrame({"make": ["AUDI", "FORD"], "year": pd.array([2015, 2016], dtype="Int64"),
                          "n": [1, 2], "share": [1 / 3, 2 / 3], "from_vin": [0, 0]})  # fmt: skip
    plots.plot_make_year_heatmap(ax, frame)
    bar = ax.figure.axes[-1]
    labels = _ticks(bar, "y")
    assert labels and all(t.isdigit() and int(t) >= 1 for t in labels), labels


@pytest.mark.parametrize("n", [1, 40])
def test_heatmap_colour_bar_when_every_cell_is_one_count(n):
    """A one-day log: every make/year cell is 1 (the locator alone ticked 0.15 steps)."""
    fig, ax = plt.subplots()
    frame = pd.DataFrame({"make": ["AUDI", "FORD"], "year": pd.array([2015, 2016], dtype="Int64"),
                          "n": [n, n], "share": [0.5, 0.5], "from_vin": [0, 0]})  # fmt: skip
    plots.plot_make_year_heatmap(ax, frame)
    labels = _ticks(fig.axes[-1], "y")
    assert labels and all(t.isdigit() and 1 <= int(t) <= n for t in labels), labels
    plt.close(fig)


def test_one_incompatible_make_is_one_bar_not_a_block(ax):
    plots.plot_top_incompatible(
        ax, pd.DataFrame({"make": ["HONDA"], "n": [3], "share": [1.0], "from_vin": [0]})
    )
    (bar,) = ax.patches
    lo, hi = ax.get_ylim()
    assert bar.get_height() / (hi - lo) < 0.2
    assert bar.get_y() + bar.get_height() > hi - 1  # at the top, where a longer list starts
    assert [t.get_text() for t in ax.get_yticklabels()] == ["HONDA"]
