{%- set cols = source_columns(source('raw_hubspot', 'companies')) -%}

with

source as (

    {{ source_rows(source('raw_hubspot', 'companies'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as varchar) as hubspot_company_id,
        {{ column_or_null(cols, 'properties__name', 'varchar') }} as company_name,
        {{ column_or_null(cols, 'properties__domain', 'varchar') }} as domain,
        upper(trim({{ column_or_null(cols, 'properties__country', 'varchar') }})) as country_code,
        nullif(upper(replace(trim({{ column_or_null(cols, 'properties__vat_id', 'varchar') }}), ' ', '')), '') as vat_id,
        cast(nullif(trim({{ column_or_null(cols, 'properties__payment_terms_days', 'varchar') }}), '') as integer) as payment_terms_days,
        cast(nullif(trim({{ column_or_null(cols, 'properties__cash_discount_percent', 'varchar') }}), '') as decimal(9, 4)) as cash_discount_percent,
        cast(nullif(trim({{ column_or_null(cols, 'properties__cash_discount_days', 'varchar') }}), '') as integer) as cash_discount_days,
        lower(trim({{ column_or_null(cols, 'properties__invoice_grouping', 'varchar') }})) as invoice_grouping,
        {{ iso_timestamp(column_or_null(cols, 'properties__hs_lastmodifieddate', 'varchar')) }} as modified_at,
        {{ iso_timestamp(column_or_null(cols, 'created_at', 'varchar')) }} as created_at,
        {{ column_or_null(cols, 'archived', 'boolean') }} as is_archived

    from source

),

final as (

    select * from renamed

)

select * from final
