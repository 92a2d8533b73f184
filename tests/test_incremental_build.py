"""Incremental builds: after a day's changes are loaded, a rebuild stages only what the
loads brought, and every mart equals what a build from scratch gives."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from taktgeber.build import _last_build, build, build_dirs
from taktgeber.generator.formats import xero_date
from taktgeber.load import load
from taktgeber.sandbox import Sandbox
from taktgeber.verify_marts import (
    OPEN_FINDINGS_SQL,
    compare_rebuilt_models,
    next_xero_stamp,
    pay_open_invoices,
    push_ready_drafts,
    void_a_billing_invoice,
    void_a_milestone_invoice,
)


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def rebuilt(built_small_world, tmp_path_factory):
    """The built small world, then a day's changes served, loaded and built again."""
    workdir = tmp_path_factory.mktemp("incremental")
    warehouse = workdir / "taktgeber.duckdb"
    shutil.copyfile(built_small_world.warehouse, warehouse)
    shutil.copytree(built_small_world.warehouse.parent / "dlt", workdir / "dlt")
    before = _rows(warehouse, "select count(*) from stg_harvest__time_entries")[0][0]
    with Sandbox(built_small_world.world) as sandbox:
        changes = sandbox.advance(seed=11, new=40, changed=25)
        load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=workdir / "dlt")
    result = build(
        world=built_small_world.world, as_of=built_small_world.as_of, warehouse=warehouse
    )
    assert result.ok, result.failures
    return built_small_world, warehouse, changes, before


def test_the_rebuild_stages_the_changed_time_entries(rebuilt):
    _, warehouse, changes, before = rebuilt
    added = changes["harvest/time_entries"]["added"]
    changed = changes["harvest/time_entries"]["changed"]
    assert len(added) == 40 and len(changed) == 25
    staged = _rows(warehouse, "select count(*) from stg_harvest__time_entries")[0][0]
    assert staged == before + len(added)
    raw = _rows(
        warehouse,
        "select count(*) from raw_harvest.time_entries r join stg_harvest__time_entries s "
        "on s.harvest_time_entry_id = cast(r.id as bigint) "
        "where s.hours = cast(r.hours as decimal(18, 4)) and s.updated_at = cast(r.updated_at as timestamp)",
    )[0][0]
    assert raw == staged  # every staged entry carries the raw entry's latest version


def test_every_mart_equals_a_build_from_scratch(rebuilt, tmp_path: Path):
    world, warehouse, _, _ = rebuilt
    scratch = tmp_path / "scratch.duckdb"
    shutil.copyfile(warehouse, scratch)
    result = build(world=world.world, as_of=world.as_of, warehouse=scratch, full_refresh=True)
    assert result.ok, result.failures
    assert compare_rebuilt_models(warehouse, scratch) == []


def test_a_time_entry_deleted_from_raw_leaves_the_staged_facts(rebuilt, tmp_path: Path):
    world, warehouse, _, _ = rebuilt
    copy = tmp_path / "deleted.duckdb"
    shutil.copyfile(warehouse, copy)
    con = duckdb.connect(str(copy))
    (gone,) = con.execute("select min(cast(id as bigint)) from raw_harvest.time_entries").fetchone()
    con.execute("delete from raw_harvest.time_entries where cast(id as bigint) = ?", [gone])
    con.close()
    result = build(world=world.world, as_of=world.as_of, warehouse=copy)
    assert result.ok, result.failures
    left = _rows(
        copy, f"select count(*) from stg_harvest__time_entries where harvest_time_entry_id = {gone}"
    )
    assert left == [(0,)]


def test_a_build_with_nothing_new_does_not_run_dbt_and_any_raw_change_does(rebuilt, tmp_path: Path):
    world, warehouse, _, _ = rebuilt
    findings = _rows(warehouse, OPEN_FINDINGS_SQL)
    again = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert again.ok and again.up_to_date
    assert again.seconds < 30
    assert _rows(warehouse, OPEN_FINDINGS_SQL) == findings
    nodes = len(json.loads(_run_results(warehouse).read_text())["results"])

    # rows changed in place, even without a new load id, are new inputs: what depends
    # on those two sources is rebuilt, and the marts equal a build from scratch
    con = duckdb.connect(str(warehouse))
    con.execute("update raw_xero.contacts set name = name || ' GmbH' where rowid = 0")
    con.execute(
        "update raw_harvest.time_entries set hours = hours + 1, "
        "updated_at = (select max(updated_at) + interval 1 second from raw_harvest.time_entries) "
        "where rowid < 20"
    )
    con.close()
    changed = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert changed.ok and not changed.up_to_date
    assert changed.rebuilt_from == ["raw_harvest.time_entries", "raw_xero.contacts"]
    assert changed.nodes_passed < nodes
    assert len(json.loads(_run_results(warehouse).read_text())["results"]) == nodes
    scratch = tmp_path / "scratch.duckdb"
    shutil.copyfile(warehouse, scratch)
    full = build(world=world.world, as_of=world.as_of, warehouse=scratch, full_refresh=True)
    assert full.ok and not full.rebuilt_from
    assert compare_rebuilt_models(warehouse, scratch) == []

    # a warehouse file replaced by another (a fresh raw copy, a backup) does not pass for
    # the build recorded in the target folder: it is built in full
    assert _last_build(build_dirs(warehouse)[0], warehouse) is not None
    assert _last_build(build_dirs(warehouse)[0], scratch) is None

    # a new as_of date rebuilds everything
    later = build(
        world=world.world, as_of=date.fromordinal(world.as_of.toordinal() + 1), warehouse=warehouse
    )
    assert later.ok and not later.up_to_date and not later.rebuilt_from


