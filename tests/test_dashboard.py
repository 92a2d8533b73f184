"""Each dashboard page under AppTest, against a published copy of a small known warehouse."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard_world import build_published

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
INJECTIONS = [
    "x' or '1'='1",
    "'; drop table fct_exceptions; --",
    "1001' union select * from fct_exceptions --",
]


@pytest.fixture(scope="module")
def published_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_published(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture
def app(published_dir: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TAKTGEBER_PUBLISHED", str(published_dir))
    return AppTest.from_file(str(APP), default_timeout=30)


def _open(app: AppTest, page: str | None = None) -> AppTest:
    app.run()
    if page:
        app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def _metrics(app: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in app.metric}


def test_overview_tiles_show_the_latest_month_with_change(app: AppTest) -> None:
    _open(app)
    tiles = _metrics(app)
    assert tiles["DSO (countback)"] == ("41.3 days", "+1.3 days")
    assert tiles["Time to invoice (median)"] == ("10.0 days", "-2.5 days")
    assert tiles["First-correction rate"] == ("2.50 %", "-2.50 pp")
    assert tiles["Dunning rate"][0] == "10.00 %"
    assert tiles["Automation share"][0] == "75.00 %"
    assert tiles["Unbilled WIP (EUR)"] == ("EUR 12,345.67", "+EUR 2,345.67")
    assert tiles["Revenue leakage (EUR)"][0] == "EUR 2,500.50"
    assert tiles["Realisation rate"][0] == "95.00 %"
    assert len(app.get("vega_lite_chart")) == 3


def test_overview_month_and_customer_filters(app: AppTest) -> None:
    _open(app)
    app.select_slider(key="months").set_range("2026-08", "2026-08").run()
    assert _metrics(app)["DSO (countback)"] == ("40.0 days", "")
    app.select_slider(key="months").set_range("2026-08", "2026-09").run()
    app.selectbox(key="customer").set_value("1001").run()
    assert not app.exception
    assert _metrics(app)["DSO (countback)"] == ("33.3 days", "+3.3 days")
    assert _metrics(app)["Dunning rate"][0] == "–"
    app.selectbox(key="currency").set_value("CHF").run()
    flight = app.dataframe[0].value
    assert flight["currency"].tolist() == ["CHF"]


def _queue(app: AppTest) -> tuple[str, str]:
    tiles = _metrics(app)
    return tiles["Findings"][0], tiles["At stake (EUR, converted)"][0]


def test_reconciliation_queue_counts_and_money_under_filters(app: AppTest) -> None:
    _open(app, "reconciliation")
    assert _queue(app) == ("3", "EUR 11,242.50")
    app.multiselect(key="severities").set_value(["high"]).run()
    assert _queue(app) == ("2", "EUR 11,200.00")
    app.number_input(key="min_age").set_value(50).run()
    assert _queue(app) == ("1", "EUR 5,200.00")
    app.number_input(key="min_age").set_value(0).run()
    app.multiselect(key="severities").set_value([]).run()
    app.selectbox(key="customer").set_value("1001").run()
    assert _queue(app) == ("2", "EUR 6,042.50")
    app.selectbox(key="customer").set_value("All customers").run()
    app.multiselect(key="owners").set_value(["finance"]).run()
    app.radio(key="status").set_value("all").run()
    assert _queue(app) == ("2", "EUR 5,300.00")
    app.radio(key="status").set_value("resolved").run()
    assert _queue(app) == ("1", "EUR 100.00")
    app.multiselect(key="owners").set_value([]).run()
    app.multiselect(key="checks").set_value(["rate_mismatch"]).run()
    assert _queue(app) == ("0", "EUR 0.00")
    assert "No findings match" in app.info[0].value
    assert not app.exception


def test_reconciliation_detail_shows_records_per_system(app: AppTest) -> None:
    _open(app, "reconciliation")
    app.selectbox(key="finding").set_value("E1").run()
    assert not app.exception
    text = " ".join(c.value for c in app.caption)
    assert "harvest_time_entry_id = 9001" in text
    assert "hubspot_company_id = 1001" in text
    frames = [df.value for df in app.dataframe]
    entry = next(
        f for f in frames if "field" in f.columns and "harvest_time_entry_id" in set(f["field"])
    )
    assert dict(zip(entry["field"], entry["value"], strict=True))["billable_rate"] == "90.00"
    app.selectbox(key="finding").set_value("E3").run()
    frames = [df.value for df in app.dataframe]
    assert any("field" in f.columns and "INV-0001" in set(f["value"]) for f in frames)


def test_reconciliation_csv_export_is_the_filtered_queue(app: AppTest) -> None:
    _open(app, "reconciliation")
    app.multiselect(key="severities").set_value(["high"]).run()
    button = app.get("download_button")[0]
    assert "Download these findings as CSV" in str(button.proto)
    queue = app.dataframe[1].value
    assert sorted(queue["exception_id"].tolist()) == ["E2", "E3"]


def test_injection_strings_in_the_search_box_change_nothing(
    app: AppTest, published_dir: Path
) -> None:
    _open(app, "reconciliation")
    app.text_input(key="search").set_value("inv-1").run()
    assert _queue(app) == ("1", "EUR 5,200.00")
    for bad in INJECTIONS:
        app.text_input(key="search").set_value(bad).run()
        assert not app.exception
        assert _queue(app) == ("0", "EUR 0.00")
    app.text_input(key="search").set_value("").run()
    assert _queue(app) == ("3", "EUR 11,242.50")
    _assert_published_intact(published_dir)


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_strings_as_any_filter_value_match_nothing(published_dir: Path, bad: str) -> None:
    queries = _queries()
    from taktgeber.publish import current_copy

    con = queries.connect(current_copy(published_dir))
    try:
        every = queries.ExceptionFilter(statuses=())
        assert queries.exception_totals(con, every) == (4, Decimal("11342.50"))
        for chosen in (
            queries.ExceptionFilter(checks=(bad,)),
            queries.ExceptionFilter(severities=(bad,)),
            queries.ExceptionFilter(owner_roles=(bad,)),
            queries.ExceptionFilter(statuses=(bad,)),
            queries.ExceptionFilter(customer=bad),
            queries.ExceptionFilter(search=bad),
        ):
            assert queries.exception_totals(con, chosen) == (0, Decimal(0))
        assert queries.kpi_values(con, bad) == {}
        assert queries.kpi_values(con, "2026-09", customer=bad) == {}
        assert queries.drafts(con, [bad]).is_empty()
        assert queries.drafts(con, ["ready"], customer=bad).is_empty()
        assert queries.draft_lines(con, bad).is_empty()
        assert queries.exception_detail(con, bad) is None
        assert queries.source_record(con, "xero_invoice_id", bad).is_empty()
        assert queries.money_in_flight(con, bad).is_empty()
        assert queries.exception_totals(con, every) == (4, Decimal("11342.50"))
    finally:
        con.close()
    _assert_published_intact(published_dir)


def _assert_published_intact(published_dir: Path) -> None:
    from taktgeber.publish import current_copy

    con = duckdb.connect(str(current_copy(published_dir)), read_only=True)
    try:
        assert con.execute("select count(*) from fct_exceptions").fetchall() == [(4,)]
        assert con.execute("select count(*) from fct_invoice_drafts").fetchall() == [(3,)]
    finally:
        con.close()


def _queries() -> ModuleType:
    """The dashboard's own queries module, imported the way the app imports it."""
    import sys

    if str(APP.parent) not in sys.path:
        sys.path.insert(0, str(APP.parent))
    import queries

    return queries


