"""`taktgeber build`: seeds and dbt models into the warehouse, then the open findings.

``build()`` imports a world's push ledger (``DIR/taktgeber/push_ledger.json``) into
``raw_taktgeber``, uses the world's reference data (``DIR/seeds/*.csv``) where present,
runs ``dbt build`` in-process and reports every failed model or test in plain words.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from taktgeber.config import REPO_ROOT, ConfigError, warehouse_path
from taktgeber.money import to_decimal
from taktgeber.push.ledger import PUSH_LEDGER_TABLES_DDL

PROJECT_DIR = REPO_ROOT
DEFAULT_SEEDS_DIR = REPO_ROOT / "seeds"
BUILD_ROOT = REPO_ROOT / "target"


@dataclass(frozen=True)
class Failure:
    """A model, seed or test that did not pass, said plainly."""

    resource_type: str
    name: str
    status: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource_type} {self.name} {self.status}: {self.message}"


@dataclass
class BuildResult:
    ok: bool
    as_of: date
    warehouse: Path
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    open_findings: dict[str, int] = field(default_factory=dict)
    open_amount_eur: dict[str, str] = field(default_factory=dict)
    nodes_passed: int = 0
    stale_sources: list[str] = field(default_factory=list)
    seconds: float = 0.0
    up_to_date: bool = False  # nothing changed since the last passing build: dbt not run
    # Only these sources changed: only what depends on them was rebuilt (else everything).
    rebuilt_from: list[str] = field(default_factory=list)
    # Declared raw tables no load has created yet (`raw_xero.credit_notes__allocations`):
    # their staging models are empty (macros/source_columns.sql, `source_rows`).
    absent_sources: list[str] = field(default_factory=list)
    # The first run's failures when DuckDB ran out of memory with models running side by
    # side; the build then ran again, whole and one model at a time (`failures` are the
    # second run's).
    out_of_memory_first: list[Failure] = field(default_factory=list)


def build(
    world: Path | None = None,
    as_of: date | None = None,
    warehouse: Path | None = None,
    *,
    unit_tests: bool = False,
    full_refresh: bool = False,
) -> BuildResult:
    """Seed and build the warehouse; return what failed and the open findings per check.

    dbt's unit tests (fixed inputs → expected rows, no warehouse data involved) are for
    development and CI; pass ``unit_tests=True`` to run them in the build as well.
    The large staged facts are incremental (they take only what the loads changed);
    ``full_refresh=True`` restages them from scratch, e.g. after their model changed.
    The exception history is never rebuilt from scratch (``full_refresh: false``).
    """
    started = time.monotonic()
    as_of = as_of or datetime.now(UTC).date()
    warehouse = (warehouse or warehouse_path()).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    target, seeds = build_dirs(warehouse)
    seeds_dir = prepare_seeds(world / "seeds" if world else None, seeds)

    ledger_file = world / "taktgeber" / "push_ledger.json" if world else None
    import_push_ledger(warehouse, ledger_file if ledger_file and ledger_file.exists() else None)
    args = ["build", *dbt_vars(as_of)]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    raw_columns: dict[str, dict[str, str]] = {}
    inputs = build_inputs(warehouse, seeds_dir, args, raw_columns)
    last = _last_build(target, warehouse)
    # parsed once for the build and the freshness check; None if the project does not
    # parse (the build's own parse then says why)
    manifest = parse_project(warehouse, seeds_dir, as_of)
    if last is not None and last["inputs"] == inputs and not full_refresh:
        result = BuildResult(
            ok=True,
            as_of=as_of,
            warehouse=warehouse,
            nodes_passed=int(last["nodes_passed"]),
            up_to_date=True,
        )
    else:
        selected = None if full_refresh else changed_sources(last, inputs, manifest)
        previous = _read_json(target / "run_results.json") if selected else None
        run_args = [*args, "--select", *(f"source:{s}+" for s in selected)] if selected else args
        failures, warnings, passed = run_dbt(
            run_args,
            warehouse,
            seeds_dir,
            selected or [],
            manifest=manifest,
            raw_columns=raw_columns,
        )
        out_of_memory = [f for f in failures if _OUT_OF_MEMORY in f.message]
        if out_of_memory and dbt_threads() > 1:
            # DuckDB's memory cap is shared by the models running side by side. The run
            # left some models built and others not: the whole build again (not only what
            # changed: the reach notes of a narrowed run belong to its invocation), one
            # model at a time, so each has the whole cap.
            selected, previous = None, None
            failures, warnings, passed = run_dbt(
                [*args, "--threads", "1"],
                warehouse,
                seeds_dir,
                [],
                manifest=manifest,
                raw_columns=raw_columns,
            )
        else:
            out_of_memory = []
        result = BuildResult(
            ok=not failures,
            as_of=as_of,
            warehouse=warehouse,
            failures=failures,
            warnings=warnings,
            nodes_passed=passed,
            rebuilt_from=selected or [],
            out_of_memory_first=out_of_memory,
        )
        if previous is not None:
            _merge_run_results(previous, target / "run_results.json")
        _remember_build(target, warehouse, inputs if result.ok else None, passed)
    if _has_table(warehouse, "main", "fct_exceptions"):
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            rows = con.execute(
                """
                select check_name, count(*), sum(amount_at_stake_eur)
                from main.fct_exceptions
                where status = 'open'
                group by check_name
                order by check_name
                """
            ).fetchall()
        finally:
            con.close()
        result.open_findings = {name: int(n) for name, n, _ in rows}
        result.open_amount_eur = {name: f"{to_decimal(eur):.2f}" for name, _, eur in rows}
    result.stale_sources = check_freshness(warehouse, as_of, manifest=manifest)
    result.absent_sources = absent_sources(manifest, raw_columns)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def print_report(result: BuildResult) -> None:
    """The build's outcome for a person: failures first, then the open findings."""
    state = "passed" if result.ok else "FAILED"
    if result.up_to_date:
        state = "up to date (no new data, code, seeds or as_of since the last passing build)"
    elif result.rebuilt_from:
        state += f" (rebuilt only what depends on {', '.join(result.rebuilt_from)})"
    print(
        f"build {state} in {result.seconds:.1f} s: {result.nodes_passed} models, seeds and "
        f"tests passed, {len(result.failures)} failed, as of {result.as_of.isoformat()}, "
        f"warehouse {result.warehouse}"
    )
    if result.out_of_memory_first:
        names = ", ".join(sorted({f.name for f in result.out_of_memory_first}))
        print(
            f"  note    DuckDB ran out of memory with {dbt_threads()} dbt threads in {names}: "
            "built again, one model at a time"
        )
    for failure in result.failures:
        print(f"  FAILED  {failure}")
    for source in result.stale_sources:
        print(f"  stale   {source}")
    for table in result.absent_sources:
        print(f"  absent  {table}: not loaded yet (no such records in the source); read as empty")
    for warning in result.warnings:
        print(f"  warning {warning}")
    if not result.open_findings:
        print("no open reconciliation findings")
        return
    total = sum(result.open_findings.values())
    print(f"{total} open reconciliation findings:")
    for name, count in sorted(result.open_findings.items()):
        print(f"  {name:40s} {count:>6}  {result.open_amount_eur[name]:>14} EUR at stake")


