{#- One row per calendar date: whether it is a business day (the business_calendar seed
    where it has the date, else Monday–Friday without German nationwide holidays) and the
    running count of business days. "More than N business days after d" is
    business_day_number(as_of) − business_day_number(d) > N: the business days in (d, as_of]. -#}



with

business_calendar as (

    select * from {{ ref('business_calendar') }}

),

bounds as (

    select
        least(coalesce(min(cast(business_calendar.calendar_date as date)), {{ as_of_date() }}), {{ as_of_date() }} - interval 5 year) as first_date,
        greatest(coalesce(max(cast(business_calendar.calendar_date as date)), {{ as_of_date() }}), {{ as_of_date() }}) + interval 2 year as last_date
    from business_calendar

),

spine as (

    select cast(days.generate_series as date) as calendar_date
    from bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval 1 day) as days

),

classified as (

    select
        spine.calendar_date,
        coalesce(
            cast(business_calendar.is_business_day as boolean),
            isodow(spine.calendar_date) <= 5 and not tg_is_german_holiday(spine.calendar_date)
        ) as is_business_day
    from spine
    left join business_calendar
        on spine.calendar_date = cast(business_calendar.calendar_date as date)

),

final as (

    select
        classified.calendar_date,
        classified.is_business_day,
        cast(sum(case when classified.is_business_day then 1 else 0 end) over (
            order by classified.calendar_date
            rows between unbounded preceding and current row
        ) as integer) as business_day_number
    from classified

)

select * from final
