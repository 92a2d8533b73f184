"""The sandbox: a local emulator of HubSpot CRM v3, Harvest v2 and Xero, serving a world
(fixture folder) on loopback. See docs/sandbox.md."""

from __future__ import annotations

import os
from pathlib import Path

from taktgeber.sandbox.credentials import (
    HARVEST_ACCOUNT_ID,
    HARVEST_TOKEN,
    HUBSPOT_TOKEN,
    RATE_LIMITS_ENV,
    XERO_TENANT_ID,
    XERO_TOKEN,
)
from taktgeber.sandbox.faults import FaultSpecError
from taktgeber.sandbox.server import Sandbox

__all__ = [
    "HARVEST_ACCOUNT_ID",
    "HARVEST_TOKEN",
    "HUBSPOT_TOKEN",
    "XERO_TENANT_ID",
    "XERO_TOKEN",
    "FaultSpecError",
    "Sandbox",
    "serve_forever",
]


def serve_forever(
    world: Path,
    port: int,
    faults: str | None = None,
    fault_seed: int = 0,
    rate_limits: bool | None = None,
    host: str = "127.0.0.1",
) -> None:
    """Serve `world` until interrupted (the `taktgeber sandbox` command). Rate limits are
    on when `rate_limits` is true, or when it is None and TAKTGEBER_SANDBOX_RATE_LIMITS=1."""
    if rate_limits is None:
        rate_limits = os.environ.get(RATE_LIMITS_ENV, "") in ("1", "true", "yes")
    sandbox = Sandbox(
        Path(world),
        host=host,
        port=port,
        faults=faults,
        fault_seed=fault_seed,
        rate_limits=rate_limits,
    )
    sandbox.serve_forever()
