"""Serve the Streamlit dashboard on loopback, reading the published copy (taktgeber.publish)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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

    def stop(signum: int, _frame: object) -> None:
        process.terminate()
        process.wait(timeout=10)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
    finally:
        signal.signal(signal.SIGTERM, previous)
