"""Credit notes: created once their invoice exists in Xero, then allocated to it.

A credit-note draft (`fct_credit_note_drafts`) names the invoice it corrects by
`original_draft_key` (an invoice the push created: the ledger knows its Xero id) or
`original_invoice_number` (looked up in Xero). Until that invoice exists the credit
note waits. Creation goes through the same exactly-once path as invoices (batches,
`pending` → `sent` → `confirmed`, lookup by Reference in `CreditNotes`); then one
allocation call per credit note (`PUT /CreditNotes/{id}/Allocations`, amount = the
draft's gross) — before any retry the credit note is read back and an allocation to
that invoice already there is taken as done. Allocated → ledger state `allocated`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from taktgeber.push.drafts import Draft
from taktgeber.push.ledger import ALLOCATED, CONFIRMED, DEAD_LETTERED, PENDING, SENT
from taktgeber.push.payload import content_hash
from taktgeber.push.xero import XeroError


def allocation_key(draft_key: str, invoice_id: str) -> str:
    digest = hashlib.sha256(f"{draft_key}:{invoice_id}".encode()).hexdigest()
    return f"TGA-{digest[:40]}"


def push_credit_notes(pusher: object, drafts: Sequence[Draft]) -> None:
    """The credit-note phase of a run (after the invoices). `pusher` is the run's `_Pusher`."""
    from taktgeber.push.job import CREDIT_NOTES, _batches, _Pusher

    assert isinstance(pusher, _Pusher)
    run, client, ledger = pusher.run, pusher.client, pusher.ledger
    ready = [d for d in drafts if d.status == "ready"]
    if not ready:
        return
    states = ledger.states()
    originals: dict[str, str] = {}
    by_number: dict[str, list[str]] = {}
    for note in ready:
        original = states.get(note.original_draft_key or "")
        if original is not None and original.state == CONFIRMED and original.xero_invoice_id:
            originals[note.draft_key] = original.xero_invoice_id
        elif note.original_invoice_number:
            by_number.setdefault(note.original_invoice_number, []).append(note.draft_key)
    if by_number:
        body = client.get("/Invoices", {"InvoiceNumbers": ",".join(sorted(by_number))})
        for invoice in (body or {}).get("Invoices") or []:
            if invoice.get("Status") in ("DELETED", "VOIDED"):
                continue
            for key in by_number.get(invoice.get("InvoiceNumber"), []):
                originals[key] = invoice["InvoiceID"]
    to_send: list[Draft] = []
    to_look_up: list[Draft] = []
    for note in ready:
        if note.draft_key not in originals:
            run.waiting[note.draft_key] = (
                f"invoice {note.original_draft_key or note.original_invoice_number} is not in "
                "Xero yet; the credit note goes out once it is"
            )
            continue
        state = states.get(note.draft_key)
        if state is None:
            to_send.append(note)
        elif state.state in (CONFIRMED, ALLOCATED):
            if state.state == ALLOCATED:
                run.already_confirmed += 1
        elif state.state == DEAD_LETTERED:
            if state.content_hash == content_hash(note):
                run.still_dead_lettered[note.draft_key] = state.error or "dead-lettered"
            else:
                to_send.append(note)
        elif state.state in (PENDING, SENT):
            to_look_up.append(note)
    for batch in _batches(to_look_up, pusher.settings.batch_size):
        pusher.push_batch(batch, True, CREDIT_NOTES)
    for batch in _batches(to_send, pusher.settings.batch_size):
        pusher.push_batch(batch, False, CREDIT_NOTES)
    states = ledger.states()
    for note in ready:
        state = states.get(note.draft_key)
        if state is not None and state.state == CONFIRMED and state.xero_invoice_id:
            _allocate(pusher, note, state.xero_invoice_id, originals[note.draft_key])


def _allocate(pusher: object, note: Draft, credit_note_id: str, invoice_id: str) -> None:
    from taktgeber.push.job import _Pusher

    assert isinstance(pusher, _Pusher)
    run, client = pusher.run, pusher.client
    key = allocation_key(note.draft_key, invoice_id)
    allocation = {
        "Amount": note.gross,
        "Invoice": {"InvoiceID": invoice_id},
        "Date": (note.draft_date.isoformat() if note.draft_date else None),
    }
    backoff = pusher.settings.backoff
    last = ""
    for attempt in range(1, backoff.max_attempts + 2):  # the last pass reads back
        try:
            current = client.get(f"/CreditNotes/{credit_note_id}")
        except XeroError as exc:
            last = str(exc)
            break
        record = ((current or {}).get("CreditNotes") or [{}])[0]
        if any(
            (a.get("Invoice") or {}).get("InvoiceID", "").lower() == invoice_id.lower()
            for a in record.get("Allocations") or []
        ):
            pusher.ledger.append(
                [
                    pusher._event(
                        note,
                        ALLOCATED,
                        response={"allocations": record.get("Allocations")},
                        xero_invoice_id=credit_note_id,
                        xero_invoice_number=record.get("CreditNoteNumber"),
                    )
                ]
            )
            return
        if record.get("Status") != "AUTHORISED":
            run.warnings.append(
                f"{note.draft_key}: credit note {record.get('CreditNoteNumber')} is "
                f"{record.get('Status')}, so it cannot be allocated to invoice {invoice_id}; "
                "authorise it in Xero and allocate it there"
            )
            return
        answer = client.allocate_credit_note(credit_note_id, allocation, key)
        if answer.status == 200:
            continue  # read back and record on the next pass
        if answer.status is not None and answer.status < 500 and answer.status != 429:
            run.warnings.append(
                f"{note.draft_key}: Xero refused to allocate credit note {credit_note_id} to "
                f"invoice {invoice_id}: {answer.body!r}; allocate it in Xero by hand"
            )
            return
        last = f"HTTP {answer.status} {answer.error or ''}".strip()
        time.sleep(answer.retry_after or backoff.delay(attempt, pusher.rng))
    run.unconfirmed[note.draft_key] = (
        f"credit note {credit_note_id} not yet allocated ({last}); the next run retries"
    )
