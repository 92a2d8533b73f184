{%- set cols = source_columns(source('raw_harvest', 'users')) -%}

with

source as (

    {{ source_rows(source('raw_harvest', 'users'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as bigint) as harvest_user_id,
        {{ column_or_null(cols, 'first_name', 'varchar') }} as first_name,
        {{ column_or_null(cols, 'last_name', 'varchar') }} as last_name,
        {{ column_or_null(cols, 'email', 'varchar') }} as email,
        {{ column_or_null(cols, 'is_active', 'boolean') }} as is_active,
        {{ column_or_null(cols, 'is_contractor', 'boolean') }} as is_contractor,
        {{ column_or_null(cols, 'weekly_capacity', 'integer') }} as weekly_capacity_seconds,
        cast({{ column_or_null(cols, 'default_hourly_rate', 'decimal(18, 4)') }} as decimal(18, 4)) as default_hourly_rate,
        cast({{ column_or_null(cols, 'cost_rate', 'decimal(18, 4)') }} as decimal(18, 4)) as cost_rate,
        {{ iso_timestamp(column_or_null(cols, 'updated_at', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
