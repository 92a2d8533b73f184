{#- The work that goes on invoice-ready drafts (DESIGN.md §7), one row per source record:
    approved, billable time entries and expenses with spent_date ≤ as_of_date, and
    milestones due before as_of_date — each billed on no live invoice dated ≤ as_of_date,
    and with a customer: the company of the project's closed-won deal (work on a project
    without one is reported by project_without_won_deal, not drafted). Each row carries
    its draft grouping — customer × currency × billing month (of spent_date or due date),
    × project when the company invoices per project — its draft key, and the conditions
    that block its draft.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a rebuild after
    time entries, invoices or the push ledger changed recomputes the customer months a
    reached work record was or may
    now be drafted in, and those whose project's over-budget flag changed. -#}

{%- set narrow = rebuild_is_narrowed() %}

-- depends_on: {{ ref('stg_harvest__time_entries') }}

with

work_items as (
    -- every time entry, expense and milestone with its customer, value and approval, in one place
    select * from {{ ref('int_work_items_billed') }}
    {%- if narrow %}
    where {{ in_reached_customer_months('hubspot_company_id', 'work_date') }}
    {%- endif %}
),

rate_checks as (
    -- the rate_mismatch rule, in one place: the contracted rate of every billable time entry
    select * from {{ ref('int_time_entries_rate_checked') }}
    {%- if narrow %}
    where harvest_time_entry_id in (select work_items.harvest_time_entry_id from work_items)
    {%- endif %}
),

billings as (
    -- the "billed on" rule of DESIGN.md §4, in one place
    select * from {{ ref('int_work_billings_linked') }}
),

customers as (
    select * from {{ ref('int_customers_tax_classified') }}
),

budget_checks as (
    -- the over_budget_without_change_request rule, at as_of_date, in one place
    select * from {{ ref('int_project_budgets_compared') }}
),

billed_by_as_of as (
    -- not distinct: `unbilled` keeps the items without a match, however many it has
    select
        billings.work_item_kind,
        billings.source_id
    from billings
    where billings.invoice_date <= {{ as_of_date() }}
    {%- if narrow %}
        and billings.source_id in (select work_items.source_id from work_items)
    {%- endif %}
),

harvest_items as (
    select
        work_items.work_item_kind,
        work_items.source_id,
        work_items.harvest_time_entry_id,
        work_items.harvest_expense_id,
        cast(null as varchar) as hubspot_line_item_id,
        work_items.harvest_project_id,
        work_items.project_name,
        work_items.hubspot_company_id,
        work_items.currency_code,
        work_items.work_date,
        work_items.service_type,
        work_items.service_type as account_service_type,
        coalesce(work_items.notes, work_items.description) as description,
        work_items.quantity,
        case
            when work_items.work_item_kind = 'time' then coalesce(work_items.unit_amount, 0)
            else work_items.value
        end as unit_amount,
        coalesce(rate_checks.has_rate_mismatch, false) as has_rate_mismatch
    from work_items
    left join rate_checks
        on work_items.harvest_time_entry_id = rate_checks.harvest_time_entry_id
    where work_items.work_item_kind in ('time', 'expense')
        and work_items.is_approved
        and work_items.is_billable
        and work_items.work_date <= {{ as_of_date() }}
        and work_items.is_deal_won
        and work_items.hubspot_company_id is not null
),

milestone_items as (
    select
        work_items.work_item_kind,
        work_items.source_id,
        cast(null as bigint) as harvest_time_entry_id,
        cast(null as bigint) as harvest_expense_id,
        work_items.hubspot_line_item_id,
        work_items.harvest_project_id,
        cast(null as varchar) as project_name,
        work_items.hubspot_company_id,
        work_items.currency_code,
        work_items.work_date,
        cast(null as varchar) as service_type,
        work_items.service_type as account_service_type,
        work_items.description,
        cast(1 as decimal(18, 4)) as quantity,
        work_items.value as unit_amount,
        false as has_rate_mismatch
    from work_items
    where work_items.work_item_kind = 'milestone'
        and work_items.work_date < {{ as_of_date() }}
        and work_items.hubspot_company_id is not null
),

candidates as (
    select * from harvest_items
    union all
    select * from milestone_items
),

unbilled as (
    select candidates.*
    from candidates
    left join billed_by_as_of
        on candidates.work_item_kind = billed_by_as_of.work_item_kind
        and candidates.source_id = billed_by_as_of.source_id
    where billed_by_as_of.source_id is null
),

grouped as (
    select
        unbilled.work_item_kind,
        unbilled.source_id,
        unbilled.harvest_time_entry_id,
        unbilled.harvest_expense_id,
        unbilled.hubspot_line_item_id,
        unbilled.harvest_project_id,
        unbilled.project_name,
        unbilled.hubspot_company_id,
        customers.xero_contact_id,
        unbilled.currency_code,
        unbilled.work_date,
        strftime(unbilled.work_date, '%Y-%m') as billing_month,
        unbilled.service_type,
        unbilled.account_service_type,
        unbilled.description,
        cast(unbilled.quantity as decimal(18, 4)) as quantity,
        cast(unbilled.unit_amount as decimal(18, 4)) as unit_amount,
        coalesce(customers.invoice_grouping, 'collective') as invoice_grouping,
        case
            when customers.invoice_grouping = 'per_project' then unbilled.harvest_project_id
        end as draft_project_id,
        coalesce(customers.has_missing_vat_id_for_reverse_charge, false)
            as has_missing_vat_id_for_reverse_charge,
        unbilled.has_rate_mismatch,
        coalesce(budget_checks.is_over_budget_without_change_request, false)
            as is_project_over_budget,
        customers.xero_contact_id is null as is_customer_unmatched
    from unbilled
    left join customers
        on unbilled.hubspot_company_id = customers.hubspot_company_id
    left join budget_checks
        on unbilled.harvest_project_id = budget_checks.harvest_project_id
),

draft_keys as (
    -- one key per draft, computed once per group (not once per row of it)
    select
        grouped.hubspot_company_id,
        grouped.currency_code,
        grouped.billing_month,
        grouped.draft_project_id,
        {{ draft_key('list(grouped.source_id)') }} as draft_key
    from grouped
    group by all
),

final as (
    select
        grouped.*,
        draft_keys.draft_key
    from grouped
    inner join draft_keys
        on grouped.hubspot_company_id is not distinct from draft_keys.hubspot_company_id
        and grouped.currency_code is not distinct from draft_keys.currency_code
        and grouped.billing_month is not distinct from draft_keys.billing_month
        and grouped.draft_project_id is not distinct from draft_keys.draft_project_id
)

select * from final
