"""The whole flow on one small world, every part real: sandbox over loopback → dlt load →
dbt build → push into the sandbox's Xero → load and build again. Afterwards the pushed
invoices are in the warehouse, their drafts are no longer `ready`, and the push created
exactly one invoice per ready draft."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

from taktgeber.build import build
from taktgeber.load import load
from taktgeber.push import push
from taktgeber.sandbox import Sandbox
from taktgeber.verify import compare_findings


def _ready_drafts(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select draft_key, currency_code from fct_invoice_drafts where status = 'ready'"
        ).fetchall()
    return dict(rows)


def _credit_note_drafts(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            k for (k,) in con.execute("select draft_key from fct_credit_note_drafts").fetchall()
        }


def test_push_then_reload_shows_invoices_matched_and_drafts_gone(small_world: Path, tmp_path):
    answer_key = json.loads((small_world / "answer_key.json").read_text())
    as_of = date.fromisoformat(answer_key["as_of_date"])
    warehouse = tmp_path / "e2e.duckdb"
    pipelines = tmp_path / "dlt"

    with Sandbox(small_world) as sandbox:
        load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=pipelines)
        first = build(world=small_world, as_of=as_of, warehouse=warehouse)
        assert first.ok, first.failures
        ready = _ready_drafts(warehouse)
        credit_notes = _credit_note_drafts(warehouse)
        expected_ready = {d["draft_key"] for d in answer_key["drafts"] if d["status"] == "ready"}
        assert set(ready) == expected_ready and ready

        invoices_before = len(sandbox.records("xero", "Invoices"))
        run = push(warehouse=warehouse, base_url=sandbox.base_url)
        assert run.outcome in ("success", "partial"), run.summary()
        # every ready invoice draft and every credit-note draft created, nothing else
        assert sorted(run.confirmed) == sorted(set(ready) | credit_notes)
        created = [
            inv for inv in sandbox.records("xero", "Invoices") if inv.get("Reference") in ready
        ]
        assert len(created) == len(ready)  # exactly one invoice per ready draft
        assert len(sandbox.records("xero", "Invoices")) >= invoices_before + len(ready)

        # a second run finds nothing left to send
        again = push(warehouse=warehouse, base_url=sandbox.base_url)
        assert again.confirmed == [] and again.found_by_lookup == []

        load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=pipelines)
        second = build(world=small_world, as_of=as_of, warehouse=warehouse)
        assert second.ok, second.failures

    assert _ready_drafts(warehouse) == {}
    assert _credit_note_drafts(warehouse) == set()  # corrected once, not drafted again
    with duckdb.connect(str(warehouse), read_only=True) as con:
        pushed = dict(
            con.execute(
                "select reference, invoice_status from stg_xero__invoices where reference in ?",
                [list(ready)],
            ).fetchall()
        )
        assert set(pushed) == set(ready)
        assert set(pushed.values()) == {"AUTHORISED"}
        pushed_credit_notes = {
            credit_note_id
            for (credit_note_id,) in con.execute(
                "select xero_credit_note_id from stg_xero__credit_notes where reference in ?",
                [sorted(credit_notes)],
            ).fetchall()
        }
        assert len(pushed_credit_notes) == len(credit_notes)
    # What the push changed in the findings, and nothing else: due milestones and old
    # approved work are billed now; contacts linked only by a fallback have more invoiced
    # gross at stake; a credit note for an invoice that is already PAID can't be allocated
    # in Xero (it needs a refund), so it stands without reference. No pushed draft is
    # missing in Xero and no other check fired.
    allowed = (
        "missing: milestone_due_not_invoiced ",
        "missing: unbilled_approved_work ",
        "amount differs: customer_unmatched ",
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        differences = compare_findings(con, answer_key)
    unexpected = [d for d in differences if not d.startswith(allowed)]
    for line in unexpected:
        assert line.startswith("unexpected: credit_note_without_reference "), unexpected
        assert any(cn in line for cn in pushed_credit_notes), line
    assert any(d.startswith("missing: milestone_due_not_invoiced ") for d in differences)
