{#- How much of an invoice is credited, and when — written once. One row per allocation
    of an AUTHORISED or PAID ACCRECCREDIT credit note, dated by the allocation's Date, else
    by the credit note's Date (an allocation without its own date takes effect with its
    credit note). "Credited as of D" = Σ amount over credited_date ≤ D: D = `as_of_date`
    in int_xero_invoices_enriched (checks, corrections), a month end in the KPIs. Amounts
    in the credit note's (= the invoice's) currency. -#}

with

credit_notes as (

    select * from {{ ref('stg_xero__credit_notes') }}

),

allocations as (

    select * from {{ ref('stg_xero__credit_note_allocations') }}

),

final as (

    select
        allocations.dlt_id as credit_allocation_id,
        allocations.xero_allocation_id,
        credit_notes.dlt_id as credit_note_dlt_id,
        credit_notes.xero_credit_note_id,
        allocations.xero_invoice_id,
        allocations.amount,
        coalesce(allocations.allocation_date, credit_notes.credit_note_date) as credited_date
    from allocations
    inner join credit_notes
        on allocations.credit_note_dlt_id = credit_notes.dlt_id
    where credit_notes.credit_note_type = 'ACCRECCREDIT'
        and credit_notes.credit_note_status in ('AUTHORISED', 'PAID')

)

select * from final
