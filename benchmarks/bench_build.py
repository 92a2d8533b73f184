"""Benchmark `taktgeber build` on a generated world, beside "the floor": the same model
SQL run directly in DuckDB.

    python -m benchmarks.bench_build [--world DIR] [--scale 1m|10m] [--runs 3]
        [--raw sandbox|direct] [--skip-incremental]

1. Raw warehouse: the world is served by the sandbox (its own process, loopback) and
   loaded with `taktgeber.load.load()` into `bench-out/raw-<world>.duckdb`. That file is
   cached: reruns skip the load (delete it to reload). With `--raw direct` (used at 10m,
   where the sandbox load does not fit in time or memory here) the raw tables are filled
   straight from the world's JSON files by `benchmarks.raw_direct` (same schema as the
   dlt load) into `bench-out/raw-direct-<world>.duckdb`, also cached.
2. Full build: a copy of the raw file, then `taktgeber.build.build(world, as_of, wh)`;
   repeated `--runs` times (each in a fresh worker process, so its peak RSS is its own).
   In the same worker, after the full build: a rebuild with no change, then a rebuild
   after touching one day of time entries (hours + 0.01 h on every entry of one day), then
   one after an invoice was paid (the newest open sales invoice dated by as_of, paid on its
   own date: a new payment, the invoice PAID; the Xero side of a day), then one after a
   push day (two ready drafts pushed, `taktgeber.verify_marts.push_ready_drafts`: their
   invoices and journals in Xero, their records in the push ledger of a world of the
   worker's own that the rebuild imports), then one after an invoice that bills work was
   voided in Xero (`taktgeber.verify_marts.void_a_billing_invoice`: its work is unbilled
   again).
3. Peak memory: `ru_maxrss` of the worker (RUSAGE_SELF) and of its children
   (RUSAGE_CHILDREN); dbt and DuckDB run inside the worker.
4. The floor: every model's compiled SQL of the full build (`run_results.json`, in the
   order dbt finished them, so parents come first) executed with plain duckdb against a
   copy of the raw file + seeds, as CTAS (views as views). Then, separately, every data
   test's compiled query as `select count(*) from (...)`.

DuckDB runs under the profile's memory cap (`TAKTGEBER_DUCKDB_MEMORY_LIMIT`, default 3GB) in
the build; the floor applies the same cap to its plain DuckDB connection.

Writes `bench-out/bench_build.json` (1m; other scales `bench_build-<world>.json`, or
`--report FILE`) and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.sandbox_port import free_port, wait_for_port
from taktgeber.build import dbt_threads, duckdb_memory_limit
from taktgeber.config import REPO_ROOT
from taktgeber.verify_marts import pay_open_invoices, push_ready_drafts, void_a_billing_invoice

OUT = REPO_ROOT / "bench-out"
DEFAULT_WORLD = Path("/tmp/w1m")
FULL_RUN_RESULTS = "run_results.full-build.json"  # kept beside dbt's, for the floor
# the rebuilds after the first full build, in order: nothing new, a day's time entries
# edited, then an invoice paid (invoices and payments changed), then a push day (new
# invoices, their journals and push-ledger records)
_REBUILDS = (
    "rebuild_no_change",
    "rebuild_after_touching_a_day",
    "rebuild_after_an_invoice_paid",
    "rebuild_after_a_push",
    "rebuild_after_a_void",
)


def _machine() -> str:
    return (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, duckdb {duckdb.__version__}"
    )


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _source_tree() -> dict[str, Any]:
    """Which code was measured: HEAD and how many files under it were uncommitted."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "models", "macros", "taktgeber", "seeds")
    return {"head": git("rev-parse", "HEAD"), "uncommitted_files": len(dirty.splitlines())}


def raw_direct(world: Path) -> tuple[Path, dict[str, Any]]:
    """The cached raw warehouse for ``world`` filled straight from its JSON files."""
    from benchmarks.raw_direct import fill

    raw = OUT / f"raw-direct-{world.name}.duckdb"
    if raw.exists():
        return raw, {"cached": True, "how": "direct"}
    partial = raw.with_name(raw.name + ".partial")
    partial.unlink(missing_ok=True)
    la0 = _loadavg()
    started, cpu = time.perf_counter(), _cpu()
    report = fill(world, partial, duckdb_memory_limit())
    seconds = time.perf_counter() - started
    partial.rename(raw)
    return raw, {
        "cached": False,
        "how": "direct",
        "fill_seconds": seconds,
        "fill_cpu_seconds": _cpu() - cpu,
        "load_average": [la0, _loadavg()],
        "rows": {k: v["rows"] for k, v in report["tables"].items()},
        "columns_no_record_has": report["missing_columns"],
        "rss_mib_after_fill": _rss_mib()["self_mib"],
    }


