"""Analysis of the Connect redirects in the database: outcomes, rates, attempts, funnel, vehicles.

Every function here takes the database (a :class:`sqlite_utils.Database` or a path to one) and
returns a :class:`pandas.DataFrame`.  The aggregation runs in SQLite (``GROUP BY``), so only
summary rows reach pandas, however large the database is.

Conventions shared by all functions
-----------------------------------
Date range
    ``since`` is inclusive and ``until`` is exclusive: ``since="2026-10-01", until="2026-11-01"``
    is the whole of October.  Either may be None (open-ended).  Accepts an ISO date string
    (``"2026-10-01"``), an ISO datetime string, a :class:`datetime.date` or a
    :class:`datetime.datetime` (naive means UTC).  Timestamps in the database are UTC, so days,
    weeks and months are UTC calendar periods.
Period
    ``"day"``, ``"week"`` (ISO weeks, starting Monday) or ``"month"``.  The ``period`` column
    holds the first day of each period as a pandas timestamp.  Where ``period=None`` is allowed,
    the result is one row for the whole range.
Test traffic
    Redirects with ``is_test = 1`` (Smartcar test VINs, the ``SIMULATED`` make) are left out
    unless ``include_test=True``.  A launch whose ``state`` came back on a test redirect is test
    traffic too.
Reloads
    A redirect that arrives again with the same ``state``, ``outcome`` and error code (a browser
    reload, a replayed link) is one *event*: it counts once, at its first timestamp.  Pass
    ``dedupe=False`` to count raw log lines instead.  Redirects without a ``state`` cannot be
    matched, so each one counts as its own event; functions that group by ``state`` report them
    as ``stateless_redirects`` rather than dropping them.
Rates
    *denial rate* = ``access_denied`` / (success + error), *failure rate* = errors /
    (success + error).  ``empty`` redirects (no recognised keys) are in neither numerator nor
    denominator.  Each rate comes with a Wilson score interval (95 % by default).

Modules, one per question (each notebook maps onto one or two of them)
----------------------------------------------------------------------
``outcomes``
    Headline numbers, outcomes, denial and failure rates, error codes, period comparisons.
``retries``
    Attempts (redirects grouped by ``state``): reloads, retries, recovery.
``conversion``
    The funnel launch → redirect → success, abandonment, time to complete.
``vehicles``
    Incompatible vehicles and the VIN cross-check.
``imported``
    What the imports brought in, for a database without redirects.
``stats``
    The Wilson interval and the two-proportion test behind every rate.
``_sql``
    Shared SQL: date bounds, periods, filters, the reloads-collapsed events.

No module is named after a function it exports (``attempts``, ``funnel``): importing such a
submodule would rebind ``analysis.attempts`` from the function to the module.
"""

from __future__ import annotations

from ._sql import MIN_PERIOD_EVENTS, PERIODS, DbLike, bounds, check_period, choose_period, connect, data_range
from .conversion import (
    CONVERSION_WINDOW_MINUTES,
    funnel,
    funnel_caveats,
    funnel_steps,
    funnel_summary,
    time_to_complete,
)
from .imported import import_totals, oauth_looking_paths
from .outcomes import (
    MIN_N,
    compare_latest,
    compare_periods,
    error_codes,
    outcome_counts,
    partial_periods,
    rates,
    summary,
)
from .retries import RETRY_WINDOW_MINUTES, attempt_summary, attempts
from .stats import compare_proportions, holm, wilson_interval
from .vehicles import (
    UNKNOWN,
    brand_families,
    incompatible_vehicles,
    same_family,
    vehicle_disagreements,
    vin_agreement,
)

__all__ = [
    "PERIODS",
    "CONVERSION_WINDOW_MINUTES",
    "RETRY_WINDOW_MINUTES",
    "MIN_N",
    "MIN_PERIOD_EVENTS",
    "UNKNOWN",
    "DbLike",
    "connect",
    "bounds",
    "check_period",
    "wilson_interval",
    "compare_proportions",
    "holm",
    "choose_period",
    "data_range",
    "import_totals",
    "oauth_looking_paths",
    "summary",
    "outcome_counts",
    "error_codes",
    "rates",
    "compare_periods",
    "compare_latest",
    "partial_periods",
    "attempts",
    "attempt_summary",
    "funnel",
    "funnel_caveats",
    "funnel_steps",
    "funnel_summary",
    "time_to_complete",
    "incompatible_vehicles",
    "vin_agreement",
    "vehicle_disagreements",
    "brand_families",
    "same_family",
]
