"""Python rules the dbt models call as SQL functions (a dbt-duckdb plugin).

Registered on every connection dbt opens (see ``profiles.yml``):

- ``tg_normalize_name(text)``: the name key of DESIGN.md §4 — Unicode NFKD, ASCII only,
  lower case, every run of non-alphanumerics → one space, trimmed.
- ``tg_compact_vat_id(text)``: a VAT id without separators, upper case.
- ``tg_is_valid_vat_id(country_code, vat_id)``: python-stdnum's EU VAT check, and the
  number belongs to the company's country; a missing id is not valid.
- ``tg_is_german_holiday(date)``: a German nationwide holiday (business days, §6).

It also gives the database its time zone (the plugin's ``time_zone`` in ``profiles.yml``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

import holidays
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from stdnum.eu import vat as eu_vat

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_GERMAN_HOLIDAYS = holidays.country_holidays("DE", years=range(1999, 2051))


def normalize_name(name: str | None) -> str | None:
    if name is None:
        return None
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub(" ", ascii_only.lower()).strip()


def compact_vat_id(value: str | None) -> str | None:
    """A VAT id without spaces, dots or dashes, upper case (the form links compare)."""
    if value is None:
        return None
    compact = re.sub(r"[^A-Za-z0-9]", "", value).upper()
    return compact or None


def is_valid_vat_id(country_code: str | None, vat_id: str | None) -> bool:
    """python-stdnum's EU VAT check; the number must belong to the company's country
    (Greece: prefix EL). A number given without its prefix gets the country's."""
    number = compact_vat_id(vat_id)
    if not number or not country_code:
        return False
    country = country_code.strip().upper()
    prefix = "EL" if country == "GR" else country
    if not number.startswith(prefix):
        number = prefix + number
    try:
        return number[:2] == prefix and bool(eu_vat.is_valid(number))
    except Exception:  # noqa: BLE001 - any stdnum failure means "not valid"
        return False


def is_german_holiday(day: date | None) -> bool:
    """A German nationwide public holiday (the `holidays` package)."""
    return day is not None and day in _GERMAN_HOLIDAYS


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # profiles.yml: the plugin's `config`
        self.time_zone = plugin_config.get("time_zone")

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        if self.time_zone:
            # every cursor dbt opens on this database starts with it
            zone = str(self.time_zone).replace("'", "''")
            conn.execute(f"SET GLOBAL TimeZone = '{zone}'")
        _register(conn, "tg_normalize_name", normalize_name, ["VARCHAR"], "VARCHAR")
        _register(conn, "tg_compact_vat_id", compact_vat_id, ["VARCHAR"], "VARCHAR")
        _register(conn, "tg_is_valid_vat_id", is_valid_vat_id, ["VARCHAR", "VARCHAR"], "BOOLEAN")
        _register(conn, "tg_is_german_holiday", is_german_holiday, ["DATE"], "BOOLEAN")


def _register(
    conn: DuckDBPyConnection, name: str, func: Any, params: list[str], returns: str
) -> None:
    try:
        conn.create_function(name, func, params, returns, null_handling="special")
    except Exception as exc:  # already registered on this connection
        if "already exists" not in str(exc):
            raise
