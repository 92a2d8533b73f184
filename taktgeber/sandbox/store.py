"""The in-memory world: one `Resource` per API collection, records kept sorted and
pre-serialized so a page is a join of ready-made JSON bytes.

Large collections (more than `COMPACT_THRESHOLD` records, e.g. 1 M time entries) keep
only the serialized bytes plus the few fields paging and incremental filters need (id,
cursor, sort key, spent_date); the record dict is re-parsed on demand.

Xero documents are also indexed by number and by Reference, and the numbering keeps the
highest number per prefix, so a write costs the same however many documents are stored."""

from __future__ import annotations

import bisect
import itertools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

import orjson

from taktgeber.sandbox.timefmt import any_to_ms

Record = dict[str, Any]
Transform = Callable[[Record], Record] | None
COMPACT_THRESHOLD = 200_000

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
    """JSON bytes to keep: orjson's result carries its growth buffer (~16 KiB even for a
    1 KiB record), so long-lived bytes are copied to their exact size."""
    return memoryview(orjson.dumps(value)).tobytes()


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """How one collection is keyed, ordered (ascending `sort_key`) and made incremental."""

    id_of: Callable[[Record], Any]
    cursor_of: Callable[[Record], int | None]
    sort_key: Callable[[Record, int], tuple[Any, ...]]  # (record, insertion seq) → key
    number_of: Callable[[Record], Any] = lambda r: None  # Xero document number
    reference_of: Callable[[Record], Any] = lambda r: None  # Xero document Reference


def _hubspot_cursor(rec: Record) -> int | None:
    props = rec.get("properties") or {}
    return any_to_ms(props.get("hs_lastmodifieddate") or rec.get("updatedAt"))


def _field_cursor(field: str) -> Callable[[Record], int | None]:
    return lambda rec: any_to_ms(rec.get(field))


def _day_number(value: Any) -> int:
    """`2026-09-02` → 20260902 (0 when missing), for a descending order by negation."""
    text = str(value or "")[:10].replace("-", "")
    return int(text) if text.isdigit() else 0


def spec_for(system: str, name: str) -> ResourceSpec:
    if system == "hubspot":
        return ResourceSpec(lambda r: str(r["id"]), _hubspot_cursor, lambda r, seq: (int(r["id"]),))
    if system == "harvest":
        # Harvest's documented order: time entries and expenses by spent_date, most recent
        # first; everything else by creation, most recent first. Ties: higher id first.
        if name in ("time_entries", "expenses"):
            key = lambda r, seq: (-_day_number(r.get("spent_date")), -int(r["id"]))
        else:
            key = lambda r, seq: (-(any_to_ms(r.get("created_at")) or 0), -int(r["id"]))
        return ResourceSpec(lambda r: int(r["id"]), _field_cursor("updated_at"), key)
    id_field = XERO_ID_FIELD[name]
    if name == "Journals":
        return ResourceSpec(
            lambda r: r["JournalID"],
            _field_cursor("CreatedDateUTC"),
            lambda r, seq: (int(r["JournalNumber"]),),
        )
    cursor = (lambda r: None) if name == "TaxRates" else _field_cursor("UpdatedDateUTC")
    number_field = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber"}.get(name, "")
    # Other Xero collections keep the fixture's order; new records are appended.
    return ResourceSpec(
        lambda r, f=id_field: r[f],
        cursor,
        lambda r, seq: (seq,),
        lambda r, f=number_field: r.get(f) if f else None,
        (lambda r: r.get("Reference")) if number_field else (lambda r: None),
    )


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (an index key 1 must not stand for 1.0 or True)."""
    return type(a) is type(b) and a == b


def split_number(number: str) -> tuple[str, str]:
    """`INV-0042` → (`INV-`, `0042`): the head before the trailing run of digits."""
    cut = len(number)
    while cut and number[cut - 1].isdigit():
        cut -= 1
    return number[:cut], number[cut:]


class Numbering:
    """The document numbers of a collection as a multiset, with the highest number and
    widest digit run per head (`INV-`), so the next number needs no scan. A head's
    figures are recomputed only after one of its numbers disappeared (a renumbering)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.heads: dict[str, tuple[int, int]] = {}  # head → (highest, width)
        self.stale: set[str] = set()
        self.unreadable = False  # a digit run int() cannot read: callers scan instead

    def add(self, number: str) -> None:
        self.counts[number] = self.counts.get(number, 0) + 1
        head, tail = split_number(number)
        if not tail or head in self.stale:
            return
        try:
            value = int(tail)
        except ValueError:
            self.unreadable = True
            return
        highest, width = self.heads.get(head, (0, 0))
        self.heads[head] = (max(highest, value), max(width, len(tail)))

    def remove(self, number: str) -> None:
        left = self.counts[number] - 1
        if left:
            self.counts[number] = left
            return
        del self.counts[number]
        head, tail = split_number(number)
        if not tail or head in self.stale:
            return
        highest, width = self.heads.get(head, (0, 0))
        try:
            below = int(tail) < highest and len(tail) < width
        except ValueError:
            below = False
        if not below:
            self.stale.add(head)  # it may have been the highest or the widest

    def highest(self, head: str) -> tuple[int, int]:
        """(highest number, widest digit run) of the numbers `head` + digits; (0, 0): none."""
        if head in self.stale:
            self.stale.discard(head)
            self.heads.pop(head, None)
            for number in self.counts:
                if split_number(number)[0] == head:
                    self.add_figures(head, number)
        return self.heads.get(head, (0, 0))

    def add_figures(self, head: str, number: str) -> None:
        tail = number[len(head) :]
        try:
            value = int(tail)
        except ValueError:
            self.unreadable = True
            return
        highest, width = self.heads.get(head, (0, 0))
        self.heads[head] = (max(highest, value), max(width, len(tail)))


