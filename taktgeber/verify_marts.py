"""Compare the drafts and KPI marts with a world's answer key (docs/answer-key.md).

Shared by the tests (`tests/test_invoicing*.py`, `tests/test_kpi*.py`) and any CLI check:
each function returns one human-readable line per difference, empty when all match.
"""

from __future__ import annotations

from datetime import date
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


def next_xero_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """An `UpdatedDateUTC` (`/Date(ms+0000)/`) a second past the newest raw invoice's: a
    change a day's sync brings after everything loaded so far."""
    (newest,) = con.execute(
        "select max(cast(regexp_extract(updated_date_utc, '\\d+') as bigint)) "
        "from raw_xero.invoices"
    ).fetchone()
    return f"/Date({newest + 1000}+0000)/"


def pay_open_invoices(
    warehouse: Path, count: int = 1, dated_by: date | None = None
) -> list[dict[str, str]]:
    """Xero payments, as a day's sync brings them, into ``warehouse``'s raw tables: the
    ``count`` newest open sales invoices are paid in full on their own date (a new row each
    in `payments`; the invoice PAID, nothing due, `updated_date_utc` past the newest one). Used by the
    benchmark, the world sweep and the incremental tests; returns each invoice's number
    and amount."""
    con = duckdb.connect(str(warehouse))
    try:
        invoices = con.execute(
            "select invoice_id, invoice_number, total from raw_xero.invoices "
            "where type = 'ACCREC' and status = 'AUTHORISED' and amount_due > 0 "
            "and cast(date_string as date) <= ? order by date_string desc, invoice_id limit ?",
            [dated_by or date.max, count],
        ).fetchall()
        stamp = next_xero_stamp(con)
        for invoice_id, _, _ in invoices:
            con.execute(
                """
                insert into raw_xero.payments by name
                select
                    'paid-' || invoices.invoice_id as payment_id,
                    invoices.invoice_id as invoice__invoice_id,
                    invoices.invoice_number as invoice__invoice_number,
                    invoices.date,
                    invoices.total as amount,
                    invoices.total as bank_amount,
                    invoices.currency_rate,
                    'AUTHORISED' as status,
                    'ACCRECPAYMENT' as payment_type,
                    false as is_reconciled,
                    true as has_account,
                    $stamp as updated_date_utc,
                    invoices.type as invoice__type,
                    invoices.currency_code as invoice__currency_code,
                    invoices.contact__contact_id as invoice__contact__contact_id,
                    invoices.contact__name as invoice__contact__name,
                    bank.account__account_id,
                    bank.account__code,
                    'paid' as _dlt_load_id,
                    'paid-' || invoices.invoice_id as _dlt_id
                from raw_xero.invoices as invoices
                cross join (
                    select account__account_id, account__code from raw_xero.payments
                    order by payment_id limit 1
                ) as bank
                where invoices.invoice_id = $invoice
                """,
                {"stamp": stamp, "invoice": invoice_id},
            )
            con.execute(
                "update raw_xero.invoices set status = 'PAID', amount_paid = total, "
                "amount_due = 0, fully_paid_on_date = date, updated_date_utc = $stamp "
                "where invoice_id = $invoice",
                {"stamp": stamp, "invoice": invoice_id},
            )
    finally:
        con.close()
    return [{"invoice_number": number, "amount": str(total)} for _, number, total in invoices]


def void_a_billing_invoice(warehouse: Path) -> str:
    """An authorised sales invoice that bills time entries by the number Harvest stored is
    voided in Xero (its work is unbilled again), as a day's sync brings it; returns its
    number."""
    con = duckdb.connect(str(warehouse))
    try:
        (number,) = con.execute(
            "select min(invoices.invoice_number) from raw_xero.invoices as invoices "
            "where invoices.type = 'ACCREC' and invoices.status = 'AUTHORISED' "
            "and invoices.invoice_number in (select invoice__number from raw_harvest.time_entries)"
        ).fetchone()
        con.execute(
            "update raw_xero.invoices set status = 'VOIDED', amount_due = 0, "
            "updated_date_utc = ? where invoice_number = ?",
            [next_xero_stamp(con), number],
        )
    finally:
        con.close()
    return str(number)
