"""The invoice push job (DESIGN.md §9): ready drafts → Xero invoices, exactly once.

Public API: `push`, `PushRun`, `PushSettings`, `export_ledger`, `import_ledger`,
`cli_main`, `run_push_command`, `add_arguments`, `check_gate`. See docs/push.md.
"""

from __future__ import annotations

from taktgeber.push.command import add_arguments, cli_main, run_push_command
from taktgeber.push.gate import check_gate
from taktgeber.push.job import PushRun, PushSettings, push
from taktgeber.push.ledger_json import export_ledger, import_ledger

__all__ = [
    "PushRun",
    "PushSettings",
    "add_arguments",
    "check_gate",
    "cli_main",
    "export_ledger",
    "import_ledger",
    "push",
    "run_push_command",
]
