"""`taktgeber push`: one run, or `--every 15m` on a schedule, never two at once.

A run holds an exclusive `flock` on `<warehouse>.push.lock`; the kernel releases it when
the process ends, however it ends, so a killed run never blocks the next. A run that
finds the lock taken does not push (exit 1; a scheduled tick is skipped instead).
Exit codes: 0 success, 2 partial (dead letters, refusals, unconfirmed drafts), 1 failure
(gate refused, lock taken, nothing pushed).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from taktgeber.config import warehouse_path
from taktgeber.push.job import EXIT_FAILURE, INVOICE_STATUSES, PushSettings, push
from taktgeber.push.xero import Backoff

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_interval(text: str) -> float:
    """`15m`, `1h`, `90s` or a number of seconds → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"--every {text!r}: use e.g. 15m, 1h or 90s")
    value = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    if value <= 0:
        raise argparse.ArgumentTypeError("--every must be positive")
    return value


class LockTaken(RuntimeError):
    pass


@contextmanager
def run_lock(warehouse: Path) -> Iterator[Path]:
    """Exclusive, non-blocking lock against overlapping push runs on one warehouse."""
    path = Path(f"{warehouse}.push.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockTaken(
                f"another push run holds {path}; wait for it to finish (runs never overlap)"
            ) from exc
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="report, push nothing")
    parser.add_argument("--every", type=parse_interval, default=None, help="e.g. 15m")
    parser.add_argument("--status", choices=INVOICE_STATUSES, default="AUTHORISED")
    parser.add_argument("--override-gate", action="store_true")
    parser.add_argument("--warehouse", default=None, help="DuckDB file (default: config)")
    parser.add_argument("--base-url", default=None, help="Xero root, e.g. http://127.0.0.1:8765")
    parser.add_argument("--target-dir", default=None, help="dbt target folder (run_results.json)")
    parser.add_argument("--max-runs", type=int, default=None, help="stop --every after N runs")
    parser.add_argument("--backoff-base", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--backoff-cap", type=float, default=30.0, help=argparse.SUPPRESS)
    parser.add_argument("--calls-per-minute", type=int, default=60, help=argparse.SUPPRESS)
    parser.add_argument("--settle-seconds", type=float, default=2.0, help=argparse.SUPPRESS)
    # The control experiment: no Idempotency-Key, no lookup by Reference. Never in production.
    parser.add_argument("--no-dedup", action="store_true", help=argparse.SUPPRESS)


def _once(args: argparse.Namespace, echo: Callable[[str], None]) -> int:
    warehouse = Path(args.warehouse) if args.warehouse else warehouse_path()
    settings = PushSettings(
        backoff=Backoff(base=args.backoff_base, cap=args.backoff_cap),
        calls_per_minute=args.calls_per_minute,
        settle_seconds=args.settle_seconds,
        dedup=not args.no_dedup,
        target_dir=Path(args.target_dir) if args.target_dir else None,
    )
    try:
        with run_lock(warehouse):
            run = push(
                warehouse=warehouse,
                base_url=args.base_url,
                status=args.status,
                dry_run=args.dry_run,
                override_gate=args.override_gate,
                settings=settings,
            )
    except LockTaken as exc:
        echo(f"push not started: {exc}")
        return EXIT_FAILURE
    if run.report is not None:
        echo(run.report.text())
    echo(run.summary())
    return run.exit_code


def run_push_command(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Run `taktgeber push` from parsed arguments (see `add_arguments`)."""
    if args.every is None:
        return _once(args, echo)
    runs = 0
    code = 0
    while args.max_runs is None or runs < args.max_runs:
        started = time.monotonic()
        code = _once(args, echo)
        runs += 1
        if args.max_runs is not None and runs >= args.max_runs:
            break
        time.sleep(max(0.0, args.every - (time.monotonic() - started)))
    return code


def cli_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="taktgeber push", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_push_command(args, echo=lambda text: print(text, flush=True))


if __name__ == "__main__":
    sys.exit(cli_main())
