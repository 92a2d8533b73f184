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


def allocate_cents(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` (to the cent) over `weights` so the parts add up to it exactly:
    each part rounded down to the cent in proportion, then the leftover cents one by one
    to the largest remainders (earlier lines first on ties). Used to send a draft's tax
    (computed once per category, DESIGN.md §7) as per-line TaxAmount."""
    base = sum(weights, Decimal(0))
    if not weights:
        return []
    if base == 0:
        return [total] + [Decimal("0.00")] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    cents = int((abs(total) / CENT).to_integral_value())
    exact = [Decimal(cents) * w / base for w in weights]
    floors = [int(e) for e in exact]
    leftover = cents - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [sign * Decimal(f) * CENT for f in floors]
