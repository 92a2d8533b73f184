{#- One row per Harvest time entry and expense, as the work KPIs read it: its customer (the
    company of the project's closed-won deal, else '(unlinked)'), value in its currency and
    in EUR (the FX seed's rate at the spent date), the contracted rate and the under-charge
    per hour of a billable time entry with a rate mismatch, the date of its first invoice
    of any status, and the date of its first posted (AUTHORISED or PAID) Harvest invoice.
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a rebuild after
    time entries, invoices or the push ledger changed revalues only the work records it
    reaches, and notes the earliest date of their old rows, from which int_kpi_work_computed
    recomputes its months, and the months of their first posted Harvest invoice, which
    int_kpi_invoiced_work_computed recomputes. -#}

-- depends_on: {{ ref('stg_harvest__time_entries') }}
{%- set narrow = rebuild_is_narrowed() %}

with

work_items as (
    {%- if narrow %}
    {{ reached_rows(ref('int_work_items_billed'), 'harvest_time_entry_id', 'work_item_id') }}
    {%- else %}
    select * from {{ ref('int_work_items_billed') }}
    {%- endif %}
),

rate_checks as (
    -- the rate_mismatch rule, in one place: the contracted rate of every billable time entry
    {%- if narrow %}
    {{ reached_rows(ref('int_time_entries_rate_checked'), 'harvest_time_entry_id') }}
    {%- else %}
    select * from {{ ref('int_time_entries_rate_checked') }}
    {%- endif %}
),

billings as (
    -- the "billed on" rule of DESIGN.md §4, in one place
    {%- if narrow %}
    {{ reached_rows(ref('int_work_billings_linked'), 'harvest_time_entry_id', 'work_item_id') }}
    {%- else %}
    select * from {{ ref('int_work_billings_linked') }}
    {%- endif %}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_daily') }}
),

work_entries as (
    select
        work_items.work_item_id,
        work_items.work_item_kind,
        work_items.source_id,
        work_items.harvest_time_entry_id,
        work_items.harvest_project_id,
        case when work_items.is_deal_won then work_items.hubspot_company_id end as hubspot_company_id,
        work_items.currency_code,
        work_items.work_date as spent_date,
        work_items.quantity as hours,
        work_items.value as value_amount,
        work_items.is_billable,
        work_items.is_approved
    from work_items
    where work_items.work_item_kind in ('time', 'expense')
),

reached_billings as (
    select *
    from billings
    where billings.work_item_kind in ('time', 'expense')
),

first_billed as (
    select
        reached_billings.work_item_kind,
        reached_billings.source_id,
        min(reached_billings.invoice_date) as first_billed_date,
        min(reached_billings.invoice_date) filter (
            where reached_billings.is_harvest_invoice and reached_billings.is_posted
        ) as harvest_invoice_date
    from reached_billings
    group by reached_billings.work_item_kind, reached_billings.source_id
),

final as (
    select
        work_entries.work_item_id,
        work_entries.work_item_kind,
        work_entries.source_id,
        work_entries.harvest_time_entry_id,
        work_entries.harvest_project_id,
        work_entries.hubspot_company_id,
        coalesce(work_entries.hubspot_company_id, '(unlinked)') as customer_id,
        work_entries.currency_code,
        work_entries.spent_date,
        work_entries.hours,
        work_entries.value_amount,
        work_entries.is_billable,
        work_entries.is_approved,
        rate_checks.contracted_rate,
        case
            when rate_checks.has_rate_mismatch
                then rate_checks.contracted_rate - coalesce(rate_checks.billable_rate, 0)
        end as rate_gap,
        fx_rates.units_per_eur,
        cast(work_entries.value_amount as double) / cast(fx_rates.units_per_eur as double) as value_eur,
        first_billed.first_billed_date,
        first_billed.harvest_invoice_date
    from work_entries
    left join rate_checks
        on work_entries.harvest_time_entry_id = rate_checks.harvest_time_entry_id
    asof left join fx_rates
        on work_entries.currency_code = fx_rates.currency_code
        and work_entries.spent_date >= fx_rates.rate_date
    left join first_billed
        on work_entries.work_item_kind = first_billed.work_item_kind
        and work_entries.source_id = first_billed.source_id
)

select * from final
