"""Wire formats of the three APIs, written once: dates, timestamps, ids, JSON arrays."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

EPOCH = date(1970, 1, 1)
_NS_ROOT = uuid.UUID("7a6b1c1e-5d0e-4f53-9e2d-74616b746765")


def xero_date(day: date) -> str:
    """Xero response date: ``/Date(<ms since epoch>+0000)/`` at UTC midnight."""
    return f"/Date({(day - EPOCH).days * 86_400_000}+0000)/"


def xero_datetime(moment: datetime) -> str:
    ms = int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)
    return f"/Date({ms}+0000)/"


def xero_date_string(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def at(day: date, seconds: int) -> datetime:
    """A naive UTC moment: ``day`` plus ``seconds`` after midnight."""
    return datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)


def harvest_stamp(day: date, seconds: int) -> str:
    """Harvest timestamp ``YYYY-MM-DDTHH:MM:SSZ`` for ``day`` plus ``seconds`` (< 1 day), fast."""
    return f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def hubspot_ts(moment: datetime, millis: int = 0) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis % 1000:03d}Z"


def harvest_ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def money_number(cents: int) -> float:
    """A JSON number for an amount in cents (exact: correctly rounded, shortest repr)."""
    return cents / 100


def money_text(cents: int) -> str:
    """A decimal string with two places, as the push ledger and answer key write money."""
    return str(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


def to_cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


class Uuids:
    """Deterministic UUIDs per world seed and kind: uuid5 over (seed, kind, n)."""

    def __init__(self, seed: int) -> None:
        self._ns = uuid.uuid5(_NS_ROOT, f"world-{seed}")

    def make(self, kind: str, n: int | str) -> str:
        return str(uuid.uuid5(self._ns, f"{kind}:{n}"))


def _default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(record: object) -> str:
    return _ENCODER.encode(record)


class JsonArrayWriter:
    """Writes a JSON array one record at a time (one record a line), so memory stays flat."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.count = 0
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="\n")
        self._file.write("[")

    def write(self, record: object) -> None:
        self._file.write(("\n" if self.count == 0 else ",\n") + dumps(record))
        self.count += 1

    def write_raw(self, text: str) -> None:
        """One record already serialised as compact JSON (the hot path for time entries)."""
        self._file.write(("\n" if self.count == 0 else ",\n") + text)
        self.count += 1

    def close(self) -> None:
        self._file.write("\n]\n" if self.count else "]\n")
        self._file.close()


def write_array(path: Path, records: list[Any]) -> int:
    writer = JsonArrayWriter(path)
    for record in records:
        writer.write(record)
    writer.close()
    return writer.count
