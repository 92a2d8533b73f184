"""Every query the dashboard runs, against the published read-only copy (taktgeber.publish).

The connection is read-only, cannot touch files or attach databases, and its
configuration is locked. Filter values are always bound as `?` parameters; the only
identifiers put into SQL text come from fixed lists in this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from taktgeber.publish import current_copy

OVERVIEW_KPIS = (
    "dso_countback",
    "time_to_invoice_median_days",
    "first_correction_rate",
    "dunning_rate",
    "automation_share",
    "unbilled_wip_eur",
    "revenue_leakage_eur",
    "realisation_rate",
)
SYSTEMS = ("hubspot", "harvest", "xero")


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open a published copy read-only, without file access and with settings locked."""
    return duckdb.connect(
        str(path),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "lock_configuration": True,
        },
    )


def connect_current(
    published_dir: Path | None = None, attempts: int = 3
) -> duckdb.DuckDBPyConnection | None:
    """Open the copy the pointer names; None when nothing is published.

    A copy can be pruned between reading the pointer and opening it (publishing keeps only
    the newest few); then the pointer is read again.
    """
    for attempt in range(attempts):
        path = current_copy(published_dir)
        if path is None:
            return None
        try:
            return connect(path)
        except duckdb.Error:
            if attempt == attempts - 1:
                raise
    return None


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
    return con.sql(sql, params=list(params)).pl()


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> tuple | None:
    """The first row, reading the whole result (an unfinished result blocks the connection)."""
    rows = con.execute(sql, list(params)).fetchall()
    return rows[0] if rows else None


def _record(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]) -> dict | None:
    cur = con.execute(sql, list(params))
    rows = cur.fetchall()
    if not rows:
        return None
    return dict(zip([d[0] for d in cur.description], rows[0], strict=True))


def tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'main'"
    ).fetchall()
    return {name for (name,) in rows}


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = 'main' "
        "and table_name = ? order by column_index",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


def published_at(con: duckdb.DuckDBPyConnection) -> str | None:
    row = _one(con, "select strftime(published_at, '%Y-%m-%d %H:%M UTC') from publish_meta")
    return row[0] if row else None


# --- customers -------------------------------------------------------------------------


