"""What every time chart shares: periods drawn as spans, ticks at period starts, partial
periods striped, percent axes labelled exactly.

One module so that the outcome mix and the rate charts cannot drift apart in how they mark
a period (issue 23: "every time chart marks periods the same way").
"""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

__all__ = [
    "ExactPercentFormatter",
    "PARTIAL_STYLE",
    "percent_axis",
    "spans",
    "time_axis",
    "partial_handle",
    "is_partial",
]


class ExactPercentFormatter(PercentFormatter):
    """Percent tick labels with as many decimals as the tick needs: 12.5%, 2.25%, 10%.

    :class:`~matplotlib.ticker.PercentFormatter` with fixed decimals prints 12.5 % as "12%"
    (a tick that lies); this one prints each tick exactly, up to 3 decimals.

    Examples
    --------
    >>> f = ExactPercentFormatter(xmax=1)
    >>> [f.format_pct(v, 1) for v in (0.125, 0.1, 0.0225, 0.3000000000000004)]
    ['12.5%', '10%', '2.25%', '30%']
    """

    def format_pct(self, x: float, display_range: float) -> str:
        """*x* in percent with the decimals it needs (``__call__`` calls this with the tick)."""
        text = f"{self.convert_to_pct(x):.3f}".rstrip("0").rstrip(".")
        return ("0" if text in ("-0", "") else text) + self.symbol


def percent_axis(axis: Any) -> None:
    """A 0..1 axis labelled in percent at round, exactly labelled ticks."""
    axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], min_n_ticks=3))
    axis.set_major_formatter(ExactPercentFormatter(xmax=1))


_PERIOD_OFFSETS = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}


def _guess_period(starts: pd.DatetimeIndex) -> str:
    if len(starts) < 2:
        return "day" if (starts == starts.normalize()).all() else "hour"
    step = starts.to_series().diff().dropna().min()
    if step <= pd.Timedelta(hours=1):
        return "hour"
    if step <= pd.Timedelta(days=1):
        return "day"
    return "week" if step <= pd.Timedelta(days=7) else "month"


def spans(periods: Any, period: str | None) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex, str]:
    """Start and end of each period (ends are the next period's start), and the period word."""
    starts = pd.DatetimeIndex(pd.to_datetime(pd.Series(periods)))
    period = period or _guess_period(starts)
    offset = pd.tseries.frequencies.to_offset(_PERIOD_OFFSETS[period])
    ends = pd.DatetimeIndex([s + offset for s in starts])
    return starts, ends, period


def time_axis(ax: Axes, starts: pd.DatetimeIndex, ends: pd.DatetimeIndex, period: str) -> None:
    """Ticks at period starts (hours for hours, Mondays for weeks), limits that fit the data.

    One period is drawn a third of the chart wide, never the whole of it.
    """
    first, last = starts.min(), ends.max()
    if len(starts) == 1:
        width = last - first
        lo, hi = first - width, last + width
    else:
        pad = (last - first) * 0.02
        lo, hi = first - pad, last + pad
    n = max(1, len(pd.date_range(first, last, freq=_PERIOD_OFFSETS[period])))
    every = max(1, int(np.ceil(n / 10)))
    if period == "hour":
        every = next((h for h in (1, 2, 3, 6, 12) if h >= every), None)
        locator = mdates.HourLocator(byhour=range(0, 24, every)) if every else mdates.DayLocator()
    elif period == "day":
        locator = mdates.DayLocator(interval=every) if every > 1 else mdates.DayLocator()
    elif period == "week":
        locator = mdates.WeekdayLocator(byweekday=mdates.MO, interval=every)
    else:
        locator = mdates.MonthLocator(interval=every)
    ax.xaxis.set_major_locator(locator)
    # The date or year the ticks leave out goes into the label: matplotlib's offset text sits
    # where the label is and runs into it on narrow charts.
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.set_xlim(mdates.date2num(lo), mdates.date2num(hi))
    last_in = ends.max() - pd.Timedelta(seconds=1)
    fmt = "%Y-%m-%d" if period == "hour" else "%Y"
    when = first.strftime(fmt) + (
        "" if last_in.strftime(fmt) == first.strftime(fmt) else f" – {last_in.strftime(fmt)}"
    )
    ax.set_xlabel(f"{period.capitalize()} (UTC, {when}; a bar spans one {period})")


#: How a partial period looks on every time chart: grey stripes over the period's bar.
PARTIAL_STYLE = {"hatch": "////", "edgecolor": "white", "linewidth": 0}


def partial_handle(period: str) -> Patch:
    return Patch(facecolor="0.65", label=f"partial {period} (not all of it in range)", **PARTIAL_STYLE)


def is_partial(starts: pd.DatetimeIndex, partial: Any) -> np.ndarray:
    marked = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(partial), dtype=object)))
    return np.asarray(starts.isin(marked))