def test_an_edit_the_staging_cannot_see_is_no_new_input(rebuilt, tmp_path: Path):
    """Time entries are staged again only when their `updated_at` moves, journal lines
    never once staged: an edit without a new change time changes no model, and the build
    stays up to date. A row without a change time is staged every time: its edit counts."""
    world, built, _, _ = rebuilt
    warehouse = _copy_of(built, tmp_path / "unseen.duckdb")
    assert build(world=world.world, as_of=world.as_of, warehouse=warehouse).ok
    con = duckdb.connect(str(warehouse))
    con.execute("update raw_harvest.time_entries set notes = 'edited in place' where rowid = 1")
    con.execute("update raw_xero.journal_lines set description = 'edited' where rowid = 1")
    con.close()
    unseen = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert unseen.ok and unseen.up_to_date
    con = duckdb.connect(str(warehouse))
    con.execute("update raw_harvest.time_entries set updated_at = null where rowid = 2")
    con.close()
    seen = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert seen.ok and seen.rebuilt_from == ["raw_harvest.time_entries"], seen.failures


def test_a_rebuild_after_only_time_entries_changed_recomputes_only_those_entries(
    rebuilt, tmp_path: Path
):
    """Edits of every kind to a few raw time entries — hours, billable, approval, project,
    the invoice number Harvest stored (moved to another invoice, and one billed twice), a
    deletion and a new entry — rebuild only what depends on time entries; the per-entry
    models take only the reached entries, and every model equals a build from scratch."""
    world, built, _, _ = rebuilt
    warehouse = _copy_of(built, tmp_path / "narrow.duckdb")
    # the other tests leave the module's warehouse at another as_of: build at the world's
    assert build(world=world.world, as_of=world.as_of, warehouse=warehouse).ok
    # entries billed on a posted invoice by the number Harvest stored, and another such invoice
    billed = _rows(
        warehouse,
        "select harvest_time_entry_id, min(invoice_number) from int_work_billings_linked "
        "where is_harvest_invoice and is_posted and harvest_time_entry_id is not null "
        "group by all order by harvest_time_entry_id limit 3",
    )
    other_invoice = _rows(
        warehouse,
        "select min(invoice_number) from int_work_billings_linked where is_harvest_invoice "
        f"and is_posted and invoice_number <> '{billed[0][1]}'",
    )[0][0]
    plain = [
        r[0]
        for r in _rows(
            warehouse,
            "select cast(id as bigint) from raw_harvest.time_entries where invoice__number is null "
            "and billable and is_closed order by id limit 4",
        )
    ]
    # an entry on a draft, moved to a project of another customer: its old customer month
    # is reached only through the draft row it leaves
    others = ",".join(str(i) for i in [*plain, *(b[0] for b in billed)])
    moved, moved_company = _rows(
        warehouse,
        f"""
        select harvest_time_entry_id, hubspot_company_id from int_draft_items_selected
        where harvest_time_entry_id is not null
            and hubspot_company_id || billing_month not in (
                -- the customer months of the other edited entries and of those the
                -- loader's cursor restages anyway (changed in the newest staged second)
                select work.hubspot_company_id || strftime(work.work_date, '%Y-%m')
                from int_work_items_billed as work
                inner join stg_harvest__time_entries as staged
                    on work.harvest_time_entry_id = staged.harvest_time_entry_id
                where work.hubspot_company_id is not null
                    and (staged.harvest_time_entry_id in ({others})
                        or staged.updated_at >= (select max(updated_at) from stg_harvest__time_entries))
            )
        order by harvest_time_entry_id
        limit 1
        """,
    )[0]
    other_project = _rows(
        warehouse,
        "select min(harvest_project_id) from int_work_items_billed where is_deal_won "
        f"and hubspot_company_id <> '{moved_company}'",
    )[0][0]
    links = (
        "select invoice_number from int_work_billings_linked where harvest_time_entry_id in ({})"
    )
    linked_before = {
        r[0] for r in _rows(warehouse, links.format(",".join(str(b[0]) for b in billed)))
    }
    first_dates = (
        "select harvest_time_entry_id, least(spent_date, first_billed_date, harvest_invoice_date) "
        "from int_work_items_valued where harvest_time_entry_id is not null"
    )
    first_before = dict(_rows(warehouse, first_dates))
    bump = "updated_at = (select max(updated_at) + interval 1 second from raw_harvest.time_entries)"
    con = duckdb.connect(str(warehouse))
    con.execute(
        f"update raw_harvest.time_entries set hours = hours + 1.5, {bump} where id = {plain[0]}"
    )
    con.execute(
        f"update raw_harvest.time_entries set billable = false, {bump} where id = {billed[1][0]}"
    )
    con.execute(
        f"update raw_harvest.time_entries set is_closed = false, {bump} where id = {plain[1]}"
    )
    con.execute(
        f"update raw_harvest.time_entries set project__id = {other_project}, {bump} where id = {moved}"
    )
    con.execute(
        f"update raw_harvest.time_entries set invoice__number = '{other_invoice}', {bump} "
        f"where id = {billed[0][0]}"
    )
    con.execute(f"delete from raw_harvest.time_entries where id = {billed[2][0]}")
    con.execute(
        "insert into raw_harvest.time_entries select * replace ("
        "(select max(id) + 1 from raw_harvest.time_entries) as id, "
        f"(select max(updated_at) + interval 1 second from raw_harvest.time_entries) as updated_at) "
        f"from raw_harvest.time_entries where id = {plain[3]}"
    )
    con.close()

    narrowed = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert narrowed.ok, narrowed.failures
    assert narrowed.rebuilt_from == ["raw_harvest.time_entries"]
    new_id = _rows(warehouse, "select max(id) from raw_harvest.time_entries")[0][0]
    edited = {plain[0], plain[1], moved, billed[0][0], billed[1][0], billed[2][0], new_id}
    reached = {
        r[0]
        for r in _rows(
            warehouse,
            "select harvest_time_entry_id from taktgeber_meta.reached__int_work_items_billed",
        )
    }
    restaged = {
        r[0]
        for r in _rows(
            warehouse,
            "select harvest_time_entry_id from stg_harvest__time_entries where staged_in_invocation = "
            "(select staged_in_invocation from stg_harvest__time_entries where harvest_time_entry_id = "
            f"{new_id})",
        )
    }
    total = _rows(warehouse, "select count(*) from stg_harvest__time_entries")[0][0]
    # the edited, deleted and new entries, and whatever the loader's cursor restaged (rows
    # changed in the same second as the newest staged one): not the other entries
    assert edited <= reached == restaged | {billed[2][0]}
    assert len(reached) < total / 10
    # corrections: the invoices that billed those entries before, and the one billing the
    # moved entry now
    reached_invoices = {
        r[0]
        for r in _rows(
            warehouse,
            "select invoice_number from stg_xero__invoices where xero_invoice_id in "
            "(select xero_invoice_id from taktgeber_meta.reached__int_invoiced_work_corrected)",
        )
    }
    linked_now = {r[0] for r in _rows(warehouse, links.format(billed[0][0]))}
    assert linked_before | linked_now <= reached_invoices
    assert other_invoice in linked_now and len(reached_invoices) < 40
    # draft items: the customer months of the edited entries, not every customer month
    months = _rows(
        warehouse, "select count(*) from taktgeber_meta.reached__int_draft_items_selected"
    )[0][0]
    all_months = _rows(
        warehouse,
        "select count(distinct hubspot_company_id || strftime(work_date, '%Y-%m')) "
        "from int_work_items_billed",
    )[0][0]
    assert 0 < months < all_months / 4
    # receivables and DSO read time entries only through the month spine, which these
    # edits leave as it was: their rows are kept
    assert _receivable_first_months(warehouse) == [None, None]
    # work KPIs: the months from the earliest date a reached entry had or has
    first_after = dict(_rows(warehouse, first_dates))
    reached_dates = [d[e] for d in (first_before, first_after) for e in reached if e in d]
    first_month = min(reached_dates).strftime("%Y-%m")
    assert _first_months(warehouse) == [first_month] * 2
    # a later day: the newest entry changes and an entry of some months before is deleted;
    # the months from the deleted one's (noted before its rows went) are recomputed
    newest = first_after[new_id]
    gone_date, gone = max(
        (d, e) for e, d in first_after.items() if d is not None and d < newest.replace(day=1)
    )
    con = duckdb.connect(str(warehouse))
    con.execute(
        f"update raw_harvest.time_entries set hours = hours + 2, {bump} where id = {new_id}"
    )
    con.execute(f"delete from raw_harvest.time_entries where id = {gone}")
    con.close()
    later = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert later.ok and later.rebuilt_from == ["raw_harvest.time_entries"], later.failures
    first_month = gone_date.strftime("%Y-%m")
    assert _first_months(warehouse) == [first_month] * 2
    assert first_month > _rows(warehouse, "select min(month) from int_kpi_months_spined")[0][0]
    # an entry spent a month before the spine's first: the spine changes, so receivables
    # and DSO are recomputed (compared with a build from scratch below)
    first_start = _rows(warehouse, "select min(month_start) from int_kpi_months_spined")[0][0]
    con = duckdb.connect(str(warehouse))
    con.execute(
        f"update raw_harvest.time_entries set spent_date = date '{first_start}' - 1, {bump} "
        f"where id = {plain[2]}"
    )
    con.close()
    earlier = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert earlier.ok and earlier.rebuilt_from == ["raw_harvest.time_entries"], earlier.failures
    assert _receivable_first_months(warehouse) == ["0000-00", "0000-00"]
    # the per-customer KPI mart: every month (the DSO of every month was recomputed)
    assert _first_months(warehouse)[1:] == ["0000-00"]

    scratch = tmp_path / "scratch.duckdb"
    shutil.copyfile(warehouse, scratch)
    full = build(world=world.world, as_of=world.as_of, warehouse=scratch, full_refresh=True)
    assert full.ok, full.failures
    assert compare_rebuilt_models(warehouse, scratch) == []


