"""Display filters show stored values exactly: no rounding, no float."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from postmortems.filters import format_amount, format_datetime, format_duration
from postmortems.numbers import count, estimate

SEP = ","  # Babel's grouping for the English locale (numbers.LOCALE)


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (Decimal("12345.67"), "RUB", f"12{SEP}345.67"),
        (Decimal("12345.670000"), "RUB", f"12{SEP}345.67"),
        (Decimal("400000"), "RUB", f"400{SEP}000.00"),
        (Decimal("1500"), None, f"1{SEP}500"),
        (Decimal("0.000001"), None, "0.000001"),
        (Decimal("999999999999999999.999999"), "USD", "999" + f"{SEP}999" * 5 + ".999999"),
        (Decimal("0"), "EUR", "0.00"),
        (None, "EUR", "—"),
        (Decimal("1200"), "JPY", f"1{SEP}200"),  # no minor unit
        (Decimal("1200.5"), "JPY", f"1{SEP}200.5"),  # kept, never rounded
        (Decimal("0.1"), "BHD", "0.100"),  # three minor digits
    ],
)
def test_format_amount_never_rounds(value, currency, shown) -> None:
    assert format_amount(value, currency) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (timedelta(days=3, hours=1, minutes=30), "3 d 1 h 30 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(minutes=59, seconds=59), "59 min"),
        (timedelta(0), "0 min"),
        (None, "—"),
    ],
)
def test_format_duration(value, shown) -> None:
    assert format_duration(value) == shown


def test_format_datetime_shows_the_configured_zone(app_config) -> None:
    from tests.conftest import new_app

    app = new_app({**app_config, "TIMEZONE": "Europe/Moscow"})
    with app.app_context():
        assert format_datetime(datetime(2020, 8, 17, 9, 30, tzinfo=UTC)) == "2020-08-17 12:30"
    app.extensions["db_engine"].dispose()


def test_inline_code_shows_backticks_as_code_and_escapes_the_rest() -> None:
    from postmortems.filters import inline_code

    assert inline_code("Split `bin_threshold` <b>now</b>") == (
        "Split <code>bin_threshold</code> &lt;b&gt;now&lt;/b&gt;"
    )


def test_counts_group_their_digits() -> None:
    assert count(1234567) == f"1{SEP}234{SEP}567"


def test_an_estimate_reads_as_one_range_and_a_point_once() -> None:
    assert estimate(Decimal(15_000_000), Decimal(24_000_000), Decimal(36_000_000), "RUB") == (
        f"15{SEP}000{SEP}000.00 – 24{SEP}000{SEP}000.00 – 36{SEP}000{SEP}000.00"
    )
    assert estimate(Decimal(6), Decimal(6), Decimal(6), None) == "6"
    assert estimate(None, Decimal(400), None, None) == "? – 400 – ?"
