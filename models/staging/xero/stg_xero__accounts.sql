{%- set cols = source_columns(source('raw_xero', 'accounts')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'accounts'), cols, ['account_id']) }}

),

renamed as (

    select
        cast(account_id as varchar) as xero_account_id,
        {{ column_or_null(cols, 'code', 'varchar') }} as account_code,
        {{ column_or_null(cols, 'name', 'varchar') }} as account_name,
        upper({{ column_or_null(cols, 'type', 'varchar') }}) as account_type,
        upper({{ column_or_null(cols, 'class', 'varchar') }}) as account_class,
        upper({{ column_or_null(cols, 'status', 'varchar') }}) as account_status,
        {{ column_or_null(cols, 'tax_type', 'varchar') }} as tax_type,
        {{ xero_timestamp(column_or_null(cols, 'updated_date_utc', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
