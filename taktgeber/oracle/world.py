"""Read a fixture folder (DESIGN.md §11) into small typed records.

Records keep the source's own ids (Harvest int, HubSpot str, Xero uuid str) and parse
every number as Decimal and every date as ``datetime.date`` (UTC day).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from taktgeber.money import to_decimal

_XERO_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def parse_date(value: object) -> date | None:
    """ISO date, ISO datetime (``Z`` allowed) or Xero ``/Date(ms+0000)/`` → UTC date."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value)
    match = _XERO_DATE.fullmatch(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    if len(text) == 10:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date()


def dec(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    return to_decimal(value)


def dec0(value: object) -> Decimal:
    return dec(value) or Decimal(0)


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _str(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    vat_id: str | None
    country: str | None
    payment_terms_days: int
    cash_discount_percent: Decimal
    cash_discount_days: int
    invoice_grouping: str


@dataclass(frozen=True)
class Deal:
    id: str
    name: str
    amount: Decimal
    closedate: date | None
    stage: str | None
    currency: str | None
    billing_model: str | None
    parent_deal_id: str | None
    company_id: str | None
    line_item_ids: tuple[str, ...]

    @property
    def is_won(self) -> bool:
        return self.stage == "closedwon"

    @property
    def is_change_request(self) -> bool:
        return self.parent_deal_id is not None


@dataclass(frozen=True)
class LineItem:
    id: str
    name: str
    quantity: Decimal
    price: Decimal
    amount: Decimal
    service_type: str | None
    billing_date: date | None
    requires_acceptance: bool
    accepted_date: date | None


@dataclass(frozen=True)
class Client:
    id: int
    name: str
    currency: str


@dataclass(frozen=True)
class Project:
    id: int
    client_id: int
    currency: str
    code: str | None
    is_billable: bool
    is_fixed_fee: bool
    cost_budget: Decimal | None
    fee: Decimal | None
    starts_on: date | None
    ends_on: date | None
    created_on: date | None


@dataclass(frozen=True)
class Work:
    """A Harvest time entry (kind ``time``) or expense (kind ``expense``)."""

    kind: str
    id: int
    project_id: int
    client_id: int | None
    task_name: str | None
    spent_date: date
    hours: Decimal
    billable: bool
    billable_rate: Decimal | None
    total_cost: Decimal
    is_closed: bool
    invoice_number: str | None

    @cached_property
    def value(self) -> Decimal:
        if self.kind == "time":
            return self.hours * (self.billable_rate or Decimal(0))
        return self.total_cost

    @property
    def key_name(self) -> str:
        return "harvest_time_entry_id" if self.kind == "time" else "harvest_expense_id"


@dataclass(frozen=True)
class Contact:
    id: str
    number: str | None
    name: str
    tax_number: str | None
    is_customer: bool


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str | None
    type: str
    status: str
    contact_id: str | None
    date: date
    due_date: date | None
    currency: str
    rate: Decimal
    subtotal: Decimal
    total_tax: Decimal
    total: Decimal
    reference: str | None


@dataclass(frozen=True)
class Allocation:
    invoice_id: str
    amount: Decimal
    date: date


@dataclass(frozen=True)
class CreditNote:
    id: str
    type: str
    status: str
    contact_id: str | None
    date: date
    currency: str
    total: Decimal
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class Payment:
    id: str
    date: date
    amount: Decimal
    invoice_id: str | None
    account_code: str | None
    status: str


@dataclass(frozen=True)
class JournalLine:
    account_code: str | None
    account_type: str | None
    net: Decimal
    gross: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Journal:
    id: str
    number: int
    date: date
    source_type: str | None
    source_id: str | None
    lines: tuple[JournalLine, ...]


@dataclass(frozen=True)
class LedgerLine:
    kind: str  # time | expense | milestone
    quantity: Decimal
    unit_amount: Decimal
    line_amount: Decimal
    source_ids: tuple[tuple[str, str], ...]  # (kind, id)


@dataclass(frozen=True)
class LedgerRecord:
    draft_key: str
    reference: str | None
    status: str
    pushed_on: date | None
    xero_invoice_id: str | None
    currency: str
    total: Decimal
    source_ids: frozenset[tuple[str, str]]  # (kind, id): kind time | expense | milestone
    tax_category: str | None = None
    hubspot_company_id: str | None = None
    lines: tuple[LedgerLine, ...] = ()


@dataclass
class World:
    """Everything the oracle reads from one fixture folder."""

    companies: dict[str, Company] = field(default_factory=dict)
    deals: dict[str, Deal] = field(default_factory=dict)
    line_items: dict[str, LineItem] = field(default_factory=dict)
    clients: dict[int, Client] = field(default_factory=dict)
    projects: dict[int, Project] = field(default_factory=dict)
    tasks: dict[int, str] = field(default_factory=dict)
    work: list[Work] = field(default_factory=list)
    contacts: dict[str, Contact] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    journals: list[Journal] = field(default_factory=list)
    account_types: dict[str, str] = field(default_factory=dict)
    ledger: list[LedgerRecord] = field(default_factory=list)
    answer_key: dict[str, Any] = field(default_factory=dict)


_LEDGER_KINDS = {
    "harvest_time_entry_ids": "time",
    "harvest_expense_ids": "expense",
    "hubspot_line_item_ids": "milestone",
}


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle, parse_float=Decimal)
    if isinstance(data, dict):  # tolerate an envelope
        for value in data.values():
            if isinstance(value, list):
                return value
        return []
    return list(data)


def _assoc_ids(record: dict[str, Any], name: str) -> list[str]:
    assoc = (record.get("associations") or {}).get(name) or {}
    return [str(r["id"]) for r in assoc.get("results", [])]


def _int(value: object, default: int = 0) -> int:
    number = dec(value)
    return int(number) if number is not None else default


def load_world(world_dir: Path) -> World:
    world = World()
    hub, har, xero = world_dir / "hubspot", world_dir / "harvest", world_dir / "xero"
    answer = world_dir / "answer_key.json"
    if answer.exists():
        world.answer_key = json.loads(answer.read_text(encoding="utf-8"))

    for rec in _read(hub / "companies.json"):
        p = rec.get("properties") or {}
        country = _str(p.get("country"))
        world.companies[str(rec["id"])] = Company(
            id=str(rec["id"]),
            name=p.get("name") or "",
            vat_id=_str(p.get("vat_id")),
            country=country.upper() if country else None,
            payment_terms_days=_int(p.get("payment_terms_days")),
            cash_discount_percent=dec0(p.get("cash_discount_percent")),
            cash_discount_days=_int(p.get("cash_discount_days")),
            invoice_grouping=p.get("invoice_grouping") or "collective",
        )
    for rec in _read(hub / "deals.json"):
        p = rec.get("properties") or {}
        companies = _assoc_ids(rec, "companies")
        world.deals[str(rec["id"])] = Deal(
            id=str(rec["id"]),
            name=p.get("dealname") or "",
            amount=dec0(p.get("amount")),
            closedate=parse_date(p.get("closedate")),
            stage=p.get("dealstage"),
            currency=_str(p.get("deal_currency_code")),
            billing_model=_str(p.get("billing_model")),
            parent_deal_id=_str(p.get("parent_deal_id")),
            company_id=companies[0] if companies else None,
            line_item_ids=tuple(_assoc_ids(rec, "line items") or _assoc_ids(rec, "line_items")),
        )
    for rec in _read(hub / "line_items.json"):
        p = rec.get("properties") or {}
        quantity, price = dec0(p.get("quantity")), dec0(p.get("price"))
        amount = dec(p.get("amount"))
        world.line_items[str(rec["id"])] = LineItem(
            id=str(rec["id"]),
            name=p.get("name") or "",
            quantity=quantity,
            price=price,
            amount=amount if amount is not None else quantity * price,
            service_type=_str(p.get("service_type")),
            billing_date=parse_date(p.get("billing_date")),
            requires_acceptance=_bool(p.get("requires_acceptance")),
            accepted_date=parse_date(p.get("accepted_date")),
        )

    for rec in _read(har / "clients.json"):
        world.clients[int(rec["id"])] = Client(
            id=int(rec["id"]), name=rec.get("name") or "", currency=rec.get("currency") or "EUR"
        )
    for rec in _read(har / "tasks.json"):
        world.tasks[int(rec["id"])] = rec.get("name") or ""
    for rec in _read(har / "projects.json"):
        client = rec.get("client") or {}
        client_id = int(client["id"])
        currency = client.get("currency") or (
            world.clients[client_id].currency if client_id in world.clients else "EUR"
        )
        world.projects[int(rec["id"])] = Project(
            id=int(rec["id"]),
            client_id=client_id,
            currency=currency,
            code=_str(rec.get("code")),
            is_billable=_bool(rec.get("is_billable", True)),
            is_fixed_fee=_bool(rec.get("is_fixed_fee")),
            cost_budget=dec(rec.get("cost_budget")),
            fee=dec(rec.get("fee")),
            starts_on=parse_date(rec.get("starts_on")),
            ends_on=parse_date(rec.get("ends_on")),
            created_on=parse_date(rec.get("created_at")),
        )
    for kind, name in (("time", "time_entries"), ("expense", "expenses")):
        for rec in _read(har / f"{name}.json"):
            invoice = rec.get("invoice") or {}
            client = rec.get("client") or {}
            task = rec.get("task") or {}
            world.work.append(
                Work(
                    kind=kind,
                    id=int(rec["id"]),
                    project_id=int((rec.get("project") or {})["id"]),
                    client_id=int(client["id"]) if client.get("id") is not None else None,
                    task_name=task.get("name"),
                    spent_date=parse_date(rec["spent_date"]),  # type: ignore[arg-type]
                    hours=dec0(rec.get("hours")),
                    billable=_bool(rec.get("billable")),
                    billable_rate=dec(rec.get("billable_rate")),
                    total_cost=dec0(rec.get("total_cost")),
                    is_closed=_bool(rec.get("is_closed")),
                    invoice_number=_str(invoice.get("number")),
                )
            )

    for work in world.work:
        if work.project_id not in world.projects:
            name = "time_entries" if work.kind == "time" else "expenses"
            raise ValueError(
                f"harvest/{name}.json record {work.id}: project {work.project_id} is not in "
                "harvest/projects.json; export the projects together with the work"
            )

    for rec in _read(xero / "Contacts.json"):
        world.contacts[rec["ContactID"]] = Contact(
            id=rec["ContactID"],
            number=_str(rec.get("ContactNumber")),
            name=rec.get("Name") or "",
            tax_number=_str(rec.get("TaxNumber")),
            is_customer=_bool(rec.get("IsCustomer")),
        )
    for rec in _read(xero / "Invoices.json"):
        world.invoices[rec["InvoiceID"]] = Invoice(
            id=rec["InvoiceID"],
            number=_str(rec.get("InvoiceNumber")),
            type=rec.get("Type") or "",
            status=rec.get("Status") or "",
            contact_id=(rec.get("Contact") or {}).get("ContactID"),
            date=parse_date(rec.get("Date")),  # type: ignore[arg-type]
            due_date=parse_date(rec.get("DueDate")),
            currency=rec.get("CurrencyCode") or "EUR",
            rate=dec(rec.get("CurrencyRate")) or Decimal(1),
            subtotal=dec0(rec.get("SubTotal")),
            total_tax=dec0(rec.get("TotalTax")),
            total=dec0(rec.get("Total")),
            reference=_str(rec.get("Reference")),
        )
    for rec in _read(xero / "CreditNotes.json"):
        allocations = tuple(
            Allocation(
                invoice_id=(a.get("Invoice") or {}).get("InvoiceID"),
                amount=dec0(a.get("Amount")),
                date=parse_date(a.get("Date")) or parse_date(rec.get("Date")),  # type: ignore[arg-type]
            )
            for a in rec.get("Allocations") or []
        )
        world.credit_notes[rec["CreditNoteID"]] = CreditNote(
            id=rec["CreditNoteID"],
            type=rec.get("Type") or "",
            status=rec.get("Status") or "",
            contact_id=(rec.get("Contact") or {}).get("ContactID"),
            date=parse_date(rec.get("Date")),  # type: ignore[arg-type]
            currency=rec.get("CurrencyCode") or "EUR",
            total=dec0(rec.get("Total")),
            allocations=allocations,
        )
    for rec in _read(xero / "Payments.json"):
        world.payments.append(
            Payment(
                id=rec["PaymentID"],
                date=parse_date(rec.get("Date")),  # type: ignore[arg-type]
                amount=dec0(rec.get("Amount")),
                invoice_id=(rec.get("Invoice") or {}).get("InvoiceID"),
                account_code=_str((rec.get("Account") or {}).get("Code")),
                status=rec.get("Status") or "AUTHORISED",
            )
        )
    for rec in _read(xero / "Journals.json"):
        world.journals.append(
            Journal(
                id=rec["JournalID"],
                number=_int(rec.get("JournalNumber")),
                date=parse_date(rec.get("JournalDate")),  # type: ignore[arg-type]
                source_type=rec.get("SourceType"),
                source_id=rec.get("SourceID"),
                lines=tuple(
                    JournalLine(
                        account_code=_str(line.get("AccountCode")),
                        account_type=_str(line.get("AccountType")),
                        net=dec0(line.get("NetAmount")),
                        gross=dec0(line.get("GrossAmount")),
                        tax=dec0(line.get("TaxAmount")),
                    )
                    for line in rec.get("JournalLines") or []
                ),
            )
        )
    for rec in _read(xero / "Accounts.json"):
        if rec.get("Code"):
            world.account_types[str(rec["Code"])] = rec.get("Type") or ""

    for rec in _read(world_dir / "taktgeber" / "push_ledger.json"):
        ids: set[tuple[str, str]] = set()
        lines = []
        for line in rec.get("lines") or []:
            line_ids: list[tuple[str, str]] = []
            for name, values in (line.get("source_ids") or {}).items():
                kind = _LEDGER_KINDS.get(name)
                if kind:
                    line_ids.extend((kind, str(v)) for v in values)
            ids.update(line_ids)
            lines.append(
                LedgerLine(
                    kind=line.get("kind") or (line_ids[0][0] if line_ids else ""),
                    quantity=dec0(line.get("quantity")),
                    unit_amount=dec0(line.get("unit_amount")),
                    line_amount=dec0(line.get("line_amount")),
                    source_ids=tuple(line_ids),
                )
            )
        world.ledger.append(
            LedgerRecord(
                draft_key=rec["draft_key"],
                reference=_str(rec.get("reference")),
                status=rec.get("status") or "",
                pushed_on=parse_date(rec.get("pushed_at")),
                xero_invoice_id=_str(rec.get("xero_invoice_id")),
                currency=rec.get("currency") or "EUR",
                total=dec0(rec.get("total")),
                source_ids=frozenset(ids),
                tax_category=_str(rec.get("tax_category")),
                hubspot_company_id=_str(rec.get("hubspot_company_id")),
                lines=tuple(lines),
            )
        )
    return world
