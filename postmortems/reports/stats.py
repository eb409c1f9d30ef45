"""The few statistics the reports use: percentiles by linear interpolation, exact Poisson
intervals. Pure functions, tested on their own."""

import functools
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

import numpy as np

MEDIAN, P90 = Decimal("0.5"), Decimal("0.9")


def _ranks(n: int, p: Decimal) -> list[int]:
    """The 0-based ranks the `p` percentile of `n` values lies between (one when it hits one)."""
    low, fraction = interpolation_rank(n, p)
    return [low] if fraction == 0 else [low, low + 1]


def interpolation_rank(n: int, p: Decimal) -> tuple[int, Decimal]:
    """The 0-based rank below the `p` percentile of `n` values, and how far above it it lies."""
    h = (n - 1) * p
    low = int(h)  # h ≥ 0
    return low, h - low


def _interpolated(at: Mapping[int, Decimal], n: int, p: Decimal) -> Decimal:
    """The `p` percentile of `n` values from the values `at` the ranks around it."""
    low, fraction = interpolation_rank(n, p)
    if fraction == 0:
        return at[low]
    return at[low] + fraction * (at[low + 1] - at[low])


def percentiles(
    parts: Sequence[np.ndarray], ps: Sequence[Decimal], unit: Decimal = Decimal(1)
) -> tuple[Decimal, ...] | None:
    """The `ps` percentiles of the whole numbers of every part (int64 arrays, each sorted), by
    linear interpolation between closest ranks (numpy's default, `statistics.quantiles(method=
    "inclusive")`), in Decimal from the exact values at those ranks divided by `unit`; None
    for no values. Only the ranks around each percentile are put in place (np.partition), not
    every value sorted."""
    present = [part for part in parts if len(part)]
    if not present:
        return None
    values = np.concatenate(present) if len(present) > 1 else present[0]
    n = len(values)
    ranks = sorted({r for p in ps for r in _ranks(n, p)})
    chosen = np.partition(values, ranks) if len(present) > 1 else values
    at = {r: Decimal(int(chosen[r])) / unit for r in ranks}
    return tuple(_interpolated(at, n, p) for p in ps)


def counted_percentiles(
    counts: Mapping[int, int], ps: Sequence[Decimal]
) -> tuple[Decimal, ...] | None:
    """The `ps` percentiles of whole numbers given as value → how many, as `percentiles`."""
    total = sum(counts.values())
    if total == 0:
        return None
    ranks = sorted({r for p in ps for r in _ranks(total, p)})
    at: dict[int, Decimal] = {}
    below = 0
    for value in sorted(counts):
        n = counts[value]
        at.update({r: Decimal(value) for r in ranks if below <= r < below + n})
        below += n
    return tuple(_interpolated(at, total, p) for p in ps)


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X ≤ k) for X ~ Poisson(mu), summed in log space (stable for large k and mu): the
    largest term from its logarithm, the others from it by the terms' ratio mu / i."""
    if mu <= 0:
        return 1.0
    # Terms more than ~12 standard deviations below the mean add nothing a float can hold.
    first = max(0, int(mu - 12 * math.sqrt(mu) - 12))
    if first > k:
        return 0.0
    top = min(k, max(first, int(mu)))  # the largest term: at floor(mu), within first..k
    log_top = top * math.log(mu) - mu - math.lgamma(top + 1)
    total, term = 1.0, 1.0
    for i in range(top, first, -1):  # down: term(i - 1) = term(i) * i / mu
        term *= i / mu
        total += term
        if term < 1e-17 * total:
            break
    term = 1.0
    for i in range(top + 1, k + 1):  # up: term(i) = term(i - 1) * mu / i
        term *= mu / i
        total += term
        if term < 1e-17 * total:
            break
    return min(1.0, math.exp(log_top) * total)


def _solve(k: int, target: float) -> float:
    """The mu at which P(X ≤ k; mu) = target (the CDF falls as mu grows): Newton's method on
    the CDF, whose derivative in mu is −P(X = k), kept inside a shrinking bracket (a step
    that would leave it bisects instead)."""
    spread = 10 * math.sqrt(k + 1) + 10
    lo, hi = max(0.0, k - spread), k + spread
    mu = (lo + hi) / 2
    for _ in range(200):
        excess = _poisson_cdf(k, mu) - target
        if excess > 0:
            lo = mu
        else:
            hi = mu
        density = math.exp(k * math.log(mu) - mu - math.lgamma(k + 1)) if mu > 0 else 0.0
        step = mu + excess / density if density > 0 else (lo + hi) / 2
        if not lo < step < hi:
            step = (lo + hi) / 2
        if abs(step - mu) <= 1e-12 * max(1.0, mu) or hi - lo <= 1e-12 * max(1.0, mu):
            return step
        mu = step
    return mu


@functools.lru_cache(maxsize=4096)  # a pure function of two numbers, asked again on each report
def poisson_interval(count: int, confidence: float = 0.90) -> tuple[float, float]:
    """The exact (Garwood) two-sided interval for a Poisson mean from one observed `count`."""
    tail = (1 - confidence) / 2
    lower = 0.0 if count == 0 else _solve(count - 1, 1 - tail)
    upper = _solve(count, tail)
    return lower, upper


def ratio(part: int, whole: int) -> Fraction | None:
    return None if whole == 0 else Fraction(part, whole)
