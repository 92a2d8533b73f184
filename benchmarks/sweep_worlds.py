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
- `--narrowed`: also, per world, eight edits: five of eight raw time entries each (hours,
  approval, deletion, project, the invoice number Harvest stored), three invoices paid
  in Xero with eight entries' hours edited the same day, a voided invoice that bills
  time entries, and a push day (two ready drafts pushed: their invoices and journals in
  Xero, their records in the push ledger of a copy of the world); after each, the
  rebuild of only what changed must equal a build from scratch of the same raw data
  (`taktgeber.verify_marts.compare_rebuilt_models`).

Prints one line per world (build outcome, absent raw tables, open findings, differences
with the first ten) and exits non-zero when any world failed to build or differs.
"""

from __future__ import annotations

import argparse
import json
import random
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


EDITS = ("hours", "approval", "deletion", "project", "invoice number", "payment", "void", "push")


def narrowed_differences(world: Path, warehouse: Path, out: Path) -> list[str]:
    """For each of `EDITS` on a copy of the built ``warehouse``: the rebuild of only what
    changed against a build from scratch of the same raw data."""
    from taktgeber.build import build, build_dirs
    from taktgeber.verify_marts import compare_rebuilt_models

    as_of = date.fromisoformat(
        json.loads((world / "answer_key.json").read_text(encoding="utf-8"))["as_of_date"]
    )
    differences = []
    for edit in EDITS:
        edited = out / f"edited-{edit.replace(' ', '-')}.duckdb"
        shutil.copyfile(warehouse, edited)
        shutil.copytree(build_dirs(warehouse)[0], build_dirs(edited)[0], dirs_exist_ok=True)
        # the push appends to the world's push ledger: to a copy, the other edits' world
        # stays as generated
        edited_world = out / "world-pushed" if edit == "push" else world
        if edited_world != world:
            shutil.rmtree(edited_world, ignore_errors=True)
            shutil.copytree(world, edited_world)
        if not build(edited_world, as_of, edited).ok:  # its own last build, for the narrowed one
            return [f"{edit}: the copy did not build"]
        _edit(edited, edited_world, edit, random.Random(f"{world}:{edit}"), as_of)
        narrowed = build(edited_world, as_of, edited)
        scratch = edited.with_name(edited.stem + "-scratch.duckdb")
        shutil.copyfile(edited, scratch)
        full = build(edited_world, as_of, scratch, full_refresh=True)
        if not (narrowed.ok and full.ok):
            differences.append(f"{edit}: a build failed")
            continue
        if not narrowed.rebuilt_from:
            differences.append(f"{edit}: the rebuild was not narrowed")
        differences += [f"{edit}: {d}" for d in compare_rebuilt_models(edited, scratch)]
    return differences


def _edit(warehouse: Path, world: Path, edit: str, rnd: random.Random, as_of: date) -> None:
    """One of `EDITS` to the raw tables, as a day's load would bring it (the push also to
    ``world``'s push ledger, as the next build imports it)."""
    from taktgeber.verify_marts import (
        pay_open_invoices,
        push_ready_drafts,
        void_a_billing_invoice,
    )

    if edit == "payment":
        pay_open_invoices(warehouse, count=3, dated_by=as_of)
        _edit_time_entries(warehouse, "hours", rnd)
    elif edit == "void":
        void_a_billing_invoice(warehouse)
    elif edit == "push":
        push_ready_drafts(warehouse, world, count=2)
    else:
        _edit_time_entries(warehouse, edit, rnd)


def _edit_time_entries(warehouse: Path, edit: str, rnd: random.Random) -> None:
    """One kind of edit to eight raw time entries, as a day's load would bring it."""
    import duckdb

    bump = "updated_at = (select max(updated_at) + interval 1 second from raw_harvest.time_entries)"
    con = duckdb.connect(str(warehouse))
    try:
        ids = [
            r[0]
            for r in con.execute("select id from raw_harvest.time_entries order by id").fetchall()
        ]
        picked = rnd.sample(ids, min(8, len(ids)))
        listed = ",".join(str(i) for i in picked)
        if edit == "hours":
            con.execute(
                f"update raw_harvest.time_entries set hours = hours + 0.25, {bump} where id in ({listed})"
            )
        elif edit == "approval":
            con.execute(
                "update raw_harvest.time_entries set is_closed = not coalesce(is_closed, false), "
                f"{bump} where id in ({listed})"
            )
        elif edit == "deletion":
            con.execute(f"delete from raw_harvest.time_entries where id in ({listed})")
        elif edit == "project":
            projects = [
                r[0]
                for r in con.execute(
                    "select distinct project__id from raw_harvest.time_entries order by 1"
                ).fetchall()
            ]
            for entry in picked:
                con.execute(
                    f"update raw_harvest.time_entries set project__id = {rnd.choice(projects)}, {bump} where id = {entry}"
                )
        else:
            numbers = [
                r[0]
                for r in con.execute(
                    "select distinct invoice__number from raw_harvest.time_entries "
                    "where invoice__number is not null order by 1"
                ).fetchall()
            ]
            for entry in picked:
                number = rnd.choice(numbers) if numbers and rnd.random() < 0.7 else None
                con.execute(
                    f"update raw_harvest.time_entries set invoice__number = ?, {bump} where id = ?",
                    [number, entry],
                )
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    from taktgeber.generator.params import CHECKS

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["small", "demo"])
    parser.add_argument("--out", help="keep every world here (default: a temporary folder)")
    parser.add_argument("--world", action="append", default=[], help="SEED[:RATE][@AS_OF]")
    parser.add_argument("--per-check", type=float, help="one world per check at this rate")
    parser.add_argument("--seed-base", type=int, default=100)
    parser.add_argument(
        "--narrowed", action="store_true", help="also compare narrowed rebuilds after edits"
    )
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
        if args.narrowed and not differences:
            differences = narrowed_differences(out / "world", out / "warehouse.duckdb", out)
            if not differences:
                print(f"  narrowed rebuilds equal builds from scratch ({', '.join(EDITS)})")
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
