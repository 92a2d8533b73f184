{{ config(materialized="table") }}

{#- One row per source record × live Xero invoice that bills it (DESIGN.md §4 "Work →
    invoice"): a Harvest time entry or expense whose `invoice.number` is the invoice's
    number, or any record (milestones included) named on a line of a succeeded push-ledger
    record whose invoice id — else reference — is that invoice. Live = ACCREC in DRAFT,
    SUBMITTED, AUTHORISED or PAID (voided and deleted invoices bill nothing); is_posted =
    AUTHORISED or PAID, the "invoice" of the KPIs. -#}

with

invoices as (
    select * from {{ ref('stg_xero__invoices') }}
),

work_entries as (
    select * from {{ ref('int_work_entries_rated') }}
),

ledger as (
    select * from {{ ref('stg_taktgeber__push_ledger') }}
),

ledger_lines as (
    select * from {{ ref('stg_taktgeber__push_ledger_lines') }}
),

live_invoices as (
    select
        invoices.xero_invoice_id,
        invoices.invoice_number,
        invoices.reference,
        invoices.invoice_date,
        invoices.invoice_status in ('AUTHORISED', 'PAID') as is_posted
    from invoices
    where invoices.invoice_type = 'ACCREC'
        and invoices.invoice_status in ('DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID')
),

by_harvest as (
    select
        work_entries.work_item_kind,
        work_entries.source_id,
        live_invoices.xero_invoice_id,
        'harvest' as link_method
    from work_entries
    inner join live_invoices
        on work_entries.harvest_invoice_number = live_invoices.invoice_number
),

ledger_invoices as (
    select
        ledger.draft_key,
        coalesce(by_id.xero_invoice_id, by_reference.xero_invoice_id) as xero_invoice_id
    from ledger
    left join live_invoices as by_id
        on ledger.xero_invoice_id = by_id.xero_invoice_id
    left join live_invoices as by_reference
        on ledger.reference = by_reference.reference
    where ledger.push_status = 'succeeded'
),

ledger_sources as (
    select ledger_lines.draft_key, 'time' as work_item_kind, cast(unnest(ledger_lines.harvest_time_entry_ids) as varchar) as source_id
    from ledger_lines
    union all
    select ledger_lines.draft_key, 'expense', cast(unnest(ledger_lines.harvest_expense_ids) as varchar)
    from ledger_lines
    union all
    select ledger_lines.draft_key, 'milestone', cast(unnest(ledger_lines.hubspot_line_item_ids) as varchar)
    from ledger_lines
),

by_ledger as (
    select
        ledger_sources.work_item_kind,
        ledger_sources.source_id,
        ledger_invoices.xero_invoice_id,
        'ledger' as link_method
    from ledger_sources
    inner join ledger_invoices
        on ledger_sources.draft_key = ledger_invoices.draft_key
    where ledger_invoices.xero_invoice_id is not null
),

linked as (
    select * from by_harvest
    union
    select * from by_ledger
),

final as (
    select
        linked.work_item_kind || ':' || linked.source_id || ':' || linked.xero_invoice_id as billing_id,
        linked.work_item_kind,
        linked.source_id,
        linked.xero_invoice_id,
        live_invoices.invoice_number,
        live_invoices.invoice_date,
        live_invoices.is_posted,
        bool_or(linked.link_method = 'harvest') as is_harvest_invoice
    from linked
    inner join live_invoices
        on linked.xero_invoice_id = live_invoices.xero_invoice_id
    group by all
)

select * from final
