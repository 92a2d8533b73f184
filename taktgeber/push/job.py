"""The push job: every `ready` draft becomes exactly one Xero invoice (DESIGN.md §9).

For each run:

1. Read the drafts and the ledger's latest state per draft.
2. Gate (build tests, source freshness) unless overridden; a dry run only reports.
3. Drafts the ledger shows as pending or sent (a run that died, a dropped answer) are
   looked up by Reference in Xero first; found ones are confirmed, not re-sent.
4. The rest go out in batches of ≤ 50 (`summarizeErrors=false`), ≤ 5 calls in flight,
   ≤ 60 a minute. Before each call the ledger gets a `pending` row per draft (with the
   lines and their source ids), after it `confirmed` (Xero's id and number),
   `dead_lettered` (Xero's validation messages) or `sent` (outcome unknown: the next try
   looks up by Reference before re-sending).
5. A draft whose content changed after Xero has it is refused (GoBD: sent invoices are
   never changed in place; a correction is a credit note).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from taktgeber.config import sandbox_base_url, warehouse_path
from taktgeber.push.credit_notes import push_credit_notes
from taktgeber.push.drafts import Draft, read_credit_note_drafts, read_drafts
from taktgeber.push.dry_run import DryRunReport, dry_run_report
from taktgeber.push.gate import DEFAULT_MAX_SOURCE_AGE, GateResult, check_gate
from taktgeber.push.ledger import (
    CONFIRMED,
    DEAD_LETTERED,
    PENDING,
    REFUSED,
    SENT,
    Event,
    Ledger,
    LedgerState,
    utcnow,
)
from taktgeber.push.payload import (
    content_hash,
    credit_note_element,
    idempotency_key,
    invoice_element,
    request_hash,
)
from taktgeber.push.xero import Backoff, CallLimiter, XeroAnswer, XeroClient, XeroError

INVOICE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
MAX_BATCH = 50

EXIT_SUCCESS, EXIT_FAILURE, EXIT_PARTIAL = 0, 1, 2


@dataclass
class PushRun:
    """What one run did. `exit_code`: 0 success, 2 partial, 1 failure."""

    run_id: str
    started_at: dt.datetime
    invoice_status: str
    override_gate: bool
    dedup: bool
    dry_run: bool = False
    finished_at: dt.datetime | None = None
    gate: GateResult = field(default_factory=GateResult)
    drafts_ready: int = 0
    drafts_blocked: int = 0
    drafts_deferred: int = 0
    already_confirmed: int = 0
    confirmed: list[str] = field(default_factory=list)  # created by this run's calls
    found_by_lookup: list[str] = field(default_factory=list)  # created earlier, found
    dead_lettered: dict[str, str] = field(default_factory=dict)  # draft key → messages
    still_dead_lettered: dict[str, str] = field(default_factory=dict)  # unchanged since
    refused: dict[str, str] = field(default_factory=dict)  # draft key → why
    unconfirmed: dict[str, str] = field(default_factory=dict)  # draft key → last error
    waiting: dict[str, str] = field(default_factory=dict)  # credit notes without invoice
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls: int = 0
    report: DryRunReport | None = None

    @property
    def outcome(self) -> str:
        if self.dry_run:
            return "dry_run"
        if not self.gate.passed and not self.override_gate:
            return "refused"
        problems = (
            self.dead_lettered
            or self.still_dead_lettered
            or self.refused
            or self.unconfirmed
            or self.errors
        )
        if not problems:
            return "success"
        done = self.confirmed or self.found_by_lookup or self.already_confirmed
        return "partial" if done else "failure"

    @property
    def exit_code(self) -> int:
        return {
            "success": EXIT_SUCCESS,
            "dry_run": EXIT_SUCCESS,
            "partial": EXIT_PARTIAL,
        }.get(self.outcome, EXIT_FAILURE)

    def summary(self) -> str:
        lines = [
            f"push run {self.run_id}: {self.outcome} (exit {self.exit_code}), "
            f"invoice status {self.invoice_status}"
            + (", gate overridden" if self.override_gate else "")
            + ("" if self.dedup else ", DEDUP OFF"),
            (
                f"  drafts: {self.drafts_ready} ready, {self.drafts_blocked} blocked, "
                f"{self.drafts_deferred} deferred"
            ),
            (
                f"  created {len(self.confirmed)}, found already in Xero {len(self.found_by_lookup)}, "
                f"confirmed earlier {self.already_confirmed}, dead-lettered "
                f"{len(self.dead_lettered)} (+{len(self.still_dead_lettered)} unchanged), "
                f"refused {len(self.refused)}, unconfirmed {len(self.unconfirmed)}, "
                f"Xero calls {self.calls}"
            ),
        ]
        lines += [f"  gate: {reason}" for reason in self.gate.reasons]
        lines += [f"  dead-lettered {k}: {v}" for k, v in sorted(self.dead_lettered.items())]
        lines += [f"  refused {k}: {v}" for k, v in sorted(self.refused.items())]
        lines += [f"  unconfirmed {k}: {v}" for k, v in sorted(self.unconfirmed.items())]
        lines += [f"  waiting {k}: {v}" for k, v in sorted(self.waiting.items())]
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)

    def run_row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "invoice_status": self.invoice_status,
            "override_gate": self.override_gate,
            "dedup": self.dedup,
            "drafts_ready": self.drafts_ready,
            "drafts_blocked": self.drafts_blocked,
            "drafts_deferred": self.drafts_deferred,
            "already_confirmed": self.already_confirmed,
            "confirmed": len(self.confirmed),
            "found_by_lookup": len(self.found_by_lookup),
            "dead_lettered": len(self.dead_lettered),
            "refused": len(self.refused),
            "unconfirmed": len(self.unconfirmed),
            "calls": self.calls,
            "gate_reasons": "; ".join(self.gate.reasons) or None,
            "summary": self.summary(),
        }


@dataclass(frozen=True)
class DocSpec:
    """How one kind of document is sent: its collection, id and number fields, payload."""

    collection: str
    id_field: str
    number_field: str
    element: Callable[[Draft, str], dict[str, Any]]


INVOICES = DocSpec("Invoices", "InvoiceID", "InvoiceNumber", invoice_element)
CREDIT_NOTES = DocSpec("CreditNotes", "CreditNoteID", "CreditNoteNumber", credit_note_element)


@dataclass(frozen=True)
class PushSettings:
    """Knobs beyond the public arguments; the defaults follow Xero's limits."""

    batch_size: int = MAX_BATCH
    max_in_flight: int = 5
    calls_per_minute: int = 60
    # Batches worked on at once (None: 2 × max_in_flight). Those beyond max_in_flight
    # write their pending rows while calls are out and wait for a call slot, so the
    # ledger writes around each call do not hold the next call back.
    workers: int | None = None
    backoff: Backoff = field(default_factory=Backoff)
    # Before looking up drafts a killed run left pending, wait this long after its last
    # ledger write so a request it had in flight has landed in Xero.
    settle_seconds: float = 2.0
    timeout: float = 60.0
    dedup: bool = True  # False only for the control experiment: duplicates appear
    target_dir: Path | None = None
    max_source_age: dt.timedelta = DEFAULT_MAX_SOURCE_AGE
    seed: int | None = None


