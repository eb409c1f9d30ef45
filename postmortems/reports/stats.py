"""The few statistics the reports use: percentiles by linear interpolation, exact Poisson
intervals. Pure functions, tested on their own."""

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

MEDIAN, P90 = Decimal("0.5"), Decimal("0.9")


def percentile(sorted_values: Sequence[Decimal], p: Decimal) -> Decimal | None:
    """The `p` percentile of sorted values by linear interpolation between closest ranks
    (numpy's default, `statistics.quantiles(method="inclusive")`); None for no values."""
    n = len(sorted_values)
    if n == 0:
        return None
    low, fraction = interpolation_rank(n, p)
    if fraction == 0:
        return sorted_values[low]
    return sorted_values[low] + fraction * (sorted_values[low + 1] - sorted_values[low])


def interpolation_rank(n: int, p: Decimal) -> tuple[int, Decimal]:
    """The 0-based rank below the `p` percentile of `n` values, and how far above it it lies."""
    h = (n - 1) * p
    low = int(h)  # h ≥ 0
    return low, h - low


def _poisson_cdf(k: int, mu: float) -> float:
    """P(X ≤ k) for X ~ Poisson(mu), summed in log space (stable for large k and mu)."""
    if mu <= 0:
        return 1.0
    # Terms more than ~12 standard deviations below the mean add nothing a float can hold.
    first = max(0, int(mu - 12 * math.sqrt(mu) - 12))
    if first > k:
        return 0.0
    log_mu = math.log(mu)
    log_terms = [i * log_mu - mu - math.lgamma(i + 1) for i in range(first, k + 1)]
    top = max(log_terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in log_terms))


def _solve(k: int, target: float) -> float:
    """The mu at which P(X ≤ k; mu) = target (the CDF falls as mu grows), by bisection."""
    spread = 10 * math.sqrt(k + 1) + 10
    lo, hi = max(0.0, k - spread), k + spread
    for _ in range(64):
        mid = (lo + hi) / 2
        if _poisson_cdf(k, mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def poisson_interval(count: int, confidence: float = 0.90) -> tuple[float, float]:
    """The exact (Garwood) two-sided interval for a Poisson mean from one observed `count`."""
    tail = (1 - confidence) / 2
    lower = 0.0 if count == 0 else _solve(count - 1, 1 - tail)
    upper = _solve(count, tail)
    return lower, upper


def ratio(part: int, whole: int) -> Fraction | None:
    return None if whole == 0 else Fraction(part, whole)
