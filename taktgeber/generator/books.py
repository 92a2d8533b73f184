"""Xero documents (invoices, payments, credit notes, journals) and the push ledger.

Each invoice is complete when its slot is: its payments, credit notes and journals are
decided at once (the simulation knows the future up to ``as_of``) and streamed out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from taktgeber.generator.formats import (
    JsonArrayWriter,
    Uuids,
    at,
    harvest_ts,
    money_number,
    money_text,
    xero_date,
    xero_date_string,
    xero_datetime,
)
from taktgeber.generator.model import Company, Slot
from taktgeber.generator.plan import World
from taktgeber.generator.planting import eur_cents, record
from taktgeber.generator.reference import (
    ACCOUNT_NAMES,
    ACCOUNT_TYPES,
    BANK,
    CASH_DISCOUNT,
    EXPENSE_REVENUE,
    FX_DIFFERENCES,
    OUTPUT_VAT,
    RECEIVABLES,
    SERVICE_BY_TYPE,
    TAX_CATEGORIES,
)
from taktgeber.keys import draft_key
from taktgeber.money import round_money

TAX_NAMES = {
    "TAX001": "Umsatzsteuer 19%",
    "ECOUTPUTSERVICES": "Steuerfreie EU-Leistung (Reverse Charge)",
    "EXEMPTOUTPUT": "Steuerfrei Drittland",
    "NONE": "Keine Umsatzsteuer",
}


def percent_of(cents: int, percent: Decimal) -> int:
    """round(amount × percent / 100, 2), half-up, in cents."""
    return int(round_money(Decimal(cents) / 100 * percent / 100) * 100)


@dataclass
class Line:
    kind: str  # time | expense | milestone
    description: str
    quantity: Decimal
    unit_cents: int
    cents: int
    account: str
    project_id: int | None
    service_type: str | None
    source_key: str
    source_ids: list[Any]


@dataclass
class Books:
    world: World
    out: Path
    uuids: Uuids
    rng: random.Random
    project_names: dict[int, str]
    writers: dict[str, JsonArrayWriter] = field(default_factory=dict)
    journal_number: int = 0
    credit_note_number: int = 0
    payment_number: int = 0
    contact_gross_eur: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("Invoices", "Payments", "CreditNotes", "Journals"):
            self.writers[name] = JsonArrayWriter(self.out / "xero" / f"{name}.json")
        self.writers["ledger"] = JsonArrayWriter(self.out / "taktgeber" / "push_ledger.json")

    def close(self) -> dict[str, int]:
        counts = {}
        for name, writer in self.writers.items():
            writer.close()
            counts["taktgeber/push_ledger" if name == "ledger" else f"xero/{name}"] = writer.count
        return counts

    # -- helpers ----------------------------------------------------------------------
    def account_id(self, code: str) -> str:
        return self.uuids.make("account", code)

    def contact(self, company: Company) -> dict[str, str]:
        return {"ContactID": company.contact_id, "Name": company.name}

    def journal_line(
        self,
        n: int,
        code: str,
        net: int,
        tax: int = 0,
        tax_type: str = "NONE",
        description: str = "",
    ) -> dict[str, Any]:
        return {
            "JournalLineID": self.uuids.make("journal-line", f"{self.journal_number}-{n}"),
            "AccountID": self.account_id(code),
            "AccountCode": code,
            "AccountType": ACCOUNT_TYPES[code],
            "AccountName": ACCOUNT_NAMES[code],
            "Description": description,
            "NetAmount": money_number(net),
            "GrossAmount": money_number(net + tax),
            "TaxAmount": money_number(tax),
            "TaxType": tax_type,
            "TaxName": TAX_NAMES.get(tax_type, ""),
        }

    def journal(
        self,
        day: date,
        source_type: str,
        source_id: str,
        reference: str,
        lines: list[tuple[str, int, int, str]],
    ) -> str:
        self.journal_number += 1
        number = self.journal_number
        journal_id = self.uuids.make("journal", number)
        self.writers["Journals"].write(
            {
                "JournalID": journal_id,
                "JournalDate": xero_date(day),
                "JournalNumber": number,
                "CreatedDateUTC": xero_datetime(at(day, 36_000 + number % 3600)),
                "Reference": reference,
                "SourceID": source_id,
                "SourceType": source_type,
                "JournalLines": [
                    self.journal_line(i, code, net, tax, tax_type)
                    for i, (code, net, tax, tax_type) in enumerate(lines)
                    if net or tax
                ],
            }
        )
        return journal_id

    # -- lines of a slot --------------------------------------------------------------
    def lines(self, slot: Slot) -> list[Line]:
        out: list[Line] = []
        month = slot.month.strftime("%m/%Y") if slot.month else ""
        for (pid, service, rate), (qh, ids) in sorted(slot.lines.items()):
            spec = SERVICE_BY_TYPE[service]
            out.append(
                Line(
                    "time",
                    f"{self.project_names[pid]} · {spec.service_name} · {month}",
                    Decimal(qh) / 4,
                    rate * 100,
                    qh * rate * 25,
                    spec.revenue_account_code,
                    pid,
                    service,
                    "harvest_time_entry_ids",
                    sorted(ids),
                )
            )
        for entry_id, qh, rate, service, pid, spent in slot.double_entries:
            spec = SERVICE_BY_TYPE[service]
            out.append(
                Line(
                    "time",
                    f"{self.project_names[pid]} · {spec.service_name} · {spent:%d.%m.%Y}",
                    Decimal(qh) / 4,
                    rate * 100,
                    qh * rate * 25,
                    spec.revenue_account_code,
                    pid,
                    service,
                    "harvest_time_entry_ids",
                    [entry_id],
                )
            )
        for expense_id, cents, category, pid, spent in sorted(slot.expenses):
            out.append(
                Line(
                    "expense",
                    f"{self.project_names[pid]} · Auslage {category} {spent}",
                    Decimal(1),
                    cents,
                    cents,
                    EXPENSE_REVENUE,
                    pid,
                    None,
                    "harvest_expense_ids",
                    [expense_id],
                )
            )
        if slot.milestone is not None:
            item, deal, pid = slot.milestone
            spec = SERVICE_BY_TYPE[item.service_type]
            out.append(
                Line(
                    "milestone",
                    f"{deal.name} · {item.name}",
                    Decimal(item.quantity),
                    item.price_cents,
                    item.amount_cents,
                    spec.revenue_account_code,
                    pid,
                    item.service_type,
                    "hubspot_line_item_ids",
                    [item.id],
                )
            )
        return out

    # -- one invoice with everything that follows it ---------------------------------------
    def invoice(self, slot: Slot) -> None:
        lines = self.lines(slot)
        if not lines:
            return
        w, rng, company = self.world, self.rng, slot.customer
        category = TAX_CATEGORIES[company.tax_category]
        subtotal = sum(line.cents for line in lines)
        total_tax = percent_of(subtotal, category.rate_percent)
        line_tax = [percent_of(line.cents, category.rate_percent) for line in lines]
        if line_tax:
            line_tax[max(range(len(lines)), key=lambda i: lines[i].cents)] += total_tax - sum(
                line_tax
            )
        total = subtotal + total_tax
        rate = w.fx.rate(slot.currency, slot.date)
        invoice_id = self.uuids.make("invoice", slot.number)
        due = slot.date + timedelta(days=company.terms)
        source_ids = [i for line in lines for i in line.source_ids]
        key = draft_key(source_ids)
        plant = slot.plant
        pushed = slot.pushed and plant != "pushed_draft_missing_in_accounting"
        if pushed:
            reference = key
        else:
            reference = rng.choice(
                (
                    "",
                    f"PO {4_500_000_000 + rng.randrange(10**6)}",
                    f"Bestellung {rng.randint(100, 9999)}",
                )
            )
        # credit note (a correction) and payments
        credit = None
        if plant is None and slot.kind == "work" and rng.random() < 0.05:
            day = slot.date + timedelta(days=rng.randint(5, 40))
            if day < w.as_of:
                net = max(50_00, subtotal * rng.randint(3, 12) // 100 // 100 * 100)
                credit = (day, net, percent_of(net, category.rate_percent))
        credited = credit[1] + credit[2] if credit else 0
        payments = self.payments(slot, total, credited, due, credit[0] if credit else None)
        paid = sum(p[1] for p in payments)
        amount_due = total - credited - paid
        status = "PAID" if amount_due == 0 else "AUTHORISED"
        xero_lines = []
        for line, tax in zip(lines, line_tax, strict=True):
            xero_lines.append(
                {
                    "LineItemID": self.uuids.make("line", f"{slot.number}-{len(xero_lines)}"),
                    "Description": line.description,
                    "Quantity": float(line.quantity),
                    "UnitAmount": money_number(line.unit_cents),
                    "ItemCode": None,
                    "AccountCode": line.account,
                    "TaxType": category.xero_tax_type,
                    "TaxAmount": money_number(tax),
                    "LineAmount": money_number(line.cents),
                    "Tracking": [],
                }
            )
        credit_id = credit_number = None
        if credit:
            self.credit_note_number += 1
            credit_number = f"CN-{self.credit_note_number:05d}"
            credit_id = self.uuids.make("credit-note", credit_number)
        events = [slot.date] + [p[0] for p in payments] + ([credit[0]] if credit else [])
        self.writers["Invoices"].write(
            {
                "Type": "ACCREC",
                "InvoiceID": invoice_id,
                "InvoiceNumber": slot.number,
                "Reference": reference,
                "Contact": self.contact(company),
                "Date": xero_date(slot.date),
                "DateString": xero_date_string(slot.date),
                "DueDate": xero_date(due),
                "DueDateString": xero_date_string(due),
                "Status": status,
                "LineAmountTypes": "Exclusive",
                "LineItems": xero_lines,
                "SubTotal": money_number(subtotal),
                "TotalTax": money_number(total_tax),
                "Total": money_number(total),
                "TotalDiscount": 0.0,
                "CurrencyCode": slot.currency,
                "CurrencyRate": rate,
                "AmountDue": money_number(amount_due),
                "AmountPaid": money_number(paid),
                "AmountCredited": money_number(credited),
                "FullyPaidOnDate": xero_date(max(events)) if status == "PAID" else None,
                "Payments": [
                    {
                        "PaymentID": pid,
                        "Date": xero_date(day),
                        "Amount": money_number(cents),
                        "CurrencyRate": prate,
                        "Reference": "",
                        "HasAccount": True,
                    }
                    for day, cents, code, pid, prate in payments
                ],
                "CreditNotes": [
                    {
                        "CreditNoteID": credit_id,
                        "CreditNoteNumber": credit_number,
                        "Total": money_number(credited),
                        "AppliedAmount": money_number(credited),
                        "Date": xero_date(credit[0]),
                        "DateString": xero_date_string(credit[0]),
                    }
                ]
                if credit
                else [],
                "HasAttachments": False,
                "SentToContact": True,
                "IsDiscounted": False,
                "UpdatedDateUTC": xero_datetime(at(max(events), 43_200)),
            }
        )
        self.contact_gross_eur[company.id] = self.contact_gross_eur.get(company.id, 0) + eur_cents(
            w, total, slot.currency, slot.date, rate
        )
        self.post_invoice(
            slot, invoice_id, lines, category.xero_tax_type, total, total_tax, rate, plant
        )
        for day, cents, code, pid, prate in payments:
            self.payment(slot, invoice_id, day, cents, code, pid, prate, rate)
        if credit and credit_id and credit_number:
            self.credit_note(
                company,
                slot.currency,
                credit[0],
                credit[1],
                credit[2],
                credit_number,
                credit_id,
                (invoice_id, slot.number),
                lines[0].account,
            )
        if slot.pushed:
            self.ledger(
                slot, lines, key, invoice_id, category.category, subtotal, total_tax, total, plant
            )
        self.record_invoice_findings(slot, invoice_id, total, credited, paid, due, payments, rate)

    def payments(
        self, slot: Slot, total: int, credited: int, due: date, credit_day: date | None
    ) -> list[tuple[date, int, str, str, Decimal]]:
        """(date, amount, account code, payment id, rate) for each payment up to ``as_of``."""
        w, rng, company = self.world, self.rng, slot.customer
        as_of = w.as_of
        if slot.plant == "overdue_receivable":
            return []
        open_amount = total - credited
        discount = 0
        if company.payer == "punctual":
            day = slot.date + timedelta(days=rng.randint(max(3, company.terms // 2), company.terms))
        elif company.payer == "late":
            day = due + timedelta(days=rng.randint(1, 20))
        else:
            day = due + timedelta(days=rng.randint(10, 45))
        if company.discount_percent and not credited and slot.plant is None and rng.random() < 0.7:
            day = slot.date + timedelta(days=rng.randint(1, company.discount_days or 10))
            discount = percent_of(total, Decimal(company.discount_percent))
        if credit_day is not None:
            day = max(day, credit_day + timedelta(days=1))
        if slot.plant == "payment_mismatch":
            day = min(day, as_of - timedelta(days=1))
            open_amount -= max(50_00, total * rng.randint(5, 20) // 100)
        if day > as_of:
            if due + timedelta(days=14) > as_of:
                return []  # not yet paid, not yet overdue: fine
            day = max(slot.date + timedelta(days=1), as_of - timedelta(days=rng.randint(1, 10)))
            discount = 0
        rate = w.fx.rate(slot.currency, day)
        out = [(day, open_amount - discount, BANK, "", rate)]
        if discount:
            out.append((day, discount, CASH_DISCOUNT, "", rate))
        result = []
        for d, cents, code, _, r in out:
            self.payment_number += 1
            result.append((d, cents, code, self.uuids.make("payment", self.payment_number), r))
        return result

    def post_invoice(
        self,
        slot: Slot,
        invoice_id: str,
        lines: list[Line],
        tax_type: str,
        total: int,
        total_tax: int,
        rate: Decimal,
        plant: str | None,
    ) -> None:
        if plant == "invoice_not_posted":
            return
        by_account: dict[str, int] = {}
        for line in lines:
            by_account[line.account] = by_account.get(line.account, 0) + line.cents
        w = self.world
        nets = {
            code: eur_cents(w, cents, slot.currency, slot.date, rate)
            for code, cents in sorted(by_account.items())
        }
        tax_eur = eur_cents(w, total_tax, slot.currency, slot.date, rate)
        gross = sum(nets.values()) + tax_eur
        shares, left = {}, tax_eur
        codes = list(nets)
        for code in codes[:-1]:
            shares[code] = (
                int(round_money(Decimal(tax_eur) * nets[code] / max(1, sum(nets.values()))))
                if tax_eur
                else 0
            )
            left -= shares[code]
        shares[codes[-1]] = left
        delta = 0
        if plant == "invoice_journal_mismatch":
            delta = max(100_00, gross // 10 // 100 * 100)
        journal_lines = [(RECEIVABLES, gross - delta, 0, "NONE")]
        for i, code in enumerate(codes):
            journal_lines.append(
                (code, -nets[code] + (delta if i == 0 else 0), -shares[code], tax_type)
            )
        if tax_eur:
            journal_lines.append((OUTPUT_VAT, -tax_eur, 0, "NONE"))
        self.journal(slot.date, "ACCREC", invoice_id, slot.number, journal_lines)
        if plant == "invoice_journal_mismatch":
            total_eur = eur_cents(w, total, slot.currency, slot.date, rate)
            record(
                w,
                plant,
                {"xero_invoice_id": invoice_id},
                abs(total_eur - (gross - delta)),
                "EUR",
                slot.date,
            )

    def payment(
        self,
        slot: Slot,
        invoice_id: str,
        day: date,
        cents: int,
        code: str,
        payment_id: str,
        rate: Decimal,
        invoice_rate: Decimal,
    ) -> None:
        w = self.world
        self.writers["Payments"].write(
            {
                "PaymentID": payment_id,
                "Date": xero_date(day),
                "Amount": money_number(cents),
                "BankAmount": money_number(eur_cents(w, cents, slot.currency, day, rate))
                if slot.currency != "EUR"
                else money_number(cents),
                "CurrencyRate": rate,
                "Reference": slot.number,
                "Status": "AUTHORISED",
                "PaymentType": "ACCRECPAYMENT",
                "IsReconciled": True,
                "HasAccount": True,
                "Account": {"AccountID": self.account_id(code), "Code": code},
                "Invoice": {
                    "InvoiceID": invoice_id,
                    "InvoiceNumber": slot.number,
                    "Type": "ACCREC",
                    "Contact": self.contact(slot.customer),
                    "CurrencyCode": slot.currency,
                },
                "UpdatedDateUTC": xero_datetime(at(day, 50_400)),
            }
        )
        bank = eur_cents(w, cents, slot.currency, day, rate)
        receivable = eur_cents(w, cents, slot.currency, slot.date, invoice_rate)
        self.journal(
            day,
            "ACCRECPAYMENT",
            payment_id,
            slot.number,
            [
                (code, bank, 0, "NONE"),
                (RECEIVABLES, -receivable, 0, "NONE"),
                (FX_DIFFERENCES, receivable - bank, 0, "NONE"),
            ],
        )

    def credit_note(
        self,
        company: Company,
        currency: str,
        day: date,
        net: int,
        tax: int,
        number: str,
        credit_id: str,
        invoice: tuple[str, str] | None,
        account: str,
    ) -> None:
        w = self.world
        category = TAX_CATEGORIES[company.tax_category]
        rate = w.fx.rate(currency, day)
        total = net + tax
        allocations = []
        if invoice:
            allocations.append(
                {
                    "AllocationID": self.uuids.make("allocation", number),
                    "Amount": money_number(total),
                    "Date": xero_date(day),
                    "Invoice": {"InvoiceID": invoice[0], "InvoiceNumber": invoice[1]},
                }
            )
        self.writers["CreditNotes"].write(
            {
                "CreditNoteID": credit_id,
                "CreditNoteNumber": number,
                "Type": "ACCRECCREDIT",
                "Status": "PAID" if invoice else "AUTHORISED",
                "Contact": self.contact(company),
                "Date": xero_date(day),
                "DateString": xero_date_string(day),
                "Reference": f"Korrektur {invoice[1]}" if invoice else "Kulanz",
                "LineAmountTypes": "Exclusive",
                "LineItems": [
                    {
                        "LineItemID": self.uuids.make("cn-line", number),
                        "Description": "Gutschrift / credit",
                        "Quantity": 1.0,
                        "UnitAmount": money_number(net),
                        "AccountCode": account,
                        "TaxType": category.xero_tax_type,
                        "TaxAmount": money_number(tax),
                        "LineAmount": money_number(net),
                        "Tracking": [],
                    }
                ],
                "SubTotal": money_number(net),
                "TotalTax": money_number(tax),
                "Total": money_number(total),
                "RemainingCredit": 0.0 if invoice else money_number(total),
                "CurrencyCode": currency,
                "CurrencyRate": rate,
                "Allocations": allocations,
                "FullyPaidOnDate": xero_date(day) if invoice else None,
                "UpdatedDateUTC": xero_datetime(at(day, 46_800)),
            }
        )
        net_eur, tax_eur = (
            eur_cents(w, net, currency, day, rate),
            eur_cents(w, tax, currency, day, rate),
        )
        self.journal(
            day,
            "ACCRECCREDIT",
            credit_id,
            number,
            [
                (RECEIVABLES, -(net_eur + tax_eur), 0, "NONE"),
                (account, net_eur, tax_eur, category.xero_tax_type),
                (OUTPUT_VAT, tax_eur, 0, "NONE"),
            ],
        )

    def unallocated_credit_note(self, company: Company, day: date, net: int) -> None:
        category = TAX_CATEGORIES[company.tax_category]
        tax = percent_of(net, category.rate_percent)
        self.credit_note_number += 1
        number = f"CN-{self.credit_note_number:05d}"
        credit_id = self.uuids.make("credit-note", number)
        self.credit_note(company, company.currency, day, net, tax, number, credit_id, None, "8400")
        record(
            self.world,
            "credit_note_without_reference",
            {"xero_credit_note_id": credit_id},
            net + tax,
            company.currency,
            day,
        )

    def ledger(
        self,
        slot: Slot,
        lines: list[Line],
        key: str,
        invoice_id: str,
        category: str,
        subtotal: int,
        total_tax: int,
        total: int,
        plant: str | None,
    ) -> None:
        number = slot.number
        if plant == "pushed_draft_missing_in_accounting":
            invoice_id = self.uuids.make("deleted-invoice", slot.number)
            number = f"INV-9{slot.number[-4:]}"
            record(self.world, plant, {"draft_key": key}, total, slot.currency, slot.date)
        self.writers["ledger"].write(
            {
                "draft_key": key,
                "reference": key,
                "idempotency_key": key,
                "status": "succeeded",
                "attempts": 1,
                "pushed_at": harvest_ts(at(slot.date, 25_200)),
                "xero_invoice_id": invoice_id,
                "xero_invoice_number": number,
                "xero_contact_id": slot.customer.contact_id,
                "hubspot_company_id": slot.customer.id,
                "harvest_project_id": slot.project_id
                if slot.customer.grouping == "per_project"
                else None,
                "currency": slot.currency,
                "billing_month": slot.month.strftime("%Y-%m") if slot.month else None,
                "tax_category": category,
                "subtotal": money_text(subtotal),
                "total_tax": money_text(total_tax),
                "total": money_text(total),
                "lines": [
                    {
                        "line_no": i,
                        "kind": line.kind,
                        "description": line.description,
                        "quantity": str(line.quantity.quantize(Decimal("0.01"))),
                        "unit_amount": money_text(line.unit_cents),
                        "line_amount": money_text(line.cents),
                        "account_code": line.account,
                        "harvest_project_id": line.project_id,
                        "service_type": line.service_type,
                        "source_ids": {line.source_key: line.source_ids},
                    }
                    for i, line in enumerate(lines, start=1)
                ],
            }
        )

    def record_invoice_findings(
        self,
        slot: Slot,
        invoice_id: str,
        total: int,
        credited: int,
        paid: int,
        due: date,
        payments: list,
        rate: Decimal,
    ) -> None:
        w, plant = self.world, slot.plant
        if plant == "invoice_not_posted":
            record(w, plant, {"xero_invoice_id": invoice_id}, total, slot.currency, slot.date, rate)
        gap = total - credited - paid
        if plant == "payment_mismatch" and payments:
            record(
                w,
                plant,
                {"xero_invoice_id": invoice_id, "xero_payment_id": payments[-1][3]},
                gap,
                slot.currency,
                slot.date,
                rate,
            )
        days = (w.as_of - due).days
        if gap > 0 and days >= 14:
            level = sum(days >= d for d in (14, 28, 42))
            record(
                w,
                "overdue_receivable",
                {"xero_invoice_id": invoice_id},
                gap,
                slot.currency,
                slot.date,
                rate,
                dunning_level=level,
            )
