"""Compare the drafts and KPI marts with a world's answer key (docs/answer-key.md).

Shared by the tests (`tests/test_invoicing*.py`, `tests/test_kpi*.py`) and any CLI check:
each function returns one human-readable line per difference, empty when all match.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from taktgeber.money import to_decimal

DRAFTS_TABLE = "fct_invoice_drafts"
KPI_TABLE = "rpt_kpi_monthly"
KPI_CUSTOMER_TABLE = "rpt_kpi_monthly_customer"

#: answer-key field → mart column, for the scalar fields of a draft.
_DRAFT_FIELDS = {
    "hubspot_company_id": "hubspot_company_id",
    "harvest_project_id": "harvest_project_id",
    "currency": "currency_code",
    "billing_month": "billing_month",
    "tax_category": "tax_category",
    "net": "net",
    "tax": "tax",
    "gross": "gross",
    "line_count": "line_count",
    "status": "status",
}
_DECIMAL_FIELDS = {"net", "tax", "gross"}


def _table(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """`schema.table` of a mart by name (whatever schema dbt wrote it to)."""
    rows = con.execute(
        "select table_schema from information_schema.tables where table_name = ?", [name]
    ).fetchall()
    if not rows:
        raise LookupError(f"no table {name} in the warehouse: run `taktgeber build` first")
    schemas = sorted((r[0] for r in rows), key=lambda s: (0 if "marts" in s else 1, s))
    return f'"{schemas[0]}"."{name}"'


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _norm(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in _DECIMAL_FIELDS:
        return to_decimal(value)
    if field in {"line_count", "harvest_project_id"}:
        return int(value)
    return str(value)


def _reasons(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return sorted(part.strip() for part in value.split(",") if part.strip())
    return sorted(str(v) for v in value)


def compare_drafts(con: duckdb.DuckDBPyConnection, answer_key: dict[str, Any]) -> list[str]:
    """Differences between `fct_invoice_drafts` and the answer key's `drafts`, by draft key."""
    expected = {d["draft_key"]: d for d in answer_key.get("drafts", [])}
    actual = {r["draft_key"]: r for r in _rows(con, f"select * from {_table(con, DRAFTS_TABLE)}")}
    problems: list[str] = []
    for key in sorted(expected.keys() - actual.keys()):
        e = expected[key]
        problems.append(
            f"draft {key} missing: company {e.get('hubspot_company_id')}, project "
            f"{e.get('harvest_project_id')}, {e.get('currency')} {e.get('billing_month')}, "
            f"net {e.get('net')}, {e.get('line_count')} lines, {e.get('status')}"
        )
    for key in sorted(actual.keys() - expected.keys()):
        a = actual[key]
        problems.append(
            f"draft {key} unexpected: company {a.get('hubspot_company_id')}, project "
            f"{a.get('harvest_project_id')}, {a.get('currency_code')} {a.get('billing_month')}, "
            f"net {a.get('net')}, {a.get('line_count')} lines, {a.get('status')}"
        )
    for key in sorted(expected.keys() & actual.keys()):
        e, a = expected[key], actual[key]
        for field, column in _DRAFT_FIELDS.items():
            want, got = _norm(field, e.get(field)), _norm(field, a.get(column))
            if want != got:
                problems.append(f"draft {key}: {field} expected {want!r}, got {got!r}")
        want_reasons, got_reasons = _reasons(e.get("reasons")), _reasons(a.get("reasons"))
        if want_reasons != got_reasons:
            problems.append(f"draft {key}: reasons expected {want_reasons}, got {got_reasons}")
    return problems