def test_a_rebuild_after_invoices_paid_keeps_the_per_entry_rows_and_one_after_a_void_reaches_its_work(
    rebuilt, tmp_path: Path
):
    """A day on which two invoices are paid (new payments, the invoices PAID) and a time
    entry is edited: what the per-entry models read of Xero is as it was, so they recompute
    only the restaged entries, while receivables and DSO are recomputed. A voided invoice
    changes what they read of it (its work is unbilled again): the work records it billed
    are recomputed, no other. After each, every model equals a build from scratch."""
    world, built, _, _ = rebuilt
    warehouse = _copy_of(built, tmp_path / "paid.duckdb")
    assert build(world=world.world, as_of=world.as_of, warehouse=warehouse).ok
    paid = pay_open_invoices(warehouse, count=2, dated_by=world.as_of)
    assert len(paid) == 2
    (entry,) = _rows(
        warehouse,
        "select min(cast(id as bigint)) from raw_harvest.time_entries where invoice__number is null",
    )[0]
    con = duckdb.connect(str(warehouse))
    con.execute(
        "update raw_harvest.time_entries set hours = hours + 1, updated_at = "
        f"(select max(updated_at) + interval 1 second from raw_harvest.time_entries) where id = {entry}"
    )
    con.close()

    narrowed = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert narrowed.ok, narrowed.failures
    assert narrowed.rebuilt_from == [
        "raw_harvest.time_entries",
        "raw_xero.invoices",
        "raw_xero.payments",
    ]
    assert _changed_billing_inputs(warehouse) == []
    reached = {
        r[0]
        for r in _rows(
            warehouse,
            "select harvest_time_entry_id from taktgeber_meta.reached__int_work_items_billed",
        )
    }
    total = _rows(warehouse, "select count(*) from stg_harvest__time_entries")[0][0]
    assert entry in reached and len(reached) < total / 10
    # receivables and DSO: the months from the first payment's (each invoice is paid on
    # its own date); the KPIs in long format: every month (the invoice KPIs were rebuilt)
    numbers = ",".join(f"'{p['invoice_number']}'" for p in paid)
    paid_month = _rows(
        warehouse,
        "select strftime(min(invoice_date), '%Y-%m') from stg_xero__invoices "
        f"where invoice_number in ({numbers})",
    )[0][0]
    assert paid_month > _rows(warehouse, "select min(month) from int_kpi_months_spined")[0][0]
    assert _receivable_first_months(warehouse) == [paid_month, paid_month]
    # the per-customer KPI mart: from the first month of the edited entry, the payments
    # or the invoice KPIs that changed
    work_month, customer_month = _first_months(warehouse)
    assert customer_month == min(work_month, paid_month, _invoice_kpis_first_changed(warehouse))
    assert _rows(
        warehouse,
        f"select count(*) from int_xero_invoices_enriched where invoice_number in ({numbers}) "
        "and amount_due = 0",
    ) == [(2,)]
    # written by difference (macros/materializations/table.sql): only the two paid
    # invoices' rows were replaced, appended after every row kept as it was
    last_written = _rows(
        warehouse,
        "select invoice_number from int_xero_invoices_enriched order by rowid desc limit 2",
    )
    assert {r[0] for r in last_written} == {p["invoice_number"] for p in paid}
    # and only their rows computed (macros/incremental/changed_inputs.sql): their inputs
    # alone changed, the two invoices and their new payments
    paid_ids = _rows(
        warehouse,
        f"select xero_invoice_id from stg_xero__invoices where invoice_number in ({numbers}) "
        "order by 1",
    )
    for model in ("int_xero_invoices_enriched", "int_invoices_receivable_measured"):
        assert _changed_inputs(warehouse, model) == [r[0] for r in paid_ids]
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "paid-scratch.duckdb")

    # a late payment's date corrected in Xero to a week after the due date, in the next
    # month: receivables change from that month, the invoice's dunning (by its due month)
    # a month earlier; the per-customer KPI mart recomputes from the earlier one
    _, due_month, redated_month = _redate_a_late_payment(warehouse, world.as_of)
    redated = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert redated.ok, redated.failures
    assert redated.rebuilt_from == ["raw_xero.invoices", "raw_xero.payments"]
    assert _receivable_first_months(warehouse) == [redated_month, redated_month]
    assert _invoice_kpis_first_changed(warehouse) == due_month < redated_month
    assert _first_months(warehouse)[1:] == [due_month]
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "redated-scratch.duckdb")

    # a voided invoice: the rebuild reaches the work it billed, and nothing else
    voided = void_a_billing_invoice(warehouse)
    billed_on_it = {
        r[0]
        for r in _rows(
            warehouse,
            f"select work_item_id from int_work_billings_linked where invoice_number = '{voided}'",
        )
    }
    (voided_id,) = _rows(
        warehouse,
        f"select xero_invoice_id from stg_xero__invoices where invoice_number = '{voided}'",
    )[0]
    invoiced_before = _first_invoice_months(warehouse, billed_on_it)
    customers_before = _work_customers(warehouse, billed_on_it)
    unvoided = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert unvoided.ok, unvoided.failures
    assert unvoided.rebuilt_from == ["raw_xero.invoices"]
    assert _changed_billing_inputs(warehouse) == [f"invoice:{voided_id}"]
    assert _changed_inputs(warehouse, "int_xero_invoices_enriched") == [voided_id]
    assert billed_on_it and _reached_work_items(warehouse) == billed_on_it
    # time to invoice and realisation: only the months its work was or is first invoiced in
    invoiced_after = _first_invoice_months(warehouse, billed_on_it)
    invoiced_months = {*invoiced_before.values(), *invoiced_after.values()}
    assert _invoiced_work_months(warehouse) == sorted(invoiced_months)
    # WIP and leakage: only the customers of its work (and the whole company's totals)
    customers = customers_before | _work_customers(warehouse, billed_on_it)
    all_customers = _rows(
        warehouse, "select count(distinct customer_id) from int_work_items_valued"
    )
    assert _rows(
        warehouse, "select customers from taktgeber_meta.reached__int_kpi_work_computed"
    ) == [(sorted(customers),)]
    assert 0 < len(customers) < all_customers[0][0]
    assert _rows(
        warehouse,
        f"select count(*) from int_work_billings_linked where invoice_number = '{voided}'",
    ) == [(0,)]
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "void-scratch.duckdb")


