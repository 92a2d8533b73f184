"""A small parser for Xero's `where=` filter: comparisons joined by AND / OR, with
parentheses, e.g. `Type=="ACCREC" AND (Reference=="TG-1" OR Reference=="TG-2")` or
`UpdatedDateUTC>=DateTime(2026,7,17,12,0,0)`. Also `Field.Contains("x")`,
`.StartsWith`, `.EndsWith`, `Guid("…")`, numbers, true/false, null."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from taktgeber.sandbox.timefmt import iso_to_ms, xero_to_ms

Predicate = Callable[[dict[str, Any]], bool]
# What a clause implies about plain fields: a record it passes has, for each field named,
# a value in the set (`Reference=="A" OR Reference=="B"` → {"Reference": {"A", "B"}}), so
# an index on the field can hand over the candidates instead of a full scan.
Implied = dict[str, frozenset[Any]]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|>=|<=|>|<|&&|\|\|)
  | (?P<paren>[()])
  | (?P<comma>,)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


class WhereError(ValueError):
    pass


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise WhereError(f"cannot parse where clause at: {text[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def field_value(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _normalise(value: Any) -> Any:
    """Xero `/Date()/` strings compare as ms; everything else as is."""
    if isinstance(value, str) and value.startswith("/Date("):
        return xero_to_ms(value)
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value and token[1] != value):
            raise WhereError(f"unexpected token {token!r} in where clause")
        self.pos += 1
        return token

    def _is_word(self, word: str) -> bool:
        """The next token is the connective `word` (AND / OR, or && / ||)."""
        token = self.peek()
        if token is None:
            return False
        if token[0] == "name":
            return token[1].upper() == word
        return token[0] == "op" and token[1] == ("&&" if word == "AND" else "||")

    def parse(self) -> tuple[Predicate, Implied]:
        predicate, implied = self.parse_or()
        if self.peek() is not None:
            raise WhereError(f"unexpected token {self.peek()!r} in where clause")
        return predicate, implied

    def parse_or(self) -> tuple[Predicate, Implied]:
        parts = [self.parse_and()]
        while self._is_word("OR"):
            self.pos += 1
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        preds = [p for p, _ in parts]
        # A field is implied by the OR only if every branch implies it: the union.
        shared = set.intersection(*(set(i) for _, i in parts))
        implied = {f: frozenset().union(*(i[f] for _, i in parts)) for f in shared}
        return (lambda r: any(p(r) for p in preds)), implied

    def parse_and(self) -> tuple[Predicate, Implied]:
        parts = [self.parse_atom()]
        while self._is_word("AND"):
            self.pos += 1
            parts.append(self.parse_atom())
        if len(parts) == 1:
            return parts[0]
        preds = [p for p, _ in parts]
        implied: Implied = {}
        for _, each in parts:  # every part holds: the intersection
            for f, values in each.items():
                implied[f] = implied[f] & values if f in implied else values
        return (lambda r: all(p(r) for p in preds)), implied

    def parse_atom(self) -> tuple[Predicate, Implied]:
        token = self.peek()
        if token == ("paren", "("):
            self.pos += 1
            inner = self.parse_or()
            self.take("paren", ")")
            return inner
        if token is not None and token[0] == "name" and token[1].upper() == "NOT":
            self.pos += 1
            negated, _ = self.parse_atom()
            return (lambda r: not negated(r)), {}
        name = self.take("name")[1]
        for method in ("Contains", "StartsWith", "EndsWith"):
            if name.endswith("." + method):
                path = name[: -len(method) - 1]
                self.take("paren", "(")
                needle = str(self.parse_value())
                self.take("paren", ")")
                return _method(path, method, needle), {}
        op = self.take("op")[1]
        value = self.parse_value()
        return _compare(name, op, value), _implied(name, op, value)

    def parse_value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace('\\"', '"')
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "name":
            upper = text.upper()
            if upper in ("TRUE", "FALSE"):
                return upper == "TRUE"
            if upper == "NULL":
                return None
            if upper in ("DATETIME", "DATE", "GUID"):
                self.take("paren", "(")
                args: list[Any] = []
                while self.peek() != ("paren", ")"):
                    if self.peek() == ("comma", ","):
                        self.pos += 1
                        continue
                    args.append(self.parse_value())
                self.take("paren", ")")
                if upper == "GUID":
                    return str(args[0]).lower()
                if len(args) == 1 and isinstance(args[0], str):
                    return iso_to_ms(args[0])
                numbers = [int(a) for a in args] + [0] * (6 - len(args))
                return int(datetime(*numbers[:6], tzinfo=UTC).timestamp() * 1000)
        raise WhereError(f"unexpected value {text!r} in where clause")


def _implied(path: str, op: str, wanted: Any) -> Implied:
    """`Field=="text"` passes only records whose stored value is exactly "text" (a stored
    `/Date()/` string compares as ms, never equal to text); fields ending in ID compare
    case-blind and nested paths are not indexed, so they imply nothing."""
    if op == "==" and isinstance(wanted, str) and "." not in path and not path.endswith("ID"):
        return {path: frozenset((wanted,))}
    return {}


def _compare(path: str, op: str, wanted: Any) -> Predicate:
    def test(record: dict[str, Any]) -> bool:
        value = _normalise(field_value(record, path))
        if isinstance(wanted, str) and isinstance(value, str) and path.endswith("ID"):
            value = value.lower()
        if op == "==":
            return bool(value == wanted)
        if op == "!=":
            return bool(value != wanted)
        if value is None or wanted is None:
            return False
        try:
            if op == ">=":
                return bool(value >= wanted)
            if op == "<=":
                return bool(value <= wanted)
            if op == ">":
                return bool(value > wanted)
            return bool(value < wanted)
        except TypeError:
            return False

    return test


def _method(path: str, method: str, needle: str) -> Predicate:
    def test(record: dict[str, Any]) -> bool:
        value = field_value(record, path)
        if not isinstance(value, str):
            return False
        if method == "Contains":
            return needle in value
        if method == "StartsWith":
            return value.startswith(needle)
        return value.endswith(needle)

    return test


def parse_where(text: str) -> Predicate:
    """Compile a where clause; raises `WhereError` when it cannot be read."""
    return _Parser(text).parse()[0]


def parse_where_implied(text: str) -> tuple[Predicate, Implied]:
    """The compiled clause and what it implies about plain fields (see `Implied`)."""
    return _Parser(text).parse()
