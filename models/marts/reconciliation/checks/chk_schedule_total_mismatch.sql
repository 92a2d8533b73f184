{#- Closed-won fixed-price deal (change requests included) whose payment-schedule items
    (line items with a billing date) don't add up to the deal amount beyond tolerance
    (deal currency, at the close date). At stake: |amount − schedule total| (EUR at the
    close date). -#}

with

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

line_items as (

    select * from {{ ref('int_line_items_classified') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

schedules as (

    select
        line_items.hubspot_deal_id,
        sum(line_items.amount) as schedule_total,
        count(*) as item_count
    from line_items
    where line_items.line_item_role = 'milestone'
    group by 1

),

compared as (

    select
        deals.hubspot_deal_id,
        deals.hubspot_company_id,
        deals.deal_name,
        deals.amount,
        coalesce(deals.currency_code, 'EUR') as currency_code,
        coalesce(deals.close_date, {{ as_of_date() }}) as compared_on,
        coalesce(schedules.schedule_total, 0) as schedule_total,
        coalesce(schedules.item_count, 0) as item_count,
        fx_rates.units_per_eur
    from deals
    left join schedules
        on deals.hubspot_deal_id = schedules.hubspot_deal_id
    left join fx_rates
        on coalesce(deals.close_date, {{ as_of_date() }}) = fx_rates.rate_date
        and coalesce(deals.currency_code, 'EUR') = fx_rates.currency_code
    where deals.is_won
        and deals.billing_model = 'fixed_price'

),

final as (

    select
        'schedule_total_mismatch' as check_name,
        json_object('hubspot_deal_id', compared.hubspot_deal_id) as finding_keys,
        compared.hubspot_deal_id,
        compared.hubspot_company_id,
        {{ round_money('abs(compared.amount - compared.schedule_total)') }} as amount_at_stake,
        compared.currency_code,
        {{ to_eur('abs(compared.amount - compared.schedule_total)', 'compared.units_per_eur') }} as amount_at_stake_eur,
        compared.compared_on as issue_date,
        false as blocks_draft,
        'sales_ops' as owner_role,
        'Fixed-price deal ' || compared.hubspot_deal_id || ' (' || coalesce(compared.deal_name, 'unnamed') || ') is worth '
            || cast(compared.amount as varchar) || ' ' || compared.currency_code || ' but its ' || compared.item_count
            || ' payment-schedule items add up to ' || cast(compared.schedule_total as varchar) || '.' as explanation
    from compared
    where {{ exceeds_tolerance('compared.amount - compared.schedule_total', 'compared.amount', 'compared.units_per_eur') }}

)

select * from final