class _Pusher:
    def __init__(
        self,
        run: PushRun,
        ledger: Ledger,
        client: XeroClient,
        settings: PushSettings,
        attempts: dict[str, int],
    ) -> None:
        self.run = run
        self.ledger = ledger
        self.client = client
        self.settings = settings
        self.attempts = attempts
        self._lock = threading.Lock()
        self.rng = random.Random(settings.seed)

    # -- ledger helpers -------------------------------------------------------------
    def _event(self, draft: Draft, state: str, **kwargs: Any) -> Event:
        return Event(
            draft=draft,
            state=state,
            attempt=self.attempts.get(draft.draft_key, 0),
            run_id=self.run.run_id,
            content_hash=content_hash(draft),
            invoice_status=self.run.invoice_status,
            override_gate=self.run.override_gate,
            **kwargs,
        )

    def confirm_found(
        self,
        drafts: Sequence[Draft],
        found: dict[str, dict[str, Any]],
        spec: DocSpec = INVOICES,
    ) -> None:
        events = []
        for draft in drafts:
            invoice = found[draft.draft_key]
            events.append(
                self._event(
                    draft,
                    CONFIRMED,
                    response={"found_by_reference": _invoice_summary(invoice)},
                    xero_invoice_id=invoice.get(spec.id_field),
                    xero_invoice_number=invoice.get(spec.number_field),
                )
            )
        self.ledger.append(events)
        with self._lock:
            self.run.found_by_lookup.extend(d.draft_key for d in drafts)

    # -- one batch ------------------------------------------------------------------
    def push_batch(
        self, batch: Sequence[Draft], look_up_first: bool, spec: DocSpec = INVOICES
    ) -> None:
        remaining = list(batch)
        uncertain = look_up_first
        tries = 0
        last_error = ""
        try:
            while remaining:
                if uncertain and self.settings.dedup:
                    found = self.client.find_by_references(
                        (d.draft_key for d in remaining), collection=spec.collection
                    )
                    hits = [d for d in remaining if d.draft_key in found]
                    if hits:
                        self.confirm_found(hits, found, spec)
                    remaining = [d for d in remaining if d.draft_key not in found]
                    uncertain = False
                    if not remaining:
                        break
                if tries >= self.settings.backoff.max_attempts:
                    break
                tries += 1
                remaining, uncertain, last_error = self._send(remaining, tries, spec)
        except XeroError as exc:
            last_error = str(exc)
        with self._lock:
            for draft in remaining:
                self.run.unconfirmed[draft.draft_key] = (
                    f"{last_error or 'not confirmed'}; the next run looks it up by Reference"
                )

    def _send(
        self, drafts: list[Draft], tries: int, spec: DocSpec
    ) -> tuple[list[Draft], bool, str]:
        """One PUT. Returns (drafts still to do, whether to look them up, last error)."""
        elements = [spec.element(d, self.run.invoice_status) for d in drafts]
        hashes = [request_hash(e) for e in elements]
        key = (
            idempotency_key([(d.draft_key, h) for d, h in zip(drafts, hashes, strict=True)])
            if self.settings.dedup
            else None
        )
        for draft in drafts:
            self.attempts[draft.draft_key] = self.attempts.get(draft.draft_key, 0) + 1
        self.ledger.append(
            [
                self._event(d, PENDING, request_hash=h, idempotency_key=key, with_lines=True)
                for d, h in zip(drafts, hashes, strict=True)
            ]
        )
        answer = self.client.put_batch(spec.collection, elements, key)
        with self._lock:
            self.run.calls += 1
        if (
            answer.status == 200
            and isinstance(answer.body, dict)
            and spec.collection in answer.body
        ):
            return self._settle(drafts, hashes, key, answer, spec), False, ""
        error = _describe(answer)
        if answer.status == 429:
            wait = answer.retry_after or self.settings.backoff.delay(tries, self.rng)
            self.ledger.append(
                [
                    self._event(d, PENDING, idempotency_key=key, http_status=429, error=error)
                    for d in drafts
                ]
            )
            time.sleep(wait)
            return drafts, False, error
        if answer.status == 400 and isinstance(answer.body, dict) and answer.body.get("Elements"):
            # summarizeErrors was not honoured: nothing was created; dead-letter the
            # elements Xero names, send the rest again.
            return self._settle(drafts, hashes, key, answer, spec), False, ""
        # Outcome unknown (dropped connection, timeout, 5xx) or an unexpected refusal:
        # record `sent`, then look up by Reference before any re-send.
        self.ledger.append(
            [
                self._event(d, SENT, idempotency_key=key, http_status=answer.status, error=error)
                for d in drafts
            ]
        )
        if answer.status is not None and 400 <= answer.status < 500:
            raise XeroError(f"Xero refused the call: {error}")
        time.sleep(self.settings.backoff.delay(tries, self.rng))
        return drafts, True, error

    def _settle(
        self,
        drafts: list[Draft],
        hashes: list[str],
        key: str | None,
        answer: XeroAnswer,
        spec: DocSpec,
    ) -> list[Draft]:
        body = answer.body if isinstance(answer.body, dict) else {}
        results = body.get(spec.collection) or body.get("Elements") or []
        by_reference = {r.get("Reference"): r for r in results if isinstance(r, dict)}
        events: list[Event] = []
        left: list[Draft] = []
        confirmed: list[str] = []
        dead: dict[str, str] = {}
        for index, draft in enumerate(drafts):
            result = results[index] if index < len(results) else None
            if not isinstance(result, dict) or result.get("Reference") not in (
                None,
                draft.draft_key,
            ):
                result = by_reference.get(draft.draft_key)
            if result is None:
                left.append(draft)
                continue
            messages = [str(e.get("Message")) for e in result.get("ValidationErrors") or [] if e]
            invoice_id = result.get(spec.id_field)
            failed = result.get("StatusAttributeString") == "ERROR" or messages
            if failed and not (invoice_id and result.get("StatusAttributeString") != "ERROR"):
                if answer.status == 400 and not messages:
                    left.append(draft)  # a clean element of a refused batch: send again
                    continue
                reason = "; ".join(messages) or "Xero answered ERROR without a message"
                dead[draft.draft_key] = reason
                events.append(
                    self._event(
                        draft,
                        DEAD_LETTERED,
                        request_hash=hashes[index],
                        idempotency_key=key,
                        http_status=answer.status,
                        response=_invoice_summary(result),
                        error=reason,
                    )
                )
                continue
            if not invoice_id:
                left.append(draft)
                continue
            confirmed.append(draft.draft_key)
            total = result.get("Total")
            if total is not None and Decimal(str(total)) != draft.gross:
                with self._lock:
                    self.run.warnings.append(
                        f"{draft.draft_key}: Xero total {total} differs from draft gross "
                        f"{draft.gross}; check tax type {draft.xero_tax_type} and rounding"
                    )
            events.append(
                self._event(
                    draft,
                    CONFIRMED,
                    request_hash=hashes[index],
                    idempotency_key=key,
                    http_status=answer.status,
                    response=_invoice_summary(result),
                    xero_invoice_id=invoice_id,
                    xero_invoice_number=result.get(spec.number_field),
                )
            )
        self.ledger.append(events)
        with self._lock:
            self.run.confirmed.extend(confirmed)
            self.run.dead_lettered.update(dead)
        return left


