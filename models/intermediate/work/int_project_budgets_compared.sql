{#- One row per Harvest project with its currency (int_harvest_projects_enriched), its
    deal, expected budget (deal amount + closed-won change requests), actual budget (`fee`
    when fixed fee, else `cost_budget`) and the billable time value up to `as_of_date`
    (DESIGN.md §6). An hourly project of a closed-won deal is over budget when that value
    exceeds its `cost_budget`; pending change requests don't count. -#}

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

time_value as (

    select
        work_items.harvest_project_id,
        sum(work_items.value) as billable_time_value
    from work_items
    where work_items.work_item_kind = 'time'
        and work_items.is_billable
        and work_items.work_date <= {{ as_of_date() }}
    group by 1

),

final as (

    select
        projects.harvest_project_id,
        projects.harvest_client_id,
        projects.project_code,
        projects.currency_code,
        projects.is_billable,
        projects.is_fixed_fee,
        deals.hubspot_deal_id,
        coalesce(deals.is_won, false) as is_deal_won,
        deals.expected_budget,
        case when projects.is_fixed_fee then projects.fee else projects.cost_budget end
            as actual_budget,
        projects.cost_budget,
        cast(coalesce(time_value.billable_time_value, 0) as decimal(18, 4)) as billable_time_value,
        cast(coalesce(time_value.billable_time_value, 0) - projects.cost_budget as decimal(18, 4))
            as over_budget_value,
        coalesce(
            not projects.is_fixed_fee
            and coalesce(deals.is_won, false)
            and projects.cost_budget is not null
            and coalesce(time_value.billable_time_value, 0) > projects.cost_budget,
            false
        ) as is_over_budget_without_change_request
    from projects
    left join deals
        on projects.project_code = deals.hubspot_deal_id
    left join time_value
        on projects.harvest_project_id = time_value.harvest_project_id

)

select * from final
