{%- set cols = source_columns(source('raw_xero', 'invoices__line_items')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'invoices__line_items'), cols) }}

),

renamed as (

    select
        cast(_dlt_id as varchar) as dlt_id,
        cast(_dlt_parent_id as varchar) as invoice_dlt_id,
        cast(_dlt_list_idx as integer) as position,
        {{ column_or_null(cols, 'line_item_id', 'varchar') }} as xero_line_item_id,
        {{ column_or_null(cols, 'description', 'varchar') }} as description,
        cast({{ column_or_null(cols, 'quantity', 'decimal(18, 4)') }} as decimal(18, 4)) as quantity,
        cast({{ column_or_null(cols, 'unit_amount', 'decimal(18, 4)') }} as decimal(18, 4)) as unit_amount,
        {{ column_or_null(cols, 'item_code', 'varchar') }} as item_code,
        {{ column_or_null(cols, 'account_code', 'varchar') }} as account_code,
        {{ column_or_null(cols, 'tax_type', 'varchar') }} as tax_type,
        {{ money(column_or_null(cols, 'tax_amount', 'decimal(18, 2)')) }} as tax_amount,
        {{ money(column_or_null(cols, 'line_amount', 'decimal(18, 2)')) }} as line_amount

    from source

),

final as (

    select * from renamed

)

select * from final
