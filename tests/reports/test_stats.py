"""The report statistics on their own: percentiles, Poisson intervals, quarters, person-quarters."""

import statistics
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from postmortems.reports.periods import Quarter, ReportError, Step, person_quarters
from postmortems.reports.stats import (
    MEDIAN,
    P90,
    counted_percentiles,
    percentiles,
    poisson_interval,
)


def _inclusive(values: list[int]) -> tuple[Decimal, Decimal]:
    """Median and p90 by the standard library: the independent recomputation."""
    data = sorted(Decimal(v) for v in values)
    return (
        statistics.quantiles(data, n=2, method="inclusive")[0],
        statistics.quantiles(data, n=10, method="inclusive")[8],
    )


@given(st.lists(st.lists(st.integers(min_value=0, max_value=10**15), max_size=20), max_size=5))
def test_percentiles_of_sorted_parts_interpolate_like_statistics_inclusive(
    parts: list[list[int]],
) -> None:
    values = [v for part in parts for v in part]
    assume(len(values) >= 2)
    arrays = [np.array(sorted(part), dtype=np.int64) for part in parts]
    assert percentiles(arrays, (MEDIAN, P90)) == _inclusive(values)


@given(st.dictionaries(st.integers(min_value=0, max_value=10**6), st.integers(1, 50), max_size=30))
def test_percentiles_of_counted_values_interpolate_like_statistics_inclusive(
    counts: dict[int, int],
) -> None:
    values = [value for value, n in counts.items() for _ in range(n)]
    assume(len(values) >= 2)
    assert counted_percentiles(counts, (MEDIAN, P90)) == _inclusive(values)


def test_percentiles_of_even_odd_and_no_values() -> None:
    def of(*values: int) -> tuple[Decimal, ...] | None:
        return percentiles([np.array(values, dtype=np.int64)], (MEDIAN, P90))

    assert of(1, 2, 10) == (2, Decimal("8.4"))
    assert of(1, 2, 4, 10) == (3, Decimal("8.2"))
    assert of(7) == (7, 7)
    assert of() is None
    assert counted_percentiles({}, (MEDIAN,)) is None


def test_percentiles_divide_each_value_by_the_unit_before_interpolating() -> None:
    microseconds = [np.array([1_500_000, 2_000_001], dtype=np.int64)]
    assert percentiles(microseconds, (MEDIAN,), Decimal(1_000_000)) == (Decimal("1.7500005"),)


@pytest.mark.parametrize(
    ("count", "lower", "upper"),
    # Exact 90 % limits from published tables (Garwood, chi-square quantiles ÷ 2).
    [(0, 0.0, 2.996), (1, 0.0513, 4.744), (3, 0.8177, 7.754), (10, 5.425, 16.962)],
)
def test_exact_poisson_interval(count: int, lower: float, upper: float) -> None:
    low, high = poisson_interval(count)
    assert low == pytest.approx(lower, abs=5e-4)
    assert high == pytest.approx(upper, abs=5e-4)


def test_quarters_parse_and_step() -> None:
    q = Quarter.parse("2020Q4")
    assert (q.first_day, q.last_day, q.days) == (date(2020, 10, 1), date(2020, 12, 31), 92)
    assert (q.previous.label, q.year_before.label, q.next.label) == ("2020Q3", "2019Q4", "2021Q1")
    for bad in ("2020Q5", "2020q4", "20Q4", "99999Q1", "2101Q1", ""):
        with pytest.raises(ReportError):
            Quarter.parse(bad)


def test_person_quarters_of_a_full_quarter_and_a_team_ending_at_zero() -> None:
    steps = [Step(date(2020, 1, 1), date(2020, 2, 15), 10), Step(date(2020, 2, 15), None, 0)]
    assert person_quarters(steps, date(2020, 1, 1), date(2020, 4, 1)) == Fraction(10 * 45, 91)
    full = [Step(date(2019, 6, 1), None, 10)]
    assert person_quarters(full, date(2020, 4, 1), date(2020, 7, 1)) == 10