def test_a_push_day_reaches_the_work_on_the_pushed_drafts(rebuilt, tmp_path: Path):
    """A push day: two ready drafts (one of time entries only, one with expenses or
    milestones too) become sales invoices in Xero with their journals, and records of the
    push ledger. The rebuild recomputes exactly the work records on their lines, the
    drafts are gone, and every model equals a build from scratch."""
    world, built, _, _ = rebuilt
    pushed_world = tmp_path / "world"
    shutil.copytree(world.world, pushed_world)
    warehouse = _copy_of(built, tmp_path / "pushed.duckdb")
    assert build(world=pushed_world, as_of=world.as_of, warehouse=warehouse).ok
    keys = push_ready_drafts(warehouse, pushed_world, count=2)
    assert len(keys) == 2
    listed = ",".join(f"'{k}'" for k in keys)
    on_the_drafts = _named_work_items(
        warehouse, f"fct_invoice_draft_lines where draft_key in ({listed})"
    )
    assert any(not item.startswith("time:") for item in on_the_drafts)

    pushed = build(world=pushed_world, as_of=world.as_of, warehouse=warehouse)
    assert pushed.ok, pushed.failures
    assert "raw_taktgeber.push_ledger" in pushed.rebuilt_from
    assert "raw_xero.invoices" in pushed.rebuilt_from
    changed = _changed_billing_inputs(warehouse)
    assert [c for c in changed if c.startswith("ledger:")] == sorted(f"ledger:{k}" for k in keys)
    assert len([c for c in changed if c.startswith("invoice:")]) == 2
    assert _reached_work_items(warehouse) == on_the_drafts
    assert _rows(
        warehouse, f"select count(*) from fct_invoice_drafts where draft_key in ({listed})"
    ) == [(0,)]
    assert _rows(
        warehouse,
        "select count(distinct work_item_id) from int_work_billings_linked "
        f"where invoice_number in (select invoice_number from stg_xero__invoices where reference in ({listed}))",
    ) == [(len(on_the_drafts),)]
    # the journal summaries summed the lines of the two new journals alone and wrote only
    # their rows (the others kept), and still equal a build from scratch (below)
    invocation, summarized = _compiled_in_last_run(warehouse, "int_journals_summarized")
    assert "summed_journals" in summarized
    assert _rows(
        warehouse,
        "select count(distinct lines.xero_journal_id), bool_and(invoices.reference in "
        f"({listed})) from stg_xero__journal_lines as lines "
        "inner join stg_xero__journals as journals using (xero_journal_id) "
        "inner join stg_xero__invoices as invoices on journals.source_id = invoices.xero_invoice_id "
        f"where lines.staged_in_invocation = '{invocation}'",
    ) == [(2, True)]
    assert _rows(
        warehouse,
        f"select count(*) from int_journals_summarized where staged_in_invocation = '{invocation}'",
    ) == [(2,)]
    _assert_equals_a_build_from_scratch_of(
        pushed_world, world.as_of, warehouse, tmp_path / "pushed-scratch.duckdb"
    )


