{%- set cols = source_columns(source('raw_hubspot', 'deals')) -%}

with

source as (

    {{ source_rows(source('raw_hubspot', 'deals'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as varchar) as hubspot_deal_id,
        cast(_dlt_id as varchar) as dlt_id,
        {{ column_or_null(cols, 'properties__dealname', 'varchar') }} as deal_name,
        lower(trim({{ column_or_null(cols, 'properties__dealstage', 'varchar') }})) as deal_stage,
        {{ column_or_null(cols, 'properties__pipeline', 'varchar') }} as pipeline,
        {{ money("nullif(trim(" ~ column_or_null(cols, 'properties__amount', 'varchar') ~ "), '')") }} as amount,
        upper(trim({{ column_or_null(cols, 'properties__deal_currency_code', 'varchar') }})) as currency_code,
        lower(trim({{ column_or_null(cols, 'properties__billing_model', 'varchar') }})) as billing_model,
        nullif(trim({{ column_or_null(cols, 'properties__parent_deal_id', 'varchar') }}), '') as parent_deal_id,
        {{ iso_date(column_or_null(cols, 'properties__closedate', 'varchar')) }} as close_date,
        {{ iso_timestamp(column_or_null(cols, 'properties__hs_lastmodifieddate', 'varchar')) }} as modified_at,
        {{ iso_timestamp(column_or_null(cols, 'created_at', 'varchar')) }} as created_at,
        {{ column_or_null(cols, 'archived', 'boolean') }} as is_archived

    from source

),

final as (

    select * from renamed

)

select * from final
