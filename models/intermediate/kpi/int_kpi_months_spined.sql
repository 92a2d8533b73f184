{#- One row per calendar month from the first month with a posted invoice or work spent on
    or before as_of_date, up to the month of as_of_date: the months every KPI is reported
    for. month_end is the month's last day, or as_of_date in the as-of month (a KPI "at
    month end" never looks past as_of_date); days_in_month counts month_start..month_end. -#}

with

invoices as (
    select * from {{ ref('stg_xero__invoices') }}
),

time_entries as (
    select * from {{ ref('stg_harvest__time_entries') }}
),

expenses as (
    select * from {{ ref('stg_harvest__expenses') }}
),

first_dates as (
    select min(invoices.invoice_date) as first_date
    from invoices
    where invoices.invoice_type = 'ACCREC'
        and invoices.invoice_status in ('AUTHORISED', 'PAID')
    union all
    select min(time_entries.spent_date)
    from time_entries
    where time_entries.spent_date <= {{ as_of_date() }}
    union all
    select min(expenses.spent_date)
    from expenses
    where expenses.spent_date <= {{ as_of_date() }}
),

bounds as (
    select
        date_trunc('month', coalesce(min(first_dates.first_date), {{ as_of_date() }})) as first_month_start,
        date_trunc('month', {{ as_of_date() }}) as last_month_start
    from first_dates
),

spined as (
    select cast(generated.month_start as date) as month_start
    from bounds
    cross join lateral (
        select unnest(generate_series(bounds.first_month_start, bounds.last_month_start, interval 1 month)) as month_start
    ) as generated
),

ended as (
    select
        spined.month_start,
        cast(least(last_day(spined.month_start), {{ as_of_date() }}) as date) as month_end,
        cast(last_day(spined.month_start) as date) as calendar_month_end
    from spined
),

final as (
    select
        strftime(ended.month_start, '%Y-%m') as month,
        ended.month_start,
        ended.month_end,
        ended.calendar_month_end,
        cast(ended.month_end - ended.month_start + 1 as integer) as days_in_month
    from ended
)

select * from final
