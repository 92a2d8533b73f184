"""Python rules the dbt models call as SQL functions (a dbt-duckdb plugin).

Registered on every connection dbt opens (see ``profiles.yml``):

- ``tg_normalize_name(text)``: the name key of DESIGN.md §4 — Unicode NFKD, ASCII only,
  lower case, every run of non-alphanumerics → one space, trimmed.
- ``tg_is_valid_vat_id(country_code, vat_id)``: the VAT id passes its country's check
  (python-stdnum); a missing id or a country stdnum has no check for is not valid.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from stdnum.exceptions import ValidationError
from stdnum.util import get_cc_module

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize_name(name: str | None) -> str | None:
    if name is None:
        return None
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", ascii_only.lower()).strip()


def is_valid_vat_id(country_code: str | None, vat_id: str | None) -> bool:
    if not country_code or not vat_id:
        return False
    country = country_code.strip().lower()
    module = get_cc_module("gr" if country == "el" else country, "vat")
    if module is None:
        return False
    number = vat_id.strip()
    # A VAT id carries its country prefix (Greece: EL); stdnum's checks take it either way,
    # but the prefix must be the company's country.
    prefix = number[:2].upper()
    if prefix.isalpha() and prefix not in {country.upper(), "EL" if country == "gr" else ""}:
        return False
    try:
        module.validate(number)
    except ValidationError:
        return False
    return True


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        _register(conn, "tg_normalize_name", normalize_name, ["VARCHAR"], "VARCHAR")
        _register(conn, "tg_is_valid_vat_id", is_valid_vat_id, ["VARCHAR", "VARCHAR"], "BOOLEAN")


def _register(
    conn: DuckDBPyConnection, name: str, func: Any, params: list[str], returns: str
) -> None:
    try:
        conn.create_function(name, func, params, returns, null_handling="special")
    except Exception as exc:  # already registered on this connection
        if "already exists" not in str(exc):
            raise