def customers(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Customer id → label, for every customer that has KPIs, findings or drafts."""
    have = tables(con)
    sources = [
        f"select hubspot_company_id from {table}"
        for table in ("rpt_kpi_monthly_customer", "fct_invoice_drafts", "fct_exceptions")
        if table in have and "hubspot_company_id" in columns(con, table)
    ]
    if not sources:
        return {}
    rows = con.execute(
        "with ids as (" + " union ".join(sources) + ") "
        "select ids.hubspot_company_id, customers.company_name from ids "
        "left join customers on customers.hubspot_company_id = ids.hubspot_company_id "
        "where ids.hubspot_company_id is not null order by 1"
    ).fetchall()
    return {cid: f"{name} ({cid})" if name else cid for cid, name in rows}


# --- overview --------------------------------------------------------------------------


def kpi_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("select distinct month from rpt_kpi_monthly order by month").fetchall()
    return [month for (month,) in rows]


def _kpi_source(customer: str | None) -> tuple[str, list[object]]:
    if customer is None:
        return "select month, kpi, value from rpt_kpi_monthly", []
    return (
        "select month, kpi, value from rpt_kpi_monthly_customer where hubspot_company_id = ?",
        [customer],
    )


def kpi_values(
    con: duckdb.DuckDBPyConnection, month: str, customer: str | None = None
) -> dict[str, Decimal]:
    source, params = _kpi_source(customer)
    rows = con.execute(
        f"select kpi, value from ({source}) where month = ?", [*params, month]
    ).fetchall()
    return {kpi: Decimal(str(value)) for kpi, value in rows if value is not None}


def kpi_trend(
    con: duckdb.DuckDBPyConnection,
    first_month: str,
    last_month: str,
    customer: str | None = None,
    kpis: Sequence[str] = OVERVIEW_KPIS,
) -> pl.DataFrame:
    """Long frame month × kpi → value (float) for the months in [first, last]."""
    source, params = _kpi_source(customer)
    return _frame(
        con,
        f"select month, kpi, cast(value as double) as value from ({source}) "
        "where month between ? and ? and list_contains(?, kpi) order by month, kpi",
        [*params, first_month, last_month, list(kpis)],
    )


def money_in_flight(con: duckdb.DuckDBPyConnection, currency: str | None) -> pl.DataFrame:
    """Per currency: open findings' money at stake and ready drafts' net."""
    have = tables(con)
    parts = []
    if "fct_exceptions" in have:
        parts.append(
            "select currency_code, sum(amount_at_stake) as at_stake, "
            "sum(amount_at_stake_eur) as at_stake_eur, 0 as ready_net, 0 as ready_net_eur "
            "from fct_exceptions where status = 'open' group by currency_code"
        )
    if "fct_invoice_drafts" in have:
        parts.append(
            "select currency_code, 0, 0, sum(net), sum(net_eur) from fct_invoice_drafts "
            "where status = 'ready' group by currency_code"
        )
    if not parts:
        return pl.DataFrame()
    return _frame(
        con,
        "select currency_code as currency, sum(at_stake) as open_findings_at_stake, "
        "sum(at_stake_eur) as open_findings_at_stake_eur, sum(ready_net) as ready_drafts_net, "
        "sum(ready_net_eur) as ready_drafts_net_eur from (" + " union all ".join(parts) + ") "
        "where (?::varchar is null or currency_code = ?) and currency_code is not null "
        "group by currency_code order by currency_code",
        [currency, currency],
    )


def currencies(con: duckdb.DuckDBPyConnection) -> list[str]:
    have = tables(con)
    sources = [
        f"select currency_code from {table}"
        for table in ("fct_exceptions", "fct_invoice_drafts")
        if table in have
    ]
    if not sources:
        return []
    rows = con.execute(
        "select distinct currency_code from (" + " union ".join(sources) + ") "
        "where currency_code is not null order by 1"
    ).fetchall()
    return [code for (code,) in rows]


# --- reconciliation --------------------------------------------------------------------


@dataclass(frozen=True)
class ExceptionFilter:
    checks: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    owner_roles: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("open",)
    min_age_days: int = 0
    customer: str | None = None
    search: str = ""


def exception_options(con: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    if column not in {"check_name", "severity", "owner_role", "status"}:
        raise ValueError(f"not a filter column of fct_exceptions: {column}")
    rows = con.execute(
        f"select distinct {column} from fct_exceptions where {column} is not null order by 1"
    ).fetchall()
    return [value for (value,) in rows]


def _exception_where(con: duckdb.DuckDBPyConnection, f: ExceptionFilter) -> tuple[str, list]:
    clauses = [
        "(len(?::varchar[]) = 0 or list_contains(?::varchar[], check_name))",
        "(len(?::varchar[]) = 0 or list_contains(?::varchar[], severity))",
        "(len(?::varchar[]) = 0 or list_contains(?::varchar[], owner_role))",
        "(len(?::varchar[]) = 0 or list_contains(?::varchar[], status))",
        "coalesce(age_days, 0) >= ?",
    ]
    params: list[object] = []
    for values in (f.checks, f.severities, f.owner_roles, f.statuses):
        params += [list(values), list(values)]
    params.append(f.min_age_days)
    if f.search.strip():
        clauses.append("contains(lower(cast(fct_exceptions as varchar)), lower(?))")
        params.append(f.search.strip())
    if f.customer is not None and "hubspot_company_id" in columns(con, "fct_exceptions"):
        clauses.append("hubspot_company_id = ?")
        params.append(f.customer)
    return " and ".join(clauses), params


def exceptions(con: duckdb.DuckDBPyConnection, f: ExceptionFilter) -> pl.DataFrame:
    where, params = _exception_where(con, f)
    return _frame(
        con,
        f"select * from fct_exceptions where {where} "
        "order by amount_at_stake_eur desc nulls last, exception_id",
        params,
    )


def exception_totals(con: duckdb.DuckDBPyConnection, f: ExceptionFilter) -> tuple[int, Decimal]:
    where, params = _exception_where(con, f)
    count, total = _one(
        con,
        f"select count(*), coalesce(sum(amount_at_stake_eur), 0) from fct_exceptions where {where}",
        params,
    ) or (0, 0)
    return int(count), Decimal(str(total))


def exception_by_check(con: duckdb.DuckDBPyConnection, f: ExceptionFilter) -> pl.DataFrame:
    where, params = _exception_where(con, f)
    return _frame(
        con,
        "select check_name, count(*) as findings, sum(amount_at_stake_eur) as at_stake_eur "
        f"from fct_exceptions where {where} group by check_name order by at_stake_eur desc nulls last",
        params,
    )


def exception_detail(con: duckdb.DuckDBPyConnection, exception_id: str) -> dict[str, object] | None:
    return _record(
        con, "select * from fct_exceptions where cast(exception_id as varchar) = ?", [exception_id]
    )


def record_ids_by_system(detail: dict[str, object]) -> dict[str, dict[str, object]]:
    """The ids of the records behind a finding, grouped by the system they live in."""
    out: dict[str, dict[str, object]] = {system: {} for system in (*SYSTEMS, "taktgeber")}
    for name, value in detail.items():
        if value is None or name == "exception_id":
            continue
        if name == "draft_key":
            out["taktgeber"][name] = value
            continue
        for system in SYSTEMS:
            if name.startswith(f"{system}_") and name.endswith(("_id", "_ids")):
                out[system][name] = value
    return out


def source_record(con: duckdb.DuckDBPyConnection, id_column: str, value: object) -> pl.DataFrame:
    """The published source record for one id (tables `rec_<id column>` from publish)."""
    table = f"rec_{id_column}"
    if not id_column.replace("_", "").isalnum() or table not in tables(con):
        return pl.DataFrame()
    return _frame(
        con, f"select * from {table} where cast({id_column} as varchar) = ?", [str(value)]
    )


def as_fields(record: pl.DataFrame) -> pl.DataFrame:
    """One record as a field/value table (values as text), for side-by-side reading."""
    row = record.row(0)
    return pl.DataFrame(
        {
            "field": record.columns,
            "value": ["" if value is None else str(value) for value in row],
        }
    )


# --- invoicing -------------------------------------------------------------------------


def draft_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(
        con,
        "select status, currency_code as currency, count(*) as drafts, sum(net) as net, "
        "sum(gross) as gross, sum(net_eur) as net_eur from fct_invoice_drafts "
        "group by status, currency_code order by status, currency_code",
    )


def drafts(
    con: duckdb.DuckDBPyConnection, statuses: Sequence[str], customer: str | None = None
) -> pl.DataFrame:
    cols = columns(con, "fct_invoice_drafts")
    reasons = "reasons_text" if "reasons_text" in cols else "array_to_string(reasons, ', ')"
    return _frame(
        con,
        "select draft_key, status, hubspot_company_id, harvest_project_id, billing_month, "
        f"currency_code as currency, tax_category, net, tax, gross, net_eur, line_count, "
        f"due_date, {reasons} as reasons from fct_invoice_drafts "
        "where list_contains(?::varchar[], status) and (?::varchar is null or hubspot_company_id = ?) "
        "order by status, billing_month, draft_key",
        [list(statuses), customer, customer],
    )


def draft(con: duckdb.DuckDBPyConnection, draft_key: str) -> dict[str, object] | None:
    return _record(con, "select * from fct_invoice_drafts where draft_key = ?", [draft_key])


def draft_lines(con: duckdb.DuckDBPyConnection, draft_key: str) -> pl.DataFrame:
    return _frame(
        con,
        "select line_no, kind, description, quantity, unit_amount, line_amount "
        "from fct_invoice_draft_lines where draft_key = ? order by line_no",
        [draft_key],
    )


def credit_note_drafts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(con, "select * from fct_credit_note_drafts")


def push_runs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(con, "select * from push_runs order by started_at desc")


def push_ledger_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(
        con,
        "select status, currency, count(*) as drafts, sum(total) as total "
        "from push_ledger group by status, currency order by status, currency",
    )


# --- data health -----------------------------------------------------------------------


def last_loads(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Last load per source with its age in hours at publish time."""
    return _frame(
        con,
        "select dataset as source, max(inserted_at) as last_loaded_at, count(*) as loads, "
        "round(date_diff('minute', max(inserted_at)::timestamp, "
        "(select published_at from publish_meta)) / 60.0, 1) as hours_before_publish "
        "from dlt_loads where status = 0 group by dataset order by dataset",
    )


def table_loads(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per raw table: rows and the time of the last load that wrote to it."""
    return _frame(
        con,
        "select table_loads.dataset as source, table_loads.table_name as resource, "
        "table_loads.row_count as rows, dlt_loads.inserted_at as last_loaded_at "
        "from table_loads left join dlt_loads on dlt_loads.load_id = table_loads.last_load_id "
        "and dlt_loads.dataset = table_loads.dataset "
        "order by table_loads.dataset, table_loads.table_name",
    )


def dbt_result_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(
        con,
        "select resource_type, status, count(*) as nodes from dbt_results "
        "group by resource_type, status order by resource_type, status",
    )


def dbt_problems(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(
        con,
        "select resource_type, name, status, failures, message from dbt_results "
        "where status not in ('pass', 'success', 'skipped') order by resource_type, name",
    )


def dbt_generated_at(con: duckdb.DuckDBPyConnection) -> str | None:
    row = _one(con, "select strftime(max(generated_at), '%Y-%m-%d %H:%M UTC') from dbt_results")
    return row[0] if row else None


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    have = sorted(t for t in tables(con) if t.startswith(("fct_", "rpt_", "dim_")))
    if not have:
        return pl.DataFrame()
    return _frame(
        con,
        " union all ".join(f"select '{t}' as mart, count(*) as rows from {t}" for t in have),
    )
