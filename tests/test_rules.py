from decimal import Decimal

import pytest

from taktgeber.keys import draft_key, is_draft_reference
from taktgeber.money import round_days, round_money, to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.005", "0.01"), ("-0.005", "-0.01"), ("2.344", "2.34"), ("2.345", "2.35")],
)
def test_round_money_is_half_up(value, expected):
    assert round_money(Decimal(value)) == Decimal(expected)


def test_round_days_to_tenth_half_up():
    assert round_days(Decimal("41.25")) == Decimal("41.3")


def test_to_decimal_does_not_leak_binary_float():
    assert to_decimal(0.1) == Decimal("0.1")


def test_draft_key_is_order_independent_and_shaped():
    key = draft_key([3, 1, 2])
    assert key == draft_key(["2", "3", "1"])
    assert key.startswith("TG-") and len(key) == 15
    assert is_draft_reference(key)
    assert not is_draft_reference("INV-0001")


def test_draft_key_value_is_sha256_of_sorted_ids():
    import hashlib

    assert draft_key([20, 3]) == "TG-" + hashlib.sha256(b"20,3").hexdigest()[:12]


def test_allocate_cents_adds_up_exactly_and_follows_the_weights():
    from taktgeber.money import allocate_cents

    parts = allocate_cents(
        Decimal("65.84"), [Decimal("100.00"), Decimal("100.00"), Decimal("146.50")]
    )
    assert sum(parts) == Decimal("65.84")
    assert parts == [Decimal("19.00"), Decimal("19.00"), Decimal("27.84")]
    # a cent that can't be split evenly goes to the largest remainder, earlier line on ties
    assert allocate_cents(Decimal("0.01"), [Decimal(1), Decimal(1)]) == [
        Decimal("0.01"),
        Decimal("0.00"),
    ]
    assert allocate_cents(Decimal("-0.03"), [Decimal(1), Decimal(2)]) == [
        Decimal("-0.01"),
        Decimal("-0.02"),
    ]
    assert allocate_cents(Decimal("5.00"), []) == []
