"""Statistics behind every rate: Wilson intervals, rate columns and the two-proportion test."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["wilson_interval", "compare_proportions", "holm"]


def wilson_interval(k: Any, n: Any, alpha: float = 0.05) -> tuple[Any, Any]:
    """Wilson score interval for a binomial proportion *k* / *n*.

    Parameters
    ----------
    k : int or array-like
        Number of successes (e.g. denials).
    n : int or array-like
        Number of trials.  Where n is 0 the bounds are NaN.
    alpha : float, default 0.05
        1 - confidence level; 0.05 gives a 95 % interval.

    Returns
    -------
    (lower, upper) : tuple of float or numpy.ndarray
        Always inside [0, 1], also for k = 0 and k = n.

    Notes
    -----
    ``centre = (p + z²/2n) / (1 + z²/n)``, ``half = z / (1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)``
    with ``z = Φ⁻¹(1 - α/2)``.  Identical to
    ``statsmodels.stats.proportion.proportion_confint(k, n, method="wilson")`` (whose default
    method is the Wald interval, which is wrong at small n); see Newcombe (1998), method 3.

    Examples
    --------
    >>> lo, hi = wilson_interval(81, 263)
    >>> round(lo, 4), round(hi, 4)
    (0.2553, 0.3662)
    >>> wilson_interval(0, 20)[0]
    0.0
    """
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_arr / n_arr
        denom = 1 + z * z / n_arr
        centre = (p + z * z / (2 * n_arr)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n_arr + z * z / (4 * n_arr * n_arr))
        # exact at the ends (the formula leaves rounding dust like 1e-18 there)
        lo = np.where(k_arr <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        hi = np.where(k_arr >= n_arr, 1.0, np.clip(centre + half, 0.0, 1.0))
    lo = np.where(n_arr > 0, lo, np.nan)
    hi = np.where(n_arr > 0, hi, np.nan)
    if scalar:
        return float(lo), float(hi)
    return lo, hi


def add_rate(frame: pd.DataFrame, name: str, k: str, n: str, alpha: float) -> pd.DataFrame:
    kk = frame[k].astype(float)
    nn = frame[n].astype(float)
    lo, hi = wilson_interval(kk.to_numpy(), nn.to_numpy(), alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame[name] = np.where(nn > 0, kk / nn, np.nan)
    frame[f"{name}_lo"] = lo
    frame[f"{name}_hi"] = hi
    return frame


def compare_proportions(
    k1: int, n1: int, k2: int, n2: int, alpha: float = 0.05, method: str = "auto"
) -> dict[str, Any]:
    """Test whether *k2*/*n2* (after) differs from *k1*/*n1* (before).

    Parameters
    ----------
    k1, n1 : int
        Events and trials before; *n1* > 0.
    k2, n2 : int
        Events and trials after; *n2* > 0.
    alpha : float, default 0.05
        1 - confidence level of the interval of the difference.
    method : {"auto", "ztest", "fisher"}, default "auto"
        ``ztest`` is the pooled two-proportion z-test
        (``statsmodels.stats.proportion.proportions_ztest``); ``fisher`` is Fisher's exact
        test (``scipy.stats.fisher_exact``).  ``auto`` uses Fisher when any expected cell
        count is below 5, where the normal approximation is poor, and the z-test otherwise.

    Returns
    -------
    dict
        ``diff_lo``, ``diff_hi`` (Newcombe interval of after - before,
        ``confint_proportions_2indep``), ``test`` (its name) and ``p_value``.

    Examples
    --------
    >>> compare_proportions(10, 100, 30, 100)["test"]
    'z-test'
    """
    from scipy.stats import fisher_exact
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    lo, hi = confint_proportions_2indep(k2, n2, k1, n1, method="newcomb", compare="diff", alpha=alpha)
    pooled = (k1 + k2) / (n1 + n2)
    expected = min(n * q for n in (n1, n2) for q in (pooled, 1 - pooled))
    use = method if method != "auto" else ("fisher" if expected < 5 else "ztest")
    if use == "fisher":
        _, p = fisher_exact([[k2, n2 - k2], [k1, n1 - k1]])
        test = "Fisher exact"
    elif pooled in (0.0, 1.0):
        p, test = 1.0, "z-test"  # identical degenerate rates: nothing to test
    else:
        _, p = proportions_ztest([k2, k1], [n2, n1])
        test = "z-test"
    return {"diff_lo": float(lo), "diff_hi": float(hi), "test": test, "p_value": float(p)}


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjustment of p-values tested together (family-wise error rate).

    Parameters
    ----------
    p_values : array-like of float
        NaN (a test that could not run) stays NaN and does not count as a test.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, each at least the raw one and at most 1.  Reject where
        ``adjusted < alpha``.  Same as
        ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]``.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(p[idx], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out
