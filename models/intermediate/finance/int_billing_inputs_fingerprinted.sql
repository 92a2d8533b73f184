{#- What the per-entry models incremental by reach (macros/incremental/reach.sql) read of
    the Xero sales invoices and of the push ledger, one row per record with a hash of it.
    Per ACCREC invoice of any status: its number, reference, contact, date, currency,
    amounts, whether it is posted (AUTHORISED, PAID), live but not posted (DRAFT,
    SUBMITTED) or gone, the credit allocated to it by `as_of_date`, and the tax type of its
    first line. Per push-ledger record: its status, Xero invoice id, reference (else its
    draft key: what it is matched on) and, hashed, the source records its lines name.
    Payments and
    the move from AUTHORISED to PAID change none of these.
    The pre_hook (`set_fingerprints_aside`) sets the rows the last build left aside, the
    post_hook (`note_changed_fingerprints`) notes the rows that differ now. A narrowed rebuild
    reaches the work records linked to a changed record before or now
    (`note_reached_work_items`). -#}

with

invoices as (
    select * from {{ ref('stg_xero__invoices') }}
),

invoice_line_items as (
    select * from {{ ref('stg_xero__invoice_line_items') }}
),

credit_allocations as (
    -- the one rule for when an allocation credits (int_credit_allocations_dated); read
    -- here rather than through the enriched invoices, which wait for payments and
    -- contacts: the per-entry models wait for this model
    select * from {{ ref('int_credit_allocations_dated') }}
),

ledger as (
    select * from {{ ref('stg_taktgeber__push_ledger') }}
),

ledger_lines as (
    select * from {{ ref('stg_taktgeber__push_ledger_lines') }}
),

credited as (
    -- credited_amount of int_xero_invoices_enriched
    select
        credit_allocations.xero_invoice_id,
        sum(credit_allocations.amount) as credited_amount
    from credit_allocations
    where credit_allocations.credited_date <= {{ as_of_date() }}
    group by credit_allocations.xero_invoice_id
),

first_lines as (
    select
        invoice_line_items.invoice_dlt_id,
        arg_min(invoice_line_items.tax_type, invoice_line_items.position) as first_tax_type
    from invoice_line_items
    group by invoice_line_items.invoice_dlt_id
),

invoice_records as (
    select
        'invoice:' || invoices.xero_invoice_id as fingerprint_key,
        'invoice' as record_kind,
        invoices.xero_invoice_id,
        invoices.invoice_number,
        invoices.reference,
        invoices.xero_contact_id,
        hash(
            invoices.xero_invoice_id,
            invoices.invoice_number,
            invoices.reference,
            invoices.xero_contact_id,
            invoices.invoice_date,
            invoices.currency_code,
            invoices.sub_total,
            invoices.total,
            case
                when invoices.invoice_status in ('AUTHORISED', 'PAID') then 'posted'
                when invoices.invoice_status in ('DRAFT', 'SUBMITTED') then 'live'
                else 'gone'
            end,
            coalesce(credited.credited_amount, 0),
            first_lines.first_tax_type
        ) as row_hash
    from invoices
    left join credited
        on invoices.xero_invoice_id = credited.xero_invoice_id
    left join first_lines
        on invoices.dlt_id = first_lines.invoice_dlt_id
    where invoices.invoice_type = 'ACCREC'
),

ledger_sources as (
    -- the source records a record's lines name, as an order-free sum of the lines' hashes
    -- (not the lists themselves: at 10m they name millions of records)
    select
        ledger_lines.draft_key,
        sum(cast(hash(
            ledger_lines.line_no,
            ledger_lines.harvest_time_entry_ids,
            ledger_lines.harvest_expense_ids,
            ledger_lines.hubspot_line_item_ids
        ) as hugeint)) as sources_hash
    from ledger_lines
    group by ledger_lines.draft_key
),

ledger_records as (
    select
        'ledger:' || ledger.draft_key as fingerprint_key,
        'ledger' as record_kind,
        ledger.xero_invoice_id,
        cast(null as varchar) as invoice_number,
        -- what the "billed on" rule matches a ledger record's invoice on
        coalesce(ledger.reference, ledger.draft_key) as reference,
        cast(null as varchar) as xero_contact_id,
        hash(
            ledger.draft_key,
            ledger.push_status,
            ledger.xero_invoice_id,
            ledger.reference,
            ledger_sources.sources_hash
        ) as row_hash
    from ledger
    left join ledger_sources
        on ledger.draft_key = ledger_sources.draft_key
),

final as (
    select * from invoice_records
    union all
    select * from ledger_records
)

select * from final
