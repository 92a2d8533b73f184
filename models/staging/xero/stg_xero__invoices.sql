{%- set cols = source_columns(source('raw_xero', 'invoices')) -%}

with

source as (

    {{ source_rows(source('raw_xero', 'invoices'), cols, ['invoice_id']) }}

),

renamed as (

    select
        cast(invoice_id as varchar) as xero_invoice_id,
        cast(_dlt_id as varchar) as dlt_id,
        upper({{ column_or_null(cols, 'type', 'varchar') }}) as invoice_type,
        {{ column_or_null(cols, 'invoice_number', 'varchar') }} as invoice_number,
        nullif(trim({{ column_or_null(cols, 'reference', 'varchar') }}), '') as reference,
        {{ column_or_null(cols, 'contact__contact_id', 'varchar') }} as xero_contact_id,
        upper({{ column_or_null(cols, 'status', 'varchar') }}) as invoice_status,
        {{ column_or_null(cols, 'line_amount_types', 'varchar') }} as line_amount_types,
        {{ xero_date(column_or_null(cols, 'date', 'varchar')) }} as invoice_date,
        {{ xero_date(column_or_null(cols, 'due_date', 'varchar')) }} as due_date,
        {{ xero_date(column_or_null(cols, 'fully_paid_on_date', 'varchar')) }} as fully_paid_on_date,
        upper({{ column_or_null(cols, 'currency_code', 'varchar') }}) as currency_code,
        cast({{ column_or_null(cols, 'currency_rate', 'decimal(18, 10)') }} as decimal(18, 10)) as currency_rate,
        {{ money(column_or_null(cols, 'sub_total', 'decimal(18, 2)')) }} as sub_total,
        {{ money(column_or_null(cols, 'total_tax', 'decimal(18, 2)')) }} as total_tax,
        {{ money(column_or_null(cols, 'total', 'decimal(18, 2)')) }} as total,
        {{ money(column_or_null(cols, 'amount_due', 'decimal(18, 2)')) }} as amount_due,
        {{ money(column_or_null(cols, 'amount_paid', 'decimal(18, 2)')) }} as amount_paid,
        {{ money(column_or_null(cols, 'amount_credited', 'decimal(18, 2)')) }} as amount_credited,
        {{ xero_timestamp(column_or_null(cols, 'updated_date_utc', 'varchar')) }} as updated_at

    from source

),

final as (

    select * from renamed

)

select * from final
