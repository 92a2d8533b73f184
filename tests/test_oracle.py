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

    def deal(self, did: str, company: str, amount: str, close: str = "2026-06-01", stage="closedwon",
             currency="EUR", model="time_and_materials", parent: str | None = None,
             items: tuple[str, ...] = ()):
        p = {"dealname": f"Deal {did}", "amount": amount, "closedate": f"{close}T10:00:00.000Z",
             "dealstage": stage, "deal_currency_code": currency, "billing_model": model,
             "parent_deal_id": parent}
        assoc = {"companies": {"results": [{"id": company, "type": "deal_to_company"}]},
                 "line items": {"results": [{"id": i, "type": "deal_to_line_item"} for i in items]}}
        return self.add("hubspot/deals", {"id": did, "properties": p, "associations": assoc})

    def line_item(self, lid: str, price: str, quantity: str = "1", service_type: str | None = None,
                  billing_date: str | None = None, requires_acceptance: bool = False,
                  accepted_date: str | None = None):
        amount = str(Decimal(price) * Decimal(quantity))
        p = {"name": f"Item {lid}", "price": price, "quantity": quantity, "amount": amount,
             "service_type": service_type, "billing_date": billing_date,
             "requires_acceptance": "true" if requires_acceptance else "false",
             "accepted_date": accepted_date}
        return self.add("hubspot/line_items", {"id": lid, "properties": p})

    # -- Harvest ---------------------------------------------------------------------
    def client(self, cid: int, name: str, currency: str = "EUR"):
        return self.add("harvest/clients", {"id": cid, "name": name, "currency": currency,
                                            "is_active": True})

    def project(self, pid: int, client: int, code: str | None, fixed_fee: bool = False,
                cost_budget: str | None = "10000", fee: str | None = None,
                starts="2026-06-01", ends="2026-12-31", created="2026-06-02", billable=True):
        c = self.find("harvest/clients", "id", client)
        return self.add("harvest/projects", {
            "id": pid, "client": {"id": client, "name": c["name"], "currency": c["currency"]},
            "name": f"Project {pid}", "code": code, "is_active": True, "is_billable": billable,
            "is_fixed_fee": fixed_fee, "cost_budget": None if cost_budget is None else Decimal(cost_budget),
            "fee": None if fee is None else Decimal(fee), "starts_on": starts, "ends_on": ends,
            "created_at": f"{created}T09:00:00Z"})

    def time(self, tid: int, project: int, day: str, hours: str, rate: str | None = "100",
             task="Consulting", closed=True, billable=True, invoice: str | None = None):
        pr = self.find("harvest/projects", "id", project)
        return self.add("harvest/time_entries", {
            "id": tid, "spent_date": day, "hours": Decimal(hours), "is_closed": closed,
            "billable": billable, "billable_rate": None if rate is None else Decimal(rate),
            "client": {"id": pr["client"]["id"], "name": pr["client"]["name"]},
            "project": {"id": project, "name": pr["name"]}, "task": {"id": 1, "name": task},
            "user": {"id": 1, "name": "Ada"},
            "invoice": None if invoice is None else {"id": 9000 + tid, "number": invoice}})

    def expense(self, eid: int, project: int, day: str, cost: str, closed=True, billable=True,
                invoice: str | None = None):
        pr = self.find("harvest/projects", "id", project)
        return self.add("harvest/expenses", {
            "id": eid, "spent_date": day, "total_cost": Decimal(cost), "is_closed": closed,
            "billable": billable, "client": pr["client"],
            "project": {"id": project, "name": pr["name"], "code": pr["code"]},
            "invoice": None if invoice is None else {"id": 8000 + eid, "number": invoice}})

    # -- Xero ------------------------------------------------------------------------
    def contact(self, cid: str, name: str, number: str | None = None, tax: str | None = None):
        return self.add("xero/Contacts", {"ContactID": cid, "ContactNumber": number, "Name": name,
                                          "TaxNumber": tax, "IsCustomer": True})

    def invoice(self, iid: str, number: str, contact: str, day: str, total: str, tax: str = "0",
                due: str | None = None, status="AUTHORISED", currency="EUR", rate="1",
                reference: str | None = None):
        c = self.find("xero/Contacts", "ContactID", contact)
        sub = Decimal(total) - Decimal(tax)
        return self.add("xero/Invoices", {
            "Type": "ACCREC", "InvoiceID": iid, "InvoiceNumber": number, "Reference": reference,
            "Contact": {"ContactID": contact, "Name": c["Name"]}, "Date": xdate(day),
            "DueDate": xdate(due or day), "Status": status, "LineAmountTypes": "Exclusive",
            "CurrencyCode": currency, "CurrencyRate": Decimal(rate), "SubTotal": sub,
            "TotalTax": Decimal(tax), "Total": Decimal(total)})

    def journal(self, jid: str, number: int, day: str, source_type: str, source_id: str | None,
                lines: list[tuple[str, str, str, str]]):
        """lines: (account code, account type, net, tax)."""
        return self.add("xero/Journals", {
            "JournalID": jid, "JournalNumber": number, "JournalDate": xdate(day),
            "SourceType": source_type, "SourceID": source_id,
            "JournalLines": [{"AccountCode": code, "AccountType": kind, "NetAmount": Decimal(net),
                              "TaxAmount": Decimal(tax), "GrossAmount": Decimal(net) + Decimal(tax)}
                             for code, kind, net, tax in lines]})

    def post(self, invoice_id: str, number: int = 1):
        """The journal Xero posts for an EUR invoice (AR against revenue and output VAT)."""
        inv = self.find("xero/Invoices", "InvoiceID", invoice_id)
        total, tax = inv["Total"] / inv["CurrencyRate"], inv["TotalTax"] / inv["CurrencyRate"]
        day = datetime.fromtimestamp(int(inv["Date"][6:-7]) / 1000, UTC).date().isoformat()
        return self.journal(f"J-{invoice_id}", number, day, "ACCREC", invoice_id, [
            ("1400", "CURRENT", str(total), "0"), ("8400", "REVENUE", str(-(total - tax)), "0"),
            ("1776", "CURRLIAB", str(-tax), "0")])

    def credit_note(self, nid: str, contact: str, day: str, total: str,
                    allocations: list[tuple[str, str, str]] = (), status="AUTHORISED"):
        return self.add("xero/CreditNotes", {
            "CreditNoteID": nid, "CreditNoteNumber": f"CN-{nid}", "Type": "ACCRECCREDIT",
            "Status": status, "Contact": {"ContactID": contact}, "Date": xdate(day),
            "Total": Decimal(total), "CurrencyCode": "EUR", "CurrencyRate": Decimal(1),
            "Allocations": [{"AllocationID": f"A-{inv}", "Amount": Decimal(amt), "Date": xdate(d),
                             "Invoice": {"InvoiceID": inv}} for inv, amt, d in allocations]})

    def payment(self, pid: str, invoice: str, day: str, amount: str, account: str = "1200"):
        return self.add("xero/Payments", {
            "PaymentID": pid, "Date": xdate(day), "Amount": Decimal(amount), "Status": "AUTHORISED",
            "PaymentType": "ACCRECPAYMENT", "Invoice": {"InvoiceID": invoice},
            "Account": {"AccountID": f"acc-{account}", "Code": account}})

    def pushed(self, key: str, invoice_id: str | None, total: str, ids: dict[str, list[Any]],
               status="succeeded", pushed_at="2026-09-30T08:00:00Z"):
        self.ledger.append({
            "draft_key": key, "reference": key, "idempotency_key": key, "status": status,
            "attempts": 1, "pushed_at": pushed_at, "xero_invoice_id": invoice_id,
            "currency": "EUR", "subtotal": total, "total_tax": "0", "total": total,
            "lines": [{"line_no": 1, "kind": "time", "source_ids": ids}]})

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
    w.company("101", "Acme GmbH", vat_id="DE136695976", cash_discount_percent="2",
              cash_discount_days="10")
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
        (f["keys"], f["amount_at_stake_eur"], f["amount_at_stake"]["amount"],
         f["amount_at_stake"]["currency"])
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
    assert quantile_cont([Decimal(1), Decimal(2), Decimal(3), Decimal(4)], Decimal("0.5")) == Decimal("2.5")
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
