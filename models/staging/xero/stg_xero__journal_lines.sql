{#- Incremental (macros/incremental/staging_incremental.sql): journals never change once
    posted, so a rebuild stages only the journal lines not staged yet, marked with the dbt
    invocation that staged them (int_journals_summarized sums only their journals'). -#}
{{
    config(
        materialized='incremental',
        unique_key='xero_journal_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        post_hook="{{ delete_vanished_rows('xero_journal_line_id', source('raw_xero', 'journal_lines'), 'cast(journal_line_id as varchar)') }}",
    )
}}

{%- set cols = source_columns(source('raw_xero', 'journal_lines')) -%}

with

source as (

    select * from {{ source('raw_xero', 'journal_lines') }}
    {{ not_staged_yet('cast(journal_line_id as varchar)', 'xero_journal_line_id') }}

),

renamed as (

    select
        cast(journal_line_id as varchar) as xero_journal_line_id,
        cast(journal_id as varchar) as xero_journal_id,
        {{ column_or_null(cols, 'account_id', 'varchar') }} as xero_account_id,
        {{ column_or_null(cols, 'account_code', 'varchar') }} as account_code,
        upper({{ column_or_null(cols, 'account_type', 'varchar') }}) as account_type,
        {{ column_or_null(cols, 'account_name', 'varchar') }} as account_name,
        {{ column_or_null(cols, 'description', 'varchar') }} as description,
        {{ money(column_or_null(cols, 'net_amount', 'decimal(18, 2)')) }} as net_amount,
        {{ money(column_or_null(cols, 'gross_amount', 'decimal(18, 2)')) }} as gross_amount,
        {{ money(column_or_null(cols, 'tax_amount', 'decimal(18, 2)')) }} as tax_amount,
        {{ column_or_null(cols, 'tax_type', 'varchar') }} as tax_type,
        '{{ invocation_id }}' as staged_in_invocation

    from source

),

final as (

    select * from renamed

)

select * from final
