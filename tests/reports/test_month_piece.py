"""Money totals of month pieces: exact Decimal sums of low / likely / high, and how many
estimates gave each bound (a missing bound adds nothing and is not counted)."""

from decimal import Decimal

from postmortems.reports.month_piece import RangeTotal


def test_a_total_of_equal_estimates_counts_only_the_bounds_they_give() -> None:
    total = RangeTotal.of(None, Decimal("10.50"), Decimal("20"), 3)
    assert total == RangeTotal(3, Decimal(0), Decimal("31.50"), Decimal("60"), 0, 3, 3)


def test_totals_add_bound_by_bound() -> None:
    total = RangeTotal() + RangeTotal.of(Decimal("1.10"), Decimal(2), None, 2)
    total += RangeTotal.of(Decimal("0.05"), None, Decimal(9), 1)
    assert total == RangeTotal(3, Decimal("2.25"), Decimal(4), Decimal(9), 3, 2, 1)
    assert str(total.low) == "2.25"
