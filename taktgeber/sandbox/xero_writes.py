"""Xero writes (placeholder until invoices land)."""

from __future__ import annotations

from taktgeber.sandbox.http import Request, Response
from taktgeber.sandbox.store import World
from taktgeber.sandbox.xero import not_found


def handle(world: World, request: Request, name: str, rest: list[str]) -> Response:
    return not_found()
