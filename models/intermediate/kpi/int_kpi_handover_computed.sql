{#- handover_automation per month of close and customer ('*' = the whole company): won
    deals (closed-won, not change requests, closedate in the month up to as_of_date) with
    a project whose code is the deal id created within the handover SLA — at most
    `handover_sla_business_days` business days d with closedate < d ≤ the project's
    creation date — ÷ won deals. Business days from int_business_days_numbered. -#}

with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

deal_companies as (
    select * from {{ ref('stg_hubspot__deal_company_associations') }}
),

projects as (
    select
        staged_projects.harvest_project_id,
        staged_projects.project_code,
        staged_projects.created_at
    from {{ ref('stg_harvest__projects') }} as staged_projects
),

business_days as (
    select * from {{ ref('int_business_days_numbered') }}
),

won_deals as (
    select
        deals.hubspot_deal_id,
        deals.close_date,
        strftime(deals.close_date, '%Y-%m') as close_month,
        (
            select deal_companies.hubspot_company_id
            from deal_companies
            where deal_companies.deal_dlt_id = deals.dlt_id
            order by deal_companies.position
            limit 1
        ) as hubspot_company_id
    from deals
    where deals.deal_stage = 'closedwon'
        and deals.parent_deal_id is null
        and deals.close_date <= {{ as_of_date() }}
),

handed_over as (
    select
        won_deals.hubspot_deal_id,
        bool_or(
            projects.created_at is not null
            and greatest(created_day.business_day_number - closed_day.business_day_number, 0)
                <= {{ var('handover_sla_business_days') }}
        ) as is_handed_over_in_time
    from won_deals
    inner join projects
        on projects.project_code = won_deals.hubspot_deal_id
    left join business_days as closed_day
        on won_deals.close_date = closed_day.calendar_date
    left join business_days as created_day
        on cast(projects.created_at as date) = created_day.calendar_date
    group by won_deals.hubspot_deal_id
),

final as (
    select
        won_deals.close_month as month,
        coalesce(coalesce(won_deals.hubspot_company_id, '(unlinked)'), '*') as hubspot_company_id,
        {{ kpi_ratio('count(*) filter (where coalesce(handed_over.is_handed_over_in_time, false))', 'count(*)') }}
            as handover_automation
    from won_deals
    left join handed_over
        on won_deals.hubspot_deal_id = handed_over.hubspot_deal_id
    group by grouping sets (
        (won_deals.close_month, coalesce(won_deals.hubspot_company_id, '(unlinked)')),
        (won_deals.close_month)
    )
)

select * from final