def import_push_ledger(warehouse: Path, ledger_file: Path | None) -> int:
    """Create the push-ledger tables and the schema of the models' notes
    (`taktgeber_meta`); import a ledger export (replacing those drafts)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(PUSH_LEDGER_TABLES_DDL)
        # The models' hooks keep their notes there. Created before dbt runs: two hooks
        # creating it side by side, as on a first build, conflict in DuckDB's catalog
        # (a write-write conflict fails the second model).
        con.execute("create schema if not exists taktgeber_meta")
        if ledger_file is None:
            return 0
        records: list[dict[str, Any]] = json.loads(ledger_file.read_text(encoding="utf-8"))
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        keys = [r["draft_key"] for r in records]
        con.execute("begin")
        if keys:
            con.execute("delete from raw_taktgeber.push_ledger where draft_key in ?", [keys])
            con.execute("delete from raw_taktgeber.push_ledger_lines where draft_key in ?", [keys])
        ledger_rows: list[dict[str, Any]] = []
        line_rows: list[dict[str, Any]] = []
        for r in records:
            ledger_rows.append(
                {
                    "draft_key": r["draft_key"],
                    "reference": r.get("reference"),
                    "idempotency_key": r.get("idempotency_key"),
                    "status": r.get("status"),
                    "attempts": r.get("attempts"),
                    "pushed_at": _timestamp(r.get("pushed_at")),
                    "xero_invoice_id": r.get("xero_invoice_id"),
                    "xero_invoice_number": r.get("xero_invoice_number"),
                    "xero_contact_id": r.get("xero_contact_id"),
                    "hubspot_company_id": _text(r.get("hubspot_company_id")),
                    "harvest_project_id": r.get("harvest_project_id"),
                    "currency": r.get("currency"),
                    "billing_month": r.get("billing_month"),
                    "tax_category": r.get("tax_category"),
                    "subtotal": _decimal(r.get("subtotal"), 2, ledger_file, r, "subtotal"),
                    "total_tax": _decimal(r.get("total_tax"), 2, ledger_file, r, "total_tax"),
                    "total": _decimal(r.get("total"), 2, ledger_file, r, "total"),
                    "loaded_at": loaded_at,
                }
            )
            for line in r.get("lines") or []:
                sources = line.get("source_ids") or {}
                line_rows.append(
                    {
                        "draft_key": r["draft_key"],
                        "line_no": line["line_no"],
                        "kind": line.get("kind"),
                        "description": line.get("description"),
                        "quantity": _decimal(
                            line.get("quantity"), 4, ledger_file, r, "quantity", line
                        ),
                        "unit_amount": _decimal(
                            line.get("unit_amount"), 4, ledger_file, r, "unit_amount", line
                        ),
                        "line_amount": _decimal(
                            line.get("line_amount"), 2, ledger_file, r, "line_amount", line
                        ),
                        "account_code": line.get("account_code"),
                        "harvest_project_id": line.get("harvest_project_id"),
                        "service_type": line.get("service_type"),
                        "harvest_time_entry_ids": [
                            int(i) for i in sources.get("harvest_time_entry_ids") or []
                        ],
                        "harvest_expense_ids": [
                            int(i) for i in sources.get("harvest_expense_ids") or []
                        ],
                        "hubspot_line_item_ids": [
                            str(i) for i in sources.get("hubspot_line_item_ids") or []
                        ],
                        "loaded_at": loaded_at,
                    }
                )
        # one bulk insert per table, read by DuckDB's JSON reader as the table's own column
        # types (amounts as text: exact). Row-by-row inserts took minutes at 1m; Arrow's
        # conversion of Python rows imports pandas on first use, 0.18 s of a push day's
        # rebuild that imports two drafts.
        with tempfile.TemporaryDirectory(prefix="taktgeber-ledger-") as tmp:
            for table, rows in (("push_ledger", ledger_rows), ("push_ledger_lines", line_rows)):
                if not rows:
                    continue
                types = dict(
                    con.execute(
                        f"select column_name, column_type from (describe raw_taktgeber.{table})"
                    ).fetchall()
                )
                path = Path(tmp) / f"{table}.json"
                path.write_text(json.dumps(rows, default=str), encoding="utf-8")
                con.execute(
                    f"insert into raw_taktgeber.{table} by name "
                    "select * from read_json(?, format = 'array', columns = ?)",
                    [str(path), types],
                )
        con.execute("commit")
        return len(records)
    finally:
        con.close()


# What a build's outcome depends on besides the raw data (which is hashed row by row).
_PROJECT_INPUTS = ("models", "macros", "data-tests", "dbt_project.yml", "profiles.yml")
_RAW_SCHEMAS = ("raw_hubspot", "raw_harvest", "raw_xero", "raw_taktgeber")
# The raw tables the staging reads by a cursor (macros/incremental/staging_incremental.sql)
# and what of each row it sees: time entries are staged again only when `updated_at`
# moves (a row without one is staged every time: all of it counts), journal lines never
# once their key is staged. A change the staging cannot see changes no model, so these
# rows are hashed on what it sees (the whole row cost 2.6 s of a day's rebuild at 10m).
# Each: the columns seen, and which rows count whole. (Without those columns, e.g. a
# drifted schema, every row is hashed whole.)
_SEEN_BY_STAGING = {
    "raw_harvest.time_entries": (["id", "updated_at"], "updated_at is null"),
    "raw_xero.journal_lines": (["journal_line_id"], "false"),
}
# Raw tables every load delivers whole again (Xero's TaxRates has no change filter): dlt
# merges each row anew under a new `_dlt_id` and `_dlt_load_id`, so a day's load would
# make them look changed and rebuild all below them. Their rows are hashed without those
# two columns: the staging reads neither, and no source is a child table of them.
_REDELIVERED_EACH_LOAD = ("raw_xero.tax_rates",)


def build_inputs(
    warehouse: Path,
    seeds_dir: Path,
    args: list[str],
    raw_columns: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Everything a build reads, fingerprinted: the dbt arguments (as_of_date among them),
    the project's code and seeds (file hashes), and every raw table (its columns, row
    count and an order-independent hash of its rows: of all of each row, or of what the
    staging sees of it, `_SEEN_BY_STAGING`). Two builds with equal inputs give equal
    warehouses, so the second need not run. ``raw_columns``, if given, gets every raw
    table's columns and types as read here ({"raw_xero.invoices": {"total": "double"}})."""
    files = hashlib.sha256()
    paths: list[Path] = [PROJECT_DIR / name for name in _PROJECT_INPUTS]
    paths += [PROJECT_DIR / "taktgeber" / "dbt_functions.py", seeds_dir]
    for root in paths:
        for path in sorted(root.rglob("*")) if root.is_dir() else [root]:
            if path.is_file():
                files.update(str(path.relative_to(root.parent)).encode("utf-8"))
                files.update(path.read_bytes())
    tables: dict[str, list[Any]] = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ? and table_type = 'BASE TABLE' order by 1, 2",
            [list(_RAW_SCHEMAS)],
        ).fetchall()
        for schema, name in names:
            if name.startswith("_dlt_"):  # dlt's own logs: read by freshness, not by models
                continue
            described = con.execute(f'describe "{schema}"."{name}"').fetchall()
            columns = {r[0] for r in described}
            if raw_columns is not None:
                raw_columns[f"{schema}.{name}"] = {r[0].lower(): r[1].lower() for r in described}
            # the push ledger's `loaded_at` is when `build()` (re)imported a row: not data
            unread = ["loaded_at"] if "loaded_at" in columns else []
            if f"{schema}.{name}" in _REDELIVERED_EACH_LOAD:
                unread += sorted({"_dlt_id", "_dlt_load_id"} & columns)
            exclude = f" exclude ({', '.join(unread)})" if unread else ""
            table = f'"{schema}"."{name}"'
            seen, whole = _SEEN_BY_STAGING.get(f"{schema}.{name}", ([], "true"))
            if not set(seen) <= columns:
                seen = []
            whole_rows = f"bit_xor(hash(*columns(*{exclude})))"
            if seen:
                count, seen_digest = con.execute(
                    f"select count(*), bit_xor(hash({', '.join(seen)})) from {table}"
                ).fetchone()
                (whole_digest,) = con.execute(
                    f"select {whole_rows} from {table} where {whole}"
                ).fetchone()
            else:  # one scan: every row whole
                seen_digest = None
                count, whole_digest = con.execute(
                    f"select count(*), {whole_rows} from {table}"
                ).fetchone()
            shape = hashlib.sha256(repr([r[:2] for r in described]).encode("utf-8")).hexdigest()
            tables[f"{schema}.{name}"] = [
                int(count),
                f"{seen_digest}:{whole_digest}",
                shape[:16],
            ]
    finally:
        con.close()
    return {"args": args, "files": files.hexdigest(), "raw": tables}


