"""Matplotlib charts for the frames :mod:`smartcar_logs.analysis` returns.

Each function follows matplotlib's helper convention: it takes the ``ax`` to draw on and a
DataFrame, draws, and returns the ``ax``; the caller owns the figure
(``fig, ax = plt.subplots()``).  Colours are the Okabe-Ito palette, which stays distinguishable
with the common colour-vision deficiencies; rates are on percent axes.

Examples
--------
>>> import matplotlib.pyplot as plt
>>> from smartcar_logs import analysis, plots
>>> fig, ax = plt.subplots(figsize=(9, 4))  # doctest: +SKIP
>>> plots.plot_denial_rate(ax, analysis.rates(db, period="week"))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ._timeaxis import (
    PARTIAL_STYLE,
    ExactPercentFormatter,
    is_partial,
    partial_handle,
    percent_axis,
    spans,
    time_axis,
)
from .analysis import MIN_N, UNKNOWN
from .redirect import NO_MODEL

__all__ = [
    "compact",
    "ExactPercentFormatter",
    "OKABE_ITO",
    "CATEGORY_COLORS",
    "plot_rate",
    "plot_denial_rate",
    "plot_outcome_mix",
    "plot_funnel",
    "plot_top_incompatible",
    "plot_make_year_heatmap",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

#: One fixed colour per outcome category, so every chart agrees.
CATEGORY_COLORS = {
    "success": OKABE_ITO["bluish_green"],
    "denied": OKABE_ITO["vermillion"],
    "exited": OKABE_ITO["orange"],
    "incompatible": OKABE_ITO["blue"],
    "account": OKABE_ITO["reddish_purple"],
    "system": OKABE_ITO["sky_blue"],
    "other": OKABE_ITO["yellow"],
    "empty": OKABE_ITO["grey"],
    "error": OKABE_ITO["vermillion"],
}
_CATEGORY_ORDER = list(CATEGORY_COLORS)
_CYCLE = [
    OKABE_ITO[k]
    for k in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "yellow")
]

_N_LABELS = {"n": "n (success + error redirects)", "launched": "n (launches)"}


def _no_data(ax: Axes, title: str, message: str = "No data in this range") -> Axes:
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def compact(n: Any) -> str:
    """A count as a short label: ``950``, ``2.1k``, ``18k``, ``1.2M``.

    Examples
    --------
    >>> [compact(v) for v in (950, 2140, 18_400, 1_230_000)]
    ['950', '2.1k', '18k', '1.2M']
    """
    v = float(n)
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            q = v / size
            text = f"{q:.1f}" if abs(q) < 10 else f"{q:.0f}"
            return text.removesuffix(".0") + suffix
    return f"{int(round(v))}"


def _shorten(text: Any, limit: int = 32) -> str:
    s = str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def plot_rate(
    ax: Axes,
    frame: pd.DataFrame,
    rate: str = "denial_rate",
    n: str = "n",
    label: str | None = None,
    color: str = OKABE_ITO["vermillion"],
    min_n: int = MIN_N,
    title: str | None = None,
    show_n: bool = True,
    n_label: str | None = None,
    period: str | None = None,
    partial: Any = (),
) -> Axes:
    """A rate over time with its interval, and n as grey bars on a second axis.

    Every period is drawn as a span, from its start to the next one's: the n bar fills it,
    the interval is a box in its middle and the rate a point at its centre.  Partial periods
    (*partial*) are striped.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    frame : pandas.DataFrame
        With ``period``, *rate*, ``{rate}_lo``, ``{rate}_hi`` and *n* columns, as from
        :func:`smartcar_logs.analysis.rates` or ``funnel_summary(period=...)``.
    rate : str, default "denial_rate"
    n : str, default "n"
        The denominator column, drawn as bars.
    label : str, optional
        Legend and y-axis label; defaults to *rate* in words.
    color : str
    min_n : int, default :data:`smartcar_logs.analysis.MIN_N`
        Periods with fewer than *min_n* are drawn as hollow markers: their rate is shaky.
    title : str, optional
    show_n : bool, default True
    n_label : str, optional
        Label of the n axis; derived from *n* when None.
    period : {"hour", "day", "week", "month"}, optional
        What a row of *frame* spans; guessed from the spacing of ``period`` when None.
    partial : iterable of date-like, optional
        Periods the data covers only in part
        (:func:`smartcar_logs.analysis.partial_periods`): striped, with a legend entry.

    Returns
    -------
    matplotlib.axes.Axes
        *ax* (the n bars are on a twin axis behind it).
    """
    label = label or rate.replace("_", " ").capitalize()
    title = title or f"{label} with 95% Wilson interval"
    data = frame.dropna(subset=["period"]).sort_values("period")
    if data.empty or data[n].sum() == 0:
        return _no_data(ax, title)
    starts, ends, period = spans(data["period"], period)
    widths = ends - starts
    centre = starts + widths / 2
    striped = is_partial(starts, partial)
    handles: list[Any] = []
    if show_n:
        ax2 = ax.twinx()
        bars = ax2.bar(starts, data[n], width=widths * 0.9, color="0.85", align="edge", zorder=0, label="n")
        for bar, partly in zip(bars, striped):
            if partly:
                bar.set(**PARTIAL_STYLE)
        n_label = n_label or _N_LABELS.get(n, f"n ({n.replace('_', ' ')})")
        ax2.set_ylabel(n_label, color="0.4")
        ax2.tick_params(axis="y", colors="0.4")
        ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax2.set_ylim(0, max(data[n].max(), 1) * 3)  # keep the bars in the lower third
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
    else:
        for lo, hi in zip(starts[striped], ends[striped]):
            ax.axvspan(lo, hi, facecolor="0.9", zorder=0, **PARTIAL_STYLE)
    lo, hi = data[f"{rate}_lo"].to_numpy(dtype=float), data[f"{rate}_hi"].to_numpy(dtype=float)
    drawn = ~(np.isnan(lo) | np.isnan(hi))
    if drawn.any():  # a box per period, so that a lone period shows its interval too
        ax.bar(
            centre[drawn],
            (hi - lo)[drawn],
            bottom=lo[drawn],
            width=widths[drawn] * 0.5,
            color=color,
            alpha=0.2,
            linewidth=0,
            label="95% interval",
        )
    values = data[rate].to_numpy(dtype=float)
    if np.isfinite(values).sum() > 1:
        ax.plot(centre, values, color=color, linewidth=1.5)
    big = (data[n] >= min_n).to_numpy()
    shown = np.isfinite(values)
    if (big & shown).any():
        ax.scatter(centre[big & shown], values[big & shown], color=color, zorder=3, s=22, label=label)
    small = ~big & (data[n] > 0).to_numpy() & shown
    if small.any():
        ax.scatter(
            centre[small],
            values[small],
            facecolors="white",
            edgecolors=color,
            zorder=3,
            s=22,
            label=f"{label}, n < {min_n}",
        )
    percent_axis(ax.yaxis)
    top = float(np.nanmax(hi)) if drawn.any() else 1.0
    ax.set_ylim(0, min(1.0, max(0.1, top * 1.3)))  # room for the legend above the boxes
    ax.set_ylabel(label)
    ax.set_title(title)
    ax.grid(axis="y", color="0.9")
    time_axis(ax, starts, ends, period)
    if striped.any():
        handles.append(partial_handle(period))
    ax.legend(
        handles=ax.get_legend_handles_labels()[0] + handles,
        loc="best",
        frameon=True,
        framealpha=0.85,
        edgecolor="none",
        fontsize="small",
    )
    return ax


def plot_denial_rate(ax: Axes, frame: pd.DataFrame, **kwargs: Any) -> Axes:
    """The denial rate over time (access_denied / (success + error)) with band and n.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    frame : pandas.DataFrame
        From :func:`smartcar_logs.analysis.rates`.
    **kwargs
        Passed to :func:`plot_rate`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    kwargs.setdefault("label", "Denial rate")
    kwargs.setdefault("title", "Denial rate (access_denied / success + error), 95% Wilson interval")
    return plot_rate(ax, frame, "denial_rate", **kwargs)


