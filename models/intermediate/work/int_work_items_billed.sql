{#- One row per piece of delivered work: every Harvest time entry and expense, and every
    payment-schedule line item (milestone) of a closed-won fixed-price deal, change
    requests included. With its project, deal (and whether it is closed-won), customer
    company (the deal's; a change request's parent's), service type, quantity, unit amount
    and value in the project client's currency — a missing hours or cost reads as 0; a
    milestone's value is its amount (else quantity × price) to the cent, in the deal's
    currency (a change request without one: its parent's) — approval (a milestone: whether
    it is due; due dates from int_line_items_classified), and what it is billed on: the existing Xero invoices
    int_work_billings_linked (the "billed on" rule of DESIGN.md §4) links to it.
    `is_billed` counts invoices dated on or before `as_of_date`. The one home of a work
    record's attributes for the checks, the drafts and the KPIs.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a narrowed rebuild
    recomputes only the rows of the work records it reaches. -#}

{%- set narrow = rebuild_is_narrowed() %}

with

time_entries as (

    select * from {{ ref('stg_harvest__time_entries') }}

),

expenses as (

    select * from {{ ref('stg_harvest__expenses') }}

),

projects as (

    -- currency_code: the project's client currency, else the client record's, else EUR
    select * from {{ ref('int_harvest_projects_enriched') }}

),

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

line_items as (

    select * from {{ ref('int_line_items_classified') }}

),

service_catalogue as (

    select * from {{ ref('service_catalogue') }}

),

billings as (

    {%- if narrow %}
    -- a narrowed rebuild: the links of the reached work records
    {{ reached_rows(ref('int_work_billings_linked'), 'harvest_time_entry_id', 'work_item_id') }}
    {%- else %}
    select * from {{ ref('int_work_billings_linked') }}
    {%- endif %}

),

projects_with_deal as (

    select
        projects.harvest_project_id,
        projects.project_name,
        projects.currency_code,
        deals.hubspot_deal_id,
        coalesce(deals.is_won, false) as is_deal_won,
        deals.customer_company_id as hubspot_company_id
    from projects
    left join deals
        on projects.project_code = deals.hubspot_deal_id

),

time_items as (

    select
        'time:' || time_entries.harvest_time_entry_id as work_item_id,
        'time' as work_item_kind,
        cast(time_entries.harvest_time_entry_id as varchar) as source_id,
        time_entries.harvest_time_entry_id,
        cast(null as bigint) as harvest_expense_id,
        cast(null as varchar) as hubspot_line_item_id,
        time_entries.harvest_project_id,
        time_entries.harvest_task_id,
        time_entries.task_name as description,
        time_entries.notes,
        coalesce(service_catalogue.service_type, time_entries.task_name) as service_type,
        time_entries.spent_date as work_date,
        cast(null as date) as billing_date,
        coalesce(time_entries.hours, 0) as quantity,
        time_entries.billable_rate as unit_amount,
        cast(coalesce(time_entries.hours, 0) * coalesce(time_entries.billable_rate, 0) as decimal(18, 6)) as value,
        time_entries.is_billable,
        time_entries.is_closed as is_approved,
        time_entries.harvest_invoice_number
    from time_entries
    left join service_catalogue
        on time_entries.task_name = service_catalogue.task_name
    {%- if narrow %}
    where time_entries.harvest_time_entry_id in {{ reached_ids('time') }}
    {%- endif %}

),

expense_items as (

    select
        'expense:' || expenses.harvest_expense_id as work_item_id,
        'expense' as work_item_kind,
        cast(expenses.harvest_expense_id as varchar) as source_id,
        cast(null as bigint) as harvest_time_entry_id,
        expenses.harvest_expense_id,
        cast(null as varchar) as hubspot_line_item_id,
        expenses.harvest_project_id,
        cast(null as bigint) as harvest_task_id,
        coalesce(expenses.expense_category_name, expenses.notes) as description,
        expenses.notes,
        cast(null as varchar) as service_type,
        expenses.spent_date as work_date,
        cast(null as date) as billing_date,
        cast(1 as decimal(18, 4)) as quantity,
        cast(coalesce(expenses.total_cost, 0) as decimal(18, 4)) as unit_amount,
        cast(coalesce(expenses.total_cost, 0) as decimal(18, 6)) as value,
        expenses.is_billable,
        expenses.is_closed as is_approved,
        expenses.harvest_invoice_number
    from expenses
    {%- if narrow %}
    where {{ 'expenses.harvest_expense_id in ' ~ reached_ids('expense') if reaches_kind('expense') else 'false' }}
    {%- endif %}

),

harvest_items as (

    select
        items.*,
        projects_with_deal.project_name,
        projects_with_deal.currency_code,
        projects_with_deal.hubspot_deal_id,
        projects_with_deal.is_deal_won,
        projects_with_deal.hubspot_company_id
    from (
        select * from time_items
        union all
        select * from expense_items
    ) as items
    left join projects_with_deal
        on items.harvest_project_id = projects_with_deal.harvest_project_id

),

milestone_items as (

    select
        'milestone:' || line_items.hubspot_line_item_id as work_item_id,
        'milestone' as work_item_kind,
        line_items.hubspot_line_item_id as source_id,
        cast(null as bigint) as harvest_time_entry_id,
        cast(null as bigint) as harvest_expense_id,
        line_items.hubspot_line_item_id,
        deals.harvest_project_id,
        cast(null as bigint) as harvest_task_id,
        line_items.line_item_name as description,
        cast(null as varchar) as notes,
        line_items.service_type,
        line_items.due_date as work_date,
        line_items.billing_date,
        coalesce(line_items.quantity, 1) as quantity,
        coalesce(line_items.price, line_items.amount) as unit_amount,
        -- money: the item's amount, else quantity × price rounded to the cent once
        {{ money('coalesce(line_items.amount, line_items.quantity * line_items.price)') }} as value,
        true as is_billable,
        line_items.due_date is not null as is_approved,
        cast(null as varchar) as harvest_invoice_number,
        projects.project_name,
        -- a change request is priced in its parent's currency when it names none
        coalesce(deals.currency_code, parent.currency_code, 'EUR') as currency_code,
        deals.hubspot_deal_id,
        deals.is_won as is_deal_won,
        deals.customer_company_id as hubspot_company_id
    from line_items
    inner join deals
        on line_items.hubspot_deal_id = deals.hubspot_deal_id
    left join deals as parent
        on deals.parent_deal_id = parent.hubspot_deal_id
    left join projects
        on deals.harvest_project_id = projects.harvest_project_id
    where line_items.line_item_role = 'milestone'
        and deals.is_won
        and deals.billing_model = 'fixed_price'
    {%- if narrow %}
        and {{ 'line_items.hubspot_line_item_id in ' ~ reached_ids('milestone') if reaches_kind('milestone') else 'false' }}
    {%- endif %}

),

all_items as (

    select * from harvest_items
    union all by name
    select * from milestone_items

),

billed as (

    select
        billings.work_item_id,
        -- sorted after the aggregate: an ordered aggregate sorts within every group
        -- (1m: 0.72 s → 0.43 s); a record's invoice ids are distinct (one link each)
        list_sort(
            list({'xero_invoice_id': billings.xero_invoice_id, 'invoice_number': billings.invoice_number})
        ) as billed_invoices,
        count(*) filter (where billings.invoice_date <= {{ as_of_date() }}) as billed_invoice_count,
        min(billings.invoice_date) as first_billed_date,
        min(billings.invoice_date) filter (where billings.is_posted) as first_posted_date
    from billings
    group by billings.work_item_id

),

final as (

    select
        all_items.work_item_id,
        all_items.work_item_kind,
        all_items.source_id,
        all_items.harvest_time_entry_id,
        all_items.harvest_expense_id,
        all_items.hubspot_line_item_id,
        all_items.harvest_project_id,
        all_items.project_name,
        all_items.hubspot_deal_id,
        coalesce(all_items.is_deal_won, false) as is_deal_won,
        all_items.hubspot_company_id,
        all_items.harvest_task_id,
        all_items.service_type,
        all_items.description,
        all_items.notes,
        all_items.work_date,
        all_items.billing_date,
        cast(all_items.quantity as decimal(18, 4)) as quantity,
        cast(all_items.unit_amount as decimal(18, 4)) as unit_amount,
        cast(all_items.value as decimal(18, 6)) as value,
        all_items.currency_code,
        coalesce(all_items.is_billable, false) as is_billable,
        coalesce(all_items.is_approved, false) as is_approved,
        all_items.harvest_invoice_number,
        coalesce(list_transform(billed.billed_invoices, lambda i: i.xero_invoice_id), []) as billed_invoice_ids,
        coalesce(list_transform(billed.billed_invoices, lambda i: i.invoice_number), []) as billed_invoice_numbers,
        coalesce(billed.billed_invoice_count, 0) as billed_invoice_count,
        billed.first_billed_date,
        billed.first_posted_date,
        coalesce(billed.billed_invoice_count, 0) > 0 as is_billed
    from all_items
    left join billed
        on all_items.work_item_id = billed.work_item_id

)

select * from final
