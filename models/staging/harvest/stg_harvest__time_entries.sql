{#- Incremental (macros/incremental/staging_incremental.sql): a rebuild stages only the
    entries changed since the last build, by Harvest's `updated_at` (the loader's cursor). -#}
{{
    config(
        materialized='incremental',
        unique_key='harvest_time_entry_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook="{{ delete_vanished_rows('harvest_time_entry_id', source('raw_harvest', 'time_entries'), 'cast(id as bigint)') }}",
    )
}}

{%- set column_types = source_column_types(source('raw_harvest', 'time_entries')) -%}
{%- set cols = column_types -%}

with

source as (

    select * from {{ source('raw_harvest', 'time_entries') }}
    {{ changed_since_last_build(raw_timestamp(column_types, 'updated_at'), 'updated_at') }}

),

renamed as (

    select
        cast(id as bigint) as harvest_time_entry_id,
        {{ column_or_null(cols, 'project__id', 'bigint') }} as harvest_project_id,
        {{ column_or_null(cols, 'client__id', 'bigint') }} as harvest_client_id,
        {{ column_or_null(cols, 'task__id', 'bigint') }} as harvest_task_id,
        {{ column_or_null(cols, 'task__name', 'varchar') }} as task_name,
        {{ column_or_null(cols, 'user__id', 'bigint') }} as harvest_user_id,
        {{ iso_date(column_or_null(cols, 'spent_date', 'varchar')) }} as spent_date,
        cast({{ column_or_null(cols, 'hours', 'decimal(18, 4)') }} as decimal(18, 4)) as hours,
        cast({{ column_or_null(cols, 'rounded_hours', 'decimal(18, 4)') }} as decimal(18, 4)) as rounded_hours,
        {{ column_or_null(cols, 'notes', 'varchar') }} as notes,
        coalesce({{ column_or_null(cols, 'billable', 'boolean') }}, false) as is_billable,
        cast({{ column_or_null(cols, 'billable_rate', 'decimal(18, 4)') }} as decimal(18, 4)) as billable_rate,
        cast({{ column_or_null(cols, 'cost_rate', 'decimal(18, 4)') }} as decimal(18, 4)) as cost_rate,
        coalesce({{ column_or_null(cols, 'is_closed', 'boolean') }}, false) as is_closed,
        coalesce({{ column_or_null(cols, 'is_locked', 'boolean') }}, false) as is_locked,
        coalesce({{ column_or_null(cols, 'is_billed', 'boolean') }}, false) as is_billed_in_harvest,
        coalesce({{ column_or_null(cols, 'is_running', 'boolean') }}, false) as is_running,
        {{ column_or_null(cols, 'invoice__id', 'bigint') }} as harvest_invoice_id,
        nullif(trim({{ column_or_null(cols, 'invoice__number', 'varchar') }}), '') as harvest_invoice_number,
        {{ column_or_null(cols, 'external_reference', 'varchar') }} as external_reference,
        {{ iso_timestamp(column_or_null(cols, 'created_at', 'varchar')) }} as created_at,
        {{ iso_timestamp(column_or_null(cols, 'updated_at', 'varchar')) }} as updated_at,
        -- the dbt invocation that staged this version: what a narrowed rebuild reaches
        -- below (macros/incremental/reach.sql)
        '{{ invocation_id }}' as staged_in_invocation

    from source

),

final as (

    select * from renamed

)

select * from final