def compare_kpis(con: duckdb.DuckDBPyConnection, answer_key: dict[str, Any]) -> list[str]:
    """Differences between `rpt_kpi_monthly` and the answer key's `kpis`, by month × KPI.

    Every expected value must be present and equal (as a Decimal); a KPI the mart reports
    for a month the key has no value for is a difference too, unless its value is null.
    """
    expected: dict[tuple[str, str], Decimal | None] = {
        (k["month"], k["kpi"]): None if k.get("value") is None else to_decimal(k["value"])
        for k in answer_key.get("kpis", [])
    }
    actual: dict[tuple[str, str], Decimal | None] = {
        (str(r["month"]), str(r["kpi"])): None if r["value"] is None else to_decimal(r["value"])
        for r in _rows(con, f"select month, kpi, value from {_table(con, KPI_TABLE)}")
    }
    problems: list[str] = []
    for month, kpi in sorted(expected):
        if (month, kpi) not in actual:
            problems.append(f"{month} {kpi}: expected {expected[(month, kpi)]}, missing")
        elif actual[(month, kpi)] != expected[(month, kpi)]:
            problems.append(
                f"{month} {kpi}: expected {expected[(month, kpi)]}, got {actual[(month, kpi)]}"
            )
    months = {month for month, _ in expected}
    for month, kpi in sorted(actual.keys() - expected.keys()):
        if month in months and actual[(month, kpi)] is not None:
            problems.append(f"{month} {kpi}: got {actual[(month, kpi)]}, not in the answer key")
    return problems


def compare_warehouse(warehouse: Path, answer_key: dict[str, Any]) -> list[str]:
    """Every difference between a built warehouse and a world's answer key: the open
    findings (`taktgeber.verify.compare_findings`), the drafts and the KPIs."""
    from taktgeber.verify import compare_findings

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return (
            compare_findings(con, answer_key)
            + compare_drafts(con, answer_key)
            + compare_kpis(con, answer_key)
        )
    finally:
        con.close()


#: The models a rebuild of only what changed writes into (the incremental ones and the
#: marts they feed), each with the columns that order its rows.
REBUILT_MODELS = {
    "stg_harvest__time_entries": "harvest_time_entry_id",
    "int_work_billings_linked": "billing_id",
    "int_work_items_billed": "work_item_id",
    "int_time_entries_rate_checked": "harvest_time_entry_id",
    "chk_double_billed_work": "finding_keys",
    "int_invoiced_work_corrected": "correction_line_id",
    "int_draft_items_selected": "work_item_kind, source_id",
    "int_draft_lines_grouped": "draft_line_id",
    "int_work_items_valued": "work_item_id",
    "int_kpi_work_computed": "month, hubspot_company_id",
    "int_receivables_month_ended": "month, hubspot_company_id",
    "int_kpi_dso_computed": "month, hubspot_company_id",
    "int_kpis_unpivoted": "kpi_value_id",
    "stg_xero__journal_lines": "xero_journal_line_id",
    "fct_invoice_drafts": "draft_key",
    "fct_invoice_draft_lines": "draft_line_id",
    "fct_credit_note_drafts": "draft_key",
    "rpt_kpi_monthly": "month, kpi",
    "rpt_kpi_monthly_customer": "month, hubspot_company_id, kpi",
}

OPEN_FINDINGS_SQL = (
    "select exception_id, check_name, amount_at_stake_eur from fct_exceptions "
    "where status = 'open' order by exception_id"
)


def compare_rebuilt_models(warehouse: Path, other: Path) -> list[str]:
    """The models of `REBUILT_MODELS`, and the open findings, whose rows differ between two
    warehouses built from the same raw data (e.g. a rebuild of only what changed against a
    build from scratch); empty when all are equal. The staging invocation id differs by
    design; doubles are compared to 6 decimals (a sum of doubles may differ in its last
    bit with the order its threads add in)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    con_other = duckdb.connect(str(other), read_only=True)
    try:
        differing = []
        for name, order_by in REBUILT_MODELS.items():
            exclude = (
                " exclude (staged_in_invocation)" if name == "stg_harvest__time_entries" else ""
            )
            doubles = [
                f"round({column}, 6) as {column}"
                for column, kind in con.execute(
                    f"select column_name, column_type from (describe {name})"
                ).fetchall()
                if kind == "DOUBLE"
            ]
            replace = f" replace ({', '.join(doubles)})" if doubles else ""
            sql = f"select *{exclude}{replace} from {name} order by {order_by}"
            if con.execute(sql).fetchall() != con_other.execute(sql).fetchall():
                differing.append(f"{name}: rows differ")
        if (
            con.execute(OPEN_FINDINGS_SQL).fetchall()
            != con_other.execute(OPEN_FINDINGS_SQL).fetchall()
        ):
            differing.append("fct_exceptions: open findings differ")
        return differing
    finally:
        con.close()
        con_other.close()
