{%- set cols = source_columns(source('raw_harvest', 'clients')) -%}

with

source as (

    {{ source_rows(source('raw_harvest', 'clients'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as bigint) as harvest_client_id,
        {{ column_or_null(cols, 'name', 'varchar') }} as client_name,
        upper(trim({{ column_or_null(cols, 'currency', 'varchar') }})) as currency_code,
        {{ column_or_null(cols, 'is_active', 'boolean') }} as is_active,
        {{ iso_timestamp(column_or_null(cols, 'updated_at', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
