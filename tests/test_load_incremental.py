"""Incremental loads and schema drift: a second load after `sandbox.advance()`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.common import SchemaDriftError
from taktgeber.sandbox import Sandbox
from tests.load_helpers import TINY, query, run_load, snapshot


def _ids(warehouse: Path, table: str, key: str = "id") -> list:
    return [r[0] for r in query(warehouse, f"select {key} from {table} order by {key}")]


def test_second_load_fetches_only_changes_and_merges(tmp_path: Path) -> None:
    warehouse = tmp_path / "taktgeber.duckdb"
    with Sandbox(TINY) as sandbox:
        first = run_load(sandbox.base_url, tmp_path)
        changes = sandbox.advance(seed=3, new=2, changed=2)
        second = run_load(sandbox.base_url, tmp_path)
        served = {r["id"]: r for r in sandbox.records("harvest", "time_entries")}
        deals = {r["id"]: r for r in sandbox.records("hubspot", "deals")}
        journals = sandbox.records("xero", "Journals")
    new_journals = set(changes["xero/Journals"]["added"])
    new_lines = sum(len(j["JournalLines"]) for j in journals if j["JournalID"] in new_journals)
    assert len(changes["harvest/time_entries"]["changed"]) == 2
    loaded = second.loaded_rows
    assert loaded["raw_harvest"] == {"time_entries": 4}
    assert {t: n for t, n in loaded["raw_hubspot"].items() if "__" not in t} == {
        "companies": 4,
        "deals": 4,
    }
    assert loaded["raw_xero"]["invoices"] == 4
    assert loaded["raw_xero"]["journals"] == len(new_journals) > 0
    assert loaded["raw_xero"]["journal_lines"] == new_lines
    assert set(loaded["raw_xero"]) <= {
        "invoices", "invoices__line_items", "invoices__payments", "invoices__credit_notes",
        "journals", "journal_lines", "tax_rates", "tax_rates__tax_components",
    }  # fmt: skip
    # hubspot: one search per object type, then each changed deal read with associations
    assert second.sources["hubspot"].http["requests"] == 4 + 4
    # merged, no duplicates, and the changed values won
    rows = first.table_rows
    assert (
        second.table_rows["raw_harvest"]["time_entries"] == rows["raw_harvest"]["time_entries"] + 2
    )
    assert second.table_rows["raw_hubspot"]["deals"] == rows["raw_hubspot"]["deals"] + 2
    assert second.table_rows["raw_xero"]["invoices"] == rows["raw_xero"]["invoices"] + 2
    assert _ids(warehouse, "raw_harvest.time_entries") == sorted(served)
    assert _ids(warehouse, "raw_hubspot.deals") == sorted(deals)
    for entry_id in changes["harvest/time_entries"]["changed"]:
        hours, closed = query(
            warehouse,
            "select hours, is_closed from raw_harvest.time_entries where id = ?",
            [entry_id],
        )[0]
        assert hours == Decimal(str(served[entry_id]["hours"]))
        assert closed == served[entry_id]["is_closed"]
    for deal_id in changes["hubspot/deals"]["changed"] + changes["hubspot/deals"]["added"]:
        props = deals[deal_id]["properties"]
        assert query(
            warehouse,
            "select properties__amount, properties__dealstage from raw_hubspot.deals where id = ?",
            [deal_id],
        ) == [(props["amount"], props["dealstage"])]
        companies = query(
            warehouse,
            "select c.id from raw_hubspot.deals__associations__companies__results c "
            "join raw_hubspot.deals d on c._dlt_parent_id = d._dlt_id where d.id = ?",
            [deal_id],
        )
        expected = deals[deal_id].get("associations", {}).get("companies", {}).get("results", [])
        assert companies == [(a["id"],) for a in expected]
    assert query(
        warehouse,
        "select count(*) - count(distinct journal_line_id) from raw_xero.journal_lines",
    ) == [(0,)]


def test_extra_field_is_kept_as_a_new_column(tmp_path: Path) -> None:
    warehouse = tmp_path / "taktgeber.duckdb"
    with Sandbox(TINY) as sandbox:
        run_load(sandbox.base_url, tmp_path, sources=["harvest", "xero"])
        changes = sandbox.advance(seed=5, new=1, changed=1)
        sandbox.set_faults("drift=harvest/time_entries:extra_field|xero/Invoices:extra_field:Mood")
        run_load(sandbox.base_url, tmp_path, sources=["harvest", "xero"])
    drifted = changes["harvest/time_entries"]["added"] + changes["harvest/time_entries"]["changed"]
    assert query(
        warehouse,
        "select id from raw_harvest.time_entries where sandbox_drift_field = 'drift' order by id",
    ) == [(i,) for i in sorted(drifted)]
    assert query(
        warehouse, "select count(*) from raw_harvest.time_entries where sandbox_drift_field is null"
    ) == [(7 - len(changes["harvest/time_entries"]["changed"]),)]
    assert query(warehouse, "select count(*) from raw_xero.invoices where mood = 'drift'") == [(2,)]


@pytest.mark.parametrize(
    ("source", "drift", "table", "column"),
    [
        ("harvest", "harvest/time_entries:hours:string", "time_entries", "hours"),
        ("xero", "xero/Invoices:Total:string", "invoices", "total"),
        ("hubspot", "hubspot/deals:amount:number", "deals", "properties__amount"),
        ("harvest", "harvest/time_entries:user:string", "time_entries", "user"),
    ],
)
def test_type_change_fails_named_and_keeps_previous_data(
    tmp_path: Path, source: str, drift: str, table: str, column: str
) -> None:
    warehouse = tmp_path / "taktgeber.duckdb"
    with Sandbox(TINY) as sandbox:
        run_load(sandbox.base_url, tmp_path, sources=[source])
        before = snapshot(warehouse)
        sandbox.advance(seed=9, new=1, changed=1)
        sandbox.set_faults(f"drift={drift}")
        with pytest.raises(SchemaDriftError) as failure:
            run_load(sandbox.base_url, tmp_path, sources=[source])
        assert snapshot(warehouse) == before
        message = str(failure.value)
        assert message.startswith(f"{source}: table {table}, column {column} changed type")
        assert "record " in message
        # once the API is fixed, the next load picks up the same changes: nothing was lost
        sandbox.set_faults(None)
        again = run_load(sandbox.base_url, tmp_path, sources=[source])
    assert again.loaded_rows[f"raw_{source}"][table] == 2


# --- journals: Arrow's JSON reader with an explicit schema, the dict path as fallback ---


def _journal_lines_drift(**fields: object):
    """A serving transform adding/replacing fields in every journal line (the `drift=`
    fault language reaches only a record's own fields, not the elements of a list)."""

    def apply(rec: dict) -> dict:
        out = dict(rec)
        out["JournalLines"] = [
            {**line, **{k: v(line) if callable(v) else v for k, v in fields.items()}}
            for line in rec.get("JournalLines") or []
        ]
        return out

    return apply


def _serve_journals_through(sandbox: Sandbox, transform) -> None:
    with sandbox.world.lock:
        sandbox.world.get("xero", "Journals").set_transform(transform)


def test_journal_new_fields_are_kept_as_new_columns(tmp_path: Path) -> None:
    warehouse = tmp_path / "taktgeber.duckdb"
    with Sandbox(TINY) as sandbox:
        run_load(sandbox.base_url, tmp_path, sources=["xero"])
        changes = sandbox.advance(seed=5, new=1, changed=1)
        sandbox.set_faults("drift=xero/Journals:extra_field:Mood")
        header_drift = sandbox.world.get("xero", "Journals").transform
        _serve_journals_through(
            sandbox,
            lambda rec: _journal_lines_drift(Colour="blue", Extra={"Code": 7})(header_drift(rec)),
        )
        second = run_load(sandbox.base_url, tmp_path, sources=["xero"])
    added = sorted(changes["xero/Journals"]["added"])
    assert added
    assert second.loaded_rows["raw_xero"]["journals"] == len(added)
    assert _ids(warehouse, "raw_xero.journals where mood = 'drift'", "journal_id") == added
    assert query(
        warehouse,
        "select count(*), count(colour), min(colour), min(extra__code), "
        "min(typeof(extra__code)) from raw_xero.journal_lines where journal_id in "
        "(select journal_id from raw_xero.journals where mood = 'drift')",
    ) == [(second.loaded_rows["raw_xero"]["journal_lines"],) * 2 + ("blue", 7, "BIGINT")]
    # the lines loaded before have no value there; declared columns keep their types
    loaded_before = "select count(*) from raw_xero.journal_lines where colour is null"
    assert query(warehouse, loaded_before) == [(11,)]
    assert query(
        warehouse,
        "select column_name, data_type from information_schema.columns where table_schema = "
        "'raw_xero' and table_name = 'journal_lines' and column_name in "
        "('net_amount', 'journal_id', 'account_code') order by 1",
    ) == [("account_code", "VARCHAR"), ("journal_id", "VARCHAR"), ("net_amount", "DECIMAL(38,9)")]


@pytest.mark.parametrize(
    ("transform", "table", "column", "record"),
    [
        # a number as a string inside a line: Arrow refuses the page, the dict path names it
        (_journal_lines_drift(NetAmount=lambda line: str(line["NetAmount"])),
         "journal_lines", "net_amount", "journal_line_id="),
        # an object where a line's scalar was
        (_journal_lines_drift(AccountCode=lambda line: {"value": line["AccountCode"]}),
         "journal_lines", "account_code", "journal_line_id="),
        # a text field as a number
        (_journal_lines_drift(TaxType=19), "journal_lines", "tax_type", "journal_line_id="),
        # the journal's own number as a string
        (lambda rec: {**rec, "JournalNumber": str(rec["JournalNumber"])},
         "journals", "journal_number", "journal_id="),
    ],
    ids=["line-money-as-string", "line-scalar-as-object", "line-text-as-number", "header"],
)  # fmt: skip
def test_journal_type_change_fails_named_and_keeps_previous_data(
    tmp_path: Path, transform, table: str, column: str, record: str
) -> None:
    warehouse = tmp_path / "taktgeber.duckdb"
    with Sandbox(TINY) as sandbox:
        run_load(sandbox.base_url, tmp_path, sources=["xero"])
        before = snapshot(warehouse)
        changes = sandbox.advance(seed=9, new=1, changed=1)
        _serve_journals_through(sandbox, transform)
        with pytest.raises(SchemaDriftError) as failure:
            run_load(sandbox.base_url, tmp_path, sources=["xero"])
        assert snapshot(warehouse) == before
        message = str(failure.value)
        assert message.startswith(f"xero: table {table}, column {column} changed type")
        assert f"record {record}" in message
        # once the API is fixed, the next load picks up the same journals: nothing was lost
        _serve_journals_through(sandbox, None)
        again = run_load(sandbox.base_url, tmp_path, sources=["xero"])
    assert again.loaded_rows["raw_xero"]["journals"] == len(changes["xero/Journals"]["added"]) > 0
