"""Publish a read-only copy of the marts for the dashboard.

The pipeline holds DuckDB's write lock while it loads and builds, and a reader that stays
open blocks the next build (docs: specs/toolchain-notes.md). So after a build the marts,
the few raw/meta tables the dashboard pages need, and dbt's test results are copied into
a new, uniquely named DuckDB file in the published folder; then the pointer file
`CURRENT` is replaced atomically (`os.replace`) to name it. A reader resolves the pointer
and opens that file read-only: it sees either the previous complete copy or the new one,
never half a build. Older copies are kept for a while (readers may still have them open)
and then removed.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from taktgeber.config import warehouse_path

POINTER = "CURRENT"
KEEP_COPIES = 3
PUBLISHED_ENV = "TAKTGEBER_PUBLISHED"

# Marts the pages read, copied as they are (schema `main` of the warehouse).
MARTS = (
    "fct_exceptions",
    "fct_invoice_drafts",
    "fct_invoice_draft_lines",
    "fct_credit_note_drafts",
    "rpt_kpi_monthly",
    "rpt_kpi_monthly_customer",
)
# Raw tables the pages read: (schema, table) → published name.
RAW_TABLES = {
    ("raw_taktgeber", "push_runs"): "push_runs",
    ("raw_taktgeber", "push_ledger"): "push_ledger",
}
DLT_DATASETS = ("raw_hubspot", "raw_harvest", "raw_xero")

# The record behind an id in a finding: id column → (staging relation, published table).
RECORD_SOURCES = {
    "hubspot_company_id": "stg_hubspot__companies",
    "hubspot_deal_id": "stg_hubspot__deals",
    "hubspot_line_item_id": "stg_hubspot__line_items",
    "harvest_client_id": "stg_harvest__clients",
    "harvest_project_id": "stg_harvest__projects",
    "harvest_time_entry_id": "stg_harvest__time_entries",
    "harvest_expense_id": "stg_harvest__expenses",
    "xero_contact_id": "stg_xero__contacts",
    "xero_invoice_id": "stg_xero__invoices",
    "xero_payment_id": "stg_xero__payments",
    "xero_journal_id": "stg_xero__journals",
    "xero_credit_note_id": "stg_xero__credit_notes",
}


@dataclass(frozen=True)
class PublishedCopy:
    path: Path
    tables: tuple[str, ...]


def default_published_dir() -> Path:
    """`TAKTGEBER_PUBLISHED`, else `published/` beside the warehouse file."""
    env = os.environ.get(PUBLISHED_ENV)
    return Path(env).resolve() if env else warehouse_path().parent / "published"


def current_copy(published_dir: Path | None = None) -> Path | None:
    """The published file the pointer names, or None when nothing was published yet."""
    folder = published_dir or default_published_dir()
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = folder / name
    return path if name and path.exists() else None


def publish(
    warehouse: Path,
    published_dir: Path | None = None,
    run_results: Path | None = None,
) -> Path:
    """Copy what the dashboard reads from `warehouse` into a new file and swap it in.

    Returns the path of the new copy. `run_results` defaults to dbt's
    `run_results.json` of the last `taktgeber build` of this warehouse.
    """
    folder = (published_dir or default_published_dir()).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = folder / f"taktgeber-{stamp}-{uuid.uuid4().hex[:8]}.duckdb"
    temp = folder / f".{final.name}.tmp"
    results = run_results if run_results is not None else _default_run_results(Path(warehouse))
    try:
        _write_copy(Path(warehouse).resolve(), temp, results)
        os.replace(temp, final)
    finally:
        for leftover in (temp, temp.with_name(temp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    _swap_pointer(folder, final.name)
    _prune(folder, keep=final.name)
    return final


def _default_run_results(warehouse: Path) -> Path:
    """dbt's results of the last build of this warehouse (the push gate reads the same)."""
    from taktgeber.push.gate import default_target_dir

    return default_target_dir(warehouse) / "run_results.json"


def _write_copy(warehouse: Path, dest: Path, run_results: Path) -> None:
    con = duckdb.connect(str(dest))
    try:
        con.execute("attach ? as src (read_only)", [str(warehouse)])
        existing = _relations(con)
        columns = _columns(con)
        copied: list[str] = []
        for mart in MARTS:
            if ("main", mart) in existing:
                con.execute(f"create table main.{mart} as select * from src.main.{mart}")
                copied.append(mart)
        for (schema, table), name in RAW_TABLES.items():
            if (schema, table) in existing:
                con.execute(f"create table main.{name} as select * from src.{schema}.{table}")
                copied.append(name)
        copied += _copy_records(con, existing, columns)
        _copy_customers(con, columns)
        _copy_dlt_loads(con, existing)
        _copy_table_loads(con, existing, columns)
        con.execute("detach src")
        _write_run_results(con, run_results)
        con.execute(
            "create table main.publish_meta as select ?::timestamp as published_at, "
            "? as warehouse, ? as tables",
            [datetime.now(UTC).replace(tzinfo=None), str(warehouse), ",".join(copied)],
        )
        con.execute("checkpoint")
    finally:
        con.close()


