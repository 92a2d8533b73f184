{#- One row per billable-or-not piece of delivered work: every Harvest time entry and
    expense, and every payment-schedule line item (milestone) of a closed-won fixed-price
    deal, change requests included. With its project, deal, customer company, service type,
    value in the project's (milestone: deal's) currency, approval, and the existing Xero
    invoices it is billed on (DESIGN.md §4): the invoice whose number Harvest recorded on
    the record, and every invoice of a succeeded push-ledger record that names the record
    among its line's source ids (by invoice id, else by Reference). Milestones are billed
    only through the ledger. "Existing" = ACCREC in DRAFT, SUBMITTED, AUTHORISED or PAID
    (voided and deleted invoices no longer bill anything). `is_billed` counts invoices
    dated on or before `as_of_date`. -#}

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

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

line_items as (

    select * from {{ ref('int_line_items_classified') }}

),

service_catalogue as (

    select * from {{ ref('service_catalogue') }}

),

invoices as (

    select * from {{ ref('stg_xero__invoices') }}

),

ledger as (

    select * from {{ ref('stg_taktgeber__push_ledger') }}

),

ledger_lines as (

    select * from {{ ref('stg_taktgeber__push_ledger_lines') }}

),

live_invoices as (

    select
        invoices.xero_invoice_id,
        invoices.invoice_number,
        invoices.reference,
        invoices.invoice_date
    from invoices
    where invoices.invoice_type = 'ACCREC'
        and invoices.invoice_status in ('DRAFT', 'SUBMITTED', 'AUTHORISED', 'PAID')

),

projects_with_deal as (

    select
        projects.harvest_project_id,
        projects.project_name,
        projects.currency_code,
        deals.hubspot_deal_id,
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
        coalesce(service_catalogue.service_type, time_entries.task_name) as service_type,
        time_entries.spent_date as work_date,
        time_entries.hours as quantity,
        time_entries.billable_rate as unit_amount,
        cast(time_entries.hours * coalesce(time_entries.billable_rate, 0) as decimal(18, 4)) as value,
        time_entries.is_billable,
        time_entries.is_closed as is_approved,
        time_entries.harvest_invoice_number
    from time_entries
    left join service_catalogue
        on time_entries.task_name = service_catalogue.task_name

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
        cast(null as varchar) as service_type,
        expenses.spent_date as work_date,
        cast(1 as decimal(18, 4)) as quantity,
        cast(expenses.total_cost as decimal(18, 4)) as unit_amount,
        cast(expenses.total_cost as decimal(18, 4)) as value,
        expenses.is_billable,
        expenses.is_closed as is_approved,
        expenses.harvest_invoice_number
    from expenses

),

harvest_items as (

    select
        items.*,
        projects_with_deal.project_name,
        projects_with_deal.currency_code,
        projects_with_deal.hubspot_deal_id,
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
        line_items.service_type,
        line_items.due_date as work_date,
        coalesce(line_items.quantity, 1) as quantity,
        coalesce(line_items.price, line_items.amount) as unit_amount,
        cast(coalesce(line_items.amount, line_items.quantity * line_items.price) as decimal(18, 4)) as value,
        true as is_billable,
        line_items.due_date is not null as is_approved,
        cast(null as varchar) as harvest_invoice_number,
        projects.project_name,
        coalesce(deals.currency_code, 'EUR') as currency_code,
        deals.hubspot_deal_id,
        deals.customer_company_id as hubspot_company_id
    from line_items
    inner join deals
        on line_items.hubspot_deal_id = deals.hubspot_deal_id
    left join projects
        on deals.harvest_project_id = projects.harvest_project_id
    where line_items.line_item_role = 'milestone'
        and deals.is_won
        and deals.billing_model = 'fixed_price'

),

all_items as (

    select * from harvest_items
    union all by name
    select * from milestone_items

),

ledger_invoices as (

    select
        ledger.draft_key,
        coalesce(by_id.xero_invoice_id, by_reference.xero_invoice_id) as xero_invoice_id
    from ledger
    left join live_invoices as by_id
        on ledger.xero_invoice_id = by_id.xero_invoice_id
    left join live_invoices as by_reference
        on coalesce(ledger.reference, ledger.draft_key) = by_reference.reference
    where ledger.push_status = 'succeeded'

),

ledger_sources as (

    select ledger_lines.draft_key, 'time:' || unnest(ledger_lines.harvest_time_entry_ids) as work_item_id
    from ledger_lines
    union all
    select ledger_lines.draft_key, 'expense:' || unnest(ledger_lines.harvest_expense_ids) as work_item_id
    from ledger_lines
    union all
    select ledger_lines.draft_key, 'milestone:' || unnest(ledger_lines.hubspot_line_item_ids) as work_item_id
    from ledger_lines

),

billings as (

    select
        all_items.work_item_id,
        live_invoices.xero_invoice_id
    from all_items
    inner join live_invoices
        on all_items.harvest_invoice_number = live_invoices.invoice_number
    union
    select
        ledger_sources.work_item_id,
        ledger_invoices.xero_invoice_id
    from ledger_sources
    inner join ledger_invoices
        on ledger_sources.draft_key = ledger_invoices.draft_key
    where ledger_invoices.xero_invoice_id is not null

),

billed as (

    select
        billings.work_item_id,
        list(live_invoices.xero_invoice_id order by live_invoices.xero_invoice_id) as billed_invoice_ids,
        list(live_invoices.invoice_number order by live_invoices.xero_invoice_id) as billed_invoice_numbers,
        count(*) filter (where live_invoices.invoice_date <= {{ as_of_date() }}) as billed_invoice_count,
        min(live_invoices.invoice_date) as first_billed_date
    from billings
    inner join live_invoices
        on billings.xero_invoice_id = live_invoices.xero_invoice_id
    group by 1

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
        all_items.hubspot_company_id,
        all_items.harvest_task_id,
        all_items.service_type,
        all_items.description,
        all_items.work_date,
        cast(all_items.quantity as decimal(18, 4)) as quantity,
        cast(all_items.unit_amount as decimal(18, 4)) as unit_amount,
        cast(all_items.value as decimal(18, 4)) as value,
        all_items.currency_code,
        coalesce(all_items.is_billable, false) as is_billable,
        coalesce(all_items.is_approved, false) as is_approved,
        all_items.harvest_invoice_number,
        coalesce(billed.billed_invoice_ids, []) as billed_invoice_ids,
        coalesce(billed.billed_invoice_numbers, []) as billed_invoice_numbers,
        coalesce(billed.billed_invoice_count, 0) as billed_invoice_count,
        billed.first_billed_date,
        coalesce(billed.billed_invoice_count, 0) > 0 as is_billed
    from all_items
    left join billed
        on all_items.work_item_id = billed.work_item_id

)

select * from final