def raw_warehouse(world: Path) -> tuple[Path, dict[str, Any]]:
    """The cached raw warehouse for ``world``; loads it through the sandbox if missing."""
    raw = OUT / f"raw-{world.name}.duckdb"
    if raw.exists():
        return raw, {"cached": True}
    from pipelines.common import RetryPolicy
    from taktgeber.load import load

    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "taktgeber", "sandbox", "--world", str(world), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-build-load-", dir=OUT))
    la0 = _loadavg()
    try:
        wait_for_port(port, timeout=900.0)
        started = time.perf_counter()
        load(
            base_url=f"http://127.0.0.1:{port}",
            warehouse=workdir / "raw.duckdb",
            pipelines_dir=workdir / "dlt",
            retry=RetryPolicy(),
        )
        seconds = time.perf_counter() - started
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    shutil.move(str(workdir / "raw.duckdb"), raw)
    shutil.rmtree(workdir, ignore_errors=True)
    return raw, {"cached": False, "load_seconds": seconds, "load_average": [la0, _loadavg()]}


def with_ledger(world: Path, raw: Path) -> dict[str, Any]:
    """Import the world's push ledger into the raw cache once (`build()` would import it
    on every call, row by row): timed, and remembered beside the cache."""
    meta = raw.with_suffix(".ledger.json")
    if meta.exists():
        return {**json.loads(meta.read_text(encoding="utf-8")), "cached": True}
    from taktgeber.build import import_push_ledger

    ledger = world / "taktgeber" / "push_ledger.json"
    la = _loadavg()
    started = time.perf_counter()
    drafts = import_push_ledger(raw, ledger if ledger.exists() else None)
    out = {"drafts": drafts, "seconds": time.perf_counter() - started, "load_average": la}
    con = duckdb.connect(str(raw), read_only=True)
    try:
        out["lines"] = con.execute(
            "select count(*) from raw_taktgeber.push_ledger_lines"
        ).fetchall()[0][0]
    finally:
        con.close()
    meta.write_text(json.dumps(out))
    return out


def shadow_world(world: Path) -> Path:
    """The world as `build()` sees it minus the push ledger (already in the raw cache):
    only its reference data (seeds)."""
    shadow = OUT / f"world-{world.name}-seeds-only"
    shadow.mkdir(parents=True, exist_ok=True)
    link = shadow / "seeds"
    if not link.exists() and (world / "seeds").is_dir():
        link.symlink_to((world / "seeds").resolve())
    shutil.copyfile(world / "answer_key.json", shadow / "answer_key.json")
    return shadow


def _push_world(world: Path, work: Path) -> Path:
    """A world for the rebuild after a push: ``world``'s seeds and answer key, and a push
    ledger of its own for the push to append to (``world`` stays as the full builds of
    the other runs read it)."""
    pushed = work.with_name(f"{work.stem}-push-world")
    shutil.rmtree(pushed, ignore_errors=True)
    pushed.mkdir(parents=True)
    if (world / "seeds").is_dir():
        (pushed / "seeds").symlink_to((world / "seeds").resolve())
    shutil.copyfile(world / "answer_key.json", pushed / "answer_key.json")
    return pushed


def _as_of(world: Path) -> date:
    key = json.loads((world / "answer_key.json").read_text(encoding="utf-8"))
    return date.fromisoformat(key["as_of_date"])


