"""The build benchmark's direct raw fill (benchmarks/raw_direct.py) on the small world:
the same raw schema as the dlt load, and a build on it gives the answer key exactly."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from benchmarks.raw_direct import fill, load_spec, raw_columns
from taktgeber.build import build
from taktgeber.verify_marts import compare_warehouse

pytestmark = pytest.mark.slow


def test_direct_raw_builds_to_the_answer_key(small_world: Path, tmp_path: Path):
    warehouse = tmp_path / "raw-direct.duckdb"
    report = fill(small_world, warehouse)
    assert report["tables"]["raw_harvest.time_entries"]["rows"] > 0

    assert raw_columns(warehouse) == load_spec()  # the dlt load's schema, column order too
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loads = con.execute("select count(*) from raw_xero._dlt_loads").fetchall()[0][0]
    finally:
        con.close()
    assert loads == 1

    key = json.loads((small_world / "answer_key.json").read_text(encoding="utf-8"))
    result = build(small_world, date.fromisoformat(key["as_of_date"]), warehouse)
    assert result.ok, result.failures
    assert result.stale_sources == []
    assert compare_warehouse(warehouse, key) == []