def test_a_push_to_xero_reloaded_over_http_reaches_only_the_work_it_billed(
    built_small_world, tmp_path: Path
):
    """The push job of `make demo` against the sandbox, then the dlt pipelines' reload and
    a build, as `taktgeber run` does: new invoices, credit notes and their allocations,
    journals and push-ledger records. The rebuild recomputes the
    work on the pushed drafts and on the invoices the credit notes were allocated to, not
    every record, and equals a build from scratch."""
    from taktgeber.push import push

    world = built_small_world
    warehouse = _a_built_copy(world, tmp_path, with_dlt=True)
    with Sandbox(world.world) as sandbox:
        run = push(warehouse, sandbox.base_url)
        load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=tmp_path / "dlt")
    assert run.confirmed
    on_the_drafts = _named_work_items(warehouse, "fct_invoice_draft_lines")
    result = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert result.ok, result.failures
    assert "raw_taktgeber.push_ledger" in result.rebuilt_from
    assert "raw_xero.invoices" in result.rebuilt_from
    ((verdict,),) = _rows(
        warehouse,
        "select comment from duckdb_tables() where schema_name = 'taktgeber_meta' "
        "and table_name = 'changed__int_billing_inputs_fingerprinted'",
    )
    assert verdict.endswith(":bounded")
    reached = _reached_work_items(warehouse)
    total = _rows(warehouse, "select count(*) from int_work_items_billed")[0][0]
    pushed = _named_work_items(warehouse, "stg_taktgeber__push_ledger_lines")
    newly_pushed = pushed & on_the_drafts
    assert newly_pushed and newly_pushed <= reached
    assert len(reached) < total / 4
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "push-scratch.duckdb")


def test_a_new_journal_line_naming_no_journal_keeps_every_other_journals_totals(
    built_small_world, tmp_path: Path
):
    """A day's load brings one journal line that names no journal (malformed): the
    journal summary sums only what was staged now and keeps every other journal's totals
    (a null among the journals it sums must not drop them), as a build from scratch
    gives them."""
    world = built_small_world
    warehouse = _a_built_copy(world, tmp_path)
    before = _rows(warehouse, "select count(*), sum(line_count) from int_journals_summarized")
    result = _edited_and_built(
        world,
        warehouse,
        "insert into raw_xero.journal_lines select * replace "
        "('orphan-line' as journal_line_id, null as journal_id) "
        "from raw_xero.journal_lines limit 1",
    )
    assert result.ok, result.failures
    assert result.rebuilt_from == ["raw_xero.journal_lines"]
    assert "summed_journals" in _compiled_in_last_run(warehouse, "int_journals_summarized")[1]
    assert (
        _rows(warehouse, "select count(*), sum(line_count) from int_journals_summarized") == before
    )
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "scratch.duckdb")


def test_a_first_narrowed_rebuild_of_payments_alone_finds_every_note_it_reads(
    built_small_world, tmp_path: Path
):
    """Right after a full build, a load that changes only payments (a reference
    corrected) rebuilds the models below payments without the per-entry models above
    them: corrections and the KPIs in long format read notes those models leave, which
    exist (empty) even though no narrowed rebuild wrote them yet. It equals a build from
    scratch."""
    world = built_small_world
    warehouse = _a_built_copy(world, tmp_path)
    result = _edited_and_built(
        world,
        warehouse,
        "update raw_xero.payments set reference = coalesce(reference, '') || ' corrected' "
        "where payment_id = (select min(payment_id) from raw_xero.payments)",
    )
    assert result.ok, result.failures
    assert result.rebuilt_from == ["raw_xero.payments"]
    assert _rows(
        warehouse, "select count(*) from taktgeber_meta.reached__int_invoiced_work_corrected"
    ) == [(0,)]
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "payments-scratch.duckdb")


