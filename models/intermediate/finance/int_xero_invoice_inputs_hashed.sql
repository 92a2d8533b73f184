{#- One row per Xero invoice id that a staged invoice, payment or credit allocation names,
    with an order-free hash of every column of every such row (`inputs_hash`): what the
    tables narrowed by changed inputs read about one invoice (macros/incremental/
    changed_inputs.sql: the enriched invoices, the receivable measures). A rebuild of what
    changed recomputes only the invoices whose hash differs from the one their last build
    kept. Rows naming no invoice have no row here; those tables recompute theirs on every
    build. -#}

with

invoices as (

    select * from {{ ref('stg_xero__invoices') }}

),

payments as (

    select * from {{ ref('stg_xero__payments') }}

),

credit_allocations as (

    select * from {{ ref('int_credit_allocations_dated') }}

),

rows_hashed as (

    -- every column of the row, whatever columns the staging has
    select invoices.xero_invoice_id, 'invoice' as source_kind, hash(*columns(invoices.*)) as row_hash
    from invoices
    union all
    select payments.xero_invoice_id, 'payment' as source_kind, hash(*columns(payments.*)) as row_hash
    from payments
    union all
    select
        credit_allocations.xero_invoice_id,
        'credit_allocation' as source_kind,
        hash(*columns(credit_allocations.*)) as row_hash
    from credit_allocations

),

final as (

    select
        rows_hashed.xero_invoice_id,
        -- a sum, not a xor: two equal rows do not cancel out
        sum(cast(hash(rows_hashed.source_kind, rows_hashed.row_hash) as hugeint)) as inputs_hash
    from rows_hashed
    where rows_hashed.xero_invoice_id is not null
    group by rows_hashed.xero_invoice_id

)

select * from final
