{#- One row per calendar date and currency: the ECB rate published that day or, on a date
    without one, the last published before it (DESIGN.md §4). EUR is 1 on every date. -#}

with

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

published as (

    select
        cast(fx_rates.rate_date as date) as rate_date,
        upper(trim(fx_rates.currency_code)) as currency_code,
        cast(fx_rates.units_per_eur as decimal(18, 6)) as units_per_eur
    from fx_rates
    where fx_rates.units_per_eur is not null

),

bounds as (

    select
        min(published.rate_date) as first_date,
        greatest(max(published.rate_date), {{ as_of_date() }}) + interval 2 year as last_date
    from published

),

calendar as (

    select cast(spine.generate_series as date) as rate_date
    from bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval 1 day) as spine

),

currencies as (

    select distinct published.currency_code from published
    where published.currency_code <> 'EUR'

),

filled as (

    select
        calendar.rate_date,
        currencies.currency_code,
        last_value(published.units_per_eur ignore nulls) over (
            partition by currencies.currency_code
            order by calendar.rate_date
            rows between unbounded preceding and current row
        ) as units_per_eur
    from calendar
    cross join currencies
    left join published
        on calendar.rate_date = published.rate_date
        and currencies.currency_code = published.currency_code

),

euro as (

    select
        calendar.rate_date,
        'EUR' as currency_code,
        cast(1 as decimal(18, 6)) as units_per_eur
    from calendar

),

final as (

    select
        filled.rate_date || '|' || filled.currency_code as fx_rate_day_id,
        filled.rate_date,
        filled.currency_code,
        filled.units_per_eur
    from filled
    where filled.units_per_eur is not null
    union all
    select
        euro.rate_date || '|' || euro.currency_code as fx_rate_day_id,
        euro.rate_date,
        euro.currency_code,
        euro.units_per_eur
    from euro

)

select * from final
