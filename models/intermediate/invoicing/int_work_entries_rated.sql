{{ config(materialized="table") }}

{#- One row per Harvest time entry and expense with what drafts and KPIs need: value
    (hours × billable rate, or total cost), service type, currency (the project client's),
    approval, the project's closed-won deal and customer, and the contracted rate of a
    billable time entry (from int_time_entries_rate_checked, DESIGN.md §6 rate_mismatch). -#}

with

time_entries as (
    select * from {{ ref('stg_harvest__time_entries') }}
),

expenses as (
    select * from {{ ref('stg_harvest__expenses') }}
),

projects as (
    select * from {{ ref('stg_harvest__projects') }}
),

clients as (
    select * from {{ ref('stg_harvest__clients') }}
),

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

deal_companies as (
    select * from {{ ref('stg_hubspot__deal_company_associations') }}
),

service_catalogue as (
    select * from {{ ref('service_catalogue') }}
),

rate_checks as (
    -- the rate_mismatch rule lives in one place: the contracted rate of every billable time entry
    select * from {{ ref('int_time_entries_rate_checked') }}
),

entries as (
    select
        'time' as work_item_kind,
        time_entries.harvest_time_entry_id as harvest_id,
        time_entries.harvest_project_id,
        time_entries.task_name as work_name,
        time_entries.notes,
        time_entries.spent_date,
        coalesce(time_entries.hours, 0) as hours,
        time_entries.billable_rate,
        cast(coalesce(time_entries.hours, 0) * coalesce(time_entries.billable_rate, 0) as decimal(18, 6)) as value_amount,
        time_entries.is_billable,
        time_entries.is_closed as is_approved,
        time_entries.harvest_invoice_number
    from time_entries
    union all
    select
        'expense' as work_item_kind,
        expenses.harvest_expense_id,
        expenses.harvest_project_id,
        expenses.expense_category_name,
        expenses.notes,
        expenses.spent_date,
        cast(0 as decimal(18, 4)),
        cast(null as decimal(18, 4)),
        cast(coalesce(expenses.total_cost, 0) as decimal(18, 6)),
        expenses.is_billable,
        expenses.is_closed,
        expenses.harvest_invoice_number
    from expenses
),

project_deals as (
    select
        projects.harvest_project_id,
        projects.project_name,
        projects.is_fixed_fee,
        coalesce(projects.currency_code, clients.currency_code, 'EUR') as currency_code,
        deals.hubspot_deal_id,
        deals.deal_stage = 'closedwon' as is_deal_won,
        (
            select deal_companies.hubspot_company_id
            from deal_companies
            where deal_companies.deal_dlt_id = deals.dlt_id
            order by deal_companies.position
            limit 1
        ) as deal_company_id
    from projects
    left join clients
        on projects.harvest_client_id = clients.harvest_client_id
    left join deals
        on projects.project_code = deals.hubspot_deal_id
),

services as (
    select
        service_catalogue.task_name,
        min(service_catalogue.service_type) as service_type
    from service_catalogue
    group by service_catalogue.task_name
),

typed as (
    select
        entries.*,
        project_deals.project_name,
        project_deals.currency_code,
        project_deals.hubspot_deal_id,
        coalesce(project_deals.is_deal_won, false) as is_deal_won,
        project_deals.deal_company_id,
        case
            when entries.work_item_kind = 'time' then coalesce(services.service_type, entries.work_name)
        end as service_type
    from entries
    left join project_deals
        on entries.harvest_project_id = project_deals.harvest_project_id
    left join services
        on entries.work_item_kind = 'time'
        and entries.work_name = services.task_name
),

contracted as (
    select
        typed.*,
        rate_checks.contracted_rate
    from typed
    left join rate_checks
        on typed.work_item_kind = 'time'
        and typed.harvest_id = rate_checks.harvest_time_entry_id
),

final as (
    select
        contracted.work_item_kind || ':' || contracted.harvest_id as work_item_id,
        contracted.work_item_kind,
        cast(contracted.harvest_id as varchar) as source_id,
        case when contracted.work_item_kind = 'time' then contracted.harvest_id end as harvest_time_entry_id,
        case when contracted.work_item_kind = 'expense' then contracted.harvest_id end as harvest_expense_id,
        contracted.harvest_project_id,
        contracted.project_name,
        contracted.hubspot_deal_id,
        contracted.is_deal_won,
        case when contracted.is_deal_won then contracted.deal_company_id end as hubspot_company_id,
        contracted.currency_code,
        contracted.work_name,
        contracted.notes,
        contracted.service_type,
        contracted.spent_date,
        contracted.hours,
        contracted.billable_rate,
        contracted.value_amount,
        contracted.is_billable,
        contracted.is_approved,
        contracted.harvest_invoice_number,
        cast(contracted.contracted_rate as decimal(18, 4)) as contracted_rate,
        case
            when contracted.work_item_kind = 'time'
                and contracted.is_billable
                and contracted.contracted_rate is not null
                and contracted.contracted_rate != coalesce(contracted.billable_rate, 0)
                then cast(contracted.contracted_rate - coalesce(contracted.billable_rate, 0) as decimal(18, 4))
        end as rate_gap
    from contracted
)

select * from final
