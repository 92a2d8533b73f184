"""Real dlt loads of the tiny fixture over HTTP from the in-process sandbox into DuckDB."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.common import SourceAuthError
from taktgeber.sandbox import Sandbox
from tests.load_helpers import TINY, query, run_load, snapshot

FIXTURE_ROWS = {
    "raw_hubspot": {
        "companies": 3,
        "deals": 4,
        "deals__associations__companies__results": 4,
        "deals__associations__line_items__results": 5,
        "line_items": 5,
        "products": 2,
    },
    "raw_harvest": {
        "clients": 3,
        "expenses": 2,
        "projects": 2,
        "task_assignments": 4,
        "tasks": 3,
        "time_entries": 7,
        "users": 2,
        "users__access_roles": 2,
        "users__roles": 2,
    },
    "raw_xero": {
        "accounts": 6,
        "contacts": 3,
        "contacts__addresses": 3,
        "credit_notes": 1,
        "credit_notes__allocations": 1,
        "credit_notes__line_items": 1,
        "invoices": 3,
        "invoices__credit_notes": 1,
        "invoices__line_items": 6,
        "invoices__payments": 1,
        "journal_lines": 11,
        "journals": 4,
        "payments": 1,
        "tax_rates": 4,
        "tax_rates__tax_components": 4,
    },
}


@pytest.fixture(scope="module")
def clean_load(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("clean")
    with Sandbox(TINY) as sandbox:
        result = run_load(sandbox.base_url, workdir)
    return workdir / "taktgeber.duckdb", {
        "result": result,
        "state": snapshot(workdir / "taktgeber.duckdb"),
    }


def test_every_resource_loads_the_fixture_counts(clean_load: tuple[Path, dict]) -> None:
    _, loaded = clean_load
    result = loaded["result"]
    assert result.table_rows == FIXTURE_ROWS
    assert result.loaded_rows == FIXTURE_ROWS
    assert {name: r.http["requests"] for name, r in result.sources.items()} == {
        "hubspot": 4,  # one list page per object type
        "harvest": 7,  # one page per resource
        "xero": 7,  # one page per collection, journals in one offset call
    }


def test_sample_values_and_types(clean_load: tuple[Path, dict]) -> None:
    warehouse, _ = clean_load
    entry = query(
        warehouse,
        "select hours, billable_rate, spent_date, user__id, project__code, invoice__number, "
        "is_closed, updated_at::varchar from raw_harvest.time_entries where id = 10001",
    )
    assert entry == [
        (Decimal(6), Decimal(95), date(2026, 9, 2), 7001, "201", "INV-0001", True,
         "2026-09-30 10:00:00+00"),
    ]  # fmt: skip
    deal = query(
        warehouse,
        "select properties__amount, properties__dealstage, properties__parent_deal_id, "
        "properties__hs_lastmodifieddate from raw_hubspot.deals where id = '201'",
    )
    assert deal == [("24000", "closedwon", None, "2026-08-20T10:00:00.000Z")]
    links = query(
        warehouse,
        "select l.id from raw_hubspot.deals__associations__line_items__results l "
        "join raw_hubspot.deals d on l._dlt_parent_id = d._dlt_id where d.id = '201' order by 1",
    )
    assert links == [("301",), ("302",)]
    invoice = query(
        warehouse,
        "select total, sub_total, total_tax, amount_credited, contact__contact_id, date "
        "from raw_xero.invoices where invoice_number = 'INV-0001'",
    )
    assert invoice == [
        (Decimal("1660.05"), Decimal(1395), Decimal("265.05"), Decimal("113.05"),
         "42b0224c-fcb4-558c-8023-b3845dbcd236", "/Date(1790726400000+0000)/"),
    ]  # fmt: skip
    lines = query(
        warehouse,
        "select l.net_amount, l.gross_amount, l.tax_amount, l.account_code, j.journal_number "
        "from raw_xero.journal_lines l join raw_xero.journals j using (journal_id) "
        "where l.journal_line_id = 'e426b958-d459-5aac-a7dc-a212ceaae569'",
    )
    assert lines == [(Decimal(-570), Decimal("-678.3"), Decimal("-108.3"), "8400", 1)]
    types = dict(
        query(
            warehouse,
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema in ('raw_harvest', 'raw_xero')",
        )
    )
    for column in (
        "time_entries.hours",
        "time_entries.billable_rate",
        "projects.cost_budget",
        "expenses.total_cost",
        "invoices.total",
        "invoices__line_items.unit_amount",
        "payments.amount",
        "journal_lines.net_amount",
    ):
        assert types[column] == "DECIMAL(38,9)", column
    # columns every record leaves null still exist, typed
    assert types["expenses.invoice__number"] == "VARCHAR"
    assert types["payments.credit_note__credit_note_id"] == "VARCHAR"


def test_second_load_without_changes_fetches_nothing(tmp_path: Path) -> None:
    with Sandbox(TINY) as sandbox:
        run_load(sandbox.base_url, tmp_path)
        before = snapshot(tmp_path / "taktgeber.duckdb")
        again = run_load(sandbox.base_url, tmp_path)
    assert again.loaded_rows == {
        "raw_hubspot": {},
        "raw_harvest": {},
        "raw_xero": {"tax_rates": 4, "tax_rates__tax_components": 4},  # read whole each time
    }
    assert snapshot(tmp_path / "taktgeber.duckdb") == before


@pytest.mark.parametrize(
    ("source", "setting"),
    [
        ("hubspot", "SOURCES__HUBSPOT__ACCESS_TOKEN"),
        ("harvest", "SOURCES__HARVEST__ACCESS_TOKEN"),
        ("xero", "SOURCES__XERO__ACCESS_TOKEN"),
    ],
)
def test_bad_credentials_fail_clearly(tmp_path: Path, source: str, setting: str) -> None:
    with Sandbox(TINY) as sandbox, pytest.raises(SourceAuthError) as failure:
        run_load(
            sandbox.base_url, tmp_path, sources=[source], options={source: {"access_token": "nope"}}
        )
    message = str(failure.value)
    assert message.startswith(f"{source}: GET ")
    assert "refused with 401" in message
    assert setting in message
    assert "nope" not in message  # the secret is never echoed


def test_faults_are_survived_with_the_same_end_state(
    tmp_path: Path, clean_load: tuple[Path, dict]
) -> None:
    _, clean = clean_load
    with Sandbox(TINY, faults="429=0.2,5xx=0.2,truncate=0.2", fault_seed=11) as sandbox:
        result = run_load(sandbox.base_url, tmp_path)
    retried = {
        cause: sum(r.http.get(cause, 0) for r in result.sources.values())
        for cause in ("rate_limited", "server_error", "truncated")
    }
    assert all(count > 0 for count in retried.values()), retried
    assert snapshot(tmp_path / "taktgeber.duckdb") == clean["state"]


def test_a_new_warehouse_gets_a_full_load_whatever_the_local_state(tmp_path: Path) -> None:
    """dlt's local pipeline state belongs to a warehouse: a new file starts from scratch."""
    from taktgeber.load import load

    with Sandbox(TINY) as sandbox:
        for name in ("first", "second"):
            result = load(
                sources=["hubspot"],
                base_url=sandbox.base_url,
                warehouse=tmp_path / f"{name}.duckdb",
                pipelines_dir=tmp_path / "shared-dlt",
            )
            assert result.loaded_rows == {"raw_hubspot": FIXTURE_ROWS["raw_hubspot"]}, name
