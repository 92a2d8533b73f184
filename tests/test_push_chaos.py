"""Exactly-once under chaos: 2,000 drafts, a faulty Xero, and a push job killed three times.

The sandbox injects 10 % 5xx, 5 % dropped connections after the write was committed and
2 % 429 on Xero. The job runs as a subprocess and is SIGKILLed at random moments three
times, then resumed until it finishes. Every draft must end as exactly one invoice in
Xero and every ledger record must be final. The control run switches dedup off (no
Idempotency-Key, no lookup by Reference) under the same faults and makes duplicates.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from taktgeber.push.job import PushSettings, push
from taktgeber.push.synthetic import contacts_from_fixture, write_drafts, write_passing_build
from taktgeber.push.xero import Backoff
from taktgeber.sandbox import Sandbox

TINY = Path(__file__).parent / "fixtures" / "tiny"
FAULTS = "xero.5xx=0.1,xero.drop=0.05,xero.429=0.02"
N_DRAFTS = 2000

pytestmark = pytest.mark.slow


FIXTURE_INVOICES = {
    r["InvoiceID"] for r in json.loads((TINY / "xero" / "Invoices.json").read_text())
}


def _references(sandbox: Sandbox) -> Counter:
    """How many invoices the push created per Reference (the fixture's own left out)."""
    return Counter(
        r["Reference"]
        for r in sandbox.records("xero", "Invoices")
        if r["InvoiceID"] not in FIXTURE_INVOICES
    )


def _job(warehouse: Path, target: Path, base_url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "taktgeber.push",
            "--warehouse", str(warehouse), "--base-url", base_url, "--target-dir", str(target),
            "--backoff-base", "0.05", "--backoff-cap", "0.5", "--settle-seconds", "0.5",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def test_killed_three_times_under_faults_every_draft_is_exactly_one_invoice(tmp_path):
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    write_passing_build(target)
    keys = write_drafts(warehouse, N_DRAFTS, contacts_from_fixture(TINY))
    rng = random.Random(20261126)
    outputs = []
    with Sandbox(TINY, faults=FAULTS, fault_seed=11) as sandbox:
        kills = 0
        for _ in range(3):
            job = _job(warehouse, target, sandbox.base_url)
            # kill at a random point once it is creating invoices: after 1 to 400 more
            goal = sum(_references(sandbox).values()) + rng.randint(1, 400)
            while job.poll() is None and sum(_references(sandbox).values()) < goal:
                time.sleep(rng.uniform(0.01, 0.05))
            if job.poll() is None:
                job.send_signal(signal.SIGKILL)
                kills += 1
            outputs.append(job.communicate(timeout=60)[0])
        assert kills == 3, outputs
        assert 0 < sum(_references(sandbox).values()) < N_DRAFTS  # killed part-way
        codes = []
        for _ in range(4):  # resume until done (a run may end partial on bad luck)
            job = _job(warehouse, target, sandbox.base_url)
            out, _ = job.communicate(timeout=300)
            outputs.append(out)
            codes.append(job.returncode)
            if job.returncode == 0:
                break
        assert codes[-1] == 0, outputs[-1]
        references = _references(sandbox)

    assert sorted(references) == sorted(keys)  # none lost
    assert set(references.values()) == {1}, [k for k, n in references.items() if n > 1]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        statuses = con.execute(
            "select status, count(*) from raw_taktgeber.push_ledger group by 1"
        ).fetchall()
        found = con.execute(
            "select count(*) from raw_taktgeber.push_ledger_events "
            "where state = 'confirmed' and response like '%found_by_reference%'"
        ).fetchall()[0]
        unfinished = con.execute(
            "select count(*) from raw_taktgeber.push_ledger where xero_invoice_id is null"
        ).fetchall()[0]
    finally:
        con.close()
    assert statuses == [("succeeded", N_DRAFTS)]
    assert unfinished == (0,)
    assert found is not None and found[0] > 0  # the lookup by Reference did real work


def test_control_without_dedup_makes_duplicates(tmp_path):
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    write_passing_build(target)
    keys = write_drafts(warehouse, 500, contacts_from_fixture(TINY))
    settings = PushSettings(
        target_dir=target,
        backoff=Backoff(base=0.05, cap=0.5, max_attempts=10),
        dedup=False,
        max_in_flight=1,
    )
    with Sandbox(TINY, faults=FAULTS, fault_seed=11) as sandbox:
        push(warehouse, sandbox.base_url, settings=settings)
        references = _references(sandbox)
    assert set(references) == set(keys)
    duplicated = [k for k, n in references.items() if n > 1]
    assert len(duplicated) >= 50  # at least one dropped batch of 50 was sent twice
