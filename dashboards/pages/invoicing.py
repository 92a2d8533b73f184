"""Invoicing: drafts ready / blocked / deferred with reasons, lines, credit notes, pushes."""

from __future__ import annotations

import queries
import streamlit as st
from common import money_columns, published, require
from formatting import money

STATUSES = ["ready", "blocked", "deferred"]
ALL_CUSTOMERS = "All customers"

st.title("Invoicing")

with published() as con:
    have = queries.tables(con)
    if require(con, "fct_invoice_drafts", "invoice drafts"):
        summary = queries.draft_summary(con)
        if summary.is_empty():
            st.info("No invoice drafts: no approved, unbilled work or due milestones right now.")
        else:
            tiles = st.columns(3)
            for tile, status in zip(tiles, STATUSES, strict=True):
                rows = summary.filter(summary["status"] == status)
                net_eur = rows["net_eur"].sum() if not rows.is_empty() else 0
                tile.metric(
                    f"Drafts {status}",
                    f"{int(rows['drafts'].sum()) if not rows.is_empty() else 0:,}",
                    help=f"Net {money(net_eur)} (converted)",
                )
            st.caption(
                "Totals per status and currency; net_eur is converted at the build's FX rates."
            )
            st.dataframe(
                summary, hide_index=True, column_config=money_columns("net", "gross", "net_eur")
            )

            customer_labels = queries.customers(con)
            left, right = st.columns([2, 1])
            statuses = left.multiselect("Status", STATUSES, default=STATUSES, key="statuses")
            customer_choice = right.selectbox(
                "Customer",
                [ALL_CUSTOMERS, *customer_labels],
                format_func=lambda cid: customer_labels.get(cid, cid),
                key="customer",
            )
            customer = None if customer_choice == ALL_CUSTOMERS else customer_choice
            listing = queries.drafts(con, statuses, customer)
            if listing.is_empty():
                st.info("No drafts with these statuses for this customer.")
            else:
                st.dataframe(
                    listing,
                    hide_index=True,
                    column_config=money_columns("net", "tax", "gross", "net_eur"),
                )
                st.subheader("Draft detail")
                key = st.selectbox("Draft", listing["draft_key"].to_list(), key="draft")
                chosen = queries.draft(con, key) if key else None
                if chosen is not None:
                    currency = str(chosen.get("currency_code") or "EUR")
                    parts = st.columns(4)
                    parts[0].metric("Net", money(chosen.get("net"), currency))
                    parts[1].metric("Tax", money(chosen.get("tax"), currency))
                    parts[2].metric("Gross", money(chosen.get("gross"), currency))
                    parts[3].metric("Status", str(chosen.get("status")))
                    reasons = chosen.get("reasons") or []
                    if reasons:
                        st.warning("Blocked by: " + ", ".join(str(r) for r in reasons))
                    for note in chosen.get("notes") or []:
                        st.caption(str(note))
                    if "fct_invoice_draft_lines" in have:
                        st.dataframe(
                            queries.draft_lines(con, key),
                            hide_index=True,
                            column_config=money_columns("unit_amount", "line_amount"),
                        )

    st.subheader("Credit-note drafts")
    if "fct_credit_note_drafts" not in have:
        st.info("No credit-note drafts in the published copy yet (mart not built).")
    else:
        notes = queries.credit_note_drafts(con)
        if notes.is_empty():
            st.info("No credit-note drafts: nothing needs correcting.")
        else:
            st.dataframe(notes, hide_index=True)

    st.subheader("Push runs")
    if "push_runs" not in have:
        st.info("No push has run yet. Run `taktgeber push` (or `taktgeber push --dry-run`).")
    else:
        runs = queries.push_runs(con)
        if runs.is_empty():
            st.info("No push has run yet. Run `taktgeber push` (or `taktgeber push --dry-run`).")
        else:
            st.dataframe(runs, hide_index=True)
    if "push_ledger" in have:
        ledger = queries.push_ledger_summary(con)
        if not ledger.is_empty():
            st.caption("Push ledger: drafts per outcome and currency")
            st.dataframe(ledger, hide_index=True, column_config=money_columns("total"))
