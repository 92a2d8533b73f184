{%- set cols = source_columns(source('raw_xero', 'journals')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'journals'), cols, ['journal_id']) }}

),

renamed as (

    select
        cast(journal_id as varchar) as xero_journal_id,
        cast({{ column_or_null(cols, 'journal_number', 'bigint') }} as bigint) as journal_number,
        {{ xero_date(column_or_null(cols, 'journal_date', 'varchar')) }} as journal_date,
        {{ xero_timestamp(column_or_null(cols, 'created_date_utc', 'varchar')) }} as created_at,
        nullif(trim({{ column_or_null(cols, 'reference', 'varchar') }}), '') as reference,
        {{ column_or_null(cols, 'source_id', 'varchar') }} as source_id,
        upper({{ column_or_null(cols, 'source_type', 'varchar') }}) as source_type

    from source

),

final as (

    select * from renamed

)

select * from final
