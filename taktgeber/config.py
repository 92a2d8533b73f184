"""Where things live (the warehouse file, the sandbox's default address, the repo root),
and the error for a setting taktgeber cannot use."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "taktgeber.duckdb"
DEFAULT_SANDBOX_PORT = 8765


class ConfigError(ValueError):
    """A setting (an environment variable, an option) with a value taktgeber cannot use;
    the message names it and what to set instead. The CLI prints it without a traceback."""


def warehouse_path() -> Path:
    """The DuckDB warehouse file: `TAKTGEBER_WAREHOUSE` or `warehouse/taktgeber.duckdb`."""
    return Path(os.environ.get("TAKTGEBER_WAREHOUSE", DEFAULT_WAREHOUSE)).resolve()


def sandbox_base_url(port: int = DEFAULT_SANDBOX_PORT) -> str:
    return f"http://127.0.0.1:{port}"
