"""Compare the warehouse's open findings with a world's answer key (docs/answer-key.md).

Shared by the end-to-end test and the CLI: ``compare_findings(con, answer_key)`` returns
every difference in plain words; an empty list means the warehouse found exactly the
planted findings (check name, keys and EUR amount at stake).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import duckdb

from taktgeber.money import round_money, to_decimal

FindingKey = tuple[str, str]


def compare_findings(con: duckdb.DuckDBPyConnection, answer_key: Mapping[str, Any]) -> list[str]:
    """Differences between ``fct_exceptions`` (open) and ``answer_key["findings"]``."""
    expected = {_key(f["check_name"], f["keys"]): f for f in answer_key.get("findings", [])}
    rows = con.execute(
        """
        select check_name, finding_keys, amount_at_stake_eur, dunning_level
        from main.fct_exceptions
        where status = 'open'
        """
    ).fetchall()
    actual: dict[FindingKey, tuple[Decimal, int | None]] = {}
    differences: list[str] = []
    for check_name, keys_json, amount_eur, dunning_level in rows:
        key = _key(check_name, json.loads(keys_json))
        if key in actual:
            differences.append(f"duplicate finding in the warehouse: {_describe(key)}")
        actual[key] = (round_money(to_decimal(amount_eur)), dunning_level)

    for key in sorted(expected.keys() - actual.keys()):
        amount = _amount(expected[key])
        differences.append(f"missing: {_describe(key)} (answer key: {amount} EUR at stake)")
    for key in sorted(actual.keys() - expected.keys()):
        differences.append(f"unexpected: {_describe(key)} ({actual[key][0]} EUR at stake)")
    for key in sorted(expected.keys() & actual.keys()):
        want = _amount(expected[key])
        got, level = actual[key]
        if want != got:
            differences.append(
                f"amount differs: {_describe(key)}: answer key {want} EUR, warehouse {got} EUR"
            )
        want_level = expected[key].get("dunning_level")
        if want_level is not None and level != int(want_level):
            differences.append(
                f"dunning level differs: {_describe(key)}: answer key {want_level}, "
                f"warehouse {level}"
            )
    return differences


def _key(check_name: str, keys: Mapping[str, Any]) -> FindingKey:
    normalised = {name: _id(name, value) for name, value in keys.items()}
    return check_name, json.dumps(normalised, sort_keys=True)


def _id(name: str, value: Any) -> Any:
    """Harvest ids are integers; HubSpot, Xero ids and draft keys are text."""
    if value is None:
        return None
    if name.startswith("harvest_"):
        return int(value)
    return str(value)


def _amount(finding: Mapping[str, Any]) -> Decimal:
    return round_money(to_decimal(finding["amount_at_stake_eur"]))


def _describe(key: FindingKey) -> str:
    check_name, keys = key
    pairs = ", ".join(f"{name}={value}" for name, value in json.loads(keys).items())
    return f"{check_name} [{pairs}]"
