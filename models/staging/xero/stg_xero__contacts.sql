{%- set cols = source_columns(source('raw_xero', 'contacts')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'contacts'), cols, ['contact_id']) }}

),

renamed as (

    select
        cast(contact_id as varchar) as xero_contact_id,
        nullif(trim({{ column_or_null(cols, 'contact_number', 'varchar') }}), '') as contact_number,
        nullif(trim({{ column_or_null(cols, 'account_number', 'varchar') }}), '') as account_number,
        {{ column_or_null(cols, 'contact_status', 'varchar') }} as contact_status,
        {{ column_or_null(cols, 'name', 'varchar') }} as contact_name,
        {{ column_or_null(cols, 'email_address', 'varchar') }} as email_address,
        nullif(upper(replace(trim({{ column_or_null(cols, 'tax_number', 'varchar') }}), ' ', '')), '') as tax_number,
        coalesce({{ column_or_null(cols, 'is_customer', 'boolean') }}, false) as is_customer,
        upper(trim({{ column_or_null(cols, 'default_currency', 'varchar') }})) as default_currency_code,
        {{ xero_timestamp(column_or_null(cols, 'updated_date_utc', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
