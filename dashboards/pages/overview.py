"""Overview: the month's KPIs with their change against the previous month, and trends."""

from __future__ import annotations

import polars as pl
import queries
import streamlit as st
from common import published, require
from formatting import KPI_LABELS, LOWER_IS_BETTER, kpi_delta, kpi_value, money

ALL_CUSTOMERS = "All customers"
ALL_CURRENCIES = "All currencies"
TREND_GROUPS = (
    ("Days", ("dso_countback", "time_to_invoice_median_days")),
    (
        "Rates (fraction)",
        ("first_correction_rate", "dunning_rate", "automation_share", "realisation_rate"),
    ),
    ("EUR", ("unbilled_wip_eur", "revenue_leakage_eur")),
)


def trend_spec() -> dict[str, object]:
    """A plain Vega-Lite line chart per KPI (no Altair: faster to build each run)."""
    return {
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": None},
            "y": {"field": "value", "type": "quantitative", "title": None},
            "color": {
                "field": "kpi",
                "type": "nominal",
                "legend": {"orient": "bottom", "title": None},
            },
        },
    }


st.title("Overview")

with published() as con:
    if not require(con, "rpt_kpi_monthly", "KPIs"):
        st.stop()
    months = queries.kpi_months(con)
    if not months:
        st.info("The KPI mart is empty: no invoices, work or deals in the loaded data yet.")
        st.stop()
    customer_labels = queries.customers(con)
    currency_options = queries.currencies(con)

    left, middle, right = st.columns([3, 2, 1])
    default_first = months[max(0, len(months) - 12)]
    if len(months) > 1:
        first, last = left.select_slider(
            "Months", options=months, value=(default_first, months[-1]), key="months"
        )
    else:
        first = last = months[0]
        left.write(f"Month: {months[0]}")
    customer_choice = middle.selectbox(
        "Customer",
        [ALL_CUSTOMERS, *customer_labels],
        format_func=lambda cid: customer_labels.get(cid, cid),
        key="customer",
    )
    currency_choice = right.selectbox(
        "Currency", [ALL_CURRENCIES, *currency_options], key="currency"
    )
    customer = None if customer_choice == ALL_CUSTOMERS else customer_choice
    currency = None if currency_choice == ALL_CURRENCIES else currency_choice

    previous = months[months.index(last) - 1] if months.index(last) > 0 else None
    values = queries.kpi_values(con, last, customer)
    before = queries.kpi_values(con, previous, customer) if previous else {}
    who = customer_labels.get(customer, customer) if customer else "the whole company"
    st.subheader(f"{last} — {who}")
    st.caption(f"Change against {previous}." if previous else "No previous month to compare with.")
    tiles = st.columns(4)
    for index, kpi in enumerate(queries.OVERVIEW_KPIS):
        tiles[index % 4].metric(
            KPI_LABELS[kpi],
            kpi_value(kpi, values.get(kpi)),
            kpi_delta(kpi, values.get(kpi), before.get(kpi)),
            delta_color="inverse" if kpi in LOWER_IS_BETTER else "normal",
        )

    st.subheader(f"Trends {first} to {last}")
    trend = queries.kpi_trend(con, first, last, customer)
    if trend.is_empty():
        st.info("No KPI values in this month range for this selection.")
    else:
        labelled = trend.with_columns(pl.col("kpi").replace_strict(KPI_LABELS).alias("kpi"))
        charts = st.columns(3)
        for column, (title, group) in zip(charts, TREND_GROUPS, strict=True):
            series = labelled.filter(pl.col("kpi").is_in([KPI_LABELS[k] for k in group]))
            box = column.container(border=True)
            box.markdown(f"**{title}**")
            if series.is_empty():
                box.caption("No values in this range.")
            else:
                box.vega_lite_chart(series, trend_spec(), height=220)

    st.subheader("Money in flight")
    flight = queries.money_in_flight(con, currency)
    if flight.is_empty():
        st.info("No open findings and no ready drafts for this currency.")
    else:
        st.caption(
            "Open reconciliation findings and ready invoice drafts in their own currency; "
            "the EUR columns are converted at the build's FX rates."
        )
        st.dataframe(
            flight,
            hide_index=True,
            column_config={
                "open_findings_at_stake": st.column_config.NumberColumn(
                    "Open findings at stake", format="accounting"
                ),
                "open_findings_at_stake_eur": st.column_config.NumberColumn(
                    "… in EUR (converted)", format="accounting"
                ),
                "ready_drafts_net": st.column_config.NumberColumn(
                    "Ready drafts net", format="accounting"
                ),
                "ready_drafts_net_eur": st.column_config.NumberColumn(
                    "… in EUR (converted)", format="accounting"
                ),
            },
        )
        total = flight["open_findings_at_stake_eur"].sum()
        st.caption(f"Open findings at stake, all shown currencies: {money(total)} (converted).")
