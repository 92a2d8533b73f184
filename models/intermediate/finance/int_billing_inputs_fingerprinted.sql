{#- One row: what the per-entry models incremental by reach (macros/incremental/reach.sql)
    read of the Xero sales invoices, as a count and an order-free sum of row hashes. Per
    ACCREC invoice of any status: its number, reference, contact, date, currency, amounts,
    whether it is posted (AUTHORISED, PAID), live but not posted (DRAFT, SUBMITTED) or gone,
    the credit allocated to it by `as_of_date`, and the tax type of its first line. Payments
    and the move from AUTHORISED to PAID change none of these.
    The pre_hook (`note_fingerprint_before`) keeps the row the last build left. A rebuild
    after Xero changes whose fingerprint is the same keeps the per-entry rows
    (`xero_unchanged_for_work_items`); any other Xero change recomputes every record. -#}

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

projected as (
    select
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

final as (
    select
        'xero_sales_invoices' as fingerprint_id,
        count(*) as invoices,
        cast(coalesce(sum(cast(projected.row_hash as hugeint)), 0) as varchar) as fingerprint
    from projected
)

select * from final