def test_invoicing_drafts_lines_and_push_runs(app: AppTest) -> None:
    _open(app, "invoicing")
    tiles = _metrics(app)
    assert tiles["Drafts ready"][0] == "1"
    assert tiles["Drafts blocked"][0] == "1"
    assert tiles["Drafts deferred"][0] == "1"
    app.selectbox(key="draft").set_value("TG-aaaaaaaaaaaa").run()
    tiles = _metrics(app)
    assert (tiles["Net"][0], tiles["Tax"][0], tiles["Gross"][0]) == (
        "EUR 1,000.00",
        "EUR 190.00",
        "EUR 1,190.00",
    )
    lines = next(df.value for df in app.dataframe if "line_no" in df.value.columns)
    assert lines["line_amount"].astype(str).tolist() == ["800.00", "200.00"]
    app.selectbox(key="draft").set_value("TG-bbbbbbbbbbbb").run()
    assert app.warning[0].value == "Blocked by: rate_mismatch"
    app.multiselect(key="statuses").set_value(["blocked"]).run()
    listing = next(df.value for df in app.dataframe if "reasons" in df.value.columns)
    assert listing["draft_key"].tolist() == ["TG-bbbbbbbbbbbb"]
    assert listing["reasons"].tolist() == ["rate_mismatch"]
    runs = next(df.value for df in app.dataframe if "run_id" in df.value.columns)
    assert runs["outcome"].tolist() == ["succeeded"]
    assert any("credit-note" in i.value for i in app.info)


