{{ config(materialized="table") }}

{#- Everything that reduces an invoice's receivable, one row per event with its date:
    payments (every account, the cash-discount account included; deleted ones left out)
    and credit allocations as int_credit_allocations_dated dates them (the allocation's
    date, else the credit note's). Amounts in the invoice's currency. -#}

with

payments as (
    select * from {{ ref('stg_xero__payments') }}
),

credit_allocations as (
    select * from {{ ref('int_credit_allocations_dated') }}
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
        credit_allocations.xero_invoice_id,
        'credit_allocation' as settlement_kind,
        coalesce(credit_allocations.xero_allocation_id, credit_allocations.credit_allocation_id) as settlement_id,
        credit_allocations.credited_date as settlement_date,
        credit_allocations.amount
    from credit_allocations
    where credit_allocations.xero_invoice_id is not null
),

final as (
    select * from paid
    union all
    select * from credited
)

select * from final
