{%- set cols = source_columns(source('raw_harvest', 'tasks')) -%}

with

source as (

    {{ source_rows(source('raw_harvest', 'tasks'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as bigint) as harvest_task_id,
        {{ column_or_null(cols, 'name', 'varchar') }} as task_name,
        {{ column_or_null(cols, 'billable_by_default', 'boolean') }} as is_billable_by_default,
        cast({{ column_or_null(cols, 'default_hourly_rate', 'decimal(18, 4)') }} as decimal(18, 4)) as default_hourly_rate,
        {{ column_or_null(cols, 'is_active', 'boolean') }} as is_active,
        {{ iso_timestamp(column_or_null(cols, 'updated_at', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
