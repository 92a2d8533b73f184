"""Push throughput with Xero's limits on: invoices per minute.

Xero allows 60 calls a minute of ≤ 50 invoices each, so 3,000 invoices/min is the
ceiling; the target is ≥ 95 % of it. The sandbox runs with its rate limiter on
(60/rolling minute, 5 concurrent, 5,000/day) in its own process, as `taktgeber sandbox`
serves it (`--in-process` runs it in the job's process instead); the job uses its
defaults.

    python -m benchmarks.bench_push [--drafts 6000] [--in-process]

Reports the overall rate (start to finish, so the first minute's burst of 60 calls
flatters it) and the steady-state rate: the invoices of every call after the first 60,
over the time from the 60th call's confirmation to the last one's.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from taktgeber.push.job import PushSettings, push
from taktgeber.push.synthetic import contacts_from_fixture, write_drafts, write_passing_build
from taktgeber.sandbox import Sandbox

TINY = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny"
CEILING_PER_MIN = 3000


@contextmanager
def sandbox_process(world: Path) -> Iterator[str]:
    """`taktgeber sandbox --world …` with rate limits on, on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "taktgeber", "sandbox", "--world", str(world), "--port", str(port)],
        env={**os.environ, "TAKTGEBER_SANDBOX_RATE_LIMITS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def sandbox_in_process(world: Path) -> Iterator[str]:
    with Sandbox(world, rate_limits=True) as sandbox:
        yield sandbox.base_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drafts", type=int, default=6000)
    parser.add_argument("--in-process", action="store_true", help="sandbox in this process")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        warehouse, target = Path(tmp) / "warehouse.duckdb", Path(tmp) / "target"
        write_passing_build(target)
        write_drafts(warehouse, args.drafts, contacts_from_fixture(TINY))
        serve = sandbox_in_process if args.in_process else sandbox_process
        with serve(TINY) as base_url:
            started = time.monotonic()
            run = push(warehouse, base_url, settings=PushSettings(target_dir=target))
            elapsed = time.monotonic() - started
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            batches = con.execute(
                "select min(event_at), count(*) from raw_taktgeber.push_ledger_events "
                "where state = 'confirmed' group by idempotency_key order by 1"
            ).fetchall()
            latency = con.execute(
                "select avg(epoch(c) - epoch(p)) from (select idempotency_key, "
                "min(event_at) filter (where state = 'pending') as p, "
                "min(event_at) filter (where state = 'confirmed') as c "
                "from raw_taktgeber.push_ledger_events group by idempotency_key)"
            ).fetchall()[0]
            pending_429 = con.execute(
                "select count(distinct idempotency_key) from raw_taktgeber.push_ledger_events "
                "where http_status = 429"
            ).fetchall()[0]
        finally:
            con.close()
    created = len(run.confirmed)
    overall = created / elapsed * 60
    print(f"drafts {args.drafts}, created {created}, outcome {run.outcome}, Xero calls {run.calls}")
    print(f"elapsed {elapsed:.1f} s, overall {overall:,.0f} invoices/min")
    print(f"calls answered 429: {pending_429[0] if pending_429 else 0}")
    print(f"mean seconds from a batch's pending write to its confirmation: {latency[0]:.2f}")
    if len(batches) > 60:
        span = (batches[-1][0] - batches[59][0]).total_seconds()
        steady_invoices = sum(n for _, n in batches[60:])
        steady = steady_invoices / span * 60
        print(
            f"steady state {steady:,.0f} invoices/min "
            f"({steady / CEILING_PER_MIN:.1%} of {CEILING_PER_MIN:,}/min; target ≥ 95 %)"
        )
    return 0 if run.exit_code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
