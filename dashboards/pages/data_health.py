"""Data health: last loads per source and resource, freshness, dbt results, row counts."""

from __future__ import annotations

import queries
import streamlit as st
from common import published

STALE_AFTER_HOURS = 24.0

st.title("Data health")

with published() as con:
    st.caption(f"Published copy made at {queries.published_at(con) or 'an unknown time'}.")

    st.subheader("Last load per source")
    loads = queries.last_loads(con)
    if loads.is_empty():
        st.info("No dlt loads recorded. Run `taktgeber load` and publish again.")
    else:
        stale = loads.filter(loads["hours_before_publish"] > STALE_AFTER_HOURS)
        if stale.is_empty():
            st.success(f"All sources loaded within {STALE_AFTER_HOURS:.0f} h before publishing.")
        else:
            st.warning(
                "Stale sources (last load more than "
                f"{STALE_AFTER_HOURS:.0f} h before publishing): "
                + ", ".join(stale["source"].to_list())
            )
        st.dataframe(loads, hide_index=True)

    st.subheader("Resources")
    resources = queries.table_loads(con)
    if resources.is_empty():
        st.info("No raw tables in the warehouse yet. Run `taktgeber load`.")
    else:
        st.dataframe(
            resources,
            hide_index=True,
            column_config={"rows": st.column_config.NumberColumn("rows", format="localized")},
        )

    st.subheader("dbt results of the last build")
    counts = queries.dbt_result_counts(con)
    if counts.is_empty():
        st.info("No dbt results found (target/run_results.json). Run `taktgeber build`.")
    else:
        st.caption(f"Build finished {queries.dbt_generated_at(con) or 'at an unknown time'}.")
        problems = queries.dbt_problems(con)
        if problems.is_empty():
            st.success("All models, seeds and tests passed.")
        else:
            total = int(counts["nodes"].sum())
            st.warning(f"{problems.height:,} of {total:,} dbt nodes did not pass.")
            st.dataframe(problems, hide_index=True)
        st.dataframe(counts, hide_index=True)

    st.subheader("Mart row counts")
    marts = queries.mart_row_counts(con)
    if marts.is_empty():
        st.info("No marts in the published copy. Run `taktgeber build`, then publish.")
    else:
        st.dataframe(marts, hide_index=True)
