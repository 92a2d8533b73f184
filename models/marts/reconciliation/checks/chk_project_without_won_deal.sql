{#- Billable Harvest project whose code is not a closed-won deal (no code, an unknown id,
    or a deal in another stage). At stake: the value of all billable work on it up to
    as_of (EUR at as_of). -#}

with

projects as (

    -- currency_code: the project's client currency, else the client record's, else EUR
    select * from {{ ref('int_harvest_projects_enriched') }}

),

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

work_items as (

    select * from {{ ref('int_work_items_billed') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

work_value as (

    select
        work_items.harvest_project_id,
        sum(work_items.value) as billable_value
    from work_items
    where work_items.work_item_kind in ('time', 'expense')
        and work_items.is_billable
        and work_items.work_date <= {{ as_of_date() }}
    group by 1

),

orphaned as (

    select
        projects.harvest_project_id,
        projects.harvest_client_id,
        projects.project_name,
        projects.project_code,
        projects.currency_code,
        deals.hubspot_deal_id,
        deals.deal_stage,
        coalesce(work_value.billable_value, 0) as billable_value
    from projects
    left join deals
        on projects.project_code = deals.hubspot_deal_id
    left join work_value
        on projects.harvest_project_id = work_value.harvest_project_id
    where projects.is_billable
        and not coalesce(deals.is_won, false)

),

final as (

    select
        'project_without_won_deal' as check_name,
        json_object('harvest_project_id', orphaned.harvest_project_id) as finding_keys,
        orphaned.harvest_project_id,
        orphaned.harvest_client_id,
        orphaned.hubspot_deal_id,
        {{ round_money('abs(orphaned.billable_value)') }} as amount_at_stake,
        orphaned.currency_code,
        {{ to_eur('abs(orphaned.billable_value)', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        {{ as_of_date() }} as issue_date,
        false as blocks_draft,
        'project_manager' as owner_role,
        'Billable Harvest project ' || orphaned.harvest_project_id || ' (' || coalesce(orphaned.project_name, 'unnamed') || ') '
            || case
                when orphaned.project_code is null then 'has no deal id as code'
                when orphaned.hubspot_deal_id is null then 'has code ' || orphaned.project_code || ', which is no HubSpot deal'
                else 'belongs to deal ' || orphaned.hubspot_deal_id || ' in stage ' || coalesce(orphaned.deal_stage, 'unknown')
            end
            || ', so its work has no won deal to bill against.' as explanation
    from orphaned
    left join fx_rates
        on {{ as_of_date() }} = fx_rates.rate_date
        and orphaned.currency_code = fx_rates.currency_code

)

select * from final
