{%- set cols = source_columns(source('raw_xero', 'credit_notes')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'credit_notes'), cols, ['credit_note_id']) }}

),

renamed as (

    select
        cast(credit_note_id as varchar) as xero_credit_note_id,
        cast(_dlt_id as varchar) as dlt_id,
        {{ column_or_null(cols, 'credit_note_number', 'varchar') }} as credit_note_number,
        upper({{ column_or_null(cols, 'type', 'varchar') }}) as credit_note_type,
        upper({{ column_or_null(cols, 'status', 'varchar') }}) as credit_note_status,
        {{ column_or_null(cols, 'contact__contact_id', 'varchar') }} as xero_contact_id,
        nullif(trim({{ column_or_null(cols, 'reference', 'varchar') }}), '') as reference,
        {{ xero_date(column_or_null(cols, 'date', 'varchar')) }} as credit_note_date,
        upper({{ column_or_null(cols, 'currency_code', 'varchar') }}) as currency_code,
        cast({{ column_or_null(cols, 'currency_rate', 'decimal(18, 10)') }} as decimal(18, 10)) as currency_rate,
        {{ money(column_or_null(cols, 'sub_total', 'decimal(18, 2)')) }} as sub_total,
        {{ money(column_or_null(cols, 'total_tax', 'decimal(18, 2)')) }} as total_tax,
        {{ money(column_or_null(cols, 'total', 'decimal(18, 2)')) }} as total,
        {{ money(column_or_null(cols, 'remaining_credit', 'decimal(18, 2)')) }} as remaining_credit,
        {{ xero_timestamp(column_or_null(cols, 'updated_date_utc', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