def changed_sources(
    last: dict[str, Any] | None, inputs: dict[str, Any], manifest: Any | None
) -> list[str] | None:
    """The dbt sources (`raw_harvest.time_entries`, …) whose raw tables changed since the
    last passing build, when nothing else did (same dbt arguments and as_of, same code and
    seeds); else None: build everything. A changed raw table that no source in
    ``manifest`` (the project as parsed for this build) declares reaches no model, as
    models read raw data only through their sources: dlt's child tables the staging does
    not read (`raw_xero.invoices__payments`, which changes with every paid invoice). It is
    left out; when nothing else changed, everything is built."""
    if last is None or manifest is None:
        return None
    before = last["inputs"]
    if before["args"] != inputs["args"] or before["files"] != inputs["files"]:
        return None
    changed = sorted(
        table
        for table in set(before["raw"]) | set(inputs["raw"])
        if before["raw"].get(table) != inputs["raw"].get(table)
    )
    if not changed:
        return None
    declared = _declared_sources(manifest)
    return [declared[table] for table in changed if table in declared] or None


def _declared_sources(manifest: Any) -> dict[str, str]:
    """The raw tables ``manifest`` declares as sources: `schema.table` → the source's
    dbt name (`raw_harvest.time_entries`)."""
    return {
        f"{source.schema}.{source.identifier}": f"{source.source_name}.{source.name}"
        for source in manifest.sources.values()
    }


