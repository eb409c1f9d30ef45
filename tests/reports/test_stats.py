"""The report statistics on their own: percentiles, Poisson intervals, quarters, person-quarters."""

import statistics
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postmortems.reports.periods import Quarter, ReportError, Step, person_quarters
from postmortems.reports.stats import MEDIAN, P90, percentile, poisson_interval


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=2, max_size=40))
def test_percentiles_interpolate_like_statistics_inclusive(values: list[int]) -> None:
    data = sorted(Decimal(v) for v in values)
    assert percentile(data, MEDIAN) == statistics.quantiles(data, n=2, method="inclusive")[0]
    assert percentile(data, P90) == statistics.quantiles(data, n=10, method="inclusive")[8]


def test_percentiles_of_even_odd_and_no_values() -> None:
    assert percentile([Decimal(1), Decimal(2), Decimal(10)], MEDIAN) == 2
    assert percentile([Decimal(1), Decimal(2), Decimal(4), Decimal(10)], MEDIAN) == 3
    assert percentile([Decimal(1), Decimal(2), Decimal(4), Decimal(10)], P90) == Decimal("8.2")
    assert percentile([Decimal(7)], P90) == 7
    assert percentile([], MEDIAN) is None


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
