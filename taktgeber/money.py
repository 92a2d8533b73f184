"""Money rules, written once: Decimal amounts, half-up rounding to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """A JSON number or string as Decimal, without passing through binary float."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def round_money(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Half-up rounding (DESIGN.md §7): 0.005 → 0.01, -0.005 → -0.01."""
    return value.quantize(places, rounding=ROUND_HALF_UP)


def round_days(value: Decimal) -> Decimal:
    """KPI days to 0.1, half-up."""
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
