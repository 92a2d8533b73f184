{#- Accounts receivable and gross sales per month and customer, in EUR: AR at month end =
    Σ over invoices dated ≤ month end of (total − payments dated ≤ month end − credit
    allocations dated ≤ month end); gross sales = Σ totals of invoices dated in the month.
    Rows for the company as a whole carry hubspot_company_id = '*'.
    Incremental (dbt_project.yml, macros/incremental/reach.sql): a narrowed rebuild
    recomputes the months from the first one whose invoices, payments or credit
    allocations changed, every month when the spine changed, none when neither did (time
    entries reach these rows only through the spine). The customers (scopes) come from
    the last month, whose invoices include every earlier month's. -#}

{%- set narrow = rebuild_is_narrowed() %}

-- built first: the narrowing is decided the same way here and in the pre_hook
-- depends_on: {{ ref('int_billing_inputs_fingerprinted') }}

with

months as (
    select * from {{ ref('int_kpi_months_spined') }}
    {%- if narrow %}
    where month >= {{ reached_first_month() }}
    {%- endif %}
),

invoices as (
    select * from {{ ref('int_invoices_receivable_measured') }}
),

settlements as (
    select * from {{ ref('int_invoice_settlements_unioned') }}
),

outstanding as (
    select
        months.month,
        invoices.xero_invoice_id,
        coalesce(invoices.hubspot_company_id, '(unlinked)') as hubspot_company_id,
        (
            invoices.total - coalesce((
                select sum(settlements.amount)
                from settlements
                where settlements.xero_invoice_id = invoices.xero_invoice_id
                    and settlements.settlement_date <= months.month_end
            ), 0)
        ) / invoices.units_per_eur as outstanding_eur,
        case when invoices.invoice_month = months.month then invoices.total_eur else 0 end as sales_eur
    from months
    inner join invoices
        on invoices.invoice_date <= months.month_end
),

summed as (
    select
        outstanding.month,
        coalesce(outstanding.hubspot_company_id, '*') as hubspot_company_id,
        grouping(outstanding.hubspot_company_id) = 1 as is_company_total,
        sum(cast(outstanding.outstanding_eur as double)) as receivables_eur,
        sum(cast(outstanding.sales_eur as double)) as gross_sales_eur
    from outstanding
    group by grouping sets ((outstanding.month, outstanding.hubspot_company_id), (outstanding.month))
),

scopes as (
    select distinct summed.hubspot_company_id from summed
),

final as (
    -- every month for every scope, so the count-back walks calendar months without gaps
    select
        months.month,
        months.month_start,
        months.month_end,
        months.days_in_month,
        scopes.hubspot_company_id,
        coalesce(summed.receivables_eur, 0) as receivables_eur,
        coalesce(summed.gross_sales_eur, 0) as gross_sales_eur
    from months
    cross join scopes
    left join summed
        on months.month = summed.month
        and scopes.hubspot_company_id = summed.hubspot_company_id
)

select * from final
