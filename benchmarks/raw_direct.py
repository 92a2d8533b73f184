"""Bench-only: fill a raw warehouse straight from a generated world's JSON files with
DuckDB, in the raw schema `taktgeber load` (dlt, through the sandbox) writes.

    python -m benchmarks.raw_direct --world /tmp/w10m --out bench-out/raw-w10m.duckdb

Why: at 10m the sandbox would hold ~10 GB of pre-serialized JSON in memory and the load
through HTTP would take over an hour here; the build benchmark needs the raw tables, not
the HTTP path (benchmarked on its own by `bench_load`).

What it writes: the tables, columns and column types of `raw_schema.json`, which is the
schema dlt wrote for the 1m world (`bench-out/raw-w1m.duckdb`, datasets raw_hubspot,
raw_harvest, raw_xero; dlt's `*_staging` datasets are not made; `--write-spec FILE`
retakes it from a dlt-loaded warehouse when the loader's schema changes). Each column is
found in the records by dlt's own naming (`dlt`'s snake_case of the key path, nested
objects joined with `__`), read as text with `json_extract_string` and cast to the
column's type (so money goes text → DECIMAL(38,9), never through a float); a column no
record has stays NULL, as dlt's declared-but-empty columns do. Lists become child tables
with `_dlt_parent_id`/`_dlt_root_id`/`_dlt_list_idx`; `_dlt_id` is a hash of the table and
the record's id (dlt's are random, models only join on them); `_dlt_load_id` is one load
id per dataset, and `_dlt_loads` gets one completed load per dataset (now), which is what
source freshness reads. The push ledger is not touched (`build()` / `bench_build` import
it).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
from dlt.common.normalizers.naming.snake_case import NamingConvention

from taktgeber.build import duckdb_memory_limit
from taktgeber.sandbox.store import (
    HARVEST_RESOURCES,
    HUBSPOT_RESOURCES,
    XERO_ID_FIELD,
    XERO_RESOURCES,
)

SPEC_FILE = Path(__file__).with_name("raw_schema.json")
SAMPLE_RECORDS = 50_000
_NAMING = NamingConvention()

# dataset → {table: (world file, id key)}; child tables: table → (parent, list path
# inside the parent record).
ROOTS: dict[str, dict[str, tuple[str, str]]] = {
    "raw_hubspot": {t: (f"hubspot/{t}.json", "id") for t in HUBSPOT_RESOURCES},
    "raw_harvest": {t: (f"harvest/{t}.json", "id") for t in HARVEST_RESOURCES},
    "raw_xero": {
        _NAMING.normalize_identifier(r): (f"xero/{r}.json", XERO_ID_FIELD[r])
        for r in XERO_RESOURCES
    },
}
CHILDREN: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "raw_hubspot": {
        "deals__associations__companies__results": (
            "deals",
            ("associations", "companies", "results"),
        ),
        "deals__associations__line_items__results": (
            "deals",
            ("associations", "line items", "results"),
        ),
    },
    "raw_harvest": {
        "users__roles": ("users", ("roles",)),
        "users__access_roles": ("users", ("access_roles",)),
    },
    "raw_xero": {
        "contacts__addresses": ("contacts", ("Addresses",)),
        "invoices__line_items": ("invoices", ("LineItems",)),
        "invoices__payments": ("invoices", ("Payments",)),
        "invoices__credit_notes": ("invoices", ("CreditNotes",)),
        "credit_notes__line_items": ("credit_notes", ("LineItems",)),
        "credit_notes__allocations": ("credit_notes", ("Allocations",)),
        "tax_rates__tax_components": ("tax_rates", ("TaxComponents",)),
        # Not a dlt child table: the Arrow path writes journal lines flat, each with its
        # journal's `journal_id` and no _dlt_ columns (docs/raw-schema.md).
        "journal_lines": ("journals", ("JournalLines",)),
    },
}
DLT_TABLES = ("_dlt_loads", "_dlt_pipeline_state", "_dlt_version")
SCHEMA_NAMES = {"raw_hubspot": "hubspot", "raw_harvest": "harvest", "raw_xero": "xero"}


def write_spec(dlt_loaded: Path) -> None:
    """Take `raw_schema.json` from a raw warehouse the dlt load wrote (after the loader's
    schema changed: `--write-spec bench-out/raw-w1m.duckdb`)."""
    spec = raw_columns(dlt_loaded)
    lines = [f"  {json.dumps(t)}: {json.dumps([list(c) for c in cs])}" for t, cs in spec.items()]
    SPEC_FILE.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def load_spec() -> dict[str, list[tuple[str, str]]]:
    raw = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return {k: [(c, t) for c, t in v] for k, v in raw.items()}


def _records(path: Path, limit: int) -> Iterator[dict[str, Any]]:
    """The first ``limit`` records of a world file (one record per line, JSON array)."""
    with path.open("rb") as f:
        for n, line in enumerate(f):
            line = line.strip().rstrip(b",")
            if line in (b"[", b"]", b""):
                continue
            if n > limit:
                return
            yield orjson.loads(line)


@functools.cache
def _snake(key: str) -> str:
    return _NAMING.normalize_identifier(key)


def _paths(obj: dict[str, Any], prefix: tuple[str, ...], out: dict[str, tuple[str, ...]]) -> None:
    """dlt column name → key path, for every scalar (or list) below ``obj``; nested objects
    are flattened with `__` as dlt does."""
    for key, value in obj.items():
        path = (*prefix, key)
        if isinstance(value, dict):
            _paths(value, path, out)
        else:
            out.setdefault("__".join(_snake(p) for p in path), path)


def _dig(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)  # type: ignore[assignment]
    return record


def key_paths(file: Path, list_path: tuple[str, ...] | None = None) -> dict[str, tuple[str, ...]]:
    """Column name → key path, from the records (or their list elements) of a sample."""
    out: dict[str, tuple[str, ...]] = {}
    for rec in _records(file, SAMPLE_RECORDS):
        if list_path is None:
            _paths(rec, (), out)
            continue
        for element in _dig(rec, list_path) or []:
            if isinstance(element, dict):
                _paths(element, (), out)
    return out


def _json_path(path: tuple[str, ...]) -> str:
    return "$." + ".".join('"' + p.replace('"', '\\"') + '"' for p in path)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cast(expr: str, type_: str) -> str:
    return expr if type_ == "VARCHAR" else f"cast({expr} as {type_})"


def _dlt_id(table: str, id_expr: str) -> str:
    return f"left(md5({_sql_str(table + ':')} || coalesce({id_expr}, '')), 14)"


def _columns_sql(
    columns: list[tuple[str, str]], paths: dict[str, tuple[str, ...]], values: str
) -> tuple[list[str], list[str], list[str]]:
    """(json paths to extract, select expressions, columns no record has) for the data
    columns; ``values`` is the name of the extracted text list."""
    wanted, selects, missing = [], [], []
    for name, type_ in columns:
        if name.startswith("_dlt_"):
            continue
        if name not in paths:
            missing.append(name)
            selects.append(f"cast(null as {type_}) as {name}")
            continue
        wanted.append(_json_path(paths[name]))
        selects.append(f"{_cast(f'{values}[{len(wanted)}]', type_)} as {name}")
    return wanted, selects, missing


def _reader(file: Path) -> str:
    return f"read_json_objects({_sql_str(str(file))}, format='array')"


def fill(world: Path, out: Path, memory_limit: str | None = None) -> dict[str, Any]:
    """Write the raw datasets of ``world`` into a new DuckDB file ``out``."""
    spec = load_spec()
    if out.exists():
        raise FileExistsError(out)
    con = duckdb.connect(str(out))
    report: dict[str, Any] = {"tables": {}, "missing_columns": {}}
    limit = memory_limit or duckdb_memory_limit()
    con.execute(f"set memory_limit = {_sql_str(limit)}")
    con.execute("set preserve_insertion_order = false")
    con.execute("set TimeZone = 'UTC'")
    try:
        for dataset, roots in ROOTS.items():
            load_id = f"{time.time():.7f}"
            con.execute(f"create schema {dataset}")
            for table, columns in spec.items():
                schema, name = table.split(".")
                if schema == dataset:
                    ddl = ", ".join(f'"{c}" {t}' for c, t in columns)
                    con.execute(f'create table {schema}."{name}" ({ddl})')
            for table, (file, id_key) in roots.items():
                started = time.perf_counter()
                columns = spec[f"{dataset}.{table}"]
                paths = key_paths(world / file)
                wanted, selects, missing = _columns_sql(columns, paths, "v")
                names = {c for c, _ in columns}
                if "_dlt_load_id" in names:
                    selects.append(f"{_sql_str(load_id)} as _dlt_load_id")
                if "_dlt_id" in names:
                    selects.append(
                        f"{_dlt_id(table, f'json_extract_string(j, {_sql_str(_json_path((id_key,)))})')}"
                        " as _dlt_id"
                    )
                con.execute(
                    f"insert into {dataset}.{table} by name "
                    f"select {', '.join(selects)} from ("
                    f"select json as j, json_extract_string(json, "
                    f"[{', '.join(_sql_str(p) for p in wanted)}]) as v "
                    f"from {_reader(world / file)})"
                )
                report["tables"][f"{dataset}.{table}"] = _done(con, dataset, table, started)
                if missing:
                    report["missing_columns"][f"{dataset}.{table}"] = missing
            for table, (parent, list_path) in CHILDREN.get(dataset, {}).items():
                started = time.perf_counter()
                file, id_key = roots[parent]
                columns = spec.get(f"{dataset}.{table}")
                if columns is None:
                    continue
                missing = _fill_child(
                    con, dataset, table, parent, world / file, id_key, list_path, columns
                )
                report["tables"][f"{dataset}.{table}"] = _done(con, dataset, table, started)
                if missing:
                    report["missing_columns"][f"{dataset}.{table}"] = missing
            con.execute(
                f"insert into {dataset}._dlt_loads values ({_sql_str(load_id)}, "
                f"{_sql_str(SCHEMA_NAMES[dataset])}, 0, now(), 'taktgeber-raw-direct')"
            )
        con.execute("checkpoint")
    finally:
        con.close()
    return report


def _fill_child(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    table: str,
    parent: str,
    file: Path,
    id_key: str,
    list_path: tuple[str, ...],
    columns: list[tuple[str, str]],
) -> list[str]:
    """Insert a child table's rows; return its columns no element has."""
    names = {c for c, _ in columns}
    # Only the parent's id travels with each element (k), not the whole parent record.
    parent_id = _dlt_id(parent, "k")
    wanted: list[str] = []
    missing: list[str] = []
    if "value" in names:
        # A list of scalars: dlt's child table has one `value` column.
        value = _cast("json_extract_string(e, '$')", dict(columns)["value"])
        selects = [f"{value} as value"]
    else:
        wanted, selects, missing = _columns_sql(columns, key_paths(file, list_path), "v")
    if table == "journal_lines":
        selects = [s for s in selects if not s.endswith(" as journal_id")]
        missing.remove("journal_id")
        selects.append("k as journal_id")
    else:
        own_id = _dlt_id(table, f"{parent_id} || ':' || cast(i as varchar)")
        selects += [
            f"{parent_id} as _dlt_root_id",
            f"{parent_id} as _dlt_parent_id",
            "i as _dlt_list_idx",
            f"{own_id} as _dlt_id",
        ]
    extract = (
        f", json_extract_string(e, [{', '.join(_sql_str(p) for p in wanted)}]) as v"
        if wanted
        else ""
    )
    con.execute(
        f"insert into {dataset}.{table} by name select {', '.join(selects)} from ("
        f"select k, e, i{extract} from ("
        f"select k, unnest(l) as e, unnest(range(len(l))) as i from ("
        f"select json_extract_string(json, {_sql_str(_json_path((id_key,)))}) as k, "
        f"json_extract(json, {_sql_str(_json_path(list_path) + '[*]')}) as l "
        f"from {_reader(file)}) where len(l) > 0))"
    )
    return missing


