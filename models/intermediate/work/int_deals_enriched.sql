{#- One row per HubSpot deal with its company, its change requests and its Harvest
    project (DESIGN.md §4): a project's `code` is the deal id; a change request (deal with
    `parent_deal_id`) has no project of its own, its work belongs to the parent's project,
    and it counts once closed-won. `customer_company_id` is the company the deal's work is
    billed to (a change request's: its parent deal's). -#}

with

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

deal_companies as (

    select * from {{ ref('stg_hubspot__deal_company_associations') }}

),

projects as (

    select * from {{ ref('stg_harvest__projects') }}

),

first_company as (

    select
        deal_companies.deal_dlt_id,
        deal_companies.hubspot_company_id
    from deal_companies
    qualify row_number() over (
        partition by deal_companies.deal_dlt_id order by deal_companies.position
    ) = 1

),

deals_with_company as (

    select
        deals.*,
        first_company.hubspot_company_id,
        deals.deal_stage = 'closedwon' as is_won,
        deals.parent_deal_id is not null as is_change_request,
        coalesce(deals.parent_deal_id, deals.hubspot_deal_id) as root_deal_id
    from deals
    left join first_company
        on deals.dlt_id = first_company.deal_dlt_id

),

change_requests as (

    select
        deals_with_company.parent_deal_id as hubspot_deal_id,
        count(*) as change_request_count,
        count(*) filter (where deals_with_company.is_won) as won_change_request_count,
        coalesce(sum(deals_with_company.amount) filter (where deals_with_company.is_won), 0)
            as won_change_request_amount
    from deals_with_company
    where deals_with_company.is_change_request
    group by 1

),

deal_projects as (

    select
        projects.project_code,
        min(projects.harvest_project_id) as harvest_project_id,
        count(*) as project_count
    from projects
    where projects.project_code is not null
    group by 1

),

final as (

    select
        deals_with_company.hubspot_deal_id,
        deals_with_company.deal_name,
        deals_with_company.deal_stage,
        deals_with_company.is_won,
        deals_with_company.is_change_request,
        deals_with_company.parent_deal_id,
        deals_with_company.root_deal_id,
        deals_with_company.hubspot_company_id,
        coalesce(parent.hubspot_company_id, deals_with_company.hubspot_company_id)
            as customer_company_id,
        deals_with_company.billing_model,
        deals_with_company.currency_code,
        deals_with_company.amount,
        deals_with_company.close_date,
        coalesce(change_requests.change_request_count, 0) as change_request_count,
        coalesce(change_requests.won_change_request_count, 0) as won_change_request_count,
        {{ money('coalesce(change_requests.won_change_request_amount, 0)') }}
            as won_change_request_amount,
        {{ money('deals_with_company.amount + coalesce(change_requests.won_change_request_amount, 0)') }}
            as expected_budget,
        deal_projects.harvest_project_id,
        coalesce(deal_projects.project_count, 0) as project_count
    from deals_with_company
    left join deals_with_company as parent
        on deals_with_company.parent_deal_id = parent.hubspot_deal_id
    left join change_requests
        on deals_with_company.hubspot_deal_id = change_requests.hubspot_deal_id
    left join deal_projects
        on deals_with_company.root_deal_id = deal_projects.project_code

)

select * from final