def _invoice_summary(invoice: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "InvoiceID",
        "InvoiceNumber",
        "Reference",
        "Status",
        "StatusAttributeString",
        "ValidationErrors",
        "Warnings",
        "SubTotal",
        "TotalTax",
        "Total",
        "CurrencyCode",
        "CreditNoteID",
        "CreditNoteNumber",
        "RemainingCredit",
    )
    return {k: invoice[k] for k in keep if k in invoice}


def _describe(answer: XeroAnswer) -> str:
    if answer.status is None:
        return f"no answer from Xero ({answer.error})"
    body = answer.body
    if isinstance(body, dict):
        detail = body.get("Message") or body.get("Detail") or body.get("Title") or ""
    else:
        detail = str(body or "")[:200]
    return f"HTTP {answer.status} {detail}".strip()


def _classify(
    drafts: Sequence[Draft], states: dict[str, LedgerState], run: PushRun
) -> tuple[list[Draft], list[Draft], list[Event]]:
    """(to send, to look up first, refusal events) for the ready drafts."""
    to_send: list[Draft] = []
    to_look_up: list[Draft] = []
    refusals: list[Event] = []
    for draft in drafts:
        if draft.status == "blocked":
            run.drafts_blocked += 1
        elif draft.status == "deferred":
            run.drafts_deferred += 1
        state = states.get(draft.draft_key)
        if draft.status != "ready":
            if state is not None and state.state in (PENDING, SENT):
                to_look_up.append(draft)  # was sent while ready: find out what happened
            continue
        run.drafts_ready += 1
        digest = content_hash(draft)
        if state is None:
            to_send.append(draft)
        elif state.state == CONFIRMED:
            if state.content_hash and state.content_hash != digest:
                reason = (
                    f"content changed after it was pushed as Xero invoice "
                    f"{state.xero_invoice_number or state.xero_invoice_id}: sent invoices "
                    "are never changed in place; issue a credit note and a new draft"
                )
                run.refused[draft.draft_key] = reason
                refusals.append(
                    Event(draft, REFUSED, state.attempts, run.run_id, digest, error=reason)
                )
            else:
                run.already_confirmed += 1
        elif state.state == DEAD_LETTERED:
            if state.content_hash == digest:
                run.still_dead_lettered[draft.draft_key] = state.error or "dead-lettered"
            else:
                to_send.append(draft)  # fixed since it was dead-lettered
        else:
            to_look_up.append(draft)
    return to_send, to_look_up, refusals


