{#- Billable time entry or expense dated before the project's `starts_on` or after its
    `ends_on`.
    One finding per time entry or expense; at stake: its value (EUR at its spent date). -#}

with

work_items as (

    select * from {{ ref('int_work_items_billed') }}

),

projects as (

    select * from {{ ref('stg_harvest__projects') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

work as (

    select work_items.*
    from work_items
    where work_items.work_item_kind in ('time', 'expense')
        and work_items.work_date <= {{ as_of_date() }}

),

flagged as (

    select
        work.*,
        projects.starts_on,
        projects.ends_on
    from work
    inner join projects
        on work.harvest_project_id = projects.harvest_project_id
    where work.is_billable
        and (work.work_date < projects.starts_on or work.work_date > projects.ends_on)

),

final as (

    select
        'work_outside_project_period' as check_name,
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
            || ' ' || 'lies outside the project period ' || coalesce(strftime(flagged.starts_on, '%Y-%m-%d'), '…') || ' to ' || coalesce(strftime(flagged.ends_on, '%Y-%m-%d'), '…') || '.' as explanation
    from flagged
    left join fx_rates
        on flagged.work_date = fx_rates.rate_date
        and flagged.currency_code = fx_rates.currency_code

)

select * from final
