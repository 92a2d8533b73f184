"""`taktgeber build`: push-ledger import, world seeds, plain-words reporting, and the
shared small world built end to end."""

from __future__ import annotations

import copy
import json
import shutil
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from taktgeber.build import (
    BuildResult,
    Failure,
    _dbt_env,
    _environment,
    _invoke_dbt,
    build,
    build_dirs,
    dbt_vars,
    import_push_ledger,
    prepare_seeds,
    print_report,
    run_dbt,
)
from taktgeber.config import ConfigError
from taktgeber.verify import compare_findings

LEDGER = [
    {
        "draft_key": "TG-aaaaaaaaaaaa",
        "reference": "TG-aaaaaaaaaaaa",
        "idempotency_key": "k-a",
        "status": "succeeded",
        "attempts": 1,
        "pushed_at": "2026-06-01T06:00:00Z",
        "xero_invoice_id": "inv-3",
        "xero_invoice_number": "INV-0003",
        "xero_contact_id": "c-2",
        "hubspot_company_id": "102",
        "harvest_project_id": 502,
        "currency": "GBP",
        "billing_month": "2026-05",
        "tax_category": "O",
        "subtotal": "2000.00",
        "total_tax": "0.00",
        "total": "2000.00",
        "lines": [
            {
                "line_no": 1,
                "kind": "time",
                "description": "Development",
                "quantity": "2.5",
                "unit_amount": "120.00",
                "line_amount": "300.00",
                "account_code": "8400",
                "harvest_project_id": 502,
                "service_type": "dev",
                "source_ids": {"harvest_time_entry_ids": [7, 3]},
            },
            {
                "line_no": 2,
                "kind": "milestone",
                "description": "Milestone 1",
                "quantity": "1",
                "unit_amount": "1700.00",
                "line_amount": "1700.00",
                "account_code": "8400",
                "harvest_project_id": 502,
                "service_type": None,
                "source_ids": {"hubspot_line_item_ids": ["403"]},
            },
        ],
    }
]


