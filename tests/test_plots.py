"""Charts: each helper draws on the given ax, returns it, and is labelled, percent-scaled, cb-safe."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

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
    # the Wilson band
    assert len(ax.collections) >= 1
    # the n bars live on the twin axis
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert [p.get_height() for p in twin.patches] == [0, 10, 12]
    assert "n" in twin.get_ylabel()
    # week A has n = 10 < min_n, so it is drawn hollow and the legend says so
    assert any(t.get_text() == "n < 11" for t in ax.get_legend().get_texts())
    hollow = [c for c in ax.collections if c.get_label() == "n < 11"][0]
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
    # each week's bars stack to 100 %
    tops = {}
    for patch in ax.patches:
        x = round(patch.get_x() + patch.get_width() / 2)
        tops[x] = max(tops.get(x, 0), patch.get_y() + patch.get_height())
    assert tops == {0: pytest.approx(1.0), 1: pytest.approx(1.0)}
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
