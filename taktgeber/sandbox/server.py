"""`Sandbox`: the world, the request pipeline and the HTTP server, usable in-process."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from taktgeber.sandbox.app import App
from taktgeber.sandbox.faults import FaultPlan
from taktgeber.sandbox.http import make_server
from taktgeber.sandbox.store import Record, World


class Sandbox:
    """Serve a fixture folder as HubSpot (/hubspot), Harvest (/harvest) and Xero (/xero).

    Use as a context manager; the server runs in a background thread. Port 0 picks a free
    port; `base_url` tells which."""

    def __init__(
        self,
        world: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: str | None = None,
        fault_seed: int = 0,
        rate_limits: bool = False,
    ) -> None:
        self.world_dir = Path(world)
        self.host = host
        self.port = port
        self.world = World.load(self.world_dir)
        self.app = App(self.world, rate_limits=rate_limits)
        self.set_faults(faults, fault_seed)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Sandbox:
        self._server = make_server(self.host, self.port, self.app)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="taktgeber-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Blocking: serve until Ctrl-C (the CLI path)."""
        started = time.monotonic()
        self.start()
        counts = {f"{s}/{r}": len(res) for (s, r), res in self.world.resources.items()}
        print(f"taktgeber sandbox serving {self.world_dir} at {self.base_url}", file=sys.stderr)
        print(
            "  records: " + ", ".join(f"{k}={v}" for k, v in counts.items() if v),
            file=sys.stderr,
        )
        print(
            f"  /hubspot, /harvest/v2, /xero/api.xro/2.0 (ready in"
            f" {time.monotonic() - started:.1f}s; Ctrl-C stops)",
            file=sys.stderr,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def set_faults(self, spec: str | None, seed: int = 0) -> None:
        """Replace the fault plan (None: no faults). Raises FaultSpecError on a bad spec."""
        plan = FaultPlan.parse(spec, seed)
        with self.world.lock:
            plan.apply_drift(self.world)
            self.app.faults = plan

    def set_rate_limits(self, enabled: bool) -> None:
        self.app.limiter.enabled = enabled
        self.app.limiter.reset()

    def records(self, system: str, resource: str) -> list[Record]:
        """The current stored records of one resource, in serving order."""
        with self.world.lock:
            return [e.rec for e in self.world.get(system, resource).entries]

    def advance(
        self, seed: int, new: int = 5, changed: int = 5, paid: int = 0
    ) -> dict[str, dict[str, list[Any]]]:
        """Add `new` and change `changed` records per resource, and pay `paid` open sales
        invoices in full, deterministically by `seed`.
        Returns {"system/resource": {"added": [ids], "changed": [ids]}}."""
        from taktgeber.sandbox.advance import advance

        with self.world.lock:
            return advance(self.world, seed, new, changed, paid)
