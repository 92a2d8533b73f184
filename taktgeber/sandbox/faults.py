"""Seeded fault injection: the `--faults SPEC` language.

SPEC is a comma-separated list of `kind=value`, each optionally prefixed by a system
(`xero.5xx=0.1` applies to Xero only and overrides the global rate there):

- `429=P`          answer 429 with the system's own body and headers (probability P)
- `5xx=P`          answer 500, 502, 503 or 504 with the system's error body
- `latency=P:S`    sleep S seconds before answering (probability P; `latency=P` sleeps 1 s)
- `drop=P`         process a write (Xero PUT/POST), then close the socket without answering
- `truncate=P`     cut a list page's body in half (mid-JSON; Content-Length matches the cut)
- `drift=RULE|RULE` schema drift on every record served, not random. RULE is
  `system/resource:extra_field[:name]` (adds `name`, default `sandbox_drift_field`,
  value "drift") or `system/resource:field:type` with type one of string, number, int,
  null, bool, object, array (a dotted field reaches into nested objects; for HubSpot the
  field is a property).

Every request draws the same sequence of random numbers from one `random.Random(seed)`,
so a single-threaded client sees the same faults on every run with the same seed."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from taktgeber.sandbox.http import Response, json_response
from taktgeber.sandbox.ratelimits import injected_429
from taktgeber.sandbox.store import SYSTEMS, Record, World

KINDS = ("429", "5xx", "latency", "drop", "truncate")
SERVER_ERRORS = (500, 502, 503, 504)
DEFAULT_LATENCY_S = 1.0
EXTRA_FIELD = "sandbox_drift_field"
TYPES = ("string", "number", "int", "null", "bool", "object", "array")


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class DriftRule:
    system: str
    resource: str
    field: str  # the extra field's name, or the field whose type changes
    new_type: str | None  # None: add an extra field


@dataclass
class Decision:
    latency: float = 0.0
    status: int | None = None
    drop: bool = False
    truncate: bool = False

    def response(self, system: str) -> Response:
        if self.status == 429:
            return injected_429(system)
        return server_error(system, self.status or 500)


def server_error(system: str, status: int) -> Response:
    if system == "hubspot":
        body: Record = {
            "status": "error",
            "message": "internal error",
            "correlationId": "00000000-0000-4000-8000-000000000500",
            "category": "INTERNAL_ERROR",
        }
    elif system == "harvest":
        body = {"status": status, "error": "Internal Server Error"}
    else:
        body = {"Type": None, "Title": "Internal Server Error", "Status": status, "Detail": None}
    return json_response(status, body)


@dataclass
class FaultPlan:
    rates: dict[str, dict[str, float]] = field(default_factory=dict)  # system|"*" → kind → P
    latency_s: dict[str, float] = field(default_factory=dict)  # system|"*" → seconds
    drift: list[DriftRule] = field(default_factory=list)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0) -> FaultPlan:
        plan = cls(seed=seed)
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            if not sep:
                raise FaultSpecError(f"fault {item!r}: expected kind=value")
            scope, _, kind = name.strip().rpartition(".")
            scope = scope or "*"
            if scope != "*" and scope not in SYSTEMS:
                raise FaultSpecError(f"fault {item!r}: unknown system {scope!r}")
            if kind == "drift":
                plan.drift.extend(_parse_drift(value))
                continue
            if kind not in KINDS:
                raise FaultSpecError(
                    f"fault {item!r}: kind must be one of {', '.join(KINDS)}, drift"
                )
            probability, _, extra = value.partition(":")
            try:
                p = float(probability)
                if kind == "latency":
                    plan.latency_s[scope] = float(extra) if extra else DEFAULT_LATENCY_S
            except ValueError as exc:
                raise FaultSpecError(f"fault {item!r}: not a number") from exc
            if not 0.0 <= p <= 1.0:
                raise FaultSpecError(f"fault {item!r}: probability must be within 0..1")
            plan.rates.setdefault(scope, {})[kind] = p
        return plan

    def rate(self, system: str, kind: str) -> float:
        specific = self.rates.get(system, {})
        return specific[kind] if kind in specific else self.rates.get("*", {}).get(kind, 0.0)

    def decide(self, system: str) -> Decision:
        if not self.rates:
            return Decision()
        with self._lock:
            draws = [self._rng.random() for _ in range(6)]
        decision = Decision()
        if draws[0] < self.rate(system, "latency"):
            decision.latency = self.latency_s.get(system, self.latency_s.get("*", 0.0))
        if draws[1] < self.rate(system, "429"):
            decision.status = 429
        elif draws[2] < self.rate(system, "5xx"):
            decision.status = SERVER_ERRORS[int(draws[5] * len(SERVER_ERRORS))]
        decision.drop = draws[3] < self.rate(system, "drop")
        decision.truncate = draws[4] < self.rate(system, "truncate")
        return decision

    def apply_drift(self, world: World) -> None:
        """Install the drift rules as serving transforms (and remove earlier ones)."""
        by_resource: dict[tuple[str, str], list[DriftRule]] = {}
        for rule in self.drift:
            by_resource.setdefault((rule.system, rule.resource), []).append(rule)
        for key, resource in world.resources.items():
            rules = by_resource.get(key)
            resource.set_transform(None if not rules else _transform(key[0], rules))


def _parse_drift(value: str) -> list[DriftRule]:
    rules = []
    for text in value.split("|"):
        parts = text.strip().split(":")
        target = parts[0].split("/")
        if len(target) != 2 or target[0] not in SYSTEMS or target[1] not in SYSTEMS[target[0]]:
            raise FaultSpecError(
                f"drift {text!r}: expected system/resource, e.g. harvest/time_entries"
            )
        if len(parts) >= 2 and parts[1] == "extra_field":
            name = parts[2] if len(parts) > 2 and parts[2] else EXTRA_FIELD
            rules.append(DriftRule(target[0], target[1], name, None))
        elif len(parts) == 3 and parts[2] in TYPES:
            rules.append(DriftRule(target[0], target[1], parts[1], parts[2]))
        else:
            raise FaultSpecError(
                f"drift {text!r}: expected :extra_field[:name] or :field:type ({', '.join(TYPES)})"
            )
    return rules


def _convert(value: Any, new_type: str) -> Any:
    if new_type == "null":
        return None
    if value is None:
        return None
    if new_type == "string":
        return str(value).lower() if isinstance(value, bool) else str(value)
    if new_type == "number":
        return float(value)
    if new_type == "int":
        return int(float(value))
    if new_type == "bool":
        return bool(value)
    if new_type == "object":
        return {"value": value}
    return [value]


def _transform(system: str, rules: list[DriftRule]) -> Callable[[Record], Record]:
    def apply(rec: Record) -> Record:
        out = dict(rec)  # copy only along the paths we change: 1 M records stay cheap
        target = out
        if system == "hubspot":
            target = out["properties"] = dict(out.get("properties") or {})
        for rule in rules:
            if rule.new_type is None:
                target[rule.field] = "drift"
                continue
            *parents, leaf = rule.field.split(".")
            node: dict[str, Any] | None = target
            for part in parents:
                child = node.get(part) if node is not None else None
                if not isinstance(child, dict):
                    node = None
                    break
                node[part] = child = dict(child)
                node = child
            if node is not None and leaf in node:
                try:
                    node[leaf] = _convert(node[leaf], rule.new_type)
                except (TypeError, ValueError):
                    node[leaf] = str(node[leaf])
        return out

    return apply
