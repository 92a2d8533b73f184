"""Benchmark the dashboard: time to render each page with Streamlit's AppTest against the
published copy of a built warehouse.

    python -m benchmarks.bench_dashboard [--warehouse FILE] [--runs 10]

FILE is a warehouse after `taktgeber build` (default: the 1m build that
`python -m benchmarks.bench_build` leaves in
`bench-out/build-world-w1m-seeds-only.duckdb`). It is
published with `taktgeber.publish.publish()` into `bench-out/published-<name>/` (the same
copy the app reads in production), then, for each page (Overview, Reconciliation,
Invoicing, Data health): the first render in this process (reported on its own: imports,
first DuckDB open) and `--runs` warm renders (`switch_page(...).run()` on one AppTest),
as median and p95. A render is the whole script run: open the published copy, every
query of the page, building the elements. No page caches query results (no
`st.cache_data`), so warm runs re-run every query.

Writes `bench-out/bench_dashboard.json` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from taktgeber.config import REPO_ROOT

OUT = REPO_ROOT / "bench-out"
APP = REPO_ROOT / "dashboards" / "app.py"
PAGES = {
    "Overview": "pages/overview.py",
    "Reconciliation": "pages/reconciliation.py",
    "Invoicing": "pages/invoicing.py",
    "Data health": "pages/data_health.py",
}
TARGET_SECONDS = 1.0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(0.95 * (len(ordered) - 1))))
    return ordered[k]


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _render(app: Any, page: str, title: str) -> float:
    started = time.perf_counter()
    app.switch_page(page).run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{page}: {[e.message for e in app.exception]}")
    shown = [t.value for t in app.title]
    if shown[:1] != [title]:
        raise RuntimeError(f"{page} rendered {shown}, expected {title!r}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", default=str(OUT / "build-world-w1m-seeds-only.duckdb"))
    parser.add_argument("--runs", type=int, default=10, help="warm renders per page")
    parser.add_argument("--published-dir", default=None)
    args = parser.parse_args(argv)
    warehouse = Path(args.warehouse).resolve()
    if not warehouse.exists():
        print(f"no warehouse at {warehouse}: run `python -m benchmarks.bench_build` first")
        return 2
    OUT.mkdir(exist_ok=True)
    from taktgeber.publish import PUBLISHED_ENV, publish

    published_dir = Path(args.published_dir or OUT / f"published-{warehouse.stem}").resolve()
    started = time.perf_counter()
    copy = publish(warehouse, published_dir)
    publish_seconds = time.perf_counter() - started
    os.environ[PUBLISHED_ENV] = str(published_dir)

    con = duckdb.connect(str(copy), read_only=True)
    sizes = {
        t: con.execute(f'select count(*) from "{t}"').fetchall()[0][0]
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "order by table_name"
        ).fetchall()
    }
    con.close()

    from streamlit.testing.v1 import AppTest

    report: dict[str, Any] = {
        "warehouse": str(warehouse),
        "published_copy": str(copy),
        "published_mib": copy.stat().st_size / 2**20,
        "publish_seconds": publish_seconds,
        "published_rows": sizes,
        "machine": (
            f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, duckdb {duckdb.__version__}"
        ),
        "load_average_start": _loadavg(),
        "runs": args.runs,
        "pages": {},
    }
    app = AppTest.from_file(str(APP), default_timeout=120)
    started = time.perf_counter()
    app.run()  # the default page (Overview), cold: imports, first open
    report["first_app_run_seconds"] = time.perf_counter() - started
    if app.exception:
        raise RuntimeError([e.message for e in app.exception])
    for title, page in PAGES.items():
        la = _loadavg()
        first = _render(app, page, title)
        warm = [_render(app, page, title) for _ in range(args.runs)]
        report["pages"][title] = {
            "first_seconds": first,
            "warm_seconds": warm,
            "median_seconds": statistics.median(warm),
            "p95_seconds": _p95(warm),
            "max_seconds": max(warm),
            "meets_target": _p95(warm) < TARGET_SECONDS,
            "load_average": la,
        }
    report["load_average_end"] = _loadavg()
    report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (OUT / "bench_dashboard.json").write_text(json.dumps(report, indent=2, default=str))
    print(
        f"\npublished copy {copy} ({report['published_mib']:.0f} MiB, "
        f"publish {publish_seconds:.1f} s) on {report['machine']}"
    )
    print(f"first app run (Overview, cold process): {report['first_app_run_seconds']:.2f} s")
    print("\n| page | first s | warm median s | warm p95 s | < 1 s (p95) | load avg |")
    print("|---|---:|---:|---:|---|---|")
    for title, p in report["pages"].items():
        print(
            f"| {title} | {p['first_seconds']:.2f} | {p['median_seconds']:.2f} "
            f"| {p['p95_seconds']:.2f} | {'yes' if p['meets_target'] else 'no'} "
            f"| {p['load_average'][0]:.1f} |"
        )
    print(f"load average start {report['load_average_start']}, end {report['load_average_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
