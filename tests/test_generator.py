"""The world generator: determinism, API shapes, and an answer key that agrees with the world."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from taktgeber.config import REPO_ROOT
from taktgeber.generator import generate
from taktgeber.keys import draft_key

RESOURCES = {
    "hubspot": ("companies", "deals", "line_items", "products"),
    "harvest": (
        "clients",
        "projects",
        "tasks",
        "task_assignments",
        "users",
        "time_entries",
        "expenses",
    ),
    "xero": ("Contacts", "Invoices", "CreditNotes", "Payments", "Journals", "Accounts", "TaxRates"),
}
SEEDS = (
    "service_catalogue",
    "rate_card",
    "tax_categories",
    "account_roles",
    "fx_rates",
    "business_calendar",
)
XERO_DATE = re.compile(r"/Date\(\d+\+0000\)/")
HARVEST_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
HUBSPOT_TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def oracle_evaluate() -> Any:
    try:
        from taktgeber.oracle import evaluate
    except ImportError:
        return None
    return evaluate


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small42")
    generate("small", 42, out)
    return out


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small42b")
    generate("small", 42, out)
    return out


def load(world: Path, system: str, resource: str) -> list[dict[str, Any]]:
    return json.loads((world / system / f"{resource}.json").read_text(encoding="utf-8"))


def answer(world: Path) -> dict[str, Any]:
    return json.loads((world / "answer_key.json").read_text(encoding="utf-8"))


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# -- determinism ------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(world: Path, twin: Path) -> None:
    a, b = files(world), files(twin)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def test_different_seed_gives_a_different_world(world: Path, tmp_path: Path) -> None:
    generate("small", 43, tmp_path, with_oracle=False)
    for name in ("harvest/time_entries.json", "hubspot/deals.json", "xero/Invoices.json"):
        assert (tmp_path / name).read_bytes() != (world / name).read_bytes()


# -- layout and counts ---------------------------------------------------------------------
def test_fixture_folder_layout_and_counts(world: Path) -> None:
    key = answer(world)
    assert key["as_of_date"] == "2026-10-15" and key["seller_country"] == "DE"
    for system, names in RESOURCES.items():
        for name in names:
            records = load(world, system, name)
            assert key["counts"][f"{system}/{name}"] == len(records)
    ledger = json.loads((world / "taktgeber" / "push_ledger.json").read_text(encoding="utf-8"))
    assert key["counts"]["taktgeber/push_ledger"] == len(ledger)
    for seed in SEEDS:
        assert (world / "seeds" / f"{seed}.csv").is_file()
    assert 2000 <= key["counts"]["harvest/time_entries"] <= 3500


def test_repo_seeds_are_the_worlds_seeds(world: Path) -> None:
    """`seeds/` holds exactly what `generate` writes (the same for every scale and seed)."""
    for seed in SEEDS:
        assert (REPO_ROOT / "seeds" / f"{seed}.csv").read_bytes() == (
            world / "seeds" / f"{seed}.csv"
        ).read_bytes()


def test_fx_seed_is_the_shipped_ecb_data(world: Path) -> None:
    rows = (world / "seeds" / "fx_rates.csv").read_text().splitlines()
    assert rows[0] == "rate_date,currency_code,units_per_eur"
    assert "2026-10-15,USD,1.1208" in rows
    calendar = (world / "seeds" / "business_calendar.csv").read_text().splitlines()
    assert "2026-10-03,false,German Unity Day" in calendar


# -- shapes (specs/source-apis.md) --------------------------------------------------------
def test_hubspot_records_have_string_properties(world: Path) -> None:
    for name in RESOURCES["hubspot"]:
        for record in load(world, "hubspot", name):
            assert set(record) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
            assert isinstance(record["id"], str)
            assert all(v is None or isinstance(v, str) for v in record["properties"].values())
            assert HUBSPOT_TS.fullmatch(record["properties"]["hs_lastmodifieddate"])
    deals = load(world, "hubspot", "deals")
    for deal in deals:
        assoc = deal["associations"]
        assert assoc["companies"]["results"][0]["type"] == "deal_to_company"
        assert all(r["type"] == "deal_to_line_item" for r in assoc["line items"]["results"])
        assert deal["properties"]["billing_model"] in ("time_and_materials", "fixed_price")
    assert {d["properties"]["dealstage"] for d in deals} >= {"closedwon", "closedlost"}
    assert any(d["properties"]["parent_deal_id"] for d in deals)
    items = load(world, "hubspot", "line_items")
    assert any(i["properties"]["billing_date"] for i in items)
    assert any(i["properties"]["requires_acceptance"] == "true" for i in items)


def test_harvest_records_nest_related_objects(world: Path) -> None:
    entries = load(world, "harvest", "time_entries")
    for entry in entries:
        for key in ("user", "client", "project", "task", "user_assignment", "task_assignment"):
            assert isinstance(entry[key], dict) and "id" in entry[key]
        assert entry["invoice"] is None or set(entry["invoice"]) == {"id", "number"}
        assert entry["is_billed"] == (entry["invoice"] is not None)
        assert (entry["billable_rate"] is None) == (not entry["billable"])
        assert HARVEST_TS.fullmatch(entry["updated_at"])
    for expense in load(world, "harvest", "expenses"):
        assert {"id", "name", "unit_price", "unit_name"} <= set(expense["expense_category"])
    for project in load(world, "harvest", "projects"):
        assert set(project["client"]) == {"id", "name", "currency"}


def test_xero_records_use_xero_dates_and_pascal_case(world: Path) -> None:
    for invoice in load(world, "xero", "Invoices"):
        assert XERO_DATE.fullmatch(invoice["Date"]) and XERO_DATE.fullmatch(invoice["DueDate"])
        assert XERO_DATE.fullmatch(invoice["UpdatedDateUTC"])
        assert invoice["DateString"].endswith("T00:00:00")
        assert invoice["Type"] == "ACCREC" and invoice["Status"] in ("AUTHORISED", "PAID")
        assert isinstance(invoice["CurrencyRate"], float | int)
        lines = sum(Decimal(str(li["LineAmount"])) for li in invoice["LineItems"])
        assert lines == Decimal(str(invoice["SubTotal"]))
        assert Decimal(str(invoice["SubTotal"])) + Decimal(str(invoice["TotalTax"])) == Decimal(
            str(invoice["Total"])
        )
    for name in ("Payments", "CreditNotes", "Contacts"):
        for record in load(world, "xero", name):
            assert XERO_DATE.fullmatch(record["UpdatedDateUTC"])
    journals = load(world, "xero", "Journals")
    assert [j["JournalNumber"] for j in journals] == list(range(1, len(journals) + 1))
    for journal in journals:
        total = sum(Decimal(str(line["NetAmount"])) for line in journal["JournalLines"])
        assert total == 0, journal["JournalID"]
    assert {j["SourceType"] for j in journals} == {
        "ACCREC",
        "ACCRECPAYMENT",
        "ACCRECCREDIT",
        "MANJOURNAL",
    }


def test_pushed_invoices_carry_their_draft_key(world: Path) -> None:
    invoices = {i["InvoiceID"]: i for i in load(world, "xero", "Invoices")}
    ledger = json.loads((world / "taktgeber" / "push_ledger.json").read_text(encoding="utf-8"))
    found = 0
    for record in ledger:
        ids = [i for line in record["lines"] for v in line["source_ids"].values() for i in v]
        assert record["draft_key"] == record["reference"] == draft_key(ids)
        invoice = invoices.get(record["xero_invoice_id"])
        if invoice is not None:
            found += 1
            assert invoice["Reference"] == record["draft_key"]
            assert Decimal(record["total"]) == Decimal(str(invoice["Total"]))
    manual = [i for i in invoices.values() if not i["Reference"].startswith("TG-")]
    assert found > 10 and len(manual) > 5


def test_billed_work_names_an_existing_invoice_number(world: Path) -> None:
    numbers = {i["InvoiceNumber"] for i in load(world, "xero", "Invoices")}
    billed = [e for e in load(world, "harvest", "time_entries") if e["invoice"]]
    assert billed and all(e["invoice"]["number"] in numbers for e in billed)


# -- the answer key agrees with the world -----------------------------------------------------
def test_every_check_is_planted_in_the_small_world(world: Path) -> None:
    from taktgeber.generator.params import CHECKS

    planted = {f["check_name"] for f in answer(world)["findings"]}
    assert planted == set(CHECKS)


def test_planted_records_exist_with_their_amounts(world: Path) -> None:
    entries = {e["id"]: e for e in load(world, "harvest", "time_entries")}
    expenses = {e["id"]: e for e in load(world, "harvest", "expenses")}
    deals = {d["id"]: d for d in load(world, "hubspot", "deals")}
    items = {i["id"]: i for i in load(world, "hubspot", "line_items")}
    projects = {p["id"]: p for p in load(world, "harvest", "projects")}
    invoices = {i["InvoiceID"]: i for i in load(world, "xero", "Invoices")}
    notes = {c["CreditNoteID"]: c for c in load(world, "xero", "CreditNotes")}
    journals = {j["JournalID"]: j for j in load(world, "xero", "Journals")}
    contacts = {c["ContactID"]: c for c in load(world, "xero", "Contacts")}
    companies = {c["id"]: c for c in load(world, "hubspot", "companies")}
    for f in answer(world)["findings"]:
        keys, amount = f["keys"], Decimal(f["amount_at_stake"]["amount"])
        check = f["check_name"]
        if "harvest_time_entry_id" in keys:
            entry = entries[keys["harvest_time_entry_id"]]
            if check != "rate_mismatch":
                assert Decimal(str(entry["hours"])) * Decimal(str(entry["billable_rate"])) == amount
        elif "harvest_expense_id" in keys:
            assert Decimal(str(expenses[keys["harvest_expense_id"]]["total_cost"])) == amount
        elif "hubspot_deal_id" in keys:
            deal = deals[keys["hubspot_deal_id"]]
            if check != "schedule_total_mismatch":
                assert Decimal(deal["properties"]["amount"]) == amount
        elif "hubspot_line_item_id" in keys:
            assert Decimal(items[keys["hubspot_line_item_id"]]["properties"]["amount"]) == amount
        elif "harvest_project_id" in keys:
            assert keys["harvest_project_id"] in projects
        elif check in ("invoice_not_posted", "overdue_receivable"):
            invoice = invoices[keys["xero_invoice_id"]]
            field = "Total" if check == "invoice_not_posted" else "AmountDue"
            assert Decimal(str(invoice[field])) == amount
        elif "xero_invoice_id" in keys:
            assert keys["xero_invoice_id"] in invoices
        elif "xero_credit_note_id" in keys:
            assert Decimal(str(notes[keys["xero_credit_note_id"]]["RemainingCredit"])) == amount
        elif "xero_journal_id" in keys:
            assert journals[keys["xero_journal_id"]]["SourceType"] == "MANJOURNAL"
        elif "xero_contact_id" in keys:
            assert "ContactNumber" not in contacts[keys["xero_contact_id"]]
        elif "hubspot_company_id" in keys:
            assert keys["hubspot_company_id"] in companies
        else:
            assert check == "pushed_draft_missing_in_accounting"
        if f["amount_at_stake"]["currency"] == "EUR":
            assert f["amount_at_stake_eur"] == f["amount_at_stake"]["amount"]


def _key(f: dict[str, Any]) -> tuple[str, str]:
    return f["check_name"], json.dumps(f["keys"], sort_keys=True)


def _amounts(f: dict[str, Any]) -> tuple[Any, ...]:
    return f["amount_at_stake_eur"], f["amount_at_stake"], f.get("dunning_level")


@pytest.mark.skipif(oracle_evaluate() is None, reason="taktgeber.oracle not importable")
def test_oracle_finds_exactly_the_planted_findings(world: Path) -> None:
    from datetime import date

    result = oracle_evaluate()(world, date(2026, 10, 15))
    planted = {_key(f): _amounts(f) for f in answer(world)["findings"]}
    found = {_key(f): _amounts(f) for f in result["findings"]}
    assert sorted(set(planted) - set(found)) == []  # planted ⊆ found
    assert sorted(set(found) - set(planted)) == []  # clean elsewhere
    assert {k: v for k, v in found.items() if planted[k] != v} == {}
    key = answer(world)
    assert key["kpis"] == result["kpis"] and key["drafts"] == result["drafts"]
    assert key["drafts"] and key["kpis"]


@pytest.mark.skipif(oracle_evaluate() is None, reason="taktgeber.oracle not importable")
def test_a_world_without_planted_findings_is_clean(tmp_path: Path) -> None:
    from datetime import date

    generate("small", 5, tmp_path, finding_rate=0, with_oracle=False)
    assert answer(tmp_path)["findings"] == []
    assert oracle_evaluate()(tmp_path, date(2026, 10, 15))["findings"] == []


def test_finding_rates_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown check"):
        generate("small", 1, tmp_path, finding_rates={"no_such_check": 0.1})


def test_small_world_has_every_kind_of_record(world: Path) -> None:
    companies = load(world, "hubspot", "companies")
    assert {c["properties"]["country"] for c in companies} >= {"DE", "AT", "CH"}
    invoices = load(world, "xero", "Invoices")
    assert {i["CurrencyCode"] for i in invoices} >= {"EUR", "CHF"}
    assert {li["TaxType"] for i in invoices for li in i["LineItems"]} >= {
        "TAX001",
        "ECOUTPUTSERVICES",
    }
    payments = load(world, "xero", "Payments")
    assert {p["Account"]["Code"] for p in payments} == {"1200", "4736"}
    notes = load(world, "xero", "CreditNotes")
    assert any(n["Allocations"] for n in notes) and any(not n["Allocations"] for n in notes)
    assert any(i["Status"] == "AUTHORISED" for i in invoices) and any(
        i["Status"] == "PAID" for i in invoices
    )
    entries = load(world, "harvest", "time_entries")
    assert any(not e["is_closed"] for e in entries) and any(not e["billable"] for e in entries)
    assert any(e["invoice"] is None and e["billable"] and e["is_closed"] for e in entries)
    projects = load(world, "harvest", "projects")
    assert any(p["is_fixed_fee"] for p in projects) and any(p["cost_budget"] for p in projects)
    expenses = load(world, "harvest", "expenses")
    assert any(e["invoice"] for e in expenses)
