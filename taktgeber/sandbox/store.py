"""The in-memory world: one `Resource` per API collection, records kept sorted and
pre-serialized so a page is a join of ready-made JSON bytes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from taktgeber.sandbox.timefmt import any_to_ms

Record = dict[str, Any]
Transform = Callable[[Record], Record] | None

HUBSPOT_RESOURCES = ("companies", "deals", "line_items", "products")
HARVEST_RESOURCES = (
    "clients",
    "projects",
    "tasks",
    "task_assignments",
    "users",
    "time_entries",
    "expenses",
)
XERO_RESOURCES = (
    "Contacts",
    "Invoices",
    "CreditNotes",
    "Payments",
    "Journals",
    "Accounts",
    "TaxRates",
)
SYSTEMS: dict[str, tuple[str, ...]] = {
    "hubspot": HUBSPOT_RESOURCES,
    "harvest": HARVEST_RESOURCES,
    "xero": XERO_RESOURCES,
}
XERO_ID_FIELD = {
    "Contacts": "ContactID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
    "Payments": "PaymentID",
    "Journals": "JournalID",
    "Accounts": "AccountID",
    "TaxRates": "TaxType",
}


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """How one collection is keyed, ordered and made incremental."""

    id_of: Callable[[Record], Any]
    cursor_of: Callable[[Record], int | None]
    sort_key: Callable[[Record], Any]
    descending: bool = False


def _hubspot_cursor(rec: Record) -> int | None:
    props = rec.get("properties") or {}
    return any_to_ms(props.get("hs_lastmodifieddate") or rec.get("updatedAt"))


def _field_cursor(field: str) -> Callable[[Record], int | None]:
    return lambda rec: any_to_ms(rec.get(field))


def spec_for(system: str, name: str) -> ResourceSpec:
    if system == "hubspot":
        return ResourceSpec(lambda r: str(r["id"]), _hubspot_cursor, lambda r: int(r["id"]))
    if system == "harvest":
        # Harvest's documented order: time entries and expenses by spent_date, most recent
        # first; everything else by creation, most recent first. Ties by id (descending).
        field = "spent_date" if name in ("time_entries", "expenses") else "created_at"
        return ResourceSpec(
            lambda r: int(r["id"]),
            _field_cursor("updated_at"),
            lambda r, f=field: (str(r.get(f) or ""), int(r["id"])),
            descending=True,
        )
    id_field = XERO_ID_FIELD[name]
    if name == "Journals":
        return ResourceSpec(
            lambda r: r["JournalID"],
            _field_cursor("CreatedDateUTC"),
            lambda r: int(r["JournalNumber"]),
        )
    cursor = (lambda r: None) if name == "TaxRates" else _field_cursor("UpdatedDateUTC")
    # Other Xero collections keep the fixture's order; new records are appended.
    return ResourceSpec(lambda r, f=id_field: r[f], cursor, lambda r: 0)


class Entry:
    """One record with its serialized form and cursor (ms)."""

    __slots__ = ("alt", "blob", "cursor", "rec", "seq")

    def __init__(self, rec: Record, spec: ResourceSpec, seq: int, transform: Transform) -> None:
        self.rec = rec
        self.seq = seq
        self.refresh(spec, transform)

    def refresh(self, spec: ResourceSpec, transform: Transform) -> None:
        """Re-serialize after a change. `transform` (schema drift) alters only what is
        served, never the stored record."""
        self.blob = dumps(self.rec if transform is None else transform(self.rec))
        self.cursor = spec.cursor_of(self.rec)
        self.alt: bytes | None = None  # a cached variant (e.g. an invoice without LineItems)


class Resource:
    """A sorted collection. Mutations go through `upsert` and bump `version`."""

    def __init__(self, system: str, name: str, records: Iterable[Record]) -> None:
        self.system = system
        self.name = name
        self.spec = spec_for(system, name)
        self.transform: Transform = None
        self._seq = 0
        self.by_id: dict[Any, Entry] = {}
        entries = []
        for rec in records:
            entry = Entry(rec, self.spec, self._next_seq(), None)
            entries.append(entry)
            self.by_id[self.spec.id_of(rec)] = entry
        self.entries: list[Entry] = self._sorted(entries)
        self.version = 0
        self._cache: OrderedDict[tuple[Any, ...], list[Entry]] = OrderedDict()
        self.property_names: set[str] = set()
        if system == "hubspot":
            for entry in self.entries:
                self.property_names.update((entry.rec.get("properties") or {}).keys())

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _sorted(self, entries: list[Entry]) -> list[Entry]:
        key = self.spec.sort_key
        return sorted(entries, key=lambda e: (key(e.rec), e.seq), reverse=self.spec.descending)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, record_id: Any) -> Record | None:
        entry = self.by_id.get(record_id)
        return None if entry is None else entry.rec

    def upsert(self, records: Iterable[Record]) -> None:
        """Insert new records or replace/refresh changed ones (same id), then re-sort."""
        new: list[Entry] = []
        for rec in records:
            rid = self.spec.id_of(rec)
            entry = self.by_id.get(rid)
            if entry is None:
                entry = Entry(rec, self.spec, self._next_seq(), self.transform)
                self.by_id[rid] = entry
                new.append(entry)
            else:
                entry.rec = rec
                entry.refresh(self.spec, self.transform)
        if self.system == "hubspot":
            for entry in new:
                self.property_names.update((entry.rec.get("properties") or {}).keys())
        self.entries = self._sorted(self.entries + new)  # copy-on-write: readers keep theirs
        self.version += 1
        self._cache.clear()

    def set_transform(self, transform: Transform) -> None:
        """Serve every record through `transform` from now on (None: as stored)."""
        if transform is None and self.transform is None:
            return
        self.transform = transform
        for entry in self.entries:
            entry.refresh(self.spec, transform)
        self.version += 1
        self._cache.clear()

    def shaped(self, rec: Record) -> Record:
        """A record as served (with any drift applied)."""
        return rec if self.transform is None else self.transform(rec)

    def select(
        self,
        key: tuple[Any, ...],
        keep: Callable[[Entry], bool] | None,
        arrange: Callable[[list[Entry]], list[Entry]] | None = None,
    ) -> list[Entry]:
        """Entries passing `keep` (then re-ordered by `arrange`), cached per `key` until the
        next mutation, so paging through a filtered result scans the collection once."""
        if not key:
            return self.entries
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        result = self.entries if keep is None else [e for e in self.entries if keep(e)]
        if arrange is not None:
            result = arrange(result)
        self._cache[key] = result
        if len(self._cache) > 32:
            self._cache.popitem(last=False)
        return result

    def max_cursor(self) -> int:
        return max((e.cursor for e in self.entries if e.cursor is not None), default=0)


class World:
    """All resources of the three systems plus the sandbox clock."""

    def __init__(self, resources: dict[tuple[str, str], Resource]) -> None:
        self.resources = resources
        self.lock = threading.RLock()
        self.idempotency: dict[str, Any] = {}  # Xero Idempotency-Key → first answer
        self._last_ms = max((r.max_cursor() for r in resources.values()), default=0)

    @classmethod
    def load(cls, folder: Path) -> World:
        resources: dict[tuple[str, str], Resource] = {}
        for system, names in SYSTEMS.items():
            for name in names:
                path = folder / system / f"{name}.json"
                records: list[Record] = orjson.loads(path.read_bytes()) if path.exists() else []
                if not isinstance(records, list):
                    raise TypeError(f"{path}: expected a JSON array of records")
                resources[(system, name)] = Resource(system, name, records)
        return cls(resources)

    def get(self, system: str, name: str) -> Resource:
        return self.resources[(system, name)]

    def now_ms(self) -> int:
        """Wall-clock ms, but always later than every timestamp already in the world, so a
        write or change is seen by any incremental cursor taken before it."""
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms

    def bump_clock(self, ms: int) -> None:
        self._last_ms = max(self._last_ms, ms)
