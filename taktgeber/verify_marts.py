"""Compare the drafts and KPI marts with a world's answer key (docs/answer-key.md).

Shared by the tests (`tests/test_invoicing*.py`, `tests/test_kpi*.py`) and any CLI check:
each function returns one human-readable line per difference, empty when all match.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from taktgeber.generator.formats import xero_date
from taktgeber.money import round_money, to_decimal
from taktgeber.push.drafts import DRAFT_LINES_TABLE, Draft, read_drafts
from taktgeber.push.payload import idempotency_key, invoice_element, request_hash
from taktgeber.sandbox.timefmt import xero_to_ms
from taktgeber.sandbox.xero_ledger import OUTPUT_VAT_CODE, RECEIVABLES_CODE

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


#: The models a rebuild of only what changed writes into (the incremental ones, the
#: tables it writes only the differing rows of, and the marts they feed), each with the
#: columns that order its rows.
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
    "int_kpi_invoiced_work_computed": "month, hubspot_company_id",
    "int_receivables_month_ended": "month, hubspot_company_id",
    "int_kpi_dso_computed": "month, hubspot_company_id",
    "int_xero_invoices_enriched": "xero_invoice_id",
    "int_journals_summarized": "xero_journal_id",
    "int_invoices_receivable_measured": "xero_invoice_id",
    "int_project_budgets_compared": "harvest_project_id",
    "int_exceptions_unioned": "exception_id",
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
            columns = con.execute(
                f"select column_name, column_type from (describe {name})"
            ).fetchall()
            # the staged facts' staging invocation (time entries, journal lines)
            exclude = (
                " exclude (staged_in_invocation)"
                if any(column == "staged_in_invocation" for column, _ in columns)
                else ""
            )
            doubles = [
                f"round({column}, 6) as {column}" for column, kind in columns if kind == "DOUBLE"
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
    number = _void_the_invoice(
        warehouse,
        "select min(invoices.invoice_number), min(invoices.invoice_number) "
        "from raw_xero.invoices as invoices "
        "where invoices.type = 'ACCREC' and invoices.status = 'AUTHORISED' "
        "and invoices.invoice_number in (select invoice__number from raw_harvest.time_entries)",
        by="invoice_number",
    )
    return str(number)


def void_a_milestone_invoice(warehouse: Path) -> str | None:
    """The newest authorised sales invoice that bills milestones and nothing else is voided
    in Xero, as a day's sync brings it; returns its number (None: ``warehouse`` has no such
    invoice, nothing is changed). A narrowed rebuild then reaches milestones only."""
    return _void_the_invoice(
        warehouse,
        "select invoices.invoice_id, any_value(invoices.invoice_number) "
        "from raw_xero.invoices as invoices "
        "inner join int_work_billings_linked as billings "
        "on billings.xero_invoice_id = invoices.invoice_id "
        "where invoices.type = 'ACCREC' and invoices.status = 'AUTHORISED' "
        "group by invoices.invoice_id "
        "having bool_and(billings.work_item_kind = 'milestone') "
        "order by max(billings.invoice_date) desc, 1 limit 1",
    )


def _void_the_invoice(warehouse: Path, which: str, by: str = "invoice_id") -> str | None:
    """Voids in ``warehouse``'s raw Xero invoices the invoice ``which`` (a query of its
    ``by`` column and its number) finds, as a day's sync brings it; its number, None when
    it finds none."""
    con = duckdb.connect(str(warehouse))
    try:
        found = [row for row in con.execute(which).fetchall() if row[0] is not None]
        if not found:
            return None
        ((key, number),) = found
        con.execute(
            "update raw_xero.invoices set status = 'VOIDED', amount_due = 0, "
            f"updated_date_utc = ? where {by} = ?",
            [next_xero_stamp(con), key],
        )
    finally:
        con.close()
    return str(number)


#: Columns a load adds on the first push day: the sandbox's documents carry them, the
#: generator's do not (dlt creates a column with its first value that is not null).
_PUSHED_COLUMNS = {
    "raw_xero.invoices": {"has_errors": "boolean", "contact__contact_number": "varchar"},
    "raw_xero.invoices__line_items": {"item_code": "varchar"},
    "raw_xero.journal_lines": {"tracking_categories": "varchar"},
}


def push_ready_drafts(warehouse: Path, world: Path, count: int = 2) -> list[str]:
    """A push day, as the next load and build see it: the push job sends ``count`` ready
    drafts to Xero in one call (each as `taktgeber.push.payload.invoice_element` writes
    it: AUTHORISED, `Reference` = the draft key, dated and due as the draft, its lines,
    their tax and its notes), Xero stores each as a sales invoice with the next `INV-`
    number and posts its journal (as the sandbox does: `taktgeber.sandbox.xero_ledger`),
    and the ledger records each as succeeded with its lines and their source ids.

    The invoices, their line items, journals and journal lines go into ``warehouse``'s
    raw tables as a day's Xero load brings them (`updated_date_utc` past the newest
    invoice's; on the first push day with the columns the sandbox's documents add); the
    ledger records are appended to ``world``'s `taktgeber/push_ledger.json`, which the
    next `build(world, …)` imports: pass a copy of the world, not one other builds read.
    The drafts of the newest billing month go first, as on a day's push (older ready
    drafts are a backlog): one that bills time entries only and, with ``count`` ≥ 2, one
    with expenses or milestones too (where the warehouse has such drafts); the rest by
    month, newest first, and draft key. Used by the benchmark and the world sweep; returns the draft keys pushed
    (none when no draft is ready: then nothing is written).
    """
    con = duckdb.connect(str(warehouse))
    try:
        candidates = con.execute(
            f"""
            select drafts.draft_key, bool_and(lines.kind = 'time') as bills_time_only
            from {_table(con, DRAFTS_TABLE)} as drafts
            inner join {_table(con, DRAFT_LINES_TABLE)} as lines
                on lines.draft_key = drafts.draft_key
            where drafts.status = 'ready'
            group by drafts.draft_key, drafts.billing_month
            order by drafts.billing_month desc, drafts.draft_key
            """
        ).fetchall()
        first = [key for key, time_only in candidates if time_only][:1]
        mixed = [key for key, time_only in candidates if not time_only][: 1 if count >= 2 else 0]
        rest = [key for key, _ in candidates if key not in first + mixed]
        keys = sorted((first + mixed + rest)[:count])
        if not keys:
            return []
        drafts = [draft for draft in read_drafts(con) if draft.draft_key in keys]
        con.execute("begin")
        records = _store_pushed_invoices(con, drafts)
        con.execute("commit")
    finally:
        con.close()
    ledger = world / "taktgeber" / "push_ledger.json"
    before = json.loads(ledger.read_text(encoding="utf-8")) if ledger.exists() else []
    ledger.parent.mkdir(parents=True, exist_ok=True)
    ledger.write_text(
        json.dumps(before + records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return keys


def _store_pushed_invoices(
    con: duckdb.DuckDBPyConnection, drafts: list[Draft]
) -> list[dict[str, Any]]:
    """`push_ready_drafts`' raw Xero rows for ``drafts``, pushed in one call in this
    order; returns their push-ledger records (DESIGN.md §9)."""
    for table, columns in _PUSHED_COLUMNS.items():
        for column, kind in columns.items():
            con.execute(f"alter table {table} add column if not exists {column} {kind}")
    stamp = next_xero_stamp(con)
    now = datetime.fromtimestamp(xero_to_ms(stamp) / 1000, tz=UTC)
    (highest, width) = con.execute(
        "select coalesce(max(cast(digits as bigint)), 0), coalesce(max(length(digits)), 4) "
        "from (select regexp_extract(invoice_number, '^INV-(\\d+)$', 1) as digits "
        "from raw_xero.invoices) where digits <> ''"
    ).fetchone()
    (journal_number,) = con.execute(
        "select coalesce(max(journal_number), 0) from raw_xero.journals"
    ).fetchone()
    accounts = {
        row[0]: row[1:]
        for row in con.execute(
            "select code, account_id, type, name, tax_type from raw_xero.accounts"
        ).fetchall()
    }
    tax_names = dict(con.execute("select tax_type, name from raw_xero.tax_rates").fetchall())
    elements = [invoice_element(draft, "AUTHORISED") for draft in drafts]
    key = idempotency_key(
        [(d.draft_key, request_hash(e)) for d, e in zip(drafts, elements, strict=True)]
    )
    records = []
    for n, (draft, element) in enumerate(zip(drafts, elements, strict=True), start=1):
        number = f"INV-{highest + n:0{max(4, width)}d}"
        invoice_id = _pushed_uuid(draft.draft_key, "invoice")
        day, due = draft.draft_date or now.date(), draft.due_date
        rate = _currency_rate(con, draft.currency_code, day)
        name, contact_number = con.execute(
            "select name, coalesce(contact_number, '') from raw_xero.contacts where contact_id = ?",
            [draft.xero_contact_id],
        ).fetchone() or ("", "")
        items = _stored_line_items(draft.draft_key, element["LineItems"], accounts)
        sub_total = sum((item["line_amount"] for item in items), Decimal(0))
        total_tax = sum((item["tax_amount"] for item in items), Decimal(0))
        invoice = {
            "reference": draft.draft_key,
            "fully_paid_on_date": None,
            "due_date": xero_date(due) if due else None,
            "type": "ACCREC",
            "invoice_id": invoice_id,
            "invoice_number": number,
            "date": xero_date(day),
            "date_string": _midnight(day),
            "due_date_string": _midnight(due) if due else None,
            "status": "AUTHORISED",
            "line_amount_types": element["LineAmountTypes"],
            "sub_total": sub_total,
            "total_tax": total_tax,
            "total": sub_total + total_tax,
            "total_discount": Decimal(0),
            "currency_code": draft.currency_code,
            "currency_rate": rate,
            "amount_due": sub_total + total_tax,
            "amount_paid": Decimal(0),
            "amount_credited": Decimal(0),
            "has_attachments": False,
            "sent_to_contact": None,
            "is_discounted": False,
            "updated_date_utc": stamp,
            "contact__contact_id": draft.xero_contact_id,
            "contact__name": name,
            "_dlt_load_id": "pushed",
            "_dlt_id": f"pushed-{invoice_id}",
            "has_errors": False,
            "contact__contact_number": contact_number,
        }
        _insert(con, "raw_xero.invoices", [invoice])
        _insert(
            con,
            "raw_xero.invoices__line_items",
            [
                {
                    **item,
                    "_dlt_root_id": invoice["_dlt_id"],
                    "_dlt_parent_id": invoice["_dlt_id"],
                    "_dlt_list_idx": index,
                    "_dlt_id": f"pushed-{item['line_item_id']}",
                    "item_code": "",
                }
                for index, item in enumerate(items)
            ],
        )
        journal_id = _pushed_uuid(draft.draft_key, "journal")
        journal = {
            "journal_id": journal_id,
            "journal_number": journal_number + n,
            "journal_date": xero_date(day),
            "created_date_utc": stamp,
            "reference": draft.draft_key,
            "source_id": invoice_id,
            "source_type": "ACCREC",
        }
        _insert(con, "raw_xero.journals", [journal])
        lines = []
        for position, (code, net, tax, tax_type) in enumerate(_journal_postings(items, rate)):
            account_id, account_type, account_name, _ = accounts.get(code, ("", "", "", None))
            lines.append(
                {
                    "journal_line_id": str(uuid.uuid5(uuid.UUID(journal_id), str(position))),
                    "journal_id": journal_id,
                    "account_id": account_id,
                    "account_code": code,
                    "account_type": account_type,
                    "account_name": account_name,
                    "description": "",
                    "net_amount": net,
                    "gross_amount": net + tax,
                    "tax_amount": tax,
                    "tax_type": tax_type,
                    "tax_name": tax_names.get(tax_type, ""),
                    "tracking_categories": "[]",
                }
            )
        _insert(con, "raw_xero.journal_lines", lines)
        records.append(_ledger_record(draft, key, now, invoice_id, number))
    return records


def _stored_line_items(
    draft_key: str, sent: list[dict[str, Any]], accounts: dict[str, tuple[Any, ...]]
) -> list[dict[str, Any]]:
    """The line items Xero stores for the ``sent`` ones of an Exclusive invoice: the
    amount from quantity × unit amount, the tax as sent (the notes, description only,
    have neither), the tax type as sent, else the account's."""
    items = []
    for index, line in enumerate(sent):
        unit = line.get("UnitAmount")
        quantity = line.get("Quantity", Decimal(1 if unit is not None else 0))
        if unit is None and "LineAmount" in line:
            amount = round_money(line["LineAmount"])
        else:
            amount = round_money(quantity * (unit or 0))
        code = line.get("AccountCode", "")
        account_tax_type = accounts[code][3] if code in accounts else None
        items.append(
            {
                "line_item_id": _pushed_uuid(draft_key, f"line-{index}"),
                "description": line["Description"],
                "quantity": quantity,
                "unit_amount": unit or Decimal(0),
                "account_code": code,
                "tax_type": line.get("TaxType") or account_tax_type or "NONE",
                "tax_amount": round_money(line.get("TaxAmount", Decimal(0))),
                "line_amount": amount,
            }
        )
    return items


