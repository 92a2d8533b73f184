{#- Payment-schedule item of a closed-won fixed-price deal (change requests included),
    due before as_of (billing date, or the later of it and the acceptance date when
    acceptance is required; never due unaccepted), billed on no invoice dated by as_of
    (milestones are billed only through the push ledger). At stake: its amount (EUR at the
    due date). -#}

with

work_items as (

    select * from {{ ref('int_work_items_billed') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

flagged as (

    select * from work_items
    where work_items.work_item_kind = 'milestone'
        and work_items.work_date < {{ as_of_date() }}
        and not work_items.is_billed

),

final as (

    select
        'milestone_due_not_invoiced' as check_name,
        json_object('hubspot_line_item_id', flagged.hubspot_line_item_id) as finding_keys,
        flagged.hubspot_line_item_id,
        flagged.hubspot_deal_id,
        flagged.hubspot_company_id,
        flagged.harvest_project_id,
        {{ round_money('abs(flagged.value)') }} as amount_at_stake,
        flagged.currency_code,
        {{ to_eur('abs(flagged.value)', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        flagged.work_date as issue_date,
        false as blocks_draft,
        'billing_clerk' as owner_role,
        'Milestone ' || flagged.hubspot_line_item_id || ' (' || coalesce(flagged.description, 'unnamed') || ') of deal '
            || flagged.hubspot_deal_id || ' was due on ' || strftime(flagged.work_date, '%Y-%m-%d')
            || ' and has not been invoiced.' as explanation
    from flagged
    left join fx_rates
        on flagged.work_date = fx_rates.rate_date
        and flagged.currency_code = fx_rates.currency_code

)

select * from final
