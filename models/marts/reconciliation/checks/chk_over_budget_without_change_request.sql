{#- Hourly project of a closed-won deal whose billable time value up to as_of exceeds its
    `cost_budget` (pending change requests don't count). At stake: value − budget (EUR at
    as_of). Blocks a draft while the project has approved, unbilled billable work. -#}

with

budgets as (

    select * from {{ ref('int_project_budgets_compared') }}

),

work_items as (

    select * from {{ ref('int_work_items_billed') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

draftable as (

    select distinct work_items.harvest_project_id
    from work_items
    where work_items.work_item_kind in ('time', 'expense')
        and work_items.is_billable
        and work_items.is_approved
        and not work_items.is_billed
        and work_items.work_date <= {{ as_of_date() }}

),

final as (

    select
        'over_budget_without_change_request' as check_name,
        json_object('harvest_project_id', budgets.harvest_project_id) as finding_keys,
        budgets.harvest_project_id,
        budgets.hubspot_deal_id,
        {{ round_money('budgets.over_budget_value') }} as amount_at_stake,
        budgets.currency_code,
        {{ to_eur('budgets.over_budget_value', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        {{ as_of_date() }} as issue_date,
        draftable.harvest_project_id is not null as blocks_draft,
        'project_manager' as owner_role,
        'Project ' || budgets.harvest_project_id || ' has logged billable time worth '
            || cast(cast(budgets.billable_time_value as decimal(18, 2)) as varchar) || ' ' || budgets.currency_code
            || ', more than its cost budget of ' || cast(budgets.cost_budget as varchar)
            || ', and no won change request covers the difference.' as explanation
    from budgets
    left join draftable
        on budgets.harvest_project_id = draftable.harvest_project_id
    left join fx_rates
        on {{ as_of_date() }} = fx_rates.rate_date
        and budgets.currency_code = fx_rates.currency_code
    where budgets.is_over_budget_without_change_request

)

select * from final
