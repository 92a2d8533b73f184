"""Invoice and credit-note drafts as the push job reads them from the marts.

The marts are built by dbt (DESIGN.md §7). The push job finds each table by name in
whatever schema dbt wrote it to, so a custom schema in `dbt_project.yml` needs no
change here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

from taktgeber.money import to_decimal

DRAFTS_TABLE = "fct_invoice_drafts"
DRAFT_LINES_TABLE = "fct_invoice_draft_lines"
CREDIT_NOTE_DRAFTS_TABLE = "fct_credit_note_drafts"
CREDIT_NOTE_LINES_TABLE = "fct_credit_note_draft_lines"

# Source-id kinds of DESIGN.md §9, and which line kind bills which.
SOURCE_ID_KEYS = ("harvest_time_entry_ids", "harvest_expense_ids", "hubspot_line_item_ids")
SOURCE_KEY_BY_KIND = {
    "time": "harvest_time_entry_ids",
    "expense": "harvest_expense_ids",
    "milestone": "hubspot_line_item_ids",
}


class DraftTableMissing(LookupError):
    """The marts the push job reads do not exist yet (run `taktgeber build` first)."""


@dataclass(frozen=True)
class DraftLine:
    line_no: int
    kind: str
    description: str
    quantity: Decimal | None
    unit_amount: Decimal | None
    line_amount: Decimal | None
    account_code: str | None
    harvest_project_id: int | None
    service_type: str | None
    source_ids: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Draft:
    """One invoice (or credit-note) draft with its lines."""

    draft_key: str
    document_type: str  # "invoice" | "credit_note"
    hubspot_company_id: str | None
    xero_contact_id: str | None
    harvest_project_id: int | None
    currency_code: str
    billing_month: str | None  # YYYY-MM
    draft_date: dt.date | None
    due_date: dt.date | None
    tax_category: str | None
    xero_tax_type: str | None
    net: Decimal
    tax: Decimal
    gross: Decimal
    line_count: int
    notes: tuple[str, ...]
    status: str
    reasons: tuple[str, ...]
    lines: tuple[DraftLine, ...]
    # Credit notes only: the invoice they correct.
    original_draft_key: str | None = None
    original_invoice_number: str | None = None


def find_table(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """`schema.table` for a table or view by name, preferring a schema named like marts."""
    rows = con.execute(
        "select table_schema from information_schema.tables where table_name = ?", [table]
    ).fetchall()
    if not rows:
        return None
    schemas = sorted(r[0] for r in rows)
    schemas.sort(key=lambda s: (0 if "marts" in s else 1, s))
    return f'"{schemas[0]}"."{table}"'


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(str(value))


def _dec(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _month(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def _texts(value: object, sep: str) -> tuple[str, ...]:
    """A list column, or a text column with `sep`-separated items, as a tuple of strings."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v not in (None, ""))
    return tuple(part.strip() for part in str(value).split(sep) if part.strip())


def _source_ids(row: dict[str, Any], kind: str) -> dict[str, list[Any]]:
    """Source ids of a line, whichever way the mart spells them.

    Accepted: the three §9 list columns, their singular forms, or one generic
    `source_ids` list whose kind follows from the line kind.
    """
    ids: dict[str, list[Any]] = {}
    for key in SOURCE_ID_KEYS:
        for column in (key, key[:-1]):
            value = row.get(column)
            if value is None:
                continue
            values = list(value) if isinstance(value, list | tuple) else [value]
            ids.setdefault(key, []).extend(values)
    generic = row.get("source_ids")
    if generic is not None and kind in SOURCE_KEY_BY_KIND:
        values = list(generic) if isinstance(generic, list | tuple) else [generic]
        ids.setdefault(SOURCE_KEY_BY_KIND[kind], []).extend(values)
    for key, values in ids.items():
        if key.startswith("harvest_"):
            ids[key] = sorted({int(str(v)) for v in values})
        else:
            ids[key] = sorted({str(v) for v in values})
    return ids


def _line(row: dict[str, Any]) -> DraftLine:
    kind = str(row.get("kind") or "")
    return DraftLine(
        line_no=int(row["line_no"]),
        kind=kind,
        description=str(row.get("description") or ""),
        quantity=_dec(row.get("quantity")),
        unit_amount=_dec(row.get("unit_amount")),
        line_amount=_dec(row.get("line_amount")),
        account_code=_text(row.get("account_code")),
        harvest_project_id=_int(row.get("harvest_project_id")),
        service_type=_text(row.get("service_type")),
        source_ids=_source_ids(row, kind),
    )


def _draft(row: dict[str, Any], lines: list[DraftLine], document_type: str) -> Draft:
    return Draft(
        draft_key=str(row["draft_key"]),
        document_type=document_type,
        hubspot_company_id=_text(row.get("hubspot_company_id")),
        xero_contact_id=_text(row.get("xero_contact_id")),
        harvest_project_id=_int(row.get("harvest_project_id")),
        currency_code=str(row.get("currency_code") or row.get("currency") or ""),
        billing_month=_month(row.get("billing_month")),
        draft_date=_date(row.get("draft_date")),
        due_date=_date(row.get("due_date")),
        tax_category=_text(row.get("tax_category")),
        xero_tax_type=_text(row.get("xero_tax_type")),
        net=to_decimal(row.get("net") or 0),
        tax=to_decimal(row.get("tax") or 0),
        gross=to_decimal(row.get("gross") or 0),
        line_count=int(row.get("line_count") or len(lines)),
        notes=_texts(row.get("notes"), "\n"),
        status=str(row.get("status") or ""),
        reasons=_texts(row.get("reasons"), ","),
        lines=tuple(sorted(lines, key=lambda line: line.line_no)),
        original_draft_key=_text(row.get("original_draft_key")),
        original_invoice_number=_text(row.get("original_invoice_number")),
    )


def _read(
    con: duckdb.DuckDBPyConnection, drafts_table: str, lines_table: str, document_type: str
) -> list[Draft]:
    drafts_name = find_table(con, drafts_table)
    if drafts_name is None:
        return []
    lines_by_key: dict[str, list[DraftLine]] = {}
    lines_name = find_table(con, lines_table)
    if lines_name is not None:
        for row in _rows(con, f"select * from {lines_name}"):
            lines_by_key.setdefault(str(row["draft_key"]), []).append(_line(row))
    drafts = [
        _draft(row, lines_by_key.get(str(row["draft_key"]), []), document_type)
        for row in _rows(con, f"select * from {drafts_name}")
    ]
    return sorted(drafts, key=lambda d: d.draft_key)


def read_drafts(con: duckdb.DuckDBPyConnection) -> list[Draft]:
    """Every invoice draft (any status), sorted by draft key."""
    if find_table(con, DRAFTS_TABLE) is None:
        raise DraftTableMissing(
            f"no table {DRAFTS_TABLE} in the warehouse: run `taktgeber build` first"
        )
    return _read(con, DRAFTS_TABLE, DRAFT_LINES_TABLE, "invoice")


def read_credit_note_drafts(con: duckdb.DuckDBPyConnection) -> list[Draft]:
    """Every credit-note draft (any status); none when the mart does not exist."""
    return _read(con, CREDIT_NOTE_DRAFTS_TABLE, CREDIT_NOTE_LINES_TABLE, "credit_note")
