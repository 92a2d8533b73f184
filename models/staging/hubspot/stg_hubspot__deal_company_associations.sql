{%- set cols = source_columns(source('raw_hubspot', 'deals__associations__companies__results')) -%}

with

source as (

    {{ source_rows(source('raw_hubspot', 'deals__associations__companies__results'), cols, ['id', 'type']) }}

),

renamed as (

    select
        cast(_dlt_id as varchar) as dlt_id,
        cast(_dlt_parent_id as varchar) as deal_dlt_id,
        cast(id as varchar) as hubspot_company_id,
        cast(type as varchar) as association_type,
        cast(_dlt_list_idx as integer) as position

    from source

),

final as (

    select * from renamed

)

select * from final
