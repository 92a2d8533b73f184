{#- The work that goes on invoice-ready drafts (DESIGN.md §7), one row per source record:
    approved, billable time entries and expenses billed on no invoice with spent_date on or
    before as_of_date, and milestones due before as_of_date billed on no invoice. Each row
    carries its draft grouping (customer × currency × billing month, × project when the
    company invoices per project) and the conditions that block its draft. -#}

with

work_items as (
    select * from {{ ref('int_work_items_billed') }}
),

customers as (
    select * from {{ ref('int_customers_tax_classified') }}
),

rate_checks as (
    select * from {{ ref('int_time_entries_rate_checked') }}
),

budget_checks as (
    select * from {{ ref('int_projects_budget_checked') }}
),

eligible as (
    select *
    from work_items
    where
        work_items.is_billable
        and work_items.is_approved
        and not work_items.is_billed
        and (
            (work_items.work_item_kind in ('time', 'expense') and work_items.work_date <= {{ tg_as_of_date() }})
            or (work_items.work_item_kind = 'milestone' and work_items.work_date < {{ tg_as_of_date() }})
        )
),

grouped as (
    select
        eligible.source_id,
        eligible.work_item_kind,
        eligible.harvest_time_entry_id,
        eligible.harvest_expense_id,
        eligible.hubspot_line_item_id,
        eligible.harvest_project_id,
        eligible.project_name,
        eligible.hubspot_company_id,
        customers.xero_contact_id,
        eligible.currency_code,
        eligible.work_date,
        strftime(eligible.work_date, '%Y-%m') as billing_month,
        eligible.service_type,
        eligible.description,
        eligible.quantity,
        eligible.unit_amount,
        customers.invoice_grouping,
        case
            when customers.invoice_grouping = 'per_project' then eligible.harvest_project_id
        end as draft_project_id,
        coalesce(customers.has_missing_vat_id_for_reverse_charge, false)
            as has_missing_vat_id_for_reverse_charge,
        coalesce(rate_checks.has_rate_mismatch, false) as has_rate_mismatch,
        coalesce(budget_checks.is_over_budget_without_change_request, false)
            as is_project_over_budget,
        customers.xero_contact_id is null as is_customer_unmatched
    from eligible
    left join customers
        on eligible.hubspot_company_id = customers.hubspot_company_id
    left join rate_checks
        on eligible.harvest_time_entry_id = rate_checks.harvest_time_entry_id
    left join budget_checks
        on eligible.harvest_project_id = budget_checks.harvest_project_id
),

final as (
    select
        grouped.*,
        {{ draft_key('list(grouped.source_id) over (partition by grouped.hubspot_company_id, grouped.currency_code, grouped.billing_month, grouped.draft_project_id)') }}
            as draft_key
    from grouped
)

select * from final
