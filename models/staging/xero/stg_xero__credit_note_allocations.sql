{%- set cols = source_columns(source('raw_xero', 'credit_notes__allocations')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'credit_notes__allocations'), cols) }}

),

renamed as (

    select
        cast(_dlt_id as varchar) as dlt_id,
        cast(_dlt_parent_id as varchar) as credit_note_dlt_id,
        {{ column_or_null(cols, 'allocation_id', 'varchar') }} as xero_allocation_id,
        {{ column_or_null(cols, 'invoice__invoice_id', 'varchar') }} as xero_invoice_id,
        {{ column_or_null(cols, 'invoice__invoice_number', 'varchar') }} as invoice_number,
        {{ money(column_or_null(cols, 'amount', 'decimal(18, 2)')) }} as amount,
        {{ xero_date(column_or_null(cols, 'date', 'varchar')) }} as allocation_date

    from source

),

final as (

    select * from renamed

)

select * from final