def _rss_mib() -> dict[str, float]:
    # Linux: ru_maxrss is in KiB.
    return {
        "self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _touch_a_day(warehouse: Path) -> dict[str, Any]:
    """Change every time entry of one recent day a little, as an edit in Harvest does:
    hours + 0.01 and `updated_at` moved past the newest one (the incremental cursor)."""
    con = duckdb.connect(str(warehouse))
    try:
        day = con.execute(
            "select spent_date from raw_harvest.time_entries "
            "group by spent_date order by spent_date desc limit 1 offset 20"
        ).fetchall()[0][0]
        n = con.execute(
            "update raw_harvest.time_entries set hours = hours + 0.01, updated_at = ("
            "  select max(updated_at) + interval 1 second from raw_harvest.time_entries"
            ") where spent_date = ?",
            [day],
        ).fetchall()[0][0]
    finally:
        con.close()
    return {"day": str(day), "rows_changed": int(n)}


def worker(world: Path, raw: Path, work: Path, incremental: bool) -> dict[str, Any]:
    """One full build of a fresh copy of ``raw`` (then the incremental rebuilds)."""
    from taktgeber.build import build, build_dirs, dbt_vars, run_dbt

    as_of = _as_of(world)
    shutil.copyfile(raw, work)
    wal = work.with_suffix(work.suffix + ".wal")
    if wal.exists():
        wal.unlink()
    out: dict[str, Any] = {
        "load_average_before": _loadavg(),
        "duckdb_memory_limit": duckdb_memory_limit(),
    }

    def timed(label: str, built_with: Path = world) -> None:
        la = _loadavg()
        started, cpu = time.perf_counter(), _cpu()
        result = build(built_with, as_of, work)
        out[label] = {
            "seconds": time.perf_counter() - started,
            "cpu_seconds": _cpu() - cpu,
            "ok": result.ok,
            "nodes_passed": result.nodes_passed,
            "failures": [str(f) for f in result.failures][:10],
            # ran out of memory with models side by side, then built again one at a time
            # (taktgeber.build): the seconds are both runs'
            "out_of_memory_first": sorted({f.name for f in result.out_of_memory_first}),
            "load_average": la,
        }

    timed("full")
    out["rss_after_full"] = _rss_mib()
    # The floor runs the full build's SQL: a rebuild's run_results carry the incremental
    # models' SQL (only the changed rows), which would shrink the floor's data.
    target = build_dirs(work)[0]
    if out["full"]["out_of_memory_first"]:
        # the second run found the first one's tables: its SQL is not a full build's
        (target / FULL_RUN_RESULTS).unlink(missing_ok=True)
    else:
        shutil.copyfile(target / "run_results.json", target / FULL_RUN_RESULTS)
    if incremental:
        timed("rebuild_no_change")
        out["touch"] = _touch_a_day(work)
        timed("rebuild_after_touching_a_day")
        (out["payment"],) = pay_open_invoices(work, dated_by=as_of)
        timed("rebuild_after_an_invoice_paid")
        pushed = _push_world(world, work)
        out["push"] = push_ready_drafts(work, pushed, count=2)
        timed("rebuild_after_a_push", pushed)
        out["void"] = void_a_billing_invoice(work)
        timed("rebuild_after_a_void", pushed)
    out["rss"] = _rss_mib()
    # The floor reads the project's manifest (node order, seeds), which `build()` does not
    # write (it passes dbt the parsed project): written here, after the timings.
    run_dbt(["parse", *dbt_vars(as_of)], work)
    return out


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _node_timings(warehouse: Path) -> list[dict[str, Any]]:
    from taktgeber.build import build_dirs

    target, _ = build_dirs(warehouse)
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    return results["results"]


def floor(raw: Path, work: Path, built: Path, progress: Path | None = None) -> dict[str, Any]:
    """The full build's compiled model SQL as plain DuckDB CTAS, then its tests. With
    ``progress``, what is measured so far is written there after every node (a floor
    stopped early still says how far it got)."""

    def save() -> None:
        if progress is not None:
            out["cpu_seconds_so_far"] = _cpu() - cpu0
            out["rss_mib_so_far"] = _rss_mib()["self_mib"]
            progress.write_text(json.dumps(out, indent=2, default=str))

    from taktgeber.build import build_dirs

    target, _ = build_dirs(built)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    full = target / FULL_RUN_RESULTS
    if not full.exists():
        raise SystemExit(
            f"no full build's run_results beside {built} ({FULL_RUN_RESULTS}): the last "
            "full build ran out of memory and ran again on its own tables, or none ran. "
            "Run the benchmark again."
        )
    results = json.loads(full.read_text(encoding="utf-8"))["results"]
    nodes = manifest["nodes"]
    shutil.copyfile(raw, work)
    # a WAL left by a floor that was stopped belongs to another copy: DuckDB refuses it
    work.with_suffix(work.suffix + ".wal").unlink(missing_ok=True)
    con = duckdb.connect(str(work))
    # The build's cap (profiles.yml), for a like-with-like comparison.
    con.execute(f"set memory_limit = '{duckdb_memory_limit()}'")
    out: dict[str, Any] = {
        "load_average_before": _loadavg(),
        "duckdb_memory_limit": duckdb_memory_limit(),
        "models": {},
        "skipped": [],
    }
    cpu0 = _cpu()
    # The same Python SQL functions and time zone as dbt's profile gives its connection
    # (plugin taktgeber.dbt_functions and its config in profiles.yml).
    from taktgeber.dbt_functions import Plugin

    Plugin("taktgeber.dbt_functions", {"time_zone": "UTC"}).configure_connection(con)
    try:
        # Seeds as they are in the built warehouse (reference data, tiny).
        con.execute(f"attach '{built}' as built (read_only)")
        seeds_started = time.perf_counter()
        for uid, node in nodes.items():
            if node["resource_type"] != "seed":
                continue
            schema, name = node["schema"], node.get("alias") or node["name"]
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(
                f'create or replace table "{schema}"."{name}" as '
                f'select * from built."{schema}"."{name}"'
            )
        # Raw tables the build itself creates (push ledger import), copied as built.
        have = set(
            con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = current_database()"
            ).fetchall()
        )
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'built' and table_schema like 'raw_%'"
        ).fetchall():
            if (schema, name) not in have:
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(
                    f'create table "{schema}"."{name}" as select * from built."{schema}"."{name}"'
                )
        out["seeds_seconds"] = time.perf_counter() - seeds_started
        con.execute("detach built")
        total = 0.0
        started_all = time.perf_counter()
        for r in results:
            uid = r["unique_id"]
            if not uid.startswith("model."):
                continue
            node = nodes[uid]
            mat = node["config"]["materialized"]
            sql = r.get("compiled_code") or node.get("compiled_code")
            if mat == "ephemeral" or not sql:
                out["skipped"].append(uid)
                continue
            full_rel = r.get("relation_name") or node["relation_name"]
            rel = full_rel
            # dbt's relation names carry the catalog (file name); drop it.
            parts = rel.split(".")
            rel = ".".join(parts[-2:])
            con.execute(f"create schema if not exists {parts[-2]}")
            kind = "view" if mat == "view" else "table"
            if mat == "incremental" and full_rel in sql:
                # run_results of an incremental run: the SQL reads the previous state.
                con.execute(f"attach '{built}' as built (read_only)")
                con.execute(f"create or replace table {rel} as select * from built.{rel}")
                con.execute("detach built")
            started = time.perf_counter()
            con.execute(f"create or replace {kind} {rel} as {sql}")
            seconds = time.perf_counter() - started
            total += seconds
            out["models"][uid.split(".")[-1]] = {
                "materialized": mat,
                "seconds": seconds,
                "dbt_seconds": r.get("execution_time"),
            }
            save()
        out["models_seconds"] = total
        out["models_wall_seconds"] = time.perf_counter() - started_all
        test_total = 0.0
        n_tests = 0
        for r in results:
            uid = r["unique_id"]
            if not uid.startswith("test."):
                continue
            sql = r.get("compiled_code") or nodes.get(uid, {}).get("compiled_code")
            if not sql:
                continue
            started = time.perf_counter()
            try:
                con.execute(f"select count(*) from ({sql}) t").fetchall()
            except duckdb.Error:
                out["skipped"].append(uid)
                continue
            test_total += time.perf_counter() - started
            n_tests += 1
            out["tests_seconds_so_far"], out["tests_so_far"] = test_total, n_tests
            save()
        out["tests_seconds"] = test_total
        out["cpu_seconds"] = _cpu() - cpu0
        out["tests"] = n_tests
        out["load_average_after"] = _loadavg()
        out["rss_mib"] = _rss_mib()["self_mib"]
    finally:
        con.close()
    return out