def _journal_postings(
    items: list[dict[str, Any]], rate: Decimal
) -> list[tuple[str, Decimal, Decimal, str]]:
    """The journal Xero posts for a sales invoice with these line items, as (account
    code, net, tax, tax type): receivables (gross) against revenue per account and tax
    type (net and its tax, credited) and output VAT, in EUR at the invoice's rate."""
    revenue: dict[tuple[str, str], list[Decimal]] = {}
    for item in items:
        net = round_money(item["line_amount"] / rate)
        tax = round_money(item["tax_amount"] / rate)
        if net or tax:
            bucket = revenue.setdefault(
                (item["account_code"], item["tax_type"]), [Decimal(0), Decimal(0)]
            )
            bucket[0] += net
            bucket[1] += tax
    net_eur = sum((net for net, _ in revenue.values()), Decimal(0))
    tax_eur = sum((tax for _, tax in revenue.values()), Decimal(0))
    postings = [(RECEIVABLES_CODE, net_eur + tax_eur, Decimal(0), "")]
    postings += [(code, -net, -tax, tax_type) for (code, tax_type), (net, tax) in revenue.items()]
    if tax_eur:
        postings.append((OUTPUT_VAT_CODE, -tax_eur, Decimal(0), ""))
    return postings


def _ledger_record(
    draft: Draft, key: str, pushed_at: datetime, invoice_id: str, number: str
) -> dict[str, Any]:
    """A succeeded push of ``draft`` as the ledger exports it (DESIGN.md §9)."""

    def text(value: Decimal | None) -> str | None:
        return None if value is None else f"{value:f}"

    return {
        "draft_key": draft.draft_key,
        "reference": draft.draft_key,
        "idempotency_key": key,
        "status": "succeeded",
        "attempts": 1,
        "pushed_at": pushed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "xero_invoice_id": invoice_id,
        "xero_invoice_number": number,
        "xero_contact_id": draft.xero_contact_id,
        "hubspot_company_id": draft.hubspot_company_id,
        "harvest_project_id": draft.harvest_project_id,
        "currency": draft.currency_code,
        "billing_month": draft.billing_month,
        "tax_category": draft.tax_category,
        "subtotal": text(round_money(draft.net)),
        "total_tax": text(round_money(draft.tax)),
        "total": text(round_money(draft.gross)),
        "lines": [
            {
                "line_no": line.line_no,
                "kind": line.kind,
                "description": line.description,
                "quantity": text(line.quantity),
                "unit_amount": text(line.unit_amount),
                "line_amount": text(line.line_amount),
                "account_code": line.account_code,
                "harvest_project_id": line.harvest_project_id,
                "service_type": line.service_type,
                "source_ids": {kind: ids for kind, ids in line.source_ids.items() if ids},
            }
            for line in draft.lines
        ],
    }


def _pushed_uuid(draft_key: str, part: str) -> str:
    """A Xero id for a document of the push day, the same for the same draft."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"taktgeber:push-day:{draft_key}:{part}"))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _currency_rate(con: duckdb.DuckDBPyConnection, currency: str, day: date) -> Decimal:
    """Units of ``currency`` per EUR that Xero sets on a document of ``day``: the ECB rate
    (the world's FX seed), the last published on or before it."""
    if currency == "EUR":
        return Decimal(1)
    row = con.execute(
        f"select units_per_eur from {_table(con, 'fx_rates')} "
        "where currency_code = ? and rate_date <= ? order by rate_date desc limit 1",
        [currency, day],
    ).fetchone()
    return to_decimal(row[0]) if row else Decimal(1)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        con.executemany(
            f"insert into {table} ({', '.join(columns)}) "
            f"values ({', '.join('?' for _ in columns)})",
            [[row[column] for column in columns] for row in rows],
        )
