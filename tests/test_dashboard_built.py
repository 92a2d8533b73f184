"""The dashboard over a really built warehouse (generated world → sandbox → dlt → dbt):
publishing copies the real marts and every page renders them without an error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from taktgeber.publish import publish

if TYPE_CHECKING:
    from conftest import LoadedWorld

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"


@pytest.fixture(scope="module")
def published_built(
    built_small_world: LoadedWorld, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    folder = tmp_path_factory.mktemp("published-built")
    publish(built_small_world.warehouse, folder)
    return folder


def test_pages_render_the_real_marts(
    built_small_world: LoadedWorld,
    published_built: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    con = duckdb.connect(str(built_small_world.warehouse), read_only=True)
    try:
        months = con.execute("select max(month) from rpt_kpi_monthly").fetchall()
        latest = months[0][0]
        dso = con.execute(
            "select value from rpt_kpi_monthly where month = ? and kpi = 'dso_countback'",
            [latest],
        ).fetchall()
        open_count, open_eur = con.execute(
            "select count(*), coalesce(sum(amount_at_stake_eur), 0) from fct_exceptions "
            "where status = 'open'"
        ).fetchall()[0]
    finally:
        con.close()

    monkeypatch.setenv("TAKTGEBER_PUBLISHED", str(published_built))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception, [e.message for e in app.exception]
    tiles = {m.label: m.value for m in app.metric}
    if dso:
        assert tiles["DSO (countback)"] == f"{Decimal(str(dso[0][0])):,.1f} days"
    for page in ("reconciliation", "invoicing", "data_health"):
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception, (page, [e.message for e in app.exception])
        if page == "reconciliation":
            tiles = {m.label: m.value for m in app.metric}
            assert tiles["Findings"] == f"{open_count:,}"
            amount = Decimal(str(open_eur)).quantize(Decimal("0.01"))
            assert tiles["At stake (EUR, converted)"] == f"EUR {amount:,.2f}"
