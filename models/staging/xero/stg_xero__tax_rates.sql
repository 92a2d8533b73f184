{%- set cols = source_columns(source('raw_xero', 'tax_rates')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'tax_rates'), cols, ['tax_type']) }}

),

renamed as (

    select
        cast(tax_type as varchar) as xero_tax_type,
        {{ column_or_null(cols, 'name', 'varchar') }} as tax_rate_name,
        upper({{ column_or_null(cols, 'status', 'varchar') }}) as tax_rate_status,
        cast({{ column_or_null(cols, 'effective_rate', 'decimal(9, 4)') }} as decimal(9, 4)) as effective_rate_percent

    from source

),

final as (

    select * from renamed

)

select * from final
