"""The reference oracle (taktgeber.oracle) on hand-built mini worlds: one case per outcome.

Each world is written as a real fixture folder (DESIGN.md §11) by the small builder below,
with records shaped exactly as the APIs return them (HubSpot string properties, Harvest
nested objects, Xero PascalCase with /Date(ms+0000)/ dates).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from taktgeber.keys import draft_key
from taktgeber.oracle import build_context, evaluate
from taktgeber.oracle.kpis import quantile_cont
from taktgeber.oracle.links import normalise_name, vat_is_valid

AS_OF = date(2026, 10, 15)  # a Thursday
FIXTURES = Path(__file__).parent / "fixtures" / "oracle"


def xdate(day: str) -> str:
    ms = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)
    return f"/Date({ms}+0000)/"


@dataclass
class W:
    """A mini world; `base()` gives one domestic T&M customer, fully consistent."""

    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seeds: dict[str, str] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        self.files.setdefault(name, []).append(record)
        return record

    def find(self, name: str, key: str, value: Any) -> dict[str, Any]:
        return next(r for r in self.files[name] if r[key] == value)

    # -- HubSpot ---------------------------------------------------------------------
    def company(self, cid: str, name: str, country: str = "DE", vat_id: str | None = None, **props):
        p = {"name": name, "country": country, "vat_id": vat_id, "payment_terms_days": "30"}
        p.update({k: str(v) for k, v in props.items()})
        return self.add("hubspot/companies", {"id": cid, "properties": p, "associations": {}})

    def deal(
        self,
        did: str,
        company: str,
        amount: str,
        close: str = "2026-06-01",
        stage="closedwon",
        currency="EUR",
        model="time_and_materials",
        parent: str | None = None,
        items: tuple[str, ...] = (),
    ):
        p = {
            "dealname": f"Deal {did}",
            "amount": amount,
            "closedate": f"{close}T10:00:00.000Z",
            "dealstage": stage,
            "deal_currency_code": currency,
            "billing_model": model,
            "parent_deal_id": parent,
        }
        assoc = {
            "companies": {"results": [{"id": company, "type": "deal_to_company"}]},
            "line items": {"results": [{"id": i, "type": "deal_to_line_item"} for i in items]},
        }
        return self.add("hubspot/deals", {"id": did, "properties": p, "associations": assoc})

    def line_item(
        self,
        lid: str,
        price: str,
        quantity: str = "1",
        service_type: str | None = None,
        billing_date: str | None = None,
        requires_acceptance: bool = False,
        accepted_date: str | None = None,
    ):
        amount = str(Decimal(price) * Decimal(quantity))
        p = {
            "name": f"Item {lid}",
            "price": price,
            "quantity": quantity,
            "amount": amount,
            "service_type": service_type,
            "billing_date": billing_date,
            "requires_acceptance": "true" if requires_acceptance else "false",
            "accepted_date": accepted_date,
        }
        return self.add("hubspot/line_items", {"id": lid, "properties": p})

    # -- Harvest ---------------------------------------------------------------------
    def client(self, cid: int, name: str, currency: str = "EUR"):
        return self.add(
            "harvest/clients", {"id": cid, "name": name, "currency": currency, "is_active": True}
        )

    def project(
        self,
        pid: int,
        client: int,
        code: str | None,
        fixed_fee: bool = False,
        cost_budget: str | None = "10000",
        fee: str | None = None,
        starts="2026-06-01",
        ends="2026-12-31",
        created="2026-06-02",
        billable=True,
    ):
        c = self.find("harvest/clients", "id", client)
        return self.add(
            "harvest/projects",
            {
                "id": pid,
                "client": {"id": client, "name": c["name"], "currency": c["currency"]},
                "name": f"Project {pid}",
                "code": code,
                "is_active": True,
                "is_billable": billable,
                "is_fixed_fee": fixed_fee,
                "cost_budget": None if cost_budget is None else Decimal(cost_budget),
                "fee": None if fee is None else Decimal(fee),
                "starts_on": starts,
                "ends_on": ends,
                "created_at": f"{created}T09:00:00Z",
            },
        )

    def time(
        self,
        tid: int,
        project: int,
        day: str,
        hours: str,
        rate: str | None = "100",
        task="Consulting",
        closed=True,
        billable=True,
        invoice: str | None = None,
    ):
        pr = self.find("harvest/projects", "id", project)
        return self.add(
            "harvest/time_entries",
            {
                "id": tid,
                "spent_date": day,
                "hours": Decimal(hours),
                "is_closed": closed,
                "billable": billable,
                "billable_rate": None if rate is None else Decimal(rate),
                "client": {"id": pr["client"]["id"], "name": pr["client"]["name"]},
                "project": {"id": project, "name": pr["name"]},
                "task": {"id": 1, "name": task},
                "user": {"id": 1, "name": "Ada"},
                "invoice": None if invoice is None else {"id": 9000 + tid, "number": invoice},
            },
        )

    def expense(
        self,
        eid: int,
        project: int,
        day: str,
        cost: str,
        closed=True,
        billable=True,
        invoice: str | None = None,
    ):
        pr = self.find("harvest/projects", "id", project)
        return self.add(
            "harvest/expenses",
            {
                "id": eid,
                "spent_date": day,
                "total_cost": Decimal(cost),
                "is_closed": closed,
                "billable": billable,
                "client": pr["client"],
                "project": {"id": project, "name": pr["name"], "code": pr["code"]},
                "invoice": None if invoice is None else {"id": 8000 + eid, "number": invoice},
            },
        )

    # -- Xero ------------------------------------------------------------------------
    def contact(self, cid: str, name: str, number: str | None = None, tax: str | None = None):
        return self.add(
            "xero/Contacts",
            {
                "ContactID": cid,
                "ContactNumber": number,
                "Name": name,
                "TaxNumber": tax,
                "IsCustomer": True,
            },
        )

    def invoice(
        self,
        iid: str,
        number: str,
        contact: str,
        day: str,
        total: str,
        tax: str = "0",
        due: str | None = None,
        status="AUTHORISED",
        currency="EUR",
        rate="1",
        reference: str | None = None,
    ):
        c = self.find("xero/Contacts", "ContactID", contact)
        sub = Decimal(total) - Decimal(tax)
        return self.add(
            "xero/Invoices",
            {
                "Type": "ACCREC",
                "InvoiceID": iid,
                "InvoiceNumber": number,
                "Reference": reference,
                "Contact": {"ContactID": contact, "Name": c["Name"]},
                "Date": xdate(day),
                "DueDate": xdate(due or day),
                "Status": status,
                "LineAmountTypes": "Exclusive",
                "CurrencyCode": currency,
                "CurrencyRate": Decimal(rate),
                "SubTotal": sub,
                "TotalTax": Decimal(tax),
                "Total": Decimal(total),
            },
        )

    def journal(
        self,
        jid: str,
        number: int,
        day: str,
        source_type: str,
        source_id: str | None,
        lines: list[tuple[str, str, str, str]],
    ):
        """lines: (account code, account type, net, tax)."""
        return self.add(
            "xero/Journals",
            {
                "JournalID": jid,
                "JournalNumber": number,
                "JournalDate": xdate(day),
                "SourceType": source_type,
                "SourceID": source_id,
                "JournalLines": [
                    {
                        "AccountCode": code,
                        "AccountType": kind,
                        "NetAmount": Decimal(net),
                        "TaxAmount": Decimal(tax),
                        "GrossAmount": Decimal(net) + Decimal(tax),
                    }
                    for code, kind, net, tax in lines
                ],
            },
        )

    def post(self, invoice_id: str, number: int = 1):
        """The journal Xero posts for an EUR invoice (AR against revenue and output VAT)."""
        inv = self.find("xero/Invoices", "InvoiceID", invoice_id)
        total, tax = inv["Total"] / inv["CurrencyRate"], inv["TotalTax"] / inv["CurrencyRate"]
        day = datetime.fromtimestamp(int(inv["Date"][6:-7]) / 1000, UTC).date().isoformat()
        return self.journal(
            f"J-{invoice_id}",
            number,
            day,
            "ACCREC",
            invoice_id,
            [
                ("1400", "CURRENT", str(total), "0"),
                ("8400", "REVENUE", str(-(total - tax)), "0"),
                ("1776", "CURRLIAB", str(-tax), "0"),
            ],
        )

    def credit_note(
        self,
        nid: str,
        contact: str,
        day: str,
        total: str,
        allocations: list[tuple[str, str, str]] = (),
        status="AUTHORISED",
    ):
        return self.add(
            "xero/CreditNotes",
            {
                "CreditNoteID": nid,
                "CreditNoteNumber": f"CN-{nid}",
                "Type": "ACCRECCREDIT",
                "Status": status,
                "Contact": {"ContactID": contact},
                "Date": xdate(day),
                "Total": Decimal(total),
                "CurrencyCode": "EUR",
                "CurrencyRate": Decimal(1),
                "Allocations": [
                    {
                        "AllocationID": f"A-{inv}",
                        "Amount": Decimal(amt),
                        "Date": xdate(d),
                        "Invoice": {"InvoiceID": inv},
                    }
                    for inv, amt, d in allocations
                ],
            },
        )

    def payment(self, pid: str, invoice: str, day: str, amount: str, account: str = "1200"):
        return self.add(
            "xero/Payments",
            {
                "PaymentID": pid,
                "Date": xdate(day),
                "Amount": Decimal(amount),
                "Status": "AUTHORISED",
                "PaymentType": "ACCRECPAYMENT",
                "Invoice": {"InvoiceID": invoice},
                "Account": {"AccountID": f"acc-{account}", "Code": account},
            },
        )

    def pushed(
        self,
        key: str,
        invoice_id: str | None,
        total: str,
        ids: dict[str, list[Any]],
        status="succeeded",
        pushed_at="2026-09-30T08:00:00Z",
        lines: list[dict[str, Any]] | None = None,
    ):
        self.ledger.append(
            {
                "draft_key": key,
                "reference": key,
                "idempotency_key": key,
                "status": status,
                "attempts": 1,
                "pushed_at": pushed_at,
                "xero_invoice_id": invoice_id,
                "currency": "EUR",
                "subtotal": total,
                "total_tax": "0",
                "total": total,
                "tax_category": "S",
                "hubspot_company_id": "101",
                "lines": lines or [{"line_no": 1, "kind": "time", "source_ids": ids}],
            }
        )

    # -- output ----------------------------------------------------------------------
    def write(self, root: Path, as_of: date | None = AS_OF) -> Path:
        for name, records in self.files.items():
            path = root / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(records, default=str, indent=1))
        seeds = {**DEFAULT_SEEDS, **self.seeds}
        (root / "seeds").mkdir(exist_ok=True)
        for name, text in seeds.items():
            (root / "seeds" / name).write_text(text)
        if self.ledger:
            (root / "taktgeber").mkdir(exist_ok=True)
            (root / "taktgeber" / "push_ledger.json").write_text(json.dumps(self.ledger))
        if as_of:
            (root / "answer_key.json").write_text(
                json.dumps({"as_of_date": as_of.isoformat(), "seller_country": "DE"})
            )
        return root


DEFAULT_SEEDS = {
    "service_catalogue.csv": "task_name,service_type,service_name,revenue_account_code,is_billable\n"
    "Consulting,consulting,Consulting,8400,true\nDesign,design,Design,8400,true\n",
    "rate_card.csv": "service_type,currency_code,hourly_rate,valid_from,valid_to\n"
    "consulting,EUR,100.00,2020-01-01,\ndesign,EUR,120.00,2020-01-01,2026-06-30\n"
    "design,EUR,130.00,2026-07-01,\n",
    "fx_rates.csv": "rate_date,currency_code,units_per_eur\n"
    "2026-01-02,USD,1.2000\n2026-09-01,USD,1.2500\n2026-10-01,USD,1.1000\n",
}


def base() -> W:
    """Acme (DE) won a T&M deal on 2026-06-01; project 501 code "201"; contact by number."""
    w = W()
    w.company(
        "101", "Acme GmbH", vat_id="DE136695976", cash_discount_percent="2", cash_discount_days="10"
    )
    w.deal("201", "101", "10000", items=("301",))
    w.line_item("301", "100", "100", service_type="consulting")
    w.client(401, "ACME GmbH")
    w.project(501, 401, "201")
    w.contact("C1", "Acme GmbH", number="101")
    return w


def run(w: W, tmp_path: Path, as_of: date = AS_OF) -> dict[str, Any]:
    return evaluate(w.write(tmp_path), as_of)


def found(result: dict[str, Any], check: str) -> list[tuple[dict, str, str, str]]:
    return [
        (
            f["keys"],
            f["amount_at_stake_eur"],
            f["amount_at_stake"]["amount"],
            f["amount_at_stake"]["currency"],
        )
        for f in result["findings"]
        if f["check_name"] == check
    ]


def kpi(result: dict[str, Any], month: str, name: str) -> str | None:
    values = [k["value"] for k in result["kpis"] if k["month"] == month and k["kpi"] == name]
    return values[0] if values else None


# ---------------------------------------------------------------------------------------
# the consistent base world raises nothing


def test_base_world_is_clean(tmp_path):
    w = base()
    w.time(1, 501, "2026-10-14", "2")
    result = run(w, tmp_path)
    assert result["findings"] == []
    assert [d["status"] for d in result["drafts"]] == ["deferred"]


def test_helpers():
    assert normalise_name("  Müller & Söhne GmbH!! ") == "muller sohne gmbh"
    assert vat_is_valid("FR 40 303 265 045", "FR")
    assert not vat_is_valid("FR00000000000", "FR")
    assert not vat_is_valid("DE136695976", "FR")  # a valid number of another country
    assert vat_is_valid("40303265045", "FR")  # prefix implied by the country
    assert quantile_cont(
        [Decimal(1), Decimal(2), Decimal(3), Decimal(4)], Decimal("0.5")
    ) == Decimal("2.5")
    assert quantile_cont([Decimal(v) for v in range(1, 11)], Decimal("0.9")) == Decimal("9.1")


def test_business_days_skip_weekends_and_german_holidays(tmp_path):
    ctx = build_context(base().write(tmp_path))
    cal = ctx.ref.calendar
    # Good Friday 2026-04-03, weekend, Easter Monday 2026-04-06: only Tuesday counts
    assert cal.business_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1
    assert cal.business_days_between(date(2026, 10, 12), date(2026, 10, 15)) == 3


def test_as_of_defaults_to_answer_key(tmp_path):
    w = base()
    w.deal("202", "101", "500", close="2026-10-12")
    root = w.write(tmp_path)
    assert evaluate(root) == evaluate(root, AS_OF)


# ---------------------------------------------------------------------------------------
# handover CRM → PM


@pytest.mark.parametrize(("close", "fires"), [("2026-10-12", True), ("2026-10-13", False)])
def test_won_deal_without_project_after_two_business_days(tmp_path, close, fires):
    w = base()
    w.deal("202", "101", "500", close=close)
    w.deal("203", "101", "700", close="2026-01-05", parent="201")  # change request: never
    w.deal("204", "101", "900", close="2026-01-05", stage="closedlost")
    expected = [({"hubspot_deal_id": "202"}, "500.00", "500.00", "EUR")] if fires else []
    assert found(run(w, tmp_path), "won_deal_without_project") == expected


def test_project_without_won_deal_values_billable_work(tmp_path):
    w = base()
    w.client(402, "Beta AG")
    w.company("102", "Beta AG")
    w.deal("299", "102", "100", stage="closedlost")
    w.project(502, 402, "299")  # another stage
    w.project(503, 402, None)  # no code
    w.project(504, 402, "nope", billable=False)  # not billable: never
    w.time(1, 502, "2026-10-01", "2.5", rate="80")
    w.time(2, 502, "2026-10-01", "1", rate=None, billable=False)
    w.expense(3, 502, "2026-10-02", "19.99")
    assert found(run(w, tmp_path), "project_without_won_deal") == [
        ({"harvest_project_id": 502}, "219.99", "219.99", "EUR"),
        ({"harvest_project_id": 503}, "0.00", "0.00", "EUR"),
    ]


@pytest.mark.parametrize(("budget", "fires"), [("12060", False), ("11940", False), ("12061", True)])
def test_project_budget_mismatch_beyond_half_percent(tmp_path, budget, fires):
    w = base()
    w.deal("210", "101", "2000", parent="201")  # won change request: counts
    w.deal("211", "101", "5000", parent="201", stage="appointmentscheduled")  # pending: not
    w.find("harvest/projects", "id", 501)["cost_budget"] = Decimal(budget)
    expected = [({"harvest_project_id": 501}, "61.00", "61.00", "EUR")] if fires else []
    assert found(run(w, tmp_path), "project_budget_mismatch") == expected


def test_project_budget_mismatch_uses_fee_and_one_euro_floor(tmp_path):
    w = base()
    w.company("102", "Beta AG")
    w.client(402, "Beta AG")
    w.deal("220", "102", "100", model="fixed_price", items=("320",))
    w.line_item("320", "100", billing_date="2026-12-01")
    w.project(520, 402, "220", fixed_fee=True, cost_budget=None, fee="101.01")
    assert found(run(w, tmp_path), "project_budget_mismatch") == [
        ({"harvest_project_id": 520}, "1.01", "1.01", "EUR")
    ]


def test_billing_model_customer_and_currency_mismatch(tmp_path):
    w = base()
    w.company("102", "Beta AG")
    w.client(402, "Beta AG")
    w.client(403, "Gamma Inc", currency="USD")
    w.company("103", "Gamma Inc", country="US")
    w.deal("230", "103", "1000", model="fixed_price", items=("330",))  # on an hourly project
    w.line_item("330", "1000", billing_date="2026-12-01")
    w.project(530, 403, "230")
    w.deal("231", "101", "2000")  # Acme's deal on Beta's client
    w.project(531, 402, "231", cost_budget="2000")
    w.deal("232", "103", "3000", currency="EUR")  # EUR deal, USD client
    w.project(532, 403, "232", cost_budget="3000")
    w.deal("233", "102", "400", model="time_and_materials")  # T&M on a fixed-fee project
    w.project(533, 402, "233", fixed_fee=True, cost_budget=None, fee="400")
    result = run(w, tmp_path)
    assert found(result, "billing_model_mismatch") == [
        ({"hubspot_deal_id": "230"}, "1000.00", "1000.00", "EUR"),
        ({"hubspot_deal_id": "233"}, "400.00", "400.00", "EUR"),
    ]
    assert found(result, "customer_mismatch") == [
        ({"hubspot_deal_id": "231"}, "2000.00", "2000.00", "EUR")
    ]
    assert found(result, "currency_mismatch") == [
        ({"hubspot_deal_id": "230"}, "1000.00", "1000.00", "EUR"),
        ({"hubspot_deal_id": "232"}, "3000.00", "3000.00", "EUR"),
    ]


# ---------------------------------------------------------------------------------------
# work → billing


@pytest.mark.parametrize(("day", "fires"), [("2026-09-14", True), ("2026-09-15", False)])
def test_unbilled_approved_work_after_30_days(tmp_path, day, fires):
    w = base()
    w.time(1, 501, day, "1.5")
    w.expense(2, 501, day, "42.10", closed=False)  # unapproved: not this check
    w.time(3, 501, "2026-08-01", "1", invoice="INV-1")  # billed
    w.invoice("I1", "INV-1", "C1", "2026-08-31", "100")
    w.post("I1")
    w.payment("P1", "I1", "2026-09-05", "100")
    expected = [({"harvest_time_entry_id": 1}, "150.00", "150.00", "EUR")] if fires else []
    assert found(run(w, tmp_path), "unbilled_approved_work") == expected


def test_voided_invoice_bills_nothing(tmp_path):
    w = base()
    w.time(1, 501, "2026-08-01", "1", invoice="INV-1")
    w.invoice("I1", "INV-1", "C1", "2026-08-31", "100", status="VOIDED")
    assert found(run(w, tmp_path), "unbilled_approved_work") == [
        ({"harvest_time_entry_id": 1}, "100.00", "100.00", "EUR")
    ]


def test_unapproved_work_invoiced(tmp_path):
    w = base()
    w.time(1, 501, "2026-10-01", "2", closed=False, invoice="INV-1")
    w.expense(2, 501, "2026-10-01", "12.50", closed=False, invoice="INV-1")
    w.time(3, 501, "2026-10-01", "2", closed=False, invoice="INV-404")  # no such invoice
    w.invoice("I1", "INV-1", "C1", "2026-10-02", "212.50")
    w.post("I1")
    w.payment("P1", "I1", "2026-10-05", "212.50")
    result = run(w, tmp_path)
    assert found(result, "unapproved_work_invoiced") == [
        ({"harvest_expense_id": 2}, "12.50", "12.50", "EUR"),
        ({"harvest_time_entry_id": 1}, "200.00", "200.00", "EUR"),
    ]


@pytest.mark.parametrize(("day", "fires"), [("2026-10-07", True), ("2026-10-08", False)])
def test_unapproved_work_aging_after_five_business_days(tmp_path, day, fires):
    w = base()
    w.time(1, 501, day, "1", closed=False)
    w.time(2, 501, "2026-09-01", "1", closed=False, billable=False, rate=None)  # not billable
    expected = [({"harvest_time_entry_id": 1}, "100.00", "100.00", "EUR")] if fires else []
    assert found(run(w, tmp_path), "unapproved_work_aging") == expected


def test_rate_mismatch_deal_rate_then_rate_card(tmp_path):
    w = base()
    w.time(1, 501, "2026-10-14", "2.5", rate="90")  # deal's consulting rate 100
    w.time(2, 501, "2026-10-14", "1", rate="100")  # right
    w.time(3, 501, "2026-06-30", "2", rate="130", task="Design")  # card: 120 until 06-30
    w.time(4, 501, "2026-07-01", "2", rate="130", task="Design")  # card: 130 from 07-01
    w.time(5, 501, "2026-10-14", "1", rate="55", task="Unpriced")  # no contracted rate
    assert found(run(w, tmp_path), "rate_mismatch") == [
        ({"harvest_time_entry_id": 1}, "25.00", "25.00", "EUR"),
        ({"harvest_time_entry_id": 3}, "20.00", "20.00", "EUR"),
    ]


def test_over_budget_without_change_request(tmp_path):
    w = base()
    w.find("harvest/projects", "id", 501)["cost_budget"] = Decimal(1000)
    w.find("hubspot/deals", "id", "201")["properties"]["amount"] = "1000"
    w.deal("210", "101", "5000", parent="201", stage="appointmentscheduled")  # pending
    w.time(1, 501, "2026-10-01", "10")
    w.time(2, 501, "2026-10-02", "2", closed=False)
    w.expense(3, 501, "2026-10-02", "500")  # expenses are not time value
    w.time(4, 501, "2026-10-20", "5")  # after as_of
    result = run(w, tmp_path)
    assert found(result, "over_budget_without_change_request") == [
        ({"harvest_project_id": 501}, "200.00", "200.00", "EUR")
    ]
    # exactly on budget does not fire
    w.find("harvest/projects", "id", 501)["cost_budget"] = Decimal(1200)
    assert found(run(w, tmp_path / "b"), "over_budget_without_change_request") == []


def test_work_outside_project_period(tmp_path):
    w = base()
    w.time(1, 501, "2026-05-31", "1")
    w.time(2, 501, "2026-06-01", "1")
    w.expense(3, 501, "2026-05-30", "10")
    w.time(4, 501, "2026-05-30", "1", billable=False, rate=None)
    assert found(run(w, tmp_path), "work_outside_project_period") == [
        ({"harvest_expense_id": 3}, "10.00", "10.00", "EUR"),
        ({"harvest_time_entry_id": 1}, "100.00", "100.00", "EUR"),
    ]


@pytest.mark.parametrize(
    ("credited", "fires"), [("0", True), ("119", True), ("119.00", True), ("238", False)]
)
def test_double_billed_work_unless_fully_credited(tmp_path, credited, fires):
    w = base()
    w.time(1, 501, "2026-09-01", "1", invoice="INV-1")
    w.invoice("I1", "INV-1", "C1", "2026-09-02", "119", tax="19")
    w.invoice("I2", "INV-2", "C1", "2026-09-03", "238", tax="38", reference="TG-aaaaaaaaaaaa")
    w.pushed("TG-aaaaaaaaaaaa", "I2", "238", {"harvest_time_entry_ids": [1]})
    if credited != "0":
        w.credit_note("N1", "C1", "2026-09-10", credited, [("I2", credited, "2026-09-10")])
    expected = [({"harvest_time_entry_id": 1}, "100.00", "100.00", "EUR")] if fires else []
    assert found(run(w, tmp_path), "double_billed_work") == expected


def fixed_price_world() -> W:
    w = base()
    w.company("102", "Beta AG")
    w.client(402, "Beta AG")
    w.contact("C2", "Beta AG", number="102")
    w.deal("240", "102", "3000", model="fixed_price", items=("341", "342", "343", "344"))
    w.line_item("341", "1000", billing_date="2026-10-14")  # due before as_of
    w.line_item("342", "500", billing_date="2026-10-15")  # due on as_of: not yet
    w.line_item("343", "700", billing_date="2026-09-01", requires_acceptance=True)  # unaccepted
    w.line_item(
        "344",
        "800",
        billing_date="2026-09-01",
        requires_acceptance=True,
        accepted_date="2026-10-10",
    )  # due on acceptance
    w.project(540, 402, "240", fixed_fee=True, cost_budget=None, fee="3500")
    w.deal("241", "102", "500", model="fixed_price", parent="240", items=("345",))  # CR
    w.line_item("345", "500", billing_date="2026-10-01")
    return w


def test_milestone_due_not_invoiced(tmp_path):
    w = fixed_price_world()
    w.line_item("346", "9", billing_date="2026-10-01")  # on no won fixed-price deal
    result = run(w, tmp_path)
    assert found(result, "milestone_due_not_invoiced") == [
        ({"hubspot_line_item_id": "341"}, "1000.00", "1000.00", "EUR"),
        ({"hubspot_line_item_id": "344"}, "800.00", "800.00", "EUR"),
        ({"hubspot_line_item_id": "345"}, "500.00", "500.00", "EUR"),
    ]
    assert found(result, "schedule_total_mismatch") == []


def test_milestone_billed_through_the_ledger(tmp_path):
    w = fixed_price_world()
    w.invoice("I5", "INV-5", "C2", "2026-10-14", "1190", tax="190", reference="TG-bbbbbbbbbbbb")
    w.post("I5")
    w.pushed("TG-bbbbbbbbbbbb", "I5", "1190", {"hubspot_line_item_ids": ["341"]})
    w.pushed(
        "TG-cccccccccccc", None, "500", {"hubspot_line_item_ids": ["345"]}, status="dead_lettered"
    )
    keys = [
        k["hubspot_line_item_id"] for k, *_ in found(run(w, tmp_path), "milestone_due_not_invoiced")
    ]
    assert keys == ["344", "345"]


def test_change_request_milestone_without_currency_is_in_its_parents(tmp_path):
    w = fixed_price_world()
    w.find("hubspot/deals", "id", "240")["properties"]["deal_currency_code"] = "USD"
    w.find("hubspot/deals", "id", "241")["properties"]["deal_currency_code"] = None
    result = run(w, tmp_path)
    # 500 USD due 2026-10-01 at 1.10 USD per EUR; the drafts group it with its parent's USD
    assert ({"hubspot_line_item_id": "345"}, "454.55", "500.00", "USD") in found(
        result, "milestone_due_not_invoiced"
    )
    assert {d["currency"] for d in result["drafts"]} == {"USD"}


def test_schedule_total_mismatch(tmp_path):
    w = fixed_price_world()
    w.find("hubspot/deals", "id", "240")["properties"]["amount"] = "3016"  # 0.5 % = 15.08
    assert found(run(w, tmp_path), "schedule_total_mismatch") == [
        ({"hubspot_deal_id": "240"}, "16.00", "16.00", "EUR")
    ]
    w.find("hubspot/deals", "id", "240")["properties"]["amount"] = "3015"
    assert found(run(w, tmp_path / "b"), "schedule_total_mismatch") == []


# ---------------------------------------------------------------------------------------
# billing → ledger → cash


def test_invoice_not_posted(tmp_path):
    w = base()
    w.invoice("I1", "INV-1", "C1", "2026-10-01", "119", tax="19", due="2026-10-31")
    w.invoice("I2", "INV-2", "C1", "2026-10-01", "238", tax="38", due="2026-10-31")
    w.invoice("I3", "INV-3", "C1", "2026-10-01", "50", status="DRAFT")  # not posted yet: fine
    w.post("I2")
    w.journal("JX", 9, "2026-10-01", "ACCRECPAYMENT", "I1", [("1400", "CURRENT", "-1", "0")])
    assert found(run(w, tmp_path), "invoice_not_posted") == [
        ({"xero_invoice_id": "I1"}, "119.00", "119.00", "EUR")
    ]


def test_invoice_journal_mismatch_at_the_invoices_own_rate(tmp_path):
    w = base()
    w.contact("C3", "Gamma Inc", number="103")
    w.company("103", "Gamma Inc", country="US")
    # USD 1250 at CurrencyRate 1.25 = EUR 1000.00 (the FX seed would say 1.10 on 10-01)
    w.invoice("I1", "INV-1", "C3", "2026-10-01", "1250", currency="USD", rate="1.25")
    w.journal(
        "J1",
        1,
        "2026-10-01",
        "ACCREC",
        "I1",
        [("1400", "CURRENT", "1000.00", "0"), ("8400", "REVENUE", "-1000.00", "0")],
    )
    w.invoice("I2", "INV-2", "C3", "2026-10-01", "1250", currency="USD", rate="1.25")
    w.journal(
        "J2",
        2,
        "2026-10-01",
        "ACCREC",
        "I2",  # 6.00 EUR off: beyond max(1, 5.00)
        [("1400", "CURRENT", "994.00", "0"), ("8400", "REVENUE", "-994.00", "0")],
    )
    w.invoice("I3", "INV-3", "C3", "2026-10-01", "1250", currency="USD", rate="1.25")
    w.journal(
        "J3",
        3,
        "2026-10-01",
        "ACCREC",
        "I3",  # 5.00 EUR off: within
        [("1400", "CURRENT", "995.00", "0"), ("8400", "REVENUE", "-995.00", "0")],
    )
    w.invoice("I4", "INV-4", "C1", "2026-10-01", "119", tax="19")
    w.journal(
        "J4",
        4,
        "2026-10-01",
        "ACCREC",
        "I4",  # gross right, tax on revenue: net off
        [("1400", "CURRENT", "119", "0"), ("8400", "REVENUE", "-119", "0")],
    )
    assert found(run(w, tmp_path), "invoice_journal_mismatch") == [
        ({"xero_invoice_id": "I2"}, "6.00", "7.50", "USD"),
        ({"xero_invoice_id": "I4"}, "0.00", "0.00", "EUR"),
    ]


def test_manual_revenue_posting(tmp_path):
    w = base()
    w.journal(
        "M1",
        1,
        "2026-10-01",
        "MANJOURNAL",
        None,
        [("1200", "BANK", "500", "0"), ("8400", "REVENUE", "-500", "0")],
    )
    w.journal(
        "M2",
        2,
        "2026-10-01",
        "MANJOURNAL",
        None,
        [("1200", "BANK", "80", "0"), ("6300", "EXPENSE", "-80", "0")],
    )
    assert found(run(w, tmp_path), "manual_revenue_posting") == [
        ({"xero_journal_id": "M1"}, "500.00", "500.00", "EUR")
    ]


def test_pushed_draft_missing_in_accounting(tmp_path):
    w = base()
    w.invoice("I1", "INV-1", "C1", "2026-09-30", "119", tax="19", reference="TG-111111111111")
    w.post("I1")
    w.pushed("TG-111111111111", "I1", "119", {"harvest_time_entry_ids": [1]})
    w.pushed("TG-222222222222", None, "238", {"harvest_time_entry_ids": [2]})  # found by reference
    w.pushed("TG-333333333333", "gone", "357", {"harvest_time_entry_ids": [3]})
    w.pushed("TG-444444444444", None, "1", {}, status="dead_lettered")
    w.invoice("I2", "INV-2", "C1", "2026-09-30", "238", tax="38", reference="TG-222222222222")
    w.post("I2", 2)
    assert found(run(w, tmp_path), "pushed_draft_missing_in_accounting") == [
        ({"draft_key": "TG-333333333333"}, "357.00", "357.00", "EUR")
    ]


def test_ledger_record_without_reference_finds_its_invoice_by_draft_key(tmp_path):
    w = base()
    w.time(1, 501, "2026-08-01", "1")
    w.invoice("I1", "INV-1", "C1", "2026-08-31", "119", tax="19", reference="TG-aaaaaaaaaaaa")
    w.post("I1")
    w.pushed("TG-aaaaaaaaaaaa", None, "119", {"harvest_time_entry_ids": [1]})
    w.ledger[-1]["reference"] = None  # the push job writes Reference = draft key
    result = run(w, tmp_path)
    assert found(result, "unbilled_approved_work") == []
    assert found(result, "pushed_draft_missing_in_accounting") == []


def test_credit_note_without_reference(tmp_path):
    w = base()
    w.invoice("I1", "INV-1", "C1", "2026-09-01", "100")
    w.post("I1")
    w.credit_note("N1", "C1", "2026-09-10", "40")  # no allocation
    w.credit_note("N2", "C1", "2026-09-10", "130", [("I1", "100", "2026-09-10")])  # 30 excess
    w.credit_note("N3", "C1", "2026-09-10", "100", [("I1", "100", "2026-09-10")])  # fine
    w.credit_note("N4", "C1", "2026-09-10", "10", status="DRAFT")  # not issued
    assert found(run(w, tmp_path), "credit_note_without_reference") == [
        ({"xero_credit_note_id": "N1"}, "40.00", "40.00", "EUR"),
        ({"xero_credit_note_id": "N2"}, "30.00", "30.00", "EUR"),
    ]


def test_payment_mismatch_and_the_cash_discount(tmp_path):
    w = base()  # Acme: 2 % Skonto within 10 days
    for n in range(1, 7):
        w.invoice(f"I{n}", f"INV-{n}", "C1", "2026-09-01", "1000", due="2026-10-01")
        w.post(f"I{n}", n)
    w.payment("P1", "I1", "2026-09-05", "1000")  # exact
    w.payment("P2", "I2", "2026-09-05", "980")  # Skonto in time, not booked: exempt
    w.payment("P3", "I3", "2026-09-20", "980")  # Skonto taken late: gap 20
    w.payment("P4a", "I4", "2026-09-05", "980")  # Skonto booked on 4736: exact
    w.payment("P4b", "I4", "2026-09-05", "20", account="4736")
    w.payment("P5a", "I5", "2026-09-05", "500")  # short payment, keyed by the last one
    w.payment("P5b", "I5", "2026-09-06", "400")
    w.payment("P6", "I6", "2026-09-05", "995")  # gap 5 = 0.5 %: within tolerance
    result = run(w, tmp_path)
    assert found(result, "payment_mismatch") == [
        ({"xero_invoice_id": "I3", "xero_payment_id": "P3"}, "20.00", "20.00", "EUR"),
        ({"xero_invoice_id": "I5", "xero_payment_id": "P5b"}, "100.00", "100.00", "EUR"),
    ]


@pytest.mark.parametrize(
    ("due", "level"),
    [
        ("2026-10-02", None),
        ("2026-10-01", 1),
        ("2026-09-18", 1),
        ("2026-09-17", 2),
        ("2026-09-03", 3),
    ],
)
def test_overdue_receivable_dunning_levels(tmp_path, due, level):
    w = base()
    w.invoice("I1", "INV-1", "C1", "2026-08-01", "500", due=due)
    w.post("I1")
    w.payment("P1", "I1", "2026-08-10", "100")
    w.credit_note("N1", "C1", "2026-08-11", "50", [("I1", "50", "2026-08-11")])
    result = run(w, tmp_path)
    overdue = [f for f in result["findings"] if f["check_name"] == "overdue_receivable"]
    if level is None:
        assert overdue == []
    else:
        assert overdue == [
            {
                "check_name": "overdue_receivable",
                "keys": {"xero_invoice_id": "I1"},
                "amount_at_stake_eur": "350.00",
                "amount_at_stake": {"amount": "350.00", "currency": "EUR"},
                "dunning_level": level,
            }
        ]


# ---------------------------------------------------------------------------------------
# master data


def test_customer_unmatched(tmp_path):
    w = base()
    w.company("102", "Beta AG", vat_id="DE811128135")
    w.company("103", "Gamma Inc", country="US")
    w.company("104", "Delta SARL", country="FR", vat_id="FR40303265045")
    w.deal("250", "104", "100", close="2026-10-14")  # won customer, no contact at all
    w.contact("C2", "Beta Aktiengesellschaft", tax="DE 811 128 135")  # by VAT id
    w.contact("C3", "GAMMA, Inc.")  # by name
    w.contact("C4", "Nobody Ltd")  # no link
    w.invoice("I1", "INV-1", "C2", "2026-10-01", "119", tax="19")
    w.invoice("I2", "INV-2", "C2", "2026-10-02", "238", tax="38")
    w.post("I1", 1)
    w.post("I2", 2)
    w.client(402, "Unknown Client")
    result = run(w, tmp_path)
    assert found(result, "customer_unmatched") == [
        ({"harvest_client_id": 402}, "0.00", "0.00", "EUR"),
        ({"hubspot_company_id": "104"}, "0.00", "0.00", "EUR"),
        ({"xero_contact_id": "C2"}, "357.00", "357.00", "EUR"),
        ({"xero_contact_id": "C3"}, "0.00", "0.00", "EUR"),
        ({"xero_contact_id": "C4"}, "0.00", "0.00", "EUR"),
    ]


# ---------------------------------------------------------------------------------------
# drafts (§7)


def draft_world() -> W:
    w = base()
    w.time(1, 501, "2026-09-10", "1.5")
    w.time(2, 501, "2026-09-11", "2")  # same project × service × rate: one line
    w.time(3, 501, "2026-09-12", "1.5", rate="33.33", task="Workshop")  # 49.995 → 50.00
    w.expense(4, 501, "2026-09-12", "19.99")
    w.time(5, 501, "2026-10-01", "3")  # another billing month
    w.time(6, 501, "2026-09-13", "1", closed=False)  # unapproved
    w.time(7, 501, "2026-09-13", "1", invoice="INV-1")  # billed
    w.time(8, 501, "2026-09-13", "1", billable=False, rate=None)
    w.time(9, 501, "2026-10-16", "1")  # after as_of
    w.invoice("I1", "INV-1", "C1", "2026-09-30", "119", tax="19")
    w.post("I1")
    w.payment("P1", "I1", "2026-10-01", "119")
    return w


def test_drafts_domestic_lines_rounding_and_key(tmp_path):
    result = run(draft_world(), tmp_path)
    assert result["drafts"] == [
        {
            "draft_key": draft_key([1, 2, 3, 4]),
            "hubspot_company_id": "101",
            "harvest_project_id": None,
            "currency": "EUR",
            "billing_month": "2026-09",
            "tax_category": "S",
            "net": "419.99",
            "tax": "79.80",
            "gross": "499.79",
            "line_count": 3,
            "status": "ready",
            "reasons": [],
        },
        {
            "draft_key": draft_key([5]),
            "hubspot_company_id": "101",
            "harvest_project_id": None,
            "currency": "EUR",
            "billing_month": "2026-10",
            "tax_category": "S",
            "net": "300.00",
            "tax": "57.00",
            "gross": "357.00",
            "line_count": 1,
            "status": "ready",
            "reasons": [],
        },
    ]
    assert draft_key([1, 2, 3, 4]) == "TG-" + hashlib.sha256(b"1,2,3,4").hexdigest()[:12]


def test_draft_lines_terms_and_notes(tmp_path):
    from taktgeber.oracle.drafts import build_drafts

    ctx = build_context(draft_world().write(tmp_path))
    september = build_drafts(ctx)[0]
    assert [
        (ln.kind, ln.service_type, ln.quantity, ln.unit_amount, ln.line_amount, ln.source_ids)
        for ln in september.lines
    ] == [
        ("time", "Workshop", Decimal("1.5"), Decimal("33.33"), Decimal("50.00"), (3,)),
        ("time", "consulting", Decimal("3.5"), Decimal(100), Decimal("350.00"), (1, 2)),
        ("expense", None, Decimal(1), Decimal("19.99"), Decimal("19.99"), (4,)),
    ]
    assert september.due_date == date(2026, 11, 14)
    assert september.cash_discount_deadline == date(2026, 10, 25)
    assert september.cash_discount_amount == Decimal("10.00")  # 2 % of 499.79 = 9.9958
    assert september.notes == ["2 % Skonto bei Zahlung bis 25.10.2026"]


def foreign_world() -> W:
    w = W()
    w.company("110", "Delta SARL", country="FR", vat_id="FR40303265045")  # valid → AE
    w.company("111", "Epsilon SAS", country="FR", vat_id="FR00000000000")  # invalid → S, blocked
    w.company("112", "Gamma Inc", country="US")  # outside the EU → O
    for n, (cid, name, cur) in enumerate(
        [("110", "Delta SARL", "EUR"), ("111", "Epsilon SAS", "EUR"), ("112", "Gamma Inc", "USD")]
    ):
        w.deal(f"26{n}", cid, "10000", currency=cur)
        w.client(410 + n, name, currency=cur)
        w.project(560 + n, 410 + n, f"26{n}")
        w.contact(f"C{cid}", name, number=cid)
        w.time(60 + n, 560 + n, "2026-10-01", "10", task="Workshop")
    return w


def test_drafts_tax_categories(tmp_path):
    result = run(foreign_world(), tmp_path)
    drafts = {d["hubspot_company_id"]: d for d in result["drafts"]}
    assert {
        c: (d["tax_category"], d["net"], d["tax"], d["gross"], d["status"], d["reasons"])
        for c, d in drafts.items()
    } == {
        "110": ("AE", "1000.00", "0.00", "1000.00", "ready", []),
        "111": (
            "S",
            "1000.00",
            "190.00",
            "1190.00",
            "blocked",
            ["missing_vat_id_for_reverse_charge"],
        ),
        "112": ("O", "1000.00", "0.00", "1000.00", "ready", []),
    }
    assert drafts["112"]["currency"] == "USD"
    assert found(result, "missing_vat_id_for_reverse_charge") == [
        ({"hubspot_company_id": "111"}, "1000.00", "1000.00", "EUR")
    ]


def test_reverse_charge_note(tmp_path):
    from taktgeber.oracle.drafts import REVERSE_CHARGE_NOTE, build_drafts

    ctx = build_context(foreign_world().write(tmp_path))
    by_company = {d.hubspot_company_id: d for d in build_drafts(ctx)}
    assert by_company["110"].notes == [REVERSE_CHARGE_NOTE]
    assert by_company["112"].notes == []


@pytest.mark.parametrize(("hours", "status"), [("27.5", "ready"), ("27.499", "deferred")])
def test_minimum_draft_in_eur_equivalent(tmp_path, hours, status):
    w = foreign_world()  # Gamma: USD, 1.10 USD per EUR on as_of → 250 EUR = 275 USD
    w.find("harvest/time_entries", "id", 62)["hours"] = Decimal(hours)
    w.find("harvest/time_entries", "id", 62)["billable_rate"] = Decimal(10)
    drafts = {d["hubspot_company_id"]: d for d in run(w, tmp_path)["drafts"]}
    assert drafts["112"]["status"] == status


def test_drafts_blocked_reasons(tmp_path):
    w = base()
    w.find("harvest/projects", "id", 501)["cost_budget"] = Decimal(500)
    w.time(1, 501, "2026-10-01", "6", rate="90")  # wrong rate, and 540 > 500
    w.company("102", "Beta AG")
    w.client(402, "Beta AG")
    w.deal("270", "102", "1000")
    w.project(570, 402, "270", cost_budget="1000")
    w.time(2, 501 + 69, "2026-10-01", "3")  # Beta has no Xero contact
    drafts = {d["hubspot_company_id"]: d for d in run(w, tmp_path)["drafts"]}
    assert drafts["101"]["status"] == "blocked"
    assert drafts["101"]["reasons"] == ["over_budget_without_change_request", "rate_mismatch"]
    assert drafts["102"]["reasons"] == ["customer_unmatched"]


def test_drafts_per_project_grouping_and_milestones(tmp_path):
    w = fixed_price_world()
    w.find("hubspot/companies", "id", "101")["properties"]["invoice_grouping"] = "per_project"
    w.deal("280", "101", "5000")
    w.project(580, 401, "280", cost_budget="5000")
    w.time(1, 501, "2026-10-01", "3")
    w.time(2, 580, "2026-10-02", "4")
    drafts = run(w, tmp_path)["drafts"]
    assert [
        (
            d["hubspot_company_id"],
            d["harvest_project_id"],
            d["net"],
            d["line_count"],
            d["draft_key"],
        )
        for d in drafts
    ] == [
        ("101", 501, "300.00", 1, draft_key([1])),
        ("101", 580, "400.00", 1, draft_key([2])),
        ("102", None, "2300.00", 3, draft_key(["341", "344", "345"])),
    ]
    assert drafts[2]["billing_month"] == "2026-10" and drafts[2]["tax"] == "437.00"


# ---------------------------------------------------------------------------------------
# KPIs (§8): one world, every value computed by hand in the comments


def kpi_world() -> W:
    w = base()
    tg1, tg4 = "TG-" + "1" * 12, "TG-" + "4" * 12
    w.invoice("I1", "INV-1", "C1", "2026-08-10", "1000", due="2026-09-09", reference=tg1)
    w.invoice("I2", "INV-2", "C1", "2026-09-15", "2000", due="2026-10-15")
    w.invoice("I3", "INV-3", "C1", "2026-09-20", "500", due="2026-09-20")
    w.invoice("I4", "INV-4", "C1", "2026-10-05", "300", due="2026-11-04", reference=tg4)
    w.invoice("I5", "INV-5", "C1", "2026-09-01", "999", status="DRAFT")  # not an invoice yet
    w.payment("P1", "I1", "2026-09-05", "1000")
    w.credit_note("N1", "C1", "2026-10-01", "100", [("I3", "100", "2026-10-01")])
    w.payment("P3", "I3", "2026-10-10", "400")  # settled 20 days after due
    # work billed through Harvest
    w.time(11, 501, "2026-08-01", "2", invoice="INV-1")  # 9 days
    w.time(12, 501, "2026-08-05", "1", rate="90", invoice="INV-2")  # 41 days, under-charged 10
    w.time(13, 501, "2026-09-01", "1", invoice="INV-2")  # 14 days
    w.expense(14, 501, "2026-09-10", "50", invoice="INV-3")  # 10 days
    # a milestone billed through the ledger on I4: 5 days after due
    w.deal("295", "101", "300", close="2026-05-04", model="fixed_price", items=("395",))
    w.line_item("395", "300", billing_date="2026-09-30")
    w.pushed(tg4, "I4", "300", {"hubspot_line_item_ids": ["395"]})
    # unbilled work
    w.time(21, 501, "2026-06-20", "1")  # approved
    w.time(22, 501, "2026-09-25", "2", closed=False)
    w.expense(23, 501, "2026-10-10", "40")
    # handover: 1 of 3 September deals got its project within 2 business days
    w.deal("290", "101", "1", close="2026-09-01")
    w.project(590, 401, "290", created="2026-09-03", cost_budget="1")
    w.deal("291", "101", "1", close="2026-09-10")
    w.project(591, 401, "291", created="2026-09-15", cost_budget="1")
    w.deal("292", "101", "1", close="2026-09-20")
    return w


def test_kpis_by_hand(tmp_path):
    result = run(kpi_world(), tmp_path)
    months = sorted({k["month"] for k in result["kpis"]})
    assert months == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    by_month = {
        m: {k["kpi"]: k["value"] for k in result["kpis"] if k["month"] == m} for m in months
    }
    # AR: Aug 1000; Sep 2000 + 500 = 2500; Oct (to 10-15) 2000 + 0 + 300 = 2300.
    # Sales: Aug 1000 (31 d), Sep 2500 (30 d), Oct 300 (15 d so far).
    assert by_month["2026-10"] == {
        "dso_countback": "39.0",  # 15 d (300), then 30 × 2000 / 2500 = 24
        "dso_simple": "54.5",  # 2300 / 3800 × 90 = 54.47
        "time_to_invoice_median_days": "5.0",  # the milestone
        "time_to_invoice_p90_days": "5.0",
        "first_correction_rate": "0.0000",
        "dunning_rate": "0.0000",  # I2 due 10-15: level 1 only from 10-29
        "automation_share": "1.0000",
        "unbilled_wip_eur": "340.00",  # 100 + 200 + 40
        "unbilled_wip_approved_eur": "140.00",
        "unbilled_wip_0_30_eur": "240.00",
        "unbilled_wip_31_60_eur": "0.00",
        "unbilled_wip_61_90_eur": "0.00",
        "unbilled_wip_91_plus_eur": "100.00",
        "revenue_leakage_eur": "110.00",  # 100 (117 days unbilled) + 10 under-charge
    }
    assert by_month["2026-09"] == {
        "dso_countback": "30.0",  # 2500 ≥ 2500: 30 days, nothing left
        "dso_simple": "64.3",  # 2500 / 3500 × 90 = 64.29
        "time_to_invoice_median_days": "14.0",  # 10, 14, 41
        "time_to_invoice_p90_days": "35.6",  # 14 + 0.8 × 27
        "first_correction_rate": "0.5000",  # I3 credited 11 days later; I2 not
        "dunning_rate": "0.5000",  # I1 paid before due; I3 settled 20 days after
        "automation_share": "0.0000",
        "handover_automation": "0.3333",
        "unbilled_wip_eur": "300.00",
        "unbilled_wip_approved_eur": "100.00",
        "unbilled_wip_0_30_eur": "200.00",
        "unbilled_wip_31_60_eur": "0.00",
        "unbilled_wip_61_90_eur": "0.00",
        "unbilled_wip_91_plus_eur": "100.00",
        "revenue_leakage_eur": "110.00",  # milestone due 09-30 is not due before 09-30
        "realisation_rate": "0.9500",  # 190 / 200
    }
    assert by_month["2026-08"] == {
        "dso_countback": "31.0",
        "dso_simple": "90.0",
        "time_to_invoice_median_days": "9.0",
        "time_to_invoice_p90_days": "9.0",
        "first_correction_rate": "0.0000",
        "automation_share": "1.0000",
        "unbilled_wip_eur": "190.00",  # entry 21 (72 days) + entry 12 (26 days, billed 09-15)
        "unbilled_wip_approved_eur": "190.00",
        "unbilled_wip_0_30_eur": "90.00",
        "unbilled_wip_31_60_eur": "0.00",
        "unbilled_wip_61_90_eur": "100.00",
        "unbilled_wip_91_plus_eur": "0.00",
        "revenue_leakage_eur": "10.00",
        "realisation_rate": "1.0000",
    }
    assert by_month["2026-07"]["unbilled_wip_31_60_eur"] == "100.00"
    assert by_month["2026-06"]["dso_countback"] == "0.0"


def test_kpi_leakage_counts_expenses_after_30_days_and_old_milestones(tmp_path):
    w = fixed_price_world()  # 341 due 10-14, 344 due 10-10, 345 due 10-01: none 30 days old
    w.line_item("347", "250", billing_date="2026-09-14")  # due 31 days before as_of
    w.find("hubspot/deals", "id", "240")["associations"]["line items"]["results"].append(
        {"id": "347", "type": "deal_to_line_item"}
    )
    w.expense(1, 501, "2026-09-14", "60")  # 31 days: counts
    w.expense(2, 501, "2026-09-15", "70")  # 30 days: not yet
    w.time(3, 501, "2026-09-14", "1")  # time only after 90 days
    assert kpi(run(w, tmp_path), "2026-10", "revenue_leakage_eur") == "310.00"


def test_kpis_in_foreign_currency_use_the_fx_seed(tmp_path):
    w = foreign_world()  # Gamma: 10 h × 100 USD on 2026-10-01 (1.10 USD per EUR)
    assert kpi(run(w, tmp_path), "2026-10", "unbilled_wip_eur") == "2909.09"  # 2000 + 909.09


# ---------------------------------------------------------------------------------------
# a committed fixture folder: its answer_key.json was checked by hand, value by value


def test_committed_fixture_folder_matches_its_answer_key():
    root = FIXTURES / "mini"
    key = json.loads((root / "answer_key.json").read_text())
    result = evaluate(root)
    assert result["findings"] == key["findings"]
    assert result["drafts"] == key["drafts"]
    assert result["kpis"] == key["kpis"]
    assert key["drafts"][0]["draft_key"] == "TG-6b86b273ff34"  # sha256("1")


def test_a_lost_deals_rates_are_no_contract(tmp_path):
    w = base()
    w.company("102", "Beta AG")
    w.client(402, "Beta AG")
    w.deal("299", "102", "100", stage="closedlost", items=("399",))
    w.line_item("399", "115", "10", service_type="consulting")
    w.project(502, 402, "299")
    w.time(1, 502, "2026-10-01", "1", rate="100")  # rate card says 100: no mismatch
    assert found(run(w, tmp_path), "rate_mismatch") == []


# ---------------------------------------------------------------------------------------
# corrections (§7)


def correction_world() -> W:
    w = base()
    w.time(1, 501, "2026-09-01", "3", invoice="INV-1")
    w.time(2, 501, "2026-09-02", "2", invoice="INV-1")
    w.expense(3, 501, "2026-09-02", "50", invoice="INV-1")
    w.invoice("I1", "INV-1", "C1", "2026-09-30", "654.50", tax="104.50", reference="TG-" + "9" * 12)
    w.post("I1")
    time_ids, expense_ids = {"harvest_time_entry_ids": [1, 2]}, {"harvest_expense_ids": [3]}
    w.pushed(
        "TG-" + "9" * 12,
        "I1",
        "654.50",
        {},
        lines=[
            {
                "line_no": 1,
                "kind": "time",
                "quantity": "5.00",
                "unit_amount": "100.00",
                "line_amount": "500.00",
                "source_ids": time_ids,
            },
            {
                "line_no": 2,
                "kind": "expense",
                "quantity": "1.00",
                "unit_amount": "50.00",
                "line_amount": "50.00",
                "source_ids": expense_ids,
            },
        ],
    )
    return w


def test_correction_draft_for_cut_hours_and_unbillable_expense(tmp_path):
    from taktgeber.oracle.corrections import correction_drafts

    w = correction_world()
    assert correction_drafts(build_context(w.write(tmp_path / "a"))) == []
    w.find("harvest/time_entries", "id", 2)["hours"] = Decimal(1)  # cut by one hour
    w.find("harvest/expenses", "id", 3)["billable"] = False
    (draft,) = correction_drafts(build_context(w.write(tmp_path / "b")))
    assert draft.as_dict() == {
        "draft_key": draft_key(["credit:I1", 1, 2, 3]),
        "original_invoice_id": "I1",
        "original_invoice_number": "INV-1",
        "hubspot_company_id": "101",
        "currency": "EUR",
        "tax_category": "S",
        "net": "150.00",
        "tax": "28.50",
        "gross": "178.50",
        "line_count": 2,
    }
    assert [(ln.quantity, ln.line_amount) for ln in draft.lines] == [
        (Decimal("1.00"), Decimal("100.00")),
        (Decimal(1), Decimal("50.00")),
    ]
    # once a credit note of that size is allocated, nothing is left to correct
    w.credit_note("N1", "C1", "2026-10-05", "178.50", [("I1", "178.50", "2026-10-05")])
    assert correction_drafts(build_context(w.write(tmp_path / "c"))) == []


def test_customer_kpis_split_the_month_total(tmp_path):
    from taktgeber.oracle.kpis import compute_customer_kpis, compute_kpis

    w = kpi_world()
    w.company("102", "Beta AG")
    w.contact("C2", "Beta AG", number="102")
    w.client(402, "Beta AG")
    w.deal("299", "102", "1000", close="2026-06-01")
    w.project(599, 402, "299", cost_budget="1000")
    w.time(31, 599, "2026-10-01", "2")
    w.invoice(
        "I9", "INV-9", "C2", "2026-10-02", "500", due="2026-11-01", reference="TG-" + "8" * 12
    )
    ctx = build_context(w.write(tmp_path))
    rows = compute_customer_kpis(ctx)

    def value(company: str | None, name: str) -> str | None:
        source = compute_kpis(ctx) if company is None else rows
        return next(
            (r["value"] for r in source
             if r["month"] == "2026-10" and r["kpi"] == name
             and (company is None or r["hubspot_company_id"] == company)),
            None,
        )  # fmt: skip

    assert value("101", "unbilled_wip_eur") == "340.00"
    assert value("102", "unbilled_wip_eur") == "200.00"
    assert value(None, "unbilled_wip_eur") == "540.00"
    assert value("102", "automation_share") == "1.0000"
    assert value("102", "dso_countback") == "15.0"  # AR 500 ≥ Oct sales 500: 15 days, none left
    assert value("101", "dso_countback") == "39.0"
    assert {r["hubspot_company_id"] for r in rows} == {"101", "102"}
