{#- One row per hourly Harvest project of a closed-won deal (not fixed fee, with a
    cost_budget): its billable time value up to as_of_date against the budget (DESIGN.md
    §6 over_budget_without_change_request; pending change requests don't count because
    the budget is what the project says). A draft with work on an over-budget project is
    blocked. -#}

with

projects as (
    select * from {{ ref('stg_harvest__projects') }}
),

work_entries as (
    select * from {{ ref('int_work_entries_rated') }}
),

hourly_projects as (
    select
        projects.harvest_project_id,
        projects.cost_budget
    from projects
    where not projects.is_fixed_fee
        and projects.cost_budget is not null
),

valued as (
    select
        hourly_projects.harvest_project_id,
        any_value(work_entries.currency_code) as currency_code,
        hourly_projects.cost_budget,
        coalesce(sum(work_entries.value_amount) filter (
            where work_entries.work_item_kind = 'time'
                and work_entries.is_billable
                and work_entries.spent_date <= {{ as_of_date() }}
        ), 0) as billable_time_value,
        bool_or(work_entries.is_deal_won) as is_deal_won
    from hourly_projects
    inner join work_entries
        on hourly_projects.harvest_project_id = work_entries.harvest_project_id
    group by hourly_projects.harvest_project_id, hourly_projects.cost_budget
),

final as (
    select
        valued.harvest_project_id,
        valued.currency_code,
        valued.cost_budget,
        cast(valued.billable_time_value as decimal(18, 2)) as billable_time_value,
        cast(greatest(valued.billable_time_value - valued.cost_budget, 0) as decimal(18, 2)) as over_budget_amount,
        valued.billable_time_value > valued.cost_budget as is_over_budget_without_change_request
    from valued
    where valued.is_deal_won
)

select * from final