def test_data_health_loads_results_and_counts(app: AppTest) -> None:
    _open(app, "data_health")
    frames = {tuple(df.value.columns): df.value for df in app.dataframe}
    loads = next(v for k, v in frames.items() if "hours_before_publish" in k)
    assert loads["source"].tolist() == ["raw_hubspot"]
    resources = next(v for k, v in frames.items() if "resource" in k)
    assert dict(zip(resources["resource"], resources["rows"], strict=True))["companies"] == 2
    problems = next(v for k, v in frames.items() if "failures" in k)
    assert problems["name"].tolist() == ["not_null_fct_invoice_drafts_net"]
    assert any("1 of 3 dbt nodes did not pass" in w.value for w in app.warning)
    marts = next(v for k, v in frames.items() if "mart" in k)
    assert dict(zip(marts["mart"], marts["rows"], strict=True))["fct_exceptions"] == 4


def test_every_page_says_what_to_do_when_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAKTGEBER_PUBLISHED", str(tmp_path / "empty"))
    app = AppTest.from_file(str(APP), default_timeout=30)
    for page in (None, "reconciliation", "invoicing", "data_health"):
        _open(app, page)
        assert "Nothing has been published yet" in app.info[0].value


def test_pages_without_marts_show_empty_states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taktgeber.publish import publish

    warehouse = tmp_path / "bare.duckdb"
    duckdb.connect(str(warehouse)).close()
    publish(warehouse, tmp_path / "pub", run_results=tmp_path / "missing.json")
    monkeypatch.setenv("TAKTGEBER_PUBLISHED", str(tmp_path / "pub"))
    app = AppTest.from_file(str(APP), default_timeout=30)
    for page, text in (
        (None, "No KPIs yet"),
        ("reconciliation", "No reconciliation findings yet"),
        ("invoicing", "No invoice drafts yet"),
        ("data_health", "No dlt loads recorded"),
    ):
        _open(app, page)
        assert any(text in i.value for i in app.info), [i.value for i in app.info]


def test_dashboard_connection_cannot_write_read_files_or_change_settings(
    published_dir: Path,
) -> None:
    queries = _queries()
    from taktgeber.publish import current_copy

    con = queries.connect(current_copy(published_dir))
    try:
        for statement in (
            "set enable_external_access = true",
            "attach '/tmp/other.duckdb' as other",
            "select * from read_csv('/etc/passwd')",
            "delete from fct_exceptions",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(statement)
    finally:
        con.close()
