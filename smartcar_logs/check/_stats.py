"""The tests: one-sided, exact, and corrected for how many signals one check tests.

A share in the window is compared with the same share in the baseline by Fisher's exact test
(one-sided), i.e. the hypergeometric tail: given the events of both periods together, how
likely is it that the window drew this many or more (fewer) of them by chance? It needs no
normal approximation at a hundred redirects an hour, and an error code the baseline never saw
is judged on both periods' counts rather than on a share of zero.

The tails are summed here rather than taken from ``scipy.stats``: importing it costs 1.5-5 s
(measured on the 2-core test machine), more than the whole check may take from cron; the
tests compare these with scipy's.
"""

from __future__ import annotations

import math

__all__ = ["p_more", "p_fewer", "p_silence", "holm", "hypergeom_sf", "hypergeom_cdf"]

_EPS = 1e-17  # a term this small beside the sum so far no longer changes a double


def _log_choose(a: int, b: int) -> float:
    return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)


def _pmf(x: int, N: int, K: int, n: int) -> float:
    return math.exp(_log_choose(K, x) + _log_choose(N - K, n - x) - _log_choose(N, n))


def _sum_up(k: int, hi: int, N: int, K: int, n: int) -> float:
    """P(k <= X <= hi), for k above the mode: the terms fall from k on."""
    term = total = _pmf(k, N, K, n)
    x = k
    while x < hi and term > total * _EPS:
        term *= (K - x) * (n - x) / ((x + 1) * (N - K - n + x + 1))
        x += 1
        total += term
    return total


def _sum_down(k: int, lo: int, N: int, K: int, n: int) -> float:
    """P(lo <= X <= k), for k below the mode: the terms fall from k down."""
    term = total = _pmf(k, N, K, n)
    x = k
    while x > lo and term > total * _EPS:
        term *= x * (N - K - n + x) / ((K - x + 1) * (n - x + 1))
        x -= 1
        total += term
    return total


def hypergeom_sf(k: int, N: int, K: int, n: int) -> float:
    """P(X >= k) for X hypergeometric: *n* draws from *N* of which *K* are marked."""
    lo, hi = max(0, n - (N - K)), min(K, n)
    if k <= lo:
        return 1.0
    if k > hi:
        return 0.0
    mode = (n + 1) * (K + 1) // (N + 2)
    if k > mode:
        return min(1.0, _sum_up(k, hi, N, K, n))
    return max(0.0, 1.0 - _sum_down(k - 1, lo, N, K, n))


def hypergeom_cdf(k: int, N: int, K: int, n: int) -> float:
    """P(X <= k), as :func:`hypergeom_sf`."""
    lo, hi = max(0, n - (N - K)), min(K, n)
    if k < lo:
        return 0.0
    if k >= hi:
        return 1.0
    mode = (n + 1) * (K + 1) // (N + 2)
    if k < mode:
        return min(1.0, _sum_down(k, lo, N, K, n))
    return max(0.0, 1.0 - _sum_up(k + 1, hi, N, K, n))


def p_more(k: int, n: int, k_base: int, n_base: int) -> float:
    """P(at least *k* of *n* window events | the window and baseline shares are equal)."""
    if n == 0 or k == 0:
        return 1.0
    return hypergeom_sf(k, n + n_base, k + k_base, n)


def p_fewer(k: int, n: int, k_base: int, n_base: int) -> float:
    """P(at most *k* of *n* window events | the window and baseline shares are equal)."""
    if n == 0:
        return 1.0
    return hypergeom_cdf(k, n + n_base, k + k_base, n)


def p_silence(expected: float) -> float:
    """P(no redirect at all | Poisson arrivals at the baseline's rate, *expected* in the window)."""
    return math.exp(-expected) if expected > 0 else 1.0


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error rate over all of them)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
