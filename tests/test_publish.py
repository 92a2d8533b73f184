"""Publishing swaps in a complete copy atomically while the dashboard keeps reading."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import duckdb

from taktgeber.publish import KEEP_COPIES, current_copy, publish

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboards"))
import queries  # the dashboard's module, imported as the app imports it

VERSIONS = 8


def _write_version(warehouse: Path, version: int) -> None:
    """Version k: k findings and k drafts, every row stamped k (as one dbt build would)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "create or replace table fct_exceptions as select 'E' || i as exception_id, "
            "? as version, 10.00 as amount_at_stake_eur from range(?) t(i)",
            [version, version],
        )
        con.execute(
            "create or replace table fct_invoice_drafts as select 'TG-' || i as draft_key, "
            "? as version from range(?) t(i)",
            [version, version],
        )
        con.execute(
            "create or replace table rpt_kpi_monthly as select '2026-09' as month, "
            "'dso_countback' as kpi, ?::decimal(18, 4) as value",
            [version],
        )
    finally:
        con.close()


def test_readers_see_whole_copies_while_publishing(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    folder = tmp_path / "published"
    no_results = tmp_path / "none.json"
    _write_version(warehouse, 1)
    publish(warehouse, folder, run_results=no_results)

    errors: list[BaseException] = []
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                con = queries.connect_current(folder)
                assert con is not None
                try:
                    findings = con.execute(
                        "select count(*), min(version), max(version) from fct_exceptions"
                    ).fetchall()[0]
                    drafts = con.execute(
                        "select count(*), min(version), max(version) from fct_invoice_drafts"
                    ).fetchall()[0]
                    (dso,) = con.execute("select value from rpt_kpi_monthly").fetchall()[0]
                finally:
                    con.close()
                version = findings[1]
                assert findings == (version, version, version), findings
                assert drafts == (version, version, version), drafts
                assert int(dso) == version
                seen.add(version)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for version in range(2, VERSIONS + 1):
            _write_version(warehouse, version)
            publish(warehouse, folder, run_results=no_results)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert not errors, errors[0]
    assert len(seen) >= 2  # the readers really read across publishes
    copy = current_copy(folder)
    assert copy is not None
    con = queries.connect(copy)
    try:
        assert con.execute("select count(*) from fct_exceptions").fetchall() == [(VERSIONS,)]
    finally:
        con.close()
    assert len(list(folder.glob("taktgeber-*.duckdb"))) == KEEP_COPIES
    assert not list(folder.glob(".*.tmp"))


def test_publish_does_not_hold_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _write_version(warehouse, 3)
    publish(warehouse, tmp_path / "published", run_results=tmp_path / "none.json")
    # the pipeline can write again at once, and the dashboard reads only its copy
    writer = duckdb.connect(str(warehouse))
    try:
        writer.execute("create or replace table fct_exceptions as select 1 as version")
        con = queries.connect_current(tmp_path / "published")
        assert con is not None
        try:
            assert con.execute("select count(*) from fct_exceptions").fetchall() == [(3,)]
        finally:
            con.close()
    finally:
        writer.close()


def test_nothing_published_yet(tmp_path: Path) -> None:
    assert current_copy(tmp_path / "nowhere") is None
    assert queries.connect_current(tmp_path / "nowhere") is None
