{#- Billable, unapproved time entry or expense, billed on no invoice, more than the
    approval SLA (`approval_sla_business_days`, 5) business days after its spent date.
    One finding per time entry or expense; at stake: its value (EUR at its spent date). -#}

with

work_items as (

    select * from {{ ref('int_work_items_billed') }}

),

business_days as (

    select * from {{ ref('int_business_days_numbered') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

as_of_day as (

    select business_days.business_day_number
    from business_days
    where business_days.calendar_date = {{ as_of_date() }}

),

work as (

    select
        work_items.*,
        as_of_day.business_day_number - spent_day.business_day_number as business_days_since,
        {{ as_of_date() }} - work_items.work_date as days_since
    from work_items
    left join business_days as spent_day
        on work_items.work_date = spent_day.calendar_date
    cross join as_of_day
    where work_items.work_item_kind in ('time', 'expense')
        and work_items.work_date <= {{ as_of_date() }}

),

flagged as (

    select * from work
    where work.is_billable
        and not work.is_approved
        and not work.is_billed
        and work.business_days_since > {{ var('approval_sla_business_days') }}

),

final as (

    select
        'unapproved_work_aging' as check_name,
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
        'project_manager' as owner_role,
        case flagged.work_item_kind when 'time' then 'Time entry ' else 'Expense ' end
            || coalesce(flagged.harvest_time_entry_id, flagged.harvest_expense_id)
            || ' of ' || strftime(flagged.work_date, '%Y-%m-%d') || ' on project ' || coalesce(cast(flagged.harvest_project_id as varchar), '?')
            || ' ' || 'is billable but still not approved ' || flagged.business_days_since || ' business days later, so it cannot be invoiced.' as explanation
    from flagged
    left join fx_rates
        on flagged.work_date = fx_rates.rate_date
        and flagged.currency_code = fx_rates.currency_code

)

select * from final
