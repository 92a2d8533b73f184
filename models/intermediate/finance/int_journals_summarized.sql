{#- One row per Xero journal dated on or before `as_of_date` with its EUR totals by
    account role (DESIGN.md §6): gross = receivables lines, revenue net = revenue lines
    (sign flipped: a credit is positive revenue), tax = output-VAT lines (sign flipped).
    Revenue lines: account type REVENUE or SALES (the line's, else the account's).
    Incremental (macros/incremental/journal_totals.sql): a rebuild after a day's Xero
    changes writes only the journals whose lines it staged, the new ones and those gone
    from Xero (`summed_journals`, noted by the pre_hook, which deletes their rows) and
    keeps every other row (600k journals read and written by difference at 10m before).
    `staged_in_invocation`: the dbt invocation that wrote the row. -#}
{%- set kept = journal_totals_kept() %}

with

{%- if kept %}

summed_journals as (

    -- the journals this rebuild writes (noted by the pre_hook)
    select summed.xero_journal_id from {{ summed_journals_note() }} as summed

),
{%- endif %}

journals as (

    select * from {{ ref('stg_xero__journals') }}
    {%- if kept %}
    where xero_journal_id in (select summed_journals.xero_journal_id from summed_journals)
        or xero_journal_id is null
    {%- endif %}

),

journal_lines as (

    select * from {{ ref('stg_xero__journal_lines') }}

),

accounts as (

    select * from {{ ref('stg_xero__accounts') }}

),

account_roles as (

    select * from {{ ref('account_roles') }}

),

roles as (

    select
        max(account_roles.account_code) filter (where account_roles.role = 'receivables') as receivables_code,
        max(account_roles.account_code) filter (where account_roles.role = 'output_vat') as output_vat_code
    from account_roles

),

lines_classified as (

    select
        journal_lines.xero_journal_id,
        journal_lines.account_code,
        journal_lines.net_amount,
        journal_lines.gross_amount,
        journal_lines.account_code = roles.receivables_code as is_receivables,
        journal_lines.account_code = roles.output_vat_code as is_output_vat,
        coalesce(nullif(journal_lines.account_type, ''), accounts.account_type) in ('REVENUE', 'SALES')
            as is_revenue
    from journal_lines
    cross join roles
    left join accounts
        on journal_lines.account_code = accounts.account_code
    {%- if kept %}
    where journal_lines.xero_journal_id in (select summed_journals.xero_journal_id from summed_journals)
    {%- endif %}

),

totals as (

    select
        lines_classified.xero_journal_id,
        count(*) as line_count,
        cast(coalesce(sum(lines_classified.gross_amount) filter (where lines_classified.is_receivables), 0) as decimal(18, 2)) as receivables_gross_eur,
        cast(-coalesce(sum(lines_classified.net_amount) filter (where lines_classified.is_revenue), 0) as decimal(18, 2)) as revenue_net_eur,
        cast(-coalesce(sum(lines_classified.net_amount) filter (where lines_classified.is_output_vat), 0) as decimal(18, 2)) as output_vat_eur,
        count(*) filter (where lines_classified.is_revenue) as revenue_line_count
    from lines_classified
    group by 1

),

final as (

    select
        journals.xero_journal_id,
        journals.journal_number,
        journals.journal_date,
        journals.source_type,
        journals.source_id,
        journals.reference,
        coalesce(totals.line_count, 0) as line_count,
        coalesce(totals.revenue_line_count, 0) as revenue_line_count,
        coalesce(totals.receivables_gross_eur, 0) as receivables_gross_eur,
        coalesce(totals.revenue_net_eur, 0) as revenue_net_eur,
        coalesce(totals.output_vat_eur, 0) as output_vat_eur,
        '{{ invocation_id }}' as staged_in_invocation
    from journals
    left join totals
        on journals.xero_journal_id = totals.xero_journal_id
    where journals.journal_date <= {{ as_of_date() }}

)

select * from final
