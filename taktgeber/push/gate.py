"""The push gate: no invoices go out after a failed build or from stale sources.

- Build: dbt's `target/run_results.json` of the last build. Refused when a test failed
  at error severity (dbt writes status `fail`; `warn` is a warn-severity failure and
  passes) or any node ended in `error`. Refused when there is no such file.
- Sources: dbt's `target/sources.json` (`dbt source freshness`) — refused when a source
  is `error` or `runtime error`; and each `raw_<system>._dlt_loads` in the warehouse —
  refused when the last successful load is older than `max_source_age`.

`--override-gate` pushes anyway; the job records the override and the reasons it
overrode in the ledger and the run row.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from taktgeber.config import REPO_ROOT


def default_target_dir(warehouse: Path | None = None) -> Path:
    """dbt's target folder of the last build of `warehouse`: `DBT_TARGET_PATH` when set,
    else the folder `taktgeber build` uses for that warehouse file."""
    if "DBT_TARGET_PATH" in os.environ:
        return Path(os.environ["DBT_TARGET_PATH"])
    if warehouse is None:
        return REPO_ROOT / "target"
    from taktgeber.build import build_dirs

    return build_dirs(Path(warehouse))[0]


DEFAULT_MAX_SOURCE_AGE = dt.timedelta(hours=26)
SOURCE_DATASETS = ("raw_hubspot", "raw_harvest", "raw_xero")


@dataclass(frozen=True)
class GateResult:
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.reasons


def build_failures(run_results: Path) -> list[str]:
    """Why the last dbt build may not feed a push (empty when it may)."""
    if not run_results.exists():
        return [
            (
                f"no dbt build results at {run_results}: run `taktgeber build` first "
                "(or push with --override-gate)"
            )
        ]
    try:
        results = json.loads(run_results.read_text()).get("results", [])
    except (OSError, ValueError) as exc:
        return [f"cannot read dbt build results {run_results}: {exc}"]
    reasons = []
    for result in results:
        status = str(result.get("status", "")).lower()
        unique_id = str(result.get("unique_id", "?"))
        is_test = unique_id.startswith(("test.", "unit_test."))
        if (is_test and status in ("fail", "error")) or status == "error":
            message = (result.get("message") or "").strip()
            reasons.append(f"dbt {unique_id} ended {status}" + (f": {message}" if message else ""))
    return reasons


def stale_sources(
    target_dir: Path,
    warehouse: Path,
    max_source_age: dt.timedelta,
    now: dt.datetime,
) -> tuple[list[str], list[str]]:
    """(reasons, notes) about source freshness."""
    reasons: list[str] = []
    notes: list[str] = []
    sources_json = target_dir / "sources.json"
    if sources_json.exists():
        try:
            results = json.loads(sources_json.read_text()).get("results", [])
        except (OSError, ValueError) as exc:
            return [f"cannot read dbt source freshness {sources_json}: {exc}"], notes
        for result in results:
            status = str(result.get("status", "")).lower()
            if status in ("error", "runtime error"):
                reasons.append(
                    f"source {result.get('unique_id', '?')} is stale ({status}); "
                    "run `taktgeber load`"
                )
    else:
        notes.append(f"no dbt source freshness results at {sources_json}")
    if warehouse.exists():
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            for dataset in SOURCE_DATASETS:
                found = con.execute(
                    "select count(*) from information_schema.tables "
                    "where table_schema = ? and table_name = '_dlt_loads'",
                    [dataset],
                ).fetchall()[0]
                if not found or not found[0]:
                    notes.append(f"no loads recorded for {dataset}")
                    continue
                row = con.execute(
                    f"select max(inserted_at) from {dataset}._dlt_loads where status = 0"
                ).fetchall()[0]
                last = row[0] if row else None
                if last is None:
                    reasons.append(f"{dataset} has never loaded successfully: run `taktgeber load`")
                    continue
                if last.tzinfo is None:
                    last = last.replace(tzinfo=dt.UTC)
                age = now - last
                if age > max_source_age:
                    reasons.append(
                        f"{dataset} is stale: last load {last:%Y-%m-%d %H:%M} UTC is "
                        f"{age.total_seconds() / 3600:.1f} h old (limit "
                        f"{max_source_age.total_seconds() / 3600:.0f} h); run `taktgeber load`"
                    )
        finally:
            con.close()
    return reasons, notes


def check_gate(
    warehouse: Path,
    target_dir: Path | None = None,
    max_source_age: dt.timedelta = DEFAULT_MAX_SOURCE_AGE,
    now: dt.datetime | None = None,
) -> GateResult:
    target = target_dir or default_target_dir(warehouse)
    reasons = build_failures(target / "run_results.json")
    stale, notes = stale_sources(target, warehouse, max_source_age, now or dt.datetime.now(dt.UTC))
    return GateResult(reasons=tuple(reasons + stale), notes=tuple(notes))
