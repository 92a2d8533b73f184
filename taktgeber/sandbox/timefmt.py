"""Timestamp formats of the three APIs, converted to and from epoch milliseconds (UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_XERO_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def iso_to_ms(text: str) -> int:
    """ISO 8601 (`2024-01-15T14:22:10.456Z`, `2020-02-06T12:17:43.202-08:00`, a date) → ms."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def ms_to_iso_ms(ms: int) -> str:
    """HubSpot style: `2024-01-15T14:22:10.456Z`."""
    value = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def ms_to_iso_s(ms: int) -> str:
    """Harvest style: `2017-06-27T16:47:14Z` (whole seconds)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def xero_to_ms(text: str) -> int:
    """Xero `/Date(1539993600000+0000)/` → ms. The offset is informational (ms are UTC)."""
    match = _XERO_DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a Xero /Date()/ value: {text!r}")
    return int(match.group(1))


def ms_to_xero(ms: int) -> str:
    return f"/Date({ms}+0000)/"


def date_to_ms(day: str) -> int:
    """`2019-03-11` (or an ISO datetime) → ms at UTC midnight / that instant."""
    return iso_to_ms(day[:10] if len(day) <= 10 else day)


def ms_to_date_string(ms: int) -> str:
    """Xero `DateString`: `2018-10-20T00:00:00`."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def http_date_to_ms(text: str) -> int:
    """`If-Modified-Since` value: ISO 8601 or RFC 1123 (`Thu, 06 Feb 2020 20:17:43 GMT`)."""
    text = text.strip()
    try:
        return iso_to_ms(text)
    except ValueError:
        value = parsedate_to_datetime(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)


def any_to_ms(value: object) -> int | None:
    """A cursor value in any of the three formats → ms, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value)
    if text.startswith("/Date("):
        return xero_to_ms(text)
    if text.isdigit():
        return int(text)
    return iso_to_ms(text)


def add_days(day: str, days: int) -> str:
    value = datetime.fromisoformat(day[:10]) + timedelta(days=days)
    return value.strftime("%Y-%m-%d")
