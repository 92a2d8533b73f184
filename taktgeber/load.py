"""`taktgeber load`: run the dlt pipelines for HubSpot, Harvest and Xero into the warehouse.

One dlt pipeline per source, each writing its own dataset (`raw_hubspot`, `raw_harvest`,
`raw_xero`) in the DuckDB warehouse with parquet loader files. A source either loads
completely or not at all: on any failure its pending packages are dropped, so the next
run starts clean and the warehouse keeps the previous load.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.schema.exceptions import DataValidationError
from dlt.sources import DltSource

from pipelines import DATASETS, SOURCES
from pipelines.common import LoadError, RetryPolicy, SchemaDriftError
from pipelines.harvest import harvest_source
from pipelines.hubspot import hubspot_source
from pipelines.validate import strict_types
from pipelines.xero import xero_source
from taktgeber.config import REPO_ROOT, warehouse_path

# Where each API lives under the sandbox root (`--base-url http://127.0.0.1:8765`).
SANDBOX_PATHS = {"hubspot": "/hubspot", "harvest": "/harvest/v2", "xero": "/xero/api.xro/2.0"}
FACTORIES: dict[str, Callable[..., DltSource]] = {
    "hubspot": hubspot_source,
    "harvest": harvest_source,
    "xero": xero_source,
}
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
DEFAULT_PIPELINES_DIR = REPO_ROOT / ".dlt" / ".pipelines"


@dataclass
class SourceResult:
    """What one source's pipeline did."""

    source: str
    dataset: str
    seconds: float
    loaded_rows: dict[str, int]  # rows extracted and loaded in this run, per table
    table_rows: dict[str, int]  # rows in the warehouse after the run, per table
    http: dict[str, int] = field(default_factory=dict)  # requests, retries by cause
    load_ids: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    warehouse: Path
    sources: dict[str, SourceResult]

    @property
    def table_rows(self) -> dict[str, dict[str, int]]:
        """`{dataset: {table: rows}}` in the warehouse after the load."""
        return {r.dataset: dict(r.table_rows) for r in self.sources.values()}

    @property
    def loaded_rows(self) -> dict[str, dict[str, int]]:
        """`{dataset: {table: rows}}` written by this load (new or changed records)."""
        return {r.dataset: dict(r.loaded_rows) for r in self.sources.values()}


def pipeline_for(source: str, warehouse: Path, pipelines_dir: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"taktgeber_{source}",
        destination=dlt.destinations.duckdb(credentials=str(warehouse)),
        dataset_name=DATASETS[source],
        pipelines_dir=str(pipelines_dir),
    )


def build_source(
    source: str,
    base_url: str | None,
    retry: RetryPolicy | None,
    options: Mapping[str, Any],
    stats: dict[str, int] | None = None,
) -> DltSource:
    kwargs: dict[str, Any] = dict(options)
    if stats is not None:
        kwargs["stats"] = stats
    if base_url:
        kwargs["base_url"] = base_url.rstrip("/") + SANDBOX_PATHS[source]
    if retry is not None:
        kwargs["retry"] = retry
    return FACTORIES[source](**kwargs)


