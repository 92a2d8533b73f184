"""taktgeber dashboard: routes the four pages. Reads only the published read-only copy."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

st.set_page_config(page_title="taktgeber", layout="wide")

pages = [
    st.Page(HERE / "pages" / "overview.py", title="Overview", default=True),
    st.Page(HERE / "pages" / "reconciliation.py", title="Reconciliation"),
    st.Page(HERE / "pages" / "invoicing.py", title="Invoicing"),
    st.Page(HERE / "pages" / "data_health.py", title="Data health"),
]
st.navigation(pages).run()
