"""Refuse type changes on dlt's dict path.

dlt coerces quietly where it can (a number into a text column, `"12.5"` into a decimal),
so a changed type would pass unnoticed. Before extraction, every record of a table is
checked against the column types loaded before; a value of another JSON kind raises
:class:`SchemaDriftError` naming source, table, column and record. New fields pass (they
become new columns). Arrow tables are checked when they are built (`common.to_arrow`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pipelines.common import SchemaDriftError, column_name, flatten

_NUMBER = (int, float, Decimal)
_ACCEPTS: dict[str, tuple[type, ...]] = {
    "text": (str,),
    "bigint": (int,),
    "double": _NUMBER,
    "decimal": _NUMBER,
    "bool": (bool,),
    "timestamp": (str,),
    "date": (str,),
    "time": (str,),
}
_KEYS = ("id", "contact_id", "invoice_id", "credit_note_id", "payment_id", "account_id", "tax_type")


def _record_key(row: Mapping[str, Any]) -> str:
    for key in _KEYS:
        if row.get(key) is not None:
            return f"{key}={row[key]!r}"
    return "(no id)"


def check_record(source: str, table: str, columns: Mapping[str, str], record: Any) -> None:
    """Raise if a field of `record` holds another kind of value than its loaded column."""
    if isinstance(record, dict):
        _check(source, table, columns, record, "", record)


def _check(
    source: str,
    table: str,
    columns: Mapping[str, str],
    node: Mapping[str, Any],
    prefix: str,
    record: Mapping[str, Any],
) -> None:
    for key, value in node.items():
        name = prefix + column_name(key)
        if value is None:
            continue
        data_type = columns.get(name)
        if isinstance(value, dict) and data_type is None:
            _check(source, table, columns, value, name + "__", record)
            continue
        if data_type is None:
            if not isinstance(value, list) and any(c.startswith(name + "__") for c in columns):
                _refuse(source, table, name, value, "a nested object", record)
            continue
        accepted = _ACCEPTS.get(data_type)
        if accepted is None:
            continue
        if isinstance(value, bool) and bool not in accepted or not isinstance(value, accepted):
            _refuse(source, table, name, value, data_type, record)


def _refuse(
    source: str, table: str, name: str, value: Any, was: str, record: Mapping[str, Any]
) -> None:
    raise SchemaDriftError(
        f"{source}: table {table}, column {name} changed type: record "
        f"{_record_key(flatten(record))} has {value!r} ({type(value).__name__}) where "
        f"{was} was loaded before. The load was stopped; previously loaded data is unchanged."
    )


def strict_types(
    source: str, table: str, known: Mapping[str, Mapping[str, str]]
) -> Callable[[Any], Any]:
    """A dlt map step checking each record of `table` against `known[table]` column types."""
    columns = known.get(table, {})

    def check(item: Any) -> Any:
        if columns:
            check_record(source, table, columns, item)
        return item

    return check
