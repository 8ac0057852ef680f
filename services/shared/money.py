"""Money arithmetic shared by every service (docs/design.md "Rules with numbers":
money): amounts are Decimals in the currency's major unit, rounded half up to
cents; never a float."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    """`value` (Decimal, int or decimal string) as a Decimal rounded half up to
    cents, e.g. `money("10.005") == Decimal("10.01")`."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# The largest amount a Numeric(12, 2) money column holds (schemas.common Money.MAX):
# PostgreSQL refuses more (numeric field overflow), SQLite would store it silently.
MAX_AMOUNT = Decimal("9999999999.99")