def _done(con: duckdb.DuckDBPyConnection, dataset: str, table: str, started: float) -> dict:
    con.execute("checkpoint")  # written out, so the next table has the memory
    rows = con.execute(f"select count(*) from {dataset}.{table}").fetchall()[0][0]
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 2)}


def raw_columns(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Table ("dataset.table") → [(column, type)] in column order, for the raw_hubspot,
    raw_harvest and raw_xero datasets of a warehouse (dlt's `*_staging` datasets and the
    push ledger left out)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_schema || '.' || table_name, column_name, data_type "
            "from information_schema.columns where table_catalog = current_database() "
            "and table_schema in ('raw_hubspot', 'raw_harvest', 'raw_xero') "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in rows:
        out.setdefault(table, []).append((column, type_))
    return out


def schema_diff(a: Path, b: Path) -> list[str]:
    """Tables/columns/types in one raw warehouse and not the other (`raw_columns`)."""

    def cols(path: Path) -> set[tuple[str, str, str]]:
        return {(t, c, ty) for t, cs in raw_columns(path).items() for c, ty in cs}

    ca, cb = cols(a), cols(b)
    return [f"only in {a.name}: {' '.join(r)}" for r in sorted(ca - cb)] + [
        f"only in {b.name}: {' '.join(r)}" for r in sorted(cb - ca)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world")
    parser.add_argument("--out", help="a new DuckDB file")
    parser.add_argument("--compare", help="a dlt-loaded raw warehouse: print the schema diff")
    parser.add_argument("--write-spec", help="a dlt-loaded raw warehouse: rewrite raw_schema.json")
    args = parser.parse_args(argv)
    if args.write_spec:
        write_spec(Path(args.write_spec))
        return 0
    if not (args.world and args.out):
        parser.error("--world and --out are needed")
    started = time.perf_counter()
    report = fill(Path(args.world), Path(args.out))
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))
    if args.compare:
        diff = schema_diff(Path(args.out), Path(args.compare))
        print("schema diff:", *(diff or ["none"]), sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