def test_push_ledger_import_is_typed_and_replaces_the_same_drafts(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    ledger = tmp_path / "push_ledger.json"
    ledger.write_text(json.dumps(LEDGER))
    assert import_push_ledger(warehouse, ledger) == 1
    assert import_push_ledger(warehouse, ledger) == 1  # a re-import replaces, never doubles
    con = duckdb.connect(str(warehouse), read_only=True)
    records = con.execute(
        "select draft_key, status, total, harvest_project_id, pushed_at from raw_taktgeber.push_ledger"
    ).fetchall()
    lines = con.execute(
        "select line_no, quantity, harvest_time_entry_ids, hubspot_line_item_ids "
        "from raw_taktgeber.push_ledger_lines order by line_no"
    ).fetchall()
    con.close()
    assert [r[:4] for r in records] == [("TG-aaaaaaaaaaaa", "succeeded", Decimal("2000.00"), 502)]
    assert str(records[0][4]) == "2026-06-01 06:00:00"
    assert lines == [(1, Decimal("2.5000"), [7, 3], []), (2, Decimal("1.0000"), [], ["403"])]


def test_a_ledger_amount_finer_than_its_column_is_refused_with_its_draft_and_field(
    tmp_path: Path,
):
    warehouse = tmp_path / "w.duckdb"
    ledger = tmp_path / "push_ledger.json"
    record = copy.deepcopy(LEDGER[0])
    record["lines"][1]["line_amount"] = "1700.005"
    ledger.write_text(json.dumps([record]))
    with pytest.raises(ConfigError) as refused:
        import_push_ledger(warehouse, ledger)
    assert str(refused.value) == (
        f"push ledger {ledger}: draft TG-aaaaaaaaaaaa, line 2, field line_amount: "
        "'1700.005' has more than 2 decimal places; correct it in the ledger "
        "(amounts are stored exactly)"
    )


def test_push_ledger_tables_exist_without_a_ledger(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    assert import_push_ledger(warehouse, None) == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    count = con.execute("select count(*) from raw_taktgeber.push_ledger_lines").fetchone()
    con.close()
    assert count == (0,)


def test_the_notes_schema_exists_before_any_model_writes_a_note(tmp_path: Path):
    """Two models' hooks that create `taktgeber_meta` side by side on a first build
    conflict in DuckDB's catalog: it is there before dbt runs, and then two transactions
    may both create their notes in it."""
    warehouse = tmp_path / "w.duckdb"
    import_push_ledger(warehouse, None)
    con = duckdb.connect(str(warehouse))
    try:
        first, second = con.cursor(), con.cursor()
        for cursor, name in ((first, "a"), (second, "b")):
            cursor.execute("begin")
            cursor.execute("create schema if not exists taktgeber_meta")
            cursor.execute(f"create table taktgeber_meta.{name} as select 1 as x")
        first.execute("commit")
        second.execute("commit")
        assert con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'taktgeber_meta'"
        ).fetchone() == (2,)
    finally:
        con.close()


def test_world_seeds_replace_the_repos_own(tmp_path: Path):
    world_seeds = tmp_path / "seeds"
    world_seeds.mkdir()
    (world_seeds / "account_roles.csv").write_text("role,account_code\nreceivables,1200\n")
    out = prepare_seeds(world_seeds, tmp_path / "build" / "seeds")
    assert (out / "account_roles.csv").read_text() == "role,account_code\nreceivables,1200\n"
    assert (out / "_seeds.yml").exists()  # the seed properties (column types) travel along
    assert (out / "fx_rates.csv").exists()  # the repo's seed where the world has none


def test_report_says_what_failed_and_what_is_open(capsys):
    result = BuildResult(
        ok=False,
        as_of=date(2026, 10, 15),
        warehouse=Path("/tmp/w.duckdb"),
        failures=[
            Failure(
                "test",
                "primary_key_stg_xero__invoices_xero_invoice_id",
                "fail",
                "2 rows break it (column xero_invoice_id of stg_xero__invoices)",
            )
        ],
        open_findings={"rate_mismatch": 2},
        open_amount_eur={"rate_mismatch": "148.75"},
        nodes_passed=10,
        seconds=1.0,
    )
    print_report(result)
    out = capsys.readouterr().out
    assert "build FAILED" in out
    assert (
        "FAILED  test primary_key_stg_xero__invoices_xero_invoice_id fail: 2 rows break it" in out
    )
    assert "2 open reconciliation findings" in out
    assert "rate_mismatch" in out and "148.75 EUR at stake" in out


def test_build_without_raw_data_names_the_failing_models(tmp_path: Path):
    result = build(world=None, as_of=date(2026, 10, 15), warehouse=tmp_path / "empty.duckdb")
    assert not result.ok
    failed = {f.name: f.message for f in result.failures if f.status == "error"}
    assert "stg_hubspot__companies" in failed
    message = failed["stg_hubspot__companies"]
    assert "raw_hubspot.companies" in message and "does not exist" in message
    skipped = {f.name for f in result.failures if f.status == "skipped"}
    assert "fct_exceptions" in skipped


def test_a_build_out_of_memory_runs_again_one_model_at_a_time_then_says_what_to_do(
    built_small_world, tmp_path: Path, monkeypatch, capsys
):
    """DuckDB's cap on its memory (TAKTGEBER_DUCKDB_MEMORY_LIMIT) set far too low: the
    models that run out of it with two dbt threads fail; the build runs again, whole and
    one model at a time, and fails again. Each failure says the cap and what to change
    before DuckDB's own message (which speaks of SQL settings); the report says both runs."""
    warehouse = tmp_path / "small-cap.duckdb"
    shutil.copyfile(built_small_world.warehouse, warehouse)
    monkeypatch.setenv("TAKTGEBER_DUCKDB_MEMORY_LIMIT", "8MB")
    monkeypatch.delenv("TAKTGEBER_DBT_THREADS", raising=False)
    result = build(
        world=built_small_world.world,
        as_of=built_small_world.as_of,
        warehouse=warehouse,
        full_refresh=True,
    )
    assert not result.ok
    assert result.out_of_memory_first
    for failure in result.out_of_memory_first:
        assert failure.message.startswith(
            "DuckDB ran out of memory at its cap (TAKTGEBER_DUCKDB_MEMORY_LIMIT=8MB, shared by "
            "2 dbt threads running models side by side): run it again, raise "
            "TAKTGEBER_DUCKDB_MEMORY_LIMIT, or set TAKTGEBER_DBT_THREADS=1."
        ), failure.message
    out_of_memory = [f for f in result.failures if "Out of Memory Error" in f.message]
    assert out_of_memory
    for failure in out_of_memory:
        assert failure.message.startswith(
            "DuckDB ran out of memory at its cap (TAKTGEBER_DUCKDB_MEMORY_LIMIT=8MB) with one "
            "model at a time: raise TAKTGEBER_DUCKDB_MEMORY_LIMIT."
        ), failure.message
    print_report(result)
    out = capsys.readouterr().out
    first = ", ".join(sorted({f.name for f in result.out_of_memory_first}))
    assert (
        f"ran out of memory with 2 dbt threads in {first}: built again, one model at a time" in out
    )


def test_dbt_works_in_utc_under_the_memory_cap_whatever_the_machines_time_zone(
    tmp_path: Path, monkeypatch
):
    """The profile gives DuckDB its time zone and memory cap once, when dbt opens the
    database (profiles.yml; not again per cursor): every query dbt runs sees them, also on
    a machine set to another zone."""
    monkeypatch.setenv("TAKTGEBER_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with _environment(_dbt_env((tmp_path / "zone.duckdb").resolve(), None)):
            res = _invoke_dbt(
                [
                    "show",
                    "--inline",
                    (
                        "select current_setting('TimeZone') as zone,"
                        " current_setting('memory_limit') as cap"
                    ),
                ]
            )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert res.success, res.exception
    (row,) = res.result.results[0].agate_table.rows
    assert (row["zone"], row["cap"]) == ("UTC", "953.6 MiB")


def test_compare_findings_says_missing_unexpected_and_amount_differences():
    con = duckdb.connect()
    con.execute(
        "create table fct_exceptions as select * from (values "
        "('rate_mismatch', '{\"harvest_time_entry_id\":1}', 10.00, null, 'open'), "
        "('rate_mismatch', '{\"harvest_time_entry_id\":2}', 5.00, null, 'open'), "
        "('invoice_not_posted', '{\"xero_invoice_id\":\"x\"}', 1.00, null, 'resolved')) "
        "as t(check_name, finding_keys, amount_at_stake_eur, dunning_level, status)"
    )
    key = {
        "findings": [
            {
                "check_name": "rate_mismatch",
                "keys": {"harvest_time_entry_id": 1},
                "amount_at_stake_eur": "10.00",
            },
            {
                "check_name": "rate_mismatch",
                "keys": {"harvest_time_entry_id": "3"},
                "amount_at_stake_eur": "7.50",
            },
            {
                "check_name": "invoice_not_posted",
                "keys": {"xero_invoice_id": "y"},
                "amount_at_stake_eur": "1.00",
            },
        ]
    }
    assert compare_findings(con, key) == [
        "missing: invoice_not_posted [xero_invoice_id=y] (answer key: 1.00 EUR at stake)",
        "missing: rate_mismatch [harvest_time_entry_id=3] (answer key: 7.50 EUR at stake)",
        "unexpected: rate_mismatch [harvest_time_entry_id=2] (5.00 EUR at stake)",
    ]
    key["findings"][0]["amount_at_stake_eur"] = "10.01"
    assert (
        "amount differs: rate_mismatch [harvest_time_entry_id=1]: answer key 10.01 EUR, warehouse 10.00 EUR"
        in compare_findings(con, key)
    )


def test_small_world_build_matches_its_answer_key(built_small_world):
    con = duckdb.connect(str(built_small_world.warehouse), read_only=True)
    try:
        assert compare_findings(con, built_small_world.answer_key) == []
        seeded = con.execute("select count(*) from main.fx_rates").fetchone()[0]
        ledger = con.execute("select count(*) from main.stg_taktgeber__push_ledger").fetchone()[0]
    finally:
        con.close()
    world_fx = (built_small_world.world / "seeds" / "fx_rates.csv").read_text().splitlines()
    assert seeded == len(world_fx) - 1  # the world's own FX seed, not the repo's
    assert ledger == len(
        json.loads((built_small_world.world / "taktgeber" / "push_ledger.json").read_text())
    )


def test_raw_tables_no_load_created_read_as_empty_and_are_named(
    built_small_world, tmp_path: Path, capsys
):
    """dlt creates a table with its first record: an account without credit notes,
    expenses, payments or HubSpot line items has none of those raw tables. The build
    passes, their staging models are empty, and the build names every absent table. Once
    a load creates them, the next build reads them: the answer key's findings again."""
    warehouse = tmp_path / "absent.duckdb"
    shutil.copyfile(built_small_world.warehouse, warehouse)
    absent = {
        "raw_harvest.expenses": "stg_harvest__expenses",
        "raw_hubspot.deals__associations__line_items__results": (
            "stg_hubspot__deal_line_item_associations"
        ),
        "raw_hubspot.line_items": "stg_hubspot__line_items",
        "raw_hubspot.products": "stg_hubspot__products",
        "raw_xero.credit_notes": "stg_xero__credit_notes",
        "raw_xero.credit_notes__allocations": "stg_xero__credit_note_allocations",
        "raw_xero.payments": "stg_xero__payments",
    }
    con = duckdb.connect(str(warehouse))
    for table in absent:
        con.execute(f"drop table {table}")
    con.close()

    result = build(built_small_world.world, built_small_world.as_of, warehouse)
    assert result.ok, result.failures
    assert result.absent_sources == sorted(absent)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert {
            m: con.execute(f"select count(*) from {m}").fetchone()[0] for m in absent.values()
        } == {m: 0 for m in absent.values()}
    finally:
        con.close()
    print_report(result)
    out = capsys.readouterr().out
    assert "  absent  raw_xero.credit_notes__allocations: not loaded yet" in out

    # a later load creates them: the next build reads them (only what depends on them)
    con = duckdb.connect(str(warehouse))
    con.execute(f"attach '{built_small_world.warehouse}' as loaded (read_only)")
    for table in absent:
        con.execute(f"create table {table} as select * from loaded.{table}")
    con.close()
    loaded = build(built_small_world.world, built_small_world.as_of, warehouse)
    assert loaded.ok, loaded.failures
    assert loaded.absent_sources == []
    assert sorted(loaded.rebuilt_from) == sorted(absent)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert compare_findings(con, built_small_world.answer_key) == []
    finally:
        con.close()


@pytest.mark.parametrize(
    ("planted", "absent"),
    [
        # every third record planted with a finding: each credit note lacks a reference
        # and none is allocated, so the load creates no allocations table
        pytest.param(
            {"seed": 5, "finding_rate": 0.3},
            ["raw_xero.credit_notes__allocations"],
            id="credit-notes-never-allocated",
        ),
        # only overdue receivables: a customer's receivables equal all its sales, which
        # once stopped the DSO countback at a month without sales (a division by zero)
        pytest.param(
            {"seed": 121, "finding_rate": 0.0, "finding_rates": {"overdue_receivable": 0.5}},
            ["raw_xero.credit_notes", "raw_xero.credit_notes__allocations"],
            id="only-overdue-receivables",
        ),
    ],
)
def test_worlds_the_other_tests_do_not_use_match_their_answer_keys(
    planted: dict, absent: list[str], tmp_path: Path
):
    """Small worlds generated with other seeds and planting rates, loaded through the
    sandbox and built: the build passes, names the raw tables no load created, and finds
    exactly the answer key's findings, drafts and KPIs."""
    from taktgeber.generator import generate
    from taktgeber.load import load
    from taktgeber.sandbox import Sandbox
    from taktgeber.verify_marts import compare_warehouse

    world = tmp_path / "world"
    generate(scale="small", out=world, **planted)
    key = json.loads((world / "answer_key.json").read_text(encoding="utf-8"))
    warehouse = tmp_path / "w.duckdb"
    with Sandbox(world) as sandbox:
        load(base_url=sandbox.base_url, warehouse=warehouse, pipelines_dir=tmp_path / "dlt")

    result = build(world, date.fromisoformat(key["as_of_date"]), warehouse)
    assert result.ok, result.failures
    assert result.absent_sources == absent
    assert sum(result.open_findings.values()) == len(key["findings"])
    assert compare_warehouse(warehouse, key) == []


def test_the_sellers_country_comes_from_the_environment(
    built_small_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """TAKTGEBER_SELLER_COUNTRY sets the seller's country (default DE): with AT, German
    customers are EU customers and Austrian ones domestic. A value that is no country
    code stops the build before it starts, naming the variable."""
    from taktgeber.cli import main

    warehouse = tmp_path / "at.duckdb"
    shutil.copyfile(built_small_world.warehouse, warehouse)
    located = (
        "select country_code, customer_location, count(*) from int_customers_tax_classified "
        "where country_code in ('DE', 'AT') group by all order by all"
    )

    def locations() -> list[tuple]:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.execute(located).fetchall()
        finally:
            con.close()

    assert {country for country, _, _ in locations()} == {"AT", "DE"}
    german = {n for country, _, n in locations() if country == "DE"}
    assert [(c, loc) for c, loc, _ in locations()] == [
        (c, "domestic" if c == "DE" else "eu") for c, _, _ in locations()
    ]
    monkeypatch.setenv("TAKTGEBER_SELLER_COUNTRY", "at")
    result = build(built_small_world.world, built_small_world.as_of, warehouse)
    assert result.ok, result.failures
    assert not result.up_to_date and result.rebuilt_from == []
    assert [(c, loc) for c, loc, _ in locations()] == [
        (c, "domestic" if c == "AT" else "eu") for c, _, _ in locations()
    ]
    assert {n for country, _, n in locations() if country == "DE"} == german

    monkeypatch.setenv("TAKTGEBER_SELLER_COUNTRY", "Germany")
    monkeypatch.setenv("TAKTGEBER_WAREHOUSE", str(warehouse))
    assert main(["build", "--world", str(built_small_world.world)]) == 2
    assert (
        "TAKTGEBER_SELLER_COUNTRY='GERMANY' is not a two-letter ISO 3166" in capsys.readouterr().err
    )


def test_a_model_that_fails_leaves_the_last_builds_tables(built_small_world, tmp_path: Path):
    """A model whose query fails (a deal's close date that is no date) fails the build
    with DuckDB's reason; its table and those of everything it feeds stay as the last
    build left them (each model replaces its table in one transaction), and the build
    after the fix passes."""
    warehouse = tmp_path / "broken.duckdb"
    shutil.copyfile(built_small_world.warehouse, warehouse)
    failing = ["int_deals_enriched", "int_kpi_handover_computed"]  # they read close dates
    kept = [*failing, "fct_exceptions", "fct_invoice_drafts", "rpt_kpi_monthly"]

    def digests() -> dict[str, tuple[int, int]]:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return {
                t: con.execute(f"select count(*), bit_xor(hash(*columns(*))) from {t}").fetchone()
                for t in kept
            }
        finally:
            con.close()

    before = digests()
    con = duckdb.connect(str(warehouse))
    deal, close_date = con.execute(
        "select id, properties__closedate from raw_hubspot.deals "
        "where properties__closedate is not null order by id limit 1"
    ).fetchone()
    con.execute(
        "update raw_hubspot.deals set properties__closedate = 'not a date' where id = ?", [deal]
    )
    con.close()

    broken = build(built_small_world.world, built_small_world.as_of, warehouse)
    errors = [(f.name, f.message) for f in broken.failures if f.status == "error"]
    assert sorted(name for name, _ in errors) == failing, broken.failures
    assert all("not a date" in message for _, message in errors)
    skipped = {f.name for f in broken.failures if f.status == "skipped"}
    assert {"fct_exceptions", "fct_invoice_drafts", "rpt_kpi_monthly"} <= skipped
    assert digests() == before

    con = duckdb.connect(str(warehouse))
    con.execute(
        "update raw_hubspot.deals set properties__closedate = ? where id = ?", [close_date, deal]
    )
    con.close()
    fixed = build(built_small_world.world, built_small_world.as_of, warehouse)
    assert fixed.ok, fixed.failures
    assert digests() == before


def test_dbt_docs_generate_documents_every_model_and_the_exposures(
    built_small_world, tmp_path: Path
):
    """`dbt docs generate` on a built warehouse: no error, every model in the catalog
    (with its columns), the exposures of the dashboard and the push job in the manifest,
    and the site's page written."""
    warehouse = tmp_path / "docs.duckdb"
    shutil.copyfile(built_small_world.warehouse, warehouse)
    failures, _, _ = run_dbt(["docs", "generate", *dbt_vars(built_small_world.as_of)], warehouse)
    assert failures == []
    target = build_dirs(warehouse)[0]
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert not catalog.get("errors")
    models = {
        node["unique_id"]: node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    assert "model.taktgeber.fct_exceptions" in models
    assert set(models) <= set(catalog["nodes"])
    assert all(catalog["nodes"][uid]["columns"] for uid in models)
    exposures = {e["name"]: e["depends_on"]["nodes"] for e in manifest["exposures"].values()}
    assert "model.taktgeber.fct_invoice_drafts" in exposures["invoice_push_job"]
    assert "model.taktgeber.fct_exceptions" in exposures["reconciliation_queue"]
    assert (target / "index.html").exists()


def test_a_world_seed_with_a_missing_column_or_a_bad_value_fails_with_its_name(tmp_path: Path):
    """A world's seed is read by DuckDB with the project's column types: a missing
    column fails that seed naming the columns, a value of the wrong type its line."""
    world_seeds = tmp_path / "seeds"
    world_seeds.mkdir()
    warehouse = tmp_path / "w.duckdb"
    seeds_dir = build_dirs(warehouse)[1]  # in the project, where dbt finds seeds
    (world_seeds / "fx_rates.csv").write_text("rate_date,currency_code\n2026-01-02,USD\n")
    seeds = prepare_seeds(world_seeds, seeds_dir)
    failures, _, _ = run_dbt(["seed", "--select", "fx_rates"], warehouse, seeds)
    assert [(f.resource_type, f.name, f.status) for f in failures] == [
        ("seed", "fx_rates", "error")
    ]
    assert 'Columns with names: "units_per_eur" do not exist in the CSV File' in failures[0].message

    (world_seeds / "fx_rates.csv").write_text(
        "rate_date,currency_code,units_per_eur\n2026-01-02,USD,1.08\n2026-01-05,USD,n/a\n"
    )
    seeds = prepare_seeds(world_seeds, seeds_dir)
    failures, _, _ = run_dbt(["seed", "--select", "fx_rates"], warehouse, seeds)
    assert [f.name for f in failures] == ["fx_rates"]
    assert "n/a" in failures[0].message and "Line: 3" in failures[0].message


def test_freshness_names_stale_sources(tmp_path: Path):
    from taktgeber.build import check_freshness

    warehouse = tmp_path / "stale.duckdb"
    import_push_ledger(warehouse, None)
    con = duckdb.connect(str(warehouse))
    for schema, age_days in (("raw_hubspot", 0), ("raw_harvest", 3), ("raw_xero", 10)):
        con.execute(f"create schema {schema}")
        con.execute(
            f"create table {schema}._dlt_loads as select 'l1' as load_id, 'x' as schema_name, "
            f"0 as status, now() - interval {age_days} day as inserted_at"
        )
    con.execute(
        "insert into raw_taktgeber.push_ledger (draft_key, loaded_at) values ('TG-1', now())"
    )
    con.execute(
        "insert into raw_taktgeber.push_ledger_lines (draft_key, line_no, loaded_at) "
        "values ('TG-1', 1, now())"
    )
    con.close()
    stale = check_freshness(warehouse)
    assert [s.split(",")[0] for s in stale] == [
        "raw_harvest._dlt_loads: warn",
        "raw_xero._dlt_loads: error",
    ]


def test_dbt_log_keeps_each_nodes_outcome_and_the_sql_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """dbt.log has each node's outcome (`info`); dbt's debug events, among them every SQL
    statement, are dropped unformatted unless DBT_LOG_LEVEL_FILE=debug asks for them."""
    from taktgeber.build import check_freshness

    warehouse = tmp_path / "logged.duckdb"
    import_push_ledger(warehouse, None)
    con = duckdb.connect(str(warehouse))
    for schema in ("raw_hubspot", "raw_harvest", "raw_xero"):
        con.execute(f"create schema {schema}")
        con.execute(
            f"create table {schema}._dlt_loads as select 'l1' as load_id, 'x' as schema_name, "
            "0 as status, now() as inserted_at"
        )
    con.close()
    log = build_dirs(warehouse)[0] / "logs" / "dbt.log"

    def logged_by_one_check() -> str:
        before = log.stat().st_size if log.exists() else 0
        check_freshness(warehouse)
        with log.open(encoding="utf-8") as f:
            f.seek(before)
            return f.read()

    monkeypatch.delenv("DBT_LOG_LEVEL_FILE", raising=False)
    at_info = logged_by_one_check()
    assert "PASS freshness of raw_xero._dlt_loads" in at_info
    assert "[debug]" not in at_info and "inserted_at" not in at_info

    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    at_debug = logged_by_one_check()
    assert "PASS freshness of raw_xero._dlt_loads" in at_debug
    assert "[debug]" in at_debug and "max(inserted_at)" in at_debug


def test_staging_casts_raw_decimals_and_xero_dates_exactly(built_small_world, tmp_path: Path):
    """The staging of Xero invoices as compiled for the build, run over raw rows at the
    edges: money comes as DECIMAL(38,9) and is cast to DECIMAL(18,2) through DECIMAL(18,9)
    when it fits (macros/source_columns.sql, `narrowing_cast`), directly when not; both
    round half away from zero, as the direct cast does. `/Date()/` values parse to the UTC
    date, before 1970 too."""
    target, _ = build_dirs(built_small_world.warehouse)
    compiled = next(target.glob("compiled/taktgeber/models/staging/xero/stg_xero__invoices.sql"))
    sql = compiled.read_text(encoding="utf-8")
    assert "decimal(18, 9)" in sql  # the narrowing path is the one compiled
    con = duckdb.connect()
    database = built_small_world.warehouse.stem
    con.execute(f"attach '{built_small_world.warehouse}' as built (read_only)")
    con.execute(f"attach ':memory:' as \"{database}\"")
    con.execute(f'create schema "{database}".raw_xero')
    con.execute(
        f'create table "{database}".raw_xero.invoices as '
        "select * from built.raw_xero.invoices limit 0"
    )
    edges = [
        ("1.005", "1.01"),
        ("-1.005", "-1.01"),
        ("2.674999999", "2.67"),
        ("999999999.994999999", "999999999.99"),
        ("999999999.995", "1000000000.00"),
        ("1234567890.125", "1234567890.13"),
        ("-1234567890.125", "-1234567890.13"),
    ]
    dates = ["/Date(1745366400000+0000)/", "/Date(-86400000)/"] * 4
    for n, ((raw, _), date_text) in enumerate(zip(edges, dates)):
        con.execute(
            f'insert into "{database}".raw_xero.invoices '
            "(invoice_id, _dlt_id, total, date) values (?, ?, ?::decimal(38, 9), ?)",
            [f"inv-{n}", f"dlt-{n}", raw, date_text],
        )
    rows = con.execute(
        f"select total, invoice_date from ({sql}) as staged order by xero_invoice_id"
    ).fetchall()
    assert [str(total) for total, _ in rows] == [want for _, want in edges]
    assert [str(day) for _, day in rows] == ["2025-04-23", "1969-12-31"] * 3 + ["2025-04-23"]