def plot_outcome_mix(
    ax: Axes,
    frame: pd.DataFrame,
    by: str | None = None,
    title: str = "Outcome mix",
    max_keys: int = 8,
    period: str | None = None,
    partial: Any = (),
) -> Axes:
    """Stacked bars of outcome shares per period, each bar spanning its period.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    frame : pandas.DataFrame
        Long form with ``period``, *by* and ``n``, as from
        :func:`smartcar_logs.analysis.outcome_counts`.
    by : str, optional
        The key column; guessed (``category``, ``outcome`` or ``error_code``) when None.
    title : str, default "Outcome mix"
    max_keys : int, default 8
        Keys beyond the *max_keys* - 1 largest are summed into "other (rest)".
    period : {"hour", "day", "week", "month"}, optional
        What a period spans; guessed from their spacing when None.
    partial : iterable of date-like, optional
        Periods the data covers only in part: striped, with a legend entry.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if by is None:
        by = next(c for c in ("category", "outcome", "error_code") if c in frame.columns)
    if frame.empty:
        return _no_data(ax, title)
    wide = frame.pivot_table(index="period", columns=by, values="n", aggfunc="sum", fill_value=0)
    order = wide.sum().sort_values(ascending=False).index.tolist()
    known = [k for k in _CATEGORY_ORDER if k in order]
    order = known + [k for k in order if k not in known]
    if len(order) > max_keys:
        keep, rest = order[: max_keys - 1], order[max_keys - 1 :]
        wide["other (rest)"] = wide[rest].sum(axis=1)
        order = [*keep, "other (rest)"]
    wide = wide[order]
    totals = wide.sum(axis=1)
    shares = wide.div(totals.where(totals > 0), axis=0).fillna(0)
    starts, ends, period = spans(shares.index, period)
    widths = (ends - starts) * 0.9
    bottom = np.zeros(len(shares))
    extra = iter(_CYCLE)
    for key in order:
        color = CATEGORY_COLORS.get(key) or next(extra, "0.6")
        ax.bar(
            starts,
            shares[key].to_numpy(),
            bottom=bottom,
            color=color,
            label=_shorten(key),
            width=widths,
            align="edge",
            edgecolor="white",
            linewidth=0.5,
        )
        bottom += shares[key].to_numpy()
    striped = is_partial(starts, partial)
    if striped.any():
        ax.bar(
            starts[striped],
            bottom[striped],
            width=widths[striped],
            align="edge",
            fill=False,
            **PARTIAL_STYLE,
        )
    # n above the bars, compact and thinned out so that labels never run together
    label_every = max(1, int(np.ceil(len(starts) / 24)))
    centre = starts + widths / 2
    for xi, total in list(zip(centre, totals))[::label_every]:
        ax.text(
            xi, 1.01, compact(total), ha="center", va="bottom", fontsize="x-small", color="0.4",
            rotation=90 if len(starts) > 12 else 0,
        )  # fmt: skip
    percent_axis(ax.yaxis)
    ax.set_ylim(0, 1.15 if len(starts) > 12 else 1.08)
    ax.set_ylabel("Share of the period's redirects")
    time_axis(ax, starts, ends, period)
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()[0] + ([partial_handle(period)] if striped.any() else [])
    ax.legend(
        handles=handles, title=by.replace("_", " "), loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False
    )
    return ax


def plot_funnel(ax: Axes, frame: pd.DataFrame, title: str = "Connection funnel") -> Axes:
    """Horizontal funnel bars: Connect launched → redirect received → success.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    frame : pandas.DataFrame
        From :func:`smartcar_logs.analysis.funnel` (``step``, ``n``, ``share_of_launches``,
        ``share_of_previous``).
    title : str, default "Connection funnel"

    Returns
    -------
    matplotlib.axes.Axes
    """
    if frame.empty or frame["n"].iloc[0] == 0:
        return _no_data(ax, title, "No launches recorded (smartcar-logs import --launch-path PATH)")
    colors = [OKABE_ITO["sky_blue"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"]]
    y = np.arange(len(frame))[::-1]
    first = frame["n"].iloc[0]
    ax.barh(y, frame["n"], color=(colors * 2)[: len(frame)], height=0.6)
    for i, (yi, row) in enumerate(zip(y, frame.itertuples())):
        text = compact(row.n)
        if i == 1:
            text += f" ({row.share_of_launches:.0%} of launches)"
        elif i > 1:  # say the step before only where it differs from "of launches"
            prev = frame["step"].iloc[i - 1].lower()
            text += f" ({row.share_of_launches:.0%} of launches, {row.share_of_previous:.0%} of {prev})"
        ax.text(row.n + first * 0.01, yi, text, va="center", fontsize="small")
    ax.set_yticks(y)
    ax.set_yticklabels(frame["step"])
    ax.set_xlim(0, first * 1.05)
    ax.set_xticks([])  # the bars carry their numbers
    ax.spines["bottom"].set_visible(False)
    for t in ax.texts:  # labels of long bars go inside them, in white
        x_end = t.get_position()[0]
        if x_end > first * 0.55:
            t.set_x(x_end - first * 0.02)
            t.set_ha("right")
            t.set_color("white")
    ax.set_xlabel("Launch attempts (distinct states)")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_top_incompatible(
    ax: Axes,
    frame: pd.DataFrame,
    top: int = 10,
    title: str = "Top incompatible vehicles",
) -> Axes:
    """Horizontal bars of the most frequent incompatible makes (or make + model).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    frame : pandas.DataFrame
        From :func:`smartcar_logs.analysis.incompatible_vehicles` with ``by="make"`` or
        ``by="make_model"``.
    top : int, default 10
    title : str

    Returns
    -------
    matplotlib.axes.Axes
        Redirects without a make are not a bar (they would top the chart and say nothing
        about which vehicles fail); say their share in the text around the chart.  The
        percentages are of all incompatible redirects, those without a make included.
    """
    data = frame[frame["make"].ne(UNKNOWN)]
    if data.empty:
        return _no_data(ax, title, "No incompatible redirect carried a make")
    data = data.sort_values("n", ascending=False, kind="stable").head(top)
    if "model" in data.columns:
        labels = [
            f"{_shorten(m, 20)} {_shorten(mo, 20) if mo != UNKNOWN else NO_MODEL}"
            for m, mo in zip(data["make"], data["model"])
        ]
    else:
        labels = [_shorten(m) for m in data["make"]]
    # At least five rows' room, bars from the top: one make is one bar, not a block filling the chart.
    rows = max(len(data), 5)
    y = rows - 1 - np.arange(len(data))
    ax.barh(y, data["n"], color=OKABE_ITO["blue"], height=0.7)
    ax.set_ylim(-0.5, rows - 0.5)
    for yi, (n, share) in zip(y, zip(data["n"], data["share"])):
        ax.text(n, yi, f" {compact(n)} ({share:.0%})", va="center", fontsize="small")
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_xlim(0, data["n"].max() * 1.25)
    ax.set_xticks([])  # the bars carry their numbers
    ax.spines["bottom"].set_visible(False)
    ax.set_xlabel("Incompatible-vehicle redirects (% of all of them)")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_make_year_heatmap(
    ax: Axes,
    frame: pd.DataFrame,
    top_makes: int = 12,
    max_years: int = 20,
    title: str = "Incompatible vehicles by make and model year",
    cmap: str = "Blues",
) -> Axes:
    """Heatmap of incompatible redirects, makes down, model years across, counts annotated.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    frame : pandas.DataFrame
        From :func:`smartcar_logs.analysis.incompatible_vehicles` with ``by="make_year"``.
        Rows without a year are left out (their count is in the x label).
    top_makes : int, default 12
        Only the makes with the most redirects.
    max_years : int, default 20
        Show at most this many model years, ending at the newest; older years are summed
        into one "≤ year" column (VIN years of old cars are often a 30-year-cycle misread).
    title : str
    cmap : str, default "Blues"
        A sequential map from light to dark: more redirects, darker cell; no redirect, no
        colour at all.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if frame.empty:
        return _no_data(ax, title)
    dated = frame.dropna(subset=["year"])
    dated = dated[dated["make"].ne(UNKNOWN)]  # no make: no row to put it in
    undated = int(frame.loc[frame["year"].isna(), "n"].sum())
    if dated.empty:
        return _no_data(ax, title, "No model years known")
    makes = dated.groupby("make")["n"].sum().sort_values(ascending=False).head(top_makes).index
    data = dated[dated["make"].isin(makes)].assign(year=lambda d: d["year"].astype(int))
    newest, oldest = int(data["year"].max()), int(data["year"].min())
    cut = max(oldest, newest - max_years + 2) if newest - oldest + 1 > max_years else oldest
    years: list[Any] = list(range(cut, newest + 1))
    if cut > oldest:
        older = f"≤{cut - 1}"
        data = data.assign(year=data["year"].where(data["year"] >= cut, older))
        years = [older, *years]
    grid = data.pivot_table(index="make", columns="year", values="n", aggfunc="sum", fill_value=0)
    grid = grid.reindex(index=makes, columns=years, fill_value=0)
    values = grid.to_numpy(dtype=float)
    vmax = float(np.nanmax(values)) if values.size else 1.0
    # Start the colours a little above zero, so a count of 1 is visibly coloured and zero
    # (NaN, not drawn) stays the white background.
    image = ax.imshow(
        np.where(values > 0, values, np.nan), aspect="auto", cmap=cmap, vmin=-0.15 * vmax, vmax=vmax
    )
    ax.set_facecolor("white")
    if values.size <= 600:
        for (i, j), v in np.ndenumerate(values):
            if v > 0:
                ax.text(
                    j,
                    i,
                    compact(v),
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="white" if v > vmax * 0.55 else "black",
                )
    ax.set_yticks(range(len(grid.index)))
    ax.set_yticklabels([_shorten(m, 24) for m in grid.index])
    ax.set_xticks(range(len(years)))
    ax.set_xticklabels([str(c) for c in years], rotation=90)
    xlabel = "Model year (Connect's, else the VIN's)"
    if undated:
        xlabel += f"; {undated:,} without a year not shown"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Make")
    ax.set_title(title)
    colorbar = ax.figure.colorbar(
        image, ax=ax, label="Incompatible-vehicle redirects", fraction=0.04, pad=0.02
    )
    # Counts: whole numbers from 1 (the scale starts below 1 only to colour a 1). A locator
    # alone falls back to 0.15 steps when every cell is 1, and ticks the negative margin.
    ticks = MaxNLocator(integer=True, min_n_ticks=1).tick_values(1, max(vmax, 1))
    colorbar.set_ticks([t for t in ticks if 1 <= t <= max(vmax, 1)])
    return ax