def _relations(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'src' "
        "union all select schema_name, view_name from duckdb_views() "
        "where database_name = 'src' and not internal"
    ).fetchall()
    return {(schema, name) for schema, name in rows}


def _columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = 'src'"
    ).fetchall():
        out.setdefault((schema, table), set()).add(column)
    return out


def _copy_records(
    con: duckdb.DuckDBPyConnection,
    existing: set[tuple[str, str]],
    columns: dict[tuple[str, str], set[str]],
) -> list[str]:
    """The source records behind the findings, one table per id kind: `rec_<id column>`."""
    if ("main", "fct_exceptions") not in existing:
        return []
    finding_columns = columns.get(("main", "fct_exceptions"), set())
    copied = []
    for id_column, relation in RECORD_SOURCES.items():
        if id_column not in finding_columns:
            continue
        if id_column not in columns.get(("main", relation), set()):
            continue
        name = f"rec_{id_column}"
        con.execute(
            f"create table main.{name} as select * from src.main.{relation} "
            f"where cast({id_column} as varchar) in ("
            f"select cast({id_column} as varchar) from src.main.fct_exceptions "
            f"where {id_column} is not null)"
        )
        copied.append(name)
    return copied


def _copy_customers(
    con: duckdb.DuckDBPyConnection, columns: dict[tuple[str, str], set[str]]
) -> None:
    """HubSpot company names for the customer filters (id alone when names are missing)."""
    if {"hubspot_company_id", "company_name"} <= columns.get(
        ("main", "stg_hubspot__companies"), set()
    ):
        select = (
            "select hubspot_company_id, any_value(company_name) as company_name "
            "from src.main.stg_hubspot__companies group by hubspot_company_id"
        )
    else:
        select = (
            "select null::varchar as hubspot_company_id, null::varchar as company_name where false"
        )
    con.execute(f"create table main.customers as {select}")


def _copy_dlt_loads(con: duckdb.DuckDBPyConnection, existing: set[tuple[str, str]]) -> None:
    parts = [
        f"select '{dataset}' as dataset, load_id, schema_name, status, inserted_at "
        f"from src.{dataset}._dlt_loads"
        for dataset in DLT_DATASETS
        if (dataset, "_dlt_loads") in existing
    ]
    select = (
        " union all ".join(parts)
        if parts
        else "select null::varchar as dataset, null::varchar as load_id, "
        "null::varchar as schema_name, null::bigint as status, "
        "null::timestamptz as inserted_at where false"
    )
    con.execute(f"create table main.dlt_loads as {select}")


def _copy_table_loads(
    con: duckdb.DuckDBPyConnection,
    existing: set[tuple[str, str]],
    columns: dict[tuple[str, str], set[str]],
) -> None:
    """Row count and last load id of every raw table (dlt's own tables excluded)."""
    con.execute(
        "create table main.table_loads (dataset varchar, table_name varchar, "
        "row_count bigint, last_load_id varchar)"
    )
    for schema, table in sorted(existing):
        if not schema.startswith("raw_") or table.startswith("_dlt"):
            continue
        if (schema, table) not in columns:
            continue
        last = "max(_dlt_load_id)" if "_dlt_load_id" in columns[(schema, table)] else "null"
        con.execute(
            f'insert into main.table_loads select ?, ?, count(*), {last} from src.{schema}."{table}"',
            [schema, table],
        )


def _write_run_results(con: duckdb.DuckDBPyConnection, run_results: Path) -> None:
    """dbt's results of the last build, one row per node (tests, models, seeds)."""
    con.execute(
        "create table main.dbt_results (unique_id varchar, resource_type varchar, "
        "name varchar, status varchar, failures bigint, message varchar, "
        "execution_time double, generated_at timestamp)"
    )
    rows = list(_result_rows(run_results))
    if rows:
        con.executemany("insert into main.dbt_results values (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _result_rows(run_results: Path) -> Iterable[tuple]:
    try:
        doc = json.loads(run_results.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return
    generated = (doc.get("metadata") or {}).get("generated_at")
    generated_at = datetime.fromisoformat(generated).replace(tzinfo=None) if generated else None
    for result in doc.get("results", []):
        unique_id = result.get("unique_id", "")
        parts = unique_id.split(".")
        yield (
            unique_id,
            parts[0] if parts else None,
            parts[2] if len(parts) > 2 else unique_id,
            result.get("status"),
            result.get("failures"),
            result.get("message"),
            result.get("execution_time"),
            generated_at,
        )


def _swap_pointer(folder: Path, name: str) -> None:
    temp = folder / f".{POINTER}.{uuid.uuid4().hex[:8]}.tmp"
    temp.write_text(name + "\n", encoding="utf-8")
    os.replace(temp, folder / POINTER)


def _prune(folder: Path, keep: str) -> None:
    """Remove all but the newest copies; readers that still hold one keep its inode."""
    copies = sorted(folder.glob("taktgeber-*.duckdb"), reverse=True)
    for old in copies[KEEP_COPIES:]:
        if old.name != keep:
            old.unlink(missing_ok=True)
