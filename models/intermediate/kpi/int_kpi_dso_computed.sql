{#- DSO per month and customer (and for the company as a whole, hubspot_company_id = '*').

    dso_countback: going back month by month from the KPI month, while the remaining AR ≥
    the month's gross sales, add its calendar days and subtract its sales; else add
    days × remaining AR / sales and stop. In closed form: the stop month is the latest
    month m ≤ K where AR < Σ sales of m..K (within 1e-6 EUR); days = Σ days of the months
    after it up to K + days(m) × (AR − Σ sales of the months after it) / sales(m). With no
    stop month (the history runs out, or the AR is used up exactly) the days of every
    month reached while AR was left count. 0.1 day, half-up.
    dso_simple: AR ÷ gross sales of the last 90 days (month end − 89 … month end) × 90. -#}

{%- set narrow = rebuild_is_narrowed() %}

-- the pre_hook drops the rows of months no longer in the spine
-- depends_on: {{ ref('int_kpi_months_spined') }}

with

balances as (
    select * from {{ ref('int_receivables_month_ended') }}
    {%- if narrow %}
    -- a narrowed rebuild that recomputes no month reads nothing
    where {{ reached_first_month() }} is not null
    {%- endif %}
),

kpi_balances as (
    -- incremental: the months the receivables recomputed (dbt_project.yml); the walk
    -- and the 90 days look back from them into every month
    select * from balances
    {%- if narrow %}
    where month >= {{ reached_first_month() }}
    {%- endif %}
),

invoices as (
    select * from {{ ref('int_invoices_receivable_measured') }}
    {%- if narrow %}
    where {{ reached_first_month() }} is not null
    {%- endif %}
),

running as (
    -- per scope, from its first month: gross sales and calendar days up to each month.
    -- Sales in whole 1e-8 EUR (kpi_eur_units: the precision the walk compares at), so that the sales of
    -- months m..K, a difference of two running sums, is exact whichever month K reads it
    select
        balances.month,
        balances.month_start,
        balances.hubspot_company_id,
        balances.days_in_month,
        {{ kpi_eur_units('balances.gross_sales_eur') }} as sales_units,
        sum({{ kpi_eur_units('balances.gross_sales_eur') }}) over by_month as sales_through_units,
        sum(balances.days_in_month) over by_month as days_through
    from balances
    window by_month as (
        partition by balances.hubspot_company_id
        order by balances.month_start
        rows between unbounded preceding and current row
    )
),

walked as (
    -- each KPI month K with every month m up to it: AR left after the sales of the
    -- months after m, the sales of m, and the days of the months after m up to K (a join
    -- on the running sums, not a window per month K)
    select
        kpi_month.month,
        kpi_month.hubspot_company_id,
        kpi_month.receivables_eur,
        walk_month.month_start as walk_month_start,
        walk_month.days_in_month as walk_days,
        walk_month.sales_units as walk_sales_units,
        {{ kpi_eur_units('kpi_month.receivables_eur') }}
            - (kpi_running.sales_through_units - walk_month.sales_through_units) as ar_left_units,
        kpi_running.days_through - walk_month.days_through as days_after
    from kpi_balances as kpi_month
    inner join running as kpi_running
        on kpi_month.hubspot_company_id = kpi_running.hubspot_company_id
        and kpi_month.month = kpi_running.month
    inner join running as walk_month
        on kpi_month.hubspot_company_id = walk_month.hubspot_company_id
        and walk_month.month_start <= kpi_month.month_start
),

stopped as (
    select
        walked.month,
        walked.hubspot_company_id,
        any_value(walked.receivables_eur) as receivables_eur,
        -- no stop month: count the months walked while AR was left to explain (a month
        -- whose sales use up the AR exactly is the last one counted). "Exactly" is within
        -- 1e-6 EUR (100 units): each month's sales and the AR are rounded to units
        -- separately, so a sum of sales equal to the AR may differ from it by a few units
        sum(walked.walk_days) filter (where walked.ar_left_units > 100) as all_days,
        -- the stop month: the AR left is less than its sales
        arg_max(
            walked.days_after + walked.walk_days * cast(walked.ar_left_units as double) / cast(walked.walk_sales_units as double),
            walked.walk_month_start
        ) filter (where walked.walk_sales_units - walked.ar_left_units > 100) as countback_days
    from walked
    group by walked.month, walked.hubspot_company_id
),

invoice_sales as (
    -- each invoice under its customer and once more under '*' (the company as a whole),
    -- so the 90-day sums below are an equi-join, not an `or` join (a nested loop)
    select
        coalesce(invoices.hubspot_company_id, '(unlinked)') as hubspot_company_id,
        invoices.invoice_date,
        invoices.total_eur
    from invoices
    union all
    select
        '*' as hubspot_company_id,
        invoices.invoice_date,
        invoices.total_eur
    from invoices
),

recent_sales as (
    select
        kpi_balances.month,
        kpi_balances.hubspot_company_id,
        coalesce(sum(invoice_sales.total_eur), 0) as sales_90_days_eur
    from kpi_balances
    left join invoice_sales
        on kpi_balances.hubspot_company_id = invoice_sales.hubspot_company_id
        and invoice_sales.invoice_date > kpi_balances.month_end - 90
        and invoice_sales.invoice_date <= kpi_balances.month_end
    group by kpi_balances.month, kpi_balances.hubspot_company_id
),

final as (
    select
        stopped.month,
        stopped.hubspot_company_id,
        case
            when round(stopped.receivables_eur, 8) <= 0 then cast(0 as decimal(18, 1))
            else {{ kpi_round('coalesce(stopped.countback_days, stopped.all_days)', 1) }}
        end as dso_countback,
        {{ kpi_ratio('stopped.receivables_eur * 90', 'recent_sales.sales_90_days_eur', 1) }} as dso_simple
    from stopped
    inner join recent_sales
        on stopped.month = recent_sales.month
        and stopped.hubspot_company_id = recent_sales.hubspot_company_id
)

select * from final
