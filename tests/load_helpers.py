"""Helpers for the load tests: run real loads against an in-process sandbox, read back."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from pipelines.common import RetryPolicy
from taktgeber.load import LoadResult, load

TINY = Path(__file__).parent / "fixtures" / "tiny"
DATASETS = ("raw_hubspot", "raw_harvest", "raw_xero")
# Fast retries for tests: the sandbox's injected 429s ask for 1 s; honour up to 20 ms.
FAST_RETRY = RetryPolicy(
    max_attempts=12, backoff_base=0.005, backoff_cap=0.05, retry_after_cap=0.02
)


def copy_world(tmp: Path, source: Path = TINY) -> Path:
    world = tmp / "world"
    shutil.copytree(source, world)
    return world


def run_load(base_url: str, workdir: Path, **kwargs: Any) -> LoadResult:
    kwargs.setdefault("retry", FAST_RETRY)
    return load(
        base_url=base_url,
        warehouse=workdir / "taktgeber.duckdb",
        pipelines_dir=workdir / "dlt",
        **kwargs,
    )


def query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def snapshot(warehouse: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every raw table's rows (dlt's random row ids left out), sorted: an end state."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw_hubspot', 'raw_harvest', 'raw_xero') "
            "and table_name not like '\\_dlt%' escape '\\' order by 1, 2"
        ).fetchall()
        out = {}
        for schema, table in tables:
            cols = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? and column_name not like '\\_dlt%' "
                    "escape '\\' order by column_name",
                    [schema, table],
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f'select {select} from "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
        return out
    finally:
        con.close()
