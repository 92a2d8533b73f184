"""Benchmark `taktgeber load`: a full load of a generated world from the sandbox over HTTP,
beside DuckDB's own `read_json` of the same records from disk (the ceiling).

    python -m benchmarks.bench_load [--world DIR | --scale 1m --seed 42] [--port 8799]

The sandbox runs in its own process (as `taktgeber sandbox` does), so the loader's
figures are the loader's. Writes `bench-out/bench_load.json` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dlt
import duckdb

from benchmarks.sandbox_port import wait_for_port
from pipelines.common import RetryPolicy
from pipelines.harvest import harvest_source
from pipelines.xero import xero_source
from taktgeber.config import REPO_ROOT
from taktgeber.load import SANDBOX_PATHS, load

OUT = REPO_ROOT / "bench-out"


def _world(args: argparse.Namespace) -> Path:
    if args.world:
        return Path(args.world)
    world = OUT / f"world-{args.scale}-{args.seed}"
    if not (world / "harvest" / "time_entries.json").exists():
        from taktgeber.generator import generate

        print(f"generating {args.scale} world (seed {args.seed}) into {world} ...", flush=True)
        generate(scale=args.scale, seed=args.seed, out=world)
    return world


def _ceiling(world: Path) -> dict[str, dict[str, float]]:
    """DuckDB reading the fixture files straight from disk into tables."""
    files = {
        "time_entries": world / "harvest" / "time_entries.json",
        "journals": world / "xero" / "Journals.json",
        "invoices": world / "xero" / "Invoices.json",
    }
    out = {}
    con = duckdb.connect()
    for name, path in files.items():
        started, cpu = time.perf_counter(), _cpu()
        con.execute(
            f"create or replace table {name} as select * from "
            f"read_json('{path}', format = 'array', maximum_object_size = 1073741824)"
        )
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        rows = con.execute(f"select count(*) from {name}").fetchone()[0]  # type: ignore[index]
        out[name] = {
            "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
            "cpu_seconds": cpu, "rows_per_cpu_s": rows / cpu,
        }  # fmt: skip
    con.close()
    return out


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _one_resource(base_url: str, workdir: Path, system: str, name: str) -> dict[str, float]:
    """Load a single resource into a fresh warehouse: its own rows/s."""
    factory = {"harvest": harvest_source, "xero": xero_source}[system]
    source = factory(base_url=base_url + SANDBOX_PATHS[system]).with_resources(name)
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{name}",
        destination=dlt.destinations.duckdb(credentials=str(workdir / f"{name}.duckdb")),
        dataset_name=f"raw_{system}",
        pipelines_dir=str(workdir / "dlt"),
    )
    started, cpu = time.perf_counter(), _cpu()
    pipeline.run(source, loader_file_format="parquet")
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    counts = pipeline.last_trace.last_normalize_info.row_counts  # type: ignore[union-attr]
    rows = counts.get(name, 0)
    return {
        "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
        "cpu_seconds": cpu, "rows_per_cpu_s": rows / cpu,
        # every table the resource wrote (journals also write journal_lines)
        "tables": {t: n for t, n in counts.items() if not t.startswith("_dlt")},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", default=None, help="a fixture folder (default: generate one)")
    parser.add_argument("--scale", default="1m")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    world = _world(args)
    base_url = f"http://127.0.0.1:{args.port}"
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "taktgeber",
            "sandbox",
            "--world",
            str(world),
            "--port",
            str(args.port),
        ],
        stdout=subprocess.DEVNULL,
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    load_before = os.getloadavg()
    try:
        wait_for_port(args.port, timeout=600.0)
        started = time.perf_counter()
        result = load(
            base_url=base_url,
            warehouse=workdir / "taktgeber.duckdb",
            pipelines_dir=workdir / "dlt",
            retry=RetryPolicy(),
        )
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        single = {
            "time_entries": _one_resource(base_url, workdir, "harvest", "time_entries"),
            "journals": _one_resource(base_url, workdir, "xero", "journals"),
        }
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    ceiling = _ceiling(world)
    report: dict[str, Any] = {
        "world": str(world),
        "load_average_start": load_before,
        "load_average": os.getloadavg(),
        "machine": f"{platform.node()} {platform.machine()}, {_cpus()} cores, Python {platform.python_version()}",
        "wall_seconds": wall,
        "peak_rss_mb": peak_mb,
        "sources": {
            name: {
                "seconds": r.seconds,
                "rows": sum(r.loaded_rows.values()),
                "requests": r.http.get("requests", 0),
                "rows_per_s": sum(r.loaded_rows.values()) / r.seconds,
                "tables": r.loaded_rows,
            }
            for name, r in result.sources.items()
        },
        "single_resource": single,
        "ceiling_read_json": ceiling,
    }
    for name in ("time_entries", "journals"):
        report["single_resource"][name]["share_of_ceiling"] = (
            single[name]["rows_per_s"] / ceiling[name]["rows_per_s"]
        )
        report["single_resource"][name]["cpu_share_of_ceiling"] = (
            single[name]["rows_per_cpu_s"] / ceiling[name]["rows_per_cpu_s"]
        )
    (OUT / "bench_load.json").write_text(json.dumps(report, indent=2, default=str))
    _print(report)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _cpus() -> int:
    return os.cpu_count() or 0


def _print(report: dict[str, Any]) -> None:
    print(f"\nworld {report['world']} on {report['machine']}")
    start, end = report["load_average_start"], report["load_average"]
    print(
        f"load average (1/5/15 min) at start {start[0]:.1f}/{start[1]:.1f}/{start[2]:.1f}, "
        f"at end {end[0]:.1f}/{end[1]:.1f}/{end[2]:.1f}"
    )
    print(
        f"full load wall time {report['wall_seconds']:.1f} s, peak RSS {report['peak_rss_mb']:.0f} MiB\n"
    )
    print("| source | rows loaded | requests | seconds | rows/s |")
    print("|---|---:|---:|---:|---:|")
    for name, s in report["sources"].items():
        print(
            f"| {name} | {s['rows']:,} | {s['requests']:,} | {s['seconds']:.1f} | {s['rows_per_s']:,.0f} |"
        )
    print(
        "\n| resource | loader rows/s (alone) | read_json rows/s | share "
        "| loader rows/CPU-s | read_json rows/CPU-s | share |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in report["single_resource"].items():
        c = report["ceiling_read_json"][name]
        print(
            f"| {name} | {s['rows_per_s']:,.0f} | {c['rows_per_s']:,.0f} "
            f"| {s['share_of_ceiling']:.0%} | {s['rows_per_cpu_s']:,.0f} "
            f"| {c['rows_per_cpu_s']:,.0f} | {s['cpu_share_of_ceiling']:.0%} |"
        )


if __name__ == "__main__":
    sys.exit(main())
