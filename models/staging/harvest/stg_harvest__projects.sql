{%- set cols = source_columns(source('raw_harvest', 'projects')) -%}

with

source as (

    {{ source_rows(source('raw_harvest', 'projects'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as bigint) as harvest_project_id,
        {{ column_or_null(cols, 'client__id', 'bigint') }} as harvest_client_id,
        upper(trim({{ column_or_null(cols, 'client__currency', 'varchar') }})) as currency_code,
        {{ column_or_null(cols, 'name', 'varchar') }} as project_name,
        nullif(trim({{ column_or_null(cols, 'code', 'varchar') }}), '') as project_code,
        coalesce({{ column_or_null(cols, 'is_active', 'boolean') }}, false) as is_active,
        coalesce({{ column_or_null(cols, 'is_billable', 'boolean') }}, false) as is_billable,
        coalesce({{ column_or_null(cols, 'is_fixed_fee', 'boolean') }}, false) as is_fixed_fee,
        {{ column_or_null(cols, 'bill_by', 'varchar') }} as bill_by,
        {{ column_or_null(cols, 'budget_by', 'varchar') }} as budget_by,
        {{ money(column_or_null(cols, 'cost_budget', 'decimal(18, 2)')) }} as cost_budget,
        {{ money(column_or_null(cols, 'fee', 'decimal(18, 2)')) }} as fee,
        {{ iso_date(column_or_null(cols, 'starts_on', 'varchar')) }} as starts_on,
        {{ iso_date(column_or_null(cols, 'ends_on', 'varchar')) }} as ends_on,
        {{ iso_timestamp(column_or_null(cols, 'created_at', 'varchar')) }} as created_at,
        {{ iso_timestamp(column_or_null(cols, 'updated_at', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