def load(
    sources: Iterable[str] | None = None,
    base_url: str | None = None,
    warehouse: Path | None = None,
    pipelines_dir: Path | None = None,
    retry: RetryPolicy | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> LoadResult:
    """Load the named sources (all by default) into the warehouse; return row counts.

    `base_url` is a sandbox root (`http://127.0.0.1:8765`); without it each source's
    `base_url` comes from dlt config (`.dlt/config.toml`, `SOURCES__<NAME>__BASE_URL`).
    `options` passes per-source arguments (page sizes, say) to the source functions.
    Raises :class:`LoadError` naming the source (and table, column, record) that failed.
    """
    names = list(sources or SOURCES)
    unknown = sorted(set(names) - set(SOURCES))
    if unknown:
        raise LoadError(f"unknown source(s) {unknown}; choose from {list(SOURCES)}")
    warehouse = Path(warehouse or warehouse_path()).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    pipelines_dir = Path(pipelines_dir or DEFAULT_PIPELINES_DIR)
    os.environ.setdefault("DLT_PROJECT_DIR", str(REPO_ROOT))
    results = {}
    for name in names:
        opts = (options or {}).get(name, {})
        results[name] = _load_one(name, base_url, warehouse, pipelines_dir, retry, opts)
    return LoadResult(warehouse=warehouse, sources=results)


def _load_one(
    name: str,
    base_url: str | None,
    warehouse: Path,
    pipelines_dir: Path,
    retry: RetryPolicy | None,
    options: Mapping[str, Any],
) -> SourceResult:
    started = time.perf_counter()
    pipeline = pipeline_for(name, warehouse, pipelines_dir)
    if pipeline.default_schema_name is not None and not dataset_exists(warehouse, DATASETS[name]):
        # Local state from a load into another (or a deleted) warehouse: its cursors would
        # make this first load incremental. Start over.
        pipeline = pipeline.drop()
    stats: dict[str, int] = {}
    source = build_source(name, base_url, retry, options, stats)
    source.schema_contract = SCHEMA_CONTRACT  # type: ignore[assignment]
    known = _known_columns(pipeline, name)
    for resource in source.resources.values():
        resource.add_map(strict_types(name, resource.name, known))
    try:
        info = pipeline.run(source, loader_file_format="parquet")
    except Exception as exc:
        pipeline.abort_packages()
        raise _explain(name, exc) from exc
    trace = pipeline.last_trace
    normalize = trace.last_normalize_info if trace else None
    loaded = {
        table: count
        for table, count in (normalize.row_counts if normalize else {}).items()
        if not table.startswith("_dlt")
    }
    return SourceResult(
        source=name,
        dataset=DATASETS[name],
        seconds=time.perf_counter() - started,
        loaded_rows=loaded,
        table_rows=count_rows(warehouse, DATASETS[name]),
        http=stats,
        load_ids=list(info.loads_ids),
    )


def _known_columns(pipeline: dlt.Pipeline, name: str) -> dict[str, dict[str, str]]:
    """Column types loaded before, `{table: {column: data_type}}` (empty on a first load)."""
    if name not in pipeline.schemas:
        return {}
    schema = pipeline.schemas[name]
    return {
        table: {
            c: col["data_type"]
            for c, col in schema.get_table_columns(table).items()
            if "data_type" in col
        }
        for table in schema.data_table_names()
    }


def _explain(source: str, exc: BaseException) -> LoadError:
    """The innermost cause as a LoadError naming the source (dlt wraps step failures)."""
    cause: BaseException | None = exc
    seen = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, LoadError):
            return cause
        if isinstance(cause, DataValidationError):
            return SchemaDriftError(
                f"{source}: table {cause.table_name}, column {cause.column_name}: "
                f"the {cause.schema_entity} changed (contract {cause.contract_mode}): {cause}. "
                "The load was stopped; previously loaded data is unchanged."
            )
        cause = getattr(cause, "exception", None) or cause.__cause__ or cause.__context__
    return LoadError(f"{source}: load failed: {exc}")


def dataset_exists(warehouse: Path, dataset: str) -> bool:
    if not warehouse.exists():
        return False
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute(
            "select count(*) from information_schema.schemata where schema_name = ?", [dataset]
        ).fetchone()
        return bool(found and found[0])
    finally:
        con.close()


def count_rows(warehouse: Path, dataset: str) -> dict[str, int]:
    """Rows per table of one dataset (dlt's own `_dlt_*` tables left out)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_name not like '\\_dlt%' escape '\\' "
                "order by table_name",
                [dataset],
            ).fetchall()
        ]
        counts = {}
        for table in tables:
            result = con.execute(f'select count(*) from "{dataset}"."{table}"').fetchone()
            counts[table] = int(result[0]) if result else 0
        return counts
    finally:
        con.close()


def print_summary(result: LoadResult) -> None:
    print(f"warehouse {result.warehouse}")
    for res in result.sources.values():
        retries = {k: v for k, v in res.http.items() if k != "requests" and v}
        note = f", retried {retries}" if retries else ""
        print(f"{res.dataset}: {res.seconds:.1f}s, {res.http.get('requests', 0)} requests{note}")
        for table, rows in res.table_rows.items():
            print(f"  {table:48s} {rows:>12,} rows  (+{res.loaded_rows.get(table, 0):,} this load)")
