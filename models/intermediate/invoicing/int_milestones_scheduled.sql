{{ config(materialized="table") }}

{#- One row per payment-schedule line item (a line item with a billing_date) of a
    closed-won fixed-price deal, change requests included (DESIGN.md §4, §6): its amount,
    due date (billing_date, or the later of it and accepted_date when acceptance is
    required; never due while unaccepted), the customer (a change request bills to its
    parent deal's company), the project (Harvest project whose code is the deal id, or the
    parent's for a change request) and the currency. -#}

with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

deal_companies as (
    select * from {{ ref('stg_hubspot__deal_company_associations') }}
),

deal_line_items as (
    select * from {{ ref('stg_hubspot__deal_line_item_associations') }}
),

line_items as (
    select * from {{ ref('stg_hubspot__line_items') }}
),

projects as (
    select * from {{ ref('stg_harvest__projects') }}
),

deal_customers as (
    select
        deals.hubspot_deal_id,
        deals.dlt_id,
        deals.deal_stage,
        deals.billing_model,
        deals.currency_code,
        deals.parent_deal_id,
        (
            select deal_companies.hubspot_company_id
            from deal_companies
            where deal_companies.deal_dlt_id = deals.dlt_id
            order by deal_companies.position
            limit 1
        ) as hubspot_company_id
    from deals
),

scheduled as (
    select
        line_items.hubspot_line_item_id,
        line_items.line_item_name,
        deal_customers.hubspot_deal_id,
        coalesce(parent.hubspot_deal_id, deal_customers.hubspot_deal_id) as customer_deal_id,
        coalesce(deal_customers.parent_deal_id, deal_customers.hubspot_deal_id) as project_code,
        coalesce(parent.hubspot_company_id, deal_customers.hubspot_company_id) as hubspot_company_id,
        coalesce(deal_customers.currency_code, parent.currency_code, 'EUR') as currency_code,
        line_items.service_type,
        coalesce(line_items.amount, line_items.quantity * line_items.price) as amount,
        line_items.billing_date,
        case
            when not line_items.requires_acceptance then line_items.billing_date
            when line_items.accepted_date is not null then greatest(line_items.billing_date, line_items.accepted_date)
        end as due_date
    from deal_customers
    inner join deal_line_items
        on deal_line_items.deal_dlt_id = deal_customers.dlt_id
    inner join line_items
        on deal_line_items.hubspot_line_item_id = line_items.hubspot_line_item_id
    left join deal_customers as parent
        on deal_customers.parent_deal_id = parent.hubspot_deal_id
    where deal_customers.deal_stage = 'closedwon'
        and deal_customers.billing_model = 'fixed_price'
        and line_items.billing_date is not null
),

deal_projects as (
    select
        projects.project_code,
        min(projects.harvest_project_id) as harvest_project_id
    from projects
    where projects.project_code is not null
    group by projects.project_code
),

final as (
    select
        scheduled.hubspot_line_item_id,
        scheduled.line_item_name,
        scheduled.hubspot_deal_id,
        scheduled.customer_deal_id,
        scheduled.hubspot_company_id,
        deal_projects.harvest_project_id,
        scheduled.currency_code,
        scheduled.service_type,
        cast(scheduled.amount as decimal(18, 2)) as amount,
        scheduled.billing_date,
        scheduled.due_date
    from scheduled
    left join deal_projects
        on scheduled.project_code = deal_projects.project_code
)

select * from final