def absent_sources(manifest: Any | None, raw_columns: dict[str, dict[str, str]]) -> list[str]:
    """The raw tables the project declares as sources that the warehouse does not hold,
    in a schema that holds others (``raw_columns``: the raw tables found, from
    `build_inputs`): the source's load has not created them, as dlt creates a table only
    with its first record. Their staging models select no rows (`source_rows`). A source
    never loaded at all fails its staging models instead; dlt's own tables (`_dlt_loads`,
    read by freshness, which reports them itself) are not listed."""
    if manifest is None:
        return []
    loaded = {table.split(".", 1)[0] for table in raw_columns}
    return sorted(
        table
        for table in _declared_sources(manifest)
        if table not in raw_columns
        and table.split(".", 1)[0] in loaded
        and not table.split(".", 1)[1].startswith("_dlt_")
    )


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _merge_run_results(previous: dict[str, Any], current_path: Path) -> None:
    """After a build of only what changed, run_results.json names every node again: the
    ones not rebuilt keep their result from the build before (their inputs are the same),
    so the push gate and the dashboard's data-health page see the whole warehouse."""
    current = _read_json(current_path)
    if current is None:
        return
    rebuilt = {r["unique_id"] for r in current["results"]}
    kept = [r for r in previous.get("results", []) if r["unique_id"] not in rebuilt]
    current["results"] = kept + current["results"]
    current_path.write_text(json.dumps(current), encoding="utf-8")