def test_a_day_of_payments_loaded_from_xero_keeps_every_per_entry_row(
    built_small_world, tmp_path: Path
):
    """Two open invoices paid in the sandbox and loaded over HTTP by the dlt pipelines
    (dlt merges the paid invoices anew, their line items too, and adds the payments): the
    rebuild passes what changed in Xero without recomputing a single entry, recomputes the
    receivables from the payments' month, and equals a build from scratch."""
    world = built_small_world
    warehouse = _a_built_copy(world, tmp_path, with_dlt=True)
    with Sandbox(world.world) as sandbox:
        changes = sandbox.advance(seed=21, new=0, changed=0, paid=2)
        load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=tmp_path / "dlt")
    paid = changes["xero/Invoices"]["changed"]
    assert len(paid) == 2 and len(changes["xero/Payments"]["added"]) == 2
    result = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert result.ok, result.failures
    # the paid invoices merged anew with their lines, the payments; not the tax rates,
    # which every load delivers whole again, nor dlt's child tables no source declares
    assert result.rebuilt_from == [
        "raw_xero.invoices",
        "raw_xero.invoices__line_items",
        "raw_xero.payments",
    ]
    assert _changed_billing_inputs(warehouse) == []
    assert _rows(
        warehouse, "select count(*) from taktgeber_meta.reached__int_work_items_billed"
    ) == [(0,)]
    listed = ",".join(f"'{i}'" for i in paid)
    ((count, paid_month),) = _rows(
        warehouse,
        "select count(*), min(strftime(invoice_date, '%Y-%m')) from int_xero_invoices_enriched "
        f"where xero_invoice_id in ({listed}) and amount_due = 0",
    )
    assert count == 2 and _receivable_first_months(warehouse) == [paid_month, paid_month]
    # the per-customer KPI mart: from the payments' month, or an earlier one whose invoice
    # KPIs changed; not every month (the work KPIs recompute none)
    work_month, customer_month = _first_months(warehouse)
    assert work_month is None
    assert customer_month == min(paid_month, _invoice_kpis_first_changed(warehouse))
    assert customer_month > _rows(warehouse, "select min(month) from int_kpi_months_spined")[0][0]
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "scratch.duckdb")


def test_a_voided_invoice_of_milestones_only_recomputes_the_work_kpis_of_their_months(
    rebuilt, tmp_path: Path
):
    """An invoice that bills only milestones, voided: the rebuild reaches milestones and no
    time entry or expense. The stock work KPIs (overdue milestones) recompute the
    milestones' customers from the month of their old first invoice, time to invoice the
    months of their old and new first posted invoice, and every model equals a build from
    scratch. Before the billed model noted the milestones' dates, the work KPIs recomputed
    no month and kept the voided invoice's effect."""
    world, built, _, _ = rebuilt
    warehouse = _copy_of(built, tmp_path / "milestones.duckdb")
    assert build(world=world.world, as_of=world.as_of, warehouse=warehouse).ok
    first_billed = _rows(
        warehouse,
        "select work_item_id, first_billed_date from int_work_items_billed "
        "where work_item_kind = 'milestone'",
    )
    milestones = {item for item, _ in first_billed}
    invoiced_before = _first_invoice_months(warehouse, milestones)
    number = void_a_milestone_invoice(warehouse)
    assert number is not None  # the small world has one
    voided = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    assert voided.ok and voided.rebuilt_from == ["raw_xero.invoices"], voided.failures
    reached = _rows(
        warehouse,
        "select work_item_kind, work_item_id from taktgeber_meta.reached__int_work_items_billed",
    )
    assert reached and {kind for kind, _ in reached} == {"milestone"}
    old_first = min(d for item, d in first_billed if item in {i for _, i in reached} and d)
    assert _first_months(warehouse)[0] <= old_first.strftime("%Y-%m")
    # time to invoice: the months the reached milestones were or are first invoiced in
    reached_items = {item for _, item in reached}
    invoiced_months = {
        *(month for item, month in invoiced_before.items() if item in reached_items),
        *_first_invoice_months(warehouse, reached_items).values(),
    }
    assert invoiced_months and _invoiced_work_months(warehouse) == sorted(invoiced_months)
    # WIP and leakage: the milestones' customers (a void changes no customer)
    assert _rows(
        warehouse, "select customers from taktgeber_meta.reached__int_kpi_work_computed"
    ) == [(sorted(_work_customers(warehouse, reached_items)),)]
    _assert_equals_a_build_from_scratch(world, warehouse, tmp_path / "scratch.duckdb")


def _redate_a_late_payment(warehouse: Path, as_of: date) -> tuple[str, str, str]:
    """The one payment of a paid sales invoice, made 14 or more days after its due date
    (the invoice reached dunning), dated anew a week after the due date, which falls in the
    month after the due month (the invoice's fully-paid date with it). Returns the
    invoice number, its due month and the payment's new month."""
    con = duckdb.connect(str(warehouse))
    try:
        payment, number, due = con.execute(
            r"""
            with single as (
                select invoice__invoice_id, min(payment_id) as payment_id,
                    min(to_timestamp(cast(regexp_extract(date, '\d+') as bigint) / 1000)::date) as paid_on
                from raw_xero.payments
                group by invoice__invoice_id
                having count(*) = 1
            )
            select single.payment_id, invoices.invoice_number, invoices.due_date_string::date
            from raw_xero.invoices as invoices
            inner join single on single.invoice__invoice_id = invoices.invoice_id
            where invoices.type = 'ACCREC' and invoices.status = 'PAID'
                and coalesce(invoices.amount_credited, 0) = 0
                and single.paid_on >= invoices.due_date_string::date + 14
                and single.paid_on <= ?
                and month(invoices.due_date_string::date + 7) != month(invoices.due_date_string::date)
            order by invoices.invoice_number
            limit 1
            """,
            [as_of],
        ).fetchone()
        stamp = next_xero_stamp(con)
        redated = due + timedelta(days=7)
        ms = xero_date(redated)
        con.execute(
            "update raw_xero.payments set date = ?, updated_date_utc = ? where payment_id = ?",
            [ms, stamp, payment],
        )
        con.execute(
            "update raw_xero.invoices set fully_paid_on_date = ?, updated_date_utc = ? "
            "where invoice_number = ?",
            [ms, stamp, number],
        )
    finally:
        con.close()
    return number, due.strftime("%Y-%m"), redated.strftime("%Y-%m")


