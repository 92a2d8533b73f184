"""Serve the Streamlit dashboard on loopback, reading the published copy (taktgeber.publish)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from taktgeber.config import REPO_ROOT
from taktgeber.publish import PUBLISHED_ENV, default_published_dir

APP = REPO_ROOT / "dashboards" / "app.py"


def command(port: int = 8501) -> list[str]:
    """The `streamlit run` command line: headless, loopback only, no telemetry."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
    ]


def serve(port: int = 8501, published: Path | None = None) -> None:
    """Run the dashboard until interrupted; `published` is the folder `publish` writes to."""
    env = dict(os.environ)
    env[PUBLISHED_ENV] = str((published or default_published_dir()).resolve())
    print(f"taktgeber dashboard on http://127.0.0.1:{port} (reading {env[PUBLISHED_ENV]})")
    process = subprocess.Popen(command(port), env=env, cwd=REPO_ROOT)
    received: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        # Only signal here: the main thread is inside process.wait(), which returns once
        # streamlit exits (waiting again inside the handler would deadlock on its lock).
        received.append(signum)
        _terminate(process)

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if in_main_thread else None
    try:
        process.wait()
    except KeyboardInterrupt:
        _terminate(process)
        process.wait()
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    if received:
        raise SystemExit(128 + received[0])


def _terminate(process: subprocess.Popen) -> None:
    """Ask streamlit to stop once (a second signal stalls its shutdown); kill it after 10 s."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        killer = threading.Timer(10, process.kill)
        killer.daemon = True
        killer.start()
