"""Reconciliation: the exceptions queue with filters, a finding's records, CSV export."""

from __future__ import annotations

import queries
import streamlit as st
from common import money_columns, published, require
from formatting import money

ALL_CUSTOMERS = "All customers"
SYSTEM_TITLES = {
    "hubspot": "HubSpot (CRM)",
    "harvest": "Harvest (projects)",
    "xero": "Xero (accounting)",
}

st.title("Reconciliation")

with published() as con:
    if not require(con, "fct_exceptions", "reconciliation findings"):
        st.stop()
    customer_labels = queries.customers(con)

    row1 = st.columns(3)
    checks = row1[0].multiselect(
        "Check",
        queries.exception_options(con, "check_name"),
        key="checks",
        placeholder="All checks",
    )
    severities = row1[1].multiselect(
        "Severity",
        queries.exception_options(con, "severity"),
        key="severities",
        placeholder="All severities",
    )
    owners = row1[2].multiselect(
        "Owner role",
        queries.exception_options(con, "owner_role"),
        key="owners",
        placeholder="All owner roles",
    )
    row2 = st.columns(3)
    status = row2[0].radio("Status", ["open", "resolved", "all"], horizontal=True, key="status")
    min_age = row2[1].number_input("Older than (days)", min_value=0, value=0, step=1, key="min_age")
    customer_choice = row2[2].selectbox(
        "Customer",
        [ALL_CUSTOMERS, *customer_labels],
        format_func=lambda cid: customer_labels.get(cid, cid),
        key="customer",
    )
    search = st.text_input(
        "Search (record id, text)", key="search", placeholder="e.g. an invoice id or deal id"
    )
    chosen = queries.ExceptionFilter(
        checks=tuple(checks),
        severities=tuple(severities),
        owner_roles=tuple(owners),
        statuses=() if status == "all" else (status,),
        min_age_days=int(min_age),
        customer=None if customer_choice == ALL_CUSTOMERS else customer_choice,
        search=search,
    )

    count, at_stake = queries.exception_totals(con, chosen)
    tiles = st.columns(2)
    tiles[0].metric("Findings", f"{count:,}")
    tiles[1].metric("At stake (EUR, converted)", money(at_stake))

    queue = queries.exceptions(con, chosen)
    if queue.is_empty():
        st.info("No findings match these filters. Widen the filters or pick status 'all'.")
        st.stop()

    st.dataframe(
        queries.exception_by_check(con, chosen),
        hide_index=True,
        column_config=money_columns("at_stake_eur"),
    )
    st.dataframe(
        queue,
        hide_index=True,
        column_config=money_columns("amount_at_stake_eur", "amount_at_stake"),
    )
    st.download_button(
        "Download these findings as CSV",
        data=queue.write_csv(),
        file_name="taktgeber-findings.csv",
        mime="text/csv",
        key="download",
    )

    st.subheader("Finding detail")
    ids = [str(value) for value in queue["exception_id"].to_list()]
    picked = st.selectbox("Finding", ids, key="finding")
    detail = queries.exception_detail(con, picked) if picked else None
    if detail is None:
        st.info("Pick a finding above to see its records.")
        st.stop()
    amount = detail.get("amount_at_stake")
    st.markdown(
        f"**{detail.get('check_name')}** · severity {detail.get('severity')} · "
        f"owner {detail.get('owner_role')} · {detail.get('status')} · "
        f"age {detail.get('age_days')} days · at stake "
        f"{money(amount, str(detail.get('currency_code') or 'EUR'))} "
        f"({money(detail.get('amount_at_stake_eur'))} converted)"
    )
    if detail.get("explanation"):
        st.write(detail["explanation"])
    grouped = queries.record_ids_by_system(detail)
    columns = st.columns(3)
    for column, system in zip(columns, queries.SYSTEMS, strict=True):
        column.markdown(f"**{SYSTEM_TITLES[system]}**")
        if not grouped[system]:
            column.caption("No record in this system.")
        for id_column, value in grouped[system].items():
            column.caption(f"{id_column} = {value}")
            if id_column.endswith("_ids"):
                continue
            record = queries.source_record(con, id_column, value)
            if record.is_empty():
                column.caption("Record not in the published copy.")
            else:
                column.dataframe(
                    queries.as_fields(record) if record.height == 1 else record,
                    hide_index=True,
                )
    if grouped["taktgeber"]:
        st.caption(f"Draft: {grouped['taktgeber'].get('draft_key')}")
