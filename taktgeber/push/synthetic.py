"""Synthetic invoice drafts for the push job's tests and benchmark.

Writes `fct_invoice_drafts` and `fct_invoice_draft_lines` with the marts' columns
(DESIGN.md §7) into a warehouse file, for the given Xero contacts. Every draft has a
time line and an expense line; amounts follow the §7 rounding rules, so the expected
totals are exact.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from taktgeber.keys import draft_key
from taktgeber.money import round_money
from taktgeber.push.arrow_insert import insert_rows

DRAFT_COLUMNS = """
    draft_key varchar, hubspot_company_id varchar, xero_contact_id varchar,
    harvest_project_id bigint, currency_code varchar, billing_month varchar,
    draft_date date, tax_category varchar, xero_tax_type varchar,
    net decimal(18, 2), tax decimal(18, 2), gross decimal(18, 2), line_count integer,
    due_date date, notes varchar[], status varchar, reasons varchar[]
"""
LINE_COLUMNS = """
    draft_key varchar, line_no integer, kind varchar, description varchar,
    quantity decimal(18, 4), unit_amount decimal(18, 4), line_amount decimal(18, 2),
    account_code varchar, harvest_project_id bigint, service_type varchar,
    harvest_time_entry_ids bigint[], harvest_expense_ids bigint[],
    hubspot_line_item_ids varchar[]
"""
REVERSE_CHARGE_NOTE = "Steuerschuldnerschaft des Leistungsempfängers / reverse charge"
TAX = {"S": ("TAX001", Decimal("0.19")), "AE": ("ECOUTPUTSERVICES", Decimal(0))}


@dataclass(frozen=True)
class Contact:
    contact_id: str
    company_id: str


def contacts_from_fixture(world: Path) -> list[Contact]:
    """Customers of a fixture folder's `xero/Contacts.json` (ContactNumber = company id)."""
    records = json.loads((world / "xero" / "Contacts.json").read_text())
    contacts = [
        Contact(str(r["ContactID"]), str(r.get("ContactNumber") or r["ContactID"]))
        for r in records
        if r.get("ContactStatus", "ACTIVE") == "ACTIVE" and r.get("IsCustomer", True)
    ]
    if not contacts:
        raise ValueError(f"{world}/xero/Contacts.json has no active customer contacts")
    return contacts


def draft_rows(n: int, contacts: list[Contact], start: int = 0) -> tuple[list, list]:
    """`n` ready drafts (rows for the two tables), round-robin over `contacts`."""
    drafts, lines = [], []
    for i in range(start, start + n):
        contact = contacts[i % len(contacts)]
        category = "AE" if i % 5 == 4 else "S"
        tax_type, rate = TAX[category]
        project = 500_000 + i
        time_ids = [10_000_000 + 3 * i, 10_000_000 + 3 * i + 1]
        expense_ids = [20_000_000 + i]
        key = draft_key([*time_ids, *expense_ids])
        hours = Decimal("7.50") + Decimal(i % 4)
        price = Decimal("120.00")
        time_net = round_money(hours * price)
        expense_net = Decimal("45.50")
        net = time_net + expense_net
        tax = round_money(net * rate)
        month = dt.date(2026, 1 + i % 9, 1)
        draft_date = dt.date(month.year, month.month + 1, 1)
        notes = [REVERSE_CHARGE_NOTE] if category == "AE" else []
        drafts.append(
            (
                key, contact.company_id, contact.contact_id, project, "EUR",
                month.strftime("%Y-%m"), draft_date, category, tax_type, net, tax, net + tax,
                2, draft_date + dt.timedelta(days=14), notes, "ready", [],
            )
        )  # fmt: skip
        lines.append(
            (
                key, 1, "time", f"Consulting {month:%Y-%m}", hours, price, time_net, "8400",
                project, "consulting", time_ids, None, None,
            )
        )  # fmt: skip
        lines.append(
            (
                key, 2, "expense", "Travel", Decimal(1), expense_net, expense_net, "8400",
                project, None, None, expense_ids, None,
            )
        )  # fmt: skip
    return drafts, lines


def _names(columns: str) -> list[str]:
    return [part.split()[0] for part in re.sub(r"\([^)]*\)", "", columns).split(",")]


def write_drafts(
    warehouse: Path,
    n: int,
    contacts: list[Contact],
    schema: str = "main_marts",
    start: int = 0,
) -> list[str]:
    """Create (or replace) the two draft marts with `n` ready drafts; returns their keys."""
    drafts, lines = draft_rows(n, contacts, start)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {schema}.fct_invoice_drafts ({DRAFT_COLUMNS})")
        con.execute(f"create or replace table {schema}.fct_invoice_draft_lines ({LINE_COLUMNS})")
        insert_rows(con, f"{schema}.fct_invoice_drafts", _names(DRAFT_COLUMNS), drafts)
        insert_rows(con, f"{schema}.fct_invoice_draft_lines", _names(LINE_COLUMNS), lines)
    finally:
        con.close()
    return [row[0] for row in drafts]


def write_passing_build(target_dir: Path) -> Path:
    """A dbt `run_results.json` of a build whose tests all passed."""
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / "run_results.json"
    path.write_text(
        json.dumps(
            {
                "metadata": {"dbt_version": "1.11.0"},
                "results": [
                    {"unique_id": "model.taktgeber.fct_invoice_drafts", "status": "success"},
                    {
                        "unique_id": "test.taktgeber.unique_fct_invoice_drafts_draft_key",
                        "status": "pass",
                    },
                    {"unique_id": "test.taktgeber.warn_only_check", "status": "warn"},
                ],
            }
        )
    )
    return path
