"""The request pipeline shared by the three emulators:
route → auth → rate limits → injected faults → handler → faults on the answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType

from taktgeber.sandbox import harvest, hubspot, xero
from taktgeber.sandbox.faults import FaultPlan
from taktgeber.sandbox.http import Request, Response, json_response
from taktgeber.sandbox.ratelimits import RateLimiter
from taktgeber.sandbox.store import World

_SYSTEMS: dict[str, ModuleType] = {"hubspot": hubspot, "harvest": harvest, "xero": xero}


def system_of(path: str) -> str | None:
    for name in _SYSTEMS:
        if path == f"/{name}" or path.startswith(f"/{name}/"):
            return name
    return None


class App:
    """Callable HTTP application over one `World`."""

    def __init__(self, world: World, rate_limits: bool = False) -> None:
        self.world = world
        self.faults = FaultPlan.parse(None, 0)
        self.limiter = RateLimiter(enabled=rate_limits)

    def __call__(self, request: Request) -> Response:
        system = system_of(request.path)
        if system is None:
            return json_response(404, {"message": "Unknown path: use /hubspot, /harvest or /xero"})
        module = _SYSTEMS[system]
        denied: Response | None = module.check_auth(request)
        if denied is not None:
            return denied
        search = system == "hubspot" and hubspot.is_search(request)
        admitted = self.limiter.admit(system, search=search)
        try:
            if admitted.rejection is not None:
                return admitted.rejection
            response = self._serve(system, module, request)
            response.headers.update(admitted.headers)
            return response
        finally:
            admitted.release()

    def _serve(self, system: str, module: ModuleType, request: Request) -> Response:
        decision = self.faults.decide(system)
        if decision.latency:
            time.sleep(decision.latency)
        if decision.status is not None:
            return decision.response(system)
        handler: Callable[..., Response] = module.handle
        with self.world.lock:
            response = handler(self.world, request)
        if decision.drop and response.committed_write:
            response.drop = True  # the write is committed; the client never hears back
        elif decision.truncate and response.is_page and response.status == 200:
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response
