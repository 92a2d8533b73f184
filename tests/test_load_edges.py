"""Pagination edges and dropped connections: the end state never depends on how pages fall."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from taktgeber.sandbox import Sandbox
from tests.load_helpers import TINY, copy_world, query, run_load, snapshot


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = tmp_path_factory.mktemp("edges-clean")
    with Sandbox(TINY) as sandbox:
        run_load(sandbox.base_url, workdir)
    return snapshot(workdir / "taktgeber.duckdb")


@pytest.mark.parametrize(
    ("sizes", "requests"),
    [
        # exactly one full page each: 4 deals, 7 time entries, 3 invoices
        (
            {
                "hubspot": {"list_page_size": 5},
                "harvest": {"page_size": 7},
                "xero": {"page_size": 3},
            },
            {"hubspot": 4, "harvest": 7, "xero": 7},
        ),
        # many small pages
        (
            {
                "hubspot": {"list_page_size": 2},
                "harvest": {"page_size": 2, "batch_rows": 3},  # several Arrow batches
                "xero": {"page_size": 2, "batch_rows": 2},
            },
            {
                "hubspot": 2 + 2 + 3 + 1,
                "harvest": 2 + 1 + 2 + 2 + 1 + 1 + 4,
                "xero": 2 + 2 + 1 + 1 + 3,
            },
        ),
    ],
    ids=["one-page", "small-pages"],
)
def test_page_sizes_give_the_same_end_state(
    tmp_path: Path, clean_state: dict, sizes: dict, requests: dict
) -> None:
    with Sandbox(TINY) as sandbox:
        result = run_load(sandbox.base_url, tmp_path, options=sizes)
    assert {n: r.http["requests"] for n, r in result.sources.items()} == requests
    assert snapshot(tmp_path / "taktgeber.duckdb") == clean_state


def test_empty_resources_load_nothing_and_do_not_fail(tmp_path: Path) -> None:
    world = copy_world(tmp_path)
    for path in ("hubspot/products.json", "harvest/expenses.json", "xero/Payments.json"):
        (world / path).write_text("[]")
    with Sandbox(world) as sandbox:
        result = run_load(sandbox.base_url, tmp_path / "out")
    loaded = result.loaded_rows
    assert "products" not in loaded["raw_hubspot"]
    assert "expenses" not in loaded["raw_harvest"]
    assert "payments" not in loaded["raw_xero"]
    assert loaded["raw_harvest"]["time_entries"] == 7


def test_hubspot_search_restarts_past_the_result_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cap at 4 and pages of 2, 6 changed companies need a restarted query."""
    import taktgeber.sandbox.hubspot as sandbox_hubspot

    monkeypatch.setattr(sandbox_hubspot, "SEARCH_RESULT_CAP", 4)
    warehouse = tmp_path / "taktgeber.duckdb"
    options = {"hubspot": {"search_page_size": 2, "search_result_cap": 4}}
    with Sandbox(TINY) as sandbox:
        run_load(sandbox.base_url, tmp_path, sources=["hubspot"], options=options)
        added = [
            sandbox.advance(seed=s, new=2, changed=0)["hubspot/companies"]["added"]
            for s in (1, 2, 3)
        ]
        result = run_load(sandbox.base_url, tmp_path, sources=["hubspot"], options=options)
        served = sorted(r["id"] for r in sandbox.records("hubspot", "companies"))
    assert [len(a) for a in added] == [2, 2, 2]
    assert query(warehouse, "select id from raw_hubspot.companies order by id") == [
        (i,) for i in served
    ]
    assert len(served) == 3 + 6
    # query 1 (from the last load's cursor): [boundary company (skipped), a1], [a2, b1];
    # offset 4 reaches the cap, so query 2 restarts from b's stamp: [b1, b2], [c1, c2]
    assert result.loaded_rows["raw_hubspot"]["companies"] == 7


class DroppingProxy:
    """A loopback TCP proxy that closes every `every`-th connection without answering."""

    def __init__(self, target_port: int, every: int = 3) -> None:
        self.target_port = target_port
        self.every = every
        self.count = 0
        self.dropped = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.count += 1
            if self.count % self.every == 0:
                self.dropped += 1
                client.recv(65536)
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


def test_dropped_connections_are_retried(tmp_path: Path, clean_state: dict) -> None:
    with Sandbox(TINY) as sandbox:
        proxy = DroppingProxy(sandbox.port, every=3)
        try:
            result = run_load(f"http://127.0.0.1:{proxy.port}", tmp_path)
        finally:
            proxy.close()
    assert proxy.dropped > 0
    assert sum(r.http.get("dropped", 0) for r in result.sources.values()) >= proxy.dropped
    assert snapshot(tmp_path / "taktgeber.duckdb") == clean_state


def test_fixture_counts_match_the_files() -> None:
    """The counts the load tests assert are the fixture's own (guards against fixture edits)."""
    counts = {p.stem: len(json.loads(p.read_text())) for p in TINY.glob("*/*.json")}
    assert counts["time_entries"] == 7
    assert counts["deals"] == 4
    assert counts["Invoices"] == 3


