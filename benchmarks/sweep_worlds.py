"""Build many generated worlds and compare each with its answer key (not in `make test`).

    python -m benchmarks.sweep_worlds [--scale small|demo] [--out DIR]
        [--world SEED[:RATE][@AS_OF] ...] [--per-check RATE --seed-base N]

Each world is generated (`taktgeber.generator.generate`), served by the sandbox on
loopback, loaded by the dlt pipelines into its own DuckDB file and built; then its open
findings, drafts and KPIs are compared with its answer key
(`taktgeber.verify_marts.compare_warehouse`).

- `--world 5:0.3@2027-01-01`: seed 5, every check planted at rate 0.3 (default: the
  generator's per-check rates), as_of 2027-01-01 (default: the generator's).
- `--per-check 0.5`: one world per check with only that check planted (rate 0.5, every
  other check 0), seeds `--seed-base` + the check's index: a finding of another check is
  a difference.

Prints one line per world (build outcome, absent raw tables, open findings, differences
with the first ten) and exits non-zero when any world failed to build or differs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any


def sweep_one(out: Path, scale: str, seed: int, **planted: Any) -> list[str]:
    """Generate, load and build one world in ``out``; its differences with its key."""
    from taktgeber.build import build
    from taktgeber.generator import generate
    from taktgeber.load import load
    from taktgeber.sandbox import Sandbox
    from taktgeber.verify_marts import compare_warehouse

    world = out / "world"
    generate(scale=scale, seed=seed, out=world, **planted)
    key = json.loads((world / "answer_key.json").read_text(encoding="utf-8"))
    warehouse = out / "warehouse.duckdb"
    with Sandbox(world) as sandbox:
        load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=out / "dlt")
    result = build(world, date.fromisoformat(key["as_of_date"]), warehouse)
    if not result.ok:
        return [f"build failed: {failure}" for failure in result.failures[:10]]
    differences = compare_warehouse(warehouse, key)
    print(
        f"  built: {sum(result.open_findings.values())} open findings "
        f"({len(key['findings'])} in the key), absent raw tables: "
        f"{', '.join(result.absent_sources) or 'none'}",
        flush=True,
    )
    return differences


def main(argv: list[str] | None = None) -> int:
    from taktgeber.generator.params import CHECKS

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["small", "demo"])
    parser.add_argument("--out", help="keep every world here (default: a temporary folder)")
    parser.add_argument("--world", action="append", default=[], help="SEED[:RATE][@AS_OF]")
    parser.add_argument("--per-check", type=float, help="one world per check at this rate")
    parser.add_argument("--seed-base", type=int, default=100)
    args = parser.parse_args(argv)

    runs: list[tuple[str, int, dict[str, Any]]] = []
    for spec in args.world:
        seed_rate, _, as_of = spec.partition("@")
        seed, _, rate = seed_rate.partition(":")
        planted: dict[str, Any] = {}
        if rate:
            planted["finding_rate"] = float(rate)
        if as_of:
            planted["as_of"] = date.fromisoformat(as_of)
        runs.append((spec, int(seed), planted))
    if args.per_check is not None:
        for index, check in enumerate(CHECKS):
            planted = {"finding_rate": 0.0, "finding_rates": {check: args.per_check}}
            runs.append((f"only {check}", args.seed_base + index, planted))
    if not runs:
        parser.error("name at least one --world or --per-check")

    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="sweep-"))
    failed = 0
    for label, seed, planted in runs:
        out = root / f"{args.scale}-{seed}-{label.replace(' ', '_').replace(':', '_')}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        print(f"{label} (seed {seed}, {args.scale}):", flush=True)
        differences = sweep_one(out, args.scale, seed, **planted)
        print(f"  {'same as its answer key' if not differences else 'DIFFERS'}", flush=True)
        for line in differences[:10]:
            print(f"    {line}")
        failed += bool(differences)
    print(f"{len(runs) - failed} of {len(runs)} worlds match their answer keys")
    if not args.out:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
