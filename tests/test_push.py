"""The invoice push job against the real sandbox on loopback and a real DuckDB warehouse.

The draft marts are created directly in a temporary warehouse (input data, with the
marts' columns); the Xero contacts are the sandbox's tiny fixture's.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from taktgeber.keys import draft_key
from taktgeber.push import cli_main, export_ledger, import_ledger, push
from taktgeber.push.command import run_lock
from taktgeber.push.job import PushSettings
from taktgeber.push.synthetic import (
    DRAFT_COLUMNS,
    LINE_COLUMNS,
    contacts_from_fixture,
    write_drafts,
    write_passing_build,
)
from taktgeber.push.xero import Backoff
from taktgeber.sandbox import Sandbox

TINY = Path(__file__).parent / "fixtures" / "tiny"
FAST = Backoff(base=0.05, cap=0.5, max_attempts=8)


@pytest.fixture
def sandbox():
    with Sandbox(TINY) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path) -> dict:
    target = tmp_path / "target"
    write_passing_build(target)
    return {
        "warehouse": tmp_path / "warehouse.duckdb",
        "target": target,
        "settings": PushSettings(target_dir=target, backoff=FAST, settle_seconds=0.2),
    }


FIXTURE_INVOICES = {
    r["InvoiceID"] for r in json.loads((TINY / "xero" / "Invoices.json").read_text())
}


def pushed(sandbox: Sandbox) -> list[dict]:
    """Invoices the push created (the fixture's own invoices left out)."""
    return [
        r for r in sandbox.records("xero", "Invoices") if r["InvoiceID"] not in FIXTURE_INVOICES
    ]


def rows(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def execute(warehouse: Path, sql: str, params: list | None = None) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(sql, params or [])
    finally:
        con.close()


def test_every_ready_draft_becomes_one_invoice_with_a_ledger_record(sandbox, env):
    contacts = contacts_from_fixture(TINY)
    keys = write_drafts(env["warehouse"], 60, contacts)
    # one blocked, one deferred: never pushed
    execute(
        env["warehouse"],
        "update main_marts.fct_invoice_drafts set status = 'blocked', "
        "reasons = ['rate_mismatch'] where draft_key = ?",
        [keys[0]],
    )
    execute(
        env["warehouse"],
        "update main_marts.fct_invoice_drafts set status = 'deferred' where draft_key = ?",
        [keys[1]],
    )
    run = push(env["warehouse"], sandbox.base_url, settings=env["settings"])

    assert (run.outcome, run.exit_code) == ("success", 0)
    assert (run.drafts_ready, run.drafts_blocked, run.drafts_deferred) == (58, 1, 1)
    assert sorted(run.confirmed) == sorted(keys[2:])
    assert run.calls == 2  # 58 drafts: a batch of 50 and one of 8
    invoices = pushed(sandbox)
    assert sorted(i["Reference"] for i in invoices) == sorted(keys[2:])

    by_ref = {i["Reference"]: i for i in invoices}
    # draft index 4 is a reverse-charge (AE) draft: 2 lines + the note line
    ae = by_ref[keys[4]]
    assert ae["Status"] == "AUTHORISED" and ae["Type"] == "ACCREC"
    assert ae["Contact"]["ContactID"] == contacts[4 % len(contacts)].contact_id
    assert [li["Description"] for li in ae["LineItems"]] == [
        "Consulting 2026-05",
        "Travel",
        "Steuerschuldnerschaft des Leistungsempfängers / reverse charge",
    ]
    assert Decimal(str(ae["Total"])) == Decimal("945.50")
    # index 2: S at 19 %: 9.5 h × 120.00 + 45.50 = 1185.50 net, 225.25 tax
    assert Decimal(str(by_ref[keys[2]]["Total"])) == Decimal("1410.75")

    ledger = rows(
        env["warehouse"],
        "select draft_key, status, attempts, xero_invoice_id, xero_invoice_number, total "
        "from raw_taktgeber.push_ledger order by draft_key",
    )
    assert len(ledger) == 58
    assert {r[1] for r in ledger} == {"succeeded"} and {r[2] for r in ledger} == {1}
    assert {r[0]: r[3] for r in ledger} == {k: i["InvoiceID"] for k, i in by_ref.items()}
    assert {r[0]: r[4] for r in ledger} == {k: i["InvoiceNumber"] for k, i in by_ref.items()}
    states = rows(
        env["warehouse"],
        "select state, count(*) from raw_taktgeber.push_ledger_events group by state order by 1",
    )
    assert states == [("confirmed", 58), ("pending", 58)]
    lines = rows(
        env["warehouse"],
        "select line_no, kind, line_amount, harvest_time_entry_ids, harvest_expense_ids "
        "from raw_taktgeber.push_ledger_lines where draft_key = ? order by line_no",
        [keys[2]],
    )
    assert lines == [
        (1, "time", Decimal("1140.00"), [10000006, 10000007], None),
        (2, "expense", Decimal("45.50"), None, [20000002]),
    ]
    run_rows = rows(
        env["warehouse"], "select outcome, exit_code, confirmed, calls from raw_taktgeber.push_runs"
    )
    assert run_rows == [("success", 0, 58, 2)]

    again = push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    assert (again.outcome, again.calls, again.already_confirmed, again.confirmed) == (
        "success",
        0,
        58,
        [],
    )
    assert len(pushed(sandbox)) == 58


def test_invoice_status_is_configurable(sandbox, env):
    keys = write_drafts(env["warehouse"], 3, contacts_from_fixture(TINY))
    run = push(env["warehouse"], sandbox.base_url, status="DRAFT", settings=env["settings"])
    assert run.exit_code == 0
    assert sorted((i["Reference"], i["Status"]) for i in pushed(sandbox)) == [
        (k, "DRAFT") for k in sorted(keys)
    ]
    with pytest.raises(ValueError, match="invoice status 'PAID'"):
        push(env["warehouse"], sandbox.base_url, status="PAID", settings=env["settings"])


def test_partial_batch_dead_letters_the_invalid_and_rerun_sends_none(sandbox, env):
    keys = write_drafts(env["warehouse"], 50, contacts_from_fixture(TINY))
    invalid = [keys[7], keys[23], keys[41]]
    execute(
        env["warehouse"],
        "update main_marts.fct_invoice_drafts "
        "set xero_contact_id = '00000000-0000-4000-8000-00000000dead' where draft_key in ?",
        [invalid],
    )
    run = push(env["warehouse"], sandbox.base_url, settings=env["settings"])

    assert (run.outcome, run.exit_code, run.calls) == ("partial", 2, 1)
    assert len(run.confirmed) == 47
    assert sorted(run.dead_lettered) == sorted(invalid)
    assert sorted(i["Reference"] for i in pushed(sandbox)) == sorted(set(keys) - set(invalid))
    dead = rows(
        env["warehouse"],
        "select draft_key, status from raw_taktgeber.push_ledger "
        "where status <> 'succeeded' order by 1",
    )
    assert dead == [(k, "dead_lettered") for k in sorted(invalid)]
    messages = rows(
        env["warehouse"],
        "select distinct error from raw_taktgeber.push_ledger_events where state = 'dead_lettered'",
    )
    assert len(messages) == 1 and messages[0][0]  # Xero's own validation message, kept
    assert run.dead_lettered[invalid[0]] == messages[0][0]

    rerun = push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    assert (rerun.calls, rerun.confirmed, rerun.already_confirmed) == (0, [], 47)
    assert sorted(rerun.still_dead_lettered) == sorted(invalid)
    assert rerun.exit_code == 2
    assert len(pushed(sandbox)) == 47


def test_gate_refuses_a_failed_build_and_override_is_logged(sandbox, env):
    write_drafts(env["warehouse"], 4, contacts_from_fixture(TINY))
    (env["target"] / "run_results.json").write_text(
        json.dumps(
            {
                "results": [
                    {"unique_id": "model.taktgeber.fct_invoice_drafts", "status": "success"},
                    {
                        "unique_id": "test.taktgeber.unique_fct_invoice_drafts_draft_key",
                        "status": "fail",
                        "message": "Got 2 results, configured to fail if != 0",
                    },
                ]
            }
        )
    )
    refused = push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    assert (refused.outcome, refused.exit_code, refused.calls) == ("refused", 1, 0)
    assert refused.gate.reasons == (
        (
            "dbt test.taktgeber.unique_fct_invoice_drafts_draft_key ended fail: "
            "Got 2 results, configured to fail if != 0"
        ),
    )
    assert pushed(sandbox) == []
    assert rows(env["warehouse"], "select count(*) from raw_taktgeber.push_ledger_events") == [(0,)]

    overridden = push(
        env["warehouse"], sandbox.base_url, override_gate=True, settings=env["settings"]
    )
    assert (overridden.outcome, len(overridden.confirmed)) == ("success", 4)
    assert len(pushed(sandbox)) == 4
    assert rows(
        env["warehouse"], "select distinct override_gate from raw_taktgeber.push_ledger_events"
    ) == [(True,)]
    assert rows(
        env["warehouse"],
        "select outcome, override_gate, gate_reasons is not null from raw_taktgeber.push_runs "
        "order by started_at",
    ) == [("refused", False, True), ("success", True, True)]


def test_gate_refuses_stale_sources(sandbox, env):
    write_drafts(env["warehouse"], 2, contacts_from_fixture(TINY))
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=30)
    fresh = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    for dataset, loaded in (("raw_hubspot", fresh), ("raw_harvest", fresh), ("raw_xero", old)):
        execute(env["warehouse"], f"create schema {dataset}")
        execute(
            env["warehouse"],
            f"create table {dataset}._dlt_loads as select 'x' as load_id, 0 as status, "
            "?::timestamp as inserted_at",
            [loaded],
        )
    run = push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    assert run.outcome == "refused"
    assert len(run.gate.reasons) == 1
    assert run.gate.reasons[0].startswith("raw_xero is stale: last load")
    assert pushed(sandbox) == []


def test_dry_run_reports_totals_and_blocked_drafts_and_sends_nothing(sandbox, env, capsys):
    contacts = contacts_from_fixture(TINY)
    keys = write_drafts(env["warehouse"], 6, contacts)
    execute(
        env["warehouse"],
        "update main_marts.fct_invoice_drafts set status = 'blocked', "
        "reasons = ['missing_vat_id_for_reverse_charge', 'customer_unmatched'] "
        "where draft_key = ?",
        [keys[5]],
    )
    code = cli_main(
        [
            "--dry-run",
            "--warehouse",
            str(env["warehouse"]),
            "--base-url",
            sandbox.base_url,
            "--target-dir",
            str(env["target"]),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    # drafts 0..4: nets 945.50, 1065.50, 1185.50, 1305.50 (S) and 945.50 (AE)
    assert "dry run: 5 draft(s) to create, 0 to look up first" in out
    assert "EUR       5  net        5447.50  tax       855.40  gross        6302.90" in out
    # per customer: drafts 0 and 3 → the first contact, 1 and 4 → the second, 2 → the third
    assert f"{contacts[0].company_id:>14} EUR     2  gross        2678.70" in out
    assert f"{contacts[1].company_id:>14} EUR     2  gross        2213.45" in out
    assert f"{contacts[2].company_id:>14} EUR     1  gross        1410.75" in out
    assert "blocked drafts: 1" in out
    assert f"{keys[5]} (company {contacts[5 % 3].company_id}): " in out
    assert "missing_vat_id_for_reverse_charge, customer_unmatched" in out
    assert pushed(sandbox) == []
    assert rows(env["warehouse"], "select count(*) from raw_taktgeber.push_ledger_events") == [(0,)]


def test_a_draft_changed_after_it_was_pushed_is_refused(sandbox, env):
    keys = write_drafts(env["warehouse"], 3, contacts_from_fixture(TINY))
    assert push(env["warehouse"], sandbox.base_url, settings=env["settings"]).exit_code == 0
    execute(
        env["warehouse"],
        "update main_marts.fct_invoice_draft_lines set quantity = 1, line_amount = 120.00 "
        "where draft_key = ? and line_no = 1",
        [keys[1]],
    )
    run = push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    assert (run.outcome, run.exit_code, run.calls, run.already_confirmed) == ("partial", 2, 0, 2)
    assert list(run.refused) == [keys[1]]
    assert "content changed after it was pushed as Xero invoice" in run.refused[keys[1]]
    assert "issue a credit note" in run.summary()
    assert len(pushed(sandbox)) == 3
    assert rows(
        env["warehouse"],
        "select status from raw_taktgeber.push_ledger where draft_key = ?",
        [keys[1]],
    ) == [("succeeded",)]
    assert rows(
        env["warehouse"],
        "select count(*) from raw_taktgeber.push_ledger_events where state = 'refused'",
    ) == [(1,)]


def test_ledger_export_import_round_trip_prevents_resending(sandbox, env, tmp_path):
    keys = write_drafts(env["warehouse"], 5, contacts_from_fixture(TINY))
    push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    exported = tmp_path / "world" / "taktgeber" / "push_ledger.json"
    assert export_ledger(exported, env["warehouse"]) == 5
    records = json.loads(exported.read_text())
    first = records[0]
    assert list(first) == [
        "draft_key", "reference", "idempotency_key", "status", "attempts", "pushed_at",
        "xero_invoice_id", "xero_invoice_number", "xero_contact_id", "hubspot_company_id",
        "harvest_project_id", "currency", "billing_month", "tax_category", "subtotal",
        "total_tax", "total", "lines",
    ]  # fmt: skip
    assert [r["draft_key"] for r in records] == sorted(keys)
    assert {r["status"] for r in records} == {"succeeded"}
    assert first["reference"] == first["draft_key"]
    assert first["idempotency_key"].startswith("TGB-")
    assert first["lines"][0]["source_ids"]["harvest_time_entry_ids"]
    assert isinstance(first["total"], str)

    other = tmp_path / "other.duckdb"
    write_drafts(other, 5, contacts_from_fixture(TINY))
    assert import_ledger(exported, other) == 5
    assert import_ledger(exported, other) == 0  # known drafts are not imported twice
    again = tmp_path / "again.json"
    export_ledger(again, other)
    assert json.loads(again.read_text()) == records
    run = push(other, sandbox.base_url, settings=env["settings"])
    assert (run.calls, run.already_confirmed) == (0, 5)
    assert len(pushed(sandbox)) == 5


def test_runs_never_overlap_and_schedule_repeats(sandbox, env, capsys):
    write_drafts(env["warehouse"], 2, contacts_from_fixture(TINY))
    args = [
        "--warehouse", str(env["warehouse"]), "--base-url", sandbox.base_url,
        "--target-dir", str(env["target"]),
    ]  # fmt: skip
    with run_lock(env["warehouse"]):
        assert cli_main(args) == 1
    assert "another push run holds" in capsys.readouterr().out
    assert pushed(sandbox) == []
    assert cli_main([*args, "--every", "0.2s", "--max-runs", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("push run ") == 2
    assert len(pushed(sandbox)) == 2
    assert rows(
        env["warehouse"], "select confirmed, already_confirmed from raw_taktgeber.push_runs "
        "order by started_at",
    ) == [(2, 0), (0, 2)]  # fmt: skip


def test_credit_note_waits_for_its_invoice_then_is_created_and_allocated_once(sandbox, env):
    contacts = contacts_from_fixture(TINY)
    keys = write_drafts(env["warehouse"], 2, contacts)
    credit_key, waiting_key = draft_key(["credit-1"]), draft_key(["credit-2"])
    con = duckdb.connect(str(env["warehouse"]))
    try:
        con.execute(
            f"create table main_marts.fct_credit_note_drafts ({DRAFT_COLUMNS}, "
            "original_draft_key varchar, original_invoice_number varchar)"
        )
        con.execute(f"create table main_marts.fct_credit_note_draft_lines ({LINE_COLUMNS})")
        for key, original in ((credit_key, keys[0]), (waiting_key, "TG-000000000000")):
            con.execute(
                "insert into main_marts.fct_credit_note_drafts values (?, ?, ?, null, 'EUR', "
                "'2026-01', '2026-03-02', 'O', 'EXEMPTOUTPUT', 100.00, 0.00, 100.00, 1, null, "
                "[], 'ready', [], ?, null)",
                [key, contacts[0].company_id, contacts[0].contact_id, original],
            )
            con.execute(
                "insert into main_marts.fct_credit_note_draft_lines values (?, 1, 'time', "
                "'Hours cut', 1, 100.00, 100.00, '8400', null, null, null, null, null)",
                [key],
            )
    finally:
        con.close()

    run = push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    invoices = {i["Reference"]: i for i in sandbox.records("xero", "Invoices")}
    notes = [n for n in sandbox.records("xero", "CreditNotes") if n["Reference"] == credit_key]
    assert len(notes) == 1
    assert [(a["Invoice"]["InvoiceID"], a["Amount"]) for a in notes[0]["Allocations"]] == [
        (invoices[keys[0]]["InvoiceID"], 100.0)
    ]
    assert invoices[keys[0]]["AmountCredited"] == 100.0
    assert sorted(run.confirmed) == sorted([*keys, credit_key])
    assert list(run.waiting) == [waiting_key]
    assert rows(
        env["warehouse"],
        "select state from raw_taktgeber.push_ledger_events where draft_key = ? order by event_seq",
        [credit_key],
    ) == [("pending",), ("confirmed",), ("allocated",)]
    assert rows(
        env["warehouse"],
        "select status, xero_invoice_id from raw_taktgeber.push_ledger where draft_key = ?",
        [credit_key],
    ) == [("succeeded", notes[0]["CreditNoteID"])]

    again = push(env["warehouse"], sandbox.base_url, settings=env["settings"])
    assert (again.confirmed, again.already_confirmed) == ([], 3)
    notes = [n for n in sandbox.records("xero", "CreditNotes") if n["Reference"] == credit_key]
    assert len(notes[0]["Allocations"]) == 1


def test_lookups_survive_cut_pages_and_dropped_answers(env):
    keys = write_drafts(env["warehouse"], 120, contacts_from_fixture(TINY))
    with Sandbox(TINY, faults="xero.drop=0.4,xero.truncate=0.5", fault_seed=3) as faulty:
        run = push(env["warehouse"], faulty.base_url, settings=env["settings"])
        references = sorted(i["Reference"] for i in pushed(faulty))
    assert run.exit_code == 0, run.summary()
    assert references == sorted(keys)  # every draft once, none twice
    assert run.found_by_lookup  # dropped answers were resolved by lookup, not re-sent