def _batches(drafts: Sequence[Draft], size: int) -> list[list[Draft]]:
    return [list(drafts[i : i + size]) for i in range(0, len(drafts), size)]


def push(
    warehouse: Path | None = None,
    base_url: str | None = None,
    status: str = "AUTHORISED",
    dry_run: bool = False,
    override_gate: bool = False,
    settings: PushSettings | None = None,
    echo: Callable[[str], None] | None = None,
) -> PushRun:
    """Push every ready draft to Xero once; see the module docstring."""
    settings = settings or PushSettings()
    status = status.upper()
    if status not in INVOICE_STATUSES:
        raise ValueError(f"invoice status {status!r}: use one of {', '.join(INVOICE_STATUSES)}")
    warehouse = Path(warehouse) if warehouse else warehouse_path()
    run = PushRun(
        run_id=f"{utcnow():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        started_at=utcnow(),
        invoice_status=status,
        override_gate=override_gate,
        dedup=settings.dedup,
        dry_run=dry_run,
    )
    ledger = Ledger(warehouse)
    with ledger.connect() as con:
        drafts = read_drafts(con)
        credit_notes = read_credit_note_drafts(con)
    states = ledger.states()
    run.gate = check_gate(warehouse, settings.target_dir, settings.max_source_age)
    to_send, to_look_up, refusals = _classify(drafts, states, run)
    if dry_run:
        run.report = dry_run_report(drafts, states, to_send, to_look_up, run)
        run.finished_at = utcnow()
        return run
    if not run.gate.passed and not override_gate:
        run.finished_at = utcnow()
        ledger.record_run(run.run_row())
        return run
    ledger.refresh_tables()  # a killed run left them behind its events
    if override_gate and not run.gate.passed:
        run.warnings.append("gate overridden: " + "; ".join(run.gate.reasons))
    ledger.append(refusals)

    limiter = CallLimiter(settings.max_in_flight, settings.calls_per_minute)
    client = XeroClient(
        base_url or sandbox_base_url(),
        limiter=limiter,
        backoff=settings.backoff,
        timeout=settings.timeout,
        rng=random.Random(settings.seed),
    )
    attempts = {key: state.attempts for key, state in states.items()}
    pusher = _Pusher(run, ledger, client, settings, attempts)

    if to_look_up and settings.dedup:
        newest = max(states[d.draft_key].last_event_at for d in to_look_up)
        wait = settings.settle_seconds - (utcnow() - newest).total_seconds()
        if wait > 0:
            time.sleep(wait)
    ready_lookups = [d for d in to_look_up if d.status == "ready"]
    other_lookups = [d for d in to_look_up if d.status != "ready"]
    work = [(batch, True) for batch in _batches(ready_lookups, settings.batch_size)]
    work += [(batch, False) for batch in _batches(to_send, settings.batch_size)]
    try:
        with ledger.hold():
            _run_work(pusher, client, other_lookups, work, settings)
            push_credit_notes(pusher, credit_notes)
    except (XeroError, duckdb.Error, OSError) as exc:
        run.errors.append(str(exc))
    run.calls = limiter.calls
    run.finished_at = utcnow()
    ledger.record_run(run.run_row())
    if echo:
        echo(run.summary())
    return run


def _run_work(
    pusher: _Pusher,
    client: XeroClient,
    other_lookups: list[Draft],
    work: list[tuple[list[Draft], bool]],
    settings: PushSettings,
) -> None:
    if other_lookups and settings.dedup:
        found = client.find_by_references(d.draft_key for d in other_lookups)
        hits = [d for d in other_lookups if d.draft_key in found]
        if hits:
            pusher.confirm_found(hits, found)
    workers = settings.workers or 2 * settings.max_in_flight
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(pusher.push_batch, b, first) for b, first in work]:
            future.result()
