{#- One row per Harvest client: the HubSpot company with the same normalised name
    (DESIGN.md §4; Harvest clients have no custom fields), lowest company id on a tie. -#}

with

clients as (

    select * from {{ ref('stg_harvest__clients') }}

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

company_by_name as (

    select
        tg_normalize_name(companies.company_name) as name_key,
        min(companies.hubspot_company_id) as hubspot_company_id
    from companies
    where coalesce(tg_normalize_name(companies.company_name), '') <> ''
    group by 1

),

final as (

    select
        clients.harvest_client_id,
        clients.client_name,
        clients.currency_code,
        company_by_name.hubspot_company_id,
        case when company_by_name.hubspot_company_id is null then 'none' else 'name' end
            as client_link_method
    from clients
    left join company_by_name
        on tg_normalize_name(clients.client_name) = company_by_name.name_key

)

select * from final
