{#- Closed-won deal (not a change request, closed by as_of) with no project carrying its
    id as code, more than the handover SLA (business days) after its close date. -#}

with

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

business_days as (

    select * from {{ ref('int_business_days_numbered') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

as_of_day as (

    select business_days.business_day_number
    from business_days
    where business_days.calendar_date = {{ as_of_date() }}

),

late as (

    select
        deals.*,
        as_of_day.business_day_number - closed_day.business_day_number as business_days_waiting
    from deals
    inner join business_days as closed_day
        on deals.close_date = closed_day.calendar_date
    cross join as_of_day
    where deals.is_won
        and not deals.is_change_request
        and deals.close_date <= {{ as_of_date() }}
        and deals.project_count = 0
        and as_of_day.business_day_number - closed_day.business_day_number
            > {{ var('handover_sla_business_days') }}

),

final as (

    select
        'won_deal_without_project' as check_name,
        json_object('hubspot_deal_id', late.hubspot_deal_id) as finding_keys,
        late.hubspot_deal_id,
        late.hubspot_company_id,
        abs(late.amount) as amount_at_stake,
        coalesce(late.currency_code, 'EUR') as currency_code,
        {{ to_eur('abs(late.amount)', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        late.close_date as issue_date,
        false as blocks_draft,
        'sales_ops' as owner_role,
        'Deal ' || late.hubspot_deal_id || ' (' || coalesce(late.deal_name, 'unnamed') || ') was won on '
            || strftime(late.close_date, '%Y-%m-%d') || ' but after ' || late.business_days_waiting
            || ' business days no Harvest project carries its id as code, so its work cannot be tracked or billed.'
            as explanation
    from late
    left join fx_rates
        on late.close_date = fx_rates.rate_date
        and coalesce(late.currency_code, 'EUR') = fx_rates.currency_code

)

select * from final