def _invoice_kpis_first_changed(warehouse: Path) -> str:
    """The first month whose invoice KPIs the last build rebuilt differently ('9999-99':
    none), from their post_hook's notes."""
    return _rows(
        warehouse,
        "select coalesce(min(coalesce(now.month, before.month)), '9999-99') "
        "from taktgeber_meta.rows_of__int_kpi_invoice_rates_computed as now "
        "full outer join taktgeber_meta.rows_before__int_kpi_invoice_rates_computed as before "
        "on now.month = before.month where now.fingerprint is distinct from before.fingerprint",
    )[0][0]


def _named_work_items(warehouse: Path, lines: str) -> set[str]:
    """The work_item_ids the source-id lists of ``lines`` name (a table of draft or
    push-ledger lines, optionally with its `where`)."""
    return {
        r[0]
        for r in _rows(
            warehouse,
            "select kind || ':' || id from ("
            "select 'time' as kind, cast(unnest(harvest_time_entry_ids) as varchar) as id "
            f"from {lines} union all "
            "select 'expense', cast(unnest(harvest_expense_ids) as varchar) "
            f"from {lines} union all "
            f"select 'milestone', unnest(hubspot_line_item_ids) from {lines})",
        )
    }


def _reached_work_items(warehouse: Path) -> set[str]:
    """The work records the last narrowed rebuild reached (the billings model's note)."""
    return {
        r[0]
        for r in _rows(
            warehouse, "select work_item_id from taktgeber_meta.reached__int_work_billings_linked"
        )
    }


def _changed_billing_inputs(warehouse: Path) -> list[str]:
    """The invoices and ledger records the last build found changed in what the per-entry
    models read of them (the fingerprint's post_hook notes)."""
    return [
        r[0]
        for r in _rows(
            warehouse,
            "select distinct fingerprint_key "
            "from taktgeber_meta.changed__int_billing_inputs_fingerprinted order by 1",
        )
    ]


def _changed_inputs(warehouse: Path, model: str) -> list[str]:
    """The invoices whose inputs the last build of ``model`` (narrowed by changed inputs)
    found changed, and computed."""
    return [
        r[0]
        for r in _rows(
            warehouse, f"select key_value from taktgeber_meta.changed_inputs__{model} order by 1"
        )
    ]


def _a_built_copy(world, tmp_path: Path, with_dlt: bool = False) -> Path:
    """A copy of the session's small warehouse in ``tmp_path`` (with the dlt pipelines'
    state beside it, for a reload over HTTP), built once so its next build may narrow."""
    warehouse = tmp_path / "taktgeber.duckdb"
    shutil.copyfile(world.warehouse, warehouse)
    if with_dlt:
        shutil.copytree(world.warehouse.parent / "dlt", tmp_path / "dlt")
    assert build(world=world.world, as_of=world.as_of, warehouse=warehouse).ok
    return warehouse


def _copy_of(built: Path, warehouse: Path) -> Path:
    """``warehouse``: a copy of the built warehouse ``built``, with its dbt target folder
    (its last build, which a rebuild of only what changed compares against)."""
    shutil.copyfile(built, warehouse)
    shutil.copytree(build_dirs(built)[0], build_dirs(warehouse)[0])
    return warehouse


def _assert_equals_a_build_from_scratch(world, warehouse: Path, scratch: Path) -> None:
    _assert_equals_a_build_from_scratch_of(world.world, world.as_of, warehouse, scratch)


def _assert_equals_a_build_from_scratch_of(
    world: Path, as_of: date, warehouse: Path, scratch: Path
) -> None:
    shutil.copyfile(warehouse, scratch)
    full = build(world=world, as_of=as_of, warehouse=scratch, full_refresh=True)
    assert full.ok, full.failures
    assert compare_rebuilt_models(warehouse, scratch) == []


def _first_months(warehouse: Path) -> list[str]:
    """The first month the last narrowed rebuild recomputed in the work KPIs and the
    per-customer KPI mart, as their pre_hooks noted it."""
    return [
        _rows(warehouse, f"select first_month from taktgeber_meta.reached__{name}")[0][0]
        for name in ("int_kpi_work_computed", "rpt_kpi_monthly_customer")
    ]


def _sql_list(work_items: set[str]) -> str:
    """The work item ids as the items of an SQL `in (…)` list (`null` when none)."""
    return ", ".join(f"'{item}'" for item in sorted(work_items)) or "null"


def _first_invoice_months(warehouse: Path, work_items: set[str]) -> dict[str, str]:
    """The month (YYYY-MM) of the first posted invoice of each of these work records that
    has one: its Harvest invoice (time entries, expenses) or first AUTHORISED or PAID
    invoice (milestones), the month time to invoice and realisation count it in."""
    ids = _sql_list(work_items)
    return dict(
        _rows(
            warehouse,
            "select work_item_id, strftime(harvest_invoice_date, '%Y-%m') "
            f"from int_work_items_valued where work_item_id in ({ids}) "
            "and harvest_invoice_date is not null "
            "union all "
            "select work_item_id, strftime(first_posted_date, '%Y-%m') "
            f"from int_work_items_billed where work_item_id in ({ids}) "
            "and work_item_kind = 'milestone' and first_posted_date is not null",
        )
    )


def _work_customers(warehouse: Path, work_items: set[str]) -> set[str]:
    """The customers these work records count for in the stock work KPIs (WIP, leakage)."""
    ids = _sql_list(work_items)
    return {
        customer
        for (customer,) in _rows(
            warehouse,
            f"select customer_id from int_work_items_valued where work_item_id in ({ids}) "
            "union select coalesce(hubspot_company_id, '(unlinked)') from int_work_items_billed "
            f"where work_item_id in ({ids}) and work_item_kind = 'milestone'",
        )
    }