def test_journal_pages_take_the_arrow_path_and_match_the_dict_path() -> None:
    """Xero journals are parsed by Arrow's JSON reader (explicit schema, exact DECIMAL
    money); the dict path, kept for pages Arrow refuses, builds the very same tables."""
    from decimal import Decimal

    import pyarrow as pa

    from pipelines.common import DECIMAL, column_name
    from pipelines.xero import (
        JOURNAL_KEYS,
        JOURNAL_LINE_KEYS,
        JOURNAL_LINES,
        JOURNALS,
        _arrow_journal_tables,
        _journal_parser,
        _journal_tables,
    )

    for keys, spec in ((JOURNAL_KEYS, JOURNALS), (JOURNAL_LINE_KEYS, JOURNAL_LINES)):
        assert all(column_name(key) == name for name, key in keys.items())
        assert set(spec.columns) - set(keys) <= {"journal_id"}
    records = json.loads((TINY / "xero" / "Journals.json").read_text())
    records[0]["JournalLines"][0]["NetAmount"] = 123456789.91  # not exact as a float
    body = json.dumps({"Id": "x", "Status": "OK", "Journals": records}, indent=1).encode()
    page = _journal_parser()(body)
    assert isinstance(page, pa.Table)
    fast = _arrow_journal_tables(page)
    slow = _journal_tables(json.loads(body, parse_float=Decimal)["Journals"])
    for f, s in zip(fast, slow, strict=True):
        assert f.schema == s.schema
        assert f.to_pylist() == s.to_pylist()
    journals, lines = fast
    assert journals.num_rows == len(records)
    assert lines.num_rows == sum(len(r["JournalLines"]) for r in records)
    assert lines.schema.field("net_amount").type == DECIMAL
    assert lines.column("net_amount")[0].as_py() == Decimal("123456789.91")
    assert lines.column("journal_id").to_pylist() == [
        r["JournalID"] for r in records for _ in r["JournalLines"]
    ]
    # a page Arrow refuses comes back as Python objects, money as Decimal
    records[0]["JournalLines"][0]["NetAmount"] = "12.5"
    refused = _journal_parser()(json.dumps({"Journals": records}).encode())
    assert isinstance(refused, dict)
    assert isinstance(refused["Journals"][1]["JournalLines"][0]["NetAmount"], Decimal)
    # more places than DECIMAL(38, 9) holds: Arrow refuses, the dict path rounds
    records[0]["JournalLines"][0]["NetAmount"] = 1.0000000004
    refused = _journal_parser()(json.dumps({"Journals": records}).encode())
    assert isinstance(refused, dict)
    _, lines = _journal_tables(refused["Journals"])
    assert lines.column("net_amount")[0].as_py() == Decimal("1.000000000")


def test_time_entry_money_is_exact_on_both_paths() -> None:
    """Hours and rates go into DECIMAL(38, 9) from the number's text, with no float step,
    on Arrow's path and on the dict path alike."""
    from decimal import Decimal

    import pyarrow as pa

    from pipelines.common import (
        DECIMAL,
        arrow_json_parser,
        conform,
        flatten,
        records_table,
        to_arrow,
    )
    from pipelines.harvest import TIME_ENTRIES, TIME_ENTRIES_PAGE, TIME_ENTRIES_TEXT

    records = json.loads((TINY / "harvest" / "time_entries.json").read_text())
    records[0]["billable_rate"] = 123456789.91  # not exact as a float
    records[0]["hours"] = 7.26
    parse = arrow_json_parser(TIME_ENTRIES_PAGE)

    def body(rows: list[dict]) -> bytes:
        return json.dumps({"time_entries": rows, "links": {"next": None}}).encode()

    page = parse(body(records))
    assert isinstance(page, pa.Table)
    fast = conform(records_table(page, "time_entries"), TIME_ENTRIES)
    slow_rows = json.loads(body(records), parse_float=Decimal)["time_entries"]
    slow = conform(to_arrow([flatten(r) for r in slow_rows], TIME_ENTRIES_TEXT), TIME_ENTRIES)
    assert fast.schema.field("billable_rate").type == DECIMAL
    for table in (fast, slow):
        first = table.slice(0, 1).to_pylist()[0]
        assert first["billable_rate"] == Decimal("123456789.91")
        assert first["hours"] == Decimal("7.26")
    assert fast.column("billable_rate").to_pylist() == slow.column("billable_rate").to_pylist()
    # a rate sent as text is a type change: the dict path gets it (and names it)
    records[0]["billable_rate"] = "150.00"
    assert isinstance(parse(body(records)), dict)
    # more places than DECIMAL(38, 9) holds: Arrow refuses, the dict path rounds
    records[0]["billable_rate"] = 1.0000000004
    refused = parse(body(records))
    assert isinstance(refused, dict)
    table = to_arrow([flatten(r) for r in refused["time_entries"]], TIME_ENTRIES_TEXT)
    assert table.column("billable_rate")[0].as_py() == Decimal("1.000000000")
