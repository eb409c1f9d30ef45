"""Money totals of month pieces: full ranges (low, likely and high given) summed bound by
bound in exact Decimal; estimates without a full range kept apart, their likely summed."""

from decimal import Decimal

from postmortems.reports.month_piece import RangeTotal


def test_equal_full_ranges_are_summed_bound_by_bound() -> None:
    total = RangeTotal.of(Decimal("1.10"), Decimal(2), Decimal("3.5"), 3)
    assert total == RangeTotal(3, Decimal("3.30"), Decimal(6), Decimal("10.5"))


def test_an_estimate_without_a_full_range_is_kept_apart() -> None:
    assert RangeTotal.of(None, Decimal("10.50"), Decimal("20"), 3) == RangeTotal(
        apart=3, apart_given=3, apart_likely=Decimal("31.50")
    )
    assert RangeTotal.of(Decimal(1), None, Decimal(2), 1) == RangeTotal(apart=1)


def test_totals_add_part_by_part() -> None:
    total = RangeTotal() + RangeTotal.of(Decimal("1.10"), Decimal(2), Decimal(3), 2)
    total += RangeTotal.of(Decimal("0.05"), Decimal("0.10"), Decimal("0.15"), 1)
    total += RangeTotal.of(Decimal("0.05"), Decimal(9), None, 1)
    assert total == RangeTotal(
        3, Decimal("2.25"), Decimal("4.10"), Decimal("6.15"), 1, 1, Decimal(9)
    )
    assert str(total.low) == "2.25"
    assert total.low <= total.likely <= total.high
