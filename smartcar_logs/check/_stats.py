"""The tests: one-sided, exact, and corrected for how many signals one check tests.

A share in the window is compared with the same share in the baseline by Fisher's exact test
(one-sided), i.e. the hypergeometric tail: given the events of both periods together, how
likely is it that the window drew this many or more (fewer) of them by chance? It needs no
normal approximation at a hundred redirects an hour, and an error code the baseline never saw
is judged on both periods' counts rather than on a share of zero.
"""

from __future__ import annotations

import math

from scipy.stats import hypergeom

__all__ = ["p_more", "p_fewer", "p_silence", "holm"]


def p_more(k: int, n: int, k_base: int, n_base: int) -> float:
    """P(at least *k* of *n* window events | the window and baseline shares are equal)."""
    if n == 0 or k == 0:
        return 1.0
    return float(min(1.0, hypergeom.sf(k - 1, n + n_base, k + k_base, n)))


def p_fewer(k: int, n: int, k_base: int, n_base: int) -> float:
    """P(at most *k* of *n* window events | the window and baseline shares are equal)."""
    if n == 0:
        return 1.0
    return float(min(1.0, hypergeom.cdf(k, n + n_base, k + k_base, n)))


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
