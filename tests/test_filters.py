"""Display filters show stored values exactly: no rounding, no float."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from postmortems.filters import THOUSANDS_SEPARATOR as SEP
from postmortems.filters import format_amount, format_datetime, format_duration


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
