"""Reconciliation on the shared small world (generated → sandbox → real load → real dbt
build): the exceptions mart finds exactly the answer key's planted findings."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from taktgeber.build import dbt_vars, run_dbt
from taktgeber.verify import compare_findings

CHECKS = {
    "won_deal_without_project",
    "project_without_won_deal",
    "project_budget_mismatch",
    "billing_model_mismatch",
    "customer_mismatch",
    "currency_mismatch",
    "unbilled_approved_work",
    "unapproved_work_invoiced",
    "unapproved_work_aging",
    "rate_mismatch",
    "over_budget_without_change_request",
    "work_outside_project_period",
    "double_billed_work",
    "milestone_due_not_invoiced",
    "schedule_total_mismatch",
    "invoice_not_posted",
    "invoice_journal_mismatch",
    "manual_revenue_posting",
    "pushed_draft_missing_in_accounting",
    "credit_note_without_reference",
    "payment_mismatch",
    "overdue_receivable",
    "customer_unmatched",
    "missing_vat_id_for_reverse_charge",
}


@pytest.fixture(scope="module")
def warehouse(built_small_world) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(built_small_world.warehouse), read_only=True)
    yield con
    con.close()


def test_open_findings_equal_the_answer_key(built_small_world, warehouse):
    differences = compare_findings(warehouse, built_small_world.answer_key)
    assert differences == []
    planted = {f["check_name"] for f in built_small_world.answer_key["findings"]}
    assert planted <= CHECKS and len(planted) >= 20  # the small world plants nearly every check


def test_every_finding_has_owner_explanation_and_severity_by_the_rule(warehouse):
    rows = warehouse.execute(
        """
        select check_name, severity, amount_at_stake_eur, blocks_draft, owner_role,
               explanation, age_days, status, first_seen_at, exception_id
        from fct_exceptions
        """
    ).fetchall()
    assert rows
    for check, severity, eur, blocks, owner, explanation, age, status, first_seen, eid in rows:
        expected = (
            "high" if blocks or eur >= Decimal(5000) else "medium" if eur >= Decimal(500) else "low"
        )
        assert severity == expected, (check, eur, blocks)
        assert owner and explanation.endswith(".") and len(explanation) > 30
        assert status == "open" and first_seen is not None and age >= 0
        assert len(eid) == 32


def test_findings_name_the_records_behind_them(warehouse):
    rows = dict(
        warehouse.execute(
            """
            select check_name, count(*) filter (where
                coalesce(hubspot_deal_id, hubspot_company_id, hubspot_line_item_id,
                         cast(harvest_project_id as varchar), cast(harvest_client_id as varchar),
                         cast(harvest_time_entry_id as varchar), cast(harvest_expense_id as varchar),
                         xero_invoice_id, xero_contact_id, xero_journal_id,
                         xero_credit_note_id, draft_key) is null)
            from fct_exceptions group by 1
            """
        ).fetchall()
    )
    assert rows and all(missing == 0 for missing in rows.values())


def test_overdue_receivables_carry_their_dunning_level(built_small_world, warehouse):
    expected = {
        f["keys"]["xero_invoice_id"]: f["dunning_level"]
        for f in built_small_world.answer_key["findings"]
        if f["check_name"] == "overdue_receivable"
    }
    actual = dict(
        warehouse.execute(
            "select xero_invoice_id, dunning_level from fct_exceptions "
            "where check_name = 'overdue_receivable'"
        ).fetchall()
    )
    assert actual == expected


def test_a_finding_that_disappears_is_resolved_with_the_date(built_small_world, tmp_path: Path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_small_world.warehouse, copy)
    con = duckdb.connect(str(copy))
    fixed_id, keys = con.execute(
        "select exception_id, finding_keys from fct_exceptions "
        "where check_name = 'unbilled_approved_work' order by exception_id limit 1"
    ).fetchone()
    entry = json.loads(keys)
    column, value = next(iter(entry.items()))
    # Someone bills the record: it is no longer unbilled work.
    con.execute(f"update int_work_items_billed set is_billed = true where {column} = ?", [value])
    before = con.execute("select count(*) from fct_exceptions where status = 'open'").fetchone()
    con.close()

    as_of = built_small_world.as_of.isoformat()
    failures, _, _ = run_dbt(
        [
            "run",
            "--select",
            "chk_unbilled_approved_work+",
            *dbt_vars(built_small_world.as_of),
        ],
        copy,
    )
    assert failures == []
    con = duckdb.connect(str(copy), read_only=True)
    status, resolved_at, first_seen = con.execute(
        "select status, cast(resolved_at as date), cast(first_seen_at as date) "
        "from fct_exceptions where exception_id = ?",
        [fixed_id],
    ).fetchone()
    after = con.execute("select count(*) from fct_exceptions where status = 'open'").fetchone()
    con.close()
    assert (status, str(resolved_at), str(first_seen)) == ("resolved", as_of, as_of)
    assert after[0] == before[0] - 1


def test_dbt_unit_tests_of_every_check_pass(built_small_world, tmp_path: Path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_small_world.warehouse, copy)
    failures, _, passed = run_dbt(
        ["test", "--select", "test_type:unit,path:models/marts/reconciliation"], copy
    )
    assert [str(f) for f in failures] == []
    assert passed >= 2 * len(CHECKS)


def test_dbt_unit_tests_of_every_model_pass(built_small_world, tmp_path: Path):
    """Every `unit_tests:` case of the project (checks, invoicing, tax, rounding, KPIs),
    not only the checks': `taktgeber build` leaves unit tests out, so this is where they
    run. A unit test must give every model its model refs, those named only in a
    `-- depends_on:` comment included."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_small_world.warehouse, copy)
    failures, _, passed = run_dbt(["test", "--select", "test_type:unit"], copy)
    assert [str(f) for f in failures] == []
    assert passed >= 80  # the unit tests declared when this was written


def test_primary_key_test_fails_on_a_duplicate_and_on_a_null_key(built_small_world, tmp_path: Path):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_small_world.warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute("insert into int_work_items_billed select * from int_work_items_billed limit 1")
    con.execute(
        "insert into int_work_items_billed "
        "select * replace (null as work_item_id) from int_work_items_billed limit 1"
    )
    con.close()
    failures, _, _ = run_dbt(
        [
            "test",
            "--select",
            "int_work_items_billed",
            "--exclude-resource-type",
            "unit_test",
            *dbt_vars(built_small_world.as_of),
        ],
        copy,
    )
    assert [(f.name, f.status, f.message) for f in failures] == [
        (
            # `__reached`: its `narrow_to` argument; a build not narrowed checks every row
            "primary_key_int_work_items_billed_work_item_id__reached",
            "fail",
            "2 rows break it (column work_item_id of int_work_items_billed)",
        )
    ]
