{#- `deal_currency_code` differs from the currency of the project's client (closed-won
    deals, not change requests, closed by as_of).
    One finding per deal; at stake: the deal amount (EUR at its close date). -#}

with

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

projects as (

    -- currency_code: the project's client currency, else the client record's, else EUR
    select * from {{ ref('int_harvest_projects_enriched') }}

),

clients as (

    select * from {{ ref('int_harvest_clients_linked') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

flagged as (

    select
        deals.hubspot_deal_id,
        any_value(deals.hubspot_company_id) as hubspot_company_id,
        any_value(deals.billing_model) as billing_model,
        any_value(deals.amount) as amount,
        any_value(deals.currency_code) as currency_code,
        any_value(deals.close_date) as close_date,
        min(projects.harvest_project_id) as harvest_project_id,
        arg_min(projects.harvest_client_id, projects.harvest_project_id) as harvest_client_id,
        arg_min(clients.hubspot_company_id, projects.harvest_project_id) as client_company_id,
        arg_min(projects.currency_code, projects.harvest_project_id) as project_currency_code,
        arg_min(projects.is_fixed_fee, projects.harvest_project_id) as is_fixed_fee
    from deals
    inner join projects
        on deals.hubspot_deal_id = projects.project_code
    left join clients
        on projects.harvest_client_id = clients.harvest_client_id
    where deals.is_won
        and not deals.is_change_request
        and deals.close_date <= {{ as_of_date() }}
        and (
            deals.currency_code is not null
            and projects.currency_code is distinct from deals.currency_code
        )
    group by 1

),

final as (

    select
        'currency_mismatch' as check_name,
        json_object('hubspot_deal_id', flagged.hubspot_deal_id) as finding_keys,
        flagged.hubspot_deal_id,
        flagged.hubspot_company_id,
        flagged.harvest_project_id,
        flagged.harvest_client_id,
        abs(flagged.amount) as amount_at_stake,
        coalesce(flagged.currency_code, 'EUR') as currency_code,
        {{ to_eur('abs(flagged.amount)', 'fx_rates.units_per_eur') }} as amount_at_stake_eur,
        flagged.close_date as issue_date,
        false as blocks_draft,
        'sales_ops' as owner_role,
        'Deal ' || flagged.hubspot_deal_id || ' is in ' || flagged.currency_code || ' but project '
            || flagged.harvest_project_id || ' bills its client in ' || coalesce(flagged.project_currency_code, 'no currency')
            || ', so invoices would not match the contract.' as explanation
    from flagged
    left join fx_rates
        on flagged.close_date = fx_rates.rate_date
        and coalesce(flagged.currency_code, 'EUR') = fx_rates.currency_code

)

select * from final
