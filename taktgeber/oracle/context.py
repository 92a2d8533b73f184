"""What every check, draft and KPI reads: the world, its reference data, links, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from taktgeber.money import round_money
from taktgeber.oracle.links import Links
from taktgeber.oracle.refdata import RefData
from taktgeber.oracle.world import Invoice, World


@dataclass(frozen=True)
class Settings:
    """DESIGN.md §6 defaults (dbt vars)."""

    handover_sla_business_days: int = 2
    approval_sla_business_days: int = 5
    unbilled_after_days: int = 30
    tolerance_eur: Decimal = Decimal("1.00")
    tolerance_percent: Decimal = Decimal("0.5")
    dunning_days: tuple[int, int, int] = (14, 28, 42)
    minimum_draft_eur: Decimal = Decimal(250)


@dataclass
class Context:
    world: World
    ref: RefData
    links: Links
    as_of: date
    seller_country: str = "DE"
    settings: Settings = field(default_factory=Settings)
    cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def tolerance(self, expected: Decimal, currency: str, on: date) -> Decimal:
        """max(1.00 EUR in the comparison's currency, 0.5 % of the expected amount)."""
        floor = self.settings.tolerance_eur * self.ref.fx.rate(currency, on)
        return max(floor, abs(expected) * self.settings.tolerance_percent / 100)

    def beyond_tolerance(self, expected: Decimal, actual: Decimal, currency: str, on: date) -> bool:
        return abs(expected - actual) > self.tolerance(expected, currency, on)

    # -- receivables, shared by ledger checks and KPIs -------------------------------
    def credits_to(self, invoice_id: str, until: date) -> Decimal:
        allocations = self.links.allocations_by_invoice.get(invoice_id, [])
        return sum((a.amount for a in allocations if a.date <= until), Decimal(0))

    def payments_to(self, invoice_id: str, until: date) -> Decimal:
        payments = self.links.payments_by_invoice.get(invoice_id, [])
        return sum((p.amount for p in payments if p.date <= until), Decimal(0))

    def amount_due(self, invoice: Invoice, until: date) -> Decimal:
        return (
            invoice.total - self.payments_to(invoice.id, until) - self.credits_to(invoice.id, until)
        )


@dataclass(frozen=True)
class Finding:
    check_name: str
    keys: dict[str, Any]
    amount: Decimal
    currency: str
    amount_eur: Decimal
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check_name": self.check_name,
            "keys": dict(self.keys),
            "amount_at_stake_eur": str(round_money(self.amount_eur)),
            "amount_at_stake": {"amount": str(round_money(self.amount)), "currency": self.currency},
            **self.extra,
        }


def finding(
    ctx: Context,
    check_name: str,
    keys: dict[str, Any],
    amount: Decimal,
    currency: str,
    on: date,
    **extra: Any,
) -> Finding:
    """A finding whose EUR amount uses the FX seed at the document date `on`."""
    amount = abs(amount)
    return Finding(check_name, keys, amount, currency, ctx.ref.fx.eur(amount, currency, on), extra)
