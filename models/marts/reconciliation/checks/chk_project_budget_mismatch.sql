{#- Project of a closed-won deal (not a change request, closed by as_of) whose budget
    (`fee` when fixed fee, else `cost_budget`) differs from the deal amount + closed-won
    change requests beyond tolerance (in the project's currency, at as_of). -#}

with

deals as (

    select * from {{ ref('int_deals_enriched') }}

),

projects as (

    -- currency_code: the project's client currency, else the client record's, else EUR
    select * from {{ ref('int_harvest_projects_enriched') }}

),

fx_rates as (

    select * from {{ ref('int_fx_rates_daily') }}

),

compared as (

    select
        projects.harvest_project_id,
        projects.project_name,
        projects.currency_code,
        projects.is_fixed_fee,
        deals.hubspot_deal_id,
        deals.hubspot_company_id,
        deals.expected_budget,
        coalesce(case when projects.is_fixed_fee then projects.fee else projects.cost_budget end, 0)
            as actual_budget,
        fx_rates.units_per_eur
    from deals
    inner join projects
        on deals.hubspot_deal_id = projects.project_code
    left join fx_rates
        on {{ as_of_date() }} = fx_rates.rate_date
        and projects.currency_code = fx_rates.currency_code
    where deals.is_won
        and not deals.is_change_request
        and deals.close_date <= {{ as_of_date() }}

),

final as (

    select
        'project_budget_mismatch' as check_name,
        json_object('harvest_project_id', compared.harvest_project_id) as finding_keys,
        compared.harvest_project_id,
        compared.hubspot_deal_id,
        compared.hubspot_company_id,
        {{ round_money('abs(compared.expected_budget - compared.actual_budget)') }} as amount_at_stake,
        compared.currency_code,
        {{ to_eur('abs(compared.expected_budget - compared.actual_budget)', 'compared.units_per_eur') }} as amount_at_stake_eur,
        {{ as_of_date() }} as issue_date,
        false as blocks_draft,
        'project_manager' as owner_role,
        'Project ' || compared.harvest_project_id || ' (' || coalesce(compared.project_name, 'unnamed') || ') has '
            || case when compared.is_fixed_fee then 'a fee' else 'a cost budget' end || ' of '
            || compared.actual_budget || ' ' || compared.currency_code || ' but deal ' || compared.hubspot_deal_id
            || ' and its won change requests add up to ' || compared.expected_budget || '.' as explanation
    from compared
    where {{ exceeds_tolerance('compared.expected_budget - compared.actual_budget', 'compared.expected_budget', 'compared.units_per_eur') }}

)

select * from final
