{%- set cols = source_columns(source('raw_xero', 'payments')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'payments'), cols, ['payment_id']) }}

),

renamed as (

    select
        cast(payment_id as varchar) as xero_payment_id,
        {{ column_or_null(cols, 'invoice__invoice_id', 'varchar') }} as xero_invoice_id,
        {{ column_or_null(cols, 'credit_note__credit_note_id', 'varchar') }} as xero_credit_note_id,
        {{ column_or_null(cols, 'account__account_id', 'varchar') }} as xero_account_id,
        {{ column_or_null(cols, 'account__code', 'varchar') }} as account_code,
        upper({{ column_or_null(cols, 'status', 'varchar') }}) as payment_status,
        upper({{ column_or_null(cols, 'payment_type', 'varchar') }}) as payment_type,
        nullif(trim({{ column_or_null(cols, 'reference', 'varchar') }}), '') as reference,
        {{ xero_date(column_or_null(cols, 'date', 'varchar')) }} as payment_date,
        {{ money(column_or_null(cols, 'amount', 'decimal(18, 2)')) }} as amount,
        cast({{ column_or_null(cols, 'currency_rate', 'decimal(18, 10)') }} as decimal(18, 10)) as currency_rate,
        {{ xero_timestamp(column_or_null(cols, 'updated_date_utc', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
