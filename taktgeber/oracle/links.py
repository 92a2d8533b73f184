"""Linking across systems (DESIGN.md §4) and the derived facts every check shares."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from stdnum.eu import vat as eu_vat

from taktgeber.oracle.refdata import RefData
from taktgeber.oracle.world import (
    Allocation,
    Deal,
    Invoice,
    LedgerRecord,
    LineItem,
    Payment,
    Project,
    Work,
    World,
)

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
#: Invoice states that still bill the work named on them (voided/deleted ones do not).
LIVE_INVOICE_STATES = frozenset({"DRAFT", "SUBMITTED", "AUTHORISED", "PAID"})
#: "Invoice" of the KPIs and of the receivable checks.
POSTED_STATES = frozenset({"AUTHORISED", "PAID"})


def normalise_name(name: str | None) -> str:
    """NFKD, ASCII only, lower case, every run of non-alphanumerics → one space, trimmed."""
    ascii_text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


def compact_vat(value: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value or "").upper()


def vat_is_valid(vat_id: str | None, country: str | None) -> bool:
    """python-stdnum's check, and the number must belong to the company's country."""
    number = compact_vat(vat_id)
    if not number or not country:
        return False
    prefix = "EL" if country == "GR" else country
    if not number.startswith(prefix):
        number = prefix + number
    try:
        return number[:2] == prefix and bool(eu_vat.is_valid(number))
    except Exception:  # noqa: BLE001 - any stdnum failure means "not valid"
        return False


@dataclass(frozen=True)
class ContactLink:
    company_id: str | None
    how: str | None  # "number" | "vat" | "name" | None


class Links:
    def __init__(self, world: World, ref: RefData) -> None:
        self.world = world
        self.ref = ref
        companies = sorted(world.companies.values(), key=lambda c: c.id)
        self._company_by_vat: dict[str, str] = {}
        self._company_by_name: dict[str, str] = {}
        for company in companies:
            if company.vat_id:
                self._company_by_vat.setdefault(compact_vat(company.vat_id), company.id)
            self._company_by_name.setdefault(normalise_name(company.name), company.id)

        self.contact_link: dict[str, ContactLink] = {
            c.id: self._link_contact(c.id) for c in world.contacts.values()
        }
        self.contact_of_company: dict[str, str] = {}
        for how in ("number", "vat", "name"):  # the primary key wins over the fallbacks
            for contact_id in sorted(self.contact_link):
                link = self.contact_link[contact_id]
                if link.how == how and link.company_id:
                    self.contact_of_company.setdefault(link.company_id, contact_id)

        self.company_of_client: dict[int, str | None] = {
            c.id: self._company_by_name.get(normalise_name(c.name)) for c in world.clients.values()
        }
        self.projects_by_code: dict[str, list[Project]] = defaultdict(list)
        for project in sorted(world.projects.values(), key=lambda p: p.id):
            if project.code:
                self.projects_by_code[project.code].append(project)
        self.change_requests: dict[str, list[Deal]] = defaultdict(list)
        for deal in world.deals.values():
            if deal.parent_deal_id:
                self.change_requests[deal.parent_deal_id].append(deal)
        self.deal_of_line_item: dict[str, Deal] = {}
        for deal in world.deals.values():
            for item_id in deal.line_item_ids:
                self.deal_of_line_item.setdefault(item_id, deal)

        invoices = world.invoices.values()
        self.live_invoices = {
            i.id: i for i in invoices if i.type == "ACCREC" and i.status in LIVE_INVOICE_STATES
        }
        self._live_by_number = {i.number: i.id for i in self.live_invoices.values() if i.number}
        self._live_by_reference = {
            i.reference: i.id for i in self.live_invoices.values() if i.reference
        }
        self.posted_invoices = {
            i.id: i for i in invoices if i.type == "ACCREC" and i.status in POSTED_STATES
        }
        self._posted_by_number = {i.number: i.id for i in self.posted_invoices.values() if i.number}
        # indexes, so checks and monthly KPIs stay linear in the world's size
        self.work_by_project: dict[int, list[Work]] = defaultdict(list)
        for work in world.work:
            self.work_by_project[work.project_id].append(work)
        self.payments_by_invoice: dict[str, list[Payment]] = defaultdict(list)
        for payment in world.payments:
            if payment.invoice_id and payment.status != "DELETED":
                self.payments_by_invoice[payment.invoice_id].append(payment)
        self.allocations_by_invoice: dict[str, list[Allocation]] = defaultdict(list)
        for note in world.credit_notes.values():
            if note.type == "ACCRECCREDIT" and note.status in POSTED_STATES:
                for allocation in note.allocations:
                    self.allocations_by_invoice[allocation.invoice_id].append(allocation)
        self.invoices_by_contact: dict[str, list[Invoice]] = defaultdict(list)
        for invoice in self.posted_invoices.values():
            self.invoices_by_contact[invoice.contact_id or ""].append(invoice)
        self._billed_cache: dict[tuple[str, int], frozenset[str]] = {}
        self._rate_cache: dict[tuple[str, int], Decimal | None] = {}
        self._first_billed: dict[tuple[str, int], date | None] = {}
        self._eur_cache: dict[tuple[str, int], Decimal] = {}
        self.ledger_billed: dict[tuple[str, str], set[str]] = defaultdict(set)
        for record in world.ledger:
            if record.status != "succeeded":
                continue
            invoice_id = self.ledger_invoice(record)
            if invoice_id:
                for source in record.source_ids:
                    self.ledger_billed[source].add(invoice_id)

    # -- customers -------------------------------------------------------------------
    def _link_contact(self, contact_id: str) -> ContactLink:
        contact = self.world.contacts[contact_id]
        if contact.number and contact.number in self.world.companies:
            return ContactLink(contact.number, "number")
        if contact.tax_number and compact_vat(contact.tax_number) in self._company_by_vat:
            return ContactLink(self._company_by_vat[compact_vat(contact.tax_number)], "vat")
        name = normalise_name(contact.name)
        if name and name in self._company_by_name:
            return ContactLink(self._company_by_name[name], "name")
        return ContactLink(None, None)

    # -- deals and projects ----------------------------------------------------------
    def deal_of_project(self, project: Project) -> Deal | None:
        return self.world.deals.get(project.code or "")

    def won_deal_of_project(self, project: Project) -> Deal | None:
        deal = self.deal_of_project(project)
        return deal if deal is not None and deal.is_won else None

    def won_change_requests(self, deal_id: str) -> list[Deal]:
        return [d for d in self.change_requests.get(deal_id, []) if d.is_won]

    def expected_budget(self, deal: Deal) -> Decimal:
        return deal.amount + sum((d.amount for d in self.won_change_requests(deal.id)), Decimal(0))

    def project_of_deal(self, deal: Deal) -> Project | None:
        """The project a deal's work belongs to (a change request's: its parent's)."""
        code = deal.parent_deal_id or deal.id
        projects = self.projects_by_code.get(code)
        return projects[0] if projects else None

    def customer_deal(self, deal: Deal) -> Deal:
        """A change request bills to its parent deal's customer."""
        parent = self.world.deals.get(deal.parent_deal_id or "")
        return parent or deal

    def milestone_currency(self, deal: Deal) -> str:
        """A schedule item's currency: its deal's, else (a change request naming none) its
        parent deal's, whose budget its amount adds to; else EUR."""
        return deal.currency or self.customer_deal(deal).currency or "EUR"

    # -- work ------------------------------------------------------------------------
    def work_currency(self, work: Work) -> str:
        return self.world.projects[work.project_id].currency

    def service_type(self, work: Work) -> str | None:
        return self.ref.service_type(work.task_name)

    def contracted_rate(self, work: Work) -> Decimal | None:
        """The deal's rate line item for the service type, else the rate card."""
        key = (work.kind, work.id)
        if key not in self._rate_cache:
            self._rate_cache[key] = self._contracted_rate(work)
        return self._rate_cache[key]

    def _contracted_rate(self, work: Work) -> Decimal | None:
        project = self.world.projects[work.project_id]
        service = self.service_type(work)
        deal = self.won_deal_of_project(project)  # a lost or open deal is no contract
        if deal is not None:
            for item_id in sorted(deal.line_item_ids):
                item = self.world.line_items.get(item_id)
                if item and item.billing_date is None and item.service_type == service:
                    return item.price
        return self.ref.card_rate(service, project.currency, work.spent_date)

    # -- billing ---------------------------------------------------------------------
    def ledger_invoice(self, record: LedgerRecord) -> str | None:
        """The live invoice a push-ledger record made: its `xero_invoice_id`, else the one
        whose Reference is the record's reference, else its draft key (the push job writes
        Reference = draft key, so an empty reference still finds it)."""
        if record.xero_invoice_id and record.xero_invoice_id in self.live_invoices:
            return record.xero_invoice_id
        reference = record.reference or record.draft_key
        return self._live_by_reference.get(reference) if reference else None

    def billed_on(self, work: Work) -> frozenset[str]:
        """Every live Xero invoice naming the record (Harvest invoice number or ledger)."""
        key = (work.kind, work.id)
        if key not in self._billed_cache:
            invoices = set(self.ledger_billed.get((work.kind, str(work.id)), set()))
            if work.invoice_number and work.invoice_number in self._live_by_number:
                invoices.add(self._live_by_number[work.invoice_number])
            self._billed_cache[key] = frozenset(invoices)
        return self._billed_cache[key]

    def first_billed(self, work: Work) -> date | None:
        """The date of the earliest live invoice the record is billed on."""
        dates = [self.world.invoices[i].date for i in self.billed_on(work)]
        return min(dates) if dates else None

    def unbilled_at(self, work: Work, end: date) -> bool:
        key = (work.kind, work.id)
        if key not in self._first_billed:
            self._first_billed[key] = self.first_billed(work)
        first = self._first_billed[key]
        return first is None or first > end

    def work_eur(self, work: Work) -> Decimal:
        """Unrounded EUR value at the FX seed of `spent_date`."""
        key = (work.kind, work.id)
        if key not in self._eur_cache:
            currency = self.work_currency(work)
            self._eur_cache[key] = self.ref.fx.to_eur(work.value, currency, work.spent_date)
        return self._eur_cache[key]

    def harvest_invoice(self, work: Work) -> Invoice | None:
        """The posted Xero invoice named by the record's own Harvest invoice number."""
        invoice_id = self._posted_by_number.get(work.invoice_number or "")
        return self.posted_invoices[invoice_id] if invoice_id else None

    def milestone_billed_on(self, item: LineItem) -> set[str]:
        return set(self.ledger_billed.get(("milestone", item.id), set()))

    def billed_by(self, invoice_ids: Iterable[str], end: date) -> bool:
        return any(self.world.invoices[i].date <= end for i in invoice_ids)


def milestone_due(item: LineItem) -> date | None:
    """billing_date, or the later of it and accepted_date when acceptance is required."""
    if item.billing_date is None:
        return None
    if item.requires_acceptance:
        if item.accepted_date is None:
            return None
        return max(item.billing_date, item.accepted_date)
    return item.billing_date
