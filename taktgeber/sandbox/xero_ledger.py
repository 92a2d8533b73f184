"""Xero documents as the sandbox computes them: invoice and credit-note totals from line
items and tax rates (per-line tax, half-up), numbering, and the journals Xero posts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from taktgeber.money import round_money, to_decimal
from taktgeber.sandbox.store import Record, Resource, World
from taktgeber.sandbox.timefmt import any_to_ms, ms_to_date_string, ms_to_xero

BASE_CURRENCY = "EUR"
RECEIVABLES_CODE = "1400"  # DESIGN §4 account roles (receivables, output VAT)
OUTPUT_VAT_CODE = "1776"
ZERO = Decimal(0)


@dataclass(frozen=True)
class DocKind:
    collection: str
    id_field: str
    number_field: str
    types: tuple[str, ...]
    prefix: str
    unique_message: str


INVOICE = DocKind(
    "Invoices",
    "InvoiceID",
    "InvoiceNumber",
    ("ACCREC", "ACCPAY"),
    "INV-",
    "Invoice # must be unique.",
)
CREDIT_NOTE = DocKind(
    "CreditNotes",
    "CreditNoteID",
    "CreditNoteNumber",
    ("ACCRECCREDIT", "ACCPAYCREDIT"),
    "CN-",
    "Credit Note # must be unique.",
)
KINDS = {"Invoices": INVOICE, "CreditNotes": CREDIT_NOTE}
KINDS_BY_TYPE = {
    "ACCREC": INVOICE,
    "ACCPAY": INVOICE,
    "ACCRECCREDIT": CREDIT_NOTE,
    "ACCPAYCREDIT": CREDIT_NOTE,
}


def money(value: Decimal) -> float:
    return float(round_money(value))


def parse_date(value: Any) -> int:
    """A request date (`2019-03-11`, an ISO datetime or `/Date()/`) → ms at UTC midnight."""
    ms = any_to_ms(value)
    if ms is None:
        raise ValueError("empty date")
    return ms - ms % 86_400_000


def _derived(resource: Resource, name: str, build: Any) -> Any:
    """`build(resource)`, kept on the resource until its next change (reference data such
    as tax rates, accounts and contacts is read for every document written)."""
    hit = resource.derived.get(name)
    if hit is None or hit[0] != resource.version:
        hit = (resource.version, build(resource))
        resource.derived[name] = hit
    return hit[1]


def tax_rates(world: World) -> dict[str, Decimal]:
    return _derived(  # type: ignore[no-any-return]
        world.get("xero", "TaxRates"),
        "rates",
        lambda res: {
            str(r["TaxType"]): to_decimal(r.get("EffectiveRate") or 0)
            for r in (e.rec for e in res.entries)
        },
    )


def tax_rates_by_type(world: World) -> dict[str, Record]:
    return _derived(  # type: ignore[no-any-return]
        world.get("xero", "TaxRates"),
        "by_type",
        lambda res: {str(e.rec["TaxType"]): e.rec for e in res.entries},
    )


def accounts_by_code(world: World) -> dict[str, Record]:
    return _derived(  # type: ignore[no-any-return]
        world.get("xero", "Accounts"),
        "by_code",
        lambda res: {str(e.rec.get("Code")): e.rec for e in res.entries},
    )


def _first_by(field: str, lower: bool = False) -> Any:
    """A builder: value of `field` → the first contact (in collection order) with it."""

    def build(resource: Resource) -> dict[Any, Record]:
        found: dict[Any, Record] = {}
        for entry in resource.entries:
            rec = entry.rec
            value = rec[field].lower() if lower else rec.get(field)
            try:
                found.setdefault(value, rec)
            except TypeError:  # an unhashable value matches no reference
                continue
        return found

    return build


def find_contact(world: World, ref: Any) -> Record | None:
    """By ContactID, else ContactNumber, else Name (exact)."""
    if not isinstance(ref, dict):
        return None
    contacts = world.get("xero", "Contacts")
    if ref.get("ContactID"):
        wanted = str(ref["ContactID"]).lower()
        by_id = _derived(contacts, "by_lower_id", _first_by("ContactID", lower=True))
        return by_id.get(wanted)  # type: ignore[no-any-return]
    for field in ("ContactNumber", "Name"):
        if ref.get(field):
            try:
                match = _derived(contacts, f"by_{field}", _first_by(field)).get(ref[field])
            except TypeError:  # an unhashable reference (a list, an object)
                match = next(
                    (e.rec for e in contacts.entries if e.rec.get(field) == ref[field]), None
                )
            if match is not None:
                return match  # type: ignore[no-any-return]
    return None


def next_number(world: World, kind: DocKind, taken: set[str]) -> str:
    """`INV-0004` after the highest `INV-nnnn` so far (width kept, at least 4 digits).
    The stored numbers' highest and widest come from the collection's numbering."""
    resource = world.get("xero", kind.collection)
    numbering = resource.numbering
    # The numbering keys a number by what precedes its trailing digits, which is the
    # prefix exactly when the prefix does not end in a digit.
    if not kind.prefix or kind.prefix[-1].isdigit() or numbering.unreadable:
        return _next_number_scan(resource, kind, taken)
    stored_highest, stored_width = numbering.highest(kind.prefix)
    if numbering.unreadable:  # a recount met a digit run int() cannot read
        return _next_number_scan(resource, kind, taken)
    highest, width = stored_highest, max(4, stored_width)
    for number in taken:
        tail = number[len(kind.prefix) :]
        if number.startswith(kind.prefix) and tail.isdigit():
            highest, width = max(highest, int(tail)), max(width, len(tail))
    return f"{kind.prefix}{highest + 1:0{width}d}"


def _next_number_scan(resource: Resource, kind: DocKind, taken: set[str]) -> str:
    """`next_number` over every stored number (prefixes ending in a digit, odd digits)."""
    highest, width = 0, 4
    numbers = [str(e.number or "") for e in resource.entries]
    for number in [*numbers, *taken]:
        tail = number[len(kind.prefix) :]
        if number.startswith(kind.prefix) and tail.isdigit():
            highest, width = max(highest, int(tail)), max(width, len(tail))
    return f"{kind.prefix}{highest + 1:0{width}d}"


def compute_lines(
    world: World, raw_lines: list[Record], amount_types: str, errors: list[str]
) -> tuple[list[Record], Decimal, Decimal]:
    """Line items with LineAmount and TaxAmount; returns (lines, subtotal, total tax)."""
    rates = tax_rates(world)
    accounts = accounts_by_code(world)
    lines: list[Record] = []
    subtotal = total_tax = ZERO
    for raw in raw_lines:
        if not isinstance(raw, dict):
            errors.append("Each line item must be an object.")
            continue
        try:
            unit = to_decimal(raw.get("UnitAmount") or 0)
            quantity = (
                to_decimal(raw["Quantity"])
                if raw.get("Quantity") is not None
                else (Decimal(1) if raw.get("UnitAmount") is not None else ZERO)
            )
            discount = to_decimal(raw.get("DiscountRate") or 0)
        except (ArithmeticError, ValueError):
            errors.append("Quantity, UnitAmount and DiscountRate must be numbers.")
            continue
        if raw.get("LineAmount") is not None and raw.get("UnitAmount") is None:
            amount = round_money(to_decimal(raw["LineAmount"]))
        else:
            amount = round_money(quantity * unit * (1 - discount / 100))
        code = raw.get("AccountCode") or ""
        if code and code not in accounts:
            errors.append(f"Account code '{code}' is not a valid code for this document.")
        tax_type = raw.get("TaxType") or (accounts.get(code) or {}).get("TaxType") or "NONE"
        if tax_type not in rates and tax_type != "NONE":
            errors.append(
                f"The TaxType code '{tax_type}' does not exist or cannot be used for this type"
                " of transaction."
            )
        if not raw.get("Description") and not raw.get("ItemCode"):
            errors.append("Description is required for each line item.")
        rate = rates.get(tax_type, ZERO)
        if raw.get("TaxAmount") is not None:
            tax = round_money(to_decimal(raw["TaxAmount"]))
        elif amount_types == "NoTax":
            tax = ZERO
        elif amount_types == "Inclusive":
            tax = round_money(amount - amount / (1 + rate / 100))
        else:
            tax = round_money(amount * rate / 100)
        subtotal += amount - tax if amount_types == "Inclusive" else amount
        total_tax += tax
        lines.append(
            {
                "LineItemID": str(raw.get("LineItemID") or uuid.uuid4()),
                "Description": raw.get("Description") or "",
                "Quantity": float(quantity),
                "UnitAmount": float(unit),
                "ItemCode": raw.get("ItemCode") or "",
                "AccountCode": code,
                "TaxType": tax_type,
                "TaxAmount": money(tax),
                "LineAmount": money(amount),
                "Tracking": raw.get("Tracking") or [],
                "DiscountRate": raw.get("DiscountRate"),
            }
        )
    return lines, subtotal, total_tax


@cache
def _converter() -> Any:
    from currency_converter import CurrencyConverter

    return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)


def _fx_rate(currency: str, date_ms: int) -> float:
    """Units of `currency` per 1 EUR at the date (ECB data of `currencyconverter`)."""
    if currency == BASE_CURRENCY:
        return 1.0
    try:
        day = datetime.fromtimestamp(date_ms / 1000, tz=UTC).date()
        return round(float(_converter().convert(1, BASE_CURRENCY, currency, date=day)), 6)
    except Exception:  # noqa: BLE001 - an unknown currency falls back to 1.0
        return 1.0


def post_journal(
    world: World,
    doc: Record,
    kind: DocKind,
    reverse: bool = False,
    journal_id: str | None = None,
    pending: list[Record] | None = None,
) -> Record | None:
    """The journal Xero posts when an ACCREC invoice or credit note is AUTHORISED: AR
    (debit, gross) against revenue (credit, net) and output VAT (credit), in EUR at the
    document's CurrencyRate. Credit notes and voids post the opposite signs.
    `pending`: collect the journal there (numbered after the ones already in it) for the
    caller to store with the rest of its batch, instead of storing it now."""
    doc_type = doc.get("Type")
    if doc_type not in ("ACCREC", "ACCRECCREDIT"):
        return None
    sign = Decimal(1 if doc_type == "ACCREC" else -1) * (-1 if reverse else 1)
    rate = to_decimal(doc.get("CurrencyRate") or 1) or Decimal(1)
    accounts = accounts_by_code(world)
    rates_by_type = tax_rates_by_type(world)
    revenue: dict[tuple[str, str], list[Decimal]] = {}
    for line in doc.get("LineItems") or []:
        net = round_money(to_decimal(line["LineAmount"]) / rate)
        tax = round_money(to_decimal(line["TaxAmount"]) / rate)
        if doc.get("LineAmountTypes") == "Inclusive":
            net -= tax
        if net == 0 and tax == 0:
            continue
        bucket = revenue.setdefault(
            (line.get("AccountCode") or "", line.get("TaxType") or ""), [ZERO, ZERO]
        )
        bucket[0] += net
        bucket[1] += tax
    total_net = sum((v[0] for v in revenue.values()), ZERO)
    total_tax = sum((v[1] for v in revenue.values()), ZERO)

    def line(
        code: str, net: Decimal, tax: Decimal, tax_type: str = "", description: str = ""
    ) -> Record:
        account = accounts.get(code) or {}
        return {
            "JournalLineID": "",
            "AccountID": account.get("AccountID", ""),
            "AccountCode": code,
            "AccountType": account.get("Type", ""),
            "AccountName": account.get("Name", ""),
            "Description": description,
            "NetAmount": money(net),
            "GrossAmount": money(net + tax),
            "TaxAmount": money(tax),
            "TaxType": tax_type,
            "TaxName": (rates_by_type.get(tax_type) or {}).get("Name", ""),
            "TrackingCategories": [],
        }

    lines = [line(RECEIVABLES_CODE, sign * (total_net + total_tax), ZERO)]
    for (code, tax_type), (net, tax) in revenue.items():
        lines.append(line(code, -sign * net, -sign * tax, tax_type))
    if total_tax:
        lines.append(line(OUTPUT_VAT_CODE, -sign * total_tax, ZERO))
    journal_id = journal_id or str(uuid.uuid4())
    for position, journal_line in enumerate(lines):  # line ids follow from the journal's
        journal_line["JournalLineID"] = str(uuid.uuid5(uuid.UUID(journal_id), str(position)))
    journals = world.get("xero", "Journals")
    # Journals are kept in JournalNumber order: the last one has the highest number.
    if pending:
        number = int(pending[-1]["JournalNumber"]) + 1
    else:
        number = (int(journals.entries[-1].key[0]) if journals.entries else 0) + 1
    now = world.now_ms()
    journal = {
        "JournalID": journal_id,
        "JournalDate": doc["Date"],
        "JournalNumber": number,
        "CreatedDateUTC": ms_to_xero(now),
        "Reference": doc.get("Reference") or "",
        "SourceID": doc[KINDS_BY_TYPE[doc_type].id_field],
        "SourceType": doc_type,
        "JournalLines": lines,
    }
    if pending is None:
        journals.upsert([journal])
    else:
        pending.append(journal)
    return journal


def build_document(
    world: World, kind: DocKind, raw: Record, taken: set[str], existing: Record | None = None
) -> tuple[Record | None, list[str]]:
    """Validate one submitted element and compute the stored document (not yet saved).
    `taken`: numbers already claimed in this batch. `existing`: the document a POST updates."""
    errors: list[str] = []
    merged: Record = {**(existing or {}), **raw}
    doc_type = merged.get("Type")
    if doc_type not in kind.types:
        errors.append(f"Type must be one of {', '.join(kind.types)}.")
    contact = find_contact(world, merged.get("Contact"))
    if contact is None:
        errors.append("The contact could not be found. Check the ContactID, ContactNumber or Name.")
    raw_lines = merged.get("LineItems")
    if not raw_lines:
        errors.append("At least one line item is required.")
    status = str(merged.get("Status") or "DRAFT").upper()
    allowed = (
        ("DRAFT", "SUBMITTED", "AUTHORISED")
        if existing is None
        else ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED", "VOIDED")
    )
    if status not in allowed:
        errors.append(f"Status {status} is not valid for this document.")
    amount_types = merged.get("LineAmountTypes") or "Exclusive"
    if amount_types not in ("Exclusive", "Inclusive", "NoTax"):
        errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax.")
    lines, subtotal, total_tax = compute_lines(world, raw_lines or [], amount_types, errors)
    if status in ("SUBMITTED", "AUTHORISED"):
        for line in lines:
            if line["LineAmount"] and not line["AccountCode"]:
                errors.append(f"Line '{line['Description']}': an AccountCode is required.")
    number = merged.get(kind.number_field)
    if number:
        others = [
            e.rec
            for e in world.get("xero", kind.collection).with_number(number)
            if existing is None or e.rid != existing[kind.id_field]
        ]
        unique_scope = doc_type in ("ACCREC", "ACCRECCREDIT")
        if unique_scope and (number in taken or any(o.get("Type") == doc_type for o in others)):
            errors.append(kind.unique_message)
    try:
        date_ms = (
            parse_date(merged.get("Date")) if merged.get("Date") else parse_date(world.now_ms())
        )
        due_ms = parse_date(merged["DueDate"]) if merged.get("DueDate") else None
    except ValueError:
        errors.append("Date and DueDate must be dates (YYYY-MM-DD).")
        date_ms, due_ms = 0, None
    if errors:
        return None, errors
    assert contact is not None
    if not number:
        number = next_number(world, kind, taken)
    taken.add(str(number))
    currency = merged.get("CurrencyCode") or contact.get("DefaultCurrency") or BASE_CURRENCY
    rate = merged.get("CurrencyRate") or _fx_rate(currency, date_ms)
    total = subtotal + total_tax
    doc: Record = {
        "Type": doc_type,
        kind.id_field: (existing or {}).get(kind.id_field)
        or merged.get(kind.id_field)
        or str(uuid.uuid4()),
        kind.number_field: number,
        "Reference": merged.get("Reference") or "",
        "Contact": {
            "ContactID": contact["ContactID"],
            "ContactNumber": contact.get("ContactNumber", ""),
            "Name": contact.get("Name", ""),
        },
        "Date": ms_to_xero(date_ms),
        "DateString": ms_to_date_string(date_ms),
        "Status": status,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        "SubTotal": money(subtotal),
        "TotalTax": money(total_tax),
        "Total": money(total),
        "CurrencyCode": currency,
        "CurrencyRate": float(rate),
        "HasAttachments": False,
        "HasErrors": False,
    }
    if due_ms is not None:
        doc["DueDate"] = ms_to_xero(due_ms)
        doc["DueDateString"] = ms_to_date_string(due_ms)
    if kind is INVOICE:
        paid = to_decimal((existing or {}).get("AmountPaid") or 0)
        credited = to_decimal((existing or {}).get("AmountCredited") or 0)
        doc.update(
            {
                "TotalDiscount": 0.0,
                "AmountDue": money(total - paid - credited),
                "AmountPaid": money(paid),
                "AmountCredited": money(credited),
                "Payments": (existing or {}).get("Payments", []),
                "CreditNotes": (existing or {}).get("CreditNotes", []),
                "Prepayments": [],
                "Overpayments": [],
                "IsDiscounted": False,
            }
        )
    else:
        allocated = sum(
            (to_decimal(a.get("Amount") or 0) for a in (existing or {}).get("Allocations", [])),
            ZERO,
        )
        doc.update(
            {
                "RemainingCredit": money(total - allocated),
                "Allocations": (existing or {}).get("Allocations", []),
                "Payments": [],
            }
        )
    doc["UpdatedDateUTC"] = ms_to_xero(world.now_ms())
    return doc, []
