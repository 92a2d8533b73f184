"""A small warehouse with known rows for the dashboard tests, and its published copy.

Shared by tests/test_dashboard*.py and tests/test_publish*.py; the one test here checks
that publishing copies what the pages read.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from taktgeber.publish import publish

KPI_ROWS = [
    # month, kpi, value
    ("2026-08", "dso_countback", "40.0"),
    ("2026-09", "dso_countback", "41.3"),
    ("2026-08", "time_to_invoice_median_days", "12.5"),
    ("2026-09", "time_to_invoice_median_days", "10.0"),
    ("2026-08", "first_correction_rate", "0.0500"),
    ("2026-09", "first_correction_rate", "0.0250"),
    ("2026-09", "dunning_rate", "0.1000"),
    ("2026-09", "automation_share", "0.7500"),
    ("2026-08", "unbilled_wip_eur", "10000.00"),
    ("2026-09", "unbilled_wip_eur", "12345.67"),
    ("2026-09", "revenue_leakage_eur", "2500.50"),
    ("2026-09", "realisation_rate", "0.9500"),
]
CUSTOMER_KPI_ROWS = [
    ("2026-08", "1001", "dso_countback", "30.0"),
    ("2026-09", "1001", "dso_countback", "33.3"),
    ("2026-09", "1002", "dso_countback", "55.5"),
]
COMPANIES = [("1001", "Acme GmbH"), ("1002", "Beta SARL")]
# exception_id, check_name, severity, company, deal, project, time entry, invoice,
# at stake eur, at stake, currency, age, owner, status
EXCEPTIONS = [
    (
        "E1",
        "rate_mismatch",
        "medium",
        "1001",
        None,
        501,
        9001,
        None,
        "42.50",
        "42.50",
        "EUR",
        10,
        "project_manager",
        "open",
    ),
    (
        "E2",
        "won_deal_without_project",
        "high",
        "1001",
        "D1",
        None,
        None,
        None,
        "6000.00",
        "6000.00",
        "EUR",
        45,
        "sales",
        "open",
    ),
    (
        "E3",
        "overdue_receivable",
        "high",
        "1002",
        None,
        None,
        None,
        "inv-1",
        "5200.00",
        "6000.00",
        "CHF",
        70,
        "finance",
        "open",
    ),
    (
        "E4",
        "invoice_not_posted",
        "low",
        "1002",
        None,
        None,
        None,
        "inv-2",
        "100.00",
        "100.00",
        "EUR",
        5,
        "finance",
        "resolved",
    ),
]
DRAFTS = [
    # draft_key, company, project, currency, month, tax cat, net, tax, gross, net_eur,
    # lines, status, reasons
    (
        "TG-aaaaaaaaaaaa",
        "1001",
        501,
        "EUR",
        "2026-09",
        "S",
        "1000.00",
        "190.00",
        "1190.00",
        "1000.00",
        2,
        "ready",
        [],
    ),
    (
        "TG-bbbbbbbbbbbb",
        "1002",
        None,
        "CHF",
        "2026-09",
        "AE",
        "3000.00",
        "0.00",
        "3000.00",
        "3200.00",
        1,
        "blocked",
        ["rate_mismatch"],
    ),
    (
        "TG-cccccccccccc",
        "1001",
        None,
        "EUR",
        "2026-09",
        "S",
        "100.00",
        "19.00",
        "119.00",
        "100.00",
        1,
        "deferred",
        [],
    ),
]
LINES = [
    ("TG-aaaaaaaaaaaa", 1, "time", "Design, 2026-09", "8.0000", "100.0000", "800.00"),
    ("TG-aaaaaaaaaaaa", 2, "expense", "Travel", "1.0000", "200.0000", "200.00"),
    ("TG-bbbbbbbbbbbb", 1, "milestone", "Go-live", "1.0000", "3000.0000", "3000.00"),
    ("TG-cccccccccccc", 1, "time", "Support", "1.0000", "100.0000", "100.00"),
]
RUN_RESULTS = {
    "metadata": {"generated_at": "2026-10-15T06:00:00.000000Z"},
    "results": [
        {
            "unique_id": "model.taktgeber.fct_exceptions",
            "status": "success",
            "failures": None,
            "message": "OK",
            "execution_time": 0.5,
        },
        {
            "unique_id": "test.taktgeber.unique_fct_exceptions_exception_id.abc",
            "status": "pass",
            "failures": 0,
            "message": None,
            "execution_time": 0.1,
        },
        {
            "unique_id": "test.taktgeber.not_null_fct_invoice_drafts_net.def",
            "status": "fail",
            "failures": 2,
            "message": "Got 2 results",
            "execution_time": 0.1,
        },
    ],
}


def build_warehouse(path: Path) -> Path:
    """Write the marts, staging record views and raw tables the pages read."""
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create table rpt_kpi_monthly (month varchar, kpi varchar, value decimal(18, 4))"
        )
        con.executemany("insert into rpt_kpi_monthly values (?, ?, ?)", KPI_ROWS)
        con.execute(
            "create table rpt_kpi_monthly_customer (month varchar, hubspot_company_id varchar, "
            "kpi varchar, value decimal(18, 4))"
        )
        con.executemany(
            "insert into rpt_kpi_monthly_customer values (?, ?, ?, ?)", CUSTOMER_KPI_ROWS
        )
        con.execute(
            "create table fct_exceptions (exception_id varchar, check_name varchar, "
            "severity varchar, hubspot_company_id varchar, hubspot_deal_id varchar, "
            "harvest_project_id bigint, harvest_time_entry_id bigint, xero_invoice_id varchar, "
            "amount_at_stake_eur decimal(18, 2), amount_at_stake decimal(18, 2), "
            "currency_code varchar, age_days integer, owner_role varchar, status varchar, "
            "first_seen_at timestamp default '2026-10-01 00:00:00', resolved_at timestamp, "
            "explanation varchar default 'planted')"
        )
        con.executemany(
            "insert into fct_exceptions (exception_id, check_name, severity, hubspot_company_id, "
            "hubspot_deal_id, harvest_project_id, harvest_time_entry_id, xero_invoice_id, "
            "amount_at_stake_eur, amount_at_stake, currency_code, age_days, owner_role, status) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            EXCEPTIONS,
        )
        con.execute(
            "create table fct_invoice_drafts (draft_key varchar, hubspot_company_id varchar, "
            "harvest_project_id bigint, currency_code varchar, billing_month varchar, "
            "tax_category varchar, net decimal(18, 2), tax decimal(18, 2), gross decimal(18, 2), "
            "net_eur decimal(18, 2), line_count integer, status varchar, reasons varchar[], "
            "due_date date default '2026-10-29', notes varchar[] default [])"
        )
        con.executemany(
            "insert into fct_invoice_drafts (draft_key, hubspot_company_id, harvest_project_id, "
            "currency_code, billing_month, tax_category, net, tax, gross, net_eur, line_count, "
            "status, reasons) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            DRAFTS,
        )
        con.execute(
            "create table fct_invoice_draft_lines (draft_key varchar, line_no integer, "
            "kind varchar, description varchar, quantity decimal(18, 4), "
            "unit_amount decimal(18, 4), line_amount decimal(18, 2))"
        )
        con.executemany("insert into fct_invoice_draft_lines values (?, ?, ?, ?, ?, ?, ?)", LINES)
        # staging record sources (views, as dbt builds them)
        con.execute("create schema raw_hubspot")
        con.execute(
            "create table raw_hubspot.companies (id varchar, name varchar, _dlt_load_id varchar)"
        )
        con.executemany(
            "insert into raw_hubspot.companies values (?, ?, '1760500000.0')", COMPANIES
        )
        con.execute(
            "create table raw_hubspot._dlt_loads (load_id varchar, schema_name varchar, "
            "status bigint, inserted_at timestamptz, schema_version_hash varchar)"
        )
        con.execute(
            "insert into raw_hubspot._dlt_loads values "
            "('1760500000.0', 'hubspot', 0, '2026-10-15 05:00:00+00', 'h')"
        )
        con.execute(
            "create view stg_hubspot__companies as select id as hubspot_company_id, "
            "name as company_name from raw_hubspot.companies"
        )
        con.execute(
            "create view stg_hubspot__deals as select 'D1' as hubspot_deal_id, "
            "'Website relaunch' as deal_name, 6000.00 as amount"
        )
        con.execute(
            "create view stg_harvest__time_entries as select 9001::bigint as harvest_time_entry_id, "
            "501::bigint as harvest_project_id, 8.0 as hours, 90.00 as billable_rate"
        )
        con.execute(
            "create view stg_xero__invoices as select 'inv-1' as xero_invoice_id, "
            "'INV-0001' as invoice_number, 6000.00 as total"
        )
        con.execute("create schema raw_taktgeber")
        con.execute(
            "create table raw_taktgeber.push_runs (run_id varchar, started_at timestamp, "
            "finished_at timestamp, outcome varchar, exit_code integer, confirmed integer, "
            "dead_lettered integer, summary varchar)"
        )
        con.execute(
            "insert into raw_taktgeber.push_runs values ('run-1', '2026-10-15 06:10:00', "
            "'2026-10-15 06:10:05', 'succeeded', 0, 1, 0, '1 confirmed')"
        )
    finally:
        con.close()
    return path


def build_published(tmp: Path) -> Path:
    """A warehouse with the rows above, published into `tmp/published`; returns the folder."""
    warehouse = build_warehouse(tmp / "warehouse.duckdb")
    results = tmp / "run_results.json"
    results.write_text(json.dumps(RUN_RESULTS), encoding="utf-8")
    folder = tmp / "published"
    publish(warehouse, folder, run_results=results)
    return folder


def test_publish_copies_what_the_pages_read(tmp_path: Path) -> None:
    from taktgeber.publish import current_copy

    folder = build_published(tmp_path)
    copy = current_copy(folder)
    assert copy is not None and copy.parent == folder
    con = duckdb.connect(str(copy), read_only=True)
    try:
        names = {n for (n,) in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert {
            "rpt_kpi_monthly",
            "fct_exceptions",
            "fct_invoice_drafts",
            "push_runs",
            "dlt_loads",
            "table_loads",
            "dbt_results",
            "customers",
            "publish_meta",
            "rec_hubspot_deal_id",
            "rec_harvest_time_entry_id",
            "rec_xero_invoice_id",
        } <= names
        assert con.execute("select count(*) from fct_exceptions").fetchone() == (4,)
        assert con.execute(
            "select status, failures from dbt_results where name like 'not_null%'"
        ).fetchone() == ("fail", 2)
        assert con.execute(
            "select row_count from table_loads where table_name = 'companies'"
        ).fetchone() == (2,)
    finally:
        con.close()