def _invoiced_work_months(warehouse: Path) -> list[str]:
    """The months the last narrowed rebuild recomputed in the KPIs of invoiced work, as
    their pre_hook noted them."""
    return _rows(
        warehouse, "select months from taktgeber_meta.reached__int_kpi_invoiced_work_computed"
    )[0][0]


def _receivable_first_months(warehouse: Path) -> list[str | None]:
    """The first month the last narrowed rebuild recomputed in the receivables and DSO
    (None: none), as their pre_hooks noted it."""
    return [
        _rows(warehouse, f"select first_month from taktgeber_meta.reached__{name}")[0][0]
        for name in ("int_receivables_month_ended", "int_kpi_dso_computed")
    ]


# a row kept by the rebuild (its entry is not reached) under the edited entry's key. (The
# month-keyed models' keys include the month: a kept month's row cannot share a key with
# a recomputed month's, so their tests check the recomputed months only.)
PLANTED_DUPLICATE = (
    "insert into int_work_items_billed select * replace ({kept} as harvest_time_entry_id) "
    "from int_work_items_billed where harvest_time_entry_id = {edited}"
)


def test_a_narrowed_rebuild_checks_the_keys_it_wrote_against_every_row(rebuilt, tmp_path: Path):
    """A rebuild after only time entries changed tests the primary key of a per-entry model
    on the keys it wrote: a kept row holding the key of a rewritten entry fails the test."""
    world, built, _, _ = rebuilt
    warehouse = _copy_of(built, tmp_path / "planted.duckdb")
    assert build(world=world.world, as_of=world.as_of, warehouse=warehouse).ok
    edited, kept = (
        r[0]
        for r in _rows(
            warehouse,
            # entries the loader's cursor does not restage anyway (the newest second's);
            # the edited one of the last month, so the KPIs of earlier months are kept
            "select work.harvest_time_entry_id from int_work_items_valued as work "
            "inner join stg_harvest__time_entries as staged "
            "on work.harvest_time_entry_id = staged.harvest_time_entry_id "
            "where staged.updated_at < (select max(updated_at) from stg_harvest__time_entries) "
            "and work.spent_date <= (select max(month_end) from int_kpi_months_spined) "
            "order by least(work.spent_date, work.first_billed_date, work.harvest_invoice_date) "
            "desc, 1 limit 2",
        )
    )
    # edited twice: the first narrowed rebuild also restages the entries of the newest
    # staged second (the loader's cursor), which may be old; the second only the edited one
    for plant in (False, True):
        con = duckdb.connect(str(warehouse))
        con.execute(
            "update raw_harvest.time_entries set hours = hours + 1, updated_at = "
            "(select max(updated_at) + interval 1 second from raw_harvest.time_entries) "
            f"where id = {edited}"
        )
        if plant:
            con.execute(PLANTED_DUPLICATE.format(edited=edited, kept=kept))
        con.close()
        narrowed = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
        assert narrowed.rebuilt_from == ["raw_harvest.time_entries"]
        assert narrowed.ok or plant, narrowed.failures
    failed = [f for f in narrowed.failures if f.status == "fail"]
    assert [f.name for f in failed] == [
        "primary_key_int_work_items_billed_work_item_id__reached"
    ], narrowed.failures
    assert failed[0].message.startswith("1 rows break it")


def test_a_kpi_mart_whose_columns_changed_asks_for_a_full_refresh(rebuilt, tmp_path: Path):
    """The per-customer KPI mart is a contracted incremental model: when its table's
    columns no longer match the model (an upgrade changed them), the build fails on it
    and says to build once with --full-refresh, which then passes."""
    world, built, _, _ = rebuilt
    warehouse = _copy_of(built, tmp_path / "drift.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("alter table rpt_kpi_monthly_customer add column currency_code varchar")
    con.execute(
        "update raw_harvest.time_entries set hours = hours + 1, updated_at = "
        "(select max(updated_at) + interval 1 second from raw_harvest.time_entries) "
        "where id = (select min(id) from raw_harvest.time_entries)"
    )
    con.close()
    drifted = build(world=world.world, as_of=world.as_of, warehouse=warehouse)
    errors = [f for f in drifted.failures if f.status == "error"]
    assert [f.name for f in errors] == ["rpt_kpi_monthly_customer"], drifted.failures
    assert errors[0].message.startswith(
        "its columns changed since the last build (a contracted incremental model keeps its "
        "table): run `taktgeber build --full-refresh` once."
    )
    refreshed = build(world=world.world, as_of=world.as_of, warehouse=warehouse, full_refresh=True)
    assert refreshed.ok, refreshed.failures
    columns = [
        r[0]
        for r in _rows(warehouse, "select column_name from (describe rpt_kpi_monthly_customer)")
    ]
    assert columns == ["month", "hubspot_company_id", "kpi", "value"]


def _run_results(warehouse: Path) -> Path:
    return build_dirs(warehouse)[0] / "run_results.json"


def _compiled_in_last_run(warehouse: Path, model: str) -> tuple[str, str]:
    """The last dbt run's invocation id and the SQL it compiled for ``model``."""
    results = json.loads(_run_results(warehouse).read_text(encoding="utf-8"))
    (node,) = [r for r in results["results"] if r["unique_id"].endswith(f".{model}")]
    return results["metadata"]["invocation_id"], node["compiled_code"]


def _edited_and_built(world, warehouse: Path, sql: str):
    """``sql`` run on ``warehouse`` (a day's change to its raw tables), then a build."""
    con = duckdb.connect(str(warehouse))
    con.execute(sql)
    con.close()
    return build(world=world.world, as_of=world.as_of, warehouse=warehouse)
