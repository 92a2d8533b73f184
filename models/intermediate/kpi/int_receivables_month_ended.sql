{#- Accounts receivable and gross sales per month and customer, in EUR: AR at month end =
    Σ over invoices dated ≤ month end of (total − payments dated ≤ month end − credit
    allocations dated ≤ month end); gross sales = Σ totals of invoices dated in the month.
    Rows for the company as a whole carry hubspot_company_id = '*'.
    Incremental (dbt_project.yml, macros/incremental/reach.sql): a narrowed rebuild
    recomputes the months from the first one whose invoices, payments or credit
    allocations changed, every month when the spine changed, none when neither did (time
    entries reach these rows only through the spine). AR is summed from each month's
    changes (invoice totals, less settlements) up to the month end, so every month costs
    one pass over the invoices and settlements, not one per month. -#}

{%- set narrow = rebuild_is_narrowed() %}

-- built first: the narrowing is decided the same way here and in the pre_hook
-- depends_on: {{ ref('int_billing_inputs_fingerprinted') }}

with

months as (
    select * from {{ ref('int_kpi_months_spined') }}
    {%- if narrow %}
    -- a narrowed rebuild that recomputes no month (a day's time entries alone) reads
    -- nothing: every later step starts from the months
    where {{ reached_first_month() }} is not null
    {%- endif %}
),

invoices as (
    select * from {{ ref('int_invoices_receivable_measured') }}
),

settlements as (
    select * from {{ ref('int_invoice_settlements_unioned') }}
),

changes as (
    -- what moves an invoice's receivable, on the day it counts: its total on the invoice
    -- date, each settlement on its own date or the invoice date when earlier (AR at a
    -- month end counts invoices dated ≤ month end, less their settlements dated ≤ it)
    select
        invoices.invoice_date as counted_date,
        coalesce(invoices.hubspot_company_id, '(unlinked)') as hubspot_company_id,
        invoices.total_eur as receivable_change_eur,
        invoices.total_eur as sales_eur
    from invoices
    union all
    select
        greatest(settlements.settlement_date, invoices.invoice_date),
        coalesce(invoices.hubspot_company_id, '(unlinked)'),
        -cast(settlements.amount / invoices.units_per_eur as double),
        0
    from settlements
    inner join invoices
        on settlements.xero_invoice_id = invoices.xero_invoice_id
    -- a settlement without a date is dated by no month end (greatest() would pass over
    -- the null and count it from the invoice date)
    where settlements.settlement_date is not null
),

summed as (
    -- per month and customer, and for the company as a whole ('*'); a change after
    -- as_of_date (month_end of the last month) counts in no month
    select
        months.month,
        coalesce(changes.hubspot_company_id, '*') as hubspot_company_id,
        sum(changes.receivable_change_eur) as receivable_change_eur,
        sum(changes.sales_eur) as gross_sales_eur
    from changes
    inner join months
        on changes.counted_date between months.month_start and months.month_end
    group by grouping sets ((months.month, changes.hubspot_company_id), (months.month))
),

scopes as (
    select distinct summed.hubspot_company_id from summed
),

running as (
    -- every month for every scope, so the count-back walks calendar months without gaps;
    -- AR at month end = the changes of every month up to it (each month from the first:
    -- a narrowed rebuild reads the earlier months' sums too)
    select
        months.month,
        months.month_start,
        months.month_end,
        months.days_in_month,
        scopes.hubspot_company_id,
        coalesce(sum(summed.receivable_change_eur) over (
            partition by scopes.hubspot_company_id
            order by months.month_start
            rows between unbounded preceding and current row
        ), 0) as receivables_eur,
        coalesce(summed.gross_sales_eur, 0) as gross_sales_eur
    from months
    cross join scopes
    left join summed
        on months.month = summed.month
        and scopes.hubspot_company_id = summed.hubspot_company_id
),

final as (
    select *
    from running
    {%- if narrow %}
    -- a narrowed rebuild: the months from the first one that changed
    where running.month >= {{ reached_first_month() }}
    {%- endif %}
)

select * from final
