"""The one formatter of amounts and counts people read, on every page, report, Markdown and PDF
(JSON keeps exact decimal strings). Babel writes the digits as the locale does, so the Russian
locale only changes `LOCALE`. Amounts are shown exactly: never rounded, digits grouped, money
with at least its currency's minor units (12,345.60 EUR, 1,200 JPY)."""

from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import NumberPattern, get_currency_precision, is_currency, parse_pattern

LOCALE = Locale.parse("en")
NO_VALUE = "—"


# A report lists thousands of amounts: the locale parsed once and each pattern once keep a
# value's formatting to a few microseconds (format_decimal parses both on every call).
@cache
def _pattern(places: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * places if places else ""))


@cache
def _minor_digits(currency: str | None) -> int:
    """A currency's minor-unit digits (2 for EUR, 0 for JPY); 0 for a unit that is none."""
    return get_currency_precision(currency) if currency and is_currency(currency) else 0


def amount(value: Decimal | None, currency: str | None = None) -> str:
    """An exact decimal with grouped digits; money (`currency` an ISO code) with at least the
    currency's minor-unit digits, more when the value has them (never rounded). A money kind
    measured in another unit ("months of profit") is shown as a plain number."""
    if value is None:
        return NO_VALUE
    pattern = _pattern(_minor_digits(currency))
    return str(pattern.apply(value.normalize(), LOCALE, decimal_quantization=False))


def count(value: int) -> str:
    """A whole number with grouped digits (12,345)."""
    return str(_pattern(0).apply(value, LOCALE))


def estimate(
    low: Decimal | None, likely: Decimal | None, high: Decimal | None, currency: str | None
) -> str:
    """A low – likely – high range in one line, a point estimate (all three equal) once; a
    bound not given reads "?"."""
    if low == likely == high and likely is not None:
        return amount(likely, currency)
    return " – ".join("?" if v is None else amount(v, currency) for v in (low, likely, high))
