{#- Billable time entry (spent by as_of) whose billable rate differs from the contracted
    rate: the deal's rate line item for its service type, else the rate card
    (int_time_entries_rate_checked). At stake: |contracted − billed rate| × hours (EUR at
    the spent date). Blocks a draft while the entry is approved and unbilled. -#}

with

rate_checks as (

    select * from {{ ref('int_time_entries_rate_checked') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

flagged as (

    select * from rate_checks
    where rate_checks.has_rate_mismatch
        and rate_checks.spent_date <= {{ as_of_date() }}

),

final as (

    select
        'rate_mismatch' as check_name,
        json_object('harvest_time_entry_id', flagged.harvest_time_entry_id) as finding_keys,
        flagged.harvest_time_entry_id,
        flagged.harvest_project_id,
        flagged.hubspot_deal_id,
        flagged.hubspot_company_id,
        {{ round_money('flagged.rate_gap_value') }} as amount_at_stake,
        flagged.currency_code,
        {{ to_eur('flagged.rate_gap_value', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        flagged.spent_date as issue_date,
        flagged.is_approved and not flagged.is_billed as blocks_draft,
        'project_manager' as owner_role,
        'Time entry ' || flagged.harvest_time_entry_id || ' of ' || strftime(flagged.spent_date, '%Y-%m-%d')
            || ' is billed at ' || coalesce(cast(cast(flagged.billable_rate as decimal(18, 2)) as varchar), 'no rate')
            || ' ' || flagged.currency_code || ' an hour but the ' || case flagged.contracted_rate_source when 'deal' then 'deal' else 'rate card' end
            || ' says ' || cast(cast(flagged.contracted_rate as decimal(18, 2)) as varchar) || '.' as explanation
    from flagged
    left join fx_rates
        on flagged.spent_date = fx_rates.rate_date
        and flagged.currency_code = fx_rates.currency_code

)

select * from final