def _last_build(target: Path, warehouse: Path) -> dict[str, Any] | None:
    """The last passing build's record, if it is the build this warehouse file holds: the
    record (in the target folder) and the warehouse carry the same build id, so a file
    replaced or copied in (a fresh raw load, a restored backup) is built in full. So is a
    warehouse whose built tables no longer have the columns that build left (altered by
    hand): a rebuild of only what changed writes into them as they are."""
    path = target / "last_build.json"
    if not path.exists() or not (target / "run_results.json").exists():
        return None
    last: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if last.get("inputs") is None or not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        try:
            held = con.execute("select build_id from taktgeber_meta.last_build").fetchall()
        except duckdb.CatalogException:  # never built by build(): no record of its own
            return None
        shape = _built_shape(con)
    finally:
        con.close()
    if held != [(last.get("build_id"),)] or shape != last.get("shape"):
        return None
    return last


def _built_shape(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of the built tables' and views' columns (schema `main`): name and type."""
    columns = con.execute(
        "select table_name, column_index, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'main' order by 1, 2"
    ).fetchall()
    return hashlib.sha256(repr(columns).encode("utf-8")).hexdigest()


def _remember_build(
    target: Path, warehouse: Path, inputs: dict[str, Any] | None, passed: int
) -> None:
    """Inputs of a passing build (None after a failure: the next build runs in full),
    under a build id written into the warehouse too."""
    build_id = str(uuid.uuid4())
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists taktgeber_meta")
        con.execute(
            "create or replace table taktgeber_meta.last_build as "
            "select ? as build_id, ? as finished_at",
            [build_id if inputs is not None else None, datetime.now(UTC).replace(tzinfo=None)],
        )
        shape = _built_shape(con)
    finally:
        con.close()
    target.mkdir(parents=True, exist_ok=True)
    record = {
        "inputs": inputs,
        "nodes_passed": passed,
        "at": datetime.now(UTC).isoformat(),
        "build_id": build_id,
        "shape": shape,
    }
    (target / "last_build.json").write_text(json.dumps(record), encoding="utf-8")


def build_dirs(warehouse: Path) -> tuple[Path, Path]:
    """dbt's target folder and seed folder for one warehouse file, so builds of different
    warehouses (parallel test sessions, several worlds) never share compiled state."""
    key = hashlib.sha1(str(warehouse.resolve()).encode("utf-8")).hexdigest()[:10]
    target = BUILD_ROOT / f"build-{key}"
    return target, target / "seeds"


def prepare_seeds(world_seeds: Path | None, destination: Path) -> Path:
    """The seed folder dbt reads: the repo's seeds, each CSV replaced by the world's own.
    Files are only rewritten when their content changed (keeps dbt's partial parse)."""
    destination.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, Path] = {}
    for source in (DEFAULT_SEEDS_DIR, world_seeds):
        if source is None or not source.is_dir():
            continue
        for path in sorted(source.iterdir()):
            if path.suffix in {".csv", ".yml"}:
                wanted[path.name] = path
    for existing in destination.iterdir():
        if existing.name not in wanted:
            existing.unlink()
    for name, path in wanted.items():
        target = destination / name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copyfile(path, target)
    return destination


def dbt_vars(as_of: date) -> list[str]:
    """The ``--vars`` of every dbt command of one build. They must be the same for all of
    them: dbt parses the whole project again (~10 s) when its vars differ from its last
    command's, instead of re-reading only the files that changed. The seller's country
    (var `seller_country`, DE in dbt_project.yml) from TAKTGEBER_SELLER_COUNTRY when set:
    it decides which customers are domestic (tax category S) and which are EU customers
    (reverse charge). Being among the build's arguments, a change rebuilds everything."""
    values = {"as_of_date": as_of.isoformat()}
    seller = os.environ.get("TAKTGEBER_SELLER_COUNTRY", "").strip().upper()
    if seller:
        import pycountry

        if len(seller) != 2 or pycountry.countries.get(alpha_2=seller) is None:
            raise ConfigError(
                f"TAKTGEBER_SELLER_COUNTRY={seller!r} is not a two-letter ISO 3166 country "
                "code: set it to the seller's country, e.g. DE or AT, or unset it for DE"
            )
        values["seller_country"] = seller
    return ["--vars", json.dumps(values)]


def parse_project(warehouse: Path, seeds_dir: Path, as_of: date) -> Any | None:
    """`dbt parse` in this process: the project's manifest, for the dbt commands of one
    build to share (each would parse again), or None when the project does not parse
    (the build's own parse then reports why). Writes dbt's partial-parse state, not the
    manifest file: the dbt commands given this parse write none either (`run_dbt`)."""
    env = _dbt_env(warehouse.resolve(), seeds_dir)
    with _environment(env):
        res = _invoke_dbt(["parse", *dbt_vars(as_of), "--no-write-json"])
    if res.exception is not None or not res.success:
        return None
    return res.result


def check_freshness(
    warehouse: Path, as_of: date | None = None, *, manifest: Any | None = None
) -> list[str]:
    """`dbt source freshness`: every source past its warn/error age (or not checkable),
    e.g. "raw_xero._dlt_loads: error, last loaded 2026-10-01 06:00:00". ``as_of``: the
    build's as_of date, so dbt reuses that build's parse; ``manifest``: that parse
    (`parse_project`), so dbt does not parse at all."""
    env = _dbt_env(warehouse.resolve(), None)
    with _environment(env):
        # freshness writes only sources.json
        res = _invoke_dbt(
            ["source", "freshness", *(dbt_vars(as_of) if as_of else [])],
            Path(env["DBT_TARGET_PATH"]) / "sources.json",
            manifest,
        )
    stale: list[str] = []
    if res.exception is not None:
        return [f"freshness not checked: {_one_line(res.exception)}"]
    results = getattr(res.result, "results", None) or []
    if not results and not res.success:
        return ["freshness not checked: dbt could not compile the project"]
    for run in results:
        status = str(getattr(run.status, "value", run.status))
        if status == "pass":
            continue
        node = run.node
        loaded = getattr(run, "max_loaded_at", None)
        when = f", last loaded {loaded:%Y-%m-%d %H:%M:%S}" if loaded else ""
        stale.append(f"{node.source_name}.{node.name}: {status}{when}")
    return stale


def run_dbt(
    args: list[str],
    warehouse: Path,
    seeds_dir: Path | None = None,
    changed_sources: list[str] | None = None,
    *,
    manifest: Any | None = None,
    raw_columns: dict[str, dict[str, str]] | None = None,
) -> tuple[list[Failure], list[Failure], int]:
    """Run one dbt command in-process against ``warehouse``: (failures, warnings, passed).
    Without ``seeds_dir``, the seeds of the warehouse's last build (else the repo's).
    ``changed_sources``: the only sources changed since the last build; when that is time
    entries alone, the per-entry models recompute only the changed entries
    (macros/incremental/reach.sql), else every record. ``manifest``: the project as
    parsed for this command (`parse_project`; dbt then writes no `manifest.json`), else
    dbt parses it. ``raw_columns``: the raw tables' columns (`build_inputs`), else the
    staging models read them from DuckDB's catalog."""
    env = _dbt_env(warehouse.resolve(), seeds_dir)
    env["TAKTGEBER_CHANGED_SOURCES"] = ",".join(changed_sources or [])
    # the raw tables' columns as the fingerprint read them: the staging models take them
    # from here instead of one catalog read each (macros/source_columns.sql)
    env["TAKTGEBER_RAW_COLUMNS"] = json.dumps(raw_columns or {})
    # Given the parsed project, dbt need not write its manifest (~0.4 s at the end of a 1m
    # build in a new process, ~1 s at 10m), only the run results.
    results_only = None if manifest is None else Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    if results_only is not None:
        # a manifest left by an earlier command may describe other code: not kept beside
        # these results (`dbt parse` or `dbt docs generate` write one)
        (results_only.parent / "manifest.json").unlink(missing_ok=True)
    with _environment(env):
        return _run_dbt(args, results_only, manifest)


def _dbt_env(warehouse: Path, seeds_dir: Path | None) -> dict[str, str]:
    target, default_seeds = build_dirs(warehouse)
    if seeds_dir is None:
        seeds_dir = default_seeds if default_seeds.is_dir() else prepare_seeds(None, default_seeds)
    return {
        "TAKTGEBER_WAREHOUSE": str(warehouse),
        "TAKTGEBER_SEED_PATH": str(seeds_dir.relative_to(PROJECT_DIR)),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"),
        # dbt.log at `info`: each node's start, end and error. dbt's default (`debug`, every
        # statement) costs ~10 ms of Python per node; set DBT_LOG_LEVEL_FILE=debug for it.
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE") or "info",
    }


def _run_dbt(
    args: list[str], results_only: Path | None = None, manifest: Any | None = None
) -> tuple[list[Failure], list[Failure], int]:
    """``results_only``: write no dbt artifact but the results, to this file."""
    res = _invoke_dbt(args, results_only, manifest)
    failures: list[Failure] = []
    warnings: list[Failure] = []
    passed = 0
    if res.exception is not None:
        failures.append(Failure("dbt", " ".join(args[:1]), "error", _one_line(res.exception)))
        return failures, warnings, passed
    results = getattr(res.result, "results", None) or []
    for run in results:
        node = run.node
        status = str(getattr(run.status, "value", run.status))
        name = getattr(node, "name", "?")
        kind = str(getattr(node.resource_type, "value", node.resource_type))
        if status in {"error", "fail", "runtime error"}:
            message = run.message or ""
            if status == "fail":
                message = f"{run.failures} rows break it{_tested(node)}"
            elif "schemas on this incremental model are out of sync" in message:
                message = (
                    "its columns changed since the last build (a contracted incremental "
                    "model keeps its table): run `taktgeber build --full-refresh` once. " + message
                )
            elif _OUT_OF_MEMORY in message:
                message = _out_of_memory(args) + message
            failures.append(Failure(kind, name, status, _one_line(message)))
        elif status == "warn":
            warnings.append(Failure(kind, name, status, _one_line(run.message or "")))
        elif status == "skipped":
            failures.append(
                Failure(kind, name, status, "not run because something it depends on failed")
            )
        else:
            passed += 1
    if not res.success and not failures:
        failures.append(Failure("dbt", args[0], "error", "dbt reported a failure"))
    return failures, warnings, passed


def _invoke_dbt(
    args: list[str], results_only: Path | None = None, manifest: Any | None = None
) -> Any:
    """One dbt command in this process, with the project's folders. ``results_only``:
    dbt writes no artifact (`--no-write-json`: not the manifest, the slow one) and its
    results are written to this file (what dbt would have written there). ``manifest``:
    the project already parsed (with the same vars), else dbt parses it."""
    from dbt.cli.main import dbtRunner

    _drop_unlogged_debug_events()
    extra = ["--no-write-json"] if results_only else []
    try:
        res = dbtRunner(manifest=manifest).invoke(
            [
                *args,
                *extra,
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                # nothing to the console: failures are reported from the results, in
                # plain words (`--quiet` still formats every line before dropping it)
                "--log-level",
                "none",
            ]
        )
    finally:
        _release_dbt_connection()
    if results_only is not None and hasattr(res.result, "write"):
        res.result.write(str(results_only))
    return res


def _drop_unlogged_debug_events() -> None:
    """dbt fires debug events (three per SQL statement, more per node: connections, the
    cache, files written), and dbt_common turns each into a protobuf message and a
    formatted log line before Python's logging drops it for its level. With no log at
    `debug` (the console is off, dbt.log at `info`), that was ~15 % of dbt's Python in a
    build. dbt_common's hook for a process embedding dbt (`ctx_set_event_manager`) installs
    the event manager below, which returns early for them; every other event, and every
    event when a log keeps debug lines (DBT_LOG_LEVEL_FILE=debug), goes through as before."""
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.event_manager_client import ctx_set_event_manager, get_event_manager

    if type(get_event_manager()).__name__ == "_UnloggedDebugDropped":
        return
    debug = {EventLevel.DEBUG, EventLevel.TEST}  # the two levels Python logs as DEBUG

    class _UnloggedDebugDropped(EventManager):
        def fire_event(
            self,
            e: Any,
            level: Any = None,
            node: Any = None,
            force_warn_or_error_handling: bool = False,
        ) -> None:
            if (
                (level or e.level_tag()) in debug
                and not force_warn_or_error_handling
                and not any(logger.level in debug for logger in self.loggers)
                # dbt's own callback reads only warnings; another one may want them all
                and all(
                    getattr(callback, "__name__", "") == "track_behavior_change_warn"
                    for callback in self.callbacks
                )
            ):
                return
            super().fire_event(e, level, node, force_warn_or_error_handling)

    ctx_set_event_manager(_UnloggedDebugDropped())


def _tested(node: Any) -> str:
    """' (column x of model y)' for a generic data test, '' otherwise."""
    attached = getattr(node, "attached_node", None)
    if not attached:
        return ""
    model = str(attached).rsplit(".", 1)[-1]
    column = getattr(node, "column_name", None)
    return f" (column {column} of {model})" if column else f" (model {model})"


def _release_dbt_connection() -> None:
    """dbt-duckdb keeps its DuckDB connection open in the process; close it so the
    warehouse file can be opened again (by us, the push job or the dashboard)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


_OUT_OF_MEMORY = "Out of Memory Error"  # DuckDB's message when it hit its memory cap


def dbt_threads() -> int:
    """How many nodes dbt runs at once (profiles.yml: TAKTGEBER_DBT_THREADS, default 2)."""
    return int(os.environ.get("TAKTGEBER_DBT_THREADS", "2"))


def duckdb_memory_limit() -> str:
    """DuckDB's memory cap in builds (profiles.yml: TAKTGEBER_DUCKDB_MEMORY_LIMIT)."""
    return os.environ.get("TAKTGEBER_DUCKDB_MEMORY_LIMIT", "3GB")


def _out_of_memory(args: list[str]) -> str:
    """What to do when DuckDB ran out of memory at its cap (profiles.yml) in the dbt
    command ``args``: said before DuckDB's own message, which speaks of SQL settings a
    user of `taktgeber build` does not set."""
    limit = duckdb_memory_limit()
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else dbt_threads()
    if threads == 1:
        return (
            f"DuckDB ran out of memory at its cap (TAKTGEBER_DUCKDB_MEMORY_LIMIT={limit}) "
            "with one model at a time: raise TAKTGEBER_DUCKDB_MEMORY_LIMIT. "
        )
    return (
        f"DuckDB ran out of memory at its cap (TAKTGEBER_DUCKDB_MEMORY_LIMIT={limit}, "
        f"shared by {threads} dbt threads running models side by side): run it again, "
        "raise TAKTGEBER_DUCKDB_MEMORY_LIMIT, or set TAKTGEBER_DBT_THREADS=1. "
    )


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 400 else text[:397] + "..."


def _has_table(warehouse: Path, schema: str, table: str) -> bool:
    if not warehouse.exists():
        return False
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    finally:
        con.close()
    return bool(found[0][0])


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _decimal(
    value: object,
    places: int,
    ledger_file: Path,
    record: dict[str, Any],
    name: str,
    line: dict[str, Any] | None = None,
) -> Decimal | None:
    """A ledger amount as exact as its column (``places`` decimals): one with more is
    refused, never rounded on its way in."""
    if value is None:
        return None
    amount = to_decimal(value)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        where = f"draft {record.get('draft_key')}" + (
            f", line {line.get('line_no')}" if line is not None else ""
        )
        raise ConfigError(
            f"push ledger {ledger_file}: {where}, field {name}: {value!r} has more than "
            f"{places} decimal places; correct it in the ledger (amounts are stored exactly)"
        )
    return amount


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