def _run_worker(world: Path, raw: Path, work: Path, incremental: bool) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_build",
            "--_worker",
            "--world",
            str(world),
            "--_raw",
            str(raw),
            "--_work",
            str(work),
            *(["--_incremental"] if incremental else []),
        ],
        check=False,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", default=str(DEFAULT_WORLD), help="a generated world folder")
    parser.add_argument("--scale", default="1m", choices=["1m", "10m"])
    parser.add_argument("--runs", type=int, default=3, help="full builds (median)")
    parser.add_argument("--load-only", action="store_true", help="only make the raw cache")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument(
        "--raw",
        default="sandbox",
        choices=["sandbox", "direct"],
        help="fill the raw warehouse by a dlt load through the sandbox (default) or straight "
        "from the world's JSON files (benchmarks.raw_direct)",
    )
    parser.add_argument(
        "--skip-incremental", action="store_true", help="no rebuilds after the full build"
    )
    parser.add_argument("--report", help="JSON file in bench-out (default by scale)")
    parser.add_argument(
        "--floor-only",
        action="store_true",
        help="only the floor, from the last build in bench-out (adds it to bench_build.json)",
    )
    parser.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--_raw", help=argparse.SUPPRESS)
    parser.add_argument("--_work", help=argparse.SUPPRESS)
    parser.add_argument("--_incremental", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    world = Path(args.world)
    report_file = OUT / (
        args.report
        or ("bench_build.json" if args.scale == "1m" else f"bench_build-{world.name}.json")
    )
    if args._worker:
        res = worker(world, Path(args._raw), Path(args._work), args._incremental)
        print(json.dumps(res, default=str))
        return 0
    if args.scale == "10m" and args.world == str(DEFAULT_WORLD):
        print("--scale 10m needs --world DIR of a generated 10m world", file=sys.stderr)
        return 2
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {
        "world": str(world),
        "scale": args.scale,
        "machine": _machine(),
        "load_average_start": _loadavg(),
        "as_of": _as_of(world).isoformat(),
        "duckdb_memory_limit": duckdb_memory_limit(),
        "dbt_threads": str(dbt_threads()),
        "source_tree": _source_tree(),
    }
    if args.floor_only:
        return _floor_only(world, report_file, args.raw)
    raw, report["raw"] = raw_direct(world) if args.raw == "direct" else raw_warehouse(world)
    report["raw"]["file"] = str(raw)
    report["raw"]["mib"] = raw.stat().st_size / 2**20
    report["push_ledger_import"] = with_ledger(world, raw)
    print(f"raw warehouse {raw} ({report['raw']})", flush=True)
    print(f"push ledger import {report['push_ledger_import']}", flush=True)
    world = shadow_world(world)
    if args.load_only:
        return 0
    work = OUT / f"build-{world.name}.duckdb"
    report["build_file"] = str(work)
    runs = []
    for i in range(args.runs):
        res = _run_worker(world, raw, work, incremental=(i == 0 and not args.skip_incremental))
        runs.append(res)
        print(
            f"run {i + 1}: full {res['full']['seconds']:.1f} s "
            f"(ok={res['full']['ok']}, load {res['full']['load_average']}), "
            f"peak RSS {res['rss']['self_mib']:.0f} MiB"
            + (
                f"; ran out of memory in {', '.join(res['full']['out_of_memory_first'])} "
                "and built again, one model at a time"
                if res["full"].get("out_of_memory_first")
                else ""
            ),
            flush=True,
        )
        if i == 0 and not args.skip_incremental:
            for k in _REBUILDS:
                print(f"  {k}: {res[k]['seconds']:.1f} s (load {res[k]['load_average']})")
            report["dbt_nodes_last_build_of_run_1"] = [
                {
                    "node": r["unique_id"],
                    "status": r["status"],
                    "seconds": r["execution_time"],
                }
                for r in _node_timings(work)
            ]
        # Keep the incremental run's copy out of the way of the next full run.
        report_file.write_text(json.dumps({**report, "runs": runs}, indent=2, default=str))
    report["runs"] = runs
    fulls = [r["full"]["seconds"] for r in runs]
    report["full_median_seconds"] = statistics.median(fulls)
    report["peak_rss_mib_max"] = max(
        max(r["rss"]["self_mib"], r["rss"]["children_mib"]) for r in runs
    )
    first = runs[0]
    if "rebuild_no_change" in first:
        report["incremental"] = {k: first[k]["seconds"] for k in _REBUILDS if k in first}
        report["incremental"]["touch"] = first.get("touch")
        report["incremental"]["payment"] = first.get("payment")
        report["incremental"]["push"] = first.get("push")
        report["incremental"]["void"] = first.get("void")
    # The last worker's build (a plain full build) holds the run_results for the floor.
    if not args.skip_floor:
        # Same file name as the built warehouse: dbt's compiled SQL names its catalog.
        floor_work = OUT / "floor" / work.name
        floor_work.parent.mkdir(exist_ok=True)
        report["floor"] = floor(raw, floor_work, work)
        f = report["floor"]
        report["floor"]["models_plus_tests_seconds"] = f["models_seconds"] + f["tests_seconds"]
        report["ratio_full_to_floor_models"] = report["full_median_seconds"] / f["models_seconds"]
        report["ratio_full_to_floor_models_tests"] = report["full_median_seconds"] / (
            f["models_seconds"] + f["tests_seconds"]
        )
        floor_work.unlink(missing_ok=True)
    report["load_average_end"] = _loadavg()
    report_file.write_text(json.dumps(report, indent=2, default=str))
    _print(report)
    return 0


def _floor_only(world: Path, report_file: Path, how: str) -> int:
    report = json.loads(report_file.read_text(encoding="utf-8"))
    raw = OUT / (
        f"raw-direct-{world.name}.duckdb" if how == "direct" else f"raw-{world.name}.duckdb"
    )
    work = Path(report.get("build_file") or OUT / f"build-world-{world.name}-seeds-only.duckdb")
    floor_work = OUT / "floor" / work.name
    floor_work.parent.mkdir(exist_ok=True)
    progress = report_file.with_name(report_file.stem + ".floor-partial.json")
    report["floor"] = f = floor(raw, floor_work, work, progress)
    floor_work.unlink(missing_ok=True)
    f["models_plus_tests_seconds"] = f["models_seconds"] + f["tests_seconds"]
    fulls = [r["full"]["seconds"] for r in report["runs"]]
    report["full_median_seconds"] = statistics.median(fulls)
    report["ratio_full_to_floor_models"] = report["full_median_seconds"] / f["models_seconds"]
    report["ratio_full_to_floor_models_tests"] = (
        report["full_median_seconds"] / f["models_plus_tests_seconds"]
    )
    report.setdefault(
        "peak_rss_mib_max",
        max(max(r["rss"]["self_mib"], r["rss"]["children_mib"]) for r in report["runs"]),
    )
    first = report["runs"][0]
    if "rebuild_no_change" in first:
        report.setdefault(
            "incremental",
            {k: first[k]["seconds"] for k in _REBUILDS if k in first},
        )
    report["load_average_end"] = _loadavg()
    report_file.write_text(json.dumps(report, indent=2, default=str))
    _print(report)
    return 0


def _print(r: dict[str, Any]) -> None:
    print(f"\nworld {r['world']} on {r['machine']}")
    print(
        f"full build: median {r['full_median_seconds']:.1f} s of {len(r['runs'])} runs "
        "(" + ", ".join(f"{x['full']['seconds']:.1f}" for x in r["runs"]) + ")"
    )
    inc = r.get("incremental")
    if inc:
        print(
            f"rebuild, no change: {inc['rebuild_no_change']:.1f} s; after touching a day: "
            f"{inc['rebuild_after_touching_a_day']:.1f} s"
            + (
                f"; after an invoice paid: {inc['rebuild_after_an_invoice_paid']:.1f} s"
                if "rebuild_after_an_invoice_paid" in inc
                else ""
            )
            + (
                f"; after a push: {inc['rebuild_after_a_push']:.1f} s"
                if "rebuild_after_a_push" in inc
                else ""
            )
            + (
                f"; after a void: {inc['rebuild_after_a_void']:.1f} s"
                if "rebuild_after_a_void" in inc
                else ""
            )
        )
    print(f"peak RSS: {r['peak_rss_mib_max']:.0f} MiB")
    if "floor" in r:
        f = r["floor"]
        print(
            f"floor: models {f['models_seconds']:.1f} s, tests {f['tests_seconds']:.1f} s "
            f"({f['tests']} tests); full/floor(models) {r['ratio_full_to_floor_models']:.2f}, "
            f"full/floor(models+tests) {r['ratio_full_to_floor_models_tests']:.2f}"
        )
        top = sorted(f["models"].items(), key=lambda kv: -kv[1]["seconds"])[:8]
        print("| model | floor s | dbt s |")
        print("|---|---:|---:|")
        for name, m in top:
            dbt_s = m["dbt_seconds"]
            print(
                f"| {name} | {m['seconds']:.2f} | {dbt_s:.2f} |"
                if dbt_s
                else f"| {name} | {m['seconds']:.2f} | – |"
            )
    print(f"load average start {r['load_average_start']}, end {r['load_average_end']}")


if __name__ == "__main__":
    sys.exit(main())
