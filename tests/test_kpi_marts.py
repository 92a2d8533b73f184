"""KPI marts (DESIGN.md §8) on the generated small world, built through the real load and
dbt build, against the answer key's `kpis`."""

from __future__ import annotations

import duckdb
import pytest

from taktgeber.verify_marts import compare_kpis

pytestmark = pytest.mark.slow

KPI_NAMES = {
    "dso_countback", "dso_simple", "time_to_invoice_median_days", "time_to_invoice_p90_days",
    "first_correction_rate", "dunning_rate", "automation_share", "handover_automation",
    "unbilled_wip_eur", "unbilled_wip_approved_eur", "unbilled_wip_0_30_eur",
    "unbilled_wip_31_60_eur", "unbilled_wip_61_90_eur", "unbilled_wip_91_plus_eur",
    "revenue_leakage_eur", "realisation_rate",
}  # fmt: skip


@pytest.fixture(scope="module")
def con(built_small_world):
    connection = duckdb.connect(str(built_small_world.warehouse), read_only=True)
    yield connection
    connection.close()


def test_monthly_kpis_match_answer_key(con, built_small_world):
    assert built_small_world.answer_key["kpis"], "the small world has KPI values"
    assert compare_kpis(con, built_small_world.answer_key) == []


def test_kpi_names_are_the_documented_ones(con):
    for table in ("rpt_kpi_monthly", "rpt_kpi_monthly_customer"):
        names = {r[0] for r in con.execute(f"select distinct kpi from {table}").fetchall()}
        assert names <= KPI_NAMES, names - KPI_NAMES


def test_customer_eur_kpis_add_up_to_the_month_total(con):
    # each customer's value is rounded to the cent on its own: allow a cent per customer
    rows = con.execute(
        """
        select total.month, total.kpi, total.value, sum(customer.value)
        from rpt_kpi_monthly as total
        inner join rpt_kpi_monthly_customer as customer
            on total.month = customer.month and total.kpi = customer.kpi
        where total.kpi like 'unbilled_wip%'
        group by all
        having abs(total.value - sum(customer.value)) > 0.01 * count(*)
        """
    ).fetchall()
    assert rows == []
