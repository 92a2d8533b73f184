"""What every page shares: finding the published copy and opening it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import queries
import streamlit as st

NOTHING_PUBLISHED = (
    "Nothing has been published yet. Run `taktgeber run` (load → build → push → publish), "
    "or `python -c 'from taktgeber.publish import publish; from taktgeber.config import "
    "warehouse_path; publish(warehouse_path())'` after a build, then reload this page."
)


@contextmanager
def published() -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the current published copy; stops the page if none."""
    try:
        con = queries.connect_current()
    except duckdb.Error as exc:
        st.warning(f"The published copy could not be opened ({exc}). Reload the page.")
        st.stop()
    if con is None:
        st.info(NOTHING_PUBLISHED)
        st.stop()
    try:
        yield con
    finally:
        con.close()


def require(con: duckdb.DuckDBPyConnection, table: str, what: str) -> bool:
    """Show an empty state and return False when `table` is not in the published copy."""
    if table in queries.tables(con):
        return True
    st.info(
        f"No {what} yet: the table `{table}` is not in the published copy. "
        "Run `taktgeber build` (dbt) and publish again."
    )
    return False


def money_columns(*names: str, label_suffix: str = "") -> dict[str, object]:
    """Column config showing amounts as `1,234.00` (accounting format)."""
    return {
        name: st.column_config.NumberColumn(name + label_suffix, format="accounting")
        for name in names
    }
