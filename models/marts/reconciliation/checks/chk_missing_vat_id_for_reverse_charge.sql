{#- Company in an EU country other than the seller's (var `seller_country`) whose VAT id is
    missing or fails its country's check (python-stdnum). At stake: the net of the
    invoice drafts it blocks (fct_invoice_drafts with reason
    missing_vat_id_for_reverse_charge), in their currency when all share one, else in
    EUR; EUR at the FX seed on as_of. -#}

with

companies as (

    select * from {{ ref('int_companies_linked') }}

),

drafts as (

    select * from {{ ref('fct_invoice_drafts') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

blocked_drafts as (

    select
        drafts.hubspot_company_id,
        count(*) as draft_count,
        sum(drafts.net) as net,
        sum(drafts.net / fx_rates.units_per_eur) as net_eur,
        count(distinct drafts.currency_code) as currency_count,
        any_value(drafts.currency_code) as currency_code
    from drafts
    left join fx_rates
        on {{ as_of_date() }} = fx_rates.rate_date
        and drafts.currency_code = fx_rates.currency_code
    where list_contains(drafts.reasons, 'missing_vat_id_for_reverse_charge')
    group by 1

),

flagged as (

    select
        companies.*,
        coalesce(blocked_drafts.draft_count, 0) as draft_count,
        case when blocked_drafts.currency_count = 1 then blocked_drafts.net
            else coalesce(blocked_drafts.net_eur, 0) end as amount,
        case when blocked_drafts.currency_count = 1 then blocked_drafts.currency_code
            else 'EUR' end as amount_currency_code,
        coalesce(blocked_drafts.net_eur, 0) as amount_eur
    from companies
    left join blocked_drafts
        on companies.hubspot_company_id = blocked_drafts.hubspot_company_id
    where companies.country_code in {{ eu_country_codes() }}
        and companies.country_code <> '{{ var("seller_country") }}'
        and not coalesce(companies.is_vat_id_valid, false)

),

final as (

    select
        'missing_vat_id_for_reverse_charge' as check_name,
        json_object('hubspot_company_id', flagged.hubspot_company_id) as finding_keys,
        flagged.hubspot_company_id,
        flagged.xero_contact_id,
        flagged.harvest_client_id,
        {{ round_money('flagged.amount') }} as amount_at_stake,
        flagged.amount_currency_code as currency_code,
        {{ round_money('flagged.amount_eur') }} as amount_at_stake_eur,
        {{ as_of_date() }} as issue_date,
        flagged.draft_count > 0 as blocks_draft,
        'master_data_steward' as owner_role,
        'Company ' || flagged.hubspot_company_id || ' (' || coalesce(flagged.company_name, 'unnamed') || ') in '
            || flagged.country_code || ' has '
            || case when flagged.vat_id is null then 'no VAT id' else 'VAT id ' || flagged.vat_id || ', which fails the ' || flagged.country_code || ' check' end
            || ', so reverse charge cannot apply and ' || flagged.draft_count || ' draft(s) are blocked.' as explanation
    from flagged

)

select * from final
