{#- Time entry or expense billed on two or more existing invoices (any date) that are not
    fully credited by as_of.
    One finding per time entry or expense; at stake: its value (EUR at its spent date).
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a narrowed rebuild
    rechecks only the work records it reaches. -#}

{%- set narrow = rebuild_is_narrowed() %}

-- depends_on: {{ ref('stg_harvest__time_entries') }}

with

work_items as (

    {%- if narrow %}
    -- a narrowed rebuild: the reached work records
    {{ reached_rows(ref('int_work_items_billed'), 'harvest_time_entry_id', 'work_item_id') }}
    {%- else %}
    select * from {{ ref('int_work_items_billed') }}
    {%- endif %}

),

invoices as (

    select * from {{ ref('int_xero_invoices_enriched') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

work as (

    select work_items.*
    from work_items
    where work_items.work_item_kind in ('time', 'expense')
        and work_items.work_date <= {{ as_of_date() }}
        -- billed on two invoices or more (each listed once): the rest cannot be flagged
        and len(work_items.billed_invoice_ids) >= 2

),

flagged as (

    select
        work.*,
        count(*) as open_invoice_count,
        string_agg(invoices.invoice_number, ', ' order by invoices.invoice_number) as open_invoice_numbers
    from work
    cross join unnest(work.billed_invoice_ids) as billed(xero_invoice_id)
    inner join invoices
        on billed.xero_invoice_id = invoices.xero_invoice_id
    where invoices.credited_amount < invoices.total
    group by all
    having count(*) >= 2

),

final as (

    select
        'double_billed_work' as check_name,
        case flagged.work_item_kind
            when 'time' then json_object('harvest_time_entry_id', flagged.harvest_time_entry_id)
            else json_object('harvest_expense_id', flagged.harvest_expense_id)
        end as finding_keys,
        flagged.harvest_time_entry_id,
        flagged.harvest_expense_id,
        flagged.harvest_project_id,
        flagged.hubspot_deal_id,
        flagged.hubspot_company_id,
        array_to_string(flagged.billed_invoice_ids, ',') as xero_invoice_ids,
        {{ round_money('abs(flagged.value)') }} as amount_at_stake,
        flagged.currency_code,
        {{ to_eur('abs(flagged.value)', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        flagged.work_date as issue_date,
        false as blocks_draft,
        'billing_clerk' as owner_role,
        case flagged.work_item_kind when 'time' then 'Time entry ' else 'Expense ' end
            || coalesce(flagged.harvest_time_entry_id, flagged.harvest_expense_id)
            || ' of ' || strftime(flagged.work_date, '%Y-%m-%d') || ' on project ' || coalesce(cast(flagged.harvest_project_id as varchar), '?')
            || ' ' || 'is billed on ' || flagged.open_invoice_count || ' invoices that are not fully credited (' || flagged.open_invoice_numbers || '), so the customer pays it twice.' as explanation
    from flagged
    left join fx_rates
        on flagged.work_date = fx_rates.rate_date
        and flagged.currency_code = fx_rates.currency_code

)

select * from final
