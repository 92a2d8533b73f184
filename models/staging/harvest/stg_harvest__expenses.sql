{%- set cols = source_columns(source('raw_harvest', 'expenses')) -%}

with

source as (

    {{ source_rows(source('raw_harvest', 'expenses'), cols, ['id']) }}

),

renamed as (

    select
        cast(id as bigint) as harvest_expense_id,
        {{ column_or_null(cols, 'project__id', 'bigint') }} as harvest_project_id,
        {{ column_or_null(cols, 'client__id', 'bigint') }} as harvest_client_id,
        upper(trim({{ column_or_null(cols, 'client__currency', 'varchar') }})) as currency_code,
        {{ column_or_null(cols, 'expense_category__id', 'bigint') }} as expense_category_id,
        {{ column_or_null(cols, 'expense_category__name', 'varchar') }} as expense_category_name,
        {{ column_or_null(cols, 'user__id', 'bigint') }} as harvest_user_id,
        {{ iso_date(column_or_null(cols, 'spent_date', 'varchar')) }} as spent_date,
        {{ column_or_null(cols, 'notes', 'varchar') }} as notes,
        cast({{ column_or_null(cols, 'units', 'decimal(18, 4)') }} as decimal(18, 4)) as units,
        {{ money(column_or_null(cols, 'total_cost', 'decimal(18, 2)')) }} as total_cost,
        coalesce({{ column_or_null(cols, 'billable', 'boolean') }}, false) as is_billable,
        coalesce({{ column_or_null(cols, 'is_closed', 'boolean') }}, false) as is_closed,
        coalesce({{ column_or_null(cols, 'is_locked', 'boolean') }}, false) as is_locked,
        coalesce({{ column_or_null(cols, 'is_billed', 'boolean') }}, false) as is_billed_in_harvest,
        {{ column_or_null(cols, 'invoice__id', 'bigint') }} as harvest_invoice_id,
        nullif(trim({{ column_or_null(cols, 'invoice__number', 'varchar') }}), '') as harvest_invoice_number,
        {{ iso_timestamp(column_or_null(cols, 'created_at', 'varchar')) }} as created_at,
        {{ iso_timestamp(column_or_null(cols, 'updated_at', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
