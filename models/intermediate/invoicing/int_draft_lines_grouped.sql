{#- Draft lines (DESIGN.md §7): one per project × service type × unit rate for time
    (quantity = hours, price = the entries' billable rate), one per expense (at cost), one
    per milestone. Line net = round(quantity × price, 2), half-up. Each line keeps the ids
    of the source records it bills, and its draft's customer and billing month.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a rebuild after
    time entries, invoices or the push ledger changed recomputes the lines of the customer months the draft items
    recomputed (a draft's key covers one customer, currency and month). -#}

{%- set narrow = rebuild_is_narrowed() %}

with

items as (
    select * from {{ ref('int_draft_items_selected') }}
    {%- if narrow %}
    where {{ in_upstream_customer_months('int_draft_items_selected', 'hubspot_company_id', "date_trunc('month', work_date)") }}
    {%- endif %}
),

service_catalogue as (
    select * from {{ ref('service_catalogue') }}
),

account_roles as (
    select * from {{ ref('account_roles') }}
),

services as (
    -- several Harvest tasks may share a service type: one name and account per type
    select
        service_catalogue.service_type,
        min(service_catalogue.service_name) as service_name,
        min(cast(service_catalogue.revenue_account_code as varchar)) as revenue_account_code
    from service_catalogue
    group by service_catalogue.service_type
),

keyed as (
    select
        items.*,
        case
            when items.work_item_kind = 'time'
                then concat_ws('|', 'time', items.harvest_project_id, items.service_type, items.unit_amount)
            else concat_ws('|', items.work_item_kind, items.source_id)
        end as line_group
    from items
),

aggregated as (
    select
        keyed.draft_key,
        keyed.line_group,
        any_value(keyed.work_item_kind) as kind,
        any_value(keyed.hubspot_company_id) as hubspot_company_id,
        any_value(keyed.harvest_project_id) as harvest_project_id,
        any_value(keyed.project_name) as project_name,
        any_value(keyed.service_type) as service_type,
        any_value(keyed.account_service_type) as account_service_type,
        any_value(keyed.billing_month) as billing_month,
        any_value(keyed.description) as item_description,
        cast(sum(keyed.quantity) as decimal(18, 4)) as quantity,
        cast(any_value(keyed.unit_amount) as decimal(18, 4)) as unit_amount,
        min(keyed.work_date) as first_work_date,
        min(keyed.source_id) as first_source_id,
        min(keyed.harvest_expense_id) as first_expense_id,
        list(keyed.harvest_time_entry_id order by keyed.harvest_time_entry_id)
            filter (where keyed.harvest_time_entry_id is not null) as harvest_time_entry_ids,
        list(keyed.harvest_expense_id order by keyed.harvest_expense_id)
            filter (where keyed.harvest_expense_id is not null) as harvest_expense_ids,
        list(keyed.hubspot_line_item_id order by keyed.hubspot_line_item_id)
            filter (where keyed.hubspot_line_item_id is not null) as hubspot_line_item_ids
    from keyed
    group by keyed.draft_key, keyed.line_group
),

described as (
    select
        aggregated.*,
        {{ round_money('aggregated.quantity * aggregated.unit_amount') }} as line_amount,
        {{ line_account_code('aggregated.kind', 'services.revenue_account_code') }} as account_code,
        case aggregated.kind
            when 'time' then concat(
                coalesce(services.service_name, aggregated.service_type, 'Services'),
                ' — ', coalesce(aggregated.project_name, 'project ' || aggregated.harvest_project_id),
                ', ', aggregated.billing_month
            )
            when 'expense' then concat(
                'Expense: ', coalesce(aggregated.item_description, 'expense'),
                ' (', strftime(aggregated.first_work_date, '%Y-%m-%d'), ')'
            )
            else coalesce(aggregated.item_description, 'Milestone')
        end as description,
        case aggregated.kind when 'time' then 1 when 'expense' then 2 else 3 end as kind_order
    from aggregated
    left join services
        on aggregated.account_service_type = services.service_type
),

numbered as (
    select
        described.*,
        cast(row_number() over (
            partition by described.draft_key
            order by
                described.kind_order,
                case when described.kind = 'time' then described.harvest_project_id end nulls first,
                case when described.kind = 'time' then described.service_type end nulls first,
                case when described.kind = 'time' then described.unit_amount end nulls first,
                described.first_expense_id nulls first,
                described.first_source_id
        ) as integer) as line_no
    from described
),

final as (
    select
        numbered.draft_key || '#' || numbered.line_no as draft_line_id,
        numbered.draft_key,
        numbered.line_no,
        numbered.kind,
        numbered.description,
        numbered.quantity,
        numbered.unit_amount,
        numbered.line_amount,
        numbered.account_code,
        numbered.harvest_project_id,
        numbered.service_type,
        coalesce(numbered.harvest_time_entry_ids, []) as harvest_time_entry_ids,
        coalesce(numbered.harvest_expense_ids, []) as harvest_expense_ids,
        coalesce(numbered.hubspot_line_item_ids, []) as hubspot_line_item_ids,
        numbered.hubspot_company_id,
        numbered.billing_month
    from numbered
)

select * from final