class Entry:
    """One record: its JSON bytes, cursor (ms), sort key, and (unless compact) the dict."""

    __slots__ = ("_rec", "alt", "blob", "cursor", "day", "key", "number", "ref", "rid", "seq")

    def __init__(self, rec: Record, spec: ResourceSpec, seq: int, compact: bool) -> None:
        self.seq = seq
        self.set(rec, spec, compact)

    def set(self, rec: Record, spec: ResourceSpec, compact: bool) -> None:
        self.blob: bytes = dumps(rec)
        self.rid: Any = spec.id_of(rec)
        self.cursor: int | None = spec.cursor_of(rec)
        self.key: tuple[Any, ...] = spec.sort_key(rec, self.seq)
        self.day: str | None = rec.get("spent_date")
        self.number: Any = spec.number_of(rec)
        self.ref: Any = spec.reference_of(rec)
        self.alt: bytes | None = None  # a cached variant (e.g. an invoice without LineItems)
        self._rec: Record | None = None if compact else rec

    @property
    def rec(self) -> Record:
        return self._rec if self._rec is not None else orjson.loads(self.blob)


class Resource:
    """A sorted collection. Mutations go through `upsert` and bump `version`."""

    def __init__(self, system: str, name: str, records: Iterable[Record]) -> None:
        self.system = system
        self.name = name
        self.spec = spec_for(system, name)
        self.transform: Transform = None
        self.compact = False
        self._seq = 0
        self.by_id: dict[Any, Entry] = {}
        # Xero documents: entries by number and by Reference (hashable values only; a
        # record with an unhashable one is in `unindexed`), and the numbering.
        self.by_number: dict[Any, dict[Any, Entry]] = {}
        self.by_reference: dict[Any, dict[Any, Entry]] = {}
        self.unindexed: dict[Any, Entry] = {}
        self.numbering = Numbering()
        self.derived: dict[str, tuple[int, Any]] = {}  # name → (version, value); see xero_ledger
        self.property_names: set[str] = set()
        entries = []
        for rec in records:
            if not self.compact and len(entries) >= COMPACT_THRESHOLD:
                self.compact = True  # from here on keep bytes only, and drop earlier dicts
                for entry in entries:
                    entry._rec = None
            entry = Entry(rec, self.spec, self._next_seq(), self.compact)
            entries.append(entry)
            self.by_id[entry.rid] = entry
            self._index(entry)
            if system == "hubspot":
                self.property_names.update((rec.get("properties") or {}).keys())
        entries.sort(key=attrgetter("key"))
        self.entries: list[Entry] = entries
        self.version = 0
        self._cache: OrderedDict[tuple[Any, ...], list[Entry]] = OrderedDict()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, record_id: Any) -> Record | None:
        entry = self.by_id.get(record_id)
        return None if entry is None else entry.rec

    def upsert(self, records: Iterable[Record]) -> None:
        """Insert new records or replace changed ones (same id), keeping the order."""
        added: list[Entry] = []
        rekeyed: list[Entry] = []
        for rec in records:
            rid = self.spec.id_of(rec)
            entry = self.by_id.get(rid)
            if entry is None:
                entry = Entry(rec, self.spec, self._next_seq(), self.compact)
                self.by_id[rid] = entry
                added.append(entry)
                self._index(entry)
            else:
                old_key, old_number, old_ref = entry.key, entry.number, entry.ref
                entry.set(rec, self.spec, self.compact)
                if entry.key != old_key:
                    rekeyed.append(entry)
                if not (_same(old_number, entry.number) and _same(old_ref, entry.ref)):
                    self._unindex(entry, old_number, old_ref)
                    self._index(entry)
            if self.system == "hubspot":
                self.property_names.update((rec.get("properties") or {}).keys())
        if added or rekeyed:
            self.entries = self._reordered(added, rekeyed)
        self.version += 1
        self._cache.clear()

    def _index(self, entry: Entry) -> None:
        if entry.number is None and entry.ref is None:
            return
        if entry.number is not None:
            self.numbering.add(str(entry.number or ""))
        if not (_hashable(entry.number) and _hashable(entry.ref)):
            self.unindexed[entry.rid] = entry
            return
        if entry.number is not None:
            self.by_number.setdefault(entry.number, {})[entry.rid] = entry
        if entry.ref is not None:
            self.by_reference.setdefault(entry.ref, {})[entry.rid] = entry

    def _unindex(self, entry: Entry, number: Any, ref: Any) -> None:
        """Drop `entry` from the indexes under its former `number` and `ref`."""
        if number is None and ref is None:
            return
        if number is not None:
            self.numbering.remove(str(number or ""))
        if self.unindexed.pop(entry.rid, None) is not None:
            return
        for index, value in ((self.by_number, number), (self.by_reference, ref)):
            if value is None:
                continue
            group = index[value]
            del group[entry.rid]
            if not group:
                del index[value]

    def with_number(self, number: Any) -> list[Entry]:
        """Entries whose number equals `number`, in collection order."""
        return self._matching(self.by_number, number, "number")

    def with_reference(self, reference: Any) -> list[Entry]:
        """Entries whose Reference equals `reference`, in collection order."""
        return self._matching(self.by_reference, reference, "ref")

    def with_references(self, references: Iterable[Any]) -> list[Entry]:
        """Entries whose Reference is one of `references`, in collection order."""
        found: dict[int, Entry] = {}
        for reference in references:
            for entry in self._matching(self.by_reference, reference, "ref", ordered=False):
                found[id(entry)] = entry
        return self.in_order(found.values())

    def _matching(
        self, index: dict[Any, dict[Any, Entry]], value: Any, attr: str, ordered: bool = True
    ) -> list[Entry]:
        if value is None or not _hashable(value):
            return [e for e in self.entries if getattr(e, attr) == value]
        found = list((index.get(value) or {}).values())
        found += [e for e in self.unindexed.values() if getattr(e, attr) == value]
        return self.in_order(found) if ordered else found

    def in_order(self, entries: Iterable[Entry]) -> list[Entry]:
        """`entries` in the collection's order (Xero documents: keys are unique)."""
        return sorted(entries, key=attrgetter("key"))

    def _reordered(self, added: list[Entry], rekeyed: list[Entry]) -> list[Entry]:
        """A new sorted list (copy-on-write: a reader keeps the list it holds)."""
        by_key = attrgetter("key")
        appended = not rekeyed and (not self.entries or self.entries[-1].key <= added[0].key)
        if appended and all(a.key <= b.key for a, b in itertools.pairwise(added)):
            return [*self.entries, *added]  # appended in order (new Xero documents)
        if len(added) + len(rekeyed) > max(64, len(self.entries) // 20):
            entries = [*self.entries, *added]
            entries.sort(key=by_key)
            return entries
        if rekeyed:
            out = {id(e) for e in rekeyed}
            entries = [e for e in self.entries if id(e) not in out]
        else:
            entries = list(self.entries)
        for entry in (*rekeyed, *added):
            bisect.insort_right(entries, entry, key=by_key)
        return entries

    def set_transform(self, transform: Transform) -> None:
        """Serve every record through `transform` from now on (None: as stored)."""
        self.transform = transform
        for entry in self.entries:
            entry.alt = None
        self.version += 1
        self._cache.clear()

    def shaped(self, rec: Record) -> Record:
        """A record as served (with any drift applied)."""
        return rec if self.transform is None else self.transform(rec)

    def served(self, entry: Entry) -> bytes:
        """The bytes a page carries for `entry` (drift applied at serving time)."""
        if self.transform is None:
            return entry.blob
        return orjson.dumps(self.transform(entry.rec))

    def select(
        self,
        key: tuple[Any, ...],
        keep: Callable[[Entry], bool] | None,
        arrange: Callable[[list[Entry]], list[Entry]] | None = None,
        candidates: Callable[[], list[Entry]] | None = None,
    ) -> list[Entry]:
        """Entries passing `keep` (then re-ordered by `arrange`), cached per `key` until the
        next mutation, so paging through a filtered result scans the collection once.
        `candidates`: a superset of the entries `keep` passes, in collection order (from an
        index), tested instead of the whole collection."""
        if not key:
            return self.entries
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        pool = self.entries if candidates is None else candidates()
        result = pool if keep is None else [e for e in pool if keep(e)]
        if arrange is not None:
            result = arrange(result)
        self._cache[key] = result
        if len(self._cache) > 32:
            self._cache.popitem(last=False)
        return result

    def max_cursor(self) -> int:
        return max((e.cursor for e in self.entries if e.cursor is not None), default=0)


_BOUNDARY = re.compile(rb"\}\s*,\s*\{")
CHUNK_BYTES = 16 * 1024 * 1024


def read_records(path: Path) -> Iterator[Record]:
    """The records of a JSON array file, parsed in chunks of about CHUNK_BYTES so a 1 GB
    file never exists as one list of dicts. A chunk ends at a `},{` candidate; if that
    was not between two top-level records (it sat in a nested list or a string), the
    chunk does not parse and is extended to the next candidate."""
    data = path.read_bytes()
    start = len(data) - len(data.lstrip())
    end = len(data.rstrip())
    if data[start : start + 1] != b"[" or data[end - 1 : end] != b"]":
        raise TypeError(f"{path}: expected a JSON array of records")
    pos, end = start + 1, end - 1
    target = pos + CHUNK_BYTES
    while True:
        match = _BOUNDARY.search(data, target, end) if target < end else None
        stop = match.start() + 1 if match else end
        try:
            records = orjson.loads(b"[" + data[pos:stop] + b"]")
        except orjson.JSONDecodeError:
            if match is None:
                raise
            target = match.end()
            continue
        yield from records
        if match is None:
            return
        pos = match.end() - 1
        target = pos + CHUNK_BYTES


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
                records = read_records(path) if path.exists() else iter(())
                resources[(system, name)] = Resource(system, name, records)
        return cls(resources)

    def get(self, system: str, name: str) -> Resource:
        return self.resources[(system, name)]

    def now_ms(self) -> int:
        """Wall-clock ms, but always later than every timestamp already in the world, so a
        write or change is seen by any incremental cursor taken before it."""
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms
