{{ config(materialized="table") }}

{#- Everything that reduces an invoice's receivable, one row per event with its date:
    payments (every account, the cash-discount account included; deleted ones left out)
    and allocations of AUTHORISED or PAID ACCREC credit notes (dated by the allocation,
    else by the credit note). Amounts in the invoice's currency. -#}

with

payments as (
    select * from {{ ref('stg_xero__payments') }}
),

credit_notes as (
    select * from {{ ref('stg_xero__credit_notes') }}
),

allocations as (
    select * from {{ ref('stg_xero__credit_note_allocations') }}
),

paid as (
    select
        payments.xero_invoice_id,
        'payment' as settlement_kind,
        payments.xero_payment_id as settlement_id,
        payments.payment_date as settlement_date,
        payments.amount
    from payments
    where payments.xero_invoice_id is not null
        and coalesce(payments.payment_status, 'AUTHORISED') != 'DELETED'
),

credited as (
    select
        allocations.xero_invoice_id,
        'credit_allocation' as settlement_kind,
        coalesce(allocations.xero_allocation_id, allocations.dlt_id) as settlement_id,
        coalesce(allocations.allocation_date, credit_notes.credit_note_date) as settlement_date,
        allocations.amount
    from allocations
    inner join credit_notes
        on allocations.credit_note_dlt_id = credit_notes.dlt_id
    where credit_notes.credit_note_type = 'ACCRECCREDIT'
        and credit_notes.credit_note_status in ('AUTHORISED', 'PAID')
        and allocations.xero_invoice_id is not null
),

final as (
    select * from paid
    union all
    select * from credited
)

select * from final
