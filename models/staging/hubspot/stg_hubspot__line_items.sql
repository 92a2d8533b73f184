{%- set cols = source_columns(source('raw_hubspot', 'line_items')) -%}

with

source as (

    {{ source_rows(source('raw_hubspot', 'line_items'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as varchar) as hubspot_line_item_id,
        {{ column_or_null(cols, 'properties__name', 'varchar') }} as line_item_name,
        nullif(trim({{ column_or_null(cols, 'properties__hs_product_id', 'varchar') }}), '') as hubspot_product_id,
        nullif(trim({{ column_or_null(cols, 'properties__service_type', 'varchar') }}), '') as service_type,
        cast(nullif(trim({{ column_or_null(cols, 'properties__quantity', 'varchar') }}), '') as decimal(18, 4)) as quantity,
        cast(nullif(trim({{ column_or_null(cols, 'properties__price', 'varchar') }}), '') as decimal(18, 4)) as price,
        {{ money("nullif(trim(" ~ column_or_null(cols, 'properties__amount', 'varchar') ~ "), '')") }} as amount,
        {{ iso_date(column_or_null(cols, 'properties__billing_date', 'varchar')) }} as billing_date,
        coalesce({{ hubspot_bool(column_or_null(cols, 'properties__requires_acceptance', 'varchar')) }}, false) as requires_acceptance,
        {{ iso_date(column_or_null(cols, 'properties__accepted_date', 'varchar')) }} as accepted_date,
        {{ iso_timestamp(column_or_null(cols, 'properties__hs_lastmodifieddate', 'varchar')) }} as modified_at,
        {{ column_or_null(cols, 'archived', 'boolean') }} as is_archived

    from source

),

final as (

    select * from renamed

)

select * from final
