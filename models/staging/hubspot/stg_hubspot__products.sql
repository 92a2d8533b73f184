{%- set cols = source_columns(source('raw_hubspot', 'products')) -%}

with

source as (

    {{ source_rows(source('raw_hubspot', 'products'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as varchar) as hubspot_product_id,
        {{ column_or_null(cols, 'properties__name', 'varchar') }} as product_name,
        cast(nullif(trim({{ column_or_null(cols, 'properties__price', 'varchar') }}), '') as decimal(18, 4)) as price,
        nullif(trim({{ column_or_null(cols, 'properties__hs_sku', 'varchar') }}), '') as sku,
        {{ iso_timestamp(column_or_null(cols, 'properties__hs_lastmodifieddate', 'varchar')) }} as modified_at

    from source

),

final as (

    select * from renamed

)

select * from final
