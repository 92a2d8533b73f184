{%- set cols = source_columns(source('raw_harvest', 'task_assignments')) -%}

with

source as (

    {{ source_rows(source('raw_harvest', 'task_assignments'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as bigint) as harvest_task_assignment_id,
        {{ column_or_null(cols, 'project__id', 'bigint') }} as harvest_project_id,
        {{ column_or_null(cols, 'task__id', 'bigint') }} as harvest_task_id,
        {{ column_or_null(cols, 'is_active', 'boolean') }} as is_active,
        {{ column_or_null(cols, 'billable', 'boolean') }} as is_billable,
        cast({{ column_or_null(cols, 'hourly_rate', 'decimal(18, 4)') }} as decimal(18, 4)) as hourly_rate,
        {{ iso_timestamp(column_or_null(cols, 'updated_at', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
